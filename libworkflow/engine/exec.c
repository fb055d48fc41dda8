/* Executions: starting, waiting, reading results, stopping. */
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "clock_impl.h"
#include "error.h"
#include "json_text.h"
#include "map_data.h"
#include "step.h"

wf_execution *wf__exec_ref(wf_execution *x) {
  atomic_fetch_add_explicit(&x->refs, 1, memory_order_relaxed);
  return x;
}

void wf__exec_release(wf_execution *x) {
  if (!x || atomic_fetch_sub_explicit(&x->refs, 1, memory_order_acq_rel) != 1)
    return;
  wf__history_free(x);
  json_decref(x->input);
  json_decref(x->output);
  json_decref(x->mock_case);
  json_decref(x->mock_responses);
  wf__strmap_clear(&x->mock_calls);
  wf__free(x->output_text);
  wf__free(x->error);
  wf__free(x->cause);
  wf__free(x->name);
  wf__free(x->arn);
  wf__free(x->key);
  wf__free(x->correlation_id);
  wf__free(x->role_arn);
  wf__free(x->machine_arn);
  wf__free(x->test_case);
  wf__free(x->input_text);
  wf__free(x->redrive_state);
  wf__frame_release(x->doomed);
  wf__map_run_drop_dirty(x);
  if (x->work) atomic_fetch_sub(&x->engine->work_running, 1);
  wf__work_free(x->work);
  wf__rows_free(&x->work_rows);
  wf__docs_free(&x->work_docs);
  wf_machine_free(x->machine);
  pthread_mutex_destroy(&x->lock);
  wf_engine *e = x->engine;
  wf__free(x);
  wf__engine_release(e);
}

wf_execution *wf__exec_alloc(wf_engine *e, wf_machine *m) {
  wf_execution *x = wf__calloc(1, sizeof *x);
  if (!x) return NULL;
  atomic_init(&x->refs, 1);
  atomic_init(&x->status, WF_EXEC_RUNNING);
  pthread_mutex_init(&x->lock, NULL);
  x->engine = wf__engine_ref(e);
  x->machine = wf__machine_ref(m);
  x->next_event_id = 1;
  x->next_frame_id = 1;
  x->timeout_slot = WF__NO_TIMER;
  return x;
}

/* The size of each version of the caller's struct. */
static size_t start_options_size(unsigned version) {
  switch (version) {
    case 1: return offsetof(wf_start_options, test_case) + sizeof(char *);
    case 2: return offsetof(wf_start_options, role_arn) + sizeof(char *);
    default: return sizeof(wf_start_options);
  }
}

int wf_start_options_init(wf_start_options *opts, unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version < 1 || version > WF_START_OPTIONS_VERSION) return WF_EVERSION;
  memset(opts, 0, start_options_size(version));
  opts->version = version;
  return WF_OK;
}

/* Execution and activity names as AWS allows them: 1-80 characters, no
 * whitespace, brackets, wildcards, the listed punctuation or control
 * characters. */
bool wf__name_ok(const char *s) {
  static const char forbidden[] = " <>{}[]?*\"#%\\^|~`$&,;:/";
  size_t chars = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7F || strchr(forbidden, *p)) return false;
    if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0xA0) return false;
    if ((*p & 0xC0) != 0x80) chars++;
  }
  return chars >= 1 && chars <= 80;
}

static void unregister_execution(wf_engine *e, wf_execution *x) {
  pthread_mutex_lock(&e->xlock);
  wf_execution *was = x->registered ? wf__strmap_remove(&e->executions, x->key)
                                    : NULL;
  x->registered = false;
  pthread_mutex_unlock(&e->xlock);
  if (was) wf__exec_release(was);
}

