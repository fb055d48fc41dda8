/* Map Runs (workflow/map_run.h): a record per run of a Distributed Map
 * state, kept on the engine (an attachment) for ListMapRuns,
 * DescribeMapRun and UpdateMapRun. The fan-out updates its counts as
 * children start and end, under its execution's lock; UpdateMapRun
 * reaches the running fan-out through its execution. Each record has a
 * lock of its own, so a fan-out outliving the engine's registry (freed
 * first when the engine is) still updates its record safely; the order:
 * execution lock, record lock. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "map_data.h"
#include "workflow/map_run.h"

/* A child execution as it stands: CHILD_PENDING until it starts, then a
 * wf_exec_status. Its input and output are the fan-out's values, shared. */
#define CHILD_PENDING 0xff
typedef struct child_rec {
  int64_t start_ms, stop_ms;
  json_t *input, *output;
  char *error, *cause;
  unsigned char status;
} child_rec;

struct wf__map_run {
  atomic_int refs; /* the registry's, the fan-out's, a reader's */
  pthread_mutex_t lock; /* guards info, frame and kids */
  char *arn, *execution_arn, *machine_arn;
  wf_map_run_info info; /* its strings are the above */
  size_t *items;        /* items of each child (batches hold several) */
  child_rec *kids;      /* each child execution */
  size_t children;
  wf_engine *engine; /* its clock; the fan-out's execution holds it */
  wf__frame *frame; /* the Map state's frame while it runs (exec lock) */
  struct wf__map_run *next;
};

typedef struct registry {
  pthread_mutex_t lock; /* guards the list */
  wf__map_run *head, *tail;
} registry;

static const char RUNS_KEY = 0; /* the attachment's key: its address */

static void run_release(wf__map_run *r) {
  if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
  pthread_mutex_destroy(&r->lock);
  wf__free(r->arn);
  wf__free(r->execution_arn);
  wf__free(r->machine_arn);
  wf__free(r->items);
  for (size_t i = 0; r->kids && i < r->children; i++) {
    json_decref(r->kids[i].input);
    json_decref(r->kids[i].output);
    wf__free(r->kids[i].error);
    wf__free(r->kids[i].cause);
  }
  wf__free(r->kids);
  wf__free(r);
}

static void *registry_new(wf_engine *e) {
  (void)e;
  registry *g = wf__calloc(1, sizeof *g);
  if (g) pthread_mutex_init(&g->lock, NULL);
  return g;
}

static void registry_teardown(wf_engine *e, void *data) {
  (void)e;
  registry *g = data;
  for (wf__map_run *r = g->head, *next; r; r = next) {
    next = r->next;
    run_release(r);
  }
  pthread_mutex_destroy(&g->lock);
  wf__free(g);
}

static registry *runs(wf_engine *e) {
  return wf__engine_attachment(e, &RUNS_KEY, registry_new, registry_teardown);
}

void wf__map_machine_arn(wf__strbuf *out, const wf__frame *f,
                         const wf__state *st) {
  wf_engine *e = f->exec->engine;
  wf__strbuf_printf(out, "arn:aws:states:%s:%s:stateMachine:%s/%s", e->region,
                    e->account, f->exec->machine->name,
                    st->label ? st->label : st->name);
}

/* Items in child i: a batch's Items, else one. */
static size_t child_items(const wf__fanout *fan, size_t i) {
  if (!fan->batch_items) return 1;
  return json_array_size(
      json_object_get(json_array_get(fan->items, i), "Items"));
}

