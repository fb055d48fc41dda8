/* Map Runs through wf-gateway's AWS JSON API: ListMapRuns, DescribeMapRun
 * and UpdateMapRun (a running Map Run widened, then aborted by
 * StopExecution), a Distributed Map reading its items from and writing its
 * results to the gateway's objectStore, AWS's errors (InvalidArn,
 * ResourceNotFound, ExecutionDoesNotExist, ValidationException), a child
 * redriven with its parent (its history going on, redriveCount,
 * redriveFilter); then the AWS CLI and boto3 (tests/support/sfn_map_runs.py,
 * sfn_map_run_redrive.py) calling them. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "objstore_support.h"
#include "sfn_support.h"
#include "support.h"

static wfo_root root;

/* The gateway stopped and the store removed, even after a failed
 * assertion. */
static void fini(void) {
  gwt_fini();
  if (root.path[0]) wfo_root_free(&root);
}

TestSuite(gateway_sfn_map_runs, .fini = fini, .timeout = 120);

#define WAIT_RESOURCE "arn:aws:lambda:us-east-1:123456789012:function:wait"

/* Children that wait for a token nobody sends (aws.callbackResources). */
#define WAITING_MAP                                                       \
  "{\"StartAt\":\"Fan\",\"States\":{\"Fan\":{\"Type\":\"Map\","          \
  "\"Label\":\"Fan\",\"MaxConcurrency\":1,\"ItemProcessor\":{"            \
  "\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":"      \
  "\"STANDARD\"},\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Task\"," \
  "\"Resource\":\"" WAIT_RESOURCE "\",\"End\":true}}},\"End\":true}}}"

/* Items from s3://data/items.json, results to s3://data/out/. */
#define DATA_MAP                                                          \
  "{\"StartAt\":\"Copy\",\"States\":{\"Copy\":{\"Type\":\"Map\","        \
  "\"ItemReader\":{\"Resource\":\"arn:aws:states:::s3:getObject\","       \
  "\"ReaderConfig\":{\"InputType\":\"JSON\"},\"Parameters\":{"            \
  "\"Bucket\":\"data\",\"Key\":\"items.json\"}},\"ResultWriter\":{"       \
  "\"Resource\":\"arn:aws:states:::s3:putObject\",\"Parameters\":{"       \
  "\"Bucket\":\"data\",\"Prefix\":\"out\"}},\"ItemProcessor\":{"          \
  "\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":"      \
  "\"EXPRESS\"},\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","  \
  "\"End\":true}}},\"End\":true}}}"

static void start(void) {
  wfo_root_init(&root);
  wfo_mkdir(&root, "data");
  wfo_puts(&root, "data/items.json", "[{\"n\":1},{\"n\":2}]");
  char *extra = wft_strf("objectStore: {root: %s}\n"
                         "aws: {callbackResources: [\"" WAIT_RESOURCE "\"]}\n",
                         root.path);
  gwt_sfn_start(extra);
  free(extra);
}

static void finish(void) { gwt_finish(); }

static char *start_execution(const char *machine, const char *def,
                             const char *input) {
  json_decref(gwt_sfn_ok(gwt_sfn_obj(
      "CreateStateMachine", json_pack("{s:s, s:s, s:s}", "name", machine,
                                      "definition", def, "roleArn",
                                      GWT_ROLE))));
  char *m = wft_strf(GWT_MACHINE_ARN "%s", machine);
  json_t *o = gwt_sfn_ok(gwt_sfn_obj(
      "StartExecution",
      json_pack("{s:s, s:s}", "stateMachineArn", m, "input", input)));
  free(m);
  char *arn = strdup(json_string_value(json_object_get(o, "executionArn")));
  json_decref(o);
  return arn;
}

/* The execution's one Map Run, once it is listed (new, free()). */
static char *map_run_of(const char *exec) {
  for (int i = 0; i < 400; i++) {
    json_t *l = gwt_sfn_ok(
        gwt_sfn("ListMapRuns", "{\"executionArn\":\"%s\"}", exec));
    json_t *runs = json_object_get(l, "mapRuns");
    if (json_array_size(runs)) {
      json_t *r = json_array_get(runs, 0);
      cr_assert_eq(json_array_size(runs), 1);
      cr_assert_str_eq(json_string_value(json_object_get(r, "executionArn")),
                       exec);
      cr_assert(json_is_number(json_object_get(r, "startDate")));
      char *arn = strdup(json_string_value(json_object_get(r, "mapRunArn")));
      json_decref(l);
      return arn;
    }
    json_decref(l);
    usleep(10000);
  }
  cr_assert_fail("no Map Run listed for %s", exec);
  return NULL;
}

static json_t *describe(const char *arn) {
  return gwt_sfn_ok(gwt_sfn("DescribeMapRun", "{\"mapRunArn\":\"%s\"}", arn));
}

