/* Commits: how an execution's progress reaches its store, and what waits
 * for it. The commit rule: nothing outside the engine relies on a
 * transition before it is committed — a start is answered, a task token
 * handed out, an event shown to a listener or the log, and an end reported
 * only afterwards.
 *
 * A commit is requested at those points, with the execution's lock held:
 * the request takes a snapshot of the execution (its record, and for a
 * durable store the state that resumes it) and the events recorded since
 * the last one. With a volatile store (memory) it is applied at once, on
 * the requesting thread. With a durable one it is queued for the
 * committer thread, which writes everything queued in one transaction
 * (group commit: one fsync for many executions, never an added delay),
 * then carries out what waited for it. Requests of an execution whose
 * last one is still queued join it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock_impl.h"
#include "error.h"
#include "json_text.h"
#include "step.h"

/* Ended executions pruned per round, and how often a round may run. */
#define PRUNE_BATCH 64
#define PRUNE_EVERY_MS 1000

typedef struct wf__commit_item {
  wf_execution *x; /* a reference */
  uint64_t ticket;
  bool start, final;
  wf_store_execution rec; /* borrowed from x but for the owned fields */
  char *output, *error, *cause, *state; /* owned */
  wf__event *events; /* taken from x */
  size_t nevents, cap;
  char **json; /* each event rendered, when stored or listened to */
  wf_task **calls; /* handlers to call once committed (references) */
  size_t ncalls;
  wf__docs docs;    /* Map Run records (map_run.c) */
  wf__rows rows;    /* units of work handed out (map_shard.c) */
  bool definition; /* the machine's definition goes with it */
  /* The request whose view of x the item holds (record, state, events up
   * to it); `stale` when calls of later requests joined it without
   * taking theirs, to be taken when it is written (refresh). */
  uint64_t taken;
  bool stale;
  int error_code;  /* the commit failed (a start: reported to its caller) */
  struct wf__commit_item *next;
} wf__commit_item;

typedef struct wf__committer {
  pthread_mutex_t mu;
  pthread_cond_t work; /* the thread waits for items */
  pthread_cond_t done; /* waiters wait for their tickets */
  wf__commit_item *head, *tail;
  bool stop;
  pthread_t thread;
  bool running;
  _Atomic int64_t last_prune_ms;
  atomic_size_t finals_since_prune;
} wf__committer;

/* ---- items ---- */

static void item_free(wf__commit_item *it) {
  for (size_t i = 0; i < it->nevents; i++) {
    wf__event_free(&it->events[i]);
    if (it->json) wf__free(it->json[i]);
  }
  wf__free(it->events);
  wf__free(it->json);
  for (size_t i = 0; i < it->ncalls; i++) wf__task_release(it->calls[i]);
  wf__free(it->calls);
  wf__free(it->output);
  wf__free(it->error);
  wf__free(it->cause);
  wf__free(it->state);
  wf__docs_free(&it->docs);
  wf__rows_free(&it->rows);
  if (it->x) wf__exec_release(it->x);
  wf__free(it);
}

void wf__docs_free(wf__docs *d) {
  for (size_t i = 0; i < d->n; i++) {
    wf__free((char *)d->v[i].kind);
    wf__free((char *)d->v[i].key);
    wf__free((char *)d->v[i].body);
  }
  wf__free(d->v);
  *d = (wf__docs){0};
}

bool wf__docs_move(wf__docs *to, wf__docs *d) {
  if (!d->n) return true;
  if (to->n + d->n > to->cap) {
    size_t cap = to->n + d->n + 8;
    wf_store_document *v = wf__realloc(to->v, cap * sizeof *v);
    if (!v) return false;
    to->v = v;
    to->cap = cap;
  }
  memcpy(to->v + to->n, d->v, d->n * sizeof *d->v);
  to->n += d->n;
  d->n = 0;
  return true;
}

