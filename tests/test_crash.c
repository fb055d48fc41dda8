/* Crash tests: a worker process runs a mix of executions on a SQLite store
 * — Waits, retries with back-off, Map and Parallel, callback tasks
 * answered from outside, timeouts, slow handlers in flight — and is killed
 * with SIGKILL at random moments, hundreds of times, then restarted on the
 * same store each time (it resumes what runs and starts what is missing).
 * At the end every execution must have finished exactly once, with the
 * output of an uninterrupted run, its history ids contiguous, and the same
 * events (a redelivered task records none of its own), and the database
 * must pass SQLite's integrity check.
 *
 * WF_CRASH_KILLS sets the number of kills (default 200). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store_support.h"
#include "workflow/json.h"

TestSuite(crash, .timeout = 600);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define CALLBACK "arn:aws:states:::lambda:invoke.waitForTaskToken"
#define PER_MACHINE 8

static const struct {
  const char *name, *definition;
} MACHINES[] = {
    {"WaitChain",
     "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Result\":\"w\","
     "\"ResultPath\":\"$.tag\",\"Next\":\"W\"},\"W\":{\"Type\":\"Wait\","
     "\"Seconds\":1,\"Next\":\"T\"},\"T\":{\"Type\":\"Task\",\"Resource\":"
     "\"" FN "Work\",\"Next\":\"S\"},\"S\":{\"Type\":\"Succeed\"}}}"},
    {"Retry",
     "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Task\",\"Resource\":"
     "\"" FN "Flaky\",\"Retry\":[{\"ErrorEquals\":[\"Boom\"],"
     "\"IntervalSeconds\":1,\"MaxAttempts\":3,\"BackoffRate\":1}],"
     "\"Next\":\"D\"},\"D\":{\"Type\":\"Pass\",\"End\":true}}}"},
    {"MapPar",
     "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\",\"ItemsPath\":"
     "\"$.items\",\"ResultPath\":\"$.mapped\",\"ItemProcessor\":{\"StartAt\":"
     "\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":1,\"Next\":\"T\"},"
     "\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN "Work\",\"End\":true}}},"
     "\"Next\":\"Par\"},\"Par\":{\"Type\":\"Parallel\",\"ResultPath\":"
     "\"$.par\",\"End\":true,\"Branches\":[{\"StartAt\":\"W2\",\"States\":{"
     "\"W2\":{\"Type\":\"Wait\",\"Seconds\":1,\"Next\":\"T2\"},\"T2\":{"
     "\"Type\":\"Task\",\"Resource\":\"" FN "Work\",\"End\":true}}},"
     "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Task\",\"Resource\":"
     "\"" FN "Slow\",\"End\":true}}}]}}}"},
    {"Callback",
     "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Task\",\"Resource\":"
     "\"" CALLBACK "\",\"Parameters\":{\"token.$\":\"$$.Task.Token\","
     "\"v.$\":\"$.v\"},\"ResultPath\":\"$.answer\",\"Next\":\"D\"},"
     "\"D\":{\"Type\":\"Pass\",\"End\":true}}}"},
    {"Timeout",
     "{\"StartAt\":\"N\",\"States\":{\"N\":{\"Type\":\"Task\",\"Resource\":"
     "\"" FN "Never\",\"TimeoutSeconds\":1,\"Catch\":[{\"ErrorEquals\":"
     "[\"States.Timeout\"],\"ResultPath\":\"$.caught\",\"Next\":\"D\"}],"
     "\"End\":true},\"D\":{\"Type\":\"Pass\",\"End\":true}}}"},
};
#define NMACHINES (sizeof MACHINES / sizeof *MACHINES)

/* ---- the worker (a child process; no Criterion in it) ---- */

static char tokens_path[512];

static long long input_v(wf_task *t) {
  return json_integer_value(json_object_get(wf_task_input_value(t), "v"));
}

static void work(wf_task *t, void *p) {
  (void)p;
  json_t *in = (json_t *)wf_task_input_value(t);
  json_t *v = json_object_get(in, "v");
  long long n = json_is_integer(v) ? json_integer_value(v)
                                   : json_integer_value(in);
  wf_task_succeed_value(t, json_pack("{s:I}", "doubled", (json_int_t)(2 * n)));
}

