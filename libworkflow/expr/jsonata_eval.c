/* The JSONata evaluator (jsonata-js 2.0.6's jsonata.js: evaluate and its
 * helpers), over arena values. Sequences flatten as there; a result that is
 * a sequence collapses to its one item or to undefined; tuple streams carry
 * the '@' focus, '#' index and '%' ancestor bindings through a path. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonata_impl.h"

/* Input containers are converted on first look (jsonata_value.c): code
 * here that reads a value's elements or members forces it first. */
void jv_force(const jv *v);
size_t jv_len(const jv *v);
jv *jv_at(const jv *v, size_t i);
jv *jv_peek(const jv *o, const char *k, size_t kl, jv *tmp);

/* --- environments --- */

jenv *jenv_new(jev *ev, jenv *parent) {
  jenv *e = jalloc(ev, sizeof *e);
  memset(e, 0, sizeof *e);
  e->parent = parent;
  return e;
}

/* An environment with room for `cap` bindings in the same allocation (a
 * lambda's parameters, a tuple's bindings). */
jenv *jenv_room(jev *ev, jenv *parent, size_t cap) {
  if (!cap) return jenv_new(ev, parent);
  jenv *e = jalloc(ev, sizeof *e + cap * (sizeof *e->names + sizeof *e->vals));
  e->parent = parent;
  e->names = (const char **)(void *)(e + 1);
  e->vals = (jv **)(void *)(e->names + cap);
  e->n = 0;
  e->cap = cap;
  return e;
}

/* Names compared as strcmp does, most of them told apart by their first
 * character without the call. */
static inline bool same_name(const char *a, const char *b) {
  return a == b || (a[0] == b[0] && !strcmp(a, b));
}

/* Bind a name env does not bind yet. */
static void env_add(jev *ev, jenv *env, const char *name, jv *v) {
  if (env->n == env->cap) {
    size_t cap = env->cap ? env->cap * 2 : 4;
    const char **nn = jalloc(ev, cap * sizeof *nn);
    jv **nv = jalloc(ev, cap * sizeof *nv);
    if (env->n) {
      memcpy(nn, env->names, env->n * sizeof *nn);
      memcpy(nv, env->vals, env->n * sizeof *nv);
    }
    env->names = nn;
    env->vals = nv;
    env->cap = cap;
  }
  env->names[env->n] = name;
  env->vals[env->n++] = v;
}

void jenv_bind(jev *ev, jenv *env, const char *name, jv *v) {
  for (size_t i = 0; i < env->n; i++)
    if (same_name(env->names[i], name)) {
      env->vals[i] = v;
      return;
    }
  env_add(ev, env, name, v);
}

static bool env_find(jenv *env, const char *name, jv **out) {
  for (jenv *e = env; e; e = e->parent)
    for (size_t i = e->n; i-- > 0;)
      if (same_name(e->names[i], name)) {
        *out = e->vals[i];
        return true;
      }
  return false;
}

/* The native functions are a static table; a lookup that reaches the root
 * makes a function value for one. Names are the compiled tree's (an
 * expression's own, or one $eval compiled, kept until the evaluation
 * ends), so the root's bindings keep them without a copy. */
static jv *lookup(jev *ev, jenv *env, const char *name, const jv *native) {
  jv *v;
  if (env_find(env, name, &v)) return v;
  if (ev->vars && ev->vars->record && same_name(name, ev->vars->record)) {
    v = jv_record(ev, ev->vars->members, ev->vars->nrecord);
    env_add(ev, ev->root, name, v);
    return v;
  }
  if (ev->vars && ev->vars->resolve) {
    /* A variable of the caller's, converted once and kept at the root. */
    json_t *j = ev->vars->resolve(name, ev->vars->payload);
    if (j) {
      v = jv_from_json(ev, j);
      env_add(ev, ev->root, name, v); /* env_find went through the root */
      return v;
    }
  }
  /* Found when the expression was compiled. */
  if (native) return (jv *)native;
  const jnative *nat = jnative_find_for(ev, name);
  if (!nat) return NULL;
  jv *f = jv_func(ev, F_NATIVE);
  f->u.f.nat = nat;
  /* Kept at the root too, for the next call ($contains in a filter's
   * predicate): nothing writes a function value once made, and a binding
   * of the name shadows it as it would the library's. */
  env_add(ev, ev->root, name, f);
  return f;
}

jv *jlookup_var(jenv *env, const char *name) {
  jv *v;
  return env_find(env, name, &v) ? v : NULL;
}

/* The step that may decide, then steps ahead for as long as
 * wf__budget_charge(b, 1) would have nothing to decide: steps left over,
 * nothing spent, and the CPU clock not due (eval.c reads it every 4096
 * steps; below 4000 it is not due, and were that interval made shorter
 * the clock would be read at most 4000 steps late). Most evaluation
 * steps are then charged from the fuel. */
void jcharge_slow(jev *ev) {
  wf__budget *b = ev->budget;
  if (!b) return;
  if (!wf__budget_charge(b, 1)) {
    jerr_reset(&ev->err, ev->budget->spent == WF__SPENT_MEMORY ? "U1002" : "U1003");
    jrethrow(ev);
  }
  if (b->steps > 1 && b->ticks < 4000) {
    uint64_t k = b->steps - 1;
    if (k > 4000u - b->ticks) k = 4000u - b->ticks;
    b->steps -= k;
    b->ticks += (uint32_t)k;
    ev->fuel = (uint32_t)k;
  }
}

static jenv *env_from_tuple(jev *ev, jenv *env, jv *tuple) {
  jenv *e = jenv_room(ev, env, tuple && tuple->kind == JV_OBJ ? tuple->u.obj.len : 0);
  if (tuple && tuple->kind == JV_OBJ)
    for (size_t i = 0; i < tuple->u.obj.len; i++)
      jenv_bind(ev, e, tuple->u.obj.k[i], tuple->u.obj.v[i]);
  return e;
}

static jv *tuple_at(jv *t) { return jv_get(t, "@", 1); }

static jv *tuple_copy(jev *ev, jv *t) {
  jv *r = jv_obj(ev);
  for (size_t i = 0; i < t->u.obj.len; i++)
    jv_set(ev, r, t->u.obj.k[i], t->u.obj.kl[i], t->u.obj.v[i]);
  return r;
}

static void tuple_set(jev *ev, jv *t, const char *k, jv *v) {
  jv_set(ev, t, k, strlen(k), v);
}

/* --- paths --- */

static jv *eval_filter(jev *ev, const jnode *pred, jv *input, jenv *env);
static jv *eval_sort(jev *ev, const jnode *expr, jv *input, jenv *env);
static jv *eval_group(jev *ev, jnode *const *pairs, size_t npairs, bool literal,
                      int gpos, jv *input, jenv *env);

/* The length of a sequence or array; 0 for anything else (a path whose
 * first step is an array constructor filtered down to one value, as in
 * "[1, 2][0].b", then has nothing to step through: jsonata-js's loop over
 * input.length runs no time for a number). */
static size_t alen(const jv *a) {
  if (!jv_is_arr(a)) return 0;
  jv_force(a);
  return a->u.arr.len;
}

static jv *eval_stages(jev *ev, const jnode *step, jv *input, jenv *env) {
  jv *result = input;
  for (size_t s = 0; s < step->nstages; s++) {
    const jstage *st = &step->stages[s];
    if (!st->is_index) {
      result = eval_filter(ev, st->expr, result, env);
    } else {
      for (size_t i = 0; i < alen(result); i++)
        tuple_set(ev, result->u.arr.v[i], st->var, jv_num(ev, (double)i));
    }
  }
  return result;
}

/* A step with no predicate, stage, grouping, '[]', focus, index or
 * parent binding on it. */
static bool plain_step(const jnode *step) {
  return step->plain;
}

bool jnode_plain(const jnode *step) {
  return !step->nstages && !step->npred && !step->has_group &&
         !step->keep_array && !step->tuple && !step->focus && !step->index &&
         !step->ancestor;
}

/* A plain step that names a field. */
static bool plain_name(const jnode *step) {
  return step->type == N_NAME && plain_step(step);
}

/* A plain step that is a variable ($name, not $). */
static bool plain_var(const jnode *step) {
  return step->type == N_VARIABLE && step->oplen > 0 && plain_step(step);
}

/* What jeval does around a plain step's value: the depth bound and the
 * charge before, a sequence collapsed after. */
