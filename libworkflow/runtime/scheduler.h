/* The runtime: a run queue of jobs, a heap of timers, scheduler threads
 * that run both, and a worker pool for calls that may block. It is generic:
 * a job is a callback, a timer is a deadline with a callback and an
 * argument, and it knows nothing of executions, states or tasks (the engine
 * layer above gives them their meaning).
 *
 * With a virtual clock, time jumps to the next live timer as soon as no job
 * is queued or running and the pool is idle, so waits of hours run in
 * microseconds with the same timestamps.
 *
 * Lock order: a caller's own lock (an execution's) may be held while
 * calling into the runtime, which then takes its queue lock; the runtime
 * never calls back with its queue lock held. */
#ifndef WF_SCHEDULER_H
#define WF_SCHEDULER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timer_heap.h"
#include "workflow/clock.h"

/* A unit of work, embedded in its owner's record. */
typedef struct wf__job wf__job;
struct wf__job {
  /* Runs once, on a scheduler (or pool) thread, with no runtime lock held. */
  void (*run)(wf__job *job);
  /* The runtime stopped before running it: release what it holds. */
  void (*drop)(wf__job *job);
  wf__job *next; /* the runtime's, while queued */
};

typedef struct wf__sched {
  wf_clock *clock;
  bool virtual_time;

  /* Run queue and timers (qlock). */
  pthread_mutex_t qlock;
  pthread_cond_t qcond; /* scheduler threads wait here for work */
  pthread_cond_t wcond; /* wf__sched_help() callers wait here */
  unsigned idle;        /* scheduler threads waiting on qcond */
  atomic_uint nwaiters; /* callers waiting on wcond (changed under qlock,
                           read without it by wf__sched_wake_waiters) */
  wf__job *qhead, *qtail;
  wf__timer_heap timers;
  unsigned active;    /* threads running a job or firing a timer */
  unsigned pool_busy; /* pool jobs submitted and not yet finished */
  bool stopping;
  pthread_t *threads;
  unsigned nthreads;

  /* Worker pool (plock). */
  pthread_mutex_t plock;
  pthread_cond_t pcond;
  wf__job **jobs; /* a ring */
  size_t njobs, jobs_cap, jobs_head;
  bool pool_stop;
  pthread_t *pool;
  unsigned npool;
} wf__sched;

/* Set up locks and subscribe to the clock (borrowed; it must outlive the
 * scheduler). WF_OK or WF_ENOMEM. Call wf__sched_stop() even on failure. */
int wf__sched_init(wf__sched *s, wf_clock *clock);
/* Start n scheduler threads. WF_OK, WF_ENOMEM or WF_EINTERNAL. */
int wf__sched_start(wf__sched *s, unsigned n);
/* Start n pool threads. WF_OK, WF_ENOMEM or WF_EINTERNAL. */
int wf__pool_start(wf__sched *s, unsigned n);
/* Finish every job submitted to the pool, then join its threads. */
void wf__pool_stop(wf__sched *s);
/* Join the scheduler threads, drop the jobs and timers left and release
 * the locks. Call after wf__pool_stop(). */
void wf__sched_stop(wf__sched *s);

/* The clock's time, ms since the epoch. */
static inline int64_t wf__sched_now(wf__sched *s) {
  return wf_clock_now(s->clock);
}

/* Queue a job for a scheduler thread. Any thread. */
void wf__sched_post(wf__sched *s, wf__job *job);
/* Run a job on the pool (it may block). Counts as busy for virtual time
 * from now until it returns. Once the pool has stopped, the job is
 * dropped (job->drop) instead. */
void wf__pool_submit(wf__sched *s, wf__job *job);

/* Queue a timer for `deadline` (clock ms). A timer already in *slot is
 * taken out and dropped first: the owner's previous timer of this kind is
 * superseded. WF_OK, or WF_ENOMEM when the heap cannot grow: then nothing
 * was queued and `arg` is still the caller's. */
int wf__sched_add_timer(wf__sched *s, int64_t deadline,
                        const wf__timer_ops *ops, void *arg, uint64_t gen,
                        size_t *slot);
/* Take the timer in *slot out, if any, and drop it. Any thread, but not
 * with the queue lock held. */
void wf__sched_cancel_timer(wf__sched *s, size_t *slot);

/* Bracket work done outside the scheduler's threads (an inline run), so
 * virtual time does not move meanwhile. */
void wf__sched_busy_begin(wf__sched *s);
void wf__sched_busy_end(wf__sched *s);
/* Help: run ready jobs and due timers on the calling thread until
 * done(arg) is true or the deadline (monotonic ms, <0 none) passes. `done`
 * is called with the queue lock held. Returns done's last answer. */
bool wf__sched_help(wf__sched *s, bool (*done)(void *), void *arg,
                    int64_t deadline_mono);
/* Something a wf__sched_help() caller may be waiting for has happened
 * (call after making done() true; no lock needed). */
void wf__sched_wake_waiters(wf__sched *s);

#endif
