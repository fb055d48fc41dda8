/* JSONata states ("QueryLanguage": "JSONata") beyond the recorded AWS
 * executions: Choice Conditions with their Output and Assign, a Catcher's
 * Output and Assign over $states.errorOutput, Task Arguments and
 * $states.result, QueryEvaluationError caught by Catch, Wait and $now on
 * the virtual clock, Map ItemSelector with $states.context, Fail Error and
 * Cause, variables crossing query languages, AWS's evaluation bounds, and
 * the checks AWS makes when the definition loads. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "support.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define ATA "\"QueryLanguage\":\"JSONata\","

static void echo(wf_task *t, void *p) {
  (void)p;
  char *out = wft_strf("{\"got\":%s}", wf_task_input(t));
  wf_task_succeed(t, out);
  free(out);
}

static void refuse(wf_task *t, void *p) {
  (void)p;
  wf_task_fail(t, "Bad.Request", "no such item");
}

static wf_engine *engine(void) {
  wf_engine *e = wft_engine(NULL);
  wft_register(e, FN "Echo", echo, NULL, WF_HANDLER_INLINE);
  wft_register(e, FN "Refuse", refuse, NULL, WF_HANDLER_INLINE);
  return e;
}

static wf_execution *run(wf_engine *e, const char *def, const char *input) {
  wf_machine *m = wft_load(def);
  wf_execution *x = wft_run(e, m, input, NULL);
  wf_machine_free(m);
  return x;
}

static void expect(const char *def, const char *input, const char *output) {
  wf_engine *e = engine();
  wf_execution *x = run(e, def, input);
  wft_assert_succeeded(x, output);
  wf_execution_free(x);
  wf_engine_free(e);
}

static void expect_failed(const char *def, const char *input,
                          const char *error, const char *cause) {
  wf_engine *e = engine();
  wf_execution *x = run(e, def, input);
  wft_assert_failed(x, error, cause);
  wf_execution_free(x);
  wf_engine_free(e);
}

/* Failed with `error`, the cause holding `words` (a cause too long, or
 * partly generated, to spell whole). */
static void expect_failed_saying(wf_engine *e, const char *def,
                                 const char *error, const char *words) {
  wf_execution *x = run(e, def, "{}");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), error);
  cr_assert(strstr(wf_execution_cause(x), words), "%s",
            wf_execution_cause(x));
  wf_execution_free(x);
}

Test(states_jsonata, choice_takes_the_first_true_condition_with_its_fields) {
  static const char *const def =
      "{" ATA "\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\","
      "\"Choices\":[{\"Condition\":\"{% $states.input.n > 10 %}\","
      "\"Next\":\"Big\",\"Assign\":{\"size\":\"big\"},"
      "\"Output\":{\"n\":\"{% $states.input.n %}\"}},"
      "{\"Condition\":true,\"Next\":\"Big\",\"Assign\":{\"size\":\"any\"}}],"
      "\"Default\":\"Big\"},"
      "\"Big\":{\"Type\":\"Pass\",\"Output\":{\"in\":\"{% $states.input %}\","
      "\"size\":\"{% $size %}\"},\"End\":true}}}";
  expect(def, "{\"n\":11}", "{\"in\":{\"n\":11},\"size\":\"big\"}");
  expect(def, "{\"n\":1}", "{\"in\":{\"n\":1},\"size\":\"any\"}");
}

Test(states_jsonata, choice_without_a_match_takes_default_with_its_own_fields) {
  expect("{" ATA "\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\","
         "\"Choices\":[{\"Condition\":\"{% $states.input.n > 10 %}\","
         "\"Next\":\"D\"}],\"Default\":\"D\",\"Assign\":{\"why\":\"default\"},"
         "\"Output\":\"{% $states.input.n * 2 %}\"},"
         "\"D\":{\"Type\":\"Pass\",\"Output\":[\"{% $states.input %}\","
         "\"{% $why %}\"],\"End\":true}}}",
         "{\"n\":3}", "[6,\"default\"]");
}

