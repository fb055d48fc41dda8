/* Input and output processing (ASL, "Input and Output Processing") on Pass
 * and Task states, through the public API: InputPath -> Parameters ->
 * (the task) -> ResultSelector -> ResultPath (into the raw state input) ->
 * OutputPath; payload templates with `.$` keys at any depth; the context
 * object ($$); the payload limit; and AWS's causes for path failures.
 * Tasks are served by an inline handler that records what it was given. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "support.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:Probe"
#define CALLBACK "arn:aws:states:::lambda:invoke.waitForTaskToken"
#define MAX_CALLS 8

/* A handler's record of its calls, and how it answers. Written on the
 * scheduler thread during the execution, read after wf_execution_wait(). */
typedef struct probe {
  const char *result;     /* JSON to answer with; NULL echoes the input */
  const char *fail_error; /* fail attempts below fail_attempts with it */
  unsigned fail_attempts;
  unsigned calls;
  char *inputs[MAX_CALLS];
  char *token;
} probe;

static void probe_handler(wf_task *task, void *payload) {
  probe *p = payload;
  char *input = strdup(wf_task_input(task));
  if (p->calls < MAX_CALLS) p->inputs[p->calls] = strdup(input);
  p->calls++;
  free(p->token);
  p->token = strdup(wf_task_token(task));
  if (wf_task_attempt(task) < p->fail_attempts)
    wf_task_fail(task, p->fail_error, "it failed");
  else
    wf_task_succeed(task, p->result ? p->result : input);
  free(input);
}

static void probe_free(probe *p) {
  for (unsigned i = 0; i < MAX_CALLS; i++) free(p->inputs[i]);
  free(p->token);
}

/* An engine on a virtual clock with the probe serving FN and CALLBACK. */
static void setup(wft_env *env, probe *p, const wf_engine_options *opts) {
  wf_error err;
  cr_assert_eq(wft_env_init(env, opts, &err), WF_OK, "%s", err.message);
  cr_assert_eq(wf_engine_register_handler(env->engine, FN, probe_handler, p,
                                          WF_HANDLER_INLINE, &err),
               WF_OK, "%s", err.message);
  cr_assert_eq(wf_engine_register_handler(env->engine, CALLBACK, probe_handler,
                                          p, WF_HANDLER_INLINE, &err),
               WF_OK, "%s", err.message);
}

/* Run and require success with output equal (typed) to `want`. */
static void expect_output(wf_engine *engine, const char *def, const char *input,
                          const char *want) {
  wft_result r;
  wft_run_definition(&r, engine, def, input, NULL);
  cr_assert_eq(r.rc, WF_OK, "%s: %s", wf_error_name(r.rc), r.err.message);
  cr_assert_eq(r.status, WF_EXEC_SUCCEEDED, "failed: %s: %s", r.error, r.cause);
  cr_expect(wft_json_text_equal(r.output, want), "output %s\n  want %s",
            r.output, want);
  wft_result_free(&r);
}

/* Run and require failure with this error and cause (cause NULL: absent). */
static void expect_failure(wf_engine *engine, const char *def,
                           const char *input, const char *error,
                           const char *cause) {
  wft_result r;
  wft_run_definition(&r, engine, def, input, NULL);
  cr_assert_eq(r.rc, WF_OK, "%s: %s", wf_error_name(r.rc), r.err.message);
  cr_assert_eq(r.status, WF_EXEC_FAILED, "status %d, output %s", r.status,
               r.output);
  cr_expect_str_eq(r.error, error);
  if (cause) {
    cr_assert_not_null(r.cause, "no cause; want %s", cause);
    cr_expect_str_eq(r.cause, cause);
  } else {
    cr_expect_null(r.cause, "cause %s", r.cause);
  }
  wft_result_free(&r);
}

/* wft_single_state takes a borrowed string; this owns the fields text. */
static char *task_def(const char *fields) {
  char *f = wft_strf("\"Resource\":\"" FN "\"%s%s", *fields ? "," : "", fields);
  char *d = wft_single_state("Task", f);
  free(f);
  return d;
}

