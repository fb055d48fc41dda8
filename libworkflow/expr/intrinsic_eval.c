/* Running a compiled intrinsic call: arguments first (paths, literals,
 * nested calls), then the function. Every failure is States.Runtime with
 * AWS's cause "The function '<field text>' had the following error: ..."
 * (captured on AWS: a path argument that matches nothing). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "intrinsic_impl.h"
#include "json_text.h"

const wf__ifn wf__intrinsic_fns[] = {
    {"States.Format", 1, SIZE_MAX, wf__intrinsic_format},
    {"States.StringToJson", 1, 1, wf__intrinsic_string_to_json},
    {"States.JsonToString", 1, 1, wf__intrinsic_json_to_string},
    {"States.Array", 0, SIZE_MAX, wf__intrinsic_array},
    {"States.ArrayPartition", 2, 2, wf__intrinsic_array_partition},
    {"States.ArrayContains", 2, 2, wf__intrinsic_array_contains},
    {"States.ArrayRange", 3, 3, wf__intrinsic_array_range},
    {"States.ArrayGetItem", 2, 2, wf__intrinsic_array_get_item},
    {"States.ArrayLength", 1, 1, wf__intrinsic_array_length},
    {"States.ArrayUnique", 1, 1, wf__intrinsic_array_unique},
    {"States.Base64Encode", 1, 1, wf__intrinsic_base64_encode},
    {"States.Base64Decode", 1, 1, wf__intrinsic_base64_decode},
    {"States.Hash", 2, 2, wf__intrinsic_hash},
    {"States.JsonMerge", 3, 3, wf__intrinsic_json_merge},
    {"States.MathRandom", 2, 3, wf__intrinsic_math_random},
    {"States.MathAdd", 2, 2, wf__intrinsic_math_add},
    {"States.StringSplit", 2, 2, wf__intrinsic_string_split},
    {"States.UUID", 0, 0, wf__intrinsic_uuid},
};
const size_t wf__intrinsic_nfns =
    sizeof wf__intrinsic_fns / sizeof wf__intrinsic_fns[0];

int wf__intrinsic_find(const char *name, size_t len) {
  for (size_t i = 0; i < wf__intrinsic_nfns; i++) {
    const char *n = wf__intrinsic_fns[i].name;
    if (strlen(n) == len && memcmp(n, name, len) == 0) return (int)i;
  }
  return -1;
}

/* --- failures ------------------------------------------------------------ */

static int fail_v(const wf__icall *c, const char *fmt, va_list ap) {
  wf__strbuf detail = WF__STRBUF_INIT;
  char small[512];
  va_list cp;
  va_copy(cp, ap);
  int n = vsnprintf(small, sizeof small, fmt, cp);
  va_end(cp);
  const char *d = small;
  if (n >= (int)sizeof small && wf__strbuf_reserve(&detail, (size_t)n)) {
    vsnprintf(detail.data, (size_t)n + 1, fmt, ap);
    detail.len = (size_t)n;
    d = detail.data;
  }
  wf__fault_set(c->fault, "States.Runtime",
                "The function '%s' had the following error: %s", c->f->text,
                n < 0 ? "" : d);
  wf__strbuf_free(&detail);
  return -1;
}

int wf__intrinsic_fail(const wf__icall *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fail_v(c, fmt, ap);
  va_end(ap);
  return -1;
}

int wf__intrinsic_invalid(const wf__icall *c) {
  return wf__intrinsic_fail(c, "Invalid arguments in %s",
                            wf__intrinsic_fns[c->node->fn].name);
}

int wf__intrinsic_oom(const wf__icall *c) {
  wf__budget_nomem(c->env->budget);
  return wf__fault_spent(c->fault, c->env->budget, c->f->text);
}

/* --- path arguments ------------------------------------------------------ */

