/* JSONata's lexer, Pratt parser and post-parse step (jsonata-js 2.0.6's
 * parser.js: the same tokens, binding powers, error codes and positions;
 * processAST turns '.' into paths of steps, '[..]' into predicates or
 * stages, and resolves the '%' parent operator's ancestry). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "jsonata_impl.h"
#include "regex_context.h"

typedef enum { T_NAME, T_VAR, T_OP, T_STR, T_NUM, T_VALUE, T_REGEX, T_END } ttype;

typedef struct tok {
  ttype type;
  const char *s; /* names, variables, strings, operators */
  size_t len;
  double num;
  int vkind;
  int pos;
  pcre2_code *re;
  unsigned reflags;
} tok;

typedef struct parser {
  struct wf__jsonata *e;
  const char *src;
  size_t len, pos;
  tok cur; /* the current token (jsonata-js's `node`) */
  jmp_buf jb;
  const char *code;
  int epos;
  char etoken[64];
  char evalue[64];
  int ancestor_label, ancestor_index;
  int depth; /* nesting of expression() and process() calls */
  jslot **ancestry;
  size_t nanc, capanc;
  /* The variable names met so far, each kept once: lookups of the same
   * name then match by pointer. */
  struct pname {
    const char *s;
    size_t len;
    struct pname *next;
  } *names;
} parser;

static _Noreturn void perr(parser *p, const char *code, int pos,
                           const char *tk, size_t toklen, const char *val) {
  p->code = code;
  p->epos = pos;
  p->etoken[0] = p->evalue[0] = '\0';
  if (tk) {
    /* tk may point into the text: exactly toklen bytes (an empty string
     * literal's token is empty). */
    if (toklen >= sizeof p->etoken) toklen = sizeof p->etoken - 1;
    memcpy(p->etoken, tk, toklen);
    p->etoken[toklen] = '\0';
  }
  if (val) snprintf(p->evalue, sizeof p->evalue, "%s", val);
  longjmp(p->jb, 1);
}

static void *palloc(parser *p, size_t n) {
  void *m = ja_alloc(&p->e->arena, n);
  if (!m) perr(p, "U1002", -1, NULL, 0, NULL);
  memset(m, 0, n);
  return m;
}

/* --- lexer --- */

static bool is_opchar(char c) {
  return c && strchr(".[]{}(),@#;:?+-*/%|=<>^&!~", c) != NULL;
}
static bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v';
}

static void put_utf8(char *buf, size_t *n, unsigned cp) {
  if (cp < 0x80) buf[(*n)++] = (char)cp;
  else if (cp < 0x800) {
    buf[(*n)++] = (char)(0xC0 | (cp >> 6));
    buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    buf[(*n)++] = (char)(0xE0 | (cp >> 12));
    buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    buf[(*n)++] = (char)(0xF0 | (cp >> 18));
    buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static void keep_regex(parser *p, pcre2_code *re) {
  struct wf__jsonata *e = p->e;
  if (e->nres == e->capres) {
    size_t cap = e->capres ? e->capres * 2 : 4;
    pcre2_code **n = wf__realloc(e->res, cap * sizeof *n);
    if (!n) {
      pcre2_code_free(re);
      perr(p, "U1002", -1, NULL, 0, NULL);
    }
    e->res = n;
    e->capres = cap;
  }
  e->res[e->nres++] = re;
}

static void scan_regex(parser *p, tok *t) {
  size_t start = p->pos;
  int depth = 0;
  while (p->pos < p->len) {
    char c = p->src[p->pos];
    if (c == '/' && depth == 0) {
      size_t bs = 0;
      while (p->pos >= bs + 1 && p->src[p->pos - bs - 1] == '\\') bs++;
      if (bs % 2 == 0) {
        size_t plen = p->pos - start;
        if (plen == 0) perr(p, "S0301", (int)p->pos, NULL, 0, NULL);
        p->pos++;
        unsigned flags = 0;
        while (p->pos < p->len &&
               (p->src[p->pos] == 'i' || p->src[p->pos] == 'm')) {
          flags |= p->src[p->pos] == 'i' ? 1u : 2u;
          p->pos++;
        }
        /* JavaScript's RegExp: '$' only at the end unless 'm'; \w, \d
         * ASCII; \uHHHH escapes. */
        uint32_t opts = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY;
        if (flags & 1u) opts |= PCRE2_CASELESS;
        if (flags & 2u) opts |= PCRE2_MULTILINE;
        pcre2_general_context *gc = wf__regex_context_new();
        pcre2_compile_context *cc =
            gc ? pcre2_compile_context_create(gc) : NULL;
        if (!cc) {
          if (gc) pcre2_general_context_free(gc);
          perr(p, "U1002", -1, NULL, 0, NULL);
        }
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)(p->src + start), plen,
                                       opts, &ec, &eo, cc);
        pcre2_compile_context_free(cc);
        pcre2_general_context_free(gc);
        if (!re) perr(p, "S0303", (int)start, p->src + start, plen, NULL);
        keep_regex(p, re);
        /* Matched many times (once per item of a filter): compiled to
         * machine code where PCRE2 can (else it is interpreted). */
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        t->type = T_REGEX;
        t->re = re;
        t->reflags = flags;
        t->s = p->src + start;
        t->len = plen;
        return;
      }
    }
    if ((c == '(' || c == '[' || c == '{') &&
        (p->pos == 0 || p->src[p->pos - 1] != '\\'))
      depth++;
    if ((c == ')' || c == ']' || c == '}') &&
        (p->pos == 0 || p->src[p->pos - 1] != '\\'))
      depth--;
    p->pos++;
  }
  perr(p, "S0302", (int)p->pos, NULL, 0, NULL);
}

static bool hex4(const char *s, size_t avail, unsigned *out) {
  if (avail < 4) return false;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return false;
  }
  *out = v;
  return true;
}

