/* JSONPath as AWS Step Functions accepts it (Jayway JsonPath semantics).
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
 * (e.g. "unexpected character '(' at position 3"). *out is NULL on failure. */
int wf__jsonpath_compile(wf__jsonpath **out, const char *text, unsigned flags,
                         char *msg, size_t msglen);
void wf__jsonpath_free(wf__jsonpath *p);

const char *wf__jsonpath_text(const wf__jsonpath *p); /* as written */
wf__jp_root wf__jsonpath_root(const wf__jsonpath *p);
/* The variable's name (without '$') for WF__JP_ROOT_VARIABLE, else NULL. */
const char *wf__jsonpath_variable(const wf__jsonpath *p);
/* True when only names and single indexes follow the root (Jayway's
 * "definite" path): the result is one node, not an array of matches. */
bool wf__jsonpath_is_definite(const wf__jsonpath *p);
/* True for the bare root ("$", "$$" or "$name"). */
bool wf__jsonpath_is_root(const wf__jsonpath *p);

/* Evaluate against `doc` (the value the root designates).
 * Returns 0 with *out a new reference; for an indefinite path *out is a new
 * array of the matches (possibly empty).
 * Returns -1 when a definite path matches nothing or the path cannot be
 * applied; `detail` then receives Jayway's message, e.g.
 *   "No results for path: $['x']"            (last segment missing)
 *   "Missing property in path $['no']"       (an intermediate one missing)
 *   "Filter: [0] can only be applied to arrays. Current context is: 1" */
int wf__jsonpath_eval(json_t **out, const wf__jsonpath *p, json_t *doc,
                      wf__strbuf *detail);

/* Evaluate choosing the document by the path's root from env: input for
 * "$", env->context() for "$$", env->variable(name) for "$name". A variable
 * never assigned fails with -1 and a detail naming it. */
int wf__jsonpath_eval_env(json_t **out, const wf__jsonpath *p,
                          const wf__eval_env *env, wf__strbuf *detail);

/* ResultPath: return in *out a document equal to `doc` with `value` placed
 * at reference path p, copying only the containers along the path (the
 * rest is shared; `doc` and `value` are not modified; both borrowed).
 * "$" yields value itself. Missing intermediate object fields are created.
 * Returns -1 when the value cannot be placed (e.g. a field of a non-object,
 * an index past the end of an array); `detail` then gets AWS's
 * States.ResultPathMatchFailure cause. */
int wf__jsonpath_set(json_t **out, const wf__jsonpath *p, json_t *doc,
                     json_t *value, wf__strbuf *detail);

/* Append the Jayway normalised form of the path ("$['a'][0]['b']"). */
void wf__jsonpath_normalized(wf__strbuf *b, const wf__jsonpath *p);

#endif
