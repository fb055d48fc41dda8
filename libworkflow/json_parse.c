/* JSON text to jansson values (wf__json_parse, declared in json_text.h).
 *
 * json_loadb reads through a per-byte callback, keeps every token in a
 * growing buffer and copies each string twice; on a small execution input
 * it cost more than the rest of the execution. This parser walks the text
 * once, hands jansson strings straight from the text (through a scratch
 * buffer only when escapes must be decoded), converts most numbers without
 * strtod and attaches containers to their parent as soon as they open.
 *
 * The accepted language and the values built are json_loadb's with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL. Errors read the same as jansson's too
 * (message, token context, line, column): the fast path only notices that a
 * token is wrong; lex_token(), slow and written to follow jansson's lexer
 * step by step, then re-reads that token to say why and where. */
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"

#ifdef JSON_PARSER_MAX_DEPTH
#define MAX_DEPTH JSON_PARSER_MAX_DEPTH
#else
#define MAX_DEPTH 2048
#endif

_Static_assert(sizeof(json_int_t) == sizeof(long long),
               "integer limits below assume json_int_t is long long");

typedef struct parser {
  const unsigned char *text, *end;
  char *buf; /* scratch for strings with escapes (wf__malloc) */
  size_t cap;
  const char *what;
  wf_error *err;
  int rc; /* WF_ENOMEM once an allocation failed */
} parser;

/* A scanned string: in the text when it needed no decoding, else at offset
 * `off` of the scratch buffer (which may move until the string is used). */
typedef struct str_ref {
  const char *ptr; /* NULL: in p->buf */
  size_t off, len;
  bool nul; /* decoded a \u0000 */
} str_ref;

/* ---- Characters ---- */

#define WS_MASK \
  ((1ULL << ' ') | (1ULL << '\t') | (1ULL << '\n') | (1ULL << '\r'))

static inline bool is_ws(unsigned c) {
  return c <= ' ' && ((1ULL << c) & WS_MASK);
}

/* Word-at-a-time scanning needs the first byte in the low bits and a
 * count-trailing-zeros; elsewhere the byte loops do all the work. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORDWISE 1
#define FIRST_MARKED_BYTE(m) ((size_t)__builtin_ctzll(m) >> 3)
#else
#define WORDWISE 0
#endif

static const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;

/* Compact text has no whitespace between tokens; indented text has runs
 * of spaces, skipped a word at a time. */
static inline const unsigned char *skip_ws(const unsigned char *s,
                                           const unsigned char *end) {
  if (s < end && *s > ' ') return s;
  if (end - s >= 2 && *s == ' ' && s[1] > ' ') return s + 1; /* ": 1" */
#if WORDWISE
  while (end - s >= 8) {
    uint64_t x;
    memcpy(&x, s, 8);
    x ^= ones * ' ';
    if (!x) {
      s += 8;
      continue;
    }
    s += FIRST_MARKED_BYTE(x); /* the first byte that is not a space */
    if (!is_ws(*s)) return s;
    s++;
  }
#endif
  while (s < end && is_ws(*s)) s++;
  return s;
}

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

/* Bytes a string may hold as they are: printable ASCII but '"' and '\\'. */
static const unsigned char plain[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x80 and up: multi-byte UTF-8, checked by utf8_seq() */
};

/* Skip plain bytes, eight at a time while that many remain: a byte needs a
 * look when it is below 0x20, '"', '\\' or non-ASCII. The subtractions may
 * borrow into higher bytes, but only from a byte that needs a look itself:
 * the lowest marked byte is always a true one. */
static inline const unsigned char *skip_plain(const unsigned char *s,
                                              const unsigned char *end) {
#if WORDWISE
  while (end - s >= 8) {
    uint64_t x;
    memcpy(&x, s, 8);
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t m = ((x - ones * 0x20) | (q - ones) | (b - ones) | x) & highs;
    if (m) return s + FIRST_MARKED_BYTE(m);
    s += 8;
  }
#endif
  while (s < end && plain[*s]) s++;
  return s;
}

/* Length of the well-formed UTF-8 sequence at s (s[0] >= 0x80), or 0.
 * Overlong forms, UTF-16 surrogates and code points past U+10FFFF are
 * refused, as jansson refuses them. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end) {
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

static int hex4(const unsigned char *s) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int d = hex_value(s[i]);
    if (d < 0) return -1;
    v = v << 4 | d;
  }
  return v;
}

/* ---- Strings ---- */