static void plain_enter(jev *ev) {
  if (ev->depth + 1 > ev->max_depth) {
    jerr_reset(&ev->err, "U1001");
    jrethrow(ev);
  }
  jcharge(ev);
}

static jv *plain_collapse(jv *v) {
  if (v && jv_is_seq(v) && !(v->flags & JA_TUPLE)) {
    if (v->u.arr.len == 0) v = NULL;
    else if (v->u.arr.len == 1 && !(v->flags & JA_KEEP)) v = v->u.arr.v[0];
  }
  return v;
}

/* jeval of a plain name step over an object, without the dispatch. */
static jv *name_step(jev *ev, const jnode *step, const jv *obj) {
  plain_enter(ev);
  return plain_collapse(jv_get(obj, step->op, step->oplen));
}

static jv *eval_step(jev *ev, const jnode *step, jv *input, jenv *env, bool last) {
  if (step->type == N_SORT) {
    jv *r = eval_sort(ev, step, input, env);
    if (step->nstages) r = eval_stages(ev, step, r, env);
    return r;
  }
  bool plain = plain_name(step);
  jv *result = jv_seq(ev);
  for (size_t i = 0; i < alen(input); i++) {
    jv *item = input->u.arr.v[i];
    jv *res = plain && jv_is_obj(item) ? name_step(ev, step, item)
                                       : jeval(ev, step, item, env);
    for (size_t s = 0; s < step->nstages; s++)
      res = eval_filter(ev, step->stages[s].expr, res, env);
    if (res) jv_push(ev, result, res);
  }
  if (last && result->u.arr.len == 1 && jv_is_arr(result->u.arr.v[0]) &&
      !jv_is_seq(result->u.arr.v[0]))
    return result->u.arr.v[0];
  /* The results flattened one level: when none is an array to spread,
   * that is the sequence itself. */
  size_t spread = 0;
  while (spread < result->u.arr.len) {
    jv *r = result->u.arr.v[spread];
    if (jv_is_arr(r) && !(r->flags & JA_CONS)) break;
    spread++;
  }
  if (spread == result->u.arr.len) return result;
  if (result->u.arr.len == 1) {
    /* One array to spread (a name giving an array over one object): the
     * sequence of its items is its items. It shares the array's vector,
     * full (cap = len), so a push to either copies it first; nothing
     * writes a vector's items in place. */
    jv *r = result->u.arr.v[0];
    jv_force(r);
    jv *seq = jv_seq(ev);
    seq->u.arr.v = r->u.arr.v;
    seq->u.arr.len = seq->u.arr.cap = r->u.arr.len;
    return seq;
  }
  jv *seq = jv_seq(ev);
  for (size_t i = 0; i < result->u.arr.len; i++) {
    jv *r = result->u.arr.v[i];
    jv_force(r);
    if (!jv_is_arr(r) || (r->flags & JA_CONS)) jv_push(ev, seq, r);
    else
      for (size_t j = 0; j < r->u.arr.len; j++) jv_push(ev, seq, r->u.arr.v[j]);
  }
  return seq;
}

static jv *eval_tuple_step(jev *ev, const jnode *step, jv *input, jv *tuples,
                           jenv *env) {
  if (step->type == N_SORT) {
    jv *result;
    if (tuples) {
      result = eval_sort(ev, step, tuples, env);
    } else {
      jv *sorted = eval_sort(ev, step, input, env);
      result = jv_arr(ev, JA_SEQ | JA_TUPLE);
      for (size_t i = 0; i < alen(sorted); i++) {
        jv *t = jv_obj(ev);
        tuple_set(ev, t, "@", sorted->u.arr.v[i]);
        if (step->index) tuple_set(ev, t, step->index, jv_num(ev, (double)i));
        jv_push(ev, result, t);
      }
    }
    if (step->nstages) result = eval_stages(ev, step, result, env);
    return result;
  }
  jv *result = jv_arr(ev, JA_SEQ | JA_TUPLE);
  if (!tuples) {
    tuples = jv_seq(ev);
    for (size_t i = 0; i < alen(input); i++) {
      jv *t = jv_obj(ev);
      tuple_set(ev, t, "@", input->u.arr.v[i]);
      jv_push(ev, tuples, t);
    }
  }
  for (size_t e = 0; e < tuples->u.arr.len; e++) {
    jv *tb = tuples->u.arr.v[e];
    jenv *senv = env_from_tuple(ev, env, tb);
    jv *res = jeval(ev, step, tuple_at(tb), senv);
    if (!res) continue;
    jv_force(res);
    jv *arr = res;
    if (!jv_is_arr(res)) {
      arr = jv_arr(ev, 0);
      jv_push(ev, arr, res);
    }
    for (size_t b = 0; b < arr->u.arr.len; b++) {
      jv *t = tuple_copy(ev, tb);
      if (res->flags & JA_TUPLE && jv_is_arr(res)) {
        jv *rt = arr->u.arr.v[b];
        for (size_t k = 0; k < rt->u.obj.len; k++)
          jv_set(ev, t, rt->u.obj.k[k], rt->u.obj.kl[k], rt->u.obj.v[k]);
      } else {
        if (step->focus) {
          tuple_set(ev, t, step->focus, arr->u.arr.v[b]);
          tuple_set(ev, t, "@", tuple_at(tb));
        } else {
          tuple_set(ev, t, "@", arr->u.arr.v[b]);
        }
        if (step->index) tuple_set(ev, t, step->index, jv_num(ev, (double)b));
        if (step->ancestor) tuple_set(ev, t, step->ancestor->label, tuple_at(tb));
      }
      jv_push(ev, result, t);
    }
  }
  if (step->nstages) result = eval_stages(ev, step, result, env);
  return result;
}

static jv *eval_path(jev *ev, const jnode *expr, jv *input, jenv *env) {
  size_t first = 0;
  bool var0 = plain_var(expr->items[0]);
  if ((var0 || !jv_is_arr(input)) && !expr->tuple && !expr->keep_singleton &&
      !expr->has_group) {
    /* A leading variable and plain names over single objects ($v.a.b,
     * a.b over {"a":{...}}): each step's sequence would hold one value, so
     * the value stands for it; at the first array (to flatten) the general
     * walk takes over from that step, as it would have got there. */
    jv *cur = input;
    for (; first < expr->nitems; first++) {
      const jnode *step = expr->items[first];
      jv *v;
      if (first == 0 && var0) {
        plain_enter(ev);
        v = plain_collapse(lookup(ev, env, step->op, step->native));
      } else if (plain_name(step)) {
        if (!jv_is_obj(cur)) {
          jcharge(ev);
          return NULL; /* a name over a value that is no object: undefined */
        }
        v = name_step(ev, step, cur);
      } else {
        break;
      }
      if (!v) return NULL;
      if (jv_is_arr(v) && (first + 1 < expr->nitems || jv_is_seq(v))) break;
      cur = v;
    }
    if (first == expr->nitems) return cur;
    input = cur;
  }
  jv *in;
  if (first == 0 && jv_is_arr(input) && expr->items[0]->type != N_VARIABLE) {
    in = input;
  } else {
    /* jsonata-js's createSequence(input): one item, undefined included,
     * so a first step that needs no input (an object constructor) runs. */
    in = jv_seq(ev);
    jv_push(ev, in, input);
  }
  jv *result = NULL, *tuples = NULL;
  bool is_tuple = false;
  for (size_t i = first; i < expr->nitems; i++) {
    const jnode *step = expr->items[i];
    if (step->tuple) is_tuple = true;
    if (i == 0 && step->consarray) {
      result = jeval(ev, step, in, env);
    } else if (is_tuple) {
      tuples = eval_tuple_step(ev, step, in, tuples, env);
    } else {
      result = eval_step(ev, step, in, env, i == expr->nitems - 1);
    }
    if (!is_tuple && (!result || (jv_is_arr(result) && alen(result) == 0)))
      break;
    if (!step->focus) in = result;
  }
  if (is_tuple) {
    if (expr->tuple) {
      result = tuples;
    } else {
      result = jv_seq(ev);
      for (size_t i = 0; i < alen(tuples); i++)
        jv_push(ev, result, tuple_at(tuples->u.arr.v[i]));
    }
  }
  if (expr->keep_singleton) {
    if (jv_is_arr(result) && (result->flags & JA_CONS) && !(result->flags & JA_SEQ)) {
      jv *s = jv_seq(ev);
      jv_push(ev, s, result);
      result = s;
    }
    if (jv_is_arr(result)) result->flags |= JA_KEEP;
  }
  if (expr->has_group)
    result = eval_group(ev, expr->group, expr->ngroup, expr->group_literal, expr->group_pos,
                        is_tuple ? tuples : result, env);
  return result;
}

