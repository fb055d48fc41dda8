/* TestState (wf_engine_test_state, include/workflow/test_state.h): each
 * state type, each status, mocks, inspection levels, both query
 * languages, variables in and out, stateConfiguration and the requests
 * AWS refuses. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "workflow/workflow.h"

TestSuite(engine_test_state, .timeout = 60);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:Work"

static atomic_int handler_calls;

static void work(wf_task *t, void *payload) {
  (void)payload;
  atomic_fetch_add(&handler_calls, 1);
  wf_task_succeed(t, "{\"worked\":true}");
}

static wf_engine *engine(void) {
  wf_engine *e = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_new(&e, NULL, &err), WF_OK, "%s", err.message);
  cr_assert_eq(wf_engine_register_handler(e, FN, work, NULL,
                                          WF_HANDLER_INLINE, &err),
               WF_OK, "%s", err.message);
  return e;
}

/* Run `def` with `o` (NULL: defaults) and expect WF_OK. */
static wf_test_state_result *run(wf_engine *e, const char *def,
                                 const wf_test_state_options *o) {
  wf_test_state_result *r = NULL;
  wf_error err = {0};
  int rc = wf_engine_test_state(&r, e, def, o, &err);
  cr_assert_eq(rc, WF_OK, "rc %d: %s", rc, err.message);
  cr_assert_not_null(r);
  return r;
}

/* Expect a refusal with `code` whose message contains `text`. */
static void refused(wf_engine *e, const char *def,
                    const wf_test_state_options *o, int code,
                    const char *text) {
  wf_test_state_result *r = NULL;
  wf_error err = {0};
  int rc = wf_engine_test_state(&r, e, def, o, &err);
  cr_assert_eq(rc, code, "rc %d (%s), expected %d", rc, err.message, code);
  cr_assert_null(r);
  cr_assert(strstr(err.message, text), "message '%s' lacks '%s'",
            err.message, text);
}

static void expect_json(const char *text, const char *want) {
  cr_assert_not_null(text, "expected %s, got NULL", want);
  json_t *a = json_loads(text, JSON_DECODE_ANY, NULL);
  json_t *b = json_loads(want, JSON_DECODE_ANY, NULL);
  cr_assert_not_null(a, "not JSON: %s", text);
  cr_assert_not_null(b, "bad expectation: %s", want);
  cr_assert(json_equal(a, b), "got %s, expected %s", text, want);
  json_decref(a);
  json_decref(b);
}

/* One member of the inspection data (itself JSON text). */
static void expect_inspected(const wf_test_state_result *r, const char *key,
                             const char *want) {
  json_t *o = json_loads(wf_test_state_inspection(r), 0, NULL);
  cr_assert_not_null(o, "no inspection data");
  json_t *v = json_object_get(o, key);
  if (!want) {
    cr_assert_null(v, "%s present: %s", key, wf_test_state_inspection(r));
  } else {
    /* Members are JSON text, but errorDetails and a Map's numbers are
     * JSON values. */
    cr_assert_not_null(v, "%s missing in %s", key,
                       wf_test_state_inspection(r));
    if (json_is_string(v)) expect_json(json_string_value(v), want);
    else {
      char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
      expect_json(t, want);
      free(t);
    }
  }
  json_decref(o);
}

static const char PASS[] =
    "{\"Type\":\"Pass\",\"InputPath\":\"$.a\",\"Parameters\":{\"v.$\":\"$.b\"},"
    "\"ResultPath\":\"$.r\",\"OutputPath\":\"$.r\",\"Next\":\"After\"}";

