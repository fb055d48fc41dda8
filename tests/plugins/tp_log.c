/* A handler that logs through the host (TP_FN "TpLog", worker pool). Each
 * call writes four lines:
 *   INFO  "TpStep"  with fields {"step":"begin","detail":{"n":1}}
 *   WARN  (no event name) with text that is not JSON
 *   DEBUG "TpDebug" without fields
 *   ERROR "TpError" with fields that are JSON but not an object
 * Input members (optional): "barrier": n waits (up to 5 s) until n calls
 * have begun (needs a control block), so executions overlap; "failFirst":
 * true fails the first attempt with Tp.Retry; "spoof": true adds a line
 * whose fields try to override the host's correlationId and level.
 * Output: {"correlationId":..,"execution":..,"state":..,"attempt":n}. */
#include <stdlib.h>

#include "tp_control.h"

static const wf_host_api *host;
static tp_control *control; /* optional; set by init */

static void logged(wf_task *t, void *payload) {
  (void)payload;
  const char *input = host->task_input(t);
  TP_COUNT(control, entered);
  const char *b = strstr(input, "\"barrier\":");
  if (b && control) tp_control_wait(control, &control->entered,
                                    atoi(b + 10), 5000);
  host->log(t, WF_LOG_INFO, "TpStep",
            "{\"step\":\"begin\",\"detail\":{\"n\":1}}");
  host->log(t, WF_LOG_WARN, NULL, "plain text, not JSON");
  host->log(t, WF_LOG_DEBUG, "TpDebug", NULL);
  host->log(t, WF_LOG_ERROR, "TpError", "[1,2]");
  if (strstr(input, "\"spoof\":true"))
    host->log(t, WF_LOG_INFO, "TpSpoof",
              "{\"correlationId\":\"spoofed\",\"level\":\"DEBUG\"}");
  unsigned attempt = host->task_attempt(t);
  if (strstr(input, "\"failFirst\":true") && attempt == 0) {
    host->task_fail(t, "Tp.Retry", "first attempt");
  } else {
    const char *cid = host->task_correlation_id(t);
    char out[512];
    snprintf(out, sizeof out,
             "{\"correlationId\":\"%s\",\"execution\":\"%s\","
             "\"state\":\"%s\",\"attempt\":%u}",
             cid ? cid : "", host->task_execution_name(t),
             host->task_state_name(t), attempt);
    host->task_succeed(t, out);
  }
  TP_COUNT(control, returned);
}

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  control = tp_control_from(config);
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, logged, NULL, 0};
  return api->register_handler(p, TP_FN "TpLog", &ops, err);
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "tp-log", init, NULL};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  host = api;
  return &desc;
}
