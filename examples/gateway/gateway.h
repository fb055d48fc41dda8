/* wf-gateway: an HTTP front door on libworkflow — the seed's POST /process
 * trigger plus enough of the AWS Step Functions JSON API for the AWS CLI
 * and SDKs. This header is the contract between the gateway's modules:
 * the server core (http, config, process, throttling, CORS) and the AWS
 * API side (sfn_*, sigv4, store). */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workflow/json.h"
#include "workflow/workflow.h"

/* ---- requests and responses ---- */

typedef struct gw_header {
  const char *name;  /* as received (compare case-insensitively) */
  const char *value;
} gw_header;

/* One HTTP request, as the core hands it to a route. Borrowed. */
typedef struct gw_request {
  const char *method;          /* "GET", "POST", ... */
  const char *path;            /* without the query string */
  const char *query;           /* after '?', or "" */
  const gw_header *headers;
  size_t nheaders;
  const char *body;            /* NUL-terminated; "" when none */
  size_t body_len;
  const char *client;          /* the peer address, e.g. "127.0.0.1" */
  const char *correlation_id;  /* X-Correlation-Id or one generated */
} gw_request;

/* A response the route fills; the core sends and logs it. */
typedef struct gw_response {
  int status;
  char *body;            /* malloc'd JSON text, or NULL */
  const char *content_type; /* default "application/json" */
  gw_header extra[8];    /* additional headers (values malloc'd) */
  size_t nextra;
  /* A route that answers later (StartSyncExecution waits for its
   * execution) sets `later`: the core then runs later(later_arg, resp) on
   * a thread of its own, which may block, without holding an HTTP thread,
   * and sends what it leaves in resp. `later` owns later_arg and frees it.
   * Headers added before stay. */
  void (*later)(void *later_arg, struct gw_response *resp);
  void *later_arg;
} gw_response;

/* Case-insensitive header lookup; NULL when absent. */
const char *gw_request_header(const gw_request *req, const char *name);
/* Set the response to `status` with a body built from `obj` (stolen). */
void gw_respond_json(gw_response *resp, int status, json_t *obj);
/* Add a header to the response (value copied). */
void gw_respond_header(gw_response *resp, const char *name,
                       const char *value);

/* ---- the store: state machines, versions and executions ---- */

typedef struct gw_store gw_store;

/* A published version of a state machine, or its current revision. */
typedef struct gw_revision {
  int version;          /* 0 for the current (unpublished) revision */
  char *arn;            /* machine ARN, or "<machine ARN>:<version>" */
  char *definition;     /* JSON text as given */
  char *description;
  char *revision_id;
  int64_t created_ms;
  wf_machine *machine;  /* compiled; the store holds a reference */
} gw_revision;

/* An alias: one or two versions (by number) with weights summing to 100. */
typedef struct gw_alias {
  char *name, *arn, *description;
  int versions[2], weights[2];
  size_t nroutes;
  int64_t created_ms, updated_ms;
} gw_alias;

typedef struct gw_machine_rec {
  char *name, *arn, *role_arn;
  wf_machine_type type;
  int64_t created_ms, updated_ms;
  gw_revision current;
  gw_revision *versions; /* published, in version order */
  size_t nversions;
  char **allowed_resources; /* NULL-terminated, or NULL for any */
  bool deleting;
  int last_version; /* highest version ever published: never reused */
  /* JSON text as the API returns it, or NULL: tags ([{key, value}], in
   * the order first set), loggingConfiguration, tracingConfiguration. */
  char *tags, *logging, *tracing;
  gw_alias *aliases; /* in creation order */
  size_t naliases;
} gw_machine_rec;

/* An execution as the engine's store records it (a copy). */
typedef struct gw_exec_rec {
  char *arn, *name;
  char *machine_arn;   /* the machine's ARN */
  char *version_arn;   /* the version it started with, or NULL */
  char *alias_arn;     /* the alias it was started through, or NULL */
  char *role_arn;
  char *definition_id; /* what it runs: get_definition() */
  char *correlation_id;
  char *input;         /* as given */
  char *output;        /* SUCCEEDED: JSON text; else NULL */
  char *error, *cause; /* NULL when none */
  wf_exec_status status;
  int64_t start_ms, stop_ms;
  int64_t seq;         /* the store's order: a listing's cursor */
  /* Its redrives (wf_engine_redrive_status()): how many, the last one's
   * time (0: none), and why it may not be redriven now (a static string;
   * NULL: it may). */
  int64_t redrive_count, redrive_ms;
  const char *redrive_reason;
} gw_exec_rec;