Test(states_jsonata, a_condition_that_is_not_boolean_fails_the_state) {
  expect_failed(
      "{" ATA "\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\","
      "\"Choices\":[{\"Condition\":\"{% $states.input.n %}\",\"Next\":\"D\"}],"
      "\"Default\":\"D\"},\"D\":{\"Type\":\"Succeed\"}}}",
      "{\"n\":3}", "States.QueryEvaluationError",
      "An error occurred while executing the state 'C' (entered at the event "
      "id #2). The JSONata expression '$states.input.n' specified for the "
      "field 'Choices[0]/Condition' returned an unexpected result type. "
      "Expected 'boolean', but was 'number' for value: 3");
}

Test(states_jsonata, a_task_gets_its_arguments_and_outputs_from_its_result) {
  expect("{" ATA "\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
         "\"Resource\":\"" FN "Echo\",\"Arguments\":{\"id\":"
         "\"{% $states.input.id %}\",\"when\":\"{% $states.context.State.Name "
         "%}\"},\"TimeoutSeconds\":\"{% 1 + 1 %}\","
         "\"Assign\":{\"seen\":\"{% $states.result.got.id %}\"},"
         "\"Output\":{\"r\":\"{% $states.result %}\",\"in\":"
         "\"{% $states.input.id %}\"},\"Next\":\"P\"},"
         "\"P\":{\"Type\":\"Pass\",\"Output\":\"{% $seen %}\",\"End\":true}}}",
         "{\"id\":7}", "7");
  /* Without Output the state's output is the result. */
  expect("{" ATA "\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
         "\"Resource\":\"" FN "Echo\",\"End\":true}}}",
         "{\"id\":7}", "{\"got\":{\"id\":7}}");
}

Test(states_jsonata, a_catcher_reads_the_error_output_and_the_state_input) {
  expect("{" ATA "\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
         "\"Resource\":\"" FN "Refuse\",\"Assign\":{\"never\":1},"
         "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"P\","
         "\"Assign\":{\"err\":\"{% $states.errorOutput.Error %}\"},"
         "\"Output\":{\"cause\":\"{% $states.errorOutput.Cause %}\","
         "\"id\":\"{% $states.input.id %}\"}}],\"End\":true},"
         "\"P\":{\"Type\":\"Pass\",\"Output\":{\"err\":\"{% $err %}\","
         "\"in\":\"{% $states.input %}\",\"never\":\"{% $exists($never) %}\"},"
         "\"End\":true}}}",
         "{\"id\":7}",
         "{\"err\":\"Bad.Request\",\"in\":{\"cause\":\"no such item\","
         "\"id\":7},\"never\":false}");
  /* Without Output a catcher passes the error output on. */
  expect("{" ATA "\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
         "\"Resource\":\"" FN "Refuse\",\"Catch\":[{\"ErrorEquals\":"
         "[\"States.ALL\"],\"Next\":\"S\"}],\"End\":true},"
         "\"S\":{\"Type\":\"Succeed\"}}}",
         "{}", "{\"Error\":\"Bad.Request\",\"Cause\":\"no such item\"}");
}

/* A failed expression is States.QueryEvaluationError, which the state's
 * own Catch can take. */
Test(states_jsonata, a_query_error_is_caught_like_any_error) {
  expect("{" ATA "\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
         "\"Resource\":\"" FN "Echo\",\"Output\":\"{% $nothing %}\","
         "\"Catch\":[{\"ErrorEquals\":[\"States.QueryEvaluationError\"],"
         "\"Next\":\"S\",\"Output\":\"{% $states.errorOutput.Error %}\"}],"
         "\"End\":true},\"S\":{\"Type\":\"Succeed\"}}}",
         "{}", "\"States.QueryEvaluationError\"");
}

