/* State machine aliases: CreateStateMachineAlias (idempotent for the same
 * description and routing), DescribeStateMachineAlias,
 * ListStateMachineAliases (of a machine, or of the aliases routing to one
 * version), UpdateStateMachineAlias and DeleteStateMachineAlias. An alias
 * ("<machine ARN>:<name>") routes StartExecution to one or two versions of
 * its machine, by weights summing to 100 (sfn_start.c draws the version).
 * Aliases live in their machine's record: they go when it goes, persist as
 * it does, and a version an alias routes to cannot be deleted
 * (sfn_versions.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sfn.h"

/* AWS's quota of aliases per machine. */
#define ALIASES_MAX 100
#define LIST_DEFAULT 100
#define NOT_FOUND "Request references a resource that does not exist."

/* A routing configuration as given, checked. */
typedef struct routing {
  gw_sfn_machine_ref refs[2];
  int weights[2];
  size_t n;
} routing;

/* AWS quotes a list it refuses as its Java form. */
static void list_text(char *out, size_t n, json_t *list) {
  size_t used = (size_t)snprintf(out, n, "[");
  for (size_t i = 0; i < json_array_size(list) && used < n; i++) {
    json_t *item = json_array_get(list, i);
    const char *arn =
        json_string_value(json_object_get(item, "stateMachineVersionArn"));
    used += (size_t)snprintf(
        out + used, n - used,
        "%sRoutingConfigurationListItem(stateMachineVersionArn=%s, weight=%lld)",
        i ? ", " : "", arn ? arn : "null",
        (long long)json_integer_value(json_object_get(item, "weight")));
  }
  if (used < n) snprintf(out + used, n - used, "]");
}

/* The routingConfiguration member's shape, checked into p. */
static json_t *routing_member(gw_sfn_params *p, bool required) {
  json_t *list = gw_sfn_list(p, "routingConfiguration");
  if (!list) {
    if (required && !p->serial[0])
      gw_sfn_violation(p, "routingConfiguration", NULL,
                       "Member must not be null");
    return NULL;
  }
  size_t n = json_array_size(list);
  if (n < 1 || n > 2) {
    char text[512];
    list_text(text, sizeof text, list);
    gw_sfn_violation(p, "routingConfiguration", text,
                     n < 1 ? "Member must have length greater than or equal "
                             "to 1"
                           : "Member must have length less than or equal to 2");
  }
  for (size_t i = 0; i < n && i < 2; i++) {
    json_t *item = gw_sfn_struct_value(p, json_array_get(list, i));
    char path[64];
    if (!item && json_is_null(json_array_get(list, i))) {
      snprintf(path, sizeof path, "routingConfiguration.%zu.member", i + 1);
      gw_sfn_violation(p, path, NULL, "Member must not be null");
    }
    if (!item) continue;
    snprintf(path, sizeof path,
             "routingConfiguration.%zu.member.stateMachineVersionArn", i + 1);
    gw_sfn_str_in(p, item, "stateMachineVersionArn", path, true, 1, 256);
    snprintf(path, sizeof path, "routingConfiguration.%zu.member.weight",
             i + 1);
    gw_sfn_int_in(p, item, "weight", path, true, 0, 100, 0);
  }
  return list;
}

/* What AWS checks beyond the shape: version ARNs of one machine, each
 * once, weights summing to 100. False when answered. */
static bool routing_check(gw_sfn_call *c, json_t *list, routing *out) {
  char arns[600] = "", weights[32] = "";
  bool versions = true;
  int sum = 0;
  out->n = json_array_size(list);
  for (size_t i = 0; i < out->n; i++) {
    json_t *item = json_array_get(list, i);
    const char *arn =
        json_string_value(json_object_get(item, "stateMachineVersionArn"));
    out->weights[i] = (int)json_integer_value(json_object_get(item, "weight"));
    sum += out->weights[i];
    size_t a = strlen(arns), w = strlen(weights);
    snprintf(arns + a, sizeof arns - a, "%s%s", i ? ", " : "", arn);
    snprintf(weights + w, sizeof weights - w, "%s%d", i ? ", " : "",
             out->weights[i]);
    if (!gw_sfn_parse_machine_arn(c, arn,
                                  GW_SFN_ALLOW_VERSION | GW_SFN_ALLOW_ALIAS,
                                  &out->refs[i]))
      return false;
    versions &= out->refs[i].version > 0;
  }
  const char *why = NULL;
  if (!versions)
    why = "Routing configuration must contain state machine version ARNs";
  else if (out->n == 2 && out->refs[0].version == out->refs[1].version &&
           strcmp(out->refs[0].arn, out->refs[1].arn) == 0)
    why = "Routing configuration must contain distinct state machine "
          "version ARNs";
  else if (out->n == 2 && strcmp(out->refs[0].arn, out->refs[1].arn) != 0)
    why = "Routing configuration must contain versions of the same state "
          "machine";
  if (why) {
    gw_sfn_fail(c, "ValidationException", "%s. Received: [%s]", why, arns);
    return false;
  }
  if (sum != 100) {
    gw_sfn_fail(c, "ValidationException",
                "Sum of routing configuration weights must equal 100. "
                "Received: [%s]",
                weights);
    return false;
  }
  return true;
}