/* Free what a record holds (not the record itself); the revision is left
 * zeroed. Used by stores and by whoever builds a record it cannot put. */
void gw_revision_fini(gw_revision *r);
void gw_alias_fini(gw_alias *a);
void gw_machine_rec_fini(gw_machine_rec *m);
void gw_exec_rec_fini(gw_exec_rec *x);

/* The store's operations. Every call is thread-safe.
 *
 * Machines (and their versions) are the gateway's own: kept in memory and
 * written through to the engine's store as documents, so those created
 * through the API survive a restart. put_machine takes the record (malloc'd,
 * its strings malloc'd) even on failure and replaces a machine of the same
 * ARN (an update: put a new record, never modify a found one);
 * find_machine returns the stored record with a reference, or NULL;
 * records are immutable once put. list_machines returns how many there are
 * and calls fn (under the store's lock: fn must not call the store) for
 * those from `start`, at most `max`, in creation order.
 *
 * Executions are the engine's: what its store has committed. find_execution
 * (an ARN, or the name of an execution of the /process machine) returns a
 * copy, freed with release_execution. list_executions calls fn for the
 * executions of a machine (machine_arn; NULL: all), of one version
 * (version_arn, a version or alias ARN: those started with it; NULL:
 * any), of a status (status_filter: a wf_exec_status
 * or -1), newest first, from before `before_seq` (0: the newest), at most
 * `max`; returns how many it passed to fn. count_running counts running
 * executions of a machine (NULL: all), up to `cap`. get_definition returns
 * the definition text an execution runs (malloc'd), or NULL.
 *
 * An execution started through an alias is listed under the alias ARN;
 * note_alias_version records the version the alias chose for it (kept
 * the first time only), and its records then carry both. */
typedef struct gw_store_ops {
  void (*destroy)(gw_store *s);
  /* Machines */
  int (*put_machine)(gw_store *s, gw_machine_rec *rec); /* takes rec */
  gw_machine_rec *(*find_machine)(gw_store *s, const char *arn_or_name);
  void (*release_machine)(gw_store *s, gw_machine_rec *rec);
  int (*delete_machine)(gw_store *s, const char *arn);
  size_t (*list_machines)(gw_store *s, size_t start, size_t max,
                          void (*fn)(const gw_machine_rec *, void *),
                          void *arg);
  /* Executions */
  gw_exec_rec *(*find_execution)(gw_store *s, const char *arn_or_name);
  void (*release_execution)(gw_store *s, gw_exec_rec *rec);
  size_t (*list_executions)(gw_store *s, const char *machine_arn,
                            const char *version_arn, int status_filter,
                            int64_t before_seq, size_t max,
                            void (*fn)(const gw_exec_rec *, void *),
                            void *arg);
  size_t (*count_running)(gw_store *s, const char *machine_arn, size_t cap);
  char *(*get_definition)(gw_store *s, const char *definition_id);
  int (*note_alias_version)(gw_store *s, const char *execution_arn,
                            const char *version_arn);
} gw_store_ops;

struct gw_store {
  const gw_store_ops *ops;
};

/* The gateway's store over the engine's (borrowed: it must outlive this
 * one): loads the machines kept there. NULL with msg set on failure. */
gw_store *gw_store_open(wf_store *engine_store, const char *region,
                        const char *account, const char *process_machine,
                        char *msg, size_t msg_size);

/* ---- the gateway ---- */

typedef struct gw_config gw_config; /* config.h */
typedef struct gw_throttle gw_throttle;

typedef struct gateway {
  gw_config *cfg;
  wf_engine *engine;
  gw_store *store;
  gw_throttle *throttle;
  const char *region, *account;
  /* The machine POST /process starts (from the configuration). */
  const char *process_machine_arn;
} gateway;

/* Routes. Each fills `resp`; never a 500 for bad input. */
void gw_route_process(gateway *g, const gw_request *req, gw_response *resp);
void gw_route_executions(gateway *g, const gw_request *req,
                         gw_response *resp);
void gw_route_health(gateway *g, const gw_request *req, gw_response *resp);
/* POST / with X-Amz-Target: AWSStepFunctions.<Operation>. */
void gw_route_sfn(gateway *g, const gw_request *req, gw_response *resp);
/* /console and below: the web console (console/), GET and POST. */
void gw_route_console(gateway *g, const gw_request *req, gw_response *resp);

/* AWS-shaped error: {"__type": type, "message": message} with status. */
void gw_sfn_error(gw_response *resp, int status, const char *type,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
