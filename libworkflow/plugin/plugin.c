/* Loading plugins: trusted directories only, ABI checked before init,
 * registrations staged during init and committed only when it succeeds,
 * unloading that waits for calls in flight. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "plugin_impl.h"

/* ---- the host: attached to the engine on first use ---- */

static const char HOST_KEY = 0;

static void *host_new(wf_engine *e) {
  (void)e;
  wf__plugin_host *h = wf__calloc(1, sizeof *h);
  if (h) pthread_mutex_init(&h->lock, NULL);
  return h;
}

static void unload_locked(wf__plugin_host *h, wf_plugin *p);

/* wf_engine_free(): unload what is loaded (waiting for calls in flight,
 * which the engine's pool still runs), forget the directories. */
static void host_teardown(wf_engine *e, void *data) {
  (void)e;
  wf__plugin_host *h = data;
  pthread_mutex_lock(&h->lock);
  while (h->plugins) unload_locked(h, h->plugins);
  pthread_mutex_unlock(&h->lock);
  for (size_t i = 0; i < h->ndirs; i++) wf__free(h->dirs[i]);
  wf__free(h->dirs);
  pthread_mutex_destroy(&h->lock);
  wf__free(h);
}

static wf__plugin_host *host_of(wf_engine *e) {
  return wf__engine_attachment(e, &HOST_KEY, host_new, host_teardown);
}

/* ---- calls in flight ---- */

static void call_begin(void *owner) {
  wf_plugin *p = owner;
  atomic_fetch_add(&p->inflight, 1);
}

static void call_end(void *owner) {
  wf_plugin *p = owner;
  /* Under the lock: once unload sees zero it may free p, so the last
   * touch of p must come before the count reaches zero unguarded. */
  pthread_mutex_lock(&p->mu);
  if (atomic_fetch_sub(&p->inflight, 1) == 1) pthread_cond_broadcast(&p->idle);
  pthread_mutex_unlock(&p->mu);
}

static const wf__handler_owner OWNER = {call_begin, call_end};

/* ---- trust ---- */