void wf__map_run_begin(wf__frame *f, const wf__state *st, const char *arn) {
  wf__fanout *fan = f->fan;
  registry *g = runs(f->exec->engine);
  wf__map_run *r = g ? wf__calloc(1, sizeof *r) : NULL;
  if (!r) return; /* no record: the run goes unlisted */
  pthread_mutex_init(&r->lock, NULL);
  wf__strbuf m = WF__STRBUF_INIT;
  wf__map_machine_arn(&m, f, st);
  r->arn = wf__strdup(arn);
  r->execution_arn = wf__strdup(f->exec->arn);
  r->machine_arn = wf__strbuf_take(&m);
  r->children = fan->total;
  r->engine = f->exec->engine;
  r->items = wf__calloc(fan->total ? fan->total : 1, sizeof *r->items);
  r->kids = wf__calloc(fan->total ? fan->total : 1, sizeof *r->kids);
  if (!r->arn || !r->execution_arn || !r->machine_arn || !r->items ||
      !r->kids) {
    atomic_init(&r->refs, 1);
    run_release(r);
    return;
  }
  atomic_init(&r->refs, 2);
  wf_map_run_info *in = &r->info;
  in->map_run_arn = r->arn;
  in->execution_arn = r->execution_arn;
  in->state_machine_arn = r->machine_arn;
  in->status = WF_MAP_RUN_RUNNING;
  in->start_ms = wf__engine_now(f->exec->engine);
  in->max_concurrency = (int64_t)fan->max_running;
  in->tolerated_failure_count =
      fan->tolerated_count >= 0 ? fan->tolerated_count : 0;
  in->tolerated_failure_percentage =
      fan->tolerated_percentage >= 0 ? fan->tolerated_percentage : 0;
  in->executions.total = in->executions.pending = (int64_t)fan->total;
  for (size_t i = 0; i < fan->total; i++) {
    r->kids[i].status = CHILD_PENDING;
    r->items[i] = child_items(fan, i);
    in->items.total += (int64_t)r->items[i];
  }
  in->items.pending = in->items.total;
  r->frame = f;
  fan->run = r;
  pthread_mutex_lock(&g->lock);
  if (g->tail)
    g->tail->next = r;
  else
    g->head = r;
  g->tail = r;
  pthread_mutex_unlock(&g->lock);
}

/* Move child i's execution and items from one count to another. */
static void move(wf__map_run *r, size_t i, int64_t *from_x, int64_t *to_x,
                 int64_t *from_i, int64_t *to_i) {
  int64_t n = i < r->children ? (int64_t)r->items[i] : 0;
  (*from_x)--;
  (*to_x)++;
  *from_i -= n;
  *to_i += n;
}

/* What child i keeps as it starts or ends. Its run's lock held. */
static void child_note(wf__map_run *r, size_t i, wf__map_child what,
                       const wf__frame *c, int64_t now) {
  if (i >= r->children) return;
  child_rec *k = &r->kids[i];
  if (what == WF__MAP_CHILD_STARTED) {
    /* A redrive runs it again: it starts afresh. */
    json_decref(k->input);
    json_decref(k->output);
    wf__free(k->error);
    wf__free(k->cause);
    *k = (child_rec){.start_ms = now, .status = WF_EXEC_RUNNING,
                     .input = json_incref(c ? c->input : NULL)};
    return;
  }
  k->stop_ms = now;
  k->status = what == WF__MAP_CHILD_SUCCEEDED ? WF_EXEC_SUCCEEDED
                                              : WF_EXEC_FAILED;
  if (!c) return;
  if (what == WF__MAP_CHILD_SUCCEEDED) {
    k->output = json_incref(c->output ? c->output : json_null());
  } else {
    k->error = c->error ? wf__strdup(c->error) : NULL;
    k->cause = c->cause ? wf__strdup(c->cause) : NULL;
  }
}

void wf__map_run_child(wf__frame *p, size_t i, wf__map_child what,
                       const wf__frame *child) {
  wf__map_run *r = p->fan->run;
  if (!r) return;
  wf_map_run_counts *x = &r->info.executions, *it = &r->info.items;
  int64_t now = wf__engine_now(p->exec->engine);
  pthread_mutex_lock(&r->lock);
  if (what == WF__MAP_CHILD_STARTED)
    move(r, i, &x->pending, &x->running, &it->pending, &it->running);
  else if (what == WF__MAP_CHILD_SUCCEEDED)
    move(r, i, &x->running, &x->succeeded, &it->running, &it->succeeded);
  else
    move(r, i, &x->running, &x->failed, &it->running, &it->failed);
  child_note(r, i, what, child, now);
  pthread_mutex_unlock(&r->lock);
}

