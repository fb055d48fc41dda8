/* Parallel and Map states: branches and iterations are child frames of the
 * scheduler, never threads of their own. A Map launches one iteration at a
 * time and lets it run before launching the next (so iterations that do not
 * wait produce AWS's event order), and keeps launching while iterations
 * wait, up to MaxConcurrency (0: no limit). The first failure stops the
 * rest: AWS fails the state with the branch's or iteration's own error. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "map_data.h"
#include "step.h"

static void fan_free(wf__fanout *fan) {
  if (!fan) return;
  json_decref(fan->items);
  json_decref(fan->keys);
  json_decref(fan->input);
  json_decref(fan->results);
  json_decref(fan->batch_input);
  json_decref(fan->records);
  json_decref(fan->kept);
  wf__free(fan->map_run_arn);
  wf__map_run_release(fan->run);
  for (size_t i = 0; fan->children && i < fan->total; i++)
    wf__frame_release(fan->children[i]);
  wf__free(fan->children);
  wf__free(fan->succeeded);
  wf__free(fan->error);
  wf__free(fan->cause);
  wf__shards_free(fan->shards);
  wf__free(fan);
}

void wf__fanout_free(wf__fanout *fan) { fan_free(fan); }

wf__fanout *wf__fanout_new(size_t total) {
  wf__fanout *fan = wf__calloc(1, sizeof *fan);
  if (!fan) return NULL;
  fan->total = total;
  fan->results = json_array();
  fan->children = wf__calloc(total ? total : 1, sizeof(wf__frame *));
  fan->succeeded = wf__calloc(total ? total : 1, 1);
  fan->tolerated_count = -1;
  fan->tolerated_percentage = -1;
  for (size_t i = 0; fan->results && i < total; i++)
    json_array_append_new(fan->results, json_null());
  if (!fan->results || !fan->children || !fan->succeeded ||
      json_array_size(fan->results) != total) {
    fan_free(fan);
    return NULL;
  }
  return fan;
}

/* Record a parent event with an explicit previous event; `index`: a Map
 * iteration's. */
static int64_t event_after(wf__frame *f, wf__event_type type,
                           const wf__state *st, int64_t prev, int64_t index,
                           const char *error, const char *cause) {
  f->prev_event = prev;
  wf__event_args a = {.type = type, .st = st, .error = error, .cause = cause,
                      .number = index};
  return wf__history_record(f->exec, f, &a);
}

/* ---- a child execution kept for a redrive ---- */

static void kept_key(char key[24], size_t i) { snprintf(key, 24, "%zu", i); }

/* A STANDARD child execution that failed or was aborted, kept as it
 * stopped: a redrive of its Map Run goes on from there, as AWS redrives
 * it (RedriveExecution). An EXPRESS child is started anew instead. */
static void keep_child(wf__fanout *fan, const wf__frame *c) {
  const wf__frame *p = c->parent;
  if (!fan->distributed || p->scope->states[p->state]->express_children)
    return;
  json_t *o = wf__snapshot_encode_child(c);
  if (!fan->kept) fan->kept = json_object();
  char key[24];
  kept_key(key, c->child_index);
  /* Out of memory: nothing kept, and a redrive reruns it from the start. */
  if (o && fan->kept)
    json_object_set_new(fan->kept, key, o);
  else
    json_decref(o);
}

/* Child i's kept frame, taken from the fan-out (new reference; NULL:
 * none). */
static json_t *take_kept(wf__fanout *fan, size_t i) {
  char key[24];
  kept_key(key, i);
  json_t *o = json_incref(json_object_get(fan->kept, key));
  if (o) json_object_del(fan->kept, key);
  return o;
}

/* The redriven child `c` (just made, at its first state) goes on from the
 * frame kept as it stopped instead: that state entered again with the
 * input it had there and the variables it had, a Map or Parallel there
 * rerunning only the iterations or branches that did not succeed. A kept
 * frame that cannot be read (damaged, or out of memory) leaves `c`: the
 * child reruns from its first state. */
static wf__frame *go_on(wf__frame *f, wf__frame *c, json_t *kept) {
  wf__frame *k;
  if (wf__snapshot_decode_child(&k, f, kept, NULL) != WF_OK) return c;
  k->child_index = c->child_index;
  k->map_item = json_incref(c->map_item);
  k->map_index = c->map_index;
  k->map_key = c->map_key;
  wf__frame_rearm(k);
  wf__frame_release(c);
  return k;
}

/* ---- cancellation ---- */