/* The next token; `infix`: '/' divides rather than opens a regex. */
static void lex(parser *p, tok *t, bool infix) {
  memset(t, 0, sizeof *t);
  const char *s = p->src;
  for (;;) {
    while (p->pos < p->len && is_ws(s[p->pos])) p->pos++;
    if (p->pos + 1 < p->len && s[p->pos] == '/' && s[p->pos + 1] == '*') {
      size_t cs = p->pos;
      p->pos += 2;
      for (;;) {
        if (p->pos + 1 >= p->len) perr(p, "S0106", (int)cs, NULL, 0, NULL);
        if (s[p->pos] == '*' && s[p->pos + 1] == '/') break;
        p->pos++;
      }
      p->pos += 2;
      continue;
    }
    break;
  }
  t->pos = (int)p->pos;
  if (p->pos >= p->len) {
    t->type = T_END;
    return;
  }
  char c = s[p->pos];
  char c1 = p->pos + 1 < p->len ? s[p->pos + 1] : '\0';
  if (!infix && c == '/') {
    p->pos++;
    scan_regex(p, t);
    return;
  }
  static const char *const two[] = {"..", ":=", "!=", ">=", "<=", "**", "~>"};
  for (size_t i = 0; i < sizeof two / sizeof *two; i++) {
    if (c == two[i][0] && c1 == two[i][1]) {
      t->type = T_OP;
      t->s = two[i];
      t->len = 2;
      p->pos += 2;
      return;
    }
  }
  if (is_opchar(c)) {
    t->type = T_OP;
    t->s = s + p->pos;
    t->len = 1;
    p->pos++;
    return;
  }
  if (c == '"' || c == '\'') {
    char q = c;
    p->pos++;
    /* the unescaped string is never longer than its source */
    size_t cap = p->len - p->pos + 1, n = 0;
    char *buf = palloc(p, cap + 4);
    while (p->pos < p->len) {
      c = s[p->pos];
      if (c == '\\') {
        p->pos++;
        c = p->pos < p->len ? s[p->pos] : '\0';
        const char *esc = strchr("\"\\/bfnrt", c);
        if (c && esc) {
          static const char rep[] = "\"\\/\b\f\n\r\t";
          buf[n++] = rep[esc - "\"\\/bfnrt"];
        } else if (c == 'u') {
          unsigned cp;
          if (!hex4(s + p->pos + 1, p->len - p->pos - 1, &cp))
            perr(p, "S0104", (int)p->pos, NULL, 0, NULL);
          p->pos += 4;
          /* a surrogate pair written as two escapes */
          unsigned lo;
          if (cp >= 0xD800 && cp < 0xDC00 && p->pos + 6 < p->len &&
              s[p->pos + 1] == '\\' && s[p->pos + 2] == 'u' &&
              hex4(s + p->pos + 3, p->len - p->pos - 3, &lo) &&
              lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p->pos += 6;
          }
          /* A lone surrogate (a JavaScript string may hold one) has no
           * UTF-8 form: it reads as U+FFFD, as when the text is decoded. */
          if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
          put_utf8(buf, &n, cp);
        } else {
          perr(p, "S0103", (int)p->pos, c ? s + p->pos : NULL, 1, NULL);
        }
      } else if (c == q) {
        p->pos++;
        t->type = T_STR;
        t->s = buf;
        t->len = n;
        return;
      } else {
        buf[n++] = c;
      }
      p->pos++;
    }
    perr(p, "S0101", (int)p->pos, NULL, 0, NULL);
  }
  /* numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)? */
  {
    size_t i = p->pos;
    if (i < p->len && s[i] == '-') i++;
    size_t ds = i;
    if (i < p->len && s[i] == '0') i++;
    else if (i < p->len && s[i] >= '1' && s[i] <= '9')
      while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    if (i > ds) {
      if (i + 1 < p->len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
        i++;
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
      }
      if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (s[j] == '+' || s[j] == '-')) j++;
        if (j < p->len && s[j] >= '0' && s[j] <= '9') {
          while (j < p->len && s[j] >= '0' && s[j] <= '9') j++;
          i = j;
        }
      }
      char tmp[512];
      size_t nl = i - p->pos;
      if (nl >= sizeof tmp) nl = sizeof tmp - 1;
      memcpy(tmp, s + p->pos, nl);
      tmp[nl] = '\0';
      double d = strtod(tmp, NULL);
      if (!isfinite(d)) perr(p, "S0102", (int)p->pos, s + p->pos, i - p->pos, NULL);
      t->type = T_NUM;
      t->num = d;
      t->s = s + p->pos;
      t->len = i - p->pos;
      p->pos = i;
      return;
    }
  }
  if (c == '`') {
    p->pos++;
    const char *end = memchr(s + p->pos, '`', p->len - p->pos);
    if (!end) {
      p->pos = p->len;
      perr(p, "S0105", (int)p->pos, NULL, 0, NULL);
    }
    t->type = T_NAME;
    t->s = s + p->pos;
    t->len = (size_t)(end - (s + p->pos));
    p->pos = (size_t)(end - s) + 1;
    return;
  }
  size_t i = p->pos;
  while (i < p->len && !is_ws(s[i]) && !is_opchar(s[i])) i++;
  if (s[p->pos] == '$') {
    t->type = T_VAR;
    t->s = s + p->pos + 1;
    t->len = i - p->pos - 1;
    p->pos = i;
    return;
  }
  t->s = s + p->pos;
  t->len = i - p->pos;
  p->pos = i;
  t->type = T_NAME;
  if ((t->len == 2 && !memcmp(t->s, "or", 2)) ||
      (t->len == 2 && !memcmp(t->s, "in", 2)) ||
      (t->len == 3 && !memcmp(t->s, "and", 3)))
    t->type = T_OP;
  else if (t->len == 4 && !memcmp(t->s, "true", 4)) {
    t->type = T_VALUE;
    t->vkind = 1;
  } else if (t->len == 5 && !memcmp(t->s, "false", 5)) {
    t->type = T_VALUE;
    t->vkind = 2;
  } else if (t->len == 4 && !memcmp(t->s, "null", 4)) {
    t->type = T_VALUE;
    t->vkind = 0;
  }
}

/* --- parser --- */

static bool op_is(const tok *t, const char *op) {
  return t->type == T_OP && t->len == strlen(op) && !memcmp(t->s, op, t->len);
}
static bool cur_is(parser *p, const char *op) { return op_is(&p->cur, op); }