static bool has_version(const gw_machine_rec *m, int version) {
  for (size_t i = 0; i < m->nversions; i++)
    if (m->versions[i].version == version) return true;
  return false;
}

/* The machine the routing names, with its versions there; NULL with
 * ResourceNotFound or StateMachineDeleting answered. */
static gw_machine_rec *routed_machine(gw_sfn_call *c, const routing *rt) {
  gw_store *s = c->g->store;
  gw_machine_rec *m = s->ops->find_machine(s, rt->refs[0].arn);
  for (size_t i = 0; i < rt->n; i++) {
    if (m && has_version(m, rt->refs[i].version)) continue;
    gw_sfn_fail_resource(c, "ResourceNotFound", rt->refs[i].given, NOT_FOUND);
    gw_sfn_machine_release(c, m);
    return NULL;
  }
  if (m->deleting) {
    gw_sfn_fail(c, "StateMachineDeleting",
                "State Machine is being deleted: '%s'", m->arn);
    gw_sfn_machine_release(c, m);
    return NULL;
  }
  return m;
}

static bool same_text(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_routing(const gw_alias *a, const routing *rt) {
  if (a->nroutes != rt->n) return false;
  for (size_t i = 0; i < rt->n; i++)
    if (a->versions[i] != rt->refs[i].version || a->weights[i] != rt->weights[i])
      return false;
  return true;
}

static void set_routing(gw_alias *a, const routing *rt) {
  a->nroutes = rt->n;
  for (size_t i = 0; i < rt->n; i++) {
    a->versions[i] = rt->refs[i].version;
    a->weights[i] = rt->weights[i];
  }
}

static gw_alias *alias_named(const gw_machine_rec *m, const char *name) {
  for (size_t i = 0; i < m->naliases; i++)
    if (strcmp(m->aliases[i].name, name) == 0) return &m->aliases[i];
  return NULL;
}

const gw_alias *gw_sfn_alias_find(gw_sfn_call *c, const gw_machine_rec *m,
                                  const gw_sfn_machine_ref *ref) {
  const gw_alias *a = alias_named(m, ref->alias);
  if (!a)
    gw_sfn_fail(c, "StateMachineDoesNotExist",
                "State Machine Does Not Exist: '%s'", ref->given);
  return a;
}

int gw_sfn_alias_pick(const gw_alias *a) {
  unsigned int r = 0;
  if (a->nroutes < 2) return a->versions[0];
  if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = 0;
  return (int)(r % 100) < a->weights[0] ? a->versions[0] : a->versions[1];
}

bool gw_sfn_alias_uses(const gw_machine_rec *m, int version, char *names,
                       size_t n) {
  size_t used = 0;
  names[0] = '\0';
  for (size_t i = 0; i < m->naliases; i++)
    for (size_t k = 0; k < m->aliases[i].nroutes; k++)
      if (m->aliases[i].versions[k] == version && used < n)
        used += (size_t)snprintf(names + used, n - used, "%s%s",
                                 used ? ", " : "", m->aliases[i].name);
  return names[0] != '\0';
}

/* Add the alias to a copy of m and put it; answers. */
static void add_alias(gw_sfn_call *c, const gw_machine_rec *m,
                      const char *name, const char *description,
                      const routing *rt) {
  gw_machine_rec *r = gw_sfn_machine_copy(m);
  gw_alias *grown =
      r ? realloc(r->aliases, (r->naliases + 1) * sizeof *grown) : NULL;
  gw_alias *a = grown ? &grown[r->naliases] : NULL;
  if (grown) {
    r->aliases = grown;
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    a->arn = gw_sfn_alias_arn(m->arn, name);
    a->description = description ? strdup(description) : NULL;
    a->created_ms = a->updated_ms = gw_now_ms();
    set_routing(a, rt);
    r->naliases++;
  }
  if (!a || !a->name || !a->arn || (description && !a->description)) {
    gw_sfn_machine_discard(r);
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    return;
  }
  json_t *o = json_pack("{s:s, s:o}", "stateMachineAliasArn", a->arn,
                        "creationDate", gw_sfn_time(a->created_ms));
  if (gw_sfn_machine_put(c, r))
    gw_sfn_ok(c, o);
  else
    json_decref(o);
}

static void create_locked(gw_sfn_call *c, const char *name,
                          const char *description, const routing *rt) {
  gw_machine_rec *m = routed_machine(c, rt);
  if (!m) return;
  const gw_alias *old = alias_named(m, name);
  if (old && same_text(old->description, description) &&
      same_routing(old, rt))
    gw_sfn_ok(c, json_pack("{s:s, s:o}", "stateMachineAliasArn", old->arn,
                           "creationDate", gw_sfn_time(old->created_ms)));
  else if (old)
    gw_sfn_fail(c, "ConflictException",
                "Failed to create alias because an alias with the same name "
                "and a different routing configuration already exists.");
  else if (m->naliases >= ALIASES_MAX)
    gw_sfn_error(c->resp, 402, "ServiceQuotaExceededException",
                 "The state machine '%s' already has %d aliases: delete "
                 "unused ones first",
                 m->arn, ALIASES_MAX);
  else
    add_alias(c, m, name, description, rt);
  gw_sfn_machine_release(c, m);
}

void gw_sfn_create_alias(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *description = gw_sfn_str(&p, "description", false, 0, 256);
  const char *name = gw_sfn_str(&p, "name", true, 1, 80);
  json_t *list = routing_member(&p, true);
  if (name && *name && strlen(name) <= 80 && !gw_sfn_alias_name_ok(name))
    gw_sfn_violation(&p, "name", name,
                     "Member must satisfy regular expression pattern: "
                     "^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$");
  routing rt;
  if (gw_sfn_params_failed(&p, c) || !routing_check(c, list, &rt)) return;
  gw_sfn_machines_lock();
  create_locked(c, name, description, &rt);
  gw_sfn_machines_unlock();
}

/* The alias an ARN names (NULL when it or its machine does not exist),
 * its machine in *m (released by the caller); false with InvalidArn or
 * ValidationException answered. */
static bool find_alias(gw_sfn_call *c, const char *arn, gw_machine_rec **m,
                       gw_alias **a) {
  gw_sfn_machine_ref ref;
  *m = NULL;
  *a = NULL;
  if (!gw_sfn_parse_machine_arn(c, arn, GW_SFN_ALLOW_VERSION |
                                            GW_SFN_ALLOW_ALIAS,
                                &ref))
    return false;
  if (!ref.alias[0]) {
    gw_sfn_fail(c, "ValidationException",
                "The ARN '%s' is not a state machine alias ARN", arn);
    return false;
  }
  gw_store *s = c->g->store;
  *m = s->ops->find_machine(s, ref.arn);
  *a = *m ? alias_named(*m, ref.alias) : NULL;
  return true;
}

/* find_alias(), with ResourceNotFound answered for a missing alias. */
static gw_alias *existing_alias(gw_sfn_call *c, const char *arn,
                                gw_machine_rec **m) {
  gw_alias *a;
  if (find_alias(c, arn, m, &a) && !a)
    gw_sfn_fail_resource(c, "ResourceNotFound", arn, NOT_FOUND);
  return a;
}

static json_t *routing_json(const gw_machine_rec *m, const gw_alias *a) {
  json_t *list = json_array();
  for (size_t i = 0; i < a->nroutes; i++) {
    char *arn = gw_sfn_version_arn(m->arn, a->versions[i]);
    json_array_append_new(list, json_pack("{s:s?, s:i}",
                                          "stateMachineVersionArn", arn,
                                          "weight", a->weights[i]));
    free(arn);
  }
  return list;
}

void gw_sfn_describe_alias(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineAliasArn", true, 1, 256);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_machine_rec *m;
  const gw_alias *a = existing_alias(c, arn, &m);
  if (a) {
    json_t *o = json_pack(
        "{s:s, s:s, s:o, s:o, s:o}", "stateMachineAliasArn", a->arn, "name",
        a->name, "routingConfiguration", routing_json(m, a), "creationDate",
        gw_sfn_time(a->created_ms), "updateDate", gw_sfn_time(a->updated_ms));
    if (o && a->description)
      json_object_set_new(o, "description", json_string(a->description));
    gw_sfn_ok(c, o);
  }
  gw_sfn_machine_release(c, m);
}

static bool routes_to(const gw_alias *a, int version) {
  for (size_t k = 0; k < a->nroutes; k++)
    if (a->versions[k] == version) return true;
  return false;
}

void gw_sfn_list_aliases(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineArn", true, 1, 256);
  const char *token = gw_sfn_str(&p, "nextToken", false, 1, 1024);
  long long max = gw_sfn_int(&p, "maxResults", 0, 1000, 0);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_sfn_machine_ref ref;
  if (!gw_sfn_parse_machine_arn(c, arn, GW_SFN_ALLOW_VERSION, &ref)) return;
  gw_machine_rec *m = gw_sfn_machine_find(c, &ref, NULL);
  if (!m) return;
  char *context = gw_sfn_strf("ListStateMachineAliases\n%s", ref.given);
  size_t start, n = max ? (size_t)max : LIST_DEFAULT, seen = 0;
  if (!context) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  } else if (gw_sfn_page_start(c, token, context, &start)) {
    json_t *items = json_array();
    for (size_t i = 0; i < m->naliases; i++) {
      const gw_alias *a = &m->aliases[i];
      if (ref.version && !routes_to(a, ref.version)) continue;
      if (seen >= start && seen - start < n)
        json_array_append_new(
            items, json_pack("{s:s, s:o}", "stateMachineAliasArn", a->arn,
                             "creationDate", gw_sfn_time(a->created_ms)));
      seen++;
    }
    json_t *o = json_pack("{s:o}", "stateMachineAliases", items);
    if (start + n < seen) gw_sfn_page_next(o, context, start + n);
    gw_sfn_ok(c, o);
  }
  free(context);
  gw_sfn_machine_release(c, m);
}

