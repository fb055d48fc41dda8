/* The engine under concurrent use ("Threads: any" in engine.h): many
 * executions started from several threads at once, completion and stops
 * from many threads, and memory that stays flat with history off. No
 * timing is asserted here. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "workflow/workflow.h"

TestSuite(engine_concurrency, .timeout = 600);

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define THREADS 4
#define PER_THREAD 500

/* Pass, an inline Task, a pool Task, a Choice: several hand-offs. */
static const char PIPELINE[] =
    "{\"StartAt\":\"Prepare\",\"States\":{\"Prepare\":{\"Type\":\"Pass\","
    "\"Parameters\":{\"t.$\":\"$.t\",\"n.$\":\"$.n\"},\"Next\":\"Inline\"},"
    "\"Inline\":{\"Type\":\"Task\",\"Resource\":\"" FN "Inline\","
    "\"ResultPath\":\"$.inline\",\"Next\":\"Pool\"},\"Pool\":{\"Type\":"
    "\"Task\",\"Resource\":\"" FN "Pool\",\"ResultPath\":\"$.pool\",\"Next\":"
    "\"Route\"},\"Route\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":"
    "\"$.n\",\"NumericGreaterThanEquals\":0,\"Next\":\"Done\"}]},\"Done\":"
    "{\"Type\":\"Succeed\"}}}";

/* Answers {"sum": t*1000+n} from its input. */
static void sum_handler(wf_task *t, void *payload) {
  (void)payload;
  json_t *in = json_loads(wf_task_input(t), 0, NULL);
  long long v = json_integer_value(json_object_get(in, "t")) * 1000 +
                json_integer_value(json_object_get(in, "n"));
  json_decref(in);
  char out[64];
  snprintf(out, sizeof out, "{\"sum\":%lld}", v);
  wf_task_succeed(t, out);
}

typedef struct starter {
  wf_engine *engine;
  wf_machine *machine;
  pthread_barrier_t *go;
  int index;
  int ok, bad_start, bad_result;
} starter;

static void *start_many(void *arg) {
  starter *s = arg;
  wf_execution **xs = calloc(PER_THREAD, sizeof *xs);
  pthread_barrier_wait(s->go);
  for (int n = 0; n < PER_THREAD; n++) {
    char input[64], name[64];
    snprintf(input, sizeof input, "{\"t\":%d,\"n\":%d}", s->index, n);
    snprintf(name, sizeof name, "t%d-n%d", s->index, n);
    wf_start_options so = WF_START_OPTIONS_INIT;
    so.name = name;
    if (wf_engine_start(&xs[n], s->engine, s->machine, input, &so, NULL) !=
        WF_OK)
      s->bad_start++;
  }
  for (int n = 0; n < PER_THREAD; n++) {
    if (!xs[n]) continue;
    char want[160];
    long long v = (long long)s->index * 1000 + n;
    snprintf(want, sizeof want,
             "{\"t\":%d,\"n\":%d,\"inline\":{\"sum\":%lld},\"pool\":{\"sum\":"
             "%lld}}",
             s->index, n, v, v);
    json_t *w = json_loads(want, 0, NULL);
    json_t *o = NULL;
    if (wf_execution_wait(xs[n], 60000) == WF_OK &&
        wf_execution_status(xs[n]) == WF_EXEC_SUCCEEDED)
      o = json_loads(wf_execution_output(xs[n]), 0, NULL);
    if (o && json_equal(o, w))
      s->ok++;
    else
      s->bad_result++;
    json_decref(o);
    json_decref(w);
    wf_execution_free(xs[n]);
  }
  free(xs);
  return NULL;
}

Test(engine_concurrency, executions_started_from_many_threads_all_complete) {
  wf_engine *e = wft_engine(NULL);
  cr_assert_eq(wf_engine_register_handler(e, FN "Inline", sum_handler, NULL,
                                          WF_HANDLER_INLINE, NULL),
               WF_OK);
  cr_assert_eq(wf_engine_register_handler(e, FN "Pool", sum_handler, NULL, 0,
                                          NULL),
               WF_OK);
  wf_machine *m = wft_load(PIPELINE);
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, THREADS);
  pthread_t th[THREADS];
  starter s[THREADS];
  for (int i = 0; i < THREADS; i++) {
    s[i] = (starter){e, m, &go, i, 0, 0, 0};
    pthread_create(&th[i], NULL, start_many, &s[i]);
  }
  int ok = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(s[i].bad_start, 0, "thread %d: %d starts failed", i,
                 s[i].bad_start);
    cr_assert_eq(s[i].bad_result, 0, "thread %d: %d wrong results", i,
                 s[i].bad_result);
    ok += s[i].ok;
  }
  cr_assert_eq(ok, THREADS * PER_THREAD);
  pthread_barrier_destroy(&go);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- many kinds of calls at once ---- */

static void echo(wf_task *t, void *payload) {
  (void)payload;
  wf_task_succeed(t, wf_task_input(t));
}

