/* Plugin internals shared by plugin.c, host_api.c and the engine. */
#ifndef WF_PLUGIN_IMPL_H
#define WF_PLUGIN_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "engine_impl.h"
#include "workflow/plugin.h"

typedef struct wf__staged {
  char *resource;
  wf_handler_ops ops;
} wf__staged;

struct wf_plugin {
  wf_engine *engine;
  void *dl;
  const wf_plugin_desc *desc;
  char *path;
  bool initializing;
  wf__staged *staged; /* registrations made by init */
  size_t nstaged;
  wf__handler **handlers; /* committed registrations */
  size_t nhandlers;
  atomic_int inflight; /* calls of its handlers running or about to */
  pthread_mutex_t mu;
  pthread_cond_t idle;
  wf_plugin *next;
};

/* The table every plugin receives. */
const wf_host_api *wf__host_api(void);
int wf__plugin_stage(wf_plugin *p, const char *resource,
                     const wf_handler_ops *ops, wf_error *err);
/* One call of a handler of p ended. */
void wf__plugin_call_done(wf_plugin *p);
void wf__plugins_unload_all(wf_engine *e);

#endif
