/* Loading the configuration file: YAML or JSON text into one jansson
 * document, defaults, then the sections (config_server.c,
 * config_workflow.c). */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "config_sections.h"

/* A configuration is a few kilobytes; this bounds a wrong file given by
 * mistake (a log, a binary). */
#define CONFIG_MAX_BYTES (4u << 20)

static char *read_file(const char *path, char *msg, size_t msg_size) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(msg, msg_size, "cannot open: %s", strerror(errno));
    return NULL;
  }
  char *buf = malloc(CONFIG_MAX_BYTES + 1);
  size_t n = buf ? fread(buf, 1, CONFIG_MAX_BYTES + 1, f) : 0;
  int failed = ferror(f);
  fclose(f);
  if (!buf || failed || n > CONFIG_MAX_BYTES) {
    snprintf(msg, msg_size, "%s",
             !buf ? "out of memory"
             : failed ? "read error" : "larger than 4 MiB");
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  if (strlen(buf) != n) {
    snprintf(msg, msg_size, "contains NUL bytes: not a text file");
    free(buf);
    return NULL;
  }
  return buf;
}

static bool is_yaml(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0);
}

/* The document as jansson, from YAML through the library's converter (the
 * same YAML rules as definitions) or straight from JSON. */
static json_t *parse_text(const char *path, const char *text, char *msg,
                          size_t msg_size) {
  char *json = NULL;
  if (is_yaml(path)) {
    wf_error err;
    if (wf_yaml_to_json(&json, text, &err) != WF_OK) {
      /* A long message is cut: the position comes first. */
      if (snprintf(msg, msg_size, "line %d, column %d: %s", err.line,
                   err.column, err.message) < 0)
        msg[0] = '\0';
      return NULL;
    }
    text = json;
  }
  json_error_t jerr;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
  wf_string_free(json);
  if (!root)
    snprintf(msg, msg_size, "line %d, column %d: %s", jerr.line, jerr.column,
             jerr.text);
  else if (!json_is_object(root)) {
    snprintf(msg, msg_size, "the top level must be a mapping");
    json_decref(root);
    root = NULL;
  }
  return root;
}

static char *dir_of(const char *path) {
  char *abs = realpath(path, NULL);
  if (!abs) return NULL;
  char *slash = strrchr(abs, '/');
  if (slash == abs) slash[1] = '\0';
  else if (slash) *slash = '\0';
  return abs;
}

static int set_defaults(gw_config *cfg) {
  cfg->listen.address = strdup("127.0.0.1");
  cfg->listen.port = 8080;
  cfg->listen.max_connections = 1024;
  /* Enough for a client's connection pool (browsers open 6, SDKs 10 to
   * 50), far from the 1,024 it takes to lock everyone else out. */
  cfg->listen.max_connections_per_client = 64;
  cfg->listen.connection_timeout_s = 30;
  /* A maximal body (limits.maxBodyBytes) needs about 1 Mbit/s to arrive
   * in this time. */
  cfg->listen.request_timeout_s = 30;
  cfg->listen.shutdown_timeout_s = 10;
  /* AWS's request quota, not its payload one. An input (256 KiB) and a
   * definition (1 MiB) travel as JSON strings inside the JSON request,
   * escaped once more: a quote or backslash takes 2 bytes, a 2-byte
   * UTF-8 character 6 once Python's json (botocore, the AWS CLI) writes
   * it as \u00e9, 3 times its size. So a maximal definition may need
   * 3 MiB and a maximal input 768 KiB (1.5 MiB if it were all control
   * characters, 6 bytes each). Step Functions itself accepts 1 MB per
   * request; 4 MiB refuses nothing it accepts and lets every maximal
   * definition and input through, at 4 MiB of memory per request
   * arriving (maxConnectionsPerClient of them per client at most). */
  cfg->limits.max_body_bytes = 4u << 20;
  cfg->limits.max_depth = 32;
  cfg->limits.max_headers = 64;
  cfg->aws.region = strdup("us-east-1");
  cfg->aws.account = strdup("123456789012");
  cfg->engine.history = WF_HISTORY_FULL;
  cfg->engine.max_running = 100000;
  cfg->process.max_string_length = 4096;
  cfg->process.max_running = 10000;
  cfg->process.max_wait_ms = 1000;
  cfg->throttle.enabled = true;
  cfg->throttle.rate = 100;
  cfg->throttle.burst = 200;
  cfg->throttle.max_clients = 10000;
  cfg->cors.allow_headers =
      strdup("Content-Type, X-Api-Key, X-Correlation-Id, Authorization");
  cfg->cors.expose_headers = strdup("X-Correlation-Id, Retry-After");
  cfg->cors.max_age_s = 600;
  cfg->store.retention = 1000;
  cfg->store.retention_days = 90;
  cfg->log.path = strdup("-");
  cfg->log.level = WF_LOG_INFO;
  cfg->log.access = true;
  return cfg->listen.address && cfg->aws.region && cfg->aws.account &&
                 cfg->cors.allow_headers && cfg->cors.expose_headers &&
                 cfg->log.path
             ? 0
             : -1;
}

gw_config *gw_config_load(const char *path, char *msg, size_t msg_size) {
  static const char *const known[] = {
      "listen", "limits", "aws", "engine", "pluginDir", "plugins",
      "handlers", "stateMachines", "process", "throttle", "cors", "auth", "store", "log",
      "http", "objectStore", NULL};
  char inner[512];
  gw_config *cfg = calloc(1, sizeof *cfg);
  char *text = NULL, *base = NULL;
  json_t *root = NULL;
  int rc = -1;
  inner[0] = '\0';
  if (!cfg || !(cfg->path = strdup(path)) || set_defaults(cfg)) {
    snprintf(inner, sizeof inner, "out of memory");
    goto done;
  }
  if (!(text = read_file(path, inner, sizeof inner))) goto done;
  if (!(root = parse_text(path, text, inner, sizeof inner))) goto done;
  if (!(base = dir_of(path))) {
    snprintf(inner, sizeof inner, "cannot resolve its directory: %s",
             strerror(errno));
    goto done;
  }
  gw_cfgx c = {inner, sizeof inner, base};
  if (gw_cfg_only(&c, root, "", known)) goto done;
  if (gw_config_read_server(&c, cfg, root)) goto done;
  if (gw_config_read_workflow(&c, cfg, root)) goto done;
  if (gw_config_read_http(&c, cfg, root)) goto done;
  if (gw_config_read_object_store(&c, cfg, root)) goto done;
  rc = 0;
done:
  if (rc) {
    snprintf(msg, msg_size, "%s: %s", path, inner);
    gw_config_free(cfg);
    cfg = NULL;
  }
  json_decref(root);
  free(text);
  free(base);
  return cfg;
}

void gw_config_free(gw_config *cfg) {
  if (!cfg) return;
  gw_config_free_server(cfg);
  gw_config_free_workflow(cfg);
  gw_config_free_http(cfg);
  gw_config_free_object_store(cfg);
  free(cfg->path);
  free(cfg);
}
