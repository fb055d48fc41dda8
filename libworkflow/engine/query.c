/* JSONata states ("QueryLanguage": "JSONata"): what their expressions see
 * and how such a state leaves.
 *
 * An expression sees $states ({input, context} plus result after a Task,
 * Parallel or Map succeeded, errorOutput in a Catcher) and the workflow
 * variables as they were when the state was entered; $now() is the
 * engine's clock. A state leaves by evaluating Assign and Output side by
 * side (both read the same values; what Assign sets is seen from the next
 * state on), Output defaulting to the result (Task, Parallel, Map), the
 * error output (a Catcher) or the input (the others). */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "step.h"

typedef struct ata_scope {
  wf__frame *f;
  json_t *result, *error_output;
  bool context; /* the field may read $states.context */
  /* $states' members, listed on first use. */
  struct wf__jsonata_member states[4];
  size_t nstates;
} ata_scope;

static json_t *resolve(const char *name, void *payload) {
  ata_scope *s = payload;
  return wf__vars_lookup(s->f, name);
}

/* $states: {input, context, result, errorOutput}, each when it exists
 * (the context only for a field that may read it). */
static void list_states(ata_scope *s) {
  if (s->nstates) return;
  struct wf__jsonata_member *m = s->states;
  /* The input's size is known, and when a JSONata result made it, its
   * containers may be shared without looking into them. */
  m[s->nstates++] = (struct wf__jsonata_member){
      .name = "input", .value = s->f->input ? s->f->input : json_null(),
      .size = s->f->input_normal ? s->f->input_size : 0};
  json_t *ctx = s->context ? wf__context_get(s->f) : NULL;
  if (ctx)
    m[s->nstates++] = (struct wf__jsonata_member){.name = "context",
                                                  .value = ctx};
  if (s->result)
    m[s->nstates++] = (struct wf__jsonata_member){.name = "result",
                                                  .value = s->result};
  if (s->error_output)
    m[s->nstates++] = (struct wf__jsonata_member){.name = "errorOutput",
                                                  .value = s->error_output};
}

/* $now() and $millis() read the engine's clock (only those that call
 * them: reading it has a cost). */
static int64_t scope_now(void *payload) {
  int64_t now = wf__engine_now(((ata_scope *)payload)->f->exec->engine);
  return now ? now : 1; /* 0 would mean the wall clock */
}

/* Evaluate `field` in `scope` (its $states listed at most once, whatever
 * the fields evaluated in it). */
static int eval_in(ata_scope *scope, const wf__jfield *field, json_t **out,
                   size_t *size, wf__fault *fault) {
  wf__frame *f = scope->f;
  wf_engine *e = f->exec->engine;
  list_states(scope);
  wf__jsonata_bindings b = {.resolve = resolve, .payload = scope,
                            .record = "states", .members = scope->states,
                            .nrecord = scope->nstates,
                            .clock = scope_now, .aws = true};
  wf__budget_init(&f->budget, e->payload_limit, e->expression_cpu_ns);
  return wf__jfield_eval(out, size, field, &b, &f->budget, fault);
}

int wf__ata_eval(json_t **out, wf__frame *f, const wf__jfield *field,
                 wf__fault *fault) {
  ata_scope scope = {.f = f, .context = wf__jfield_reads_context(field)};
  return eval_in(&scope, field, out, NULL, fault);
}

wf__step wf__ata_leave(wf__frame *f, const wf__state *st,
                       const wf__ata_exit *exit, json_t *dflt, int next) {
  wf__fault fault = WF__FAULT_INIT;
  json_t *out = NULL;
  /* Assign and Output see the same $states: listed once for both. */
  ata_scope scope = {
      .f = f, .result = exit->result, .error_output = exit->error_output,
      .context = (exit->assign && wf__jfield_reads_context(exit->assign)) ||
                 (exit->output && wf__jfield_reads_context(exit->output))};
  if (exit->output && dflt == f->input) {
    /* Not needed: the frame holds the input. Let go now, so that an
     * Output made from the input may write it in place (it must be the
     * input's only holder). */
    json_decref(dflt);
    dflt = NULL;
  }
  if (exit->assign) {
    json_t *values;
    if (eval_in(&scope, exit->assign, &values, NULL, &fault) != 0)
      goto failed;
    if (wf__vars_stage(f, values, &fault) != 0) goto failed;
  }
  if (exit->output) {
    /* Its size is counted as it is made: not measured again. When it is
     * one expression, the input is given up to it (the frame's reference
     * is all that holds it, and the state leaves with the output): an
     * object merged from the input may be the input written in place. */
    list_states(&scope);
    scope.states[0].own = wf__jfield_is_expr(exit->output);
    size_t size;
    if (eval_in(&scope, exit->output, &out, &size, &fault) != 0) goto failed;
    json_decref(dflt);
    return wf__state_leave_sized(f, st, out, size,
                                 wf__jfield_normal(exit->output), next);
  } else if (dflt == f->input) {
    /* The input passed on: its size is known. */
    return wf__state_leave(f, st, dflt, next);
  }
  return wf__state_leave_checked(f, st, dflt, next);
failed:
  json_decref(dflt);
  /* A Catcher's own failure is not caught again. */
  return exit->error_output ? wf__state_fault_final(f, st, &fault)
                            : wf__state_fault(f, st, &fault);
}

/* ---- number and text fields ---- */

int wf__ata_integer(wf__frame *f, const wf__jfield *field, int64_t min,
                    int64_t max, int64_t *out, wf__fault *fault) {
  json_t *v;
  if (wf__ata_eval(&v, f, field, fault) != 0) return -1;
  double d = json_number_value(v);
  bool ok = json_is_integer(v) ||
            (json_is_real(v) && d == floor(d) && fabs(d) < 9.2e18);
  if (!ok) {
    wf__jfield_type_fault(fault, field, "integer", v);
    json_decref(v);
    return -1;
  }
  int64_t n = json_is_integer(v) ? json_integer_value(v) : (int64_t)d;
  if (n < min || n > max) {
    wf__jfield_range_fault(fault, field, v, min, max);
    json_decref(v);
    return -1;
  }
  json_decref(v);
  *out = n;
  return 0;
}

int wf__ata_number(wf__frame *f, const wf__jfield *field, double *out,
                   wf__fault *fault) {
  json_t *v;
  if (wf__ata_eval(&v, f, field, fault) != 0) return -1;
  if (!json_is_number(v)) {
    wf__jfield_type_fault(fault, field, "number", v);
    json_decref(v);
    return -1;
  }
  *out = json_number_value(v);
  json_decref(v);
  return 0;
}

int wf__ata_string(wf__frame *f, const wf__jfield *field, char **out,
                   wf__fault *fault) {
  json_t *v;
  if (wf__ata_eval(&v, f, field, fault) != 0) return -1;
  if (!json_is_string(v)) {
    wf__jfield_type_fault(fault, field, "string", v);
    json_decref(v);
    return -1;
  }
  *out = wf__strdup(json_string_value(v));
  json_decref(v);
  return 0;
}
