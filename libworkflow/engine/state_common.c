/* What every state shares: entering and leaving (with their history
 * events), JSONPath input/output processing, run-time faults, and Retry and
 * Catch. The order of processing is AWS's: InputPath, Parameters, the work,
 * ResultSelector, ResultPath (into the raw input), OutputPath. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "step.h"

void wf__state_enter(wf__frame *f, const wf__state *st) {
  wf_execution *x = f->exec;
  wf__vars_discard(f);
  json_decref(f->ctx);
  f->ctx = NULL;
  json_decref(f->effective);
  f->effective = NULL;
  f->retry_count = 0;
  if (st->nretriers) {
    if (f->nattempts < st->nretriers) {
      unsigned *a = wf__realloc(f->attempts, st->nretriers * sizeof *a);
      if (a) {
        f->attempts = a;
        f->nattempts = st->nretriers;
      }
    }
    if (f->attempts) memset(f->attempts, 0, f->nattempts * sizeof *f->attempts);
  }
  f->entered_ms = wf__engine_now(x->engine);
  f->entered_prev = f->prev_event;
  f->entered_id = wf__history_add(x, f, WF__EV_STATE_ENTERED, st, f->input,
                                  NULL, NULL);
  f->phase = WF__PH_ENTER;
}

static int eval_path(wf__frame *f, const wf__jsonpath *p, json_t *doc,
                     json_t **out, wf__fault *fault) {
  wf__strbuf detail = WF__STRBUF_INIT;
  int rc = wf__frame_eval_path(out, f, p, doc, &detail);
  if (rc == WF__JP_NULL_INPUT)
    wf__fault_set_raw(fault, "States.Runtime", wf__strbuf_cstr(&detail));
  else if (rc == WF__JP_SPENT)
    wf__fault_spent(fault, &f->budget, wf__jsonpath_text(p));
  else if (rc != 0)
    wf__fault_set(fault, "States.Runtime", "Invalid path '%s' : %s",
                  wf__jsonpath_text(p), wf__strbuf_cstr(&detail));
  wf__strbuf_free(&detail);
  return rc ? -1 : 0;
}

/* InputPath / OutputPath: "$" by default, {} for null. */
static int apply_path_field(wf__frame *f, const wf__path_field *pf,
                            json_t *doc, json_t **out, wf__fault *fault) {
  switch (pf->mode) {
    case WF__PATH_DEFAULT:
      *out = json_incref(doc);
      return 0;
    case WF__PATH_NULL:
      *out = json_object();
      return 0;
    case WF__PATH_SET:
      return eval_path(f, pf->path, doc, out, fault);
  }
  return -1;
}

int wf__state_input(wf__frame *f, const wf__state *st, json_t **out,
                    wf__fault *fault) {
  int rc = apply_path_field(f, &st->input_path, f->input, out, fault);
  if (rc == 0 && f->exec->probe)
    wf__probe_note(f, WF__PROBE_AFTER_INPUT_PATH, *out);
  return rc;
}

int wf__state_output(wf__frame *f, const wf__state *st, json_t *doc,
                     json_t **out, wf__fault *fault) {
  return apply_path_field(f, &st->output_path, doc, out, fault);
}

int wf__state_arguments(wf__frame *f, const wf__state *st, json_t *eff,
                        json_t **out, wf__fault *fault) {
  int rc = 0;
  if (st->parameters) {
    wf__eval_env env;
    wf__eval_env_init(&env, f, eff);
    rc = wf__template_eval(out, st->parameters, &env, fault);
  } else if (st->ata[WF__ATA_ARGUMENTS]) {
    rc = wf__ata_eval(out, f, st->ata[WF__ATA_ARGUMENTS], fault);
  } else {
    *out = json_incref(eff);
  }
  json_decref(eff);
  if (rc == 0 && f->exec->probe)
    wf__probe_note(f, WF__PROBE_AFTER_ARGUMENTS, *out);
  return rc;
}

/* ---- out of memory while stepping ----
 * Code on the step's way checks its allocations, but a failed allocation
 * deep inside (a cache, a path's scratch buffer, a history event) may only
 * make a result smaller or a lookup miss. So a step that went without
 * memory never ends its frame well: the frame fails, naming memory. The
 * mark is this thread's count of failed allocations when the step began. */
static _Thread_local unsigned long step_mark;

void wf__step_begin(void) { step_mark = wf__alloc_failures(); }

bool wf__step_short_of_memory(void) {
  return wf__alloc_failures() != step_mark;
}

wf__step wf__frame_fail_memory(wf__frame *f) {
  /* A Map or Parallel may have started its children in this step: they
   * refer to it, and end with it. */
  wf__fanout_cancel(f);
  char cause[320];
  snprintf(cause, sizeof cause,
           "Out of memory while running the state '%.256s'",
           f->scope->states[f->state]->name);
  return wf__frame_fail(f, "States.Runtime", cause);
}

