/* The server's configuration sections: listen, limits, throttle, cors,
 * auth, store and log. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config_sections.h"

static int read_listen(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {
      "address", "port", "threads", "maxConnections",
      "maxConnectionsPerClient", "connectionTimeoutSeconds",
      "requestTimeoutSeconds", "shutdownTimeoutSeconds", NULL};
  json_t *o;
  unsigned long long port = (unsigned long long)cfg->listen.port,
                     threads = cfg->listen.threads,
                     maxc = cfg->listen.max_connections,
                     per_client = cfg->listen.max_connections_per_client,
                     cto = cfg->listen.connection_timeout_s,
                     rto = cfg->listen.request_timeout_s,
                     sto = cfg->listen.shutdown_timeout_s;
  if (gw_cfg_object(c, root, "", "listen", &o)) return -1;
  if (!o) return 0;
  if (gw_cfg_only(c, o, "listen", known) ||
      gw_cfg_string(c, o, "listen", "address", &cfg->listen.address) ||
      gw_cfg_uint(c, o, "listen", "port", 0, 65535, &port) ||
      gw_cfg_uint(c, o, "listen", "threads", 0, 64, &threads) ||
      gw_cfg_uint(c, o, "listen", "maxConnections", 1, 100000, &maxc) ||
      gw_cfg_uint(c, o, "listen", "maxConnectionsPerClient", 0, 100000,
                  &per_client) ||
      gw_cfg_uint(c, o, "listen", "connectionTimeoutSeconds", 1, 3600,
                  &cto) ||
      gw_cfg_uint(c, o, "listen", "requestTimeoutSeconds", 1, 3600, &rto) ||
      gw_cfg_uint(c, o, "listen", "shutdownTimeoutSeconds", 0, 3600, &sto))
    return -1;
  unsigned char addr[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, cfg->listen.address, addr) != 1 &&
      inet_pton(AF_INET6, cfg->listen.address, addr) != 1)
    return gw_cfg_fail(c, "listen.address",
                       "must be an IPv4 or IPv6 address, such as 127.0.0.1");
  if (per_client > maxc) {
    /* A bound above the total bounds nothing: a mistake when written,
     * the default meeting a small maxConnections otherwise. */
    if (json_object_get(o, "maxConnectionsPerClient"))
      return gw_cfg_fail(c, "listen.maxConnectionsPerClient",
                         "must not exceed listen.maxConnections (%llu)",
                         maxc);
    per_client = maxc;
  }
  cfg->listen.port = (int)port;
  cfg->listen.threads = (unsigned)threads;
  cfg->listen.max_connections = (unsigned)maxc;
  cfg->listen.max_connections_per_client = (unsigned)per_client;
  cfg->listen.connection_timeout_s = (unsigned)cto;
  cfg->listen.request_timeout_s = (unsigned)rto;
  cfg->listen.shutdown_timeout_s = (unsigned)sto;
  return 0;
}

static int read_limits(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"maxBodyBytes", "maxDepth",
                                      "maxHeaders", NULL};
  json_t *o;
  unsigned long long body = cfg->limits.max_body_bytes,
                     depth = cfg->limits.max_depth,
                     headers = cfg->limits.max_headers;
  if (gw_cfg_object(c, root, "", "limits", &o)) return -1;
  if (!o) return 0;
  if (gw_cfg_only(c, o, "limits", known) ||
      gw_cfg_uint(c, o, "limits", "maxBodyBytes", 1, 64u << 20, &body) ||
      gw_cfg_uint(c, o, "limits", "maxDepth", 1, 1000, &depth) ||
      gw_cfg_uint(c, o, "limits", "maxHeaders", 8, 1000, &headers))
    return -1;
  cfg->limits.max_body_bytes = (size_t)body;
  cfg->limits.max_depth = (unsigned)depth;
  cfg->limits.max_headers = (unsigned)headers;
  return 0;
}

