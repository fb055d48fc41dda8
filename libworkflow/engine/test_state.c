/* TestState (AWS's API of that name): one state run in isolation.
 *
 * The state runs as the only state of an execution of its own, stepped by
 * the same interpreter as every execution, which tells this file what it
 * needs through the wf__probe_* calls (the data at each processing step,
 * where the state leaves to, a retrier that would retry, a catcher that
 * takes the error). The execution is never registered, committed or
 * announced, and it ends as the state leaves: the state it would go to is
 * only named. A mock answers through the MockConfigFile machinery (one
 * response for the state); a Map or Parallel answers from its mock without
 * running its children.
 *
 * A single state's definition is wrapped into a machine: the state, named
 * "TestState", and a Succeed state for each state it may go to, so that
 * the machine loads; the machine times out after five minutes, as a
 * TestState call does on AWS. */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "step.h"
#include "workflow/test_state.h"

/* AWS's limit on a TestState run. */
#define WF__TEST_STATE_TIMEOUT_SECONDS 300
#define WF__TEST_STATE_NAME "TestState"

struct wf__probe {
  bool inspect, trace, reveal;
  int start;
  json_t *stages[WF__PROBE_STAGES];
  json_t *vars_in, *vars_out, *context;
  int retries;     /* retrierRetryCount; < 0 not given */
  int map_failures; /* mapIterationFailureCount; < 0 not given */
  json_t *mock_result;
  const char *mock_error, *mock_cause;
  /* What happened. */
  bool left, caught, retried, retriable;
  int next;
  size_t catch_index, retry_index; /* the catcher, the retrier matched */
  int64_t backoff_ms;
  char *error, *cause; /* a caught error */
  json_t *request, *response; /* an HTTP Task's exchange (TRACE) */
};

struct wf_test_state_result {
  wf_test_status status;
  char *output, *error, *cause, *next, *inspection;
};

int wf_test_state_options_init(wf_test_state_options *opts,
                               unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version != WF_TEST_STATE_OPTIONS_VERSION) return WF_EVERSION;
  *opts = (wf_test_state_options)WF_TEST_STATE_OPTIONS_INIT;
  return WF_OK;
}

/* ---- what the interpreter tells ---- */

void wf__probe_prepare(wf__frame *top) {
  struct wf__probe *p = top->exec->probe;
  if (p->start >= 0) top->state = p->start;
  if (p->vars_in) {
    top->vars = json_incref(p->vars_in);
    wf__vars_measure(top);
  }
}

void wf__probe_note(wf__frame *f, wf__probe_stage stage, json_t *value) {
  struct wf__probe *p = f->exec->probe;
  if (!p->inspect || f->parent) return;
  json_decref(p->stages[stage]);
  p->stages[stage] = json_incref(value);
}

void wf__probe_exit(wf__frame *f, int next) {
  struct wf__probe *p = f->exec->probe;
  p->left = true;
  p->next = next;
  json_decref(p->vars_out);
  p->vars_out = json_incref(f->vars);
}

unsigned wf__probe_retries(const wf__frame *f) {
  int n = f->exec->probe->retries;
  return n > 0 ? (unsigned)n : 0;
}

void wf__probe_retrier(wf__frame *f, size_t index, int64_t backoff_ms) {
  struct wf__probe *p = f->exec->probe;
  p->retried = true;
  p->retriable = backoff_ms >= 0;
  p->retry_index = index;
  p->backoff_ms = backoff_ms;
}

void wf__probe_caught(wf__frame *f, size_t index, const char *error,
                      const char *cause) {
  struct wf__probe *p = f->exec->probe;
  p->caught = true;
  p->catch_index = index;
  wf__free(p->error);
  wf__free(p->cause);
  p->error = error ? wf__strdup(error) : NULL;
  p->cause = cause ? wf__strdup(cause) : NULL;
}

json_t *wf__probe_context(const wf__frame *f) {
  return f->exec->probe->context;
}

bool wf__task_traced(const wf_task *t, bool *reveal) {
  /* Set before the run starts and never changed: no lock needed. */
  const struct wf__probe *p = t->frame->exec->probe;
  if (reveal) *reveal = p && p->reveal;
  return p && p->trace && !t->frame->parent;
}

