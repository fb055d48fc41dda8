/* Execution history (wf_execution_history, wf_execution_history_count,
 * wf_engine_add_listener): GetExecutionHistory's shape — event types, ids,
 * the previousEventId chain and each details object — compared with the
 * sequences AWS recorded (LocalStack's AWS-validated snapshots). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/workflow.h"

TestSuite(engine_history, .timeout = 120);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:Work"

static void echo_input(wf_task *t, void *payload) {
  (void)payload;
  wf_task_succeed(t, wf_task_input(t));
}

/* Fails the first `*(int *)payload` attempts with CustomError. */
static void fail_first(wf_task *t, void *payload) {
  int *left = payload;
  if (*left > 0) {
    (*left)--;
    wf_task_fail(t, "CustomError", "{\"errorMessage\":\"boom\"}");
  } else {
    wf_task_succeed(t, "{\"ok\":true}");
  }
}

typedef struct hist {
  wf_engine *engine;
  wf_machine *machine;
  wf_execution *exec;
  json_t *doc;
  json_t *events;
} hist;

static hist run_hist(const char *def, const char *input, const char *resource,
                     wf_handler_fn fn, void *payload) {
  hist h = {0};
  h.engine = wft_engine(NULL);
  if (fn)
    cr_assert_eq(wf_engine_register_handler(h.engine, resource, fn, payload,
                                            WF_HANDLER_INLINE, NULL),
                 WF_OK);
  h.machine = wft_load(def);
  h.exec = wft_run(h.engine, h.machine, input, NULL);
  h.events = wft_events(h.exec, 0, &h.doc);
  return h;
}

static void hist_free(hist *h) {
  json_decref(h->doc);
  wf_execution_free(h->exec);
  wf_machine_free(h->machine);
  wf_engine_free(h->engine);
}

static json_t *event(const hist *h, size_t i) {
  json_t *ev = json_array_get(h->events, i);
  cr_assert_not_null(ev, "no event #%zu", i + 1);
  return ev;
}

/* "id prev Type" lines, one per event, for comparing sequences. */
static char *chain(const hist *h) {
  size_t n = json_array_size(h->events), cap = 64 * n + 1, len = 0;
  char *s = calloc(1, cap);
  for (size_t i = 0; i < n; i++) {
    json_t *ev = json_array_get(h->events, i);
    len += (size_t)snprintf(
        s + len, cap - len, "%s%lld %lld %s", i ? "\n" : "",
        (long long)json_integer_value(json_object_get(ev, "id")),
        (long long)json_integer_value(json_object_get(ev, "previousEventId")),
        json_string_value(json_object_get(ev, "type")));
  }
  return s;
}

static void assert_chain(const hist *h, const char *want) {
  char *got = chain(h);
  cr_assert_str_eq(got, want, "history:\n%s\nexpected:\n%s", got, want);
  free(got);
}

/* The keys of an object, sorted, comma-separated. */
static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *keys_of(json_t *obj) {
  const char *names[32];
  size_t n = 0;
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    if (n < 32) names[n++] = k;
  }
  qsort(names, n, sizeof *names, cmp_str);
  char *s = calloc(1, 1024);
  for (size_t i = 0; i < n; i++) {
    if (i) strcat(s, ",");
    strcat(s, names[i]);
  }
  return s;
}

/* Event i has exactly these top-level keys besides the four common ones,
 * and its details object (when named) exactly `detail_keys`. */
