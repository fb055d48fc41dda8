/* The data types ProcessData understands and the per-record checkers behind
 * them. Each checker decides whether one record is valid for its type and,
 * if so, reports the record's canonical bytes (what the checksum covers),
 * its numeric values and its type-specific counters. */
#ifndef PD_RECORDS_H
#define PD_RECORDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

typedef enum pd_type {
  PD_TYPE_JSON,
  PD_TYPE_CSV,
  PD_TYPE_XML,
  PD_TYPE_TEXT,
  PD_TYPE_BINARY,
  PD_TYPE_COUNT
} pd_type;

/* Enough for any type's counters; the type table names them. */
#define PD_COUNTERS_MAX 4
/* One record's problem, as reported in the result's "errors". */
#define PD_PROBLEM_MAX 160

/* State carried from record to record within one task. */
typedef struct pd_run {
  size_t csv_columns;   /* 0 until the first well-formed csv record */
  size_t csv_reference; /* index of that record */
  size_t index;         /* index of the record being checked */
} pd_run;

/* What a checker found in one record. Counters and numbers are merged into
 * the task's totals only when the record is valid, so a record that fails
 * half-way contributes nothing. */
typedef struct pd_scan {
  const unsigned char *canon; /* canonical bytes (may point into record) */
  size_t canon_len;
  void *canon_owned;          /* freed with free() after use, or NULL */
  pd_numeric numeric;
  uint64_t counters[PD_COUNTERS_MAX];
  char problem[PD_PROBLEM_MAX];
} pd_scan;

/* Returns true when the record is valid; otherwise fills scan->problem.
 * Returns false with an empty problem when memory ran out. */
typedef bool (*pd_check_fn)(const json_t *record, pd_run *run, pd_scan *scan);

typedef struct pd_type_desc {
  const char *name;
  pd_check_fn check;
  const char *counters[PD_COUNTERS_MAX]; /* NULL-terminated when fewer */
  unsigned max_mask; /* bit i: counter i merges by maximum, not by sum */
} pd_type_desc;

const pd_type_desc *pd_type_get(pd_type type);
/* Returns PD_TYPE_COUNT for an unknown name. */
pd_type pd_type_find(const char *name);
/* "json, csv, xml, text, binary", for messages. */
const char *pd_type_list(void);

/* Fill scan->problem with a formatted message; returns false so checkers
 * can `return pd_reject(...)`. */
bool pd_reject(pd_scan *scan, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A record that must be a JSON string: its bytes, or a rejection naming
 * the type it should have been. */
bool pd_record_string(const json_t *record, const char *type_name,
                      pd_scan *scan, const char **s, size_t *n);
const char *pd_json_type_name(const json_t *v);

bool pd_check_json(const json_t *record, pd_run *run, pd_scan *scan);
bool pd_check_csv(const json_t *record, pd_run *run, pd_scan *scan);
bool pd_check_xml(const json_t *record, pd_run *run, pd_scan *scan);
bool pd_check_text(const json_t *record, pd_run *run, pd_scan *scan);
bool pd_check_binary(const json_t *record, pd_run *run, pd_scan *scan);

#endif
