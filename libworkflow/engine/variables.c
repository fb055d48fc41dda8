/* Workflow variables (Assign, "$name") in JSONPath states.
 *
 * A frame is a scope: the top frame's states share one, each Parallel
 * branch and Map iteration has its own, reading outward through its
 * parents; a distributed Map's child execution reads nothing outside
 * itself. What a state assigns is staged while the state runs and takes
 * effect when it leaves (wf__state_leave), so every reference inside the
 * state, its own Assign included, reads the values from the state's entry;
 * an assignment inside a branch or iteration is never seen outside it.
 *
 * Where "$" points when Assign is evaluated (as AWS, and LocalStack's
 * recordings of it): a Pass state's result (Result or Parameters, else its
 * input); a Task, Parallel or Map state's result before ResultSelector; a
 * Wait's or Choice's input after InputPath (a Choice uses the matching
 * rule's Assign, its own only when it takes Default); a Catch's error
 * output ({"Error", "Cause"}), replacing what the failed state staged. */
#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "step.h"

json_t *wf__vars_lookup(const wf__frame *f, const char *name) {
  for (; f; f = f->parent) {
    json_t *v = f->vars ? json_object_get(f->vars, name) : NULL;
    if (v) return v;
    if (f->own_history) break; /* a distributed Map's child execution */
  }
  return NULL;
}

int wf__vars_assign(wf__frame *f, const wf__template *assign, json_t *dollar,
                    wf__fault *fault) {
  if (!assign) return 0;
  wf__eval_env env;
  wf__eval_env_init(&env, f, dollar);
  json_t *values = NULL;
  if (wf__template_eval(&values, assign, &env, fault) != 0) return -1;
  return wf__vars_stage(f, values, fault);
}

/* AWS's bounds: 256 KiB for one variable's value and for all the values
 * of one Assign, 10 MiB for all the variables of an execution (the causes
 * are ours: AWS's texts are not recorded). */
#define WF__VAR_MAX_BYTES 262144u
#define WF__VARS_MAX_BYTES 10485760

/* What a variable takes: its value's compact JSON and its name. */
static int64_t var_bytes(const char *name, const json_t *v) {
  return (int64_t)(wf__json_size(v, WF__VAR_MAX_BYTES) + strlen(name));
}

/* Check `values` against the bounds; *delta is what they add to the
 * frame's variables. */
static int over_limit(wf__frame *f, json_t *values, int64_t *delta,
                      wf__fault *fault) {
  const char *name;
  json_t *v;
  int64_t total = 0;
  *delta = 0;
  json_object_foreach(values, name, v) {
    int64_t size = var_bytes(name, v);
    if (size - (int64_t)strlen(name) > (int64_t)WF__VAR_MAX_BYTES)
      return wf__fault_set(fault, "States.DataLimitExceeded",
                           "The value assigned to the variable '%s' is "
                           "larger than the maximum of %u bytes",
                           name, WF__VAR_MAX_BYTES);
    total += size - (int64_t)strlen(name);
    json_t *old = f->vars ? json_object_get(f->vars, name) : NULL;
    *delta += size - (old ? var_bytes(name, old) : 0);
  }
  if (total > (int64_t)WF__VAR_MAX_BYTES)
    return wf__fault_set(fault, "States.DataLimitExceeded",
                         "The values of the Assign field are larger than "
                         "the maximum of %u bytes together",
                         WF__VAR_MAX_BYTES);
  if (atomic_load(&f->exec->vars_bytes) + f->pending_bytes + *delta >
      WF__VARS_MAX_BYTES)
    return wf__fault_set(fault, "States.DataLimitExceeded",
                         "The variables of the execution would take more "
                         "than the maximum of %d bytes",
                         WF__VARS_MAX_BYTES);
  return 0;
}

void wf__vars_measure(wf__frame *f) {
  const char *name;
  json_t *v;
  int64_t size = 0;
  json_object_foreach(f->vars, name, v) size += var_bytes(name, v);
  atomic_fetch_add(&f->exec->vars_bytes, size - f->vars_bytes);
  f->vars_bytes = size;
}

int wf__vars_stage(wf__frame *f, json_t *values, wf__fault *fault) {
  if (!json_is_object(values)) {
    json_decref(values);
    return wf__fault_set(fault, "States.Runtime",
                         "The Assign field did not give an object");
  }
  int64_t delta;
  if (over_limit(f, values, &delta, fault) != 0) {
    json_decref(values);
    return -1;
  }
  f->pending_bytes += delta;
  if (!f->pending_vars) {
    /* The frame's own object: a literal Assign gives the machine's, which
     * later assignments must not write into (the values are shared). */
    f->pending_vars = json_copy(values);
    json_decref(values);
    if (!f->pending_vars) {
      wf__budget_nomem(&f->budget);
      return wf__fault_spent(fault, &f->budget, "Assign");
    }
    return 0;
  }
  int rc = json_object_update(f->pending_vars, values);
  json_decref(values);
  if (rc != 0) {
    wf__budget_nomem(&f->budget);
    return wf__fault_spent(fault, &f->budget, "Assign");
  }
  return 0;
}

void wf__vars_commit(wf__frame *f) {
  json_t *p = f->pending_vars;
  if (!p) return;
  f->pending_vars = NULL;
  atomic_fetch_add(&f->exec->vars_bytes, f->pending_bytes);
  f->vars_bytes += f->pending_bytes;
  f->pending_bytes = 0;
  if (!f->vars) {
    f->vars = p;
    return;
  }
  /* A failure here is an allocation failure: the step fails for it
   * (wf__step_short_of_memory). */
  json_object_update(f->vars, p);
  json_decref(p);
}

void wf__vars_discard(wf__frame *f) {
  json_decref(f->pending_vars);
  f->pending_vars = NULL;
  f->pending_bytes = 0;
}
