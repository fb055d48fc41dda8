/* Inline Map states (ASL reference §9): output in item order however the
 * iterations finish, ItemsPath and object items, ItemSelector and the
 * legacy Parameters/Iterator forms, MaxConcurrency observed through
 * handlers, a failing iteration failing the state and stopping the rest,
 * Retry and Catch, the history AWS records, stopping the execution during
 * the fan-out, nesting, and large item counts. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "fanout_support.h"
#include "support.h"
#include "workflow/json.h"
#include "workflow/workflow.h"

#define FN WFX_FN

/* A Map over the input with one Pass state; `fields` are extra members of
 * the Map state (each followed by a comma). */
static wf_machine *pass_map(const char *fields) {
  char def[2048];
  snprintf(def, sizeof def,
           "{'StartAt':'M','States':{'M':{'Type':'Map',%s"
           "'ItemProcessor':{'StartAt':'P','States':{'P':{'Type':'Pass',"
           "'End':true}}},'End':true}}}",
           fields);
  return wfx_load(def);
}

/* pass_map(fields) run on `input_sq` succeeds with `output_sq`. */
static void assert_pass_map(wf_engine *e, const char *fields,
                            const char *input_sq, const char *output_sq) {
  wf_machine *m = pass_map(fields);
  wfx_assert_run(e, m, input_sq, output_sq);
  wf_machine_free(m);
}

/* "[0,1,...,n-1]"; free(). */
static char *int_array(int n) {
  size_t cap = (size_t)n * 8 + 16;
  char *s = malloc(cap);
  cr_assert_not_null(s);
  size_t len = 0;
  s[len++] = '[';
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(s + len, cap - len, i ? ",%d" : "%d", i);
  s[len++] = ']';
  s[len] = '\0';
  return s;
}

/* ---- order ---- */

Test(map, output_in_item_order_when_iterations_finish_in_reverse) {
  enum { N = 6 };
  wfx_reverse r;
  wfx_reverse_init(&r, N);
  wf_engine *e = wfx_engine(N, NULL);
  wft_register(e, FN "Reverse", wfx_reverse_handler, &r, 0);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'ItemSelector':{'i.$':'$$.Map.Item.Index','v.$':'$$.Map.Item.Value'},"
      "'ItemProcessor':{'StartAt':'T','States':{'T':{'Type':'Task',"
      "'Resource':'" FN "Reverse','End':true}}}}}}");
  wf_execution *x = wfx_run(e, m, "['a','b','c','d','e','f']");
  wfx_assert_output(x,
                    "[{'i':0,'v':'a'},{'i':1,'v':'b'},{'i':2,'v':'c'},"
                    "{'i':3,'v':'d'},{'i':4,'v':'e'},{'i':5,'v':'f'}]");
  cr_assert_eq(r.timeouts, 0, "iterations did not run at the same time");
  cr_assert(wfx_reverse_wait(&r, N), "only %d calls finished", r.finished);
  for (int k = 0; k < N; k++)
    cr_assert_eq(r.order[k], N - 1 - k, "item %d finished at position %d",
                 r.order[k], k);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wfx_reverse_destroy(&r);
}

