/* Handler plugins (include/workflow/plugin.h, the plugin side in
 * handler.h): loading a good plugin and its configuration, every refusal
 * (another ABI, no entry point, failing init, a resource already served,
 * bad configuration) with an error naming the file and the reason and
 * nothing left registered, the trusted directories (paths outside them,
 * symbolic links and ".." escapes, files and directories others can
 * write), delayed completion on the engine's clock, and unloading while
 * calls run. The plugins are tests/plugins/tp_*.c. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugins/tp_support.h"
#include "workflow/plugin.h"
#include "workflow/workflow.h"

static tp_env env;
/* A second private directory, not trusted, for escapes. */
static char outside[PATH_MAX];

static void setup(void) {
  memset(&env, 0, sizeof env);
  outside[0] = '\0';
}

static void teardown(void) {
  tp_env_fini(&env);
  tp_rmtree(outside);
}

TestSuite(plugin, .init = setup, .fini = teardown);

/* The resolved path of a file (free()). */
static char *resolved(const char *path) {
  char *rp = realpath(path, NULL);
  cr_assert_not_null(rp, "realpath %s", path);
  return rp;
}

/* A refused load: the code, no plugin, and a message naming the file
 * (as given) and containing each of the NULL-terminated reasons. */
static void assert_refused(const char *path, const char *config, int code,
                           ...) {
  wf_plugin *p = (wf_plugin *)&p; /* not NULL: the call must clear it */
  wf_error err;
  memset(&err, 0, sizeof err);
  int rc = wf_engine_load_plugin(&p, env.engine, path, config, &err);
  cr_assert_eq(rc, code, "loading %s: expected %s, got %s: %s", path,
               wf_error_name(code), wf_error_name(rc), err.message);
  cr_assert_eq(err.code, code);
  cr_assert_null(p);
  cr_assert_not_null(strstr(err.message, path),
                     "the message does not name the file %s: %s", path,
                     err.message);
  va_list ap;
  va_start(ap, code);
  for (const char *r; (r = va_arg(ap, const char *));)
    cr_assert_not_null(strstr(err.message, r),
                       "the message does not say \"%s\": %s", r, err.message);
  va_end(ap);
}

/* An engine on a virtual clock that trusts no plugin directory, and a
 * private directory env.dir named after `tag`. */
