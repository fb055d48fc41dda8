/* Map Run tests' handler that holds its tasks until the test completes
 * them, and an engine on a durable store stopped and started again as a
 * process would be. */
#ifndef WF_TEST_MAP_RUN_SUPPORT_H
#define WF_TEST_MAP_RUN_SUPPORT_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "engine_support.h"
#include "fanout_support.h"
#include "store_support.h"
#include "workflow/workflow.h"

/* Holds every task it is given until the test completes it. */
typedef struct holder {
  pthread_mutex_t mu;
  wf_task *tasks[16];
  int n;
  wfx_count held;
} holder;

static inline void hold(wf_task *t, void *payload) {
  holder *h = payload;
  wf_task_retain(t);
  pthread_mutex_lock(&h->mu);
  h->tasks[h->n++] = t;
  pthread_mutex_unlock(&h->mu);
  wfx_count_add(&h->held);
}

/* An engine on the store of `kind` ("sqlite", "postgres") in `dir`, its
 * WFX_FN "Hold" handler holding in h. */
static inline wf_engine *durable_engine(wf_store **store, const char *kind,
                                        const char *dir, holder *h) {
  *store = wst_open(kind, dir, NULL);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.store = *store;
  wf_engine *e = wft_engine(&o);
  wft_register(e, WFX_FN "Hold", hold, h, 0);
  return e;
}

/* The tasks h still holds, let go. */
static inline void holder_let_go(holder *h) {
  pthread_mutex_lock(&h->mu);
  for (int i = 0; i < h->n; i++)
    if (h->tasks[i]) wf_task_release(h->tasks[i]);
  memset(h->tasks, 0, sizeof h->tasks);
  pthread_mutex_unlock(&h->mu);
}

/* The engine and its store go, as a process would; its held tasks are
 * let go. */
static inline void durable_stop(wf_engine *e, wf_store *s, holder *h) {
  wf_engine_free(e);
  wf_store_free(s);
  holder_let_go(h);
}

#endif
