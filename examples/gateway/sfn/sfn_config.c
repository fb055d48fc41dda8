/* A state machine's loggingConfiguration and tracingConfiguration: read
 * and checked as AWS checks them at CreateStateMachine and
 * UpdateStateMachine, kept with the machine, and shown by
 * DescribeStateMachine and DescribeStateMachineForExecution. The gateway
 * sends nothing to CloudWatch Logs or X-Ray: its own log (stderr) is where
 * executions are logged; the configuration is kept so that clients that
 * set it read back what they set. */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

static const char *const LEVELS[] = {"ALL", "ERROR", "FATAL", "OFF", NULL};

char *gw_sfn_json_text(const json_t *v, bool *oom) {
  char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
  if (v && !text) *oom = true;
  return text;
}

/* destinations[i] as kept: {"cloudWatchLogsLogGroup":{"logGroupArn":..}},
 * the members given only. */
static json_t *destination(gw_sfn_params *p, json_t *d, size_t i) {
  json_t *out = json_object();
  if (!(d = gw_sfn_struct_value(p, d)) || !out) return out;
  json_t *group = gw_sfn_struct_in(p, d, "cloudWatchLogsLogGroup");
  if (!group) return out;
  char path[128];
  snprintf(path, sizeof path,
           "loggingConfiguration.destinations.%zu.member."
           "cloudWatchLogsLogGroup.logGroupArn",
           i + 1);
  const char *arn = gw_sfn_str_in(p, group, "logGroupArn", path, false, 1, 256);
  json_t *g = json_object();
  if (arn) json_object_set_new(g, "logGroupArn", json_string(arn));
  json_object_set_new(out, "cloudWatchLogsLogGroup", g);
  return out;
}

json_t *gw_sfn_logging_member(gw_sfn_params *p) {
  json_t *in = gw_sfn_struct(p, "loggingConfiguration");
  if (!in) return NULL;
  const char *level = gw_sfn_enum_in(p, in, "level",
                                     "loggingConfiguration.level", LEVELS);
  bool data = gw_sfn_bool_in(p, in, "includeExecutionData", false);
  json_t *list = gw_sfn_list_in(p, in, "destinations");
  json_t *o = json_pack("{s:s, s:b}", "level", level ? level : "OFF",
                        "includeExecutionData", data);
  if (!o || !list) return o;
  json_t *dests = json_array();
  for (size_t i = 0; i < json_array_size(list); i++)
    json_array_append_new(dests, destination(p, json_array_get(list, i), i));
  json_object_set_new(o, "destinations", dests);
  return o;
}

json_t *gw_sfn_tracing_member(gw_sfn_params *p) {
  json_t *in = gw_sfn_struct(p, "tracingConfiguration");
  if (!in) return NULL;
  return json_pack("{s:b}", "enabled", gw_sfn_bool_in(p, in, "enabled", false));
}

/* arn:<partition>:logs:<region>:<account>:log-group:<name>[:*] */
static bool log_group_arn(const char *arn) {
  const char *p = arn;
  static const char *const FIELD[] = {"arn", NULL, "logs", NULL, NULL,
                                      "log-group"};
  for (int i = 0; i < 6; i++) {
    size_t n = strcspn(p, ":");
    if (!p[n] || (FIELD[i] && (strlen(FIELD[i]) != n ||
                               strncmp(p, FIELD[i], n) != 0)))
      return false;
    p += n + 1;
  }
  return *p && *p != ':';
}

bool gw_sfn_logging_ok(gw_sfn_call *c, const json_t *logging) {
  if (!logging) return true;
  const json_t *dests = json_object_get(logging, "destinations");
  const char *level = json_string_value(json_object_get(logging, "level"));
  const char *why = NULL;
  /* A level other than OFF sends to exactly one destination; more than
   * one is refused whatever the level. */
  if (json_array_size(dests) > 1 ||
      (!json_array_size(dests) && strcmp(level, "OFF") != 0))
    why = "Must specify exactly one Log Destination.";
  for (size_t i = 0; !why && i < json_array_size(dests); i++) {
    const char *arn = json_string_value(
        json_object_get(json_object_get(json_array_get(dests, i),
                                        "cloudWatchLogsLogGroup"),
                        "logGroupArn"));
    size_t n = arn ? strlen(arn) : 0;
    if (!arn)
      why = "Must set valid CloudWatch Log Group ARN.";
    else if (!log_group_arn(arn))
      why = "Provided ARN is not CloudWatch Logs Log Group ARN.";
    else if (n < 2 || strcmp(arn + n - 2, ":*") != 0)
      why = "Log Group ARN must be provided with '*' qualifier.";
  }
  if (!why) return true;
  gw_sfn_fail(c, "InvalidLoggingConfiguration",
              "Invalid Logging Configuration: %s", why);
  return false;
}

/* Kept text, or AWS's default. */
static json_t *kept(const char *text, const char *dflt) {
  json_t *v = text ? json_loads(text, 0, NULL) : NULL;
  return v ? v : json_loads(dflt, 0, NULL);
}

void gw_sfn_configs_show(json_t *o, const gw_machine_rec *m) {
  json_object_set_new(
      o, "loggingConfiguration",
      kept(m ? m->logging : NULL,
           "{\"level\":\"OFF\",\"includeExecutionData\":false}"));
  json_object_set_new(o, "tracingConfiguration",
                      kept(m ? m->tracing : NULL, "{\"enabled\":false}"));
}