static char *dup_or_null(const char *s) { return s ? wf__strdup(s) : NULL; }

/* AWS keeps no history for an Express execution, and bounds it only by
 * its duration: a loop through Wait 0 makes millions of events in that
 * time. Its events still reach listeners and the log, but the store keeps
 * only as many as a Standard execution may have. */
static bool kept_event(const wf_execution *x, int64_t id) {
  return x->machine->type != WF_MACHINE_EXPRESS || id <= WF__HISTORY_LIMIT;
}

static int64_t kept_events(const wf_execution *x) {
  int64_t n = x->next_event_id - 1;
  return kept_event(x, n) ? n : WF__HISTORY_LIMIT;
}

/* The execution's record as it stands (x->lock held). */
static void fill_record(wf__commit_item *it, wf_execution *x) {
  wf_engine *e = x->engine;
  wf__free(it->output);
  wf__free(it->error);
  wf__free(it->cause);
  it->output = it->error = it->cause = NULL;
  const void *value = NULL;
  if (x->ended) {
    /* A backend in memory keeps the value itself: no text to make. */
    if (x->end_status == WF_EXEC_SUCCEEDED &&
        (e->store->ops->flags & WF_STORE_TAKES_VALUES))
      value = x->output ? x->output : json_null();
    else if (x->end_status == WF_EXEC_SUCCEEDED)
      it->output = wf__json_dumps(x->output ? x->output : json_null());
    it->error = dup_or_null(x->error);
    it->cause = dup_or_null(x->cause);
  }
  it->rec = (wf_store_execution){
      .arn = x->arn,
      .name = x->name,
      .machine_name = x->machine->name,
      .machine_arn = x->machine_arn,
      .definition_id = x->machine->digest,
      .status = x->ended ? (int)x->end_status : WF_EXEC_RUNNING,
      .start_ms = x->start_ms,
      .stop_ms = x->ended ? x->stop_ms : 0,
      .input = x->input_text,
      .output = it->output,
      .error = it->error,
      .cause = it->cause,
      .correlation_id = x->correlation_id,
      .role_arn = x->role_arn ? x->role_arn : e->role_arn,
      .event_count = e->history == WF_HISTORY_FULL ? kept_events(x) : 0,
      .output_value = value,
  };
}

/* Move x's pending events into a new item, rendered as the store and
 * listeners will read them (x->lock held). The item takes x's array as it
 * is: an execution that now waits keeps none (a new one is made at its
 * next event). False on out-of-memory: they stay on x. */
static bool take_events(wf__commit_item *it, wf_execution *x) {
  if (!x->nevents) return true;
  wf_engine *e = x->engine;
  bool render = e->history == WF_HISTORY_FULL || e->nlisteners;
  size_t n = x->nevents;
  it->json = wf__calloc(n, sizeof *it->json);
  if (!it->json) return false;
  it->events = x->events;
  it->cap = x->cap;
  it->nevents = n;
  x->events = NULL;
  x->cap = x->nevents = 0;
  if (render) {
    /* One buffer, grown once, renders every event; each text is then
     * copied at its size (growing a buffer per event reallocated it
     * several times for each). */
    wf__render_cache cache = {0};
    wf__strbuf b = WF__STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
      wf__strbuf_reset(&b);
      wf__event_render(&b, x, &it->events[i], &cache);
      it->json[i] = b.oom ? NULL : wf__strndup(b.data ? b.data : "", b.len);
    }
    wf__strbuf_free(&b);
    wf__render_cache_free(&cache);
  }
  /* The payloads are in the text now: let them go here, on a stepping
   * thread, rather than on the committer's (the listeners and the log
   * read the text and the event's own fields). */
  for (size_t i = 0; i < n; i++) {
    json_decref(it->events[i].data);
    it->events[i].data = NULL;
    json_decref(it->events[i].assigned);
    it->events[i].assigned = NULL;
  }
  return true;
}

