/* Intrinsic calls, parsed once when the definition loads.
 *
 * Grammar (what AWS accepts):
 *   call := "States." NAME "(" [arg ("," arg)*] ")"
 *   arg  := 'string' | number | true | false | null | path | call
 * with blanks (space, tab, CR, LF) allowed around arguments. String
 * literals know four escapes, \' \{ \} \\; any other backslash makes AWS
 * reject the definition (ASL "Reserved characters in intrinsic functions";
 * LocalStack's AWS-validated test_illegal_escapes). Everything else AWS
 * checks when the call runs: argument counts and types, Format templates
 * and their placeholder count all fail the execution with States.Runtime,
 * not the definition. */
#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "intrinsic_impl.h"

typedef struct parser {
  const char *s;
  size_t pos;
  unsigned path_flags;
  int calls;
  char *msg;
  size_t msglen;
} parser;

static int fail(parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...) {
  if (p->msg && p->msglen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, p->msglen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9');
}

static void skip_blanks(parser *p) {
  while (is_blank(p->s[p->pos])) p->pos++;
}

static void node_clear(wf__inode *n) {
  json_decref(n->literal);
  wf__jsonpath_free(n->path);
  for (size_t i = 0; i < n->nargs; i++) node_clear(&n->args[i]);
  wf__free(n->args);
  wf__intrinsic_tmpl_free(n->tmpl);
  memset(n, 0, sizeof *n);
}

/* "States.Name(" at s: the function index, with *len the length up to and
 * excluding '('. -1 when s does not start a known call. */
static int call_head(const char *s, size_t *len) {
  if (strncmp(s, "States.", 7) != 0) return -1;
  size_t i = 7;
  while (is_name_char(s[i])) i++;
  if (s[i] != '(') return -1;
  *len = i;
  return wf__intrinsic_find(s, i);
}

bool wf__intrinsic_is_call(const char *text) {
  if (!text) return false;
  while (is_blank(*text)) text++;
  size_t len;
  return call_head(text, &len) >= 0;
}

/* 'text': the value with the escapes applied. */
static int parse_string(parser *p, wf__inode *n) {
  size_t start = ++p->pos; /* after the opening quote */
  wf__strbuf b = WF__STRBUF_INIT;
  for (;;) {
    char c = p->s[p->pos];
    if (c == '\0') {
      wf__strbuf_free(&b);
      return fail(p, "unterminated string literal at position %zu",
                  start - 1);
    }
    if (c == '\'') break;
    if (c == '\\') {
      char e = p->s[p->pos + 1];
      if (e != '\'' && e != '{' && e != '}' && e != '\\') {
        wf__strbuf_free(&b);
        return fail(p,
                    "illegal escape sequence '\\%c' at position %zu (only "
                    "\\', \\{, \\} and \\\\ are allowed)",
                    e ? e : ' ', p->pos);
      }
      wf__strbuf_putc(&b, e);
      p->pos += 2;
      continue;
    }
    wf__strbuf_putc(&b, c);
    p->pos++;
  }
  n->kind = WF__IARG_LITERAL;
  n->raw_off = start;
  n->raw_len = p->pos - start;
  n->literal = json_stringn(b.data ? b.data : "", b.len);
  bool oom = b.oom || !n->literal;
  wf__strbuf_free(&b);
  p->pos++; /* closing quote */
  if (oom) return fail(p, "out of memory");
  return 0;
}

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. Integers
 * that fit stay integers, as AWS keeps 2 and 2.0 apart (Integer vs Double). */
static int parse_number(parser *p, wf__inode *n) {
  const char *s = p->s;
  size_t i = p->pos, start = i;
  bool real = false;
  if (s[i] == '-') i++;
  if (s[i] == '0') {
    i++;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (s[i] >= '0' && s[i] <= '9') i++;
  } else {
    return fail(p, "invalid number at position %zu", start);
  }
  if (s[i] == '.') {
    real = true;
    i++;
    if (!(s[i] >= '0' && s[i] <= '9'))
      return fail(p, "invalid number at position %zu", start);
    while (s[i] >= '0' && s[i] <= '9') i++;
  }
  if (s[i] == 'e' || s[i] == 'E') {
    real = true;
    i++;
    if (s[i] == '+' || s[i] == '-') i++;
    if (!(s[i] >= '0' && s[i] <= '9'))
      return fail(p, "invalid number at position %zu", start);
    while (s[i] >= '0' && s[i] <= '9') i++;
  }
  if (is_name_char(s[i]) || s[i] == '.')
    return fail(p, "invalid number at position %zu", start);
  char buf[64];
  size_t len = i - start;
  if (len >= sizeof buf) {
    real = true; /* too long for an int64 anyway */
  }
  char *tmp;
  if (len < sizeof buf) {
    memcpy(buf, s + start, len);
    buf[len < sizeof buf ? len : sizeof buf - 1] = '\0';
    tmp = buf;
  } else if (!(tmp = wf__strndup(s + start, len))) {
    return fail(p, "out of memory");
  }
  n->kind = WF__IARG_LITERAL;
  if (!real) {
    errno = 0;
    long long v = strtoll(tmp, NULL, 10);
    if (errno == ERANGE) real = true;
    else n->literal = json_integer(v);
  }
  if (real) {
    /* jansson holds no infinity; AWS accepts 1e309, so keep the largest
     * double rather than refuse the definition. */
    double d = strtod(tmp, NULL);
    if (d > DBL_MAX) d = DBL_MAX;
    if (d < -DBL_MAX) d = -DBL_MAX;
    n->literal = json_real(d);
  }
  if (tmp != buf) wf__free(tmp);
  p->pos = i;
  if (!n->literal) return fail(p, "out of memory");
  return 0;
}

/* The extent of a path argument: up to a ',' or ')' or blank that is not
 * inside brackets (filters and quoted names may hold all three). */
static size_t path_end(const char *s, size_t i) {
  int bracket = 0, paren = 0;
  char quote = 0;
  for (; s[i]; i++) {
    char c = s[i];
    if (quote) {
      if (c == '\\' && s[i + 1]) i++;
      else if (c == quote) quote = 0;
      continue;
    }
    if (bracket > 0 && (c == '\'' || c == '"')) {
      quote = c;
    } else if (c == '[') {
      bracket++;
    } else if (c == ']') {
      if (bracket > 0) bracket--;
    } else if (bracket > 0 && c == '(') {
      paren++;
    } else if (bracket > 0 && c == ')') {
      if (paren > 0) paren--;
    } else if (bracket == 0 && (c == ',' || c == ')' || is_blank(c))) {
      break;
    }
  }
  return i;
}

static int parse_path(parser *p, wf__inode *n) {
  size_t end = path_end(p->s, p->pos);
  char *text = wf__strndup(p->s + p->pos, end - p->pos);
  if (!text) return fail(p, "out of memory");
  char why[200];
  why[0] = '\0';
  int rc = wf__jsonpath_compile(&n->path, text, p->path_flags, why,
                                sizeof why);
  if (rc != 0) {
    fail(p, "invalid path argument '%s': %s", text, why);
    wf__free(text);
    return -1;
  }
  wf__free(text);
  n->kind = WF__IARG_PATH;
  p->pos = end;
  return 0;
}

static bool word_at(const parser *p, const char *w) {
  size_t n = strlen(w);
  return strncmp(p->s + p->pos, w, n) == 0 && !is_name_char(p->s[p->pos + n]);
}

static int parse_call(parser *p, wf__inode *n);

static int parse_arg(parser *p, wf__inode *n) {
  char c = p->s[p->pos];
  if (c == '\'') return parse_string(p, n);
  if (c == '$') return parse_path(p, n);
  if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, n);
  static const struct {
    const char *word;
    json_t *(*make)(void);
  } consts[] = {{"true", json_true}, {"false", json_false}, {"null", json_null}};
  for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++) {
    if (word_at(p, consts[i].word)) {
      n->kind = WF__IARG_LITERAL;
      n->literal = consts[i].make();
      p->pos += strlen(consts[i].word);
      return 0;
    }
  }
  if (strncmp(p->s + p->pos, "States.", 7) == 0) return parse_call(p, n);
  if (c == '\0') return fail(p, "unexpected end of text, expected an argument");
  return fail(p, "unexpected character '%c' at position %zu", c, p->pos);
}

