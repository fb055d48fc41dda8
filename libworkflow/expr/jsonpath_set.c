/* ResultPath: placing a value into a document at a reference path, copying
 * only the containers on the way (everything else stays shared).
 *
 * AWS does not use Jayway here: it creates missing intermediate objects,
 * and when a step cannot be applied it fails with
 * States.ReferencePathConflict (recorded event: error
 * "States.ReferencePathConflict", cause "Unable to apply ReferencePath
 * $.someTaskResult to input \"input1\"" for a string input; reported for an
 * array input: "Unable to apply step \"aggregatedResult\" to input [...]"). */
#include <string.h>

#include "json_text.h"
#include "jsonpath_ast.h"

static bool is_reference_tok(const jp_tok *t) {
  return (t->kind == JP_PROP && t->nnames == 1) ||
         (t->kind == JP_ARRAY && t->op == JP_SINGLE_INDEX && t->nums[0] >= 0);
}

static int conflict(wf__strbuf *detail, const jp_tok *t, json_t *doc) {
  if (detail) {
    wf__strbuf_puts(detail, "Unable to apply step \"");
    if (t->kind == JP_PROP)
      wf__strbuf_puts(detail, t->names[0]);
    else
      wf__strbuf_printf(detail, "[%d]", (int)t->nums[0]);
    wf__strbuf_puts(detail, "\" to input ");
    wf__json_dump(detail, doc);
  }
  return -1;
}

int wf__jsonpath_set(json_t **out, const wf__jsonpath *p, json_t *doc,
                     json_t *value, wf__strbuf *detail) {
  const jp_path *path = p->path;
  *out = NULL;
  for (size_t i = 1; i < path->n; i++) {
    if (!is_reference_tok(&path->toks[i])) {
      if (detail)
        wf__strbuf_printf(detail, "'%s' is not a reference path", p->text);
      return -1;
    }
  }
  if (path->n == 1) {
    *out = json_incref(value);
    return 0;
  }
  if (!json_is_object(doc) && !json_is_array(doc)) {
    if (detail) {
      wf__strbuf_printf(detail, "Unable to apply ReferencePath %s to input ",
                        p->text);
      if (doc)
        wf__json_dump(detail, doc);
      else
        wf__strbuf_puts(detail, "null");
    }
    return -1;
  }
  json_t *top = json_copy(doc);
  if (!top) goto oom;
  json_t *cur = top;
  for (size_t i = 1; i < path->n; i++) {
    const jp_tok *t = &path->toks[i];
    bool last = i + 1 == path->n;
    json_t *child;
    if (t->kind == JP_PROP) {
      const char *name = t->names[0];
      if (!json_is_object(cur)) {
        json_decref(top);
        return conflict(detail, t, doc);
      }
      if (last) {
        if (json_object_set(cur, name, value) != 0) goto oom_top;
        break;
      }
      child = json_object_get(cur, name);
      if (!child || json_is_null(child)) {
        /* A missing (or null) intermediate field becomes an object; AWS
         * reads the input as Jackson maps, where both are absent. */
        json_t *fresh = json_object();
        if (!fresh || json_object_set_new(cur, name, fresh) != 0) goto oom_top;
        cur = fresh;
        continue;
      }
      if (json_is_object(child) || json_is_array(child)) {
        json_t *copy = json_copy(child);
        if (!copy || json_object_set_new(cur, name, copy) != 0) goto oom_top;
        cur = copy;
      } else {
        cur = child; /* the next step fails on it */
      }
    } else {
      size_t idx = (size_t)t->nums[0];
      /* An index replaces an existing element only; arrays never grow. */
      if (!json_is_array(cur) || idx >= json_array_size(cur)) {
        json_decref(top);
        return conflict(detail, t, doc);
      }
      if (last) {
        if (json_array_set(cur, idx, value) != 0) goto oom_top;
        break;
      }
      child = json_array_get(cur, idx);
      if (json_is_object(child) || json_is_array(child)) {
        json_t *copy = json_copy(child);
        if (!copy || json_array_set_new(cur, idx, copy) != 0) goto oom_top;
        cur = copy;
      } else {
        cur = child;
      }
    }
  }
  *out = top;
  return 0;
oom_top:
  json_decref(top);
oom:
  if (detail) wf__strbuf_puts(detail, "out of memory");
  return -1;
}

/* A container nobody else refers to can be changed in place: jansson's
 * reference counts are exact, so a count of 1 held by the caller means
 * exclusive ownership (no other thread can reach it either). */
static bool exclusive(const json_t *v) { return v->refcount == 1; }

/* Would placing at p succeed on doc? (Read only.) */
static bool fits(const jp_path *path, json_t *doc) {
  json_t *cur = doc;
  for (size_t i = 1; i < path->n; i++) {
    const jp_tok *t = &path->toks[i];
    if (!is_reference_tok(t)) return false;
    if (t->kind == JP_PROP) {
      if (!json_is_object(cur)) return false;
      cur = json_object_get(cur, t->names[0]);
      if (!cur || json_is_null(cur)) return true; /* created from here on */
    } else {
      if (!json_is_array(cur) || (size_t)t->nums[0] >= json_array_size(cur))
        return false;
      cur = json_array_get(cur, (size_t)t->nums[0]);
    }
  }
  return true;
}

int wf__jsonpath_set_owned(json_t **doc, const wf__jsonpath *p, json_t *value,
                           wf__strbuf *detail) {
  const jp_path *path = p->path;
  json_t *root = *doc;
  if (path->n == 1 || !root || !exclusive(root) || !fits(path, root)) {
    /* Fall back to copying (which also words any failure). */
    json_t *out;
    if (wf__jsonpath_set(&out, p, root, value, detail) != 0) return -1;
    json_decref(root);
    *doc = out;
    return 0;
  }
  json_t *cur = root;
  for (size_t i = 1; i < path->n; i++) {
    const jp_tok *t = &path->toks[i];
    bool last = i + 1 == path->n;
    if (t->kind == JP_PROP) {
      const char *name = t->names[0];
      if (last) return json_object_set(cur, name, value) == 0 ? 0 : -1;
      json_t *child = json_object_get(cur, name);
      if (!child || json_is_null(child)) {
        json_t *fresh = json_object();
        if (!fresh || json_object_set_new(cur, name, fresh) != 0) return -1;
        child = fresh;
      } else if (!exclusive(child)) {
        json_t *copy = json_copy(child);
        if (!copy || json_object_set_new(cur, name, copy) != 0) return -1;
        child = copy;
      }
      cur = child;
    } else {
      size_t idx = (size_t)t->nums[0];
      if (last) return json_array_set(cur, idx, value) == 0 ? 0 : -1;
      json_t *child = json_array_get(cur, idx);
      if (!exclusive(child)) {
        json_t *copy = json_copy(child);
        if (!copy || json_array_set_new(cur, idx, copy) != 0) return -1;
        child = copy;
      }
      cur = child;
    }
  }
  return 0;
}
