/* The interpreter: each state type's handler advances a frame by one
 * state; the loop in frame.c calls them until the frame parks (waiting for
 * a task, a timer or its children) or finishes. */
#ifndef WF_STEP_H
#define WF_STEP_H

#include "engine_impl.h"

typedef enum wf__step {
  WF__STEP_NEXT, /* moved to another state: keep going */
  WF__STEP_PARK, /* waiting for something outside */
  WF__STEP_END   /* the frame finished */
} wf__step;

wf__step wf__run_pass(wf__frame *f, const wf__state *st);
wf__step wf__run_task(wf__frame *f, const wf__state *st);
wf__step wf__run_choice(wf__frame *f, const wf__state *st);
wf__step wf__run_wait(wf__frame *f, const wf__state *st);
wf__step wf__run_succeed(wf__frame *f, const wf__state *st);
wf__step wf__run_fail(wf__frame *f, const wf__state *st);
wf__step wf__run_parallel(wf__frame *f, const wf__state *st);
wf__step wf__run_map(wf__frame *f, const wf__state *st);

/* state_common.c */
/* Record StateEntered and reset the per-visit state. */
void wf__state_enter(wf__frame *f, const wf__state *st);
/* InputPath applied to the raw input; -1 with fault set on failure. */
int wf__state_input(wf__frame *f, const wf__state *st, json_t **out,
                    wf__fault *fault);
/* OutputPath applied to `doc` (borrowed); -1 with fault set on failure. */
int wf__state_output(wf__frame *f, const wf__state *st, json_t *doc,
                     json_t **out, wf__fault *fault);
/* The state's work input from its (filtered) input `eff` (stolen):
 * Parameters (JSONPath) or Arguments (JSONata) when it has them, else
 * `eff` itself. -1 with the fault set. */
int wf__state_arguments(wf__frame *f, const wf__state *st, json_t *eff,
                        json_t **out, wf__fault *fault);
/* Leave the state with `output` (stolen): StateExited, then go to
 * `next` (-1: the frame ends). */
wf__step wf__state_leave(wf__frame *f, const wf__state *st, json_t *output,
                         int next);
/* ResultSelector, ResultPath and OutputPath applied to a raw result
 * (stolen), then leave to st->next. */
wf__step wf__state_result(wf__frame *f, const wf__state *st, json_t *result);
/* A run-time failure raised by the interpreter: States.Runtime and the like,
 * with AWS's "An error occurred while executing the state ..." prefix. Not
 * retried or caught when `error` is States.Runtime. */
wf__step wf__state_fault(wf__frame *f, const wf__state *st, wf__fault *fault);
/* The same, never retried or caught (a failure inside a Catcher). */
wf__step wf__state_fault_final(wf__frame *f, const wf__state *st,
                               wf__fault *fault);
/* An error of the state (task failure, branch failure): Retry, then Catch,
 * else the frame fails. */
wf__step wf__state_error(wf__frame *f, const wf__state *st, const char *error,
                         const char *cause);
/* End the frame with a failure. */
wf__step wf__frame_fail(wf__frame *f, const char *error, const char *cause);
/* End the frame successfully with `output` (stolen). */
wf__step wf__frame_succeed(wf__frame *f, json_t *output);
/* Park the frame until a timer `delay_ms` from now wakes it in `phase`. */
wf__step wf__frame_sleep(wf__frame *f, int64_t delay_ms, wf__phase phase);

/* Leave as wf__state_leave does, after checking `output` (stolen) against
 * the payload limit (States.DataLimitExceeded). */
wf__step wf__state_leave_checked(wf__frame *f, const wf__state *st,
                                 json_t *output, int next);
/* The same for an output whose size has an upper bound known already: it
 * is measured only when the bound passes the limit. `normal`: a JSONata
 * result made it (see wf__frame.input_normal). */
wf__step wf__state_leave_sized(wf__frame *f, const wf__state *st,
                               json_t *output, size_t bound, bool normal,
                               int next);

/* query.c: JSONata states. */
/* Evaluate a field of the current state; $states holds input and
 * context. -1 with the fault set (States.QueryEvaluationError and AWS's
 * cause). */
int wf__ata_eval(json_t **out, wf__frame *f, const wf__jfield *field,
                 wf__fault *fault);
/* A field that must give an integer in [min, max], a number or a string
 * (new, wf__free). */
int wf__ata_integer(wf__frame *f, const wf__jfield *field, int64_t min,
                    int64_t max, int64_t *out, wf__fault *fault);
int wf__ata_number(wf__frame *f, const wf__jfield *field, double *out,
                   wf__fault *fault);
int wf__ata_string(wf__frame *f, const wf__jfield *field, char **out,
                   wf__fault *fault);
/* How a JSONata state leaves: which Assign and Output (the state's, a
 * Choice rule's or a Catcher's; NULL: none) and what $states adds. */
typedef struct wf__ata_exit {
  const wf__jfield *assign, *output;
  json_t *result, *error_output; /* borrowed, may be NULL */
} wf__ata_exit;
/* Assign, then Output (default `dflt`, stolen), then leave to `next`. */
wf__step wf__ata_leave(wf__frame *f, const wf__state *st,
                       const wf__ata_exit *exit, json_t *dflt, int next);

/* variables.c: workflow variables. */
/* The value of `name` seen from f (borrowed), NULL when never assigned. */
json_t *wf__vars_lookup(const wf__frame *f, const char *name);
/* Evaluate `assign` (NULL: nothing) with "$" = dollar and stage the values
 * until the state leaves; -1 with the fault set. */
int wf__vars_assign(wf__frame *f, const wf__template *assign, json_t *dollar,
                    wf__fault *fault);
/* Stage `values` (an object, stolen) as assign does; -1 with the fault
 * set when they cannot be kept. */
int wf__vars_stage(wf__frame *f, json_t *values, wf__fault *fault);
/* Count the variables of a frame restored from a snapshot toward the
 * execution's bound. */
void wf__vars_measure(wf__frame *f);
/* The state leaves: what it staged takes effect. */
void wf__vars_commit(wf__frame *f);
/* The state failed or is retried: what it staged is dropped. */
void wf__vars_discard(wf__frame *f);

/* test_state.c: a Map or Parallel under TestState answers from its mock
 * (the fan-out is not run). */
wf__step wf__probe_fanout(wf__frame *f, const wf__state *st);

/* Out of memory while stepping (state_common.c): wf__step_begin() before
 * each state's turn; wf__step_short_of_memory() tells whether an
 * allocation on this thread failed since; wf__frame_fail_memory() fails
 * the frame naming memory and the state. */
void wf__step_begin(void);
bool wf__step_short_of_memory(void);
wf__step wf__frame_fail_memory(wf__frame *f);

#endif
