/* Sanitizing untrusted text: strings of request bodies before they reach
 * an execution, and bytes from paths and headers before they reach a log
 * line or a response. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes) and its code
 * point, or 0 when it is not one: overlong forms, surrogates and values
 * past U+10FFFF are refused, as RFC 3629 requires. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp) {
  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
  if (!len || len > n || s[0] > 0xF4) return 0;
  unsigned c = s[0] & (0x7F >> len);
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return len;
}

/* C0 controls other than tab, line feed and carriage return, DEL and the
 * C1 controls: invisible, and able to forge log lines or terminals. */
static bool is_control(unsigned cp) {
  return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
         (cp >= 0x7F && cp <= 0x9F);
}

char *gw_text_clean(const char *s, size_t n, size_t max_bytes) {
  char *out = malloc(max_bytes + 1);
  if (!out) return NULL;
  size_t o = 0;
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    unsigned cp = 0;
    size_t len = utf8_seq(p + i, n - i, &cp);
    const char *rep = NULL;
    size_t rlen = len;
    if (!len) {
      rep = "\xEF\xBF\xBD"; /* U+FFFD */
      rlen = 3;
      len = 1;
    } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
      rep = "?";
      rlen = 1;
    }
    if (o + rlen > max_bytes) break;
    memcpy(out + o, rep ? rep : (const char *)p + i, rlen);
    o += rlen;
    i += len;
  }
  out[o] = '\0';
  return out;
}

/* A cleaned copy of a jansson string (always valid UTF-8), or NULL with
 * *same set when nothing would change. */
static char *clean_string(const char *s, size_t n, size_t max_chars,
                          size_t *out_len, bool *same) {
  const unsigned char *p = (const unsigned char *)s;
  size_t chars = 0, i = 0;
  bool dirty = false;
  while (i < n) {
    unsigned cp = 0;
    size_t len = utf8_seq(p + i, n - i, &cp);
    if (!len) len = 1; /* cannot happen for jansson's strings */
    if (is_control(cp)) dirty = true;
    else chars++;
    i += len;
  }
  *same = !dirty && chars <= max_chars;
  if (*same) return NULL;
  char *out = malloc(n + 1);
  if (!out) return NULL;
  size_t o = 0;
  chars = 0;
  for (i = 0; i < n && chars < max_chars;) {
    unsigned cp = 0;
    size_t len = utf8_seq(p + i, n - i, &cp);
    if (!len) len = 1;
    if (!is_control(cp)) {
      memcpy(out + o, p + i, len);
      o += len;
      chars++;
    }
    i += len;
  }
  out[o] = '\0';
  *out_len = o;
  return out;
}

static int clean_keys(json_t *obj, size_t max_chars) {
  /* Keys cannot be renamed in place, and the object cannot change while
   * it is iterated: collect the keys to fix first. */
  size_t n = 0, cap = 0;
  const char **fix = NULL;
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    bool same;
    size_t len;
    char *c = clean_string(k, strlen(k), max_chars, &len, &same);
    if (same) continue;
    free(c);
    if (n == cap) {
      const char **f = realloc(fix, (cap = cap ? cap * 2 : 4) * sizeof *f);
      if (!f) {
        free(fix);
        return -1;
      }
      fix = f;
    }
    fix[n++] = k;
  }
  int rc = 0;
  char **copies = n ? calloc(n, sizeof *copies) : NULL;
  for (size_t i = 0; i < n && rc == 0; i++)
    if (!copies || !(copies[i] = strdup(fix[i]))) rc = -1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    bool same;
    size_t len;
    char *c = clean_string(copies[i], strlen(copies[i]), max_chars, &len,
                           &same);
    json_t *val = json_incref(json_object_get(obj, copies[i]));
    if (!c || json_object_get(obj, c)) rc = -1; /* collision */
    else if (json_object_del(obj, copies[i]) ||
             json_object_set_new(obj, c, val))
      rc = -1, val = NULL;
    else
      val = NULL;
    json_decref(val);
    free(c);
  }
  for (size_t i = 0; copies && i < n; i++) free(copies[i]);
  free(copies);
  free(fix);
  return rc;
}

int gw_sanitize_json(json_t *v, size_t max_chars) {
  if (json_is_string(v)) {
    bool same;
    size_t len;
    char *c = clean_string(json_string_value(v), json_string_length(v),
                           max_chars, &len, &same);
    if (same) return 0;
    int rc = c ? json_string_setn_nocheck(v, c, len) : -1;
    free(c);
    return rc;
  }
  if (json_is_array(v)) {
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (gw_sanitize_json(e, max_chars)) return -1;
    return 0;
  }
  if (json_is_object(v)) {
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e) if (gw_sanitize_json(e, max_chars)) return -1;
    return clean_keys(v, max_chars);
  }
  return 0;
}
