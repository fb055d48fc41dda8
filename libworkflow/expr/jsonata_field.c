/* Fields of JSONata states: literals with "{% … %}" expressions inside,
 * AWS's definition-time checks of each expression, and AWS's causes when
 * one fails at run time. */
#include "jsonata_field.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "diag.h"
#include "json_text.h"
#include "jsonata_impl.h"
#include "strbuf.h"

/* AWS's nesting bound for a JSONata evaluation (measured: 100 "+1" terms
 * run, 101 do not). */
#define WF__JFIELD_MAX_DEPTH 100

typedef enum { JF_LITERAL, JF_EXPR, JF_OBJECT, JF_ARRAY } jfield_kind;

typedef struct jfield_node {
  jfield_kind kind;
  json_t *literal;   /* LITERAL: the value (a reference) */
  size_t size;       /* LITERAL: its text's size (wf__json_size) */
  wf__jsonata *expr; /* EXPR */
  char *text;        /* EXPR: as AWS quotes it */
  char *field;       /* EXPR: "Output/a/b[0]" */
  char **keys;       /* OBJECT */
  struct jfield_node *kids; /* OBJECT, ARRAY */
  size_t n;
} jfield_node;

struct wf__jfield {
  jfield_node root;
  char *field;
  bool context; /* may read $states.context */
  bool normal;  /* its literal parts' numbers are as a JSONata result's */
};

bool wf__jsonata_is_expr(const json_t *v) {
  if (!json_is_string(v)) return false;
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  return n >= 4 && memcmp(s, "{%", 2) == 0 && memcmp(s + n - 2, "%}", 2) == 0;
}

/* ---- definition-time checks ---- */

/* References to the state's input at the top level of an expression: a
 * field name read against the (absent) context value, "$" or "$$". AWS
 * refuses them: in a state, data comes from $states and from variables.
 * Only the first step of a path reads the top-level context; later steps,
 * predicates, sort terms, groupings and transforms read the value before
 * them. A lambda's body keeps the top-level context. Collected in the
 * order written, each name once. */
#define MAX_REFS 16
typedef struct refs {
  const jnode *v[MAX_REFS];
  size_t n;
} refs;

static bool same_ref(const jnode *a, const jnode *b) {
  return a->type == b->type && a->oplen == b->oplen &&
         memcmp(a->op, b->op, a->oplen) == 0;
}

static void add_ref(refs *r, const jnode *n) {
  for (size_t i = 0; i < r->n; i++)
    if (same_ref(r->v[i], n)) return;
  if (r->n < MAX_REFS) r->v[r->n++] = n;
}

static void top_refs(const jnode *n, refs *r) {
  if (!n) return;
  switch (n->type) {
    case N_NAME:
      add_ref(r, n);
      return;
    case N_VARIABLE:
      /* "$" (the context) and "$$" (the root) */
      if (n->oplen == 0 || (n->oplen == 1 && n->op[0] == '$')) add_ref(r, n);
      return;
    case N_PATH:
      if (n->nitems) top_refs(n->items[0], r);
      return;
    case N_BINARY:
    case N_APPLY:
      top_refs(n->lhs, r);
      top_refs(n->rhs, r);
      return;
    case N_SORT:
      top_refs(n->lhs, r);
      return;
    case N_BIND:
      top_refs(n->rhs, r);
      return;
    case N_CONDITION:
      top_refs(n->lhs, r);
      top_refs(n->rhs, r);
      top_refs(n->third, r);
      return;
    case N_UNARY:
    case N_BLOCK:
    case N_FUNCTION:
    case N_PARTIAL:
      top_refs(n->lhs, r);
      top_refs(n->proc, r);
      for (size_t i = 0; i < n->nitems; i++) top_refs(n->items[i], r);
      /* an object constructor's keys and values */
      for (size_t i = 0; i < n->npairs; i++) top_refs(n->pairs[i], r);
      return;
    case N_LAMBDA:
      top_refs(n->body, r);
      return;
    default:
      return;
  }
}

static bool names(const jnode *n, jn_type type, const char *s) {
  return n->type == type && n->oplen == strlen(s) && !memcmp(n->op, s, n->oplen);
}

/* How many nodes under n (n included) satisfy `is`. */
static size_t count_nodes(const jnode *n, bool (*is)(const jnode *)) {
  if (!n) return 0;
  size_t c = is(n);
  const jnode *kids[] = {n->lhs, n->rhs, n->third, n->proc, n->body};
  for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
    c += count_nodes(kids[i], is);
  for (size_t i = 0; i < n->nitems; i++) c += count_nodes(n->items[i], is);
  for (size_t i = 0; i < n->npairs; i++) c += count_nodes(n->pairs[i], is);
  for (size_t i = 0; i < n->ngroup; i++) c += count_nodes(n->group[i], is);
  for (size_t i = 0; i < n->npred; i++) c += count_nodes(n->pred[i].expr, is);
  for (size_t i = 0; i < n->nstages; i++)
    c += count_nodes(n->stages[i].expr, is);
  for (size_t i = 0; i < n->nterms; i++) c += count_nodes(n->terms[i], is);
  return c;
}

