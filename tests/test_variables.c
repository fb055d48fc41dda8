/* Workflow variables in JSONPath states: Assign on every kind of state,
 * on Choice rules and on Catch, "$name" wherever a path is read, the
 * values a state reads being those of its entry, and the scopes of
 * Parallel branches, Map iterations and distributed Map children. The
 * recorded AWS executions (tag "variables") cover Pass; these cover the
 * rest as AWS documents it (and as LocalStack recorded it). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "support.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"

static void answer(wf_task *t, void *p) {
  (void)p;
  wf_task_succeed(t, "{\"body\":{\"id\":41},\"status\":200}");
}

static void refuse(wf_task *t, void *p) {
  (void)p;
  wf_task_fail(t, "Bad.Request", "no such item");
}

static wf_engine *engine(void) {
  wf_engine *e = wft_engine(NULL);
  wft_register(e, FN "Answer", answer, NULL, WF_HANDLER_INLINE);
  wft_register(e, FN "Refuse", refuse, NULL, WF_HANDLER_INLINE);
  return e;
}

static void expect(wf_engine *e, const char *def, const char *input,
                   const char *output) {
  wf_machine *m = wft_load(def);
  wf_execution *x = wft_run(e, m, input, NULL);
  if (wf_execution_status(x) != WF_EXEC_SUCCEEDED)
    cr_assert_fail("failed: %s: %s", wf_execution_error(x),
                   wf_execution_cause(x));
  wft_assert_succeeded(x, output);
  wf_execution_free(x);
  wf_machine_free(m);
}

/* An execution that must fail (reading a variable its scope lacks). */
static void expect_failed(wf_engine *e, const char *def, const char *input) {
  wf_machine *m = wft_load(def);
  wf_execution *x = wft_run(e, m, input, NULL);
  cr_expect_eq(wf_execution_status(x), WF_EXEC_FAILED, "output %s",
               wf_execution_output(x));
  wf_execution_free(x);
  wf_machine_free(m);
}

/* A Task's Assign reads its result before ResultSelector. */
Test(variables, a_task_assigns_from_its_raw_result) {
  wf_engine *e = engine();
  expect(e,
         "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
         "\"" FN "Answer\",\"ResultSelector\":{\"s.$\":\"$.status\"},"
         "\"Assign\":{\"id.$\":\"$.body.id\"},\"Next\":\"P\"},"
         "\"P\":{\"Type\":\"Pass\",\"Parameters\":{\"id.$\":\"$id\","
         "\"in.$\":\"$\"},\"End\":true}}}",
         "{}", "{\"id\":41,\"in\":{\"s\":200}}");
  wf_engine_free(e);
}

/* A Catch's Assign reads the error output; the failed state assigns
 * nothing. */
Test(variables, a_catch_assigns_from_the_error_output) {
  wf_engine *e = engine();
  expect(e,
         "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
         "\"" FN "Refuse\",\"Assign\":{\"never\":1},\"Catch\":[{"
         "\"ErrorEquals\":[\"States.ALL\"],\"Assign\":{\"why.$\":\"$.Cause\","
         "\"what.$\":\"$.Error\"},\"ResultPath\":null,\"Next\":\"P\"}],"
         "\"End\":true},\"P\":{\"Type\":\"Pass\",\"Parameters\":{\"why.$\":"
         "\"$why\",\"what.$\":\"$what\",\"never.$\":\"States.ArrayLength("
         "States.Array())\"},\"End\":true}}}",
         "{}",
         "{\"why\":\"no such item\",\"what\":\"Bad.Request\",\"never\":0}");
  /* "$never" was never assigned: reading it fails the state. */
  expect_failed(
      e,
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Refuse\",\"Assign\":{\"never\":1},\"Catch\":[{"
      "\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"P\"}],\"End\":true},"
      "\"P\":{\"Type\":\"Pass\",\"InputPath\":\"$never\",\"End\":true}}}",
      "{}");
  wf_engine_free(e);
}

/* The matching rule's Assign; the state's own only with Default. */
Test(variables, a_choice_assigns_by_the_rule_it_takes) {
  wf_engine *e = engine();
  const char *def =
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":"
      "[{\"Variable\":\"$.n\",\"NumericGreaterThan\":10,\"Assign\":{\"size\":"
      "\"big\",\"n.$\":\"$.n\"},\"Next\":\"P\"}],\"Default\":\"P\","
      "\"Assign\":{\"size\":\"small\"}},\"P\":{\"Type\":\"Pass\","
      "\"Parameters\":{\"size.$\":\"$size\"},\"End\":true}}}";
  expect(e, def, "{\"n\":50}", "{\"size\":\"big\"}");
  expect(e, def, "{\"n\":5}", "{\"size\":\"small\"}");
  wf_engine_free(e);
}

/* Every reference in a state reads the values of its entry: a state that
 * assigns x and reads $x in the same Assign, Parameters or OutputPath
 * sees the old x. A Wait's Assign reads its input. */
