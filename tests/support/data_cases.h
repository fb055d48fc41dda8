/* Data-driven cases: a JSON file under tests/data holding
 * {"cases": [...]}, run as one parameterized Criterion test per case.
 * Header-only (static inline) like engine_support.h. */
#ifndef WF_TEST_DATA_CASES_H
#define WF_TEST_DATA_CASES_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdlib.h>

#include "support.h"

/* The most cases a data file may hold (the parameter arrays are static). */
#define WFT_MAX_CASES 1024

/* tests/data/<file> (a new reference), or NULL, with the parse error
 * logged. */
static inline json_t *wft_cases_load(const char *file) {
  char *path = wft_strf("%s/tests/data/%s", WF_SOURCE_DIR, file);
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root) cr_log_error("%s:%d: %s", path, je.line, je.text);
  free(path);
  return root;
}

/* How many cases the file holds, at most WFT_MAX_CASES. */
static inline size_t wft_case_count(const char *file) {
  json_t *root = wft_cases_load(file);
  size_t n = json_array_size(json_object_get(root, "cases"));
  json_decref(root);
  return n > WFT_MAX_CASES ? WFT_MAX_CASES : n;
}

/* Case `i` of `file` (a new reference). */
static inline json_t *wft_case_at(const char *file, int i) {
  json_t *root = wft_cases_load(file);
  json_t *c =
      json_incref(json_array_get(json_object_get(root, "cases"), (size_t)i));
  json_decref(root);
  cr_assert_not_null(c, "%s has no case %d", file, i);
  return c;
}

/* The body of a ParameterizedTestParameters(): the indexes of the cases of
 * `file`, each test's parameter an int *. */
#define WFT_CASE_PARAMS(file)                               \
  static int index[WFT_MAX_CASES];                          \
  size_t n = wft_case_count(file);                          \
  for (size_t i = 0; i < n; i++) index[i] = (int)i;         \
  return cr_make_param_array(int, index, n)

#endif
