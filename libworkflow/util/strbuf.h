/* A growable byte buffer, always NUL-terminated. Out-of-memory is sticky:
 * after a failed append every later append is a no-op and `oom` stays set. */
#ifndef WF_STRBUF_H
#define WF_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct wf__strbuf {
  char *data; /* NUL-terminated once anything was appended; may be NULL */
  size_t len;
  size_t cap;
  bool oom;
} wf__strbuf;

#define WF__STRBUF_INIT {NULL, 0, 0, false}

bool wf__strbuf_reserve(wf__strbuf *b, size_t extra);
void wf__strbuf_append(wf__strbuf *b, const char *s, size_t n);
void wf__strbuf_puts(wf__strbuf *b, const char *s);
/* A decimal integer, as printf's %lld without its cost. */
void wf__strbuf_put_int(wf__strbuf *b, long long v);

/* Inline: JSON printing puts one character at a time. */
static inline void wf__strbuf_putc(wf__strbuf *b, char c) {
  if ((b->oom || b->len + 2 > b->cap) && !wf__strbuf_reserve(b, 1)) return;
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
}
void wf__strbuf_printf(wf__strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The contents ("" when empty); valid until the next append or free. */
const char *wf__strbuf_cstr(const wf__strbuf *b);
/* Hand the buffer to the caller (free with wf__free); NULL on OOM. The
 * buffer is reset. An empty buffer yields an allocated "". */
char *wf__strbuf_take(wf__strbuf *b);
void wf__strbuf_reset(wf__strbuf *b); /* keep capacity, length 0 */
/* Back to `len` bytes (no-op when already shorter). */
void wf__strbuf_truncate(wf__strbuf *b, size_t len);
void wf__strbuf_free(wf__strbuf *b);

#endif