/* A distributed Map's child execution stopped: its history's end. */
static void child_aborted(wf__fanout *fan, wf__frame *c) {
  if (!fan->distributed) return;
  wf__history_add(c->exec, c, WF__EV_EXECUTION_ABORTED, NULL, NULL, NULL,
                  NULL);
  keep_child(fan, c);
}

static void abort_child(wf__frame *parent, const wf__state *st, size_t i) {
  wf__fanout *fan = parent->fan;
  wf__frame *c = fan->children[i];
  if (!c) return;
  fan->children[i] = NULL;
  fan->running--;
  wf__frame_cancel(c);
  child_aborted(fan, c);
  if (st->type == WF__MAP && !fan->distributed) {
    event_after(parent, WF__EV_MAP_ITERATION_ABORTED, st, c->prev_event,
                (int64_t)i, NULL, NULL);
  }
  wf__frame_release(c);
}

void wf__fanout_cancel(wf__frame *f) {
  wf__fanout *fan = f->fan;
  if (!fan) return;
  /* Its shares stop with it, unless it goes on in another process (its
   * lease lost, or the engine closing on a durable store). */
  if (fan->shards && !f->exec->dropped && !f->exec->lost &&
      !atomic_load(&f->exec->engine->closing))
    wf__shard_abort(f, false);
  /* A share stopped: what its children did so far goes back. */
  if (f->exec->work && !f->parent && !f->exec->dropped) wf__shard_stopped(f);
  if (fan->run) wf__map_run_end(f, WF_MAP_RUN_ABORTED, false);
  for (size_t i = 0; i < fan->total; i++) {
    wf__frame *c = fan->children[i];
    if (!c) continue;
    fan->children[i] = NULL;
    fan->running--;
    wf__frame_cancel(c);
    child_aborted(fan, c);
    wf__frame_release(c);
  }
}

/* ---- children finishing ---- */

static bool tolerance_exceeded(const wf__fanout *fan) {
  bool count_set = fan->tolerated_count >= 0;
  bool pct_set = fan->tolerated_percentage >= 0;
  if (!count_set && !pct_set) return fan->failures > 0;
  if (count_set && (int64_t)fan->failures > fan->tolerated_count) return true;
  if (pct_set && fan->total &&
      100.0 * (double)fan->failures / (double)fan->total >
          fan->tolerated_percentage)
    return true;
  return false;
}

static void fail_fanout(wf__frame *p, const wf__state *st, const char *error,
                        const char *cause) {
  wf__fanout *fan = p->fan;
  fan->failed = true;
  fan->error = error ? wf__strdup(error) : NULL;
  fan->cause = cause ? wf__strdup(cause) : NULL;
  for (size_t j = 0; j < fan->total; j++) abort_child(p, st, j);
}

/* How child i ended, in the fan-out's results: its output, or a failure
 * tolerated (a distributed Map's) or failing the state. `last`: the
 * child's last event, where AWS chains the failure. */
static void child_result(wf__frame *p, const wf__state *st, size_t i,
                         bool ok, json_t *output, const char *error,
                         const char *cause, int64_t last) {
  wf__fanout *fan = p->fan;
  if (ok) {
    json_array_set(fan->results, i, output ? output : json_null());
    fan->succeeded[i] = 1;
    return;
  }
  fan->failures++;
  if (fan->distributed && !tolerance_exceeded(fan)) {
    /* A tolerated failure leaves its error in the results. */
    json_t *eo = json_object();
    json_object_set_new(eo, "Error", json_string(error ? error : ""));
    json_object_set_new(eo, "Cause", json_string(cause ? cause : ""));
    /* A share (map_shard.c) tells its parent where the child ended. */
    if (p->exec->work) json_object_set_new(eo, "Last", json_integer(last));
    json_array_set_new(fan->results, i, eo);
  } else if (!fan->failed) {
    if (fan->distributed)
      fail_fanout(p, st, "States.ExceedToleratedFailureThreshold",
                  "The specified tolerated failure threshold was exceeded");
    else
      fail_fanout(p, st, error, cause);
    p->prev_event = last;
  }
}

