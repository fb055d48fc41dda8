/* Evaluating a compiled path the way Jayway JsonPath 2.0.0 does over
 * Jackson's Map/List model with default options (no SUPPRESS_EXCEPTIONS,
 * no REQUIRE_PROPERTIES except in filter exists checks). Filter criteria
 * are in jsonpath_criteria.c.
 *
 * Jayway signals failures with exceptions; here a failure is a jp_exc kind plus
 * the exception's message, and the catch sites are kept where 2.0.0 has
 * them: a wildcard over an array skips elements that throw "path not
 * found", filter criteria read a not-found operand as false, and nothing
 * else is caught. A definite path (names and single indexes) is walked by a
 * separate loop that allocates nothing unless it fails. */
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "jsonpath_ast.h"

/* --- exceptions --- */

jp_exc wf__jsonpath_throw(jp_ev *e, jp_exc kind, const char *prefix,
                          const wf__strbuf *s, const char *suffix) {
  wf__strbuf_reset(&e->msg);
  wf__strbuf_puts(&e->msg, prefix);
  if (s) wf__strbuf_append(&e->msg, wf__strbuf_cstr(s), s->len);
  if (suffix) wf__strbuf_puts(&e->msg, suffix);
  return e->msg.oom ? JX_OOM : kind;
}

/* "Filter: <tokens from ti> can only be applied to arrays. Current context
 * is: <value>" and the primitives variant for filters. */
static jp_exc throw_filter(jp_ev *e, const jp_path *p, size_t ti,
                           const char *what, const json_t *m) {
  wf__strbuf_reset(&e->msg);
  wf__strbuf_puts(&e->msg, "Filter: ");
  wf__jsonpath_suffix(&e->msg, p, ti);
  wf__strbuf_puts(&e->msg, what);
  wf__strbuf_puts(&e->msg, " Current context is: ");
  wf__jsonpath_java_string(&e->msg, m);
  return e->msg.oom ? JX_OOM : JX_IPE;
}

static void sb_truncate(wf__strbuf *b, size_t len) {
  if (b->data && len <= b->len) {
    b->len = len;
    b->data[len] = '\0';
  }
}

/* --- definite paths --- */

static int64_t array_index(const jp_tok *t, const json_t *a) {
  int64_t n = t->nums[0];
  return t->op == JP_CONTEXT_SIZE ? (int64_t)json_array_size(a) + n : n;
}

/* Jayway's evalPath after tokens 1..upto of a definite path, rebuilt only
 * when a message needs it. */
static void def_path(wf__strbuf *b, const jp_path *p, const json_t *doc,
                     size_t upto) {
  size_t base = b->len;
  const json_t *m = doc;
  wf__strbuf_putc(b, '$');
  for (size_t i = 1; i <= upto && i < p->n; i++) {
    const jp_tok *t = &p->toks[i];
    switch (t->kind) {
      case JP_ROOT:
        sb_truncate(b, base);
        wf__strbuf_putc(b, '$');
        break;
      case JP_PROP:
        wf__jsonpath_fragment(b, t);
        m = (json_is_object(m) && t->nnames == 1)
                ? json_object_get(m, t->names[0])
                : NULL;
        break;
      case JP_ARRAY: {
        int64_t idx = json_is_array(m) ? array_index(t, m) : t->nums[0];
        wf__strbuf_printf(b, "[%lld]", (long long)idx);
        m = (json_is_array(m) && idx >= 0) ? json_array_get(m, (size_t)idx)
                                           : NULL;
        break;
      }
      default:
        wf__jsonpath_fragment(b, t);
        m = NULL;
        break;
    }
  }
}

static jp_exc def_throw(jp_ev *e, jp_exc kind, const char *prefix,
                        const jp_path *p, const json_t *doc, size_t upto,
                        const char *suffix) {
  wf__strbuf_reset(&e->msg);
  wf__strbuf_puts(&e->msg, prefix);
  def_path(&e->msg, p, doc, upto);
  if (suffix) wf__strbuf_puts(&e->msg, suffix);
  return e->msg.oom ? JX_OOM : kind;
}

/* Start Jayway's "Property ['a'] not found in path " in e->msg; the caller
 * appends the path. */
static void property_not_found(jp_ev *e, const jp_tok *t) {
  wf__strbuf_reset(&e->msg);
  wf__strbuf_puts(&e->msg, "Property ");
  wf__jsonpath_fragment(&e->msg, t);
  wf__strbuf_puts(&e->msg, " not found in path ");
}

