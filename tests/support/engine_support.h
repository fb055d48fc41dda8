/* Helpers shared by the engine test files (tests/test_engine_*.c): loading
 * machines, running executions to the end, reading histories, gates that
 * hold a handler until the test releases it, and a monotonic clock for
 * proving that virtual-clock tests take no real time. Header-only (static
 * inline) so the test CMakeLists needs no change. */
#ifndef WF_TEST_ENGINE_SUPPORT_H
#define WF_TEST_ENGINE_SUPPORT_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deadline.h"
#include "workflow/workflow.h"

/* 2023-11-14T22:13:20Z: the start of every virtual clock in these tests. */
#define WFT_T0 1700000000000LL
/* Real time a virtual-clock test may take, however long it waits in
 * virtual time (generous for valgrind and sanitizers). */
#define WFT_REAL_MS_MAX 3000
/* How long a test waits for something that must happen promptly. */
#define WFT_WAIT_MS 10000

static inline int64_t wft_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void wft_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Load a definition or fail the test; `name` NULL means "StateMachine". */
static inline wf_machine *wft_load_named(const char *json, const char *name) {
  wf_machine *m = NULL;
  wf_error err;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.name = name;
  int rc = wf_machine_load_json(&m, json, &lo, &err);
  cr_assert_eq(rc, WF_OK, "definition rejected (%s): %s at %s\n%s",
               wf_error_name(rc), err.message, err.path, json);
  return m;
}

static inline wf_machine *wft_load(const char *json) {
  return wft_load_named(json, NULL);
}

static inline wf_engine *wft_engine(const wf_engine_options *opts) {
  wf_engine *e = NULL;
  wf_error err;
  int rc = wf_engine_new(&e, opts, &err);
  cr_assert_eq(rc, WF_OK, "wf_engine_new: %s", err.message);
  return e;
}

