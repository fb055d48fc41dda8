/* Retry and Catch (ASL "Error handling"; reference asl.md section 10):
 * each retrier field, measured on a virtual clock by recording the engine
 * time at every attempt, and each catcher field. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/workflow.h"

TestSuite(engine_retry, .timeout = 120);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:Work"

/* A scripted handler: attempt i throws errors[i] (with cause "cause <i>"),
 * or succeeds with {"attempt": i} once the script is over or at a NULL
 * entry. Records the engine time and the effective input of each attempt. */
typedef struct script {
  wf_clock *clock;
  const char *errors[16];
  const char *always; /* throw this at every attempt when set */
  pthread_mutex_t mu;
  int n;
  int64_t at[32];
  char input[32][128];
} script;

static void scripted(wf_task *t, void *payload) {
  script *s = payload;
  pthread_mutex_lock(&s->mu);
  int i = s->n++;
  if (i < 32) {
    s->at[i] = wf_clock_now(s->clock);
    snprintf(s->input[i], sizeof s->input[i], "%s", wf_task_input(t));
  }
  pthread_mutex_unlock(&s->mu);
  const char *err = s->always ? s->always : (i < 16 ? s->errors[i] : NULL);
  if (err) {
    char cause[32];
    snprintf(cause, sizeof cause, "cause %d", i);
    wf_task_fail(t, err, cause);
  } else {
    char out[32];
    snprintf(out, sizeof out, "{\"attempt\":%d}", i);
    wf_task_succeed(t, out);
  }
}

typedef struct run {
  wf_clock *clock;
  wf_engine *engine;
  wf_machine *machine;
  wf_execution *exec;
  int64_t real_ms;
} run;

/* Run a definition whose Task resource is FN against `s` on a virtual
 * clock, asserting that it took no real time. */
static run run_script(const char *def, script *s, const char *input,
                      uint64_t seed) {
  run r = {0};
  cr_assert_eq(wf_clock_virtual_new(&r.clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = r.clock;
  o.seed = seed;
  r.engine = wft_engine(&o);
  s->clock = r.clock;
  pthread_mutex_init(&s->mu, NULL);
  cr_assert_eq(wf_engine_register_handler(r.engine, FN, scripted, s, 0, NULL),
               WF_OK);
  r.machine = wft_load(def);
  int64_t t = wft_mono_ms();
  r.exec = wft_run(r.engine, r.machine, input, NULL);
  r.real_ms = wft_mono_ms() - t;
  cr_assert_lt(r.real_ms, WFT_REAL_MS_MAX, "virtual waits took %lld ms",
               (long long)r.real_ms);
  return r;
}

static void run_free(run *r) {
  wf_execution_free(r->exec);
  wf_machine_free(r->machine);
  wf_engine_free(r->engine);
  wf_clock_free(r->clock);
}

/* A Task state on FN with the given members, and a Pass state "Caught"
 * when a catcher goes there (AWS rejects unreachable states). */
static char *task_def(const char *handling) {
  char *def = malloc(2048);
  snprintf(def, 2048,
           "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
           "\"Resource\":\"" FN "\"%s%s,\"End\":true}%s}}",
           handling[0] ? "," : "", handling,
           strstr(handling, "\"Caught\"")
               ? ",\"Caught\":{\"Type\":\"Pass\",\"End\":true}"
               : "");
  return def;
}

static void assert_attempts_at(const script *s, const int64_t *offsets,
                               int n) {
  cr_assert_eq(s->n, n, "%d attempts, expected %d", s->n, n);
  for (int i = 0; i < n; i++)
    cr_assert_eq(s->at[i], WFT_T0 + offsets[i],
                 "attempt %d at T0%+lld ms, expected T0%+lld ms", i,
                 (long long)(s->at[i] - WFT_T0), (long long)offsets[i]);
}

/* ---- retrier fields ---- */

Test(engine_retry, interval_and_backoff_rate_space_the_attempts) {
  script s = {.always = "Err"};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"Err\"],\"IntervalSeconds\":3,"
      "\"BackoffRate\":1.5,\"MaxAttempts\":2}]");
  run r = run_script(def, &s, NULL, 1);
  /* Retries after 3 s and 3 × 1.5 = 4.5 s (asl.md: 3 s, 4.5 s). */
  const int64_t want[] = {0, 3000, 7500};
  assert_attempts_at(&s, want, 3);
  wft_assert_failed(r.exec, "Err", "cause 2");
  cr_assert_eq(wf_execution_stop_time(r.exec), WFT_T0 + 7500);
  run_free(&r);
  free(def);
}

Test(engine_retry, defaults_are_one_second_three_retries_rate_two) {
  script s = {.always = "Err"};
  char *def = task_def("\"Retry\":[{\"ErrorEquals\":[\"Err\"]}]");
  run r = run_script(def, &s, NULL, 1);
  const int64_t want[] = {0, 1000, 3000, 7000};
  assert_attempts_at(&s, want, 4);
  wft_assert_failed(r.exec, "Err", "cause 3");
  run_free(&r);
  free(def);
}

Test(engine_retry, retry_until_success_returns_the_result) {
  script s = {.errors = {"Flaky", "Flaky"}};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"Flaky\"],\"IntervalSeconds\":10}]");
  run r = run_script(def, &s, "{\"in\":1}", 1);
  const int64_t want[] = {0, 10000, 30000};
  assert_attempts_at(&s, want, 3);
  wft_assert_succeeded(r.exec, "{\"attempt\":2}");
  /* Every attempt gets the same effective input. */
  for (int i = 0; i < 3; i++) wft_assert_json(s.input[i], "{\"in\":1}");
  run_free(&r);
  free(def);
}

