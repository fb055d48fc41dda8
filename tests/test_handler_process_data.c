/* The ProcessData handler plugin (handlers/process_data), loaded from
 * <build>/plugins/process_data.so through the public plugin API into
 * engines on a virtual clock: record checks per data type
 * (tests/data/process_data/records.json), input errors and size limits
 * (input_errors.json), configuration errors (bad_configs.json), the
 * checksum, processing time on the engine's clock, the seed workflow's
 * routing, reproducible simulated failures with Retry and Catch, logging,
 * and concurrency. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_cases.h"
#include "engine_support.h"
#include "support.h"
#include "workflow/workflow.h"

#define PD_ARN "arn:aws:lambda:us-east-1:123456789012:function:ProcessData"
#define SN_ARN \
  "arn:aws:lambda:us-east-1:123456789012:function:SendNotification"

/* ---- an engine with the plugin loaded -------------------------------- */

typedef struct pd_env {
  wf_clock *clock;
  wf_engine *engine;
  wf_plugin *plugin;
  wf_machine *task; /* one Task state "ProcessData" on PD_ARN */
  char dir[64];     /* private plugin directory (mkdtemp: mode 0700) */
  char so[96];
  pthread_mutex_t mu; /* guards log */
  char *log;
  size_t len;
} pd_env;

static void log_sink(const char *line, void *payload) {
  pd_env *env = payload;
  pthread_mutex_lock(&env->mu);
  size_t n = strlen(line);
  char *grown = realloc(env->log, env->len + n + 2);
  if (grown) {
    env->log = grown;
    memcpy(env->log + env->len, line, n);
    env->len += n;
    env->log[env->len++] = '\n';
    env->log[env->len] = '\0';
  }
  pthread_mutex_unlock(&env->mu);
}

/* The private plugin directories this test made, removed by the suite's
 * fini, which runs even when an assertion ends the test early. */
static char made_dirs[4][64];
static int nmade;

static void remove_made_dirs(void) {
  for (int i = 0; i < nmade; i++) {
    char *so = wft_strf("%s/process_data.so", made_dirs[i]);
    unlink(so);
    free(so);
    rmdir(made_dirs[i]);
  }
  nmade = 0;
}

TestSuite(process_data, .fini = remove_made_dirs);

/* The build tree's permissions depend on the umask, and a trusted plugin
 * directory must not be group-writable: load a copy from a private
 * directory instead. */
static void copy_plugin(pd_env *env) {
  snprintf(env->dir, sizeof env->dir, "/tmp/wf-pd-XXXXXX");
  cr_assert_not_null(mkdtemp(env->dir));
  cr_assert_lt(nmade, 4);
  snprintf(made_dirs[nmade++], sizeof made_dirs[0], "%s", env->dir);
  snprintf(env->so, sizeof env->so, "%s/process_data.so", env->dir);
  size_t len;
  char *bytes = wft_read_file(WF_BINARY_DIR "/plugins/process_data.so", &len);
  cr_assert_not_null(bytes, "build the process_data target first");
  FILE *out = fopen(env->so, "wb");
  cr_assert_not_null(out);
  cr_assert_eq(fwrite(bytes, 1, len, out), len);
  fclose(out);
  free(bytes);
  chmod(env->so, 0755);
}

static wf_machine *task_machine(const char *extra_fields) {
  char *def = wft_strf("{\"StartAt\":\"ProcessData\",\"States\":{"
                       "\"ProcessData\":{\"Type\":\"Task\",\"Resource\":"
                       "\"%s\",%s\"End\":true}}}",
                       PD_ARN, extra_fields);
  wf_machine *m = wft_load(def);
  free(def);
  return m;
}