Test(states_jsonata, evaluation_errors_name_the_expression_and_field) {
  expect_failed(
      "{" ATA "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
      "\"Output\":{\"a\":[1,\"{% 'x' + 1 %}\"]},\"End\":true}}}",
      "{}", "States.QueryEvaluationError",
      "An error occurred while executing the state 'P' (entered at the event "
      "id #2). The JSONata expression ''x' + 1' specified for the field "
      "'Output/a[1]' threw an error during evaluation. T2001: The left side "
      "of the \"+\" operator must evaluate to a number");
  /* $eval is not among AWS's functions. */
  expect_failed(
      "{" ATA "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
      "\"Output\":\"{% $eval('1') %}\",\"End\":true}}}",
      "{}", "States.QueryEvaluationError",
      "An error occurred while executing the state 'P' (entered at the event "
      "id #2). The JSONata expression '$eval('1')' specified for the field "
      "'Output' threw an error during evaluation. T1006: Attempted to invoke "
      "a non-function");
}

/* AWS's nesting bound: 100 "+1" terms run, 101 do not, with AWS's words
 * for a bound (a colon, no code). */
Test(states_jsonata, nesting_stops_where_aws_stops_it) {
  char expr[512] = "1";
  for (int i = 1; i < 100; i++) strcat(expr, "+1");
  char *def = wft_strf("{" ATA "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
                       "\"Pass\",\"Output\":\"{%% %s %%}\",\"End\":true}}}",
                       expr);
  expect(def, "{}", "100");
  free(def);
  strcat(expr, "+1");
  def = wft_strf("{" ATA "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
                 "\"Pass\",\"Output\":\"{%% %s %%}\",\"End\":true}}}",
                 expr);
  wf_engine *e = engine();
  expect_failed_saying(e, def, "States.QueryEvaluationError",
                       "' specified for the field 'Output' threw an error "
                       "during evaluation: Stack overflow error: Check for "
                       "non-terminating recursive function. Consider "
                       "rewriting as tail-recursive");
  wf_engine_free(e);
  free(def);
}

Test(states_jsonata, wait_and_now_follow_the_virtual_clock) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, true);
  wf_execution *x = wft_fixture_run(
      &f,
      "{" ATA "\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
      "\"Seconds\":\"{% $states.input.s %}\",\"Next\":\"P\"},"
      "\"P\":{\"Type\":\"Pass\",\"Output\":{\"now\":\"{% $now() %}\","
      "\"ms\":\"{% $millis() %}\"},\"End\":true}}}",
      "{\"s\":3600}", NULL);
  /* WFT_T0 is 2023-11-14T22:13:20Z; an hour later. */
  wft_assert_succeeded(x, "{\"now\":\"2023-11-14T23:13:20.000Z\","
                          "\"ms\":1700003600000}");
  wft_assert_no_real_wait(&f);
  wft_fixture_free(&f);
}

Test(states_jsonata, wait_refuses_what_is_not_a_count_of_seconds) {
  expect_failed(
      "{" ATA "\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
      "\"Seconds\":\"{% $states.input.s %}\",\"End\":true}}}",
      "{\"s\":\"soon\"}", "States.QueryEvaluationError",
      "An error occurred while executing the state 'W' (entered at the event "
      "id #2). The JSONata expression '$states.input.s' specified for the "
      "field 'Seconds' returned an unexpected result type. Expected "
      "'integer', but was 'string' for value: \"soon\"");
}

Test(states_jsonata, map_selects_items_with_the_context) {
  expect("{" ATA "\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\","
         "\"Items\":\"{% $states.input.xs %}\",\"MaxConcurrency\":"
         "\"{% 1 %}\",\"ItemSelector\":{\"i\":"
         "\"{% $states.context.Map.Item.Index %}\",\"v\":"
         "\"{% $states.context.Map.Item.Value * 10 %}\"},"
         "\"ItemProcessor\":{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
         "\"Pass\",\"Output\":\"{% $states.input.i + $states.input.v %}\","
         "\"End\":true}}},\"Output\":\"{% $sum($states.result) %}\","
         "\"End\":true}}}",
         "{\"xs\":[1,2,3]}", "63");
}