/* splitmix64's finaliser: a fixed, well-mixed function of v. */
static uint64_t mix(uint64_t v) {
  v += 0x9e3779b97f4a7c15ULL;
  v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
  v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
  return v ^ (v >> 31);
}

void wf__map_child_name(char out[37], const char *map_run_arn, size_t i) {
  /* The Map Run's UUID (its ARN's last part), folded with the index. */
  const char *uuid = strrchr(map_run_arn, ':');
  uint64_t a = 0, b = 0;
  for (const char *c = uuid ? uuid + 1 : map_run_arn; *c; c++) {
    a = mix(a ^ (unsigned char)*c);
    b = mix(b + (unsigned char)*c);
  }
  wf__uuid_v4(out, mix(a ^ (uint64_t)i), mix(b + (uint64_t)i));
}

/* The run's end: what still runs was aborted. Its lock held. */
static void end(wf__map_run *r, wf_map_run_status status, int64_t now) {
  wf_map_run_counts *counts[2] = {&r->info.executions, &r->info.items};
  for (int k = 0; k < 2; k++) {
    counts[k]->aborted += counts[k]->running;
    counts[k]->running = 0;
  }
  for (size_t i = 0; i < r->children; i++)
    if (r->kids[i].status == WF_EXEC_RUNNING) {
      r->kids[i].status = WF_EXEC_ABORTED;
      r->kids[i].stop_ms = now;
    }
  r->info.status = status;
  r->info.stop_ms = now;
  r->frame = NULL;
}

void wf__map_run_end(wf__frame *f, wf_map_run_status status, bool written) {
  wf__map_run *r = f->fan->run;
  if (!r) return;
  pthread_mutex_lock(&r->lock);
  if (r->info.status != WF_MAP_RUN_RUNNING) { /* ended already */
    pthread_mutex_unlock(&r->lock);
    return;
  }
  end(r, status, wf__engine_now(f->exec->engine));
  if (written) {
    r->info.executions.results_written =
        r->info.executions.succeeded + r->info.executions.failed;
    r->info.items.results_written =
        r->info.items.succeeded + r->info.items.failed;
  }
  pthread_mutex_unlock(&r->lock);
}

void wf__map_run_release(wf__map_run *r) {
  if (!r) return;
  /* A fan-out freed while its run still ran: the execution stopped. */
  pthread_mutex_lock(&r->lock);
  if (r->info.status == WF_MAP_RUN_RUNNING)
    end(r, WF_MAP_RUN_ABORTED, wf__engine_now(r->engine));
  r->frame = NULL;
  pthread_mutex_unlock(&r->lock);
  run_release(r);
}

void wf__map_run_redriven(wf__frame *f) {
  wf__map_run *r = f->fan->run;
  if (!r) return;
  wf_map_run_counts *counts[2] = {&r->info.executions, &r->info.items};
  pthread_mutex_lock(&r->lock);
  /* The children that did not succeed wait to run again. */
  for (int k = 0; k < 2; k++) {
    counts[k]->pending += counts[k]->failed + counts[k]->aborted;
    counts[k]->failed = counts[k]->aborted = 0;
  }
  r->info.status = WF_MAP_RUN_RUNNING;
  r->info.stop_ms = 0;
  r->info.redrive_count++;
  r->info.redrive_ms = wf__engine_now(f->exec->engine);
  r->frame = f;
  pthread_mutex_unlock(&r->lock);
}

/* ---- the API ---- */

/* Take a reference to each run matching (by run ARN or execution ARN);
 * *out the array (wf__free), *n its length. */