Test(engine_retry, max_attempts_zero_never_retries) {
  script s = {.always = "Err"};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"Err\"],\"MaxAttempts\":0}],"
      "\"Catch\":[{\"ErrorEquals\":[\"Err\"],\"Next\":\"Caught\"}]");
  run r = run_script(def, &s, NULL, 1);
  const int64_t want[] = {0};
  assert_attempts_at(&s, want, 1);
  wft_assert_succeeded(r.exec, "{\"Error\":\"Err\",\"Cause\":\"cause 0\"}");
  run_free(&r);
  free(def);
}

Test(engine_retry, max_delay_seconds_caps_each_delay) {
  script s = {.always = "Err"};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"Err\"],\"IntervalSeconds\":2,"
      "\"BackoffRate\":10,\"MaxAttempts\":3,\"MaxDelaySeconds\":5}]");
  run r = run_script(def, &s, NULL, 1);
  /* 2 s, then min(20, 5) and min(200, 5). */
  const int64_t want[] = {0, 2000, 7000, 12000};
  assert_attempts_at(&s, want, 4);
  run_free(&r);
  free(def);
}

Test(engine_retry, jitter_none_keeps_the_exact_delays) {
  script s = {.always = "Err"};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"Err\"],\"IntervalSeconds\":4,"
      "\"MaxAttempts\":3,\"JitterStrategy\":\"NONE\"}]");
  run r = run_script(def, &s, NULL, 1);
  const int64_t want[] = {0, 4000, 12000, 28000};
  assert_attempts_at(&s, want, 4);
  run_free(&r);
  free(def);
}

/* The delays of a FULL-jitter run with `seed`, in ms. */
static void jitter_delays(uint64_t seed, const char *retrier, int n,
                          int64_t *delays) {
  script s = {.always = "Err"};
  char handling[512];
  snprintf(handling, sizeof handling, "\"Retry\":[%s]", retrier);
  char *def = task_def(handling);
  run r = run_script(def, &s, NULL, seed);
  cr_assert_eq(s.n, n + 1);
  for (int i = 0; i < n; i++) delays[i] = s.at[i + 1] - s.at[i];
  run_free(&r);
  free(def);
}

Test(engine_retry, jitter_full_draws_each_delay_within_zero_and_the_backoff) {
  const char *retrier =
      "{\"ErrorEquals\":[\"Err\"],\"IntervalSeconds\":10,\"BackoffRate\":2,"
      "\"MaxAttempts\":6,\"JitterStrategy\":\"FULL\"}";
  int below = 0;
  for (uint64_t seed = 1; seed <= 4; seed++) {
    int64_t d[6];
    jitter_delays(seed, retrier, 6, d);
    for (int i = 0; i < 6; i++) {
      int64_t bound = 10000LL << i;
      cr_assert(d[i] >= 0 && d[i] <= bound,
                "seed %llu: delay %d is %lld ms, outside [0, %lld]",
                (unsigned long long)seed, i, (long long)d[i],
                (long long)bound);
      below += d[i] < bound;
    }
  }
  /* Jitter is applied: 24 uniform draws are not all at the maximum. */
  cr_assert_gt(below, 12, "only %d of 24 delays were below the backoff",
               below);
}