static void untrusted_env(const char *tag) {
  cr_assert_eq(wf_clock_virtual_new(&env.clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = env.clock;
  env.engine = wft_engine(&o);
  tp_mkdtemp(env.dir, tag);
}

/* A Task on `resource` (served by tp_good) answers with the configuration
 * of its load, whose member `key` is `n`. */
static void assert_config_member(const char *resource, const char *key,
                                 json_int_t n) {
  wf_execution *x = tp_run_task(env.engine, resource, NULL);
  json_t *out = wft_parse(wf_execution_output(x));
  cr_assert_eq(json_integer_value(json_object_get(
                   json_object_get(out, "config"), key)), n,
               "%s: %s", resource, wf_execution_output(x));
  json_decref(out);
  wf_execution_free(x);
}

/* Loading tp_dup at `dup` while tp_good serves TpEcho is refused with
 * WF_EEXIST naming that resource; `err` keeps the error. */
static void assert_dup_refused(const char *dup, const char *config,
                               wf_error *err) {
  wf_plugin *p = (wf_plugin *)&p; /* not NULL: the call must clear it */
  memset(err, 0, sizeof *err);
  int rc = wf_engine_load_plugin(&p, env.engine, dup, config, err);
  cr_assert_eq(rc, WF_EEXIST, "%s: %s", wf_error_name(rc), err->message);
  cr_assert_eq(err->code, WF_EEXIST);
  cr_assert_null(p);
  cr_assert_not_null(strstr(err->message, TP_FN "TpEcho"), "%s",
                     err->message);
}

/* ---- a good plugin ------------------------------------------------------ */

Test(plugin, loads_and_serves_both_handlers_with_its_configuration) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_good");
  char cfg[256];
  tp_config(cfg, sizeof cfg, &env.ctl[0],
            "\"greeting\":\"hi\",\"list\":[1,2.5,null]");
  wf_plugin *p = tp_load(env.engine, path, cfg);
  cr_assert_str_eq(wf_plugin_name(p), "tp-good");
  char *rp = resolved(path);
  cr_assert_str_eq(wf_plugin_path(p), rp);
  cr_assert_eq(tp_control_get(&env.ctl[0], &env.ctl[0].inits), 1);

  /* The exact, inline handler. */
  char *want = tp_strf(
      "{\"handler\":\"echo\",\"resource\":\"" TP_FN "TpEcho\","
      "\"state\":\"T\",\"config\":%s,\"input\":{\"x\":1}}", cfg);
  tp_assert_served(env.engine, TP_FN "TpEcho", "{\"x\":1}", want);
  free(want);

  /* The prefix handler, on the pool, for any resource under its prefix. */
  want = tp_strf("{\"handler\":\"prefix\",\"resource\":\"" TP_FN
                 "TpGood-Orders\",\"state\":\"T\",\"config\":%s,"
                 "\"input\":[true]}", cfg);
  tp_assert_served(env.engine, TP_FN "TpGood-Orders", "[true]", want);
  free(want);
  cr_assert_eq(tp_control_get(&env.ctl[0], &env.ctl[0].entered), 2);

  /* The load was logged, naming the plugin and its file. */
  json_t *lines = tp_lines_json(&env.lines);
  json_t *loaded = tp_one_event(lines, "PluginLoaded");
  cr_assert_str_eq(tp_str(loaded, "plugin"), "tp-good");
  cr_assert_str_eq(tp_str(loaded, "path"), rp);
  cr_assert_str_eq(tp_str(loaded, "level"), "INFO");
  json_decref(lines);

  wf_plugin_unload(p);
  cr_assert_eq(tp_control_get(&env.ctl[0], &env.ctl[0].finis), 1);
  lines = tp_lines_json(&env.lines);
  json_t *unloaded = tp_one_event(lines, "PluginUnloaded");
  cr_assert_str_eq(tp_str(unloaded, "path"), rp);
  json_decref(lines);
  tp_assert_unknown(env.engine, TP_FN "TpEcho");
  tp_assert_unknown(env.engine, TP_FN "TpGood-Orders");
  free(rp);
  free(path);
}

Test(plugin, null_configuration_is_an_empty_object) {
  tp_env_init(&env, NULL);
  tp_install_load(env.engine, env.dir, "tp_good", NULL);
  tp_assert_served(env.engine, TP_FN "TpEcho", NULL,
                   "{\"handler\":\"echo\",\"resource\":\"" TP_FN
                   "TpEcho\",\"state\":\"T\",\"config\":{},\"input\":{}}");
}

Test(plugin, each_load_has_its_own_configuration) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_good");
  char cfg_a[256], cfg_b[256];
  tp_config(cfg_a, sizeof cfg_a, &env.ctl[0], "\"suffix\":\"A\",\"n\":1");
  tp_config(cfg_b, sizeof cfg_b, &env.ctl[1], "\"suffix\":\"B\",\"n\":2");
  wf_plugin *a = tp_load(env.engine, path, cfg_a);
  wf_plugin *b = tp_load(env.engine, path, cfg_b);
  cr_assert_neq(a, b);

  assert_config_member(TP_FN "TpEchoA", "n", 1);
  assert_config_member(TP_FN "TpGoodB-x", "n", 2);

  /* Unloading one load leaves the other serving. */
  wf_plugin_unload(a);
  cr_assert_eq(tp_control_get(&env.ctl[0], &env.ctl[0].finis), 1);
  cr_assert_eq(tp_control_get(&env.ctl[1], &env.ctl[1].finis), 0);
  tp_assert_unknown(env.engine, TP_FN "TpEchoA");
  tp_assert_served(env.engine, TP_FN "TpEchoB", NULL, NULL);
  free(path);
}

Test(plugin, unloaded_plugin_can_be_loaded_again) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_good");
  for (int i = 0; i < 3; i++) {
    char cfg[128];
    snprintf(cfg, sizeof cfg, "{\"round\":%d}", i);
    wf_plugin *p = tp_load(env.engine, path, cfg);
    assert_config_member(TP_FN "TpEcho", "round", i);
    wf_plugin_unload(p);
    tp_assert_unknown(env.engine, TP_FN "TpEcho");
  }
  free(path);
}

Test(plugin, unload_null_is_a_no_op) { wf_plugin_unload(NULL); }

Test(plugin, register_handler_answers_from_init_and_after) {
  tp_env_init(&env, NULL);
  char cfg[128];
  tp_config(cfg, sizeof cfg, &env.ctl[0], "");
  tp_install_load(env.engine, env.dir, "tp_regcheck", cfg);
  const int *rc = env.ctl[0].rc;
  cr_assert_eq(rc[0], WF_EINVAL, "NULL resource: %s", wf_error_name(rc[0]));
  cr_assert_eq(rc[1], WF_EINVAL, "empty resource: %s", wf_error_name(rc[1]));
  cr_assert_eq(rc[2], WF_EINVAL, "no function: %s", wf_error_name(rc[2]));
  cr_assert_eq(rc[3], WF_EVERSION, "ops version 99: %s",
               wf_error_name(rc[3]));
  cr_assert_eq(rc[4], WF_OK);
  cr_assert_eq(rc[5], WF_EEXIST, "twice: %s", wf_error_name(rc[5]));
  /* The refused registrations left nothing behind. */
  tp_assert_unknown(env.engine, TP_FN "TpNoFn");
  tp_assert_unknown(env.engine, TP_FN "TpBadVersion");
  /* A registration once init has returned is refused. */
  char want[64];
  snprintf(want, sizeof want, "{\"late\":%d}", WF_ESTATE);
  tp_assert_served(env.engine, TP_FN "TpRegCheck", NULL, want);
  tp_assert_unknown(env.engine, TP_FN "TpLate");
}

