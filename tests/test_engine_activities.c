/* Activities (workflow/activity.h): records kept in the store, a Task on an
 * activity's ARN queued until a worker polls it, the long poll (answered at
 * once when work is queued or arrives, one task to one poller, nothing
 * after its time), completion by token with AWS's Activity* events,
 * TimeoutSeconds and HeartbeatSeconds, and a restart with a task queued or
 * taken. Waits for an empty answer use a short poll time; everything else
 * waits on conditions. */
#include <criterion/criterion.h>
#include <pthread.h>

#include "engine_support.h"
#include "store_support.h"

TestSuite(engine_activities, .timeout = 60);

#define ARN "arn:aws:states:us-east-1:123456789012:activity:"

static const char *MACHINE =
    "{\"StartAt\":\"Work\",\"States\":{\"Work\":{\"Type\":\"Task\","
    "\"Resource\":\"" ARN "work\",\"End\":true}}}";

static wf_activity *create(wf_engine *e, const char *name, const char *tags) {
  wf_activity *a = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_activity_create(&a, e, name, tags, &err), WF_OK,
               "%s", err.message);
  return a;
}

/* Poll with a wait of `ms` (negative: none). */
static wf_task *poll_task(wf_engine *e, const char *arn, const char *worker,
                          int64_t ms) {
  wf_activity_poll_options po = WF_ACTIVITY_POLL_OPTIONS_INIT;
  po.worker_name = worker;
  po.timeout_ms = ms;
  wf_task *t = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_activity_get_task(&t, e, arn, &po, &err), WF_OK,
               "%s", err.message);
  return t;
}

static int count_cb(const wf_activity *a, void *p) {
  json_array_append_new(p, json_string(wf_activity_name(a)));
  return 0;
}

Test(engine_activities, records_are_created_idempotently_listed_and_deleted) {
  wf_engine *e = wft_engine(NULL);
  wf_activity *a = create(e, "work", "[{\"key\":\"team\",\"value\":\"a\"}]");
  cr_assert_str_eq(wf_activity_arn(a), ARN "work");
  cr_assert_str_eq(wf_activity_name(a), "work");
  wft_assert_json(wf_activity_tags(a), "[{\"key\":\"team\",\"value\":\"a\"}]");
  /* The same name again: the first one, its date and tags (AWS). */
  wf_activity *b = create(e, "work", "[{\"key\":\"team\",\"value\":\"b\"}]");
  cr_assert_str_eq(wf_activity_arn(b), wf_activity_arn(a));
  cr_assert_eq(wf_activity_creation_date(b), wf_activity_creation_date(a));
  wft_assert_json(wf_activity_tags(b), "[{\"key\":\"team\",\"value\":\"a\"}]");
  wf_activity_free(b);
  wf_activity_free(create(e, "other", NULL));

  wf_error err;
  cr_assert_eq(wf_engine_activity_create(NULL, e, "bad name", NULL, &err),
               WF_EINVAL);
  cr_assert_str_eq(err.message, "Invalid Name: 'bad name'");
  cr_assert_eq(wf_engine_activity_create(NULL, e, "x", "[{\"value\":1}]",
                                         &err),
               WF_EINVAL);

  json_t *names = json_array();
  cr_assert_eq(wf_engine_activity_list(e, count_cb, names, &err), WF_OK);
  char *s = json_dumps(names, JSON_COMPACT);
  cr_assert_str_eq(s, "[\"work\",\"other\"]");
  free(s);
  json_decref(names);

  /* New tags for the record; a copy taken before keeps the old ones. */
  cr_assert_eq(wf_engine_activity_set_tags(e, ARN "work",
                                           "[{\"key\":\"x\"}]", &err),
               WF_OK, "%s", err.message);
  wft_assert_json(wf_activity_tags(a), "[{\"key\":\"team\",\"value\":\"a\"}]");
  wf_activity *now = NULL;
  cr_assert_eq(wf_engine_activity_describe(&now, e, ARN "work", &err), WF_OK);
  wft_assert_json(wf_activity_tags(now), "[{\"key\":\"x\"}]");
  wf_activity_free(now);
  cr_assert_eq(wf_engine_activity_set_tags(e, ARN "none", NULL, &err),
               WF_ENOTFOUND);

  cr_assert_eq(wf_engine_activity_delete(e, ARN "work", &err), WF_OK);
  cr_assert_eq(wf_engine_activity_delete(e, ARN "work", &err), WF_OK);
  wf_activity *gone = NULL;
  cr_assert_eq(wf_engine_activity_describe(&gone, e, ARN "work", &err),
               WF_ENOTFOUND);
  cr_assert_str_eq(err.message, "Activity Does Not Exist: '" ARN "work'");
  cr_assert_null(gone);
  /* The handle outlives the record. */
  cr_assert_str_eq(wf_activity_name(a), "work");
  wf_activity_free(a);
  wf_task *t = NULL;
  cr_assert_eq(wf_engine_activity_get_task(&t, e, ARN "work", NULL, &err),
               WF_ENOTFOUND);
  wf_engine_free(e);
}