void wf__fanout_child_done(wf__frame *child) {
  wf__frame *p = child->parent;
  wf__fanout *fan = p ? p->fan : NULL;
  if (!fan || p->finished) return;
  size_t i = child->child_index;
  if (i >= fan->total || fan->children[i] != child) return;
  const wf__state *st = p->scope->states[p->state];
  bool inline_map = st->type == WF__MAP && !fan->distributed;
  fan->children[i] = NULL;
  fan->running--;
  fan->done++;
  wf__map_child_ended(p, i, child);
  if (fan->distributed) {
    /* The child execution's last event, in its own history. */
    wf__history_add(p->exec, child,
                    child->ok ? WF__EV_EXECUTION_SUCCEEDED
                              : WF__EV_EXECUTION_FAILED,
                    NULL, child->ok ? child->output : NULL, child->error,
                    child->cause);
    wf__map_run_child(p, i,
                      child->ok ? WF__MAP_CHILD_SUCCEEDED
                                : WF__MAP_CHILD_FAILED,
                      child);
    if (!child->ok) keep_child(fan, child);
  }
  if (inline_map && child->ok) {
    int64_t last = child->prev_event;
    fan->last_iteration_event = event_after(
        p, WF__EV_MAP_ITERATION_SUCCEEDED, st, last, (int64_t)i, NULL, NULL);
    /* AWS chains the next iteration to this one's last state event. */
    p->prev_event = last;
  } else if (inline_map) {
    fan->last_iteration_event =
        event_after(p, WF__EV_MAP_ITERATION_FAILED, st, child->prev_event,
                    (int64_t)i, NULL, NULL);
  }
  child_result(p, st, i, child->ok, child->output, child->error,
               child->cause, child->prev_event);
  wf__frame_release(child);
  if (p->park == WF__PARK_CHILDREN) {
    p->park = WF__PARK_NONE;
    wf__frame_schedule(p);
  }
}

void wf__fanout_redrive(wf__frame *f) {
  wf__fanout *fan = f->fan;
  fan->failed = false;
  wf__free(fan->error);
  wf__free(fan->cause);
  fan->error = fan->cause = NULL;
  fan->failures = 0;
  fan->running = 0;
  fan->done = 0;
  for (size_t i = 0; i < fan->total; i++) fan->done += fan->succeeded[i];
  fan->next = 0; /* pump() passes over the children that succeeded */
  /* Rerun here, as frames, whether they ran in shares before or not. */
  wf__shards_free(fan->shards);
  fan->shards = NULL;
  if (fan->run) wf__map_run_redriven(f);
}

/* ---- launching ---- */

static json_t *item_at(const wf__fanout *fan, size_t i) {
  return json_array_get(fan->items, i);
}

static int launch(wf__frame *f, const wf__state *st, size_t i,
                  wf__fault *fault) {
  wf__fanout *fan = f->fan;
  const wf__scope *scope = st->type == WF__PARALLEL ? st->branches[i]
                                                    : st->processor;
  json_t *input;
  json_t *item = NULL;
  if (st->type == WF__PARALLEL) {
    input = json_incref(fan->input);
  } else {
    item = item_at(fan, i);
    input = json_incref(item);
  }
  wf__frame *c = wf__frame_new(f->exec, f, scope, input);
  json_decref(input);
  if (!c) return wf__fault_set(fault, "States.Runtime", "out of memory");
  c->child_index = i;
  if (st->type == WF__MAP && !fan->batch_items) {
    c->map_item = json_incref(item);
    c->map_index = (int64_t)(fan->base + i);
    if (fan->keys) c->map_key = json_string_value(json_array_get(fan->keys, i));
  }
  c->input_size = wf__json_size(c->input, f->exec->engine->payload_limit);
  if (fan->distributed) {
    wf__map_child_started(f, st, i, c->input);
    wf__map_run_child(f, i, WF__MAP_CHILD_STARTED, c);
    /* A child execution numbers its own events: ExecutionStarted is 1,
     * or a redriven child's history goes on with ExecutionRedriven. */
    int64_t last;
    int64_t redrives = wf__map_run_child_redrives(f, i, &last);
    json_t *kept = take_kept(fan, i);
    if (redrives && kept) c = go_on(f, c, kept);
    json_decref(kept);
    c->own_history = true;
    c->own_next_id = last + 1;
    c->id_counter = &c->own_next_id;
    c->prev_event = last;
    if (redrives) {
      wf__event_args a = {.type = WF__EV_EXECUTION_REDRIVEN,
                          .number = redrives};
      wf__history_record(f->exec, c, &a);
    } else {
      wf__history_add(f->exec, c, WF__EV_EXECUTION_STARTED, NULL, c->input,
                      NULL, NULL);
    }
  } else if (st->type == WF__MAP) {
    wf__event_args a = {.type = WF__EV_MAP_ITERATION_STARTED, .st = st,
                        .number = (int64_t)i};
    c->prev_event = wf__history_record(f->exec, f, &a);
  }
  fan->children[i] = c;
  fan->running++;
  wf__frame_schedule(c);
  return 0;
}

