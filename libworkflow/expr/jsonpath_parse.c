/* Compiling a path: the root AWS adds ("$", "$$", "$name"), then the path
 * exactly as Jayway JsonPath 2.0.0's PathCompiler reads it (see
 * jsonpath_ast.h for why 2.0.0). The compiler cuts the text into fragments
 * ("$", "['name']", "[...]", "..", "[*]") and analyses each fragment; its
 * quirks are kept because they decide which definitions AWS accepts:
 * "$.a[-1]" is an index, "$[a1]" is index 1, "$['a\"b']" keeps the
 * backslash, "$.sum()" is a property called "sum()", filters know only
 * == != < <= > >= =~ and exists checks. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "jsonpath_ast.h"
#include "strbuf.h"

/* Records the first reason only; always returns false so callers can
 * `return wf__jsonpath_fail(...)`. */
bool wf__jsonpath_fail(jp_pstate *ps, const char *fmt, ...) {
  if (!ps->failed && ps->msg && ps->msglen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->msg, ps->msglen, fmt, ap);
    va_end(ap);
  }
  ps->failed = true;
  return false;
}

static bool oom(jp_pstate *ps) {
  return wf__jsonpath_fail(ps, "out of memory");
}

/* Java's String.trim(): every char <= ' ' at both ends. */
void wf__jsonpath_java_trim(const char **s, size_t *n) {
  while (*n && (unsigned char)(*s)[0] <= ' ') {
    (*s)++;
    (*n)--;
  }
  while (*n && (unsigned char)(*s)[*n - 1] <= ' ') (*n)--;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* Java's Integer.parseInt: optional sign, at least one digit, int range. */
static bool parse_java_int(const char *s, size_t n, int32_t *out) {
  size_t i = 0;
  bool neg = false;
  if (n && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n) return false;
  int64_t v = 0;
  for (; i < n; i++) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
    if (v > (int64_t)INT32_MAX + 1) return false;
  }
  if (neg) v = -v;
  if (v > INT32_MAX || v < INT32_MIN) return false;
  *out = (int32_t)v;
  return true;
}

/* --- growable arrays --- */

bool wf__jsonpath_grow(void **arr, size_t *cap, size_t n, size_t elem) {
  if (n < *cap) return true;
  size_t nc = *cap ? *cap * 2 : 4;
  void *p = wf__realloc(*arr, nc * elem);
  if (!p) return false;
  *arr = p;
  *cap = nc;
  return true;
}

typedef struct toklist {
  jp_tok *v;
  size_t n, cap;
} toklist;

static void tok_clear(jp_tok *t) {
  for (size_t i = 0; i < t->nnames; i++) wf__free(t->names[i]);
  wf__free(t->names);
  wf__free(t->nums);
  wf__jsonpath_pred_free(t->filter);
  memset(t, 0, sizeof *t);
}

void wf__jsonpath_path_free(jp_path *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) tok_clear(&p->toks[i]);
  wf__free(p->toks);
  wf__free(p);
}

/* --- fragments (what Jayway prints) --- */

