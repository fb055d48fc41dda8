/* Nested executions: the handler of arn:aws:states:::states:startExecution
 * (request-response, .sync, .sync:2, .waitForTaskToken), on a worker-pool
 * thread. It finds the machine through the program's resolver, starts the
 * child on the same engine (or, for a task called again after a restart,
 * finds the child it started before) and answers as AWS's optimized
 * integration does (AWS, "Start a new AWS Step Functions state machine
 * from a running execution"; shapes as measured on AWS by LocalStack and
 * Floci): request-response with {ExecutionArn, StartDate}; .sync and
 * .sync:2 once the child ends, with its DescribeExecution in PascalCase
 * (nested_describe.c). A task waiting for its child is a `waiter`; a sink
 * on the engine's committed events hands it the child's end, and stops
 * the child when the task stops waiting for another reason (the parent
 * stopped or timed out, the task's timeout, a branch cut), as AWS does
 * for .sync children. Nothing here runs under an execution's lock but the
 * sink, which only moves waiters and queues their work on the pool. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "engine_impl.h"
#include "error.h"
#include "json_text.h"
#include "nested_impl.h"
#include "workflow/nested.h"

#define RESOURCE "arn:aws:states:::states:startExecution"

typedef enum mode { MODE_RESPONSE, MODE_SYNC, MODE_SYNC2, MODE_TOKEN } mode;

/* A .sync task waiting for its child's end; queued on the pool (job) once
 * the child ended (or the task was given up: `abort`). */
typedef struct waiter {
  wf__job job;
  wf_engine *engine;
  wf_task *task; /* a reference */
  char *child_arn;
  bool parsed; /* .sync:2 */
  bool abort;
  char version_arn[WF_MACHINE_TARGET_ARN_MAX];
  bool listed; /* in the indexes (the nested lock) */
  /* The indexes' lists: the waiters of one child, of one parent. */
  struct waiter *next_child, *next_parent;
  struct waiter *next; /* a batch taken out of the indexes */
} waiter;

typedef struct wf__nested {
  pthread_mutex_t lock; /* all below */
  wf_machine_resolve_cb resolve;
  void *payload;
  unsigned resolving; /* calls of the resolver in flight */
  pthread_cond_t idle; /* resolving fell to 0 */
  bool serving;  /* the handler and the sink are registered */
  bool stopping; /* the engine is going: nothing more waits */
  /* Listed waiters by their child's ARN and by their parent's (lists
   * through next_child, next_parent): the sink looks up the execution of
   * each event in both. */
  wf__strmap by_child, by_parent;
  atomic_size_t nwaiters; /* read without the lock by the sink */
} wf__nested;

static const int NESTED_KEY = 0;

static mode mode_of(const char *resource) {
  const char *dot = strrchr(resource, '.');
  if (!dot) return MODE_RESPONSE;
  if (strcmp(dot, ".sync") == 0) return MODE_SYNC;
  if (strcmp(dot, ".sync:2") == 0) return MODE_SYNC2;
  if (strcmp(dot, ".waitForTaskToken") == 0) return MODE_TOKEN;
  return MODE_RESPONSE;
}

static void waiter_free(waiter *w) {
  if (!w) return;
  wf__task_release(w->task);
  wf__free(w->child_arn);
  wf__free(w);
}

/* ---- failing as AWS's API errors ---- */

/* The API's refusal as the optimized integration reports it (AWS:
 * StepFunctions.<Code>Exception, the message with the service's
 * details). */
static void fail_api(wf_task *t, const char *code, const char *message) {
  uint64_t r[2] = {0, 0};
  (void)wf__rng_secure(r, sizeof r);
  char request_id[37];
  wf__uuid_v4(request_id, r[0], r[1]);
  wf__strbuf error = WF__STRBUF_INIT, cause = WF__STRBUF_INIT;
  wf__strbuf_printf(&error, "StepFunctions.%sException", code);
  wf__strbuf_printf(&cause,
                    "%s (Service: AWSStepFunctions; Status Code: 400; Error "
                    "Code: %s; Request ID: %s; Proxy: null)",
                    message, code, request_id);
  wf__task_complete(t, false, NULL, wf__strbuf_cstr(&error),
                    wf__strbuf_cstr(&cause));
  wf__strbuf_free(&error);
  wf__strbuf_free(&cause);
}

