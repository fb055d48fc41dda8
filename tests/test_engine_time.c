/* Time (include/workflow/clock.h and the timers of the engine): Wait
 * states, task timeouts and heartbeats, the execution timeout and the
 * context object's times, all on virtual clocks. Every test that waits in
 * virtual time also proves it took (almost) no real time. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/workflow.h"

TestSuite(engine_time, .timeout = 120);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:Work"
#define DAY_MS (86400LL * 1000)

/* Run `def` on a fresh virtual clock (handler optional), asserting that
 * the run took less than WFT_REAL_MS_MAX of real time. */
static wft_fixture run_timed(const char *def, const char *input, wf_handler_fn fn,
                       void *payload) {
  wft_fixture t;
  wft_fixture_init(&t, NULL, true);
  if (fn) wft_register(t.engine, FN, fn, payload, 0);
  wft_fixture_run(&t, def, input, NULL);
  wft_assert_no_real_wait(&t);
  return t;
}

static int64_t elapsed(const wft_fixture *t) {
  return wf_execution_stop_time(t->exec) - wf_execution_start_time(t->exec);
}

/* A Wait state W with the given members, then End. */
static char *wait_def(const char *members) {
  char *def = malloc(512);
  snprintf(def, 512,
           "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",%s,"
           "\"End\":true}}}",
           members);
  return def;
}

#define AT_W "An error occurred while executing the state 'W' (entered at " \
             "the event id #2). "

/* ---- the clocks themselves ---- */

Test(engine_time, virtual_clock_moves_only_when_advanced) {
  wf_clock *c;
  cr_assert_eq(wf_clock_virtual_new(&c, WFT_T0), WF_OK);
  cr_assert_eq(wf_clock_now(c), WFT_T0);
  cr_assert_eq(wf_clock_now(c), WFT_T0);
  cr_assert_eq(wf_clock_advance(c, 1500), WF_OK);
  cr_assert_eq(wf_clock_now(c), WFT_T0 + 1500);
  cr_assert_eq(wf_clock_advance(c, 0), WF_OK);
  cr_assert_eq(wf_clock_now(c), WFT_T0 + 1500);
  cr_assert_eq(wf_clock_advance(c, -1), WF_EINVAL);
  cr_assert_eq(wf_clock_now(c), WFT_T0 + 1500);
  wf_clock_free(c);
}

Test(engine_time, virtual_clock_starting_at_zero_starts_now) {
  wf_clock *c;
  int64_t before = wf_clock_now(wf_clock_system());
  cr_assert_eq(wf_clock_virtual_new(&c, 0), WF_OK);
  int64_t now = wf_clock_now(c);
  cr_assert(now >= before && now < before + 5000, "virtual start %lld",
            (long long)now);
  wft_sleep_ms(3);
  cr_assert_eq(wf_clock_now(c), now, "a virtual clock moved by itself");
  wf_clock_free(c);
}

Test(engine_time, clock_functions_reject_bad_arguments) {
  cr_assert_eq(wf_clock_virtual_new(NULL, WFT_T0), WF_EINVAL);
  wf_clock *c = NULL;
  cr_assert_eq(wf_clock_virtual_new(&c, -5), WF_EINVAL);
  cr_assert_eq(wf_clock_custom_new(&c, NULL, NULL), WF_EINVAL);
  cr_assert_eq(wf_clock_advance(NULL, 10), WF_EINVAL);
  /* Only virtual clocks can be advanced. */
  cr_assert_eq(wf_clock_advance(wf_clock_system(), 10), WF_EINVAL);
}

static int64_t fixed_time(void *payload) { return *(int64_t *)payload; }

Test(engine_time, custom_clock_reads_the_user_function) {
  int64_t value = 1234567890123LL;
  wf_clock *c;
  cr_assert_eq(wf_clock_custom_new(&c, fixed_time, &value), WF_OK);
  cr_assert_eq(wf_clock_now(c), 1234567890123LL);
  value += 42;
  cr_assert_eq(wf_clock_now(c), 1234567890165LL);
  cr_assert_eq(wf_clock_advance(c, 10), WF_EINVAL);
  /* An engine uses it for execution times. */
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = c;
  wf_engine *e = wft_engine(&o);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":"
      "true}}}");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  cr_assert_eq(wf_execution_start_time(x), 1234567890165LL);
  cr_assert_eq(wf_execution_stop_time(x), 1234567890165LL);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(c);
}

/* ---- Wait ---- */

Test(engine_time, wait_seconds_takes_that_long_in_virtual_time) {
  char *def = wait_def("\"Seconds\":86400");
  wft_fixture t = run_timed(def, "{\"k\":1}", NULL, NULL);
  wft_assert_succeeded(t.exec, "{\"k\":1}");
  cr_assert_eq(wf_execution_start_time(t.exec), WFT_T0);
  cr_assert_eq(elapsed(&t), DAY_MS);
  cr_assert_eq(wf_clock_now(t.clock), WFT_T0 + DAY_MS);
  wft_fixture_free(&t);
  free(def);
}

/* A run of a Wait state: its input, then how long it waited (ms) and, when
 * `cause` is set, the States.Runtime cause it failed with (else it
 * succeeds with its input). */
typedef struct wait_case {
  const char *input;
  int64_t ms;
  const char *cause;
} wait_case;

