/* Distributed Map states (ProcessorConfig Mode DISTRIBUTED, ASL reference
 * §9): child executions outside the parent history, the Map Run events and
 * ARN, tolerated failures at and just past their limits with AWS's
 * run-time messages, item batching, MaxConcurrency over child executions,
 * and stopping a Map Run. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <regex.h>
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

/* A distributed Map over $.items whose children fail for items
 * {"fail": true} (Error Child.Failed) and pass the others through;
 * `fields` are extra members of the Map state, each followed by a comma. */
static wf_machine *failing_children_map(const char *fields, const char *type) {
  char def[2048];
  snprintf(def, sizeof def,
           "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,%s"
           "'ItemsPath':'$.items','ItemProcessor':{'ProcessorConfig':{"
           "'Mode':'DISTRIBUTED','ExecutionType':'%s'},'StartAt':'C',"
           "'States':{'C':{'Type':'Choice','Choices':[{'Variable':'$.fail',"
           "'IsPresent':true,'Next':'F'}],'Default':'P'},"
           "'P':{'Type':'Pass','End':true},"
           "'F':{'Type':'Fail','Error':'Child.Failed',"
           "'Cause':'the item said so'}}}}}}",
           fields, type);
  return wfx_load(def);
}

/* {"items":[10 items, those at `failing` (a string of digits) with
 * "fail": true], <extra>}; free(). */
static char *ten_items(const char *failing, const char *extra) {
  char items[512] = "";
  for (int i = 0; i < 10; i++) {
    char one[48];
    snprintf(one, sizeof one, "%s{\"n\":%d%s}", i ? "," : "", i,
             strchr(failing, '0' + i) ? ",\"fail\":true" : "");
    strcat(items, one);
  }
  return wft_strf("{\"items\":[%s]%s}", items, extra);
}

static wf_execution *run_ten(wf_engine *e, wf_machine *m,
                             const char *failing, const char *extra) {
  char *in = ten_items(failing, extra);
  wf_execution *x = wft_run(e, m, in, NULL);
  free(in);
  return x;
}

/* The successful items of a tolerated run sit at their own indexes. */
static void assert_passed_items(wf_execution *x, const char *failing) {
  wft_assert_succeeded(x, NULL);
  const json_t *out = wf_execution_output_value(x);
  cr_assert_eq(json_array_size(out), 10);
  for (int i = 0; i < 10; i++) {
    if (strchr(failing, '0' + i)) continue;
    json_t *o = json_array_get(out, (size_t)i);
    cr_assert_eq(json_integer_value(json_object_get(o, "n")), i,
                 "item %d", i);
    cr_assert_null(json_object_get(o, "fail"));
  }
}

static void assert_threshold_exceeded(wf_execution *x) {
  wft_assert_failed(x, "States.ExceedToleratedFailureThreshold",
                    "The specified tolerated failure threshold was exceeded");
}

typedef enum { TOLERATED, EXCEEDED } tolerance;

/* Ten items, those at `failing` failing, run on `m` with `extra` in the
 * input: the run either tolerates the failures or fails with the
 * threshold error. */
static void assert_ten(wf_engine *e, wf_machine *m, const char *failing,
                       const char *extra, tolerance want) {
  wf_execution *x = run_ten(e, m, failing, extra);
  if (want == TOLERATED)
    assert_passed_items(x, failing);
  else
    assert_threshold_exceeded(x);
  wf_execution_free(x);
}

/* The same on a new failing_children_map(fields, type), no extra input. */
static void assert_tolerance(wf_engine *e, const char *fields,
                             const char *type, const char *failing,
                             tolerance want) {
  wf_machine *m = failing_children_map(fields, type);
  assert_ten(e, m, failing, "", want);
  wf_machine_free(m);
}

/* ---- children and the parent history ---- */

