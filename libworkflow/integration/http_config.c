/* The HTTP Task's configuration on an engine: the options copied and
 * checked (connections by ARN, the host allowlists), kept as a counted
 * snapshot that calls hold while they run, and the handler registered for
 * arn:aws:states:::http:invoke. The engine tears it down (an attachment)
 * before its worker pool stops: transfers in flight are aborted and
 * waited for. */
#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "engine_impl.h"
#include "error.h"
#include "http_impl.h"

int wf_http_options_init(wf_http_options *opts, unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version != WF_HTTP_OPTIONS_VERSION) return WF_EVERSION;
  memset(opts, 0, sizeof *opts);
  opts->version = version;
  return WF_OK;
}

static void free_list(char **list) {
  for (size_t i = 0; list && list[i]; i++) wf__free(list[i]);
  wf__free(list);
}

/* A copy of a NULL-terminated list, entries lowercased (host names are
 * case-insensitive); *ok false when out of memory. */
static char **copy_hosts(const char *const *src, bool *ok) {
  if (!src) return NULL;
  size_t n = 0;
  while (src[n]) n++;
  char **out = wf__calloc(n + 1, sizeof *out);
  if (!out) {
    *ok = false;
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if (!(out[i] = wf__strdup(src[i]))) {
      *ok = false;
      break;
    }
    for (char *c = out[i]; *c; c++) *c = (char)tolower((unsigned char)*c);
  }
  return out;
}

static void conn_free(wf__http_conn *c) {
  char *fields[] = {c->arn, c->api_key_name, c->api_key_value_env,
                    c->username, c->password_env, c->token_endpoint,
                    c->client_id, c->client_secret_env, c->scope, c->token};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    wf__free(fields[i]);
  pthread_mutex_destroy(&c->token_lock);
}

static void config_free(wf__http_config *c) {
  if (!c) return;
  free_list(c->allowed);
  for (size_t i = 0; i < c->nmachines; i++) {
    wf__free(c->machines[i].machine);
    free_list(c->machines[i].hosts);
  }
  wf__free(c->machines);
  for (size_t i = 0; i < c->nconns; i++) conn_free(&c->conns[i]);
  wf__free(c->conns);
  wf__free(c);
}

void wf__http_config_release(wf__http_config *c) {
  if (c && atomic_fetch_sub(&c->refs, 1) == 1) config_free(c);
}

/* What a connection of each kind must name. */
static const char *missing_field(const wf_http_connection *s) {
  switch (s->auth) {
    case WF_HTTP_AUTH_API_KEY:
      if (!s->api_key_name || !*s->api_key_name) return "api_key_name";
      if (!s->api_key_value_env) return "api_key_value_env";
      return NULL;
    case WF_HTTP_AUTH_BASIC:
      if (!s->username) return "username";
      if (!s->password_env) return "password_env";
      return NULL;
    case WF_HTTP_AUTH_OAUTH_CLIENT_CREDENTIALS:
      if (!s->token_endpoint) return "token_endpoint";
      if (!s->client_id) return "client_id";
      if (!s->client_secret_env) return "client_secret_env";
      return NULL;
  }
  return "auth";
}

static char *dup_opt(const char *s, bool *ok) {
  if (!s) return NULL;
  char *d = wf__strdup(s);
  if (!d) *ok = false;
  return d;
}

static int copy_conn(wf__http_conn *d, const wf_http_connection *s,
                     size_t i, wf_error *err) {
  pthread_mutex_init(&d->token_lock, NULL);
  const char *missing = s->arn && *s->arn ? missing_field(s) : "arn";
  if (missing)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "connections[%zu].%s is required for its kind", i,
                         missing);
  bool ok = true;
  d->auth = s->auth;
  d->arn = dup_opt(s->arn, &ok);
  d->api_key_name = dup_opt(s->api_key_name, &ok);
  d->api_key_value_env = dup_opt(s->api_key_value_env, &ok);
  d->username = dup_opt(s->username, &ok);
  d->password_env = dup_opt(s->password_env, &ok);
  d->token_endpoint = dup_opt(s->token_endpoint, &ok);
  d->client_id = dup_opt(s->client_id, &ok);
  d->client_secret_env = dup_opt(s->client_secret_env, &ok);
  d->scope = dup_opt(s->scope, &ok);
  return ok ? WF_OK : wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
}

