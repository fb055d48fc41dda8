/* Processing the records of one task: check each against the data type,
 * count valid and invalid ones, merge the valid ones' statistics and feed
 * their canonical bytes to the checksum. */
#ifndef PD_PROCESS_H
#define PD_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "checksum.h"
#include "input.h"
#include "records.h"
#include "stats.h"

typedef struct pd_record_error {
  size_t index;
  char message[PD_PROBLEM_MAX];
} pd_record_error;

typedef struct pd_report {
  pd_type type;
  size_t processed, valid, invalid;
  pd_sizes sizes;       /* every record's size */
  pd_numeric numeric;   /* numbers in valid records */
  uint64_t counters[PD_COUNTERS_MAX];
  char checksum[PD_CHECKSUM_MAX];
  pd_record_error *errors; /* the first max_errors problems */
  size_t nerrors;
} pd_report;

/* @return 0, or -1 when memory ran out (*out then holds nothing). */
int pd_process(pd_report *out, const pd_input *in, size_t max_errors);

void pd_report_free(pd_report *r);

#endif
