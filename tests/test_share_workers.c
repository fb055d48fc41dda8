/* Many worker processes on one shared PostgreSQL store (the throwaway
 * server of the "postgres" ctest fixture), killed with SIGKILL and stalled
 * with SIGSTOP past their lease while they run (tests/support/
 * share_worker.c): every execution any of them started ends SUCCEEDED
 * exactly once, with a whole history, and every task was called once but
 * for redeliveries, which say so. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "engine_support.h"
#include "store_support.h"

#define WORKERS 3
#define KILLS 50
#define WORKER WF_BINARY_DIR "/tests/bin/share_worker"

typedef struct farm {
  char *dir, *conninfo, *log, *stop;
  pid_t pids[WORKERS];
  int nworkers, generation, kills;
} farm;

static void spawn(farm *f, int i) {
  char prefix[32];
  snprintf(prefix, sizeof prefix, "w%dg%d", i, f->generation++);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    /* A worker never outlives the test (one that failed midway). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl(WORKER, WORKER, f->conninfo, f->log, f->stop, prefix, (char *)NULL);
    _exit(127);
  }
  f->pids[i] = pid;
}

static void kill_worker(farm *f, int i) {
  kill(f->pids[i], SIGKILL);
  int status;
  waitpid(f->pids[i], &status, 0);
  cr_assert(WIFSIGNALED(status), "worker %d ended before it was killed", i);
}

/* A running execution, if any: its ARN and events committed. */
typedef struct running {
  char arn[256];
  int64_t events;
} running;

static int note_running(const wf_store_execution *x, void *p) {
  running *r = p;
  snprintf(r->arn, sizeof r->arn, "%s", x->arn);
  r->events = x->event_count;
  return 0;
}

static bool any_running(wf_store *s, running *r) {
  r->arn[0] = '\0';
  wf_store_query q = WF_STORE_QUERY_INIT;
  q.status = WF_EXEC_RUNNING;
  q.limit = 1;
  wf_error err;
  cr_assert_eq(wf_store_list_executions(s, &q, note_running, r, &err),
               WF_OK, "%s", err.message);
  return r->arn[0] != '\0';
}

/* ---- checking the end ---- */

typedef struct tally {
  json_t *arns;
  size_t succeeded, other;
} tally;

static int note(const wf_store_execution *x, void *p) {
  tally *t = p;
  json_array_append_new(t->arns, json_string(x->arn));
  if (x->status == WF_EXEC_SUCCEEDED) t->succeeded++;
  else t->other++;
  return 0;
}

static int add_type(const wf_store_event *ev, void *p) {
  json_array_append_new(p, json_pack("{sIss}", "id", (json_int_t)ev->id,
                                     "type", ev->type));
  return 0;
}

static int MAPS_CHECKED;

/* The Distributed Map (share_worker.c's "w0g0-map"): every item's result
 * once, in order, whichever workers ran its children and however often
 * they were killed. */
static void check_map(wf_store *s, const char *arn) {
  json_t *x = wst_execution(s, arn);
  cr_assert_not_null(x);
  json_t *out = json_loads(json_string_value(json_object_get(x, "output")), 0,
                           NULL);
  cr_assert_eq(json_array_size(out), 200, "%s: %zu results", arn,
               json_array_size(out));
  for (size_t i = 0; i < 200; i++)
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(out, i),
                                                    "n")),
                 (json_int_t)i, "%s: result %zu", arn, i);
  json_decref(out);
  json_decref(x);
  MAPS_CHECKED++;
}

/* The history is whole: ids 1..n, one start, one end, two tasks done. */
static void check_history(wf_store *s, const char *arn) {
  if (strstr(arn, ":w0g0-map")) {
    check_map(s, arn);
    return;
  }
  json_t *a = json_array();
  wf_error err;
  cr_assert_eq(wf_store_read_events(s, arn, 0, false, 0, add_type, a, &err),
               WF_OK, "%s", err.message);
  size_t i;
  json_t *v;
  int started = 0, succeeded = 0, tasks = 0;
  json_array_foreach(a, i, v) {
    cr_assert_eq(json_integer_value(json_object_get(v, "id")),
                 (json_int_t)i + 1, "%s: event ids are not contiguous", arn);
    const char *type = json_string_value(json_object_get(v, "type"));
    started += strcmp(type, "ExecutionStarted") == 0;
    succeeded += strcmp(type, "ExecutionSucceeded") == 0;
    tasks += strcmp(type, "LambdaFunctionSucceeded") == 0;
  }
  cr_assert(started == 1 && succeeded == 1 && tasks == 2,
            "%s: %d starts, %d ends, %d tasks done", arn, started, succeeded,
            tasks);
  json_decref(a);
}

