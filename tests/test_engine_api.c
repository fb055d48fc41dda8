/* The engine API (include/workflow/engine.h): options, lifecycle, starting
 * executions (names, input checks), waiting, reading results, stopping,
 * and what stays readable after the engine is gone. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/workflow.h"

TestSuite(engine_api, .timeout = 120);

static const char PASS_ONLY[] =
    "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}";

static const char ONE_TASK[] =
    "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
    "\"Resource\":\"arn:aws:states:::lambda:invoke\",\"End\":true}}}";

static const char WAIT_AN_HOUR[] =
    "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":3600,"
    "\"End\":true}}}";

#define INVOKE "arn:aws:states:::lambda:invoke"

/* Generated names: time-ordered (version 7) UUIDs. */
static bool is_uuid_v7(const char *s) {
  regex_t re;
  cr_assert_eq(regcomp(&re,
                       "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                       "[0-9a-f]{12}$",
                       REG_EXTENDED | REG_NOSUB),
               0);
  bool ok = regexec(&re, s, 0, NULL, 0) == 0;
  regfree(&re);
  return ok;
}

/* ---- handlers ---- */

/* Blocks until the execution is stopped, then tries to complete anyway. */
typedef struct cancel_probe {
  wft_gate started;
  atomic_int saw_cancel;
  atomic_int late_rc;
} cancel_probe;

static void wait_for_cancel(wf_task *t, void *payload) {
  cancel_probe *c = payload;
  wft_gate_open(&c->started);
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  while (!wf_task_cancelled(t) && wft_mono_ms() < until) wft_sleep_ms(1);
  atomic_store(&c->saw_cancel, wf_task_cancelled(t));
  atomic_store(&c->late_rc, wf_task_succeed(t, "{\"late\":true}"));
}

/* Keeps the task pending: the test completes it later. */
typedef struct held_task {
  wft_gate called;
  wf_task *task;
} held_task;

static void hold_task(wf_task *t, void *payload) {
  held_task *h = payload;
  wf_task_retain(t);
  h->task = t;
  wft_gate_open(&h->called);
}

/* An engine whose INVOKE handler is `fn` with `payload`; ONE_TASK, which
 * calls it, in *m. */
static wf_engine *one_task_engine(wf_handler_fn fn, void *payload,
                                  wf_machine **m) {
  wf_engine *e = wft_engine(NULL);
  wft_register(e, INVOKE, fn, payload, 0);
  *m = wft_load(ONE_TASK);
  return e;
}

/* ---- options ---- */

Test(engine_api, options_init_sets_version_and_zero_defaults) {
  wf_engine_options o;
  memset(&o, 0xAB, sizeof o);
  cr_assert_eq(wf_engine_options_init(&o, WF_ENGINE_OPTIONS_VERSION), WF_OK);
  cr_assert_eq(o.version, WF_ENGINE_OPTIONS_VERSION);
  cr_assert_eq(o.worker_threads, 0);
  cr_assert_eq(o.scheduler_threads, 0);
  cr_assert_null(o.clock);
  cr_assert_eq(o.payload_limit, 0);
  cr_assert_eq(o.history, WF_HISTORY_FULL);
  cr_assert_null(o.log);
  cr_assert_null(o.region);
  cr_assert_null(o.account);
  cr_assert_eq(o.seed, 0);
  wf_engine_options macro = WF_ENGINE_OPTIONS_INIT;
  cr_assert_eq(macro.version, o.version);
}

Test(engine_api, options_init_rejects_unknown_version_and_null) {
  wf_engine_options o;
  cr_assert_eq(wf_engine_options_init(&o, 0), WF_EVERSION);
  cr_assert_eq(wf_engine_options_init(&o, WF_ENGINE_OPTIONS_VERSION + 1),
               WF_EVERSION);
  cr_assert_eq(wf_engine_options_init(NULL, WF_ENGINE_OPTIONS_VERSION),
               WF_EINVAL);
}

Test(engine_api, start_options_init_sets_version_and_zero_defaults) {
  wf_start_options o;
  memset(&o, 0xAB, sizeof o);
  cr_assert_eq(wf_start_options_init(&o, WF_START_OPTIONS_VERSION), WF_OK);
  cr_assert_eq(o.version, WF_START_OPTIONS_VERSION);
  cr_assert_null(o.name);
  cr_assert_null(o.correlation_id);
  cr_assert_null(o.test_case);
  cr_assert_eq(wf_start_options_init(&o, WF_START_OPTIONS_VERSION + 1),
               WF_EVERSION);
  cr_assert_eq(wf_start_options_init(NULL, WF_START_OPTIONS_VERSION),
               WF_EINVAL);
}