Test(engine_activities, the_ten_thousand_and_first_activity_is_refused) {
  wf_engine *e = wft_engine(NULL);
  wf_error err;
  char name[16];
  for (int i = 0; i < WF_ACTIVITY_MAX; i++) {
    snprintf(name, sizeof name, "a%d", i);
    cr_assert_eq(wf_engine_activity_create(NULL, e, name, NULL, &err), WF_OK,
                 "%s: %s", name, err.message);
  }
  cr_assert_eq(wf_engine_activity_create(NULL, e, "one-more", NULL, &err),
               WF_ELIMIT);
  cr_assert_str_eq(err.message, "Activity limit exceeded: 10000 activities");
  /* An existing name is still answered (idempotent), and a deletion makes
   * room. */
  cr_assert_eq(wf_engine_activity_create(NULL, e, "a7", NULL, &err), WF_OK);
  cr_assert_eq(wf_engine_activity_delete(e, ARN "a7", &err), WF_OK);
  cr_assert_eq(wf_engine_activity_create(NULL, e, "one-more", NULL, &err),
               WF_OK);
  wf_engine_free(e);
}

/* Find the event of `type` in x's history; borrowed from *doc. */
static json_t *event_of(wf_execution *x, const char *type, json_t **doc) {
  json_t *events = wft_events(x, 0, doc);
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    if (strcmp(json_string_value(json_object_get(ev, "type")), type) == 0)
      return ev;
  }
  cr_assert_fail("no %s event", type);
  return NULL;
}

/* A virtual-clock engine with the activity "work" and an execution of
 * `def` on `input`. */
typedef struct fx {
  wf_clock *clock;
  wf_engine *e;
  wf_machine *m;
  wf_execution *x;
} fx;

static void fx_start(fx *f, const char *def, const char *input) {
  f->e = wft_virtual_engine(&f->clock, WF_HISTORY_FULL);
  wf_activity_free(create(f->e, "work", NULL));
  f->m = wft_load(def);
  f->x = wft_start(f->e, f->m, input, NULL);
}

static void fx_free(fx *f) {
  wf_execution_free(f->x);
  wf_machine_free(f->m);
  wf_engine_free(f->e);
  wf_clock_free(f->clock);
}

