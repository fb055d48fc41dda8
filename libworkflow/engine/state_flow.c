/* Pass, Choice, Wait, Succeed and Fail. */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "step.h"

/* Record StateEntered, then apply InputPath; -1 with fault set on
 * failure. */
static int enter_with_input(wf__frame *f, const wf__state *st, json_t **eff,
                            wf__fault *fault) {
  wf__state_enter(f, st);
  return wf__state_input(f, st, eff, fault);
}

/* Leave a state whose output is its (filtered) input `eff` (stolen),
 * assigning `assign` (NULL: nothing) over that input first. */
static wf__step leave_with_input(wf__frame *f, const wf__state *st,
                                 json_t *eff, int next,
                                 const wf__template *assign) {
  wf__fault fault = WF__FAULT_INIT;
  if (wf__vars_assign(f, assign, eff, &fault) != 0) {
    json_decref(eff);
    return wf__state_fault(f, st, &fault);
  }
  json_t *out;
  int rc = wf__state_output(f, st, eff, &out, &fault);
  json_decref(eff);
  if (rc != 0) return wf__state_fault(f, st, &fault);
  return wf__state_leave(f, st, out, next);
}

/* A JSONata state that works on its input (Pass, Choice's Default, Wait,
 * Succeed): its Assign and Output, Output defaulting to the input. */
static wf__step ata_leave_input(wf__frame *f, const wf__state *st,
                                const wf__jfield *assign,
                                const wf__jfield *output, int next) {
  wf__ata_exit exit = {.assign = assign, .output = output};
  return wf__ata_leave(f, st, &exit, json_incref(f->input), next);
}

wf__step wf__run_pass(wf__frame *f, const wf__state *st) {
  wf__fault fault = WF__FAULT_INIT;
  if (st->ql == WF__QL_JSONATA) {
    wf__state_enter(f, st);
    return ata_leave_input(f, st, st->ata[WF__ATA_ASSIGN],
                           st->ata[WF__ATA_OUTPUT], st->next);
  }
  json_t *eff;
  if (enter_with_input(f, st, &eff, &fault) != 0)
    return wf__state_fault(f, st, &fault);
  json_t *result;
  if (st->result) {
    /* Result is a literal: ".$" keys in it are not evaluated. */
    result = json_incref(st->result);
  } else if (st->parameters) {
    wf__eval_env env;
    wf__eval_env_init(&env, f, eff);
    int rc = wf__template_eval(&result, st->parameters, &env, &fault);
    if (rc != 0) {
      json_decref(eff);
      return wf__state_fault(f, st, &fault);
    }
    if (f->exec->probe)
      wf__probe_note(f, WF__PROBE_AFTER_ARGUMENTS, result);
  } else {
    result = json_incref(eff);
  }
  json_decref(eff);
  return wf__state_result(f, st, result);
}

/* A JSONata Choice: the first rule whose Condition is true, with its
 * Assign and Output; else Default with the state's. */
static wf__step ata_choice(wf__frame *f, const wf__state *st) {
  wf__fault fault = WF__FAULT_INIT;
  for (size_t i = 0; i < st->nchoices; i++) {
    const wf__choice_branch *b = &st->choices[i];
    json_t *v;
    if (wf__ata_eval(&v, f, b->condition, &fault) != 0)
      return wf__state_fault(f, st, &fault);
    if (!json_is_boolean(v)) {
      wf__jfield_type_fault(&fault, b->condition, "boolean", v);
      json_decref(v);
      return wf__state_fault(f, st, &fault);
    }
    bool match = json_is_true(v);
    json_decref(v);
    if (match) return ata_leave_input(f, st, b->ata_assign, b->output, b->next);
  }
  if (st->default_next < 0) {
    wf__fault_set(&fault, "States.NoChoiceMatched",
                  "No Choice Rule matched and no Default is set.");
    return wf__state_fault(f, st, &fault);
  }
  return ata_leave_input(f, st, st->ata[WF__ATA_ASSIGN],
                         st->ata[WF__ATA_OUTPUT], st->default_next);
}

