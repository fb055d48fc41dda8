/* Nested executions: the engine runs a Task on
 * arn:aws:states:::states:startExecution (workflow/nested.h) on machines
 * it finds here, as StartExecution finds them: a machine's current
 * revision, a version, or an alias's drawn version (sfn_start.c), refused
 * in StartExecution's words (the engine reports them as
 * StepFunctions.<Error>Exception). */
#include <stdio.h>
#include <string.h>

#include "sfn.h"

/* The refusal a lookup answered into `resp`, as the resolver's code and
 * message. */
static int refused(gw_response *resp, wf_error *err) {
  json_t *o = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
  const char *type = json_string_value(json_object_get(o, "__type"));
  const char *message = json_string_value(json_object_get(o, "message"));
  int rc = !type                                           ? WF_ENOMEM
           : strcmp(type, "StateMachineDoesNotExist") == 0 ? WF_ENOTFOUND
           : strcmp(type, "InvalidArn") == 0               ? WF_EINVAL
           : strcmp(type, "StateMachineDeleting") == 0     ? WF_ESTATE
                                                           : WF_EINTERNAL;
  snprintf(err->message, sizeof err->message, "%s",
           message ? message : "out of memory");
  err->code = rc;
  json_decref(o);
  gw_response_clear(resp);
  return rc;
}

static int resolve(wf_machine_target *out, const char *arn, void *payload,
                   wf_error *err) {
  gateway *g = payload;
  gw_response resp = {0};
  gw_sfn_call c = {g, NULL, &resp, NULL};
  gw_sfn_machine_ref ref;
  if (!gw_sfn_parse_machine_arn(&c, arn,
                                GW_SFN_ALLOW_VERSION | GW_SFN_ALLOW_ALIAS,
                                &ref))
    return refused(&resp, err);
  const gw_revision *rev;
  char alias_arn[300];
  gw_machine_rec *m = gw_sfn_machine_to_run(&c, &ref, &rev, alias_arn);
  if (!m) return refused(&resp, err);
  out->machine = wf_machine_ref(rev->machine);
  /* Listed under the alias or version it was started with, as a start
   * through the API is. */
  snprintf(out->machine_arn, sizeof out->machine_arn, "%s",
           *alias_arn ? alias_arn : rev->version ? rev->arn : "");
  int rc = WF_OK;
  if (*alias_arn) {
    snprintf(out->version_arn, sizeof out->version_arn, "%s", rev->arn);
    /* DescribeExecution names the version the alias chose, as for a
     * start through the API (the child's ARN, before it starts: a start
     * refused leaves a note nobody reads). */
    char exec_arn[600];
    snprintf(exec_arn, sizeof exec_arn, "arn:aws:states:%s:%s:execution:%s:%s",
             g->region, g->account, m->name, out->execution_name);
    if (m->type != WF_MACHINE_EXPRESS &&
        g->store->ops->note_alias_version(g->store, exec_arn, rev->arn) !=
            WF_OK)
      rc = err->code = WF_EIO;
  }
  snprintf(out->role_arn, sizeof out->role_arn, "%s",
           m->role_arn ? m->role_arn : "");
  gw_sfn_machine_release(&c, m);
  if (rc != WF_OK)
    snprintf(err->message, sizeof err->message,
             "the version its alias chose could not be recorded");
  return rc;
}

int gw_sfn_nested_register(gw_server *srv, char *msg, size_t msg_size) {
  wf_error err;
  if (wf_engine_set_machine_resolver(srv->g.engine, resolve, &srv->g,
                                     &err) == WF_OK)
    return 0;
  snprintf(msg, msg_size, "nested executions: %s", err.message);
  return -1;
}

void gw_sfn_nested_unregister(gw_server *srv) {
  if (srv->g.engine)
    wf_engine_set_machine_resolver(srv->g.engine, NULL, NULL, NULL);
}
