/* Helpers for the tests that load the test plugins (test_plugin.c,
 * test_log.c, test_allowlist.c): private directories to install plugins
 * into, a collecting log sink, and an engine on a virtual clock.
 * Header-only (static inline), public API and jansson only. */
#ifndef TP_SUPPORT_H
#define TP_SUPPORT_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_support.h"
#include "tp_control.h"
#include "workflow/plugin.h"
#include "workflow/workflow.h"

/* Private directories live here, under the build tree. */
#define TP_TMP_BASE WF_BINARY_DIR "/tests/tp-tmp"

/* A new directory TP_TMP_BASE/<tag>-XXXXXX with mode 0755 (set with chmod,
 * so the umask plays no part), its path in out. */
static inline void tp_mkdtemp(char out[PATH_MAX], const char *tag) {
  mkdir(WF_BINARY_DIR "/tests", 0755);
  mkdir(TP_TMP_BASE, 0755);
  snprintf(out, PATH_MAX, TP_TMP_BASE "/%s-XXXXXX", tag);
  cr_assert_not_null(mkdtemp(out), "mkdtemp %s: %s", out, strerror(errno));
  cr_assert_eq(chmod(out, 0755), 0);
}

/* printf into a new string (free()). */
__attribute__((format(printf, 1, 2))) static inline char *tp_strf(
    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  cr_assert_geq(n, 0);
  return s;
}

/* mkdir with exactly `mode`. */
static inline void tp_mkdir(const char *path, mode_t mode) {
  cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s: %s", path, strerror(errno));
  cr_assert_eq(chmod(path, mode), 0);
}

static inline void tp_chmod(const char *path, mode_t mode) {
  cr_assert_eq(chmod(path, mode), 0, "chmod %s: %s", path, strerror(errno));
}

/* Write a file with exactly `mode`. */
static inline void tp_write_file(const char *path, const void *data,
                                 size_t len, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
  cr_assert_eq(write(fd, data, len), (ssize_t)len);
  cr_assert_eq(fchmod(fd, mode), 0);
  close(fd);
}

/* Copy the test plugin `name` (e.g. "tp_good") into dir as "<name>.so",
 * mode 0755. Returns the new path (free()). Skips the test when the test
 * plugins were not built. */
static inline char *tp_install(const char *dir, const char *name) {
#ifndef WF_TEST_PLUGIN_DIR
  (void)dir, (void)name;
  cr_skip_test("the test plugins are not built (WF_BUILD_PLUGINS=OFF)");
  return NULL;
#else
  char src[PATH_MAX];
  snprintf(src, sizeof src, WF_TEST_PLUGIN_DIR "/%s.so", name);
  FILE *f = fopen(src, "rb");
  cr_assert_not_null(f, "test plugin %s: %s", src, strerror(errno));
  char *data = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      data = realloc(data, cap);
      cr_assert_not_null(data);
    }
    size_t r = fread(data + len, 1, cap - len, f);
    if (!r) break;
    len += r;
  }
  fclose(f);
  char *dst = tp_strf("%s/%s.so", dir, name);
  tp_write_file(dst, data, len, 0755);
  free(data);
  return dst;
#endif
}

