/* Definitions as JSON text: loading never crashes; a definition that loads
 * loads again from its own text the same; and it runs (no handlers: its
 * tasks fail as unknown resources) on a virtual clock, bounded by the
 * history limit and the payload limit. */
#include "fuzz_support.h"
#include "workflow/workflow.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static wf_engine *engine;
static wf_clock *clock_;

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
  wf_machine *m = NULL;
  wf_error err;
  if (wf_machine_load_json(&m, text, NULL, &err) == WF_OK) {
    const char *canonical = wf_machine_definition(m);
    wf_machine *again = NULL;
    FZ_CHECK(wf_machine_load_json(&again, canonical, NULL, &err) == WF_OK,
             "its own text does not load: %s", err.message);
    FZ_CHECK(strcmp(wf_machine_definition(again), canonical) == 0,
             "loads differently from its own text");
    wf_machine_free(again);
    wf_execution *x = NULL;
    if (wf_engine_run(&x, engine, m, "{\"a\":[1,2,{\"b\":\"c\"}],\"n\":3}",
                      NULL, &err) == WF_OK)
      wf_execution_free(x);
    wf_machine_free(m);
  }
  free(text);
  return 0;
}