static void count_event(const wf_event *ev, void *payload) {
  (void)ev;
  atomic_fetch_add((atomic_long *)payload, 1);
}

typedef struct mixer {
  wf_engine *engine;
  pthread_barrier_t *go;
  int index;
  int failures;
} mixer;

static void *mixed_calls(void *arg) {
  mixer *mx = arg;
  wf_engine *e = mx->engine;
  char res[128], def[512];
  snprintf(res, sizeof res, FN "Mixed%d", mx->index);
  snprintf(def, sizeof def,
           "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
           "\"Resource\":\"%s\",\"End\":true}}}",
           res);
  wf_machine *m = NULL;
  if (wf_machine_load_json(&m, def, NULL, NULL) != WF_OK) {
    mx->failures++;
    return NULL;
  }
  pthread_barrier_wait(mx->go);
  for (int round = 0; round < 50; round++) {
    if (wf_engine_register_handler(e, res, echo, NULL,
                                   round % 2 ? WF_HANDLER_INLINE : 0,
                                   NULL) != WF_OK)
      mx->failures++;
    wf_execution *x = NULL;
    char input[64];
    snprintf(input, sizeof input, "{\"thread\":%d,\"round\":%d}", mx->index,
             round);
    if (wf_engine_start(&x, e, m, input, NULL, NULL) != WF_OK ||
        wf_execution_wait(x, 60000) != WF_OK ||
        wf_execution_status(x) != WF_EXEC_SUCCEEDED)
      mx->failures++;
    wf_execution_free(x);
    if (wf_engine_unregister_handler(e, res,
                                     round % 2 ? WF_HANDLER_INLINE : 0) !=
        WF_OK)
      mx->failures++;
    if (wf_engine_send_task_success(e, "no-such-token", "{}", NULL) !=
        WF_ENOTFOUND)
      mx->failures++;
    if (wf_engine_set_mock_config(e,
                                  "{\"StateMachines\":{},"
                                  "\"MockedResponses\":{}}",
                                  NULL) != WF_OK)
      mx->failures++;
  }
  wf_machine_free(m);
  return NULL;
}

Test(engine_concurrency, every_engine_call_may_come_from_any_thread) {
  wf_engine *e = wft_engine(NULL);
  atomic_long events = 0;
  cr_assert_eq(wf_engine_add_listener(e, count_event, &events), WF_OK);
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, THREADS);
  pthread_t th[THREADS];
  mixer mx[THREADS];
  for (int i = 0; i < THREADS; i++) {
    mx[i] = (mixer){e, &go, i, 0};
    pthread_create(&th[i], NULL, mixed_calls, &mx[i]);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(mx[i].failures, 0, "thread %d: %d calls failed", i,
                 mx[i].failures);
  }
  /* Each run: Started, Entered, Scheduled, Started, Succeeded, Exited,
   * ExecutionSucceeded. */
  cr_assert_eq(atomic_load(&events), (long)THREADS * 50 * 7);
  pthread_barrier_destroy(&go);
  wf_engine_free(e);
}

/* ---- completion and stops from many threads ---- */

#define CALLBACKS 400

typedef struct tokens {
  pthread_mutex_t mu;
  char tok[CALLBACKS][64];
  int n, next;
} tokens;

static void keep_token(wf_task *t, void *payload) {
  tokens *tk = payload;
  pthread_mutex_lock(&tk->mu);
  if (tk->n < CALLBACKS)
    snprintf(tk->tok[tk->n++], sizeof tk->tok[0], "%s", wf_task_token(t));
  pthread_mutex_unlock(&tk->mu);
}

typedef struct completer {
  wf_engine *engine;
  tokens *tk;
  int failures;
} completer;

static void *complete_tokens(void *arg) {
  completer *c = arg;
  for (;;) {
    pthread_mutex_lock(&c->tk->mu);
    int i = c->tk->next < CALLBACKS ? c->tk->next++ : -1;
    pthread_mutex_unlock(&c->tk->mu);
    if (i < 0) return NULL;
    /* Wait until that task has been handed out. */
    int64_t until = wft_mono_ms() + 60000;
    for (;;) {
      pthread_mutex_lock(&c->tk->mu);
      int have = c->tk->n > i;
      pthread_mutex_unlock(&c->tk->mu);
      if (have || wft_mono_ms() > until) break;
      wft_sleep_ms(1);
    }
    char out[32];
    snprintf(out, sizeof out, "{\"i\":%d}", i);
    if (i % 2 == 0) {
      if (wf_engine_send_task_success(c->engine, c->tk->tok[i], out, NULL) !=
          WF_OK)
        c->failures++;
    } else if (wf_engine_send_task_failure(c->engine, c->tk->tok[i], "Odd",
                                           "odd index", NULL) != WF_OK) {
      c->failures++;
    }
  }
}

