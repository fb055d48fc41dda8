/* Validation rules (see rules.h): compiled once from the configuration,
 * then checked against each POST /process body on any thread. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"

#include <math.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  T_STRING = 1 << 0,
  T_NUMBER = 1 << 1, /* integer or real */
  T_INTEGER = 1 << 2,
  T_BOOLEAN = 1 << 3,
  T_OBJECT = 1 << 4,
  T_ARRAY = 1 << 5,
  T_NULL = 1 << 6
};

static const char *const TYPE_NAMES[] = {"string", "number", "integer",
                                         "boolean", "object", "array",
                                         "null"};
#define NTYPES (sizeof TYPE_NAMES / sizeof *TYPE_NAMES)

/* A pattern that backtracks without end must fail, not pin a thread: these
 * bound the work of one match (pcre2's defaults are ten million). */
#define MATCH_LIMIT 100000
#define DEPTH_LIMIT 1000

typedef struct rule {
  char *field;   /* as configured */
  char **segs;   /* member names, or "[]" for every element */
  size_t nsegs;
  bool required;
  unsigned types;          /* 0: any */
  json_t *enumeration;     /* array, or NULL */
  long long min_len, max_len; /* -1: none */
  bool has_min, has_max;
  double minimum, maximum;
  pcre2_code *re;
  pcre2_match_context *mctx;
} rule;

struct gw_rules {
  rule *v;
  size_t n;
};

static void rule_free(rule *r) {
  free(r->field);
  for (size_t i = 0; i < r->nsegs; i++) free(r->segs[i]);
  free(r->segs);
  json_decref(r->enumeration);
  pcre2_code_free(r->re);
  pcre2_match_context_free(r->mctx);
}

void gw_rules_free(gw_rules *rs) {
  if (!rs) return;
  for (size_t i = 0; i < rs->n; i++) rule_free(&rs->v[i]);
  free(rs->v);
  free(rs);
}

static int push_seg(rule *r, const char *s, size_t n) {
  char **v = realloc(r->segs, (r->nsegs + 1) * sizeof *v);
  if (!v) return -1;
  r->segs = v;
  if (!(v[r->nsegs] = strndup(s, n))) return -1;
  r->nsegs++;
  return 0;
}

/* "a.b[].c" -> a, b, [], c. Empty names and stray brackets are refused. */
static int parse_path(rule *r, const char *p) {
  while (*p) {
    size_t n = strcspn(p, ".[");
    if (n == 0 || push_seg(r, p, n)) return -1;
    p += n;
    while (p[0] == '[') {
      if (p[1] != ']' || push_seg(r, "[]", 2)) return -1;
      p += 2;
    }
    if (*p == '.') {
      if (!*++p) return -1;
    } else if (*p) {
      return -1;
    }
  }
  return r->nsegs ? 0 : -1;
}

static int parse_types(gw_cfgx *c, rule *r, json_t *v, const char *f) {
  if (!v) return 0;
  json_t *list = json_is_string(v) ? json_pack("[O]", v) : json_incref(v);
  size_t i;
  json_t *t;
  int rc = json_is_array(list) && json_array_size(list) ? 0 : -1;
  json_array_foreach(list, i, t) {
    size_t k = 0;
    while (k < NTYPES && !(json_is_string(t) &&
                           strcmp(json_string_value(t), TYPE_NAMES[k]) == 0))
      k++;
    if (k == NTYPES) rc = -1;
    else r->types |= 1u << k;
  }
  json_decref(list);
  if (rc)
    return gw_cfg_fail(c, f,
                       "must be one of string, number, integer, boolean, "
                       "object, array, null (or a list of them)");
  return 0;
}

static int compile_pattern(gw_cfgx *c, rule *r, const char *pattern,
                           const char *f) {
  int code;
  PCRE2_SIZE off;
  r->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                        PCRE2_UTF | PCRE2_NO_UTF_CHECK, &code, &off, NULL);
  if (!r->re) {
    PCRE2_UCHAR text[160];
    pcre2_get_error_message(code, text, sizeof text);
    return gw_cfg_fail(c, f, "invalid regular expression at offset %zu: %s",
                       (size_t)off, (const char *)text);
  }
  /* JIT is a speed-up only: without it the interpreter is used. */
  (void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
  if (!(r->mctx = pcre2_match_context_create(NULL)))
    return gw_cfg_fail(c, f, "out of memory");
  pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
  pcre2_set_depth_limit(r->mctx, DEPTH_LIMIT);
  return 0;
}

