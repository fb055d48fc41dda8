/* State machine versions: PublishStateMachineVersion (idempotent per
 * revision, with the optional revisionId check), ListStateMachineVersions
 * (newest first) and DeleteStateMachineVersion. A version is an immutable
 * snapshot of a revision: its ARN is "<machine ARN>:<n>", numbers are
 * never reused, and executions started on it keep running it whatever
 * happens to the machine afterwards. DescribeStateMachine and
 * StartExecution take version ARNs too (sfn_machines.c, sfn_start.c). */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

/* AWS's quota of versions per machine. */
#define VERSIONS_MAX 1000
#define LIST_DEFAULT 100

/* revisionId "INITIAL" names the revision of a machine never updated,
 * which has no id. */
static bool revision_matches(const char *given, const char *current) {
  if (!current) return strcmp(given, "INITIAL") == 0;
  return strcmp(given, current) == 0;
}

static void publish_locked(gw_sfn_call *c, const gw_sfn_machine_ref *ref,
                           const char *revision, const char *description) {
  gw_machine_rec *m = gw_sfn_machine_find(c, ref, NULL);
  if (!m) return;
  const gw_revision *v = gw_sfn_version_of_current(m);
  gw_machine_rec *r = NULL;
  if (m->deleting) {
    gw_sfn_fail(c, "StateMachineDeleting",
                "State Machine is being deleted: '%s'", m->arn);
  } else if (revision && !revision_matches(revision, m->current.revision_id)) {
    gw_sfn_fail(c, "ConflictException",
                "Failed to publish the State Machine version: the revision ID "
                "provided, %s, does not match the current revision ID of the "
                "state machine, %s",
                revision,
                m->current.revision_id ? m->current.revision_id : "INITIAL");
  } else if (v) { /* this revision has a version already */
    gw_sfn_ok(
        c, json_pack("{s:o, s:s}", "creationDate", gw_sfn_time(v->created_ms),
                     "stateMachineVersionArn", v->arn));
  } else if (m->nversions >= VERSIONS_MAX) {
    gw_sfn_error(c->resp, 402, "ServiceQuotaExceededException",
                 "The state machine '%s' already has %d versions: delete "
                 "unused ones first",
                 m->arn, VERSIONS_MAX);
  } else if (!(r = gw_sfn_machine_copy(m)) ||
             !(v = gw_sfn_version_add(r, description, gw_now_ms()))) {
    gw_sfn_machine_discard(r);
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  } else {
    json_t *o =
        json_pack("{s:o, s:s}", "creationDate", gw_sfn_time(v->created_ms),
                  "stateMachineVersionArn", v->arn);
    if (c->g->store->ops->put_machine(c->g->store, r) != WF_OK) {
      json_decref(o);
      gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    } else {
      gw_sfn_ok(c, o);
    }
  }
  gw_sfn_machine_release(c, m);
}

void gw_sfn_publish_version(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineArn", true, 1, 256);
  const char *revision = gw_sfn_str(&p, "revisionId", false, 0, 1024);
  const char *description = gw_sfn_str(&p, "description", false, 0, 256);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_sfn_machine_ref ref;
  if (!gw_sfn_parse_machine_arn(c, arn, 0, &ref)) return;
  gw_sfn_machines_lock();
  publish_locked(c, &ref, revision, description);
  gw_sfn_machines_unlock();
}

void gw_sfn_list_versions(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineArn", true, 1, 256);
  const char *token = gw_sfn_str(&p, "nextToken", false, 1, 1024);
  long long max = gw_sfn_int(&p, "maxResults", 0, 1000, 0);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_sfn_machine_ref ref;
  if (!gw_sfn_parse_machine_arn(c, arn, 0, &ref)) return;
  gw_store *s = c->g->store;
  gw_machine_rec *m = s->ops->find_machine(s, ref.arn);
  if (!m) {
    /* Not among this operation's errors: AWS answers InvalidArn. */
    gw_sfn_fail(c, "InvalidArn", "Invalid Arn: '%s'", arn);
    return;
  }
  char *context = gw_sfn_strf("ListStateMachineVersions\n%s", m->arn);
  size_t start;
  if (!context || !gw_sfn_page_start(c, token, context, &start)) {
    if (!context)
      gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    s->ops->release_machine(s, m);
    free(context);
    return;
  }
  size_t n = max ? (size_t)max : LIST_DEFAULT;
  json_t *items = json_array();
  for (size_t i = start; i < m->nversions && i - start < n; i++) {
    const gw_revision *v = &m->versions[m->nversions - 1 - i];
    json_array_append_new(
        items, json_pack("{s:s, s:o}", "stateMachineVersionArn", v->arn,
                         "creationDate", gw_sfn_time(v->created_ms)));
  }
  json_t *o = json_pack("{s:o}", "stateMachineVersions", items);
  if (start + n < m->nversions) gw_sfn_page_next(o, context, start + n);
  s->ops->release_machine(s, m);
  free(context);
  gw_sfn_ok(c, o);
}

/* Remove the version; one that does not exist is deleted already, one an
 * alias routes to stays (ConflictException). */
static void delete_locked(gw_sfn_call *c, const gw_sfn_machine_ref *ref) {
  gw_store *s = c->g->store;
  gw_machine_rec *m = s->ops->find_machine(s, ref->arn);
  size_t at = m ? m->nversions : 0;
  for (size_t i = 0; m && i < m->nversions; i++)
    if (m->versions[i].version == ref->version) at = i;
  bool oom = false;
  char aliases[512];
  if (m && at < m->nversions &&
      gw_sfn_alias_uses(m, ref->version, aliases, sizeof aliases)) {
    gw_sfn_fail(c, "ConflictException",
                "Version to be deleted must not be referenced by an alias. "
                "Current list of aliases referencing this version: [%s]",
                aliases);
    s->ops->release_machine(s, m);
    return;
  }
  if (m && at < m->nversions) {
    gw_machine_rec *r = gw_sfn_machine_copy(m);
    if (r) {
      /* Executions running the version keep their own reference. */
      gw_revision_fini(&r->versions[at]);
      memmove(&r->versions[at], &r->versions[at + 1],
              (r->nversions - at - 1) * sizeof *r->versions);
      r->nversions--;
    }
    oom = !r || s->ops->put_machine(s, r) != WF_OK;
  }
  if (m) s->ops->release_machine(s, m);
  if (oom)
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  else
    gw_sfn_ok(c, json_object());
}

void gw_sfn_delete_version(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineVersionArn", true, 1, 2000);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_sfn_machine_ref ref;
  if (!gw_sfn_parse_machine_arn(c, arn, GW_SFN_ALLOW_VERSION, &ref)) return;
  if (!ref.version) {
    gw_sfn_fail(c, "ValidationException",
                "The ARN '%s' is not a state machine version ARN", arn);
    return;
  }
  gw_sfn_machines_lock();
  delete_locked(c, &ref);
  gw_sfn_machines_unlock();
}
