/* A minimal handler plugin: answers Task states whose Resource is
 * arn:aws:lambda:us-east-1:123456789012:function:Hello with a greeting.
 * It never links libworkflow; it only uses the host table it is given.
 *
 *   cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags workflow) \
 *      -o hello.so hello.c
 *   wf run machine.json --plugin ./hello.so --plugin-config hello.json
 *
 * Configuration (optional): {"greeting": "Hello"} — the word used. */
#include <stdio.h>
#include <string.h>

#include <workflow/handler.h>

static const wf_host_api *host;
/* Written once by init (the host serialises loads), read by calls after. */
static char greeting[64] = "Hello";

static void hello(wf_task *task, void *payload) {
  (void)payload;
  char out[256];
  snprintf(out, sizeof out, "{\"message\":\"%s from %s\"}", greeting,
           host->task_state_name(task));
  host->log(task, WF_LOG_INFO, "HelloAnswered", NULL);
  host->task_succeed(task, out);
}

/* A tiny reader for {"greeting": "..."}: enough for this example, which
 * stays free of any JSON library. */
static int read_greeting(const char *config, wf_error *err) {
  const char *k = strstr(config, "\"greeting\"");
  if (!k) return WF_OK;
  const char *q = strchr(k + 10, '"');
  const char *e = q ? strchr(q + 1, '"') : NULL;
  if (!q || !e || (size_t)(e - q - 1) >= sizeof greeting ||
      memchr(q + 1, '\\', (size_t)(e - q - 1))) {
    if (err) {
      err->code = WF_EINVAL;
      snprintf(err->message, sizeof err->message,
               "\"greeting\" must be a plain string of at most %zu bytes",
               sizeof greeting - 1);
    }
    return WF_EINVAL;
  }
  snprintf(greeting, sizeof greeting, "%.*s", (int)(e - q - 1), q + 1);
  return WF_OK;
}

static int init(wf_plugin *p, const wf_host_api *api, const char *config,
                wf_error *err) {
  int rc = read_greeting(config, err);
  if (rc != WF_OK) return rc;
  wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, hello, NULL,
                        WF_HANDLER_INLINE};
  return api->register_handler(
      p, "arn:aws:lambda:us-east-1:123456789012:function:Hello", &ops, err);
}

static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR, WF_PLUGIN_ABI_MINOR,
                                    "hello", init, NULL};

WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api) {
  host = api;
  return &desc;
}