static void children_stay_out_of_the_parent_history(const char *type) {
  wf_engine *e = wfx_engine(0, NULL);
  char def[1024];
  snprintf(def, sizeof def,
           "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
           "'ItemSelector':{'v.$':'$$.Map.Item.Value',"
           "'i.$':'$$.Map.Item.Index','all.$':'$'},"
           "'ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"
           "'ExecutionType':'%s'},'StartAt':'P','States':{'P':{"
           "'Type':'Pass','Next':'Q'},'Q':{'Type':'Pass','End':true}}}}}}",
           type);
  wf_machine *m = wfx_load(def);
  wf_execution *x = wfx_run(e, m, "['Hello','World']");
  wfx_assert_output(x,
                    "[{'v':'Hello','i':0,'all':['Hello','World']},"
                    "{'v':'World','i':1,'all':['Hello','World']}]");
  char *types = wft_event_types(x);
  cr_assert_str_eq(types,
                   "ExecutionStarted MapStateEntered MapStateStarted "
                   "MapRunStarted MapRunSucceeded MapStateSucceeded "
                   "MapStateExited ExecutionSucceeded");
  free(types);
  json_t *doc;
  json_t *evs = wft_events(x, 0, &doc);
  wfx_assert_ids_in_order(evs);
  json_t *d = wft_details(json_array_get(evs, 3));
  const char *arn = json_string_value(json_object_get(d, "mapRunArn"));
  cr_assert_not_null(arn);
  /* arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/STATE:UUID */
  cr_assert(strncmp(arn,
                    "arn:aws:states:us-east-1:123456789012:mapRun:"
                    "StateMachine/",
                    58) == 0,
            "%s", arn);
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(map_distributed, standard_children_stay_out_of_the_parent_history) {
  children_stay_out_of_the_parent_history("STANDARD");
}

Test(map_distributed, express_children_stay_out_of_the_parent_history) {
  children_stay_out_of_the_parent_history("EXPRESS");
}

Test(map_distributed, label_names_the_map_run) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'Label':'Nightly-Run_1','ItemProcessor':{'ProcessorConfig':{"
      "'Mode':'DISTRIBUTED','ExecutionType':'EXPRESS'},'StartAt':'P',"
      "'States':{'P':{'Type':'Pass','End':true}}}}}}");
  wf_execution *x = wfx_run(e, m, "[1]");
  wfx_assert_output(x, "[1]");
  json_t *doc;
  json_t *evs = wft_events(x, 0, &doc);
  size_t at;
  cr_assert_eq(wfx_find_events(evs, "MapRunStarted", &at, 1), 1);
  const char *arn = json_string_value(
      json_object_get(wft_details(json_array_get(evs, at)), "mapRunArn"));
  regex_t re;
  cr_assert_eq(regcomp(&re,
                       "^arn:aws:states:us-east-1:123456789012:mapRun:"
                       "StateMachine/Nightly-Run_1:[0-9a-f]{8}-[0-9a-f]{4}-"
                       "[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                       REG_EXTENDED | REG_NOSUB),
               0);
  cr_assert_eq(regexec(&re, arn, 0, NULL, 0), 0, "mapRunArn %s", arn);
  regfree(&re);
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(map_distributed, a_failing_child_fails_the_run_by_default) {
  static const char *const types[] = {"STANDARD", "EXPRESS"};
  wf_engine *e = wfx_engine(0, NULL);
  for (int k = 0; k < 2; k++) {
    wf_machine *m = failing_children_map("", types[k]);
    wf_execution *x = run_ten(e, m, "4", "");
    /* Not the child's own error: the run's. */
    assert_threshold_exceeded(x);
    char *t = wft_event_types(x);
    cr_assert_str_eq(t,
                     "ExecutionStarted MapStateEntered MapStateStarted "
                     "MapRunStarted MapRunFailed MapStateFailed "
                     "ExecutionFailed",
                     "%s: %s", types[k], t);
    free(t);
    wf_execution_free(x);
    wf_machine_free(m);
  }
  wf_engine_free(e);
}

Test(map_distributed, catch_receives_the_threshold_error) {
  wf_engine *e = wfx_engine(0, NULL);
  wfx_assert_def(
      e,
      "{'StartAt':'M','States':{'M':{'Type':'Map','Next':'Done',"
      "'ItemsPath':'$.items','ResultPath':'$.r',"
      "'Catch':[{'ErrorEquals':['States.ExceedToleratedFailureThreshold'],"
      "'ResultPath':'$.error','Next':'Done'}],"
      "'ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"
      "'ExecutionType':'STANDARD'},'StartAt':'F','States':{'F':{"
      "'Type':'Fail','Error':'Child.Failed'}}}},"
      "'Done':{'Type':'Pass','End':true}}}",
      "{'items':[1]}",
      "{'items':[1],'error':{'Error':"
      "'States.ExceedToleratedFailureThreshold','Cause':"
      "'The specified tolerated failure threshold was exceeded'}}");
  wf_engine_free(e);
}

/* ---- tolerated failures ---- */

Test(map_distributed, tolerated_failure_count_at_the_limit_passes) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_tolerance(e, "'ToleratedFailureCount':3,", "STANDARD", "159",
                   TOLERATED);
  wf_engine_free(e);
}

Test(map_distributed, tolerated_failure_count_just_past_the_limit_fails) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_tolerance(e, "'ToleratedFailureCount':2,", "STANDARD", "159",
                   EXCEEDED);
  wf_engine_free(e);
}

Test(map_distributed, tolerated_failure_percentage_at_the_limit_passes) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_tolerance(e, "'ToleratedFailurePercentage':30,", "EXPRESS", "026",
                   TOLERATED);
  wf_engine_free(e);
}

