/* The workflow side of the configuration: aws (ARN parts and SigV4
 * credentials), engine, pluginDir and plugins, stateMachines and process
 * (the machine POST /process starts and its validation rules). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_sections.h"
#include "rules.h"

static int read_aws(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {
      "region", "account", "accessKeys", "signatureVersion4",
      "mockConfigFile", "callbackResources", NULL};
  static const char *const key_known[] = {
      "accessKeyId", "secretAccessKey", "secretAccessKeyEnv", NULL};
  json_t *o, *list;
  bool sigv4 = true;
  char *mock = NULL;
  if (gw_cfg_object(c, root, "", "aws", &o)) return -1;
  if (!o) return 0;
  if (gw_cfg_only(c, o, "aws", known) ||
      gw_cfg_string(c, o, "aws", "region", &cfg->aws.region) ||
      gw_cfg_string(c, o, "aws", "account", &cfg->aws.account) ||
      gw_cfg_array(c, o, "aws", "accessKeys", &list) ||
      gw_cfg_bool(c, o, "aws", "signatureVersion4", &sigv4) ||
      gw_cfg_strings(c, o, "aws", "callbackResources",
                     &cfg->aws.callback_resources, NULL) ||
      gw_cfg_string(c, o, "aws", "mockConfigFile", &mock))
    return -1;
  cfg->aws.sigv4_off = !sigv4;
  if (mock) {
    cfg->aws.mock_config_file = gw_cfg_resolve(c, mock);
    free(mock);
    if (!cfg->aws.mock_config_file)
      return gw_cfg_fail(c, "aws.mockConfigFile", "out of memory");
  }
  /* Both end up in ARNs, which ':' and '/' delimit. */
  if (strcspn(cfg->aws.region, ":/ ") != strlen(cfg->aws.region))
    return gw_cfg_fail(c, "aws.region", "must not contain ':', '/' or ' '");
  if (strlen(cfg->aws.account) != 12 ||
      strspn(cfg->aws.account, "0123456789") != 12)
    return gw_cfg_fail(c, "aws.account", "must be 12 digits");
  size_t n = json_array_size(list);
  if (n && !(cfg->aws.access_keys = calloc(n, sizeof *cfg->aws.access_keys)))
    return gw_cfg_fail(c, "aws.accessKeys", "out of memory");
  for (size_t i = 0; i < n; i++) {
    char f[GW_FIELD_MAX], sub[GW_FIELD_MAX];
    json_t *k = json_array_get(list, i);
    gw_access_key *ak = &cfg->aws.access_keys[i];
    gw_cfg_index(f, "aws.accessKeys", i);
    cfg->aws.naccess_keys = i + 1;
    if (!json_is_object(k)) return gw_cfg_fail(c, f, "must be a mapping");
    if (gw_cfg_only(c, k, f, key_known) ||
        gw_cfg_string(c, k, f, "accessKeyId", &ak->id) ||
        gw_cfg_secret(c, k, f, "secretAccessKey", true, &ak->secret))
      return -1;
    gw_cfg_field(sub, f, "accessKeyId");
    if (!ak->id) return gw_cfg_fail(c, sub, "required");
  }
  return 0;
}

static int read_engine(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"history", "workerThreads",
                                      "schedulerThreads", "payloadLimit",
                                      "maxRunning", NULL};
  json_t *o;
  char *history = NULL;
  unsigned long long workers = 0, schedulers = 0, limit = 0,
                     running = cfg->engine.max_running;
  if (gw_cfg_object(c, root, "", "engine", &o)) return -1;
  if (!o) return 0;
  if (gw_cfg_only(c, o, "engine", known) ||
      gw_cfg_uint(c, o, "engine", "workerThreads", 0, 256, &workers) ||
      gw_cfg_uint(c, o, "engine", "schedulerThreads", 0, 64, &schedulers) ||
      gw_cfg_uint(c, o, "engine", "payloadLimit", 0, 64u << 20, &limit) ||
      gw_cfg_uint(c, o, "engine", "maxRunning", 0, 100000000, &running) ||
      gw_cfg_string(c, o, "engine", "history", &history))
    return -1;
  if (history) {
    bool full = strcmp(history, "full") == 0;
    bool off = strcmp(history, "off") == 0;
    free(history);
    if (!full && !off)
      return gw_cfg_fail(c, "engine.history", "must be full or off");
    cfg->engine.history = full ? WF_HISTORY_FULL : WF_HISTORY_OFF;
  }
  cfg->engine.worker_threads = (unsigned)workers;
  cfg->engine.scheduler_threads = (unsigned)schedulers;
  cfg->engine.payload_limit = (size_t)limit;
  cfg->engine.max_running = (size_t)running;
  return 0;
}

