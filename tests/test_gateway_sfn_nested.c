/* Nested executions through wf-gateway: a Task on
 * arn:aws:states:::states:startExecution runs a machine the gateway
 * keeps, as a real client sees it: every form, the child listed and
 * described, a missing machine, a callback answered and a stopped parent
 * with boto3 (tests/support/sfn_nested.py); with the AWS CLI, a child
 * started through an alias (the .sync result names the alias and the
 * version it chose) and a child that fails its .sync parent; and a
 * parent waiting on its child across a crash of the gateway. */
#include <criterion/criterion.h>
#include <signal.h>

#include "engine_support.h"
#include "gateway_support.h"
#include "sfn_support.h"
#include "support.h"

TestSuite(gateway_sfn_nested, .timeout = 120);

Test(gateway_sfn_nested, every_form_with_boto3) {
  gwt_sfn_start_for_clients();
  gwt_boto3_script_ok("sfn_nested.py");
  gwt_finish();
}

static void create(const char *name, const char *definition) {
  json_decref(gwt_sfn_ok(gwt_sfn_obj(
      "CreateStateMachine", json_pack("{s:s, s:s, s:s}", "name", name,
                                      "roleArn", GWT_ROLE, "definition",
                                      definition))));
}

/* `aws stepfunctions ARGS` against the gateway, which must exit 0: its
 * output as JSON. */
static json_t *cli(const char *args) {
  char *cmd = wft_strf("/usr/bin/aws --no-cli-pager --output json "
                       "stepfunctions --endpoint-url http://127.0.0.1:%d %s",
                       gwt_srv.port, args);
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert_eq(rc, 0, "%s\n%s", cmd, out);
  json_t *v = wft_parse(out);
  free(out);
  free(cmd);
  return v;
}

/* Start `machine` with the CLI, wait for its end; DescribeExecution. */
static json_t *cli_run(const char *machine, const char *name) {
  char *args = wft_strf("start-execution --state-machine-arn " GWT_MACHINE_ARN
                        "%s --name %s --input '{\"n\":4}'",
                        machine, name);
  json_t *started = cli(args);
  free(args);
  const char *arn =
      json_string_value(json_object_get(started, "executionArn"));
  json_decref(gwt_sfn_wait(arn));
  args = wft_strf("describe-execution --execution-arn %s", arn);
  json_t *d = cli(args);
  free(args);
  json_decref(started);
  return d;
}

#define PARENT(form, target)                                                 \
  "{\"StartAt\":\"Nest\",\"States\":{\"Nest\":{\"Type\":\"Task\","          \
  "\"Resource\":\"arn:aws:states:::states:startExecution" form "\","        \
  "\"Parameters\":{\"StateMachineArn\":\"" GWT_MACHINE_ARN target "\","     \
  "\"Input\":{\"n.$\":\"$.n\"}},\"End\":true}}}"

/* Started through the alias double:live, on its version 1. */
static void assert_through_alias(json_t *o, const char *alias_key,
                                 const char *version_key) {
  cr_assert_str_eq(json_string_value(json_object_get(o, alias_key)),
                   GWT_MACHINE_ARN "double:live");
  cr_assert_str_eq(json_string_value(json_object_get(o, version_key)),
                   GWT_MACHINE_ARN "double:1");
}

