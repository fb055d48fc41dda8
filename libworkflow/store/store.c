/* Stores (workflow/store.h): the handle every backend is reached through,
 * the public reads and document writes, and checks of a backend's table. */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "store_impl.h"

int wf_store_options_init(wf_store_options *opts, unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version != WF_STORE_OPTIONS_VERSION) return WF_EVERSION;
  memset(opts, 0, sizeof *opts);
  opts->version = version;
  return WF_OK;
}

int wf__store_options_resolve(wf_store_options *out,
                              const wf_store_options *in, wf_error *err) {
  if (in && in->version != WF_STORE_OPTIONS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_store_options version %u is not supported "
                         "(expected %u)",
                         in->version, WF_STORE_OPTIONS_VERSION);
  if (in && in->sync != WF_STORE_SYNC_FULL && in->sync != WF_STORE_SYNC_NORMAL)
    return wf__error_set(err, WF_EINVAL, NULL, "unknown store sync mode %d",
                         (int)in->sync);
  wf_store_options_init(out, WF_STORE_OPTIONS_VERSION);
  if (in) *out = *in;
  if (!out->retention_ms) out->retention_ms = WF__STORE_RETENTION_MS;
  return WF_OK;
}

int wf__store_wrap(wf_store **out, const wf_store_ops *ops, void *backend,
                   const wf_store_options *opts, wf_error *err) {
  wf_store *s = wf__calloc(1, sizeof *s);
  if (!s) {
    ops->close(backend);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  s->ops = ops;
  s->backend = backend;
  s->retention_ms = opts->retention_ms;
  s->retention_count = opts->retention_count;
  s->read_only = opts->read_only;
  *out = s;
  return WF_OK;
}

/* Every operation up to the last of version 1 must be there. */
static bool complete(const wf_store_ops *o) {
  return o->close && o->commit && o->get_execution && o->find_execution &&
         o->list_executions && o->list_running && o->read_events &&
         o->get_definition && o->get_document && o->list_documents &&
         o->prune;
}

int wf_store_new(wf_store **out, const wf_store_ops *ops, void *backend,
                 wf_error *err) {
  if (!out || !ops)
    return wf__error_set(err, WF_EINVAL, NULL, "out and ops are required");
  *out = NULL;
  if (ops->version < 1 || ops->version > WF_STORE_OPS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_store_ops version %u is not supported "
                         "(expected 1 to %u)",
                         ops->version, WF_STORE_OPS_VERSION);
  if (ops->size < offsetof(wf_store_ops, prune) + sizeof ops->prune ||
      !complete(ops))
    return wf__error_set(err, WF_EINVAL, NULL,
                         "the store backend lacks an operation");
  wf_store_options o;
  wf__store_options_resolve(&o, NULL, err);
  return wf__store_wrap(out, ops, backend, &o, err);
}

void wf_store_free(wf_store *s) {
  if (!s) return;
  s->ops->close(s->backend);
  wf__free(s);
}

bool wf_store_is_durable(const wf_store *s) {
  return s && (s->ops->flags & WF_STORE_DURABLE);
}

/* The store whose read callback this thread is in, if any: a backend may
 * hold a lock while it calls back, so a call to the same store from the
 * callback would wait for itself. It is refused instead. */
static _Thread_local const wf_store *reading;

static int need(const void *p, const char *what, wf_error *err) {
  if (!p)
    return wf__error_set(err, WF_EINVAL, NULL, "%s is required", what);
  if (reading == p)
    return wf__error_set(err, WF_ESTATE, NULL,
                         "the store was called from one of its own read "
                         "callbacks: keep what the callback needs and call "
                         "it after the read returns");
  return WF_OK;
}

/* Run a backend's read with its callbacks marked as such. */
#define READ(s, call)                 \
  do {                                \
    const wf_store *was_ = reading;   \
    reading = (s);                    \
    rc = (call);                      \
    reading = was_;                   \
  } while (0)

int wf_store_get_execution(wf_store *s, const char *arn,
                           wf_store_execution_cb cb, void *payload,
                           wf_error *err) {
  int rc = need(s && arn && cb ? s : NULL, "store, arn and cb", err);
  if (!rc) READ(s, s->ops->get_execution(s->backend, arn, cb, payload, err));
  return rc;
}

int wf_store_list_executions(wf_store *s, const wf_store_query *q,
                             wf_store_execution_cb cb, void *payload,
                             wf_error *err) {
  int rc = need(s && cb ? s : NULL, "store and cb", err);
  if (rc) return rc;
  wf_store_query all = WF_STORE_QUERY_INIT;
  if (!q) q = &all;
  if (q->version != WF_STORE_QUERY_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_store_query version %u is not supported",
                         q->version);
  READ(s, s->ops->list_executions(s->backend, q, cb, payload, err));
  return rc;
}

int wf_store_read_events(wf_store *s, const char *arn, int64_t from_id,
                         bool reverse, size_t limit, wf_store_event_cb cb,
                         void *payload, wf_error *err) {
  int rc = need(s && arn && cb ? s : NULL, "store, arn and cb", err);
  if (!rc)
    READ(s, s->ops->read_events(s->backend, arn, from_id, reverse, limit, cb,
                                payload, err));
  return rc;
}

int wf_store_get_definition(wf_store *s, const char *id,
                            wf_store_definition_cb cb, void *payload,
                            wf_error *err) {
  int rc = need(s && id && cb ? s : NULL, "store, id and cb", err);
  if (!rc) READ(s, s->ops->get_definition(s->backend, id, cb, payload, err));
  return rc;
}

int wf_store_commit(wf_store *s, const wf_store_batch *b, wf_error *err) {
  int rc = need(s && b ? s : NULL, "store and batch", err);
  return rc ? rc : s->ops->commit(s->backend, b, err);
}

int wf_store_prune(wf_store *s, int64_t now_ms, size_t max, size_t *pruned,
                   wf_error *err) {
  if (pruned) *pruned = 0;
  int rc = need(s, "store", err);
  if (rc) return rc;
  if (s->read_only)
    return wf__error_set(err, WF_EPERM, NULL, "the store is read-only");
  int64_t before = s->retention_ms < 0 ? INT64_MIN : now_ms - s->retention_ms;
  return s->ops->prune(s->backend, before, s->retention_count, max, pruned,
                       err);
}

int wf_store_put_documents(wf_store *s, const wf_store_document *docs,
                           size_t n, wf_error *err) {
  int rc = need(s && (docs || !n) ? s : NULL, "store and documents", err);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++)
    if (!docs[i].kind || !docs[i].key)
      return wf__error_set(err, WF_EINVAL, NULL,
                           "document %zu has no kind or key", i);
  wf_store_batch b = {.documents = docs, .ndocuments = n};
  return s->ops->commit(s->backend, &b, err);
}

int wf_store_get_document(wf_store *s, const char *kind, const char *key,
                          wf_store_document_cb cb, void *payload,
                          wf_error *err) {
  int rc = need(s && kind && key && cb ? s : NULL, "store, kind, key and cb",
                err);
  if (!rc)
    READ(s, s->ops->get_document(s->backend, kind, key, cb, payload, err));
  return rc;
}

int wf_store_list_documents(wf_store *s, const char *kind, int64_t after_seq,
                            size_t limit, wf_store_document_cb cb,
                            void *payload, wf_error *err) {
  int rc = need(s && kind && cb ? s : NULL, "store, kind and cb", err);
  if (!rc)
    READ(s, s->ops->list_documents(s->backend, kind, after_seq, limit, cb,
                                   payload, err));
  return rc;
}