static void fail_runtime(wf_task *t, const char *message) {
  wf__task_complete(t, false, NULL, "States.Runtime", message);
}

/* ---- the child's end ---- */

typedef struct read_rec {
  wf_engine *engine;
  bool parsed;
  const char *version_arn;
  json_t *describe; /* NULL: still running */
  bool ok;
  bool oom;
} read_rec;

static int on_record(const wf_store_execution *r, void *p) {
  read_rec *rr = p;
  if (r->status == WF_EXEC_RUNNING) return 1;
  rr->ok = r->status == WF_EXEC_SUCCEEDED;
  rr->describe =
      wf__nested_describe(rr->engine, r, rr->parsed, rr->version_arn);
  rr->oom = !rr->describe;
  return 1;
}

/* Complete t from the child's record if it has ended: true when it had
 * (t is then settled, or was already). */
static bool finish_from_store(wf_engine *e, wf_task *t, const char *arn,
                              bool parsed, const char *version_arn) {
  read_rec rr = {e, parsed, version_arn, NULL, false, false};
  wf_error err;
  int rc = wf_store_get_execution(e->store, arn, on_record, &rr, &err);
  if (rc == WF_ENOTFOUND) return false;
  if (rc != WF_OK) {
    char msg[WF_ERROR_MESSAGE_MAX + 64];
    snprintf(msg, sizeof msg, "The child execution could not be read: %s",
             err.message);
    fail_runtime(t, msg);
    return true;
  }
  if (rr.oom) {
    fail_runtime(t, "Out of memory while reading the child execution");
    return true;
  }
  if (!rr.describe) return false;
  if (rr.ok) {
    wf__task_complete(t, true, rr.describe, NULL, NULL);
    return true;
  }
  /* AWS: a child that did not succeed fails the task with its
   * description as the cause. */
  char *cause = wf__json_dumps(rr.describe);
  json_decref(rr.describe);
  if (cause)
    wf__task_complete(t, false, NULL, "States.TaskFailed", cause);
  else
    fail_runtime(t, "Out of memory while reading the child execution");
  wf__free(cause);
  return true;
}

static void stop_child(wf_engine *e, const char *arn, const wf_task *t) {
  wf_execution *child = NULL;
  if (wf_engine_find_execution(&child, e, arn) != WF_OK) return;
  char cause[WF_MACHINE_TARGET_ARN_MAX + 128];
  snprintf(cause, sizeof cause,
           "The Task state in AWS Step Functions execution [%s] which was "
           "managing this resource was aborted",
           wf_task_execution_arn(t));
  wf_execution_stop(child, NULL, cause);
  wf_execution_free(child);
}

static void waiter_run(wf__job *job) {
  waiter *w = (waiter *)job;
  if (w->abort)
    stop_child(w->engine, w->child_arn, w->task);
  else
    finish_from_store(w->engine, w->task, w->child_arn, w->parsed,
                      w->version_arn);
  waiter_free(w);
}

static void waiter_drop(wf__job *job) { waiter_free((waiter *)job); }

static bool execution_end(wf__event_type t) {
  return t >= WF__EV_EXECUTION_SUCCEEDED && t <= WF__EV_EXECUTION_TIMED_OUT;
}

/* ---- the indexes (the nested lock held) ---- */

static waiter **link_of(waiter *w, bool by_parent) {
  return by_parent ? &w->next_parent : &w->next_child;
}

static const char *key_of(const waiter *w, bool by_parent) {
  return by_parent ? w->task->frame->exec->arn : w->child_arn;
}

static bool index_add(wf__strmap *m, waiter *w, bool by_parent) {
  *link_of(w, by_parent) = wf__strmap_get(m, key_of(w, by_parent));
  return wf__strmap_put(m, key_of(w, by_parent), w, NULL);
}

static void index_remove(wf__strmap *m, waiter *w, bool by_parent) {
  const char *key = key_of(w, by_parent);
  waiter *head = wf__strmap_get(m, key);
  if (head == w) {
    waiter *next = *link_of(w, by_parent);
    if (next)
      wf__strmap_put(m, key, next, NULL); /* a replacement: no memory */
    else
      wf__strmap_remove(m, key);
    return;
  }
  for (waiter *p = head; p; p = *link_of(p, by_parent))
    if (*link_of(p, by_parent) == w) {
      *link_of(p, by_parent) = *link_of(w, by_parent);
      return;
    }
}

