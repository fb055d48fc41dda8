/* Running statistics: numeric values found in records and record sizes. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void pd_numeric_add(pd_numeric *n, double v) {
  if (n->count == 0 || v < n->min) n->min = v;
  if (n->count == 0 || v > n->max) n->max = v;
  n->count++;
  /* Neumaier summation: many small values after a large one would
   * otherwise vanish from a plain double sum. */
  double t = n->sum + v;
  if (fabs(n->sum) >= fabs(v))
    n->comp += (n->sum - t) + v;
  else
    n->comp += (v - t) + n->sum;
  n->sum = t;
}

void pd_numeric_merge(pd_numeric *into, const pd_numeric *from) {
  if (from->count == 0) return;
  if (into->count == 0 || from->min < into->min) into->min = from->min;
  if (into->count == 0 || from->max > into->max) into->max = from->max;
  into->count += from->count;
  double t = into->sum + from->sum;
  if (fabs(into->sum) >= fabs(from->sum))
    into->comp += (into->sum - t) + from->sum;
  else
    into->comp += (from->sum - t) + into->sum;
  into->sum = t;
  into->comp += from->comp;
}

json_t *pd_json_number(double v) {
  if (v == trunc(v) && fabs(v) <= 9007199254740992.0)
    return json_integer((json_int_t)v);
  return json_real(v);
}

json_t *pd_numeric_json(const pd_numeric *n) {
  double sum = n->sum + n->comp;
  json_t *o = json_object();
  if (!o) return NULL;
  int rc = json_object_set_new(o, "count", json_integer((json_int_t)n->count));
  rc |= json_object_set_new(o, "sum", pd_json_number(n->count ? sum : 0));
  rc |= json_object_set_new(o, "min", n->count ? pd_json_number(n->min)
                                              : json_null());
  rc |= json_object_set_new(o, "max", n->count ? pd_json_number(n->max)
                                              : json_null());
  rc |= json_object_set_new(
      o, "mean", n->count ? pd_json_number(sum / (double)n->count)
                          : json_null());
  if (rc) {
    json_decref(o);
    return NULL;
  }
  return o;
}

void pd_sizes_add(pd_sizes *s, uint64_t bytes) {
  if (s->count == 0 || bytes < s->min) s->min = bytes;
  if (s->count == 0 || bytes > s->max) s->max = bytes;
  s->count++;
  s->total += bytes;
}

json_t *pd_sizes_json(const pd_sizes *s) {
  json_t *o = json_object();
  if (!o) return NULL;
  int rc = json_object_set_new(o, "total", json_integer((json_int_t)s->total));
  rc |= json_object_set_new(o, "min", json_integer((json_int_t)s->min));
  rc |= json_object_set_new(o, "max", json_integer((json_int_t)s->max));
  rc |= json_object_set_new(
      o, "mean",
      pd_json_number(s->count ? (double)s->total / (double)s->count : 0));
  if (rc) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static bool blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
static bool digit(char c) { return c >= '0' && c <= '9'; }

bool pd_number_parse(const char *s, size_t n, double *out) {
  size_t i = 0, end = n;
  while (i < end && blank(s[i])) i++;
  while (end > i && blank(s[end - 1])) end--;
  size_t start = i;
  if (i < end && (s[i] == '+' || s[i] == '-')) i++;
  size_t int_digits = 0, frac_digits = 0;
  while (i < end && digit(s[i])) i++, int_digits++;
  if (i < end && s[i] == '.') {
    i++;
    while (i < end && digit(s[i])) i++, frac_digits++;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < end && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < end && (s[i] == '+' || s[i] == '-')) i++;
    size_t exp_digits = 0;
    while (i < end && digit(s[i])) i++, exp_digits++;
    if (exp_digits == 0) return false;
  }
  if (i != end) return false;
  /* strtod needs a terminated string; cells are short, but a pathological
   * one is bounded by the record size limit anyway. */
  char small[64], *buf = small;
  size_t len = end - start;
  if (len >= sizeof small && !(buf = malloc(len + 1))) return false;
  memcpy(buf, s + start, len);
  buf[len] = '\0';
  double v = strtod(buf, NULL);
  if (buf != small) free(buf);
  if (!isfinite(v)) return false;
  *out = v;
  return true;
}