/* ---- items ---- */

/* Apply ItemSelector (or the legacy Parameters) to every item, with
 * $$.Map.Item available; then group items into batches for ItemBatcher. */
static int select_items(wf__frame *f, const wf__state *st, wf__fault *fault) {
  wf__fanout *fan = f->fan;
  const wf__template *sel = st->item_selector ? st->item_selector
                                              : st->parameters;
  const wf__jfield *jsel = st->ata[WF__ATA_ITEM_SELECTOR];
  if (sel || jsel) {
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(fan->items); i++) {
      json_decref(f->ctx);
      f->ctx = NULL;
      f->map_item = json_incref(json_array_get(fan->items, i));
      f->map_index = (int64_t)i;
      f->map_key = fan->keys ? json_string_value(json_array_get(fan->keys, i))
                             : NULL;
      json_t *v;
      int rc;
      if (jsel) {
        rc = wf__ata_eval(&v, f, jsel, fault);
      } else {
        wf__eval_env env;
        wf__eval_env_init(&env, f, fan->input);
        rc = wf__template_eval(&v, sel, &env, fault);
      }
      json_decref(f->map_item);
      f->map_item = NULL;
      f->map_key = NULL;
      f->map_index = -1;
      json_decref(f->ctx);
      f->ctx = NULL;
      if (rc != 0) {
        json_decref(out);
        return -1;
      }
      json_array_append_new(out, v);
    }
    json_decref(fan->items);
    fan->items = out;
  }
  return 0;
}

static void make_batches(wf__fanout *fan, size_t max_items, size_t max_bytes) {
  json_t *batches = json_array();
  json_t *cur = NULL;
  size_t bytes = 0;
  for (size_t i = 0; i < json_array_size(fan->items); i++) {
    json_t *it = json_array_get(fan->items, i);
    size_t sz = wf__json_size(it, max_bytes ? max_bytes : SIZE_MAX / 2) + 1;
    if (!cur || (max_items && json_array_size(cur) >= max_items) ||
        (max_bytes && json_array_size(cur) && bytes + sz > max_bytes)) {
      cur = json_array();
      json_array_append_new(batches, cur);
      bytes = 2;
    }
    json_array_append(cur, it);
    bytes += sz;
  }
  json_t *inputs = json_array();
  for (size_t i = 0; i < json_array_size(batches); i++) {
    json_t *in = json_object();
    if (fan->batch_input) json_object_set(in, "BatchInput", fan->batch_input);
    json_object_set(in, "Items", json_array_get(batches, i));
    json_array_append_new(inputs, in);
  }
  json_decref(batches);
  json_decref(fan->items);
  fan->items = inputs;
  fan->batch_items = max_items ? max_items : 1;
  /* One child, and one result, per batch. */
  size_t n = json_array_size(inputs);
  wf__frame **children = wf__calloc(n ? n : 1, sizeof(wf__frame *));
  json_t *results = json_array();
  for (size_t i = 0; results && i < n; i++)
    json_array_append_new(results, json_null());
  if (children && results) {
    wf__free(fan->children);
    json_decref(fan->results);
    fan->children = children;
    fan->results = results;
    fan->total = n;
  } else {
    wf__free(children);
    json_decref(results);
  }
}

/* A string read as Java reads it: Integer.parseInt (a sign, then digits,
 * within 32 bits) or Double.parseDouble (surrounding blanks allowed). AWS
 * takes "1" where a number is wanted (recorded: a variable holding "1" as
 * ToleratedFailureCountPath), and refuses "NoNumber". */
static bool java_number(const char *s, bool integer, double *out) {
  if (!s || !*s) return false;
  char *end;
  errno = 0;
  if (integer) {
    const char *d = s + (*s == '+' || *s == '-');
    if (!*d) return false;
    for (const char *c = d; *c; c++)
      if (*c < '0' || *c > '9') return false;
    long long v = strtoll(s, &end, 10);
    if (errno || v < INT32_MIN || v > INT32_MAX) return false;
    *out = (double)v;
    return true;
  }
  double v = strtod(s, &end);
  if (end == s || errno == ERANGE) return false;
  while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') end++;
  if (*end) return false;
  *out = v;
  return true;
}