static bool list_locked(wf__nested *n, waiter *w) {
  if (!index_add(&n->by_child, w, false)) return false;
  if (!index_add(&n->by_parent, w, true)) {
    index_remove(&n->by_child, w, false);
    return false;
  }
  w->listed = true;
  atomic_fetch_add(&n->nwaiters, 1);
  return true;
}

static void unlist_locked(wf__nested *n, waiter *w) {
  index_remove(&n->by_child, w, false);
  index_remove(&n->by_parent, w, true);
  w->listed = false;
  atomic_fetch_sub(&n->nwaiters, 1);
}

/* Every committed event: a child's end completes the tasks waiting for
 * it; any event of a parent whose waiting task has settled otherwise
 * (stopped, timed out, cut) stops that child. Called with the event's
 * execution locked for volatile stores: it takes only its own lock and
 * leaves the work to the pool. */
static void on_event(const wf__event_note *note, void *payload) {
  wf__nested *n = payload;
  if (!atomic_load(&n->nwaiters)) return;
  const char *arn = note->exec->arn;
  waiter *hits = NULL, *next;
  pthread_mutex_lock(&n->lock);
  if (execution_end(note->ev->type))
    for (waiter *w = wf__strmap_get(&n->by_child, arn); w; w = next) {
      next = w->next_child;
      unlist_locked(n, w);
      w->abort = false;
      w->next = hits;
      hits = w;
    }
  for (waiter *w = wf__strmap_get(&n->by_parent, arn); w; w = next) {
    next = w->next_parent;
    if (!atomic_load(&w->task->settled)) continue;
    unlist_locked(n, w);
    w->abort = true;
    w->next = hits;
    hits = w;
  }
  pthread_mutex_unlock(&n->lock);
  while (hits) {
    waiter *w = hits;
    hits = w->next;
    w->job.run = waiter_run;
    w->job.drop = waiter_drop;
    wf__pool_submit(&w->engine->sched, &w->job);
  }
}

/* Take w out of the indexes if it is still there (a second owner may
 * have taken it: the sink). */
static bool unlist(wf__nested *n, waiter *w) {
  pthread_mutex_lock(&n->lock);
  bool listed = w->listed;
  if (listed) unlist_locked(n, w);
  pthread_mutex_unlock(&n->lock);
  return listed;
}

/* Wait for the child's end: listed for the sink, then its record read in
 * case it ended before (its end is in the store before the sink hears of
 * it, so one of the two sees it). */
static void wait_for(wf__nested *n, wf_task *t, const char *child_arn,
                     bool parsed, const char *version_arn) {
  waiter *w = wf__calloc(1, sizeof *w);
  if (!w || !(w->child_arn = wf__strdup(child_arn))) {
    wf__free(w);
    fail_runtime(t, "Out of memory while waiting for the child execution");
    return;
  }
  w->engine = t->engine;
  w->task = wf__task_ref(t);
  w->parsed = parsed;
  snprintf(w->version_arn, sizeof w->version_arn, "%s", version_arn);
  pthread_mutex_lock(&n->lock);
  bool stopping = n->stopping, listed = !stopping && list_locked(n, w);
  pthread_mutex_unlock(&n->lock);
  if (!listed) {
    if (!stopping)
      fail_runtime(t, "Out of memory while waiting for the child execution");
    waiter_free(w);
    return;
  }
  /* Given up before it was listed (the parent stopped meanwhile): the
   * sink heard the event that told it before w was there. A task settles
   * before such an event is recorded, so one of the two sees it. */
  if (atomic_load(&t->settled)) {
    if (unlist(n, w)) {
      stop_child(t->engine, child_arn, t);
      waiter_free(w);
    }
    return;
  }
  /* Read without holding w: the sink may take and free it meanwhile. */
  read_rec probe = {t->engine, parsed, version_arn, NULL, false, false};
  wf_error err;
  int rc = wf_store_get_execution(t->engine->store, child_arn, on_record,
                                  &probe, &err);
  if (rc == WF_ENOTFOUND || (rc == WF_OK && !probe.describe && !probe.oom))
    return; /* running: the sink completes it */
  json_decref(probe.describe);
  if (unlist(n, w)) {
    finish_from_store(t->engine, t, child_arn, parsed, version_arn);
    waiter_free(w);
  }
}

