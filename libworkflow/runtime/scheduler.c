/* The scheduler (scheduler.h): a run queue of jobs, the timer heap and the
 * threads that run them. Waits, back-offs and timeouts are timers, never
 * sleeping threads. With a virtual clock, time jumps to the next timer as
 * soon as nothing is runnable and no pool job is running.
 *
 * Timers are taken out under qlock and fired after it is released, since
 * firing takes the owner's locks, which may be held while taking qlock. */
#include <errno.h>
#include <time.h>

#include "alloc.h"
#include "clock_impl.h"
#include "error.h"
#include "scheduler.h"

static void fire_and_drop(wf__timer *t) {
  t->ops->fire(t->arg, t->gen);
  wf__timer_drop(t);
}

int wf__sched_add_timer(wf__sched *s, int64_t deadline,
                        const wf__timer_ops *ops, void *arg, uint64_t gen,
                        size_t *slot) {
  wf__timer old = {0};
  bool replaced = false;
  pthread_mutex_lock(&s->qlock);
  if (slot && *slot != WF__NO_TIMER) {
    old = wf__timer_heap_remove(&s->timers, *slot);
    replaced = true;
  }
  if (!wf__timer_heap_reserve(&s->timers)) {
    pthread_mutex_unlock(&s->qlock);
    if (replaced) wf__timer_drop(&old);
    return WF_ENOMEM;
  }
  wf__timer t = {.deadline = deadline, .ops = ops, .arg = arg, .gen = gen,
                 .slot = slot};
  wf__timer_heap_push(&s->timers, t);
  /* A new earliest deadline changes how long sleepers may sleep. */
  if (wf__timer_heap_top(&s->timers)->seq == s->timers.seq - 1)
    pthread_cond_signal(&s->qcond);
  pthread_mutex_unlock(&s->qlock);
  if (replaced) wf__timer_drop(&old);
  return WF_OK;
}

void wf__sched_cancel_timer(wf__sched *s, size_t *slot) {
  pthread_mutex_lock(&s->qlock);
  if (*slot == WF__NO_TIMER) {
    pthread_mutex_unlock(&s->qlock);
    return;
  }
  wf__timer t = wf__timer_heap_remove(&s->timers, *slot);
  pthread_mutex_unlock(&s->qlock);
  wf__timer_drop(&t);
}

void wf__sched_post(wf__sched *s, wf__job *job) {
  job->next = NULL;
  pthread_mutex_lock(&s->qlock);
  if (s->qtail)
    s->qtail->next = job;
  else
    s->qhead = job;
  s->qtail = job;
  /* Wake one idle thread; it wakes the next if more work is waiting, so a
   * burst of posts costs one wake-up, not one each. */
  if (s->idle && s->qhead == job) pthread_cond_signal(&s->qcond);
  pthread_mutex_unlock(&s->qlock);
}

static wf__job *dequeue_locked(wf__sched *s) {
  wf__job *j = s->qhead;
  if (j) {
    s->qhead = j->next;
    if (!s->qhead) s->qtail = NULL;
  }
  return j;
}

/* Work in progress outside qlock (running, firing) keeps virtual time
 * where it is; the last one out lets a sleeper move it on. */
static void busy_end_locked(wf__sched *s) {
  if (--s->active == 0 && s->virtual_time) {
    pthread_cond_broadcast(&s->qcond);
    if (s->nwaiters) pthread_cond_broadcast(&s->wcond);
  }
}

void wf__sched_busy_begin(wf__sched *s) {
  pthread_mutex_lock(&s->qlock);
  s->active++;
  pthread_mutex_unlock(&s->qlock);
}

void wf__sched_busy_end(wf__sched *s) {
  pthread_mutex_lock(&s->qlock);
  busy_end_locked(s);
  pthread_mutex_unlock(&s->qlock);
}

/* Fire every expired timer. Called and returns with qlock held. */
static void fire_expired_locked(wf__sched *s) {
  while (s->timers.n) {
    if (wf__timer_heap_top(&s->timers)->deadline > wf__sched_now(s)) return;
    wf__timer t = wf__timer_heap_remove(&s->timers, 0);
    s->active++;
    pthread_mutex_unlock(&s->qlock);
    fire_and_drop(&t);
    pthread_mutex_lock(&s->qlock);
    busy_end_locked(s);
  }
}

/* Take one queued job and run it. Called with qlock held; returns with it
 * held. Returns false when nothing was queued. */
static bool run_one_locked(wf__sched *s) {
  wf__job *j = dequeue_locked(s);
  if (!j) return false;
  if (s->qhead && s->idle) pthread_cond_signal(&s->qcond);
  s->active++;
  pthread_mutex_unlock(&s->qlock);
  j->run(j);
  pthread_mutex_lock(&s->qlock);
  busy_end_locked(s);
  return true;
}

static bool timer_stale(const wf__timer *t) {
  return t->ops->stale && t->ops->stale(t->arg);
}

/* Virtual time: when nothing can make progress, jump to the next live
 * timer, dropping stale ones on the way. */
static bool advance_virtual_locked(wf__sched *s) {
  if (!s->virtual_time || s->active || s->pool_busy || s->qhead ||
      !s->timers.n)
    return false;
  if (timer_stale(wf__timer_heap_top(&s->timers))) {
    wf__timer t = wf__timer_heap_remove(&s->timers, 0);
    pthread_mutex_unlock(&s->qlock);
    wf__timer_drop(&t);
    pthread_mutex_lock(&s->qlock);
    return true;
  }
  int64_t next = wf__timer_heap_top(&s->timers)->deadline;
  if (next > wf__sched_now(s)) wf__clock_advance_to(s->clock, next);
  return true;
}

