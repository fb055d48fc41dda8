/* wf-gateway's RedriveExecution through the AWS JSON API (AWS's API
 * reference, RedriveExecution; the developer guide, "Redriving
 * executions"): a failed Map redriven reruns only its failed iterations;
 * DescribeExecution's redriveCount, redriveDate, redriveStatus and
 * redriveStatusReason; ListExecutions' redriveFilter; the clientToken
 * answered again; ExecutionNotRedrivable (a machine being deleted
 * included), ExecutionDoesNotExist, InvalidArn and ValidationException
 * with AWS's messages; then the AWS
 * CLI and boto3 calling redrive-execution. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfn_support.h"
#include "support.h"

TestSuite(gateway_sfn_redrive, .fini = gwt_fini, .timeout = 120);

/* Odd items fail until the execution is redriven: each iteration reads
 * $$.Execution.RedriveCount when it runs. */
#define ODD_MAP                                                              \
  "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\","                \
  "\"MaxConcurrency\":1,\"ItemsPath\":\"$.items\",\"ItemProcessor\":{"      \
  "\"ProcessorConfig\":{\"Mode\":\"INLINE\"},\"StartAt\":\"Read\","          \
  "\"States\":{\"Read\":{\"Type\":\"Pass\",\"Parameters\":{"                 \
  "\"n.$\":\"$.n\",\"odd.$\":\"$.odd\","                                     \
  "\"rc.$\":\"$$.Execution.RedriveCount\"},\"Next\":\"C\"},"                 \
  "\"C\":{\"Type\":\"Choice\",\"Choices\":[{\"And\":["                       \
  "{\"Variable\":\"$.rc\",\"NumericEquals\":0},"                             \
  "{\"Variable\":\"$.odd\",\"BooleanEquals\":true}],\"Next\":\"F\"}],"       \
  "\"Default\":\"P\"},"                                                      \
  "\"F\":{\"Type\":\"Fail\",\"Error\":\"Odd\",\"Cause\":\"not yet\"},"       \
  "\"P\":{\"Type\":\"Pass\",\"End\":true}}},\"End\":true}}}"
#define ODD_INPUT                                                           \
  "{\"items\":[{\"n\":0,\"odd\":false},{\"n\":1,\"odd\":true},"             \
  "{\"n\":2,\"odd\":false}]}"

static void create_machine(const char *name) {
  json_t *b = json_pack("{s:s, s:s, s:s}", "name", name, "definition",
                        ODD_MAP, "roleArn", GWT_ROLE);
  json_decref(gwt_sfn_ok(gwt_sfn_obj("CreateStateMachine", b)));
}

/* A failed execution of the machine `name`: its ARN (free()). */
static char *failed_run(const char *name, const char *run) {
  json_t *b = json_pack("{s:s, s:s, s:s}", "stateMachineArn", name, "name",
                        run, "input", ODD_INPUT);
  json_t *o = gwt_sfn_ok(gwt_sfn_obj("StartExecution", b));
  char *arn = strdup(json_string_value(json_object_get(o, "executionArn")));
  json_decref(o);
  json_t *x = gwt_sfn_wait(arn);
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")), "FAILED");
  json_decref(x);
  return arn;
}

static json_t *describe(const char *arn) {
  return gwt_sfn_ok(gwt_sfn("DescribeExecution", "{\"executionArn\":\"%s\"}",
                            arn));
}