void wf__task_trace(wf_task *t, json_t *request, json_t *response) {
  wf_execution *x = t->frame->exec;
  pthread_mutex_lock(&x->lock);
  struct wf__probe *p = x->probe;
  json_decref(p->request);
  json_decref(p->response);
  p->request = request;
  p->response = response;
  pthread_mutex_unlock(&x->lock);
}

wf__step wf__probe_fanout(wf__frame *f, const wf__state *st) {
  struct wf__probe *p = f->exec->probe;
  if (p->mock_error) return wf__state_error(f, st, p->mock_error, p->mock_cause);
  /* The iterations that failed, against the Map's tolerance (a count
   * given as a number; a percentage of the mocked result's items and the
   * failures). */
  if (st->type == WF__MAP && p->map_failures > 0) {
    size_t items = json_array_size(p->mock_result) + (size_t)p->map_failures;
    /* AWS checks only a tolerance the Map gives (recorded: a Map without
     * one succeeds whatever the count). */
    bool over = false;
    if (st->has_tolerated_count && p->map_failures > st->tolerated_count)
      over = true;
    if (st->has_tolerated_percentage &&
        100.0 * p->map_failures / (double)items > st->tolerated_percentage)
      over = true;
    if (over)
      return wf__state_error(f, st, "States.ExceedToleratedFailureThreshold",
                             "The specified tolerated failure threshold was "
                             "exceeded");
  }
  return wf__state_result(f, st, json_incref(p->mock_result));
}

/* ---- the request ---- */

/* A request TestState refuses (WF_EINVAL: a ValidationException). */
#define invalid(err, ...) wf__error_set(err, WF_EINVAL, NULL, __VA_ARGS__)

/* Optional JSON text: NULL stays NULL. `kind` is "object" or NULL (any
 * value). */
static int parse_opt(json_t **out, const char *text, const char *field,
                     bool object, wf_error *err) {
  *out = NULL;
  if (!text) return WF_OK;
  json_error_t je;
  *out = json_loads(text, JSON_DECODE_ANY, &je);
  if (!*out || (object && !json_is_object(*out))) {
    json_decref(*out);
    *out = NULL;
    return wf__error_set(err, WF_EINVAL, NULL,
                         object ? "%s must be a JSON object"
                                : "%s must be valid JSON",
                         field);
  }
  return WF_OK;
}

/* The names a state may go to: Next, Default, each Choice's Next and each
 * Catcher's Next. */
static void collect_targets(json_t *state, json_t *names) {
  json_t *v = json_object_get(state, "Next");
  if (json_is_string(v)) json_object_set_new(names, json_string_value(v),
                                             json_true());
  v = json_object_get(state, "Default");
  if (json_is_string(v)) json_object_set_new(names, json_string_value(v),
                                             json_true());
  const char *lists[] = {"Choices", "Catch"};
  for (size_t l = 0; l < 2; l++) {
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(state, lists[l]), i, item) {
      json_t *n = json_object_get(item, "Next");
      if (json_is_string(n))
        json_object_set_new(names, json_string_value(n), json_true());
    }
  }
}

/* A machine around one state's definition (see the top). */
static char *wrap_state(json_t *state) {
  json_t *states = json_object();
  json_object_set(states, WF__TEST_STATE_NAME, state);
  json_t *targets = json_object();
  collect_targets(state, targets);
  const char *name;
  json_t *v;
  json_object_foreach(targets, name, v) {
    if (strcmp(name, WF__TEST_STATE_NAME) == 0) continue;
    json_t *stub = json_object();
    json_object_set_new(stub, "Type", json_string("Succeed"));
    json_object_set_new(states, name, stub);
  }
  json_decref(targets);
  json_t *m = json_object();
  json_object_set_new(m, "StartAt", json_string(WF__TEST_STATE_NAME));
  json_object_set_new(m, "TimeoutSeconds",
                      json_integer(WF__TEST_STATE_TIMEOUT_SECONDS));
  json_object_set_new(m, "States", states);
  char *text = wf__json_dumps(m);
  json_decref(m);
  return text;
}

