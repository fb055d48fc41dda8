/* Engine behaviour that AWS records and that an earlier engine got wrong:
 * missed heartbeats, TimeoutSecondsPath read from the state input, an
 * oversized task result's history event, SendTaskFailure without error or
 * cause; plus edge cases that once crashed, hung or leaked (a taken name's
 * message, a machine timeout racing the first state, heartbeats from an
 * inline handler, a mocked invocation without a response). Sources: the
 * LocalStack snapshots validated against AWS that each test names. */
#include <stdio.h>

#include "engine_support.h"
#include "workflow/workflow.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:F"
#define SQS_TOKEN "arn:aws:states:::sqs:sendMessage.waitForTaskToken"

/* Keeps the task without answering. */
static void hold(wf_task *t, void *p) {
  wf_task_retain(t);
  *(wf_task **)p = t;
}

/* The details object of the first event of `type` (borrowed from doc). */
static json_t *event_details(json_t *events, const char *type) {
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    if (strcmp(json_string_value(json_object_get(ev, "type")), type) != 0)
      continue;
    const char *k;
    json_t *v;
    json_object_foreach(ev, k, v) {
      if (strstr(k, "EventDetails")) return v;
    }
    return NULL;
  }
  cr_assert_fail("no %s event", type);
  return NULL;
}

/* test_heartbeats.snapshot.json (test_heartbeat_timeout): TaskTimedOut and
 * ExecutionFailed carry States.Timeout, with no cause. */
Test(engine_recorded, missed_heartbeat_is_states_timeout) {
  wf_clock *c;
  wf_engine *e = wft_virtual_engine(&c, WF_HISTORY_FULL);
  wf_task *held = NULL;
  wf_engine_register_handler(e, SQS_TOKEN, hold, &held, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":\"" SQS_TOKEN
      "\",\"HeartbeatSeconds\":5,\"Parameters\":{\"QueueUrl\":\"q\"},"
      "\"End\":true}}}");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  wft_assert_failed(x, "States.Timeout", NULL);
  cr_assert_eq(wf_execution_stop_time(x), WFT_T0 + 5000);
  json_t *doc;
  json_t *d = event_details(wft_events(x, 0, &doc), "TaskTimedOut");
  cr_assert_str_eq(json_string_value(json_object_get(d, "error")),
                   "States.Timeout");
  cr_assert_null(json_object_get(d, "cause"));
  json_decref(doc);
  wf_task_release(held);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(c);
}

/* States.HeartbeatTimeout matches the heartbeat's States.Timeout only;
 * States.Timeout matches both kinds. */
static const char *caught_by(const char *errors, const char *timeouts) {
  static char out[64];
  wf_clock *c;
  wf_engine *e = wft_virtual_engine(&c, WF_HISTORY_OFF);
  wf_task *held = NULL;
  wf_engine_register_handler(e, SQS_TOKEN, hold, &held, 0, NULL);
  char def[1024];
  snprintf(def, sizeof def,
           "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
           "\"Resource\":\"" SQS_TOKEN "\",%s,\"Parameters\":{},"
           "\"Catch\":[{\"ErrorEquals\":[%s],\"Next\":\"C\"}],"
           "\"End\":true},\"C\":{\"Type\":\"Pass\",\"Result\":\"caught\","
           "\"End\":true}}}",
           timeouts, errors);
  wf_machine *m = wft_load(def);
  wf_execution *x = wft_run(e, m, NULL, NULL);
  snprintf(out, sizeof out, "%s",
           wf_execution_status(x) == WF_EXEC_SUCCEEDED
               ? wf_execution_output(x)
               : wf_execution_error(x));
  wf_task_release(held);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(c);
  return out;
}

Test(engine_recorded, heartbeat_timeout_matcher_tells_the_two_timeouts_apart) {
  const char *heartbeat = "\"HeartbeatSeconds\":5,\"TimeoutSeconds\":60";
  const char *overall = "\"TimeoutSeconds\":10";
  cr_assert_str_eq(caught_by("\"States.HeartbeatTimeout\"", heartbeat),
                   "\"caught\"");
  cr_assert_str_eq(caught_by("\"States.Timeout\"", heartbeat), "\"caught\"");
  cr_assert_str_eq(caught_by("\"States.HeartbeatTimeout\"", overall),
                   "States.Timeout");
  cr_assert_str_eq(caught_by("\"States.Timeout\"", overall), "\"caught\"");
  cr_assert_str_eq(caught_by("\"States.TaskFailed\"", heartbeat),
                   "States.Timeout");
}

/* test_timeouts.py::test_fixed_timeout_service_lambda_with_path: the path
 * reads the state input, though Parameters drop the field. */