static void flaky(wf_task *t, void *p) {
  (void)p;
  if (wf_task_attempt(t) < 2) {
    wf_task_fail(t, "Boom", "not yet");
    return;
  }
  wf_task_succeed_value(t, json_pack("{s:I,s:i}", "v", (json_int_t)input_v(t),
                                     "attempt", (int)wf_task_attempt(t)));
}

static void slow(wf_task *t, void *p) {
  (void)p;
  struct timespec ts = {0, 20 * 1000000L};
  nanosleep(&ts, NULL);
  wf_task_succeed_value(t, json_pack("{s:b}", "slow", 1));
}

static void never(wf_task *t, void *p) {
  (void)t;
  (void)p;
}

/* The token goes "outside": a line in a file a responder reads. */
static void callback(wf_task *t, void *p) {
  (void)p;
  const char *token =
      json_string_value(json_object_get(wf_task_input_value(t), "token"));
  char line[80];
  int n = snprintf(line, sizeof line, "%s\n", token ? token : "");
  int fd = open(tokens_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
  if (fd >= 0) {
    if (write(fd, line, (size_t)n) != n) _exit(21);
    close(fd);
  }
}

typedef struct responder {
  wf_engine *engine;
  atomic_int stop;
} responder;

/* Answers every token in the file, again and again: an answer lost in a
 * crash is sent anew; one already taken is refused, harmlessly. */
static void *respond(void *arg) {
  responder *r = arg;
  while (!atomic_load(&r->stop)) {
    FILE *f = fopen(tokens_path, "r");
    char line[80];
    while (f && fgets(line, sizeof line, f)) {
      line[strcspn(line, "\n")] = '\0';
      if (*line)
        wf_engine_send_task_success(r->engine, line, "{\"answered\":true}",
                                    NULL);
    }
    if (f) fclose(f);
    struct timespec ts = {0, 2 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static int count_running(const wf_store_execution *x, void *p) {
  (void)x;
  (*(int *)p)++;
  return 1;
}

/* Run the workload to its end on the store in `dir`. Exit codes: 0 all
 * ended; others name the failing step. */
static int worker(const char *dir) {
  snprintf(tokens_path, sizeof tokens_path, "%s/tokens", dir);
  char path[512];
  snprintf(path, sizeof path, "%s/store.db", dir);
  wf_store *s = NULL;
  wf_error err;
  if (wf_store_sqlite_open(&s, path, NULL, &err) != WF_OK) {
    fprintf(stderr, "worker: %s\n", err.message);
    return 10;
  }
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.store = s;
  wf_engine *e = NULL;
  if (wf_engine_new(&e, &o, &err) != WF_OK) return 11;
  wf_engine_register_handler(e, FN "Work", work, NULL, WF_HANDLER_INLINE, NULL);
  wf_engine_register_handler(e, FN "Flaky", flaky, NULL, WF_HANDLER_INLINE,
                             NULL);
  wf_engine_register_handler(e, FN "Slow", slow, NULL, 0, NULL);
  wf_engine_register_handler(e, FN "Never", never, NULL, 0, NULL);
  wf_engine_register_handler(e, CALLBACK, callback, NULL, 0, NULL);
  if (wf_engine_resume(e, NULL, &err) != WF_OK) {
    fprintf(stderr, "worker: resume: %s\n", err.message);
    return 12;
  }
  responder r = {.engine = e};
  atomic_init(&r.stop, 0);
  pthread_t th;
  if (pthread_create(&th, NULL, respond, &r) != 0) return 13;
  for (size_t k = 0; k < NMACHINES; k++) {
    wf_load_options lo = WF_LOAD_OPTIONS_INIT;
    lo.name = MACHINES[k].name;
    wf_machine *m = NULL;
    if (wf_machine_load_json(&m, MACHINES[k].definition, &lo, &err) != WF_OK)
      return 14;
    for (int i = 0; i < PER_MACHINE; i++) {
      char name[32], input[64];
      snprintf(name, sizeof name, "x-%d", i);
      snprintf(input, sizeof input, "{\"v\":%d,\"items\":[1,2,3]}", i);
      wf_start_options so = WF_START_OPTIONS_INIT;
      so.name = name;
      wf_execution *x = NULL;
      int rc = wf_engine_start(&x, e, m, input, &so, &err);
      /* Running already (resumed): the same one; ended: taken. */
      if (rc != WF_OK && rc != WF_EEXIST) {
        fprintf(stderr, "worker: start: %s\n", err.message);
        return 15;
      }
      wf_execution_free(x);
    }
    wf_machine_free(m);
  }
  for (;;) {
    int running = 0;
    wf_store_query q = WF_STORE_QUERY_INIT;
    q.status = WF_EXEC_RUNNING;
    if (wf_store_list_executions(s, &q, count_running, &running, &err) !=
        WF_OK)
      return 16;
    if (!running) break;
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);
  }
  atomic_store(&r.stop, 1);
  pthread_join(th, NULL);
  wf_engine_free(e);
  wf_store_free(s);
  return 0;
}

/* ---- the parent ---- */

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t spawn(const char *dir) {
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) _exit(worker(dir));
  return pid;
}

/* Wait for the worker's end (bounded); its exit code. */
static int finish(pid_t pid, int64_t limit_ms) {
  int64_t until = mono_ms() + limit_ms;
  int status;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (mono_ms() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      cr_assert_fail("the worker did not end in %lld ms", (long long)limit_ms);
    }
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);
  }
  cr_assert(WIFEXITED(status), "the worker died: status %d", status);
  return WEXITSTATUS(status);
}