/* $states, and a path reading one of its members that cost nothing to
 * give ($states.input, .result, .errorOutput): when every $states is the
 * head of such a path, the expression never reads $states.context. */
static bool is_states(const jnode *n) { return names(n, N_VARIABLE, "states"); }

static bool is_plain_member(const jnode *n) {
  if (n->type != N_PATH || n->nitems < 2 || !is_states(n->items[0]))
    return false;
  const jnode *m = n->items[1];
  return names(m, N_NAME, "input") || names(m, N_NAME, "result") ||
         names(m, N_NAME, "errorOutput");
}

/* A path starting "$states.errorOutput". */
static bool is_error_output(const jnode *n) {
  return n->type == N_PATH && n->nitems >= 2 &&
         names(n->items[0], N_VARIABLE, "states") &&
         names(n->items[1], N_NAME, "errorOutput");
}

/* ---- compiling ---- */

static void node_free(jfield_node *n) {
  json_decref(n->literal);
  wf__jsonata_free(n->expr);
  wf__free(n->text);
  wf__free(n->field);
  for (size_t i = 0; i < n->n; i++) {
    if (n->keys) wf__free(n->keys[i]);
    if (n->kids) node_free(&n->kids[i]);
  }
  wf__free(n->keys);
  wf__free(n->kids);
}

static bool has_expr(json_t *v) {
  if (wf__jsonata_is_expr(v)) return true;
  const char *k;
  json_t *x;
  size_t i;
  if (json_is_object(v)) {
    json_object_foreach(v, k, x) if (has_expr(x)) return true;
  } else if (json_is_array(v)) {
    json_array_foreach(v, i, x) if (has_expr(x)) return true;
  }
  return false;
}

typedef struct cctx {
  wf_diagnostics *diags;
  wf__strbuf loc, field;
  bool error_output; /* $states.errorOutput exists (a Catcher's fields) */
  bool failed;
  bool context; /* some expression may read $states.context */
  bool abnormal; /* a literal part holds a number no result would */
} cctx;

static void diag(cctx *c, const char *code, const char *fmt, const char *a) {
  wf__diag_add(c->diags, code, wf__strbuf_cstr(&c->loc), fmt, a);
  c->failed = true;
}

static int compile_expr(cctx *c, jfield_node *n, json_t *v) {
  const char *s = json_string_value(v);
  size_t len = json_string_length(v);
  const char *b = s + 2, *e = s + len - 2;
  while (b < e && (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')) b++;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
                   e[-1] == '\r'))
    e--;
  n->kind = JF_EXPR;
  n->text = wf__strndup(b, (size_t)(e - b));
  n->field = wf__strdup(wf__strbuf_cstr(&c->field));
  if (!n->text || !n->field) return -1;
  wf__jsonata_error err;
  if (wf__jsonata_compile(&n->expr, s + 2, len - 4, &err) != 0) {
    if (strcmp(err.code, "U1002") == 0) return -1;
    diag(c, "INVALID_JSONATA_EXPRESSION", "%s", err.message);
    return 0;
  }
  refs r = {.n = 0};
  top_refs(n->expr->root, &r);
  for (size_t i = 0; i < r.n; i++) {
    const jnode *ref = r.v[i];
    char name[128];
    snprintf(name, sizeof name, "%s%.*s", ref->type == N_VARIABLE ? "$" : "",
             (int)(ref->oplen > 100 ? 100 : ref->oplen), ref->op);
    if (!strcmp(name, "$$"))
      diag(c, "UNSUPPORTED_JSONATA_EXPRESSION",
           "Reference to '%s' is not supported.", name);
    else
      diag(c, "UNSUPPORTED_JSONATA_EXPRESSION",
           "Reference to '%s' at the top level is not supported.", name);
  }
  if (count_nodes(n->expr->root, is_states) !=
      count_nodes(n->expr->root, is_plain_member))
    c->context = true;
  if (!c->error_output && count_nodes(n->expr->root, is_error_output))
    diag(c, "UNSUPPORTED_JSONATA_EXPRESSION",
         "Field '%s' does not exist.", "$states.errorOutput");
  return 0;
}

