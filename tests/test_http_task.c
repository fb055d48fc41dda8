/* The HTTP Task (include/workflow/http.h): arn:aws:states:::http:invoke
 * makes real calls (to a server in this process on 127.0.0.1) with AWS's
 * arguments in both query languages, gives AWS's result shape, fails with
 * States.Http.StatusCode.NNN (caught and retried like any error),
 * States.Http.Socket and States.Timeout, refuses hosts outside the
 * allowlists, and authorizes through configured connections whose secrets
 * come from the environment and stay out of the history. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "http_server.h"
#include "support.h"
#include "workflow/workflow.h"

#define RESOURCE "arn:aws:states:::http:invoke"
#define KEY_ARN "arn:aws:events:us-east-1:123456789012:connection/key/1"
#define BASIC_ARN "arn:aws:events:us-east-1:123456789012:connection/basic/2"
#define OAUTH_ARN "arn:aws:events:us-east-1:123456789012:connection/oauth/3"
#define API_KEY "api-key-value-s3cret"
#define BASIC_PW "basic-pw-7"

static hts_server *srv;
static wf_engine *engine;
/* The engine's log lines, one a line (under log_lock). */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_text;

static void keep_line(const char *line, void *payload) {
  (void)payload;
  pthread_mutex_lock(&log_lock);
  char *more = wft_strf("%s%s\n", log_text ? log_text : "", line);
  free(log_text);
  log_text = more;
  pthread_mutex_unlock(&log_lock);
}

/* Whether a log line so far holds `needle`. */
static bool logged(const char *needle) {
  pthread_mutex_lock(&log_lock);
  bool found = log_text && strstr(log_text, needle);
  pthread_mutex_unlock(&log_lock);
  return found;
}

/* The connections every test has; the OAuth one's endpoint is `token`. */
static void configure(const char *const *hosts, unsigned request_ms) {
  static char token[128];
  snprintf(token, sizeof token, "http://127.0.0.1:%d/token", hts_port(srv));
  wf_http_connection conns[3] = {
      {.arn = KEY_ARN, .auth = WF_HTTP_AUTH_API_KEY,
       .api_key_name = "x-api-key", .api_key_value_env = "WFT_HTTP_KEY"},
      {.arn = BASIC_ARN, .auth = WF_HTTP_AUTH_BASIC, .username = "alice",
       .password_env = "WFT_HTTP_PW"},
      {.arn = OAUTH_ARN, .auth = WF_HTTP_AUTH_OAUTH_CLIENT_CREDENTIALS,
       .token_endpoint = token, .client_id = "client-id",
       .client_secret_env = "WFT_HTTP_SECRET", .scope = "read write"}};
  wf_http_options o = WF_HTTP_OPTIONS_INIT;
  o.allowed_hosts = hosts;
  o.connections = conns;
  o.connections_count = 3;
  o.request_timeout_ms = request_ms;
  wf_error err;
  int rc = wf_engine_set_http(engine, &o, &err);
  cr_assert_eq(rc, WF_OK, "%s: %s", wf_error_name(rc), err.message);
}

static void setup(void) {
  setenv("WFT_HTTP_KEY", API_KEY, 1);
  setenv("WFT_HTTP_PW", BASIC_PW, 1);
  setenv("WFT_HTTP_SECRET", HTS_CLIENT_SECRET, 1);
  srv = hts_start();
  cr_assert_not_null(srv, "the test server did not start");
  /* The system clock: real calls take real time. */
  wf_engine_options eo = WF_ENGINE_OPTIONS_INIT;
  eo.log = keep_line;
  eo.log_level = WF_LOG_DEBUG;
  engine = wft_engine(&eo);
  configure(NULL, 0);
}

static void teardown(void) {
  hts_release(srv);
  wf_engine_free(engine);
  hts_stop(srv);
}

TestSuite(http_task, .init = setup, .fini = teardown, .timeout = 60);

/* One HTTP Task with these Parameters (URL in them as @URL@, the server's
 * root) and other fields (`extra`, ending in a comma, or ""). */
static char *one_task(const char *params, const char *extra) {
  char root[64];
  snprintf(root, sizeof root, "http://127.0.0.1:%d", hts_port(srv));
  char *p = strdup(params);
  for (char *at; (at = strstr(p, "@URL@"));) {
    char *q = wft_strf("%.*s%s%s", (int)(at - p), p, root, at + 5);
    free(p);
    p = q;
  }
  char *def = wft_strf(
      "{\"StartAt\":\"Call\",\"States\":{\"Call\":{\"Type\":\"Task\","
      "\"Resource\":\"" RESOURCE "\",\"Parameters\":%s,%s\"End\":true}}}",
      p, extra);
  free(p);
  return def;
}

