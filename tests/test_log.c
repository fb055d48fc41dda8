/* Structured logging (engine options log, log_path, log_level): one JSON
 * line per execution event with timestamp, level, correlationId,
 * execution, state, event, eventId, durationMs and error/cause; lines a
 * handler writes through host->log carrying its task's correlation id,
 * state and attempt; level filtering; the file and stderr sinks; following
 * one request by its correlation id while another runs; `wf run --log`. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plugins/tp_support.h"
#include "tool_support.h"
#include "workflow/plugin.h"
#include "workflow/workflow.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"


static tp_env env;
/* A directory for log files, apart from the plugin directory. */
static char logdir[PATH_MAX];

static void setup(void) {
  memset(&env, 0, sizeof env);
  logdir[0] = '\0';
}

static void teardown(void) {
  tp_env_fini(&env);
  tp_rmtree(logdir);
}

TestSuite(log, .init = setup, .fini = teardown);

/* ---- handlers ----------------------------------------------------------- */

static char seen_correlation[128];

static void echo(wf_task *t, void *payload) {
  (void)payload;
  const char *cid = wf_task_correlation_id(t);
  snprintf(seen_correlation, sizeof seen_correlation, "%s", cid ? cid : "");
  wf_task_succeed(t, wf_task_input(t));
}

static void fail(wf_task *t, void *payload) {
  (void)payload;
  wf_task_fail(t, "MyError", "it broke");
}

/* The engine of tp_env_init() with two handlers: FN "Echo", FN "Fail". */
static void init_engine(const wf_engine_options *opts) {
  tp_env_init(&env, opts);
  wf_error err;
  cr_assert_eq(wf_engine_register_handler(env.engine, FN "Echo", echo, NULL,
                                          WF_HANDLER_INLINE, &err),
               WF_OK);
  cr_assert_eq(wf_engine_register_handler(env.engine, FN "Fail", fail, NULL,
                                          0, &err),
               WF_OK);
}

/* "2023-11-14T22:13:20.000Z" for ms since the epoch. */
static void iso_ms(char out[32], int64_t ms) {
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* The lines of execution events (those with an eventId), new reference. */
static json_t *event_lines(json_t *lines) {
  json_t *out = json_array();
  size_t i;
  json_t *v;
  json_array_foreach(lines, i, v) {
    if (json_object_get(v, "eventId")) json_array_append(out, v);
  }
  return out;
}

static const char PASS_WAIT_TASK[] =
    "{\"StartAt\":\"P\",\"States\":{"
    "\"P\":{\"Type\":\"Pass\",\"Next\":\"W\"},"
    "\"W\":{\"Type\":\"Wait\",\"Seconds\":5,\"Next\":\"T\"},"
    "\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN "Echo\",\"End\":true}}}";

/* ---- execution events --------------------------------------------------- */

Test(log, one_line_per_history_event_with_its_fields) {
  init_engine(NULL);
  wf_machine *m = wft_load(PASS_WAIT_TASK);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "exec-1";
  wf_execution *x = wft_run(env.engine, m, "{\"a\":1}", &so);
  wft_assert_succeeded(x, "{\"a\":1}");

  json_t *lines = tp_lines_json(&env.lines);
  json_t *evl = event_lines(lines);
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  cr_assert_eq(json_array_size(evl), json_array_size(events),
               "%zu event lines for %zu events", json_array_size(evl),
               json_array_size(events));
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    json_t *line = json_array_get(evl, i);
    const char *type = tp_str(ev, "type");
    cr_assert_str_eq(tp_str(line, "event"), type);
    cr_assert_eq(json_integer_value(json_object_get(line, "eventId")),
                 json_integer_value(json_object_get(ev, "id")));
    char ts[32];
    iso_ms(ts, (int64_t)(json_number_value(json_object_get(ev, "timestamp")) *
                             1000.0 + 0.5));
    cr_assert_str_eq(tp_str(line, "timestamp"), ts, "%s", type);
    cr_assert_str_eq(tp_str(line, "level"), "INFO");
    cr_assert_str_eq(tp_str(line, "correlationId"), "exec-1");
    cr_assert_str_eq(tp_str(line, "execution"), wf_execution_arn(x));
    cr_assert_null(json_object_get(line, "error"));
    /* The state is named on every event of a state, on none of the
     * execution's own. */
    if (strncmp(type, "Execution", 9) == 0)
      cr_assert_null(json_object_get(line, "state"), "%s", type);
    else
      cr_assert_not_null(tp_str(line, "state"), "%s", type);
    if (strncmp(type, "LambdaFunction", 14) == 0)
      cr_assert_str_eq(tp_str(line, "resource"), FN "Echo");
  }
  /* Durations: on leaving a state, and on the execution's end only. */
  static const struct {
    const char *event, *state;
    json_int_t ms;
  } durations[] = {{"PassStateExited", "P", 0},
                   {"WaitStateExited", "W", 5000},
                   {"TaskStateExited", "T", 0},
                   {"ExecutionSucceeded", NULL, 5000}};
  for (size_t k = 0; k < 4; k++) {
    json_t *line = tp_one_event(evl, durations[k].event);
    cr_assert_eq(json_integer_value(json_object_get(line, "durationMs")),
                 durations[k].ms, "%s", durations[k].event);
    if (durations[k].state)
      cr_assert_str_eq(tp_str(line, "state"), durations[k].state);
  }
  size_t with_duration = 0;
  json_array_foreach(evl, i, ev) {
    with_duration += json_object_get(ev, "durationMs") != NULL;
  }
  cr_assert_eq(with_duration, 4);
  cr_assert_str_eq(tp_str(tp_one_event(evl, "WaitStateExited"), "timestamp"),
                   "2023-11-14T22:13:25.000Z");
  json_decref(doc);
  json_decref(evl);
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);
}

