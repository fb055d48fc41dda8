/* The worker pool: threads that run jobs which may block (a slow handler),
 * so they never hold up a scheduler thread. Jobs are counted busy from
 * submission to their end, so virtual time never jumps past one still
 * working. */
#include "alloc.h"
#include "error.h"
#include "scheduler.h"

static void job_done(wf__sched *s) {
  pthread_mutex_lock(&s->qlock);
  if (--s->pool_busy == 0 && s->virtual_time) {
    pthread_cond_broadcast(&s->qcond);
    if (s->nwaiters) pthread_cond_broadcast(&s->wcond);
  }
  pthread_mutex_unlock(&s->qlock);
}

static void *pool_main(void *arg) {
  wf__sched *s = arg;
  pthread_mutex_lock(&s->plock);
  for (;;) {
    while (!s->njobs && !s->pool_stop) pthread_cond_wait(&s->pcond, &s->plock);
    if (!s->njobs && s->pool_stop) break;
    wf__job *j = s->jobs[s->jobs_head];
    s->jobs_head = (s->jobs_head + 1) % s->jobs_cap;
    s->njobs--;
    pthread_mutex_unlock(&s->plock);
    j->run(j);
    job_done(s);
    pthread_mutex_lock(&s->plock);
  }
  pthread_mutex_unlock(&s->plock);
  return NULL;
}

/* Grow the ring (plock held): false when out of memory. */
static bool grow_locked(wf__sched *s) {
  size_t cap = s->jobs_cap ? s->jobs_cap * 2 : 64;
  wf__job **jobs = wf__malloc(cap * sizeof *jobs);
  if (!jobs) return false;
  for (size_t i = 0; i < s->njobs; i++)
    jobs[i] = s->jobs[(s->jobs_head + i) % s->jobs_cap];
  wf__free(s->jobs);
  s->jobs = jobs;
  s->jobs_cap = cap;
  s->jobs_head = 0;
  return true;
}

void wf__pool_submit(wf__sched *s, wf__job *job) {
  pthread_mutex_lock(&s->qlock);
  s->pool_busy++;
  pthread_mutex_unlock(&s->qlock);
  pthread_mutex_lock(&s->plock);
  if (s->pool_stop) {
    /* The pool has stopped (its engine is going): nothing more runs; the
     * job's owner is told (a durable store calls the task again on the
     * next resume). */
    pthread_mutex_unlock(&s->plock);
    job->drop(job);
    job_done(s);
    return;
  }
  if (s->njobs == s->jobs_cap && !grow_locked(s)) {
    pthread_mutex_unlock(&s->plock);
    /* No room to queue it: run it here rather than lose it. */
    job->run(job);
    job_done(s);
    return;
  }
  s->jobs[(s->jobs_head + s->njobs) % s->jobs_cap] = job;
  s->njobs++;
  pthread_cond_signal(&s->pcond);
  pthread_mutex_unlock(&s->plock);
}

int wf__pool_start(wf__sched *s, unsigned n) {
  s->pool = wf__calloc(n ? n : 1, sizeof(pthread_t));
  if (!s->pool) return WF_ENOMEM;
  for (unsigned i = 0; i < n; i++) {
    if (pthread_create(&s->pool[i], NULL, pool_main, s) != 0)
      return WF_EINTERNAL;
    s->npool = i + 1;
  }
  return WF_OK;
}

void wf__pool_stop(wf__sched *s) {
  pthread_mutex_lock(&s->plock);
  s->pool_stop = true;
  pthread_cond_broadcast(&s->pcond);
  pthread_mutex_unlock(&s->plock);
  for (unsigned i = 0; i < s->npool; i++) pthread_join(s->pool[i], NULL);
  wf__free(s->pool);
  s->pool = NULL;
  s->npool = 0;
  wf__free(s->jobs);
  s->jobs = NULL;
  s->jobs_cap = s->jobs_head = s->njobs = 0;
}
