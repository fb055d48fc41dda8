/* Durable executions, on SQLite and on PostgreSQL (the throwaway server of
 * the ctest fixture "postgres"; skipped, saying why, without one): what
 * an engine commits survives it, and a
 * new engine on the same store resumes what was running — Waits at their
 * deadlines, retries with their counts, callback tasks with their tokens,
 * tasks in flight called again (marked as redeliveries, same idempotency
 * key), Map iterations and Parallel branches not yet done, and nothing
 * done twice. The first engine of a test runs on a clock that stands
 * still (what waits, waits); a "restart" frees the engine and the store
 * and opens both again on a virtual clock set later, which runs what is
 * due and moves on to the next deadline by itself. */
#include <criterion/criterion.h>
#include <pthread.h>

#include "engine_support.h"
#include "store_support.h"
#include "workflow/json.h"

TestSuite(durable, .timeout = 120);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define CALLBACK "arn:aws:states:::lambda:invoke.waitForTaskToken"
#define SQS_CALLBACK "arn:aws:states:::sqs:sendMessage.waitForTaskToken"

/* What the handlers saw, across engines. */
typedef struct seen {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int calls;
  int redelivered;
  char token[64], key[160];
  char keys[8][160];
  wf_task *held[8];
  int nheld;
} seen;

static seen SEEN = {.mu = PTHREAD_MUTEX_INITIALIZER,
                    .cv = PTHREAD_COND_INITIALIZER};

static void saw(wf_task *t, bool hold) {
  pthread_mutex_lock(&SEEN.mu);
  if (SEEN.calls < 8)
    snprintf(SEEN.keys[SEEN.calls], sizeof SEEN.keys[0], "%s",
             wf_task_idempotency_key(t));
  SEEN.calls++;
  SEEN.redelivered += wf_task_redelivered(t) != 0;
  snprintf(SEEN.key, sizeof SEEN.key, "%s", wf_task_idempotency_key(t));
  if (hold && SEEN.nheld < 8) {
    wf_task_retain(t);
    SEEN.held[SEEN.nheld++] = t;
  }
  pthread_cond_broadcast(&SEEN.cv);
  pthread_mutex_unlock(&SEEN.mu);
}

/* Wait (real time, bounded) until handlers were called `n` times in all. */
static void wait_calls(int n) {
  int got = wft_wait_count(&SEEN.mu, &SEEN.cv, &SEEN.calls, n);
  cr_assert_geq(got, n, "the handler was called %d times, not %d", got, n);
}

static void release_held(void) {
  pthread_mutex_lock(&SEEN.mu);
  for (int i = 0; i < SEEN.nheld; i++) wf_task_release(SEEN.held[i]);
  SEEN.nheld = 0;
  pthread_mutex_unlock(&SEEN.mu);
}

/* Keeps the task: the engine stops with it in flight. */
static void hold(wf_task *t, void *p) {
  (void)p;
  saw(t, true);
}

/* A callback task: its token goes "outside" and nothing completes it. */
static void callback(wf_task *t, void *p) {
  (void)p;
  pthread_mutex_lock(&SEEN.mu);
  snprintf(SEEN.token, sizeof SEEN.token, "%s",
           json_string_value(json_object_get(wf_task_input_value(t), "token")));
  pthread_mutex_unlock(&SEEN.mu);
  saw(t, false);
}

/* Fails attempts 0 and 1, then answers its attempt number. */
static void flaky(wf_task *t, void *p) {
  (void)p;
  saw(t, false);
  unsigned a = wf_task_attempt(t);
  if (a < 2) {
    wf_task_fail(t, "Boom", "not yet");
    return;
  }
  char out[32];
  snprintf(out, sizeof out, "{\"attempt\":%u}", a);
  wf_task_succeed(t, out);
}

static void echo(wf_task *t, void *p) {
  (void)p;
  wf_task_succeed(t, wf_task_input(t));
}

static void count(wf_task *t, void *p) {
  (void)p;
  saw(t, false);
  wf_task_succeed(t, wf_task_input(t));
}

