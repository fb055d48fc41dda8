/* Who may look at the console: the API's keys, presented either in the
 * x-api-key header (scripts, curl) or once in a login form, which opens a
 * session. A session is a 256-bit token from getrandom() kept by the
 * browser in an HttpOnly, SameSite=Strict cookie scoped to /console; the
 * server keeps only the token's SHA-256, so the table does not hold
 * anything a reader of memory could replay, and looks tokens up in time
 * independent of how much of one matches. With no keys configured the
 * console is open, as the API is. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "console.h"

#define COOKIE "wf_console"
#define TOKEN_BYTES 32
#define MAX_SESSIONS 256
#define SESSION_LIFETIME_MS (12LL * 3600 * 1000)

typedef struct session {
  unsigned char digest[SHA256_DIGEST_LENGTH]; /* of the token */
  int64_t expires_ms;                         /* 0: free slot */
} session;

/* Sessions of this process, under `lock`; they end with it. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static session sessions[MAX_SESSIONS];

static void digest_of(const char *token, unsigned char out[SHA256_DIGEST_LENGTH]) {
  SHA256((const unsigned char *)token, strlen(token), out);
}

/* The session cookie's value when it has a token's form (64 lower-case
 * hex digits), copied into out. */
static bool cookie_token(const gw_request *req, char out[2 * TOKEN_BYTES + 1]) {
  const char *c = gw_request_header(req, "Cookie");
  size_t nl = strlen(COOKIE);
  for (const char *p = c; p && *p;) {
    while (*p == ' ' || *p == ';') p++;
    if (strncmp(p, COOKIE, nl) == 0 && p[nl] == '=') {
      const char *v = p + nl + 1;
      size_t n = strcspn(v, "; ");
      if (n != 2 * TOKEN_BYTES || strspn(v, "0123456789abcdef") < n)
        return false;
      memcpy(out, v, n);
      out[n] = '\0';
      return true;
    }
    p = strchr(p, ';');
  }
  return false;
}

static bool session_valid(const char *token) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  digest_of(token, d);
  int64_t now = gw_now_ms();
  bool found = false;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < MAX_SESSIONS; i++)
    if (sessions[i].expires_ms > now &&
        CRYPTO_memcmp(sessions[i].digest, d, sizeof d) == 0)
      found = true;
  pthread_mutex_unlock(&lock);
  return found;
}

cs_access cs_session_check(gateway *g, const gw_request *req) {
  const gw_api_key *who = NULL;
  gw_auth a = gw_auth_check(g->cfg, req, &who);
  if (a == GW_AUTH_OPEN) return CS_OPEN;
  if (a == GW_AUTH_OK) return CS_KEY;
  if (a == GW_AUTH_INVALID) return CS_BAD_KEY;
  char token[2 * TOKEN_BYTES + 1];
  return cookie_token(req, token) && session_valid(token) ? CS_SESSION
                                                          : CS_NONE;
}

/* A new session's token (hex) in out; false when no randomness. */
static bool session_open(char out[2 * TOKEN_BYTES + 1]) {
  unsigned char raw[TOKEN_BYTES];
  if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) return false;
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < TOKEN_BYTES; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[2 * TOKEN_BYTES] = '\0';
  int64_t now = gw_now_ms();
  pthread_mutex_lock(&lock);
  /* A free or expired slot, else the one nearest its end. */
  size_t pick = 0;
  for (size_t i = 0; i < MAX_SESSIONS; i++) {
    if (sessions[i].expires_ms <= now) {
      pick = i;
      break;
    }
    if (sessions[i].expires_ms < sessions[pick].expires_ms) pick = i;
  }
  digest_of(out, sessions[pick].digest);
  sessions[pick].expires_ms = now + SESSION_LIFETIME_MS;
  pthread_mutex_unlock(&lock);
  return true;
}

static void session_close(const char *token) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  digest_of(token, d);
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < MAX_SESSIONS; i++)
    if (CRYPTO_memcmp(sessions[i].digest, d, sizeof d) == 0)
      memset(&sessions[i], 0, sizeof sessions[i]);
  pthread_mutex_unlock(&lock);
}

/* Where a login may send the browser: a console path of plain
 * characters, else the console's first page (no open redirect). */
