/* Commits (engine/commit.c) seen from a store of the test's own: a store
 * whose first commit waits at a gate and then fails, over a memory store
 * that keeps what the later ones write. A start that failed leaves
 * nothing of its execution in the store, whatever the execution asked to
 * commit after it. */
#include <criterion/criterion.h>
#include <pthread.h>

#include "engine_support.h"
#include "store_support.h"

TestSuite(commit, .timeout = 60);

/* ---- the gated store ---- */

typedef struct gated {
  wf_store *inner;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int commits, entered;
  bool released;
} gated;

static int gated_commit(void *backend, const wf_store_batch *b,
                        wf_error *err) {
  gated *g = backend;
  pthread_mutex_lock(&g->mu);
  bool first = g->commits++ == 0;
  if (first) {
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->released) pthread_cond_wait(&g->cv, &g->mu);
  }
  pthread_mutex_unlock(&g->mu);
  if (first) {
    if (err) snprintf(err->message, sizeof err->message, "the gate failed");
    return WF_EIO;
  }
  return wf_store_commit(g->inner, b, err);
}

static int gated_get_execution(void *backend, const char *arn,
                               wf_store_execution_cb cb, void *payload,
                               wf_error *err) {
  return wf_store_get_execution(((gated *)backend)->inner, arn, cb, payload,
                                err);
}

static int gated_find_execution(void *backend, const char *machine,
                                const char *name, wf_store_execution_cb cb,
                                void *payload, wf_error *err) {
  (void)backend;
  (void)machine;
  (void)name;
  (void)cb;
  (void)payload;
  (void)err;
  return WF_ENOTFOUND; /* the tests start no execution by name */
}

static int gated_list_executions(void *backend, const wf_store_query *q,
                                 wf_store_execution_cb cb, void *payload,
                                 wf_error *err) {
  return wf_store_list_executions(((gated *)backend)->inner, q, cb, payload,
                                  err);
}

static int gated_list_running(void *backend, wf_store_execution_cb cb,
                              void *payload, wf_error *err) {
  (void)backend;
  (void)cb;
  (void)payload;
  (void)err;
  return WF_OK; /* nothing to resume: the tests start from nothing */
}

static int gated_read_events(void *backend, const char *arn, int64_t from,
                             bool reverse, size_t limit,
                             wf_store_event_cb cb, void *payload,
                             wf_error *err) {
  return wf_store_read_events(((gated *)backend)->inner, arn, from, reverse,
                              limit, cb, payload, err);
}

static int gated_get_definition(void *backend, const char *id,
                                wf_store_definition_cb cb, void *payload,
                                wf_error *err) {
  return wf_store_get_definition(((gated *)backend)->inner, id, cb, payload,
                                 err);
}

static int gated_get_document(void *backend, const char *kind,
                              const char *key, wf_store_document_cb cb,
                              void *payload, wf_error *err) {
  return wf_store_get_document(((gated *)backend)->inner, kind, key, cb,
                               payload, err);
}

static int gated_list_documents(void *backend, const char *kind,
                                int64_t after, size_t limit,
                                wf_store_document_cb cb, void *payload,
                                wf_error *err) {
  return wf_store_list_documents(((gated *)backend)->inner, kind, after,
                                 limit, cb, payload, err);
}

static int gated_prune(void *backend, int64_t before, size_t keep,
                       size_t max, size_t *pruned, wf_error *err) {
  (void)backend;
  (void)before;
  (void)keep;
  (void)max;
  (void)err;
  if (pruned) *pruned = 0;
  return WF_OK;
}

static void gated_close(void *backend) { (void)backend; }

static const wf_store_ops GATED_OPS = {
    .version = WF_STORE_OPS_VERSION,
    .size = sizeof(wf_store_ops),
    .flags = WF_STORE_DURABLE,
    .close = gated_close,
    .commit = gated_commit,
    .get_execution = gated_get_execution,
    .find_execution = gated_find_execution,
    .list_executions = gated_list_executions,
    .list_running = gated_list_running,
    .read_events = gated_read_events,
    .get_definition = gated_get_definition,
    .get_document = gated_get_document,
    .list_documents = gated_list_documents,
    .prune = gated_prune,
};

static void gate_wait_entered(gated *g) {
  cr_assert_eq(wft_wait_count(&g->mu, &g->cv, &g->entered, 1), 1,
               "the first commit never reached the store");
}