/* An engine and a trusted directory holding the plugin, not loaded. */
static void env_start(pd_env *env, unsigned scheduler_threads) {
  memset(env, 0, sizeof *env);
  pthread_mutex_init(&env->mu, NULL);
  cr_assert_eq(wf_clock_virtual_new(&env->clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = env->clock;
  o.log = log_sink;
  o.log_payload = env;
  o.seed = 1;
  o.scheduler_threads = scheduler_threads;
  env->engine = wft_engine(&o);
  copy_plugin(env);
  wf_error err;
  cr_assert_eq(wf_engine_add_plugin_dir(env->engine, env->dir, &err), WF_OK,
               "%s", err.message);
  env->task = task_machine("");
}

static int env_load(pd_env *env, const char *config, wf_error *err) {
  return wf_engine_load_plugin(&env->plugin, env->engine, env->so, config,
                               err);
}

static void env_open(pd_env *env, const char *config) {
  env_start(env, 0);
  wf_error err;
  int rc = env_load(env, config, &err);
  cr_assert_eq(rc, WF_OK, "load %s: %s: %s", config ? config : "(none)",
               wf_error_name(rc), err.message);
}

static void env_close(pd_env *env) {
  wf_machine_free(env->task);
  wf_engine_free(env->engine);
  wf_clock_free(env->clock);
  free(env->log);
  pthread_mutex_destroy(&env->mu);
}

/* ---- running ----------------------------------------------------------- */

static wf_execution *run_named(pd_env *env, wf_machine *m, const char *input,
                               const char *name) {
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = name;
  return wft_run(env->engine, m, input, &so);
}

/* Run the one-Task machine; it must succeed; the result, parsed. */
static json_t *task_output(pd_env *env, const char *input) {
  wf_execution *x = run_named(env, env->task, input, NULL);
  wft_assert_succeeded(x, NULL);
  json_t *out = wft_parse(wf_execution_output(x));
  wf_execution_free(x);
  return out;
}

static const char *str(const json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  cr_assert_not_null(s, "no string member %s", key);
  return s;
}

static long long num(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  cr_assert(json_is_integer(v), "no integer member %s", key);
  return json_integer_value(v);
}

static void notify_stub(wf_task *t, void *payload) {
  (void)payload;
  wf_task_succeed(t, "{\"delivered\":true}");
}

/* The seed workflow, with SendNotification answered by a stub. */
static wf_machine *seed_machine(pd_env *env) {
  char *def = wft_read_file(WF_SOURCE_DIR "/examples/workflows/seed-workflow.json",
                            NULL);
  cr_assert_not_null(def);
  wf_machine *m = wft_load_named(def, "seed-workflow");
  free(def);
  wf_error err;
  cr_assert_eq(wf_engine_register_handler(env->engine, SN_ARN, notify_stub,
                                          NULL, WF_HANDLER_INLINE, &err),
               WF_OK, "%s", err.message);
  return m;
}

/* What ProcessData did in an execution, attempt by attempt: "S" for a
 * success, "F:<error>" for a failure, "T" for a timeout, then the final
 * status and error: "F:ProcessData.TransientError S | 1 -". */
static char *attempts(wf_execution *x) {
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  char *sig = strdup("");
  bool ours = false;
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    const char *type = str(ev, "type");
    const char *step = NULL;
    char buf[160];
    if (strcmp(type, "LambdaFunctionScheduled") == 0) {
      ours = strcmp(str(json_object_get(ev, "lambdaFunctionScheduledEventDetails"),
                        "resource"), PD_ARN) == 0;
    } else if (ours && strcmp(type, "LambdaFunctionSucceeded") == 0) {
      step = "S";
    } else if (ours && strcmp(type, "LambdaFunctionTimedOut") == 0) {
      step = "T";
    } else if (ours && strcmp(type, "LambdaFunctionFailed") == 0) {
      snprintf(buf, sizeof buf, "F:%s",
               str(json_object_get(ev, "lambdaFunctionFailedEventDetails"),
                   "error"));
      step = buf;
    }
    if (!step) continue;
    char *longer = wft_strf("%s%s ", sig, step);
    free(sig);
    sig = longer;
  }
  json_decref(doc);
  const char *error = wf_execution_error(x);
  char *full = wft_strf("%s| %d %s", sig, (int)wf_execution_status(x),
                        error ? error : "-");
  free(sig);
  return full;
}

/* ---- matching a result against an expectation ------------------------ */

/* Does `actual` hold `expected`: objects member by member (others may be
 * present), arrays element by element with equal length, numbers by value,
 * anything else by equality. `where` receives the first differing path. */
static bool holds(const json_t *actual, const json_t *expected, char *where,
                  size_t n, const char *path) {
  if (json_is_object(expected)) {
    if (!json_is_object(actual)) goto differ;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)expected, k, v) {
      char *sub = wft_strf("%s.%s", path, k);
      bool ok = holds(json_object_get(actual, k), v, where, n, sub);
      free(sub);
      if (!ok) return false;
    }
    return true;
  }
  if (json_is_array(expected)) {
    if (!json_is_array(actual) || json_array_size(actual) != json_array_size(expected))
      goto differ;
    for (size_t i = 0; i < json_array_size(expected); i++) {
      char *sub = wft_strf("%s[%zu]", path, i);
      bool ok = holds(json_array_get(actual, i), json_array_get(expected, i),
                      where, n, sub);
      free(sub);
      if (!ok) return false;
    }
    return true;
  }
  if (json_is_number(expected)) {
    /* Relative tolerance, without libm (the test program does not link
     * it). */
    double a = json_number_value(actual), e = json_number_value(expected);
    double d = a > e ? a - e : e - a, scale = e < 0 ? -e : e;
    if (json_is_number(actual) && d <= 1e-9 * (scale > 1 ? scale : 1))
      return true;
    goto differ;
  }
  if (actual && json_equal((json_t *)actual, (json_t *)expected)) return true;
