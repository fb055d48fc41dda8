/* Configuration of the delivery sinks: the outbox file, the SMTP server
 * and the webhooks, and the check that every channel routed to a sink has
 * what that sink needs. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "send_notification.h"

#define DEFAULT_CONNECT_MS 5000L
#define DEFAULT_SMTP_MS 30000L
#define DEFAULT_WEBHOOK_MS 10000L
/* The outbox rotates at 16 MiB and keeps five old files: about 35,000
 * messages in all, a few days of a busy engine, in under 100 MB. */
#define DEFAULT_OUTBOX_MAX_BYTES (16LL << 20)
#define MAX_OUTBOX_MAX_BYTES (1LL << 40) /* 1 TiB */
#define DEFAULT_OUTBOX_KEEP 5
#define MAX_OUTBOX_KEEP 100

/* The outbox path is made absolute now: the process may change its working
 * directory later, and the file must not move with it. */
static int resolve_outbox(sn_config *c, wf_error *err) {
  const char *given = c->outbox.path ? c->outbox.path : "./outbox.jsonl";
  char cwd[PATH_MAX], full[PATH_MAX * 2];
  if (given[0] == '/') {
    snprintf(full, sizeof full, "%s", given);
  } else if (getcwd(cwd, sizeof cwd)) {
    const char *rel = given;
    while (rel[0] == '.' && rel[1] == '/') rel += 2; /* "./a" is "a" */
    snprintf(full, sizeof full, "%s/%s", cwd, rel);
  } else {
    return sn_config_error(err, "/outbox/path",
                           "cannot resolve \"%s\": %s", given,
                           strerror(errno));
  }
  size_t n = strlen(full);
  if (n == 0 || full[n - 1] == '/')
    return sn_config_error(err, "/outbox/path", "\"%s\" names a directory",
                           given);
  char dir[PATH_MAX * 2];
  snprintf(dir, sizeof dir, "%s", full);
  *strrchr(dir, '/') = '\0';
  struct stat st;
  if (dir[0] && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
    return sn_config_error(err, "/outbox/path",
                           "the directory of \"%s\" does not exist", given);
  char *abs = strdup(full);
  if (!abs) return WF_ENOMEM;
  free(c->outbox.path);
  c->outbox.path = abs;
  return WF_OK;
}

static int read_outbox(sn_config *c, json_t *root, wf_error *err) {
  json_t *obj;
  static const char *const known[] = {"path", "fsync", "maxBytes", "keep",
                                      NULL};
  long long keep = DEFAULT_OUTBOX_KEEP;
  c->outbox.max_bytes = DEFAULT_OUTBOX_MAX_BYTES;
  int rc = sn_field_object(root, "", "outbox", &obj, err);
  if (rc == WF_OK && obj) rc = sn_field_only(obj, "/outbox", known, err);
  if (rc == WF_OK) rc = sn_field_string(obj, "/outbox", "path",
                                        &c->outbox.path, err);
  if (rc == WF_OK) rc = sn_field_bool(obj, "/outbox", "fsync",
                                      &c->outbox.fsync, err);
  if (rc == WF_OK) rc = sn_field_integer(obj, "/outbox", "maxBytes", 0,
                                         MAX_OUTBOX_MAX_BYTES,
                                         &c->outbox.max_bytes, err);
  if (rc == WF_OK) rc = sn_field_integer(obj, "/outbox", "keep", 0,
                                         MAX_OUTBOX_KEEP, &keep, err);
  c->outbox.keep = (int)keep;
  if (rc == WF_OK) rc = resolve_outbox(c, err);
  return rc;
}

static bool has_scheme(const char *url, const char *const *schemes) {
  for (size_t i = 0; schemes[i]; i++)
    if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0 &&
        url[strlen(schemes[i])] != '\0')
      return true;
  return false;
}

static int read_smtp(sn_config *c, json_t *root, wf_error *err) {
  sn_smtp_config *s = &c->smtp;
  s->tls = SN_TLS_TRY;
  s->verify_peer = true;
  s->connect_timeout_ms = DEFAULT_CONNECT_MS;
  s->timeout_ms = DEFAULT_SMTP_MS;
  json_t *obj;
  int rc = sn_field_object(root, "", "smtp", &obj, err);
  if (rc != WF_OK || !obj) return rc;
  static const char *const known[] = {
      "url", "from", "tls", "username", "password", "caFile", "verifyPeer",
      "connectTimeoutMs", "timeoutMs", NULL};
  static const char *const schemes[] = {"smtp://", "smtps://", NULL};
  const char *P = "/smtp";
  char *tls = NULL;
  if ((rc = sn_field_only(obj, P, known, err)) == WF_OK &&
      (rc = sn_field_string(obj, P, "url", &s->url, err)) == WF_OK &&
      (rc = sn_field_string(obj, P, "from", &s->from, err)) == WF_OK &&
      (rc = sn_field_string(obj, P, "tls", &tls, err)) == WF_OK &&
      (rc = sn_field_string(obj, P, "username", &s->username, err)) == WF_OK &&
      (rc = sn_field_string(obj, P, "password", &s->password, err)) == WF_OK &&
      (rc = sn_field_string(obj, P, "caFile", &s->ca_file, err)) == WF_OK &&
      (rc = sn_field_bool(obj, P, "verifyPeer", &s->verify_peer, err)) ==
          WF_OK &&
      (rc = sn_field_ms(obj, P, "connectTimeoutMs", &s->connect_timeout_ms,
                        err)) == WF_OK)
    rc = sn_field_ms(obj, P, "timeoutMs", &s->timeout_ms, err);
  if (rc == WF_OK && tls) {
    if (strcmp(tls, "none") == 0) s->tls = SN_TLS_NONE;
    else if (strcmp(tls, "try") == 0) s->tls = SN_TLS_TRY;
    else if (strcmp(tls, "required") == 0) s->tls = SN_TLS_REQUIRED;
    else rc = sn_config_error(err, "/smtp/tls", "must be \"none\", \"try\" "
                                                "or \"required\"");
  }
  free(tls);
  if (rc != WF_OK) return rc;
  if (s->url && !has_scheme(s->url, schemes))
    return sn_config_error(err, "/smtp/url", "\"%s\" is not an smtp:// or "
                           "smtps:// URL", s->url);
  if (s->from && !sn_recipient_valid(c->recipients, SN_EMAIL, s->from))
    return sn_config_error(err, "/smtp/from", "\"%s\" is not an email "
                           "address", s->from);
  if (!s->username != !s->password)
    return sn_config_error(err, s->username ? "/smtp/password"
                                            : "/smtp/username",
                           "username and password go together");
  return WF_OK;
}

