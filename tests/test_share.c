/* Work sharing on a shared PostgreSQL store (the throwaway server of the
 * "postgres" ctest fixture): two engines in this process, each on its own
 * store handle opened shared on one database, as two processes would be.
 * An execution goes on in the other engine when its engine closes, an API
 * call made to the other engine takes it over, and the engine that lost
 * it cannot commit it any more (fencing). Kills and stalls of real
 * processes are in test_share_workers.c. */
#include <criterion/criterion.h>
#include <pthread.h>

#include "engine_support.h"
#include "store_support.h"
#include "workflow/json.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define CALLBACK "arn:aws:states:::lambda:invoke.waitForTaskToken"
#define LEASE_MS 600

static const char HOLD[] =
    "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
    "\"" FN "Hold\",\"End\":true}}}";
static const char CALL[] =
    "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
    "\"" CALLBACK "\",\"Parameters\":{\"FunctionName\":\"f\","
    "\"token.$\":\"$$.Task.Token\"},\"End\":true}}}";

/* What the handlers of both engines saw. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int calls, redelivered;
  wf_task *held[8];
  char token[64];
} SEEN = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void saw(wf_task *t) {
  pthread_mutex_lock(&SEEN.mu);
  if (SEEN.calls < 8) {
    wf_task_retain(t);
    SEEN.held[SEEN.calls] = t;
  }
  SEEN.calls++;
  SEEN.redelivered += wf_task_redelivered(t) != 0;
  pthread_cond_broadcast(&SEEN.cv);
  pthread_mutex_unlock(&SEEN.mu);
}

static void hold(wf_task *t, void *p) {
  (void)p;
  saw(t);
}

static void callback(wf_task *t, void *p) {
  (void)p;
  pthread_mutex_lock(&SEEN.mu);
  snprintf(SEEN.token, sizeof SEEN.token, "%s",
           json_string_value(json_object_get(wf_task_input_value(t), "token")));
  pthread_mutex_unlock(&SEEN.mu);
  saw(t);
}

/* Until handlers were called `n` times in all (bounded). */
static void wait_calls(int n) {
  int got = wft_wait_count(&SEEN.mu, &SEEN.cv, &SEEN.calls, n);
  cr_assert_geq(got, n, "the handlers were called %d times, not %d", got, n);
}

static wf_task *held(int i) {
  pthread_mutex_lock(&SEEN.mu);
  wf_task *t = SEEN.held[i];
  pthread_mutex_unlock(&SEEN.mu);
  return t;
}

/* The token of the first callback task called (after waiting for it). */
static void wait_token(char token[64]) {
  wait_calls(1);
  pthread_mutex_lock(&SEEN.mu);
  snprintf(token, 64, "%s", SEEN.token);
  pthread_mutex_unlock(&SEEN.mu);
}

/* ---- two workers on one database ---- */

typedef struct worker {
  wf_store *store;
  wf_engine *engine;
} worker;

static char *DIR_;
static char *CONNINFO;

static void setup(void) {
  pthread_mutex_lock(&SEEN.mu);
  SEEN.calls = SEEN.redelivered = 0;
  memset(SEEN.held, 0, sizeof SEEN.held);
  SEEN.token[0] = '\0';
  pthread_mutex_unlock(&SEEN.mu);
  DIR_ = wst_tmpdir();
  CONNINFO = wst_pg_conninfo(DIR_);
}

static void teardown(void) {
  for (int i = 0; i < 8; i++)
    if (SEEN.held[i]) wf_task_release(SEEN.held[i]);
  free(CONNINFO);
  wst_rmdir(DIR_);
}

static void worker_start(worker *w) {
  wf_error err;
  w->engine = wft_shared_engine(CONNINFO, LEASE_MS, &w->store);
  wft_register(w->engine, FN "Hold", hold, NULL, 0);
  wft_register(w->engine, CALLBACK, callback, NULL, 0);
  cr_assert_eq(wf_engine_resume(w->engine, NULL, &err), WF_OK, "%s",
               err.message);
}

static void worker_stop(worker *w) {
  wf_engine_free(w->engine);
  wf_store_free(w->store);
  w->engine = NULL;
  w->store = NULL;
}

static char *start(worker *w, const char *def, const char *name,
                   const char *input) {
  wf_machine *m = wft_load_named(def, "Shared");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = name;
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_start(&x, w->engine, m, input, &so, &err), WF_OK,
               "%s", err.message);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  wf_machine_free(m);
  return arn;
}

/* The execution as the store has it once it ended (polled, bounded). */
static json_t *ended(wf_store *s, const char *arn) {
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (;;) {
    json_t *x = wst_execution(s, arn);
    if (x &&
        json_integer_value(json_object_get(x, "status")) != WF_EXEC_RUNNING)
      return x;
    json_decref(x);
    cr_assert_lt(wft_mono_ms(), until, "%s did not end", arn);
    wft_sleep_ms(2);
  }
}

