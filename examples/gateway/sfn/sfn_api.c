/* The AWS Step Functions JSON API at POST / (protocol awsJson1_0): the
 * signature first (SigV4, whenever aws.accessKeys are configured and
 * aws.signatureVersion4 is not false), then the operation X-Amz-Target
 * names, then its body. Every answer carries AWS's media type and a
 * request id, as botocore expects. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfn.h"
#include "sigv4.h"

/* AWS allows a request's date 15 minutes either side of its clock. */
#define SIGV4_SKEW_S 900

static const struct {
  const char *name;
  gw_sfn_op fn;
} OPS[] = {
    {"CreateStateMachine", gw_sfn_create_state_machine},
    {"DescribeStateMachine", gw_sfn_describe_state_machine},
    {"ListStateMachines", gw_sfn_list_state_machines},
    {"UpdateStateMachine", gw_sfn_update_state_machine},
    {"DeleteStateMachine", gw_sfn_delete_state_machine},
    {"ValidateStateMachineDefinition", gw_sfn_validate_definition},
    {"PublishStateMachineVersion", gw_sfn_publish_version},
    {"ListStateMachineVersions", gw_sfn_list_versions},
    {"DeleteStateMachineVersion", gw_sfn_delete_version},
    {"StartExecution", gw_sfn_start_execution},
    {"StartSyncExecution", gw_sfn_start_sync_execution},
    {"DescribeExecution", gw_sfn_describe_execution},
    {"ListExecutions", gw_sfn_list_executions},
    {"StopExecution", gw_sfn_stop_execution},
    {"RedriveExecution", gw_sfn_redrive_execution},
    {"GetExecutionHistory", gw_sfn_get_execution_history},
    {"SendTaskSuccess", gw_sfn_send_task_success},
    {"SendTaskFailure", gw_sfn_send_task_failure},
    {"SendTaskHeartbeat", gw_sfn_send_task_heartbeat},
    {"DescribeStateMachineForExecution",
     gw_sfn_describe_machine_for_execution},
    {"TagResource", gw_sfn_tag_resource},
    {"UntagResource", gw_sfn_untag_resource},
    {"ListTagsForResource", gw_sfn_list_tags},
    {"CreateStateMachineAlias", gw_sfn_create_alias},
    {"DescribeStateMachineAlias", gw_sfn_describe_alias},
    {"ListStateMachineAliases", gw_sfn_list_aliases},
    {"UpdateStateMachineAlias", gw_sfn_update_alias},
    {"DeleteStateMachineAlias", gw_sfn_delete_alias},
    {"TestState", gw_sfn_test_state},
    {"CreateActivity", gw_sfn_create_activity},
    {"DescribeActivity", gw_sfn_describe_activity},
    {"ListActivities", gw_sfn_list_activities},
    {"DeleteActivity", gw_sfn_delete_activity},
    {"GetActivityTask", gw_sfn_get_activity_task},
    {"ListMapRuns", gw_sfn_list_map_runs},
    {"DescribeMapRun", gw_sfn_describe_map_run},
    {"UpdateMapRun", gw_sfn_update_map_run},
};

json_t *gw_sfn_time(int64_t ms) { return json_real((double)ms / 1000.0); }

const char *gw_sfn_status_name(wf_exec_status st) {
  static const char *const NAMES[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                      "TIMED_OUT", "ABORTED"};
  return (unsigned)st < 5 ? NAMES[st] : "FAILED";
}

void gw_sfn_ok(gw_sfn_call *c, json_t *obj) {
  gw_response *r = c->resp;
  free(r->body);
  /* Thirteen digits keep the milliseconds of an epoch timestamp (ten
   * digits of seconds until 2286) and print no binary noise after them. */
  r->body =
      obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(13)) : NULL;
  json_decref(obj);
  if (!r->body) {
    gw_sfn_error(r, 500, "InternalFailure", "out of memory");
    return;
  }
  r->status = 200;
  r->content_type = "application/x-amz-json-1.0";
}

void gw_sfn_fail(gw_sfn_call *c, const char *type, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gw_sfn_error(c->resp, 400, type, "%s", msg);
}

/* An error object built by the caller (NULL: out of memory), answered in
 * AWS's shape. */
