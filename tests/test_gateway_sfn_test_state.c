/* wf-gateway's TestState through the AWS JSON API: the answer's shape per
 * inspection level, a Task calling the real (plugin) handler, mocks,
 * RETRIABLE and CAUGHT_ERROR, variables, a state of a whole machine, the
 * sync- host, and AWS's errors (InvalidDefinition, InvalidExecutionInput,
 * ValidationException). The AWS CLI and boto3 driving it:
 * test_gateway_clients.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfn_support.h"
#include "support.h"

TestSuite(gateway_sfn_test_state, .fini = gwt_fini, .timeout = 60);

#define HELLO "arn:aws:lambda:us-east-1:123456789012:function:Hello"

/* TestState of `def` with the members of extra_json (may be NULL). */
static gwt_response test_state(const char *def, const char *extra_json) {
  return gwt_sfn_merged("TestState", json_pack("{s:s}", "definition", def),
                        extra_json);
}

static json_t *ok(gwt_response r) { return gwt_sfn_ok(r); }

static const char *str(const json_t *v, const char *key) {
  return json_string_value(json_object_get(v, key));
}

/* A member holding JSON text, compared as JSON. */
static void expect_json_member(const json_t *v, const char *key,
                               const char *want) {
  const char *text = str(v, key);
  cr_assert_not_null(text, "no %s", key);
  json_t *a = json_loads(text, JSON_DECODE_ANY, NULL);
  json_t *b = json_loads(want, JSON_DECODE_ANY, NULL);
  cr_assert(a && b && json_equal(a, b), "%s: %s, want %s", key, text, want);
  json_decref(a);
  json_decref(b);
}

Test(gateway_sfn_test_state, info_and_debug_answers) {
  gwt_sfn_start(NULL);
  const char def[] =
      "{\"Type\":\"Pass\",\"InputPath\":\"$.a\",\"Parameters\":{\"v.$\":"
      "\"$.b\"},\"ResultPath\":\"$.r\",\"Next\":\"After\"}";
  json_t *v = ok(test_state(def, "{\"input\":\"{\\\"a\\\":{\\\"b\\\":1}}\"}"));
  cr_assert_str_eq(str(v, "status"), "SUCCEEDED");
  cr_assert_str_eq(str(v, "nextState"), "After");
  expect_json_member(v, "output", "{\"a\":{\"b\":1},\"r\":{\"v\":1}}");
  cr_assert_null(json_object_get(v, "inspectionData"));
  cr_assert_null(json_object_get(v, "error"));
  json_decref(v);
  v = ok(test_state(def, "{\"input\":\"{\\\"a\\\":{\\\"b\\\":1}}\","
                         "\"inspectionLevel\":\"DEBUG\"}"));
  json_t *d = json_object_get(v, "inspectionData");
  expect_json_member(d, "input", "{\"a\":{\"b\":1}}");
  expect_json_member(d, "afterInputPath", "{\"b\":1}");
  expect_json_member(d, "afterParameters", "{\"v\":1}");
  cr_assert_null(json_object_get(d, "result")); /* a Pass without Result */
  expect_json_member(d, "afterResultSelector", "{\"v\":1}");
  expect_json_member(d, "afterResultPath", "{\"a\":{\"b\":1},\"r\":{\"v\":1}}");
  json_decref(v);
}

Test(gateway_sfn_test_state, a_task_calls_the_plugin_unless_mocked) {
  gwt_sfn_start(NULL);
  const char def[] =
      "{\"Type\":\"Task\",\"Resource\":\"" HELLO "\",\"End\":true}";
  json_t *v = ok(test_state(def, NULL));
  cr_assert_str_eq(str(v, "status"), "SUCCEEDED");
  expect_json_member(v, "output", "{\"message\":\"Hello from TestState\"}");
  cr_assert_null(json_object_get(v, "nextState"));
  json_decref(v);
  v = ok(test_state(def, "{\"mock\":{\"result\":\"{\\\"m\\\":1}\"}}"));
  expect_json_member(v, "output", "{\"m\":1}");
  json_decref(v);
}

