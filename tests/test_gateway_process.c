/* wf-gateway end to end: POST /process (202, validation, sanitizing,
 * media types, limits, correlation ids) and GET /executions. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "gateway_support.h"
#include "support.h"

TestSuite(gateway_process, .fini = gwt_fini, .timeout = 60);

static const char RULES[] =
    "process:\n"
    "  stateMachine: hello\n"
    "  maxStringLength: 20\n"
    "  rules:\n"
    "    - {field: data, required: true, type: object}\n"
    "    - {field: data.type, required: true, type: string,"
    " enum: [json, csv]}\n"
    "    - {field: data.records, type: array, minLength: 1, maxLength: 3}\n"
    "    - {field: 'data.records[].id', required: true, type: integer,"
    " minimum: 1}\n"
    "    - {field: notification.recipient, type: string, maxLength: 40,"
    " pattern: '^[^@\\s]+@[^@\\s]+$'}\n";

static void start_with(const char *base, const char *extra) {
  char *cfg = wft_strf("%s%s", base, extra ? extra : GWT_PROCESS_HELLO);
  cr_assert(gwt_start(&gwt_srv, cfg), "the gateway did not start");
  free(cfg);
}

static void start(const char *extra) { start_with(GWT_BASE_CONFIG, extra); }

static json_t *error_with(json_t *errors, const char *field,
                          const char *rule) {
  size_t i;
  json_t *e;
  json_array_foreach(errors, i, e) {
    if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0 &&
        strcmp(json_string_value(json_object_get(e, "rule")), rule) == 0)
      return e;
  }
  return NULL;
}

/* POST /process with an empty object, the API key and this
 * X-Correlation-Id. */
static gwt_response post_with_correlation_id(const char *cid) {
  char *given = wft_strf("X-Correlation-Id: %s", cid);
  const char *headers[] = {"Content-Type: application/json",
                           "x-api-key: " GWT_API_KEY, given, NULL};
  gwt_response r = gwt_request(&gwt_srv, "POST", "/process", headers, "{}", 2);
  free(given);
  return r;
}

