/* JSONata's array, object and higher-order functions (jsonata-js 2.0.6):
 * $count, $append, $reverse, $sort, $distinct, $shuffle, $zip, $map,
 * $filter, $single, $reduce, $keys, $lookup, $merge, $spread, $each,
 * $sift. */
#include <math.h>
#include <string.h>

#include "jsonata_fn.h"

/* Input containers are converted on first look (jsonata_value.c); the
 * arguments a function gets are, but not what is inside them. */
void jv_force(const jv *v);
size_t jv_len(const jv *v);

bool jfn_js_truthy(const jv *v) {
  if (!v) return false;
  switch (v->kind) {
  case JV_NULL: return false;
  case JV_BOOL: return v->u.b;
  case JV_NUM: return v->u.n != 0 && !isnan(v->u.n);
  case JV_STR: return v->u.str.len > 0;
  default: return true;
  }
}

jv *jfn_hof_call(jev *ev, jv *f, jv *v, jv *i, jv *arr, jenv *env) {
  jv *args[3] = {v, i, arr};
  size_t k = 1;
  int ar = jfunc_arity(f);
  if (ar >= 2) k = 2;
  if (ar >= 3) k = 3;
  return japply(ev, f, args, k, NULL, env);
}

static jv *fn_count(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  return jv_num(ev, x ? (double)jv_len(x) : 0);
}

static jv *fn_append(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return jv_append(ev, JARG(0), JARG(1));
}

static jv *fn_reverse(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  if (x->u.arr.len <= 1) return x;
  jv *r = jv_arr(ev, 0);
  for (size_t i = x->u.arr.len; i-- > 0;) jv_push(ev, r, x->u.arr.v[i]);
  return r;
}

static bool all_kind(const jv *x, jv_kind k) {
  for (size_t i = 0; i < x->u.arr.len; i++)
    if (!x->u.arr.v[i] || x->u.arr.v[i]->kind != k) return false;
  return true;
}

typedef struct cmp_ctx {
  jv *f;
  jenv *env;
} cmp_ctx;

static bool swap_default(jev *ev, void *c, jv *x, jv *y) {
  (void)ev, (void)c;
  if (x->kind == JV_NUM) return x->u.n > y->u.n;
  size_t l = x->u.str.len < y->u.str.len ? x->u.str.len : y->u.str.len;
  int r = memcmp(x->u.str.s, y->u.str.s, l);
  return r > 0 || (r == 0 && x->u.str.len > y->u.str.len);
}

static bool swap_fn(jev *ev, void *vc, jv *x, jv *y) {
  cmp_ctx *c = vc;
  jv *args[2] = {x, y};
  return jfn_js_truthy(japply(ev, c->f, args, 2, NULL, c->env));
}

static jv *fn_sort(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in;
  jv *x = JARG(0), *f = JARG(1);
  if (!x) return NULL;
  if (x->u.arr.len <= 1) return x;
  if (!f) {
    if (!all_kind(x, JV_NUM) && !all_kind(x, JV_STR)) jthrow(ev, "D3070", -1, NULL, NULL);
    jv *r = jsort_values(ev, x, swap_default, NULL);
    r->flags = 0;
    return r;
  }
  cmp_ctx c = {f, env};
  jv *r = jsort_values(ev, x, swap_fn, &c);
  r->flags = 0;
  return r;
}

static jv *fn_shuffle(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  if (x->u.arr.len <= 1) return x;
  jv *r = jv_arr(ev, 0);
  for (size_t i = 0; i < x->u.arr.len; i++) jv_push(ev, r, x->u.arr.v[i]);
  for (size_t i = r->u.arr.len - 1; i > 0; i--) {
    size_t j = (size_t)(jrandom(ev) % (i + 1));
    jv *t = r->u.arr.v[i];
    r->u.arr.v[i] = r->u.arr.v[j];
    r->u.arr.v[j] = t;
  }
  return r;
}

static jv *fn_distinct(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!jv_is_arr(x) || x->u.arr.len <= 1) return x;
  jv *r = jv_arr(ev, x->flags & JA_SEQ);
  for (size_t i = 0; i < x->u.arr.len; i++) {
    bool dup = false;
    for (size_t k = 0; k < r->u.arr.len && !dup; k++)
      dup = jv_deep_equal(r->u.arr.v[k], x->u.arr.v[i]);
    if (!dup) jv_push(ev, r, x->u.arr.v[i]);
  }
  return r;
}

