/* Task fields (Resource, timeouts, heartbeats, Credentials) and the Retry
 * and Catch arrays shared by Task, Parallel and Map. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "compile.h"

/* AWS's ceiling for TimeoutSeconds, HeartbeatSeconds, IntervalSeconds and
 * MaxAttempts. */
#define WF__MAX_SECONDS 99999999
/* MaxDelaySeconds must stay below one year and a day (AWS). */
#define WF__MAX_DELAY 31622400

/* The *Path number fields take reference paths into the input or a
 * variable; AWS refuses the context object there. */
static const unsigned NUMBER_PATH_FLAGS =
    WF__JP_REFERENCE | WF__JP_ALLOW_VARIABLE;

/* TimeoutSeconds / HeartbeatSeconds: a positive integer up to AWS's
 * maximum, or (JSONata) an expression evaluated at run time. */
static void seconds_field(wf__cctx *cx, json_t *js, wf__state *st,
                          const char *field, int64_t *out, wf__ata_slot slot) {
  json_t *v = json_object_get(js, field);
  if (!v) return;
  if (st->ql == WF__QL_JSONATA && wf__jsonata_is_expr(v)) {
    st->ata[slot] = wf__get_jfield(cx, js, field, NULL);
    return;
  }
  wf__get_int(cx, js, field, 1, WF__MAX_SECONDS, out);
}

static void compile_credentials(wf__cctx *cx, json_t *js, wf__state *st) {
  json_t *c = json_object_get(js, "Credentials");
  if (!c) return;
  size_t mark = wf__loc_push(cx, "Credentials");
  if (!json_is_object(c)) {
    wf__cerr(cx, "Expected value of type [OBJECT]");
  } else {
    /* AWS names only the missing RoleArn, not other keys beside it
     * (recorded: Credentials {"InvalidField": …} gives that one
     * diagnostic). */
    bool has_role = json_object_get(c, "RoleArn") ||
                    (st->ql == WF__QL_JSONPATH &&
                     json_object_get(c, "RoleArn.$"));
    if (!has_role)
      wf__cerr(cx, "The field 'RoleArn' is required but was missing");
    else if (st->ql == WF__QL_JSONPATH)
      st->credentials = wf__template_compile(
          c, WF__JP_ALLOW_CONTEXT | WF__JP_ALLOW_VARIABLE, cx->diags,
          wf__loc(cx));
  }
  wf__loc_pop(cx, mark);
}

void wf__compile_task(wf__cctx *cx, json_t *js, wf__state *st) {
  json_t *res = json_object_get(js, "Resource");
  if (!res) {
    wf__cerr(cx, "These fields are required: [Resource]");
  } else if (!json_is_string(res)) {
    wf__cerr_at(cx, "Resource", "Expected value of type [STRING]");
  } else {
    const char *why = NULL;
    const char *r = json_string_value(res);
    if (!wf__resource_is_valid(r, cx->type, &why)) {
      if (why)
        wf__cerr_at(cx, "Resource", "%s", why);
      else
        wf__cerr_at(cx, "Resource",
                    "The resource provided %s is not recognized. The value is "
                    "not a valid resource ARN, or the resource is not "
                    "available in this region.",
                    r);
    }
    st->resource = wf__resource_route(r);
  }
  wf__exclusive(cx, js, "TimeoutSeconds", "TimeoutSecondsPath");
  wf__exclusive(cx, js, "HeartbeatSeconds", "HeartbeatSecondsPath");
  seconds_field(cx, js, st, "TimeoutSeconds", &st->timeout_seconds,
                WF__ATA_TIMEOUT);
  seconds_field(cx, js, st, "HeartbeatSeconds", &st->heartbeat_seconds,
                WF__ATA_HEARTBEAT);
  if (st->ql == WF__QL_JSONPATH) {
    st->timeout_path =
        wf__get_path(cx, js, "TimeoutSecondsPath", NUMBER_PATH_FLAGS);
    st->heartbeat_path =
        wf__get_path(cx, js, "HeartbeatSecondsPath", NUMBER_PATH_FLAGS);
  }
  if (st->heartbeat_seconds && st->timeout_seconds &&
      st->heartbeat_seconds >= st->timeout_seconds)
    wf__cerr_at(cx, "HeartbeatSeconds",
                "HeartbeatSeconds must be smaller than TimeoutSeconds");
  compile_credentials(cx, js, st);
  wf__compile_retry_catch(cx, js, st);
}