/* Per execution: its status and output, and its event types sorted
 * ("type:state"), checking ids 1..n and one ExecutionSucceeded, last. */
static int outcome(const wf_store_execution *x, void *p) {
  json_object_set_new(p, x->arn,
                      json_pack("{s:i,s:s?}", "status", x->status, "output",
                                x->output));
  return 0;
}

typedef struct events_seen {
  json_t *list;
  int64_t next;
  bool gap;
} events_seen;

static int add_event(const wf_store_event *e, void *p) {
  events_seen *s = p;
  if (e->id != s->next++) s->gap = true;
  json_t *ev = json_loads(e->json, 0, NULL);
  const char *name = NULL;
  const char *k;
  json_t *v;
  json_object_foreach(ev, k, v) {
    if (json_is_object(v) && json_object_get(v, "name"))
      name = json_string_value(json_object_get(v, "name"));
  }
  char buf[256];
  snprintf(buf, sizeof buf, "%s:%s", e->type, name ? name : "");
  json_array_append_new(s->list, json_string(buf));
  json_decref(ev);
  return 0;
}

static json_t *parse_or_null(const char *text) {
  return text ? json_loads(text, JSON_DECODE_ANY, NULL) : json_null();
}

static int by_text(const void *a, const void *b) {
  return strcmp(json_string_value(*(json_t *const *)a),
                json_string_value(*(json_t *const *)b));
}

