/* The engine: options, threads, the handler registry, listeners and the
 * mock configuration. */
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "clock_impl.h"
#include "error.h"
#include "json_text.h"
#include "plugin_impl.h"
#include "step.h"

int wf_engine_options_init(wf_engine_options *opts, unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version != WF_ENGINE_OPTIONS_VERSION) return WF_EVERSION;
  memset(opts, 0, sizeof *opts);
  opts->version = version;
  return WF_OK;
}

static unsigned default_sched_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  if (n > 8) n = 8;
  return (unsigned)n;
}

static void engine_destroy(wf_engine *e);

int wf_engine_new(wf_engine **out, const wf_engine_options *opts,
                  wf_error *err) {
  if (!out) return wf__error_set(err, WF_EINVAL, NULL, "out is required");
  *out = NULL;
  if (opts && opts->version != WF_ENGINE_OPTIONS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_engine_options version %u is not supported "
                         "(expected %u)",
                         opts->version, WF_ENGINE_OPTIONS_VERSION);
  if (opts && opts->history != WF_HISTORY_FULL &&
      opts->history != WF_HISTORY_OFF)
    return wf__error_set(err, WF_EINVAL, NULL, "unknown history mode %d",
                         (int)opts->history);
  if (opts && opts->log_level && !wf_log_level_name(opts->log_level))
    return wf__error_set(err, WF_EINVAL, NULL, "unknown log level %d",
                         (int)opts->log_level);
  wf_engine *e = wf__calloc(1, sizeof *e);
  if (!e) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  atomic_init(&e->refs, 1);
  e->clock = opts && opts->clock ? opts->clock : wf_clock_system();
  e->virtual_time = wf__clock_is_virtual(e->clock);
  e->payload_limit =
      opts && opts->payload_limit ? opts->payload_limit : 262144;
  e->history = opts ? opts->history : WF_HISTORY_FULL;
  e->log = opts ? opts->log : NULL;
  e->log_payload = opts ? opts->log_payload : NULL;
  e->log_level = opts && opts->log_level ? opts->log_level : WF_LOG_INFO;
  pthread_mutex_init(&e->log_lock, NULL);
  pthread_mutex_init(&e->plugins_lock, NULL);
  if (opts && opts->log_path) {
    int lrc = wf__log_open(e, opts->log_path, err);
    if (lrc != WF_OK) {
      pthread_mutex_destroy(&e->log_lock);
      pthread_mutex_destroy(&e->plugins_lock);
      wf__free(e);
      return lrc;
    }
  }
  e->region = wf__strdup(opts && opts->region ? opts->region : "us-east-1");
  e->account =
      wf__strdup(opts && opts->account ? opts->account : "123456789012");
  wf__strbuf role = WF__STRBUF_INIT;
  wf__strbuf_printf(&role, "arn:aws:iam::%s:role/StepFunctionsExecutionRole",
                    e->account ? e->account : "");
  e->role_arn = wf__strbuf_take(&role);
  e->seed_base = opts && opts->seed ? opts->seed : wf__rng_system_seed();
  atomic_init(&e->starts, 0);
  pthread_rwlock_init(&e->hlock, NULL);
  pthread_mutex_init(&e->xlock, NULL);
  e->nsched = opts && opts->scheduler_threads ? opts->scheduler_threads
                                              : default_sched_threads();
  unsigned npool = opts && opts->worker_threads ? opts->worker_threads : 4;
  if (!e->region || !e->account || !e->role_arn) {
    engine_destroy(e);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  int rc = wf__pool_start(e, npool);
  if (rc == WF_OK) rc = wf__sched_start(e);
  if (rc != WF_OK) {
    wf__sched_stop(e);
    wf__pool_stop(e);
    engine_destroy(e);
    return wf__error_set(err, rc, NULL, "cannot start the engine's threads");
  }
  *out = e;
  return WF_OK;
}

static void free_handler_entry(const char *key, void *value, void *arg) {
  (void)key;
  (void)arg;
  wf__handler_release(value);
}

static void release_execution(const char *key, void *value, void *arg) {
  (void)key;
  (void)arg;
  wf_execution *x = value;
  x->registered = false;
  wf__exec_release(x);
}

wf_engine *wf__engine_ref(wf_engine *e) {
  atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
  return e;
}

void wf__engine_release(wf_engine *e) {
  if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
    engine_destroy(e);
}

static void engine_destroy(wf_engine *e) {
  wf__log_close(e);
  pthread_mutex_destroy(&e->log_lock);
  pthread_mutex_destroy(&e->plugins_lock);
  wf__strmap_foreach(&e->handlers, free_handler_entry, NULL);
  wf__strmap_clear(&e->handlers);
  for (size_t i = 0; i < e->nprefixes; i++) wf__handler_release(e->prefixes[i]);
  wf__free(e->prefixes);
  wf__free(e->listeners);
  wf__strmap_clear(&e->tokens);
  json_decref(e->mock_config);
  pthread_rwlock_destroy(&e->hlock);
  pthread_mutex_destroy(&e->xlock);
  wf__free(e->region);
  wf__free(e->account);
  wf__free(e->role_arn);
  wf__free(e);
}

static void collect(const char *key, void *value, void *arg) {
  (void)key;
  wf__strbuf *list = arg;
  wf_execution *x = wf__exec_ref(value);
  wf__strbuf_append(list, (const char *)&x, sizeof x);
}

static void release_task(const char *key, void *value, void *arg) {
  (void)key;
  (void)arg;
  wf__task_release(value);
}

void wf_engine_free(wf_engine *e) {
  if (!e) return;
  /* Abort what still runs, then stop the threads. */
  wf__strbuf list = WF__STRBUF_INIT;
  pthread_mutex_lock(&e->xlock);
  wf__strmap_foreach(&e->executions, collect, &list);
  pthread_mutex_unlock(&e->xlock);
  size_t n = list.len / sizeof(wf_execution *);
  for (size_t i = 0; i < n; i++) {
    wf_execution *x;
    memcpy(&x, list.data + i * sizeof x, sizeof x);
    wf_execution_stop(x, NULL, NULL);
    wf__exec_release(x);
  }
  wf__strbuf_free(&list);
  /* Plugins go first: unloading waits for their calls in flight, which
   * the pool is still there to finish. */
  wf__plugins_unload_all(e);
  wf__pool_stop(e);
  wf__sched_stop(e);
  pthread_mutex_lock(&e->xlock);
  wf__strmap_foreach(&e->tokens, release_task, NULL);
  wf__strmap_clear(&e->tokens);
  /* Finished executions the registry kept go now; handles the caller
   * still holds keep the engine's memory until they are freed. */
  wf__strmap_foreach(&e->executions, release_execution, NULL);
  wf__strmap_clear(&e->executions);
  pthread_mutex_unlock(&e->xlock);
  wf__log_close(e);
  wf__engine_release(e);
}

/* ---- handlers ---- */

void wf__handler_release(wf__handler *h) {
  if (!h || atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
    return;
  wf__free(h->resource);
  wf__free(h);
}

int wf__engine_add_handler(wf_engine *e, const char *resource,
                           wf_handler_fn fn, void *payload, unsigned flags,
                           struct wf_plugin *plugin, wf__handler **out,
                           wf_error *err) {
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
  h->plugin = plugin;
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
  return wf__engine_add_handler(e, resource, fn, payload, flags, NULL, NULL,
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

void wf__engine_remove_handler(wf_engine *e, wf__handler *h) {
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
  /* A plugin's handlers leave with the plugin (wf_plugin_unload). */
  if (h && h->plugin) h = NULL;
  if (h) detach_locked(e, h);
  pthread_rwlock_unlock(&e->hlock);
  if (!h) return WF_ENOTFOUND;
  wf__handler_release(h);
  return WF_OK;
}

wf__handler *wf__engine_find_handler(wf_engine *e, const char *resource) {
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
  /* The call holds its own reference, so the record outlives it; a
   * plugin counts the call as in flight from here (under the read lock,
   * so unloading, which takes the write lock first, cannot miss it). */
  if (h) {
    atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
    if (h->plugin) atomic_fetch_add(&h->plugin->inflight, 1);
  }
  pthread_rwlock_unlock(&e->hlock);
  return h;
}

int wf_engine_add_listener(wf_engine *e, wf_event_cb cb, void *payload) {
  if (!e || !cb) return WF_EINVAL;
  pthread_rwlock_wrlock(&e->hlock);
  wf__listener *l =
      wf__realloc(e->listeners, (e->nlisteners + 1) * sizeof *l);
  if (l) {
    e->listeners = l;
    e->listeners[e->nlisteners++] = (wf__listener){cb, payload};
  }
  pthread_rwlock_unlock(&e->hlock);
  return l ? WF_OK : WF_ENOMEM;
}

int wf_engine_set_mock_config(wf_engine *e, const char *json, wf_error *err) {
  json_t *cfg = NULL;
  if (json) {
    int rc = wf__json_parse(&cfg, json, strlen(json), "mock configuration",
                            err);
    if (rc != WF_OK) return rc;
    char msg[512];
    if (wf__mock_validate(cfg, msg, sizeof msg) != 0) {
      json_decref(cfg);
      return wf__error_set(err, WF_EINVALID, NULL, "%s", msg);
    }
  }
  pthread_mutex_lock(&e->xlock);
  json_t *old = e->mock_config;
  e->mock_config = cfg;
  pthread_mutex_unlock(&e->xlock);
  json_decref(old);
  return WF_OK;
}
