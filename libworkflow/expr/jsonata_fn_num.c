/* JSONata's numeric functions and aggregates (jsonata-js 2.0.6): $number,
 * $abs, $floor, $ceil, $round (half to even), $power, $sqrt, $random,
 * $sum, $max, $min, $average, $formatBase. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonata_fn.h"

static jv *fn_number(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  if (x->kind == JV_NUM) return x;
  if (x->kind == JV_BOOL) return jv_num(ev, x->u.b ? 1 : 0);
  if (x->kind == JV_STR && x->u.str.len > 0 && x->u.str.len < 400) {
    char buf[400];
    memcpy(buf, x->u.str.s, x->u.str.len);
    buf[x->u.str.len] = '\0';
    const char *p = buf;
    if (*p == '-') p++;
    bool ok = *p >= '0' && *p <= '9';
    while (*p >= '0' && *p <= '9') p++;
    if (ok && *p == '.') {
      p++;
      ok = *p >= '0' && *p <= '9';
      while (*p >= '0' && *p <= '9') p++;
    }
    if (ok && (*p == 'e' || *p == 'E')) {
      p++;
      if (*p == '+' || *p == '-') p++;
      ok = *p >= '0' && *p <= '9';
      while (*p >= '0' && *p <= '9') p++;
    }
    if (ok && !*p) {
      double d = strtod(buf, NULL);
      if (isfinite(d)) return jv_num(ev, d);
    }
    if (buf[0] == '0' && buf[1] && strchr("xXoObB", buf[1]) && buf[2]) {
      int base = (buf[1] == 'x' || buf[1] == 'X') ? 16 : (buf[1] == 'o' || buf[1] == 'O') ? 8 : 2;
      char *end;
      double d = (double)strtoull(buf + 2, &end, base);
      if (!*end) return jv_num(ev, d);
    }
  }
  jerr_reset(&ev->err, "D3030");
  ev->err.value = x;
  ev->err.has_value = true;
  ev->err.index = 1;
  jrethrow(ev);
}

#define UNARY(name, expr)                                          \
  static jv *name(jev *ev, jv **a, size_t n, jv *in, jenv *env) { \
    (void)in, (void)env;                                           \
    jv *x = JARG(0);                                               \
    if (!x) return NULL;                                           \
    double v = x->u.n;                                             \
    double r = (expr);                                             \
    return jv_num(ev, r == 0 ? 0 : r);                             \
  }
UNARY(fn_abs, fabs(v))
UNARY(fn_floor, floor(v))
UNARY(fn_ceil, ceil(v))

static jv *fn_sqrt(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  if (x->u.n < 0) jthrow(ev, "D3060", -1, NULL, x);
  return jv_num(ev, sqrt(x->u.n));
}

static jv *fn_power(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0), *e = JARG(1);
  if (!x) return NULL;
  /* Math.pow(x, undefined) is NaN: not a JSON number. */
  double r = e ? pow(x->u.n, e->u.n) : NAN;
  if (!isfinite(r)) {
    jerr_reset(&ev->err, "D3061");
    ev->err.value = x;
    ev->err.has_value = true;
    ev->err.exp = e ? e->u.n : NAN;
    jrethrow(ev);
  }
  return jv_num(ev, r);
}

/* Math.round: half up */
static double js_round(double v) { return floor(v + 0.5); }

static double shift(double v, int p) {
  char buf[64], nb[40];
  jnum_format(nb, sizeof nb, v);
  char *e = strchr(nb, 'e');
  int ex = p;
  if (e) {
    ex += atoi(e + 1);
    *e = '\0';
  }
  snprintf(buf, sizeof buf, "%se%d", nb, ex);
  return strtod(buf, NULL);
}

static jv *fn_round(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0), *pr = JARG(1);
  if (!x) return NULL;
  double v = x->u.n;
  /* Precision past a double's 308 decimal places means the same. */
  double pd = pr ? trunc(pr->u.n) : 0;
  int p = isnan(pd) ? 0 : pd > 400 ? 400 : pd < -400 ? -400 : (int)pd;
  if (p) v = shift(v, p);
  double r = js_round(v);
  double diff = r - v;
  if (fabs(diff) == 0.5 && fabs(fmod(r, 2)) == 1) r -= 1;
  if (p) r = shift(r, -p);
  if (r == 0) r = 0;
  return jv_num(ev, r);
}

static jv *fn_random(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)a, (void)n, (void)in, (void)env;
  return jv_num(ev, (double)(jrandom(ev) >> 11) / 9007199254740992.0);
}

static jv *fn_sum(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  double s = 0;
  for (size_t i = 0; i < x->u.arr.len; i++) s += x->u.arr.v[i]->u.n;
  return jv_num(ev, s);
}

static jv *minmax(jev *ev, jv **a, size_t n, bool max) {
  jv *x = JARG(0);
  if (!x || x->u.arr.len == 0) return NULL;
  double r = x->u.arr.v[0]->u.n;
  for (size_t i = 1; i < x->u.arr.len; i++) {
    double v = x->u.arr.v[i]->u.n;
    if (max ? v > r : v < r) r = v;
  }
  return jv_num(ev, r);
}

static jv *fn_max(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return minmax(ev, a, n, true);
}
static jv *fn_min(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return minmax(ev, a, n, false);
}

static jv *fn_average(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x || x->u.arr.len == 0) return NULL;
  double s = 0;
  for (size_t i = 0; i < x->u.arr.len; i++) s += x->u.arr.v[i]->u.n;
  return jv_num(ev, s / (double)x->u.arr.len);
}

static jv *fn_format_base(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0), *r = JARG(1);
  if (!x) return NULL;
  double v = js_round(x->u.n);
  double rd = r ? trunc(r->u.n) : 10;
  int radix = rd >= 2 && rd <= 36 ? (int)rd : 0; /* else D3100 below */
  if (radix < 2 || radix > 36) jthrow(ev, "D3100", -1, NULL, r);
  /* JavaScript's Number.prototype.toString for what has no digits. */
  if (isnan(v)) return jv_cstr(ev, "NaN");
  if (isinf(v)) return jv_cstr(ev, v > 0 ? "Infinity" : "-Infinity");
  char buf[80];
  int k = 0;
  bool neg = v < 0;
  double m = fabs(v);
  do {
    int d = (int)fmod(m, radix);
    buf[k++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    m = floor(m / radix);
  } while (m > 0 && k < 70);
  char out[80];
  int o = 0;
  if (neg) out[o++] = '-';
  while (k) out[o++] = buf[--k];
  return jv_str(ev, jstrdup(ev, out, (size_t)o), (size_t)o);
}

const jnative jfn_num_table[] = {
    {"number", "<(nsb)-:n>", fn_number, 1},
    {"abs", "<n-:n>", fn_abs, 1},
    {"floor", "<n-:n>", fn_floor, 1},
    {"ceil", "<n-:n>", fn_ceil, 1},
    {"round", "<n-n?:n>", fn_round, 2},
    {"sqrt", "<n-:n>", fn_sqrt, 1},
    {"power", "<n-n:n>", fn_power, 2},
    {"random", "<:n>", fn_random, 0},
    {"sum", "<a<n>:n>", fn_sum, 1},
    {"max", "<a<n>:n>", fn_max, 1},
    {"min", "<a<n>:n>", fn_min, 1},
    {"average", "<a<n>:n>", fn_average, 1},
    {"formatBase", "<n-n?:s>", fn_format_base, 2},
    {NULL, NULL, NULL, 0}};
