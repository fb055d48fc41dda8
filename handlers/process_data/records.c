/* The table of data types and what the record checkers share. */
#include "records.h"

#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Counters are listed in the order the result reports them. */
static const pd_type_desc TYPES[PD_TYPE_COUNT] = {
    [PD_TYPE_JSON] = {"json", pd_check_json,
                      {"objects", "arrays", "keys", "maxDepth"}, 1u << 3},
    [PD_TYPE_CSV] = {"csv", pd_check_csv,
                     {"columns", "fields", "quotedFields", NULL}, 1u << 0},
    [PD_TYPE_XML] = {"xml", pd_check_xml,
                     {"elements", "attributes", "maxDepth", NULL}, 1u << 2},
    [PD_TYPE_TEXT] = {"text", pd_check_text,
                      {"characters", "words", "lines", NULL}, 0},
    [PD_TYPE_BINARY] = {"binary", pd_check_binary,
                        {"decodedBytes", NULL, NULL, NULL}, 0},
};

const pd_type_desc *pd_type_get(pd_type type) {
  return type < PD_TYPE_COUNT ? &TYPES[type] : NULL;
}

pd_type pd_type_find(const char *name) {
  for (int t = 0; t < PD_TYPE_COUNT; t++)
    if (strcmp(TYPES[t].name, name) == 0) return (pd_type)t;
  return PD_TYPE_COUNT;
}

const char *pd_type_list(void) { return "json, csv, xml, text, binary"; }

bool pd_reject(pd_scan *scan, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(scan->problem, sizeof scan->problem, fmt, ap);
  va_end(ap);
  pd_utf8_scrub(scan->problem);
  return false;
}

const char *pd_json_type_name(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
  }
}

bool pd_record_string(const json_t *record, const char *type_name,
                      pd_scan *scan, const char **s, size_t *n) {
  if (!json_is_string(record))
    return pd_reject(scan, "%s record must be a string, got %s", type_name,
                     pd_json_type_name(record));
  *s = json_string_value(record);
  *n = json_string_length(record);
  return true;
}