static jv *fn_zip(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *r = jv_arr(ev, 0);
  size_t len = (size_t)-1;
  for (size_t i = 0; i < n; i++) {
    size_t l = jv_is_arr(a[i]) ? a[i]->u.arr.len : 0;
    if (l < len) len = l;
  }
  if (n == 0) len = 0;
  for (size_t k = 0; k < len; k++) {
    jv *t = jv_arr(ev, 0);
    for (size_t i = 0; i < n; i++) jv_push(ev, t, a[i]->u.arr.v[k]);
    jv_push(ev, r, t);
  }
  return r;
}

/* jfn_hof_call of element i, its index made only for a function that
 * takes it. */
static jv *hof_at(jev *ev, jv *f, jv *x, size_t i, jenv *env) {
  jv *index = jfunc_arity(f) >= 2 ? jv_num(ev, (double)i) : NULL;
  return jfn_hof_call(ev, f, x->u.arr.v[i], index, x, env);
}

static jv *fn_map(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in;
  jv *x = JARG(0), *f = JARG(1);
  if (!x) return NULL;
  jv *r = jv_seq(ev);
  for (size_t i = 0; i < x->u.arr.len; i++) {
    jv *v = hof_at(ev, f, x, i, env);
    if (v) jv_push(ev, r, v);
  }
  return r;
}

static jv *fn_filter(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in;
  jv *x = JARG(0), *f = JARG(1);
  if (!x) return NULL;
  jv *r = jv_seq(ev);
  for (size_t i = 0; i < x->u.arr.len; i++) {
    jv *v = hof_at(ev, f, x, i, env);
    bool d;
    if (jv_truthy(v, &d)) jv_push(ev, r, x->u.arr.v[i]);
  }
  return r;
}

static jv *fn_single(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in;
  jv *x = JARG(0), *f = JARG(1);
  if (!x) return NULL;
  bool found = false;
  jv *res = NULL;
  for (size_t i = 0; i < x->u.arr.len; i++) {
    bool pos = true;
    if (f) {
      jv *v = hof_at(ev, f, x, i, env);
      bool d;
      pos = jv_truthy(v, &d);
    }
    if (pos) {
      if (found) jthrow(ev, "D3138", -1, NULL, NULL);
      found = true;
      res = x->u.arr.v[i];
    }
  }
  if (!found) jthrow(ev, "D3139", -1, NULL, NULL);
  return res;
}

static jv *fn_reduce(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in;
  jv *x = JARG(0), *f = JARG(1), *init = JARG(2);
  if (!x) return NULL;
  int ar = jfunc_arity(f);
  if (ar < 2) jthrow(ev, "D3050", -1, NULL, NULL);
  jv *result;
  size_t i;
  if (!init && x->u.arr.len > 0) {
    result = x->u.arr.v[0];
    i = 1;
  } else {
    result = init;
    i = 0;
  }
  for (; i < x->u.arr.len; i++) {
    jv *args[4] = {result, x->u.arr.v[i], ar >= 3 ? jv_num(ev, (double)i) : NULL, x};
    size_t k = 2;
    if (ar >= 3) k = 3;
    if (ar >= 4) k = 4;
    result = japply(ev, f, args, k, NULL, env);
  }
  return result;
}

static void add_keys(jev *ev, jv *r, jv *o) {
  jv_force(o);
  for (size_t i = 0; i < o->u.obj.len; i++) {
    bool dup = false;
    for (size_t k = 0; k < r->u.arr.len && !dup; k++) {
      jv *e = r->u.arr.v[k];
      dup = e->u.str.len == o->u.obj.kl[i] && !memcmp(e->u.str.s, o->u.obj.k[i], e->u.str.len);
    }
    if (!dup) jv_push(ev, r, jv_str(ev, o->u.obj.k[i], o->u.obj.kl[i]));
  }
}

static jv *fn_keys(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  jv *r = jv_seq(ev);
  if (jv_is_arr(x)) {
    for (size_t i = 0; i < x->u.arr.len; i++)
      if (jv_is_obj(x->u.arr.v[i])) add_keys(ev, r, x->u.arr.v[i]);
  } else if (jv_is_obj(x)) {
    add_keys(ev, r, x);
  }
  return r;
}

