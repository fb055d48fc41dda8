/* A Distributed Map's children spread over the workers of a shared store.
 *
 * On a shared store (wf_store_ops.claim) a Distributed Map's children are
 * cut into shares, each handed out with the parent's commit as a unit of
 * work (WF_STORE_EXEC_WORK): an execution of the parent's machine whose
 * one frame is the Map state with its share of the items (and the index
 * of its first, `base`), which runs them as the parent would run them:
 * each child an execution of its own, with its history and record, in
 * the same documents. Any worker claims a share (claim_work, polled every
 * few milliseconds; claim, for the shares of a worker that died), runs it
 * under its lease like any execution and, at its end, writes one
 * document saying how each of its children ended (kind SHARD_DONE and the
 * run's ARN, key the share), in the commit that writes the children's
 * last records; the store deletes the unit then.
 *
 * The parent's worker polls its runs' end documents and folds them in as
 * its own children's ends: results, tolerated failures, ResultWriter
 * records, the failed children's kept state for a redrive, the run's
 * counts; the commit that writes the parent so moves the documents it
 * folded to another kind (what is read is what is left, whatever order
 * concurrent commits made them visible in; one read twice folds once),
 * where a parent resumed elsewhere reads its results back (its state
 * keeps none of them), deleted when the Map succeeds. A
 * redrive of the run reruns its children here, as frames. The Map
 * failing, or the parent stopping, stops the shares still out. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "map_data.h"
#include "step.h"

/* A share's end: its children's ends (SHARD_FOLDED, the run's ARN; key
 * the share), and a small mark that it is there to fold in (SHARD_DONE),
 * which the parent's worker polls for and deletes as it folds. */
#define SHARD_DONE "wf.mapShardDone "
/* Read back when the parent resumes: its state keeps no results. */
#define SHARD_FOLDED "wf.mapShardEnd "
/* The items (and keys) of a Map whose children are spread: written once,
 * read back when the parent resumes. */
#define SHARD_ITEMS "wf.mapShardItems "

/* Children per share: a share per MAX_SHARES-th of the children, within
 * [1, MAX_SHARE] (and MaxConcurrency). */
#define MAX_SHARES 64
#define MAX_SHARE 256
/* Units of work this process runs at once before it takes more only one
 * at a time (so that other workers find some). */
#define WORK_SLOTS 4
/* Polling: at once again after finding something, then backing off from
 * POLL_MIN_MS to POLL_MAX_MS. */
#define POLL_MIN_MS 5
#define POLL_MAX_MS 100

/* ---- the engine's waiting parents and stops ---- */

typedef struct watch {
  wf_execution *x; /* a reference */
  char *run_arn;
  char *kind; /* SHARD_DONE and the run's ARN: the marks polled */
  char *ends; /* SHARD_FOLDED and the run's ARN: the ends read */
  json_t *given; /* the keys of the ends handed to it */
  struct watch *next;
} watch;

typedef struct shard_reg {
  pthread_mutex_t mu;
  watch *watches;
  char **stops; /* shares to stop (ARNs) */
  size_t nstops, stops_cap;
  int64_t poll_ms;
  unsigned busy_polls; /* polls with every slot taken */
} shard_reg;

static const char REG_KEY = 0;

static void watch_free(watch *w) {
  wf__exec_release(w->x);
  wf__free(w->run_arn);
  wf__free(w->kind);
  wf__free(w->ends);
  json_decref(w->given);
  wf__free(w);
}

static void *reg_new(wf_engine *e) {
  (void)e;
  shard_reg *g = wf__calloc(1, sizeof *g);
  if (!g) return NULL;
  pthread_mutex_init(&g->mu, NULL);
  g->poll_ms = POLL_MIN_MS;
  return g;
}

static void reg_teardown(wf_engine *e, void *data) {
  (void)e;
  shard_reg *g = data;
  for (watch *w = g->watches, *next; w; w = next) {
    next = w->next;
    watch_free(w);
  }
  for (size_t i = 0; i < g->nstops; i++) wf__free(g->stops[i]);
  wf__free(g->stops);
  pthread_mutex_destroy(&g->mu);
  wf__free(g);
}

static shard_reg *reg(wf_engine *e) {
  return wf__engine_attachment(e, &REG_KEY, reg_new, reg_teardown);
}

/* ---- rows written with a commit ---- */

static void row_clear(wf_store_execution *r) {
  const char *owned[] = {r->arn, r->name, r->machine_name, r->machine_arn,
                         r->definition_id, r->input, r->correlation_id,
                         r->role_arn, r->state};
  for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
    wf__free((char *)owned[i]);
}