/* Left binding power of a token in infix position. */
static int lbp(const tok *t) {
  if (t->type != T_OP) return 0;
  static const struct { const char *op; int bp; } tbl[] = {
      {".", 75},  {"[", 80},  {"{", 70},  {"(", 80},  {"@", 80},
      {"#", 80},  {"?", 20},  {"+", 50},  {"-", 50},  {"*", 60},
      {"/", 60},  {"%", 60},  {"=", 40},  {"<", 40},  {">", 40},
      {"^", 40},  {":=", 10}, {"!=", 40}, {"<=", 40}, {">=", 40},
      {"~>", 40}, {"and", 30}, {"or", 25}, {"in", 40}, {"&", 50}};
  for (size_t i = 0; i < sizeof tbl / sizeof *tbl; i++)
    if (op_is(t, tbl[i].op)) return tbl[i].bp;
  return 0;
}

/* Is this operator in jsonata-js's symbol table? */
static bool known_op(const tok *t) {
  static const char *const ops[] = {
      ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+",
      "-", "*", "/", "%", "|", "=", "<", ">", "^", "**", "..", ":=", "!=",
      "<=", ">=", "~>", "and", "or", "in", "&"};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (op_is(t, ops[i])) return true;
  return false;
}

static const char *tok_text(parser *p, const tok *t, size_t *len) {
  (void)p;
  if (t->type == T_END) {
    *len = 5;
    return "(end)";
  }
  *len = t->len;
  return t->s;
}

static void advance(parser *p, const char *id, bool infix) {
  if (id && !cur_is(p, id)) {
    size_t tl;
    const char *tt = tok_text(p, &p->cur, &tl);
    perr(p, p->cur.type == T_END ? "S0203" : "S0202", p->cur.pos, tt, tl, id);
  }
  lex(p, &p->cur, infix);
  if (p->cur.type == T_END) p->cur.pos = (int)p->len;
  if (p->cur.type == T_OP && !known_op(&p->cur))
    perr(p, "S0204", p->cur.pos, p->cur.s, p->cur.len, NULL);
}

/* A variable's name, the same string for every use of it. */
static const char *var_name(parser *p, const char *s, size_t len) {
  for (struct pname *m = p->names; m; m = m->next)
    if (m->len == len && memcmp(m->s, s, len) == 0) return m->s;
  char *copy = palloc(p, len + 1);
  memcpy(copy, s, len);
  struct pname *m = palloc(p, sizeof *m);
  *m = (struct pname){copy, len, p->names};
  p->names = m;
  return copy;
}

static jnode *node_from(parser *p, const tok *t) {
  jnode *n = palloc(p, sizeof(jnode));
  n->pos = t->pos;
  switch (t->type) {
  case T_NAME: n->type = N_NAME; break;
  case T_VAR: n->type = N_VARIABLE; break;
  case T_OP: n->type = N_OPERATOR; break;
  case T_STR: n->type = N_STRING; break;
  case T_NUM: n->type = N_NUMBER; break;
  case T_VALUE: n->type = N_VALUE; break;
  case T_REGEX: n->type = N_REGEX; break;
  case T_END: n->type = N_END; break;
  }
  if (t->type == T_END) {
    n->op = "(end)";
    n->oplen = 5;
  } else if (t->type == T_VAR) {
    n->op = var_name(p, t->s, t->len);
    n->oplen = t->len;
  } else {
    char *s = palloc(p, t->len + 1);
    memcpy(s, t->s, t->len);
    n->op = s;
    n->oplen = t->len;
  }
  n->num = t->num;
  n->vkind = t->vkind;
  n->re = t->re;
  n->reflags = t->reflags;
  return n;
}

typedef struct nvec {
  jnode **v;
  size_t n, cap;
} nvec;

static void nv_push(parser *p, nvec *v, jnode *x) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 4;
    jnode **m = palloc(p, cap * sizeof *m);
    if (v->n) memcpy(m, v->v, v->n * sizeof *m);
    v->v = m;
    v->cap = cap;
  }
  v->v[v->n++] = x;
}

static jnode *expression(parser *p, int rbp);

static jnode *object_parse(parser *p, jnode *self, jnode *left) {
  nvec a = {0};
  if (!cur_is(p, "}")) {
    for (;;) {
      jnode *k = expression(p, 0);
      advance(p, ":", false);
      jnode *v = expression(p, 0);
      nv_push(p, &a, k);
      nv_push(p, &a, v);
      if (!cur_is(p, ",")) break;
      advance(p, ",", false);
    }
  }
  advance(p, "}", true);
  self->pairs = a.v;
  self->npairs = a.n / 2;
  if (!left) {
    self->type = N_UNARY;
  } else {
    self->lhs = left;
    self->type = N_BINARY;
  }
  return self;
}

static jnode *nud(parser *p, jnode *t) {
  switch (t->type) {
  case N_NAME: case N_VARIABLE: case N_STRING: case N_NUMBER: case N_VALUE:
  case N_REGEX: case N_END:
    return t;
  default:
    break;
  }
  const char *op = t->op;
  if (!strcmp(op, "and") || !strcmp(op, "or") || !strcmp(op, "in")) return t;
  if (!strcmp(op, "-")) {
    t->lhs = expression(p, 70);
    t->type = N_UNARY;
    return t;
  }
  if (!strcmp(op, "*")) { t->type = N_WILDCARD; return t; }
  if (!strcmp(op, "**")) { t->type = N_DESCENDANT; return t; }
  if (!strcmp(op, "%")) { t->type = N_PARENT; return t; }
  if (!strcmp(op, "(")) {
    nvec ex = {0};
    while (!cur_is(p, ")")) {
      nv_push(p, &ex, expression(p, 0));
      if (!cur_is(p, ";")) break;
      advance(p, ";", false);
    }
    advance(p, ")", true);
    t->type = N_BLOCK;
    t->items = ex.v;
    t->nitems = ex.n;
    return t;
  }
  if (!strcmp(op, "[")) {
    nvec a = {0};
    if (!cur_is(p, "]")) {
      for (;;) {
        jnode *item = expression(p, 0);
        if (cur_is(p, "..")) {
          jnode *r = palloc(p, sizeof(jnode));
          r->type = N_BINARY;
          r->op = "..";
          r->pos = p->cur.pos;
          r->lhs = item;
          advance(p, "..", false);
          r->rhs = expression(p, 0);
          item = r;
        }
        nv_push(p, &a, item);
        if (!cur_is(p, ",")) break;
        advance(p, ",", false);
      }
    }
    advance(p, "]", true);
    t->items = a.v;
    t->nitems = a.n;
    t->type = N_UNARY;
    return t;
  }
  if (!strcmp(op, "{")) return object_parse(p, t, NULL);
  if (!strcmp(op, "|")) {
    t->type = N_TRANSFORM;
    t->lhs = expression(p, 0);
    advance(p, "|", false);
    t->rhs = expression(p, 0);
    if (cur_is(p, ",")) {
      advance(p, ",", false);
      t->third = expression(p, 0);
    }
    advance(p, "|", false);
    return t;
  }
  perr(p, "S0211", t->pos, t->op, t->oplen, NULL);
}

