/* Map Runs in the store: each run's record and each child execution's, as
 * documents written with their execution's commits (map_run.c collects
 * what changed), and ListMapRuns, DescribeMapRun and the children's
 * listing and description read back from them: what they answer is
 * committed, and an engine resumed on the same store answers the same.
 *   wf.mapRun            key: the run's ARN; its record
 *   wf.mapRunsOf EXEC    key: the run's ARN; the runs of an execution
 *   wf.mapRunChild       key: the child's ARN; its record
 *   wf.mapRunChildEvents key: the child's name '#' first id; a part of its
 *                        history (the events one commit wrote) */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "map_run_impl.h"
#include "workflow/map_run.h"

void wf__map_child_arn(wf__strbuf *out, const char *machine_arn,
                       const char *name) {
  const char *m = strstr(machine_arn, ":stateMachine:");
  if (!m) return;
  wf__strbuf_printf(out, "%.*s:execution:%s:%s", (int)(m - machine_arn),
                    machine_arn, m + strlen(":stateMachine:"), name);
}

/* ---- writing ---- */

static json_t *counts_json(const wf_map_run_counts *k) {
  return json_pack("[I,I,I,I,I,I,I,I,I,I]", (json_int_t)k->pending,
                   (json_int_t)k->running, (json_int_t)k->succeeded,
                   (json_int_t)k->failed, (json_int_t)k->timed_out,
                   (json_int_t)k->aborted, (json_int_t)k->total,
                   (json_int_t)k->results_written,
                   (json_int_t)k->failures_not_redrivable,
                   (json_int_t)k->pending_redrive);
}

static void counts_read(wf_map_run_counts *k, const json_t *a) {
  int64_t *f[] = {&k->pending,         &k->running,
                  &k->succeeded,       &k->failed,
                  &k->timed_out,       &k->aborted,
                  &k->total,           &k->results_written,
                  &k->failures_not_redrivable, &k->pending_redrive};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
    *f[i] = json_integer_value(json_array_get(a, i));
}

/* Append a document (kind and key copied, body taken); false when out of
 * memory (body freed). */
static bool push(wf__docs *out, const char *kind, const char *key,
                 char *body) {
  char *k = wf__strdup(kind), *y = wf__strdup(key);
  wf__docs one = {NULL, 0, 0};
  wf_store_document d = {k, y, body, 0};
  one.v = &d;
  one.n = 1;
  bool ok = k && y && body && wf__docs_move(out, &one);
  if (!ok) {
    wf__free(k);
    wf__free(y);
    wf__free(body);
  }
  return ok;
}

static char *run_body(const wf__map_run *r) {
  const wf_map_run_info *in = &r->info;
  json_t *o = json_pack(
      "{s:s,s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:o,s:o}", "arn",
      r->arn, "execution", r->execution_arn, "machine", r->machine_arn,
      "status", (int)in->status, "start", (json_int_t)in->start_ms, "stop",
      (json_int_t)in->stop_ms, "maxConcurrency",
      (json_int_t)in->max_concurrency, "toleratedCount",
      (json_int_t)in->tolerated_failure_count, "toleratedPercentage",
      in->tolerated_failure_percentage, "redriveCount",
      (json_int_t)in->redrive_count, "redriveMs", (json_int_t)in->redrive_ms,
      "children", (json_int_t)r->children, "started", (json_int_t)r->started,
      "executions", counts_json(&in->executions), "items",
      counts_json(&in->items));
  char *text = o ? wf__json_dumps(o) : NULL;
  json_decref(o);
  return text;
}

/* What the child's record says of its history: why none is kept, or its
 * chunks' first ids and its last event's id. */
static void history_fields(json_t *o, const wf__map_run *r,
                           const wf__child_rec *k) {
  if (!r->keep_history) {
    bool off = r->engine->history != WF_HISTORY_FULL;
    json_object_set_new(o, "noHistory", json_string(off ? "OFF" : "EXPRESS"));
    return;
  }
  json_t *chunks = json_array();
  for (size_t j = 0; chunks && j < k->nchunks; j++)
    json_array_append_new(chunks, json_integer(k->chunks[j]));
  json_object_set_new(o, "chunks", chunks);
  json_object_set_new(o, "events", json_integer(k->last_event));
}