static bool is_array_of_numbers(const jv *v) {
  if (!jv_is_arr(v)) return false;
  jv_force(v);
  for (size_t i = 0; i < v->u.arr.len; i++)
    if (!jv_is_num(v->u.arr.v[i])) return false;
  return true;
}

static bool bare(const jnode *n) { return n->bare; }

/* A predicate that is an array of number literals and ranges between
 * them ([[0..9]], [[0, 2]]): it has the same value for every item. */
static bool const_indexes(const jnode *pred) {
  if (pred->type != N_UNARY || pred->op[0] != '[' || !bare(pred)) return false;
  for (size_t i = 0; i < pred->nitems; i++) {
    const jnode *x = pred->items[i];
    if (!bare(x)) return false;
    if (x->type == N_NUMBER) continue;
    if (x->type == N_BINARY && !strcmp(x->op, "..") && x->lhs->type == N_NUMBER &&
        x->rhs->type == N_NUMBER && bare(x->lhs) && bare(x->rhs))
      continue;
    return false;
  }
  return true;
}

static jv *eval_filter(jev *ev, const jnode *pred, jv *input, jenv *env) {
  jv *results = jv_seq(ev);
  if (input && (input->flags & JA_TUPLE) && jv_is_arr(input)) results->flags |= JA_TUPLE;
  if (!jv_is_arr(input)) {
    jv *s = jv_seq(ev);
    if (input) jv_push(ev, s, input);
    input = s;
  }
  size_t n = jv_len(input);
  if (pred->type == N_NUMBER) {
    /* One element: an input array need not be converted for it. */
    double idx = floor(pred->num);
    if (idx < 0) idx = (double)n + idx;
    if (idx >= 0 && idx < (double)n) {
      jv *item = jv_at(input, (size_t)idx);
      if (item) {
        if (jv_is_arr(item)) results = item;
        else jv_push(ev, results, item);
      }
    }
    return results;
  }
  jv_force(input);
  if (n && const_indexes(pred)) {
    /* Evaluated once rather than for each item, with what the loop below
     * does for an array of numbers: each item once for each index that
     * selects it, in item order. */
    jv *res = jeval(ev, pred, input->u.arr.v[0], env);
    if (!jv_is_arr(res) || alen(res) == 0) return results;
    unsigned *count = jalloc(ev, n * sizeof *count);
    memset(count, 0, n * sizeof *count);
    for (size_t k = 0; k < res->u.arr.len; k++) {
      double ii = floor(res->u.arr.v[k]->u.n);
      if (ii < 0) ii = (double)n + ii;
      if (ii >= 0 && ii < (double)n) count[(size_t)ii]++;
    }
    for (size_t i = 0; i < n; i++)
      for (unsigned c = 0; c < count[i]; c++) jv_push(ev, results, input->u.arr.v[i]);
    return results;
  }
  for (size_t i = 0; i < n; i++) {
    jv *item = input->u.arr.v[i];
    jv *ctx = item;
    jenv *e = env;
    if (input->flags & JA_TUPLE) {
      ctx = tuple_at(item);
      e = env_from_tuple(ev, env, item);
    }
    jv *res = jeval(ev, pred, ctx, e);
    if (res && res->kind == JV_BOOL) { /* a comparison's answer, as below */
      if (res->u.b) jv_push(ev, results, item);
      continue;
    }
    if (jv_numeric(ev, res)) {
      jv *a = jv_arr(ev, 0);
      jv_push(ev, a, res);
      res = a;
    }
    if (is_array_of_numbers(res) && res->u.arr.len > 0) {
      for (size_t k = 0; k < res->u.arr.len; k++) {
        double ii = floor(res->u.arr.v[k]->u.n);
        if (ii < 0) ii = (double)n + ii;
        if (ii == (double)i) jv_push(ev, results, item);
      }
    } else {
      bool d;
      if (jv_truthy(res, &d)) jv_push(ev, results, item);
    }
  }
  return results;
}

/* --- operators --- */

static bool is_str_or_num(const jv *v) {
  return v && (v->kind == JV_STR || v->kind == JV_NUM);
}

static int str_cmp(const jv *a, const jv *b) {
  size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
  int c = memcmp(a->u.str.s, b->u.str.s, n);
  if (c) return c;
  return a->u.str.len < b->u.str.len ? -1 : a->u.str.len > b->u.str.len;
}

static jv *eval_binary_ops(jev *ev, const jnode *expr, jv *lhs, jv *rhs) {
  const char *op = expr->op;
  char c = op[0];
  if ((c == '+' || c == '-' || c == '*' || c == '/' || c == '%') && !op[1]) {
    if (lhs && !jv_numeric(ev, lhs)) jthrow(ev, "T2001", -1, NULL, lhs);
    if (rhs && !jv_numeric(ev, rhs)) jthrow(ev, "T2002", -1, NULL, rhs);
    if (!lhs || !rhs) return NULL;
    double a = lhs->u.n, b = rhs->u.n, r = 0;
    switch (c) {
    case '+': r = a + b; break;
    case '-': r = a - b; break;
    case '*': r = a * b; break;
    case '/': r = a / b; break;
    case '%': r = fmod(a, b); break;
    }
    return jv_num(ev, r);
  }
  if (!strcmp(op, "=") || !strcmp(op, "!=")) {
    if (!lhs || !rhs) return &jv_false_v;
    bool eq = jv_deep_equal(lhs, rhs);
    return jv_bool(c == '=' ? eq : !eq);
  }
  if (c == '<' || c == '>') {
    bool lc = !lhs || is_str_or_num(lhs), rc = !rhs || is_str_or_num(rhs);
    if (lhs && lhs->kind == JV_NUM) jv_numeric(ev, lhs);
    if (rhs && rhs->kind == JV_NUM) jv_numeric(ev, rhs);
    if (!lc || !rc) {
      jerr_reset(&ev->err, "T2010");
      ev->err.value = !(lhs && is_str_or_num(lhs)) ? lhs : rhs;
      ev->err.has_value = true;
      jrethrow(ev);
    }
    if (!lhs || !rhs) return NULL;
    if (lhs->kind != rhs->kind) {
      jerr_reset(&ev->err, "T2009");
      ev->err.value = lhs;
      ev->err.value2 = rhs;
      ev->err.has_value = ev->err.has_value2 = true;
      jrethrow(ev);
    }
    int cmp;
    if (lhs->kind == JV_NUM) cmp = lhs->u.n < rhs->u.n ? -1 : lhs->u.n > rhs->u.n ? 1 : 0;
    else cmp = str_cmp(lhs, rhs);
    bool r;
    if (!strcmp(op, "<")) r = cmp < 0;
    else if (!strcmp(op, "<=")) r = cmp <= 0;
    else if (!strcmp(op, ">")) r = cmp > 0;
    else r = cmp >= 0;
    return jv_bool(r);
  }
  if (c == '&') {
    wf__strbuf *sb = jsb_new(ev);
    jv *parts[2] = {lhs, rhs};
    for (int i = 0; i < 2; i++) {
      jv *p = parts[i];
      if (!p) continue;
      if (p->kind == JV_STR) wf__strbuf_append(sb, p->u.str.s, p->u.str.len);
      else if (p->kind == JV_FUNC) continue;
      else {
        if (p->kind == JV_NUM && !isfinite(p->u.n)) {
          wf__strbuf_free(sb);
          jthrow(ev, "D3001", -1, NULL, p);
        }
        jv *q = p;
        if (jv_is_arr(p) && (p->flags & JA_OUTER) && p->u.arr.len) q = p->u.arr.v[0];
        jv_stringify(ev, sb, q, false);
      }
    }
    if (sb->oom) {
      wf__strbuf_free(sb);
      jthrow_oom(ev);
    }
    jv *r = jv_str(ev, jstrdup(ev, sb->data ? sb->data : "", sb->len), sb->len);
    wf__strbuf_free(sb);
    return r;
  }
  if (!strcmp(op, "..")) {
    if (lhs && !(jv_is_num(lhs) && lhs->u.n == floor(lhs->u.n) && isfinite(lhs->u.n)))
      jthrow(ev, "T2003", -1, NULL, lhs);
    if (rhs && !(jv_is_num(rhs) && rhs->u.n == floor(rhs->u.n) && isfinite(rhs->u.n)))
      jthrow(ev, "T2004", -1, NULL, rhs);
    if (!lhs || !rhs) return NULL;
    if (lhs->u.n > rhs->u.n) return NULL;
    double size = rhs->u.n - lhs->u.n + 1;
    if (size > 1e7) jthrow(ev, "D2014", -1, NULL, jv_num(ev, size));
    jv *r = jv_seq(ev);
    for (double x = lhs->u.n; x <= rhs->u.n; x++) {
      jcharge(ev);
      jv_push(ev, r, jv_num(ev, x));
    }
    return r;
  }
  if (!strcmp(op, "in")) {
    if (!lhs || !rhs) return &jv_false_v;
    if (!jv_is_arr(rhs)) {
      jv *a = jv_arr(ev, 0);
      jv_push(ev, a, rhs);
      rhs = a;
    }
    jv_force(rhs);
    for (size_t i = 0; i < rhs->u.arr.len; i++) {
      jv *x = rhs->u.arr.v[i];
      if (!x || x->kind == JV_ARR || x->kind == JV_OBJ) {
        if (x == lhs) return &jv_true_v;
        continue;
      }
      if (x->kind == lhs->kind && x->kind != JV_FUNC && jv_deep_equal(x, lhs))
        return &jv_true_v;
      if (x == lhs) return &jv_true_v;
    }
    return &jv_false_v;
  }
  return NULL;
}