Test(log, correlation_id_is_the_given_one_or_the_execution_name) {
  init_engine(NULL);
  wf_machine *m = wft_load(PASS_WAIT_TASK);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "named";
  so.correlation_id = "req-42";
  wf_execution *x = wft_run(env.engine, m, NULL, &so);
  cr_assert_str_eq(seen_correlation, "req-42");
  wf_execution_free(x);
  so.name = "unnamed-id";
  so.correlation_id = NULL;
  x = wft_run(env.engine, m, NULL, &so);
  cr_assert_str_eq(seen_correlation, "unnamed-id");
  wf_execution_free(x);
  /* Without a name either, the generated name serves. */
  x = wft_run(env.engine, m, NULL, NULL);
  cr_assert_str_eq(seen_correlation, wf_execution_name(x));
  const char *generated = wf_execution_name(x);

  json_t *lines = tp_lines_json(&env.lines);
  json_t *evl = event_lines(lines);
  json_t *a = tp_where(evl, "correlationId", "req-42");
  json_t *b = tp_where(evl, "correlationId", "unnamed-id");
  json_t *c = tp_where(evl, "correlationId", generated);
  size_t per_run = json_array_size(a);
  cr_assert_gt(per_run, 0);
  cr_assert_eq(json_array_size(b), per_run);
  cr_assert_eq(json_array_size(c), per_run);
  cr_assert_eq(json_array_size(evl), 3 * per_run);
  json_decref(a);
  json_decref(b);
  json_decref(c);
  json_decref(evl);
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);
}

/* The one `event` line ending an execution: at `level`, with its error,
 * cause and duration. */
static void assert_end_line(json_t *lines, const char *event,
                            const char *level, const char *error,
                            const char *cause) {
  json_t *end = tp_one_event(lines, event);
  cr_assert_str_eq(tp_str(end, "level"), level);
  cr_assert_str_eq(tp_str(end, "error"), error);
  cr_assert_str_eq(tp_str(end, "cause"), cause);
  cr_assert_not_null(json_object_get(end, "durationMs"));
}

Test(log, failures_carry_error_and_cause_at_level_error) {
  init_engine(NULL);
  wf_machine *m = tp_task_machine(FN "Fail", NULL);
  wf_execution *x = wft_run(env.engine, m, NULL, NULL);
  wft_assert_failed(x, "MyError", "it broke");
  json_t *lines = tp_lines_json(&env.lines);
  json_t *failed = tp_one_event(lines, "LambdaFunctionFailed");
  cr_assert_str_eq(tp_str(failed, "level"), "ERROR");
  cr_assert_str_eq(tp_str(failed, "error"), "MyError");
  cr_assert_str_eq(tp_str(failed, "cause"), "it broke");
  cr_assert_str_eq(tp_str(failed, "state"), "T");
  assert_end_line(lines, "ExecutionFailed", "ERROR", "MyError", "it broke");
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);

  /* A Fail state's error and cause. */
  tp_lines_clear(&env.lines);
  m = wft_load("{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\","
               "\"Error\":\"Order.Rejected\",\"Cause\":\"no stock\"}}}");
  x = wft_run(env.engine, m, NULL, NULL);
  lines = tp_lines_json(&env.lines);
  json_t *end = tp_one_event(lines, "ExecutionFailed");
  cr_assert_str_eq(tp_str(end, "error"), "Order.Rejected");
  cr_assert_str_eq(tp_str(end, "cause"), "no stock");
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);
}

