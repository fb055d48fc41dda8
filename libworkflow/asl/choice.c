/* Choice rules: Variable + one comparison operator, or And/Or/Not.
 * Semantics as recorded on AWS: a type mismatch is false, never an error;
 * numbers compare by value (1 == 1.0); strings in Java's UTF-16 order;
 * timestamps as instants; Is*: false is the plain negation. */
#include "choice.h"

#include <string.h>

#include "alloc.h"
#include "compile.h"
#include "jsonpath.h"
#include "timestamp.h"

typedef enum {
  K_STRING,
  K_NUMBER,
  K_BOOLEAN,
  K_TIMESTAMP,
  K_MATCHES,
  K_TYPE /* Is* tests: the operand is a boolean */
} operand_kind;

typedef enum { C_EQ, C_LT, C_GT, C_LE, C_GE } cmp_kind;

typedef enum {
  T_NULL,
  T_PRESENT,
  T_NUMERIC,
  T_STRING,
  T_BOOLEAN,
  T_TIMESTAMP
} type_test;

typedef struct op_def {
  const char *name;
  operand_kind kind;
  cmp_kind cmp;     /* comparisons */
  type_test test;   /* K_TYPE */
  bool path;        /* the …Path twin: the operand is a path */
} op_def;

static const op_def OPS[] = {
    {"StringEquals", K_STRING, C_EQ, 0, false},
    {"StringEqualsPath", K_STRING, C_EQ, 0, true},
    {"StringLessThan", K_STRING, C_LT, 0, false},
    {"StringLessThanPath", K_STRING, C_LT, 0, true},
    {"StringGreaterThan", K_STRING, C_GT, 0, false},
    {"StringGreaterThanPath", K_STRING, C_GT, 0, true},
    {"StringLessThanEquals", K_STRING, C_LE, 0, false},
    {"StringLessThanEqualsPath", K_STRING, C_LE, 0, true},
    {"StringGreaterThanEquals", K_STRING, C_GE, 0, false},
    {"StringGreaterThanEqualsPath", K_STRING, C_GE, 0, true},
    {"StringMatches", K_MATCHES, C_EQ, 0, false},
    {"NumericEquals", K_NUMBER, C_EQ, 0, false},
    {"NumericEqualsPath", K_NUMBER, C_EQ, 0, true},
    {"NumericLessThan", K_NUMBER, C_LT, 0, false},
    {"NumericLessThanPath", K_NUMBER, C_LT, 0, true},
    {"NumericGreaterThan", K_NUMBER, C_GT, 0, false},
    {"NumericGreaterThanPath", K_NUMBER, C_GT, 0, true},
    {"NumericLessThanEquals", K_NUMBER, C_LE, 0, false},
    {"NumericLessThanEqualsPath", K_NUMBER, C_LE, 0, true},
    {"NumericGreaterThanEquals", K_NUMBER, C_GE, 0, false},
    {"NumericGreaterThanEqualsPath", K_NUMBER, C_GE, 0, true},
    {"BooleanEquals", K_BOOLEAN, C_EQ, 0, false},
    {"BooleanEqualsPath", K_BOOLEAN, C_EQ, 0, true},
    {"TimestampEquals", K_TIMESTAMP, C_EQ, 0, false},
    {"TimestampEqualsPath", K_TIMESTAMP, C_EQ, 0, true},
    {"TimestampLessThan", K_TIMESTAMP, C_LT, 0, false},
    {"TimestampLessThanPath", K_TIMESTAMP, C_LT, 0, true},
    {"TimestampGreaterThan", K_TIMESTAMP, C_GT, 0, false},
    {"TimestampGreaterThanPath", K_TIMESTAMP, C_GT, 0, true},
    {"TimestampLessThanEquals", K_TIMESTAMP, C_LE, 0, false},
    {"TimestampLessThanEqualsPath", K_TIMESTAMP, C_LE, 0, true},
    {"TimestampGreaterThanEquals", K_TIMESTAMP, C_GE, 0, false},
    {"TimestampGreaterThanEqualsPath", K_TIMESTAMP, C_GE, 0, true},
    {"IsNull", K_TYPE, C_EQ, T_NULL, false},
    {"IsPresent", K_TYPE, C_EQ, T_PRESENT, false},
    {"IsNumeric", K_TYPE, C_EQ, T_NUMERIC, false},
    {"IsString", K_TYPE, C_EQ, T_STRING, false},
    {"IsBoolean", K_TYPE, C_EQ, T_BOOLEAN, false},
    {"IsTimestamp", K_TYPE, C_EQ, T_TIMESTAMP, false},
};
#define NOPS (sizeof OPS / sizeof OPS[0])