/* Each task attempt (its idempotency key) called once, but for calls
 * marked redelivered; returns how many were. */
static size_t check_calls(const char *log, size_t executions) {
  FILE *f = fopen(log, "r");
  cr_assert_not_null(f);
  json_t *first = json_object();
  char key[200];
  int again;
  size_t redelivered = 0;
  while (fscanf(f, "%199s %d", key, &again) == 2) {
    if (again) {
      redelivered++;
      continue;
    }
    cr_assert_null(json_object_get(first, key),
                   "task %s was called twice without a redelivery", key);
    json_object_set_new(first, key, json_true());
  }
  fclose(f);
  /* A redelivery may be the first call that got through: at least one
   * call per task, two tasks an execution. */
  cr_assert_geq(json_object_size(first) + redelivered, 2 * executions);
  json_decref(first);
  return redelivered;
}

/* ---- a farm of workers ---- */

static void farm_start(farm *f, const char *dir, const char *conninfo,
                       int workers) {
  f->dir = (char *)dir;
  f->conninfo = strdup(conninfo);
  f->log = wst_path(dir, "calls.log");
  f->stop = wst_path(dir, "stop");
  f->nworkers = workers;
  for (int i = 0; i < workers; i++) spawn(f, i);
}

/* The store as an observer reads it. */
static int open_observer(const farm *f, wf_store **s, wf_error *err) {
  wf_store_options ro = WF_STORE_OPTIONS_INIT;
  ro.read_only = true;
  wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
  po.store = &ro;
  return wf_store_postgres_open(s, f->conninfo, &po, err);
}

static wf_store *observe(const farm *f) {
  wf_store *s = NULL;
  wf_error err;
  cr_assert_eq(open_observer(f, &s, &err), WF_OK, "%s", err.message);
  return s;
}

/* Executions started, in all and by each worker (named "w<i>g..."). */
typedef struct started {
  size_t all, by[WORKERS];
} started;

static int count_started(const wf_store_execution *x, void *p) {
  started *s = p;
  s->all++;
  int i;
  if (sscanf(x->name, "w%dg", &i) == 1 && i >= 0 && i < WORKERS) s->by[i]++;
  return 0;
}

/* Wait until every worker has started `each` executions and all of them
 * `all` (an empty database, and reads that fail while it restarts, are
 * tried again); returns how many there are in all. */
static size_t wait_started(const farm *f, size_t each, size_t all) {
  wf_store *s = NULL;
  int64_t until = wft_mono_ms() + 60000;
  started n = {0};
  for (;;) {
    started seen = {0};
    wf_store_query q = WF_STORE_QUERY_INIT;
    if (!s && open_observer(f, &s, NULL) != WF_OK) s = NULL;
    if (s && wf_store_list_executions(s, &q, count_started, &seen, NULL) ==
                 WF_OK)
      n = seen;
    bool enough = n.all >= all;
    for (int i = 0; i < f->nworkers; i++) enough &= n.by[i] >= each;
    if (enough) break;
    cr_assert_lt(wft_mono_ms(), until,
                 "the workers started %zu executions in 60 s, not %zu", n.all,
                 all);
    wft_sleep_ms(20);
  }
  wf_store_free(s);
  return n.all;
}

static int note_map(const wf_store_execution *x, void *p) {
  if (strcmp(x->name, "w0g0-map") == 0) *(bool *)p = true;
  return 0;
}

/* Until the first worker has started its Distributed Map (bounded). */
static void wait_map_started(const farm *f) {
  wf_store *s = NULL;
  int64_t until = wft_mono_ms() + 60000;
  for (bool there = false; !there; wft_sleep_ms(10)) {
    /* The store is empty until a worker has written to it. */
    if (!s && open_observer(f, &s, NULL) != WF_OK) s = NULL;
    wf_store_query q = WF_STORE_QUERY_INIT;
    if (s) wf_store_list_executions(s, &q, note_map, &there, NULL);
    cr_assert_lt(wft_mono_ms(), until, "the Distributed Map did not start");
  }
  wf_store_free(s);
}