static json_t *sorted(json_t *list) {
  size_t n = json_array_size(list);
  json_t **v = calloc(n ? n : 1, sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = json_array_get(list, i);
  qsort(v, n, sizeof *v, by_text);
  json_t *out = json_array();
  for (size_t i = 0; i < n; i++) json_array_append(out, v[i]);
  free(v);
  return out;
}

/* Everything the store says of the workload, as JSON:
 * {arn: {"status", "output", "events": [sorted]}}. */
static json_t *read_results(const char *dir) {
  char *path = wst_path(dir, "store.db");
  wf_store *s = NULL;
  wf_store_options ro = WF_STORE_OPTIONS_INIT;
  ro.read_only = true;
  wf_error err;
  cr_assert_eq(wf_store_sqlite_open(&s, path, &ro, &err), WF_OK, "%s",
               err.message);
  json_t *all = json_object();
  cr_assert_eq(wf_store_list_executions(s, NULL, outcome, all, &err), WF_OK);
  cr_assert_eq(json_object_size(all), NMACHINES * PER_MACHINE,
               "%zu executions in the store", json_object_size(all));
  const char *arn;
  json_t *rec;
  json_object_foreach(all, arn, rec) {
    events_seen es = {json_array(), 1, false};
    cr_assert_eq(wf_store_read_events(s, arn, 0, false, 0, add_event, &es,
                                      &err),
                 WF_OK);
    cr_assert(!es.gap, "%s: event ids are not contiguous", arn);
    size_t n = json_array_size(es.list);
    cr_assert_gt(n, 2);
    cr_assert_str_eq(json_string_value(json_array_get(es.list, n - 1)),
                     "ExecutionSucceeded:", "%s does not end in success", arn);
    int ends = 0;
    for (size_t i = 0; i < n; i++)
      ends += strncmp(json_string_value(json_array_get(es.list, i)),
                      "Execution", 9) == 0 &&
              strcmp(json_string_value(json_array_get(es.list, i)),
                     "ExecutionStarted:") != 0;
    cr_assert_eq(ends, 1, "%s ended %d times", arn, ends);
    json_object_set_new(rec, "events", sorted(es.list));
    json_decref(es.list);
  }
  wf_store_free(s);
  /* The database itself is sound. */
  sqlite3 *db;
  cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
               SQLITE_OK);
  sqlite3_stmt *st;
  cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st,
                                  NULL),
               SQLITE_OK);
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
  cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
  sqlite3_finalize(st);
  sqlite3_close(db);
  free(path);
  return all;
}

/* The round's store holds what the uninterrupted run's does. */
static void check_round(const char *dir, json_t *want) {
  json_t *got = read_results(dir);
  const char *arn;
  json_t *rec;
  json_object_foreach(want, arn, rec) {
    json_t *other = json_object_get(got, arn);
    cr_assert_not_null(other, "%s is missing", arn);
    cr_assert_eq(json_integer_value(json_object_get(other, "status")),
                 WF_EXEC_SUCCEEDED, "%s", arn);
    json_t *a = parse_or_null(json_string_value(json_object_get(rec, "output")));
    json_t *b =
        parse_or_null(json_string_value(json_object_get(other, "output")));
    cr_assert(json_equal(a, b), "%s: output %s, uninterrupted %s", arn,
              json_string_value(json_object_get(other, "output")),
              json_string_value(json_object_get(rec, "output")));
    json_decref(a);
    json_decref(b);
    char *ea = json_dumps(json_object_get(rec, "events"), 0);
    char *eb = json_dumps(json_object_get(other, "events"), 0);
    cr_assert_str_eq(eb, ea, "%s: other events than uninterrupted", arn);
    free(ea);
    free(eb);
  }
  json_decref(got);
}

Test(crash, sigkill_at_random_moments_loses_and_repeats_nothing) {
  const char *env = getenv("WF_CRASH_KILLS");
  int kills_wanted = env && atoi(env) > 0 ? atoi(env) : 200;
  /* The reference: the same workload, uninterrupted. */
  char *ref_dir = wst_tmpdir();
  cr_assert_eq(finish(spawn(ref_dir), 120000), 0);
  json_t *want = read_results(ref_dir);
  wst_rmdir(ref_dir);

  /* Rounds on fresh stores until enough kills: each round kills its
   * worker again and again until the workload ends in one of them. */
  srand((unsigned)time(NULL));
  int kills = 0, rounds = 0;
  int64_t began = mono_ms();
  while (kills < kills_wanted) {
    char *dir = wst_tmpdir();
    rounds++;
    for (;;) {
      pid_t pid = spawn(dir);
      /* Somewhere in the worker's life: starting, resuming, committing. */
      int delay_ms = 2 + rand() % 60;
      struct timespec ts = {0, delay_ms * 1000000L};
      nanosleep(&ts, NULL);
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        /* It finished everything: this round is over. */
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the worker failed: %d", status);
        break;
      }
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      kills++;
    }
    check_round(dir, want);
    wst_rmdir(dir);
  }
  fprintf(stderr, "crash: %d kills in %d rounds, %lld ms\n", kills, rounds,
          (long long)(mono_ms() - began));
  json_decref(want);
}