/* The state that resumes x (x->lock held): none once it has ended, but
 * what a redrive or a description of its redrives needs. */
static char *state_of(wf_execution *x) {
  if (x->engine->durable && !x->ended) return wf__snapshot_encode(x);
  if (x->ended && x->redrive_state) return wf__strdup(x->redrive_state);
  if (!x->ended && x->redrive_count) /* its redrives, for describing */
    return wf__snapshot_encode_redrives(x);
  return NULL;
}

/* Fill an item with x as it stands (x->lock held): its record and state,
 * the events recorded since the last item took them and the Map Run
 * records changed since. Out of memory, events and records stay on x for
 * the next item. */
static void take_content(wf__commit_item *n, wf_execution *x) {
  fill_record(n, x);
  wf__free(n->state);
  n->state = state_of(x);
  take_events(n, x);
  wf__map_run_take_docs(x, &n->docs);
  wf__shard_take(x, &n->rows, &n->docs);
  n->taken = n->ticket;
  n->stale = false;
}

/* Room in it->calls for `more` calls; false without the memory. */
static bool reserve_calls(wf__commit_item *it, size_t more) {
  if (!more) return true;
  wf_task **calls = wf__realloc(it->calls, (it->ncalls + more) * sizeof *calls);
  if (!calls) return false;
  it->calls = calls;
  return true;
}

/* Move from's calls after to's (room reserved). */
static void move_calls(wf__commit_item *to, wf__commit_item *from) {
  if (!from->ncalls) return;
  memcpy(to->calls + to->ncalls, from->calls, from->ncalls * sizeof *to->calls);
  to->ncalls += from->ncalls;
  from->ncalls = 0;
}

/* Move n's content into `it`, n's record and state replacing its own,
 * n's events, records and calls after its own (`it` queued: c->mu held;
 * or the committer's). False, and nothing moved, without the memory. */
static bool absorb(wf__commit_item *it, wf__commit_item *n) {
  size_t nev = it->nevents + n->nevents;
  if (n->nevents) {
    wf__event *evs = wf__realloc(it->events, nev * sizeof *evs);
    if (!evs) return false;
    it->events = evs;
    char **json = wf__realloc(it->json, nev * sizeof *json);
    if (!json) return false;
    it->json = json;
  }
  if (!reserve_calls(it, n->ncalls)) return false;
  if (!wf__docs_move(&it->docs, &n->docs)) return false;
  if (!wf__rows_move(&it->rows, &n->rows)) return false;
  if (n->nevents) {
    memcpy(it->events + it->nevents, n->events, n->nevents * sizeof *n->events);
    memcpy(it->json + it->nevents, n->json, n->nevents * sizeof *n->json);
    it->nevents = it->cap = nev;
    n->nevents = 0;
  }
  move_calls(it, n);
  wf__free(it->output);
  wf__free(it->error);
  wf__free(it->cause);
  wf__free(it->state);
  it->rec = n->rec;
  it->output = n->output;
  it->error = n->error;
  it->cause = n->cause;
  it->state = n->state;
  it->rec.output = it->output;
  it->rec.error = it->error;
  it->rec.cause = it->cause;
  n->output = n->error = n->cause = n->state = NULL;
  if (n->ticket > it->ticket) it->ticket = n->ticket;
  it->taken = n->taken;
  it->stale = n->stale;
  it->start |= n->start;
  it->final |= n->final;
  it->definition |= n->definition;
  return true;
}

/* A request joining a queued item (with its call, if any) whose content
 * is then taken when it is written (c->mu held). False without the
 * memory. */
static bool join_later(wf__commit_item *it, uint64_t ticket, wf_task *call,
                       bool known) {
  if (call) {
    if (!reserve_calls(it, 1)) return false;
    it->calls[it->ncalls++] = wf__task_ref(call);
  }
  it->ticket = ticket;
  it->stale = true;
  it->definition |= !known;
  return true;
}

