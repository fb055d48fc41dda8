/* Processing the records of one task. Everything lives on this call's
 * stack or heap: concurrent tasks share nothing but the read-only type
 * table. */
#include "process.h"

#include <stdlib.h>
#include <string.h>

static void merge(pd_report *r, const pd_type_desc *t, const pd_scan *s) {
  pd_numeric_merge(&r->numeric, &s->numeric);
  for (int k = 0; k < PD_COUNTERS_MAX && t->counters[k]; k++) {
    if (t->max_mask & (1u << k)) {
      if (s->counters[k] > r->counters[k]) r->counters[k] = s->counters[k];
    } else {
      r->counters[k] += s->counters[k];
    }
  }
}

static void note_problem(pd_report *r, size_t index, const char *problem) {
  if (!r->errors) return;
  pd_record_error *e = &r->errors[r->nerrors++];
  e->index = index;
  memcpy(e->message, problem, sizeof e->message);
}

int pd_process(pd_report *out, const pd_input *in, size_t max_errors) {
  memset(out, 0, sizeof *out);
  out->type = in->type;
  const pd_type_desc *type = pd_type_get(in->type);
  pd_checksum *sum = pd_checksum_new();
  if (!sum) return -1;
  pd_run run = {0};
  for (size_t i = 0; i < in->count; i++) {
    pd_scan scan = {0};
    run.index = i;
    bool ok = type->check(json_array_get(in->records, i), &run, &scan);
    if (!ok && !scan.problem[0]) goto oom;
    pd_sizes_add(&out->sizes, in->sizes[i]);
    out->processed++;
    if (ok) {
      out->valid++;
      merge(out, type, &scan);
      ok = pd_checksum_add(sum, scan.canon, scan.canon_len);
      free(scan.canon_owned);
      if (!ok) goto oom;
      continue;
    }
    out->invalid++;
    /* Allocated on the first problem only: most inputs are clean. */
    if (!out->errors && max_errors &&
        !(out->errors = calloc(max_errors, sizeof *out->errors)))
      goto oom;
    if (out->nerrors < max_errors) note_problem(out, i, scan.problem);
  }
  if (!pd_checksum_finish(sum, out->checksum)) {
    pd_report_free(out);
    return -1;
  }
  return 0;
oom:
  pd_checksum_free(sum);
  pd_report_free(out);
  return -1;
}

void pd_report_free(pd_report *r) {
  free(r->errors);
  r->errors = NULL;
  r->nerrors = 0;
}