/* An engine on a new virtual clock starting at WFT_T0. */
static inline wf_engine *wft_virtual_engine(wf_clock **clock,
                                            wf_history_mode history) {
  cr_assert_eq(wf_clock_virtual_new(clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = *clock;
  o.history = history;
  return wft_engine(&o);
}

static inline wf_execution *wft_start(wf_engine *e, wf_machine *m,
                                      const char *input,
                                      const wf_start_options *so) {
  wf_execution *x = NULL;
  wf_error err;
  int rc = wf_engine_start(&x, e, m, input, so, &err);
  cr_assert_eq(rc, WF_OK, "wf_engine_start: %s: %s", wf_error_name(rc),
               err.message);
  cr_assert_not_null(x);
  return x;
}

static inline void wft_wait(wf_execution *x) {
  cr_assert_eq(wf_execution_wait(x, WFT_WAIT_MS), WF_OK,
               "the execution did not finish");
}

/* Starting `m` on `input` with `so` is refused with `code`, clearing the
 * execution handle; `err` keeps the error. */
static inline void wft_assert_start_refused(wf_engine *e, wf_machine *m,
                                            const char *input,
                                            const wf_start_options *so,
                                            int code, wf_error *err) {
  wf_execution *x = (wf_execution *)m; /* not NULL: the call must clear it */
  memset(err, 0, sizeof *err);
  int rc = wf_engine_start(&x, e, m, input, so, err);
  cr_assert_eq(rc, code, "input '%s', name '%s': %s (%s), expected %s",
               input ? input : "(null)", so && so->name ? so->name : "(null)",
               wf_error_name(rc), err->message, wf_error_name(code));
  cr_assert_eq(err->code, code);
  cr_assert_null(x);
}

/* Wait for the end by polling the status, without wf_execution_wait()
 * (which may help the engine step). */
static inline void wft_wait_polled(wf_execution *x) {
  int64_t end = wft_mono_ms() + WFT_WAIT_MS;
  while (wf_execution_status(x) == WF_EXEC_RUNNING && wft_mono_ms() < end)
    wft_sleep_ms(1);
  cr_assert_neq(wf_execution_status(x), WF_EXEC_RUNNING,
                "the execution did not finish");
}

/* Start and wait for the end. */
static inline wf_execution *wft_run(wf_engine *e, wf_machine *m,
                                    const char *input,
                                    const wf_start_options *so) {
  wf_execution *x = wft_start(e, m, input, so);
  wft_wait(x);
  return x;
}

/* An engine on a store of its own opened shared (a worker of the shared
 * PostgreSQL tests) with a short lease, logging warnings to
 * $WF_TEST_SHARE_LOG; not yet resumed. */
static inline wf_engine *wft_shared_engine(const char *conninfo,
                                           int64_t lease_ms,
                                           wf_store **store) {
  wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
  po.shared = true;
  po.lease_ms = lease_ms;
  wf_error err;
  cr_assert_eq(wf_store_postgres_open(store, conninfo, &po, &err), WF_OK,
               "%s", err.message);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.store = *store;
  o.log_path = getenv("WF_TEST_SHARE_LOG");
  o.log_level = WF_LOG_WARN;
  return wft_engine(&o);
}

/* Register a handler or fail the test. */
static inline void wft_register(wf_engine *e, const char *resource,
                                wf_handler_fn fn, void *payload,
                                unsigned flags) {
  wf_error err;
  int rc = wf_engine_register_handler(e, resource, fn, payload, flags, &err);
  cr_assert_eq(rc, WF_OK, "register %s: %s", resource, err.message);
}

/* What most engine tests make and free: an engine of their own (on a
 * virtual clock or not), one machine and one execution of it. */
typedef struct wft_fixture {
  wf_clock *clock; /* the virtual clock, or NULL */
  wf_engine *engine;
  wf_machine *machine;
  wf_execution *exec;
  int64_t real_ms; /* real time wft_fixture_run() took */
} wft_fixture;

/* The engine with `opts` (NULL: defaults) and, when `virtual_clock`, a new
 * virtual clock starting at WFT_T0 in place of opts' clock. */
static inline void wft_fixture_init(wft_fixture *f,
                                    const wf_engine_options *opts,
                                    bool virtual_clock) {
  memset(f, 0, sizeof *f);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  if (opts) o = *opts;
  if (virtual_clock) {
    cr_assert_eq(wf_clock_virtual_new(&f->clock, WFT_T0), WF_OK);
    o.clock = f->clock;
  }
  f->engine = wft_engine(&o);
}

/* Load `def` and run it to the end on the fixture's engine. */
static inline wf_execution *wft_fixture_run(wft_fixture *f, const char *def,
                                            const char *input,
                                            const wf_start_options *so) {
  f->machine = wft_load(def);
  int64_t real = wft_mono_ms();
  f->exec = wft_run(f->engine, f->machine, input, so);
  f->real_ms = wft_mono_ms() - real;
  return f->exec;
}

/* A virtual-clock run took (almost) no real time, however long it waited. */
static inline void wft_assert_no_real_wait(const wft_fixture *f) {
  cr_assert_lt(f->real_ms, WFT_REAL_MS_MAX,
               "virtual time took %lld ms of real time",
               (long long)f->real_ms);
}

/* Free what the fixture holds, execution first; clock last. */
static inline void wft_fixture_free(wft_fixture *f) {
  wf_execution_free(f->exec);
  wf_machine_free(f->machine);
  wf_engine_free(f->engine);
  wf_clock_free(f->clock);
  memset(f, 0, sizeof *f);
}

static inline json_t *wft_parse(const char *text) {
  cr_assert_not_null(text, "no JSON text");
  json_error_t je;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
  cr_assert_not_null(v, "not JSON (%s): %s", je.text, text);
  return v;
}

/* Compare JSON texts by value (key order and spacing ignored). */
static inline void wft_assert_json(const char *actual, const char *expected) {
  json_t *a = wft_parse(actual), *b = wft_parse(expected);
  cr_assert(json_equal(a, b), "JSON differs:\n  actual   %s\n  expected %s",
            actual, expected);
  json_decref(a);
  json_decref(b);
}

static inline void wft_assert_succeeded(wf_execution *x, const char *output) {
  cr_assert_eq(wf_execution_status(x), WF_EXEC_SUCCEEDED,
               "status %d, error %s, cause %s", wf_execution_status(x),
               wf_execution_error(x) ? wf_execution_error(x) : "(null)",
               wf_execution_cause(x) ? wf_execution_cause(x) : "(null)");
  if (output) wft_assert_json(wf_execution_output(x), output);
}

/* FAILED with this error; `cause` NULL means AWS reports no cause. */
static inline void wft_assert_failed(wf_execution *x, const char *error,
                                     const char *cause) {
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED,
               "status %d (expected FAILED), output %s",
               wf_execution_status(x),
               wf_execution_output(x) ? wf_execution_output(x) : "(null)");
  cr_assert_str_eq(wf_execution_error(x), error);
  if (cause)
    cr_assert_str_eq(wf_execution_cause(x), cause);
  else
    cr_assert_null(wf_execution_cause(x), "unexpected cause: %s",
                   wf_execution_cause(x));
}

/* The history's "events" array (new reference to the whole document in
 * *doc; free it with json_decref). */
static inline json_t *wft_events(wf_execution *x, int reverse, json_t **doc) {
  char *h = wf_execution_history(x, reverse);
  cr_assert_not_null(h, "no history");
  *doc = wft_parse(h);
  wf_string_free(h);
  json_t *events = json_object_get(*doc, "events");
  cr_assert(json_is_array(events), "history has no events array");
  return events;
}

/* The event types without those of the given prefixes ("Pass", "Task"...;
 * `skip` NULL-terminated, or NULL for none), space-separated; free(). */
static inline char *wft_event_types_except(wf_execution *x,
                                           const char *const *skip) {
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  size_t len = 1, i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    len += strlen(json_string_value(json_object_get(ev, "type"))) + 1;
  }
  char *s = calloc(1, len);
  cr_assert_not_null(s);
  json_array_foreach(events, i, ev) {
    const char *type = json_string_value(json_object_get(ev, "type"));
    bool skipped = false;
    for (const char *const *p = skip; p && *p; p++)
      if (strncmp(type, *p, strlen(*p)) == 0) skipped = true;
    if (skipped) continue;
    if (*s) strcat(s, " ");
    strcat(s, type);
  }
  json_decref(doc);
  return s;
}