int wf__exec_register(wf_execution *x, bool limited) {
  wf_engine *e = x->engine;
  pthread_mutex_lock(&e->xlock);
  int rc = WF_OK;
  if (wf__strmap_get(&e->executions, x->key))
    rc = WF_EEXIST;
  else if (limited && e->max_running && e->executions.count >= e->max_running)
    rc = WF_EBUSY;
  else if (!wf__strmap_put(&e->executions, x->key, wf__exec_ref(x), NULL)) {
    wf__exec_release(x);
    rc = WF_ENOMEM;
  } else {
    x->registered = true;
  }
  pthread_mutex_unlock(&e->xlock);
  return rc;
}

/* ---- ending ---- */

void wf__exec_finish(wf_execution *x, wf_exec_status status, json_t *output,
                     const char *error, const char *cause) {
  if (x->ended) return;
  wf_engine *e = x->engine;
  x->ended = true;
  x->end_status = status;
  x->stop_ms = wf__engine_now(e);
  x->output = json_incref(output);
  x->error = error ? wf__strdup(error) : NULL;
  x->cause = cause ? wf__strdup(cause) : NULL;
  x->timeout_gen++;
  wf__sched_cancel_timer(&e->sched, &x->timeout_slot);
  /* AWS redrives a Standard execution that did not succeed from where it
   * stopped: its frames are kept as they stand (committed with its end). */
  if (x->machine->type != WF_MACHINE_EXPRESS && !x->probe && !x->work) {
    if (status != WF_EXEC_SUCCEEDED && x->top)
      x->redrive_state = wf__snapshot_encode(x);
    else if (x->redrive_count)
      x->redrive_state = wf__snapshot_encode_redrives(x);
  }
  /* The top frame refers to the execution: drop it to break the cycle. */
  wf__frame *top = x->top;
  x->top = NULL;
  /* Shown once committed (at once for a volatile store). */
  wf__commit_request(x, WF__COMMIT_FINAL, NULL);
  wf__frame_release(top);
}

void wf__exec_visible_end(wf_execution *x) {
  wf_engine *e = x->engine;
  atomic_store(&x->status, x->end_status);
  unregister_execution(e, x);
  /* Wake threads waiting in wf_execution_wait(). */
  wf__sched_wake_waiters(&e->sched);
}

/* Stop x's frames and its timeout (lock held). */
static void halt(wf_execution *x) {
  wf__frame *top = x->top;
  x->top = NULL;
  x->timeout_gen++;
  wf__sched_cancel_timer(&x->engine->sched, &x->timeout_slot);
  wf__frame_cancel(top);
  wf__frame_release(top);
}

void wf__exec_abandon(wf_execution *x) {
  pthread_mutex_lock(&x->lock);
  if (!x->ended) {
    x->ended = true;
    x->end_status = WF_EXEC_FAILED;
    halt(x);
  }
  pthread_mutex_unlock(&x->lock);
  wf__exec_visible_end(x);
}

void wf__exec_drop(wf_execution *x) {
  pthread_mutex_lock(&x->lock);
  bool was = x->dropped;
  if (!was) {
    x->dropped = true;
    /* Ended to what runs here (nothing steps it again), whether or not
     * its end was reached here (an end that could not be committed): its
     * status stays RUNNING, it goes on in another process. */
    if (!x->ended) {
      x->ended = true;
      x->end_status = WF_EXEC_RUNNING;
    }
    halt(x);
  }
  pthread_mutex_unlock(&x->lock);
  if (!was) unregister_execution(x->engine, x);
}

int64_t wf__exec_history_full(wf_execution *x) {
  static const char cause[] =
      "The execution reached the maximum number of history events (25000).";
  /* The frames are stopped once no state is running (wf__exec_reap): the
   * state recording this event is still on the stack. */
  if (x->top && !x->doomed) x->doomed = wf__frame_ref(x->top);
  wf__event_args a = {.type = WF__EV_EXECUTION_FAILED, .error = "States.Runtime",
                      .cause = cause, .prev = x->next_event_id - 1};
  int64_t id = wf__history_record(x, NULL, &a);
  wf__exec_finish(x, WF_EXEC_FAILED, NULL, "States.Runtime", cause);
  return id;
}

