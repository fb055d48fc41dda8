/* binary records: standard base64 (RFC 4648, section 4) with padding, no
 * line breaks, and zero padding bits, so each byte string has exactly one
 * accepted spelling. The checksum covers the decoded bytes. */
#include <stdlib.h>

#include "records.h"

enum { DECODED_BYTES };

static int sextet(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool pd_check_binary(const json_t *record, pd_run *run, pd_scan *scan) {
  (void)run;
  const char *str;
  size_t n;
  if (!pd_record_string(record, "binary", scan, &str, &n)) return false;
  const unsigned char *s = (const unsigned char *)str;
  if (n % 4)
    return pd_reject(scan, "binary: base64 length %zu is not a multiple of 4",
                     n);
  size_t pad = 0;
  while (pad < 2 && pad < n && s[n - 1 - pad] == '=') pad++;
  size_t data = n - pad;
  for (size_t i = 0; i < data; i++)
    if (sextet(s[i]) < 0)
      return pd_reject(scan, "binary: invalid base64 character at offset %zu",
                       i);
  /* The bits the padding leaves over must be zero (RFC 4648, 3.5). */
  if (pad && (sextet(s[data - 1]) & (pad == 1 ? 0x03 : 0x0F)))
    return pd_reject(scan, "binary: non-zero padding bits at offset %zu",
                     data - 1);
  size_t len = n / 4 * 3 - pad;
  unsigned char *out = malloc(len ? len : 1);
  if (!out) return false; /* out of memory: empty problem */
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++)
      v = (v << 6) | (i + k < data ? (uint32_t)sextet(s[i + k]) : 0);
    for (size_t k = 0; k < 3 && o < len; k++)
      out[o++] = (unsigned char)(v >> (16 - 8 * k));
  }
  scan->counters[DECODED_BYTES] = len;
  scan->canon_owned = out;
  scan->canon = out;
  scan->canon_len = len;
  return true;
}