Test(engine_recorded, timeout_seconds_path_reads_the_state_input) {
  wf_clock *c;
  wf_engine *e = wft_virtual_engine(&c, WF_HISTORY_FULL);
  wf_task *held = NULL;
  wf_engine_register_handler(e, "arn:aws:states:::lambda:invoke", hold, &held,
                             0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"Start\",\"States\":{\"Start\":{\"Type\":\"Task\","
      "\"TimeoutSecondsPath\":\"$.TimeoutSecondsValue\",\"Resource\":"
      "\"arn:aws:states:::lambda:invoke\",\"Parameters\":{\"FunctionName.$\":"
      "\"$.FunctionName\",\"Payload.$\":\"$.Payload\"},\"End\":true}}}");
  wf_execution *x = wft_run(
      e, m, "{\"TimeoutSecondsValue\":5,\"FunctionName\":\"f\",\"Payload\":null}",
      NULL);
  wft_assert_failed(x, "States.Timeout", NULL);
  cr_assert_eq(wf_execution_stop_time(x), WFT_T0 + 5000);
  json_t *doc;
  json_t *d = event_details(wft_events(x, 0, &doc), "TaskScheduled");
  cr_assert_eq(json_integer_value(json_object_get(d, "timeoutInSeconds")), 5);
  json_decref(doc);
  wf_task_release(held);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(c);
}

/* test_invalid_jsonpath[ST.INVALID_JSONPATH_IN_TIMEOUTSECONDSPATH]. */
Test(engine_recorded, timeout_seconds_path_missing_is_a_path_error) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"task\",\"States\":{\"task\":{\"Type\":\"Task\","
      "\"TimeoutSecondsPath\":\"$.NoSuchTimeoutSecondsPath\",\"Resource\":"
      "\"arn:aws:states:::lambda:invoke\",\"Parameters\":{},\"End\":true}}}");
  wf_execution *x = wft_run(e, m, "{\"int-literal\":0}", NULL);
  wft_assert_failed(
      x, "States.Runtime",
      "An error occurred while executing the state 'task' (entered at the "
      "event id #2). Invalid path '$.NoSuchTimeoutSecondsPath' : No results "
      "for path: $['NoSuchTimeoutSecondsPath']");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

static void too_big(wf_task *t, void *p) {
  (void)p;
  char out[400];
  snprintf(out, sizeof out, "{\"data\":\"%0300d\"}", 0);
  wf_task_succeed(t, out);
}

/* test_task_lambda_data_limit_exceeded_on_large_utf8_response: the
 * oversized result is a LambdaFunctionFailed, then the catcher runs. */
Test(engine_recorded, oversized_result_is_a_recorded_task_failure) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 300;
  wf_engine *e = wft_engine(&o);
  wf_engine_register_handler(e, FN, too_big, NULL, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Task\",\"Resource\":\"" FN
      "\",\"Catch\":[{\"ErrorEquals\":[\"States.DataLimitExceeded\"],"
      "\"Next\":\"H\"}],\"End\":true},\"H\":{\"Type\":\"Pass\",\"End\":true}}}");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  char *types = wft_event_types(x);
  cr_assert_str_eq(types,
                   "ExecutionStarted TaskStateEntered LambdaFunctionScheduled "
                   "LambdaFunctionStarted LambdaFunctionFailed "
                   "TaskStateExited PassStateEntered PassStateExited "
                   "ExecutionSucceeded");
  free(types);
  json_t *doc;
  json_t *d = event_details(wft_events(x, 0, &doc), "LambdaFunctionFailed");
  cr_assert_str_eq(json_string_value(json_object_get(d, "error")),
                   "States.DataLimitExceeded");
  cr_assert_str_eq(json_string_value(json_object_get(d, "cause")),
                   "The state/task '" FN "' returned a result with a size "
                   "exceeding the maximum number of bytes service limit.");
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

typedef struct kept_token {
  char text[128];
  int ready; /* set (atomically) once text is written */
} kept_token;

static void keep_token(wf_task *t, void *p) {
  kept_token *k = p;
  snprintf(k->text, sizeof k->text, "%s", wf_task_token(t));
  __atomic_store_n(&k->ready, 1, __ATOMIC_RELEASE);
}

/* test_sqs_failure_in_wait_for_task_tok_no_error_field: both null in the
 * catcher's output, no error or cause in TaskFailed. */
