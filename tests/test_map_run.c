/* Map Runs (workflow/map_run.h): a Distributed Map's run listed by its
 * execution and described by its ARN (status, dates, the counts of child
 * executions and items, MaxConcurrency and tolerances), and updated while
 * it runs: more concurrency starts waiting children, a tolerance raised
 * lets failures pass. Children wait in a handler the test completes, so
 * every step waits on an event. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "fanout_support.h"
#include "map_run_support.h"
#include "store_support.h"
#include "support.h"
#include "workflow/workflow.h"

#define FN WFX_FN

/* Complete task i: succeed with its input, or fail. */
static void complete(holder *h, int i, bool ok) {
  pthread_mutex_lock(&h->mu);
  wf_task *t = h->tasks[i];
  pthread_mutex_unlock(&h->mu);
  if (ok)
    wf_task_succeed(t, wf_task_input(t));
  else
    wf_task_fail(t, "Child.Failed", "as asked");
  wf_task_release(t);
  pthread_mutex_lock(&h->mu);
  h->tasks[i] = NULL; /* completed */
  pthread_mutex_unlock(&h->mu);
}

static int copy_info(const wf_map_run_info *run, void *payload) {
  json_t *list = payload;
  json_array_append_new(
      list, json_pack("{s:s,s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:f,s:{s:I,s:I,s:I,"
                      "s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I}}",
                      "arn", run->map_run_arn, "exec", run->execution_arn,
                      "machine", run->state_machine_arn, "status",
                      (int)run->status, "start", (json_int_t)run->start_ms,
                      "stop", (json_int_t)run->stop_ms, "maxc",
                      (json_int_t)run->max_concurrency, "tcount",
                      (json_int_t)run->tolerated_failure_count, "tpct",
                      run->tolerated_failure_percentage, "x", "pending",
                      (json_int_t)run->executions.pending, "running",
                      (json_int_t)run->executions.running, "succeeded",
                      (json_int_t)run->executions.succeeded, "failed",
                      (json_int_t)run->executions.failed, "aborted",
                      (json_int_t)run->executions.aborted, "total",
                      (json_int_t)run->executions.total, "written",
                      (json_int_t)run->executions.results_written, "items",
                      "total", (json_int_t)run->items.total, "succeeded",
                      (json_int_t)run->items.succeeded, "pending",
                      (json_int_t)run->items.pending));
  return 0;
}

static json_t *list_runs(wf_engine *e, const char *execution_arn) {
  json_t *list = json_array();
  cr_assert_eq(
      wf_engine_list_map_runs(e, execution_arn, copy_info, list, NULL),
      WF_OK);
  return list;
}

static json_t *describe(wf_engine *e, const char *arn) {
  json_t *list = json_array();
  wf_error err;
  cr_assert_eq(wf_engine_describe_map_run(e, arn, copy_info, list, &err), WF_OK,
               "%s", err.message);
  cr_assert_eq(json_array_size(list), 1);
  json_t *one = json_incref(json_array_get(list, 0));
  json_decref(list);
  return one;
}

static json_int_t count(json_t *run, const char *group, const char *key) {
  return json_integer_value(json_object_get(json_object_get(run, group), key));
}

/* The execution's Map Runs once its first one's executionCounts `key` is
 * n. On a durable store a handler may hold its task before the commit
 * that records the child's start (only a callback task waits for it):
 * the store is polled, real time, bounded, as test_durable does. */
static json_t *runs_when(wf_engine *e, const char *execution_arn,
                         const char *key, json_int_t n) {
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (;;) {
    json_t *runs = list_runs(e, execution_arn);
    json_t *r = json_array_get(runs, 0);
    if (r && count(r, "x", key) == n) return runs;
    json_decref(runs);
    cr_assert_lt(wft_mono_ms(), until, "executionCounts.%s never reached %d",
                 key, (int)n);
    wft_sleep_ms(1);
  }
}