/* Run the Wait state W with `members` on every case's input. */
static void check_waits(const char *members, const wait_case *cases,
                        size_t n) {
  char *def = wait_def(members);
  for (size_t i = 0; i < n; i++) {
    wft_fixture t = run_timed(def, cases[i].input, NULL, NULL);
    if (cases[i].cause)
      wft_assert_failed(t.exec, "States.Runtime", cases[i].cause);
    else
      wft_assert_succeeded(t.exec, cases[i].input);
    cr_assert_eq(elapsed(&t), cases[i].ms, "%s: waited %lld ms",
                 cases[i].input, (long long)elapsed(&t));
    wft_fixture_free(&t);
  }
  free(def);
}

Test(engine_time, wait_timestamp_waits_until_that_instant) {
  /* WFT_T0 is 2023-11-14T22:13:20Z: 6,400 s before midnight. */
  const wait_case c = {"{}", 6400000, NULL};
  check_waits("\"Timestamp\":\"2023-11-15T00:00:00Z\"", &c, 1);
}

Test(engine_time, wait_timestamp_in_the_past_continues_at_once) {
  const wait_case c = {"{}", 0, NULL};
  check_waits("\"Timestamp\":\"2016-03-14T01:59:00Z\"", &c, 1);
}

Test(engine_time, wait_seconds_path_reads_the_input) {
  const wait_case cases[] = {
      {"{\"input\":{\"waitSeconds\":120}}", 120000, NULL},
      {"{\"input\":{\"waitSeconds\":0}}", 0, NULL},
      {"{\"input\":{\"waitSeconds\":1}}", 1000, NULL},
  };
  check_waits("\"SecondsPath\":\"$.input.waitSeconds\"", cases,
              sizeof cases / sizeof *cases);
}

Test(engine_time, wait_seconds_path_run_time_errors_are_aws_messages) {
  /* Recorded on AWS (LocalStack test_base_wait_seconds_path). */
  const wait_case cases[] = {
      {"{\"input\":{\"waitSeconds\":-1}}", 0,
       AT_W "The SecondsPath parameter references a negative value: "
            "$.input.waitSeconds == -1"},
      {"{\"input\":{\"waitSeconds\":1.5}}", 0,
       AT_W "The SecondsPath parameter cannot be parsed as a long value: "
            "$.input.waitSeconds == 1.5"},
      {"{\"input\":{\"waitSeconds\":-1.5}}", 0,
       AT_W "The SecondsPath parameter cannot be parsed as a long value: "
            "$.input.waitSeconds == -1.5"},
      {"{\"input\":{}}", 0,
       AT_W "The SecondsPath parameter does not reference an input value: "
            "$.input.waitSeconds"},
  };
  check_waits("\"SecondsPath\":\"$.input.waitSeconds\"", cases,
              sizeof cases / sizeof *cases);
}

Test(engine_time, wait_timestamp_path_accepts_iso_8601_with_offset) {
  const wait_case cases[] = {
      {"{\"start_at\":\"2023-11-15T00:00:00Z\"}", 6400000, NULL},
      {"{\"start_at\":\"2023-11-15T00:00:00.000000Z\"}", 6400000, NULL},
      {"{\"start_at\":\"2023-11-15T00:00:00.00Z\"}", 6400000, NULL},
      {"{\"start_at\":\"2023-11-15T01:00:00+01:00\"}", 6400000, NULL},
      {"{\"start_at\":\"2023-11-14T22:13:21.500Z\"}", 1500, NULL},
      {"{\"start_at\":\"1999-12-31T23:59:59Z\"}", 0, NULL},
  };
  check_waits("\"TimestampPath\":\"$.start_at\"", cases,
              sizeof cases / sizeof *cases);
}

#define NOT_ISO_8601(shown)                                            \
  AT_W "The TimestampPath parameter does not reference a valid "       \
       "ISO-8601 extended offset date-time format string: $.start_at " \
       "== " shown

Test(engine_time, wait_timestamp_path_rejects_what_is_not_iso_8601) {
  /* AWS rejects a date-time without an offset (test_wait_timestamppath). */
  const wait_case cases[] = {
      {"{\"start_at\":\"2023-11-15T00:00:00\"}", 0,
       NOT_ISO_8601("2023-11-15T00:00:00")},
      {"{\"start_at\":\"2023-11-15T00:00:00.000000\"}", 0,
       NOT_ISO_8601("2023-11-15T00:00:00.000000")},
      {"{\"start_at\":\"2023-11-15 00:00:00Z\"}", 0,
       NOT_ISO_8601("2023-11-15 00:00:00Z")},
      {"{\"start_at\":\"2023-13-15T00:00:00Z\"}", 0,
       NOT_ISO_8601("2023-13-15T00:00:00Z")},
      {"{\"start_at\":\"tomorrow\"}", 0, NOT_ISO_8601("tomorrow")},
  };
  check_waits("\"TimestampPath\":\"$.start_at\"", cases,
              sizeof cases / sizeof *cases);
}

Test(engine_time, wait_longer_than_the_aws_maximum_is_a_runtime_error) {
  /* AWS: a timestamp 24,855 days ahead waits, 24,856 days ahead is "Wait
   * state delay is too long." (test_timestamp_too_far_in_future_boundary). */
  char *def = wait_def("\"TimestampPath\":\"$.start_at\"");
  /* 24855 days after 2023-11-14T22:13:20Z is 2091-12-02T22:13:20Z. */
  wft_fixture ok = run_timed(def, "{\"start_at\":\"2091-12-02T22:13:20Z\"}", NULL,
                       NULL);
  wft_assert_succeeded(ok.exec, NULL);
  cr_assert_eq(elapsed(&ok), 24855 * DAY_MS);
  wft_fixture_free(&ok);
  wft_fixture bad = run_timed(def, "{\"start_at\":\"2091-12-03T22:13:20Z\"}", NULL,
                        NULL);
  wft_assert_failed(bad.exec, "States.Runtime",
                    AT_W "Wait state delay is too long.");
  wft_fixture_free(&bad);
  free(def);
}

