/* The seed workflow (examples/workflows/seed-workflow.json, and the same
 * machine in seed-workflow.yaml) end to end with both real handler plugins,
 * process_data.so and send_notification.so, loaded from the build tree
 * through the public plugin API, each configured so that one path of the
 * workflow happens deterministically:
 *   1. success: records processed, notification delivered to the outbox;
 *   2. processing failure: a FAILED result routed by CheckStatus, and a
 *      ProcessData error caught into $.error;
 *   3. notification retried then delivered (1 s, then 2 s of back-off);
 *   4. notification failed: a permanent error tried once, transient errors
 *      tried four times.
 * For each path the test checks the execution's output or error and cause,
 * the history (event types in order and their times on the virtual clock,
 * so retry attempts and back-off gaps are exact), and the structured log:
 * every line one JSON object, every line of the execution carrying its
 * correlation id, the handlers' own lines included. Also: the YAML file runs
 * exactly as the JSON file, and `wf run` runs the seed with both plugins.
 * Engines run on a virtual clock: nothing here waits in real time. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plugins/tp_support.h"
#include "support.h"
#include "tool_support.h"
#include "workflow/plugin.h"
#include "workflow/workflow.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define PD_ARN FN "ProcessData"
#define SN_ARN FN "SendNotification"
#define SEED_JSON WF_SOURCE_DIR "/examples/workflows/seed-workflow.json"
#define SEED_YAML WF_SOURCE_DIR "/examples/workflows/seed-workflow.yaml"
#define SEED_INPUT WF_SOURCE_DIR "/examples/workflows/seed-input.json"
#define MACHINE_NAME "seed-workflow"

/* ProcessData's simulated processing time for the seed input (three json
 * records): baseMs 1000 + perRecordMs 10 x 3 (handlers/process_data/
 * README.md, "Default processing time"). */
#define PD_MS 1030

/* The history of every path that reaches SendNotification, up to its
 * entry: ProcessData takes PD_MS and succeeds, CheckStatus routes on. */
#define SUCCESS_HEAD                                                        \
  "ExecutionStarted+0 TaskStateEntered:ProcessData+0 "                     \
  "LambdaFunctionScheduled+0 LambdaFunctionStarted+0 "                     \
  "LambdaFunctionSucceeded+1030 TaskStateExited+1030 "                     \
  "ChoiceStateEntered:CheckStatus+1030 ChoiceStateExited+1030 "            \
  "TaskStateEntered:SendNotification+1030 "

/* ---- the environment: a private plugin directory, engines on it -------- */

static struct {
  char dir[PATH_MAX];         /* private, under the build tree */
  char plugins[PATH_MAX + 16]; /* dir/plugins, 0755: the trusted directory */
  char pd[PATH_MAX + 48], sn[PATH_MAX + 48];
  char outbox[PATH_MAX + 32];
} S;

typedef struct seed_env {
  wf_clock *clock;
  wf_engine *engine;
  tp_lines lines;
} seed_env;

static seed_env E; /* the engine of most tests */

/* Copy a built plugin into the private directory with mode 0755: the build
 * tree's own modes follow the umask, and a plugin whose directory the group
 * can write is refused. */
static void copy_plugin(const char *from, const char *to) {
  size_t len = 0;
  char *bytes = wft_read_file(from, &len);
  cr_assert_not_null(bytes, "cannot read %s: build the plugins first", from);
  tp_write_file(to, bytes, len, 0755);
  free(bytes);
}

static void setup(void) {
  memset(&S, 0, sizeof S);
  memset(&E, 0, sizeof E);
  tp_mkdtemp(S.dir, "seed");
  snprintf(S.plugins, sizeof S.plugins, "%s/plugins", S.dir);
  tp_mkdir(S.plugins, 0755);
  snprintf(S.pd, sizeof S.pd, "%s/process_data.so", S.plugins);
  snprintf(S.sn, sizeof S.sn, "%s/send_notification.so", S.plugins);
  snprintf(S.outbox, sizeof S.outbox, "%s/outbox.jsonl", S.dir);
  copy_plugin(WF_BINARY_DIR "/plugins/process_data.so", S.pd);
  copy_plugin(WF_BINARY_DIR "/plugins/send_notification.so", S.sn);
}

static void env_fini(seed_env *env) {
  /* The engine first: it unloads the plugins and stops its threads, which
   * may still log into env->lines. */
  wf_engine_free(env->engine);
  env->engine = NULL;
  wf_clock_free(env->clock);
  env->clock = NULL;
  tp_lines_clear(&env->lines);
}

static void teardown(void) {
  env_fini(&E);
  tp_rmtree(S.dir);
}

TestSuite(seed_workflow, .init = setup, .fini = teardown, .timeout = 60);

/* An engine on a new virtual clock at WFT_T0 with full history, every log
 * line (DEBUG and up) into env->lines, both plugins loaded with these
 * configurations. `sn_members` are members added to send_notification's
 * configuration, whose outbox is always S.outbox. */
