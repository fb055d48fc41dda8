/* One message: its id, time stamp, subject and text, and the JSON form the
 * outbox records and webhooks receive. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "send_notification.h"

/* The id is a UUID (version 8: application-defined) taken from a SHA-256
 * of what makes the message this message: the execution, the state, the
 * task input, the channel and the recipient. A retried attempt therefore
 * sends the same id again, and a receiver can drop the duplicate: the
 * plugin delivers at least once, the id makes it effectively once. */
static void message_id(char *out, size_t size, const sn_call *call,
                       const sn_target *target) {
  const char *parts[] = {
      call->host->task_execution_arn(call->task),
      call->host->task_state_name(call->task),
      call->host->task_input(call->task),
      sn_channel_name(target->channel),
      target->recipient,
  };
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
  for (size_t i = 0; ok && i < sizeof parts / sizeof *parts; i++) {
    const char *p = parts[i] ? parts[i] : "";
    /* The terminating NUL separates the parts: ("ab","c") != ("a","bc"). */
    ok = EVP_DigestUpdate(ctx, p, strlen(p) + 1) == 1;
  }
  ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16;
  EVP_MD_CTX_free(ctx);
  if (!ok) memset(md, 0, 16);
  md[6] = (unsigned char)((md[6] & 0x0f) | 0x80); /* version 8 */
  md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC 9562 variant */
  snprintf(out, size,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8],
           md[9], md[10], md[11], md[12], md[13], md[14], md[15]);
}

static void utc(int64_t ms, struct tm *tm) {
  time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  gmtime_r(&secs, tm);
}

/* ISO-8601 in UTC with milliseconds, as Step Functions prints times. */
static void iso8601(int64_t ms, char *buf, size_t size) {
  struct tm tm;
  utc(ms, &tm);
  int frac = (int)(((ms % 1000) + 1000) % 1000);
  sn_fmt(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
         tm.tm_sec, frac);
}

/* RFC 5322, 3.3; day and month names are English whatever the locale. */
void sn_rfc5322_date(int64_t ms, char *buf, size_t size) {
  static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                  "Thu", "Fri", "Sat"};
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
                                     "May", "Jun", "Jul", "Aug",
                                     "Sep", "Oct", "Nov", "Dec"};
  struct tm tm;
  utc(ms, &tm);
  sn_fmt(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000",
         days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
         tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int sn_message_init(sn_message *m, const sn_call *call, const sn_request *req,
                    const sn_target *target) {
  memset(m, 0, sizeof *m);
  m->target = target;
  m->request = req;
  m->execution_name = call->host->task_execution_name(call->task);
  m->time_ms = call->host->now_ms(call->task);
  iso8601(m->time_ms, m->timestamp, sizeof m->timestamp);
  message_id(m->id, sizeof m->id, call, target);
  const sn_config *c = call->config;
  m->subject = req->subject ? strdup(req->subject)
                            : sn_template_render(c->subject_template, req,
                                                 target->channel,
                                                 m->execution_name);
  m->body = req->message ? strdup(req->message)
                         : sn_template_render(c->body_template, req,
                                              target->channel,
                                              m->execution_name);
  if (m->subject && m->body) return WF_OK;
  sn_message_fini(m);
  return WF_ENOMEM;
}

void sn_message_fini(sn_message *m) {
  free(m->subject);
  free(m->body);
  m->subject = m->body = NULL;
}

json_t *sn_message_json(const sn_message *m) {
  const sn_request *r = m->request;
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?}",
                   "messageId", m->id, "timestamp", m->timestamp, "channel",
                   sn_channel_name(m->target->channel), "recipient",
                   m->target->recipient, "priority",
                   sn_priority_name(r->priority), "subject", m->subject,
                   "message", m->body, "correlationId", r->correlation_id,
                   "executionName", m->execution_name);
}