Test(engine_test_state, pass_info_gives_output_and_next_state_only) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"a\":{\"b\":7}}";
  wf_test_state_result *r = run(e, PASS, &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_SUCCEEDED);
  cr_assert_str_eq(wf_test_status_name(wf_test_state_status(r)), "SUCCEEDED");
  expect_json(wf_test_state_output(r), "{\"v\":7}");
  cr_assert_str_eq(wf_test_state_next(r), "After");
  cr_assert_null(wf_test_state_inspection(r));
  cr_assert_null(wf_test_state_error(r));
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, pass_debug_shows_each_processing_step) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"a\":{\"b\":7}}";
  o.inspection_level = WF_INSPECT_DEBUG;
  wf_test_state_result *r = run(e, PASS, &o);
  expect_inspected(r, "input", "{\"a\":{\"b\":7}}");
  expect_inspected(r, "afterInputPath", "{\"b\":7}");
  expect_inspected(r, "afterParameters", "{\"v\":7}");
  /* AWS shows a Pass's result only when it has a Result, and then none of
   * its input processing (as recorded). */
  expect_inspected(r, "result", NULL);
  expect_inspected(r, "afterResultSelector", "{\"v\":7}");
  /* ResultPath writes into the raw input (AWS's order). */
  expect_inspected(r, "afterResultPath",
                   "{\"a\":{\"b\":7},\"r\":{\"v\":7}}");
  expect_inspected(r, "afterArguments", NULL);
  wf_test_state_result_free(r);
  r = run(e, "{\"Type\":\"Pass\",\"Result\":{\"k\":1},\"End\":true}", &o);
  expect_inspected(r, "result", "{\"k\":1}");
  expect_inspected(r, "afterInputPath", NULL);
  expect_inspected(r, "afterParameters", NULL);
  expect_inspected(r, "afterResultPath", "{\"k\":1}");
  wf_test_state_result_free(r);
  r = run(e, "{\"Type\":\"Fail\",\"Error\":\"E\"}", &o);
  expect_inspected(r, "afterInputPath", "{\"a\":{\"b\":7}}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, jsonata_pass_shows_its_output_and_variables) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"n\":2}";
  o.variables = "{\"k\":10}";
  o.inspection_level = WF_INSPECT_TRACE;
  wf_test_state_result *r = run(
      e,
      "{\"Type\":\"Pass\",\"QueryLanguage\":\"JSONata\",\"Assign\":{\"sum\":"
      "\"{% $states.input.n + $k %}\"},\"Output\":{\"x\":\"{% $k * 2 %}\"},"
      "\"End\":true}",
      &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_SUCCEEDED);
  expect_json(wf_test_state_output(r), "{\"x\":20}");
  cr_assert_null(wf_test_state_next(r));
  expect_inspected(r, "input", "{\"n\":2}");
  expect_inspected(r, "variables", "{\"k\":10,\"sum\":12}");
  expect_inspected(r, "afterInputPath", NULL);
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, jsonpath_assign_reaches_the_variables) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"id\":\"x1\"}";
  o.variables = "{\"seen\":1}";
  o.inspection_level = WF_INSPECT_DEBUG;
  wf_test_state_result *r = run(
      e,
      "{\"Type\":\"Pass\",\"Assign\":{\"last.$\":\"$.id\",\"was.$\":\"$seen\"},"
      "\"End\":true}",
      &o);
  expect_inspected(r, "variables",
                   "{\"seen\":1,\"last\":\"x1\",\"was\":1}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, choice_names_the_matching_rule_s_next) {
  wf_engine *e = engine();
  const char def[] =
      "{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.n\","
      "\"NumericGreaterThan\":5,\"Next\":\"Big\"}],\"Default\":\"Small\"}";
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"n\":9}";
  wf_test_state_result *r = run(e, def, &o);
  cr_assert_str_eq(wf_test_state_next(r), "Big");
  expect_json(wf_test_state_output(r), "{\"n\":9}");
  wf_test_state_result_free(r);
  o.input = "{\"n\":1}";
  r = run(e, def, &o);
  cr_assert_str_eq(wf_test_state_next(r), "Small");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, choice_without_match_fails) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"n\":1}";
  wf_test_state_result *r = run(
      e,
      "{\"Type\":\"Choice\",\"QueryLanguage\":\"JSONata\",\"Choices\":[{"
      "\"Condition\":\"{% $states.input.n > 5 %}\",\"Next\":\"Big\"}]}",
      &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_FAILED);
  cr_assert_str_eq(wf_test_state_error(r), "States.NoChoiceMatched");
  cr_assert_null(wf_test_state_output(r));
  cr_assert_null(wf_test_state_next(r));
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, wait_returns_at_once) {
  wf_engine *e = engine();
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  wf_test_state_result *r =
      run(e, "{\"Type\":\"Wait\",\"Seconds\":3600,\"Next\":\"Later\"}", NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  cr_assert_lt(b.tv_sec - a.tv_sec, 5);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_SUCCEEDED);
  cr_assert_str_eq(wf_test_state_next(r), "Later");
  expect_json(wf_test_state_output(r), "{}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, succeed_and_fail) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"ok\":1}";
  wf_test_state_result *r = run(e, "{\"Type\":\"Succeed\"}", &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_SUCCEEDED);
  expect_json(wf_test_state_output(r), "{\"ok\":1}");
  cr_assert_null(wf_test_state_next(r));
  wf_test_state_result_free(r);
  r = run(e, "{\"Type\":\"Fail\",\"Error\":\"Bad\",\"Cause\":\"because\"}",
          &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_FAILED);
  cr_assert_str_eq(wf_test_state_error(r), "Bad");
  cr_assert_str_eq(wf_test_state_cause(r), "because");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, task_without_mock_calls_the_registered_handler) {
  wf_engine *e = engine();
  atomic_store(&handler_calls, 0);
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"in\":1}";
  o.inspection_level = WF_INSPECT_DEBUG;
  wf_test_state_result *r = run(
      e,
      "{\"Type\":\"Task\",\"Resource\":\"" FN "\",\"ResultSelector\":{"
      "\"w.$\":\"$.worked\"},\"ResultPath\":\"$.out\",\"Next\":\"N\"}",
      &o);
  cr_assert_eq(atomic_load(&handler_calls), 1);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_SUCCEEDED);
  expect_json(wf_test_state_output(r), "{\"in\":1,\"out\":{\"w\":true}}");
  expect_inspected(r, "result", "{\"worked\":true}");
  expect_inspected(r, "afterResultSelector", "{\"w\":true}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, mocked_task_calls_nothing) {
  wf_engine *e = engine();
  atomic_store(&handler_calls, 0);
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.mock_result = "{\"mocked\":[1,2]}";
  wf_test_state_result *r = run(
      e, "{\"Type\":\"Task\",\"Resource\":\"" FN "\",\"End\":true}", &o);
  cr_assert_eq(atomic_load(&handler_calls), 0);
  expect_json(wf_test_state_output(r), "{\"mocked\":[1,2]}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, jsonata_task_shows_its_arguments) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"n\":3}";
  o.mock_result = "{\"Payload\":5}";
  o.inspection_level = WF_INSPECT_DEBUG;
  wf_test_state_result *r = run(
      e,
      "{\"Type\":\"Task\",\"QueryLanguage\":\"JSONata\",\"Resource\":"
      "\"arn:aws:states:::lambda:invoke\",\"Arguments\":{\"FunctionName\":"
      "\"Work\",\"Payload\":\"{% $states.input.n * 2 %}\"},\"Output\":"
      "\"{% $states.result.Payload %}\",\"End\":true}",
      &o);
  expect_json(wf_test_state_output(r), "5");
  expect_inspected(r, "afterArguments",
                   "{\"FunctionName\":\"Work\",\"Payload\":6}");
  expect_inspected(r, "result", "{\"Payload\":5}");
  expect_inspected(r, "afterParameters", NULL);
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

static const char RETRY_CATCH[] =
    "{\"Type\":\"Task\",\"Resource\":\"" FN "\",\"Retry\":[{\"ErrorEquals\":"
    "[\"Busy\"],\"IntervalSeconds\":2,\"BackoffRate\":3,\"MaxAttempts\":2}],"
    "\"Catch\":[{\"ErrorEquals\":[\"Other\"],\"Next\":\"Elsewhere\"},"
    "{\"ErrorEquals\":[\"States.ALL\"],\"ResultPath\":\"$.err\","
    "\"Next\":\"Handle\"}],\"Next\":\"Done\"}";

Test(engine_test_state, mocked_error_a_retrier_would_retry_is_retriable) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.mock_error = "Busy";
  o.mock_cause = "try later";
  o.inspection_level = WF_INSPECT_DEBUG;
  o.retrier_retry_count = 1;
  wf_test_state_result *r = run(e, RETRY_CATCH, &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_RETRIABLE);
  cr_assert_str_eq(wf_test_status_name(WF_TEST_RETRIABLE), "RETRIABLE");
  cr_assert_str_eq(wf_test_state_error(r), "Busy");
  cr_assert_str_eq(wf_test_state_cause(r), "try later");
  cr_assert_null(wf_test_state_next(r));
  cr_assert_null(wf_test_state_output(r));
  /* The second retry waits 2 s * 3. */
  expect_inspected(r, "errorDetails",
                   "{\"retryIndex\":0,\"retryBackoffIntervalSeconds\":6}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, exhausted_retrier_lets_the_catcher_take_it) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.input = "{\"a\":1}";
  o.mock_error = "Busy";
  o.mock_cause = "still";
  o.retrier_retry_count = 2;
  o.inspection_level = WF_INSPECT_DEBUG;
  wf_test_state_result *r = run(e, RETRY_CATCH, &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_CAUGHT_ERROR);
  cr_assert_str_eq(wf_test_status_name(WF_TEST_CAUGHT_ERROR), "CAUGHT_ERROR");
  cr_assert_str_eq(wf_test_state_next(r), "Handle");
  cr_assert_str_eq(wf_test_state_error(r), "Busy");
  expect_json(wf_test_state_output(r),
              "{\"a\":1,\"err\":{\"Error\":\"Busy\",\"Cause\":\"still\"}}");
  /* The retrier that matched is named too. */
  expect_inspected(r, "errorDetails", "{\"catchIndex\":1,\"retryIndex\":0}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

/* As AWS answered (LocalStack's recording, test_state_configuration:
 * retrierRetryCount 4 and 5 of MaxAttempts 5, IntervalSeconds 1, rate 2). */
Test(engine_test_state, retrier_retry_count_as_aws_recorded_it) {
  wf_engine *e = engine();
  const char def[] =
      "{\"QueryLanguage\":\"JSONata\",\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:states:::lambda:invoke\",\"Arguments\":{\"FunctionName\":"
      "\"foo\",\"Payload\":\"bar\"},\"Retry\":[{\"ErrorEquals\":"
      "[\"MockException\"],\"IntervalSeconds\":1,\"MaxAttempts\":5,"
      "\"BackoffRate\":2.0}],\"End\":true}";
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.mock_error = "MockException";
  o.mock_cause = "Mock the cause of the error.";
  o.inspection_level = WF_INSPECT_DEBUG;
  o.retrier_retry_count = 4;
  wf_test_state_result *r = run(e, def, &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_RETRIABLE);
  expect_inspected(r, "errorDetails",
                   "{\"retryBackoffIntervalSeconds\":16,\"retryIndex\":0}");
  expect_inspected(r, "afterArguments",
                   "{\"FunctionName\":\"foo\",\"Payload\":\"bar\"}");
  wf_test_state_result_free(r);
  o.retrier_retry_count = 5;
  r = run(e, def, &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_FAILED);
  cr_assert_str_eq(wf_test_state_error(r), "MockException");
  expect_inspected(r, "errorDetails", "{\"retryIndex\":0}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, error_nothing_handles_fails) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.mock_error = "Nope";
  wf_test_state_result *r = run(
      e, "{\"Type\":\"Task\",\"Resource\":\"" FN "\",\"End\":true}", &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_FAILED);
  cr_assert_str_eq(wf_test_state_error(r), "Nope");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, state_of_a_machine_by_name_with_its_context) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.state_name = "Second";
  o.mock_result = "{}";
  o.context = "{\"Execution\":{\"Name\":\"given\"}}";
  wf_test_state_result *r = run(
      e,
      "{\"StartAt\":\"First\",\"States\":{\"First\":{\"Type\":\"Pass\","
      "\"Next\":\"Second\"},\"Second\":{\"Type\":\"Task\",\"Resource\":\"" FN
      "\",\"Next\":\"Third\"},\"Third\":{\"Type\":\"Succeed\"}}}",
      &o);
  cr_assert_str_eq(wf_test_state_next(r), "Third");
  wf_test_state_result_free(r);
  o.inspection_level = WF_INSPECT_DEBUG;
  r = run(e,
          "{\"StartAt\":\"First\",\"States\":{\"First\":{\"Type\":\"Pass\","
          "\"Next\":\"Second\"},\"Second\":{\"Type\":\"Task\",\"Resource\":\"" FN
          "\",\"Parameters\":{\"who.$\":\"$$.Execution.Name\"},"
          "\"End\":true}}}",
          &o);
  expect_inspected(r, "afterParameters", "{\"who\":\"given\"}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

/* AWS's checks of a given context object (LocalStack's recording,
 * test_state_context_object). */
Test(engine_test_state, a_given_context_is_checked_as_aws_does) {
  wf_engine *e = engine();
  const char task[] =
      "{\"Type\":\"Task\",\"Resource\":\"" FN "\",\"End\":true}";
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.mock_result = "{}";
  o.context = "{\"Execution\":{\"Id\":1}}";
  refused(e, task, &o, WF_EINVAL,
          "Invalid Context object provided: Execution.Id must be a string");
  o.context = "{\"Map\":{}}";
  refused(e, task, &o, WF_EINVAL,
          "Invalid Context object provided: 'Map' field is not supported "
          "when mocking a Context object");
  o.context = "{\"Execution\":{\"pokemon\":\"squirtle\"}}";
  refused(e, task, &o, WF_EINVAL,
          "Invalid Context object provided: Field 'pokemon' is not allowed");
  o.context = "{\"Pokedex\":{}}";
  refused(e, task, &o, WF_EINVAL,
          "Invalid Context object provided: Field 'Pokedex' is not allowed");
  o.context = "{\"Task\":{\"Token\":\"abcd123\"}}";
  refused(e, task, &o, WF_EINVAL,
          "Invalid Context object provided: Context object contains 'Task' "
          "when state is not a Task state with a '.sync' or "
          "'.waitForTaskToken' service integration pattern");
  /* The context given is $$ as it is, empty members and all. */
  o.context = "{\"Execution\":{},\"State\":{},\"StateMachine\":{}}";
  wf_test_state_result *r = run(
      e,
      "{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::sqs:sendMessage."
      "waitForTaskToken\",\"Parameters\":{\"c.$\":\"$$\"},\"ResultPath\":"
      "null,\"End\":true}",
      &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_SUCCEEDED);
  wf_test_state_result_free(r);
  o.context = "{\"Task\":{\"Token\":\"abcd123\"}}";
  o.inspection_level = WF_INSPECT_DEBUG;
  r = run(e,
          "{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::sqs:sendMessage."
          "waitForTaskToken\",\"Parameters\":{\"t.$\":\"$$.Task.Token\"},"
          "\"End\":true}",
          &o);
  expect_inspected(r, "afterParameters", "{\"t\":\"abcd123\"}");
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, map_and_parallel_answer_from_their_mock) {
  wf_engine *e = engine();
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.mock_result = "[1,2,3]";
  wf_test_state_result *r = run(
      e,
      "{\"Type\":\"Map\",\"ItemProcessor\":{\"StartAt\":\"P\",\"States\":{"
      "\"P\":{\"Type\":\"Pass\",\"End\":true}}},\"ResultPath\":\"$.all\","
      "\"Next\":\"N\"}",
      &o);
  expect_json(wf_test_state_output(r), "{\"all\":[1,2,3]}");
  cr_assert_str_eq(wf_test_state_next(r), "N");
  wf_test_state_result_free(r);
  wf_test_state_options p = WF_TEST_STATE_OPTIONS_INIT;
  p.mock_error = "Branch.Failed";
  p.error_caused_by_state = "B";
  r = run(e,
          "{\"Type\":\"Parallel\",\"Branches\":[{\"StartAt\":\"B\",\"States\":"
          "{\"B\":{\"Type\":\"Pass\",\"End\":true}}}],\"Catch\":[{"
          "\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Caught\"}],"
          "\"End\":true}",
          &p);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_CAUGHT_ERROR);
  cr_assert_str_eq(wf_test_state_next(r), "Caught");
  wf_test_state_result_free(r);
  p.error_caused_by_state = "Elsewhere";
  refused(e,
          "{\"Type\":\"Parallel\",\"Branches\":[{\"StartAt\":\"B\",\"States\":"
          "{\"B\":{\"Type\":\"Pass\",\"End\":true}}}],\"End\":true}",
          &p, WF_EINVAL,
          "errorCausedByState 'Elsewhere' is not a state of the Parallel");
  wf_engine_free(e);
}

Test(engine_test_state, map_iteration_failures_past_the_tolerance_fail) {
  wf_engine *e = engine();
  const char def[] =
      "{\"Type\":\"Map\",\"ToleratedFailureCount\":1,\"ItemProcessor\":{"
      "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}},"
      "\"End\":true}";
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.mock_result = "[1]";
  o.map_iteration_failure_count = 1;
  wf_test_state_result *r = run(e, def, &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_SUCCEEDED);
  wf_test_state_result_free(r);
  o.map_iteration_failure_count = 2;
  o.inspection_level = WF_INSPECT_DEBUG;
  r = run(e, def, &o);
  /* AWS shows a Map's numbers as numbers. */
  expect_inspected(r, "maxConcurrency", "0");
  expect_inspected(r, "toleratedFailureCount", "1");
  cr_assert_eq(wf_test_state_status(r), WF_TEST_FAILED);
  cr_assert_str_eq(wf_test_state_error(r),
                   "States.ExceedToleratedFailureThreshold");
  wf_test_state_result_free(r);
  /* Without a tolerance AWS does not count them (recorded). */
  r = run(e,
          "{\"Type\":\"Map\",\"ItemProcessor\":{\"StartAt\":\"P\",\"States\":"
          "{\"P\":{\"Type\":\"Pass\",\"End\":true}}},\"End\":true}",
          &o);
  cr_assert_eq(wf_test_state_status(r), WF_TEST_SUCCEEDED);
  wf_test_state_result_free(r);
  wf_engine_free(e);
}

Test(engine_test_state, refuses_what_aws_refuses) {
  wf_engine *e = engine();
  const char map[] =
      "{\"Type\":\"Map\",\"ItemProcessor\":{\"StartAt\":\"P\",\"States\":{"
      "\"P\":{\"Type\":\"Pass\",\"End\":true}}},\"End\":true}";
  /* AWS's words, as LocalStack recorded them. */
  refused(e, map, NULL, WF_EUNSUPPORTED,
          "TestState API does not support Map or Parallel states. Supported "
          "state types include: [Task, Wait, Pass, Succeed, Fail, Choice]");
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  o.mock_result = "{}";
  refused(e, map, &o, WF_EINVAL, "Mocked result must be an array.");
  o.mock_result = "[]";
  refused(e,
          "{\"Type\":\"Map\",\"ItemProcessor\":{\"StartAt\":\"P\",\"States\":{"
          "\"P\":{\"Type\":\"Pass\",\"End\":true}}},\"ResultWriter\":{\"WriterConfig\":"
          "{\"OutputType\":\"JSON\",\"Transformation\":\"NONE\"}},"
          "\"End\":true}",
          &o, WF_EINVAL, "Mocked result must be a JSON object.");
  const char parallel[] =
      "{\"Type\":\"Parallel\",\"Branches\":[{\"StartAt\":\"B\",\"States\":"
      "{\"B\":{\"Type\":\"Pass\",\"End\":true}}}],\"End\":true}";
  o.mock_result = "[1,2]";
  refused(e, parallel, &o, WF_EINVAL,
          "Mocked result must contain the same number of items as number of "
          "Parallel branches.");
  o.mock_result = "{nope";
  refused(e, parallel, &o, WF_EINVAL, "Mocked result must be valid JSON");
  o.mock_result = "1";
  refused(e, "{\"Type\":\"Pass\",\"End\":true}", &o, WF_EINVAL,
          "State type 'Pass' is not supported when a mock is specified");
  refused(e, "{\"Type\":\"Fail\"}", &o, WF_EINVAL,
          "State type 'Fail' is not supported when a mock is specified");
  o.reveal_secrets = 1;
  refused(e, "{\"Type\":\"Task\",\"Resource\":\"" FN "\",\"End\":true}", &o,
          WF_EINVAL,
          "TestState does not support RevealSecrets when a mock is "
          "specified.");
  o.reveal_secrets = 0;
  o.context = "{}";
  o.mock_result = NULL;
  refused(e, "{\"Type\":\"Pass\",\"End\":true}", &o, WF_EINVAL,
          "context may only be specified if a mock is specified");
  wf_test_state_options both = WF_TEST_STATE_OPTIONS_INIT;
  both.mock_result = "1";
  both.mock_error = "E";
  refused(e, "{\"Type\":\"Pass\",\"End\":true}", &both, WF_EINVAL,
          "A test mock should have only one of the following fields: "
          "[result, errorOutput].");
  refused(e,
          "{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::lambda:invoke."
          "waitForTaskToken\",\"End\":true}",
          NULL, WF_EINVAL, ".waitForTaskToken");
  refused(e, "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\","
             "\"End\":true}}}",
          NULL, WF_EINVAL, "stateName is required");
  wf_test_state_options named = WF_TEST_STATE_OPTIONS_INIT;
  named.state_name = "Z";
  refused(e, "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\","
             "\"End\":true}}}",
          &named, WF_EINVAL, "State 'Z' not found");
  wf_test_state_options in = WF_TEST_STATE_OPTIONS_INIT;
  in.input = "{nope";
  refused(e, "{\"Type\":\"Pass\",\"End\":true}", &in, WF_EPARSE, "");
  wf_test_state_options vars = WF_TEST_STATE_OPTIONS_INIT;
  vars.variables = "[1]";
  refused(e, "{\"Type\":\"Pass\",\"End\":true}", &vars, WF_EINVAL,
          "variables must be a JSON object");
  wf_test_state_options retry = WF_TEST_STATE_OPTIONS_INIT;
  retry.retrier_retry_count = 1;
  refused(e, "{\"Type\":\"Pass\",\"End\":true}", &retry, WF_EINVAL,
          "retrierRetryCount");
  wf_engine_free(e);
}

Test(engine_test_state, invalid_definitions_carry_the_loader_s_diagnostic) {
  wf_engine *e = engine();
  refused(e, "{\"Type\":\"Pass\"}", NULL, WF_EINVALID, "");
  refused(e, "{\"Type\":\"Pass\",\"End\":true", NULL, WF_EINVALID, "");
  refused(e, "[1]", NULL, WF_EINVALID, "must be a JSON object");
  wf_test_state_result *r = NULL;
  wf_error err = {0};
  cr_assert_eq(wf_engine_test_state(&r, e, "{\"Type\":\"Pass\"}", NULL, &err),
               WF_EINVALID);
  cr_assert(strstr(err.path, "/States/TestState"), "path %s", err.path);
  wf_engine_free(e);
}

Test(engine_test_state, options_init_and_versions) {
  wf_test_state_options o;
  cr_assert_eq(wf_test_state_options_init(&o, WF_TEST_STATE_OPTIONS_VERSION),
               WF_OK);
  cr_assert_eq(o.retrier_retry_count, -1);
  cr_assert_eq(wf_test_state_options_init(&o, 99), WF_EVERSION);
  wf_engine *e = engine();
  o.version = 99;
  refused(e, "{\"Type\":\"Pass\",\"End\":true}", &o, WF_EVERSION,
          "wf_test_state_options");
  wf_engine_free(e);
}