void wf__exec_reap(wf_execution *x) {
  wf__frame *f = x->doomed;
  if (!f) return;
  x->doomed = NULL;
  wf__frame_cancel(f);
  wf__frame_release(f);
}

static int setup_mock(wf_execution *x, const char *test_case, wf_error *err) {
  wf_engine *e = x->engine;
  pthread_mutex_lock(&e->xlock);
  json_t *cfg = json_incref(e->mock_config);
  pthread_mutex_unlock(&e->xlock);
  json_t *tc = json_object_get(
      json_object_get(json_object_get(json_object_get(cfg, "StateMachines"),
                                      x->machine->name),
                      "TestCases"),
      test_case);
  if (!tc) {
    json_decref(cfg);
    return wf__error_set(err, WF_EINVAL, NULL,
                         "the mock configuration has no test case '%s' for "
                         "the state machine '%s'",
                         test_case, x->machine->name);
  }
  x->mock_case = json_incref(tc);
  x->mock_responses = json_incref(json_object_get(cfg, "MockedResponses"));
  json_decref(cfg);
  char *name = wf__strdup(test_case);
  wf__free(x->test_case);
  x->test_case = name;
  return x->test_case ? WF_OK
                      : wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
}

int wf__exec_setup_mock(wf_execution *x, const char *test_case,
                        wf_error *err) {
  return setup_mock(x, test_case, err);
}

/* ---- the machine's TimeoutSeconds ---- */

static void timeout_fire(void *arg, uint64_t gen) {
  wf_execution *x = arg;
  pthread_mutex_lock(&x->lock);
  if (!x->ended && x->timeout_gen == gen) {
    wf__frame_cancel(x->top);
    wf__history_add(x, NULL, WF__EV_EXECUTION_TIMED_OUT, NULL, NULL,
                    "States.Timeout", NULL);
    wf__exec_finish(x, WF_EXEC_TIMED_OUT, NULL, "States.Timeout", NULL);
    wf__exec_reap(x);
  }
  pthread_mutex_unlock(&x->lock);
}

static void timeout_drop(void *arg) { wf__exec_release(arg); }

static bool timeout_stale(void *arg) {
  return atomic_load(&((wf_execution *)arg)->status) != WF_EXEC_RUNNING;
}

static const wf__timer_ops TIMEOUT_OPS = {timeout_fire, timeout_drop,
                                         timeout_stale};

/* x->lock held, so the execution cannot end before the timer is in place
 * to be cancelled. Without memory for the timer, the limit is not
 * enforced (the execution runs on). */
void wf__exec_arm_timeout(wf_execution *x) {
  int64_t seconds = x->machine->timeout_seconds;
  if (!seconds) return;
  wf__exec_ref(x);
  /* A redrive starts the machine's timeout again (AWS). */
  int64_t from = x->redrive_ms ? x->redrive_ms : x->start_ms;
  if (wf__sched_add_timer(&x->engine->sched, from + seconds * 1000,
                          &TIMEOUT_OPS, x, x->timeout_gen,
                          &x->timeout_slot) != WF_OK)
    wf__exec_release(x);
}

/* A UUID for a generated name: the execution's generator draws it (so its
 * stream, and the jitter it gives, depends on the seed alone), mixed with
 * a secure random number, so that an engine started again with the same
 * seed on the same store never makes a name it made before. */
/* Generated names are time-ordered UUIDs (version 7, from the engine's
 * clock): AWS's are version 4, which nothing reading them can rely on, and
 * a store's indexes by ARN and by name then grow at their end instead of
 * at random places (a million random keys outgrow any page cache, and
 * every insert then reads from disk). */
static void new_uuid(char out[37], wf_execution *x) {
  uint64_t a = wf__rng_next(&x->rng), b = wf__rng_next(&x->rng);
  uint64_t s[2] = {0, 0};
  (void)wf__rng_secure(s, sizeof s); /* without it: the seed's alone */
  wf__uuid_v7(out, wf__engine_now(x->engine), a ^ s[0], b ^ s[1]);
}