static bool boolize(const jv *v) {
  bool d;
  bool b = jv_truthy(v, &d);
  return d && b;
}

/* eval_binary_ops under the handler that gives its errors the operator's
 * position and token. */
static jv *binary_ops(jev *ev, const jnode *expr, jv *lhs, jv *rhs) {
  jhandler hd;
  jv *volatile result = NULL;
  JT_TRY(ev, hd) { result = eval_binary_ops(ev, expr, lhs, rhs); }
  else {
    JT_END(ev, hd);
    ev->err.pos = expr->pos;
    ev->err.token = expr->op;
    jrethrow(ev);
  }
  JT_END(ev, hd);
  return result;
}

static bool is_scalar(const jv *v) {
  return v && v->kind != JV_ARR && v->kind != JV_OBJ && v->kind != JV_FUNC;
}

/* The operators that cannot fail on their operands (finite numbers,
 * strings, scalars for = and !=, strings or undefined for &), as
 * eval_binary_ops computes them, without its error handler (a setjmp) or
 * its text buffer; NULL for eval_binary_ops to do it. Only memory can run
 * out here, which then carries no operator position. */
static jv *binary_quick(jev *ev, const char *op, const jv *lhs, const jv *rhs) {
  char c = op[0], c1 = op[1];
  if (c == '&' && !c1 && (!lhs || lhs->kind == JV_STR) && (!rhs || rhs->kind == JV_STR)) {
    /* Strings (or undefined) joined as eval_binary_ops would. */
    size_t a = lhs ? lhs->u.str.len : 0, b = rhs ? rhs->u.str.len : 0;
    char *m = jalloc(ev, a + b + 1);
    if (a) memcpy(m, lhs->u.str.s, a);
    if (b) memcpy(m + a, rhs->u.str.s, b);
    m[a + b] = '\0';
    return jv_str(ev, m, a + b);
  }
  if (!lhs || !rhs) return NULL;
  bool nums = lhs->kind == JV_NUM && rhs->kind == JV_NUM && isfinite(lhs->u.n) &&
              isfinite(rhs->u.n);
  if (!c1 && (c == '+' || c == '-' || c == '*' || c == '/' || c == '%')) {
    if (!nums) return NULL;
    double a = lhs->u.n, b = rhs->u.n;
    return jv_num(ev, c == '+' ? a + b : c == '-' ? a - b : c == '*' ? a * b
                      : c == '/' ? a / b : fmod(a, b));
  }
  if ((c == '<' || c == '>') && (!c1 || (c1 == '=' && !op[2]))) {
    int cmp;
    if (nums) cmp = lhs->u.n < rhs->u.n ? -1 : lhs->u.n > rhs->u.n ? 1 : 0;
    else if (lhs->kind == JV_STR && rhs->kind == JV_STR) cmp = str_cmp(lhs, rhs);
    else return NULL;
    return jv_bool(c == '<' ? (c1 ? cmp <= 0 : cmp < 0) : (c1 ? cmp >= 0 : cmp > 0));
  }
  if ((c == '=' && !c1) || (c == '!' && c1 == '=' && !op[2])) {
    if (!is_scalar(lhs) || !is_scalar(rhs)) return NULL;
    bool eq = jv_deep_equal(lhs, rhs);
    return jv_bool(c == '=' ? eq : !eq);
  }
  return NULL;
}

/* A path of plain names (qty, customer.tier) over an object, with
 * nothing on the path itself. */
static bool name_path(const jnode *n, const jv *input) {
  if (n->type != N_PATH || !bare(n) || n->tuple || n->keep_singleton || n->has_group ||
      !jv_is_obj(input))
    return false;
  for (size_t i = 0; i < n->nitems; i++)
    if (!plain_name(n->items[i])) return false;
  return true;
}

/* An operand of an operator: jeval's value (a variable's looked up
 * directly), but a literal, or a number or string that a name path reads
 * from the input, in *tmp rather than
 * the arena (with jeval's depth bound and charges: eval_path's walk over
 * single objects). *tmp must not outlive the operator: operand_kept()
 * gives the value jeval would have made. */
static jv *operand(jev *ev, const jnode *n, jv *input, jenv *env, jv *tmp) {
  if ((n->type == N_STRING || n->type == N_NUMBER) && bare(n)) {
    plain_enter(ev);
    tmp->flags = 0;
    if (n->type == N_STRING) {
      tmp->kind = JV_STR;
      tmp->u.str.s = n->op;
      tmp->u.str.len = n->oplen;
    } else {
      tmp->kind = JV_NUM;
      tmp->u.n = n->num;
    }
    return tmp;
  }
  if (n->type == N_VARIABLE && n->oplen > 0 && bare(n)) {
    plain_enter(ev); /* jeval's variable, without the dispatch */
    return plain_collapse(lookup(ev, env, n->op, n->native));
  }
  if (!name_path(n, input) || ev->depth + 2 > ev->max_depth) return jeval(ev, n, input, env);
  jcharge(ev); /* the path */
  jv *cur = input;
  for (size_t i = 0; i < n->nitems; i++) {
    const jnode *step = n->items[i];
    jcharge(ev);
    if (!jv_is_obj(cur)) return NULL;
    bool last = i + 1 == n->nitems;
    jv *v = plain_collapse(last ? jv_peek(cur, step->op, step->oplen, tmp)
                                : jv_get(cur, step->op, step->oplen));
    if (!v) return NULL;
    if (jv_is_arr(v) && (!last || jv_is_seq(v))) return jeval(ev, n, input, env);
    cur = v;
  }
  return cur;
}

/* The value operand() put in *tmp, as jeval makes it. */
static jv *operand_kept(jev *ev, const jnode *n, jv *input) {
  if (n->type == N_STRING || n->type == N_NUMBER) return (jv *)n->lit;
  jv *cur = input;
  for (size_t i = 0; i < n->nitems; i++)
    cur = plain_collapse(jv_get(cur, n->items[i]->op, n->items[i]->oplen));
  return cur;
}

static jv *eval_binary(jev *ev, const jnode *expr, jv *input, jenv *env) {
  const char *op = expr->op;
  if ((op[0] == 'a' && !strcmp(op, "and")) || (op[0] == 'o' && !strcmp(op, "or"))) {
    jv *lhs = jeval(ev, expr->lhs, input, env);
    jhandler hd;
    jv *volatile result = NULL;
    /* The right side only when the left does not decide. */
    JT_TRY(ev, hd) {
      bool l = boolize(lhs);
      if (op[0] == 'a') result = jv_bool(l && boolize(jeval(ev, expr->rhs, input, env)));
      else result = jv_bool(l || boolize(jeval(ev, expr->rhs, input, env)));
    } else {
      JT_END(ev, hd);
      ev->err.pos = expr->pos;
      ev->err.token = op;
      jrethrow(ev);
    }
    JT_END(ev, hd);
    return result;
  }
  jv ltmp, rtmp;
  jv *lhs = operand(ev, expr->lhs, input, env, &ltmp);
  jv *rhs = operand(ev, expr->rhs, input, env, &rtmp);
  jv *quick = binary_quick(ev, op, lhs, rhs);
  if (quick) return quick;
  if (lhs == &ltmp) lhs = operand_kept(ev, expr->lhs, input);
  if (rhs == &rtmp) rhs = operand_kept(ev, expr->rhs, input);
  return binary_ops(ev, expr, lhs, rhs);
}