/* A plugin is a bare file name inside pluginDir, the one trusted
 * directory; with a config mapping, or as a plain string without one. */
static int read_plugin(gw_cfgx *c, gw_plugin_conf *p, json_t *v,
                       const char *plugin_dir, const char *f) {
  static const char *const known[] = {"file", "config", NULL};
  char *file = NULL, sub[GW_FIELD_MAX];
  json_t *config = NULL;
  gw_cfg_field(sub, f, "file");
  if (json_is_string(v)) {
    file = strdup(json_string_value(v));
    snprintf(sub, sizeof sub, "%s", f);
  } else if (!json_is_object(v)) {
    return gw_cfg_fail(c, f, "must be a file name or a mapping");
  } else if (gw_cfg_only(c, v, f, known) ||
             gw_cfg_string(c, v, f, "file", &file) ||
             gw_cfg_object(c, v, f, "config", &config)) {
    free(file); /* read before "config" was found wrong */
    return -1;
  }
  int rc = 0;
  if (!file)
    rc = gw_cfg_fail(c, sub, "required");
  else if (strchr(file, '/') || strcmp(file, "..") == 0 || file[0] == '.')
    rc = gw_cfg_fail(c, sub, "must be a file name inside pluginDir");
  else if (!plugin_dir)
    rc = gw_cfg_fail(c, "pluginDir", "required when plugins are listed");
  if (rc == 0) {
    size_t n = strlen(plugin_dir) + strlen(file) + 2;
    p->path = malloc(n);
    if (p->path) snprintf(p->path, n, "%s/%s", plugin_dir, file);
    p->config_json = config ? json_dumps(config, JSON_COMPACT) : strdup("{}");
    if (!p->path || !p->config_json) rc = gw_cfg_fail(c, f, "out of memory");
  }
  free(file);
  return rc;
}

static int read_plugins(gw_cfgx *c, gw_config *cfg, json_t *root) {
  json_t *list;
  char *dir = NULL;
  if (gw_cfg_string(c, root, "", "pluginDir", &dir) ||
      gw_cfg_array(c, root, "", "plugins", &list)) {
    free(dir);
    return -1;
  }
  if (dir) {
    cfg->plugin_dir = gw_cfg_resolve(c, dir);
    free(dir);
    if (!cfg->plugin_dir) return gw_cfg_fail(c, "pluginDir", "out of memory");
  }
  size_t n = json_array_size(list);
  if (n && !(cfg->plugins = calloc(n, sizeof *cfg->plugins)))
    return gw_cfg_fail(c, "plugins", "out of memory");
  for (size_t i = 0; i < n; i++) {
    char f[GW_FIELD_MAX];
    gw_cfg_index(f, "plugins", i);
    cfg->nplugins = i + 1;
    if (read_plugin(c, &cfg->plugins[i], json_array_get(list, i),
                    cfg->plugin_dir, f))
      return -1;
  }
  return 0;
}

/* Built-in handlers: {resource, result}; the result is any JSON value,
 * {} when absent. */