/* ---- an engine on a store, restartable ---- */

typedef struct denv {
  const char *kind; /* "sqlite" or "postgres" (wst_open) */
  char *dir;
  wf_clock *clock;
  int64_t frozen_at;
  wf_store *store;
  wf_engine *engine;
  size_t max_running; /* for the engines started from now on */
} denv;

static int64_t frozen(void *p) { return *(int64_t *)p; }

/* `virtual_time`: a virtual clock, else one that stands still. */
static void denv_start(denv *d, int64_t at_ms, bool virtual_time) {
  d->store = wst_open(d->kind, d->dir, NULL);
  d->frozen_at = at_ms;
  if (virtual_time)
    cr_assert_eq(wf_clock_virtual_new(&d->clock, at_ms), WF_OK);
  else
    cr_assert_eq(wf_clock_custom_new(&d->clock, frozen, &d->frozen_at), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = d->clock;
  o.store = d->store;
  o.seed = 7;
  o.max_running = d->max_running;
  d->engine = wft_engine(&o);
  wft_register(d->engine, FN "Hold", hold, NULL, 0);
  wft_register(d->engine, CALLBACK, callback, NULL, 0);
  wft_register(d->engine, FN "Flaky", flaky, NULL, WF_HANDLER_INLINE);
  wft_register(d->engine, FN "Echo", echo, NULL, WF_HANDLER_INLINE);
  wft_register(d->engine, FN "Count", count, NULL, WF_HANDLER_INLINE);
}

static void denv_init(denv *d, const char *kind) {
  memset(d, 0, sizeof *d);
  d->kind = kind;
  d->dir = wst_tmpdir();
  pthread_mutex_lock(&SEEN.mu);
  memset(SEEN.token, 0, sizeof SEEN.token);
  SEEN.calls = SEEN.redelivered = 0;
  pthread_mutex_unlock(&SEEN.mu);
  denv_start(d, WFT_T0, false);
}

/* The engine and the store go, as a process would. */
static void denv_stop(denv *d) {
  wf_engine_free(d->engine);
  wf_store_free(d->store);
  wf_clock_free(d->clock);
  d->engine = NULL;
  d->store = NULL;
  d->clock = NULL;
}

/* Stop, then start again `later_ms` after the stopped clock's time, and
 * resume. Returns how many executions were resumed. */
static size_t denv_restart(denv *d, int64_t later_ms) {
  int64_t now = wf_clock_now(d->clock);
  denv_stop(d);
  denv_start(d, now + later_ms, true);
  size_t n = 0;
  wf_error err;
  cr_assert_eq(wf_engine_resume(d->engine, &n, &err), WF_OK, "%s",
               err.message);
  return n;
}

static void denv_fini(denv *d) {
  if (d->engine) denv_stop(d);
  release_held();
  wst_rmdir(d->dir);
}

/* The execution's end as the store has it (polled, real time, bounded).
 * A resumed engine's virtual clock moves on by itself, and a task's
 * answer lets the execution end at once: it may end before a handle to it
 * could be had (wf_engine_find_execution finds running ones only). */
static json_t *wait_ended(denv *d, const char *arn) {
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (;;) {
    json_t *x = wst_execution(d->store, arn);
    if (x && json_integer_value(json_object_get(x, "status")) != WF_EXEC_RUNNING)
      return x;
    json_decref(x);
    cr_assert_lt(wft_mono_ms(), until, "%s did not end", arn);
    wft_sleep_ms(1);
  }
}

/* Ended with `status`; its output (SUCCEEDED) or error (else) as given. */
static void assert_ended(denv *d, const char *arn, int status,
                         const char *output_or_error) {
  json_t *x = wait_ended(d, arn);
  cr_assert_eq(json_integer_value(json_object_get(x, "status")), status,
               "%s ended %lld: %s", arn,
               (long long)json_integer_value(json_object_get(x, "status")),
               json_string_value(json_object_get(x, "cause")));
  if (status == WF_EXEC_SUCCEEDED)
    wft_assert_json(json_string_value(json_object_get(x, "output")),
                    output_or_error);
  else if (output_or_error)
    cr_assert_str_eq(json_string_value(json_object_get(x, "error")),
                     output_or_error);
  json_decref(x);
}

/* When it ended, by the store. */
static int64_t stop_time(denv *d, const char *arn) {
  json_t *x = wait_ended(d, arn);
  int64_t ms = json_integer_value(json_object_get(x, "stop"));
  json_decref(x);
  return ms;
}

/* Poll the store (real time, bounded) until the execution has committed
 * at least `n` events. */
static void wait_committed(denv *d, const char *arn, int64_t n) {
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (;;) {
    json_t *x = wst_execution(d->store, arn);
    int64_t got = x ? json_integer_value(json_object_get(x, "events")) : 0;
    json_decref(x);
    if (got >= n) return;
    cr_assert_lt(wft_mono_ms(), until, "%s committed %lld events, not %lld",
                 arn, (long long)got, (long long)n);
    wft_sleep_ms(1);
  }
}

static char *types_in_store(denv *d, const char *arn) {
  return wst_types(d->store, arn);
}

static void assert_types(denv *d, const char *arn, const char *want) {
  char *got = types_in_store(d, arn);
  cr_assert_str_eq(got, want);
  free(got);
}

/* ---- tests ---- */

/* Each test runs on each durable backend. */
static wst_kind KINDS[] = {{"sqlite"}, {"postgres"}};
#define STORES(test) WST_OVER(KINDS, durable, test)

STORES(keeps_ended_executions_and_their_history) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"E\",\"States\":{\"E\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Echo\",\"Next\":\"P\"},\"P\":{\"Type\":\"Pass\",\"End\":true}}}");
  wf_execution *x = wft_run(d.engine, m, "{\"n\":1}", NULL);
  wft_assert_succeeded(x, "{\"n\":1}");
  char *arn = strdup(wf_execution_arn(x));
  char *history = wf_execution_history(x, 0);
  wf_execution_free(x);
  denv_stop(&d);
  /* Another process, reading only. */
  wf_store *r = NULL;
  wf_store_options ro = WF_STORE_OPTIONS_INIT;
  ro.read_only = true;
  r = wst_open(d.kind, d.dir, &ro);
  json_t *rec = wst_execution(r, arn);
  cr_assert_not_null(rec);
  cr_assert_eq(json_integer_value(json_object_get(rec, "status")),
               WF_EXEC_SUCCEEDED);
  cr_assert_str_eq(json_string_value(json_object_get(rec, "output")),
                   "{\"n\":1}");
  cr_assert(json_is_null(json_object_get(rec, "state")));
  json_decref(rec);
  /* The history read back is the one the engine showed. */
  json_t *a = json_array();
  wf_store_read_events(r, arn, 0, false, 0, wst_add_event, a, NULL);
  json_t *shown = wft_parse(history);
  json_t *events = json_object_get(shown, "events");
  cr_assert_eq(json_array_size(a), json_array_size(events));
  cr_assert_eq(json_array_size(a), 9);
  for (size_t i = 0; i < json_array_size(a); i++) {
    json_t *stored = wft_parse(json_string_value(
        json_object_get(json_array_get(a, i), "json")));
    cr_assert(json_equal(stored, json_array_get(events, i)), "event %zu", i);
    json_decref(stored);
  }
  json_decref(shown);
  json_decref(a);
  wf_store_free(r);
  free(history);
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