/* Store the Format template when it is written literally, so running the
 * call does not split it again. */
static int prepare_format(parser *p, wf__inode *n) {
  const wf__inode *t = n->nargs ? &n->args[0] : NULL;
  if (!t || t->kind != WF__IARG_LITERAL || !json_is_string(t->literal))
    return 0;
  n->tmpl = wf__intrinsic_tmpl_new(p->s + t->raw_off, t->raw_len);
  return n->tmpl ? 0 : fail(p, "out of memory");
}

static int parse_call(parser *p, wf__inode *n) {
  size_t at = p->pos, len;
  int fn = call_head(p->s + at, &len);
  if (fn < 0) {
    size_t i = at + 7;
    while (is_name_char(p->s[i])) i++;
    if (p->s[i] != '(')
      return fail(p, "expected '(' after '%.*s'", (int)(i - at), p->s + at);
    return fail(p, "'%.*s' is not an intrinsic function (names are "
                   "case-sensitive)", (int)(i - at), p->s + at);
  }
  if (++p->calls > WF__INTRINSIC_MAX_CALLS)
    return fail(p, "more than %d intrinsic function calls in one field",
                WF__INTRINSIC_MAX_CALLS);
  n->kind = WF__IARG_CALL;
  n->fn = fn;
  p->pos = at + len + 1;
  skip_blanks(p);
  if (p->s[p->pos] == ')') {
    p->pos++;
    return 0;
  }
  size_t cap = 0;
  for (;;) {
    if (n->nargs == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      wf__inode *a = wf__realloc(n->args, ncap * sizeof *a);
      if (!a) return fail(p, "out of memory");
      memset(a + cap, 0, (ncap - cap) * sizeof *a);
      n->args = a;
      cap = ncap;
    }
    skip_blanks(p);
    /* Counted before parsing, so a half-built argument is freed too. */
    n->nargs++;
    if (parse_arg(p, &n->args[n->nargs - 1]) != 0) return -1;
    skip_blanks(p);
    char c = p->s[p->pos];
    if (c == ',') {
      p->pos++;
      continue;
    }
    if (c == ')') {
      p->pos++;
      break;
    }
    if (c == '\0')
      return fail(p, "unexpected end of text, expected ',' or ')'");
    return fail(p, "unexpected character '%c' at position %zu, expected ',' "
                   "or ')'", c, p->pos);
  }
  if (strcmp(wf__intrinsic_fns[fn].name, "States.Format") == 0)
    return prepare_format(p, n);
  return 0;
}

int wf__intrinsic_compile(wf__intrinsic **out, const char *text,
                          unsigned path_flags, char *msg, size_t msglen) {
  *out = NULL;
  if (msg && msglen) msg[0] = '\0';
  parser p = {text ? text : "", 0, path_flags, 0, msg, msglen};
  skip_blanks(&p);
  if (strncmp(p.s + p.pos, "States.", 7) != 0)
    return fail(&p, "not an intrinsic function call");
  wf__intrinsic *f = wf__calloc(1, sizeof *f);
  if (!f || !(f->text = wf__strdup(p.s))) {
    wf__free(f);
    return fail(&p, "out of memory");
  }
  if (parse_call(&p, &f->root) != 0) {
    wf__intrinsic_free(f);
    return -1;
  }
  skip_blanks(&p);
  if (p.s[p.pos] != '\0') {
    wf__intrinsic_free(f);
    return fail(&p, "unexpected text after the call at position %zu", p.pos);
  }
  *out = f;
  return 0;
}

void wf__intrinsic_free(wf__intrinsic *f) {
  if (!f) return;
  node_clear(&f->root);
  wf__free(f->text);
  wf__free(f);
}

const char *wf__intrinsic_text(const wf__intrinsic *f) {
  return f ? f->text : NULL;
}