static int collect(wf__map_run ***out, size_t *n, wf_engine *e,
                   const char *arn, bool by_execution) {
  *out = NULL;
  *n = 0;
  registry *g = runs(e);
  if (!g) return WF_ENOMEM;
  pthread_mutex_lock(&g->lock);
  size_t count = 0;
  for (wf__map_run *r = g->head; r; r = r->next)
    count += !strcmp(by_execution ? r->execution_arn : r->arn, arn);
  wf__map_run **v = count ? wf__calloc(count, sizeof *v) : NULL;
  for (wf__map_run *r = g->head; v && r; r = r->next)
    if (!strcmp(by_execution ? r->execution_arn : r->arn, arn)) {
      atomic_fetch_add(&r->refs, 1);
      v[(*n)++] = r;
    }
  pthread_mutex_unlock(&g->lock);
  if (count && !v) return WF_ENOMEM;
  *out = v;
  return WF_OK;
}

/* The run named `arn` with a reference taken (run_release); `needed`:
 * whether the call's other required argument was given. WF_ENOTFOUND
 * when none. */
static int find_run(wf__map_run **out, wf_engine *e, const char *arn,
                    bool needed, wf_error *err) {
  *out = NULL;
  if (!e || !arn || !needed)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, Map Run ARN and callback are required");
  wf__map_run **v;
  size_t n;
  if (collect(&v, &n, e, arn, false) != WF_OK)
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  for (size_t i = 1; i < n; i++) run_release(v[i]);
  *out = n ? v[0] : NULL;
  wf__free(v);
  if (!*out)
    return wf__error_set(err, WF_ENOTFOUND, NULL,
                         "Map Run Does Not Exist: '%s'", arn);
  return WF_OK;
}

/* The run as it stands to cb, without its lock; the reference dropped. */
static int report(wf__map_run *r, wf_map_run_cb cb, void *payload) {
  pthread_mutex_lock(&r->lock);
  wf_map_run_info copy = r->info;
  pthread_mutex_unlock(&r->lock);
  int stop = cb(&copy, payload);
  run_release(r);
  return stop;
}

int wf_engine_list_map_runs(wf_engine *e, const char *execution_arn,
                            wf_map_run_cb cb, void *payload, wf_error *err) {
  if (!e || !execution_arn || !cb)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, execution ARN and callback are required");
  wf__map_run **v;
  size_t n;
  if (collect(&v, &n, e, execution_arn, true) != WF_OK)
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  bool stop = false;
  for (size_t i = 0; i < n; i++) {
    if (stop)
      run_release(v[i]);
    else
      stop = report(v[i], cb, payload) != 0;
  }
  wf__free(v);
  return WF_OK;
}

int wf_engine_describe_map_run(wf_engine *e, const char *map_run_arn,
                               wf_map_run_cb cb, void *payload,
                               wf_error *err) {
  wf__map_run *r;
  int rc = find_run(&r, e, map_run_arn, cb != NULL, err);
  if (rc == WF_OK) report(r, cb, payload);
  return rc;
}

int wf_map_run_update_init(wf_map_run_update *u, unsigned int version) {
  if (!u) return WF_EINVAL;
  if (version != WF_MAP_RUN_UPDATE_VERSION) return WF_EVERSION;
  memset(u, 0, sizeof *u);
  u->version = version;
  return WF_OK;
}

/* The update applied to a running fan-out (exec lock held): more room
 * launches waiting children now. */
static void apply(wf__fanout *fan, wf__frame *f, const wf_map_run_update *u) {
  if (u->set & WF_MAP_RUN_SET_MAX_CONCURRENCY)
    fan->max_running = (size_t)u->max_concurrency;
  if (u->set & WF_MAP_RUN_SET_TOLERATED_COUNT)
    fan->tolerated_count = u->tolerated_failure_count;
  if (u->set & WF_MAP_RUN_SET_TOLERATED_PERCENTAGE)
    fan->tolerated_percentage = u->tolerated_failure_percentage;
  if (f->park == WF__PARK_CHILDREN && !fan->failed) {
    f->park = WF__PARK_NONE;
    wf__frame_schedule(f);
  }
}

