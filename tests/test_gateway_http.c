/* wf-gateway end to end: routing (404, 405), health, API keys (401, 403),
 * throttling (429 and recovery), CORS and the AWS API's entry. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway_support.h"
#include "support.h"

TestSuite(gateway_http, .fini = gwt_fini, .timeout = 60);

static void start(const char *extra) {
  char *cfg = wft_strf("%s%s%s", GWT_BASE_CONFIG, GWT_PROCESS_HELLO,
                       extra ? extra : "");
  cr_assert(gwt_start(&gwt_srv, cfg), "the gateway did not start");
  free(cfg);
}

static const char *str(const gwt_response *r, const char *key) {
  return json_string_value(json_object_get(r->json, key));
}

static void expect_header(const gwt_response *r, const char *name,
                          const char *value) {
  char *v = gwt_header(r, name);
  if (value)
    cr_assert(v && strcmp(v, value) == 0, "%s: want '%s', got '%s'", name,
              value, v ? v : "(none)");
  else
    cr_assert_null(v, "%s should be absent, got '%s'", name, v);
  free(v);
}

Test(gateway_http, health_is_open_and_reports_ok) {
  start(NULL);
  gwt_response r = gwt_request(&gwt_srv, "GET", "/health", NULL, NULL, 0);
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(str(&r, "status"), "ok");
  expect_header(&r, "Content-Type", "application/json");
  expect_header(&r, "X-Content-Type-Options", "nosniff");
  gwt_response_free(&r);
  r = gwt_request(&gwt_srv, "HEAD", "/health", NULL, NULL, 0);
  cr_assert_eq(r.status, 200);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_http, unknown_paths_are_404_and_wrong_methods_405) {
  start(NULL);
  const char *missing[] = {"/", "/processes", "/process/", "/executions",
                           "/executions/", "/executions/x/y", "/%2e%2e/etc"};
  for (size_t i = 0; i < sizeof missing / sizeof *missing; i++) {
    gwt_response r = gwt_request(&gwt_srv, "GET", missing[i], NULL, NULL, 0);
    long want = i == 0 ? 405 : 404; /* "/" is the AWS API: POST only */
    cr_assert_eq(r.status, want, "%s: %ld", missing[i], r.status);
    gwt_response_free(&r);
  }
  const char *key[] = {"x-api-key: " GWT_API_KEY, NULL};
  struct {
    const char *method, *path, *allow;
  } wrong[] = {{"GET", "/process", "POST, OPTIONS"},
               {"PUT", "/process", "POST, OPTIONS"},
               {"DELETE", "/executions/abc", "GET, OPTIONS"},
               {"POST", "/health", "GET, HEAD, OPTIONS"}};
  for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
    gwt_response r = gwt_request(&gwt_srv, wrong[i].method, wrong[i].path,
                                 key, NULL, 0);
    cr_assert_eq(r.status, 405, "%s %s", wrong[i].method, wrong[i].path);
    cr_assert_str_eq(str(&r, "error"), "MethodNotAllowed");
    expect_header(&r, "Allow", wrong[i].allow);
    gwt_response_free(&r);
  }
  gwt_finish();
}

