/* Filter criteria as Jayway JsonPath 2.0.0's Criteria evaluates them over
 * Jackson's Java objects: Criteria.safeCompare (numbers as BigDecimal,
 * strings by UTF-16 code units, the text "null" equal to null, a number
 * literal kept as a String), the operator table, and the exceptions that
 * escape (a String that is not a number compared with a number, a regex
 * operator without a pattern). */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "jsonpath_ast.h"
#include "regex_context.h"

/* --- Java's String.valueOf() of Jackson values --- */

static void java_number(wf__strbuf *b, const json_t *v) {
  if (json_is_integer(v)) {
    wf__strbuf_printf(b, "%lld", (long long)json_integer_value(v));
  } else {
    char r[32];
    wf__json_format_real(r, json_real_value(v));
    wf__strbuf_puts(b, r);
  }
}

void wf__jsonpath_java_string(wf__strbuf *b, const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: {
      /* LinkedHashMap.toString(): {k=v, k2=v2} */
      const char *k;
      json_t *x;
      bool first = true;
      wf__strbuf_putc(b, '{');
      json_object_foreach((json_t *)v, k, x) {
        if (!first) wf__strbuf_puts(b, ", ");
        first = false;
        wf__strbuf_puts(b, k);
        wf__strbuf_putc(b, '=');
        wf__jsonpath_java_string(b, x);
      }
      wf__strbuf_putc(b, '}');
      break;
    }
    case JSON_ARRAY:
      wf__strbuf_putc(b, '[');
      for (size_t i = 0; i < json_array_size(v); i++) {
        if (i) wf__strbuf_puts(b, ", ");
        wf__jsonpath_java_string(b, json_array_get(v, i));
      }
      wf__strbuf_putc(b, ']');
      break;
    case JSON_STRING:
      wf__strbuf_append(b, json_string_value(v), json_string_length(v));
      break;
    case JSON_INTEGER:
    case JSON_REAL:
      java_number(b, v);
      break;
    case JSON_TRUE:
      wf__strbuf_puts(b, "true");
      break;
    case JSON_FALSE:
      wf__strbuf_puts(b, "false");
      break;
    case JSON_NULL:
    default:
      wf__strbuf_puts(b, "null");
      break;
  }
}

/* --- filter values --- */

/* The Java object a filter operand stands for. */
typedef enum vkind { V_NULL, V_STR, V_NUM, V_BOOL, V_PAT, V_MAP, V_LIST } vkind;

typedef struct val {
  vkind k;
  const char *s; /* V_STR, V_PAT: text */
  size_t n;
  bool b;          /* V_BOOL */
  const json_t *j; /* the node, when the value comes from the document */
  const pcre2_code *re;
} val;

static val val_of_json(const json_t *j) {
  val v = {V_NULL, NULL, 0, false, j, NULL};
  switch (json_typeof(j)) {
    case JSON_OBJECT:
      v.k = V_MAP;
      break;
    case JSON_ARRAY:
      v.k = V_LIST;
      break;
    case JSON_STRING:
      v.k = V_STR;
      v.s = json_string_value(j);
      v.n = json_string_length(j);
      break;
    case JSON_INTEGER:
    case JSON_REAL:
      v.k = V_NUM;
      break;
    case JSON_TRUE:
    case JSON_FALSE:
      v.k = V_BOOL;
      v.b = json_is_true(j);
      break;
    default:
      break;
  }
  return v;
}

/* The text BigDecimal/toString() sees for a number value or a string. */
static void val_text(wf__strbuf *b, const val *v) {
  switch (v->k) {
    case V_STR:
    case V_PAT:
      wf__strbuf_append(b, v->s, v->n);
      break;
    case V_BOOL:
      wf__strbuf_puts(b, v->b ? "true" : "false");
      break;
    case V_NULL:
      wf__strbuf_puts(b, "null");
      break;
    default:
      wf__jsonpath_java_string(b, v->j);
      break;
  }
}

