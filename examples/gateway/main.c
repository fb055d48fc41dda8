/* wf-gateway: serve libworkflow state machines over HTTP.
 *
 *   wf-gateway --config FILE [--port N] [--store PATH|memory] [--check]
 *
 * Signals are taken by sigwait() on the main thread: every other thread
 * (HTTP pool, engine, log flusher) starts with SIGINT and SIGTERM blocked,
 * so shutdown is ordinary code, not a handler. On either signal the
 * gateway stops accepting connections, finishes the requests in flight,
 * gives running executions until listen.shutdownTimeoutSeconds to end,
 * and exits 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static const char USAGE[] =
    "usage: wf-gateway --config FILE [--port N] [--plugin-dir DIR]\n"
    "                  [--store PATH|memory] [--check]\n"
    "\n"
    "Serve the state machines of a configuration (YAML or JSON) over HTTP:\n"
    "POST /process, GET /executions/{id}[/history], GET /health, and the\n"
    "AWS Step Functions API at POST / (X-Amz-Target).\n"
    "\n"
    "  --config FILE     the configuration (examples/gateway/gateway.yaml)\n"
    "  --port N          listen on port N instead of listen.port (0: any free\n"
    "                    port); the port is printed once listening:\n"
    "                    \"listening on http://127.0.0.1:PORT\"\n"
    "  --plugin-dir DIR  load the configured plugins from DIR instead of\n"
    "                    pluginDir (one file then serves any build tree)\n"
    "  --store PATH      keep executions in the SQLite file PATH (created\n"
    "                    when missing; running executions resume from it),\n"
    "                    or \"memory\": instead of the configuration's store\n"
    "  --check           load everything the configuration names, then exit\n"
    "  -h, --help        show this help\n"
    "\n"
    "exit status: 0 after a clean shutdown (SIGTERM, SIGINT) or check;\n"
    "1 when it cannot listen; 2 for usage or configuration errors (and for\n"
    "what the configuration names: plugins, definitions, the log file)\n";

typedef struct args {
  const char *config;
  const char *plugin_dir;
  const char *store;
  long port; /* -1: from the configuration */
  bool check;
} args;

static int parse_args(int argc, char **argv, args *a) {
  a->port = -1;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
      fputs(USAGE, stdout);
      exit(0);
    } else if (strcmp(s, "--check") == 0) {
      a->check = true;
    } else if ((strcmp(s, "--config") == 0 || strcmp(s, "--port") == 0 ||
                strcmp(s, "--plugin-dir") == 0 ||
                strcmp(s, "--store") == 0) &&
               i + 1 < argc) {
      const char *v = argv[++i];
      if (s[2] == 's') {
        a->store = v;
      } else if (s[2] == 'c') {
        a->config = v;
      } else if (s[3] == 'l') {
        a->plugin_dir = v;
      } else {
        char *end;
        a->port = strtol(v, &end, 10);
        if (*end || end == v || a->port < 0 || a->port > 65535) {
          fprintf(stderr, "wf-gateway: --port takes 0 to 65535\n");
          return 2;
        }
      }
    } else {
      fprintf(stderr, "wf-gateway: unexpected argument: %s\n%s", s, USAGE);
      return 2;
    }
  }
  if (!a->config) {
    fprintf(stderr, "wf-gateway: --config FILE is required\n%s", USAGE);
    return 2;
  }
  return 0;
}

static void serve(gw_server *srv, const sigset_t *signals) {
  const gw_config *cfg = srv->g.cfg;
  bool v6 = strchr(cfg->listen.address, ':') != NULL;
  printf("listening on http://%s%s%s:%d\n", v6 ? "[" : "",
         cfg->listen.address, v6 ? "]" : "", srv->port);
  fflush(stdout);
  char members[128];
  snprintf(members, sizeof members, "\"port\":%d", srv->port);
  gw_log_event(srv->log, WF_LOG_INFO, "Listening", members);

  int sig = 0;
  sigwait(signals, &sig);
  atomic_store(&srv->draining, true);
  snprintf(members, sizeof members, "\"signal\":\"%s\"",
           sig == SIGINT ? "SIGINT" : "SIGTERM");
  gw_log_event(srv->log, WF_LOG_INFO, "ShutdownStarted", members);
  double deadline = gw_mono_ms() + cfg->listen.shutdown_timeout_s * 1e3;
  gw_http_quiesce(srv);
  gw_http_stop(srv, deadline);
  gw_server_drain(srv, deadline);
  gw_log_event(srv->log, WF_LOG_INFO, "ShutdownComplete", NULL);
}

int main(int argc, char **argv) {
  args a = {0};
  int rc = parse_args(argc, argv, &a);
  if (rc) return rc;

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  signal(SIGPIPE, SIG_IGN);

  char msg[1024];
  gw_config *cfg = gw_config_load(a.config, msg, sizeof msg);
  if (!cfg) {
    fprintf(stderr, "wf-gateway: %s\n", msg);
    return 2;
  }
  if (a.port >= 0) cfg->listen.port = (int)a.port;
  if (a.store) {
    free(cfg->store.postgresql);
    cfg->store.postgresql = NULL;
    free(cfg->store.sqlite);
    cfg->store.sqlite = strcmp(a.store, "memory") == 0 ? NULL
                                                       : strdup(a.store);
  }
  if (a.plugin_dir && gw_config_set_plugin_dir(cfg, a.plugin_dir)) {
    fprintf(stderr, "wf-gateway: out of memory\n");
    gw_config_free(cfg);
    return 1;
  }

  gw_server srv;
  rc = 0;
  if (gw_server_init(&srv, cfg, msg, sizeof msg)) {
    fprintf(stderr, "wf-gateway: %s: %s\n", a.config, msg);
    rc = 2;
  } else if (!a.check) {
    if (gw_http_start(&srv, msg, sizeof msg)) {
      fprintf(stderr, "wf-gateway: %s\n", msg);
      rc = 1;
    } else {
      serve(&srv, &signals);
    }
  }
  gw_server_fini(&srv);
  gw_config_free(cfg);
  return rc;
}