/* ---- starting ---- */

/* TaskSubmitted, once StartExecution has answered and before the wait
 * (AWS records it for .sync and .sync:2 with that answer). */
static void record_submitted(wf_task *t, json_t *answer) {
  wf__frame *f = t->frame;
  wf_execution *x = f->exec;
  pthread_mutex_lock(&x->lock);
  if (t->status == WF__TASK_PENDING && f->task == t && !x->ended) {
    wf__history_add(x, f, WF__EV_TASK_SUBMITTED, f->scope->states[f->state],
                    answer, NULL, NULL);
    wf__commit_request(x, 0, NULL);
  }
  pthread_mutex_unlock(&x->lock);
}

/* The name a task without a Name gives its child: a UUID made from what
 * names this attempt of the task, so a call made again after a restart
 * finds the child it started (FNV-1a, two bases). */
static void derived_name(char out[37], const wf_task *t) {
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  const char *parts[] = {wf_task_execution_arn(t), "#",
                         wf_task_idempotency_key(t)};
  for (size_t i = 0; i < 3; i++)
    for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) {
      a = (a ^ *p) * 0x100000001b3ULL;
      b = (b ^ *p) * 0x100000001b3ULL;
    }
  wf__uuid_v4(out, a, b);
}

/* The refusal of wf_engine_start() in AWS's words. */
static void start_refused(wf_task *t, int rc, const wf_error *err) {
  char msg[WF_ERROR_MESSAGE_MAX + 64];
  switch (rc) {
    case WF_EEXIST:
      fail_api(t, "ExecutionAlreadyExists", err->message);
      return;
    case WF_EPARSE:
      snprintf(msg, sizeof msg, "Invalid State Machine Execution Input: '%s'",
               err->message);
      fail_api(t, "InvalidExecutionInput", msg);
      return;
    case WF_EBUSY:
      fail_api(t, "ExecutionLimitExceeded", err->message);
      return;
    case WF_ELIMIT:
    case WF_EINVAL:
    case WF_EUNSUPPORTED:
      fail_api(t, "Validation", err->message);
      return;
    default:
      snprintf(msg, sizeof msg, "The child execution could not start: %s",
               err->message);
      fail_runtime(t, msg);
  }
}

/* The resolver's refusal in AWS's words. */
static void resolve_refused(wf_task *t, int rc, const char *arn,
                            const wf_error *err) {
  char msg[WF_MACHINE_TARGET_ARN_MAX + WF_ERROR_MESSAGE_MAX];
  if (rc == WF_EINVAL) {
    if (err->message[0])
      snprintf(msg, sizeof msg, "%s", err->message);
    else
      snprintf(msg, sizeof msg, "Invalid Arn: '%s'", arn);
    fail_api(t, "InvalidArn", msg);
  } else if (rc == WF_ESTATE) {
    snprintf(msg, sizeof msg, "State Machine is being deleted: '%s'", arn);
    fail_api(t, "StateMachineDeleting", msg);
  } else if (rc == WF_ENOTFOUND) {
    snprintf(msg, sizeof msg, "State Machine Does Not Exist: '%s'", arn);
    fail_api(t, "StateMachineDoesNotExist", msg);
  } else {
    snprintf(msg, sizeof msg, "The state machine '%s' could not be found: %s",
             arn, err->message);
    fail_runtime(t, msg);
  }
}

/* What the task's arguments say; false with the task failed. */
typedef struct start_args {
  const char *arn, *name;
  char *input; /* JSON text */
  char name_buf[37];
  bool own_name; /* derived here, not given */
} start_args;