int wf_engine_update_map_run(wf_engine *e, const char *map_run_arn,
                             const wf_map_run_update *u, wf_error *err) {
  if (!e || !map_run_arn || !u)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, Map Run ARN and update are required");
  if (u->version != WF_MAP_RUN_UPDATE_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_map_run_update version %u is not supported "
                         "(expected %u)",
                         u->version, WF_MAP_RUN_UPDATE_VERSION);
  if (((u->set & WF_MAP_RUN_SET_MAX_CONCURRENCY) && u->max_concurrency < 0) ||
      ((u->set & WF_MAP_RUN_SET_TOLERATED_COUNT) &&
       u->tolerated_failure_count < 0) ||
      ((u->set & WF_MAP_RUN_SET_TOLERATED_PERCENTAGE) &&
       !(u->tolerated_failure_percentage >= 0 &&
         u->tolerated_failure_percentage <= 100)))
    return wf__error_set(err, WF_EINVAL, NULL,
                         "MaxConcurrency and ToleratedFailureCount must not "
                         "be negative, ToleratedFailurePercentage must be "
                         "between 0 and 100");
  wf__map_run *r;
  int rc = find_run(&r, e, map_run_arn, u != NULL, err);
  if (rc != WF_OK) return rc;
  wf_execution *x = NULL;
  wf_engine_find_execution(&x, e, r->execution_arn);
  if (x) pthread_mutex_lock(&x->lock);
  pthread_mutex_lock(&r->lock);
  wf__frame *f = r->frame;
  if (u->set & WF_MAP_RUN_SET_MAX_CONCURRENCY)
    r->info.max_concurrency = u->max_concurrency;
  if (u->set & WF_MAP_RUN_SET_TOLERATED_COUNT)
    r->info.tolerated_failure_count = u->tolerated_failure_count;
  if (u->set & WF_MAP_RUN_SET_TOLERATED_PERCENTAGE)
    r->info.tolerated_failure_percentage = u->tolerated_failure_percentage;
  pthread_mutex_unlock(&r->lock);
  /* The frame is the run's only while its fan-out holds the run; both
   * change under the execution's lock, held here. */
  if (x && f && f->fan && f->fan->run == r) apply(f->fan, f, u);
  if (x) {
    pthread_mutex_unlock(&x->lock);
    wf_execution_free(x);
  }
  run_release(r);
  return WF_OK;
}

/* ---- child executions ---- */

/* The child's ARN from its run's machine ARN
 * (arn:aws:states:R:A:stateMachine:MACHINE/LABEL):
 * arn:aws:states:R:A:execution:MACHINE/LABEL:NAME. */
static void child_arn(wf__strbuf *out, const wf__map_run *r,
                      const char *name) {
  const char *m = strstr(r->machine_arn, ":stateMachine:");
  if (!m) return;
  wf__strbuf_printf(out, "%.*s:execution:%s:%s", (int)(m - r->machine_arn),
                    r->machine_arn, m + strlen(":stateMachine:"), name);
}

/* Child i of r as a listing shows it (run lock held); `name` and `arn`
 * hold its strings. */
static void child_fill(wf_map_run_child *c, const wf__map_run *r, size_t i,
                       char name[37], wf__strbuf *arn) {
  const child_rec *k = &r->kids[i];
  wf__map_child_name(name, r->arn, i);
  wf__strbuf_reset(arn);
  child_arn(arn, r, name);
  *c = (wf_map_run_child){.version = WF_MAP_RUN_CHILD_VERSION,
                          .execution_arn = wf__strbuf_cstr(arn),
                          .name = name,
                          .map_run_arn = r->arn,
                          .state_machine_arn = r->machine_arn,
                          .parent_arn = r->execution_arn,
                          .index = (int64_t)i,
                          .status = (wf_exec_status)k->status,
                          .start_ms = k->start_ms,
                          .stop_ms = k->stop_ms,
                          .item_count = (int64_t)r->items[i]};
}

