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
} gw_machine_rec;

typedef struct gw_exec_rec {
  char *arn, *name;
  char *machine_arn;   /* the machine's ARN */
  char *version_arn;   /* the version it started with, or NULL */
  char *correlation_id;
  char *input;
  wf_execution *exec;  /* the store holds a reference */
  int64_t start_ms;
} gw_exec_rec;

/* Free what a record holds (not the record itself); the revision is left
 * zeroed. Used by stores and by whoever builds a record it cannot put. */
void gw_revision_fini(gw_revision *r);
void gw_machine_rec_fini(gw_machine_rec *m);
void gw_exec_rec_fini(gw_exec_rec *x);

/* The store's operations. Every call is thread-safe; records returned are
 * copies or references the caller releases as documented per function.
 * The in-memory implementation keeps running executions and at most
 * `retention` finished ones (the oldest are forgotten first), so memory
 * stays flat under load.
 *
 * As store_memory.c implements them: put_* return WF_OK or a negative
 * WF_E* code and take the record (malloc'd, its strings malloc'd) even on
 * failure; put_machine replaces a machine of the same ARN (an update: put
 * a new record, never modify a found one); put_execution refuses a
 * duplicate ARN with WF_EEXIST. find_* return the stored record with a
 * reference, or NULL; records are immutable once put. list_* return how
 * many records match in all and call fn (under the store's lock: fn must
 * not call the store) for those from `start`, at most `max`: machines in
 * creation order, executions newest first; status_filter is a
 * wf_exec_status, or -1 for any. */
typedef struct gw_store_ops {
  void (*destroy)(gw_store *s);
  /* Machines */
  int (*put_machine)(gw_store *s, gw_machine_rec *rec); /* takes rec */
  gw_machine_rec *(*find_machine)(gw_store *s, const char *arn_or_name);
  void (*release_machine)(gw_store *s, gw_machine_rec *rec);
  int (*delete_machine)(gw_store *s, const char *arn);
  /* Visit machines in creation order from `start` (pagination). */
  size_t (*list_machines)(gw_store *s, size_t start, size_t max,
                          void (*fn)(const gw_machine_rec *, void *),
                          void *arg);
  /* Executions */
  int (*put_execution)(gw_store *s, gw_exec_rec *rec); /* takes rec */
  gw_exec_rec *(*find_execution)(gw_store *s, const char *arn_or_name);
  void (*release_execution)(gw_store *s, gw_exec_rec *rec);
  size_t (*list_executions)(gw_store *s, const char *machine_arn,
                            int status_filter, size_t start, size_t max,
                            void (*fn)(const gw_exec_rec *, void *),
                            void *arg);
} gw_store_ops;

struct gw_store {
  const gw_store_ops *ops;
};

gw_store *gw_store_memory_new(size_t retention);

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

/* AWS-shaped error: {"__type": type, "message": message} with status. */
void gw_sfn_error(gw_response *resp, int status, const char *type,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
