/* Probes register_handler from init and from a handler, recording each
 * answer in the control block (required):
 *   rc[0] NULL resource; rc[1] empty resource; rc[2] no function;
 *   rc[3] an unknown wf_handler_ops version; rc[4] TP_FN "TpRegCheck";
 *   rc[5] the same resource again; rc[6] a registration from the handler,
 *   after init (TP_FN "TpLate"), also returned as {"late":rc}. */
#include "tp_control.h"

static const wf_host_api *host;
static tp_control *control;
static wf_plugin *self; /* kept to try a registration after init */

static void late(wf_task *t, void *payload) {
  (void)payload;
  wf_error err;
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, late, NULL, 0};
  int rc = host->register_handler(self, TP_FN "TpLate", &ops, &err);
  pthread_mutex_lock(&control->mu);
  control->rc[6] = rc;
  pthread_mutex_unlock(&control->mu);
  char out[32];
  snprintf(out, sizeof out, "{\"late\":%d}", rc);
  host->task_succeed(t, out);
}

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  if (!(control = tp_control_from(config)))
    return tp_fail(err, WF_EINVAL, "tp-regcheck needs a control block");
  self = p;
  wf_error e;
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, late, NULL, 0};
  wf_handler_ops nofn = {WF_HANDLER_OPS_VERSION, NULL, NULL, 0};
  wf_handler_ops badv = {99, late, NULL, 0};
  control->rc[0] = api->register_handler(p, NULL, &ops, &e);
  control->rc[1] = api->register_handler(p, "", &ops, &e);
  control->rc[2] = api->register_handler(p, TP_FN "TpNoFn", &nofn, &e);
  control->rc[3] = api->register_handler(p, TP_FN "TpBadVersion", &badv, &e);
  control->rc[4] = api->register_handler(p, TP_FN "TpRegCheck", &ops, err);
  control->rc[5] = api->register_handler(p, TP_FN "TpRegCheck", &ops, &e);
  return control->rc[4];
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "tp-regcheck", init, NULL};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  host = api;
  return &desc;
}
