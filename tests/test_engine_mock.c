/* Step Functions Local's MockConfigFile (wf_engine_set_mock_config and
 * wf_start_options.test_case; reference asl.md section 14): validation,
 * test-case selection, responses by invocation number, and how mocked
 * Return and Throw flow through Retry and Catch. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/workflow.h"

TestSuite(engine_mock, .timeout = 120);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"

/* Charge (mockable) then Ship (a real handler), as machine "Orders". */
static const char ORDERS[] =
    "{\"StartAt\":\"Charge\",\"States\":{\"Charge\":{\"Type\":\"Task\","
    "\"Resource\":\"" FN "Charge\",\"ResultPath\":\"$.charge\",\"Retry\":"
    "[{\"ErrorEquals\":[\"Lambda.TooManyRequestsException\"],"
    "\"IntervalSeconds\":1,\"MaxAttempts\":3}],\"Catch\":[{\"ErrorEquals\":"
    "[\"Payment.Declined\"],\"ResultPath\":\"$.error\",\"Next\":\"Declined\"}],"
    "\"Next\":\"Ship\"},\"Ship\":{\"Type\":\"Task\",\"Resource\":\"" FN
    "Ship\",\"ResultPath\":\"$.ship\",\"End\":true},\"Declined\":{\"Type\":"
    "\"Pass\",\"End\":true}}}";

static const char CONFIG[] =
    "{\"StateMachines\":{\"Orders\":{\"TestCases\":{"
    "  \"HappyPath\":{\"Charge\":\"ChargeOk\"},"
    "  \"Throttled\":{\"Charge\":\"ThrottledThenOk\"},"
    "  \"Declined\":{\"Charge\":\"Declined\"},"
    "  \"TooFew\":{\"Charge\":\"OnlyFirst\"},"
    "  \"Everything\":{\"Charge\":\"ChargeOk\",\"Ship\":\"ShipMock\"}}}},"
    " \"MockedResponses\":{"
    "  \"ChargeOk\":{\"0\":{\"Return\":{\"charged\":42}}},"
    "  \"ThrottledThenOk\":{"
    "    \"0\":{\"Throw\":{\"Error\":\"Lambda.TooManyRequestsException\","
    "                     \"Cause\":\"slow down\"}},"
    "    \"1-2\":{\"Throw\":{\"Error\":\"Lambda.TooManyRequestsException\","
    "                       \"Cause\":\"still too fast\"}},"
    "    \"3\":{\"Return\":[\"ok\",3]}},"
    "  \"Declined\":{\"0\":{\"Throw\":{\"Error\":\"Payment.Declined\","
    "                               \"Cause\":\"card expired\"}}},"
    "  \"OnlyFirst\":{\"0\":{\"Throw\":{\"Error\":"
    "                 \"Lambda.TooManyRequestsException\"}}},"
    "  \"ShipMock\":{\"0\":{\"Return\":\"mocked ship\"}}}}";

typedef struct calls {
  atomic_int charge, ship;
} calls;

static void real_charge(wf_task *t, void *payload) {
  atomic_fetch_add(&((calls *)payload)->charge, 1);
  wf_task_succeed(t, "\"real charge\"");
}

static void real_ship(wf_task *t, void *payload) {
  atomic_fetch_add(&((calls *)payload)->ship, 1);
  wf_task_succeed(t, "\"real ship\"");
}

typedef struct mocked {
  wf_clock *clock;
  wf_engine *engine;
  wf_machine *machine;
  calls calls;
} mocked;

/* Fills *m in place: the handlers keep a pointer to m->calls. */
static void mocked_init(mocked *m) {
  memset(m, 0, sizeof *m);
  m->engine = wft_virtual_engine(&m->clock, WF_HISTORY_FULL);
  wf_error err;
  cr_assert_eq(wf_engine_set_mock_config(m->engine, CONFIG, &err), WF_OK,
               "%s", err.message);
  wf_engine_register_handler(m->engine, FN "Charge", real_charge, &m->calls,
                             0, NULL);
  wf_engine_register_handler(m->engine, FN "Ship", real_ship, &m->calls, 0,
                             NULL);
  m->machine = wft_load_named(ORDERS, "Orders");
}

static void mocked_free(mocked *m) {
  wf_machine_free(m->machine);
  wf_engine_free(m->engine);
  wf_clock_free(m->clock);
}

static wf_execution *run_case(mocked *m, const char *test_case) {
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.test_case = test_case;
  return wft_run(m->engine, m->machine, "{\"order\":1}", &so);
}

/* ---- selection ---- */

Test(engine_mock, test_case_answers_its_states_and_leaves_the_others_real) {
  mocked m;
  mocked_init(&m);
  wf_execution *x = run_case(&m, "HappyPath");
  wft_assert_succeeded(x, "{\"order\":1,\"charge\":{\"charged\":42},"
                          "\"ship\":\"real ship\"}");
  cr_assert_eq(atomic_load(&m.calls.charge), 0);
  cr_assert_eq(atomic_load(&m.calls.ship), 1);
  wf_execution_free(x);
  mocked_free(&m);
}