Test(states_jsonata, fail_takes_error_and_cause_from_expressions) {
  expect_failed("{" ATA "\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\","
                "\"Error\":\"{% $states.input.e %}\",\"Cause\":\"literal\"}}}",
                "{\"e\":\"Custom.Error\"}", "Custom.Error", "literal");
  /* A Fail state with a Cause alone fails the execution without an
   * error. */
  wf_engine *e = engine();
  wf_execution *x =
      run(e,
          "{" ATA "\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\","
          "\"Cause\":\"{% 'n=' & $string($states.input.n) %}\"}}}",
          "{\"n\":2}");
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_null(wf_execution_error(x));
  cr_assert_str_eq(wf_execution_cause(x), "n=2");
  wf_execution_free(x);
  wf_engine_free(e);
}

/* Variables are shared by both query languages. */
Test(states_jsonata, variables_cross_query_languages) {
  expect("{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\","
         "\"Assign\":{\"x.$\":\"$.v\"},\"Next\":\"B\"},"
         "\"B\":{\"Type\":\"Pass\"," ATA "\"Assign\":{\"y\":\"{% $x * 2 %}\"},"
         "\"Output\":{\"x\":\"{% $x %}\"},\"Next\":\"C\"},"
         "\"C\":{\"Type\":\"Pass\",\"Parameters\":{\"x.$\":\"$x\","
         "\"y.$\":\"$y\"},\"End\":true}}}",
         "{\"v\":21}", "{\"x\":21,\"y\":42}");
}

/* What AWS refuses when the definition is created. */
static void expect_diagnostic(const char *def, const char *code,
                              const char *message, const char *location) {
  wf_machine *m = NULL;
  wf_error err;
  wf_diagnostics *d = NULL;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.diagnostics = &d;
  int rc = wf_machine_load_json(&m, def, &lo, &err);
  cr_assert_eq(rc, WF_EINVALID, "loaded: %s", def);
  cr_assert_not_null(d);
  bool found = false;
  for (size_t i = 0; i < wf_diagnostics_count(d); i++)
    if (!strcmp(wf_diagnostics_code(d, i), code) &&
        !strcmp(wf_diagnostics_message(d, i), message) &&
        !strcmp(wf_diagnostics_location(d, i), location))
      found = true;
  char *all = wf_diagnostics_format(d);
  cr_assert(found, "no %s: %s at %s in:\n%s", code, message, location, all);
  free(all);
  wf_diagnostics_free(d);
}

static char *pass_with(const char *output) {
  return wft_strf("{" ATA "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
                  "\"Pass\",\"Output\":{\"v\":\"{%% %s %%}\"},\"End\":true}}}",
                  output);
}

Test(states_jsonata, definitions_are_checked_as_aws_checks_them) {
  static const struct {
    const char *expr, *code, *message;
  } cases[] = {
      {"1 +", "INVALID_JSONATA_EXPRESSION", "Unexpected end of expression"},
      {"a[1,2)", "INVALID_JSONATA_EXPRESSION", "Expected \"]\", got \",\""},
      {"phone.number", "UNSUPPORTED_JSONATA_EXPRESSION",
       "Reference to 'phone' at the top level is not supported."},
      {"$string($)", "UNSUPPORTED_JSONATA_EXPRESSION",
       "Reference to '$' at the top level is not supported."},
      {"$$.x", "UNSUPPORTED_JSONATA_EXPRESSION",
       "Reference to '$$' is not supported."},
      {"$states.errorOutput.Cause", "UNSUPPORTED_JSONATA_EXPRESSION",
       "Field '$states.errorOutput' does not exist."},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *def = pass_with(cases[i].expr);
    expect_diagnostic(def, cases[i].code, cases[i].message,
                      "/States/P/Output/v");
    free(def);
  }
  /* What is read after a path's first step, and variables, are fine. */
  static const char *const fine[] = {
      "$states.input.items[phone > 3]", "$states.input.a{'k': phone}",
      "**.phone", "$undefinedVariable", "function($x){ $x.phone }"};
  for (size_t i = 0; i < sizeof fine / sizeof *fine; i++) {
    char *def = pass_with(fine[i]);
    wf_machine_free(wft_load(def));
    free(def);
  }
}