static int compile_rule(gw_cfgx *c, rule *r, json_t *obj, const char *f) {
  static const char *const known[] = {
      "field", "required", "type", "enum", "minLength", "maxLength",
      "minimum", "maximum", "pattern", NULL};
  char sub[GW_FIELD_MAX];
  if (!json_is_object(obj)) return gw_cfg_fail(c, f, "must be a mapping");
  if (gw_cfg_only(c, obj, f, known)) return -1;
  r->min_len = r->max_len = -1;
  gw_cfg_field(sub, f, "field");
  if (gw_cfg_string(c, obj, f, "field", &r->field)) return -1;
  if (!r->field) return gw_cfg_fail(c, sub, "required");
  if (parse_path(r, r->field))
    return gw_cfg_fail(c, sub,
                       "must be a path of member names joined by '.', each "
                       "optionally followed by [] (every element)");
  if (gw_cfg_bool(c, obj, f, "required", &r->required)) return -1;
  gw_cfg_field(sub, f, "type");
  if (parse_types(c, r, json_object_get(obj, "type"), sub)) return -1;
  json_t *e;
  if (gw_cfg_array(c, obj, f, "enum", &e)) return -1;
  if (e) {
    gw_cfg_field(sub, f, "enum");
    if (!json_array_size(e)) return gw_cfg_fail(c, sub, "must not be empty");
    r->enumeration = json_incref(e);
  }
  unsigned long long len;
  if (json_object_get(obj, "minLength")) {
    if (gw_cfg_uint(c, obj, f, "minLength", 0, 1u << 30, &len)) return -1;
    r->min_len = (long long)len;
  }
  if (json_object_get(obj, "maxLength")) {
    if (gw_cfg_uint(c, obj, f, "maxLength", 0, 1u << 30, &len)) return -1;
    r->max_len = (long long)len;
  }
  if (r->max_len >= 0 && r->min_len > r->max_len) {
    gw_cfg_field(sub, f, "minLength");
    return gw_cfg_fail(c, sub, "is greater than maxLength");
  }
  r->has_min = json_object_get(obj, "minimum") != NULL;
  r->has_max = json_object_get(obj, "maximum") != NULL;
  if (gw_cfg_number(c, obj, f, "minimum", -HUGE_VAL, HUGE_VAL, &r->minimum) ||
      gw_cfg_number(c, obj, f, "maximum", -HUGE_VAL, HUGE_VAL, &r->maximum))
    return -1;
  char *pattern = NULL;
  if (gw_cfg_string(c, obj, f, "pattern", &pattern)) return -1;
  if (pattern) {
    gw_cfg_field(sub, f, "pattern");
    int rc = compile_pattern(c, r, pattern, sub);
    free(pattern);
    if (rc) return rc;
  }
  return 0;
}

int gw_rules_compile(gw_rules **out, json_t *list, const char *field,
                     gw_cfgx *c) {
  *out = NULL;
  gw_rules *rs = calloc(1, sizeof *rs);
  size_t n = json_array_size(list);
  if (!rs || (n && !(rs->v = calloc(n, sizeof *rs->v)))) {
    free(rs);
    return gw_cfg_fail(c, field, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    char f[GW_FIELD_MAX];
    gw_cfg_index(f, field, i);
    rs->n = i + 1;
    if (compile_rule(c, &rs->v[i], json_array_get(list, i), f)) {
      gw_rules_free(rs);
      return -1;
    }
  }
  *out = rs;
  return 0;
}

/* ---- checking ---------------------------------------------------------- */

typedef struct check {
  json_t *errors;
  size_t max, count;
} check;

static void report(check *k, const char *path, const char *rule_name,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(check *k, const char *path, const char *rule_name,
                   const char *fmt, ...) {
  if (k->count >= k->max) return;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* Paths hold configured names and decimal indexes only, never input
   * text, so they are valid UTF-8 for jansson. */
  json_t *e = json_pack("{s:s, s:s, s:s}", "field", path, "rule", rule_name,
                        "message", msg);
  if (e && json_array_append_new(k->errors, e) == 0) k->count++;
}

static unsigned type_bits(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_STRING: return T_STRING;
    case JSON_INTEGER: return T_INTEGER | T_NUMBER;
    case JSON_REAL: return T_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE: return T_BOOLEAN;
    case JSON_OBJECT: return T_OBJECT;
    case JSON_ARRAY: return T_ARRAY;
    default: return T_NULL;
  }
}

static void type_list(unsigned types, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = '\0';
  for (size_t k = 0; k < NTYPES; k++)
    if (types & (1u << k))
      n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s",
                            n ? " or " : "", TYPE_NAMES[k]);
}

