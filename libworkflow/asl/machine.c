/* Loading definitions (JSON, YAML, files) into immutable machines, and the
 * machine's public accessors. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "compile.h"
#include "error.h"
#include "json_text.h"
#include "yaml_load.h"

int wf_load_options_init(wf_load_options *opts, unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version != WF_LOAD_OPTIONS_VERSION) return WF_EVERSION;
  memset(opts, 0, sizeof *opts);
  opts->version = version;
  return WF_OK;
}

static void machine_destroy(wf_machine *m) {
  for (size_t i = 0; m->allowed && m->allowed[i]; i++) wf__free(m->allowed[i]);
  wf__free(m->allowed);
  wf__free(m->unrunnable);
  wf__free(m->object_store_state);
  wf__scope_free(m->top);
  json_decref(m->root);
  wf__free(m->name);
  wf__free(m->definition);
  wf__free(m);
}

wf_machine *wf__machine_ref(wf_machine *m) {
  atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
  return m;
}

wf_machine *wf_machine_ref(wf_machine *m) {
  return m ? wf__machine_ref(m) : NULL;
}

void wf_machine_free(wf_machine *m) {
  if (!m) return;
  if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
    machine_destroy(m);
}

static void hand_over_diags(const wf_load_options *opts, wf_diagnostics *d) {
  if (opts && opts->diagnostics)
    *opts->diagnostics = d;
  else
    wf_diagnostics_free(d);
}

/* Fill err from the first diagnostic. */
static int fail_with(wf_diagnostics *d, int code, const wf_load_options *opts,
                     wf_error *err) {
  if (d->oom) {
    wf_diagnostics_free(d);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  if (d->count) {
    const wf__diag *first = &d->items[0];
    wf__error_set(err, code, first->location, "%s: %s", first->code,
                  first->message);
    if (err) {
      err->line = first->line;
      err->column = first->column;
    }
  } else {
    wf__error_set(err, code, NULL, "invalid definition");
  }
  hand_over_diags(opts, d);
  return code;
}

static int check_opts(const wf_load_options *opts, wf_error *err) {
  if (opts && opts->version != WF_LOAD_OPTIONS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_load_options version %u is not supported "
                         "(expected %u)",
                         opts->version, WF_LOAD_OPTIONS_VERSION);
  if (opts && opts->diagnostics) *opts->diagnostics = NULL;
  if (opts && opts->type != WF_MACHINE_STANDARD &&
      opts->type != WF_MACHINE_EXPRESS)
    return wf__error_set(err, WF_EINVAL, NULL, "unknown machine type %d",
                         (int)opts->type);
  return WF_OK;
}

/* Compile a parsed definition (takes ownership of root). */
static int load_root(wf_machine **out, json_t *root,
                     const wf_load_options *opts, wf_error *err) {
  /* A compile step that went without memory may read as an invalid field
   * ("not a valid JSONPath"): any failed allocation on the way makes the
   * whole load out of memory instead. */
  unsigned long failures = wf__alloc_failures();
  wf_diagnostics *d = wf__diag_new();
  wf_machine *m = wf__calloc(1, sizeof *m);
  wf__cctx cx = {.diags = d, .loc = WF__STRBUF_INIT};
  cx.type = opts ? opts->type : WF_MACHINE_STANDARD;
  cx.names = json_object();
  if (!d || !m || !cx.names) {
    json_decref(root);
    json_decref(cx.names);
    wf__free(m);
    wf_diagnostics_free(d);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  atomic_init(&m->refs, 1);
  m->type = cx.type;
  m->root = root;
  if (!json_is_object(root)) {
    /* AWS's answer for a definition that parses but is no object
     * (measured: LocalStack test_sfn_api_validation snapshot). */
    wf__diag_add(d, WF__SCHEMA, NULL, "Definition must be a valid JSON object");
  } else {
    m->top = wf__compile_top(&cx, root, m);
  }
  m->nstates = cx.nstates;
  m->unrunnable = cx.unrunnable;
  m->object_store_state = cx.object_store_state;
  json_decref(cx.names);
  if (cx.loc.oom || wf__alloc_failures() != failures) d->oom = true;
  wf__strbuf_free(&cx.loc);
  if (d->count || d->oom || !m->top) {
    machine_destroy(m);
    return fail_with(d, WF_EINVALID, opts, err);
  }
  wf_diagnostics_free(d);
  if (opts && opts->allowed_resources) {
    size_t n = 0;
    while (opts->allowed_resources[n]) n++;
    m->allowed = wf__calloc(n + 1, sizeof(char *));
    for (size_t i = 0; m->allowed && i < n; i++)
      if (!(m->allowed[i] = wf__strdup(opts->allowed_resources[i]))) {
        machine_destroy(m);
        return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
      }
    if (!m->allowed) {
      machine_destroy(m);
      return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    }
  }
  m->name = wf__strdup(opts && opts->name ? opts->name : "StateMachine");
  m->definition = wf__json_dumps(root);
  if (!m->name || !m->definition || wf__machine_digest(m) != WF_OK) {
    machine_destroy(m);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  *out = m;
  return WF_OK;
}

/* ---- syntax errors in AWS's words ------------------------------------
 * AWS parses definitions with Jackson, and its INVALID_JSON_DESCRIPTION
 * diagnostic is Jackson's message (recorded: "Unrecognized token 'not': was
 * expecting (JSON String, Number, Array, Object or token 'null', 'true' or
 * 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]").
 * This scanner finds the first error as Jackson's reader meets it and words
 * it the same way: positions are after the offending character or token,
 * columns count UTF-16 units, the source excerpt is at most 500 of them. */

typedef struct jx {
  const char *s;
  size_t n, i;    /* text, length, position (bytes) */
  int line;       /* 1-based */
  size_t row;     /* byte index where the current line starts */
  wf__strbuf msg; /* the message, once an error is found */
  int err_line, err_col;
  char stack[512]; /* open containers: 'O' or 'A' */
  int open_line[512], open_col[512];
  size_t depth;
} jx;

enum { JX_SNIPPET = 500 };

/* Decode the UTF-8 code point at s[i] (a lone bad byte counts as itself). */
static uint32_t jx_cp(const char *s, size_t n, size_t i, size_t *len) {
  const unsigned char *u = (const unsigned char *)s + i;
  size_t k = u[0] < 0x80 ? 1 : u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
  if (u[0] < 0xC0 && u[0] >= 0x80) k = 1;
  if (i + k > n) k = 1;
  uint32_t cp = k == 1 ? u[0] : k == 2 ? (u[0] & 0x1Fu) : k == 3 ? (u[0] & 0x0Fu) : (u[0] & 0x07u);
  for (size_t j = 1; j < k; j++) cp = (cp << 6) | (u[j] & 0x3Fu);
  *len = k;
  return cp;
}

/* UTF-16 units in s[from, to). */
static int jx_units(const char *s, size_t n, size_t from, size_t to) {
  int units = 0;
  for (size_t i = from, k; i < to; i += k)
    units += jx_cp(s, n, i, &k) >= 0x10000 ? 2 : 1;
  return units;
}

/* "[Source: (String)"…"; line: L, column: C]" */
static void jx_source(jx *x, wf__strbuf *b, int line, int col) {
  size_t end = 0, k;
  int units = 0, total = jx_units(x->s, x->n, 0, x->n);
  while (end < x->n && units < JX_SNIPPET) {
    units += jx_cp(x->s, x->n, end, &k) >= 0x10000 ? 2 : 1;
    end += k;
  }
  wf__strbuf_puts(b, "[Source: (String)\"");
  wf__strbuf_append(b, x->s, end);
  wf__strbuf_putc(b, '"');
  if (total > JX_SNIPPET)
    wf__strbuf_printf(b, "[truncated %d chars]", total - JX_SNIPPET);
  wf__strbuf_printf(b, "; line: %d, column: %d]", line, col);
}

/* Record the error at the current position; returns false to unwind. */
static bool jx_fail(jx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool jx_fail(jx *x, const char *fmt, ...) {
  char text[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  x->err_line = x->line;
  x->err_col = jx_units(x->s, x->n, x->row, x->i) + 1;
  wf__strbuf_puts(&x->msg, text);
  wf__strbuf_puts(&x->msg, "\n at ");
  jx_source(x, &x->msg, x->err_line, x->err_col);
  return false;
}

/* Jackson's _getCharDesc: "'c' (code 99)", "(CTRL-CHAR, code 10)". */
static void jx_desc(char *buf, size_t size, const char *s, size_t k, uint32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
    snprintf(buf, size, "(CTRL-CHAR, code %u)", (unsigned)cp);
  else if (cp > 255)
    snprintf(buf, size, "'%.*s' (code %u / 0x%x)", (int)k, s, (unsigned)cp,
             (unsigned)cp);
  else
    snprintf(buf, size, "'%.*s' (code %u)", (int)k, s, (unsigned)cp);
}

/* Consume the character at the position and report it as unexpected. */
static bool jx_unexpected(jx *x, const char *comment) {
  size_t k;
  uint32_t cp = jx_cp(x->s, x->n, x->i, &k);
  char desc[64];
  jx_desc(desc, sizeof desc, x->s + x->i, k, cp);
  x->i += k;
  return jx_fail(x, "Unexpected character (%s): %s", desc, comment);
}

static bool jx_ident_part(uint32_t cp) {
  return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
         (cp >= '0' && cp <= '9') || cp == '_' || cp == '$' || cp >= 0xC0;
}

static const char JX_VALUES[] =
    "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

/* Jackson's _reportInvalidToken: the token read so far plus the identifier
 * characters that follow it. */
static bool jx_invalid_token(jx *x, size_t start) {
  size_t k;
  while (x->i < x->n && jx_ident_part(jx_cp(x->s, x->n, x->i, &k)) &&
         jx_units(x->s, x->n, start, x->i) < 256)
    x->i += k;
  return jx_fail(x, "Unrecognized token '%.*s': was expecting %s",
                 (int)(x->i - start), x->s + start, JX_VALUES);
}

static bool jx_eof_in_container(jx *x) {
  wf__strbuf at = WF__STRBUF_INIT;
  size_t d = x->depth - 1;
  jx_source(x, &at, x->open_line[d], x->open_col[d]);
  x->i = x->n;
  bool r = jx_fail(x, "Unexpected end-of-input: expected close marker for %s "
                   "(start marker at %s)",
                   x->stack[d] == 'O' ? "Object" : "Array",
                   wf__strbuf_cstr(&at));
  wf__strbuf_free(&at);
  return r;
}

/* Skip blanks; '/' would start a comment, which AWS's parser refuses. */
static bool jx_ws(jx *x) {
  while (x->i < x->n) {
    char c = x->s[x->i];
    if (c == ' ' || c == '\t') {
      x->i++;
    } else if (c == '\n' || c == '\r') {
      x->i++;
      if (c == '\r' && x->i < x->n && x->s[x->i] == '\n') x->i++;
      x->line++;
      x->row = x->i;
    } else if (c == '/') {
      return jx_unexpected(x, "maybe a (non-standard) comment? (not recognized "
                              "as one since Feature 'ALLOW_COMMENTS' not "
                              "enabled for parser)");
    } else {
      break;
    }
  }
  return true;
}

static bool jx_string(jx *x, bool name) {
  const char *what = name ? "name" : "string value";
  x->i++; /* opening quote */
  for (;;) {
    if (x->i >= x->n)
      return jx_fail(x, name ? "Unexpected end-of-input in field name"
                             : "Unexpected end-of-input: was expecting closing "
                               "quote for a string value");
    size_t k;
    uint32_t cp = jx_cp(x->s, x->n, x->i, &k);
    if (cp == '"') {
      x->i++;
      return true;
    }
    if (cp < 0x20) {
      char desc[64];
      jx_desc(desc, sizeof desc, x->s + x->i, k, cp);
      x->i += k;
      return jx_fail(x, "Illegal unquoted character (%s): has to be escaped "
                     "using backslash to be included in %s", desc, what);
    }
    x->i += k;
    if (cp != '\\') continue;
    if (x->i >= x->n)
      return jx_fail(x, "Unexpected end-of-input in character escape sequence");
    char e = x->s[x->i];
    if (strchr("\"\\/bfnrt", e) && e) {
      x->i++;
    } else if (e == 'u') {
      x->i++;
      for (int h = 0; h < 4; h++) {
        if (x->i >= x->n)
          return jx_fail(x, "Unexpected end-of-input in character escape "
                         "sequence");
        if (!strchr("0123456789abcdefABCDEF", x->s[x->i]) || !x->s[x->i])
          return jx_unexpected(x, "expected a hex-digit for character escape "
                                  "sequence");
        x->i++;
      }
    } else {
      uint32_t ecp = jx_cp(x->s, x->n, x->i, &k);
      char desc[64];
      jx_desc(desc, sizeof desc, x->s + x->i, k, ecp);
      x->i += k;
      return jx_fail(x, "Unrecognized character escape %s", desc);
    }
  }
}

static bool jx_digit(const jx *x) {
  return x->i < x->n && x->s[x->i] >= '0' && x->s[x->i] <= '9';
}

static bool jx_number_char(jx *x, const char *comment) {
  if (x->i >= x->n) return true; /* the container check reports the end */
  size_t k;
  uint32_t cp = jx_cp(x->s, x->n, x->i, &k);
  char desc[64];
  jx_desc(desc, sizeof desc, x->s + x->i, k, cp);
  x->i += k;
  return jx_fail(x, "Unexpected character (%s) in numeric value: %s", desc,
                 comment);
}

static bool jx_number(jx *x) {
  if (x->s[x->i] == '-') {
    x->i++;
    if (!jx_digit(x))
      return jx_number_char(x, "expected digit (0-9) to follow minus sign, "
                               "for valid numeric value");
  }
  if (x->s[x->i] == '0' && x->i + 1 < x->n && x->s[x->i + 1] >= '0' &&
      x->s[x->i + 1] <= '9') {
    x->i++;
    return jx_fail(x, "Invalid numeric value: Leading zeroes not allowed");
  }
  while (jx_digit(x)) x->i++;
  if (x->i < x->n && x->s[x->i] == '.') {
    x->i++;
    if (!jx_digit(x))
      return jx_number_char(x, "Decimal point not followed by a digit");
    while (jx_digit(x)) x->i++;
  }
  if (x->i < x->n && (x->s[x->i] == 'e' || x->s[x->i] == 'E')) {
    x->i++;
    if (x->i < x->n && (x->s[x->i] == '+' || x->s[x->i] == '-')) x->i++;
    if (!jx_digit(x))
      return jx_number_char(x, "Exponent indicator not followed by a digit");
    while (jx_digit(x)) x->i++;
  }
  return true;
}

static bool jx_open(jx *x, char kind) {
  if (x->depth == sizeof x->stack) return false; /* too deep to describe */
  x->stack[x->depth] = kind;
  x->open_line[x->depth] = x->line;
  x->open_col[x->depth] = jx_units(x->s, x->n, x->row, x->i) + 1;
  x->depth++;
  x->i++;
  return true;
}

/* One value, with `expect_value` false when a container was just opened or
 * a comma just read (the caller then decides what may follow). Returns
 * false once an error has been recorded (or the scan gives up). */
static bool jx_value(jx *x) {
  if (!jx_ws(x)) return false;
  if (x->i >= x->n) return x->depth ? jx_eof_in_container(x) : false;
  char c = x->s[x->i];
  if (c == '{') return jx_open(x, 'O');
  if (c == '[') return jx_open(x, 'A');
  if (c == '"') return jx_string(x, false);
  if (c == '-' || (c >= '0' && c <= '9')) return jx_number(x);
  static const char *const literals[] = {"true", "false", "null"};
  for (size_t l = 0; l < 3; l++) {
    if (c != literals[l][0]) continue;
    size_t start = x->i, m = 0;
    while (literals[l][m] && x->i < x->n && x->s[x->i] == literals[l][m]) {
      x->i++;
      m++;
    }
    if (literals[l][m] || (x->i < x->n && jx_ident_part((unsigned char)x->s[x->i])))
      return jx_invalid_token(x, start);
    return true;
  }
  size_t k;
  uint32_t cp = jx_cp(x->s, x->n, x->i, &k);
  if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_' ||
      cp == '$' || cp >= 0xC0) {
    size_t start = x->i;
    x->i += k;
    return jx_invalid_token(x, start);
  }
  char comment[128];
  snprintf(comment, sizeof comment, "expected a valid value %s", JX_VALUES);
  return jx_unexpected(x, comment);
}

/* A field name and its colon. */
static bool jx_name(jx *x) {
  if (!jx_ws(x)) return false;
  if (x->i >= x->n) return jx_eof_in_container(x);
  if (x->s[x->i] != '"')
    return jx_unexpected(x, "was expecting double-quote to start field name");
  if (!jx_string(x, true) || !jx_ws(x)) return false;
  if (x->i >= x->n)
    return jx_fail(x, "Unexpected end-of-input within/between Object entries");
  if (x->s[x->i] != ':')
    return jx_unexpected(x, "was expecting a colon to separate field name and "
                            "value");
  x->i++;
  if (!jx_ws(x)) return false;
  if (x->i >= x->n)
    return jx_fail(x, "Unexpected end-of-input within/between Object entries");
  return true;
}

/* Scan the whole text; true when an error was found and worded. */
static bool jx_scan(jx *x) {
  bool after_value = false; /* a value was just completed */
  if (!jx_value(x)) return x->msg.len > 0;
  for (;;) {
    if (x->depth == 0) return false; /* Jackson stops after the root value */
    char kind = x->stack[x->depth - 1];
    size_t before = x->depth;
    if (!after_value && x->s[x->i - 1] == (kind == 'O' ? '{' : '[')) {
      /* Just opened: empty, or the first entry. */
      if (!jx_ws(x)) return true;
      if (x->i >= x->n) return !jx_eof_in_container(x);
      if (x->s[x->i] == (kind == 'O' ? '}' : ']')) {
        x->i++;
        x->depth--;
        after_value = true;
        continue;
      }
      if (kind == 'O' && !jx_name(x)) return x->msg.len > 0;
      if (!jx_value(x)) return x->msg.len > 0;
      after_value = x->depth == before;
      continue;
    }
    if (!jx_ws(x)) return true;
    if (x->i >= x->n) return !jx_eof_in_container(x);
    char c = x->s[x->i];
    if (c == ',') {
      x->i++;
      if (kind == 'O' && !jx_name(x)) return x->msg.len > 0;
      if (!jx_value(x)) return x->msg.len > 0;
      after_value = x->depth == before;
      continue;
    }
    if (c == '}' || c == ']') {
      char want = kind == 'O' ? '}' : ']';
      if (c != want) {
        wf__strbuf at = WF__STRBUF_INIT;
        jx_source(x, &at, x->open_line[x->depth - 1], x->open_col[x->depth - 1]);
        x->i++;
        jx_fail(x, "Unexpected close marker '%c': expected '%c' (for %s "
                "starting at %s)", c, want, kind == 'O' ? "Object" : "Array",
                wf__strbuf_cstr(&at));
        wf__strbuf_free(&at);
        return true;
      }
      x->i++;
      x->depth--;
      after_value = true;
      continue;
    }
    jx_unexpected(x, kind == 'O' ? "was expecting comma to separate Object "
                                   "entries"
                                 : "was expecting comma to separate Array "
                                   "entries");
    return true;
  }
}

/* Word a JSON syntax error as AWS does; false when the scanner finds no
 * error where jansson did (the caller keeps jansson's description). */
static bool aws_syntax_error(const char *text, size_t len, wf__strbuf *msg,
                             int *line, int *column) {
  jx x = {.s = text, .n = len, .line = 1, .msg = WF__STRBUF_INIT};
  if (!jx_scan(&x) || !x.msg.len || x.msg.oom) {
    wf__strbuf_free(&x.msg);
    return false;
  }
  *msg = x.msg;
  *line = x.err_line;
  *column = x.err_col;
  return true;
}

static bool blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr(" \t\r\n", s[i])) return false;
  return true;
}

/* Parse text as JSON or YAML, reporting a syntax error as AWS's
 * INVALID_JSON_DESCRIPTION diagnostic with its line and column. */
static int load_text(wf_machine **out, const char *text, size_t len,
                     bool yaml, const wf_load_options *opts, wf_error *err) {
  if (!out || !text)
    return wf__error_set(err, WF_EINVAL, NULL, "out and text are required");
  *out = NULL;
  int rc = check_opts(opts, err);
  if (rc) return rc;
  if (len > WF_DEFINITION_MAX_BYTES)
    return wf__error_set(err, WF_ELIMIT, NULL,
                         "the definition is %zu bytes, over AWS's limit of %d "
                         "bytes",
                         len, WF_DEFINITION_MAX_BYTES);
  wf_diagnostics *d = wf__diag_new();
  if (!d) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  /* Nothing at all is AWS's MISSING_DESCRIPTION; blanks only are not a
   * JSON object, which AWS words as below (measured on AWS: a definition of
   * " " gives exactly this diagnostic, without a location). */
  if (len == 0) {
    wf__diag_add(d, "MISSING_DESCRIPTION", NULL,
                 "Received a null or empty workflow input.");
    return fail_with(d, WF_EINVALID, opts, err);
  }
  if (blank(text, len)) {
    wf__diag_add(d, WF__SCHEMA, NULL, "Definition must be a valid JSON object");
    return fail_with(d, WF_EINVALID, opts, err);
  }
  json_t *root = NULL;
  wf_error perr;
  rc = yaml ? wf__yaml_parse(&root, text, len, &perr)
            : wf__json_parse(&root, text, len, "definition", &perr);
  if (rc != WF_OK) {
    if (rc == WF_ENOMEM) {
      wf_diagnostics_free(d);
      return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    }
    wf__strbuf aws = WF__STRBUF_INIT;
    int line, column;
    if (!yaml && aws_syntax_error(text, len, &aws, &line, &column))
      wf__diag_add_at(d, "INVALID_JSON_DESCRIPTION", line, column,
                      wf__strbuf_cstr(&aws));
    else
      wf__diag_add_at(d, "INVALID_JSON_DESCRIPTION", perr.line, perr.column,
                      perr.message);
    wf__strbuf_free(&aws);
    return fail_with(d, WF_EPARSE, opts, err);
  }
  wf_diagnostics_free(d);
  /* YAML aliases repeat what they name: a few hundred bytes can stand for
   * megabytes. The definition as JSON is held to the limit its text is. */
  if (yaml && wf__json_size(root, WF_DEFINITION_MAX_BYTES) >
                  WF_DEFINITION_MAX_BYTES) {
    json_decref(root);
    return wf__error_set(err, WF_ELIMIT, NULL,
                         "the definition expands to more than AWS's limit of "
                         "%d bytes (YAML aliases expanded)",
                         WF_DEFINITION_MAX_BYTES);
  }
  return load_root(out, root, opts, err);
}

int wf_machine_load_json(wf_machine **out, const char *json,
                         const wf_load_options *opts, wf_error *err) {
  return load_text(out, json, json ? strlen(json) : 0, false, opts, err);
}

int wf_machine_load_yaml(wf_machine **out, const char *yaml,
                         const wf_load_options *opts, wf_error *err) {
  return load_text(out, yaml, yaml ? strlen(yaml) : 0, true, opts, err);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

int wf_machine_load_file(wf_machine **out, const char *path,
                         const wf_load_options *opts, wf_error *err) {
  if (!out || !path)
    return wf__error_set(err, WF_EINVAL, NULL, "out and path are required");
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return wf__error_set(err, WF_EIO, NULL, "cannot open %s: %s", path,
                         strerror(errno));
  wf__strbuf b = WF__STRBUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    wf__strbuf_append(&b, chunk, n);
    if (b.len > WF_DEFINITION_MAX_BYTES) break;
  }
  bool failed = ferror(f);
  int saved = errno;
  fclose(f);
  if (failed) {
    wf__strbuf_free(&b);
    return wf__error_set(err, WF_EIO, NULL, "cannot read %s: %s", path,
                         strerror(saved));
  }
  if (b.oom) {
    wf__strbuf_free(&b);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  if (b.len > WF_DEFINITION_MAX_BYTES) {
    wf__strbuf_free(&b);
    return wf__error_set(err, WF_ELIMIT, NULL,
                         "%s is over AWS's definition limit of %d bytes",
                         path, WF_DEFINITION_MAX_BYTES);
  }
  bool yaml = ends_with(path, ".yaml") || ends_with(path, ".yml");
  int rc = load_text(out, wf__strbuf_cstr(&b), b.len, yaml, opts, err);
  wf__strbuf_free(&b);
  return rc;
}

bool wf__machine_allows(const wf_machine *m, const char *resource) {
  if (!m->allowed) return true;
  for (size_t i = 0; m->allowed[i]; i++) {
    const char *a = m->allowed[i];
    size_t n = strlen(a);
    if (n && a[n - 1] == '*' ? strncmp(a, resource, n - 1) == 0
                             : strcmp(a, resource) == 0)
      return true;
  }
  return false;
}

wf_machine_type wf_machine_get_type(const wf_machine *m) { return m->type; }
const char *wf_machine_name(const wf_machine *m) { return m->name; }
size_t wf_machine_state_count(const wf_machine *m) { return m->nstates; }
const char *wf_machine_definition(const wf_machine *m) { return m->definition; }

const char *wf_machine_start_at(const wf_machine *m) {
  return m->top->states[m->top->start]->name;
}

int wf_yaml_to_json(char **out, const char *yaml, wf_error *err) {
  if (!out || !yaml)
    return wf__error_set(err, WF_EINVAL, NULL, "out and yaml are required");
  *out = NULL;
  json_t *v = NULL;
  size_t len = strlen(yaml);
  int rc = wf__yaml_parse(&v, yaml, len, err);
  if (rc != WF_OK) return rc;
  /* Aliases may repeat what they name, but not into a bomb: the JSON is at
   * most 16 times the YAML, or 1 MiB. */
  size_t limit = len > SIZE_MAX / 16 ? SIZE_MAX : len * 16;
  if (limit < WF_DEFINITION_MAX_BYTES) limit = WF_DEFINITION_MAX_BYTES;
  if (wf__json_size(v, limit) > limit) {
    json_decref(v);
    return wf__error_set(err, WF_ELIMIT, NULL,
                         "the YAML expands to more than %zu bytes of JSON "
                         "(aliases expanded)",
                         limit);
  }
  *out = wf__json_dumps(v);
  json_decref(v);
  return *out ? WF_OK : wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
}