static json_t *assert_event(const hist *h, size_t i, const char *details_key,
                            const char *detail_keys) {
  json_t *ev = event(h, i);
  char want[256];
  if (details_key) {
    /* the common keys sort around the details key */
    const char *common[] = {"id", "previousEventId", "timestamp", "type",
                            details_key};
    qsort(common, 5, sizeof *common, cmp_str);
    snprintf(want, sizeof want, "%s,%s,%s,%s,%s", common[0], common[1],
             common[2], common[3], common[4]);
  } else {
    snprintf(want, sizeof want, "id,previousEventId,timestamp,type");
  }
  char *got = keys_of(ev);
  cr_assert_str_eq(got, want, "event #%zu (%s) keys", i + 1,
                   json_string_value(json_object_get(ev, "type")));
  free(got);
  if (!details_key) return NULL;
  json_t *d = json_object_get(ev, details_key);
  cr_assert(json_is_object(d));
  got = keys_of(d);
  cr_assert_str_eq(got, detail_keys, "event #%zu %s keys", i + 1,
                   details_key);
  free(got);
  return d;
}

static const char *str(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  cr_assert(json_is_string(v), "%s is not a string", key);
  return json_string_value(v);
}

/* A payload field holds JSON text; compare it by value. */
static void assert_payload(json_t *details, const char *key,
                           const char *json) {
  wft_assert_json(str(details, key), json);
  json_t *d = json_object_get(details, strcmp(key, "input") == 0
                                           ? "inputDetails"
                                           : "outputDetails");
  if (strcmp(key, "parameters") != 0) {
    cr_assert(json_is_object(d));
    cr_assert(json_is_false(json_object_get(d, "truncated")));
  }
}

/* Event i is the StateEntered event of state `name`; its details. */
static json_t *assert_entered(const hist *h, size_t i, const char *name) {
  json_t *d = assert_event(h, i, "stateEnteredEventDetails",
                           "input,inputDetails,name");
  cr_assert_str_eq(str(d, "name"), name);
  return d;
}

/* Event i is the StateExited event of state `name`; its details. */
static json_t *assert_exited(const hist *h, size_t i, const char *name) {
  json_t *d = assert_event(h, i, "stateExitedEventDetails",
                           "name,output,outputDetails");
  cr_assert_str_eq(str(d, "name"), name);
  return d;
}

/* ---- state types ---- */

Test(engine_history, pass_and_succeed_run) {
  hist h = run_hist(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Result\":"
      "{\"r\":1},\"ResultPath\":\"$.res\",\"Next\":\"S\"},\"S\":{\"Type\":"
      "\"Succeed\"}}}",
      "{\"in\":true}", NULL, NULL, NULL);
  assert_chain(&h,
               "1 0 ExecutionStarted\n"
               "2 0 PassStateEntered\n"
               "3 2 PassStateExited\n"
               "4 3 SucceedStateEntered\n"
               "5 4 SucceedStateExited\n"
               "6 5 ExecutionSucceeded");
  json_t *d = assert_event(&h, 0, "executionStartedEventDetails",
                           "input,inputDetails,roleArn");
  assert_payload(d, "input", "{\"in\":true}");
  cr_assert(strncmp(str(d, "roleArn"), "arn:aws:iam::123456789012:role/", 31)
                == 0,
            "roleArn %s", str(d, "roleArn"));
  d = assert_entered(&h, 1, "P");
  assert_payload(d, "input", "{\"in\":true}");
  d = assert_exited(&h, 2, "P");
  assert_payload(d, "output", "{\"in\":true,\"res\":{\"r\":1}}");
  assert_entered(&h, 3, "S");
  d = assert_event(&h, 5, "executionSucceededEventDetails",
                   "output,outputDetails");
  assert_payload(d, "output", "{\"in\":true,\"res\":{\"r\":1}}");
  hist_free(&h);
}

/* The input is a JSON text inside a JSON string: quotes, backslashes and
 * control characters of the payload's own strings are escaped twice. */
Test(engine_history, payload_text_escapes_quotes_backslashes_and_controls) {
  const char *input =
      "{\"q\\\"k\":\"a \\\"quoted\\\" \\\\ back\\nline\\ttab\\u0001\","
      "\"u\":\"\u00e9\u2603\",\"n\":[-12,0.5,1.0E21,true,null]}";
  hist h = run_hist(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
      "\"End\":true}}}",
      input, NULL, NULL, NULL);
  json_t *d = assert_event(&h, 0, "executionStartedEventDetails",
                           "input,inputDetails,roleArn");
  assert_payload(d, "input", input);
  d = assert_exited(&h, 2, "P");
  assert_payload(d, "output", input);
  hist_free(&h);
}