/* Stop starting, wait until nothing runs (the store read as an observer
 * would), end the workers, and check what they did. */
static void farm_finish(farm *f) {
  FILE *stop = fopen(f->stop, "w");
  cr_assert_not_null(stop);
  fclose(stop);
  wf_store *s = observe(f);
  wf_error err;
  int64_t until = wft_mono_ms() + 60000;
  running r;
  while (any_running(s, &r)) {
    cr_assert_lt(wft_mono_ms(), until,
                 "executions still run after 60 s: %s (%lld events)", r.arn,
                 (long long)r.events);
    wft_sleep_ms(50);
  }
  for (int i = 0; i < f->nworkers; i++) {
    kill(f->pids[i], SIGTERM);
    int status;
    waitpid(f->pids[i], &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "worker %d did not end cleanly", i);
  }
  tally t = {json_array(), 0, 0};
  wf_store_query q = WF_STORE_QUERY_INIT;
  cr_assert_eq(wf_store_list_executions(s, &q, note, &t, &err), WF_OK, "%s",
               err.message);
  cr_assert_gt(t.succeeded, 200, "only %zu executions ran", t.succeeded);
  cr_assert_eq(t.other, 0, "%zu executions did not succeed", t.other);
  size_t i;
  json_t *arn;
  json_array_foreach(t.arns, i, arn) check_history(s, json_string_value(arn));
  size_t redelivered = check_calls(f->log, t.succeeded);
  cr_log_info("%zu executions, %d kills, %zu redelivered task calls",
              t.succeeded, f->kills, redelivered);
  json_decref(t.arns);
  wf_store_free(s);
  free(f->log);
  free(f->stop);
  free(f->conninfo);
}

Test(share_workers, killed_and_stalled_workers_lose_and_repeat_nothing,
     .timeout = 300) {
  farm f = {0};
  char *dir = wst_tmpdir();
  char *conninfo = wst_pg_conninfo(dir);
  farm_start(&f, dir, conninfo, 3);
  wait_map_started(&f);
  /* Workers start executions all along; one dies every 150 ms (and comes
   * back), and twice one stalls for 1.5 s, past its 0.6 s lease. */
  for (int k = 0; k < KILLS; k++) {
    wft_sleep_ms(150);
    kill_worker(&f, k % f.nworkers);
    spawn(&f, k % f.nworkers);
    f.kills++;
    if (k == 20 || k == 40) {
      pid_t stalled = f.pids[(k + 1) % f.nworkers];
      kill(stalled, SIGSTOP);
      wft_sleep_ms(1500);
      kill(stalled, SIGCONT);
    }
  }
  farm_finish(&f);
  cr_assert_eq(MAPS_CHECKED, 1, "the Distributed Map was not run");
  free(conninfo);
  wst_rmdir(dir);
}

/* A server of the test's own (the fixture's serves other tests
 * meanwhile), stopped at once as a crash would and started again while
 * two workers run. */
Test(share_workers, workers_carry_on_through_a_database_restart,
     .timeout = 300) {
  const char *why;
  if (!wpg_server(&why)) cr_skip_test("%s", why);
  char *dir = wst_tmpdir();
  char *state = wst_path(dir, "pg");
  char cmd[512];
  snprintf(cmd, sizeof cmd, "sh %s/tests/pg_server.sh %%s %s > /dev/null",
           WF_SOURCE_DIR, state);
  char run[600];
  snprintf(run, sizeof run, cmd, "start");
  cr_assert_eq(system(run), 0);
  char *path = wst_path(state, "conninfo");
  FILE *c = fopen(path, "r");
  cr_assert_not_null(c);
  char server[300] = "", conninfo[400];
  cr_assert_not_null(fgets(server, sizeof server, c));
  fclose(c);
  free(path);
  server[strcspn(server, "\n")] = '\0';
  snprintf(conninfo, sizeof conninfo, "%s dbname=postgres", server);
  farm f = {0};
  farm_start(&f, dir, conninfo, 2);
  /* Restarted once both are well under way; they go on after it. */
  size_t before = wait_started(&f, 20, 100);
  snprintf(run, sizeof run, cmd, "restart");
  cr_assert_eq(system(run), 0);
  wait_started(&f, 0, before + 150);
  farm_finish(&f);
  snprintf(run, sizeof run, cmd, "stop");
  cr_assert_eq(system(run), 0);
  free(state);
  wst_rmdir(dir);
}
