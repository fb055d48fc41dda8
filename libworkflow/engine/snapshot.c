/* An execution's resumable state, written down: every live frame (Map
 * and Parallel children included) with its state, phase, input, retry
 * counts, deadline and task, the fan-outs' items and results, and the
 * execution's random-number state and counters. Frames refer to each
 * other by id and to the machine by state name (names are unique in a
 * machine), never by pointer, so a later process can rebuild them.
 *
 * The format is the engine's own (a JSON object, "v":1); a store keeps it
 * as an opaque string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "map_data.h"
#include "step.h"

/* Version 2 added the frames' variables ("vars"); version 3 references
 * to the execution's input ("inputRef": "executionInput" for an "input"
 * that is the execution's own, which the store keeps beside the snapshot:
 * the first state's input, a first Task's, needs no second copy). A
 * snapshot is written with the lowest version that holds it, so an older
 * libworkflow resumes what it can read, and refuses (clearly) one it
 * would resume wrong. */
/* Version 4: a Distributed Map's children handed out in shares
 * ("shards", map_shard.c) and the units of work that run them ("work",
 * a fan-out's "base"). */
#define SNAPSHOT_VERSION 4

/* ---- writing ---- */

static json_t *int_(int64_t v) { return json_integer((json_int_t)v); }
static json_t *str_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}
static json_t *val(json_t *v) { return v ? json_incref(v) : json_null(); }

/* What writing a snapshot keeps track of. */
typedef struct writer {
  const wf_execution *x;
  bool refs; /* an input was written as a reference (version 3) */
  /* A frame alone (wf__snapshot_encode_child): no references, no task,
   * no iteration item, no children. */
  bool alone;
  bool shares; /* shares or a unit of work were written (version 4) */
} writer;

/* `v` at key `k` of `o`; the execution's own input as a reference. */
static void put_val(writer *w, json_t *o, const char *k, json_t *v) {
  if (v && !w->alone && v == w->x->input) {
    char ref[32];
    snprintf(ref, sizeof ref, "%sRef", k);
    json_object_set_new(o, ref, json_string("executionInput"));
    w->refs = true;
    return;
  }
  json_object_set_new(o, k, val(v));
}

static json_t *u64_hex(uint64_t v) {
  char buf[17];
  for (int i = 15; i >= 0; i--, v >>= 4) buf[i] = "0123456789abcdef"[v & 15];
  buf[16] = '\0';
  return json_string(buf);
}

/* "" for the machine's top scope, else "<owning state>#<branch>". */
static json_t *scope_name(const wf__scope *s) {
  if (!s->parent) return json_string("");
  char buf[512];
  snprintf(buf, sizeof buf, "%s#%zu", s->parent->name, s->branch_index);
  return json_string(buf);
}

static json_t *encode_task(writer *w, const wf_task *t) {
  json_t *o = json_object();
  json_object_set_new(o, "token", json_string(t->token));
  json_object_set_new(o, "attempt", int_(t->attempt));
  json_object_set_new(o, "deadline", int_(t->deadline));
  json_object_set_new(o, "timeout", json_boolean(t->timeout_armed));
  json_object_set_new(o, "hbSeconds", int_(t->heartbeat_seconds));
  json_object_set_new(o, "hbDeadline", int_(t->heartbeat_deadline));
  put_val(w, o, "input", t->input);
  json_object_set_new(o, "done", json_boolean(t->status == WF__TASK_DONE));
  if (t->activity_started) json_object_set_new(o, "started", json_true());
  if (t->status == WF__TASK_DONE) {
    json_object_set_new(o, "ok", json_boolean(t->ok));
    json_object_set_new(o, "output", val(t->output));
    json_object_set_new(o, "error", str_or_null(t->error));
    json_object_set_new(o, "cause", str_or_null(t->cause));
    json_object_set_new(o, "hbMissed", json_boolean(t->heartbeat_missed));
  }
  return o;
}