Test(log, an_aborted_execution_is_logged_as_a_warning) {
  init_engine(NULL);
  tp_control *c = &env.ctl[0];
  char cfg[128];
  tp_config(cfg, sizeof cfg, c, "");
  tp_install_load(env.engine, env.dir, "tp_slow", cfg);
  wf_machine *m = tp_task_machine(TP_FN "TpSlow", NULL);
  wf_execution *x = wft_start(env.engine, m, NULL, NULL);
  cr_assert_eq(tp_control_wait(c, &c->entered, 1, WFT_WAIT_MS), 1);
  cr_assert_eq(wf_execution_stop(x, "Operator.Stop", "by hand"), WF_OK);
  wft_wait(x);
  cr_assert_eq(tp_control_wait(c, &c->returned, 1, WFT_WAIT_MS), 1);
  json_t *lines = tp_lines_json(&env.lines);
  assert_end_line(lines, "ExecutionAborted", "WARN", "Operator.Stop",
                  "by hand");
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);
}

Test(log, a_timed_out_execution_is_logged_as_an_error) {
  init_engine(NULL);
  wf_machine *m = wft_load("{\"TimeoutSeconds\":5,\"StartAt\":\"W\","
                           "\"States\":{\"W\":{\"Type\":\"Wait\","
                           "\"Seconds\":60,\"End\":true}}}");
  wf_execution *x = wft_run(env.engine, m, NULL, NULL);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_TIMED_OUT);
  json_t *lines = tp_lines_json(&env.lines);
  json_t *end = tp_one_event(lines, "ExecutionTimedOut");
  cr_assert_str_eq(tp_str(end, "level"), "ERROR");
  cr_assert_str_eq(tp_str(end, "error"), "States.Timeout");
  cr_assert_eq(json_integer_value(json_object_get(end, "durationMs")), 5000);
  cr_assert_str_eq(tp_str(end, "timestamp"), "2023-11-14T22:13:25.000Z");
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);
}

/* ---- levels ------------------------------------------------------------- */

/* Run a failing Task and a tp_log Task at this level; return the lines. */
static json_t *lines_at_level(wf_log_level level) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.log_level = level;
  init_engine(&o);
  tp_install_load(env.engine, env.dir, "tp_log", NULL);
  wf_machine *m = tp_task_machine(FN "Fail", NULL);
  wf_execution *x = wft_run(env.engine, m, NULL, NULL);
  wf_execution_free(x);
  wf_machine_free(m);
  m = tp_task_machine(TP_FN "TpLog", NULL);
  x = wft_run(env.engine, m, NULL, NULL);
  wft_assert_succeeded(x, NULL);
  wf_execution_free(x);
  wf_machine_free(m);
  return tp_lines_json(&env.lines);
}

static size_t count_event(json_t *lines, const char *event) {
  json_t *w = tp_where(lines, "event", event);
  size_t n = json_array_size(w);
  json_decref(w);
  return n;
}

Test(log, default_level_is_info) {
  json_t *lines = lines_at_level(0);
  cr_assert_eq(count_event(lines, "PluginLoaded"), 1);
  cr_assert_eq(count_event(lines, "ExecutionStarted"), 2);
  cr_assert_eq(count_event(lines, "TpStep"), 1);
  cr_assert_eq(count_event(lines, "HandlerLog"), 1);
  cr_assert_eq(count_event(lines, "TpError"), 1);
  cr_assert_eq(count_event(lines, "TpDebug"), 0);
  json_decref(lines);
}

Test(log, warn_level_keeps_warnings_and_errors) {
  json_t *lines = lines_at_level(WF_LOG_WARN);
  size_t i;
  json_t *v;
  json_array_foreach(lines, i, v) {
    const char *level = tp_str(v, "level");
    cr_assert(strcmp(level, "WARN") == 0 || strcmp(level, "ERROR") == 0,
              "a %s line at WARN: %s", level, tp_str(v, "event"));
  }
  cr_assert_eq(count_event(lines, "LambdaFunctionFailed"), 1);
  cr_assert_eq(count_event(lines, "ExecutionFailed"), 1);
  cr_assert_eq(count_event(lines, "HandlerLog"), 1);
  cr_assert_eq(count_event(lines, "TpError"), 1);
  cr_assert_eq(json_array_size(lines), 4);
  json_decref(lines);
}

Test(log, error_level_keeps_errors_only) {
  json_t *lines = lines_at_level(WF_LOG_ERROR);
  cr_assert_eq(count_event(lines, "LambdaFunctionFailed"), 1);
  cr_assert_eq(count_event(lines, "ExecutionFailed"), 1);
  cr_assert_eq(count_event(lines, "TpError"), 1);
  cr_assert_eq(json_array_size(lines), 3);
  json_decref(lines);
}

/* ---- handler lines ------------------------------------------------------ */