/* Load the machine the state runs in; *start is the tested state's index
 * among the top-level states, *raw its definition (new). */
static int load(wf_machine **m, int *start, json_t **raw,
                const char *definition, const wf_test_state_options *o,
                wf_error *err) {
  json_t *doc;
  int rc = wf__json_parse(&doc, definition, strlen(definition),
                          "definition", err);
  if (rc != WF_OK) return WF_EINVALID;
  if (!json_is_object(doc)) {
    json_decref(doc);
    return wf__error_set(err, WF_EINVALID, NULL,
                         "Invalid State Machine Definition: "
                         "'SCHEMA_VALIDATION_FAILED: The definition must be "
                         "a JSON object'");
  }
  bool machine = json_object_get(doc, "States") != NULL;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.name = WF__TEST_STATE_NAME;
  *start = -1;
  if (machine) {
    *raw = json_incref(
        json_object_get(json_object_get(doc, "States"),
                        o->state_name ? o->state_name : ""));
    json_decref(doc);
    if (!o->state_name)
      return invalid(err, "stateName is required when the definition is a "
                          "state machine");
    rc = wf_machine_load_json(m, definition, &lo, err);
    if (rc != WF_OK) return rc;
    const wf__scope *top = (*m)->top;
    for (size_t i = 0; i < top->count; i++)
      if (strcmp(top->states[i]->name, o->state_name) == 0) *start = (int)i;
    if (*start < 0) {
      wf_machine_free(*m);
      *m = NULL;
      return invalid(err, "State '%s' not found in the state machine "
                          "definition", o->state_name);
    }
    return WF_OK;
  }
  if (o->state_name) {
    json_decref(doc);
    return invalid(err, "stateName may only be specified when the "
                        "definition is a state machine");
  }
  char *text = wrap_state(doc);
  *raw = doc;
  if (!text) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  rc = wf_machine_load_json(m, text, &lo, err);
  wf__free(text);
  if (rc != WF_OK) return rc;
  *start = (*m)->top->start;
  return WF_OK;
}

/* A given context object, checked as AWS checks it (its words, recorded
 * by LocalStack: test_state_context_object): the members $$ has, their
 * text members strings, no Map, and a Task only for a state that has a
 * task token. */
typedef struct ctx_field {
  const char *name;
  bool text; /* must be a string */
} ctx_field;

static int check_members(json_t *obj, const char *where,
                         const ctx_field *fields, wf_error *err) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    const ctx_field *f = fields;
    while (f->name && strcmp(f->name, key) != 0) f++;
    if (!f->name)
      return invalid(err, "Invalid Context object provided: Field '%s' is "
                          "not allowed",
                     key);
    if (f->text && !json_is_string(v))
      return invalid(err, "Invalid Context object provided: %s.%s must be a "
                          "string",
                     where, key);
  }
  return WF_OK;
}

static int check_context(json_t *ctx, const wf__state *st, wf_error *err) {
  static const ctx_field execution[] = {
      {"Id", true},        {"Input", false},      {"Name", true},
      {"RoleArn", true},   {"StartTime", true},   {"RedriveCount", false},
      {"RedriveTime", true}, {NULL, false}};
  static const ctx_field state[] = {{"EnteredTime", true}, {"Name", true},
                                    {"RetryCount", false}, {NULL, false}};
  static const ctx_field machine[] = {{"Id", true}, {"Name", true},
                                      {NULL, false}};
  static const ctx_field task[] = {{"Token", true}, {NULL, false}};
  static const struct {
    const char *name;
    const ctx_field *fields;
  } parts[] = {{"Execution", execution}, {"State", state},
               {"StateMachine", machine}, {"Task", task}};
  const char *key;
  json_t *v;
  json_object_foreach(ctx, key, v) {
    if (strcmp(key, "Map") == 0)
      return invalid(err, "Invalid Context object provided: 'Map' field is "
                          "not supported when mocking a Context object");
    size_t i = 0;
    while (i < 4 && strcmp(parts[i].name, key) != 0) i++;
    if (i == 4)
      return invalid(err, "Invalid Context object provided: Field '%s' is "
                          "not allowed",
                     key);
    if (!json_is_object(v))
      return invalid(err, "Invalid Context object provided: %s must be an "
                          "object",
                     key);
    int rc = check_members(v, key, parts[i].fields, err);
    if (rc != WF_OK) return rc;
  }
  bool token = st->type == WF__TASK &&
               (strstr(st->resource, ".sync") ||
                strstr(st->resource, ".waitForTaskToken"));
  if (json_object_get(ctx, "Task") && !token)
    return invalid(err, "Invalid Context object provided: Context object "
                        "contains 'Task' when state is not a Task state with "
                        "a '.sync' or '.waitForTaskToken' service integration "
                        "pattern");
  return WF_OK;
}

