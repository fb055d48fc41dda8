/* wf-bench: runs one workload of ../shared/bench/workloads/manifest.json
 * in-process, exactly as the manifest says and with the same timed region as
 * the peer runner (bench/peer/run.mjs): the timed executions only, input
 * text parsed inside it; start-up, definition loading, warm-up and output
 * checks outside. Prints one JSON line with the peer's fields.
 *
 *   wf-bench WORKLOADS_DIR WORKLOAD [--executions N] [--warmup N] [--batch N]
 *            [--history] [--threads N]
 *            [--store sqlite:PATH|postgresql://... [--sync normal]]
 *            [--workers N] [--express]
 *
 * --store sqlite:PATH runs the executions on a durable SQLite store at PATH
 * (a fresh file: removed first), committed with full fsync unless --sync
 * normal; --store postgresql://[USER@]HOST/DB on a PostgreSQL database
 * (the password from PGPASSWORD, never on the command line), committed
 * synchronously unless --sync normal (synchronous_commit off); the
 * default is the engine's own in-memory store. --express loads
 * the definition as an EXPRESS machine: a single execution of more than
 * 25,000 events (choice-loop, map-fanout) is failed by AWS as a STANDARD
 * one, and by libworkflow too; AWS runs it only as EXPRESS. --workers N
 * (with --store postgresql://...) runs the executions in N worker
 * processes on the store opened shared, each its share, timed from when
 * all are ready to when the last is done.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "workflow/json.h"
#include "workflow/workflow.h"

/* Minimal path reader for the manifest's checks: $.a.b[3].c */
static const json_t *get_path(const json_t *v, const char *path) {
  const char *p = path + 1;
  while (*p && v) {
    if (*p == '.') {
      const char *s = ++p;
      while (*p && *p != '.' && *p != '[') p++;
      char key[256];
      snprintf(key, sizeof key, "%.*s", (int)(p - s), s);
      v = json_object_get(v, key);
    } else if (*p == '[') {
      size_t i = strtoul(p + 1, (char **)&p, 10);
      if (*p == ']') p++;
      v = json_array_get(v, i);
    } else {
      return NULL;
    }
  }
  return v;
}

static int check(const json_t *workload, const json_t *out, json_t *failures) {
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(workload, "checks"), i, c) {
    const char *path = json_string_value(json_object_get(c, "path"));
    const json_t *v = get_path(out, path);
    json_t *eq = json_object_get(c, "equals");
    json_t *len = json_object_get(c, "length");
    bool ok = true;
    if (eq) {
      /* The peer compares with ===: numbers by value. */
      if (json_is_number(eq) && json_is_number(v))
        ok = json_number_value(eq) == json_number_value(v);
      else
        ok = v && json_equal(eq, (json_t *)v);
    }
    if (len) ok = ok && json_is_array(v) &&
                  json_array_size(v) == (size_t)json_integer_value(len);
    if (!ok) json_array_append_new(failures, json_string(path));
  }
  return (int)json_array_size(failures);
}

typedef struct bench {
  wf_engine *engine;
  wf_machine *machine;
  const char *input;
  bool concurrent;
  long batch;
} bench;

/* Runs `count` executions; returns the last one (caller frees). */
static wf_execution *run_many(bench *b, long count) {
  wf_execution *last = NULL;
  wf_error err;
  if (!b->concurrent) {
    for (long k = 0; k < count; k++) {
      /* One after another, as the peer awaits each run: the synchronous
       * form runs the execution on this thread. */
      wf_execution *x;
      if (wf_engine_run(&x, b->engine, b->machine, b->input, NULL, &err)) {
        fprintf(stderr, "wf-bench: start: %s\n", err.message);
        exit(1);
      }
      wf_execution_free(last);
      last = x;
    }
    return last;
  }
  wf_execution **xs = malloc((size_t)b->batch * sizeof *xs);
  /* Started together: their start commits are grouped (a durable store),
   * and each is waited for to its committed end. */
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.flags = WF_START_NOWAIT;
  for (long done = 0; done < count;) {
    long n = count - done < b->batch ? count - done : b->batch;
    for (long j = 0; j < n; j++)
      if (wf_engine_start(&xs[j], b->engine, b->machine, b->input, &so,
                          &err)) {
        fprintf(stderr, "wf-bench: start: %s\n", err.message);
        exit(1);
      }
    for (long j = 0; j < n; j++) wf_execution_wait(xs[j], -1);
    wf_execution_free(last);
    for (long j = 0; j + 1 < n; j++) wf_execution_free(xs[j]);
    last = xs[n - 1];
    done += n;
  }
  free(xs);
  return last;
}

/* map-fanout's output (615 KB) is over AWS's 256 KiB payload limit: AWS
 * would fail it with States.DataLimitExceeded, and the peer enforces no
 * limit. The limit is raised so the workload completes as the peer's
 * does; the line printed says so. */
#define PAYLOAD_LIMIT (64 << 20)