/* Queue an item for the committer (c->mu held). */
static void enqueue(wf_engine *e, wf__commit_item *n) {
  wf__committer *c = e->committer;
  wf__sched_busy_begin(&e->sched); /* virtual time waits for the commit */
  n->x->queued = n;
  if (c->tail) c->tail->next = n;
  else c->head = n;
  c->tail = n;
  pthread_cond_signal(&c->work);
}

/* ---- carrying out what waited ---- */

static void announce(wf__commit_item *it) {
  wf_execution *x = it->x;
  wf_engine *e = x->engine;
  for (size_t i = 0; i < it->nevents; i++) {
    const wf__event *ev = &it->events[i];
    const char *type = wf__event_type_name(ev);
    if (e->nlisteners && it->json[i]) {
      wf_event pub = {ev->id, ev->prev, ev->ts, type, x->arn, it->json[i]};
      pthread_rwlock_rdlock(&e->hlock);
      for (size_t k = 0; k < e->nlisteners; k++)
        e->listeners[k].cb(&pub, e->listeners[k].payload);
      pthread_rwlock_unlock(&e->hlock);
    }
    wf__event_note note = {x, ev, type};
    for (size_t k = 0; k < e->nsinks; k++)
      e->sinks[k].fn(&note, e->sinks[k].payload);
  }
}

/* After the item's commit (or its failure). No lock held but, for a
 * volatile store, the execution's own: what runs here must not need it. */
static void after(wf_engine *e, wf__commit_item *it) {
  wf_execution *x = it->x;
  if (!it->error_code) {
    atomic_store(&x->committed_events, it->rec.event_count);
    announce(it);
    if (it->final) wf__exec_visible_end(x);
    if (it->final && x->work) wf__share_poke(e);
    for (size_t i = 0; i < it->ncalls; i++) wf__task_call_committed(it->calls[i]);
  } else {
    /* Not committed: no call (its execution goes on elsewhere, or never
     * started). */
    for (size_t i = 0; i < it->ncalls; i++) wf__task_call_dropped(it->calls[i]);
  }
  if (!e->durable) {
    /* Applied on the requesting thread: nobody waits for it. */
    x->commit_done = it->ticket;
    if (it->error_code && it->start) x->commit_error = it->error_code;
    return;
  }
  wf__committer *c = e->committer;
  pthread_mutex_lock(&c->mu);
  if (it->error_code && it->start) x->commit_error = it->error_code;
  if (x->commit_done < it->ticket) x->commit_done = it->ticket;
  pthread_cond_broadcast(&c->done);
  pthread_mutex_unlock(&c->mu);
}

/* ---- applying ---- */