static jv *eval_unary(jev *ev, const jnode *expr, jv *input, jenv *env) {
  const char *op = expr->op;
  if (op[0] == '-') {
    jv *r = jeval(ev, expr->lhs, input, env);
    if (!r) return NULL;
    if (jv_numeric(ev, r)) return jv_num(ev, -r->u.n);
    jthrow(ev, "D1002", expr->pos, op, r);
  }
  if (op[0] == '[') {
    jv *result = jv_arr(ev, 0);
    for (size_t i = 0; i < expr->nitems; i++) {
      const jnode *item = expr->items[i];
      jv *v = jeval(ev, item, input, env);
      if (!v) continue;
      jv_force(v);
      if (item->type == N_UNARY && item->op[0] == '[') jv_push(ev, result, v);
      else if (jv_is_arr(v))
        for (size_t k = 0; k < v->u.arr.len; k++) jv_push(ev, result, v->u.arr.v[k]);
      else jv_push(ev, result, v);
    }
    if (expr->consarray) result->flags |= JA_CONS;
    return result;
  }
  /* '{' */
  return eval_group(ev, expr->pairs, expr->npairs, expr->pairs_literal, expr->pos, input, env);
}

static void flatten_into(jev *ev, jv *out, jv *v) {
  jv_force(v);
  if (jv_is_arr(v))
    for (size_t i = 0; i < v->u.arr.len; i++) flatten_into(ev, out, v->u.arr.v[i]);
  else jv_push(ev, out, v);
}

static jv *eval_wildcard(jev *ev, jv *input) {
  jv *results = jv_seq(ev);
  if (jv_is_arr(input) && (input->flags & JA_OUTER) && input->u.arr.len > 0)
    input = input->u.arr.v[0];
  jv_force(input);
  /* jsonata-js takes the values of Object.keys(input): an object's
   * members, an array's elements. */
  bool obj = jv_is_obj(input);
  size_t n = obj ? input->u.obj.len : jv_is_arr(input) ? input->u.arr.len : 0;
  for (size_t i = 0; i < n; i++) {
    jv *v = obj ? input->u.obj.v[i] : input->u.arr.v[i];
    if (jv_is_arr(v)) {
      jv *flat = jv_arr(ev, 0);
      flatten_into(ev, flat, v);
      results = jv_append(ev, results, flat);
    } else if (v) {
      jv_push(ev, results, v);
    }
  }
  return results;
}

static void recurse_desc(jev *ev, jv *input, jv *results) {
  jcharge(ev);
  jv_force(input);
  if (!jv_is_arr(input)) jv_push(ev, results, input);
  if (jv_is_arr(input)) {
    for (size_t i = 0; i < input->u.arr.len; i++) recurse_desc(ev, input->u.arr.v[i], results);
  } else if (jv_is_obj(input)) {
    for (size_t i = 0; i < input->u.obj.len; i++) recurse_desc(ev, input->u.obj.v[i], results);
  }
}

static jv *eval_descendants(jev *ev, jv *input) {
  if (!input) return NULL;
  jv *rs = jv_seq(ev);
  recurse_desc(ev, input, rs);
  if (rs->u.arr.len == 1) return rs->u.arr.v[0];
  return rs;
}

jv *jname_lookup(jev *ev, jv *input, const char *key, size_t kl);
jv *jname_lookup(jev *ev, jv *input, const char *key, size_t kl) {
  if (jv_is_arr(input)) {
    jv_force(input);
    jv *r = jv_seq(ev);
    for (size_t i = 0; i < input->u.arr.len; i++) {
      jv *res = jname_lookup(ev, input->u.arr.v[i], key, kl);
      if (!res) continue;
      jv_force(res);
      if (jv_is_arr(res))
        for (size_t k = 0; k < res->u.arr.len; k++) jv_push(ev, r, res->u.arr.v[k]);
      else jv_push(ev, r, res);
    }
    return r;
  }
  if (jv_is_obj(input)) return jv_get(input, key, kl);
  return NULL;
}

/* --- grouping, sorting --- */

static jv *reduce_tuple_stream(jev *ev, jv *ts) {
  if (!jv_is_arr(ts)) return ts;
  jv *r = tuple_copy(ev, ts->u.arr.v[0]);
  for (size_t i = 1; i < ts->u.arr.len; i++) {
    jv *t = ts->u.arr.v[i];
    for (size_t k = 0; k < t->u.obj.len; k++) {
      jv *prev = jv_get(r, t->u.obj.k[k], t->u.obj.kl[k]);
      jv_set(ev, r, t->u.obj.k[k], t->u.obj.kl[k], jv_append(ev, prev, t->u.obj.v[k]));
    }
  }
  return r;
}

static jv *eval_group(jev *ev, jnode *const *pairs, size_t npairs, bool literal,
                      int gpos, jv *input, jenv *env) {
  if (literal && !jv_is_arr(input)) {
    /* An object constructor over one value (or none) with distinct
     * literal keys ({'id': a, 'n': b}): each key is a group of its own
     * holding that value, so the loops below come to this. */
    for (size_t p = 0; p < npairs; p++) plain_enter(ev); /* the keys */
    jv *result = jv_obj_cap(ev, npairs);
    for (size_t p = 0; p < npairs; p++) {
      const jnode *vn = pairs[2 * p + 1];
      /* A literal value is the node's own, as jeval would give it. */
      jv *v;
      if ((vn->type == N_STRING || vn->type == N_NUMBER) && vn->bare) {
        plain_enter(ev);
        v = (jv *)vn->lit;
      } else {
        v = jeval(ev, vn, input, env);
      }
      if (v) jv_add(ev, result, pairs[2 * p]->op, pairs[2 * p]->oplen, v);
    }
    return result;
  }
  jv *result = jv_obj(ev);
  /* groups: key -> (data, expr index), in first-seen order */
  jv *gdata = jv_obj(ev);
  jv *gidx = jv_obj(ev);
  bool reduce = input && jv_is_arr(input) && (input->flags & JA_TUPLE);
  if (!jv_is_arr(input)) {
    jv *s = jv_seq(ev);
    if (input) jv_push(ev, s, input);
    input = s;
  }
  jv_force(input);
  size_t n = input->u.arr.len;
  /* Whether a group's data is an array this loop made (by jv_append), so
   * that the next item can go on its end rather than into a copy. gidx
   * and gdata list the groups in the same order. */
  bool *owned = jalloc(ev, (n ? n : 1) * npairs + 1);
  memset(owned, 0, (n ? n : 1) * npairs + 1);
  for (size_t i = 0; i < (n ? n : 1); i++) {
    jv *item = n ? input->u.arr.v[i] : NULL;
    jenv *e = reduce ? env_from_tuple(ev, env, item) : env;
    for (size_t p = 0; p < npairs; p++) {
      jv *key = jeval(ev, pairs[2 * p], reduce ? tuple_at(item) : item, e);
      if (key && key->kind != JV_STR) jthrow(ev, "T1003", gpos, NULL, key);
      if (!key) continue;
      size_t g = 0;
      while (g < gidx->u.obj.len && !(gidx->u.obj.kl[g] == key->u.str.len &&
                                      !memcmp(gidx->u.obj.k[g], key->u.str.s, key->u.str.len)))
        g++;
      if (g < gidx->u.obj.len) {
        if (gidx->u.obj.v[g]->u.n != (double)p) jthrow(ev, "D1009", gpos, NULL, key);
        jv **data = &gdata->u.obj.v[g];
        if (owned[g] && item) {
          /* jv_append(*data, item), in place */
          jv_force(item);
          if (jv_is_arr(item))
            for (size_t k = 0; k < item->u.arr.len; k++) jv_push(ev, *data, item->u.arr.v[k]);
          else jv_push(ev, *data, item);
        } else {
          owned[g] = *data && item;
          *data = jv_append(ev, *data, item);
        }
      } else {
        jv_set(ev, gidx, key->u.str.s, key->u.str.len, jv_num(ev, (double)p));
        jv_set(ev, gdata, key->u.str.s, key->u.str.len, item);
      }
    }
  }
  for (size_t g = 0; g < gidx->u.obj.len; g++) {
    const char *k = gidx->u.obj.k[g];
    size_t kl = gidx->u.obj.kl[g];
    size_t p = (size_t)gidx->u.obj.v[g]->u.n;
    jv *ctx = gdata->u.obj.v[g];
    jenv *e = env;
    if (reduce) {
      jv *t = reduce_tuple_stream(ev, ctx);
      ctx = tuple_at(t);
      jv_del(t, "@", 1);
      e = env_from_tuple(ev, env, t);
    }
    jv *v = jeval(ev, pairs[2 * p + 1], ctx, e);
    if (v) jv_set(ev, result, k, kl, v);
  }
  return result;
}