wf__step wf__run_choice(wf__frame *f, const wf__state *st) {
  wf__fault fault = WF__FAULT_INIT;
  if (st->ql == WF__QL_JSONATA) {
    wf__state_enter(f, st);
    return ata_choice(f, st);
  }
  json_t *eff;
  if (enter_with_input(f, st, &eff, &fault) != 0)
    return wf__state_fault(f, st, &fault);
  wf__eval_env env;
  wf__eval_env_init(&env, f, eff);
  int next = -1;
  const wf__template *assign = NULL;
  for (size_t i = 0; i < st->nchoices && next < 0; i++) {
    bool match = false;
    if (wf__choice_rule_eval(&match, st->choices[i].rule, &env, &fault) != 0) {
      json_decref(eff);
      return wf__state_fault(f, st, &fault);
    }
    if (match) {
      next = st->choices[i].next;
      assign = st->choices[i].assign;
    }
  }
  if (next < 0) {
    /* The state's own Assign goes with Default only. */
    next = st->default_next;
    assign = st->assign;
  }
  if (next < 0) {
    json_decref(eff);
    wf__fault_set(&fault, "States.NoChoiceMatched",
                  "No Choice Rule matched and no Default is set.");
    return wf__state_fault(f, st, &fault);
  }
  return leave_with_input(f, st, eff, next, assign);
}

/* AWS refuses delays that do not fit a signed 32-bit number of seconds. */
#define WF__MAX_WAIT_SECONDS 2147483647LL

/* JSONata's Seconds or Timestamp expression. */
static int ata_wait_target(wf__frame *f, const wf__state *st, int64_t now,
                           int64_t *target, wf__fault *fault) {
  if (st->ata[WF__ATA_SECONDS]) {
    int64_t secs;
    if (wf__ata_integer(f, st->ata[WF__ATA_SECONDS], 0, WF__MAX_WAIT_SECONDS,
                        &secs, fault) != 0)
      return -1;
    *target = now + secs * 1000;
    return 0;
  }
  json_t *v;
  if (wf__ata_eval(&v, f, st->ata[WF__ATA_TIMESTAMP], fault) != 0) return -1;
  wf__instant in;
  int rc = 0;
  if (!json_is_string(v) || !wf__timestamp_parse(json_string_value(v), &in)) {
    char *text = wf__json_shown(v);
    rc = wf__fault_set(fault, WF__QUERY_ERROR,
                       "The Timestamp field cannot be parsed as an ISO-8601 "
                       "extended offset date-time format string: %s",
                       text ? text : "");
    wf__free(text);
  } else {
    *target = wf__instant_ms(in);
  }
  json_decref(v);
  return rc;
}

static int wait_target(wf__frame *f, const wf__state *st, json_t *eff,
                       int64_t *target, wf__fault *fault) {
  int64_t now = wf__engine_now(f->exec->engine);
  if (st->ata[WF__ATA_SECONDS] || st->ata[WF__ATA_TIMESTAMP]) {
    if (ata_wait_target(f, st, now, target, fault) != 0) return -1;
  } else if (st->has_seconds) {
    *target = now + st->seconds * 1000;
    return 0;
  } else if (st->has_timestamp) {
    *target = wf__instant_ms(st->timestamp);
  } else {
    const wf__jsonpath *p = st->seconds_path ? st->seconds_path
                                             : st->timestamp_path;
    const char *field = st->seconds_path ? "SecondsPath" : "TimestampPath";
    json_t *v = NULL;
    if (wf__frame_eval_path(&v, f, p, eff, NULL) != 0)
      return wf__fault_set(fault, "States.Runtime",
                           "The %s parameter does not reference an input "
                           "value: %s",
                           field, wf__jsonpath_text(p));
    char *text = wf__json_shown(v);
    int bad = 0;
    if (st->seconds_path) {
      if (!json_is_integer(v))
        bad = wf__fault_set(fault, "States.Runtime",
                            "The SecondsPath parameter cannot be parsed as a "
                            "long value: %s == %s",
                            wf__jsonpath_text(p), text ? text : "");
      else if (json_integer_value(v) < 0)
        bad = wf__fault_set(fault, "States.Runtime",
                            "The SecondsPath parameter references a negative "
                            "value: %s == %s",
                            wf__jsonpath_text(p), text ? text : "");
      else if (json_integer_value(v) > WF__MAX_WAIT_SECONDS)
        bad = wf__fault_set(fault, "States.Runtime",
                            "Wait state delay is too long.");
      else
        *target = now + (int64_t)json_integer_value(v) * 1000;
    } else {
      wf__instant in;
      if (!json_is_string(v) || !wf__timestamp_parse(json_string_value(v), &in))
        bad = wf__fault_set(fault, "States.Runtime",
                            "The TimestampPath parameter does not reference a "
                            "valid ISO-8601 extended offset date-time format "
                            "string: %s == %s",
                            wf__jsonpath_text(p), text ? text : "");
      else
        *target = wf__instant_ms(in);
    }
    wf__free(text);
    json_decref(v);
    if (bad) return -1;
  }
  if ((*target - now) / 1000 > WF__MAX_WAIT_SECONDS)
    return wf__fault_set(fault, "States.Runtime",
                         "Wait state delay is too long.");
  return 0;
}