void wf__jsonpath_fragment(wf__strbuf *b, const jp_tok *t) {
  switch (t->kind) {
    case JP_ROOT:
      wf__strbuf_putc(b, '$');
      break;
    case JP_PROP:
      /* "[" + join(", ", "'", properties) + "]" */
      wf__strbuf_putc(b, '[');
      for (size_t i = 0; i < t->nnames; i++) {
        if (i) wf__strbuf_puts(b, ", ");
        wf__strbuf_putc(b, '\'');
        wf__strbuf_puts(b, t->names[i]);
        wf__strbuf_putc(b, '\'');
      }
      wf__strbuf_putc(b, ']');
      break;
    case JP_ARRAY:
      switch (t->op) {
        case JP_SINGLE_INDEX:
        case JP_INDEX_SEQUENCE:
          wf__strbuf_putc(b, '[');
          for (size_t i = 0; i < t->nnums; i++)
            wf__strbuf_printf(b, i ? ",%d" : "%d", (int)t->nums[i]);
          wf__strbuf_putc(b, ']');
          break;
        case JP_CONTEXT_SIZE:
          wf__strbuf_printf(b, "[@.size()%d]", (int)t->nums[0]);
          break;
        case JP_SLICE_FROM:
          wf__strbuf_printf(b, "[%d:]", (int)t->nums[0]);
          break;
        case JP_SLICE_TO:
          wf__strbuf_printf(b, "[:%d]", (int)t->nums[0]);
          break;
        case JP_SLICE_BETWEEN:
          wf__strbuf_printf(b, "[%d:%d]", (int)t->nums[0], (int)t->nums[1]);
          break;
      }
      break;
    case JP_WILDCARD:
      wf__strbuf_puts(b, "[*]");
      break;
    case JP_SCAN:
      wf__strbuf_puts(b, "..");
      break;
    case JP_FILTER:
      wf__strbuf_puts(b, "[?]");
      break;
  }
}

void wf__jsonpath_suffix(wf__strbuf *b, const jp_path *p, size_t from) {
  for (size_t i = from; i < p->n; i++) wf__jsonpath_fragment(b, &p->toks[i]);
}

/* --- fragment analysis (Jayway 2.0.0 PathComponentAnalyzer) --- */

/* Java's charAt() with its StringIndexOutOfBoundsException. */
bool wf__jsonpath_at(jp_pstate *ps, jp_frag f, size_t i, char *c) {
  if (i >= f.n)
    return wf__jsonpath_fail(ps, "String index out of range: %zu", i);
  *c = f.s[i];
  return true;
}

/* "['a']", "['a','b']": names between single quotes, taken literally. */
static bool analyze_property(jp_pstate *ps, jp_frag f, size_t i, jp_tok *t) {
  size_t cap = 0;
  wf__strbuf buf = WF__STRBUF_INIT;
  bool open = false;
  char c = 0;
  t->kind = JP_PROP;
  if (!wf__jsonpath_at(ps, f, i, &c)) return false;
  while (c != ']') {
    if (c == '\'') {
      if (open) {
        char *name = wf__strndup(buf.data ? buf.data : "", buf.len);
        if (!name || !wf__jsonpath_grow((void **)&t->names, &cap, t->nnames,
                                        sizeof(char *))) {
          wf__free(name);
          wf__strbuf_free(&buf);
          return oom(ps);
        }
        t->names[t->nnames++] = name;
        wf__strbuf_reset(&buf);
        open = false;
      } else {
        open = true;
      }
    } else if (open) {
      wf__strbuf_putc(&buf, c);
    }
    if (!wf__jsonpath_at(ps, f, ++i, &c)) {
      wf__strbuf_free(&buf);
      return false;
    }
  }
  bool ok = !buf.oom;
  wf__strbuf_free(&buf);
  return ok ? true : oom(ps);
}

typedef struct numbuf {
  char s[64];
  size_t n;
  bool overflow;
} numbuf;

static void nb_put(numbuf *b, char c) {
  if (b->n + 1 < sizeof b->s)
    b->s[b->n++] = c;
  else
    b->overflow = true;
}

static bool nb_take(jp_pstate *ps, numbuf *b, jp_tok *t, size_t *cap) {
  int32_t v;
  if (b->overflow || !parse_java_int(b->s, b->n, &v)) {
    b->s[b->n] = '\0';
    return wf__jsonpath_fail(ps, "For input string: \"%s\"", b->s);
  }
  if (!wf__jsonpath_grow((void **)&t->nums, cap, t->nnums, sizeof(int32_t)))
    return oom(ps);
  t->nums[t->nnums++] = v;
  b->n = 0;
  return true;
}

static bool is_slice_char(char c) {
  return is_digit(c) || c == ' ' || c == '-';
}

