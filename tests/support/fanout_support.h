/* Helpers shared by the fan-out test files (tests/test_parallel.c,
 * tests/test_map.c, tests/test_map_distributed.c): handlers that count
 * their calls, record the highest number of simultaneous calls, block
 * until the engine cancels them, or finish in an order the test chooses;
 * and readers for history events and the process's thread count.
 * Header-only (static inline) like engine_support.h. Every wait is bounded
 * (WFT_WAIT_MS) so a misbehaving engine fails a test instead of hanging. */
#ifndef WF_TEST_FANOUT_SUPPORT_H
#define WF_TEST_FANOUT_SUPPORT_H

#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_support.h"
#include "workflow/json.h"
#include "workflow/workflow.h"

/* ---- definitions and inputs written with single quotes ---- */

/* The Lambda ARN prefix the fan-out tests' Task states name. */
#define WFX_FN "arn:aws:lambda:us-east-1:123456789012:function:"

/* A copy of `text` with every ' turned into " (free()), so definitions
 * read as JSON in the source; a backslash keeps the ' that follows it
 * (for intrinsic arguments: "States.Format(\\'{}\\', $.a)"). */
static inline char *wfx_dq(const char *text) {
  char *s = strdup(text);
  cr_assert_not_null(s);
  char *o = s;
  for (const char *p = text; *p; p++) {
    if (*p == '\\' && p[1] == '\'') {
      *o++ = *++p;
    } else {
      *o++ = *p == '\'' ? '"' : *p;
    }
  }
  *o = '\0';
  return s;
}

static inline wf_machine *wfx_load(const char *sq) {
  char *json = wfx_dq(sq);
  wf_machine *m = wft_load(json);
  free(json);
  return m;
}

/* An EXPRESS machine: no 25,000-event history quota (a Standard
 * workflow's), for tests of scale beyond it. */
static inline wf_machine *wfx_load_express(const char *sq) {
  char *json = wfx_dq(sq);
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.type = WF_MACHINE_EXPRESS;
  wf_machine *m = NULL;
  wf_error err;
  int rc = wf_machine_load_json(&m, json, &lo, &err);
  cr_assert_eq(rc, WF_OK, "%s", err.message);
  free(json);
  return m;
}

static inline wf_execution *wfx_start(wf_engine *e, wf_machine *m,
                                      const char *input_sq) {
  char *in = input_sq ? wfx_dq(input_sq) : NULL;
  wf_execution *x = wft_start(e, m, in, NULL);
  free(in);
  return x;
}

/* Start and wait for the end. */
static inline wf_execution *wfx_run(wf_engine *e, wf_machine *m,
                                    const char *input_sq) {
  wf_execution *x = wfx_start(e, m, input_sq);
  wft_wait(x);
  return x;
}

static inline void wfx_assert_output(wf_execution *x, const char *sq) {
  char *expected = wfx_dq(sq);
  wft_assert_succeeded(x, expected);
  free(expected);
}

/* Run `m` on `input_sq` to the end: it succeeded with `output_sq`. */
static inline void wfx_assert_run(wf_engine *e, wf_machine *m,
                                  const char *input_sq,
                                  const char *output_sq) {
  wf_execution *x = wfx_run(e, m, input_sq);
  wfx_assert_output(x, output_sq);
  wf_execution_free(x);
}

/* The same for the definition `def_sq`, loaded for this one run. */
static inline void wfx_assert_def(wf_engine *e, const char *def_sq,
                                  const char *input_sq,
                                  const char *output_sq) {
  wf_machine *m = wfx_load(def_sq);
  wfx_assert_run(e, m, input_sq, output_sq);
  wf_machine_free(m);
}

/* ---- a counter the test can wait on ---- */

typedef struct wfx_count {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int n;
} wfx_count;

#define WFX_COUNT_INIT \
  { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 }

static inline void wfx_count_add(wfx_count *c) {
  pthread_mutex_lock(&c->mu);
  c->n++;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static inline int wfx_count_get(wfx_count *c) {
  pthread_mutex_lock(&c->mu);
  int n = c->n;
  pthread_mutex_unlock(&c->mu);
  return n;
}

/* True when the count reached `n` within `ms` milliseconds. */
static inline bool wfx_count_wait(wfx_count *c, int n, int ms) {
  struct timespec ts = wft_deadline(ms);
  pthread_mutex_lock(&c->mu);
  while (c->n < n)
    if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT) break;
  bool ok = c->n >= n;
  pthread_mutex_unlock(&c->mu);
  return ok;
}

/* ---- handlers ---- */

/* Counts its calls and answers with its input. */
static inline void wfx_echo_counted(wf_task *t, void *payload) {
  wfx_count_add(payload);
  wf_task_succeed(t, wf_task_input(t));
}

