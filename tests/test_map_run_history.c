/* A Distributed Map's child executions have histories of their own
 * (wf_engine_read_map_run_child_events): numbered from 1, ExecutionStarted
 * with the child's input to its ExecutionSucceeded, ExecutionFailed or
 * ExecutionAborted, committed a commit's events at a time and read in
 * pages either way; none of an EXPRESS child nor with WF_HISTORY_OFF; an
 * engine restarted on SQLite or PostgreSQL (the ctest fixture "postgres";
 * skipped without one) goes on with the same histories; a STANDARD child
 * redriven by its parent's redrive goes on with its history after
 * ExecutionRedriven, from the state it failed in (what succeeded before
 * is not rerun); an EXPRESS child starts anew. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "fanout_support.h"
#include "map_run_support.h"
#include "store_support.h"
#include "support.h"
#include "workflow/workflow.h"

#define FN WFX_FN

/* Complete the held task whose input is `input`: succeed with its input,
 * or fail. */
static void complete(holder *h, const char *input, bool ok) {
  for (int i = 0;; i++) {
    pthread_mutex_lock(&h->mu);
    cr_assert_lt(i, h->n, "no task holds %s", input);
    wf_task *t = h->tasks[i];
    bool match = t && strcmp(wf_task_input(t), input) == 0;
    if (match) h->tasks[i] = NULL;
    pthread_mutex_unlock(&h->mu);
    if (!match) continue;
    if (ok)
      wf_task_succeed(t, wf_task_input(t));
    else
      wf_task_fail(t, "Child.Failed", "as asked");
    wf_task_release(t);
    return;
  }
}

#define MAP(type, fields)                                                  \
  "{'StartAt':'Fan','States':{'Fan':{'Type':'Map','End':true,'Label':"     \
  "'Orders'," fields "'ItemProcessor':{'ProcessorConfig':{'Mode':"         \
  "'DISTRIBUTED','ExecutionType':'" type "'},'StartAt':'P','States':{"     \
  "'P':{'Type':'Pass','Next':'C'},"                                        \
  "'C':{'Type':'Task','Resource':'" FN "Hold','End':true}}}}}}"

static int first_run(const wf_map_run_info *run, void *payload) {
  *(char **)payload = strdup(run->map_run_arn);
  return 1;
}

static int add_child(const wf_map_run_child *k, void *payload) {
  json_array_insert_new(payload, 0, json_string(k->execution_arn));
  return 0;
}

/* The ARNs of the n children of x's first Map Run, by index, once
 * committed (polled, bounded: a durable store may hand a task to its
 * handler before the commit that records its child's start). */
static json_t *child_arns(wf_engine *e, const char *exec, size_t n) {
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (;;) {
    char *run = NULL;
    cr_assert_eq(wf_engine_list_map_runs(e, exec, first_run, &run, NULL),
                 WF_OK);
    json_t *arns = json_array();
    if (run)
      cr_assert_eq(wf_engine_list_map_run_children(e, run, 0, add_child,
                                                   arns, NULL),
                   WF_OK);
    free(run);
    if (json_array_size(arns) == n) return arns;
    json_decref(arns);
    cr_assert_lt(wft_mono_ms(), until, "%d children never listed", (int)n);
    wft_sleep_ms(1);
  }
}

/* A page of a child's history (wst_add_event's shape). */
static json_t *page(wf_engine *e, const char *arn, int64_t from,
                    bool reverse, size_t limit) {
  json_t *a = json_array();
  wf_error err;
  cr_assert_eq(wf_engine_read_map_run_child_events(e, arn, from, reverse,
                                                   limit, wst_add_event, a,
                                                   &err),
               WF_OK, "%s", err.message);
  return a;
}

static json_int_t id_at(json_t *events, size_t i) {
  return json_integer_value(json_object_get(json_array_get(events, i), "id"));
}

/* The child's whole history as types ("A,B"), asserting ids from 1
 * without gaps and each event chained to an earlier one. */
