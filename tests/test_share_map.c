/* A Distributed Map's children spread over the workers of a shared
 * PostgreSQL store (map_shard.c): two engines in this process, each on its
 * own store handle opened shared on one database, as two processes would
 * be. Both run children of a Map one of them runs; the Map's result, its
 * Map Run and its children's records and histories are what one worker
 * would give; failures are weighed by the parent; stopping the parent
 * stops the children wherever they run; a worker that goes hands its
 * shares to the other. Kills of real processes: test_share_workers.c. */
#include <criterion/criterion.h>
#include <pthread.h>

#include "engine_support.h"
#include "store_support.h"
#include "workflow/json.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define LEASE_MS 600

/* A Distributed Map over $.items whose children call FN<task>. */
static char *map_def(const char *task, const char *extra) {
  char *d = NULL;
  cr_assert(asprintf(&d,
                     "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\","
                     "\"ItemsPath\":\"$.items\",%s\"ItemProcessor\":{"
                     "\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\","
                     "\"ExecutionType\":\"STANDARD\"},\"StartAt\":\"T\","
                     "\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN
                     "%s\",\"End\":true}}},\"End\":true}}}",
                     extra, task) > 0);
  return d;
}

static char *items(int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(a, json_pack("{s:i}", "i", i));
  json_t *o = json_pack("{s:o}", "items", a);
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return text;
}

/* ---- the workers and what their handlers hold ---- */

typedef struct worker {
  const char *name;
  wf_store *store;
  wf_engine *engine;
  wf_task *held[256];
  int nheld, calls, redelivered;
} worker;

static pthread_mutex_t MU = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t CV = PTHREAD_COND_INITIALIZER;
static int CALLS;

static void hold(wf_task *t, void *p) {
  worker *w = p;
  wf_task_retain(t);
  pthread_mutex_lock(&MU);
  if (w->nheld < 256) w->held[w->nheld++] = t;
  else wf_task_release(t);
  w->calls++;
  w->redelivered += wf_task_redelivered(t) != 0;
  CALLS++;
  pthread_cond_broadcast(&CV);
  pthread_mutex_unlock(&MU);
}

/* Answers at once: fails the items whose i is a multiple of 3. */
static void judge(wf_task *t, void *p) {
  worker *w = p;
  pthread_mutex_lock(&MU);
  w->calls++;
  CALLS++;
  pthread_mutex_unlock(&MU);
  json_int_t i = json_integer_value(json_object_get(wf_task_input_value(t), "i"));
  if (i % 3 == 0) wf_task_fail(t, "Bad", "a multiple of three");
  else wf_task_succeed(t, "{\"ok\":true}");
}

/* Fails item 0 the first time only; counts the calls of each item. */
static int FLAKY_CALLS[64];

static void flaky(wf_task *t, void *p) {
  (void)p;
  json_int_t i =
      json_integer_value(json_object_get(wf_task_input_value(t), "i"));
  pthread_mutex_lock(&MU);
  int calls = i >= 0 && i < 64 ? ++FLAKY_CALLS[i] : 0;
  pthread_mutex_unlock(&MU);
  if (i == 0 && calls == 1) wf_task_fail(t, "Bad", "once");
  else wf_task_succeed(t, "{\"ok\":true}");
}

static char *DIR_;
static char *CONNINFO;
/* Every test's two workers, and what it made (freed after it). */
static worker A, B;
static worker *BOTH[2] = {&A, &B};
static char *DEF, *IN, *ARN;

static void worker_start(worker *w, const char *name);
static void worker_stop(worker *w);

static void setup(void) {
  CALLS = 0;
  memset(FLAKY_CALLS, 0, sizeof FLAKY_CALLS);
  DIR_ = wst_tmpdir();
  CONNINFO = wst_pg_conninfo(DIR_);
  worker_start(&A, "a");
  worker_start(&B, "b");
}

static void teardown(void) {
  worker_stop(&A);
  worker_stop(&B);
  free(DEF);
  free(IN);
  free(ARN);
  DEF = IN = ARN = NULL;
  free(CONNINFO);
  wst_rmdir(DIR_);
}

static void worker_start(worker *w, const char *name) {
  memset(w, 0, sizeof *w);
  w->name = name;
  w->engine = wft_shared_engine(CONNINFO, LEASE_MS, &w->store);
  wft_register(w->engine, FN "Hold", hold, w, 0);
  wft_register(w->engine, FN "Judge", judge, w, 0);
  wft_register(w->engine, FN "Flaky", flaky, w, 0);
  wf_error err;
  cr_assert_eq(wf_engine_resume(w->engine, NULL, &err), WF_OK, "%s",
               err.message);
}