/* Records the highest number of simultaneous calls. A call waits inside
 * until `limit` calls are inside together (or every one of `total` calls
 * has started), then the group leaves at once: an engine keeping to the
 * limit lets the count reach exactly `limit`, one running more shows
 * limit + 1, one running fewer leaves calls waiting until they give up
 * (counted in `stalls`). The call that completes a group lingers 2 ms
 * before releasing it, so an extra call launched over the limit is seen.
 * A call is counted out before it completes its task, so the count never
 * exceeds what the engine has in flight. */
typedef struct wfx_conc {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int limit, total;
  int cur, max, started, gen, stalls;
} wfx_conc;

static inline void wfx_conc_init(wfx_conc *c, int limit, int total) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  c->limit = limit;
  c->total = total;
}

static inline void wfx_conc_destroy(wfx_conc *c) {
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
}

static inline void wfx_conc_handler(wf_task *t, void *payload) {
  wfx_conc *c = payload;
  pthread_mutex_lock(&c->mu);
  c->cur++;
  c->started++;
  if (c->cur > c->max) c->max = c->cur;
  if (c->cur >= c->limit || c->started >= c->total) {
    pthread_mutex_unlock(&c->mu);
    wft_sleep_ms(2);
    pthread_mutex_lock(&c->mu);
    c->gen++;
    pthread_cond_broadcast(&c->cv);
  } else {
    int gen = c->gen;
    struct timespec ts = wft_deadline(WFT_WAIT_MS / 2);
    while (c->gen == gen)
      if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT) {
        c->stalls++;
        break;
      }
  }
  c->cur--;
  pthread_mutex_unlock(&c->mu);
  wf_task_succeed(t, wf_task_input(t));
}

/* Blocks until the engine cancels the task (polling wf_task_cancelled(),
 * the only signal a handler gets), then tries to complete it anyway: the
 * engine must ignore that completion. */
typedef struct wfx_blocker {
  wfx_count entered;   /* calls that started */
  wfx_count cancelled; /* calls that saw wf_task_cancelled() */
  wfx_count returned;  /* calls that returned */
  atomic_int late_ok;  /* completions after cancellation the engine took */
} wfx_blocker;

#define WFX_BLOCKER_INIT \
  { WFX_COUNT_INIT, WFX_COUNT_INIT, WFX_COUNT_INIT, 0 }

static inline void wfx_block_until_cancelled(wf_task *t, void *payload) {
  wfx_blocker *b = payload;
  wfx_count_add(&b->entered);
  int64_t end = wft_mono_ms() + WFT_WAIT_MS;
  while (!wf_task_cancelled(t) && wft_mono_ms() < end) wft_sleep_ms(1);
  if (wf_task_cancelled(t)) {
    wfx_count_add(&b->cancelled);
    if (wf_task_succeed(t, "\"too late\"") == WF_OK)
      atomic_fetch_add(&b->late_ok, 1);
  } else {
    wf_task_fail(t, "Test.NeverCancelled", "the engine never cancelled");
  }
  wfx_count_add(&b->returned);
}

/* Fails with Test.Boom / "branch exploded" once `wait_for` has reached
 * `n` (the siblings are inside their handlers). */
typedef struct wfx_failer {
  wfx_count *wait_for;
  int n;
  const char *error, *cause;
  wfx_count calls;
} wfx_failer;

static inline void wfx_fail_after(wf_task *t, void *payload) {
  wfx_failer *f = payload;
  wfx_count_add(&f->calls);
  if (f->wait_for) wfx_count_wait(f->wait_for, f->n, WFT_WAIT_MS);
  wf_task_fail(t, f->error, f->cause);
}

/* Finishes in reverse order: the call whose input has "i": k waits until
 * the call with "i": k + 1 has finished (the one with "i": n - 1 does not
 * wait), and answers {"i": k, "v": <input v>}. `order` records the
 * finishing order. Needs every call in flight at once. */
typedef struct wfx_reverse {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int n;
  bool done[64];
  int order[64];
  int finished;
  int timeouts;
} wfx_reverse;

static inline void wfx_reverse_init(wfx_reverse *r, int n) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  r->n = n;
}

static inline void wfx_reverse_destroy(wfx_reverse *r) {
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
}