static void env_init(seed_env *env, const char *pd_config,
                     const char *sn_members) {
  pthread_mutex_init(&env->lines.mu, NULL);
  cr_assert_eq(wf_clock_virtual_new(&env->clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = env->clock;
  o.history = WF_HISTORY_FULL;
  o.log = tp_lines_cb;
  o.log_payload = &env->lines;
  o.log_level = WF_LOG_DEBUG;
  o.seed = 1;
  env->engine = wft_engine(&o);
  wf_error err;
  cr_assert_eq(wf_engine_add_plugin_dir(env->engine, S.plugins, &err), WF_OK,
               "%s", err.message);
  tp_load(env->engine, S.pd, pd_config);
  char *sn_config = wft_strf("{\"outbox\":{\"path\":\"%s\"}%s%s}", S.outbox,
                             sn_members && *sn_members ? "," : "",
                             sn_members ? sn_members : "");
  tp_load(env->engine, S.sn, sn_config);
  free(sn_config);
}

static wf_machine *load_seed(const char *file) {
  wf_machine *m = NULL;
  wf_error err;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.name = MACHINE_NAME;
  int rc = wf_machine_load_file(&m, file, &lo, &err);
  cr_assert_eq(rc, WF_OK, "%s: %s: %s at %s", file, wf_error_name(rc),
               err.message, err.path);
  return m;
}

/* Run the seed from `file` on env's engine, named `name`, with correlation
 * id "corr-<name>", to the end. */
static wf_execution *run_seed_on(seed_env *env, const char *file,
                                 const char *input, const char *name) {
  wf_machine *m = load_seed(file);
  char cid[128];
  snprintf(cid, sizeof cid, "corr-%s", name);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = name;
  so.correlation_id = cid;
  int64_t real = wft_mono_ms();
  wf_execution *x = wft_run(env->engine, m, input, &so);
  cr_assert_lt(wft_mono_ms() - real, WFT_REAL_MS_MAX,
               "virtual time took real time");
  wf_machine_free(m);
  return x;
}

/* The seed's own input (examples/workflows/seed-input.json), or it with
 * `notification` replaced (a JSON object as text). */
static char *seed_input(const char *notification) {
  char *text = wft_read_file(SEED_INPUT, NULL);
  cr_assert_not_null(text, "cannot read %s", SEED_INPUT);
  if (!notification) return text;
  json_t *in = wft_parse(text);
  free(text);
  json_object_set_new(in, "notification", wft_parse(notification));
  char *out = json_dumps(in, JSON_COMPACT);
  json_decref(in);
  return out;
}

static wf_execution *run_seed(const char *notification, const char *name) {
  char *input = seed_input(notification);
  wf_execution *x = run_seed_on(&E, SEED_JSON, input, name);
  free(input);
  return x;
}

/* ---- reading results ------------------------------------------------------ */

static const char *str(const json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  cr_assert_not_null(s, "no string member \"%s\"", key);
  return s;
}

static json_int_t integer(const json_t *obj, const char *key) {
  const json_t *v = json_object_get(obj, key);
  cr_assert(json_is_integer(v), "no integer member \"%s\"", key);
  return json_integer_value(v);
}

/* "2023-11-14T22:13:20.000Z" for WFT_T0 + offset_ms. */
static void iso_at(char out[32], int64_t offset_ms) {
  int64_t ms = WFT_T0 + offset_ms;
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* An event's timestamp (seconds with a millisecond fraction, as AWS gives
 * it) as ms after WFT_T0. */
static int64_t event_offset(const json_t *ev) {
  const json_t *ts = json_object_get(ev, "timestamp");
  cr_assert(json_is_number(ts), "event without a timestamp");
  double ms = json_number_value(ts) * 1000.0;
  return (int64_t)(ms + (ms < 0 ? -0.5 : 0.5)) - WFT_T0;
}

/* The history as "Type+ms ..." with ms after WFT_T0 and, for events
 * entering a state, its name: "TaskStateEntered:ProcessData+0". free(). */
static char *history_signature(wf_execution *x) {
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  char *sig = strdup("");
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    const char *type = str(ev, "type");
    const char *name = NULL;
    size_t n = strlen(type);
    if (n > 12 && strcmp(type + n - 12, "StateEntered") == 0)
      name = str(wft_details(ev), "name");
    char *longer = wft_strf("%s%s%s%s%s+%lld", sig, *sig ? " " : "", type,
                            name ? ":" : "", name ? name : "",
                            (long long)event_offset(ev));
    free(sig);
    sig = longer;
  }
  json_decref(doc);
  return sig;
}

/* The input of the first event entering `state`, parsed (new reference). */
static json_t *state_input(wf_execution *x, const char *state) {
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  json_t *found = NULL;
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    json_t *d = wft_details(ev);
    const char *type = str(ev, "type");
    if (d && strstr(type, "StateEntered") &&
        strcmp(str(d, "name"), state) == 0) {
      found = wft_parse(str(d, "input"));
      break;
    }
  }
  json_decref(doc);
  cr_assert_not_null(found, "no event entering %s", state);
  return found;
}

/* The offsets (ms after WFT_T0) at which `resource` was scheduled, as
 * "a b c". free(). */
