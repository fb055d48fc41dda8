/* wf-gateway's AWS Step Functions API, executions: StartExecution
 * (idempotency, errors), DescribeExecution, GetExecutionHistory (pages,
 * order, data), ListExecutions (filters, pages), StopExecution,
 * StartSyncExecution, task tokens (SendTask*), MockConfigFile test cases
 * and machines deleted while they run. Suite gateway_sfn, declared in
 * test_gateway_sfn.c. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfn_support.h"
#include "support.h"

/* The suite's options (see test_gateway_sfn.c). */
#define EXEC_TEST(name) Test(gateway_sfn, name, .fini = gwt_fini, .timeout = 60)

static const char *member(const json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

static gwt_response start(const char *machine, const char *name,
                          const char *input) {
  json_t *b = json_pack("{s:s}", "stateMachineArn", machine);
  if (name) json_object_set_new(b, "name", json_string(name));
  if (input) json_object_set_new(b, "input", json_string(input));
  return gwt_sfn_obj("StartExecution", b);
}

static char *start_ok(const char *machine, const char *name,
                      const char *input) {
  gwt_response r = start(machine, name, input);
  cr_assert_eq(r.status, 200, "%s", r.body);
  char *arn = strdup(gwt_str(&r, "executionArn"));
  gwt_response_free(&r);
  return arn;
}

static void create_ok(const char *name, const char *def, const char *type) {
  json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "name", name, "definition", def,
                        "roleArn", GWT_ROLE, "type", type);
  gwt_response r = gwt_sfn_obj("CreateStateMachine", b);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
}

static gwt_response history(const char *arn, const char *extra) {
  return gwt_sfn("GetExecutionHistory", "{\"executionArn\":\"%s\"%s}", arn,
                 extra ? extra : "");
}

