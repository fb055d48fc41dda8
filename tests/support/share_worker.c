/* A worker process of test_share_workers.c: an engine on a shared
 * PostgreSQL store that keeps starting executions of a small workflow
 * (Task, Wait 1 s, Task) until STOPFILE exists, runs whatever it starts or
 * claims, and writes a line for every handler call to LOGFILE ("<key>
 * <redelivered>", one write() of O_APPEND each, so lines of processes do
 * not mix). SIGTERM ends it cleanly; the test also kills it (SIGKILL) and
 * stalls it (SIGSTOP) while it runs. The first worker's first generation
 * (NAME_PREFIX "w0g0") also starts one Distributed Map, "w0g0-map", of
 * MAP_ITEMS children running the same states, spread over the workers.
 *
 * usage: share_worker CONNINFO LOGFILE STOPFILE NAME_PREFIX */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workflow/workflow.h"

static const char DEFINITION[] =
    "{\"StartAt\":\"First\",\"States\":{"
    "\"First\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:lambda:us-east-1:"
    "123456789012:function:Work\",\"Next\":\"Pause\"},"
    "\"Pause\":{\"Type\":\"Wait\",\"Seconds\":1,\"Next\":\"Second\"},"
    "\"Second\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:lambda:us-east-1:"
    "123456789012:function:Work\",\"End\":true}}}";

#define MAP_ITEMS 200

static const char MAP_DEFINITION[] =
    "{\"StartAt\":\"Spread\",\"States\":{\"Spread\":{\"Type\":\"Map\","
    "\"ItemsPath\":\"$.items\",\"ItemProcessor\":{\"ProcessorConfig\":{"
    "\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":\"STANDARD\"},"
    "\"StartAt\":\"First\",\"States\":{"
    "\"First\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:lambda:us-east-1:"
    "123456789012:function:Work\",\"Next\":\"Pause\"},"
    "\"Pause\":{\"Type\":\"Wait\",\"Seconds\":1,\"Next\":\"Second\"},"
    "\"Second\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:lambda:us-east-1:"
    "123456789012:function:Work\",\"End\":true}}},\"End\":true}}}";

static volatile sig_atomic_t TERM;
static int LOG = -1;

static void on_term(int sig) {
  (void)sig;
  TERM = 1;
}

static void work(wf_task *t, void *p) {
  (void)p;
  char line[256];
  int n = snprintf(line, sizeof line, "%s %d\n", wf_task_idempotency_key(t),
                   wf_task_redelivered(t) != 0);
  if (n > 0 && (size_t)n < sizeof line &&
      write(LOG, line, (size_t)n) != (ssize_t)n)
    abort();
  wf_task_succeed(t, wf_task_input(t));
}

static int fail(const char *what, const wf_error *err) {
  fprintf(stderr, "share_worker: %s: %s\n", what, err->message);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: share_worker CONNINFO LOGFILE STOPFILE PREFIX\n");
    return 2;
  }
  signal(SIGTERM, on_term);
  LOG = open(argv[2], O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (LOG < 0) return 1;
  wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
  po.shared = true;
  po.lease_ms = 600;
  wf_store *store = NULL;
  wf_error err;
  if (wf_store_postgres_open(&store, argv[1], &po, &err) != WF_OK)
    return fail("opening the store", &err);
  wf_engine_options eo = WF_ENGINE_OPTIONS_INIT;
  eo.store = store;
  eo.log_path = "-";
  eo.log_level = WF_LOG_ERROR;
  wf_engine *engine = NULL;
  wf_machine *m = NULL;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.name = "Shared";
  if (wf_engine_new(&engine, &eo, &err) != WF_OK)
    return fail("making the engine", &err);
  if (wf_engine_register_handler(engine,
                                 "arn:aws:lambda:us-east-1:123456789012:"
                                 "function:Work",
                                 work, NULL, 0, &err) != WF_OK ||
      wf_machine_load_json(&m, DEFINITION, &lo, &err) != WF_OK)
    return fail("setting up", &err);
  if (wf_engine_resume(engine, NULL, &err) != WF_OK)
    return fail("resuming", &err);
  if (strcmp(argv[4], "w0g0") == 0) {
    wf_machine *map = NULL;
    char input[MAP_ITEMS * 12 + 16] = "{\"items\":[";
    for (int i = 0; i < MAP_ITEMS; i++)
      snprintf(input + strlen(input), sizeof input - strlen(input),
               "%s{\"n\":%d}", i ? "," : "", i);
    strcat(input, "]}");
    wf_start_options so = WF_START_OPTIONS_INIT;
    so.name = "w0g0-map";
    wf_execution *x = NULL;
    if (wf_machine_load_json(&map, MAP_DEFINITION, &lo, &err) != WF_OK ||
        wf_engine_start(&x, engine, map, input, &so, &err) != WF_OK)
      return fail("starting the map", &err);
    wf_execution_free(x);
    wf_machine_free(map);
  }
  struct timespec pause = {0, 20 * 1000000};
  for (long n = 0; !TERM; nanosleep(&pause, NULL)) {
    if (access(argv[3], F_OK) == 0) continue;
    for (int i = 0; i < 2; i++, n++) {
      char name[80], input[40];
      snprintf(name, sizeof name, "%s-%ld", argv[4], n);
      snprintf(input, sizeof input, "{\"n\":%ld}", n);
      wf_start_options so = WF_START_OPTIONS_INIT;
      so.name = name;
      wf_execution *x = NULL;
      if (wf_engine_start(&x, engine, m, input, &so, &err) != WF_OK)
        fprintf(stderr, "share_worker: starting %s: %s\n", name,
                err.message);
      wf_execution_free(x);
    }
  }
  wf_machine_free(m);
  wf_engine_free(engine);
  wf_store_free(store);
  close(LOG);
  return 0;
}