static jnode *led(parser *p, jnode *t, jnode *left) {
  const char *op = t->op;
  int bp = lbp(&(tok){.type = T_OP, .s = op, .len = t->oplen});
  if (!strcmp(op, "(")) {
    nvec args = {0};
    t->proc = left;
    t->type = N_FUNCTION;
    if (!cur_is(p, ")")) {
      for (;;) {
        if (p->cur.type == T_OP && cur_is(p, "?")) {
          t->type = N_PARTIAL;
          nv_push(p, &args, node_from(p, &p->cur));
          advance(p, "?", false);
        } else {
          nv_push(p, &args, expression(p, 0));
        }
        if (!cur_is(p, ",")) break;
        advance(p, ",", false);
      }
    }
    advance(p, ")", true);
    t->items = args.v;
    t->nitems = args.n;
    if (left->type == N_NAME &&
        (!strcmp(left->op, "function") || !strcmp(left->op, "\xCE\xBB"))) {
      for (size_t i = 0; i < args.n; i++) {
        if (args.v[i]->type != N_VARIABLE) {
          char idx[24];
          snprintf(idx, sizeof idx, "%zu", i + 1);
          perr(p, "S0208", args.v[i]->pos, args.v[i]->op, args.v[i]->oplen,
               idx);
        }
      }
      t->type = N_LAMBDA;
      if (cur_is(p, "<")) {
        int sigpos = p->cur.pos;
        int depth = 1;
        char sig[64];
        size_t sn = 0;
        sig[sn++] = '<';
        while (depth > 0 && !cur_is(p, "{") && p->cur.type != T_END) {
          advance(p, NULL, false);
          if (cur_is(p, ">")) depth--;
          else if (cur_is(p, "<")) depth++;
          size_t tl;
          const char *tt = tok_text(p, &p->cur, &tl);
          if (sn + tl < sizeof sig - 1) {
            memcpy(sig + sn, tt, tl);
            sn += tl;
          }
        }
        sig[sn] = '\0';
        advance(p, ">", false);
        jsig *js = palloc(p, sizeof *js);
        const char *code;
        int off;
        if (jsig_parse(js, sig, &code, &off) != 0)
          perr(p, code, sigpos + off, NULL, 0, NULL);
        t->sig = js;
      }
      advance(p, "{", false);
      t->body = expression(p, 0);
      advance(p, "}", false);
    }
    return t;
  }
  if (!strcmp(op, "[")) {
    if (cur_is(p, "]")) {
      jnode *step = left;
      while (step && step->type == N_BINARY && !strcmp(step->op, "["))
        step = step->lhs;
      step->keep_array = true;
      advance(p, "]", false);
      return left;
    }
    t->lhs = left;
    t->rhs = expression(p, 0);
    t->type = N_BINARY;
    advance(p, "]", true);
    return t;
  }
  if (!strcmp(op, "^")) {
    advance(p, "(", false);
    nvec terms = {0};
    bool descs[256];
    for (;;) {
      bool d = false;
      if (cur_is(p, "<")) advance(p, "<", false);
      else if (cur_is(p, ">")) {
        d = true;
        advance(p, ">", false);
      }
      if (terms.n < 256) descs[terms.n] = d;
      nv_push(p, &terms, expression(p, 0));
      if (!cur_is(p, ",")) break;
      advance(p, ",", false);
    }
    advance(p, ")", false);
    t->lhs = left;
    t->terms = terms.v;
    t->nterms = terms.n;
    t->desc = palloc(p, terms.n + 1);
    for (size_t i = 0; i < terms.n && i < 256; i++) t->desc[i] = descs[i];
    t->type = N_BINARY;
    return t;
  }
  if (!strcmp(op, "{")) return object_parse(p, t, left);
  if (!strcmp(op, ":=")) {
    if (left->type != N_VARIABLE)
      perr(p, "S0212", left->pos, left->op, left->oplen, NULL);
    t->lhs = left;
    t->rhs = expression(p, 9);
    t->type = N_BINARY;
    return t;
  }
  if (!strcmp(op, "@") || !strcmp(op, "#")) {
    t->lhs = left;
    t->rhs = expression(p, 80);
    if (t->rhs->type != N_VARIABLE) perr(p, "S0214", t->rhs->pos, op, 1, NULL);
    t->type = N_BINARY;
    return t;
  }
  if (!strcmp(op, "?")) {
    t->type = N_CONDITION;
    t->lhs = left;
    t->rhs = expression(p, 0);
    if (cur_is(p, ":")) {
      advance(p, ":", false);
      t->third = expression(p, 0);
    }
    return t;
  }
  /* plain infix operators */
  t->lhs = left;
  t->rhs = expression(p, bp);
  t->type = N_BINARY;
  return t;
}

static bool has_led(const jnode *t) {
  if (t->type != N_OPERATOR) return false;
  return lbp(&(tok){.type = T_OP, .s = t->op, .len = t->oplen}) > 0;
}

/* Nesting the parser follows on the C stack: deeper than any real
 * expression, well inside an engine thread's stack. jsonata-js stops at
 * JavaScript's own stack limit ("U1001": stack overflow). */