Test(engine_mock, without_a_test_case_every_state_is_real) {
  mocked m;
  mocked_init(&m);
  wf_execution *x = run_case(&m, NULL);
  wft_assert_succeeded(x, "{\"order\":1,\"charge\":\"real charge\","
                          "\"ship\":\"real ship\"}");
  wf_execution_free(x);
  mocked_free(&m);
}

Test(engine_mock, every_named_state_is_mocked) {
  mocked m;
  mocked_init(&m);
  wf_execution *x = run_case(&m, "Everything");
  wft_assert_succeeded(x, "{\"order\":1,\"charge\":{\"charged\":42},"
                          "\"ship\":\"mocked ship\"}");
  cr_assert_eq(atomic_load(&m.calls.charge) + atomic_load(&m.calls.ship), 0);
  wf_execution_free(x);
  mocked_free(&m);
}

Test(engine_mock, unknown_test_case_or_machine_is_einval) {
  mocked m;
  mocked_init(&m);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.test_case = "NoSuchCase";
  wf_error err;
  wft_assert_start_refused(m.engine, m.machine, NULL, &so, WF_EINVAL, &err);
  cr_assert(strstr(err.message, "NoSuchCase"), "%s", err.message);
  /* The test cases belong to the machine named "Orders". */
  wf_machine *other = wft_load_named(ORDERS, "Billing");
  so.test_case = "HappyPath";
  wft_assert_start_refused(m.engine, other, NULL, &so, WF_EINVAL, &err);
  cr_assert(strstr(err.message, "Billing"), "%s", err.message);
  wf_machine_free(other);
  mocked_free(&m);
}

Test(engine_mock, test_case_without_any_configuration_is_einval) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load_named(ORDERS, "Orders");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.test_case = "HappyPath";
  wf_execution *x = NULL;
  cr_assert_eq(wf_engine_start(&x, e, m, NULL, &so, NULL), WF_EINVAL);
  cr_assert_null(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_mock, null_configuration_removes_it) {
  mocked m;
  mocked_init(&m);
  cr_assert_eq(wf_engine_set_mock_config(m.engine, NULL, NULL), WF_OK);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.test_case = "HappyPath";
  wf_execution *x = NULL;
  cr_assert_eq(wf_engine_start(&x, m.engine, m.machine, NULL, &so, NULL),
               WF_EINVAL);
  cr_assert_null(x);
  mocked_free(&m);
}

/* ---- responses by invocation ---- */

Test(engine_mock, ranges_answer_each_retry_until_the_return) {
  mocked m;
  mocked_init(&m);
  wf_execution *x = run_case(&m, "Throttled");
  /* Invocations 0, 1 and 2 throw, 3 returns; back-offs of 1, 2, 4 s. */
  wft_assert_succeeded(x, "{\"order\":1,\"charge\":[\"ok\",3],"
                          "\"ship\":\"real ship\"}");
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x), 7000);
  cr_assert_eq(atomic_load(&m.calls.charge), 0);
  /* Each retry is an invocation: four scheduled Lambda calls. */
  char *types = wft_event_types(x);
  int scheduled = 0;
  for (const char *p = types; (p = strstr(p, "LambdaFunctionScheduled"));
       p++)
    scheduled++;
  free(types);
  cr_assert_eq(scheduled, 5); /* four for Charge, one for Ship */
  wf_execution_free(x);
  mocked_free(&m);
}

Test(engine_mock, throw_is_caught_like_a_real_error) {
  mocked m;
  mocked_init(&m);
  wf_execution *x = run_case(&m, "Declined");
  wft_assert_succeeded(x, "{\"order\":1,\"error\":{\"Error\":"
                          "\"Payment.Declined\",\"Cause\":\"card expired\"}}");
  cr_assert_eq(atomic_load(&m.calls.ship), 0);
  wf_execution_free(x);
  mocked_free(&m);
}

Test(engine_mock, invocation_without_a_response_is_states_runtime) {
  mocked m;
  mocked_init(&m);
  wf_execution *x = run_case(&m, "TooFew");
  /* Invocation 0 throws and is retried; invocation 1 has no entry. */
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "States.Runtime");
  const char *cause = wf_execution_cause(x);
  cr_assert_not_null(cause);
  cr_assert(strstr(cause, "'Charge'"), "cause: %s", cause);
  cr_assert(strstr(cause, "invocation 1"), "cause: %s", cause);
  wf_execution_free(x);
  mocked_free(&m);
}

/* Blocks on a gate: keeps the engine busy so virtual time stands still. */
static void block_on_gate(wf_task *t, void *payload) {
  wft_gate_wait(payload, WFT_WAIT_MS);
  wf_task_succeed(t, "{}");
}