static void assert_succeeded(wf_store *s, const char *arn,
                             const char *output) {
  json_t *x = ended(s, arn);
  cr_assert_eq(json_integer_value(json_object_get(x, "status")),
               WF_EXEC_SUCCEEDED, "%s: %s", arn,
               json_string_value(json_object_get(x, "cause")));
  wft_assert_json(json_string_value(json_object_get(x, "output")), output);
  json_decref(x);
}

/* Its history is the one Task's, once: no event twice, none lost. */
static void assert_one_task_ran(wf_store *s, const char *arn) {
  char *t = wst_types(s, arn);
  cr_assert_str_eq(t, "ExecutionStarted,TaskStateEntered,"
                      "LambdaFunctionScheduled,LambdaFunctionStarted,"
                      "LambdaFunctionSucceeded,TaskStateExited,"
                      "ExecutionSucceeded");
  free(t);
}

/* Until engine e no longer runs arn (it found its lease lost). */
static void wait_dropped(wf_engine *e, const char *arn) {
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (;;) {
    wf_execution *x = NULL;
    if (wf_engine_find_execution(&x, e, arn) != WF_OK) return;
    wf_execution_free(x);
    cr_assert_lt(wft_mono_ms(), until, "%s is still run by its old worker",
                 arn);
    wft_sleep_ms(2);
  }
}

TestSuite(share, .init = setup, .fini = teardown, .timeout = 120);

Test(share, a_closed_workers_executions_go_on_in_another) {
  worker a, b;
  worker_start(&a);
  worker_start(&b);
  char *arn = start(&a, HOLD, "handed-over", "{\"n\":1}");
  wait_calls(1); /* in flight in a */
  worker_stop(&a); /* hands its leases back */
  wait_calls(2);   /* b claimed it and called the task again */
  cr_assert_eq(SEEN.redelivered, 1);
  cr_assert_eq(wf_task_succeed(held(1), "{\"by\":\"b\"}"), WF_OK);
  assert_succeeded(b.store, arn, "{\"by\":\"b\"}");
  assert_one_task_ran(b.store, arn);
  worker_stop(&b);
  free(arn);
}

Test(share, a_task_token_is_taken_by_any_worker) {
  worker a, b;
  worker_start(&a);
  worker_start(&b);
  char *arn = start(&a, CALL, "callback", "{}");
  char token[64];
  wait_token(token);
  cr_assert_eq(strlen(token), 32);
  /* Sent to b: b takes the execution over and completes it. */
  wf_error err;
  cr_assert_eq(wf_engine_send_task_success(b.engine, token, "{\"ok\":1}",
                                           &err),
               WF_OK, "%s", err.message);
  assert_succeeded(a.store, arn, "{\"ok\":1}");
  wait_dropped(a.engine, arn);
  /* Spent: neither worker knows it any more. */
  cr_assert_eq(wf_engine_send_task_success(a.engine, token, "{}", &err),
               WF_ENOTFOUND);
  cr_assert_eq(wf_engine_send_task_success(b.engine, token, "{}", &err),
               WF_ENOTFOUND);
  /* A token that is not one of ours is not searched for. */
  cr_assert_eq(wf_engine_send_task_success(b.engine, "x' OR 1=1", "{}", &err),
               WF_ENOTFOUND);
  worker_stop(&a);
  worker_stop(&b);
  free(arn);
}

Test(share, a_worker_that_lost_an_execution_cannot_commit_it) {
  worker a, b;
  worker_start(&a);
  worker_start(&b);
  char *arn = start(&a, HOLD, "fenced", "{}");
  wait_calls(1); /* in flight in a */
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_take_execution(&x, b.engine, arn, &err), WF_OK,
               "%s", err.message);
  wf_execution_free(x);
  wait_calls(2); /* b called it again */
  /* a's answer comes too late: its commit is refused, a drops it. */
  wf_task_succeed(held(0), "{\"by\":\"a\"}");
  wait_dropped(a.engine, arn);
  cr_assert_eq(wf_task_succeed(held(1), "{\"by\":\"b\"}"), WF_OK);
  assert_succeeded(b.store, arn, "{\"by\":\"b\"}");
  assert_one_task_ran(b.store, arn);
  worker_stop(&a);
  worker_stop(&b);
  free(arn);
}

