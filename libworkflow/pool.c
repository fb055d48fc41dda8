/* The handler worker pool: threads that run blocking handlers, so a slow
 * handler never holds up a scheduler thread or another execution. */
#include "alloc.h"
#include "engine_impl.h"

static void *pool_main(void *arg) {
  wf_engine *e = arg;
  pthread_mutex_lock(&e->plock);
  for (;;) {
    while (!e->njobs && !e->pool_stop) pthread_cond_wait(&e->pcond, &e->plock);
    if (!e->njobs && e->pool_stop) break;
    wf_task *t = e->jobs[e->jobs_head];
    e->jobs_head = (e->jobs_head + 1) % e->jobs_cap;
    e->njobs--;
    pthread_mutex_unlock(&e->plock);
    wf__task_invoke(t, t->handler);
    wf__task_release(t);
    /* Counted from submission to here, so virtual time never jumps past
     * a handler that is still working. */
    pthread_mutex_lock(&e->qlock);
    if (--e->pool_busy == 0 && e->virtual_time) {
      pthread_cond_broadcast(&e->qcond);
      if (e->nwaiters) pthread_cond_broadcast(&e->wcond);
    }
    pthread_mutex_unlock(&e->qlock);
    pthread_mutex_lock(&e->plock);
  }
  pthread_mutex_unlock(&e->plock);
  return NULL;
}

void wf__pool_submit(wf_engine *e, wf_task *t) {
  pthread_mutex_lock(&e->qlock);
  e->pool_busy++;
  pthread_mutex_unlock(&e->qlock);
  pthread_mutex_lock(&e->plock);
  if (e->njobs == e->jobs_cap) {
    size_t cap = e->jobs_cap ? e->jobs_cap * 2 : 64;
    wf_task **jobs = wf__malloc(cap * sizeof *jobs);
    if (!jobs) {
      pthread_mutex_unlock(&e->plock);
      /* No room to queue it: run it here rather than lose it. */
      wf__task_invoke(t, t->handler);
      wf__task_release(t);
      pthread_mutex_lock(&e->qlock);
      e->pool_busy--;
      pthread_cond_broadcast(&e->qcond);
      pthread_mutex_unlock(&e->qlock);
      return;
    }
    for (size_t i = 0; i < e->njobs; i++)
      jobs[i] = e->jobs[(e->jobs_head + i) % e->jobs_cap];
    wf__free(e->jobs);
    e->jobs = jobs;
    e->jobs_cap = cap;
    e->jobs_head = 0;
  }
  e->jobs[(e->jobs_head + e->njobs) % e->jobs_cap] = t;
  e->njobs++;
  pthread_cond_signal(&e->pcond);
  pthread_mutex_unlock(&e->plock);
}

int wf__pool_start(wf_engine *e, unsigned n) {
  pthread_mutex_init(&e->plock, NULL);
  pthread_cond_init(&e->pcond, NULL);
  pthread_cond_init(&e->hdrain, NULL);
  e->pool = wf__calloc(n, sizeof(pthread_t));
  if (!e->pool) return WF_ENOMEM;
  for (unsigned i = 0; i < n; i++) {
    if (pthread_create(&e->pool[i], NULL, pool_main, e) != 0) return WF_EINTERNAL;
    e->npool = i + 1;
  }
  return WF_OK;
}

void wf__pool_stop(wf_engine *e) {
  pthread_mutex_lock(&e->plock);
  e->pool_stop = true;
  pthread_cond_broadcast(&e->pcond);
  pthread_mutex_unlock(&e->plock);
  for (unsigned i = 0; i < e->npool; i++) pthread_join(e->pool[i], NULL);
  wf__free(e->pool);
  wf__free(e->jobs);
  pthread_cond_destroy(&e->pcond);
  pthread_cond_destroy(&e->hdrain);
  pthread_mutex_destroy(&e->plock);
}
