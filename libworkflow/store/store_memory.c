/* The in-memory store: hash maps and lists under one lock. What an engine
 * created without a store uses; nothing survives the process. Callbacks
 * run with the lock held, so they must not call the store. A commit that
 * runs out of memory may be partly applied (there is nothing to recover
 * from a volatile store anyway). */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "store_impl.h"
#include "strbuf.h"
#include "strmap.h"

typedef struct mem_event {
  int64_t id, prev, ts;
  char *type, *json;
} mem_event;

typedef struct mem_exec {
  wf_store_execution rec; /* strings owned */
  json_t *output;         /* given as a value: rec.output is its text,
                             rendered on first read */
  char *name_key;         /* machine_name \x1f name */
  mem_event *events;
  size_t nevents, cap;
  struct mem_exec *newer, *older; /* every execution, by seq */
  struct mem_exec *ended_next, *ended_prev; /* ended ones, by ending */
  bool ended;
  struct mem_doc *owned; /* the documents pruned with it */
} mem_exec;

typedef struct mem_doc {
  wf_store_document rec; /* strings owned */
  char *map_key;         /* kind \x1f key */
  struct mem_doc *next, *prev; /* by seq */
  mem_exec *owner;       /* NULL: kept until deleted */
  struct mem_doc *owned_next, *owned_prev;
} mem_doc;

typedef struct mem_def {
  wf_store_definition rec;
} mem_def;

typedef struct mem_store {
  pthread_mutex_t mu;
  wf__strmap defs, execs, names, docs;
  mem_exec *newest, *oldest;
  mem_exec *ended_first, *ended_last;
  size_t nended;
  mem_doc *doc_first, *doc_last;
  int64_t seq, doc_seq;
  bool read_only;
} mem_store;

static char *dup(const char *s) { return s ? wf__strdup(s) : NULL; }

static char *join_key(const char *a, const char *b) {
  wf__strbuf k = WF__STRBUF_INIT;
  wf__strbuf_puts(&k, a ? a : "");
  wf__strbuf_putc(&k, '\x1f');
  wf__strbuf_puts(&k, b ? b : "");
  return wf__strbuf_take(&k);
}

/* ---- records ---- */

/* The strings fixed at an execution's start live in one block (`fixed`,
 * with the name key at its head); those its progress changes (output,
 * error, cause, state) are allocated one by one. */
static void exec_strings_free(mem_exec *x) {
  wf__free((char *)x->rec.output);
  wf__free((char *)x->rec.error);
  wf__free((char *)x->rec.cause);
  wf__free((char *)x->rec.state);
  wf__free(x->name_key);
}

static size_t len0(const char *s) { return s ? strlen(s) + 1 : 0; }

/* Copy s into *p (NULL stays NULL). */
static const char *place(char **p, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *at = *p;
  memcpy(at, s, n);
  *p += n;
  return at;
}

/* Copy a new execution's record (false on out-of-memory). */
static bool exec_strings_dup(mem_exec *x, const wf_store_execution *in) {
  const char *fixed[] = {in->arn, in->name, in->machine_name,
                         in->machine_arn, in->definition_id, in->input,
                         in->correlation_id, in->role_arn};
  size_t n = strlen(in->machine_name) + strlen(in->name) + 2;
  if (wf__store_arn_is_express(in->arn) && strlen(in->arn) + 1 > n)
    n = strlen(in->arn) + 1;
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
    n += len0(fixed[i]);
  char *block = wf__malloc(n);
  if (!block) return false;
  x->rec = *in;
  x->rec.output = x->rec.error = x->rec.cause = x->rec.state = NULL;
  x->name_key = block;
  char *p = block;
  /* An EXPRESS execution's name may repeat: its ARN stands for it. */
  if (wf__store_arn_is_express(in->arn))
    p += (size_t)sprintf(p, "%s", in->arn) + 1;
  else
    p += (size_t)sprintf(p, "%s\x1f%s", in->machine_name, in->name) + 1;
  x->rec.arn = place(&p, in->arn);
  x->rec.name = place(&p, in->name);
  x->rec.machine_name = place(&p, in->machine_name);
  x->rec.machine_arn = place(&p, in->machine_arn);
  x->rec.definition_id = place(&p, in->definition_id);
  x->rec.input = place(&p, in->input);
  x->rec.correlation_id = place(&p, in->correlation_id);
  x->rec.role_arn = place(&p, in->role_arn);
  if ((in->output && !(x->rec.output = wf__strdup(in->output))) ||
      (in->error && !(x->rec.error = wf__strdup(in->error))) ||
      (in->cause && !(x->rec.cause = wf__strdup(in->cause))) ||
      (in->state && !(x->rec.state = wf__strdup(in->state)))) {
    exec_strings_free(x);
    return false;
  }
  return true;
}