static json_int_t executions(const json_t *d, const char *key) {
  return json_integer_value(
      json_object_get(json_object_get(d, "executionCounts"), key));
}

/* DescribeMapRun until `key` of its executionCounts is n. */
static json_t *describe_until(const char *arn, const char *key, int n) {
  for (int i = 0; i < 400; i++) {
    json_t *d = describe(arn);
    if (executions(d, key) == n) return d;
    json_decref(d);
    usleep(10000);
  }
  cr_assert_fail("executionCounts.%s never reached %d", key, n);
  return NULL;
}

Test(gateway_sfn_map_runs, a_running_map_run_is_described_and_updated) {
  start();
  char *exec = start_execution("fanout", WAITING_MAP, "[1,2,3]");
  char *run = map_run_of(exec);
  cr_assert_not_null(strstr(run, ":123456789012:mapRun:fanout/Fan:"), "%s",
                     run);
  json_t *d = describe_until(run, "running", 1);
  cr_assert_str_eq(json_string_value(json_object_get(d, "status")), "RUNNING");
  cr_assert_str_eq(json_string_value(json_object_get(d, "executionArn")), exec);
  cr_assert_str_eq(json_string_value(json_object_get(d, "mapRunArn")), run);
  cr_assert_eq(json_integer_value(json_object_get(d, "maxConcurrency")), 1);
  cr_assert_eq(executions(d, "pending"), 2);
  cr_assert_eq(executions(d, "total"), 3);
  cr_assert_null(json_object_get(d, "stopDate"));
  cr_assert_eq(json_object_size(json_object_get(d, "itemCounts")), 10);
  json_decref(d);
  json_decref(gwt_sfn_ok(gwt_sfn(
      "UpdateMapRun", "{\"mapRunArn\":\"%s\",\"maxConcurrency\":3,"
                      "\"toleratedFailureCount\":2,"
                      "\"toleratedFailurePercentage\":50.5}",
      run)));
  d = describe_until(run, "running", 3);
  cr_assert_eq(json_integer_value(json_object_get(d, "maxConcurrency")), 3);
  cr_assert_eq(json_integer_value(json_object_get(d, "toleratedFailureCount")),
               2);
  cr_assert_eq(
      json_real_value(json_object_get(d, "toleratedFailurePercentage")), 50.5);
  json_decref(d);
  json_decref(gwt_sfn_ok(
      gwt_sfn("StopExecution", "{\"executionArn\":\"%s\"}", exec)));
  d = describe_until(run, "aborted", 3);
  cr_assert_str_eq(json_string_value(json_object_get(d, "status")), "ABORTED");
  cr_assert(json_is_number(json_object_get(d, "stopDate")));
  json_decref(d);
  free(run);
  free(exec);
  finish();
}

Test(gateway_sfn_map_runs, items_and_results_in_the_object_store) {
  start();
  char *exec = start_execution("copy", DATA_MAP, "{}");
  json_t *x = gwt_sfn_wait(exec);
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")),
                   "SUCCEEDED", "%s",
                   json_string_value(json_object_get(x, "cause")));
  json_t *out = json_loads(json_string_value(json_object_get(x, "output")), 0,
                           NULL);
  const char *run = json_string_value(json_object_get(out, "MapRunArn"));
  const char *key = json_string_value(
      json_object_get(json_object_get(out, "ResultWriterDetails"), "Key"));
  char *want = wft_strf("out/%s/manifest.json", strrchr(run, ':') + 1);
  cr_assert_str_eq(key, want);
  free(want);
  char *rel = wft_strf("data/%s", key);
  char *manifest = wfo_get(&root, rel);
  cr_assert_not_null(manifest);
  cr_assert_not_null(strstr(manifest, run));
  free(manifest);
  free(rel);
  json_t *d = describe(run);
  cr_assert_str_eq(json_string_value(json_object_get(d, "status")),
                   "SUCCEEDED");
  cr_assert_eq(executions(d, "succeeded"), 2);
  cr_assert_eq(executions(d, "resultsWritten"), 2);
  json_decref(d);
  json_decref(out);
  json_decref(x);
  free(exec);
  finish();
}

static void expect(gwt_response r, const char *type, const char *message) {
  gwt_expect_error(&r, type, message);
  gwt_response_free(&r);
}

#define RUN_ARN "arn:aws:states:us-east-1:123456789012:mapRun:m/Fan:" \
                "0f3bd8f0-7f2c-4c4e-a6b3-9d2b1e0c9a11"