void wf__map_run_child_restore(wf__child_rec *k, const json_t *doc) {
  k->start_ms = json_integer_value(json_object_get(doc, "start"));
  k->redrive_count = json_integer_value(json_object_get(doc, "redriveCount"));
  k->redrive_ms = json_integer_value(json_object_get(doc, "redriveMs"));
  json_t *chunks = json_object_get(doc, "chunks");
  size_t n = json_array_size(chunks);
  k->chunks = n ? wf__malloc(n * sizeof *k->chunks) : NULL;
  if (!k->chunks) return; /* out of memory: the history starts again */
  for (size_t j = 0; j < n; j++)
    k->chunks[j] = json_integer_value(json_array_get(chunks, j));
  k->nchunks = n;
  k->last_event = json_integer_value(json_object_get(doc, "events"));
}

/* The key of the chunk of child `arn`'s history that starts at `first`. */
static void chunk_key(wf__strbuf *out, const char *arn, int64_t first) {
  /* Its name alone (a UUID made from its run's): a shorter key, an index
   * row of less to write per child. */
  const char *name = strrchr(arn, ':');
  wf__strbuf_reset(out);
  wf__strbuf_printf(out, "%s#%lld", name ? name + 1 : arn, (long long)first);
}

/* Every payload's details say it is whole: a chunk keeps none of them,
 * and reading puts them back (a third less to write of a small child's
 * history). Their text, as history.c renders it, is structure (a string's
 * quotes are escaped), so it is found as it is. */
static const char *const WHOLE[] = {",\"inputDetails\":{\"truncated\":false}",
                                    ",\"outputDetails\":{\"truncated\":false}"};

static void drop_whole(wf__strbuf *b) {
  for (size_t w = 0; w < 2; w++) {
    size_t n = strlen(WHOLE[w]), to = 0;
    for (size_t from = 0; from < b->len;) {
      if (b->len - from >= n && memcmp(b->data + from, WHOLE[w], n) == 0) {
        from += n;
        continue;
      }
      b->data[to++] = b->data[from++];
    }
    b->len = to;
    b->data[to] = '\0';
  }
}

/* The details drop_whole() took out of an event, put back. */
static void put_whole(json_t *ev) {
  const char *k;
  json_t *d;
  json_object_foreach(ev, k, d) {
    if (!json_is_object(d)) continue;
    if (json_object_get(d, "input"))
      json_object_set_new(d, "inputDetails",
                          json_pack("{s:b}", "truncated", false));
    if (json_object_get(d, "output"))
      json_object_set_new(d, "outputDetails",
                          json_pack("{s:b}", "truncated", false));
  }
}

/* Child k's events since its last document, as a chunk (its first id
 * added to k's list); false when out of memory. */
static bool push_events(wf__docs *out, const wf_execution *x,
                        wf__child_rec *k, const char *arn) {
  if (!k->nevents) return true;
  int64_t *chunks = wf__realloc(k->chunks, (k->nchunks + 1) * sizeof *chunks);
  if (!chunks) return false;
  k->chunks = chunks;
  wf__strbuf b = WF__STRBUF_INIT, key = WF__STRBUF_INIT;
  wf__strbuf_putc(&b, '[');
  for (size_t j = 0; j < k->nevents; j++) {
    if (j) wf__strbuf_putc(&b, ',');
    wf__event_render(&b, x, &k->events[j], NULL);
  }
  wf__strbuf_putc(&b, ']');
  if (!b.oom) drop_whole(&b);
  chunk_key(&key, arn, k->events[0].id);
  bool ok = !b.oom && !key.oom &&
            push(out, WF__DOC_MAP_RUN_CHILD_EVENTS, wf__strbuf_cstr(&key),
                 wf__strbuf_take(&b));
  wf__strbuf_free(&b);
  wf__strbuf_free(&key);
  if (!ok) return false;
  k->chunks[k->nchunks++] = k->events[0].id;
  k->last_event = k->events[k->nevents - 1].id;
  return true;
}

