#include "template.h"

#include <string.h>

#include "alloc.h"
#include "diag.h"
#include "intrinsic.h"
#include "json_text.h"
#include "jsonpath.h"

typedef enum { T_LITERAL, T_OBJECT, T_ARRAY, T_PATH, T_INTRINSIC } kind;

struct wf__template {
  kind kind;
  json_t *literal;            /* T_LITERAL */
  size_t n;                   /* T_OBJECT / T_ARRAY children */
  char **keys;                /* T_OBJECT output keys (".$" stripped) */
  wf__template **children;
  wf__jsonpath *path;         /* T_PATH */
  wf__intrinsic *fn;          /* T_INTRINSIC */
  char *field;                /* T_PATH / T_INTRINSIC: the key as written */
};

static bool ends_with_dollar(const char *key, size_t len) {
  return len >= 2 && key[len - 2] == '.' && key[len - 1] == '$';
}

void wf__template_free(wf__template *t) {
  if (!t) return;
  json_decref(t->literal);
  for (size_t i = 0; i < t->n; i++) {
    if (t->keys) wf__free(t->keys[i]);
    wf__template_free(t->children[i]);
  }
  wf__free(t->keys);
  wf__free(t->children);
  wf__jsonpath_free(t->path);
  wf__intrinsic_free(t->fn);
  wf__free(t->field);
  wf__free(t);
}

static wf__template *node(kind k) {
  wf__template *t = wf__calloc(1, sizeof *t);
  if (t) t->kind = k;
  return t;
}

static void bad_value(wf_diagnostics *d, const char *loc, const char *key) {
  wf__diag_add(d, "SCHEMA_VALIDATION_FAILED", loc,
               "The value for the field '%s' must be a valid JSONPath or a "
               "valid intrinsic function call",
               key);
}

/* A ".$" value: a path ($, $$, $var) or an intrinsic call. */
static wf__template *compile_dynamic(const char *key, json_t *v,
                                     unsigned flags, wf_diagnostics *d,
                                     const char *loc, bool *ok) {
  char msg[256];
  if (!json_is_string(v)) {
    bad_value(d, loc, key);
    *ok = false;
    return NULL;
  }
  const char *text = json_string_value(v);
  wf__template *t = NULL;
  if (wf__intrinsic_is_call(text)) {
    wf__intrinsic *fn = NULL;
    if (wf__intrinsic_compile(&fn, text, flags, msg, sizeof msg) != 0) {
      bad_value(d, loc, key);
      *ok = false;
      return NULL;
    }
    t = node(T_INTRINSIC);
    if (t) t->fn = fn;
    else wf__intrinsic_free(fn);
  } else {
    wf__jsonpath *p = NULL;
    if (wf__jsonpath_compile(&p, text, flags, msg, sizeof msg) != 0) {
      bad_value(d, loc, key);
      *ok = false;
      return NULL;
    }
    t = node(T_PATH);
    if (t) t->path = p;
    else wf__jsonpath_free(p);
  }
  if (t && !(t->field = wf__strdup(key))) {
    wf__template_free(t);
    t = NULL;
  }
  if (!t) {
    d->oom = true;
    *ok = false;
  }
  return t;
}

static wf__template *compile(json_t *v, unsigned flags, wf_diagnostics *d,
                             const char *loc, bool *ok);

static wf__template *compile_object(json_t *v, unsigned flags,
                                    wf_diagnostics *d, const char *loc,
                                    bool *ok) {
  size_t n = json_object_size(v);
  wf__template *t = node(T_OBJECT);
  if (!t || (n && (!(t->keys = wf__calloc(n, sizeof(char *))) ||
                   !(t->children = wf__calloc(n, sizeof(wf__template *)))))) {
    wf__template_free(t);
    d->oom = true;
    *ok = false;
    return NULL;
  }
  const char *key;
  json_t *val;
  bool dynamic = false;
  json_object_foreach(v, key, val) {
    size_t len = strlen(key);
    bool dyn = ends_with_dollar(key, len);
    /* "a" and "a.$" would both write "a" (ASL: payload templates). */
    if (dyn) {
      char *plain = wf__strndup(key, len - 2);
      if (plain && json_object_get(v, plain)) {
        wf__diag_add(d, "SCHEMA_VALIDATION_FAILED", loc,
                     "The field '%s' and '%s' cannot both be present", plain,
                     key);
        *ok = false;
      }
      wf__free(plain);
    }
    wf__template *child = dyn ? compile_dynamic(key, val, flags, d, loc, ok)
                              : compile(val, flags, d, loc, ok);
    char *out_key = wf__strndup(key, dyn ? len - 2 : len);
    if (!out_key) {
      d->oom = true;
      *ok = false;
    }
    t->keys[t->n] = out_key;
    t->children[t->n] = child;
    t->n++;
    if (child && child->kind != T_LITERAL) dynamic = true;
  }
  if (*ok && !dynamic) {
    /* Nothing to evaluate: keep the value itself and share it. */
    wf__template_free(t);
    t = node(T_LITERAL);
    if (t) t->literal = json_incref(v);
  }
  return t;
}