Test(engine_time, context_times_advance_by_the_waited_amount) {
  wft_fixture t = run_timed(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":"
      "100,\"Next\":\"P\"},\"P\":{\"Type\":\"Pass\",\"Parameters\":{"
      "\"entered.$\":\"$$.State.EnteredTime\",\"started.$\":"
      "\"$$.Execution.StartTime\"},\"End\":true}}}",
      NULL, NULL, NULL);
  wft_assert_succeeded(t.exec,
                       "{\"entered\":\"2023-11-14T22:15:00.000Z\","
                       "\"started\":\"2023-11-14T22:13:20.000Z\"}");
  wft_fixture_free(&t);
}

Test(engine_time, history_timestamps_follow_the_virtual_clock) {
  wft_fixture t = run_timed(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":"
      "30,\"End\":true}}}",
      NULL, NULL, NULL);
  json_t *doc;
  json_t *events = wft_events(t.exec, 0, &doc);
  cr_assert_eq(json_array_size(events), 4);
  /* Started, WaitStateEntered at T0; WaitStateExited, Succeeded at +30 s. */
  const double want[] = {1700000000.0, 1700000000.0, 1700000030.0,
                         1700000030.0};
  for (size_t i = 0; i < 4; i++) {
    json_t *ts = json_object_get(json_array_get(events, i), "timestamp");
    cr_assert(json_is_number(ts));
    cr_assert_float_eq(json_number_value(ts), want[i], 1e-6);
  }
  json_decref(doc);
  wft_fixture_free(&t);
}

/* ---- task timeouts ---- */

/* Holds the task without completing it, then checks what it was told. */
typedef struct sleeper {
  wft_gate called;
  wf_task *task;
  int64_t deadline;
} sleeper;

static void never_answer(wf_task *t, void *payload) {
  sleeper *s = payload;
  wf_task_retain(t);
  /* Only the latest attempt is kept (retries hand out new tasks). */
  if (s->task) wf_task_release(s->task);
  s->task = t;
  s->deadline = wf_task_deadline(t);
  wft_gate_open(&s->called);
}

Test(engine_time, task_timeout_seconds_fails_with_states_timeout) {
  sleeper s = {.called = WFT_GATE_INIT};
  wft_fixture t = run_timed(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"TimeoutSeconds\":30,\"End\":true}}}",
      NULL, never_answer, &s);
  /* AWS: ExecutionFailed {"error":"States.Timeout"}, no cause. */
  wft_assert_failed(t.exec, "States.Timeout", NULL);
  cr_assert_eq(elapsed(&t), 30000);
  cr_assert_eq(s.deadline, WFT_T0 + 30000);
  /* The handler's task is cancelled and a late answer is refused. */
  cr_assert_neq(wf_task_cancelled(s.task), 0);
  cr_assert_eq(wf_task_succeed(s.task, "{}"), WF_ESTATE);
  wf_task_release(s.task);
  wft_fixture_free(&t);
}

Test(engine_time, task_timeout_is_caught_with_an_empty_cause) {
  sleeper s = {.called = WFT_GATE_INIT};
  /* As AWS recorded (test_invoke_timeout): {"Error":"States.Timeout",
   * "Cause":""}; and States.TaskFailed does not match a timeout. */
  wft_fixture t = run_timed(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"TimeoutSeconds\":5,\"Catch\":[{\"ErrorEquals\":"
      "[\"States.TaskFailed\"],\"Next\":\"Wrong\"},{\"ErrorEquals\":"
      "[\"States.Timeout\"],\"ResultPath\":\"$.error\",\"Next\":\"Right\"}],"
      "\"End\":true},\"Wrong\":{\"Type\":\"Fail\",\"Error\":\"Wrong\"},"
      "\"Right\":{\"Type\":\"Pass\",\"End\":true}}}",
      "{\"a\":1}", never_answer, &s);
  wft_assert_succeeded(
      t.exec,
      "{\"a\":1,\"error\":{\"Error\":\"States.Timeout\",\"Cause\":\"\"}}");
  cr_assert_eq(elapsed(&t), 5000);
  wf_task_release(s.task);
  wft_fixture_free(&t);
}

Test(engine_time, task_timeout_is_retried_like_any_error) {
  sleeper s = {.called = WFT_GATE_INIT};
  /* Every attempt hangs and times out; States.Timeout is retried. */
  wft_fixture t = run_timed(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"TimeoutSeconds\":10,\"Retry\":[{\"ErrorEquals\":"
      "[\"States.Timeout\"],\"IntervalSeconds\":3,\"MaxAttempts\":2}],"
      "\"End\":true}}}",
      NULL, never_answer, &s);
  /* Three attempts time out: 10 + 3 + 10 + 6 + 10 seconds. */
  wft_assert_failed(t.exec, "States.Timeout", NULL);
  cr_assert_eq(elapsed(&t), 39000);
  wf_task_release(s.task);
  wft_fixture_free(&t);
}

