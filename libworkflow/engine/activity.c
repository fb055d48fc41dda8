/* Activities (AWS's CreateActivity, GetActivityTask and the rest): records
 * kept in the engine's store as documents, and per activity a queue of
 * tasks waiting for a worker. A Task on an activity's ARN is an ordinary
 * task (state_task.c) whose handler call is replaced by a place in the
 * queue: its token, timeouts, heartbeats and completion are task.c's. A
 * poller takes the queue's first pending task, records ActivityStarted
 * and gets the task once it is committed.
 *
 * Lock order: an execution's lock, then the registry's `lock` (a Task
 * queues its task while its execution is locked); a poller releases
 * `lock` before it takes the execution's. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "activity_impl.h"
#include "alloc.h"
#include "clock_impl.h"
#include "error.h"
#include "json_text.h"
#include "workflow/activity.h"
#include "workflow/store.h"

#define DOC_KIND "activity"

/* The registry holds the live records; callers get copies (snapshot()),
 * so a live record's tags may change under the registry's lock. */
struct wf_activity {
  atomic_int refs;
  char *name, *arn;
  char *tags; /* live records: under the registry's lock */
  int64_t created;
  /* Live records, under the registry's lock: */
  bool deleted;
  wf_task **queue; /* each a reference, oldest first */
  size_t nqueue, capqueue;
  unsigned pollers;
  pthread_cond_t ready; /* a task was queued, or the activity went */
};

typedef struct registry {
  wf_engine *engine;
  pthread_mutex_t lock;
  wf__strmap by_arn; /* ARN -> activity (a reference) */
  wf_activity **order; /* creation order, the same references */
  size_t n, cap;
  bool closing;     /* the engine is being freed */
  unsigned pollers; /* in wf_engine_activity_get_task() */
  pthread_cond_t idle;
} registry;

static const char KEY = 0;

/* ---- records ---- */

static void activity_free(wf_activity *a) {
  for (size_t i = 0; i < a->nqueue; i++) wf__task_release(a->queue[i]);
  wf__free(a->queue);
  pthread_cond_destroy(&a->ready);
  wf__free(a->name);
  wf__free(a->arn);
  wf__free(a->tags);
  wf__free(a);
}

wf_activity *wf_activity_retain(const wf_activity *a) {
  wf_activity *m = (wf_activity *)a;
  atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
  return m;
}

void wf_activity_free(wf_activity *a) {
  if (a && atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
    activity_free(a);
}

const char *wf_activity_arn(const wf_activity *a) { return a->arn; }
const char *wf_activity_name(const wf_activity *a) { return a->name; }
int64_t wf_activity_creation_date(const wf_activity *a) { return a->created; }
const char *wf_activity_tags(const wf_activity *a) { return a->tags; }

static wf_activity *activity_new(wf_engine *e, const char *name,
                                 int64_t created, const char *tags) {
  wf_activity *a = wf__calloc(1, sizeof *a);
  if (!a) return NULL;
  atomic_init(&a->refs, 1);
  wf__strbuf b = WF__STRBUF_INIT;
  wf__strbuf_printf(&b, "arn:aws:states:%s:%s:activity:%s", e->region,
                    e->account, name);
  a->arn = wf__strbuf_take(&b);
  a->name = wf__strdup(name);
  a->tags = wf__strdup(tags ? tags : "[]");
  a->created = created;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&a->ready, &ca);
  pthread_condattr_destroy(&ca);
  if (!a->arn || !a->name || !a->tags) {
    activity_free(a);
    return NULL;
  }
  return a;
}

/* A caller's copy of a live record (registry's lock held); NULL: no
 * memory. */
static wf_activity *snapshot(const wf_activity *live, wf_engine *e) {
  wf_activity *a = wf__calloc(1, sizeof *a);
  if (!a) return NULL;
  atomic_init(&a->refs, 1);
  pthread_cond_init(&a->ready, NULL);
  a->name = wf__strdup(live->name);
  a->arn = wf__strdup(live->arn);
  a->tags = wf__strdup(live->tags);
  a->created = live->created;
  (void)e;
  if (!a->name || !a->arn || !a->tags) {
    activity_free(a);
    return NULL;
  }
  return a;
}