static char *scheduled_at(wf_execution *x, const char *resource) {
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  char *s = strdup("");
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    if (strcmp(str(ev, "type"), "LambdaFunctionScheduled") != 0) continue;
    if (strcmp(str(wft_details(ev), "resource"), resource) != 0) continue;
    char *longer = wft_strf("%s%s%lld", s, *s ? " " : "",
                            (long long)event_offset(ev));
    free(s);
    s = longer;
  }
  json_decref(doc);
  return s;
}

static void assert_history(wf_execution *x, const char *want) {
  char *sig = history_signature(x);
  cr_assert_str_eq(sig, want, "history\n  got  %s\n  want %s", sig, want);
  free(sig);
}

/* ---- the log ---------------------------------------------------------------- */

/* Check every log line of env and return them (new reference): each one
 * JSON object without duplicate members (tp_parse_line); every line about
 * the execution x carrying its ARN and correlation id `cid`; no other
 * line but the plugins' load and unload; the execution's event lines in
 * history order with ids 1..n; and every handler event named in `handler`
 * (NULL-terminated) logged with the task's context. */
static json_t *check_log(seed_env *env, wf_execution *x, const char *cid,
                         const char *const *handler) {
  json_t *lines = tp_lines_json(&env->lines);
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  json_int_t next_id = 1;
  size_t i;
  json_t *v;
  json_array_foreach(lines, i, v) {
    cr_assert_not_null(tp_str(v, "timestamp"), "line %zu has no timestamp",
                       i);
    cr_assert_not_null(tp_str(v, "level"), "line %zu has no level", i);
    const char *event = str(v, "event");
    if (!json_object_get(v, "execution")) {
      cr_assert(strcmp(event, "PluginLoaded") == 0 ||
                    strcmp(event, "PluginUnloaded") == 0,
                "line %zu (%s) is about no execution", i, event);
      continue;
    }
    cr_assert_str_eq(str(v, "execution"), wf_execution_arn(x), "line %zu", i);
    cr_assert_str_eq(str(v, "correlationId"), cid, "line %zu (%s)", i, event);
    json_t *id = json_object_get(v, "eventId");
    if (!id) continue;
    cr_assert_eq(json_integer_value(id), next_id, "line %zu: event id", i);
    json_t *ev = json_array_get(events, (size_t)(next_id - 1));
    cr_assert_not_null(ev, "a line for event %lld, which the history lacks",
                       (long long)next_id);
    cr_assert_str_eq(event, str(ev, "type"), "event %lld",
                     (long long)next_id);
    next_id++;
  }
  cr_assert_eq((size_t)(next_id - 1), json_array_size(events),
               "%lld event lines for %zu events", (long long)(next_id - 1),
               json_array_size(events));
  json_decref(doc);
  for (const char *const *h = handler; h && *h; h++) {
    json_t *mine = tp_where(lines, "event", *h);
    cr_assert_gt(json_array_size(mine), 0, "no %s line", *h);
    size_t k;
    json_array_foreach(mine, k, v) {
      cr_assert_str_eq(str(v, "correlationId"), cid, "%s", *h);
      cr_assert_not_null(tp_str(v, "state"), "%s without its state", *h);
      cr_assert_not_null(tp_str(v, "resource"), "%s without its resource",
                         *h);
      cr_assert(json_is_integer(json_object_get(v, "attempt")),
                "%s without its attempt", *h);
      cr_assert_null(json_object_get(v, "eventId"));
    }
    json_decref(mine);
  }
  return lines;
}

/* The attempts numbers of the lines with this event, as "0 1 2". free(). */
static char *attempts_logged(json_t *lines, const char *event) {
  json_t *mine = tp_where(lines, "event", event);
  char *s = strdup("");
  size_t i;
  json_t *v;
  json_array_foreach(mine, i, v) {
    char *longer = wft_strf("%s%s%lld", s, *s ? " " : "",
                            (long long)integer(v, "attempt"));
    free(s);
    s = longer;
  }
  json_decref(mine);
  return s;
}

static json_t *outbox_lines(void) {
  json_t *all = json_array();
  char *text = wft_read_file(S.outbox, NULL);
  if (!text) return all;
  for (char *line = text, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    cr_assert_not_null(nl, "an outbox line is not terminated");
    *nl = '\0';
    json_array_append_new(all, tp_parse_line(line));
  }
  free(text);
  return all;
}

/* No notification reached the outbox. */
static void assert_nothing_sent(void) {
  json_t *box = outbox_lines();
  cr_assert_eq(json_array_size(box), 0, "%zu notifications were sent",
               json_array_size(box));
  json_decref(box);
}

/* ---- 1. success ------------------------------------------------------------ */