Test(engine_api, new_rejects_unknown_options_version_naming_the_struct) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.version = WF_ENGINE_OPTIONS_VERSION + 1;
  wf_engine *e = (wf_engine *)&o; /* must be reset to NULL */
  wf_error err;
  cr_assert_eq(wf_engine_new(&e, &o, &err), WF_EVERSION);
  cr_assert_null(e);
  cr_assert_eq(err.code, WF_EVERSION);
  cr_assert(strstr(err.message, "wf_engine_options"), "message: %s",
            err.message);
}

Test(engine_api, new_rejects_missing_out_and_unknown_history_mode) {
  wf_error err;
  cr_assert_eq(wf_engine_new(NULL, NULL, &err), WF_EINVAL);
  cr_assert_eq(err.code, WF_EINVAL);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.history = (wf_history_mode)7;
  wf_engine *e = NULL;
  cr_assert_eq(wf_engine_new(&e, &o, &err), WF_EINVAL);
  cr_assert_null(e);
}

Test(engine_api, null_options_give_default_region_account_and_name) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, false);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "run-1";
  wf_execution *x = wft_fixture_run(
      &f,
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Parameters\":"
      "{\"exec.$\":\"$$.Execution.Id\",\"machine.$\":\"$$.StateMachine.Id\"},"
      "\"End\":true}}}",
      NULL, &so);
  wft_assert_succeeded(
      x,
      "{\"exec\":\"arn:aws:states:us-east-1:123456789012:execution:"
      "StateMachine:run-1\",\"machine\":\"arn:aws:states:us-east-1:"
      "123456789012:stateMachine:StateMachine\"}");
  cr_assert_str_eq(wf_execution_arn(x),
                   "arn:aws:states:us-east-1:123456789012:execution:"
                   "StateMachine:run-1");
  wft_fixture_free(&f);
}

Test(engine_api, region_and_account_options_are_copied_into_arns) {
  char region[] = "eu-west-2", account[] = "111122223333";
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.region = region;
  o.account = account;
  wf_engine *e = wft_engine(&o);
  /* Copied: changing the caller's strings changes nothing. */
  strcpy(region, "xx-xxxx-9");
  strcpy(account, "999999999999");
  wf_machine *m = wft_load_named(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Parameters\":"
      "{\"machine.$\":\"$$.StateMachine.Id\"},\"End\":true}}}",
      "Orders");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "n1";
  wf_execution *x = wft_run(e, m, NULL, &so);
  cr_assert_str_eq(wf_execution_arn(x),
                   "arn:aws:states:eu-west-2:111122223333:execution:Orders:n1");
  wft_assert_succeeded(x,
                       "{\"machine\":\"arn:aws:states:eu-west-2:111122223333:"
                       "stateMachine:Orders\"}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, free_functions_accept_null) {
  wf_engine_free(NULL);
  wf_execution_free(NULL);
  wf_machine_free(NULL);
  wf_clock_free(NULL);
  wf_string_free(NULL);
  /* The system clock is never freed: still usable afterwards. */
  wf_clock_free(wf_clock_system());
  int64_t now = wf_clock_now(wf_clock_system());
  int64_t real = (int64_t)time(NULL) * 1000;
  cr_assert(now > real - 5000 && now < real + 5000, "system clock %lld",
            (long long)now);
}

/* ---- engine shutdown ---- */

Test(engine_api, free_aborts_running_executions_and_handles_stay_readable) {
  wf_engine *e = wft_engine(NULL);
  cancel_probe probe = {.started = WFT_GATE_INIT};
  cr_assert_eq(wf_engine_register_handler(e, INVOKE, wait_for_cancel, &probe,
                                          0, NULL),
               WF_OK);
  wf_machine *waiting = wft_load(WAIT_AN_HOUR);
  wf_machine *tasking = wft_load(ONE_TASK);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "waiting";
  wf_execution *w = wft_start(e, waiting, "{\"k\":1}", &so);
  so.name = "tasking";
  wf_execution *t = wft_start(e, tasking, NULL, &so);
  cr_assert(wft_gate_wait(&probe.started, WFT_WAIT_MS));
  cr_assert_eq(wf_execution_status(w), WF_EXEC_RUNNING);
  /* Freeing the machines is fine: running executions hold them. */
  wf_machine_free(waiting);
  wf_machine_free(tasking);

  wf_engine_free(e);

  wf_execution *xs[] = {w, t};
  const char *names[] = {"waiting", "tasking"};
  for (int i = 0; i < 2; i++) {
    wf_execution *x = xs[i];
    cr_assert_eq(wf_execution_status(x), WF_EXEC_ABORTED, "%s", names[i]);
    cr_assert_eq(wf_execution_wait(x, 0), WF_OK);
    cr_assert_str_eq(wf_execution_name(x), names[i]);
    cr_assert(strstr(wf_execution_arn(x), names[i]));
    cr_assert_null(wf_execution_output(x));
    cr_assert_null(wf_execution_error(x));
    cr_assert_null(wf_execution_cause(x));
    cr_assert_geq(wf_execution_stop_time(x), wf_execution_start_time(x));
    cr_assert_gt(wf_execution_history_count(x), 0);
    char *h = wf_execution_history(x, 1);
    cr_assert_not_null(h, "%s: history unreadable after wf_engine_free",
                       names[i]);
    cr_assert(strstr(h, "\"type\":\"ExecutionAborted\""), "%s: %s", names[i],
              h);
    wf_string_free(h);
    cr_assert_eq(wf_execution_stop(x, NULL, NULL), WF_ESTATE);
  }
  /* The in-flight handler was told and its late result was refused. */
  cr_assert_eq(atomic_load(&probe.saw_cancel), 1);
  cr_assert_eq(atomic_load(&probe.late_rc), WF_ESTATE);
  wf_execution_free(w);
  wf_execution_free(t);
}

/* ---- starting ---- */

Test(engine_api, start_rejects_missing_arguments_and_unknown_version) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(PASS_ONLY);
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_start(NULL, e, m, NULL, NULL, &err), WF_EINVAL);
  cr_assert_eq(err.code, WF_EINVAL);
  cr_assert_eq(wf_engine_start(&x, NULL, m, NULL, NULL, &err), WF_EINVAL);
  cr_assert_eq(wf_engine_start(&x, e, NULL, NULL, NULL, &err), WF_EINVAL);
  cr_assert_null(x);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.version = 99;
  wft_assert_start_refused(e, m, NULL, &so, WF_EVERSION, &err);
  cr_assert(strstr(err.message, "wf_start_options"), "%s", err.message);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, null_input_means_empty_object) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, false);
  wf_execution *x = wft_fixture_run(&f, PASS_ONLY, NULL, NULL);
  wft_assert_succeeded(x, "{}");
  cr_assert_str_eq(wf_execution_output(x), "{}");
  wft_fixture_free(&f);
}

