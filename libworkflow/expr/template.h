/* Payload templates (Parameters, ResultSelector, ItemSelector, Assign,
 * Credentials): a JSON value in which keys ending in ".$" take a path or an
 * intrinsic call. Compiled once; literal subtrees are kept as shared jansson
 * values and only the dynamic parts are built per evaluation. */
#ifndef WF_TEMPLATE_H
#define WF_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "eval.h"
#include "workflow/machine.h"

typedef struct wf__template wf__template;

/* Compile `value` (borrowed). Problems are recorded in `diags` at
 * `location` (AWS reports them at the template field itself, e.g.
 * "/States/X/Parameters"). `path_flags` are WF__JP_* flags for the paths
 * inside. Returns NULL when anything was wrong (or on out-of-memory, which
 * also sets diags->oom). */
wf__template *wf__template_compile(json_t *value, unsigned path_flags,
                                   wf_diagnostics *diags,
                                   const char *location);
void wf__template_free(wf__template *t);

/* True when the template has no ".$" key anywhere: its value is constant. */
bool wf__template_is_static(const wf__template *t);

/* Build the value. Returns 0 with *out a new reference, or -1 with `fault`
 * set (States.Runtime for a path that matches nothing, the intrinsic's own
 * error otherwise). */
int wf__template_eval(json_t **out, const wf__template *t,
                      const wf__eval_env *env, wf__fault *fault);

/* For Assign: the top-level keys as written (".$" stripped) and their
 * count, so the engine can check names against scopes. */
size_t wf__template_key_count(const wf__template *t);
const char *wf__template_key(const wf__template *t, size_t i);

#endif