static long long length_of(const json_t *v) {
  if (json_is_array(v)) return (long long)json_array_size(v);
  if (json_is_object(v)) return (long long)json_object_size(v);
  if (!json_is_string(v)) return -1;
  /* Characters, not bytes: count the bytes that start a UTF-8 sequence. */
  long long n = 0;
  const unsigned char *s = (const unsigned char *)json_string_value(v);
  for (size_t i = 0, len = json_string_length(v); i < len; i++)
    n += (s[i] & 0xC0) != 0x80;
  return n;
}

static void check_enum(check *k, const rule *r, const json_t *v,
                       const char *path) {
  size_t i;
  json_t *e;
  json_array_foreach(r->enumeration, i, e) if (json_equal(e, v)) return;
  char list[200];
  size_t n = 0;
  list[0] = '\0';
  json_array_foreach(r->enumeration, i, e) {
    char *t = json_dumps(e, JSON_ENCODE_ANY);
    n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0,
                          "%s%s", i ? ", " : "", t ? t : "?");
    free(t);
  }
  report(k, path, "enum", "must be one of %s", list);
}

static void check_pattern(check *k, const rule *r, const json_t *v,
                          const char *path) {
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->re, NULL);
  if (!md) {
    report(k, path, "pattern", "could not be checked (out of memory)");
    return;
  }
  int rc = pcre2_match(r->re, (PCRE2_SPTR)json_string_value(v),
                       json_string_length(v), 0, 0, md, r->mctx);
  pcre2_match_data_free(md);
  if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
    report(k, path, "pattern", "is too complex to match the required pattern");
  else if (rc < 0)
    report(k, path, "pattern", "does not match the required pattern");
}

/* Every constraint but "required", on a value that is present. */
static void check_value(check *k, const rule *r, const json_t *v,
                        const char *path) {
  if (r->types && !(type_bits(v) & r->types)) {
    char types[96];
    type_list(r->types, types, sizeof types);
    report(k, path, "type", "must be %s", types);
    return;
  }
  if (r->enumeration) check_enum(k, r, v, path);
  long long len = length_of(v);
  const char *unit = json_is_string(v) ? "characters"
                     : json_is_array(v) ? "items" : "members";
  if (len >= 0 && r->min_len >= 0 && len < r->min_len)
    report(k, path, "minLength", "must have at least %lld %s", r->min_len,
           unit);
  if (len >= 0 && r->max_len >= 0 && len > r->max_len)
    report(k, path, "maxLength", "must have at most %lld %s", r->max_len,
           unit);
  if (json_is_number(v)) {
    double d = json_number_value(v);
    if (r->has_min && d < r->minimum)
      report(k, path, "minimum", "must be at least %g", r->minimum);
    if (r->has_max && d > r->maximum)
      report(k, path, "maximum", "must be at most %g", r->maximum);
  }
  if (r->re && json_is_string(v)) check_pattern(k, r, v, path);
}

/* Follow the rule's path from segment i below `v`, whose own path is
 * path[0..len). Mismatched containers are left to the rule of that
 * container (a rule for "data.type" says nothing when data is a list). */
static void walk(check *k, const rule *r, size_t i, const json_t *v,
                 char *path, size_t len, size_t cap) {
  if (k->count >= k->max) return;
  if (i == r->nsegs) {
    check_value(k, r, v, path);
    return;
  }
  const char *seg = r->segs[i];
  if (strcmp(seg, "[]") == 0) {
    if (!json_is_array(v)) return;
    for (size_t j = 0; j < json_array_size(v) && k->count < k->max; j++) {
      int n = snprintf(path + len, cap - len, "[%zu]", j);
      if (n < 0 || (size_t)n >= cap - len) return;
      walk(k, r, i + 1, json_array_get(v, j), path, len + (size_t)n, cap);
    }
    path[len] = '\0';
    return;
  }
  if (!json_is_object(v)) return;
  int n = snprintf(path + len, cap - len, "%s%s", len ? "." : "", seg);
  if (n < 0 || (size_t)n >= cap - len) return;
  const json_t *m = json_object_get(v, seg);
  if (m) walk(k, r, i + 1, m, path, len + (size_t)n, cap);
  else if (i + 1 == r->nsegs && r->required)
    report(k, path, "required", "is required");
  path[len] = '\0';
}

size_t gw_rules_check(const gw_rules *rs, const json_t *body, json_t *errors,
                      size_t max_errors) {
  check k = {errors, max_errors, 0};
  char path[512];
  for (size_t i = 0; rs && i < rs->n; i++) {
    path[0] = '\0';
    walk(&k, &rs->v[i], 0, body, path, 0, sizeof path);
  }
  return k.count;
}