typedef bool (*jswap_fn)(jev *ev, void *ctx, jv *a, jv *b);

/* Merge sort as jsonata-js's $sort: stable; swap(a, b) says b goes
 * first. */
static void msort(jev *ev, jv **v, jv **tmp, size_t n, jswap_fn swap, void *ctx) {
  if (n <= 1) return;
  size_t mid = n / 2;
  msort(ev, v, tmp, mid, swap, ctx);
  msort(ev, v + mid, tmp, n - mid, swap, ctx);
  size_t i = 0, j = mid, k = 0;
  while (i < mid && j < n) {
    if (swap(ev, ctx, v[i], v[j])) tmp[k++] = v[j++];
    else tmp[k++] = v[i++];
  }
  while (i < mid) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

jv *jsort_values(jev *ev, jv *arr, jswap_fn swap, void *ctx);
jv *jsort_values(jev *ev, jv *arr, jswap_fn swap, void *ctx) {
  jv_force(arr);
  size_t n = arr->u.arr.len;
  jv *r = jv_arr(ev, arr->flags & (JA_SEQ | JA_TUPLE));
  if (!n) return r;
  r->u.arr.v = jalloc(ev, n * sizeof *r->u.arr.v);
  memcpy(r->u.arr.v, arr->u.arr.v, n * sizeof *r->u.arr.v);
  r->u.arr.len = r->u.arr.cap = n;
  jv **tmp = jalloc(ev, n * sizeof *tmp);
  msort(ev, r->u.arr.v, tmp, n, swap, ctx);
  return r;
}

/* An order-by's terms are evaluated at most once for each item, when a
 * comparison first needs them (in the order the comparisons ask), rather
 * than at each comparison: the same values and the same first error, in
 * n evaluations instead of n log n. */
typedef struct sort_ctx {
  const jnode *expr;
  jenv *env;
  bool tuple;
  jv **items;
  jv **keys; /* item i, term t: keys[i * nterms + t] */
  bool *have;
} sort_ctx;

static jv *sort_key(jev *ev, sort_ctx *c, size_t i, size_t t) {
  size_t k = i * c->expr->nterms + t;
  if (!c->have[k]) {
    jv *x = c->items[i];
    jenv *e = c->env;
    if (c->tuple) {
      e = env_from_tuple(ev, c->env, x);
      x = tuple_at(x);
    }
    c->keys[k] = jeval(ev, c->expr->terms[t], x, e);
    c->have[k] = true;
  }
  return c->keys[k];
}

/* Whether item b goes before item a. */
static bool sort_swap(jev *ev, sort_ctx *c, size_t a, size_t b) {
  int comp = 0;
  for (size_t i = 0; comp == 0 && i < c->expr->nterms; i++) {
    jv *aa = sort_key(ev, c, a, i);
    jv *bb = sort_key(ev, c, b, i);
    if (!aa) {
      comp = bb ? 1 : 0;
      continue;
    }
    if (!bb) {
      comp = -1;
      continue;
    }
    if (!is_str_or_num(aa) || !is_str_or_num(bb))
      jthrow(ev, "T2008", c->expr->pos, NULL, !is_str_or_num(aa) ? aa : bb);
    if (aa->kind != bb->kind) {
      jerr_reset(&ev->err, "T2007");
      ev->err.pos = c->expr->pos;
      ev->err.value = aa;
      ev->err.value2 = bb;
      ev->err.has_value = ev->err.has_value2 = true;
      jrethrow(ev);
    }
    if (aa->kind == JV_NUM) comp = aa->u.n == bb->u.n ? 0 : aa->u.n < bb->u.n ? -1 : 1;
    else {
      int s = str_cmp(aa, bb);
      comp = s == 0 ? 0 : s < 0 ? -1 : 1;
    }
    if (c->expr->desc[i]) comp = -comp;
  }
  return comp == 1;
}

/* msort's merge sort over item numbers. */
static void msort_items(jev *ev, size_t *v, size_t *tmp, size_t n, sort_ctx *c) {
  if (n <= 1) return;
  size_t mid = n / 2;
  msort_items(ev, v, tmp, mid, c);
  msort_items(ev, v + mid, tmp, n - mid, c);
  size_t i = 0, j = mid, k = 0;
  while (i < mid && j < n) {
    if (sort_swap(ev, c, v[i], v[j])) tmp[k++] = v[j++];
    else tmp[k++] = v[i++];
  }
  while (i < mid) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

static jv *eval_sort(jev *ev, const jnode *expr, jv *input, jenv *env) {
  if (!input) return NULL;
  if (!jv_is_arr(input) || alen(input) <= 1) return input;
  size_t n = input->u.arr.len, nk = n * expr->nterms;
  sort_ctx c = {expr, env, (input->flags & JA_TUPLE) != 0, NULL, NULL, NULL};
  c.items = jalloc(ev, n * sizeof *c.items);
  memcpy(c.items, input->u.arr.v, n * sizeof *c.items);
  c.keys = jalloc(ev, (nk ? nk : 1) * sizeof *c.keys);
  c.have = jalloc(ev, nk ? nk : 1);
  memset(c.have, 0, nk);
  size_t *order = jalloc(ev, n * sizeof *order), *tmp = jalloc(ev, n * sizeof *tmp);
  for (size_t i = 0; i < n; i++) order[i] = i;
  msort_items(ev, order, tmp, n, &c);
  jv *r = jv_arr(ev, input->flags & (JA_SEQ | JA_TUPLE));
  r->u.arr.v = jalloc(ev, n * sizeof *r->u.arr.v);
  for (size_t i = 0; i < n; i++) r->u.arr.v[i] = c.items[order[i]];
  r->u.arr.len = r->u.arr.cap = n;
  return r;
}

/* --- functions --- */

int jfunc_arity(const jv *f) {
  if (!f || f->kind != JV_FUNC) return 0; /* applying it raises T1006 */
  switch (f->u.f.fk) {
  case F_LAMBDA: return (int)f->u.f.nparams;
  case F_NATIVE: return f->u.f.nat->arity;
  case F_PARTIAL: {
    int n = 0;
    for (size_t i = 0; i < f->u.f.nargs; i++)
      if (!f->u.f.params[i]) n++;
    return n;
  }
  default: return 1;
  }
}

static jv *eval_lambda(jev *ev, const jnode *expr, jv *input, jenv *env) {
  jv *f = jv_func(ev, F_LAMBDA);
  f->u.f.node = expr;
  f->u.f.env = env;
  f->u.f.input = input;
  f->u.f.thunk = expr->thunk;
  f->u.f.nparams = expr->nitems;
  if (expr->nitems) {
    f->u.f.params = jalloc(ev, expr->nitems * sizeof *f->u.f.params);
    for (size_t i = 0; i < expr->nitems; i++) f->u.f.params[i] = expr->items[i]->op;
  }
  return f;
}

static jv *regex_call(jev *ev, jv *re, jv *str);
static jv *transform_call(jev *ev, jv *tf, jv *obj);

static jv *apply_inner(jev *ev, jv *proc, jv **args, size_t nargs, jv *input,
                       jenv *env) {
  if (!proc || proc->kind != JV_FUNC) jthrow(ev, "T1006", -1, NULL, NULL);
  switch (proc->u.f.fk) {
  case F_LAMBDA: {
    const jnode *node = proc->u.f.node;
    if (node->sig) args = jsig_validate(ev, node->sig, args, nargs, input, &nargs);
    jenv *e = jenv_room(ev, proc->u.f.env, proc->u.f.nparams);
    for (size_t i = 0; i < proc->u.f.nparams; i++)
      jenv_bind(ev, e, proc->u.f.params[i], i < nargs ? args[i] : NULL);
    return jeval(ev, node->body, proc->u.f.input, e);
  }
  case F_NATIVE: {
    const jsig *sig = jnative_sig(proc->u.f.nat);
    if (sig) args = jsig_validate(ev, sig, args, nargs, input, &nargs);
    /* Natives read their arguments' elements and members directly, so
     * input containers are converted first; but $count needs only a
     * length (jv_len), and a large input array can stay as it is. */
    if (strcmp(proc->u.f.nat->name, "count"))
      for (size_t i = 0; i < nargs; i++) jv_force(args[i]);
    return proc->u.f.nat->fn(ev, args, nargs, input, env);
  }
  case F_PARTIAL: {
    jv *base = proc->u.f.base;
    jv **full = jalloc(ev, (proc->u.f.nargs + 1) * sizeof *full);
    size_t k = 0;
    for (size_t i = 0; i < proc->u.f.nargs; i++) {
      if (proc->u.f.params[i]) full[i] = proc->u.f.args[i];
      else full[i] = k < nargs ? args[k++] : NULL;
    }
    if (base->u.f.fk == F_LAMBDA) {
      /* jsonata-js's partially applied lambda has no signature */
      jenv *e = jenv_room(ev, base->u.f.env, base->u.f.nparams);
      for (size_t i = 0; i < base->u.f.nparams; i++)
        jenv_bind(ev, e, base->u.f.params[i], i < proc->u.f.nargs ? full[i] : NULL);
      return jeval(ev, base->u.f.node->body, base->u.f.input, e);
    }
    return apply_inner(ev, base, full, proc->u.f.nargs, input, env);
  }
  case F_REGEX:
    return regex_call(ev, proc, nargs ? args[0] : NULL);
  case F_TRANSFORM: {
    if (nargs > 1 || (nargs == 1 && args[0] && args[0]->kind != JV_OBJ && args[0]->kind != JV_ARR)) {
      jerr_reset(&ev->err, "T0410");
      ev->err.index = 1;
      ev->err.value = nargs ? args[0] : NULL;
      ev->err.has_value = true;
      jrethrow(ev);
    }
    return transform_call(ev, proc, nargs ? args[0] : input);
  }
  case F_CHAIN: {
    jv *r = japply(ev, proc->u.f.base, args, nargs, NULL, env);
    return japply(ev, proc->u.f.g, &r, 1, NULL, env);
  }
  }
  return NULL;
}

static bool is_thunk(const jv *v) {
  return v && v->kind == JV_FUNC && v->u.f.fk == F_LAMBDA && v->u.f.thunk;
}

jv *japply(jev *ev, jv *proc, jv **args, size_t nargs, jv *input, jenv *env) {
  jv *result = apply_inner(ev, proc, args, nargs, input, env);
  while (is_thunk(result) && result->u.f.node->body->type == N_FUNCTION) {
    jcharge(ev);
    const jnode *call = result->u.f.node->body;
    jenv *e = result->u.f.env;
    jv *next = jeval(ev, call->proc, result->u.f.input, e);
    jv **a = jalloc(ev, (call->nitems + 1) * sizeof *a);
    for (size_t i = 0; i < call->nitems; i++) a[i] = jeval(ev, call->items[i], result->u.f.input, e);
    result = apply_inner(ev, next, a, call->nitems, input, env);
  }
  return result;
}

static const char *proc_name(const jnode *p) {
  if (p->type == N_PATH) return p->items[0]->op;
  return p->op;
}

static jv *eval_function(jev *ev, const jnode *expr, jv *input, jenv *env,
                         jv *applyto, bool has_applyto) {
  jv *proc = jeval(ev, expr->proc, input, env);
  if (!proc && expr->proc->type == N_PATH && expr->proc->items[0]->op &&
      lookup(ev, env, expr->proc->items[0]->op, NULL))
    jthrow(ev, "T1005", expr->pos, expr->proc->items[0]->op, NULL);
  size_t nargs = expr->nitems + (has_applyto ? 1 : 0);
  jv **args = jalloc(ev, (nargs + 1) * sizeof *args);
  size_t k = 0;
  if (has_applyto) args[k++] = applyto;
  for (size_t i = 0; i < expr->nitems; i++) args[k++] = jeval(ev, expr->items[i], input, env);
  jhandler hd;
  jv *volatile result = NULL;
  JT_TRY(ev, hd) { result = japply(ev, proc, args, nargs, input, env); }
  else {
    JT_END(ev, hd);
    if (ev->err.pos < 0 || (proc && proc->kind == JV_FUNC)) ev->err.pos = expr->pos;
    if (!ev->err.token) ev->err.token = proc_name(expr->proc);
    jrethrow(ev);
  }
  JT_END(ev, hd);
  return result;
}

static jv *eval_partial(jev *ev, const jnode *expr, jv *input, jenv *env) {
  jv **args = jalloc(ev, (expr->nitems + 1) * sizeof *args);
  const char **holes = jalloc(ev, (expr->nitems + 1) * sizeof *holes);
  for (size_t i = 0; i < expr->nitems; i++) {
    const jnode *a = expr->items[i];
    holes[i] = NULL; /* a '?' */
    args[i] = NULL;
    if (!(a->type == N_OPERATOR && !strcmp(a->op, "?"))) {
      args[i] = jeval(ev, a, input, env);
      holes[i] = "";
    }
  }
  jv *proc = jeval(ev, expr->proc, input, env);
  if (!proc && expr->proc->type == N_PATH && lookup(ev, env, expr->proc->items[0]->op, NULL))
    jthrow(ev, "T1007", expr->pos, expr->proc->items[0]->op, NULL);
  if (!proc || proc->kind != JV_FUNC)
    jthrow(ev, "T1008", expr->pos, proc_name(expr->proc), NULL);
  jv *f = jv_func(ev, F_PARTIAL);
  f->u.f.base = proc;
  size_t n = expr->nitems;
  if (proc->u.f.fk == F_LAMBDA && proc->u.f.nparams > n) n = proc->u.f.nparams;
  f->u.f.args = jalloc(ev, (n + 1) * sizeof *f->u.f.args);
  f->u.f.params = jalloc(ev, (n + 1) * sizeof *f->u.f.params);
  for (size_t i = 0; i < n; i++) {
    f->u.f.args[i] = i < expr->nitems ? args[i] : NULL;
    f->u.f.params[i] = i < expr->nitems ? holes[i] : "";
  }
  f->u.f.nargs = n;
  return f;
}

static jv *eval_apply(jev *ev, const jnode *expr, jv *input, jenv *env) {
  jv *lhs = jeval(ev, expr->lhs, input, env);
  if (expr->rhs->type == N_FUNCTION) return eval_function(ev, expr->rhs, input, env, lhs, true);
  jv *func = jeval(ev, expr->rhs, input, env);
  if (!jv_is_func(func)) jthrow(ev, "T2006", expr->pos, NULL, func);
  if (jv_is_func(lhs)) {
    jv *c = jv_func(ev, F_CHAIN);
    c->u.f.base = lhs;
    c->u.f.g = func;
    return c;
  }
  return japply(ev, func, &lhs, 1, NULL, env);
}

/* --- regex --- */

bool jregex_exec(jev *ev, const jv *f, const char *s, size_t n, size_t from,
                 size_t **ovec, size_t *ngroups) {
  /* A function that is not a regular expression, given as a matcher:
   * jsonata-js calls it and checks what it returns; custom matchers are
   * not supported here, and are refused as jsonata-js refuses a matcher
   * whose answer has the wrong shape. */
  if (f->u.f.fk != F_REGEX) jthrow(ev, "T1010", -1, NULL, NULL);
  const pcre2_code *re = f->u.f.node->re;
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, ev->gctx);
  if (!md) jthrow_oom(ev);
  jcharge(ev);
  int rc = pcre2_match(re, (PCRE2_SPTR)s, n, from, 0, md, ev->mctx);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_MATCHLIMIT) {
    /* The compiled code's own limits (its stack, its count of the match
     * limit) are not the interpreter's: past them, the interpreter
     * decides, as it would have without the compiled code. */
    size_t jit = 0;
    if (pcre2_pattern_info(re, PCRE2_INFO_JITSIZE, &jit) == 0 && jit)
      rc = pcre2_match(re, (PCRE2_SPTR)s, n, from, PCRE2_NO_JIT, md, ev->mctx);
  }
  if (rc < 0) {
    pcre2_match_data_free(md);
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc == PCRE2_ERROR_NOMEMORY) jthrow_oom(ev);
    /* PCRE2's match limit stands for the evaluation's time: spent. */
    if (ev->budget && !ev->budget->spent) ev->budget->spent = WF__SPENT_TIME;
    ev->fuel = 0;
    jerr_reset(&ev->err, "U1003");
    jrethrow(ev);
  }
  uint32_t count = pcre2_get_ovector_count(md);
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
  size_t *out = jalloc(ev, 2 * count * sizeof *out);
  for (uint32_t i = 0; i < 2 * count; i++) out[i] = ov[i];
  pcre2_match_data_free(md);
  *ovec = out;
  *ngroups = count - 1;
  return true;
}