static bool writable_by_others(const struct stat *st) {
  return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

int wf_engine_add_plugin_dir(wf_engine *e, const char *dir, wf_error *err) {
  if (!e || !dir) return wf__error_set(err, WF_EINVAL, NULL, "dir is required");
  char *rp = realpath(dir, NULL);
  if (!rp)
    return wf__error_set(err, WF_EIO, NULL, "plugin directory %s: %s", dir,
                         strerror(errno));
  struct stat st;
  int rc = WF_OK;
  if (stat(rp, &st) != 0 || !S_ISDIR(st.st_mode))
    rc = wf__error_set(err, WF_EPERM, NULL,
                       "plugin directory %s is not a directory", rp);
  else if (writable_by_others(&st))
    rc = wf__error_set(err, WF_EPERM, NULL,
                       "plugin directory %s is writable by its group or by "
                       "others; refusing to trust it",
                       rp);
  char *copy = rc == WF_OK ? wf__strdup(rp) : NULL;
  free(rp); /* realpath() allocates with the C library */
  if (rc != WF_OK) return rc;
  wf__plugin_host *h = copy ? host_of(e) : NULL;
  if (!h) {
    wf__free(copy);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  pthread_mutex_lock(&h->lock);
  char **dirs = wf__realloc(h->dirs, (h->ndirs + 1) * sizeof *dirs);
  if (dirs) {
    h->dirs = dirs;
    h->dirs[h->ndirs++] = copy;
  }
  pthread_mutex_unlock(&h->lock);
  if (!dirs) {
    wf__free(copy);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  return WF_OK;
}

/* The trusted directory the resolved file sits in, or NULL (lock held).
 * Resolved directories end in '/' only when they are the root. */
static const char *trusted(const wf__plugin_host *h, const char *rp) {
  for (size_t i = 0; i < h->ndirs; i++) {
    const char *d = h->dirs[i];
    size_t n = strlen(d);
    if (strncmp(rp, d, n) != 0) continue;
    if (d[n - 1] == '/' ? rp[n] != '\0' : rp[n] == '/') return d;
  }
  return NULL;
}

/* Every directory from the file's up to the trusted one must be safe from
 * others: a writable one lets them swap what lies below. */
static int check_dirs(const char *path, const char *rp, const char *top,
                      wf_error *err) {
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s", rp) >= (int)sizeof dir)
    return wf__error_set(err, WF_EINVAL, NULL, "plugin %s: path too long",
                         path);
  size_t top_len = strlen(top);
  for (;;) {
    char *slash = strrchr(dir, '/');
    if (!slash) break;
    if (slash == dir) slash[1] = '\0'; /* the root */
    else *slash = '\0';
    struct stat st;
    if (stat(dir, &st) == 0 && writable_by_others(&st))
      return wf__error_set(err, WF_EPERM, NULL,
                           "plugin %s is under %s, which is writable by its "
                           "group or by others; refusing to load it",
                           path, dir);
    if (strlen(dir) <= top_len) break;
  }
  return WF_OK;
}

static int check_file(const char *path, const char *rp, wf_error *err) {
  struct stat st;
  if (stat(rp, &st) != 0)
    return wf__error_set(err, WF_EIO, NULL, "plugin %s: %s", path,
                         strerror(errno));
  if (!S_ISREG(st.st_mode))
    return wf__error_set(err, WF_EPERM, NULL,
                         "plugin %s is not a regular file", path);
  if (writable_by_others(&st))
    return wf__error_set(err, WF_EPERM, NULL,
                         "plugin %s is writable by its group or by others; "
                         "refusing to load it",
                         path);
  return WF_OK;
}

static void plugin_free(wf_plugin *p) {
  for (size_t i = 0; i < p->nstaged; i++) wf__free(p->staged[i].resource);
  wf__free(p->staged);
  wf__free(p->handlers);
  wf__free(p->path);
  pthread_cond_destroy(&p->idle);
  pthread_mutex_destroy(&p->mu);
  wf__free(p);
}

/* The host side of register_handler: staged until init returns. */
int wf__plugin_stage(wf_plugin *p, const char *resource,
                     const wf_handler_ops *ops, wf_error *err) {
  if (!p || !resource || !*resource || !ops || !ops->fn)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "register_handler needs a resource and a function");
  if (!p->initializing)
    return wf__error_set(err, WF_ESTATE, NULL,
                         "plugin %s: handlers can only be registered from "
                         "init",
                         p->path);
  if (ops->version != WF_HANDLER_OPS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "plugin %s: wf_handler_ops version %u is not "
                         "supported",
                         p->path, ops->version);
  if (ops->flags & ~(unsigned)(WF_HANDLER_INLINE | WF_HANDLER_PREFIX))
    return wf__error_set(err, WF_EINVAL, NULL,
                         "plugin %s: unknown handler flags 0x%x for '%s'",
                         p->path, ops->flags, resource);
  for (size_t i = 0; i < p->nstaged; i++)
    if (strcmp(p->staged[i].resource, resource) == 0)
      return wf__error_set(err, WF_EEXIST, NULL,
                           "plugin %s registers '%s' twice", p->path,
                           resource);
  wf__staged *s = wf__realloc(p->staged, (p->nstaged + 1) * sizeof *s);
  if (!s) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  p->staged = s;
  if (!(s[p->nstaged].resource = wf__strdup(resource)))
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  s[p->nstaged].ops = *ops;
  p->nstaged++;
  return WF_OK;
}

static void unregister_all(wf_plugin *p) {
  for (size_t i = 0; i < p->nhandlers; i++)
    wf__handler_remove(p->engine, p->handlers[i]);
  p->nhandlers = 0;
}

/* Register the staged handlers; all or nothing. */
static int commit(wf_plugin *p, wf_error *err) {
  p->handlers = wf__calloc(p->nstaged ? p->nstaged : 1, sizeof *p->handlers);
  if (!p->handlers) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  for (size_t i = 0; i < p->nstaged; i++) {
    wf__handler *h = NULL;
    int rc = wf__handler_add(p->engine, p->staged[i].resource,
                             p->staged[i].ops.fn, p->staged[i].ops.payload,
                             p->staged[i].ops.flags, &OWNER, p, &h, err);
    if (rc != WF_OK) {
      unregister_all(p);
      /* Say which plugin: the engine's message names the resource only. */
      char why[sizeof err->message];
      snprintf(why, sizeof why, "%s", err ? err->message : "");
      return wf__error_set(err, rc, NULL, "plugin %s: %s", p->path, why);
    }
    p->handlers[p->nhandlers++] = h;
  }
  return WF_OK;
}

int wf_engine_load_plugin(wf_plugin **out, wf_engine *e, const char *path,
                          const char *config_json, wf_error *err) {
  if (!out || !e || !path)
    return wf__error_set(err, WF_EINVAL, NULL, "out, engine and path are "
                         "required");
  *out = NULL;
  const char *config = config_json ? config_json : "{}";
  json_t *cfg = NULL;
  wf_error perr;
  if (wf__json_parse(&cfg, config, strlen(config), "plugin configuration",
                     &perr) != WF_OK)
    return wf__error_set(err, WF_EPARSE, NULL, "plugin %s: %s", path,
                         perr.message);
  bool object = json_is_object(cfg);
  json_decref(cfg);
  if (!object)
    return wf__error_set(err, WF_EPARSE, NULL,
                         "plugin %s: the configuration must be a JSON object",
                         path);
  char *rp = realpath(path, NULL);
  if (!rp)
    return wf__error_set(err, WF_EIO, NULL, "plugin %s: %s", path,
                         strerror(errno));
  wf__plugin_host *host = host_of(e);
  if (!host) {
    free(rp);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  pthread_mutex_lock(&host->lock);
  int rc = WF_OK;
  const char *top = trusted(host, rp);
  if (!top)
    rc = wf__error_set(err, WF_EPERM, NULL,
                       "plugin %s resolves to %s, outside the plugin "
                       "directories",
                       path, rp);
  if (rc == WF_OK) rc = check_file(path, rp, err);
  if (rc == WF_OK) rc = check_dirs(path, rp, top, err);
  wf_plugin *p = NULL;
  if (rc == WF_OK && !(p = wf__calloc(1, sizeof *p)))
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  if (rc == WF_OK) {
    p->engine = e;
    p->path = wf__strdup(rp);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->idle, NULL);
    atomic_init(&p->inflight, 0);
    p->dl = dlopen(rp, RTLD_NOW | RTLD_LOCAL);
    if (!p->dl)
      rc = wf__error_set(err, WF_EIO, NULL, "plugin %s: %s", path, dlerror());
  }
  wf_plugin_entry_fn entry = NULL;
  if (rc == WF_OK) {
    /* The object-to-function pointer conversion dlsym needs (POSIX). */
    *(void **)&entry = dlsym(p->dl, WF_PLUGIN_ENTRY);
    if (!entry)
      rc = wf__error_set(err, WF_EABI, NULL,
                         "plugin %s: no %s entry point", path,
                         WF_PLUGIN_ENTRY);
  }
  if (rc == WF_OK) {
    p->desc = entry(wf__host_api());
    const wf_plugin_desc *d = p->desc;
    if (!d || !d->init || !d->name)
      rc = wf__error_set(err, WF_EABI, NULL,
                         "plugin %s: its entry point returned no usable "
                         "descriptor",
                         path);
    else if (d->abi_major != WF_PLUGIN_ABI_MAJOR ||
             d->abi_minor > WF_PLUGIN_ABI_MINOR)
      rc = wf__error_set(err, WF_EABI, NULL,
                         "plugin %s was built for plugin ABI %u.%u; this "
                         "host provides %d.%d",
                         path, d->abi_major, d->abi_minor,
                         WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR);
  }
  if (rc == WF_OK) {
    wf_error ierr;
    wf__error_clear(&ierr);
    p->initializing = true;
    int irc = p->desc->init(p, wf__host_api(), config, &ierr);
    p->initializing = false;
    if (irc != WF_OK) {
      rc = wf__error_set(err, WF_EABI, NULL, "plugin %s: init failed (%s): %s",
                         path, wf_error_name(irc),
                         ierr.message[0] ? ierr.message : wf_error_str(irc));
    } else if ((rc = commit(p, err)) != WF_OK) {
      if (p->desc->fini) p->desc->fini(p);
    }
  }
  if (rc == WF_OK) {
    p->next = host->plugins;
    host->plugins = p;
  }
  pthread_mutex_unlock(&host->lock);
  free(rp);
  if (rc != WF_OK) {
    if (p && p->dl) dlclose(p->dl);
    if (p) plugin_free(p);
    return rc;
  }
  wf__log_plugin(e, "PluginLoaded", p->desc->name, p->path);
  *out = p;
  return WF_OK;
}

/* Unload with the host's lock held. */
static void unload_locked(wf__plugin_host *h, wf_plugin *p) {
  for (wf_plugin **pp = &h->plugins; *pp; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  }
  /* No new call once the handlers are gone; then let running calls end. */
  unregister_all(p);
  pthread_mutex_lock(&p->mu);
  while (atomic_load(&p->inflight) > 0) pthread_cond_wait(&p->idle, &p->mu);
  pthread_mutex_unlock(&p->mu);
  if (p->desc->fini) p->desc->fini(p);
  wf__log_plugin(p->engine, "PluginUnloaded", p->desc->name, p->path);
  dlclose(p->dl);
  plugin_free(p);
}

void wf_plugin_unload(wf_plugin *p) {
  if (!p) return;
  wf__plugin_host *h = host_of(p->engine);
  pthread_mutex_lock(&h->lock);
  unload_locked(h, p);
  pthread_mutex_unlock(&h->lock);
}

const char *wf_plugin_name(const wf_plugin *p) { return p->desc->name; }
const char *wf_plugin_path(const wf_plugin *p) { return p->path; }