STORES(a_wait_fires_at_its_original_deadline_after_a_restart) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Result\":1,"
      "\"ResultPath\":\"$.a\",\"Next\":\"W\"},\"W\":{\"Type\":\"Wait\","
      "\"Seconds\":3600,\"Next\":\"B\"},\"B\":{\"Type\":\"Pass\",\"Result\":2,"
      "\"ResultPath\":\"$.b\",\"End\":true}}}");
  wf_execution *x = wft_start(d.engine, m, "{}", NULL);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  wait_committed(&d, arn, 4); /* ..., WaitStateEntered */
  /* Down for ten minutes. */
  cr_assert_eq(denv_restart(&d, 600000), 1);
  assert_ended(&d, arn, WF_EXEC_SUCCEEDED, "{\"a\":1,\"b\":2}");
  int64_t stop = stop_time(&d, arn);
  cr_assert_eq(stop, WFT_T0 + 3600 * 1000,
               "the Wait ended at %lld, not an hour after it began",
               (long long)(stop - WFT_T0));
  assert_types(&d, arn,
               "ExecutionStarted,PassStateEntered,PassStateExited,"
               "WaitStateEntered,WaitStateExited,PassStateEntered,"
               "PassStateExited,ExecutionSucceeded");
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

STORES(a_callback_token_survives_a_restart) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Task\",\"Resource\":"
      "\"" CALLBACK "\",\"Parameters\":{\"token.$\":\"$$.Task.Token\"},"
      "\"End\":true}}}");
  wf_execution *x = wft_start(d.engine, m, "{}", NULL);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  wait_calls(1);
  char token[64], key[160];
  pthread_mutex_lock(&SEEN.mu);
  snprintf(token, sizeof token, "%s", SEEN.token);
  snprintf(key, sizeof key, "%s", SEEN.key);
  pthread_mutex_unlock(&SEEN.mu);
  cr_assert_eq(strlen(token), 32);
  cr_assert_eq(denv_restart(&d, 1000), 1);
  /* Called again, as a redelivery of the same task. */
  wait_calls(2);
  pthread_mutex_lock(&SEEN.mu);
  cr_assert_str_eq(SEEN.token, token);
  cr_assert_str_eq(SEEN.key, key);
  cr_assert_eq(SEEN.redelivered, 1);
  pthread_mutex_unlock(&SEEN.mu);
  wf_error err;
  cr_assert_eq(wf_engine_send_task_success(d.engine, token, "{\"done\":1}",
                                           &err),
               WF_OK, "%s", err.message);
  assert_ended(&d, arn, WF_EXEC_SUCCEEDED, "{\"done\":1}");
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