Test(map, output_in_item_order_with_waits_of_decreasing_length) {
  /* Item i waits 40 - 10 i virtual seconds, so the last item is the first
   * to finish. */
  wf_clock *clock;
  wf_engine *e = wfx_engine(0, &clock);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'ItemProcessor':{'StartAt':'W','States':{'W':{'Type':'Wait',"
      "'SecondsPath':'$.s','Next':'P'},'P':{'Type':'Pass',"
      "'Parameters':{'s.$':'$.s','at.$':'$$.State.EnteredTime'},"
      "'End':true}}}}}}");
  int64_t t0 = wft_mono_ms();
  wf_execution *x =
      wfx_run_polled(e, m, "[{'s':40},{'s':30},{'s':20},{'s':10}]");
  cr_assert_lt(wft_mono_ms() - t0, WFT_REAL_MS_MAX);
  wft_assert_succeeded(x, NULL);
  const json_t *out = wf_execution_output_value(x);
  cr_assert_eq(json_array_size(out), 4);
  static const char *const at[] = {
      "2023-11-14T22:14:00", "2023-11-14T22:13:50", "2023-11-14T22:13:40",
      "2023-11-14T22:13:30"};
  for (size_t i = 0; i < 4; i++) {
    json_t *o = json_array_get(out, i);
    cr_assert_eq(json_integer_value(json_object_get(o, "s")),
                 (json_int_t)(40 - 10 * i));
    /* Virtual time: every wait started together and took its length. */
    const char *when = json_string_value(json_object_get(o, "at"));
    cr_assert(when && strncmp(when, at[i], 19) == 0,
              "item %zu entered P at %s", i, when);
  }
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x),
               40000);
  /* The iterations finished last item first. */
  json_t *doc;
  json_t *evs = wft_events(x, 0, &doc);
  size_t ok[4];
  cr_assert_eq(wfx_find_events(evs, "MapIterationSucceeded", ok, 4), 4);
  for (int k = 0; k < 4; k++) {
    json_t *d = wft_details(json_array_get(evs, ok[k]));
    cr_assert_eq(json_integer_value(json_object_get(d, "index")), 3 - k);
  }
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

/* ---- items ---- */

Test(map, items_path_defaults_to_the_whole_input) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = pass_map("");
  wfx_assert_run(e, m, "[1,'two',{'three':3},[4],null]",
                 "[1,'two',{'three':3},[4],null]");
  wfx_assert_run(e, m, "[]", "[]");
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(map, items_path_selects_a_nested_array) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_pass_map(e, "'ItemsPath':'$.a.b',", "{'a':{'b':[1,2,3]},'c':[9]}",
                  "[1,2,3]");
  /* InputPath first, then ItemsPath within its result. */
  assert_pass_map(e, "'InputPath':'$.a','ItemsPath':'$.b',",
                  "{'a':{'b':[4,5]}}", "[4,5]");
  wf_engine_free(e);
}

Test(map, items_that_are_not_an_array_fail_with_states_runtime) {
  static const struct {
    const char *input, *shown;
  } cases[] = {
      {"{\"a\":\"str\"}", "\"str\""},
      {"{\"a\":42}", "42"},
      {"{\"a\":true}", "true"},
      {"{\"a\":null}", "null"},
  };
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = wfx_load(
      "{'StartAt':'First','States':{'First':{'Type':'Pass','Next':'M'},"
      "'M':{'Type':'Map','ItemsPath':'$.a','Catch':[{'ErrorEquals':"
      "['States.ALL'],'Next':'Caught'}],'ItemProcessor':{'StartAt':'P',"
      "'States':{'P':{'Type':'Pass','End':true}}},'End':true},"
      "'Caught':{'Type':'Pass','End':true}}}");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    wf_execution *x = wft_run(e, m, cases[i].input, NULL);
    /* M is entered at event #4 (ExecutionStarted, First's two events);
     * States.Runtime is not caught by States.ALL. */
    char cause[256];
    snprintf(cause, sizeof cause,
             "An error occurred while executing the state 'M' (entered at "
             "the event id #4). Map state input must be an array but was: %s",
             cases[i].shown);
    wft_assert_failed(x, "States.Runtime", cause);
    wf_execution_free(x);
  }
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(map, object_items_are_iterated_by_value_with_their_key) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_pass_map(e,
                  "'ItemsPath':'$.o','ItemSelector':{'k.$':'$$.Map.Item.Key',"
                  "'v.$':'$$.Map.Item.Value'},",
                  "{'o':{'x':1,'y':{'z':2},'w':[3]}}",
                  "[{'k':'x','v':1},{'k':'y','v':{'z':2}},"
                  "{'k':'w','v':[3]}]");
  /* Without a selector the values themselves are the iteration inputs. */
  assert_pass_map(e, "'ItemsPath':'$.o',", "{'o':{'x':1,'y':2}}", "[1,2]");
  wf_engine_free(e);
}

