/* GetExecutionHistory: the events the engine's store has committed, in
 * AWS's shapes, read a page at a time (never the whole history), oldest or
 * newest first, with or without execution data. A page's token carries the
 * id of the event the next one begins with. The ExecutionStarted event is
 * completed with what only the gateway knows: the version the execution
 * started on. A Map Run's child execution has a history of its own, which
 * the engine keeps. */
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
  if (!x) return; /* a Map Run's child: no version */
  json_t *d = json_object_get(event, "executionStartedEventDetails");
  if (!json_is_object(d)) return;
  if (x->version_arn)
    json_object_set_new(d, "stateMachineVersionArn",
                        json_string(x->version_arn));
}

/* One page of events, and the id the next page starts from. */
typedef struct page {
  const gw_exec_rec *x;
  json_t *events;
  size_t max, count;
  int64_t next;
  bool data;
} page;

static int add_event(const wf_store_event *ev, void *p) {
  page *pg = p;
  if (pg->count++ >= pg->max) { /* one past: where the next page starts */
    pg->next = ev->id;
    return 1;
  }
  json_t *e = json_loads(ev->json, 0, NULL);
  if (!e) return 1;
  const char *type = json_string_value(json_object_get(e, "type"));
  if (type && strcmp(type, "ExecutionStarted") == 0) complete_start(pg->x, e);
  if (!pg->data) drop_data(e);
  json_array_append_new(pg->events, e);
  return 0;
}

/* What answers for a Map Run's child that keeps no history (an EXPRESS
 * one: AWS keeps none) or none at all: as for an execution the gateway
 * does not know. */
static void child_missing(gw_sfn_call *c, const char *arn) {
  gw_sfn_fail(c, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'",
              arn);
}

void gw_sfn_get_execution_history(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "executionArn", true, 1, 256);
  long long max = gw_sfn_int(&p, "maxResults", 0, 1000, 0);
  bool reverse = gw_sfn_bool(&p, "reverseOrder", false);
  const char *token = gw_sfn_str(&p, "nextToken", false, 1, 1024);
  bool data = gw_sfn_bool(&p, "includeExecutionData", true);
  if (gw_sfn_params_failed(&p, c) || !gw_sfn_check_execution_arn(c, arn))
    return;
  /* A Map Run's child: its own history, kept by the engine. */
  bool child = gw_sfn_is_map_run_child(arn);
  gw_exec_rec *x = child ? NULL : gw_sfn_find_execution(c, arn);
  if (!child && !x) return;
  gw_store *s = c->g->store;
  if (c->g->cfg->engine.history == WF_HISTORY_OFF) {
    gw_sfn_fail(c, "ValidationException",
                "This gateway keeps no execution history (engine.history: "
                "off)");
    if (x) s->ops->release_execution(s, x);
    return;
  }
  char *context = gw_sfn_strf("GetExecutionHistory\n%s\n%d", arn, reverse);
  size_t from = 0;
  if (context && gw_sfn_page_start(c, token, context, &from)) {
    page pg = {x, json_array(), max ? (size_t)max : LIST_DEFAULT, 0, 0, data};
    wf_error err;
    int rc = child ? wf_engine_read_map_run_child_events(
                         c->g->engine, arn, (int64_t)from, reverse,
                         pg.max + 1, add_event, &pg, &err)
                   : wf_store_read_events(wf_engine_store(c->g->engine), arn,
                                          (int64_t)from, reverse, pg.max + 1,
                                          add_event, &pg, &err);
    if (child && (rc == WF_ENOTFOUND || rc == WF_EUNSUPPORTED)) {
      child_missing(c, arn);
    } else if (rc != WF_OK) {
      gw_sfn_error(c->resp, 500, "InternalFailure", "%s", err.message);
    } else {
      json_t *o = json_pack("{s:O}", "events", pg.events);
      if (pg.next) gw_sfn_page_next(o, context, (size_t)pg.next);
      gw_sfn_ok(c, o);
    }
    json_decref(pg.events);
  } else if (!context) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  }
  free(context);
  if (x) s->ops->release_execution(s, x);
}