static int read_handlers(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"resource", "result", NULL};
  json_t *list;
  if (gw_cfg_array(c, root, "", "handlers", &list)) return -1;
  size_t n = json_array_size(list);
  if (n && !(cfg->handlers = calloc(n, sizeof *cfg->handlers)))
    return gw_cfg_fail(c, "handlers", "out of memory");
  for (size_t i = 0; i < n; i++) {
    char f[GW_FIELD_MAX], sub[GW_FIELD_MAX];
    json_t *h = json_array_get(list, i);
    gw_handler_conf *hc = &cfg->handlers[i];
    gw_cfg_index(f, "handlers", i);
    cfg->nhandlers = i + 1;
    if (!json_is_object(h)) return gw_cfg_fail(c, f, "must be a mapping");
    if (gw_cfg_only(c, h, f, known) ||
        gw_cfg_string(c, h, f, "resource", &hc->resource))
      return -1;
    gw_cfg_field(sub, f, "resource");
    if (!hc->resource) return gw_cfg_fail(c, sub, "required");
    json_t *result = json_object_get(h, "result");
    hc->result_json = result ? json_dumps(result, JSON_ENCODE_ANY | JSON_COMPACT)
                             : strdup("{}");
    if (!hc->result_json) return gw_cfg_fail(c, f, "out of memory");
  }
  return 0;
}

/* AWS's state machine names: 1-80 of letters, digits, '-' and '_'. */
static bool machine_name_ok(const char *s) {
  size_t n = strlen(s);
  return n >= 1 && n <= 80 &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789-_") == n;
}

static int read_machine(gw_cfgx *c, gw_config *cfg, size_t i, json_t *v,
                        const char *f) {
  static const char *const known[] = {"name", "definition", "type",
                                      "roleArn", "allowedResources",
                                      "allowedHosts", NULL};
  gw_machine_conf *m = &cfg->machines[i];
  char sub[GW_FIELD_MAX], *type = NULL, *def = NULL;
  if (!json_is_object(v)) return gw_cfg_fail(c, f, "must be a mapping");
  if (gw_cfg_only(c, v, f, known) || gw_cfg_string(c, v, f, "name", &m->name) ||
      gw_cfg_string(c, v, f, "definition", &def) ||
      gw_cfg_string(c, v, f, "type", &type) ||
      gw_cfg_string(c, v, f, "roleArn", &m->role_arn) ||
      gw_cfg_strings(c, v, f, "allowedResources", &m->allowed_resources,
                     NULL) ||
      gw_cfg_strings(c, v, f, "allowedHosts", &m->allowed_hosts, NULL)) {
    free(def);
    free(type);
    return -1;
  }
  int rc = 0;
  gw_cfg_field(sub, f, "name");
  if (!m->name)
    rc = gw_cfg_fail(c, sub, "required");
  else if (!machine_name_ok(m->name))
    rc = gw_cfg_fail(c, sub, "must be 1-80 letters, digits, '-' or '_'");
  for (size_t j = 0; rc == 0 && j < i; j++)
    if (strcmp(cfg->machines[j].name, m->name) == 0)
      rc = gw_cfg_fail(c, sub, "duplicate name");
  gw_cfg_field(sub, f, "definition");
  if (rc == 0 && !def) rc = gw_cfg_fail(c, sub, "required");
  if (rc == 0 && !(m->definition_path = gw_cfg_resolve(c, def)))
    rc = gw_cfg_fail(c, sub, "out of memory");
  gw_cfg_field(sub, f, "type");
  if (rc == 0 && type && strcmp(type, "STANDARD") != 0 &&
      strcmp(type, "EXPRESS") != 0)
    rc = gw_cfg_fail(c, sub, "must be STANDARD or EXPRESS");
  if (type && strcmp(type, "EXPRESS") == 0) m->type = WF_MACHINE_EXPRESS;
  free(def);
  free(type);
  return rc;
}

static int read_machines(gw_cfgx *c, gw_config *cfg, json_t *root) {
  json_t *list;
  if (gw_cfg_array(c, root, "", "stateMachines", &list)) return -1;
  size_t n = json_array_size(list);
  if (n && !(cfg->machines = calloc(n, sizeof *cfg->machines)))
    return gw_cfg_fail(c, "stateMachines", "out of memory");
  for (size_t i = 0; i < n; i++) {
    char f[GW_FIELD_MAX];
    gw_cfg_index(f, "stateMachines", i);
    cfg->nmachines = i + 1;
    if (read_machine(c, cfg, i, json_array_get(list, i), f)) return -1;
  }
  return 0;
}