static const char *member(const json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

static gwt_response redrive(const char *arn, const char *token) {
  json_t *b = json_pack("{s:s}", "executionArn", arn);
  if (token) json_object_set_new(b, "clientToken", json_string(token));
  return gwt_sfn_obj("RedriveExecution", b);
}

/* The names ListExecutions gives for the machine with `filter`. */
static char *listed(const char *machine, const char *filter) {
  json_t *o = gwt_sfn_ok(gwt_sfn(
      "ListExecutions", "{\"stateMachineArn\":\"%s\",\"redriveFilter\":\"%s\"}",
      machine, filter));
  char *names = calloc(1, 256);
  size_t i;
  json_t *x;
  json_array_foreach(json_object_get(o, "executions"), i, x) {
    strcat(names, member(x, "name"));
    strcat(names, " ");
  }
  json_decref(o);
  return names;
}

Test(gateway_sfn_redrive, redrives_a_failed_map_and_describes_it) {
  gwt_sfn_start(NULL);
  create_machine("odd");
  const char *machine = GWT_MACHINE_ARN "odd";
  char *arn = failed_run(machine, "first");
  char *other = failed_run(machine, "second");
  json_t *x = describe(arn);
  cr_assert_str_eq(member(x, "error"), "Odd");
  cr_assert_str_eq(member(x, "redriveStatus"), "REDRIVABLE");
  cr_assert_null(json_object_get(x, "redriveStatusReason"));
  cr_assert_eq(json_integer_value(json_object_get(x, "redriveCount")), 0);
  cr_assert_null(json_object_get(x, "redriveDate"));
  json_decref(x);

  gwt_response r = redrive(arn, "token-1");
  cr_assert_eq(r.status, 200, "%s", r.body);
  double date = json_real_value(json_object_get(r.json, "redriveDate"));
  cr_assert_gt(date, 1e9, "%s", r.body);
  cr_assert_eq(json_object_size(r.json), 1, "%s", r.body);
  gwt_response_free(&r);
  x = gwt_sfn_wait(arn);
  cr_assert_str_eq(member(x, "status"), "SUCCEEDED", "%s",
                   json_dumps(x, 0));
  json_t *out = json_loads(member(x, "output"), 0, NULL);
  cr_assert_eq(json_array_size(out), 3);
  json_decref(out);
  cr_assert_eq(json_integer_value(json_object_get(x, "redriveCount")), 1);
  cr_assert_eq(json_real_value(json_object_get(x, "redriveDate")), date);
  cr_assert_str_eq(member(x, "redriveStatus"), "NOT_REDRIVABLE");
  cr_assert_str_eq(member(x, "redriveStatusReason"),
                   "Execution is SUCCEEDED and cannot be redriven");
  json_decref(x);

  /* The history goes on: ExecutionRedriven, then items 1 and 2. */
  json_t *h = gwt_sfn_ok(gwt_sfn("GetExecutionHistory",
                                 "{\"executionArn\":\"%s\",\"maxResults\":"
                                 "1000}",
                                 arn));
  json_t *events = json_object_get(h, "events");
  size_t i, redriven = 0, iterations = 0;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    cr_assert_eq(json_integer_value(json_object_get(ev, "id")),
                 (json_int_t)i + 1);
    if (strcmp(member(ev, "type"), "ExecutionRedriven") == 0) {
      redriven = i + 1;
      cr_assert_eq(json_integer_value(json_object_get(
                       json_object_get(ev, "executionRedrivenEventDetails"),
                       "redriveCount")),
                   1);
    } else if (redriven &&
               strcmp(member(ev, "type"), "MapIterationStarted") == 0) {
      iterations++;
      /* Item 0 succeeded: it is not run again. */
      cr_assert_neq(json_integer_value(json_object_get(
                        json_object_get(ev, "mapIterationStartedEventDetails"),
                        "index")),
                    0);
    }
  }
  cr_assert(redriven, "no ExecutionRedriven");
  /* Item 1 failed, item 2 had not started (MaxConcurrency 1). */
  cr_assert_eq(iterations, 2, "items rerun: %zu", iterations);
  json_decref(h);

  /* The same token: the same answer, and no second redrive. */
  r = redrive(arn, "token-1");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(json_real_value(json_object_get(r.json, "redriveDate")), date);
  gwt_response_free(&r);
  r = redrive(arn, "token-2");
  gwt_expect_error(&r, "ExecutionNotRedrivable",
                   "Execution is SUCCEEDED and cannot be redriven");
  gwt_response_free(&r);

  char *names = listed(machine, "REDRIVEN");
  cr_assert_str_eq(names, "first ");
  free(names);
  names = listed(machine, "NOT_REDRIVEN");
  cr_assert_str_eq(names, "second ");
  free(names);
  free(other);
  free(arn);
}

Test(gateway_sfn_redrive, refuses_as_aws_does) {
  gwt_sfn_start(NULL);
  gwt_response r = gwt_sfn("RedriveExecution", "{}");
  gwt_expect_error(&r, "ValidationException", "executionArn");
  gwt_response_free(&r);
  r = redrive("arn:aws:states:us-east-1:123456789012:nothing", NULL);
  gwt_expect_error(&r, "InvalidArn", "Invalid Arn");
  gwt_response_free(&r);
  r = redrive(GWT_EXEC_ARN "hello:none", NULL);
  gwt_expect_error(&r, "ExecutionDoesNotExist",
                   "Execution Does Not Exist: '" GWT_EXEC_ARN "hello:none'");
  gwt_response_free(&r);
  /* Succeeded. */
  json_t *o = gwt_sfn_ok(gwt_sfn(
      "StartExecution", "{\"stateMachineArn\":\"%shello\",\"name\":\"ok\"}",
      GWT_MACHINE_ARN));
  json_decref(o);
  json_t *x = gwt_sfn_wait(GWT_EXEC_ARN "hello:ok");
  cr_assert_str_eq(member(x, "redriveStatus"), "NOT_REDRIVABLE");
  json_decref(x);
  r = redrive(GWT_EXEC_ARN "hello:ok", NULL);
  gwt_expect_error(&r, "ExecutionNotRedrivable",
                   "Execution is SUCCEEDED and cannot be redriven");
  gwt_response_free(&r);
}