STORES(a_task_in_flight_is_called_again_with_its_idempotency_key) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"H\",\"States\":{\"H\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Hold\",\"End\":true}}}");
  wf_execution *x = wft_start(d.engine, m, "{\"job\":1}", NULL);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  wait_calls(1);
  wait_committed(&d, arn, 4); /* ..., LambdaFunctionStarted */
  release_held();
  cr_assert_eq(denv_restart(&d, 1000), 1);
  wait_calls(2);
  pthread_mutex_lock(&SEEN.mu);
  cr_assert_eq(SEEN.redelivered, 1);
  cr_assert_str_eq(SEEN.keys[0], SEEN.keys[1]);
  wf_task *t = SEEN.held[0];
  pthread_mutex_unlock(&SEEN.mu);
  cr_assert_eq(wf_task_succeed(t, "{\"ok\":true}"), WF_OK);
  assert_ended(&d, arn, WF_EXEC_SUCCEEDED, "{\"ok\":true}");
  /* One delivery in the history: the redelivery records nothing new. */
  assert_types(&d, arn,
               "ExecutionStarted,TaskStateEntered,LambdaFunctionScheduled,"
               "LambdaFunctionStarted,LambdaFunctionSucceeded,"
               "TaskStateExited,ExecutionSucceeded");
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

STORES(a_task_timeout_keeps_its_deadline) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"H\",\"States\":{\"H\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Hold\",\"TimeoutSeconds\":100,\"End\":true}}}");
  wf_execution *x = wft_start(d.engine, m, NULL, NULL);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  wait_calls(1);
  wait_committed(&d, arn, 4);
  release_held();
  cr_assert_eq(denv_restart(&d, 30000), 1);
  wait_calls(2);
  release_held();
  assert_ended(&d, arn, WF_EXEC_FAILED, "States.Timeout");
  cr_assert_eq(stop_time(&d, arn), WFT_T0 + 100 * 1000);
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

