/* The JSON parser's private parts shared by its fast path (json_parse.c)
 * and its error reporting (json_parse_error.c). */
#ifndef WF_JSON_PARSE_IMPL_H
#define WF_JSON_PARSE_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workflow/common.h"

typedef struct parser {
  const unsigned char *text, *end;
  char *buf; /* scratch for strings with escapes (wf__malloc) */
  size_t cap;
  const char *what;
  wf_error *err;
  int rc; /* WF_ENOMEM once an allocation failed */
} parser;


enum { NUM_INT, NUM_REAL, NUM_BAD, NUM_BIG, NUM_BIG_NEG, NUM_HUGE, NUM_NOMEM };

typedef struct number {
  int kind;
  json_int_t i;
  double d;
} number;

static inline bool is_digit(int c) { return c >= '0' && c <= '9'; }
/* ASCII only, whatever the locale; c may be negative (GET_EOF). */
static inline bool is_alpha(int c) {
  return (unsigned)((c | 0x20) - 'a') < 26u;
}
static inline int hex_value(int c) {
  if (is_digit(c)) return c - '0';
  if ((unsigned)((c | 0x20) - 'a') < 6u) return (c | 0x20) - 'a' + 10;
  return -1;
}

/* Length of the well-formed UTF-8 sequence at s (s[0] >= 0x80), or 0.
 * Overlong forms, UTF-16 surrogates and code points past U+10FFFF are
 * refused, as jansson refuses them. */
static inline size_t utf8_seq(const unsigned char *s, const unsigned char *end) {
  size_t avail = (size_t)(end - s);
  unsigned c = s[0];
  if (c < 0xC2) return 0; /* continuation byte, or overlong C0/C1 */
  if (c < 0xE0) return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c < 0xF0) {
    if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
    if (c == 0xED && s[1] > 0x9F) return 0; /* surrogate */
    return 3;
  }
  if (c < 0xF5) {
    if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
        (s[3] & 0xC0) != 0x80)
      return 0;
    if (c == 0xF0 && s[1] < 0x90) return 0; /* overlong */
    if (c == 0xF4 && s[1] > 0x8F) return 0; /* past U+10FFFF */
    return 4;
  }
  return 0;
}

static inline int hex4(const unsigned char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int d = hex_value(s[i]);
    if (d < 0) return -1;
    v = v << 4 | d;
  }
  return v;
}

/* A number at s (s < end, *s is '-' or a digit): the position after it;
 * n->kind says what it was. */
const unsigned char *wf__jparse_scan_number(const unsigned char *s,
                                            const unsigned char *end,
                                            number *n);

/* Fail with jansson's message for the text at `at`: `msg` when the token
 * there reads fine but is not what the parser wanted. */
int wf__jparse_fail_expect(parser *p, const unsigned char *at,
                           const char *msg);
/* Fail: a value was wanted at `at`. */
int wf__jparse_fail_value(parser *p, const unsigned char *at);
/* Fail with `msg` at byte offset `pos`, quoting ctx..ctx_end. */
int wf__jparse_report(parser *p, size_t pos, size_t ctx, size_t ctx_end,
                      bool utf8_error, const char *msg);

#endif
