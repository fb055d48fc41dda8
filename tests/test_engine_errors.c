/* The States.* errors the engine raises (reference asl.md section 11), each
 * with its name and cause, and how Retry and Catch treat it. States.Timeout
 * is covered in test_engine_time.c, States.Runtime from paths in
 * test_engine_retry.c and from mocks in test_engine_mock.c. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/workflow.h"

TestSuite(engine_errors, .timeout = 120);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:Work"
#define INVOKE "arn:aws:states:::lambda:invoke"

static void answer_text(wf_task *t, void *payload) {
  wf_task_succeed(t, payload);
}

typedef struct errrun {
  wf_engine *engine;
  wf_machine *machine;
  wf_execution *exec;
} errrun;

/* Run `def` with `fn` (payload `arg`) registered for `resource` (if any)
 * on an engine with the given payload limit (0: AWS's). */
static errrun run_err(const char *def, const char *input, size_t limit,
                      const char *resource, wf_handler_fn fn, void *arg) {
  errrun r = {0};
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = limit;
  r.engine = wft_engine(&o);
  if (fn)
    cr_assert_eq(wf_engine_register_handler(r.engine, resource, fn, arg, 0,
                                            NULL),
                 WF_OK);
  r.machine = wft_load(def);
  r.exec = wft_run(r.engine, r.machine, input, NULL);
  return r;
}

static void errrun_free(errrun *r) {
  wf_execution_free(r->exec);
  wf_machine_free(r->machine);
  wf_engine_free(r->engine);
}

/* ---- ResultPath that cannot be applied ---- */

/* AWS reports it as States.ReferencePathConflict with the bare cause
 * (libworkflow/jsonpath_set.c cites the recorded event), not as the
 * spec's States.ResultPathMatchFailure. */
#define RESULT_PATH_TASK(catch)                                           \
  "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":" \
  "\"" FN "\",\"ResultPath\":\"$.a.b\"" catch ",\"End\":true}"

static void assert_conflict_cause(const char *cause) {
  const char *prefix = "Unable to apply step \"b\" to input ";
  cr_assert_not_null(cause);
  cr_assert(strncmp(cause, prefix, strlen(prefix)) == 0, "cause: %s", cause);
}

Test(engine_errors, result_path_that_cannot_apply_is_reference_path_conflict) {
  errrun r = run_err(RESULT_PATH_TASK("") "}}", "{\"a\":\"text\"}", 0, FN,
                     answer_text, "1");
  cr_assert_eq(wf_execution_status(r.exec), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(r.exec), "States.ReferencePathConflict");
  assert_conflict_cause(wf_execution_cause(r.exec));
  errrun_free(&r);
}

Test(engine_errors, result_path_conflict_can_be_caught) {
  errrun r = run_err(
      RESULT_PATH_TASK(",\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],"
                       "\"ResultPath\":\"$.err\",\"Next\":\"Caught\"}]")
      ",\"Caught\":{\"Type\":\"Pass\",\"Parameters\":{\"error.$\":"
      "\"$.err.Error\",\"a.$\":\"$.a\"},\"End\":true}}}",
      "{\"a\":\"text\"}", 0, FN, answer_text, "1");
  wft_assert_succeeded(
      r.exec, "{\"error\":\"States.ReferencePathConflict\",\"a\":\"text\"}");
  errrun_free(&r);
}

Test(engine_errors, catcher_result_path_that_cannot_apply_fails_the_run) {
  errrun r = run_err(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],"
      "\"ResultPath\":\"$.a.b\",\"Next\":\"Caught\"}],\"End\":true},"
      "\"Caught\":{\"Type\":\"Succeed\"}}}",
      "{\"a\":\"text\"}", 0, NULL, NULL, NULL);
  cr_assert_eq(wf_execution_status(r.exec), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(r.exec), "States.ReferencePathConflict");
  assert_conflict_cause(wf_execution_cause(r.exec));
  errrun_free(&r);
}

/* ---- States.NoChoiceMatched ---- */

Test(engine_errors, choice_without_match_or_default_is_no_choice_matched) {
  errrun r = run_err(
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":"
      "[{\"Variable\":\"$.x\",\"NumericEquals\":1,\"Next\":\"S\"}]},"
      "\"S\":{\"Type\":\"Succeed\"}}}",
      "{\"x\":2}", 0, NULL, NULL, NULL);
  wft_assert_failed(r.exec, "States.NoChoiceMatched",
                    "An error occurred while executing the state 'C' (entered "
                    "at the event id #2). No Choice Rule matched and no "
                    "Default is set.");
  char *types = wft_event_types(r.exec);
  cr_assert_str_eq(types,
                   "ExecutionStarted ChoiceStateEntered ExecutionFailed");
  free(types);
  errrun_free(&r);
}