static void answer_now(wf_task *t, void *payload) {
  (void)payload;
  wf_task_succeed(t, "\"answered\"");
}

Test(engine_time, task_that_answers_in_time_is_not_timed_out) {
  /* The task's timers (1 s, 2 s) are still pending while the Wait runs
   * 5 s: they must not fire into the next state. */
  wft_fixture t = run_timed(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"TimeoutSeconds\":2,\"HeartbeatSeconds\":1,\"Next\":\"W\"},"
      "\"W\":{\"Type\":\"Wait\",\"Seconds\":5,\"End\":true}}}",
      NULL, answer_now, NULL);
  wft_assert_succeeded(t.exec, "\"answered\"");
  cr_assert_eq(elapsed(&t), 5000);
  wft_fixture_free(&t);
}

Test(engine_time, timeout_seconds_path_sets_the_task_timeout) {
  sleeper s = {.called = WFT_GATE_INIT};
  /* No Parameters, so the state input and the effective input agree. */
  wft_fixture t = run_timed(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"TimeoutSecondsPath\":\"$.limits.timeout\",\"End\":true}}}",
      "{\"limits\":{\"timeout\":45}}", never_answer, &s);
  wft_assert_failed(t.exec, "States.Timeout", NULL);
  cr_assert_eq(elapsed(&t), 45000);
  cr_assert_eq(s.deadline, WFT_T0 + 45000);
  /* The scheduled event reports the timeout it got from the path. */
  json_t *doc;
  json_t *events = wft_events(t.exec, 0, &doc);
  json_t *d = json_object_get(json_array_get(events, 2),
                              "lambdaFunctionScheduledEventDetails");
  cr_assert_eq(json_integer_value(json_object_get(d, "timeoutInSeconds")), 45);
  json_decref(doc);
  wf_task_release(s.task);
  wft_fixture_free(&t);
}

Test(engine_time, timeout_seconds_path_must_be_a_positive_integer) {
  const char *inputs[] = {"{\"t\":0}", "{\"t\":-5}", "{\"t\":1.5}",
                          "{\"t\":\"10\"}"};
  for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
    wft_fixture t = run_timed(
        "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
        "\"Resource\":\"" FN "\",\"TimeoutSecondsPath\":\"$.t\",\"Catch\":"
        "[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Caught\"}],\"End\":"
        "true},\"Caught\":{\"Type\":\"Succeed\"}}}",
        inputs[i], NULL, NULL);
    cr_assert_eq(wf_execution_status(t.exec), WF_EXEC_FAILED, "%s",
                 inputs[i]);
    cr_assert_str_eq(wf_execution_error(t.exec), "States.Runtime");
    wft_fixture_free(&t);
  }
}

Test(engine_time, heartbeat_seconds_path_sets_the_heartbeat) {
  sleeper s = {.called = WFT_GATE_INIT};
  wft_fixture t = run_timed(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"HeartbeatSecondsPath\":\"$.hb\",\"Catch\":[{\"ErrorEquals\":"
      "[\"States.Timeout\"],\"ResultPath\":null,\"Next\":\"Late\"}],\"End\":"
      "true},\"Late\":{\"Type\":\"Pass\",\"End\":true}}}",
      "{\"hb\":7}", never_answer, &s);
  wft_assert_succeeded(t.exec, "{\"hb\":7}");
  cr_assert_eq(elapsed(&t), 7000);
  wf_task_release(s.task);
  wft_fixture_free(&t);
}

/* ---- heartbeats ---- */

/* Heartbeats every 4 s of virtual time (moving the clock itself while it
 * works), `beats` times, then succeeds or, with `stop`, stops answering. */
typedef struct beater {
  wf_clock *clock;
  int beats;
  int stop;
  int by_token;
  wf_engine *engine;
  atomic_int rc_bad;
  wf_task *held;
  wft_gate returned;
} beater;

static void heartbeat_then_finish(wf_task *t, void *payload) {
  beater *b = payload;
  for (int i = 0; i < b->beats; i++) {
    wf_clock_advance(b->clock, 4000);
    int rc = b->by_token
                 ? wf_engine_send_task_heartbeat(b->engine, wf_task_token(t),
                                                 NULL)
                 : wf_task_heartbeat(t);
    if (rc != WF_OK) atomic_store(&b->rc_bad, rc);
  }
  if (b->stop) {
    wf_task_retain(t);
    b->held = t;
  } else {
    wf_task_succeed(t, "{\"beats\":\"done\"}");
  }
  wft_gate_open(&b->returned);
}

static wft_fixture run_beater(const char *def, beater *b) {
  wft_fixture t;
  wft_fixture_init(&t, NULL, true);
  b->clock = t.clock;
  b->engine = t.engine;
  wf_engine_register_handler(t.engine, FN, heartbeat_then_finish, b, 0, NULL);
  wft_fixture_run(&t, def, NULL, NULL);
  wft_assert_no_real_wait(&t);
  cr_assert(wft_gate_wait(&b->returned, WFT_WAIT_MS));
  return t;
}

#define HEARTBEAT_TASK(extra)                                             \
  "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":" \
  "\"" FN "\",\"HeartbeatSeconds\":5" extra ",\"End\":true}}}"

/* Every heartbeat of `b` is accepted and keeps the task alive until the
 * handler answers, `ms` of virtual time after the start. */
