/* Scopes: the top level, each Parallel branch and each Map processor hold
 * their own States; transitions stay inside a scope; names are unique in
 * the whole machine. After the states, reachability from StartAt
 * (MISSING_TRANSITION_TARGET "State \"X\" is not reachable.") and, at the
 * top level, a terminal state (MISSING_END_STATE). */
#include <string.h>

#include "alloc.h"
#include "compile.h"
#include "compile_state.h"

void wf__scope_free(wf__scope *s) {
  if (!s) return;
  for (size_t i = 0; i < s->count; i++) wf__state_free(s->states[i]);
  wf__free(s->states);
  wf__free(s);
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80) n++;
  return n;
}

static void check_scope_keys(wf__cctx *cx, json_t *obj, bool top,
                             bool is_processor) {
  const char *key;
  json_t *val;
  json_object_foreach(obj, key, val) {
    if (strcmp(key, "StartAt") == 0 || strcmp(key, "States") == 0 ||
        strcmp(key, "Comment") == 0)
      continue;
    if (top && (strcmp(key, "Version") == 0 ||
                strcmp(key, "TimeoutSeconds") == 0 ||
                strcmp(key, "QueryLanguage") == 0))
      continue;
    if (is_processor && strcmp(key, "ProcessorConfig") == 0) continue;
    wf__cerr(cx, "Field '%s' is not supported", key);
  }
}

/* AWS walks the graph as written, so a transition counts even when its
 * state has other problems (an unknown Type, Next beside End): the raw
 * targets of a state are its Next, Default, Choices[].Next and
 * Catch[].Next that name a state of this scope. */
static size_t raw_targets(json_t *names, json_t *js, int *out, size_t cap) {
  size_t n = 0;
  json_t *one[2] = {json_object_get(js, "Next"), json_object_get(js, "Default")};
  for (size_t k = 0; k < 2; k++) {
    json_t *idx = json_is_string(one[k])
                      ? json_object_get(names, json_string_value(one[k]))
                      : NULL;
    if (idx && n < cap) out[n++] = (int)json_integer_value(idx);
  }
  static const char *const lists[] = {"Choices", "Catch"};
  for (size_t k = 0; k < 2; k++) {
    json_t *arr = json_object_get(js, lists[k]);
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item) {
      json_t *next = json_object_get(item, "Next");
      json_t *idx = json_is_string(next)
                        ? json_object_get(names, json_string_value(next))
                        : NULL;
      if (idx && n < cap) out[n++] = (int)json_integer_value(idx);
    }
  }
  return n;
}

static size_t raw_target_count(json_t *js) {
  return 2 + json_array_size(json_object_get(js, "Choices")) +
         json_array_size(json_object_get(js, "Catch"));
}

/* Mark the states reachable from `from`. Returns false on out-of-memory. */
static bool reach(const wf__scope *s, json_t *states, json_t *names, int from,
                  bool *seen) {
  int *stack = wf__malloc((s->count ? s->count : 1) * sizeof(int));
  if (!stack) return false;
  size_t top = 0;
  bool ok = true;
  seen[from] = true;
  stack[top++] = from;
  while (top) {
    json_t *js = json_object_get(states, s->states[stack[--top]]->name);
    size_t cap = raw_target_count(js);
    int *targets = wf__malloc(cap * sizeof(int));
    if (!targets) {
      ok = false;
      break;
    }
    size_t nt = raw_targets(names, js, targets, cap);
    for (size_t i = 0; i < nt; i++) {
      int t = targets[i];
      if (!seen[t]) {
        seen[t] = true;
        stack[top++] = t;
      }
    }
    wf__free(targets);
  }
  wf__free(stack);
  return ok;
}

/* Terminal as written: "End": true, or a Succeed or Fail state. */
static bool is_terminal(json_t *js) {
  json_t *type = json_object_get(js, "Type");
  const char *t = json_string_value(type);
  return json_is_true(json_object_get(js, "End")) ||
         (t && (strcmp(t, "Succeed") == 0 || strcmp(t, "Fail") == 0));
}