static const char *java_class(const val *v) {
  switch (v->k) {
    case V_STR:
      return "java.lang.String";
    case V_NUM:
      if (json_is_real(v->j)) return "java.lang.Double";
      return (json_integer_value(v->j) >= INT32_MIN &&
              json_integer_value(v->j) <= INT32_MAX)
                 ? "java.lang.Integer"
                 : "java.lang.Long";
    case V_BOOL:
      return "java.lang.Boolean";
    case V_MAP:
      return "java.util.LinkedHashMap";
    case V_LIST:
      return "java.util.ArrayList";
    case V_PAT:
      return "java.util.regex.Pattern";
    default:
      return "null";
  }
}

/* Number.toString() of a JSON number into buf[32]. */
static const char *num_text(const val *v, char buf[32]) {
  if (json_is_integer(v->j))
    snprintf(buf, 32, "%lld", (long long)json_integer_value(v->j));
  else
    wf__json_format_real(buf, json_real_value(v->j));
  return buf;
}

/* --- BigDecimal comparison --- */

typedef struct dec {
  int sign;      /* -1, 0, 1 */
  const char *a; /* integer digits */
  size_t an;
  const char *f; /* fraction digits */
  size_t fn;
  size_t lead;   /* leading zeros of a+f skipped */
  size_t nd;     /* significant digits (trailing zeros dropped) */
  int64_t order; /* value in [10^(order-1), 10^order) */
} dec;

static char dec_digit(const dec *d, size_t k) {
  size_t i = d->lead + k;
  return i < d->an ? d->a[i] : d->f[i - d->an];
}

/* new BigDecimal(String): [+-]digits[.digits][(e|E)[+-]digits]. */
static bool dec_parse(const char *s, size_t n, dec *d) {
  size_t i = 0;
  bool neg = false;
  memset(d, 0, sizeof *d);
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  d->a = s + i;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++, d->an++;
  if (i < n && s[i] == '.') {
    i++;
    d->f = s + i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++, d->fn++;
  }
  if (d->an + d->fn == 0) return false;
  int64_t exp = 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    bool eneg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i == n) return false;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      exp = exp * 10 + (s[i++] - '0');
      if (exp > INT32_MAX) return false;
    }
    if (eneg) exp = -exp;
  }
  if (i != n) return false;
  size_t total = d->an + d->fn;
  while (d->lead < total && dec_digit(d, 0) == '0') d->lead++;
  if (d->lead == total) {
    d->sign = 0;
    return true;
  }
  d->nd = total - d->lead;
  while (d->nd > 0 && dec_digit(d, d->nd - 1) == '0') d->nd--;
  d->sign = neg ? -1 : 1;
  d->order = (int64_t)(total - d->lead) - (int64_t)d->fn + exp;
  return true;
}

static int dec_cmp(const dec *x, const dec *y) {
  if (x->sign != y->sign) return x->sign < y->sign ? -1 : 1;
  if (x->sign == 0) return 0;
  int mag = 0;
  if (x->order != y->order) {
    mag = x->order < y->order ? -1 : 1;
  } else {
    size_t n = x->nd > y->nd ? x->nd : y->nd;
    for (size_t k = 0; k < n && mag == 0; k++) {
      char a = k < x->nd ? dec_digit(x, k) : '0';
      char b = k < y->nd ? dec_digit(y, k) : '0';
      if (a != b) mag = a < b ? -1 : 1;
    }
  }
  return x->sign > 0 ? mag : -mag;
}

/* --- String.compareTo: UTF-16 code units --- */

typedef struct u16it {
  const unsigned char *s;
  size_t n, i;
  unsigned pending; /* low surrogate still to emit */
} u16it;