/* ['a', 'b'] as a leaf: a new object with the names present. */
static jp_exc merge_props(const jp_tok *t, json_t *m, bool require,
                          json_t **out) {
  json_t *merged = json_object();
  if (!merged) return JX_OOM;
  for (size_t i = 0; i < t->nnames; i++) {
    json_t *v = json_object_get(m, t->names[i]);
    if (!v) {
      if (require) {
        json_decref(merged);
        return JX_PNF;
      }
      continue;
    }
    if (json_object_set(merged, t->names[i], v) != 0) {
      json_decref(merged);
      return JX_OOM;
    }
  }
  *out = merged;
  return JX_OK;
}

jp_exc wf__jsonpath_def_eval(jp_ev *e, const jp_path *p, json_t *doc,
                             bool require, json_t **out, bool *owned) {
  json_t *m = doc;
  *owned = false;
  *out = NULL;
  for (size_t i = 1; i < p->n; i++) {
    const jp_tok *t = &p->toks[i];
    bool leaf = i + 1 == p->n;
    switch (t->kind) {
      case JP_ROOT:
        break;
      case JP_PROP: {
        if (!json_is_object(m)) {
          property_not_found(e, t);
          def_path(&e->msg, p, doc, i - 1);
          return e->msg.oom ? JX_OOM : JX_PNF;
        }
        if (t->nnames == 1) {
          json_t *v = json_object_get(m, t->names[0]);
          if (!v)
            return def_throw(
                e, JX_PNF,
                leaf ? "No results for path: " : "Missing property in path ", p,
                doc, i, NULL);
          m = v;
          break;
        }
        if (!leaf)
          return def_throw(
              e, JX_IPE, "Multi properties can only be used as path leafs: ", p,
              doc, i, NULL);
        jp_exc r = merge_props(t, m, require, out);
        if (r == JX_PNF)
          return def_throw(e, JX_PNF, "Missing property in path ", p, doc, i,
                           NULL);
        if (r == JX_OK) *owned = true;
        return r;
      }
      case JP_ARRAY: {
        if (m == NULL || json_is_null(m))
          return def_throw(e, JX_PNF, "The path ", p, doc, i - 1, " is null");
        if (!json_is_array(m))
          return throw_filter(e, p, i, " can only be applied to arrays.", m);
        int64_t idx = array_index(t, m);
        if (idx < 0 || (size_t)idx >= json_array_size(m))
          return def_throw(e, JX_PNF,
                           "Index out of bounds when evaluating path ", p, doc,
                           i, NULL);
        m = json_array_get(m, (size_t)idx);
        break;
      }
      default:
        /* Not in a definite path. */
        return wf__jsonpath_throw(
            e, JX_OTHER, "indefinite token in a definite path", NULL, NULL);
    }
  }
  *out = m;
  return JX_OK;
}

/* --- indefinite paths --- */

static jp_exc ev_tok(jp_ev *e, const jp_path *p, size_t ti, json_t *m);

/* A match joins the results only while their array stays within the
 * result bound: a chained deep scan ("$..a..a..a") can match the same nodes
 * combinatorially many times, and is stopped here, not after. */
static jp_exc add_result(jp_ev *e, json_t *v, bool owned) {
  wf__budget *b = e->budget;
  size_t room = b->max_result > e->result_bytes
                    ? b->max_result - e->result_bytes
                    : 0;
  size_t n = wf__json_size(v, room) + 1; /* and its comma */
  if (n > room || !wf__budget_charge(b, 1)) {
    if (!b->spent) b->spent = WF__SPENT_SIZE;
    if (owned) json_decref(v);
    return JX_SPENT;
  }
  e->result_bytes += n;
  int rc = owned ? json_array_append_new(e->results, v)
                 : json_array_append(e->results, v);
  return rc == 0 ? JX_OK : JX_OOM;
}

static bool is_leaf(const jp_path *p, size_t ti) { return ti + 1 == p->n; }

