#include "json_text.h"

#include <math.h>
#include <stdint.h>
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
    /* n is a whole number below 2^53: its digits, without printf. */
    char buf[24];
    int len = 0;
    char rev[24];
    for (uint64_t u = (uint64_t)n; u || !len; u /= 10) rev[len++] = (char)('0' + u % 10);
    for (int i = 0; i < len; i++) buf[i] = rev[len - 1 - i];
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

/* One character's JSON escape into e (at most 6 characters) and its
 * length; 0 when the character stands for itself. */
static size_t escape_char(unsigned char c, char e[6]) {
  static const char hex[] = "0123456789abcdef";
  if (c >= 0x20 && c != '"' && c != '\\') return 0;
  e[0] = '\\';
  switch (c) {
    case '"': e[1] = '"'; return 2;
    case '\\': e[1] = '\\'; return 2;
    case '\n': e[1] = 'n'; return 2;
    case '\r': e[1] = 'r'; return 2;
    case '\t': e[1] = 't'; return 2;
    case '\b': e[1] = 'b'; return 2;
    case '\f': e[1] = 'f'; return 2;
    default:
      e[1] = 'u';
      e[2] = '0';
      e[3] = '0';
      e[4] = hex[c >> 4];
      e[5] = hex[c & 15];
      return 6;
  }
}

/* A JSON string: s escaped once; or, `nested`, escaped twice with its
 * quotes escaped: as it reads in the text of a document that is itself
 * the contents of a JSON string (an event's "input"). */
static void put_string(wf__strbuf *b, const char *s, size_t len, bool nested) {
  if (nested)
    wf__strbuf_append(b, "\\\"", 2);
  else
    wf__strbuf_putc(b, '"');
  size_t run = 0;
  for (size_t i = 0; i < len; i++) {
    char e[6];
    size_t n = escape_char((unsigned char)s[i], e);
    if (!n) continue;
    wf__strbuf_append(b, s + run, i - run);
    run = i + 1;
    if (!nested) {
      wf__strbuf_append(b, e, n);
      continue;
    }
    for (size_t k = 0; k < n; k++) {
      char e2[6];
      size_t n2 = escape_char((unsigned char)e[k], e2);
      if (n2)
        wf__strbuf_append(b, e2, n2);
      else
        wf__strbuf_putc(b, e[k]);
    }
  }
  wf__strbuf_append(b, s + run, len - run);
  if (nested)
    wf__strbuf_append(b, "\\\"", 2);
  else
    wf__strbuf_putc(b, '"');
}

void wf__json_dump_string(wf__strbuf *b, const char *s, size_t len) {
  put_string(b, s, len, false);
}

bool wf__json_dump_scalar(wf__strbuf *b, const json_t *v) {
  char num[32];
  switch (json_typeof(v)) {
    case JSON_NULL: wf__strbuf_append(b, "null", 4); return true;
    case JSON_TRUE: wf__strbuf_append(b, "true", 4); return true;
    case JSON_FALSE: wf__strbuf_append(b, "false", 5); return true;
    case JSON_INTEGER:
      wf__strbuf_put_int(b, (long long)json_integer_value(v));
      return true;
    case JSON_REAL:
      wf__json_format_real(num, json_real_value(v));
      wf__strbuf_puts(b, num);
      return true;
    default: return false;
  }
}

static void dump(wf__strbuf *b, const json_t *v, int indent, int depth,
                 bool nested) {
  if (wf__json_dump_scalar(b, v)) return;
  switch (json_typeof(v)) {
    case JSON_STRING:
      put_string(b, json_string_value(v), json_string_length(v), nested);
      return;
    case JSON_ARRAY: {
      size_t n = json_array_size(v);
      wf__strbuf_putc(b, '[');
      for (size_t i = 0; i < n; i++) {
        if (i) wf__strbuf_putc(b, ',');
        if (indent) wf__strbuf_printf(b, "\n%*s", indent * (depth + 1), "");
        dump(b, json_array_get(v, i), indent, depth + 1, nested);
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
        put_string(b, key, strlen(key), nested);
        if (indent)
          wf__strbuf_append(b, ": ", 2);
        else
          wf__strbuf_putc(b, ':');
        dump(b, val, indent, depth + 1, nested);
      }
      if (indent && !first) wf__strbuf_printf(b, "\n%*s", indent * depth, "");
      wf__strbuf_putc(b, '}');
      return;
    }
    default: return; /* scalars: above */
  }
}

void wf__json_dump(wf__strbuf *b, const json_t *v) { dump(b, v, 0, 0, false); }

void wf__json_dump_quoted(wf__strbuf *b, const json_t *v) {
  wf__strbuf_putc(b, '"');
  dump(b, v, 0, 0, true);
  wf__strbuf_putc(b, '"');
}

void wf__json_dump_pretty(wf__strbuf *b, const json_t *v) {
  dump(b, v, 2, 0, false);
}

char *wf__json_dumps(const json_t *v) {
  wf__strbuf b = WF__STRBUF_INIT;
  dump(&b, v, 0, 0, false);
  return wf__strbuf_take(&b);
}

char *wf__json_shown(const json_t *v) {
  if (json_is_string(v)) return wf__strdup(json_string_value(v));
  return wf__json_dumps(v);
}

/* What escaping adds to a byte: \" \\ \n \r \t \b \f one character,
 * other control characters five (\u00XX). */
const unsigned char wf__json_escape_extra[256] = {
    5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 5, 1, 1, 5, 5, /* \b \t \n \f \r */
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* " */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* \\ */
};


/* Characters of an integer in decimal, without formatting it. */
size_t wf__json_int_size(json_int_t v) {
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
  if (!v) return acc + 4; /* a value that could not be made: as null */
  switch (json_typeof(v)) {
    case JSON_NULL:
    case JSON_TRUE: return acc + 4;
    case JSON_FALSE: return acc + 5;
    case JSON_INTEGER:
      return acc + wf__json_int_size(json_integer_value(v));
    case JSON_REAL:
      if (bound) return acc + WF__JSON_REAL_MAX;
      wf__json_format_real(num, json_real_value(v));
      return acc + strlen(num);
    case JSON_STRING:
      return acc + wf__json_string_size(json_string_value(v), json_string_length(v));
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
        acc += wf__json_string_size(key, strlen(key)) + 1;
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
