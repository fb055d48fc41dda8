/* The scheduler: a run queue of frames, a timer heap, and threads that step
 * frames. Waits, back-offs and timeouts are timers, never sleeping threads.
 * With a virtual clock, time jumps to the next timer as soon as nothing is
 * runnable and no handler is running.
 *
 * Lock order: an execution's lock may be held while taking qlock, never the
 * reverse; timers are therefore collected under qlock and fired after it is
 * released. */
#include <errno.h>
#include <time.h>

#include "alloc.h"
#include "clock_impl.h"
#include "engine_impl.h"

int64_t wf__engine_now(wf_engine *e) { return wf_clock_now(e->clock); }

static bool timer_less(const wf__timer *a, const wf__timer *b) {
  return a->deadline < b->deadline ||
         (a->deadline == b->deadline && a->seq < b->seq);
}

/* Heap entries tell their owner where they are (t->slot), so an owner can
 * take its timer out when it no longer matters. */
static void heap_put(wf__timer *h, size_t i, wf__timer t) {
  h[i] = t;
  if (t.slot) *t.slot = i;
}

static void heap_up(wf__timer *h, size_t i) {
  wf__timer t = h[i];
  while (i) {
    size_t p = (i - 1) / 2;
    if (!timer_less(&t, &h[p])) break;
    heap_put(h, i, h[p]);
    i = p;
  }
  heap_put(h, i, t);
}

static void heap_down(wf__timer *h, size_t n, size_t i) {
  wf__timer t = h[i];
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = l;
    if (l >= n) break;
    if (r < n && timer_less(&h[r], &h[l])) m = r;
    if (!timer_less(&h[m], &t)) break;
    heap_put(h, i, h[m]);
    i = m;
  }
  heap_put(h, i, t);
}

/* Take entry i out of the heap; its owner's slot is cleared. */
static wf__timer heap_remove(wf_engine *e, size_t i) {
  wf__timer t = e->timers[i];
  if (t.slot) *t.slot = WF__NO_TIMER;
  t.slot = NULL;
  if (i != --e->ntimers) {
    wf__timer last = e->timers[e->ntimers];
    heap_put(e->timers, i, last);
    if (i && timer_less(&last, &e->timers[(i - 1) / 2]))
      heap_up(e->timers, i);
    else
      heap_down(e->timers, e->ntimers, i);
  }
  return t;
}

static void timer_drop(wf__timer *t) {
  json_decref(t->output);
  wf__free(t->error);
  wf__free(t->cause);
  if (t->frame) wf__frame_release(t->frame);
  if (t->task) wf__task_release(t->task);
  if (t->exec) wf__exec_release(t->exec);
}

static void fire(wf_engine *e, wf__timer *t);

void wf__sched_add_timer(wf_engine *e, wf__timer t) {
  wf__timer old = {.kind = WF__TIMER_WAKE};
  bool replaced = false;
  pthread_mutex_lock(&e->qlock);
  if (t.slot && *t.slot != WF__NO_TIMER) {
    /* The owner's previous timer of this kind is superseded. */
    old = heap_remove(e, *t.slot);
    replaced = true;
  }
  if (e->ntimers == e->timers_cap) {
    size_t cap = e->timers_cap ? e->timers_cap * 2 : 64;
    wf__timer *h = wf__realloc(e->timers, cap * sizeof *h);
    if (!h) {
      /* Without memory the timer cannot be kept. A wake-up or a
       * completion fires at once (early beats never); a timeout is lost,
       * leaving the task to its handler. */
      pthread_mutex_unlock(&e->qlock);
      if (replaced) timer_drop(&old);
      if (t.kind == WF__TIMER_WAKE || t.kind == WF__TIMER_COMPLETE)
        fire(e, &t);
      else
        timer_drop(&t);
      return;
    }
    e->timers = h;
    e->timers_cap = cap;
  }
  t.seq = e->timer_seq++;
  heap_put(e->timers, e->ntimers, t);
  heap_up(e->timers, e->ntimers++);
  /* A new earliest deadline changes how long sleepers may sleep. */
  if (e->timers[0].seq == t.seq) pthread_cond_signal(&e->qcond);
  pthread_mutex_unlock(&e->qlock);
  if (replaced) timer_drop(&old);
}

