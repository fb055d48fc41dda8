/* A local object store for tests: a temporary root with buckets as
 * directories, objects written as files, all removed at the end. */
#ifndef WF_TEST_OBJSTORE_SUPPORT_H
#define WF_TEST_OBJSTORE_SUPPORT_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fanout_support.h"
#include "support.h"

typedef struct wfo_root {
  char path[64];
} wfo_root;

static inline void wfo_root_init(wfo_root *r) {
  snprintf(r->path, sizeof r->path, "/tmp/wf-objstore-XXXXXX");
  cr_assert_not_null(mkdtemp(r->path));
}

/* ROOT/rel (its directories made), holding `len` bytes of data. */
static inline void wfo_put(const wfo_root *r, const char *rel,
                           const char *data, size_t len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", r->path, rel);
  for (char *s = path + strlen(r->path) + 1; (s = strchr(s, '/')); s++) {
    *s = '\0';
    mkdir(path, 0777);
    *s = '/';
  }
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot write %s", path);
  cr_assert_eq(fwrite(data, 1, len, f), len);
  fclose(f);
}

static inline void wfo_puts(const wfo_root *r, const char *rel,
                            const char *text) {
  wfo_put(r, rel, text, strlen(text));
}

static inline void wfo_mkdir(const wfo_root *r, const char *rel) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", r->path, rel);
  cr_assert_eq(mkdir(path, 0777), 0, "mkdir %s", path);
}

/* The file ROOT/rel as a string (free()), NULL when absent. */
static inline char *wfo_get(const wfo_root *r, const char *rel) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", r->path, rel);
  return wft_read_file(path, NULL);
}

/* An engine (wfx_engine) serving the object store at r. */
static inline wf_engine *wfo_engine(const wfo_root *r) {
  wf_engine *e = wfx_engine(0, NULL);
  wf_object_store_options o = WF_OBJECT_STORE_OPTIONS_INIT;
  o.root = r->path;
  wf_error err;
  cr_assert_eq(wf_engine_set_object_store(e, &o, &err), WF_OK, "%s",
               err.message);
  return e;
}

static inline int wfo_rm_one(const char *p, const struct stat *sb, int type,
                             struct FTW *ftw) {
  (void)sb;
  (void)type;
  (void)ftw;
  return remove(p);
}

static inline void wfo_root_free(wfo_root *r) {
  nftw(r->path, wfo_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
