/* wf-jsonata-bench: evaluates each expression of
 * ../shared/bench/jsonata/expressions.json against its data.json with
 * libworkflow's JSONata engine, as that directory's run.mjs does with
 * jsonata-js: `$states` bound to data.json's `states`, the context value
 * `$states.input`, each expression compiled once outside the timed region,
 * and only evaluation timed (a first evaluation gives the value, 200 more
 * warm up, then batches of 50 until --seconds have passed). Prints one JSON
 * line per case and a geometric mean, in run.mjs's shape:
 *   {"case":NAME,"engine":"libworkflow","evaluations":N,"seconds":S,
 *    "per_second":P,"result_sha":H}
 *   {"case":"ALL","engine":"libworkflow","cases":N,"geomean_per_second":G}
 *
 *   wf-jsonata-bench [--dir DIR] [--seconds S] [--show] [--expect FILE]
 *                    [CASE...]
 *
 * result_sha is run.mjs's: the first 16 hex digits of the SHA-256 of the
 * result as JSON.stringify writes it ("undefined" when there is none).
 * --show adds "result". --expect FILE reads `node run.mjs --show`'s lines
 * and adds "equal" (the results compared as JSON values, numbers by value)
 * and "sha_equal" to each case; the exit status is then 1 if any differs.
 * Evaluation time includes turning the result into jansson values (what
 * wf__jsonata_eval returns) and freeing them.
 */
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonata.h"

#ifndef WF_JSONATA_BENCH_DIR
#define WF_JSONATA_BENCH_DIR "../shared/bench/jsonata"
#endif

/* Seconds on the monotonic clock (performance.now() in run.mjs). */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --- JSON text as JavaScript's JSON.stringify writes it --- */

typedef struct text {
  char *s;
  size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + n + 1) cap *= 2;
    char *m = realloc(t->s, cap);
    if (!m) {
      fprintf(stderr, "out of memory\n");
      exit(2);
    }
    t->s = m;
    t->cap = cap;
  }
  memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

static void puts_(text *t, const char *s) { put(t, s, strlen(s)); }

/* Number.prototype.toString: the shortest digits that read back as d,
 * without an exponent from 1e-6 up to 1e21. */
static void put_number(text *t, double d) {
  char out[64];
  if (!isfinite(d)) {
    puts_(t, "null");
    return;
  }
  if (d == 0) {
    puts_(t, "0");
    return;
  }
  char e[40];
  int prec;
  for (prec = 1; prec < 17; prec++) {
    snprintf(e, sizeof e, "%.*e", prec - 1, d);
    if (strtod(e, NULL) == d) break;
  }
  snprintf(e, sizeof e, "%.*e", prec - 1, d);
  char dig[24];
  int k = 0;
  const char *p = e;
  bool neg = *p == '-';
  if (neg) p++;
  for (; *p != 'e'; p++)
    if (*p != '.') dig[k++] = *p;
  while (k > 1 && dig[k - 1] == '0') k--;
  int n = atoi(p + 1) + 1; /* the decimal point after n digits */
  int o = 0;
  if (neg) out[o++] = '-';
  if (k <= n && n <= 21) {
    memcpy(out + o, dig, (size_t)k);
    o += k;
    while (k++ < n) out[o++] = '0';
  } else if (0 < n && n <= 21) {
    memcpy(out + o, dig, (size_t)n);
    o += n;
    out[o++] = '.';
    memcpy(out + o, dig + n, (size_t)(k - n));
    o += k - n;
  } else if (-6 < n && n <= 0) {
    out[o++] = '0';
    out[o++] = '.';
    for (int i = 0; i < -n; i++) out[o++] = '0';
    memcpy(out + o, dig, (size_t)k);
    o += k;
  } else {
    out[o++] = dig[0];
    if (k > 1) {
      out[o++] = '.';
      memcpy(out + o, dig + 1, (size_t)(k - 1));
      o += k - 1;
    }
    o += snprintf(out + o, sizeof out - (size_t)o, "e%c%d", n - 1 < 0 ? '-' : '+',
                  abs(n - 1));
  }
  put(t, out, (size_t)o);
}

static void put_string(text *t, const char *s, size_t n) {
  put(t, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    switch (c) {
    case '"': puts_(t, "\\\""); break;
    case '\\': puts_(t, "\\\\"); break;
    case '\b': puts_(t, "\\b"); break;
    case '\f': puts_(t, "\\f"); break;
    case '\n': puts_(t, "\\n"); break;
    case '\r': puts_(t, "\\r"); break;
    case '\t': puts_(t, "\\t"); break;
    default:
      if (c < 0x20) {
        snprintf(esc, sizeof esc, "\\u%04x", c);
        puts_(t, esc);
      } else {
        put(t, (const char *)&s[i], 1);
      }
    }
  }
  put(t, "\"", 1);
}

/* An array index as JavaScript orders object keys: a canonical decimal
 * below 2^32 - 1. */