#define ENTERED(state, id)                              \
  "An error occurred while executing the state '" state \
  "' (entered at the event id #" id "). "

/* ---- the order of the five fields on a Task ---------------------------- */

Test(paths_io, task_applies_the_five_fields_in_order) {
  probe p = {.result = "{\"r\":{\"deep\":[10,20]},\"s\":\"x\"}"};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def(
      "\"InputPath\":\"$.a\","
      "\"Parameters\":{\"x.$\":\"$.b\",\"lit\":\"$.not.evaluated\","
      "\"nested\":{\"arr\":[{\"v.$\":\"$.c[1]\"},{\"w\":1.0},[{\"deeper.$\":\"$"
      ".b\"}]],"
      "\"state.$\":\"$$.State.Name\"}},"
      "\"ResultSelector\":{\"first.$\":\"$.r.deep[0]\",\"all.$\":\"$.r.deep\","
      "\"lit\":2.5,\"obj\":{\"s.$\":\"$.s\"}},"
      "\"ResultPath\":\"$.out.sel\","
      "\"OutputPath\":\"$.out\"");
  expect_output(env.engine, def, "{\"a\":{\"b\":1,\"c\":[1,2]},\"z\":\"raw\"}",
                "{\"sel\":{\"first\":10,\"all\":[10,20],\"lit\":2.5,"
                "\"obj\":{\"s\":\"x\"}}}");
  cr_assert_eq(p.calls, 1);
  cr_expect(wft_json_text_equal(
                p.inputs[0],
                "{\"x\":1,\"lit\":\"$.not.evaluated\",\"nested\":{\"arr\":"
                "[{\"v\":2},{\"w\":1.0},[{\"deeper\":1}]],\"state\":\"S\"}}"),
            "handler input %s", p.inputs[0]);
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

Test(paths_io, result_path_writes_into_the_raw_input_not_the_input_path_one) {
  probe p = {.result = "\"done\""};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def("\"InputPath\":\"$.sub\",\"ResultPath\":\"$.sub.res\"");
  expect_output(env.engine, def, "{\"sub\":{\"k\":1},\"top\":true}",
                "{\"sub\":{\"k\":1,\"res\":\"done\"},\"top\":true}");
  cr_expect(wft_json_text_equal(p.inputs[0], "{\"k\":1}"), "handler input %s",
            p.inputs[0]);
  free(def);
  /* A Pass state likewise: Result lands in the unfiltered input. */
  expect_output(
      env.engine,
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\","
      "\"InputPath\":\"$.a\",\"ResultPath\":\"$.copy\",\"End\":true}}}",
      "{\"a\":[1,2],\"b\":3}", "{\"a\":[1,2],\"b\":3,\"copy\":[1,2]}");
  wft_env_fini(&env);
  probe_free(&p);
}

Test(paths_io, result_path_creates_nested_objects_and_keeps_siblings) {
  probe p = {.result = "{\"v\":1}"};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def("\"ResultPath\":\"$.a.b.c\"");
  expect_output(env.engine, def, "{\"a\":{\"keep\":0},\"x\":1}",
                "{\"a\":{\"keep\":0,\"b\":{\"c\":{\"v\":1}}},\"x\":1}");
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

Test(paths_io, result_path_null_discards_the_result) {
  probe p = {.result = "{\"ignored\":true}"};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def("\"InputPath\":\"$.a\",\"ResultPath\":null");
  expect_output(env.engine, def, "{\"a\":{\"b\":1},\"c\":2}",
                "{\"a\":{\"b\":1},\"c\":2}");
  cr_expect_eq(p.calls, 1, "the task still runs");
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

Test(paths_io, null_input_path_gives_the_task_an_empty_object) {
  probe p = {0};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def("\"InputPath\":null");
  expect_output(env.engine, def, "{\"a\":1}", "{}");
  cr_expect_str_eq(p.inputs[0], "{}");
  free(def);
  /* With Parameters, the template sees {} too. */
  def = task_def("\"InputPath\":null,\"Parameters\":{\"all.$\":\"$\"}");
  expect_output(env.engine, def, "{\"a\":1}", "{\"all\":{}}");
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

Test(paths_io, null_output_path_gives_an_empty_object) {
  probe p = {.result = "[1,2,3]"};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def("\"OutputPath\":null");
  expect_output(env.engine, def, "{\"a\":1}", "{}");
  free(def);
  expect_output(env.engine,
                "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\","
                "\"OutputPath\":null,\"Next\":\"T\"},\"T\":{\"Type\":\"Pass\","
                "\"Parameters\":{\"got.$\":\"$\"},\"End\":true}}}",
                "{\"a\":1}", "{\"got\":{}}");
  wft_env_fini(&env);
  probe_free(&p);
}

Test(paths_io, output_path_selects_after_result_path) {
  probe p = {.result = "{\"id\":7,\"extra\":[1]}"};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def("\"ResultPath\":\"$.res\",\"OutputPath\":\"$.res.id\"");
  expect_output(env.engine, def, "{\"a\":1}", "7");
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

/* ---- payload templates --------------------------------------------------- */

Test(paths_io, dollar_keys_are_evaluated_at_any_depth) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  expect_output(
      env.engine,
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\",\"Parameters\":{"
      "\"list\":[{\"a.$\":\"$.x\"},[[{\"b.$\":\"$.y[0]\"}]],\"$.x\",1.50],"
      "\"o\":{\"p\":{\"q\":{\"r.$\":\"$.y\"}}},"
      "\"call\":[{\"f.$\":\"States.Format('{}-{}', $.x, $.y[1])\"}],"
      "\"plain\":\"States.Format('{}', $.x)\"},\"End\":true}}}",
      "{\"x\":\"X\",\"y\":[true,null]}",
      "{\"list\":[{\"a\":\"X\"},[[{\"b\":true}]],\"$.x\",1.5],"
      "\"o\":{\"p\":{\"q\":{\"r\":[true,null]}}},"
      "\"call\":[{\"f\":\"X-null\"}],\"plain\":\"States.Format('{}', $.x)\"}");
  wft_env_fini(&env);
}

Test(paths_io, pass_result_is_a_literal) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  expect_output(
      env.engine,
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\",\"Result\":"
      "{\"k.$\":\"$.x\",\"n\":[{\"m.$\":\"$$.State.Name\"}]},\"End\":true}}}",
      "{\"x\":1}", "{\"k.$\":\"$.x\",\"n\":[{\"m.$\":\"$$.State.Name\"}]}");
  wft_env_fini(&env);
}

Test(paths_io, result_selector_reads_the_raw_result_only) {
  probe p = {.result = "{\"Payload\":{\"v\":1},\"StatusCode\":200}"};
  wft_env env;
  setup(&env, &p, NULL);
  /* $ in ResultSelector is the task result, not the state input. */
  char *def = task_def(
      "\"ResultSelector\":{\"v.$\":\"$.Payload.v\",\"all.$\":\"$\"},"
      "\"ResultPath\":\"$.r\"");
  expect_output(env.engine, def, "{\"in\":0}",
                "{\"in\":0,\"r\":{\"v\":1,\"all\":{\"Payload\":{\"v\":1},"
                "\"StatusCode\":200}}}");
  free(def);
  def = task_def("\"ResultSelector\":{\"k.$\":\"$.in\"}");
  expect_failure(env.engine, def, "{\"in\":0}", "States.Runtime",
                 ENTERED("S", "2") "The JSONPath '$.in' specified for the field "
                 "'k.$' could not be found in the input "
                 "'{\"Payload\":{\"v\":1},\"StatusCode\":200}'");
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

/* ---- path failures: AWS's causes, never caught or retried ------------------
 */

Test(paths_io, missing_input_path_cause) {
  probe p = {0};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def("\"InputPath\":\"$.x\"");
  expect_failure(
      env.engine, def, "{\"a\":1}", "States.Runtime",
      ENTERED("S", "2") "Invalid path '$.x' : No results for path: $['x']");
  free(def);
  def = task_def("\"InputPath\":\"$.x.y\"");
  expect_failure(
      env.engine, def, "{\"a\":1}", "States.Runtime",
      ENTERED("S",
              "2") "Invalid path '$.x.y' : Missing property in path $['x']");
  free(def);
  cr_expect_eq(p.calls, 0, "the handler must not run");
  wft_env_fini(&env);
  probe_free(&p);
}

Test(paths_io, missing_parameters_path_cause_shows_the_effective_input) {
  probe p = {0};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def("\"Parameters\":{\"k.$\":\"$.x\"}");
  expect_failure(env.engine, def, "{\"b\":[1,\"s\"],\"a\":1.0}", "States.Runtime",
                 ENTERED("S", "2") "The JSONPath '$.x' specified for the field "
                 "'k.$' could not be found in the input '{\"b\":[1,\"s\"],\"a\":1.0}'");
  free(def);
  def = task_def("\"InputPath\":\"$.sub\",\"Parameters\":{\"k.$\":\"$.x\"}");
  expect_failure(env.engine, def, "{\"sub\":{\"q\":null},\"x\":1}", "States.Runtime",
                 ENTERED("S", "2") "The JSONPath '$.x' specified for the field "
                 "'k.$' could not be found in the input '{\"q\":null}'");
  free(def);
  /* Deeper down too (how AWS names a nested field is not recorded: only
   * the rest of the sentence is checked). */
  def = task_def("\"Parameters\":{\"outer\":[{\"inner.$\":\"$.x\"}]}");
  wft_result r;
  wft_run_definition(&r, env.engine, def, "{}", NULL);
  static const char head[] =
      ENTERED("S", "2") "The JSONPath '$.x' specified for the field '";
  static const char tail[] = "inner.$' could not be found in the input '{}'";
  cr_assert_eq(r.status, WF_EXEC_FAILED, "output %s", r.output);
  cr_expect_str_eq(r.error, "States.Runtime");
  cr_assert_not_null(r.cause);
  size_t len = strlen(r.cause);
  cr_expect(strncmp(r.cause, head, sizeof head - 1) == 0 &&
                len >= sizeof tail - 1 &&
                strcmp(r.cause + len - (sizeof tail - 1), tail) == 0,
            "cause %s", r.cause);
  wft_result_free(&r);
  free(def);
  cr_expect_eq(p.calls, 0, "the handler must not run");
  wft_env_fini(&env);
  probe_free(&p);
}

Test(paths_io, missing_output_path_cause) {
  probe p = {.result = "{\"r\":1}"};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = task_def("\"OutputPath\":\"$.nope\"");
  expect_failure(
      env.engine, def, "{}", "States.Runtime",
      ENTERED("S",
              "2") "Invalid path '$.nope' : No results for path: $['nope']");
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

/* States.Runtime ends the execution: Retry and Catch on States.ALL do not
 * apply (AWS docs, "Error names"). */
Test(paths_io, path_failures_are_neither_retried_nor_caught) {
  probe p = {.result = "{\"r\":1}"};
  wft_env env;
  setup(&env, &p, NULL);
  char *def = wft_strf(
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN
      "\","
      "\"OutputPath\":\"$.nope\","
      "\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"],\"MaxAttempts\":3}],"
      "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Caught\"}],"
      "\"End\":true},\"Caught\":{\"Type\":\"Succeed\"}}}");
  expect_failure(
      env.engine, def, "{}", "States.Runtime",
      ENTERED("S",
              "2") "Invalid path '$.nope' : No results for path: $['nope']");
  cr_expect_eq(p.calls, 1, "retried %u time(s)", p.calls - 1);
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

/* ---- the context object
 * ------------------------------------------------------ */

Test(paths_io, context_object_execution_state_and_machine_fields) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  cr_assert_eq(wf_clock_advance(env.clock, 123), WF_OK);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "ctx-run";
  wft_result r;
  wft_run_definition(
      &r, env.engine,
      "{\"StartAt\":\"First\",\"States\":{\"First\":{\"Type\":\"Pass\","
      "\"Parameters\":{\"c.$\":\"$$\",\"id.$\":\"$$.Execution.Id\","
      "\"in.$\":\"$$.Execution.Input.k\"},\"End\":true}}}",
      "{\"k\":[1,2.0]}", &so);
  cr_assert_eq(r.rc, WF_OK, "%s", r.err.message);
  cr_assert_eq(r.status, WF_EXEC_SUCCEEDED, "%s: %s", r.error, r.cause);
  json_t *out = json_loads(r.output, 0, NULL);
  cr_assert_not_null(out);
  const char *arn =
      "arn:aws:states:us-east-1:123456789012:execution:StateMachine:ctx-run";
  cr_expect_str_eq(r.arn, arn);
  cr_expect_str_eq(json_string_value(json_object_get(out, "id")), arn);
  char *in = wft_json_dump(json_object_get(out, "in"));
  cr_expect_str_eq(in, "[1,2.0]");
  free(in);
  json_t *c = json_object_get(out, "c");
  json_t *role = json_object_get(json_object_get(c, "Execution"), "RoleArn");
  cr_assert(json_is_string(role));
  cr_expect(strncmp(json_string_value(role), "arn:aws:iam::123456789012:role/",
                    31) == 0,
            "RoleArn %s", json_string_value(role));
  json_t *want = json_pack(
      "{s:{s:s,s:o,s:s,s:s,s:O,s:i},s:{s:s,s:s},s:{s:s,s:s}}", "Execution",
      "Id", arn, "Input", json_loads("{\"k\":[1,2.0]}", 0, NULL), "StartTime",
      "2024-01-01T00:00:00.123Z", "Name", "ctx-run", "RoleArn", role,
      "RedriveCount", 0, "StateMachine", "Id",
      "arn:aws:states:us-east-1:123456789012:stateMachine:StateMachine", "Name",
      "StateMachine", "State", "Name", "First", "EnteredTime",
      "2024-01-01T00:00:00.123Z");
  char *got = wft_json_dump(c), *w = wft_json_dump(want);
  cr_expect(wft_json_equal(c, want), "$$ is\n  %s\nwant\n  %s", got, w);
  free(got);
  free(w);
  json_decref(want);
  json_decref(out);
  wft_result_free(&r);
  wft_env_fini(&env);
}

Test(paths_io, context_arns_use_the_engine_region_and_account) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.region = "eu-west-3";
  o.account = "000000000000";
  wft_env env;
  cr_assert_eq(wft_env_init(&env, &o, NULL), WF_OK);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "n1";
  wft_result r;
  wft_run_definition(
      &r, env.engine,
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\",\"Parameters\":"
      "{\"e.$\":\"$$.Execution.Id\",\"m.$\":\"$$.StateMachine.Id\"},\"End\":"
      "true}}}",
      NULL, &so);
  cr_assert_eq(r.status, WF_EXEC_SUCCEEDED, "%s: %s", r.error, r.cause);
  cr_expect(wft_json_text_equal(r.output,
                                "{\"e\":\"arn:aws:states:eu-west-3:"
                                "000000000000:execution:StateMachine:n1\","
                                "\"m\":\"arn:aws:states:eu-west-3:000000000000:"
                                "stateMachine:StateMachine\"}"),
            "output %s", r.output);
  wft_result_free(&r);
  wft_env_fini(&env);
}

/* ---- the payload limit
 * -------------------------------------------------------- */

Test(paths_io, task_result_over_the_payload_limit) {
  probe p = {.result =
                 "\"01234567890123456789012345678901234567890123456789012345678"
                 "90123456789\""};
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 64;
  wft_env env;
  setup(&env, &p, &o);
  char *def = task_def("");
  expect_failure(env.engine, def, "{}", "States.DataLimitExceeded",
                 "The state/task '" FN
                 "' returned a result with a size exceeding "
                 "the maximum number of bytes service limit.");
  free(def);
  /* A task's DataLimitExceeded can be caught like any task error. */
  def = wft_strf(
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN
      "\","
      "\"Catch\":[{\"ErrorEquals\":[\"States.DataLimitExceeded\"],"
      "\"ResultPath\":\"$.e\",\"Next\":\"C\"}],\"End\":true},"
      "\"C\":{\"Type\":\"Pass\",\"OutputPath\":\"$.e.Error\",\"End\":true}}}");
  expect_output(env.engine, def, "{}", "\"States.DataLimitExceeded\"");
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

Test(paths_io, state_output_over_the_payload_limit) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 64;
  wft_env env;
  cr_assert_eq(wft_env_init(&env, &o, NULL), WF_OK);
  wft_result r;
  /* Each piece fits; Result merged into the input does not. */
  wft_run_definition(
      &r, env.engine,
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\",\"Result\":"
      "\"abcdefghijabcdefghijabcdefghij\",\"ResultPath\":\"$.r\",\"End\":"
      "true}}}",
      "{\"in\":\"abcdefghijabcdefghijabcdefghij\"}", NULL);
  cr_assert_eq(r.rc, WF_OK, "%s", r.err.message);
  cr_assert_eq(r.status, WF_EXEC_FAILED, "output %s", r.output);
  cr_expect_str_eq(r.error, "States.DataLimitExceeded");
  wft_result_free(&r);
  /* Exactly at the limit is allowed: {"s":"<56 characters>"} is 64 bytes. */
  expect_output(
      env.engine,
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\",\"End\":true}}}",
      "{\"s\":\"01234567890123456789012345678901234567890123456789012345\"}",
      "{\"s\":\"01234567890123456789012345678901234567890123456789012345\"}");
  wft_env_fini(&env);
}

Test(paths_io, execution_input_over_the_payload_limit_is_refused) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 16;
  wft_env env;
  cr_assert_eq(wft_env_init(&env, &o, NULL), WF_OK);
  wft_result r;
  wft_run_definition(
      &r, env.engine,
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\",\"End\":true}}}",
      "{\"k\":\"0123456789abcdef\"}", NULL);
  cr_expect_eq(r.rc, WF_ELIMIT, "%s", wf_error_name(r.rc));
  wft_result_free(&r);
  wft_env_fini(&env);
}

/* ---- task tokens and the virtual clock ------------------------------------ */

/* A callback handler: keeps a copy of its input and token and returns
 * without completing the task, which then waits for its token. */
typedef struct token_probe {
  wft_gate called;
  pthread_mutex_t mu;
  unsigned calls;
  char *input, *token;
} token_probe;

static void keep_token(wf_task *task, void *payload) {
  token_probe *p = payload;
  pthread_mutex_lock(&p->mu);
  p->calls++;
  free(p->input);
  free(p->token);
  p->input = strdup(wf_task_input(task));
  p->token = strdup(wf_task_token(task));
  pthread_mutex_unlock(&p->mu);
  wft_gate_open(&p->called);
}

typedef struct token_sender {
  wf_engine *engine;
  token_probe *probe;
  int rc;
} token_sender;

/* Completes the task by its token, from a thread of its own. */
static void *send_success(void *arg) {
  token_sender *s = arg;
  s->rc = WF_ETIMEDOUT;
  if (!wft_gate_wait(&s->probe->called, WFT_WAIT_MS)) return NULL;
  pthread_mutex_lock(&s->probe->mu);
  char *token = strdup(s->probe->token);
  pthread_mutex_unlock(&s->probe->mu);
  wf_error err;
  s->rc = wf_engine_send_task_success(s->engine, token,
                                      "{\"done\":true}", &err);
  free(token);
  return NULL;
}

/* $$.Task.Token exists in the Parameters of a .waitForTaskToken Task (it
 * was missing: the context was built before the task had its token), and
 * it is the token the handler sees and that completes the task. */
Test(paths_io, task_token_is_in_the_parameters_of_a_callback_task) {
  token_probe p = {.called = WFT_GATE_INIT, .mu = PTHREAD_MUTEX_INITIALIZER};
  wft_env env;
  wf_error err;
  cr_assert_eq(wft_env_init(&env, NULL, &err), WF_OK, "%s", err.message);
  cr_assert_eq(wf_engine_register_handler(env.engine, CALLBACK, keep_token, &p,
                                          0, &err),
               WF_OK, "%s", err.message);
  char *fields = wft_strf(
      "\"Resource\":\"%s\",\"Parameters\":{\"FunctionName\":\"f\","
      "\"Payload\":{\"token.$\":\"$$.Task.Token\",\"task.$\":\"$$.Task\","
      "\"in.$\":\"$.in\"}},\"ResultPath\":\"$.result\"",
      CALLBACK);
  char *def = wft_single_state("Task", fields);
  token_sender s = {.engine = env.engine, .probe = &p};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, send_success, &s), 0);
  wft_result r;
  wft_run_definition(&r, env.engine, def, "{\"in\":7}", NULL);
  cr_assert_eq(pthread_join(th, NULL), 0);
  cr_assert_eq(s.rc, WF_OK, "wf_engine_send_task_success: %s",
               wf_error_name(s.rc));
  cr_assert_eq(r.rc, WF_OK, "%s", r.err.message);
  cr_assert(r.finished, "the execution did not finish");
  cr_assert_eq(r.status, WF_EXEC_SUCCEEDED, "%s: %s", r.error, r.cause);
  cr_expect(wft_json_text_equal(r.output, "{\"in\":7,\"result\":{\"done\":true}}"),
            "output %s", r.output);
  cr_assert_eq(p.calls, 1);
  cr_assert_not_null(p.token);
  cr_assert_gt(strlen(p.token), 0);
  char *want = wft_strf("{\"FunctionName\":\"f\",\"Payload\":{\"token\":\"%s\","
                        "\"task\":{\"Token\":\"%s\"},\"in\":7}}",
                        p.token, p.token);
  cr_expect(wft_json_text_equal(p.input, want), "handler input %s\n  want %s",
            p.input, want);
  /* The task is over: its token answers nothing any more. */
  cr_assert_eq(wf_engine_send_task_success(env.engine, p.token, "{}", &err),
               WF_ENOTFOUND);
  free(want);
  wft_result_free(&r);
  free(def);
  free(fields);
  wft_env_fini(&env);
  free(p.input);
  free(p.token);
}