Test(map, item_selector_sees_index_value_and_the_state_input) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_pass_map(
      e,
      "'ItemsPath':'$.items','ItemSelector':{'index.$':'$$.Map.Item.Index',"
      "'value.$':'$$.Map.Item.Value','meta.$':'$.meta','fixed':'f'},",
      "{'items':['a',{'b':1}],'meta':{'run':7}}",
      "[{'index':0,'value':'a','meta':{'run':7},'fixed':'f'},"
      "{'index':1,'value':{'b':1},'meta':{'run':7},'fixed':'f'}]");
  wf_engine_free(e);
}

Test(map, legacy_parameters_and_iterator) {
  wf_engine *e = wfx_engine(0, NULL);
  wfx_assert_def(e,
                 "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
                 "'ItemsPath':'$.items','Parameters':{'i.$':'$$.Map.Item.Index',"
                 "'v.$':'$$.Map.Item.Value','all.$':'$.tag'},"
                 "'Iterator':{'StartAt':'P','States':{'P':{'Type':'Pass',"
                 "'End':true}}}}}}",
                 "{'items':[10,20],'tag':'t'}",
                 "[{'i':0,'v':10,'all':'t'},{'i':1,'v':20,'all':'t'}]");
  wf_engine_free(e);
}

Test(map, processor_config_inline_runs_in_the_parent_history) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'ItemProcessor':{'ProcessorConfig':{'Mode':'INLINE'},'StartAt':'P',"
      "'States':{'P':{'Type':'Pass','Result':'done','End':true}}}}}}");
  wf_execution *x = wfx_run(e, m, "[1,2]");
  wfx_assert_output(x, "['done','done']");
  cr_assert_eq(wfx_history_count(x, "PassStateEntered"), 2);
  cr_assert_eq(wfx_history_count(x, "MapIterationStarted"), 2);
  cr_assert_eq(wfx_history_count(x, "MapRunStarted"), 0);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(map, result_selector_result_path_and_output_path_apply_to_the_array) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_pass_map(
      e,
      "'ItemsPath':'$.in','ResultSelector':{'n.$':'States.ArrayLength($)',"
      "'first.$':'$[0]'},'ResultPath':'$.out','OutputPath':'$.out',",
      "{'in':['a','b','c']}", "{'n':3,'first':'a'}");
  wf_engine_free(e);
}

/* ---- MaxConcurrency ---- */

/* Runs `items` iterations of a pool handler under `field` (e.g.
 * "'MaxConcurrency':2,") with `workers` worker threads; the handler
 * releases groups of `expect`. Returns the highest concurrency seen. */
static int observed_concurrency(const char *field, const char *extra_input,
                                int items, int expect, unsigned workers) {
  char def[1024];
  snprintf(def, sizeof def,
           "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,%s"
           "'ItemsPath':'$.items','ItemProcessor':{'StartAt':'T','States':{"
           "'T':{'Type':'Task','Resource':'" FN "Conc','End':true}}}}}}",
           field);
  char *arr = int_array(items);
  char *input = wft_strf("{\"items\":%s%s}", arr, extra_input);
  int max = wfx_conc_run(def, input, arr, expect, items, workers);
  free(arr);
  free(input);
  return max;
}

Test(map, max_concurrency_1_runs_one_iteration_at_a_time) {
  cr_assert_eq(observed_concurrency("'MaxConcurrency':1,", "", 8, 1, 4), 1);
}

Test(map, max_concurrency_2_keeps_two_in_flight) {
  cr_assert_eq(observed_concurrency("'MaxConcurrency':2,", "", 10, 2, 4), 2);
}

