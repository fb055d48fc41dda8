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
#include "map_data.h"
#include "step.h"

/* A running execution's record, copied out of the store's callback. */
typedef struct saved {
  char *arn, *name, *machine_arn, *definition_id, *input, *correlation_id,
      *role_arn, *state;
  int64_t start_ms, event_count, stop_ms;
  int status;
} saved;

typedef struct saved_list {
  saved *items;
  size_t n, cap;
  bool oom;
} saved_list;

static char *dup_or_null(const char *s) { return s ? wf__strdup(s) : NULL; }

static void save(saved *s, const wf_store_execution *r) {
  *s = (saved){dup_or_null(r->arn), dup_or_null(r->name),
               dup_or_null(r->machine_arn), dup_or_null(r->definition_id),
               dup_or_null(r->input), dup_or_null(r->correlation_id),
               dup_or_null(r->role_arn), dup_or_null(r->state),
               r->start_ms, r->event_count, r->stop_ms, r->status};
}

static int keep_running(const wf_store_execution *r, void *p) {
  saved_list *l = p;
  /* An ended execution keeps a state only for a redrive. */
  if (r->status != WF_EXEC_RUNNING) return 0;
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
  save(&l->items[l->n++], r);
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
  /* A unit of work's children fail, in its parent, saying why. */
  if (x->work) wf__shard_fail(x, cause);
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
  /* A copy here whose lease was lost (a shared store: the execution comes
   * back to this process) gives its place to this one. */
  wf_execution *stale = rc == WF_OK ? wf__engine_lookup_lost(e, x->arn) : NULL;
  if (stale) {
    wf__exec_drop(stale);
    wf__exec_release(stale);
  }
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
    wf__shard_resume(x);
    wf__map_run_resume(x);
    /* A unit of work's parent keeps the time (and stops it). */
    if (!x->work) wf__exec_arm_timeout(x);
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

/* Read the executions to resume (list_running, or a shared store's
 * claim). */
static int read_running(wf_engine *e, wf_store_execution_cb cb, void *list,
                        void *arg, wf_error *err) {
  (void)arg;
  return e->store->ops->list_running(e->store->backend, cb, list, err);
}

int wf__resume_from(wf_engine *e, wf__resume_read read, void *arg,
                    size_t *resumed, wf_error *err) {
  saved_list l = {0};
  int rc = read(e, keep_running, &l, arg, err);
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
  if (resumed) *resumed = n;
  return rc;
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
  /* A shared store's executions are claimed: those no live process runs
   * now, and from then on those whose process goes (share.c). */
  bool shared = wf__store_shared(e->store);
  int rc = shared ? wf__share_start(e, resumed, err)
                  : wf__resume_from(e, read_running, NULL, resumed, err);
  pthread_mutex_lock(&e->xlock);
  e->resuming = false;
  pthread_cond_broadcast(&e->resumed_cond);
  pthread_mutex_unlock(&e->xlock);
  return rc;
}

bool wf__wait_resumed(wf_engine *e) {
  if (!e->resuming || pthread_equal(e->resumer, pthread_self())) return false;
  while (e->resuming) pthread_cond_wait(&e->resumed_cond, &e->xlock);
  return true;
}

/* ---- redrive (AWS's RedriveExecution) ---- */

#define DAY_MS (24 * 3600 * 1000LL)

/* What a record's kept state says: its redrives, and whether it has
 * frames to restart from. */
static bool kept_state(const char *state, int64_t *count, int64_t *last) {
  json_t *o = state ? json_loads(state, 0, NULL) : NULL;
  *count = *last = 0;
  *count = json_integer_value(json_object_get(o, "redriveCount"));
  *last = json_integer_value(json_object_get(o, "redriveMs"));
  bool frames = json_array_size(json_object_get(o, "frames")) > 0;
  json_decref(o);
  return frames;
}

/* Why AWS would refuse to redrive the execution `r`, in its words (its
 * redriveStatusReason); NULL: it may be redriven now. */
static const char *not_redrivable(const wf_engine *e,
                                  const wf_store_execution *r) {
  int64_t count, last;
  (void)count;
  (void)last;
  if (r->status == WF_EXEC_RUNNING)
    return "Execution is RUNNING and cannot be redriven";
  if (r->status == WF_EXEC_SUCCEEDED)
    return "Execution is SUCCEEDED and cannot be redriven";
  if (r->arn && strstr(r->arn, ":express:"))
    return "Execution is of type EXPRESS and cannot be redriven";
  /* Nothing kept to restart from: ended before libworkflow kept it. */
  if (!kept_state(r->state, &count, &last))
    return "Execution was started before the launch of RedriveExecution";
  /* The redrive adds ExecutionRedriven and at least one event more. */
  if (r->event_count > WF__HISTORY_LIMIT - 2)
    return "Execution history event limit exceeded";
  int64_t now = wf_clock_now(e ? e->clock : wf_clock_system());
  if (now - r->start_ms > 365 * DAY_MS)
    return "Execution has exceeded the max execution time";
  if (now - r->stop_ms > 14 * DAY_MS)
    return "Execution redrivable period exceeded";
  return NULL;
}

int wf_engine_redrive_status(const wf_engine *engine,
                             const wf_store_execution *record,
                             int64_t *count, int64_t *last_ms,
                             const char **reason) {
  int64_t n = 0, at = 0;
  const char *why = "Execution is RUNNING and cannot be redriven";
  if (record) {
    why = not_redrivable(engine, record);
    /* The counts lead a kept state (snapshot.c): a running execution's
     * whole state need not be parsed for them. */
    const char *st = record->state;
    long long k, ms;
    if (st && sscanf(st, "{\"redriveCount\":%lld,\"redriveMs\":%lld", &k,
                     &ms) == 2) {
      n = k;
      at = ms;
    }
  }
  if (count) *count = n;
  if (last_ms) *last_ms = at;
  if (reason) *reason = why;
  return why ? 0 : 1;
}

void wf__frame_rearm(wf__frame *f) {
  f->finished = false;
  f->ok = false;
  wf__free(f->error);
  wf__free(f->cause);
  f->error = f->cause = NULL;
  json_decref(f->output);
  f->output = NULL;
  if (f->task) {
    wf__task_release(f->task);
    f->task = NULL;
  }
  json_decref(f->ctx); /* it names the redrive count */
  f->ctx = NULL;
  f->retry_count = 0;
  for (size_t i = 0; i < f->nattempts; i++) f->attempts[i] = 0;
  f->heartbeat_fault = false;
  f->park = WF__PARK_NONE;
  if (f->fan) {
    wf__fanout_redrive(f);
    f->phase = WF__PH_CHILDREN_DONE;
  } else {
    f->phase = WF__PH_ENTER;
  }
}

typedef struct found {
  saved s;
  bool hit, oom;
  const char *why;
  const wf_engine *e;
} found;

static int keep_found(const wf_store_execution *r, void *p) {
  found *f = p;
  f->hit = true;
  f->why = not_redrivable(f->e, r);
  save(&f->s, r);
  f->oom = !f->s.arn || (r->state && !f->s.state);
  return 1;
}

/* Restart x (registered, its machine loaded) from its kept state. */
static int restart(wf_execution *x, const saved *s, wf_error *err) {
  wf_engine *e = x->engine;
  wf__sched_busy_begin(&e->sched);
  pthread_mutex_lock(&x->lock);
  int rc = wf__snapshot_decode(x, s->state, err);
  if (rc == WF_OK && x->test_case)
    rc = wf__exec_setup_mock(x, x->test_case, err);
  if (rc != WF_OK) {
    pthread_mutex_unlock(&x->lock);
    wf__sched_busy_end(&e->sched);
    return rc;
  }
  wf__shard_resume(x);
  wf__map_run_resume(x);
  x->redrive_count++;
  x->redrive_ms = wf__engine_now(e);
  wf__event_args a = {.type = WF__EV_EXECUTION_REDRIVEN,
                      .number = x->redrive_count,
                      .prev = x->next_event_id - 1};
  x->top->prev_event = wf__history_record(x, NULL, &a);
  wf__frame_rearm(x->top);
  wf__frame_schedule(x->top);
  uint64_t ticket = wf__commit_request(x, 0, NULL);
  wf__exec_arm_timeout(x);
  pthread_mutex_unlock(&x->lock);
  wf__sched_busy_end(&e->sched);
  return wf__commit_wait(x, ticket);
}

int wf_engine_redrive(wf_execution **out, wf_engine *e, const char *arn,
                      wf_error *err) {
  if (out) *out = NULL;
  if (!out || !e || !arn)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "out, engine and arn are required");
  found f = {.e = e};
  int rc = wf_store_get_execution(e->store, arn, keep_found, &f, err);
  if (rc == WF_OK && f.oom)
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  if ((rc == WF_OK && !f.hit) || rc == WF_ENOTFOUND)
    rc = wf__error_set(err, WF_ENOTFOUND, NULL,
                       "Execution Does Not Exist: '%s'", arn);
  if (rc == WF_OK && f.why) rc = wf__error_set(err, WF_ESTATE, NULL, "%s", f.why);
  /* On a shared store the execution's row is leased to this process
   * first (whichever ran it), so that the restart's commit is its
   * writer's; a redrive on another process meanwhile takes it back, and
   * this one's commit is then refused. */
  if (rc == WF_OK && wf__store_shared(e->store)) {
    found again = {.e = e};
    rc = e->store->ops->acquire(e->store->backend, arn, keep_found, &again,
                                err);
    saved_free(&again.s);
  }
  wf__strmap machines = WF__STRMAP_INIT;
  wf_machine *m = rc == WF_OK
                      ? machine_for(e, &machines, f.s.definition_id, err)
                      : NULL;
  if (rc == WF_OK && !m) rc = err ? err->code : WF_ENOMEM;
  wf_execution *x = m ? wf__exec_alloc(e, m) : NULL;
  if (m && !x) rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  if (x) {
    rc = identify(x, &f.s, err);
    if (rc == WF_OK) rc = wf__exec_register(x, true);
    if (rc == WF_EEXIST) /* another redrive has just restarted it */
      rc = wf__error_set(err, WF_ESTATE, NULL,
                         "Execution is RUNNING and cannot be redriven");
    else if (rc == WF_EBUSY)
      rc = wf__error_set(err, WF_EBUSY, NULL,
                         "Execution limit exceeded: the engine runs %zu "
                         "executions at most",
                         e->max_running);
    if (rc == WF_OK) {
      rc = restart(x, &f.s, err);
      if (rc != WF_OK) wf__exec_abandon(x);
    }
    if (rc == WF_OK)
      *out = x;
    else
      wf__exec_release(x);
  }
  wf__strmap_foreach(&machines, free_machine, NULL);
  wf__strmap_clear(&machines);
  saved_free(&f.s);
  return rc;
}
