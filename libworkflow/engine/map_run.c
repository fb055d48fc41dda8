/* Map Runs (workflow/map_run.h): a record per run of a Distributed Map
 * state while its fan-out runs, kept on the engine (an attachment) for
 * UpdateMapRun and written to the store with its execution's commits
 * (map_run_store.c reads them back: nothing is answered before it is
 * committed). The fan-out updates its counts and its children as they
 * start and end, under its execution's lock, and puts the run on its
 * execution's list of runs to write; UpdateMapRun reaches the running
 * fan-out through its execution. Each record has a lock of its own, so a
 * fan-out outliving the engine's registry (freed first when the engine
 * is) still updates its record safely; the order: execution lock, record
 * lock. */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "map_run_impl.h"
#include "workflow/map_run.h"

typedef struct registry {
  pthread_mutex_t lock; /* guards the list */
  wf__map_run *head, *tail;
} registry;

static const char RUNS_KEY = 0; /* the attachment's key: its address */

/* What a child's record holds, let go (the record left as it was). */
static void kid_clear(wf__child_rec *k) {
  json_decref(k->input);
  json_decref(k->output);
  wf__free(k->error);
  wf__free(k->cause);
  for (size_t j = 0; j < k->nevents; j++) wf__event_free(&k->events[j]);
  wf__free(k->events);
  wf__free(k->chunks);
}

static void run_release(wf__map_run *r) {
  if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
  pthread_mutex_destroy(&r->lock);
  wf__free(r->arn);
  wf__free(r->execution_arn);
  wf__free(r->machine_arn);
  wf__free(r->items);
  for (size_t i = 0; r->kids && i < r->children; i++)
    kid_clear(&r->kids[i]);
  wf__free(r->kids);
  wf__free(r->dirty_kids);
  wf__free(r);
}

/* A run its fan-out let go and whose documents are written keeps no
 * children: the store has them (its lock held). */
static void shed(wf__map_run *r) {
  if (!r->detached || r->dirty || !r->kids) return;
  for (size_t i = 0; i < r->children; i++) kid_clear(&r->kids[i]);
  wf__free(r->kids);
  r->kids = NULL;
  wf__free(r->items);
  r->items = NULL;
}

/* ---- what goes with the next commit ---- */

/* Child i (SIZE_MAX: none) changed: the run goes with x's next commit
 * (x->lock and the run's held). Out of memory: it goes with a later
 * change's. */
static void touch(wf__map_run *r, wf_execution *x, size_t i) {
  if (i < r->children && r->kids && !r->kids[i].dirty) {
    if (r->ndirty_kids == r->dirty_kids_cap) {
      size_t cap = r->dirty_kids_cap ? 2 * r->dirty_kids_cap : 16;
      size_t *v = wf__realloc(r->dirty_kids, cap * sizeof *v);
      if (v) {
        r->dirty_kids = v;
        r->dirty_kids_cap = cap;
      }
    }
    if (r->ndirty_kids < r->dirty_kids_cap) {
      r->dirty_kids[r->ndirty_kids++] = i;
      r->kids[i].dirty = true;
    }
  }
  if (r->dirty) return;
  if (x->ndirty_runs == x->dirty_runs_cap) {
    size_t cap = x->dirty_runs_cap ? 2 * x->dirty_runs_cap : 4;
    wf__map_run **v = wf__realloc(x->dirty_runs, cap * sizeof *v);
    if (!v) return;
    x->dirty_runs = v;
    x->dirty_runs_cap = cap;
  }
  atomic_fetch_add(&r->refs, 1);
  x->dirty_runs[x->ndirty_runs++] = r;
  r->dirty = true;
}

void wf__map_run_take_docs(wf_execution *x, wf__docs *out) {
  size_t kept = 0;
  for (size_t k = 0; k < x->ndirty_runs; k++) {
    wf__map_run *r = x->dirty_runs[k];
    pthread_mutex_lock(&r->lock);
    bool ok = wf__map_run_docs(r, x, out);
    if (ok) {
      r->dirty = false;
      shed(r);
    }
    pthread_mutex_unlock(&r->lock);
    if (ok)
      run_release(r);
    else
      x->dirty_runs[kept++] = r; /* out of memory: with the next one */
  }
  x->ndirty_runs = kept;
}

