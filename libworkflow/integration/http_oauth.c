/* OAuth client credentials for a connection (RFC 6749, 4.4): a token
 * fetched from the connection's token endpoint with its client id and
 * secret (HTTP Basic, 2.3.1), kept until shortly before it expires, as
 * EventBridge connections keep theirs. The secret and the token are never
 * written anywhere but the request. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "http_impl.h"
#include "json_text.h"

/* A token is renewed this long before its expiry. */
#define EXPIRY_MARGIN_MS 30000
/* When the endpoint does not say (expires_in is RECOMMENDED, 5.1). */
#define DEFAULT_LIFETIME_S 3600
#define MAX_TOKEN_RESPONSE 65536

/* Token lifetimes are the token server's real seconds, not the engine's
 * clock (which may be virtual): a monotonic clock measures them. */
static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *cached(wf__http_conn *conn) {
  char *token = NULL;
  pthread_mutex_lock(&conn->token_lock);
  if (conn->token && monotonic_ms() < conn->token_expires_ms)
    token = wf__strdup(conn->token);
  pthread_mutex_unlock(&conn->token_lock);
  return token;
}

static void keep(wf__http_conn *conn, const char *token, int64_t lifetime_s) {
  char *copy = wf__strdup(token);
  if (!copy) return;
  pthread_mutex_lock(&conn->token_lock);
  wf__free(conn->token);
  conn->token = copy;
  conn->token_expires_ms =
      monotonic_ms() + lifetime_s * 1000 - EXPIRY_MARGIN_MS;
  pthread_mutex_unlock(&conn->token_lock);
}

void wf__http_oauth_forget(wf__http_conn *conn, const char *token) {
  pthread_mutex_lock(&conn->token_lock);
  if (conn->token && token && strcmp(conn->token, token) == 0) {
    wf__free(conn->token);
    conn->token = NULL;
  }
  pthread_mutex_unlock(&conn->token_lock);
}

/* The token of a successful answer, or NULL with cause set. */
static char *read_token(const wf__http_response *r, int64_t *lifetime_s,
                        wf__strbuf *cause) {
  json_t *doc = NULL;
  if (r->status < 200 || r->status > 299) {
    wf__strbuf_printf(cause, "the token endpoint answered %ld", r->status);
    return NULL;
  }
  wf__json_parse(&doc, r->body.data ? r->body.data : "", r->body.len,
                 "token response", NULL);
  const char *token = json_string_value(json_object_get(doc, "access_token"));
  json_t *expires = json_object_get(doc, "expires_in");
  char *out = token && *token ? wf__strdup(token) : NULL;
  if (!out)
    wf__strbuf_puts(cause, "the token endpoint's answer has no access_token");
  *lifetime_s = json_is_integer(expires) && json_integer_value(expires) > 0
                    ? json_integer_value(expires)
                    : DEFAULT_LIFETIME_S;
  json_decref(doc);
  return out;
}

char *wf__http_oauth_token(const wf__http_config *cfg,
                           wf__http_conn *conn, const char *machine,
                           const wf__http_request *base, wf__strbuf *cause) {
  char *token = cached(conn);
  if (token) return token;
  /* The token endpoint is a host like any other: allowed or not. */
  wf__strbuf host = WF__STRBUF_INIT;
  wf__http_url_check check =
      wf__http_check_url(cfg, machine, conn->token_endpoint, &host);
  wf__strbuf_free(&host);
  if (check != WF__HTTP_URL_OK) {
    wf__strbuf_puts(cause, check == WF__HTTP_URL_DENIED
                               ? "its token endpoint's host is not in the "
                                 "HTTP allowlist"
                               : "its token endpoint is not an http or https "
                                 "URL");
    return NULL;
  }
  const char *secret = getenv(conn->client_secret_env);
  if (!secret) {
    wf__strbuf_printf(cause, "the environment variable %s is not set",
                      conn->client_secret_env);
    return NULL;
  }
  wf__strbuf body = WF__STRBUF_INIT;
  wf__strbuf_puts(&body, "grant_type=client_credentials");
  if (conn->scope) {
    wf__strbuf_puts(&body, "&scope=");
    wf__http_percent_encode(&body, conn->scope, strlen(conn->scope));
  }
  struct curl_slist *headers = curl_slist_append(
      NULL, "Content-Type: application/x-www-form-urlencoded");
  struct curl_slist *more =
      headers ? curl_slist_append(headers, "Accept: application/json") : NULL;
  wf__http_request req = *base;
  req.url = conn->token_endpoint;
  req.method = "POST";
  req.body = wf__strbuf_cstr(&body);
  req.body_len = body.len;
  req.headers = more;
  req.user = conn->client_id;
  req.password = secret;
  req.max_body = MAX_TOKEN_RESPONSE;
  wf__http_response resp;
  wf__http_response_init(&resp);
  wf__http_outcome out = body.oom || !more ? WF__HTTP_NOMEM
                                           : wf__http_exchange(&req, &resp);
  int64_t lifetime = 0;
  if (out == WF__HTTP_DONE) {
    token = read_token(&resp, &lifetime, cause);
    if (token) keep(conn, token, lifetime);
  } else {
    wf__strbuf_printf(cause, "its token endpoint could not be reached: %s",
                      resp.error[0] ? resp.error : "out of memory");
  }
  wf__http_response_free(&resp);
  curl_slist_free_all(headers);
  wf__strbuf_free(&body);
  return token;
}
