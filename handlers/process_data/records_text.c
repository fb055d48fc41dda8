/* text records: strings of well-formed UTF-8 without control characters
 * other than tab, line feed and carriage return. jansson already refuses
 * malformed UTF-8 in the task input, but the checker decodes every code
 * point anyway: it must count characters, and it keeps the rule explicit
 * rather than inherited from a parser setting. */
#include "records.h"
#include "utf8.h"

enum { CHARACTERS, WORDS, LINES };

/* White space as Unicode's White_Space property lists it. */
static bool space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 ||
         cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

bool pd_check_text(const json_t *record, pd_run *run, pd_scan *scan) {
  (void)run;
  const char *str;
  size_t n;
  if (!pd_record_string(record, "text", scan, &str, &n)) return false;
  const unsigned char *s = (const unsigned char *)str;
  uint64_t chars = 0, words = 0, breaks = 0;
  bool in_word = false;
  for (size_t i = 0; i < n;) {
    size_t at = i;
    uint32_t cp;
    if (!pd_utf8_next(s, n, &i, &cp))
      return pd_reject(scan, "text: malformed UTF-8 at offset %zu", at);
    if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F)
      return pd_reject(scan, "text: control character U+%04X at offset %zu",
                       (unsigned)cp, at);
    chars++;
    if (cp == '\n') breaks++;
    bool sp = space(cp);
    if (!sp && !in_word) words++;
    in_word = !sp;
  }
  scan->counters[CHARACTERS] = chars;
  scan->counters[WORDS] = words;
  /* A final line without its line feed still counts. */
  scan->counters[LINES] = breaks + (n > 0 && s[n - 1] != '\n');
  scan->canon = s;
  scan->canon_len = n;
  return true;
}