/* A *Path number: AWS's run-time checks and wording. */
static int path_number(wf__frame *f, const wf__jsonpath *p, json_t *doc,
                       const char *field, bool integer, double *out,
                       wf__fault *fault) {
  json_t *v = NULL;
  if (wf__frame_eval_path(&v, f, p, doc, NULL) != 0)
    return wf__fault_set(fault, "States.Runtime",
                         "The %s field refers to a path that does not exist: "
                         "%s",
                         field, wf__jsonpath_text(p));
  bool ok = integer ? json_is_integer(v) : json_is_number(v);
  double parsed;
  if (!ok && json_is_string(v) &&
      java_number(json_string_value(v), integer, &parsed)) {
    json_decref(v);
    *out = parsed;
    return 0;
  }
  if (!ok) {
    char *text = wf__json_shown(v);
    wf__fault_set(fault, "States.Runtime",
                  "The %s field refers to value \"%s\" which is not a valid "
                  "%s: %s",
                  field, text ? text : "", integer ? "integer" : "float",
                  wf__jsonpath_text(p));
    wf__free(text);
    json_decref(v);
    return -1;
  }
  *out = json_number_value(v);
  json_decref(v);
  return 0;
}

static int map_settings(wf__frame *f, const wf__state *st, json_t *eff,
                        wf__fault *fault) {
  wf__fanout *fan = f->fan;
  fan->distributed = st->distributed;
  if (st->has_tolerated_count) fan->tolerated_count = st->tolerated_count;
  if (st->has_tolerated_percentage)
    fan->tolerated_percentage = st->tolerated_percentage;
  double v;
  if (st->ata[WF__ATA_TOLERATED_COUNT] &&
      wf__ata_integer(f, st->ata[WF__ATA_TOLERATED_COUNT], 0, INT64_MAX,
                      &fan->tolerated_count, fault) != 0)
    return -1;
  if (st->tolerated_count_path) {
    if (path_number(f, st->tolerated_count_path, eff,
                    "ToleratedFailureCountPath", true, &v, fault) != 0)
      return -1;
    if (v < 0)
      return wf__fault_set(fault, "States.Runtime",
                           "ToleratedFailureCount cannot be negative.");
    fan->tolerated_count = (int64_t)v;
  }
  /* A percentage from an expression (JSONata) or a path (JSONPath). */
  const wf__jfield *pct = st->ata[WF__ATA_TOLERATED_PERCENTAGE];
  if (pct || st->tolerated_percentage_path) {
    if (pct ? wf__ata_number(f, pct, &v, fault)
            : path_number(f, st->tolerated_percentage_path, eff,
                          "ToleratedFailurePercentagePath", false, &v, fault))
      return -1;
    if (v < 0 || v > 100)
      return wf__fault_set(fault, pct ? WF__QUERY_ERROR : "States.Runtime",
                           "ToleratedFailurePercentage must be between 0 and "
                           "100.");
    fan->tolerated_percentage = v;
  }
  if (st->item_batcher) {
    json_t *b = st->item_batcher;
    size_t max_items = (size_t)json_integer_value(
        json_object_get(b, "MaxItemsPerBatch"));
    size_t max_bytes = (size_t)json_integer_value(
        json_object_get(b, "MaxInputBytesPerBatch"));
    const char *ip = json_string_value(json_object_get(b, "MaxItemsPerBatchPath"));
    const char *bp =
        json_string_value(json_object_get(b, "MaxInputBytesPerBatchPath"));
    const char *paths[2] = {ip, bp};
    const char *names[2] = {"MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"};
    size_t *dest[2] = {&max_items, &max_bytes};
    for (int k = 0; k < 2; k++) {
      if (!paths[k]) continue;
      wf__jsonpath *p = NULL;
      char msg[128];
      if (wf__jsonpath_compile(&p, paths[k], WF__JP_ALLOW_VARIABLE, msg,
                               sizeof msg) != 0)
        return wf__fault_set(fault, "States.Runtime", "%s", msg);
      int rc = path_number(f, p, eff, names[k], true, &v, fault);
      wf__jsonpath_free(p);
      if (rc != 0) return -1;
      if (v <= 0)
        return wf__fault_set(fault, "States.Runtime",
                             "%s must be a positive integer", names[k]);
      *dest[k] = (size_t)v;
    }
    if (st->batch_input) {
      wf__eval_env env;
      wf__eval_env_init(&env, f, eff);
      if (wf__template_eval(&fan->batch_input, st->batch_input, &env, fault))
        return -1;
    }
    make_batches(fan, max_items, max_bytes);
  }
  return 0;
}

/* ---- the states ---- */

/* A fault of ItemReader or ResultWriter: what the reader or writer met is
 * the state's error as it is (retried, caught); anything else is a
 * run-time fault. */