/* An HTTP header name is a token (RFC 9110, 5.6.2); a value must not break
 * the header block. */
static bool header_ok(const char *name, const char *value) {
  if (!*name) return false;
  for (const char *p = name; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
      return false;
  return strpbrk(value, "\r\n") == NULL;
}

static int read_headers(sn_webhook_config *w, json_t *obj, const char *path,
                        wf_error *err) {
  json_t *headers;
  int rc = sn_field_object(obj, path, "headers", &headers, err);
  if (rc != WF_OK || !headers) return rc;
  w->headers = calloc(json_object_size(headers) + 1, sizeof *w->headers);
  if (!w->headers) return WF_ENOMEM;
  const char *name;
  json_t *v;
  json_object_foreach(headers, name, v) {
    char p[WF_ERROR_PATH_MAX];
    sn_fmt(p, sizeof p, "%s/headers/%s", path, name);
    if (!json_is_string(v) || !header_ok(name, json_string_value(v)))
      return sn_config_error(err, p, "must be a string, and the name an "
                             "HTTP token, without line breaks");
    if (asprintf(&w->headers[w->nheaders], "%s: %s", name,
                 json_string_value(v)) < 0) {
      w->headers[w->nheaders] = NULL;
      return WF_ENOMEM;
    }
    w->nheaders++;
  }
  return WF_OK;
}

static int read_webhook(sn_webhook_config *w, json_t *obj, const char *path,
                        wf_error *err) {
  static const char *const known[] = {"url", "headers", "connectTimeoutMs",
                                      "timeoutMs", NULL};
  static const char *const schemes[] = {"http://", "https://", NULL};
  w->connect_timeout_ms = DEFAULT_CONNECT_MS;
  w->timeout_ms = DEFAULT_WEBHOOK_MS;
  int rc;
  if ((rc = sn_field_only(obj, path, known, err)) != WF_OK ||
      (rc = sn_field_string(obj, path, "url", &w->url, err)) != WF_OK ||
      (rc = read_headers(w, obj, path, err)) != WF_OK ||
      (rc = sn_field_ms(obj, path, "connectTimeoutMs",
                        &w->connect_timeout_ms, err)) != WF_OK ||
      (rc = sn_field_ms(obj, path, "timeoutMs", &w->timeout_ms, err)) !=
          WF_OK)
    return rc;
  if (w->url && !has_scheme(w->url, schemes)) {
    char p[WF_ERROR_PATH_MAX];
    sn_fmt(p, sizeof p, "%s/url", path);
    return sn_config_error(err, p, "\"%s\" is not an http:// or https:// "
                           "URL", w->url);
  }
  return WF_OK;
}

static int read_webhooks(sn_config *c, json_t *root, wf_error *err) {
  json_t *obj;
  int rc = sn_field_object(root, "", "webhooks", &obj, err);
  if (rc != WF_OK || !obj) return rc;
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    char p[WF_ERROR_PATH_MAX];
    sn_fmt(p, sizeof p, "/webhooks/%s", key);
    sn_channel ch;
    if (!sn_channel_parse(key, &ch))
      return sn_config_error(err, p, "unknown channel; expected EMAIL, SMS "
                                     "or PUSH");
    if (!json_is_object(v)) return sn_config_error(err, p, "must be an object");
    if ((rc = read_webhook(&c->webhook[ch], v, p, err)) != WF_OK) return rc;
  }
  return WF_OK;
}

/* A channel sent through SMTP or a webhook needs that sink's address. */
static int check_channels(const sn_config *c, wf_error *err) {
  for (int i = 0; i < SN_NCHANNELS; i++) {
    const char *name = sn_channel_name((sn_channel)i);
    char p[64];
    sn_fmt(p, sizeof p, "/channels/%s", name);
    if (c->sink[i] == SN_SINK_SMTP && (!c->smtp.url || !c->smtp.from))
      return sn_config_error(err, p, "EMAIL goes through smtp, which needs "
                             "/smtp/url and /smtp/from");
    if (c->sink[i] == SN_SINK_WEBHOOK && !c->webhook[i].url)
      return sn_config_error(err, p, "%s goes through a webhook, which needs "
                             "/webhooks/%s/url", name, name);
  }
  return WF_OK;
}

int sn_config_sinks(sn_config *c, json_t *root, wf_error *err) {
  int rc = read_outbox(c, root, err);
  if (rc == WF_OK) rc = read_smtp(c, root, err);
  if (rc == WF_OK) rc = read_webhooks(c, root, err);
  if (rc == WF_OK) rc = check_channels(c, err);
  return rc;
}