/* Whether `name` is a state inside the Map or Parallel `st`, at any
 * depth. */
static bool holds_state(const wf__state *st, const char *name) {
  const wf__scope *one = st->type == WF__MAP ? st->processor : NULL;
  size_t n = st->type == WF__MAP ? 1 : st->nbranches;
  for (size_t b = 0; b < n; b++) {
    const wf__scope *sc = one ? one : st->branches[b];
    for (size_t i = 0; sc && i < sc->count; i++) {
      const wf__state *in = sc->states[i];
      if (strcmp(in->name, name) == 0) return true;
      if ((in->type == WF__MAP || in->type == WF__PARALLEL) &&
          holds_state(in, name))
        return true;
    }
  }
  return false;
}

/* What TestState refuses of a state as given, in AWS's words (recorded by
 * LocalStack against AWS): Map and Parallel only with a mock (then one
 * of the right shape), no mock for Pass, Succeed or Fail; ours: activities
 * and the .sync and .waitForTaskToken patterns only with a mock, as AWS's
 * API reference says. */
static int check_state(const wf__state *st, json_t *raw,
                       const wf_test_state_options *o, bool mocked,
                       json_t *result, wf_error *err) {
  bool fan = st->type == WF__MAP || st->type == WF__PARALLEL;
  if (!mocked) {
    if (fan)
      return wf__error_set(err, WF_EUNSUPPORTED, NULL,
                           "TestState API does not support Map or Parallel "
                           "states. Supported state types include: [Task, "
                           "Wait, Pass, Succeed, Fail, Choice]");
    if (st->type == WF__TASK &&
        (wf__task_family_of(st->resource) == WF__FAMILY_ACTIVITY ||
         strstr(st->resource, ".sync") ||
         strstr(st->resource, ".waitForTaskToken")))
      return invalid(err, "TestState only supports activity tasks and the "
                          ".sync and .waitForTaskToken integration patterns "
                          "when a mock is specified (resource '%s')",
                     st->resource);
    if (o->context)
      return invalid(err, "context may only be specified if a mock is "
                          "specified");
  } else {
    static const char *const names[] = {
        [WF__PASS] = "Pass", [WF__SUCCEED] = "Succeed", [WF__FAIL] = "Fail"};
    if (st->type == WF__PASS || st->type == WF__SUCCEED ||
        st->type == WF__FAIL)
      return invalid(err, "State type '%s' is not supported when a mock is "
                          "specified",
                     names[st->type]);
    if (o->reveal_secrets)
      return invalid(err, "TestState does not support RevealSecrets when a "
                          "mock is specified.");
  }
  if (result && st->type == WF__MAP) {
    bool writer = json_object_get(raw, "ResultWriter") != NULL;
    if (writer && !json_is_object(result))
      return invalid(err, "Mocked result must be a JSON object.");
    if (!writer && !json_is_array(result))
      return invalid(err, "Mocked result must be an array.");
  }
  if (result && st->type == WF__PARALLEL) {
    if (!json_is_array(result))
      return invalid(err, "Mocked result must be an array.");
    if (json_array_size(result) != st->nbranches)
      return invalid(err, "Mocked result must contain the same number of "
                          "items as number of Parallel branches.");
  }
  if (o->error_caused_by_state && (!fan || !o->mock_error))
    return invalid(err, "errorCausedByState may only be specified with a "
                        "mocked error of a Map or Parallel state");
  if (o->error_caused_by_state && !holds_state(st, o->error_caused_by_state))
    return invalid(err, "errorCausedByState '%s' is not a state of the %s "
                        "state",
                   o->error_caused_by_state,
                   st->type == WF__MAP ? "Map" : "Parallel");
  if (o->map_iteration_failure_count >= 0 && st->type != WF__MAP)
    return invalid(err, "mapIterationFailureCount may only be specified for "
                        "a Map state");
  if (o->map_item_reader_data && (st->type != WF__MAP || !st->distributed))
    return invalid(err, "mapItemReaderData may only be specified for a "
                        "Distributed Map state");
  if (o->retrier_retry_count >= 0 && !st->nretriers)
    return invalid(err, "retrierRetryCount may only be specified for a "
                        "state with a Retry field");
  return WF_OK;
}

