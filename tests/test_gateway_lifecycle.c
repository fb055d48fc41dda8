/* wf-gateway end to end: start-up (a bad configuration fails naming the
 * field; --check; the shipped example configuration) and graceful
 * shutdown on SIGTERM and SIGINT, finishing requests in flight. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway_support.h"
#include "support.h"

TestSuite(gateway_lifecycle, .fini = gwt_fini, .timeout = 60);

/* ---- configuration errors ---------------------------------------------- */

typedef struct bad_config {
  const char *yaml;  /* appended to a valid pluginDir/plugins prefix */
  const char *field; /* what the message must name */
} bad_config;

static const char PREFIX[] = "pluginDir: " GWT_PLUGINS "\n"
                             "plugins: [hello.so]\n";
#define MACHINE "stateMachines: [{name: hello, definition: @DEF@}]\n"

static const bad_config bad_configs[] = {
    {"listen: {port: 70000}\n" MACHINE, "listen.port"},
    {"listen: {address: example.com}\n" MACHINE, "listen.address"},
    {"listne: {}\n" MACHINE, "listne: unknown field"},
    {"listen: {maxConnectionsPerClient: -1}\n" MACHINE,
     "listen.maxConnectionsPerClient: must be an integer from 0 to 100000"},
    {"listen: {maxConnections: 10, maxConnectionsPerClient: 20}\n" MACHINE,
     "listen.maxConnectionsPerClient: must not exceed listen.maxConnections "
     "(10)"},
    {"listen: {requestTimeoutSeconds: 0}\n" MACHINE,
     "listen.requestTimeoutSeconds: must be an integer from 1 to 3600"},
    {"limits: {maxBodyBytes: 0}\n" MACHINE, "limits.maxBodyBytes"},
    {"throttle: {rate: fast}\n" MACHINE, "throttle.rate"},
    {"cors: {allowOrigins: ['http://a.com/path']}\n" MACHINE,
     "cors.allowOrigins[0]"},
    {"cors: {allowHeaders: ['X-A\\r\\nX-B']}\n" MACHINE, "cors.allowHeaders"},
    {"auth: {apiKeys: [{name: a, key: short}]}\n" MACHINE,
     "auth.apiKeys[0].key"},
    {"auth: {apiKeys: [{name: a, keyEnv: GWT_NOT_SET_ANYWHERE}]}\n" MACHINE,
     "auth.apiKeys[0].keyEnv"},
    {"aws: {account: '12'}\n" MACHINE, "aws.account"},
    {"engine: {history: some}\n" MACHINE, "engine.history"},
    {"log: {level: loud}\n" MACHINE, "log.level"},
    {"store: {sqlite: a.db, postgresql: 'dbname=x'}\n" MACHINE,
     "store.postgresql: give sqlite or postgresql, not both"},
    {"store: {sqlite: a.db, password: x}\n" MACHINE,
     "store.password: only a postgresql store takes a password"},
    {"store: {postgresql: 'dbname=x', passwordEnv: GWT_NOT_SET_ANYWHERE}\n"
     MACHINE, "store.passwordEnv: environment variable GWT_NOT_SET_ANYWHERE"},
    /* libpq's reason, and the password in no message. */
    {"store: {postgresql: 'host=/nonexistent-dir dbname=x', password: "
     "hunter2}\n" MACHINE,
     "cannot connect: connection to server on socket "
     "\"/nonexistent-dir/.s.PGSQL.5432\" failed"},
    {"store: memroy\n" MACHINE,
     "store: must be \"memory\" or an object with sqlite: PATH or "
     "postgresql: CONNINFO"},
    {"stateMachines: [{name: 'bad name', definition: x.json}]\n",
     "stateMachines[0].name"},
    {"stateMachines: [{name: a}]\n", "stateMachines[0].definition"},
    {MACHINE "process: {stateMachine: other}\n", "process.stateMachine"},
    {MACHINE "process: {rules: [{field: 'a..b'}]}\n",
     "process.rules[0].field"},
    {MACHINE "process: {rules: [{field: a, type: text}]}\n",
     "process.rules[0].type"},
    {MACHINE "process: {rules: [{field: a, pattern: '(unclosed'}]}\n",
     "process.rules[0].pattern"},
    {MACHINE "process: {rules: [{field: a, minLength: 5, maxLength: 2}]}\n",
     "process.rules[0].minLength"},
    {MACHINE "process: {rules: [{field: a, requried: true}]}\n",
     "process.rules[0].requried"},
    {"plugins: [../evil.so]\n" MACHINE, "plugins[0]"},
    {"handlers: [{result: 1}]\n" MACHINE, "handlers[0].resource: required"},
    {"handlers: [{resource: 'arn:aws:lambda:us-east-1:123456789012:function:"
     "Hello'}]\n" MACHINE,
     "handlers[0].resource"}, /* hello.so serves it already */
    {"stateMachines: [{name: hello, definition: /nonexistent.json}]\n",
     "stateMachines[0].definition"},
    {"listen: [1, 2]\n" MACHINE, "listen: must be a mapping"},
    {"objectStore: {root: /nonexistent-wf-buckets}\n" MACHINE,
     "objectStore.root: /nonexistent-wf-buckets is not a directory"},
    {"objectStore: {}\n" MACHINE, "objectStore.root: is required"},
    {"objectStore: {rot: x}\n" MACHINE, "objectStore.rot: unknown field"},
    {"{unclosed: \n" MACHINE, "line "},
};

#define NBAD (sizeof bad_configs / sizeof *bad_configs)

/* Indexes, not the structs: a test runs in a process of its own, where
 * only its own copy of the table has valid string pointers. */
