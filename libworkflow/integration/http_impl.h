/* The HTTP Task's private interface: its configuration (connections, the
 * host allowlist), the request encodings, one libcurl exchange, the
 * response's shape and the OAuth token cache. */
#ifndef WF_HTTP_IMPL_H
#define WF_HTTP_IMPL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "strbuf.h"
#include "workflow/http.h"

/* One connection, copied from the options. */
typedef struct wf__http_conn {
  char *arn;
  wf_http_auth auth;
  char *api_key_name, *api_key_value_env;
  char *username, *password_env;
  char *token_endpoint, *client_id, *client_secret_env, *scope;
  /* The OAuth token and its expiry (monotonic ms), under token_lock. */
  pthread_mutex_t token_lock;
  char *token;
  int64_t token_expires_ms;
} wf__http_conn;

typedef struct wf__http_machine {
  char *machine;
  char **hosts; /* NULL-terminated */
} wf__http_machine;

/* A configuration: immutable once built but for the token caches; calls
 * hold a reference, so a replacement leaves calls in flight alone. */
typedef struct wf__http_config {
  atomic_int refs;
  char **allowed; /* NULL-terminated; NULL: any host */
  wf__http_machine *machines;
  size_t nmachines;
  wf__http_conn *conns;
  size_t nconns;
  long connect_ms, request_ms;
} wf__http_config;

/* What the engine keeps (an attachment): the served configuration and the
 * calls in flight. */
typedef struct wf__http {
  /* One wf_engine_set_http() at a time (taken before the registry's lock,
   * never under it). */
  pthread_mutex_t set_lock;
  pthread_mutex_t lock; /* guards cfg, calls, handler */
  pthread_cond_t idle;  /* calls reached 0 */
  wf__http_config *cfg;
  size_t calls;
  struct wf__handler *handler; /* ours, once registered */
  atomic_bool stopping;        /* the engine is going: abort transfers */
} wf__http;

/* http_task.c: the handler of arn:aws:states:::http:invoke; payload is
 * the engine's wf__http. */
void wf__http_invoke(wf_task *t, void *payload);

/* http_config.c */
wf__http_config *wf__http_config_ref(wf__http *h);
void wf__http_config_release(wf__http_config *c);
const wf__http_conn *wf__http_conn_find(const wf__http_config *c,
                                        const char *arn);
/* Whether `machine` may call host:port (host lowercased). */
bool wf__http_host_allowed(const wf__http_config *c, const char *machine,
                           const char *host, long port);
/* Whether url is an http or https URL whose host `machine` may call;
 * host receives its host name (lowercased) either way. */
typedef enum wf__http_url_check {
  WF__HTTP_URL_OK,
  WF__HTTP_URL_INVALID,
  WF__HTTP_URL_DENIED
} wf__http_url_check;
wf__http_url_check wf__http_check_url(const wf__http_config *c,
                                      const char *machine, const char *url,
                                      wf__strbuf *host);

/* http_encode.c: application/x-www-form-urlencoded text of an object's
 * members, arrays spelled as `array_format` says (INDICES, REPEAT, COMMAS,
 * BRACKETS), nested objects as key[member]. Appends to b. */
typedef enum wf__http_arrays {
  WF__HTTP_INDICES,
  WF__HTTP_REPEAT,
  WF__HTTP_COMMAS,
  WF__HTTP_BRACKETS
} wf__http_arrays;
void wf__http_form_encode(wf__strbuf *b, const json_t *obj,
                          wf__http_arrays arrays);
/* Percent-encode s (RFC 3986 unreserved characters kept). */
void wf__http_percent_encode(wf__strbuf *b, const char *s, size_t n);

/* http_transfer.c: one request and its answer. */
typedef struct wf__http_request {
  const char *url;
  const char *method;
  const char *body; /* NULL: none */
  size_t body_len;
  struct curl_slist *headers;
  const char *user, *password; /* basic authentication, or NULL */
  long connect_ms, timeout_ms;
  size_t max_body; /* a longer response body fails the exchange */
  /* Polled during the transfer: non-zero aborts it. */
  int (*abort)(void *payload);
  void *abort_payload;
} wf__http_request;

typedef enum wf__http_outcome {
  WF__HTTP_DONE,      /* an answer, any status */
  WF__HTTP_SOCKET,    /* no answer: refused, reset, name not found */
  WF__HTTP_TIMEOUT,   /* timeout_ms passed */
  WF__HTTP_TOO_LARGE, /* the body passed max_body */
  WF__HTTP_ABORTED,   /* abort() said so */
  WF__HTTP_NOMEM
} wf__http_outcome;

typedef struct wf__http_response {
  long status;
  wf__strbuf reason;  /* the status line's reason phrase */
  json_t *headers;    /* {"Name":["value",...]} in arrival order */
  size_t nvalues;     /* header values kept (bounded) */
  wf__strbuf content_type;
  wf__strbuf body;
  char error[256];    /* libcurl's words when not DONE */
} wf__http_response;

bool wf__http_global_init(void);
void wf__http_response_init(wf__http_response *r);
void wf__http_response_free(wf__http_response *r);
wf__http_outcome wf__http_exchange(const wf__http_request *req,
                                   wf__http_response *resp);

/* http_response.c */
/* Take one raw header line (as libcurl hands it, CRLF included) into r:
 * a status line starts a new response, a field line adds to its headers.
 * Anything malformed is skipped. */
void wf__http_header_line(wf__http_response *r, const char *line, size_t n);
/* The reason phrase of a status when the server gave none (HTTP/2). */
const char *wf__http_status_text(long status);
/* AWS's result object, {"Headers","ResponseBody","StatusCode","StatusText"};
 * NULL when the body is not text (cause says so) or out of memory. */
json_t *wf__http_result(const wf__http_response *r, const char **why);

/* http_oauth.c: the bearer token of an OAuth connection, from its cache
 * or fetched now. Returns a new string, or NULL with `cause` set (the
 * connection's error). */
char *wf__http_oauth_token(const wf__http_config *cfg,
                           wf__http_conn *conn, const char *machine,
                           const wf__http_request *base, wf__strbuf *cause);
/* Forget a token the API refused (401), so the next call fetches one. */
void wf__http_oauth_forget(wf__http_conn *conn, const char *token);

#endif /* WF_HTTP_IMPL_H */