Test(engine_api, input_may_be_any_json_value) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(PASS_ONLY);
  const char *inputs[] = {"[1,2,3]", "42", "\"text\"", "null", "true",
                          "{\"a\":{\"b\":[null,1.5]}}"};
  for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
    wf_execution *x = wft_run(e, m, inputs[i], NULL);
    wft_assert_succeeded(x, inputs[i]);
    wf_execution_free(x);
  }
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, bad_input_json_is_eparse_with_position) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(PASS_ONLY);
  const char *bad[] = {"{", "{\"a\":}", "{} trailing", "", "{'a':1}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    wf_error err;
    wft_assert_start_refused(e, m, bad[i], NULL, WF_EPARSE, &err);
    cr_assert_gt(err.line, 0, "no line for '%s'", bad[i]);
    cr_assert_neq(err.message[0], '\0');
  }
  wf_machine_free(m);
  wf_engine_free(e);
}

/* {"a":"xxx"} is 8 bytes of punctuation plus the string. */
static char *input_of_size(size_t total) {
  char *s = malloc(total + 1);
  memcpy(s, "{\"a\":\"", 6);
  memset(s + 6, 'x', total - 8);
  memcpy(s + total - 2, "\"}", 3);
  return s;
}

Test(engine_api, input_over_the_default_payload_limit_is_elimit) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(PASS_ONLY);
  char *at = input_of_size(262144), *over = input_of_size(262145);
  wf_execution *x = wft_run(e, m, at, NULL);
  wft_assert_succeeded(x, NULL);
  wf_execution_free(x);
  wf_error err;
  wft_assert_start_refused(e, m, over, NULL, WF_ELIMIT, &err);
  cr_assert(strstr(err.message, "262144"), "%s", err.message);
  free(at);
  free(over);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, payload_limit_option_applies_to_the_input) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 64;
  wf_engine *e = wft_engine(&o);
  wf_machine *m = wft_load(PASS_ONLY);
  char *at = input_of_size(64), *over = input_of_size(65);
  wf_execution *x = wft_run(e, m, at, NULL);
  wft_assert_succeeded(x, at);
  wf_execution_free(x);
  x = NULL;
  cr_assert_eq(wf_engine_start(&x, e, m, over, NULL, NULL), WF_ELIMIT);
  cr_assert_null(x);
  free(at);
  free(over);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- names ---- */