int wf_engine_list_map_run_children(wf_engine *e, const char *map_run_arn,
                                    int64_t before, wf_map_run_child_cb cb,
                                    void *payload, wf_error *err) {
  wf__map_run *r;
  int rc = find_run(&r, e, map_run_arn, cb != NULL, err);
  if (rc != WF_OK) return rc;
  size_t i = before > 0 && (uint64_t)before < r->children ? (size_t)before
                                                          : r->children;
  wf__strbuf arn = WF__STRBUF_INIT;
  /* One child at a time under the run's lock, called without it: a run of
   * any size costs one child's copy. */
  while (i-- > 0) {
    char name[37];
    wf_map_run_child c;
    pthread_mutex_lock(&r->lock);
    bool started = r->kids[i].status != CHILD_PENDING;
    if (started) child_fill(&c, r, i, name, &arn);
    pthread_mutex_unlock(&r->lock);
    if (!started) continue;
    if (!arn.data) {
      rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
      break;
    }
    if (cb(&c, payload) != 0) break;
  }
  wf__strbuf_free(&arn);
  run_release(r);
  return rc;
}

/* The run whose child `arn` names and the child's index; a reference
 * taken on the run. NULL when none. */
static wf__map_run *find_child(wf_engine *e, const char *arn, size_t *index) {
  /* arn:aws:states:R:A:execution:MACHINE/LABEL:NAME */
  const char *x = strstr(arn, ":execution:");
  const char *name = strrchr(arn, ':');
  if (!x || name <= x + strlen(":execution:") || strlen(name + 1) != 36)
    return NULL;
  wf__strbuf machine = WF__STRBUF_INIT;
  wf__strbuf_printf(&machine, "%.*s:stateMachine:%.*s", (int)(x - arn), arn,
                    (int)(name - x - strlen(":execution:")),
                    x + strlen(":execution:"));
  registry *g = runs(e);
  wf__map_run *found = NULL;
  if (g && machine.data) {
    pthread_mutex_lock(&g->lock);
    for (wf__map_run *r = g->head; r && !found; r = r->next) {
      if (strcmp(r->machine_arn, wf__strbuf_cstr(&machine)) != 0) continue;
      /* The names are made, not kept: a run's children are looked through
       * (a hash each). */
      for (size_t i = 0; i < r->children; i++) {
        char n[37];
        wf__map_child_name(n, r->arn, i);
        if (strcmp(n, name + 1) == 0) {
          atomic_fetch_add(&r->refs, 1);
          found = r;
          *index = i;
          break;
        }
      }
    }
    pthread_mutex_unlock(&g->lock);
  }
  wf__strbuf_free(&machine);
  return found;
}

int wf_engine_describe_map_run_child(wf_engine *e, const char *execution_arn,
                                     wf_map_run_child_cb cb, void *payload,
                                     wf_error *err) {
  if (!e || !execution_arn || !cb)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, execution ARN and callback are required");
  size_t i = 0;
  wf__map_run *r = find_child(e, execution_arn, &i);
  bool started = false;
  char name[37];
  wf_map_run_child c;
  wf__strbuf arn = WF__STRBUF_INIT;
  char *input = NULL, *output = NULL, *error = NULL, *cause = NULL;
  if (r) {
    pthread_mutex_lock(&r->lock);
    const child_rec *k = &r->kids[i];
    started = k->status != CHILD_PENDING;
    if (started) {
      child_fill(&c, r, i, name, &arn);
      input = wf__json_dumps(k->input ? k->input : json_null());
      output = k->status == WF_EXEC_SUCCEEDED ? wf__json_dumps(k->output)
                                              : NULL;
      error = k->error ? wf__strdup(k->error) : NULL;
      cause = k->cause ? wf__strdup(k->cause) : NULL;
    }
    pthread_mutex_unlock(&r->lock);
  }
  int rc = WF_OK;
  if (!started)
    rc = wf__error_set(err, WF_ENOTFOUND, NULL,
                       "Execution Does Not Exist: '%s'", execution_arn);
  else if (!arn.data || !input ||
           (c.status == WF_EXEC_SUCCEEDED && !output))
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  if (rc == WF_OK) {
    c.input = input;
    c.output = output;
    c.error = error;
    c.cause = cause;
    cb(&c, payload);
  }
  wf__free(input);
  wf__free(output);
  wf__free(error);
  wf__free(cause);
  wf__strbuf_free(&arn);
  run_release(r);
  return rc;
}