/* ---- States.DataLimitExceeded ---- */

#define LIMIT_CAUSE(who)                                                \
  "The state/task '" who "' returned a result with a size exceeding the " \
  "maximum number of bytes service limit."

/* A result of 100 bytes against a 64-byte limit. */
static const char BIG[] =
    "{\"data\":\"0123456789012345678901234567890123456789012345678901234567"
    "890123456789012345678\"}";

Test(engine_errors, task_result_over_the_limit_is_data_limit_exceeded) {
  errrun r = run_err(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"End\":true}}}",
      NULL, 64, FN, answer_text, (void *)BIG);
  wft_assert_failed(r.exec, "States.DataLimitExceeded", LIMIT_CAUSE(FN));
  errrun_free(&r);
}

Test(engine_errors, integration_result_over_the_limit_names_the_service) {
  errrun r = run_err(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" INVOKE "\",\"Parameters\":{\"FunctionName\":\"f\"},\"End\":true}}}",
      NULL, 64, INVOKE, answer_text, (void *)BIG);
  /* As AWS recorded (test_service_task_lambada_data_limit_exceeded...). */
  wft_assert_failed(r.exec, "States.DataLimitExceeded", LIMIT_CAUSE("lambda"));
  errrun_free(&r);
}

Test(engine_errors, task_result_over_the_limit_can_be_caught) {
  /* AWS routes an oversized Lambda result into a catcher (recorded:
   * test_task_lambda_catch_state_all_data_limit_exceeded...). */
  const char *catchers[] = {"States.DataLimitExceeded", "States.ALL"};
  for (int i = 0; i < 2; i++) {
    char def[1024];
    snprintf(def, sizeof def,
             "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
             "\"Resource\":\"" FN "\",\"Catch\":[{\"ErrorEquals\":[\"%s\"],"
             "\"Next\":\"Handle\"}],\"End\":true},\"Handle\":{\"Type\":"
             "\"Pass\",\"Parameters\":{\"e.$\":\"$.Error\"},\"End\":true}}}",
             catchers[i]);
    errrun r = run_err(def, NULL, 64, FN, answer_text, (void *)BIG);
    wft_assert_succeeded(r.exec, "{\"e\":\"States.DataLimitExceeded\"}");
    errrun_free(&r);
  }
}

Test(engine_errors, state_output_over_the_limit_fails_the_execution) {
  /* As AWS recorded (test_start_large_input): a Pass state whose Result is
   * too large fails at once, naming the state. */
  char def[512];
  snprintf(def, sizeof def,
           "{\"StartAt\":\"State_1\",\"States\":{\"State_1\":{\"Type\":"
           "\"Pass\",\"Result\":%s,\"End\":true}}}",
           BIG);
  errrun r = run_err(def, "{}", 64, NULL, NULL, NULL);
  wft_assert_failed(r.exec, "States.DataLimitExceeded",
                    LIMIT_CAUSE("State_1"));
  char *types = wft_event_types(r.exec);
  cr_assert_str_eq(types, "ExecutionStarted PassStateEntered ExecutionFailed");
  free(types);
  errrun_free(&r);
}

/* ---- States.TaskFailed ---- */

Test(engine_errors, unserved_non_lambda_resource_is_task_failed) {
  errrun r = run_err(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:states:::sns:publish\",\"Parameters\":{\"Message\":\"m\"},"
      "\"End\":true}}}",
      NULL, 0, NULL, NULL, NULL);
  wft_assert_failed(r.exec, "States.TaskFailed",
                    "No handler is registered for the resource "
                    "'arn:aws:states:::sns:publish'");
  errrun_free(&r);
}

/* ---- errors without a name ---- */

typedef struct token_box {
  wft_gate called;
  char token[128];
} token_box;

static void keep_token(wf_task *t, void *payload) {
  token_box *b = payload;
  snprintf(b->token, sizeof b->token, "%s", wf_task_token(t));
  wft_gate_open(&b->called);
}

Test(engine_errors, failure_without_error_fails_the_run_without_error) {
  wf_engine *e = wft_engine(NULL);
  token_box b = {.called = WFT_GATE_INIT};
  wf_engine_register_handler(e, FN, keep_token, &b, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"End\":true}}}");
  wf_execution *x = wft_start(e, m, NULL, NULL);
  cr_assert(wft_gate_wait(&b.called, WFT_WAIT_MS));
  cr_assert_eq(wf_engine_send_task_failure(e, b.token, NULL, NULL, NULL),
               WF_OK);
  wft_wait(x);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_null(wf_execution_error(x));
  cr_assert_null(wf_execution_cause(x));
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}