static void assert_kept_alive(const char *def, beater *b, int64_t ms) {
  wft_fixture t = run_beater(def, b);
  wft_assert_succeeded(t.exec, "{\"beats\":\"done\"}");
  cr_assert_eq(atomic_load(&b->rc_bad), 0);
  cr_assert_eq(elapsed(&t), ms);
  wft_fixture_free(&t);
}

Test(engine_time, heartbeats_in_time_keep_the_task_alive) {
  beater b = {.beats = 5, .returned = WFT_GATE_INIT};
  /* 20 s of work, never 5 s without a heartbeat. */
  assert_kept_alive(HEARTBEAT_TASK(",\"TimeoutSeconds\":600"), &b, 20000);
}

Test(engine_time, heartbeats_by_token_keep_the_task_alive) {
  beater b = {.beats = 4, .by_token = 1, .returned = WFT_GATE_INIT};
  assert_kept_alive(HEARTBEAT_TASK(""), &b, 16000);
}

/* `b` stops sending heartbeats and keeps its task: the task times out,
 * `ms` of virtual time after the start, is cancelled and takes no more
 * heartbeats, and the state's Catch turns the timeout into `output`. */
static void assert_timed_out(const char *def, beater *b, const char *output,
                             int64_t ms) {
  wft_fixture t = run_beater(def, b);
  wft_assert_succeeded(t.exec, output);
  cr_assert_eq(elapsed(&t), ms);
  cr_assert_neq(wf_task_cancelled(b->held), 0);
  cr_assert_eq(wf_task_heartbeat(b->held), WF_ESTATE);
  wf_task_release(b->held);
  wft_fixture_free(&t);
}

Test(engine_time, missed_heartbeat_times_the_task_out) {
  /* One heartbeat at +4 s, then silence: timed out at +9 s, neither at
   * +5 s nor at TimeoutSeconds. Caught by States.Timeout (asl.md 11). */
  beater b = {.beats = 1, .stop = 1, .returned = WFT_GATE_INIT};
  assert_timed_out(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"HeartbeatSeconds\":5,\"TimeoutSeconds\":600,\"Catch\":"
      "[{\"ErrorEquals\":[\"States.Timeout\"],\"ResultPath\":null,\"Next\":"
      "\"Late\"}],\"End\":true},\"Late\":{\"Type\":\"Pass\",\"Result\":"
      "\"heartbeat missed\",\"End\":true}}}",
      &b, "\"heartbeat missed\"", 9000);
}

Test(engine_time, missed_heartbeat_matches_states_heartbeat_timeout) {
  beater b = {.beats = 0, .stop = 1, .returned = WFT_GATE_INIT};
  assert_timed_out(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"HeartbeatSeconds\":5,\"Catch\":[{\"ErrorEquals\":"
      "[\"States.TaskFailed\"],\"Next\":\"Wrong\"},{\"ErrorEquals\":"
      "[\"States.HeartbeatTimeout\"],\"ResultPath\":null,\"Next\":\"Late\"}],"
      "\"End\":true},\"Wrong\":{\"Type\":\"Fail\",\"Error\":\"Wrong\"},"
      "\"Late\":{\"Type\":\"Pass\",\"Result\":\"caught\",\"End\":true}}}",
      &b, "\"caught\"", 5000);
}

/* ---- the execution timeout ---- */

Test(engine_time, machine_timeout_seconds_times_the_execution_out) {
  wft_fixture t = run_timed(
      "{\"TimeoutSeconds\":60,\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":"
      "\"Wait\",\"Seconds\":3600,\"End\":true}}}",
      NULL, NULL, NULL);
  cr_assert_eq(wf_execution_status(t.exec), WF_EXEC_TIMED_OUT);
  cr_assert_str_eq(wf_execution_error(t.exec), "States.Timeout");
  cr_assert_null(wf_execution_cause(t.exec));
  cr_assert_null(wf_execution_output(t.exec));
  cr_assert_eq(elapsed(&t), 60000);
  json_t *doc;
  json_t *events = wft_events(t.exec, 1, &doc);
  json_t *last = json_array_get(events, 0);
  cr_assert_str_eq(json_string_value(json_object_get(last, "type")),
                   "ExecutionTimedOut");
  char *details =
      json_dumps(json_object_get(last, "executionTimedOutEventDetails"), 0);
  wft_assert_json(details, "{\"error\":\"States.Timeout\"}");
  free(details);
  json_decref(doc);
  wft_fixture_free(&t);
}

/* Blocks on a gate: while it runs the engine is busy, so virtual time
 * does not jump on its own. */
static void block_on_gate(wf_task *t, void *payload) {
  wft_gate_wait(payload, WFT_WAIT_MS);
  wf_task_succeed(t, "{}");
}

#define BLOCK_FN "arn:aws:lambda:us-east-1:123456789012:function:Block"