/* PathToken.handleObjectProperty for one name. */
static jp_exc handle_prop(jp_ev *e, const jp_path *p, size_t ti, json_t *m,
                          const char *name) {
  size_t save = e->path.len;
  wf__strbuf_puts(&e->path, "['");
  wf__strbuf_puts(&e->path, name);
  wf__strbuf_puts(&e->path, "']");
  if (e->path.oom) return JX_OOM;
  json_t *v = json_object_get(m, name);
  jp_exc r = JX_OK;
  if (!v) {
    if (is_leaf(p, ti)) {
      r = wf__jsonpath_throw(e, JX_PNF, "No results for path: ", &e->path,
                             NULL);
    } else if (p->toks[ti - 1].suffix_definite) {
      /* isUpstreamDefinite(): everything from the previous token on is
       * definite, so the missing property is an error. */
      r = wf__jsonpath_throw(e, JX_PNF, "Missing property in path ", &e->path,
                             NULL);
    }
  } else if (is_leaf(p, ti)) {
    r = add_result(e, v, false);
  } else {
    r = ev_tok(e, p, ti + 1, v);
  }
  sb_truncate(&e->path, save);
  return r;
}

static jp_exc handle_index(jp_ev *e, const jp_path *p, size_t ti, json_t *m,
                           int64_t idx) {
  size_t save = e->path.len;
  wf__strbuf_printf(&e->path, "[%lld]", (long long)idx);
  if (e->path.oom) return JX_OOM;
  jp_exc r;
  if (idx < 0 || (size_t)idx >= json_array_size(m)) {
    r = wf__jsonpath_throw(
        e, JX_PNF, "Index out of bounds when evaluating path ", &e->path, NULL);
  } else {
    json_t *v = json_array_get(m, (size_t)idx);
    r = is_leaf(p, ti) ? add_result(e, v, false) : ev_tok(e, p, ti + 1, v);
  }
  sb_truncate(&e->path, save);
  return r;
}

static jp_exc ev_array(jp_ev *e, const jp_path *p, size_t ti, json_t *m) {
  const jp_tok *t = &p->toks[ti];
  if (json_is_null(m))
    return wf__jsonpath_throw(e, JX_PNF, "The path ", &e->path, " is null");
  if (!json_is_array(m))
    return throw_filter(e, p, ti, " can only be applied to arrays.", m);
  int64_t len = (int64_t)json_array_size(m);
  int64_t from, to;
  jp_exc r = JX_OK;
  switch (t->op) {
    case JP_SINGLE_INDEX:
      return handle_index(e, p, ti, m, t->nums[0]);
    case JP_CONTEXT_SIZE:
      return handle_index(e, p, ti, m, len + t->nums[0]);
    case JP_INDEX_SEQUENCE:
      for (size_t i = 0; i < t->nnums && r == JX_OK; i++)
        r = handle_index(e, p, ti, m, t->nums[i]);
      return r;
    case JP_SLICE_FROM:
      from = t->nums[0] < 0 ? len + t->nums[0] : t->nums[0];
      if (from < 0) from = 0;
      if (len == 0 || from >= len) return JX_OK;
      for (int64_t i = from; i < len && r == JX_OK; i++)
        r = handle_index(e, p, ti, m, i);
      return r;
    case JP_SLICE_TO:
      to = t->nums[0] < 0 ? len + t->nums[0] : t->nums[0];
      if (to > len) to = len;
      if (len == 0) return JX_OK;
      for (int64_t i = 0; i < to && r == JX_OK; i++)
        r = handle_index(e, p, ti, m, i);
      return r;
    case JP_SLICE_BETWEEN:
    default:
      /* A negative start is not adjusted (2.0.0): its first index is out
       * of bounds. */
      from = t->nums[0];
      to = t->nums[1] < len ? t->nums[1] : len;
      if (from >= to || len == 0) return JX_OK;
      for (int64_t i = from; i < to && r == JX_OK; i++)
        r = handle_index(e, p, ti, m, i);
      return r;
  }
}

/* ScanPathToken's per-node test of the token after "..". */
static jp_exc scan_matches(jp_ev *e, const jp_path *p, size_t pt, json_t *m,
                           bool *res) {
  const jp_tok *t = &p->toks[pt];
  *res = false;
  switch (t->kind) {
    case JP_PROP:
      if (!json_is_object(m)) return JX_OK;
      for (size_t i = 0; i < t->nnames; i++)
        if (!json_object_get(m, t->names[i])) return JX_OK;
      *res = true;
      return JX_OK;
    case JP_ARRAY:
      *res = json_is_array(m);
      return JX_OK;
    case JP_WILDCARD:
      *res = true;
      return JX_OK;
    case JP_FILTER:
      return wf__jsonpath_pred_apply(e, t->filter, m, res);
    default:
      return JX_OK;
  }
}