/* Keep `a` (its reference) in the registry; false: no memory. */
static bool keep(registry *r, wf_activity *a) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    wf_activity **o = wf__realloc(r->order, cap * sizeof *o);
    if (!o) return false;
    r->order = o;
    r->cap = cap;
  }
  if (!wf__strmap_put(&r->by_arn, a->arn, a, NULL)) return false;
  r->order[r->n++] = a;
  return true;
}

static int load_one(const wf_store_document *doc, void *payload) {
  registry *r = payload;
  json_t *v = json_loads(doc->body, 0, NULL);
  const char *name = json_string_value(json_object_get(v, "name"));
  json_t *tags = json_object_get(v, "tags");
  char *tags_text = tags ? wf__json_dumps(tags) : NULL;
  wf_activity *a =
      name ? activity_new(r->engine, name,
                          json_integer_value(json_object_get(v, "creationDate")),
                          tags_text)
           : NULL;
  wf__free(tags_text);
  json_decref(v);
  if (a && !keep(r, a)) activity_free(a);
  return 0;
}

static void *registry_new(wf_engine *e) {
  registry *r = wf__calloc(1, sizeof *r);
  if (!r) return NULL;
  r->engine = e;
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->idle, NULL);
  /* What an earlier engine on this store created. */
  wf_store_list_documents(e->store, DOC_KIND, 0, 0, load_one, r, NULL);
  return r;
}

/* wf_engine_free(): pollers are sent away first, then the records go. */
static void registry_teardown(wf_engine *e, void *data) {
  (void)e;
  registry *r = data;
  pthread_mutex_lock(&r->lock);
  r->closing = true;
  for (size_t i = 0; i < r->n; i++) pthread_cond_broadcast(&r->order[i]->ready);
  while (r->pollers) pthread_cond_wait(&r->idle, &r->lock);
  pthread_mutex_unlock(&r->lock);
  for (size_t i = 0; i < r->n; i++) wf_activity_free(r->order[i]);
  wf__free(r->order);
  wf__strmap_clear(&r->by_arn);
  pthread_cond_destroy(&r->idle);
  pthread_mutex_destroy(&r->lock);
  wf__free(r);
}

static registry *registry_of(wf_engine *e) {
  return wf__engine_attachment(e, &KEY, registry_new, registry_teardown);
}

/* ---- the API ---- */

/* AWS's tags: an array of {"key": 1-128 characters, "value": 0-256}. */
static int check_tags(json_t **out, const char *text, wf_error *err) {
  *out = NULL;
  if (!text) return WF_OK;
  json_t *v = NULL;
  int rc = wf__json_parse(&v, text, strlen(text), "tags", err);
  if (rc != WF_OK) return rc;
  size_t i;
  json_t *t;
  if (!json_is_array(v))
    goto bad;
  json_array_foreach(v, i, t) {
    const char *k = json_string_value(json_object_get(t, "key"));
    json_t *val = json_object_get(t, "value");
    if (!json_is_object(t) || !k || !*k || strlen(k) > 128 ||
        (val && (!json_is_string(val) || json_string_length(val) > 256)))
      goto bad;
  }
  *out = v;
  return WF_OK;
bad:
  json_decref(v);
  return wf__error_set(err, WF_EINVAL, "/tags", "Invalid tags: each tag "
                       "needs a key of 1 to 128 characters and a value of "
                       "at most 256");
}

static int store_put(wf_engine *e, const wf_activity *a, json_t *tags,
                     wf_error *err) {
  json_t *body = json_pack("{s:s, s:I, s:o}", "name", a->name, "creationDate",
                           (json_int_t)a->created, "tags",
                           tags ? json_incref(tags) : json_array());
  char *text = body ? wf__json_dumps(body) : NULL;
  json_decref(body);
  if (!text) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  wf_store_document doc = {DOC_KIND, a->arn, text, 0};
  int rc = wf_store_put_documents(e->store, &doc, 1, err);
  wf__free(text);
  return rc;
}

