/* The plugin's configuration, given as JSON when the plugin is loaded
 * (README.md documents every field). Immutable once parsed, so handlers on
 * any thread read it without a lock. */
#ifndef PD_CONFIG_H
#define PD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"
#include "workflow/handler.h"

#define PD_DEFAULT_RESOURCE \
  "arn:aws:lambda:us-east-1:123456789012:function:ProcessData"

typedef struct pd_limits {
  size_t max_records, max_record_bytes, max_total_bytes;
} pd_limits;

/* Simulated processing time: base_ms + per_record_ms * records. */
typedef struct pd_timing {
  int64_t base_ms, per_record_ms;
} pd_timing;

/* How a simulated failure shows itself. */
typedef enum pd_failure_kind {
  PD_FAIL_ERROR,   /* the task fails with the error name */
  PD_FAIL_RESULT,  /* the task succeeds with status FAILED and the name */
  PD_FAIL_TIMEOUT  /* the task completes after its deadline: States.Timeout */
} pd_failure_kind;

typedef struct pd_failure {
  char *error;
  pd_failure_kind kind;
  double weight;
} pd_failure;

typedef struct pd_simulation {
  double success_rate;
  uint64_t seed;
  pd_failure *failures;
  size_t nfailures;
  double total_weight;
  int64_t overshoot_ms; /* how far past the deadline a timeout completes */
} pd_simulation;

typedef struct pd_config {
  char **resources;
  size_t nresources;
  pd_limits limits;
  pd_timing timing[PD_TYPE_COUNT];
  bool fail_on_invalid; /* invalidRecords: "fail" */
  size_t max_errors;    /* record problems listed in the result */
  pd_simulation sim;
} pd_config;

/**
 * Parse and check a configuration; absent fields take their defaults.
 * @param json a JSON object as text.
 * @return WF_OK; WF_EPARSE (not JSON); WF_EINVAL (a bad field: err's
 *         message names it, err's path holds its dotted name); WF_ENOMEM.
 *         On failure *out holds nothing to free.
 */
int pd_config_parse(pd_config *out, const char *json, wf_error *err);

void pd_config_free(pd_config *cfg);

/* The simulated processing time for `records` records of `type`. */
int64_t pd_config_duration(const pd_config *cfg, pd_type type, size_t records);

#endif