static void worker_stop(worker *w) {
  if (!w->engine) return;
  wf_engine_free(w->engine);
  wf_store_free(w->store);
  pthread_mutex_lock(&MU);
  for (int i = 0; i < w->nheld; i++)
    if (w->held[i]) wf_task_release(w->held[i]);
  w->nheld = 0;
  pthread_mutex_unlock(&MU);
  w->engine = NULL;
  w->store = NULL;
}

static char *start(worker *w, const char *def, const char *input) {
  wf_machine *m = wft_load_named(def, "Spread");
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_start(&x, w->engine, m, input, NULL, &err), WF_OK,
               "%s", err.message);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  wf_machine_free(m);
  return arn;
}

/* Start, on w, a Map of FN<task> over n items (DEF, IN, ARN). */
static void start_map(worker *w, const char *task, int n) {
  DEF = map_def(task, "");
  IN = items(n);
  ARN = start(w, DEF, IN);
}

/* Until both workers hold a task at least (bounded). */
static void wait_both_hold(worker *a, worker *b) {
  struct timespec until = wft_deadline(WFT_WAIT_MS);
  pthread_mutex_lock(&MU);
  while ((!a->nheld || !b->nheld) &&
         pthread_cond_timedwait(&CV, &MU, &until) == 0) {
  }
  bool both = a->nheld && b->nheld;
  pthread_mutex_unlock(&MU);
  cr_assert(both, "the children did not run on both workers (%d, %d)",
            a->nheld, b->nheld);
}

/* Answer what the workers hold, {"i": its item's, "by": the worker},
 * as they are given, until the execution `arn` has ended. */
static json_t *answer_until_ended(worker **ws, int nw, const char *arn) {
  int64_t until = wft_mono_ms() + 4 * WFT_WAIT_MS;
  for (;;) {
    json_t *x = wst_execution(ws[0]->store, arn);
    if (x && json_integer_value(json_object_get(x, "status")) !=
                 WF_EXEC_RUNNING)
      return x;
    json_decref(x);
    cr_assert_lt(wft_mono_ms(), until, "%s did not end", arn);
    wf_task *take[512];
    const char *by[512];
    int n = 0;
    pthread_mutex_lock(&MU);
    for (int k = 0; k < nw; k++) {
      for (int i = 0; i < ws[k]->nheld && n < 512; i++) {
        by[n] = ws[k]->name;
        take[n++] = ws[k]->held[i];
      }
      ws[k]->nheld = 0;
    }
    if (!n) {
      struct timespec wait = wft_deadline(20);
      pthread_cond_timedwait(&CV, &MU, &wait);
    }
    pthread_mutex_unlock(&MU);
    for (int i = 0; i < n; i++) {
      const json_t *in = wf_task_input_value(take[i]);
      json_t *out = json_pack("{s:O,s:s}", "i", json_object_get(in, "i"),
                              "by", by[i]);
      char *text = json_dumps(out, JSON_COMPACT);
      wf_task_succeed(take[i], text);
      free(text);
      json_decref(out);
      wf_task_release(take[i]);
    }
  }
}

/* The same, for an execution that must succeed: its output, parsed. */
static json_t *answer_until_succeeded(worker **ws, int nw, const char *arn) {
  json_t *x = answer_until_ended(ws, nw, arn);
  cr_assert_eq(json_integer_value(json_object_get(x, "status")),
               WF_EXEC_SUCCEEDED, "%s",
               json_string_value(json_object_get(x, "cause")));
  json_t *out = json_loads(json_string_value(json_object_get(x, "output")),
                           0, NULL);
  json_decref(x);
  return out;
}

typedef struct run_seen {
  char arn[512];
  wf_map_run_counts executions;
  wf_map_run_status status;
} run_seen;

static int keep_run(const wf_map_run_info *r, void *p) {
  run_seen *s = p;
  snprintf(s->arn, sizeof s->arn, "%s", r->map_run_arn);
  s->executions = r->executions;
  s->status = r->status;
  return 0;
}

static void map_run_of(wf_engine *e, const char *arn, run_seen *s) {
  wf_error err;
  memset(s, 0, sizeof *s);
  cr_assert_eq(wf_engine_list_map_runs(e, arn, keep_run, s, &err), WF_OK,
               "%s", err.message);
  cr_assert_neq(s->arn[0], '\0', "no Map Run of %s", arn);
  cr_assert_eq(wf_engine_describe_map_run(e, s->arn, keep_run, s, &err),
               WF_OK, "%s", err.message);
}