STORES(a_retry_keeps_its_count_and_backoff) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Flaky\",\"Retry\":[{\"ErrorEquals\":[\"Boom\"],"
      "\"IntervalSeconds\":100,\"MaxAttempts\":3,\"BackoffRate\":2}],"
      "\"End\":true}}}");
  wf_execution *x = wft_start(d.engine, m, NULL, NULL);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  /* Attempt 0 fails at once; the back-off of 100 s begins. */
  wait_calls(1);
  wait_committed(&d, arn, 5); /* ..., LambdaFunctionFailed */
  cr_assert_eq(denv_restart(&d, 10000), 1);
  /* Attempts 1 (at 100 s) and 2 (at 300 s): three calls in all. */
  assert_ended(&d, arn, WF_EXEC_SUCCEEDED, "{\"attempt\":2}");
  cr_assert_eq(stop_time(&d, arn), WFT_T0 + 300 * 1000);
  pthread_mutex_lock(&SEEN.mu);
  cr_assert_eq(SEEN.calls, 3);
  pthread_mutex_unlock(&SEEN.mu);
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

STORES(a_map_runs_only_its_unfinished_iterations) {
  denv d;
  denv_init(&d, p->kind);
  /* Even items finish at once; odd ones wait an hour first. */
  wf_machine *m = wft_load(
      "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\",\"End\":true,"
      "\"ItemProcessor\":{\"StartAt\":\"Odd\",\"States\":{"
      "\"Odd\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.odd\","
      "\"BooleanEquals\":true,\"Next\":\"W\"}],\"Default\":\"E\"},"
      "\"W\":{\"Type\":\"Wait\",\"Seconds\":3600,\"Next\":\"E\"},"
      "\"E\":{\"Type\":\"Task\",\"Resource\":\"" FN "Count\","
      "\"End\":true}}}}}}");
  const char *input =
      "[{\"odd\":false},{\"odd\":true},{\"odd\":false},{\"odd\":true}]";
  wf_execution *x = wft_start(d.engine, m, input, NULL);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (;;) {
    char *types = types_in_store(&d, arn);
    int done = 0, waiting = 0;
    for (const char *at = types; (at = strstr(at, "MapIterationSucceeded"));
         at++)
      done++;
    for (const char *at = types; (at = strstr(at, "WaitStateEntered")); at++)
      waiting++;
    free(types);
    if (done == 2 && waiting == 2) break;
    cr_assert_lt(wft_mono_ms(), until);
    wft_sleep_ms(1);
  }
  pthread_mutex_lock(&SEEN.mu);
  cr_assert_eq(SEEN.calls, 2);
  pthread_mutex_unlock(&SEEN.mu);
  cr_assert_eq(denv_restart(&d, 60000), 1);
  assert_ended(&d, arn, WF_EXEC_SUCCEEDED, input);
  /* Only the two waiting iterations ran after the restart. */
  pthread_mutex_lock(&SEEN.mu);
  cr_assert_eq(SEEN.calls, 4);
  pthread_mutex_unlock(&SEEN.mu);
  char *types = types_in_store(&d, arn);
  int started = 0;
  for (const char *at = types; (at = strstr(at, "MapIterationStarted")); at++)
    started++;
  cr_assert_eq(started, 4, "%s", types);
  free(types);
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

STORES(an_engine_freed_leaves_its_executions_running_in_the_store) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":60,"
      "\"End\":true}}}");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "long-wait";
  wf_execution *x = wft_start(d.engine, m, "{\"k\":1}", &so);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  wait_committed(&d, arn, 2);
  denv_stop(&d);
  /* A clock that stands still: the Wait stays pending after resuming. */
  denv_start(&d, WFT_T0 + 1000, false);
  json_t *rec = wst_execution(d.store, arn);
  cr_assert_eq(json_integer_value(json_object_get(rec, "status")),
               WF_EXEC_RUNNING);
  cr_assert(json_is_string(json_object_get(rec, "state")));
  json_decref(rec);
  /* Not resumed yet: its name is taken all the same. */
  wf_execution *again = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_start(&again, d.engine, m, "{\"k\":1}", &so, &err),
               WF_EEXIST);
  size_t n = 0;
  cr_assert_eq(wf_engine_resume(d.engine, &n, &err), WF_OK);
  cr_assert_eq(n, 1);
  cr_assert_eq(wf_engine_resume(d.engine, &n, &err), WF_ESTATE);
  /* Resumed: starting it again with its input is answered with it. */
  cr_assert_eq(wf_engine_start(&again, d.engine, m, "{\"k\":1}", &so, &err),
               WF_OK, "%s", err.message);
  cr_assert_str_eq(wf_execution_arn(again), arn);
  cr_assert_eq(wf_execution_stop(again, "Enough", NULL), WF_OK);
  cr_assert_eq(wf_execution_status(again), WF_EXEC_ABORTED);
  wf_execution_free(again);
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