static wf_execution *run_def(const char *def, const char *input,
                             const char *machine) {
  wf_machine *m = wft_load_named(def, machine);
  wf_execution *x = wft_run(engine, m, input, NULL);
  wf_machine_free(m);
  return x;
}

static wf_execution *run(const char *params, const char *extra) {
  char *def = one_task(params, extra);
  wf_execution *x = run_def(def, NULL, NULL);
  free(def);
  return x;
}

/* The output, succeeded, parsed (json_decref). */
static json_t *output_of(wf_execution *x) {
  wft_assert_succeeded(x, NULL);
  return wft_parse(wf_execution_output(x));
}

static const char *str_at(json_t *v, const char *a, const char *b,
                          const char *c) {
  json_t *n = json_object_get(v, a);
  if (b) n = json_object_get(n, b);
  if (c) n = json_object_get(n, c);
  cr_assert(json_is_string(n), "no string at %s.%s.%s", a, b ? b : "",
            c ? c : "");
  return json_string_value(n);
}

/* ---- methods, bodies, query parameters ---- */

Test(http_task, get_gives_awss_result_shape_with_query_parameters) {
  wf_execution *x = run(
      "{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"GET\","
      "\"QueryParameters\":{\"q\":\"a b&c\",\"list\":[\"1\",\"2\"],\"n\":3}}",
      "");
  json_t *out = output_of(x);
  cr_assert_eq(json_integer_value(json_object_get(out, "StatusCode")), 200);
  cr_assert_str_eq(str_at(out, "StatusText", NULL, NULL), "OK");
  cr_assert_str_eq(str_at(out, "ResponseBody", "method", NULL), "GET");
  cr_assert_str_eq(str_at(out, "ResponseBody", "uri", NULL),
                   "/echo?q=a%20b%26c&list=1&list=2&n=3");
  /* Headers as the server sent them: each name with a list of values. */
  json_t *ct = json_object_get(json_object_get(out, "Headers"),
                               "Content-Type");
  cr_assert(json_is_array(ct) && json_array_size(ct) == 1);
  cr_assert_str_eq(json_string_value(json_array_get(ct, 0)),
                   "application/json");
  json_decref(out);
  wf_execution_free(x);
}

Test(http_task, post_sends_a_json_body) {
  wf_execution *x = run(
      "{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"POST\","
      "\"RequestBody\":{\"a\":1,\"b\":[true,null],\"c\":\"x\"}}",
      "");
  json_t *out = output_of(x);
  cr_assert_str_eq(str_at(out, "ResponseBody", "method", NULL), "POST");
  wft_assert_json(str_at(out, "ResponseBody", "body", NULL),
                  "{\"a\":1,\"b\":[true,null],\"c\":\"x\"}");
  cr_assert_str_eq(
      str_at(out, "ResponseBody", "headers", "content-type"),
      "application/json; charset=UTF-8");
  json_decref(out);
  wf_execution_free(x);
}

Test(http_task, put_sends_text_with_the_tasks_headers) {
  wf_execution *x = run(
      "{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"PUT\","
      "\"Headers\":{\"Content-Type\":\"text/csv\",\"X-Custom\":\"v1\","
      "\"X-Number\":42},\"RequestBody\":\"a,b\\n1,2\"}",
      "");
  json_t *out = output_of(x);
  cr_assert_str_eq(str_at(out, "ResponseBody", "method", NULL), "PUT");
  cr_assert_str_eq(str_at(out, "ResponseBody", "body", NULL), "a,b\n1,2");
  cr_assert_str_eq(str_at(out, "ResponseBody", "headers", "content-type"),
                   "text/csv");
  cr_assert_str_eq(str_at(out, "ResponseBody", "headers", "x-custom"), "v1");
  cr_assert_str_eq(str_at(out, "ResponseBody", "headers", "x-number"), "42");
  json_decref(out);
  wf_execution_free(x);
}