Test(map_distributed, tolerated_failure_percentage_just_past_the_limit_fails) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_tolerance(e, "'ToleratedFailurePercentage':29,", "EXPRESS", "026",
                   EXCEEDED);
  assert_tolerance(e, "'ToleratedFailurePercentage':29.9,", "EXPRESS", "026",
                   EXCEEDED);
  wf_engine_free(e);
}

Test(map_distributed, exceeding_either_tolerance_fails_the_run) {
  wf_engine *e = wfx_engine(0, NULL);
  /* 3 of 10 failures: within the count, over the percentage. */
  assert_tolerance(e,
                   "'ToleratedFailureCount':5,'ToleratedFailurePercentage':20,",
                   "STANDARD", "123", EXCEEDED);
  /* Within the percentage, over the count. */
  assert_tolerance(e,
                   "'ToleratedFailureCount':2,'ToleratedFailurePercentage':50,",
                   "STANDARD", "123", EXCEEDED);
  /* Within both. */
  assert_tolerance(e,
                   "'ToleratedFailureCount':3,'ToleratedFailurePercentage':30,",
                   "STANDARD", "123", TOLERATED);
  wf_engine_free(e);
}

Test(map_distributed, tolerated_failure_paths_read_the_input) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = failing_children_map(
      "'ToleratedFailureCountPath':'$.count',", "STANDARD");
  assert_ten(e, m, "159", ",\"count\":3", TOLERATED);
  assert_ten(e, m, "159", ",\"count\":2", EXCEEDED);
  wf_machine_free(m);

  m = failing_children_map("'ToleratedFailurePercentagePath':'$.pct',",
                           "STANDARD");
  assert_ten(e, m, "159", ",\"pct\":30", TOLERATED);
  assert_ten(e, m, "159", ",\"pct\":29.5", EXCEEDED);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* A one-item run under `field` with `extra` in the input, failing with
 * States.Runtime and AWS's message `detail`. */
static void assert_path_error(wf_engine *e, const char *field,
                              const char *extra, const char *detail) {
  wf_machine *m = failing_children_map(field, "STANDARD");
  char *in = wft_strf("{\"items\":[0]%s}", extra);
  wf_execution *x = wft_run(e, m, in, NULL);
  char *cause = wft_strf("An error occurred while executing the state 'M' "
                         "(entered at the event id #2). %s",
                         detail);
  wft_assert_failed(x, "States.Runtime", cause);
  free(cause);
  free(in);
  wf_execution_free(x);
  wf_machine_free(m);
}

