/* Redriving executions (AWS's RedriveExecution, the developer guide's
 * "Redriving executions"): a STANDARD execution that FAILED, TIMED_OUT or
 * was ABORTED runs again from the state where it stopped, with its input
 * and definition; a Map or Parallel reruns only what did not succeed;
 * $$.Execution.RedriveCount counts; the history goes on with
 * ExecutionRedriven; what may not be redriven is refused with AWS's
 * reason. On the engine's store in memory, and on SQLite and PostgreSQL
 * (the ctest fixture "postgres"; skipped without one) through a
 * restart. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>

#include "engine_support.h"
#include "store_support.h"

TestSuite(redrive, .timeout = 120);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:Work"

/* Fails while `failing` is set; else answers {"n": its input's n}. Counts
 * calls by the input's "n" (0..15). */
static atomic_int failing;
static atomic_int calls[16];

static void work(wf_task *t, void *p) {
  (void)p;
  json_t *in = json_loads(wf_task_input(t), JSON_DECODE_ANY, NULL);
  int n = (int)json_integer_value(json_object_get(in, "n"));
  json_decref(in);
  if (n >= 0 && n < 16) atomic_fetch_add(&calls[n], 1);
  /* Odd items fail while failing is 2; everything while it is 1. */
  int f = atomic_load(&failing);
  if (f == 1 || (f == 2 && n % 2)) {
    wf_task_fail(t, "Work.Broken", "not yet");
    return;
  }
  char out[32];
  snprintf(out, sizeof out, "{\"n\":%d}", n);
  wf_task_succeed(t, out);
}

static void reset(int mode) {
  atomic_store(&failing, mode);
  for (int i = 0; i < 16; i++) atomic_store(&calls[i], 0);
}

static int64_t frozen(void *p) { return *(int64_t *)p; }

static wf_engine *engine_on(wf_clock *clock, wf_store *store) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = clock;
  o.history = WF_HISTORY_FULL;
  o.store = store;
  wf_engine *e = wft_engine(&o);
  /* Inline: each call ends before the next starts (what succeeded did). */
  wft_register(e, FN, work, NULL, WF_HANDLER_INLINE);
  return e;
}

/* An engine on the store in memory and a new virtual clock at WFT_T0. */
static wf_engine *virtual_engine(wf_clock **clock) {
  cr_assert_eq(wf_clock_virtual_new(clock, WFT_T0), WF_OK);
  return engine_on(*clock, NULL);
}

static wf_execution *redrive(wf_engine *e, wf_execution *x) {
  wf_execution *r = NULL;
  wf_error err;
  int rc = wf_engine_redrive(&r, e, wf_execution_arn(x), &err);
  cr_assert_eq(rc, WF_OK, "redrive: %s: %s", wf_error_name(rc), err.message);
  cr_assert_not_null(r);
  wft_wait(r);
  return r;
}

/* Wait (real time, bounded) until x's history has `n` events. */
static void wait_events(wf_execution *x, size_t n) {
  int64_t end = wft_mono_ms() + WFT_WAIT_MS;
  while (wf_execution_history_count(x) < n && wft_mono_ms() < end)
    wft_sleep_ms(1);
  cr_assert_geq(wf_execution_history_count(x), n);
}

static void assert_refused(wf_engine *e, const char *arn, int code,
                           const char *message) {
  wf_execution *r = (wf_execution *)e;
  wf_error err;
  int rc = wf_engine_redrive(&r, e, arn, &err);
  cr_assert_eq(rc, code, "%s: %s", wf_error_name(rc), err.message);
  cr_assert_null(r);
  cr_assert_str_eq(err.message, message);
}

#define PASS_THEN_TASK                                                      \
  "{\"StartAt\":\"P\",\"States\":{"                                         \
  "\"P\":{\"Type\":\"Pass\",\"Result\":{\"n\":3},\"Next\":\"T\"},"          \
  "\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN "\","                       \
  "\"Parameters\":{\"n.$\":\"$.n\",\"rc.$\":\"$$.Execution.RedriveCount\"}," \
  "\"ResultSelector\":{\"n.$\":\"$.n\",\"rc.$\":\"$$.Execution.RedriveCount\"}," \
  "\"End\":true}}}"