static void exec_free(mem_exec *x) {
  exec_strings_free(x);
  json_decref(x->output);
  for (size_t i = 0; i < x->nevents; i++) {
    wf__free(x->events[i].type);
    wf__free(x->events[i].json);
  }
  wf__free(x->events);
  wf__free(x);
}

static void ended_unlink(mem_store *m, mem_exec *x) {
  if (!x->ended) return;
  if (x->ended_prev) x->ended_prev->ended_next = x->ended_next;
  else m->ended_first = x->ended_next;
  if (x->ended_next) x->ended_next->ended_prev = x->ended_prev;
  else m->ended_last = x->ended_prev;
  x->ended = false;
  m->nended--;
}

static void ended_append(mem_store *m, mem_exec *x) {
  x->ended = true;
  x->ended_next = NULL;
  x->ended_prev = m->ended_last;
  if (m->ended_last) m->ended_last->ended_next = x;
  else m->ended_first = x;
  m->ended_last = x;
  m->nended++;
}

/* Take x out of every table (lock held); the caller frees it, after
 * letting go of the lock. */
static void exec_unlink(mem_store *m, mem_exec *x) {
  ended_unlink(m, x);
  if (x->newer) x->newer->older = x->older;
  else m->newest = x->older;
  if (x->older) x->older->newer = x->newer;
  else m->oldest = x->newer;
  wf__strmap_remove(&m->execs, x->rec.arn);
  wf__strmap_remove(&m->names, x->name_key);
}

/* ---- commit ---- */

static int put_definition(mem_store *m, const wf_store_definition *d,
                          wf_error *err) {
  if (!d->id) return wf__error_set(err, WF_EINVAL, NULL, "a definition "
                                   "has no id");
  if (wf__strmap_get(&m->defs, d->id)) return WF_OK; /* written once */
  mem_def *n = wf__calloc(1, sizeof *n);
  if (!n) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  n->rec = *d;
  n->rec.id = dup(d->id);
  n->rec.name = dup(d->name);
  n->rec.definition = dup(d->definition);
  n->rec.options = dup(d->options);
  if (!n->rec.id || !wf__strmap_put(&m->defs, n->rec.id, n, NULL)) {
    wf__free((char *)n->rec.id);
    wf__free((char *)n->rec.name);
    wf__free((char *)n->rec.definition);
    wf__free((char *)n->rec.options);
    wf__free(n);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  return WF_OK;
}

/* A new execution's name must be free (checked for the whole batch before
 * anything is applied). */
static int check_name(mem_store *m, const wf_store_execution *r,
                      wf_error *err) {
  if (!r->arn || !r->name || !r->machine_name)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "an execution needs an ARN, a name and a machine");
  if (wf__strmap_get(&m->execs, r->arn) || wf__store_arn_is_express(r->arn))
    return WF_OK;
  char *key = join_key(r->machine_name, r->name);
  if (!key) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  mem_exec *other = wf__strmap_get(&m->names, key);
  wf__free(key);
  if (other)
    return wf__error_set(err, WF_EEXIST, NULL,
                         "Execution Already Exists: '%s'", other->rec.arn);
  return WF_OK;
}

/* What an update of a known execution brings: copied before the lock is
 * taken, swapped in under it, and what it replaces freed after. */
typedef struct progress {
  char *output, *error, *cause, *state;
  json_t *value;
} progress;

static bool progress_copy(progress *p, const wf_store_execution *r) {
  *p = (progress){r->output ? wf__strdup(r->output) : NULL,
                  r->error ? wf__strdup(r->error) : NULL,
                  r->cause ? wf__strdup(r->cause) : NULL,
                  r->state ? wf__strdup(r->state) : NULL,
                  json_incref((json_t *)r->output_value)};
  return (!r->output || p->output) && (!r->error || p->error) &&
         (!r->cause || p->cause) && (!r->state || p->state);
}

static void progress_free(progress *p) {
  wf__free(p->output);
  wf__free(p->error);
  wf__free(p->cause);
  wf__free(p->state);
  json_decref(p->value);
}

/* An execution's progress: what an update changes (the rest is fixed at
 * its start). *p gets what it replaced. */
