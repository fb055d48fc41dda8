/* Tasks: one handler invocation of a Task state. A task completes exactly
 * once — from its handler (synchronously or later), by token, or by the
 * engine when it times out or is cancelled; later completions are ignored. */
#include <stdio.h>
#include <string.h>

#include <stddef.h>

#include "alloc.h"
#include "engine_impl.h"
#include "json_text.h"

wf__task_family wf__task_family_of(const char *resource) {
  if (strncmp(resource, "arn:aws:lambda:", 15) == 0) return WF__FAMILY_LAMBDA;
  if (strncmp(resource, "arn:aws:states:::", 17) != 0 &&
      strstr(resource, ":activity:"))
    return WF__FAMILY_ACTIVITY;
  return WF__FAMILY_TASK;
}

wf_task *wf__task_new(wf__frame *f, json_t *input, const char *resource,
                      unsigned attempt, int64_t deadline) {
  wf_task *t = wf__calloc(1, sizeof *t);
  if (!t) return NULL;
  atomic_init(&t->refs, 1);
  atomic_init(&t->cancelled, 0);
  atomic_init(&t->settled, false);
  t->frame = wf__frame_ref(f);
  t->engine = f->exec->engine;
  t->status = WF__TASK_PENDING;
  t->input = json_incref(input);
  t->resource = resource;
  t->attempt = attempt;
  t->deadline = deadline;
  pthread_mutex_init(&t->text_lock, NULL);
  t->timeout_slot = t->heartbeat_slot = WF__NO_TIMER;
  /* A token is a bearer secret: from the system's generator, never from
   * the execution's seeded one. */
  uint64_t r[2];
  if (wf__rng_secure(r, sizeof r) != 0) {
    wf__task_release(t);
    return NULL;
  }
  wf__hex128(t->token, r[0], r[1]);
  return t;
}

wf_task *wf__task_ref(wf_task *t) {
  atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
  return t;
}

void wf__task_release(wf_task *t) {
  if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
    return;
  json_decref(t->input);
  json_decref(t->output);
  wf__free(t->input_text);
  wf__free(t->error);
  wf__free(t->cause);
  pthread_mutex_destroy(&t->text_lock);
  wf__frame_release(t->frame);
  wf__free(t);
}

/* Tokens are registered for every task so external systems can complete
 * it; the map holds a reference while the task is pending. */
static void unregister_token(wf_task *t) {
  wf_engine *e = t->engine;
  pthread_mutex_lock(&e->xlock);
  wf_task *was = t->registered ? wf__strmap_remove(&e->tokens, t->token) : NULL;
  t->registered = false;
  pthread_mutex_unlock(&e->xlock);
  if (was) wf__task_release(was);
}

/* Register the token for completion by token (done on first use of the
 * token, so tasks completed synchronously never touch the map). */
static void register_token(wf_task *t) {
  wf_engine *e = t->engine;
  pthread_mutex_lock(&e->xlock);
  if (!t->registered && !t->unregistered_final &&
      wf__strmap_put(&e->tokens, t->token, t, NULL)) {
    t->registered = true;
    wf__task_ref(t);
  }
  pthread_mutex_unlock(&e->xlock);
}

/* A settled task's timeouts would only keep it (and its execution) in
 * memory until they ran out. */
static void cancel_timers(wf_task *t) {
  wf__task_ref(t);
  wf__sched_cancel_timer(&t->engine->sched, &t->timeout_slot);
  wf__sched_cancel_timer(&t->engine->sched, &t->heartbeat_slot);
  wf__task_release(t);
}

/* Called from an inline handler, on the thread stepping the execution,
 * which already holds the execution's lock. */
static bool on_stepping_thread(const wf_task *t) {
  return t->in_inline_call && pthread_equal(t->inline_thread, pthread_self());
}

/* `heartbeat`: the outcome is a missed heartbeat's States.Timeout, which
 * is recorded with the outcome, under the same lock. */
