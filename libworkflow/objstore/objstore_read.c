/* The ItemReader's parsers: a JSON document, JSON Lines and CSV (RFC 4180
 * quoting, AWS's delimiters), read from a byte source a block at a time,
 * so a large object costs the items kept, not its size. Every error names
 * the object and the line (and column) at fault. */
#include <string.h>

#include "alloc.h"
#include "objstore.h"

#define BLOCK 65536

static long mem_read(void *arg, char *buf, size_t n, wf__strbuf *why) {
  (void)why;
  wf__os_mem *m = arg;
  size_t left = m->len - m->pos;
  if (n > left) n = left;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return (long)n;
}

void wf__os_src_mem(wf__os_src *src, wf__os_mem *mem, const char *name,
                    const char *data, size_t len) {
  *mem = (wf__os_mem){data, len, 0};
  *src = (wf__os_src){mem_read, mem, name};
}

/* ---- JSON ---- */

typedef struct json_feed {
  wf__os_src *src;
  wf__strbuf *why;
  bool failed;
} json_feed;

static size_t json_cb(void *buf, size_t n, void *arg) {
  json_feed *f = arg;
  long got = f->src->read(f->src->arg, buf, n, f->why);
  if (got < 0) {
    f->failed = true;
    return (size_t)-1;
  }
  return (size_t)got;
}

int wf__os_read_json(json_t **out, wf__os_src *src, wf__strbuf *why) {
  json_feed f = {src, why, false};
  json_error_t jerr;
  *out = json_load_callback(json_cb, &f, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                            &jerr);
  if (*out) return 0;
  if (!f.failed)
    wf__strbuf_printf(why, "%s: line %d, column %d: the JSON is not valid: %s",
                      src->name, jerr.line, jerr.column, jerr.text);
  return -1;
}

/* ---- lines ---- */

/* Reads a source a block at a time; next_byte() gives -1 at the end and -2
 * on an error. */
typedef struct bytes {
  wf__os_src *src;
  wf__strbuf *why;
  char buf[BLOCK];
  size_t pos, len;
  bool eof, failed;
} bytes;

static int next_byte(bytes *b) {
  if (b->pos == b->len) {
    if (b->eof || b->failed) return b->failed ? -2 : -1;
    long n = b->src->read(b->src->arg, b->buf, sizeof b->buf, b->why);
    if (n < 0) {
      b->failed = true;
      return -2;
    }
    if (n == 0) {
      b->eof = true;
      return -1;
    }
    b->pos = 0;
    b->len = (size_t)n;
  }
  return (unsigned char)b->buf[b->pos++];
}

static bool blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
      return false;
  return true;
}