/* After the states: at the top level a terminal state must exist
 * (MISSING_END_STATE, no location; AWS then skips the reachability walk);
 * in every scope each state must be reachable from StartAt
 * (MISSING_TRANSITION_TARGET 'State "X" is not reachable.' at the state).
 * Nested scopes are not checked for a terminal state: AWS accepts a Map
 * processor or Parallel branch that loops forever. */
static void check_flow(wf__cctx *cx, const wf__scope *s, bool top,
                       bool start_known, json_t *states, json_t *names) {
  if (!s->count) return;
  if (top) {
    bool terminal = false;
    for (size_t i = 0; i < s->count; i++)
      if (is_terminal(json_object_get(states, s->states[i]->name)))
        terminal = true;
    if (!terminal) {
      wf__diag_add(cx->diags, "MISSING_END_STATE", NULL,
                   "Workflow has no terminal state");
      return;
    }
  }
  if (!start_known) return;
  bool *seen = wf__calloc(s->count, sizeof(bool));
  if (!seen) {
    cx->diags->oom = true;
    return;
  }
  if (s->start >= 0 && !reach(s, states, names, s->start, seen))
    cx->diags->oom = true;
  size_t mark = wf__loc_push(cx, "States");
  for (size_t i = 0; i < s->count; i++) {
    if (seen[i]) continue;
    size_t m = wf__loc_push(cx, s->states[i]->name);
    wf__diag_add(cx->diags, "MISSING_TRANSITION_TARGET", wf__loc(cx),
                 "State \"%s\" is not reachable.", s->states[i]->name);
    wf__loc_pop(cx, m);
  }
  wf__loc_pop(cx, mark);
  wf__free(seen);
}

static const char *const TYPE_LIST =
    "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]";

/* Create the state records of a scope (names first, so transitions can be
 * resolved while the states compile). */
static bool declare_states(wf__cctx *cx, wf__scope *s, json_t *states,
                           json_t *names) {
  size_t n = json_object_size(states);
  s->states = wf__calloc(n ? n : 1, sizeof(wf__state *));
  if (!s->states) return false;
  const char *name;
  json_t *js;
  size_t mark = wf__loc_push(cx, "States");
  json_object_foreach(states, name, js) {
    wf__state *st = wf__calloc(1, sizeof *st);
    if (!st || !(st->name = wf__strdup(name))) {
      wf__free(st);
      wf__loc_pop(cx, mark);
      return false;
    }
    st->scope = s;
    st->index = (int)s->count;
    st->next = st->default_next = -1;
    s->states[s->count++] = st;
    json_object_set_new(names, name, json_integer(st->index));
    size_t m = wf__loc_push(cx, name);
    size_t chars = utf8_chars(name);
    if (chars == 0 || chars > WF_STATE_NAME_MAX_CHARS)
      wf__cerr_code(cx, "INVALID_STATE_NAME", NULL,
                    "State name '%s' must be 1 to %d characters long", name,
                    WF_STATE_NAME_MAX_CHARS);
    wf__loc_pop(cx, m);
  }
  wf__loc_pop(cx, mark);
  cx->nstates += s->count;
  return true;
}

static void compile_states(wf__cctx *cx, wf__scope *s, json_t *states) {
  size_t mark = wf__loc_push(cx, "States");
  for (size_t i = 0; i < s->count; i++) {
    wf__state *st = s->states[i];
    json_t *js = json_object_get(states, st->name);
    size_t m = wf__loc_push(cx, st->name);
    /* Names are unique in the whole machine. Walking in document order,
     * the later occurrence is the duplicate. AWS's text, as Step Functions
     * Local (AWS's validator) prints it: "DUPLICATE_STATE_NAME: Duplicate
     * State name: Add at /States/Add". */
    if (json_object_get(cx->names, st->name))
      wf__cerr_code(cx, "DUPLICATE_STATE_NAME", NULL,
                    "Duplicate State name: %s", st->name);
    else
      json_object_set_new(cx->names, st->name, json_true());
    json_t *type = json_object_get(js, "Type");
    int t;
    if (!json_is_object(js)) {
      wf__cerr(cx, "Expected value of type [OBJECT]");
    } else if (!type) {
      wf__cerr(cx, "These fields are required: [Type]");
    } else if (!json_is_string(type) ||
               (t = wf__state_type_from_name(json_string_value(type))) < 0) {
      wf__cerr_at(cx, "Type", "The field 'Type' should have one of these "
                  "values: %s", TYPE_LIST);
    } else {
      st->type = (wf__state_type)t;
      wf__compile_state(cx, js, st);
    }
    wf__loc_pop(cx, m);
  }
  wf__loc_pop(cx, mark);
}