/* What the success path leaves: output, history, log and outbox line. */
static void assert_success(seed_env *env, wf_execution *x, const char *name) {
  char cid[128];
  snprintf(cid, sizeof cid, "corr-%s", name);
  wft_assert_succeeded(x, NULL);
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x), PD_MS);
  json_t *out = wft_parse(wf_execution_output(x));
  /* The input passes through; each task's result lands at its ResultPath. */
  char *input = seed_input(NULL);
  json_t *in = wft_parse(input);
  free(input);
  cr_assert(json_equal(json_object_get(out, "data"),
                       json_object_get(in, "data")));
  cr_assert(json_equal(json_object_get(out, "notification"),
                       json_object_get(in, "notification")));
  cr_assert_eq(json_object_size(out), 4, "%s", wf_execution_output(x));
  json_decref(in);

  char t0[32], t1[32];
  iso_at(t0, 0);
  iso_at(t1, PD_MS);
  /* processingResult as handlers/process_data/README.md ("Result")
   * documents it for three valid json records. */
  json_t *pr = json_object_get(out, "processingResult");
  cr_assert_str_eq(str(pr, "status"), "SUCCESS");
  cr_assert_str_eq(str(pr, "dataType"), "json");
  cr_assert_eq(integer(pr, "recordsProcessed"), 3);
  cr_assert_eq(integer(pr, "recordsValid"), 3);
  cr_assert_eq(integer(pr, "recordsInvalid"), 0);
  const char *sum = str(pr, "checksum");
  cr_assert(strncmp(sum, "sha256:", 7) == 0 && strlen(sum) == 7 + 64,
            "checksum %s", sum);
  cr_assert_eq(json_array_size(json_object_get(pr, "errors")), 0);
  /* Numbers of valid records: ids 1, 2, 3 and values 10.5, 20.25, 30. */
  json_t *numeric = json_object_get(json_object_get(pr, "statistics"),
                                    "numeric");
  cr_assert_eq(integer(numeric, "count"), 6);
  cr_assert_float_eq(json_number_value(json_object_get(numeric, "sum")),
                     66.75, 1e-9);
  cr_assert_eq(integer(pr, "durationMs"), PD_MS);
  cr_assert_str_eq(str(pr, "startedAt"), t0);
  cr_assert_str_eq(str(pr, "completedAt"), t1);
  cr_assert_str_eq(str(pr, "correlationId"), cid);
  cr_assert_eq(integer(pr, "attempt"), 0);

  /* notificationResult as handlers/send_notification/README.md ("Result")
   * documents it: NORMAL priority, one EMAIL through the outbox. */
  json_t *nr = json_object_get(out, "notificationResult");
  cr_assert(json_is_true(json_object_get(nr, "delivered")));
  cr_assert_str_eq(str(nr, "status"), "DELIVERED");
  cr_assert_str_eq(str(nr, "priority"), "NORMAL");
  cr_assert_str_eq(str(nr, "channel"), "EMAIL");
  cr_assert_str_eq(str(nr, "correlationId"), cid);
  cr_assert_eq(integer(nr, "deliveredCount"), 1);
  cr_assert_eq(integer(nr, "failedCount"), 0);
  json_t *messages = json_object_get(nr, "messages");
  cr_assert_eq(json_array_size(messages), 1);
  json_t *msg = json_array_get(messages, 0);
  cr_assert_str_eq(str(msg, "channel"), "EMAIL");
  cr_assert_str_eq(str(msg, "recipient"), "ops@example.com");
  cr_assert_str_eq(str(msg, "status"), "DELIVERED");
  cr_assert_str_eq(str(msg, "sink"), "outbox");
  cr_assert_str_eq(str(msg, "timestamp"), t1);

  /* One outbox line, the same message. */
  json_t *box = outbox_lines();
  cr_assert_eq(json_array_size(box), 1);
  json_t *line = json_array_get(box, 0);
  cr_assert_str_eq(str(line, "messageId"), str(msg, "messageId"));
  cr_assert_str_eq(str(line, "timestamp"), t1);
  cr_assert_str_eq(str(line, "channel"), "EMAIL");
  cr_assert_str_eq(str(line, "recipient"), "ops@example.com");
  cr_assert_str_eq(str(line, "priority"), "NORMAL");
  cr_assert_str_eq(str(line, "subject"), "Processing SUCCESS: 3 records");
  cr_assert_not_null(strstr(str(line, "message"), cid), "%s",
                     str(line, "message"));
  cr_assert_str_eq(str(line, "correlationId"), cid);
  cr_assert_str_eq(str(line, "executionName"), name);
  json_decref(box);

  assert_history(x, SUCCESS_HEAD
                 "LambdaFunctionScheduled+1030 LambdaFunctionStarted+1030 "
                 "LambdaFunctionSucceeded+1030 TaskStateExited+1030 "
                 "SucceedStateEntered:WorkflowCompleted+1030 "
                 "SucceedStateExited+1030 ExecutionSucceeded+1030");

  static const char *const handler_events[] = {
      "ProcessDataStarted", "ProcessDataCompleted", "NotificationRouted",
      "NotificationDelivered", NULL};
  json_t *lines = check_log(env, x, cid, handler_events);
  json_t *done = tp_one_event(lines, "ProcessDataCompleted");
  cr_assert_str_eq(str(done, "state"), "ProcessData");
  cr_assert_str_eq(str(done, "resource"), PD_ARN);
  cr_assert_str_eq(str(done, "status"), "SUCCESS");
  json_t *sent = tp_one_event(lines, "NotificationDelivered");
  cr_assert_str_eq(str(sent, "state"), "SendNotification");
  cr_assert_str_eq(str(sent, "resource"), SN_ARN);
  cr_assert_str_eq(str(sent, "messageId"), str(msg, "messageId"));
  /* NotificationRouted is a DEBUG line: the engine logs at DEBUG here. */
  cr_assert_str_eq(str(tp_one_event(lines, "NotificationRouted"), "level"),
                   "DEBUG");
  json_decref(lines);
  json_decref(out);
}