int wf__os_read_jsonl(json_t *items, wf__os_src *src, size_t max,
                      wf__strbuf *why) {
  bytes *b = wf__calloc(1, sizeof *b);
  if (!b) return -1;
  b->src = src;
  b->why = why;
  wf__strbuf line = WF__STRBUF_INIT;
  int rc = 0;
  long lineno = 0;
  while (rc == 0 && !(max && json_array_size(items) >= max)) {
    wf__strbuf_reset(&line);
    int c;
    while ((c = next_byte(b)) >= 0 && c != '\n') {
      if (line.len >= WF__OS_LINE_MAX) break;
      wf__strbuf_putc(&line, (char)c);
    }
    lineno++;
    if (c == -2) {
      rc = -1;
      break;
    }
    if (line.len >= WF__OS_LINE_MAX) {
      wf__strbuf_printf(why, "%s: line %ld is longer than %u bytes",
                        src->name, lineno, WF__OS_LINE_MAX);
      rc = -1;
      break;
    }
    if (line.oom) {
      rc = -1;
      break;
    }
    if (!blank(line.data ? line.data : "", line.len)) {
      json_error_t jerr;
      json_t *v = json_loadb(line.data, line.len,
                             JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
      if (!v) {
        wf__strbuf_printf(why,
                          "%s: line %ld, column %d: the JSON is not valid: %s",
                          src->name, lineno, jerr.column, jerr.text);
        rc = -1;
        break;
      }
      json_array_append_new(items, v);
    }
    if (c == -1) break;
  }
  wf__strbuf_free(&line);
  wf__free(b);
  return rc;
}

/* ---- CSV ---- */

typedef struct csv {
  bytes b;
  const wf__os_reader *r;
  wf__strbuf field;
  json_t *row;  /* array of strings */
  long line;    /* where the row being read started */
  long at_line; /* the line being read */
  long column;
  long quote_line, quote_column; /* where the open quoted field began */
} csv;

static int csv_error(csv *p, const char *what) {
  wf__strbuf_printf(p->b.why, "%s: line %ld, column %ld: %s", p->b.src->name,
                    p->at_line, p->column, what);
  return -1;
}

static int end_field(csv *p) {
  json_t *s = json_stringn(p->field.data ? p->field.data : "", p->field.len);
  if (!s) return csv_error(p, "a field is not valid UTF-8");
  json_array_append_new(p->row, s);
  wf__strbuf_reset(&p->field);
  return 0;
}

/* One row into p->row: 1 read, 0 at the end of the source, -1 on an
 * error. A line ending is \n, \r\n or \r; quoted fields may hold the
 * delimiter, line endings and "" (a quote). */
static int csv_row(csv *p, size_t limit) {
  json_array_clear(p->row);
  wf__strbuf_reset(&p->field);
  enum { START, PLAIN, QUOTED, QUOTE } st = START;
  size_t size = 0;
  int c;
  p->line = p->at_line;
  bool any = false;
  for (;;) {
    c = next_byte(&p->b);
    if (c == -2) return -1;
    if (c >= 0) {
      any = true;
      p->column++;
      if (++size > limit)
        return csv_error(p, limit == WF__OS_CSV_HEADER_MAX
                                ? "the header row is longer than 10 KB"
                                : "the row is longer than 8 MB");
    }
    if (st == QUOTED) {
      if (c == -1) {
        p->at_line = p->quote_line;
        p->column = p->quote_column;
        return csv_error(p, "a quoted field is not closed");
      }
      if (c == '"')
        st = QUOTE;
      else {
        if (c == '\n') {
          p->at_line++;
          p->column = 0;
        }
        wf__strbuf_putc(&p->field, (char)c);
      }
      continue;
    }
    if (st == QUOTE && c == '"') {
      wf__strbuf_putc(&p->field, '"');
      st = QUOTED;
      continue;
    }
    bool eol = c == -1 || c == '\n' || c == '\r';
    if (c == p->r->delimiter || eol) {
      if (!any && c == -1) return 0;
      if (end_field(p) != 0) return -1;
      st = START;
      if (!eol) continue;
      if (c == '\r') {
        int d = next_byte(&p->b);
        if (d == '\n' || d < 0) {
          if (d == -2) return -1;
        } else {
          p->b.pos--; /* not a \r\n: the byte starts the next line */
        }
      }
      p->at_line++;
      p->column = 0;
      return 1;
    }
    if (st == QUOTE)
      return csv_error(p, "a closing quote must be followed by the "
                          "delimiter or the end of the line");
    if (st == START && c == '"') {
      st = QUOTED;
      p->quote_line = p->at_line;
      p->quote_column = p->column;
      continue;
    }
    st = PLAIN; /* a quote inside an unquoted field is kept as it is */
    wf__strbuf_putc(&p->field, (char)c);
  }
}

/* A row of one empty field: a blank line, passed over. */
static bool empty_row(json_t *row) {
  return json_array_size(row) == 1 &&
         json_string_length(json_array_get(row, 0)) == 0;
}

static int check_headers(csv *p, json_t *headers) {
  for (size_t i = 0; i < json_array_size(headers); i++)
    for (size_t j = 0; j < i; j++)
      if (json_equal(json_array_get(headers, i), json_array_get(headers, j))) {
        wf__strbuf_puts(p->b.why, "CSV headers cannot contain duplicates.");
        return -1;
      }
  return 0;
}

int wf__os_read_csv(json_t *items, wf__os_src *src, const wf__os_reader *r,
                    wf__strbuf *why) {
  csv *p = wf__calloc(1, sizeof *p);
  if (!p) return -1;
  p->b.src = src;
  p->b.why = why;
  p->r = r;
  p->row = json_array();
  p->at_line = 1;
  json_t *headers = json_incref(r->headers);
  int rc = p->row ? 0 : -1;
  if (rc == 0 && !headers) {
    int got;
    while ((got = csv_row(p, WF__OS_CSV_HEADER_MAX)) == 1 && empty_row(p->row))
      ;
    if (got < 0) rc = -1;
    headers = json_copy(p->row);
  }
  if (rc == 0 && headers) rc = check_headers(p, headers);
  size_t nh = json_array_size(headers);
  while (rc == 0 && !(r->max_items && json_array_size(items) >= r->max_items)) {
    int got = csv_row(p, WF__OS_LINE_MAX);
    if (got <= 0) {
      rc = got;
      break;
    }
    if (empty_row(p->row)) continue;
    size_t nf = json_array_size(p->row);
    if (nf > nh) {
      p->at_line = p->line;
      p->column = 0;
      char what[128];
      snprintf(what, sizeof what, "the row has %zu fields, more than the %zu "
               "headers", nf, nh);
      wf__strbuf_printf(why, "%s: line %ld: %s", src->name, p->line, what);
      rc = -1;
      break;
    }
    /* Fields a short row lacks are empty. */
    json_t *item = json_object();
    for (size_t i = 0; item && i < nh; i++) {
      json_t *h = json_array_get(headers, i);
      json_t *v = i < nf ? json_incref(json_array_get(p->row, i)) : json_string("");
      json_object_setn_new(item, json_string_value(h), json_string_length(h), v);
    }
    if (!item) rc = -1;
    else json_array_append_new(items, item);
  }
  json_decref(headers);
  json_decref(p->row);
  wf__strbuf_free(&p->field);
  wf__free(p);
  return rc;
}
