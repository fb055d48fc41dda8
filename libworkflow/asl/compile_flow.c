/* Choice, Wait and Fail: the states that route or stop rather than work. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "compile.h"

static const unsigned NUMBER_PATH_FLAGS =
    WF__JP_REFERENCE | WF__JP_ALLOW_VARIABLE;

static void compile_branch(wf__cctx *cx, json_t *rule, wf__state *st,
                           size_t index, wf__choice_branch *b) {
  b->next = -1;
  if (st->ql == WF__QL_JSONATA) {
    static const char *const allowed[] = {"Condition", "Next", "Assign",
                                          "Output", "Comment", NULL};
    const char *key;
    json_t *val;
    json_object_foreach(rule, key, val) {
      bool ok = false;
      for (const char *const *a = allowed; *a; a++)
        if (strcmp(*a, key) == 0) ok = true;
      if (!ok && wf__choice_is_jsonpath_key(key))
        wf__cerr_language(cx, WF__QL_JSONATA, key);
      else if (!ok)
        wf__cerr(cx, "Field '%s' is not supported", key);
    }
    /* Causes name them "Choices[1]/Condition" and the like. */
    char name[64];
    if (!json_object_get(rule, "Condition"))
      wf__cerr(cx, "These fields are required: [Condition]");
    snprintf(name, sizeof name, "Choices[%zu]/Condition", index);
    b->condition = wf__get_jfield(cx, rule, "Condition", name);
    snprintf(name, sizeof name, "Choices[%zu]/Output", index);
    b->output = wf__get_jfield(cx, rule, "Output", name);
    snprintf(name, sizeof name, "Choices[%zu]/Assign", index);
    if (wf__check_assign(cx, rule, WF__QL_JSONATA))
      b->ata_assign = wf__get_jfield(cx, rule, "Assign", name);
    if (!json_object_get(rule, "Next"))
      wf__cerr(cx, "These fields are required: [Next]");
  } else {
    b->rule = wf__choice_rule_compile(cx, rule, true);
    if (wf__check_assign(cx, rule, WF__QL_JSONPATH))
      b->assign = wf__get_template(cx, rule, "Assign",
                                   WF__JP_ALLOW_CONTEXT |
                                       WF__JP_ALLOW_VARIABLE);
  }
  json_t *next = json_object_get(rule, "Next");
  if (next && !json_is_string(next))
    wf__cerr_at(cx, "Next", "Expected value of type [STRING]");
  else if (next)
    b->next = wf__resolve_target(cx, "Next", json_string_value(next));
}

void wf__compile_choice(wf__cctx *cx, json_t *js, wf__state *st) {
  json_t *choices = json_object_get(js, "Choices");
  if (!choices) {
    wf__cerr(cx, "These fields are required: [Choices]");
  } else {
    size_t mark = wf__loc_push(cx, "Choices");
    if (!json_is_array(choices)) {
      wf__cerr(cx, "Expected value of type [ARRAY]");
    } else if (json_array_size(choices) == 0) {
      wf__cerr(cx, "Value cannot be empty");
    } else {
      size_t n = json_array_size(choices);
      st->choices = wf__calloc(n, sizeof *st->choices);
      if (!st->choices) cx->diags->oom = true;
      for (size_t i = 0; st->choices && i < n; i++) {
        size_t m = wf__loc_index(cx, i);
        json_t *rule = json_array_get(choices, i);
        if (!json_is_object(rule))
          wf__cerr(cx, "Expected value of type [OBJECT]");
        else
          compile_branch(cx, rule, st, i, &st->choices[st->nchoices++]);
        wf__loc_pop(cx, m);
      }
    }
    wf__loc_pop(cx, mark);
  }
  const char *def;
  if (wf__get_string(cx, js, "Default", &def))
    st->default_next = wf__resolve_target(cx, "Default", def);
}

/* Exactly one way to wait: Seconds, Timestamp or (JSONPath) their *Path
 * twins. In JSONata the *Path fields were already refused as the other
 * language's. */
