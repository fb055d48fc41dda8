/* Activities through wf-gateway's AWS JSON API: CreateActivity (idempotent
 * by name), DescribeActivity, ListActivities, DeleteActivity, an
 * activity's tags and GetActivityTask with AWS's errors, a poll answered when work arrives
 * while other requests go on, and the boto3 worker of
 * examples/activity_worker end to end with the AWS CLI; every operation
 * with boto3 (tests/support/sfn_activities.py) and with the AWS CLI. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "engine_support.h"
#include "gateway_support.h"
#include "sfn_support.h"
#include "support.h"

TestSuite(gateway_sfn_activities, .timeout = 120);

#define ACT "arn:aws:states:us-east-1:123456789012:activity:"

static const char *GREET =
    "{\"StartAt\":\"Greet\",\"States\":{\"Greet\":{\"Type\":\"Task\","
    "\"Resource\":\"" ACT "greet\",\"TimeoutSeconds\":60,\"End\":true}}}";

static void create_machine(void) {
  json_decref(gwt_sfn_ok(gwt_sfn_obj(
      "CreateStateMachine", json_pack("{s:s, s:s, s:s}", "name", "g", "roleArn",
                                      GWT_ROLE, "definition", GREET))));
}

static void expect(gwt_response r, const char *type, const char *message) {
  gwt_expect_error(&r, type, message);
  gwt_response_free(&r);
}

Test(gateway_sfn_activities, operations_answer_as_aws_does) {
  gwt_sfn_start(NULL);
  json_t *a = gwt_sfn_ok(gwt_sfn("CreateActivity", "{\"name\":\"greet\","
                                  "\"tags\":[{\"key\":\"k\",\"value\":\"v\"}]}"));
  cr_assert_str_eq(json_string_value(json_object_get(a, "activityArn")),
                   ACT "greet");
  cr_assert(json_is_number(json_object_get(a, "creationDate")));
  json_t *again = gwt_sfn_ok(gwt_sfn("CreateActivity", "{\"name\":\"greet\"}"));
  cr_assert(json_equal(a, again), "CreateActivity is idempotent by name");
  json_decref(again);
  json_t *d = gwt_sfn_ok(gwt_sfn("DescribeActivity",
                                 "{\"activityArn\":\"" ACT "greet\"}"));
  cr_assert_str_eq(json_string_value(json_object_get(d, "name")), "greet");
  cr_assert(json_equal(json_object_get(d, "creationDate"),
                       json_object_get(a, "creationDate")));
  json_decref(d);
  json_decref(a);
  json_decref(gwt_sfn_ok(gwt_sfn("CreateActivity", "{\"name\":\"other\"}")));
  json_t *l = gwt_sfn_ok(gwt_sfn("ListActivities", "{\"maxResults\":1}"));
  cr_assert_eq(json_array_size(json_object_get(l, "activities")), 1);
  const char *next = json_string_value(json_object_get(l, "nextToken"));
  cr_assert_not_null(next);
  json_t *l2 = gwt_sfn_ok(
      gwt_sfn("ListActivities", "{\"maxResults\":1,\"nextToken\":\"%s\"}", next));
  json_t *second = json_array_get(json_object_get(l2, "activities"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(second, "name")), "other");
  cr_assert_null(json_object_get(l2, "nextToken"));
  json_decref(l2);
  json_decref(l);

  expect(gwt_sfn("CreateActivity", "{\"name\":\"a b\"}"), "InvalidName",
         "Invalid Name: 'a b'");
  expect(gwt_sfn("DescribeActivity", "{\"activityArn\":\"" ACT "none\"}"),
         "ActivityDoesNotExist", "Activity Does Not Exist: '" ACT "none'");
  expect(gwt_sfn("GetActivityTask", "{\"activityArn\":\"" ACT "none\"}"),
         "ActivityDoesNotExist", "Activity Does Not Exist: '" ACT "none'");
  expect(gwt_sfn("DescribeActivity", "{\"activityArn\":\"nope\"}"),
         "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: nope'");
  expect(gwt_sfn("DescribeActivity",
                 "{\"activityArn\":\"" GWT_MACHINE_ARN "m\"}"),
         "InvalidArn", "Resource type not valid in this context");
  expect(gwt_sfn("GetActivityTask", "{}"), "ValidationException",
         "activityArn");
  /* Tags: as a state machine's. */
  json_decref(gwt_sfn_ok(gwt_sfn(
      "TagResource", "{\"resourceArn\":\"" ACT "greet\",\"tags\":["
                     "{\"key\":\"k\",\"value\":\"w\"},"
                     "{\"key\":\"n\",\"value\":\"1\"}]}")));
  json_decref(gwt_sfn_ok(gwt_sfn(
      "UntagResource", "{\"resourceArn\":\"" ACT "greet\",\"tagKeys\":"
                       "[\"n\"]}")));
  json_t *tags = gwt_sfn_ok(gwt_sfn("ListTagsForResource",
                                    "{\"resourceArn\":\"" ACT "greet\"}"));
  char *text = json_dumps(tags, JSON_COMPACT);
  cr_assert_str_eq(text, "{\"tags\":[{\"key\":\"k\",\"value\":\"w\"}]}");
  free(text);
  json_decref(tags);
  expect(gwt_sfn("ListTagsForResource", "{\"resourceArn\":\"" ACT "none\"}"),
         "ResourceNotFound", "Resource not found: '" ACT "none'");
  json_decref(gwt_sfn_ok(
      gwt_sfn("DeleteActivity", "{\"activityArn\":\"" ACT "other\"}")));
  expect(gwt_sfn("DescribeActivity", "{\"activityArn\":\"" ACT "other\"}"),
         "ActivityDoesNotExist", NULL);
  gwt_finish();
}