static wf__step data_fault(wf__frame *f, const wf__state *st,
                           wf__fault *fault) {
  if (!fault->error || (strcmp(fault->error, WF__ITEM_READER_FAILED) != 0 &&
                        strcmp(fault->error, WF__RESULT_WRITER_FAILED) != 0))
    return wf__state_fault(f, st, fault);
  wf__step r = wf__state_error(f, st, fault->error,
                               wf__strbuf_cstr(&fault->cause));
  wf__fault_clear(fault);
  return r;
}

/* A Map Run that failed still writes what its children did. */
static void write_failed_run(wf__frame *f, const wf__state *st) {
  if (!f->fan->distributed) return;
  bool written = false;
  if (f->fan->map_run_arn && json_object_get(st->result_writer, "Resource")) {
    json_t *result = NULL;
    wf__fault fault = WF__FAULT_INIT;
    written = wf__map_write_results(&result, f, st, &fault) == 0;
    json_decref(result);
    wf__fault_clear(&fault);
  }
  wf__map_run_end(f, WF_MAP_RUN_FAILED, written);
}

static wf__step finish(wf__frame *f, const wf__state *st) {
  wf__fanout *fan = f->fan;
  /* A share of another process's Map: its end goes back to it. */
  if (f->exec->work) return wf__shard_finish(f);
  bool map = st->type == WF__MAP;
  int64_t prev = map && !fan->distributed ? fan->last_iteration_event
                                          : f->exec->next_event_id - 1;
  if (fan->failed) {
    write_failed_run(f, st);
    char *error = fan->error, *cause = fan->cause;
    fan->error = fan->cause = NULL;
    if (fan->distributed)
      event_after(f, WF__EV_MAP_RUN_FAILED, st, f->prev_event, 0, error, cause);
    event_after(f, map ? WF__EV_MAP_FAILED : WF__EV_PARALLEL_FAILED, st,
                f->prev_event, 0, NULL, NULL);
    /* Kept while the error is handled: should it end the execution, the
     * state kept for a redrive says which children succeeded. */
    wf__fanout *spent = f->fan;
    wf__step r = wf__state_error(f, st, error, cause);
    if (f->fan == spent && !f->exec->ended) {
      fan_free(f->fan);
      f->fan = NULL;
    }
    wf__free(error);
    wf__free(cause);
    return r;
  }
  json_t *results = json_incref(fan->results);
  if (fan->shards) wf__shard_succeeded(f);
  if (fan->distributed && st->result_writer && fan->map_run_arn) {
    json_decref(results);
    wf__fault fault = WF__FAULT_INIT;
    if (wf__map_write_results(&results, f, st, &fault) != 0) {
      wf__map_run_end(f, WF_MAP_RUN_FAILED, false);
      fan_free(f->fan);
      f->fan = NULL;
      return data_fault(f, st, &fault);
    }
  }
  if (fan->distributed)
    wf__map_run_end(f, WF_MAP_RUN_SUCCEEDED,
                    json_object_get(st->result_writer, "Resource") != NULL);
  if (fan->distributed) {
    event_after(f, WF__EV_MAP_RUN_SUCCEEDED, st, f->prev_event, 0, NULL, NULL);
    prev = f->prev_event;
  }
  event_after(f, map ? WF__EV_MAP_SUCCEEDED : WF__EV_PARALLEL_SUCCEEDED, st,
              prev, 0, NULL, NULL);
  f->prev_event = prev; /* StateExited shares the previous event */
  fan_free(f->fan);
  f->fan = NULL;
  return wf__state_result(f, st, results);
}

/* The same for children spread in shares over the workers of a shared
 * store (map_shard.c): the ends read since folded in, then more shares
 * handed out. */
static wf__step pump_shares(wf__frame *f, const wf__state *st) {
  wf__fanout *fan = f->fan;
  wf__shard_fold(f, st, child_result);
  wf__fault fault = WF__FAULT_INIT;
  if (!fan->failed && fan->done < fan->total &&
      wf__shard_launch(f, &fault) != 0) {
    fail_fanout(f, st, fault.error, wf__strbuf_cstr(&fault.cause));
    wf__fault_clear(&fault);
  }
  /* A failed Map ends once its shares have stopped, as its children would
   * have here: a redrive then finds what they did. */
  bool stopping = fan->failed && wf__shard_abort(f, true);
  if (!stopping && (fan->failed || fan->done == fan->total))
    return finish(f, st);
  f->phase = WF__PH_CHILDREN_DONE;
  f->park = WF__PARK_CHILDREN;
  wf__shard_watch(f);
  return WF__STEP_PARK;
}