/* An engine bounded to fewer running executions than its store holds
 * resumes them all (they run already); only new starts are refused. */
STORES(resuming_is_never_refused_by_max_running) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":60,"
      "\"End\":true}}}");
  char *arn = NULL;
  for (int i = 0; i < 3; i++) {
    wf_execution *x = wft_start(d.engine, m, "{}", NULL);
    free(arn);
    arn = strdup(wf_execution_arn(x));
    wf_execution_free(x);
  }
  wait_committed(&d, arn, 2);
  denv_stop(&d);
  d.max_running = 1;
  denv_start(&d, WFT_T0 + 1000, false);
  size_t n = 0;
  wf_error err;
  cr_assert_eq(wf_engine_resume(d.engine, &n, &err), WF_OK, "%s",
               err.message);
  cr_assert_eq(n, 3);
  wf_execution *x = NULL;
  int rc = wf_engine_start(&x, d.engine, m, "{}", NULL, &err);
  cr_assert_eq(rc, WF_EBUSY, "%s: %s", wf_error_name(rc),
               rc ? err.message : wf_execution_arn(x));
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

/* ---- calls that race with resuming ---- */

/* The token of the callback task whose input names itself "last". */
static char LAST_TOKEN[64];

static void callback_named(wf_task *t, void *p) {
  (void)p;
  const json_t *in = wf_task_input_value(t);
  pthread_mutex_lock(&SEEN.mu);
  if (strcmp(json_string_value(json_object_get(in, "name")), "last") == 0)
    snprintf(LAST_TOKEN, sizeof LAST_TOKEN, "%s",
             json_string_value(json_object_get(in, "token")));
  pthread_mutex_unlock(&SEEN.mu);
  saw(t, false);
}

/* A task answered by another thread while wf_engine_resume() runs: the
 * gate task (first resumed, called again as a redelivery) lets the
 * sender go, and the sender answers a task not yet put back. */
typedef struct racer {
  wf_engine *engine;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool go, calling;
  int rc;
  wf_error err;
} racer;

static racer RACE = {.mu = PTHREAD_MUTEX_INITIALIZER,
                     .cv = PTHREAD_COND_INITIALIZER};

static void gate(wf_task *t, void *p) {
  (void)p;
  pthread_mutex_lock(&RACE.mu);
  RACE.go = true;
  pthread_cond_broadcast(&RACE.cv);
  /* Resuming goes on once the sender is on its way. */
  struct timespec until = wft_deadline(WFT_WAIT_MS);
  while (!RACE.calling &&
         pthread_cond_timedwait(&RACE.cv, &RACE.mu, &until) == 0) {
  }
  pthread_mutex_unlock(&RACE.mu);
  wf_task_succeed(t, "{}");
}

static void *send_main(void *arg) {
  (void)arg;
  struct timespec until = wft_deadline(WFT_WAIT_MS);
  pthread_mutex_lock(&RACE.mu);
  while (!RACE.go && pthread_cond_timedwait(&RACE.cv, &RACE.mu, &until) == 0) {
  }
  RACE.calling = true;
  pthread_cond_broadcast(&RACE.cv);
  pthread_mutex_unlock(&RACE.mu);
  RACE.rc = wf_engine_send_task_success(RACE.engine, LAST_TOKEN,
                                        "{\"ok\":1}", &RACE.err);
  return NULL;
}