static bool reserve(parser *p, size_t need) {
  if (need <= p->cap) return true;
  size_t cap = p->cap ? p->cap : 256;
  while (cap < need) cap *= 2;
  char *b = wf__realloc(p->buf, cap);
  if (!b) {
    p->rc = WF_ENOMEM;
    return false;
  }
  p->buf = b;
  p->cap = cap;
  return true;
}

/* The rest of a string from its first backslash at s (b: its first byte):
 * decoded into p->buf at `base`. NULL when the string is not valid JSON or
 * memory ran out (p->rc). */
static const unsigned char *scan_escaped(parser *p, const unsigned char *b,
                                         const unsigned char *s, size_t base,
                                         str_ref *r) {
  const unsigned char *end = p->end;
  size_t o = base, n = (size_t)(s - b);
  bool nul = false;
  if (!reserve(p, o + n + 4)) return NULL;
  memcpy(p->buf + o, b, n);
  o += n;
  for (;;) {
    if (s == end) return NULL;
    unsigned c = *s;
    if (c == '"') {
      r->ptr = NULL;
      r->off = base;
      r->len = o - base;
      r->nul = nul;
      return s + 1;
    }
    if (c == '\\') {
      if (end - s < 2) return NULL;
      char out;
      switch (s[1]) {
        case '"': out = '"'; break;
        case '\\': out = '\\'; break;
        case '/': out = '/'; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case 'u': {
          if (end - s < 6) return NULL;
          long cp = hex4(s + 2);
          if (cp < 0) return NULL;
          s += 6;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* Only a following low surrogate escape completes it. */
            if (end - s < 6 || s[0] != '\\' || s[1] != 'u') return NULL;
            long lo = hex4(s + 2);
            if (lo < 0xDC00 || lo > 0xDFFF) return NULL;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            s += 6;
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return NULL;
          }
          if (!reserve(p, o + 4)) return NULL;
          char *w = p->buf + o;
          if (cp < 0x80) {
            w[0] = (char)cp;
            nul |= cp == 0;
            o += 1;
          } else if (cp < 0x800) {
            w[0] = (char)(0xC0 | cp >> 6);
            w[1] = (char)(0x80 | (cp & 0x3F));
            o += 2;
          } else if (cp < 0x10000) {
            w[0] = (char)(0xE0 | cp >> 12);
            w[1] = (char)(0x80 | (cp >> 6 & 0x3F));
            w[2] = (char)(0x80 | (cp & 0x3F));
            o += 3;
          } else {
            w[0] = (char)(0xF0 | cp >> 18);
            w[1] = (char)(0x80 | (cp >> 12 & 0x3F));
            w[2] = (char)(0x80 | (cp >> 6 & 0x3F));
            w[3] = (char)(0x80 | (cp & 0x3F));
            o += 4;
          }
          goto run;
        }
        default: return NULL;
      }
      if (!reserve(p, o + 1)) return NULL;
      p->buf[o++] = out;
      s += 2;
    } else if (c >= 0x80) {
      n = utf8_seq(s, end);
      if (!n || !reserve(p, o + n)) return NULL;
      memcpy(p->buf + o, s, n);
      o += n;
      s += n;
    } else {
      return NULL; /* control character */
    }
  run:
    b = s;
    s = skip_plain(s, end);
    n = (size_t)(s - b);
    if (!reserve(p, o + n)) return NULL;
    memcpy(p->buf + o, b, n);
    o += n;
  }
}

/* A string whose opening quote is just before s. Returns the position after
 * the closing quote, or NULL (see scan_escaped). A string without escapes
 * stays in the text: jansson's copy of it is the only one. */
static inline const unsigned char *scan_string(parser *p,
                                               const unsigned char *s,
                                               size_t base, str_ref *r) {
  const unsigned char *b = s, *end = p->end;
  for (;;) {
    s = skip_plain(s, end);
    if (s == end) return NULL;
    if (*s == '"') {
      r->ptr = (const char *)b;
      r->len = (size_t)(s - b);
      r->nul = false;
      return s + 1;
    }
    if (*s == '\\') return scan_escaped(p, b, s, base, r);
    if (*s < 0x80) return NULL; /* control character */
    size_t n = utf8_seq(s, end);
    if (!n) return NULL;
    s += n;
  }
}

/* ---- Numbers ---- */

