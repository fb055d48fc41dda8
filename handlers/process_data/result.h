/* The task's result: what the seed workflow stores at $.processingResult
 * and what CheckStatus routes on (README.md documents every member). */
#ifndef PD_RESULT_H
#define PD_RESULT_H

#include <stdint.h>

#include "process.h"

#define PD_STATUS_SUCCESS "SUCCESS"
#define PD_STATUS_PARTIAL "PARTIAL"
#define PD_STATUS_FAILED "FAILED"

typedef struct pd_result_meta {
  const char *status;
  const char *error, *cause; /* set with status FAILED, else NULL */
  const char *correlation_id;
  int64_t started_ms, duration_ms;
  unsigned attempt;
} pd_result_meta;

/* SUCCESS when every record is valid, FAILED when none is, else
 * PARTIAL. */
const char *pd_result_status(const pd_report *r);

/* The result as compact JSON text (free with free()); NULL when out of
 * memory. */
char *pd_result_json(const pd_report *r, const pd_result_meta *meta);

/* "2023-11-14T22:13:20.000Z" for ms since the epoch. */
void pd_format_time(char out[32], int64_t ms);

#endif
