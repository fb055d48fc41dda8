/* Tags: TagResource, UntagResource, ListTagsForResource, and the tags
 * CreateStateMachine takes. A state machine's tags are kept with its
 * record (so they persist as it does), as [{key, value}] in the order
 * each key was first set; a key set again takes the new value. Versions
 * and aliases have no tags of their own (AWS: ResourceNotFound). An
 * activity's tags are the engine's (wf_engine_activity_set_tags). */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

/* AWS's quota of tags per resource. */
#define TAGS_MAX 50

static json_t *tag_named(json_t *tags, const char *key, size_t *at) {
  for (size_t i = 0; i < json_array_size(tags); i++) {
    json_t *t = json_array_get(tags, i);
    if (strcmp(json_string_value(json_object_get(t, "key")), key) == 0) {
      if (at) *at = i;
      return t;
    }
  }
  return NULL;
}

/* Set key to value in tags (a list without repeated keys). */
static void tag_set(json_t *tags, const char *key, const char *value) {
  json_t *t = tag_named(tags, key, NULL);
  if (t)
    json_object_set_new(t, "value", json_string(value));
  else
    json_array_append_new(tags,
                          json_pack("{s:s, s:s}", "key", key, "value", value));
}

json_t *gw_sfn_tags_member(gw_sfn_params *p, const char *key) {
  json_t *list = gw_sfn_list(p, key);
  if (!list) return NULL;
  json_t *tags = json_array();
  for (size_t i = 0; tags && i < json_array_size(list); i++) {
    json_t *t = gw_sfn_struct_value(p, json_array_get(list, i));
    char kpath[96], vpath[96];
    snprintf(kpath, sizeof kpath, "%s.%zu.member.key", key, i + 1);
    snprintf(vpath, sizeof vpath, "%s.%zu.member.value", key, i + 1);
    const char *k = t ? gw_sfn_str_in(p, t, "key", kpath, true, 1, 128) : NULL;
    const char *v = t ? gw_sfn_str_in(p, t, "value", vpath, false, 0, 256)
                      : NULL;
    if (k) tag_set(tags, k, v ? v : "");
  }
  return tags;
}

bool gw_sfn_tags_fit(gw_sfn_call *c, const json_t *tags, const char *arn) {
  if (json_array_size(tags) <= TAGS_MAX) return true;
  gw_sfn_fail_resource(c, "TooManyTags",
                       arn, "Too many tags: a resource may have at most %d "
                            "tags, and '%s' would have %zu",
                       TAGS_MAX, arn, json_array_size(tags));
  return false;
}

static json_t *tags_of(const gw_machine_rec *m) {
  json_t *tags = m->tags ? json_loads(m->tags, 0, NULL) : NULL;
  return tags ? tags : json_array();
}

/* The tags of the state machine (*m set, a reference) or the activity
 * (*m NULL) a resourceArn names; NULL with InvalidArn, ResourceNotFound or
 * InternalFailure answered. */
static json_t *tagged(gw_sfn_call *c, const char *arn, gw_machine_rec **m) {
  gw_sfn_machine_ref ref;
  bool activity;
  *m = NULL;
  if (!gw_sfn_parse_resource_arn(c, arn, &ref, &activity)) return NULL;
  json_t *tags = NULL;
  wf_activity *a = NULL;
  if (activity &&
      wf_engine_activity_describe(&a, c->g->engine, arn, NULL) == WF_OK) {
    tags = json_loads(wf_activity_tags(a), 0, NULL);
    wf_activity_free(a);
    if (!tags) gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    return tags;
  }
  gw_store *s = c->g->store;
  if (!activity && !ref.version && !ref.alias[0])
    *m = s->ops->find_machine(s, ref.arn);
  if (!*m)
    gw_sfn_fail_resource(c, "ResourceNotFound", arn,
                         "Resource not found: '%s'", arn);
  else if (!(tags = tags_of(*m)))
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  return tags;
}

