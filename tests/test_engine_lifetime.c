/* How long things live (include/workflow/engine.h): execution handles the
 * caller still holds after wf_engine_free() stay readable and can be freed
 * afterwards, with history on and off (run under AddressSanitizer, a read
 * of the freed engine fails the test); and when an execution's name becomes
 * free for another execution of the same machine. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/workflow.h"

TestSuite(engine_lifetime, .timeout = 60);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"

static const char PASS_THEN_FAIL[] =
    "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
    "\"Result\":{\"n\":1},\"ResultPath\":\"$.r\",\"Next\":\"C\"},"
    "\"C\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.fail\","
    "\"BooleanEquals\":true,\"Next\":\"F\"}],\"Default\":\"S\"},"
    "\"F\":{\"Type\":\"Fail\",\"Error\":\"Boom\",\"Cause\":\"asked to\"},"
    "\"S\":{\"Type\":\"Succeed\"}}}";

static const char WAIT_A_DAY[] =
    "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":"
    "86400,\"End\":true}}}";

static const char ONE_TASK[] =
    "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
    "\"" FN "Hold\",\"End\":true}}}";

/* What a handle must still say once its engine is gone. */
typedef struct expect {
  const char *name;
  wf_exec_status status;
  const char *output, *error, *cause;
  const char *first_event, *last_event;
  size_t events; /* 0: as many as the history holds (an aborted one) */
} expect;

/* Every reader of a handle, after wf_engine_free(). Copies of the ARN and
 * history are compared with those taken before, while the engine lived. */
static void assert_readable(wf_execution *x, const expect *w,
                            wf_history_mode history, const char *arn_before,
                            const char *history_before) {
  cr_assert_eq(wf_execution_status(x), w->status, "%s", w->name);
  cr_assert_eq(wf_execution_wait(x, 0), WF_OK, "%s", w->name);
  cr_assert_eq(wf_execution_wait(x, -1), WF_OK, "%s", w->name);
  cr_assert_str_eq(wf_execution_name(x), w->name);
  cr_assert_str_eq(wf_execution_arn(x), arn_before);
  if (w->output)
    wft_assert_json(wf_execution_output(x), w->output);
  else
    cr_assert_null(wf_execution_output(x), "%s", w->name);
  if (w->error)
    cr_assert_str_eq(wf_execution_error(x), w->error);
  else
    cr_assert_null(wf_execution_error(x), "%s", w->name);
  if (w->cause)
    cr_assert_str_eq(wf_execution_cause(x), w->cause);
  else
    cr_assert_null(wf_execution_cause(x), "%s", w->name);
  cr_assert_geq(wf_execution_start_time(x), WFT_T0);
  cr_assert_geq(wf_execution_stop_time(x), wf_execution_start_time(x));
  cr_assert_eq(wf_execution_stop(x, "Late", "too late"), WF_ESTATE);
  char *h = wf_execution_history(x, 0);
  char *r = wf_execution_history(x, 1);
  if (history == WF_HISTORY_OFF) {
    cr_assert_null(h, "%s: history while it is off", w->name);
    cr_assert_null(r);
    cr_assert_eq(wf_execution_history_count(x), 0);
    return;
  }
  cr_assert_not_null(h, "%s: no history after wf_engine_free", w->name);
  cr_assert_not_null(r);
  json_t *doc = wft_parse(h), *rdoc = wft_parse(r);
  json_t *events = json_object_get(doc, "events");
  json_t *revents = json_object_get(rdoc, "events");
  size_t n = w->events ? w->events : json_array_size(events);
  cr_assert_geq(n, 2, "%s: %s", w->name, h);
  cr_assert_eq(wf_execution_history_count(x), n, "%s: %zu events: %s",
               w->name, wf_execution_history_count(x), h);
  cr_assert_eq(json_array_size(events), n, "%s", w->name);
  cr_assert_eq(json_array_size(revents), n);
  cr_assert_str_eq(json_string_value(json_object_get(
                       json_array_get(events, 0), "type")),
                   w->first_event);
  cr_assert_str_eq(json_string_value(json_object_get(
                       json_array_get(events, n - 1), "type")),
                   w->last_event);
  cr_assert_str_eq(json_string_value(json_object_get(
                       json_array_get(revents, 0), "type")),
                   w->last_event);
  cr_assert_str_eq(json_string_value(json_object_get(
                       json_array_get(revents, n - 1), "type")),
                   w->first_event);
  /* The ARNs inside (role, execution) came from the engine's options. */
  if (history_before) wft_assert_json(h, history_before);
  cr_assert_not_null(strstr(h, "arn:aws:iam::000000000000:role/"), "%s", h);
  json_decref(doc);
  json_decref(rdoc);
  wf_string_free(h);
  wf_string_free(r);
}