static int tp_rm_entry(const char *path, const struct stat *st, int flag,
                       struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

/* Remove a directory tree made by a test (nothing followed through links). */
static inline void tp_rmtree(const char *dir) {
  if (dir && *dir) nftw(dir, tp_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- a log sink that keeps every line ---------------------------------- */

typedef struct tp_lines {
  pthread_mutex_t mu;
  char **v;
  size_t n, cap;
} tp_lines;

static inline void tp_lines_cb(const char *line, void *payload) {
  tp_lines *l = payload;
  pthread_mutex_lock(&l->mu);
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = strdup(line);
  pthread_mutex_unlock(&l->mu);
}

static inline void tp_lines_clear(tp_lines *l) {
  pthread_mutex_lock(&l->mu);
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
  pthread_mutex_unlock(&l->mu);
}

/* A log line as JSON: one object, no duplicate member (new reference). */
static inline json_t *tp_parse_line(const char *line) {
  json_error_t je;
  json_t *v = json_loads(line, JSON_REJECT_DUPLICATES, &je);
  cr_assert_not_null(v, "log line is not one JSON object without duplicate "
                        "members (%s): %s", je.text, line);
  cr_assert(json_is_object(v), "log line is not an object: %s", line);
  return v;
}

/* Every line so far, parsed, as a JSON array (new reference). */
static inline json_t *tp_lines_json(tp_lines *l) {
  json_t *a = json_array();
  pthread_mutex_lock(&l->mu);
  for (size_t i = 0; i < l->n; i++)
    json_array_append_new(a, tp_parse_line(l->v[i]));
  pthread_mutex_unlock(&l->mu);
  return a;
}

/* The lines whose string member `key` equals `value` (new reference). */
static inline json_t *tp_where(const json_t *lines, const char *key,
                               const char *value) {
  json_t *out = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(lines, i, v) {
    const char *s = json_string_value(json_object_get(v, key));
    if (s && strcmp(s, value) == 0) json_array_append(out, v);
  }
  return out;
}

/* The only line with this event (asserted; borrowed from lines). */
static inline json_t *tp_one_event(const json_t *lines, const char *event) {
  json_t *found = NULL, *v;
  size_t n = 0, i;
  json_array_foreach(lines, i, v) {
    const char *s = json_string_value(json_object_get(v, "event"));
    if (s && strcmp(s, event) == 0) {
      found = v;
      n++;
    }
  }
  cr_assert_eq(n, 1, "%zu lines with event %s", n, event);
  return found;
}

static inline const char *tp_str(const json_t *obj, const char *key) {
  return json_string_value(json_object_get(obj, key));
}

/* ---- an engine on a virtual clock, logging into a tp_lines ------------- */

typedef struct tp_env {
  wf_clock *clock;
  wf_engine *engine;
  tp_lines lines;
  char dir[PATH_MAX];  /* a private plugin directory, trusted */
  tp_control ctl[2];   /* control blocks for the plugins of a test */
} tp_env;

/* Create the clock (at WFT_T0), the engine (history on, every line of
 * INFO and above into env->lines unless opts says otherwise) and a private
 * plugin directory the engine trusts. */
static inline void tp_env_init(tp_env *env, const wf_engine_options *opts) {
  pthread_mutex_init(&env->lines.mu, NULL);
  for (int i = 0; i < 2; i++) {
    memset(&env->ctl[i], 0, sizeof env->ctl[i]);
    pthread_mutex_init(&env->ctl[i].mu, NULL);
    pthread_cond_init(&env->ctl[i].cv, NULL);
  }
  cr_assert_eq(wf_clock_virtual_new(&env->clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  if (opts) o = *opts;
  o.clock = env->clock;
  if (!o.log) {
    o.log = tp_lines_cb;
    o.log_payload = &env->lines;
  }
  env->engine = wft_engine(&o);
  tp_mkdtemp(env->dir, "plugins");
  wf_error err;
  cr_assert_eq(wf_engine_add_plugin_dir(env->engine, env->dir, &err), WF_OK,
               "%s", err.message);
}

/* Free what tp_env_init made; safe on a zeroed or half-made env. */
static inline void tp_env_fini(tp_env *env) {
  wf_engine_free(env->engine);
  env->engine = NULL;
  wf_clock_free(env->clock);
  env->clock = NULL;
  tp_lines_clear(&env->lines);
  tp_rmtree(env->dir);
  env->dir[0] = '\0';
}

/* The configuration text naming a control block, with extra members
 * ("\"suffix\":\"A\"" or ""). */
static inline void tp_config(char *buf, size_t n, tp_control *c,
                             const char *extra) {
  snprintf(buf, n, "{\"control\":\"%p\"%s%s}", (void *)c,
           extra && *extra ? "," : "", extra ? extra : "");
}

/* Load a plugin, asserting success. */
static inline wf_plugin *tp_load(wf_engine *e, const char *path,
                                 const char *config) {
  wf_plugin *p = NULL;
  wf_error err;
  int rc = wf_engine_load_plugin(&p, e, path, config, &err);
  cr_assert_eq(rc, WF_OK, "loading %s: %s: %s", path, wf_error_name(rc),
               err.message);
  cr_assert_not_null(p);
  return p;
}

/* Install the test plugin `name` (tests/plugins/<name>.c) into `dir` and
 * load it with `config`, asserting success. */
static inline wf_plugin *tp_install_load(wf_engine *e, const char *dir,
                                         const char *name,
                                         const char *config) {
  char *path = tp_install(dir, name);
  wf_plugin *p = tp_load(e, path, config);
  free(path);
  return p;
}

/* One Task state on `resource`, optionally with extra members. */
static inline wf_machine *tp_task_machine(const char *resource,
                                          const char *extra) {
  char def[1024];
  snprintf(def, sizeof def,
           "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
           "\"Resource\":\"%s\"%s%s,\"End\":true}}}",
           resource, extra && *extra ? "," : "", extra ? extra : "");
  return wft_load(def);
}

/* Run one Task on `resource` and return the finished execution. */
static inline wf_execution *tp_run_task(wf_engine *e, const char *resource,
                                        const char *input) {
  wf_machine *m = tp_task_machine(resource, NULL);
  wf_execution *x = wft_run(e, m, input, NULL);
  wf_machine_free(m);
  return x;
}

/* A Task on `resource` succeeds with `output` (NULL: any output). */
static inline void tp_assert_served(wf_engine *e, const char *resource,
                                    const char *input, const char *output) {
  wf_execution *x = tp_run_task(e, resource, input);
  wft_assert_succeeded(x, output);
  wf_execution_free(x);
}

/* A Task on `resource` fails as AWS fails a Lambda function nobody serves. */
static inline void tp_assert_unknown(wf_engine *e, const char *resource) {
  wf_execution *x = tp_run_task(e, resource, NULL);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED,
               "%s is still served: %s", resource,
               wf_execution_output(x) ? wf_execution_output(x) : "(null)");
  cr_assert_str_eq(wf_execution_error(x), "Lambda.ResourceNotFoundException");
  cr_assert_not_null(strstr(wf_execution_cause(x), resource), "%s",
                     wf_execution_cause(x));
  wf_execution_free(x);
}

#endif