/* Put a copy of the alias's machine with the alias changed; answers. */
static void update_locked(gw_sfn_call *c, const char *arn,
                          const char *description, const routing *rt) {
  gw_machine_rec *m;
  gw_alias *a = existing_alias(c, arn, &m);
  gw_machine_rec *r = NULL;
  if (!a) {
    /* answered */
  } else if (m->deleting) {
    gw_sfn_fail(c, "StateMachineDeleting",
                "State Machine is being deleted: '%s'", m->arn);
  } else if (rt && strcmp(rt->refs[0].arn, m->arn) != 0) {
    gw_sfn_fail(c, "ValidationException",
                "Routing configuration must contain versions of the state "
                "machine of the alias '%s'",
                arn);
  } else if (rt && !has_version(m, rt->refs[0].version)) {
    gw_sfn_fail_resource(c, "ResourceNotFound", rt->refs[0].given, NOT_FOUND);
  } else if (rt && rt->n > 1 && !has_version(m, rt->refs[1].version)) {
    gw_sfn_fail_resource(c, "ResourceNotFound", rt->refs[1].given, NOT_FOUND);
  } else if (!(r = gw_sfn_machine_copy(m))) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  } else {
    gw_alias *na = &r->aliases[a - m->aliases];
    bool oom = false;
    if (description) {
      free(na->description);
      oom = !(na->description = strdup(description));
    }
    if (rt) set_routing(na, rt);
    na->updated_ms = gw_now_ms();
    json_t *o = json_pack("{s:o}", "updateDate", gw_sfn_time(na->updated_ms));
    if (oom || !o) {
      json_decref(o);
      gw_sfn_machine_discard(r);
      gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    } else if (gw_sfn_machine_put(c, r)) {
      gw_sfn_ok(c, o);
    } else {
      json_decref(o);
    }
  }
  gw_sfn_machine_release(c, m);
}

