/* The host's function table as plugins see it (handler.h). Immutable: one
 * static table serves every engine, since each task knows its engine. */
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "plugin_impl.h"

static int register_handler(wf_plugin *p, const char *resource,
                            const wf_handler_ops *ops, wf_error *err) {
  return wf__plugin_stage(p, resource, ops, err);
}

/* Complete later through a timer on the engine's clock. */
static int complete_after(wf_task *t, int64_t delay_ms, bool ok,
                          const char *output_json, const char *error,
                          const char *cause) {
  if (delay_ms < 0) return WF_EINVAL;
  json_t *out = NULL;
  if (ok) {
    wf_error perr;
    if (!output_json ||
        wf__json_parse(&out, output_json, strlen(output_json), "task output",
                       &perr) != WF_OK)
      return WF_EPARSE;
  }
  return wf__task_complete_after(t, delay_ms, ok, out, error, cause);
}

static int succeed_after(wf_task *t, int64_t delay_ms, const char *output) {
  return complete_after(t, delay_ms, true, output, NULL, NULL);
}

static int fail_after(wf_task *t, int64_t delay_ms, const char *error,
                      const char *cause) {
  return complete_after(t, delay_ms, false, NULL, error, cause);
}

static int64_t now_ms(const wf_task *t) { return wf__task_now(t); }

static void log_line(const wf_task *t, wf_log_level level, const char *event,
                     const char *fields_json) {
  wf__log_task(t, level, event, fields_json);
}

void wf_task_log(wf_task *t, wf_log_level level, const char *event,
                 const char *fields_json) {
  if (t) wf__log_task(t, level, event, fields_json);
}

static const wf_host_api HOST = {
    .abi_major = WF_PLUGIN_ABI_MAJOR,
    .abi_minor = WF_PLUGIN_ABI_MINOR,
    .size = sizeof(wf_host_api),
    .register_handler = register_handler,
    .task_input = wf_task_input,
    .task_resource = wf_task_resource,
    .task_execution_name = wf_task_execution_name,
    .task_execution_arn = wf_task_execution_arn,
    .task_state_name = wf_task_state_name,
    .task_correlation_id = wf_task_correlation_id,
    .task_token = wf_task_token,
    .task_attempt = wf_task_attempt,
    .task_deadline = wf_task_deadline,
    .task_cancelled = wf_task_cancelled,
    .task_retain = wf_task_retain,
    .task_release = wf_task_release,
    .task_succeed = wf_task_succeed,
    .task_fail = wf_task_fail,
    .task_heartbeat = wf_task_heartbeat,
    .task_succeed_after = succeed_after,
    .task_fail_after = fail_after,
    .now_ms = now_ms,
    .log = log_line,
    .task_redelivered = wf_task_redelivered,
    .task_idempotency_key = wf_task_idempotency_key,
};

const wf_host_api *wf__host_api(void) { return &HOST; }
