/* libcurl plumbing for the network sinks: global initialisation, one easy
 * handle per delivery (handles are cheap next to a network round trip and
 * need no lock), deadlines, cancellation, and which failures are
 * transient. */
#include <pthread.h>
#include <string.h>

#include "transfer.h"

/* curl_global_init() is process-wide and not to be undone while anything
 * else in the process may use libcurl, so it runs once and is never
 * cleaned up; the plugin is linked with -z nodelete for the same reason
 * (README.md, "Threads and lifetime"). */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT; /* written once, under once */

static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_ALL); }

bool sn_transfer_global_init(void) {
  pthread_once(&global_once, global_init);
  return global_rc == CURLE_OK;
}

/* Abort the transfer once the engine no longer wants the result: the
 * execution was stopped or the task timed out. */
static int progress(void *payload, curl_off_t dltotal, curl_off_t dlnow,
                    curl_off_t ultotal, curl_off_t ulnow) {
  const sn_call *call = payload;
  return call->host->task_cancelled(call->task) ? 1 : 0;
}

/* Keep the start of the response body for the cause of a failure, as
 * printable ASCII: it goes into JSON and logs whatever the server sent. */
static size_t keep_response(char *data, size_t size, size_t n, void *payload) {
  sn_transfer *t = payload;
  size_t len = size * n;
  size_t room = sizeof t->response - 1 - t->response_len;
  size_t take = len < room ? len : room;
  for (size_t i = 0; i < take; i++) {
    unsigned char c = (unsigned char)data[i];
    t->response[t->response_len + i] = c >= 0x20 && c < 0x7f ? (char)c : '.';
  }
  t->response_len += take;
  t->response[t->response_len] = '\0';
  return len;
}

/* Never wait past the task's deadline: its result would be ignored. */
static long clamp_to_deadline(const sn_call *call, long total_ms) {
  int64_t deadline = call->host->task_deadline(call->task);
  int64_t now = call->host->now_ms(call->task);
  if (deadline > now && deadline - now < total_ms)
    return (long)(deadline - now);
  return total_ms;
}

bool sn_transfer_open(sn_transfer *t, const sn_call *call, const char *url,
                      long connect_ms, long total_ms, sn_delivery *d) {
  memset(t, 0, sizeof *t);
  t->call = call;
  t->timeout_ms = clamp_to_deadline(call, total_ms);
  t->connect_ms = connect_ms < t->timeout_ms ? connect_ms : t->timeout_ms;
  if (!sn_transfer_global_init() || !(t->curl = curl_easy_init())) {
    d->outcome = SN_FAILED;
    sn_fmt(d->detail, sizeof d->detail, "libcurl could not be initialised");
    return false;
  }
  CURL *c = t->curl;
  curl_easy_setopt(c, CURLOPT_URL, url);
  /* Worker threads must not take signals (libcurl, "Multi-threading"). */
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  /* For SMTP the connect phase includes the greeting, EHLO, STARTTLS and
   * AUTH, not just the TCP handshake. */
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, t->connect_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t->timeout_ms);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)call);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_response);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  /* Only the configured protocols, and no redirects to anywhere else. */
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps,http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  return true;
}

CURLcode sn_transfer_perform(sn_transfer *t, long *status) {
  CURLcode rc = curl_easy_perform(t->curl);
  *status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, status);
  return rc;
}

/* Failures that another attempt cannot mend: the peer refused who we are,
 * or the secure channel the configuration demands cannot be had. */
static bool permanent(CURLcode rc) {
  switch (rc) {
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return true;
    default:
      return false;
  }
}

void sn_transfer_failed(const sn_transfer *t, CURLcode rc, const char *what,
                        sn_delivery *d) {
  d->outcome = permanent(rc) ? SN_REJECTED : SN_FAILED;
  const char *text = t->error[0] ? t->error : curl_easy_strerror(rc);
  if (rc == CURLE_OPERATION_TIMEDOUT)
    sn_fmt(d->detail, sizeof d->detail, "%s: timed out (limits: connect "
           "%ld ms, total %ld ms): %s", what, t->connect_ms, t->timeout_ms,
           text);
  else if (rc == CURLE_ABORTED_BY_CALLBACK)
    sn_fmt(d->detail, sizeof d->detail, "%s: abandoned: the task was "
           "cancelled", what);
  else
    sn_fmt(d->detail, sizeof d->detail, "%s: %s", what, text);
}

void sn_transfer_close(sn_transfer *t) {
  if (t->curl) curl_easy_cleanup(t->curl);
  t->curl = NULL;
}
