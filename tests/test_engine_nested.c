/* Nested executions (workflow/nested.h): a Task on
 * arn:aws:states:::states:startExecution runs a child execution on the
 * same engine. The four forms' results and AWS's shapes, the child's
 * input, a failing child, a callback answered by the child, a parent
 * stopped (its child stopped too), a state machine that does not exist
 * and a restart with a parent waiting on its child. Tests wait on the
 * executions and on gates, never on the clock. */
#include <criterion/criterion.h>
#include <pthread.h>

#include "engine_support.h"
#include "store_support.h"
#include "support.h"

TestSuite(engine_nested, .timeout = 60);

#define SM "arn:aws:states:us-east-1:123456789012:stateMachine:"
#define EXEC "arn:aws:states:us-east-1:123456789012:execution:"
#define HOLD "arn:aws:lambda:us-east-1:123456789012:function:Hold"
#define REPLY "arn:aws:lambda:us-east-1:123456789012:function:Reply"

/* ---- a resolver over a few machines ---- */

typedef struct catalog {
  const char *names[4];
  wf_machine *machines[4];
  size_t n;
} catalog;

static int resolve(wf_machine_target *out, const char *arn, void *payload,
                   wf_error *err) {
  catalog *c = payload;
  for (size_t i = 0; i < c->n; i++) {
    char want[256];
    snprintf(want, sizeof want, SM "%s", c->names[i]);
    if (strcmp(arn, want) == 0) {
      out->machine = wf_machine_ref(c->machines[i]);
      return WF_OK;
    }
  }
  snprintf(err->message, sizeof err->message, "no %s", arn);
  return WF_ENOTFOUND;
}

static void add(catalog *c, const char *name, const char *def) {
  c->names[c->n] = name;
  c->machines[c->n++] = wft_load_named(def, name);
}

static void catalog_free(catalog *c) {
  for (size_t i = 0; i < c->n; i++) wf_machine_free(c->machines[i]);
}

static void serve(wf_engine *e, catalog *c) {
  wf_error err;
  cr_assert_eq(wf_engine_set_machine_resolver(e, resolve, c, &err), WF_OK,
               "%s", err.message);
}

/* The parent: one Task of `resource`'s form on the machine `child`. */
static char *parent_def(const char *form, const char *child,
                        const char *extra) {
  return wft_strf(
      "{\"StartAt\":\"Nest\",\"States\":{\"Nest\":{\"Type\":\"Task\","
      "\"Resource\":\"arn:aws:states:::states:startExecution%s\","
      "\"Parameters\":{\"StateMachineArn\":\"" SM "%s\",\"Input\":{"
      "\"n.$\":\"$.n\",\"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$\":"
      "\"$$.Execution.Id\"%s}},\"End\":true}}}",
      form, child, extra ? extra : "");
}

/* Load a parent's definition (taken: freed here), named "parent". */
static wf_machine *load_parent(char *def) {
  wf_machine *m = wft_load_named(def, "parent");
  free(def);
  return m;
}

static const char *DOUBLE =
    "{\"StartAt\":\"Double\",\"States\":{\"Double\":{\"Type\":\"Pass\","
    "\"Parameters\":{\"twice.$\":\"States.MathAdd($.n, $.n)\"},"
    "\"End\":true}}}";

static const char *BREAK =
    "{\"StartAt\":\"Break\",\"States\":{\"Break\":{\"Type\":\"Fail\","
    "\"Error\":\"Child.Broke\",\"Cause\":\"on purpose\"}}}";

static wf_execution *run_parent(wf_engine *e, const char *form,
                                const char *child, const char *name) {
  wf_machine *m = load_parent(parent_def(form, child, NULL));
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = name;
  wf_execution *x = wft_run(e, m, "{\"n\":21}", &so);
  wf_machine_free(m);
  return x;
}

/* The child's record in the store, as JSON. */
static json_t *child_record(wf_engine *e, const char *arn) {
  return wst_execution(wf_engine_store(e), arn);
}

/* ---- a child holding a task: its token, for the test to answer ---- */

typedef struct hold {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char token[64];
  char input[512];
  int calls;
} hold;