ParameterizedTestParameters(gateway_lifecycle, bad_configuration_fails) {
  static int index[NBAD];
  for (size_t i = 0; i < NBAD; i++) index[i] = (int)i;
  return cr_make_param_array(int, index, NBAD);
}

ParameterizedTest(int *i, gateway_lifecycle, bad_configuration_fails) {
  const bad_config *c = &bad_configs[*i];
  char dir[] = "/tmp/wf-gateway-cfg-XXXXXX";
  cr_assert(mkdtemp(dir));
  char *def = wft_strf("%s/def.json", dir);
  FILE *f = fopen(def, "w");
  fputs("{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
        "\"End\":true}}}",
        f);
  fclose(f);
  /* Every case but the plugin's own loads hello.so: strip the prefix's
   * plugins line when the case lists plugins itself. */
  bool own_plugins = strstr(c->yaml, "plugins:") != NULL;
  char *body = wft_strf("%s%s", own_plugins ? "pluginDir: " GWT_PLUGINS "\n"
                                            : PREFIX, c->yaml);
  char *at = strstr(body, "@DEF@");
  char *text = at ? wft_strf("%.*s%s%s", (int)(at - body), body, def, at + 5)
                  : strdup(body);
  char *cfg = wft_strf("%s/gateway.yaml", dir);
  f = fopen(cfg, "w");
  fputs(text, f);
  fclose(f);
  const char *argv[] = {GWT_BINARY, "--config", cfg, "--check", NULL};
  char *err = NULL;
  int status = gwt_run(argv, &err);
  cr_assert_eq(status, 2, "exit status for %s: %d (%s)", c->field, status,
               err);
  cr_assert(err && strstr(err, c->field), "'%s' not in: %s", c->field, err);
  cr_assert_null(strstr(err, "hunter2"), "a password in: %s", err);
  free(err);
  unlink(cfg);
  unlink(def);
  rmdir(dir);
  free(cfg);
  free(def);
  free(text);
  free(body);
}

Test(gateway_lifecycle, check_accepts_the_shipped_example) {
  const char *argv[] = {GWT_BINARY, "--config",
                        WF_SOURCE_DIR "/examples/gateway/gateway.yaml",
                        "--plugin-dir", GWT_PLUGINS, "--check", NULL};
  char *err = NULL;
  int status = gwt_run(argv, &err);
  cr_assert_eq(status, 0, "%s", err);
  free(err);
}

Test(gateway_lifecycle, usage_errors_exit_2) {
  const char *none[] = {GWT_BINARY, NULL};
  const char *port[] = {GWT_BINARY, "--config", "x.yaml", "--port", "99999",
                        NULL};
  const char *missing[] = {GWT_BINARY, "--config", "/nonexistent.yaml", NULL};
  cr_assert_eq(gwt_run(none, NULL), 2);
  cr_assert_eq(gwt_run(port, NULL), 2);
  char *err = NULL;
  cr_assert_eq(gwt_run(missing, &err), 2);
  cr_assert(err && strstr(err, "/nonexistent.yaml: cannot open"), "%s", err);
  free(err);
}

/* ---- shutdown ------------------------------------------------------------ */

static void start(void) {
  char *cfg = wft_strf("%s%s", GWT_BASE_CONFIG, GWT_PROCESS_HELLO);
  cr_assert(gwt_start(&gwt_srv, cfg), "the gateway did not start");
  free(cfg);
}

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void read_all(int fd, char *buf, size_t cap) {
  size_t n = 0;
  while (n < cap - 1) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
    if (r <= 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
}

static void in_flight_request_finishes(int sig) {
  start();
  int fd = connect_to(gwt_srv.port);
  cr_assert(fd >= 0);
  /* Headers and half the body: the request is in flight. */
  const char head[] = "POST /process HTTP/1.1\r\nHost: x\r\n"
                      "Content-Type: application/json\r\n"
                      "x-api-key: " GWT_API_KEY "\r\n"
                      "Content-Length: 15\r\n\r\n{\"half\":";
  cr_assert_eq(send(fd, head, sizeof head - 1, 0), (ssize_t)sizeof head - 1);
  usleep(200 * 1000);
  kill(gwt_srv.pid, sig);
  usleep(200 * 1000);
  /* New connections are refused once shutdown has begun. */
  int late = connect_to(gwt_srv.port);
  cr_assert_eq(late, -1, "the listening socket is closed");
  const char rest[] = "\"done\"}";
  cr_assert_eq(send(fd, rest, sizeof rest - 1, 0), (ssize_t)sizeof rest - 1);
  char buf[2048];
  read_all(fd, buf, sizeof buf);
  close(fd);
  cr_assert(strstr(buf, "HTTP/1.1 202"), "the request finished: %s", buf);
  cr_assert(strstr(buf, "\"executionArn\""), "%s", buf);
  int status = gwt_stop(&gwt_srv, sig);
  cr_assert_eq(status, 0, "clean exit after the signal: %d", status);
}

Test(gateway_lifecycle, sigterm_finishes_in_flight_requests) {
  in_flight_request_finishes(SIGTERM);
}

Test(gateway_lifecycle, sigint_finishes_in_flight_requests) {
  in_flight_request_finishes(SIGINT);
}

Test(gateway_lifecycle, shutdown_is_logged) {
  start();
  gwt_response r = gwt_process(&gwt_srv, "{}");
  cr_assert_eq(r.status, 202);
  gwt_response_free(&r);
  /* Signal only: the directory (and the log) stay until gwt_stop. */
  kill(gwt_srv.pid, SIGTERM);
  json_t *lines = gwt_log_lines(&gwt_srv, "ShutdownComplete", 1);
  cr_assert(lines && json_array_size(lines) == 1, "ShutdownComplete logged");
  json_decref(lines);
  cr_assert_eq(gwt_stop(&gwt_srv, SIGTERM), 0);
}
