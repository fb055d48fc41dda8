/* One task attempt of SendNotification: read and route the input, maybe
 * simulate a failure, deliver each message through its sink, and answer
 * with the delivery confirmations (README.md, "Result"). Runs on a worker
 * thread of the engine: sinks block on the network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send_notification.h"

static void log_fields(const sn_call *call, wf_log_level level,
                       const char *event, json_t *fields) {
  char *text = fields ? json_dumps(fields, JSON_COMPACT) : NULL;
  call->host->log(call->task, level, event, text);
  free(text);
  json_decref(fields);
}

static void fail(const sn_call *call, const char *error, const char *cause,
                 const char *event) {
  log_fields(call, WF_LOG_WARN, event,
             json_pack("{s:s, s:s}", "error", error, "cause", cause));
  call->host->task_fail(call->task, error, cause);
}

static const char *const STATUS[] = {"DELIVERED", "FAILED", "REJECTED"};

static void deliver(const sn_call *call, const sn_message *m, sn_delivery *d) {
  switch (m->target->sink) {
    case SN_SINK_SMTP: sn_smtp_deliver(call, m, d); break;
    case SN_SINK_WEBHOOK: sn_webhook_deliver(call, m, d); break;
    default: sn_outbox_deliver(call, m, d); break;
  }
}

/* The confirmation of one message, as the result lists it. */
static json_t *confirmation(const sn_message *m, const sn_delivery *d) {
  json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "messageId", m->id,
                        "channel", sn_channel_name(m->target->channel),
                        "recipient", m->target->recipient, "status",
                        STATUS[d->outcome], "sink",
                        sn_sink_name(m->target->sink), "timestamp",
                        m->timestamp);
  if (c && d->status) json_object_set_new(c, "statusCode",
                                          json_integer(d->status));
  if (c && d->outcome != SN_DELIVERED) {
    json_object_set_new(c, "error", json_string(d->outcome == SN_FAILED
                                                    ? SN_ERR_DELIVERY_FAILED
                                                    : SN_ERR_REJECTED));
    json_object_set_new(c, "cause", json_string(d->detail));
  }
  return c;
}

static void log_delivery(const sn_call *call, const sn_message *m,
                         const sn_delivery *d) {
  json_t *f = json_pack("{s:s, s:s, s:s, s:s}", "messageId", m->id,
                        "channel", sn_channel_name(m->target->channel),
                        "sink", sn_sink_name(m->target->sink), "detail",
                        d->detail);
  log_fields(call, d->outcome == SN_DELIVERED ? WF_LOG_INFO : WF_LOG_WARN,
             d->outcome == SN_DELIVERED ? "NotificationDelivered"
                                        : "NotificationDeliveryFailed",
             f);
}

/* What the attempt came to, over all its messages. */
typedef struct tally {
  size_t delivered, failed, rejected;
  char cause[2048];
  size_t cause_len;
} tally;

static void note_failure(tally *t, const sn_message *m, const sn_delivery *d) {
  if (d->outcome == SN_FAILED) t->failed++;
  else t->rejected++;
  if (t->cause_len >= sizeof t->cause - 1) return;
  sn_fmt(t->cause + t->cause_len, sizeof t->cause - t->cause_len,
         "%s%s to %s via %s: %s", t->cause_len ? "; " : "",
         sn_channel_name(m->target->channel), m->target->recipient,
         sn_sink_name(m->target->sink), d->detail);
  t->cause_len += strlen(t->cause + t->cause_len);
}