/* ---- refusals ----------------------------------------------------------- */

Test(plugin, refuses_another_abi_major) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_abi2");
  assert_refused(path, NULL, WF_EABI, "plugin ABI 2.0", "provides 1.1",
                 NULL);
  free(path);
}

Test(plugin, refuses_a_newer_abi_minor) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_minor");
  char want[64];
  snprintf(want, sizeof want, "plugin ABI %d.%d", WF_PLUGIN_ABI_MAJOR,
           WF_PLUGIN_ABI_MINOR + 1);
  assert_refused(path, NULL, WF_EABI, want, NULL);
  free(path);
}

Test(plugin, refuses_a_missing_entry_point) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_noentry");
  assert_refused(path, NULL, WF_EABI, "no " WF_PLUGIN_ENTRY " entry point",
                 NULL);
  free(path);
}

Test(plugin, refuses_an_entry_point_without_descriptor) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_nodesc");
  assert_refused(path, NULL, WF_EABI, "no usable descriptor", NULL);
  free(path);
}

Test(plugin, refuses_a_failing_init_with_its_message) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_initfail");
  /* Its fini aborts: it must not run for a plugin whose init failed. */
  assert_refused(path, NULL, WF_EABI, "init failed", "WF_EIO",
                 "cannot reach the license server", NULL);
  free(path);
}

Test(plugin, failing_init_leaves_nothing_registered) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_regfail");
  assert_refused(path, NULL, WF_EABI, "init failed",
                 "setting 'mode' must be 'fast' or 'safe'", NULL);
  /* Its handler aborts if called: the Task finds nobody. */
  tp_assert_unknown(env.engine, TP_FN "TpRegFail");
  /* Nothing stays locked either: a good plugin loads after it. */
  tp_install_load(env.engine, env.dir, "tp_good", NULL);
  tp_assert_served(env.engine, TP_FN "TpEcho", NULL, NULL);
  free(path);
}

Test(plugin, refuses_a_resource_already_served) {
  tp_env_init(&env, NULL);
  char *dup = tp_install(env.dir, "tp_dup");
  char cfg_good[128], cfg_dup[128];
  tp_config(cfg_good, sizeof cfg_good, &env.ctl[0], "");
  tp_config(cfg_dup, sizeof cfg_dup, &env.ctl[1], "");
  tp_install_load(env.engine, env.dir, "tp_good", cfg_good);

  wf_error err;
  assert_dup_refused(dup, cfg_dup, &err);
  /* Its init succeeded, so its fini ran when the commit was refused. */
  cr_assert_eq(tp_control_get(&env.ctl[1], &env.ctl[1].inits), 1);
  cr_assert_eq(tp_control_get(&env.ctl[1], &env.ctl[1].finis), 1);

  /* Its other resource did not stay; the first plugin still serves its
   * own with its own configuration (tp_dup's handler aborts). */
  tp_assert_unknown(env.engine, TP_FN "TpDupOnly");
  char *want = tp_strf("{\"handler\":\"echo\",\"resource\":\"" TP_FN
                       "TpEcho\",\"state\":\"T\",\"config\":%s,"
                       "\"input\":{}}", cfg_good);
  tp_assert_served(env.engine, TP_FN "TpEcho", NULL, want);
  free(want);
  cr_assert_eq(tp_control_get(&env.ctl[0], &env.ctl[0].finis), 0);
  free(dup);
}

Test(plugin, refuses_the_same_resources_loaded_twice) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_good");
  char cfg1[128], cfg2[128];
  tp_config(cfg1, sizeof cfg1, &env.ctl[0], "\"n\":1");
  tp_config(cfg2, sizeof cfg2, &env.ctl[1], "\"n\":2");
  tp_load(env.engine, path, cfg1);
  wf_plugin *p = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_load_plugin(&p, env.engine, path, cfg2, &err),
               WF_EEXIST, "%s", err.message);
  cr_assert_null(p);
  /* The second instance was finished; the first keeps its configuration. */
  cr_assert_eq(tp_control_get(&env.ctl[1], &env.ctl[1].finis), 1);
  cr_assert_eq(tp_control_get(&env.ctl[0], &env.ctl[0].finis), 0);
  assert_config_member(TP_FN "TpEcho", "n", 1);
  free(path);
}

Test(plugin, refuses_configuration_that_is_not_a_json_object) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_good");
  assert_refused(path, "{\"suffix\":", WF_EPARSE, NULL);
  assert_refused(path, "not json", WF_EPARSE, NULL);
  assert_refused(path, "[1,2]", WF_EPARSE, "must be a JSON object", NULL);
  assert_refused(path, "\"text\"", WF_EPARSE, "must be a JSON object", NULL);
  tp_assert_unknown(env.engine, TP_FN "TpEcho");
  free(path);
}

Test(plugin, refuses_a_file_that_is_not_a_shared_object) {
  tp_env_init(&env, NULL);
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/junk.so", env.dir);
  tp_write_file(path, "not an ELF file\n", 16, 0755);
  assert_refused(path, NULL, WF_EIO, NULL);
}