/* AWS records the failed evaluation as an EvaluationFailed event naming
 * the field, chained to the event before the state's entry. */
Test(states_jsonata, a_failed_evaluation_is_an_event) {
  wf_engine *e = engine();
  wf_execution *x =
      run(e,
          "{" ATA "\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\","
          "\"Next\":\"P\"},\"P\":{\"Type\":\"Pass\",\"Output\":{\"v\":"
          "\"{% $nope %}\"},\"End\":true}}}",
          "{}");
  json_t *doc;
  json_t *evs = wft_events(x, 0, &doc);
  cr_assert_eq(json_array_size(evs), 6);
  json_t *ev = json_array_get(evs, 4);
  cr_assert_str_eq(json_string_value(json_object_get(ev, "type")),
                   "EvaluationFailed");
  cr_assert_eq(json_integer_value(json_object_get(ev, "previousEventId")), 3);
  json_t *d = json_object_get(ev, "evaluationFailedEventDetails");
  cr_assert_str_eq(json_string_value(json_object_get(d, "location")),
                   "Output/v");
  cr_assert_str_eq(json_string_value(json_object_get(d, "state")), "P");
  cr_assert_str_eq(json_string_value(json_object_get(d, "error")),
                   "States.QueryEvaluationError");
  cr_assert_str_eq(json_string_value(json_object_get(d, "cause")),
                   wf_execution_cause(x));
  json_decref(doc);
  wf_execution_free(x);
  wf_engine_free(e);
}

/* A variable's value, and one Assign's values together, stay within
 * AWS's 256 KiB. */
Test(states_jsonata, assigned_values_stay_within_aws_bounds) {
  wf_engine *e = engine();
  expect_failed_saying(
      e,
      "{" ATA "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
      "\"Assign\":{\"big\":[\"{% $pad('', 140000, 'x') %}\","
      "\"{% $pad('', 140000, 'y') %}\"]},\"End\":true}}}",
      "States.DataLimitExceeded",
      "The value assigned to the variable 'big' is larger than the maximum "
      "of 262144 bytes");
  expect_failed_saying(
      e,
      "{" ATA "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
      "\"Assign\":{\"a\":\"{% $pad('', 140000, 'x') %}\","
      "\"b\":\"{% $pad('', 140000, 'y') %}\"},\"End\":true}}}",
      "States.DataLimitExceeded",
      "The values of the Assign field are larger than the maximum");
  wf_engine_free(e);
}

/* Variable names: identifiers of 1 to 80 characters; "states" is AWS's. */
Test(states_jsonata, assign_takes_variable_names_only) {
  expect_diagnostic("{" ATA "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
                    "\"Pass\",\"Assign\":{\"states\":1},\"End\":true}}}",
                    "SCHEMA_VALIDATION_FAILED",
                    "The variable name 'states' is reserved",
                    "/States/P/Assign");
  expect_diagnostic(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Echo\",\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],"
      "\"Next\":\"S\",\"Assign\":{\"1x.$\":\"$\"}}],\"End\":true},"
      "\"S\":{\"Type\":\"Succeed\"}}}",
      "SCHEMA_VALIDATION_FAILED",
      "The variable name '1x' is not valid: it must be 1 to 80 letters, "
      "digits or underscores, not starting with a digit",
      "/States/T/Catch[0]/Assign");
}

/* All the variables of an execution stay within AWS's 10 MiB: 41 of
 * 250 kB each pass it; replacing one keeps the total. */