differ:;
  char *a = actual ? json_dumps(actual, JSON_ENCODE_ANY) : strdup("(missing)");
  char *e = json_dumps(expected, JSON_ENCODE_ANY);
  snprintf(where, n, "%s: got %s, expected %s", path, a, e);
  free(a);
  free(e);
  return false;
}

static void assert_holds(const json_t *actual, const json_t *expected,
                         const char *what) {
  char where[2048];
  if (!holds(actual, expected, where, sizeof where, "$")) {
    char *all = json_dumps(actual, JSON_COMPACT);
    cr_assert_fail("%s: %s\nresult: %s", what, where, all);
  }
}

/* ---- data-driven cases ------------------------------------------------- */

/* The case's "config" as text, or NULL. */
static char *case_config(const json_t *c) {
  const json_t *cfg = json_object_get(c, "config");
  return cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
}

ParameterizedTestParameters(process_data, checks_records_per_data_type) {
  WFT_CASE_PARAMS("process_data/records.json");
}

ParameterizedTest(int *i, process_data, checks_records_per_data_type) {
  json_t *c = wft_case_at("process_data/records.json", *i);
  json_t *in = json_pack("{s:{s:O,s:O}}", "data", "type",
                         json_object_get(c, "type"), "records",
                         json_object_get(c, "records"));
  char *input = json_dumps(in, JSON_COMPACT), *config = case_config(c);
  pd_env env;
  env_open(&env, config);
  json_t *out = task_output(&env, input);
  assert_holds(out, json_object_get(c, "expect"), str(c, "name"));
  json_decref(out);
  free(config);
  free(input);
  json_decref(in);
  json_decref(c);
  env_close(&env);
}

ParameterizedTestParameters(process_data, refuses_bad_input) {
  WFT_CASE_PARAMS("process_data/input_errors.json");
}

/* Refused at once: no processing time passes on the clock. */
ParameterizedTest(int *i, process_data, refuses_bad_input) {
  json_t *c = wft_case_at("process_data/input_errors.json", *i);
  char *config = case_config(c);
  char *input = json_dumps(json_object_get(c, "input"), JSON_COMPACT | JSON_ENCODE_ANY);
  pd_env env;
  env_open(&env, config);
  wf_execution *x = run_named(&env, env.task, input, NULL);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED, "%s", str(c, "name"));
  cr_assert_str_eq(wf_execution_error(x), str(c, "error"), "%s", str(c, "name"));
  cr_assert_str_eq(wf_execution_cause(x), str(c, "cause"), "%s", str(c, "name"));
  cr_assert_eq(wf_execution_stop_time(x), wf_execution_start_time(x));
  wf_execution_free(x);
  free(input);
  free(config);
  json_decref(c);
  env_close(&env);
}

ParameterizedTestParameters(process_data, refuses_bad_configuration) {
  WFT_CASE_PARAMS("process_data/bad_configs.json");
}

/* Refused by init, naming the field; nothing stays registered, so a good
 * configuration loads afterwards. */
ParameterizedTest(int *i, process_data, refuses_bad_configuration) {
  json_t *c = wft_case_at("process_data/bad_configs.json", *i);
  char *config = case_config(c);
  const char *want = str(c, "message");
  pd_env env;
  env_start(&env, 0);
  wf_error err;
  int rc = env_load(&env, config, &err);
  cr_assert_eq(rc, WF_EABI, "%s: got %s", str(c, "name"), wf_error_name(rc));
  size_t n = strlen(err.message), w = strlen(want);
  cr_assert(n >= w && strcmp(err.message + n - w, want) == 0,
            "%s: message '%s' does not end with '%s'", str(c, "name"),
            err.message, want);
  cr_assert_null(env.plugin);
  cr_assert_eq(env_load(&env, "{}", &err), WF_OK, "%s", err.message);
  free(config);
  json_decref(c);
  env_close(&env);
}

/* ---- loading ----------------------------------------------------------- */