Test(plugin, refuses_a_missing_file) {
  tp_env_init(&env, NULL);
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/absent.so", env.dir);
  assert_refused(path, NULL, WF_EIO, "No such file", NULL);
}

Test(plugin, rejects_missing_arguments) {
  tp_env_init(&env, NULL);
  wf_plugin *p = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_load_plugin(&p, env.engine, NULL, NULL, &err),
               WF_EINVAL);
  cr_assert_eq(wf_engine_load_plugin(NULL, env.engine, "x.so", NULL, &err),
               WF_EINVAL);
  cr_assert_eq(wf_engine_add_plugin_dir(env.engine, NULL, &err), WF_EINVAL);
}

/* ---- trusted directories ------------------------------------------------ */

Test(plugin, refuses_everything_when_no_directory_is_trusted) {
  untrusted_env("untrusted");
  char *path = tp_install(env.dir, "tp_good");
  assert_refused(path, NULL, WF_EPERM, "outside the plugin directories",
                 NULL);
  tp_assert_unknown(env.engine, TP_FN "TpEcho");
  free(path);
}

Test(plugin, refuses_a_path_outside_the_trusted_directories) {
  tp_env_init(&env, NULL);
  tp_mkdtemp(outside, "outside");
  char *path = tp_install(outside, "tp_good");
  char *rp = resolved(path);
  assert_refused(path, NULL, WF_EPERM, "outside the plugin directories", rp,
                 NULL);
  tp_assert_unknown(env.engine, TP_FN "TpEcho");
  free(rp);
  free(path);
}

Test(plugin, refuses_a_symlink_inside_pointing_outside) {
  tp_env_init(&env, NULL);
  tp_mkdtemp(outside, "outside");
  char *target = tp_install(outside, "tp_good");
  char link[PATH_MAX + 16];
  snprintf(link, sizeof link, "%s/tp_good.so", env.dir);
  cr_assert_eq(symlink(target, link), 0);
  char *rp = resolved(target);
  assert_refused(link, NULL, WF_EPERM, "outside the plugin directories", rp,
                 NULL);
  /* A link to a directory outside is no way around it either. */
  char dlink[PATH_MAX + 16];
  snprintf(dlink, sizeof dlink, "%s/lib", env.dir);
  cr_assert_eq(symlink(outside, dlink), 0);
  char via[PATH_MAX + 32];
  snprintf(via, sizeof via, "%s/lib/tp_good.so", env.dir);
  assert_refused(via, NULL, WF_EPERM, "outside the plugin directories", NULL);
  tp_assert_unknown(env.engine, TP_FN "TpEcho");
  free(rp);
  free(target);
}

Test(plugin, refuses_a_dotdot_escape) {
  tp_env_init(&env, NULL);
  tp_mkdtemp(outside, "outside");
  char *target = tp_install(outside, "tp_good");
  char path[2 * PATH_MAX];
  snprintf(path, sizeof path, "%s/../%s/tp_good.so", env.dir,
           strrchr(outside, '/') + 1);
  assert_refused(path, NULL, WF_EPERM, "outside the plugin directories",
                 NULL);
  tp_assert_unknown(env.engine, TP_FN "TpEcho");
  free(target);
}

Test(plugin, refuses_a_sibling_directory_sharing_the_prefix) {
  tp_env_init(&env, NULL);
  /* Trusting ".../plugins-XXXXXX" must not trust ".../plugins-XXXXXX-evil". */
  cr_assert_lt(snprintf(outside, sizeof outside, "%s-evil", env.dir),
               (int)sizeof outside);
  tp_mkdir(outside, 0755);
  char *path = tp_install(outside, "tp_good");
  assert_refused(path, NULL, WF_EPERM, "outside the plugin directories",
                 NULL);
  free(path);
}

Test(plugin, accepts_links_and_dotdot_that_stay_inside) {
  tp_env_init(&env, NULL);
  char *real = tp_install(env.dir, "tp_good");
  char sub[PATH_MAX + 8];
  snprintf(sub, sizeof sub, "%s/sub", env.dir);
  tp_mkdir(sub, 0755);
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/sub/../tp_good.so", env.dir);
  wf_plugin *p = tp_load(env.engine, path, NULL);
  char *rp = resolved(real);
  cr_assert_str_eq(wf_plugin_path(p), rp);
  wf_plugin_unload(p);

  char link[PATH_MAX + 16];
  snprintf(link, sizeof link, "%s/alias.so", env.dir);
  cr_assert_eq(symlink("tp_good.so", link), 0);
  p = tp_load(env.engine, link, NULL);
  cr_assert_str_eq(wf_plugin_path(p), rp);
  tp_assert_served(env.engine, TP_FN "TpEcho", NULL, NULL);
  free(rp);
  free(real);
}

