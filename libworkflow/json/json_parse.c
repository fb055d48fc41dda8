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
 * step by step, then re-reads that token to say why and where.
 *
 * Differences, on purpose: jansson 2.14 loses a NUL byte that ends a number
 * or a word ("1\0" reads as 1, "[true\0]" as [true]); here that byte is an
 * invalid token like any other NUL outside a string. Under a comma-decimal
 * LC_NUMERIC jansson quotes a real as "1,5" in messages; here as written.
 * Out of memory is WF_ENOMEM, not a parse error. Needs jansson 2.14 or
 * later (json_object_setn_new_nocheck: keys need no terminating NUL). */
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
#include "json_parse_impl.h"
#include "json_text.h"

#ifdef JSON_PARSER_MAX_DEPTH
#define MAX_DEPTH JSON_PARSER_MAX_DEPTH
#else
#define MAX_DEPTH 2048
#endif

_Static_assert(sizeof(json_int_t) == sizeof(long long),
               "integer limits below assume json_int_t is long long");


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
static const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
#else
#define WORDWISE 0
#endif

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

/* Clinger's fast path needs double arithmetic without excess precision
 * (FLT_EVAL_METHOD 0): elsewhere a product could be rounded twice, and
 * strtod does all the work. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define CLINGER 1
/* Powers of ten that doubles hold exactly. */
static const double exact_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const uint64_t pow10_u64[] = {
    1ULL,           10ULL,           100ULL,           1000ULL,
    10000ULL,       100000ULL,       1000000ULL,       10000000ULL,
    100000000ULL,   1000000000ULL,   10000000000ULL,   100000000000ULL,
    1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
    1000000000000000ULL};
#else
#define CLINGER 0
#endif

/* Decimal digits m (at most 19 significant) times 10^e10, correctly
 * rounded, when Clinger's fast path applies: m and the power of ten are
 * both exact doubles, so one multiplication or division rounds once. */
static bool fast_real(uint64_t m, long long e10, double *out) {
#if CLINGER
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
const unsigned char *wf__jparse_scan_number(const unsigned char *s,
                                            const unsigned char *end,
                                            number *n) {
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
    rc = wf__jparse_fail_expect(p, s, "maximum parsing depth reached");
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
      s = wf__jparse_scan_number(s, end, &num);
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
      rc = wf__jparse_fail_expect(p, s, "']' expected");
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
      rc = wf__jparse_fail_expect(p, s, "']' expected");
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
  rc = wf__jparse_fail_expect(p, s, in_array ? "']' expected" : "'}' expected");
  goto out;
key:
  if (s == end || *s != '"') {
    rc = wf__jparse_fail_expect(p, s, "string or '}' expected");
    goto out;
  }
  tok = s;
  s = scan_string(p, s + 1, 0, &key);
  if (!s) {
    rc = p->rc ? p->rc : wf__jparse_fail_expect(p, tok, "string or '}' expected");
    goto out;
  }
  if (key.nul) {
    /* Keys are C strings to jansson's iteration and to this library. */
    size_t at = (size_t)(tok - p->text), e = (size_t)(s - p->text);
    rc = wf__jparse_report(p, e, at, e, false, "NUL byte in object key not supported");
    goto out;
  }
  s = skip_ws(s, end);
  if (s == end || *s != ':') {
    rc = wf__jparse_fail_expect(p, s, "':' expected");
    goto out;
  }
  s = skip_ws(s + 1, end);
  goto value;
done:
  s = skip_ws(s, end);
  if (s != end) rc = wf__jparse_fail_expect(p, s, "end of file expected");
  goto out;
bad_token:
  if (p->rc) goto oom;
bad_value:
  rc = wf__jparse_fail_value(p, tok);
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