static char *types(wf_engine *e, const char *arn) {
  json_t *a = page(e, arn, 0, false, 0);
  char buf[2048] = "";
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    json_int_t id = json_integer_value(json_object_get(v, "id"));
    json_int_t prev = json_integer_value(json_object_get(v, "prev"));
    cr_assert_eq(id, (json_int_t)i + 1, "event ids are not contiguous");
    cr_assert(prev < id && (i == 0 || prev >= 1), "event %d follows %d",
              (int)id, (int)prev);
    if (i) strncat(buf, ",", sizeof buf - strlen(buf) - 1);
    strncat(buf, json_string_value(json_object_get(v, "type")),
            sizeof buf - strlen(buf) - 1);
  }
  json_decref(a);
  return strdup(buf);
}

/* Event `id`'s details (`key`) as JSON (new reference). */
static json_t *details(wf_engine *e, const char *arn, int64_t id,
                       const char *key) {
  json_t *a = page(e, arn, id, false, 1);
  cr_assert_eq(json_array_size(a), 1);
  json_t *ev = json_loads(
      json_string_value(json_object_get(json_array_get(a, 0), "json")), 0,
      NULL);
  json_decref(a);
  cr_assert_not_null(ev);
  json_t *d = json_incref(json_object_get(ev, key));
  json_decref(ev);
  cr_assert_not_null(d, "no %s in event %d", key, (int)id);
  return d;
}