Test(map_distributed, tolerated_failure_count_path_errors) {
  wf_engine *e = wfx_engine(0, NULL);
  const char *f = "'ToleratedFailureCountPath':'$.x',";
  assert_path_error(e, f, ",\"x\":-1",
                    "ToleratedFailureCount cannot be negative.");
  assert_path_error(e, f, ",\"x\":\"NoNumber\"",
                    "The ToleratedFailureCountPath field refers to value "
                    "\"NoNumber\" which is not a valid integer: $.x");
  assert_path_error(e, f, ",\"x\":{}",
                    "The ToleratedFailureCountPath field refers to value "
                    "\"{}\" which is not a valid integer: $.x");
  wf_engine_free(e);
}

Test(map_distributed, tolerated_failure_percentage_path_errors) {
  wf_engine *e = wfx_engine(0, NULL);
  const char *f = "'ToleratedFailurePercentagePath':'$.x',";
  assert_path_error(e, f, ",\"x\":-1.1",
                    "ToleratedFailurePercentage must be between 0 and 100.");
  assert_path_error(e, f, ",\"x\":100.1",
                    "ToleratedFailurePercentage must be between 0 and 100.");
  assert_path_error(e, f, ",\"x\":\"NoNumber\"",
                    "The ToleratedFailurePercentagePath field refers to "
                    "value \"NoNumber\" which is not a valid float: $.x");
  wf_engine_free(e);
}

Test(map_distributed, tolerated_failure_path_bounds_are_accepted) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_machine *m = failing_children_map(
      "'ToleratedFailureCountPath':'$.c','ToleratedFailurePercentagePath':"
      "'$.p',",
      "STANDARD");
  wf_execution *x = wft_run(e, m, "{\"items\":[0],\"c\":0,\"p\":100}", NULL);
  wft_assert_succeeded(x, "[0]");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- batching ---- */

/* A distributed Map with `batcher` (an ItemBatcher object) over $.items,
 * children passing their input through, turns `input` into `expected`. */
static void assert_batches(wf_engine *e, const char *batcher,
                           const char *input, const char *expected) {
  char def[1024];
  snprintf(def, sizeof def,
           "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
           "'ItemsPath':'$.items','ItemBatcher':%s,"
           "'ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"
           "'ExecutionType':'STANDARD'},'StartAt':'P','States':{'P':{"
           "'Type':'Pass','End':true}}}}}}",
           batcher);
  wfx_assert_def(e, def, input, expected);
}

Test(map_distributed, max_items_per_batch_boundaries) {
  wf_engine *e = wfx_engine(0, NULL);
  const char *four = "{'items':[1,2,3,4]}";
  /* Exactly at the limit: full batches. */
  assert_batches(e, "{'MaxItemsPerBatch':2}", four,
                 "[{'Items':[1,2]},{'Items':[3,4]}]");
  assert_batches(e, "{'MaxItemsPerBatch':4}", four, "[{'Items':[1,2,3,4]}]");
  /* One item over: a last, smaller batch. */
  assert_batches(e, "{'MaxItemsPerBatch':3}", four,
                 "[{'Items':[1,2,3]},{'Items':[4]}]");
  assert_batches(e, "{'MaxItemsPerBatch':2}", "{'items':[1,2,3,4,5]}",
                 "[{'Items':[1,2]},{'Items':[3,4]},{'Items':[5]}]");
  assert_batches(e, "{'MaxItemsPerBatch':1}", "{'items':[1,2]}",
                 "[{'Items':[1]},{'Items':[2]}]");
  /* A limit above the item count: one batch. */
  assert_batches(e, "{'MaxItemsPerBatch':100}", four,
                 "[{'Items':[1,2,3,4]}]");
  assert_batches(e, "{'MaxItemsPerBatch':3}", "{'items':[]}", "[]");
  wf_engine_free(e);
}

Test(map_distributed, max_items_per_batch_path) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_batches(e, "{'MaxItemsPerBatchPath':'$.n'}",
                 "{'n':2,'items':['a','b','c']}",
                 "[{'Items':['a','b']},{'Items':['c']}]");
  assert_batches(e, "{'MaxItemsPerBatchPath':'$.n'}",
                 "{'n':3,'items':['a','b','c']}",
                 "[{'Items':['a','b','c']}]");
  wf_engine_free(e);
}

