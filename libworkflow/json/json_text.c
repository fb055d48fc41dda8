#include "json_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

/* The fast path of a real with few decimals (10.5, 0.25, 3.0): d is
 * n / 10^k for the smallest k with n whole; dividing two exact doubles
 * rounds correctly (IEEE), so when n / 10^k gives d back exactly, n's
 * digits are d's shortest. False when no k up to 8 does. */
static bool short_decimal(double d, char digits[24], size_t *nd, int *exp10) {
  static const double P10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  if (!(d >= 1e-3 && d < 1e15)) return false;
  for (int k = 0; k <= 8; k++) {
    double t = d * P10[k];
    if (t >= 9007199254740992.0) return false; /* 2^53 */
    double n = floor(t + 0.5);
    if (n / P10[k] != d) continue;
    char buf[24];
    int len = snprintf(buf, sizeof buf, "%.0f", n);
    if (len <= 0 || len >= (int)sizeof buf) return false;
    size_t m = (size_t)len;
    while (m > 1 && buf[m - 1] == '0') m--;
    memcpy(digits, buf, m);
    digits[m] = '\0';
    *nd = m;
    *exp10 = len - 1 - k;
    return true;
  }
  return false;
}

void wf__json_format_real(char out[32], double d) {
  if (isnan(d) || isinf(d)) {
    snprintf(out, 32, "%s", isnan(d) ? "NaN" : (d < 0 ? "-Infinity" : "Infinity"));
    return;
  }
  if (d == 0) {
    snprintf(out, 32, "%s", signbit(d) ? "-0.0" : "0.0");
    return;
  }
  char digits[24];
  size_t nd = 0;
  int exp10 = 0;
  bool neg = d < 0;
  if (!short_decimal(fabs(d), digits, &nd, &exp10)) {
    /* Shortest digits that read back as the same double: 15 significant
     * digits suffice for almost every value (trailing zeros are trimmed
     * below); 16 or 17 for the rest. */
    char buf[40];
    for (int prec = 14; prec <= 16; prec++) {
      snprintf(buf, sizeof buf, "%.*e", prec, d);
      if (strtod(buf, NULL) == d) break;
    }
    const char *p = buf;
    if (*p == '-') p++;
    for (; *p && *p != 'e'; p++)
      if (*p >= '0' && *p <= '9' && nd < sizeof digits - 1)
        digits[nd++] = *p;
    digits[nd] = '\0';
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = '\0';
    exp10 = (*p == 'e') ? atoi(p + 1) : 0;
  }

  char *o = out;
  if (neg) *o++ = '-';
  if (exp10 >= -3 && exp10 < 7) {
    if (exp10 >= 0) {
      for (int i = 0; i <= exp10; i++) *o++ = (size_t)i < nd ? digits[i] : '0';
      *o++ = '.';
      if ((size_t)exp10 + 1 < nd)
        for (size_t i = (size_t)exp10 + 1; i < nd; i++) *o++ = digits[i];
      else
        *o++ = '0';
    } else {
      *o++ = '0';
      *o++ = '.';
      for (int i = 0; i < -exp10 - 1; i++) *o++ = '0';
      for (size_t i = 0; i < nd; i++) *o++ = digits[i];
    }
    *o = '\0';
  } else {
    *o++ = digits[0];
    *o++ = '.';
    if (nd > 1)
      for (size_t i = 1; i < nd; i++) *o++ = digits[i];
    else
      *o++ = '0';
    snprintf(o, 32 - (size_t)(o - out), "E%d", exp10);
  }
}

void wf__json_dump_string(wf__strbuf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  wf__strbuf_putc(b, '"');
  size_t run = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    wf__strbuf_append(b, s + run, i - run);
    run = i + 1;
    char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        break;
    }
    wf__strbuf_puts(b, esc);
  }
  wf__strbuf_append(b, s + run, len - run);
  wf__strbuf_putc(b, '"');
}

bool wf__json_dump_scalar(wf__strbuf *b, const json_t *v) {
  char num[32];
  switch (json_typeof(v)) {
    case JSON_NULL: wf__strbuf_append(b, "null", 4); return true;
    case JSON_TRUE: wf__strbuf_append(b, "true", 4); return true;
    case JSON_FALSE: wf__strbuf_append(b, "false", 5); return true;
    case JSON_INTEGER:
      snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
      wf__strbuf_puts(b, num);
      return true;
    case JSON_REAL:
      wf__json_format_real(num, json_real_value(v));
      wf__strbuf_puts(b, num);
      return true;
    default: return false;
  }
}

