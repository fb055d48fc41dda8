/* Running statistics: numeric values found in records and record sizes. */
#ifndef PD_STATS_H
#define PD_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pd_numeric {
  uint64_t count;
  double sum, comp; /* Neumaier-compensated sum: comp holds lost low bits */
  double min, max;
} pd_numeric;

typedef struct pd_sizes {
  uint64_t count, total, min, max;
} pd_sizes;

void pd_numeric_add(pd_numeric *n, double v);
void pd_numeric_merge(pd_numeric *into, const pd_numeric *from);
/* {"count","sum","min","max","mean"}; min/max/mean are null when empty. */
json_t *pd_numeric_json(const pd_numeric *n);

void pd_sizes_add(pd_sizes *s, uint64_t bytes);
/* {"total","min","max","mean"}. */
json_t *pd_sizes_json(const pd_sizes *s);

/* A number written as text in a csv cell or xml element: optional sign,
 * digits with an optional fraction, optional exponent, surrounding white space
 * allowed. Stricter than strtod, which would also take "inf", "nan" and
 * hexadecimal. Returns false when `s` is not such a finite number. */
bool pd_number_parse(const char *s, size_t n, double *out);

/* An integral value within ±2^53 as a JSON integer, else a real, so sums
 * of integers read as integers. */
json_t *pd_json_number(double v);

#endif