static int complete(wf_task *t, bool ok, json_t *output, const char *error,
                    const char *cause, bool heartbeat) {
  wf_execution *x = t->frame->exec;
  bool self = on_stepping_thread(t);
  if (!self) pthread_mutex_lock(&x->lock);
  if (t->status != WF__TASK_PENDING) {
    if (!self) pthread_mutex_unlock(&x->lock);
    json_decref(output);
    return WF_ESTATE;
  }
  t->status = WF__TASK_DONE;
  t->heartbeat_missed = heartbeat;
  atomic_store(&t->settled, true);
  t->ok = ok;
  t->output = output;
  t->error = error ? wf__strdup(error) : NULL;
  t->cause = cause ? wf__strdup(cause) : NULL;
  wf__frame *f = t->frame;
  if (!self && f->park == WF__PARK_TASK && f->task == t) {
    f->park = WF__PARK_NONE;
    f->phase = WF__PH_TASK_DONE;
    wf__frame_schedule(f);
  }
  if (!self) pthread_mutex_unlock(&x->lock);
  cancel_timers(t);
  pthread_mutex_lock(&t->engine->xlock);
  t->unregistered_final = true;
  pthread_mutex_unlock(&t->engine->xlock);
  unregister_token(t);
  return WF_OK;
}

int wf__task_complete(wf_task *t, bool ok, json_t *output, const char *error,
                      const char *cause) {
  return complete(t, ok, output, error, cause, false);
}

void wf__task_expire(wf_task *t) {
  if (t->status == WF__TASK_PENDING) {
    t->status = WF__TASK_EXPIRED;
    atomic_store(&t->settled, true);
    atomic_store(&t->cancelled, 1);
    cancel_timers(t);
  }
}

int64_t wf__task_now(const wf_task *t) { return wf__engine_now(t->engine); }

/* ---- calling the handler ---- */

static wf_task *task_of(wf__job *job) {
  return (wf_task *)((char *)job - offsetof(wf_task, job));
}

static void job_run(wf__job *job) {
  wf_task *t = task_of(job);
  wf__handler_call(t->handler, t);
  wf__task_release(t);
}

static void job_drop(wf__job *job) {
  wf_task *t = task_of(job);
  wf__handler_release(t->handler);
  wf__task_release(t);
}

void wf__task_call(wf_task *t, wf__handler *h) {
  t->handler = h;
  if (t->defer_call) {
    /* Called once committed (durable stores, callback tasks): the task
     * input carries its token. */
    wf__commit_request(t->frame->exec, 0, t);
    return;
  }
  if (h->flags & WF_HANDLER_INLINE) {
    t->in_inline_call = true;
    t->inline_thread = pthread_self();
    wf__handler_call(h, t);
    t->in_inline_call = false;
    return;
  }
  t->job.run = job_run;
  t->job.drop = job_drop;
  wf__pool_submit(&t->engine->sched, &wf__task_ref(t)->job);
}

void wf__task_call_committed(wf_task *t) {
  wf_execution *x = t->frame->exec;
  pthread_mutex_lock(&x->lock);
  bool pending = t->status == WF__TASK_PENDING;
  pthread_mutex_unlock(&x->lock);
  if (!pending) {
    /* Settled meanwhile (stopped, timed out): no call. */
    wf__handler_release(t->handler);
    t->handler = NULL;
    return;
  }
  t->job.run = job_run;
  t->job.drop = job_drop;
  wf__pool_submit(&t->engine->sched, &wf__task_ref(t)->job);
}

void wf__task_call_dropped(wf_task *t) {
  wf__handler_release(t->handler);
  t->handler = NULL;
}

/* ---- timeouts ---- */

/* TimeoutSeconds and HeartbeatSeconds. AWS records States.Timeout for
 * both (TaskTimedOut); a Retry or Catch on States.HeartbeatTimeout matches
 * the heartbeat's only. */