Test(engine_activities, a_worker_takes_the_task_and_answers_by_token) {
  fx f;
  fx_start(&f, MACHINE, "{\"n\":1}");
  wf_engine *e = f.e;
  wf_execution *x = f.x;
  wf_task *t = poll_task(e, ARN "work", "worker-1", 0);
  cr_assert_not_null(t);
  wft_assert_json(wf_task_input(t), "{\"n\":1}");
  char token[40];
  snprintf(token, sizeof token, "%s", wf_task_token(t));
  cr_assert_eq(strlen(token), 32);
  /* Nobody else gets it. */
  cr_assert_null(poll_task(e, ARN "work", "worker-2", -1));
  wf_error err;
  cr_assert_eq(wf_engine_send_task_success(e, token, "{\"done\":true}", &err),
               WF_OK, "%s", err.message);
  wf_task_release(t);
  wft_wait(x);
  wft_assert_succeeded(x, "{\"done\":true}");
  const char *skip[] = {"Task", "Execution", NULL};
  char *types = wft_event_types_except(x, skip);
  cr_assert_str_eq(types, "ActivityScheduled ActivityStarted "
                          "ActivitySucceeded");
  free(types);
  json_t *doc;
  json_t *sched = wft_details(event_of(x, "ActivityScheduled", &doc));
  cr_assert_str_eq(json_string_value(json_object_get(sched, "resource")),
                   ARN "work");
  wft_assert_json(json_string_value(json_object_get(sched, "input")),
                  "{\"n\":1}");
  json_decref(doc);
  json_t *started = wft_details(event_of(x, "ActivityStarted", &doc));
  cr_assert_str_eq(
      json_string_value(json_object_get(started, "workerName")), "worker-1");
  json_decref(doc);
  /* The token is spent. */
  cr_assert_eq(wf_engine_send_task_success(e, token, "{}", &err),
               WF_ENOTFOUND);
  fx_free(&f);
}

Test(engine_activities, a_failure_fails_the_state) {
  fx f;
  fx_start(&f, MACHINE, "{}");
  wf_engine *e = f.e;
  wf_execution *x = f.x;
  wf_task *t = poll_task(e, ARN "work", NULL, 0);
  cr_assert_not_null(t);
  wf_error err;
  cr_assert_eq(wf_engine_send_task_heartbeat(e, wf_task_token(t), &err),
               WF_OK);
  cr_assert_eq(wf_engine_send_task_failure(e, wf_task_token(t), "Oops",
                                           "it broke", &err),
               WF_OK);
  wf_task_release(t);
  wft_wait(x);
  wft_assert_failed(x, "Oops", "it broke");
  json_t *doc;
  json_t *failed = wft_details(event_of(x, "ActivityFailed", &doc));
  cr_assert_str_eq(json_string_value(json_object_get(failed, "error")),
                   "Oops");
  json_decref(doc);
  fx_free(&f);
}

/* AWS (LocalStack's recording test_activity_task_on_deleted): no
 * ActivityScheduled, the execution fails with States.Runtime. */
Test(engine_activities, a_task_on_a_missing_activity_fails_the_execution) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(MACHINE);
  wf_execution *x = wft_run(e, m, "{}", NULL);
  wft_assert_failed(x, "States.Runtime",
                    "An error occurred while executing the state 'Work' "
                    "(entered at the event id #2). The activity " ARN
                    "work does not exist.");
  char *types = wft_event_types(x);
  cr_assert_str_eq(types, "ExecutionStarted TaskStateEntered ExecutionFailed");
  free(types);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* On a virtual clock time runs on while nobody polls. */
Test(engine_activities, an_unpolled_task_times_out) {
  fx f;
  fx_start(&f,
      "{\"StartAt\":\"Work\",\"States\":{\"Work\":{\"Type\":\"Task\","
      "\"Resource\":\"" ARN "work\",\"TimeoutSeconds\":30,\"End\":true}}}", "{}");
  wf_engine *e = f.e;
  wf_execution *x = f.x;
  wft_wait(x);
  wft_assert_failed(x, "States.Timeout", NULL);
  const char *skip[] = {"Task", "Execution", NULL};
  char *types = wft_event_types_except(x, skip);
  cr_assert_str_eq(types, "ActivityScheduled ActivityTimedOut");
  free(types);
  /* Gone from the queue. */
  cr_assert_null(poll_task(e, ARN "work", NULL, -1));
  fx_free(&f);
}