static void hold_fn(wf_task *t, void *p) {
  hold *h = p;
  pthread_mutex_lock(&h->mu);
  snprintf(h->token, sizeof h->token, "%s", wf_task_token(t));
  snprintf(h->input, sizeof h->input, "%s", wf_task_input(t));
  h->calls++;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

static void hold_init(hold *h) {
  memset(h, 0, sizeof *h);
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
}

/* Wait for the handler's `calls`th call; its token. */
static const char *hold_wait(hold *h, int calls) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += WFT_WAIT_MS / 1000;
  pthread_mutex_lock(&h->mu);
  while (h->calls < calls)
    cr_assert_eq(pthread_cond_timedwait(&h->cv, &h->mu, &until), 0,
                 "the child's task was not called");
  pthread_mutex_unlock(&h->mu);
  return h->token;
}

static void hold_fini(hold *h) {
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cv);
}

/* An engine serving startExecution over a catalog, with the Hold
 * handler registered; `clock`: a virtual one, else the system's. */
typedef struct nest {
  wf_clock *clock;
  wf_engine *e;
  catalog c;
  hold h;
} nest;

static void nest_init(nest *n, bool virtual_clock) {
  memset(n, 0, sizeof *n);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  if (virtual_clock) {
    cr_assert_eq(wf_clock_virtual_new(&n->clock, WFT_T0), WF_OK);
    o.clock = n->clock;
  }
  n->e = wft_engine(&o);
  serve(n->e, &n->c);
  hold_init(&n->h);
  wft_register(n->e, HOLD, hold_fn, &n->h, 0);
}

static void nest_fini(nest *n) {
  wf_engine_free(n->e);
  wf_clock_free(n->clock);
  hold_fini(&n->h);
  catalog_free(&n->c);
}

Test(engine_nested, request_response_answers_the_arn_and_start_date) {
  nest n;
  nest_init(&n, false);
  wf_engine *e = n.e;
  add(&n.c, "double", DOUBLE);
  wf_execution *x = run_parent(e, "", "double", "p1");
  wft_assert_succeeded(x, NULL);
  json_t *out = wft_parse(wf_execution_output(x));
  cr_assert_eq(json_object_size(out), 2, "%s", wf_execution_output(x));
  const char *arn = json_string_value(json_object_get(out, "ExecutionArn"));
  cr_assert_not_null(arn);
  cr_assert(strncmp(arn, EXEC "double:", strlen(EXEC "double:")) == 0, "%s",
            arn);
  cr_assert(json_is_integer(json_object_get(out, "StartDate")));

  /* The child is an execution of its own, its input as the parent gave
   * it (the parent's id in AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID). */
  wf_execution *child = NULL;
  if (wf_engine_find_execution(&child, e, arn) == WF_OK) {
    wft_wait(child);
    wf_execution_free(child);
  }
  json_t *rec = child_record(e, arn);
  cr_assert_not_null(rec, "the child is not in the store");
  wft_assert_json(json_string_value(json_object_get(rec, "input")),
                  "{\"n\":21,\"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID\":"
                  "\"" EXEC "parent:p1\"}");
  cr_assert_eq(json_integer_value(json_object_get(out, "StartDate")),
               json_integer_value(json_object_get(rec, "start")));
  json_decref(rec);
  json_decref(out);
  wf_execution_free(x);
  nest_fini(&n);
}

/* The describe object of .sync / .sync:2, its keys in AWS's order. */
static void assert_describe(json_t *d, const char *status) {
  const char *keys_ok[] = {"ExecutionArn", "Input", "InputDetails", "Name",
                           "Output", "OutputDetails", "RedriveCount",
                           "RedriveStatus", "RedriveStatusReason",
                           "StartDate", "StateMachineArn", "Status",
                           "StopDate"};
  const char *keys_failed[] = {"Cause", "Error", "ExecutionArn", "Input",
                               "InputDetails", "Name", "RedriveCount",
                               "RedriveStatus", "StartDate",
                               "StateMachineArn", "Status", "StopDate"};
  bool ok = strcmp(status, "SUCCEEDED") == 0;
  const char **keys = ok ? keys_ok : keys_failed;
  size_t n = ok ? sizeof keys_ok / sizeof *keys_ok
                : sizeof keys_failed / sizeof *keys_failed;
  char *text = json_dumps(d, JSON_COMPACT);
  cr_assert_eq(json_object_size(d), n, "%s", text);
  size_t i = 0;
  const char *k;
  json_t *v;
  json_object_foreach(d, k, v) {
    cr_assert_str_eq(k, keys[i], "key %zu of %s", i, text);
    i++;
  }
  cr_assert_str_eq(json_string_value(json_object_get(d, "Status")), status);
  cr_assert_str_eq(json_string_value(json_object_get(d, "StateMachineArn")),
                   SM "double");
  cr_assert(json_is_integer(json_object_get(d, "StartDate")));
  cr_assert(json_is_integer(json_object_get(d, "StopDate")));
  free(text);
}