wf__step wf__frame_succeed(wf__frame *f, json_t *output) {
  wf_execution *x = f->exec;
  if (wf__step_short_of_memory()) {
    json_decref(output);
    return wf__frame_fail_memory(f);
  }
  f->finished = true;
  f->park = WF__PARK_DONE;
  f->ok = true;
  f->output = output;
  if (!f->parent) {
    wf__history_add(x, f, WF__EV_EXECUTION_SUCCEEDED, NULL, output, NULL,
                    NULL);
    wf__exec_finish(x, WF_EXEC_SUCCEEDED, output, NULL, NULL);
  } else {
    wf__fanout_child_done(f);
  }
  return WF__STEP_END;
}

wf__step wf__frame_fail(wf__frame *f, const char *error, const char *cause) {
  wf_execution *x = f->exec;
  f->finished = true;
  f->park = WF__PARK_DONE;
  f->ok = false;
  f->error = error ? wf__strdup(error) : NULL;
  f->cause = cause ? wf__strdup(cause) : NULL;
  if (!f->parent) {
    wf__history_add(x, f, WF__EV_EXECUTION_FAILED, NULL, NULL, error, cause);
    wf__exec_finish(x, WF_EXEC_FAILED, NULL, error, cause);
  } else {
    wf__fanout_child_done(f);
  }
  return WF__STEP_END;
}

static wf__step data_limit(wf__frame *f, const char *who) {
  char cause[512];
  snprintf(cause, sizeof cause,
           "The state/task '%s' returned a result with a size exceeding the "
           "maximum number of bytes service limit.",
           who);
  return wf__frame_fail(f, "States.DataLimitExceeded", cause);
}

wf__step wf__state_leave(wf__frame *f, const wf__state *st, json_t *output,
                         int next) {
  wf_execution *x = f->exec;
  wf__event_args exited = {.type = WF__EV_STATE_EXITED, .st = st,
                           .data = output, .assigned = f->pending_vars};
  wf__history_record(x, f, &exited);
  wf__vars_commit(f);
  if (f->exec->probe && !f->parent) {
    /* TestState runs one state: it ends as the state leaves. */
    wf__probe_exit(f, next);
    next = -1;
  }
  if (next < 0) return wf__frame_succeed(f, output);
  json_decref(f->input);
  f->input = output;
  f->state = next;
  f->phase = WF__PH_ENTER;
  return WF__STEP_NEXT;
}

wf__step wf__state_leave_sized(wf__frame *f, const wf__state *st,
                               json_t *output, size_t bound, bool normal,
                               int next) {
  size_t limit = f->exec->engine->payload_limit;
  size_t size = bound <= limit ? bound : wf__json_size(output, limit);
  if (size > limit) {
    json_decref(output);
    return data_limit(f, st->name);
  }
  f->input_size = size;
  f->input_normal = normal;
  return wf__state_leave(f, st, output, next);
}

wf__step wf__state_leave_checked(wf__frame *f, const wf__state *st,
                                 json_t *output, int next) {
  return wf__state_leave_sized(f, st, output, SIZE_MAX, false, next);
}

static wf__step fault_end(wf__frame *f, const wf__state *st,
                          wf__fault *fault, bool catchable) {
  wf__strbuf cause = WF__STRBUF_INIT;
  if (fault->raw)
    wf__strbuf_puts(&cause, wf__strbuf_cstr(&fault->cause));
  else
    wf__strbuf_printf(&cause,
                      "An error occurred while executing the state '%s' "
                      "(entered at the event id #%lld). %s",
                      st->name, (long long)f->entered_id,
                      wf__strbuf_cstr(&fault->cause));
  if (wf__step_short_of_memory()) {
    wf__strbuf_free(&cause);
    wf__fault_clear(fault);
    return wf__frame_fail_memory(f);
  }
  const char *error = fault->error ? fault->error : "States.Runtime";
  if (!strcmp(error, WF__QUERY_ERROR)) {
    /* AWS records the failed evaluation, chained to what preceded the
     * state's entry. */
    f->prev_event = f->entered_prev;
    wf__event_args ev = {.type = WF__EV_EVALUATION_FAILED, .st = st,
                         .error = error, .cause = wf__strbuf_cstr(&cause),
                         .text = fault->location[0] ? fault->location : NULL};
    wf__history_record(f->exec, f, &ev);
  }
  /* A spent budget's oversized result: AWS's words for an output past the
   * payload limit, and like them, terminal. */
  if (strcmp(error, "States.DataLimitExceeded") == 0 && !fault->cause.len) {
    wf__strbuf_free(&cause);
    wf__fault_clear(fault);
    return data_limit(f, st->name);
  }
  wf__step r = !catchable || strcmp(error, "States.Runtime") == 0
                   ? wf__frame_fail(f, error, wf__strbuf_cstr(&cause))
                   : wf__state_error(f, st, error, wf__strbuf_cstr(&cause));
  wf__strbuf_free(&cause);
  wf__fault_clear(fault);
  return r;
}