static jp_exc walk(jp_ev *e, const jp_path *p, size_t pt, json_t *m) {
  bool hit;
  jp_exc r;
  if (!wf__budget_charge(e->budget, 1)) return JX_SPENT;
  if (json_is_object(m)) {
    if ((r = scan_matches(e, p, pt, m, &hit)) != JX_OK) return r;
    if (hit && (r = ev_tok(e, p, pt, m)) != JX_OK) return r;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
      size_t save = e->path.len;
      wf__strbuf_puts(&e->path, "['");
      wf__strbuf_puts(&e->path, k);
      wf__strbuf_puts(&e->path, "']");
      r = e->path.oom ? JX_OOM : walk(e, p, pt, v);
      sb_truncate(&e->path, save);
      if (r != JX_OK) return r;
    }
  } else if (json_is_array(m)) {
    if ((r = scan_matches(e, p, pt, m, &hit)) != JX_OK) return r;
    if (hit) {
      if (is_leaf(p, pt)) {
        if ((r = ev_tok(e, p, pt, m)) != JX_OK) return r;
      } else {
        /* 2.0.0 hands each element to the token after the target,
         * skipping the target itself. */
        for (size_t i = 0; i < json_array_size(m); i++) {
          size_t save = e->path.len;
          wf__strbuf_printf(&e->path, "[%zu]", i);
          r = e->path.oom ? JX_OOM : ev_tok(e, p, pt + 1, json_array_get(m, i));
          sb_truncate(&e->path, save);
          if (r != JX_OK) return r;
        }
      }
    }
    for (size_t i = 0; i < json_array_size(m); i++) {
      size_t save = e->path.len;
      wf__strbuf_printf(&e->path, "[%zu]", i);
      r = e->path.oom ? JX_OOM : walk(e, p, pt, json_array_get(m, i));
      sb_truncate(&e->path, save);
      if (r != JX_OK) return r;
    }
  }
  return JX_OK;
}

static jp_exc ev_tok(jp_ev *e, const jp_path *p, size_t ti, json_t *m) {
  const jp_tok *t = &p->toks[ti];
  jp_exc r = JX_OK;
  if (!wf__budget_charge(e->budget, 1)) return JX_SPENT;
  switch (t->kind) {
    case JP_ROOT: {
      if (is_leaf(p, ti)) return add_result(e, m, false);
      /* RootPathToken passes "$" on as the current path. */
      wf__strbuf keep = e->path;
      e->path = (wf__strbuf)WF__STRBUF_INIT;
      wf__strbuf_putc(&e->path, '$');
      r = e->path.oom ? JX_OOM : ev_tok(e, p, ti + 1, m);
      wf__strbuf_free(&e->path);
      e->path = keep;
      return r;
    }
    case JP_PROP: {
      if (!json_is_object(m)) {
        property_not_found(e, t);
        wf__strbuf_puts(&e->msg, wf__strbuf_cstr(&e->path));
        return e->msg.oom ? JX_OOM : JX_PNF;
      }
      if (t->nnames == 1) return handle_prop(e, p, ti, m, t->names[0]);
      size_t save = e->path.len;
      wf__jsonpath_fragment(&e->path, t);
      if (!is_leaf(p, ti)) {
        r = wf__jsonpath_throw(
            e, JX_IPE,
            "Multi properties can only be used as path leafs: ", &e->path,
            NULL);
      } else {
        json_t *merged;
        r = merge_props(t, m, false, &merged);
        if (r == JX_OK) r = add_result(e, merged, true);
      }
      sb_truncate(&e->path, save);
      return r;
    }
    case JP_ARRAY:
      return ev_array(e, p, ti, m);
    case JP_WILDCARD:
      if (json_is_object(m)) {
        const char *k;
        json_t *v;
        json_object_foreach(m, k, v) {
          (void)v;
          if ((r = handle_prop(e, p, ti, m, k)) != JX_OK) return r;
        }
      } else if (json_is_array(m)) {
        for (size_t i = 0; i < json_array_size(m); i++) {
          r = handle_index(e, p, ti, m, (int64_t)i);
          /* An element that does not have the rest of the path is
           * skipped; only arrays get this. */
          if (r == JX_PNF) r = JX_OK;
          if (r != JX_OK) return r;
        }
      }
      return JX_OK;
    case JP_SCAN:
      return walk(e, p, ti + 1, m);
    case JP_FILTER:
    default:
      if (json_is_object(m)) {
        bool ok;
        if ((r = wf__jsonpath_pred_apply(e, t->filter, m, &ok)) != JX_OK)
          return r;
        if (!ok) return JX_OK;
        return is_leaf(p, ti) ? add_result(e, m, false)
                              : ev_tok(e, p, ti + 1, m);
      }
      if (json_is_array(m)) {
        for (size_t i = 0; i < json_array_size(m); i++) {
          bool ok;
          if ((r = wf__jsonpath_pred_apply(e, t->filter, json_array_get(m, i),
                                           &ok)) != JX_OK)
            return r;
          if (ok && (r = handle_index(e, p, ti, m, (int64_t)i)) != JX_OK)
            return r;
        }
        return JX_OK;
      }
      return throw_filter(e, p, ti, " can not be applied to primitives.", m);
  }
}