static json_t *path_doc(const wf__jsonpath *p, const wf__eval_env *env) {
  switch (wf__jsonpath_root(p)) {
    case WF__JP_ROOT_CONTEXT:
      return env->context ? env->context(env->payload) : NULL;
    case WF__JP_ROOT_VARIABLE:
      return env->variable
                 ? env->variable(wf__jsonpath_variable(p), env->payload)
                 : NULL;
    case WF__JP_ROOT_INPUT:
    default:
      return env->input;
  }
}

/* Where a definite path leads. Jayway reads a missing array element as
 * null for a plain "x.$" reference, but AWS reports the same path as not
 * found when it is an intrinsic argument (captured on AWS: States.Format(
 * '{}', $.items[5]) over {"items":[1,2]}), so the node is looked up again
 * along the normalised form "$['a'][5]". An unreadable form counts as
 * present; indexing the wrong kind of container is a mismatch, which
 * Jayway words itself ("Filter: [0] can only be applied to arrays..."). */
typedef enum { WALK_PRESENT, WALK_MISSING, WALK_MISMATCH } walk_result;

static walk_result walk_definite(const wf__jsonpath *p, json_t *doc) {
  wf__strbuf b = WF__STRBUF_INIT;
  wf__jsonpath_normalized(&b, p);
  const char *s = wf__strbuf_cstr(&b);
  walk_result r = WALK_PRESENT;
  size_t i = 0;
  while (s[i] == '$') i++; /* "$" or "$$" */
  json_t *cur = doc;
  while (s[i] == '[' && r == WALK_PRESENT) {
    i++;
    if (s[i] == '\'') {
      wf__strbuf key = WF__STRBUF_INIT;
      i++;
      while (s[i] && s[i] != '\'') {
        if (s[i] == '\\' && s[i + 1]) i++;
        wf__strbuf_putc(&key, s[i++]);
      }
      bool closed = s[i] == '\'' && s[i + 1] == ']';
      if (closed && !json_is_object(cur)) r = WALK_MISMATCH;
      else if (closed && !(cur = json_object_get(cur, wf__strbuf_cstr(&key))))
        r = WALK_MISSING;
      wf__strbuf_free(&key);
      if (!closed) break;
      i += 2;
    } else if (s[i] >= '0' && s[i] <= '9') {
      size_t idx = 0;
      while (s[i] >= '0' && s[i] <= '9') idx = idx * 10 + (size_t)(s[i++] - '0');
      if (s[i] != ']') break;
      i++;
      if (!json_is_array(cur)) r = WALK_MISMATCH;
      else if (!(cur = json_array_get(cur, idx))) r = WALK_MISSING;
    } else {
      break;
    }
  }
  wf__strbuf_free(&b);
  return r;
}

static int path_missing(const wf__icall *c, const wf__jsonpath *p) {
  const char *text = wf__jsonpath_text(p);
  /* A "$$" argument is reported rewritten to "$" against the state input
   * (AWS / Step Functions Local wording). */
  bool context = wf__jsonpath_root(p) == WF__JP_ROOT_CONTEXT;
  char *input = c->env->input ? wf__json_dumps(c->env->input) : NULL;
  wf__intrinsic_fail(c,
                     "The JsonPath argument for the field '%s' could not be "
                     "found in the input '%s'",
                     context ? text + 1 : text, input ? input : "null");
  wf__free(input);
  return -1;
}

static bool detail_is_missing(const char *d) {
  return strncmp(d, "No results for path", 19) == 0 ||
         strncmp(d, "Missing property in path", 24) == 0;
}