enum { NUM_INT, NUM_REAL, NUM_BAD, NUM_BIG, NUM_BIG_NEG, NUM_HUGE, NUM_NOMEM };

typedef struct number {
  int kind;
  json_int_t i;
  double d;
} number;

/* Powers of ten that doubles hold exactly. */
static const double exact_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const uint64_t pow10_u64[] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL};

/* Decimal digits m (at most 19 significant) times 10^e10, correctly
 * rounded, when Clinger's fast path applies: m and the power of ten are
 * both exact doubles, so one multiplication or division rounds once. Needs
 * double arithmetic without excess precision (FLT_EVAL_METHOD 0), else
 * double rounding could creep in and strtod does it all. */
static bool fast_real(uint64_t m, long long e10, double *out) {
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
  const uint64_t max_exact = 1ULL << 53;
  if (m > max_exact) return false;
  if (e10 >= 0 && e10 <= 22) {
    *out = (double)m * exact_pow10[e10];
    return true;
  }
  if (e10 < 0 && e10 >= -22) {
    *out = (double)m / exact_pow10[-e10];
    return true;
  }
  /* 12e30 is 12e8 * 1e22: fine while m * 10^(e10-22) stays exact. */
  if (e10 > 22 && e10 <= 22 + 15 && m <= max_exact / pow10_u64[e10 - 22]) {
    *out = (double)(m * pow10_u64[e10 - 22]) * 1e22;
    return true;
  }
#else
  (void)m;
  (void)e10;
  (void)out;
#endif
  return false;
}

/* The remaining reals go to strtod, as digits and an exponent without a
 * decimal point: no radix character means LC_NUMERIC cannot change the
 * reading (strtod parses "1234e-2" the same in every locale). glibc's
 * strtod rounds correctly, as the text it reads equals the original. */
static int slow_real(bool neg, const unsigned char *ip, size_t ni,
                     const unsigned char *fp, size_t nf, long long e10,
                     double *out) {
  char local[96], *b = local;
  size_t need = 1 + ni + nf + 24;
  if (need > sizeof local && !(b = wf__malloc(need))) return NUM_NOMEM;
  char *o = b;
  if (neg) *o++ = '-';
  memcpy(o, ip, ni);
  o += ni;
  memcpy(o, fp, nf);
  o += nf;
  snprintf(o, 24, "e%lld", e10);
  *out = strtod(b, NULL);
  if (b != local) wf__free(b);
  /* Overflow gives ±HUGE_VAL, jansson's "real number overflow"; underflow
   * gives zero or a subnormal, which jansson accepts. */
  return isinf(*out) ? NUM_HUGE : NUM_REAL;
}

/* A number at s (s < end, *s is '-' or a digit). Returns the position after
 * it; n->kind says what it was. NUM_BAD tokens are left to lex_token() to
 * describe. */
static const unsigned char *scan_number(const unsigned char *s,
                                        const unsigned char *end, number *n) {
  bool neg = *s == '-';
  if (neg) s++;
  const unsigned char *ip = s;
  uint64_t m = 0; /* exact while at most 19 significant digits were read */
  unsigned d;
  while (s < end && (d = (unsigned)*s - '0') < 10) {
    m = m * 10 + d;
    s++;
  }
  size_t ni = (size_t)(s - ip);
  if (ni == 0 || (*ip == '0' && ni > 1)) {
    n->kind = NUM_BAD;
    return s;
  }
  if (s == end || (*s != '.' && (*s | 0x20) != 'e')) {
    /* jansson's strtoll range: the rest is "too big". */
    uint64_t limit = neg ? (uint64_t)LLONG_MAX + 1 : (uint64_t)LLONG_MAX;
    if (ni < 19 || (ni == 19 && m <= limit)) {
      n->kind = NUM_INT;
      n->i = !neg ? (json_int_t)m : m ? -(json_int_t)(m - 1) - 1 : 0;
    } else {
      n->kind = neg ? NUM_BIG_NEG : NUM_BIG;
    }
    return s;
  }
  const unsigned char *fp = s;
  size_t nf = 0;
  if (*s == '.') {
    fp = ++s;
    while (s < end && (d = (unsigned)*s - '0') < 10) {
      m = m * 10 + d;
      s++;
    }
    nf = (size_t)(s - fp);
    if (nf == 0) {
      n->kind = NUM_BAD;
      return s;
    }
  }
  long long e = 0;
  if (s < end && (*s | 0x20) == 'e') {
    s++;
    bool eneg = false;
    if (s < end && (*s == '+' || *s == '-')) eneg = *s++ == '-';
    const unsigned char *ep = s;
    /* Saturate: beyond 10^15 any exponent over- or underflows, whatever
     * the digits (there cannot be 10^15 of them). */
    while (s < end && (d = (unsigned)*s - '0') < 10) {
      if (e < 100000000000000LL) e = e * 10 + d;
      s++;
    }
    if (s == ep) {
      n->kind = NUM_BAD;
      return s;
    }
    if (eneg) e = -e;
  }
  size_t sig = ni + nf;
  if (sig > 19 && *ip == '0') {
    /* "0.000…": leading zeros are not significant and left m exact. */
    const unsigned char *z = fp;
    while (z < fp + nf && *z == '0') z++;
    sig = nf - (size_t)(z - fp);
  }
  n->kind = NUM_REAL;
  long long e10 = e - (long long)nf;
  if (sig <= 19) {
    double v;
    if (m == 0) {
      n->d = neg ? -0.0 : 0.0;
      return s;
    }
    if (fast_real(m, e10, &v)) {
      n->d = neg ? -v : v;
      return s;
    }
  }
  n->kind = slow_real(neg, ip, ni, fp, nf, e10, &n->d);
  return s;
}