static void update_execution(mem_store *m, mem_exec *x,
                             const wf_store_execution *r, progress *p) {
  bool was_running = x->rec.status == 0;
  progress old = {(char *)x->rec.output, (char *)x->rec.error,
                  (char *)x->rec.cause, (char *)x->rec.state, x->output};
  x->rec.output = p->output;
  x->rec.error = p->error;
  x->rec.cause = p->cause;
  x->rec.state = p->state;
  x->output = p->value;
  *p = old;
  x->rec.status = r->status;
  x->rec.stop_ms = r->stop_ms;
  x->rec.event_count = r->event_count;
  if (was_running && r->status != 0) ended_append(m, x);
  /* A redriven execution runs again: it is not one to prune. */
  if (!was_running && r->status == 0) ended_unlink(m, x);
}

static int put_execution(mem_store *m, const wf_store_execution *r,
                         progress *p, wf_error *err) {
  if (!r->arn || !r->name || !r->machine_name)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "an execution needs an ARN, a name and a machine");
  mem_exec *x = wf__strmap_get(&m->execs, r->arn);
  if (x) {
    update_execution(m, x, r, p);
    return WF_OK;
  }
  x = wf__calloc(1, sizeof *x);
  if (!x || !exec_strings_dup(x, r)) {
    wf__free(x);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  x->output = json_incref((json_t *)r->output_value);
  x->rec.output_value = NULL;
  if (wf__strmap_get(&m->names, x->name_key)) {
    exec_free(x); /* the batch started this name twice */
    return wf__error_set(err, WF_EEXIST, NULL,
                         "Execution Already Exists: '%s'", r->arn);
  }
  x->rec.seq = ++m->seq;
  /* The keys are the record's own strings. */
  if (!wf__strmap_put_borrowed(&m->execs, x->rec.arn, x, NULL)) {
    exec_free(x);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  if (!wf__strmap_put_borrowed(&m->names, x->name_key, x, NULL)) {
    wf__strmap_remove(&m->execs, x->rec.arn);
    exec_free(x);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  x->older = m->newest;
  if (m->newest) m->newest->newer = x;
  else m->oldest = x;
  m->newest = x;
  if (x->rec.status != 0) ended_append(m, x);
  return WF_OK;
}

static int put_event(mem_store *m, const wf_store_event *e, wf_error *err) {
  mem_exec *x = e->execution_arn ? wf__strmap_get(&m->execs, e->execution_arn)
                                 : NULL;
  if (!x)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "event %lld of an unknown execution '%s'",
                         (long long)e->id,
                         e->execution_arn ? e->execution_arn : "(null)");
  if (e->id != (int64_t)x->nevents + 1)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "event %lld of '%s' out of order (expected %zu)",
                         (long long)e->id, x->rec.arn, x->nevents + 1);
  if (x->nevents == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 16;
    mem_event *evs = wf__realloc(x->events, cap * sizeof *evs);
    if (!evs) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    x->events = evs;
    x->cap = cap;
  }
  mem_event *n = &x->events[x->nevents];
  *n = (mem_event){e->id, e->previous_id, e->timestamp_ms, dup(e->type),
                   dup(e->json)};
  if ((e->type && !n->type) || (e->json && !n->json)) {
    wf__free(n->type);
    wf__free(n->json);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  x->nevents++;
  return WF_OK;
}

static void owned_unlink(mem_doc *d) {
  if (!d->owner) return;
  if (d->owned_prev) d->owned_prev->owned_next = d->owned_next;
  else d->owner->owned = d->owned_next;
  if (d->owned_next) d->owned_next->owned_prev = d->owned_prev;
  d->owner = NULL;
  d->owned_next = d->owned_prev = NULL;
}

static void owned_link(mem_doc *d, mem_exec *owner) {
  if (!owner || d->owner == owner) return;
  owned_unlink(d);
  d->owner = owner;
  d->owned_next = owner->owned;
  if (owner->owned) owner->owned->owned_prev = d;
  owner->owned = d;
}

/* Out of every list and table (the caller frees it). */
static void doc_unlink(mem_store *m, mem_doc *d) {
  if (d->prev) d->prev->next = d->next;
  else m->doc_first = d->next;
  if (d->next) d->next->prev = d->prev;
  else m->doc_last = d->prev;
  owned_unlink(d);
  wf__strmap_remove(&m->docs, d->map_key);
}

static void doc_free(mem_doc *d) {
  wf__free((char *)d->rec.kind);
  wf__free((char *)d->rec.key);
  wf__free((char *)d->rec.body);
  wf__free(d->map_key);
  wf__free(d);
}

static int put_document(mem_store *m, const wf_store_document *d,
                        const char *owner_arn, wf_error *err) {
  /* Stored by now: check_owner vouched for it before anything was applied. */
  mem_exec *owner =
      d->body && owner_arn ? wf__strmap_get(&m->execs, owner_arn) : NULL;
  char *key = join_key(d->kind, d->key);
  if (!key) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  mem_doc *old = wf__strmap_get(&m->docs, key);
  if (!d->body) {
    if (old) {
      doc_unlink(m, old);
      doc_free(old);
    }
    wf__free(key);
    return WF_OK;
  }
  if (old) {
    char *body = dup(d->body);
    wf__free(key);
    if (!body) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    wf__free((char *)old->rec.body);
    old->rec.body = body;
    owned_link(old, owner);
    return WF_OK;
  }
  mem_doc *n = wf__calloc(1, sizeof *n);
  if (n) {
    n->map_key = key;
    n->rec.kind = dup(d->kind);
    n->rec.key = dup(d->key);
    n->rec.body = dup(d->body);
  }
  if (!n || !n->rec.kind || !n->rec.key || !n->rec.body ||
      !wf__strmap_put(&m->docs, key, n, NULL)) {
    if (n) doc_free(n);
    else wf__free(key);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  n->rec.seq = ++m->doc_seq;
  n->prev = m->doc_last;
  if (m->doc_last) m->doc_last->next = n;
  else m->doc_first = n;
  m->doc_last = n;
  owned_link(n, owner);
  return WF_OK;
}

/* Document i's owner is stored or comes with the batch (checked before
 * anything is applied). */
static int check_owner(mem_store *m, const wf_store_batch *b, size_t i,
                       wf_error *err) {
  const char *arn = b->document_owners[i];
  if (!arn || !b->documents[i].body || wf__strmap_get(&m->execs, arn))
    return WF_OK;
  for (size_t k = 0; k < b->nexecutions; k++)
    if (b->executions[k].arn && strcmp(b->executions[k].arn, arn) == 0)
      return WF_OK;
  return wf__error_set(err, WF_EINVAL, NULL,
                       "document '%s' of an unknown execution '%s'",
                       b->documents[i].key ? b->documents[i].key : "(null)",
                       arn);
}

static int mem_commit(void *backend, const wf_store_batch *b, wf_error *err) {
  mem_store *m = backend;
  if (m->read_only)
    return wf__error_set(err, WF_EPERM, NULL, "the store is read-only");
  /* Copies are made before the lock, and what they replace freed after:
   * the lock covers the tables only. */
  progress one, *ps = b->nexecutions == 1 ? &one
                                          : wf__calloc(b->nexecutions, sizeof *ps);
  if (!ps) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  int rc = WF_OK;
  for (size_t i = 0; i < b->nexecutions; i++)
    if (!progress_copy(&ps[i], &b->executions[i]))
      rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  if (rc == WF_OK) {
    pthread_mutex_lock(&m->mu);
    /* Names are checked for the whole batch before anything is applied;
     * a batch of one is checked by put_execution itself (the definitions
     * before it are written once whatever happens). */
    for (size_t i = 0; rc == WF_OK && b->nexecutions > 1 && i < b->nexecutions;
         i++)
      rc = check_name(m, &b->executions[i], err);
    for (size_t i = 0; rc == WF_OK && b->document_owners && i < b->ndocuments;
         i++)
      rc = check_owner(m, b, i, err);
    for (size_t i = 0; rc == WF_OK && i < b->ndefinitions; i++)
      rc = put_definition(m, &b->definitions[i], err);
    for (size_t i = 0; rc == WF_OK && i < b->nexecutions; i++)
      rc = put_execution(m, &b->executions[i], &ps[i], err);
    for (size_t i = 0; rc == WF_OK && i < b->nevents; i++)
      rc = put_event(m, &b->events[i], err);
    for (size_t i = 0; rc == WF_OK && i < b->ndocuments; i++)
      rc = put_document(m, &b->documents[i],
                        b->document_owners ? b->document_owners[i] : NULL,
                        err);
    pthread_mutex_unlock(&m->mu);
  }
  for (size_t i = 0; i < b->nexecutions; i++) progress_free(&ps[i]);
  if (ps != &one) wf__free(ps);
  return rc;
}

/* ---- reads ---- */

/* The record as a reader sees it: an output given as a value is rendered
 * once, here (lock held). */
static const wf_store_execution *seen(mem_exec *x) {
  if (x->output && !x->rec.output) x->rec.output = wf__json_dumps(x->output);
  return &x->rec;
}

static int not_found(wf_error *err, const char *what, const char *key) {
  return wf__error_set(err, WF_ENOTFOUND, NULL, "no %s '%s'", what, key);
}

static int mem_get_execution(void *backend, const char *arn,
                             wf_store_execution_cb cb, void *payload,
                             wf_error *err) {
  mem_store *m = backend;
  pthread_mutex_lock(&m->mu);
  mem_exec *x = wf__strmap_get(&m->execs, arn);
  if (x) cb(seen(x), payload);
  pthread_mutex_unlock(&m->mu);
  return x ? WF_OK : not_found(err, "execution", arn);
}

static int mem_find_execution(void *backend, const char *machine_name,
                              const char *name, wf_store_execution_cb cb,
                              void *payload, wf_error *err) {
  mem_store *m = backend;
  char *key = join_key(machine_name, name);
  if (!key) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  pthread_mutex_lock(&m->mu);
  mem_exec *x = wf__strmap_get(&m->names, key);
  if (x) cb(seen(x), payload);
  pthread_mutex_unlock(&m->mu);
  wf__free(key);
  return x ? WF_OK : not_found(err, "execution", name);
}

static bool matches(const wf_store_query *q, const wf_store_execution *r) {
  if (q->machine_name && strcmp(q->machine_name, r->machine_name) != 0)
    return false;
  if (q->machine_arn &&
      (!r->machine_arn || strcmp(q->machine_arn, r->machine_arn) != 0))
    return false;
  if (q->status >= 0 && q->status != r->status) return false;
  return !q->before_seq || r->seq < q->before_seq;
}

static int mem_list_executions(void *backend, const wf_store_query *q,
                               wf_store_execution_cb cb, void *payload,
                               wf_error *err) {
  (void)err;
  mem_store *m = backend;
  size_t n = 0;
  pthread_mutex_lock(&m->mu);
  for (mem_exec *x = m->newest; x && (!q->limit || n < q->limit);
       x = x->older) {
    if (!matches(q, &x->rec)) continue;
    n++;
    if (cb(seen(x), payload)) break;
  }
  pthread_mutex_unlock(&m->mu);
  return WF_OK;
}

static int mem_list_running(void *backend, wf_store_execution_cb cb,
                            void *payload, wf_error *err) {
  (void)err;
  mem_store *m = backend;
  pthread_mutex_lock(&m->mu);
  for (mem_exec *x = m->oldest; x; x = x->newer)
    if (x->rec.state && cb(&x->rec, payload)) break;
  pthread_mutex_unlock(&m->mu);
  return WF_OK;
}

static int mem_read_events(void *backend, const char *arn, int64_t from_id,
                           bool reverse, size_t limit, wf_store_event_cb cb,
                           void *payload, wf_error *err) {
  (void)err;
  mem_store *m = backend;
  pthread_mutex_lock(&m->mu);
  mem_exec *x = wf__strmap_get(&m->execs, arn);
  size_t n = x ? x->nevents : 0, sent = 0;
  int64_t i = reverse ? (from_id > 0 && (size_t)from_id <= n ? from_id
                                                              : (int64_t)n)
                      : (from_id > 1 ? from_id : 1);
  for (; i >= 1 && (size_t)i <= n && (!limit || sent < limit);
       i += reverse ? -1 : 1) {
    const mem_event *e = &x->events[i - 1];
    wf_store_event ev = {x->rec.arn, e->id, e->prev, e->ts, e->type, e->json};
    sent++;
    if (cb(&ev, payload)) break;
  }
  pthread_mutex_unlock(&m->mu);
  return WF_OK;
}

static int mem_get_definition(void *backend, const char *id,
                              wf_store_definition_cb cb, void *payload,
                              wf_error *err) {
  mem_store *m = backend;
  pthread_mutex_lock(&m->mu);
  mem_def *d = wf__strmap_get(&m->defs, id);
  if (d) cb(&d->rec, payload);
  pthread_mutex_unlock(&m->mu);
  return d ? WF_OK : not_found(err, "definition", id);
}

static int mem_get_document(void *backend, const char *kind, const char *key,
                            wf_store_document_cb cb, void *payload,
                            wf_error *err) {
  mem_store *m = backend;
  char *k = join_key(kind, key);
  if (!k) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  pthread_mutex_lock(&m->mu);
  mem_doc *d = wf__strmap_get(&m->docs, k);
  if (d) cb(&d->rec, payload);
  pthread_mutex_unlock(&m->mu);
  wf__free(k);
  return d ? WF_OK : not_found(err, "document", key);
}

static int mem_list_documents(void *backend, const char *kind,
                              int64_t after_seq, size_t limit,
                              wf_store_document_cb cb, void *payload,
                              wf_error *err) {
  (void)err;
  mem_store *m = backend;
  size_t n = 0;
  pthread_mutex_lock(&m->mu);
  for (mem_doc *d = m->doc_first; d && (!limit || n < limit); d = d->next) {
    if (d->rec.seq <= after_seq || strcmp(d->rec.kind, kind) != 0) continue;
    n++;
    if (cb(&d->rec, payload)) break;
  }
  pthread_mutex_unlock(&m->mu);
  return WF_OK;
}

static int mem_prune(void *backend, int64_t stopped_before_ms, size_t keep,
                     size_t max, size_t *pruned, wf_error *err) {
  (void)err;
  mem_store *m = backend;
  size_t n = 0;
  mem_exec *gone = NULL;
  mem_doc *docs_gone = NULL;
  pthread_mutex_lock(&m->mu);
  while (m->ended_first && (!max || n < max)) {
    mem_exec *x = m->ended_first;
    bool old = x->rec.stop_ms < stopped_before_ms;
    bool over = keep && m->nended > keep;
    if (!old && !over) break;
    exec_unlink(m, x);
    x->older = gone; /* a list of what goes, freed below */
    gone = x;
    n++;
    /* Its documents go with it: out of the tables now, freed below. */
    while (x->owned) {
      mem_doc *d = x->owned;
      doc_unlink(m, d);
      d->next = docs_gone;
      docs_gone = d;
    }
  }
  pthread_mutex_unlock(&m->mu);
  while (gone) {
    mem_exec *x = gone;
    gone = x->older;
    exec_free(x);
  }
  while (docs_gone) {
    mem_doc *d = docs_gone;
    docs_gone = d->next;
    doc_free(d);
  }
  if (pruned) *pruned = n;
  return WF_OK;
}

static void free_def(const char *k, void *v, void *a) {
  (void)k;
  (void)a;
  mem_def *d = v;
  wf__free((char *)d->rec.id);
  wf__free((char *)d->rec.name);
  wf__free((char *)d->rec.definition);
  wf__free((char *)d->rec.options);
  wf__free(d);
}

static void mem_close(void *backend) {
  mem_store *m = backend;
  /* Documents first: they may name their owners. */
  while (m->doc_first) {
    mem_doc *d = m->doc_first;
    doc_unlink(m, d);
    doc_free(d);
  }
  while (m->newest) {
    mem_exec *x = m->newest;
    exec_unlink(m, x);
    exec_free(x);
  }
  wf__strmap_foreach(&m->defs, free_def, NULL);
  wf__strmap_clear(&m->defs);
  wf__strmap_clear(&m->execs);
  wf__strmap_clear(&m->names);
  wf__strmap_clear(&m->docs);
  pthread_mutex_destroy(&m->mu);
  wf__free(m);
}

static const wf_store_ops MEMORY_OPS = {
    .version = WF_STORE_OPS_VERSION,
    .size = sizeof(wf_store_ops),
    .flags = WF_STORE_TAKES_VALUES,
    .close = mem_close,
    .commit = mem_commit,
    .get_execution = mem_get_execution,
    .find_execution = mem_find_execution,
    .list_executions = mem_list_executions,
    .list_running = mem_list_running,
    .read_events = mem_read_events,
    .get_definition = mem_get_definition,
    .get_document = mem_get_document,
    .list_documents = mem_list_documents,
    .prune = mem_prune,
};

int wf_store_memory_new(wf_store **out, const wf_store_options *opts,
                        wf_error *err) {
  if (!out) return wf__error_set(err, WF_EINVAL, NULL, "out is required");
  *out = NULL;
  wf_store_options o;
  int rc = wf__store_options_resolve(&o, opts, err);
  if (rc != WF_OK) return rc;
  mem_store *m = wf__calloc(1, sizeof *m);
  if (!m) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  pthread_mutex_init(&m->mu, NULL);
  m->read_only = o.read_only;
  return wf__store_wrap(out, &MEMORY_OPS, m, &o, err);
}