Test(process_data, serves_the_seed_workflow_with_defaults) {
  pd_env env;
  env_open(&env, NULL);
  cr_assert_str_eq(wf_plugin_name(env.plugin), "process-data");
  wf_machine *m = seed_machine(&env);
  wf_execution *x = run_named(&env, m, "{\"data\":{\"type\":\"json\",\"records\":"
                              "[{\"id\":1},{\"id\":2}]},\"notification\":"
                              "{\"type\":\"EMAIL\"}}", "seed-ok");
  wft_assert_succeeded(x, NULL);
  json_t *out = wft_parse(wf_execution_output(x));
  json_t *r = json_object_get(out, "processingResult");
  cr_assert_str_eq(str(r, "status"), "SUCCESS");
  cr_assert_eq(num(r, "recordsProcessed"), 2);
  cr_assert_str_eq(str(r, "correlationId"), "seed-ok");
  cr_assert_eq(num(r, "attempt"), 0);
  cr_assert(json_is_true(json_object_get(json_object_get(out, "notificationResult"),
                                         "delivered")));
  char *sig = attempts(x);
  cr_assert_str_eq(sig, "S | 1 -");
  free(sig);
  json_decref(out);
  wf_execution_free(x);
  wf_machine_free(m);
  env_close(&env);
}

Test(process_data, serves_every_configured_resource) {
  pd_env env;
  env_open(&env, "{\"resources\":[\"" PD_ARN "\",\"" PD_ARN ":live\"]}");
  wf_machine *alias = wft_load("{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":"
                               "\"Task\",\"Resource\":\"" PD_ARN ":live\","
                               "\"End\":true}}}");
  const char *in = "{\"data\":{\"type\":\"text\",\"records\":[\"hi\"]}}";
  json_t *a = task_output(&env, in);
  wf_execution *x = run_named(&env, alias, in, NULL);
  wft_assert_succeeded(x, NULL);
  json_t *b = wft_parse(wf_execution_output(x));
  cr_assert_str_eq(str(a, "checksum"), str(b, "checksum"));
  json_decref(a);
  json_decref(b);
  wf_execution_free(x);
  wf_machine_free(alias);
  env_close(&env);
}

Test(process_data, refuses_configuration_with_duplicate_keys) {
  pd_env env;
  env_start(&env, 0);
  wf_error err;
  int rc = env_load(&env, "{\"maxErrors\":1,\"maxErrors\":2}", &err);
  cr_assert_neq(rc, WF_OK);
  cr_assert(strstr(err.message, "duplicate"), "%s", err.message);
  env_close(&env);
}

/* Two engines load the same file (so the same copy of its statics) with
 * different configurations; each keeps its own, also after the other
 * unloads. */
Test(process_data, engines_keep_their_own_configuration) {
  pd_env a, b;
  env_open(&a, "{\"processingTime\":{\"text\":{\"baseMs\":100,\"perRecordMs\":0}}}");
  env_start(&b, 0);
  wf_error err;
  cr_assert_eq(wf_engine_add_plugin_dir(b.engine, a.dir, &err), WF_OK);
  cr_assert_eq(wf_engine_load_plugin(&b.plugin, b.engine, a.so,
                                     "{\"processingTime\":{\"text\":{"
                                     "\"baseMs\":7000,\"perRecordMs\":0}}}",
                                     &err),
               WF_OK, "%s", err.message);
  const char *in = "{\"data\":{\"type\":\"text\",\"records\":[\"x\"]}}";
  json_t *ra = task_output(&a, in), *rb = task_output(&b, in);
  cr_assert_eq(num(ra, "durationMs"), 100);
  cr_assert_eq(num(rb, "durationMs"), 7000);
  wf_plugin_unload(a.plugin);
  json_t *rb2 = task_output(&b, in);
  cr_assert_eq(num(rb2, "durationMs"), 7000);
  json_decref(ra);
  json_decref(rb);
  json_decref(rb2);
  env_close(&b);
  env_close(&a);
}

/* ---- checksum ------------------------------------------------------------ */

static void assert_checksum(pd_env *env, const char *type, const char *records,
                            const char *hex) {
  char *in = wft_strf("{\"data\":{\"type\":\"%s\",\"records\":%s}}", type, records);
  json_t *out = task_output(env, in);
  char *want = wft_strf("sha256:%s", hex);
  cr_assert_str_eq(str(out, "checksum"), want, "%s %s", type, records);
  free(want);
  json_decref(out);
  free(in);
}

/* Expected values: SHA-256 over (8-byte big-endian length, bytes) per
 * record, computed independently (Python's hashlib). */
