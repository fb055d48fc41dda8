/* Query strings and form bodies: client input, read with bounds. A value
 * is copied into the caller's fixed buffer or refused; nothing here
 * allocates. */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "sfn.h"

/* Find `name` among '&'-separated pairs of s[0..len); its raw value and
 * length, or NULL. */
static const char *find(const char *s, size_t len, const char *name,
                        size_t *vlen) {
  size_t nl = strlen(name);
  const char *end = s + len;
  for (const char *p = s; p < end;) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *stop = amp ? amp : end;
    if ((size_t)(stop - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
      *vlen = (size_t)(stop - p - (ptrdiff_t)nl - 1);
      return p + nl + 1;
    }
    p = stop + 1;
  }
  return NULL;
}

bool cs_query_get(const char *query, const char *name, char *out, size_t n) {
  size_t vlen;
  const char *v = query ? find(query, strlen(query), name, &vlen) : NULL;
  if (!v || vlen >= n) return false;
  memcpy(out, v, vlen);
  out[vlen] = '\0';
  return true;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool cs_form_get(const char *body, size_t len, const char *name, char *out,
                 size_t n) {
  size_t vlen;
  const char *v = body ? find(body, len, name, &vlen) : NULL;
  if (!v || !n) return false;
  size_t o = 0;
  for (size_t i = 0; i < vlen; i++) {
    char c = v[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (vlen - i < 3) return false;
      int hi = hexval(v[i + 1]), lo = hexval(v[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0' || o + 1 >= n) return false;
    out[o++] = c;
  }
  out[o] = '\0';
  return true;
}

int cs_status_parse(const char *s) {
  for (int st = WF_EXEC_RUNNING; st <= WF_EXEC_ABORTED; st++)
    if (strcmp(s, gw_sfn_status_name((wf_exec_status)st)) == 0) return st;
  return -1;
}

int64_t cs_cursor_parse(const char *s) {
  size_t n = strlen(s);
  if (!n || n > 18 || strspn(s, "0123456789") != n) return 0;
  return strtoll(s, NULL, 10);
}
