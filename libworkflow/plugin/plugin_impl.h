/* Plugin internals shared by plugin.c and host_api.c. The engine knows
 * nothing of plugins: their handlers are registered with an owner that
 * counts calls in flight, and the plugin host is attached to the engine,
 * which tears it down first when it is freed. */
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

/* The plugins of one engine and the directories it trusts (lock). */
typedef struct wf__plugin_host {
  pthread_mutex_t lock;
  wf_plugin *plugins;
  char **dirs;
  size_t ndirs;
} wf__plugin_host;

/* The table every plugin receives. */
const wf_host_api *wf__host_api(void);
int wf__plugin_stage(wf_plugin *p, const char *resource,
                     const wf_handler_ops *ops, wf_error *err);

#endif