Test(log, handler_lines_carry_the_task_context) {
  init_engine(NULL);
  tp_install_load(env.engine, env.dir, "tp_log", NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"Log\",\"States\":{\"Log\":{\"Type\":\"Task\","
      "\"Resource\":\"" TP_FN "TpLog\",\"Retry\":[{\"ErrorEquals\":["
      "\"Tp.Retry\"],\"IntervalSeconds\":2,\"MaxAttempts\":1}],"
      "\"End\":true}}}");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "logged";
  so.correlation_id = "req-7";
  wf_execution *x = wft_run(env.engine, m, "{\"failFirst\":true}", &so);
  wft_assert_succeeded(x, "{\"correlationId\":\"req-7\",\"execution\":"
                          "\"logged\",\"state\":\"Log\",\"attempt\":1}");

  json_t *lines = tp_lines_json(&env.lines);
  json_t *steps = tp_where(lines, "event", "TpStep");
  cr_assert_eq(json_array_size(steps), 2);
  static const char *const when[] = {"2023-11-14T22:13:20.000Z",
                                     "2023-11-14T22:13:22.000Z"};
  for (size_t i = 0; i < 2; i++) {
    json_t *s = json_array_get(steps, i);
    cr_assert_eq(json_integer_value(json_object_get(s, "attempt")),
                 (json_int_t)i);
    cr_assert_str_eq(tp_str(s, "timestamp"), when[i]);
    cr_assert_str_eq(tp_str(s, "level"), "INFO");
    cr_assert_str_eq(tp_str(s, "correlationId"), "req-7");
    cr_assert_str_eq(tp_str(s, "execution"), wf_execution_arn(x));
    cr_assert_str_eq(tp_str(s, "state"), "Log");
    cr_assert_str_eq(tp_str(s, "resource"), TP_FN "TpLog");
    /* The handler's own fields, as JSON values. */
    cr_assert_str_eq(tp_str(s, "step"), "begin");
    json_t *want = wft_parse("{\"n\":1}");
    cr_assert(json_equal(json_object_get(s, "detail"), want));
    json_decref(want);
    cr_assert_null(json_object_get(s, "eventId"));
  }
  json_decref(steps);
  /* Text that is not a JSON object becomes "message". */
  json_t *plain = tp_where(lines, "event", "HandlerLog");
  cr_assert_eq(json_array_size(plain), 2);
  cr_assert_str_eq(tp_str(json_array_get(plain, 0), "message"),
                   "plain text, not JSON");
  cr_assert_str_eq(tp_str(json_array_get(plain, 0), "level"), "WARN");
  cr_assert_str_eq(tp_str(json_array_get(plain, 1), "correlationId"),
                   "req-7");
  json_decref(plain);
  json_t *errs = tp_where(lines, "event", "TpError");
  cr_assert_eq(json_array_size(errs), 2);
  cr_assert_str_eq(tp_str(json_array_get(errs, 1), "message"), "[1,2]");
  cr_assert_str_eq(tp_str(json_array_get(errs, 1), "level"), "ERROR");
  json_decref(errs);
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);
}

/* The position of the first and last line of a correlation id. */
static void span(json_t *lines, const char *cid, size_t *first,
                 size_t *last) {
  *first = SIZE_MAX;
  *last = 0;
  size_t i;
  json_t *v;
  json_array_foreach(lines, i, v) {
    const char *c = tp_str(v, "correlationId");
    if (c && strcmp(c, cid) == 0) {
      if (*first == SIZE_MAX) *first = i;
      *last = i;
    }
  }
  cr_assert_neq(*first, SIZE_MAX, "no line for %s", cid);
}

