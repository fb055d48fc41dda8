/* wf-gateway's configuration: one YAML or JSON file, read once at start
 * into a gw_config that is immutable afterwards (every thread reads it
 * without a lock). Both sides of the gateway read it: the server core
 * (listen, limits, process, throttle, cors, auth, log) and the AWS API
 * side (aws.accessKeys for SigV4, store, stateMachines). */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "workflow/workflow.h"

typedef struct gw_rules gw_rules; /* rules.h: compiled validation rules */

/* An API key accepted in x-api-key. `name` identifies it in logs and
 * throttling; the key itself is never logged. */
typedef struct gw_api_key {
  char *name;
  char *key;
} gw_api_key;

/* A SigV4 credential for the AWS Step Functions API. */
typedef struct gw_access_key {
  char *id;
  char *secret;
} gw_access_key;

/* A plugin to load: an absolute path inside plugin_dir, and its
 * configuration as JSON object text ("{}" when none). */
typedef struct gw_plugin_conf {
  char *path;
  char *config_json;
} gw_plugin_conf;

/* A built-in handler: the Task resource it serves and the result it
 * answers with at once (JSON text). */
typedef struct gw_handler_conf {
  char *resource;
  char *result_json;
} gw_handler_conf;

/* A state machine loaded at start. */
typedef struct gw_machine_conf {
  char *name;
  char *definition_path;    /* absolute */
  wf_machine_type type;
  char *role_arn;
  char **allowed_resources; /* NULL-terminated, or NULL for any */
  /* The hosts its HTTP Tasks may call (within http.allowedHosts);
   * NULL-terminated, or NULL: those of the http section. */
  char **allowed_hosts;
} gw_machine_conf;

/* A connection of the http section: what wf_http_connection takes, the
 * strings owned (NULL when absent). Secrets are named environment
 * variables, never values. */
typedef struct gw_http_connection_conf {
  wf_http_auth auth;
  char *arn, *api_key_name, *api_key_value_env, *username, *password_env;
  char *token_endpoint, *client_id, *client_secret_env, *scope;
} gw_http_connection_conf;

typedef struct gw_config {
  char *path; /* the file read, as given */

  struct {
    char *address;              /* IPv4 or IPv6 literal; "127.0.0.1" */
    int port;                   /* 0: ephemeral */
    unsigned threads;           /* HTTP threads; 0: one per CPU */
    unsigned max_connections;
    /* Connections one client address may hold; 0: no bound. Behind a
     * proxy every client has the proxy's address. */
    unsigned max_connections_per_client;
    unsigned connection_timeout_s; /* idle: every byte restarts it */
    unsigned request_timeout_s; /* a request's arrival, however it trickles */
    unsigned shutdown_timeout_s; /* in-flight requests and executions */
  } listen;

  struct {
    size_t max_body_bytes;  /* every route; 413 above it (AWS's shape on
                             * the AWS API) */
    unsigned max_depth;     /* JSON nesting of request bodies */
    unsigned max_headers;   /* header count per request */
  } limits;

  struct {
    char *region, *account;
    gw_access_key *access_keys;
    size_t naccess_keys;
    /* signatureVersion4: false turns SigV4 off although keys are listed
     * (it is on whenever there are keys). */
    bool sigv4_off;
    char *mock_config_file;   /* absolute; NULL: none */
    /* Task resources answered only by SendTaskSuccess/Failure (the
     * callback pattern); an entry ending in '*' is a prefix. */
    char **callback_resources; /* NULL-terminated, or NULL */
  } aws;

  struct {
    wf_history_mode history;
    unsigned worker_threads, scheduler_threads; /* 0: engine defaults */
    size_t payload_limit;                       /* 0: 256 KiB */
    size_t max_running; /* running executions, every way in; 0: no bound */
  } engine;

  char *plugin_dir; /* absolute; NULL when no plugin is configured */
  gw_plugin_conf *plugins;
  size_t nplugins;

  gw_handler_conf *handlers;
  size_t nhandlers;

  gw_machine_conf *machines;
  size_t nmachines;

  /* The HTTP Task (config_http.c). */
  struct {
    bool enabled;         /* the section is there: http:invoke is served */
    char **allowed_hosts; /* NULL-terminated, or NULL for any */
    unsigned connect_timeout_ms, request_timeout_ms; /* 0: defaults */
    gw_http_connection_conf *connections;
    size_t nconnections;
  } http;

  /* Distributed Map data (config_object_store.c): the directory of the
   * buckets, or NULL (no object store). */
  char *object_store_root;

  struct {
    char *state_machine;      /* a name from machines */
    gw_rules *rules;          /* NULL: any JSON object */
    size_t max_string_length; /* sanitizer: longer strings are cut */
    size_t max_running;       /* executions running at once; 0: no bound */
    unsigned max_wait_ms;     /* waiting for one to finish, then 503 */
  } process;

  struct {
    bool enabled;
    double rate;        /* tokens per second per client */
    double burst;       /* bucket size */
    size_t max_clients; /* buckets kept; idle ones are dropped first */
  } throttle;

  struct {
    char **origins; /* exact origins, or "*"; NULL-terminated */
    size_t norigins;
    char *allow_headers, *expose_headers; /* comma-separated */
    unsigned max_age_s;
    bool allow_credentials;
  } cors;

  struct {
    gw_api_key *api_keys; /* empty: /process is open */
    size_t napi_keys;
  } auth;

  struct {
    char *sqlite;           /* a SQLite file (durable); NULL: memory */
    char *postgresql;       /* or a PostgreSQL connection string or URI
                               (durable) */
    char *password;         /* PostgreSQL's, from password or passwordEnv;
                               NULL: libpq's own (PGPASSWORD, ~/.pgpass) */
    bool shared;            /* PostgreSQL: executions shared with other
                               gateways on the database (leases) */
    unsigned lease_ms;      /* their lease; 0: the store's default */
    size_t retention;       /* ended executions kept; 0: no count limit */
    unsigned retention_days; /* ended executions kept this long */
    wf_store_sync sync;     /* full (default) or normal */
  } store;

  struct {
    char *path;        /* "-": stderr; NULL: no log */
    wf_log_level level;
    bool access;       /* request/response lines */
  } log;
} gw_config;

/* Read and check a configuration file (YAML when the name ends in .yaml or
 * .yml, JSON otherwise). Relative paths in it are resolved against the
 * file's directory. On failure returns NULL and writes a message naming
 * the field ("stateMachines[0].definition: ...") into msg. */
gw_config *gw_config_load(const char *path, char *msg, size_t msg_size);
void gw_config_free(gw_config *cfg);
/* Point pluginDir (and every plugin) at another directory, as the command
 * line's --plugin-dir does: the same file then serves any build tree.
 * Returns -1 without memory. */
int gw_config_set_plugin_dir(gw_config *cfg, const char *dir);

#endif
