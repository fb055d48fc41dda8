/* Growing text for pages, with the escapes pages need: HTML text and
 * attributes, URL components, JSON shown for reading. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

static bool grow(cs_buf *b, size_t more) {
  if (b->oom) return false;
  if (b->len + more + 1 <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more + 1) cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s) {
    b->oom = true;
    return false;
  }
  b->s = s;
  b->cap = cap;
  return true;
}

void cs_putn(cs_buf *b, const char *s, size_t n) {
  if (!grow(b, n)) return;
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void cs_put(cs_buf *b, const char *s) {
  if (s) cs_putn(b, s, strlen(s));
}

void cs_printf(cs_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !grow(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* One line (no '\n') cleaned and escaped. */
static void html_line(cs_buf *b, const char *s, size_t n) {
  /* Valid UTF-8 first, so no byte sequence can hide markup from the
   * escapes below or from the browser's decoder. */
  char *clean = gw_text_clean(s, n, n * 3 + 4);
  if (!clean) {
    b->oom = true;
    return;
  }
  const char *run = clean;
  for (const char *p = clean;; p++) {
    const char *ent = NULL;
    switch (*p) {
      case '&': ent = "&amp;"; break;
      case '<': ent = "&lt;"; break;
      case '>': ent = "&gt;"; break;
      case '"': ent = "&quot;"; break;
      case '\'': ent = "&#39;"; break;
      default: break;
    }
    if (!*p || ent) {
      cs_putn(b, run, (size_t)(p - run));
      if (!*p) break;
      cs_put(b, ent);
      run = p + 1;
    }
  }
  free(clean);
}

void cs_html(cs_buf *b, const char *s) {
  for (const char *p = s; p;) {
    const char *nl = strchr(p, '\n');
    html_line(b, p, nl ? (size_t)(nl - p) : strlen(p));
    if (!nl) break;
    cs_put(b, "\n");
    p = nl + 1;
  }
}

void cs_url(cs_buf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    unsigned char c = *p;
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                 c == '.' || c == '~' || c == ':';
    if (plain) {
      cs_putn(b, (const char *)p, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      cs_putn(b, e, 3);
    }
  }
}

void cs_link(cs_buf *b, const char *prefix, const char *target,
             const char *text) {
  cs_put(b, "<a href=\"");
  cs_put(b, prefix);
  cs_url(b, target);
  cs_put(b, "\">");
  cs_html(b, text);
  cs_put(b, "</a>");
}

void cs_json_pretty(cs_buf *b, const char *json_text) {
  if (!json_text) return;
  json_t *v = json_loads(json_text, JSON_DECODE_ANY, NULL);
  char *text = v ? json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
  cs_html(b, text ? text : json_text);
  free(text);
  json_decref(v);
}

char *cs_take(cs_buf *b) {
  if (b->oom || !b->s) {
    cs_free(b);
    return NULL;
  }
  char *s = b->s;
  memset(b, 0, sizeof *b);
  return s;
}

void cs_free(cs_buf *b) {
  free(b->s);
  memset(b, 0, sizeof *b);
}
