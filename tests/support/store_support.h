/* Helpers for tests of stores: temporary directories, opening a store of
 * any kind, and reading records back as JSON for assertions. */
#ifndef WF_TEST_STORE_SUPPORT_H
#define WF_TEST_STORE_SUPPORT_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_support.h"
#include "workflow/workflow.h"

/* A fresh directory under /tmp (free() the path; wst_rmdir removes it). */
static inline char *wst_tmpdir(void) {
  char *dir = strdup("/tmp/wf-store-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  return dir;
}

static inline int wst_rm_entry(const char *path, const struct stat *st,
                               int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* The PostgreSQL database of a test directory: its name ("wf-store-..."),
 * marked by a file "postgres" in it once created. */
static inline const char *wst_pg_name(const char *dir) {
  const char *slash = strrchr(dir, '/');
  return slash ? slash + 1 : dir;
}

static inline char *wst_pg_marker(const char *dir) {
  size_t n = strlen(dir) + sizeof "/postgres";
  char *p = malloc(n);
  snprintf(p, n, "%s/postgres", dir);
  return p;
}

/* Remove the directory, and drop the PostgreSQL database of it if a
 * store was opened there. */
static inline void wst_rmdir(char *dir) {
  char *marker = wst_pg_marker(dir);
  if (access(marker, F_OK) == 0) wpg_drop(wst_pg_name(dir));
  free(marker);
  nftw(dir, wst_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

/* The connection string of the test directory's PostgreSQL database
 * (free()), created on first use; skips the test when there is no
 * server (it says why). */
static inline char *wst_pg_conninfo(const char *dir) {
  const char *why;
  if (!wpg_server(&why)) {
    rmdir(dir);
    cr_skip_test("%s", why);
  }
  char *marker = wst_pg_marker(dir);
  bool fresh = access(marker, F_OK) != 0;
  char *conninfo = wpg_database(wst_pg_name(dir), fresh);
  cr_assert_not_null(conninfo, "cannot create the test's database");
  if (fresh) {
    FILE *f = fopen(marker, "w");
    cr_assert_not_null(f);
    fclose(f);
  }
  free(marker);
  return conninfo;
}

/* "<dir>/<name>" (free()). */
static inline char *wst_path(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* Open a store of `kind` ("memory", "sqlite" at <dir>/store.db, or
 * "postgres" in the directory's database), asserting success. */
static inline wf_store *wst_open(const char *kind, const char *dir,
                                 const wf_store_options *opts) {
  wf_store *s = NULL;
  wf_error err;
  int rc;
  if (strcmp(kind, "memory") == 0) {
    rc = wf_store_memory_new(&s, opts, &err);
  } else if (strcmp(kind, "postgres") == 0) {
    char *conninfo = wst_pg_conninfo(dir);
    wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
    po.store = opts;
    rc = wf_store_postgres_open(&s, conninfo, &po, &err);
    free(conninfo);
  } else {
    char *path = wst_path(dir, "store.db");
    rc = wf_store_sqlite_open(&s, path, opts, &err);
    free(path);
  }
  cr_assert_eq(rc, WF_OK, "opening a %s store: %s", kind, err.message);
  return s;
}

/* A test run once on each backend of `kinds`, an array of wst_kind (the
 * test sees its own as p->kind). */
typedef struct wst_kind {
  char kind[12];
} wst_kind;

#define WST_OVER(kinds, suite, test)                                        \
  ParameterizedTestParameters(suite, test) {                                \
    return cr_make_param_array(wst_kind, kinds,                             \
                               sizeof kinds / sizeof *kinds);               \
  }                                                                         \
  ParameterizedTest(wst_kind *p, suite, test)

/* ---- records as JSON ---- */

static inline json_t *wst_str(const char *s) {
  return s ? json_string(s) : json_null();
}

static inline int wst_add_execution(const wf_store_execution *x, void *p) {
  json_array_append_new(
      p, json_pack("{s:o,s:o,s:o,s:o,s:o,s:i,s:I,s:I,s:o,s:o,s:o,s:o,s:I,"
                   "s:o,s:I}",
                   "arn", wst_str(x->arn), "name", wst_str(x->name),
                   "machine", wst_str(x->machine_name), "machineArn",
                   wst_str(x->machine_arn), "definition",
                   wst_str(x->definition_id), "status", x->status, "start",
                   (json_int_t)x->start_ms, "stop", (json_int_t)x->stop_ms,
                   "input", wst_str(x->input), "output", wst_str(x->output),
                   "error", wst_str(x->error), "cause", wst_str(x->cause),
                   "events", (json_int_t)x->event_count, "state",
                   wst_str(x->state), "seq", (json_int_t)x->seq));
  return 0;
}

static inline int wst_add_event(const wf_store_event *e, void *p) {
  json_array_append_new(p, json_pack("{s:I,s:I,s:I,s:o,s:o}", "id",
                                     (json_int_t)e->id, "prev",
                                     (json_int_t)e->previous_id, "ts",
                                     (json_int_t)e->timestamp_ms, "type",
                                     wst_str(e->type), "json",
                                     wst_str(e->json)));
  return 0;
}

/* The history's event types in order ("A,B,C"), from the store, asserting
 * ids 1..n without gaps or repeats (free()). */
static inline char *wst_types(wf_store *s, const char *arn) {
  json_t *a = json_array();
  wf_error err;
  cr_assert_eq(wf_store_read_events(s, arn, 0, false, 0, wst_add_event, a,
                                    &err),
               WF_OK, "%s", err.message);
  char buf[8192] = "";
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    cr_assert_eq(json_integer_value(json_object_get(v, "id")),
                 (json_int_t)i + 1, "event ids are not contiguous");
    if (i) strncat(buf, ",", sizeof buf - strlen(buf) - 1);
    strncat(buf, json_string_value(json_object_get(v, "type")),
            sizeof buf - strlen(buf) - 1);
  }
  json_decref(a);
  return strdup(buf);
}

static inline int wst_add_document(const wf_store_document *d, void *p) {
  json_array_append_new(p, json_pack("{s:o,s:o,s:o,s:I}", "kind",
                                     wst_str(d->kind), "key", wst_str(d->key),
                                     "body", wst_str(d->body), "seq",
                                     (json_int_t)d->seq));
  return 0;
}

/* The execution with this ARN as JSON, or NULL when the store has none. */
static inline json_t *wst_execution(wf_store *s, const char *arn) {
  json_t *a = json_array();
  wf_error err;
  int rc = wf_store_get_execution(s, arn, wst_add_execution, a, &err);
  json_t *x = rc == WF_OK ? json_incref(json_array_get(a, 0)) : NULL;
  if (rc != WF_OK) cr_assert_eq(rc, WF_ENOTFOUND, "%s", err.message);
  json_decref(a);
  return x;
}

#endif
