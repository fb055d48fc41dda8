/* A shared object without the wf_plugin_entry symbol: its author exported
 * the entry point under another name. */
#include <stdlib.h>

#include <workflow/handler.h>

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  (void)p, (void)api, (void)config, (void)err;
  abort();
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "tp-noentry", init, NULL};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_init(const wf_host_api *api);
WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_init(const wf_host_api *api) {
  (void)api;
  return &desc;
}
