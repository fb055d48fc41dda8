/* Registers TP_FN "TpDupOnly", then TP_FN "TpEcho", which tp_good already
 * serves when loaded first: the load is refused with WF_EEXIST and neither
 * registration stays. Its handler aborts if it is ever called; fini counts
 * in the control block (the host calls it, since init succeeded). */
#include "tp_control.h"

static tp_control *control;

static void never(wf_task *t, void *payload) {
  (void)t, (void)payload;
  abort();
}

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  control = tp_control_from(config);
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, never, NULL,
                        WF_HANDLER_INLINE};
  int rc = api->register_handler(p, TP_FN "TpDupOnly", &ops, err);
  if (rc == WF_OK) rc = api->register_handler(p, TP_FN "TpEcho", &ops, err);
  if (rc == WF_OK) TP_COUNT(control, inits);
  return rc;
}

static void fini(wf_plugin *p) {
  (void)p;
  tp_control_fini(control);
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "tp-dup", init, fini};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  (void)api;
  return &desc;
}
