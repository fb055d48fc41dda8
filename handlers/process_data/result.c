/* Building the task's result. Members are added in the order a reader
 * wants them (jansson keeps insertion order): the verdict first, then the
 * counts, the data's fingerprint and statistics, then timing and
 * identity. */
#include "result.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

const char *pd_result_status(const pd_report *r) {
  if (r->invalid == 0) return PD_STATUS_SUCCESS;
  if (r->valid == 0) return PD_STATUS_FAILED;
  return PD_STATUS_PARTIAL;
}

void pd_format_time(char out[32], int64_t ms) {
  /* Floor division, so instants before 1970 keep a non-negative
   * millisecond part. */
  int64_t secs = ms / 1000, rem = ms % 1000;
  if (rem < 0) secs--, rem += 1000;
  time_t t = (time_t)secs;
  struct tm tm;
  size_t n = gmtime_r(&t, &tm) ? strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm)
                               : 0;
  if (n == 0) n = (size_t)snprintf(out, 32, "1970-01-01T00:00:00");
  snprintf(out + n, 32 - n, ".%03dZ", (int)rem);
}

static json_t *type_counters(const pd_report *r) {
  const pd_type_desc *t = pd_type_get(r->type);
  json_t *o = json_object();
  for (int k = 0; o && k < PD_COUNTERS_MAX && t->counters[k]; k++)
    if (json_object_set_new(o, t->counters[k],
                            json_integer((json_int_t)r->counters[k]))) {
      json_decref(o);
      o = NULL;
    }
  return o;
}

static json_t *statistics(const pd_report *r) {
  json_t *o = json_object();
  if (!o) return NULL;
  if (json_object_set_new(o, "recordBytes", pd_sizes_json(&r->sizes)) ||
      json_object_set_new(o, "numeric", pd_numeric_json(&r->numeric)) ||
      json_object_set_new(o, pd_type_get(r->type)->name, type_counters(r))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *errors(const pd_report *r) {
  json_t *a = json_array();
  for (size_t k = 0; a && k < r->nerrors; k++) {
    json_t *e = json_pack("{s:I, s:s}", "index", (json_int_t)r->errors[k].index,
                          "message", r->errors[k].message);
    if (json_array_append_new(a, e)) {
      json_decref(a);
      a = NULL;
    }
  }
  return a;
}

char *pd_result_json(const pd_report *r, const pd_result_meta *m) {
  char started[32], completed[32];
  pd_format_time(started, m->started_ms);
  pd_format_time(completed, m->started_ms + m->duration_ms);
  json_t *o = json_pack(
      "{s:s, s:s, s:I, s:I, s:I, s:s}", "status", m->status, "dataType",
      pd_type_get(r->type)->name, "recordsProcessed", (json_int_t)r->processed,
      "recordsValid", (json_int_t)r->valid, "recordsInvalid",
      (json_int_t)r->invalid, "checksum", r->checksum);
  if (!o) return NULL;
  int rc = json_object_set_new(o, "statistics", statistics(r));
  rc |= json_object_set_new(o, "errors", errors(r));
  if (m->error) {
    rc |= json_object_set_new(o, "error", json_string(m->error));
    rc |= json_object_set_new(o, "cause", json_string(m->cause ? m->cause : ""));
  }
  rc |= json_object_set_new(o, "durationMs", json_integer(m->duration_ms));
  rc |= json_object_set_new(o, "startedAt", json_string(started));
  rc |= json_object_set_new(o, "completedAt", json_string(completed));
  rc |= json_object_set_new(o, "correlationId",
                            m->correlation_id ? json_string(m->correlation_id)
                                              : json_null());
  rc |= json_object_set_new(o, "attempt", json_integer(m->attempt));
  char *text = rc ? NULL : json_dumps(o, JSON_COMPACT);
  json_decref(o);
  return text;
}