/* The events of the children written, let go; or (`undo`, the documents
 * dropped) their chunks taken off the lists again. */
static void events_written(wf__map_run *r, bool undo) {
  for (size_t j = 0; r->kids && j < r->ndirty_kids; j++) {
    wf__child_rec *k = &r->kids[r->dirty_kids[j]];
    if (!k->nevents) continue;
    if (undo) {
      if (k->nchunks && k->chunks[k->nchunks - 1] == k->events[0].id) {
        k->nchunks--;
        k->last_event = k->events[0].id - 1; /* ids run without gaps */
      }
      continue;
    }
    for (size_t e = 0; e < k->nevents; e++) wf__event_free(&k->events[e]);
    k->nevents = 0;
  }
}

static char *child_body(const wf__map_run *r, size_t i, const char *name,
                        const char *arn) {
  const wf__child_rec *k = &r->kids[i];
  json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:i,s:I,s:I,s:I}", "arn",
                        arn, "name", name, "run", r->arn, "machine",
                        r->machine_arn, "parent", r->execution_arn, "index",
                        (json_int_t)(r->base + i), "status", (int)k->status, "start",
                        (json_int_t)k->start_ms, "stop",
                        (json_int_t)k->stop_ms, "items",
                        (json_int_t)r->items[i]);
  char *input = wf__json_dumps(k->input ? k->input : json_null());
  char *output = k->status == WF_EXEC_SUCCEEDED ? wf__json_dumps(k->output)
                                                : NULL;
  if (o && input) json_object_set_new(o, "input", json_string(input));
  if (o && output) json_object_set_new(o, "output", json_string(output));
  if (o && k->error) json_object_set_new(o, "error", json_string(k->error));
  if (o && k->cause) json_object_set_new(o, "cause", json_string(k->cause));
  if (o && k->redrive_count) {
    json_object_set_new(o, "redriveCount", json_integer(k->redrive_count));
    json_object_set_new(o, "redriveMs", json_integer(k->redrive_ms));
  }
  if (o) history_fields(o, r, k);
  char *text = o && input ? wf__json_dumps(o) : NULL;
  wf__free(input);
  wf__free(output);
  json_decref(o);
  return text;
}

bool wf__map_run_docs(wf__map_run *r, const wf_execution *x,
                      wf__docs *out) {
  size_t before = out->n;
  /* A share writes its children's records, never its parent's run's. */
  bool ok = r->share || push(out, WF__DOC_MAP_RUN, r->arn, run_body(r));
  wf__strbuf kind = WF__STRBUF_INIT, arn = WF__STRBUF_INIT;
  if (ok && !r->listed) {
    wf__strbuf_printf(&kind, "%s%s", WF__DOC_MAP_RUNS_OF, r->execution_arn);
    ok = !kind.oom && push(out, wf__strbuf_cstr(&kind), r->arn,
                           wf__strdup("{}"));
  }
  for (size_t j = 0; ok && r->kids && j < r->ndirty_kids; j++) {
    size_t i = r->dirty_kids[j];
    char name[37];
    wf__map_child_name(name, r->arn, r->base + i);
    wf__strbuf_reset(&arn);
    wf__map_child_arn(&arn, r->machine_arn, name);
    ok = !arn.oom &&
         push_events(out, x, &r->kids[i], wf__strbuf_cstr(&arn)) &&
         push(out, WF__DOC_MAP_RUN_CHILD, wf__strbuf_cstr(&arn),
              child_body(r, i, name, wf__strbuf_cstr(&arn)));
  }
  wf__strbuf_free(&kind);
  wf__strbuf_free(&arn);
  events_written(r, !ok);
  if (!ok) { /* all or none: the next commit carries them */
    wf__docs part = {out->v + before, out->n - before, 0};
    out->n = before;
    wf__docs copy = {NULL, 0, 0};
    wf__docs_move(&copy, &part);
    wf__docs_free(&copy);
    return false;
  }
  r->listed = true;
  for (size_t j = 0; r->kids && j < r->ndirty_kids; j++)
    r->kids[r->dirty_kids[j]].dirty = false;
  r->ndirty_kids = 0;
  return true;
}