Test(seed_workflow, success_processes_the_records_and_delivers) {
  env_init(&E, "{}", NULL);
  wf_execution *x = run_seed(NULL, "success");
  assert_success(&E, x, "success");
  wf_execution_free(x);
}

/* The YAML file is the same machine: the same output, byte for byte (the
 * message id hashes the execution ARN, so the machine names agree), the
 * same history and the same outbox line. */
Test(seed_workflow, yaml_runs_exactly_as_json) {
  env_init(&E, "{}", NULL);
  char *input = seed_input(NULL);
  wf_execution *j = run_seed_on(&E, SEED_JSON, input, "both");
  assert_success(&E, j, "both");
  char *json_sig = history_signature(j);
  char *json_out = strdup(wf_execution_output(j));
  json_t *json_box = outbox_lines();
  wf_execution_free(j);
  env_fini(&E);
  cr_assert_eq(unlink(S.outbox), 0);

  env_init(&E, "{}", NULL);
  wf_execution *y = run_seed_on(&E, SEED_YAML, input, "both");
  assert_success(&E, y, "both");
  char *yaml_sig = history_signature(y);
  cr_assert_str_eq(wf_execution_output(y), json_out);
  cr_assert_str_eq(yaml_sig, json_sig);
  json_t *yaml_box = outbox_lines();
  cr_assert(json_equal(yaml_box, json_box));
  json_decref(yaml_box);
  json_decref(json_box);
  free(yaml_sig);
  free(json_sig);
  free(json_out);
  free(input);
  wf_execution_free(y);
}

/* ---- 2. processing failure -------------------------------------------------- */

/* ProcessData succeeds with status FAILED (its simulated
 * ProcessData.ProcessingError, kind "result"): not retried, CheckStatus's
 * Default routes to ProcessingFailed; nothing is sent. */
Test(seed_workflow, failed_processing_result_is_routed_to_processing_failed) {
  env_init(&E, "{\"simulation\":{\"successRate\":0,\"failures\":"
               "[{\"error\":\"ProcessData.ProcessingError\"}]}}",
           NULL);
  wf_execution *x = run_seed(NULL, "failed-result");
  wft_assert_failed(x, "ProcessingFailed", "Data processing did not succeed");
  assert_history(x,
                 "ExecutionStarted+0 TaskStateEntered:ProcessData+0 "
                 "LambdaFunctionScheduled+0 LambdaFunctionStarted+0 "
                 "LambdaFunctionSucceeded+1030 TaskStateExited+1030 "
                 "ChoiceStateEntered:CheckStatus+1030 ChoiceStateExited+1030 "
                 "FailStateEntered:ProcessingFailed+1030 "
                 "ExecutionFailed+1030");
  json_t *in = state_input(x, "ProcessingFailed");
  json_t *pr = json_object_get(in, "processingResult");
  cr_assert_str_eq(str(pr, "status"), "FAILED");
  cr_assert_str_eq(str(pr, "error"), "ProcessData.ProcessingError");
  cr_assert_eq(integer(pr, "recordsValid"), 3);
  cr_assert_null(json_object_get(in, "error"), "no error was caught");
  json_decref(in);
  assert_nothing_sent();

  static const char *const handler_events[] = {"ProcessDataStarted",
                                               "ProcessDataSimulated", NULL};
  json_t *lines = check_log(&E, x, "corr-failed-result", handler_events);
  json_t *sim = tp_one_event(lines, "ProcessDataSimulated");
  cr_assert_str_eq(str(sim, "error"), "ProcessData.ProcessingError");
  cr_assert_str_eq(str(sim, "kind"), "result");
  cr_assert_str_eq(str(sim, "level"), "WARN");
  cr_assert_str_eq(str(tp_one_event(lines, "ExecutionFailed"), "error"),
                   "ProcessingFailed");
  json_decref(lines);
  wf_execution_free(x);
}

/* A malformed input fails ProcessData at once with
 * ProcessData.InvalidInput, which the Retry does not list: one attempt,
 * then the Catch puts the error at $.error and goes to ProcessingFailed. */