Test(process_data, checksum_covers_canonical_records) {
  pd_env env;
  env_open(&env, NULL);
  assert_checksum(&env, "text", "[\"hello\",\"world\"]",
                  "2e3babebf8f4063be0a8da570523b3355e0d8f1010cb1ad8c67f5f2c3ab7e787");
  /* Binary records count by their decoded bytes. */
  assert_checksum(&env, "binary", "[\"aGVsbG8=\"]",
                  "c6402d15196824a049ad87c371a5047a673535c2ac8607e2bfa483f7591cc27a");
  assert_checksum(&env, "text", "[\"hello\"]",
                  "c6402d15196824a049ad87c371a5047a673535c2ac8607e2bfa483f7591cc27a");
  /* JSON documents hash as compact text with sorted keys, however they
   * were written. */
  const char *canon = "3644dfb60b7274b61736da597c3b6b86444fcd4aa74153aab28cc3005161ff5e";
  assert_checksum(&env, "json", "[{\"b\":1,\"a\":[1,2]}]", canon);
  assert_checksum(&env, "json", "[\"{ \\\"a\\\" : [1, 2], \\\"b\\\": 1 }\"]", canon);
  /* Invalid records are left out. */
  assert_checksum(&env, "text", "[\"hello\",7,\"world\"]",
                  "2e3babebf8f4063be0a8da570523b3355e0d8f1010cb1ad8c67f5f2c3ab7e787");
  env_close(&env);
}

/* ---- processing time ------------------------------------------------------ */

Test(process_data, processing_time_follows_the_table_on_the_virtual_clock) {
  pd_env env;
  env_open(&env, "{\"processingTime\":{\"csv\":{\"baseMs\":5000,"
                 "\"perRecordMs\":100}}}");
  int64_t real0 = wft_mono_ms();
  wf_execution *x = run_named(&env, env.task, "{\"data\":{\"type\":\"csv\","
                              "\"records\":[\"a,b\",\"1,2\",\"3,4\"]}}", NULL);
  wft_assert_succeeded(x, NULL);
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x), 5300);
  cr_assert_lt(wft_mono_ms() - real0, WFT_REAL_MS_MAX);
  json_t *out = wft_parse(wf_execution_output(x));
  cr_assert_eq(num(out, "durationMs"), 5300);
  cr_assert_str_eq(str(out, "startedAt"), "2023-11-14T22:13:20.000Z");
  cr_assert_str_eq(str(out, "completedAt"), "2023-11-14T22:13:25.300Z");
  json_decref(out);
  wf_execution_free(x);
  env_close(&env);
}

Test(process_data, default_processing_times_depend_on_the_data_type) {
  static const struct {
    const char *type, *records;
    long long ms; /* base + 2 * per record, README's table */
  } cases[] = {
      {"json", "[{},[]]", 1020},           {"csv", "[\"a\",\"b\"]", 1510},
      {"xml", "[\"<a/>\",\"<b/>\"]", 2040}, {"text", "[\"a\",\"b\"]", 504},
      {"binary", "[\"AA==\",\"\"]", 3050},
  };
  pd_env env;
  env_open(&env, NULL);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *in = wft_strf("{\"data\":{\"type\":\"%s\",\"records\":%s}}",
                        cases[i].type, cases[i].records);
    json_t *out = task_output(&env, in);
    cr_assert_str_eq(str(out, "status"), "SUCCESS", "%s", cases[i].type);
    cr_assert_eq(num(out, "durationMs"), cases[i].ms, "%s", cases[i].type);
    json_decref(out);
    free(in);
  }
  env_close(&env);
}

/* ---- results and options ---------------------------------------------------- */

Test(process_data, invalid_records_can_fail_the_task) {
  pd_env env;
  env_open(&env, "{\"invalidRecords\":\"fail\"}");
  wf_execution *x = run_named(&env, env.task, "{\"data\":{\"type\":\"csv\","
                              "\"records\":[\"a,b\",\"1\"]}}", NULL);
  wft_assert_failed(x, "ProcessData.ValidationError",
                    "1 of 2 records failed validation; record 1: csv: 1 "
                    "fields, expected 2 as in record 0");
  /* The records were processed first: the table's time passed. */
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x), 1510);
  wf_execution_free(x);
  env_close(&env);
}

Test(process_data, lists_at_most_max_errors_problems) {
  pd_env env;
  env_open(&env, "{\"maxErrors\":2}");
  json_t *out = task_output(&env, "{\"data\":{\"type\":\"text\",\"records\":"
                                  "[1,2,\"ok\",3,4,5]}}");
  cr_assert_eq(num(out, "recordsInvalid"), 5);
  json_t *errors = json_object_get(out, "errors");
  cr_assert_eq(json_array_size(errors), 2);
  cr_assert_eq(num(json_array_get(errors, 1), "index"), 1);
  cr_assert_str_eq(str(out, "status"), "PARTIAL");
  json_decref(out);
  env_close(&env);
}