Test(engine_time, machine_timeout_cancels_the_running_task) {
  wf_clock *clock;
  wf_engine *e = wft_virtual_engine(&clock, WF_HISTORY_FULL);
  sleeper s = {.called = WFT_GATE_INIT};
  wft_gate release = WFT_GATE_INIT;
  wf_engine_register_handler(e, FN, never_answer, &s, 0, NULL);
  wf_engine_register_handler(e, BLOCK_FN, block_on_gate, &release, 0, NULL);
  wf_machine *busy = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" BLOCK_FN "\",\"End\":true}}}");
  wf_machine *m = wft_load(
      "{\"TimeoutSeconds\":120,\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":"
      "\"Task\",\"Resource\":\"" FN "\",\"Catch\":[{\"ErrorEquals\":"
      "[\"States.ALL\"],\"Next\":\"Caught\"}],\"End\":true},\"Caught\":"
      "{\"Type\":\"Succeed\"}}}");
  int64_t real = wft_mono_ms();
  /* A running handler elsewhere keeps virtual time still until the task
   * under test has been handed to its handler. */
  wf_execution *b = wft_start(e, busy, NULL, NULL);
  wf_execution *x = wft_start(e, m, NULL, NULL);
  cr_assert(wft_gate_wait(&s.called, WFT_WAIT_MS));
  wft_gate_open(&release);
  wft_wait(x);
  wft_wait(b);
  cr_assert_lt(wft_mono_ms() - real, WFT_REAL_MS_MAX);
  /* The execution timeout is not a task error: no Catch sees it. */
  cr_assert_eq(wf_execution_status(x), WF_EXEC_TIMED_OUT);
  cr_assert_str_eq(wf_execution_error(x), "States.Timeout");
  cr_assert_null(wf_execution_cause(x));
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x),
               120000);
  cr_assert_neq(wf_task_cancelled(s.task), 0);
  cr_assert_eq(wf_task_succeed(s.task, "{}"), WF_ESTATE);
  wf_task_release(s.task);
  wf_execution_free(x);
  wf_execution_free(b);
  wf_machine_free(m);
  wf_machine_free(busy);
  wf_engine_free(e);
  wf_clock_free(clock);
}

/* ---- advancing the clock by hand ---- */

typedef struct manual {
  wf_clock *clock;
} manual;

static void advance_ten_minutes(wf_task *t, void *payload) {
  manual *m = payload;
  wf_clock_advance(m->clock, 600000);
  wf_task_succeed(t, "{}");
}

Test(engine_time, advancing_the_clock_shows_in_state_times) {
  manual mm = {0};
  wf_clock *clock;
  wf_engine *e = wft_virtual_engine(&clock, WF_HISTORY_FULL);
  mm.clock = clock;
  wf_engine_register_handler(e, FN, advance_ten_minutes, &mm, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"Next\":\"P\"},\"P\":{\"Type\":\"Pass\",\"Parameters\":"
      "{\"entered.$\":\"$$.State.EnteredTime\"},\"End\":true}}}");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  wft_assert_succeeded(x, "{\"entered\":\"2023-11-14T22:23:20.000Z\"}");
  cr_assert_eq(wf_execution_stop_time(x), WFT_T0 + 600000);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

Test(engine_time, clock_advance_wakes_a_waiting_execution) {
  wf_clock *clock;
  wf_engine *e = wft_virtual_engine(&clock, WF_HISTORY_FULL);
  wft_gate release = WFT_GATE_INIT;
  wf_engine_register_handler(e, FN, block_on_gate, &release, 0, NULL);
  wf_machine *busy = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"End\":true}}}");
  wf_machine *waiting = wft_load(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":"
      "300,\"End\":true}}}");
  int64_t real = wft_mono_ms();
  wf_execution *b = wft_start(e, busy, NULL, NULL);
  wf_execution *w = wft_start(e, waiting, NULL, NULL);
  /* A handler is running: the Wait does not finish by itself. */
  cr_assert_eq(wf_execution_wait(w, 30), WF_ETIMEDOUT);
  cr_assert_eq(wf_clock_now(clock), WFT_T0);
  cr_assert_eq(wf_clock_advance(clock, 299000), WF_OK);
  cr_assert_eq(wf_execution_wait(w, 30), WF_ETIMEDOUT);
  cr_assert_eq(wf_clock_advance(clock, 1000), WF_OK);
  wft_wait(w);
  wft_assert_succeeded(w, "{}");
  cr_assert_eq(wf_execution_stop_time(w), WFT_T0 + 300000);
  cr_assert_eq(wf_execution_status(b), WF_EXEC_RUNNING);
  wft_gate_open(&release);
  wft_wait(b);
  wft_assert_succeeded(b, "{}");
  cr_assert_lt(wft_mono_ms() - real, WFT_REAL_MS_MAX);
  wf_execution_free(b);
  wf_execution_free(w);
  wf_machine_free(busy);
  wf_machine_free(waiting);
  wf_engine_free(e);
  wf_clock_free(clock);
}

/* ---- regressions: stale timers, back-offs, advancing while running ---- */

/* Keeps its task pending and hands the token to the test. */
typedef struct token_keeper {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char token[256];
  int calls;
} token_keeper;

static void keep_token(wf_task *t, void *payload) {
  token_keeper *k = payload;
  pthread_mutex_lock(&k->mu);
  snprintf(k->token, sizeof k->token, "%s", wf_task_token(t));
  k->calls++;
  pthread_cond_broadcast(&k->cv);
  pthread_mutex_unlock(&k->mu);
}

/* Wait (bounded) for call number n of keep_token; its token. */
static void wait_token(token_keeper *k, int n, char out[256]) {
  struct timespec ts = wft_deadline(WFT_WAIT_MS);
  pthread_mutex_lock(&k->mu);
  while (k->calls < n)
    if (pthread_cond_timedwait(&k->cv, &k->mu, &ts) != 0) break;
  int calls = k->calls;
  snprintf(out, 256, "%s", k->token);
  pthread_mutex_unlock(&k->mu);
  cr_assert_geq(calls, n, "the token handler was not called");
}