Test(gateway_http, api_key_is_required_for_process_and_executions) {
  start(NULL);
  const char *none[] = {"Content-Type: application/json", NULL};
  const char *bad[] = {"Content-Type: application/json",
                       "x-api-key: test-key-0123456780", NULL};
  const char *prefix[] = {"Content-Type: application/json",
                          "x-api-key: test-key", NULL};
  gwt_response r = gwt_request(&gwt_srv, "POST", "/process", none, "{}", 2);
  cr_assert_eq(r.status, 401);
  cr_assert_str_eq(str(&r, "error"), "Unauthorized");
  gwt_response_free(&r);
  r = gwt_request(&gwt_srv, "POST", "/process", bad, "{}", 2);
  cr_assert_eq(r.status, 403);
  cr_assert_str_eq(str(&r, "error"), "Forbidden");
  gwt_response_free(&r);
  r = gwt_request(&gwt_srv, "POST", "/process", prefix, "{}", 2);
  cr_assert_eq(r.status, 403, "a prefix of the key is not the key");
  gwt_response_free(&r);
  r = gwt_request(&gwt_srv, "GET", "/executions/x", none, NULL, 0);
  cr_assert_eq(r.status, 401);
  gwt_response_free(&r);
  r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 202);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_http, keys_can_come_from_the_environment) {
  setenv("GWT_SECOND_KEY", "second-key-abcdefghij", 1);
  char *cfg = wft_strf(
      "pluginDir: @PLUGINS@\nplugins: [hello.so]\n"
      "stateMachines: [{name: hello, definition: hello.json}]\n"
      "auth: {apiKeys: [{name: env, keyEnv: GWT_SECOND_KEY}]}\n"
      "log: {path: gateway.log}\n");
  cr_assert(gwt_start(&gwt_srv, cfg));
  free(cfg);
  const char *h[] = {"Content-Type: application/json",
                     "x-api-key: second-key-abcdefghij", NULL};
  gwt_response r = gwt_request(&gwt_srv, "POST", "/process", h, "{}", 2);
  cr_assert_eq(r.status, 202, "%s", r.body);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_http, throttling_answers_429_then_recovers) {
  start("throttle: {rate: 2, burst: 3}\n");
  long codes[5];
  for (int i = 0; i < 5; i++) {
    gwt_response r = gwt_process(&gwt_srv, "{}");
    codes[i] = r.status;
    if (r.status == 429) {
      cr_assert_str_eq(str(&r, "error"), "TooManyRequests");
      expect_header(&r, "Retry-After", "1");
    }
    gwt_response_free(&r);
  }
  cr_assert(codes[0] == 202 && codes[1] == 202 && codes[2] == 202,
            "the burst passes: %ld %ld %ld", codes[0], codes[1], codes[2]);
  cr_assert(codes[3] == 429 && codes[4] == 429, "then 429: %ld %ld",
            codes[3], codes[4]);
  /* Health probes are never throttled. */
  gwt_response h = gwt_request(&gwt_srv, "GET", "/health", NULL, NULL, 0);
  cr_assert_eq(h.status, 200);
  gwt_response_free(&h);
  usleep(600 * 1000); /* one token back at 2 a second */
  gwt_response r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 202, "recovered after the refill: %ld", r.status);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_http, throttling_is_per_client) {
  start("throttle: {rate: 0.1, burst: 1}\n");
  gwt_response r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 202);
  gwt_response_free(&r);
  r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 429);
  expect_header(&r, "Retry-After", "10");
  gwt_response_free(&r);
  /* Requests without a valid key are counted by address, apart from the
   * key's bucket: the first one passes the throttle, and fails on the
   * key; then that bucket is empty too. */
  const char *bad[] = {"Content-Type: application/json",
                       "x-api-key: wrong-key-0123456789", NULL};
  r = gwt_request(&gwt_srv, "POST", "/process", bad, "{}", 2);
  cr_assert_eq(r.status, 403);
  gwt_response_free(&r);
  r = gwt_request(&gwt_srv, "POST", "/process", bad, "{}", 2);
  cr_assert_eq(r.status, 429, "key guessing is throttled");
  gwt_response_free(&r);
  gwt_finish();
}

static const char CORS[] =
    "cors:\n"
    "  allowOrigins: [https://app.example.com, http://localhost:3000]\n"
    "  maxAgeSeconds: 120\n";

static gwt_response preflight(const char *origin, const char *method) {
  char *o = wft_strf("Origin: %s", origin);
  char *m = wft_strf("Access-Control-Request-Method: %s", method);
  const char *h[] = {o, m, "Access-Control-Request-Headers: content-type",
                     NULL};
  gwt_response r = gwt_request(&gwt_srv, "OPTIONS", "/process", h, NULL, 0);
  free(o);
  free(m);
  return r;
}