Test(plugin, refuses_a_group_or_world_writable_file) {
  tp_env_init(&env, NULL);
  char *path = tp_install(env.dir, "tp_good");
  tp_chmod(path, 0775);
  assert_refused(path, NULL, WF_EPERM, "writable by its group or by others",
                 NULL);
  tp_chmod(path, 0757);
  assert_refused(path, NULL, WF_EPERM, "writable by its group or by others",
                 NULL);
  tp_chmod(path, 0666);
  assert_refused(path, NULL, WF_EPERM, "writable by its group or by others",
                 NULL);
  tp_assert_unknown(env.engine, TP_FN "TpEcho");
  /* The refusal was about the mode alone. */
  tp_chmod(path, 0755);
  tp_load(env.engine, path, NULL);
  free(path);
}

Test(plugin, refuses_a_file_whose_directory_became_writable) {
  tp_env_init(&env, NULL); /* trusted while 0755 */
  char *path = tp_install(env.dir, "tp_good");
  char *rdir = resolved(env.dir);
  tp_chmod(env.dir, 0775);
  assert_refused(path, NULL, WF_EPERM, rdir,
                 "writable by its group or by others", NULL);
  tp_chmod(env.dir, 0757);
  assert_refused(path, NULL, WF_EPERM, rdir,
                 "writable by its group or by others", NULL);
  tp_chmod(env.dir, 0755);
  tp_load(env.engine, path, NULL);
  free(rdir);
  free(path);
}

Test(plugin, refuses_a_file_in_a_writable_subdirectory) {
  tp_env_init(&env, NULL);
  char sub[PATH_MAX + 8];
  snprintf(sub, sizeof sub, "%s/sub", env.dir);
  tp_mkdir(sub, 0777);
  char *path = tp_install(sub, "tp_good");
  assert_refused(path, NULL, WF_EPERM, "writable by its group or by others",
                 NULL);
  free(path);
}

Test(plugin, add_plugin_dir_refuses_writable_or_missing_directories) {
  untrusted_env("dirs");
  char *rdir = resolved(env.dir);
  wf_error err;
  static const mode_t modes[] = {0775, 0757, 0777, 01777};
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
    tp_chmod(env.dir, modes[i]);
    cr_assert_eq(wf_engine_add_plugin_dir(env.engine, env.dir, &err),
                 WF_EPERM, "mode %o accepted", (unsigned)modes[i]);
    cr_assert_not_null(strstr(err.message, rdir), "%s", err.message);
    cr_assert_not_null(strstr(err.message, "writable by its group or by "
                                           "others"), "%s", err.message);
  }
  tp_chmod(env.dir, 0755);

  char missing[PATH_MAX + 16];
  snprintf(missing, sizeof missing, "%s/absent", env.dir);
  cr_assert_eq(wf_engine_add_plugin_dir(env.engine, missing, &err), WF_EIO);
  cr_assert_not_null(strstr(err.message, missing), "%s", err.message);
  cr_assert_not_null(strstr(err.message, "No such file"), "%s", err.message);

  char file[PATH_MAX + 16];
  snprintf(file, sizeof file, "%s/file", env.dir);
  tp_write_file(file, "x", 1, 0644);
  cr_assert_eq(wf_engine_add_plugin_dir(env.engine, file, &err), WF_EPERM);
  cr_assert_not_null(strstr(err.message, "not a directory"), "%s",
                     err.message);

  /* None of the refused directories was trusted. */
  char *path = tp_install(env.dir, "tp_good");
  assert_refused(path, NULL, WF_EPERM, "outside the plugin directories",
                 NULL);
  cr_assert_eq(wf_engine_add_plugin_dir(env.engine, env.dir, &err), WF_OK);
  tp_load(env.engine, path, NULL);
  free(path);
  free(rdir);
}

/* ---- delayed completion on the engine's clock --------------------------- */

/* The timestamp (ms) of the first history event of this type. */
static int64_t event_time(wf_execution *x, const char *type) {
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  size_t i;
  json_t *ev;
  const json_t *ts = NULL;
  json_array_foreach(events, i, ev) {
    if (strcmp(json_string_value(json_object_get(ev, "type")), type) == 0) {
      ts = json_object_get(ev, "timestamp");
      break;
    }
  }
  cr_assert(json_is_number(ts), "no %s event with a timestamp", type);
  /* Seconds since the epoch with a millisecond fraction, as AWS gives. */
  int64_t ms = (int64_t)(json_number_value(ts) * 1000.0 + 0.5);
  json_decref(doc);
  return ms;
}

static wf_execution *run_timer(const char *input, const char *extra) {
  tp_install_load(env.engine, env.dir, "tp_timer", NULL);
  wf_machine *m = tp_task_machine(TP_FN "TpTimer", extra);
  wf_execution *x = wft_run(env.engine, m, input, NULL);
  wf_machine_free(m);
  return x;
}

