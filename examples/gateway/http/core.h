/* The server core's private declarations: the server object around the
 * contract's `gateway`, and the helpers the core's files share (HTTP,
 * routing, logging, auth, CORS, throttling, bodies, ids and times). The
 * AWS API side may use the helpers marked "shared". */
#ifndef GW_CORE_H
#define GW_CORE_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "gateway.h"

typedef struct gw_log gw_log;
typedef struct gw_admission gw_admission;
typedef struct gw_deadlines gw_deadlines;
struct MHD_Daemon;

/* The running server. `g` comes first: routes receive &srv->g and the core
 * gets back to the server with gw_server_of(). */
typedef struct gw_server {
  gateway g;
  gw_log *log;
  struct MHD_Daemon *daemon;
  gw_deadlines *deadlines;  /* while listening */
  int quiesced_fd;          /* listen socket after quiesce, -1: none */
  int port;                 /* bound port, once listening */
  atomic_int inflight;      /* requests being read, handled or sent */
  atomic_int later;         /* threads answering gw_response.later */
  atomic_bool draining;     /* shutting down: /health answers 503 */
  /* libmicrohttpd's messages logged in the current second, and those
   * left out since the last one logged (http.c). */
  atomic_llong mhd_log_second;
  atomic_uint mhd_log_lines;
  atomic_ulong mhd_log_dropped;
  int64_t started_ms;
  char *process_arn;        /* owns g.process_machine_arn */
  gw_admission *admission;  /* NULL: process.maxRunning is 0 (no bound) */
  wf_store *wstore;         /* where the engine keeps executions */
  json_t **static_results;  /* the built-in handlers' answers */
  size_t nstatic;
} gw_server;

static inline gw_server *gw_server_of(gateway *g) { return (gw_server *)g; }

/* ---- setup.c: engine, plugins, state machines, store ------------------- */
/* Build everything the configuration describes; msg explains a failure. */
int gw_server_init(gw_server *srv, gw_config *cfg, char *msg,
                   size_t msg_size);
/* Wait until no execution runs or `deadline_ms` (gw_mono_ms()) passes. */
void gw_server_drain(gw_server *srv, double deadline_ms);
void gw_server_fini(gw_server *srv);

/* ---- sfn_setup.c: the AWS API's part of start-up --------------------- */
/* Install aws.mockConfigFile in the engine, register the handlers of
 * aws.callbackResources and serve nested executions (states:startExecution
 * on the gateway's machines); msg names the field on failure. */
int gw_sfn_setup(gw_server *srv, char *msg, size_t msg_size);
/* The engine stops finding machines here: before the gateway's store
 * goes (sfn_nested.c). */
void gw_sfn_nested_unregister(gw_server *srv);

/* ---- static_handlers.c: the configuration's built-in handlers -------- */
int gw_static_handlers_register(gw_server *srv, char *msg, size_t msg_size);
/* After wf_engine_free(): the engine may call the handlers until then. */
void gw_static_handlers_free(gw_server *srv);

/* ---- http.c: libmicrohttpd ------------------------------------------- */
int gw_http_start(gw_server *srv, char *msg, size_t msg_size);
/* Stop accepting connections; requests in flight go on. */
void gw_http_quiesce(gw_server *srv);
/* Wait for requests in flight until `deadline_ms`, then close all. */
void gw_http_stop(gw_server *srv, double deadline_ms);

/* ---- deadline.c: how long a request may take to arrive --------------- */
/* A clock per connection: from its accept, and then from the completion
 * of each request, its next request must arrive whole (line, headers,
 * body) within the limit, or the connection is cut (a 408 once its
 * request line is in, then closed). Threads: any; http.c calls each
 * function from MHD's callbacks for that connection. All accept NULL. */
typedef struct gw_conn_clock gw_conn_clock;
/* Start the thread enforcing the deadlines; NULL on failure. */
gw_deadlines *gw_deadlines_new(gw_log *log, unsigned timeout_s);
/* Stop it (after MHD_stop_daemon: no connection is left). */
void gw_deadlines_free(gw_deadlines *d);
/* A connection accepted (socket fd, peer address): its clock starts. */
gw_conn_clock *gw_deadline_open(gw_deadlines *d, int fd, const char *client);
/* Before its socket is closed; k is freed. */
void gw_deadline_close(gw_deadlines *d, gw_conn_clock *k);
/* The request line is in: a later request's clock starts again here. */
void gw_deadline_request_line(gw_deadlines *d, gw_conn_clock *k);
/* The headers are in; expects_continue: MHD may send "100 Continue". */
void gw_deadline_headers(gw_deadlines *d, gw_conn_clock *k,
                         bool expects_continue);
/* The request is all in (or refused): the clock stops. */
void gw_deadline_arrived(gw_deadlines *d, gw_conn_clock *k);
/* The request is completed: the clock runs for the next one. */
void gw_deadline_completed(gw_deadlines *d, gw_conn_clock *k);

/* ---- framing.c: how the body is delimited ---------------------------- */
/* A refusal of a request whose framing two readers could take differently
 * (status 0: sound). */
typedef struct gw_framing {
  int status; /* 400, or 501 for a Transfer-Encoding other than chunked */
  const char *code;
  char message[96];
} gw_framing;
/* Check the headers: names must be HTTP tokens; Content-Length digits, and
 * the same if repeated; no Transfer-Encoding but chunked, never beside a
 * Content-Length. */
void gw_framing_check(const gw_header *h, size_t n, gw_framing *f);