Test(gateway_process, valid_body_starts_an_execution_and_answers_202) {
  start(NULL);
  gwt_response r = gwt_process(&gwt_srv, "{\"name\":\"world\"}");
  cr_assert_eq(r.status, 202, "%s", r.body);
  const char *arn = json_string_value(json_object_get(r.json, "executionArn"));
  const char *id = json_string_value(json_object_get(r.json, "executionId"));
  const char *cid = json_string_value(json_object_get(r.json, "correlationId"));
  const char *date = json_string_value(json_object_get(r.json, "startDate"));
  cr_assert(arn && id && cid && date, "%s", r.body);
  cr_assert_eq(strlen(id), 36, "a UUID: %s", id);
  char *want = wft_strf("arn:aws:states:us-east-1:123456789012:execution:"
                        "hello:%s", id);
  cr_assert_str_eq(arn, want);
  free(want);
  cr_assert_eq(strlen(date), 24, "ISO-8601 with ms: %s", date);
  cr_assert_eq(date[10], 'T');
  char *hdr = gwt_header(&r, "X-Correlation-Id");
  cr_assert_str_eq(hdr, cid, "the header carries the generated id");
  free(hdr);
  hdr = gwt_header(&r, "Location");
  char *loc = wft_strf("/executions/%s", id);
  cr_assert_str_eq(hdr, loc);
  free(loc);
  free(hdr);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, given_correlation_id_is_kept) {
  start(NULL);
  gwt_response r = post_with_correlation_id("order-42.retry:1");
  cr_assert_eq(r.status, 202, "%s", r.body);
  cr_assert_str_eq(json_string_value(json_object_get(r.json, "correlationId")),
                   "order-42.retry:1");
  char *hdr = gwt_header(&r, "X-Correlation-Id");
  cr_assert_str_eq(hdr, "order-42.retry:1");
  free(hdr);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, unsafe_correlation_id_is_refused) {
  start(NULL);
  gwt_response r = post_with_correlation_id("a b\"c");
  cr_assert_eq(r.status, 400, "%s", r.body);
  cr_assert_str_eq(json_string_value(json_object_get(r.json, "error")),
                   "InvalidCorrelationId");
  char *hdr = gwt_header(&r, "X-Correlation-Id");
  cr_assert(hdr && strcmp(hdr, "a b\"c") != 0, "never echoed back");
  free(hdr);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, validation_lists_every_problem) {
  start(RULES);
  gwt_response r = gwt_process(
      &gwt_srv,
      "{\"data\":{\"type\":\"xml\",\"records\":[{\"id\":1},{\"id\":\"2\"},"
      "{},{\"id\":0}]},\"notification\":{\"recipient\":\"nobody\"}}");
  cr_assert_eq(r.status, 400, "%s", r.body);
  cr_assert_str_eq(json_string_value(json_object_get(r.json, "error")),
                   "ValidationError");
  json_t *errors = json_object_get(r.json, "errors");
  cr_assert(error_with(errors, "data.type", "enum"), "%s", r.body);
  cr_assert(error_with(errors, "data.records", "maxLength"), "%s", r.body);
  cr_assert(error_with(errors, "data.records[1].id", "type"), "%s", r.body);
  cr_assert(error_with(errors, "data.records[2].id", "required"), "%s",
            r.body);
  cr_assert(error_with(errors, "data.records[3].id", "minimum"), "%s",
            r.body);
  cr_assert(error_with(errors, "notification.recipient", "pattern"), "%s",
            r.body);
  cr_assert_eq(json_array_size(errors), 6, "%s", r.body);
  cr_assert_str_eq(
      json_string_value(json_object_get(
          error_with(errors, "data.type", "enum"), "message")),
      "must be one of \"json\", \"csv\"");
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, missing_required_field_and_wrong_root_type) {
  start(RULES);
  gwt_response r = gwt_process(&gwt_srv, "{\"other\":1}");
  cr_assert_eq(r.status, 400);
  cr_assert(error_with(json_object_get(r.json, "errors"), "data", "required"),
            "%s", r.body);
  gwt_response_free(&r);
  r = gwt_process(&gwt_srv, "[1,2]");
  cr_assert_eq(r.status, 400);
  cr_assert(error_with(json_object_get(r.json, "errors"), "", "type"), "%s",
            r.body);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, strings_are_sanitized_before_the_execution) {
  start(RULES);
  gwt_response r = gwt_process(
      &gwt_srv,
      "{\"data\":{\"type\":\"json\",\"note\":\"a\\u0007b\\u001bc\\u0085d\\te\","
      "\"long\":\"abcdefghijklmnopqrstuvwxyz\"},\"k\\u0000\":1}");
  /* A NUL character is refused outright (jansson never decodes it). */
  cr_assert_eq(r.status, 400, "%s", r.body);
  gwt_response_free(&r);
  r = gwt_process(&gwt_srv,
                  "{\"data\":{\"type\":\"json\",\"note\":\"a\\u0007b\\u001bc"
                  "\\u0085d\\te\",\"long\":\"abcdefghijklmnopqrstuvwxyz\","
                  "\"k\\u0001ey\":\"\\u00e9t\\u00e9\"}}");
  cr_assert_eq(r.status, 202, "%s", r.body);
  json_t *x = gwt_wait_execution(
      &gwt_srv, json_string_value(json_object_get(r.json, "executionId")));
  cr_assert(x);
  json_t *data = json_object_get(json_object_get(x, "input"), "data");
  cr_assert_str_eq(json_string_value(json_object_get(data, "note")),
                   "abcd\te", "controls gone, tab kept");
  cr_assert_str_eq(json_string_value(json_object_get(data, "long")),
                   "abcdefghijklmnopqrst", "cut at 20 characters");
  cr_assert_str_eq(json_string_value(json_object_get(data, "key")),
                   "\xc3\xa9t\xc3\xa9", "keys too; UTF-8 kept");
  json_decref(x);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, media_type_must_be_json) {
  start(NULL);
  const char *types[] = {NULL, "Content-Type: text/plain",
                         "Content-Type: application/xml",
                         "Content-Type: application/json; charset=latin1",
                         "Content-Type: application/jsonx",
                         "Content-Type: multipart/form-data; boundary=x"};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    const char *headers[] = {"x-api-key: " GWT_API_KEY, types[i], NULL};
    gwt_response r = gwt_request(&gwt_srv, "POST", "/process", headers, "{}", 2);
    cr_assert_eq(r.status, 415, "%s: %ld", types[i] ? types[i] : "none",
                 r.status);
    gwt_response_free(&r);
  }
  const char *ok[] = {"x-api-key: " GWT_API_KEY,
                      "Content-Type: Application/JSON; charset=\"UTF-8\"",
                      NULL};
  gwt_response r = gwt_request(&gwt_srv, "POST", "/process", ok, "{}", 2);
  cr_assert_eq(r.status, 202, "%s", r.body);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, body_over_the_limit_gets_413) {
  start("limits: {maxBodyBytes: 1024}\n" GWT_PROCESS_HELLO);
  char *big = malloc(4001);
  memset(big, ' ', 4000);
  big[0] = '{', big[3998] = '}', big[4000] = '\0';
  gwt_response r = gwt_process(&gwt_srv, big);
  cr_assert_eq(r.status, 413, "by Content-Length: %ld", r.status);
  gwt_response_free(&r);
  const char *chunked[] = {"Content-Type: application/json",
                           "x-api-key: " GWT_API_KEY,
                           "Transfer-Encoding: chunked", NULL};
  r = gwt_request(&gwt_srv, "POST", "/process", chunked, big, 4000);
  cr_assert_eq(r.status, 413, "by bytes received: %ld", r.status);
  gwt_response_free(&r);
  big[1000] = '\0';
  r = gwt_process(&gwt_srv, big); /* exactly under: accepted */
  cr_assert_eq(r.status, 400, "not JSON, but read: %ld", r.status);
  gwt_response_free(&r);
  free(big);
  r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 202);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, execution_reports_status_input_output_and_dates) {
  start(NULL);
  gwt_response r = gwt_process(&gwt_srv, "{\"n\":1.50}");
  cr_assert_eq(r.status, 202);
  const char *id = json_string_value(json_object_get(r.json, "executionId"));
  json_t *x = gwt_wait_execution(&gwt_srv, id);
  cr_assert(x);
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")),
                   "SUCCEEDED");
  cr_assert_str_eq(json_string_value(json_object_get(x, "executionArn")),
                   json_string_value(json_object_get(r.json, "executionArn")));
  cr_assert_str_eq(json_string_value(json_object_get(x, "correlationId")),
                   json_string_value(json_object_get(r.json, "correlationId")));
  cr_assert_str_eq(
      json_string_value(json_object_get(json_object_get(x, "output"),
                                        "message")),
      "Hello from Hello");
  cr_assert(json_is_number(json_object_get(json_object_get(x, "input"), "n")));
  cr_assert(json_string_value(json_object_get(x, "startDate")));
  cr_assert(json_string_value(json_object_get(x, "stopDate")));
  cr_assert_null(json_object_get(x, "error"));
  json_decref(x);
  /* By ARN as well as by id. */
  char *path = wft_strf("/executions/%s",
                        json_string_value(json_object_get(r.json,
                                                          "executionArn")));
  const char *key[] = {"x-api-key: " GWT_API_KEY, NULL};
  gwt_response byarn = gwt_request(&gwt_srv, "GET", path, key, NULL, 0);
  cr_assert_eq(byarn.status, 200, "%s", byarn.body);
  gwt_response_free(&byarn);
  free(path);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, failed_execution_reports_error_and_cause) {
  start("process: {stateMachine: failing}\n");
  gwt_response r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 202, "%s", r.body);
  json_t *x = gwt_wait_execution(
      &gwt_srv, json_string_value(json_object_get(r.json, "executionId")));
  cr_assert(x);
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")), "FAILED");
  cr_assert_str_eq(json_string_value(json_object_get(x, "error")), "Boom");
  cr_assert_str_eq(json_string_value(json_object_get(x, "cause")), "it broke");
  cr_assert_null(json_object_get(x, "output"));
  json_decref(x);
  gwt_response_free(&r);
  gwt_finish();
}