/* "[1]" "[1,2]" "[1:]" "[:2]" "[1:2]" "[(@.length-1)]". A third slice
 * number is read and ignored, as 2.0.0 does. */
static bool analyze_array(jp_pstate *ps, jp_frag f, size_t i, jp_tok *t) {
  numbuf b = {{0}, 0, false};
  size_t cap = 0;
  bool slice_to = false, slice_from = false, slice_between = false;
  bool index_seq = false;
  char c = f.s[i];
  bool ctx = c == '@';
  t->kind = JP_ARRAY;
  if (ctx) {
    if (!wf__jsonpath_at(ps, f, ++i, &c) || !wf__jsonpath_at(ps, f, ++i, &c))
      return false;
    while (c != '-') {
      if (c != ' ' && c != '(' && c != ')') nb_put(&b, c);
      if (!wf__jsonpath_at(ps, f, ++i, &c)) return false;
    }
    b.s[b.n] = '\0';
    if (strcmp(b.s, "size") != 0 && strcmp(b.s, "length") != 0)
      return wf__jsonpath_fail(
          ps,
          "Invalid function: @.%s. Supported functions are: "
          "[(@.length - n)] and [(@.size() - n)]",
          b.s);
    b.n = 0;
    while (c != ')') {
      if (c != ' ') nb_put(&b, c);
      if (!wf__jsonpath_at(ps, f, ++i, &c)) return false;
    }
  } else {
    while (is_digit(c) || c == ',' || c == ' ' || c == ':' || c == '-') {
      switch (c) {
        case ' ':
          break;
        case ':':
          if (b.n == 0) {
            slice_to = true;
            if (!wf__jsonpath_at(ps, f, ++i, &c)) return false;
            while (is_slice_char(c)) {
              if (c != ' ') nb_put(&b, c);
              if (!wf__jsonpath_at(ps, f, ++i, &c)) return false;
            }
            if (!nb_take(ps, &b, t, &cap)) return false;
          } else {
            if (!nb_take(ps, &b, t, &cap)) return false;
            if (!wf__jsonpath_at(ps, f, ++i, &c)) return false;
            while (is_slice_char(c)) {
              if (c != ' ') nb_put(&b, c);
              if (!wf__jsonpath_at(ps, f, ++i, &c)) return false;
            }
            if (b.n == 0) {
              slice_from = true;
            } else {
              slice_between = true;
              if (!nb_take(ps, &b, t, &cap)) return false;
            }
          }
          break;
        case ',':
          if (!nb_take(ps, &b, t, &cap)) return false;
          index_seq = true;
          break;
        default:
          nb_put(&b, c);
          break;
      }
      if (c == ']') break;
      if (!wf__jsonpath_at(ps, f, ++i, &c)) return false;
    }
  }
  if (b.n > 0 && !nb_take(ps, &b, t, &cap)) return false;
  bool single = t->nnums == 1 && !slice_to && !slice_from && !ctx;
  if (single)
    t->op = JP_SINGLE_INDEX;
  else if (index_seq)
    t->op = JP_INDEX_SEQUENCE;
  else if (slice_from)
    t->op = JP_SLICE_FROM;
  else if (slice_to)
    t->op = JP_SLICE_TO;
  else if (slice_between)
    t->op = JP_SLICE_BETWEEN;
  else if (ctx)
    t->op = JP_CONTEXT_SIZE;
  else
    return wf__jsonpath_fail(ps, "Could not analyze array component");
  if (t->nnums == 0 || (t->op == JP_SLICE_BETWEEN && t->nnums < 2))
    return wf__jsonpath_fail(ps, "Could not analyze array component");
  return true;
}

/* Java regex \s. */
static bool is_java_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\x0b' || c == '\f' ||
         c == '\r';
}

