/* The definition compiler: checks a parsed definition as AWS Step Functions
 * does, recording every problem as a diagnostic, and builds the machine.
 * Shared by compile_*.c and choice.c; not used at run time. */
#ifndef WF_COMPILE_H
#define WF_COMPILE_H

#include <jansson.h>
#include <stdbool.h>

#include "diag.h"
#include "machine_impl.h"
#include "strbuf.h"

#define WF__SCHEMA "SCHEMA_VALIDATION_FAILED"

typedef struct wf__cctx {
  wf_diagnostics *diags;
  wf__strbuf loc; /* current location, "" meaning the root "/" */
  wf_machine_type type;
  wf__ql machine_ql;
  size_t nstates;
  /* Every state name seen, for DUPLICATE_STATE_NAME (names are unique in
   * the whole machine, nested scopes included). */
  json_t *names;
  /* The names of the scope being compiled (name -> state index), for
   * resolving Next, Default and Catch targets. */
  json_t *scope_names;
  /* Why the machine, valid ASL, cannot be run by this engine yet (the
   * first reason met: a Map reading items with ItemReader or writing
   * results with ResultWriter, a JSONata state); NULL: it can.
   * Executions are refused with it rather than run wrong. */
  char *unrunnable;
  /* The first Map state reading or writing Amazon S3 objects (ItemReader,
   * ResultWriter with a Resource): such a machine runs only on an engine
   * with an object store. NULL: none. */
  char *object_store_state;
} wf__cctx;

/* Note a reason the machine cannot run (the first one is kept). */
void wf__note_unrunnable(wf__cctx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Location handling. push returns a mark to pop back to. */
size_t wf__loc_push(wf__cctx *cx, const char *segment); /* appends "/seg" */
size_t wf__loc_index(wf__cctx *cx, size_t i);          /* appends "[i]" */
void wf__loc_pop(wf__cctx *cx, size_t mark);
const char *wf__loc(const wf__cctx *cx); /* "/" when at the root */

/* Record a SCHEMA_VALIDATION_FAILED at the current location, or at
 * current + "/field". */
void wf__cerr(wf__cctx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void wf__cerr_at(wf__cctx *cx, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with another code. */
void wf__cerr_code(wf__cctx *cx, const char *code, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Field readers. Each validates the type (recording AWS's message at
 * /…/field) and returns false when the field is absent or wrong. */
bool wf__get_string(wf__cctx *cx, json_t *obj, const char *field,
                    const char **out);
bool wf__get_bool(wf__cctx *cx, json_t *obj, const char *field, bool *out);
/* An integer in [min, max]; AWS rejects reals here. */
bool wf__get_int(wf__cctx *cx, json_t *obj, const char *field, int64_t min,
                 int64_t max, int64_t *out);
bool wf__get_number(wf__cctx *cx, json_t *obj, const char *field,
                    double *out);
/* Type name for messages, AWS style: STRING, INTEGER, NUMBER, BOOLEAN,
 * OBJECT, ARRAY, NULL. */
const char *wf__json_type_name(const json_t *v);

/* A path field (InputPath/OutputPath/ResultPath...) into *out. */
void wf__get_path_field(wf__cctx *cx, json_t *obj, const char *field,
                        unsigned flags, wf__path_field *out);
/* A required path compiled with flags; NULL (and a diagnostic) if bad. */
wf__jsonpath *wf__get_path(wf__cctx *cx, json_t *obj, const char *field,
                           unsigned flags);
/* A template field (Parameters, ResultSelector, ItemSelector, Assign...). */
wf__template *wf__get_template(wf__cctx *cx, json_t *obj, const char *field,
                               unsigned flags);

/* Mutual exclusion "There should only be one of the following fields:
 * [a, b]" at the current location; true when both are present. */
bool wf__exclusive(wf__cctx *cx, json_t *obj, const char *a, const char *b);

/* A field of the other query language, reported at the current location
 * with AWS's text: "The QueryLanguage is set to 'JSONPath', but field
 * 'Output' is only supported for the 'JSONata' QueryLanguage". `ql` is the
 * language in force. */
void wf__cerr_language(wf__cctx *cx, wf__ql ql, const char *field);
/* Assign (of a state, a Choice rule or a Catcher), when present: an
 * object whose keys are valid variable names. Records what is wrong;
 * false when it is not an object. */
bool wf__check_assign(wf__cctx *cx, json_t *obj, wf__ql ql);
/* A field of a JSONata state (expressions inside a literal), compiled for
 * the engine; `name` is how run-time causes call it (NULL: `field`).
 * NULL when absent or after recording diagnostics. */
wf__jfield *wf__get_jfield(wf__cctx *cx, json_t *obj, const char *field,
                           const char *name);
/* The same for a number or string field that may be a literal: NULL
 * unless it holds an expression. */
wf__jfield *wf__get_jfield_expr(wf__cctx *cx, json_t *obj, const char *field);

/* Duplicate the strings of an ErrorEquals array. */
char **wf__strings_dup(json_t *arr, size_t *n);
void wf__strings_free(char **v, size_t n);

/* Per state type. */
void wf__compile_task(wf__cctx *cx, json_t *js, wf__state *st);
void wf__compile_choice(wf__cctx *cx, json_t *js, wf__state *st);
void wf__compile_wait(wf__cctx *cx, json_t *js, wf__state *st);
void wf__compile_fail(wf__cctx *cx, json_t *js, wf__state *st);
void wf__compile_parallel(wf__cctx *cx, json_t *js, wf__state *st);
void wf__compile_map(wf__cctx *cx, json_t *js, wf__state *st);
/* Retry and Catch of a Task/Parallel/Map. */
void wf__compile_retry_catch(wf__cctx *cx, json_t *js, wf__state *st);
/* A nested scope (Parallel branch, Map processor): `obj` is the branch
 * object; returns NULL after recording diagnostics. */
wf__scope *wf__compile_scope(wf__cctx *cx, json_t *obj, wf__state *parent,
                             bool is_processor);
/* Resolve a transition target in cx->scope_names. Records
 * MISSING_TRANSITION_TARGET at current + "/field" when absent; -1 then. */
int wf__resolve_target(wf__cctx *cx, const char *field, const char *target);

/* The machine's own fields and its top-level scope (compile_scope.c). */
wf__scope *wf__compile_top(wf__cctx *cx, json_t *root, wf_machine *m);

/* True for the fields only a JSONPath Choice rule has: Variable, And, Or,
 * Not and the comparison operators (choice.c). */
bool wf__choice_is_jsonpath_key(const char *key);

/* Resource ARN recognition (resource.c). */
bool wf__resource_is_valid(const char *resource, wf_machine_type type,
                           const char **why);
/* The resource a Task is routed by (handlers, allowlists, history): an
 * integration ARN naming a region and account becomes its short form
 * ("arn:aws:states:us-east-1:123456789012:lambda:invoke" ->
 * "arn:aws:states:::lambda:invoke"); any other resource is itself. A new
 * string (wf__free); NULL without memory. */
char *wf__resource_route(const char *resource);

#endif