static jv *fn_lookup(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0), *k = JARG(1);
  if (!k) return NULL;
  return jname_lookup(ev, x, k->u.str.s, k->u.str.len);
}

static jv *fn_merge(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  size_t cap = 0;
  for (size_t i = 0; i < x->u.arr.len; i++) {
    jv_force(x->u.arr.v[i]);
    cap += x->u.arr.v[i]->u.obj.len;
  }
  /* Made from the first object: its keys first, in its order. */
  jv *r = x->u.arr.len ? jv_obj_based(ev, cap, x->u.arr.v[0]) : jv_obj_cap(ev, cap);
  for (size_t i = 0; i < x->u.arr.len; i++) {
    jv *o = x->u.arr.v[i];
    /* The first object's keys are distinct: no need to look for them. */
    for (size_t k = 0; k < o->u.obj.len; k++) {
      if (i == 0) jv_add(ev, r, o->u.obj.k[k], o->u.obj.kl[k], o->u.obj.v[k]);
      else jv_set(ev, r, o->u.obj.k[k], o->u.obj.kl[k], o->u.obj.v[k]);
    }
  }
  if (x->u.arr.len) jv_based_done(r);
  return r;
}

static jv *spread(jev *ev, jv *x) {
  jv_force(x);
  if (jv_is_arr(x)) {
    jv *r = jv_seq(ev);
    for (size_t i = 0; i < x->u.arr.len; i++) r = jv_append(ev, r, spread(ev, x->u.arr.v[i]));
    return r;
  }
  if (jv_is_obj(x)) {
    jv *r = jv_seq(ev);
    for (size_t i = 0; i < x->u.obj.len; i++) {
      jv *o = jv_obj(ev);
      jv_set(ev, o, x->u.obj.k[i], x->u.obj.kl[i], x->u.obj.v[i]);
      jv_push(ev, r, o);
    }
    return r;
  }
  return x;
}

static jv *fn_spread(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return spread(ev, JARG(0));
}

static jv *fn_each(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in;
  jv *o = JARG(0), *f = JARG(1);
  jv *r = jv_seq(ev);
  if (!o) return r;
  for (size_t i = 0; i < o->u.obj.len; i++) {
    jv *v = jfn_hof_call(ev, f, o->u.obj.v[i], jv_str(ev, o->u.obj.k[i], o->u.obj.kl[i]), o, env);
    if (v) jv_push(ev, r, v);
  }
  return r;
}

static jv *fn_sift(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in;
  jv *o = JARG(0), *f = JARG(1);
  if (!o) return NULL;
  jv *r = jv_obj(ev);
  for (size_t i = 0; i < o->u.obj.len; i++) {
    jv *v = jfn_hof_call(ev, f, o->u.obj.v[i], jv_str(ev, o->u.obj.k[i], o->u.obj.kl[i]), o, env);
    bool d;
    if (jv_truthy(v, &d)) jv_set(ev, r, o->u.obj.k[i], o->u.obj.kl[i], o->u.obj.v[i]);
  }
  return r->u.obj.len ? r : NULL;
}

const jnative jfn_array_table[] = {
    {"count", "<a:n>", fn_count, 1},
    {"append", "<xx:a>", fn_append, 2},
    {"reverse", "<a:a>", fn_reverse, 1},
    {"sort", "<af?:a>", fn_sort, 2},
    {"shuffle", "<a:a>", fn_shuffle, 1},
    {"distinct", "<x:x>", fn_distinct, 1},
    {"zip", "<a+>", fn_zip, 0},
    {"map", "<af>", fn_map, 2},
    {"filter", "<af>", fn_filter, 2},
    {"single", "<af?>", fn_single, 2},
    {"reduce", "<afj?:j>", fn_reduce, 3},
    {NULL, NULL, NULL, 0}};

const jnative jfn_object_table[] = {
    {"keys", "<x-:a<s>>", fn_keys, 1},
    {"lookup", "<x-s:x>", fn_lookup, 2},
    {"merge", "<a<o>:o>", fn_merge, 1},
    {"spread", "<x-:a<o>>", fn_spread, 1},
    {"each", "<o-f:a>", fn_each, 2},
    {"sift", "<o-f?:o>", fn_sift, 2},
    {NULL, NULL, NULL, 0}};