Test(engine_retry, jitter_full_respects_max_delay_and_the_seed) {
  const char *retrier =
      "{\"ErrorEquals\":[\"Err\"],\"IntervalSeconds\":3,\"BackoffRate\":3,"
      "\"MaxAttempts\":5,\"MaxDelaySeconds\":10,\"JitterStrategy\":\"FULL\"}";
  int64_t a[5], b[5], c[5];
  jitter_delays(42, retrier, 5, a);
  jitter_delays(42, retrier, 5, b);
  jitter_delays(43, retrier, 5, c);
  const int64_t bound[] = {3000, 9000, 10000, 10000, 10000};
  bool differs = false;
  for (int i = 0; i < 5; i++) {
    cr_assert(a[i] >= 0 && a[i] <= bound[i], "delay %d: %lld ms", i,
              (long long)a[i]);
    cr_assert(c[i] >= 0 && c[i] <= bound[i], "delay %d: %lld ms", i,
              (long long)c[i]);
    /* The engine's seed makes the draws reproducible. */
    cr_assert_eq(a[i], b[i], "same seed, delay %d: %lld vs %lld ms", i,
                 (long long)a[i], (long long)b[i]);
    differs |= a[i] != c[i];
  }
  cr_assert(differs, "another seed gave the same five delays");
}

/* ---- choosing the retrier ---- */

Test(engine_retry, retriers_are_tried_in_order) {
  script s = {.errors = {"E1", "E2"}};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"E1\"],\"IntervalSeconds\":1},"
      "{\"ErrorEquals\":[\"E2\",\"E1\"],\"IntervalSeconds\":10}]");
  run r = run_script(def, &s, NULL, 1);
  /* E1 takes the first retrier (1 s), E2 the second (10 s). */
  const int64_t want[] = {0, 1000, 11000};
  assert_attempts_at(&s, want, 3);
  wft_assert_succeeded(r.exec, "{\"attempt\":2}");
  run_free(&r);
  free(def);
}

Test(engine_retry, each_retrier_counts_its_own_attempts_as_in_the_aws_docs) {
  /* AWS's example: ErrorA and ErrorB share a retrier (MaxAttempts 2),
   * ErrorC has its own; A, B, C then B exhausts the first retrier. */
  script s = {.errors = {"ErrorA", "ErrorB", "ErrorC", "ErrorB"}};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"ErrorA\",\"ErrorB\"],"
      "\"IntervalSeconds\":1,\"BackoffRate\":2.0,\"MaxAttempts\":2},"
      "{\"ErrorEquals\":[\"ErrorC\"],\"IntervalSeconds\":5}],"
      "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Caught\"}]");
  run r = run_script(def, &s, NULL, 1);
  const int64_t want[] = {0, 1000, 3000, 8000};
  assert_attempts_at(&s, want, 4);
  wft_assert_succeeded(r.exec,
                       "{\"Error\":\"ErrorB\",\"Cause\":\"cause 3\"}");
  run_free(&r);
  free(def);
}

Test(engine_retry, first_matching_retrier_decides_even_when_exhausted) {
  script s = {.always = "Specific"};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"Specific\"],\"MaxAttempts\":1},"
      "{\"ErrorEquals\":[\"States.ALL\"],\"MaxAttempts\":5}]");
  run r = run_script(def, &s, NULL, 1);
  const int64_t want[] = {0, 1000};
  assert_attempts_at(&s, want, 2);
  wft_assert_failed(r.exec, "Specific", "cause 1");
  run_free(&r);
  free(def);
}

Test(engine_retry, unmatched_errors_are_not_retried) {
  script s = {.always = "Other"};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"Err\",\"other\"],\"MaxAttempts\":5}]");
  run r = run_script(def, &s, NULL, 1);
  /* Names match exactly and case-sensitively. */
  cr_assert_eq(s.n, 1);
  wft_assert_failed(r.exec, "Other", "cause 0");
  run_free(&r);
  free(def);
}