static bool u16_next(u16it *it, unsigned *unit) {
  if (it->pending) {
    *unit = it->pending;
    it->pending = 0;
    return true;
  }
  if (it->i >= it->n) return false;
  unsigned c = it->s[it->i];
  unsigned cp;
  size_t len = 1;
  if (c < 0x80)
    cp = c;
  else if ((c & 0xE0) == 0xC0)
    cp = c & 0x1F, len = 2;
  else if ((c & 0xF0) == 0xE0)
    cp = c & 0x0F, len = 3;
  else
    cp = c & 0x07, len = 4;
  for (size_t k = 1; k < len && it->i + k < it->n; k++)
    cp = (cp << 6) | (it->s[it->i + k] & 0x3F);
  it->i += len;
  if (cp >= 0x10000) {
    cp -= 0x10000;
    *unit = 0xD800 + (cp >> 10);
    it->pending = 0xDC00 + (cp & 0x3FF);
  } else {
    *unit = cp;
  }
  return true;
}

static int java_strcmp(const char *a, size_t an, const char *b, size_t bn) {
  u16it x = {(const unsigned char *)a, an, 0, 0};
  u16it y = {(const unsigned char *)b, bn, 0, 0};
  for (;;) {
    unsigned ua, ub;
    bool ha = u16_next(&x, &ua), hb = u16_next(&y, &ub);
    if (!ha || !hb) return ha ? 1 : (hb ? -1 : 0);
    if (ua != ub) return ua < ub ? -1 : 1;
  }
}

/* --- Criteria (Jayway 2.0.0) --- */

static bool nullish(const val *v) {
  return v->k == V_NULL ||
         (v->k == V_STR && v->n == 4 && !memcmp(v->s, "null", 4));
}

static bool java_bool(const val *v) { /* Boolean.valueOf(String) */
  return v->n == 4 && (v->s[0] | 0x20) == 't' && (v->s[1] | 0x20) == 'r' &&
         (v->s[2] | 0x20) == 'u' && (v->s[3] | 0x20) == 'e';
}

static int bool_cmp(bool x, bool y) { return x == y ? 0 : (x ? 1 : -1); }

enum { CMP_OK = 0, CMP_VCE = 1, CMP_ERR = -1 };

/* Criteria.safeCompare(expected, model); CMP_VCE is its
 * ValueCompareException (the criterion is then false). */
static int safe_compare(jp_ev *e, const val *l, const val *r, int *cmp) {
  *cmp = 0;
  if ((l->j && l->j == r->j) || (l->k == V_NULL && r->k == V_NULL))
    return CMP_OK;
  bool ln = nullish(l), rn = nullish(r);
  if (ln || rn) {
    *cmp = ln && !rn ? -1 : (!ln && rn ? 1 : 0);
    return CMP_OK;
  }
  if (l->k == V_STR && r->k == V_STR) {
    /* The expected string has \' turned into ' before comparing. */
    if (memchr(l->s, '\'', l->n)) {
      wf__strbuf t = WF__STRBUF_INIT;
      for (size_t i = 0; i < l->n; i++) {
        if (l->s[i] == '\\' && i + 1 < l->n && l->s[i + 1] == '\'') continue;
        wf__strbuf_putc(&t, l->s[i]);
      }
      if (t.oom) {
        wf__strbuf_free(&t);
        wf__jsonpath_throw(e, JX_OOM, "out of memory", NULL, NULL);
        return CMP_ERR;
      }
      *cmp = java_strcmp(wf__strbuf_cstr(&t), t.len, r->s, r->n);
      wf__strbuf_free(&t);
    } else {
      *cmp = java_strcmp(l->s, l->n, r->s, r->n);
    }
    return CMP_OK;
  }
  if ((l->k == V_NUM || l->k == V_STR) && r->k == V_NUM) {
    char lb[32], rb[32];
    const char *ls = l->s, *rs = num_text(r, rb);
    size_t lsn = l->n;
    if (l->k == V_NUM) {
      ls = num_text(l, lb);
      lsn = strlen(ls);
    }
    dec x, y;
    if (!dec_parse(ls, lsn, &x) || !dec_parse(rs, strlen(rs), &y)) {
      /* new BigDecimal("abc") escapes as NumberFormatException. */
      wf__jsonpath_throw(e, JX_OTHER, "java.lang.NumberFormatException", NULL,
                         NULL);
      return CMP_ERR;
    }
    *cmp = dec_cmp(&x, &y);
    return CMP_OK;
  }
  if (l->k == V_STR && r->k == V_BOOL) {
    *cmp = bool_cmp(java_bool(l), r->b);
    return CMP_OK;
  }
  if (l->k == V_BOOL && r->k == V_BOOL) {
    *cmp = bool_cmp(l->b, r->b);
    return CMP_OK;
  }
  return CMP_VCE;
}