static void timed_out(wf_task *t, uint64_t gen, bool heartbeat) {
  wf_execution *x = t->frame->exec;
  pthread_mutex_lock(&x->lock);
  bool live = t->status == WF__TASK_PENDING &&
              (!heartbeat || t->heartbeat_gen == gen);
  pthread_mutex_unlock(&x->lock);
  if (!live) return;
  atomic_store(&t->cancelled, 1);
  complete(t, false, NULL, "States.Timeout", NULL, heartbeat);
}

static void timeout_fire(void *arg, uint64_t gen) { timed_out(arg, gen, false); }
static void heartbeat_fire(void *arg, uint64_t gen) { timed_out(arg, gen, true); }
static void timer_drop(void *arg) { wf__task_release(arg); }
static bool timer_stale(void *arg) {
  return atomic_load(&((wf_task *)arg)->settled);
}

static const wf__timer_ops TIMEOUT_OPS = {timeout_fire, timer_drop,
                                         timer_stale};
static const wf__timer_ops HEARTBEAT_OPS = {heartbeat_fire, timer_drop,
                                           timer_stale};

/* Without memory for the timer, the timeout is not enforced: the task is
 * left to its handler. */
static void add_timer(wf_task *t, const wf__timer_ops *ops, int64_t deadline,
                      uint64_t gen, size_t *slot) {
  wf__task_ref(t);
  if (wf__sched_add_timer(&t->engine->sched, deadline, ops, t, gen, slot) !=
      WF_OK)
    wf__task_release(t);
}

void wf__task_arm_timeouts(wf_task *t, int64_t timeout_s, int64_t now) {
  t->timeout_armed = timeout_s != 0;
  if (t->timeout_armed)
    add_timer(t, &TIMEOUT_OPS, t->deadline, 0, &t->timeout_slot);
  if (t->heartbeat_seconds) {
    t->heartbeat_deadline = now + t->heartbeat_seconds * 1000;
    add_timer(t, &HEARTBEAT_OPS, t->heartbeat_deadline, t->heartbeat_gen,
              &t->heartbeat_slot);
  }
}

void wf__task_register(wf_task *t) {
  if (t->timeout_armed)
    add_timer(t, &TIMEOUT_OPS, t->deadline, 0, &t->timeout_slot);
  if (t->heartbeat_seconds)
    add_timer(t, &HEARTBEAT_OPS, t->heartbeat_deadline, t->heartbeat_gen,
              &t->heartbeat_slot);
  register_token(t);
}

/* ---- completing later ---- */

typedef struct later {
  wf_task *task; /* a reference */
  bool ok;
  json_t *output;
  char *error, *cause;
} later;

static void later_fire(void *arg, uint64_t gen) {
  (void)gen;
  later *l = arg;
  wf__task_complete(l->task, l->ok, l->output, l->error, l->cause);
  l->output = NULL; /* handed over */
}

static void later_drop(void *arg) {
  later *l = arg;
  json_decref(l->output);
  wf__free(l->error);
  wf__free(l->cause);
  wf__task_release(l->task);
  wf__free(l);
}

/* A late answer would be refused: virtual time must not wait for it. */
static bool later_stale(void *arg) {
  return atomic_load(&((later *)arg)->task->settled);
}

static const wf__timer_ops LATER_OPS = {later_fire, later_drop, later_stale};

int wf__task_complete_after(wf_task *t, int64_t delay_ms, bool ok,
                            json_t *output, const char *error,
                            const char *cause) {
  later *l = wf__calloc(1, sizeof *l);
  if (!l || (error && !(l->error = wf__strdup(error))) ||
      (cause && !(l->cause = wf__strdup(cause)))) {
    if (l) {
      wf__free(l->error);
      wf__free(l);
    }
    /* Early rather than never. */
    return wf__task_complete(t, ok, output, error, cause);
  }
  l->task = wf__task_ref(t);
  l->ok = ok;
  l->output = output;
  int64_t deadline = wf__engine_now(t->engine) + delay_ms;
  if (wf__sched_add_timer(&t->engine->sched, deadline, &LATER_OPS, l, 0,
                          NULL) != WF_OK) {
    later_fire(l, 0);
    later_drop(l);
  }
  return WF_OK;
}