STORES(a_token_answered_while_resuming_waits_for_its_task) {
  denv d;
  denv_init(&d, p->kind);
  wft_register(d.engine, FN "Gate", hold, NULL, 0);
  wft_register(d.engine, SQS_CALLBACK, callback_named, NULL, 0);
  wf_machine *first = wft_load(
      "{\"StartAt\":\"G\",\"States\":{\"G\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Gate\",\"End\":true}}}");
  wf_machine *m = wft_load(
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Task\",\"Resource\":"
      "\"" SQS_CALLBACK "\",\"Parameters\":{\"token.$\":\"$$.Task.Token\","
      "\"name.$\":\"$$.Execution.Name\"},\"End\":true}}}");
  /* The gate first (resumed first), then 300 callback tasks, the last
   * resumed last. */
  enum { N = 300 };
  wf_execution_free(wft_start(d.engine, first, "{}", NULL));
  wf_start_options so = WF_START_OPTIONS_INIT;
  char name[16], *arn = NULL;
  for (int i = 0; i < N; i++) {
    snprintf(name, sizeof name, i == N - 1 ? "last" : "c%d", i);
    so.name = name;
    wf_execution *x = wft_start(d.engine, m, "{}", &so);
    if (i == N - 1) arn = strdup(wf_execution_arn(x));
    wf_execution_free(x);
  }
  wait_calls(N + 1);
  cr_assert_eq(strlen(LAST_TOKEN), 32);
  denv_stop(&d);
  denv_start(&d, WFT_T0 + 1000, false);
  wft_register(d.engine, FN "Gate", gate, NULL, WF_HANDLER_INLINE);
  wft_register(d.engine, SQS_CALLBACK, callback_named, NULL, 0);
  RACE.engine = d.engine;
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, send_main, NULL), 0);
  size_t n = 0;
  wf_error err;
  cr_assert_eq(wf_engine_resume(d.engine, &n, &err), WF_OK, "%s",
               err.message);
  pthread_join(th, NULL);
  cr_assert_eq(n, N + 1);
  cr_assert(RACE.go, "the gate task was not called again");
  cr_assert_eq(RACE.rc, WF_OK, "SendTaskSuccess while resuming: %s",
               RACE.err.message);
  assert_ended(&d, arn, WF_EXEC_SUCCEEDED, "{\"ok\":1}");
  free(arn);
  wf_machine_free(first);
  wf_machine_free(m);
  denv_fini(&d);
}

STORES(a_damaged_saved_state_ends_the_execution_saying_why) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":60,"
      "\"End\":true}}}");
  wf_execution *x = wft_start(d.engine, m, NULL, NULL);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  wait_committed(&d, arn, 2);
  denv_stop(&d);
  /* Damage it behind the engine's back. */
  wf_store *s = NULL;
  s = wst_open(d.kind, d.dir, NULL);
  json_t *rec = wst_execution(s, arn);
  wf_store_execution r = {
      .arn = arn,
      .name = json_string_value(json_object_get(rec, "name")),
      .machine_name = json_string_value(json_object_get(rec, "machine")),
      .machine_arn = json_string_value(json_object_get(rec, "machineArn")),
      .definition_id = json_string_value(json_object_get(rec, "definition")),
      .status = 0,
      .start_ms = json_integer_value(json_object_get(rec, "start")),
      .input = "{}",
      .event_count = json_integer_value(json_object_get(rec, "events")),
      .state = "{\"v\":1,\"frames\":[{\"scope\":\"\",\"state\":\"Gone\"}]}"};
  wf_store_batch b = {.executions = &r, .nexecutions = 1};
  cr_assert_eq(wf_store_commit(s, &b, NULL), WF_OK);
  json_decref(rec);
  wf_store_free(s);
  denv_start(&d, WFT_T0 + 1000, true);
  size_t n = 0;
  wf_error err;
  cr_assert_eq(wf_engine_resume(d.engine, &n, &err), WF_OK, "%s",
               err.message);
  rec = wst_execution(d.store, arn);
  cr_assert_eq(json_integer_value(json_object_get(rec, "status")),
               WF_EXEC_FAILED);
  cr_assert_str_eq(json_string_value(json_object_get(rec, "error")),
                   "States.Runtime");
  const char *cause = json_string_value(json_object_get(rec, "cause"));
  cr_assert(strstr(cause, "could not be resumed") && strstr(cause, "damaged"),
            "%s", cause);
  json_decref(rec);
  assert_types(&d, arn, "ExecutionStarted,WaitStateEntered,ExecutionFailed");
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