Test(engine_api, generated_names_are_distinct_uuids) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Parameters\":"
      "{\"name.$\":\"$$.Execution.Name\"},\"End\":true}}}");
  wf_execution *a = wft_run(e, m, NULL, NULL);
  wf_execution *b = wft_run(e, m, NULL, NULL);
  const char *na = wf_execution_name(a), *nb = wf_execution_name(b);
  cr_assert(is_uuid_v7(na), "not a version 7 UUID: %s", na);
  cr_assert(is_uuid_v7(nb), "not a version 7 UUID: %s", nb);
  cr_assert_str_neq(na, nb);
  /* Its first 48 bits are the start's milliseconds (so later names sort
   * later). */
  char hex[13] = {0};
  memcpy(hex, na, 8);
  memcpy(hex + 8, na + 9, 4);
  long long ms = strtoll(hex, NULL, 16);
  long long start = (long long)wf_execution_start_time(a);
  cr_assert(ms <= start && start - ms < 1000, "name time %lld, start %lld",
            ms, start);
  char want[128];
  snprintf(want, sizeof want,
           "arn:aws:states:us-east-1:123456789012:execution:StateMachine:%s",
           na);
  cr_assert_str_eq(wf_execution_arn(a), want);
  snprintf(want, sizeof want, "{\"name\":\"%s\"}", na);
  wft_assert_succeeded(a, want);
  wf_execution_free(a);
  wf_execution_free(b);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, custom_name_is_copied) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(PASS_ONLY);
  char name[] = "order-42_v1.retry";
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = name;
  wf_execution *x = wft_start(e, m, NULL, &so);
  name[0] = 'X';
  wft_wait(x);
  cr_assert_str_eq(wf_execution_name(x), "order-42_v1.retry");
  cr_assert_str_eq(wf_execution_arn(x),
                   "arn:aws:states:us-east-1:123456789012:execution:"
                   "StateMachine:order-42_v1.retry");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, names_of_one_to_eighty_characters_are_accepted) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(PASS_ONLY);
  char eighty[81];
  memset(eighty, 'n', 80);
  eighty[80] = '\0';
  /* 80 characters of two bytes each: the limit counts characters. */
  char wide[161];
  for (int i = 0; i < 80; i++) memcpy(wide + 2 * i, "\xc3\xa9", 2);
  wide[160] = '\0';
  const char *ok[] = {"a", eighty, wide, "A-b_c.d", "\xe5\x90\x8d\xe5\x89\x8d"};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    wf_start_options so = WF_START_OPTIONS_INIT;
    so.name = ok[i];
    wf_execution *x = wft_run(e, m, NULL, &so);
    cr_assert_str_eq(wf_execution_name(x), ok[i]);
    wf_execution_free(x);
  }
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, invalid_names_are_rejected) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(PASS_ONLY);
  char eighty_one[82];
  memset(eighty_one, 'n', 81);
  eighty_one[81] = '\0';
  const char *bad[] = {
      "",    eighty_one, "a b", "a\tb", "a\nb", "a<b", "a>b", "a{b",
      "a}b", "a[b",      "a]b", "a?b",  "a*b",  "a\"b", "a#b", "a%b",
      "a\\b", "a^b",     "a|b", "a~b",  "a`b",  "a$b", "a&b", "a,b",
      "a;b", "a:b",      "a/b", "a\x01" "b", "a\x7f" "b",
      "a\xc2\x85" "b" /* U+0085, a C1 control character */};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    wf_start_options so = WF_START_OPTIONS_INIT;
    so.name = bad[i];
    wf_error err;
    wft_assert_start_refused(e, m, NULL, &so, WF_EINVAL, &err);
    cr_assert(strstr(err.message, "Invalid Name"), "name #%zu: %s", i,
              err.message);
  }
  wf_machine_free(m);
  wf_engine_free(e);
}

static int ignore_record(const wf_store_execution *x, void *p) {
  (void)x;
  (void)p;
  return 0;
}

/* Names are unique per machine while the store keeps the execution
 * (AWS: 90 days), with history on or off; pruned, a name is free again. */