/* ---- reading ---- */

static int keep_body(const wf_store_document *d, void *payload) {
  *(json_t **)payload = json_loads(d->body ? d->body : "", 0, NULL);
  return 1;
}

json_t *wf__map_run_doc_read(wf_engine *e, const char *kind, const char *key,
                             int *rc, wf_error *err) {
  json_t *o = NULL;
  *rc = wf_store_get_document(e->store, kind, key, keep_body, &o, err);
  if (*rc == WF_OK && !json_is_object(o)) {
    json_decref(o);
    o = NULL;
    *rc = wf__error_set(err, WF_ECORRUPT, NULL,
                        "the record of '%s' is not a JSON object", key);
  }
  return o;
}

json_t *wf__map_run_child_doc(wf_engine *e, const char *run_arn,
                              const char *machine_arn, size_t i, int *rc,
                              wf_error *err) {
  char name[37];
  wf__map_child_name(name, run_arn, i);
  wf__strbuf arn = WF__STRBUF_INIT;
  wf__map_child_arn(&arn, machine_arn, name);
  json_t *doc = NULL;
  if (arn.oom)
    *rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  else
    doc = wf__map_run_doc_read(e, WF__DOC_MAP_RUN_CHILD,
                               wf__strbuf_cstr(&arn), rc, err);
  wf__strbuf_free(&arn);
  return doc;
}

/* A run's record: its strings borrowed from `doc`. */
static void info_read(wf_map_run_info *in, const json_t *doc) {
  *in = (wf_map_run_info){0};
  in->map_run_arn = json_string_value(json_object_get(doc, "arn"));
  in->execution_arn = json_string_value(json_object_get(doc, "execution"));
  in->state_machine_arn = json_string_value(json_object_get(doc, "machine"));
  in->status = (wf_map_run_status)json_integer_value(
      json_object_get(doc, "status"));
  in->start_ms = json_integer_value(json_object_get(doc, "start"));
  in->stop_ms = json_integer_value(json_object_get(doc, "stop"));
  in->max_concurrency =
      json_integer_value(json_object_get(doc, "maxConcurrency"));
  in->tolerated_failure_count =
      json_integer_value(json_object_get(doc, "toleratedCount"));
  in->tolerated_failure_percentage =
      json_number_value(json_object_get(doc, "toleratedPercentage"));
  in->redrive_count = json_integer_value(json_object_get(doc, "redriveCount"));
  in->redrive_ms = json_integer_value(json_object_get(doc, "redriveMs"));
  counts_read(&in->executions, json_object_get(doc, "executions"));
  counts_read(&in->items, json_object_get(doc, "items"));
}

int wf__map_run_doc_load(wf__map_run *r, const json_t *doc) {
  wf_map_run_info in;
  info_read(&in, doc);
  if (!in.map_run_arn || !in.execution_arn || !in.state_machine_arn)
    return WF_ECORRUPT;
  r->arn = wf__strdup(in.map_run_arn);
  r->execution_arn = wf__strdup(in.execution_arn);
  r->machine_arn = wf__strdup(in.state_machine_arn);
  if (!r->arn || !r->execution_arn || !r->machine_arn) return WF_ENOMEM;
  r->info = in;
  r->info.map_run_arn = r->arn;
  r->info.execution_arn = r->execution_arn;
  r->info.state_machine_arn = r->machine_arn;
  r->started = (size_t)json_integer_value(json_object_get(doc, "started"));
  return WF_OK;
}

/* The run `arn`'s record (new reference); NULL with *rc and err set:
 * WF_ENOTFOUND as "Map Run Does Not Exist". */
static json_t *run_doc(wf_engine *e, const char *arn, int *rc, wf_error *err) {
  json_t *doc = wf__map_run_doc_read(e, WF__DOC_MAP_RUN, arn, rc, err);
  if (*rc == WF_ENOTFOUND)
    wf__error_set(err, WF_ENOTFOUND, NULL, "Map Run Does Not Exist: '%s'",
                  arn);
  return doc;
}

