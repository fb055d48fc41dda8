/* An init that registers a handler (TP_FN "TpRegFail"), then fails: the
 * registration must not survive. Its handler aborts if it is ever called. */
#include "tp_control.h"

static void never(wf_task *t, void *payload) {
  (void)t, (void)payload;
  abort();
}

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  (void)config;
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, never, NULL,
                        WF_HANDLER_INLINE};
  int rc = api->register_handler(p, TP_FN "TpRegFail", &ops, err);
  if (rc != WF_OK) return rc;
  return tp_fail(err, WF_EINVAL, "setting 'mode' must be 'fast' or 'safe'");
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "tp-regfail", init, NULL};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  (void)api;
  return &desc;
}