#define PARSE_MAX_DEPTH 200

static jnode *expression_at(parser *p, int rbp);

static jnode *expression(parser *p, int rbp) {
  if (++p->depth > PARSE_MAX_DEPTH)
    perr(p, "U1001", (int)p->cur.pos, NULL, 0, NULL);
  jnode *n = expression_at(p, rbp);
  p->depth--;
  return n;
}

static jnode *expression_at(parser *p, int rbp) {
  jnode *t = node_from(p, &p->cur);
  advance(p, NULL, true);
  jnode *left = nud(p, t);
  while (rbp < lbp(&p->cur)) {
    t = node_from(p, &p->cur);
    advance(p, NULL, false);
    if (!has_led(t)) perr(p, "S0211", t->pos, t->op, t->oplen, NULL);
    left = led(p, t, left);
  }
  return left;
}

/* --- post-parse (jsonata-js's processAST) --- */

static void push_slot(parser *p, jslot ***v, uint32_t *n, jslot *s) {
  jslot **m = palloc(p, (*n + 1) * sizeof *m);
  if (*n) memcpy(m, *v, *n * sizeof *m);
  m[(*n)++] = s;
  *v = m;
}

static jslot *seek_parent(parser *p, jnode *node, jslot *slot) {
  switch (node->type) {
  case N_NAME:
  case N_WILDCARD:
    slot->level--;
    if (slot->level == 0) {
      if (node->ancestor) p->ancestry[slot->index]->label = node->ancestor->label;
      node->ancestor = slot;
      node->tuple = true;
    }
    break;
  case N_PARENT:
    slot->level++;
    break;
  case N_BLOCK:
    if (node->nitems > 0) {
      node->tuple = true;
      slot = seek_parent(p, node->items[node->nitems - 1], slot);
    }
    break;
  case N_PATH: {
    node->tuple = true;
    long idx = (long)node->nitems - 1;
    slot = seek_parent(p, node->items[idx--], slot);
    while (slot->level > 0 && idx >= 0) slot = seek_parent(p, node->items[idx--], slot);
    break;
  }
  default:
    perr(p, "S0217", node->pos, node->type == N_FUNCTION ? "function" : "expression",
         node->type == N_FUNCTION ? 8 : 10, NULL);
  }
  return slot;
}

static void push_ancestry(parser *p, jnode *result, jnode *value) {
  if (value->nseeking || value->type == N_PARENT) {
    for (size_t i = 0; i < value->nseeking; i++)
      push_slot(p, &result->seeking, &result->nseeking, value->seeking[i]);
    if (value->type == N_PARENT)
      push_slot(p, &result->seeking, &result->nseeking, value->slot);
  }
}

static void resolve_ancestry(parser *p, jnode *path) {
  long index = (long)path->nitems - 1;
  jnode *last = path->items[index];
  uint32_t n = last->nseeking;
  jslot **slots = last->seeking;
  if (last->type == N_PARENT) push_slot(p, &slots, &n, last->slot);
  for (size_t is = 0; is < n; is++) {
    jslot *slot = slots[is];
    index = (long)path->nitems - 2;
    while (slot->level > 0) {
      if (index < 0) {
        push_slot(p, &path->seeking, &path->nseeking, slot);
        break;
      }
      jnode *step = path->items[index--];
      while (index >= 0 && step->focus && path->items[index]->focus)
        step = path->items[index--];
      slot = seek_parent(p, step, slot);
    }
  }
}

static jnode *tail_call_optimize(parser *p, jnode *expr) {
  if (expr->type == N_FUNCTION && !expr->npred) {
    jnode *th = palloc(p, sizeof(jnode));
    th->type = N_LAMBDA;
    th->thunk = true;
    th->pos = expr->pos;
    th->body = expr;
    return th;
  }
  if (expr->type == N_CONDITION) {
    expr->rhs = tail_call_optimize(p, expr->rhs);
    if (expr->third) expr->third = tail_call_optimize(p, expr->third);
    return expr;
  }
  if (expr->type == N_BLOCK && expr->nitems > 0) {
    expr->items[expr->nitems - 1] = tail_call_optimize(p, expr->items[expr->nitems - 1]);
  }
  return expr;
}

static void add_stage(parser *p, jstage **v, uint32_t *n, jstage st) {
  jstage *m = palloc(p, (*n + 1) * sizeof *m);
  if (*n) memcpy(m, *v, *n * sizeof *m);
  m[(*n)++] = st;
  *v = m;
}

static jnode *new_path(parser *p, jnode *step) {
  jnode *r = palloc(p, sizeof(jnode));
  r->type = N_PATH;
  r->pos = step->pos;
  r->items = palloc(p, sizeof *r->items);
  r->items[0] = step;
  r->nitems = 1;
  return r;
}

static void path_push(parser *p, jnode *path, jnode *step) {
  jnode **m = palloc(p, (path->nitems + 1) * sizeof *m);
  memcpy(m, path->items, path->nitems * sizeof *m);
  m[path->nitems++] = step;
  path->items = m;
}

static jnode *process_node(parser *p, jnode *expr);

/* Whether each pair's key is a plain string literal (no predicate,
 * grouping or []), no two the same: the evaluator then makes the object
 * without its grouping tables. */
static bool literal_keys(jnode *const *pairs, size_t npairs) {
  for (size_t i = 0; i < npairs; i++) {
    const jnode *k = pairs[2 * i];
    if (k->type != N_STRING || k->npred || k->has_group || k->keep_array) return false;
    for (size_t j = 0; j < i; j++)
      if (pairs[2 * j]->oplen == k->oplen && !memcmp(pairs[2 * j]->op, k->op, k->oplen))
        return false;
  }
  return true;
}

static jnode *process(parser *p, jnode *expr) {
  if (++p->depth > PARSE_MAX_DEPTH)
    perr(p, "U1001", expr ? expr->pos : -1, NULL, 0, NULL);
  jnode *n = process_node(p, expr);
  p->depth--;
  return n;
}