static int report(const json_t *doc, wf_map_run_cb cb, void *payload) {
  wf_map_run_info in;
  info_read(&in, doc);
  return cb(&in, payload);
}

static int keep_key(const wf_store_document *d, void *payload) {
  json_array_append_new(payload, json_string(d->key));
  return 0;
}

int wf_engine_list_map_runs(wf_engine *e, const char *execution_arn,
                            wf_map_run_cb cb, void *payload, wf_error *err) {
  if (!e || !execution_arn || !cb)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, execution ARN and callback are required");
  wf__strbuf kind = WF__STRBUF_INIT;
  wf__strbuf_printf(&kind, "%s%s", WF__DOC_MAP_RUNS_OF, execution_arn);
  json_t *keys = json_array();
  int rc = kind.oom || !keys
               ? wf__error_set(err, WF_ENOMEM, NULL, "out of memory")
               : wf_store_list_documents(e->store, wf__strbuf_cstr(&kind), 0,
                                         0, keep_key, keys, err);
  wf__strbuf_free(&kind);
  /* An execution runs a few Map Runs: their ARNs first, then each (a read
   * callback must not read the store again). */
  for (size_t i = 0; rc == WF_OK && i < json_array_size(keys); i++) {
    json_t *doc = run_doc(e, json_string_value(json_array_get(keys, i)), &rc,
                          err);
    if (rc == WF_ENOTFOUND) rc = WF_OK; /* not yet written: not listed */
    if (doc && report(doc, cb, payload) != 0) i = json_array_size(keys);
    json_decref(doc);
  }
  json_decref(keys);
  return rc;
}

int wf_engine_describe_map_run(wf_engine *e, const char *map_run_arn,
                               wf_map_run_cb cb, void *payload,
                               wf_error *err) {
  if (!e || !map_run_arn || !cb)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, Map Run ARN and callback are required");
  int rc;
  json_t *doc = run_doc(e, map_run_arn, &rc, err);
  if (doc) report(doc, cb, payload);
  json_decref(doc);
  return rc;
}

int wf__map_run_doc_update(wf_engine *e, const char *arn,
                           const wf_map_run_update *u, wf_error *err) {
  int rc;
  json_t *doc = run_doc(e, arn, &rc, err);
  if (!doc) return rc;
  if (u->set & WF_MAP_RUN_SET_MAX_CONCURRENCY)
    json_object_set_new(doc, "maxConcurrency",
                        json_integer(u->max_concurrency));
  if (u->set & WF_MAP_RUN_SET_TOLERATED_COUNT)
    json_object_set_new(doc, "toleratedCount",
                        json_integer(u->tolerated_failure_count));
  if (u->set & WF_MAP_RUN_SET_TOLERATED_PERCENTAGE)
    json_object_set_new(doc, "toleratedPercentage",
                        json_real(u->tolerated_failure_percentage));
  char *body = wf__json_dumps(doc);
  json_decref(doc);
  if (!body) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  wf_store_document d = {WF__DOC_MAP_RUN, arn, body, 0};
  rc = wf_store_put_documents(e->store, &d, 1, err);
  wf__free(body);
  return rc;
}

/* ---- child executions ---- */

/* A child's record as the callback sees it; `full`: with its input,
 * output, error and cause. Strings borrowed from `doc`. */
