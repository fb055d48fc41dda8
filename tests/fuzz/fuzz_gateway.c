/* wf-gateway's request handling in-process, below the HTTP server: POST
 * /process, /executions, /health and every AWS Step Functions operation,
 * with any method, path, headers and body. An input is "METHOD PATH\n",
 * header lines, an empty line, then the body. Properties: never a 5xx but
 * 503 (admission, shutting down), and a JSON body that is JSON. The
 * gateway's state (machines created, executions) is started afresh every
 * 10,000 inputs. StartSyncExecution is left out: it waits for its
 * execution, which may Wait for a year. GetActivityTask's long poll is
 * answered as when the gateway stops (at once, {}): a poll would otherwise
 * wait 60 s for a task nobody queues. */
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "fuzz_support.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/wf-fuzz-gateway-XXXXXX";
static char config_path[64];
static gw_config *cfg;
static gw_server srv;
static unsigned long inputs;

static const char CONFIG[] =
    "handlers:\n"
    "  - resource: arn:aws:lambda:us-east-1:123456789012:function:Hello\n"
    "    result: {message: hi}\n"
    "stateMachines: [{name: hello, definition: hello.json}]\n"
    "process:\n"
    "  stateMachine: hello\n"
    "  maxWaitMs: 0\n"
    "  rules: [{field: data, required: true, type: object}]\n"
    "engine: {maxRunning: 200}\n"
    "throttle: {enabled: false}\n"
    "auth: {apiKeys: [{name: fuzz, key: fuzz-key-0123456789}]}\n";

static const char HELLO[] =
    "{\"StartAt\":\"H\",\"States\":{\"H\":{\"Type\":\"Task\",\"Resource\":"
    "\"arn:aws:lambda:us-east-1:123456789012:function:Hello\",\"End\":true}}}";

static void write_file(const char *name, const char *text) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) abort();
}

static void server_up(void) {
  char msg[512];
  if (!(cfg = gw_config_load(config_path, msg, sizeof msg)) ||
      gw_server_init(&srv, cfg, msg, sizeof msg) != 0) {
    fprintf(stderr, "fuzz_gateway: %s\n", msg);
    abort();
  }
}

static void server_down(void) {
  gw_server_fini(&srv);
  gw_config_free(cfg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (!mkdtemp(dir)) abort();
  write_file("config.yaml", CONFIG);
  write_file("hello.json", HELLO);
  snprintf(config_path, sizeof config_path, "%s/config.yaml", dir);
  server_up();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (++inputs % 10000 == 0) {
    server_down();
    server_up();
  }
  char *text = fz_text(data, size);
  /* "METHOD PATH[?QUERY]" */
  char *line_end = strchr(text, '\n');
  if (line_end) *line_end = '\0';
  char *path = strchr(text, ' ');
  if (!path) {
    free(text);
    return 0;
  }
  *path++ = '\0';
  char *query = strchr(path, '?');
  if (query) *query++ = '\0';
  gw_header headers[32];
  size_t nh = 0;
  char *p = line_end ? line_end + 1 : text + size;
  char *body = p;
  bool sync = false;
  while (line_end && p < text + size) {
    char *eol = strchr(p, '\n');
    if (eol) *eol = '\0';
    if (!*p) { /* the empty line: the body follows */
      body = eol ? eol + 1 : p;
      break;
    }
    char *colon = strchr(p, ':');
    if (colon && nh < 32) {
      *colon = '\0';
      char *value = colon + 1;
      while (*value == ' ') value++;
      headers[nh++] = (gw_header){p, value};
      if (strcasecmp(p, "X-Amz-Target") == 0 &&
          strstr(value, "StartSyncExecution"))
        sync = true;
    }
    if (!eol) {
      body = text + size;
      break;
    }
    p = eol + 1;
    body = p;
  }
  if (sync) {
    free(text);
    return 0;
  }
  size_t body_len = (size_t)(text + size - body);
  gw_request req = {text, path, query ? query : "", headers, nh, body,
                    body_len, "127.0.0.1", "fuzz-correlation-id"};
  gw_response resp = {0};
  gw_dispatch(&srv, &req, &resp);
  if (resp.later) {
    void (*later)(void *, gw_response *) = resp.later;
    void *arg = resp.later_arg;
    resp.later = NULL;
    atomic_store(&srv.draining, true);
    later(arg, &resp);
    atomic_store(&srv.draining, false);
  }
  FZ_CHECK(resp.status < 500 || resp.status == 503, "status %d: %s",
           resp.status, resp.body ? resp.body : "");
  if (resp.body && (!resp.content_type ||
                    strstr(resp.content_type, "json"))) {
    json_error_t jerr;
    json_t *v = json_loads(resp.body, JSON_DECODE_ANY, &jerr);
    FZ_CHECK(v != NULL, "the body is not JSON: %s", resp.body);
    json_decref(v);
  }
  gw_response_clear(&resp);
  free(text);
  return 0;
}
