/* The engine: options, its threads, starting and stopping it, what
 * higher layers attach to it, and the mock configuration. The top of the
 * engine layer: the files below never call it. */
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "engine_impl.h"
#include "error.h"
#include "json_text.h"

/* The size of each version of the caller's struct. */
#define END_OF(field) \
  (offsetof(wf_engine_options, field) + sizeof(((wf_engine_options *)0)->field))
static size_t options_size(unsigned version) {
  switch (version) {
    case 1: return END_OF(seed);
    case 2: return END_OF(store);
    case 3: return END_OF(max_running);
    default: return sizeof(wf_engine_options);
  }
}

int wf_engine_options_init(wf_engine_options *opts, unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version < 1 || version > WF_ENGINE_OPTIONS_VERSION) return WF_EVERSION;
  memset(opts, 0, options_size(version));
  opts->version = version;
  return WF_OK;
}

/* Ended executions an engine's own in-memory store keeps. */
#define OWN_STORE_RETENTION 100

static int open_store(wf_engine *e, const wf_engine_options *opts,
                      wf_error *err) {
  if (opts && opts->version >= 2 && opts->store) {
    e->store = opts->store;
    if (e->store->read_only)
      return wf__error_set(err, WF_EPERM, NULL,
                           "the engine's store is open read-only");
  } else {
    wf_store_options so = WF_STORE_OPTIONS_INIT;
    so.retention_count = OWN_STORE_RETENTION;
    int rc = wf_store_memory_new(&e->store, &so, err);
    if (rc != WF_OK) return rc;
    e->own_store = true;
  }
  e->durable = wf_store_is_durable(e->store);
  return WF_OK;
}

static unsigned default_sched_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  if (n > 8) n = 8;
  return (unsigned)n;
}

