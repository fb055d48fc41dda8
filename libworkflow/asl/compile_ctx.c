/* Compile context: locations in AWS's syntax and typed field readers that
 * word their complaints as AWS does ("Expected value of type [STRING]",
 * "Minimum value is 0", "There should only be one of the following fields:
 * [a, b]"). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "compile.h"

size_t wf__loc_push(wf__cctx *cx, const char *segment) {
  size_t mark = cx->loc.len;
  wf__strbuf_putc(&cx->loc, '/');
  wf__strbuf_puts(&cx->loc, segment);
  return mark;
}

size_t wf__loc_index(wf__cctx *cx, size_t i) {
  size_t mark = cx->loc.len;
  wf__strbuf_printf(&cx->loc, "[%zu]", i);
  return mark;
}

void wf__loc_pop(wf__cctx *cx, size_t mark) {
  if (cx->loc.oom) return;
  cx->loc.len = mark;
  if (cx->loc.data) cx->loc.data[mark] = '\0';
}

const char *wf__loc(const wf__cctx *cx) {
  return cx->loc.len ? cx->loc.data : "/";
}

static void vadd(wf__cctx *cx, const char *code, const char *field,
                 const char *fmt, va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (field) {
    size_t mark = wf__loc_push(cx, field);
    wf__diag_add(cx->diags, code, wf__loc(cx), "%s", msg);
    wf__loc_pop(cx, mark);
  } else {
    wf__diag_add(cx->diags, code, wf__loc(cx), "%s", msg);
  }
}

void wf__note_unrunnable(wf__cctx *cx, const char *fmt, ...) {
  if (cx->unrunnable) return;
  va_list ap;
  va_start(ap, fmt);
  char text[512];
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  cx->unrunnable = wf__strdup(text); /* NULL: out of memory, noted by load */
}

void wf__cerr(wf__cctx *cx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vadd(cx, WF__SCHEMA, NULL, fmt, ap);
  va_end(ap);
}

void wf__cerr_at(wf__cctx *cx, const char *field, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vadd(cx, WF__SCHEMA, field, fmt, ap);
  va_end(ap);
}

void wf__cerr_code(wf__cctx *cx, const char *code, const char *field,
                   const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vadd(cx, code, field, fmt, ap);
  va_end(ap);
}

const char *wf__json_type_name(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return "OBJECT";
    case JSON_ARRAY: return "ARRAY";
    case JSON_STRING: return "STRING";
    case JSON_INTEGER: return "INTEGER";
    case JSON_REAL: return "NUMBER";
    case JSON_TRUE:
    case JSON_FALSE: return "BOOLEAN";
    case JSON_NULL: return "NULL";
  }
  return "NULL";
}

bool wf__get_string(wf__cctx *cx, json_t *obj, const char *field,
                    const char **out) {
  json_t *v = json_object_get(obj, field);
  if (!v) return false;
  if (!json_is_string(v)) {
    wf__cerr_at(cx, field, "Expected value of type [STRING]");
    return false;
  }
  *out = json_string_value(v);
  return true;
}

bool wf__get_bool(wf__cctx *cx, json_t *obj, const char *field, bool *out) {
  json_t *v = json_object_get(obj, field);
  if (!v) return false;
  if (!json_is_boolean(v)) {
    wf__cerr_at(cx, field, "Expected value of type [BOOLEAN]");
    return false;
  }
  *out = json_is_true(v);
  return true;
}

bool wf__get_int(wf__cctx *cx, json_t *obj, const char *field, int64_t min,
                 int64_t max, int64_t *out) {
  json_t *v = json_object_get(obj, field);
  if (!v) return false;
  if (!json_is_integer(v)) {
    wf__cerr_at(cx, field, "Expected value of type [INTEGER]");
    return false;
  }
  int64_t n = json_integer_value(v);
  if (n < min) {
    wf__cerr_at(cx, field, "Minimum value is %" PRId64, min);
    return false;
  }
  if (n > max) {
    wf__cerr_at(cx, field, "Maximum value is %" PRId64, max);
    return false;
  }
  *out = n;
  return true;
}

bool wf__get_number(wf__cctx *cx, json_t *obj, const char *field,
                    double *out) {
  json_t *v = json_object_get(obj, field);
  if (!v) return false;
  if (!json_is_number(v)) {
    wf__cerr_at(cx, field, "Expected value of type [NUMBER]");
    return false;
  }
  *out = json_number_value(v);
  return true;
}

void wf__get_path_field(wf__cctx *cx, json_t *obj, const char *field,
                        unsigned flags, wf__path_field *out) {
  json_t *v = json_object_get(obj, field);
  out->mode = WF__PATH_DEFAULT;
  out->path = NULL;
  if (!v) return;
  if (json_is_null(v)) {
    out->mode = WF__PATH_NULL;
    return;
  }
  if (!json_is_string(v)) {
    wf__cerr_at(cx, field, "Expected value of type [STRING]");
    return;
  }
  char msg[256];
  if (wf__jsonpath_compile(&out->path, json_string_value(v), flags, msg,
                           sizeof msg) != 0) {
    if (flags & WF__JP_REFERENCE)
      wf__cerr_at(cx, field, "Value is not a Reference Path");
    else
      wf__cerr_at(cx, field, "Value is not a valid JSONPath");
    return;
  }
  out->mode = WF__PATH_SET;
}