Test(engine_concurrency, tasks_completed_by_token_from_many_threads) {
  wf_engine *e = wft_engine(NULL);
  tokens tk = {.mu = PTHREAD_MUTEX_INITIALIZER};
  wf_engine_register_handler(e, FN "Callback", keep_token, &tk, 0, NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"" FN "Callback\",\"End\":true}}}");
  pthread_t th[THREADS];
  completer c[THREADS];
  for (int i = 0; i < THREADS; i++) {
    c[i] = (completer){e, &tk, 0};
    pthread_create(&th[i], NULL, complete_tokens, &c[i]);
  }
  wf_execution **xs = calloc(CALLBACKS, sizeof *xs);
  for (int i = 0; i < CALLBACKS; i++) xs[i] = wft_start(e, m, NULL, NULL);
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(c[i].failures, 0);
  }
  int succeeded = 0, failed = 0;
  for (int i = 0; i < CALLBACKS; i++) {
    cr_assert_eq(wf_execution_wait(xs[i], 60000), WF_OK);
    if (wf_execution_status(xs[i]) == WF_EXEC_SUCCEEDED) succeeded++;
    if (wf_execution_status(xs[i]) == WF_EXEC_FAILED &&
        strcmp(wf_execution_error(xs[i]), "Odd") == 0)
      failed++;
    wf_execution_free(xs[i]);
  }
  cr_assert_eq(succeeded, CALLBACKS / 2);
  cr_assert_eq(failed, CALLBACKS / 2);
  free(xs);
  wf_machine_free(m);
  wf_engine_free(e);
}

typedef struct stopper {
  wf_execution **xs;
  int from, to;
  int ok, late;
} stopper;

static void *stop_range(void *arg) {
  stopper *s = arg;
  for (int i = s->from; i < s->to; i++) {
    if (wf_execution_stop(s->xs[i], "Stop.Test", NULL) == WF_OK) s->ok++;
    if (wf_execution_stop(s->xs[i], NULL, NULL) == WF_ESTATE) s->late++;
  }
  return NULL;
}

Test(engine_concurrency, executions_stopped_from_many_threads) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = wft_load(
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":"
      "3600,\"End\":true}}}");
  enum { N = 800 };
  wf_execution **xs = calloc(N, sizeof *xs);
  for (int i = 0; i < N; i++) xs[i] = wft_start(e, m, NULL, NULL);
  pthread_t th[THREADS];
  stopper s[THREADS];
  for (int i = 0; i < THREADS; i++) {
    s[i] = (stopper){xs, i * N / THREADS, (i + 1) * N / THREADS, 0, 0};
    pthread_create(&th[i], NULL, stop_range, &s[i]);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    cr_assert_eq(s[i].ok, N / THREADS);
    cr_assert_eq(s[i].late, N / THREADS);
  }
  for (int i = 0; i < N; i++) {
    cr_assert_eq(wf_execution_status(xs[i]), WF_EXEC_ABORTED);
    cr_assert_str_eq(wf_execution_error(xs[i]), "Stop.Test");
    wf_execution_free(xs[i]);
  }
  free(xs);
  wf_machine_free(m);
  wf_engine_free(e);
}

/* ---- memory with history off ---- */

static int count_kept(const wf_store_execution *x, void *p) {
  (void)x;
  (*(int *)p)++;
  return 0;
}

Test(engine_concurrency, twenty_thousand_executions_without_history) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.history = WF_HISTORY_OFF;
  wf_engine *e = wft_engine(&o);
  wf_engine_register_handler(e, FN "Inline", sum_handler, NULL,
                             WF_HANDLER_INLINE, NULL);
  wf_engine_register_handler(e, FN "Pool", sum_handler, NULL, 0, NULL);
  wf_machine *m = wft_load(PIPELINE);
  enum { BATCH = 1000, BATCHES = 20 };
  wf_execution **xs = calloc(BATCH, sizeof *xs);
  int ok = 0;
  for (int b = 0; b < BATCHES; b++) {
    for (int i = 0; i < BATCH; i++) {
      char input[64];
      snprintf(input, sizeof input, "{\"t\":%d,\"n\":%d}", b, i);
      xs[i] = wft_start(e, m, input, NULL);
    }
    for (int i = 0; i < BATCH; i++) {
      cr_assert_eq(wf_execution_wait(xs[i], 60000), WF_OK);
      if (wf_execution_status(xs[i]) == WF_EXEC_SUCCEEDED) ok++;
      cr_assert_eq(wf_execution_history_count(xs[i]), 0);
      wf_execution_free(xs[i]);
    }
  }
  cr_assert_eq(ok, BATCH * BATCHES);
  /* The engine's own store keeps the newest 100 ended executions, as
   * it goes: memory stays bounded by that, not by what has run. */
  int kept = 0;
  cr_assert_eq(wf_store_list_executions(wf_engine_store(e), NULL, count_kept,
                                        &kept, NULL),
               WF_OK);
  cr_assert_geq(kept, 100);
  cr_assert_leq(kept, 100 + 128, "%d ended executions kept", kept);
  free(xs);
  wf_machine_free(m);
  wf_engine_free(e);
}