wf__step wf__state_fault(wf__frame *f, const wf__state *st,
                         wf__fault *fault) {
  return fault_end(f, st, fault, true);
}

wf__step wf__state_fault_final(wf__frame *f, const wf__state *st,
                               wf__fault *fault) {
  return fault_end(f, st, fault, false);
}

/* The output's size is tracked as an upper bound so a large document is
 * not re-measured at every transition; it is measured exactly only when
 * the bound passes the limit. */
static bool over_limit(wf__frame *f, json_t *doc, size_t bound) {
  size_t limit = f->exec->engine->payload_limit;
  if (bound <= limit) return false;
  return wf__json_size(doc, limit) > limit;
}

wf__step wf__state_result(wf__frame *f, const wf__state *st, json_t *result) {
  wf__fault fault = WF__FAULT_INIT;
  wf__eval_env env;
  size_t limit = f->exec->engine->payload_limit;
  if (f->exec->probe) wf__probe_note(f, WF__PROBE_RESULT, result);
  if (st->ql == WF__QL_JSONATA) {
    /* Assign and Output read $states.result; Output defaults to it. */
    wf__ata_exit exit = {.assign = st->ata[WF__ATA_ASSIGN],
                         .output = st->ata[WF__ATA_OUTPUT], .result = result};
    return wf__ata_leave(f, st, &exit, result, st->next);
  }
  /* Assign reads the result as the state produced it. */
  if (wf__vars_assign(f, st->assign, result, &fault) != 0) {
    json_decref(result);
    return wf__state_fault(f, st, &fault);
  }
  if (st->result_selector) {
    json_t *sel;
    wf__eval_env_init(&env, f, result);
    int rc = wf__template_eval(&sel, st->result_selector, &env, &fault);
    json_decref(result);
    if (rc != 0) return wf__state_fault(f, st, &fault);
    result = sel;
  }
  if (f->exec->probe)
    wf__probe_note(f, WF__PROBE_AFTER_RESULT_SELECTOR, result);
  size_t rsize = wf__json_size(result, limit);
  json_t *doc = NULL;
  switch (st->result_path.mode) {
    case WF__PATH_DEFAULT:
      doc = result;
      break;
    case WF__PATH_NULL:
      doc = json_incref(f->input);
      json_decref(result);
      rsize = 0;
      break;
    case WF__PATH_SET: {
      /* The frame gives up its input: when nobody else holds it, the
       * result is written in place rather than into a copy. */
      wf__strbuf detail = WF__STRBUF_INIT;
      doc = f->input;
      int rc = wf__jsonpath_set_owned(&doc, st->result_path.path, result,
                                      &detail);
      json_decref(result);
      if (rc != 0) {
        /* AWS reports this cause as is, under its own error name. */
        wf__fault_set_raw(&fault, WF__JP_SET_ERROR, wf__strbuf_cstr(&detail));
        wf__strbuf_free(&detail);
        return wf__state_fault(f, st, &fault);
      }
      f->input = NULL;
      wf__strbuf_free(&detail);
      break;
    }
  }
  if (f->exec->probe) wf__probe_note(f, WF__PROBE_AFTER_RESULT_PATH, doc);
  json_t *out;
  if (apply_path_field(f, &st->output_path, doc, &out, &fault) != 0) {
    json_decref(doc);
    return wf__state_fault(f, st, &fault);
  }
  json_decref(doc);
  size_t bound = st->result_path.mode == WF__PATH_DEFAULT
                     ? rsize
                     : f->input_size + rsize + 64;
  if (over_limit(f, out, bound)) {
    json_decref(out);
    return data_limit(f, st->name);
  }
  f->input_size = bound > limit ? wf__json_size(out, limit) : bound;
  f->input_normal = false;
  return wf__state_leave(f, st, out, st->next);
}

/* ---- Retry and Catch ---- */

/* Error matching (ASL, Retry and Catch): exact names; States.ALL matches
 * everything catchable; States.TaskFailed everything but timeouts;
 * States.HeartbeatTimeout the States.Timeout of a missed heartbeat. */