/* A parent of `form` on "double", run to its end; its description. */
static json_t *run_described(nest *n, const char *form, const char *name,
                             wf_execution **x) {
  nest_init(n, false);
  add(&n->c, "double", DOUBLE);
  *x = run_parent(n->e, form, "double", name);
  wft_assert_succeeded(*x, NULL);
  json_t *d = wft_parse(wf_execution_output(*x));
  assert_describe(d, "SUCCEEDED");
  return d;
}

Test(engine_nested, sync_answers_the_description_with_json_text) {
  nest n;
  wf_execution *x;
  json_t *d = run_described(&n, ".sync", "p2", &x);
  wft_assert_json(json_string_value(json_object_get(d, "Output")),
                  "{\"twice\":42}");
  cr_assert(json_is_string(json_object_get(d, "Input")));
  cr_assert_str_eq(json_string_value(json_object_get(d, "RedriveStatus")),
                   "NOT_REDRIVABLE");
  cr_assert_str_eq(
      json_string_value(json_object_get(d, "RedriveStatusReason")),
      "Execution is SUCCEEDED and cannot be redriven");
  /* TaskSubmitted carries StartExecution's answer (AWS). */
  char *types = wft_event_types(x);
  cr_assert_str_eq(types,
                   "ExecutionStarted TaskStateEntered TaskScheduled "
                   "TaskStarted TaskSubmitted TaskSucceeded TaskStateExited "
                   "ExecutionSucceeded");
  free(types);
  json_t *doc;
  json_t *submitted = wft_details(json_array_get(wft_events(x, 0, &doc), 4));
  cr_assert_str_eq(json_string_value(json_object_get(submitted, "resource")),
                   "startExecution.sync");
  cr_assert_str_eq(
      json_string_value(json_object_get(submitted, "resourceType")),
      "states");
  json_t *answer =
      wft_parse(json_string_value(json_object_get(submitted, "output")));
  cr_assert_str_eq(json_string_value(json_object_get(answer, "ExecutionArn")),
                   json_string_value(json_object_get(d, "ExecutionArn")));
  cr_assert_eq(json_object_size(answer), 2);
  json_decref(answer);
  json_decref(doc);
  json_decref(d);
  wf_execution_free(x);
  nest_fini(&n);
}

Test(engine_nested, sync2_answers_the_description_with_json_values) {
  nest n;
  wf_execution *x;
  json_t *d = run_described(&n, ".sync:2", "p3", &x);
  cr_assert_eq(json_integer_value(
                   json_object_get(json_object_get(d, "Output"), "twice")),
               42);
  cr_assert_eq(json_integer_value(
                   json_object_get(json_object_get(d, "Input"), "n")),
               21);
  json_decref(d);
  wf_execution_free(x);
  nest_fini(&n);
}

Test(engine_nested, a_failed_child_fails_the_sync_task_with_its_description) {
  nest n;
  nest_init(&n, false);
  wf_engine *e = n.e;
  add(&n.c, "double", BREAK); /* named so assert_describe's ARN holds */
  const char *forms[] = {".sync", ".sync:2"};
  for (size_t i = 0; i < 2; i++) {
    char name[8];
    snprintf(name, sizeof name, "f%zu", i);
    wf_execution *x = run_parent(e, forms[i], "double", name);
    cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
    cr_assert_str_eq(wf_execution_error(x), "States.TaskFailed");
    json_t *d = wft_parse(wf_execution_cause(x));
    assert_describe(d, "FAILED");
    cr_assert_str_eq(json_string_value(json_object_get(d, "Error")),
                     "Child.Broke");
    cr_assert_str_eq(json_string_value(json_object_get(d, "Cause")),
                     "on purpose");
    cr_assert_str_eq(json_string_value(json_object_get(d, "RedriveStatus")),
                     "REDRIVABLE");
    cr_assert_eq(json_is_object(json_object_get(d, "Input")), i == 1);
    json_decref(d);
    wf_execution_free(x);
  }
  nest_fini(&n);
}