/* Launch what concurrency allows. One launch per step keeps AWS's order for
 * iterations that finish without waiting; the frame queues itself behind
 * the child to launch the next. */
static wf__step pump(wf__frame *f, const wf__state *st) {
  wf__fanout *fan = f->fan;
  if (fan->shards) return pump_shares(f, st);
  if (fan->failed) {
    if (fan->running) {
      f->park = WF__PARK_CHILDREN;
      return WF__STEP_PARK;
    }
    return finish(f, st);
  }
  if (fan->done == fan->total) return finish(f, st);
  bool room = !fan->max_running || fan->running < fan->max_running;
  while (fan->next < fan->total && fan->succeeded[fan->next]) fan->next++;
  if (fan->next < fan->total && room) {
    wf__fault fault = WF__FAULT_INIT;
    if (launch(f, st, fan->next++, &fault) != 0) {
      fail_fanout(f, st, fault.error, wf__strbuf_cstr(&fault.cause));
      wf__fault_clear(&fault);
      return pump(f, st);
    }
    if (fan->next < fan->total) {
      f->phase = WF__PH_CHILDREN_DONE;
      wf__frame_schedule(f);
      return WF__STEP_PARK;
    }
  }
  f->phase = WF__PH_CHILDREN_DONE;
  f->park = WF__PARK_CHILDREN;
  return WF__STEP_PARK;
}

wf__step wf__run_parallel(wf__frame *f, const wf__state *st) {
  if (f->phase == WF__PH_CHILDREN_DONE) return pump(f, st);
  wf__fault fault = WF__FAULT_INIT;
  if (f->phase != WF__PH_RETRY) wf__state_enter(f, st);
  json_t *eff, *input;
  if (wf__state_input(f, st, &eff, &fault) != 0 ||
      wf__state_arguments(f, st, eff, &input, &fault) != 0)
    return wf__state_fault(f, st, &fault);
  if (f->exec->probe && !f->parent) {
    json_decref(input); /* TestState: the mock is the branches' result */
    return wf__probe_fanout(f, st);
  }
  fan_free(f->fan);
  f->fan = wf__fanout_new(st->nbranches);
  if (!f->fan) {
    json_decref(input);
    wf__fault_set(&fault, "States.Runtime", "out of memory");
    return wf__state_fault(f, st, &fault);
  }
  f->fan->input = input;
  wf__history_add(f->exec, f, WF__EV_PARALLEL_STARTED, st, NULL, NULL, NULL);
  int64_t started = f->prev_event;
  /* Every branch starts at once, on the same input. */
  for (size_t i = 0; i < st->nbranches; i++) {
    if (launch(f, st, i, &fault) != 0) {
      fail_fanout(f, st, fault.error, wf__strbuf_cstr(&fault.cause));
      wf__fault_clear(&fault);
      break;
    }
    f->fan->children[i]->prev_event = 0;
  }
  f->fan->next = st->nbranches;
  f->prev_event = started;
  f->phase = WF__PH_CHILDREN_DONE;
  f->park = WF__PARK_CHILDREN;
  return WF__STEP_PARK;
}

static json_t *object_values(json_t *obj, json_t **keys) {
  json_t *vals = json_array();
  *keys = json_array();
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    json_array_append(vals, v);
    json_array_append_new(*keys, json_string(k));
  }
  return vals;
}