static bool read_args(wf_task *t, start_args *a) {
  const json_t *args = t->input;
  json_t *arn = json_object_get(args, "StateMachineArn");
  json_t *name = json_object_get(args, "Name");
  json_t *input = json_object_get(args, "Input");
  if (!json_is_string(arn)) {
    fail_runtime(t, "The StateMachineArn parameter must be a string naming "
                    "a state machine");
    return false;
  }
  if (name && !json_is_string(name)) {
    fail_runtime(t, "The Name parameter must be a string");
    return false;
  }
  a->arn = json_string_value(arn);
  a->own_name = !name;
  if (name) {
    a->name = json_string_value(name);
  } else {
    derived_name(a->name_buf, t);
    a->name = a->name_buf;
  }
  if (!wf__name_ok(a->name)) {
    char msg[128 + 80 * 4];
    snprintf(msg, sizeof msg, "Invalid Name: '%.320s'", a->name);
    fail_api(t, "InvalidName", msg);
    return false;
  }
  /* A string is the input's JSON text, as StartExecution takes it. */
  a->input = !input ? wf__strdup("{}")
             : json_is_string(input) ? wf__strdup(json_string_value(input))
                                     : wf__json_dumps(input);
  if (!a->input) fail_runtime(t, "Out of memory while reading the input");
  return a->input != NULL;
}

/* A task called again (after a restart) or with a derived name looks for
 * the child it may have started before: running here, or ended in the
 * store. 1: found running (*out), 2: found ended, 0: none. */
static int find_child(wf_execution **out, wf_task *t, const char *arn,
                      mode m, const char *version_arn) {
  *out = NULL;
  if (wf_engine_find_execution(out, t->engine, arn) == WF_OK) return 1;
  if (m == MODE_SYNC || m == MODE_SYNC2)
    return finish_from_store(t->engine, t, arn, m == MODE_SYNC2, version_arn)
               ? 2
               : 0;
  /* Request-response or callback: an ended child still answers. */
  read_rec rr = {t->engine, false, NULL, NULL, false, false};
  wf_error err;
  if (wf_store_get_execution(t->engine->store, arn, on_record, &rr, &err) !=
      WF_OK)
    return 0;
  json_t *d = rr.describe;
  int found = d ? 2 : 0;
  if (d && m == MODE_RESPONSE)
    wf__task_complete(t, true,
                      json_pack("{s:O, s:O}", "ExecutionArn",
                                json_object_get(d, "ExecutionArn"),
                                "StartDate", json_object_get(d, "StartDate")),
                      NULL, NULL);
  json_decref(d);
  return found;
}

static void start_execution(wf_task *t, void *payload) {
  wf__nested *n = payload;
  mode m = mode_of(t->resource);
  start_args a = {0};
  if (!read_args(t, &a)) return;
  pthread_mutex_lock(&n->lock);
  wf_machine_resolve_cb resolve = n->resolve;
  void *rpayload = n->payload;
  n->resolving += resolve != NULL;
  pthread_mutex_unlock(&n->lock);
  wf_machine_target target = {.version = WF_MACHINE_TARGET_VERSION,
                              .execution_name = a.name};
  wf_error err = {0};
  int rc = WF_ENOTFOUND;
  if (resolve) {
    rc = resolve(&target, a.arn, rpayload, &err);
    pthread_mutex_lock(&n->lock);
    if (!--n->resolving) pthread_cond_broadcast(&n->idle);
    pthread_mutex_unlock(&n->lock);
  }
  if (rc == WF_OK && !target.machine) rc = WF_ENOTFOUND;
  if (rc != WF_OK) {
    wf_machine_free(target.machine);
    resolve_refused(t, rc, a.arn, &err);
    wf__free(a.input);
    return;
  }
  wf_engine *e = t->engine;
  /* The child may answer the token before the engine publishes it once
   * this call returns: publish it first. */
  if (m == MODE_TOKEN) (void)wf_task_token(t);
  char child_arn[WF_MACHINE_TARGET_ARN_MAX + 128];
  snprintf(child_arn, sizeof child_arn, "arn:aws:states:%s:%s:execution:%s:%s",
           e->region, e->account, wf_machine_name(target.machine), a.name);
  wf_execution *x = NULL;
  int found = 0;
  if ((a.own_name || wf_task_redelivered(t)) &&
      wf_machine_get_type(target.machine) == WF_MACHINE_STANDARD)
    found = find_child(&x, t, child_arn, m, target.version_arn);
  if (!found) {
    wf_start_options so = WF_START_OPTIONS_INIT;
    so.name = a.name;
    so.correlation_id = wf_task_correlation_id(t);
    so.role_arn = target.role_arn[0] ? target.role_arn : NULL;
    so.machine_arn = target.machine_arn[0] ? target.machine_arn : NULL;
    rc = wf_engine_start(&x, e, target.machine, a.input, &so, &err);
    if (rc != WF_OK) start_refused(t, rc, &err);
  }
  wf_machine_free(target.machine);
  wf__free(a.input);
  if (!x) return; /* answered */
  json_t *answer = json_pack("{s:s, s:I}", "ExecutionArn", wf_execution_arn(x),
                             "StartDate",
                             (json_int_t)wf_execution_start_time(x));
  if (!answer) {
    fail_runtime(t, "Out of memory while starting the child execution");
  } else if (m == MODE_RESPONSE) {
    wf__task_complete(t, true, json_incref(answer), NULL, NULL);
  } else if (m != MODE_TOKEN) {
    if (!found) record_submitted(t, answer); /* else recorded before */
    wait_for(n, t, wf_execution_arn(x), m == MODE_SYNC2, target.version_arn);
  }
  /* A callback task waits for its token. */
  json_decref(answer);
  wf_execution_free(x);
}