void wf__compile_wait(wf__cctx *cx, json_t *js, wf__state *st) {
  static const char *const kinds[] = {"Seconds", "Timestamp", "SecondsPath",
                                      "TimestampPath"};
  int nkinds = st->ql == WF__QL_JSONPATH ? 4 : 2;
  int present = 0;
  for (int i = 0; i < nkinds; i++)
    if (json_object_get(js, kinds[i])) present++;
  if (present == 0) {
    if (nkinds == 4)
      wf__cerr(cx, "One of these fields is required: [Seconds, Timestamp, "
               "SecondsPath, TimestampPath]");
    else
      wf__cerr(cx, "One of these fields is required: [Seconds, Timestamp]");
    return;
  }
  if (present > 1) {
    if (nkinds == 4)
      wf__cerr(cx, "There should only be one of the following fields: "
               "[Seconds, Timestamp, SecondsPath, TimestampPath]");
    else
      wf__cerr(cx, "There should only be one of the following fields: "
               "[Seconds, Timestamp]");
    return;
  }
  json_t *v;
  if ((v = json_object_get(js, "Seconds"))) {
    st->has_seconds = true;
    if (st->ql == WF__QL_JSONATA && wf__jsonata_is_expr(v))
      st->ata[WF__ATA_SECONDS] = wf__get_jfield(cx, js, "Seconds", NULL);
    else
      wf__get_int(cx, js, "Seconds", 0, 99999999, &st->seconds);
  } else if ((v = json_object_get(js, "Timestamp"))) {
    st->has_timestamp = true;
    if (st->ql == WF__QL_JSONATA && wf__jsonata_is_expr(v)) {
      st->ata[WF__ATA_TIMESTAMP] = wf__get_jfield(cx, js, "Timestamp", NULL);
      return;
    }
    if (!json_is_string(v))
      wf__cerr_at(cx, "Timestamp", "Expected value of type [STRING]");
    else if (!wf__timestamp_is_rfc3339(json_string_value(v)) ||
             !wf__timestamp_parse(json_string_value(v), &st->timestamp))
      wf__cerr_at(cx, "Timestamp", "String does not match RFC3339 timestamp");
  } else {
    st->seconds_path = wf__get_path(cx, js, "SecondsPath", NUMBER_PATH_FLAGS);
    st->timestamp_path =
        wf__get_path(cx, js, "TimestampPath", NUMBER_PATH_FLAGS);
  }
}

/* ErrorPath / CausePath: a reference path or an intrinsic call. */
static void dyn_value(wf__cctx *cx, json_t *js, const char *field,
                      wf__dyn_value *out) {
  json_t *v = json_object_get(js, field);
  if (!v) return;
  if (!json_is_string(v)) {
    wf__cerr_at(cx, field, "Expected value of type [STRING]");
    return;
  }
  const char *text = json_string_value(v);
  char msg[256];
  const unsigned flags =
      WF__JP_REFERENCE | WF__JP_ALLOW_CONTEXT | WF__JP_ALLOW_VARIABLE;
  int rc = wf__intrinsic_is_call(text)
               ? wf__intrinsic_compile(&out->fn, text,
                                       WF__JP_ALLOW_CONTEXT |
                                           WF__JP_ALLOW_VARIABLE,
                                       msg, sizeof msg)
               : wf__jsonpath_compile(&out->path, text, flags, msg, sizeof msg);
  if (rc != 0)
    wf__cerr_at(cx, field,
                "The value for the field '%s' must be a valid JSONPath or a "
                "valid intrinsic function call",
                field);
}

void wf__compile_fail(wf__cctx *cx, json_t *js, wf__state *st) {
  wf__exclusive(cx, js, "Error", "ErrorPath");
  wf__exclusive(cx, js, "Cause", "CausePath");
  const char *s;
  if (st->ql == WF__QL_JSONATA) {
    st->ata[WF__ATA_ERROR] = wf__get_jfield_expr(cx, js, "Error");
    st->ata[WF__ATA_CAUSE] = wf__get_jfield_expr(cx, js, "Cause");
  }
  if (!st->ata[WF__ATA_ERROR] && wf__get_string(cx, js, "Error", &s))
    st->error = wf__strdup(s);
  if (!st->ata[WF__ATA_CAUSE] && wf__get_string(cx, js, "Cause", &s))
    st->cause = wf__strdup(s);
  if (st->ql == WF__QL_JSONPATH) {
    dyn_value(cx, js, "ErrorPath", &st->error_path);
    dyn_value(cx, js, "CausePath", &st->cause_path);
  }
}