/* One match, inside the evaluation's budget: PCRE2's own limits bound
 * the match (a catastrophic pattern fails here instead of running for
 * seconds), each match costs the subject's length in steps, and the CPU
 * clock is read every few matches, so many short matches that each stay
 * under the limits still end within the evaluation's time. A match that
 * passes a limit stops the evaluation: calling it "no match" would run the
 * workflow down the wrong branch. */
static jp_exc regex_match(jp_ev *e, const pcre2_code *re, const val *target,
                          bool *res) {
  wf__budget *b = e->budget;
  if (!e->md) {
    if (!e->gctx)
      e->gctx = wf__regex_context_new();
    if (!e->gctx) return JX_OOM;
    e->md = pcre2_match_data_create(1, e->gctx);
    if (!e->md) return JX_OOM;
    e->mctx = pcre2_match_context_create(e->gctx);
    if (!e->mctx) return JX_OOM;
    pcre2_set_depth_limit(e->mctx, WF__REGEX_DEPTH_LIMIT);
  }
  wf__strbuf t = WF__STRBUF_INIT;
  const char *s;
  size_t n;
  if (target->k == V_STR) {
    s = target->s;
    n = target->n;
  } else {
    val_text(&t, target);
    if (t.oom) return JX_OOM;
    s = wf__strbuf_cstr(&t);
    n = t.len;
  }
  b->ticks += 512; /* the clock is read at least every eighth match */
  if (!wf__budget_charge(b, n + 1)) {
    wf__strbuf_free(&t);
    return JX_SPENT;
  }
  bool steps_bound = b->steps < WF__REGEX_MATCH_LIMIT;
  pcre2_set_match_limit(e->mctx, steps_bound ? (uint32_t)b->steps + 1
                                             : WF__REGEX_MATCH_LIMIT);
  int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, e->md, e->mctx);
  wf__strbuf_free(&t);
  /* 0 means the one-pair ovector was too small: still a match. */
  *res = rc >= 0;
  switch (rc) {
    case PCRE2_ERROR_NOMEMORY:
      return JX_OOM;
    case PCRE2_ERROR_MATCHLIMIT:
      b->spent = steps_bound ? WF__SPENT_STEPS : WF__SPENT_REGEX;
      return JX_SPENT;
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
      b->spent = WF__SPENT_REGEX;
      return JX_SPENT;
    default:
      break;
  }
  return JX_OK;
}

/* Read an operand: a not-found path is reported as JX_PNF (the criterion is
 * false), other failures propagate. */
static jp_exc operand_value(jp_ev *e, const jp_operand *o, json_t *item, val *v,
                            json_t **owned_out) {
  *owned_out = NULL;
  switch (o->kind) {
    case JP_OPND_STRING:
      *v = (val){V_STR, o->str, o->len, false, NULL, NULL};
      return JX_OK;
    case JP_OPND_PATTERN:
      *v = (val){V_PAT, o->str, o->len, false, NULL, o->re};
      return JX_OK;
    case JP_OPND_PATH:
    default: {
      json_t *x;
      bool owned;
      jp_exc r = wf__jsonpath_def_eval(e, o->path,
                                       o->path->is_root_path ? e->root : item,
                                       false, &x, &owned);
      if (r != JX_OK) return r;
      if (owned) *owned_out = x;
      *v = val_of_json(x);
      return JX_OK;
    }
  }
}