#define HOLD_FN "arn:aws:lambda:us-east-1:123456789012:function:Hold"

/* A Task with TimeoutSeconds 300 answered at once leaves a timeout timer
 * that no longer means anything. The next state waits for a task token
 * (no timer of its own), so the engine is idle with only that dead timer:
 * virtual time must stay where it is, not jump 300 s ahead to it. Every
 * round on the engine starts, reaches the last state and stops at T0; it
 * used to be T0 + 300 s (and the next execution started there). */
Test(engine_time, virtual_time_never_jumps_to_a_stale_timeout) {
  wf_clock *clock;
  wf_engine *e = wft_virtual_engine(&clock, WF_HISTORY_OFF);
  token_keeper k = {.mu = PTHREAD_MUTEX_INITIALIZER,
                    .cv = PTHREAD_COND_INITIALIZER};
  cr_assert_eq(wf_engine_register_handler(e, FN, answer_now, NULL,
                                          WF_HANDLER_INLINE, NULL),
               WF_OK);
  cr_assert_eq(wf_engine_register_handler(e, HOLD_FN, keep_token, &k,
                                          WF_HANDLER_INLINE, NULL),
               WF_OK);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"TimeoutSeconds\":300,\"ResultPath\":null,\"Next\":"
      "\"Hold\"},\"Hold\":{\"Type\":\"Task\",\"Resource\":\"" HOLD_FN "\","
      "\"ResultPath\":null,\"Next\":\"P\"},"
      "\"P\":{\"Type\":\"Pass\",\"Parameters\":{\"start.$\":"
      "\"$$.Execution.StartTime\",\"entered.$\":\"$$.State.EnteredTime\"},"
      "\"End\":true}}}");
  const char *at_t0 = "{\"start\":\"2023-11-14T22:13:20.000Z\","
                      "\"entered\":\"2023-11-14T22:13:20.000Z\"}";
  for (int round = 0; round < 20; round++) {
    wf_execution *x = wft_start(e, m, NULL, NULL);
    char token[256];
    wait_token(&k, round + 1, token);
    wf_error err;
    cr_assert_eq(wf_engine_send_task_success(e, token, "{}", &err), WF_OK,
                 "round %d: %s", round, err.message);
    wft_wait(x);
    wft_assert_succeeded(x, at_t0);
    cr_assert_eq(wf_execution_start_time(x), WFT_T0, "round %d: %+lld ms",
                 round, (long long)(wf_execution_start_time(x) - WFT_T0));
    cr_assert_eq(wf_execution_stop_time(x), WFT_T0, "round %d: %+lld ms",
                 round, (long long)(wf_execution_stop_time(x) - WFT_T0));
    wf_execution_free(x);
  }
  cr_assert_eq(wf_clock_now(clock), WFT_T0);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

/* Fails its first attempt from the worker pool and records the clock at
 * each call. */
typedef struct flaky {
  pthread_mutex_t mu;
  wf_clock *clock;
  int64_t called_at[4];
  unsigned calls;
} flaky;

static void fail_first_on_the_pool(wf_task *t, void *payload) {
  flaky *f = payload;
  pthread_mutex_lock(&f->mu);
  if (f->calls < 4) f->called_at[f->calls] = wf_clock_now(f->clock);
  f->calls++;
  pthread_mutex_unlock(&f->mu);
  if (wf_task_attempt(t) == 0)
    wf_task_fail(t, "Flaky", "first attempt");
  else
    wf_task_succeed(t, "\"second\"");
}

/* The back-off after a pool handler's failure starts when it fails and
 * lasts exactly IntervalSeconds, with the task's own timeout (60 s) pending
 * meanwhile: the clock must not move to that timeout while the failure is
 * being handed from the pool to the scheduler. */