static json_t *history(const char *id, const char *query, long *status) {
  const char *key[] = {"x-api-key: " GWT_API_KEY, NULL};
  char *path = wft_strf("/executions/%s/history%s", id, query);
  gwt_response r = gwt_request(&gwt_srv, "GET", path, key, NULL, 0);
  free(path);
  *status = r.status;
  json_t *events = json_incref(json_object_get(r.json, "events"));
  gwt_response_free(&r);
  return events;
}

Test(gateway_process, history_lists_the_events_either_way) {
  start(NULL);
  gwt_response r = gwt_process(&gwt_srv, "{}");
  const char *id = json_string_value(json_object_get(r.json, "executionId"));
  json_decref(gwt_wait_execution(&gwt_srv, id));
  long status;
  json_t *ev = history(id, "", &status);
  cr_assert_eq(status, 200);
  cr_assert_gt(json_array_size(ev), 2);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0),
                                                     "type")),
                   "ExecutionStarted");
  json_decref(ev);
  ev = history(id, "?reverse=true", &status);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0),
                                                     "type")),
                   "ExecutionSucceeded");
  json_decref(ev);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, history_off_answers_404) {
  start_with(GWT_BASE_WITH_HISTORY("off"), NULL);
  gwt_response r = gwt_process(&gwt_srv, "{}");
  const char *id = json_string_value(json_object_get(r.json, "executionId"));
  json_t *x = gwt_wait_execution(&gwt_srv, id);
  cr_assert(x, "the execution itself is still described");
  json_decref(x);
  long status;
  json_decref(history(id, "", &status));
  cr_assert_eq(status, 404);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, unknown_execution_is_404) {
  start(NULL);
  const char *key[] = {"x-api-key: " GWT_API_KEY, NULL};
  const char *paths[] = {"/executions/no-such-id",
                         "/executions/no-such-id/history",
                         ("/executions/arn:aws:states:us-east-1:123456789012:"
                          "execution:hello:nope")};
  for (size_t i = 0; i < 3; i++) {
    gwt_response r = gwt_request(&gwt_srv, "GET", paths[i], key, NULL, 0);
    cr_assert_eq(r.status, 404, "%s", paths[i]);
    cr_assert_str_eq(json_string_value(json_object_get(r.json, "error")),
                     "ExecutionNotFound");
    gwt_response_free(&r);
  }
  gwt_finish();
}

