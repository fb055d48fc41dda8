/* A well-behaved plugin registering two handlers, both answering with the
 * configuration they were loaded with:
 *   TP_FN "TpEcho<suffix>"   exact, inline;
 *   TP_FN "TpGood<suffix>-"  a prefix, on the worker pool.
 * Output: {"handler":..,"resource":..,"state":..,"config":<config>,
 *          "input":<input>}. Configuration: any object; "suffix" (a plain
 * string) varies the resources so that the same file can be loaded twice;
 * "control" names a tp_control. Each load is an instance of its own: the
 * same file loaded twice shares these statics, so instances are kept in a
 * table indexed by the host's wf_plugin. */
#include <stdlib.h>
#include <string.h>

#include "tp_control.h"

#define MAX_INSTANCES 8

typedef struct instance {
  wf_plugin *plugin; /* NULL: free slot */
  char *config;
  tp_control *control;
} instance;

static const wf_host_api *host;
/* Guards `instances`: init and fini run under the host's load lock, but
 * handlers read their instance from worker threads. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static instance instances[MAX_INSTANCES];

static void answer(wf_task *t, const char *which, instance *in) {
  TP_COUNT(in->control, entered);
  const char *input = host->task_input(t);
  const char *res = host->task_resource(t);
  const char *state = host->task_state_name(t);
  size_t n = strlen(in->config) + strlen(input) + strlen(res) +
             strlen(state) + 128;
  char *out = malloc(n);
  if (!out) {
    host->task_fail(t, "Tp.NoMemory", NULL);
  } else {
    snprintf(out, n,
             "{\"handler\":\"%s\",\"resource\":\"%s\",\"state\":\"%s\","
             "\"config\":%s,\"input\":%s}",
             which, res, state, in->config, input);
    host->task_succeed(t, out);
    free(out);
  }
  TP_COUNT(in->control, returned);
}

static void echo(wf_task *t, void *payload) { answer(t, "echo", payload); }
static void prefixed(wf_task *t, void *payload) {
  answer(t, "prefix", payload);
}

/* "suffix":"..." from the configuration, if any (plain strings only). */
static int read_suffix(const char *config, char *out, size_t n,
                       wf_error *err) {
  out[0] = '\0';
  const char *k = strstr(config, "\"suffix\"");
  if (!k) return WF_OK;
  const char *q = strchr(k + 8, '"');
  const char *e = q ? strchr(q + 1, '"') : NULL;
  if (!q || !e || (size_t)(e - q - 1) >= n)
    return tp_fail(err, WF_EINVAL, "\"suffix\" must be a short string");
  snprintf(out, n, "%.*s", (int)(e - q - 1), q + 1);
  return WF_OK;
}

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  /* The table is the one the entry point received, and carries every
   * function this plugin uses. */
  if (api != host || api->abi_major != WF_PLUGIN_ABI_MAJOR ||
      !WF_HOST_HAS(api, log))
    return tp_fail(err, WF_EABI, "unexpected host table");
  char suffix[64];
  int rc = read_suffix(config, suffix, sizeof suffix, err);
  if (rc != WF_OK) return rc;
  pthread_mutex_lock(&lock);
  instance *in = NULL;
  for (size_t i = 0; i < MAX_INSTANCES && !in; i++)
    if (!instances[i].plugin) in = &instances[i];
  if (in) {
    in->plugin = p;
    in->config = strdup(config);
    in->control = tp_control_from(config);
  }
  pthread_mutex_unlock(&lock);
  if (!in || !in->config)
    return tp_fail(err, WF_ENOMEM, "no room for another instance");
  char res[256];
  snprintf(res, sizeof res, TP_FN "TpEcho%s", suffix);
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, echo, in, WF_HANDLER_INLINE};
  rc = api->register_handler(p, res, &ops, err);
  if (rc == WF_OK) {
    snprintf(res, sizeof res, TP_FN "TpGood%s-", suffix);
    wf_handler_ops pops = {WF_HANDLER_OPS_VERSION, prefixed, in,
                           WF_HANDLER_PREFIX};
    rc = api->register_handler(p, res, &pops, err);
  }
  if (rc != WF_OK) {
    /* Refused: the host calls no fini, so release the instance now. */
    pthread_mutex_lock(&lock);
    free(in->config);
    *in = (instance){0};
    pthread_mutex_unlock(&lock);
    return rc;
  }
  TP_COUNT(in->control, inits);
  return WF_OK;
}

static void fini(wf_plugin *p) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < MAX_INSTANCES; i++) {
    if (instances[i].plugin == p) {
      tp_control_fini(instances[i].control);
      free(instances[i].config);
      instances[i] = (instance){0};
    }
  }
  pthread_mutex_unlock(&lock);
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "tp-good", init, fini};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  host = api;
  return &desc;
}