Test(seed_workflow, processing_error_is_caught_into_error) {
  env_init(&E, "{}", NULL);
  wf_execution *x = run_seed_on(
      &E, SEED_JSON,
      "{\"data\":{\"type\":\"yaml\",\"records\":[1]},\"notification\":"
      "{\"type\":\"EMAIL\",\"recipient\":\"ops@example.com\"}}",
      "bad-input");
  wft_assert_failed(x, "ProcessingFailed", "Data processing did not succeed");
  assert_history(x,
                 "ExecutionStarted+0 TaskStateEntered:ProcessData+0 "
                 "LambdaFunctionScheduled+0 LambdaFunctionStarted+0 "
                 "LambdaFunctionFailed+0 TaskStateExited+0 "
                 "FailStateEntered:ProcessingFailed+0 ExecutionFailed+0");
  json_t *in = state_input(x, "ProcessingFailed");
  json_t *want = json_pack(
      "{s:s,s:s}", "Error", "ProcessData.InvalidInput", "Cause",
      "data.type must be one of json, csv, xml, text, binary, got 'yaml'");
  char *got = json_dumps(json_object_get(in, "error"), JSON_ENCODE_ANY);
  cr_assert(json_equal(json_object_get(in, "error"), want), "$.error is %s",
            got ? got : "(absent)");
  free(got);
  cr_assert_null(json_object_get(in, "processingResult"));
  json_decref(want);
  json_decref(in);
  static const char *const handler_events[] = {"ProcessDataStarted",
                                               "ProcessDataRejected", NULL};
  json_t *lines = check_log(&E, x, "corr-bad-input", handler_events);
  cr_assert_str_eq(str(tp_one_event(lines, "ProcessDataRejected"), "error"),
                   "ProcessData.InvalidInput");
  json_decref(lines);
  wf_execution_free(x);
}

/* ProcessData.TransientError on every attempt: the Retry's three retries
 * (IntervalSeconds 2, BackoffRate 2, JitterStrategy FULL: each back-off
 * somewhere in [0, 2 s x 2^n]), then the Catch. */
Test(seed_workflow, transient_processing_errors_exhaust_the_retries) {
  env_init(&E, "{\"simulation\":{\"successRate\":0,\"failures\":"
               "[{\"error\":\"ProcessData.TransientError\"}]}}",
           NULL);
  wf_execution *x = run_seed(NULL, "pd-transient");
  wft_assert_failed(x, "ProcessingFailed", "Data processing did not succeed");
  json_t *doc;
  json_t *events = wft_events(x, 0, &doc);
  int64_t started[8], failed[8];
  int ns = 0, nf = 0;
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    const char *type = str(ev, "type");
    if (strcmp(type, "LambdaFunctionStarted") == 0 && ns < 8)
      started[ns++] = event_offset(ev);
    if (strcmp(type, "LambdaFunctionFailed") == 0 && nf < 8) {
      cr_assert_str_eq(str(wft_details(ev), "error"),
                       "ProcessData.TransientError");
      failed[nf++] = event_offset(ev);
    }
  }
  json_decref(doc);
  cr_assert_eq(ns, 4, "%d attempts", ns);
  cr_assert_eq(nf, 4);
  for (int k = 0; k < 4; k++) {
    /* Each attempt takes the processing time... */
    cr_assert_eq(failed[k] - started[k], PD_MS, "attempt %d", k);
    /* ...and each back-off is within the jittered bound. */
    if (k > 0) {
      int64_t gap = started[k] - failed[k - 1];
      cr_assert(gap >= 0 && gap <= 2000LL << (k - 1),
                "back-off before attempt %d: %lld ms", k, (long long)gap);
    }
  }
  json_t *in = state_input(x, "ProcessingFailed");
  cr_assert_str_eq(str(json_object_get(in, "error"), "Error"),
                   "ProcessData.TransientError");
  json_decref(in);
  cr_assert_eq(wf_execution_stop_time(x) - WFT_T0, failed[3]);
  json_t *lines = check_log(&E, x, "corr-pd-transient", NULL);
  char *att = attempts_logged(lines, "ProcessDataSimulated");
  cr_assert_str_eq(att, "0 1 2 3");
  free(att);
  json_decref(lines);
  wf_execution_free(x);
}

/* ---- 3. notification retried, then delivered ------------------------------ */

/* The first two attempts fail with a simulated transient error; the third
 * is delivered. The seed's second Retry rule: 1 s, then 2 s. */
