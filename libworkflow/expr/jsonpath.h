/* JSONPath as AWS Step Functions accepts it: Jayway JsonPath 2.0.0's syntax,
 * semantics and messages over Jackson's Map/List values (why 2.0.0 and not a
 * later Jayway: jsonpath_ast.h). So "$.a[-1]" is an out-of-bounds index,
 * "$.a[(@.length-1)]" is the last element, "['x']" names are taken literally
 * and filters know == != < <= > >= =~ and exists checks only.
 *
 * A path is compiled once, when the definition loads, and evaluated many
 * times. Evaluation never copies the document: a definite path returns the
 * node itself (with a new reference); an indefinite path returns a new array
 * holding references to the matches. */
#ifndef WF_JSONPATH_H
#define WF_JSONPATH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "eval.h"
#include "strbuf.h"

typedef struct wf__jsonpath wf__jsonpath;

/* Compile flags. */
enum {
  WF__JP_ALLOW_CONTEXT = 1u << 0,  /* "$$..." (the context object) allowed */
  WF__JP_ALLOW_VARIABLE = 1u << 1, /* "$name..." (a workflow variable) allowed */
  /* Reference path (ResultPath, Catch ResultPath, the *Path number fields):
   * only "$", ".name", "['name']" and "[n]"; no wildcard, slice, union,
   * filter, deep scan or function. */
  WF__JP_REFERENCE = 1u << 2,
};

typedef enum wf__jp_root {
  WF__JP_ROOT_INPUT,    /* $ */
  WF__JP_ROOT_CONTEXT,  /* $$ */
  WF__JP_ROOT_VARIABLE, /* $name */
} wf__jp_root;

/* Compile `text`. Returns 0, or -1 with a one-line reason in msg[msglen]
 * (Jayway's wording where it has one, e.g. "Space not allowed in path").
 * *out is NULL on failure. */
int wf__jsonpath_compile(wf__jsonpath **out, const char *text, unsigned flags,
                         char *msg, size_t msglen);
void wf__jsonpath_free(wf__jsonpath *p);

const char *wf__jsonpath_text(const wf__jsonpath *p); /* as written */
wf__jp_root wf__jsonpath_root(const wf__jsonpath *p);
/* The variable's name (without '$') for WF__JP_ROOT_VARIABLE, else NULL. */
const char *wf__jsonpath_variable(const wf__jsonpath *p);
/* True when only names and single indexes follow the root (Jayway's
 * "definite" path; "['a','b']" and "[(@.length-1)]" count too): the result
 * is one node, not an array of matches. */
bool wf__jsonpath_is_definite(const wf__jsonpath *p);
/* True for the bare root ("$", "$$" or "$name"). */
bool wf__jsonpath_is_root(const wf__jsonpath *p);

/* What wf__jsonpath_eval returns. */
enum {
  WF__JP_OK = 0,
  WF__JP_FAILED = -1,     /* the path cannot be applied; Jayway's message */
  WF__JP_NULL_INPUT = -2, /* "$" over a null input; AWS's complete cause */
  WF__JP_SPENT = -3,      /* the budget ran out (budget->spent says how:
                           * a result past max_result, the steps, the CPU
                           * time, a regex's limits, or out of memory) */
};

/* Evaluate against `doc` (the value the root designates), spending from
 * `budget` (NULL: a default budget for this call alone).
 * Returns 0 with *out a new reference; for an indefinite path *out is a new
 * array of the matches (possibly empty), never larger than the budget's
 * max_result as compact JSON: the evaluation stops as soon as it would be.
 * Returns WF__JP_FAILED when a definite path matches nothing or the path
 * cannot be applied (indefinite paths can fail too: "$.a[0,5]" over a short
 * array, a missing name after a slice); `detail` then receives Jayway's
 * message:
 *   "No results for path: $['x']"            (last segment missing)
 *   "Missing property in path $['no']"       (an intermediate one missing)
 *   "Filter: [0] can only be applied to arrays. Current context is: 1"
 *   "Index out of bounds when evaluating path $['a'][5]"  (also [-1]: AWS
 *                                             has no negative indexes)
 *   "Property ['x'] not found in path $['a']" (a name applied to a
 *                                             non-object)
 *   "The path $['a'] is null"                (an index applied to null)
 * AWS prints these as "Invalid path '<text>' : <detail>" for InputPath /
 * OutputPath and similar fields.
 * Returns WF__JP_NULL_INPUT for a "$" path (WF__JP_ROOT_INPUT) when `doc`
 * is JSON null or NULL: AWS applies no path to a null state input and
 * `detail` receives its complete cause, "Unable to apply Path
 * transformation to null or empty input." (not to be wrapped in "Invalid
 * path ...").
 * Returns WF__JP_SPENT when the budget is spent (before or during this
 * call; out of memory included): never reported as a missing path, see
 * wf__fault_spent(); `detail` receives the reason. */
int wf__jsonpath_eval(json_t **out, const wf__jsonpath *p, json_t *doc,
                      wf__budget *budget, wf__strbuf *detail);

/* Evaluate choosing the document by the path's root from env: input for
 * "$", env->context() for "$$", env->variable(name) for "$name", spending
 * env->budget. A variable never assigned fails with WF__JP_FAILED and a
 * detail naming it ("The variable '$x' is not defined"; AWS's wording for
 * this is not recorded). */
int wf__jsonpath_eval_env(json_t **out, const wf__jsonpath *p,
                          const wf__eval_env *env, wf__strbuf *detail);

/* ResultPath: return in *out a document equal to `doc` with `value` placed
 * at reference path p, copying only the containers along the path (the
 * rest is shared; `doc` and `value` are not modified; both borrowed).
 * "$" yields value itself. Missing (or null) intermediate object fields are
 * created as objects; an index replaces an existing element only.
 * Returns -1 when the value cannot be placed; `detail` then gets AWS's
 * complete cause, to be reported under WF__JP_SET_ERROR without the
 * "An error occurred while executing the state" prefix:
 *   "Unable to apply ReferencePath $.x to input \"text\""  (doc is not an
 *                                                       object or array)
 *   "Unable to apply step \"x\" to input [1,2]"        (a step that does
 *                                                       not fit; an index
 *                                                       step reads "[3]") */
int wf__jsonpath_set(json_t **out, const wf__jsonpath *p, json_t *doc,
                     json_t *value, wf__strbuf *detail);

/* The same, for a caller that owns `*doc` and gives it up: containers on
 * the path that nobody else references are updated in place instead of
 * copied. On success *doc is the result (the caller's reference moved to
 * it); on failure *doc is untouched and still the caller's. */
int wf__jsonpath_set_owned(json_t **doc, const wf__jsonpath *p, json_t *value,
                           wf__strbuf *detail);

/* The error AWS raises when ResultPath cannot be applied. The ASL spec
 * names States.ResultPathMatchFailure, but AWS reports this one (recorded
 * execution event, qiita.com/tsubasaogawa/items/4fe341bdb6ae7d2fd8ee). */
#define WF__JP_SET_ERROR "States.ReferencePathConflict"

/* Append the Jayway normalised form of the path ("$['a'][0]['b']"). The
 * root is always "$" (for "$$.a" and "$name.a" too), as Jayway sees the
 * path once AWS has picked the document. */
void wf__jsonpath_normalized(wf__strbuf *b, const wf__jsonpath *p);

#endif
