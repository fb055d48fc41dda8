/* State machines: CreateStateMachine, DescribeStateMachine (of a machine
 * or one of its versions), ListStateMachines, UpdateStateMachine and
 * DeleteStateMachine. A record in the store is never modified: an update
 * puts a copy with the same ARN, under gw_sfn_machines_lock(). */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

static const char *const TYPES[] = {"STANDARD", "EXPRESS", NULL};
static const char *const INCLUDED[] = {"ALL_DATA", "METADATA_ONLY", NULL};

#define LIST_DEFAULT 100

static bool same(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *type_name(wf_machine_type t) {
  return t == WF_MACHINE_EXPRESS ? "EXPRESS" : "STANDARD";
}

static bool role_ok(gw_sfn_call *c, const char *role) {
  if (!role || strncmp(role, "arn:", 4) == 0) return true;
  gw_sfn_fail(c, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: %s'", role);
  return false;
}

/* The record CreateStateMachine makes. Takes m. */
static gw_machine_rec *new_record(const char *arn, const char *name,
                                  const char *role, wf_machine_type type,
                                  const char *definition, wf_machine *m,
                                  int64_t now) {
  gw_machine_rec *r = calloc(1, sizeof *r);
  if (!r) {
    wf_machine_free(m);
    return NULL;
  }
  r->arn = strdup(arn);
  r->name = strdup(name);
  r->role_arn = strdup(role);
  r->type = type;
  r->created_ms = r->updated_ms = now;
  /* AWS gives a machine no revision id until its first update. */
  r->current.arn = strdup(arn);
  r->current.definition = strdup(definition);
  r->current.created_ms = now;
  r->current.machine = m;
  if (!r->arn || !r->name || !r->role_arn || !r->current.arn ||
      !r->current.definition) {
    gw_sfn_machine_discard(r);
    return NULL;
  }
  return r;
}

/* What CreateStateMachine keeps beside the definition: JSON text, NULL
 * when not given. */
typedef struct extras {
  char *tags, *logging, *tracing;
} extras;

static void extras_fini(extras *x) {
  free(x->tags);
  free(x->logging);
  free(x->tracing);
}

/* Create under the lock: idempotent for the same definition, role, type
 * and configurations (AWS's rule), StateMachineAlreadyExists otherwise.
 * Takes m and the extras. */
static void create_locked(gw_sfn_call *c, const char *arn, const char *name,
                          const char *role, wf_machine_type type,
                          const char *def, wf_machine *m, bool publish,
                          const char *vdesc, extras *x) {
  gw_store *s = c->g->store;
  gw_machine_rec *old = s->ops->find_machine(s, arn);
  if (old) {
    if (old->deleting)
      gw_sfn_fail(c, "StateMachineDeleting",
                  "State Machine is being deleted: '%s'", arn);
    else if (same(old->current.definition, def) && same(old->role_arn, role) &&
             old->type == type && same(old->logging, x->logging) &&
             same(old->tracing, x->tracing))
      gw_sfn_ok(c, json_pack("{s:s, s:o}", "stateMachineArn", old->arn,
                             "creationDate", gw_sfn_time(old->created_ms)));
    else
      gw_sfn_fail(c, "StateMachineAlreadyExists",
                  "State Machine Already Exists: '%s'", arn);
    s->ops->release_machine(s, old);
    wf_machine_free(m);
    extras_fini(x);
    return;
  }
  int64_t now = gw_now_ms();
  gw_machine_rec *r = new_record(arn, name, role, type, def, m, now);
  if (r) {
    r->tags = x->tags;
    r->logging = x->logging;
    r->tracing = x->tracing;
  } else {
    extras_fini(x);
  }
  const gw_revision *v = NULL;
  bool oom = !r || (publish && !(v = gw_sfn_version_add(r, vdesc, now)));
  json_t *o = oom ? NULL
                  : json_pack("{s:s, s:o}", "stateMachineArn", arn,
                              "creationDate", gw_sfn_time(now));
  if (o && v)
    json_object_set_new(o, "stateMachineVersionArn", json_string(v->arn));
  if (!o) {
    gw_sfn_machine_discard(r);
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    return;
  }
  if (gw_sfn_machine_put(c, r))
    gw_sfn_ok(c, o);
  else
    json_decref(o);
}

/* CreateStateMachine's tags and configurations, checked; false when
 * answered. */
static bool extras_read(gw_sfn_call *c, gw_sfn_params *p, const char *name,
                        extras *x) {
  json_t *logging = gw_sfn_logging_member(p);
  json_t *tracing = gw_sfn_tracing_member(p);
  json_t *tags = gw_sfn_tags_member(p, "tags");
  char *arn = NULL;
  bool ok = !gw_sfn_params_failed(p, c) && gw_sfn_logging_ok(c, logging);
  if (ok && !(arn = gw_sfn_machine_arn(c->g, name ? name : ""))) ok = false;
  if (ok && !gw_sfn_tags_fit(c, tags, arn)) ok = false;
  bool oom = false;
  memset(x, 0, sizeof *x);
  if (ok) {
    x->tags = json_array_size(tags) ? gw_sfn_json_text(tags, &oom) : NULL;
    x->logging = gw_sfn_json_text(logging, &oom);
    x->tracing = gw_sfn_json_text(tracing, &oom);
  }
  if (oom || (ok && !arn)) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    extras_fini(x);
    ok = false;
  }
  free(arn);
  json_decref(logging);
  json_decref(tracing);
  json_decref(tags);
  return ok;
}

void gw_sfn_create_state_machine(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *name = gw_sfn_str(&p, "name", true, 1, 80);
  const char *def = gw_sfn_str(&p, "definition", true, 1, 1048576);
  const char *role = gw_sfn_str(&p, "roleArn", true, 1, 256);
  const char *type = gw_sfn_enum(&p, "type", TYPES);
  gw_sfn_struct(&p, "encryptionConfiguration");
  bool publish = gw_sfn_bool(&p, "publish", false);
  const char *vdesc = gw_sfn_str(&p, "versionDescription", false, 0, 256);
  extras x;
  if (!extras_read(c, &p, name, &x)) return;
  bool ok = gw_sfn_name_ok(name);
  if (!ok) gw_sfn_fail(c, "InvalidName", "Invalid Name: '%s'", name);
  ok = ok && role_ok(c, role);
  if (ok && vdesc && !publish) {
    gw_sfn_fail(c, "ValidationException",
                "Version description can only be set when publish is true");
    ok = false;
  }
  if (!ok) {
    extras_fini(&x);
    return;
  }
  wf_machine_type t = type && strcmp(type, "EXPRESS") == 0
                          ? WF_MACHINE_EXPRESS
                          : WF_MACHINE_STANDARD;
  char *arn = gw_sfn_machine_arn(c->g, name);
  wf_machine *m = arn ? gw_sfn_compile(c, def, t, name, NULL) : NULL;
  if (m) {
    gw_sfn_machines_lock();
    create_locked(c, arn, name, role, t, def, m, publish, vdesc, &x);
    gw_sfn_machines_unlock();
  } else {
    if (!arn) gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    extras_fini(&x);
  }
  free(arn);
}

void gw_sfn_describe_state_machine(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineArn", true, 1, 256);
  gw_sfn_enum(&p, "includedData", INCLUDED);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_sfn_machine_ref ref;
  const gw_revision *rev;
  if (!gw_sfn_parse_machine_arn(c, arn, GW_SFN_ALLOW_VERSION, &ref)) return;
  gw_machine_rec *m = gw_sfn_machine_find(c, &ref, &rev);
  if (!m) return;
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "stateMachineArn", rev->arn,
      "name", m->name, "status", m->deleting ? "DELETING" : "ACTIVE",
      "definition", rev->definition, "roleArn", m->role_arn, "type",
      type_name(m->type), "creationDate",
      gw_sfn_time(rev->version ? rev->created_ms : m->created_ms));
  if (o) gw_sfn_configs_show(o, m);
  if (o && rev->revision_id)
    json_object_set_new(o, "revisionId", json_string(rev->revision_id));
  if (o && rev->description)
    json_object_set_new(o, "description", json_string(rev->description));
  gw_sfn_machine_release(c, m);
  gw_sfn_ok(c, o);
}