int wf_engine_activity_create(wf_activity **out, wf_engine *e,
                              const char *name, const char *tags_json,
                              wf_error *err) {
  if (out) *out = NULL;
  if (!e || !name)
    return wf__error_set(err, WF_EINVAL, NULL, "an engine and a name, please");
  if (!wf__name_ok(name))
    return wf__error_set(err, WF_EINVAL, "/name", "Invalid Name: '%s'", name);
  json_t *tags;
  int rc = check_tags(&tags, tags_json, err);
  if (rc != WF_OK) return rc;
  registry *r = registry_of(e);
  if (!r) {
    json_decref(tags);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  char *tags_text = tags ? wf__json_dumps(tags) : NULL;
  wf_activity *a = activity_new(e, name, wf__engine_now(e), tags_text);
  wf__free(tags_text);
  if (!a) {
    json_decref(tags);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  pthread_mutex_lock(&r->lock);
  wf_activity *had = wf__strmap_get(&r->by_arn, a->arn);
  if (had) { /* idempotent by name: the first one's date and tags */
    activity_free(a);
    a = had;
  } else if (r->n >= WF_ACTIVITY_MAX) {
    rc = wf__error_set(err, WF_ELIMIT, NULL,
                       "Activity limit exceeded: %d activities",
                       WF_ACTIVITY_MAX);
  } else if ((rc = store_put(e, a, tags, err)) == WF_OK && !keep(r, a)) {
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  if (rc == WF_OK && out && !(*out = snapshot(a, e)))
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  bool drop = !had && wf__strmap_get(&r->by_arn, a->arn) != a;
  pthread_mutex_unlock(&r->lock);
  if (drop) activity_free(a);
  json_decref(tags);
  return rc;
}

/* A copy of the activity of this ARN; NULL: none (*found false) or no
 * memory. */
static wf_activity *find(registry *r, const char *arn, bool *found) {
  pthread_mutex_lock(&r->lock);
  wf_activity *a = wf__strmap_get(&r->by_arn, arn);
  *found = a != NULL;
  wf_activity *copy = a ? snapshot(a, r->engine) : NULL;
  pthread_mutex_unlock(&r->lock);
  return copy;
}

static int not_found(wf_error *err, const char *arn) {
  return wf__error_set(err, WF_ENOTFOUND, NULL, "Activity Does Not Exist: '%s'",
                       arn);
}

int wf_engine_activity_describe(wf_activity **out, wf_engine *e,
                                const char *arn, wf_error *err) {
  if (!out || !e || !arn)
    return wf__error_set(err, WF_EINVAL, NULL, "out, engine and ARN, please");
  registry *r = registry_of(e);
  bool found = false;
  *out = r ? find(r, arn, &found) : NULL;
  if (!found) return r ? not_found(err, arn) : wf__error_set(err, WF_ENOMEM,
                                                           NULL, "out of memory");
  return *out ? WF_OK : wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
}

int wf_engine_activity_list(wf_engine *e, wf_activity_cb cb, void *payload,
                            wf_error *err) {
  if (!e || !cb)
    return wf__error_set(err, WF_EINVAL, NULL, "an engine and a callback");
  registry *r = registry_of(e);
  if (!r) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  /* Copies, so the callback runs without the lock. */
  pthread_mutex_lock(&r->lock);
  size_t n = r->n;
  wf_activity **copy = n ? wf__calloc(n, sizeof *copy) : NULL;
  bool oom = n && !copy;
  for (size_t i = 0; copy && i < n; i++)
    oom |= !(copy[i] = snapshot(r->order[i], e));
  pthread_mutex_unlock(&r->lock);
  size_t i = 0;
  while (!oom && i < n && cb(copy[i], payload) == 0) i++;
  for (i = 0; copy && i < n; i++) wf_activity_free(copy[i]);
  wf__free(copy);
  return oom ? wf__error_set(err, WF_ENOMEM, NULL, "out of memory") : WF_OK;
}

int wf_engine_activity_delete(wf_engine *e, const char *arn, wf_error *err) {
  if (!e || !arn)
    return wf__error_set(err, WF_EINVAL, NULL, "an engine and an ARN");
  registry *r = registry_of(e);
  if (!r) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  pthread_mutex_lock(&r->lock);
  wf_activity *a = wf__strmap_get(&r->by_arn, arn);
  int rc = WF_OK;
  if (a) {
    wf_store_document doc = {DOC_KIND, a->arn, NULL, 0};
    rc = wf_store_put_documents(e->store, &doc, 1, err);
  }
  if (a && rc == WF_OK) {
    wf__strmap_remove(&r->by_arn, arn);
    size_t i = 0;
    while (r->order[i] != a) i++;
    memmove(&r->order[i], &r->order[i + 1], (r->n - i - 1) * sizeof *r->order);
    r->n--;
    a->deleted = true;
    pthread_cond_broadcast(&a->ready);
  }
  pthread_mutex_unlock(&r->lock);
  if (a && rc == WF_OK) wf_activity_free(a);
  return rc;
}

int wf_engine_activity_set_tags(wf_engine *e, const char *arn,
                                const char *tags_json, wf_error *err) {
  if (!e || !arn)
    return wf__error_set(err, WF_EINVAL, NULL, "an engine and an ARN");
  json_t *tags;
  int rc = check_tags(&tags, tags_json ? tags_json : "[]", err);
  if (rc != WF_OK) return rc;
  char *text = wf__json_dumps(tags);
  registry *r = registry_of(e);
  if (!r || !text) {
    json_decref(tags);
    wf__free(text);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  pthread_mutex_lock(&r->lock);
  wf_activity *a = wf__strmap_get(&r->by_arn, arn);
  rc = a ? store_put(e, a, tags, err) : not_found(err, arn);
  if (rc == WF_OK) {
    wf__free(a->tags);
    a->tags = text;
    text = NULL;
  }
  pthread_mutex_unlock(&r->lock);
  wf__free(text);
  json_decref(tags);
  return rc;
}

int wf_activity_poll_options_init(wf_activity_poll_options *opts,
                                  unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version != WF_ACTIVITY_POLL_OPTIONS_VERSION) return WF_EVERSION;
  memset(opts, 0, sizeof *opts);
  opts->version = version;
  return WF_OK;
}

/* ---- the queue ---- */

/* Drop tasks settled while queued (timed out, stopped). Lock held. */
static void prune(wf_activity *a) {
  size_t k = 0;
  for (size_t i = 0; i < a->nqueue; i++) {
    if (atomic_load(&a->queue[i]->settled))
      wf__task_release(a->queue[i]);
    else
      a->queue[k++] = a->queue[i];
  }
  a->nqueue = k;
}

bool wf__activity_exists(wf_engine *e, const char *arn) {
  registry *r = registry_of(e);
  if (!r) return false;
  pthread_mutex_lock(&r->lock);
  bool found = wf__strmap_get(&r->by_arn, arn) != NULL;
  pthread_mutex_unlock(&r->lock);
  return found;
}

bool wf__activity_enqueue(wf_engine *e, wf_task *t) {
  registry *r = registry_of(e);
  if (!r) return false;
  pthread_mutex_lock(&r->lock);
  wf_activity *a = r->closing ? NULL : wf__strmap_get(&r->by_arn, t->resource);
  bool ok = a != NULL;
  if (ok) {
    prune(a);
    if (a->nqueue == a->capqueue) {
      size_t cap = a->capqueue ? a->capqueue * 2 : 8;
      wf_task **q = wf__realloc(a->queue, cap * sizeof *q);
      ok = q != NULL;
      if (ok) {
        a->queue = q;
        a->capqueue = cap;
      }
    }
  }
  if (ok) {
    a->queue[a->nqueue++] = wf__task_ref(t);
    pthread_cond_signal(&a->ready);
  }
  pthread_mutex_unlock(&r->lock);
  return ok;
}

/* Hand a taken task to its worker: ActivityStarted, committed before the
 * token goes out. False when it settled meanwhile. */
static bool start_task(wf_task *t, const char *worker) {
  wf_execution *x = t->frame->exec;
  pthread_mutex_lock(&x->lock);
  bool live = t->status == WF__TASK_PENDING && !t->activity_started;
  uint64_t ticket = 0;
  if (live) {
    t->activity_started = true;
    t->token_durable = true;
    const wf__state *st = t->frame->scope->states[t->frame->state];
    wf__event_args ev = {.type = WF__EV_ACTIVITY_STARTED, .st = st,
                         .text = worker};
    wf__history_record(x, t->frame, &ev);
    ticket = wf__commit_request(x, 0, NULL);
  }
  pthread_mutex_unlock(&x->lock);
  if (!live) return false;
  wf__commit_wait(x, ticket);
  wf__task_publish(t);
  /* The heartbeat period runs from the start. */
  wf_task_heartbeat(t);
  return true;
}

int wf_engine_activity_get_task(wf_task **out, wf_engine *e, const char *arn,
                                const wf_activity_poll_options *opts,
                                wf_error *err) {
  if (!out || !e || !arn)
    return wf__error_set(err, WF_EINVAL, NULL, "out, engine and ARN, please");
  *out = NULL;
  if (opts && opts->version != WF_ACTIVITY_POLL_OPTIONS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_activity_poll_options version %u is unknown",
                         opts->version);
  int64_t wait_ms = opts && opts->timeout_ms ? opts->timeout_ms
                                             : WF_ACTIVITY_POLL_MAX_MS;
  if (wait_ms > WF_ACTIVITY_POLL_MAX_MS) wait_ms = WF_ACTIVITY_POLL_MAX_MS;
  const char *worker = opts ? opts->worker_name : NULL;
  registry *r = registry_of(e);
  if (!r) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  struct timespec until =
      wf__timespec_in(CLOCK_MONOTONIC, wait_ms > 0 ? wait_ms * 1000 : 0);
  pthread_mutex_lock(&r->lock);
  wf_activity *a = wf__strmap_get(&r->by_arn, arn);
  int rc = WF_OK;
  if (!a) {
    rc = not_found(err, arn);
  } else if (a->pollers >= WF_ACTIVITY_POLLERS_MAX) {
    rc = wf__error_set(err, WF_ELIMIT, NULL,
                       "Activity worker limit exceeded: %d pollers",
                       WF_ACTIVITY_POLLERS_MAX);
    a = NULL;
  }
  if (!a) {
    pthread_mutex_unlock(&r->lock);
    return rc;
  }
  wf_activity_retain(a);
  a->pollers++;
  r->pollers++;
  for (;;) {
    prune(a);
    if (r->closing) {
      rc = wf__error_set(err, WF_ECANCELED, NULL, "the engine is closing");
      break;
    }
    if (a->nqueue) {
      wf_task *t = a->queue[0];
      memmove(a->queue, a->queue + 1, --a->nqueue * sizeof *a->queue);
      pthread_mutex_unlock(&r->lock);
      bool started = start_task(t, worker);
      pthread_mutex_lock(&r->lock);
      if (started) {
        *out = t;
        break;
      }
      wf__task_release(t);
      continue;
    }
    if (a->deleted || wait_ms <= 0 ||
        pthread_cond_timedwait(&a->ready, &r->lock, &until) != 0)
      break;
  }
  a->pollers--;
  if (--r->pollers == 0) pthread_cond_broadcast(&r->idle);
  pthread_mutex_unlock(&r->lock);
  wf_activity_free(a);
  return rc;
}

bool wf__activity_requeue(wf_engine *e, wf_task *t) {
  wf_execution *x = t->frame->exec;
  pthread_mutex_lock(&x->lock);
  bool started = t->activity_started;
  pthread_mutex_unlock(&x->lock);
  /* A started task's worker still holds its token. */
  return started || wf__activity_enqueue(e, t);
}