Test(process_data, correlation_id_from_input_start_options_or_name) {
  pd_env env;
  env_open(&env, NULL);
  const char *data = "\"data\":{\"type\":\"text\",\"records\":[\"a\"]}";
  char *with = wft_strf("{%s,\"correlationId\":\"from-input\"}", data);
  char *without = wft_strf("{%s}", data);
  json_t *out = task_output(&env, with);
  cr_assert_str_eq(str(out, "correlationId"), "from-input");
  json_decref(out);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "exec-name";
  so.correlation_id = "from-start";
  wf_execution *x = wft_run(env.engine, env.task, without, &so);
  out = wft_parse(wf_execution_output(x));
  cr_assert_str_eq(str(out, "correlationId"), "from-start");
  json_decref(out);
  wf_execution_free(x);
  x = run_named(&env, env.task, without, "only-a-name");
  out = wft_parse(wf_execution_output(x));
  cr_assert_str_eq(str(out, "correlationId"), "only-a-name");
  json_decref(out);
  wf_execution_free(x);
  free(with);
  free(without);
  env_close(&env);
}

/* The structured log line of `event`, parsed (NULL when absent). */
static json_t *log_line(pd_env *env, const char *event) {
  pthread_mutex_lock(&env->mu);
  char *copy = strdup(env->log ? env->log : "");
  pthread_mutex_unlock(&env->mu);
  json_t *found = NULL;
  for (char *save, *line = strtok_r(copy, "\n", &save); line && !found;
       line = strtok_r(NULL, "\n", &save)) {
    json_t *v = wft_parse(line);
    const char *ev = json_string_value(json_object_get(v, "event"));
    if (ev && strcmp(ev, event) == 0)
      found = v;
    else
      json_decref(v);
  }
  free(copy);
  return found;
}

Test(process_data, logs_start_completion_and_rejection) {
  pd_env env;
  env_open(&env, NULL);
  wf_execution *x = run_named(&env, env.task, "{\"data\":{\"type\":\"text\","
                              "\"records\":[\"a b\",5]}}", "logged");
  wft_assert_succeeded(x, NULL);
  wf_execution_free(x);
  json_t *start = log_line(&env, "ProcessDataStarted");
  cr_assert_not_null(start);
  cr_assert_str_eq(str(start, "correlationId"), "logged");
  cr_assert_str_eq(str(start, "state"), "ProcessData");
  json_t *done = log_line(&env, "ProcessDataCompleted");
  cr_assert_not_null(done);
  cr_assert_str_eq(str(done, "level"), "INFO");
  cr_assert_str_eq(str(done, "status"), "PARTIAL");
  cr_assert_eq(num(done, "recordsProcessed"), 2);
  cr_assert_eq(num(done, "recordsValid"), 1);
  cr_assert_eq(num(done, "recordsInvalid"), 1);
  cr_assert_eq(num(done, "durationMs"), 504);
  x = run_named(&env, env.task, "{\"data\":{\"type\":\"yaml\",\"records\":[1]}}",
                "refused");
  wf_execution_free(x);
  json_t *rejected = log_line(&env, "ProcessDataRejected");
  cr_assert_not_null(rejected);
  cr_assert_str_eq(str(rejected, "level"), "WARN");
  cr_assert_str_eq(str(rejected, "error"), "ProcessData.InvalidInput");
  cr_assert_str_eq(str(rejected, "correlationId"), "refused");
  json_decref(start);
  json_decref(done);
  json_decref(rejected);
  env_close(&env);
}

/* ---- the seed workflow's routing -------------------------------------------- */

static char *seed_run(pd_env *env, wf_machine *m, const char *input,
                      const char *name) {
  wf_execution *x = run_named(env, m, input, name);
  char *sig = attempts(x);
  wf_execution_free(x);
  return sig;
}

Test(process_data, seed_workflow_routes_refusals_and_partial_results_to_failure) {
  pd_env env;
  env_open(&env, NULL);
  wf_machine *m = seed_machine(&env);
  /* InvalidInput is not in the Retry list: one attempt, then Catch. */
  char *sig = seed_run(&env, m, "{\"data\":{\"type\":\"yaml\",\"records\":[1]}}", "a");
  cr_assert_str_eq(sig, "F:ProcessData.InvalidInput | 2 ProcessingFailed");
  free(sig);
  /* PARTIAL is not SUCCESS: CheckStatus's Default. */
  sig = seed_run(&env, m, "{\"data\":{\"type\":\"text\",\"records\":[\"a\",1]}}", "b");
  cr_assert_str_eq(sig, "S | 2 ProcessingFailed");
  free(sig);
  wf_machine_free(m);
  env_close(&env);
}

/* ---- simulated failures --------------------------------------------------------- */

#define SEED_INPUT                                              \
  "{\"data\":{\"type\":\"json\",\"records\":[{\"n\":1}]},"              \
  "\"notification\":{\"type\":\"EMAIL\"}}"
