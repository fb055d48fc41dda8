/* A growable string for the texts the plugin builds (rendered templates,
 * mail messages). A failed allocation is remembered rather than reported
 * at every append, and checked once at the end. */
#include <stdlib.h>
#include <string.h>

#include "send_notification.h"

void sn_text_add(sn_text *t, const char *s, size_t n) {
  if (t->failed) return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + n + 1) cap *= 2;
    char *p = realloc(t->s, cap);
    if (!p) {
      t->failed = true;
      return;
    }
    t->s = p;
    t->cap = cap;
  }
  memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

void sn_text_adds(sn_text *t, const char *s) { sn_text_add(t, s, strlen(s)); }

char *sn_text_take(sn_text *t) {
  sn_text_add(t, "", 0); /* an empty text is "", not NULL */
  char *s = t->failed ? NULL : t->s;
  if (!s) free(t->s);
  memset(t, 0, sizeof *t);
  return s;
}

void sn_text_free(sn_text *t) {
  free(t->s);
  memset(t, 0, sizeof *t);
}
