/* Task handlers (include/workflow/handler.h and the registration and token
 * functions of engine.h): which handler a resource reaches, inline and
 * worker-pool handlers, completion from other threads and by token, the
 * task context, and what AWS answers for a resource nobody serves. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/json.h"
#include "workflow/workflow.h"

TestSuite(engine_tasks, .timeout = 120);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define INVOKE "arn:aws:states:::lambda:invoke"

/* A machine with one Task state on `resource`. */
static wf_machine *one_task(const char *resource) {
  char def[512];
  snprintf(def, sizeof def,
           "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
           "\"Resource\":\"%s\",\"End\":true}}}",
           resource);
  return wft_load(def);
}

/* ---- handlers ---- */

/* Succeeds with {"by": payload}. */
static void answer_by(wf_task *t, void *payload) {
  char out[128];
  snprintf(out, sizeof out, "{\"by\":\"%s\"}", (const char *)payload);
  wf_task_succeed(t, out);
}

static void echo_input(wf_task *t, void *payload) {
  (void)payload;
  wf_task_succeed(t, wf_task_input(t));
}

/* Keeps the task pending; the test completes it. */
typedef struct held_task {
  wft_gate called;
  wf_task *task;
  char token[128];
} held_task;

static void hold_task(wf_task *t, void *payload) {
  held_task *h = payload;
  wf_task_retain(t);
  h->task = t;
  snprintf(h->token, sizeof h->token, "%s", wf_task_token(t));
  wft_gate_open(&h->called);
}

/* Keeps only the token: completion must come through the engine. */
static void keep_token(wf_task *t, void *payload) {
  held_task *h = payload;
  snprintf(h->token, sizeof h->token, "%s", wf_task_token(t));
  wft_gate_open(&h->called);
}

/* Blocks until its gate opens (only for inputs with "block": true). */
typedef struct blocker {
  wft_gate entered;
  wft_gate release;
  atomic_int calls;
} blocker;

static void block_until_released(wf_task *t, void *payload) {
  blocker *b = payload;
  atomic_fetch_add(&b->calls, 1);
  if (strstr(wf_task_input(t), "\"block\":true")) {
    wft_gate_open(&b->entered);
    wft_gate_wait(&b->release, WFT_WAIT_MS);
  }
  wf_task_succeed(t, wf_task_input(t));
}

/* Starts `m` (a Task on a blocker) with {"block":true} and waits until the
 * call sits in the handler. */
static wf_execution *start_blocked(wf_engine *e, wf_machine *m, blocker *b) {
  wf_execution *x = wft_start(e, m, "{\"block\":true}", NULL);
  cr_assert(wft_gate_wait(&b->entered, WFT_WAIT_MS));
  return x;
}

/* Releases the blocked call: its execution succeeds with its input. */
static void release_blocked(wf_execution *x, blocker *b) {
  wft_gate_open(&b->release);
  wft_wait(x);
  wft_assert_succeeded(x, "{\"block\":true}");
}

/* Hands the task to a new thread, which completes it. */
typedef struct async_done {
  wf_task *task;
  int fail;
  pthread_t thread;
  atomic_int started;
} async_done;

static void *async_complete_main(void *arg) {
  async_done *a = arg;
  wft_sleep_ms(2);
  if (a->fail)
    wf_task_fail(a->task, "Async.Error", "failed on another thread");
  else
    wf_task_succeed(a->task, "{\"thread\":\"other\"}");
  wf_task_release(a->task);
  return NULL;
}

static void complete_on_other_thread(wf_task *t, void *payload) {
  async_done *a = payload;
  wf_task_retain(t);
  a->task = t;
  atomic_store(&a->started, 1);
  pthread_create(&a->thread, NULL, async_complete_main, a);
}

/* ---- registration ---- */