Test(http_task, delete_and_a_text_answer) {
  wf_execution *x =
      run("{\"ApiEndpoint\":\"@URL@/echo/7\",\"Method\":\"DELETE\"}", "");
  json_t *out = output_of(x);
  cr_assert_str_eq(str_at(out, "ResponseBody", "method", NULL), "DELETE");
  cr_assert_str_eq(str_at(out, "ResponseBody", "uri", NULL), "/echo/7");
  json_decref(out);
  wf_execution_free(x);

  /* Not JSON: the body is the text; a repeated header keeps each value. */
  x = run("{\"ApiEndpoint\":\"@URL@/text\",\"Method\":\"GET\"}", "");
  out = output_of(x);
  cr_assert_str_eq(str_at(out, "ResponseBody", NULL, NULL), "plain words");
  json_t *multi = json_object_get(json_object_get(out, "Headers"), "X-Multi");
  cr_assert_eq(json_array_size(multi), 2);
  cr_assert_str_eq(json_string_value(json_array_get(multi, 0)), "one");
  cr_assert_str_eq(json_string_value(json_array_get(multi, 1)), "two");
  json_decref(out);
  wf_execution_free(x);
}

Test(http_task, url_encoded_bodies_in_each_array_format) {
  static const struct {
    const char *format, *body;
  } CASES[] = {
      {NULL, "array[0]=a&array[1]=b&name=J%20Doe&nested[k]=v"},
      {"INDICES", "array[0]=a&array[1]=b&name=J%20Doe&nested[k]=v"},
      {"REPEAT", "array=a&array=b&name=J%20Doe&nested[k]=v"},
      {"COMMAS", "array=a,b&name=J%20Doe&nested[k]=v"},
      {"BRACKETS", "array[]=a&array[]=b&name=J%20Doe&nested[k]=v"}};
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
    char *options =
        CASES[i].format
            ? wft_strf(",\"RequestEncodingOptions\":{\"ArrayFormat\":\"%s\"}",
                       CASES[i].format)
            : strdup("");
    char *params = wft_strf(
        "{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"POST\","
        "\"RequestBody\":{\"array\":[\"a\",\"b\"],\"name\":\"J Doe\","
        "\"nested\":{\"k\":\"v\"}},"
        "\"Transform\":{\"RequestBodyEncoding\":\"URL_ENCODED\"%s}}",
        options);
    wf_execution *x = run(params, "");
    json_t *out = output_of(x);
    cr_assert_str_eq(str_at(out, "ResponseBody", "body", NULL), CASES[i].body,
                     "ArrayFormat %s", CASES[i].format);
    cr_assert_str_eq(str_at(out, "ResponseBody", "headers", "content-type"),
                     "application/x-www-form-urlencoded");
    json_decref(out);
    wf_execution_free(x);
    free(params);
    free(options);
  }
}

Test(http_task, jsonata_arguments_and_a_long_form_resource) {
  char *def = wft_strf(
      "{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"Call\",\"States\":{"
      "\"Call\":{\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:states:us-east-1:123456789012:http:invoke\","
      "\"Arguments\":{\"ApiEndpoint\":\"{%% $states.input.url & '/echo' %%}\","
      "\"Method\":\"POST\",\"QueryParameters\":{\"id\":\"{%% "
      "$string($states.input.id) %%}\"},"
      "\"RequestBody\":{\"doubled\":\"{%% $states.input.id * 2 %%}\"}},"
      "\"Output\":\"{%% $states.result.ResponseBody %%}\",\"End\":true}}}");
  char *input = wft_strf("{\"url\":\"http://127.0.0.1:%d\",\"id\":21}",
                         hts_port(srv));
  wf_execution *x = run_def(def, input, NULL);
  json_t *out = output_of(x);
  cr_assert_str_eq(str_at(out, "uri", NULL, NULL), "/echo?id=21");
  wft_assert_json(str_at(out, "body", NULL, NULL), "{\"doubled\":42}");
  json_decref(out);
  wf_execution_free(x);
  free(def);
  free(input);
}

Test(http_task, jsonpath_parameters_read_the_input) {
  char *def = one_task("{\"ApiEndpoint.$\":\"States.Format('{}/echo/{}', "
                       "$.root, $.id)\",\"Method\":\"GET\"}",
                       "\"ResultSelector\":{\"uri.$\":\"$.ResponseBody.uri\","
                       "\"code.$\":\"$.StatusCode\"},");
  char *input = wft_strf("{\"root\":\"http://127.0.0.1:%d\",\"id\":\"x9\"}",
                         hts_port(srv));
  wf_execution *x = run_def(def, input, NULL);
  wft_assert_succeeded(x, "{\"uri\":\"/echo/x9\",\"code\":200}");
  wf_execution_free(x);
  free(def);
  free(input);
}