/* Leave a Wait state once its time has come. */
static wf__step wait_leave(wf__frame *f, const wf__state *st, json_t *eff) {
  if (st->ql == WF__QL_JSONATA) {
    json_decref(eff);
    return ata_leave_input(f, st, st->ata[WF__ATA_ASSIGN],
                           st->ata[WF__ATA_OUTPUT], st->next);
  }
  return leave_with_input(f, st, eff, st->next, st->assign);
}

wf__step wf__run_wait(wf__frame *f, const wf__state *st) {
  if (f->phase == WF__PH_WAIT_DONE) {
    json_t *eff = f->effective;
    f->effective = NULL;
    return wait_leave(f, st, eff);
  }
  wf__fault fault = WF__FAULT_INIT;
  json_t *eff;
  if (enter_with_input(f, st, &eff, &fault) != 0)
    return wf__state_fault(f, st, &fault);
  int64_t target = 0;
  if (wait_target(f, st, eff, &target, &fault) != 0) {
    json_decref(eff);
    return wf__state_fault(f, st, &fault);
  }
  int64_t delay = target - wf__engine_now(f->exec->engine);
  if (delay <= 0) {
    /* A timestamp in the past continues at once. */
    return wait_leave(f, st, eff);
  }
  f->effective = eff;
  return wf__frame_sleep(f, delay, WF__PH_WAIT_DONE);
}

wf__step wf__run_succeed(wf__frame *f, const wf__state *st) {
  wf__fault fault = WF__FAULT_INIT;
  if (st->ql == WF__QL_JSONATA) {
    wf__state_enter(f, st);
    return ata_leave_input(f, st, NULL, st->ata[WF__ATA_OUTPUT], -1);
  }
  json_t *eff;
  if (enter_with_input(f, st, &eff, &fault) != 0)
    return wf__state_fault(f, st, &fault);
  return leave_with_input(f, st, eff, -1, NULL);
}

/* ErrorPath / CausePath: a path or intrinsic over the state input. */
static int dyn_string(wf__frame *f, const wf__dyn_value *dv,
                      const char *field, char **out, wf__fault *fault) {
  wf__eval_env env;
  wf__eval_env_init(&env, f, f->input);
  json_t *v = NULL;
  if (dv->fn) {
    if (wf__intrinsic_eval(&v, dv->fn, &env, fault) != 0) return -1;
  } else {
    wf__strbuf detail = WF__STRBUF_INIT;
    int rc = wf__jsonpath_eval_env(&v, dv->path, &env, &detail);
    wf__strbuf_free(&detail);
    if (rc == WF__JP_SPENT)
      return wf__fault_spent(fault, env.budget, wf__jsonpath_text(dv->path));
    if (rc != 0) {
      char *in = wf__json_dumps(f->input);
      wf__fault_set(fault, "States.Runtime",
                    "The JSONPath '%s' specified for the field '%s' could not "
                    "be found in the input '%s'",
                    wf__jsonpath_text(dv->path), field, in ? in : "null");
      wf__free(in);
      return -1;
    }
  }
  *out = wf__json_shown(v);
  json_decref(v);
  return 0;
}

wf__step wf__run_fail(wf__frame *f, const wf__state *st) {
  wf__state_enter(f, st);
  wf__fault fault = WF__FAULT_INIT;
  char *error = NULL, *cause = NULL;
  int rc = 0;
  if (st->ata[WF__ATA_ERROR])
    rc = wf__ata_string(f, st->ata[WF__ATA_ERROR], &error, &fault);
  else if (st->error_path.path || st->error_path.fn)
    rc = dyn_string(f, &st->error_path, "ErrorPath", &error, &fault);
  else if (st->error)
    error = wf__strdup(st->error);
  if (rc == 0 && st->ata[WF__ATA_CAUSE])
    rc = wf__ata_string(f, st->ata[WF__ATA_CAUSE], &cause, &fault);
  else if (rc == 0 && (st->cause_path.path || st->cause_path.fn))
    rc = dyn_string(f, &st->cause_path, "CausePath", &cause, &fault);
  else if (rc == 0 && st->cause)
    cause = wf__strdup(st->cause);
  wf__step r = rc == 0 ? wf__frame_fail(f, error, cause)
                       : wf__state_fault(f, st, &fault);
  wf__free(error);
  wf__free(cause);
  return r;
}