/* Name, ARN, registry key and the strings that go with them. */
static int identify(wf_execution *x, const wf_start_options *opts,
                    const char *input_text, wf_error *err) {
  wf_engine *e = x->engine;
  wf_machine *m = x->machine;
  uint64_t n = atomic_fetch_add_explicit(&e->starts, 1, memory_order_relaxed);
  wf__rng_seed(&x->rng, e->seed_base + n * 0x9E3779B97F4A7C15ULL);
  char uuid[37];
  if (opts && opts->name) {
    x->name = wf__strdup(opts->name);
  } else {
    new_uuid(uuid, x);
    x->name = wf__strdup(uuid);
  }
  /* Every execution can be traced: without a given correlation id, the
   * execution's name serves as one. */
  x->correlation_id = wf__strdup(opts && opts->correlation_id
                                     ? opts->correlation_id
                                     : x->name ? x->name : "");
  x->role_arn = opts && opts->version >= 2 && opts->role_arn
                    ? wf__strdup(opts->role_arn)
                    : NULL;
  x->input_text = wf__strdup(input_text ? input_text : "{}");
  wf__strbuf b = WF__STRBUF_INIT;
  const char *nm = x->name ? x->name : "";
  /* AWS: ...:execution:MACHINE:NAME; Express executions are
   * ...:express:MACHINE:NAME:ID. */
  bool express = m->type == WF_MACHINE_EXPRESS;
  wf__strbuf_printf(&b, "arn:aws:states:%s:%s:%s:%s:%s", e->region,
                    e->account, express ? "express" : "execution", m->name,
                    nm);
  if (express) {
    char id[37];
    new_uuid(id, x);
    wf__strbuf_printf(&b, ":%s", id);
  }
  x->arn = wf__strbuf_take(&b);
  if (opts && opts->version >= 3 && opts->machine_arn) {
    wf__strbuf_puts(&b, opts->machine_arn);
  } else {
    wf__strbuf_puts(&b, "arn:aws:states:");
    wf__strbuf_puts(&b, e->region);
    wf__strbuf_putc(&b, ':');
    wf__strbuf_puts(&b, e->account);
    wf__strbuf_puts(&b, ":stateMachine:");
    wf__strbuf_puts(&b, m->name);
  }
  x->machine_arn = wf__strbuf_take(&b);
  x->key = wf__exec_key(m->name, nm, x->arn);
  if (!x->name || !x->arn || !x->key || !x->correlation_id ||
      !x->input_text || !x->machine_arn)
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  return WF_OK;
}

char *wf__exec_key(const char *machine, const char *name, const char *arn) {
  wf__strbuf b = WF__STRBUF_INIT;
  wf__strbuf_puts(&b, machine);
  wf__strbuf_putc(&b, '\x1f');
  wf__strbuf_puts(&b, name);
  const char *id = wf__store_arn_is_express(arn) ? strrchr(arn, ':') : NULL;
  if (id) {
    wf__strbuf_putc(&b, '\x1f');
    wf__strbuf_puts(&b, id + 1);
  }
  return wf__strbuf_take(&b);
}

typedef struct found {
  bool open, same_input;
  json_t *input;
  char arn[512];
} found;

static int note_found(const wf_store_execution *r, void *p) {
  found *f = p;
  f->open = r->status == WF_EXEC_RUNNING;
  json_t *v = r->input ? json_loads(r->input, JSON_DECODE_ANY, NULL) : NULL;
  f->same_input = v && json_equal(v, f->input);
  json_decref(v);
  snprintf(f->arn, sizeof f->arn, "%s", r->arn);
  return 1;
}

/* Names are unique per machine, among the executions the engine runs
 * and those its store keeps (AWS: for 90 days). Starting a name again
 * with the same input while it runs is idempotent: *same gets the running
 * execution. */