/* Workflow variables are part of the resumable state: assigned before a
 * restart, read after it, in the top scope and inside a Map iteration
 * that waits. */
STORES(variables_survive_a_restart) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Assign\":{"
      "\"greeting\":\"hello\",\"n.$\":\"$.n\"},\"Next\":\"M\"},"
      "\"M\":{\"Type\":\"Map\",\"ItemsPath\":\"$.items\",\"ItemProcessor\":{"
      "\"StartAt\":\"In\",\"States\":{\"In\":{\"Type\":\"Pass\",\"Assign\":{"
      "\"mine.$\":\"$\"},\"Next\":\"W\"},\"W\":{\"Type\":\"Wait\","
      "\"Seconds\":3600,\"Next\":\"Out\"},\"Out\":{\"Type\":\"Pass\","
      "\"Parameters\":{\"item.$\":\"$mine\",\"g.$\":\"$greeting\"},"
      "\"End\":true}}},\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Pass\",\"Parameters\":{\"all.$\":\"$\",\"n.$\":\"$n\"},"
      "\"End\":true}}}");
  wf_execution *x = wft_start(d.engine, m, "{\"n\":7,\"items\":[1,2]}", NULL);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  /* Started, A (2), MapStateEntered, MapStateStarted, then each iteration
   * Started, In (2), WaitStateEntered. */
  wait_committed(&d, arn, 13);
  cr_assert_eq(denv_restart(&d, 600000), 1);
  wf_clock_advance(d.clock, 3600 * 1000);
  assert_ended(&d, arn, WF_EXEC_SUCCEEDED,
               "{\"all\":[{\"item\":1,\"g\":\"hello\"},{\"item\":2,"
               "\"g\":\"hello\"}],\"n\":7}");
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}

/* A JSONata Wait resumed after a restart whose Output then fails: the
 * EvaluationFailed event still chains to the event before the state's
 * entry, as AWS records it. */
STORES(a_failed_evaluation_after_a_restart_chains_as_before) {
  denv d;
  denv_init(&d, p->kind);
  wf_machine *m = wft_load(
      "{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"A\",\"States\":{"
      "\"A\":{\"Type\":\"Pass\",\"Next\":\"W\"},"
      "\"W\":{\"Type\":\"Wait\",\"Seconds\":3600,\"Output\":"
      "\"{% $nothing %}\",\"End\":true}}}");
  wf_execution *x = wft_start(d.engine, m, "{}", NULL);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  /* Started, A (2), WaitStateEntered. */
  wait_committed(&d, arn, 4);
  cr_assert_eq(denv_restart(&d, 600000), 1);
  wf_clock_advance(d.clock, 3600 * 1000);
  assert_ended(&d, arn, WF_EXEC_FAILED, NULL);
  json_t *a = json_array();
  cr_assert_eq(wf_store_read_events(d.store, arn, 0, false, 0, wst_add_event,
                                    a, NULL),
               WF_OK);
  json_t *ev = json_array_get(a, 4);
  cr_assert_str_eq(json_string_value(json_object_get(ev, "type")),
                   "EvaluationFailed");
  /* WaitStateEntered is #4, chained to #3 (PassStateExited). */
  cr_assert_eq(json_integer_value(json_object_get(ev, "prev")), 3);
  json_decref(a);
  free(arn);
  wf_machine_free(m);
  denv_fini(&d);
}