typedef struct children {
  json_t *list; /* [{arn, status}] */
} children;

static int keep_child(const wf_map_run_child *c, void *p) {
  children *k = p;
  json_array_append_new(k->list, json_pack("{s:s,s:i,s:I}", "arn",
                                           c->execution_arn, "status",
                                           (int)c->status, "index",
                                           (json_int_t)c->index));
  return 0;
}

static json_t *children_of(wf_engine *e, const char *run_arn) {
  children k = {json_array()};
  wf_error err;
  cr_assert_eq(wf_engine_list_map_run_children(e, run_arn, 0, keep_child, &k,
                                               &err),
               WF_OK, "%s", err.message);
  return k.list;
}

/* The event types, comma-separated, in a 512-byte buffer. */
static int add_type(const wf_store_event *ev, void *p) {
  char *types = p;
  size_t n = strlen(types);
  snprintf(types + n, 512 - n, "%s%s", n ? "," : "", ev->type);
  return 0;
}

TestSuite(share_map, .init = setup, .fini = teardown, .timeout = 180);

Test(share_map, children_run_on_every_worker_and_end_as_on_one) {
  start_map(&A, "Hold", 40);
  wait_both_hold(&A, &B);
  /* The results in item order, each item once, by either worker. */
  json_t *out = answer_until_succeeded(BOTH, 2, ARN);
  cr_assert_eq(json_array_size(out), 40);
  int by_b = 0;
  for (size_t i = 0; i < 40; i++) {
    json_t *r = json_array_get(out, i);
    cr_assert_eq(json_integer_value(json_object_get(r, "i")), (json_int_t)i);
    by_b += strcmp(json_string_value(json_object_get(r, "by")), "b") == 0;
  }
  cr_assert(by_b > 0 && by_b < 40, "b ran %d of 40", by_b);
  cr_assert_eq(A.calls + B.calls, 40, "%d calls", A.calls + B.calls);
  json_decref(out);
  /* The Map Run, as either worker reads it. */
  run_seen run;
  map_run_of(B.engine, ARN, &run);
  cr_assert_eq(run.status, WF_MAP_RUN_SUCCEEDED);
  cr_assert_eq(run.executions.succeeded, 40);
  cr_assert_eq(run.executions.running, 0);
  cr_assert_eq(run.executions.total, 40);
  /* Every child's record and history, whichever worker ran it. */
  json_t *kids = children_of(A.engine, run.arn);
  cr_assert_eq(json_array_size(kids), 40);
  size_t i;
  json_t *k;
  json_array_foreach(kids, i, k) {
    cr_assert_eq(json_integer_value(json_object_get(k, "status")),
                 WF_EXEC_SUCCEEDED);
    char types[512] = "";
    wf_error err;
    cr_assert_eq(wf_engine_read_map_run_child_events(
                     A.engine, json_string_value(json_object_get(k, "arn")), 0,
                     false, 0, add_type, types, &err),
                 WF_OK, "%s", err.message);
    cr_assert_str_eq(types,
                     "ExecutionStarted,TaskStateEntered,"
                     "LambdaFunctionScheduled,LambdaFunctionStarted,"
                     "LambdaFunctionSucceeded,TaskStateExited,"
                     "ExecutionSucceeded");
  }
  json_decref(kids);
  /* No work left in the store, nor the shares' ends. */
  cr_assert_eq(wpg_count(wst_pg_name(DIR_),
                         "SELECT count(*) FROM wf_executions WHERE work"),
               0);
  cr_assert_eq(wpg_count(wst_pg_name(DIR_),
                         "SELECT count(*) FROM wf_documents"
                         " WHERE kind LIKE 'wf.mapShard%'"),
               0);
}

