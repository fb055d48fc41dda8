/* An entry point that returns no descriptor. */
#include <workflow/handler.h>

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  (void)api;
  return NULL;
}