Test(plugin, succeed_after_completes_on_the_virtual_clock) {
  tp_env_init(&env, NULL);
  int64_t t0 = wft_mono_ms();
  wf_execution *x = run_timer("{\"delayMs\":250000}", NULL);
  char want[128];
  snprintf(want, sizeof want,
           "{\"calledAt\":%lld,\"attempt\":0,\"delayMs\":250000}",
           (long long)WFT_T0);
  wft_assert_succeeded(x, want);
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x),
               250000);
  cr_assert_eq(event_time(x, "LambdaFunctionSucceeded") -
                   event_time(x, "LambdaFunctionStarted"),
               250000);
  cr_assert_lt(wft_mono_ms() - t0, WFT_REAL_MS_MAX);
  wf_execution_free(x);
}

Test(plugin, fail_after_is_retried_like_any_task_failure) {
  tp_env_init(&env, NULL);
  int64_t t0 = wft_mono_ms();
  wf_execution *x = run_timer(
      "{\"delayMs\":3000,\"failFirst\":true}",
      "\"Retry\":[{\"ErrorEquals\":[\"Tp.Retry\"],\"IntervalSeconds\":10,"
      "\"MaxAttempts\":1}]");
  /* 3 s failing, 10 s back-off, 3 s succeeding. */
  char want[128];
  snprintf(want, sizeof want,
           "{\"calledAt\":%lld,\"attempt\":1,\"delayMs\":3000}",
           (long long)(WFT_T0 + 13000));
  wft_assert_succeeded(x, want);
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x), 16000);
  cr_assert_eq(event_time(x, "LambdaFunctionFailed") -
                   event_time(x, "LambdaFunctionStarted"),
               3000);
  cr_assert_lt(wft_mono_ms() - t0, WFT_REAL_MS_MAX);
  wf_execution_free(x);
}

Test(plugin, fail_after_fails_the_task_after_the_delay) {
  tp_env_init(&env, NULL);
  wf_execution *x = run_timer("{\"delayMs\":4000,\"fail\":true}", NULL);
  wft_assert_failed(x, "Tp.Failed", "failed after the delay");
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x), 4000);
  wf_execution_free(x);
}

Test(plugin, delayed_completion_rejects_bad_arguments) {
  tp_env_init(&env, NULL);
  wf_execution *x = run_timer("{\"delayMs\":-1}", NULL);
  char cause[16];
  snprintf(cause, sizeof cause, "%d", WF_EINVAL);
  wft_assert_failed(x, "Tp.Rc", cause);
  wf_execution_free(x);
  x = tp_run_task(env.engine, TP_FN "TpTimer",
                  "{\"delayMs\":10,\"badOutput\":true}");
  snprintf(cause, sizeof cause, "%d", WF_EPARSE);
  wft_assert_failed(x, "Tp.Rc", cause);
  wf_execution_free(x);
}

/* ---- unloading while calls run ------------------------------------------ */

typedef struct unloader {
  wf_plugin *plugin;
  atomic_int done;
} unloader;

static void *unload_main(void *arg) {
  unloader *u = arg;
  wf_plugin_unload(u->plugin);
  atomic_store(&u->done, 1);
  return NULL;
}

Test(plugin, unload_waits_for_calls_in_flight_and_calls_nothing_after) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.worker_threads = 4;
  tp_env_init(&env, &o);
  tp_control *c = &env.ctl[0];
  char cfg[128];
  tp_config(cfg, sizeof cfg, c, "");
  wf_plugin *p = tp_install_load(env.engine, env.dir, "tp_slow", cfg);
  wf_machine *m = tp_task_machine(TP_FN "TpSlow", NULL);

  wf_execution *x[3];
  for (int i = 0; i < 3; i++) x[i] = wft_start(env.engine, m, NULL, NULL);
  cr_assert_eq(tp_control_wait(c, &c->entered, 3, WFT_WAIT_MS), 3,
               "the slow handlers were not all called");

  unloader u = {p, 0};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, unload_main, &u), 0);
  wft_sleep_ms(150);
  /* Unloading waits for the blocked calls... */
  cr_assert_eq(atomic_load(&u.done), 0, "unload returned during calls");
  cr_assert_eq(tp_control_get(c, &c->finis), 0);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(wf_execution_status(x[i]), WF_EXEC_RUNNING);
  /* ...while its handlers are already gone: a new Task finds nobody. */
  tp_assert_unknown(env.engine, TP_FN "TpSlow");

  tp_control_add(c, &c->released, 1);
  cr_assert_eq(pthread_join(th, NULL), 0);
  cr_assert_eq(atomic_load(&u.done), 1);
  /* fini ran once, after every call had returned. */
  cr_assert_eq(tp_control_get(c, &c->finis), 1);
  cr_assert_eq(c->running_at_fini, 0, "%d calls still running at fini",
               c->running_at_fini);
  cr_assert_eq(c->returned_at_fini, 3);
  for (int i = 0; i < 3; i++) {
    wft_wait(x[i]);
    wft_assert_succeeded(x[i], "{\"slow\":\"done\"}");
    wf_execution_free(x[i]);
  }
  /* After unloading, no handler of the plugin is ever called. */
  tp_assert_unknown(env.engine, TP_FN "TpSlow");
  cr_assert_eq(tp_control_get(c, &c->entered), 3);
  wf_machine_free(m);
}