static jv *regex_call(jev *ev, jv *re, jv *str) {
  if (!jv_is_str(str)) return NULL;
  size_t *ov, ng;
  if (!jregex_exec(ev, re, str->u.str.s, str->u.str.len, 0, &ov, &ng)) return NULL;
  jv *o = jv_obj(ev);
  jv_set(ev, o, "match", 5, jv_str(ev, str->u.str.s + ov[0], ov[1] - ov[0]));
  jv_set(ev, o, "start", 5, jv_num(ev, (double)jutf8_len(str->u.str.s, ov[0])));
  jv_set(ev, o, "end", 3, jv_num(ev, (double)jutf8_len(str->u.str.s, ov[1])));
  jv *g = jv_arr(ev, 0);
  for (size_t i = 1; i <= ng; i++) {
    if (ov[2 * i] == PCRE2_UNSET) jv_push(ev, g, jv_str(ev, "", 0));
    else jv_push(ev, g, jv_str(ev, str->u.str.s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]));
  }
  jv_set(ev, o, "groups", 6, g);
  return o;
}

/* --- transform --- */

static jv *clone_value(jev *ev, jv *v) {
  if (!v) return NULL;
  jv_force(v);
  switch (v->kind) {
  case JV_ARR: {
    jv *a = jv_arr(ev, 0);
    for (size_t i = 0; i < v->u.arr.len; i++) {
      jv *x = v->u.arr.v[i];
      jv_push(ev, a, (x && x->kind != JV_FUNC) ? clone_value(ev, x) : JV_NULLV);
    }
    return a;
  }
  case JV_OBJ: {
    jv *o = jv_obj(ev);
    for (size_t i = 0; i < v->u.obj.len; i++) {
      jv *x = v->u.obj.v[i];
      if (!x) continue;
      jv_set(ev, o, v->u.obj.k[i], v->u.obj.kl[i],
             x->kind == JV_FUNC ? jv_str(ev, "", 0) : clone_value(ev, x));
    }
    return o;
  }
  case JV_NUM: return jv_num(ev, jnum_prec15(v->u.n));
  case JV_FUNC: return jv_str(ev, "", 0);
  default: return v;
  }
}