/* ---- errors ---- */

Test(http_task, a_404_is_caught_with_awss_cause) {
  wf_execution *x = run(
      "{\"ApiEndpoint\":\"@URL@/status/404\",\"Method\":\"GET\"}",
      "\"Catch\":[{\"ErrorEquals\":[\"States.Http.StatusCode.404\"],"
      "\"ResultPath\":\"$.err\",\"Next\":\"Handled\"}],\"Next\":\"Handled\"},"
      "\"Handled\":{\"Type\":\"Pass\",");
  json_t *out = output_of(x);
  cr_assert_str_eq(str_at(out, "err", "Error", NULL),
                   "States.Http.StatusCode.404");
  json_t *cause = wft_parse(str_at(out, "err", "Cause", NULL));
  cr_assert_eq(json_integer_value(json_object_get(cause, "StatusCode")), 404);
  cr_assert_str_eq(str_at(cause, "StatusText", NULL, NULL), "Not Found");
  cr_assert_eq(json_integer_value(
                   json_object_get(json_object_get(cause, "ResponseBody"),
                                   "status")),
               404);
  cr_assert(json_is_object(json_object_get(cause, "Headers")));
  json_decref(cause);
  json_decref(out);
  wf_execution_free(x);
}

Test(http_task, a_500_is_retried_then_succeeds) {
  wf_execution *x = run(
      "{\"ApiEndpoint\":\"@URL@/flaky\",\"Method\":\"POST\"}",
      "\"Retry\":[{\"ErrorEquals\":[\"States.Http.StatusCode.500\"],"
      "\"IntervalSeconds\":1,\"MaxAttempts\":2}],");
  json_t *out = output_of(x);
  cr_assert_eq(json_is_true(json_object_get(json_object_get(out,
                                                            "ResponseBody"),
                                            "ok")),
               1);
  json_decref(out);
  wf_execution_free(x);
}

Test(http_task, an_uncaught_500_fails_the_execution) {
  wf_execution *x =
      run("{\"ApiEndpoint\":\"@URL@/status/500\",\"Method\":\"GET\"}", "");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "States.Http.StatusCode.500");
  json_t *cause = wft_parse(wf_execution_cause(x));
  cr_assert_str_eq(str_at(cause, "StatusText", NULL, NULL),
                   "Internal Server Error");
  json_decref(cause);
  wf_execution_free(x);
}

Test(http_task, the_states_timeout_ends_a_held_call) {
  wf_execution *x =
      run("{\"ApiEndpoint\":\"@URL@/hold\",\"Method\":\"GET\"}",
          "\"TimeoutSeconds\":1,");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "States.Timeout");
  wf_execution_free(x);
}

Test(http_task, a_call_past_the_request_timeout_is_a_socket_error) {
  configure(NULL, 300);
  wf_execution *x =
      run("{\"ApiEndpoint\":\"@URL@/hold\",\"Method\":\"GET\"}", "");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "States.Http.Socket");
  cr_assert(strstr(wf_execution_cause(x), "127.0.0.1"), "%s",
            wf_execution_cause(x));
  wf_execution_free(x);
}

Test(http_task, a_refused_connection_is_a_socket_error) {
  char *params = wft_strf(
      "{\"ApiEndpoint\":\"http://127.0.0.1:%d/x\",\"Method\":\"GET\"}",
      hts_closed_port());
  wf_execution *x = run(params, "");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "States.Http.Socket");
  wf_execution_free(x);
  free(params);
}

Test(http_task, arguments_aws_refuses_fail_before_any_call) {
  static const struct {
    const char *params, *saying;
  } CASES[] = {
      {"{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"FETCH\"}", "Method"},
      {"{\"Method\":\"GET\"}", "ApiEndpoint"},
      {"{\"ApiEndpoint\":\"ftp://127.0.0.1/x\",\"Method\":\"GET\"}",
       "not an http or https URL"},
      {"{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"GET\","
       "\"Headers\":{\"Host\":\"elsewhere\"}}",
       "'Host' is not allowed"},
      {"{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"GET\","
       "\"Headers\":{\"X-A\":\"v\\r\\nX-Injected: 1\"}}",
       "not a valid header"},
      {"{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"POST\","
       "\"RequestBody\":{},\"Transform\":{\"RequestBodyEncoding\":\"XML\"}}",
       "RequestBodyEncoding"}};
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
    wf_execution *x = run(CASES[i].params, "");
    cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED, "case %zu", i);
    cr_assert_str_eq(wf_execution_error(x), "States.Runtime");
    cr_assert(strstr(wf_execution_cause(x), CASES[i].saying), "case %zu: %s",
              i, wf_execution_cause(x));
    wf_execution_free(x);
  }
}

