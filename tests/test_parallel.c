/* Parallel states (ASL reference §8): branch outputs in branch order, one
 * effective input for every branch, the state's own ResultSelector,
 * ResultPath and OutputPath, a failing branch failing the state with its
 * own error while its siblings are stopped, Retry and Catch on the whole
 * state, the history AWS records, and stopping the execution while
 * branches are inside handlers. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "fanout_support.h"
#include "workflow/json.h"
#include "workflow/workflow.h"

#define FN WFX_FN

/* Fails its first call with Test.Flaky, then echoes its input. */
typedef struct flaky {
  atomic_int calls;
} flaky;

static void flaky_handler(wf_task *t, void *payload) {
  flaky *f = payload;
  if (atomic_fetch_add(&f->calls, 1) == 0)
    wf_task_fail(t, "Test.Flaky", "first call fails");
  else
    wf_task_succeed(t, wf_task_input(t));
}

/* A Parallel state P, then Later (an After Task): `n` branches Bk -> Ak
 * (k from 1; a Block Task, then an After Task) and `extra` (",{...}",
 * more branches, or ""). */
static wf_machine *blocking_parallel(int n, const char *extra) {
  char def[2048] = "{'StartAt':'P','States':{'P':{'Type':'Parallel',"
                   "'Next':'Later','Branches':[";
  for (int k = 1; k <= n; k++) {
    char b[512];
    snprintf(b, sizeof b,
             "%s{'StartAt':'B%d','States':{'B%d':{'Type':'Task','Resource':'"
             FN "Block','Next':'A%d'},'A%d':{'Type':'Task','Resource':'" FN
             "After','End':true}}}",
             k > 1 ? "," : "", k, k, k, k);
    strcat(def, b);
  }
  strcat(def, extra);
  strcat(def, "]},'Later':{'Type':'Task','Resource':'" FN
              "After','End':true}}}");
  return wfx_load(def);
}

/* ---- output and input ---- */

Test(parallel, outputs_in_branch_order_when_branches_finish_in_reverse) {
  /* Branch k waits until branch k + 1 has finished, so they finish
   * 3, 2, 1, 0; the output still lists branch 0 first. */
  wfx_reverse r;
  wfx_reverse_init(&r, 4);
  wf_engine *e = wfx_engine(4, NULL);
  wft_register(e, FN "Reverse", wfx_reverse_handler, &r, 0);
  wf_machine *m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'Branches':["
      "{'StartAt':'B0','States':{'B0':{'Type':'Task','Resource':'" FN
      "Reverse','Parameters':{'i':0,'v':'zero'},'End':true}}},"
      "{'StartAt':'B1','States':{'B1':{'Type':'Task','Resource':'" FN
      "Reverse','Parameters':{'i':1,'v':'one'},'End':true}}},"
      "{'StartAt':'B2','States':{'B2':{'Type':'Task','Resource':'" FN
      "Reverse','Parameters':{'i':2,'v':'two'},'End':true}}},"
      "{'StartAt':'B3','States':{'B3':{'Type':'Task','Resource':'" FN
      "Reverse','Parameters':{'i':3,'v':'three'},'End':true}}}]}}}");
  wf_execution *x = wfx_run(e, m, NULL);
  wfx_assert_output(x,
                    "[{'i':0,'v':'zero'},{'i':1,'v':'one'},"
                    "{'i':2,'v':'two'},{'i':3,'v':'three'}]");
  cr_assert_eq(r.timeouts, 0, "branches did not run at the same time");
  cr_assert(wfx_reverse_wait(&r, 4), "only %d calls finished", r.finished);
  for (int k = 0; k < 4; k++)
    cr_assert_eq(r.order[k], 3 - k, "finished %d at position %d",
                 r.order[k], k);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wfx_reverse_destroy(&r);
}