static void list_item(const gw_machine_rec *m, void *arg) {
  json_array_append_new(
      arg, json_pack("{s:s, s:s, s:s, s:o}", "stateMachineArn", m->arn, "name",
                     m->name, "type", type_name(m->type), "creationDate",
                     gw_sfn_time(m->created_ms)));
}

void gw_sfn_list_state_machines(gw_sfn_call *c) {
  size_t start, n;
  if (!gw_sfn_page_args(c, "ListStateMachines", LIST_DEFAULT, &start, &n))
    return;
  json_t *items = json_array();
  gw_store *s = c->g->store;
  size_t total = s->ops->list_machines(s, start, n, list_item, items);
  json_t *o = json_pack("{s:o}", "stateMachines", items);
  if (start + n < total) gw_sfn_page_next(o, "ListStateMachines", start + n);
  gw_sfn_ok(c, o);
}

/* Apply an update to a copy of the machine and put it in its place. A
 * new configuration (JSON text, NULL: unchanged) makes a new revision as
 * a new definition or role does. */
static void update_locked(gw_sfn_call *c, const gw_sfn_machine_ref *ref,
                          const char *def, const char *role, bool publish,
                          const char *vdesc, extras *x) {
  const gw_revision *rev;
  gw_machine_rec *m = gw_sfn_machine_find(c, ref, &rev);
  if (!m) return;
  if (m->deleting) {
    gw_sfn_fail(c, "StateMachineDeleting",
                "State Machine is being deleted: '%s'", m->arn);
    gw_sfn_machine_release(c, m);
    return;
  }
  bool new_def = def && !same(def, m->current.definition);
  bool changed = new_def || (role && !same(role, m->role_arn)) ||
                 (x->logging && !same(x->logging, m->logging)) ||
                 (x->tracing && !same(x->tracing, m->tracing));
  wf_machine *compiled =
      new_def ? gw_sfn_compile(c, def, m->type, m->name, m->allowed_resources)
              : NULL;
  gw_machine_rec *r = new_def && !compiled ? NULL : gw_sfn_machine_copy(m);
  bool answered = new_def && !compiled;
  gw_sfn_machine_release(c, m);
  if (!r) {
    wf_machine_free(compiled);
    if (!answered)
      gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    return;
  }
  int64_t now = gw_now_ms();
  bool oom = false;
  if (changed) {
    char id[37];
    gw_uuid(id);
    free(r->current.revision_id);
    oom |= !(r->current.revision_id = strdup(id));
    if (compiled) {
      free(r->current.definition);
      oom |= !(r->current.definition = strdup(def));
      wf_machine_free(r->current.machine);
      r->current.machine = compiled;
    }
    if (role) {
      free(r->role_arn);
      oom |= !(r->role_arn = strdup(role));
    }
    if (x->logging) {
      free(r->logging);
      r->logging = x->logging;
      x->logging = NULL;
    }
    if (x->tracing) {
      free(r->tracing);
      r->tracing = x->tracing;
      x->tracing = NULL;
    }
    r->current.created_ms = r->updated_ms = now;
  }
  const gw_revision *v = NULL;
  if (publish && !oom && !(v = gw_sfn_version_of_current(r)))
    oom |= !(v = gw_sfn_version_add(r, vdesc, now));
  json_t *o =
      oom ? NULL : json_pack("{s:o}", "updateDate", gw_sfn_time(r->updated_ms));
  if (o && r->current.revision_id)
    json_object_set_new(o, "revisionId", json_string(r->current.revision_id));
  if (o && v)
    json_object_set_new(o, "stateMachineVersionArn", json_string(v->arn));
  if (!o) {
    gw_sfn_machine_discard(r);
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  } else if (gw_sfn_machine_put(c, r)) {
    gw_sfn_ok(c, o);
  } else {
    json_decref(o);
  }
}

