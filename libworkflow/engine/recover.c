/* Resuming the executions a durable store holds as running: each is
 * rebuilt from its last commit (snapshot.c), its timers armed again at
 * their original deadlines, its runnable frames scheduled, its callback
 * tokens made valid again and its tasks in flight called again. What
 * cannot be rebuilt (a missing definition, a damaged state) ends FAILED
 * with States.Runtime saying why, rather than stay running forever. */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "step.h"

/* A running execution's record, copied out of the store's callback. */
typedef struct saved {
  char *arn, *name, *machine_arn, *definition_id, *input, *correlation_id,
      *role_arn, *state;
  int64_t start_ms, event_count;
} saved;

typedef struct saved_list {
  saved *items;
  size_t n, cap;
  bool oom;
} saved_list;

static char *dup_or_null(const char *s) { return s ? wf__strdup(s) : NULL; }

static int keep_running(const wf_store_execution *r, void *p) {
  saved_list *l = p;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    saved *items = wf__realloc(l->items, cap * sizeof *items);
    if (!items) {
      l->oom = true;
      return 1;
    }
    l->items = items;
    l->cap = cap;
  }
  saved *s = &l->items[l->n++];
  *s = (saved){dup_or_null(r->arn), dup_or_null(r->name),
               dup_or_null(r->machine_arn), dup_or_null(r->definition_id),
               dup_or_null(r->input), dup_or_null(r->correlation_id),
               dup_or_null(r->role_arn), dup_or_null(r->state),
               r->start_ms, r->event_count};
  return 0;
}

static void saved_free(saved *s) {
  char *f[] = {s->arn, s->name, s->machine_arn, s->definition_id, s->input,
               s->correlation_id, s->role_arn, s->state};
  for (size_t i = 0; i < sizeof f / sizeof *f; i++) wf__free(f[i]);
}

/* ---- definitions ---- */

typedef struct loaded {
  wf_machine *m;
  int rc;
  wf_error *err;
} loaded;

static int load_definition(const wf_store_definition *d, void *p) {
  loaded *l = p;
  l->rc = wf__machine_load_record(&l->m, d->name, d->type, d->definition,
                                  d->options, l->err);
  return 1;
}

/* The machine of a definition id, loaded once per resume (cache). */
static wf_machine *machine_for(wf_engine *e, wf__strmap *cache,
                               const char *id, wf_error *err) {
  wf_machine *m = id ? wf__strmap_get(cache, id) : NULL;
  if (m) return m;
  if (!id) {
    wf__error_set(err, WF_ECORRUPT, NULL, "it names no definition");
    return NULL;
  }
  loaded l = {NULL, WF_OK, err};
  int rc = wf_store_get_definition(e->store, id, load_definition, &l, err);
  if (rc == WF_OK) rc = l.rc;
  if (rc != WF_OK) {
    if (rc == WF_ENOTFOUND)
      wf__error_set(err, rc, NULL, "its definition %s is not in the store",
                    id);
    return NULL;
  }
  if (strcmp(l.m->digest, id) != 0) {
    wf__error_set(err, WF_ECORRUPT, NULL,
                  "its definition %s does not match its digest", id);
    wf_machine_free(l.m);
    return NULL;
  }
  if (!wf__strmap_put(cache, id, l.m, NULL)) {
    wf_machine_free(l.m);
    wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    return NULL;
  }
  return l.m;
}

static void free_machine(const char *k, void *v, void *a) {
  (void)k;
  (void)a;
  wf_machine_free(v);
}

/* ---- one execution ---- */