static int check_options(const wf_test_state_options *o, wf_error *err) {
  if (o->version != WF_TEST_STATE_OPTIONS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_test_state_options version %u is not supported "
                         "(expected %u)",
                         o->version, WF_TEST_STATE_OPTIONS_VERSION);
  if ((unsigned)o->inspection_level > WF_INSPECT_TRACE ||
      (unsigned)o->mock_validation > WF_MOCK_NONE)
    return invalid(err, "inspection_level or mock_validation out of "
                        "range");
  if (o->mock_result && o->mock_error)
    return invalid(err, "A test mock should have only one of the following "
                        "fields: [result, errorOutput].");
  if (!o->mock_error && o->mock_cause)
    return invalid(err, "A mocked cause needs a mocked error");
  return WF_OK;
}

/* ---- the answer ---- */

static void put_text(json_t *o, const char *key, json_t *v) {
  if (!v) return;
  char *text = wf__json_dumps(v);
  if (text) json_object_set_new(o, key, json_string(text));
  wf__free(text);
}

/* The processing steps AWS shows for the state, as recorded (LocalStack's
 * test_test_state_scenarios snapshots): a Pass shows its result only when
 * it has a Result, and then no input processing; without one its
 * Parameters step is its filtered input when it has no Parameters; a Fail
 * shows its input as filtered; a Map or Parallel only its input's. */
static void steps_shown(const wf__state *st, json_t *input,
                        json_t *stages[WF__PROBE_STAGES]) {
  bool fan = st->type == WF__MAP || st->type == WF__PARALLEL;
  if (st->type == WF__PASS && st->result) {
    stages[WF__PROBE_AFTER_INPUT_PATH] = NULL;
    stages[WF__PROBE_AFTER_ARGUMENTS] = NULL;
  } else if (st->type == WF__PASS || fan) {
    stages[WF__PROBE_RESULT] = NULL;
    if (st->type == WF__PASS && !stages[WF__PROBE_AFTER_ARGUMENTS])
      stages[WF__PROBE_AFTER_ARGUMENTS] = stages[WF__PROBE_AFTER_INPUT_PATH];
  }
  if (fan) {
    stages[WF__PROBE_AFTER_ARGUMENTS] = NULL;
    stages[WF__PROBE_AFTER_RESULT_SELECTOR] = NULL;
    stages[WF__PROBE_AFTER_RESULT_PATH] = NULL;
  }
  if (st->type == WF__FAIL) stages[WF__PROBE_AFTER_INPUT_PATH] = input;
}

/* AWS's inspectionData: each member JSON text; JSONPath states show each
 * processing step, JSONata states their Arguments and result. */