static json_t *encode_fan(writer *w, const wf__fanout *fan) {
  json_t *o = json_object();
  /* Children spread in shares: their items are a document of their own,
   * written once (map_shard.c). */
  json_object_set_new(o, "items", fan->shards ? json_null() : val(fan->items));
  json_object_set_new(o, "keys", fan->shards ? json_null() : val(fan->keys));
  put_val(w, o, "input", fan->input);
  /* Children spread in shares: their results are in the documents their
   * shares handed back (map_shard.c), not written again at every commit. */
  json_object_set_new(o, "results",
                      fan->shards ? json_array() : val(fan->results));
  json_object_set_new(o, "total", int_((int64_t)fan->total));
  json_object_set_new(o, "next", int_((int64_t)fan->next));
  json_object_set_new(o, "done", int_((int64_t)fan->done));
  json_object_set_new(o, "failures", int_((int64_t)fan->failures));
  json_object_set_new(o, "max", int_((int64_t)fan->max_running));
  json_object_set_new(o, "failed", json_boolean(fan->failed));
  json_object_set_new(o, "error", str_or_null(fan->error));
  json_object_set_new(o, "cause", str_or_null(fan->cause));
  json_object_set_new(o, "lastIteration", int_(fan->last_iteration_event));
  json_object_set_new(o, "distributed", json_boolean(fan->distributed));
  json_object_set_new(o, "toleratedCount", int_(fan->tolerated_count));
  json_object_set_new(o, "toleratedPercentage",
                      json_real(fan->tolerated_percentage));
  json_object_set_new(o, "batchItems", int_((int64_t)fan->batch_items));
  json_object_set_new(o, "batchInput", val(fan->batch_input));
  if (fan->map_run_arn)
    json_object_set_new(o, "mapRunArn", json_string(fan->map_run_arn));
  /* The children that succeeded, by index: what a redrive keeps. */
  json_t *ok = json_array();
  for (size_t i = 0; !fan->shards && i < fan->total; i++)
    if (fan->succeeded[i]) json_array_append_new(ok, int_((int64_t)i));
  json_object_set_new(o, "succeeded", ok);
  /* The failed or aborted children kept to be redriven from where they
   * stopped (wf__snapshot_encode_child), by index. */
  if (fan->kept) json_object_set_new(o, "kept", json_incref(fan->kept));
  if (fan->base) {
    json_object_set_new(o, "base", int_((int64_t)fan->base));
    w->shares = true;
  }
  if (fan->shards) {
    json_object_set_new(o, "shards", wf__shards_encode(fan->shards));
    w->shares = true;
  }
  return o;
}

static void encode_frame(writer *w, json_t *frames, const wf__frame *f) {
  json_t *o = json_object();
  json_object_set_new(o, "id", int_(f->id));
  json_object_set_new(o, "parent", int_(f->parent ? f->parent->id : 0));
  json_object_set_new(o, "index", int_((int64_t)f->child_index));
  json_object_set_new(o, "scope", scope_name(f->scope));
  json_object_set_new(o, "state",
                      json_string(f->scope->states[f->state]->name));
  json_object_set_new(o, "phase", int_(f->phase));
  json_object_set_new(o, "park", int_(f->park));
  json_object_set_new(o, "wakeAt", int_(f->wake_at));
  put_val(w, o, "input", f->input);
  json_object_set_new(o, "inputSize", int_((int64_t)f->input_size));
  put_val(w, o, "effective", f->effective);
  json_object_set_new(o, "enteredId", int_(f->entered_id));
  json_object_set_new(o, "enteredMs", int_(f->entered_ms));
  /* What EvaluationFailed chains to (absent from older snapshots: 0). */
  json_object_set_new(o, "enteredPrev", int_(f->entered_prev));
  json_object_set_new(o, "prev", int_(f->prev_event));
  json_object_set_new(o, "retry", int_(f->retry_count));
  json_t *attempts = json_array();
  for (size_t i = 0; i < f->nattempts; i++)
    json_array_append_new(attempts, int_(f->attempts[i]));
  json_object_set_new(o, "attempts", attempts);
  if (f->map_item && !w->alone) {
    json_object_set_new(o, "mapItem", val(f->map_item));
    json_object_set_new(o, "mapIndex", int_(f->map_index));
    json_object_set_new(o, "mapKey", str_or_null(f->map_key));
  }
  if (f->own_history) json_object_set_new(o, "ownNext", int_(f->own_next_id));
  if (f->vars) json_object_set_new(o, "vars", val(f->vars));
  if (f->task && !w->alone)
    json_object_set_new(o, "task", encode_task(w, f->task));
  if (f->fan) json_object_set_new(o, "fan", encode_fan(w, f->fan));
  json_array_append_new(frames, o);
  if (w->alone) return;
  /* Children after their parent. */
  for (size_t i = 0; f->fan && i < f->fan->total; i++)
    if (f->fan->children[i]) encode_frame(w, frames, f->fan->children[i]);
}

