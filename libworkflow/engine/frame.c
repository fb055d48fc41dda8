/* Frames: the explicit records the scheduler advances. An execution has a
 * top-level frame; Parallel branches and Map iterations get frames of
 * their own. A frame never recurses on the C stack: each state moves it
 * one step, and it parks when it has to wait. */
#include <stddef.h>

#include "alloc.h"
#include "step.h"

/* Transitions one frame may run before giving its thread back to the
 * scheduler, so a long loop cannot starve other executions. */
#define WF__STEP_BUDGET 4096

static void job_run(wf__job *job);
static void job_drop(wf__job *job);

wf__frame *wf__frame_new(wf_execution *x, wf__frame *parent,
                         const wf__scope *scope, json_t *input) {
  wf__frame *f = wf__calloc(1, sizeof *f);
  if (!f) return NULL;
  atomic_init(&f->refs, 1);
  f->exec = wf__exec_ref(x);
  f->parent = parent ? wf__frame_ref(parent) : NULL;
  f->scope = scope;
  f->state = scope->start;
  f->phase = WF__PH_ENTER;
  f->input = json_incref(input);
  f->map_index = -1;
  f->wake_slot = WF__NO_TIMER;
  f->id = x->next_frame_id++;
  f->job.run = job_run;
  f->job.drop = job_drop;
  if (parent && parent->id_counter) f->id_counter = parent->id_counter;
  return f;
}

wf__frame *wf__frame_ref(wf__frame *f) {
  atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
  return f;
}

static void drop_task(wf__frame *f) {
  if (f->task) {
    wf__task_release(f->task);
    f->task = NULL;
  }
}

void wf__frame_release(wf__frame *f) {
  if (!f || atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
    return;
  json_decref(f->input);
  json_decref(f->effective);
  json_decref(f->ctx);
  json_decref(f->output);
  json_decref(f->map_item);
  json_decref(f->vars);
  json_decref(f->pending_vars);
  atomic_fetch_sub(&f->exec->vars_bytes, f->vars_bytes);
  wf__free(f->attempts);
  wf__fanout_free(f->fan);
  wf__free(f->error);
  wf__free(f->cause);
  drop_task(f);
  wf__frame_release(f->parent);
  wf__exec_release(f->exec);
  wf__free(f);
}

void wf__frame_cancel(wf__frame *f) {
  if (!f || f->finished) return;
  f->finished = true;
  f->park = WF__PARK_DONE;
  f->wake_gen++;
  /* A pending wake-up would keep the frame (and its execution) alive. */
  wf__frame_ref(f);
  wf__sched_cancel_timer(&f->exec->engine->sched, &f->wake_slot);
  wf__frame_release(f);
  if (f->task) {
    wf__task_expire(f->task);
    drop_task(f);
  }
  wf__fanout_cancel(f);
}

/* Steps one frame; returns the transitions left of `budget`. */
static unsigned step(wf__frame *f, unsigned budget) {
  for (; budget; budget--) {
    if (f->finished || f->park != WF__PARK_NONE || f->exec->ended)
      return budget;
    const wf__state *st = f->scope->states[f->state];
    f->exec->dirty = true; /* something to commit at the drain's end */
    wf__step_begin();
    wf__step r = WF__STEP_END;
    switch (st->type) {
      case WF__PASS: r = wf__run_pass(f, st); break;
      case WF__TASK: r = wf__run_task(f, st); break;
      case WF__CHOICE: r = wf__run_choice(f, st); break;
      case WF__WAIT: r = wf__run_wait(f, st); break;
      case WF__SUCCEED: r = wf__run_succeed(f, st); break;
      case WF__FAIL: r = wf__run_fail(f, st); break;
      case WF__PARALLEL: r = wf__run_parallel(f, st); break;
      case WF__MAP: r = wf__run_map(f, st); break;
    }
    if (wf__step_short_of_memory() && !f->finished && !f->exec->ended)
      r = wf__frame_fail_memory(f);
    if (r != WF__STEP_NEXT) return budget - 1;
  }
  /* Out of budget: go to the back of the queue. */
  wf__frame_schedule(f);
  return 0;
}

void wf__exec_drain(wf_execution *x, wf__frame *f) {
  unsigned budget = WF__STEP_BUDGET;
  bool was = x->draining;
  x->draining = true;
  if (!f->finished && f->park == WF__PARK_NONE) budget = step(f, budget);
  while (x->ready_head && budget) {
    wf__frame *g = x->ready_head;
    x->ready_head = g->qnext;
    if (!x->ready_head) x->ready_tail = NULL;
    g->queued = false;
    budget = step(g, budget);
    wf__frame_release(g);
  }
  x->draining = was;
  if (was) return;
  /* Nothing of this execution runs on this thread now: the execution can
   * be committed (and, if its history filled up, stopped). */
  wf__exec_reap(x);
  if (x->dirty && !x->ended) wf__commit_request(x, WF__COMMIT_LATER, NULL);
  /* Out of budget: hand what is left to the run queue. */
  while (x->ready_head) {
    wf__frame *g = x->ready_head;
    x->ready_head = g->qnext;
    if (!x->ready_head) x->ready_tail = NULL;
    g->queued = false;
    wf__frame_schedule(g);
    wf__frame_release(g);
  }
}

/* ---- running on the scheduler ---- */

static wf__frame *frame_of(wf__job *job) {
  return (wf__frame *)((char *)job - offsetof(wf__frame, job));
}

static void job_run(wf__job *job) {
  wf__frame *f = frame_of(job);
  wf_execution *x = wf__exec_ref(f->exec);
  pthread_mutex_lock(&x->lock);
  f->queued = false;
  wf__exec_drain(x, f);
  pthread_mutex_unlock(&x->lock);
  wf__frame_release(f);
  wf__exec_release(x);
}

static void job_drop(wf__job *job) {
  wf__frame *f = frame_of(job);
  f->queued = false;
  wf__frame_release(f);
}

void wf__frame_schedule(wf__frame *f) {
  if (f->queued) return;
  f->queued = true;
  wf__frame_ref(f);
  f->qnext = NULL;
  wf_execution *x = f->exec;
  if (x->draining) {
    /* The thread stepping this execution runs it next, in order. */
    if (x->ready_tail)
      x->ready_tail->qnext = f;
    else
      x->ready_head = f;
    x->ready_tail = f;
    return;
  }
  wf__sched_post(&x->engine->sched, &f->job);
}

/* ---- waking up ---- */

static void wake_fire(void *arg, uint64_t gen) {
  wf__frame *f = arg;
  wf_execution *x = f->exec;
  pthread_mutex_lock(&x->lock);
  if (!f->finished && f->park == WF__PARK_TIMER && f->wake_gen == gen) {
    f->wake_at = 0;
    f->park = WF__PARK_NONE;
    wf__frame_schedule(f);
  }
  pthread_mutex_unlock(&x->lock);
}

static void wake_drop(void *arg) { wf__frame_release(arg); }

static const wf__timer_ops WAKE_OPS = {wake_fire, wake_drop, NULL};

void wf__frame_wake_at(wf__frame *f, int64_t deadline, wf__phase phase) {
  f->park = WF__PARK_TIMER;
  f->phase = phase;
  f->wake_at = deadline;
  uint64_t gen = ++f->wake_gen;
  wf__frame_ref(f);
  if (wf__sched_add_timer(&f->exec->engine->sched, deadline, &WAKE_OPS, f,
                          gen, &f->wake_slot) != WF_OK) {
    wf__frame_release(f);
    f->park = WF__PARK_NONE;
    wf__frame_schedule(f);
  }
}