static int admit(wf_execution *x, bool named, wf_execution **same,
                 wf_error *err) {
  wf_engine *e = x->engine;
  *same = NULL;
  pthread_mutex_lock(&e->xlock);
  wf_execution *other = wf__strmap_get(&e->executions, x->key);
  if (other) {
    if (!other->ended && json_equal(other->input, x->input))
      *same = wf__exec_ref(other);
    pthread_mutex_unlock(&e->xlock);
    if (*same) return WF_OK;
    return wf__error_set(err, WF_EEXIST, NULL,
                         "Execution Already Exists: '%s'", other->arn);
  }
  pthread_mutex_unlock(&e->xlock);
  /* A generated name is new: a UUID from the engine's generator. An
   * EXPRESS execution may reuse a name (AWS starts another). */
  if (named && x->machine->type != WF_MACHINE_EXPRESS) {
    found f = {.input = x->input};
    wf_error ferr;
    int rc = e->store->ops->find_execution(e->store->backend, x->machine->name,
                                           x->name, note_found, &f, &ferr);
    /* On a shared store it may run in another process: brought here, it
     * is the one to answer with. */
    if (rc == WF_OK && f.open && f.same_input && e->share &&
        wf__share_adopt(e, f.arn, &ferr) == WF_OK &&
        (*same = wf__engine_lookup(e, f.arn, false)))
      return WF_OK;
    if (rc == WF_OK)
      return wf__error_set(err, WF_EEXIST, NULL,
                           "Execution Already Exists: '%s'%s", f.arn,
                           f.open && f.same_input
                               ? " (it runs in a store no engine has "
                                 "resumed yet)"
                               : "");
    if (rc != WF_ENOTFOUND) {
      if (err) *err = ferr;
      return rc;
    }
  }
  int rc = wf__exec_register(x, true);
  if (rc == WF_EEXIST) return admit(x, named, same, err); /* a race */
  if (rc == WF_EBUSY)
    return wf__error_set(err, rc, NULL,
                         "The maximum number of running executions has been "
                         "reached. Running executions must end or be stopped "
                         "before a new execution can be started.");
  if (rc != WF_OK) return wf__error_set(err, rc, NULL, "out of memory");
  return WF_OK;
}

/* The first event, the top frame and the first step: on this thread when
 * `inline_run`. */
static void launch(wf_execution *x, size_t in_size, bool inline_run) {
  wf_engine *e = x->engine;
  pthread_mutex_lock(&x->lock);
  x->start_ms = wf__engine_now(e);
  unsigned long failures = wf__alloc_failures();
  wf__history_add(x, NULL, WF__EV_EXECUTION_STARTED, NULL, x->input, NULL,
                  NULL);
  x->top = wf__frame_new(x, NULL, x->machine->top, x->input);
  if (x->top && wf__alloc_failures() != failures) {
    /* Its first event went without memory: it never starts. */
    wf__frame_release(x->top);
    x->top = NULL;
  }
  if (!x->top) {
    wf__exec_finish(x, WF_EXEC_FAILED, NULL, "States.Runtime",
                    "Out of memory while starting the execution");
    pthread_mutex_unlock(&x->lock);
    return;
  }
  if (x->probe) wf__probe_prepare(x->top);
  x->top->input_size = in_size;
  wf__commit_request(x, WF__COMMIT_START, NULL);
  /* The first step is queued (or counted busy) before the timeout timer
   * exists, so virtual time cannot jump to the timeout first. */
  if (inline_run) {
    /* On this thread: no hand-off. The reference keeps the frame alive
     * when the execution finishes inside the step. */
    wf__frame *top = wf__frame_ref(x->top);
    wf__sched_busy_begin(&e->sched);
    wf__exec_arm_timeout(x);
    wf__exec_drain(x, top);
    wf__sched_busy_end(&e->sched);
    pthread_mutex_unlock(&x->lock);
    wf__frame_release(top);
  } else {
    wf__frame_schedule(x->top);
    wf__exec_arm_timeout(x);
    pthread_mutex_unlock(&x->lock);
  }
}