static const char *safe_next(const char *next) {
  static const char ok[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
      "/_.:%?=&-";
  if (!next || strncmp(next, "/console", 8) != 0 ||
      (next[8] && next[8] != '/' && next[8] != '?') ||
      strspn(next, ok) != strlen(next) || strstr(next, "//"))
    return "/console/";
  return next;
}

void cs_login_page(gw_response *resp, int status, const char *next,
                   const char *problem) {
  cs_buf b = {0};
  cs_page_open(&b, "Sign in", false);
  cs_put(&b, "<h1>Sign in</h1>\n");
  if (problem) {
    cs_put(&b, "<p class=\"problem\">");
    cs_html(&b, problem);
    cs_put(&b, "</p>\n");
  }
  cs_put(&b,
         "<form method=\"post\" action=\"/console/login\" class=\"login\">\n"
         "<label>API key <input type=\"password\" name=\"key\" "
         "autocomplete=\"current-password\" required autofocus></label>\n"
         "<input type=\"hidden\" name=\"next\" value=\"");
  cs_html(&b, safe_next(next));
  cs_put(&b, "\">\n<button type=\"submit\">Sign in</button>\n</form>\n"
             "<p class=\"hint\">One of the keys in the gateway's "
             "<code>auth.apiKeys</code>.</p>\n");
  cs_page_close(&b);
  cs_answer_html(resp, status, &b);
}

/* A form from another site must not sign anyone in or out: when the
 * browser says where the form came from, it must be this host. */
bool cs_same_origin(const gw_request *req) {
  const char *origin = gw_request_header(req, "Origin");
  const char *host = gw_request_header(req, "Host");
  if (!origin) return true;
  if (!host) return false;
  const char *rest = strncmp(origin, "http://", 7) == 0    ? origin + 7
                     : strncmp(origin, "https://", 8) == 0 ? origin + 8
                                                           : NULL;
  return rest && strcmp(rest, host) == 0;
}

void cs_session_login(gateway *g, const gw_request *req, gw_response *resp) {
  char key[512], next[512];
  if (!cs_form_get(req->body, req->body_len, "next", next, sizeof next))
    next[0] = '\0';
  if (!cs_same_origin(req)) {
    cs_answer_message(resp, 403, "Forbidden",
                      "the sign-in form was sent from another site", false);
    return;
  }
  if (!cs_form_get(req->body, req->body_len, "key", key, sizeof key) ||
      !key[0]) {
    cs_login_page(resp, 400, next, "Give an API key.");
    return;
  }
  /* The key is judged as the API judges its header (in constant time). */
  gw_header h = {"x-api-key", key};
  gw_request as_api = *req;
  as_api.headers = &h;
  as_api.nheaders = 1;
  const gw_api_key *who = NULL;
  gw_auth a = gw_auth_check(g->cfg, &as_api, &who);
  if (a == GW_AUTH_OPEN) {
    gw_respond_header(resp, "Location", safe_next(next));
    cs_answer_message(resp, 303, "Open", "this gateway has no API keys",
                      false);
    return;
  }
  if (a != GW_AUTH_OK) {
    cs_login_page(resp, 403, next, "That key is not valid.");
    return;
  }
  char token[2 * TOKEN_BYTES + 1], cookie[200];
  if (!session_open(token)) {
    cs_answer_message(resp, 503, "Try again",
                      "no randomness for a session token yet", false);
    return;
  }
  snprintf(cookie, sizeof cookie,
           COOKIE "=%s; Path=/console; HttpOnly; SameSite=Strict; "
                  "Max-Age=%lld",
           token, SESSION_LIFETIME_MS / 1000);
  gw_respond_header(resp, "Set-Cookie", cookie);
  gw_respond_header(resp, "Location", safe_next(next));
  cs_answer_message(resp, 303, "Signed in", "signed in", true);
}

void cs_session_logout(const gw_request *req, gw_response *resp) {
  char token[2 * TOKEN_BYTES + 1];
  if (!cs_same_origin(req)) {
    cs_answer_message(resp, 403, "Forbidden",
                      "the sign-out form was sent from another site", false);
    return;
  }
  if (cookie_token(req, token)) session_close(token);
  gw_respond_header(resp, "Set-Cookie",
                    COOKIE "=; Path=/console; HttpOnly; SameSite=Strict; "
                           "Max-Age=0");
  gw_respond_header(resp, "Location", "/console/login");
  cs_answer_message(resp, 303, "Signed out", "signed out", false);
}

/* ---- forms that change something: CSRF tokens ----------------------- */

/* The key of this process's form tokens, drawn once, under `lock`. */
static unsigned char csrf_key[32];
static bool csrf_key_drawn;

/* The token for the reader of req: HMAC-SHA256 of what they are signed in
 * with (their session token's digest, or nothing on an open console), in
 * hex; false when no randomness is to be had yet. */
static bool csrf_token(const cs_ctx *c, char out[2 * SHA256_DIGEST_LENGTH + 1]) {
  unsigned char bound[SHA256_DIGEST_LENGTH] = {0}, mac[EVP_MAX_MD_SIZE];
  char token[2 * TOKEN_BYTES + 1];
  if (c->access == CS_SESSION && cookie_token(c->req, token))
    digest_of(token, bound);
  pthread_mutex_lock(&lock);
  if (!csrf_key_drawn)
    csrf_key_drawn =
        getrandom(csrf_key, sizeof csrf_key, 0) == (ssize_t)sizeof csrf_key;
  bool drawn = csrf_key_drawn;
  pthread_mutex_unlock(&lock);
  unsigned int n = 0;
  if (!drawn || !HMAC(EVP_sha256(), csrf_key, sizeof csrf_key, bound,
                      sizeof bound, mac, &n))
    return false;
  static const char hex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < n && i < SHA256_DIGEST_LENGTH; i++) {
    out[2 * i] = hex[mac[i] >> 4];
    out[2 * i + 1] = hex[mac[i] & 15];
  }
  out[2 * SHA256_DIGEST_LENGTH] = '\0';
  return true;
}

void cs_csrf_field(const cs_ctx *c, cs_buf *b) {
  char token[2 * SHA256_DIGEST_LENGTH + 1];
  if (!csrf_token(c, token)) token[0] = '\0';
  cs_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", token);
}

bool cs_csrf_ok(const cs_ctx *c) {
  if (c->access == CS_KEY) return true;
  char want[2 * SHA256_DIGEST_LENGTH + 1], got[2 * SHA256_DIGEST_LENGTH + 1];
  return cs_same_origin(c->req) && csrf_token(c, want) &&
         cs_form_get(c->req->body, c->req->body_len, "csrf", got,
                     sizeof got) &&
         strlen(got) == strlen(want) &&
         CRYPTO_memcmp(got, want, strlen(want)) == 0;
}