/* ---- Errors ---- */

/* jansson reports where its reader stands: the byte offset `pos`, counted
 * into a line and a column of characters (UTF-8 sequences count once), and
 * up to 20 bytes of the token being read as context. Both are computed only
 * here, when parsing fails. */
static int report(parser *p, size_t pos, size_t ctx, size_t ctx_end,
                  bool utf8_error, const char *msg) {
  int line = 1, column = 0;
  for (size_t i = 0; i < pos; i++) {
    unsigned c = p->text[i];
    if (c == '\n') {
      line++;
      column = 0;
    } else if (c < 0x80 || (c >= 0xC2 && c <= 0xF4)) {
      column++;
    }
  }
  char text[160];
  size_t n = ctx_end - ctx;
  const char *near = (const char *)p->text + ctx;
  /* jansson keeps the token as a C string: a leading NUL reads as no
   * token at all, an inner one cuts it short (the precision does). */
  if (n && near[0] != '\0') {
    if (n <= 20)
      snprintf(text, sizeof text, "%s near '%.*s'", msg, (int)n, near);
    else
      snprintf(text, sizeof text, "%s", msg);
  } else if (utf8_error) {
    snprintf(text, sizeof text, "%s", msg);
  } else {
    snprintf(text, sizeof text, "%s near end of file", msg);
  }
  return wf__error_set_at(p->err, WF_EPARSE, line, column,
                          "%s is not valid JSON: %s at line %d, column %d",
                          p->what ? p->what : "text", text, line, column);
}

enum { TK_EOF, TK_PUNCT, TK_VALUE, TK_INVALID, TK_ERROR, TK_NOMEM };

/* One token read the way jansson's lexer reads it, with its errors. */
typedef struct token {
  int kind;
  size_t end; /* offset after the token: jansson's position then */
  /* TK_ERROR */
  char msg[64];
  size_t pos, ctx, ctx_end;
  bool utf8_error;
} token;

#define GET_EOF (-1)
#define GET_BAD (-2)

/* The byte at i as jansson's stream hands it out: a byte that does not
 * start well-formed UTF-8 is a decoding error as soon as it is read, even
 * as the lookahead that ends a number or a word. */
static int get(const parser *p, size_t i) {
  if (i >= (size_t)(p->end - p->text)) return GET_EOF;
  unsigned c = p->text[i];
  if (c >= 0x80 && !utf8_seq(p->text + i, p->end)) return GET_BAD;
  return (int)c;
}

static void tk_error(token *t, size_t pos, size_t ctx, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void tk_error(token *t, size_t pos, size_t ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->msg, sizeof t->msg, fmt, ap);
  va_end(ap);
  t->kind = TK_ERROR;
  t->pos = t->ctx_end = pos;
  t->ctx = ctx;
  t->utf8_error = false;
}

static void tk_utf8_error(const parser *p, token *t, size_t at, size_t i) {
  tk_error(t, i, at, "unable to decode byte 0x%x", p->text[i]);
  t->utf8_error = true;
}

