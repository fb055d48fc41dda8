/* Task resources naming a region and an account
 * ("arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject", as the
 * console's exports write them): which the validator accepts, and that
 * such a task is routed exactly like its short form — the handler
 * registered for "arn:aws:states:::aws-sdk:s3:getObject", the allowlist,
 * the MockConfigFile, the Lambda answer when nobody serves it, and
 * history's resourceType and resource fields. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/workflow.h"

TestSuite(task_resources, .timeout = 60);

#define SCOPE "arn:aws:states:us-east-1:123456789012:"
#define GET_OBJECT_LONG SCOPE "aws-sdk:s3:getObject"
#define GET_OBJECT_SHORT "arn:aws:states:::aws-sdk:s3:getObject"

/* One Task state with `resource`; malloc'd. */
static char *task_def(const char *resource) {
  char *s = NULL;
  cr_assert_geq(
      asprintf(&s,
               "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
               "\"Resource\":\"%s\",\"End\":true}}}",
               resource),
      0);
  return s;
}

static int load(const char *resource, wf_machine_type type, wf_error *err) {
  char *def = task_def(resource);
  wf_machine *m = NULL;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.type = type;
  int rc = wf_machine_load_json(&m, def, &lo, err);
  if (rc == WF_OK)
    cr_assert_not_null(m);
  else
    cr_assert_null(m);
  wf_machine_free(m);
  free(def);
  return rc;
}

static const char *const ACCEPTED[] = {
    GET_OBJECT_LONG,
    SCOPE "aws-sdk:s3:getObject.waitForTaskToken",
    SCOPE "aws-sdk:dynamodb:putItem",
    SCOPE "lambda:invoke",
    SCOPE "lambda:invoke.waitForTaskToken",
    SCOPE "sqs:sendMessage.waitForTaskToken",
    SCOPE "states:startExecution.sync:2",
    SCOPE "ecs:runTask.sync",
    "arn:aws:states:eu-west-2:210987654321:sns:publish",
    "arn:aws:states:us-gov-west-1:123456789012:http:invoke",
};

/* Parameters are indexes: a test runs in a process of its own, where a
 * pointer of the parent's would not hold. */
static int INDEX[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
#define N_CASES(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(N_CASES(ACCEPTED) <= N_CASES(INDEX), "INDEX too short");

ParameterizedTestParameters(task_resources, accepts_integrations_with_scope) {
  return cr_make_param_array(int, INDEX, N_CASES(ACCEPTED));
}

ParameterizedTest(int *i, task_resources, accepts_integrations_with_scope) {
  const char *res = ACCEPTED[*i];
  wf_error err;
  int rc = load(res, WF_MACHINE_STANDARD, &err);
  cr_assert_eq(rc, WF_OK, "%s: %s at %s", res, err.message, err.path);
}

/* What the short form refuses stays refused with a region and account,
 * and a scope must be whole: both parts or neither. */
static const char *const REFUSED[] = {
    "arn:aws:states:us-east-1::aws-sdk:s3:getObject",
    "arn:aws:states::123456789012:aws-sdk:s3:getObject",
    "arn:aws:states:useast1:123456789012:lambda:invoke",
    "arn:aws:states:us-east-1:12345:lambda:invoke",
    SCOPE "lambda:invoke.sync",
    SCOPE "lambda:nothing",
    SCOPE "aws-sdk:s3",
    SCOPE "aws-sdk:s3:getObject.sync",
    SCOPE "stateMachine:Other",
    "arn:aws:states:us-east-1:123456789012:",
};

_Static_assert(N_CASES(REFUSED) <= N_CASES(INDEX), "INDEX too short");

ParameterizedTestParameters(task_resources, refuses_what_the_short_form_does) {
  return cr_make_param_array(int, INDEX, N_CASES(REFUSED));
}

ParameterizedTest(int *i, task_resources, refuses_what_the_short_form_does) {
  const char *res = REFUSED[*i];
  wf_error err;
  cr_assert_eq(load(res, WF_MACHINE_STANDARD, &err), WF_EINVALID, "%s accepted",
               res);
  cr_assert_str_eq(err.path, "/States/T/Resource");
  char want[512];
  snprintf(want, sizeof want,
           "The resource provided %s is not recognized. The value is not a "
           "valid resource ARN, or the resource is not available in this "
           "region.",
           res);
  cr_assert(strstr(err.message, want), "%s", err.message);
}

Test(task_resources, express_rules_apply_to_the_long_form) {
  wf_error err;
  cr_assert_eq(
      load(SCOPE "states:startExecution.sync", WF_MACHINE_EXPRESS, &err),
      WF_EINVALID);
  cr_assert(strstr(err.message,
                   "Express state machine does not support "
                   "'.sync' service integration"),
            "%s", err.message);
  cr_assert_eq(
      load(SCOPE "lambda:invoke.waitForTaskToken", WF_MACHINE_EXPRESS, &err),
      WF_EINVALID);
  cr_assert(strstr(err.message, "'.waitForTaskToken'"), "%s", err.message);
  cr_assert_eq(load(SCOPE "lambda:invoke", WF_MACHINE_EXPRESS, &err), WF_OK,
               "%s", err.message);
}

/* ---- routing ------------------------------------------------------------ */

/* Echoes the resource it was called for. */
static void echo_resource(wf_task *t, void *payload) {
  (void)payload;
  json_t *o = json_pack("{s:s}", "resource", wf_task_resource(t));
  char *text = json_dumps(o, JSON_COMPACT);
  wf_task_succeed(t, text);
  free(text);
  json_decref(o);
}

/* Details of the first event of `type`, as "resourceType/resource". */
static char *task_event_fields(wf_execution *x, const char *type) {
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  size_t i;
  json_t *ev;
  char *out = NULL;
  json_array_foreach(events, i, ev) {
    if (strcmp(json_string_value(json_object_get(ev, "type")), type)) continue;
    json_t *d = wft_details(ev);
    cr_assert_geq(
        asprintf(&out, "%s/%s",
                 json_string_value(json_object_get(d, "resourceType")),
                 json_string_value(json_object_get(d, "resource"))),
        0);
    break;
  }
  json_decref(doc);
  cr_assert_not_null(out, "no %s event", type);
  return out;
}

static void assert_task_events(wf_execution *x, const char *want) {
  static const char *const TYPES[] = {"TaskScheduled", "TaskStarted",
                                      "TaskSucceeded"};
  for (size_t i = 0; i < 3; i++) {
    char *got = task_event_fields(x, TYPES[i]);
    cr_assert_str_eq(got, want, "%s", TYPES[i]);
    free(got);
  }
}

Test(task_resources, the_short_forms_handler_serves_the_long_form) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, true);
  wft_register(f.engine, GET_OBJECT_SHORT, echo_resource, NULL,
               WF_HANDLER_INLINE);
  char *def = task_def(GET_OBJECT_LONG);
  wf_execution *x = wft_fixture_run(&f, def, "{}", NULL);
  wft_assert_succeeded(x, "{\"resource\":\"" GET_OBJECT_SHORT "\"}");
  assert_task_events(x, "aws-sdk:s3/getObject");
  free(def);
  wft_fixture_free(&f);
}