static const char *str(json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

#define STARTED_TYPES                                                     \
  "ExecutionStarted,PassStateEntered,PassStateExited,TaskStateEntered,"  \
  "LambdaFunctionScheduled,LambdaFunctionStarted"

/* A Distributed Map whose n children hold their tasks, started on its
 * own engine (history kept unless `off`) and its children listed. */
typedef struct held_map {
  holder h;
  wf_engine *e;
  wf_machine *m;
  wf_execution *x;
  json_t *arns;
} held_map;

static void held_map_start(held_map *hm, bool off, const char *def_sq,
                           const char *input, size_t n) {
  *hm = (held_map){.h = {.mu = PTHREAD_MUTEX_INITIALIZER,
                         .held = WFX_COUNT_INIT}};
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.history = off ? WF_HISTORY_OFF : WF_HISTORY_FULL;
  hm->e = wft_engine(&o);
  wft_register(hm->e, FN "Hold", hold, &hm->h, 0);
  hm->m = wfx_load(def_sq);
  hm->x = wfx_start(hm->e, hm->m, input);
  cr_assert(wfx_count_wait(&hm->h.held, (int)n, WFT_WAIT_MS));
  hm->arns = child_arns(hm->e, wf_execution_arn(hm->x), n);
}

/* Child i's ARN. */
static const char *kid(const held_map *hm, size_t i) {
  return json_string_value(json_array_get(hm->arns, i));
}

static void held_map_free(held_map *hm) {
  json_decref(hm->arns);
  wf_execution_free(hm->x);
  wf_machine_free(hm->m);
  wf_engine_free(hm->e);
  holder_let_go(&hm->h); /* the tasks of children aborted */
}

Test(map_run_history, a_child_has_its_own_history_read_in_pages) {
  held_map hm;
  held_map_start(&hm, false, MAP("STANDARD", "'ToleratedFailureCount':1,"),
                 "[10,20]", 2);
  wf_engine *e = hm.e;
  wf_execution *x = hm.x;
  const char *c0 = kid(&hm, 0), *c1 = kid(&hm, 1);
  /* Running: what is committed so far, its own numbering. */
  char *t = types(e, c0);
  cr_assert_str_eq(t, STARTED_TYPES);
  free(t);
  json_t *d = details(e, c0, 1, "executionStartedEventDetails");
  cr_assert_str_eq(str(d, "input"), "10");
  cr_assert_not_null(str(d, "roleArn"));
  json_decref(d);
  d = details(e, c0, 2, "stateEnteredEventDetails");
  cr_assert_str_eq(str(d, "name"), "P");
  json_decref(d);
  complete(&hm.h, "10", true);
  complete(&hm.h, "20", false);
  wft_wait(x);
  wft_assert_succeeded(
      x, "[10,{\"Error\":\"Child.Failed\",\"Cause\":\"as asked\"}]");

  t = types(e, c0);
  cr_assert_str_eq(t, STARTED_TYPES
                   ",LambdaFunctionSucceeded,TaskStateExited,ExecutionSucceeded");
  free(t);
  d = details(e, c0, 9, "executionSucceededEventDetails");
  cr_assert_str_eq(str(d, "output"), "10");
  json_decref(d);
  t = types(e, c1);
  cr_assert_str_eq(t, STARTED_TYPES ",LambdaFunctionFailed,ExecutionFailed");
  free(t);
  d = details(e, c1, 8, "executionFailedEventDetails");
  cr_assert_str_eq(str(d, "error"), "Child.Failed");
  cr_assert_str_eq(str(d, "cause"), "as asked");
  json_decref(d);

  /* Pages of two, across the two commits' parts; then newest first. */
  json_t *p = page(e, c0, 5, false, 2);
  cr_assert_eq(json_array_size(p), 2);
  cr_assert_eq(id_at(p, 0), 5);
  cr_assert_eq(id_at(p, 1), 6);
  json_decref(p);
  p = page(e, c0, 7, false, 2);
  cr_assert_eq(id_at(p, 0), 7);
  cr_assert_eq(id_at(p, 1), 8);
  json_decref(p);
  p = page(e, c0, 0, true, 3);
  cr_assert_eq(json_array_size(p), 3);
  cr_assert_eq(id_at(p, 0), 9);
  cr_assert_eq(id_at(p, 2), 7);
  json_decref(p);
  p = page(e, c0, 6, true, 0);
  cr_assert_eq(json_array_size(p), 6);
  cr_assert_eq(id_at(p, 0), 6);
  cr_assert_eq(id_at(p, 5), 1);
  json_decref(p);
  p = page(e, c0, 10, false, 0); /* past the end */
  cr_assert_eq(json_array_size(p), 0);
  json_decref(p);

  /* The parent's history holds none of them. */
  char *parent = wf_execution_history(x, 0);
  cr_assert_null(strstr(parent, "PassStateEntered"), "%s", parent);
  free(parent);
  held_map_free(&hm);
}

Test(map_run_history, a_child_aborted_by_its_runs_failure_says_so) {
  held_map hm;
  held_map_start(&hm, false, MAP("STANDARD", ""), "[1,2]", 2);
  /* The first fails: no failure is tolerated, the second is aborted. */
  complete(&hm.h, "1", false);
  wft_wait(hm.x);
  cr_assert_eq(wf_execution_status(hm.x), WF_EXEC_FAILED);
  char *t = types(hm.e, kid(&hm, 0));
  cr_assert_str_eq(t, STARTED_TYPES ",LambdaFunctionFailed,ExecutionFailed");
  free(t);
  t = types(hm.e, kid(&hm, 1));
  cr_assert_str_eq(t, STARTED_TYPES ",ExecutionAborted");
  free(t);
  held_map_free(&hm);
}

/* What a child with no history answers. */
static void no_history(wf_engine *e, const char *arn, const char *why) {
  json_t *a = json_array();
  wf_error err;
  cr_assert_eq(wf_engine_read_map_run_child_events(e, arn, 0, false, 0,
                                                   wst_add_event, a, &err),
               WF_EUNSUPPORTED);
  cr_assert_not_null(strstr(err.message, why), "%s", err.message);
  cr_assert_eq(json_array_size(a), 0);
  json_decref(a);
}

Test(map_run_history, none_of_an_express_child_nor_with_history_off) {
  held_map hm;
  held_map_start(&hm, false, MAP("EXPRESS", ""), "[1]", 1);
  no_history(hm.e, kid(&hm, 0), "EXPRESS");
  complete(&hm.h, "1", true);
  wft_wait(hm.x);
  held_map_free(&hm);

  held_map_start(&hm, true, MAP("STANDARD", ""), "[2]", 1);
  no_history(hm.e, kid(&hm, 0), "history off");
  complete(&hm.h, "2", true);
  wft_wait(hm.x);

  /* Not a child: as DescribeExecution of one. */
  wf_error err;
  const char *none = "arn:aws:states:us-east-1:123456789012:execution:"
                     "m/Orders:00000000-0000-4000-8000-000000000000";
  json_t *a = json_array();
  cr_assert_eq(wf_engine_read_map_run_child_events(hm.e, none, 0, false, 0,
                                                   wst_add_event, a, &err),
               WF_ENOTFOUND);
  cr_assert_str_eq(err.message, "Execution Does Not Exist: '" "arn:aws:"
                   "states:us-east-1:123456789012:execution:m/Orders:"
                   "00000000-0000-4000-8000-000000000000'");
  cr_assert_eq(wf_engine_read_map_run_child_events(hm.e, NULL, 0, false, 0,
                                                   wst_add_event, a, &err),
               WF_EINVAL);
  json_decref(a);
  held_map_free(&hm);
}

/* ---- a restart ---- */

/* The child's history once its last event is `last` (a durable store
 * may hand a task to its handler before the commit that records it). */
static char *types_when(wf_engine *e, const char *arn, const char *last) {
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  for (;;) {
    char *t = types(e, arn);
    size_t n = strlen(t), k = strlen(last);
    if (n >= k && strcmp(t + n - k, last) == 0) return t;
    cr_assert_lt(wft_mono_ms(), until, "%s never ended with %s", t, last);
    free(t);
    wft_sleep_ms(1);
  }
}

/* On each durable backend. */
static wst_kind KINDS[] = {{"sqlite"}, {"postgres"}};

/* A Distributed Map of n held children on a durable store's engine,
 * restarted as a process would be. */
typedef struct durable_map {
  char *dir, *exec;
  holder h;
  wf_store *s;
  wf_engine *e;
  wf_machine *m;
  json_t *arns; /* the children's ARNs, by index */
} durable_map;

/* Its execution started on `input` (returned: wf_execution_free()) and
 * its n children holding their tasks. */
static wf_execution *durable_map_start(durable_map *dm, const char *kind,
                                       const char *input, size_t n) {
  *dm = (durable_map){.dir = wst_tmpdir(),
                      .h = {.mu = PTHREAD_MUTEX_INITIALIZER,
                            .held = WFX_COUNT_INIT}};
  dm->e = durable_engine(&dm->s, kind, dm->dir, &dm->h);
  dm->m = wfx_load(MAP("STANDARD", ""));
  wf_execution *x = wfx_start(dm->e, dm->m, input);
  dm->exec = strdup(wf_execution_arn(x));
  cr_assert(wfx_count_wait(&dm->h.held, (int)n, WFT_WAIT_MS));
  dm->arns = child_arns(dm->e, dm->exec, n);
  return x;
}

static const char *durable_kid(const durable_map *dm, size_t i) {
  return json_string_value(json_array_get(dm->arns, i));
}

/* The engine stopped and another started on the store: it resumes
 * `resumed` executions. */
static void durable_map_restart(durable_map *dm, const char *kind,
                                size_t resumed) {
  durable_stop(dm->e, dm->s, &dm->h);
  dm->e = durable_engine(&dm->s, kind, dm->dir, &dm->h);
  size_t n = 0;
  cr_assert_eq(wf_engine_resume(dm->e, &n, NULL), WF_OK);
  cr_assert_eq(n, resumed);
}

static void durable_map_free(durable_map *dm) {
  durable_stop(dm->e, dm->s, &dm->h);
  json_decref(dm->arns);
  free(dm->exec);
  wf_machine_free(dm->m);
  wst_rmdir(dm->dir);
}

WST_OVER(KINDS, map_run_history, histories_go_on_after_a_restart) {
  durable_map dm;
  wf_execution_free(durable_map_start(&dm, p->kind, "[1,2]", 2));
  const char *c0 = durable_kid(&dm, 0);
  char *before = types_when(dm.e, c0, "LambdaFunctionStarted");
  cr_assert_str_eq(before, STARTED_TYPES);

  /* Resumed: its task handed out again, its history numbered on. */
  durable_map_restart(&dm, p->kind, 1);
  wf_engine *e = dm.e;
  char *t = types(e, c0);
  cr_assert_str_eq(t, before);
  free(t);
  cr_assert(wfx_count_wait(&dm.h.held, 4, WFT_WAIT_MS));
  wf_execution *y = NULL;
  cr_assert_eq(wf_engine_find_execution(&y, e, dm.exec), WF_OK);
  complete(&dm.h, "1", true);
  complete(&dm.h, "2", true);
  wft_wait(y);
  wft_assert_succeeded(y, "[1,2]");
  wf_execution_free(y);
  char *after = types(e, c0);
  cr_assert(strncmp(after, before, strlen(before)) == 0, "%s", after);
  size_t na = strlen(after);
  const char *end = ",LambdaFunctionSucceeded,TaskStateExited,ExecutionSucceeded";
  cr_assert(na > strlen(end) && strcmp(after + na - strlen(end), end) == 0,
            "%s", after);

  /* Read again by an engine with nothing to resume, newest first. */
  durable_map_restart(&dm, p->kind, 0);
  e = dm.e;
  t = types(e, c0);
  cr_assert_str_eq(t, after);
  free(t);
  json_t *last = page(e, c0, 0, true, 2);
  cr_assert_eq(json_array_size(last), 2);
  cr_assert_str_eq(str(json_array_get(last, 0), "type"), "ExecutionSucceeded");
  cr_assert_eq(id_at(last, 1), id_at(last, 0) - 1);
  json_decref(last);
  t = types(e, durable_kid(&dm, 1));
  cr_assert(strncmp(t, "ExecutionStarted,", 17) == 0, "%s", t);
  free(t);
  free(before);
  free(after);
  durable_map_free(&dm);
}

/* ---- a redrive ---- */

static int keep_child(const wf_map_run_child *k, void *payload) {
  wf_map_run_child *c = payload;
  *c = *k;
  c->input = c->output = c->error = c->cause = NULL; /* the callback's */
  return 0;
}

static wf_map_run_child described(wf_engine *e, const char *arn) {
  wf_map_run_child c;
  cr_assert_eq(wf_engine_describe_map_run_child(e, arn, keep_child, &c, NULL),
               WF_OK);
  cr_assert_eq(c.version, WF_MAP_RUN_CHILD_VERSION);
  return c;
}

/* The redrive `n` of a child's history: the id of its ExecutionRedriven, whose
 * details count it and which follows its previous run's last event; the
 * rerun's first event follows it (`chained`), or none (0) when it is the
 * first of a Parallel's branch, as a branch's first event always is. */
static int64_t redrive_event(wf_engine *e, const char *arn, int64_t n,
                             bool chained) {
  json_t *a = page(e, arn, 0, false, 0);
  size_t i;
  json_t *v;
  int64_t seen = 0, id = 0;
  json_array_foreach(a, i, v) {
    if (strcmp(str(v, "type"), "ExecutionRedriven") != 0 || ++seen != n)
      continue;
    id = json_integer_value(json_object_get(v, "id"));
    cr_assert_eq(json_integer_value(json_object_get(v, "prev")), id - 1);
    cr_assert_eq(json_integer_value(json_object_get(
                     json_array_get(a, i + 1), "prev")), chained ? id : 0,
                 "the rerun's first event does not follow ExecutionRedriven");
  }
  json_decref(a);
  cr_assert_gt(id, 0, "no ExecutionRedriven %d in %s", (int)n, arn);
  json_t *d = details(e, arn, id, "executionRedrivenEventDetails");
  cr_assert_eq(json_integer_value(json_object_get(d, "redriveCount")), n);
  json_decref(d);
  return id;
}

static int64_t redriven_at(wf_engine *e, const char *arn, int64_t n) {
  return redrive_event(e, arn, n, true);
}

/* A redriven child goes on from the state it stopped in: its Task, not
 * the Pass before it, which succeeded. */
#define RERUN                                                   \
  ",ExecutionRedriven,TaskStateEntered,LambdaFunctionScheduled," \
  "LambdaFunctionStarted"
#define SUCCEEDS ",LambdaFunctionSucceeded,TaskStateExited,ExecutionSucceeded"
#define FAILS ",LambdaFunctionFailed,ExecutionFailed"

/* A Map Run's redrive redrives its children that did not succeed, as AWS
 * does: the same executions, their histories going on after their last
 * events with ExecutionRedriven and the state each stopped in entered
 * again (what succeeded before it is not rerun); the engine restarted on
 * the store between the failure and the redrive. */
WST_OVER(KINDS, map_run_history, a_redriven_child_goes_on_with_its_history) {
  durable_map dm;
  wf_execution *x = durable_map_start(&dm, p->kind, "[1,2,3]", 3);
  wf_engine *e = dm.e;
  const char *c0 = durable_kid(&dm, 0), *c1 = durable_kid(&dm, 1),
             *c2 = durable_kid(&dm, 2);
  /* The first succeeds, the second fails: the run fails (no failure is
   * tolerated) and aborts the third. */
  complete(&dm.h, "1", true);
  free(types_when(e, c0, "ExecutionSucceeded"));
  complete(&dm.h, "2", false);
  wft_wait(x);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  wf_execution_free(x);
  wf_map_run_child first = described(e, c1);
  cr_assert_eq(first.redrive_count, 0);
  cr_assert_eq(first.redrive_ms, 0);

  /* Another engine on the store redrives the parent: the two children
   * that did not succeed run again, the first does not. */
  durable_map_restart(&dm, p->kind, 0);
  e = dm.e;
  cr_assert_eq(wf_engine_redrive(&x, e, dm.exec, NULL), WF_OK);
  cr_assert(wfx_count_wait(&dm.h.held, 5, WFT_WAIT_MS));
  char *t = types_when(e, c1, "LambdaFunctionStarted");
  cr_assert_str_eq(t, STARTED_TYPES FAILS RERUN);
  free(t);
  t = types_when(e, c2, "LambdaFunctionStarted");
  cr_assert_str_eq(t, STARTED_TYPES ",ExecutionAborted" RERUN);
  free(t);
  cr_assert_eq(redriven_at(e, c1, 1), 9);
  cr_assert_eq(redriven_at(e, c2, 1), 8);
  wf_map_run_child c = described(e, c1);
  cr_assert_eq(c.status, WF_EXEC_RUNNING);
  cr_assert_eq(c.redrive_count, 1);
  cr_assert_geq(c.redrive_ms, first.stop_ms);
  cr_assert_eq(c.start_ms, first.start_ms, "a redrive keeps its start");
  cr_assert_eq(c.stop_ms, 0);
  cr_assert_eq(described(e, c0).redrive_count, 0);

  /* The third succeeds, the second fails again; redriven once more, the
   * second alone runs, and succeeds. */
  complete(&dm.h, "3", true);
  free(types_when(e, c2, "ExecutionSucceeded"));
  complete(&dm.h, "2", false);
  wft_wait(x);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  wf_execution_free(x);
  cr_assert_eq(wf_engine_redrive(&x, e, dm.exec, NULL), WF_OK);
  cr_assert(wfx_count_wait(&dm.h.held, 6, WFT_WAIT_MS));
  complete(&dm.h, "2", true);
  wft_wait(x);
  wft_assert_succeeded(x, "[1,2,3]");
  wf_execution_free(x);

  /* Read by an engine with nothing to resume. */
  durable_map_restart(&dm, p->kind, 0);
  e = dm.e;
  t = types(e, c1);
  cr_assert_str_eq(t, STARTED_TYPES FAILS RERUN FAILS RERUN SUCCEEDS);
  free(t);
  t = types(e, c2);
  cr_assert_str_eq(t, STARTED_TYPES ",ExecutionAborted" RERUN SUCCEEDS);
  free(t);
  t = types(e, c0);
  cr_assert_str_eq(t, STARTED_TYPES SUCCEEDS);
  free(t);
  cr_assert_eq(redriven_at(e, c1, 1), 9);
  cr_assert_eq(redriven_at(e, c1, 2), 15);
  c = described(e, c1);
  cr_assert_eq(c.status, WF_EXEC_SUCCEEDED);
  cr_assert_eq(c.redrive_count, 2);
  cr_assert_eq(c.start_ms, first.start_ms);
  cr_assert_eq(described(e, c2).redrive_count, 1);

  /* Paged either way across the runs. */
  json_t *pg = page(e, c1, 8, false, 3);
  cr_assert_eq(json_array_size(pg), 3);
  cr_assert_str_eq(str(json_array_get(pg, 1), "type"), "ExecutionRedriven");
  cr_assert_eq(id_at(pg, 2), 10);
  json_decref(pg);
  pg = page(e, c1, 0, true, 4);
  cr_assert_eq(json_array_size(pg), 4);
  cr_assert_eq(id_at(pg, 0), 21);
  cr_assert_str_eq(str(json_array_get(pg, 0), "type"), "ExecutionSucceeded");
  cr_assert_eq(id_at(pg, 3), 18);
  json_decref(pg);
  pg = page(e, c1, 18, true, 0);
  cr_assert_eq(json_array_size(pg), 18);
  cr_assert_eq(id_at(pg, 0), 18);
  cr_assert_eq(id_at(pg, 17), 1);
  json_decref(pg);
  durable_map_free(&dm);
}

/* ---- a redriven child goes on from its failed state ---- */

/* Counts its calls by the input's "step" ("A" to "D") and fails the steps
 * whose bit (1 << step) is in `fail_steps`; else answers its input. */
static atomic_int step_calls[4], fail_steps;

static void count_step(wf_task *t, void *payload) {
  (void)payload;
  json_t *in = json_loads(wf_task_input(t), 0, NULL);
  const char *s = json_string_value(json_object_get(in, "step"));
  int k = s && s[0] >= 'A' && s[0] <= 'D' ? s[0] - 'A' : 0;
  json_decref(in);
  atomic_fetch_add(&step_calls[k], 1);
  if (atomic_load(&fail_steps) & (1 << k))
    wf_task_fail(t, "Step.Failed", "not yet");
  else
    wf_task_succeed(t, wf_task_input(t));
}

static void steps_reset(int fail) {
  atomic_store(&fail_steps, fail);
  for (int k = 0; k < 4; k++) atomic_store(&step_calls[k], 0);
}

static void calls_are(int a, int b, int c, int d) {
  int want[4] = {a, b, c, d};
  for (int k = 0; k < 4; k++)
    cr_assert_eq(atomic_load(&step_calls[k]), want[k], "step %c ran %d times",
                 'A' + k, atomic_load(&step_calls[k]));
}

/* A child running Task A (its result in $.a, $fromA assigned), Task B (on
 * that input; its result shows what it was given and $fromA), then a
 * Parallel of Tasks C and D (D given B's result). */
#define STEPS(type)                                                         \
  "{'StartAt':'Fan','States':{'Fan':{'Type':'Map','End':true,'Label':"     \
  "'Steps','ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"      \
  "'ExecutionType':'" type "'},'StartAt':'A','States':{"                   \
  "'A':{'Type':'Task','Resource':'" FN "Count','Parameters':{'step':'A'}," \
  "'Assign':{'fromA.$':'$.step'},'ResultPath':'$.a','Next':'B'},"          \
  "'B':{'Type':'Task','Resource':'" FN "Count','Parameters':{'step':'B',"  \
  "'item.$':'$.item','a.$':'$.a'},'ResultSelector':{'item.$':'$.item',"    \
  "'a.$':'$.a','fromA.$':'$fromA'},'Next':'P'},"                           \
  "'P':{'Type':'Parallel','End':true,'Branches':["                         \
  "{'StartAt':'C','States':{'C':{'Type':'Task','Resource':'" FN "Count',"  \
  "'Parameters':{'step':'C'},'End':true}}},"                               \
  "{'StartAt':'D','States':{'D':{'Type':'Task','Resource':'" FN "Count',"  \
  "'Parameters':{'step':'D','b.$':'$'},'End':true}}}]}}}}}}"

#define STEPS_OUTPUT                                                 \
  "[[{'step':'C'},{'step':'D','b':{'item':1,'a':{'step':'A'},"      \
  "'fromA':'A'}}]]"

/* An engine counting steps on the store of `kind` in `dir` (NULL: in
 * memory), what it had to resume resumed. */
static wf_engine *steps_engine(wf_store **s, const char *kind,
                               const char *dir) {
  *s = kind ? wst_open(kind, dir, NULL) : NULL;
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.store = *s;
  wf_engine *e = wft_engine(&o);
  /* Inline: each call ends before the next starts, so C has succeeded
   * when D fails. */
  wft_register(e, FN "Count", count_step, NULL, WF_HANDLER_INLINE);
  cr_assert_eq(wf_engine_resume(e, NULL, NULL), WF_OK);
  return e;
}

/* The execution `arn` redriven, at its end (wf_execution_free()). */
static wf_execution *redrive_to_end(wf_engine *e, const char *arn) {
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_redrive(&x, e, arn, &err), WF_OK, "%s",
               err.message);
  wft_wait(x);
  return x;
}