Test(engine_nested, a_missing_machine_is_refused_as_aws_names_it) {
  nest n;
  nest_init(&n, false);
  wf_engine *e = n.e;
  wf_execution *x = run_parent(e, ".sync", "nothing", "m1");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x),
                   "StepFunctions.StateMachineDoesNotExistException");
  const char *want = "State Machine Does Not Exist: '" SM "nothing' "
                     "(Service: AWSStepFunctions; Status Code: 400; Error "
                     "Code: StateMachineDoesNotExist; Request ID: ";
  cr_assert(strncmp(wf_execution_cause(x), want, strlen(want)) == 0, "%s",
            wf_execution_cause(x));
  wf_execution_free(x);

  /* A Catch takes it, by its name or States.TaskFailed's. */
  wf_machine *m = wft_load_named(
      "{\"StartAt\":\"Nest\",\"States\":{\"Nest\":{\"Type\":\"Task\","
      "\"Resource\":\"arn:aws:states:::states:startExecution\","
      "\"Parameters\":{\"StateMachineArn\":\"" SM "nothing\"},"
      "\"Catch\":[{\"ErrorEquals\":[\"StepFunctions."
      "StateMachineDoesNotExistException\"],\"ResultPath\":\"$.e\","
      "\"Next\":\"Done\"}],\"End\":true},\"Done\":{\"Type\":\"Pass\","
      "\"OutputPath\":\"$.e.Error\",\"End\":true}}}",
      "parent");
  x = wft_run(e, m, "{}", NULL);
  wft_assert_succeeded(
      x, "\"StepFunctions.StateMachineDoesNotExistException\"");
  wf_execution_free(x);
  wf_machine_free(m);
  nest_fini(&n);
}

Test(engine_nested, without_a_resolver_the_resource_is_not_served) {
  wf_engine *e = wft_engine(NULL);
  wf_execution *x = run_parent(e, "", "double", "n1");
  wft_assert_failed(x, "States.TaskFailed",
                    "No handler is registered for the resource "
                    "'arn:aws:states:::states:startExecution'");
  wf_execution_free(x);
  /* Once executions ran, the resolver comes too late. */
  catalog c = {0};
  wf_error err;
  cr_assert_eq(wf_engine_set_machine_resolver(e, resolve, &c, &err),
               WF_ESTATE);
  wf_engine_free(e);
}

static const char *HOLDING =
    "{\"StartAt\":\"Hold\",\"States\":{\"Hold\":{\"Type\":\"Task\","
    "\"Resource\":\"" HOLD "\",\"End\":true}}}";

/* The child answers its parent's token (SendTaskSuccess) from a Task. */
static void reply_fn(wf_task *t, void *p) {
  wf_engine *e = p;
  json_t *in = wft_parse(wf_task_input(t));
  wf_error err;
  int rc = wf_engine_send_task_success(
      e, json_string_value(json_object_get(in, "token")),
      "{\"answer\":\"from the child\"}", &err);
  json_decref(in);
  if (rc == WF_OK)
    wf_task_succeed(t, "{}");
  else
    wf_task_fail(t, "Reply.Failed", err.message);
}

Test(engine_nested, a_callback_task_waits_for_the_child_to_send_its_token) {
  nest n;
  nest_init(&n, false);
  wf_engine *e = n.e;
  add(&n.c, "reply",
      "{\"StartAt\":\"Reply\",\"States\":{\"Reply\":{\"Type\":\"Task\","
      "\"Resource\":\"" REPLY "\",\"End\":true}}}");
  wft_register(e, REPLY, reply_fn, e, 0);
  char *def = parent_def(".waitForTaskToken", "reply",
                         ",\"token.$\":\"$$.Task.Token\"");
  wf_machine *m = load_parent(def);
  wf_execution *x = wft_run(e, m, "{\"n\":1}", NULL);
  wft_assert_succeeded(x, "{\"answer\":\"from the child\"}");
  char *types = wft_event_types(x);
  cr_assert_str_eq(types,
                   "ExecutionStarted TaskStateEntered TaskScheduled "
                   "TaskStarted TaskSucceeded TaskStateExited "
                   "ExecutionSucceeded");
  free(types);
  wf_execution_free(x);
  wf_machine_free(m);
  nest_fini(&n);
}