typedef enum { R_COMPARE, R_AND, R_OR, R_NOT } rule_kind;

struct wf__choice_rule {
  rule_kind kind;
  /* R_COMPARE */
  const op_def *op;
  wf__jsonpath *variable;
  wf__jsonpath *operand_path; /* …Path operators */
  json_t *operand;            /* literal operand (kept for strings/numbers) */
  wf__instant operand_ts;     /* Timestamp* literal, parsed once */
  bool operand_bool;          /* BooleanEquals / Is* */
  /* R_AND / R_OR / R_NOT */
  wf__choice_rule **rules;
  size_t nrules;
};

void wf__choice_rule_free(wf__choice_rule *r) {
  if (!r) return;
  wf__jsonpath_free(r->variable);
  wf__jsonpath_free(r->operand_path);
  json_decref(r->operand);
  for (size_t i = 0; i < r->nrules; i++) wf__choice_rule_free(r->rules[i]);
  wf__free(r->rules);
  wf__free(r);
}

static const op_def *find_op(const char *key) {
  for (size_t i = 0; i < NOPS; i++)
    if (strcmp(OPS[i].name, key) == 0) return &OPS[i];
  return NULL;
}

static bool is_rule_key(const char *k, bool top) {
  if (strcmp(k, "Variable") == 0 || strcmp(k, "Comment") == 0 ||
      strcmp(k, "And") == 0 || strcmp(k, "Or") == 0 || strcmp(k, "Not") == 0)
    return true;
  if (top && (strcmp(k, "Next") == 0 || strcmp(k, "Assign") == 0))
    return true;
  return find_op(k) != NULL;
}

static const unsigned PATH_FLAGS = WF__JP_ALLOW_CONTEXT | WF__JP_ALLOW_VARIABLE;

static bool compile_operand(wf__cctx *cx, wf__choice_rule *r, json_t *v) {
  const op_def *op = r->op;
  char msg[256];
  if (op->path) {
    if (!json_is_string(v)) {
      wf__cerr_at(cx, op->name, "Expected value of type [STRING]");
      return false;
    }
    if (wf__jsonpath_compile(&r->operand_path, json_string_value(v),
                             PATH_FLAGS, msg, sizeof msg) != 0) {
      wf__cerr_at(cx, op->name, "The value for the field '%s' must be a valid "
                  "JSONPath", op->name);
      return false;
    }
    return true;
  }
  switch (op->kind) {
    case K_STRING:
    case K_MATCHES:
      if (!json_is_string(v)) {
        wf__cerr_at(cx, op->name, "Expected value of type [STRING]");
        return false;
      }
      break;
    case K_TIMESTAMP:
      if (!json_is_string(v)) {
        wf__cerr_at(cx, op->name, "Expected value of type [STRING]");
        return false;
      }
      if (!wf__timestamp_parse(json_string_value(v), &r->operand_ts)) {
        wf__cerr_at(cx, op->name, "String does not match RFC3339 timestamp");
        return false;
      }
      break;
    case K_NUMBER:
      if (!json_is_number(v)) {
        wf__cerr_at(cx, op->name, "Expected value of type [NUMBER]");
        return false;
      }
      break;
    case K_BOOLEAN:
    case K_TYPE:
      if (!json_is_boolean(v)) {
        wf__cerr_at(cx, op->name, "Expected value of type [BOOLEAN]");
        return false;
      }
      r->operand_bool = json_is_true(v);
      break;
  }
  r->operand = json_incref(v);
  return true;
}

static wf__choice_rule *compile_rule(wf__cctx *cx, json_t *js, bool top);