/* "[?]" / "[?,?]": filters passed by the Java caller; AWS has none to pass
 * (2.0.0 would fail on the missing predicate when evaluating). */
static bool is_placeholder(jp_frag f) {
  if (f.n < 3 || f.s[0] != '[' || f.s[f.n - 1] != ']') return false;
  size_t i = 1;
  while (i < f.n - 1 && is_java_ws(f.s[i])) i++;
  if (i >= f.n - 1 || f.s[i] != '?') return false;
  for (i++; i < f.n - 1; i++)
    if (!(f.s[i] == ',' || f.s[i] == '*' || f.s[i] == '?' ||
          is_java_ws(f.s[i])))
      return false;
  return true;
}

static bool frag_is(jp_frag f, const char *lit) {
  return f.n == strlen(lit) && memcmp(f.s, lit, f.n) == 0;
}

static bool analyze(jp_pstate *ps, jp_frag f, jp_tok *t) {
  memset(t, 0, sizeof *t);
  if (frag_is(f, "$")) {
    t->kind = JP_ROOT;
    return true;
  }
  if (frag_is(f, "..")) {
    t->kind = JP_SCAN;
    return true;
  }
  if (frag_is(f, "[*]") || frag_is(f, ".*")) {
    t->kind = JP_WILDCARD;
    return true;
  }
  if (is_placeholder(f))
    return wf__jsonpath_fail(ps, "filter placeholder %.*s has no filter",
                             (int)f.n, f.s);
  for (size_t i = 0; i < f.n; i++) {
    char c = f.s[i];
    if (c == '?') return wf__jsonpath_analyze_filter(ps, f, i, t);
    if (c == '\'') return analyze_property(ps, f, i, t);
    if (is_digit(c) || c == ':' || c == '-' || c == '@')
      return analyze_array(ps, f, i, t);
  }
  return wf__jsonpath_fail(ps, "Could not analyze path component: %.*s",
                           (int)f.n, f.s);
}

/* --- the path compiler (Jayway 2.0.0 PathCompiler.compile) --- */

/* Characters up to '.', '[' or ' '. */
static size_t fast_forward(const char *s, size_t n, size_t i) {
  size_t k = 0;
  while (i + k < n && s[i + k] != '.' && s[i + k] != '[' && s[i + k] != ' ')
    k++;
  return k;
}

/* From '[' to its matching ']' by bracket count (quotes not considered),
 * or to the end. */
static size_t fast_forward_until_closed(const char *s, size_t n, size_t i) {
  size_t k = 1;
  long nested = 0;
  i++;
  while (i < n) {
    char c = s[i++];
    k++;
    if (c == ']' && nested == 0) break;
    if (c == '[') nested++;
    if (c == ']') nested--;
  }
  return k;
}

static bool push_tok(jp_pstate *ps, toklist *l, jp_frag f) {
  if (!wf__jsonpath_grow((void **)&l->v, &l->cap, l->n, sizeof(jp_tok)))
    return oom(ps);
  if (!analyze(ps, f, &l->v[l->n])) {
    tok_clear(&l->v[l->n]);
    return false;
  }
  l->n++;
  return true;
}

static bool tok_definite(const jp_tok *t) {
  switch (t->kind) {
    case JP_ROOT:
    case JP_PROP: /* even ['a','b']: merged into one object */
      return true;
    case JP_ARRAY:
      return t->op == JP_SINGLE_INDEX || t->op == JP_CONTEXT_SIZE;
    default:
      return false;
  }
}

/* A bare property name as the fragment Jayway makes of it, ['name'],
 * written into `name`. */
static jp_frag quoted_name(wf__strbuf *name, const char *s, size_t n) {
  wf__strbuf_puts(name, "['");
  wf__strbuf_append(name, s, n);
  wf__strbuf_puts(name, "']");
  return (jp_frag){name->data, name->len};
}