Test(engine_retry, task_failed_matches_any_error_name) {
  script s = {.errors = {"Custom.Error", "Lambda.Unknown"}};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"States.TaskFailed\"],"
      "\"IntervalSeconds\":2,\"BackoffRate\":1}]");
  run r = run_script(def, &s, NULL, 1);
  const int64_t want[] = {0, 2000, 4000};
  assert_attempts_at(&s, want, 3);
  wft_assert_succeeded(r.exec, "{\"attempt\":2}");
  run_free(&r);
  free(def);
}

Test(engine_retry, retry_count_appears_in_the_context_object) {
  script s = {.errors = {"E", "E", "E"}};
  char *def = task_def(
      "\"Parameters\":{\"count.$\":\"$$.State.RetryCount\","
      "\"state.$\":\"$$.State.Name\"},"
      "\"Retry\":[{\"ErrorEquals\":[\"E\"],\"MaxAttempts\":3}]");
  run r = run_script(def, &s, NULL, 1);
  cr_assert_eq(s.n, 4);
  for (int i = 0; i < 4; i++) {
    char want[64];
    snprintf(want, sizeof want, "{\"count\":%d,\"state\":\"T\"}", i);
    wft_assert_json(s.input[i], want);
  }
  run_free(&r);
  free(def);
}

Test(engine_retry, retry_counters_restart_when_the_state_is_entered_again) {
  /* Each visit of T fails once then succeeds; a Choice loops twice. With
   * MaxAttempts 1 per visit, both visits must be retried. */
  script s = {.errors = {"E", NULL, "E", NULL}};
  const char *def =
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"ResultPath\":\"$.last\",\"Retry\":[{\"ErrorEquals\":"
      "[\"E\"],\"MaxAttempts\":1}],\"Next\":\"Again\"},\"Again\":{\"Type\":"
      "\"Choice\",\"Choices\":[{\"Variable\":\"$.last.attempt\","
      "\"NumericLessThan\":3,\"Next\":\"T\"}],\"Default\":\"Done\"},"
      "\"Done\":{\"Type\":\"Succeed\"}}}";
  run r = run_script(def, &s, "{}", 1);
  cr_assert_eq(s.n, 4);
  wft_assert_succeeded(r.exec, "{\"last\":{\"attempt\":3}}");
  run_free(&r);
}

/* ---- catchers ---- */

Test(engine_retry, catch_writes_the_error_into_the_raw_input) {
  script s = {.always = "Err"};
  char *def = task_def(
      "\"InputPath\":\"$.b\",\"Parameters\":{\"x.$\":\"$.c\"},"
      "\"Catch\":[{\"ErrorEquals\":[\"Err\"],\"ResultPath\":\"$.error\","
      "\"Next\":\"Caught\"}]");
  run r = run_script(def, &s, "{\"a\":1,\"b\":{\"c\":2}}", 1);
  wft_assert_json(s.input[0], "{\"x\":2}");
  /* Written into the raw input, not the effective one (asl.md 10). */
  wft_assert_succeeded(r.exec,
                       "{\"a\":1,\"b\":{\"c\":2},\"error\":{\"Error\":\"Err\","
                       "\"Cause\":\"cause 0\"}}");
  run_free(&r);
  free(def);
}

Test(engine_retry, catch_without_result_path_outputs_the_error_object) {
  script s = {.always = "Err"};
  char *def = task_def(
      "\"Catch\":[{\"ErrorEquals\":[\"Err\"],\"Next\":\"Caught\"}]");
  run r = run_script(def, &s, "{\"a\":1}", 1);
  wft_assert_succeeded(r.exec, "{\"Error\":\"Err\",\"Cause\":\"cause 0\"}");
  run_free(&r);
  free(def);
}

Test(engine_retry, catch_with_null_result_path_keeps_the_input) {
  script s = {.always = "Err"};
  char *def = task_def(
      "\"Catch\":[{\"ErrorEquals\":[\"Err\"],\"ResultPath\":null,"
      "\"Next\":\"Caught\"}]");
  run r = run_script(def, &s, "{\"a\":1}", 1);
  wft_assert_succeeded(r.exec, "{\"a\":1}");
  run_free(&r);
  free(def);
}