Test(engine_tasks, exact_registration_receives_the_effective_input) {
  wf_engine *e = wft_engine(NULL);
  cr_assert_eq(wf_engine_register_handler(e, FN "Echo", echo_input, NULL, 0,
                                          NULL),
               WF_OK);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Echo\",\"InputPath\":\"$.order\",\"Parameters\":{\"id.$\":"
      "\"$.id\",\"fixed\":1},\"End\":true}}}");
  wf_execution *x = wft_run(e, m, "{\"order\":{\"id\":7,\"x\":0}}", NULL);
  wft_assert_succeeded(x, "{\"id\":7,\"fixed\":1}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, prefix_registration_matches_every_resource_it_starts) {
  wf_engine *e = wft_engine(NULL);
  cr_assert_eq(wf_engine_register_handler(e, FN, answer_by, "prefix",
                                          WF_HANDLER_PREFIX, NULL),
               WF_OK);
  const char *fns[] = {FN "A", FN "Other", FN "Other:prod"};
  for (int i = 0; i < 3; i++) {
    wf_machine *m = one_task(fns[i]);
    wf_execution *x = wft_run(e, m, NULL, NULL);
    wft_assert_succeeded(x, "{\"by\":\"prefix\"}");
    wf_execution_free(x);
    wf_machine_free(m);
  }
  wf_engine_free(e);
}