/* ---- the handler SDK ---- */

const char *wf_task_input(wf_task *t) {
  pthread_mutex_lock(&t->text_lock);
  if (!t->input_text) t->input_text = wf__json_dumps(t->input);
  pthread_mutex_unlock(&t->text_lock);
  return t->input_text;
}

const char *wf_task_resource(const wf_task *t) { return t->resource; }
const char *wf_task_execution_name(const wf_task *t) {
  return WF__EXEC_SHOWN_NAME(t->frame->exec);
}
const char *wf_task_execution_arn(const wf_task *t) {
  return WF__EXEC_SHOWN_ARN(t->frame->exec);
}
const char *wf_task_state_name(const wf_task *t) {
  return t->frame->scope->states[t->frame->state]->name;
}
const char *wf_task_correlation_id(const wf_task *t) {
  return t->frame->exec->correlation_id;
}
const char *wf_task_token(wf_task *t) {
  wf_execution *x = t->frame->exec;
  if (x->engine->durable && !t->token_durable) {
    /* Nobody outside may hold a token the store does not know: commit the
     * task before handing it out. */
    bool self = on_stepping_thread(t);
    if (!self) pthread_mutex_lock(&x->lock);
    uint64_t ticket = 0;
    if (!t->token_durable) {
      t->token_durable = true;
      ticket = wf__commit_request(x, 0, NULL);
    }
    if (!self) pthread_mutex_unlock(&x->lock);
    if (ticket) wf__commit_wait(x, ticket);
  }
  register_token(t);
  return t->token;
}

int wf_task_redelivered(const wf_task *t) { return t->redelivered; }

/* What names this attempt of this task in every delivery: the execution,
 * the frame, the state's entry and the attempt, all kept across restarts.
 * Made on first use. */
const char *wf_task_idempotency_key(const wf_task *t) {
  wf_task *w = (wf_task *)t;
  pthread_mutex_lock(&w->text_lock);
  if (!w->key[0]) {
    const wf__frame *f = t->frame;
    snprintf(w->key, sizeof w->key, "%.120s#%lld.%lld.%u", f->exec->name,
             (long long)f->id, (long long)f->entered_id, t->attempt);
  }
  pthread_mutex_unlock(&w->text_lock);
  return w->key;
}

void wf__task_publish(wf_task *t) { register_token(t); }
unsigned int wf_task_attempt(const wf_task *t) { return t->attempt; }
int64_t wf_task_deadline(const wf_task *t) { return t->deadline; }
int wf_task_cancelled(const wf_task *t) { return atomic_load(&t->cancelled); }

void wf_task_retain(wf_task *t) { wf__task_ref(t); }
void wf_task_release(wf_task *t) { wf__task_release(t); }

int wf_task_succeed(wf_task *t, const char *output_json) {
  json_t *v = NULL;
  wf_error perr;
  int rc = output_json ? wf__json_parse(&v, output_json, strlen(output_json),
                                        "task output", &perr)
                       : WF_EPARSE;
  if (rc == WF_ENOMEM) {
    wf__task_complete(t, false, NULL, "States.Runtime",
                      "Out of memory while reading the task output");
    return WF_ENOMEM;
  }
  if (rc != WF_OK) {
    wf__task_complete(t, false, NULL, "States.Runtime",
                      "The task output is not valid JSON");
    return WF_EPARSE;
  }
  return wf__task_complete(t, true, v, NULL, NULL);
}

int wf_task_fail(wf_task *t, const char *error, const char *cause) {
  return wf__task_complete(t, false, NULL, error, cause);
}