#define RUNS 24

/* The attempts of RUNS seed-workflow executions under `config`. */
static char **seed_outcomes(const char *config) {
  pd_env env;
  env_open(&env, config);
  wf_machine *m = seed_machine(&env);
  char **sigs = calloc(RUNS, sizeof *sigs);
  for (int i = 0; i < RUNS; i++) {
    char name[32];
    snprintf(name, sizeof name, "exec-%02d", i);
    sigs[i] = seed_run(&env, m, SEED_INPUT, name);
  }
  wf_machine_free(m);
  env_close(&env);
  return sigs;
}

static void free_outcomes(char **sigs) {
  for (int i = 0; i < RUNS; i++) free(sigs[i]);
  free(sigs);
}

static bool any_outcome(char **sigs, const char *prefix) {
  for (int i = 0; i < RUNS; i++)
    if (strncmp(sigs[i], prefix, strlen(prefix)) == 0) return true;
  return false;
}

Test(process_data, simulated_outcomes_are_reproducible_per_seed) {
  const char *seven = "{\"simulation\":{\"successRate\":0.5,\"seed\":7}}";
  char **a = seed_outcomes(seven), **b = seed_outcomes(seven);
  char **c = seed_outcomes("{\"simulation\":{\"successRate\":0.5,\"seed\":8}}");
  bool differs = false;
  for (int i = 0; i < RUNS; i++) {
    cr_assert_str_eq(a[i], b[i], "execution %d: '%s' then '%s'", i, a[i], b[i]);
    differs |= strcmp(a[i], c[i]) != 0;
  }
  cr_assert(differs, "seeds 7 and 8 gave the same outcomes");
  /* The mix shows each behaviour: success at once, a transient error
   * retried into success, a timeout retried (States.Timeout), and a FAILED
   * result routed to ProcessingFailed without retry. */
  cr_assert(any_outcome(a, "S | 1"));
  cr_assert(any_outcome(a, "F:ProcessData.TransientError S | 1"));
  cr_assert(any_outcome(a, "T "));
  cr_assert(any_outcome(a, "S | 2 ProcessingFailed"));
  free_outcomes(a);
  free_outcomes(b);
  free_outcomes(c);
}

Test(process_data, transient_errors_are_retried_until_attempts_run_out) {
  pd_env env;
  env_open(&env, "{\"simulation\":{\"successRate\":0,\"failures\":"
                 "[{\"error\":\"ProcessData.TransientError\"}]}}");
  wf_machine *m = seed_machine(&env);
  wf_execution *x = run_named(&env, m, SEED_INPUT, "always");
  char *sig = attempts(x);
  cr_assert_str_eq(sig, "F:ProcessData.TransientError F:ProcessData.TransientError "
                        "F:ProcessData.TransientError F:ProcessData.TransientError "
                        "| 2 ProcessingFailed");
  free(sig);
  wf_execution_free(x);
  wf_machine_free(m);
  env_close(&env);
}

/* A transient error, then success on the retry, and the same again when
 * the execution is repeated on a fresh engine. */
Test(process_data, transient_error_then_success_is_repeatable) {
  const char *config = "{\"simulation\":{\"successRate\":0.5,\"seed\":42,"
                       "\"failures\":[{\"error\":\"ProcessData.TransientError\"}]}}";
  const char *want = "F:ProcessData.TransientError S | 1 -";
  pd_env env;
  env_open(&env, config);
  wf_machine *m = seed_machine(&env);
  char name[32] = "";
  for (int i = 0; i < 64 && !name[0]; i++) {
    char candidate[32];
    snprintf(candidate, sizeof candidate, "try-%02d", i);
    char *sig = seed_run(&env, m, SEED_INPUT, candidate);
    if (strcmp(sig, want) == 0) snprintf(name, sizeof name, "%s", candidate);
    free(sig);
  }
  cr_assert(name[0], "no execution failed once and then succeeded");
  wf_machine_free(m);
  env_close(&env);
  env_open(&env, config);
  m = seed_machine(&env);
  char *again = seed_run(&env, m, SEED_INPUT, name);
  cr_assert_str_eq(again, want);
  free(again);
  wf_machine_free(m);
  env_close(&env);
}