EXEC_TEST(start_describe_and_read_the_history) {
  gwt_sfn_start(NULL);
  char *arn = start_ok(GWT_MACHINE_ARN "hello", "run-1", "{\"who\":\"me\"}");
  cr_assert_str_eq(arn, GWT_EXEC_ARN "hello:run-1");
  json_t *x = gwt_sfn_wait(arn);
  cr_assert(x);
  cr_assert_str_eq(member(x, "status"), "SUCCEEDED");
  cr_assert_str_eq(member(x, "name"), "run-1");
  cr_assert_str_eq(member(x, "stateMachineArn"), GWT_MACHINE_ARN "hello");
  cr_assert_str_eq(member(x, "input"), "{\"who\":\"me\"}");
  cr_assert(strstr(member(x, "output"), "Hello from Hello"));
  cr_assert(json_real_value(json_object_get(x, "stopDate")) >=
            json_real_value(json_object_get(x, "startDate")));
  cr_assert(json_is_true(
      json_object_get(json_object_get(x, "inputDetails"), "included")));
  json_decref(x);

  gwt_response r = gwt_sfn("DescribeExecution",
                           "{\"executionArn\":\"%s\",\"includedData\":"
                           "\"METADATA_ONLY\"}",
                           arn);
  cr_assert_null(json_object_get(r.json, "input"), "%s", r.body);
  cr_assert_null(json_object_get(r.json, "output"), "%s", r.body);
  gwt_response_free(&r);

  r = history(arn, NULL);
  cr_assert_eq(r.status, 200, "%s", r.body);
  json_t *events = json_object_get(r.json, "events");
  size_t n = json_array_size(events);
  cr_assert(n >= 5, "%s", r.body);
  json_t *first = json_array_get(events, 0);
  cr_assert_str_eq(member(first, "type"), "ExecutionStarted");
  cr_assert_eq(json_integer_value(json_object_get(first, "id")), 1);
  cr_assert(json_is_real(json_object_get(first, "timestamp")));
  json_t *d = json_object_get(first, "executionStartedEventDetails");
  cr_assert_str_eq(member(d, "roleArn"),
                   "arn:aws:iam::123456789012:role/wf-gateway");
  cr_assert_str_eq(member(d, "input"), "{\"who\":\"me\"}");
  cr_assert_str_eq(member(json_array_get(events, n - 1), "type"),
                   "ExecutionSucceeded");
  gwt_response_free(&r);

  r = history(arn, ",\"reverseOrder\":true,\"includeExecutionData\":false");
  events = json_object_get(r.json, "events");
  cr_assert_str_eq(member(json_array_get(events, 0), "type"),
                   "ExecutionSucceeded");
  d = json_object_get(json_array_get(events, n - 1),
                      "executionStartedEventDetails");
  cr_assert_null(json_object_get(d, "input"), "%s", r.body);
  cr_assert(json_object_get(d, "inputDetails"));
  gwt_response_free(&r);

  /* Two at a time, following nextToken, gives every event in order. */
  char *token = NULL;
  json_int_t want = 1;
  for (int page = 0; page < 20; page++) {
    char *extra =
        token ? wft_strf(",\"maxResults\":2,\"nextToken\":\"%s\"", token)
              : wft_strf(",\"maxResults\":2");
    r = history(arn, extra);
    free(extra);
    events = json_object_get(r.json, "events");
    cr_assert(json_array_size(events) <= 2, "%s", r.body);
    for (size_t i = 0; i < json_array_size(events); i++, want++)
      cr_assert_eq(
          json_integer_value(json_object_get(json_array_get(events, i), "id")),
          want);
    free(token);
    token = gwt_str(&r, "nextToken") ? strdup(gwt_str(&r, "nextToken")) : NULL;
    gwt_response_free(&r);
    if (!token) break;
  }
  cr_assert_eq(want, (json_int_t)n + 1);
  /* A forward page's token does not serve the reverse order. */
  r = history(arn, ",\"maxResults\":2");
  token = strdup(gwt_str(&r, "nextToken"));
  gwt_response_free(&r);
  char *extra = wft_strf(",\"reverseOrder\":true,\"nextToken\":\"%s\"", token);
  r = history(arn, extra);
  gwt_expect_error(&r, "InvalidToken", NULL);
  gwt_response_free(&r);
  free(extra);
  free(token);

  r = gwt_sfn("DescribeExecution",
              "{\"executionArn\":\"" GWT_EXEC_ARN "hello:nobody\"}");
  gwt_expect_error(&r, "ExecutionDoesNotExist",
                   "Execution Does Not Exist: '" GWT_EXEC_ARN "hello:nobody'");
  gwt_response_free(&r);
  r = history(GWT_EXEC_ARN "hello:nobody", NULL);
  gwt_expect_error(&r, "ExecutionDoesNotExist", NULL);
  gwt_response_free(&r);
  free(arn);
  gwt_finish();
}