static jp_exc crit_apply(jp_ev *e, const jp_pred *c, json_t *item, bool *res) {
  *res = false;
  if (!wf__budget_charge(e->budget, 1)) return JX_SPENT;
  if (c->op == JP_EXISTS) {
    /* Evaluated on the item (even a "$" path) with REQUIRE_PROPERTIES; a
     * present null counts as absent. */
    json_t *x;
    bool owned;
    jp_exc r = wf__jsonpath_def_eval(e, c->left.path, item, true, &x, &owned);
    if (r == JX_PNF) {
      *res = !c->exists;
      return JX_OK;
    }
    if (r != JX_OK) return r;
    *res = c->exists ? !json_is_null(x) : json_is_null(x);
    if (owned) json_decref(x);
    return JX_OK;
  }
  val model, expected;
  json_t *o1 = NULL, *o2 = NULL;
  jp_exc r = operand_value(e, &c->left, item, &model, &o1);
  if (r == JX_OK) r = operand_value(e, &c->right, item, &expected, &o2);
  if (r == JX_PNF) {
    r = JX_OK; /* Criteria.eval catches PathNotFoundException */
    goto done;
  }
  if (r != JX_OK) goto done;
  int cmp, sc;
  switch (c->op) {
    case JP_EQ:
    case JP_NE:
      sc = safe_compare(e, &expected, &model, &cmp);
      if (sc == CMP_ERR)
        r = JX_OTHER;
      else if (sc == CMP_OK)
        *res = c->op == JP_EQ ? cmp == 0 : cmp != 0;
      break;
    case JP_LT:
    case JP_LTE:
    case JP_GT:
    case JP_GTE:
      if ((expected.k == V_NULL) != (model.k == V_NULL)) break;
      sc = safe_compare(e, &expected, &model, &cmp);
      if (sc == CMP_ERR) {
        r = JX_OTHER;
      } else if (sc == CMP_OK) {
        /* eval(expected, model): GT is 0 > compare(expected, model). */
        if (c->op == JP_GT)
          *res = 0 > cmp;
        else if (c->op == JP_GTE)
          *res = 0 >= cmp;
        else if (c->op == JP_LT)
          *res = 0 < cmp;
        else
          *res = 0 <= cmp;
      }
      break;
    case JP_REGEX: {
      const val *pat, *target;
      if (model.k == V_PAT) {
        pat = &model;
        target = &expected;
      } else if (expected.k == V_PAT) {
        pat = &expected;
        target = &model;
      } else if (expected.k == V_NULL) {
        /* (Pattern) null, then null.matcher(...) unless the target is
         * null too. */
        if (model.k != V_NULL)
          r = wf__jsonpath_throw(e, JX_OTHER, "java.lang.NullPointerException",
                                 NULL, NULL);
        break;
      } else {
        wf__strbuf_reset(&e->msg);
        wf__strbuf_puts(&e->msg, java_class(&expected));
        wf__strbuf_puts(&e->msg, " cannot be cast to java.util.regex.Pattern");
        r = e->msg.oom ? JX_OOM : JX_OTHER;
        break;
      }
      if (target->k != V_NULL) r = regex_match(e, pat->re, target, res);
      break;
    }
    default:
      break;
  }
  if (r == JX_OTHER && e->msg.len == 0)
    wf__jsonpath_throw(e, JX_OTHER, "java.lang.RuntimeException", NULL, NULL);
done:
  json_decref(o1);
  json_decref(o2);
  return r;
}

jp_exc wf__jsonpath_pred_apply(jp_ev *e, const jp_pred *p, json_t *item,
                               bool *res) {
  switch (p->kind) {
    case JP_P_CRIT:
      return crit_apply(e, p, item, res);
    case JP_P_AND:
      for (size_t i = 0; i < p->nkids; i++) {
        jp_exc r = wf__jsonpath_pred_apply(e, p->kids[i], item, res);
        if (r != JX_OK || !*res) return r;
      }
      *res = true;
      return JX_OK;
    case JP_P_OR:
    default: {
      jp_exc r = wf__jsonpath_pred_apply(e, p->kids[0], item, res);
      if (r != JX_OK || *res) return r;
      return wf__jsonpath_pred_apply(e, p->kids[1], item, res);
    }
  }
}