static bool index_key(const char *k, double *out) {
  size_t n = strlen(k);
  if (n == 0 || n > 10 || (n > 1 && k[0] == '0')) return false;
  double v = 0;
  for (size_t i = 0; i < n; i++) {
    if (k[i] < '0' || k[i] > '9') return false;
    v = v * 10 + (k[i] - '0');
  }
  if (v >= 4294967295.0) return false;
  *out = v;
  return true;
}

static void stringify(text *t, const json_t *j) {
  switch (json_typeof(j)) {
  case JSON_NULL: puts_(t, "null"); break;
  case JSON_TRUE: puts_(t, "true"); break;
  case JSON_FALSE: puts_(t, "false"); break;
  case JSON_INTEGER: put_number(t, (double)json_integer_value(j)); break;
  case JSON_REAL: put_number(t, json_real_value(j)); break;
  case JSON_STRING: put_string(t, json_string_value(j), json_string_length(j)); break;
  case JSON_ARRAY: {
    put(t, "[", 1);
    for (size_t i = 0; i < json_array_size(j); i++) {
      if (i) put(t, ",", 1);
      stringify(t, json_array_get(j, i));
    }
    put(t, "]", 1);
    break;
  }
  case JSON_OBJECT: {
    /* Integer-like keys first, ascending; then the rest as inserted. */
    size_t n = json_object_size(j), m = 0;
    const char **keys = malloc((n + 1) * sizeof *keys);
    double *idx = malloc((n + 1) * sizeof *idx);
    if (!keys || !idx) {
      fprintf(stderr, "out of memory\n");
      exit(2);
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
      double x;
      if (!index_key(k, &x)) continue;
      size_t at = m++;
      while (at > 0 && idx[at - 1] > x) {
        idx[at] = idx[at - 1];
        keys[at] = keys[at - 1];
        at--;
      }
      idx[at] = x;
      keys[at] = k;
    }
    json_object_foreach((json_t *)j, k, v) {
      double x;
      if (!index_key(k, &x)) keys[m++] = k;
    }
    put(t, "{", 1);
    for (size_t i = 0; i < m; i++) {
      if (i) put(t, ",", 1);
      put_string(t, keys[i], strlen(keys[i]));
      put(t, ":", 1);
      stringify(t, json_object_get(j, keys[i]));
    }
    put(t, "}", 1);
    free(keys);
    free(idx);
    break;
  }
  }
}

static void result_sha(const json_t *r, char out[17]) {
  text t = {0};
  if (r) stringify(&t, r);
  else puts_(&t, "undefined");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (!EVP_Digest(t.s, t.len, md, &mdlen, EVP_sha256(), NULL)) {
    fprintf(stderr, "sha256 failed\n");
    exit(2);
  }
  for (int i = 0; i < 8; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
  free(t.s);
}

/* --- JSON values compared as values: numbers by value, members in any
 * order; undefined as run.mjs shows it (null) --- */

static bool same_value(const json_t *a, const json_t *b) {
  if (!a) a = json_null();
  if (!b) b = json_null();
  if (json_is_number(a) && json_is_number(b))
    return json_number_value(a) == json_number_value(b);
  if (json_typeof(a) != json_typeof(b)) return false;
  switch (json_typeof(a)) {
  case JSON_STRING:
    return json_string_length(a) == json_string_length(b) &&
           !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
  case JSON_ARRAY:
    if (json_array_size(a) != json_array_size(b)) return false;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!same_value(json_array_get(a, i), json_array_get(b, i))) return false;
    return true;
  case JSON_OBJECT: {
    if (json_object_size(a) != json_object_size(b)) return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) {
      json_t *w = json_object_get(b, k);
      if (!w || !same_value(v, w)) return false;
    }
    return true;
  }
  default: return true; /* null, true, false: the types matched */
  }
}

/* --- the benchmark --- */

static json_t *load(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  if (!j) {
    fprintf(stderr, "%s:%d: %s\n", path, je.line, je.text);
    exit(2);
  }
  return j;
}

/* The reference's lines (`node run.mjs --show`), by case name. */
static json_t *load_expected(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(2);
  }
  json_t *by_case = json_object();
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    json_t *j = json_loads(line, 0, NULL);
    const char *name = json_string_value(json_object_get(j, "case"));
    if (name && json_object_get(j, "result")) json_object_set(by_case, name, j);
    json_decref(j);
  }
  free(line);
  fclose(f);
  return by_case;
}

static void usage(void) {
  fprintf(stderr, "usage: wf-jsonata-bench [--dir DIR] [--seconds S] [--show] "
                  "[--expect FILE] [CASE...]\n");
  exit(2);
}

static bool eval_once(const wf__jsonata *e, json_t *input,
                      const wf__jsonata_bindings *b, json_t **out,
                      wf__jsonata_error *err) {
  return wf__jsonata_eval(out, e, input, b, NULL, err) == 0;
}

