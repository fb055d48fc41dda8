/* One HTTP exchange with libcurl: the request as given, the answer's
 * status, headers and body kept (the body up to a bound), and what went
 * wrong told apart as the HTTP Task's errors need it (no answer, too
 * slow, too large, stopped). Redirects are not followed: a Location
 * elsewhere would get past the host allowlist. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http_impl.h"

/* curl_global_init() is process-wide and never undone while anything in
 * the process may use libcurl: once, under global_once. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT; /* written once, under once */

static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_ALL); }

bool wf__http_global_init(void) {
  pthread_once(&global_once, global_init);
  return global_rc == CURLE_OK;
}

void wf__http_response_init(wf__http_response *r) {
  memset(r, 0, sizeof *r); /* empty buffers, no headers */
}

void wf__http_response_free(wf__http_response *r) {
  wf__strbuf_free(&r->reason);
  wf__strbuf_free(&r->content_type);
  wf__strbuf_free(&r->body);
  json_decref(r->headers);
  r->headers = NULL;
}

typedef struct transfer {
  const wf__http_request *req;
  wf__http_response *resp;
  bool too_large, nomem, aborted;
} transfer;

static size_t on_body(char *data, size_t size, size_t n, void *payload) {
  transfer *t = payload;
  size_t len = size * n;
  if (t->resp->body.len + len > t->req->max_body) {
    t->too_large = true;
    return 0; /* ends the transfer with CURLE_WRITE_ERROR */
  }
  if (!wf__strbuf_reserve(&t->resp->body, len)) {
    t->nomem = true;
    return 0;
  }
  wf__strbuf_append(&t->resp->body, data, len);
  return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *payload) {
  transfer *t = payload;
  wf__http_header_line(t->resp, data, size * n);
  return size * n;
}

static int on_progress(void *payload, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow) {
  (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  transfer *t = payload;
  if (t->req->abort && t->req->abort(t->req->abort_payload)) {
    t->aborted = true;
    return 1;
  }
  return 0;
}

static void set_method(CURL *c, const wf__http_request *req) {
  if (strcmp(req->method, "HEAD") == 0) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    return;
  }
  if (req->body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)req->body_len);
  }
  if (strcmp(req->method, "GET") == 0 && !req->body)
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  else if (strcmp(req->method, "POST") != 0)
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
}

static wf__http_outcome outcome_of(CURLcode rc, const transfer *t) {
  if (rc == CURLE_OK) return WF__HTTP_DONE;
  if (t->nomem || rc == CURLE_OUT_OF_MEMORY) return WF__HTTP_NOMEM;
  if (t->too_large) return WF__HTTP_TOO_LARGE;
  if (t->aborted) return WF__HTTP_ABORTED;
  if (rc == CURLE_OPERATION_TIMEDOUT) return WF__HTTP_TIMEOUT;
  return WF__HTTP_SOCKET;
}

wf__http_outcome wf__http_exchange(const wf__http_request *req,
                                   wf__http_response *resp) {
  transfer t = {.req = req, .resp = resp};
  CURL *c = curl_easy_init();
  if (!c) {
    snprintf(resp->error, sizeof resp->error,
             "libcurl could not start a transfer");
    return WF__HTTP_NOMEM;
  }
  curl_easy_setopt(c, CURLOPT_URL, req->url);
  /* Worker threads must not take signals (libcurl, "Multi-threading"). */
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, resp->error);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, req->headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  if (req->user) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, req->user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, req->password ? req->password : "");
  }
  set_method(c, req);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
  curl_easy_cleanup(c);
  wf__http_outcome out = outcome_of(rc, &t);
  if (out != WF__HTTP_DONE && !resp->error[0])
    snprintf(resp->error, sizeof resp->error, "%s", curl_easy_strerror(rc));
  return out;
}