Test(process_data, simulated_processing_error_is_a_failed_result) {
  pd_env env;
  env_open(&env, "{\"simulation\":{\"successRate\":0,\"failures\":"
                 "[{\"error\":\"ProcessData.ProcessingError\"}]}}");
  json_t *out = task_output(&env, SEED_INPUT);
  cr_assert_str_eq(str(out, "status"), "FAILED");
  cr_assert_str_eq(str(out, "error"), "ProcessData.ProcessingError");
  cr_assert(strstr(str(out, "cause"), "simulated"));
  cr_assert_eq(num(out, "recordsValid"), 1);
  json_decref(out);
  wf_machine *m = seed_machine(&env);
  char *sig = seed_run(&env, m, SEED_INPUT, "result");
  cr_assert_str_eq(sig, "S | 2 ProcessingFailed");
  free(sig);
  wf_machine_free(m);
  env_close(&env);
}

/* The task completes after its deadline, so the engine's timeout fires:
 * States.Timeout after TimeoutSeconds of virtual time, no real wait. */
Test(process_data, simulated_timeout_trips_states_timeout) {
  pd_env env;
  env_open(&env, "{\"simulation\":{\"successRate\":0,\"failures\":"
                 "[{\"error\":\"ProcessData.Timeout\"}]}}");
  wf_machine *m = task_machine("\"TimeoutSeconds\":10,");
  int64_t real0 = wft_mono_ms();
  wf_execution *x = run_named(&env, m, SEED_INPUT, NULL);
  wft_assert_failed(x, "States.Timeout", NULL);
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x), 10000);
  cr_assert_lt(wft_mono_ms() - real0, WFT_REAL_MS_MAX);
  wf_execution_free(x);
  wf_machine_free(m);
  env_close(&env);
}

Test(process_data, custom_failure_names_and_kinds) {
  pd_env env;
  env_open(&env, "{\"simulation\":{\"successRate\":0,\"failures\":"
                 "[{\"error\":\"Custom.Throttled\"}]}}");
  wf_execution *x = run_named(&env, env.task, SEED_INPUT, NULL);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "Custom.Throttled");
  wf_execution_free(x);
  env_close(&env);
  env_open(&env, "{\"simulation\":{\"successRate\":0,\"failures\":"
                 "[{\"error\":\"Custom.Bad\",\"kind\":\"result\"}]}}");
  json_t *out = task_output(&env, SEED_INPUT);
  cr_assert_str_eq(str(out, "status"), "FAILED");
  cr_assert_str_eq(str(out, "error"), "Custom.Bad");
  json_decref(out);
  env_close(&env);
}

/* ---- concurrency -------------------------------------------------------------- */

#define CONCURRENT 120

static const char *const MIXED_INPUTS[] = {
    "{\"data\":{\"type\":\"json\",\"records\":[{\"a\":1},{\"b\":[2,3]}]}}",
    "{\"data\":{\"type\":\"csv\",\"records\":[\"x,y\",\"1,\\\"2,3\\\"\"]}}",
    "{\"data\":{\"type\":\"xml\",\"records\":[\"<a><b>1</b></a>\"]}}",
    "{\"data\":{\"type\":\"text\",\"records\":[\"one two\",\"three\"]}}",
    "{\"data\":{\"type\":\"binary\",\"records\":[\"AAECAw==\"]}}",
};
#define NMIXED (sizeof MIXED_INPUTS / sizeof *MIXED_INPUTS)

/* Many executions at once on several scheduler threads give the same
 * results as one at a time. */
Test(process_data, concurrent_executions_match_sequential_ones) {
  pd_env env;
  env_start(&env, 4);
  wf_error err;
  cr_assert_eq(env_load(&env, NULL, &err), WF_OK, "%s", err.message);
  char *want[NMIXED];
  for (size_t k = 0; k < NMIXED; k++) {
    json_t *out = task_output(&env, MIXED_INPUTS[k]);
    want[k] = strdup(str(out, "checksum"));
    json_decref(out);
  }
  wf_execution *xs[CONCURRENT];
  for (int i = 0; i < CONCURRENT; i++) {
    char name[32];
    snprintf(name, sizeof name, "many-%03d", i);
    wf_start_options so = WF_START_OPTIONS_INIT;
    so.name = name;
    xs[i] = wft_start(env.engine, env.task, MIXED_INPUTS[i % NMIXED], &so);
  }
  for (int i = 0; i < CONCURRENT; i++) {
    wft_wait(xs[i]);
    wft_assert_succeeded(xs[i], NULL);
    json_t *out = wft_parse(wf_execution_output(xs[i]));
    cr_assert_str_eq(str(out, "status"), "SUCCESS");
    cr_assert_str_eq(str(out, "checksum"), want[i % NMIXED], "execution %d", i);
    cr_assert_str_eq(str(out, "correlationId"), wf_execution_name(xs[i]));
    json_decref(out);
    wf_execution_free(xs[i]);
  }
  for (size_t k = 0; k < NMIXED; k++) free(want[k]);
  env_close(&env);
}