void wf__sched_cancel_timer(wf_engine *e, size_t *slot) {
  pthread_mutex_lock(&e->qlock);
  if (*slot == WF__NO_TIMER) {
    pthread_mutex_unlock(&e->qlock);
    return;
  }
  wf__timer t = heap_remove(e, *slot);
  pthread_mutex_unlock(&e->qlock);
  timer_drop(&t);
}

void wf__sched_enqueue(wf_engine *e, wf__frame *f) {
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
  pthread_mutex_lock(&e->qlock);
  if (e->qtail)
    e->qtail->qnext = f;
  else
    e->qhead = f;
  e->qtail = f;
  /* Wake one idle thread; it wakes the next if more work is waiting, so a
   * burst of starts costs one wake-up, not one each. */
  if (e->idle && e->qhead == f) pthread_cond_signal(&e->qcond);
  pthread_mutex_unlock(&e->qlock);
}

static wf__frame *dequeue_locked(wf_engine *e) {
  wf__frame *f = e->qhead;
  if (f) {
    e->qhead = f->qnext;
    if (!e->qhead) e->qtail = NULL;
  }
  return f;
}

static wf__timer pop_timer_locked(wf_engine *e) { return heap_remove(e, 0); }

/* Work in progress outside qlock (stepping, firing) keeps virtual time
 * where it is; the last one out lets a sleeper move it on. */
static void busy_end_locked(wf_engine *e) {
  if (--e->active == 0 && e->virtual_time) {
    pthread_cond_broadcast(&e->qcond);
    if (e->nwaiters) pthread_cond_broadcast(&e->wcond);
  }
}

void wf__sched_busy_begin(wf_engine *e) {
  pthread_mutex_lock(&e->qlock);
  e->active++;
  pthread_mutex_unlock(&e->qlock);
}

void wf__sched_busy_end(wf_engine *e) {
  pthread_mutex_lock(&e->qlock);
  busy_end_locked(e);
  pthread_mutex_unlock(&e->qlock);
}

/* Fire every expired timer. Called and returns with qlock held. */
static void fire_expired_locked(wf_engine *e) {
  for (;;) {
    if (!e->ntimers) return;
    int64_t now = wf__engine_now(e);
    if (e->timers[0].deadline > now) return;
    wf__timer t = pop_timer_locked(e);
    e->active++;
    pthread_mutex_unlock(&e->qlock);
    fire(e, &t);
    pthread_mutex_lock(&e->qlock);
    busy_end_locked(e);
  }
}

static void run_frame(wf__frame *f) {
  wf_execution *x = wf__exec_ref(f->exec);
  pthread_mutex_lock(&x->lock);
  f->queued = false;
  wf__exec_drain(x, f);
  pthread_mutex_unlock(&x->lock);
  wf__frame_release(f);
  wf__exec_release(x);
}

/* Take one runnable frame and step it. Called with qlock held; returns with
 * it held. Returns false when nothing was runnable. */
static bool run_one_locked(wf_engine *e) {
  wf__frame *f = dequeue_locked(e);
  if (!f) return false;
  if (e->qhead && e->idle) pthread_cond_signal(&e->qcond);
  e->active++;
  pthread_mutex_unlock(&e->qlock);
  run_frame(f);
  pthread_mutex_lock(&e->qlock);
  busy_end_locked(e);
  return true;
}

/* A timer whose task or execution has already ended: firing it would do
 * nothing, and virtual time must not jump to it. Reads atomics only, as
 * qlock is held. */