static inline void wfx_reverse_handler(wf_task *t, void *payload) {
  wfx_reverse *r = payload;
  const json_t *in = wf_task_input_value(t);
  int i = (int)json_integer_value(json_object_get(in, "i"));
  if (i < 0 || i >= r->n || i >= 64) {
    wf_task_fail(t, "Test.BadInput", wf_task_input(t));
    return;
  }
  pthread_mutex_lock(&r->mu);
  struct timespec ts = wft_deadline(WFT_WAIT_MS);
  while (i + 1 < r->n && !r->done[i + 1])
    if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT) {
      r->timeouts++;
      break;
    }
  pthread_mutex_unlock(&r->mu);
  json_t *out = json_pack("{s:i, s:O}", "i", i, "v",
                          json_object_get(in, "v"));
  /* Complete first, then mark done: the next call may only finish after
   * this one's completion reached the engine. */
  wf_task_succeed_value(t, out);
  pthread_mutex_lock(&r->mu);
  r->done[i] = true;
  r->order[r->finished++] = i;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

/* Waits until `n` calls have finished their bookkeeping (they complete
 * their task first, so the execution can end before they are done). */
static inline bool wfx_reverse_wait(wfx_reverse *r, int n) {
  struct timespec ts = wft_deadline(WFT_WAIT_MS);
  pthread_mutex_lock(&r->mu);
  while (r->finished < n)
    if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT) break;
  bool ok = r->finished >= n;
  pthread_mutex_unlock(&r->mu);
  return ok;
}

/* ---- histories ---- */

/* Indexes into the events array of the events of `type`, in order; the
 * count is returned, at most `max`. */
static inline size_t wfx_find_events(json_t *events, const char *type,
                                     size_t *out, size_t max) {
  size_t n = 0, i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    if (strcmp(json_string_value(json_object_get(ev, "type")), type) == 0) {
      if (n < max) out[n] = i;
      n++;
    }
  }
  return n;
}

static inline size_t wfx_count_events(json_t *events, const char *type) {
  return wfx_find_events(events, type, NULL, 0);
}

/* The number of events of `type` in the execution's history. */
static inline size_t wfx_history_count(wf_execution *x, const char *type) {
  json_t *doc;
  size_t n = wfx_count_events(wft_events(x, 0, &doc), type);
  json_decref(doc);
  return n;
}

/* The events' ids are 1, 2, 3... in the order of the array. */
static inline void wfx_assert_ids_in_order(json_t *events) {
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    cr_assert_eq(json_integer_value(json_object_get(ev, "id")),
                 (json_int_t)i + 1, "event #%zu", i + 1);
  }
}

/* ---- threads ---- */

/* The number of threads of this process, from /proc/self/status (-1 when
 * it cannot be read). */
static inline int wfx_thread_count(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  int n = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Threads:", 8) == 0) {
      n = atoi(line + 8);
      break;
    }
  fclose(f);
  return n;
}

/* Samples the thread count every millisecond on its own thread while a
 * test runs, keeping the highest. */
typedef struct wfx_thread_sampler {
  pthread_t thread;
  atomic_int stop;
  atomic_int max;
} wfx_thread_sampler;

static inline void *wfx_sampler_main(void *arg) {
  wfx_thread_sampler *s = arg;
  while (!atomic_load(&s->stop)) {
    int n = wfx_thread_count();
    if (n > atomic_load(&s->max)) atomic_store(&s->max, n);
    wft_sleep_ms(1);
  }
  return NULL;
}

static inline void wfx_sampler_start(wfx_thread_sampler *s) {
  atomic_init(&s->stop, 0);
  atomic_init(&s->max, 0);
  cr_assert_eq(pthread_create(&s->thread, NULL, wfx_sampler_main, s), 0);
}

/* Stops sampling; returns the highest thread count seen. */
static inline int wfx_sampler_stop(wfx_thread_sampler *s) {
  atomic_store(&s->stop, 1);
  pthread_join(s->thread, NULL);
  return atomic_load(&s->max);
}

/* An engine with these worker threads, on a virtual clock when `clock` is
 * not NULL, with full history. A virtual-clock engine gets one scheduler
 * thread, and its tests wait with wfx_run_polled(), which leaves all the
 * stepping to that thread: with several threads stepping, the engine can
 * move virtual time past a timer whose frame is not yet re-queued, and
 * wf_engine_free() can hang when a thread is firing a timer as the
 * execution ends (both reported, with reproductions). */
static inline wf_engine *wfx_engine(unsigned workers, wf_clock **clock) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.worker_threads = workers;
  if (clock) {
    cr_assert_eq(wf_clock_virtual_new(clock, WFT_T0), WF_OK);
    o.clock = *clock;
    o.scheduler_threads = 1;
  }
  return wft_engine(&o);
}

/* Start and wait for the end without helping the engine (see
 * wfx_engine()). */
static inline wf_execution *wfx_run_polled(wf_engine *e, wf_machine *m,
                                           const char *input_sq) {
  wf_execution *x = wfx_start(e, m, input_sq);
  wft_wait_polled(x);
  return x;
}

/* ---- simultaneous calls ---- */