Test(parallel, every_branch_gets_the_same_effective_input) {
  wfx_count calls = WFX_COUNT_INIT;
  wf_engine *e = wfx_engine(0, NULL);
  wft_register(e, FN "Echo", wfx_echo_counted, &calls, WF_HANDLER_INLINE);
  /* InputPath and Parameters are applied once, on the state; each branch
   * starts from their result. */
  wf_machine *m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'InputPath':'$.order','Parameters':{'id.$':'$.id','fixed':1,"
      "'name.$':'$$.State.Name'},'Branches':["
      "{'StartAt':'A','States':{'A':{'Type':'Task','Resource':'" FN
      "Echo','End':true}}},"
      "{'StartAt':'B','States':{'B':{'Type':'Pass','End':true}}},"
      "{'StartAt':'C','States':{'C':{'Type':'Task','Resource':'" FN
      "Echo','End':true}}}]}}}");
  wf_execution *x =
      wfx_run(e, m, "{'order':{'id':7,'extra':true},'other':'dropped'}");
  wfx_assert_output(x,
                    "[{'id':7,'fixed':1,'name':'P'},"
                    "{'id':7,'fixed':1,'name':'P'},"
                    "{'id':7,'fixed':1,'name':'P'}]");
  cr_assert_eq(wfx_count_get(&calls), 2);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(parallel, result_selector_result_path_and_output_path_apply_to_the_array) {
  wf_engine *e = wfx_engine(0, NULL);
  /* Q's only branch passes P's output through; OutputPath picks from the
   * branch array. */
  wfx_assert_def(e,
                 "{'StartAt':'P','States':{'P':{'Type':'Parallel','Next':'Q',"
                 "'Branches':["
                 "{'StartAt':'A','States':{'A':{'Type':'Pass',"
                 "'Result':{'a':1},'End':true}}},"
                 "{'StartAt':'B','States':{'B':{'Type':'Pass','Result':[2,3],"
                 "'End':true}}}],"
                 "'ResultSelector':{'first.$':'$[0].a','second.$':'$[1][1]',"
                 "'count.$':'States.ArrayLength($)'},"
                 "'ResultPath':'$.res'},"
                 "'Q':{'Type':'Parallel','End':true,'OutputPath':'$[0].res',"
                 "'Branches':[{'StartAt':'C','States':{'C':{'Type':'Pass',"
                 "'End':true}}}]}}}",
                 "{'keep':true}", "{'first':1,'second':3,'count':2}");

  wfx_assert_def(e,
                 "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
                 "'ResultPath':'$.res','Branches':["
                 "{'StartAt':'A','States':{'A':{'Type':'Pass','Result':'a',"
                 "'End':true}}}]}}}",
                 "{'keep':true}", "{'keep':true,'res':['a']}");
  wf_engine_free(e);
}

/* ---- failures ---- */

Test(parallel, failing_branch_fails_the_state_with_its_own_error_and_cause) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'Branches':["
      "{'StartAt':'A','States':{'A':{'Type':'Pass','End':true}}},"
      "{'StartAt':'F','States':{'F':{'Type':'Fail',"
      "'Error':'FailureType','Cause':'Cause description'}}}]}}}");
  wf_execution *x = wfx_run(e, m, NULL);
  /* Not States.BranchFailed: the branch's own error surfaces. */
  wft_assert_failed(x, "FailureType", "Cause description");
  wf_execution_free(x);
  wf_machine_free(m);

  /* A Fail state without Cause: AWS reports no cause at all. */
  m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'Branches':[{'StartAt':'F','States':{'F':{'Type':'Fail',"
      "'Error':'FailureType'}}}]}}}");
  x = wfx_run(e, m, NULL);
  wft_assert_failed(x, "FailureType", NULL);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(parallel, failing_task_in_a_nested_parallel_surfaces_unchanged) {
  wfx_failer f = {NULL, 0, "Test.Inner", "deep down", WFX_COUNT_INIT};
  wf_engine *e = wfx_engine(0, NULL);
  wft_register(e, FN "Fail", wfx_fail_after, &f, WF_HANDLER_INLINE);
  wf_machine *m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'Branches':[{'StartAt':'Q','States':{'Q':{'Type':'Parallel',"
      "'End':true,'Branches':[{'StartAt':'T','States':{'T':{'Type':'Task',"
      "'Resource':'" FN "Fail','End':true}}}]}}}]}}}");
  wf_execution *x = wfx_run(e, m, NULL);
  wft_assert_failed(x, "Test.Inner", "deep down");
  cr_assert_eq(wfx_count_get(&f.calls), 1);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(parallel, failing_branch_cancels_siblings_blocked_in_handlers) {
  wfx_fanout f;
  wfx_fanout_init(&f, 4, 2, "Test.Boom", "branch exploded");
  /* Two branches sit in a handler; the third fails once both are inside.
   * Their later states must never run. */
  wf_machine *m = blocking_parallel(
      2, ",{'StartAt':'F','States':{'F':{'Type':'Task','Resource':'" FN
         "Fail','End':true}}}");
  wf_execution *x = wfx_run(f.engine, m, NULL);
  wft_assert_failed(x, "Test.Boom", "branch exploded");
  wfx_fanout_assert_cancelled(&f, 2);
  /* The engine waits for handlers in flight; nothing runs after. */
  wfx_fanout_finish(&f, x, m, 2);
}

Test(parallel, failing_branch_stops_a_sibling_waiting_on_a_timer) {
  wf_clock *clock;
  wfx_count after = WFX_COUNT_INIT;
  wf_engine *e = wfx_engine(0, &clock);
  wft_register(e, FN "After", wfx_echo_counted, &after, WF_HANDLER_INLINE);
  wf_machine *m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'Branches':["
      "{'StartAt':'W','States':{'W':{'Type':'Wait','Seconds':60,"
      "'Next':'A'},'A':{'Type':'Task','Resource':'" FN "After',"
      "'End':true}}},"
      "{'StartAt':'F','States':{'F':{'Type':'Fail','Error':'E',"
      "'Cause':'C'}}}]}}}");
  wf_execution *x = wfx_run_polled(e, m, NULL);
  wft_assert_failed(x, "E", "C");
  /* Past the sibling's wake-up time: the cancelled branch stays dead. */
  cr_assert_eq(wf_clock_advance(clock, 120000), WF_OK);
  /* A second execution to the end: the scheduler fires due timers before
   * it runs new work, so it is past the sibling's timer. */
  wf_machine *m2 =
      wfx_load("{'StartAt':'P','States':{'P':{'Type':'Pass','End':true}}}");
  wf_execution *x2 = wfx_run_polled(e, m2, NULL);
  wft_assert_succeeded(x2, "{}");
  wf_execution_free(x2);
  wf_machine_free(m2);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  cr_assert_eq(wfx_count_get(&after), 0);
  wf_clock_free(clock);
}

Test(parallel, retry_reruns_every_branch) {
  wf_clock *clock;
  wfx_count steady = WFX_COUNT_INIT;
  flaky fl = {0};
  wf_engine *e = wfx_engine(0, &clock);
  wft_register(e, FN "Steady", wfx_echo_counted, &steady, WF_HANDLER_INLINE);
  wft_register(e, FN "Flaky", flaky_handler, &fl, WF_HANDLER_INLINE);
  wf_machine *m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'Retry':[{'ErrorEquals':['Test.Flaky'],'IntervalSeconds':5,"
      "'MaxAttempts':1}],'Branches':["
      "{'StartAt':'S','States':{'S':{'Type':'Task','Resource':'" FN
      "Steady','Parameters':{'b':'steady'},'End':true}}},"
      "{'StartAt':'K','States':{'K':{'Type':'Task','Resource':'" FN
      "Flaky','Parameters':{'b':'flaky'},'End':true}}}]}}}");
  int64_t t0 = wft_mono_ms();
  wf_execution *x = wfx_run_polled(e, m, NULL);
  wfx_assert_output(x, "[{'b':'steady'},{'b':'flaky'}]");
  /* The branch that succeeded the first time ran again. */
  cr_assert_eq(wfx_count_get(&steady), 2);
  cr_assert_eq(atomic_load(&fl.calls), 2);
  cr_assert_geq(wf_execution_stop_time(x) - wf_execution_start_time(x), 5000,
                "the retry did not wait IntervalSeconds");
  cr_assert_lt(wft_mono_ms() - t0, WFT_REAL_MS_MAX);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

Test(parallel, retry_gives_up_with_the_branch_error) {
  wf_clock *clock;
  wfx_failer f = {NULL, 0, "Test.Always", "every time", WFX_COUNT_INIT};
  wf_engine *e = wfx_engine(0, &clock);
  wft_register(e, FN "Fail", wfx_fail_after, &f, WF_HANDLER_INLINE);
  wf_machine *m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'Retry':[{'ErrorEquals':['States.ALL'],'IntervalSeconds':1,"
      "'MaxAttempts':2,'BackoffRate':1}],'Branches':["
      "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'" FN
      "Fail','End':true}}}]}}}");
  wf_execution *x = wfx_run_polled(e, m, NULL);
  wft_assert_failed(x, "Test.Always", "every time");
  cr_assert_eq(wfx_count_get(&f.calls), 3);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

Test(parallel, catch_receives_the_branch_error) {
  wf_engine *e = wfx_engine(0, NULL);
  wfx_assert_def(e,
                 "{'StartAt':'P','States':{'P':{'Type':'Parallel','Next':'Ok',"
                 "'Catch':[{'ErrorEquals':['Other'],'Next':'Wrong'},"
                 "{'ErrorEquals':['FailureType'],'ResultPath':'$.error',"
                 "'Next':'Handled'}],'Branches':["
                 "{'StartAt':'A','States':{'A':{'Type':'Pass','End':true}}},"
                 "{'StartAt':'F','States':{'F':{'Type':'Fail',"
                 "'Error':'FailureType','Cause':'Cause description'}}}]},"
                 "'Ok':{'Type':'Pass','Result':'ok','End':true},"
                 "'Wrong':{'Type':'Pass','Result':'wrong','End':true},"
                 "'Handled':{'Type':'Pass','End':true}}}",
                 "{'orig':1}",
                 "{'orig':1,'error':{'Error':'FailureType',"
                 "'Cause':'Cause description'}}");
  wf_engine_free(e);
}

/* ---- concurrency ---- */

Test(parallel, branches_run_at_the_same_time) {
  char def[2048] = "{'StartAt':'P','States':{'P':{'Type':'Parallel',"
                   "'End':true,'Branches':[";
  for (int i = 0; i < 4; i++) {
    char b[512];
    snprintf(b, sizeof b,
             "%s{'StartAt':'T%d','States':{'T%d':{'Type':'Task',"
             "'Resource':'" FN "Conc','Parameters':{'b':%d},'End':true}}}",
             i ? "," : "", i, i, i);
    strcat(def, b);
  }
  strcat(def, "]}}}");
  int max = wfx_conc_run(def, NULL, "[{'b':0},{'b':1},{'b':2},{'b':3}]", 4, 4,
                         4);
  cr_assert_eq(max, 4, "at most %d branches in handlers at once", max);
}

/* ---- stopping ---- */

Test(parallel, stop_during_fanout_aborts_every_branch) {
  wfx_fanout f;
  wfx_fanout_init(&f, 4, 0, NULL, NULL);
  wf_machine *m = blocking_parallel(3, "");
  wf_execution *x =
      wfx_fanout_stop(&f, m, NULL, 3, "Test.Stop", "stopped by the test");
  cr_assert_str_eq(wf_execution_error(x), "Test.Stop");
  cr_assert_str_eq(wf_execution_cause(x), "stopped by the test");
  cr_assert_eq(wf_execution_stop(x, NULL, NULL), WF_ESTATE);
  json_t *doc;
  json_t *evs = wft_events(x, 1, &doc);
  cr_assert_str_eq(
      json_string_value(json_object_get(json_array_get(evs, 0), "type")),
      "ExecutionAborted");
  json_decref(doc);
  /* The engine waits for handlers in flight; nothing runs after. */
  wfx_fanout_finish(&f, x, m, 3);
}

/* ---- history ---- */

static const char *const BRANCH_STATES[] = {"Pass", NULL};

Test(parallel, history_records_the_parallel_events_around_the_branches) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'Branches':["
      "{'StartAt':'A','States':{'A':{'Type':'Pass','Result':1,"
      "'End':true}}},"
      "{'StartAt':'B','States':{'B':{'Type':'Pass','Result':2,"
      "'Next':'C'},'C':{'Type':'Pass','End':true}}}]}}}");
  wf_execution *x = wfx_run(e, m, "{'in':1}");
  wfx_assert_output(x, "[1,2]");
  char *types = wft_event_types_except(x, BRANCH_STATES);
  cr_assert_str_eq(types,
                   "ExecutionStarted ParallelStateEntered "
                   "ParallelStateStarted ParallelStateSucceeded "
                   "ParallelStateExited ExecutionSucceeded");
  free(types);

  json_t *doc;
  json_t *evs = wft_events(x, 0, &doc);
  size_t at[8];
  cr_assert_eq(wfx_find_events(evs, "PassStateEntered", at, 8), 3);
  cr_assert_eq(wfx_count_events(evs, "PassStateExited"), 3);
  size_t started = 0, succeeded = 0, exited = 0, entered = 0;
  cr_assert_eq(wfx_find_events(evs, "ParallelStateEntered", &entered, 1), 1);
  cr_assert_eq(wfx_find_events(evs, "ParallelStateStarted", &started, 1), 1);
  cr_assert_eq(wfx_find_events(evs, "ParallelStateSucceeded", &succeeded, 1), 1);
  cr_assert_eq(wfx_find_events(evs, "ParallelStateExited", &exited, 1), 1);
  /* Branch events lie between Started and Succeeded. */
  for (int i = 0; i < 3; i++) {
    cr_assert_gt(at[i], started);
    cr_assert_lt(at[i], succeeded);
  }
  wfx_assert_ids_in_order(evs);
  json_t *in = wft_details(json_array_get(evs, entered));
  cr_assert_str_eq(json_string_value(json_object_get(in, "name")), "P");
  wft_assert_json(json_string_value(json_object_get(in, "input")),
                  "{\"in\":1}");
  json_t *out = wft_details(json_array_get(evs, exited));
  cr_assert_str_eq(json_string_value(json_object_get(out, "name")), "P");
  wft_assert_json(json_string_value(json_object_get(out, "output")), "[1,2]");
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(parallel, history_records_parallel_state_failed) {
  static const char *const skip[] = {"Pass", "Fail", NULL};
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = wfx_load(
      "{'StartAt':'P','States':{'P':{'Type':'Parallel','End':true,"
      "'Branches':["
      "{'StartAt':'A','States':{'A':{'Type':'Pass','End':true}}},"
      "{'StartAt':'F','States':{'F':{'Type':'Fail','Error':'E',"
      "'Cause':'C'}}}]}}}");
  wf_execution *x = wfx_run(e, m, NULL);
  wft_assert_failed(x, "E", "C");
  char *types = wft_event_types_except(x, skip);
  cr_assert_str_eq(types,
                   "ExecutionStarted ParallelStateEntered "
                   "ParallelStateStarted ParallelStateFailed "
                   "ExecutionFailed");
  free(types);
  json_t *doc;
  json_t *evs = wft_events(x, 1, &doc);
  json_t *last = wft_details(json_array_get(evs, 0));
  cr_assert_str_eq(json_string_value(json_object_get(last, "error")), "E");
  cr_assert_str_eq(json_string_value(json_object_get(last, "cause")), "C");
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}