Test(states_jsonata, an_execution_keeps_its_variables_within_ten_mib) {
  wf_engine *e = engine();
  /* 42 states each assigning a variable of its own of 250 kB: the 42nd
   * passes 10 MiB. */
  char *def = strdup("{" ATA "\"StartAt\":\"P0\",\"States\":{");
  for (int i = 0; i < 42; i++) {
    char *next = i < 41 ? wft_strf("\"Next\":\"P%d\"", i + 1)
                        : strdup("\"End\":true");
    char *more = wft_strf(
        "%s%s\"P%d\":{\"Type\":\"Pass\",\"Assign\":{\"v%d\":"
        "\"{%% $pad('', 250000, 'x') %%}\"},%s}",
        def, i ? "," : "", i, i, next);
    free(next);
    free(def);
    def = more;
  }
  char *full = wft_strf("%s}}", def);
  wf_execution *x = run(e, full, "{}");
  cr_assert_str_eq(wf_execution_error(x), "States.DataLimitExceeded");
  cr_assert(strstr(wf_execution_cause(x),
                   "An error occurred while executing the state 'P41'"),
            "%s", wf_execution_cause(x));
  cr_assert(strstr(wf_execution_cause(x),
                   "The variables of the execution would take more than the "
                   "maximum of 10485760 bytes"),
            "%s", wf_execution_cause(x));
  wf_execution_free(x);
  free(full);
  free(def);
  x =
      run(e,
          "{" ATA "\"StartAt\":\"L\",\"States\":{"
          "\"L\":{\"Type\":\"Choice\",\"Choices\":[{\"Condition\":"
          "\"{% $states.input.i < $states.input.n %}\",\"Next\":\"A\"}],"
          "\"Default\":\"Done\"},"
          "\"A\":{\"Type\":\"Pass\",\"Assign\":{\"x\":"
          "\"{% $pad('', 250000, 'x') %}\"},\"Next\":\"B\"},"
          "\"B\":{\"Type\":\"Map\",\"Items\":[1],\"ItemProcessor\":{\"StartAt\":"
          "\"Q\",\"States\":{\"Q\":{\"Type\":\"Pass\",\"End\":true}}},"
          "\"Output\":{\"i\":\"{% $states.input.i + 1 %}\",\"n\":"
          "\"{% $states.input.n %}\"},\"Next\":\"L\"},"
          "\"Done\":{\"Type\":\"Succeed\"}}}",
          "{\"i\":0,\"n\":50}");
  /* One variable replaced 50 times stays at 250 kB. */
  wft_assert_succeeded(x, NULL);
  wf_execution_free(x);
  wf_engine_free(e);
}

/* JSON has no infinities or NaN: AWS writes them as strings. */
Test(states_jsonata, non_finite_numbers_are_written_as_strings) {
  expect("{" ATA "\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
         "\"Output\":{\"a\":\"{% 1/0 %}\",\"b\":\"{% [-1/0] %}\","
         "\"c\":\"{% 0/0 %}\"},\"End\":true}}}",
         "{}", "{\"a\":\"Infinity\",\"b\":[\"-Infinity\"],\"c\":\"NaN\"}");
}

/* A literal Assign belongs to the machine: what later states assign is
 * never written into it, so the next execution starts clean. */