Test(gateway_sfn_nested, an_alias_and_a_failing_child_with_the_aws_cli) {
  gwt_sfn_start_for_clients();
  create("double",
         "{\"StartAt\":\"Double\",\"States\":{\"Double\":{\"Type\":\"Pass\","
         "\"Parameters\":{\"twice.$\":\"States.MathAdd($.n, $.n)\"},"
         "\"End\":true}}}");
  json_decref(gwt_sfn_ok(gwt_sfn(
      "PublishStateMachineVersion",
      "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "double\"}")));
  json_decref(gwt_sfn_ok(gwt_sfn(
      "CreateStateMachineAlias",
      "{\"name\":\"live\",\"routingConfiguration\":[{"
      "\"stateMachineVersionArn\":\"" GWT_MACHINE_ARN "double:1\","
      "\"weight\":100}]}")));
  create("via-alias", PARENT(".sync", "double:live"));
  json_t *d = cli_run("via-alias", "a1");
  cr_assert_str_eq(json_string_value(json_object_get(d, "status")),
                   "SUCCEEDED", "%s",
                   json_string_value(json_object_get(d, "cause")));
  json_t *out = wft_parse(json_string_value(json_object_get(d, "output")));
  assert_through_alias(out, "StateMachineAliasArn", "StateMachineVersionArn");
  cr_assert_str_eq(json_string_value(json_object_get(out, "StateMachineArn")),
                   GWT_MACHINE_ARN "double");
  wft_assert_json(json_string_value(json_object_get(out, "Output")),
                  "{\"twice\":8}");
  /* The child is listed under the alias it was started through. */
  json_t *l = cli("list-executions --state-machine-arn " GWT_MACHINE_ARN
                  "double:live");
  json_t *first = json_array_get(json_object_get(l, "executions"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(first, "executionArn")),
                   json_string_value(json_object_get(out, "ExecutionArn")));
  json_decref(l);
  /* Described with the alias and the version it chose, as a start
   * through the API is (Debian's AWS CLI predates aliases: it would drop
   * them). */
  json_t *child = gwt_sfn_ok(
      gwt_sfn("DescribeExecution", "{\"executionArn\":\"%s\"}",
              json_string_value(json_object_get(out, "ExecutionArn"))));
  assert_through_alias(child, "stateMachineAliasArn", "stateMachineVersionArn");
  json_decref(child);
  json_decref(out);
  json_decref(d);

  create("broken", "{\"StartAt\":\"Break\",\"States\":{\"Break\":{"
                   "\"Type\":\"Fail\",\"Error\":\"Child.Broke\","
                   "\"Cause\":\"on purpose\"}}}");
  create("on-broken", PARENT(".sync:2", "broken"));
  d = cli_run("on-broken", "b1");
  cr_assert_str_eq(json_string_value(json_object_get(d, "status")), "FAILED");
  cr_assert_str_eq(json_string_value(json_object_get(d, "error")),
                   "States.TaskFailed");
  json_t *cause = wft_parse(json_string_value(json_object_get(d, "cause")));
  cr_assert_str_eq(json_string_value(json_object_get(cause, "Status")),
                   "FAILED");
  cr_assert_str_eq(json_string_value(json_object_get(cause, "Error")),
                   "Child.Broke");
  cr_assert_eq(json_integer_value(
                   json_object_get(json_object_get(cause, "Input"), "n")),
               4);
  json_decref(cause);
  json_decref(d);
  gwt_finish();
}

/* Killed (SIGKILL) while a .sync:2 parent waits on a child whose activity
 * task a worker holds; started again on the same store: the worker's
 * answer ends the child, and the parent, resumed, gets its result. */
Test(gateway_sfn_nested, a_waiting_parent_survives_a_crash) {
  gwt_sfn_start("store: {sqlite: @DIR@/store.db}\n");
  json_decref(gwt_sfn_ok(gwt_sfn("CreateActivity", "{\"name\":\"work\"}")));
  create("worked", "{\"StartAt\":\"Work\",\"States\":{\"Work\":{"
                   "\"Type\":\"Task\",\"Resource\":\"arn:aws:states:"
                   "us-east-1:123456789012:activity:work\",\"End\":true}}}");
  create("waits", PARENT(".sync:2", "worked"));
  json_decref(gwt_sfn_ok(gwt_sfn(
      "StartExecution", "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
      "waits\",\"name\":\"w1\",\"input\":\"{\\\"n\\\":3}\"}")));
  /* Answered as soon as the child's task is queued. */
  json_t *task = gwt_sfn_ok(gwt_sfn(
      "GetActivityTask", "{\"activityArn\":\"arn:aws:states:us-east-1:"
      "123456789012:activity:work\"}"));
  const char *token = json_string_value(json_object_get(task, "taskToken"));
  cr_assert_not_null(token, "no activity task");
  int status = 0;
  cr_assert(gwt_restart(&gwt_srv, SIGKILL, &status),
            "the gateway did not start again");
  json_decref(gwt_sfn_ok(gwt_sfn(
      "SendTaskSuccess", "{\"taskToken\":\"%s\",\"output\":"
      "\"{\\\"worked\\\":true}\"}", token)));
  json_decref(task);
  json_t *d = gwt_sfn_wait(GWT_EXEC_ARN "waits:w1");
  cr_assert_not_null(d, "the parent never ended");
  cr_assert_str_eq(json_string_value(json_object_get(d, "status")),
                   "SUCCEEDED", "%s",
                   json_string_value(json_object_get(d, "cause")));
  json_t *out = wft_parse(json_string_value(json_object_get(d, "output")));
  json_t *want = wft_parse("{\"worked\":true}");
  cr_assert(json_equal(json_object_get(out, "Output"), want), "%s",
            json_string_value(json_object_get(d, "output")));
  /* One child: the parent's task, called again, found the one it had. */
  json_t *l = gwt_sfn_ok(gwt_sfn(
      "ListExecutions", "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
      "worked\"}"));
  cr_assert_eq(json_array_size(json_object_get(l, "executions")), 1);
  json_decref(l);
  json_decref(want);
  json_decref(out);
  json_decref(d);
  gwt_finish();
}