/* ---- answers from servers that do not follow the rules ---- */

/* Call a server answering `reply` as it is. */
static wf_execution *run_raw(const char *reply) {
  int port = hts_raw_once(reply);
  cr_assert_gt(port, 0);
  char *params = wft_strf(
      "{\"ApiEndpoint\":\"http://127.0.0.1:%d/raw\",\"Method\":\"GET\"}",
      port);
  wf_execution *x = run(params, "");
  free(params);
  return x;
}

Test(http_task, malformed_header_lines_are_skipped) {
  wf_execution *x = run_raw(
      "HTTP/1.1 200 Fine Thanks\r\n"
      "Content-Type: application/json\r\n"
      "Bad Name: x\r\n"
      ": nameless\r\n"
      "X-Ctl: a\x01" "b\r\n"
      "X-Bin: \xff\xfe\r\n"
      "X-Good:   spaced   \r\n"
      "x-good: second\r\n"
      "Connection: close\r\n\r\n"
      "{\"a\":1}");
  json_t *out = output_of(x);
  cr_assert_str_eq(str_at(out, "StatusText", NULL, NULL), "Fine Thanks");
  json_t *headers = json_object_get(out, "Headers");
  json_t *good = json_object_get(headers, "X-Good");
  cr_assert_eq(json_array_size(good), 2, "%s", wf_execution_output(x));
  cr_assert_str_eq(json_string_value(json_array_get(good, 0)), "spaced");
  cr_assert_str_eq(json_string_value(json_array_get(good, 1)), "second");
  static const char *const GONE[] = {"Bad Name", "",
                                     "X-Ctl", "X-Bin"};
  for (size_t i = 0; i < sizeof GONE / sizeof GONE[0]; i++)
    cr_assert_null(json_object_get(headers, GONE[i]), "%s kept", GONE[i]);
  cr_assert_eq(json_integer_value(json_object_get(
                   json_object_get(out, "ResponseBody"), "a")),
               1);
  json_decref(out);
  wf_execution_free(x);
}

Test(http_task, odd_bodies_and_status_lines) {
  /* Declared JSON but not JSON: the text. */
  wf_execution *x = run_raw(
      "HTTP/1.1 200 OK\r\nContent-Type: application/problem+json\r\n"
      "Connection: close\r\n\r\n{oops");
  json_t *out = output_of(x);
  cr_assert_str_eq(str_at(out, "ResponseBody", NULL, NULL), "{oops");
  json_decref(out);
  wf_execution_free(x);
  /* Not text at all. */
  x = run_raw("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
              "Connection: close\r\n\r\n\xff\xfe");
  cr_assert_str_eq(wf_execution_error(x), "States.Runtime");
  cr_assert_str_eq(wf_execution_cause(x),
                   "The response body is not UTF-8 text");
  wf_execution_free(x);
  /* A reason phrase that is not UTF-8 gives way to the standard one. */
  x = run_raw("HTTP/1.1 404 \xff\xff\r\nConnection: close\r\n\r\n");
  cr_assert_str_eq(wf_execution_error(x), "States.Http.StatusCode.404");
  json_t *cause = wft_parse(wf_execution_cause(x));
  cr_assert_str_eq(str_at(cause, "StatusText", NULL, NULL), "Not Found");
  json_decref(cause);
  wf_execution_free(x);
  /* A line libcurl itself refuses, and no HTTP at all: no answer. */
  x = run_raw("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n");
  cr_assert_str_eq(wf_execution_error(x), "States.Http.Socket");
  wf_execution_free(x);
  x = run_raw("garbage\r\n\r\n");
  cr_assert_str_eq(wf_execution_error(x), "States.Http.Socket");
  wf_execution_free(x);
}