/* A GetActivityTask waiting on another thread. */
typedef struct poll_call {
  gwt_response r;
  pthread_t thread;
} poll_call;

static void *poll_main(void *arg) {
  poll_call *p = arg;
  p->r = gwt_sfn("GetActivityTask", "{\"activityArn\":\"" ACT "greet\","
                                    "\"workerName\":\"w1\"}");
  return NULL;
}

Test(gateway_sfn_activities, a_waiting_poll_gets_work_and_the_token_answers) {
  gwt_sfn_start(NULL);
  json_decref(gwt_sfn_ok(gwt_sfn("CreateActivity", "{\"name\":\"greet\"}")));
  create_machine();
  poll_call p;
  cr_assert_eq(pthread_create(&p.thread, NULL, poll_main, &p), 0);
  /* The poll holds no HTTP thread: other requests are answered. */
  for (int i = 0; i < 8; i++)
    json_decref(gwt_sfn_ok(gwt_sfn("ListActivities", "{}")));
  json_t *x = gwt_sfn_ok(gwt_sfn(
      "StartExecution", "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
                        "g\",\"input\":\"{\\\"name\\\":\\\"Ada\\\"}\"}"));
  const char *arn = json_string_value(json_object_get(x, "executionArn"));
  pthread_join(p.thread, NULL);
  json_t *task = gwt_sfn_ok(p.r);
  const char *token = json_string_value(json_object_get(task, "taskToken"));
  cr_assert_not_null(token);
  wft_assert_json(json_string_value(json_object_get(task, "input")),
                  "{\"name\":\"Ada\"}");
  json_decref(gwt_sfn_ok(gwt_sfn("SendTaskHeartbeat",
                                 "{\"taskToken\":\"%s\"}", token)));
  json_decref(gwt_sfn_ok(gwt_sfn("SendTaskSuccess",
                                 "{\"taskToken\":\"%s\",\"output\":"
                                 "\"{\\\"ok\\\":1}\"}", token)));
  expect(gwt_sfn("SendTaskSuccess",
                 "{\"taskToken\":\"%s\",\"output\":\"{}\"}", token),
         "TaskTimedOut", NULL);
  json_t *done = gwt_sfn_wait(arn);
  cr_assert_str_eq(json_string_value(json_object_get(done, "status")),
                   "SUCCEEDED");
  wft_assert_json(json_string_value(json_object_get(done, "output")),
                  "{\"ok\":1}");
  json_decref(done);
  json_t *h = gwt_sfn_ok(gwt_sfn("GetExecutionHistory",
                                 "{\"executionArn\":\"%s\"}", arn));
  char *text = json_dumps(h, JSON_COMPACT);
  cr_assert(strstr(text, "\"activityStartedEventDetails\":{\"workerName\":"
                         "\"w1\"}"), "%s", text);
  free(text);
  json_decref(h);
  json_decref(task);
  json_decref(x);
  gwt_finish();
}

static char *start_greet(const char *input) {
  json_t *x = gwt_sfn_ok(gwt_sfn_obj(
      "StartExecution", json_pack("{s:s, s:s}", "stateMachineArn",
                                  GWT_MACHINE_ARN "g", "input", input)));
  char *arn = strdup(json_string_value(json_object_get(x, "executionArn")));
  json_decref(x);
  return arn;
}

/* A task of the activity (one is queued): its token; *input its input. */
static char *take(char **input) {
  json_t *t = gwt_sfn_ok(gwt_sfn("GetActivityTask",
                                 "{\"activityArn\":\"" ACT "greet\"}"));
  const char *token = json_string_value(json_object_get(t, "taskToken"));
  cr_assert_not_null(token, "no task was queued");
  char *out = strdup(token);
  *input = strdup(json_string_value(json_object_get(t, "input")));
  json_decref(t);
  return out;
}

static void answer(const char *token, const char *output) {
  json_decref(gwt_sfn_ok(gwt_sfn_obj(
      "SendTaskSuccess",
      json_pack("{s:s, s:s}", "taskToken", token, "output", output))));
}

static void assert_output(const char *arn, const char *output) {
  json_t *d = gwt_sfn_wait(arn);
  cr_assert_str_eq(json_string_value(json_object_get(d, "status")),
                   "SUCCEEDED");
  wft_assert_json(json_string_value(json_object_get(d, "output")), output);
  json_decref(d);
}