Test(map, max_concurrency_5_keeps_five_in_flight) {
  cr_assert_eq(observed_concurrency("'MaxConcurrency':5,", "", 12, 5, 8), 5);
}

Test(map, max_concurrency_0_means_no_limit) {
  /* 12 iterations all at once (AWS's inline ceiling is 40). */
  cr_assert_eq(observed_concurrency("'MaxConcurrency':0,", "", 12, 12, 12),
               12);
  cr_assert_eq(observed_concurrency("", "", 12, 12, 12), 12);
}

Test(map, max_concurrency_path_reads_the_limit_from_the_input) {
  cr_assert_eq(observed_concurrency("'MaxConcurrencyPath':'$.mc',",
                                    ",\"mc\":3", 9, 3, 6),
               3);
}

Test(map, max_concurrency_path_to_a_non_integer_fails) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = pass_map("'ItemsPath':'$.v','MaxConcurrencyPath':'$.x',");
  wf_execution *x = wfx_run(e, m, "{'v':['HelloWorld'],'x':'NoNumber'}");
  wft_assert_failed(
      x, "States.Runtime",
      "An error occurred while executing the state 'M' (entered at the event "
      "id #2). The MaxConcurrencyPath field refers to value \"NoNumber\" "
      "which is not a valid integer: $.x");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- failures ---- */

Test(map, failing_iteration_fails_the_state_and_cancels_the_others) {
  wfx_fanout f;
  /* Item 2 fails once the four others sit in their handlers. */
  wfx_fanout_init(&f, 6, 4, "Test.ItemFailed", "item 2 failed");
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','Next':'Later',"
      "'ItemProcessor':{'StartAt':'C','States':{"
      "'C':{'Type':'Choice','Choices':[{'Variable':'$','NumericEquals':2,"
      "'Next':'F'}],'Default':'B'},"
      "'F':{'Type':'Task','Resource':'" FN "Fail','End':true},"
      "'B':{'Type':'Task','Resource':'" FN "Block','Next':'A'},"
      "'A':{'Type':'Task','Resource':'" FN "After','End':true}}}},"
      "'Later':{'Type':'Task','Resource':'" FN "After','End':true}}}");
  wf_execution *x = wfx_run(f.engine, m, "[0,1,2,3,4]");
  wft_assert_failed(x, "Test.ItemFailed", "item 2 failed");
  wfx_fanout_assert_cancelled(&f, 4);
  /* AWS records the stopped iterations as aborted. */
  json_t *doc;
  json_t *evs = wft_events(x, 0, &doc);
  size_t at[8];
  cr_assert_eq(wfx_find_events(evs, "MapIterationFailed", at, 8), 1);
  json_t *d = wft_details(json_array_get(evs, at[0]));
  cr_assert_eq(json_integer_value(json_object_get(d, "index")), 2);
  cr_assert_eq(wfx_find_events(evs, "MapIterationAborted", at, 8), 4);
  int seen = 0;
  for (int k = 0; k < 4; k++) {
    d = wft_details(json_array_get(evs, at[k]));
    cr_assert_str_eq(json_string_value(json_object_get(d, "name")), "M");
    json_int_t idx = json_integer_value(json_object_get(d, "index"));
    cr_assert(idx >= 0 && idx <= 4 && idx != 2, "aborted index %lld",
              (long long)idx);
    seen |= 1 << idx;
  }
  cr_assert_eq(seen, 0x1b, "every running iteration is aborted once");
  cr_assert_eq(wfx_count_events(evs, "MapIterationSucceeded"), 0);
  cr_assert_eq(wfx_count_events(evs, "MapStateFailed"), 1);
  json_decref(doc);
  wfx_fanout_finish(&f, x, m, 4);
}

