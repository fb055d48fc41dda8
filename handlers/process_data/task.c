/* Handling one ProcessData task: check the input, process the records,
 * draw the simulated outcome, then complete the task after the simulated
 * processing time on the engine's clock (a timer, not a sleep, so the
 * scheduler thread calling us is never held up, and a virtual clock makes
 * the wait instant).
 *
 * Every task logs ProcessDataStarted, then exactly one of
 * ProcessDataRejected (bad input), ProcessDataFailed (the task fails after
 * processing) or ProcessDataCompleted (a result, whatever its status). */
#include "task.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_names.h"
#include "input.h"
#include "process.h"
#include "result.h"
#include "simulate.h"
#include "utf8.h"

/* `fields` is stolen. */
static void log_event(const pd_context *ctx, wf_task *t, wf_log_level level,
                      const char *event, json_t *fields) {
  char *text = fields ? json_dumps(fields, JSON_COMPACT) : NULL;
  ctx->api->log(t, level, event, text);
  free(text);
  json_decref(fields);
}

static void reject(const pd_context *ctx, wf_task *t, const pd_problem *why) {
  log_event(ctx, t, WF_LOG_WARN, "ProcessDataRejected",
            json_pack("{s:s, s:s}", "error", why->error, "cause", why->cause));
  ctx->api->task_fail(t, why->error, why->cause);
}

static void fail_after(const pd_context *ctx, wf_task *t, int64_t delay_ms,
                       const char *error, const char *cause,
                       const pd_report *r) {
  log_event(ctx, t, WF_LOG_WARN, "ProcessDataFailed",
            json_pack("{s:s, s:s, s:I, s:I, s:I}", "error", error, "cause",
                      cause, "recordsProcessed", (json_int_t)r->processed,
                      "recordsInvalid", (json_int_t)r->invalid, "durationMs",
                      (json_int_t)delay_ms));
  if (ctx->api->task_fail_after(t, delay_ms, error, cause) != WF_OK)
    ctx->api->task_fail(t, error, cause);
}

static const char *kind_name(pd_failure_kind k) {
  return k == PD_FAIL_ERROR ? "error" : k == PD_FAIL_RESULT ? "result"
                                                            : "timeout";
}

/* How long until the task completes: the table's time, or for a simulated
 * timeout just past the task's deadline, so the engine's States.Timeout
 * wins the race. */
static int64_t completion_delay(const pd_context *ctx, wf_task *t,
                                const pd_outcome *oc, int64_t started_ms,
                                int64_t duration_ms) {
  if (!oc->failure || oc->failure->kind != PD_FAIL_TIMEOUT) return duration_ms;
  int64_t deadline = ctx->api->task_deadline(t);
  int64_t past = deadline - started_ms + ctx->cfg.sim.overshoot_ms;
  return past > duration_ms ? past : duration_ms;
}

static void complete(const pd_context *ctx, wf_task *t, const pd_report *r,
                     const pd_outcome *oc, pd_result_meta *m) {
  /* Room for the counts and index around one record's problem. */
  char cause[PD_PROBLEM_MAX + 128];
  if (oc->failure && oc->failure->kind == PD_FAIL_ERROR) {
    snprintf(cause, sizeof cause, "simulated failure on attempt %u "
             "(simulation.successRate %g)", m->attempt,
             ctx->cfg.sim.success_rate);
    fail_after(ctx, t, m->duration_ms, oc->failure->error, cause, r);
    return;
  }
  if (ctx->cfg.fail_on_invalid && r->invalid) {
    int n = snprintf(cause, sizeof cause, "%zu of %zu records failed "
                     "validation", r->invalid, r->processed);
    if (r->nerrors && n > 0 && (size_t)n < sizeof cause)
      snprintf(cause + n, sizeof cause - (size_t)n, "; record %zu: %s",
               r->errors[0].index, r->errors[0].message);
    pd_utf8_scrub(cause);
    fail_after(ctx, t, m->duration_ms, PD_ERR_VALIDATION, cause, r);
    return;
  }
  m->status = pd_result_status(r);
  if (oc->failure && oc->failure->kind == PD_FAIL_RESULT) {
    m->status = PD_STATUS_FAILED;
    m->error = oc->failure->error;
    snprintf(cause, sizeof cause, "simulated processing failure on attempt "
             "%u (simulation.successRate %g)", m->attempt,
             ctx->cfg.sim.success_rate);
    m->cause = cause;
  } else if (r->valid == 0) {
    m->error = PD_ERR_VALIDATION;
    snprintf(cause, sizeof cause, "every record failed validation (%zu of "
             "%zu)", r->invalid, r->processed);
    m->cause = cause;
  }
  m->duration_ms = completion_delay(ctx, t, oc, m->started_ms, m->duration_ms);
  char *out = pd_result_json(r, m);
  if (!out) {
    ctx->api->task_fail(t, PD_ERR_INTERNAL, "out of memory");
    return;
  }
  log_event(ctx, t, WF_LOG_INFO, "ProcessDataCompleted",
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "status",
                      m->status, "dataType", pd_type_get(r->type)->name,
                      "recordsProcessed", (json_int_t)r->processed,
                      "recordsValid", (json_int_t)r->valid, "recordsInvalid",
                      (json_int_t)r->invalid, "durationMs",
                      (json_int_t)m->duration_ms, "checksum", r->checksum));
  if (ctx->api->task_succeed_after(t, m->duration_ms, out) != WF_OK)
    ctx->api->task_fail(t, PD_ERR_INTERNAL, "the host refused the result");
  free(out);
}

void pd_task_handle(wf_task *t, void *payload) {
  const pd_context *ctx = payload;
  const wf_host_api *api = ctx->api;
  pd_result_meta m = {.started_ms = api->now_ms(t),
                      .attempt = api->task_attempt(t)};
  const char *text = api->task_input(t);
  log_event(ctx, t, WF_LOG_INFO, "ProcessDataStarted",
            json_pack("{s:I}", "inputBytes",
                      (json_int_t)(text ? strlen(text) : 0)));
  pd_input in;
  pd_problem why;
  if (pd_input_parse(&in, text, &ctx->cfg.limits, &why) != 0) {
    reject(ctx, t, &why);
    return;
  }
  pd_report r;
  if (pd_process(&r, &in, ctx->cfg.max_errors) != 0) {
    pd_input_free(&in);
    why.error = PD_ERR_INTERNAL;
    snprintf(why.cause, sizeof why.cause, "out of memory");
    reject(ctx, t, &why);
    return;
  }
  /* The input's own correlation id (the seed passes the execution name)
   * wins over the one the execution was started with. */
  m.correlation_id = in.correlation_id ? in.correlation_id
                                       : api->task_correlation_id(t);
  if (!m.correlation_id) m.correlation_id = api->task_execution_name(t);
  m.duration_ms = pd_config_duration(&ctx->cfg, in.type, r.processed);
  pd_outcome oc = pd_simulate(&ctx->cfg.sim, api->task_execution_name(t),
                              api->task_state_name(t), m.attempt, text);
  if (oc.failure)
    log_event(ctx, t, WF_LOG_WARN, "ProcessDataSimulated",
              json_pack("{s:s, s:s, s:f}", "error", oc.failure->error, "kind",
                        kind_name(oc.failure->kind), "draw", oc.draw));
  complete(ctx, t, &r, &oc, &m);
  pd_report_free(&r);
  pd_input_free(&in);
}