/* The state the child's redrive `n` entered first (`chained`:
 * redrive_event's): its history goes ExecutionFailed, ExecutionRedriven,
 * TaskStateEntered there. */
static char *entered_after(wf_engine *e, const char *arn, int64_t n,
                           bool chained) {
  int64_t id = redrive_event(e, arn, n, chained);
  json_t *a = page(e, arn, id - 1, false, 3);
  const char *want[] = {"ExecutionFailed", "ExecutionRedriven",
                        "TaskStateEntered"};
  for (size_t i = 0; i < 3; i++)
    cr_assert_str_eq(str(json_array_get(a, i), "type"), want[i]);
  json_decref(a);
  json_t *d = details(e, arn, id + 1, "stateEnteredEventDetails");
  char *name = strdup(str(d, "name"));
  json_decref(d);
  return name;
}

/* A STANDARD child redriven by its parent's redrive goes on from the
 * state it failed in, with the input it had there and its variables, as
 * AWS redrives it (RedriveExecution): A, which succeeded, is not called
 * again, B is; in its Parallel, the branch that succeeded (C) is not
 * rerun, the one that failed (D) is. The engine is restarted on the
 * store before each redrive. */
WST_OVER(KINDS, map_run_history, a_redriven_child_goes_on_from_its_failed_state) {
  char *dir = wst_tmpdir();
  wf_store *s;
  wf_engine *e = steps_engine(&s, p->kind, dir);
  steps_reset(1 << 1 | 1 << 3); /* B and D fail */
  wf_machine *m = wfx_load(STEPS("STANDARD"));
  wf_execution *x = wfx_run(e, m, "[{'item':1}]");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  char *exec = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  calls_are(1, 1, 0, 0);
  json_t *arns = child_arns(e, exec, 1);
  const char *kid0 = json_string_value(json_array_get(arns, 0));

  /* Redriven by another engine: B again, then C, and D fails. */
  wf_engine_free(e);
  wf_store_free(s);
  e = steps_engine(&s, p->kind, dir);
  atomic_store(&fail_steps, 1 << 3);
  x = redrive_to_end(e, exec);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  wf_execution_free(x);
  calls_are(1, 2, 1, 1);
  char *name = entered_after(e, kid0, 1, true);
  cr_assert_str_eq(name, "B");
  free(name);

  /* Once more: D alone. */
  wf_engine_free(e);
  wf_store_free(s);
  e = steps_engine(&s, p->kind, dir);
  atomic_store(&fail_steps, 0);
  x = redrive_to_end(e, exec);
  wfx_assert_output(x, STEPS_OUTPUT);
  wf_execution_free(x);
  calls_are(1, 2, 1, 2);
  name = entered_after(e, kid0, 2, false);
  cr_assert_str_eq(name, "D");
  free(name);
  wf_map_run_child c = described(e, kid0);
  cr_assert_eq(c.status, WF_EXEC_SUCCEEDED);
  cr_assert_eq(c.redrive_count, 2);
  json_decref(arns);
  free(exec);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_store_free(s);
  wst_rmdir(dir);
}

/* An EXPRESS child is started anew by its parent's redrive (AWS reruns
 * it with StartExecution): A runs again before B. */
Test(map_run_history, a_redriven_express_child_starts_anew) {
  wf_store *s;
  wf_engine *e = steps_engine(&s, NULL, NULL);
  steps_reset(1 << 1);
  wf_machine *m = wfx_load(STEPS("EXPRESS"));
  wf_execution *x = wfx_run(e, m, "[{'item':1}]");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  calls_are(1, 1, 0, 0);
  atomic_store(&fail_steps, 0);
  wf_execution *r = redrive_to_end(e, wf_execution_arn(x));
  wfx_assert_output(r, STEPS_OUTPUT);
  calls_are(2, 2, 1, 1);
  wf_execution_free(r);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}