Test(gateway_sfn_map_runs, errors_as_aws_answers_them) {
  start();
  expect(gwt_sfn("DescribeMapRun", "{\"mapRunArn\":\"" RUN_ARN "\"}"),
         "ResourceNotFound",
         "Request references a resource that does not exist.");
  expect(gwt_sfn("UpdateMapRun",
                 "{\"mapRunArn\":\"" RUN_ARN "\",\"maxConcurrency\":2}"),
         "ResourceNotFound",
         "Request references a resource that does not exist.");
  expect(gwt_sfn("DescribeMapRun",
                 "{\"mapRunArn\":\"" GWT_EXEC_ARN "m:x\"}"),
         "InvalidArn",
         "Invalid Arn: 'Resource type not valid in this context: execution'");
  expect(gwt_sfn("DescribeMapRun", "{\"mapRunArn\":\"nope\"}"), "InvalidArn",
         "Invalid Arn: 'Invalid ARN prefix: nope'");
  expect(gwt_sfn("DescribeMapRun", "{}"), "ValidationException",
         "at 'mapRunArn'");
  expect(gwt_sfn("UpdateMapRun", "{\"mapRunArn\":\"" RUN_ARN "\","
                                 "\"maxConcurrency\":-1}"),
         "ValidationException", "at 'maxConcurrency'");
  expect(gwt_sfn("UpdateMapRun", "{\"mapRunArn\":\"" RUN_ARN "\","
                                 "\"toleratedFailurePercentage\":101}"),
         "ValidationException",
         "Member must have value less than or equal to 100");
  expect(gwt_sfn("ListMapRuns",
                 "{\"executionArn\":\"" GWT_EXEC_ARN "m:ghost\"}"),
         "ExecutionDoesNotExist",
         "Execution Does Not Exist: '" GWT_EXEC_ARN "m:ghost'");
  expect(gwt_sfn("ListMapRuns", "{}"), "ValidationException",
         "at 'executionArn'");
  finish();
}

/* ListExecutions with `body` (freed). */
static json_t *list_children(char *body) {
  json_t *o = gwt_sfn_ok(gwt_sfn("ListExecutions", "%s", body));
  free(body);
  return o;
}