/* The executions of a machine the store keeps, as JSON. */
static json_t *executions_of(wf_store *s, const char *machine) {
  wf_store_query q = WF_STORE_QUERY_INIT;
  q.machine_name = machine;
  json_t *list = json_array();
  wf_error err;
  cr_assert_eq(wf_store_list_executions(s, &q, wst_add_execution, list, &err),
               WF_OK, "%s", err.message);
  return list;
}

/* The child ended ABORTED by its parent's task, as AWS words it. */
static void assert_aborted_by(wf_engine *e, const char *child_arn,
                              const char *parent_arn) {
  wf_execution *child = NULL;
  if (wf_engine_find_execution(&child, e, child_arn) == WF_OK) {
    wft_wait(child);
    wf_execution_free(child);
  }
  json_t *rec = child_record(e, child_arn);
  cr_assert_eq(json_integer_value(json_object_get(rec, "status")),
               WF_EXEC_ABORTED);
  cr_assert(json_is_null(json_object_get(rec, "error")));
  char *want = wft_strf("The Task state in AWS Step Functions execution [%s] "
                        "which was managing this resource was aborted",
                        parent_arn);
  cr_assert_str_eq(json_string_value(json_object_get(rec, "cause")), want);
  free(want);
  json_decref(rec);
}

Test(engine_nested, stopping_the_parent_stops_a_sync_child) {
  nest n;
  nest_init(&n, false);
  wf_engine *e = n.e;
  add(&n.c, "holding", HOLDING);
  wf_machine *m = load_parent(parent_def(".sync", "holding", NULL));
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "stopped";
  wf_execution *x = wft_start(e, m, "{\"n\":1}", &so);
  hold_wait(&n.h, 1);
  cr_assert_eq(wf_execution_stop(x, "Test.Stop", "stopped by the test"),
               WF_OK);
  wft_wait(x);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_ABORTED);

  /* The child: the one running machine "holding" has. */
  json_t *list = executions_of(wf_engine_store(e), "holding");
  cr_assert_eq(json_array_size(list), 1);
  const char *child_arn =
      json_string_value(json_object_get(json_array_get(list, 0), "arn"));
  assert_aborted_by(e, child_arn, EXEC "parent:stopped");
  json_decref(list);
  wf_execution_free(x);
  wf_machine_free(m);
  nest_fini(&n);
}

/* A Map of .sync tasks: many children of one parent, each waited for;
 * stopping the parent stops every one still running. */
static wf_machine *map_parent(const char *child) {
  char *def = wft_strf(
      "{\"StartAt\":\"Each\",\"States\":{\"Each\":{\"Type\":\"Map\","
      "\"ItemsPath\":\"$.items\",\"ItemProcessor\":{\"StartAt\":\"Nest\","
      "\"States\":{\"Nest\":{\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:states:::states:startExecution.sync:2\",\"Parameters\":{"
      "\"StateMachineArn\":\"" SM "%s\",\"Input\":{\"n.$\":\"$\"}},"
      "\"OutputPath\":\"$.Output.twice\",\"End\":true}}},\"End\":true}}}",
      child);
  return load_parent(def);
}