#define MAP(fields)                                                        \
  "{'StartAt':'Fan','States':{'Fan':{'Type':'Map','End':true,'Label':"     \
  "'Orders'," fields "'ItemProcessor':{'ProcessorConfig':{'Mode':"         \
  "'DISTRIBUTED','ExecutionType':'STANDARD'},'StartAt':'C','States':{"     \
  "'C':{'Type':'Task','Resource':'" FN "Hold','End':true}}}}}}"

Test(map_run, a_run_is_listed_counted_and_widened_while_it_runs) {
  wf_engine *e = wfx_engine(0, NULL);
  holder h = {.mu = PTHREAD_MUTEX_INITIALIZER, .held = WFX_COUNT_INIT};
  wft_register(e, FN "Hold", hold, &h, 0);
  wf_machine *m = wfx_load(MAP("'MaxConcurrency':1,'ToleratedFailurePercentage':"
                               "50,'ItemBatcher':{'MaxItemsPerBatch':2},"));
  /* Five items in three batches (two, two, one): three children. */
  wf_execution *x = wfx_start(e, m, "[1,2,3,4,5]");
  cr_assert(wfx_count_wait(&h.held, 1, WFT_WAIT_MS));
  json_t *runs = list_runs(e, wf_execution_arn(x));
  cr_assert_eq(json_array_size(runs), 1);
  json_t *r = json_array_get(runs, 0);
  const char *arn = json_string_value(json_object_get(r, "arn"));
  cr_assert_not_null(strstr(arn, ":mapRun:"), "%s", arn);
  cr_assert_not_null(strstr(arn, "/Orders:"), "%s", arn);
  cr_assert_str_eq(json_string_value(json_object_get(r, "exec")),
                   wf_execution_arn(x));
  cr_assert_not_null(
      strstr(json_string_value(json_object_get(r, "machine")), "/Orders"));
  cr_assert_eq(json_integer_value(json_object_get(r, "status")),
               WF_MAP_RUN_RUNNING);
  cr_assert_eq(json_integer_value(json_object_get(r, "stop")), 0);
  cr_assert_eq(json_integer_value(json_object_get(r, "maxc")), 1);
  cr_assert_eq(json_real_value(json_object_get(r, "tpct")), 50.0);
  cr_assert_eq(count(r, "x", "total"), 3);
  cr_assert_eq(count(r, "x", "running"), 1);
  cr_assert_eq(count(r, "x", "pending"), 2);
  cr_assert_eq(count(r, "items", "total"), 5);
  cr_assert_eq(count(r, "items", "pending"), 3);
  /* Wider: the two waiting children start at once. */
  wf_map_run_update u = WF_MAP_RUN_UPDATE_INIT;
  u.set = WF_MAP_RUN_SET_MAX_CONCURRENCY;
  u.max_concurrency = 3;
  cr_assert_eq(wf_engine_update_map_run(e, arn, &u, NULL), WF_OK);
  cr_assert(wfx_count_wait(&h.held, 3, WFT_WAIT_MS),
            "the waiting children did not start");
  json_t *d = describe(e, arn);
  cr_assert_eq(json_integer_value(json_object_get(d, "maxc")), 3);
  cr_assert_eq(count(d, "x", "running"), 3);
  json_decref(d);
  for (int i = 0; i < 3; i++) complete(&h, i, i != 1);
  wft_wait(x);
  wft_assert_succeeded(x, NULL);
  d = describe(e, arn);
  cr_assert_eq(json_integer_value(json_object_get(d, "status")),
               WF_MAP_RUN_SUCCEEDED);
  cr_assert_geq(json_integer_value(json_object_get(d, "stop")),
                json_integer_value(json_object_get(d, "start")));
  cr_assert_gt(json_integer_value(json_object_get(d, "stop")), 0);
  cr_assert_eq(count(d, "x", "succeeded"), 2);
  cr_assert_eq(count(d, "x", "failed"), 1);
  cr_assert_eq(count(d, "x", "running"), 0);
  cr_assert_eq(count(d, "x", "written"), 0);
  json_decref(d);
  json_decref(runs);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(map_run, a_raised_tolerance_lets_failures_pass) {
  wf_engine *e = wfx_engine(0, NULL);
  holder h = {.mu = PTHREAD_MUTEX_INITIALIZER, .held = WFX_COUNT_INIT};
  wft_register(e, FN "Hold", hold, &h, 0);
  wf_machine *m = wfx_load(MAP(""));
  wf_execution *x = wfx_start(e, m, "[1,2,3]");
  cr_assert(wfx_count_wait(&h.held, 3, WFT_WAIT_MS));
  json_t *runs = list_runs(e, wf_execution_arn(x));
  const char *arn =
      json_string_value(json_object_get(json_array_get(runs, 0), "arn"));
  wf_map_run_update u;
  cr_assert_eq(wf_map_run_update_init(&u, WF_MAP_RUN_UPDATE_VERSION), WF_OK);
  u.set = WF_MAP_RUN_SET_TOLERATED_COUNT | WF_MAP_RUN_SET_TOLERATED_PERCENTAGE;
  u.tolerated_failure_count = 2;
  u.tolerated_failure_percentage = 100;
  cr_assert_eq(wf_engine_update_map_run(e, arn, &u, NULL), WF_OK);
  json_t *d = describe(e, arn);
  cr_assert_eq(json_integer_value(json_object_get(d, "tcount")), 2);
  json_decref(d);
  complete(&h, 0, false);
  complete(&h, 1, false);
  complete(&h, 2, true);
  wft_wait(x);
  wft_assert_succeeded(x, NULL);
  json_decref(runs);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- child executions ---- */

/* Complete the held task whose input is `input`. */
static void complete_input(holder *h, const char *input, bool ok) {
  for (int i = 0;; i++) {
    pthread_mutex_lock(&h->mu);
    cr_assert_lt(i, h->n, "no task holds %s", input);
    bool match =
        h->tasks[i] && strcmp(wf_task_input(h->tasks[i]), input) == 0;
    pthread_mutex_unlock(&h->mu);
    if (match) {
      complete(h, i, ok);
      return;
    }
  }
}

static int copy_child(const wf_map_run_child *k, void *payload) {
  json_t *o = json_pack(
      "{s:i,s:s,s:s,s:s,s:s,s:s,s:I,s:i,s:I,s:I,s:I}", "version",
      (int)k->version, "arn", k->execution_arn, "name", k->name, "run",
      k->map_run_arn, "machine", k->state_machine_arn, "parent",
      k->parent_arn, "index", (json_int_t)k->index, "status", (int)k->status,
      "start", (json_int_t)k->start_ms, "stop", (json_int_t)k->stop_ms,
      "items", (json_int_t)k->item_count);
  const char *texts[4] = {k->input, k->output, k->error, k->cause};
  const char *keys[4] = {"input", "output", "error", "cause"};
  for (int i = 0; i < 4; i++)
    if (texts[i]) json_object_set_new(o, keys[i], json_string(texts[i]));
  json_array_append_new(payload, o);
  return 0;
}

/* Stops after the first child: a page of one. */
static int first_child(const wf_map_run_child *k, void *payload) {
  copy_child(k, payload);
  return 1;
}

static json_t *children(wf_engine *e, const char *run, int64_t before) {
  json_t *list = json_array();
  wf_error err;
  cr_assert_eq(wf_engine_list_map_run_children(e, run, before, copy_child,
                                               list, &err),
               WF_OK, "%s", err.message);
  return list;
}

static json_t *child(wf_engine *e, const char *arn) {
  json_t *list = json_array();
  wf_error err;
  cr_assert_eq(wf_engine_describe_map_run_child(e, arn, copy_child, list,
                                                &err),
               WF_OK, "%s", err.message);
  cr_assert_eq(json_array_size(list), 1);
  json_t *one = json_incref(json_array_get(list, 0));
  json_decref(list);
  return one;
}

static const char *str(json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

static json_int_t num(json_t *o, const char *key) {
  return json_integer_value(json_object_get(o, key));
}

Test(map_run, child_executions_are_listed_newest_first_and_described) {
  wf_engine *e = wfx_engine(0, NULL);
  holder h = {.mu = PTHREAD_MUTEX_INITIALIZER, .held = WFX_COUNT_INIT};
  wft_register(e, FN "Hold", hold, &h, 0);
  wf_machine *m =
      wfx_load(MAP("'MaxConcurrency':2,'ToleratedFailureCount':1,"));
  wf_execution *x = wfx_start(e, m, "[10,20,30]");
  cr_assert(wfx_count_wait(&h.held, 2, WFT_WAIT_MS));
  json_t *runs = list_runs(e, wf_execution_arn(x));
  char *run = strdup(str(json_array_get(runs, 0), "arn"));
  json_decref(runs);
  /* Two started, the third waits: not listed (it does not exist yet). */
  json_t *l = children(e, run, 0);
  cr_assert_eq(json_array_size(l), 2);
  json_t *c1 = json_array_get(l, 0), *c0 = json_array_get(l, 1);
  cr_assert_eq(num(c1, "index"), 1);
  cr_assert_eq(num(c0, "index"), 0);
  cr_assert_eq(num(c0, "version"), WF_MAP_RUN_CHILD_VERSION);
  cr_assert_eq(num(c0, "status"), WF_EXEC_RUNNING);
  cr_assert_eq(num(c0, "stop"), 0);
  cr_assert_gt(num(c0, "start"), 0);
  cr_assert_eq(num(c0, "items"), 1);
  cr_assert_str_eq(str(c0, "run"), run);
  cr_assert_str_eq(str(c0, "parent"), wf_execution_arn(x));
  cr_assert_null(json_object_get(c0, "input"), "a listing has no input");
  /* arn:aws:states:R:A:execution:MACHINE/Orders:NAME, NAME a UUID. */
  const char *name = str(c0, "name");
  cr_assert_eq(strlen(name), 36);
  cr_assert_eq(name[14], '4');
  char *want = wft_strf("%.*s:execution:%s:%s",
                        (int)(strstr(run, ":mapRun:") - run), run,
                        strstr(str(c0, "machine"), ":stateMachine:") +
                            strlen(":stateMachine:"),
                        name);
  cr_assert_str_eq(str(c0, "arn"), want);
  cr_assert_not_null(strstr(want, "/Orders:"), "%s", want);
  cr_assert_str_neq(str(c1, "name"), name);
  /* Paged: below index 1, only child 0; a callback stopping ends it. */
  json_t *below = children(e, run, 1);
  cr_assert_eq(json_array_size(below), 1);
  cr_assert_str_eq(str(json_array_get(below, 0), "arn"), want);
  json_decref(below);
  json_t *one = json_array();
  cr_assert_eq(wf_engine_list_map_run_children(e, run, 0, first_child, one,
                                               NULL),
               WF_OK);
  cr_assert_eq(json_array_size(one), 1);
  json_decref(one);
  json_t *d = child(e, want);
  cr_assert_str_eq(str(d, "input"), "10");
  cr_assert_null(json_object_get(d, "output"));
  cr_assert_eq(num(d, "status"), WF_EXEC_RUNNING);
  json_decref(d);
  /* Child 0 succeeds, child 1 fails (tolerated), child 2 then runs. */
  complete_input(&h, "10", true);
  complete_input(&h, "20", false);
  cr_assert(wfx_count_wait(&h.held, 3, WFT_WAIT_MS));
  complete_input(&h, "30", true);
  wft_wait(x);
  wft_assert_succeeded(x, NULL);
  d = child(e, want);
  cr_assert_eq(num(d, "status"), WF_EXEC_SUCCEEDED);
  cr_assert_str_eq(str(d, "output"), "10");
  cr_assert_geq(num(d, "stop"), num(d, "start"));
  cr_assert_null(json_object_get(d, "error"));
  json_decref(d);
  d = child(e, str(c1, "arn"));
  cr_assert_eq(num(d, "status"), WF_EXEC_FAILED);
  cr_assert_str_eq(str(d, "error"), "Child.Failed");
  cr_assert_str_eq(str(d, "cause"), "as asked");
  cr_assert_null(json_object_get(d, "output"));
  json_decref(d);
  json_t *all = children(e, run, 0);
  cr_assert_eq(json_array_size(all), 3);
  cr_assert_eq(num(json_array_get(all, 0), "index"), 2);
  cr_assert_eq(num(json_array_get(all, 0), "status"), WF_EXEC_SUCCEEDED);
  json_decref(all);
  json_decref(l);
  free(want);
  free(run);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* Children of a run that does not exist, and ARNs no child has. */
static void unknown_children(wf_engine *e) {
  wf_error err;
  json_t *list = json_array();
  const char *run = "arn:aws:states:us-east-1:123456789012:mapRun:M/L:x";
  cr_assert_eq(wf_engine_list_map_run_children(e, run, 0, copy_child, list,
                                               &err),
               WF_ENOTFOUND);
  cr_assert_str_eq(err.message, "Map Run Does Not Exist: "
                                "'arn:aws:states:us-east-1:123456789012:"
                                "mapRun:M/L:x'");
#define CHILD_ARN "arn:aws:states:us-east-1:123456789012:execution:M/L:" \
                  "0f3bd8f0-7f2c-4c4e-a6b3-9d2b1e0c9a11"
  const char *arns[] = {
      CHILD_ARN, "arn:aws:states:us-east-1:123456789012:execution:M:x",
      "nope", ""};
  for (size_t i = 0; i < 4; i++) {
    cr_assert_eq(wf_engine_describe_map_run_child(e, arns[i], copy_child,
                                                  list, &err),
                 WF_ENOTFOUND, "%s", arns[i]);
    cr_assert_not_null(strstr(err.message, "Execution Does Not Exist"));
  }
  cr_assert_eq(wf_engine_describe_map_run_child(e, NULL, copy_child, list,
                                                &err),
               WF_EINVAL);
  cr_assert_eq(wf_engine_list_map_run_children(e, run, 0, NULL, list, &err),
               WF_EINVAL);
  cr_assert_eq(json_array_size(list), 0);
  json_decref(list);
}

Test(map_run, unknown_runs_and_bad_updates) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_error err;
  json_t *list = json_array();
  const char *arn = "arn:aws:states:us-east-1:123456789012:mapRun:M/L:x";
  cr_assert_eq(wf_engine_describe_map_run(e, arn, copy_info, list, &err),
               WF_ENOTFOUND);
  cr_assert_str_eq(err.message,
                   "Map Run Does Not Exist: "
                   "'arn:aws:states:us-east-1:123456789012:mapRun:M/L:x'");
  cr_assert_eq(wf_engine_list_map_runs(e, "arn:nope", copy_info, list, NULL),
               WF_OK);
  cr_assert_eq(json_array_size(list), 0);
  wf_map_run_update u = WF_MAP_RUN_UPDATE_INIT;
  u.set = WF_MAP_RUN_SET_MAX_CONCURRENCY;
  u.max_concurrency = 1;
  cr_assert_eq(wf_engine_update_map_run(e, arn, &u, &err), WF_ENOTFOUND);
  u.max_concurrency = -1;
  cr_assert_eq(wf_engine_update_map_run(e, arn, &u, &err), WF_EINVAL);
  u.set = WF_MAP_RUN_SET_TOLERATED_PERCENTAGE;
  u.tolerated_failure_percentage = 101;
  cr_assert_eq(wf_engine_update_map_run(e, arn, &u, &err), WF_EINVAL);
  u.version = 7;
  cr_assert_eq(wf_engine_update_map_run(e, arn, &u, &err), WF_EVERSION);
  json_decref(list);
  unknown_children(e);
  wf_engine_free(e);
}

/* ---- a restart ---- */

static json_t *names(json_t *children) {
  json_t *out = json_array();
  size_t i;
  json_t *k;
  json_array_foreach(children, i, k)
      json_array_append_new(out, json_string(str(k, "arn")));
  return out;
}

Test(map_run, runs_and_children_survive_a_restart) {
  char *dir = wst_tmpdir();
  holder h = {.mu = PTHREAD_MUTEX_INITIALIZER, .held = WFX_COUNT_INIT};
  wf_store *s;
  wf_engine *e = durable_engine(&s, "sqlite", dir, &h);
  wf_machine *m = wfx_load(MAP("'MaxConcurrency':2,"));
  wf_execution *x = wfx_start(e, m, "[1,2,3]");
  char *exec = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  cr_assert(wfx_count_wait(&h.held, 2, WFT_WAIT_MS));
  json_t *runs = runs_when(e, exec, "running", 2);
  char *run = strdup(str(json_array_get(runs, 0), "arn"));
  json_decref(runs);
  json_t *before = names(children(e, run, 0));
  cr_assert_eq(json_array_size(before), 2);
  durable_stop(e, s, &h);

  /* Resumed: the same run, its counts and children, read from the store;
   * its two children called again. */
  e = durable_engine(&s, "sqlite", dir, &h);
  size_t n = 0;
  cr_assert_eq(wf_engine_resume(e, &n, NULL), WF_OK);
  cr_assert_eq(n, 1);
  runs = list_runs(e, exec);
  cr_assert_eq(json_array_size(runs), 1);
  json_t *r = json_array_get(runs, 0);
  cr_assert_str_eq(str(r, "arn"), run);
  cr_assert_eq(num(r, "status"), WF_MAP_RUN_RUNNING);
  cr_assert_eq(count(r, "x", "running"), 2);
  cr_assert_eq(count(r, "x", "pending"), 1);
  cr_assert_eq(num(r, "maxc"), 2);
  json_decref(runs);
  json_t *after = names(children(e, run, 0));
  cr_assert(json_equal(before, after));
  json_t *d = child(e, json_string_value(json_array_get(after, 1)));
  cr_assert_str_eq(str(d, "input"), "1");
  cr_assert_eq(num(d, "status"), WF_EXEC_RUNNING);
  json_decref(d);
  /* The resumed run is widened: its third child starts. */
  cr_assert(wfx_count_wait(&h.held, 4, WFT_WAIT_MS));
  wf_map_run_update u = WF_MAP_RUN_UPDATE_INIT;
  u.set = WF_MAP_RUN_SET_MAX_CONCURRENCY;
  u.max_concurrency = 3;
  cr_assert_eq(wf_engine_update_map_run(e, run, &u, NULL), WF_OK);
  cr_assert(wfx_count_wait(&h.held, 5, WFT_WAIT_MS));
  wf_execution *y = NULL;
  cr_assert_eq(wf_engine_find_execution(&y, e, exec), WF_OK);
  complete_input(&h, "1", true);
  complete_input(&h, "2", true);
  complete_input(&h, "3", true);
  wft_wait(y);
  wft_assert_succeeded(y, "[1,2,3]");
  wf_execution_free(y);
  durable_stop(e, s, &h);

  /* Ended, and read again by an engine with nothing to resume. */
  e = durable_engine(&s, "sqlite", dir, &h);
  cr_assert_eq(wf_engine_resume(e, &n, NULL), WF_OK);
  cr_assert_eq(n, 0);
  runs = list_runs(e, exec);
  r = json_array_get(runs, 0);
  cr_assert_eq(num(r, "status"), WF_MAP_RUN_SUCCEEDED);
  cr_assert_eq(count(r, "x", "succeeded"), 3);
  cr_assert_eq(num(r, "maxc"), 3);
  cr_assert_gt(num(r, "stop"), 0);
  json_decref(runs);
  json_t *all = children(e, run, 0);
  cr_assert_eq(json_array_size(all), 3);
  for (size_t i = 0; i < 3; i++)
    cr_assert_eq(num(json_array_get(all, i), "status"), WF_EXEC_SUCCEEDED);
  d = child(e, str(json_array_get(all, 1), "arn"));
  cr_assert_str_eq(str(d, "output"), "2");
  json_decref(d);
  json_decref(all);
  json_decref(before);
  json_decref(after);
  durable_stop(e, s, &h);
  free(run);
  free(exec);
  wf_machine_free(m);
  wst_rmdir(dir);
}
