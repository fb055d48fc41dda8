/* Built-in handlers from the configuration's `handlers` list: each answers
 * its Task resource at once with a fixed result, inline on the scheduler
 * thread. They stand in for real handlers in demonstrations and load
 * tests, where the gateway and the engine are measured rather than the
 * work. The result is parsed once and shared by every task: values handed
 * to the engine are never modified once shared, so one reference more per
 * call is all an answer costs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "workflow/json.h"

static void answer_now(wf_task *task, void *payload) {
  wf_task_succeed_value(task, json_incref((json_t *)payload));
}

int gw_static_handlers_register(gw_server *srv, char *msg, size_t n) {
  const gw_config *cfg = srv->g.cfg;
  if (!cfg->nhandlers) return 0;
  if (!(srv->static_results = calloc(cfg->nhandlers, sizeof(json_t *)))) {
    snprintf(msg, n, "handlers: out of memory");
    return -1;
  }
  for (size_t i = 0; i < cfg->nhandlers; i++) {
    const gw_handler_conf *h = &cfg->handlers[i];
    json_t *result = json_loads(h->result_json, JSON_DECODE_ANY, NULL);
    if (!result) {
      snprintf(msg, n, "handlers[%zu].result: out of memory", i);
      return -1;
    }
    srv->static_results[srv->nstatic++] = result;
    wf_error err;
    if (wf_engine_register_handler(srv->g.engine, h->resource, answer_now,
                                   result, WF_HANDLER_INLINE,
                                   &err) != WF_OK) {
      snprintf(msg, n, "handlers[%zu].resource: %s", i, err.message);
      return -1;
    }
  }
  return 0;
}

void gw_static_handlers_free(gw_server *srv) {
  for (size_t i = 0; i < srv->nstatic; i++)
    json_decref(srv->static_results[i]);
  free(srv->static_results);
  srv->static_results = NULL;
  srv->nstatic = 0;
}