/* Keeps its task pending until the engine cancels it. */
static void hold_until_cancelled(wf_task *t, void *payload) {
  wft_gate *called = payload;
  wft_gate_open(called);
  int64_t until = wft_mono_ms() + WFT_WAIT_MS;
  while (!wf_task_cancelled(t) && wft_mono_ms() < until) wft_sleep_ms(1);
  wf_task_succeed(t, "{}");
}

static void handles_outlive_the_engine(wf_history_mode history) {
  wf_clock *clock;
  cr_assert_eq(wf_clock_virtual_new(&clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = clock;
  o.history = history;
  o.region = "eu-north-1";
  o.account = "000000000000";
  wf_engine *e = wft_engine(&o);
  wft_gate called = WFT_GATE_INIT;
  cr_assert_eq(wf_engine_register_handler(e, FN "Hold", hold_until_cancelled,
                                          &called, 0, NULL),
               WF_OK);
  wf_machine *m = wft_load_named(PASS_THEN_FAIL, "Lifetime");
  wf_machine *waiting = wft_load_named(WAIT_A_DAY, "Waiting");
  wf_machine *tasking = wft_load_named(ONE_TASK, "Tasking");
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "ok";
  wf_execution *ok = wft_run(e, m, "{\"fail\":false}", &so);
  so.name = "failed";
  wf_execution *failed = wft_run(e, m, "{\"fail\":true}", &so);
  /* A finished execution whose handle is freed while the engine lives:
   * the engine's own references must go with the engine. */
  so.name = "dropped";
  wf_execution_free(wft_run(e, m, "{\"fail\":false}", &so));
  /* Still running when the engine goes: aborted by wf_engine_free(). The
   * handler keeps the pool busy, so the day-long Wait stays pending. */
  so.name = "tasking";
  wf_execution *task = wft_start(e, tasking, NULL, &so);
  cr_assert(wft_gate_wait(&called, WFT_WAIT_MS), "the handler was not called");
  so.name = "waiting";
  wf_execution *wait = wft_start(e, waiting, NULL, &so);
  cr_assert_eq(wf_execution_status(wait), WF_EXEC_RUNNING);

  wf_execution *xs[] = {ok, failed, task, wait};
  char *arns[4], *histories[4];
  for (int i = 0; i < 4; i++) {
    arns[i] = strdup(wf_execution_arn(xs[i]));
    /* The finished ones' histories are complete already. */
    histories[i] = i < 2 ? wf_execution_history(xs[i], 0) : NULL;
  }
  wf_machine_free(m);
  wf_machine_free(waiting);
  wf_machine_free(tasking);

  wf_engine_free(e);

  const expect want[] = {
      {"ok", WF_EXEC_SUCCEEDED, "{\"fail\":false,\"r\":{\"n\":1}}", NULL, NULL,
       "ExecutionStarted", "ExecutionSucceeded", 8},
      {"failed", WF_EXEC_FAILED, NULL, "Boom", "asked to", "ExecutionStarted",
       "ExecutionFailed", 7},
      {"tasking", WF_EXEC_ABORTED, NULL, NULL, NULL, "ExecutionStarted",
       "ExecutionAborted", 0},
      {"waiting", WF_EXEC_ABORTED, NULL, NULL, NULL, "ExecutionStarted",
       "ExecutionAborted", 0},
  };
  for (int i = 0; i < 4; i++) {
    assert_readable(xs[i], &want[i], history, arns[i], histories[i]);
    /* A second round: nothing was consumed by the first. */
    assert_readable(xs[i], &want[i], history, arns[i], histories[i]);
  }
  for (int i = 0; i < 4; i++) {
    wf_execution_free(xs[i]);
    free(arns[i]);
    wf_string_free(histories[i]);
  }
  wf_clock_free(clock);
}

Test(engine_lifetime, handles_outlive_the_engine_with_history) {
  handles_outlive_the_engine(WF_HISTORY_FULL);
}

Test(engine_lifetime, handles_outlive_the_engine_without_history) {
  handles_outlive_the_engine(WF_HISTORY_OFF);
}

/* The handle may also be freed from another thread than the one that
 * freed the engine. */
static void *free_execution(void *arg) {
  wf_execution_free(arg);
  return NULL;
}

Test(engine_lifetime, a_handle_is_freed_on_another_thread_after_the_engine) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(PASS_THEN_FAIL);
  wf_execution *x = wft_run(e, m, "{\"fail\":false}", NULL);
  wf_machine_free(m);
  wf_engine_free(e);
  wft_assert_succeeded(x, "{\"fail\":false,\"r\":{\"n\":1}}");
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, free_execution, x), 0);
  cr_assert_eq(pthread_join(th, NULL), 0);
}

/* ---- names ---- */

static int keep_status(const wf_store_execution *x, void *p) {
  *(json_t **)p = json_integer(x->status);
  return 0;
}

static int start_named(wf_engine *e, wf_machine *m, const char *name,
                       wf_execution **out, wf_error *err) {
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = name;
  *out = NULL;
  return wf_engine_start(out, e, m, "{\"fail\":false}", &so, err);
}