/* An activity's new tags, kept by the engine; answers. */
static void retag_activity(gw_sfn_call *c, const char *arn, json_t *tags) {
  bool oom = false;
  char *text = gw_sfn_json_text(tags, &oom);
  wf_error err;
  if (oom)
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  else if (wf_engine_activity_set_tags(c->g->engine, arn, text, &err) != WF_OK)
    gw_sfn_fail_resource(c, "ResourceNotFound", arn,
                         "Resource not found: '%s'", arn);
  else
    gw_sfn_ok(c, json_object());
  free(text);
}

/* Apply `edit` to a copy of the machine's tags and put the machine back;
 * answers. Under gw_sfn_machines_lock(). */
typedef bool (*tags_edit)(gw_sfn_call *c, json_t *tags, json_t *arg,
                          const char *arn);

static void retag(gw_sfn_call *c, const char *arn, tags_edit edit,
                  json_t *arg) {
  gw_sfn_machines_lock();
  gw_machine_rec *m;
  json_t *tags = tagged(c, arn, &m);
  gw_machine_rec *r = NULL;
  if (!m && tags && edit(c, tags, arg, arn)) {
    retag_activity(c, arn, tags);
  } else if (m && tags && edit(c, tags, arg, arn)) {
    bool oom = !(r = gw_sfn_machine_copy(m));
    if (r) {
      free(r->tags);
      r->tags = gw_sfn_json_text(tags, &oom);
    }
    if (oom) {
      gw_sfn_machine_discard(r);
      gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    } else if (gw_sfn_machine_put(c, r)) {
      gw_sfn_ok(c, json_object());
    }
  }
  json_decref(tags);
  if (m) gw_sfn_machine_release(c, m);
  gw_sfn_machines_unlock();
}

static bool add_tags(gw_sfn_call *c, json_t *tags, json_t *add,
                     const char *arn) {
  for (size_t i = 0; i < json_array_size(add); i++) {
    json_t *t = json_array_get(add, i);
    tag_set(tags, json_string_value(json_object_get(t, "key")),
            json_string_value(json_object_get(t, "value")));
  }
  return gw_sfn_tags_fit(c, tags, arn);
}

static bool remove_tags(gw_sfn_call *c, json_t *tags, json_t *keys,
                        const char *arn) {
  (void)c;
  (void)arn;
  for (size_t i = 0; i < json_array_size(keys); i++) {
    size_t at;
    if (tag_named(tags, json_string_value(json_array_get(keys, i)), &at))
      json_array_remove(tags, at);
  }
  return true;
}

void gw_sfn_tag_resource(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "resourceArn", true, 1, 256);
  json_t *tags = gw_sfn_tags_member(&p, "tags");
  if (!tags && !p.serial[0])
    gw_sfn_violation(&p, "tags", NULL, "Member must not be null");
  if (!gw_sfn_params_failed(&p, c)) retag(c, arn, add_tags, tags);
  json_decref(tags);
}

void gw_sfn_untag_resource(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "resourceArn", true, 1, 256);
  json_t *list = gw_sfn_list(&p, "tagKeys");
  if (!list && !p.serial[0])
    gw_sfn_violation(&p, "tagKeys", NULL, "Member must not be null");
  for (size_t i = 0; i < json_array_size(list); i++) {
    char path[48];
    snprintf(path, sizeof path, "tagKeys.%zu.member", i + 1);
    gw_sfn_str_value(&p, json_array_get(list, i), path, 1, 128);
  }
  if (!gw_sfn_params_failed(&p, c)) retag(c, arn, remove_tags, list);
}

void gw_sfn_list_tags(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "resourceArn", true, 1, 256);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_machine_rec *m;
  json_t *tags = tagged(c, arn, &m);
  if (tags) gw_sfn_ok(c, json_pack("{s:o}", "tags", tags));
  if (m) gw_sfn_machine_release(c, m);
}
