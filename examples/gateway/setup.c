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

/* Where executions are kept: the configured SQLite file or PostgreSQL
 * database, or memory. */
static int store_open(gw_server *srv, char *msg, size_t n) {
  const gw_config *cfg = srv->g.cfg;
  wf_store_options so = WF_STORE_OPTIONS_INIT;
  so.retention_count = cfg->store.retention;
  so.retention_ms = (int64_t)cfg->store.retention_days * 86400 * 1000;
  so.sync = cfg->store.sync;
  wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
  po.store = &so;
  po.password = cfg->store.password;
  po.shared = cfg->store.shared;
  po.lease_ms = cfg->store.lease_ms;
  wf_error err;
  int rc = cfg->store.sqlite
               ? wf_store_sqlite_open(&srv->wstore, cfg->store.sqlite, &so,
                                      &err)
           : cfg->store.postgresql
               ? wf_store_postgres_open(&srv->wstore, cfg->store.postgresql,
                                        &po, &err)
               : wf_store_memory_new(&srv->wstore, &so, &err);
  if (rc != WF_OK) {
    snprintf(msg, n, "store: %s", err.message);
    return -1;
  }
  return 0;
}

static int engine_new(gw_server *srv, char *msg, size_t n) {
  const gw_config *cfg = srv->g.cfg;
  wf_engine_options eo = WF_ENGINE_OPTIONS_INIT;
  eo.store = srv->wstore;
  eo.worker_threads = cfg->engine.worker_threads;
  eo.scheduler_threads = cfg->engine.scheduler_threads;
  eo.payload_limit = cfg->engine.payload_limit;
  eo.max_running = cfg->engine.max_running;
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

/* The HTTP Task, when the http section is there: the hosts (every
 * machine's, and those of machines that list their own) and the
 * connections. */
static int http_setup(gw_server *srv, char *msg, size_t n) {
  const gw_config *cfg = srv->g.cfg;
  if (!cfg->http.enabled) return 0;
  wf_http_connection *conns =
      calloc(cfg->http.nconnections + 1, sizeof *conns);
  wf_http_machine_hosts *per = calloc(cfg->nmachines + 1, sizeof *per);
  wf_http_options o = WF_HTTP_OPTIONS_INIT;
  int rc = WF_ENOMEM;
  wf_error err = {.message = "out of memory"};
  if (conns && per) {
    for (size_t i = 0; i < cfg->http.nconnections; i++) {
      const gw_http_connection_conf *c = &cfg->http.connections[i];
      conns[i] = (wf_http_connection){
          .arn = c->arn, .auth = c->auth, .api_key_name = c->api_key_name,
          .api_key_value_env = c->api_key_value_env,
          .username = c->username, .password_env = c->password_env,
          .token_endpoint = c->token_endpoint, .client_id = c->client_id,
          .client_secret_env = c->client_secret_env, .scope = c->scope};
    }
    for (size_t i = 0; i < cfg->nmachines; i++)
      if (cfg->machines[i].allowed_hosts)
        per[o.machine_hosts_count++] = (wf_http_machine_hosts){
            cfg->machines[i].name,
            (const char *const *)cfg->machines[i].allowed_hosts};
    o.allowed_hosts = (const char *const *)cfg->http.allowed_hosts;
    o.machine_hosts = per;
    o.connections = conns;
    o.connections_count = cfg->http.nconnections;
    o.connect_timeout_ms = cfg->http.connect_timeout_ms;
    o.request_timeout_ms = cfg->http.request_timeout_ms;
    rc = wf_engine_set_http(srv->g.engine, &o, &err);
  }
  free(conns);
  free(per);
  if (rc == WF_OK) return 0;
  snprintf(msg, n, "http: %s", err.message);
  return -1;
}

/* Distributed Map data, when objectStore is there. */
static int object_store_setup(gw_server *srv, char *msg, size_t n) {
  const gw_config *cfg = srv->g.cfg;
  if (!cfg->object_store_root) return 0;
  wf_object_store_options o = WF_OBJECT_STORE_OPTIONS_INIT;
  o.root = cfg->object_store_root;
  wf_error err;
  if (wf_engine_set_object_store(srv->g.engine, &o, &err) == WF_OK) return 0;
  snprintf(msg, n, "objectStore.root: %s", err.message);
  return -1;
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
 * have made it. Takes m. A machine the store kept from an earlier run
 * keeps its versions and its dates; a new definition becomes its current
 * revision. */
static gw_machine_rec *machine_rec(const gw_config *cfg,
                                   const gw_machine_conf *mc, wf_machine *m,
                                   const gw_machine_rec *kept) {
  gw_machine_rec *r = calloc(1, sizeof *r);
  char rev[37];
  gw_uuid(rev);
  if (!r) {
    wf_machine_free(m);
    return NULL;
  }
  bool same = kept && kept->current.definition &&
              strcmp(kept->current.definition, wf_machine_definition(m)) == 0;
  r->name = strdup(mc->name);
  r->arn = strf("arn:aws:states:%s:%s:stateMachine:%s", cfg->aws.region,
                cfg->aws.account, mc->name);
  r->role_arn = mc->role_arn
                    ? strdup(mc->role_arn)
                    : strf("arn:aws:iam::%s:role/wf-gateway", cfg->aws.account);
  r->type = mc->type;
  r->created_ms = kept ? kept->created_ms : gw_now_ms();
  r->updated_ms = same ? kept->updated_ms : gw_now_ms();
  r->current.arn = r->arn ? strdup(r->arn) : NULL;
  r->current.definition = strdup(wf_machine_definition(m));
  r->current.revision_id = strdup(same ? kept->current.revision_id : rev);
  r->current.created_ms = same ? kept->current.created_ms : r->updated_ms;
  r->current.machine = m;
  r->allowed_resources = copy_strings(mc->allowed_resources);
  if (kept && kept->nversions) {
    r->versions = calloc(kept->nversions, sizeof *r->versions);
    for (size_t i = 0; r->versions && i < kept->nversions; i++) {
      const gw_revision *v = &kept->versions[i];
      r->versions[i] = (gw_revision){v->version, strdup(v->arn),
                                     strdup(v->definition),
                                     v->description ? strdup(v->description)
                                                    : NULL,
                                     v->revision_id ? strdup(v->revision_id)
                                                    : NULL,
                                     v->created_ms, wf_machine_ref(v->machine)};
      r->nversions = i + 1;
    }
  }
  r->last_version = kept ? kept->last_version : 0;
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
    gw_store *s = srv->g.store;
    gw_machine_rec *kept = s->ops->find_machine(s, mc->name);
    gw_machine_rec *r = machine_rec(cfg, mc, m, kept);
    if (kept) s->ops->release_machine(s, kept);
    int prc = r ? s->ops->put_machine(s, r) : WF_ENOMEM;
    if (prc != WF_OK) {
      snprintf(msg, n, "stateMachines[%zu]: cannot be stored: %s", i,
               wf_error_str(prc));
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
  if (store_open(srv, msg, msg_size) || engine_new(srv, msg, msg_size) ||
      load_plugins(srv, msg, msg_size) || http_setup(srv, msg, msg_size) ||
      object_store_setup(srv, msg, msg_size) ||
      gw_static_handlers_register(srv, msg, msg_size))
    return -1;
  if (!(srv->g.store = gw_store_open(srv->wstore, cfg->aws.region,
                                     cfg->aws.account,
                                     cfg->process.state_machine, msg,
                                     msg_size)))
    return -1;
  if (load_machines(srv, msg, msg_size) || gw_sfn_setup(srv, msg, msg_size))
    return -1;
  /* Handlers, plugins and mocks are in place: what a crash or a stop left
   * running in the store goes on. */
  size_t resumed = 0;
  wf_error err;
  if (wf_engine_resume(srv->g.engine, &resumed, &err) != WF_OK) {
    snprintf(msg, msg_size, "store: resuming executions: %s", err.message);
    return -1;
  }
  if (resumed) {
    char members[64];
    snprintf(members, sizeof members, "\"executions\":%zu", resumed);
    gw_log_event(srv->log, WF_LOG_INFO, "ExecutionsResumed", members);
  }
  if (cfg->process.max_running &&
      !(srv->admission = gw_admission_new(cfg->process.max_running))) {
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

/* A volatile store loses what runs at exit: give it until the deadline
 * to end. A durable one keeps it, to resume at the next start. */
void gw_server_drain(gw_server *srv, double deadline_ms) {
  gw_store *s = srv->g.store;
  if (!s || wf_store_is_durable(srv->wstore)) return;
  while (gw_mono_ms() < deadline_ms && s->ops->count_running(s, NULL, 1))
    usleep(10000);
}

void gw_server_fini(gw_server *srv) {
  /* Execution handles go before the engine; the engine before the store
   * it writes to; the log last: the engine writes to it until it is
   * freed. */
  gw_admission_free(srv->admission);
  gw_sfn_nested_unregister(srv);
  if (srv->g.store) srv->g.store->ops->destroy(srv->g.store);
  wf_engine_free(srv->g.engine);
  wf_store_free(srv->wstore);
  gw_static_handlers_free(srv);
  gw_throttle_free(srv->g.throttle);
  free(srv->process_arn);
  gw_log_close(srv->log);
  memset(srv, 0, sizeof *srv);
}