/* Write a list of items as one batch. */
static int write_items(wf_engine *e, wf__commit_item *items, wf_error *err) {
  size_t nx = 0, nev = 0, ndef = 0, ndoc = 0;
  for (wf__commit_item *it = items; it; it = it->next) {
    nx += 1 + it->rows.n;
    if (e->history == WF_HISTORY_FULL) nev += it->nevents;
    ndef += it->definition;
    ndoc += it->docs.n;
  }
  wf_store_document *docs = wf__malloc((ndoc ? ndoc : 1) * sizeof *docs);
  const char **owners = wf__malloc((ndoc ? ndoc : 1) * sizeof *owners);
  wf_store_execution *recs = wf__malloc((nx ? nx : 1) * sizeof *recs);
  wf_store_event *evs = wf__malloc((nev ? nev : 1) * sizeof *evs);
  wf_store_definition *defs = wf__malloc((ndef ? ndef : 1) * sizeof *defs);
  char **opts = wf__calloc(ndef ? ndef : 1, sizeof *opts);
  unsigned *flags = wf__calloc(nx ? nx : 1, sizeof *flags);
  int rc = WF_OK;
  if (!recs || !evs || !defs || !opts || !docs || !owners || !flags) {
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    goto done;
  }
  nx = nev = ndef = ndoc = 0;
  for (wf__commit_item *it = items; it; it = it->next) {
    wf_execution *x = it->x;
    /* Later items' records of a Map Run come after earlier ones'. An
     * execution's documents are pruned with it. */
    for (size_t i = 0; i < it->docs.n; i++) {
      owners[ndoc] = WF__EXEC_SHOWN_ARN(x);
      docs[ndoc++] = it->docs.v[i];
    }
    flags[nx] = x->work ? WF_STORE_EXEC_WORK : 0;
    recs[nx] = it->rec;
    recs[nx++].state = it->state;
    /* The units of work it hands out, after it. */
    for (size_t i = 0; i < it->rows.n; i++) {
      flags[nx] = WF_STORE_EXEC_WORK | WF_STORE_EXEC_OFFER;
      recs[nx++] = it->rows.v[i];
    }
    if (it->definition) {
      opts[ndef] = wf__machine_options_json(x->machine);
      defs[ndef] = (wf_store_definition){
          x->machine->digest, x->machine->name, (int)x->machine->type,
          x->machine->definition, opts[ndef]};
      ndef++;
    }
    if (e->history != WF_HISTORY_FULL) continue;
    for (size_t i = 0; i < it->nevents; i++) {
      const wf__event *ev = &it->events[i];
      if (!kept_event(x, ev->id)) continue;
      evs[nev++] = (wf_store_event){x->arn, ev->id, ev->prev, ev->ts,
                                    wf__event_type_name(ev), it->json[i]};
    }
  }
  wf_store_batch b = {.definitions = defs, .ndefinitions = ndef,
                      .executions = recs, .nexecutions = nx,
                      .events = evs, .nevents = nev,
                      .documents = docs, .ndocuments = ndoc,
                      .document_owners = owners,
                      .execution_flags =
                          wf__store_shared(e->store) ? flags : NULL};
  rc = wf__store_commit(e->store, &b, err);
done:
  wf__free(docs);
  wf__free(owners);
  wf__free(flags);
  for (size_t i = 0; opts && i < ndef; i++) wf__free(opts[i]);
  wf__free(opts);
  wf__free(defs);
  wf__free(evs);
  wf__free(recs);
  return rc;
}

/* Definitions now stored. */
static void note_definitions(wf_engine *e, wf__commit_item *items) {
  for (wf__commit_item *it = items; it; it = it->next)
    if (it->definition)
      atomic_store(&it->x->machine->stored_in, (const void *)e->store);
}

/* Prune ended executions a little at a time: after every PRUNE_BATCH
 * ends (so a count limit holds closely) or once a second (for the age
 * limit), whichever comes first. */
static void maybe_prune(wf_engine *e, size_t finals) {
  wf__committer *c = e->committer;
  size_t since = atomic_fetch_add(&c->finals_since_prune, finals) + finals;
  int64_t now = wf__engine_now(e);
  if (since < PRUNE_BATCH &&
      (!since || now - atomic_load(&c->last_prune_ms) < PRUNE_EVERY_MS))
    return;
  /* One thread prunes: the one that takes the count. */
  if (!atomic_compare_exchange_strong(&c->finals_since_prune, &since, 0))
    return;
  atomic_store(&c->last_prune_ms, now);
  wf_error err;
  if (wf_store_prune(e->store, now, since + PRUNE_BATCH, NULL, &err) != WF_OK)
    wf__log_engine(e, WF_LOG_WARN, "StorePruneFailed", err.message);
}

/* ---- the durable path: the committer thread ---- */

static void log_failure(wf_engine *e, const wf_error *err, int attempt) {
  char msg[sizeof err->message + 64];
  snprintf(msg, sizeof msg, "%s (attempt %d; written again after a pause)",
           err->message, attempt);
  wf__log_engine(e, WF_LOG_ERROR, "StoreCommitFailed", msg);
}

