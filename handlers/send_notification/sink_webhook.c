/* The webhook sink: an HTTP POST of the message as JSON to the channel's
 * gateway. 2xx means delivered; 5xx, 408, 429 and network failures are
 * transient; any other answer is the gateway refusing the message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transfer.h"

#define USER_AGENT "libworkflow-send-notification/" "1.0"

/* True when a configured header has the name of `ours` ("Name: ..."). */
static bool configured(const sn_webhook_config *w, const char *ours) {
  size_t n = (size_t)(strchr(ours, ':') - ours);
  for (size_t i = 0; i < w->nheaders; i++)
    if (strncasecmp(w->headers[i], ours, n) == 0 && w->headers[i][n] == ':')
      return true;
  return false;
}

static bool append(struct curl_slist **list, const char *h) {
  struct curl_slist *next = curl_slist_append(*list, h);
  if (next) *list = next;
  return next != NULL;
}

/* Request headers: ours unless the configuration sets the same name (two
 * equal names would both be sent), then the configured ones. */
static struct curl_slist *headers(const sn_webhook_config *w,
                                  const sn_message *m) {
  char id[96], cid[256];
  snprintf(id, sizeof id, "Idempotency-Key: %s", m->id);
  /* The correlation id comes from task input: no line breaks in a
   * header. */
  snprintf(cid, sizeof cid, "X-Correlation-Id: %s",
           m->request->correlation_id);
  for (char *p = cid; *p; p++)
    if (*p == '\r' || *p == '\n') *p = ' ';
  const char *ours[] = {"Content-Type: application/json", "Expect:", id, cid};
  struct curl_slist *list = NULL;
  bool ok = true;
  for (size_t i = 0; ok && i < sizeof ours / sizeof *ours; i++)
    if (!configured(w, ours[i])) ok = append(&list, ours[i]);
  for (size_t i = 0; ok && i < w->nheaders; i++)
    ok = append(&list, w->headers[i]);
  if (!ok) {
    curl_slist_free_all(list);
    return NULL;
  }
  return list;
}

static bool transient_status(long status) {
  return status >= 500 || status == 408 || status == 429;
}

static void classify(const sn_transfer *t, long status, sn_delivery *d) {
  d->status = status;
  if (status >= 200 && status < 300) {
    d->outcome = SN_DELIVERED;
    sn_fmt(d->detail, sizeof d->detail, "webhook: HTTP %ld", status);
    return;
  }
  d->outcome = transient_status(status) ? SN_FAILED : SN_REJECTED;
  sn_fmt(d->detail, sizeof d->detail, "webhook: HTTP %ld%s%.200s", status,
         t->response_len ? ": " : "", t->response);
}

void sn_webhook_deliver(const sn_call *call, const sn_message *m,
                        sn_delivery *d) {
  const sn_webhook_config *w = &call->config->webhook[m->target->channel];
  memset(d, 0, sizeof *d);
  json_t *obj = sn_message_json(m);
  char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  json_decref(obj);
  struct curl_slist *hdrs = body ? headers(w, m) : NULL;
  sn_transfer t;
  if (!hdrs) {
    d->outcome = SN_FAILED;
    sn_fmt(d->detail, sizeof d->detail, "webhook: out of memory");
  } else if (sn_transfer_open(&t, call, w->url, w->connect_timeout_ms,
                              w->timeout_ms, d)) {
    CURL *c = t.curl;
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
    long status;
    CURLcode rc = sn_transfer_perform(&t, &status);
    if (rc == CURLE_OK)
      classify(&t, status, d);
    else
      sn_transfer_failed(&t, rc, "webhook", d);
    sn_transfer_close(&t);
  }
  curl_slist_free_all(hdrs);
  free(body);
}