/* A finished execution keeps its name for as long as the store keeps it
 * (AWS: 90 days), whether or not its handle is held, and its history stays
 * readable by ARN. */
Test(engine_lifetime, a_finished_name_stays_taken_after_its_handle_is_freed) {
  wf_engine *e = wft_engine(NULL); /* WF_HISTORY_FULL */
  wf_machine *m = wft_load_named(PASS_THEN_FAIL, "Names");
  wf_execution *first = NULL, *again = NULL;
  wf_error err;
  cr_assert_eq(start_named(e, m, "order-1", &first, &err), WF_OK, "%s",
               err.message);
  wft_wait(first);
  wft_assert_succeeded(first, NULL);
  char *first_arn = strdup(wf_execution_arn(first));
  size_t events = wf_execution_history_count(first);
  cr_assert_eq(events, 8);
  for (int i = 0; i < 2; i++) {
    memset(&err, 0, sizeof err);
    cr_assert_eq(start_named(e, m, "order-1", &again, &err), WF_EEXIST,
                 "round %d: %s", i, err.message);
    cr_assert_eq(err.code, WF_EEXIST);
    cr_assert_null(again);
    cr_assert_not_null(strstr(err.message, "order-1"), "%s", err.message);
    /* Freed: still taken. */
    wf_execution_free(first);
    first = NULL;
  }
  /* Another machine's executions have names of their own. */
  wf_machine *other = wft_load_named(PASS_THEN_FAIL, "OtherNames");
  cr_assert_eq(start_named(e, other, "order-1", &again, &err), WF_OK, "%s",
               err.message);
  wft_wait(again);
  wf_execution_free(again);
  wf_machine_free(other);
  /* The ended one is still in the store, history and all. */
  json_t *doc = NULL;
  cr_assert_eq(wf_store_get_execution(wf_engine_store(e), first_arn,
                                      keep_status, &doc, NULL),
               WF_OK);
  cr_assert_eq(json_integer_value(doc), WF_EXEC_SUCCEEDED);
  json_decref(doc);
  free(first_arn);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* Keeps its tasks for the test to complete. */
typedef struct holder {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  wf_task *tasks[4];
  int n;
} holder;

static void keep_task(wf_task *t, void *payload) {
  holder *h = payload;
  wf_task_retain(t);
  pthread_mutex_lock(&h->mu);
  if (h->n < 4) h->tasks[h->n++] = t;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

/* Task number n (1-based) the handler was given, waiting for it (bounded). */
static wf_task *held_task(holder *h, int n) {
  struct timespec ts = wft_deadline(WFT_WAIT_MS);
  pthread_mutex_lock(&h->mu);
  while (h->n < n)
    if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) != 0) break;
  wf_task *t = h->n >= n ? h->tasks[n - 1] : NULL;
  pthread_mutex_unlock(&h->mu);
  cr_assert_not_null(t, "the handler was not called %d times", n);
  return t;
}

/* A running execution keeps its name even without a handle, and gives it
 * back when it ends. */
Test(engine_lifetime, a_running_execution_keeps_its_name_without_a_handle) {
  wf_engine *e = wft_engine(NULL); /* WF_HISTORY_FULL */
  holder h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  cr_assert_eq(wf_engine_register_handler(e, FN "Hold", keep_task, &h, 0,
                                          NULL),
               WF_OK);
  wf_machine *m = wft_load_named(ONE_TASK, "Running");
  wf_execution *x = NULL, *again = NULL;
  wf_error err;
  cr_assert_eq(start_named(e, m, "busy", &x, &err), WF_OK, "%s", err.message);
  wf_task *first = held_task(&h, 1);
  char *arn = strdup(wf_execution_arn(x));
  wf_execution_free(x);
  /* The same name and input while it runs: AWS answers with the running
   * execution (StartExecution is idempotent). */
  cr_assert_eq(start_named(e, m, "busy", &again, &err), WF_OK, "%s",
               err.message);
  cr_assert_str_eq(wf_execution_arn(again), arn);
  cr_assert_eq(wf_execution_status(again), WF_EXEC_RUNNING);
  /* Other input: ExecutionAlreadyExists. */
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "busy";
  wf_execution *other = NULL;
  cr_assert_eq(wf_engine_start(&other, e, m, "{\"fail\":true}", &so, &err),
               WF_EEXIST);
  cr_assert_null(other);
  cr_assert_eq(wf_task_succeed(first, "{}"), WF_OK);
  wf_task_release(first);
  wft_wait(again);
  wft_assert_succeeded(again, "{}");
  /* Ended: taken, even with the same input. */
  wf_execution_free(again);
  cr_assert_eq(start_named(e, m, "busy", &again, &err), WF_EEXIST);
  free(arn);
  wf_machine_free(m);
  wf_engine_free(e);
}