/* ErrorEquals: a non-empty array of strings; States.ALL alone, and only
 * in the last retrier or catcher (ASL: Retry and Catch). */
static bool compile_error_equals(wf__cctx *cx, json_t *obj, bool last,
                                 char ***out, size_t *n) {
  json_t *arr = json_object_get(obj, "ErrorEquals");
  if (!arr) {
    wf__cerr(cx, "The field 'ErrorEquals' is required but was missing");
    return false;
  }
  size_t mark = wf__loc_push(cx, "ErrorEquals");
  bool ok = true;
  if (!json_is_array(arr)) {
    wf__cerr(cx, "Expected value of type [ARRAY]");
    ok = false;
  } else if (json_array_size(arr) == 0) {
    wf__cerr(cx, "Value cannot be empty");
    ok = false;
  } else {
    size_t count = json_array_size(arr);
    for (size_t i = 0; i < count; i++) {
      json_t *e = json_array_get(arr, i);
      size_t m = wf__loc_index(cx, i);
      if (!json_is_string(e)) {
        wf__cerr(cx, "Expected value of type [STRING]");
        ok = false;
      } else if (strcmp(json_string_value(e), "States.ALL") == 0 &&
                 (count > 1 || !last)) {
        wf__cerr(cx, "States.ALL must appear alone and at end of list");
        ok = false;
      }
      wf__loc_pop(cx, m);
    }
  }
  wf__loc_pop(cx, mark);
  if (ok && !(*out = wf__strings_dup(arr, n))) {
    cx->diags->oom = true;
    ok = false;
  }
  return ok;
}

/* Unknown keys are not supported; `other` names the keys of the other
 * query language (`ql` being the one in force), which get AWS's
 * QueryLanguage message instead. */
static void check_keys(wf__cctx *cx, json_t *obj, const char *const *allowed,
                       const char *const *other, wf__ql ql) {
  const char *key;
  json_t *val;
  json_object_foreach(obj, key, val) {
    bool ok = false, foreign = false;
    for (const char *const *a = allowed; *a; a++)
      if (strcmp(*a, key) == 0) ok = true;
    for (const char *const *a = other; a && *a; a++)
      if (strcmp(*a, key) == 0) foreign = true;
    if (foreign)
      wf__cerr_language(cx, ql, key);
    else if (!ok)
      wf__cerr(cx, "Field '%s' is not supported", key);
  }
}

static void compile_retrier(wf__cctx *cx, json_t *r, bool last,
                            wf__retrier *out) {
  static const char *const allowed[] = {
      "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate",
      "MaxDelaySeconds", "JitterStrategy", "Comment", NULL};
  out->interval_seconds = 1;
  out->max_attempts = 3;
  out->backoff_rate = 2.0;
  check_keys(cx, r, allowed, NULL, WF__QL_JSONPATH);
  compile_error_equals(cx, r, last, &out->errors, &out->nerrors);
  wf__get_int(cx, r, "IntervalSeconds", 1, WF__MAX_SECONDS,
              &out->interval_seconds);
  wf__get_int(cx, r, "MaxAttempts", 0, WF__MAX_SECONDS, &out->max_attempts);
  wf__get_int(cx, r, "MaxDelaySeconds", 1, WF__MAX_DELAY,
              &out->max_delay_seconds);
  double rate;
  if (wf__get_number(cx, r, "BackoffRate", &rate)) {
    if (rate < 1.0)
      wf__cerr_at(cx, "BackoffRate", "Minimum value is 1.0");
    else
      out->backoff_rate = rate;
  }
  const char *jitter;
  if (wf__get_string(cx, r, "JitterStrategy", &jitter)) {
    if (strcmp(jitter, "FULL") == 0)
      out->jitter_full = true;
    else if (strcmp(jitter, "NONE") != 0)
      wf__cerr_at(cx, "JitterStrategy",
                  "Value should be one of the following: [FULL, NONE]");
  }
}