Test(share_map, failures_are_weighed_by_the_parent) {
  /* 0, 3, 6, 9 fail: 4 of 10. */
  IN = items(10);
  char *ok_def = map_def("Judge", "\"ToleratedFailureCount\":4,");
  ARN = start(&A, ok_def, IN);
  json_t *out = answer_until_succeeded(BOTH, 2, ARN);
  for (size_t i = 0; i < 10; i++) {
    json_t *r = json_array_get(out, i);
    if (i % 3 == 0) {
      cr_assert_str_eq(json_string_value(json_object_get(r, "Error")), "Bad");
      cr_assert_str_eq(json_string_value(json_object_get(r, "Cause")),
                       "a multiple of three");
      cr_assert_null(json_object_get(r, "Last"));
    } else {
      cr_assert(json_is_true(json_object_get(r, "ok")));
    }
  }
  json_decref(out);
  char *bad_def = map_def("Judge", "\"ToleratedFailureCount\":3,");
  char *failed = start(&B, bad_def, IN);
  json_t *x = answer_until_ended(BOTH, 2, failed);
  cr_assert_eq(json_integer_value(json_object_get(x, "status")),
               WF_EXEC_FAILED);
  cr_assert_str_eq(json_string_value(json_object_get(x, "error")),
                   "States.ExceedToleratedFailureThreshold");
  json_decref(x);
  run_seen run;
  map_run_of(A.engine, failed, &run);
  cr_assert_eq(run.status, WF_MAP_RUN_FAILED);
  free(failed);
  free(ok_def);
  free(bad_def);
}

/* Until every child of the run has ended (bounded). */
static json_t *children_ended(wf_engine *e, const char *run_arn, size_t n) {
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (;;) {
    json_t *kids = children_of(e, run_arn);
    size_t i, running = 0;
    json_t *k;
    json_array_foreach(kids, i, k) running +=
        json_integer_value(json_object_get(k, "status")) == WF_EXEC_RUNNING;
    if (json_array_size(kids) == n && !running) return kids;
    char *text = json_dumps(kids, JSON_COMPACT);
    json_decref(kids);
    cr_assert_lt(wft_mono_ms(), until, "the children did not end: %s", text);
    free(text);
    wft_sleep_ms(5);
  }
}

Test(share_map, stopping_the_parent_stops_its_children_everywhere) {
  start_map(&A, "Hold", 8);
  wait_both_hold(&A, &B);
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_take_execution(&x, A.engine, ARN, &err), WF_OK,
               "%s", err.message);
  cr_assert_eq(wf_execution_stop(x, "Halt", "stopped"), WF_OK);
  wf_execution_free(x);
  run_seen run;
  map_run_of(A.engine, ARN, &run);
  cr_assert_eq(run.status, WF_MAP_RUN_ABORTED);
  /* The children that had started end ABORTED, wherever they ran. */
  json_t *kids = children_ended(B.engine, run.arn, 8);
  size_t i;
  json_t *k;
  json_array_foreach(kids, i, k) {
    cr_assert_eq(json_integer_value(json_object_get(k, "status")),
                 WF_EXEC_ABORTED);
  }
  json_decref(kids);
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  while (wpg_count(wst_pg_name(DIR_),
                   "SELECT count(*) FROM wf_executions WHERE work") != 0) {
    cr_assert_lt(wft_mono_ms(), until, "shares are left");
    wft_sleep_ms(5);
  }
}

Test(share_map, a_worker_that_goes_hands_its_shares_on) {
  start_map(&A, "Hold", 12);
  wait_both_hold(&A, &B);
  /* b goes with tasks in flight: a runs them again. */
  worker_stop(&B);
  worker *ws[1] = {&A};
  json_t *out = answer_until_succeeded(ws, 1, ARN);
  cr_assert_eq(json_array_size(out), 12);
  for (size_t i = 0; i < 12; i++)
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(out, i),
                                                    "i")),
                 (json_int_t)i);
  cr_assert_gt(A.redelivered, 0);
  json_decref(out);
}

/* A child's context is its parent's execution, wherever it runs (as when
 * the children run where their parent does). */
Test(share_map, a_childs_context_is_its_parents_execution) {
  const char *def =
      "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\","
      "\"ItemsPath\":\"$.items\",\"ItemProcessor\":{\"ProcessorConfig\":{"
      "\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":\"STANDARD\"},"
      "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
      "\"Parameters\":{\"id.$\":\"$$.Execution.Id\",\"tag.$\":"
      "\"$$.Execution.Input.tag\",\"index.$\":\"$$.Map.Item.Index\","
      "\"i.$\":\"$.i\"},\"End\":true}}},\"End\":true}}}";
  IN = items(6);
  json_t *o = json_loads(IN, 0, NULL);
  json_object_set_new(o, "tag", json_string("parent"));
  char *tagged = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  ARN = start(&B, def, tagged);
  json_t *out = answer_until_succeeded(BOTH, 2, ARN);
  cr_assert_eq(json_array_size(out), 6);
  for (size_t i = 0; i < 6; i++) {
    json_t *r = json_array_get(out, i);
    cr_assert_str_eq(json_string_value(json_object_get(r, "id")), ARN);
    cr_assert_str_eq(json_string_value(json_object_get(r, "tag")), "parent");
    cr_assert_eq(json_integer_value(json_object_get(r, "index")),
                 (json_int_t)i);
    cr_assert_eq(json_integer_value(json_object_get(r, "i")), (json_int_t)i);
  }
  json_decref(out);
  free(tagged);
}