static int start(wf_execution **out, wf_engine *e, wf_machine *m,
                 const char *input_json, const wf_start_options *opts,
                 bool inline_run, bool retried, wf_error *err) {
  if (out) *out = NULL;
  if (!out || !e || !m)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "out, engine and machine are required");
  if (opts && (opts->version < 1 || opts->version > WF_START_OPTIONS_VERSION))
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_start_options version %u is not supported "
                         "(expected %u)",
                         opts->version, WF_START_OPTIONS_VERSION);
  if (m->unrunnable)
    return wf__error_set(err, WF_EUNSUPPORTED, NULL, "%s", m->unrunnable);
  if (wf__object_store_check(e, m, err) != WF_OK) return WF_EUNSUPPORTED;
  if (opts && opts->name && !wf__name_ok(opts->name))
    return wf__error_set(err, WF_EINVAL, NULL, "Invalid Name: '%s'",
                         opts->name);
  /* AWS limits the input as the UTF-8 text it receives. */
  size_t in_len = input_json ? strlen(input_json) : 2;
  if (in_len > e->payload_limit)
    return wf__error_set(err, WF_ELIMIT, NULL,
                         "the execution input is %zu bytes, over the payload "
                         "limit of %zu bytes",
                         in_len, e->payload_limit);
  json_t *input = NULL;
  if (!input_json) {
    input = json_object();
  } else {
    int rc = wf__json_parse(&input, input_json, in_len, "execution input",
                            err);
    if (rc != WF_OK) return rc;
  }
  /* An upper bound of its compact form: re-printing can at most lengthen
   * a short real ("1e9" -> "1.0E9"), by less than double. */
  size_t in_size = in_len * 2 + 16;
  wf_execution *x = wf__exec_alloc(e, m);
  if (!x) {
    json_decref(input);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  x->input = input;
  int rc = identify(x, opts, input_json, err);
  if (rc == WF_OK && opts && opts->test_case)
    rc = setup_mock(x, opts->test_case, err);
  wf_execution *same = NULL;
  if (rc == WF_OK) rc = admit(x, opts && opts->name, &same, err);
  if (rc != WF_OK || same) {
    wf__exec_release(x);
    *out = same;
    return rc;
  }
  launch(x, in_size, inline_run);
  /* The start's ticket is the first: later requests only join or follow.
   * StartExecution answers once the start is committed. */
  bool nowait = opts && opts->version >= 3 && (opts->flags & WF_START_NOWAIT);
  rc = nowait ? WF_OK : wf__commit_wait(x, 1);
  if (rc == WF_EEXIST && e->share && opts && opts->name && !retried) {
    /* Another process started the name meanwhile (a shared store): the
     * same input is the same start. */
    wf__exec_release(x);
    return start(out, e, m, input_json, opts, inline_run, true, err);
  }
  if (rc != WF_OK) {
    wf__error_set(err, rc, NULL,
                  "the execution could not be recorded in its store: %s",
                  wf_error_str(rc));
    wf__exec_release(x);
    return rc;
  }
  *out = x;
  return WF_OK;
}

int wf_engine_start(wf_execution **out, wf_engine *e, wf_machine *m,
                    const char *input_json, const wf_start_options *opts,
                    wf_error *err) {
  return start(out, e, m, input_json, opts, false, false, err);
}

int wf_engine_run(wf_execution **out, wf_engine *e, wf_machine *m,
                  const char *input_json, const wf_start_options *opts,
                  wf_error *err) {
  int rc = start(out, e, m, input_json, opts, true, false, err);
  if (rc == WF_OK) wf_execution_wait(*out, -1);
  return rc;
}

