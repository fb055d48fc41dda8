/* The engine's memory: the owner's reference plus one per execution, so
 * execution handles outlive wf_engine_free(); the memory goes with the
 * last reference. */
#include "alloc.h"
#include "engine_impl.h"

wf_engine *wf__engine_ref(wf_engine *e) {
  atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
  return e;
}

void wf__engine_release(wf_engine *e) {
  if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
    return;
  wf__log_close(e);
  pthread_mutex_destroy(&e->log_lock);
  pthread_mutex_destroy(&e->attach_lock);
  wf__handlers_free(e);
  wf__free(e->listeners);
  for (size_t i = 0; i < e->nsinks; i++)
    if (e->sinks[i].release) e->sinks[i].release(e->sinks[i].payload);
  wf__free(e->sinks);
  wf__strmap_clear(&e->tokens);
  json_decref(e->mock_config);
  if (e->own_store) wf_store_free(e->store);
  pthread_mutex_destroy(&e->xlock);
  pthread_cond_destroy(&e->resumed_cond);
  wf__free(e->region);
  wf__free(e->account);
  wf__free(e->role_arn);
  wf__free(e);
}
