/* Building the server the configuration describes — log sink, engine,
 * plugins, state machines in the store, throttle — and taking it down in
 * the reverse order. Any failure names the configuration field it came
 * from. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

static int engine_new(gw_server *srv, char *msg, size_t n) {
  const gw_config *cfg = srv->g.cfg;
  wf_engine_options eo = WF_ENGINE_OPTIONS_INIT;
  eo.worker_threads = cfg->engine.worker_threads;
  eo.scheduler_threads = cfg->engine.scheduler_threads;
  eo.payload_limit = cfg->engine.payload_limit;
  eo.history = cfg->engine.history;
  eo.region = cfg->aws.region;
  eo.account = cfg->aws.account;
  eo.log_level = cfg->log.level;
  if (srv->log) { /* execution lines join the gateway's own */
    eo.log = gw_log_engine;
    eo.log_payload = srv->log;
  }
  wf_error err;
  if (wf_engine_new(&srv->g.engine, &eo, &err) != WF_OK) {
    snprintf(msg, n, "engine: %s", err.message);
    return -1;
  }
  return 0;
}

static int load_plugins(gw_server *srv, char *msg, size_t n) {
  const gw_config *cfg = srv->g.cfg;
  wf_error err;
  if (!cfg->nplugins) return 0;
  if (wf_engine_add_plugin_dir(srv->g.engine, cfg->plugin_dir, &err) !=
      WF_OK) {
    snprintf(msg, n, "pluginDir: %s", err.message);
    return -1;
  }
  for (size_t i = 0; i < cfg->nplugins; i++) {
    wf_plugin *p;
    if (wf_engine_load_plugin(&p, srv->g.engine, cfg->plugins[i].path,
                              cfg->plugins[i].config_json, &err) != WF_OK) {
      snprintf(msg, n, "plugins[%zu]: %s", i, err.message);
      return -1;
    }
  }
  return 0;
}

static char **copy_strings(char **v) {
  size_t n = 0;
  while (v && v[n]) n++;
  if (!v) return NULL;
  char **c = calloc(n + 1, sizeof *c);
  for (size_t i = 0; c && i < n; i++)
    if (!(c[i] = strdup(v[i]))) {
      while (i--) free(c[i]);
      free(c);
      return NULL;
    }
  return c;
}

static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

/* The store's record of a configured machine, as CreateStateMachine would
 * have made it. Takes m. */
static gw_machine_rec *machine_rec(const gw_config *cfg,
                                   const gw_machine_conf *mc, wf_machine *m) {
  gw_machine_rec *r = calloc(1, sizeof *r);
  char rev[37];
  gw_uuid(rev);
  if (!r) {
    wf_machine_free(m);
    return NULL;
  }
  r->name = strdup(mc->name);
  r->arn = strf("arn:aws:states:%s:%s:stateMachine:%s", cfg->aws.region,
                cfg->aws.account, mc->name);
  r->role_arn = mc->role_arn
                    ? strdup(mc->role_arn)
                    : strf("arn:aws:iam::%s:role/wf-gateway", cfg->aws.account);
  r->type = mc->type;
  r->created_ms = r->updated_ms = gw_now_ms();
  r->current.arn = r->arn ? strdup(r->arn) : NULL;
  r->current.definition = strdup(wf_machine_definition(m));
  r->current.revision_id = strdup(rev);
  r->current.created_ms = r->created_ms;
  r->current.machine = m;
  r->allowed_resources = copy_strings(mc->allowed_resources);
  return r;
}