static void tk_done(token *t, int kind, size_t end) {
  t->kind = kind;
  t->end = end;
}

/* Read the next byte into c; a decoding error ends the token. */
#define NEXT(i)                       \
  do {                                \
    size_t at_ = (i);                 \
    c = get(p, at_);                  \
    if (c == GET_BAD) {               \
      tk_utf8_error(p, t, at, at_);   \
      return;                         \
    }                                 \
  } while (0)

static void lex_string(const parser *p, size_t at, token *t) {
  size_t i = at + 1;
  int c;
  for (;;) {
    NEXT(i);
    if (c == '"') break;
    if (c == GET_EOF) return tk_error(t, i, at, "premature end of input");
    if (c < 0x20) {
      if (c == '\n') return tk_error(t, i, at, "unexpected newline");
      return tk_error(t, i, at, "control character 0x%x", (unsigned)c);
    }
    if (c == '\\') {
      NEXT(++i);
      if (c == 'u') {
        for (int k = 0; k < 4; k++) {
          NEXT(++i);
          /* The offending byte (the first of a sequence) is part of
           * jansson's context and position; the end of input is not. */
          if (hex_value(c) < 0)
            return tk_error(t, c == GET_EOF ? i : i + 1, at, "invalid escape");
        }
        i++;
      } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' ||
                 c == 'n' || c == 'r' || c == 't') {
        i++;
      } else {
        return tk_error(t, c == GET_EOF ? i : i + 1, at, "invalid escape");
      }
      continue;
    }
    i += c < 0x80 ? 1 : utf8_seq(p->text + i, p->end);
  }
  i++; /* the closing quote */
  /* jansson decodes escapes only once the string has been read whole: a
   * bad surrogate is reported from after the closing quote. */
  const unsigned char *s = p->text;
  for (size_t j = at + 1; j < i - 1;) {
    if (s[j] != '\\') {
      j++;
      continue;
    }
    if (s[j + 1] != 'u') {
      j += 2;
      continue;
    }
    int cp = hex4(s + j + 2);
    j += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (s[j] != '\\' || s[j + 1] != 'u')
        return tk_error(t, i, at, "invalid Unicode '\\u%04X'", (unsigned)cp);
      int lo = hex4(s + j + 2);
      j += 6;
      if (lo < 0xDC00 || lo > 0xDFFF)
        return tk_error(t, i, at, "invalid Unicode '\\u%04X\\u%04X'",
                        (unsigned)cp, (unsigned)lo);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return tk_error(t, i, at, "invalid Unicode '\\u%04X'", (unsigned)cp);
    }
  }
  tk_done(t, TK_VALUE, i);
}

static void lex_number(const parser *p, size_t at, token *t) {
  size_t i = at;
  int c;
  NEXT(i);
  if (c == '-') NEXT(++i);
  if (c == '0') {
    NEXT(++i);
    if (is_digit(c)) return tk_done(t, TK_INVALID, i);
  } else if (is_digit(c)) {
    do NEXT(++i);
    while (is_digit(c));
  } else {
    return tk_done(t, TK_INVALID, i);
  }
  if (c == '.') {
    NEXT(++i);
    if (!is_digit(c)) return tk_done(t, TK_INVALID, i);
    do NEXT(++i);
    while (is_digit(c));
  }
  if (c == 'e' || c == 'E') {
    NEXT(++i);
    if (c == '+' || c == '-') NEXT(++i);
    if (!is_digit(c)) return tk_done(t, TK_INVALID, i);
    do NEXT(++i);
    while (is_digit(c));
  }
  number n;
  scan_number(p->text + at, p->end, &n);
  switch (n.kind) {
    case NUM_BIG: return tk_error(t, i, at, "too big integer");
    case NUM_BIG_NEG: return tk_error(t, i, at, "too big negative integer");
    case NUM_HUGE: return tk_error(t, i, at, "real number overflow");
    case NUM_NOMEM: return tk_done(t, TK_NOMEM, i);
    default: return tk_done(t, TK_VALUE, i);
  }
}

static void lex_word(const parser *p, size_t at, token *t) {
  size_t i = at;
  int c;
  do NEXT(++i);
  while (is_alpha(c));
  size_t n = i - at;
  const char *w = (const char *)p->text + at;
  bool known = (n == 4 && (!memcmp(w, "true", 4) || !memcmp(w, "null", 4))) ||
               (n == 5 && !memcmp(w, "false", 5));
  tk_done(t, known ? TK_VALUE : TK_INVALID, i);
}