Test(engine_api, finished_names_stay_taken_until_the_store_prunes_them) {
  wf_store *s = NULL;
  wf_store_options so = WF_STORE_OPTIONS_INIT;
  so.retention_count = 1;
  cr_assert_eq(wf_store_memory_new(&s, &so, NULL), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.history = WF_HISTORY_OFF;
  o.store = s;
  wf_engine *e = wft_engine(&o);
  wf_machine *m = wft_load(PASS_ONLY);
  wf_start_options st = WF_START_OPTIONS_INIT;
  st.name = "again";
  wf_execution *a = wft_run(e, m, "{\"n\":1}", &st);
  wft_assert_succeeded(a, "{\"n\":1}");
  wf_execution *b = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_start(&b, e, m, "{\"n\":2}", &st, &err), WF_EEXIST);
  cr_assert(strstr(err.message, wf_execution_arn(a)), "%s", err.message);
  cr_assert_null(b);
  /* Another one ends; the store keeps one ended execution, so "again"
   * goes when the store is pruned (by the engine as it goes, or here). */
  st.name = "other";
  wf_execution_free(wft_run(e, m, NULL, &st));
  cr_assert_eq(wf_store_prune(s, 0, 0, NULL, NULL), WF_OK);
  cr_assert_eq(wf_store_get_execution(s, wf_execution_arn(a), ignore_record,
                                      NULL, &err),
               WF_ENOTFOUND);
  st.name = "again";
  b = wft_run(e, m, "{\"n\":2}", &st);
  wft_assert_succeeded(b, "{\"n\":2}");
  wf_execution_free(a);
  wf_execution_free(b);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_store_free(s);
}

static int keep_run_arn(const wf_map_run_info *run, void *payload) {
  snprintf(payload, 256, "%s", run->map_run_arn);
  return 0;
}

static int ignore_run(const wf_map_run_info *run, void *payload) {
  (void)run;
  (void)payload;
  return 0;
}

static int keep_child_arn(const wf_map_run_child *k, void *payload) {
  snprintf(payload, 256, "%s", k->execution_arn);
  return 1;
}

static int ignore_event(const wf_store_event *ev, void *payload) {
  (void)ev;
  (void)payload;
  return 0;
}

/* How many parts of children's histories the store holds. */
static int count_part(const wf_store_document *d, void *payload) {
  (void)d;
  (*(int *)payload)++;
  return 0;
}

static int history_parts(wf_store *s) {
  int n = 0;
  cr_assert_eq(wf_store_list_documents(s, "wf.mapRunChildEvents", 0, 0,
                                       count_part, &n, NULL),
               WF_OK);
  return n;
}

/* A Distributed Map's records (its Map Run, its children and their
 * histories) belong to its execution: pruned with it, they go too. */
Test(engine_api, a_pruned_execution_takes_its_map_runs_with_it) {
  wf_store *s = NULL;
  wf_store_options so = WF_STORE_OPTIONS_INIT;
  so.retention_count = 1;
  cr_assert_eq(wf_store_memory_new(&s, &so, NULL), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.store = s;
  wf_engine *e = wft_engine(&o);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"Fan\",\"States\":{\"Fan\":{\"Type\":\"Map\","
      "\"End\":true,\"ItemProcessor\":{\"ProcessorConfig\":{\"Mode\":"
      "\"DISTRIBUTED\",\"ExecutionType\":\"STANDARD\"},\"StartAt\":\"P\","
      "\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}}}}");
  wf_execution *x = wft_run(e, m, "[1,2]", NULL);
  wft_assert_succeeded(x, "[1,2]");
  char run[256] = "";
  wf_error err;
  cr_assert_eq(wf_engine_list_map_runs(e, wf_execution_arn(x), keep_run_arn,
                                       run, &err),
               WF_OK, "%s", err.message);
  cr_assert(run[0], "no Map Run listed");
  cr_assert_eq(wf_engine_describe_map_run(e, run, ignore_run, NULL, &err),
               WF_OK, "%s", err.message);
  char child[256] = "";
  cr_assert_eq(wf_engine_list_map_run_children(e, run, 0, keep_child_arn,
                                               child, &err),
               WF_OK, "%s", err.message);
  cr_assert_eq(wf_engine_read_map_run_child_events(e, child, 0, false, 0,
                                                   ignore_event, NULL, &err),
               WF_OK, "%s", err.message);
  cr_assert_eq(history_parts(s), 2);
  /* Another one ends: the store keeps one ended execution. */
  wf_machine *p = wft_load(PASS_ONLY);
  wf_execution_free(wft_run(e, p, NULL, NULL));
  cr_assert_eq(wf_store_prune(s, 0, 0, NULL, NULL), WF_OK);
  cr_assert_eq(wf_store_get_execution(s, wf_execution_arn(x), ignore_record,
                                      NULL, &err),
               WF_ENOTFOUND);
  cr_assert_eq(wf_engine_describe_map_run(e, run, ignore_run, NULL, &err),
               WF_ENOTFOUND);
  run[0] = '\0';
  cr_assert_eq(wf_engine_list_map_runs(e, wf_execution_arn(x), keep_run_arn,
                                       run, &err),
               WF_OK, "%s", err.message);
  cr_assert(!run[0], "a pruned execution still lists its Map Run");
  cr_assert_eq(wf_engine_read_map_run_child_events(e, child, 0, false, 0,
                                                   ignore_event, NULL, &err),
               WF_ENOTFOUND);
  cr_assert_eq(history_parts(s), 0);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_machine_free(p);
  wf_engine_free(e);
  wf_store_free(s);
}

