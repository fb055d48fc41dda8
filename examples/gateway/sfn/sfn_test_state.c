/* TestState: one state run in isolation on the gateway's engine
 * (wf_engine_test_state), with AWS's request members, answer and errors:
 * InvalidDefinition for a definition that does not load,
 * InvalidExecutionInput for an input that is not JSON, ValidationException
 * for the rest. Clients send it to the `sync-` host, which the gateway
 * serves like any other (README: the sync- prefix). */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

/* AWS's payload limit on input, variables, context and mocked data. */
#define TEST_STATE_PAYLOAD_MAX 262144

static const char *const LEVELS[] = {"INFO", "DEBUG", "TRACE", NULL};
static const char *const MODES[] = {"STRICT", "PRESENT", "NONE", NULL};

static int index_of(const char *const *names, const char *s) {
  for (int i = 0; s && names[i]; i++)
    if (strcmp(names[i], s) == 0) return i;
  return 0;
}

/* The request's members into options (strings borrowed from the body). */
static bool read_request(gw_sfn_call *c, const char **definition,
                         wf_test_state_options *o) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  *definition = gw_sfn_str(&p, "definition", true, 1, 1048576);
  o->role_arn = gw_sfn_str(&p, "roleArn", false, 1, 256);
  o->input = gw_sfn_str(&p, "input", false, 0, TEST_STATE_PAYLOAD_MAX);
  o->inspection_level = (wf_inspection_level)index_of(
      LEVELS, gw_sfn_enum(&p, "inspectionLevel", LEVELS));
  o->reveal_secrets = gw_sfn_bool(&p, "revealSecrets", false);
  o->variables = gw_sfn_str(&p, "variables", false, 0, TEST_STATE_PAYLOAD_MAX);
  o->state_name = gw_sfn_str(&p, "stateName", false, 1, 80);
  o->context = gw_sfn_str(&p, "context", false, 0, TEST_STATE_PAYLOAD_MAX);
  json_t *mock = gw_sfn_struct(&p, "mock");
  if (mock) {
    o->mock_result = gw_sfn_str_in(&p, mock, "result", "mock.result", false,
                                   0, TEST_STATE_PAYLOAD_MAX);
    o->mock_validation = (wf_mock_validation)index_of(
        MODES, gw_sfn_enum_in(&p, mock, "fieldValidationMode",
                              "mock.fieldValidationMode", MODES));
    json_t *eo = gw_sfn_struct_in(&p, mock, "errorOutput");
    if (eo) {
      o->mock_error = gw_sfn_str_in(&p, eo, "error", "mock.errorOutput.error",
                                    false, 0, 256);
      o->mock_cause = gw_sfn_str_in(&p, eo, "cause", "mock.errorOutput.cause",
                                    false, 0, 32768);
      /* An errorOutput without an error still mocks a failure. */
      if (!o->mock_error) o->mock_error = "";
    }
  }
  json_t *sc = gw_sfn_struct(&p, "stateConfiguration");
  if (sc) {
    o->retrier_retry_count = (int)gw_sfn_int_in(
        &p, sc, "retrierRetryCount", "stateConfiguration.retrierRetryCount",
        false, 0, 2147483647LL, -1);
    o->error_caused_by_state = gw_sfn_str_in(
        &p, sc, "errorCausedByState", "stateConfiguration.errorCausedByState",
        false, 1, 80);
    o->map_iteration_failure_count = (int)gw_sfn_int_in(
        &p, sc, "mapIterationFailureCount",
        "stateConfiguration.mapIterationFailureCount", false, 0,
        2147483647LL, -1);
    o->map_item_reader_data = gw_sfn_str_in(
        &p, sc, "mapItemReaderData", "stateConfiguration.mapItemReaderData",
        false, 0, TEST_STATE_PAYLOAD_MAX);
  }
  return !gw_sfn_params_failed(&p, c);
}

static void refuse(gw_sfn_call *c, int rc, const wf_error *err) {
  switch (rc) {
    case WF_EINVALID: {
      char *text = gw_sfn_strf("Invalid State Machine Definition: '%s'",
                               err->message);
      if (text) gw_sfn_fail_text(c, "InvalidDefinition", text);
      else gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
      free(text);
      return;
    }
    case WF_EUNSUPPORTED: /* a state TestState does not run as given */
      gw_sfn_fail(c, "InvalidDefinition", "%s", err->message);
      return;
    case WF_EPARSE:
      gw_sfn_fail(c, "InvalidExecutionInput", "%s", err->message);
      return;
    case WF_EINVAL:
      gw_sfn_fail(c, "ValidationException", "%s", err->message);
      return;
    default:
      gw_sfn_error(c->resp, 500, "InternalFailure", "%s", wf_error_str(rc));
  }
}

/* A member of the answer when the result has it. */
static void put(json_t *o, const char *key, const char *value) {
  if (value) json_object_set_new(o, key, json_string(value));
}

void gw_sfn_test_state(gw_sfn_call *c) {
  const char *definition = NULL;
  wf_test_state_options o = WF_TEST_STATE_OPTIONS_INIT;
  if (!read_request(c, &definition, &o)) return;
  wf_test_state_result *r = NULL;
  wf_error err = {0};
  int rc = wf_engine_test_state(&r, c->g->engine, definition, &o, &err);
  if (rc != WF_OK) {
    refuse(c, rc, &err);
    return;
  }
  json_t *ans = json_object();
  put(ans, "output", wf_test_state_output(r));
  put(ans, "error", wf_test_state_error(r));
  put(ans, "cause", wf_test_state_cause(r));
  const char *inspection = wf_test_state_inspection(r);
  if (inspection)
    json_object_set_new(ans, "inspectionData", json_loads(inspection, 0, NULL));
  put(ans, "nextState", wf_test_state_next(r));
  put(ans, "status", wf_test_status_name(wf_test_state_status(r)));
  wf_test_state_result_free(r);
  gw_sfn_ok(c, ans);
}