static void child_read(wf_map_run_child *c, const json_t *doc, bool full) {
  *c = (wf_map_run_child){
      .version = WF_MAP_RUN_CHILD_VERSION,
      .execution_arn = json_string_value(json_object_get(doc, "arn")),
      .name = json_string_value(json_object_get(doc, "name")),
      .map_run_arn = json_string_value(json_object_get(doc, "run")),
      .state_machine_arn = json_string_value(json_object_get(doc, "machine")),
      .parent_arn = json_string_value(json_object_get(doc, "parent")),
      .index = json_integer_value(json_object_get(doc, "index")),
      .status = (wf_exec_status)json_integer_value(
          json_object_get(doc, "status")),
      .start_ms = json_integer_value(json_object_get(doc, "start")),
      .stop_ms = json_integer_value(json_object_get(doc, "stop")),
      .item_count = json_integer_value(json_object_get(doc, "items")),
      .redrive_count = json_integer_value(json_object_get(doc, "redriveCount")),
      .redrive_ms = json_integer_value(json_object_get(doc, "redriveMs"))};
  if (!full) return;
  c->input = json_string_value(json_object_get(doc, "input"));
  c->output = json_string_value(json_object_get(doc, "output"));
  c->error = json_string_value(json_object_get(doc, "error"));
  c->cause = json_string_value(json_object_get(doc, "cause"));
}

int wf_engine_list_map_run_children(wf_engine *e, const char *map_run_arn,
                                    int64_t before, wf_map_run_child_cb cb,
                                    void *payload, wf_error *err) {
  if (!e || !map_run_arn || !cb)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, Map Run ARN and callback are required");
  int rc;
  json_t *run = run_doc(e, map_run_arn, &rc, err);
  if (!run) return rc;
  const char *machine = json_string_value(json_object_get(run, "machine"));
  int64_t started = json_integer_value(json_object_get(run, "started"));
  int64_t i = before > 0 && before < started ? before : started;
  /* Each child read by its ARN, newest first: a page reads what it shows,
   * whatever the size of the run. */
  while (rc == WF_OK && machine && i-- > 0) {
    json_t *doc =
        wf__map_run_child_doc(e, map_run_arn, machine, (size_t)i, &rc, err);
    if (rc == WF_ENOTFOUND) { /* not started */
      rc = WF_OK;
      continue;
    }
    wf_map_run_child c;
    if (doc) child_read(&c, doc, false);
    bool stop = doc && cb(&c, payload) != 0;
    json_decref(doc);
    if (stop) break;
  }
  json_decref(run);
  return rc;
}

/* The record of the child `arn` (new reference); NULL with *rc and err
 * set: WF_ENOTFOUND as "Execution Does Not Exist". */
static json_t *child_doc(wf_engine *e, const char *arn, int *rc,
                         wf_error *err) {
  json_t *doc = wf__map_run_doc_read(e, WF__DOC_MAP_RUN_CHILD, arn, rc, err);
  if (*rc == WF_ENOTFOUND)
    wf__error_set(err, WF_ENOTFOUND, NULL, "Execution Does Not Exist: '%s'",
                  arn);
  return doc;
}

int wf_engine_describe_map_run_child(wf_engine *e, const char *execution_arn,
                                     wf_map_run_child_cb cb, void *payload,
                                     wf_error *err) {
  if (!e || !execution_arn || !cb)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, execution ARN and callback are required");
  int rc;
  json_t *doc = child_doc(e, execution_arn, &rc, err);
  if (doc) {
    wf_map_run_child c;
    child_read(&c, doc, true);
    cb(&c, payload);
  }
  json_decref(doc);
  return rc;
}

/* ---- a child's history ---- */

/* Reading one chunk: the events from `from` on (or down, reverse). */
typedef struct reader {
  const char *arn;
  wf_store_event_cb cb;
  void *payload;
  size_t limit, count;
  bool reverse, stop;
} reader;

/* Give one event of a chunk; false to stop. */
static bool give(reader *rd, json_t *ev) {
  put_whole(ev);
  char *text = wf__json_dumps(ev);
  if (!text) return false;
  wf_store_event se = {
      .execution_arn = rd->arn,
      .id = json_integer_value(json_object_get(ev, "id")),
      .previous_id = json_integer_value(json_object_get(ev, "previousEventId")),
      .timestamp_ms =
          (int64_t)(json_number_value(json_object_get(ev, "timestamp")) *
                        1000.0 + 0.5),
      .type = json_string_value(json_object_get(ev, "type")),
      .json = text};
  bool go = rd->cb(&se, rd->payload) == 0;
  wf__free(text);
  rd->count++;
  return go && (!rd->limit || rd->count < rd->limit);
}