Test(variables, a_state_reads_the_values_of_its_entry) {
  wf_engine *e = engine();
  expect(e,
         "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Assign\":{"
         "\"x\":1},\"Next\":\"B\"},\"B\":{\"Type\":\"Pass\",\"Parameters\":{"
         "\"seen.$\":\"$x\"},\"Assign\":{\"x\":2,\"old.$\":\"$x\"},"
         "\"Next\":\"W\"},\"W\":{\"Type\":\"Wait\",\"Seconds\":0,\"Assign\":{"
         "\"waited.$\":\"$.seen\"},\"Next\":\"D\"},\"D\":{\"Type\":\"Pass\","
         "\"Parameters\":{\"x.$\":\"$x\",\"old.$\":\"$old\",\"waited.$\":"
         "\"$waited\",\"seen.$\":\"$.seen\"},\"End\":true}}}",
         "{}", "{\"x\":2,\"old\":1,\"waited\":1,\"seen\":1}");
  wf_engine_free(e);
}

/* Branches and iterations read outer variables; what they assign stays
 * inside them. */
Test(variables, inner_scopes_read_outward_and_keep_their_own) {
  wf_engine *e = engine();
  expect(e,
         "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Assign\":{"
         "\"base\":100,\"tag\":\"outer\"},\"Next\":\"M\"},"
         "\"M\":{\"Type\":\"Map\",\"ItemsPath\":\"$.xs\",\"ItemProcessor\":{"
         "\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Pass\",\"Assign\":{"
         "\"tag\":\"inner\",\"mine.$\":\"$\"},\"Next\":\"J\"},\"J\":{\"Type\":"
         "\"Pass\",\"Parameters\":{\"sum.$\":\"States.MathAdd($mine, $base)\","
         "\"tag.$\":\"$tag\"},\"End\":true}}},\"ResultPath\":\"$.m\","
         "\"Next\":\"Par\"},"
         "\"Par\":{\"Type\":\"Parallel\",\"Branches\":[{\"StartAt\":\"B\","
         "\"States\":{\"B\":{\"Type\":\"Pass\",\"Parameters\":{\"b.$\":"
         "\"$base\"},\"End\":true}}}],\"ResultPath\":\"$.p\",\"Next\":\"D\"},"
         "\"D\":{\"Type\":\"Pass\",\"Parameters\":{\"m.$\":\"$.m\",\"p.$\":"
         "\"$.p\",\"tag.$\":\"$tag\"},\"End\":true}}}",
         "{\"xs\":[1,2]}",
         "{\"m\":[{\"sum\":101,\"tag\":\"inner\"},{\"sum\":102,\"tag\":"
         "\"inner\"}],\"p\":[{\"b\":100}],\"tag\":\"outer\"}");
  /* An iteration's own variable is not seen after the Map. */
  expect_failed(
      e,
      "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\",\"ItemProcessor\":"
      "{\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Pass\",\"Assign\":{"
      "\"mine.$\":\"$\"},\"End\":true}}},\"Next\":\"D\"},\"D\":{\"Type\":"
      "\"Pass\",\"InputPath\":\"$mine\",\"End\":true}}}",
      "[1]");
  wf_engine_free(e);
}

/* A distributed Map's child executions read nothing outside themselves. */
Test(variables, a_distributed_child_sees_no_outer_variable) {
  wf_engine *e = engine();
  expect_failed(
      e,
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Assign\":{"
      "\"outer\":1},\"Next\":\"M\"},\"M\":{\"Type\":\"Map\",\"ItemProcessor\":"
      "{\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":"
      "\"STANDARD\"},\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Pass\","
      "\"InputPath\":\"$outer\",\"End\":true}}},\"End\":true}}}",
      "[1]");
  wf_engine_free(e);
}

/* AWS's StateExited event names what the state assigned, each value as
 * its JSON text. */
Test(variables, state_exited_events_carry_the_assigned_variables) {
  wf_engine *e = engine();
  wf_machine *m = wft_load(
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Assign\":{"
      "\"x\":42,\"s\":\"hi\",\"o.$\":\"$\"},\"Next\":\"B\"},\"B\":{\"Type\":"
      "\"Pass\",\"End\":true}}}");
  wf_execution *x = wft_run(e, m, "{\"k\":1}", NULL);
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  json_t *a = json_object_get(json_array_get(events, 2),
                              "stateExitedEventDetails");
  json_t *want = json_pack("{s:s,s:s,s:s}", "x", "42", "s", "\"hi\"", "o",
                           "{\"k\":1}");
  cr_expect(json_equal(json_object_get(a, "assignedVariables"), want),
            "assignedVariables: %s", json_dumps(a, 0));
  cr_expect(json_is_false(json_object_get(
      json_object_get(a, "assignedVariablesDetails"), "truncated")));
  /* A state that assigns nothing says nothing of it. */
  json_t *b = json_object_get(json_array_get(events, 4),
                              "stateExitedEventDetails");
  cr_expect_null(json_object_get(b, "assignedVariables"));
  json_decref(want);
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}
