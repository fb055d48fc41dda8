/* MockConfigFile text (aws.mockConfigFile, wf_engine_set_mock_config):
 * any text is taken or refused with the field named, never a crash; when
 * taken, each test case it gives the machine "mocked" runs (on a virtual
 * clock): its Task states answer, throw or retry as the case says. */
#include <jansson.h>

#include "fuzz_support.h"
#include "workflow/workflow.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wf_engine *engine;
static wf_clock *clock_;
static wf_machine *machine;

static const char MACHINE[] =
    "{\"StartAt\":\"Call\",\"States\":{\"Call\":{\"Type\":\"Task\","
    "\"Resource\":\"arn:aws:lambda:us-east-1:123456789012:function:F\","
    "\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"],\"MaxAttempts\":2,"
    "\"IntervalSeconds\":1}],\"Next\":\"Items\"},\"Items\":{\"Type\":\"Map\","
    "\"ItemsPath\":\"$.items\",\"ItemProcessor\":{\"StartAt\":\"Each\","
    "\"States\":{\"Each\":{\"Type\":\"Task\",\"Resource\":"
    "\"arn:aws:states:::lambda:invoke\",\"Parameters\":{\"FunctionName\":"
    "\"G\"},\"End\":true}}},\"End\":true}}}";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  if (wf_clock_virtual_new(&clock_, 1700000000000) != WF_OK) abort();
  o.clock = clock_;
  o.history = WF_HISTORY_OFF;
  o.seed = 1;
  if (wf_engine_new(&engine, &o, NULL) != WF_OK) abort();
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.name = "mocked";
  if (wf_machine_load_json(&machine, MACHINE, &lo, NULL) != WF_OK) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fz_text(data, size);
  wf_error err;
  if (wf_engine_set_mock_config(engine, text, &err) == WF_OK) {
    json_t *doc = json_loads(text, 0, NULL);
    json_t *cases = json_object_get(
        json_object_get(json_object_get(doc, "StateMachines"), "mocked"),
        "TestCases");
    const char *name;
    json_t *v;
    int runs = 0;
    json_object_foreach(cases, name, v) {
      if (++runs > 4) break;
      wf_start_options so = WF_START_OPTIONS_INIT;
      so.test_case = name;
      wf_execution *x = NULL;
      if (wf_engine_run(&x, engine, machine, "{\"items\":[1,2,3]}", &so,
                        &err) == WF_OK)
        wf_execution_free(x);
    }
    json_decref(doc);
  }
  free(text);
  return 0;
}