Test(map_distributed, max_input_bytes_per_batch_limits_the_batch_size) {
  wf_engine *e = wfx_engine(0, NULL);
  /* Each item is "xxxx", 6 bytes of JSON; the Items array of two is 15
   * bytes, of three 22. Limits well inside those bounds (the exact
   * boundary is not pinned down: see the report). */
  const char *six = "{'items':['xxxx','xxxx','xxxx','xxxx','xxxx','xxxx']}";
  assert_batches(e, "{'MaxInputBytesPerBatch':18}", six,
                 "[{'Items':['xxxx','xxxx']},{'Items':['xxxx','xxxx']},"
                 "{'Items':['xxxx','xxxx']}]");
  assert_batches(e, "{'MaxInputBytesPerBatch':26}", six,
                 "[{'Items':['xxxx','xxxx','xxxx']},"
                 "{'Items':['xxxx','xxxx','xxxx']}]");
  assert_batches(e, "{'MaxInputBytesPerBatch':262144}", six,
                 "[{'Items':['xxxx','xxxx','xxxx','xxxx','xxxx','xxxx']}]");
  /* Both limits: whichever is reached first closes the batch. */
  assert_batches(e, "{'MaxInputBytesPerBatch':26,'MaxItemsPerBatch':2}", six,
                 "[{'Items':['xxxx','xxxx']},{'Items':['xxxx','xxxx']},"
                 "{'Items':['xxxx','xxxx']}]");
  assert_batches(e, "{'MaxInputBytesPerBatchPath':'$.b'}",
                 "{'b':18,'items':['xxxx','xxxx','xxxx']}",
                 "[{'Items':['xxxx','xxxx']},{'Items':['xxxx']}]");
  wf_engine_free(e);
}

Test(map_distributed, batch_input_is_added_to_every_batch) {
  wf_engine *e = wfx_engine(0, NULL);
  assert_batches(
      e,
      "{'MaxItemsPerBatch':2,'BatchInput':{'fixed':'f','from.$':'$.meta',"
      "'state.$':'$$.State.Name'}}",
      "{'meta':{'run':7},'items':[1,2,3]}",
      "[{'BatchInput':{'fixed':'f','from':{'run':7},'state':'M'},"
      "'Items':[1,2]},"
      "{'BatchInput':{'fixed':'f','from':{'run':7},'state':'M'},"
      "'Items':[3]}]");
  wf_engine_free(e);
}

/* ---- concurrency and stopping ---- */