static int build(wf__http_config **out, const wf_http_options *o,
                 wf_error *err) {
  wf__http_config *c = wf__calloc(1, sizeof *c);
  if (!c) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  atomic_init(&c->refs, 1);
  c->connect_ms = o->connect_timeout_ms ? (long)o->connect_timeout_ms : 10000;
  c->request_ms = o->request_timeout_ms ? (long)o->request_timeout_ms : 60000;
  bool ok = true;
  c->allowed = copy_hosts(o->allowed_hosts, &ok);
  if (o->machine_hosts_count &&
      !(c->machines = wf__calloc(o->machine_hosts_count, sizeof *c->machines)))
    ok = false;
  for (size_t i = 0; ok && i < o->machine_hosts_count; i++) {
    c->nmachines++;
    const wf_http_machine_hosts *m = &o->machine_hosts[i];
    if (!m->machine || !m->hosts) {
      config_free(c);
      return wf__error_set(err, WF_EINVAL, NULL,
                           "machine_hosts[%zu] needs a machine and its hosts",
                           i);
    }
    c->machines[i].machine = dup_opt(m->machine, &ok);
    c->machines[i].hosts = copy_hosts(m->hosts, &ok);
  }
  if (ok && o->connections_count &&
      !(c->conns = wf__calloc(o->connections_count, sizeof *c->conns)))
    ok = false;
  for (size_t i = 0; ok && i < o->connections_count; i++) {
    c->nconns++;
    int rc = copy_conn(&c->conns[i], &o->connections[i], i, err);
    if (rc == WF_OK && wf__http_conn_find(c, c->conns[i].arn) != &c->conns[i])
      rc = wf__error_set(err, WF_EINVAL, NULL,
                         "connections[%zu]: another connection has the ARN "
                         "'%s'",
                         i, c->conns[i].arn);
    if (rc != WF_OK) {
      config_free(c);
      return rc;
    }
  }
  if (!ok) {
    config_free(c);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  *out = c;
  return WF_OK;
}

const wf__http_conn *wf__http_conn_find(const wf__http_config *c,
                                        const char *arn) {
  for (size_t i = 0; arn && i < c->nconns; i++)
    if (c->conns[i].arn && strcmp(c->conns[i].arn, arn) == 0)
      return &c->conns[i];
  return NULL;
}

/* One allowlist entry against a lowercased host and its port. */
static bool entry_allows(const char *entry, const char *host, long port) {
  if (entry[0] == '*' && entry[1] == '.') {
    size_t n = strlen(entry + 1), h = strlen(host);
    return h > n && strcmp(host + h - n, entry + 1) == 0;
  }
  const char *colon = strrchr(entry, ':');
  /* "host:port", but not a bare IPv6 address ("::1"). */
  if (colon && !strchr(entry, ']') && strchr(entry, ':') == colon) {
    char *end;
    long want = strtol(colon + 1, &end, 10);
    return !*end && want == port && strlen(host) == (size_t)(colon - entry) &&
           strncmp(entry, host, (size_t)(colon - entry)) == 0;
  }
  if (entry[0] == '[' && (colon = strstr(entry, "]:"))) {
    char *end;
    long want = strtol(colon + 2, &end, 10);
    return !*end && want == port && strlen(host) == (size_t)(colon - entry - 1) &&
           strncmp(entry + 1, host, (size_t)(colon - entry - 1)) == 0;
  }
  return strcmp(entry, host) == 0;
}

static bool list_allows(char *const *list, const char *host, long port) {
  for (size_t i = 0; list[i]; i++)
    if (entry_allows(list[i], host, port)) return true;
  return false;
}

bool wf__http_host_allowed(const wf__http_config *c, const char *machine,
                           const char *host, long port) {
  if (c->allowed && !list_allows(c->allowed, host, port)) return false;
  for (size_t i = 0; i < c->nmachines; i++)
    if (strcmp(c->machines[i].machine, machine) == 0)
      return list_allows(c->machines[i].hosts, host, port);
  return true;
}

wf__http_url_check wf__http_check_url(const wf__http_config *c,
                                      const char *machine, const char *url,
                                      wf__strbuf *host) {
  CURLU *u = curl_url();
  char *scheme = NULL, *name = NULL, *port = NULL;
  wf__http_url_check r = WF__HTTP_URL_INVALID;
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
      curl_url_get(u, CURLUPART_HOST, &name, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
          CURLUE_OK) {
    /* An IPv6 address comes bracketed: the allowlist spells it bare. */
    size_t n = strlen(name);
    const char *bare = name;
    if (n > 1 && name[0] == '[' && name[n - 1] == ']') {
      bare++;
      n -= 2;
    }
    for (size_t i = 0; i < n; i++)
      wf__strbuf_putc(host, (char)tolower((unsigned char)bare[i]));
    r = wf__http_host_allowed(c, machine, wf__strbuf_cstr(host),
                              strtol(port, NULL, 10))
            ? WF__HTTP_URL_OK
            : WF__HTTP_URL_DENIED;
  }
  curl_free(scheme);
  curl_free(name);
  curl_free(port);
  curl_url_cleanup(u);
  return r;
}

/* ---- on the engine ---- */

static const char HTTP_KEY = 0; /* the attachment's key: its address */

static void call_begin(void *owner) {
  wf__http *h = owner;
  pthread_mutex_lock(&h->lock);
  h->calls++;
  pthread_mutex_unlock(&h->lock);
}

static void call_end(void *owner) {
  wf__http *h = owner;
  pthread_mutex_lock(&h->lock);
  if (--h->calls == 0) pthread_cond_broadcast(&h->idle);
  pthread_mutex_unlock(&h->lock);
}

static const wf__handler_owner OWNER = {call_begin, call_end};

static void *http_new(wf_engine *e) {
  (void)e;
  wf__http *h = wf__calloc(1, sizeof *h);
  if (!h) return NULL;
  pthread_mutex_init(&h->set_lock, NULL);
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->idle, NULL);
  atomic_init(&h->stopping, false);
  return h;
}