static int identify(wf_execution *x, const saved *s, wf_error *err) {
  x->name = wf__strdup(s->name ? s->name : "");
  x->arn = wf__strdup(s->arn);
  x->machine_arn = dup_or_null(s->machine_arn);
  x->input_text = wf__strdup(s->input ? s->input : "{}");
  x->correlation_id = wf__strdup(s->correlation_id ? s->correlation_id
                                                   : s->name ? s->name : "");
  /* The engine's own role is recorded too: keep only another one. */
  x->role_arn = s->role_arn && strcmp(s->role_arn, x->engine->role_arn) != 0
                    ? wf__strdup(s->role_arn)
                    : NULL;
  x->key = wf__exec_key(x->machine->name, x->name ? x->name : "", x->arn);
  x->start_ms = s->start_ms;
  atomic_store(&x->committed_events, s->event_count);
  x->next_event_id = s->event_count + 1;
  x->resumed = true;
  if (!x->name || !x->arn || !x->input_text || !x->correlation_id ||
      !x->key || (s->machine_arn && !x->machine_arn))
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  if (wf__json_parse(&x->input, x->input_text, strlen(x->input_text),
                     "execution input", err) != WF_OK)
    return WF_ECORRUPT;
  return WF_OK;
}

/* Tasks to call again once x's lock is let go. */
typedef struct redo {
  wf_task **tasks;
  size_t n, cap;
} redo;

static void redo_add(redo *r, wf_task *t) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    wf_task **tasks = wf__realloc(r->tasks, cap * sizeof *tasks);
    if (!tasks) return; /* not called again: it times out or waits */
    r->tasks = tasks;
    r->cap = cap;
  }
  r->tasks[r->n++] = wf__task_ref(t);
}

/* Set a rebuilt frame going again (x->lock held). */
static void revive(wf__frame *f, redo *r) {
  switch (f->park) {
    case WF__PARK_NONE:
      wf__frame_schedule(f);
      break;
    case WF__PARK_TIMER:
      /* At its original deadline; at once when it has passed. */
      wf__frame_wake_at(f, f->wake_at, f->phase);
      break;
    case WF__PARK_TASK:
      if (f->task && f->task->status == WF__TASK_PENDING) {
        wf__task_register(f->task);
        redo_add(r, f->task);
      } else {
        f->park = WF__PARK_NONE;
        f->phase = WF__PH_TASK_DONE;
        wf__frame_schedule(f);
      }
      break;
    default:
      break;
  }
  for (size_t i = 0; f->fan && i < f->fan->total; i++)
    if (f->fan->children[i]) revive(f->fan->children[i], r);
}

/* An execution that cannot be resumed ends, saying why. */
static void fail_resume(wf_execution *x, const wf_error *why) {
  char cause[sizeof why->message + 64];
  snprintf(cause, sizeof cause, "The execution could not be resumed: %s",
           why->message);
  pthread_mutex_lock(&x->lock);
  wf__frame *top = x->top;
  x->top = NULL;
  wf__frame_cancel(top);
  wf__frame_release(top);
  wf__event_args a = {.type = WF__EV_EXECUTION_FAILED,
                      .error = "States.Runtime", .cause = cause,
                      .prev = x->next_event_id - 1};
  wf__history_record(x, NULL, &a);
  wf__exec_finish(x, WF_EXEC_FAILED, NULL, "States.Runtime", cause);
  uint64_t ticket = x->commit_requested;
  pthread_mutex_unlock(&x->lock);
  wf__commit_wait(x, ticket);
}