/* The token at offset `at` (just after whitespace). */
static void lex_token(const parser *p, size_t at, token *t) {
  int c;
  NEXT(at);
  if (c == GET_EOF) return tk_done(t, TK_EOF, at);
  if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',')
    return tk_done(t, TK_PUNCT, at + 1);
  if (c == '"') return lex_string(p, at, t);
  if (c == '-' || is_digit(c)) return lex_number(p, at, t);
  if (is_alpha(c)) return lex_word(p, at, t);
  /* Any other character is a token of its own, all of a UTF-8 sequence. */
  tk_done(t, TK_INVALID, at + (c < 0x80 ? 1 : utf8_seq(p->text + at, p->end)));
}

#undef NEXT

static int report_token(parser *p, const token *t, size_t at,
                        const char *msg) {
  if (t->kind == TK_NOMEM) return WF_ENOMEM;
  if (t->kind == TK_ERROR)
    return report(p, t->pos, t->ctx, t->ctx_end, t->utf8_error, t->msg);
  return report(p, t->end, at, t->end, false, msg);
}

/* The parser wanted something else than the token at `at`. As in jansson,
 * a token that cannot even be read reports that instead. */
static int fail_expect(parser *p, const unsigned char *at, const char *msg) {
  token t;
  size_t off = (size_t)(at - p->text);
  lex_token(p, off, &t);
  return report_token(p, &t, off, msg);
}

/* A value was wanted at `at`. */
static int fail_value(parser *p, const unsigned char *at) {
  token t;
  size_t off = (size_t)(at - p->text);
  lex_token(p, off, &t);
  /* TK_VALUE would mean the fast path refused what jansson takes. */
  bool invalid = t.kind == TK_INVALID || t.kind == TK_VALUE;
  return report_token(p, &t, off,
                      invalid ? "invalid token" : "unexpected token");
}

/* ---- Values ---- */

/* What ends a number or a word in a valid text: not a letter (jansson would
 * read "truex" as one word) and not a byte jansson fails to decode as it
 * looks ahead. */
static inline bool bad_after_word(const unsigned char *s,
                                  const unsigned char *end) {
  return s < end && (is_alpha(*s) || (*s >= 0x80 && !utf8_seq(s, end)));
}
static inline bool bad_after_number(const unsigned char *s,
                                    const unsigned char *end) {
  return s < end && *s >= 0x80 && !utf8_seq(s, end);
}

/* Iterative, so that 2048 levels cost no C stack: `frames` holds the open
 * containers (borrowed: each is already in its parent, or is the root).
 * jansson counts depth per value, scalars included, so a value is refused
 * once MAX_DEPTH containers are open around it. */
