/* The handler registry: which function serves a Task resource, by exact
 * resource or by the longest registered prefix. Handlers registered by the
 * program and by plugins live here alike; a plugin is only an owner that
 * wants to hear of each call (wf__handler_owner). */
#include <string.h>

#include "alloc.h"
#include "engine_impl.h"
#include "error.h"

void wf__handlers_init(wf_engine *e) { pthread_rwlock_init(&e->hlock, NULL); }

static void free_entry(const char *key, void *value, void *arg) {
  (void)key;
  (void)arg;
  wf__handler_release(value);
}

void wf__handlers_free(wf_engine *e) {
  wf__strmap_foreach(&e->handlers, free_entry, NULL);
  wf__strmap_clear(&e->handlers);
  for (size_t i = 0; i < e->nprefixes; i++) wf__handler_release(e->prefixes[i]);
  wf__free(e->prefixes);
  e->prefixes = NULL;
  e->nprefixes = 0;
  pthread_rwlock_destroy(&e->hlock);
}

void wf__handler_release(wf__handler *h) {
  if (!h || atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
    return;
  wf__free(h->resource);
  wf__free(h);
}

int wf__handler_add(wf_engine *e, const char *resource, wf_handler_fn fn,
                    void *payload, unsigned flags,
                    const wf__handler_owner *owner_ops, void *owner,
                    wf__handler **out, wf_error *err) {
  if (!e || !resource || !*resource || !fn)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "engine, resource and handler are required");
  if (flags & ~(unsigned)(WF_HANDLER_INLINE | WF_HANDLER_PREFIX))
    return wf__error_set(err, WF_EINVAL, NULL, "unknown handler flags 0x%x",
                         flags);
  wf__handler *h = wf__calloc(1, sizeof *h);
  if (!h || !(h->resource = wf__strdup(resource))) {
    wf__free(h);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  h->fn = fn;
  h->payload = payload;
  h->flags = flags;
  h->owner_ops = owner_ops;
  h->owner = owner;
  atomic_init(&h->refs, 1);
  int rc = WF_OK;
  pthread_rwlock_wrlock(&e->hlock);
  if (flags & WF_HANDLER_PREFIX) {
    for (size_t i = 0; i < e->nprefixes; i++)
      if (strcmp(e->prefixes[i]->resource, resource) == 0) rc = WF_EEXIST;
    if (rc == WF_OK) {
      wf__handler **p =
          wf__realloc(e->prefixes, (e->nprefixes + 1) * sizeof *p);
      if (!p) rc = WF_ENOMEM;
      else {
        e->prefixes = p;
        e->prefixes[e->nprefixes++] = h;
      }
    }
  } else if (wf__strmap_get(&e->handlers, resource)) {
    rc = WF_EEXIST;
  } else if (!wf__strmap_put(&e->handlers, resource, h, NULL)) {
    rc = WF_ENOMEM;
  }
  pthread_rwlock_unlock(&e->hlock);
  if (rc != WF_OK) {
    wf__handler_release(h);
    return wf__error_set(err, rc, NULL,
                         rc == WF_EEXIST
                             ? "a handler is already registered for '%s'"
                             : "out of memory registering '%s'",
                         resource);
  }
  if (out) *out = h;
  return WF_OK;
}

int wf_engine_register_handler(wf_engine *e, const char *resource,
                               wf_handler_fn fn, void *payload,
                               unsigned int flags, wf_error *err) {
  return wf__handler_add(e, resource, fn, payload, flags, NULL, NULL, NULL,
                         err);
}

/* Take h out of the registry (lock held); true when it was there. */
static bool detach_locked(wf_engine *e, wf__handler *h) {
  if (h->flags & WF_HANDLER_PREFIX) {
    for (size_t i = 0; i < e->nprefixes; i++) {
      if (e->prefixes[i] == h) {
        memmove(&e->prefixes[i], &e->prefixes[i + 1],
                (e->nprefixes - i - 1) * sizeof *e->prefixes);
        e->nprefixes--;
        return true;
      }
    }
    return false;
  }
  if (wf__strmap_get(&e->handlers, h->resource) != h) return false;
  wf__strmap_remove(&e->handlers, h->resource);
  return true;
}

void wf__handler_remove(wf_engine *e, wf__handler *h) {
  pthread_rwlock_wrlock(&e->hlock);
  bool was = detach_locked(e, h);
  pthread_rwlock_unlock(&e->hlock);
  if (was) wf__handler_release(h);
}

int wf_engine_unregister_handler(wf_engine *e, const char *resource,
                                 unsigned int flags) {
  wf__handler *h = NULL;
  pthread_rwlock_wrlock(&e->hlock);
  if (flags & WF_HANDLER_PREFIX) {
    for (size_t i = 0; i < e->nprefixes && !h; i++)
      if (strcmp(e->prefixes[i]->resource, resource) == 0) h = e->prefixes[i];
  } else {
    h = wf__strmap_get(&e->handlers, resource);
  }
  /* An owner's handlers leave with their owner (wf_plugin_unload). */
  if (h && h->owner_ops) h = NULL;
  if (h) detach_locked(e, h);
  pthread_rwlock_unlock(&e->hlock);
  if (!h) return WF_ENOTFOUND;
  wf__handler_release(h);
  return WF_OK;
}

wf__handler *wf__handler_find(wf_engine *e, const char *resource) {
  pthread_rwlock_rdlock(&e->hlock);
  wf__handler *h = wf__strmap_get(&e->handlers, resource);
  if (!h) {
    /* The longest registered prefix wins. */
    size_t best = 0;
    for (size_t i = 0; i < e->nprefixes; i++) {
      size_t n = strlen(e->prefixes[i]->resource);
      if (n > best && strncmp(resource, e->prefixes[i]->resource, n) == 0) {
        best = n;
        h = e->prefixes[i];
      }
    }
  }
  /* The call holds its own reference, so the record outlives it; the
   * owner counts the call from here (under the read lock, so an owner
   * leaving, which takes the write lock first, cannot miss it). */
  if (h) {
    atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
    if (h->owner_ops) h->owner_ops->call_begin(h->owner);
  }
  pthread_rwlock_unlock(&e->hlock);
  return h;
}

void wf__handler_call(wf__handler *h, wf_task *t) {
  h->fn(t, h->payload);
  if (h->owner_ops) h->owner_ops->call_end(h->owner);
  wf__handler_release(h);
}