/* ---- dispatch.c: routing, auth, throttling, CORS around routes ------- */
void gw_dispatch(gw_server *srv, const gw_request *req, gw_response *resp);
/* 413 for a body over limits.maxBodyBytes, in the error shape of the
 * route it was sent to: AWS's for the AWS API (POST /), so that SDKs and
 * the AWS CLI read it, the gateway's elsewhere. */
void gw_dispatch_too_large(gw_server *srv, const gw_request *req,
                           gw_response *resp);

/* ---- response.c (shared) --------------------------------------------- */
/* {"error": code, "message": ..., "correlationId": ...} with `status`;
 * req may be NULL. The message is formatted from trusted text only. */
void gw_respond_error(gw_response *resp, const gw_request *req, int status,
                      const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Free the body and extra header values; the response can be reused. */
void gw_response_clear(gw_response *resp);
/* `json` (an object's text, malloc'd) with `"key":raw` appended inside
 * its braces: splices JSON text the library printed (AWS's number forms)
 * without re-encoding it. Consumes json; NULL without memory. */
char *gw_json_splice(char *json, const char *key, const char *raw);

/* ---- json_body.c (shared) -------------------------------------------- */
/* Parse a request body as JSON after checking its nesting depth (jansson's
 * parser recurses, and a deep body must cost nothing). Invalid UTF-8, NUL
 * characters, duplicate keys and trailing text are refused. On failure
 * returns NULL with a 400 in resp. */
json_t *gw_body_parse(const gw_request *req, unsigned max_depth,
                      gw_response *resp);
/* True when the Content-Type is application/json (any case, optional
 * charset=utf-8). */
bool gw_content_type_json(const char *content_type);

/* ---- sanitize.c (shared) --------------------------------------------- */
/* Remove control characters (all but tab, line feed and carriage return)
 * from every string of v, keys included, and cut strings to max_chars
 * characters. Returns -1 without memory or when two keys of an object
 * become equal. */
int gw_sanitize_json(json_t *v, size_t max_chars);
/* A printable, valid UTF-8 copy of untrusted bytes for logs and messages:
 * invalid sequences become U+FFFD, control characters '?', at most
 * max_bytes kept. malloc'd; NULL without memory. */
char *gw_text_clean(const char *s, size_t n, size_t max_bytes);

/* ---- log_http.c ------------------------------------------------------ */
gw_log *gw_log_open(const char *path, wf_log_level level, bool access,
                    char *msg, size_t msg_size);
void gw_log_close(gw_log *log);
/* The engine's sink: its lines join the gateway's. */
void gw_log_engine(const char *json_line, void *payload);
void gw_log_request(gw_log *log, const gw_request *req);
void gw_log_response(gw_log *log, const gw_request *req,
                     const gw_response *resp, double duration_ms);
/* A server event ("Listening", "ShutdownStarted") with extra members
 * given as JSON object text without braces ("\"port\":8080"), or NULL.
 * (shared) */
void gw_log_event(gw_log *log, wf_log_level level, const char *event,
                  const char *members);

/* ---- auth.c ---------------------------------------------------------- */
typedef enum gw_auth {
  GW_AUTH_OPEN,    /* no keys configured */
  GW_AUTH_OK,
  GW_AUTH_MISSING, /* 401 */
  GW_AUTH_INVALID  /* 403 */
} gw_auth;
/* Check x-api-key in constant time; *who is the matching key's entry. */
gw_auth gw_auth_check(const gw_config *cfg, const gw_request *req,
                      const gw_api_key **who);

/* ---- cors.c ---------------------------------------------------------- */
/* Answer an OPTIONS preflight for a path allowing `methods`. */
void gw_cors_preflight(const gw_config *cfg, const gw_request *req,
                       const char *methods, gw_response *resp);
/* Add Access-Control-* headers when the request's Origin is allowed. */
void gw_cors_decorate(const gw_config *cfg, const gw_request *req,
                      gw_response *resp);

/* ---- throttle.c ------------------------------------------------------ */
gw_throttle *gw_throttle_new(double rate, double burst, size_t max_clients);
void gw_throttle_free(gw_throttle *t);
/* Take one token from `key`'s bucket. False when empty: *retry_after_s is
 * then the whole seconds until a token is there. Threads: any. */
bool gw_throttle_take(gw_throttle *t, const char *key,
                      unsigned *retry_after_s);

/* ---- admission.c: the bound on executions POST /process runs ------- */
gw_admission *gw_admission_new(size_t max_running);
void gw_admission_free(gw_admission *a);
/* True when a new execution may start, after waiting up to max_wait_ms
 * for running ones to finish; false: still at the bound. NULL: true. */
bool gw_admission_enter(gw_admission *a, double max_wait_ms);
/* Count an execution just started until it finishes; takes the handle
 * (freed here when `a` is NULL). */
void gw_admission_track(gw_admission *a, wf_execution *x);

/* ---- ids.c (shared) -------------------------------------------------- */
/* A random (version 4) UUID, lower case, NUL-terminated. */
void gw_uuid(char out[37]);
/* A name for an execution the client did not name: a version 7 UUID
 * (time-ordered, random otherwise). */
void gw_execution_name(char out[37]);
/* Correlation ids accepted from clients: 1-128 of letters, digits and
 * . _ : - (they reach logs, headers and execution contexts). */
bool gw_correlation_id_ok(const char *s);
/* ISO-8601 UTC with milliseconds: 2024-01-01T00:00:00.000Z. */
void gw_iso8601(char out[32], int64_t ms);
int64_t gw_now_ms(void);
/* Monotonic milliseconds, for durations and deadlines. */
double gw_mono_ms(void);

#endif