static void add_call(const char *key, void *value, void *arg) {
  json_object_set_new(arg, key, int_((intptr_t)value));
}

/* The execution's redrives, when it has had any. */
static void put_redrives(json_t *o, const wf_execution *x) {
  if (!x->redrive_count) return;
  json_object_set_new(o, "redriveCount", int_(x->redrive_count));
  json_object_set_new(o, "redriveMs", int_(x->redrive_ms));
}

char *wf__snapshot_encode_redrives(wf_execution *x) {
  json_t *o = json_object();
  put_redrives(o, x); /* first: wf_engine_redrive_status() reads them so */
  json_object_set_new(o, "v", int_(1));
  json_object_set_new(o, "frames", json_array());
  char *text = wf__json_dumps(o);
  json_decref(o);
  return text;
}

json_t *wf__snapshot_encode_child(const wf__frame *f) {
  writer w = {.x = f->exec, .alone = true};
  json_t *frames = json_array();
  if (!frames) return NULL;
  encode_frame(&w, frames, f);
  json_t *o = json_incref(json_array_get(frames, 0));
  json_decref(frames);
  return o;
}

/* The execution's random-number state, as "rng". */
static void put_rng(json_t *o, const wf_execution *x) {
  json_t *rng = json_array();
  for (int i = 0; i < 4; i++) json_array_append_new(rng, u64_hex(x->rng.s[i]));
  json_object_set_new(o, "rng", rng);
}

char *wf__snapshot_encode(wf_execution *x) {
  json_t *o = json_object();
  put_redrives(o, x); /* first: wf_engine_redrive_status() reads them so */
  put_rng(o, x);
  json_object_set_new(o, "nextEvent", int_(x->next_event_id));
  json_object_set_new(o, "nextFrame", int_(x->next_frame_id));
  if (x->test_case) {
    /* The mock configuration itself is the engine's: it is set again
     * before resuming. */
    json_object_set_new(o, "testCase", json_string(x->test_case));
    json_t *calls = json_object();
    wf__strmap_foreach(&x->mock_calls, add_call, calls);
    json_object_set_new(o, "mockCalls", calls);
  }
  json_t *frames = json_array();
  writer w = {.x = x};
  if (x->work) {
    json_object_set_new(o, "work", wf__work_encode(x->work));
    w.shares = true;
  }
  if (x->top) encode_frame(&w, frames, x->top);
  json_object_set_new(o, "frames", frames);
  int version = 1;
  size_t i;
  json_t *fr;
  json_array_foreach(frames, i, fr) {
    if (json_object_get(fr, "vars")) version = 2;
  }
  if (w.refs) version = 3;
  if (w.shares) version = 4;
  json_object_set_new(o, "v", int_(version));
  char *text = wf__json_dumps(o);
  json_decref(o);
  return text;
}