static char *inspection(const struct wf__probe *p, const wf__state *st,
                        json_t *input, wf_test_status status) {
  json_t *o = json_object();
  put_text(o, "input", input);
  json_t *stages[WF__PROBE_STAGES];
  memcpy(stages, p->stages, sizeof stages);
  steps_shown(st, input, stages);
  if (st->ql == WF__QL_JSONATA) {
    put_text(o, "afterArguments", stages[WF__PROBE_AFTER_ARGUMENTS]);
    put_text(o, "result", stages[WF__PROBE_RESULT]);
  } else {
    static const char *const names[WF__PROBE_STAGES] = {
        "afterInputPath", "afterParameters", "result", "afterResultSelector",
        "afterResultPath"};
    for (int i = 0; i < WF__PROBE_STAGES; i++) put_text(o, names[i], stages[i]);
  }
  if (p->request) json_object_set(o, "request", p->request);
  if (p->response) json_object_set(o, "response", p->response);
  if (st->type == WF__MAP) {
    /* AWS shows a Map's concurrency and tolerance as numbers. */
    json_object_set_new(o, "maxConcurrency",
                        json_integer(st->max_concurrency));
    if (st->has_tolerated_count)
      json_object_set_new(o, "toleratedFailureCount",
                          json_integer(st->tolerated_count));
    if (st->has_tolerated_percentage)
      json_object_set_new(o, "toleratedFailurePercentage",
                          json_real(st->tolerated_percentage));
  }
  json_t *vars = p->left ? p->vars_out : p->vars_in;
  if (vars && json_object_size(vars)) put_text(o, "variables", vars);
  /* Which retrier matched (and, while it has attempts left, after how
   * long it retries) and which catcher took the error, as AWS records. */
  if (p->retried || (p->caught && status == WF_TEST_CAUGHT_ERROR)) {
    json_t *d = json_object();
    if (p->caught && status == WF_TEST_CAUGHT_ERROR)
      json_object_set_new(d, "catchIndex",
                          json_integer((json_int_t)p->catch_index));
    if (p->retried) {
      json_object_set_new(d, "retryIndex",
                          json_integer((json_int_t)p->retry_index));
      if (p->retriable)
        json_object_set_new(d, "retryBackoffIntervalSeconds",
                            json_integer(p->backoff_ms / 1000));
    }
    json_object_set_new(o, "errorDetails", d);
  }
  char *text = wf__json_dumps(o);
  json_decref(o);
  return text;
}

static char *dup_opt(const char *s) { return s ? wf__strdup(s) : NULL; }

static int answer(wf_test_state_result **out, wf_execution *x,
                  const struct wf__probe *p, const wf__state *st,
                  json_t *input, wf_error *err) {
  wf_test_state_result *r = wf__calloc(1, sizeof *r);
  if (!r) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  if (wf_execution_status(x) == WF_EXEC_SUCCEEDED) {
    r->status = p->caught ? WF_TEST_CAUGHT_ERROR : WF_TEST_SUCCEEDED;
    r->output = dup_opt(wf_execution_output(x));
    if (p->left && p->next >= 0)
      r->next = wf__strdup(st->scope->states[p->next]->name);
    r->error = dup_opt(p->error);
    r->cause = dup_opt(p->cause);
  } else {
    r->status = p->retriable ? WF_TEST_RETRIABLE : WF_TEST_FAILED;
    r->error = dup_opt(wf_execution_error(x));
    r->cause = dup_opt(wf_execution_cause(x));
  }
  if (p->inspect) r->inspection = inspection(p, st, input, r->status);
  *out = r;
  return WF_OK;
}

/* A mocked Task answers once, from a MockConfigFile test case of one
 * state. */
static int mock_task(wf_execution *x, const wf__state *st,
                     const struct wf__probe *p) {
  json_t *entry = json_object();
  if (p->mock_result) {
    json_object_set(entry, "Return", p->mock_result);
  } else {
    json_t *thr = json_object();
    json_object_set_new(thr, "Error", json_string(p->mock_error));
    if (p->mock_cause)
      json_object_set_new(thr, "Cause", json_string(p->mock_cause));
    json_object_set_new(entry, "Throw", thr);
  }
  json_t *resp = json_object();
  json_object_set_new(resp, "0", entry);
  x->mock_responses = json_object();
  json_object_set_new(x->mock_responses, "TestState", resp);
  x->mock_case = json_object();
  json_object_set_new(x->mock_case, st->name, json_string("TestState"));
  return x->mock_responses && x->mock_case ? WF_OK : WF_ENOMEM;
}