static const char *str(const json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

Test(gateway_sfn_map_runs, child_executions_are_listed_and_described) {
  start();
  char *exec = start_execution("copy", DATA_MAP, "{}");
  json_t *x = gwt_sfn_wait(exec);
  json_t *out = json_loads(str(x, "output"), 0, NULL);
  const char *run = str(out, "MapRunArn");
  cr_assert_not_null(run, "%s", str(x, "output"));
  json_t *l = list_children(wft_strf("{\"mapRunArn\":\"%s\"}", run));
  json_t *items = json_object_get(l, "executions");
  cr_assert_eq(json_array_size(items), 2, "%s", json_dumps(l, 0));
  cr_assert_null(json_object_get(l, "nextToken"));
  char *prefix = wft_strf("%.*s:execution:copy/Copy:",
                          (int)(strstr(run, ":mapRun:") - run), run);
  for (size_t i = 0; i < 2; i++) {
    json_t *k = json_array_get(items, i);
    cr_assert_eq(strncmp(str(k, "executionArn"), prefix, strlen(prefix)), 0,
                 "%s", str(k, "executionArn"));
    cr_assert_str_eq(str(k, "executionArn") + strlen(prefix), str(k, "name"));
    cr_assert_str_eq(str(k, "mapRunArn"), run);
    cr_assert_str_eq(str(k, "status"), "SUCCEEDED");
    cr_assert_str_eq(str(k, "stateMachineArn"),
                     GWT_MACHINE_ARN "copy/Copy");
    cr_assert_eq(json_integer_value(json_object_get(k, "itemCount")), 1);
    cr_assert(json_is_number(json_object_get(k, "startDate")));
    cr_assert(json_is_number(json_object_get(k, "stopDate")));
  }
  /* The ResultWriter's records name the same children. */
  char *rel = wft_strf("data/out/%s/SUCCEEDED_0.json", strrchr(run, ':') + 1);
  char *written = wfo_get(&root, rel);
  cr_assert_not_null(written);
  for (size_t i = 0; i < 2; i++)
    cr_assert_not_null(
        strstr(written, str(json_array_get(items, i), "executionArn")),
        "%s", written);
  /* Newest first: the second item's child, then the first's. */
  json_t *d = gwt_sfn_ok(gwt_sfn(
      "DescribeExecution", "{\"executionArn\":\"%s\"}",
      str(json_array_get(items, 0), "executionArn")));
  cr_assert_str_eq(str(d, "input"), "{\"n\":2}");
  cr_assert_str_eq(str(d, "output"), "{\"n\":2}");
  cr_assert_str_eq(str(d, "mapRunArn"), run);
  cr_assert_str_eq(str(d, "status"), "SUCCEEDED");
  cr_assert_str_eq(str(d, "redriveStatus"), "NOT_REDRIVABLE");
  cr_assert_null(json_object_get(d, "itemCount"));
  json_decref(d);
  d = gwt_sfn_ok(gwt_sfn("DescribeExecution",
                         "{\"executionArn\":\"%s\",\"includedData\":"
                         "\"METADATA_ONLY\"}",
                         str(json_array_get(items, 1), "executionArn")));
  cr_assert_null(json_object_get(d, "input"));
  cr_assert_null(json_object_get(d, "output"));
  cr_assert_eq(json_is_false(json_object_get(
                   json_object_get(d, "inputDetails"), "included")),
               1);
  json_decref(d);
  /* A page of one, then the next by its token. */
  json_t *p1 = list_children(wft_strf("{\"mapRunArn\":\"%s\","
                                      "\"maxResults\":1}", run));
  const char *token = str(p1, "nextToken");
  cr_assert_not_null(token);
  cr_assert_eq(json_array_size(json_object_get(p1, "executions")), 1);
  json_t *p2 = list_children(wft_strf("{\"mapRunArn\":\"%s\","
                                      "\"maxResults\":1,\"nextToken\":"
                                      "\"%s\"}", run, token));
  cr_assert_eq(json_array_size(json_object_get(p2, "executions")), 1);
  cr_assert_null(json_object_get(p2, "nextToken"));
  cr_assert_str_eq(
      str(json_array_get(json_object_get(p2, "executions"), 0), "name"),
      str(json_array_get(items, 1), "name"));
  json_t *none = list_children(wft_strf(
      "{\"mapRunArn\":\"%s\",\"statusFilter\":\"FAILED\"}", run));
  cr_assert_eq(json_array_size(json_object_get(none, "executions")), 0);
  json_decref(none);
  json_decref(p1);
  json_decref(p2);
  free(written);
  free(rel);
  free(prefix);
  json_decref(l);
  json_decref(out);
  json_decref(x);
  free(exec);
  finish();
}

Test(gateway_sfn_map_runs, child_execution_errors) {
  start();
  expect(gwt_sfn("ListExecutions", "{\"mapRunArn\":\"" RUN_ARN "\"}"),
         "ResourceNotFound",
         "Request references a resource that does not exist.");
  expect(gwt_sfn("ListExecutions", "{\"mapRunArn\":\"nope\"}"),
         "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: nope'");
  expect(gwt_sfn("ListExecutions",
                 "{\"mapRunArn\":\"" GWT_EXEC_ARN "m:x\"}"),
         "InvalidArn",
         "Invalid Arn: 'Resource type not valid in this context: execution'");
  expect(gwt_sfn("ListExecutions", "{\"mapRunArn\":\"" RUN_ARN "\","
                                   "\"stateMachineArn\":\"" GWT_MACHINE_ARN
                                   "m\"}"),
         "ValidationException", "not both");
  expect(gwt_sfn("DescribeExecution",
                 "{\"executionArn\":\"" GWT_EXEC_ARN
                 "m/Fan:0f3bd8f0-7f2c-4c4e-a6b3-9d2b1e0c9a11\"}"),
         "ExecutionDoesNotExist", "Execution Does Not Exist: '" GWT_EXEC_ARN
                                  "m/Fan:0f3bd8f0-7f2c-4c4e-a6b3-9d2b1e0c9a11'");
  expect(gwt_sfn("GetExecutionHistory",
                 "{\"executionArn\":\"" GWT_EXEC_ARN
                 "m/Fan:0f3bd8f0-7f2c-4c4e-a6b3-9d2b1e0c9a11\"}"),
         "ExecutionDoesNotExist", "Execution Does Not Exist: '" GWT_EXEC_ARN
                                  "m/Fan:0f3bd8f0-7f2c-4c4e-a6b3-9d2b1e0c9a11'");
  expect(gwt_sfn("DescribeStateMachineForExecution",
                 "{\"executionArn\":\"" GWT_EXEC_ARN
                 "m/Fan:0f3bd8f0-7f2c-4c4e-a6b3-9d2b1e0c9a11\"}"),
         "ExecutionDoesNotExist", "Execution Does Not Exist: '" GWT_EXEC_ARN
                                  "m/Fan:0f3bd8f0-7f2c-4c4e-a6b3-9d2b1e0c9a11'");
  finish();
}

/* Children of two Pass states each, STANDARD (histories kept) or
 * EXPRESS (none), on the execution's input. */
#define HISTORY_MAP(type)                                                 \
  "{\"StartAt\":\"Fan\",\"States\":{\"Fan\":{\"Type\":\"Map\","          \
  "\"Label\":\"Each\",\"ItemProcessor\":{\"ProcessorConfig\":{\"Mode\":"  \
  "\"DISTRIBUTED\",\"ExecutionType\":\"" type "\"},\"StartAt\":\"P\","    \
  "\"States\":{\"P\":{\"Type\":\"Pass\",\"Next\":\"Q\"},\"Q\":{\"Type\":" \
  "\"Pass\",\"End\":true}}},\"End\":true}}}"

/* The first child listed (the newest) of `exec`'s Map Run (free()). */
static char *newest_child(const char *exec, char **run) {
  json_t *x = gwt_sfn_wait(exec);
  cr_assert_str_eq(str(x, "status"), "SUCCEEDED");
  json_decref(x);
  *run = map_run_of(exec);
  json_t *l = list_children(wft_strf("{\"mapRunArn\":\"%s\"}", *run));
  char *arn = strdup(
      str(json_array_get(json_object_get(l, "executions"), 0), "executionArn"));
  json_decref(l);
  return arn;
}

/* A page of its history, `more` (taken) the request's other members. */
static json_t *history(const char *arn, char *more) {
  json_t *h = gwt_sfn_ok(gwt_sfn("GetExecutionHistory",
                                 "{\"executionArn\":\"%s\"%s}", arn, more));
  free(more);
  return h;
}

/* The events' ids, "1,2,3". */
static char *ids(const json_t *h) {
  char buf[256] = "";
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(h, "events"), i, e)
      snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%d",
               i ? "," : "", (int)json_integer_value(json_object_get(e, "id")));
  return strdup(buf);
}