Test(log, one_request_can_be_followed_by_its_correlation_id) {
  init_engine(NULL);
  tp_control *c = &env.ctl[0];
  char cfg[128];
  tp_config(cfg, sizeof cfg, c, "");
  tp_install_load(env.engine, env.dir, "tp_log", cfg);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"Log\",\"States\":{"
      "\"Log\":{\"Type\":\"Task\",\"Resource\":\"" TP_FN "TpLog\","
      "\"ResultPath\":null,\"Next\":\"Pause\"},"
      "\"Pause\":{\"Type\":\"Wait\",\"Seconds\":3,\"Next\":\"Done\"},"
      "\"Done\":{\"Type\":\"Pass\",\"End\":true}}}");
  /* Both handlers wait for each other: the executions overlap. */
  wf_start_options sa = WF_START_OPTIONS_INIT, sb = WF_START_OPTIONS_INIT;
  sa.name = "order-a";
  sa.correlation_id = "req-A";
  sb.name = "order-b";
  sb.correlation_id = "req-B";
  wf_execution *xa = wft_start(env.engine, m, "{\"barrier\":2}", &sa);
  wf_execution *xb = wft_start(env.engine, m, "{\"barrier\":2}", &sb);
  wft_wait(xa);
  wft_wait(xb);
  wft_assert_succeeded(xa, NULL);
  wft_assert_succeeded(xb, NULL);

  json_t *lines = tp_lines_json(&env.lines);
  wf_execution *xs[2] = {xa, xb};
  const char *cids[2] = {"req-A", "req-B"};
  size_t first[2], last[2];
  for (int k = 0; k < 2; k++) {
    json_t *mine = tp_where(lines, "correlationId", cids[k]);
    size_t n = json_array_size(mine);
    cr_assert_str_eq(tp_str(json_array_get(mine, 0), "event"),
                     "ExecutionStarted");
    cr_assert_str_eq(tp_str(json_array_get(mine, n - 1), "event"),
                     "ExecutionSucceeded");
    /* Every event of the execution is there, in order, and only its own. */
    json_int_t next_id = 1;
    size_t i;
    json_t *v;
    json_array_foreach(mine, i, v) {
      cr_assert_str_eq(tp_str(v, "execution"), wf_execution_arn(xs[k]));
      json_t *id = json_object_get(v, "eventId");
      if (id) cr_assert_eq(json_integer_value(id), next_id++);
    }
    cr_assert_eq((size_t)(next_id - 1), wf_execution_history_count(xs[k]));
    /* The handler's lines are among them. */
    json_t *steps = tp_where(mine, "event", "TpStep");
    cr_assert_eq(json_array_size(steps), 1);
    cr_assert_str_eq(tp_str(json_array_get(steps, 0), "state"), "Log");
    json_decref(steps);
    json_decref(mine);
    span(lines, cids[k], &first[k], &last[k]);
  }
  /* The two requests ran at the same time: their lines interleave. */
  cr_assert_lt(first[1], last[0]);
  cr_assert_lt(first[0], last[1]);
  /* No execution line lacks a correlation id. */
  size_t i;
  json_t *v;
  json_array_foreach(lines, i, v) {
    if (json_object_get(v, "execution"))
      cr_assert_not_null(tp_str(v, "correlationId"));
  }
  json_decref(lines);
  wf_execution_free(xa);
  wf_execution_free(xb);
  wf_machine_free(m);
}

/* ---- file and stderr sinks ---------------------------------------------- */

/* The lines of a file (free each and the array). */
static char **read_lines(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "%s", path);
  char **v = NULL;
  *n = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) > 0) {
    cr_assert_eq(line[len - 1], '\n', "a line without its newline: %s", line);
    line[len - 1] = '\0';
    v = realloc(v, (*n + 1) * sizeof *v);
    v[(*n)++] = strdup(line);
  }
  free(line);
  fclose(f);
  return v;
}

static void free_lines(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(log, log_path_appends_one_line_per_record) {
  tp_mkdtemp(logdir, "logfile");
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/wf.log", logdir);
  tp_write_file(path, "{\"previous\":true}\n", 18, 0644);

  /* Both sinks: the callback and the file get the same lines. */
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.log_path = path;
  init_engine(&o);
  wf_machine *m = wft_load(PASS_WAIT_TASK);
  wf_execution *x = wft_run(env.engine, m, NULL, NULL);
  size_t events = wf_execution_history_count(x);
  wf_execution_free(x);
  wf_engine_free(env.engine);
  env.engine = NULL;

  size_t n;
  char **lines = read_lines(path, &n);
  cr_assert_eq(n, 1 + events, "%zu lines for %zu events", n, events);
  cr_assert_str_eq(lines[0], "{\"previous\":true}");
  cr_assert_eq(env.lines.n, events);
  for (size_t i = 1; i < n; i++) json_decref(tp_parse_line(lines[i]));
  qsort(lines + 1, n - 1, sizeof *lines, cmp_str);
  qsort(env.lines.v, env.lines.n, sizeof *env.lines.v, cmp_str);
  for (size_t i = 1; i < n; i++)
    cr_assert_str_eq(lines[i], env.lines.v[i - 1]);
  free_lines(lines, n);

  /* Another engine appends after what is there. */
  o.log = NULL;
  o.clock = env.clock;
  wf_engine *e2 = wft_engine(&o);
  cr_assert_eq(wf_engine_register_handler(e2, FN "Echo", echo, NULL,
                                          WF_HANDLER_INLINE, NULL),
               WF_OK);
  x = wft_run(e2, m, NULL, NULL);
  wf_execution_free(x);
  wf_engine_free(e2);
  lines = read_lines(path, &n);
  cr_assert_eq(n, 1 + 2 * events, "%zu lines for twice %zu events", n,
               events);
  cr_assert_str_eq(lines[0], "{\"previous\":true}");
  json_t *last = tp_parse_line(lines[n - 1]);
  cr_assert_str_eq(tp_str(last, "event"), "ExecutionSucceeded");
  json_decref(last);
  free_lines(lines, n);
  wf_machine_free(m);
}

Test(log, log_path_that_cannot_be_opened_fails_engine_creation) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.log_path = WF_BINARY_DIR "/tests/no-such-dir/wf.log";
  wf_engine *e = (wf_engine *)&e;
  wf_error err;
  cr_assert_eq(wf_engine_new(&e, &o, &err), WF_EIO);
  cr_assert_null(e);
  cr_assert_not_null(strstr(err.message, o.log_path), "%s", err.message);
  cr_assert_not_null(strstr(err.message, "No such file"), "%s", err.message);
}