Test(gateway_http, cors_preflight_for_allowed_origins_only) {
  start(CORS);
  gwt_response r = preflight("https://app.example.com", "POST");
  cr_assert_eq(r.status, 204);
  expect_header(&r, "Access-Control-Allow-Origin", "https://app.example.com");
  expect_header(&r, "Access-Control-Allow-Methods", "POST, OPTIONS");
  expect_header(&r, "Access-Control-Max-Age", "120");
  expect_header(&r, "Vary", "Origin");
  char *headers = gwt_header(&r, "Access-Control-Allow-Headers");
  cr_assert(headers && strstr(headers, "Content-Type") &&
            strstr(headers, "X-Api-Key"));
  free(headers);
  gwt_response_free(&r);
  r = preflight("https://evil.example.com", "POST");
  cr_assert_eq(r.status, 403);
  cr_assert_str_eq(str(&r, "error"), "CorsOriginNotAllowed");
  expect_header(&r, "Access-Control-Allow-Origin", NULL);
  gwt_response_free(&r);
  r = preflight("http://localhost:3000", "DELETE");
  cr_assert_eq(r.status, 403);
  cr_assert_str_eq(str(&r, "error"), "CorsMethodNotAllowed");
  gwt_response_free(&r);
  /* A plain OPTIONS (no Origin) says what the path allows. */
  r = gwt_request(&gwt_srv, "OPTIONS", "/health", NULL, NULL, 0);
  cr_assert_eq(r.status, 204);
  expect_header(&r, "Allow", "GET, HEAD, OPTIONS");
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_http, cors_headers_on_actual_responses) {
  start(CORS);
  const char *ok[] = {"Content-Type: application/json",
                      "x-api-key: " GWT_API_KEY,
                      "Origin: https://app.example.com", NULL};
  gwt_response r = gwt_request(&gwt_srv, "POST", "/process", ok, "{}", 2);
  cr_assert_eq(r.status, 202);
  expect_header(&r, "Access-Control-Allow-Origin", "https://app.example.com");
  char *expose = gwt_header(&r, "Access-Control-Expose-Headers");
  cr_assert(expose && strstr(expose, "X-Correlation-Id"));
  free(expose);
  gwt_response_free(&r);
  /* Errors carry them too, so a browser can read the reason. */
  const char *unauth[] = {"Origin: https://app.example.com", NULL};
  r = gwt_request(&gwt_srv, "POST", "/process", unauth, "{}", 2);
  cr_assert_eq(r.status, 401);
  expect_header(&r, "Access-Control-Allow-Origin", "https://app.example.com");
  gwt_response_free(&r);
  const char *evil[] = {"Content-Type: application/json",
                        "x-api-key: " GWT_API_KEY,
                        "Origin: https://evil.example.com", NULL};
  r = gwt_request(&gwt_srv, "POST", "/process", evil, "{}", 2);
  cr_assert_eq(r.status, 202);
  expect_header(&r, "Access-Control-Allow-Origin", NULL);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_http, cors_wildcard_answers_star) {
  start("cors: {allowOrigins: ['*']}\n");
  gwt_response r = preflight("https://anyone.example", "POST");
  cr_assert_eq(r.status, 204);
  expect_header(&r, "Access-Control-Allow-Origin", "*");
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_http, aws_api_entry_needs_a_step_functions_target) {
  start(NULL);
  const char *none[] = {"Content-Type: application/x-amz-json-1.0", NULL};
  const char *other[] = {"Content-Type: application/x-amz-json-1.0",
                         "X-Amz-Target: DynamoDB_20120810.ListTables", NULL};
  for (int i = 0; i < 2; i++) {
    gwt_response r = gwt_request(&gwt_srv, "POST", "/", i ? other : none,
                                 "{}", 2);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(str(&r, "__type"), "UnknownOperationException");
    expect_header(&r, "Content-Type", "application/x-amz-json-1.0");
    gwt_response_free(&r);
  }
  gwt_finish();
}
