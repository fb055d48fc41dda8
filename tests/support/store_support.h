/* Helpers for tests of stores: temporary directories, opening a store of
 * either kind, and reading records back as JSON for assertions. */
#ifndef WF_TEST_STORE_SUPPORT_H
#define WF_TEST_STORE_SUPPORT_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static inline void wst_rmdir(char *dir) {
  nftw(dir, wst_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

/* "<dir>/<name>" (free()). */
static inline char *wst_path(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* Open a store of `kind` ("memory" or "sqlite", the latter at
 * <dir>/store.db), asserting success. */
static inline wf_store *wst_open(const char *kind, const char *dir,
                                 const wf_store_options *opts) {
  wf_store *s = NULL;
  wf_error err;
  int rc;
  if (strcmp(kind, "memory") == 0) {
    rc = wf_store_memory_new(&s, opts, &err);
  } else {
    char *path = wst_path(dir, "store.db");
    rc = wf_store_sqlite_open(&s, path, opts, &err);
    free(path);
  }
  cr_assert_eq(rc, WF_OK, "opening a %s store: %s", kind, err.message);
  return s;
}

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