/* A Map whose spread children failed is redriven on the parent's worker:
 * the children that succeeded are not run again, the others are. */
Test(share_map, a_redrive_reruns_only_the_children_that_did_not_succeed) {
  start_map(&A, "Flaky", 12);
  json_t *x = answer_until_ended(BOTH, 2, ARN);
  cr_assert_eq(json_integer_value(json_object_get(x, "status")),
               WF_EXEC_FAILED);
  json_decref(x);
  /* The children the first run saw succeed, by index. */
  run_seen run;
  map_run_of(A.engine, ARN, &run);
  json_t *kids = children_of(B.engine, run.arn);
  bool ok_before[12] = {false};
  size_t k;
  json_t *kid;
  json_array_foreach(kids, k, kid) {
    json_int_t i = json_integer_value(json_object_get(kid, "index"));
    if (i >= 0 && i < 12)
      ok_before[i] = json_integer_value(json_object_get(kid, "status")) ==
                     WF_EXEC_SUCCEEDED;
  }
  json_decref(kids);
  cr_assert(!ok_before[0]);
  int before[12];
  pthread_mutex_lock(&MU);
  memcpy(before, FLAKY_CALLS, sizeof before);
  pthread_mutex_unlock(&MU);
  wf_execution *again = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_redrive(&again, B.engine, ARN, &err), WF_OK, "%s",
               err.message);
  wf_execution_free(again);
  x = answer_until_ended(BOTH, 2, ARN);
  cr_assert_eq(json_integer_value(json_object_get(x, "status")),
               WF_EXEC_SUCCEEDED, "%s",
               json_string_value(json_object_get(x, "cause")));
  json_t *out = json_loads(json_string_value(json_object_get(x, "output")),
                           0, NULL);
  cr_assert_eq(json_array_size(out), 12);
  for (size_t i = 0; i < 12; i++) {
    cr_assert(json_is_true(json_object_get(json_array_get(out, i), "ok")),
              "result %zu", i);
    /* Not run again when it had succeeded; else run once more. */
    if (ok_before[i])
      cr_assert_eq(FLAKY_CALLS[i], before[i], "item %zu was run again", i);
    else
      cr_assert_eq(FLAKY_CALLS[i], before[i] + 1, "item %zu: %d then %d", i,
                   before[i], FLAKY_CALLS[i]);
  }
  json_decref(out);
  json_decref(x);
}

/* A ResultWriter (WriterConfig only: the records in the state's output)
 * writes every child's record, whichever worker ran it, in item order. */
Test(share_map, the_result_writer_has_every_childs_record) {
  const char *def =
      "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\","
      "\"ItemsPath\":\"$.items\",\"ResultWriter\":{\"WriterConfig\":{"
      "\"Transformation\":\"NONE\"}},\"ItemProcessor\":{\"ProcessorConfig\":{"
      "\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":\"STANDARD\"},"
      "\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":\""
      FN "Hold\",\"End\":true}}},\"End\":true}}}";
  IN = items(10);
  ARN = start(&A, def, IN);
  wait_both_hold(&A, &B);
  json_t *out = answer_until_succeeded(BOTH, 2, ARN);
  cr_assert_eq(json_array_size(out), 10);
  for (size_t i = 0; i < 10; i++) {
    json_t *r = json_array_get(out, i);
    cr_assert_str_eq(json_string_value(json_object_get(r, "Status")),
                     "SUCCEEDED");
    json_t *in = json_loads(json_string_value(json_object_get(r, "Input")), 0,
                            NULL);
    json_t *o = json_loads(json_string_value(json_object_get(r, "Output")), 0,
                           NULL);
    cr_assert_eq(json_integer_value(json_object_get(in, "i")), (json_int_t)i);
    cr_assert_eq(json_integer_value(json_object_get(o, "i")), (json_int_t)i);
    cr_assert(strstr(json_string_value(json_object_get(r, "ExecutionArn")),
                     ":execution:Spread/M:"));
    json_decref(in);
    json_decref(o);
  }
  json_decref(out);
}