Test(engine_history, choice_wait_and_fail_run) {
  hist h = run_hist(
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":"
      "[{\"Variable\":\"$.go\",\"BooleanEquals\":true,\"Next\":\"W\"}],"
      "\"Default\":\"F\"},\"W\":{\"Type\":\"Wait\",\"Seconds\":0,\"Next\":"
      "\"F\"},\"F\":{\"Type\":\"Fail\",\"Error\":\"SomeFailure\",\"Cause\":"
      "\"This state machines raises a 'SomeFailure' failure.\"}}}",
      "{\"go\":true}", NULL, NULL, NULL);
  assert_chain(&h,
               "1 0 ExecutionStarted\n"
               "2 0 ChoiceStateEntered\n"
               "3 2 ChoiceStateExited\n"
               "4 3 WaitStateEntered\n"
               "5 4 WaitStateExited\n"
               "6 5 FailStateEntered\n"
               "7 6 ExecutionFailed");
  json_t *d = assert_exited(&h, 2, "C");
  assert_payload(d, "output", "{\"go\":true}");
  assert_entered(&h, 5, "F");
  /* As AWS recorded (test_state_fail). */
  d = assert_event(&h, 6, "executionFailedEventDetails", "cause,error");
  cr_assert_str_eq(str(d, "error"), "SomeFailure");
  cr_assert_str_eq(str(d, "cause"),
                   "This state machines raises a 'SomeFailure' failure.");
  hist_free(&h);
}

Test(engine_history, fail_without_error_or_cause_has_empty_details) {
  hist h = run_hist(
      "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\"}}}", NULL,
      NULL, NULL, NULL);
  assert_chain(&h,
               "1 0 ExecutionStarted\n"
               "2 0 FailStateEntered\n"
               "3 2 ExecutionFailed");
  assert_event(&h, 2, "executionFailedEventDetails", "");
  hist_free(&h);
}

Test(engine_history, lambda_function_task_run) {
  hist h = run_hist(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"Parameters\":{\"v.$\":\"$.v\"},\"TimeoutSeconds\":5,"
      "\"End\":true}}}",
      "{\"v\":1,\"w\":2}", FN, echo_input, NULL);
  /* As AWS recorded for Lambda ARNs (test_fixed_timeout_lambda and the
   * TestTaskLambda cases). */
  assert_chain(&h,
               "1 0 ExecutionStarted\n"
               "2 0 TaskStateEntered\n"
               "3 2 LambdaFunctionScheduled\n"
               "4 3 LambdaFunctionStarted\n"
               "5 4 LambdaFunctionSucceeded\n"
               "6 5 TaskStateExited\n"
               "7 6 ExecutionSucceeded");
  json_t *d = assert_event(&h, 2, "lambdaFunctionScheduledEventDetails",
                           "input,inputDetails,resource,timeoutInSeconds");
  cr_assert_str_eq(str(d, "resource"), FN);
  assert_payload(d, "input", "{\"v\":1}");
  cr_assert_eq(json_integer_value(json_object_get(d, "timeoutInSeconds")), 5);
  assert_event(&h, 3, NULL, NULL);
  d = assert_event(&h, 4, "lambdaFunctionSucceededEventDetails",
                   "output,outputDetails");
  assert_payload(d, "output", "{\"v\":1}");
  assert_exited(&h, 5, "T");
  hist_free(&h);
}