Test(gateway_sfn_activities, queued_and_taken_tasks_survive_a_restart) {
  gwt_sfn_start("store: {sqlite: @DIR@/store.db}\n");
  json_decref(gwt_sfn_ok(gwt_sfn("CreateActivity", "{\"name\":\"greet\"}")));
  create_machine();
  char *first = start_greet("{\"n\":1}");
  char *second = start_greet("{\"n\":2}");
  char *input;
  char *token = take(&input);
  wft_assert_json(input, "{\"n\":1}");
  free(input);
  int status = 0;
  cr_assert(gwt_restart(&gwt_srv, SIGKILL, &status),
            "the gateway did not start again");
  json_decref(gwt_sfn_ok(gwt_sfn("DescribeActivity",
                                 "{\"activityArn\":\"" ACT "greet\"}")));
  /* The queued task is handed out again, the taken one is not. */
  char *token2 = take(&input);
  wft_assert_json(input, "{\"n\":2}");
  free(input);
  answer(token2, "{\"r\":2}");
  answer(token, "{\"r\":1}");
  assert_output(first, "{\"r\":1}");
  assert_output(second, "{\"r\":2}");
  free(token);
  free(token2);
  free(first);
  free(second);
  gwt_finish();
}

/* `aws stepfunctions ARGS` against the gateway: its output (free()); the
 * exit status must be `want`, or 254/255 (an error the service answered)
 * when `want` is -1. */
static char *cli(int want, const char *args) {
  char *cmd = wft_strf("/usr/bin/aws --no-cli-pager --output json "
                       "stepfunctions --endpoint-url http://127.0.0.1:%d %s",
                       gwt_srv.port, args);
  char *out;
  int rc = gwt_shell(&out, cmd);
  if (want == -1)
    cr_assert(rc == 254 || rc == 255, "%s\n%s", cmd, out);
  else
    cr_assert_eq(rc, want, "%s\n%s", cmd, out);
  free(cmd);
  return out;
}

static void cli_expect(int want, const char *args, const char *expect) {
  char *out = cli(want, args);
  cr_assert(strstr(out, expect), "aws stepfunctions %s\nwants %s in:\n%s",
            args, expect, out);
  free(out);
}

Test(gateway_sfn_activities, every_operation_with_boto3_and_the_aws_cli) {
  gwt_sfn_start_for_clients();
  gwt_boto3_script_ok("sfn_activities.py");
  json_t *d = gwt_sfn_wait(GWT_EXEC_ARN "b3:b3-run");
  wft_assert_json(json_string_value(json_object_get(d, "output")),
                  "{\"y\":2}");
  json_decref(d);

  cli_expect(0, "create-activity --name greet", ACT "greet");
  cli_expect(0, "describe-activity --activity-arn " ACT "greet",
             "\"name\": \"greet\"");
  cli_expect(0, "list-activities", ACT "greet");
  cli_expect(-1, "describe-activity --activity-arn " ACT "none",
             "ActivityDoesNotExist");
  cli_expect(-1, "create-activity --name 'a b'", "InvalidName");
  create_machine();
  char *arn = start_greet("{\"name\":\"cli\"}");
  char *out = cli(0, "get-activity-task --worker-name cli --activity-arn " ACT
                     "greet");
  json_t *task = wft_parse(out);
  free(out);
  const char *token = json_string_value(json_object_get(task, "taskToken"));
  cr_assert_not_null(token);
  char *cmd = wft_strf("send-task-heartbeat --task-token %s", token);
  free(cli(0, cmd));
  free(cmd);
  cmd = wft_strf("send-task-success --task-token %s --task-output "
                 "'{\"by\":\"cli\"}'", token);
  free(cli(0, cmd));
  free(cmd);
  json_decref(task);
  assert_output(arn, "{\"by\":\"cli\"}");
  free(arn);
  free(cli(0, "delete-activity --activity-arn " ACT "greet"));
  cli_expect(-1, "get-activity-task --activity-arn " ACT "greet",
             "ActivityDoesNotExist");
  gwt_finish();
}

Test(gateway_sfn_activities, the_boto3_worker_answers_an_execution) {
  gwt_sfn_start_for_clients();
  cli_expect(0, "create-activity --name greet", ACT "greet");
  create_machine();
  char *x1 = start_greet("{\"name\":\"Ada\"}");
  char *x2 = start_greet("{}");
  char *out;
  char *cmd = wft_strf("/usr/bin/python3 %s/examples/activity_worker/worker.py "
                 "--endpoint http://127.0.0.1:%d --activity-arn " ACT "greet "
                 "--max-tasks 2",
                 WF_SOURCE_DIR, gwt_srv.port);
  cr_assert_eq(gwt_shell(&out, cmd), 0, "%s\n%s", cmd, out);
  free(out);
  free(cmd);
  assert_output(x1, "{\"greeting\":\"Hello, Ada!\"}");
  json_t *d2 = gwt_sfn_wait(x2);
  cr_assert_str_eq(json_string_value(json_object_get(d2, "status")), "FAILED");
  cr_assert_str_eq(json_string_value(json_object_get(d2, "error")),
                   "ValueError");
  json_decref(d2);
  free(x1);
  free(x2);
  gwt_finish();
}
