/* wf-store-bench: what durable executions cost in memory and time, for the
 * figures issue 11 asks for. One JSON line per measurement.
 *
 *   wf-store-bench finished WORKLOADS_DIR [--executions N] [--batch N]
 *                  [--every N] [--store sqlite:PATH|memory]
 *     Runs N seed workflow executions (default 1,000,000), batch after
 *     batch, history kept; prints the process's resident memory every N
 *     executions (default 100,000): it should stay flat, whatever is on
 *     disk.
 *   wf-store-bench waiting [--executions N] [--kind wait|callback]
 *                  [--store sqlite:PATH|memory]
 *     Starts N executions (default 100,000) that wait, on a Wait of a day
 *     or on a callback task's token, and prints the memory each costs.
 *   wf-store-bench recover [--executions N] --store sqlite:PATH
 *     A child process starts N waiting executions (default 100,000) and
 *     kills itself (SIGKILL); this process then opens the store and
 *     resumes them: the time it takes, and the memory after.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "workflow/workflow.h"

#define CALLBACK_RESOURCE "arn:aws:states:::lambda:invoke.waitForTaskToken"

static const char WAIT_MACHINE[] =
    "{\"StartAt\":\"Hold\",\"States\":{\"Hold\":{\"Type\":\"Wait\","
    "\"Seconds\":86400,\"End\":true}}}";
static const char CALLBACK_MACHINE[] =
    "{\"StartAt\":\"Hold\",\"States\":{\"Hold\":{\"Type\":\"Task\","
    "\"Resource\":\"" CALLBACK_RESOURCE "\",\"Parameters\":{"
    "\"FunctionName\":\"Approve\",\"Payload\":{\"order.$\":\"$.order\","
    "\"token.$\":\"$$.Task.Token\"}},\"End\":true}}}";
/* A small order, as a waiting workflow would carry. */
static const char WAITING_INPUT[] =
    "{\"order\":{\"id\":\"ord-000001\",\"customer\":\"c-42\",\"total\":129.5,"
    "\"items\":[{\"sku\":\"A-1\",\"qty\":2},{\"sku\":\"B-7\",\"qty\":1}]}}";

typedef struct opts {
  const char *mode, *dir, *store, *kind;
  long executions, batch, every;
} opts;

static void fail(const char *what, const wf_error *err) {
  fprintf(stderr, "wf-store-bench: %s: %s\n", what, err->message);
  exit(1);
}

static wf_machine *load(const char *text, const char *name) {
  wf_machine *m = NULL;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.name = name;
  wf_error err;
  if (wf_machine_load_json(&m, text, &lo, &err) != WF_OK) fail(name, &err);
  return m;
}

/* A callback task's handler that hands its token to nobody: the task
 * waits for SendTaskSuccess, as one waiting on a person would. */
static void hold(wf_task *task, void *payload) {
  (void)task;
  (void)payload;
}

static wf_engine *engine_on(wf_store *store) {
  wf_engine_options eo = WF_ENGINE_OPTIONS_INIT;
  eo.store = store;
  eo.history = WF_HISTORY_FULL;
  wf_engine *e = NULL;
  wf_error err;
  if (wf_engine_new(&e, &eo, &err) != WF_OK) fail("engine", &err);
  bench_register_seed_handlers(e);
  if (wf_engine_register_handler(e, CALLBACK_RESOURCE, hold, NULL,
                                 WF_HANDLER_INLINE, &err) != WF_OK)
    fail("handler", &err);
  return e;
}

/* Start n executions of m, batch by batch; with `wait_end` each batch
 * runs to its end. The last start waits for its commit, which comes after
 * every earlier one's. */
static void start_many(wf_engine *e, wf_machine *m, const char *input,
                       long n, long batch, bool wait_end) {
  wf_execution **xs = malloc((size_t)batch * sizeof *xs);
  wf_start_options so = WF_START_OPTIONS_INIT;
  wf_error err;
  for (long done = 0; done < n;) {
    long k = n - done < batch ? n - done : batch;
    for (long j = 0; j < k; j++) {
      so.flags = done + j + 1 == n ? 0 : WF_START_NOWAIT;
      if (wf_engine_start(&xs[j], e, m, input, &so, &err) != WF_OK)
        fail("start", &err);
    }
    for (long j = 0; j < k; j++) {
      if (wait_end) wf_execution_wait(xs[j], -1);
      wf_execution_free(xs[j]);
    }
    done += k;
  }
  free(xs);
}