void wf__rows_free(wf__rows *r) {
  for (size_t i = 0; i < r->n; i++) row_clear(&r->v[i]);
  wf__free(r->v);
  *r = (wf__rows){0};
}

static bool rows_room(wf__rows *to, size_t more) {
  if (to->n + more <= to->cap) return true;
  size_t cap = to->n + more + 8;
  wf_store_execution *v = wf__realloc(to->v, cap * sizeof *v);
  if (!v) return false;
  to->v = v;
  to->cap = cap;
  return true;
}

bool wf__rows_move(wf__rows *to, wf__rows *r) {
  if (!r->n) return true;
  if (!rows_room(to, r->n)) return false;
  memcpy(to->v + to->n, r->v, r->n * sizeof *r->v);
  to->n += r->n;
  r->n = 0;
  return true;
}

/* Share k's document of `prefix` (and the run `run_arn`) appended to
 * `to`: written (`write`, body taken: NULL when it could not be made) or
 * deleted; false when out of memory (nothing appended). */
static bool push_doc(wf__docs *to, const char *prefix, const char *run_arn,
                     size_t k, bool write, char *body) {
  wf__strbuf kind = WF__STRBUF_INIT, key = WF__STRBUF_INIT;
  wf__strbuf_printf(&kind, "%s%s", prefix, run_arn);
  wf__strbuf_printf(&key, "%zu", k);
  wf_store_document d = {wf__strbuf_take(&kind), wf__strbuf_take(&key), body,
                         0};
  wf__docs one = {&d, 1, 1};
  if (d.kind && d.key && (body || !write) && wf__docs_move(to, &one))
    return true;
  wf__free((char *)d.kind);
  wf__free((char *)d.key);
  wf__free(body);
  return false;
}

void wf__shard_take(wf_execution *x, wf__rows *rows, wf__docs *docs) {
  /* Out of memory: with the next. */
  wf__rows_move(rows, &x->work_rows);
  wf__docs_move(docs, &x->work_docs);
  wf__work *w = x->work;
  if (!w || !w->done || w->done_taken) return;
  /* Both or, out of memory, again with the next commit (upserts). */
  w->done_taken = push_doc(docs, SHARD_FOLDED, w->run_arn, w->shard, true,
                           wf__strdup(w->done)) &&
                  push_doc(docs, SHARD_DONE, w->run_arn, w->shard, true,
                           wf__strdup("{}"));
}

/* ---- the unit of work ---- */

json_t *wf__work_encode(const wf__work *w) {
  return json_pack("{s:s,s:s,s:I,s:s,s:I}", "parent", w->parent, "parentName",
                   w->parent_name, "shard", (json_int_t)w->shard, "run",
                   w->run_arn, "base", (json_int_t)w->base);
}

static int keep_input(const wf_store_execution *r, void *p) {
  *(json_t **)p = json_loads(r->input ? r->input : "null", JSON_DECODE_ANY,
                             NULL);
  return 1;
}

json_t *wf__work_input(wf_execution *x) {
  wf__work *w = x->work;
  if (!w->input) {
    wf_error err;
    /* Unreadable: null, and the next child's context asks again. */
    if (wf_store_get_execution(x->engine->store, w->parent, keep_input,
                               &w->input, &err) != WF_OK)
      wf__log_engine(x->engine, WF_LOG_ERROR, "StoreReadFailed", err.message);
  }
  return w->input ? w->input : json_null();
}

void wf__work_free(wf__work *w) {
  if (!w) return;
  json_decref(w->input);
  wf__free(w->parent);
  wf__free(w->parent_name);
  wf__free(w->run_arn);
  wf__free(w->done);
  wf__free(w);
}