Test(gateway_sfn_test_state, retriable_and_caught_errors) {
  gwt_sfn_start(NULL);
  const char def[] =
      "{\"Type\":\"Task\",\"Resource\":\"" HELLO "\",\"Retry\":[{"
      "\"ErrorEquals\":[\"Busy\"],\"MaxAttempts\":1}],\"Catch\":[{"
      "\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Caught\"}],\"End\":true}";
  const char mock[] =
      "{\"mock\":{\"errorOutput\":{\"error\":\"Busy\",\"cause\":\"later\"}},"
      "\"inspectionLevel\":\"DEBUG\"";
  char *body = wft_strf("%s}", mock);
  json_t *v = ok(test_state(def, body));
  free(body);
  cr_assert_str_eq(str(v, "status"), "RETRIABLE");
  cr_assert_str_eq(str(v, "error"), "Busy");
  cr_assert_str_eq(str(v, "cause"), "later");
  json_t *details = json_object_get(json_object_get(v, "inspectionData"),
                                    "errorDetails");
  cr_assert_eq(json_integer_value(json_object_get(details, "retryIndex")), 0);
  json_decref(v);
  body = wft_strf("%s,\"stateConfiguration\":{\"retrierRetryCount\":1}}",
                  mock);
  v = ok(test_state(def, body));
  free(body);
  cr_assert_str_eq(str(v, "status"), "CAUGHT_ERROR");
  cr_assert_str_eq(str(v, "nextState"), "Caught");
  expect_json_member(v, "output", "{\"Error\":\"Busy\",\"Cause\":\"later\"}");
  json_decref(v);
}

Test(gateway_sfn_test_state, jsonata_variables_and_a_named_state) {
  gwt_sfn_start(NULL);
  json_t *v = ok(test_state(
      "{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"A\",\"States\":{\"A\":{"
      "\"Type\":\"Pass\",\"Next\":\"B\"},\"B\":{\"Type\":\"Pass\",\"Assign\":"
      "{\"y\":\"{% $x + 1 %}\"},\"Output\":\"{% $x %}\",\"End\":true}}}",
      "{\"stateName\":\"B\",\"variables\":\"{\\\"x\\\":41}\","
      "\"inspectionLevel\":\"TRACE\"}"));
  cr_assert_str_eq(str(v, "status"), "SUCCEEDED");
  expect_json_member(v, "output", "41");
  expect_json_member(json_object_get(v, "inspectionData"), "variables",
                     "{\"x\":41,\"y\":42}");
  json_decref(v);
}

Test(gateway_sfn_test_state, served_on_the_sync_host) {
  gwt_sfn_start("aws:\n  accessKeys:\n    - {accessKeyId: " GWT_KEY_ID
                ", secretAccessKey: \"" GWT_SECRET "\"}\n");
  gwt_signer sg = GWT_SIGNER_OK;
  char host[64];
  snprintf(host, sizeof host, "sync-sfn.localhost:%d", gwt_srv.port);
  sg.host = host;
  gwt_response r = gwt_sfn_signed(
      &sg, "TestState", "{\"definition\":\"{\\\"Type\\\":\\\"Succeed\\\"}\"}");
  json_t *v = ok(r);
  cr_assert_str_eq(str(v, "status"), "SUCCEEDED");
  json_decref(v);
}

Test(gateway_sfn_test_state, errors_as_aws_names_them) {
  gwt_sfn_start(NULL);
  gwt_response r = test_state("{\"Type\":\"Pass\"}", NULL);
  gwt_expect_error(&r, "InvalidDefinition",
                   "Invalid State Machine Definition: '");
  gwt_response_free(&r);
  r = test_state("{\"Type\":\"Pass\",\"End\":true}", "{\"input\":\"{nope\"}");
  gwt_expect_error(&r, "InvalidExecutionInput", NULL);
  gwt_response_free(&r);
  r = test_state("{\"Type\":\"Parallel\",\"Branches\":[{\"StartAt\":\"B\","
                 "\"States\":{\"B\":{\"Type\":\"Pass\",\"End\":true}}}],"
                 "\"End\":true}",
                 NULL);
  gwt_expect_error(&r, "InvalidDefinition",
                   "TestState API does not support Map or Parallel states.");
  gwt_response_free(&r);
  r = test_state("{\"Type\":\"Pass\",\"End\":true}",
                 "{\"inspectionLevel\":\"LOUD\"}");
  gwt_expect_error(&r, "ValidationException", "inspectionLevel");
  gwt_response_free(&r);
  r = gwt_sfn("TestState", "{}");
  gwt_expect_error(&r, "ValidationException", "definition");
  gwt_response_free(&r);
  r = test_state("{\"Type\":\"Pass\",\"End\":true}",
                 "{\"stateConfiguration\":{\"retrierRetryCount\":-1}}");
  gwt_expect_error(&r, "ValidationException", "retrierRetryCount");
  gwt_response_free(&r);
}
