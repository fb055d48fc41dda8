/* The `http` section: the HTTP Task (arn:aws:states:::http:invoke) is
 * served when it is there. It holds the hosts every machine may call
 * (each machine narrows them with stateMachines[].allowedHosts), the
 * timeouts, and the connections tasks name in Authentication.ConnectionArn
 * (AWS keeps them in EventBridge; here they are configured by ARN). A
 * connection names the environment variables holding its secrets, which
 * are read at each call: the file never holds one.
 *
 *   http:
 *     allowedHosts: [api.example.com, "*.example.org"]
 *     connections:
 *       - arn: arn:aws:events:us-east-1:123456789012:connection/crm/1
 *         type: API_KEY            # or BASIC, OAUTH_CLIENT_CREDENTIALS
 *         apiKeyName: x-api-key
 *         apiKeyValueEnv: CRM_API_KEY
 */
#include <stdlib.h>
#include <string.h>

#include "config_sections.h"

static const struct {
  const char *name;
  wf_http_auth auth;
} KINDS[] = {{"API_KEY", WF_HTTP_AUTH_API_KEY},
             {"BASIC", WF_HTTP_AUTH_BASIC},
             {"OAUTH_CLIENT_CREDENTIALS",
              WF_HTTP_AUTH_OAUTH_CLIENT_CREDENTIALS}};

/* One connection's strings, in the order of its members in the file. */
#define CONNECTION_FIELDS(X)                                          \
  X("arn", arn) X("apiKeyName", api_key_name)                         \
  X("apiKeyValueEnv", api_key_value_env) X("username", username)      \
  X("passwordEnv", password_env) X("tokenEndpoint", token_endpoint)   \
  X("clientId", client_id) X("clientSecretEnv", client_secret_env)    \
  X("scope", scope)

static int read_connection(gw_cfgx *c, gw_http_connection_conf *conn,
                           json_t *v, const char *f) {
#define NAME(key, member) key,
  static const char *const known[] = {CONNECTION_FIELDS(NAME) "type", NULL};
#undef NAME
  char *type = NULL, sub[GW_FIELD_MAX];
  if (!json_is_object(v)) return gw_cfg_fail(c, f, "must be a mapping");
  if (gw_cfg_only(c, v, f, known) || gw_cfg_string(c, v, f, "type", &type))
    return -1;
#define READ(key, member) \
  if (gw_cfg_string(c, v, f, key, &conn->member)) goto fail;
  CONNECTION_FIELDS(READ)
#undef READ
  gw_cfg_field(sub, f, "type");
  if (!type) {
    gw_cfg_fail(c, sub, "required");
    goto fail;
  }
  size_t k = 0;
  while (k < sizeof KINDS / sizeof KINDS[0] && strcmp(KINDS[k].name, type))
    k++;
  if (k == sizeof KINDS / sizeof KINDS[0]) {
    gw_cfg_fail(c, sub, "must be API_KEY, BASIC or OAUTH_CLIENT_CREDENTIALS");
    goto fail;
  }
  conn->auth = KINDS[k].auth;
  free(type);
  return 0;
fail:
  free(type);
  return -1;
}

int gw_config_read_http(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"allowedHosts", "connectTimeoutMs",
                                      "requestTimeoutMs", "connections",
                                      NULL};
  json_t *o, *list;
  unsigned long long connect = 0, request = 0;
  if (gw_cfg_object(c, root, "", "http", &o)) return -1;
  if (!o) return 0;
  cfg->http.enabled = true;
  if (gw_cfg_only(c, o, "http", known) ||
      gw_cfg_strings(c, o, "http", "allowedHosts", &cfg->http.allowed_hosts,
                     NULL) ||
      gw_cfg_uint(c, o, "http", "connectTimeoutMs", 0, 600000, &connect) ||
      gw_cfg_uint(c, o, "http", "requestTimeoutMs", 0, 600000, &request) ||
      gw_cfg_array(c, o, "http", "connections", &list))
    return -1;
  cfg->http.connect_timeout_ms = (unsigned)connect;
  cfg->http.request_timeout_ms = (unsigned)request;
  size_t n = json_array_size(list);
  if (n && !(cfg->http.connections =
                 calloc(n, sizeof *cfg->http.connections)))
    return gw_cfg_fail(c, "http.connections", "out of memory");
  for (size_t i = 0; i < n; i++) {
    char f[GW_FIELD_MAX];
    gw_cfg_index(f, "http.connections", i);
    cfg->http.nconnections = i + 1;
    if (read_connection(c, &cfg->http.connections[i],
                        json_array_get(list, i), f))
      return -1;
  }
  return 0;
}

void gw_config_free_http(gw_config *cfg) {
  gw_cfg_strings_free(cfg->http.allowed_hosts);
  for (size_t i = 0; i < cfg->http.nconnections; i++) {
#define FREE(key, member) free(cfg->http.connections[i].member);
    CONNECTION_FIELDS(FREE)
#undef FREE
  }
  free(cfg->http.connections);
}
