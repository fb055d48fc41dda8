/* Admission: at most process.maxRunning executions started by POST
 * /process run at once. HTTP threads can accept work faster than the
 * engine finishes it; without a bound the running executions, which the
 * store must keep, would grow without end under overload. A request over
 * the bound waits (up to process.maxWaitMs) for running executions to
 * finish — backpressure the client sees as latency — and is refused with
 * 503 only after that.
 *
 * Started executions are tracked in a ring of execution handles, oldest
 * first. The library has no completion callback that costs nothing, so
 * each admission looks at a few of the oldest: finished ones leave the
 * ring, a running one moves to the young end so a long execution never
 * hides finished ones behind it. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core.h"

#define SCAN_MAX 16 /* ring entries examined per look */
#define POLL_US 1000

struct gw_admission {
  pthread_mutex_t lock;
  wf_execution **ring;
  size_t cap, head, count, max;
};

gw_admission *gw_admission_new(size_t max_running) {
  gw_admission *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->max = max_running;
  /* Room past the bound: threads admitted together may each add one. */
  a->cap = max_running + 256;
  if (!(a->ring = calloc(a->cap, sizeof *a->ring))) {
    free(a);
    return NULL;
  }
  pthread_mutex_init(&a->lock, NULL);
  return a;
}

void gw_admission_free(gw_admission *a) {
  if (!a) return;
  for (size_t i = 0; i < a->count; i++)
    wf_execution_free(a->ring[(a->head + i) % a->cap]);
  free(a->ring);
  pthread_mutex_destroy(&a->lock);
  free(a);
}

static bool running(const wf_execution *x) {
  return wf_execution_status(x) == WF_EXEC_RUNNING;
}

/* Drop finished executions from the old end; returns how many are
 * tracked. Called with the lock held; `gone` collects what to release
 * outside it. */
static size_t reap(gw_admission *a, wf_execution **gone, size_t *ngone) {
  for (int i = 0; i < SCAN_MAX && a->count; i++) {
    wf_execution *r = a->ring[a->head];
    a->head = (a->head + 1) % a->cap;
    a->count--;
    if (running(r)) /* to the young end */
      a->ring[(a->head + a->count++) % a->cap] = r;
    else
      gone[(*ngone)++] = r;
  }
  return a->count;
}

static size_t look(gw_admission *a) {
  wf_execution *gone[SCAN_MAX];
  size_t ngone = 0;
  pthread_mutex_lock(&a->lock);
  size_t n = reap(a, gone, &ngone);
  pthread_mutex_unlock(&a->lock);
  for (size_t i = 0; i < ngone; i++) wf_execution_free(gone[i]);
  return n;
}

bool gw_admission_enter(gw_admission *a, double max_wait_ms) {
  if (!a) return true;
  double deadline = gw_mono_ms() + max_wait_ms;
  while (look(a) >= a->max) {
    if (gw_mono_ms() >= deadline) return false;
    usleep(POLL_US);
  }
  return true;
}

void gw_admission_track(gw_admission *a, wf_execution *x) {
  if (!a) {
    wf_execution_free(x);
    return;
  }
  pthread_mutex_lock(&a->lock);
  bool room = a->count < a->cap;
  if (room) a->ring[(a->head + a->count++) % a->cap] = x;
  pthread_mutex_unlock(&a->lock);
  if (!room) wf_execution_free(x);
}