/* ---- serving ---- */

static void nested_release(void *payload) {
  wf__nested *n = payload;
  pthread_cond_destroy(&n->idle);
  pthread_mutex_destroy(&n->lock);
  wf__free(n);
}

static void *nested_new(wf_engine *e) {
  (void)e;
  wf__nested *n = wf__calloc(1, sizeof *n);
  if (!n) return NULL;
  pthread_mutex_init(&n->lock, NULL);
  pthread_cond_init(&n->idle, NULL);
  atomic_init(&n->nwaiters, 0);
  return n;
}

static void take_list(const char *key, void *value, void *arg) {
  (void)key;
  waiter **all = arg;
  for (waiter *w = value; w; w = w->next_child) {
    w->next = *all;
    *all = w;
  }
}

/* wf_engine_free(): nothing waits any more. The sink may still hear the
 * last commits, so the memory goes with the engine's (nested_release),
 * unless the sink was never added. */
static void nested_teardown(wf_engine *e, void *data) {
  (void)e;
  wf__nested *n = data;
  pthread_mutex_lock(&n->lock);
  n->stopping = true;
  waiter *w = NULL;
  wf__strmap_foreach(&n->by_child, take_list, &w);
  wf__strmap_clear(&n->by_child);
  wf__strmap_clear(&n->by_parent);
  atomic_store(&n->nwaiters, 0);
  bool serving = n->serving;
  pthread_mutex_unlock(&n->lock);
  while (w) {
    waiter *next = w->next;
    waiter_free(w);
    w = next;
  }
  if (!serving) nested_release(n);
}

/* The first resolver: the sink (before any execution runs, as the
 * engine's sinks are read without a lock) and the handler. */
static int serve(wf_engine *e, wf__nested *n, wf_error *err) {
  pthread_mutex_lock(&e->attach_lock);
  bool late = e->resumed || atomic_load(&e->starts) != 0;
  pthread_mutex_unlock(&e->attach_lock);
  if (late)
    return wf__error_set(err, WF_ESTATE, NULL,
                         "the machine resolver must be set before "
                         "executions start or are resumed");
  if (wf__history_add_sink(e, on_event, n, nested_release) != WF_OK)
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  n->serving = true;
  return wf__handler_add(e, RESOURCE, start_execution, n, WF_HANDLER_PREFIX,
                         NULL, NULL, NULL, err);
}

int wf_engine_set_machine_resolver(wf_engine *e, wf_machine_resolve_cb resolve,
                                   void *payload, wf_error *err) {
  if (!e) return wf__error_set(err, WF_EINVAL, NULL, "engine is required");
  wf__nested *n =
      wf__engine_attachment(e, &NESTED_KEY, nested_new, nested_teardown);
  if (!n) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  pthread_mutex_lock(&n->lock);
  int rc = n->serving ? WF_OK : serve(e, n, err);
  /* The old resolver's calls end before its payload may go. */
  while (rc == WF_OK && n->resolving) pthread_cond_wait(&n->idle, &n->lock);
  if (rc == WF_OK) {
    n->resolve = resolve;
    n->payload = payload;
  }
  pthread_mutex_unlock(&n->lock);
  return rc;
}