Test(gateway_process, correlation_id_flows_into_execution_logs) {
  start(NULL);
  gwt_response r = post_with_correlation_id("trace-77");
  cr_assert_eq(r.status, 202);
  const char *arn = json_string_value(json_object_get(r.json, "executionArn"));
  json_decref(gwt_wait_execution(
      &gwt_srv, json_string_value(json_object_get(r.json, "executionId"))));
  json_t *lines = gwt_log_lines(&gwt_srv, "trace-77", 6);
  cr_assert(lines, "every log line is JSON");
  bool request = false, response = false, started = false, succeeded = false;
  size_t i;
  json_t *l;
  json_array_foreach(lines, i, l) {
    cr_assert_str_eq(json_string_value(json_object_get(l, "correlationId")),
                     "trace-77");
    const char *ev = json_string_value(json_object_get(l, "event"));
    const char *x = json_string_value(json_object_get(l, "execution"));
    request |= strcmp(ev, "HttpRequest") == 0;
    response |= strcmp(ev, "HttpResponse") == 0 &&
                json_integer_value(json_object_get(l, "status")) == 202;
    started |= strcmp(ev, "ExecutionStarted") == 0 && x && !strcmp(x, arn);
    succeeded |= strcmp(ev, "ExecutionSucceeded") == 0 && x && !strcmp(x, arn);
  }
  cr_assert(request && response && started && succeeded,
            "request %d response %d started %d succeeded %d", request,
            response, started, succeeded);
  json_decref(lines);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, running_executions_are_bounded_with_backpressure) {
  start("process: {stateMachine: waiting, maxRunning: 1, maxWaitMs: 100}\n");
  gwt_response r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 202, "%s", r.body);
  gwt_response_free(&r);
  r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 503, "the one running holds the only place: %ld",
               r.status);
  cr_assert_str_eq(json_string_value(json_object_get(r.json, "error")),
                   "ServiceUnavailable");
  char *retry = gwt_header(&r, "Retry-After");
  cr_assert_str_eq(retry, "1");
  free(retry);
  gwt_response_free(&r);
  usleep(1200 * 1000); /* the Wait state ends */
  r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 202, "a place again: %ld", r.status);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_process, built_in_handlers_answer_with_their_result) {
  cr_assert(gwt_start(&gwt_srv,
                      "handlers:\n"
                      "  - resource: arn:aws:lambda:us-east-1:123456789012:"
                      "function:Hello\n"
                      "    result: {message: fixed, n: [1, 2]}\n"
                      "stateMachines: [{name: hello, definition: hello.json}]\n"
                      "log: {path: gateway.log}\n"
                      "auth: {apiKeys: [{name: t, key: " GWT_API_KEY "}]}\n"));
  gwt_response r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 202, "%s", r.body);
  json_t *x = gwt_wait_execution(
      &gwt_srv, json_string_value(json_object_get(r.json, "executionId")));
  cr_assert(x);
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")),
                   "SUCCEEDED");
  json_t *out = json_object_get(x, "output");
  cr_assert_str_eq(json_string_value(json_object_get(out, "message")),
                   "fixed");
  cr_assert_eq(json_array_size(json_object_get(out, "n")), 2);
  json_decref(x);
  gwt_response_free(&r);
  gwt_finish();
}