static void print_line(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void print_line(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

/* Resident memory once the allocator has given back what was freed (it
 * keeps freed pages for a while: jemalloc about ten seconds): polled each
 * second until it stops falling, for 20 s at most. */
static double settled_rss_mb(void) {
  double rss = bench_rss_mb();
  for (int i = 0; i < 20; i++) {
    sleep(1);
    double now = bench_rss_mb();
    if (now > rss - 0.5) return now < rss ? now : rss;
    rss = now;
  }
  return rss;
}

static int finished(const opts *o) {
  char *def = bench_slurp(o->dir, "seed-workflow.asl.json");
  char *input = bench_slurp(o->dir, "seed-workflow.input.json");
  wf_store *store;
  char name[64];
  bench_open_store(o->store, true, false, &store, name);
  wf_engine *e = engine_on(store);
  wf_machine *m = load(def, "seed-workflow");
  double rss0 = bench_rss_mb(), t0 = bench_now(), t = t0;
  print_line("{\"mode\":\"finished\",\"store\":\"%s\",\"executions\":0,"
             "\"rss_mb\":%.1f}", name, rss0);
  for (long done = 0; done < o->executions;) {
    long k = o->executions - done < o->every ? o->executions - done
                                             : o->every;
    start_many(e, m, input, k, o->batch, true);
    done += k;
    double now = bench_now();
    print_line("{\"mode\":\"finished\",\"store\":\"%s\",\"executions\":%ld,"
               "\"rss_mb\":%.1f,\"seconds\":%.1f,\"per_second\":%.0f}",
               name, done, bench_rss_mb(), now - t0, (double)k / (now - t));
    t = now;
  }
  wf_engine_free(e);
  wf_store_free(store);
  wf_machine_free(m);
  free(def);
  free(input);
  return 0;
}

static int waiting(const opts *o) {
  bool callback = strcmp(o->kind, "callback") == 0;
  wf_store *store;
  char name[64];
  bench_open_store(o->store, true, false, &store, name);
  wf_engine *e = engine_on(store);
  wf_machine *m = load(callback ? CALLBACK_MACHINE : WAIT_MACHINE, "hold");
  /* One first, so what every engine allocates once is not counted. */
  start_many(e, m, WAITING_INPUT, 1, 1, false);
  double rss0 = settled_rss_mb(), t0 = bench_now();
  start_many(e, m, WAITING_INPUT, o->executions, o->batch, false);
  double seconds = bench_now() - t0, rss1 = settled_rss_mb();
  print_line("{\"mode\":\"waiting\",\"kind\":\"%s\",\"store\":\"%s\","
             "\"executions\":%ld,\"seconds\":%.2f,\"rss_before_mb\":%.1f,"
             "\"rss_after_mb\":%.1f,\"bytes_per_execution\":%.0f,"
             "\"input_bytes\":%zu}",
             o->kind, name, o->executions, seconds, rss0, rss1,
             (rss1 - rss0) * 1024.0 * 1024.0 / (double)o->executions,
             strlen(WAITING_INPUT));
  wf_engine_free(e);
  wf_store_free(store);
  wf_machine_free(m);
  return 0;
}

static int recover(const opts *o) {
  if (!o->store || strncmp(o->store, "sqlite:", 7) != 0) {
    fprintf(stderr, "wf-store-bench: recover needs --store sqlite:PATH\n");
    return 2;
  }
  bool callback = strcmp(o->kind, "callback") == 0;
  pid_t pid = fork();
  if (pid == 0) {
    wf_store *store;
    char name[64];
    bench_open_store(o->store, true, false, &store, name);
    wf_engine *e = engine_on(store);
    wf_machine *m = load(callback ? CALLBACK_MACHINE : WAIT_MACHINE, "hold");
    start_many(e, m, WAITING_INPUT, o->executions, o->batch, false);
    raise(SIGKILL); /* a crash: nothing is closed */
    _exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFSIGNALED(status)) {
    fprintf(stderr, "wf-store-bench: the child did not crash as planned\n");
    return 1;
  }
  double rss0 = bench_rss_mb(), t0 = bench_now();
  wf_store *store;
  char name[64];
  bench_open_store(o->store, false, false, &store, name);
  double t_open = bench_now();
  wf_engine *e = engine_on(store);
  size_t resumed = 0;
  wf_error err;
  if (wf_engine_resume(e, &resumed, &err) != WF_OK) fail("resume", &err);
  double t1 = bench_now();
  print_line("{\"mode\":\"recover\",\"kind\":\"%s\",\"store\":\"%s\","
             "\"executions\":%ld,\"resumed\":%zu,\"open_seconds\":%.3f,"
             "\"resume_seconds\":%.2f,\"rss_before_mb\":%.1f,"
             "\"rss_after_mb\":%.1f}",
             o->kind, name, o->executions, resumed, t_open - t0, t1 - t_open,
             rss0, bench_rss_mb());
  wf_engine_free(e);
  wf_store_free(store);
  return resumed == (size_t)o->executions ? 0 : 1;
}

int main(int argc, char **argv) {
  opts o = {.kind = "wait", .store = "sqlite:/tmp/wf-store-bench.db",
            .executions = -1, .batch = 1000, .every = 100000};
  int i = 1;
  if (argc < 2) goto usage;
  o.mode = argv[i++];
  if (strcmp(o.mode, "finished") == 0) {
    if (argc < 3) goto usage;
    o.dir = argv[i++];
  }
  for (; i < argc; i++) {
    if (i + 1 >= argc) goto usage;
    if (strcmp(argv[i], "--executions") == 0) o.executions = atol(argv[++i]);
    else if (strcmp(argv[i], "--batch") == 0) o.batch = atol(argv[++i]);
    else if (strcmp(argv[i], "--every") == 0) o.every = atol(argv[++i]);
    else if (strcmp(argv[i], "--store") == 0) o.store = argv[++i];
    else if (strcmp(argv[i], "--kind") == 0) o.kind = argv[++i];
    else goto usage;
  }
  if (o.batch < 1 || o.every < 1 ||
      (strcmp(o.kind, "wait") != 0 && strcmp(o.kind, "callback") != 0))
    goto usage;
  if (strcmp(o.mode, "finished") == 0) {
    if (o.executions < 0) o.executions = 1000000;
    return finished(&o);
  }
  if (o.executions < 0) o.executions = 100000;
  if (strcmp(o.mode, "waiting") == 0) return waiting(&o);
  if (strcmp(o.mode, "recover") == 0) return recover(&o);
usage:
  fprintf(stderr,
          "usage: wf-store-bench finished WORKLOADS_DIR [--executions N] "
          "[--batch N] [--every N] [--store S]\n"
          "       wf-store-bench waiting [--executions N] [--kind "
          "wait|callback] [--store S]\n"
          "       wf-store-bench recover [--executions N] [--kind "
          "wait|callback] --store sqlite:PATH\n"
          "  S: sqlite:PATH (default /tmp/wf-store-bench.db) or memory\n");
  return 2;
}