int wf__work_decode(wf_execution *x, const json_t *o, wf_error *err) {
  const char *parent = json_string_value(json_object_get(o, "parent"));
  const char *name = json_string_value(json_object_get(o, "parentName"));
  const char *run = json_string_value(json_object_get(o, "run"));
  json_t *shard = json_object_get(o, "shard");
  json_t *base = json_object_get(o, "base");
  if (!parent || !name || !run || !json_is_integer(shard) ||
      !json_is_integer(base))
    return wf__error_set(err, WF_ECORRUPT, NULL,
                         "the saved state of %s is damaged: its work",
                         x->arn);
  wf__work *w = wf__calloc(1, sizeof *w);
  if (w) {
    w->parent = wf__strdup(parent);
    w->parent_name = wf__strdup(name);
    w->run_arn = wf__strdup(run);
    w->shard = (size_t)json_integer_value(shard);
    w->base = (size_t)json_integer_value(base);
  }
  if (!w || !w->parent || !w->parent_name || !w->run_arn) {
    wf__work_free(w);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  if (!x->work) atomic_fetch_add(&x->engine->work_running, 1);
  wf__work_free(x->work);
  x->work = w;
  return WF_OK;
}

/* What `f` (the share's Map frame, its children ended) hands back, as
 * the text of its end document. */
static char *done_body(const wf__frame *f) {
  const wf__fanout *fan = f->fan;
  json_t *ok = json_array();
  for (size_t i = 0; i < fan->total; i++)
    json_array_append_new(ok, json_integer(fan->succeeded[i]));
  json_t *o = json_pack("{s:s,s:I,s:O,s:o}", "run", fan->map_run_arn,
                        "base", (json_int_t)fan->base, "results",
                        fan->results, "ok", ok);
  if (o && fan->records) json_object_set(o, "records", fan->records);
  if (o && fan->kept) json_object_set(o, "kept", fan->kept);
  if (o && fan->failed) {
    json_object_set_new(o, "error", json_string(fan->error ? fan->error : ""));
    json_object_set_new(o, "cause", json_string(fan->cause ? fan->cause : ""));
  }
  char *text = o ? wf__json_dumps(o) : NULL;
  json_decref(o);
  return text;
}

void wf__shard_fail(wf_execution *x, const char *cause) {
  wf__work *w = x->work;
  json_t *o = json_pack("{s:s,s:I,s:[],s:[],s:s,s:s}", "run", w->run_arn,
                        "base", (json_int_t)w->base, "results", "ok", "error",
                        "States.Runtime", "cause", cause);
  wf__free(w->done);
  w->done = o ? wf__json_dumps(o) : NULL;
  json_decref(o);
}

void wf__shard_stopped(wf__frame *f) {
  wf__work *w = f->exec->work;
  if (!w->done) w->done = done_body(f);
}

wf__step wf__shard_finish(wf__frame *f) {
  wf_execution *x = f->exec;
  char *body = done_body(f);
  if (!body) return wf__frame_fail_memory(f);
  wf__free(x->work->done);
  x->work->done = body;
  f->finished = true;
  f->park = WF__PARK_DONE;
  /* Its end document goes with the commit that writes its end. */
  wf__exec_finish(x, WF_EXEC_SUCCEEDED, NULL, NULL, NULL);
  return WF__STEP_END;
}

/* ---- handing shares out (the parent) ---- */

void wf__shards_free(wf__shards *sh) {
  if (!sh) return;
  wf__free(sh->state);
  json_decref(sh->inbox);
  wf__free(sh);
}

static wf__shards *shards_new(size_t total, size_t size) {
  wf__shards *sh = wf__calloc(1, sizeof *sh);
  if (!sh) return NULL;
  sh->size = size;
  sh->count = (total + size - 1) / size;
  sh->state = wf__calloc(sh->count ? sh->count : 1, 1);
  if (!sh->state) {
    wf__free(sh);
    return NULL;
  }
  return sh;
}

void wf__shard_plan(wf__frame *f) {
  wf__fanout *fan = f->fan;
  wf_execution *x = f->exec;
  wf_engine *e = x->engine;
  const wf_store_ops *ops = e->store->ops;
  /* A backend that knows units of work has claim_work (appended with
   * them): one built before would keep a share leased to its maker. */
  if (!fan->distributed || !fan->run || fan->total < 2 || !e->share ||
      !WF_STORE_HAS(ops, claim_work) || !ops->claim_work || x->work ||
      x->probe || x->test_case || atomic_load(&e->closing))
    return;
  size_t size = (fan->total + MAX_SHARES - 1) / MAX_SHARES;
  if (size > MAX_SHARE) size = MAX_SHARE;
  if (fan->max_running && size > fan->max_running) size = fan->max_running;
  if (!size) size = 1;
  json_t *o = json_pack("{s:O,s:O?}", "items", fan->items, "keys", fan->keys);
  char *body = o ? wf__json_dumps(o) : NULL;
  json_decref(o);
  if (!body) return; /* out of memory: its children run here */
  fan->shards = shards_new(fan->total, size);
  if (fan->shards)
    push_doc(&x->work_docs, SHARD_ITEMS, fan->map_run_arn, 0, true, body);
  else
    wf__free(body);
}

json_t *wf__shards_encode(const wf__shards *sh) {
  char *state = wf__malloc(sh->count + 1);
  if (!state) return NULL;
  for (size_t k = 0; k < sh->count; k++) state[k] = (char)('0' + sh->state[k]);
  state[sh->count] = '\0';
  json_t *o = json_pack("{s:I,s:I,s:s}", "size", (json_int_t)sh->size,
                        "next", (json_int_t)sh->next, "state", state);
  wf__free(state);
  return o;
}

int wf__shards_decode(wf__fanout *fan, const json_t *o) {
  json_int_t size = json_integer_value(json_object_get(o, "size"));
  const char *state = json_string_value(json_object_get(o, "state"));
  if (size < 1 || !state) return WF_ECORRUPT;
  wf__shards *sh = shards_new(fan->total, (size_t)size);
  if (!sh) return WF_ENOMEM;
  sh->next = (size_t)json_integer_value(json_object_get(o, "next"));
  bool ok = strlen(state) == sh->count && sh->next <= sh->count;
  for (size_t k = 0; ok && k < sh->count; k++) {
    ok = state[k] >= '0' && state[k] <= '0' + WF__SHARD_STOPPING;
    if (ok) sh->state[k] = (unsigned char)(state[k] - '0');
  }
  if (!ok) {
    wf__shards_free(sh);
    return WF_ECORRUPT;
  }
  wf__shards_free(fan->shards);
  fan->shards = sh;
  return WF_OK;
}

/* Share k's first child and how many it has. */
static size_t share_span(const wf__fanout *fan, size_t k, size_t *n) {
  size_t from = k * fan->shards->size;
  size_t left = fan->total - from;
  *n = left < fan->shards->size ? left : fan->shards->size;
  return from;
}

static json_t *slice(json_t *a, size_t from, size_t n) {
  if (!a) return NULL;
  json_t *s = json_array();
  for (size_t i = 0; s && i < n; i++)
    json_array_append(s, json_array_get(a, from + i));
  return s;
}

/* The state of share k: f's Map state with its items, as the one frame
 * of an execution of its own (new text, or NULL). */
static char *share_state(wf__frame *f, size_t k) {
  wf__fanout *fan = f->fan;
  wf_execution *x = f->exec;
  size_t n;
  size_t from = share_span(fan, k, &n);
  wf__frame *t = wf__frame_new(x, NULL, f->scope, NULL);
  wf__fanout *sf = t ? wf__fanout_new(n) : NULL;
  char *text = NULL;
  if (sf) {
    t->fan = sf;
    t->state = f->state;
    t->phase = WF__PH_CHILDREN_DONE;
    t->entered_ms = f->entered_ms;
    sf->items = slice(fan->items, from, n);
    sf->keys = slice(fan->keys, from, n);
    sf->distributed = true;
    /* Its children's failures are the parent's to weigh. */
    sf->tolerated_percentage = 100;
    sf->batch_items = fan->batch_items;
    sf->batch_input = json_incref(fan->batch_input);
    sf->map_run_arn = wf__strdup(fan->map_run_arn);
    sf->base = from;
    if (fan->records) sf->records = slice(fan->records, from, n);
    wf__work about = {.parent = x->arn, .parent_name = x->name,
                      .run_arn = fan->map_run_arn, .shard = k, .base = from};
    json_t *work = wf__work_encode(&about);
    bool whole = sf->items && (!fan->keys || sf->keys) && sf->map_run_arn &&
                 (!fan->records || sf->records) && work;
    text = whole ? wf__snapshot_encode_work(t, work) : NULL;
    json_decref(work);
  }
  wf__frame_release(t);
  return text;
}

/* Share k's name ("<the run's UUID>#k": never an execution's, which
 * may not hold '#') and its ARN, an execution ARN of the parent's machine
 * (what the engine finds executions by). */
static char *share_name(const char *run_arn, size_t k) {
  const char *uuid = strrchr(run_arn, ':');
  wf__strbuf b = WF__STRBUF_INIT;
  wf__strbuf_printf(&b, "%s#%zu", uuid ? uuid + 1 : run_arn, k);
  return wf__strbuf_take(&b);
}

static char *share_arn(const wf_execution *x, const char *run_arn, size_t k) {
  char *name = share_name(run_arn, k);
  wf__strbuf b = WF__STRBUF_INIT;
  wf__strbuf_printf(&b, "arn:aws:states:%s:%s:execution:%s:%s",
                    x->engine->region, x->engine->account, x->machine->name,
                    name ? name : "");
  wf__free(name);
  return wf__strbuf_take(&b);
}

/* Share k as a row of the next commit; false when out of memory. */
static bool hand_out(wf__frame *f, size_t k) {
  wf_execution *x = f->exec;
  wf_engine *e = x->engine;
  if (!rows_room(&x->work_rows, 1)) return false;
  char *state = share_state(f, k);
  wf_store_execution r = {
      .arn = share_arn(x, f->fan->map_run_arn, k),
      .name = share_name(f->fan->map_run_arn, k),
      .machine_name = wf__strdup(x->machine->name),
      .machine_arn = x->machine_arn ? wf__strdup(x->machine_arn) : NULL,
      .definition_id = wf__strdup(x->machine->digest),
      .status = WF_EXEC_RUNNING,
      .start_ms = x->start_ms,
      /* Not the parent's (a copy per share): read when a child's $$ asks
       * for it (wf__work_input). */
      .input = wf__strdup("{}"),
      .correlation_id = wf__strdup(x->correlation_id),
      .role_arn = wf__strdup(x->role_arn ? x->role_arn : e->role_arn),
      .state = state};
  if (!r.arn || !r.name || !r.machine_name ||
      (x->machine_arn && !r.machine_arn) || !r.definition_id || !r.input ||
      !r.correlation_id || !r.role_arn || !r.state) {
    row_clear(&r);
    return false;
  }
  x->work_rows.v[x->work_rows.n++] = r;
  return true;
}

int wf__shard_launch(wf__frame *f, wf__fault *fault) {
  wf__fanout *fan = f->fan;
  wf__shards *sh = fan->shards;
  while (sh->next < sh->count) {
    size_t k = sh->next, n;
    size_t from = share_span(fan, k, &n);
    if (fan->max_running && fan->running &&
        fan->running + n > fan->max_running)
      break;
    if (!hand_out(f, k))
      return wf__fault_set(fault, "States.Runtime", "out of memory");
    sh->state[k] = WF__SHARD_OUT;
    sh->next++;
    fan->running += n;
    wf__map_run_children_out(f, from, n);
  }
  return 0;
}

void wf__shard_watch(wf__frame *f) {
  wf_execution *x = f->exec;
  shard_reg *g = reg(x->engine);
  if (!g || atomic_load(&x->engine->closing)) return;
  const char *arn = f->fan->map_run_arn;
  pthread_mutex_lock(&g->mu);
  watch *w = g->watches;
  while (w && (w->x != x || strcmp(w->run_arn, arn) != 0)) w = w->next;
  if (!w && (w = wf__calloc(1, sizeof *w))) {
    wf__strbuf kind = WF__STRBUF_INIT, ends = WF__STRBUF_INIT;
    wf__strbuf_printf(&kind, "%s%s", SHARD_DONE, arn);
    wf__strbuf_printf(&ends, "%s%s", SHARD_FOLDED, arn);
    w->run_arn = wf__strdup(arn);
    w->kind = wf__strbuf_take(&kind);
    w->ends = wf__strbuf_take(&ends);
    w->x = wf__exec_ref(x);
    if (w->run_arn && w->kind && w->ends) {
      w->next = g->watches;
      g->watches = w;
    } else {
      watch_free(w);
      w = NULL;
    }
  }
  g->poll_ms = POLL_MIN_MS;
  pthread_mutex_unlock(&g->mu);
}

bool wf__shard_abort(wf__frame *f, bool wait) {
  wf__fanout *fan = f->fan;
  wf__shards *sh = fan->shards;
  wf_engine *e = f->exec->engine;
  shard_reg *g = atomic_load(&e->closing) ? NULL : reg(e);
  bool stopping = false;
  for (size_t k = 0; k < sh->count; k++) {
    stopping |= wait && sh->state[k] == WF__SHARD_STOPPING;
    if (sh->state[k] != WF__SHARD_OUT) continue;
    sh->state[k] = wait ? WF__SHARD_STOPPING : WF__SHARD_DONE;
    stopping |= wait;
    char *arn = share_arn(f->exec, fan->map_run_arn, k);
    if (!g || !arn) {
      wf__free(arn); /* left to end by itself */
      continue;
    }
    pthread_mutex_lock(&g->mu);
    if (g->nstops == g->stops_cap) {
      size_t cap = g->stops_cap ? 2 * g->stops_cap : 16;
      char **v = wf__realloc(g->stops, cap * sizeof *v);
      if (v) {
        g->stops = v;
        g->stops_cap = cap;
      }
    }
    if (g->nstops < g->stops_cap) {
      g->stops[g->nstops++] = arn;
      arn = NULL;
    }
    pthread_mutex_unlock(&g->mu);
    wf__free(arn);
  }
  if (!wait) fan->running = 0;
  return stopping;
}

/* ---- folding ends in (the parent) ---- */

/* Move the kept state of the share's failed children to the parent's
 * indexes. */
static void fold_kept(wf__fanout *fan, json_t *kept, size_t base) {
  const char *k;
  json_t *v;
  json_object_foreach(kept, k, v) {
    char key[24];
    snprintf(key, sizeof key, "%zu", base + (size_t)strtoull(k, NULL, 10));
    if (!fan->kept) fan->kept = json_object();
    if (fan->kept) json_object_set(fan->kept, key, v);
  }
}

/* Share k's document of `prefix` deleted by f's execution's next
 * commit; out of memory: not. */
static void delete_doc(wf__frame *f, const char *prefix, size_t k) {
  push_doc(&f->exec->work_docs, prefix, f->fan->map_run_arn, k, false, NULL);
}

void wf__shard_succeeded(wf__frame *f) {
  const wf__shards *sh = f->fan->shards;
  for (size_t k = 0; k < sh->count; k++) delete_doc(f, SHARD_FOLDED, k);
  delete_doc(f, SHARD_ITEMS, 0);
}

/* The share of fan's run an end document is of (its "base"), and how
 * many children it has; false when it is none. */
static bool share_of(const wf__fanout *fan, const json_t *doc, size_t *k,
                     size_t *n) {
  const wf__shards *sh = fan->shards;
  json_int_t base = json_integer_value(json_object_get(doc, "base"));
  *k = base >= 0 ? (size_t)base / sh->size : sh->count;
  return *k < sh->count && share_span(fan, *k, n) == (size_t)base;
}

/* A folded share's results, records and successes put back. */
static void restore_one(wf__fanout *fan, const json_t *doc) {
  size_t k, n;
  if (!share_of(fan, doc, &k, &n) || fan->shards->state[k] != WF__SHARD_DONE)
    return;
  size_t base = k * fan->shards->size;
  json_t *results = json_object_get(doc, "results");
  json_t *ok = json_object_get(doc, "ok");
  json_t *records = json_object_get(doc, "records");
  bool failed = json_object_get(doc, "error") != NULL;
  for (size_t i = 0; i < n; i++) {
    size_t at = base + i;
    bool good = !failed && json_integer_value(json_array_get(ok, i)) == 1;
    json_t *res = json_array_get(results, i);
    /* A tolerated failure's result as the parent made it. */
    if (good) {
      json_array_set(fan->results, at, res ? res : json_null());
    } else if (json_is_object(res)) {
      json_t *eo = json_pack("{s:O,s:O}", "Error",
                             json_object_get(res, "Error"), "Cause",
                             json_object_get(res, "Cause"));
      if (eo) json_array_set_new(fan->results, at, eo);
    }
    fan->succeeded[at] = good;
    json_t *r = json_array_get(records, i);
    if (fan->records && json_is_object(r)) json_array_set(fan->records, at, r);
  }
}

static int restore_items(const wf_store_document *d, void *p) {
  wf__fanout *fan = p;
  json_t *o = json_loads(d->body ? d->body : "", 0, NULL);
  json_t *items = json_object_get(o, "items");
  json_t *keys = json_object_get(o, "keys");
  if (json_array_size(items) == fan->total && !fan->items) {
    fan->items = json_incref(items);
    if (json_is_array(keys)) fan->keys = json_incref(keys);
  }
  json_decref(o);
  return 1;
}

static int restore_doc(const wf_store_document *d, void *p) {
  json_t *doc = json_loads(d->body ? d->body : "", 0, NULL);
  if (json_is_object(doc)) restore_one(p, doc);
  json_decref(doc);
  return 0;
}

/* f's fan-out with shares (and those under it) resumed: the results of
 * the shares folded before read back, the shares out waited for again. */
static void resume_frame(wf__frame *f) {
  if (!f || !f->fan) return;
  wf__fanout *fan = f->fan;
  for (size_t i = 0; i < fan->total; i++) resume_frame(fan->children[i]);
  if (!fan->shards || !fan->map_run_arn) return;
  wf_engine *e = f->exec->engine;
  wf__strbuf kind = WF__STRBUF_INIT;
  wf_error err;
  /* The ends of shares stopped with the Map are among them: what their
   * children did before the stop is not done again by a redrive. */
  const char *prefix[2] = {SHARD_ITEMS, SHARD_FOLDED};
  wf_store_document_cb cb[2] = {restore_items, restore_doc};
  for (int i = 0; i < 2; i++) {
    wf__strbuf_reset(&kind);
    wf__strbuf_printf(&kind, "%s%s", prefix[i], fan->map_run_arn);
    if (!kind.oom && wf_store_list_documents(e->store, wf__strbuf_cstr(&kind),
                                             0, 0, cb[i], fan,
                                             &err) != WF_OK)
      wf__log_engine(e, WF_LOG_ERROR, "StoreReadFailed", err.message);
  }
  wf__strbuf_free(&kind);
  /* Without its items (a damaged store) nothing more is handed out. */
  if (!fan->items && !fan->failed) {
    fan->failed = true;
    fan->error = wf__strdup("States.Runtime");
    fan->cause = wf__strdup("The items of a Distributed Map whose children "
                            "are spread over workers could not be read back");
  }
  if (f->park == WF__PARK_CHILDREN) wf__shard_watch(f);
}

void wf__shard_resume(wf_execution *x) { resume_frame(x->top); }

/* One end document: each child's end through `child`. */
static void fold_one(wf__frame *f, const wf__state *st, json_t *doc,
                     wf__shard_child_fn child) {
  wf__fanout *fan = f->fan;
  wf__shards *sh = fan->shards;
  size_t k, n;
  if (!share_of(fan, doc, &k, &n) ||
      (sh->state[k] != WF__SHARD_OUT && sh->state[k] != WF__SHARD_STOPPING))
    return; /* folded already, given up, or not a share of this run */
  size_t base = k * sh->size;
  /* Stopped as the Map failed: what succeeded is kept (a redrive does
   * not run it again), nothing is weighed. */
  bool stopped = sh->state[k] == WF__SHARD_STOPPING;
  sh->state[k] = WF__SHARD_DONE;
  /* Its mark deleted (out of memory: left, read again by a later poll,
   * which finds it folded). */
  delete_doc(f, SHARD_DONE, k);
  json_t *results = json_object_get(doc, "results");
  json_t *ok = json_object_get(doc, "ok");
  json_t *records = json_object_get(doc, "records");
  fold_kept(fan, json_object_get(doc, "kept"), base);
  const char *error = json_string_value(json_object_get(doc, "error"));
  for (size_t i = 0; i < n; i++) {
    size_t at = base + i;
    json_t *r = json_array_get(records, i);
    if (fan->records && json_is_object(r))
      json_array_set(fan->records, at, r);
    fan->running--;
    fan->done++;
    json_t *res = json_array_get(results, i);
    bool succeeded = !error && json_integer_value(json_array_get(ok, i)) == 1;
    if (stopped) {
      if (succeeded) wf__map_run_child_counted(f, at, true);
      if (succeeded) json_array_set(fan->results, at, res ? res : json_null());
      fan->succeeded[at] = succeeded;
      continue;
    }
    wf__map_run_child_counted(f, at, succeeded);
    if (succeeded) {
      child(f, st, at, true, res, NULL, NULL, 0);
    } else {
      /* A share that could not run its children fails them with why. */
      const char *e = error ? error
                            : json_string_value(json_object_get(res, "Error"));
      const char *c = error ? json_string_value(json_object_get(doc, "cause"))
                            : json_string_value(json_object_get(res, "Cause"));
      int64_t last = json_integer_value(json_object_get(res, "Last"));
      child(f, st, at, false, NULL, e, c, last ? last : f->prev_event);
    }
  }
}

void wf__shard_fold(wf__frame *f, const wf__state *st,
                    wf__shard_child_fn child) {
  wf__shards *sh = f->fan->shards;
  json_t *inbox = sh->inbox;
  sh->inbox = NULL;
  size_t i;
  json_t *d;
  json_array_foreach(inbox, i, d) fold_one(f, st, d, child);
  json_decref(inbox);
}

/* ---- polling (the share thread) ---- */

static int keep_key(const wf_store_document *d, void *p) {
  json_array_append_new(p, json_string(d->key));
  return 0;
}

static int keep_end(const wf_store_document *d, void *p) {
  json_t *doc = json_loads(d->body ? d->body : "", 0, NULL);
  /* A damaged one is passed over: its share's children stay running. */
  if (json_is_object(doc)) json_array_append(p, doc);
  json_decref(doc);
  return 1;
}

/* The Map frame of x running the run `arn` with shares, or NULL. */
static wf__frame *find_frame(wf__frame *f, const char *arn) {
  if (!f || !f->fan) return NULL;
  if (f->fan->shards && f->fan->map_run_arn &&
      strcmp(f->fan->map_run_arn, arn) == 0)
    return f;
  for (size_t i = 0; i < f->fan->total; i++) {
    wf__frame *in = find_frame(f->fan->children[i], arn);
    if (in) return in;
  }
  return NULL;
}

/* Hand docs to x's frame waiting for them; false when x no longer waits
 * for that run. */
static bool deliver(wf_execution *x, const char *arn, json_t *docs) {
  pthread_mutex_lock(&x->lock);
  wf__frame *f = x->ended || x->dropped ? NULL : find_frame(x->top, arn);
  if (f && json_array_size(docs)) {
    wf__shards *sh = f->fan->shards;
    if (!sh->inbox) sh->inbox = json_array();
    json_array_extend(sh->inbox, docs);
    if (f->park == WF__PARK_CHILDREN) {
      f->park = WF__PARK_NONE;
      wf__frame_schedule(f);
    }
  }
  pthread_mutex_unlock(&x->lock);
  return f != NULL;
}

/* Read the ends of one watched run; false when it is no longer watched. */
static bool poll_one(wf_engine *e, watch *w, bool *found) {
  json_t *marks = json_array(), *docs = json_array(), *left = json_object();
  wf_error err;
  int rc = marks && docs && left
               ? wf_store_list_documents(e->store, w->kind, 0, 0, keep_key,
                                         marks, &err)
               : WF_ENOMEM;
  if (rc != WF_OK && rc != WF_ENOMEM)
    wf__log_engine(e, WF_LOG_ERROR, "StoreReadFailed", err.message);
  /* The ends not handed over yet are read; the marks no longer there
   * were folded and deleted: forgotten. */
  size_t i;
  json_t *k;
  json_array_foreach(marks, i, k) {
    const char *key = json_string_value(k);
    if (!json_object_get(w->given, key) &&
        wf_store_get_document(e->store, w->ends, key, keep_end, docs,
                              &err) != WF_OK)
      continue; /* read again at the next poll */
    json_object_set_new(left, key, json_true());
  }
  if (rc == WF_OK && left) {
    json_decref(w->given);
    w->given = left;
    left = NULL;
  }
  json_decref(left);
  if (json_array_size(docs)) *found = true;
  bool live = deliver(w->x, w->run_arn, docs);
  json_decref(docs);
  json_decref(marks);
  return live;
}

static void poll_watches(wf_engine *e, shard_reg *g, bool *found) {
  pthread_mutex_lock(&g->mu);
  watch *list = g->watches;
  g->watches = NULL;
  pthread_mutex_unlock(&g->mu);
  /* Polled outside the lock; watches added meanwhile join the list. */
  watch *keep = NULL;
  for (watch *w = list, *next; w; w = next) {
    next = w->next;
    if (poll_one(e, w, found)) {
      w->next = keep;
      keep = w;
    } else {
      watch_free(w);
    }
  }
  pthread_mutex_lock(&g->mu);
  for (watch *w = keep, *next; w; w = next) {
    next = w->next;
    /* Added again meanwhile (a resume): the newer one stays. */
    watch *dup = g->watches;
    while (dup && (dup->x != w->x || strcmp(dup->run_arn, w->run_arn) != 0))
      dup = dup->next;
    if (dup) {
      watch_free(w);
      continue;
    }
    w->next = g->watches;
    g->watches = w;
  }
  pthread_mutex_unlock(&g->mu);
}

static void stop_shares(wf_engine *e, shard_reg *g) {
  pthread_mutex_lock(&g->mu);
  char **stops = g->stops;
  size_t n = g->nstops;
  g->stops = NULL;
  g->nstops = g->stops_cap = 0;
  pthread_mutex_unlock(&g->mu);
  for (size_t i = 0; i < n; i++) {
    wf_execution *x = NULL;
    wf_error err;
    /* Ended already (its end written): nothing to stop. */
    if (wf_engine_take_execution(&x, e, stops[i], &err) == WF_OK) {
      wf_execution_stop(x, NULL, NULL);
      wf__exec_release(x);
    }
    wf__free(stops[i]);
  }
  wf__free(stops);
}

static int read_work(wf_engine *e, wf_store_execution_cb cb, void *list,
                     void *arg, wf_error *err) {
  size_t max = *(size_t *)arg;
  return e->store->ops->claim_work(e->store->backend, max, cb, list, err);
}

int64_t wf__shard_poll(wf_engine *e) {
  shard_reg *g = reg(e);
  if (!g) return POLL_MAX_MS;
  bool found = false;
  stop_shares(e, g);
  poll_watches(e, g, &found);
  const wf_store_ops *ops = e->store->ops;
  if (WF_STORE_HAS(ops, claim_work) && ops->claim_work) {
    /* With every slot taken, one more now and then: a share that waits
     * (for a callback, an activity) must not keep others from running. */
    size_t busy = atomic_load(&e->work_running);
    size_t max = busy < WORK_SLOTS ? WORK_SLOTS - busy : 0;
    if (!max && ++g->busy_polls % 8 == 0) max = 1;
    size_t n = 0;
    wf_error err;
    if (max && wf__resume_from(e, read_work, &max, &n, &err) != WF_OK)
      wf__log_engine(e, WF_LOG_ERROR, "StoreClaimFailed", err.message);
    if (n) found = true;
  }
  pthread_mutex_lock(&g->mu);
  if (found || g->nstops)
    g->poll_ms = POLL_MIN_MS;
  else if (g->poll_ms < POLL_MAX_MS)
    g->poll_ms = g->poll_ms * 2 < POLL_MAX_MS ? g->poll_ms * 2 : POLL_MAX_MS;
  int64_t next = found ? 0 : g->poll_ms;
  pthread_mutex_unlock(&g->mu);
  return next;
}