Test(engine_nested, a_map_waits_for_each_child_and_a_stop_stops_them_all) {
  nest n;
  nest_init(&n, false);
  add(&n.c, "double", DOUBLE);
  add(&n.c, "holding", HOLDING);
  wf_machine *m = map_parent("double");
  wf_execution *x =
      wft_run(n.e, m, "{\"items\":[1,2,3,4,5,6,7,8,9,10,11,12]}", NULL);
  wft_assert_succeeded(x, "[2,4,6,8,10,12,14,16,18,20,22,24]");
  wf_execution_free(x);
  wf_machine_free(m);

  m = map_parent("holding");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "many";
  x = wft_start(n.e, m, "{\"items\":[1,2,3,4,5,6]}", &so);
  hold_wait(&n.h, 6);
  cr_assert_eq(wf_execution_stop(x, NULL, NULL), WF_OK);
  json_t *list = executions_of(wf_engine_store(n.e), "holding");
  cr_assert_eq(json_array_size(list), 6);
  for (size_t i = 0; i < 6; i++)
    assert_aborted_by(
        n.e,
        json_string_value(json_object_get(json_array_get(list, i), "arn")),
        EXEC "parent:many");
  json_decref(list);
  wf_execution_free(x);
  wf_machine_free(m);
  nest_fini(&n);
}

/* The task's TimeoutSeconds ends the wait: the child is stopped too (AWS
 * stops what the task managed), and a Catch takes States.Timeout. */
Test(engine_nested, a_sync_task_that_times_out_stops_its_child) {
  nest n;
  nest_init(&n, true);
  wf_engine *e = n.e;
  add(&n.c, "holding", HOLDING);
  wf_machine *m = wft_load_named(
      "{\"StartAt\":\"Nest\",\"States\":{\"Nest\":{\"Type\":\"Task\","
      "\"Resource\":\"arn:aws:states:::states:startExecution.sync:2\","
      "\"TimeoutSeconds\":5,\"Parameters\":{\"StateMachineArn\":\"" SM
      "holding\",\"Name\":\"kid\"},\"Catch\":[{\"ErrorEquals\":["
      "\"States.Timeout\"],\"Next\":\"Done\"}],\"End\":true},"
      "\"Done\":{\"Type\":\"Pass\",\"End\":true}}}",
      "parent");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "impatient";
  wf_execution *x = wft_run(e, m, "{}", &so);
  wft_assert_succeeded(x, NULL);
  assert_aborted_by(e, EXEC "holding:kid", EXEC "parent:impatient");
  wf_execution_free(x);
  wf_machine_free(m);
  nest_fini(&n);
}

/* ---- a restart while the parent waits ---- */

static wf_engine *durable_engine(wf_store **store, const char *dir,
                                 catalog *c, hold *h) {
  *store = wst_open("sqlite", dir, NULL);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.store = *store;
  wf_engine *e = wft_engine(&o);
  serve(e, c);
  wft_register(e, HOLD, hold_fn, h, 0);
  return e;
}

Test(engine_nested, a_parent_waiting_on_its_child_survives_a_restart) {
  char *dir = wst_tmpdir();
  catalog c = {0};
  add(&c, "holding", HOLDING);
  hold h;
  hold_init(&h);
  wf_store *s;
  wf_engine *e = durable_engine(&s, dir, &c, &h);
  wf_machine *m = load_parent(parent_def(".sync:2", "holding", NULL));
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "restarted";
  wf_execution *x = wft_start(e, m, "{\"n\":5}", &so);
  hold_wait(&h, 1);
  char token[64];
  snprintf(token, sizeof token, "%s", h.token);
  wf_execution_free(x);
  /* The process goes; both executions stay running in the store. */
  wf_engine_free(e);
  wf_store_free(s);

  e = durable_engine(&s, dir, &c, &h);
  size_t n = 0;
  wf_error err;
  cr_assert_eq(wf_engine_resume(e, &n, &err), WF_OK, "%s", err.message);
  cr_assert_eq(n, 2);
  /* The child's task is called again; its token still answers it. */
  hold_wait(&h, 2);
  cr_assert_str_eq(h.token, token);
  cr_assert_eq(wf_engine_send_task_success(e, token, "{\"held\":true}", &err),
               WF_OK, "%s", err.message);
  if (wf_engine_find_execution(&x, e, EXEC "parent:restarted") == WF_OK) {
    wft_wait(x);
    wf_execution_free(x);
  }
  json_t *rec = wst_execution(s, EXEC "parent:restarted");
  cr_assert_eq(json_integer_value(json_object_get(rec, "status")),
               WF_EXEC_SUCCEEDED, "%s",
               json_string_value(json_object_get(rec, "cause")));
  json_t *out = wft_parse(json_string_value(json_object_get(rec, "output")));
  cr_assert_str_eq(json_string_value(json_object_get(out, "Status")),
                   "SUCCEEDED");
  json_t *held = wft_parse("{\"held\":true}");
  cr_assert(json_equal(json_object_get(out, "Output"), held));
  json_decref(held);
  /* One child only: the task called again found the one it started. */
  json_t *list = executions_of(s, "holding");
  cr_assert_eq(json_array_size(list), 1);
  json_decref(list);
  json_decref(out);
  json_decref(rec);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_store_free(s);
  hold_fini(&h);
  catalog_free(&c);
  wst_rmdir(dir);
}