static int load_machines(gw_server *srv, char *msg, size_t n) {
  const gw_config *cfg = srv->g.cfg;
  for (size_t i = 0; i < cfg->nmachines; i++) {
    const gw_machine_conf *mc = &cfg->machines[i];
    wf_diagnostics *diags = NULL;
    wf_load_options lo = WF_LOAD_OPTIONS_INIT;
    lo.type = mc->type;
    lo.name = mc->name;
    lo.diagnostics = &diags;
    lo.allowed_resources = (const char *const *)mc->allowed_resources;
    wf_machine *m = NULL;
    wf_error err;
    if (wf_machine_load_file(&m, mc->definition_path, &lo, &err) != WF_OK) {
      char *all = wf_diagnostics_count(diags) ? wf_diagnostics_format(diags)
                                              : NULL;
      snprintf(msg, n, "stateMachines[%zu].definition: %s: %s", i,
               mc->definition_path, all ? all : err.message);
      wf_string_free(all);
      wf_diagnostics_free(diags);
      return -1;
    }
    gw_machine_rec *r = machine_rec(cfg, mc, m);
    if (!r || srv->g.store->ops->put_machine(srv->g.store, r) != WF_OK) {
      snprintf(msg, n, "stateMachines[%zu]: out of memory", i);
      return -1;
    }
    if (cfg->process.state_machine &&
        strcmp(cfg->process.state_machine, mc->name) == 0) {
      gw_machine_rec *found =
          srv->g.store->ops->find_machine(srv->g.store, mc->name);
      srv->process_arn = found ? strdup(found->arn) : NULL;
      if (found) srv->g.store->ops->release_machine(srv->g.store, found);
      srv->g.process_machine_arn = srv->process_arn;
    }
  }
  return 0;
}

int gw_server_init(gw_server *srv, gw_config *cfg, char *msg,
                   size_t msg_size) {
  memset(srv, 0, sizeof *srv);
  srv->g.cfg = cfg;
  srv->g.region = cfg->aws.region;
  srv->g.account = cfg->aws.account;
  srv->started_ms = gw_now_ms();
  if (cfg->log.path && !(srv->log = gw_log_open(cfg->log.path, cfg->log.level,
                                                cfg->log.access, msg,
                                                msg_size)))
    return -1;
  if (engine_new(srv, msg, msg_size) || load_plugins(srv, msg, msg_size) ||
      gw_static_handlers_register(srv, msg, msg_size))
    return -1;
  if (!(srv->g.store = gw_store_memory_new(cfg->store.retention))) {
    snprintf(msg, msg_size, "store: out of memory");
    return -1;
  }
  if (load_machines(srv, msg, msg_size) || gw_sfn_setup(srv, msg, msg_size))
    return -1;
  if (cfg->process.max_running &&
      !(srv->admission = gw_admission_new(srv->g.store,
                                          cfg->process.max_running))) {
    snprintf(msg, msg_size, "process.maxRunning: out of memory");
    return -1;
  }
  if (cfg->throttle.enabled &&
      !(srv->g.throttle = gw_throttle_new(cfg->throttle.rate,
                                          cfg->throttle.burst,
                                          cfg->throttle.max_clients))) {
    snprintf(msg, msg_size, "throttle: out of memory");
    return -1;
  }
  return 0;
}

void gw_server_drain(gw_server *srv, double deadline_ms) {
  gw_store *s = srv->g.store;
  while (s && gw_mono_ms() < deadline_ms &&
         s->ops->list_executions(s, NULL, WF_EXEC_RUNNING, 0, 0, NULL, NULL))
    usleep(10000);
}

void gw_server_fini(gw_server *srv) {
  /* The store's execution handles go before the engine: releasing a
   * handle may reach into the engine (to free the execution's name), and
   * an execution still running keeps running without its handle until
   * wf_engine_free() aborts it. The log goes last: the engine writes to
   * it until it is freed. */
  gw_admission_free(srv->admission); /* references into the store */
  if (srv->g.store) srv->g.store->ops->destroy(srv->g.store);
  wf_engine_free(srv->g.engine);
  gw_static_handlers_free(srv);
  gw_throttle_free(srv->g.throttle);
  free(srv->process_arn);
  gw_log_close(srv->log);
  memset(srv, 0, sizeof *srv);
}