static void expect_ids(const json_t *h, const char *want) {
  char *got = ids(h);
  cr_assert_str_eq(got, want);
  free(got);
}

/* Two pages of a child's history: the first asked with `more` (request
 * members), the second with them and its nextToken, and no more. */
static void expect_pages(const char *arn, const char *more, const char *first,
                         const char *second) {
  json_t *h = history(arn, strdup(more));
  expect_ids(h, first);
  char *token = strdup(str(h, "nextToken"));
  json_decref(h);
  h = history(arn, wft_strf("%s,\"nextToken\":\"%s\"", more, token));
  expect_ids(h, second);
  cr_assert_null(json_object_get(h, "nextToken"));
  json_decref(h);
  free(token);
}

Test(gateway_sfn_map_runs, a_child_has_a_history_and_a_machine) {
  start();
  char *exec = start_execution("hist", HISTORY_MAP("STANDARD"), "[1,2]");
  char *run;
  char *child = newest_child(exec, &run);
  json_t *h = history(child, strdup(""));
  expect_ids(h, "1,2,3,4,5,6");
  cr_assert_null(json_object_get(h, "nextToken"));
  const char *want[] = {"ExecutionStarted", "PassStateEntered",
                        "PassStateExited",  "PassStateEntered",
                        "PassStateExited",  "ExecutionSucceeded"};
  json_t *events = json_object_get(h, "events");
  for (size_t i = 0; i < 6; i++)
    cr_assert_str_eq(str(json_array_get(events, i), "type"), want[i]);
  json_t *d = json_object_get(json_array_get(events, 0),
                              "executionStartedEventDetails");
  cr_assert_str_eq(str(d, "input"), "2");
  cr_assert_str_eq(str(d, "roleArn"), GWT_ROLE);
  d = json_object_get(json_array_get(events, 5),
                      "executionSucceededEventDetails");
  cr_assert_str_eq(str(d, "output"), "2");
  cr_assert_eq(json_integer_value(json_object_get(json_array_get(events, 1),
                                                  "previousEventId")),
               1);
  json_decref(h);
  /* Pages of four, oldest first, then newest first; without data. */
  expect_pages(child, ",\"maxResults\":4", "1,2,3,4", "5,6");
  expect_pages(child, ",\"reverseOrder\":true,\"maxResults\":4", "6,5,4,3",
               "2,1");
  h = history(child, strdup(",\"includeExecutionData\":false"));
  d = json_object_get(json_array_get(json_object_get(h, "events"), 0),
                      "executionStartedEventDetails");
  cr_assert_null(json_object_get(d, "input"));
  cr_assert_not_null(json_object_get(d, "inputDetails"));
  json_decref(h);

  /* Its machine's executions are the parent alone (a child is listed by
   * its Map Run only, as on AWS). */
  json_t *all = gwt_sfn_ok(gwt_sfn("ListExecutions",
                                   "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
                                   "hist\"}"));
  cr_assert_eq(json_array_size(json_object_get(all, "executions")), 1);
  cr_assert_str_eq(
      str(json_array_get(json_object_get(all, "executions"), 0),
          "executionArn"),
      exec);
  json_decref(all);

  /* The state machine its Map Run runs: the ItemProcessor. */
  json_t *m = gwt_sfn_ok(gwt_sfn("DescribeStateMachineForExecution",
                                 "{\"executionArn\":\"%s\"}", child));
  cr_assert_str_eq(str(m, "stateMachineArn"), GWT_MACHINE_ARN "hist/Each");
  cr_assert_str_eq(str(m, "name"), "hist/Each");
  cr_assert_str_eq(str(m, "mapRunArn"), run);
  cr_assert_str_eq(str(m, "label"), "Each");
  cr_assert_str_eq(str(m, "roleArn"), GWT_ROLE);
  cr_assert(json_is_number(json_object_get(m, "updateDate")));
  json_t *def = json_loads(str(m, "definition"), 0, NULL);
  cr_assert_str_eq(str(def, "StartAt"), "P");
  cr_assert_null(json_object_get(def, "ProcessorConfig"));
  cr_assert_not_null(json_object_get(json_object_get(def, "States"), "Q"));
  json_decref(def);
  json_decref(m);

  /* An EXPRESS child keeps no history, as on AWS. */
  char *quick = start_execution("quick", HISTORY_MAP("EXPRESS"), "[1]");
  char *qrun;
  char *qchild = newest_child(quick, &qrun);
  expect(gwt_sfn("GetExecutionHistory", "{\"executionArn\":\"%s\"}", qchild),
         "ExecutionDoesNotExist", "Execution Does Not Exist");
  m = gwt_sfn_ok(gwt_sfn("DescribeStateMachineForExecution",
                         "{\"executionArn\":\"%s\"}", qchild));
  cr_assert_str_eq(str(m, "label"), "Each");
  json_decref(m);
  free(qchild);
  free(qrun);
  free(quick);
  free(child);
  free(run);
  free(exec);
  finish();
}