static bool timer_stale(const wf__timer *t) {
  switch (t->kind) {
    case WF__TIMER_TASK:
    case WF__TIMER_HEARTBEAT:
    case WF__TIMER_COMPLETE: /* a late answer: it would be refused */
      return atomic_load(&t->task->settled);
    case WF__TIMER_EXECUTION:
      return atomic_load(&t->exec->status) != WF_EXEC_RUNNING;
    default: return false;
  }
}

/* Virtual time: when nothing can make progress, jump to the next live
 * timer, dropping stale ones on the way. */
static bool advance_virtual_locked(wf_engine *e) {
  if (!e->virtual_time || e->active || e->pool_busy || e->qhead ||
      !e->ntimers)
    return false;
  if (timer_stale(&e->timers[0])) {
    wf__timer t = pop_timer_locked(e);
    pthread_mutex_unlock(&e->qlock);
    timer_drop(&t);
    pthread_mutex_lock(&e->qlock);
    return true;
  }
  int64_t next = e->timers[0].deadline;
  if (next > wf__engine_now(e)) wf__clock_advance_to(e->clock, next);
  return true;
}

/* Sleep on `cond` until signalled, the next timer (real clock) or
 * `deadline_mono`. */
static void idle_wait_locked(wf_engine *e, pthread_cond_t *cond,
                             int64_t deadline_mono) {
  int64_t until = deadline_mono;
  if (e->ntimers && !e->virtual_time) {
    int64_t delta = e->timers[0].deadline - wf__engine_now(e);
    int64_t t = wf__monotonic_ms() + (delta > 0 ? delta : 0);
    if (until < 0 || t < until) until = t;
  }
  /* Waiters on wcond are counted by wf__sched_help itself. */
  bool idle = cond == &e->qcond;
  if (idle) e->idle++;
  if (until < 0) {
    pthread_cond_wait(cond, &e->qlock);
  } else {
    struct timespec ts = {.tv_sec = until / 1000,
                          .tv_nsec = (long)(until % 1000) * 1000000};
    pthread_cond_timedwait(cond, &e->qlock, &ts);
  }
  if (idle) e->idle--;
}

static void *sched_main(void *arg) {
  wf_engine *e = arg;
  pthread_mutex_lock(&e->qlock);
  while (!e->stopping) {
    fire_expired_locked(e);
    if (run_one_locked(e)) continue;
    if (advance_virtual_locked(e)) continue;
    /* Firing and running drop qlock: a stop requested meanwhile broadcast
     * to no one, so look again before sleeping. */
    if (e->stopping) break;
    idle_wait_locked(e, &e->qcond, -1);
  }
  pthread_mutex_unlock(&e->qlock);
  return NULL;
}

bool wf__sched_help(wf_engine *e, bool (*done)(void *), void *arg,
                    int64_t deadline_mono) {
  pthread_mutex_lock(&e->qlock);
  bool ok;
  for (;;) {
    if ((ok = done(arg))) break;
    if (deadline_mono >= 0 && wf__monotonic_ms() >= deadline_mono) break;
    fire_expired_locked(e);
    if (run_one_locked(e)) continue;
    if (advance_virtual_locked(e)) continue;
    /* Count this waiter, then look once more: wf__exec_finish sets the
     * status and then reads the count (both sequentially consistent), so
     * either it sees the waiter and broadcasts under qlock, which is held
     * up to the wait, or the check below sees the status. */
    atomic_fetch_add(&e->nwaiters, 1);
    if (!(ok = done(arg))) idle_wait_locked(e, &e->wcond, deadline_mono);
    atomic_fetch_sub(&e->nwaiters, 1);
    if (ok) break;
  }
  pthread_mutex_unlock(&e->qlock);
  return ok;
}

static void clock_wake(void *arg) {
  wf_engine *e = arg;
  pthread_mutex_lock(&e->qlock);
  pthread_cond_broadcast(&e->qcond);
  pthread_cond_broadcast(&e->wcond);
  pthread_mutex_unlock(&e->qlock);
}