static bool compile_children(wf__cctx *cx, wf__choice_rule *r, json_t *js,
                             const char *field) {
  json_t *v = json_object_get(js, field);
  size_t mark = wf__loc_push(cx, field);
  bool ok = true;
  if (r->kind == R_NOT) {
    if (!json_is_object(v)) {
      wf__cerr(cx, "Expected value of type [OBJECT]");
      ok = false;
    } else {
      r->rules = wf__calloc(1, sizeof *r->rules);
      if (r->rules && (r->rules[0] = compile_rule(cx, v, false))) r->nrules = 1;
      else ok = false;
    }
  } else if (!json_is_array(v)) {
    wf__cerr(cx, "Expected value of type [ARRAY]");
    ok = false;
  } else if (json_array_size(v) == 0) {
    wf__cerr(cx, "Value cannot be empty");
    ok = false;
  } else {
    size_t n = json_array_size(v);
    r->rules = wf__calloc(n, sizeof *r->rules);
    for (size_t i = 0; r->rules && i < n; i++) {
      size_t m = wf__loc_index(cx, i);
      json_t *c = json_array_get(v, i);
      if (!json_is_object(c)) {
        wf__cerr(cx, "Expected value of type [OBJECT]");
        ok = false;
      } else if ((r->rules[r->nrules] = compile_rule(cx, c, false))) {
        r->nrules++;
      } else {
        ok = false;
      }
      wf__loc_pop(cx, m);
    }
    if (!r->rules) ok = false;
  }
  wf__loc_pop(cx, mark);
  return ok;
}

static wf__choice_rule *compile_rule(wf__cctx *cx, json_t *js, bool top) {
  wf__choice_rule *r = wf__calloc(1, sizeof *r);
  if (!r) {
    cx->diags->oom = true;
    return NULL;
  }
  bool ok = true;
  const char *key;
  json_t *val;
  int nops = 0;
  const char *combinator = NULL;
  json_object_foreach(js, key, val) {
    if (!is_rule_key(key, top)) {
      /* A JSONata rule's fields get AWS's QueryLanguage message. */
      if (top && (strcmp(key, "Condition") == 0 || strcmp(key, "Output") == 0))
        wf__cerr_language(cx, WF__QL_JSONPATH, key);
      else
        wf__cerr(cx, "Field '%s' is not supported", key);
      ok = false;
      continue;
    }
    const op_def *op = find_op(key);
    if (op) {
      nops++;
      r->op = op;
    } else if (strcmp(key, "And") == 0 || strcmp(key, "Or") == 0 ||
               strcmp(key, "Not") == 0) {
      nops++;
      combinator = key;
    }
  }
  if (nops > 1) {
    wf__cerr(cx, "Each Choice Rule can only have one comparison operator");
    ok = false;
  } else if (nops == 0) {
    wf__cerr(cx, "A Choice Rule must have a comparison operator, or one of "
             "[And, Or, Not]");
    ok = false;
  }
  if (top && !json_object_get(js, "Next")) {
    wf__cerr(cx, "These fields are required: [Next]");
    ok = false;
  }
  json_t *var = json_object_get(js, "Variable");
  if (ok && combinator) {
    r->kind = combinator[0] == 'A' ? R_AND : combinator[0] == 'O' ? R_OR : R_NOT;
    if (var) {
      wf__cerr(cx, "Field 'Variable' is not supported");
      ok = false;
    }
    if (!compile_children(cx, r, js, combinator)) ok = false;
  } else if (ok) {
    r->kind = R_COMPARE;
    char msg[256];
    if (!var) {
      wf__cerr(cx, "These fields are required: [Variable]");
      ok = false;
    } else if (!json_is_string(var)) {
      wf__cerr_at(cx, "Variable", "Expected value of type [STRING]");
      ok = false;
    } else if (wf__jsonpath_compile(&r->variable, json_string_value(var),
                                    PATH_FLAGS, msg, sizeof msg) != 0) {
      wf__cerr_at(cx, "Variable", "Value is not a valid JSONPath");
      ok = false;
    }
    if (!compile_operand(cx, r, json_object_get(js, r->op->name))) ok = false;
  }
  if (!ok) {
    wf__choice_rule_free(r);
    return NULL;
  }
  return r;
}