Test(map, failing_iteration_stops_later_iterations_from_starting) {
  wfx_count calls = WFX_COUNT_INIT;
  wf_engine *e = wfx_engine(0, NULL);
  wft_register(e, FN "Count", wfx_echo_counted, &calls, WF_HANDLER_INLINE);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'MaxConcurrency':1,'ItemProcessor':{'StartAt':'T','States':{"
      "'T':{'Type':'Task','Resource':'" FN "Count','Next':'C'},"
      "'C':{'Type':'Choice','Choices':[{'Variable':'$','NumericEquals':1,"
      "'Next':'F'}],'Default':'P'},'P':{'Type':'Pass','End':true},"
      "'F':{'Type':'Fail','Error':'HandleItemFailError',"
      "'Cause':'HandleItemFailCause'}}}}}}");
  wf_execution *x = wfx_run(e, m, "[0,1,2,3,4]");
  wft_assert_failed(x, "HandleItemFailError", "HandleItemFailCause");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  cr_assert_eq(wfx_count_get(&calls), 2, "%d items ran", wfx_count_get(&calls));
}

/* Fails its first call with Test.Flaky, then echoes its input. */
static void flaky_once(wf_task *t, void *payload) {
  atomic_int *calls = payload;
  if (atomic_fetch_add(calls, 1) == 0)
    wf_task_fail(t, "Test.Flaky", "first call fails");
  else
    wf_task_succeed(t, wf_task_input(t));
}

Test(map, retry_reruns_every_iteration) {
  wf_clock *clock;
  atomic_int calls = 0;
  wf_engine *e = wfx_engine(0, &clock);
  wft_register(e, FN "Flaky", flaky_once, &calls, WF_HANDLER_INLINE);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'MaxConcurrency':1,'Retry':[{'ErrorEquals':['Test.Flaky'],"
      "'IntervalSeconds':3,'MaxAttempts':1}],"
      "'ItemProcessor':{'StartAt':'T','States':{'T':{'Type':'Task',"
      "'Resource':'" FN "Flaky','End':true}}}}}}");
  wf_execution *x = wfx_run_polled(e, m, "['a','b','c']");
  wfx_assert_output(x, "['a','b','c']");
  /* Item 0 failed on the first attempt; the retry ran all three. */
  cr_assert_eq(atomic_load(&calls), 4);
  cr_assert_geq(wf_execution_stop_time(x) - wf_execution_start_time(x), 3000);
  cr_assert_eq(wfx_history_count(x, "MapIterationStarted"), 4);
  cr_assert_eq(wfx_history_count(x, "MapIterationFailed"), 1);
  cr_assert_eq(wfx_history_count(x, "MapIterationSucceeded"), 3);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

Test(map, catch_receives_the_iteration_error) {
  wf_engine *e = wfx_engine(0, NULL);
  wfx_assert_def(e,
                 "{'StartAt':'M','States':{'M':{'Type':'Map','Next':'Final',"
                 "'ResultPath':null,'MaxConcurrency':1,"
                 "'ItemProcessor':{'StartAt':'F','States':{'F':{'Type':'Fail',"
                 "'Error':'HandleItemFailError',"
                 "'Cause':'HandleItemFailCause'}}},"
                 "'Catch':[{'ErrorEquals':['HandleItemFailError'],"
                 "'Next':'FinalCaught'}]},"
                 "'FinalCaught':{'Type':'Pass','End':true},"
                 "'Final':{'Type':'Pass','Result':'not caught','End':true}}}",
                 "[1]",
                 "{'Error':'HandleItemFailError',"
                 "'Cause':'HandleItemFailCause'}");
  wf_engine_free(e);
}

/* ---- history ---- */

static json_int_t ev_id(json_t *evs, size_t i) {
  return json_integer_value(json_object_get(json_array_get(evs, i), "id"));
}

static json_int_t ev_prev(json_t *evs, size_t i) {
  return json_integer_value(
      json_object_get(json_array_get(evs, i), "previousEventId"));
}

Test(map, history_of_synchronous_iterations_in_aws_order) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = pass_map("");
  wf_execution *x = wfx_run(e, m, "['a','b','c']");
  wfx_assert_output(x, "['a','b','c']");
  char *types = wft_event_types(x);
  /* Iteration i + 1 starts after iteration i succeeded. */
  cr_assert_str_eq(
      types,
      "ExecutionStarted MapStateEntered MapStateStarted "
      "MapIterationStarted PassStateEntered PassStateExited "
      "MapIterationSucceeded "
      "MapIterationStarted PassStateEntered PassStateExited "
      "MapIterationSucceeded "
      "MapIterationStarted PassStateEntered PassStateExited "
      "MapIterationSucceeded "
      "MapStateSucceeded MapStateExited ExecutionSucceeded");
  free(types);
  json_t *doc;
  json_t *evs = wft_events(x, 0, &doc);
  wfx_assert_ids_in_order(evs);
  json_t *d = wft_details(json_array_get(evs, 2));
  cr_assert_eq(json_integer_value(json_object_get(d, "length")), 3);
  size_t st[3], ok[3];
  cr_assert_eq(wfx_find_events(evs, "MapIterationStarted", st, 3), 3);
  cr_assert_eq(wfx_find_events(evs, "MapIterationSucceeded", ok, 3), 3);
  for (int k = 0; k < 3; k++) {
    json_t *ds = wft_details(json_array_get(evs, st[k]));
    json_t *dk = wft_details(json_array_get(evs, ok[k]));
    cr_assert_str_eq(json_string_value(json_object_get(ds, "name")), "M");
    cr_assert_eq(json_integer_value(json_object_get(ds, "index")), k);
    cr_assert_str_eq(json_string_value(json_object_get(dk, "name")), "M");
    cr_assert_eq(json_integer_value(json_object_get(dk, "index")), k);
    if (k) cr_assert_gt(ev_id(evs, st[k]), ev_id(evs, ok[k - 1]));
  }
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(map, history_of_a_failing_iteration) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'ItemProcessor':{'StartAt':'C','States':{"
      "'C':{'Type':'Choice','Choices':[{'Variable':'$','NumericEquals':1,"
      "'Next':'F'}],'Default':'P'},'P':{'Type':'Pass','End':true},"
      "'F':{'Type':'Fail','Error':'E','Cause':'C'}}}}}}");
  wf_execution *x = wfx_run(e, m, "[0,1,2]");
  wft_assert_failed(x, "E", "C");
  static const char *const skip[] = {"Choice", "Pass", NULL};
  char *types = wft_event_types_except(x, skip);
  cr_assert_str_eq(types,
                   "ExecutionStarted MapStateEntered MapStateStarted "
                   "MapIterationStarted MapIterationSucceeded "
                   "MapIterationStarted FailStateEntered MapIterationFailed "
                   "MapStateFailed ExecutionFailed");
  free(types);
  json_t *doc;
  json_t *evs = wft_events(x, 0, &doc);
  size_t fail = 0, failed = 0, map_failed = 0;
  cr_assert_eq(wfx_find_events(evs, "FailStateEntered", &fail, 1), 1);
  cr_assert_eq(wfx_find_events(evs, "MapIterationFailed", &failed, 1), 1);
  cr_assert_eq(wfx_find_events(evs, "MapStateFailed", &map_failed, 1), 1);
  json_t *d = wft_details(json_array_get(evs, failed));
  cr_assert_eq(json_integer_value(json_object_get(d, "index")), 1);
  cr_assert_str_eq(json_string_value(json_object_get(d, "name")), "M");
  /* MapStateFailed points at the failing FailStateEntered (AWS). */
  cr_assert_eq(ev_prev(evs, map_failed), ev_id(evs, fail));
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- stopping ---- */

Test(map, stop_during_fanout_aborts_every_iteration) {
  wfx_fanout f;
  wfx_fanout_init(&f, 4, 0, NULL, NULL);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','Next':'Later',"
      "'MaxConcurrency':3,'ItemProcessor':{'StartAt':'B','States':{"
      "'B':{'Type':'Task','Resource':'" FN "Block','Next':'A'},"
      "'A':{'Type':'Task','Resource':'" FN "After','End':true}}}},"
      "'Later':{'Type':'Task','Resource':'" FN "After','End':true}}}");
  wf_execution *x = wfx_fanout_stop(&f, m, "[0,1,2,3,4,5,6]", 3, NULL, NULL);
  cr_assert_null(wf_execution_error(x));
  cr_assert_null(wf_execution_cause(x));
  /* The four items not yet started never start; nothing runs after. */
  wfx_fanout_finish(&f, x, m, 3);
}

Test(map, stop_reaches_iterations_of_nested_fanouts) {
  wfx_fanout f;
  wfx_fanout_init(&f, 6, 0, NULL, NULL);
  /* Two outer iterations, each a Parallel of a Task and a two-item Map:
   * six handlers in flight, three levels down. */
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'ItemProcessor':{'StartAt':'P','States':{'P':{'Type':'Parallel',"
      "'End':true,'Branches':["
      "{'StartAt':'T','States':{'T':{'Type':'Task','Resource':'" FN
      "Block','End':true}}},"
      "{'StartAt':'IM','States':{'IM':{'Type':'Map','ItemsPath':'$.in',"
      "'End':true,'ItemProcessor':{'StartAt':'IT','States':{'IT':{"
      "'Type':'Task','Resource':'" FN "Block','End':true}}}}}}]}}}}}}");
  wf_execution *x =
      wfx_fanout_stop(&f, m, "[{'in':[1,2]},{'in':[3,4]}]", 6, NULL, NULL);
  wfx_fanout_finish(&f, x, m, 6);
}

/* ---- nesting ---- */

/* {"v": n} -> n * 10 */
static void times_ten(wf_task *t, void *payload) {
  (void)payload;
  json_int_t v =
      json_integer_value(json_object_get(wf_task_input_value(t), "v"));
  wf_task_succeed_value(t, json_integer(v * 10));
}

Test(map, map_inside_parallel_inside_map) {
  wf_engine *e = wfx_engine(4, NULL);
  wft_register(e, FN "TimesTen", times_ten, NULL, 0);
  wf_machine *m = wfx_load(
      "{'StartAt':'Outer','States':{'Outer':{'Type':'Map','End':true,"
      "'ItemsPath':'$.groups','ItemSelector':{'group.$':'$$.Map.Item.Value',"
      "'gi.$':'$$.Map.Item.Index'},"
      "'ItemProcessor':{'StartAt':'Par','States':{'Par':{'Type':'Parallel',"
      "'End':true,'Branches':["
      "{'StartAt':'Inner','States':{'Inner':{'Type':'Map','End':true,"
      "'ItemsPath':'$.group.vals','MaxConcurrency':2,"
      "'ItemSelector':{'v.$':'$$.Map.Item.Value',"
      "'i.$':'$$.Map.Item.Index','g.$':'$.group.id'},"
      "'ItemProcessor':{'StartAt':'T','States':{'T':{'Type':'Task',"
      "'Resource':'" FN "TimesTen','ResultPath':'$.r','Next':'S'},"
      "'S':{'Type':'Pass','Parameters':{'id.$':"
      "'States.Format(\\'{}-{}-{}\\', $.g, $.i, $.r)'},'End':true}}}}}},"
      "{'StartAt':'Count','States':{'Count':{'Type':'Pass',"
      "'Parameters':{'gi.$':'$.gi','n.$':'States.ArrayLength($.group.vals)'},"
      "'End':true}}}]}}}}}}");
  wf_execution *x = wfx_run(
      e, m,
      "{'groups':[{'id':'a','vals':[1,2,3]},{'id':'b','vals':[]},"
      "{'id':'c','vals':[4]}]}");
  wfx_assert_output(x,
                    "[[[{'id':'a-0-10'},{'id':'a-1-20'},{'id':'a-2-30'}],"
                    "{'gi':0,'n':3}],"
                    "[[],{'gi':1,'n':0}],"
                    "[[{'id':'c-0-40'}],{'gi':2,'n':1}]]");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- scale ---- */

/* Runs `m` over the `n` items [0,1,...,n-1] (waiting up to ten minutes)
 * while sampling the thread count: the output holds item i, squared when
 * `squares`, at index i, and the run used the engine's own threads plus
 * the sampler, nowhere near one per item. */
static void assert_many_items(wf_engine *e, wf_machine *m, int n,
                              bool squares) {
  char *input = int_array(n);
  int before = wfx_thread_count();
  wfx_thread_sampler s;
  wfx_sampler_start(&s);
  wf_execution *x = wft_start(e, m, input, NULL);
  cr_assert_eq(wf_execution_wait(x, 600000), WF_OK);
  int peak = wfx_sampler_stop(&s);
  wft_assert_succeeded(x, NULL);
  const json_t *out = wf_execution_output_value(x);
  cr_assert_eq(json_array_size(out), (size_t)n);
  for (size_t i = 0; i < (size_t)n; i++)
    cr_assert_eq(json_integer_value(json_array_get(out, i)),
                 (json_int_t)(squares ? i * i : i), "item %zu", i);
  cr_assert_lt(peak, before + 64, "%d threads (%d before)", peak, before);
  free(input);
  wf_execution_free(x);
}

Test(map, hundred_thousand_items_without_a_thread_each,
     .timeout = 600) {
  enum { N = 100000 };
  /* The input (~590 KB) and output (~1.4 MB) exceed AWS's 256 KiB
   * payload limit; the engine's limit is raised so the scale itself is
   * what is tested. History is off: memory stays with what is in flight
   * plus the results. EXPRESS: a Standard workflow would reach AWS's
   * 25,000-event quota (map.standard_inline_map_stops_at_the_history_quota). */
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 64u << 20;
  o.history = WF_HISTORY_OFF;
  wf_engine *e = wft_engine(&o);
  wf_machine *m = wfx_load_express(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'MaxConcurrency':0,'ItemProcessor':{'StartAt':'P1','States':{"
      "'P1':{'Type':'Pass','Parameters':{'v.$':'$'},'Next':'P2'},"
      "'P2':{'Type':'Pass','InputPath':'$.v','End':true}}}}}}");
  assert_many_items(e, m, N, false);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* Answers {"sq": v * v} for input {"v": n}, inline. */
static void square(wf_task *t, void *payload) {
  atomic_int *calls = payload;
  atomic_fetch_add(calls, 1);
  json_int_t v =
      json_integer_value(json_object_get(wf_task_input_value(t), "v"));
  wf_task_succeed_value(t, json_pack("{s:I}", "sq", (json_int_t)(v * v)));
}

Test(map, twenty_thousand_items_through_an_inline_handler,
     .timeout = 600) {
  enum { N = 20000 };
  atomic_int calls = 0;
  /* The output (~270 KB) exceeds AWS's 256 KiB payload limit; EXPRESS, as
   * a Standard workflow would reach AWS's 25,000-event quota. */
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 16u << 20;
  o.history = WF_HISTORY_OFF;
  wf_engine *e = wft_engine(&o);
  wft_register(e, FN "Square", square, &calls, WF_HANDLER_INLINE);
  wf_machine *m = wfx_load_express(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'ItemSelector':{'v.$':'$$.Map.Item.Value'},"
      "'ItemProcessor':{'StartAt':'T','States':{'T':{'Type':'Task',"
      "'Resource':'" FN "Square','OutputPath':'$.sq','End':true}}}}}}");
  assert_many_items(e, m, N, true);
  cr_assert_eq(atomic_load(&calls), N);
  wf_machine_free(m);
  wf_engine_free(e);
}