/* The chunk starting at `first`: its events from id `from` on (or down). */
static int read_chunk(wf_engine *e, reader *rd, int64_t first, int64_t from,
                      wf_error *err) {
  wf__strbuf key = WF__STRBUF_INIT;
  chunk_key(&key, rd->arn, first);
  json_t *events = NULL;
  int rc = key.oom ? wf__error_set(err, WF_ENOMEM, NULL, "out of memory")
                   : wf_store_get_document(e->store,
                                           WF__DOC_MAP_RUN_CHILD_EVENTS,
                                           wf__strbuf_cstr(&key), keep_body,
                                           &events, err);
  wf__strbuf_free(&key);
  if (rc == WF_OK && !json_is_array(events))
    rc = wf__error_set(err, WF_ECORRUPT, NULL,
                       "the history of '%s' is not a JSON array", rd->arn);
  size_t n = json_array_size(events);
  for (size_t j = 0; rc == WF_OK && !rd->stop && j < n; j++) {
    json_t *ev = json_array_get(events, rd->reverse ? n - 1 - j : j);
    int64_t id = json_integer_value(json_object_get(ev, "id"));
    if (rd->reverse ? id > from : id < from) continue;
    if (!give(rd, ev)) rd->stop = true;
  }
  json_decref(events);
  return rc;
}

int wf_engine_read_map_run_child_events(wf_engine *e,
                                        const char *execution_arn,
                                        int64_t from_id, bool reverse,
                                        size_t limit, wf_store_event_cb cb,
                                        void *payload, wf_error *err) {
  if (!e || !execution_arn || !cb)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, execution ARN and callback are required");
  int rc;
  json_t *doc = child_doc(e, execution_arn, &rc, err);
  if (!doc) return rc;
  const char *none = json_string_value(json_object_get(doc, "noHistory"));
  json_t *chunks = json_object_get(doc, "chunks");
  int64_t last = json_integer_value(json_object_get(doc, "events"));
  if (none && strcmp(none, "EXPRESS") == 0)
    rc = wf__error_set(err, WF_EUNSUPPORTED, NULL,
                       "'%s' is an EXPRESS child execution: no history is "
                       "kept of it", execution_arn);
  else if (none || !json_is_array(chunks))
    rc = wf__error_set(err, WF_EUNSUPPORTED, NULL,
                       "no history is kept of '%s': its engine ran with "
                       "history off", execution_arn);
  reader rd = {execution_arn, cb, payload, limit, 0, reverse, false};
  int64_t from = reverse ? (from_id <= 0 || from_id > last ? last : from_id)
                         : (from_id < 1 ? 1 : from_id);
  size_t n = json_array_size(chunks);
  /* The chunk holding `from`: the last one starting at or before it. */
  size_t k = 0;
  while (k + 1 < n &&
         json_integer_value(json_array_get(chunks, k + 1)) <= from)
    k++;
  if (rc == WF_OK && n && from <= last && from >= 1) {
    for (size_t j = k;; j = reverse ? j - 1 : j + 1) {
      if (!reverse && j >= n) break;
      rc = read_chunk(e, &rd,
                      json_integer_value(json_array_get(chunks, j)), from,
                      err);
      if (rc != WF_OK || rd.stop || (reverse && j == 0)) break;
    }
  }
  json_decref(doc);
  return rc;
}

void wf__map_run_restore_records(const wf__map_run *r, wf__fanout *fan) {
  json_t *records = json_array();
  for (size_t i = 0; records && i < fan->total; i++)
    json_array_append_new(records, json_null());
  if (!records || json_array_size(records) != fan->total) {
    json_decref(records);
    return;
  }
  fan->records = records;
  for (size_t i = 0; i < r->started && i < fan->total; i++) {
    int rc;
    json_t *doc = wf__map_run_child_doc(r->engine, r->arn, r->machine_arn,
                                        r->base + i, &rc, NULL);
    if (!doc) continue; /* never started */
    wf_map_run_child c;
    child_read(&c, doc, true);
    wf__map_child_restored(fan, &c);
    json_decref(doc);
  }
}