static void dump(wf__strbuf *b, const json_t *v, int indent, int depth) {
  if (wf__json_dump_scalar(b, v)) return;
  switch (json_typeof(v)) {
    case JSON_STRING:
      wf__json_dump_string(b, json_string_value(v), json_string_length(v));
      return;
    case JSON_ARRAY: {
      size_t n = json_array_size(v);
      wf__strbuf_putc(b, '[');
      for (size_t i = 0; i < n; i++) {
        if (i) wf__strbuf_putc(b, ',');
        if (indent) wf__strbuf_printf(b, "\n%*s", indent * (depth + 1), "");
        dump(b, json_array_get(v, i), indent, depth + 1);
      }
      if (indent && n) wf__strbuf_printf(b, "\n%*s", indent * depth, "");
      wf__strbuf_putc(b, ']');
      return;
    }
    case JSON_OBJECT: {
      const char *key;
      json_t *val;
      bool first = true;
      wf__strbuf_putc(b, '{');
      json_object_foreach((json_t *)v, key, val) {
        if (!first) wf__strbuf_putc(b, ',');
        first = false;
        if (indent) wf__strbuf_printf(b, "\n%*s", indent * (depth + 1), "");
        wf__json_dump_string(b, key, strlen(key));
        wf__strbuf_puts(b, indent ? ": " : ":");
        dump(b, val, indent, depth + 1);
      }
      if (indent && !first) wf__strbuf_printf(b, "\n%*s", indent * depth, "");
      wf__strbuf_putc(b, '}');
      return;
    }
    default: return; /* scalars: above */
  }
}

void wf__json_dump(wf__strbuf *b, const json_t *v) { dump(b, v, 0, 0); }

void wf__json_dump_pretty(wf__strbuf *b, const json_t *v) { dump(b, v, 2, 0); }

char *wf__json_dumps(const json_t *v) {
  wf__strbuf b = WF__STRBUF_INIT;
  dump(&b, v, 0, 0);
  return wf__strbuf_take(&b);
}

char *wf__json_shown(const json_t *v) {
  if (json_is_string(v)) return wf__strdup(json_string_value(v));
  return wf__json_dumps(v);
}

static size_t string_size(const char *s, size_t len) {
  size_t n = 2;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ||
        c == '\b' || c == '\f')
      n += 2;
    else if (c < 0x20)
      n += 6;
    else
      n += 1;
  }
  return n;
}

/* Characters of an integer in decimal, without formatting it. */
static size_t int_chars(json_int_t v) {
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                               : (unsigned long long)v;
  size_t n = v < 0 ? 2 : 1;
  while (u >= 10) {
    u /= 10;
    n++;
  }
  return n;
}

/* With `bound`, reals count as their longest form (24 bytes) instead of
 * being formatted: an upper bound that is cheap to compute. */
static size_t size_of(const json_t *v, size_t limit, size_t acc, bool bound) {
  char num[32];
  if (acc > limit) return acc;
  switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_TRUE: return acc + 4;
    case JSON_FALSE: return acc + 5;
    case JSON_INTEGER:
      return acc + int_chars(json_integer_value(v));
    case JSON_REAL:
      if (bound) return acc + 24;
      wf__json_format_real(num, json_real_value(v));
      return acc + strlen(num);
    case JSON_STRING:
      return acc + string_size(json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
      size_t n = json_array_size(v);
      acc += 2 + (n ? n - 1 : 0);
      for (size_t i = 0; i < n && acc <= limit; i++)
        acc = size_of(json_array_get(v, i), limit, acc, bound);
      return acc;
    }
    case JSON_OBJECT: {
      const char *key;
      json_t *val;
      size_t n = json_object_size(v);
      acc += 2 + (n ? n - 1 : 0);
      json_object_foreach((json_t *)v, key, val) {
        acc += string_size(key, strlen(key)) + 1;
        acc = size_of(val, limit, acc, bound);
        if (acc > limit) break;
      }
      return acc;
    }
  }
  return acc;
}

size_t wf__json_size(const json_t *v, size_t limit) {
  /* The bound is exact for documents without reals and cheap for all. */
  size_t n = size_of(v, limit, 0, true);
  if (n > limit) n = size_of(v, limit, 0, false);
  return n > limit ? limit + 1 : n;
}
