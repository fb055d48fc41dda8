/* GET /executions/{id} and /executions/{id}/history: an execution's
 * status, input, output, error, cause and dates, or its event history.
 * {id} is the executionId POST /process answered, or an execution ARN. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

static const char *const STATUS[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                     "TIMED_OUT", "ABORTED"};

static void describe(const gw_exec_rec *rec, gw_response *resp) {
  wf_exec_status st = rec->status;
  char start[32], stop[32];
  gw_iso8601(start, rec->start_ms);
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "executionArn",
                        rec->arn, "executionId", rec->name,
                        "stateMachineArn", rec->machine_arn, "correlationId",
                        rec->correlation_id ? rec->correlation_id : "",
                        "status", STATUS[st], "startDate", start);
  if (o && st != WF_EXEC_RUNNING) {
    gw_iso8601(stop, rec->stop_ms);
    json_object_set_new(o, "stopDate", json_string(stop));
    if (rec->error) json_object_set_new(o, "error", json_string(rec->error));
    if (rec->cause) json_object_set_new(o, "cause", json_string(rec->cause));
  }
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  /* Input and output go in as the text they are, so numbers keep the
   * form the library prints (AWS's). */
  if (text && rec->input) text = gw_json_splice(text, "input", rec->input);
  if (text && rec->output) text = gw_json_splice(text, "output", rec->output);
  if (!text) {
    gw_respond_error(resp, NULL, 500, "InternalError", "out of memory");
    return;
  }
  resp->status = 200;
  resp->body = text;
}

typedef struct events_text {
  char *buf;
  size_t len, cap;
  bool oom;
} events_text;

static void append(events_text *t, const char *s) {
  size_t n = strlen(s);
  if (t->len + n + 1 > t->cap) {
    size_t cap = (t->len + n + 1) * 2;
    char *b = realloc(t->buf, cap);
    if (!b) {
      t->oom = true;
      return;
    }
    t->buf = b;
    t->cap = cap;
  }
  memcpy(t->buf + t->len, s, n + 1);
  t->len += n;
}

static int add_event(const wf_store_event *ev, void *p) {
  events_text *t = p;
  if (t->len > 11) append(t, ",");
  append(t, ev->json);
  return 0;
}

static void history(gateway *g, const gw_request *req, gw_exec_rec *rec,
                    gw_response *resp) {
  if (g->cfg->engine.history == WF_HISTORY_OFF) {
    gw_respond_error(resp, req, 404, "HistoryNotKept",
                     "this gateway runs with engine.history: off");
    return;
  }
  bool reverse = req->query && strstr(req->query, "reverse=true") != NULL;
  events_text t = {0};
  append(&t, "{\"events\":[");
  wf_error err;
  int rc = wf_store_read_events(wf_engine_store(g->engine), rec->arn, 0,
                                reverse, 0, add_event, &t, &err);
  append(&t, "]}");
  if (rc != WF_OK || t.oom) {
    free(t.buf);
    gw_respond_error(resp, req, 500, "InternalError", "%s",
                     rc != WF_OK ? err.message : "out of memory");
    return;
  }
  resp->body = t.buf;
  resp->status = 200;
}

void gw_route_executions(gateway *g, const gw_request *req,
                         gw_response *resp) {
  const char *id = req->path + strlen("/executions/");
  const char *slash = strchr(id, '/');
  size_t n = slash ? (size_t)(slash - id) : strlen(id);
  char key[300];
  if (n >= sizeof key) {
    gw_respond_error(resp, req, 404, "ExecutionNotFound",
                     "no execution with this id");
    return;
  }
  memcpy(key, id, n);
  key[n] = '\0';
  gw_exec_rec *rec = g->store->ops->find_execution(g->store, key);
  if (!rec) {
    gw_respond_error(resp, req, 404, "ExecutionNotFound",
                     "no execution with this id");
    return;
  }
  if (slash) history(g, req, rec, resp);
  else describe(rec, resp);
  g->store->ops->release_execution(g->store, rec);
}
