/* A child execution as the .sync and .sync:2 forms of states:startExecution
 * return it: the DescribeExecution response in PascalCase, as AWS's
 * integration gives it (measured by Floci: keys in alphabetical order,
 * StartDate and StopDate in epoch milliseconds, Input and Output as JSON
 * text for .sync and as JSON values for .sync:2, the redrive fields, the
 * alias and version the child was started through). */
#include <ctype.h>
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "nested_impl.h"

static const char *status_name(int status) {
  static const char *const names[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                      "TIMED_OUT", "ABORTED"};
  return status >= 0 && status <= WF_EXEC_ABORTED ? names[status] : "FAILED";
}

/* A payload: its text, or parsed (text that does not parse stays text). */
static json_t *payload(const char *text, bool parsed) {
  if (!text) return json_null();
  json_t *v = NULL;
  if (parsed && wf__json_parse(&v, text, strlen(text), "payload", NULL) ==
                    WF_OK)
    return v;
  return json_string(text);
}

static int set(json_t *o, const char *key, json_t *v) {
  return v ? json_object_set_new(o, key, v) : -1;
}

json_t *wf__nested_describe(const wf_engine *e, const wf_store_execution *r,
                            bool parsed, const char *version_arn) {
  /* "arn:aws:states:R:A:stateMachine:NAME[:QUALIFIER]": the machine, and
   * the version (digits) or alias it was started through. */
  const char *marn = r->machine_arn ? r->machine_arn : "";
  const char *q = marn;
  for (int colons = 0; *q && colons < 7; q++) colons += *q == ':';
  size_t base_len = *q ? (size_t)(q - marn - 1) : strlen(marn);
  bool version = *q && isdigit((unsigned char)*q);
  bool alias = *q && !version;
  int64_t count = 0, last = 0;
  const char *reason = NULL;
  int redrivable =
      wf_engine_redrive_status(e, r, &count, &last, &reason);
  json_t *o = json_object();
  int rc = o ? 0 : -1;
  json_t *included = json_pack("{s:b}", "Included", 1);
  if (r->cause) rc |= set(o, "Cause", json_string(r->cause));
  if (r->error) rc |= set(o, "Error", json_string(r->error));
  rc |= set(o, "ExecutionArn", json_string(r->arn));
  rc |= set(o, "Input", payload(r->input ? r->input : "{}", parsed));
  rc |= set(o, "InputDetails", json_deep_copy(included));
  rc |= set(o, "Name", json_string(r->name ? r->name : ""));
  if (r->status == WF_EXEC_SUCCEEDED) {
    rc |= set(o, "Output", payload(r->output ? r->output : "null", parsed));
    rc |= set(o, "OutputDetails", json_deep_copy(included));
  }
  rc |= set(o, "RedriveCount", json_integer(count));
  if (last) rc |= set(o, "RedriveDate", json_integer(last));
  rc |= set(o, "RedriveStatus",
            json_string(redrivable ? "REDRIVABLE" : "NOT_REDRIVABLE"));
  if (reason) rc |= set(o, "RedriveStatusReason", json_string(reason));
  rc |= set(o, "StartDate", json_integer(r->start_ms));
  if (alias) rc |= set(o, "StateMachineAliasArn", json_string(marn));
  rc |= set(o, "StateMachineArn", json_stringn(marn, base_len));
  if (version)
    rc |= set(o, "StateMachineVersionArn", json_string(marn));
  else if (alias && version_arn && *version_arn)
    rc |= set(o, "StateMachineVersionArn", json_string(version_arn));
  rc |= set(o, "Status", json_string(status_name(r->status)));
  rc |= set(o, "StopDate", json_integer(r->stop_ms));
  json_decref(included);
  if (rc) {
    json_decref(o);
    return NULL;
  }
  return o;
}