char *wf__snapshot_encode_work(const wf__frame *f, json_t *work) {
  const wf_execution *x = f->exec;
  json_t *o = json_object();
  put_rng(o, x);
  json_object_set_new(o, "nextEvent", int_(1));
  json_object_set_new(o, "nextFrame", int_(f->id + 1));
  json_object_set(o, "work", work);
  json_t *frames = json_array();
  writer w = {.x = x, .shares = true};
  encode_frame(&w, frames, f);
  json_object_set_new(o, "frames", frames);
  json_object_set_new(o, "v", int_(SNAPSHOT_VERSION));
  char *text = wf__json_dumps(o);
  json_decref(o);
  return text;
}

/* ---- reading ---- */

typedef struct reader {
  wf_execution *x;
  wf_error *err;
  wf__frame **frames; /* by position in "frames" */
  size_t n;
} reader;

static int bad(reader *r, const char *what) {
  return wf__error_set(r->err, WF_ECORRUPT, NULL,
                       "the saved state of %s is damaged: %s", r->x->arn,
                       what);
}

static int64_t get_int(json_t *o, const char *k) {
  return (int64_t)json_integer_value(json_object_get(o, k));
}

static char *get_str(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  return s ? wf__strdup(s) : NULL;
}

/* A member that is JSON null reads as absent. */
static json_t *get_val(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return v && !json_is_null(v) ? json_incref(v) : NULL;
}

/* The same where put_val may have written a reference to the execution's
 * input. */
static json_t *get_input(reader *r, json_t *o, const char *k) {
  char ref[32];
  snprintf(ref, sizeof ref, "%sRef", k);
  const char *to = json_string_value(json_object_get(o, ref));
  if (to && !strcmp(to, "executionInput") && r->x->input)
    return json_incref(r->x->input);
  return get_val(o, k);
}

/* The state named `name` anywhere in the machine. */
static const wf__state *find_state(const wf__scope *s, const char *name) {
  for (size_t i = 0; i < s->count; i++) {
    const wf__state *st = s->states[i];
    if (strcmp(st->name, name) == 0) return st;
    for (size_t b = 0; b < st->nbranches; b++) {
      const wf__state *in = find_state(st->branches[b], name);
      if (in) return in;
    }
    if (st->processor) {
      const wf__state *in = find_state(st->processor, name);
      if (in) return in;
    }
  }
  return NULL;
}

static const wf__scope *find_scope(const wf_machine *m, const char *name) {
  if (!*name) return m->top;
  const char *hash = strrchr(name, '#');
  if (!hash) return NULL;
  char owner[512];
  snprintf(owner, sizeof owner, "%.*s", (int)(hash - name), name);
  const wf__state *st = find_state(m->top, owner);
  if (!st) return NULL;
  size_t b = (size_t)strtoull(hash + 1, NULL, 10);
  if (st->type == WF__PARALLEL) return b < st->nbranches ? st->branches[b] : NULL;
  return st->type == WF__MAP && b == 0 ? st->processor : NULL;
}

static int decode_task(reader *r, wf__frame *f, json_t *o) {
  const wf__state *st = f->scope->states[f->state];
  if (st->type != WF__TASK) return bad(r, "a task outside a Task state");
  wf_task *t = wf__task_new(f, NULL, st->resource,
                            (unsigned)get_int(o, "attempt"), 0);
  if (!t) return wf__error_set(r->err, WF_ENOMEM, NULL, "out of memory");
  const char *token = json_string_value(json_object_get(o, "token"));
  if (!token || strlen(token) >= sizeof t->token) {
    wf__task_release(t);
    return bad(r, "a task without its token");
  }
  snprintf(t->token, sizeof t->token, "%s", token);
  t->deadline = get_int(o, "deadline");
  t->timeout_armed = json_is_true(json_object_get(o, "timeout"));
  t->heartbeat_seconds = get_int(o, "hbSeconds");
  t->heartbeat_deadline = get_int(o, "hbDeadline");
  t->input = get_input(r, o, "input");
  /* Whatever was handed out before is known to the store. */
  t->token_durable = true;
  t->activity_started = json_is_true(json_object_get(o, "started"));
  if (json_is_true(json_object_get(o, "done"))) {
    t->status = WF__TASK_DONE;
    atomic_store(&t->settled, true);
    t->ok = json_is_true(json_object_get(o, "ok"));
    t->output = get_val(o, "output");
    t->error = get_str(o, "error");
    t->cause = get_str(o, "cause");
    t->heartbeat_missed = json_is_true(json_object_get(o, "hbMissed"));
  }
  f->task = t;
  return WF_OK;
}