/* An EXPRESS child: started and waited for alike (its ARN is an express
 * one). */
Test(engine_nested, an_express_child_is_waited_for) {
  nest n;
  nest_init(&n, false);
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.name = "double";
  lo.type = WF_MACHINE_EXPRESS;
  wf_error err;
  wf_machine *express = NULL;
  cr_assert_eq(wf_machine_load_json(&express, DOUBLE, &lo, &err), WF_OK,
               "%s", err.message);
  n.c.names[n.c.n] = "double";
  n.c.machines[n.c.n++] = express;
  wf_execution *x = run_parent(n.e, ".sync:2", "double", "px");
  wft_assert_succeeded(x, NULL);
  json_t *d = wft_parse(wf_execution_output(x));
  assert_describe(d, "SUCCEEDED");
  cr_assert(strstr(json_string_value(json_object_get(d, "ExecutionArn")),
                   ":express:double:"));
  json_decref(d);
  wf_execution_free(x);
  nest_fini(&n);
}

/* What StartExecution refuses fails the task with AWS's API error. */
Test(engine_nested, refused_starts_name_the_api_error) {
  nest n;
  nest_init(&n, false);
  add(&n.c, "double", DOUBLE);
  static const struct {
    const char *params, *error, *cause;
  } cases[] = {
      {"\"Name\":\"a b\"", "StepFunctions.InvalidNameException",
       "Invalid Name: 'a b' (Service: AWSStepFunctions; Status Code: 400; "
       "Error Code: InvalidName; Request ID: "},
      {"\"Input\":\"{not json\"",
       "StepFunctions.InvalidExecutionInputException",
       "Invalid State Machine Execution Input: '"},
      /* The same name again, with other input, once that one ended. */
      {"\"Name\":\"once\",\"Input\":{\"by.$\":\"$$.Execution.Name\"}",
       "StepFunctions.ExecutionAlreadyExistsException",
       "Execution Already Exists: '" EXEC "double:once' (Service: "
       "AWSStepFunctions; Status Code: 400; Error Code: "
       "ExecutionAlreadyExists; Request ID: "},
      {"\"StateMachineArn\":3", "States.Runtime",
       "The StateMachineArn parameter must be a string naming a state "
       "machine"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *def = wft_strf(
        "{\"StartAt\":\"Nest\",\"States\":{\"Nest\":{\"Type\":\"Task\","
        "\"Resource\":\"arn:aws:states:::states:startExecution\","
        "\"Parameters\":{%s%s},\"End\":true}}}",
        strstr(cases[i].params, "StateMachineArn")
            ? ""
            : "\"StateMachineArn\":\"" SM "double\",",
        cases[i].params);
    wf_machine *m = load_parent(def);
    /* The ExecutionAlreadyExists case: a first run takes the name. */
    if (strstr(cases[i].params, "once")) {
      wf_start_options so = WF_START_OPTIONS_INIT;
      so.name = "first";
      wf_execution *first = wft_run(n.e, m, "{}", &so);
      wft_assert_succeeded(first, NULL);
      wf_execution_free(first);
    }
    wf_execution *x = wft_run(n.e, m, "{}", NULL);
    cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED, "case %zu", i);
    cr_assert_str_eq(wf_execution_error(x), cases[i].error, "case %zu", i);
    cr_assert(strncmp(wf_execution_cause(x), cases[i].cause,
                      strlen(cases[i].cause)) == 0,
              "case %zu: %s", i, wf_execution_cause(x));
    wf_execution_free(x);
    wf_machine_free(m);
  }
  nest_fini(&n);
}