void wf__map_run_drop_dirty(wf_execution *x) {
  for (size_t k = 0; k < x->ndirty_runs; k++) {
    wf__map_run *r = x->dirty_runs[k];
    pthread_mutex_lock(&r->lock);
    r->dirty = false;
    pthread_mutex_unlock(&r->lock);
    run_release(r);
  }
  wf__free(x->dirty_runs);
  x->dirty_runs = NULL;
  x->ndirty_runs = x->dirty_runs_cap = 0;
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

/* Put a run at the end of the engine's list of runs. */
static void enlist(registry *g, wf__map_run *r) {
  pthread_mutex_lock(&g->lock);
  if (g->tail)
    g->tail->next = r;
  else
    g->head = r;
  g->tail = r;
  pthread_mutex_unlock(&g->lock);
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

/* AWS keeps a STANDARD child's history, never an EXPRESS one's. */
static bool keeps_history(const wf_engine *e, const wf__state *st) {
  return e->history == WF_HISTORY_FULL && !st->express_children;
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
  r->keep_history = keeps_history(r->engine, st);
  r->express = st->express_children;
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
    r->kids[i].status = WF__CHILD_PENDING;
    r->items[i] = child_items(fan, i);
    in->items.total += (int64_t)r->items[i];
  }
  in->items.pending = in->items.total;
  r->frame = f;
  fan->run = r;
  pthread_mutex_lock(&r->lock);
  touch(r, f->exec, SIZE_MAX);
  pthread_mutex_unlock(&r->lock);
  enlist(g, r);
}

/* Move child i's execution and items from one count to another. */
static void move(wf__map_run *r, size_t i, int64_t *from_x, int64_t *to_x,
                 int64_t *from_i, int64_t *to_i) {
  int64_t n = i < r->children && r->items ? (int64_t)r->items[i] : 0;
  (*from_x)--;
  (*to_x)++;
  *from_i -= n;
  *to_i += n;
}

/* The record of child i as its run last wrote it, when it starts again:
 * a STANDARD child that ran before this redrive of its run (children
 * start in index order, so those below `started`) is redriven, not
 * started anew (new reference; NULL: a first run). Exec lock held: what
 * it reads changes only under it. */
static json_t *earlier_run(const wf__map_run *r, size_t i) {
  if (r->express || !r->info.redrive_count || i >= r->started) return NULL;
  int rc;
  /* Unreadable (rc): it starts a history anew, as a first run would. */
  return wf__map_run_child_doc(r->engine, r->arn, r->machine_arn, i, &rc,
                               NULL);
}

/* What child i keeps as it starts (`before`: its record, when it is
 * redriven) or ends. Its run's lock held. */
static void child_note(wf__map_run *r, size_t i, wf__map_child what,
                       const wf__frame *c, int64_t now,
                       const json_t *before) {
  if (i >= r->children || !r->kids) return;
  wf__child_rec *k = &r->kids[i];
  if (what == WF__MAP_CHILD_STARTED) {
    kid_clear(k);
    *k = (wf__child_rec){.start_ms = now, .status = WF_EXEC_RUNNING,
                         .input = json_incref(c ? c->input : NULL),
                         .dirty = k->dirty};
    if (before) { /* the same execution, once more */
      wf__map_run_child_restore(k, before);
      k->redrive_count++;
      k->redrive_ms = now;
    }
    if (i >= r->started) r->started = i + 1;
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
  json_t *before = what == WF__MAP_CHILD_STARTED ? earlier_run(r, i) : NULL;
  pthread_mutex_lock(&r->lock);
  if (what == WF__MAP_CHILD_STARTED)
    move(r, i, &x->pending, &x->running, &it->pending, &it->running);
  else if (what == WF__MAP_CHILD_SUCCEEDED)
    move(r, i, &x->running, &x->succeeded, &it->running, &it->succeeded);
  else
    move(r, i, &x->running, &x->failed, &it->running, &it->failed);
  child_note(r, i, what, child, now, before);
  touch(r, p->exec, i);
  pthread_mutex_unlock(&r->lock);
  json_decref(before);
}

int64_t wf__map_run_child_redrives(const wf__frame *p, size_t i,
                                   int64_t *last_event) {
  wf__map_run *r = p->fan->run;
  int64_t n = 0;
  *last_event = 0;
  if (!r) return 0;
  pthread_mutex_lock(&r->lock);
  if (r->kids && i < r->children) {
    n = r->kids[i].redrive_count;
    *last_event = r->kids[i].last_event;
  }
  pthread_mutex_unlock(&r->lock);
  return n;
}

/* The run and index of the child execution `top`, or NULL. */
static wf__map_run *run_of(const wf__frame *top, size_t *i) {
  const wf__frame *p = top->parent;
  if (!p || !p->fan || !p->fan->run) return NULL;
  *i = top->child_index;
  return p->fan->run;
}

bool wf__map_run_keeps_history(const wf__frame *top) {
  size_t i;
  const wf__map_run *r = run_of(top, &i);
  /* Set once as the run begins or resumes, under the execution's lock. */
  return r && r->keep_history;
}

void wf__map_run_child_event(wf__frame *top, wf__event *ev) {
  size_t i;
  wf__map_run *r = run_of(top, &i);
  if (!r) {
    wf__event_free(ev);
    return;
  }
  pthread_mutex_lock(&r->lock);
  wf__child_rec *k = r->kids && i < r->children ? &r->kids[i] : NULL;
  if (k && k->nevents == k->events_cap) {
    size_t cap = k->events_cap ? 2 * k->events_cap : 4;
    wf__event *v = wf__realloc(k->events, cap * sizeof *v);
    if (v) {
      k->events = v;
      k->events_cap = cap;
    }
  }
  if (k && k->nevents < k->events_cap) {
    k->events[k->nevents++] = *ev;
    touch(r, top->exec, i);
  } else {
    /* Out of memory: the child's history misses this event. */
    wf__event_free(ev);
  }
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
static void end(wf__map_run *r, wf_execution *x, wf_map_run_status status,
                int64_t now) {
  wf_map_run_counts *counts[2] = {&r->info.executions, &r->info.items};
  for (int k = 0; k < 2; k++) {
    counts[k]->aborted += counts[k]->running;
    counts[k]->running = 0;
  }
  for (size_t i = 0; r->kids && i < r->children; i++)
    if (r->kids[i].status == WF_EXEC_RUNNING) {
      r->kids[i].status = WF_EXEC_ABORTED;
      r->kids[i].stop_ms = now;
      if (x) touch(r, x, i);
    }
  r->info.status = status;
  r->info.stop_ms = now;
  r->frame = NULL;
  if (x) touch(r, x, SIZE_MAX);
}

void wf__map_run_end(wf__frame *f, wf_map_run_status status, bool written) {
  wf__map_run *r = f->fan->run;
  if (!r) return;
  pthread_mutex_lock(&r->lock);
  if (r->info.status != WF_MAP_RUN_RUNNING) { /* ended already */
    pthread_mutex_unlock(&r->lock);
    return;
  }
  end(r, f->exec, status, wf__engine_now(f->exec->engine));
  if (written) {
    r->info.executions.results_written =
        r->info.executions.succeeded + r->info.executions.failed;
    r->info.items.results_written =
        r->info.items.succeeded + r->info.items.failed;
  }
  touch(r, f->exec, SIZE_MAX);
  pthread_mutex_unlock(&r->lock);
}

void wf__map_run_release(wf__map_run *r) {
  if (!r) return;
  /* A fan-out freed while its run still ran: the execution stopped (its
   * stop recorded the run's end: this one is not written). */
  pthread_mutex_lock(&r->lock);
  if (r->info.status == WF_MAP_RUN_RUNNING)
    end(r, NULL, WF_MAP_RUN_ABORTED, wf__engine_now(r->engine));
  r->frame = NULL;
  r->detached = true;
  shed(r);
  pthread_mutex_unlock(&r->lock);
  run_release(r);
}

void wf__map_run_children_out(wf__frame *p, size_t from, size_t n) {
  wf__map_run *r = p->fan->run;
  if (!r) return;
  wf_map_run_counts *x = &r->info.executions, *it = &r->info.items;
  pthread_mutex_lock(&r->lock);
  for (size_t i = from; i < from + n; i++)
    move(r, i, &x->pending, &x->running, &it->pending, &it->running);
  if (from + n > r->started) r->started = from + n;
  touch(r, p->exec, SIZE_MAX);
  pthread_mutex_unlock(&r->lock);
}

void wf__map_run_child_counted(wf__frame *p, size_t i, bool succeeded) {
  wf__map_run *r = p->fan->run;
  if (!r) return;
  wf_map_run_counts *x = &r->info.executions, *it = &r->info.items;
  pthread_mutex_lock(&r->lock);
  if (succeeded)
    move(r, i, &x->running, &x->succeeded, &it->running, &it->succeeded);
  else
    move(r, i, &x->running, &x->failed, &it->running, &it->failed);
  touch(r, p->exec, SIZE_MAX);
  pthread_mutex_unlock(&r->lock);
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
  touch(r, f->exec, SIZE_MAX);
  pthread_mutex_unlock(&r->lock);
}

/* ---- resumed ---- */

/* A share's view of its parent's run (map_shard.c): what its children's
 * records need (x->lock held). */
static int share_view(wf__map_run *r, wf__frame *f, const wf__state *st) {
  wf__strbuf m = WF__STRBUF_INIT;
  wf__map_machine_arn(&m, f, st);
  r->arn = wf__strdup(f->fan->map_run_arn);
  r->execution_arn = wf__strdup(f->exec->work->parent);
  r->machine_arn = wf__strbuf_take(&m);
  if (!r->arn || !r->execution_arn || !r->machine_arn) return WF_ENOMEM;
  r->info.map_run_arn = r->arn;
  r->info.execution_arn = r->execution_arn;
  r->info.state_machine_arn = r->machine_arn;
  r->info.status = WF_MAP_RUN_RUNNING;
  r->share = true;
  r->base = f->fan->base;
  r->started = f->fan->next;
  return WF_OK;
}

/* The run of f's fan-out read back from the store, or a share's view of
 * it (x->lock held). */
static void resume_run(wf__frame *f) {
  wf__fanout *fan = f->fan;
  wf_engine *e = f->exec->engine;
  const wf__state *st = f->scope->states[f->state];
  bool share = f->exec->work != NULL;
  int rc;
  json_t *doc = share ? NULL
                      : wf__map_run_doc_read(e, WF__DOC_MAP_RUN,
                                             fan->map_run_arn, &rc, NULL);
  registry *g = runs(e);
  wf__map_run *r = (doc || share) && g ? wf__calloc(1, sizeof *r) : NULL;
  if (!r) { /* not in the store (or no memory): it goes unlisted */
    json_decref(doc);
    return;
  }
  pthread_mutex_init(&r->lock, NULL);
  atomic_init(&r->refs, 1);
  r->children = fan->total;
  r->engine = e;
  r->listed = true;
  r->items = wf__calloc(fan->total ? fan->total : 1, sizeof *r->items);
  r->kids = wf__calloc(fan->total ? fan->total : 1, sizeof *r->kids);
  if (!r->items || !r->kids ||
      (share ? share_view(r, f, st) : wf__map_run_doc_load(r, doc)) != WF_OK) {
    json_decref(doc);
    run_release(r);
    return;
  }
  json_decref(doc);
  for (size_t i = 0; i < fan->total; i++) {
    r->items[i] = child_items(fan, i);
    wf__child_rec *k = &r->kids[i];
    k->status = WF__CHILD_PENDING;
    if (!fan->children[i]) continue;
    /* Running when the store last had it: its start is the store's. */
    k->status = WF_EXEC_RUNNING;
    k->input = json_incref(json_array_get(fan->items, i));
    json_t *c = wf__map_run_child_doc(e, r->arn, r->machine_arn, r->base + i,
                                      &rc, NULL);
    wf__map_run_child_restore(k, c);
    json_decref(c);
  }
  r->keep_history = keeps_history(e, st);
  r->express = st->express_children;
  if (st->result_writer && !fan->records)
    wf__map_run_restore_records(r, fan);
  r->frame = f;
  fan->run = r;
  /* A share's view is its own: the run is its parent's. */
  if (share) return;
  atomic_fetch_add(&r->refs, 1); /* the registry's and the fan-out's */
  enlist(g, r);
}

static void resume_frames(wf__frame *f) {
  if (!f || !f->fan) return;
  if (f->fan->distributed && f->fan->map_run_arn && !f->fan->run)
    resume_run(f);
  for (size_t i = 0; i < f->fan->total; i++)
    resume_frames(f->fan->children[i]);
}

void wf__map_run_resume(wf_execution *x) { resume_frames(x->top); }

/* ---- UpdateMapRun ---- */

/* The run named `arn` in the registry, a reference taken; NULL when
 * none. */
static wf__map_run *find_live(wf_engine *e, const char *arn) {
  registry *g = runs(e);
  wf__map_run *found = NULL;
  if (!g) return NULL;
  pthread_mutex_lock(&g->lock);
  for (wf__map_run *r = g->head; r && !found; r = r->next) {
    if (strcmp(r->arn, arn) != 0) continue;
    pthread_mutex_lock(&r->lock);
    if (!r->detached) { /* a redrive's run, not the one before it */
      atomic_fetch_add(&r->refs, 1);
      found = r;
    }
    pthread_mutex_unlock(&r->lock);
  }
  pthread_mutex_unlock(&g->lock);
  return found;
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
  wf__map_run *r = find_live(e, map_run_arn);
  wf_execution *x = NULL;
  if (r) wf_engine_find_execution(&x, e, r->execution_arn);
  if (x) pthread_mutex_lock(&x->lock);
  wf__frame *f = NULL;
  if (r) {
    pthread_mutex_lock(&r->lock);
    f = r->frame;
    pthread_mutex_unlock(&r->lock);
  }
  /* The frame is the run's only while its fan-out holds the run; both
   * change under the execution's lock, held here. */
  if (!x || !f || !f->fan || f->fan->run != r) {
    if (x) {
      pthread_mutex_unlock(&x->lock);
      wf_execution_free(x);
    }
    run_release(r);
    return wf__map_run_doc_update(e, map_run_arn, u, err);
  }
  pthread_mutex_lock(&r->lock);
  if (u->set & WF_MAP_RUN_SET_MAX_CONCURRENCY)
    r->info.max_concurrency = u->max_concurrency;
  if (u->set & WF_MAP_RUN_SET_TOLERATED_COUNT)
    r->info.tolerated_failure_count = u->tolerated_failure_count;
  if (u->set & WF_MAP_RUN_SET_TOLERATED_PERCENTAGE)
    r->info.tolerated_failure_percentage = u->tolerated_failure_percentage;
  touch(r, x, SIZE_MAX);
  pthread_mutex_unlock(&r->lock);
  apply(f->fan, f, u);
  /* Answered once the change is in the store. */
  uint64_t ticket = wf__commit_request(x, 0, NULL);
  pthread_mutex_unlock(&x->lock);
  int rc = wf__commit_wait(x, ticket);
  wf_execution_free(x);
  run_release(r);
  return rc == WF_OK ? WF_OK
                     : wf__error_set(err, rc, NULL,
                                     "the change could not be committed");
}