Test(engine_activities, a_missed_heartbeat_is_a_heartbeat_timeout) {
  fx f;
  fx_start(&f,
      "{\"StartAt\":\"Work\",\"States\":{\"Work\":{\"Type\":\"Task\","
      "\"Resource\":\"" ARN "work\",\"HeartbeatSeconds\":5,\"Catch\":[{"
      "\"ErrorEquals\":[\"States.HeartbeatTimeout\"],\"Next\":\"Late\"}],"
      "\"End\":true},\"Late\":{\"Type\":\"Pass\",\"End\":true}}}", "{}");
  wf_execution *x = f.x;
  wft_wait(x);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_SUCCEEDED);
  json_t *doc;
  event_of(x, "ActivityTimedOut", &doc);
  json_decref(doc);
  fx_free(&f);
}

/* ---- many pollers ---- */

typedef struct poller {
  wf_engine *e;
  wf_task *task;
  pthread_t thread;
} poller;

static void *poll_main(void *arg) {
  poller *p = arg;
  wf_activity_poll_options po = WF_ACTIVITY_POLL_OPTIONS_INIT;
  po.timeout_ms = WFT_WAIT_MS;
  wf_engine_activity_get_task(&p->task, p->e, ARN "work", &po, NULL);
  return NULL;
}

Test(engine_activities, waiting_pollers_each_get_a_task_as_work_arrives) {
  wf_engine *e = wft_engine(NULL);
  wf_activity_free(create(e, "work", NULL));
  wf_machine *m = wft_load(MACHINE);
  enum { N = 4 };
  poller ps[N];
  for (int i = 0; i < N; i++) {
    ps[i] = (poller){e, NULL, 0};
    cr_assert_eq(pthread_create(&ps[i].thread, NULL, poll_main, &ps[i]), 0);
  }
  /* Work arrives while (or before) they wait: each poll is answered when
   * its task is queued, well before its 10 s. */
  int64_t t0 = wft_mono_ms();
  wf_execution *xs[N];
  for (int i = 0; i < N; i++) {
    char in[32];
    snprintf(in, sizeof in, "{\"i\":%d}", i);
    xs[i] = wft_start(e, m, in, NULL);
  }
  int seen = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(ps[i].thread, NULL);
    cr_assert_not_null(ps[i].task, "poller %d got nothing", i);
    json_t *in = wft_parse(wf_task_input(ps[i].task));
    seen |= 1 << json_integer_value(json_object_get(in, "i"));
    json_decref(in);
    cr_assert_eq(wf_task_succeed(ps[i].task, wf_task_input(ps[i].task)),
                 WF_OK);
    wf_task_release(ps[i].task);
  }
  cr_assert_lt(wft_mono_ms() - t0, WFT_WAIT_MS - 1000);
  cr_assert_eq(seen, (1 << N) - 1, "a task went to two pollers");
  for (int i = 0; i < N; i++) {
    wft_wait(xs[i]);
    cr_assert_eq(wf_execution_status(xs[i]), WF_EXEC_SUCCEEDED);
    wf_execution_free(xs[i]);
  }
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_activities, a_poll_with_no_work_answers_nothing_after_its_time) {
  wf_engine *e = wft_engine(NULL);
  wf_activity_free(create(e, "work", NULL));
  int64_t t0 = wft_mono_ms();
  cr_assert_null(poll_task(e, ARN "work", NULL, 50));
  int64_t took = wft_mono_ms() - t0;
  cr_assert_geq(took, 45);
  cr_assert_lt(took, 5000);
  wf_activity_poll_options po = WF_ACTIVITY_POLL_OPTIONS_INIT;
  po.version = 99;
  wf_task *t = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_activity_get_task(&t, e, ARN "work", &po, &err),
               WF_EVERSION);
  wf_engine_free(e);
}