static jnode *process_node(parser *p, jnode *expr) {
  jnode *result = NULL;
  switch (expr->type) {
  case N_BINARY: {
    const char *op = expr->op;
    if (!strcmp(op, ".")) {
      jnode *lstep = process(p, expr->lhs);
      if (lstep->type == N_PATH) result = lstep;
      else result = new_path(p, lstep);
      if (lstep->type == N_PARENT) {
        result->seeking = NULL;
        result->nseeking = 0;
        push_slot(p, &result->seeking, &result->nseeking, lstep->slot);
      }
      jnode *rest = process(p, expr->rhs);
      if (rest->type == N_PATH) {
        for (size_t i = 0; i < rest->nitems; i++) path_push(p, result, rest->items[i]);
      } else {
        if (rest->npred) {
          rest->stages = rest->pred;
          rest->nstages = rest->npred;
          rest->pred = NULL;
          rest->npred = 0;
        }
        path_push(p, result, rest);
      }
      for (size_t i = 0; i < result->nitems; i++) {
        jnode *st = result->items[i];
        if (st->type == N_NUMBER || st->type == N_VALUE) {
          char v[32];
          if (st->type == N_NUMBER) jnum_format(v, sizeof v, st->num);
          else snprintf(v, sizeof v, "%s", st->vkind == 1 ? "true" : st->vkind == 2 ? "false" : "null");
          perr(p, "S0213", st->pos, NULL, 0, v);
        }
        if (st->type == N_STRING) st->type = N_NAME;
      }
      for (size_t i = 0; i < result->nitems; i++)
        if (result->items[i]->keep_array) result->keep_singleton = true;
      jnode *first = result->items[0];
      if (first->type == N_UNARY && !strcmp(first->op, "[")) first->consarray = true;
      jnode *last = result->items[result->nitems - 1];
      if (last->type == N_UNARY && !strcmp(last->op, "[")) last->consarray = true;
      resolve_ancestry(p, result);
    } else if (!strcmp(op, "[")) {
      result = process(p, expr->lhs);
      jnode *step = result;
      bool stages = false;
      if (result->type == N_PATH) {
        step = result->items[result->nitems - 1];
        stages = true;
      }
      if (step->has_group) perr(p, "S0209", expr->pos, NULL, 0, NULL);
      jnode *pred = process(p, expr->rhs);
      if (pred->nseeking) {
        for (size_t i = 0; i < pred->nseeking; i++) {
          jslot *s = pred->seeking[i];
          if (s->level == 1) seek_parent(p, step, s);
          else s->level--;
        }
        push_ancestry(p, step, pred);
      }
      jstage st = {false, pred, NULL, expr->pos};
      if (stages) add_stage(p, &step->stages, &step->nstages, st);
      else add_stage(p, &step->pred, &step->npred, st);
    } else if (!strcmp(op, "{")) {
      result = process(p, expr->lhs);
      if (result->has_group) perr(p, "S0210", expr->pos, NULL, 0, NULL);
      result->has_group = true;
      result->ngroup = expr->npairs;
      result->group = palloc(p, (2 * expr->npairs + 1) * sizeof *result->group);
      for (size_t i = 0; i < 2 * expr->npairs; i++)
        result->group[i] = process(p, expr->pairs[i]);
      result->group_pos = expr->pos;
      result->group_literal = literal_keys(result->group, result->ngroup);
    } else if (!strcmp(op, "^")) {
      result = process(p, expr->lhs);
      if (result->type != N_PATH) result = new_path(p, result);
      jnode *sort = palloc(p, sizeof(jnode));
      sort->type = N_SORT;
      sort->pos = expr->pos;
      sort->nterms = expr->nterms;
      sort->desc = expr->desc;
      sort->terms = palloc(p, (expr->nterms + 1) * sizeof *sort->terms);
      for (size_t i = 0; i < expr->nterms; i++) {
        sort->terms[i] = process(p, expr->terms[i]);
        push_ancestry(p, sort, sort->terms[i]);
      }
      path_push(p, result, sort);
      resolve_ancestry(p, result);
    } else if (!strcmp(op, ":=")) {
      result = palloc(p, sizeof(jnode));
      result->type = N_BIND;
      result->pos = expr->pos;
      result->op = expr->op;
      result->lhs = process(p, expr->lhs);
      result->rhs = process(p, expr->rhs);
      push_ancestry(p, result, result->rhs);
    } else if (!strcmp(op, "@")) {
      result = process(p, expr->lhs);
      jnode *step = result;
      if (result->type == N_PATH) step = result->items[result->nitems - 1];
      if (step->nstages || step->npred) perr(p, "S0215", expr->pos, NULL, 0, NULL);
      if (step->type == N_SORT) perr(p, "S0216", expr->pos, NULL, 0, NULL);
      if (expr->keep_array) step->keep_array = true;
      step->focus = expr->rhs->op;
      step->tuple = true;
    } else if (!strcmp(op, "#")) {
      result = process(p, expr->lhs);
      jnode *step = result;
      if (result->type == N_PATH) {
        step = result->items[result->nitems - 1];
      } else {
        result = new_path(p, result);
        if (step->npred) {
          step->stages = step->pred;
          step->nstages = step->npred;
          step->pred = NULL;
          step->npred = 0;
        }
      }
      if (!step->nstages) step->index = expr->rhs->op;
      else add_stage(p, &step->stages, &step->nstages,
                     (jstage){true, NULL, expr->rhs->op, expr->pos});
      step->tuple = true;
    } else if (!strcmp(op, "~>")) {
      result = palloc(p, sizeof(jnode));
      result->type = N_APPLY;
      result->op = expr->op;
      result->pos = expr->pos;
      result->lhs = process(p, expr->lhs);
      result->rhs = process(p, expr->rhs);
      result->keep_array = result->lhs->keep_array || result->rhs->keep_array;
    } else {
      result = palloc(p, sizeof(jnode));
      result->type = N_BINARY;
      result->op = expr->op;
      result->pos = expr->pos;
      result->lhs = process(p, expr->lhs);
      result->rhs = process(p, expr->rhs);
      push_ancestry(p, result, result->lhs);
      push_ancestry(p, result, result->rhs);
    }
    break;
  }
  case N_UNARY:
    result = palloc(p, sizeof(jnode));
    result->type = N_UNARY;
    result->op = expr->op;
    result->pos = expr->pos;
    if (!strcmp(expr->op, "[")) {
      result->nitems = expr->nitems;
      result->items = palloc(p, (expr->nitems + 1) * sizeof *result->items);
      for (size_t i = 0; i < expr->nitems; i++) {
        result->items[i] = process(p, expr->items[i]);
        push_ancestry(p, result, result->items[i]);
      }
    } else if (!strcmp(expr->op, "{")) {
      result->npairs = expr->npairs;
      result->pairs = palloc(p, (2 * expr->npairs + 1) * sizeof *result->pairs);
      for (size_t i = 0; i < 2 * expr->npairs; i++) {
        result->pairs[i] = process(p, expr->pairs[i]);
        push_ancestry(p, result, result->pairs[i]);
      }
      result->pairs_literal = literal_keys(result->pairs, result->npairs);
    } else {
      result->lhs = process(p, expr->lhs);
      if (!strcmp(expr->op, "-") && result->lhs->type == N_NUMBER) {
        result = result->lhs;
        result->num = -result->num;
      } else {
        push_ancestry(p, result, result->lhs);
      }
    }
    break;
  case N_FUNCTION:
  case N_PARTIAL:
    result = palloc(p, sizeof(jnode));
    result->type = expr->type;
    result->pos = expr->pos;
    result->op = expr->op;
    result->nitems = expr->nitems;
    result->items = palloc(p, (expr->nitems + 1) * sizeof *result->items);
    for (size_t i = 0; i < expr->nitems; i++) {
      result->items[i] = process(p, expr->items[i]);
      push_ancestry(p, result, result->items[i]);
    }
    result->proc = process(p, expr->proc);
    break;
  case N_LAMBDA:
    result = palloc(p, sizeof(jnode));
    result->type = N_LAMBDA;
    result->pos = expr->pos;
    result->items = expr->items;
    result->nitems = expr->nitems;
    result->sig = expr->sig;
    result->body = tail_call_optimize(p, process(p, expr->body));
    break;
  case N_CONDITION:
    result = palloc(p, sizeof(jnode));
    result->type = N_CONDITION;
    result->pos = expr->pos;
    result->lhs = process(p, expr->lhs);
    push_ancestry(p, result, result->lhs);
    result->rhs = process(p, expr->rhs);
    push_ancestry(p, result, result->rhs);
    if (expr->third) {
      result->third = process(p, expr->third);
      push_ancestry(p, result, result->third);
    }
    break;
  case N_TRANSFORM:
    result = palloc(p, sizeof(jnode));
    result->type = N_TRANSFORM;
    result->pos = expr->pos;
    result->lhs = process(p, expr->lhs);
    result->rhs = process(p, expr->rhs);
    if (expr->third) result->third = process(p, expr->third);
    break;
  case N_BLOCK:
    result = palloc(p, sizeof(jnode));
    result->type = N_BLOCK;
    result->pos = expr->pos;
    result->nitems = expr->nitems;
    result->items = palloc(p, (expr->nitems + 1) * sizeof *result->items);
    for (size_t i = 0; i < expr->nitems; i++) {
      jnode *part = process(p, expr->items[i]);
      push_ancestry(p, result, part);
      if (part->consarray || (part->type == N_PATH && part->items[0]->consarray))
        result->consarray = true;
      result->items[i] = part;
    }
    break;
  case N_NAME:
    result = new_path(p, expr);
    if (expr->keep_array) result->keep_singleton = true;
    break;
  case N_PARENT: {
    result = palloc(p, sizeof(jnode));
    result->type = N_PARENT;
    result->pos = expr->pos;
    jslot *s = palloc(p, sizeof *s);
    char *lbl = palloc(p, 16);
    snprintf(lbl, 16, "!%d", p->ancestor_label++);
    s->label = lbl;
    s->level = 1;
    s->index = p->ancestor_index++;
    result->slot = s;
    if (p->nanc == p->capanc) {
      size_t cap = p->capanc ? p->capanc * 2 : 8;
      jslot **m = palloc(p, cap * sizeof *m);
      if (p->nanc) memcpy(m, p->ancestry, p->nanc * sizeof *m);
      p->ancestry = m;
      p->capanc = cap;
    }
    p->ancestry[p->nanc++] = s;
    break;
  }
  case N_STRING: case N_NUMBER: case N_VALUE: case N_WILDCARD:
  case N_DESCENDANT: case N_VARIABLE: case N_REGEX:
    result = expr;
    break;
  case N_OPERATOR:
    if (!strcmp(expr->op, "and") || !strcmp(expr->op, "or") || !strcmp(expr->op, "in")) {
      expr->type = N_NAME;
      result = process(p, expr);
    } else if (!strcmp(expr->op, "?")) {
      result = expr;
    } else {
      perr(p, "S0201", expr->pos, expr->op, expr->oplen, NULL);
    }
    break;
  case N_END:
    perr(p, "S0207", expr->pos, "(end)", 5, NULL);
  default:
    perr(p, "S0206", expr->pos, expr->op, expr->op ? expr->oplen : 0, NULL);
  }
  if (expr->keep_array) result->keep_array = true;
  return result;
}