static void setup_stderr(void) {
  setup();
  cr_redirect_stderr();
}

Test(log, log_path_dash_writes_to_stderr, .init = setup_stderr) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.log_path = "-";
  init_engine(&o);
  wf_machine *m = wft_load(PASS_WAIT_TASK);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.correlation_id = "to-stderr";
  wf_execution *x = wft_run(env.engine, m, NULL, &so);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(env.engine);
  env.engine = NULL;
  fflush(stderr);
  FILE *f = cr_get_redirected_stderr();
  char line[4096];
  size_t matched = 0;
  while (fgets(line, sizeof line, f)) {
    if (!strstr(line, "\"correlationId\":\"to-stderr\"")) continue;
    matched++;
    line[strcspn(line, "\n")] = '\0';
    json_decref(tp_parse_line(line));
  }
  cr_assert_eq(matched, env.lines.n, "%zu lines on stderr, %zu given to "
               "the callback", matched, env.lines.n);
  cr_assert_gt(matched, 0);
}

/* ---- wf run --log ------------------------------------------------------- */

static const char CLI_MACHINE[] =
    "{\"StartAt\":\"Log\",\"States\":{"
    "\"Log\":{\"Type\":\"Task\",\"Resource\":\"" TP_FN "TpLog\","
    "\"Next\":\"Pause\"},"
    "\"Pause\":{\"Type\":\"Wait\",\"Seconds\":60,\"End\":true}}}";

Test(log, wf_run_log_file_traces_the_request) {
  tp_mkdtemp(env.dir, "cli");
  char *plugin = tp_install(env.dir, "tp_log");
  char def[PATH_MAX + 16], cfg[PATH_MAX + 16], log[PATH_MAX + 16];
  snprintf(def, sizeof def, "%s/machine.json", env.dir);
  snprintf(cfg, sizeof cfg, "%s/config.json", env.dir);
  snprintf(log, sizeof log, "%s/wf.log", env.dir);
  tp_write_file(def, CLI_MACHINE, strlen(CLI_MACHINE), 0644);
  tp_write_file(cfg, "{\"unused\":1}", 12, 0644);
  const char *const args[] = {"run", def, "--plugin", plugin,
                              "--plugin-config", cfg, "--log", log,
                              "--virtual-time", "--correlation-id", "cli-1",
                              "--name", "cli-exec", NULL};
  wft_tool_require();
  wft_tool_run r = wft_tool(env.dir, args);
  cr_assert_eq(r.status, 0, "wf run exited %d: %s", r.status, r.err);
  cr_assert_not_null(strstr(r.out, "\"status\":\"SUCCEEDED\""), "%s", r.out);

  size_t n;
  char **raw = read_lines(log, &n);
  json_t *lines = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(lines, tp_parse_line(raw[i]));
  free_lines(raw, n);
  char *rp = realpath(plugin, NULL);
  cr_assert_str_eq(tp_str(tp_one_event(lines, "PluginLoaded"), "path"), rp);
  cr_assert_str_eq(tp_str(json_array_get(lines, n - 1), "event"),
                   "PluginUnloaded");
  free(rp);
  json_t *mine = tp_where(lines, "correlationId", "cli-1");
  /* Everything but the plugin's own load and unload belongs to it. */
  cr_assert_eq(json_array_size(mine), n - 2);
  cr_assert_str_eq(tp_str(json_array_get(mine, 0), "event"),
                   "ExecutionStarted");
  json_t *end = json_array_get(mine, json_array_size(mine) - 1);
  cr_assert_str_eq(tp_str(end, "event"), "ExecutionSucceeded");
  cr_assert_eq(json_integer_value(json_object_get(end, "durationMs")), 60000);
  json_t *step = tp_one_event(mine, "TpStep");
  cr_assert_str_eq(tp_str(step, "state"), "Log");
  cr_assert_not_null(strstr(tp_str(step, "execution"), ":cli-exec"));
  json_decref(mine);
  json_decref(lines);
  wft_tool_run_free(&r);
  free(plugin);
}