Test(seed_workflow, transient_notification_failures_are_retried_then_delivered) {
  env_init(&E, "{}",
           "\"failureSimulation\":{\"rate\":1,\"firstAttempts\":2}");
  wf_execution *x = run_seed(NULL, "retried");
  wft_assert_succeeded(x, NULL);
  char *at = scheduled_at(x, SN_ARN);
  cr_assert_str_eq(at, "1030 2030 4030");
  free(at);
  assert_history(x, SUCCESS_HEAD
                 "LambdaFunctionScheduled+1030 LambdaFunctionStarted+1030 "
                 "LambdaFunctionFailed+1030 "
                 "LambdaFunctionScheduled+2030 LambdaFunctionStarted+2030 "
                 "LambdaFunctionFailed+2030 "
                 "LambdaFunctionScheduled+4030 LambdaFunctionStarted+4030 "
                 "LambdaFunctionSucceeded+4030 TaskStateExited+4030 "
                 "SucceedStateEntered:WorkflowCompleted+4030 "
                 "SucceedStateExited+4030 ExecutionSucceeded+4030");
  json_t *out = wft_parse(wf_execution_output(x));
  json_t *nr = json_object_get(out, "notificationResult");
  cr_assert_str_eq(str(nr, "status"), "DELIVERED");
  char t[32];
  iso_at(t, 4030);
  cr_assert_str_eq(str(json_array_get(json_object_get(nr, "messages"), 0),
                       "timestamp"),
                   t);
  cr_assert_null(json_object_get(out, "error"));
  json_decref(out);
  /* A simulated failure sends nothing: one line, from the third attempt. */
  json_t *box = outbox_lines();
  cr_assert_eq(json_array_size(box), 1);
  cr_assert_str_eq(str(json_array_get(box, 0), "timestamp"), t);
  json_decref(box);

  static const char *const handler_events[] = {
      "NotificationSimulatedFailure", "NotificationDelivered", NULL};
  json_t *lines = check_log(&E, x, "corr-retried", handler_events);
  char *att = attempts_logged(lines, "NotificationSimulatedFailure");
  cr_assert_str_eq(att, "0 1");
  free(att);
  att = attempts_logged(lines, "NotificationDelivered");
  cr_assert_str_eq(att, "2");
  free(att);
  json_decref(lines);
  wf_execution_free(x);
}

/* ---- 4. notification failed ------------------------------------------------- */

#define NOTIFICATION_FAILED_TAIL(t)                                         \
  "TaskStateExited+" t " FailStateEntered:NotificationFailed+" t          \
  " ExecutionFailed+" t

/* A permanent error: the seed's first Retry rule (MaxAttempts 0) stops it,
 * so there is exactly one attempt; the Catch puts it at $.error. */
static void assert_permanent(const char *notification, const char *sn_members,
                             const char *name, const char *error,
                             const char *log_event) {
  env_init(&E, "{}", sn_members);
  wf_execution *x = run_seed(notification, name);
  wft_assert_failed(x, "NotificationFailed", "Notification could not be sent");
  assert_history(x, SUCCESS_HEAD
                 "LambdaFunctionScheduled+1030 LambdaFunctionStarted+1030 "
                 "LambdaFunctionFailed+1030 "
                 NOTIFICATION_FAILED_TAIL("1030"));
  json_t *in = state_input(x, "NotificationFailed");
  json_t *caught = json_object_get(in, "error");
  cr_assert_str_eq(str(caught, "Error"), error);
  cr_assert_gt(strlen(str(caught, "Cause")), 0);
  /* The processing result is still there: the Catch wrote $.error only. */
  cr_assert_str_eq(str(json_object_get(in, "processingResult"), "status"),
                   "SUCCESS");
  cr_assert_null(json_object_get(in, "notificationResult"));
  json_decref(in);
  assert_nothing_sent();
  char cid[128];
  snprintf(cid, sizeof cid, "corr-%s", name);
  const char *const handler_events[] = {log_event, NULL};
  json_t *lines = check_log(&E, x, cid, handler_events);
  char *att = attempts_logged(lines, log_event);
  cr_assert_str_eq(att, "0");
  free(att);
  json_decref(lines);
  wf_execution_free(x);
  env_fini(&E);
}

Test(seed_workflow, an_invalid_recipient_is_tried_once) {
  assert_permanent("{\"type\":\"EMAIL\",\"recipient\":\"not an address\","
                   "\"priority\":\"NORMAL\"}",
                   NULL, "bad-recipient", "SendNotification.InvalidRecipient",
                   "NotificationInvalid");
}

Test(seed_workflow, an_invalid_notification_is_tried_once) {
  assert_permanent("{\"type\":\"FAX\",\"recipient\":\"ops@example.com\"}",
                   NULL, "bad-type", "SendNotification.InvalidInput",
                   "NotificationInvalid");
}

Test(seed_workflow, a_rejected_notification_is_tried_once) {
  assert_permanent(NULL,
                   "\"failureSimulation\":{\"rate\":1,\"errors\":"
                   "[\"SendNotification.Rejected\"]}",
                   "rejected", "SendNotification.Rejected",
                   "NotificationSimulatedFailure");
}

/* Transient errors on every attempt: the first try and three retries
 * (1 s, 2 s, 4 s apart), then the Catch. */
