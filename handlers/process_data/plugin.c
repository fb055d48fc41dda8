/* The plugin's entry point, init and fini.
 *
 * dlopen() hands every engine that loads this file the same copy of its
 * statics, so nothing per-load lives in a static: each init allocates a
 * pd_context (configuration and host table) that its handlers receive as
 * payload. fini only gets the host's plugin record, so the contexts are
 * kept in a registry keyed by it, the one mutable static, guarded by
 * registry_lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "task.h"
#include "workflow/handler.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pd_context *registry; /* guarded by registry_lock */

static int host_error(wf_error *err, int code, const char *message) {
  if (err) {
    memset(err, 0, sizeof *err);
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", message);
  }
  return code;
}

/* Everything the handler calls is in ABI 1.0; a shorter table comes from
 * a host too old to complete tasks on its clock. */
static int check_host(const wf_host_api *api, wf_error *err) {
  if (!api || api->abi_major != WF_PLUGIN_ABI_MAJOR)
    return host_error(err, WF_EABI, "process-data needs plugin ABI 1.x");
  if (!WF_HOST_HAS(api, log))
    return host_error(err, WF_EABI, "the host's function table lacks "
                      "task_succeed_after, now_ms or log");
  return WF_OK;
}

static int pd_init(wf_plugin *p, const wf_host_api *api,
                   const char *config_json, wf_error *err) {
  int rc = check_host(api, err);
  if (rc) return rc;
  pd_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return host_error(err, WF_ENOMEM, "out of memory");
  if ((rc = pd_config_parse(&ctx->cfg, config_json, err)) != WF_OK) {
    free(ctx);
    return rc;
  }
  ctx->api = api;
  ctx->plugin = p;
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, pd_task_handle, ctx,
                        WF_HANDLER_INLINE};
  for (size_t k = 0; k < ctx->cfg.nresources; k++) {
    /* The host commits registrations only once init succeeds, so a
     * failure here leaves nothing that could call into ctx. */
    if ((rc = api->register_handler(p, ctx->cfg.resources[k], &ops, err))) {
      pd_config_free(&ctx->cfg);
      free(ctx);
      return rc;
    }
  }
  pthread_mutex_lock(&registry_lock);
  ctx->next = registry;
  registry = ctx;
  pthread_mutex_unlock(&registry_lock);
  return WF_OK;
}

static void pd_fini(wf_plugin *p) {
  pthread_mutex_lock(&registry_lock);
  pd_context **link = &registry, *found = NULL;
  for (; *link; link = &(*link)->next)
    if ((*link)->plugin == p) {
      found = *link;
      *link = found->next;
      break;
    }
  pthread_mutex_unlock(&registry_lock);
  if (!found) return;
  pd_config_free(&found->cfg);
  free(found);
}

static const wf_plugin_desc DESC = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "process-data", pd_init, pd_fini};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api);

/* The table is checked in init, which also receives it. */
const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  (void)api;
  return &DESC;
}