/* --- public --- */

static void ev_done(jp_ev *e) {
  wf__strbuf_free(&e->path);
  wf__strbuf_free(&e->msg);
  if (e->mctx) pcre2_match_context_free(e->mctx);
  if (e->md) pcre2_match_data_free(e->md);
  if (e->gctx) pcre2_general_context_free(e->gctx);
}

static int finish(jp_ev *e, jp_exc r, wf__strbuf *detail) {
  if (r == JX_OOM || e->msg.oom) {
    wf__budget_nomem(e->budget);
    r = JX_SPENT;
  }
  if (r == JX_SPENT) {
    if (detail) wf__strbuf_puts(detail, wf__budget_reason(e->budget));
    return WF__JP_SPENT;
  }
  if (detail) wf__strbuf_append(detail, wf__strbuf_cstr(&e->msg), e->msg.len);
  return WF__JP_FAILED;
}

int wf__jsonpath_eval(json_t **out, const wf__jsonpath *p, json_t *doc,
                      wf__budget *budget, wf__strbuf *detail) {
  *out = NULL;
  /* AWS refuses to apply any path to a null state input (recorded cause:
   * "Unable to apply Path transformation to null or empty input."). */
  if (p->root == WF__JP_ROOT_INPUT && (!doc || json_is_null(doc))) {
    if (detail)
      wf__strbuf_puts(detail,
                      "Unable to apply Path transformation to null or empty "
                      "input.");
    return WF__JP_NULL_INPUT;
  }
  wf__budget own;
  if (!budget) {
    wf__budget_init(&own, 0, 0);
    budget = &own;
  }
  if (budget->spent) {
    if (detail) wf__strbuf_puts(detail, wf__budget_reason(budget));
    return WF__JP_SPENT;
  }
  json_t *null_doc = NULL;
  if (!doc) doc = null_doc = json_null();
  jp_ev e = {.root = doc,
             .path = WF__STRBUF_INIT,
             .msg = WF__STRBUF_INIT,
             .budget = budget};
  const jp_path *path = p->path;
  jp_exc r;
  if (path->definite) {
    json_t *v;
    bool owned;
    r = wf__jsonpath_def_eval(&e, path, doc, false, &v, &owned);
    if (r == JX_OK) *out = owned ? v : json_incref(v);
  } else {
    e.results = json_array();
    if (!e.results) {
      r = JX_OOM;
    } else {
      r = ev_tok(&e, path, 0, doc);
      if (r == JX_OK)
        *out = e.results;
      else
        json_decref(e.results);
    }
  }
  int rc = r == JX_OK ? 0 : finish(&e, r, detail);
  ev_done(&e);
  json_decref(null_doc);
  return rc;
}

int wf__jsonpath_eval_env(json_t **out, const wf__jsonpath *p,
                          const wf__eval_env *env, wf__strbuf *detail) {
  json_t *doc;
  *out = NULL;
  switch (p->root) {
    case WF__JP_ROOT_CONTEXT:
      doc = env->context ? env->context(env->payload) : NULL;
      if (!doc) {
        if (detail)
          wf__strbuf_puts(detail, "The context object is not available");
        return WF__JP_FAILED;
      }
      break;
    case WF__JP_ROOT_VARIABLE:
      doc = env->variable ? env->variable(p->var, env->payload) : NULL;
      if (!doc) {
        if (detail)
          wf__strbuf_printf(detail, "The variable '$%s' is not defined",
                            p->var);
        return WF__JP_FAILED;
      }
      break;
    case WF__JP_ROOT_INPUT:
    default:
      doc = env->input;
      break;
  }
  return wf__jsonpath_eval(out, p, doc, env->budget, detail);
}
