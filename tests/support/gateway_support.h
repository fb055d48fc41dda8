/* Helpers for the wf-gateway end-to-end tests: start the built gateway on
 * 127.0.0.1 with an ephemeral port and a configuration written into a
 * fresh directory, talk HTTP to it with libcurl (or raw bytes), read its
 * log, stop it. A started server is killed with its test process even
 * when the test crashes (PR_SET_PDEATHSIG). */
#ifndef GWT_GATEWAY_SUPPORT_H
#define GWT_GATEWAY_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define GWT_BINARY WF_BINARY_DIR "/examples/wf-gateway"
#define GWT_PLUGINS WF_BINARY_DIR "/plugins"
#define GWT_API_KEY "test-key-0123456789"

/* A configuration with three machines, "hello" (hello.json through the
 * hello plugin), "failing" (fail.json) and "waiting" (wait.json: a Wait
 * state of 1 s), engine.history `history`, the test API key and a log
 * file. Tests append the rest, a process section at least (several
 * machines: process.stateMachine is required); GWT_PROCESS_HELLO is the
 * plain one. GWT_BASE_CONFIG keeps the full history, the default. */
#define GWT_BASE_CONFIG GWT_BASE_WITH_HISTORY("full")
#define GWT_BASE_WITH_HISTORY(history) \
  GWT_BASE_WITH_ENGINE("history: \"" history "\"")
/* The same with the engine section's members given. */
#define GWT_BASE_WITH_ENGINE(members)                            \
  "engine: {" members "}\n"                                     \
  "pluginDir: @PLUGINS@\n"                                       \
  "plugins: [hello.so]\n"                                        \
  "stateMachines:\n"                                             \
  "  - {name: hello, definition: hello.json}\n"                  \
  "  - {name: failing, definition: fail.json}\n"                 \
  "  - {name: waiting, definition: wait.json}\n"                 \
  "log: {path: gateway.log}\n"                                   \
  "auth: {apiKeys: [{name: tests, key: " GWT_API_KEY "}]}\n"
#define GWT_PROCESS_HELLO "process: {stateMachine: hello}\n"

typedef struct gwt_server {
  pid_t pid;
  int port;
  char dir[64];  /* the configuration's directory (removed on stop) */
  char log[96];  /* @DIR@/gateway.log */
} gwt_server;

/* Write `config` to DIR/gateway.yaml, replacing @DIR@ with the directory,
 * @PLUGINS@ with the build's plugin directory and @SOURCE@ with the source
 * tree; DIR also holds hello.json (one Task calling the hello plugin),
 * fail.json (a Fail state: Boom/"it broke") and wait.json (a Wait state
 * of 1 s). Then start the gateway with
 * --port 0 and wait (10 s at most) for its "listening on" line. */
bool gwt_start(gwt_server *s, const char *config);
/* Send `sig` (SIGTERM when 0), wait up to 15 s (then SIGKILL) and remove
 * the directory. Returns the exit status, 128+signal when killed, -1 when
 * not started. Safe to call twice. */
int gwt_stop(gwt_server *s, int sig);
/* Stop the gateway with `sig` (as gwt_stop, *status its exit status) but
 * keep its directory, and start it again on the same configuration: a
 * restart, or a crash and a restart with SIGKILL. */
bool gwt_restart(gwt_server *s, int sig, int *status);
/* Run the gateway binary with arguments to completion (10 s at most);
 * its stderr goes into *err (free()). Returns the exit status. */
int gwt_run(const char *const *argv, char **err);

/* The server of the running test (each Criterion test is a process of
 * its own); gwt_finish() ends a test: SIGTERM, and the exit status must
 * be 0 (under ASan: no leak). gwt_fini, the suites' .fini, kills what a
 * failed test left running (Criterion ignores assertions in a .fini). */
extern gwt_server gwt_srv;
void gwt_finish(void);
void gwt_fini(void);

typedef struct gwt_response {
  long status; /* 0: no answer (connection failed or closed) */
  char *headers, *body;
  json_t *json; /* the body parsed, or NULL */
} gwt_response;

/* One request. `headers` is a NULL-terminated list of "Name: value" (or
 * NULL); body may be NULL. */
gwt_response gwt_request(const gwt_server *s, const char *method,
                         const char *path, const char *const *headers,
                         const char *body, size_t body_len);
/* POST /process with the test API key and a JSON body. */
gwt_response gwt_process(const gwt_server *s, const char *body);
/* A response header's value (case-insensitive name), malloc'd, or NULL. */
char *gwt_header(const gwt_response *r, const char *name);
void gwt_response_free(gwt_response *r);

/* Send raw bytes on a new connection and read until the server closes it
 * or 5 s pass. Returns what came back (malloc'd, NUL-terminated). */
char *gwt_raw(const gwt_server *s, const char *bytes, size_t n);

/* Poll GET /executions/{id} (with the test key) until it is no longer
 * RUNNING or 10 s pass; returns its JSON (json_decref) or NULL. */
json_t *gwt_wait_execution(const gwt_server *s, const char *id);
/* The log file's lines that contain `needle` (all when NULL), as an array
 * of parsed JSON objects; NULL when any line of the file is not a JSON
 * object. Waits up to 3 s for at least `min` such lines (the log is
 * flushed every 100 ms). */
json_t *gwt_log_lines(const gwt_server *s, const char *needle, size_t min);

#endif
