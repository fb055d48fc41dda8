/* Intrinsic functions (States.Format, States.Array, ...): parsed once when the
 * definition loads, evaluated at run time against an eval env. */
#ifndef WF_INTRINSIC_H
#define WF_INTRINSIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "eval.h"

typedef struct wf__intrinsic wf__intrinsic;

/* True when text looks like an intrinsic call ("States.Name(" after
 * optional blanks), so the caller knows to compile it as one rather than as
 * a path. Case-sensitive, as AWS is ("States.format" is not a function). */
bool wf__intrinsic_is_call(const char *text);

/* Parse and check a call: known function names (exact case), the call
 * grammar, string-literal escapes (\' \{ \} \\ only), at most 10 calls
 * per field, paths (compiled with the given WF__JP_* flags). What AWS only
 * finds when the call runs (argument counts, argument types, Format
 * templates and their placeholder count) is left to wf__intrinsic_eval,
 * which fails with States.Runtime as AWS does.
 * Returns 0, or -1 with a one-line reason in msg[msglen]. */
int wf__intrinsic_compile(wf__intrinsic **out, const char *text,
                          unsigned path_flags, char *msg, size_t msglen);
void wf__intrinsic_free(wf__intrinsic *f);
const char *wf__intrinsic_text(const wf__intrinsic *f);

/* Evaluate. Returns 0 with *out a new reference, or -1 with fault set to
 * AWS's error name and cause: always States.Runtime, cause "The function
 * '<text>' had the following error: <detail>", the detail being e.g. "The
 * JsonPath argument for the field '$.x' could not be found in the input
 * '<input>'" or "Invalid arguments in States.MathAdd". A compiled call is
 * never modified, so any number of threads may evaluate it at once. */
int wf__intrinsic_eval(json_t **out, const wf__intrinsic *f,
                       const wf__eval_env *env, wf__fault *fault);

#endif