static void fail_with(gw_sfn_call *c, const char *type, json_t *o) {
  if (!o) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    return;
  }
  gw_respond_json(c->resp, 400, o);
  c->resp->content_type = "application/x-amz-json-1.0";
  gw_respond_header(c->resp, "x-amzn-ErrorType", type);
}

void gw_sfn_fail_resource(gw_sfn_call *c, const char *type,
                          const char *resource, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fail_with(c, type,
            json_pack("{s:s, s:s, s:s}", "__type", type, "message", msg,
                      "resourceName", resource));
}

void gw_sfn_fail_text(gw_sfn_call *c, const char *type, const char *message) {
  /* Diagnostics quote the definition, line breaks and all (JSON escapes
   * them); text that is not valid UTF-8 is cleaned first. */
  json_t *m = json_string(message);
  if (!m) {
    char *clean = gw_text_clean(message, strlen(message), 64 * 1024);
    m = json_string(clean ? clean : "");
    free(clean);
  }
  fail_with(c, type, json_pack("{s:s, s:o}", "__type", type, "message", m));
}

static bool authenticated(gw_sfn_call *c) {
  const gw_config *cfg = c->g->cfg;
  if (!cfg->aws.naccess_keys || cfg->aws.sigv4_off) return true;
  static const char *const TYPE[] = {
      [GW_SIGV4_MISSING] = "MissingAuthenticationTokenException",
      [GW_SIGV4_INCOMPLETE] = "IncompleteSignatureException",
      [GW_SIGV4_UNKNOWN_KEY] = "UnrecognizedClientException",
      [GW_SIGV4_INVALID] = "InvalidSignatureException"};
  gw_sigv4_scope sc = {cfg->aws.region,      "states",
                       cfg->aws.access_keys, cfg->aws.naccess_keys,
                       gw_now_ms() / 1000,   SIGV4_SKEW_S};
  char msg[512];
  gw_sigv4_result r = gw_sigv4_verify(c->req, &sc, msg, sizeof msg);
  if (r == GW_SIGV4_OK) return true;
  gw_sfn_error(c->resp, 400, TYPE[r], "%s", msg);
  return false;
}

/* The request body as a JSON object; an empty body counts as {}. NULL
 * with a SerializationException answered. */
static json_t *body_of(gw_sfn_call *c) {
  if (c->req->body_len == 0) return json_object();
  json_t *v = gw_body_parse(c->req, c->g->cfg->limits.max_depth, c->resp);
  if (!v) {
    /* The parser's explanation, in AWS's shape. */
    json_t *e = c->resp->body ? json_loads(c->resp->body, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(e, "message"));
    gw_sfn_fail(c, "SerializationException", "%s",
                m ? m : "the body is not valid JSON");
    json_decref(e);
    return NULL;
  }
  if (!json_is_object(v)) {
    gw_sfn_fail(c, "SerializationException", "%s",
                json_is_array(v) ? "Start of list found where not expected"
                                 : "Expected a JSON object");
    json_decref(v);
    return NULL;
  }
  return v;
}

static gw_sfn_op find_op(const char *target) {
  const char *name = target ? target + strlen("AWSStepFunctions.") : "";
  if (!target || strncmp(target, "AWSStepFunctions.", 17) != 0) return NULL;
  for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
    if (strcmp(OPS[i].name, name) == 0) return OPS[i].fn;
  return NULL;
}

void gw_route_sfn(gateway *g, const gw_request *req, gw_response *resp) {
  gw_sfn_call c = {g, req, resp, NULL};
  if (authenticated(&c)) {
    const char *target = gw_request_header(req, "X-Amz-Target");
    gw_sfn_op fn = find_op(target);
    if (!fn) {
      /* AWSStepFunctions.ListMapRunItems, say: named as the client sent
       * it (cut short; the core lets through only this service's). */
      gw_sfn_fail(&c, "UnknownOperationException",
                  "Operation %.200s is not supported by this gateway",
                  target ? target : "(none)");
    } else if ((c.body = body_of(&c))) {
      fn(&c);
      json_decref(c.body);
    }
  }
  char id[37];
  gw_uuid(id);
  gw_respond_header(resp, "x-amzn-RequestId", id);
}