/* ---- waiting and reading results ---- */

Test(engine_api, wait_times_out_then_succeeds_once_the_task_completes) {
  held_task held = {.called = WFT_GATE_INIT};
  wf_machine *m;
  wf_engine *e = one_task_engine(hold_task, &held, &m);
  wf_execution *x = wft_start(e, m, "{\"in\":1}", NULL);
  cr_assert(wft_gate_wait(&held.called, WFT_WAIT_MS));

  int64_t before = wft_mono_ms();
  cr_assert_eq(wf_execution_wait(x, 30), WF_ETIMEDOUT);
  cr_assert_geq(wft_mono_ms() - before, 25, "returned before the deadline");
  cr_assert_eq(wf_execution_wait(x, 0), WF_ETIMEDOUT);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_RUNNING);
  cr_assert_null(wf_execution_output(x));
  cr_assert_null(wf_execution_error(x));
  cr_assert_null(wf_execution_cause(x));
  cr_assert_eq(wf_execution_stop_time(x), 0);

  cr_assert_eq(wf_task_succeed(held.task, "{\"done\":true}"), WF_OK);
  wf_task_release(held.task);
  cr_assert_eq(wf_execution_wait(x, WFT_WAIT_MS), WF_OK);
  wft_assert_succeeded(x, "{\"done\":true}");
  cr_assert_null(wf_execution_error(x));
  cr_assert_null(wf_execution_cause(x));
  cr_assert_geq(wf_execution_stop_time(x), wf_execution_start_time(x));
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

static void *complete_later(void *arg) {
  held_task *h = arg;
  if (wft_gate_wait(&h->called, WFT_WAIT_MS)) {
    wft_sleep_ms(5);
    wf_task_succeed(h->task, "[\"late\"]");
    wf_task_release(h->task);
  }
  return NULL;
}

Test(engine_api, negative_timeout_waits_until_the_end) {
  held_task held = {.called = WFT_GATE_INIT};
  wf_machine *m;
  wf_engine *e = one_task_engine(hold_task, &held, &m);
  pthread_t th;
  pthread_create(&th, NULL, complete_later, &held);
  wf_execution *x = wft_start(e, m, NULL, NULL);
  cr_assert_eq(wf_execution_wait(x, -1), WF_OK);
  wft_assert_succeeded(x, "[\"late\"]");
  pthread_join(th, NULL);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, status_can_be_polled_without_waiting) {
  held_task held = {.called = WFT_GATE_INIT};
  wf_machine *m;
  wf_engine *e = one_task_engine(hold_task, &held, &m);
  wf_execution *x = wft_start(e, m, NULL, NULL);
  cr_assert(wft_gate_wait(&held.called, WFT_WAIT_MS));
  cr_assert_eq(wf_execution_status(x), WF_EXEC_RUNNING);
  wf_task_fail(held.task, "Boom", "it broke");
  wf_task_release(held.task);
  wft_wait_polled(x);
  wft_assert_failed(x, "Boom", "it broke");
  cr_assert_null(wf_execution_output(x));
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, fail_state_sets_error_and_cause) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, false);
  wf_execution *x = wft_fixture_run(
      &f,
      "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\",\"Error\":"
      "\"Order.Rejected\",\"Cause\":\"out of stock\"}}}",
      NULL, NULL);
  wft_assert_failed(x, "Order.Rejected", "out of stock");
  cr_assert_null(wf_execution_output(x));
  wft_fixture_free(&f);
}

Test(engine_api, fail_state_without_error_or_cause_reports_neither) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, false);
  wf_execution *x = wft_fixture_run(
      &f, "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\"}}}", NULL,
      NULL);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_null(wf_execution_error(x));
  cr_assert_null(wf_execution_cause(x));
  wft_fixture_free(&f);
}