static int decode_fan(reader *r, wf__frame *f, json_t *o) {
  wf__fanout *fan = wf__calloc(1, sizeof *fan);
  if (!fan) return wf__error_set(r->err, WF_ENOMEM, NULL, "out of memory");
  f->fan = fan;
  fan->items = get_val(o, "items");
  fan->keys = get_val(o, "keys");
  fan->input = get_input(r, o, "input");
  fan->results = get_val(o, "results");
  fan->total = (size_t)get_int(o, "total");
  fan->next = (size_t)get_int(o, "next");
  fan->done = (size_t)get_int(o, "done");
  fan->failures = (size_t)get_int(o, "failures");
  fan->max_running = (size_t)get_int(o, "max");
  fan->failed = json_is_true(json_object_get(o, "failed"));
  fan->error = get_str(o, "error");
  fan->cause = get_str(o, "cause");
  fan->last_iteration_event = get_int(o, "lastIteration");
  fan->distributed = json_is_true(json_object_get(o, "distributed"));
  fan->tolerated_count = get_int(o, "toleratedCount");
  fan->tolerated_percentage =
      json_number_value(json_object_get(o, "toleratedPercentage"));
  fan->batch_items = (size_t)get_int(o, "batchItems");
  fan->batch_input = get_val(o, "batchInput");
  fan->map_run_arn = get_str(o, "mapRunArn");
  json_t *shards = json_object_get(o, "shards");
  if (shards && json_is_array(fan->results) && !json_array_size(fan->results)) {
    /* Read back from the shares' documents as the run resumes. */
    for (size_t i = 0; i < fan->total; i++)
      json_array_append_new(fan->results, json_null());
  }
  if (!json_is_array(fan->results) ||
      json_array_size(fan->results) != fan->total || fan->next > fan->total)
    return bad(r, "a Map or Parallel state's results");
  fan->children = wf__calloc(fan->total ? fan->total : 1,
                             sizeof(wf__frame *));
  fan->succeeded = wf__calloc(fan->total ? fan->total : 1, 1);
  if (!fan->children || !fan->succeeded)
    return wf__error_set(r->err, WF_ENOMEM, NULL, "out of memory");
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(o, "succeeded"), i, v) {
    json_int_t k = json_integer_value(v);
    if (k < 0 || (size_t)k >= fan->total)
      return bad(r, "a Map or Parallel state's children");
    fan->succeeded[k] = 1;
  }
  json_t *kept = json_object_get(o, "kept");
  if (json_is_object(kept)) fan->kept = json_incref(kept);
  fan->base = (size_t)get_int(o, "base");
  int rc = shards ? wf__shards_decode(fan, shards) : WF_OK;
  if (rc == WF_ENOMEM)
    return wf__error_set(r->err, WF_ENOMEM, NULL, "out of memory");
  if (rc != WF_OK) return bad(r, "a Distributed Map's shares");
  return WF_OK;
}

static wf__frame *frame_by_id(reader *r, int64_t id) {
  for (size_t i = 0; i < r->n; i++)
    if (r->frames[i]->id == id) return r->frames[i];
  return NULL;
}