/* UpdateStateMachine once its members are read. */
static void update_checked(gw_sfn_call *c, const char *arn, const char *def,
                           const char *role, bool configs, bool publish,
                           const char *vdesc, extras *x) {
  if (!def && !role && !configs) {
    gw_sfn_fail(
        c, "MissingRequiredParameter",
        "Either the definition, the role ARN, the LoggingConfiguration, "
        "the EncryptionConfiguration or the TracingConfiguration must "
        "be specified");
    return;
  }
  if (vdesc && !publish) {
    gw_sfn_fail(c, "ValidationException",
                "Version description can only be set when publish is true");
    return;
  }
  gw_sfn_machine_ref ref;
  if (!role_ok(c, role) || !gw_sfn_parse_machine_arn(c, arn, 0, &ref)) return;
  gw_sfn_machines_lock();
  update_locked(c, &ref, def, role, publish, vdesc, x);
  gw_sfn_machines_unlock();
}

void gw_sfn_update_state_machine(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineArn", true, 1, 256);
  const char *def = gw_sfn_str(&p, "definition", false, 1, 1048576);
  const char *role = gw_sfn_str(&p, "roleArn", false, 1, 256);
  json_t *logging = gw_sfn_logging_member(&p);
  json_t *tracing = gw_sfn_tracing_member(&p);
  json_t *encryption = gw_sfn_struct(&p, "encryptionConfiguration");
  bool publish = gw_sfn_bool(&p, "publish", false);
  const char *vdesc = gw_sfn_str(&p, "versionDescription", false, 0, 256);
  bool oom = false;
  extras x = {NULL, gw_sfn_json_text(logging, &oom),
              gw_sfn_json_text(tracing, &oom)};
  if (oom)
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  else if (!gw_sfn_params_failed(&p, c) && gw_sfn_logging_ok(c, logging))
    update_checked(c, arn, def, role, logging || tracing || encryption,
                   publish, vdesc, &x);
  json_decref(logging);
  json_decref(tracing);
  extras_fini(&x);
}

void gw_sfn_delete_state_machine(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineArn", true, 1, 256);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_sfn_machine_ref ref;
  if (!gw_sfn_parse_machine_arn(c, arn, 0, &ref)) return;
  gw_store *s = c->g->store;
  bool oom = false;
  gw_sfn_machines_lock();
  gw_machine_rec *m = s->ops->find_machine(s, ref.arn);
  /* Its executions run to their end (AWS: DELETING until they do); a
   * machine that does not exist is deleted already. */
  if (m && !m->deleting && gw_sfn_machine_busy(c->g, m->arn)) {
    gw_machine_rec *r = gw_sfn_machine_copy(m);
    if (r) r->deleting = true;
    oom = !r || s->ops->put_machine(s, r) != WF_OK;
  } else if (m && !m->deleting) {
    s->ops->delete_machine(s, m->arn);
  }
  gw_sfn_machine_release(c, m);
  gw_sfn_machines_unlock();
  if (oom)
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  else
    gw_sfn_ok(c, json_object());
}