/* Take out the items of executions nothing more is written of (lost:
 * their lease went to another process, or their start was refused);
 * false when there were none. */
static bool drop_lost_items(wf_engine *e, wf__commit_item **items) {
  bool any = false;
  wf__commit_item **pp = items;
  while (*pp) {
    wf__commit_item *it = *pp;
    if (!atomic_load(&it->x->lost)) {
      pp = &it->next;
      continue;
    }
    *pp = it->next;
    any = true;
    it->error_code = WF_ECANCELED;
    after(e, it);
    item_free(it);
    wf__sched_busy_end(&e->sched);
  }
  return any;
}

/* A stale item the committer took (no lock held): what x has become is
 * taken into it if x's lock is free (a thread holding it may be waiting
 * for this very batch: the committer never waits for it) and no newer
 * item of x is queued
 * (whose content would then be older than this one's). Otherwise what
 * joined it goes to x's next item, queued now if there is none (its
 * calls with it, its content taken when that one is written), and the
 * item is written as it was taken: whole up to `taken`; or, if
 * it holds nothing of its own (calls only), it is queued again after
 * x's newer item, and false is returned (not written now). */
static bool refresh(wf_engine *e, wf__commit_item *it) {
  wf_execution *x = it->x;
  wf__committer *c = e->committer;
  bool locked = pthread_mutex_trylock(&x->lock) == 0;
  pthread_mutex_lock(&c->mu);
  wf__commit_item *next = x->queued;
  wf__commit_item *now = NULL;
  if (locked && !next && !atomic_load(&x->lost) &&
      (now = wf__calloc(1, sizeof *now))) {
    pthread_mutex_unlock(&c->mu);
    now->x = wf__exec_ref(x);
    now->ticket = it->ticket;
    take_content(now, x);
    pthread_mutex_unlock(&x->lock);
    if (absorb(it, now)) {
      item_free(now);
    } else {
      /* No memory to join: it goes right after, in the same batch. */
      wf__sched_busy_begin(&e->sched);
      now->next = it->next;
      it->next = now;
      it->stale = false;
    }
    return true;
  }
  if (locked) pthread_mutex_unlock(&x->lock);
  if (!it->taken) {
    it->next = NULL;
    enqueue(e, it);
    pthread_mutex_unlock(&c->mu);
    return false;
  }
  /* What joined this item must still be written: by x's next item, queued
   * now if there is none (a Wait entered at the end of a turn would wait
   * for its end otherwise). */
  if (!next && !atomic_load(&x->lost) &&
      (next = wf__calloc(1, sizeof *next))) {
    next->x = wf__exec_ref(x);
    next->stale = true; /* empty: taken when written */
    enqueue(e, next);
  }
  /* Without the memory the calls stay: made once this batch is written,
   * before x's newest state is (a handler at most once more after a
   * crash, as with a store that is not shared). */
  if (next && reserve_calls(next, it->ncalls)) {
    move_calls(next, it);
    if (it->ticket > next->ticket) next->ticket = it->ticket;
    it->ticket = it->taken;
  }
  pthread_mutex_unlock(&c->mu);
  it->stale = false;
  return true;
}