Test(engine_history, service_integration_task_run) {
  hist h = run_hist(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:states:::lambda:invoke\",\"Parameters\":{\"FunctionName\":"
      "\"f\",\"Payload.$\":\"$\"},\"TimeoutSeconds\":30,\"HeartbeatSeconds\":"
      "10,\"End\":true}}}",
      "{\"p\":1}", "arn:aws:states:::lambda:invoke", echo_input, NULL);
  assert_chain(&h,
               "1 0 ExecutionStarted\n"
               "2 0 TaskStateEntered\n"
               "3 2 TaskScheduled\n"
               "4 3 TaskStarted\n"
               "5 4 TaskSucceeded\n"
               "6 5 TaskStateExited\n"
               "7 6 ExecutionSucceeded");
  json_t *d = assert_event(&h, 2, "taskScheduledEventDetails",
                           "heartbeatInSeconds,parameters,region,resource,"
                           "resourceType,timeoutInSeconds");
  cr_assert_str_eq(str(d, "resourceType"), "lambda");
  cr_assert_str_eq(str(d, "resource"), "invoke");
  cr_assert_str_eq(str(d, "region"), "us-east-1");
  wft_assert_json(str(d, "parameters"),
                  "{\"FunctionName\":\"f\",\"Payload\":{\"p\":1}}");
  cr_assert_eq(json_integer_value(json_object_get(d, "timeoutInSeconds")),
               30);
  cr_assert_eq(json_integer_value(json_object_get(d, "heartbeatInSeconds")),
               10);
  d = assert_event(&h, 3, "taskStartedEventDetails", "resource,resourceType");
  cr_assert_str_eq(str(d, "resourceType"), "lambda");
  cr_assert_str_eq(str(d, "resource"), "invoke");
  d = assert_event(&h, 4, "taskSucceededEventDetails",
                   "output,outputDetails,resource,resourceType");
  assert_payload(d, "output", "{\"FunctionName\":\"f\",\"Payload\":{\"p\":1}}");
  hist_free(&h);
}

