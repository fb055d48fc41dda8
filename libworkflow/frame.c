/* Frames: the explicit records the scheduler advances. An execution has a
 * top-level frame; Parallel branches and Map iterations get frames of
 * their own. A frame never recurses on the C stack: each state moves it
 * one step, and it parks when it has to wait. */
#include "alloc.h"
#include "step.h"

/* Transitions one frame may run before giving its thread back to the
 * scheduler, so a long loop cannot starve other executions. */
#define WF__STEP_BUDGET 4096

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
  wf__sched_cancel_timer(f->exec->engine, &f->wake_slot);
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
    if (f->finished || f->park != WF__PARK_NONE ||
        atomic_load(&f->exec->status) != WF_EXEC_RUNNING)
      return budget;
    const wf__state *st = f->scope->states[f->state];
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
    if (r != WF__STEP_NEXT) return budget - 1;
  }
  /* Out of budget: go to the back of the queue. */
  wf__sched_enqueue(f->exec->engine, f);
  return 0;
}

void wf__frame_step(wf__frame *f) { step(f, WF__STEP_BUDGET); }

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
  /* Out of budget: hand what is left to the run queue. */
  while (x->ready_head) {
    wf__frame *g = x->ready_head;
    x->ready_head = g->qnext;
    if (!x->ready_head) x->ready_tail = NULL;
    g->queued = false;
    wf__sched_enqueue(x->engine, g);
    wf__frame_release(g);
  }
}
