/* TestState of an HTTP Task: without a mock it makes the real call (to a
 * server in the test process); at TRACE the inspection data shows the
 * request and the response, the connection's API key only when secrets
 * are revealed; at DEBUG neither. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server.h"
#include "workflow/workflow.h"

#define KEY_ARN "arn:aws:events:us-east-1:123456789012:connection/key/1"
#define API_KEY "api-key-value-s3cret"

static hts_server *srv;
static wf_engine *engine;

static void setup(void) {
  srv = hts_start();
  cr_assert_not_null(srv);
  setenv("WFT_TS_KEY", API_KEY, 1);
  wf_error err;
  cr_assert_eq(wf_engine_new(&engine, NULL, &err), WF_OK, "%s", err.message);
  wf_http_connection conn = {.arn = KEY_ARN, .auth = WF_HTTP_AUTH_API_KEY,
                             .api_key_name = "x-api-key",
                             .api_key_value_env = "WFT_TS_KEY"};
  wf_http_options o = WF_HTTP_OPTIONS_INIT;
  o.connections = &conn;
  o.connections_count = 1;
  cr_assert_eq(wf_engine_set_http(engine, &o, &err), WF_OK, "%s",
               err.message);
}

static void teardown(void) {
  wf_engine_free(engine);
  hts_stop(srv);
}

TestSuite(engine_test_state_http_task, .init = setup, .fini = teardown,
          .timeout = 60);

/* TestState of a POST to /echo with the connection, at `level`. */
static json_t *call(wf_inspection_level level, int reveal) {
  char def[640];
  snprintf(def, sizeof def,
           "{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::http:invoke\","
           "\"Parameters\":{\"ApiEndpoint\":\"http://127.0.0.1:%d/echo\","
           "\"Method\":\"POST\",\"Headers\":{\"x-trace\":\"t1\"},"
           "\"RequestBody\":{\"n\":1},\"Authentication\":{\"ConnectionArn\":"
           "\"" KEY_ARN "\"}},\"ResultSelector\":{\"code.$\":\"$.StatusCode\","
           "\"key.$\":\"$.ResponseBody.headers.x-api-key\"},\"End\":true}",
           hts_port(srv));
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.inspection_level = level;
  o.reveal_secrets = reveal;
  wf_test_state_result *r = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_test_state(&r, engine, def, &o, &err), WF_OK, "%s",
               err.message);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_SUCCEEDED, "%s %s",
               wf_test_state_error(r), wf_test_state_cause(r));
  /* The server saw the key: the call was real. */
  json_t *out = json_loads(wf_test_state_output(r), 0, NULL);
  cr_assert_eq(json_integer_value(json_object_get(out, "code")), 200);
  cr_assert_str_eq(json_string_value(json_object_get(out, "key")), API_KEY);
  json_decref(out);
  json_t *data = wf_test_state_inspection(r)
                     ? json_loads(wf_test_state_inspection(r), 0, NULL)
                     : NULL;
  wf_test_state_result_free(r);
  return data;
}

static const char *member(json_t *o, const char *a, const char *b) {
  return json_string_value(json_object_get(json_object_get(o, a), b));
}

Test(engine_test_state_http_task, trace_shows_the_exchange_without_secrets) {
  json_t *d = call(WF_INSPECT_TRACE, 0);
  cr_assert_str_eq(member(d, "request", "method"), "POST");
  cr_assert_str_eq(member(d, "request", "protocol"), "http");
  cr_assert(strstr(member(d, "request", "url"), "/echo"));
  cr_assert(strstr(member(d, "request", "headers"), "x-trace: t1"), "%s",
            member(d, "request", "headers"));
  cr_assert_null(strstr(member(d, "request", "headers"), API_KEY));
  cr_assert_str_eq(member(d, "request", "body"), "{\"n\":1}");
  cr_assert_str_eq(member(d, "response", "statusCode"), "200");
  cr_assert_str_eq(member(d, "response", "statusMessage"), "OK");
  cr_assert(strstr(member(d, "response", "body"), "\"method\":\"POST\""),
            "%s", member(d, "response", "body"));
  json_decref(d);
}

Test(engine_test_state_http_task, revealed_secrets_show_the_key) {
  json_t *d = call(WF_INSPECT_TRACE, 1);
  cr_assert(strstr(member(d, "request", "headers"), "x-api-key: " API_KEY),
            "%s", member(d, "request", "headers"));
  json_decref(d);
}

Test(engine_test_state_http_task, debug_shows_no_exchange) {
  json_t *d = call(WF_INSPECT_DEBUG, 1);
  cr_assert_null(json_object_get(d, "request"));
  cr_assert_null(json_object_get(d, "response"));
  cr_assert_not_null(json_object_get(d, "afterResultSelector"));
  json_decref(d);
  cr_assert_null(call(WF_INSPECT_INFO, 0));
}