static wf_engine *new_engine(wf_store *store, bool history,
                             unsigned threads) {
  wf_engine_options eo = WF_ENGINE_OPTIONS_INIT;
  eo.store = store;
  eo.history = history ? WF_HISTORY_FULL : WF_HISTORY_OFF;
  eo.scheduler_threads = threads;
  eo.payload_limit = PAYLOAD_LIMIT;
  wf_engine *e = NULL;
  wf_error err;
  if (wf_engine_new(&e, &eo, &err) != WF_OK) {
    fprintf(stderr, "wf-bench: %s\n", err.message);
    exit(1);
  }
  bench_register_seed_handlers(e);
  return e;
}

/* One of --workers: its own shared store and engine, its share of the
 * executions once told to go (a byte on `go`); then it says it is done
 * (a byte on `done`) and goes on serving the store (the other workers'
 * Distributed Map children) until told to quit (a byte on `quit`). Exits 0
 * when the last one it ran succeeded. */
static void worker(bench *b, const char *store_arg, bool normal, bool history,
                   unsigned threads, long warmup, long count, int ready,
                   int go, int done, int quit) {
  wf_store *store = NULL;
  char name[64];
  bench_open_shared_store(store_arg, normal, &store, name);
  b->engine = new_engine(store, history, threads);
  wf_error err;
  if (wf_engine_resume(b->engine, NULL, &err) != WF_OK) {
    fprintf(stderr, "wf-bench: %s\n", err.message);
    _exit(1);
  }
  if (warmup > 0) wf_execution_free(run_many(b, warmup));
  char c = 'r';
  if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1) _exit(1);
  wf_execution *last = count ? run_many(b, count) : NULL;
  int ok = !last || wf_execution_status(last) == WF_EXEC_SUCCEEDED;
  if (!ok)
    fprintf(stderr, "wf-bench: worker: %s ended %d: %s: %s\n",
            wf_execution_arn(last), (int)wf_execution_status(last),
            wf_execution_error(last) ? wf_execution_error(last) : "",
            wf_execution_cause(last) ? wf_execution_cause(last) : "");
  wf_execution_free(last);
  if (write(done, &c, 1) != 1 || read(quit, &c, 1) != 1) _exit(1);
  wf_engine_free(b->engine);
  wf_store_free(store);
  _exit(ok ? 0 : 1);
}

/* --workers N: N processes on one shared PostgreSQL store run the
 * executions between them; the seconds from the go (all ready) to the
 * last one's end, or -1 when one failed. */