static void probe_free(struct wf__probe *p) {
  for (int i = 0; i < WF__PROBE_STAGES; i++) json_decref(p->stages[i]);
  json_decref(p->vars_in);
  json_decref(p->vars_out);
  json_decref(p->context);
  json_decref(p->mock_result);
  json_decref(p->request);
  json_decref(p->response);
  wf__free(p->error);
  wf__free(p->cause);
}

int wf_engine_test_state(wf_test_state_result **out, wf_engine *e,
                         const char *definition,
                         const wf_test_state_options *opts, wf_error *err) {
  if (out) *out = NULL;
  if (!out || !e || !definition)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "out, engine and definition are required");
  wf_test_state_options dflt = WF_TEST_STATE_OPTIONS_INIT;
  const wf_test_state_options *o = opts ? opts : &dflt;
  int rc = check_options(o, err);
  if (rc != WF_OK) return rc;
  struct wf__probe p = {.inspect = o->inspection_level != WF_INSPECT_INFO,
                        .trace = o->inspection_level == WF_INSPECT_TRACE,
                        .reveal = o->reveal_secrets,
                        .retries = o->retrier_retry_count,
                        .map_failures = o->map_iteration_failure_count,
                        .mock_error = o->mock_error,
                        .mock_cause = o->mock_cause, .next = -1};
  json_t *input = NULL;
  wf_machine *m = NULL;
  wf_execution *x = NULL;
  json_t *reader = NULL, *raw = NULL;
  if (o->input) {
    rc = wf__json_parse(&input, o->input, strlen(o->input), "input", err);
    if (rc != WF_OK) goto done;
  } else {
    input = json_object();
  }
  if ((rc = parse_opt(&p.vars_in, o->variables, "variables", true, err)) ||
      (rc = parse_opt(&p.context, o->context, "context", true, err)) ||
      (rc = parse_opt(&p.mock_result, o->mock_result, "Mocked result",
                      false, err)) ||
      (rc = parse_opt(&reader, o->map_item_reader_data, "mapItemReaderData",
                      false, err)))
    goto done;
  rc = load(&m, &p.start, &raw, definition, o, err);
  if (rc != WF_OK) goto done;
  const wf__state *st = m->top->states[p.start];
  bool mocked = o->mock_result || o->mock_error;
  rc = check_state(st, raw, o, mocked, p.mock_result, err);
  if (rc == WF_OK && p.context) rc = check_context(p.context, st, err);
  if (rc != WF_OK) goto done;
  x = wf__exec_new_probe(e, m, input, &p, err);
  if (!x) {
    rc = WF_ENOMEM;
    goto done;
  }
  if (o->role_arn) x->role_arn = wf__strdup(o->role_arn);
  if (mocked && st->type == WF__TASK && mock_task(x, st, &p) != WF_OK) {
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    goto done;
  }
  wf__exec_run_probe(x);
  rc = answer(out, x, &p, st, input, err);
done:
  wf__exec_release(x);
  wf_machine_free(m);
  json_decref(input);
  json_decref(reader);
  json_decref(raw);
  probe_free(&p);
  return rc;
}

wf_test_status wf_test_state_status(const wf_test_state_result *r) {
  return r->status;
}

const char *wf_test_status_name(wf_test_status status) {
  static const char *const names[] = {"SUCCEEDED", "FAILED", "RETRIABLE",
                                      "CAUGHT_ERROR"};
  return (unsigned)status < 4 ? names[status] : "UNKNOWN";
}

const char *wf_test_state_output(const wf_test_state_result *r) {
  return r->output;
}
const char *wf_test_state_error(const wf_test_state_result *r) {
  return r->error;
}
const char *wf_test_state_cause(const wf_test_state_result *r) {
  return r->cause;
}
const char *wf_test_state_next(const wf_test_state_result *r) {
  return r->next;
}
const char *wf_test_state_inspection(const wf_test_state_result *r) {
  return r->inspection;
}

void wf_test_state_result_free(wf_test_state_result *r) {
  if (!r) return;
  wf__free(r->output);
  wf__free(r->error);
  wf__free(r->cause);
  wf__free(r->next);
  wf__free(r->inspection);
  wf__free(r);
}