static int parse_text(parser *p, json_t **root) {
  const unsigned char *s = p->text, *end = p->end, *tok;
  json_t *inline_frames[32], **frames = inline_frames, *parent = NULL, *v;
  size_t depth = 0, cap = sizeof inline_frames / sizeof *inline_frames;
  bool in_array = false;
  str_ref key = {NULL, 0, 0, false}, str;
  number num;
  int rc = WF_OK;

  s = skip_ws(s, end);
value:
  tok = s;
  if (depth >= MAX_DEPTH) {
    rc = fail_expect(p, s, "maximum parsing depth reached");
    goto out;
  }
  if (s == end) goto bad_value;
  switch (*s) {
    case '"':
      /* An escaped key sits at the start of the scratch buffer. */
      s = scan_string(p, s + 1, !in_array && !key.ptr ? key.len : 0, &str);
      if (!s) goto bad_token;
      v = json_stringn_nocheck(str.ptr ? str.ptr : p->buf + str.off, str.len);
      break;
    case '{':
    case '[':
      v = *s == '{' ? json_object() : json_array();
      break;
    case 't':
      if (end - s < 4 || memcmp(s, "true", 4)) goto bad_value;
      s += 4;
      v = json_true();
      if (bad_after_word(s, end)) goto bad_value;
      break;
    case 'f':
      if (end - s < 5 || memcmp(s, "false", 5)) goto bad_value;
      s += 5;
      v = json_false();
      if (bad_after_word(s, end)) goto bad_value;
      break;
    case 'n':
      if (end - s < 4 || memcmp(s, "null", 4)) goto bad_value;
      s += 4;
      v = json_null();
      if (bad_after_word(s, end)) goto bad_value;
      break;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
      s = scan_number(s, end, &num);
      if (num.kind == NUM_NOMEM) goto oom;
      if ((num.kind != NUM_INT && num.kind != NUM_REAL) ||
          bad_after_number(s, end))
        goto bad_value;
      v = num.kind == NUM_INT ? json_integer(num.i) : json_real(num.d);
      break;
    default:
      goto bad_value;
  }
  /* Attach at once, containers too: jansson's setters take the reference
   * even when they fail, and a duplicate key keeps its first place and
   * its last value either way. */
  if (depth == 0) {
    if (!v) goto oom;
    *root = v;
  } else if (in_array) {
    if (json_array_append_new(parent, v)) goto oom;
  } else if (json_object_setn_new_nocheck(
                 parent, key.ptr ? key.ptr : p->buf + key.off, key.len, v)) {
    goto oom;
  }
  if (*tok == '{' || *tok == '[') {
    s = skip_ws(s + 1, end);
    if (s < end && *s == (*tok == '{' ? '}' : ']')) {
      s++;
      goto next;
    }
    if (depth == cap) {
      json_t **f = frames == inline_frames
                       ? wf__malloc(2 * cap * sizeof *f)
                       : wf__realloc(frames, 2 * cap * sizeof *f);
      if (!f) goto oom;
      if (frames == inline_frames) memcpy(f, frames, cap * sizeof *f);
      frames = f;
      cap *= 2;
    }
    frames[depth++] = parent = v;
    in_array = *tok == '[';
    if (!in_array) goto key;
    /* jansson ends an array at the end of input before reading a value. */
    if (s == end) {
      rc = fail_expect(p, s, "']' expected");
      goto out;
    }
    goto value;
  }
next:
  if (depth == 0) goto done;
  s = skip_ws(s, end);
  if (s < end && *s == ',') {
    s = skip_ws(s + 1, end);
    if (!in_array) goto key;
    if (s == end) {
      rc = fail_expect(p, s, "']' expected");
      goto out;
    }
    goto value;
  }
  if (s < end && *s == (in_array ? ']' : '}')) {
    s++;
    if (--depth) {
      parent = frames[depth - 1];
      in_array = json_is_array(parent);
    }
    goto next;
  }
  rc = fail_expect(p, s, in_array ? "']' expected" : "'}' expected");
  goto out;
key:
  if (s == end || *s != '"') {
    rc = fail_expect(p, s, "string or '}' expected");
    goto out;
  }
  tok = s;
  s = scan_string(p, s + 1, 0, &key);
  if (!s) {
    rc = p->rc ? p->rc : fail_expect(p, tok, "string or '}' expected");
    goto out;
  }
  if (key.nul) {
    /* Keys are C strings to jansson's iteration and to this library. */
    size_t at = (size_t)(tok - p->text), e = (size_t)(s - p->text);
    rc = report(p, e, at, e, false, "NUL byte in object key not supported");
    goto out;
  }
  s = skip_ws(s, end);
  if (s == end || *s != ':') {
    rc = fail_expect(p, s, "':' expected");
    goto out;
  }
  s = skip_ws(s + 1, end);
  goto value;
done:
  s = skip_ws(s, end);
  if (s != end) rc = fail_expect(p, s, "end of file expected");
  goto out;
bad_token:
  if (p->rc) goto oom;
bad_value:
  rc = fail_value(p, tok);
  goto out;
oom:
  rc = WF_ENOMEM;
out:
  if (frames != inline_frames) wf__free(frames);
  return rc;
}

int wf__json_parse(json_t **out, const char *text, size_t len,
                   const char *what, wf_error *err) {
  if (!text) len = 0;
  const unsigned char *t = text ? (const unsigned char *)text
                                : (const unsigned char *)"";
  parser p = {t, t + len, NULL, 0, what, err, WF_OK};
  json_t *root = NULL;
  int rc = parse_text(&p, &root);
  wf__free(p.buf);
  if (rc == WF_OK) {
    *out = root;
    return WF_OK;
  }
  json_decref(root);
  *out = NULL;
  if (rc == WF_ENOMEM)
    return wf__error_set(err, WF_ENOMEM, NULL,
                         "out of memory while parsing %s as JSON",
                         what ? what : "text");
  return rc;
}