/* The event types, space-separated, e.g. "ExecutionStarted PassStateEntered". */
static inline char *wft_event_types(wf_execution *x) {
  return wft_event_types_except(x, NULL);
}

/* The details object of an event ("mapIterationStartedEventDetails"...),
 * borrowed from the event; NULL when it has none. */
static inline json_t *wft_details(json_t *ev) {
  const char *k;
  json_t *v;
  json_object_foreach(ev, k, v) {
    size_t n = strlen(k);
    if (n > 12 && strcmp(k + n - 12, "EventDetails") == 0) return v;
  }
  return NULL;
}

/* A one-shot gate: a handler waits on it until the test opens it. */
typedef struct wft_gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open;
} wft_gate;

#define WFT_GATE_INIT \
  { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 }

static inline void wft_gate_open(wft_gate *g) {
  pthread_mutex_lock(&g->mu);
  g->open = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

/* True when the gate opened within `ms` milliseconds. */
static inline bool wft_gate_wait(wft_gate *g, int ms) {
  struct timespec ts = wft_deadline(ms);
  pthread_mutex_lock(&g->mu);
  while (!g->open)
    if (pthread_cond_timedwait(&g->cv, &g->mu, &ts) != 0) break;
  int open = g->open;
  pthread_mutex_unlock(&g->mu);
  return open != 0;
}

/* Wait (real time, bounded: WFT_WAIT_MS) until *count, guarded by mu and
 * signalled on cv, reaches n; returns the count then. */
static inline int wft_wait_count(pthread_mutex_t *mu, pthread_cond_t *cv,
                                 const int *count, int n) {
  struct timespec until = wft_deadline(WFT_WAIT_MS);
  pthread_mutex_lock(mu);
  while (*count < n && pthread_cond_timedwait(cv, mu, &until) == 0) {
  }
  int got = *count;
  pthread_mutex_unlock(mu);
  return got;
}

#endif