/* `python3 -m awscli stepfunctions ARGS` (AWS CLI v1, which has
 * redrive-execution; Debian's 2.9.19 predates it): its output, which must
 * hold `expect`. */
static void cli(const char *args, const char *expect) {
  char *cmd = wft_strf("python3 -m awscli stepfunctions --endpoint-url "
                       "http://127.0.0.1:%d --output json %s",
                       gwt_srv.port, args);
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert(strstr(out, expect), "%s (exit %d)\nwants %s in:\n%s", cmd, rc,
            expect, out);
  free(out);
  free(cmd);
}

Test(gateway_sfn_redrive, aws_cli_and_boto3_redrive) {
  if (!gwt_python_where("import awscli, boto3, sys; sys.exit(not hasattr("
                        "boto3.client(\"stepfunctions\", region_name="
                        "\"us-east-1\"), \"redrive_execution\"))"))
    cr_skip_test("no AWS CLI and boto3 with redrive-execution here (Debian "
                 "12's AWS CLI 2.9.19 and boto3 1.26.27 predate it)");
  gwt_sfn_start(NULL); /* the clients sign; unchecked here */
  gwt_client_env();
  create_machine("odd");
  char *arn = failed_run(GWT_MACHINE_ARN "odd", "by-cli");
  char *args = wft_strf("redrive-execution --execution-arn %s", arn);
  cli(args, "\"redriveDate\"");
  json_t *x = gwt_sfn_wait(arn);
  cr_assert_str_eq(member(x, "status"), "SUCCEEDED");
  json_decref(x);
  cli(args, "ExecutionNotRedrivable");
  free(args);
  args = wft_strf("describe-execution --execution-arn %s", arn);
  cli(args, "\"redriveCount\": 1");
  free(args);
  free(arn);

  arn = failed_run(GWT_MACHINE_ARN "odd", "by-boto3");
  char *cmd = wft_strf("python3 %s/tests/support/sfn_redrive.py %d %s",
                       WF_SOURCE_DIR, gwt_srv.port, arn);
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert(rc == 0 && strstr(out, "OK"), "%s\n%s", cmd, out);
  free(out);
  free(cmd);
  free(arn);
}

Test(gateway_sfn_redrive, not_while_its_machine_is_deleted) {
  gwt_sfn_start(NULL);
  json_t *b = json_pack(
      "{s:s, s:s, s:s}", "name", "going", "roleArn", GWT_ROLE, "definition",
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":"
      "[{\"Variable\":\"$.fail\",\"IsPresent\":true,\"Next\":\"F\"}],"
      "\"Default\":\"W\"},\"F\":{\"Type\":\"Fail\",\"Error\":\"E\"},"
      "\"W\":{\"Type\":\"Wait\",\"Seconds\":2,\"End\":true}}}");
  json_decref(gwt_sfn_ok(gwt_sfn_obj("CreateStateMachine", b)));
  json_decref(gwt_sfn_ok(gwt_sfn(
      "StartExecution",
      "{\"stateMachineArn\":\"%sgoing\",\"name\":\"bad\",\"input\":"
      "\"{\\\"fail\\\":1}\"}",
      GWT_MACHINE_ARN)));
  json_decref(gwt_sfn_wait(GWT_EXEC_ARN "going:bad"));
  json_decref(gwt_sfn_ok(gwt_sfn(
      "StartExecution", "{\"stateMachineArn\":\"%sgoing\",\"name\":\"slow\"}",
      GWT_MACHINE_ARN)));
  /* Deleting waits for "slow"; meanwhile "bad" may not be redriven. */
  json_decref(gwt_sfn_ok(gwt_sfn(
      "DeleteStateMachine", "{\"stateMachineArn\":\"%sgoing\"}",
      GWT_MACHINE_ARN)));
  json_t *x = describe(GWT_EXEC_ARN "going:bad");
  cr_assert_str_eq(member(x, "redriveStatus"), "NOT_REDRIVABLE");
  cr_assert_str_eq(member(x, "redriveStatusReason"),
                   "State machine is in DELETING status");
  json_decref(x);
  gwt_response r = redrive(GWT_EXEC_ARN "going:bad", NULL);
  gwt_expect_error(&r, "ExecutionNotRedrivable",
                   "State machine is in DELETING status");
  gwt_response_free(&r);
}