wf__choice_rule *wf__choice_rule_compile(wf__cctx *cx, json_t *rule,
                                         bool top) {
  return compile_rule(cx, rule, top);
}

bool wf__choice_is_jsonpath_key(const char *key) {
  return strcmp(key, "Variable") == 0 || strcmp(key, "And") == 0 ||
         strcmp(key, "Or") == 0 || strcmp(key, "Not") == 0 ||
         find_op(key) != NULL;
}

/* ---- evaluation ---- */

static size_t utf8_next(const unsigned char *s, size_t len, size_t i,
                        uint32_t *cp) {
  unsigned char c = s[i];
  size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (i + n > len) n = 1;
  uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
  for (size_t k = 1; k < n; k++) v = (v << 6) | (s[i + k] & 0x3Fu);
  *cp = v;
  return i + n;
}

int wf__utf16_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
  size_t i = 0, j = 0;
  /* Pending low surrogates of a supplementary character. */
  uint32_t px = 0, py = 0;
  while ((i < alen || px) && (j < blen || py)) {
    uint32_t ux, uy, cp;
    if (px) {
      ux = px;
      px = 0;
    } else {
      i = utf8_next(x, alen, i, &cp);
      if (cp >= 0x10000) {
        ux = 0xD800 + ((cp - 0x10000) >> 10);
        px = 0xDC00 + ((cp - 0x10000) & 0x3FF);
      } else {
        ux = cp;
      }
    }
    if (py) {
      uy = py;
      py = 0;
    } else {
      j = utf8_next(y, blen, j, &cp);
      if (cp >= 0x10000) {
        uy = 0xD800 + ((cp - 0x10000) >> 10);
        py = 0xDC00 + ((cp - 0x10000) & 0x3FF);
      } else {
        uy = cp;
      }
    }
    if (ux != uy) return ux < uy ? -1 : 1;
  }
  bool amore = i < alen || px, bmore = j < blen || py;
  return amore == bmore ? 0 : amore ? 1 : -1;
}

int wf__wildcard_match(const char *p, const char *s) {
  const char *star_p = NULL, *star_s = NULL;
  for (;;) {
    if (*p == '*') {
      star_p = ++p;
      star_s = s;
      continue;
    }
    if (*p == '\0') {
      if (*s == '\0') return 1;
    } else {
      char want = *p;
      const char *after = p + 1;
      if (want == '\\') {
        if (p[1] == '\0') return -1;
        want = p[1];
        after = p + 2;
      }
      if (*s != '\0' && *s == want) {
        p = after;
        s++;
        continue;
      }
    }
    if (!star_p || *star_s == '\0') {
      /* Check the rest of the pattern for an open escape before failing. */
      for (const char *q = p; *q; q++)
        if (*q == '\\' && *++q == '\0') return -1;
      return 0;
    }
    p = star_p;
    s = ++star_s;
  }
}

static int cmp_result(cmp_kind k, int c) {
  switch (k) {
    case C_EQ: return c == 0;
    case C_LT: return c < 0;
    case C_GT: return c > 0;
    case C_LE: return c <= 0;
    case C_GE: return c >= 0;
  }
  return 0;
}

static int num_cmp(const json_t *a, const json_t *b) {
  if (json_is_integer(a) && json_is_integer(b)) {
    json_int_t x = json_integer_value(a), y = json_integer_value(b);
    return x < y ? -1 : x > y;
  }
  double x = json_number_value(a), y = json_number_value(b);
  return x < y ? -1 : x > y;
}