/* A frame's own fields from `o` (under `parent`, its fan-out's), built in
 * *out (NULL when it could not be). */
static int build_frame(reader *r, json_t *o, wf__frame *parent,
                       wf__frame **out) {
  wf_execution *x = r->x;
  *out = NULL;
  const char *scope_text = json_string_value(json_object_get(o, "scope"));
  const char *state = json_string_value(json_object_get(o, "state"));
  const wf__scope *scope = scope_text ? find_scope(x->machine, scope_text)
                                      : NULL;
  if (!scope || !state) return bad(r, "a frame's scope");
  int index = -1;
  for (size_t i = 0; i < scope->count && index < 0; i++)
    if (strcmp(scope->states[i]->name, state) == 0) index = (int)i;
  if (index < 0) return bad(r, "a frame's state is not in the machine");
  json_t *input = get_input(r, o, "input");
  wf__frame *f = wf__frame_new(x, parent, scope, input);
  json_decref(input);
  if (!f) return wf__error_set(r->err, WF_ENOMEM, NULL, "out of memory");
  *out = f;
  f->state = index;
  f->phase = (wf__phase)get_int(o, "phase");
  f->park = (wf__park)get_int(o, "park");
  f->wake_at = get_int(o, "wakeAt");
  f->input_size = (size_t)get_int(o, "inputSize");
  f->effective = get_input(r, o, "effective");
  f->entered_id = get_int(o, "enteredId");
  f->entered_ms = get_int(o, "enteredMs");
  f->entered_prev = get_int(o, "enteredPrev");
  f->prev_event = get_int(o, "prev");
  f->retry_count = (unsigned)get_int(o, "retry");
  json_t *attempts = json_object_get(o, "attempts");
  if (json_array_size(attempts)) {
    f->nattempts = json_array_size(attempts);
    f->attempts = wf__calloc(f->nattempts, sizeof *f->attempts);
    if (!f->attempts)
      return wf__error_set(r->err, WF_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < f->nattempts; i++)
      f->attempts[i] = (unsigned)json_integer_value(json_array_get(attempts, i));
  }
  json_t *vars = json_object_get(o, "vars");
  if (json_is_object(vars)) {
    f->vars = json_incref(vars);
    wf__vars_measure(f);
  }
  json_t *item = json_object_get(o, "mapItem");
  if (item) {
    f->map_item = json_incref(item);
    f->map_index = get_int(o, "mapIndex");
    /* The key is borrowed from the parent's keys, as when launched. */
    const char *key = json_string_value(json_object_get(o, "mapKey"));
    for (wf__frame *p = parent; key && p; p = p->parent)
      if (p->fan && p->fan->keys) {
        json_t *k = json_array_get(p->fan->keys, (size_t)f->map_index);
        if (json_is_string(k) && strcmp(json_string_value(k), key) == 0)
          f->map_key = json_string_value(k);
        break;
      }
  }
  json_t *own = json_object_get(o, "ownNext");
  if (own) {
    f->own_history = true;
    f->own_next_id = (int64_t)json_integer_value(own);
    f->id_counter = &f->own_next_id;
  }
  return WF_OK;
}

static int decode_frame(reader *r, json_t *o) {
  int64_t parent_id = get_int(o, "parent");
  wf__frame *parent = parent_id ? frame_by_id(r, parent_id) : NULL;
  if (parent_id && (!parent || !parent->fan))
    return bad(r, "a frame's parent");
  if (!parent_id && r->n) return bad(r, "two top frames");
  wf__frame *f;
  int rc = build_frame(r, o, parent, &f);
  if (f) r->frames[r->n++] = f;
  if (rc != WF_OK) return rc;
  f->id = get_int(o, "id");
  if (parent) {
    size_t i = (size_t)get_int(o, "index");
    if (i >= parent->fan->total || parent->fan->children[i])
      return bad(r, "a child frame's index");
    f->child_index = i;
    parent->fan->children[i] = wf__frame_ref(f);
    parent->fan->running++;
  }
  json_t *task = json_object_get(o, "task");
  rc = task ? decode_task(r, f, task) : WF_OK;
  json_t *fan = json_object_get(o, "fan");
  if (rc == WF_OK && fan) rc = decode_fan(r, f, fan);
  return rc;
}