jp_path *wf__jsonpath_jayway_compile(jp_pstate *ps, const char *s, size_t n) {
  wf__jsonpath_java_trim(&s, &n);
  if (n == 0) {
    wf__jsonpath_fail(ps, "Path may not be null empty");
    return NULL;
  }
  if (n >= 2 && s[n - 2] == '.' && s[n - 1] == '.') {
    wf__jsonpath_fail(ps, "A path can not end with a scan.");
    return NULL;
  }
  wf__strbuf w = WF__STRBUF_INIT;
  bool is_root_path = s[0] != '@';
  if (s[0] != '$' && s[0] != '@') {
    wf__strbuf_puts(&w, "$.");
    wf__strbuf_append(&w, s, n);
  } else {
    wf__strbuf_putc(&w, '$');
    wf__strbuf_append(&w, s + 1, n - 1);
  }
  toklist l = {NULL, 0, 0};
  jp_path *p = NULL;
  const char *ws = w.data;
  size_t wn = w.len;
  if (w.oom) {
    oom(ps);
    goto out;
  }
  if (wn > 1 && ws[1] != '.' && ws[1] != '[') {
    wf__jsonpath_fail(ps, "Invalid path %s", ws);
    goto out;
  }
  size_t i = 0;
  do {
    char c = ws[i];
    jp_frag f;
    wf__strbuf name = WF__STRBUF_INIT;
    bool ok;
    switch (c) {
      case ' ':
        wf__jsonpath_fail(ps, "Space not allowed in path");
        goto out;
      case '$':
        f = (jp_frag){"$", 1};
        i++;
        break;
      case '[': {
        size_t k = fast_forward_until_closed(ws, wn, i);
        f = (jp_frag){ws + i, k};
        i += k;
        break;
      }
      case '.':
        i++;
        if (i >= wn) {
          wf__jsonpath_fail(ps, "String index out of range: %zu", i);
          goto out;
        }
        if (ws[i] == '.') {
          f = (jp_frag){"..", 2};
          i++;
          break;
        }
        {
          size_t k = fast_forward(ws, wn, i);
          if (k == 0) continue;
          f = k == 1 && ws[i] == '*' ? (jp_frag){"[*]", 3}
                                     : quoted_name(&name, ws + i, k);
          i += k;
        }
        break;
      case '*':
        f = (jp_frag){"[*]", 3};
        i++;
        break;
      default: {
        size_t k = fast_forward(ws, wn, i);
        f = quoted_name(&name, ws + i, k);
        i += k;
        break;
      }
    }
    if (name.oom) {
      wf__strbuf_free(&name);
      oom(ps);
      goto out;
    }
    ok = push_tok(ps, &l, f);
    wf__strbuf_free(&name);
    if (!ok) goto out;
  } while (i < wn);

  if (l.n == 0 || l.v[0].kind != JP_ROOT) {
    wf__jsonpath_fail(ps, "Invalid path %s", ws);
    goto out;
  }
  p = wf__calloc(1, sizeof *p);
  if (!p) {
    oom(ps);
    goto out;
  }
  p->toks = l.v;
  p->n = l.n;
  l.v = NULL;
  l.n = 0;
  p->is_root_path = is_root_path;
  bool def = true;
  for (size_t k = p->n; k-- > 0;) {
    def = def && tok_definite(&p->toks[k]);
    p->toks[k].suffix_definite = def;
  }
  p->definite = def;
out:
  for (size_t k = 0; k < l.n; k++) tok_clear(&l.v[k]);
  wf__free(l.v);
  wf__strbuf_free(&w);
  return p;
}

/* --- the public compiler --- */

static bool var_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c >= 0x80;
}

static bool var_char(unsigned char c) { return var_start(c) || is_digit(c); }