static int read_process(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"stateMachine", "rules",
                                      "maxStringLength", "maxRunning",
                                      "maxWaitMs", NULL};
  json_t *o = NULL, *rules = NULL;
  unsigned long long maxlen = cfg->process.max_string_length,
                     running = cfg->process.max_running,
                     wait = cfg->process.max_wait_ms;
  if (gw_cfg_object(c, root, "", "process", &o)) return -1;
  if (o && (gw_cfg_only(c, o, "process", known) ||
            gw_cfg_string(c, o, "process", "stateMachine",
                          &cfg->process.state_machine) ||
            gw_cfg_array(c, o, "process", "rules", &rules) ||
            gw_cfg_uint(c, o, "process", "maxStringLength", 1, 64u << 20,
                        &maxlen) ||
            gw_cfg_uint(c, o, "process", "maxRunning", 0, 10000000,
                        &running) ||
            gw_cfg_uint(c, o, "process", "maxWaitMs", 0, 60000, &wait)))
    return -1;
  cfg->process.max_string_length = (size_t)maxlen;
  cfg->process.max_running = (size_t)running;
  cfg->process.max_wait_ms = (unsigned)wait;
  if (rules && gw_rules_compile(&cfg->process.rules, rules, "process.rules", c))
    return -1;
  const char *name = cfg->process.state_machine;
  if (!name) {
    /* One machine needs no naming; several do. */
    if (cfg->nmachines == 1 &&
        !(cfg->process.state_machine = strdup(cfg->machines[0].name)))
      return gw_cfg_fail(c, "process.stateMachine", "out of memory");
    if (cfg->nmachines > 1)
      return gw_cfg_fail(c, "process.stateMachine",
                         "required when several state machines are listed");
    return 0;
  }
  for (size_t i = 0; i < cfg->nmachines; i++)
    if (strcmp(cfg->machines[i].name, name) == 0) return 0;
  return gw_cfg_fail(c, "process.stateMachine",
                     "names no machine of stateMachines");
}

int gw_config_set_plugin_dir(gw_config *cfg, const char *dir) {
  char *abs = realpath(dir, NULL);
  if (!abs) abs = strdup(dir);
  if (!abs) return -1;
  for (size_t i = 0; i < cfg->nplugins; i++) {
    const char *file = strrchr(cfg->plugins[i].path, '/') + 1;
    size_t n = strlen(abs) + strlen(file) + 2;
    char *path = malloc(n);
    if (!path) {
      free(abs);
      return -1;
    }
    snprintf(path, n, "%s/%s", abs, file);
    free(cfg->plugins[i].path);
    cfg->plugins[i].path = path;
  }
  free(cfg->plugin_dir);
  cfg->plugin_dir = abs;
  return 0;
}

int gw_config_read_workflow(gw_cfgx *c, gw_config *cfg, json_t *root) {
  return read_aws(c, cfg, root) || read_engine(c, cfg, root) ||
                 read_plugins(c, cfg, root) || read_handlers(c, cfg, root) ||
                 read_machines(c, cfg, root) ||
                 read_process(c, cfg, root)
             ? -1
             : 0;
}

void gw_config_free_workflow(gw_config *cfg) {
  free(cfg->aws.region);
  free(cfg->aws.account);
  for (size_t i = 0; i < cfg->aws.naccess_keys; i++) {
    free(cfg->aws.access_keys[i].id);
    free(cfg->aws.access_keys[i].secret);
  }
  free(cfg->aws.access_keys);
  free(cfg->aws.mock_config_file);
  gw_cfg_strings_free(cfg->aws.callback_resources);
  free(cfg->plugin_dir);
  for (size_t i = 0; i < cfg->nplugins; i++) {
    free(cfg->plugins[i].path);
    free(cfg->plugins[i].config_json);
  }
  free(cfg->plugins);
  for (size_t i = 0; i < cfg->nhandlers; i++) {
    free(cfg->handlers[i].resource);
    free(cfg->handlers[i].result_json);
  }
  free(cfg->handlers);
  for (size_t i = 0; i < cfg->nmachines; i++) {
    gw_machine_conf *m = &cfg->machines[i];
    free(m->name);
    free(m->definition_path);
    free(m->role_arn);
    gw_cfg_strings_free(m->allowed_resources);
    gw_cfg_strings_free(m->allowed_hosts);
  }
  free(cfg->machines);
  free(cfg->process.state_machine);
  gw_rules_free(cfg->process.rules);
}