wf__jsonpath *wf__get_path(wf__cctx *cx, json_t *obj, const char *field,
                           unsigned flags) {
  json_t *v = json_object_get(obj, field);
  if (!v) return NULL;
  if (!json_is_string(v)) {
    wf__cerr_at(cx, field, "Expected value of type [STRING]");
    return NULL;
  }
  char msg[256];
  wf__jsonpath *p = NULL;
  if (wf__jsonpath_compile(&p, json_string_value(v), flags, msg,
                           sizeof msg) != 0) {
    if (flags & WF__JP_REFERENCE)
      wf__cerr_at(cx, field, "Value is not a Reference Path");
    else
      wf__cerr_at(cx, field, "Value is not a valid JSONPath");
    return NULL;
  }
  return p;
}

wf__template *wf__get_template(wf__cctx *cx, json_t *obj, const char *field,
                               unsigned flags) {
  json_t *v = json_object_get(obj, field);
  if (!v) return NULL;
  size_t mark = wf__loc_push(cx, field);
  wf__template *t = wf__template_compile(v, flags, cx->diags, wf__loc(cx));
  wf__loc_pop(cx, mark);
  return t;
}

void wf__cerr_language(wf__cctx *cx, wf__ql ql, const char *field) {
  if (ql == WF__QL_JSONATA)
    wf__cerr(cx, "The QueryLanguage is set to 'JSONata', but field '%s' is "
             "only supported for the 'JSONPath' QueryLanguage", field);
  else
    wf__cerr(cx, "The QueryLanguage is set to 'JSONPath', but field '%s' is "
             "only supported for the 'JSONata' QueryLanguage", field);
}

wf__jfield *wf__get_jfield(wf__cctx *cx, json_t *obj, const char *field,
                           const char *name) {
  json_t *v = json_object_get(obj, field);
  if (!v) return NULL;
  size_t mark = wf__loc_push(cx, field);
  /* A Catcher's fields are named "Catch[i]/...": there the error output
   * exists. */
  unsigned flags = name && !strncmp(name, "Catch[", 6)
                       ? WF__JFIELD_ERROR_OUTPUT : 0;
  wf__jfield *f = wf__jfield_compile(v, name ? name : field, flags,
                                     cx->diags, wf__loc(cx));
  wf__loc_pop(cx, mark);
  return f;
}

wf__jfield *wf__get_jfield_expr(wf__cctx *cx, json_t *obj, const char *field) {
  json_t *v = json_object_get(obj, field);
  return wf__jsonata_is_expr(v) ? wf__get_jfield(cx, obj, field, NULL) : NULL;
}

bool wf__exclusive(wf__cctx *cx, json_t *obj, const char *a, const char *b) {
  if (json_object_get(obj, a) && json_object_get(obj, b)) {
    wf__cerr(cx, "There should only be one of the following fields: [%s, %s]",
             a, b);
    return true;
  }
  return false;
}

char **wf__strings_dup(json_t *arr, size_t *n) {
  size_t count = json_array_size(arr);
  char **v = wf__calloc(count ? count : 1, sizeof(char *));
  if (!v) return NULL;
  for (size_t i = 0; i < count; i++) {
    const char *s = json_string_value(json_array_get(arr, i));
    if (!(v[i] = wf__strdup(s ? s : ""))) {
      wf__strings_free(v, i);
      return NULL;
    }
  }
  *n = count;
  return v;
}

void wf__strings_free(char **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) wf__free(v[i]);
  wf__free(v);
}

int wf__resolve_target(wf__cctx *cx, const char *field, const char *target) {
  json_t *idx = json_object_get(cx->scope_names, target);
  if (!idx) {
    wf__cerr_code(cx, "MISSING_TRANSITION_TARGET", field,
                  "Missing 'Next' target: %s", target);
    return -1;
  }
  return (int)json_integer_value(idx);
}

/* A workflow variable's name (an Assign key, ".$" taken off in JSONPath):
 * 1 to 80 characters, an identifier (a letter or '_' first, then letters,
 * digits or '_'; non-ASCII letters allowed), and not "states", which AWS
 * reserves for JSONata. The message is ours: AWS's text is not recorded. */
static void check_variable_names(wf__cctx *cx, json_t *assign, wf__ql ql) {
  const char *key;
  json_t *val;
  json_object_foreach(assign, key, val) {
    size_t n = strlen(key);
    if (ql == WF__QL_JSONPATH && n >= 2 && !strcmp(key + n - 2, ".$")) n -= 2;
    bool ok = n >= 1 && n <= 80;
    for (size_t i = 0; ok && i < n; i++) {
      unsigned char c = (unsigned char)key[i];
      bool letter = c >= 0x80 || c == '_' || (c >= 'a' && c <= 'z') ||
                    (c >= 'A' && c <= 'Z');
      ok = letter || (i > 0 && c >= '0' && c <= '9');
    }
    if (!ok)
      wf__cerr_at(cx, "Assign",
                  "The variable name '%.*s' is not valid: it must be 1 to 80 "
                  "letters, digits or underscores, not starting with a digit",
                  (int)(n > 100 ? 100 : n), key);
    else if (n == 6 && !strncmp(key, "states", 6))
      wf__cerr_at(cx, "Assign",
                  "The variable name 'states' is reserved");
  }
}

bool wf__check_assign(wf__cctx *cx, json_t *obj, wf__ql ql) {
  json_t *assign = json_object_get(obj, "Assign");
  if (!assign) return true;
  if (!json_is_object(assign)) {
    wf__cerr_at(cx, "Assign", "Expected value of type [OBJECT]");
    return false;
  }
  check_variable_names(cx, assign, ql);
  return true;
}