Test(engine_api, start_and_stop_times_come_from_the_engine_clock) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, true);
  wf_execution *x = wft_fixture_run(
      &f,
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":90,"
      "\"End\":true}}}",
      NULL, NULL);
  wft_assert_no_real_wait(&f);
  wft_assert_succeeded(x, "{}");
  cr_assert_eq(wf_execution_start_time(x), WFT_T0);
  cr_assert_eq(wf_execution_stop_time(x), WFT_T0 + 90000);
  wft_fixture_free(&f);
}

/* ---- stopping ---- */

Test(engine_api, stop_without_error_or_cause_aborts_and_cancels_the_task) {
  cancel_probe probe = {.started = WFT_GATE_INIT};
  wf_machine *m;
  wf_engine *e = one_task_engine(wait_for_cancel, &probe, &m);
  wf_execution *x = wft_start(e, m, NULL, NULL);
  cr_assert(wft_gate_wait(&probe.started, WFT_WAIT_MS));
  cr_assert_eq(wf_execution_stop(x, NULL, NULL), WF_OK);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_ABORTED);
  cr_assert_eq(wf_execution_wait(x, 0), WF_OK);
  cr_assert_null(wf_execution_error(x));
  cr_assert_null(wf_execution_cause(x));
  cr_assert_null(wf_execution_output(x));
  cr_assert_neq(wf_execution_stop_time(x), 0);
  /* The handler learns it was cancelled; its result is refused. */
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  while (!atomic_load(&probe.late_rc) && wft_mono_ms() < until)
    wft_sleep_ms(1);
  cr_assert_eq(atomic_load(&probe.saw_cancel), 1);
  cr_assert_eq(atomic_load(&probe.late_rc), WF_ESTATE);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_ABORTED);
  cr_assert_eq(wf_execution_stop(x, NULL, NULL), WF_ESTATE);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, stop_with_error_and_cause_copies_them) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(WAIT_AN_HOUR);
  wf_execution *x = wft_start(e, m, NULL, NULL);
  char error[] = "Operator.Stop", cause[] = "maintenance window";
  cr_assert_eq(wf_execution_stop(x, error, cause), WF_OK);
  memset(error, 'x', sizeof error - 1);
  memset(cause, 'x', sizeof cause - 1);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_ABORTED);
  cr_assert_str_eq(wf_execution_error(x), "Operator.Stop");
  cr_assert_str_eq(wf_execution_cause(x), "maintenance window");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, stop_after_the_end_is_estate_and_changes_nothing) {
  wft_fixture f;
  wft_fixture_init(&f, NULL, false);
  wf_execution *x = wft_fixture_run(&f, PASS_ONLY, "{\"v\":1}", NULL);
  cr_assert_eq(wf_execution_stop(x, "E", "C"), WF_ESTATE);
  wft_assert_succeeded(x, "{\"v\":1}");
  cr_assert_null(wf_execution_error(x));
  wft_fixture_free(&f);
}

Test(engine_api, execution_keeps_running_after_its_handle_is_freed) {
  held_task held = {.called = WFT_GATE_INIT};
  wf_machine *m;
  wf_engine *e = one_task_engine(hold_task, &held, &m);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "orphan";
  wf_execution *x = wft_start(e, m, NULL, &so);
  wf_execution_free(x);
  cr_assert(wft_gate_wait(&held.called, WFT_WAIT_MS));
  /* Still running without a handle: completing it by token works. */
  const char *token = wf_task_token(held.task);
  cr_assert_eq(wf_engine_send_task_success(e, token, "{}", NULL), WF_OK);
  wf_task_release(held.task);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- wf_engine_run ---- */

static void answer_from_pool(wf_task *t, void *payload) {
  (void)payload;
  wf_task_succeed(t, "{\"pool\":true}");
}

Test(engine_api, run_returns_a_finished_execution) {
  wf_engine *e = wft_engine(NULL);
  wf_engine_register_handler(e, INVOKE, answer_from_pool, NULL, 0, NULL);
  wf_machine *pass = wft_load(PASS_ONLY), *task = wft_load(ONE_TASK);
  wf_execution *x = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_run(&x, e, pass, "{\"a\":[1]}", NULL, &err), WF_OK);
  /* Finished on return: no wait needed. */
  wft_assert_succeeded(x, "{\"a\":[1]}");
  wf_execution_free(x);
  cr_assert_eq(wf_engine_run(&x, e, task, NULL, NULL, &err), WF_OK);
  wft_assert_succeeded(x, "{\"pool\":true}");
  wf_execution_free(x);
  wf_machine_free(pass);
  wf_machine_free(task);
  wf_engine_free(e);
}

