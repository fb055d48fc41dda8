/* Simulated work on the engine's clock (TP_FN "TpTimer", inline): the
 * handler completes its task later with task_succeed_after or
 * task_fail_after, so under a virtual clock the work takes no real time.
 * Input members (all optional):
 *   "delayMs": n        the delay (default 0);
 *   "fail": true        fail with Tp.Failed after the delay;
 *   "failFirst": true   fail the first attempt with Tp.Retry;
 *   "badOutput": true   succeed after the delay with text that is not JSON.
 * Success output: {"calledAt":<now_ms at the call>,"attempt":n,
 * "delayMs":n}. A completion call answering other than WF_OK fails the
 * task with error "Tp.Rc" and the code as the cause. */
#include <stdint.h>
#include <stdlib.h>

#include "tp_control.h"

static const wf_host_api *host;

static int has_true(const char *input, const char *key) {
  const char *k = strstr(input, key);
  return k && strncmp(k + strlen(key), ":true", 5) == 0;
}

static void timer(wf_task *t, void *payload) {
  (void)payload;
  const char *input = host->task_input(t);
  const char *d = strstr(input, "\"delayMs\":");
  long long delay = d ? strtoll(d + 10, NULL, 10) : 0;
  unsigned attempt = host->task_attempt(t);
  int rc;
  if (has_true(input, "\"fail\"")) {
    rc = host->task_fail_after(t, delay, "Tp.Failed", "failed after the delay");
  } else if (has_true(input, "\"failFirst\"") && attempt == 0) {
    rc = host->task_fail_after(t, delay, "Tp.Retry", "first attempt");
  } else if (has_true(input, "\"badOutput\"")) {
    rc = host->task_succeed_after(t, delay, "{not json");
  } else {
    char out[160];
    snprintf(out, sizeof out,
             "{\"calledAt\":%lld,\"attempt\":%u,\"delayMs\":%lld}",
             (long long)host->now_ms(t), attempt, delay);
    rc = host->task_succeed_after(t, delay, out);
  }
  if (rc != WF_OK) {
    char cause[32];
    snprintf(cause, sizeof cause, "%d", rc);
    host->task_fail(t, "Tp.Rc", cause);
  }
}

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  (void)config;
  if (!WF_HOST_HAS(api, task_fail_after) || !WF_HOST_HAS(api, now_ms))
    return tp_fail(err, WF_EABI, "the host has no delayed completion");
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, timer, NULL,
                        WF_HANDLER_INLINE};
  return api->register_handler(p, TP_FN "TpTimer", &ops, err);
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "tp-timer", init, NULL};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  host = api;
  return &desc;
}