Test(engine_tasks, longest_prefix_wins_and_exact_beats_any_prefix) {
  wf_engine *e = wft_engine(NULL);
  /* Registered shortest last, so order of registration cannot decide. */
  cr_assert_eq(wf_engine_register_handler(e, FN "Pay", answer_by, "long",
                                          WF_HANDLER_PREFIX, NULL),
               WF_OK);
  cr_assert_eq(wf_engine_register_handler(e, FN "PayCard", answer_by, "exact",
                                          0, NULL),
               WF_OK);
  cr_assert_eq(wf_engine_register_handler(e, "arn:aws:lambda:", answer_by,
                                          "short", WF_HANDLER_PREFIX, NULL),
               WF_OK);
  const struct {
    const char *resource, *want;
  } cases[] = {
      {FN "PayCard", "{\"by\":\"exact\"}"},
      {FN "PayCash", "{\"by\":\"long\"}"},
      {FN "PayCard:v2", "{\"by\":\"long\"}"},
      {FN "Ship", "{\"by\":\"short\"}"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    wf_machine *m = one_task(cases[i].resource);
    wf_execution *x = wft_run(e, m, NULL, NULL);
    wft_assert_succeeded(x, cases[i].want);
    wf_execution_free(x);
    wf_machine_free(m);
  }
  wf_engine_free(e);
}

Test(engine_tasks, duplicate_registration_is_eexist_per_kind) {
  wf_engine *e = wft_engine(NULL);
  wf_error err;
  cr_assert_eq(wf_engine_register_handler(e, FN "A", echo_input, NULL, 0,
                                          &err),
               WF_OK);
  cr_assert_eq(wf_engine_register_handler(e, FN "A", answer_by, "2nd", 0,
                                          &err),
               WF_EEXIST);
  cr_assert_eq(err.code, WF_EEXIST);
  cr_assert(strstr(err.message, FN "A"), "%s", err.message);
  /* Inline or not, it is the same resource. */
  cr_assert_eq(wf_engine_register_handler(e, FN "A", answer_by, "2nd",
                                          WF_HANDLER_INLINE, &err),
               WF_EEXIST);
  cr_assert_eq(wf_engine_register_handler(e, FN, echo_input, NULL,
                                          WF_HANDLER_PREFIX, &err),
               WF_OK);
  cr_assert_eq(wf_engine_register_handler(e, FN, answer_by, "2nd",
                                          WF_HANDLER_PREFIX, &err),
               WF_EEXIST);
  /* The same text as an exact and as a prefix registration: both kept. */
  cr_assert_eq(wf_engine_register_handler(e, FN "A", echo_input, NULL,
                                          WF_HANDLER_PREFIX, &err),
               WF_OK);
  /* The first registration still answers. */
  wf_machine *m = one_task(FN "A");
  wf_execution *x = wft_run(e, m, "{\"first\":true}", NULL);
  wft_assert_succeeded(x, "{\"first\":true}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, registration_rejects_bad_arguments) {
  wf_engine *e = wft_engine(NULL);
  wf_error err;
  cr_assert_eq(wf_engine_register_handler(e, NULL, echo_input, NULL, 0, &err),
               WF_EINVAL);
  cr_assert_eq(err.code, WF_EINVAL);
  cr_assert_eq(wf_engine_register_handler(e, "", echo_input, NULL, 0, &err),
               WF_EINVAL);
  cr_assert_eq(wf_engine_register_handler(e, FN "A", NULL, NULL, 0, &err),
               WF_EINVAL);
  cr_assert_eq(wf_engine_register_handler(NULL, FN "A", echo_input, NULL, 0,
                                          &err),
               WF_EINVAL);
  cr_assert_eq(wf_engine_register_handler(e, FN "A", echo_input, NULL,
                                          1u << 7, &err),
               WF_EINVAL);
  /* None of those registered anything. */
  cr_assert_eq(wf_engine_unregister_handler(e, FN "A", 0), WF_ENOTFOUND);
  wf_engine_free(e);
}

Test(engine_tasks, registration_copies_the_resource) {
  wf_engine *e = wft_engine(NULL);
  char res[] = FN "Copied";
  cr_assert_eq(wf_engine_register_handler(e, res, answer_by, "copied", 0,
                                          NULL),
               WF_OK);
  res[strlen(res) - 1] = 'X';
  wf_machine *m = one_task(FN "Copied");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  wft_assert_succeeded(x, "{\"by\":\"copied\"}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, unregister_removes_exactly_that_registration) {
  wf_engine *e = wft_engine(NULL);
  wf_engine_register_handler(e, FN "A", answer_by, "exact", 0, NULL);
  wf_engine_register_handler(e, FN, answer_by, "prefix", WF_HANDLER_PREFIX,
                             NULL);
  /* The wrong kind finds nothing. */
  cr_assert_eq(wf_engine_unregister_handler(e, FN "A", WF_HANDLER_PREFIX),
               WF_ENOTFOUND);
  cr_assert_eq(wf_engine_unregister_handler(e, FN, 0), WF_ENOTFOUND);
  cr_assert_eq(wf_engine_unregister_handler(e, FN "Zzz", 0), WF_ENOTFOUND);

  wf_machine *m = one_task(FN "A");
  cr_assert_eq(wf_engine_unregister_handler(e, FN "A", 0), WF_OK);
  wf_execution *x = wft_run(e, m, NULL, NULL);
  wft_assert_succeeded(x, "{\"by\":\"prefix\"}");
  wf_execution_free(x);

  cr_assert_eq(wf_engine_unregister_handler(e, FN, WF_HANDLER_PREFIX), WF_OK);
  cr_assert_eq(wf_engine_unregister_handler(e, FN, WF_HANDLER_PREFIX),
               WF_ENOTFOUND);
  x = wft_run(e, m, NULL, NULL);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "Lambda.ResourceNotFoundException");
  wf_execution_free(x);

  /* Registering again after removal works. */
  cr_assert_eq(wf_engine_register_handler(e, FN "A", answer_by, "again", 0,
                                          NULL),
               WF_OK);
  x = wft_run(e, m, NULL, NULL);
  wft_assert_succeeded(x, "{\"by\":\"again\"}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, unregister_lets_the_call_in_flight_finish) {
  wf_engine *e = wft_engine(NULL);
  blocker b = {WFT_GATE_INIT, WFT_GATE_INIT, 0};
  wf_engine_register_handler(e, FN "Slow", block_until_released, &b, 0, NULL);
  wf_machine *m = one_task(FN "Slow");
  wf_execution *x = start_blocked(e, m, &b);
  cr_assert_eq(wf_engine_unregister_handler(e, FN "Slow", 0), WF_OK);
  release_blocked(x, &b);
  /* No new call once unregistered. */
  wf_execution *y = wft_run(e, m, "{}", NULL);
  cr_assert_str_eq(wf_execution_error(y), "Lambda.ResourceNotFoundException");
  cr_assert_eq(atomic_load(&b.calls), 1);
  wf_execution_free(x);
  wf_execution_free(y);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- inline and pool handlers ---- */

Test(engine_tasks, inline_handler_runs_while_the_only_worker_is_busy) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.worker_threads = 1;
  wf_engine *e = wft_engine(&o);
  blocker b = {WFT_GATE_INIT, WFT_GATE_INIT, 0};
  wf_engine_register_handler(e, FN "Pool", block_until_released, &b, 0, NULL);
  wf_engine_register_handler(e, FN "Inline", echo_input, NULL,
                             WF_HANDLER_INLINE, NULL);
  wf_machine *pool = one_task(FN "Pool");
  wf_machine *inl = one_task(FN "Inline");

  wf_execution *busy = start_blocked(e, pool, &b);
  /* The inline handler needs no worker. */
  wf_execution *quick = wft_run(e, inl, "{\"inline\":1}", NULL);
  wft_assert_succeeded(quick, "{\"inline\":1}");
  /* A second pool task queues behind the busy worker. */
  wf_execution *queued = wft_start(e, pool, "{\"queued\":1}", NULL);
  cr_assert_eq(wf_execution_wait(queued, 30), WF_ETIMEDOUT);
  cr_assert_eq(atomic_load(&b.calls), 1);

  release_blocked(busy, &b);
  wft_wait(queued);
  wft_assert_succeeded(queued, "{\"queued\":1}");
  wf_execution_free(busy);
  wf_execution_free(quick);
  wf_execution_free(queued);
  wf_machine_free(pool);
  wf_machine_free(inl);
  wf_engine_free(e);
}

Test(engine_tasks, slow_pool_handler_does_not_hold_up_another_execution) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.scheduler_threads = 1;
  wf_engine *e = wft_engine(&o);
  blocker b = {WFT_GATE_INIT, WFT_GATE_INIT, 0};
  wf_engine_register_handler(e, FN "Work", block_until_released, &b, 0, NULL);
  wf_machine *m = one_task(FN "Work");
  wf_execution *slow = start_blocked(e, m, &b);
  wf_execution *fast = wft_run(e, m, "{\"block\":false}", NULL);
  wft_assert_succeeded(fast, "{\"block\":false}");
  cr_assert_eq(wf_execution_status(slow), WF_EXEC_RUNNING);
  release_blocked(slow, &b);
  wf_execution_free(slow);
  wf_execution_free(fast);
  wf_machine_free(m);
  wf_engine_free(e);
}

static void async_completion(unsigned flags, int fail) {
  wf_engine *e = wft_engine(NULL);
  async_done a = {.fail = fail};
  wf_engine_register_handler(e, FN "Async", complete_on_other_thread, &a,
                             flags, NULL);
  wf_machine *m = one_task(FN "Async");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  cr_assert_eq(atomic_load(&a.started), 1);
  pthread_join(a.thread, NULL);
  if (fail)
    wft_assert_failed(x, "Async.Error", "failed on another thread");
  else
    wft_assert_succeeded(x, "{\"thread\":\"other\"}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, pool_handler_may_complete_from_another_thread) {
  async_completion(0, 0);
}

Test(engine_tasks, inline_handler_may_complete_from_another_thread) {
  async_completion(WF_HANDLER_INLINE, 0);
}

Test(engine_tasks, task_may_fail_from_another_thread) {
  async_completion(0, 1);
}

/* ---- completion by token ---- */

static void token_setup(wf_engine **e, wf_machine **m, held_task *h,
                        wf_execution **x) {
  *e = wft_engine(NULL);
  wf_engine_register_handler(*e, FN "Callback", keep_token, h, 0, NULL);
  *m = one_task(FN "Callback");
  *x = wft_start(*e, *m, "{\"in\":1}", NULL);
  cr_assert(wft_gate_wait(&h->called, WFT_WAIT_MS));
  cr_assert_neq(h->token[0], '\0');
}

Test(engine_tasks, send_task_success_completes_the_task_once) {
  wf_engine *e;
  wf_machine *m;
  wf_execution *x;
  held_task h = {.called = WFT_GATE_INIT};
  token_setup(&e, &m, &h, &x);
  wf_error err;
  cr_assert_eq(wf_engine_send_task_success(e, h.token, "{\"ok\":1}", &err),
               WF_OK);
  wft_wait(x);
  wft_assert_succeeded(x, "{\"ok\":1}");
  /* A finished task's token is gone. */
  cr_assert_eq(wf_engine_send_task_success(e, h.token, "{}", &err),
               WF_ENOTFOUND);
  cr_assert_eq(err.code, WF_ENOTFOUND);
  cr_assert(strstr(err.message, h.token), "%s", err.message);
  cr_assert_eq(wf_engine_send_task_failure(e, h.token, "E", "C", NULL),
               WF_ENOTFOUND);
  cr_assert_eq(wf_engine_send_task_heartbeat(e, h.token, NULL), WF_ENOTFOUND);
  wft_assert_succeeded(x, "{\"ok\":1}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, send_task_failure_fails_the_task_with_error_and_cause) {
  wf_engine *e;
  wf_machine *m;
  wf_execution *x;
  held_task h = {.called = WFT_GATE_INIT};
  token_setup(&e, &m, &h, &x);
  cr_assert_eq(wf_engine_send_task_heartbeat(e, h.token, NULL), WF_OK);
  cr_assert_eq(wf_engine_send_task_failure(e, h.token, "Payment.Declined",
                                           "card expired", NULL),
               WF_OK);
  wft_wait(x);
  wft_assert_failed(x, "Payment.Declined", "card expired");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, send_task_success_with_bad_json_leaves_the_task_pending) {
  wf_engine *e;
  wf_machine *m;
  wf_execution *x;
  held_task h = {.called = WFT_GATE_INIT};
  token_setup(&e, &m, &h, &x);
  wf_error err;
  cr_assert_eq(wf_engine_send_task_success(e, h.token, "{not json", &err),
               WF_EPARSE);
  cr_assert_eq(err.code, WF_EPARSE);
  cr_assert_eq(wf_engine_send_task_success(e, h.token, NULL, &err),
               WF_EPARSE);
  cr_assert_eq(wf_execution_wait(x, 20), WF_ETIMEDOUT);
  cr_assert_eq(wf_engine_send_task_success(e, h.token, "[1]", &err), WF_OK);
  wft_wait(x);
  wft_assert_succeeded(x, "[1]");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, send_task_success_over_the_payload_limit_is_elimit) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 32;
  wf_engine *e = wft_engine(&o);
  held_task h = {.called = WFT_GATE_INIT};
  wf_engine_register_handler(e, FN "Callback", keep_token, &h, 0, NULL);
  wf_machine *m = one_task(FN "Callback");
  wf_execution *x = wft_start(e, m, NULL, NULL);
  cr_assert(wft_gate_wait(&h.called, WFT_WAIT_MS));
  wf_error err;
  cr_assert_eq(wf_engine_send_task_success(
                   e, h.token, "{\"a\":\"0123456789012345678901234\"}", &err),
               WF_ELIMIT);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_RUNNING);
  cr_assert_eq(wf_engine_send_task_success(e, h.token, "{\"a\":1}", &err),
               WF_OK);
  wft_wait(x);
  wft_assert_succeeded(x, "{\"a\":1}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, unknown_tokens_are_enotfound) {
  wf_engine *e = wft_engine(NULL);
  wf_error err;
  cr_assert_eq(wf_engine_send_task_success(e, "no-such-token", "{}", &err),
               WF_ENOTFOUND);
  cr_assert_eq(err.code, WF_ENOTFOUND);
  cr_assert_eq(wf_engine_send_task_failure(e, "no-such-token", "E", "C",
                                           &err),
               WF_ENOTFOUND);
  cr_assert_eq(wf_engine_send_task_heartbeat(e, "no-such-token", &err),
               WF_ENOTFOUND);
  cr_assert_eq(wf_engine_send_task_success(e, NULL, "{}", &err),
               WF_ENOTFOUND);
  wf_engine_free(e);
}

Test(engine_tasks, token_of_a_held_task_completes_it_too) {
  wf_engine *e = wft_engine(NULL);
  held_task h = {.called = WFT_GATE_INIT};
  wf_engine_register_handler(e, FN "Hold", hold_task, &h, 0, NULL);
  wf_machine *m = one_task(FN "Hold");
  wf_execution *x = wft_start(e, m, NULL, NULL);
  cr_assert(wft_gate_wait(&h.called, WFT_WAIT_MS));
  cr_assert_eq(wf_engine_send_task_success(e, h.token, "\"by token\"", NULL),
               WF_OK);
  wft_wait(x);
  /* The handler's own completion comes too late. */
  cr_assert_eq(wf_task_succeed(h.task, "\"by handler\""), WF_ESTATE);
  cr_assert_eq(wf_task_heartbeat(h.task), WF_ESTATE);
  wf_task_release(h.task);
  wft_assert_succeeded(x, "\"by token\"");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

typedef struct token_seen {
  wft_gate called;
  char input[256];
  char token[128];
} token_seen;

static void see_token(wf_task *t, void *payload) {
  token_seen *s = payload;
  snprintf(s->input, sizeof s->input, "%s", wf_task_input(t));
  snprintf(s->token, sizeof s->token, "%s", wf_task_token(t));
  wft_gate_open(&s->called);
}

Test(engine_tasks, callback_pattern_passes_the_token_in_parameters) {
  /* The AWS callback pattern: "$$.Task.Token" in the Parameters of a
   * .waitForTaskToken state is the token SendTaskSuccess completes. */
  wf_engine *e = wft_engine(NULL);
  token_seen s = {.called = WFT_GATE_INIT};
  const char *res = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";
  wf_engine_register_handler(e, res, see_token, &s, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\",\"Parameters\":"
      "{\"QueueUrl\":\"q\",\"MessageBody\":{\"TaskToken.$\":\"$$.Task.Token\"}},"
      "\"End\":true}}}");
  wf_execution *x = wft_start(e, m, NULL, NULL);
  cr_assert(wft_gate_wait(&s.called, WFT_WAIT_MS));
  char want[256];
  snprintf(want, sizeof want,
           "{\"QueueUrl\":\"q\",\"MessageBody\":{\"TaskToken\":\"%s\"}}",
           s.token);
  wft_assert_json(s.input, want);
  cr_assert_eq(wf_engine_send_task_success(e, s.token, "{\"done\":1}", NULL),
               WF_OK);
  wft_wait(x);
  wft_assert_succeeded(x, "{\"done\":1}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* A handler on the pool hands the token from its input on at once, and
 * the outside answers before the handler returns: the token is known
 * already (it used to be published only after the call). */
static void answer_at_once(wf_task *t, void *payload) {
  wf_engine *e = payload;
  const json_t *in = wf_task_input_value(t);
  const char *token = json_string_value(json_object_get(in, "token"));
  wf_error err;
  if (wf_engine_send_task_success(e, token, "{\"fast\":true}", &err) !=
      WF_OK)
    wf_task_fail(t, "Lost", err.message);
}

Test(engine_tasks, a_callback_token_answered_before_its_handler_returns) {
  wf_engine *e = wft_engine(NULL);
  const char *res = "arn:aws:states:::lambda:invoke.waitForTaskToken";
  wf_engine_register_handler(e, res, answer_at_once, e, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
      "\"Resource\":\"arn:aws:states:::lambda:invoke.waitForTaskToken\","
      "\"Parameters\":{\"FunctionName\":\"f\",\"token.$\":"
      "\"$$.Task.Token\"},\"End\":true}}}");
  for (int i = 0; i < 200; i++) {
    wf_execution *x = wft_start(e, m, NULL, NULL);
    wft_wait(x);
    wft_assert_succeeded(x, "{\"fast\":true}");
    wf_execution_free(x);
  }
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- the task context ---- */

typedef struct context_seen {
  pthread_mutex_t mu;
  int n;
  char exec_name[96], exec_arn[256], state[96], resource[256], input[256];
  char correlation[96];
  int has_correlation;
  unsigned attempts[8];
  char tokens[8][128];
  int64_t deadline;
  int cancelled;
} context_seen;

static void record_context(wf_task *t, void *payload) {
  context_seen *c = payload;
  pthread_mutex_lock(&c->mu);
  int i = c->n++;
  if (i < 8) {
    c->attempts[i] = wf_task_attempt(t);
    snprintf(c->tokens[i], sizeof c->tokens[i], "%s", wf_task_token(t));
  }
  snprintf(c->exec_name, sizeof c->exec_name, "%s", wf_task_execution_name(t));
  snprintf(c->exec_arn, sizeof c->exec_arn, "%s", wf_task_execution_arn(t));
  snprintf(c->state, sizeof c->state, "%s", wf_task_state_name(t));
  snprintf(c->resource, sizeof c->resource, "%s", wf_task_resource(t));
  snprintf(c->input, sizeof c->input, "%s", wf_task_input(t));
  const char *corr = wf_task_correlation_id(t);
  c->has_correlation = corr != NULL;
  snprintf(c->correlation, sizeof c->correlation, "%s", corr ? corr : "");
  c->deadline = wf_task_deadline(t);
  c->cancelled = wf_task_cancelled(t);
  pthread_mutex_unlock(&c->mu);
  /* Fail the first two attempts so the retries show in the context. */
  if (i < 2)
    wf_task_fail(t, "Transient", "try again");
  else
    wf_task_succeed(t, "{\"done\":true}");
}

Test(engine_tasks, context_describes_the_execution_state_and_attempt) {
  wf_clock *clock;
  wf_engine *e = wft_virtual_engine(&clock, WF_HISTORY_FULL);
  context_seen c = {.mu = PTHREAD_MUTEX_INITIALIZER};
  wf_engine_register_handler(e, FN "Ctx", record_context, &c, 0, NULL);
  wf_machine *m = wft_load_named(
      "{\"StartAt\":\"Charge Card\",\"States\":{\"Charge Card\":{\"Type\":"
      "\"Task\",\"Resource\":\"" FN "Ctx\","
      "\"Parameters\":{\"amount.$\":\"$.amount\"},\"Retry\":[{\"ErrorEquals\":"
      "[\"Transient\"],\"IntervalSeconds\":5,\"BackoffRate\":1.0}],"
      "\"End\":true}}}",
      "Payments");
  char corr[] = "req-7f3a";
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "pay-1";
  so.correlation_id = corr;
  wf_execution *x = wft_start(e, m, "{\"amount\":12.5,\"card\":\"x\"}", &so);
  corr[0] = 'X'; /* copied at start */
  wft_wait(x);
  wft_assert_succeeded(x, "{\"done\":true}");
  cr_assert_eq(c.n, 3);
  cr_assert_str_eq(c.exec_name, "pay-1");
  cr_assert_str_eq(c.exec_arn, "arn:aws:states:us-east-1:123456789012:"
                               "execution:Payments:pay-1");
  cr_assert_str_eq(c.state, "Charge Card");
  cr_assert_str_eq(c.resource, FN "Ctx");
  wft_assert_json(c.input, "{\"amount\":12.5}");
  cr_assert(c.has_correlation);
  cr_assert_str_eq(c.correlation, "req-7f3a");
  for (unsigned i = 0; i < 3; i++) cr_assert_eq(c.attempts[i], i);
  /* A token per attempt. */
  for (int i = 0; i < 3; i++) {
    cr_assert_neq(c.tokens[i][0], '\0');
    for (int j = 0; j < i; j++) cr_assert_str_neq(c.tokens[i], c.tokens[j]);
  }
  /* The third attempt starts after two 5 s back-offs; AWS's default
   * TimeoutSeconds (99,999,999 s) from then. */
  cr_assert_eq(c.deadline, WFT_T0 + 10000 + 99999999LL * 1000);
  cr_assert_eq(c.cancelled, 0);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

Test(engine_tasks, context_without_correlation_and_with_a_timeout) {
  wf_clock *clock;
  wf_engine *e = wft_virtual_engine(&clock, WF_HISTORY_FULL);
  context_seen c = {.mu = PTHREAD_MUTEX_INITIALIZER, .n = 2};
  wf_engine_register_handler(e, FN "Ctx", record_context, &c, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Ctx\",\"TimeoutSeconds\":30,\"End\":true}}}");
  wf_execution *x = wft_run(e, m, "{\"a\":1}", NULL);
  wft_assert_succeeded(x, "{\"done\":true}");
  /* engine.h: without a correlation id, the execution's name serves. */
  cr_assert(c.has_correlation);
  cr_assert_str_eq(c.correlation, wf_execution_name(x));
  cr_assert_str_eq(c.exec_name, wf_execution_name(x));
  cr_assert_str_eq(c.state, "T");
  wft_assert_json(c.input, "{\"a\":1}");
  cr_assert_eq(c.deadline, WFT_T0 + 30000);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
  wf_clock_free(clock);
}

/* ---- completing twice, invalid output ---- */

typedef struct twice_rc {
  int first, second, fail_after, heartbeat_after;
  wft_gate returned;
} twice_rc;

static void complete_twice(wf_task *t, void *payload) {
  twice_rc *r = payload;
  r->first = wf_task_succeed(t, "{\"n\":1}");
  r->second = wf_task_succeed(t, "{\"n\":2}");
  r->fail_after = wf_task_fail(t, "Late", "late");
  r->heartbeat_after = wf_task_heartbeat(t);
  wft_gate_open(&r->returned);
}

Test(engine_tasks, a_task_completes_exactly_once) {
  wf_engine *e = wft_engine(NULL);
  twice_rc r = {-1, -1, -1, -1, WFT_GATE_INIT};
  wf_engine_register_handler(e, FN "Twice", complete_twice, &r, 0, NULL);
  wf_machine *m = one_task(FN "Twice");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  wft_assert_succeeded(x, "{\"n\":1}");
  cr_assert(wft_gate_wait(&r.returned, WFT_WAIT_MS));
  cr_assert_eq(r.first, WF_OK);
  cr_assert_eq(r.heartbeat_after, WF_ESTATE);
  cr_assert_eq(r.second, WF_ESTATE);
  cr_assert_eq(r.fail_after, WF_ESTATE);
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

typedef struct bad_output {
  atomic_int calls;
  atomic_int rc;
  wft_gate returned;
} bad_output;

static void succeed_with_bad_json(wf_task *t, void *payload) {
  bad_output *b = payload;
  atomic_fetch_add(&b->calls, 1);
  atomic_store(&b->rc, wf_task_succeed(t, "{\"unterminated\":"));
  wft_gate_open(&b->returned);
}

Test(engine_tasks, invalid_output_json_fails_with_uncatchable_runtime_error) {
  wf_engine *e = wft_engine(NULL);
  bad_output b = {0, 0, WFT_GATE_INIT};
  wf_engine_register_handler(e, FN "Bad", succeed_with_bad_json, &b, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Bad\",\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"]}],"
      "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Caught\"}],"
      "\"End\":true},\"Caught\":{\"Type\":\"Succeed\"}}}");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  cr_assert(wft_gate_wait(&b.returned, WFT_WAIT_MS));
  cr_assert_eq(atomic_load(&b.rc), WF_EPARSE);
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "States.Runtime");
  cr_assert_not_null(wf_execution_cause(x));
  cr_assert_eq(atomic_load(&b.calls), 1, "States.Runtime was retried");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- resources nobody serves ---- */

/* "<prefix><uuid><suffix>" with a lowercase v4 UUID. */
static void assert_cause_with_request_id(const char *cause,
                                         const char *prefix,
                                         const char *suffix) {
  cr_assert_not_null(cause);
  size_t np = strlen(prefix), ns = strlen(suffix), n = strlen(cause);
  cr_assert_eq(n, np + 36 + ns, "cause: %s", cause);
  cr_assert(strncmp(cause, prefix, np) == 0, "cause: %s\nwant:  %s<uuid>%s",
            cause, prefix, suffix);
  cr_assert_str_eq(cause + np + 36, suffix);
  char id[37];
  memcpy(id, cause + np, 36);
  id[36] = '\0';
  regex_t re;
  regcomp(&re,
          "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
          "[0-9a-f]{12}$",
          REG_EXTENDED | REG_NOSUB);
  int ok = regexec(&re, id, 0, NULL, 0) == 0;
  regfree(&re);
  cr_assert(ok, "request id is not a UUID: %s", id);
}

#define NOT_FOUND_TAIL                                                  \
  " (Service: AWSLambda; Status Code: 404; Error Code: "                \
  "ResourceNotFoundException; Request ID: "

/* The execution failed as AWS fails a call of the Lambda function
 * `function` (an ARN with its qualifier) that does not exist. */
static void assert_function_not_found(wf_execution *x, const char *function) {
  cr_assert_eq(wf_execution_status(x), WF_EXEC_FAILED);
  cr_assert_str_eq(wf_execution_error(x), "Lambda.ResourceNotFoundException");
  char prefix[512];
  snprintf(prefix, sizeof prefix, "Function not found: %s" NOT_FOUND_TAIL,
           function);
  assert_cause_with_request_id(wf_execution_cause(x), prefix,
                               "; Proxy: null)");
}

Test(engine_tasks, unknown_lambda_arn_fails_as_aws_does) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = one_task(FN "Missing");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  assert_function_not_found(x, FN "Missing:$LATEST");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, unknown_function_name_of_lambda_invoke_uses_engine_arn) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.region = "eu-central-1";
  o.account = "111111111111";
  wf_engine *e = wft_engine(&o);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" INVOKE "\",\"Parameters\":{\"FunctionName\":\"no_such_fn\","
      "\"Payload.$\":\"$\"},\"End\":true}}}");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  assert_function_not_found(
      x, "arn:aws:lambda:eu-central-1:111111111111:function:"
         "no_such_fn:$LATEST");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, unknown_qualified_lambda_keeps_its_qualifier) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = one_task(FN "Missing:prod");
  wf_execution *x = wft_run(e, m, NULL, NULL);
  assert_function_not_found(x, FN "Missing:prod");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}

Test(engine_tasks, unknown_lambda_error_is_caught_like_any_task_failure) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Missing\",\"Catch\":[{\"ErrorEquals\":[\"States.TaskFailed\"],"
      "\"ResultPath\":\"$.err\",\"Next\":\"Handled\"}],\"End\":true},"
      "\"Handled\":{\"Type\":\"Pass\",\"Parameters\":{\"error.$\":"
      "\"$.err.Error\",\"keep.$\":\"$.keep\"},\"End\":true}}}");
  wf_execution *x = wft_run(e, m, "{\"keep\":\"me\"}", NULL);
  wft_assert_succeeded(
      x, "{\"error\":\"Lambda.ResourceNotFoundException\",\"keep\":\"me\"}");
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(e);
}
