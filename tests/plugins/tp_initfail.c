/* An init that fails with a message of its own, as a plugin does when its
 * configuration names a service it cannot reach. It registers nothing. */
#include "tp_control.h"

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  (void)p, (void)api, (void)config;
  return tp_fail(err, WF_EIO, "cannot reach the license server");
}

static void fini(wf_plugin *p) {
  (void)p;
  abort(); /* never for a plugin whose init failed */
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "tp-initfail", init, fini};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  (void)api;
  return &desc;
}