static int read_throttle(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"enabled", "rate", "burst",
                                      "maxClients", NULL};
  json_t *o;
  unsigned long long clients = cfg->throttle.max_clients;
  if (gw_cfg_object(c, root, "", "throttle", &o)) return -1;
  if (!o) return 0;
  if (gw_cfg_only(c, o, "throttle", known) ||
      gw_cfg_bool(c, o, "throttle", "enabled", &cfg->throttle.enabled) ||
      gw_cfg_number(c, o, "throttle", "rate", 0.001, 1e9,
                    &cfg->throttle.rate) ||
      gw_cfg_number(c, o, "throttle", "burst", 1, 1e9,
                    &cfg->throttle.burst) ||
      gw_cfg_uint(c, o, "throttle", "maxClients", 16, 1000000, &clients))
    return -1;
  cfg->throttle.max_clients = (size_t)clients;
  return 0;
}

/* Header lists are echoed into responses: only token characters, commas
 * and spaces, so no configured value can split a header. */
static int header_list(gw_cfgx *c, json_t *o, const char *key, char **out) {
  char **v = NULL, f[GW_FIELD_MAX];
  size_t n = 0, len = 0;
  if (gw_cfg_strings(c, o, "cors", key, &v, &n)) return -1;
  if (!v) return 0;
  gw_cfg_field(f, "cors", key);
  for (size_t i = 0; i < n; i++) {
    if (strspn(v[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789-_") != strlen(v[i])) {
      gw_cfg_strings_free(v);
      return gw_cfg_fail(c, f, "header names hold letters, digits, - and _");
    }
    len += strlen(v[i]) + 2;
  }
  char *s = calloc(1, len + 1);
  for (size_t i = 0; s && i < n; i++) {
    if (i) strcat(s, ", ");
    strcat(s, v[i]);
  }
  gw_cfg_strings_free(v);
  if (!s) return gw_cfg_fail(c, f, "out of memory");
  free(*out);
  *out = s;
  return 0;
}

/* An origin is scheme://host[:port]; anything else would never match a
 * browser's Origin header and could smuggle characters into a response
 * header. */
static bool origin_ok(const char *s) {
  if (strcmp(s, "*") == 0) return true;
  const char *host = strncmp(s, "http://", 7) == 0    ? s + 7
                     : strncmp(s, "https://", 8) == 0 ? s + 8
                                                      : NULL;
  if (!host || !*host) return false;
  for (const char *p = host; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("-.:[]", *p)) return false;
  return true;
}

static int read_cors(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"allowOrigins", "allowHeaders",
                                      "exposeHeaders", "maxAgeSeconds",
                                      "allowCredentials", NULL};
  json_t *o;
  unsigned long long age = cfg->cors.max_age_s;
  if (gw_cfg_object(c, root, "", "cors", &o)) return -1;
  if (!o) return 0;
  if (gw_cfg_only(c, o, "cors", known) ||
      gw_cfg_strings(c, o, "cors", "allowOrigins", &cfg->cors.origins,
                     &cfg->cors.norigins) ||
      header_list(c, o, "allowHeaders", &cfg->cors.allow_headers) ||
      header_list(c, o, "exposeHeaders", &cfg->cors.expose_headers) ||
      gw_cfg_uint(c, o, "cors", "maxAgeSeconds", 0, 86400, &age) ||
      gw_cfg_bool(c, o, "cors", "allowCredentials",
                  &cfg->cors.allow_credentials))
    return -1;
  cfg->cors.max_age_s = (unsigned)age;
  for (size_t i = 0; i < cfg->cors.norigins; i++) {
    char f[GW_FIELD_MAX];
    gw_cfg_index(f, "cors.allowOrigins", i);
    if (!origin_ok(cfg->cors.origins[i]))
      return gw_cfg_fail(c, f,
                         "must be \"*\" or an origin such as "
                         "https://app.example.com");
    if (strcmp(cfg->cors.origins[i], "*") == 0 && cfg->cors.allow_credentials)
      return gw_cfg_fail(c, f,
                         "\"*\" cannot be combined with allowCredentials");
  }
  return 0;
}

static int read_auth(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"apiKeys", NULL};
  static const char *const key_known[] = {"name", "key", "keyEnv", NULL};
  json_t *o, *list;
  if (gw_cfg_object(c, root, "", "auth", &o)) return -1;
  if (!o) return 0;
  if (gw_cfg_only(c, o, "auth", known) ||
      gw_cfg_array(c, o, "auth", "apiKeys", &list))
    return -1;
  size_t n = json_array_size(list);
  if (n && !(cfg->auth.api_keys = calloc(n, sizeof *cfg->auth.api_keys)))
    return gw_cfg_fail(c, "auth.apiKeys", "out of memory");
  for (size_t i = 0; i < n; i++) {
    char f[GW_FIELD_MAX], sub[GW_FIELD_MAX];
    json_t *k = json_array_get(list, i);
    gw_api_key *ak = &cfg->auth.api_keys[i];
    gw_cfg_index(f, "auth.apiKeys", i);
    cfg->auth.napi_keys = i + 1;
    if (!json_is_object(k)) return gw_cfg_fail(c, f, "must be a mapping");
    if (gw_cfg_only(c, k, f, key_known) ||
        gw_cfg_string(c, k, f, "name", &ak->name) ||
        gw_cfg_secret(c, k, f, "key", true, &ak->key))
      return -1;
    gw_cfg_field(sub, f, "name");
    if (!ak->name) return gw_cfg_fail(c, sub, "required");
    for (size_t j = 0; j < i; j++)
      if (strcmp(cfg->auth.api_keys[j].name, ak->name) == 0)
        return gw_cfg_fail(c, sub, "duplicate name");
    gw_cfg_field(sub, f, "key");
    /* Keys travel in a header: printable ASCII only, and long enough not
     * to be guessed. */
    if (strlen(ak->key) < 16 || strlen(ak->key) > 256)
      return gw_cfg_fail(c, sub, "must have 16 to 256 characters");
    for (const char *p = ak->key; *p; p++)
      if (*p <= ' ' || *p > '~')
        return gw_cfg_fail(c, sub,
                           "must hold printable ASCII without spaces");
  }
  return 0;
}