int wf__sched_start(wf_engine *e) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&e->qcond, &ca);
  pthread_cond_init(&e->wcond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&e->qlock, NULL);
  if (wf__clock_subscribe(e->clock, clock_wake, e) != WF_OK) return WF_ENOMEM;
  e->sched = wf__calloc(e->nsched, sizeof(pthread_t));
  if (!e->sched) return WF_ENOMEM;
  for (unsigned i = 0; i < e->nsched; i++) {
    if (pthread_create(&e->sched[i], NULL, sched_main, e) != 0) {
      e->nsched = i;
      return WF_EINTERNAL;
    }
  }
  return WF_OK;
}

void wf__sched_stop(wf_engine *e) {
  pthread_mutex_lock(&e->qlock);
  e->stopping = true;
  pthread_cond_broadcast(&e->qcond);
  pthread_cond_broadcast(&e->wcond);
  pthread_mutex_unlock(&e->qlock);
  for (unsigned i = 0; i < e->nsched; i++) pthread_join(e->sched[i], NULL);
  wf__free(e->sched);
  e->sched = NULL;
  wf__clock_unsubscribe(e->clock, e);
  /* Drop what is left: queued frames and pending timers. */
  wf__frame *f;
  while ((f = dequeue_locked(e))) {
    f->queued = false;
    wf__frame_release(f);
  }
  for (size_t i = 0; i < e->ntimers; i++) timer_drop(&e->timers[i]);
  wf__free(e->timers);
  e->timers = NULL;
  e->ntimers = 0;
  pthread_cond_destroy(&e->qcond);
  pthread_cond_destroy(&e->wcond);
  pthread_mutex_destroy(&e->qlock);
}

/* ---- firing ---- */

static void fire_wake(wf_engine *e, wf__timer *t) {
  wf__frame *f = t->frame;
  wf_execution *x = f->exec;
  pthread_mutex_lock(&x->lock);
  if (!f->finished && f->park == WF__PARK_TIMER && f->wake_gen == t->gen) {
    f->park = WF__PARK_NONE;
    wf__sched_enqueue(e, f);
  }
  pthread_mutex_unlock(&x->lock);
}

static void fire_task_timeout(wf__timer *t, bool heartbeat) {
  wf_task *task = t->task;
  wf_execution *x = task->frame->exec;
  pthread_mutex_lock(&x->lock);
  bool live = task->status == WF__TASK_PENDING &&
              (!heartbeat || task->heartbeat_gen == t->gen);
  pthread_mutex_unlock(&x->lock);
  if (!live) return;
  atomic_store(&task->cancelled, 1);
  /* AWS records States.Timeout for both (TaskTimedOut); a Retry or Catch
   * on States.HeartbeatTimeout matches the heartbeat case only. */
  if (heartbeat) task->heartbeat_missed = true;
  wf__task_complete(task, false, NULL, "States.Timeout", NULL);
}

static void fire_execution_timeout(wf__timer *t) {
  wf_execution *x = t->exec;
  pthread_mutex_lock(&x->lock);
  if (atomic_load(&x->status) == WF_EXEC_RUNNING && x->timeout_gen == t->gen) {
    wf__frame_cancel(x->top);
    wf__history_add(x, NULL, WF__EV_EXECUTION_TIMED_OUT, NULL, NULL,
                    "States.Timeout", NULL);
    wf__exec_finish(x, WF_EXEC_TIMED_OUT, NULL, "States.Timeout", NULL);
  }
  pthread_mutex_unlock(&x->lock);
}

static void fire(wf_engine *e, wf__timer *t) {
  switch (t->kind) {
    case WF__TIMER_COMPLETE:
      wf__task_complete(t->task, t->ok, t->output, t->error, t->cause);
      t->output = NULL; /* handed over */
      break;
    case WF__TIMER_WAKE: fire_wake(e, t); break;
    case WF__TIMER_TASK: fire_task_timeout(t, false); break;
    case WF__TIMER_HEARTBEAT: fire_task_timeout(t, true); break;
    case WF__TIMER_EXECUTION: fire_execution_timeout(t); break;
  }
  timer_drop(t);
}
