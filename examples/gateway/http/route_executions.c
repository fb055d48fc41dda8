/* GET /executions/{id} and /executions/{id}/history: an execution's
 * status, input, output, error, cause and dates, or its event history.
 * {id} is the executionId POST /process answered, or an execution ARN. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

static const char *const STATUS[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                     "TIMED_OUT", "ABORTED"};

static void describe(const gw_exec_rec *rec, gw_response *resp) {
  wf_execution *x = rec->exec;
  wf_exec_status st = wf_execution_status(x);
  char start[32], stop[32];
  gw_iso8601(start, rec->start_ms);
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "executionArn",
                        rec->arn, "executionId", rec->name,
                        "stateMachineArn", rec->machine_arn, "correlationId",
                        rec->correlation_id ? rec->correlation_id : "",
                        "status", STATUS[st], "startDate", start);
  if (o && st != WF_EXEC_RUNNING) {
    gw_iso8601(stop, wf_execution_stop_time(x));
    json_object_set_new(o, "stopDate", json_string(stop));
    if (wf_execution_error(x))
      json_object_set_new(o, "error", json_string(wf_execution_error(x)));
    if (wf_execution_cause(x))
      json_object_set_new(o, "cause", json_string(wf_execution_cause(x)));
  }
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  /* Input and output go in as the text they are, so numbers keep the
   * form the library prints (AWS's). */
  if (text && rec->input) text = gw_json_splice(text, "input", rec->input);
  const char *out = st == WF_EXEC_SUCCEEDED ? wf_execution_output(x) : NULL;
  if (text && out) text = gw_json_splice(text, "output", out);
  if (!text) {
    gw_respond_error(resp, NULL, 500, "InternalError", "out of memory");
    return;
  }
  resp->status = 200;
  resp->body = text;
}

static void history(gateway *g, const gw_request *req, gw_exec_rec *rec,
                    gw_response *resp) {
  if (g->cfg->engine.history == WF_HISTORY_OFF) {
    gw_respond_error(resp, req, 404, "HistoryNotKept",
                     "this gateway runs with engine.history: off");
    return;
  }
  int reverse = req->query && strstr(req->query, "reverse=true") != NULL;
  char *h = wf_execution_history(rec->exec, reverse);
  /* The library's string is freed with wf_string_free(); responses are
   * freed with free(): copy. */
  resp->body = h ? strdup(h) : NULL;
  wf_string_free(h);
  if (!resp->body) {
    gw_respond_error(resp, req, 500, "InternalError", "out of memory");
    return;
  }
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
  if (!rec || !rec->exec) {
    if (rec) g->store->ops->release_execution(g->store, rec);
    gw_respond_error(resp, req, 404, "ExecutionNotFound",
                     "no execution with this id");
    return;
  }
  if (slash) history(g, req, rec, resp);
  else describe(rec, resp);
  g->store->ops->release_execution(g->store, rec);
}
