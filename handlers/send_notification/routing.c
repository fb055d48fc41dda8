/* From task input to delivery targets: which channel was asked for (or
 * inferred from the recipient's form), which priority, and where each
 * priority's route sends it (README.md, "Routing"). Every recipient that
 * will be used is validated before anything is sent, so that a bad input
 * never delivers half a notification. */
#include <stdio.h>
#include <string.h>

#include "send_notification.h"

/* An input string: a JSON string without NUL characters, which C code and
 * SMTP commands would cut short. */
static const char *text(json_t *v) {
  if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
    return NULL;
  return json_string_value(v);
}

typedef struct plan {
  const sn_config *config;
  json_t *notification;
  const char *given[SN_NCHANNELS]; /* notification.recipients */
  char *cause;
  size_t cause_size;
} plan;

/* notification.recipients: {"EMAIL": "...", "SMS": "...", "PUSH": "..."}. */
static const char *read_recipients(plan *pl) {
  json_t *obj = json_object_get(pl->notification, "recipients");
  if (!obj) return NULL;
  if (!json_is_object(obj)) {
    sn_fmt(pl->cause, pl->cause_size, "notification.recipients must be an "
           "object of channel to recipient");
    return SN_ERR_INVALID_INPUT;
  }
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    sn_channel ch;
    if (!sn_channel_parse(key, &ch)) {
      sn_fmt(pl->cause, pl->cause_size, "notification.recipients.%s: unknown "
             "channel; expected EMAIL, SMS or PUSH", key);
      return SN_ERR_INVALID_INPUT;
    }
    if (!(pl->given[ch] = text(v))) {
      sn_fmt(pl->cause, pl->cause_size, "notification.recipients.%s must be "
             "a string", key);
      return SN_ERR_INVALID_INPUT;
    }
  }
  return NULL;
}

/* The requested channel and its recipient. */
static const char *choose_primary(plan *pl, sn_request *req,
                                  const char **recipient) {
  json_t *type = json_object_get(pl->notification, "type");
  json_t *rcpt = json_object_get(pl->notification, "recipient");
  if (rcpt && !text(rcpt)) {
    sn_fmt(pl->cause, pl->cause_size, "notification.recipient must be a "
           "string");
    return SN_ERR_INVALID_INPUT;
  }
  *recipient = text(rcpt);
  if (type) {
    if (!sn_channel_parse(text(type), &req->primary)) {
      sn_fmt(pl->cause, pl->cause_size, "notification.type must be EMAIL, "
             "SMS or PUSH");
      return SN_ERR_INVALID_INPUT;
    }
    if (!*recipient) *recipient = pl->given[req->primary];
    if (*recipient) return NULL;
    sn_fmt(pl->cause, pl->cause_size, "no %s recipient: give "
           "notification.recipient or notification.recipients.%s",
           sn_channel_name(req->primary), sn_channel_name(req->primary));
    return SN_ERR_INVALID_INPUT;
  }
  /* No type: the recipient's form says which channel it belongs to. */
  if (*recipient) {
    if (sn_recipient_infer(pl->config->recipients, *recipient, &req->primary))
      return NULL;
    sn_fmt(pl->cause, pl->cause_size, "recipient \"%s\" fits no channel: it "
           "is not an email address, an E.164 phone number or a device token",
           *recipient);
    return SN_ERR_INVALID_RECIPIENT;
  }
  for (int i = 0; i < SN_NCHANNELS; i++) {
    if (pl->given[i]) {
      req->primary = (sn_channel)i;
      *recipient = pl->given[i];
      return NULL;
    }
  }
  sn_fmt(pl->cause, pl->cause_size, "the notification has no recipient "
         "(notification.recipient or notification.recipients)");
  return SN_ERR_INVALID_INPUT;
}

static const char *add_target(plan *pl, sn_request *req, sn_channel ch,
                              const char *recipient, sn_sink sink) {
  if (!sn_recipient_valid(pl->config->recipients, ch, recipient)) {
    sn_fmt(pl->cause, pl->cause_size, "%s recipient \"%s\" is not %s",
           sn_channel_name(ch), recipient, sn_recipient_form(ch));
    return SN_ERR_INVALID_RECIPIENT;
  }
  sn_target *t = &req->targets[req->ntargets++];
  t->channel = ch;
  t->recipient = recipient;
  t->sink = sink;
  return NULL;
}

static const char *read_options(plan *pl, sn_request *req, json_t *input,
                                const char *fallback_cid) {
  json_t *prio = json_object_get(pl->notification, "priority");
  req->priority = SN_NORMAL;
  if (prio && !sn_priority_parse(text(prio), &req->priority)) {
    sn_fmt(pl->cause, pl->cause_size, "notification.priority must be LOW, "
           "NORMAL or HIGH");
    return SN_ERR_INVALID_INPUT;
  }
  static const char *const strings[] = {"subject", "message"};
  const char **dest[] = {&req->subject, &req->message};
  for (int i = 0; i < 2; i++) {
    json_t *v = json_object_get(pl->notification, strings[i]);
    if (v && !(*dest[i] = text(v))) {
      sn_fmt(pl->cause, pl->cause_size, "notification.%s must be a string",
             strings[i]);
      return SN_ERR_INVALID_INPUT;
    }
  }
  json_t *cid = json_object_get(input, "correlationId");
  req->correlation_id = text(cid) && *text(cid) ? text(cid) : fallback_cid;
  req->processing_result = json_object_get(input, "processingResult");
  return NULL;
}

const char *sn_route_plan(const sn_config *c, json_t *input,
                          const char *fallback_correlation_id, sn_request *req,
                          char *cause, size_t cause_size) {
  memset(req, 0, sizeof *req);
  plan pl = {.config = c, .cause = cause, .cause_size = cause_size};
  pl.notification = json_object_get(input, "notification");
  if (!json_is_object(pl.notification)) {
    sn_fmt(cause, cause_size, "the input has no notification object");
    return SN_ERR_INVALID_INPUT;
  }
  const char *recipient = NULL;
  const char *e = read_recipients(&pl);
  if (!e) e = read_options(&pl, req, input, fallback_correlation_id);
  if (!e) e = choose_primary(&pl, req, &recipient);
  if (e) return e;
  sn_route route = c->route[req->priority];
  sn_sink sink = route == SN_ROUTE_OUTBOX ? SN_SINK_OUTBOX
                                          : c->sink[req->primary];
  if ((e = add_target(&pl, req, req->primary, recipient, sink))) return e;
  if (route != SN_ROUTE_FANOUT) return NULL;
  /* Fan-out: the requested channel first, then the others in a fixed order
   * so that results and outbox lines are reproducible. */
  for (int i = 0; i < SN_NCHANNELS; i++) {
    if (i == (int)req->primary || !pl.given[i]) continue;
    if ((e = add_target(&pl, req, (sn_channel)i, pl.given[i], c->sink[i])))
      return e;
  }
  return NULL;
}
