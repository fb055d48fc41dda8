/* The task input: parsed, its shape checked and its sizes measured against
 * the configured limits before any record is processed. */
#ifndef PD_INPUT_H
#define PD_INPUT_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "records.h"

typedef struct pd_input {
  json_t *root;           /* owns everything below */
  pd_type type;
  const json_t *records;  /* the data.records array */
  size_t count;
  size_t *sizes;          /* each record's size in bytes */
  size_t total_bytes;
  const char *correlation_id; /* the input's correlationId, or NULL */
} pd_input;

/* Why a task input was refused: an error name from error_names.h and a
 * cause naming the field and the problem. */
typedef struct pd_problem {
  const char *error;
  char cause[320];
} pd_problem;

/**
 * Parse and check the task input.
 * @return 0; -1 with *why filled (the task fails with why->error); on
 *         failure *out holds nothing to free.
 */
int pd_input_parse(pd_input *out, const char *text, const pd_limits *limits,
                   pd_problem *why);

void pd_input_free(pd_input *in);

#endif