Test(plugin, engine_free_unloads_plugins_still_loaded) {
  tp_env_init(&env, NULL);
  char cfg0[128], cfg1[128];
  tp_config(cfg0, sizeof cfg0, &env.ctl[0], "");
  tp_config(cfg1, sizeof cfg1, &env.ctl[1], "");
  tp_install_load(env.engine, env.dir, "tp_good", cfg0);
  tp_install_load(env.engine, env.dir, "tp_slow", cfg1);
  tp_assert_served(env.engine, TP_FN "TpEcho", NULL, NULL);
  wf_engine_free(env.engine);
  env.engine = NULL;
  cr_assert_eq(tp_control_get(&env.ctl[0], &env.ctl[0].finis), 1);
  cr_assert_eq(tp_control_get(&env.ctl[1], &env.ctl[1].finis), 1);
  json_t *lines = tp_lines_json(&env.lines);
  json_t *unloaded = tp_where(lines, "event", "PluginUnloaded");
  cr_assert_eq(json_array_size(unloaded), 2);
  json_decref(unloaded);
  json_decref(lines);
}

static void *free_main(void *arg) {
  wf_engine_free(arg);
  return NULL;
}

Test(plugin, engine_free_waits_for_a_call_in_flight) {
  tp_env_init(&env, NULL);
  tp_control *c = &env.ctl[0];
  char cfg[128];
  tp_config(cfg, sizeof cfg, c, "");
  tp_install_load(env.engine, env.dir, "tp_slow", cfg);
  wf_machine *m = tp_task_machine(TP_FN "TpSlow", NULL);
  wf_execution *x = wft_start(env.engine, m, NULL, NULL);
  cr_assert_eq(tp_control_wait(c, &c->entered, 1, WFT_WAIT_MS), 1);
  /* The execution keeps running without its handle. */
  wf_execution_free(x);

  /* Freeing aborts the execution; the handler sees its task cancelled,
   * returns, and only then is the plugin finished. */
  wf_engine *e = env.engine;
  env.engine = NULL;
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, free_main, e), 0);
  struct timespec ts = wft_deadline(WFT_WAIT_MS);
  cr_assert_eq(pthread_timedjoin_np(th, NULL, &ts), 0,
               "wf_engine_free did not return");
  cr_assert_eq(c->cancelled_seen, 1);
  cr_assert_eq(c->finis, 1);
  cr_assert_eq(c->running_at_fini, 0);
  cr_assert_eq(c->returned_at_fini, 1);
  wf_machine_free(m);
}

/* ---- regressions ---------------------------------------------------------- */

/* A TimeoutSeconds of 2 s against a handler completing 5 s later (a timer
 * of its own, task_succeed_after): the task times out at exactly 2 s of
 * virtual time, every time. The timeout's timer used to be fired outside
 * the scheduler's count of busy work, so another scheduler thread could
 * move the clock on to the completion at 5 s and let it win. */
Test(plugin, a_task_timeout_beats_a_later_completion_every_time) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.scheduler_threads = 4;
  o.history = WF_HISTORY_OFF;
  tp_env_init(&env, &o);
  tp_install_load(env.engine, env.dir, "tp_timer", NULL);
  wf_machine *m = tp_task_machine(TP_FN "TpTimer", "\"TimeoutSeconds\":2");
  int64_t real = wft_mono_ms();
  int64_t expected_start = WFT_T0;
  for (int round = 0; round < 200; round++) {
    wf_execution *x = wft_run(env.engine, m, "{\"delayMs\":5000}", NULL);
    cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED,
                 "round %d: status %d, output %s", round,
                 wf_execution_status(x),
                 wf_execution_output(x) ? wf_execution_output(x) : "-");
    cr_assert_str_eq(wf_execution_error(x), "States.Timeout", "round %d",
                     round);
    /* T0 + 2 s of this execution; the abandoned completion at 5 s moves
     * the clock no further. */
    cr_assert_eq(wf_execution_start_time(x), expected_start,
                 "round %d: started %lld ms after the previous stop", round,
                 (long long)(wf_execution_start_time(x) - expected_start));
    cr_assert_eq(wf_execution_stop_time(x), expected_start + 2000,
                 "round %d: stopped after %lld ms", round,
                 (long long)(wf_execution_stop_time(x) -
                             wf_execution_start_time(x)));
    expected_start = wf_execution_stop_time(x);
    wf_execution_free(x);
  }
  cr_assert_lt(wft_mono_ms() - real, 10 * WFT_REAL_MS_MAX);
  wf_machine_free(m);
}

/* The path given, or the resolved one, is named in the message. */
static void assert_names_file(const char *message, const char *path) {
  char *rp = realpath(path, NULL);
  cr_assert(strstr(message, path) || (rp && strstr(message, rp)),
            "the message does not name %s: %s", path, message);
  free(rp);
}