Test(engine_retry, catchers_are_tried_in_order_and_next_is_followed) {
  script s = {.always = "Two"};
  const char *def =
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"Catch\":[{\"ErrorEquals\":[\"One\"],\"Next\":\"A\"},"
      "{\"ErrorEquals\":[\"Two\",\"One\"],\"Next\":\"B\"},{\"ErrorEquals\":"
      "[\"States.ALL\"],\"Next\":\"C\"}],\"End\":true},"
      "\"A\":{\"Type\":\"Pass\",\"Result\":\"A\",\"End\":true},"
      "\"B\":{\"Type\":\"Pass\",\"Result\":\"B\",\"End\":true},"
      "\"C\":{\"Type\":\"Pass\",\"Result\":\"C\",\"End\":true}}}";
  run r = run_script(def, &s, NULL, 1);
  wft_assert_succeeded(r.exec, "\"B\"");
  run_free(&r);
}

Test(engine_retry, states_all_catches_any_task_error) {
  const char *errors[] = {"Custom", "Lambda.Unknown", "States.TaskFailed",
                          "States.Permissions"};
  for (int i = 0; i < 4; i++) {
    script s = {.always = errors[i]};
    char *def = task_def(
        "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"ResultPath\":"
        "\"$.e\",\"Next\":\"Caught\"}]");
    run r = run_script(def, &s, "{}", 1);
    char want[128];
    snprintf(want, sizeof want,
             "{\"e\":{\"Error\":\"%s\",\"Cause\":\"cause 0\"}}", errors[i]);
    wft_assert_succeeded(r.exec, want);
    run_free(&r);
    free(def);
  }
}

Test(engine_retry, retries_are_exhausted_before_the_catcher_runs) {
  script s = {.always = "Err"};
  char *def = task_def(
      "\"Retry\":[{\"ErrorEquals\":[\"Err\"],\"MaxAttempts\":2,"
      "\"IntervalSeconds\":1}],\"Catch\":[{\"ErrorEquals\":[\"Err\"],"
      "\"Next\":\"Caught\"}]");
  run r = run_script(def, &s, NULL, 1);
  const int64_t want[] = {0, 1000, 3000};
  assert_attempts_at(&s, want, 3);
  wft_assert_succeeded(r.exec, "{\"Error\":\"Err\",\"Cause\":\"cause 2\"}");
  run_free(&r);
  free(def);
}

Test(engine_retry, states_runtime_is_never_retried_or_caught) {
  /* An OutputPath that selects nothing is States.Runtime, which no Retry
   * and no Catch sees, not even one naming it (AWS-recorded:
   * test_catch_states_runtime). */
  script s = {.errors = {NULL}};
  char *def = task_def(
      "\"OutputPath\":\"$.no.such.result.path\","
      "\"Retry\":[{\"ErrorEquals\":[\"States.Runtime\"]},"
      "{\"ErrorEquals\":[\"States.ALL\"]}],"
      "\"Catch\":[{\"ErrorEquals\":[\"States.Runtime\"],\"Next\":\"Caught\"},"
      "{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Caught\"}]");
  run r = run_script(def, &s, "{}", 1);
  cr_assert_eq(s.n, 1);
  wft_assert_failed(r.exec, "States.Runtime",
                    "An error occurred while executing the state 'T' (entered "
                    "at the event id #2). Invalid path "
                    "'$.no.such.result.path' : Missing property in path "
                    "$['no']");
  run_free(&r);
  free(def);
}

Test(engine_retry, input_path_failure_is_runtime_before_the_handler_runs) {
  script s = {.errors = {NULL}};
  char *def = task_def(
      "\"InputPath\":\"$.NoSuchInputPath\","
      "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Caught\"}]");
  run r = run_script(def, &s, "{}", 1);
  cr_assert_eq(s.n, 0);
  wft_assert_failed(r.exec, "States.Runtime",
                    "An error occurred while executing the state 'T' (entered "
                    "at the event id #2). Invalid path '$.NoSuchInputPath' : "
                    "No results for path: $['NoSuchInputPath']");
  run_free(&r);
  free(def);
}