wf__step wf__run_map(wf__frame *f, const wf__state *st) {
  if (f->phase == WF__PH_CHILDREN_DONE) return pump(f, st);
  wf__fault fault = WF__FAULT_INIT;
  if (f->phase != WF__PH_RETRY) wf__state_enter(f, st);
  json_t *eff;
  if (wf__state_input(f, st, &eff, &fault) != 0)
    return wf__state_fault(f, st, &fault);
  if (f->exec->probe && !f->parent) {
    json_decref(eff); /* TestState: the mock is the iterations' result */
    return wf__probe_fanout(f, st);
  }
  json_t *items = NULL;
  const wf__jfield *jitems = st->ata[WF__ATA_ITEMS];
  if (st->item_reader) {
    if (wf__map_read_items(&items, f, st, eff, &fault) != 0) {
      json_decref(eff);
      return data_fault(f, st, &fault);
    }
  } else if (jitems) {
    if (wf__ata_eval(&items, f, jitems, &fault) != 0) {
      json_decref(eff);
      return wf__state_fault(f, st, &fault);
    }
    if (!json_is_array(items)) {
      wf__jfield_type_fault(&fault, jitems, "array", items);
      json_decref(items);
      json_decref(eff);
      return wf__state_fault(f, st, &fault);
    }
  } else if (st->items_path) {
    wf__strbuf detail = WF__STRBUF_INIT;
    if (wf__frame_eval_path(&items, f, st->items_path, eff, &detail) != 0) {
      wf__fault_set(&fault, "States.Runtime", "Invalid path '%s' : %s",
                    wf__jsonpath_text(st->items_path), wf__strbuf_cstr(&detail));
      wf__strbuf_free(&detail);
      json_decref(eff);
      return wf__state_fault(f, st, &fault);
    }
    wf__strbuf_free(&detail);
  } else {
    items = json_incref(eff);
  }
  json_t *keys = NULL;
  if (json_is_object(items)) {
    /* A JSON object is iterated value by value, its key in
     * $$.Map.Item.Key. */
    json_t *vals = object_values(items, &keys);
    json_decref(items);
    items = vals;
  } else if (!json_is_array(items)) {
    char *text = wf__json_dumps(items);
    wf__fault_set(&fault,
                  st->ql == WF__QL_JSONATA ? WF__QUERY_ERROR : "States.Runtime",
                  "Map state input must be an array but was: %s",
                  text ? text : "null");
    wf__free(text);
    json_decref(items);
    json_decref(eff);
    return wf__state_fault(f, st, &fault);
  }
  int64_t max_running = st->max_concurrency;
  if (st->ata[WF__ATA_MAX_CONCURRENCY] &&
      wf__ata_integer(f, st->ata[WF__ATA_MAX_CONCURRENCY], 0, INT64_MAX,
                      &max_running, &fault) != 0) {
    json_decref(items);
    json_decref(keys);
    json_decref(eff);
    return wf__state_fault(f, st, &fault);
  }
  if (st->max_concurrency_path) {
    double v;
    if (path_number(f, st->max_concurrency_path, eff, "MaxConcurrencyPath",
                    true, &v, &fault) != 0 ||
        (v < 0 && wf__fault_set(&fault, "States.Runtime",
                                "MaxConcurrency cannot be negative."))) {
      json_decref(items);
      json_decref(keys);
      json_decref(eff);
      return wf__state_fault(f, st, &fault);
    }
    max_running = (int64_t)v;
  }
  fan_free(f->fan);
  f->fan = wf__fanout_new(json_array_size(items));
  if (!f->fan) {
    json_decref(items);
    json_decref(keys);
    json_decref(eff);
    wf__fault_set(&fault, "States.Runtime", "out of memory");
    return wf__state_fault(f, st, &fault);
  }
  f->fan->items = items;
  f->fan->keys = keys;
  f->fan->input = eff;
  f->fan->max_running = (size_t)max_running;
  wf__event_args started = {.type = WF__EV_MAP_STARTED, .st = st,
                            .number = (int64_t)f->fan->total};
  wf__history_record(f->exec, f, &started);
  /* ItemsPath, then ItemSelector per item, then ItemBatcher. */
  if (select_items(f, st, &fault) != 0 || map_settings(f, st, eff, &fault) != 0) {
    fan_free(f->fan);
    f->fan = NULL;
    return wf__state_fault(f, st, &fault);
  }
  if (f->fan->distributed) {
    /* arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:UUID */
    char uuid[37];
    wf__uuid_v4(uuid, wf__rng_next(&f->exec->rng), wf__rng_next(&f->exec->rng));
    wf_engine *e = f->exec->engine;
    wf__strbuf arn = WF__STRBUF_INIT;
    wf__strbuf_printf(&arn, "arn:aws:states:%s:%s:mapRun:%s/%s:%s", e->region,
                      e->account, f->exec->machine->name,
                      st->label ? st->label : st->name, uuid);
    wf__event_args a = {.type = WF__EV_MAP_RUN_STARTED, .st = st,
                        .text = wf__strbuf_cstr(&arn)};
    wf__history_record(f->exec, f, &a);
    f->fan->map_run_arn = wf__strbuf_take(&arn);
    if (f->fan->map_run_arn) wf__map_run_begin(f, st, f->fan->map_run_arn);
    wf__shard_plan(f);
    if (st->result_writer) {
      json_t *records = json_array();
      for (size_t i = 0; records && i < f->fan->total; i++)
        json_array_append_new(records, json_null());
      f->fan->records = records;
    }
  }
  f->phase = WF__PH_CHILDREN_DONE;
  return pump(f, st);
}
