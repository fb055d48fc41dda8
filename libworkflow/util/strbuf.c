#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

bool wf__strbuf_reserve(wf__strbuf *b, size_t extra) {
  if (b->oom) return false;
  if (b->len + extra + 1 <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) {
    if (cap > ((size_t)-1) / 2) {
      b->oom = true;
      return false;
    }
    cap *= 2;
  }
  char *p = wf__realloc(b->data, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

void wf__strbuf_append(wf__strbuf *b, const char *s, size_t n) {
  if (!wf__strbuf_reserve(b, n)) return;
  if (n) memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void wf__strbuf_puts(wf__strbuf *b, const char *s) {
  wf__strbuf_append(b, s, strlen(s));
}

void wf__strbuf_put_int(wf__strbuf *b, long long v) {
  char num[24];
  char *p = num + sizeof num;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                               : (unsigned long long)v;
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  wf__strbuf_append(b, p, (size_t)(num + sizeof num - p));
}

void wf__strbuf_printf(wf__strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    wf__strbuf_append(b, small, (size_t)n);
    return;
  }
  if (!wf__strbuf_reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

const char *wf__strbuf_cstr(const wf__strbuf *b) {
  return b->data ? b->data : "";
}

char *wf__strbuf_take(wf__strbuf *b) {
  if (b->oom) {
    wf__strbuf_free(b);
    return NULL;
  }
  if (!b->data) return wf__strdup("");
  char *p = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

void wf__strbuf_reset(wf__strbuf *b) {
  b->len = 0;
  b->oom = false;
  if (b->data) b->data[0] = '\0';
}

void wf__strbuf_free(wf__strbuf *b) {
  wf__free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->oom = false;
}

void wf__strbuf_truncate(wf__strbuf *b, size_t len) {
  if (len >= b->len) return;
  b->len = len;
  if (b->data) b->data[len] = '\0';
}