/* Times come from the engine's clock: a 90 s Wait moves EnteredTime by
 * 90 s of virtual time while StartTime stays. */
Test(paths_io, context_times_follow_the_virtual_clock) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  cr_assert_eq(wf_clock_advance(env.clock, 5), WF_OK);
  expect_output(
      env.engine,
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":90,"
      "\"Next\":\"S\"},\"S\":{\"Type\":\"Pass\",\"Parameters\":{"
      "\"start.$\":\"$$.Execution.StartTime\",\"entered.$\":\"$$.State."
      "EnteredTime\","
      "\"state.$\":\"$$.State\"},\"End\":true}}}",
      "{}",
      "{\"start\":\"2024-01-01T00:00:00.005Z\","
      "\"entered\":\"2024-01-01T00:01:30.005Z\","
      "\"state\":{\"Name\":\"S\",\"EnteredTime\":\"2024-01-01T00:01:30.005Z\"}"
      "}");
  wft_env_fini(&env);
}

Test(paths_io, task_retry_count_counts_the_retries) {
  probe p = {.fail_error = "Flaky", .fail_attempts = 2};
  wft_env env;
  setup(&env, &p, NULL);
  cr_assert_eq(wf_clock_advance(env.clock, 250), WF_OK);
  char *def = task_def(
      "\"Parameters\":{\"n.$\":\"$$.State.RetryCount\",\"s.$\":\"$$.State\"},"
      "\"Retry\":[{\"ErrorEquals\":[\"Flaky\"],\"IntervalSeconds\":1,"
      "\"MaxAttempts\":2,\"BackoffRate\":1.0}]");
  wft_result r;
  wft_run_definition(&r, env.engine, def, "{}", NULL);
  cr_assert_eq(r.status, WF_EXEC_SUCCEEDED, "%s: %s", r.error, r.cause);
  cr_assert_eq(p.calls, 3);
  /* Entered once: EnteredTime stays; RetryCount goes 0, 1, 2. */
  for (unsigned i = 0; i < 3; i++) {
    char *want = wft_strf(
        "{\"n\":%u,\"s\":{\"Name\":\"S\",\"EnteredTime\":"
        "\"2024-01-01T00:00:00.250Z\",\"RetryCount\":%u}}",
        i, i);
    cr_expect(wft_json_text_equal(p.inputs[i], want),
              "attempt %u got %s\n  want %s", i, p.inputs[i], want);
    free(want);
  }
  cr_expect(wft_json_text_equal(r.output, p.inputs[2]), "output %s", r.output);
  wft_result_free(&r);
  free(def);
  wft_env_fini(&env);
  probe_free(&p);
}