static double run_workers(bench *b, int workers, const char *store_arg,
                          bool normal, bool history, unsigned threads,
                          long warmup, long executions, char name[64]) {
  int ready[2], go[2], done[2], quit[2];
  if (pipe(ready) != 0 || pipe(go) != 0 || pipe(done) != 0 ||
      pipe(quit) != 0)
    return -1;
  pid_t *pids = calloc((size_t)workers, sizeof *pids);
  for (int i = 0; i < workers; i++) {
    long share = executions / workers + (i < executions % workers);
    if ((pids[i] = fork()) == 0)
      worker(b, store_arg, normal, history, threads, warmup / workers, share,
             ready[1], go[0], done[1], quit[0]);
  }
  char c;
  for (int i = 0; i < workers; i++)
    if (read(ready[0], &c, 1) != 1) return -1;
  double t0 = bench_now();
  for (int i = 0; i < workers; i++)
    if (write(go[1], "g", 1) != 1) return -1;
  /* Timed until every worker has run its share (a worker with none
   * serves the others meanwhile). */
  for (int i = 0; i < workers; i++)
    if (read(done[0], &c, 1) != 1) break;
  double seconds = bench_now() - t0;
  for (int i = 0; i < workers; i++)
    if (write(quit[1], "q", 1) != 1) return -1;
  bool ok = true;
  for (int i = 0; i < workers; i++) {
    int status;
    waitpid(pids[i], &status, 0);
    ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  free(pids);
  snprintf(name, 64, "postgresql(%s, shared)", normal ? "normal" : "full");
  return ok ? seconds : -1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: wf-bench WORKLOADS_DIR WORKLOAD [--executions N] "
                    "[--warmup N] [--batch N] [--history] [--threads N] "
                    "[--store sqlite:PATH|postgresql://... [--sync normal]] "
                    "[--workers N] [--express]\n");
    return 2;
  }
  const char *dir = argv[1], *name = argv[2];
  long executions = -1, warmup = -1, batch = -1;
  unsigned threads = 0;
  int workers = 0;
  bool history = false, express = false;
  const char *store_arg = NULL, *sync = "full";
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--history") == 0) history = true;
    else if (strcmp(argv[i], "--express") == 0) express = true;
    else if (i + 1 < argc && strcmp(argv[i], "--store") == 0)
      store_arg = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--sync") == 0)
      sync = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--executions") == 0)
      executions = atol(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--warmup") == 0)
      warmup = atol(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--batch") == 0)
      batch = atol(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
      threads = (unsigned)atoi(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--workers") == 0)
      workers = atoi(argv[++i]);
    else {
      fprintf(stderr, "wf-bench: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  char *manifest_text = bench_slurp(dir, "manifest.json");
  json_t *manifest = json_loads(manifest_text, 0, NULL);
  json_t *w = json_object_get(json_object_get(manifest, "workloads"), name);
  if (!w) {
    fprintf(stderr, "wf-bench: no workload '%s' in %s/manifest.json\n", name,
            dir);
    return 2;
  }
  if (executions < 0) executions = json_integer_value(json_object_get(w, "executions"));
  if (warmup < 0) warmup = json_integer_value(json_object_get(w, "warmup"));
  if (batch < 0) batch = json_is_integer(json_object_get(w, "batch"))
                             ? json_integer_value(json_object_get(w, "batch"))
                             : 1;
  const char *mode = json_string_value(json_object_get(w, "mode"));
  char *definition = bench_slurp(dir, json_string_value(json_object_get(w, "definition")));
  char *input = bench_slurp(dir, json_string_value(json_object_get(w, "input")));

  wf_error err;
  wf_machine *m = NULL;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.name = name;
  lo.type = express ? WF_MACHINE_EXPRESS : WF_MACHINE_STANDARD;
  double t_setup = bench_now();
  if (wf_machine_load_json(&m, definition, &lo, &err) != WF_OK) {
    fprintf(stderr, "wf-bench: %s: %s\n", name, err.message);
    return 1;
  }
  double setup = bench_now() - t_setup;
  wf_store *store = NULL;
  char store_name[64];
  bench_open_store(store_arg, true, strcmp(sync, "normal") == 0, &store,
                   store_name);
  wf_engine *e = workers ? NULL : new_engine(store, history, threads);
  bench b = {e, m, input, mode && strcmp(mode, "concurrent") == 0, batch};
  struct rusage ru;
  double seconds;
  wf_execution *last = NULL;
  json_t *failures = json_array();
  if (workers) {
    /* The store opened above made or migrated the schema: each worker
     * opens its own, shared. */
    wf_store_free(store);
    store = NULL;
    seconds = run_workers(&b, workers, store_arg,
                          strcmp(sync, "normal") == 0, history, threads,
                          warmup, executions, store_name);
    getrusage(RUSAGE_CHILDREN, &ru);
    if (seconds < 0)
      json_array_append_new(failures, json_string("a worker failed"));
  } else {
    if (warmup > 0) wf_execution_free(run_many(&b, warmup));
    double t0 = bench_now();
    last = run_many(&b, executions);
    seconds = bench_now() - t0;
    getrusage(RUSAGE_SELF, &ru);
    const json_t *out = wf_execution_output_value(last);
    if (!out)
      json_array_append_new(failures,
                            json_string("execution did not succeed"));
    else check(w, out, failures);
  }
  long upe = (long)json_integer_value(json_object_get(w, "units_per_execution"));
  long tpe = (long)json_integer_value(json_object_get(w, "transitions_per_execution"));
  double units = (double)upe * (double)executions;
  double transitions = (double)tpe * (double)executions;
  char mode_buf[64];
  if (b.concurrent) snprintf(mode_buf, sizeof mode_buf, "concurrent(batch=%ld)", batch);
  json_t *r = json_pack(
      "{s:s, s:s, s:O, s:f, s:f, s:f, s:f, s:I, s:s, s:I, s:f, s:f, s:f, s:b, s:s}",
      "workload", name, "engine", "libworkflow@" "0.1.0", "unit",
      json_object_get(w, "unit"), "units", units, "seconds", seconds,
      "per_second", units / seconds, "peak_rss_mb",
      (double)ru.ru_maxrss / 1024.0, "executions", (json_int_t)executions,
      "mode", b.concurrent ? mode_buf : "sequential", "warmup",
      (json_int_t)warmup, "transitions", transitions,
      "transitions_per_second", transitions / seconds, "setup_seconds", setup,
      "ok", json_array_size(failures) == 0, "history", history ? "full" : "off");
  json_object_set_new(r, "payload_limit", json_integer(PAYLOAD_LIMIT));
  if (workers) json_object_set_new(r, "workers", json_integer(workers));
  json_object_set_new(r, "allocator", json_string(WF_BENCH_ALLOCATOR));
  json_object_set_new(r, "store", json_string(store_name));
  json_object_set_new(r, "type", json_string(express ? "EXPRESS" : "STANDARD"));
  if (json_array_size(failures)) json_object_set(r, "check_failures", failures);
  char *line = json_dumps(r, JSON_COMPACT | JSON_REAL_PRECISION(7));
  puts(line);
  free(line);
  int rc = json_array_size(failures) ? 1 : 0;
  json_decref(r);
  json_decref(failures);
  wf_execution_free(last);
  if (e) wf_engine_free(e);
  wf_store_free(store);
  wf_machine_free(m);
  json_decref(manifest);
  free(manifest_text);
  free(definition);
  free(input);
  return rc;
}