/* Children that wait a second each, one at a time, their results written
 * to s3://data/slow/. */
#define SLOW_MAP                                                          \
  "{\"StartAt\":\"Fan\",\"States\":{\"Fan\":{\"Type\":\"Map\","          \
  "\"Label\":\"Fan\",\"MaxConcurrency\":1,\"ResultWriter\":{"             \
  "\"Resource\":\"arn:aws:states:::s3:putObject\",\"Parameters\":{"       \
  "\"Bucket\":\"data\",\"Prefix\":\"slow\"}},\"ItemProcessor\":{"          \
  "\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":"      \
  "\"STANDARD\"},\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","  \
  "\"Seconds\":1,\"End\":true}}},\"End\":true}}}"

static char *list_of(const char *op, const char *member, const char *body) {
  json_t *o = gwt_sfn_ok(gwt_sfn(op, "%s", body));
  char *text = json_dumps(json_object_get(o, member), JSON_SORT_KEYS);
  json_decref(o);
  return text;
}

/* A gateway killed (SIGKILL) while a Map Run runs: started again on the
 * same SQLite store, it lists and describes the run and its children as
 * before, finishes the run, and its ResultWriter writes every child's
 * whole record, those of children started before the kill included. */
Test(gateway_sfn_map_runs, map_runs_survive_a_kill) {
  wfo_root_init(&root);
  wfo_mkdir(&root, "data");
  char *extra = wft_strf("objectStore: {root: %s}\n"
                         "store: {sqlite: @DIR@/store.db}\n", root.path);
  gwt_sfn_start(extra);
  free(extra);
  char *exec = start_execution("slow", SLOW_MAP, "[1,2,3]");
  char *run = map_run_of(exec);
  json_decref(describe_until(run, "running", 1));
  char *by_exec = wft_strf("{\"executionArn\":\"%s\"}", exec);
  char *by_run = wft_strf("{\"mapRunArn\":\"%s\"}", run);
  char *runs = list_of("ListMapRuns", "mapRuns", by_exec);
  int status = 0;
  cr_assert(gwt_restart(&gwt_srv, SIGKILL, &status),
            "the gateway did not start again");
  char *again = list_of("ListMapRuns", "mapRuns", by_exec);
  cr_assert_str_eq(again, runs);
  json_t *d = describe(run);
  cr_assert_str_eq(json_string_value(json_object_get(d, "mapRunArn")), run);
  cr_assert_eq(executions(d, "total"), 3);
  json_decref(d);
  json_t *x = gwt_sfn_wait(exec);
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")),
                   "SUCCEEDED", "%s",
                   json_string_value(json_object_get(x, "cause")));
  d = describe(run);
  cr_assert_str_eq(json_string_value(json_object_get(d, "status")),
                   "SUCCEEDED");
  cr_assert_eq(executions(d, "succeeded"), 3);
  cr_assert_eq(executions(d, "resultsWritten"), 3);
  json_decref(d);
  json_t *l = gwt_sfn_ok(gwt_sfn("ListExecutions", "%s", by_run));
  json_t *kids = json_object_get(l, "executions");
  cr_assert_eq(json_array_size(kids), 3);
  char *rel = wft_strf("data/slow/%s/SUCCEEDED_0.json", strrchr(run, ':') + 1);
  char *written = wfo_get(&root, rel);
  cr_assert_not_null(written);
  json_t *records = json_loads(written, 0, NULL);
  cr_assert_eq(json_array_size(records), 3, "%s", written);
  for (size_t i = 0; i < 3; i++) {
    json_t *k = json_array_get(kids, i);
    cr_assert_str_eq(str(k, "status"), "SUCCEEDED");
    json_t *rec = json_array_get(records, 2 - i); /* oldest first */
    cr_assert_str_eq(str(rec, "ExecutionArn"), str(k, "executionArn"));
    cr_assert_not_null(str(rec, "StartDate"), "%s", written);
    cr_assert_str_eq(str(rec, "Status"), "SUCCEEDED");
  }
  /* A clean restart: the same again. */
  cr_assert(gwt_restart(&gwt_srv, SIGTERM, &status));
  char *ended = list_of("ListExecutions", "executions", by_run);
  char *listed = json_dumps(kids, JSON_SORT_KEYS);
  cr_assert_str_eq(ended, listed);
  free(ended);
  free(listed);
  json_decref(records);
  free(written);
  free(rel);
  json_decref(l);
  json_decref(x);
  free(again);
  free(runs);
  free(by_exec);
  free(by_run);
  free(run);
  free(exec);
  finish();
}

