/* Definitions as YAML text: loading never crashes, aliases cannot blow
 * it up, and a definition that loads is the machine its JSON twin (its
 * own canonical text) loads. */
#include "fuzz_support.h"
#include "workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fz_text(data, size);
  wf_machine *m = NULL;
  wf_error err;
  if (wf_machine_load_yaml(&m, text, NULL, &err) == WF_OK) {
    wf_machine *twin = NULL;
    FZ_CHECK(wf_machine_load_json(&twin, wf_machine_definition(m), NULL,
                                  &err) == WF_OK,
             "its JSON twin does not load: %s", err.message);
    FZ_CHECK(strcmp(wf_machine_definition(twin), wf_machine_definition(m)) ==
                 0,
             "its JSON twin is another machine");
    wf_machine_free(twin);
    wf_machine_free(m);
  }
  char *json = NULL;
  if (wf_yaml_to_json(&json, text, &err) == WF_OK) wf_string_free(json);
  free(text);
  return 0;
}