static void compile_catcher(wf__cctx *cx, json_t *c, size_t index,
                            bool last, wf__state *st, wf__catcher *out) {
  static const char *const allowed_path[] = {"ErrorEquals", "Next",
                                             "ResultPath", "Comment",
                                             "Assign", NULL};
  static const char *const allowed_ata[] = {"ErrorEquals", "Next", "Output",
                                            "Comment", "Assign", NULL};
  out->next = -1;
  static const char *const only_path[] = {"ResultPath", NULL};
  static const char *const only_ata[] = {"Output", NULL};
  check_keys(cx, c, st->ql == WF__QL_JSONPATH ? allowed_path : allowed_ata,
             st->ql == WF__QL_JSONPATH ? only_ata : only_path, st->ql);
  compile_error_equals(cx, c, last, &out->errors, &out->nerrors);
  json_t *next = json_object_get(c, "Next");
  if (!next)
    wf__cerr(cx, "The field 'Next' is required but was missing");
  else if (!json_is_string(next))
    wf__cerr_at(cx, "Next", "Expected value of type [STRING]");
  else
    out->next = wf__resolve_target(cx, "Next", json_string_value(next));
  if (st->ql == WF__QL_JSONPATH) {
    wf__get_path_field(cx, c, "ResultPath", WF__JP_REFERENCE,
                       &out->result_path);
    if (wf__check_assign(cx, c, WF__QL_JSONPATH))
      out->assign = wf__get_template(
          cx, c, "Assign", WF__JP_ALLOW_CONTEXT | WF__JP_ALLOW_VARIABLE);
  } else {
    char name[64];
    snprintf(name, sizeof name, "Catch[%zu]/Output", index);
    out->output = wf__get_jfield(cx, c, "Output", name);
    snprintf(name, sizeof name, "Catch[%zu]/Assign", index);
    if (wf__check_assign(cx, c, WF__QL_JSONATA))
      out->ata_assign = wf__get_jfield(cx, c, "Assign", name);
  }
}

void wf__compile_retry_catch(wf__cctx *cx, json_t *js, wf__state *st) {
  json_t *retry = json_object_get(js, "Retry");
  if (retry) {
    size_t mark = wf__loc_push(cx, "Retry");
    if (!json_is_array(retry)) {
      wf__cerr(cx, "Expected value of type [ARRAY]");
    } else if (json_array_size(retry)) {
      size_t n = json_array_size(retry);
      st->retriers = wf__calloc(n, sizeof *st->retriers);
      if (!st->retriers) cx->diags->oom = true;
      for (size_t i = 0; st->retriers && i < n; i++) {
        size_t m = wf__loc_index(cx, i);
        json_t *r = json_array_get(retry, i);
        if (!json_is_object(r))
          wf__cerr(cx, "Expected value of type [OBJECT]");
        else
          compile_retrier(cx, r, i + 1 == n, &st->retriers[st->nretriers++]);
        wf__loc_pop(cx, m);
      }
    }
    wf__loc_pop(cx, mark);
  }
  json_t *catch_ = json_object_get(js, "Catch");
  if (catch_) {
    size_t mark = wf__loc_push(cx, "Catch");
    if (!json_is_array(catch_)) {
      wf__cerr(cx, "Expected value of type [ARRAY]");
    } else if (json_array_size(catch_)) {
      size_t n = json_array_size(catch_);
      st->catchers = wf__calloc(n, sizeof *st->catchers);
      if (!st->catchers) cx->diags->oom = true;
      for (size_t i = 0; st->catchers && i < n; i++) {
        size_t m = wf__loc_index(cx, i);
        json_t *c = json_array_get(catch_, i);
        if (!json_is_object(c))
          wf__cerr(cx, "Expected value of type [OBJECT]");
        else
          compile_catcher(cx, c, i, i + 1 == n, st,
                          &st->catchers[st->ncatchers++]);
        wf__loc_pop(cx, m);
      }
    }
    wf__loc_pop(cx, mark);
  }
}