static int compile_node(cctx *c, jfield_node *n, json_t *v) {
  memset(n, 0, sizeof *n);
  if (wf__jsonata_is_expr(v)) return compile_expr(c, n, v);
  if (!has_expr(v)) {
    n->kind = JF_LITERAL;
    n->literal = json_incref(v);
    if (!jjson_normal(v)) c->abnormal = true;
    n->size = wf__json_size(v, SIZE_MAX / 2);
    return 0;
  }
  size_t count = json_is_object(v) ? json_object_size(v) : json_array_size(v);
  n->kind = json_is_object(v) ? JF_OBJECT : JF_ARRAY;
  n->kids = wf__calloc(count, sizeof *n->kids);
  if (n->kind == JF_OBJECT) n->keys = wf__calloc(count, sizeof *n->keys);
  if (!n->kids || (n->kind == JF_OBJECT && !n->keys)) return -1;
  size_t lmark = c->loc.len, fmark = c->field.len;
  if (n->kind == JF_OBJECT) {
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
      size_t i = n->n++;
      if (!(n->keys[i] = wf__strdup(k))) return -1;
      wf__strbuf_printf(&c->loc, "/%s", k);
      wf__strbuf_printf(&c->field, "/%s", k);
      int rc = compile_node(c, &n->kids[i], x);
      wf__strbuf_truncate(&c->loc, lmark);
      wf__strbuf_truncate(&c->field, fmark);
      if (rc) return -1;
    }
  } else {
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
      n->n++;
      wf__strbuf_printf(&c->loc, "[%zu]", i);
      wf__strbuf_printf(&c->field, "[%zu]", i);
      int rc = compile_node(c, &n->kids[i], x);
      wf__strbuf_truncate(&c->loc, lmark);
      wf__strbuf_truncate(&c->field, fmark);
      if (rc) return -1;
    }
  }
  return 0;
}

wf__jfield *wf__jfield_compile(json_t *value, const char *field,
                               unsigned flags, wf_diagnostics *diags,
                               const char *location) {
  wf__jfield *f = wf__calloc(1, sizeof *f);
  cctx c = {.diags = diags, .loc = WF__STRBUF_INIT, .field = WF__STRBUF_INIT,
            .error_output = flags & WF__JFIELD_ERROR_OUTPUT};
  if (!f) {
    diags->oom = true;
    return NULL;
  }
  wf__strbuf_puts(&c.loc, location);
  wf__strbuf_puts(&c.field, field);
  f->field = wf__strdup(field);
  int rc = f->field ? compile_node(&c, &f->root, value) : -1;
  f->context = c.context;
  f->normal = !c.abnormal;
  if (rc || c.loc.oom || c.field.oom) diags->oom = true;
  wf__strbuf_free(&c.loc);
  wf__strbuf_free(&c.field);
  if (rc || c.failed || diags->oom) {
    wf__jfield_free(f);
    return NULL;
  }
  return f;
}

void wf__jfield_free(wf__jfield *f) {
  if (!f) return;
  node_free(&f->root);
  wf__free(f->field);
  wf__free(f);
}

const char *wf__jfield_text(const wf__jfield *f) {
  return f && f->root.kind == JF_EXPR ? f->root.text : NULL;
}

bool wf__jfield_reads_context(const wf__jfield *f) { return f->context; }

bool wf__jfield_normal(const wf__jfield *f) { return f->normal; }

size_t wf__jfield_key_count(const wf__jfield *f) {
  if (!f) return 0;
  if (f->root.kind == JF_OBJECT) return f->root.n;
  if (f->root.kind == JF_LITERAL && json_is_object(f->root.literal))
    return json_object_size(f->root.literal);
  return 0;
}

const char *wf__jfield_key(const wf__jfield *f, size_t i) {
  if (f->root.kind == JF_OBJECT) return f->root.keys[i];
  /* A literal object: its keys in the definition's order. */
  void *it = json_object_iter(f->root.literal);
  for (; it && i; i--) it = json_object_iter_next(f->root.literal, it);
  return it ? json_object_iter_key(it) : NULL;
}

/* ---- evaluating ---- */

/* Start AWS's cause for an expression that failed: the fault is
 * WF__QUERY_ERROR, located at the field, its cause "The JSONata expression
 * '<text>' specified for the field '<field>'"; the caller appends what
 * went wrong to fault->cause. Returns -1. */
static int expr_fault(wf__fault *fault, const char *text, const char *field) {
  snprintf(fault->location, sizeof fault->location, "%s", field);
  return wf__fault_set(fault, WF__QUERY_ERROR,
                       "The JSONata expression '%s' specified for the field "
                       "'%s'",
                       text ? text : "", field);
}