/* wf_engine_free(): no new call, transfers in flight aborted and waited
 * for (the pool still runs them), then everything goes. */
static void http_teardown(wf_engine *e, void *data) {
  wf__http *h = data;
  atomic_store(&h->stopping, true);
  if (h->handler) wf__handler_remove(e, h->handler);
  pthread_mutex_lock(&h->lock);
  while (h->calls) pthread_cond_wait(&h->idle, &h->lock);
  pthread_mutex_unlock(&h->lock);
  wf__http_config_release(h->cfg);
  pthread_cond_destroy(&h->idle);
  pthread_mutex_destroy(&h->lock);
  pthread_mutex_destroy(&h->set_lock);
  wf__free(h);
}

wf__http_config *wf__http_config_ref(wf__http *h) {
  pthread_mutex_lock(&h->lock);
  wf__http_config *c = h->cfg;
  if (c) atomic_fetch_add(&c->refs, 1);
  pthread_mutex_unlock(&h->lock);
  return c;
}

int wf_engine_set_http(wf_engine *e, const wf_http_options *opts,
                       wf_error *err) {
  wf_http_options defaults = WF_HTTP_OPTIONS_INIT;
  if (!e) return wf__error_set(err, WF_EINVAL, NULL, "engine is required");
  if (!opts) opts = &defaults;
  if (opts->version != WF_HTTP_OPTIONS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_http_options version %u is not supported",
                         opts->version);
  if (!wf__http_global_init())
    return wf__error_set(err, WF_EINTERNAL, NULL,
                         "libcurl could not be initialised");
  wf__http_config *cfg = NULL;
  int rc = build(&cfg, opts, err);
  if (rc != WF_OK) return rc;
  wf__http *h = wf__engine_attachment(e, &HTTP_KEY, http_new, http_teardown);
  if (!h) {
    wf__http_config_release(cfg);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  pthread_mutex_lock(&h->set_lock);
  pthread_mutex_lock(&h->lock);
  wf__http_config *old = h->cfg;
  h->cfg = cfg;
  bool registered = h->handler != NULL;
  pthread_mutex_unlock(&h->lock);
  wf__http_config_release(old);
  /* The registry's lock is taken without `lock`: call_begin takes that
   * one under it. */
  wf__handler *handler = NULL;
  if (!registered &&
      (rc = wf__handler_add(e, WF_HTTP_INVOKE_RESOURCE, wf__http_invoke, h, 0,
                            &OWNER, h, &handler, err)) == WF_OK) {
    pthread_mutex_lock(&h->lock);
    h->handler = handler;
    pthread_mutex_unlock(&h->lock);
  }
  pthread_mutex_unlock(&h->set_lock);
  return rc;
}