/* ---- numbers ----------------------------------------------------------- */

/* Digits of a number's text, without sign, point, leading zeros and the
 * exponent: "0.0012" -> 2, "1.0E7" -> 1 ("1.0": the trailing zero is
 * the Java form's, not a digit of the value). */
static int significant_digits(const char *s) {
  int n = 0, lead = 1, zeros = 0;
  for (; *s && *s != 'E' && *s != 'e'; s++) {
    if (*s < '0' || *s > '9') continue;
    if (*s == '0' && lead) continue;
    lead = 0;
    if (*s == '0') {
      zeros++;
    } else {
      n += zeros + 1;
      zeros = 0;
    }
  }
  return n;
}

/* Fewest significant digits a decimal needs to read back as d. */
static int shortest_digits(double d) {
  char buf[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    if (strtod(buf, NULL) == d) return prec;
  }
  return 17;
}

Test(paths_io, real_numbers_read_back_with_the_fewest_digits_in_java_form) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  const char *def =
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\",\"End\":true}}}";
  expect_output(env.engine, def,
                "[0.1, 100.0, 1e7, 0.001, 0.0001, 123.456, -2.5, 1e21, "
                "9999999.0, 0.30000000000000004, 1.5e-10, -0.0]",
                "[0.1, 100.0, 1.0E7, 0.001, 1.0E-4, 123.456, -2.5, 1.0E21, "
                "9999999.0, 0.30000000000000004, 1.5E-10, -0.0]");
  /* Random doubles over many magnitudes, as their 17-digit text: each
   * comes back as the same double in as few digits as any text could. */
  unsigned seed = 12345;
  char *input = wft_strf("[");
  for (int i = 0; i < 2000; i++) {
    seed = seed * 1103515245u + 12345u;
    double mant = (double)(seed >> 8) / (double)(1u << 24);
    int scale = i % 25 - 8;
    double d = (mant + 0.01) * pow(10.0, scale);
    if (i % 3 == 0 && d >= 0.001) d = round(d * 1000.0) / 1000.0;
    /* %.17g writes integral values without a point: JSON integers. */
    char text[40];
    snprintf(text, sizeof text, "%.17g", d);
    if (!strpbrk(text, ".e")) strcat(text, ".0");
    char *next = wft_strf("%s%s%s", input, i ? "," : "", text);
    free(input);
    input = next;
  }
  char *in = wft_strf("%s]", input);
  free(input);
  wft_result r;
  wft_run_definition(&r, env.engine, def, in, NULL);
  cr_assert_eq(r.status, WF_EXEC_SUCCEEDED);
  json_t *want = json_loads(in, JSON_DECODE_ANY, NULL);
  cr_assert_not_null(want);
  /* The output text, element by element. */
  const char *p = r.output + 1;
  for (size_t i = 0; i < json_array_size(want); i++) {
    while (*p == ' ' || *p == ',') p++;
    const char *end = p + strcspn(p, ",]");
    char num[48];
    cr_assert_lt((size_t)(end - p), sizeof num);
    memcpy(num, p, (size_t)(end - p));
    num[end - p] = '\0';
    double d = json_number_value(json_array_get(want, i));
    cr_expect_eq(strtod(num, NULL), d, "%s does not read back as %.17g", num,
                 d);
    cr_expect_eq(significant_digits(num), shortest_digits(d),
                 "%s for %.17g: %d digits, %d would do", num, d,
                 significant_digits(num), shortest_digits(d));
    p = end;
  }
  json_decref(want);
  free(in);
  wft_result_free(&r);
  wft_env_fini(&env);
}