int wf__jsonpath_compile(wf__jsonpath **out, const char *text, unsigned flags,
                         char *msg, size_t msglen) {
  jp_pstate ps = {msg, msglen, false};
  *out = NULL;
  if (msg && msglen) msg[0] = '\0';
  /* Every path field holds "$..." ("bug$.library.movies", ".guid", "()"
   * are rejected by AWS; Jayway alone would prefix "$."). */
  if (!text || text[0] != '$') {
    wf__jsonpath_fail(&ps, "a path must start with '$'");
    return -1;
  }
  wf__jsonpath *p = wf__calloc(1, sizeof *p);
  if (!p || !(p->text = wf__strdup(text))) {
    wf__free(p);
    oom(&ps);
    return -1;
  }
  wf__strbuf jt = WF__STRBUF_INIT;
  p->root = WF__JP_ROOT_INPUT;
  if (text[1] == '$') {
    if (!(flags & WF__JP_ALLOW_CONTEXT)) {
      wf__jsonpath_fail(&ps, "the context object ($$) is not allowed here");
      goto bad;
    }
    p->root = WF__JP_ROOT_CONTEXT;
    wf__strbuf_puts(&jt, text + 1);
  } else if (var_start((unsigned char)text[1])) {
    /* "$name.rest": the variable's value is the document for "$.rest". */
    if (!(flags & WF__JP_ALLOW_VARIABLE)) {
      wf__jsonpath_fail(&ps, "variables ($%s) are not allowed here", text + 1);
      goto bad;
    }
    size_t k = 1;
    while (var_char((unsigned char)text[k])) k++;
    p->root = WF__JP_ROOT_VARIABLE;
    if (!(p->var = wf__strndup(text + 1, k - 1))) {
      oom(&ps);
      goto bad;
    }
    wf__strbuf_putc(&jt, '$');
    wf__strbuf_puts(&jt, text + k);
  } else {
    wf__strbuf_puts(&jt, text);
  }
  if (jt.oom) {
    oom(&ps);
    goto bad;
  }
  p->path = wf__jsonpath_jayway_compile(&ps, jt.data, jt.len);
  if (!p->path) goto bad;
  if (flags & WF__JP_REFERENCE) {
    /* Reference paths: names and single indexes only (AWS "Reference
     * Paths": no @ .. , : ? * and no functions). */
    for (size_t i = 1; i < p->path->n; i++) {
      const jp_tok *t = &p->path->toks[i];
      bool ok =
          (t->kind == JP_PROP && t->nnames == 1) ||
          (t->kind == JP_ARRAY && t->op == JP_SINGLE_INDEX && t->nums[0] >= 0);
      if (!ok) {
        wf__strbuf fr = WF__STRBUF_INIT;
        wf__jsonpath_fragment(&fr, t);
        wf__jsonpath_fail(&ps, "%s is not allowed in a reference path",
                          wf__strbuf_cstr(&fr));
        wf__strbuf_free(&fr);
        goto bad;
      }
    }
  }
  wf__strbuf_free(&jt);
  *out = p;
  return 0;
bad:
  wf__strbuf_free(&jt);
  wf__jsonpath_free(p);
  return -1;
}

void wf__jsonpath_free(wf__jsonpath *p) {
  if (!p) return;
  wf__free(p->text);
  wf__free(p->var);
  wf__jsonpath_path_free(p->path);
  wf__free(p);
}

const char *wf__jsonpath_text(const wf__jsonpath *p) { return p->text; }

wf__jp_root wf__jsonpath_root(const wf__jsonpath *p) { return p->root; }

const char *wf__jsonpath_variable(const wf__jsonpath *p) {
  return p->root == WF__JP_ROOT_VARIABLE ? p->var : NULL;
}

bool wf__jsonpath_is_definite(const wf__jsonpath *p) {
  return p->path->definite;
}

bool wf__jsonpath_is_root(const wf__jsonpath *p) { return p->path->n == 1; }

void wf__jsonpath_normalized(wf__strbuf *b, const wf__jsonpath *p) {
  wf__jsonpath_suffix(b, p->path, 0);
}
