/* GetExecutionHistory: the library's history (wf_execution_history, in
 * AWS's event shapes) cut into pages, oldest or newest first, with or
 * without execution data. The ExecutionStarted event is completed with
 * what only the gateway knows: the machine's role and the version the
 * execution started on. */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

#define LIST_DEFAULT 100

/* Remove input and output from an event's details (includeExecutionData:
 * false); their *Details members stay. */
static void drop_data(json_t *event) {
  const char *k;
  json_t *v;
  json_object_foreach(event, k, v) {
    if (!json_is_object(v)) continue;
    json_object_del(v, "input");
    json_object_del(v, "output");
  }
}

/* The version the execution started on (the engine knows no versions). */
static void complete_start(const gw_exec_rec *x, json_t *event) {
  json_t *d = json_object_get(event, "executionStartedEventDetails");
  if (!json_is_object(d)) return;
  if (x->version_arn)
    json_object_set_new(d, "stateMachineVersionArn",
                        json_string(x->version_arn));
}

static void answer(gw_sfn_call *c, const gw_exec_rec *x, json_t *events,
                   size_t start, size_t max, bool data, const char *context) {
  size_t total = json_array_size(events);
  json_t *page = json_array();
  for (size_t i = start; i < total && i - start < max; i++) {
    json_t *e = json_array_get(events, i);
    const char *type = json_string_value(json_object_get(e, "type"));
    if (type && strcmp(type, "ExecutionStarted") == 0) complete_start(x, e);
    if (!data) drop_data(e);
    json_array_append(page, e);
  }
  json_t *o = json_pack("{s:o}", "events", page);
  if (start + max < total) gw_sfn_page_next(o, context, start + max);
  gw_sfn_ok(c, o);
}

void gw_sfn_get_execution_history(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "executionArn", true, 1, 256);
  long long max = gw_sfn_int(&p, "maxResults", 0, 1000, 0);
  bool reverse = gw_sfn_bool(&p, "reverseOrder", false);
  const char *token = gw_sfn_str(&p, "nextToken", false, 1, 1024);
  bool data = gw_sfn_bool(&p, "includeExecutionData", true);
  if (gw_sfn_params_failed(&p, c)) return;
  if (!gw_sfn_check_execution_arn(c, arn)) return;
  gw_store *s = c->g->store;
  gw_exec_rec *x = s->ops->find_execution(s, arn);
  if (!x || !x->exec) {
    if (x) s->ops->release_execution(s, x);
    gw_sfn_fail(c, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'",
                arn);
    return;
  }
  char *context = gw_sfn_strf("GetExecutionHistory\n%s\n%d", arn, reverse);
  size_t start;
  if (context && gw_sfn_page_start(c, token, context, &start)) {
    char *text = wf_execution_history(x->exec, reverse);
    json_t *h = text ? json_loads(text, 0, NULL) : NULL;
    wf_string_free(text);
    json_t *events = json_object_get(h, "events");
    if (json_is_array(events))
      answer(c, x, events, start, max ? (size_t)max : LIST_DEFAULT, data,
             context);
    else if (c->g->cfg->engine.history == WF_HISTORY_OFF)
      gw_sfn_fail(c, "ValidationException",
                  "This gateway keeps no execution history (engine.history: "
                  "off)");
    else
      gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    json_decref(h);
  } else if (!context) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  }
  free(context);
  s->ops->release_execution(s, x);
}
