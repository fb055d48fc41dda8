/* Choice rules (JSONPath): compiled once, evaluated per visit. */
#ifndef WF_CHOICE_H
#define WF_CHOICE_H

#include <jansson.h>
#include <stdbool.h>

#include "eval.h"

typedef struct wf__choice_rule wf__choice_rule;
struct wf__cctx;

/* Compile a rule object at the compile context's current location. A
 * top-level rule may carry Next, Assign and Comment (the caller reads
 * them); a nested one (inside And/Or/Not) may not. Returns NULL after
 * recording diagnostics. */
wf__choice_rule *wf__choice_rule_compile(struct wf__cctx *cx, json_t *rule,
                                         bool top);
void wf__choice_rule_free(wf__choice_rule *r);

/* Evaluate. Returns 0 with *out set, or -1 with fault set (States.Runtime
 * when the Variable, or a …Path operand, does not resolve). */
int wf__choice_rule_eval(bool *out, const wf__choice_rule *r,
                         const wf__eval_env *env, wf__fault *fault);

/* Compare two UTF-8 strings in UTF-16 code unit order, as Java's
 * String.compareTo does (AWS's string comparisons). */
int wf__utf16_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* StringMatches: '*' matches any run of characters; "\*" is a literal star
 * and "\\" a literal backslash. Returns 1 for a match, 0 for none, -1 for a
 * pattern ending in an unmatched backslash. */
int wf__wildcard_match(const char *pattern, const char *s);

#endif