/* One child at a time: the one of item 2 fails until it is redriven (its
 * Choice matches no rule: States.NoChoiceMatched; a redrive enters the
 * Choice again, where $$.Execution.RedriveCount, here its parent's, on AWS
 * its own, is 1 either way), the others succeed. */
#define ONCE_MAP                                                            \
  "{\"StartAt\":\"Fan\",\"States\":{\"Fan\":{\"Type\":\"Map\","            \
  "\"Label\":\"Once\",\"MaxConcurrency\":1,\"ItemProcessor\":{"             \
  "\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":"        \
  "\"STANDARD\"},\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\"," \
  "\"Choices\":[{\"Or\":[{\"Variable\":\"$$.Execution.RedriveCount\","      \
  "\"NumericGreaterThan\":0},{\"Not\":{\"Variable\":\"$\","                 \
  "\"NumericEquals\":2}}],\"Next\":\"P\"}]},\"P\":{\"Type\":\"Pass\","      \
  "\"End\":true}}},\"End\":true}}}"

/* A FAILED execution of ONCE_MAP on [1,2,3] (its second child failed, its
 * third never started) and its Map Run (free() both). */
static char *failed_once(const char *machine, char **run) {
  char *exec = start_execution(machine, ONCE_MAP, "[1,2,3]");
  json_t *x = gwt_sfn_wait(exec);
  cr_assert_str_eq(str(x, "status"), "FAILED");
  json_decref(x);
  *run = map_run_of(exec);
  return exec;
}

/* The children of `run` that redriveFilter `filter` lists, their inputs
 * ("3,1"). */
static char *redrive_filtered(const char *run, const char *filter) {
  json_t *l = list_children(wft_strf(
      "{\"mapRunArn\":\"%s\",\"redriveFilter\":\"%s\"}", run, filter));
  char buf[64] = "";
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(l, "executions"), i, k) {
    json_t *d = gwt_sfn_ok(gwt_sfn("DescribeExecution",
                                   "{\"executionArn\":\"%s\"}",
                                   str(k, "executionArn")));
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s",
             i ? "," : "", str(d, "input"));
    cr_assert(json_equal(json_object_get(k, "redriveCount"),
                         json_object_get(d, "redriveCount")));
    json_decref(d);
  }
  json_decref(l);
  return strdup(buf);
}

Test(gateway_sfn_map_runs, a_redriven_child_goes_on_with_its_history) {
  start();
  char *run, *exec = failed_once("once", &run);
  json_t *l = list_children(wft_strf("{\"mapRunArn\":\"%s\"}", run));
  json_t *kids = json_object_get(l, "executions");
  cr_assert_eq(json_array_size(kids), 2);
  char *failed = strdup(str(json_array_get(kids, 0), "executionArn"));
  json_decref(l);
  json_t *before = gwt_sfn_ok(
      gwt_sfn("DescribeExecution", "{\"executionArn\":\"%s\"}", failed));
  cr_assert_str_eq(str(before, "status"), "FAILED");
  cr_assert_str_eq(str(before, "redriveStatus"), "REDRIVABLE_BY_MAP_RUN");
  cr_assert_eq(json_integer_value(json_object_get(before, "redriveCount")), 0);
  cr_assert_null(json_object_get(before, "redriveDate"));
  char *none = redrive_filtered(run, "REDRIVEN");
  cr_assert_str_eq(none, "");
  free(none);

  json_decref(gwt_sfn_ok(gwt_sfn("RedriveExecution",
                                 "{\"executionArn\":\"%s\"}", exec)));
  json_t *x = gwt_sfn_wait(exec);
  cr_assert_str_eq(str(x, "status"), "SUCCEEDED");
  json_decref(x);
  /* The failed child redriven, the unstarted one started. */
  char *got = redrive_filtered(run, "REDRIVEN");
  cr_assert_str_eq(got, "2");
  free(got);
  got = redrive_filtered(run, "NOT_REDRIVEN");
  cr_assert_str_eq(got, "3,1");
  free(got);
  json_t *d = gwt_sfn_ok(
      gwt_sfn("DescribeExecution", "{\"executionArn\":\"%s\"}", failed));
  cr_assert_str_eq(str(d, "status"), "SUCCEEDED");
  cr_assert_eq(json_integer_value(json_object_get(d, "redriveCount")), 1);
  cr_assert(json_is_number(json_object_get(d, "redriveDate")));
  cr_assert(json_equal(json_object_get(d, "startDate"),
                       json_object_get(before, "startDate")));
  cr_assert_str_eq(str(d, "redriveStatus"), "NOT_REDRIVABLE");
  json_decref(d);
  json_decref(before);
  d = describe(run);
  cr_assert_eq(json_integer_value(json_object_get(d, "redriveCount")), 1);
  cr_assert(json_is_number(json_object_get(d, "redriveDate")));
  json_decref(d);

  /* Its history goes on: ExecutionRedriven after ExecutionFailed, then
   * the state it failed in entered again. */
  json_t *h = history(failed, strdup(""));
  expect_ids(h, "1,2,3,4,5,6,7,8,9");
  const char *want[] = {
      "ExecutionStarted",   "ChoiceStateEntered", "ExecutionFailed",
      "ExecutionRedriven",  "ChoiceStateEntered", "ChoiceStateExited",
      "PassStateEntered",   "PassStateExited",    "ExecutionSucceeded"};
  json_t *events = json_object_get(h, "events");
  for (size_t i = 0; i < 9; i++)
    cr_assert_str_eq(str(json_array_get(events, i), "type"), want[i]);
  json_t *ev = json_array_get(events, 3);
  cr_assert_eq(json_integer_value(json_object_get(
                   json_object_get(ev, "executionRedrivenEventDetails"),
                   "redriveCount")), 1);
  cr_assert_eq(json_integer_value(json_object_get(ev, "previousEventId")), 3);
  cr_assert_eq(json_integer_value(json_object_get(json_array_get(events, 4),
                                                  "previousEventId")), 4);
  json_decref(h);
  expect_pages(failed, ",\"reverseOrder\":true,\"maxResults\":7",
               "9,8,7,6,5,4,3", "2,1");
  free(failed);
  free(run);
  free(exec);
  finish();
}

