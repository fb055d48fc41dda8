/* Handling one ProcessData task. */
#ifndef PD_TASK_H
#define PD_TASK_H

#include "config.h"
#include "workflow/handler.h"

/* One load of the plugin: the host's table and the configuration it was
 * loaded with. Immutable while handlers run. */
typedef struct pd_context {
  const wf_host_api *api;
  pd_config cfg;
  wf_plugin *plugin;       /* the host's record, to find us in fini */
  struct pd_context *next; /* in plugin.c's registry */
} pd_context;

/* The wf_handler_fn: payload is the pd_context. Never blocks (completion
 * goes through the engine's timers), so it is registered inline. */
void pd_task_handle(wf_task *task, void *payload);

#endif