static void *committer_main(void *arg) {
  wf_engine *e = arg;
  wf__committer *c = e->committer;
  pthread_mutex_lock(&c->mu);
  for (;;) {
    while (!c->head && !c->stop) pthread_cond_wait(&c->work, &c->mu);
    if (!c->head) break;
    wf__commit_item *items = c->head;
    c->head = c->tail = NULL;
    for (wf__commit_item *it = items; it; it = it->next)
      if (it->x->queued == it) it->x->queued = NULL;
    pthread_mutex_unlock(&c->mu);
    drop_lost_items(e, &items);
    for (wf__commit_item **pp = &items; *pp;) {
      wf__commit_item *it = *pp, *rest = it->next;
      if (!it->stale || refresh(e, it)) {
        pp = &it->next;
      } else {
        *pp = rest; /* queued again */
        wf__sched_busy_end(&e->sched);
      }
    }
    if (!items) {
      /* All queued again, their executions' locks busy: a moment for
       * those threads (a new request ends the pause). */
      struct timespec pause = wf__timespec_in(CLOCK_REALTIME, 200);
      pthread_mutex_lock(&c->mu);
      pthread_cond_timedwait(&c->work, &c->mu, &pause);
      continue;
    }
    wf_error err;
    int rc, attempt = 0;
    int64_t backoff = 50;
    while ((rc = write_items(e, items, &err)) != WF_OK) {
      /* Leases lost (a shared store: the batch was refused, or one lost
       * and forgotten was written as new): those executions go on
       * elsewhere; the rest is written again at once. */
      if (e->share) wf__share_drop_lost(e);
      if (e->share && drop_lost_items(e, &items)) {
        if (!items) break;
        continue;
      }
      log_failure(e, &err, ++attempt);
      /* A start is answered with the failure (it never became visible);
       * nothing more of that execution is written (as if lost): a later
       * item of it would make it exist after all, run by nobody. The
       * rest is written again after a pause. */
      wf__commit_item **pp = &items;
      while (*pp) {
        wf__commit_item *it = *pp;
        if (it->start) {
          *pp = it->next;
          it->error_code = rc;
          atomic_store(&it->x->lost, true);
          after(e, it);
          wf__exec_abandon(it->x);
          item_free(it);
          wf__sched_busy_end(&e->sched);
        } else {
          pp = &it->next;
        }
      }
      drop_lost_items(e, &items);
      if (!items) break;
      struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000};
      nanosleep(&ts, NULL);
      if (backoff < 5000) backoff *= 2;
    }
    size_t finals = 0;
    note_definitions(e, items);
    while (items) {
      wf__commit_item *it = items;
      items = it->next;
      finals += it->final;
      after(e, it);
      item_free(it);
      wf__sched_busy_end(&e->sched);
    }
    maybe_prune(e, finals);
    pthread_mutex_lock(&c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

/* ---- requests ---- */

uint64_t wf__commit_request(wf_execution *x, unsigned flags, wf_task *call) {
  wf_engine *e = x->engine;
  wf__committer *c = e->committer;
  x->dirty = false;
  uint64_t ticket = ++x->commit_requested;
  /* Another process runs it now, or its start failed: nothing of it is
   * written here, no call made. */
  if (atomic_load(&x->lost)) {
    if (call) wf__task_call_dropped(call);
    return ticket;
  }
  if (x->probe) {
    /* A TestState run is kept nowhere and told to no listener: what a
     * commit would release takes effect at once. */
    if (flags & WF__COMMIT_FINAL) wf__exec_visible_end(x);
    if (call) wf__task_call_committed(call);
    x->commit_done = ticket;
    return ticket;
  }
  /* The machine remembers the last store it was written to. */
  bool known = atomic_load(&x->machine->stored_in) == (const void *)e->store;
  if (e->durable && (call || (flags & WF__COMMIT_LATER)) &&
      !(flags & (WF__COMMIT_START | WF__COMMIT_FINAL))) {
    /* Nobody waits for this request, and an item of x is queued: it joins
     * the item, and what x has become is taken when the item is written
     * (refresh), once rather than at every such request (a fan-out of
     * many tasks made one each). */
    pthread_mutex_lock(&c->mu);
    bool joined = x->queued && join_later(x->queued, ticket, call, known);
    pthread_mutex_unlock(&c->mu);
    if (joined) return ticket;
  }
  /* The committer takes queued items without x's lock: build a new item,
   * then join the queued one (if any is still queued) under its lock. */
  wf__commit_item *n = wf__calloc(1, sizeof *n);
  if (!n) {
    /* No memory: the next request carries what this one would have.
     * With a volatile store nothing waits for a write that cannot
     * happen: an end or a task call takes effect unwritten (a durable
     * store's requests always get their item, or its caller fails). */
    if (!e->durable) {
      if (flags & WF__COMMIT_FINAL) wf__exec_visible_end(x);
      if (call) wf__task_call_committed(call);
      x->commit_done = ticket;
    }
    return ticket;
  }
  n->x = wf__exec_ref(x);
  n->ticket = ticket;
  n->start = flags & WF__COMMIT_START;
  n->final = flags & WF__COMMIT_FINAL;
  n->definition = !known;
  take_content(n, x);
  bool call_kept = false;
  if (call) {
    n->calls = wf__malloc(sizeof *n->calls);
    if (n->calls) n->calls[n->ncalls++] = wf__task_ref(call);
    call_kept = n->calls != NULL;
  }
  if (!e->durable) {
    /* Volatile: write now, on this thread; a write short of memory is
     * tried again (a later one would find a gap in the history). An end
     * is never left unseen for want of a write: a volatile store's end
     * takes effect whatever the write did (the execution's own copy
     * answers). */
    wf_error err;
    n->error_code = write_items(e, n, &err);
    for (int again = 0; again < 3 && n->error_code == WF_ENOMEM; again++)
      n->error_code = write_items(e, n, &err);
    if (n->final) n->error_code = 0;
    if (call && !call_kept) wf__task_call_committed(call);
    if (!n->error_code && n->definition)
      atomic_store(&x->machine->stored_in, (const void *)e->store);
    after(e, n);
    if (n->final) maybe_prune(e, 1);
    item_free(n);
    return ticket;
  }
  pthread_mutex_lock(&c->mu);
  /* Join the queued item; if it cannot (no memory), go after it. */
  if (x->queued && absorb(x->queued, n)) {
    pthread_mutex_unlock(&c->mu);
    item_free(n);
    return ticket;
  }
  enqueue(e, n);
  pthread_mutex_unlock(&c->mu);
  return ticket;
}

int wf__commit_wait(wf_execution *x, uint64_t ticket) {
  /* A volatile store's commits are done when requested. */
  if (!x->engine->durable) return x->commit_error;
  wf__committer *c = x->engine->committer;
  pthread_mutex_lock(&c->mu);
  while (x->commit_done < ticket && !atomic_load(&x->lost))
    pthread_cond_wait(&c->done, &c->mu);
  /* A start that failed says how; an execution lost otherwise goes on
   * elsewhere. */
  int rc = x->commit_error          ? x->commit_error
           : atomic_load(&x->lost) ? WF_ECANCELED
                                   : WF_OK;
  pthread_mutex_unlock(&c->mu);
  return rc;
}

/* ---- the committer's life ---- */

int wf__commit_init(wf_engine *e, wf_error *err) {
  wf__committer *c = wf__calloc(1, sizeof *c);
  if (!c) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->work, NULL);
  pthread_cond_init(&c->done, NULL);
  e->committer = c;
  if (!e->durable) return WF_OK;
  if (pthread_create(&c->thread, NULL, committer_main, e) != 0)
    return wf__error_set(err, WF_EINTERNAL, NULL,
                         "cannot start the store's committer thread");
  c->running = true;
  return WF_OK;
}

void wf__commit_fini(wf_engine *e) {
  wf__committer *c = e->committer;
  if (!c) return;
  pthread_mutex_lock(&c->mu);
  c->stop = true;
  pthread_cond_signal(&c->work);
  pthread_mutex_unlock(&c->mu);
  /* The thread writes what is queued before it ends. */
  if (c->running) pthread_join(c->thread, NULL);
  pthread_cond_destroy(&c->work);
  pthread_cond_destroy(&c->done);
  pthread_mutex_destroy(&c->mu);
  wf__free(c);
  e->committer = NULL;
}