Test(engine_recorded, task_failure_without_error_or_cause_gives_nulls) {
  wf_engine *e = wft_engine(NULL);
  kept_token token = {.ready = 0};
  wf_engine_register_handler(e, SQS_TOKEN, keep_token, &token,
                             WF_HANDLER_INLINE, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Task\",\"Resource\":\"" SQS_TOKEN
      "\",\"Parameters\":{\"QueueUrl\":\"q\"},\"Catch\":[{\"ErrorEquals\":"
      "[\"States.ALL\"],\"ResultPath\":\"$.states_all_error\",\"Next\":\"C\"}],"
      "\"End\":true},\"C\":{\"Type\":\"Pass\",\"End\":true}}}");
  wf_execution *x = wft_start(e, m, "{\"Message\":\"m\"}", NULL);
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  while (!__atomic_load_n(&token.ready, __ATOMIC_ACQUIRE) &&
         wft_mono_ms() < until)
    wft_sleep_ms(1);
  cr_assert(__atomic_load_n(&token.ready, __ATOMIC_ACQUIRE),
            "the handler did not run");
  cr_assert_eq(wf_engine_send_task_failure(e, token.text, NULL, NULL, NULL),
               WF_OK);
  wft_wait(x);
  wft_assert_succeeded(
      x, "{\"Message\":\"m\",\"states_all_error\":{\"Error\":null,"
         "\"Cause\":null}}");
  json_t *doc;
  json_t *d = event_details(wft_events(x, 0, &doc), "TaskFailed");
  cr_assert_null(json_object_get(d, "error"));
  cr_assert_null(json_object_get(d, "cause"));
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* The message of a refused name names the execution (once formatted from
 * freed memory). */
Test(engine_recorded, taken_name_is_refused_naming_the_execution) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":60,"
      "\"End\":true}}}");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "job-1";
  wf_execution *a = wft_start(e, m, NULL, &so), *b = NULL;
  wf_error err;
  /* Other input than the running one's (the same would be idempotent). */
  cr_assert_eq(wf_engine_start(&b, e, m, "{\"other\":1}", &so, &err),
               WF_EEXIST);
  cr_assert_null(b);
  cr_assert_str_eq(err.message,
                   "Execution Already Exists: 'arn:aws:states:us-east-1:"
                   "123456789012:execution:StateMachine:job-1'");
  wf_execution_free(a);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* The machine's timeout timer must not let virtual time skip the first
 * state: a Wait of 59 s under TimeoutSeconds 60 always succeeds. */
Test(engine_recorded, machine_timeout_never_precedes_the_first_state) {
  wf_machine *m = wft_load(
      "{\"TimeoutSeconds\":60,\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":"
      "\"Wait\",\"Seconds\":59,\"End\":true}}}");
  for (int i = 0; i < 200; i++) {
    wf_clock *c;
    wf_engine *e = wft_virtual_engine(&c, WF_HISTORY_OFF);
    wf_execution *x = wft_run(e, m, NULL, NULL);
    cr_assert_eq(wf_execution_status(x), WF_EXEC_SUCCEEDED, "run %d: %s", i,
                 wf_execution_error(x));
    cr_assert_eq(wf_execution_stop_time(x), WFT_T0 + 59000);
    wf_execution_free(x);
    wf_engine_free(e);
    wf_clock_free(c);
  }
  wf_machine_free(m);
}

static void beat_then_succeed(wf_task *t, void *p) {
  (void)p;
  cr_assert_eq(wf_task_heartbeat(t), WF_OK);
  wf_task_succeed(t, "{\"beat\":true}");
}

/* An inline handler runs under the execution's lock: its heartbeat must
 * not take it again. */
Test(engine_recorded, inline_handler_may_heartbeat) {
  wf_engine *e = wft_engine(NULL);
  wf_engine_register_handler(e, FN, beat_then_succeed, NULL, WF_HANDLER_INLINE,
                             NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN
      "\",\"HeartbeatSeconds\":10,\"TimeoutSeconds\":20,\"End\":true}}}");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  wft_assert_succeeded(x, "{\"beat\":true}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* A mocked invocation without a response fails the execution and leaves
 * nothing behind (the sanitizer build checks the leak). */
Test(engine_recorded, mocked_invocation_without_response_fails_cleanly) {
  wf_engine *e = wft_engine(NULL);
  cr_assert_eq(
      wf_engine_set_mock_config(
          e,
          "{\"StateMachines\":{\"M\":{\"TestCases\":{\"C\":{\"T\":\"R\"}}}},"
          "\"MockedResponses\":{\"R\":{\"1\":{\"Return\":1}}}}",
          NULL),
      WF_OK);
  wf_machine *m = wft_load_named(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN
      "\",\"End\":true}}}",
      "M");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.test_case = "C";
  wf_execution *x = wft_run(e, m, NULL, &so);
  wft_assert_failed(x, "States.Runtime",
                    "An error occurred while executing the state 'T' (entered "
                    "at the event id #2). No mocked response was configured "
                    "for invocation 0 of the state 'T'");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}
