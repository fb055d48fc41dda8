/* csv records: one line each, fields separated by commas and quoted as in
 * RFC 4180 ("a ""quoted"" field, with a comma"). Every record must have as
 * many fields as the first well-formed record (the header, typically).
 * Unquoted cells that read as numbers feed the numeric statistics; quoted
 * ones are text by intent. */
#include "records.h"

enum { COLUMNS, FIELDS, QUOTED };

/* A quoted field starting at s[*i] == '"'; on success *i is just past the
 * closing quote. Inside quotes, "" is a literal quote and commas and line
 * breaks are data. */
static bool quoted_field(const char *s, size_t n, size_t *i, pd_scan *scan) {
  size_t start = *i, j = *i + 1;
  for (;;) {
    if (j >= n)
      return pd_reject(scan, "csv: unterminated quoted field starting at "
                             "offset %zu", start);
    if (s[j] == '"') {
      if (j + 1 < n && s[j + 1] == '"') {
        j += 2;
        continue;
      }
      j++;
      break;
    }
    j++;
  }
  if (j < n && s[j] != ',')
    return pd_reject(scan, "csv: unexpected character after the closing quote "
                           "at offset %zu", j);
  *i = j;
  return true;
}

static bool plain_field(const char *s, size_t n, size_t *i, pd_scan *scan) {
  size_t start = *i, j = *i;
  for (; j < n && s[j] != ','; j++) {
    if (s[j] == '"')
      return pd_reject(scan, "csv: quote inside an unquoted field at offset "
                             "%zu", j);
    if (s[j] == '\n' || s[j] == '\r')
      return pd_reject(scan, "csv: line break at offset %zu; a record is one "
                             "line (quote the field to embed one)", j);
  }
  double v;
  if (pd_number_parse(s + start, j - start, &v))
    pd_numeric_add(&scan->numeric, v);
  *i = j;
  return true;
}

bool pd_check_csv(const json_t *record, pd_run *run, pd_scan *scan) {
  const char *s;
  size_t n;
  if (!pd_record_string(record, "csv", scan, &s, &n)) return false;
  size_t fields = 0, quoted = 0, i = 0;
  /* One field per turn; a trailing comma leaves one more (empty) field. */
  for (;;) {
    fields++;
    bool ok = (i < n && s[i] == '"') ? (quoted++, quoted_field(s, n, &i, scan))
                                     : plain_field(s, n, &i, scan);
    if (!ok) return false;
    if (i >= n) break;
    i++; /* the comma */
  }
  if (run->csv_columns == 0) {
    run->csv_columns = fields;
    run->csv_reference = run->index;
  } else if (fields != run->csv_columns) {
    return pd_reject(scan, "csv: %zu fields, expected %zu as in record %zu",
                     fields, run->csv_columns, run->csv_reference);
  }
  scan->counters[COLUMNS] = fields;
  scan->counters[FIELDS] = fields;
  scan->counters[QUOTED] = quoted;
  scan->canon = (const unsigned char *)s;
  scan->canon_len = n;
  return true;
}