Test(seed_workflow, transient_notification_errors_exhaust_the_retries) {
  env_init(&E, "{}",
           "\"failureSimulation\":{\"rate\":1,\"errors\":"
           "[\"SendNotification.DeliveryFailed\"]}");
  wf_execution *x = run_seed(NULL, "exhausted");
  wft_assert_failed(x, "NotificationFailed", "Notification could not be sent");
  char *at = scheduled_at(x, SN_ARN);
  cr_assert_str_eq(at, "1030 2030 4030 8030");
  free(at);
  assert_history(x, SUCCESS_HEAD
                 "LambdaFunctionScheduled+1030 LambdaFunctionStarted+1030 "
                 "LambdaFunctionFailed+1030 "
                 "LambdaFunctionScheduled+2030 LambdaFunctionStarted+2030 "
                 "LambdaFunctionFailed+2030 "
                 "LambdaFunctionScheduled+4030 LambdaFunctionStarted+4030 "
                 "LambdaFunctionFailed+4030 "
                 "LambdaFunctionScheduled+8030 LambdaFunctionStarted+8030 "
                 "LambdaFunctionFailed+8030 "
                 NOTIFICATION_FAILED_TAIL("8030"));
  json_t *in = state_input(x, "NotificationFailed");
  cr_assert_str_eq(str(json_object_get(in, "error"), "Error"),
                   "SendNotification.DeliveryFailed");
  json_decref(in);
  assert_nothing_sent();
  static const char *const handler_events[] = {"NotificationSimulatedFailure",
                                               NULL};
  json_t *lines = check_log(&E, x, "corr-exhausted", handler_events);
  char *att = attempts_logged(lines, "NotificationSimulatedFailure");
  cr_assert_str_eq(att, "0 1 2 3");
  free(att);
  json_decref(lines);
  wf_execution_free(x);
}

/* ---- the wf tool -------------------------------------------------------------- */

/* `wf run` trusts the directory of each --plugin it is given; the plugins
 * run from the private copy (see copy_plugin) so that the build tree's
 * modes do not matter. send_notification's outbox goes into S.dir through
 * --plugin-config. */
Test(seed_workflow, wf_run_runs_the_seed_with_both_plugins) {
  char cfg[PATH_MAX + 16], log[PATH_MAX + 16];
  snprintf(cfg, sizeof cfg, "%s/sn.json", S.dir);
  snprintf(log, sizeof log, "%s/wf.log", S.dir);
  char *sn_config = wft_strf("{\"outbox\":{\"path\":\"%s\"}}", S.outbox);
  tp_write_file(cfg, sn_config, strlen(sn_config), 0644);
  free(sn_config);
  const char *const args[] = {"run", SEED_JSON, "--input", SEED_INPUT,
                              "--plugin", S.pd, "--plugin", S.sn,
                              "--plugin-config", cfg, "--virtual-time",
                              "--log", log, "--correlation-id", "cli-seed",
                              "--name", "cli-exec", NULL};
  int64_t real = wft_mono_ms();
  wft_tool_require();
  wft_tool_run r = wft_tool(S.dir, args);
  cr_assert_eq(r.status, 0, "wf run exited %d: %s\n%s", r.status, r.err,
               r.out);
  /* Virtual time: the 1.03 s of processing took no real time. */
  cr_assert_lt(wft_mono_ms() - real, 3 * WFT_REAL_MS_MAX);
  json_t *result = wft_parse(r.out);
  cr_assert_str_eq(str(result, "status"), "SUCCEEDED");
  json_t *out = json_object_get(result, "output");
  json_t *pr = json_object_get(out, "processingResult");
  cr_assert_str_eq(str(pr, "status"), "SUCCESS");
  cr_assert_eq(integer(pr, "recordsProcessed"), 3);
  cr_assert_eq(integer(pr, "durationMs"), PD_MS);
  cr_assert_str_eq(str(pr, "correlationId"), "cli-seed");
  json_t *nr = json_object_get(out, "notificationResult");
  cr_assert(json_is_true(json_object_get(nr, "delivered")));
  cr_assert_str_eq(str(nr, "status"), "DELIVERED");
  json_t *box = outbox_lines();
  cr_assert_eq(json_array_size(box), 1);
  cr_assert_str_eq(str(json_array_get(box, 0), "executionName"), "cli-exec");
  cr_assert_str_eq(str(json_array_get(box, 0), "messageId"),
                   str(json_array_get(json_object_get(nr, "messages"), 0),
                       "messageId"));
  json_decref(box);
  json_decref(result);

  /* The log file: every line JSON; the execution's lines, the handlers'
   * among them, all carry the correlation id. */
  char *text = wft_read_file(log, NULL);
  cr_assert_not_null(text);
  size_t nlines = 0, nexec = 0, nhandler = 0;
  for (char *line = text, *nl; *line; line = nl + 1) {
    nl = strchr(line, '\n');
    cr_assert_not_null(nl, "a log line is not terminated");
    *nl = '\0';
    json_t *v = tp_parse_line(line);
    nlines++;
    if (json_object_get(v, "execution")) {
      nexec++;
      cr_assert_str_eq(str(v, "correlationId"), "cli-seed", "%s", line);
      cr_assert_not_null(strstr(str(v, "execution"), ":cli-exec"));
      const char *event = str(v, "event");
      if (strncmp(event, "ProcessData", 11) == 0 ||
          strncmp(event, "Notification", 12) == 0)
        nhandler++;
    }
    json_decref(v);
  }
  free(text);
  /* 16 history events, ProcessDataStarted/Completed and
   * NotificationDelivered (NotificationRouted is DEBUG, below wf's INFO). */
  cr_assert_eq(nexec, 19, "%zu execution lines", nexec);
  cr_assert_eq(nhandler, 3);
  cr_assert_eq(nlines, nexec + 4, "plus two PluginLoaded, two "
               "PluginUnloaded: %zu lines", nlines);
  wft_tool_run_free(&r);
}