Test(plugin, a_resource_conflict_names_the_plugin_file) {
  tp_env_init(&env, NULL);
  char *dup = tp_install(env.dir, "tp_dup");
  tp_install_load(env.engine, env.dir, "tp_good", NULL);
  wf_error err;
  assert_dup_refused(dup, NULL, &err);
  assert_names_file(err.message, dup);
  /* Not the plugin that holds the resource. */
  cr_assert_null(strstr(err.message, "tp_good.so"), "%s", err.message);
  free(dup);
}

/* trusted/pub (writable by others) /sub (0755) /tp_good.so: whoever can
 * write pub can swap sub for a directory of their own, so the file is
 * refused however safe its own directory is. */
Test(plugin, refuses_a_file_below_a_writable_intermediate_directory) {
  tp_env_init(&env, NULL);
  char pub[PATH_MAX + 8], sub[PATH_MAX + 16];
  snprintf(pub, sizeof pub, "%s/pub", env.dir);
  snprintf(sub, sizeof sub, "%s/sub", pub);
  tp_mkdir(pub, 0755);
  tp_mkdir(sub, 0755);
  char *path = tp_install(sub, "tp_good");
  char *rpub = resolved(pub);
  static const mode_t modes[] = {0777, 0775, 0757, 01777};
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
    tp_chmod(pub, modes[i]);
    wf_plugin *p = (wf_plugin *)&p;
    wf_error err;
    memset(&err, 0, sizeof err);
    int rc = wf_engine_load_plugin(&p, env.engine, path, NULL, &err);
    cr_assert_eq(rc, WF_EPERM, "pub mode %o: %s: %s", (unsigned)modes[i],
                 wf_error_name(rc), err.message);
    cr_assert_null(p);
    cr_assert_not_null(strstr(err.message, rpub),
                       "mode %o: the message does not name %s: %s",
                       (unsigned)modes[i], rpub, err.message);
    cr_assert_not_null(strstr(err.message, "writable by its group or by "
                                           "others"), "%s", err.message);
    tp_assert_unknown(env.engine, TP_FN "TpEcho");
  }
  /* The refusal was about pub alone. */
  tp_chmod(pub, 0755);
  tp_load(env.engine, path, NULL);
  free(rpub);
  free(path);
}

/* Every directory from / down to dir (dir included) that the group or
 * others can write, or NULL (free()). */
static char *writable_ancestor(const char *dir) {
  char *rp = realpath(dir, NULL);
  cr_assert_not_null(rp, "realpath %s", dir);
  for (char *slash = rp + strlen(rp); slash; ) {
    struct stat st;
    cr_assert_eq(stat(*rp ? rp : "/", &st), 0, "stat %s", rp);
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
      char *found = strdup(*rp ? rp : "/");
      free(rp);
      return found;
    }
    slash = strrchr(rp, '/');
    if (slash) *slash = '\0';
  }
  free(rp);
  return NULL;
}

/* Trusting "/" trusts every file below it (a plugin path given on the
 * command line is trusted through its directory, which may be "/"), with
 * the checks on the directories in between still applied. The plugin sits
 * in a private 0755 directory under the build tree (TP_TMP_BASE): the
 * directories from / down to it must not be writable by the group or
 * others, which is why not under /tmp, whose mode is 1777 (sticky, but
 * world-writable) and which is refused below. */
Test(plugin, trusting_the_root_directory_trusts_absolute_paths) {
  untrusted_env("root");
  char *path = tp_install(env.dir, "tp_good");
  char *open_dir = writable_ancestor(env.dir);
  if (open_dir) {
    char reason[PATH_MAX + 64];
    snprintf(reason, sizeof reason, "%s is writable by its group or others",
             open_dir);
    free(open_dir);
    free(path);
    cr_skip_test("%s: a plugin below it is refused, rightly", reason);
  }
  wf_error err;
  cr_assert_eq(wf_engine_add_plugin_dir(env.engine, "/", &err), WF_OK, "%s",
               err.message);
  cr_assert_eq(path[0], '/');
  wf_plugin *p = tp_load(env.engine, path, NULL);
  char *rp = resolved(path);
  cr_assert_str_eq(wf_plugin_path(p), rp);
  free(rp);
  tp_assert_served(env.engine, TP_FN "TpEcho", NULL, NULL);

  /* Below /tmp (mode 1777) the same plugin is refused, naming /tmp. */
  struct stat st;
  if (stat("/tmp", &st) == 0 && (st.st_mode & S_IWOTH)) {
    cr_assert_lt(snprintf(outside, sizeof outside, "/tmp/wf-root-XXXXXX"),
                 (int)sizeof outside);
    cr_assert_not_null(mkdtemp(outside));
    tp_chmod(outside, 0755);
    char *tmp_path = tp_install(outside, "tp_dup");
    wf_plugin *q = (wf_plugin *)&q;
    cr_assert_eq(wf_engine_load_plugin(&q, env.engine, tmp_path, NULL, &err),
                 WF_EPERM, "%s", err.message);
    cr_assert_null(q);
    char *rtmp = realpath("/tmp", NULL);
    cr_assert_not_null(strstr(err.message, rtmp), "%s", err.message);
    free(rtmp);
    free(tmp_path);
  }
  free(path);
}