/* tests/support/SCRIPT PORT EXECUTION_ARN MAP_RUN_ARN, which must print
 * OK. */
static void boto3_script(const char *script, const char *exec,
                         const char *run) {
  char *cmd = wft_strf("python3 %s/tests/support/%s %d %s %s", WF_SOURCE_DIR,
                       script, gwt_srv.port, exec, run);
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert(rc == 0 && strstr(out, "OK"), "%s\n%s", cmd, out);
  free(out);
  free(cmd);
}

/* boto3 redrives the parent and reads a redriven child. */
Test(gateway_sfn_map_runs, boto3_reads_a_redriven_child) {
  if (!gwt_python_where("import boto3, sys; sys.exit(not hasattr("
                        "boto3.client(\"stepfunctions\", region_name="
                        "\"us-east-1\"), \"redrive_execution\"))"))
    cr_skip_test("no boto3 with redrive_execution here (Debian 12's "
                 "1.26.27 predates it)");
  start();
  gwt_client_env();
  char *run, *exec = failed_once("once", &run);
  boto3_script("sfn_map_run_redrive.py", exec, run);
  free(run);
  free(exec);
  finish();
}

/* The AWS CLI (python3 -m awscli, 1.32 and later have the Map Run
 * commands) and boto3 call the three operations. */
Test(gateway_sfn_map_runs, aws_cli_and_boto3) {
  if (!gwt_python_where("import awscli, boto3, sys; sys.exit(not hasattr("
                        "boto3.client(\"stepfunctions\", region_name="
                        "\"us-east-1\"), \"update_map_run\"))"))
    cr_skip_test("no AWS CLI and boto3 with the Map Run operations here");
  start();
  gwt_client_env();
  char *exec = start_execution("fanout", WAITING_MAP, "[1,2]");
  char *run = map_run_of(exec);
  struct {
    const char *args, *expect;
  } calls[] = {
      {"list-map-runs --execution-arn %s", "\"mapRunArn\""},
      {"describe-map-run --map-run-arn %s", "\"executionCounts\""},
      {"update-map-run --map-run-arn %s --max-concurrency 2", ""},
      {"list-executions --map-run-arn %s", "\"itemCount\": 1"},
      {"describe-map-run --map-run-arn %s0", "ResourceNotFound"},
  };
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    char *args = wft_strf(calls[i].args, i == 0 ? exec : run);
    char *cmd = wft_strf("python3 -m awscli stepfunctions --endpoint-url "
                         "http://127.0.0.1:%d --output json %s",
                         gwt_srv.port, args);
    char *out;
    int rc = gwt_shell(&out, cmd);
    cr_assert(strstr(out, calls[i].expect) && (rc == 0) == (i < 4),
              "%s (exit %d):\n%s", cmd, rc, out);
    free(out);
    free(cmd);
    free(args);
  }
  json_t *d = describe_until(run, "running", 2);
  json_decref(d);
  boto3_script("sfn_map_runs.py", exec, run);
  free(run);
  free(exec);
  finish();
}
