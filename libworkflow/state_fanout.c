/* Parallel and Map states. */
#include "step.h"

wf__step wf__run_parallel(wf__frame *f, const wf__state *st) {
  wf__state_enter(f, st);
  wf__fault fault = WF__FAULT_INIT;
  wf__fault_set(&fault, "States.Runtime",
                "Parallel states are not available in this build yet");
  return wf__state_fault(f, st, &fault);
}

wf__step wf__run_map(wf__frame *f, const wf__state *st) {
  wf__state_enter(f, st);
  wf__fault fault = WF__FAULT_INIT;
  wf__fault_set(&fault, "States.Runtime",
                "Map states are not available in this build yet");
  return wf__state_fault(f, st, &fault);
}