static int eval_path(json_t **out, const wf__jsonpath *p,
                     const wf__icall *c) {
  json_t *doc = path_doc(p, c->env);
  if (!doc) return path_missing(c, p);
  wf__strbuf detail = WF__STRBUF_INIT;
  *out = NULL;
  int rc = wf__jsonpath_eval(out, p, doc, c->env->budget, &detail);
  if (rc == WF__JP_SPENT) {
    wf__strbuf_free(&detail);
    return wf__fault_spent(c->fault, c->env->budget, c->f->text);
  }
  if (rc != 0) {
    json_decref(*out);
    *out = NULL;
    const char *d = wf__strbuf_cstr(&detail);
    if (detail.len == 0 || detail_is_missing(d) ||
        (wf__jsonpath_is_definite(p) && walk_definite(p, doc) == WALK_MISSING)) {
      wf__strbuf_free(&detail);
      return path_missing(c, p);
    }
    /* Other Jayway failures reach the cause as Jayway wrote them. */
    wf__intrinsic_fail(c, "%s", d);
    wf__strbuf_free(&detail);
    return -1;
  }
  wf__strbuf_free(&detail);
  if (json_is_null(*out) && wf__jsonpath_is_definite(p) &&
      !wf__jsonpath_is_root(p) && walk_definite(p, doc) != WALK_PRESENT) {
    json_decref(*out);
    *out = NULL;
    return path_missing(c, p);
  }
  return 0;
}

/* --- calls --------------------------------------------------------------- */

static int eval_call(json_t **out, const wf__inode *n, const wf__icall *outer);

static int eval_arg(json_t **out, const wf__inode *n, const wf__icall *c) {
  switch (n->kind) {
    case WF__IARG_LITERAL:
      *out = json_incref(n->literal);
      return 0;
    case WF__IARG_PATH:
      return eval_path(out, n->path, c);
    case WF__IARG_CALL:
    default:
      return eval_call(out, n, c);
  }
}

/* Each result is measured (a call may build a value far larger than its
 * arguments: JsonToString of an Array of the whole input, ten times over)
 * and the measuring is paid for in steps, so a field or template with many
 * calls stays within its evaluation's budget too. */
static bool within_budget(const json_t *v, const wf__icall *c) {
  wf__budget *b = c->env->budget;
  size_t size = wf__json_size(v, b->max_result);
  if (size > b->max_result) b->spent = WF__SPENT_SIZE;
  if (!b->spent) wf__budget_charge(b, size / 16 + 1);
  if (!b->spent) return true;
  wf__fault_spent(c->fault, b, c->f->text);
  return false;
}

static int eval_call(json_t **out, const wf__inode *n, const wf__icall *outer) {
  wf__icall c = {outer->f, n, outer->env, outer->fault};
  const wf__ifn *fn = &wf__intrinsic_fns[n->fn];
  /* Most calls take a few arguments; only long Format/Array lists allocate. */
  json_t *small[8];
  json_t **args = small;
  if (n->nargs > sizeof small / sizeof small[0]) {
    args = wf__calloc(n->nargs, sizeof *args);
    if (!args) return wf__intrinsic_oom(&c);
  }
  size_t done = 0;
  int rc = 0;
  for (; done < n->nargs; done++) {
    if (eval_arg(&args[done], &n->args[done], &c) != 0) {
      rc = -1;
      break;
    }
  }
  if (rc == 0) {
    /* AWS checks the argument count when the call runs, with the same
     * message as a bad argument ("Invalid arguments in States.Hash"). */
    if (n->nargs < fn->min_args || n->nargs > fn->max_args)
      rc = wf__intrinsic_invalid(&c);
    else
      rc = fn->eval(out, args, n->nargs, &c);
    if (rc == 0 && !within_budget(*out, &c)) {
      json_decref(*out);
      *out = NULL;
      rc = -1;
    }
  }
  for (size_t i = 0; i < done; i++) json_decref(args[i]);
  if (args != small) wf__free(args);
  return rc;
}

int wf__intrinsic_eval(json_t **out, const wf__intrinsic *f,
                       const wf__eval_env *env, wf__fault *fault) {
  *out = NULL;
  wf__icall c = {f, &f->root, env, fault};
  int rc = eval_call(out, &f->root, &c);
  if (rc != 0 && *out) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}