Test(task_resources, a_prefix_handler_serves_the_long_form) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, true);
  wft_register(f.engine, "arn:aws:states:::aws-sdk:", echo_resource, NULL,
               WF_HANDLER_INLINE | WF_HANDLER_PREFIX);
  char *def = task_def(SCOPE "aws-sdk:sqs:sendMessage.waitForTaskToken");
  wf_execution *x = wft_fixture_run(&f, def, "{}", NULL);
  wft_assert_succeeded(
      x,
      "{\"resource\":\"arn:aws:states:::aws-sdk:sqs:sendMessage."
      "waitForTaskToken\"}");
  assert_task_events(x, "aws-sdk:sqs/sendMessage.waitForTaskToken");
  free(def);
  wft_fixture_free(&f);
}

/* Nobody serves lambda:invoke: both forms fail as AWS fails a missing
 * function, naming the function of the task's parameters. */
Test(task_resources, an_unserved_lambda_invoke_fails_alike) {
  const char *const FORMS[] = {"arn:aws:states:::lambda:invoke",
                               SCOPE "lambda:invoke"};
  for (size_t i = 0; i < 2; i++) {
    wft_fixture f;
    wft_fixture_init(&f, NULL, true);
    char *def = NULL;
    cr_assert_geq(
        asprintf(&def,
                 "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
                 "\"Resource\":\"%s\",\"Parameters\":{\"FunctionName\":"
                 "\"Missing\"},\"End\":true}}}",
                 FORMS[i]),
        0);
    wf_execution *x = wft_fixture_run(&f, def, "{}", NULL);
    cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
    cr_assert_str_eq(wf_execution_error(x), "Lambda.ResourceNotFoundException",
                     "%s", FORMS[i]);
    cr_assert(
        strstr(wf_execution_cause(x), "Function not found: arn:aws:lambda:"),
        "%s", wf_execution_cause(x));
    free(def);
    wft_fixture_free(&f);
  }
}

Test(task_resources, the_allowlist_names_the_short_form) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, true);
  wft_register(f.engine, GET_OBJECT_SHORT, echo_resource, NULL,
               WF_HANDLER_INLINE);
  wft_register(f.engine, "arn:aws:states:::aws-sdk:s3:putObject", echo_resource,
               NULL, WF_HANDLER_INLINE);
  static const char *const ALLOWED[] = {GET_OBJECT_SHORT, NULL};
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.allowed_resources = ALLOWED;
  const char *const RUNS[][2] = {
      {GET_OBJECT_LONG, NULL},
      {SCOPE "aws-sdk:s3:putObject", "States.Permissions"}};
  for (size_t i = 0; i < 2; i++) {
    char *def = task_def(RUNS[i][0]);
    wf_machine *m = NULL;
    wf_error err;
    cr_assert_eq(wf_machine_load_json(&m, def, &lo, &err), WF_OK, "%s",
                 err.message);
    wf_execution *x = wft_run(f.engine, m, "{}", NULL);
    if (RUNS[i][1]) {
      cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED, "%s", RUNS[i][0]);
      cr_assert_str_eq(wf_execution_error(x), RUNS[i][1]);
    } else {
      wft_assert_succeeded(x, NULL);
    }
    wf_execution_free(x);
    wf_machine_free(m);
    free(def);
  }
  wft_fixture_free(&f);
}

Test(task_resources, a_mock_answers_the_long_form) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, true);
  wf_error err;
  cr_assert_eq(wf_engine_set_mock_config(
                   f.engine,
                   "{\"StateMachines\":{\"Res\":{\"TestCases\":{\"Happy\":"
                   "{\"T\":\"Body\"}}}},\"MockedResponses\":{\"Body\":{\"0\":"
                   "{\"Return\":{\"Body\":\"mocked\"}}}}}",
                   &err),
               WF_OK, "%s", err.message);
  char *def = task_def(GET_OBJECT_LONG);
  f.machine = wft_load_named(def, "Res");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.test_case = "Happy";
  f.exec = wft_run(f.engine, f.machine, "{}", &so);
  wft_assert_succeeded(f.exec, "{\"Body\":\"mocked\"}");
  assert_task_events(f.exec, "aws-sdk:s3/getObject");
  free(def);
  wft_fixture_free(&f);
}