/* A poller waiting when its activity is deleted leaves at once, with no
 * task. */
static void *poll_long(void *arg) {
  poller *p = arg;
  wf_engine_activity_get_task(&p->task, p->e, ARN "work", NULL, NULL);
  return NULL;
}

Test(engine_activities, deleting_the_activity_sends_a_waiting_poller_away) {
  wf_engine *e = wft_engine(NULL);
  wf_activity_free(create(e, "work", NULL));
  poller p = {e, NULL, 0};
  cr_assert_eq(pthread_create(&p.thread, NULL, poll_long, &p), 0);
  int64_t t0 = wft_mono_ms();
  wf_error err;
  cr_assert_eq(wf_engine_activity_delete(e, ARN "work", &err), WF_OK);
  pthread_join(p.thread, NULL);
  cr_assert_null(p.task);
  cr_assert_lt(wft_mono_ms() - t0, 30000);
  wf_engine_free(e);
}

/* ---- restarts ---- */

static wf_engine *durable_engine(wf_store **store, const char *dir) {
  *store = wst_open("sqlite", dir, NULL);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.store = *store;
  wf_engine *e = wft_engine(&o);
  size_t n;
  wf_error err;
  cr_assert_eq(wf_engine_resume(e, &n, &err), WF_OK, "%s", err.message);
  return e;
}

Test(engine_activities, queued_and_taken_tasks_survive_a_restart) {
  char *dir = wst_tmpdir();
  wf_store *store;
  wf_engine *e = durable_engine(&store, dir);
  wf_activity_free(create(e, "work", NULL));
  wf_machine *m = wft_load(MACHINE);
  wf_execution *taken = wft_start(e, m, "{\"q\":1}", NULL);
  wf_execution *queued = wft_start(e, m, "{\"q\":2}", NULL);
  char *taken_arn = strdup(wf_execution_arn(taken));
  char *queued_arn = strdup(wf_execution_arn(queued));
  wf_execution_free(queued);
  wf_execution_free(taken);
  wf_task *t = poll_task(e, ARN "work", "w", 0);
  cr_assert_not_null(t);
  wft_assert_json(wf_task_input(t), "{\"q\":1}");
  char token[64];
  snprintf(token, sizeof token, "%s", wf_task_token(t));
  wf_task_release(t);
  wf_engine_free(e);
  wf_store_free(store);

  e = durable_engine(&store, dir);
  wf_activity *a = NULL;
  wf_error err;
  cr_assert_eq(wf_engine_activity_describe(&a, e, ARN "work", &err), WF_OK,
               "the activity did not survive: %s", err.message);
  wf_activity_free(a);
  wf_execution *xt = NULL, *xq = NULL;
  cr_assert_eq(wf_engine_find_execution(&xt, e, taken_arn), WF_OK);
  cr_assert_eq(wf_engine_find_execution(&xq, e, queued_arn), WF_OK);
  /* The taken one is not handed out again; the queued one is. */
  t = poll_task(e, ARN "work", "w2", 0);
  cr_assert_not_null(t);
  wft_assert_json(wf_task_input(t), "{\"q\":2}");
  cr_assert_eq(wf_task_succeed(t, "{\"r\":2}"), WF_OK);
  wf_task_release(t);
  cr_assert_null(poll_task(e, ARN "work", NULL, -1));
  cr_assert_eq(wf_engine_send_task_success(e, token, "{\"r\":1}", &err),
               WF_OK, "the taken task's token: %s", err.message);
  wft_wait(xt);
  wft_assert_succeeded(xt, "{\"r\":1}");
  wft_wait(xq);
  wft_assert_succeeded(xq, "{\"r\":2}");
  wf_execution_free(xt);
  wf_execution_free(xq);
  free(taken_arn);
  free(queued_arn);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_store_free(store);
  wst_rmdir(dir);
}
