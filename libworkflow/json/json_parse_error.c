/* Errors of the JSON parser (json_parse.c), worded and placed as jansson
 * words and places them. The fast path only notices that a token is wrong;
 * lex_token(), slow and written to follow jansson's lexer step by step,
 * then re-reads that token to say why and where. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "json_parse_impl.h"
/* jansson reports where its reader stands: the byte offset `pos`, counted
 * into a line and a column of characters (UTF-8 sequences count once), and
 * up to 20 bytes of the token being read as context. Both are computed only
 * here, when parsing fails. */
int wf__jparse_report(parser *p, size_t pos, size_t ctx, size_t ctx_end,
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

static int tk_error(token *t, size_t pos, size_t ctx, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int tk_error(token *t, size_t pos, size_t ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->msg, sizeof t->msg, fmt, ap);
  va_end(ap);
  t->kind = TK_ERROR;
  t->pos = t->ctx_end = pos;
  t->ctx = ctx;
  t->utf8_error = false;
  return TK_ERROR;
}

static int tk_utf8_error(const parser *p, token *t, size_t at, size_t i) {
  tk_error(t, i, at, "unable to decode byte 0x%x", p->text[i]);
  t->utf8_error = true;
  return TK_ERROR;
}

static int tk_done(token *t, int kind, size_t end) {
  t->kind = kind;
  t->end = end;
  return kind;
}

/* Read the next byte into c; a decoding error ends the token. */
#define NEXT(i)                            \
  do {                                     \
    size_t at_ = (i);                      \
    c = get(p, at_);                       \
    if (c == GET_BAD)                      \
      return tk_utf8_error(p, t, at, at_); \
  } while (0)

static int lex_string(const parser *p, size_t at, token *t) {
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
  return tk_done(t, TK_VALUE, i);
}

static int lex_number(const parser *p, size_t at, token *t) {
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
  wf__jparse_scan_number(p->text + at, p->end, &n);
  switch (n.kind) {
    case NUM_BIG: return tk_error(t, i, at, "too big integer");
    case NUM_BIG_NEG: return tk_error(t, i, at, "too big negative integer");
    case NUM_HUGE: return tk_error(t, i, at, "real number overflow");
    case NUM_NOMEM: return tk_done(t, TK_NOMEM, i);
    default: return tk_done(t, TK_VALUE, i);
  }
}

static int lex_word(const parser *p, size_t at, token *t) {
  size_t i = at;
  int c;
  do NEXT(++i);
  while (is_alpha(c));
  size_t n = i - at;
  const char *w = (const char *)p->text + at;
  bool known = (n == 4 && (!memcmp(w, "true", 4) || !memcmp(w, "null", 4))) ||
               (n == 5 && !memcmp(w, "false", 5));
  return tk_done(t, known ? TK_VALUE : TK_INVALID, i);
}

/* The token at offset `at` (just after whitespace). */
static int lex_token(const parser *p, size_t at, token *t) {
  int c;
  NEXT(at);
  if (c == GET_EOF) return tk_done(t, TK_EOF, at);
  if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',')
    return tk_done(t, TK_PUNCT, at + 1);
  if (c == '"') return lex_string(p, at, t);
  if (c == '-' || is_digit(c)) return lex_number(p, at, t);
  if (is_alpha(c)) return lex_word(p, at, t);
  /* Any other character is a token of its own, all of a UTF-8 sequence. */
  return tk_done(t, TK_INVALID,
                 at + (c < 0x80 ? 1 : utf8_seq(p->text + at, p->end)));
}

#undef NEXT

static int report_token(parser *p, const token *t, size_t at,
                        const char *msg) {
  if (t->kind == TK_NOMEM) return WF_ENOMEM;
  if (t->kind == TK_ERROR)
    return wf__jparse_report(p, t->pos, t->ctx, t->ctx_end, t->utf8_error, t->msg);
  return wf__jparse_report(p, t->end, at, t->end, false, msg);
}

/* The parser wanted something else than the token at `at`. As in jansson,
 * a token that cannot even be read reports that instead. */
int wf__jparse_fail_expect(parser *p, const unsigned char *at,
                           const char *msg) {
  token t;
  size_t off = (size_t)(at - p->text);
  lex_token(p, off, &t);
  return report_token(p, &t, off, msg);
}

/* A value was wanted at `at`. */
int wf__jparse_fail_value(parser *p, const unsigned char *at) {
  token t;
  size_t off = (size_t)(at - p->text);
  lex_token(p, off, &t);
  /* TK_VALUE would mean the fast path refused what jansson takes. */
  bool invalid = t.kind == TK_INVALID || t.kind == TK_VALUE;
  return report_token(p, &t, off,
                      invalid ? "invalid token" : "unexpected token");
}