wf_execution *wf__exec_new_probe(wf_engine *e, wf_machine *m, json_t *input,
                                struct wf__probe *probe, wf_error *err) {
  wf_execution *x = wf__exec_alloc(e, m);
  if (!x) {
    wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    return NULL;
  }
  x->input = json_incref(input);
  x->probe = probe;
  char *text = wf__json_dumps(input);
  int rc = text ? identify(x, NULL, text, err)
                : wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  wf__free(text);
  if (rc != WF_OK) {
    wf__exec_release(x);
    return NULL;
  }
  return x;
}

void wf__exec_run_probe(wf_execution *x) {
  launch(x, wf__json_size(x->input, x->engine->payload_limit), true);
  wf_execution_wait(x, -1);
}

static bool is_done(void *arg) {
  wf_execution *x = arg;
  return atomic_load(&x->status) != WF_EXEC_RUNNING;
}

int wf_execution_wait(wf_execution *x, int64_t timeout_ms) {
  if (is_done(x)) return WF_OK;
  int64_t deadline = timeout_ms < 0 ? -1 : wf__monotonic_ms() + timeout_ms;
  return wf__sched_help(&x->engine->sched, is_done, x, deadline) ? WF_OK
                                                         : WF_ETIMEDOUT;
}

wf_exec_status wf_execution_status(const wf_execution *x) {
  return (wf_exec_status)atomic_load(&((wf_execution *)x)->status);
}

const char *wf_execution_output(wf_execution *x) {
  if (wf_execution_status(x) != WF_EXEC_SUCCEEDED) return NULL;
  pthread_mutex_lock(&x->lock);
  if (!x->output_text) x->output_text = wf__json_dumps(x->output);
  pthread_mutex_unlock(&x->lock);
  return x->output_text;
}

const char *wf_execution_error(const wf_execution *x) {
  return wf_execution_status(x) == WF_EXEC_RUNNING ? NULL : x->error;
}

const char *wf_execution_cause(const wf_execution *x) {
  return wf_execution_status(x) == WF_EXEC_RUNNING ? NULL : x->cause;
}

const char *wf_execution_name(const wf_execution *x) { return x->name; }
const char *wf_execution_arn(const wf_execution *x) { return x->arn; }
int64_t wf_execution_start_time(const wf_execution *x) { return x->start_ms; }

int64_t wf_execution_stop_time(const wf_execution *x) {
  return wf_execution_status(x) == WF_EXEC_RUNNING ? 0 : x->stop_ms;
}

int wf_execution_stop(wf_execution *x, const char *error, const char *cause) {
  pthread_mutex_lock(&x->lock);
  if (x->ended) {
    pthread_mutex_unlock(&x->lock);
    return WF_ESTATE;
  }
  wf__frame_cancel(x->top);
  wf__history_add(x, x->top, WF__EV_EXECUTION_ABORTED, NULL, NULL, error,
                  cause);
  wf__exec_finish(x, WF_EXEC_ABORTED, NULL, error, cause);
  wf__exec_reap(x);
  uint64_t ticket = x->commit_requested;
  pthread_mutex_unlock(&x->lock);
  /* Answered once the stop is committed; on a shared store, a stop of an
   * execution whose lease had gone to another process (unknown here
   * until this commit was refused) did not happen. */
  return wf__commit_wait(x, ticket) == WF_ECANCELED ? WF_ECANCELED : WF_OK;
}

char *wf_execution_history(wf_execution *x, int reverse) {
  if (x->engine->history == WF_HISTORY_OFF) return NULL;
  return wf__history_read(x->engine, x->arn, reverse != 0);
}

size_t wf_execution_history_count(wf_execution *x) {
  if (x->engine->history != WF_HISTORY_FULL) return 0;
  return (size_t)atomic_load(&x->committed_events);
}

void wf_execution_free(wf_execution *x) {
  if (!x) return;
  /* A running execution leaves the engine's registry when it ends; its
   * record stays in the store. */
  wf__exec_release(x);
}

const json_t *wf_execution_output_value(const wf_execution *x) {
  return wf_execution_status(x) == WF_EXEC_SUCCEEDED ? x->output : NULL;
}