/* Deliver every target in order; the confirmations go into messages. */
static void deliver_all(const sn_call *call, const sn_request *req,
                        json_t *messages, tally *t) {
  for (size_t i = 0; i < req->ntargets; i++) {
    sn_message m;
    sn_delivery d = {.outcome = SN_FAILED};
    if (call->host->task_cancelled(call->task)) {
      sn_fmt(d.detail, sizeof d.detail, "not sent: the task was cancelled");
      memset(&m, 0, sizeof m);
      m.target = &req->targets[i];
      note_failure(t, &m, &d);
      continue;
    }
    if (sn_message_init(&m, call, req, &req->targets[i]) != WF_OK) {
      sn_fmt(d.detail, sizeof d.detail, "out of memory");
      m.target = &req->targets[i];
      note_failure(t, &m, &d);
      continue;
    }
    deliver(call, &m, &d);
    log_delivery(call, &m, &d);
    json_array_append_new(messages, confirmation(&m, &d));
    if (d.outcome == SN_DELIVERED) t->delivered++;
    else note_failure(t, &m, &d);
    sn_message_fini(&m);
    /* Long fan-outs keep a HeartbeatSeconds timer from expiring. */
    call->host->task_heartbeat(call->task);
  }
}

static void answer(const sn_call *call, const sn_request *req,
                   json_t *messages, const tally *t) {
  bool all = t->failed + t->rejected == 0;
  if (t->delivered == 0 || (!all && call->config->require_all)) {
    /* Transient failures are named so that Retry can try again. */
    const char *error = t->failed ? SN_ERR_DELIVERY_FAILED : SN_ERR_REJECTED;
    char cause[2200];
    snprintf(cause, sizeof cause, "%zu of %zu messages not delivered: %s",
             t->failed + t->rejected, req->ntargets, t->cause);
    fail(call, error, cause, "NotificationFailed");
    return;
  }
  json_t *result = json_pack(
      "{s:b, s:s, s:s, s:s, s:s, s:O, s:I, s:I}", "delivered", 1, "status",
      all ? "DELIVERED" : "PARTIAL", "priority",
      sn_priority_name(req->priority), "channel",
      sn_channel_name(req->primary), "correlationId", req->correlation_id,
      "messages", messages, "deliveredCount", (json_int_t)t->delivered,
      "failedCount", (json_int_t)(t->failed + t->rejected));
  char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
  json_decref(result);
  if (text)
    call->host->task_succeed(call->task, text);
  else
    call->host->task_fail(call->task, SN_ERR_DELIVERY_FAILED,
                          "out of memory building the result");
  free(text);
}

void sn_handle(wf_task *task, void *payload) {
  const sn_instance *inst = payload;
  sn_call call = {inst->host, task, inst->config};
  const wf_host_api *host = inst->host;
  json_error_t jerr;
  json_t *input = json_loads(host->task_input(task), 0, &jerr);
  const char *cid = host->task_correlation_id(task);
  if (!cid || !*cid) cid = host->task_execution_name(task);
  sn_request req;
  char cause[1024];
  const char *error = NULL;
  if (!json_is_object(input)) {
    error = SN_ERR_INVALID_INPUT;
    sn_fmt(cause, sizeof cause, "the task input must be a JSON object");
  } else {
    error = sn_route_plan(inst->config, input, cid, &req, cause, sizeof cause);
  }
  if (error) {
    fail(&call, error, cause, "NotificationInvalid");
    json_decref(input);
    return;
  }
  unsigned int attempt = host->task_attempt(task);
  const char *simulated = sn_failsim_draw(&inst->config->failsim,
                                          host->task_execution_name(task),
                                          host->task_state_name(task),
                                          attempt);
  if (simulated) {
    sn_fmt(cause, sizeof cause, "simulated failure (rate %g, seed %llu, "
           "attempt %u)", inst->config->failsim.rate,
           (unsigned long long)inst->config->failsim.seed, attempt);
    fail(&call, simulated, cause, "NotificationSimulatedFailure");
    json_decref(input);
    return;
  }
  log_fields(&call, WF_LOG_DEBUG, "NotificationRouted",
             json_pack("{s:s, s:s, s:i}", "priority",
                       sn_priority_name(req.priority), "channel",
                       sn_channel_name(req.primary), "messages",
                       (int)req.ntargets));
  json_t *messages = json_array();
  tally t = {0};
  deliver_all(&call, &req, messages, &t);
  answer(&call, &req, messages, &t);
  json_decref(messages);
  json_decref(input);
}