static const char *const parse_messages[][2] = {
    {"S0101", "String literal must be terminated by a matching quote"},
    {"S0102", "Number out of range: {{token}}"},
    {"S0103", "Unsupported escape sequence: \\{{token}}"},
    {"S0104", "The escape sequence \\u must be followed by 4 hex digits"},
    {"S0105", "Quoted property name must be terminated with a backquote (`)"},
    {"S0106", "Comment has no closing tag"},
    {"S0201", "Syntax error: {{token}}"},
    {"S0202", "Expected {{value}}, got {{token}}"},
    {"S0203", "Expected {{value}} before end of expression"},
    {"S0204", "Unknown operator: {{token}}"},
    {"S0205", "Unexpected token: {{token}}"},
    {"S0206", "Unknown expression type: {{token}}"},
    {"S0207", "Unexpected end of expression"},
    {"S0208", "Parameter {{value}} of function definition must be a variable name (start with $)"},
    {"S0209", "A predicate cannot follow a grouping expression in a step"},
    {"S0210", "Each step can only have one grouping expression"},
    {"S0211", "The symbol {{token}} cannot be used as a unary operator"},
    {"S0212", "The left side of := must be a variable name (start with $)"},
    {"S0213", "The literal value {{value}} cannot be used as a step within a path expression"},
    {"S0214", "The right side of {{token}} must be a variable name (start with $)"},
    {"S0215", "A context variable binding must precede any predicates on a step"},
    {"S0216", "A context variable binding must precede the 'order-by' clause on a step"},
    {"S0217", "The object representing the 'parent' cannot be derived from this expression"},
    {"S0301", "Empty regular expressions are not allowed"},
    {"S0302", "No terminating / in regular expression"},
    {"S0303", "Invalid regular expression: {{token}}"},
    {"S0401", "Type parameters can only be applied to functions and arrays"},
    {"S0402", "Choice groups containing parameterized types are not supported"},
    {"U1002", "Out of memory"},
};

