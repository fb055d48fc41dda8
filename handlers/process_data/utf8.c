/* UTF-8 decoding. */
#include "utf8.h"

#include <string.h>

bool pd_utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *out) {
  unsigned char b = s[*i];
  size_t len;
  uint32_t cp, min;
  if (b < 0x80) {
    *out = b;
    (*i)++;
    return true;
  }
  if ((b & 0xE0) == 0xC0) len = 2, cp = b & 0x1F, min = 0x80;
  else if ((b & 0xF0) == 0xE0) len = 3, cp = b & 0x0F, min = 0x800;
  else if ((b & 0xF8) == 0xF0) len = 4, cp = b & 0x07, min = 0x10000;
  else return false;
  if (*i + len > n) return false;
  for (size_t k = 1; k < len; k++) {
    unsigned char c = s[*i + k];
    if ((c & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return false;
  *out = cp;
  *i += len;
  return true;
}

void pd_utf8_scrub(char *s) {
  unsigned char *u = (unsigned char *)s;
  size_t n = strlen(s), r = 0, w = 0;
  while (r < n) {
    size_t at = r;
    uint32_t cp;
    if (!pd_utf8_next(u, n, &r, &cp)) {
      r = at + 1;
      continue;
    }
    memmove(u + w, u + at, r - at);
    w += r - at;
  }
  u[w] = '\0';
}
