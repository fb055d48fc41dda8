/* The official JSONata test suite (jsonata-js 2.0.6's test/test-suite, in
 * ../shared/jsonata-suite) against the native engine: every case of every
 * group, read at run time. Passes are counted per group; every failing
 * case is listed with its reason in build/jsonata-suite-failures.txt; the
 * total must not fall below the floor (issue 17, deliverable 2). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonata.h"
#include "json_text.h"

#define SUITE WF_SHARED_DIR "/jsonata-suite"
/* Cases passed when this floor was set (1,623 of 1,625); raise it as the
 * engine grows. Every case not passed is listed, with the reason, in
 * build/jsonata-suite-failures.txt, and must be one of these. */
#define PASS_FLOOR 1623

static const struct {
  const char *file, *reason;
} NOT_PASSED[] = {
    {"function-encodeUrl/case002.json",
     "the expression holds a lone UTF-16 surrogate (\\uD800 in the case's "
     "JSON), which JSON text in UTF-8 cannot carry: jansson refuses the "
     "case, and an ASL definition could not hold it either"},
    {"function-encodeUrlComponent/case002.json",
     "the same lone surrogate (\\uD800)"},
};

/* Whether a case not passed is one listed above. */
static bool listed(const char *group, const char *file) {
  char name[600];
  snprintf(name, sizeof name, "%s/%s", group, file);
  for (size_t i = 0; i < sizeof NOT_PASSED / sizeof *NOT_PASSED; i++)
    if (!strcmp(NOT_PASSED[i].file, name)) return true;
  return false;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_dir(const char *path, size_t *n) {
  DIR *d = opendir(path);
  *n = 0;
  if (!d) return NULL;
  size_t cap = 64;
  char **v = malloc(cap * sizeof *v);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (*n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
    v[(*n)++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(v, *n, sizeof *v, cmp_names);
  return v;
}

/* Deep equality with numbers compared by value (1 equals 1.0). */
static bool same(json_t *a, json_t *b) {
  if (json_is_number(a) && json_is_number(b)) {
    double x = json_number_value(a), y = json_number_value(b);
    return x == y || fabs(x - y) <= 1e-12 * fmax(fabs(x), fabs(y));
  }
  if (json_typeof(a) != json_typeof(b)) return false;
  if (json_is_array(a)) {
    if (json_array_size(a) != json_array_size(b)) return false;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!same(json_array_get(a, i), json_array_get(b, i))) return false;
    return true;
  }
  if (json_is_object(a)) {
    if (json_object_size(a) != json_object_size(b)) return false;
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v) {
      json_t *w = json_object_get(b, k);
      if (!w || !same(v, w)) return false;
    }
    return true;
  }
  return json_equal(a, b);
}

static char *read_text(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  *len = fread(s, 1, (size_t)n, f);
  s[*len] = '\0';
  fclose(f);
  return s;
}

/* Run one case; NULL when it passes, else the reason (static buffer). */
static const char *run_case(json_t *c, const char *group_dir) {
  static char reason[1024];
  json_t *jexpr = json_object_get(c, "expr");
  char *text = NULL;
  size_t len = 0;
  if (json_is_string(jexpr)) {
    len = json_string_length(jexpr);
    text = malloc(len + 1);
    memcpy(text, json_string_value(jexpr), len + 1);
  } else {
    const char *file = json_string_value(json_object_get(c, "expr-file"));
    char path[2300];
    snprintf(path, sizeof path, "%s/%s", group_dir, file ? file : "");
    text = read_text(path, &len);
    if (!text) return "cannot read expr-file";
  }
  json_t *data = json_object_get(c, "data");
  json_t *owned = NULL;
  if (!data) {
    json_t *ds = json_object_get(c, "dataset");
    if (json_is_string(ds)) {
      char path[1024];
      snprintf(path, sizeof path, SUITE "/datasets/%s.json", json_string_value(ds));
      owned = json_load_file(path, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
      data = owned;
    }
  }
  wf__jsonata_bindings vars = {.values = json_object_get(c, "bindings")};
  json_t *expect = json_object_get(c, "result");
  bool undef = json_is_true(json_object_get(c, "undefinedResult"));
  const char *code = json_string_value(json_object_get(c, "code"));
  if (!code) code = json_string_value(json_object_get(json_object_get(c, "error"), "code"));
  int depth = (int)json_integer_value(json_object_get(c, "depth"));
  json_int_t tl = json_integer_value(json_object_get(c, "timelimit"));
  wf__budget budget;
  wf__budget_init(&budget, (size_t)1 << 40, tl > 0 ? (uint64_t)tl * 1000000u : 0);
  budget.steps = 1000000000u;

  const char *res = NULL;
  wf__jsonata *e = NULL;
  wf__jsonata_error err;
  json_t *out = NULL;
  int rc = wf__jsonata_compile(&e, text, len, &err);
  size_t bound = 0;
  if (rc == 0) rc = wf__jsonata_eval_depth(&out, e, data, &vars, &budget, depth, &bound, &err);
  size_t size = out ? wf__json_size(out, SIZE_MAX / 2) : 0;
  if (rc == 0 && bound < size) {
    /* The size counted while the result is made bounds its text. */
    snprintf(reason, sizeof reason, "size bound %zu below the text's %zu", bound, size);
    res = reason;
  } else if (code) {
    if (rc == 0) {
      char *got = out ? json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
      snprintf(reason, sizeof reason, "expected error %s, got %s", code, got ? got : "undefined");
      free(got);
      res = reason;
    } else if (strcmp(err.code, code) != 0) {
      snprintf(reason, sizeof reason, "expected error %s, got %s: %s", code, err.code, err.message);
      res = reason;
    }
  } else if (rc != 0) {
    snprintf(reason, sizeof reason, "error %s at %d: %s", err.code, err.position, err.message);
    res = reason;
  } else if (undef) {
    if (out) {
      char *got = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT);
      snprintf(reason, sizeof reason, "expected undefined, got %.900s", got);
      free(got);
      res = reason;
    }
  } else if (!out || !expect || !same(out, expect)) {
    char *got = out ? json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    char *want = expect ? json_dumps(expect, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(reason, sizeof reason, "expected %.400s, got %.400s", want ? want : "?",
             got ? got : "undefined");
    free(got);
    free(want);
    res = reason;
  }
  json_decref(out);
  wf__jsonata_free(e);
  json_decref(owned);
  free(text);
  return res;
}

Test(jsonata_suite, runs_every_case_above_the_floor, .timeout = 900) {
  size_t ng;
  char **groups = list_dir(SUITE "/groups", &ng);
  cr_assert_not_null(groups, "suite not found at %s", SUITE);
  FILE *fails = fopen(WF_BINARY_DIR "/jsonata-suite-failures.txt", "w");
  cr_assert_not_null(fails);
  int total = 0, passed = 0, unlisted = 0;
  for (size_t g = 0; g < ng; g++) {
    char gdir[1100];
    snprintf(gdir, sizeof gdir, SUITE "/groups/%s", groups[g]);
    size_t nf;
    char **files = list_dir(gdir, &nf);
    int gt = 0, gp = 0;
    for (size_t f = 0; f < nf; f++) {
      size_t l = strlen(files[f]);
      if (l < 5 || strcmp(files[f] + l - 5, ".json")) {
        free(files[f]);
        continue;
      }
      char path[2300];
      snprintf(path, sizeof path, "%s/%s", gdir, files[f]);
      json_t *doc = json_load_file(path, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
      size_t nc = json_is_array(doc) ? json_array_size(doc) : 1;
      for (size_t i = 0; i < nc; i++) {
        json_t *c = json_is_array(doc) ? json_array_get(doc, i) : doc;
        const char *why = c ? run_case(c, gdir) : "unreadable case";
        gt++;
        if (!why) gp++;
        else {
          if (!listed(groups[g], files[f])) {
            unlisted++;
            cr_log_error("not passed: %s/%s[%zu]: %s", groups[g], files[f], i, why);
          }
          json_t *je = json_object_get(c, "expr");
          fprintf(fails, "%s/%s[%zu]: %s\n    expr: %.300s\n", groups[g], files[f], i, why,
                  json_is_string(je) ? json_string_value(je) : "(expr-file)");
        }
      }
      json_decref(doc);
      free(files[f]);
    }
    free(files);
    cr_log_info("%-32s %3d / %3d", groups[g], gp, gt);
    total += gt;
    passed += gp;
    free(groups[g]);
  }
  free(groups);
  fprintf(fails, "passed %d of %d\n", passed, total);
  fclose(fails);
  cr_log_info("JSONata suite: passed %d of %d", passed, total);
  cr_assert_geq(passed, PASS_FLOOR, "passed %d of %d (floor %d)", passed, total, PASS_FLOOR);
  cr_assert_eq(unlisted, 0, "%d cases not passed and not listed in NOT_PASSED", unlisted);
}