static bool compare(const wf__choice_rule *r, const json_t *v,
                    const json_t *operand, int *bad_pattern) {
  const op_def *op = r->op;
  switch (op->kind) {
    case K_STRING:
      if (!json_is_string(v) || !json_is_string(operand)) return false;
      return cmp_result(op->cmp,
                        wf__utf16_cmp(json_string_value(v), json_string_length(v),
                                      json_string_value(operand),
                                      json_string_length(operand)));
    case K_MATCHES: {
      if (!json_is_string(v)) return false;
      int m = wf__wildcard_match(json_string_value(operand), json_string_value(v));
      if (m < 0) *bad_pattern = 1;
      return m == 1;
    }
    case K_NUMBER:
      if (!json_is_number(v) || !json_is_number(operand)) return false;
      return cmp_result(op->cmp, num_cmp(v, operand));
    case K_BOOLEAN:
      if (!json_is_boolean(v) || !json_is_boolean(operand)) return false;
      return json_is_true(v) == json_is_true(operand);
    case K_TIMESTAMP: {
      wf__instant a, b;
      if (!json_is_string(v) || !wf__timestamp_parse(json_string_value(v), &a))
        return false;
      if (op->path) {
        if (!json_is_string(operand) ||
            !wf__timestamp_parse(json_string_value(operand), &b))
          return false;
      } else {
        b = r->operand_ts;
      }
      return cmp_result(op->cmp, wf__instant_cmp(a, b));
    }
    case K_TYPE: {
      bool is;
      wf__instant ts;
      switch (op->test) {
        case T_NULL: is = json_is_null(v); break;
        case T_NUMERIC: is = json_is_number(v); break;
        case T_STRING: is = json_is_string(v); break;
        case T_BOOLEAN: is = json_is_boolean(v); break;
        case T_TIMESTAMP:
          is = json_is_string(v) && wf__timestamp_parse(json_string_value(v), &ts);
          break;
        default: is = true; break;
      }
      return is == r->operand_bool;
    }
  }
  return false;
}

static int invalid_path(wf__fault *fault, const wf__jsonpath *p) {
  return wf__fault_set(fault, "States.Runtime",
                       "Invalid path '%s': The choice state's condition path "
                       "references an invalid value.",
                       wf__jsonpath_text(p));
}

int wf__choice_rule_eval(bool *out, const wf__choice_rule *r,
                         const wf__eval_env *env, wf__fault *fault) {
  switch (r->kind) {
    case R_AND:
    case R_OR:
      for (size_t i = 0; i < r->nrules; i++) {
        bool b;
        if (wf__choice_rule_eval(&b, r->rules[i], env, fault) != 0) return -1;
        if (r->kind == R_AND && !b) return *out = false, 0;
        if (r->kind == R_OR && b) return *out = true, 0;
      }
      *out = r->kind == R_AND;
      return 0;
    case R_NOT: {
      bool b;
      if (wf__choice_rule_eval(&b, r->rules[0], env, fault) != 0) return -1;
      *out = !b;
      return 0;
    }
    case R_COMPARE:
      break;
  }
  wf__strbuf detail = WF__STRBUF_INIT;
  json_t *v = NULL;
  int rc = wf__jsonpath_eval_env(&v, r->variable, env, &detail);
  if (rc == WF__JP_SPENT) {
    wf__strbuf_free(&detail);
    return wf__fault_spent(fault, env->budget,
                           wf__jsonpath_text(r->variable));
  }
  if (r->op->kind == K_TYPE && r->op->test == T_PRESENT) {
    /* IsPresent: a present null is present; an indefinite path that
     * matches nothing is not. */
    bool present = rc == 0 && !(json_is_array(v) && json_array_size(v) == 0 &&
                                !wf__jsonpath_is_definite(r->variable));
    json_decref(v);
    wf__strbuf_free(&detail);
    *out = present == r->operand_bool;
    return 0;
  }
  if (rc != 0) {
    wf__strbuf_free(&detail);
    return invalid_path(fault, r->variable);
  }
  json_t *operand = r->operand;
  json_t *resolved = NULL;
  if (r->op->path) {
    rc = wf__jsonpath_eval_env(&resolved, r->operand_path, env, &detail);
    if (rc != 0) {
      json_decref(v);
      wf__strbuf_free(&detail);
      if (rc == WF__JP_SPENT)
        return wf__fault_spent(fault, env->budget,
                               wf__jsonpath_text(r->operand_path));
      return invalid_path(fault, r->operand_path);
    }
    operand = resolved;
  }
  wf__strbuf_free(&detail);
  int bad_pattern = 0;
  *out = compare(r, v, operand, &bad_pattern);
  json_decref(v);
  json_decref(resolved);
  if (bad_pattern)
    return wf__fault_set(fault, "States.Runtime",
                         "The StringMatches pattern '%s' ends with an "
                         "unmatched escape character '\\'",
                         json_string_value(r->operand));
  return 0;
}