/* Runs `def_sq`, whose Task states call WFX_FN "Conc" (wfx_conc_handler
 * releasing groups of `group`), on `input_sq` with `workers` worker
 * threads: it succeeds with `output_sq`, all `calls` calls start, and none
 * waits in vain for a group. Returns the highest number of simultaneous
 * calls. */
static inline int wfx_conc_run(const char *def_sq, const char *input_sq,
                               const char *output_sq, int group, int calls,
                               unsigned workers) {
  wfx_conc c;
  wfx_conc_init(&c, group, calls);
  wf_engine *e = wfx_engine(workers, NULL);
  wft_register(e, WFX_FN "Conc", wfx_conc_handler, &c, 0);
  wfx_assert_def(e, def_sq, input_sq, output_sq);
  wf_engine_free(e);
  cr_assert_eq(c.started, calls);
  cr_assert_eq(c.stalls, 0,
               "%d calls waited in vain for %d simultaneous calls (max %d)",
               c.stalls, group, c.max);
  int max = c.max;
  wfx_conc_destroy(&c);
  return max;
}

/* ---- failing and stopping a fan-out while it sits in handlers ---- */

/* An engine with three handlers for a fan-out that is failed or stopped
 * while its iterations or branches sit in a handler: WFX_FN "Block"
 * (wfx_block_until_cancelled), WFX_FN "Fail" (wfx_fail_after, once
 * `fail.n` Block calls are inside) and WFX_FN "After" (wfx_echo_counted,
 * for the states that must never run). */
typedef struct wfx_fanout {
  wfx_blocker block;
  wfx_failer fail;
  wfx_count after;
  wf_engine *engine;
} wfx_fanout;

/* `workers` worker threads; the Fail handler fails with error and cause
 * once `fail_after` Block calls are inside (NULL error: the test uses no
 * Fail state). */
static inline void wfx_fanout_init(wfx_fanout *f, unsigned workers,
                                   int fail_after, const char *error,
                                   const char *cause) {
  *f = (wfx_fanout){.block = WFX_BLOCKER_INIT,
                    .fail = {&f->block.entered, fail_after, error, cause,
                             WFX_COUNT_INIT},
                    .after = WFX_COUNT_INIT};
  f->engine = wfx_engine(workers, NULL);
  wft_register(f->engine, WFX_FN "Block", wfx_block_until_cancelled,
               &f->block, 0);
  wft_register(f->engine, WFX_FN "Fail", wfx_fail_after, &f->fail, 0);
  wft_register(f->engine, WFX_FN "After", wfx_echo_counted, &f->after, 0);
}

/* Every one of the `n` Block calls in flight saw the cancellation and
 * returned. */
static inline void wfx_fanout_assert_cancelled(wfx_fanout *f, int n) {
  cr_assert(wfx_count_wait(&f->block.cancelled, n, WFT_WAIT_MS),
            "only %d of %d handlers saw the cancellation",
            wfx_count_get(&f->block.cancelled), n);
  cr_assert(wfx_count_wait(&f->block.returned, n, WFT_WAIT_MS),
            "only %d of %d cancelled handlers returned",
            wfx_count_get(&f->block.returned), n);
}

/* Start `m` on `input_sq`, wait until `n` Block calls are inside, stop the
 * execution with `error` and `cause` (NULL: none) and wait for its end: it
 * is ABORTED and the `n` handlers saw the cancellation. */
static inline wf_execution *wfx_fanout_stop(wfx_fanout *f, wf_machine *m,
                                            const char *input_sq, int n,
                                            const char *error,
                                            const char *cause) {
  wf_execution *x = wfx_start(f->engine, m, input_sq);
  cr_assert(wfx_count_wait(&f->block.entered, n, WFT_WAIT_MS),
            "only %d of %d handlers started",
            wfx_count_get(&f->block.entered), n);
  cr_assert_eq(wf_execution_stop(x, error, cause), WF_OK);
  wft_wait(x);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_ABORTED);
  wfx_fanout_assert_cancelled(f, n);
  return x;
}

/* Free the execution, the machine and the engine (which waits for the
 * handlers in flight), then check what ran: exactly `entered` Block calls,
 * no After call, and no completion accepted after a cancellation. */
static inline void wfx_fanout_finish(wfx_fanout *f, wf_execution *x,
                                     wf_machine *m, int entered) {
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(f->engine);
  f->engine = NULL;
  cr_assert_eq(wfx_count_get(&f->block.entered), entered);
  cr_assert_eq(wfx_count_get(&f->after), 0,
               "a state after the cancelled task ran");
  cr_assert_eq(atomic_load(&f->block.late_ok), 0,
               "a cancelled task accepted a completion");
}

#endif