Test(http_task, a_flood_of_headers_is_bounded) {
  static char reply[64 * 1024];
  size_t n = (size_t)snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\n");
  for (int i = 0; i < 1000; i++)
    n += (size_t)snprintf(reply + n, sizeof reply - n, "X-H%d: v\r\n", i);
  snprintf(reply + n, sizeof reply - n, "Connection: close\r\n\r\nok");
  wf_execution *x = run_raw(reply);
  json_t *out = output_of(x);
  cr_assert_eq(json_object_size(json_object_get(out, "Headers")), 256);
  cr_assert_str_eq(str_at(out, "ResponseBody", NULL, NULL), "ok");
  json_decref(out);
  wf_execution_free(x);
}

/* ---- calls in flight ---- */

Test(http_task, calls_in_flight_outlive_a_new_configuration_not_the_engine) {
  char *def = one_task("{\"ApiEndpoint\":\"@URL@/hold\",\"Method\":\"GET\"}",
                       "");
  wf_machine *m = wft_load(def);
  wf_execution *x = wft_start(engine, m, NULL, NULL);
  hts_wait_held(srv, 1);
  /* A configuration that would refuse it leaves the call alone. */
  const char *none[] = {"api.example.com", NULL};
  configure(none, 0);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_RUNNING);
  /* Freeing the engine stops the execution and ends the transfer, which
   * the server never answers. */
  wf_engine_free(engine);
  engine = NULL;
  cr_assert_eq(wf_execution_status(x), WF_EXEC_ABORTED);
  wf_execution_free(x);
  wf_machine_free(m);
  free(def);
}

/* ---- allowlists ---- */

Test(http_task, a_host_outside_the_allowlist_is_refused) {
  const char *hosts[] = {"api.example.com", "*.example.org", NULL};
  configure(hosts, 0);
  wf_execution *x =
      run("{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"GET\"}", "");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "States.Permissions");
  cr_assert_str_eq(wf_execution_cause(x),
                   "The state machine 'StateMachine' is not allowed to call "
                   "the host '127.0.0.1': it is not in the HTTP allowlist");
  cr_assert(logged("\"event\":\"AccessDenied\""));
  cr_assert(logged("\"audit\":\"host outside the HTTP allowlist\""));
  wf_execution_free(x);

  /* The host with its port, and by name. */
  char with_port[64];
  snprintf(with_port, sizeof with_port, "127.0.0.1:%d", hts_port(srv));
  const char *exact[] = {with_port, NULL};
  configure(exact, 0);
  x = run("{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"GET\"}", "");
  wft_assert_succeeded(x, NULL);
  wf_execution_free(x);
  const char *other_port[] = {"127.0.0.1:1", NULL};
  configure(other_port, 0);
  x = run("{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"GET\"}", "");
  cr_assert_str_eq(wf_execution_error(x), "States.Permissions");
  wf_execution_free(x);
}

Test(http_task, each_machine_calls_only_its_hosts) {
  const char *local[] = {"127.0.0.1", NULL};
  const char *remote[] = {"api.example.com", NULL};
  wf_http_machine_hosts per[] = {{"local", local}, {"remote", remote}};
  wf_http_options o = WF_HTTP_OPTIONS_INIT;
  o.machine_hosts = per;
  o.machine_hosts_count = 2;
  wf_error err;
  cr_assert_eq(wf_engine_set_http(engine, &o, &err), WF_OK);
  char *def = one_task("{\"ApiEndpoint\":\"@URL@/echo\",\"Method\":\"GET\"}",
                       "");
  wf_execution *x = run_def(def, NULL, "local");
  wft_assert_succeeded(x, NULL);
  wf_execution_free(x);
  x = run_def(def, NULL, "remote");
  cr_assert_str_eq(wf_execution_error(x), "States.Permissions");
  cr_assert(strstr(wf_execution_cause(x), "'remote'"));
  wf_execution_free(x);
  free(def);
}

/* ---- connections ---- */

/* The history's text holds none of the secrets. */
static void assert_no_secret(wf_execution *x) {
  char *h = wf_execution_history(x, 0);
  cr_assert_not_null(h);
  cr_assert_null(strstr(h, API_KEY));
  cr_assert_null(strstr(h, BASIC_PW));
  cr_assert_null(strstr(h, HTS_CLIENT_SECRET));
  wf_string_free(h);
  cr_assert(logged("\"event\":\"HttpCall\""));
  cr_assert(!logged(API_KEY) && !logged(BASIC_PW) &&
            !logged(HTS_CLIENT_SECRET));
}