Test(engine_history, resource_type_and_resource_split_as_aws_does) {
  const struct {
    const char *resource, *type, *name;
  } cases[] = {
      {"arn:aws:states:::aws-sdk:s3:getObject", "aws-sdk:s3", "getObject"},
      {"arn:aws:states:::dynamodb:putItem", "dynamodb", "putItem"},
      {"arn:aws:states:::sqs:sendMessage.waitForTaskToken", "sqs",
       "sendMessage.waitForTaskToken"},
      {"arn:aws:states:::states:startExecution.sync", "states",
       "startExecution.sync"},
      {"arn:aws:states:::states:startExecution.sync:2", "states",
       "startExecution.sync:2"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char def[512];
    snprintf(def, sizeof def,
             "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
             "\"Resource\":\"%s\",\"Parameters\":{},\"End\":true}}}",
             cases[i].resource);
    hist h = run_hist(def, NULL, cases[i].resource, echo_input, NULL);
    json_t *d = assert_event(&h, 2, "taskScheduledEventDetails",
                             "parameters,region,resource,resourceType");
    cr_assert_str_eq(str(d, "resourceType"), cases[i].type, "%s",
                     cases[i].resource);
    cr_assert_str_eq(str(d, "resource"), cases[i].name);
    hist_free(&h);
  }
}

Test(engine_history, task_failure_events_carry_error_and_cause) {
  int left = 1;
  hist h = run_hist(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"End\":true}}}",
      NULL, FN, fail_first, &left);
  assert_chain(&h,
               "1 0 ExecutionStarted\n"
               "2 0 TaskStateEntered\n"
               "3 2 LambdaFunctionScheduled\n"
               "4 3 LambdaFunctionStarted\n"
               "5 4 LambdaFunctionFailed\n"
               "6 5 ExecutionFailed");
  json_t *d = assert_event(&h, 4, "lambdaFunctionFailedEventDetails",
                           "cause,error");
  cr_assert_str_eq(str(d, "error"), "CustomError");
  cr_assert_str_eq(str(d, "cause"), "{\"errorMessage\":\"boom\"}");
  d = assert_event(&h, 5, "executionFailedEventDetails", "cause,error");
  cr_assert_str_eq(str(d, "error"), "CustomError");
  hist_free(&h);
}

Test(engine_history, integration_failure_event_names_the_resource) {
  int left = 5;
  hist h = run_hist(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:states:::dynamodb:putItem\",\"Parameters\":{},\"End\":"
      "true}}}",
      NULL, "arn:aws:states:::dynamodb:putItem", fail_first, &left);
  json_t *d = assert_event(&h, 4, "taskFailedEventDetails",
                           "cause,error,resource,resourceType");
  cr_assert_str_eq(str(d, "error"), "CustomError");
  cr_assert_str_eq(str(d, "resourceType"), "dynamodb");
  cr_assert_str_eq(str(d, "resource"), "putItem");
  hist_free(&h);
}

Test(engine_history, retries_repeat_the_scheduled_started_failed_triple) {
  int left = 3;
  hist h = run_hist(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"],"
      "\"IntervalSeconds\":1,\"MaxAttempts\":2,\"BackoffRate\":1}],"
      "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Handle\"}],"
      "\"End\":true},\"Handle\":{\"Type\":\"Pass\",\"End\":true}}}",
      NULL, FN, fail_first, &left);
  /* As AWS recorded (test_lambda_invoke_with_retry_base): each retry
   * re-emits the triple, chained to the failure before it; the catcher's
   * exit follows the last failure. */
  assert_chain(&h,
               "1 0 ExecutionStarted\n"
               "2 0 TaskStateEntered\n"
               "3 2 LambdaFunctionScheduled\n"
               "4 3 LambdaFunctionStarted\n"
               "5 4 LambdaFunctionFailed\n"
               "6 5 LambdaFunctionScheduled\n"
               "7 6 LambdaFunctionStarted\n"
               "8 7 LambdaFunctionFailed\n"
               "9 8 LambdaFunctionScheduled\n"
               "10 9 LambdaFunctionStarted\n"
               "11 10 LambdaFunctionFailed\n"
               "12 11 TaskStateExited\n"
               "13 12 PassStateEntered\n"
               "14 13 PassStateExited\n"
               "15 14 ExecutionSucceeded");
  json_t *d = assert_exited(&h, 11, "T");
  assert_payload(d, "output",
                 "{\"Error\":\"CustomError\",\"Cause\":"
                 "\"{\\\"errorMessage\\\":\\\"boom\\\"}\"}");
  hist_free(&h);
}

Test(engine_history, runtime_error_after_the_task_has_no_state_exit) {
  /* As AWS recorded (test_catch_states_runtime). */
  hist h = run_hist(
      "{\"StartAt\":\"RaiseRuntime\",\"States\":{\"RaiseRuntime\":{\"Type\":"
      "\"Task\",\"Resource\":\"" FN "\",\"OutputPath\":"
      "\"$.no.such.result.path\",\"Catch\":[{\"ErrorEquals\":"
      "[\"States.Runtime\"],\"Next\":\"CaughtRuntime\"}],\"Next\":\"Final\"},"
      "\"CaughtRuntime\":{\"Type\":\"Pass\",\"End\":true},\"Final\":{\"Type\":"
      "\"Pass\",\"End\":true}}}",
      "{}", FN, echo_input, NULL);
  assert_chain(&h,
               "1 0 ExecutionStarted\n"
               "2 0 TaskStateEntered\n"
               "3 2 LambdaFunctionScheduled\n"
               "4 3 LambdaFunctionStarted\n"
               "5 4 LambdaFunctionSucceeded\n"
               "6 5 ExecutionFailed");
  json_t *d = assert_event(&h, 5, "executionFailedEventDetails",
                           "cause,error");
  cr_assert_str_eq(str(d, "error"), "States.Runtime");
  cr_assert_str_eq(str(d, "cause"),
                   "An error occurred while executing the state "
                   "'RaiseRuntime' (entered at the event id #2). Invalid path "
                   "'$.no.such.result.path' : Missing property in path "
                   "$['no']");
  hist_free(&h);
}

/* ---- aborts ---- */

typedef struct held {
  wft_gate called;
  wf_task *task;
} held;

static void hold(wf_task *t, void *payload) {
  held *h = payload;
  wf_task_retain(t);
  h->task = t;
  wft_gate_open(&h->called);
}

static void stop_and_check(const char *error, const char *cause,
                           const char *keys) {
  wf_engine *e = wft_engine(NULL);
  held hd = {.called = WFT_GATE_INIT};
  wf_engine_register_handler(e, FN, hold, &hd, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"End\":true}}}");
  wf_execution *x = wft_start(e, m, NULL, NULL);
  cr_assert(wft_gate_wait(&hd.called, WFT_WAIT_MS));
  /* Running: Started, Entered, Scheduled, Started so far (the handler may
   * be called before they are committed: wait for them). */
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  while (wf_execution_history_count(x) < 4 && wft_mono_ms() < until)
    wft_sleep_ms(1);
  cr_assert_eq(wf_execution_history_count(x), 4);
  cr_assert_eq(wf_execution_stop(x, error, cause), WF_OK);
  hist h = {.exec = x};
  h.events = wft_events(x, 1, &h.doc);
  json_t *d = assert_event(&h, 0, "executionAbortedEventDetails", keys);
  if (error) cr_assert_str_eq(str(d, "error"), error);
  if (cause) cr_assert_str_eq(str(d, "cause"), cause);
  cr_assert_eq(json_integer_value(json_object_get(event(&h, 0), "id")),
               (json_int_t)wf_execution_history_count(x));
  json_decref(h.doc);
  wf_task_release(hd.task);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_history, stop_without_error_or_cause_has_empty_details) {
  stop_and_check(NULL, NULL, "");
}

Test(engine_history, stop_with_error_and_cause_records_both) {
  stop_and_check("Stopped.ByUser", "no longer needed", "cause,error");
}

/* ---- reading ---- */

Test(engine_history, reverse_order_is_newest_first) {
  hist h = run_hist(
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Pass\",\"End\":true}}}",
      NULL, NULL, NULL, NULL);
  json_t *rdoc;
  json_t *rev = wft_events(h.exec, 1, &rdoc);
  size_t n = json_array_size(h.events);
  cr_assert_eq(n, 6);
  cr_assert_eq(json_array_size(rev), n);
  for (size_t i = 0; i < n; i++)
    cr_assert(json_equal(json_array_get(h.events, i),
                         json_array_get(rev, n - 1 - i)),
              "event %zu differs when reversed", i);
  cr_assert_str_eq(
      json_string_value(json_object_get(json_array_get(rev, 0), "type")),
      "ExecutionSucceeded");
  json_decref(rdoc);
  hist_free(&h);
}

Test(engine_history, ids_count_up_from_one_and_match_the_count) {
  hist h = run_hist(
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Wait\",\"Seconds\":0,\"Next\":\"C\"},\"C\":{\"Type\":"
      "\"Succeed\"}}}",
      NULL, NULL, NULL, NULL);
  size_t n = json_array_size(h.events);
  cr_assert_eq(n, wf_execution_history_count(h.exec));
  double last = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *ev = json_array_get(h.events, i);
    cr_assert_eq(json_integer_value(json_object_get(ev, "id")),
                 (json_int_t)i + 1);
    double ts = json_number_value(json_object_get(ev, "timestamp"));
    cr_assert_geq(ts, last, "timestamps go back at event %zu", i + 1);
    last = ts;
  }
  hist_free(&h);
}

