/* The plugin's entry point, init and fini. Each init (the same .so may be
 * loaded into several engines, each with its own configuration) makes one
 * instance, the payload of the handlers it registers; fini finds it again
 * by its wf_plugin. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "send_notification.h"

/* The live instances (instances_lock): fini only gets the wf_plugin. */
static pthread_mutex_t instances_lock = PTHREAD_MUTEX_INITIALIZER;
static sn_instance *instances;

static void instance_free(sn_instance *inst) {
  if (!inst) return;
  sn_config_free(inst->config);
  free(inst);
}

static int fail_init(wf_error *err, int code, const char *message) {
  if (err) {
    memset(err, 0, sizeof *err);
    err->code = code;
    sn_fmt(err->message, sizeof err->message, "send_notification: %s",
           message);
  }
  return code;
}

static int sn_init(wf_plugin *p, const wf_host_api *api,
                   const char *config_json, wf_error *err) {
  /* Every host function used here is in the 1.0 table; refuse a host
   * whose table is shorter than that. */
  if (!api || !WF_HOST_HAS(api, log) || !api->log)
    return fail_init(err, WF_EABI, "the host's function table lacks log()");
  if (!sn_transfer_global_init())
    return fail_init(err, WF_EINTERNAL, "libcurl could not be initialised");
  sn_instance *inst = calloc(1, sizeof *inst);
  if (!inst) return fail_init(err, WF_ENOMEM, "out of memory");
  inst->host = api;
  inst->plugin = p;
  int rc = sn_config_load(&inst->config, config_json, err);
  /* Without WF_HANDLER_INLINE: the sinks block on files and sockets, so
   * the engine calls the handler on its worker pool. */
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, sn_handle, inst, 0};
  for (size_t i = 0; rc == WF_OK && i < inst->config->nresources; i++)
    rc = api->register_handler(p, inst->config->resources[i], &ops, err);
  if (rc != WF_OK) {
    /* The host drops the registrations of a failed init. */
    instance_free(inst);
    return rc;
  }
  pthread_mutex_lock(&instances_lock);
  inst->next = instances;
  instances = inst;
  pthread_mutex_unlock(&instances_lock);
  return WF_OK;
}

/* The host calls fini once no handler call of p runs any more. */
static void sn_fini(wf_plugin *p) {
  sn_instance *found = NULL;
  pthread_mutex_lock(&instances_lock);
  for (sn_instance **pp = &instances; *pp; pp = &(*pp)->next) {
    if ((*pp)->plugin == p) {
      found = *pp;
      *pp = found->next;
      break;
    }
  }
  pthread_mutex_unlock(&instances_lock);
  instance_free(found);
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "send-notification", sn_init, sn_fini};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api);

/* The host's table reaches init as well, which keeps it per instance: no
 * global is needed here. */
WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  (void)api;
  return &desc;
}