/* GET `path` with the connection `arn`. */
static wf_execution *call_with(const char *path, const char *arn) {
  char *params = wft_strf("{\"ApiEndpoint\":\"@URL@%s\",\"Method\":\"GET\","
                          "\"Authentication\":{\"ConnectionArn\":\"%s\"}}",
                          path, arn);
  wf_execution *x = run(params, "");
  free(params);
  return x;
}

/* The header `name` the server received through the connection `arn`;
 * the secrets stay out of a history that does not echo them. */
static void assert_sent(const char *arn, const char *name,
                        const char *value) {
  wf_execution *x = call_with("/echo", arn);
  json_t *out = output_of(x);
  cr_assert_str_eq(str_at(out, "ResponseBody", "headers", name), value);
  json_decref(out);
  wf_execution_free(x);
  x = call_with("/text", arn);
  wft_assert_succeeded(x, NULL);
  assert_no_secret(x);
  wf_execution_free(x);
}

Test(http_task, an_api_key_connection_sends_its_header) {
  assert_sent(KEY_ARN, "x-api-key", API_KEY);
}

Test(http_task, a_basic_connection_sends_user_and_password) {
  /* base64("alice:basic-pw-7") */
  assert_sent(BASIC_ARN, "authorization", "Basic YWxpY2U6YmFzaWMtcHctNw==");
}

Test(http_task, an_oauth_connection_fetches_a_token_once) {
  assert_sent(OAUTH_ARN, "authorization", "Bearer token-1");
  assert_sent(OAUTH_ARN, "authorization", "Bearer token-1");
  cr_assert_eq(hts_token_calls(srv), 1);
}

/* The connection `arn` fails the task with AWS's connection error. */
static void assert_connection_error(const char *arn, const char *saying) {
  wf_execution *x = call_with("/echo", arn);
  cr_assert_str_eq(wf_execution_error(x),
                   "Events.ConnectionResource.InvalidConnectionState");
  cr_assert(strstr(wf_execution_cause(x), saying), "%s",
            wf_execution_cause(x));
  wf_execution_free(x);
}

Test(http_task, connection_failures_are_awss_connection_errors) {
  unsetenv("WFT_HTTP_SECRET");
  assert_connection_error(OAUTH_ARN, "WFT_HTTP_SECRET is not set");
  assert_connection_error(
      "arn:aws:events:us-east-1:123456789012:connection/none/9",
      "is not configured");
  /* The token endpoint refusing the client. */
  setenv("WFT_HTTP_SECRET", "wrong", 1);
  assert_connection_error(OAUTH_ARN, "answered 401");
}

/* ---- the C API ---- */

static void mine(wf_task *t, void *payload) {
  (void)payload;
  wf_task_succeed(t, "{}");
}

Test(http_task, options_are_checked) {
  wf_error err;
  wf_http_options o = WF_HTTP_OPTIONS_INIT;
  wf_http_connection bad = {.arn = "arn:c", .auth = WF_HTTP_AUTH_API_KEY,
                            .api_key_name = "x-key"};
  o.connections = &bad;
  o.connections_count = 1;
  cr_assert_eq(wf_engine_set_http(engine, &o, &err), WF_EINVAL);
  cr_assert_str_eq(err.message,
                   "connections[0].api_key_value_env is required for its "
                   "kind");
  wf_http_connection twice[2] = {
      {.arn = "arn:c", .auth = WF_HTTP_AUTH_BASIC, .username = "u",
       .password_env = "P"},
      {.arn = "arn:c", .auth = WF_HTTP_AUTH_BASIC, .username = "u",
       .password_env = "P"}};
  o.connections = twice;
  o.connections_count = 2;
  cr_assert_eq(wf_engine_set_http(engine, &o, &err), WF_EINVAL);
  o.version = 99;
  cr_assert_eq(wf_engine_set_http(engine, &o, &err), WF_EVERSION);
  cr_assert_eq(wf_http_options_init(&o, WF_HTTP_OPTIONS_VERSION), WF_OK);
  cr_assert_eq(o.version, WF_HTTP_OPTIONS_VERSION);

  /* A program's own handler for the resource keeps it. */
  wf_engine *other = wft_engine(NULL);
  wft_register(other, RESOURCE, mine, NULL, 0);
  cr_assert_eq(wf_engine_set_http(other, NULL, &err), WF_EEXIST);
  wf_engine_free(other);
}