int wf_engine_new(wf_engine **out, const wf_engine_options *opts,
                  wf_error *err) {
  if (!out) return wf__error_set(err, WF_EINVAL, NULL, "out is required");
  *out = NULL;
  if (opts && (opts->version < 1 || opts->version > WF_ENGINE_OPTIONS_VERSION))
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_engine_options version %u is not supported "
                         "(expected 1 to %u)",
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
  e->payload_limit =
      opts && opts->payload_limit ? opts->payload_limit : 262144;
  e->history = opts ? opts->history : WF_HISTORY_FULL;
  e->log = opts ? opts->log : NULL;
  e->log_payload = opts ? opts->log_payload : NULL;
  e->log_level = opts && opts->log_level ? opts->log_level : WF_LOG_INFO;
  pthread_mutex_init(&e->log_lock, NULL);
  pthread_mutex_init(&e->attach_lock, NULL);
  pthread_mutex_init(&e->xlock, NULL);
  pthread_cond_init(&e->resumed_cond, NULL);
  wf__handlers_init(e);
  if (opts && opts->log_path) {
    int lrc = wf__log_open(e, opts->log_path, err);
    if (lrc != WF_OK) {
      wf__engine_release(e);
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
  e->nsched = opts && opts->scheduler_threads ? opts->scheduler_threads
                                              : default_sched_threads();
  e->npool = opts && opts->worker_threads ? opts->worker_threads : 4;
  e->max_running = opts && opts->version >= 3 ? opts->max_running : 0;
  e->expression_cpu_ns =
      (uint64_t)(opts && opts->version >= 4 && opts->expression_cpu_ms
                     ? opts->expression_cpu_ms
                     : 1000) *
      1000000u;
  /* The log listens to events like any listener. */
  bool log_ok = !(e->log || e->log_file) ||
                wf__history_add_sink(e, wf__log_on_event, e, NULL) == WF_OK;
  if (!e->region || !e->account || !e->role_arn || !log_ok) {
    wf__engine_release(e);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  int rc = open_store(e, opts, err);
  if (rc == WF_OK) rc = wf__commit_init(e, err);
  if (rc != WF_OK) {
    wf__commit_fini(e);
    wf__engine_release(e);
    return rc;
  }
  rc = wf__sched_init(&e->sched, e->clock);
  if (rc == WF_OK) rc = wf__pool_start(&e->sched, e->npool);
  if (rc == WF_OK) rc = wf__sched_start(&e->sched, e->nsched);
  if (rc != WF_OK) {
    wf__pool_stop(&e->sched);
    wf__sched_stop(&e->sched);
    wf__commit_fini(e);
    wf__engine_release(e);
    return wf__error_set(err, rc, NULL, "cannot start the engine's threads");
  }
  *out = e;
  return WF_OK;
}

static void release_execution(const char *key, void *value, void *arg) {
  (void)key;
  (void)arg;
  wf_execution *x = value;
  x->registered = false;
  wf__exec_release(x);
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

static void drop_frames(const char *key, void *value, void *arg) {
  (void)key;
  (void)arg;
  wf_execution *x = value;
  /* Left running in a durable store: its frames go (they refer to the
   * execution); its record waits for the next engine. */
  pthread_mutex_lock(&x->lock);
  wf__frame *top = x->top;
  x->top = NULL;
  wf__frame_cancel(top);
  pthread_mutex_unlock(&x->lock);
  wf__frame_release(top);
}

void wf_engine_free(wf_engine *e) {
  if (!e) return;
  /* A volatile store loses running executions: stop them first. A
   * durable one keeps them running for the next engine. */
  if (!e->durable) {
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
  }
  /* No more claims: what this process runs stays its own until the store
   * closes (and hands it back); no more shares handed out or stopped. */
  atomic_store(&e->closing, true);
  wf__share_stop(e);
  /* What higher layers attached goes first: plugins unloading wait for
   * their calls in flight, which the pool is still there to finish. */
  pthread_mutex_lock(&e->attach_lock);
  wf__attachment *att = e->attachments;
  e->attachments = NULL;
  pthread_mutex_unlock(&e->attach_lock);
  while (att) {
    wf__attachment *next = att->next;
    att->teardown(e, att->data);
    wf__free(att);
    att = next;
  }
  wf__pool_stop(&e->sched);
  wf__sched_stop(&e->sched);
  /* Everything requested is written before the engine goes. */
  wf__commit_fini(e);
  wf__share_free(e);
  pthread_mutex_lock(&e->xlock);
  wf__strmap_foreach(&e->tokens, release_task, NULL);
  wf__strmap_clear(&e->tokens);
  wf__strmap_foreach(&e->executions, drop_frames, NULL);
  /* Handles the caller still holds keep the engine's memory until they
   * are freed. */
  wf__strmap_foreach(&e->executions, release_execution, NULL);
  wf__strmap_clear(&e->executions);
  pthread_mutex_unlock(&e->xlock);
  wf__log_close(e);
  wf__engine_release(e);
}

wf_store *wf_engine_store(wf_engine *e) { return e ? e->store : NULL; }

/* *oom (when given) tells a key that could not be made from a lookup
 * that found nothing. */
static wf_execution *lookup(wf_engine *e, const char *arn, bool wait,
                            bool lost_too, bool *oom) {
  /* The registry's key (wf__exec_key) from "...:execution:M:N" or
   * "...:express:M:N:ID". */
  const char *p = strstr(arn, ":execution:");
  size_t skip = 11;
  if (!p) {
    p = strstr(arn, ":express:");
    skip = 9;
  }
  const char *q = p ? strchr(p + skip, ':') : NULL;
  if (!q) return NULL;
  const char *end = strchr(q + 1, ':');
  char *machine = wf__strndup(p + skip, (size_t)(q - (p + skip)));
  char *name = end ? wf__strndup(q + 1, (size_t)(end - (q + 1)))
                   : wf__strdup(q + 1);
  char *key = machine && name ? wf__exec_key(machine, name, arn) : NULL;
  wf__free(machine);
  wf__free(name);
  if (!key) {
    if (oom) *oom = true;
    return NULL;
  }
  pthread_mutex_lock(&e->xlock);
  wf_execution *x = NULL;
  do {
    x = wf__strmap_get(&e->executions, key);
  } while (!x && wait && wf__wait_resumed(e));
  /* One whose lease was found lost goes on elsewhere. */
  x = x && strcmp(x->arn, arn) == 0 && (lost_too || !atomic_load(&x->lost))
          ? wf__exec_ref(x)
          : NULL;
  pthread_mutex_unlock(&e->xlock);
  wf__free(key);
  return x;
}

wf_execution *wf__engine_lookup(wf_engine *e, const char *arn, bool wait) {
  return lookup(e, arn, wait, false, NULL);
}

wf_execution *wf__engine_lookup_lost(wf_engine *e, const char *arn) {
  wf_execution *x = lookup(e, arn, false, true, NULL);
  if (x && !atomic_load(&x->lost)) {
    wf__exec_release(x);
    x = NULL;
  }
  return x;
}

int wf_engine_find_execution(wf_execution **out, wf_engine *e,
                             const char *arn) {
  if (!out || !e || !arn) return WF_EINVAL;
  bool oom = false;
  *out = lookup(e, arn, true, false, &oom);
  return *out ? WF_OK : oom ? WF_ENOMEM : WF_ENOTFOUND;
}

int wf_engine_take_execution(wf_execution **out, wf_engine *e,
                             const char *arn, wf_error *err) {
  if (!out || !e || !arn)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "out, engine and arn are required");
  *out = wf__engine_lookup(e, arn, true);
  /* A copy here that another process took over goes; that one's is
   * taken. */
  if (*out && !wf__share_confirm(e, *out)) {
    wf__exec_release(*out);
    *out = NULL;
  }
  if (*out || !wf__store_shared(e->store)) {
    if (*out) return WF_OK;
    return wf__error_set(err, WF_ENOTFOUND, NULL,
                         "no execution '%s' runs here", arn);
  }
  int rc = wf__share_adopt(e, arn, err);
  if (rc != WF_OK) return rc;
  *out = wf__engine_lookup(e, arn, true);
  return *out ? WF_OK
              : wf__error_set(err, WF_ENOTFOUND, NULL,
                              "execution '%s' ended as it was taken over",
                              arn);
}

void *wf__engine_attachment(wf_engine *e, const void *key,
                            void *(*create)(wf_engine *e),
                            void (*teardown)(wf_engine *e, void *data)) {
  pthread_mutex_lock(&e->attach_lock);
  wf__attachment *a = e->attachments;
  while (a && a->key != key) a = a->next;
  if (!a && (a = wf__calloc(1, sizeof *a))) {
    a->key = key;
    a->teardown = teardown;
    if ((a->data = create(e))) {
      a->next = e->attachments;
      e->attachments = a;
    } else {
      wf__free(a);
      a = NULL;
    }
  }
  pthread_mutex_unlock(&e->attach_lock);
  return a ? a->data : NULL;
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
