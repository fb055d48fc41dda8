/* JSONPath, intrinsic functions and payload templates: the input is the
 * value of a Pass state's "v.$" (and, split at its first newline, of a
 * Choice rule's Variable): compiled at load, evaluated against a fixed
 * document. Never a crash; a definition refused names why. */
#include <jansson.h>

#include "fuzz_support.h"
#include "workflow/workflow.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wf_engine *engine;
static wf_clock *clock_;

static const char INPUT[] =
    "{\"a\":{\"b\":[1,2.5,\"x\",null,true,{\"c\":[3,4]}],\"s\":\"text\","
    "\"n\":-7,\"e\":\"\",\"o\":{}},\"list\":[{\"k\":1,\"v\":\"p\"},{\"k\":2,"
    "\"v\":\"q\"},{\"k\":3}],\"big\":12345678901234,\"f\":0.1}";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  if (wf_clock_virtual_new(&clock_, 1700000000000) != WF_OK) abort();
  o.clock = clock_;
  o.history = WF_HISTORY_OFF;
  o.seed = 1;
  o.payload_limit = 64 * 1024;
  if (wf_engine_new(&engine, &o, NULL) != WF_OK) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fz_text(data, size);
  char *nl = strchr(text, '\n');
  const char *variable = "$.a.n";
  if (nl) {
    *nl = '\0';
    variable = nl + 1;
  }
  json_t *def = json_pack(
      "{s:s, s:{s:{s:s, s:{s:s}, s:s}, s:{s:s, s:[{s:s, s:b, s:s}], "
      "s:s}, s:{s:s}}}",
      "StartAt", "P", "States", "P", "Type", "Pass", "Parameters", "v.$",
      text, "Next", "C", "C", "Type", "Choice", "Choices", "Variable",
      variable, "IsPresent", 1, "Next", "D", "Default", "D", "D", "Type",
      "Succeed");
  char *json = def ? json_dumps(def, JSON_COMPACT) : NULL;
  json_decref(def);
  wf_machine *m = NULL;
  wf_error err;
  if (json && wf_machine_load_json(&m, json, NULL, &err) == WF_OK) {
    wf_execution *x = NULL;
    if (wf_engine_run(&x, engine, m, INPUT, NULL, &err) == WF_OK)
      wf_execution_free(x);
    wf_machine_free(m);
  }
  free(json);
  free(text);
  return 0;
}
