#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "strbuf.h"

wf_diagnostics *wf__diag_new(void) {
  return wf__calloc(1, sizeof(wf_diagnostics));
}

static wf__diag *slot(wf_diagnostics *d) {
  if (d->count == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    wf__diag *items = wf__realloc(d->items, cap * sizeof *items);
    if (!items) {
      d->oom = true;
      return NULL;
    }
    d->items = items;
    d->cap = cap;
  }
  wf__diag *it = &d->items[d->count];
  memset(it, 0, sizeof *it);
  return it;
}

static void commit(wf_diagnostics *d, wf__diag *it) {
  if (!it->code || !it->message) {
    wf__free(it->code);
    wf__free(it->message);
    wf__free(it->location);
    d->oom = true;
    return;
  }
  d->count++;
}

void wf__diag_add(wf_diagnostics *d, const char *code, const char *location,
                  const char *fmt, ...) {
  wf__diag *it = slot(d);
  if (!it) return;
  wf__strbuf b = WF__STRBUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  char small[512];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof small) {
    wf__strbuf_append(&b, small, (size_t)n);
  } else if (n >= 0 && wf__strbuf_reserve(&b, (size_t)n)) {
    va_start(ap, fmt);
    vsnprintf(b.data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b.len = (size_t)n;
  }
  it->code = wf__strdup(code);
  it->message = wf__strbuf_take(&b);
  if (location) {
    it->location = wf__strdup(location);
    if (!it->location) {
      wf__free(it->code);
      it->code = NULL;
    }
  }
  commit(d, it);
}

void wf__diag_add_at(wf_diagnostics *d, const char *code, int line,
                     int column, const char *message) {
  wf__diag *it = slot(d);
  if (!it) return;
  it->code = wf__strdup(code);
  it->message = wf__strdup(message);
  it->line = line;
  it->column = column;
  commit(d, it);
}

size_t wf_diagnostics_count(const wf_diagnostics *d) { return d ? d->count : 0; }

static const wf__diag *item(const wf_diagnostics *d, size_t i) {
  return d && i < d->count ? &d->items[i] : NULL;
}

const char *wf_diagnostics_code(const wf_diagnostics *d, size_t i) {
  const wf__diag *it = item(d, i);
  return it ? it->code : NULL;
}

const char *wf_diagnostics_message(const wf_diagnostics *d, size_t i) {
  const wf__diag *it = item(d, i);
  return it ? it->message : NULL;
}

const char *wf_diagnostics_location(const wf_diagnostics *d, size_t i) {
  const wf__diag *it = item(d, i);
  return it ? it->location : NULL;
}

int wf_diagnostics_line(const wf_diagnostics *d, size_t i) {
  const wf__diag *it = item(d, i);
  return it ? it->line : 0;
}

int wf_diagnostics_column(const wf_diagnostics *d, size_t i) {
  const wf__diag *it = item(d, i);
  return it ? it->column : 0;
}

char *wf_diagnostics_format(const wf_diagnostics *d) {
  wf__strbuf b = WF__STRBUF_INIT;
  for (size_t i = 0; d && i < d->count; i++) {
    const wf__diag *it = &d->items[i];
    if (i) wf__strbuf_puts(&b, ", ");
    wf__strbuf_printf(&b, "%s: %s", it->code, it->message);
    if (it->location) wf__strbuf_printf(&b, " at %s", it->location);
  }
  return wf__strbuf_take(&b);
}

void wf_diagnostics_free(wf_diagnostics *d) {
  if (!d) return;
  for (size_t i = 0; i < d->count; i++) {
    wf__free(d->items[i].code);
    wf__free(d->items[i].message);
    wf__free(d->items[i].location);
  }
  wf__free(d->items);
  wf__free(d);
}

void wf_string_free(char *s) { wf__free(s); }