int main(int argc, char **argv) {
  const char *dir = WF_JSONATA_BENCH_DIR, *expect_path = NULL;
  double budget = 1.0;
  bool show = false;
  const char **only = calloc((size_t)argc, sizeof *only);
  int nonly = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) budget = atof(argv[++i]);
    else if (!strcmp(argv[i], "--show")) show = true;
    else if (!strcmp(argv[i], "--expect") && i + 1 < argc) expect_path = argv[++i];
    else if (argv[i][0] == '-') usage();
    else only[nonly++] = argv[i];
  }
  json_t *spec = load(dir, "expressions.json");
  const char *data_name = json_string_value(json_object_get(spec, "data"));
  json_t *data = load(dir, data_name ? data_name : "data.json");
  json_t *expected = expect_path ? load_expected(expect_path) : NULL;
  /* As in a JSONata state: $states is bound the way the engine binds it
   * (a record of its members, made when first looked up); the context
   * value is $states.input. */
  json_t *states = json_object_get(data, "states");
  json_t *input = json_object_get(states, "input");
  struct wf__jsonata_member members[8];
  size_t nmembers = 0;
  const char *key;
  json_t *member;
  json_object_foreach(states, key, member) {
    if (nmembers == sizeof members / sizeof *members) {
      fprintf(stderr, "wf-jsonata-bench: $states has more than %zu members\n",
              nmembers);
      return 2;
    }
    members[nmembers++] = (struct wf__jsonata_member){.name = key, .value = member};
  }
  wf__jsonata_bindings bindings = {.record = "states", .members = members,
                                   .nrecord = nmembers};

  double log_sum = 0;
  int n = 0, failed = 0;
  size_t ci;
  json_t *c;
  json_array_foreach(json_object_get(spec, "cases"), ci, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *src = json_string_value(json_object_get(c, "expr"));
    if (!name || !src) continue;
    if (nonly) {
      bool want = false;
      for (int i = 0; i < nonly; i++) want = want || !strcmp(only[i], name);
      if (!want) continue;
    }
    wf__jsonata *e = NULL;
    wf__jsonata_error err;
    json_t *first = NULL, *r = NULL;
    if (wf__jsonata_compile(&e, src, strlen(src), &err) != 0 ||
        !eval_once(e, input, &bindings, &first, &err)) {
      json_t *line = json_pack("{sssssssiss}", "case", name, "engine", "libworkflow",
                               "error", err.code, "position", err.position,
                               "message", err.message);
      char *s = json_dumps(line, JSON_COMPACT);
      printf("%s\n", s);
      free(s);
      json_decref(line);
      wf__jsonata_free(e);
      failed++;
      continue;
    }
    for (int i = 0; i < 200; i++) {
      if (!eval_once(e, input, &bindings, &r, &err)) goto failed_late;
      json_decref(r);
    }
    long evals = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < budget) {
      for (int i = 0; i < 50; i++) {
        if (!eval_once(e, input, &bindings, &r, &err)) goto failed_late;
        json_decref(r);
      }
      evals += 50;
      t = now_s();
    }
    double seconds = t - t0, per = (double)evals / seconds;
    char sha[17];
    result_sha(first, sha);
    json_t *line = json_pack("{sssssIsfsIss}", "case", name, "engine", "libworkflow",
                             "evaluations", (json_int_t)evals, "seconds",
                             round(seconds * 10000) / 10000, "per_second",
                             (json_int_t)llround(per), "result_sha", sha);
    if (show) json_object_set(line, "result", first ? first : json_null());
    if (expected) {
      json_t *ref = json_object_get(expected, name);
      bool eq = ref && same_value(first, json_object_get(ref, "result"));
      const char *ref_sha = json_string_value(json_object_get(ref, "result_sha"));
      bool sha_eq = ref_sha && !strcmp(ref_sha, sha);
      /* run.mjs shows undefined as null: the sha tells them apart. */
      if (eq && json_is_null(json_object_get(ref, "result")) && !sha_eq) eq = false;
      json_object_set_new(line, "equal", json_boolean(eq));
      json_object_set_new(line, "sha_equal", json_boolean(sha_eq));
      if (!eq) failed++;
    }
    char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(line);
    json_decref(first);
    wf__jsonata_free(e);
    log_sum += log(per);
    n++;
    continue;
  failed_late:
    fprintf(stderr, "%s: %s %s\n", name, err.code, err.message);
    json_decref(first);
    wf__jsonata_free(e);
    failed++;
  }
  printf("{\"case\":\"ALL\",\"engine\":\"libworkflow\",\"cases\":%d,"
         "\"geomean_per_second\":%.0f}\n",
         n, n ? exp(log_sum / n) : 0.0);
  json_decref(expected);
  json_decref(data);
  json_decref(spec);
  free(only);
  return failed ? 1 : 0;
}