int wf_task_heartbeat(wf_task *t) {
  wf_execution *x = t->frame->exec;
  bool self = on_stepping_thread(t);
  if (!self) pthread_mutex_lock(&x->lock);
  if (t->status != WF__TASK_PENDING) {
    if (!self) pthread_mutex_unlock(&x->lock);
    return WF_ESTATE;
  }
  bool arm = t->heartbeat_seconds > 0;
  uint64_t gen = arm ? ++t->heartbeat_gen : 0;
  int64_t deadline = wf__engine_now(x->engine) + t->heartbeat_seconds * 1000;
  if (arm) {
    t->heartbeat_deadline = deadline;
    /* The new deadline survives a restart once committed. */
    if (x->engine->durable) wf__commit_request(x, 0, NULL);
  }
  if (!self) pthread_mutex_unlock(&x->lock);
  /* Replaces the last heartbeat's timer. */
  if (arm) add_timer(t, &HEARTBEAT_OPS, deadline, gen, &t->heartbeat_slot);
  return WF_OK;
}

/* ---- completion by token ---- */

static wf_task *find_local_token(wf_engine *e, const char *token) {
  pthread_mutex_lock(&e->xlock);
  wf_task *t = NULL;
  do {
    t = wf__strmap_get(&e->tokens, token);
  } while (!t && wf__wait_resumed(e));
  if (t) wf__task_ref(t);
  pthread_mutex_unlock(&e->xlock);
  return t;
}

static wf_task *find_token(wf_engine *e, const char *token) {
  if (!token) return NULL;
  wf_task *t = find_local_token(e, token);
  /* On a shared store, the execution may run in another process; a copy
   * here may have been taken over by one. */
  if (t && !wf__share_confirm(e, t->frame->exec)) {
    wf__task_release(t);
    t = NULL;
  }
  if (!t && wf__share_adopt_token(e, token)) t = find_local_token(e, token);
  return t;
}

static int no_task(wf_error *err, const char *token) {
  if (err) {
    err->code = WF_ENOTFOUND;
    err->line = err->column = 0;
    err->path[0] = '\0';
    snprintf(err->message, sizeof err->message,
             "Task does not exist anymore: %s", token ? token : "(null)");
  }
  return WF_ENOTFOUND;
}

int wf_engine_send_task_success(wf_engine *e, const char *token,
                                const char *output_json, wf_error *err) {
  wf_task *t = find_token(e, token);
  if (!t) return no_task(err, token);
  json_t *v = NULL;
  int rc = wf__json_parse(&v, output_json ? output_json : "",
                          output_json ? strlen(output_json) : 0, "output",
                          err);
  if (rc == WF_OK) {
    if (wf__json_size(v, e->payload_limit) > e->payload_limit) {
      json_decref(v);
      rc = WF_ELIMIT;
      if (err) snprintf(err->message, sizeof err->message,
                        "the output is over the payload limit of %zu bytes",
                        e->payload_limit);
    } else {
      rc = wf__task_complete(t, true, v, NULL, NULL);
      if (rc != WF_OK) rc = no_task(err, token);
    }
  }
  wf__task_release(t);
  return rc;
}

int wf_engine_send_task_failure(wf_engine *e, const char *token,
                                const char *error, const char *cause,
                                wf_error *err) {
  wf_task *t = find_token(e, token);
  if (!t) return no_task(err, token);
  int rc = wf__task_complete(t, false, NULL, error, cause);
  wf__task_release(t);
  return rc == WF_OK ? WF_OK : no_task(err, token);
}

int wf_engine_send_task_heartbeat(wf_engine *e, const char *token,
                                  wf_error *err) {
  wf_task *t = find_token(e, token);
  if (!t) return no_task(err, token);
  int rc = wf_task_heartbeat(t);
  wf__task_release(t);
  return rc == WF_OK ? WF_OK : no_task(err, token);
}

/* ---- jansson-level access (workflow/json.h) ---- */

const json_t *wf_task_input_value(const wf_task *t) { return t->input; }

int wf_task_succeed_value(wf_task *t, json_t *output) {
  if (!output) return WF_EINVAL;
  return wf__task_complete(t, true, output, NULL, NULL);
}
