/* POST /process: the seed's trigger. Check the media type, parse (with
 * the depth cap), validate against the configured rules, sanitize, start
 * an execution of the configured machine carrying the correlation id, and
 * answer 202 with where to follow it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "rules.h"

/* Bounds the 400 answer to a body with many problems. */
#define MAX_ERRORS 50

static void validation_failed(gw_response *resp, const gw_request *req,
                              json_t *errors) {
  json_t *o = json_pack("{s:s, s:s, s:o, s:s}", "error", "ValidationError",
                        "message", "the request body failed validation",
                        "errors", errors, "correlationId",
                        req->correlation_id);
  gw_respond_json(resp, 400, o);
}

/* The body as a sanitized execution input, or NULL with resp set. */
static char *checked_input(gateway *g, const gw_request *req,
                           gw_response *resp) {
  const gw_config *cfg = g->cfg;
  if (!gw_content_type_json(gw_request_header(req, "Content-Type"))) {
    gw_respond_error(resp, req, 415, "UnsupportedMediaType",
                     "the body must be application/json (UTF-8)");
    return NULL;
  }
  json_t *body = gw_body_parse(req, cfg->limits.max_depth, resp);
  if (!body) return NULL;
  json_t *errors = json_array();
  if (!json_is_object(body))
    json_array_append_new(errors,
                          json_pack("{s:s, s:s, s:s}", "field", "", "rule",
                                    "type", "message",
                                    "the body must be a JSON object"));
  else
    gw_rules_check(cfg->process.rules, body, errors, MAX_ERRORS);
  char *input = NULL;
  if (json_array_size(errors)) {
    validation_failed(resp, req, errors);
    errors = NULL;
  } else if (gw_sanitize_json(body, cfg->process.max_string_length)) {
    gw_respond_error(resp, req, 400, "ValidationError",
                     "field names collide once control characters are "
                     "removed");
  } else if (!(input = json_dumps(body, JSON_COMPACT))) {
    gw_respond_error(resp, req, 500, "InternalError", "out of memory");
  }
  json_decref(errors);
  json_decref(body);
  return input;
}

static void start_failed(gateway *g, const gw_request *req,
                         gw_response *resp, int rc, const wf_error *err) {
  char members[700];
  json_t *m = json_pack("{s:s, s:s}", "error", wf_error_name(rc), "message",
                        err->message);
  char *text = m ? json_dumps(m, JSON_COMPACT) : NULL;
  json_decref(m);
  snprintf(members, sizeof members, "\"correlationId\":\"%s\",\"detail\":%s",
           req->correlation_id, text ? text : "null");
  free(text);
  gw_log_event(gw_server_of(g)->log, WF_LOG_ERROR, "StartExecutionFailed",
               members);
  if (rc == WF_ELIMIT)
    gw_respond_error(resp, req, 413, "PayloadTooLarge",
                     "the input exceeds the execution payload limit");
  else if (rc == WF_ESTATE)
    gw_respond_error(resp, req, 503, "ServiceUnavailable",
                     "the gateway is shutting down");
  else if (rc == WF_EBUSY) {
    gw_respond_error(resp, req, 503, "ServiceUnavailable",
                     "too many executions are running; retry later");
    gw_respond_header(resp, "Retry-After", "1");
  }
  else
    gw_respond_error(resp, req, 500, "InternalError",
                     "the execution could not be started");
}

void gw_route_process(gateway *g, const gw_request *req, gw_response *resp) {
  char *input = checked_input(g, req, resp);
  if (!input) return;
  if (!gw_admission_enter(gw_server_of(g)->admission,
                          g->cfg->process.max_wait_ms)) {
    free(input);
    gw_respond_error(resp, req, 503, "ServiceUnavailable",
                     "too many executions are running; retry later");
    gw_respond_header(resp, "Retry-After", "1");
    return;
  }
  gw_machine_rec *m = g->process_machine_arn
                          ? g->store->ops->find_machine(g->store,
                                                        g->process_machine_arn)
                          : NULL;
  if (!m) {
    free(input);
    gw_respond_error(resp, req, 503, "ServiceUnavailable",
                     "no state machine is configured for /process");
    return;
  }
  char name[37];
  gw_execution_name(name);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = name;
  so.correlation_id = req->correlation_id;
  wf_execution *x = NULL;
  wf_error err;
  int rc = wf_engine_start(&x, g->engine, m->current.machine, input, &so,
                           &err);
  g->store->ops->release_machine(g->store, m);
  free(input);
  if (rc != WF_OK) {
    start_failed(g, req, resp, rc, &err);
    return;
  }
  /* Started means committed to the store: GET /executions/ID finds it. */
  char date[32];
  gw_iso8601(date, wf_execution_start_time(x));
  json_t *answer = json_pack("{s:s, s:s, s:s, s:s}", "executionArn",
                             wf_execution_arn(x), "executionId", name,
                             "correlationId", req->correlation_id,
                             "startDate", date);
  gw_admission_track(gw_server_of(g)->admission, x);
  if (!answer) {
    gw_respond_error(resp, req, 500, "InternalError", "out of memory");
    return;
  }
  char location[64];
  snprintf(location, sizeof location, "/executions/%s", name);
  gw_respond_json(resp, 202, answer);
  gw_respond_header(resp, "Location", location);
}