static int resume_one(wf_engine *e, wf__strmap *machines, const saved *s,
                      wf_error *err) {
  wf_error why;
  wf__error_clear(&why);
  wf_machine *m = machine_for(e, machines, s->definition_id, &why);
  /* Without its machine there is nothing to run, nor to fail with: an
   * execution needs one. A stand-in that fails at once keeps the record
   * consistent. */
  wf_machine *stand_in = NULL;
  if (!m) {
    wf_load_options lo = WF_LOAD_OPTIONS_INIT;
    const char *mname = strstr(s->arn ? s->arn : "", ":execution:");
    char name[256] = "StateMachine";
    if (mname) {
      mname += 11;
      const char *end = strchr(mname, ':');
      if (end && (size_t)(end - mname) < sizeof name)
        snprintf(name, sizeof name, "%.*s", (int)(end - mname), mname);
    }
    lo.name = name;
    if (wf_machine_load_json(&stand_in,
                             "{\"StartAt\":\"S\",\"States\":{\"S\":"
                             "{\"Type\":\"Succeed\"}}}",
                             &lo, err) != WF_OK)
      return err ? err->code : WF_ENOMEM;
    m = stand_in;
  }
  wf_execution *x = wf__exec_alloc(e, m);
  wf_machine_free(stand_in); /* x holds it */
  if (!x) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  int rc = identify(x, s, err);
  if (rc == WF_OK) rc = wf__exec_register(x, false);
  if (rc != WF_OK) {
    wf__exec_release(x);
    return rc == WF_EEXIST ? WF_OK : rc; /* already running here */
  }
  if (stand_in || why.code) {
    fail_resume(x, &why);
    wf__exec_release(x);
    return WF_OK;
  }
  redo r = {0};
  pthread_mutex_lock(&x->lock);
  rc = wf__snapshot_decode(x, s->state, &why);
  if (rc == WF_OK && x->test_case)
    rc = wf__exec_setup_mock(x, x->test_case, &why);
  if (rc == WF_OK) {
    wf__exec_arm_timeout(x);
    revive(x->top, &r);
  }
  pthread_mutex_unlock(&x->lock);
  if (rc != WF_OK) {
    fail_resume(x, &why);
  } else {
    for (size_t i = 0; i < r.n; i++) wf__task_redeliver(r.tasks[i]);
  }
  for (size_t i = 0; i < r.n; i++) wf__task_release(r.tasks[i]);
  wf__free(r.tasks);
  wf__exec_release(x);
  return WF_OK;
}

int wf_engine_resume(wf_engine *e, size_t *resumed, wf_error *err) {
  if (resumed) *resumed = 0;
  if (!e) return wf__error_set(err, WF_EINVAL, NULL, "engine is required");
  pthread_mutex_lock(&e->attach_lock);
  bool again = e->resumed;
  e->resumed = true;
  pthread_mutex_unlock(&e->attach_lock);
  if (again)
    return wf__error_set(err, WF_ESTATE, NULL,
                         "the engine has resumed its executions already");
  if (!e->durable) return WF_OK;
  /* A token or an execution asked for meanwhile may be one not yet put
   * back: lookups wait for the end (wf__wait_resumed). */
  pthread_mutex_lock(&e->xlock);
  e->resuming = true;
  e->resumer = pthread_self();
  pthread_mutex_unlock(&e->xlock);
  saved_list l = {0};
  int rc = e->store->ops->list_running(e->store->backend, keep_running, &l,
                                       err);
  if (rc == WF_OK && l.oom)
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  wf__strmap machines = WF__STRMAP_INIT;
  size_t n = 0;
  for (size_t i = 0; rc == WF_OK && i < l.n; i++) {
    /* Time stands still while executions are put back together. */
    wf__sched_busy_begin(&e->sched);
    rc = resume_one(e, &machines, &l.items[i], err);
    wf__sched_busy_end(&e->sched);
    if (rc == WF_OK) n++;
  }
  for (size_t i = 0; i < l.n; i++) saved_free(&l.items[i]);
  wf__free(l.items);
  wf__strmap_foreach(&machines, free_machine, NULL);
  wf__strmap_clear(&machines);
  pthread_mutex_lock(&e->xlock);
  e->resuming = false;
  pthread_cond_broadcast(&e->resumed_cond);
  pthread_mutex_unlock(&e->xlock);
  if (resumed) *resumed = n;
  return rc;
}

bool wf__wait_resumed(wf_engine *e) {
  if (!e->resuming || pthread_equal(e->resumer, pthread_self())) return false;
  while (e->resuming) pthread_cond_wait(&e->resumed_cond, &e->xlock);
  return true;
}