static int eval_expr(json_t **out, size_t *size, const jfield_node *n,
                     const wf__jsonata_bindings *vars, wf__budget *budget,
                     wf__fault *fault) {
  wf__jsonata_error err;
  if (wf__jsonata_eval_depth(out, n->expr, NULL, vars, budget,
                             WF__JFIELD_MAX_DEPTH, size, &err) != 0) {
    /* A result past the payload limit fails the state as AWS does for an
     * output too large. */
    if (budget->spent == WF__SPENT_SIZE) {
      snprintf(fault->location, sizeof fault->location, "%s", n->field);
      return wf__fault_spent(fault, budget, n->text);
    }
    /* AWS's bounds give a message without a code, after a colon. */
    const char *bound = NULL;
    if (budget->spent == WF__SPENT_MEMORY || !strcmp(err.code, "U1002"))
      bound = "Expression evaluation memory limit exceeded: Check for "
              "excessive memory usage";
    else if (budget->spent != WF__SPENT_NONE)
      bound = "Expression evaluation timeout: Check for infinite loop";
    else if (!strcmp(err.code, "U1001"))
      bound = "Stack overflow error: Check for non-terminating recursive "
              "function. Consider rewriting as tail-recursive";
    expr_fault(fault, n->text, n->field);
    if (bound)
      wf__strbuf_printf(&fault->cause,
                        " threw an error during evaluation: %s", bound);
    else
      wf__strbuf_printf(&fault->cause,
                        " threw an error during evaluation. %s: %s", err.code,
                        err.message);
    return -1;
  }
  if (!*out) {
    expr_fault(fault, n->text, n->field);
    wf__strbuf_puts(&fault->cause, " returned nothing (undefined).");
    return -1;
  }
  return 0;
}

/* The node's value, and its text's size added to *size (an upper
 * bound). */
static int eval_node(json_t **out, size_t *size, const jfield_node *n,
                     const wf__jsonata_bindings *vars, wf__budget *budget,
                     wf__fault *fault) {
  switch (n->kind) {
    case JF_LITERAL:
      *out = json_incref(n->literal);
      *size += n->size;
      return 0;
    case JF_EXPR: {
      size_t part = 0;
      int rc = eval_expr(out, &part, n, vars, budget, fault);
      *size += part;
      return rc;
    }
    case JF_OBJECT:
    case JF_ARRAY:
      break;
  }
  json_t *v = n->kind == JF_OBJECT ? json_object() : json_array();
  if (!v) goto nomem;
  /* Brackets and commas. */
  *size += n->n ? n->n + 1 : 2;
  for (size_t i = 0; i < n->n; i++) {
    json_t *x;
    if (eval_node(&x, size, &n->kids[i], vars, budget, fault) != 0) {
      json_decref(v);
      return -1;
    }
    int rc;
    if (n->kind == JF_OBJECT) {
      *size += wf__json_string_size(n->keys[i], strlen(n->keys[i])) + 1;
      rc = json_object_set_new(v, n->keys[i], x);
    } else {
      rc = json_array_append_new(v, x);
    }
    if (rc) {
      json_decref(v);
      goto nomem;
    }
  }
  *out = v;
  return 0;
nomem:
  wf__budget_nomem(budget);
  return wf__fault_spent(fault, budget, "a JSONata field");
}

bool wf__jfield_is_expr(const wf__jfield *f) {
  return f->root.kind == JF_EXPR;
}

int wf__jfield_eval(json_t **out, size_t *size, const wf__jfield *f,
                    const wf__jsonata_bindings *vars, wf__budget *budget,
                    wf__fault *fault) {
  *out = NULL;
  size_t bound = 0;
  int rc = eval_node(out, &bound, &f->root, vars, budget, fault);
  if (size) *size = bound;
  return rc;
}

static const char *type_word(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
  }
}

int wf__jfield_type_fault(wf__fault *fault, const wf__jfield *f,
                          const char *want, json_t *value) {
  char *text = wf__json_dumps(value);
  expr_fault(fault, wf__jfield_text(f), f->field);
  wf__strbuf_printf(&fault->cause,
                    " returned an unexpected result type. Expected '%s', but "
                    "was '%s' for value: %s",
                    want, type_word(value), text ? text : "null");
  wf__free(text);
  return -1;
}

int wf__jfield_range_fault(wf__fault *fault, const wf__jfield *f,
                           json_t *value, int64_t min, int64_t max) {
  char *text = wf__json_dumps(value);
  expr_fault(fault, wf__jfield_text(f), f->field);
  wf__strbuf_printf(&fault->cause,
                    " returned an unexpected value: %s is out of range "
                    "[%lld, %lld]",
                    text ? text : "", (long long)min, (long long)max);
  wf__free(text);
  return -1;
}