Test(engine_mock, running_executions_keep_the_configuration_they_started_with) {
  mocked m;
  mocked_init(&m);
  wft_gate release = WFT_GATE_INIT;
  wf_engine_register_handler(m.engine, FN "Block", block_on_gate, &release, 0,
                             NULL);
  wf_machine *busy = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Block\",\"End\":true}}}");
  wf_machine *later = wft_load_named(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":10,"
      "\"Next\":\"Charge\"},\"Charge\":{\"Type\":\"Task\",\"Resource\":\"" FN
      "Charge\",\"End\":true}}}",
      "Orders");
  wf_execution *b = wft_start(m.engine, busy, NULL, NULL);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.test_case = "HappyPath";
  wf_execution *x = wft_start(m.engine, later, NULL, &so);
  /* Replaced while x waits: x still answers from the first one. */
  cr_assert_eq(wf_engine_set_mock_config(
                   m.engine,
                   "{\"StateMachines\":{\"Orders\":{\"TestCases\":{"
                   "\"HappyPath\":{\"Charge\":\"R\"}}}},\"MockedResponses\":"
                   "{\"R\":{\"0\":{\"Return\":\"second\"}}}}",
                   NULL),
               WF_OK);
  wft_gate_open(&release);
  wft_wait(b);
  wft_wait(x);
  wft_assert_succeeded(x, "{\"charged\":42}");
  /* A new execution sees the new one. */
  wf_execution *y = wft_run(m.engine, later, NULL, &so);
  wft_assert_succeeded(y, "\"second\"");
  wf_execution_free(b);
  wf_execution_free(x);
  wf_execution_free(y);
  wf_machine_free(busy);
  wf_machine_free(later);
  mocked_free(&m);
}

/* ---- validation ---- */

Test(engine_mock, configuration_that_is_not_json_is_eparse) {
  wf_engine *e = wft_engine(NULL);
  wf_error err;
  cr_assert_eq(wf_engine_set_mock_config(e, "{\"StateMachines\":", &err),
               WF_EPARSE);
  cr_assert_eq(err.code, WF_EPARSE);
  cr_assert_gt(err.line, 0);
  wf_engine_free(e);
}

Test(engine_mock, configuration_of_the_wrong_shape_is_einvalid_naming_it) {
  const struct {
    const char *json, *names;
  } cases[] = {
      {"[]", "JSON object"},
      {"{}", "StateMachines"},
      {"{\"StateMachines\":[]}", "StateMachines"},
      {"{\"StateMachines\":{},\"MockedResponses\":[]}", "MockedResponses"},
      {"{\"StateMachines\":{\"M\":{}}}", "StateMachines.M.TestCases"},
      {"{\"StateMachines\":{\"M\":{\"TestCases\":{\"C\":[]}}}}",
       "StateMachines.M.TestCases.C"},
      {"{\"StateMachines\":{\"M\":{\"TestCases\":{\"C\":{\"S\":1}}}}}",
       "StateMachines.M.TestCases.C.S"},
      {"{\"StateMachines\":{\"M\":{\"TestCases\":{\"C\":{\"S\":\"Nope\"}}}},"
       "\"MockedResponses\":{}}",
       "Nope"},
      {"{\"StateMachines\":{},\"MockedResponses\":{\"R\":[]}}",
       "MockedResponses.R"},
      {"{\"StateMachines\":{},\"MockedResponses\":{\"R\":{\"first\":"
       "{\"Return\":1}}}}",
       "'first'"},
      {"{\"StateMachines\":{},\"MockedResponses\":{\"R\":{\"2-1\":"
       "{\"Return\":1}}}}",
       "'2-1'"},
      {"{\"StateMachines\":{},\"MockedResponses\":{\"R\":{\"0\":{}}}}",
       "MockedResponses.R.0"},
      {"{\"StateMachines\":{},\"MockedResponses\":{\"R\":{\"0\":{\"Return\":"
       "1,\"Throw\":{\"Error\":\"E\"}}}}}",
       "MockedResponses.R.0"},
      {"{\"StateMachines\":{},\"MockedResponses\":{\"R\":{\"0\":{\"Throw\":"
       "{\"Cause\":\"no error\"}}}}}",
       "MockedResponses.R.0.Throw"},
  };
  wf_engine *e = wft_engine(NULL);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    wf_error err;
    int rc = wf_engine_set_mock_config(e, cases[i].json, &err);
    cr_assert_eq(rc, WF_EINVALID, "%s gave %s", cases[i].json,
                 wf_error_name(rc));
    cr_assert_eq(err.code, WF_EINVALID);
    cr_assert(strstr(err.message, cases[i].names),
              "message for %s does not name %s: %s", cases[i].json,
              cases[i].names, err.message);
  }
  wf_engine_free(e);
}

Test(engine_mock, rejected_configuration_leaves_the_previous_one) {
  mocked m;
  mocked_init(&m);
  cr_assert_eq(wf_engine_set_mock_config(m.engine, "{\"StateMachines\":[]}",
                                         NULL),
               WF_EINVALID);
  cr_assert_eq(wf_engine_set_mock_config(m.engine, "not json", NULL),
               WF_EPARSE);
  wf_execution *x = run_case(&m, "HappyPath");
  wft_assert_succeeded(x, "{\"order\":1,\"charge\":{\"charged\":42},"
                          "\"ship\":\"real ship\"}");
  wf_execution_free(x);
  mocked_free(&m);
}