int wf__snapshot_decode_child(wf__frame **out, wf__frame *parent,
                              json_t *kept, wf_error *err) {
  reader r = {parent->exec, err, NULL, 0};
  int rc = build_frame(&r, kept, parent, out);
  json_t *fan = json_object_get(kept, "fan");
  if (rc == WF_OK && fan) rc = decode_fan(&r, *out, fan);
  if (rc != WF_OK) {
    wf__frame_release(*out);
    *out = NULL;
  }
  return rc;
}

static int decode_rng(reader *r, json_t *rng) {
  if (json_array_size(rng) != 4) return bad(r, "its random-number state");
  for (size_t i = 0; i < 4; i++) {
    const char *h = json_string_value(json_array_get(rng, i));
    if (!h) return bad(r, "its random-number state");
    r->x->rng.s[i] = strtoull(h, NULL, 16);
  }
  return WF_OK;
}

int wf__snapshot_decode(wf_execution *x, const char *text, wf_error *err) {
  json_t *o = json_loads(text ? text : "", 0, NULL);
  reader r = {x, err, NULL, 0};
  if (!json_is_object(o)) {
    json_decref(o);
    return bad(&r, "it is not JSON");
  }
  int rc = WF_OK;
  if (get_int(o, "v") < 1 || get_int(o, "v") > SNAPSHOT_VERSION) {
    rc = wf__error_set(err, WF_EVERSION, NULL,
                       "the saved state of %s has version %lld; this "
                       "libworkflow reads %d",
                       x->arn, (long long)get_int(o, "v"), SNAPSHOT_VERSION);
    goto done;
  }
  x->redrive_count = get_int(o, "redriveCount");
  x->redrive_ms = get_int(o, "redriveMs");
  /* First: a unit of work that cannot be read further still ends. */
  json_t *work = json_object_get(o, "work");
  if (work) rc = wf__work_decode(x, work, err);
  if (rc == WF_OK) rc = decode_rng(&r, json_object_get(o, "rng"));
  json_t *frames = json_object_get(o, "frames");
  size_t n = json_array_size(frames);
  if (rc == WF_OK && !n) rc = bad(&r, "it has no frame");
  if (rc == WF_OK && !(r.frames = wf__calloc(n, sizeof *r.frames)))
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  x->next_frame_id = 1;
  for (size_t i = 0; rc == WF_OK && i < n; i++)
    rc = decode_frame(&r, json_array_get(frames, i));
  if (rc == WF_OK) {
    x->next_event_id = get_int(o, "nextEvent");
    x->next_frame_id = get_int(o, "nextFrame");
    x->top = r.frames[0];
    r.frames[0] = NULL; /* x holds it */
    const char *tc = json_string_value(json_object_get(o, "testCase"));
    if (tc) {
      wf__free(x->test_case);
      x->test_case = wf__strdup(tc);
    }
    json_t *calls = json_object_get(o, "mockCalls");
    const char *k;
    json_t *v;
    json_object_foreach(calls, k, v)
        wf__strmap_put(&x->mock_calls, k, (void *)(intptr_t)json_integer_value(v),
                       NULL);
  }
  /* The frames are held by x->top and their parents now; on failure the
   * top is stopped, which lets its children go, and goes too. */
  if (rc != WF_OK && r.n) wf__frame_cancel(r.frames[0]);
  for (size_t i = 0; i < r.n; i++) wf__frame_release(r.frames[i]);
  wf__free(r.frames);
done:
  json_decref(o);
  return rc;
}
