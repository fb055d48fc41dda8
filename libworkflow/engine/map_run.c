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
#include "map_data.h"
#include "workflow/map_run.h"

struct wf__map_run {
  atomic_int refs; /* the registry's, the fan-out's, a reader's */
  pthread_mutex_t lock; /* guards info and frame */
  char *arn, *execution_arn, *machine_arn;
  wf_map_run_info info; /* its strings are the above */
  size_t *items;        /* items of each child (batches hold several) */
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
  if (!r->arn || !r->execution_arn || !r->machine_arn || !r->items) {
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

void wf__map_run_child(wf__frame *p, size_t i, wf__map_child what) {
  wf__map_run *r = p->fan->run;
  if (!r) return;
  wf_map_run_counts *x = &r->info.executions, *it = &r->info.items;
  pthread_mutex_lock(&r->lock);
  if (what == WF__MAP_CHILD_STARTED)
    move(r, i, &x->pending, &x->running, &it->pending, &it->running);
  else if (what == WF__MAP_CHILD_SUCCEEDED)
    move(r, i, &x->running, &x->succeeded, &it->running, &it->succeeded);
  else
    move(r, i, &x->running, &x->failed, &it->running, &it->failed);
  pthread_mutex_unlock(&r->lock);
}

/* The run's end: what still runs was aborted. Its lock held. */
static void end(wf__map_run *r, wf_map_run_status status, int64_t now) {
  wf_map_run_counts *counts[2] = {&r->info.executions, &r->info.items};
  for (int k = 0; k < 2; k++) {
    counts[k]->aborted += counts[k]->running;
    counts[k]->running = 0;
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

/* The run named `arn`, as collect() gives it; WF_ENOTFOUND when none. */
static int find_run(wf__map_run ***v, size_t *n, wf_engine *e, const char *arn,
                    wf_error *err) {
  if (collect(v, n, e, arn, false) != WF_OK)
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  if (!*n)
    return wf__error_set(err, WF_ENOTFOUND, NULL,
                         "Map Run Does Not Exist: '%s'", arn);
  return WF_OK;
}

static int report(wf__map_run **v, size_t n, wf_map_run_cb cb,
                  void *payload) {
  bool stop = false;
  for (size_t i = 0; i < n; i++) {
    if (!stop) {
      pthread_mutex_lock(&v[i]->lock);
      wf_map_run_info copy = v[i]->info;
      pthread_mutex_unlock(&v[i]->lock);
      stop = cb(&copy, payload) != 0;
    }
    run_release(v[i]);
  }
  wf__free(v);
  return WF_OK;
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
  return report(v, n, cb, payload);
}

int wf_engine_describe_map_run(wf_engine *e, const char *map_run_arn,
                               wf_map_run_cb cb, void *payload,
                               wf_error *err) {
  if (!e || !map_run_arn || !cb)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, Map Run ARN and callback are required");
  wf__map_run **v;
  size_t n;
  int rc = find_run(&v, &n, e, map_run_arn, err);
  return rc == WF_OK ? report(v, n, cb, payload) : rc;
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
  wf__map_run **v;
  size_t n;
  int rc = find_run(&v, &n, e, map_run_arn, err);
  if (rc != WF_OK) return rc;
  wf__map_run *r = v[0];
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
  for (size_t i = 0; i < n; i++) run_release(v[i]);
  wf__free(v);
  return WF_OK;
}