static void gate_release(gated *g) {
  pthread_mutex_lock(&g->mu);
  g->released = true;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

/* ---- a task the test holds ---- */

typedef struct held {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int calls;
  wf_task *task;
} held;

static void hold(wf_task *t, void *payload) {
  held *h = payload;
  pthread_mutex_lock(&h->mu);
  wf_task_retain(t);
  h->task = t;
  h->calls++;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

static wf_task *held_task(held *h) {
  cr_assert_eq(wft_wait_count(&h->mu, &h->cv, &h->calls, 1), 1,
               "the handler was never called");
  return h->task;
}

static int found(const wf_store_execution *x, void *p) {
  (void)x;
  *(bool *)p = true;
  return 0;
}

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"

/* The start is being written when the execution asks for another commit
 * (a heartbeat's new deadline): the start fails, and that later commit,
 * queued behind it, must not make the execution exist after all (run by
 * nobody, RUNNING for ever). */
Test(commit, a_failed_start_leaves_nothing_of_its_execution) {
  gated g = {.mu = PTHREAD_MUTEX_INITIALIZER,
             .cv = PTHREAD_COND_INITIALIZER};
  cr_assert_eq(wf_store_memory_new(&g.inner, NULL, NULL), WF_OK);
  wf_store *s = NULL;
  wf_error err;
  cr_assert_eq(wf_store_new(&s, &GATED_OPS, &g, &err), WF_OK, "%s",
               err.message);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.store = s;
  wf_engine *e = wft_engine(&o);
  held h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  wft_register(e, FN "Hold", hold, &h, 0);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Hold\",\"HeartbeatSeconds\":600,\"End\":true}}}");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.flags = WF_START_NOWAIT;
  wf_execution *x = NULL;
  cr_assert_eq(wf_engine_start(&x, e, m, "{}", &so, &err), WF_OK, "%s",
               err.message);
  gate_wait_entered(&g);
  wf_task *t = held_task(&h);
  /* Asks for a commit now, on this thread: queued behind the start. */
  cr_assert_eq(wf_task_heartbeat(t), WF_OK);
  gate_release(&g);
  wft_wait(x);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  /* Everything queued before this start's commit has been dealt with
   * once it is answered. */
  wf_machine *pass = wft_load(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
      "\"End\":true}}}");
  wf_execution *y = wft_start(e, pass, "{}", NULL);
  bool there = false;
  wf_store_get_execution(g.inner, wf_execution_arn(x), found, &there, NULL);
  cr_assert(!there, "the execution whose start failed was written");
  there = false;
  wf_store_get_execution(g.inner, wf_execution_arn(y), found, &there, NULL);
  cr_assert(there);
  wf_task_release(t);
  wft_wait(y);
  wf_execution_free(x);
  wf_execution_free(y);
  wf_machine_free(m);
  wf_machine_free(pass);
  wf_engine_free(e);
  wf_store_free(s);
  wf_store_free(g.inner);
}

/* ---- what joins a queued commit is written ---- */

static int count_events(const wf_store_execution *x, void *p) {
  *(int64_t *)p = x->event_count;
  return 0;
}

/* Many executions enter a day's Wait at the end of their first turn, that
 * turn's commit joining their start's while it is queued (the committer
 * takes what they became when it writes it, or, their lock busy, has the
 * next item take it): every one has its Wait entered in the store soon,
 * not when the Wait ends (a restart would start the Wait over). Which of
 * the two ways each takes is up to timing. */
Test(commit, a_wait_entered_after_a_queued_start_is_committed) {
  char *dir = wst_tmpdir();
  char *path = wst_path(dir, "store.db");
  wf_store *s = NULL;
  wf_error err;
  cr_assert_eq(wf_store_sqlite_open(&s, path, NULL, &err), WF_OK, "%s",
               err.message);
  /* A clock that stands still: the Waits never end here. */
  wf_clock *clock = NULL;
  cr_assert_eq(wf_clock_virtual_new(&clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.store = s;
  o.clock = clock;
  wf_engine *e = wft_engine(&o);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Next\":"
      "\"W\"},\"W\":{\"Type\":\"Wait\",\"Seconds\":86400,\"End\":true}}}");
  enum { N = 2000 };
  wf_execution **xs = calloc(N, sizeof *xs);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.flags = WF_START_NOWAIT;
  for (int i = 0; i < N; i++)
    cr_assert_eq(wf_engine_start(&xs[i], e, m, "{}", &so, &err), WF_OK, "%s",
                 err.message);
  /* ExecutionStarted, PassStateEntered, PassStateExited, WaitStateEntered. */
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (int i = 0; i < N; i++) {
    int64_t events = 0;
    for (;;) {
      wf_store_get_execution(s, wf_execution_arn(xs[i]), count_events,
                             &events, NULL);
      if (events >= 4) break;
      cr_assert_lt(wft_mono_ms(), until,
                   "execution %d: %lld events committed, its Wait's entry "
                   "never was",
                   i, (long long)events);
      wft_sleep_ms(5);
    }
  }
  for (int i = 0; i < N; i++) wf_execution_free(xs[i]);
  free(xs);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
  wf_store_free(s);
  free(path);
  wst_rmdir(dir);
}