/* Sleep on `cond` until signalled, the next timer (real clock) or
 * `deadline_mono`. */
static void idle_wait_locked(wf__sched *s, pthread_cond_t *cond,
                             int64_t deadline_mono) {
  int64_t until = deadline_mono;
  if (s->timers.n && !s->virtual_time) {
    int64_t delta = wf__timer_heap_top(&s->timers)->deadline - wf__sched_now(s);
    int64_t t = wf__monotonic_ms() + (delta > 0 ? delta : 0);
    if (until < 0 || t < until) until = t;
  }
  /* Waiters on wcond are counted by wf__sched_help itself. */
  bool idle = cond == &s->qcond;
  if (idle) s->idle++;
  if (until < 0) {
    pthread_cond_wait(cond, &s->qlock);
  } else {
    struct timespec ts = {.tv_sec = until / 1000,
                          .tv_nsec = (long)(until % 1000) * 1000000};
    pthread_cond_timedwait(cond, &s->qlock, &ts);
  }
  if (idle) s->idle--;
}

static void *sched_main(void *arg) {
  wf__sched *s = arg;
  pthread_mutex_lock(&s->qlock);
  while (!s->stopping) {
    fire_expired_locked(s);
    if (run_one_locked(s)) continue;
    if (advance_virtual_locked(s)) continue;
    /* Firing and running drop qlock: a stop requested meanwhile broadcast
     * to no one, so look again before sleeping. */
    if (s->stopping) break;
    idle_wait_locked(s, &s->qcond, -1);
  }
  pthread_mutex_unlock(&s->qlock);
  return NULL;
}

bool wf__sched_help(wf__sched *s, bool (*done)(void *), void *arg,
                    int64_t deadline_mono) {
  pthread_mutex_lock(&s->qlock);
  bool ok;
  for (;;) {
    if ((ok = done(arg))) break;
    if (deadline_mono >= 0 && wf__monotonic_ms() >= deadline_mono) break;
    fire_expired_locked(s);
    if (run_one_locked(s)) continue;
    if (advance_virtual_locked(s)) continue;
    /* Count this waiter, then look once more: the event's owner makes
     * done() true and then reads the count (both sequentially consistent,
     * in wf__sched_wake_waiters), so either it sees the waiter and
     * broadcasts under qlock, which is held up to the wait, or the check
     * below sees done(). */
    atomic_fetch_add(&s->nwaiters, 1);
    if (!(ok = done(arg))) idle_wait_locked(s, &s->wcond, deadline_mono);
    atomic_fetch_sub(&s->nwaiters, 1);
    if (ok) break;
  }
  pthread_mutex_unlock(&s->qlock);
  return ok;
}

void wf__sched_wake_waiters(wf__sched *s) {
  /* The lock is only needed when someone waits (see wf__sched_help). */
  if (!atomic_load(&s->nwaiters)) return;
  pthread_mutex_lock(&s->qlock);
  pthread_cond_broadcast(&s->wcond);
  pthread_mutex_unlock(&s->qlock);
}

static void clock_wake(void *arg) {
  wf__sched *s = arg;
  pthread_mutex_lock(&s->qlock);
  pthread_cond_broadcast(&s->qcond);
  pthread_cond_broadcast(&s->wcond);
  pthread_mutex_unlock(&s->qlock);
}

int wf__sched_init(wf__sched *s, wf_clock *clock) {
  s->clock = clock;
  s->virtual_time = wf__clock_is_virtual(clock);
  atomic_init(&s->nwaiters, 0);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->qcond, &ca);
  pthread_cond_init(&s->wcond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&s->qlock, NULL);
  pthread_mutex_init(&s->plock, NULL);
  pthread_cond_init(&s->pcond, NULL);
  return wf__clock_subscribe(clock, clock_wake, s);
}

int wf__sched_start(wf__sched *s, unsigned n) {
  s->threads = wf__calloc(n ? n : 1, sizeof(pthread_t));
  if (!s->threads) return WF_ENOMEM;
  for (unsigned i = 0; i < n; i++) {
    if (pthread_create(&s->threads[i], NULL, sched_main, s) != 0)
      return WF_EINTERNAL;
    s->nthreads = i + 1;
  }
  return WF_OK;
}

void wf__sched_stop(wf__sched *s) {
  pthread_mutex_lock(&s->qlock);
  s->stopping = true;
  pthread_cond_broadcast(&s->qcond);
  pthread_cond_broadcast(&s->wcond);
  pthread_mutex_unlock(&s->qlock);
  for (unsigned i = 0; i < s->nthreads; i++)
    pthread_join(s->threads[i], NULL);
  wf__free(s->threads);
  s->threads = NULL;
  s->nthreads = 0;
  wf__clock_unsubscribe(s->clock, s);
  /* Drop what is left: queued jobs and pending timers. */
  wf__job *j;
  while ((j = dequeue_locked(s))) j->drop(j);
  wf__timer_heap_clear(&s->timers);
  pthread_cond_destroy(&s->qcond);
  pthread_cond_destroy(&s->wcond);
  pthread_mutex_destroy(&s->qlock);
  pthread_cond_destroy(&s->pcond);
  pthread_mutex_destroy(&s->plock);
}
