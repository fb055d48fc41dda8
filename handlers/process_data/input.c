/* Checking the task input's shape and size. Problems here are the caller's
 * (not the data's): the task fails at once, with no simulated processing
 * time, under a name the seed workflow's Retry does not match. */
#include "input.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_names.h"
#include "utf8.h"

static int refuse(pd_problem *why, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(pd_problem *why, const char *error, const char *fmt, ...) {
  why->error = error;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why->cause, sizeof why->cause, fmt, ap);
  va_end(ap);
  pd_utf8_scrub(why->cause);
  return -1;
}

/* A record's size: the bytes of its string, or of its compact JSON text
 * when it is not a string. */
static size_t record_size(const json_t *r) {
  if (json_is_string(r)) return json_string_length(r);
  return json_dumpb(r, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static int check_data(pd_input *in, const json_t *data, pd_problem *why) {
  if (!data)
    return refuse(why, PD_ERR_INVALID_INPUT,
                  "data is required: an object with type and records");
  if (!json_is_object(data))
    return refuse(why, PD_ERR_INVALID_INPUT, "data must be an object, got %s",
                  pd_json_type_name(data));
  const json_t *type = json_object_get(data, "type");
  if (!type)
    return refuse(why, PD_ERR_INVALID_INPUT,
                  "data.type is required (one of %s)", pd_type_list());
  if (!json_is_string(type))
    return refuse(why, PD_ERR_INVALID_INPUT,
                  "data.type must be a string, got %s",
                  pd_json_type_name(type));
  if ((in->type = pd_type_find(json_string_value(type))) == PD_TYPE_COUNT)
    return refuse(why, PD_ERR_INVALID_INPUT,
                  "data.type must be one of %s, got '%.40s%s'", pd_type_list(),
                  json_string_value(type),
                  json_string_length(type) > 40 ? "..." : "");
  const json_t *records = json_object_get(data, "records");
  if (!records)
    return refuse(why, PD_ERR_INVALID_INPUT,
                  "data.records is required (an array of records)");
  if (!json_is_array(records))
    return refuse(why, PD_ERR_INVALID_INPUT,
                  "data.records must be an array, got %s",
                  pd_json_type_name(records));
  if (json_array_size(records) == 0)
    return refuse(why, PD_ERR_INVALID_INPUT,
                  "data.records must contain at least one record");
  in->records = records;
  in->count = json_array_size(records);
  return 0;
}

static int check_sizes(pd_input *in, const pd_limits *lim, pd_problem *why) {
  if (in->count > lim->max_records)
    return refuse(why, PD_ERR_LIMIT_EXCEEDED,
                  "data.records has %zu records; the limit is %zu "
                  "(limits.maxRecords)", in->count, lim->max_records);
  if (!(in->sizes = malloc(in->count * sizeof *in->sizes)))
    return refuse(why, PD_ERR_INTERNAL, "out of memory");
  for (size_t i = 0; i < in->count; i++) {
    size_t n = record_size(json_array_get(in->records, i));
    if (n > lim->max_record_bytes)
      return refuse(why, PD_ERR_LIMIT_EXCEEDED,
                    "data.records[%zu] is %zu bytes; the limit is %zu "
                    "(limits.maxRecordBytes)", i, n, lim->max_record_bytes);
    in->sizes[i] = n;
    in->total_bytes += n;
  }
  if (in->total_bytes > lim->max_total_bytes)
    return refuse(why, PD_ERR_LIMIT_EXCEEDED,
                  "data.records holds %zu bytes; the limit is %zu "
                  "(limits.maxTotalBytes)", in->total_bytes,
                  lim->max_total_bytes);
  return 0;
}

int pd_input_parse(pd_input *out, const char *text, const pd_limits *limits,
                   pd_problem *why) {
  memset(out, 0, sizeof *out);
  json_error_t je;
  /* NUL is allowed so that a record holding one is reported as an invalid
   * record (a control character), not as an unreadable input. */
  out->root = json_loads(text ? text : "", JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
  if (!out->root)
    return refuse(why, PD_ERR_INVALID_INPUT, "the task input is not JSON: %s",
                  je.text);
  int rc = 0;
  if (!json_is_object(out->root))
    rc = refuse(why, PD_ERR_INVALID_INPUT,
                "the task input must be an object with data, got %s",
                pd_json_type_name(out->root));
  const json_t *cid = rc ? NULL : json_object_get(out->root, "correlationId");
  if (cid && !json_is_null(cid) && !json_is_string(cid))
    rc = refuse(why, PD_ERR_INVALID_INPUT,
                "correlationId must be a string, got %s",
                pd_json_type_name(cid));
  else if (json_is_string(cid) && json_string_length(cid) > 0)
    out->correlation_id = json_string_value(cid);
  if (!rc) rc = check_data(out, json_object_get(out->root, "data"), why);
  if (!rc) rc = check_sizes(out, limits, why);
  if (rc) pd_input_free(out);
  return rc;
}

void pd_input_free(pd_input *in) {
  json_decref(in->root);
  free(in->sizes);
  memset(in, 0, sizeof *in);
}