Test(log, wf_run_log_dash_writes_lines_to_stderr) {
  tp_mkdtemp(env.dir, "cli");
  char *plugin = tp_install(env.dir, "tp_log");
  char def[PATH_MAX + 16];
  snprintf(def, sizeof def, "%s/machine.json", env.dir);
  tp_write_file(def, CLI_MACHINE, strlen(CLI_MACHINE), 0644);
  const char *const args[] = {"run", def, "--plugin", plugin, "--log", "-",
                              "--virtual-time", "--correlation-id", "cli-2",
                              NULL};
  wft_tool_require();
  wft_tool_run r = wft_tool(env.dir, args);
  cr_assert_eq(r.status, 0, "wf run exited %d: %s", r.status, r.err);
  /* stdout holds the result alone, one line; the log went to stderr. */
  cr_assert_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1, "%s", r.out);
  json_t *result = wft_parse(r.out);
  cr_assert_str_eq(tp_str(result, "status"), "SUCCEEDED");
  json_decref(result);
  cr_assert_not_null(strstr(r.err, "\"event\":\"ExecutionSucceeded\""),
                     "%s", r.err);
  cr_assert_not_null(strstr(r.err, "\"correlationId\":\"cli-2\""), "%s",
                     r.err);
  wft_tool_run_free(&r);
  free(plugin);
}

/* ---- levels, and what a handler may put on a line ------------------------- */

/* WF_LOG_DEBUG is 1, not 0 (0 means the default, INFO): asking for DEBUG
 * lets the handlers' DEBUG lines through, which INFO keeps out. */
Test(log, debug_level_can_be_selected) {
  cr_assert_neq(WF_LOG_DEBUG, 0);
  json_t *lines = lines_at_level(WF_LOG_DEBUG);
  cr_assert_eq(count_event(lines, "TpDebug"), 1);
  json_t *debug = tp_one_event(lines, "TpDebug");
  cr_assert_str_eq(tp_str(debug, "level"), "DEBUG");
  cr_assert_str_eq(tp_str(debug, "resource"), TP_FN "TpLog");
  /* Everything INFO lets through is there too. */
  cr_assert_eq(count_event(lines, "PluginLoaded"), 1);
  cr_assert_eq(count_event(lines, "ExecutionStarted"), 2);
  cr_assert_eq(count_event(lines, "TpStep"), 1);
  cr_assert_eq(count_event(lines, "TpError"), 1);
  json_decref(lines);
}

Test(log, unknown_level_is_refused) {
  static const int bad[] = {WF_LOG_ERROR + 1, 99, -1};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
    o.log_level = (wf_log_level)bad[i];
    wf_engine *e = (wf_engine *)&o; /* not NULL: the call must clear it */
    wf_error err;
    memset(&err, 0, sizeof err);
    int rc = wf_engine_new(&e, &o, &err);
    cr_assert_eq(rc, WF_EINVAL, "level %d: %s", bad[i], wf_error_name(rc));
    cr_assert_eq(err.code, WF_EINVAL);
    cr_assert_null(e);
    char want[64];
    snprintf(want, sizeof want, "unknown log level %d", bad[i]);
    cr_assert_not_null(strstr(err.message, want), "%s", err.message);
  }
}

Test(log, level_names) {
  cr_assert_str_eq(wf_log_level_name(WF_LOG_DEBUG), "DEBUG");
  cr_assert_str_eq(wf_log_level_name(WF_LOG_INFO), "INFO");
  cr_assert_str_eq(wf_log_level_name(WF_LOG_WARN), "WARN");
  cr_assert_str_eq(wf_log_level_name(WF_LOG_ERROR), "ERROR");
  cr_assert_null(wf_log_level_name((wf_log_level)0));
  cr_assert_null(wf_log_level_name((wf_log_level)(WF_LOG_ERROR + 1)));
  cr_assert_null(wf_log_level_name((wf_log_level)-1));
}

/* An in-process handler (wf_engine_register_handler) logging through
 * wf_task_log(): one line whose fields try to set every member the host
 * writes itself, one without an event name and text that is not JSON, and
 * one DEBUG line. */
static void task_logger(wf_task *t, void *payload) {
  (void)payload;
  wf_task_log(t, WF_LOG_WARN, "Forged",
              "{\"timestamp\":\"1999-01-01T00:00:00.000Z\",\"level\":\"DEBUG\","
              "\"correlationId\":\"spoofed\",\"execution\":\"arn:spoofed\","
              "\"state\":\"Elsewhere\",\"event\":\"ExecutionSucceeded\","
              "\"resource\":\"arn:spoofed\",\"attempt\":42,"
              "\"kept\":{\"a\":[1,2]},\"eventIdLike\":7}");
  wf_task_log(t, WF_LOG_INFO, NULL, "just words");
  wf_task_log(t, WF_LOG_DEBUG, "Detail", "{\"x\":1}");
  wf_task_succeed(t, "{}");
}