static wf__scope *compile_scope(wf__cctx *cx, json_t *obj, wf__state *parent,
                                bool top, bool is_processor) {
  check_scope_keys(cx, obj, top, is_processor);
  json_t *states = json_object_get(obj, "States");
  json_t *start = json_object_get(obj, "StartAt");
  if (!states || !start) {
    wf__cerr(cx, "These fields are required: [%s%s%s]", states ? "" : "States",
             !states && !start ? ", " : "", start ? "" : "StartAt");
  }
  if (start && !json_is_string(start)) {
    wf__cerr_at(cx, "StartAt", "Expected value of type [STRING]");
    start = NULL;
  }
  if (states && !json_is_object(states)) {
    wf__cerr_at(cx, "States", "Expected value of type [OBJECT]");
    states = NULL;
  } else if (states && json_object_size(states) == 0) {
    wf__cerr_at(cx, "States", "Value cannot be empty");
  }
  wf__scope *s = wf__calloc(1, sizeof *s);
  json_t *names = json_object();
  if (!s || !names) {
    wf__free(s);
    json_decref(names);
    cx->diags->oom = true;
    return NULL;
  }
  s->parent = parent;
  s->start = -1;
  json_t *saved = cx->scope_names;
  cx->scope_names = names;
  if (states && !declare_states(cx, s, states, names)) cx->diags->oom = true;
  if (states) compile_states(cx, s, states);
  /* Without a States object AWS reports only the missing field, not the
   * StartAt it cannot resolve (recorded: {"StartAt": "State_1"} gives just
   * "These fields are required: [States] at /"). */
  if (start && states)
    s->start = wf__resolve_target(cx, "StartAt", json_string_value(start));
  check_flow(cx, s, top, start != NULL, states, names);
  cx->scope_names = saved;
  json_decref(names);
  return s;
}

wf__scope *wf__compile_scope(wf__cctx *cx, json_t *obj, wf__state *parent,
                             bool is_processor) {
  return compile_scope(cx, obj, parent, false, is_processor);
}

/* The machine's own fields, then its top-level scope. */
wf__scope *wf__compile_top(wf__cctx *cx, json_t *root, wf_machine *m) {
  json_t *q = json_object_get(root, "QueryLanguage");
  cx->machine_ql = WF__QL_JSONPATH;
  if (q) {
    /* Exactly "JSONPath" is JSONPath; any other value means JSONata (and
     * is reported when outside the enum). */
    if (!json_is_string(q)) {
      cx->machine_ql = WF__QL_JSONATA;
      wf__cerr_at(cx, "QueryLanguage", "Expected value of type [STRING]");
    } else if (strcmp(json_string_value(q), "JSONPath") != 0) {
      cx->machine_ql = WF__QL_JSONATA;
      if (strcmp(json_string_value(q), "JSONata") != 0)
        wf__cerr_at(cx, "QueryLanguage",
                    "Value should be one of the following: [JSONPath, "
                    "JSONata]");
    }
  }
  m->ql = cx->machine_ql;
  json_t *version = json_object_get(root, "Version");
  if (version && (!json_is_string(version) ||
                  strcmp(json_string_value(version), "1.0") != 0))
    wf__cerr_at(cx, "Version",
                "Value should be one of the following: [1.0]");
  json_t *comment = json_object_get(root, "Comment");
  if (comment && !json_is_string(comment))
    wf__cerr_at(cx, "Comment", "Expected value of type [STRING]");
  wf__get_int(cx, root, "TimeoutSeconds", 1, 99999999, &m->timeout_seconds);
  return compile_scope(cx, root, NULL, true, false);
}
