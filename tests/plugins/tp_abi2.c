/* Built for plugin ABI 2.0, which this host does not speak: it must be
 * refused before its init runs (init aborts the process if it does). */
#include <stdlib.h>

#include <workflow/handler.h>

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  (void)p, (void)api, (void)config, (void)err;
  abort();
}

static const wf_plugin_desc desc = {2, 0, "tp-abi2", init, NULL};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  (void)api;
  return &desc;
}