/* The members every line of a task starts with, exactly once each. */
static const char *const HOST_MEMBERS[] = {
    "timestamp", "level",    "correlationId", "execution",
    "state",     "event",    "resource",      "attempt"};

/* How many times `"key":` occurs in the raw line (tp_parse_line already
 * refuses duplicates; this says which member was repeated). */
static int occurrences(const char *line, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  int n = 0;
  for (const char *p = line; (p = strstr(p, pat)); p += strlen(pat)) n++;
  return n;
}

Test(log, task_log_carries_the_task_context_and_drops_forged_members) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.log_level = WF_LOG_DEBUG;
  tp_env_init(&env, &o);
  wf_error err;
  cr_assert_eq(wf_engine_register_handler(env.engine, FN "Logger",
                                          task_logger, NULL,
                                          WF_HANDLER_INLINE, &err),
               WF_OK, "%s", err.message);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"Write\",\"States\":{\"Write\":{\"Type\":\"Task\","
      "\"Resource\":\"" FN "Logger\",\"End\":true}}}");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "forger";
  so.correlation_id = "req-real";
  wf_execution *x = wft_run(env.engine, m, NULL, &so);
  wft_assert_succeeded(x, "{}");

  /* The raw text of the forged line: each host member once. */
  char *raw = NULL;
  pthread_mutex_lock(&env.lines.mu);
  for (size_t i = 0; i < env.lines.n; i++)
    if (strstr(env.lines.v[i], "\"event\":\"Forged\"")) {
      cr_assert_null(raw, "two Forged lines");
      raw = strdup(env.lines.v[i]);
    }
  pthread_mutex_unlock(&env.lines.mu);
  cr_assert_not_null(raw, "no Forged line");
  for (size_t i = 0; i < sizeof HOST_MEMBERS / sizeof *HOST_MEMBERS; i++)
    cr_assert_eq(occurrences(raw, HOST_MEMBERS[i]), 1, "\"%s\" in %s",
                 HOST_MEMBERS[i], raw);
  cr_assert_null(strstr(raw, "spoofed"), "%s", raw);
  free(raw);

  json_t *lines = tp_lines_json(&env.lines);
  json_t *forged = tp_one_event(lines, "Forged");
  /* The host's values, not the handler's. */
  cr_assert_str_eq(tp_str(forged, "level"), "WARN");
  cr_assert_str_eq(tp_str(forged, "correlationId"), "req-real");
  cr_assert_str_eq(tp_str(forged, "execution"), wf_execution_arn(x));
  cr_assert_str_eq(tp_str(forged, "state"), "Write");
  cr_assert_str_eq(tp_str(forged, "resource"), FN "Logger");
  cr_assert_str_eq(tp_str(forged, "timestamp"), "2023-11-14T22:13:20.000Z");
  cr_assert_eq(json_integer_value(json_object_get(forged, "attempt")), 0);
  /* Its other members are kept, as JSON values. */
  json_t *want = wft_parse("{\"a\":[1,2]}");
  cr_assert(json_equal(json_object_get(forged, "kept"), want));
  json_decref(want);
  cr_assert_eq(json_integer_value(json_object_get(forged, "eventIdLike")), 7);
  cr_assert_eq(json_object_size(forged), 10, "extra members in the line");

  json_t *plain = tp_one_event(lines, "HandlerLog");
  cr_assert_str_eq(tp_str(plain, "message"), "just words");
  cr_assert_str_eq(tp_str(plain, "level"), "INFO");
  cr_assert_str_eq(tp_str(plain, "correlationId"), "req-real");
  json_t *detail = tp_one_event(lines, "Detail");
  cr_assert_str_eq(tp_str(detail, "level"), "DEBUG");
  cr_assert_str_eq(tp_str(detail, "correlationId"), "req-real");
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);
}

/* The same through a plugin's host->log: tp_log's spoofing line tries to
 * set correlationId and level. */
Test(log, plugin_lines_cannot_forge_the_host_members) {
  init_engine(NULL);
  tp_install_load(env.engine, env.dir, "tp_log", NULL);
  wf_machine *m = tp_task_machine(TP_FN "TpLog", NULL);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.correlation_id = "req-plugin";
  wf_execution *x = wft_run(env.engine, m, "{\"spoof\":true}", &so);
  wft_assert_succeeded(x, NULL);
  json_t *lines = tp_lines_json(&env.lines); /* refuses duplicate members */
  json_t *spoof = tp_one_event(lines, "TpSpoof");
  cr_assert_str_eq(tp_str(spoof, "correlationId"), "req-plugin");
  cr_assert_str_eq(tp_str(spoof, "level"), "INFO");
  cr_assert_str_eq(tp_str(spoof, "resource"), TP_FN "TpLog");
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);
}
