/* The JVM behaviour AWS's intrinsic functions leak: how Java prints a value
 * (Format, ArrayContains), its hashCode (ArrayUnique's HashSet order), and
 * number conversions (intValue, Math.round). AWS holds JSON as Java maps
 * keeping key order, lists, Integer/Long/Double, String, Boolean and null. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "intrinsic_impl.h"
#include "json_text.h"

void wf__intrinsic_java_str(wf__strbuf *b, const json_t *v) {
  if (wf__json_dump_scalar(b, v)) return;
  switch (json_typeof(v)) {
    case JSON_STRING:
      wf__strbuf_append(b, json_string_value(v), json_string_length(v));
      return;
    case JSON_ARRAY: {
      /* AbstractCollection.toString: "[a, b]". */
      wf__strbuf_putc(b, '[');
      for (size_t i = 0; i < json_array_size(v); i++) {
        if (i) wf__strbuf_append(b, ", ", 2);
        wf__intrinsic_java_str(b, json_array_get(v, i));
      }
      wf__strbuf_putc(b, ']');
      return;
    }
    case JSON_OBJECT: {
      /* AbstractMap.toString: "{k=v, k2=v2}" in insertion order. */
      const char *key;
      json_t *val;
      bool first = true;
      wf__strbuf_putc(b, '{');
      json_object_foreach((json_t *)v, key, val) {
        if (!first) wf__strbuf_append(b, ", ", 2);
        first = false;
        wf__strbuf_puts(b, key);
        wf__strbuf_putc(b, '=');
        wf__intrinsic_java_str(b, val);
      }
      wf__strbuf_putc(b, '}');
      return;
    }
    default: return; /* scalars: above */
  }
}

uint32_t wf__intrinsic_utf8_next(const char *s, size_t n, size_t *i) {
  const unsigned char *u = (const unsigned char *)s;
  size_t at = *i;
  unsigned c = u[at];
  if (c < 0x80) {
    *i = at + 1;
    return c;
  }
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F; /* no surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *i = at + 1;
    return 0xFFFD;
  }
  /* Replace the maximal invalid subpart, as Java's decoder does. */
  size_t k = 1;
  for (; k < len; k++) {
    if (at + k >= n) break;
    unsigned t = u[at + k];
    unsigned tlo = k == 1 ? lo : 0x80, thi = k == 1 ? hi : 0xBF;
    if (t < tlo || t > thi) break;
    cp = (cp << 6) | (t & 0x3F);
  }
  *i = at + k;
  return k == len ? cp : 0xFFFD;
}

void wf__intrinsic_utf8_put(wf__strbuf *b, uint32_t cp) {
  char o[4];
  size_t n;
  if (cp < 0x80) {
    o[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  wf__strbuf_append(b, o, n);
}

size_t wf__intrinsic_utf16_len(const char *s, size_t n) {
  size_t units = 0;
  for (size_t i = 0; i < n;) {
    uint32_t cp = wf__intrinsic_utf8_next(s, n, &i);
    units += cp >= 0x10000 ? 2 : 1;
  }
  return units;
}

static uint32_t string_hash(const char *s, size_t n) {
  uint32_t h = 0; /* String.hashCode over UTF-16 code units, wrapping */
  for (size_t i = 0; i < n;) {
    uint32_t cp = wf__intrinsic_utf8_next(s, n, &i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      h = 31 * h + (0xD800 + (cp >> 10));
      h = 31 * h + (0xDC00 + (cp & 0x3FF));
    } else {
      h = 31 * h + cp;
    }
  }
  return h;
}

static uint32_t hash_u(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_NULL: return 0;
    case JSON_TRUE: return 1231; /* Boolean.hashCode */
    case JSON_FALSE: return 1237;
    case JSON_INTEGER: {
      json_int_t i = json_integer_value(v);
      if (i >= INT32_MIN && i <= INT32_MAX) return (uint32_t)(int32_t)i;
      uint64_t u = (uint64_t)i; /* a Long */
      return (uint32_t)(u ^ (u >> 32));
    }
    case JSON_REAL: {
      double d = json_real_value(v);
      uint64_t bits;
      if (isnan(d)) {
        bits = 0x7ff8000000000000ULL; /* doubleToLongBits' canonical NaN */
      } else {
        memcpy(&bits, &d, sizeof bits);
      }
      return (uint32_t)(bits ^ (bits >> 32));
    }
    case JSON_STRING:
      return string_hash(json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
      uint32_t h = 1; /* List.hashCode */
      for (size_t i = 0; i < json_array_size(v); i++)
        h = 31 * h + hash_u(json_array_get(v, i));
      return h;
    }
    case JSON_OBJECT: {
      uint32_t h = 0; /* Map.hashCode: sum of key.hashCode ^ value.hashCode */
      const char *key;
      json_t *val;
      json_object_foreach((json_t *)v, key, val) {
        h += string_hash(key, strlen(key)) ^ hash_u(val);
      }
      return h;
    }
  }
  return 0;
}

int32_t wf__intrinsic_java_hash(const json_t *v) {
  return (int32_t)hash_u(v);
}

bool wf__intrinsic_java_int(const json_t *v, int32_t *out) {
  if (json_is_integer(v)) {
    *out = (int32_t)(uint32_t)(uint64_t)json_integer_value(v);
    return true;
  }
  if (!json_is_real(v)) return false;
  double d = json_real_value(v);
  if (isnan(d)) *out = 0;
  else if (d >= 2147483647.0) *out = INT32_MAX;
  else if (d <= -2147483648.0) *out = INT32_MIN;
  else *out = (int32_t)d; /* truncates toward zero, as (int) does */
  return true;
}

bool wf__intrinsic_java_round(const json_t *v, int64_t *out) {
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return true;
  }
  if (!json_is_real(v)) return false;
  double d = json_real_value(v);
  if (isnan(d)) {
    *out = 0;
    return true;
  }
  /* Math.round: floor(d + 1/2) computed exactly. */
  double f = floor(d);
  double r = (d - f >= 0.5) ? f + 1 : f;
  if (r >= 9223372036854775807.0 || r < -9223372036854775808.0) return false;
  *out = (int64_t)r;
  return true;
}
