/* A field of a JSONata state ("QueryLanguage": "JSONata"): a JSON value in
 * which every string written "{% … %}" is a JSONata expression, at any
 * depth (Arguments, Output, Assign, Items, ItemSelector, a Choice rule's
 * Condition, Seconds, TimeoutSeconds, Error, ...).
 *
 * Compiled once when the definition loads, with AWS's checks: an
 * expression that does not parse is INVALID_JSONATA_EXPRESSION (the
 * parser's message), a reference to the input at the top level of an
 * expression (a bare field name, "$" or "$$") or to $states.errorOutput
 * outside a Catcher is UNSUPPORTED_JSONATA_EXPRESSION, all at the
 * location of the string. Evaluated any number of times, by any number of
 * threads at once; a failure is States.QueryEvaluationError with AWS's
 * cause, naming the expression and where it sits ("Output/a/b[0]"). */
#ifndef WF_JSONATA_FIELD_H
#define WF_JSONATA_FIELD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "eval.h"
#include "jsonata.h"
#include "workflow/machine.h"

typedef struct wf__jfield wf__jfield;

/* AWS's error for every failure of a JSONata expression at run time. */
#define WF__QUERY_ERROR "States.QueryEvaluationError"

/* True for a string AWS takes as an expression: it starts with "{%" and
 * ends with "%}", nothing outside them. */
bool wf__jsonata_is_expr(const json_t *v);

/* A Catcher's Output and Assign: $states.errorOutput exists there (and
 * is refused anywhere else, as AWS does). */
#define WF__JFIELD_ERROR_OUTPUT 1u

/**
 * Compile a field's value (borrowed, not retained).
 * @param field the name causes give it ("Output", "Choices[0]/Condition").
 * @param flags WF__JFIELD_*.
 * @param location where diagnostics go ("/States/S/Output"); nested
 *        values add "/key" and "[i]".
 * @return the field, or NULL after recording diagnostics (or, short of
 *         memory, diags->oom).
 * Threads: any.
 */
wf__jfield *wf__jfield_compile(json_t *value, const char *field,
                               unsigned flags, wf_diagnostics *diags,
                               const char *location);
void wf__jfield_free(wf__jfield *f);

/* The expression's text as AWS quotes it (between the delimiters, blanks
 * trimmed) when the whole field is one expression; NULL otherwise. */
const char *wf__jfield_text(const wf__jfield *f);

/* Whether an expression of the field may read $states.context (false
 * when every $states in it is the head of a path into $states.input,
 * .result or .errorOutput): building the context can then be skipped. */
bool wf__jfield_reads_context(const wf__jfield *f);
/* Whether its values' numbers are all as a JSONata result has them (no
 * whole real, no integer past 2^53): its expressions' results are, and
 * it has no literal part that is not. */
bool wf__jfield_normal(const wf__jfield *f);
/* Whether the field is one expression, nothing written around it (its
 * value is that expression's result). */
bool wf__jfield_is_expr(const wf__jfield *f);

/* The top-level keys of an object field (Assign's variable names) and
 * their count; 0 for any other field. */
size_t wf__jfield_key_count(const wf__jfield *f);
const char *wf__jfield_key(const wf__jfield *f, size_t i);

/**
 * Build the field's value: literals as written, each expression's result
 * in its place.
 * @param[out] out a new reference.
 * @param[out] size optional: an upper bound of the value's compact text
 *             size (as wf__json_size counts it; reals at their longest),
 *             found while it is made, so it need not be measured again.
 * @param vars what the expressions see ($states, variables, the time).
 * @param budget charged by every expression (its CPU-time bound applies).
 * @return 0, or -1 with `fault` set: WF__QUERY_ERROR with AWS's cause (an
 *         expression that failed, or gave nothing), or the budget's fault
 *         (wf__fault_spent) for a result past the payload limit or memory.
 * Threads: any number at once on the same field.
 */
int wf__jfield_eval(json_t **out, size_t *size, const wf__jfield *f,
                    const wf__jsonata_bindings *vars, wf__budget *budget,
                    wf__fault *fault);

/* The cause AWS gives when a field's value has the wrong type:
 * "The JSONata expression '<text>' specified for the field '<field>'
 * returned an unexpected result type. Expected '<want>', but was '<type>'
 * for value: <json>". Sets `fault` (WF__QUERY_ERROR); returns -1. */
int wf__jfield_type_fault(wf__fault *fault, const wf__jfield *f,
                          const char *want, json_t *value);
/* The same for a number outside [min, max]: "... returned an unexpected
 * value: <json> is out of range [<min>, <max>]" (ours: AWS's words are not
 * recorded). Returns -1. */
int wf__jfield_range_fault(wf__fault *fault, const wf__jfield *f,
                           json_t *value, int64_t min, int64_t max);

#endif