Test(states_jsonata, a_literal_assign_is_not_changed_by_later_states) {
  wf_engine *e = engine();
  wf_machine *m = wft_load(
      "{" ATA "\"StartAt\":\"A\",\"States\":{"
      "\"A\":{\"Type\":\"Pass\",\"Assign\":{\"x\":1},\"Next\":\"C\"},"
      "\"C\":{\"Type\":\"Choice\",\"Choices\":[{\"Condition\":"
      "\"{% $states.input.set %}\",\"Next\":\"B\"}],\"Default\":\"D\"},"
      "\"B\":{\"Type\":\"Pass\",\"Assign\":{\"y\":\"{% $states.input.v %}\"},"
      "\"Next\":\"D\"},"
      "\"D\":{\"Type\":\"Pass\",\"Output\":\"{% $exists($y) %}\","
      "\"End\":true}}}");
  wf_execution *x = wft_run(e, m, "{\"set\":true,\"v\":5}", NULL);
  wft_assert_succeeded(x, "true");
  wf_execution_free(x);
  x = wft_run(e, m, "{\"set\":false}", NULL);
  wft_assert_succeeded(x, "false");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* An Output's size is counted as it is made: a JSONata result passed on
 * is shared whole rather than measured, its size known. Whole reals in an
 * input that no JSONata state made are still written as integers; an
 * output sharing its input's parts past the payload limit still fails,
 * and one whose count is loose but whose text fits still passes. */
Test(states_jsonata, outputs_sharing_their_input_are_sized_and_written_right) {
  static const char *const chain =
      "{" ATA "\"StartAt\":\"A\",\"States\":{"
      "\"A\":{\"Type\":\"Pass\",\"Output\":\"{% $states.input %}\","
      "\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Pass\",\"Output\":\"{% $merge([$states.input, "
      "{'c': $states.input.a}]) %}\",\"End\":true}}}";
  expect(chain, "{\"a\":{\"x\":1.0,\"y\":[2.50,3.0]},\"b\":1e2}",
         "{\"a\":{\"x\":1,\"y\":[2.5,3]},\"b\":100,\"c\":{\"x\":1,\"y\":[2.5,3]}}");

  /* About 100 kB of input in `big`, three small parts beside it. */
  char *pad = malloc(100001);
  memset(pad, 'x', 100000);
  pad[100000] = 0;
  char *input = wft_strf("{\"big\":\"%s\",\"p\":{\"q\":[1]},\"r\":{}}", pad);
  static const char *const twice =
      "{" ATA "\"StartAt\":\"A\",\"States\":{"
      "\"A\":{\"Type\":\"Pass\",\"Output\":\"{% $states.input %}\","
      "\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Pass\",\"Output\":\"{% [$states.input, "
      "$states.input, $states.input] %}\",\"End\":true}}}";
  expect_failed(twice, input, "States.DataLimitExceeded",
                "The state/task 'B' returned a result with a size exceeding "
                "the maximum number of bytes service limit.");
  static const char *const parts =
      "{" ATA "\"StartAt\":\"A\",\"States\":{"
      "\"A\":{\"Type\":\"Pass\",\"Output\":\"{% $states.input %}\","
      "\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Pass\",\"Output\":\"{% [$states.input.p, "
      "$states.input.r, $states.input.p, $states.input.r] %}\","
      "\"End\":true}}}";
  expect(parts, input, "[{\"q\":[1]},{},{\"q\":[1]},{}]");
  free(input);
  free(pad);
}

/* A chain A -> B -> C -> D of Pass states, A and B passing the input on
 * and adding "b" (so that C's input is a JSONata result only its frame
 * holds), C and D with the given fields. */
static char *merge_chain(const char *c_fields, const char *d_fields) {
  return wft_strf(
      "{" ATA "\"StartAt\":\"A\",\"States\":{"
      "\"A\":{\"Type\":\"Pass\",\"Output\":\"{%% $states.input %%}\","
      "\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Pass\",\"Output\":\"{%% $merge([$states.input, "
      "{'b': 2}]) %%}\",\"Next\":\"C\"},"
      "\"C\":{\"Type\":\"Pass\",%s\"Next\":\"D\"},"
      "\"D\":{\"Type\":\"Pass\",%s\"End\":true}}}",
      c_fields, d_fields ? d_fields : "");
}

/* Succeeded with `output`, with history kept and without (then nothing
 * but the frame holds a state's input, which a merge may write). */
static void expect_both(const char *def, const char *input,
                        const char *output) {
  expect(def, input, output);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.history = WF_HISTORY_OFF;
  wf_engine *e = wft_engine(&o);
  wft_register(e, FN "Echo", echo, NULL, WF_HANDLER_INLINE);
  wf_execution *x = run(e, def, input);
  wft_assert_succeeded(x, output);
  wf_execution_free(x);
  wf_engine_free(e);
}

/* An Output merged from the input may be the input written in place: the
 * same results as a copy, whatever else holds the input or its parts. */
Test(states_jsonata, an_output_merged_from_its_input_is_right_in_place_or_not) {
  static const char *const in = "{\"a\":1,\"n\":{\"x\":1}}";
  /* Members replaced keep their place, new ones follow; a member may be
   * a part of the input. */
  char *def = merge_chain(
      "\"Output\":\"{% $merge([$states.input, {'a': 10, 'w': "
      "$states.input.n}]) %}\",",
      NULL);
  expect_both(def, in, "{\"a\":10,\"n\":{\"x\":1},\"b\":2,\"w\":{\"x\":1}}");
  free(def);
  /* The input itself as a member: a copy, not a cycle. */
  def = merge_chain("\"Output\":\"{% $merge([$states.input, {'z': "
                    "$states.input}]) %}\",",
                    NULL);
  expect_both(def, in,
         "{\"a\":1,\"n\":{\"x\":1},\"b\":2,\"z\":{\"a\":1,\"n\":{\"x\":1},"
         "\"b\":2}}");
  free(def);
  /* A variable assigned the input keeps it as it was. */
  def = merge_chain(
      "\"Assign\":{\"keep\":\"{% $states.input %}\"},\"Output\":\"{% "
      "$merge([$states.input, {'a': 5}]) %}\",",
      "\"Output\":{\"keep\":\"{% $keep %}\",\"now\":\"{% $states.input %}\"},");
  expect_both(def, in,
         "{\"keep\":{\"a\":1,\"n\":{\"x\":1},\"b\":2},"
         "\"now\":{\"a\":5,\"n\":{\"x\":1},\"b\":2}}");
  free(def);
  /* A failure after the merge: the catcher sees the state's input as it
   * was. */
  expect_both("{" ATA "\"StartAt\":\"A\",\"States\":{"
         "\"A\":{\"Type\":\"Pass\",\"Output\":\"{% $states.input %}\","
         "\"Next\":\"B\"},"
         "\"B\":{\"Type\":\"Pass\",\"Output\":\"{% $merge([$states.input, "
         "{'b': 2}]) %}\",\"Next\":\"C\"},"
         "\"C\":{\"Type\":\"Task\",\"Resource\":\"" FN "Echo\","
         "\"Output\":{\"m\":\"{% $merge([$states.input, {'a': 99}]) %}\","
         "\"e\":\"{% $error('boom') %}\"},\"Catch\":[{\"ErrorEquals\":"
         "[\"States.ALL\"],\"Output\":\"{% $states.input %}\","
         "\"Next\":\"D\"}],\"Next\":\"D\"},"
         "\"D\":{\"Type\":\"Pass\",\"End\":true}}}",
         in, "{\"a\":1,\"n\":{\"x\":1},\"b\":2}");
}

/* An Output written partly as literal JSON keeps the definition's numbers
 * (a whole real stays 1.0): the next state's JSONata result still writes
 * them as JSONata makes numbers (1), whatever it shares of its input. */
Test(states_jsonata, literal_reals_in_an_output_are_made_numbers_by_the_next_result) {
  wf_engine *e = engine();
  wf_execution *x = run(
      e,
      "{" ATA "\"StartAt\":\"A\",\"States\":{"
      "\"A\":{\"Type\":\"Pass\",\"Output\":{\"o\":{\"x\":1.0},"
      "\"y\":\"{% 2 %}\"},\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Pass\",\"Output\":\"{% $states.input %}\","
      "\"End\":true}}}",
      "{}");
  wft_assert_succeeded(x, NULL);
  cr_assert_str_eq(wf_execution_output(x), "{\"o\":{\"x\":1},\"y\":2}");
  wf_execution_free(x);
  wf_engine_free(e);
}