Test(redrive, failed_task_reruns_from_it_with_redrive_count) {
  reset(1);
  wf_clock *clock;
  wf_engine *e = virtual_engine(&clock);
  wf_machine *m = wft_load(PASS_THEN_TASK);
  wf_execution *x = wft_run(e, m, "{\"a\":1}", NULL);
  wft_assert_failed(x, "Work.Broken", "not yet");
  cr_assert_eq(atomic_load(&calls[3]), 1);
  size_t before = wf_execution_history_count(x);

  atomic_store(&failing, 0);
  wf_execution *r = redrive(e, x);
  wft_assert_succeeded(r, "{\"n\":3,\"rc\":1}");
  /* The Pass state ran once: the Task alone ran again. */
  cr_assert_eq(atomic_load(&calls[3]), 2);
  char *types = wft_event_types(r);
  cr_assert(strstr(types, "LambdaFunctionFailed ExecutionFailed "
                          "ExecutionRedriven TaskStateEntered "
                          "LambdaFunctionScheduled LambdaFunctionStarted "
                          "LambdaFunctionSucceeded TaskStateExited "
                          "ExecutionSucceeded"),
            "%s", types);
  cr_assert_eq(strncmp(types, "ExecutionStarted PassStateEntered", 33), 0);
  free(types);
  json_t *doc;
  json_t *events = wft_events(r, 0, &doc);
  json_t *ev = json_array_get(events, before);
  cr_assert_str_eq(json_string_value(json_object_get(ev, "type")),
                   "ExecutionRedriven");
  cr_assert_eq(json_integer_value(json_object_get(ev, "id")),
               (json_int_t)before + 1);
  cr_assert_eq(json_integer_value(json_object_get(ev, "previousEventId")),
               (json_int_t)before);
  char *details = json_dumps(wft_details(ev), 0);
  wft_assert_json(details, "{\"redriveCount\":1}");
  free(details);
  json_t *next = json_array_get(events, before + 1);
  cr_assert_eq(json_integer_value(json_object_get(next, "previousEventId")),
               (json_int_t)before + 1);
  json_decref(doc);

  /* Succeeded now: not redrivable. */
  assert_refused(e, wf_execution_arn(x), WF_ESTATE,
                 "Execution is SUCCEEDED and cannot be redriven");
  wf_execution_free(r);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

typedef struct status_seen {
  int redrivable, status;
  int64_t count, last;
  const char *reason;
  const wf_engine *e;
} status_seen;

static int see_status(const wf_store_execution *r, void *p) {
  status_seen *s = p;
  s->status = r->status;
  s->redrivable =
      wf_engine_redrive_status(s->e, r, &s->count, &s->last, &s->reason);
  return 1;
}

static status_seen status_of(wf_engine *e, const char *arn) {
  status_seen s = {.e = e, .redrivable = -1};
  cr_assert_eq(wf_store_get_execution(wf_engine_store(e), arn, see_status, &s,
                                      NULL),
               WF_OK);
  return s;
}

Test(redrive, status_counts_redrives_and_ages_out_after_14_days) {
  reset(1);
  wf_clock *clock;
  wf_engine *e = virtual_engine(&clock);
  wf_machine *m = wft_load(PASS_THEN_TASK);
  wf_execution *x = wft_run(e, m, NULL, NULL);
  status_seen s = status_of(e, wf_execution_arn(x));
  cr_assert_eq(s.redrivable, 1);
  cr_assert_eq(s.count, 0);
  cr_assert_null(s.reason);
  /* Still failing: redriven once, failed again. */
  wf_execution *r = redrive(e, x);
  wft_assert_failed(r, "Work.Broken", "not yet");
  s = status_of(e, wf_execution_arn(x));
  cr_assert_eq(s.redrivable, 1);
  cr_assert_eq(s.count, 1);
  cr_assert_eq(s.last, WFT_T0);
  wf_execution_free(r);
  /* 14 days after its end it may no longer be. */
  wf_clock_advance(clock, 14 * 24 * 3600 * 1000LL + 1);
  s = status_of(e, wf_execution_arn(x));
  cr_assert_eq(s.redrivable, 0);
  cr_assert_str_eq(s.reason, "Execution redrivable period exceeded");
  assert_refused(e, wf_execution_arn(x), WF_ESTATE,
                 "Execution redrivable period exceeded");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

Test(redrive, refuses_running_express_and_unknown) {
  reset(0);
  wf_engine *e = engine_on(NULL, NULL);
  assert_refused(e,
                 "arn:aws:states:us-east-1:123456789012:execution:M:none",
                 WF_ENOTFOUND,
                 "Execution Does Not Exist: "
                 "'arn:aws:states:us-east-1:123456789012:execution:M:none'");
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.type = WF_MACHINE_EXPRESS;
  wf_machine *m = NULL;
  cr_assert_eq(wf_machine_load_json(
                   &m, "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":"
                       "\"Fail\",\"Error\":\"E\"}}}",
                   &lo, NULL),
               WF_OK);
  wf_execution *x = wft_run(e, m, NULL, NULL);
  wft_assert_failed(x, "E", NULL);
  assert_refused(e, wf_execution_arn(x), WF_ESTATE,
                 "Execution is of type EXPRESS and cannot be redriven");
  wf_execution_free(x);
  wf_machine_free(m);
  /* Running: a Wait holds it. */
  m = wft_load("{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
               "\"Seconds\":3600,\"End\":true}}}");
  x = wft_start(e, m, NULL, NULL);
  wait_events(x, 2);
  assert_refused(e, wf_execution_arn(x), WF_ESTATE,
                 "Execution is RUNNING and cannot be redriven");
  /* Aborted: it waits again, its timer armed anew. */
  cr_assert_eq(wf_execution_stop(x, "Stopped", "by the test"), WF_OK);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_ABORTED);
  wf_execution *r = NULL;
  cr_assert_eq(wf_engine_redrive(&r, e, wf_execution_arn(x), NULL), WF_OK);
  cr_assert_eq(wf_execution_status(r), WF_EXEC_RUNNING);
  wait_events(r, 5);
  char *types = wft_event_types(r);
  cr_assert_str_eq(types, "ExecutionStarted WaitStateEntered "
                          "ExecutionAborted ExecutionRedriven "
                          "WaitStateEntered");
  free(types);
  cr_assert_eq(wf_execution_stop(r, NULL, NULL), WF_OK);
  wf_execution_free(r);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(redrive, timed_out_restarts_the_machine_timeout) {
  reset(0);
  wf_clock *clock;
  wf_engine *e = virtual_engine(&clock);
  wf_machine *m = wft_load(
      "{\"TimeoutSeconds\":10,\"StartAt\":\"W\",\"States\":{"
      "\"W\":{\"Type\":\"Wait\",\"Seconds\":8,\"Next\":\"W2\"},"
      "\"W2\":{\"Type\":\"Wait\",\"Seconds\":8,\"Next\":\"T\"},"
      "\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN "\",\"End\":true}}}");
  wf_execution *x = wft_run(e, m, "{\"n\":5}", NULL);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_TIMED_OUT);
  wf_execution *r = redrive(e, x);
  /* W2 waits again (8 s) within the 10 s counted from the redrive. */
  wft_assert_succeeded(r, "{\"n\":5}");
  cr_assert_eq(atomic_load(&calls[5]), 1);
  char *types = wft_event_types(r);
  cr_assert(strstr(types, "ExecutionTimedOut ExecutionRedriven "
                          "WaitStateEntered WaitStateExited TaskStateEntered"),
            "%s", types);
  free(types);
  wf_execution_free(r);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

#define MAP_OF_TASKS                                                         \
  "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\","                \
  "\"ItemsPath\":\"$.items\",\"MaxConcurrency\":2,"                         \
  "\"ItemProcessor\":{\"ProcessorConfig\":{\"Mode\":\"%s\"%s},"              \
  "\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN \
  "\",\"End\":true}}},\"End\":true}}}"

static void map_reruns_only_failed(const char *mode, const char *extra) {
  reset(2);
  wf_engine *e = engine_on(NULL, NULL);
  char def[1024];
  snprintf(def, sizeof def, MAP_OF_TASKS, mode, extra);
  wf_machine *m = wft_load(def);
  const char *in = "{\"items\":[{\"n\":0},{\"n\":1},{\"n\":2},{\"n\":3},"
                   "{\"n\":4},{\"n\":5},{\"n\":6}]}";
  wf_execution *x = wft_run(e, m, in, NULL);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  int first[7];
  for (int i = 0; i < 7; i++) first[i] = atomic_load(&calls[i]);
  atomic_store(&failing, 0);
  wf_execution *r = redrive(e, x);
  wft_assert_succeeded(r, "[{\"n\":0},{\"n\":1},{\"n\":2},{\"n\":3},"
                          "{\"n\":4},{\"n\":5},{\"n\":6}]");
  for (int i = 0; i < 7; i++) {
    int again = atomic_load(&calls[i]) - first[i];
    if (first[i] && i % 2 == 0)
      cr_assert_eq(again, 0, "item %d succeeded and ran again", i);
    else
      cr_assert_eq(again, 1, "item %d ran %d times in the redrive", i, again);
  }
  wf_execution_free(r);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(redrive, inline_map_reruns_only_failed_iterations) {
  map_reruns_only_failed("INLINE", "");
}

Test(redrive, distributed_map_reruns_only_failed_children) {
  map_reruns_only_failed("DISTRIBUTED", ",\"ExecutionType\":\"STANDARD\"");
}

Test(redrive, parallel_reruns_only_failed_branches) {
  reset(2);
  wf_engine *e = engine_on(NULL, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\","
      "\"Branches\":["
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"Parameters\":{\"n\":2},\"End\":true}}},"
      "{\"StartAt\":\"B\",\"States\":{\"B\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"Parameters\":{\"n\":3},\"End\":true}}},"
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "\",\"Parameters\":{\"n\":4},\"End\":true}}}"
      "],\"End\":true}}}");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  wft_assert_failed(x, "Work.Broken", "not yet");
  int a = atomic_load(&calls[2]), c = atomic_load(&calls[4]);
  atomic_store(&failing, 0);
  wf_execution *r = redrive(e, x);
  wft_assert_succeeded(r, "[{\"n\":2},{\"n\":3},{\"n\":4}]");
  cr_assert_eq(atomic_load(&calls[3]), 2);
  /* A branch that succeeded before the failure is not run again. */
  cr_assert_leq(atomic_load(&calls[2]) - a, a ? 0 : 1);
  cr_assert_leq(atomic_load(&calls[4]) - c, c ? 0 : 1);
  wf_execution_free(r);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* Append an event's type to the string `p` (512 bytes). */
static int add_type(const wf_store_event *ev, void *p) {
  char *s = p;
  size_t n = strlen(s);
  snprintf(s + n, 512 - n, "%s%s", n ? " " : "", ev->type);
  return 0;
}

static wst_kind DURABLE[] = {{"sqlite"}, {"postgres"}};

WST_OVER(DURABLE, redrive, durable_redrive_resumes_after_a_restart) {
  reset(1);
  char *dir = wst_tmpdir();
  /* The first engine's clock stands still: the Wait waits. */
  int64_t t0 = WFT_T0;
  wf_clock *still;
  cr_assert_eq(wf_clock_custom_new(&still, frozen, &t0), WF_OK);
  wf_store *store = wst_open(p->kind, dir, NULL);
  wf_engine *e = engine_on(still, store);
  cr_assert_eq(wf_engine_resume(e, NULL, NULL), WF_OK);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{"
      "\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN "\",\"Next\":\"W\"},"
      "\"W\":{\"Type\":\"Wait\",\"Seconds\":60,\"End\":true}}}");
  wf_execution *x = wft_run(e, m, "{\"n\":7}", NULL);
  wft_assert_failed(x, "Work.Broken", "not yet");
  char arn[256];
  snprintf(arn, sizeof arn, "%s", wf_execution_arn(x));
  wf_execution_free(x);
  atomic_store(&failing, 0);
  /* Redriven, it waits in W when the engine stops. */
  wf_execution *r = NULL;
  cr_assert_eq(wf_engine_redrive(&r, e, arn, NULL), WF_OK);
  int64_t end = wft_mono_ms() + WFT_WAIT_MS;
  while (atomic_load(&calls[7]) < 2 && wft_mono_ms() < end) wft_sleep_ms(1);
  wft_sleep_ms(50);
  wf_execution_free(r);
  wf_engine_free(e);
  wf_store_free(store);
  wf_clock_free(still);
  /* A new engine on the store resumes it and it ends. */
  wf_clock *clock;
  cr_assert_eq(wf_clock_virtual_new(&clock, WFT_T0 + 1000), WF_OK);
  store = wst_open(p->kind, dir, NULL);
  e = engine_on(clock, store);
  size_t n = 0;
  cr_assert_eq(wf_engine_resume(e, &n, NULL), WF_OK);
  cr_assert_eq(n, 1);
  /* The virtual clock moves to the Wait's end by itself: the execution
   * may be over before a handle to it could be had; the store tells. */
  wf_clock_advance(clock, 61000);
  status_seen s = status_of(e, arn);
  end = wft_mono_ms() + WFT_WAIT_MS;
  while (s.status == WF_EXEC_RUNNING && wft_mono_ms() < end) {
    wft_sleep_ms(1);
    s = status_of(e, arn);
  }
  cr_assert_eq(s.status, WF_EXEC_SUCCEEDED);
  cr_assert_eq(atomic_load(&calls[7]), 2);
  cr_assert_eq(s.redrivable, 0);
  cr_assert_eq(s.count, 1);
  char types[512] = "";
  cr_assert_eq(wf_store_read_events(wf_engine_store(e), arn, 1, false, 100,
                                    add_type, types, NULL),
               WF_OK);
  cr_assert(strstr(types, "ExecutionFailed ExecutionRedriven TaskStateEntered"),
            "%s", types);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_store_free(store);
  wf_clock_free(clock);
  wst_rmdir(dir);
}