Test(engine_time, retry_after_a_pool_failure_lands_at_the_back_off_time) {
  wf_clock *clock;
  cr_assert_eq(wf_clock_virtual_new(&clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = clock;
  o.history = WF_HISTORY_OFF;
  o.scheduler_threads = 4;
  o.worker_threads = 2;
  wf_engine *e = wft_engine(&o);
  flaky f = {.mu = PTHREAD_MUTEX_INITIALIZER, .clock = clock};
  cr_assert_eq(wf_engine_register_handler(e, FN, fail_first_on_the_pool, &f,
                                          0, NULL),
               WF_OK);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"TimeoutSeconds\":60,\"Retry\":[{\"ErrorEquals\":"
      "[\"Flaky\"],\"IntervalSeconds\":3,\"MaxAttempts\":1}],\"End\":true}}}");
  int64_t real = wft_mono_ms();
  for (int round = 0; round < 100; round++) {
    pthread_mutex_lock(&f.mu);
    f.calls = 0;
    pthread_mutex_unlock(&f.mu);
    wf_execution *x = wft_run(e, m, NULL, NULL);
    wft_assert_succeeded(x, "\"second\"");
    int64_t start = wf_execution_start_time(x);
    pthread_mutex_lock(&f.mu);
    cr_assert_eq(f.calls, 2, "round %d: %u calls", round, f.calls);
    cr_assert_eq(f.called_at[0] - start, 0, "round %d", round);
    cr_assert_eq(f.called_at[1] - start, 3000,
                 "round %d: the retry came %lld ms after the start", round,
                 (long long)(f.called_at[1] - start));
    pthread_mutex_unlock(&f.mu);
    cr_assert_eq(wf_execution_stop_time(x) - start, 3000, "round %d", round);
    wf_execution_free(x);
  }
  cr_assert_lt(wft_mono_ms() - real, 10 * WFT_REAL_MS_MAX);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

/* Advances the clock in small steps until told to stop. */
typedef struct advancer {
  wf_clock *clock;
  atomic_int stop;
  atomic_long advances;
} advancer;

static void *advance_main(void *arg) {
  advancer *a = arg;
  while (!atomic_load(&a->stop)) {
    wf_clock_advance(a->clock, 7);
    atomic_fetch_add(&a->advances, 1);
    /* Let the others run: under valgrind, which runs one thread at a
     * time, this loop would otherwise keep the scheduler threads from
     * ever firing the timers it makes due. */
    sched_yield();
  }
  return NULL;
}

/* wf_clock_advance() from another thread while the engine's scheduler
 * threads fire timers used to deadlock: the clock's lock was held while
 * waking the engine (which takes its queue lock), and the scheduler reads
 * the clock with its queue lock held. Executions loop through forty 1 s
 * Waits; a blocked handler on the pool keeps the engine from moving
 * virtual time itself, so only the advancing thread moves it, 7 ms at a
 * time, thousands of times, while the Waits' timers fire. Everything must
 * end within the deadline. */
Test(engine_time, clock_advance_while_executions_run_does_not_deadlock,
     .timeout = 60) {
  enum { EXECUTIONS = 6, LOOPS = 40 };
  wf_clock *clock;
  cr_assert_eq(wf_clock_virtual_new(&clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = clock;
  o.history = WF_HISTORY_OFF;
  o.scheduler_threads = 4;
  wf_engine *e = wft_engine(&o);
  wft_gate release = WFT_GATE_INIT;
  cr_assert_eq(wf_engine_register_handler(e, FN, block_on_gate, &release, 0,
                                          NULL),
               WF_OK);
  wf_machine *busy = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"End\":true}}}");
  wf_machine *m = wft_load(
      "{\"StartAt\":\"Init\",\"States\":{"
      "\"Init\":{\"Type\":\"Pass\",\"Result\":0,\"ResultPath\":\"$.n\","
      "\"Next\":\"W\"},"
      "\"W\":{\"Type\":\"Wait\",\"Seconds\":1,\"Next\":\"Inc\"},"
      "\"Inc\":{\"Type\":\"Pass\",\"Parameters\":{\"n.$\":"
      "\"States.MathAdd($.n, 1)\"},\"Next\":\"More\"},"
      "\"More\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.n\","
      "\"NumericLessThan\":40,\"Next\":\"W\"}],\"Default\":\"Done\"},"
      "\"Done\":{\"Type\":\"Succeed\"}}}");
  wf_execution *b = wft_start(e, busy, NULL, NULL);
  wf_execution *x[EXECUTIONS];
  for (int i = 0; i < EXECUTIONS; i++) x[i] = wft_start(e, m, NULL, NULL);
  /* Nothing moves time yet: the Waits stay pending. */
  cr_assert_eq(wf_execution_wait(x[0], 20), WF_ETIMEDOUT);
  cr_assert_eq(wf_clock_now(clock), WFT_T0);
  cr_assert_eq(wf_execution_status(x[0]), WF_EXEC_RUNNING);

  advancer a = {.clock = clock};
  atomic_init(&a.stop, 0);
  atomic_init(&a.advances, 0);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, advance_main, &a), 0);
  /* Poll the status (an atomic read) rather than wf_execution_wait(),
   * which helps the engine under its locks and would hang with it. */
  int64_t deadline = wft_mono_ms() + WFT_WAIT_MS;
  bool all_done = false;
  while (!all_done && wft_mono_ms() < deadline) {
    all_done = true;
    for (int i = 0; i < EXECUTIONS; i++)
      if (wf_execution_status(x[i]) == WF_EXEC_RUNNING) all_done = false;
    if (!all_done) wft_sleep_ms(1);
  }
  atomic_store(&a.stop, 1);
  struct timespec ts = wft_deadline(WFT_WAIT_MS);
  int joined = pthread_timedjoin_np(th, NULL, &ts);
  long advances = atomic_load(&a.advances);
  /* On a deadlock, fail without freeing what the stuck threads hold (the
   * process ends with the test). */
  cr_assert_eq(joined, 0, "wf_clock_advance() did not return (deadlock) "
               "after %ld advances", advances);
  cr_assert(all_done, "the executions did not finish (deadlock?) after %ld "
            "advances", advances);
  /* Forty 1 s Waits in 7 ms steps. */
  cr_assert_geq(advances, LOOPS * 1000 / 7, "only %ld advances", advances);
  for (int i = 0; i < EXECUTIONS; i++) {
    wft_assert_succeeded(x[i], "{\"n\":40}");
    int64_t took = wf_execution_stop_time(x[i]) - wf_execution_start_time(x[i]);
    /* Forty 1 s Waits: at least 40 s of virtual time. */
    cr_assert_geq(took, LOOPS * 1000, "execution %d took %lld ms", i,
                  (long long)took);
    wf_execution_free(x[i]);
  }
  cr_assert_eq(wf_execution_status(b), WF_EXEC_RUNNING);
  wft_gate_open(&release);
  wft_wait(b);
  wft_assert_succeeded(b, "{}");
  wf_execution_free(b);
  wf_machine_free(busy);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}