static int read_log(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"path", "level", "access", NULL};
  static const char *const levels[] = {"debug", "info", "warn", "error"};
  json_t *o;
  char *level = NULL;
  if (gw_cfg_object(c, root, "", "log", &o)) return -1;
  if (!o) return 0;
  if (json_is_false(json_object_get(o, "path"))) {
    free(cfg->log.path);
    cfg->log.path = NULL;
    json_object_del(o, "path");
  }
  if (gw_cfg_only(c, o, "log", known) ||
      gw_cfg_string(c, o, "log", "path", &cfg->log.path) ||
      gw_cfg_bool(c, o, "log", "access", &cfg->log.access) ||
      gw_cfg_string(c, o, "log", "level", &level))
    return -1;
  if (level) {
    size_t i = 0;
    while (i < 4 && strcmp(level, levels[i]) != 0) i++;
    free(level);
    if (i == 4)
      return gw_cfg_fail(c, "log.level",
                         "must be one of debug, info, warn, error");
    cfg->log.level = (wf_log_level)(WF_LOG_DEBUG + (int)i);
  }
  if (cfg->log.path && strcmp(cfg->log.path, "-") != 0) {
    char *abs = gw_cfg_resolve(c, cfg->log.path);
    if (!abs) return gw_cfg_fail(c, "log.path", "out of memory");
    free(cfg->log.path);
    cfg->log.path = abs;
  }
  return 0;
}

/* store: memory | {sqlite: PATH | postgresql: CONNINFO, password: P |
 * passwordEnv: VAR, shared: BOOL, leaseMs: MS, retention: N,
 * retentionDays: D, sync: full|normal} (neither sqlite nor postgresql:
 * memory). */