jv *jclone(jev *ev, jv *v);
jv *jclone(jev *ev, jv *v) { return clone_value(ev, v); }

static jv *transform_call(jev *ev, jv *tf, jv *obj) {
  if (!obj) return NULL;
  const jnode *expr = tf->u.f.node;
  jenv *env = tf->u.f.env;
  jv *cl = lookup(ev, env, "clone", NULL);
  if (!jv_is_func(cl)) jthrow(ev, "T2013", expr->pos, NULL, NULL);
  jv *result = japply(ev, cl, &obj, 1, NULL, env);
  jv *matches = jeval(ev, expr->lhs, result, env);
  if (!matches) return result;
  if (!jv_is_arr(matches)) {
    jv *a = jv_arr(ev, 0);
    jv_push(ev, a, matches);
    matches = a;
  }
  jv_force(matches);
  for (size_t i = 0; i < matches->u.arr.len; i++) {
    jv *m = matches->u.arr.v[i];
    jv *upd = jeval(ev, expr->rhs, m, env);
    if (upd) {
      jv_force(upd);
      if (upd->kind != JV_OBJ) jthrow(ev, "T2011", expr->rhs->pos, NULL, upd);
      if (jv_is_obj(m))
        for (size_t k = 0; k < upd->u.obj.len; k++)
          jv_set(ev, m, upd->u.obj.k[k], upd->u.obj.kl[k], upd->u.obj.v[k]);
    }
    if (expr->third) {
      jv *del = jeval(ev, expr->third, m, env);
      if (del) {
        jv *val = del;
        if (!jv_is_arr(del)) {
          jv *a = jv_arr(ev, 0);
          jv_push(ev, a, del);
          del = a;
        }
        jv_force(del);
        for (size_t k = 0; k < del->u.arr.len; k++)
          if (!jv_is_str(del->u.arr.v[k])) jthrow(ev, "T2012", expr->third->pos, NULL, val);
        if (jv_is_obj(m))
          for (size_t k = 0; k < del->u.arr.len; k++)
            jv_del(m, del->u.arr.v[k]->u.str.s, del->u.arr.v[k]->u.str.len);
      }
    }
  }
  return result;
}

/* --- evaluate --- */

jv *jeval(jev *ev, const jnode *expr, jv *input, jenv *env) {
  if (++ev->depth > ev->max_depth) {
    jerr_reset(&ev->err, "U1001");
    jrethrow(ev);
  }
  jcharge(ev);
  jv *result = NULL;
  switch (expr->type) {
  case N_PATH: result = eval_path(ev, expr, input, env); break;
  case N_BINARY: result = eval_binary(ev, expr, input, env); break;
  case N_UNARY: result = eval_unary(ev, expr, input, env); break;
  case N_NAME: result = jname_lookup(ev, input, expr->op, expr->oplen); break;
  case N_STRING: result = (jv *)expr->lit; break;
  case N_NUMBER: result = (jv *)expr->lit; break;
  case N_VALUE:
    result = expr->vkind == 0 ? JV_NULLV : jv_bool(expr->vkind == 1);
    break;
  case N_WILDCARD: result = eval_wildcard(ev, input); break;
  case N_DESCENDANT: result = eval_descendants(ev, input); break;
  case N_PARENT: result = jlookup_var(env, expr->slot->label); break;
  case N_CONDITION: {
    bool d;
    jv *c = jeval(ev, expr->lhs, input, env);
    if (jv_truthy(c, &d) && d) result = jeval(ev, expr->rhs, input, env);
    else if (expr->third) result = jeval(ev, expr->third, input, env);
    break;
  }
  case N_BLOCK: {
    jenv *e = jenv_new(ev, env);
    for (size_t i = 0; i < expr->nitems; i++) result = jeval(ev, expr->items[i], input, e);
    break;
  }
  case N_BIND: {
    jv *v = jeval(ev, expr->rhs, input, env);
    jenv_bind(ev, env, expr->lhs->op, v);
    result = v;
    break;
  }
  case N_REGEX: {
    result = jv_func(ev, F_REGEX);
    result->u.f.node = expr;
    break;
  }
  case N_FUNCTION: result = eval_function(ev, expr, input, env, NULL, false); break;
  case N_VARIABLE:
    if (expr->oplen == 0) {
      result = (jv_is_arr(input) && (input->flags & JA_OUTER)) ? input->u.arr.v[0] : input;
    } else {
      result = lookup(ev, env, expr->op, expr->native);
    }
    break;
  case N_LAMBDA: result = eval_lambda(ev, expr, input, env); break;
  case N_PARTIAL: result = eval_partial(ev, expr, input, env); break;
  case N_APPLY: result = eval_apply(ev, expr, input, env); break;
  case N_TRANSFORM:
    result = jv_func(ev, F_TRANSFORM);
    result->u.f.node = expr;
    result->u.f.env = env;
    break;
  case N_SORT: result = eval_sort(ev, expr, input, env); break;
  default: break;
  }
  /* Predicates and a grouping (read from the node's second line only
   * when its first says it has them). */
  if (!expr->bare) {
    for (size_t i = 0; i < expr->npred; i++) result = eval_filter(ev, expr->pred[i].expr, result, env);
    if (expr->type != N_PATH && expr->has_group)
      result = eval_group(ev, expr->group, expr->ngroup, expr->group_literal, expr->group_pos, result, env);
  }
  if (result && jv_is_seq(result) && !(result->flags & JA_TUPLE)) {
    if (expr->keep_array) result->flags |= JA_KEEP;
    if (result->u.arr.len == 0) result = NULL;
    else if (result->u.arr.len == 1 && !(result->flags & JA_KEEP)) result = result->u.arr.v[0];
  }
  ev->depth--;
  return result;
}