Test(map_distributed, max_concurrency_limits_child_executions) {
  enum { N = 9, LIMIT = 3 };
  int max = wfx_conc_run(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'MaxConcurrency':3,'ItemProcessor':{'ProcessorConfig':{"
      "'Mode':'DISTRIBUTED','ExecutionType':'EXPRESS'},'StartAt':'T',"
      "'States':{'T':{'Type':'Task','Resource':'" FN "Conc',"
      "'End':true}}}}}}",
      "[0,1,2,3,4,5,6,7,8]", "[0,1,2,3,4,5,6,7,8]", LIMIT, N, 6);
  cr_assert_eq(max, LIMIT, "%d children at once", max);
}

Test(map_distributed, stop_aborts_every_child_execution) {
  wfx_fanout f;
  wfx_fanout_init(&f, 4, 0, NULL, NULL);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','Next':'Later',"
      "'MaxConcurrency':4,'ItemProcessor':{'ProcessorConfig':{"
      "'Mode':'DISTRIBUTED','ExecutionType':'STANDARD'},'StartAt':'B',"
      "'States':{'B':{'Type':'Task','Resource':'" FN "Block','Next':'A'},"
      "'A':{'Type':'Task','Resource':'" FN "After','End':true}}}},"
      "'Later':{'Type':'Task','Resource':'" FN "After','End':true}}}");
  wf_execution *x = wfx_fanout_stop(&f, m, "[0,1,2,3,4,5]", 4, NULL, NULL);
  wfx_fanout_finish(&f, x, m, 4);
}

Test(map_distributed, tolerated_child_failures_keep_siblings_running) {
  wfx_count calls = WFX_COUNT_INIT;
  wf_engine *e = wfx_engine(0, NULL);
  wft_register(e, FN "Count", wfx_echo_counted, &calls, WF_HANDLER_INLINE);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'MaxConcurrency':1,'ToleratedFailureCount':1,"
      "'ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"
      "'ExecutionType':'STANDARD'},'StartAt':'T','States':{"
      "'T':{'Type':'Task','Resource':'" FN "Count','Next':'C'},"
      "'C':{'Type':'Choice','Choices':[{'Variable':'$','NumericEquals':0,"
      "'Next':'F'}],'Default':'P'},'P':{'Type':'Pass','End':true},"
      "'F':{'Type':'Fail','Error':'E'}}}}}}");
  /* The first child fails, within tolerance: every other child runs. */
  wf_execution *x = wfx_run(e, m, "[0,1,2,3]");
  wft_assert_succeeded(x, NULL);
  const json_t *out = wf_execution_output_value(x);
  cr_assert_eq(json_array_size(out), 4);
  for (int i = 1; i < 4; i++)
    cr_assert_eq(json_integer_value(json_array_get(out, (size_t)i)), i);
  cr_assert_eq(wfx_count_get(&calls), 4);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- ItemSelector with ItemBatcher; Amazon S3 item sources ---- */

/* Records what each child execution received. */
typedef struct child_inputs {
  pthread_mutex_t mu;
  char *inputs[8];
  int n;
} child_inputs;

static void record_input(wf_task *t, void *payload) {
  child_inputs *c = payload;
  pthread_mutex_lock(&c->mu);
  if (c->n < 8) c->inputs[c->n++] = strdup(wf_task_input(t));
  pthread_mutex_unlock(&c->mu);
  wf_task_succeed(t, wf_task_input(t));
}

/* ItemSelector applies to each item, before ItemBatcher groups them
 * (ItemReader -> ItemsPath -> ItemSelector -> ItemBatcher): the context's
 * $$.Map.Item is the item, not the batch. It used to select over whole
 * batches: [{"v":{"Items":["a","b"]},"i":0},{"v":{"Items":["c"]},"i":1}]. */
Test(map_distributed, item_selector_applies_per_item_before_batching) {
  wf_engine *e = wfx_engine(0, NULL);
  child_inputs c = {.mu = PTHREAD_MUTEX_INITIALIZER};
  wft_register(e, FN "Child", record_input, &c, 0);
  wf_machine *m = wfx_load(
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'ItemSelector':{'v.$':'$$.Map.Item.Value','i.$':'$$.Map.Item.Index'},"
      "'ItemBatcher':{'MaxItemsPerBatch':2},"
      "'ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"
      "'ExecutionType':'STANDARD'},'StartAt':'C','States':{'C':{"
      "'Type':'Task','Resource':'" FN "Child','End':true}}}}}}");
  wf_execution *x = wfx_run(e, m, "['a','b','c']");
  wfx_assert_output(x, "[{'Items':[{'v':'a','i':0},{'v':'b','i':1}]},"
                       "{'Items':[{'v':'c','i':2}]}]");
  /* Each child received its batch. */
  pthread_mutex_lock(&c.mu);
  cr_assert_eq(c.n, 2, "%d child executions", c.n);
  char *first = wfx_dq("{'Items':[{'v':'a','i':0},{'v':'b','i':1}]}");
  char *second = wfx_dq("{'Items':[{'v':'c','i':2}]}");
  bool a0 = wft_json_text_equal(c.inputs[0], first) &&
            wft_json_text_equal(c.inputs[1], second);
  bool a1 = wft_json_text_equal(c.inputs[1], first) &&
            wft_json_text_equal(c.inputs[0], second);
  cr_assert(a0 || a1, "children received %s and %s", c.inputs[0],
            c.inputs[1]);
  for (int i = 0; i < c.n; i++) free(c.inputs[i]);
  pthread_mutex_unlock(&c.mu);
  free(first);
  free(second);
  wf_execution_free(x);
  wf_machine_free(m);
  /* With BatchInput the selected items sit beside it. */
  wfx_assert_def(
      e,
      "{'StartAt':'M','States':{'M':{'Type':'Map','End':true,"
      "'ItemsPath':'$.items','ItemSelector':{'v.$':'$$.Map.Item.Value',"
      "'k.$':'$.k'},'ItemBatcher':{'MaxItemsPerBatch':3,'BatchInput':"
      "{'b':1}},'ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"
      "'ExecutionType':'EXPRESS'},'StartAt':'P','States':{'P':{"
      "'Type':'Pass','End':true}}}}}}",
      "{'k':'K','items':[1,2,3,4]}",
      "[{'BatchInput':{'b':1},'Items':[{'v':1,'k':'K'},"
      "{'v':2,'k':'K'},{'v':3,'k':'K'}]},"
      "{'BatchInput':{'b':1},'Items':[{'v':4,'k':'K'}]}]");
  wf_engine_free(e);
}

/* A start refused with WF_EUNSUPPORTED naming the state; nothing runs. */
static void assert_unsupported(wf_engine *e, const char *sq, const char *input,
                               const char *state) {
  wf_machine *m = wfx_load(sq);
  char *in = wfx_dq(input);
  wf_error err;
  wft_assert_start_refused(e, m, in, NULL, WF_EUNSUPPORTED, &err);
  char quoted[128];
  snprintf(quoted, sizeof quoted, "'%s'", state);
  cr_assert_not_null(strstr(err.message, quoted),
                     "the message does not name %s: %s", state, err.message);
  /* wf_engine_run refuses it the same way. */
  wf_execution *x = (wf_execution *)m;
  cr_assert_eq(wf_engine_run(&x, e, m, in, NULL, &err), WF_EUNSUPPORTED);
  cr_assert_null(x);
  free(in);
  wf_machine_free(m);
}

/* ItemReader and ResultWriter (with a Resource) need Amazon S3: on an
 * engine without an object store such a machine loads (it is valid) but
 * does not start. It used to run, over the input instead of the S3
 * object, and ignore the writer. (test_map_reader.c: with a store.) */
Test(map_distributed, item_reader_and_result_writer_are_refused_at_start) {
  wf_engine *e = wfx_engine(0, NULL);
  wfx_count children = WFX_COUNT_INIT;
  wft_register(e, FN "Child", wfx_echo_counted, &children, 0);
#define CHILD_PROCESSOR                                                    \
  "'ItemProcessor':{'ProcessorConfig':{'Mode':'DISTRIBUTED',"              \
  "'ExecutionType':'STANDARD'},'StartAt':'C','States':{'C':{'Type':"       \
  "'Task','Resource':'" FN "Child','End':true}}}"
  assert_unsupported(
      e,
      "{'StartAt':'ReadFromS3','States':{'ReadFromS3':{'Type':'Map',"
      "'End':true,'ItemReader':{'Resource':'arn:aws:states:::s3:getObject',"
      "'ReaderConfig':{'InputType':'JSON'},'Parameters':{'Bucket':'b',"
      "'Key':'k'}}," CHILD_PROCESSOR "}}}",
      "{}", "ReadFromS3");
  assert_unsupported(
      e,
      "{'StartAt':'Prepare','States':{'Prepare':{'Type':'Pass','Next':"
      "'WriteToS3'},'WriteToS3':{'Type':'Map','End':true,'ResultWriter':{"
      "'Resource':'arn:aws:states:::s3:putObject','Parameters':{'Bucket':"
      "'b','Prefix':'p'}}," CHILD_PROCESSOR "}}}",
      "[1,2]", "WriteToS3");
  /* Nested in a Parallel branch, it is found too. */
  assert_unsupported(
      e,
      "{'StartAt':'Par','States':{'Par':{'Type':'Parallel','End':true,"
      "'Branches':[{'StartAt':'Inner','States':{'Inner':{'Type':'Map',"
      "'End':true,'ItemReader':{'Resource':'arn:aws:states:::s3:listObjectsV2',"
      "'Parameters':{'Bucket':'b'}}," CHILD_PROCESSOR "}}}]}}}",
      "{}", "Inner");
#undef CHILD_PROCESSOR
  cr_assert_eq(wfx_count_get(&children), 0, "a child execution ran");
  wf_engine_free(e);
}