static int read_store(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"sqlite", "postgresql", "password",
                                      "passwordEnv", "shared", "leaseMs",
                                      "retention", "retentionDays", "sync",
                                      NULL};
  json_t *v = json_object_get(root, "store");
  if (json_is_string(v)) {
    if (strcmp(json_string_value(v), "memory") != 0)
      return gw_cfg_fail(c, "store",
                         "must be \"memory\" or an object with sqlite: "
                         "PATH or postgresql: CONNINFO");
    return 0;
  }
  json_t *o;
  unsigned long long retention = cfg->store.retention;
  unsigned long long days = cfg->store.retention_days;
  unsigned long long lease = cfg->store.lease_ms;
  char *sync = NULL;
  if (gw_cfg_object(c, root, "", "store", &o)) return -1;
  if (!o) return 0;
  if (gw_cfg_only(c, o, "store", known) ||
      gw_cfg_string(c, o, "store", "sqlite", &cfg->store.sqlite) ||
      gw_cfg_string(c, o, "store", "postgresql", &cfg->store.postgresql) ||
      gw_cfg_secret(c, o, "store", "password", false, &cfg->store.password) ||
      gw_cfg_bool(c, o, "store", "shared", &cfg->store.shared) ||
      gw_cfg_uint(c, o, "store", "leaseMs", 300, 3600000, &lease) ||
      gw_cfg_uint(c, o, "store", "retention", 0, 100000000, &retention) ||
      gw_cfg_uint(c, o, "store", "retentionDays", 1, 36500, &days) ||
      gw_cfg_string(c, o, "store", "sync", &sync))
    return -1;
  cfg->store.retention = (size_t)retention;
  cfg->store.retention_days = (unsigned)days;
  cfg->store.lease_ms = (unsigned)lease;
  int rc = 0;
  if (sync && strcmp(sync, "normal") == 0)
    cfg->store.sync = WF_STORE_SYNC_NORMAL;
  else if (sync && strcmp(sync, "full") != 0)
    rc = gw_cfg_fail(c, "store.sync", "must be full or normal");
  free(sync);
  if (!rc && cfg->store.sqlite && cfg->store.postgresql)
    rc = gw_cfg_fail(c, "store.postgresql",
                     "give sqlite or postgresql, not both");
  if (!rc && (cfg->store.shared || cfg->store.lease_ms) &&
      !cfg->store.postgresql)
    rc = gw_cfg_fail(c, cfg->store.shared ? "store.shared" : "store.leaseMs",
                     "only a postgresql store is shared between gateways");
  if (!rc && cfg->store.password && !cfg->store.postgresql)
    rc = gw_cfg_fail(c, "store.password",
                     "only a postgresql store takes a password");
  if (!rc && cfg->store.sqlite) {
    char *abs = gw_cfg_resolve(c, cfg->store.sqlite);
    if (!abs) return gw_cfg_fail(c, "store.sqlite", "out of memory");
    free(cfg->store.sqlite);
    cfg->store.sqlite = abs;
  }
  return rc;
}

int gw_config_read_server(gw_cfgx *c, gw_config *cfg, json_t *root) {
  return read_listen(c, cfg, root) || read_limits(c, cfg, root) ||
                 read_throttle(c, cfg, root) || read_cors(c, cfg, root) ||
                 read_auth(c, cfg, root) || read_log(c, cfg, root) ||
                 read_store(c, cfg, root)
             ? -1
             : 0;
}

void gw_config_free_server(gw_config *cfg) {
  free(cfg->listen.address);
  free(cfg->store.sqlite);
  free(cfg->store.postgresql);
  if (cfg->store.password) {
    memset(cfg->store.password, 0, strlen(cfg->store.password));
    free(cfg->store.password);
  }
  gw_cfg_strings_free(cfg->cors.origins);
  free(cfg->cors.allow_headers);
  free(cfg->cors.expose_headers);
  for (size_t i = 0; i < cfg->auth.napi_keys; i++) {
    free(cfg->auth.api_keys[i].name);
    free(cfg->auth.api_keys[i].key);
  }
  free(cfg->auth.api_keys);
  free(cfg->log.path);
}
