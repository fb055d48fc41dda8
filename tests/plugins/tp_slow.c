/* A slow handler on the worker pool (TP_FN "TpSlow"): it blocks until the
 * test releases it through the control block (required) or its task is
 * cancelled, then takes a further 30 ms before it completes and returns.
 * fini records how many calls were still running, so a test can prove
 * that unloading waited for every call to return. */
#include "tp_control.h"

static const wf_host_api *host;
static tp_control *control; /* set by init, under the host's load lock */

static void slow(wf_task *t, void *payload) {
  (void)payload;
  TP_COUNT(control, entered);
  pthread_mutex_lock(&control->mu);
  while (!control->released && !host->task_cancelled(t)) {
    struct timespec ts = wft_deadline(10);
    pthread_cond_timedwait(&control->cv, &control->mu, &ts);
  }
  int cancelled = !control->released;
  pthread_mutex_unlock(&control->mu);
  struct timespec pause = {0, 30 * 1000000L};
  nanosleep(&pause, NULL);
  if (cancelled) {
    host->task_fail(t, "Tp.Cancelled", NULL);
    TP_COUNT(control, cancelled_seen);
  } else {
    host->task_succeed(t, "{\"slow\":\"done\"}");
  }
  TP_COUNT(control, returned);
}

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  if (!(control = tp_control_from(config)))
    return tp_fail(err, WF_EINVAL, "tp-slow needs a control block");
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, slow, NULL, 0};
  int rc = api->register_handler(p, TP_FN "TpSlow", &ops, err);
  if (rc == WF_OK) TP_COUNT(control, inits);
  return rc;
}

static void fini(wf_plugin *p) {
  (void)p;
  tp_control_fini(control);
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "tp-slow", init, fini};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  host = api;
  return &desc;
}