Test(engine_api, run_reports_failures_as_statuses_and_bad_input_as_codes) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\",\"Error\":"
      "\"E\",\"Cause\":\"C\"}}}");
  wf_execution *x = NULL;
  cr_assert_eq(wf_engine_run(&x, e, m, NULL, NULL, NULL), WF_OK);
  wft_assert_failed(x, "E", "C");
  wf_execution_free(x);
  wf_error err;
  x = (wf_execution *)m;
  cr_assert_eq(wf_engine_run(&x, e, m, "{oops", NULL, &err), WF_EPARSE);
  cr_assert_null(x);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "bad name";
  x = (wf_execution *)m;
  cr_assert_eq(wf_engine_run(&x, e, m, NULL, &so, &err), WF_EINVAL);
  cr_assert_null(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_api, run_on_a_virtual_clock_takes_no_real_time) {
  wf_clock *clock;
  wf_engine *e = wft_virtual_engine(&clock, WF_HISTORY_FULL);
  wf_machine *m = wft_load(WAIT_AN_HOUR);
  int64_t real = wft_mono_ms();
  wf_execution *x = NULL;
  cr_assert_eq(wf_engine_run(&x, e, m, NULL, NULL, NULL), WF_OK);
  cr_assert_lt(wft_mono_ms() - real, WFT_REAL_MS_MAX);
  wft_assert_succeeded(x, "{}");
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x),
               3600000);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

/* max_running bounds what runs at once, however started: past it a start
 * is refused with AWS's ExecutionLimitExceeded words, and an execution
 * that ends makes room. The same name and input as a running one is the
 * running one, not another. */
static int64_t standing_still(void *p) {
  (void)p;
  return WFT_T0;
}

Test(engine_api, max_running_refuses_starts_past_it_until_one_ends) {
  /* A clock that stands still: the Waits wait. */
  wf_clock *clock;
  cr_assert_eq(wf_clock_custom_new(&clock, standing_still, NULL), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = clock;
  o.max_running = 2;
  wf_engine *e = wft_engine(&o);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":60,"
      "\"End\":true}}}");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "first";
  wf_execution *a = wft_start(e, m, "{}", &so);
  wf_execution *b = wft_start(e, m, "{}", NULL);
  wf_execution *c = NULL, *again = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_start(&c, e, m, "{}", NULL, &err), WF_EBUSY);
  cr_assert_null(c);
  cr_assert_str_eq(err.message,
                   "The maximum number of running executions has been "
                   "reached. Running executions must end or be stopped "
                   "before a new execution can be started.");
  cr_assert_eq(wf_engine_start(&again, e, m, "{}", &so, &err), WF_OK,
               "%s", err.message);
  cr_assert_str_eq(wf_execution_arn(again), wf_execution_arn(a));
  wf_execution_free(again);
  cr_assert_eq(wf_execution_stop(a, NULL, NULL), WF_OK);
  c = wft_start(e, m, "{}", NULL);
  cr_assert_eq(wf_execution_status(c), WF_EXEC_RUNNING);
  wf_execution_free(a);
  wf_execution_free(b);
  wf_execution_free(c);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

/* JSONata is valid ASL that this engine does not run yet: such a machine
 * loads (ValidateStateMachineDefinition and CreateStateMachine accept it,
 * as AWS does) but an execution is refused with the reason, never run with
 * the expressions ignored (it used to succeed with its input passed
 * through). */
static void assert_not_run(wf_engine *e, const char *def, const char *why) {
  wf_machine *m = wft_load(def);
  wf_error err;
  wft_assert_start_refused(e, m, "{}", NULL, WF_EUNSUPPORTED, &err);
  cr_expect_str_eq(err.message, why);
  wf_machine_free(m);
}

Test(engine_api, jsonata_batching_is_refused_not_run_wrong) {
  wf_engine *e = wft_engine(NULL);
  /* A JSONata ItemBatcher's BatchInput is not built yet: refused, never
   * run without it. */
  assert_not_run(
      e,
      "{\"QueryLanguage\":\"JSONata\",\"StartAt\":\"M\",\"States\":{\"M\":"
      "{\"Type\":\"Map\",\"End\":true,\"ItemBatcher\":{\"MaxItemsPerBatch\":"
      "2,\"BatchInput\":{\"k\":\"{% $states.input.k %}\"}},\"ItemProcessor\":"
      "{\"ProcessorConfig\":{\"Mode\":\"DISTRIBUTED\",\"ExecutionType\":"
      "\"STANDARD\"},\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
      "\"End\":true}}}}}}",
      "the Map state 'M' has a JSONata ItemBatcher with BatchInput or "
      "expressions, which this engine cannot run yet");
  wf_engine_free(e);
}