void gw_sfn_update_alias(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineAliasArn", true, 1, 256);
  const char *description = gw_sfn_str(&p, "description", false, 0, 256);
  json_t *list = routing_member(&p, false);
  if (gw_sfn_params_failed(&p, c)) return;
  if (!description && !list) {
    gw_sfn_fail(c, "ValidationException",
                "Either the description or the routing configuration must be "
                "specified");
    return;
  }
  routing rt;
  if (list && !routing_check(c, list, &rt)) return;
  gw_sfn_machines_lock();
  update_locked(c, arn, description, list ? &rt : NULL);
  gw_sfn_machines_unlock();
}

/* An alias that does not exist is deleted already. */
static void delete_locked(gw_sfn_call *c, const char *arn) {
  gw_machine_rec *m;
  gw_alias *a;
  bool ok = find_alias(c, arn, &m, &a);
  gw_machine_rec *r = a ? gw_sfn_machine_copy(m) : NULL;
  if (a && !r) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  } else if (r) {
    size_t at = (size_t)(a - m->aliases);
    gw_alias_fini(&r->aliases[at]);
    memmove(&r->aliases[at], &r->aliases[at + 1],
            (r->naliases - at - 1) * sizeof *r->aliases);
    r->naliases--;
    if (gw_sfn_machine_put(c, r)) gw_sfn_ok(c, json_object());
  } else if (ok) {
    gw_sfn_ok(c, json_object());
  }
  gw_sfn_machine_release(c, m);
}

void gw_sfn_delete_alias(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineAliasArn", true, 1, 256);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_sfn_machines_lock();
  delete_locked(c, arn);
  gw_sfn_machines_unlock();
}