static void json_quote(char *out, size_t n, const char *s) {
  size_t o = 0;
  if (n < 3) return;
  out[o++] = '"';
  for (; *s && o + 3 < n; s++) {
    if (*s == '"' || *s == '\\') out[o++] = '\\';
    out[o++] = *s;
  }
  out[o++] = '"';
  out[o] = '\0';
}

static void parse_message(wf__jsonata_error *err, const parser *p) {
  const char *tpl = NULL;
  for (size_t i = 0; i < sizeof parse_messages / sizeof *parse_messages; i++)
    if (!strcmp(parse_messages[i][0], p->code)) tpl = parse_messages[i][1];
  if (!tpl) tpl = "Syntax error";
  char tq[80], vq[80];
  json_quote(tq, sizeof tq, p->etoken);
  /* S0208 and S0213 insert a number / literal, the others a string */
  if (!strcmp(p->code, "S0208") || !strcmp(p->code, "S0213"))
    snprintf(vq, sizeof vq, "%s", p->evalue);
  else json_quote(vq, sizeof vq, p->evalue);
  size_t o = 0;
  for (const char *s = tpl; *s && o + 1 < sizeof err->message;) {
    const char *ins = NULL;
    if (!strncmp(s, "{{token}}", 9)) ins = tq, s += 9;
    else if (!strncmp(s, "{{value}}", 9)) ins = vq, s += 9;
    if (ins) {
      for (; *ins && o + 1 < sizeof err->message; ins++) err->message[o++] = *ins;
    } else {
      err->message[o++] = *s++;
    }
  }
  err->message[o] = '\0';
}

/* Set each node's `plain` once the tree is final. */
/* A literal's value, kept with the expression. */
static const jv *literal(parser *p, const jnode *n) {
  struct wf__jsonata *e = p->e;
  if (e->nlits == e->caplits) {
    size_t cap = e->caplits ? 2 * e->caplits : 8;
    jv **m = wf__realloc(e->lits, cap * sizeof *m);
    if (!m) perr(p, "U1002", -1, NULL, 0, NULL);
    e->lits = m;
    e->caplits = cap;
  }
  jv *v = jv_literal_new(n);
  if (!v) perr(p, "U1002", -1, NULL, 0, NULL);
  return e->lits[e->nlits++] = v;
}

/* Once the tree is final, what evaluation reads ready-made: whether a
 * step is plain and an operand bare, the library function a variable
 * names, a literal's value. */
static void finish(parser *p, jnode *n) {
  if (!n) return;
  n->plain = jnode_plain(n);
  n->bare = !n->npred && !n->has_group && !n->keep_array;
  if (n->type == N_VARIABLE && n->oplen > 0) n->native = jnative_value(n->op);
  if ((n->type == N_STRING || n->type == N_NUMBER) && !n->lit)
    n->lit = literal(p, n);
  jnode *kids[] = {n->lhs, n->rhs, n->third, n->proc, n->body};
  for (size_t i = 0; i < sizeof kids / sizeof *kids; i++) finish(p, kids[i]);
  for (size_t i = 0; i < n->nitems; i++) finish(p, n->items[i]);
  for (size_t i = 0; i < 2 * n->npairs; i++) finish(p, n->pairs[i]);
  for (size_t i = 0; i < 2 * n->ngroup; i++) finish(p, n->group[i]);
  for (size_t i = 0; i < n->npred; i++) finish(p, n->pred[i].expr);
  for (size_t i = 0; i < n->nstages; i++) finish(p, n->stages[i].expr);
  for (size_t i = 0; i < n->nterms; i++) finish(p, n->terms[i]);
}

int jparse(struct wf__jsonata *e, const char *text, size_t len,
           wf__jsonata_error *err) {
  parser *p = wf__calloc(1, sizeof *p);
  if (!p) {
    return jerr_nomem(err);
  }
  p->e = e;
  p->src = text;
  p->len = len;
  int rc = 0;
  if (setjmp(p->jb) == 0) {
    advance(p, NULL, false);
    jnode *expr = expression(p, 0);
    if (p->cur.type != T_END) {
      size_t tl;
      const char *tt = tok_text(p, &p->cur, &tl);
      perr(p, "S0201", p->cur.pos, tt, tl, NULL);
    }
    expr = process(p, expr);
    if (expr->type == N_PARENT || expr->nseeking)
      perr(p, "S0217", expr->pos, expr->type == N_PARENT ? "parent" : "path",
           expr->type == N_PARENT ? 6 : 4, NULL);
    finish(p, expr);
    e->root = expr;
    /* The tree evaluated, alone in one block (the rest let go). */
    if (jcompact(e) != 0) perr(p, "U1002", -1, NULL, 0, NULL);
  } else {
    rc = -1;
    if (err) {
      memset(err, 0, sizeof *err);
      snprintf(err->code, sizeof err->code, "%s", p->code);
      err->position = p->epos;
      snprintf(err->token, sizeof err->token, "%s", p->etoken);
      snprintf(err->value, sizeof err->value, "%s", p->evalue);
      parse_message(err, p);
    }
  }
  wf__free(p);
  return rc;
}