Test(engine_history, history_off_keeps_no_events_but_the_result) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.history = WF_HISTORY_OFF;
  wf_engine *e = wft_engine(&o);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Result\":"
      "{\"done\":1},\"End\":true}}}");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  cr_assert_null(wf_execution_history(x, 0));
  cr_assert_null(wf_execution_history(x, 1));
  cr_assert_eq(wf_execution_history_count(x), 0);
  wft_assert_succeeded(x, "{\"done\":1}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- listeners ---- */

typedef struct collected {
  pthread_mutex_t mu;
  json_t *events; /* array of {"arn":..,"event":<parsed json>} */
  int mismatches;
} collected;

static void collect(const wf_event *ev, void *payload) {
  collected *c = payload;
  json_t *parsed = json_loads(ev->json, 0, NULL);
  pthread_mutex_lock(&c->mu);
  /* The struct fields agree with the JSON. */
  if (!parsed ||
      json_integer_value(json_object_get(parsed, "id")) != ev->id ||
      json_integer_value(json_object_get(parsed, "previousEventId")) !=
          ev->previous_id ||
      strcmp(json_string_value(json_object_get(parsed, "type")), ev->type) !=
          0)
    c->mismatches++;
  json_array_append_new(c->events,
                        json_pack("{s:s,s:o*}", "arn", ev->execution_arn,
                                  "event", parsed));
  pthread_mutex_unlock(&c->mu);
}

/* The events one listener saw for `arn`, in order. */
static json_t *seen_for(collected *c, const char *arn) {
  json_t *out = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(c->events, i, v) {
    if (strcmp(json_string_value(json_object_get(v, "arn")), arn) == 0)
      json_array_append(out, json_object_get(v, "event"));
  }
  return out;
}

Test(engine_history, listeners_receive_every_event_of_every_execution) {
  wf_engine *e = wft_engine(NULL);
  collected a = {PTHREAD_MUTEX_INITIALIZER, json_array(), 0};
  collected b = {PTHREAD_MUTEX_INITIALIZER, json_array(), 0};
  cr_assert_eq(wf_engine_add_listener(e, collect, &a), WF_OK);
  cr_assert_eq(wf_engine_add_listener(e, collect, &b), WF_OK);
  int left = 1;
  wf_engine_register_handler(e, FN, fail_first, &left, WF_HANDLER_INLINE,
                             NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"],"
      "\"IntervalSeconds\":1}],\"Next\":\"P\"},\"P\":{\"Type\":\"Pass\","
      "\"End\":true}}}");
  wf_execution *x1 = wft_run(e, m, "{\"n\":1}", NULL);
  wf_execution *x2 = wft_run(e, m, "{\"n\":2}", NULL);
  wf_execution *xs[] = {x1, x2};
  for (int k = 0; k < 2; k++) {
    json_t *doc;
    json_t *events = wft_events(xs[k], 0, &doc);
    json_t *sa = seen_for(&a, wf_execution_arn(xs[k]));
    json_t *sb = seen_for(&b, wf_execution_arn(xs[k]));
    cr_assert_gt(json_array_size(events), 6);
    cr_assert(json_equal(sa, events), "listener A saw other events");
    cr_assert(json_equal(sb, events), "listener B saw other events");
    json_decref(sa);
    json_decref(sb);
    json_decref(doc);
  }
  cr_assert_eq(a.mismatches, 0);
  cr_assert_eq(json_array_size(a.events), json_array_size(b.events));
  json_decref(a.events);
  json_decref(b.events);
  wf_execution_free(x1);
  wf_execution_free(x2);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* Listeners hear of an event with everything it says: the numbers and
 * text recorded with it (timeoutInSeconds and heartbeatInSeconds, a Map's
 * length and iteration indexes, the Map Run ARN) are there when it is
 * announced, not filled in afterwards. */
Test(engine_history, listeners_see_numbers_and_map_run_arns) {
  wf_engine *e = wft_engine(NULL);
  collected a = {PTHREAD_MUTEX_INITIALIZER, json_array(), 0};
  cr_assert_eq(wf_engine_add_listener(e, collect, &a), WF_OK);
  wf_engine_register_handler(e, FN, echo_input, NULL, WF_HANDLER_INLINE,
                             NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"TimeoutSeconds\":30,\"HeartbeatSeconds\":10,"
      "\"Next\":\"M\"},\"M\":{\"Type\":\"Map\",\"ItemsPath\":\"$.items\","
      "\"ItemProcessor\":{\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":"
      "\"Pass\",\"End\":true}}},\"ResultPath\":null,\"Next\":\"D\"},"
      "\"D\":{\"Type\":\"Map\",\"ItemsPath\":\"$.items\",\"ItemProcessor\":"
      "{\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":"
      "\"STANDARD\"},\"StartAt\":\"J\",\"States\":{\"J\":{\"Type\":"
      "\"Pass\",\"End\":true}}},\"End\":true}}}");
  wf_execution *x = wft_run(e, m, "{\"items\":[1,2,3]}", NULL);
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  json_t *seen = seen_for(&a, wf_execution_arn(x));
  cr_assert(json_equal(seen, events), "the listener saw other events");
  /* The history itself says them: this test cannot pass vacuously. */
  int checked = 0;
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (strcmp(type, "LambdaFunctionScheduled") == 0) {
      json_t *d = json_object_get(ev, "lambdaFunctionScheduledEventDetails");
      cr_assert_eq(json_integer_value(json_object_get(d, "timeoutInSeconds")),
                   30);
      cr_assert_eq(
          json_integer_value(json_object_get(d, "heartbeatInSeconds")), 10);
      checked |= 1;
    } else if (strcmp(type, "MapStateStarted") == 0) {
      json_t *d = json_object_get(ev, "mapStateStartedEventDetails");
      cr_assert_eq(json_integer_value(json_object_get(d, "length")), 3);
      checked |= 2;
    } else if (strcmp(type, "MapIterationStarted") == 0) {
      json_t *d = json_object_get(ev, "mapIterationStartedEventDetails");
      if (json_integer_value(json_object_get(d, "index")) == 2) checked |= 4;
    } else if (strcmp(type, "MapRunStarted") == 0) {
      json_t *d = json_object_get(ev, "mapRunStartedEventDetails");
      cr_assert(strstr(json_string_value(json_object_get(d, "mapRunArn")),
                       ":mapRun:"));
      checked |= 8;
    }
  }
  cr_assert_eq(checked, 15, "events checked: %d", checked);
  json_decref(seen);
  json_decref(doc);
  json_decref(a.events);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_history, listeners_receive_events_with_history_off) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.history = WF_HISTORY_OFF;
  wf_engine *e = wft_engine(&o);
  collected a = {PTHREAD_MUTEX_INITIALIZER, json_array(), 0};
  cr_assert_eq(wf_engine_add_listener(e, collect, &a), WF_OK);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Succeed\"}}}");
  wf_execution *x = wft_run(e, m, "{\"k\":1}", NULL);
  cr_assert_null(wf_execution_history(x, 0));
  json_t *seen = seen_for(&a, wf_execution_arn(x));
  const char *types[] = {"ExecutionStarted",     "PassStateEntered",
                         "PassStateExited",      "SucceedStateEntered",
                         "SucceedStateExited",   "ExecutionSucceeded"};
  cr_assert_eq(json_array_size(seen), 6);
  for (size_t i = 0; i < 6; i++) {
    json_t *ev = json_array_get(seen, i);
    cr_assert_str_eq(json_string_value(json_object_get(ev, "type")), types[i]);
    cr_assert_eq(json_integer_value(json_object_get(ev, "id")),
                 (json_int_t)i + 1);
  }
  cr_assert_eq(a.mismatches, 0);
  json_decref(seen);
  json_decref(a.events);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}