static wf__template *compile(json_t *v, unsigned flags, wf_diagnostics *d,
                             const char *loc, bool *ok) {
  if (json_is_object(v)) return compile_object(v, flags, d, loc, ok);
  if (json_is_array(v)) {
    size_t n = json_array_size(v);
    wf__template *t = node(T_ARRAY);
    if (!t || (n && !(t->children = wf__calloc(n, sizeof(wf__template *))))) {
      wf__template_free(t);
      d->oom = true;
      *ok = false;
      return NULL;
    }
    bool dynamic = false;
    for (size_t i = 0; i < n; i++) {
      t->children[i] = compile(json_array_get(v, i), flags, d, loc, ok);
      t->n++;
      if (t->children[i] && t->children[i]->kind != T_LITERAL) dynamic = true;
    }
    if (*ok && !dynamic) {
      wf__template_free(t);
      t = node(T_LITERAL);
      if (t) t->literal = json_incref(v);
    }
    return t;
  }
  wf__template *t = node(T_LITERAL);
  if (t) t->literal = json_incref(v);
  else {
    d->oom = true;
    *ok = false;
  }
  return t;
}

wf__template *wf__template_compile(json_t *value, unsigned path_flags,
                                   wf_diagnostics *diags,
                                   const char *location) {
  bool ok = true;
  wf__template *t = compile(value, path_flags, diags, location, &ok);
  if (!ok) {
    wf__template_free(t);
    return NULL;
  }
  return t;
}

bool wf__template_is_static(const wf__template *t) {
  return t && t->kind == T_LITERAL;
}

size_t wf__template_key_count(const wf__template *t) {
  if (!t) return 0;
  if (t->kind == T_OBJECT) return t->n;
  if (t->kind == T_LITERAL && json_is_object(t->literal))
    return json_object_size(t->literal);
  return 0;
}

const char *wf__template_key(const wf__template *t, size_t i) {
  if (t->kind == T_OBJECT) return i < t->n ? t->keys[i] : NULL;
  size_t k = 0;
  const char *key;
  json_t *val;
  json_object_foreach(t->literal, key, val) {
    if (k++ == i) return key;
  }
  return NULL;
}

static int eval_path(json_t **out, const wf__template *t,
                     const wf__eval_env *env, wf__fault *fault) {
  wf__strbuf detail = WF__STRBUF_INIT;
  int rc = wf__jsonpath_eval_env(out, t->path, env, &detail);
  if (rc == WF__JP_SPENT) {
    wf__strbuf_free(&detail);
    return wf__fault_spent(fault, env->budget, wf__jsonpath_text(t->path));
  }
  if (rc == WF__JP_NULL_INPUT) {
    wf__fault_set_raw(fault, "States.Runtime", wf__strbuf_cstr(&detail));
    wf__strbuf_free(&detail);
    return -1;
  }
  wf__strbuf_free(&detail);
  if (rc == 0) return 0;
  /* AWS: "The JSONPath '$.x' specified for the field 'k.$' could not be
   * found in the input '<compact JSON>'". */
  json_t *doc = env->input;
  if (wf__jsonpath_root(t->path) == WF__JP_ROOT_CONTEXT && env->context)
    doc = env->context(env->payload);
  char *text = doc ? wf__json_dumps(doc) : NULL;
  wf__fault_set(fault, "States.Runtime",
                "The JSONPath '%s' specified for the field '%s' could not be "
                "found in the input '%s'",
                wf__jsonpath_text(t->path), t->field, text ? text : "null");
  wf__free(text);
  return -1;
}

int wf__template_eval(json_t **out, const wf__template *t,
                      const wf__eval_env *env, wf__fault *fault) {
  *out = NULL;
  switch (t->kind) {
    case T_LITERAL:
      *out = json_incref(t->literal);
      return 0;
    case T_PATH:
      return eval_path(out, t, env, fault);
    case T_INTRINSIC:
      return wf__intrinsic_eval(out, t->fn, env, fault);
    case T_ARRAY: {
      json_t *arr = json_array();
      if (!arr) return wf__fault_set(fault, "States.Runtime", "out of memory");
      for (size_t i = 0; i < t->n; i++) {
        json_t *v;
        if (wf__template_eval(&v, t->children[i], env, fault) != 0) {
          json_decref(arr);
          return -1;
        }
        json_array_append_new(arr, v);
      }
      *out = arr;
      return 0;
    }
    case T_OBJECT: {
      json_t *obj = json_object();
      if (!obj) return wf__fault_set(fault, "States.Runtime", "out of memory");
      for (size_t i = 0; i < t->n; i++) {
        json_t *v;
        if (wf__template_eval(&v, t->children[i], env, fault) != 0) {
          json_decref(obj);
          return -1;
        }
        json_object_set_new_nocheck(obj, t->keys[i], v);
      }
      *out = obj;
      return 0;
    }
  }
  return -1;
}
