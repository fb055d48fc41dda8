/* json records: a document (object or array), given either as a JSON value
 * in the records array or as a string holding JSON text (one line of JSON
 * Lines). Scalars are not documents and are rejected. */
#include <stdlib.h>
#include <string.h>

#include "records.h"

enum { OBJECTS, ARRAYS, KEYS, MAX_DEPTH };

/* Recursion is bounded by jansson's parser depth limit (2048), which every
 * value reaching us went through. */
static void walk(const json_t *v, uint64_t depth, pd_scan *scan) {
  const char *key;
  json_t *child;
  size_t i;
  switch (json_typeof(v)) {
    case JSON_OBJECT:
      scan->counters[OBJECTS]++;
      scan->counters[KEYS] += json_object_size(v);
      if (depth > scan->counters[MAX_DEPTH]) scan->counters[MAX_DEPTH] = depth;
      json_object_foreach((json_t *)v, key, child) walk(child, depth + 1, scan);
      break;
    case JSON_ARRAY:
      scan->counters[ARRAYS]++;
      if (depth > scan->counters[MAX_DEPTH]) scan->counters[MAX_DEPTH] = depth;
      json_array_foreach(v, i, child) walk(child, depth + 1, scan);
      break;
    case JSON_INTEGER:
    case JSON_REAL:
      pd_numeric_add(&scan->numeric, json_number_value(v));
      break;
    default:
      break;
  }
}

bool pd_check_json(const json_t *record, pd_run *run, pd_scan *scan) {
  (void)run;
  json_t *parsed = NULL;
  const json_t *doc = record;
  if (json_is_string(record)) {
    json_error_t je;
    /* Duplicate keys would make the canonical form (and so the checksum)
     * depend on which duplicate a parser keeps. */
    parsed = json_loadb(json_string_value(record), json_string_length(record),
                        JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!parsed)
      return pd_reject(scan, "json record is not valid JSON text: %s (column %d)",
                       je.text, je.column);
    doc = parsed;
  }
  if (!json_is_object(doc) && !json_is_array(doc)) {
    pd_reject(scan, "json record must be an object or an array, got %s",
              pd_json_type_name(doc));
    json_decref(parsed);
    return false;
  }
  walk(doc, 1, scan);
  /* Sorted keys and no whitespace: equal documents hash equally however
   * they were written. */
  char *canon = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(parsed);
  if (!canon) return false; /* out of memory: empty problem */
  scan->canon_owned = canon;
  scan->canon = (const unsigned char *)canon;
  scan->canon_len = strlen(canon);
  return true;
}