Test(share, an_execution_is_stopped_from_another_worker) {
  worker a, b;
  worker_start(&a);
  worker_start(&b);
  char *arn = start(&a, HOLD, "stopped", "{}");
  wait_calls(1);
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_take_execution(&x, b.engine, arn, &err), WF_OK,
               "%s", err.message);
  wf_execution_stop(x, "Halt", "from b");
  wf_execution_free(x);
  json_t *r = ended(a.store, arn);
  cr_assert_eq(json_integer_value(json_object_get(r, "status")),
               WF_EXEC_ABORTED);
  json_decref(r);
  wait_dropped(a.engine, arn);
  /* Not running anywhere: nothing to take. */
  cr_assert_eq(wf_engine_take_execution(&x, a.engine, arn, &err),
               WF_ENOTFOUND);
  worker_stop(&a);
  worker_stop(&b);
  free(arn);
}

Test(share, a_name_started_on_two_workers_is_one_execution) {
  worker a, b;
  worker_start(&a);
  worker_start(&b);
  char *first = start(&a, HOLD, "once", "{\"v\":1}");
  /* The same input: the same execution (b takes it over to answer). */
  char *again = start(&b, HOLD, "once", "{\"v\":1}");
  cr_assert_str_eq(again, first);
  /* Other input: refused. */
  wf_machine *m = wft_load_named(HOLD, "Shared");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "once";
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_start(&x, a.engine, m, "{\"v\":2}", &so, &err),
               WF_EEXIST);
  wf_machine_free(m);
  worker_stop(&a);
  worker_stop(&b);
  free(first);
  free(again);
}

Test(share, a_store_that_is_not_shared_keeps_one_writer) {
  wf_store *one = NULL, *two = NULL;
  wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
  wf_error err;
  cr_assert_eq(wf_store_postgres_open(&one, CONNINFO, &po, &err), WF_OK, "%s",
               err.message);
  cr_assert_eq(wf_store_postgres_open(&two, CONNINFO, &po, &err), WF_EBUSY);
  wf_store_free(one);
  /* Options of version 1 (no sharing) are still taken. */
  wf_store_postgres_options v1;
  cr_assert_eq(wf_store_postgres_options_init(&v1, 1), WF_OK);
  cr_assert_eq(wf_store_postgres_open(&two, CONNINFO, &v1, &err), WF_OK, "%s",
               err.message);
  wf_store_free(two);
  po.shared = true;
  po.lease_ms = 100;
  cr_assert_eq(wf_store_postgres_open(&two, CONNINFO, &po, &err), WF_EINVAL);
  cr_assert(strstr(err.message, "too short"), "%s", err.message);
}

/* A stop made on a worker whose copy had been taken over meanwhile (it
 * has not yet noticed): refused there, the execution is taken back and
 * stopped. */
Test(share, a_stop_on_a_stale_copy_is_made_again_where_it_runs) {
  worker a, b;
  worker_start(&a);
  worker_start(&b);
  char *arn = start(&a, HOLD, "stale", "{}");
  wait_calls(1);
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_take_execution(&x, b.engine, arn, &err), WF_OK,
               "%s", err.message);
  wf_execution_free(x);
  int rc = WF_ECANCELED;
  for (int tries = 0; tries < 2 && rc == WF_ECANCELED; tries++) {
    cr_assert_eq(wf_engine_take_execution(&x, a.engine, arn, &err), WF_OK,
                 "%s", err.message);
    rc = wf_execution_stop(x, "Halt", "from a");
    wf_execution_free(x);
  }
  cr_assert_eq(rc, WF_OK);
  json_t *r = ended(a.store, arn);
  cr_assert_eq(json_integer_value(json_object_get(r, "status")),
               WF_EXEC_ABORTED);
  json_decref(r);
  worker_stop(&a);
  worker_stop(&b);
  free(arn);
}

/* A task answered to a worker whose copy had been taken over meanwhile
 * (it has not yet noticed): the lease is checked first, and the answer
 * goes to the execution where it runs, once. */
Test(share, a_task_answered_on_a_stale_copy_completes_it_where_it_runs) {
  worker a, b;
  worker_start(&a);
  worker_start(&b);
  char *arn = start(&a, CALL, "stale-token", "{}");
  char token[64];
  wait_token(token);
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_take_execution(&x, b.engine, arn, &err), WF_OK,
               "%s", err.message);
  wf_execution_free(x);
  cr_assert_eq(wf_engine_send_task_success(a.engine, token, "{\"ok\":2}",
                                           &err),
               WF_OK, "%s", err.message);
  assert_succeeded(a.store, arn, "{\"ok\":2}");
  char *t = wst_types(a.store, arn);
  cr_assert_str_eq(t, "ExecutionStarted,TaskStateEntered,"
                      "TaskScheduled,TaskStarted,TaskSucceeded,"
                      "TaskStateExited,"
                      "ExecutionSucceeded");
  free(t);
  worker_stop(&a);
  worker_stop(&b);
  free(arn);
}