static bool error_matches(char *const *errors, size_t n, const char *error,
                          bool heartbeat) {
  for (size_t i = 0; i < n; i++) {
    const char *p = errors[i];
    if (strcmp(p, "States.ALL") == 0) return true;
    if (strcmp(p, error) == 0) return true;
    if (strcmp(p, "States.TaskFailed") == 0 &&
        strcmp(error, "States.Timeout") != 0)
      return true;
    if (heartbeat && strcmp(p, "States.HeartbeatTimeout") == 0 &&
        strcmp(error, "States.Timeout") == 0)
      return true;
  }
  return false;
}

static int64_t backoff_ms(wf__frame *f, const wf__retrier *r,
                          unsigned attempt) {
  double d = (double)r->interval_seconds * pow(r->backoff_rate, attempt);
  if (r->max_delay_seconds && d > (double)r->max_delay_seconds)
    d = (double)r->max_delay_seconds;
  if (r->jitter_full) d *= wf__rng_double(&f->exec->rng);
  if (d > 1e12) d = 1e12;
  return (int64_t)(d * 1000.0);
}

wf__step wf__frame_sleep(wf__frame *f, int64_t delay_ms, wf__phase phase) {
  if (f->exec->probe) delay_ms = 0; /* TestState does not wait (AWS) */
  int64_t now = wf__engine_now(f->exec->engine);
  wf__frame_wake_at(f, now + (delay_ms > 0 ? delay_ms : 0), phase);
  return WF__STEP_PARK;
}

wf__step wf__state_error(wf__frame *f, const wf__state *st, const char *error,
                         const char *cause) {
  const char *err = error ? error : "";
  /* What the failed attempt assigned never takes effect. */
  wf__vars_discard(f);
  /* States.Runtime is never retried or caught (recorded on AWS). */
  if (strcmp(err, "States.Runtime") != 0) {
    for (size_t i = 0; i < st->nretriers; i++) {
      const wf__retrier *r = &st->retriers[i];
      if (!error_matches(r->errors, r->nerrors, err, f->heartbeat_fault))
        continue;
      /* The first matching retrier decides, even when it is exhausted. */
      if (f->exec->probe) {
        /* TestState reports the retry rather than make it. */
        unsigned done = wf__probe_retries(f);
        bool left = done < r->max_attempts;
        wf__probe_retrier(f, i, left ? backoff_ms(f, r, done) : -1);
        if (!left) break;
        return wf__frame_fail(f, error, cause);
      }
      if (f->attempts && f->attempts[i] < r->max_attempts) {
        int64_t delay = backoff_ms(f, r, f->attempts[i]);
        f->attempts[i]++;
        f->retry_count++;
        json_decref(f->ctx);
        f->ctx = NULL;
        return wf__frame_sleep(f, delay, WF__PH_RETRY);
      }
      break;
    }
    for (size_t i = 0; i < st->ncatchers; i++) {
      const wf__catcher *c = &st->catchers[i];
      if (!error_matches(c->errors, c->nerrors, err, f->heartbeat_fault))
        continue;
      if (f->exec->probe) wf__probe_caught(f, i, error, cause);
      /* As AWS records them: a timeout's absent cause reads "", while a
       * failure sent without error or cause (SendTaskFailure) gives null
       * for both. */
      json_t *eo = json_object();
      json_object_set_new(eo, "Error", error ? json_string(error) : json_null());
      json_object_set_new(eo, "Cause", cause   ? json_string(cause)
                                       : error ? json_string("")
                                               : json_null());
      if (st->ql == WF__QL_JSONATA) {
        /* Output and Assign read $states.errorOutput; Output defaults to
         * it. */
        wf__ata_exit exit = {.assign = c->ata_assign, .output = c->output,
                             .error_output = eo};
        return wf__ata_leave(f, st, &exit, eo, c->next);
      }
      /* The catcher's Assign reads the error output. */
      wf__fault fault = WF__FAULT_INIT;
      if (wf__vars_assign(f, c->assign, eo, &fault) != 0) {
        json_decref(eo);
        return wf__state_fault_final(f, st, &fault);
      }
      json_t *out = NULL;
      if (c->result_path.mode == WF__PATH_DEFAULT) {
        out = eo;
      } else if (c->result_path.mode == WF__PATH_NULL) {
        out = json_incref(f->input);
        json_decref(eo);
      } else {
        wf__strbuf detail = WF__STRBUF_INIT;
        int rc = wf__jsonpath_set(&out, c->result_path.path, f->input, eo,
                                  &detail);
        json_decref(eo);
        if (rc != 0) {
          wf__step r = wf__frame_fail(f, WF__JP_SET_ERROR,
                                      wf__strbuf_cstr(&detail));
          wf__strbuf_free(&detail);
          return r;
        }
        wf__strbuf_free(&detail);
      }
      f->input_size = wf__json_size(out, f->exec->engine->payload_limit);
      f->input_normal = false;
      return wf__state_leave(f, st, out, c->next);
    }
  }
  return wf__frame_fail(f, error, cause);
}