EXEC_TEST(start_refuses_and_repeats_as_aws_does) {
  gwt_sfn_start(NULL);
  gwt_response r = start(GWT_MACHINE_ARN "nobody", NULL, NULL);
  gwt_expect_error(&r, "StateMachineDoesNotExist", NULL);
  gwt_response_free(&r);
  r = start(GWT_MACHINE_ARN "hello", NULL, "{");
  gwt_expect_error(&r, "InvalidExecutionInput",
                   "Invalid State Machine Execution Input: '");
  gwt_response_free(&r);
  r = start(GWT_MACHINE_ARN "hello", "a b", NULL);
  gwt_expect_error(&r, "InvalidName", "Invalid Name: 'a b'");
  gwt_response_free(&r);
  char *generated = start_ok(GWT_MACHINE_ARN "hello", NULL, NULL);
  cr_assert_eq(strlen(generated), strlen(GWT_EXEC_ARN "hello:") + 36);
  free(generated);

  /* Same name and input while running: the same execution. */
  r = start(GWT_MACHINE_ARN "waiting", "same", "{\"a\":1}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response again = start(GWT_MACHINE_ARN "waiting", "same", "{\"a\":1}");
  cr_assert_eq(again.status, 200, "%s", again.body);
  cr_assert_str_eq(gwt_str(&again, "executionArn"),
                   gwt_str(&r, "executionArn"));
  cr_assert(json_equal(json_object_get(again.json, "startDate"),
                       json_object_get(r.json, "startDate")));
  gwt_response_free(&again);
  again = start(GWT_MACHINE_ARN "waiting", "same", "{\"a\":2}");
  gwt_expect_error(&again, "ExecutionAlreadyExists",
                   "Execution Already Exists: '" GWT_EXEC_ARN "waiting:same'");
  gwt_response_free(&again);
  json_decref(gwt_sfn_wait(gwt_str(&r, "executionArn")));
  again = start(GWT_MACHINE_ARN "waiting", "same", "{\"a\":1}");
  gwt_expect_error(&again, "ExecutionAlreadyExists", NULL);
  gwt_response_free(&again);
  gwt_response_free(&r);
  gwt_finish();
}

static void expect_names(const gwt_response *r, const char *const *names,
                         size_t n) {
  json_t *list = json_object_get(r->json, "executions");
  cr_assert_eq(json_array_size(list), n, "%s", r->body);
  for (size_t i = 0; i < n; i++)
    cr_assert_str_eq(member(json_array_get(list, i), "name"), names[i]);
}

EXEC_TEST(list_executions_filters_and_pages) {
  gwt_sfn_start(NULL);
  const char *failed[] = {"f4", "f3", "f2", "f1", "f0"}; /* newest first */
  for (int i = 4; i >= 0; i--) {
    char *arn = start_ok(GWT_MACHINE_ARN "failing", failed[i], NULL);
    json_decref(gwt_sfn_wait(arn));
    free(arn);
  }
  char *w0 = start_ok(GWT_MACHINE_ARN "waiting", "w0", NULL);
  char *w1 = start_ok(GWT_MACHINE_ARN "waiting", "w1", NULL);

  gwt_response r = gwt_sfn(
      "ListExecutions", "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "failing\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  expect_names(&r, failed, 5);
  json_t *one = json_array_get(json_object_get(r.json, "executions"), 0);
  cr_assert_str_eq(member(one, "status"), "FAILED");
  cr_assert_str_eq(member(one, "stateMachineArn"), GWT_MACHINE_ARN "failing");
  cr_assert(json_is_real(json_object_get(one, "stopDate")));
  gwt_response_free(&r);

  size_t seen = 0;
  char *token = NULL;
  for (int page = 0; page < 5; page++) {
    r = token ? gwt_sfn("ListExecutions",
                        "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
                        "failing\",\"maxResults\":2,\"nextToken\":\"%s\"}",
                        token)
              : gwt_sfn("ListExecutions",
                        "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
                        "failing\",\"maxResults\":2}");
    size_t n = json_array_size(json_object_get(r.json, "executions"));
    expect_names(&r, failed + seen, n);
    seen += n;
    free(token);
    token = gwt_str(&r, "nextToken") ? strdup(gwt_str(&r, "nextToken")) : NULL;
    gwt_response_free(&r);
    if (!token) break;
  }
  cr_assert_eq(seen, 5);

  const char *running[] = {"w1", "w0"};
  r = gwt_sfn("ListExecutions", "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
                                "waiting\",\"statusFilter\":\"RUNNING\"}");
  expect_names(&r, running, 2);
  gwt_response_free(&r);
  r = gwt_sfn("ListExecutions", "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
                                "failing\",\"statusFilter\":\"SUCCEEDED\"}");
  expect_names(&r, NULL, 0);
  gwt_response_free(&r);

  r = gwt_sfn("StopExecution",
              "{\"executionArn\":\"%s\",\"error\":\"Cancelled\","
              "\"cause\":\"by the test\"}",
              w0);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(json_is_real(json_object_get(r.json, "stopDate")));
  gwt_response_free(&r);
  json_t *x = gwt_sfn_wait(w0);
  cr_assert_str_eq(member(x, "status"), "ABORTED");
  cr_assert_str_eq(member(x, "error"), "Cancelled");
  cr_assert_str_eq(member(x, "cause"), "by the test");
  json_decref(x);
  r = gwt_sfn("StopExecution",
              "{\"executionArn\":\"" GWT_EXEC_ARN "waiting:nobody\"}");
  gwt_expect_error(&r, "ExecutionDoesNotExist", NULL);
  gwt_response_free(&r);

  r = gwt_sfn("ListExecutions", "{}");
  gwt_expect_error(&r, "ValidationException",
                   "Must provide a StateMachine ARN or MapRun ARN");
  gwt_response_free(&r);
  r = gwt_sfn("ListExecutions",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "nobody\"}");
  gwt_expect_error(&r, "StateMachineDoesNotExist", NULL);
  gwt_response_free(&r);
  create_ok("fast",
            "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
            "\"Pass\",\"End\":true}}}",
            "EXPRESS");
  r = gwt_sfn("ListExecutions",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "fast\"}");
  gwt_expect_error(&r, "StateMachineTypeNotSupported", NULL);
  gwt_response_free(&r);
  free(w0);
  free(w1);
  gwt_finish();
}

EXEC_TEST(start_sync_execution_answers_the_result) {
  gwt_sfn_start(NULL);
  create_ok("quick",
            "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
            "\"Pass\",\"Result\":{\"n\":1},\"End\":true}}}",
            "EXPRESS");
  create_ok("broke",
            "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":"
            "\"Fail\",\"Error\":\"Boom\",\"Cause\":\"it broke\"}}}",
            "EXPRESS");
  gwt_response r =
      gwt_sfn("StartSyncExecution", "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
                                    "quick\",\"input\":\"{\\\"a\\\":1}\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "status"), "SUCCEEDED");
  cr_assert_str_eq(gwt_str(&r, "output"), "{\"n\":1}");
  cr_assert_str_eq(gwt_str(&r, "input"), "{\"a\":1}");
  cr_assert_str_eq(gwt_str(&r, "stateMachineArn"), GWT_MACHINE_ARN "quick");
  /* Express executions: ...:express:MACHINE:NAME:ID. */
  cr_assert(strncmp(gwt_str(&r, "executionArn"),
                    GWT_EXPRESS_ARN "quick:", strlen(GWT_EXPRESS_ARN "quick:")) == 0,
            "%s", gwt_str(&r, "executionArn"));
  json_t *bill = json_object_get(r.json, "billingDetails");
  cr_assert_eq(
      json_integer_value(json_object_get(bill, "billedMemoryUsedInMB")), 64);
  json_int_t ms =
      json_integer_value(json_object_get(bill, "billedDurationInMilliseconds"));
  cr_assert(ms >= 100 && ms % 100 == 0, "%s", r.body);
  char *arn = strdup(gwt_str(&r, "executionArn"));
  gwt_response_free(&r);
  /* Like AWS, nothing of it is kept to describe. */
  r = gwt_sfn("DescribeExecution", "{\"executionArn\":\"%s\"}", arn);
  gwt_expect_error(&r, "ExecutionDoesNotExist", NULL);
  gwt_response_free(&r);
  free(arn);

  r = gwt_sfn("StartSyncExecution",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "broke\"}");
  cr_assert_eq(r.status, 200, "a failed execution is still a 200: %s", r.body);
  cr_assert_str_eq(gwt_str(&r, "status"), "FAILED");
  cr_assert_str_eq(gwt_str(&r, "error"), "Boom");
  cr_assert_str_eq(gwt_str(&r, "cause"), "it broke");
  cr_assert_null(json_object_get(r.json, "output"));
  gwt_response_free(&r);
  r = gwt_sfn("StartSyncExecution",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "hello\"}");
  gwt_expect_error(&r, "StateMachineTypeNotSupported", NULL);
  gwt_response_free(&r);
  gwt_finish();
}

/* A StartSyncExecution call made on a thread of the test. */
typedef struct sync_call {
  pthread_t thread;
  gwt_response r;
  atomic_bool done;
} sync_call;

static void *sync_call_main(void *arg) {
  sync_call *sc = arg;
  sc->r = gwt_sfn("StartSyncExecution",
                  "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "slow\"}");
  atomic_store(&sc->done, true);
  return NULL;
}

/* With one HTTP thread, two executions waited for by StartSyncExecution
 * leave the server answering: the waits hold no HTTP thread. */
EXEC_TEST(start_sync_execution_holds_no_http_thread) {
  gwt_sfn_start("listen: {threads: 1}\n");
  create_ok("slow",
            "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
            "\"Seconds\":2,\"Next\":\"P\"},\"P\":{\"Type\":\"Pass\","
            "\"Result\":\"waited\",\"End\":true}}}",
            "EXPRESS");
  sync_call calls[2];
  for (int i = 0; i < 2; i++) {
    calls[i].done = false;
    cr_assert_eq(pthread_create(&calls[i].thread, NULL, sync_call_main,
                                &calls[i]), 0);
  }
  usleep(300 * 1000); /* both are waiting in their Wait state */
  gwt_response h = gwt_request(&gwt_srv, "GET", "/health", NULL, NULL, 0);
  cr_expect_eq(h.status, 200, "%s", h.body);
  gwt_response_free(&h);
  gwt_response l = gwt_sfn("ListStateMachines", "{}");
  cr_expect_eq(l.status, 200, "%s", l.body);
  gwt_response_free(&l);
  cr_expect(!atomic_load(&calls[0].done) && !atomic_load(&calls[1].done),
            "the other requests were answered while both sync executions "
            "were still waiting");
  for (int i = 0; i < 2; i++) {
    pthread_join(calls[i].thread, NULL);
    cr_expect_eq(calls[i].r.status, 200, "%s", calls[i].r.body);
    cr_expect_str_eq(gwt_str(&calls[i].r, "status"), "SUCCEEDED");
    cr_expect_str_eq(gwt_str(&calls[i].r, "output"), "\"waited\"");
    json_t *bill = json_object_get(calls[i].r.json, "billingDetails");
    cr_expect_geq(json_integer_value(json_object_get(
                      bill, "billedDurationInMilliseconds")), 2000);
    gwt_response_free(&calls[i].r);
  }
  gwt_finish();
}

/* SIGTERM while StartSyncExecution waits: the execution has until
 * listen.shutdownTimeoutSeconds, then stops, and the call is answered
 * before the gateway exits cleanly. */
EXEC_TEST(start_sync_execution_is_answered_on_shutdown) {
  gwt_sfn_start("listen: {threads: 1, shutdownTimeoutSeconds: 1}\n");
  create_ok("slow",
            "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
            "\"Seconds\":60,\"End\":true}}}",
            "EXPRESS");
  sync_call sc = {.done = false};
  cr_assert_eq(pthread_create(&sc.thread, NULL, sync_call_main, &sc), 0);
  usleep(300 * 1000);
  cr_assert_eq(gwt_stop(&gwt_srv, SIGTERM), 0, "the gateway's exit status");
  pthread_join(sc.thread, NULL);
  cr_expect_eq(sc.r.status, 200, "%s", sc.r.body);
  cr_expect_str_eq(gwt_str(&sc.r, "status"), "FAILED");
  cr_expect_str_eq(gwt_str(&sc.r, "error"), "Gateway.ShuttingDown");
  gwt_response_free(&sc.r);
}

#define CALLBACK_RESOURCE "arn:aws:states:::sqs:sendMessage.waitForTaskToken"

/* The token the callback task was given, read from its TaskScheduled
 * event's parameters (the machine puts it in MessageBody.token). */
static char *token_of(const char *arn) {
  for (int i = 0; i < 250; i++) {
    gwt_response r =
        gwt_sfn("GetExecutionHistory", "{\"executionArn\":\"%s\"}", arn);
    json_t *events = json_object_get(r.json, "events");
    for (size_t k = 0; k < json_array_size(events); k++) {
      json_t *e = json_array_get(events, k);
      if (strcmp(member(e, "type"), "TaskScheduled") != 0) continue;
      json_t *p = json_loads(
          member(json_object_get(e, "taskScheduledEventDetails"), "parameters"),
          0, NULL);
      const char *t = member(json_object_get(p, "MessageBody"), "token");
      char *token = t ? strdup(t) : NULL;
      json_decref(p);
      gwt_response_free(&r);
      return token;
    }
    gwt_response_free(&r);
    usleep(20000);
  }
  return NULL;
}

EXEC_TEST(task_tokens_complete_callback_tasks) {
  gwt_sfn_start("aws: {callbackResources: [\"" CALLBACK_RESOURCE "\"]}\n");
  create_ok("ask",
            "{\"StartAt\":\"Ask\",\"States\":{\"Ask\":{\"Type\":\"Task\","
            "\"Resource\":\"" CALLBACK_RESOURCE
            "\",\"Parameters\":{"
            "\"QueueUrl\":\"q\",\"MessageBody\":{\"token.$\":"
            "\"$$.Task.Token\"}},\"HeartbeatSeconds\":60,\"End\":true}}}",
            "STANDARD");
  char *arn = start_ok(GWT_MACHINE_ARN "ask", "yes", NULL);
  char *token = token_of(arn);
  cr_assert(token, "no TaskScheduled event with a token");
  gwt_response r =
      gwt_sfn("SendTaskHeartbeat", "{\"taskToken\":\"%s\"}", token);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  r = gwt_sfn("SendTaskSuccess",
              "{\"taskToken\":\"%s\",\"output\":\"{\\\"ok\\\":\"}", token);
  gwt_expect_error(&r, "InvalidOutput", NULL);
  gwt_response_free(&r);
  r = gwt_sfn("SendTaskSuccess",
              "{\"taskToken\":\"%s\",\"output\":\"{\\\"ok\\\":true}\"}", token);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(r.body, "{}");
  gwt_response_free(&r);
  json_t *x = gwt_sfn_wait(arn);
  cr_assert_str_eq(member(x, "status"), "SUCCEEDED");
  cr_assert_str_eq(member(x, "output"), "{\"ok\":true}");
  json_decref(x);
  /* The task is over: its token is stale now. */
  r = gwt_sfn("SendTaskSuccess", "{\"taskToken\":\"%s\",\"output\":\"{}\"}",
              token);
  gwt_expect_error(&r, "TaskTimedOut",
                   "Task Timed Out: 'Provided task does not exist anymore'");
  gwt_response_free(&r);
  r = gwt_sfn("SendTaskHeartbeat", "{\"taskToken\":\"%s\"}", token);
  gwt_expect_error(&r, "TaskTimedOut", NULL);
  gwt_response_free(&r);
  r = gwt_sfn("SendTaskSuccess",
              "{\"taskToken\":\"not-a-token\",\"output\":\"{}\"}");
  gwt_expect_error(&r, "InvalidToken", NULL);
  gwt_response_free(&r);
  free(token);
  free(arn);

  arn = start_ok(GWT_MACHINE_ARN "ask", "no", NULL);
  token = token_of(arn);
  r = gwt_sfn("SendTaskFailure",
              "{\"taskToken\":\"%s\",\"error\":\"Rejected\",\"cause\":"
              "\"not today\"}",
              token);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  x = gwt_sfn_wait(arn);
  cr_assert_str_eq(member(x, "status"), "FAILED");
  cr_assert_str_eq(member(x, "error"), "Rejected");
  cr_assert_str_eq(member(x, "cause"), "not today");
  json_decref(x);
  free(token);
  free(arn);
  gwt_finish();
}

EXEC_TEST(mock_config_test_cases_run_by_arn) {
  gwt_sfn_start(
      "aws: {mockConfigFile: @SOURCE@/tests/data/"
      "sfn-mocks.json}\n");
  create_ok("mocked",
            "{\"StartAt\":\"Call\",\"States\":{\"Call\":{\"Type\":\"Task\","
            "\"Resource\":\"arn:aws:lambda:us-east-1:123456789012:function:"
            "Unregistered\",\"End\":true}}}",
            "STANDARD");
  char *arn = start_ok(GWT_MACHINE_ARN "mocked#Happy", "happy", NULL);
  cr_assert_str_eq(arn, GWT_EXEC_ARN "mocked:happy");
  json_t *x = gwt_sfn_wait(arn);
  cr_assert_str_eq(member(x, "status"), "SUCCEEDED");
  cr_assert_str_eq(member(x, "output"), "{\"answer\":42}");
  cr_assert_str_eq(member(x, "stateMachineArn"), GWT_MACHINE_ARN "mocked");
  json_decref(x);
  free(arn);
  arn = start_ok(GWT_MACHINE_ARN "mocked#Sad", "sad", NULL);
  x = gwt_sfn_wait(arn);
  cr_assert_str_eq(member(x, "status"), "FAILED");
  cr_assert_str_eq(member(x, "error"), "Mock.Error");
  cr_assert_str_eq(member(x, "cause"), "mocked failure");
  json_decref(x);
  free(arn);
  /* Without a test case the Task calls a resource nobody serves. */
  arn = start_ok(GWT_MACHINE_ARN "mocked", "real", NULL);
  x = gwt_sfn_wait(arn);
  cr_assert_str_eq(member(x, "status"), "FAILED");
  json_decref(x);
  free(arn);
  gwt_response r = start(GWT_MACHINE_ARN "mocked#Nope", NULL, NULL);
  gwt_expect_error(&r, "ValidationException", "no test case 'Nope'");
  gwt_response_free(&r);
  gwt_finish();
}

EXEC_TEST(a_machine_deleted_while_running_waits_for_its_executions) {
  gwt_sfn_start(NULL);
  create_ok("slow",
            "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":"
            "\"Wait\",\"Seconds\":1,\"End\":true}}}",
            "STANDARD");
  char *arn = start_ok(GWT_MACHINE_ARN "slow", "last", NULL);
  gwt_response r = gwt_sfn("DeleteStateMachine",
                           "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "slow\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  r = gwt_sfn("DescribeStateMachine",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "slow\"}");
  cr_assert_str_eq(gwt_str(&r, "status"), "DELETING", "%s", r.body);
  gwt_response_free(&r);
  r = start(GWT_MACHINE_ARN "slow", NULL, NULL);
  gwt_expect_error(&r, "StateMachineDeleting", NULL);
  gwt_response_free(&r);
  json_t *x = gwt_sfn_wait(arn);
  cr_assert_str_eq(member(x, "status"), "SUCCEEDED");
  json_decref(x);
  /* The first look afterwards, an update here, finds it gone. */
  r = gwt_sfn("UpdateStateMachine", "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
                                    "slow\",\"roleArn\":\"" GWT_ROLE "\"}");
  gwt_expect_error(&r, "StateMachineDoesNotExist", NULL);
  gwt_response_free(&r);
  r = gwt_sfn("DescribeStateMachine",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "slow\"}");
  gwt_expect_error(&r, "StateMachineDoesNotExist", NULL);
  gwt_response_free(&r);
  /* Its executions stay readable. */
  r = gwt_sfn("DescribeExecution", "{\"executionArn\":\"%s\"}", arn);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  free(arn);
  gwt_finish();
}

EXEC_TEST(aws_settings_are_checked_at_start) {
  char dir[] = "/tmp/wf-sfn-config-XXXXXX";
  cr_assert(mkdtemp(dir));
  struct {
    const char *config, *expect;
  } cases[] = {
      {"aws: {mockConfigFile: missing.json}\n", "aws.mockConfigFile"},
      {"aws: {mockConfigFile: bad.json}\n", "aws.mockConfigFile"},
      {"aws: {signatureVersion4: maybe}\n",
       "aws.signatureVersion4: must be true or false"},
      {"aws: {callbackResources: [\"arn:x*\", \"arn:x*\"]}\n",
       "aws.callbackResources[1]"},
  };
  char *bad = wft_strf("%s/bad.json", dir);
  FILE *f = fopen(bad, "w");
  fputs("{\"StateMachines\": 3}", f);
  fclose(f);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *path = wft_strf("%s/gateway.yaml", dir);
    f = fopen(path, "w");
    fputs(cases[i].config, f);
    fclose(f);
    const char *argv[] = {GWT_BINARY, "--config", path, "--check", NULL};
    char *err = NULL;
    int status = gwt_run(argv, &err);
    cr_assert_eq(status, 2, "%s: %s", cases[i].config, err);
    cr_assert(err && strstr(err, cases[i].expect), "%s: %s", cases[i].config,
              err);
    free(err);
    unlink(path);
    free(path);
  }
  unlink(bad);
  free(bad);
  rmdir(dir);
}

/* engine.maxRunning bounds executions however they start: StartExecution
 * past it is AWS's ExecutionLimitExceeded, /process answers 503. */
EXEC_TEST(running_executions_are_bounded_for_every_way_in) {
  cr_assert(gwt_start(&gwt_srv, GWT_BASE_WITH_ENGINE("maxRunning: 1")
                                    "process: {stateMachine: waiting, "
                                    "maxWaitMs: 50}\n"
                                    "throttle: {enabled: false}\n"),
            "the gateway did not start");
  char *arn = start_ok(GWT_MACHINE_ARN "waiting", "holds-the-place", NULL);
  gwt_response r = start(GWT_MACHINE_ARN "hello", "one-too-many", NULL);
  cr_assert_eq(r.status, 400, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "__type"), "ExecutionLimitExceeded");
  cr_assert_str_eq(gwt_str(&r, "message"),
                   "The maximum number of running executions has been "
                   "reached. Running executions must end or be stopped "
                   "before a new execution can be started.");
  gwt_response_free(&r);
  r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 503, "%s", r.body);
  gwt_response_free(&r);
  /* Stopped, it makes room. */
  r = gwt_sfn("StopExecution", "{\"executionArn\":\"%s\"}", arn);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  free(start_ok(GWT_MACHINE_ARN "hello", "room-again", NULL));
  free(arn);
  gwt_finish();
}

/* `unit` repeated into a JSON object's string member "q" until the
 * object's text is `size` bytes (unit must divide what is left). */
static char *object_of(const char *unit, size_t size) {
  size_t u = strlen(unit), fill = size - strlen("{\"q\":\"\"}");
  cr_assert_eq(fill % u, 0, "%zu is not a multiple of %zu", fill, u);
  char *s = malloc(size + 1);
  strcpy(s, "{\"q\":\"");
  for (size_t i = 0; i < fill / u; i++) memcpy(s + 6 + i * u, unit, u);
  strcpy(s + 6 + fill, "\"}");
  return s;
}

/* An AWS API operation with the body as AWS's SDKs write it: Python's
 * json (botocore, the AWS CLI) escapes every character outside ASCII, so
 * a 2-byte UTF-8 character becomes the 6 bytes \u00e9. */
static gwt_response sdk_call(const char *op, json_t *body, size_t *len) {
  char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
  json_decref(body);
  cr_assert(text);
  *len = strlen(text);
  char *target = wft_strf("X-Amz-Target: AWSStepFunctions.%s", op);
  const char *headers[] = {"Content-Type: application/x-amz-json-1.0",
                           target, NULL};
  gwt_response r = gwt_request(&gwt_srv, "POST", "/", headers, text, *len);
  free(target);
  free(text);
  return r;
}

/* AWS allows an execution input of 256 KiB; inside the request it is a
 * JSON string, escaped again. With the default limits.maxBodyBytes an
 * input just under 256 KiB of quotes and accented letters (2.5 times its
 * size once escaped) goes through, and comes out of a Pass state whole. */
EXEC_TEST(an_input_near_the_payload_limit_full_of_escapes_starts) {
  gwt_sfn_start(NULL); /* default limits */
  create_ok("echo",
            "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
            "\"End\":true}}}",
            "STANDARD");
  /* é (2 bytes) and \" (2 bytes) per unit: 262,140 bytes in all. */
  char *input = object_of("\xc3\xa9\\\"", 262140);
  size_t len;
  gwt_response r = sdk_call(
      "StartExecution",
      json_pack("{s:s, s:s, s:s}", "stateMachineArn", GWT_MACHINE_ARN "echo",
                "name", "big", "input", input),
      &len);
  cr_assert(len > 650000, "the request is %zu bytes", len);
  cr_assert_eq(r.status, 200, "a %zu-byte request: %ld %.300s", len, r.status,
               r.body);
  gwt_response_free(&r);
  json_t *x = gwt_sfn_wait(GWT_EXEC_ARN "echo:big");
  cr_assert(x);
  cr_assert_str_eq(member(x, "status"), "SUCCEEDED");
  json_t *in = json_loads(input, 0, NULL);
  json_t *out = json_loads(member(x, "output"), 0, NULL);
  cr_assert(in && out && json_equal(in, out), "the output is not the input");
  json_decref(in);
  json_decref(out);
  json_decref(x);
  free(input);
  gwt_finish();
}
