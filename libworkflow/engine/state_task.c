/* The Task state: build the task input, answer it from a mock or call the
 * handler registered for the Resource (inline or on the worker pool), then
 * process the outcome through Retry, Catch and the output fields. History
 * events follow the resource family AWS reports: Lambda function ARNs give
 * LambdaFunction* events, activities Activity*, integrations Task*. */
#include <stdio.h>
#include <string.h>

#include "activity_impl.h"
#include "alloc.h"
#include "json_text.h"
#include "step.h"

/* AWS's default and maximum task timeout. */
#define WF__TASK_TIMEOUT_DEFAULT 99999999LL

static wf__event_type ev_for(wf__task_family fam, wf__event_type task_ev) {
  static const wf__event_type lambda[] = {
      WF__EV_LAMBDA_SCHEDULED, WF__EV_LAMBDA_STARTED, WF__EV_LAMBDA_SUCCEEDED,
      WF__EV_LAMBDA_FAILED, WF__EV_LAMBDA_TIMED_OUT};
  static const wf__event_type activity[] = {
      WF__EV_ACTIVITY_SCHEDULED, WF__EV_ACTIVITY_STARTED,
      WF__EV_ACTIVITY_SUCCEEDED, WF__EV_ACTIVITY_FAILED,
      WF__EV_ACTIVITY_TIMED_OUT};
  int i;
  switch (task_ev) {
    case WF__EV_TASK_SCHEDULED: i = 0; break;
    case WF__EV_TASK_STARTED: i = 1; break;
    case WF__EV_TASK_SUCCEEDED: i = 2; break;
    case WF__EV_TASK_FAILED: i = 3; break;
    default: i = 4; break;
  }
  if (fam == WF__FAMILY_LAMBDA) return lambda[i];
  if (fam == WF__FAMILY_ACTIVITY) return activity[i];
  return task_ev;
}

/* TimeoutSecondsPath / HeartbeatSecondsPath: read from the state's input
 * as it entered, whatever InputPath and Parameters make of it (AWS, per
 * LocalStack's recorded snapshots). */
static int seconds_from_path(wf__frame *f, const wf__jsonpath *p,
                             const char *field, int64_t *out,
                             wf__fault *fault) {
  wf__strbuf detail = WF__STRBUF_INIT;
  json_t *v = NULL;
  if (wf__frame_eval_path(&v, f, p, f->input, &detail) != 0) {
    wf__fault_set(fault, "States.Runtime", "Invalid path '%s' : %s",
                  wf__jsonpath_text(p), wf__strbuf_cstr(&detail));
    wf__strbuf_free(&detail);
    return -1;
  }
  wf__strbuf_free(&detail);
  if (!json_is_integer(v) || json_integer_value(v) < 1) {
    char *text = wf__json_shown(v);
    wf__fault_set(fault, "States.Runtime",
                  "The %s field refers to value \"%s\" which is not a valid "
                  "positive integer: %s",
                  field, text ? text : "", wf__jsonpath_text(p));
    wf__free(text);
    json_decref(v);
    return -1;
  }
  *out = json_integer_value(v);
  json_decref(v);
  return 0;
}

/* What AWS answers for a resource nobody serves. */
static void unknown_resource(wf__frame *f, const wf__state *st, json_t *input,
                             const char **error, char **cause) {
  wf_engine *e = f->exec->engine;
  const char *fn = NULL;
  if (wf__task_family_of(st->resource) == WF__FAMILY_LAMBDA)
    fn = st->resource;
  else if (strcmp(st->resource, "arn:aws:states:::lambda:invoke") == 0)
    fn = json_string_value(json_object_get(input, "FunctionName"));
  if (fn) {
    wf__strbuf b = WF__STRBUF_INIT;
    char uuid[37];
    wf__uuid_v4(uuid, wf__rng_next(&f->exec->rng), wf__rng_next(&f->exec->rng));
    wf__strbuf_puts(&b, "Function not found: ");
    size_t colons = 0;
    for (const char *c = fn; *c; c++) colons += *c == ':';
    if (strncmp(fn, "arn:", 4) != 0)
      wf__strbuf_printf(&b, "arn:aws:lambda:%s:%s:function:%s", e->region,
                        e->account, fn);
    else
      wf__strbuf_puts(&b, fn);
    /* Unqualified names resolve to the $LATEST version. */
    if (strncmp(fn, "arn:", 4) != 0 || colons == 6)
      wf__strbuf_puts(&b, ":$LATEST");
    wf__strbuf_printf(&b, " (Service: AWSLambda; Status Code: 404; Error "
                      "Code: ResourceNotFoundException; Request ID: %s; "
                      "Proxy: null)", uuid);
    *error = "Lambda.ResourceNotFoundException";
    *cause = wf__strbuf_take(&b);
    return;
  }
  wf__strbuf b = WF__STRBUF_INIT;
  wf__strbuf_printf(&b, "No handler is registered for the resource '%s'",
                    st->resource);
  *error = "States.TaskFailed";
  *cause = wf__strbuf_take(&b);
}

static wf__step outcome(wf__frame *f, const wf__state *st);

/* Settle the task on the stepping thread (a mock, a refusal, no handler),
 * then process its outcome. */
static wf__step settle_now(wf__frame *f, const wf__state *st, bool ok,
                           json_t *output, const char *error,
                           const char *cause) {
  wf_task *t = f->task;
  t->in_inline_call = true;
  t->inline_thread = pthread_self();
  wf__task_complete(t, ok, output, error, cause);
  t->in_inline_call = false;
  return outcome(f, st);
}

/* The task exists before the state's input is processed: its token is
 * part of the context ($$.Task.Token) that Parameters may read. */
static wf__step drop_task(wf__frame *f, const wf__state *st,
                          wf__fault *fault) {
  wf__task_release(f->task);
  f->task = NULL;
  json_decref(f->ctx);
  f->ctx = NULL;
  return wf__state_fault(f, st, fault);
}

static wf__step dispatch(wf__frame *f, const wf__state *st) {
  wf_execution *x = f->exec;
  wf_engine *e = x->engine;
  wf__fault fault = WF__FAULT_INIT;
  wf_task *t = wf__task_new(f, NULL, st->resource, f->retry_count, 0);
  if (!t) {
    wf__fault_set(&fault, "States.Runtime", "out of memory");
    return wf__state_fault(f, st, &fault);
  }
  f->task = t;
  json_decref(f->ctx); /* built before the task existed */
  f->ctx = NULL;
  json_t *eff;
  if (wf__state_input(f, st, &eff, &fault) != 0)
    return drop_task(f, st, &fault);
  json_t *input;
  if (wf__state_arguments(f, st, eff, &input, &fault) != 0)
    return drop_task(f, st, &fault);
  int64_t timeout = st->timeout_seconds, heartbeat = st->heartbeat_seconds;
  if ((st->ata[WF__ATA_TIMEOUT] &&
       wf__ata_integer(f, st->ata[WF__ATA_TIMEOUT], 1,
                       WF__TASK_TIMEOUT_DEFAULT, &timeout, &fault) != 0) ||
      (st->ata[WF__ATA_HEARTBEAT] &&
       wf__ata_integer(f, st->ata[WF__ATA_HEARTBEAT], 1,
                       WF__TASK_TIMEOUT_DEFAULT, &heartbeat, &fault) != 0) ||
      (st->timeout_path &&
       seconds_from_path(f, st->timeout_path, "TimeoutSecondsPath", &timeout,
                         &fault) != 0) ||
      (st->heartbeat_path &&
       seconds_from_path(f, st->heartbeat_path, "HeartbeatSecondsPath",
                         &heartbeat, &fault) != 0)) {
    json_decref(input);
    return drop_task(f, st, &fault);
  }
  int64_t now = wf__engine_now(e);
  int64_t limit_s = timeout ? timeout : WF__TASK_TIMEOUT_DEFAULT;
  wf__task_family fam = wf__task_family_of(st->resource);
  t->input = json_incref(input);
  t->deadline = now + limit_s * 1000;
  t->heartbeat_seconds = heartbeat;
  f->task = t;
  /* An activity's task starts when a worker takes it (activity.c). */
  bool queue = fam == WF__FAMILY_ACTIVITY &&
               !(x->mock_case && json_object_get(x->mock_case, st->name)) &&
               wf__machine_allows(x->machine, st->resource);
  /* No such activity: a handler registered for the ARN serves it (found
   * here, called below: neither mocked nor refused), else AWS fails the
   * execution without an ActivityScheduled. */
  wf__handler *h = NULL;
  if (queue && !wf__activity_exists(e, st->resource)) {
    if (!(h = wf__handler_find(e, st->resource))) {
      json_decref(input);
      wf__fault_set(&fault, "States.Runtime",
                    "The activity %s does not exist.", st->resource);
      return drop_task(f, st, &fault);
    }
    queue = false;
  }
  wf__event_args scheduled = {.type = ev_for(fam, WF__EV_TASK_SCHEDULED),
                              .st = st, .data = input, .number = timeout,
                              .number2 = heartbeat};
  wf__history_record(x, f, &scheduled);
  if (!queue)
    wf__history_add(x, f, ev_for(fam, WF__EV_TASK_STARTED), st, NULL, NULL,
                    NULL);
  json_decref(input);

  bool ok, missing;
  json_t *out = NULL;
  const char *merr = NULL, *mcause = NULL;
  if (wf__mock_next(x, st, &ok, &out, &merr, &mcause, &missing)) {
    if (missing) {
      wf__fault_set(&fault, "States.Runtime",
                    "No mocked response was configured for invocation %u of "
                    "the state '%s'",
                    f->retry_count, st->name);
      return drop_task(f, st, &fault);
    }
    return settle_now(f, st, ok, out, merr, mcause);
  }
  if (!wf__machine_allows(x->machine, st->resource)) {
    /* Least privilege (the seed's IAM role): refuse and audit. */
    wf__log_denied(x, st->name, st->resource);
    wf__strbuf cause = WF__STRBUF_INIT;
    wf__strbuf_printf(&cause,
                      "The state machine '%s' is not allowed to invoke the "
                      "resource '%s': it is not in the machine's allowlist",
                      x->machine->name, st->resource);
    wf__step r = settle_now(f, st, false, NULL, "States.Permissions",
                            wf__strbuf_cstr(&cause));
    wf__strbuf_free(&cause);
    return r;
  }
  if (queue && wf__activity_enqueue(e, t)) {
    wf__task_arm_timeouts(t, timeout, now);
    f->park = WF__PARK_TASK;
    f->phase = WF__PH_TASK_DONE;
    wf__task_publish(t);
    return WF__STEP_PARK;
  }
  if (queue) /* deleted meanwhile: its handler, if any, or none */
    wf__history_add(x, f, ev_for(fam, WF__EV_TASK_STARTED), st, NULL, NULL,
                    NULL);
  if (!h) h = wf__handler_find(e, st->resource);
  if (!h) {
    const char *err;
    char *cause = NULL;
    unknown_resource(f, st, t->input, &err, &cause);
    wf__step r = settle_now(f, st, false, NULL, err, cause);
    wf__free(cause);
    return r;
  }
  wf__task_arm_timeouts(t, timeout, now);
  /* Parked before the call: a snapshot taken meanwhile (the commit a
   * token needs before it is handed out) shows the frame waiting for its
   * task. A callback task's handler gets the token in its input: with a
   * durable store it is called once the task is committed. On a shared
   * store every handler is: a process that takes the execution over
   * after a crash then knows whether it was called (and calls it again
   * as a redelivery) or not (and calls it for the first time). */
  f->park = WF__PARK_TASK;
  f->phase = WF__PH_TASK_DONE;
  bool callback = strstr(st->resource, ".waitForTaskToken") != NULL;
  if (e->durable && (callback || wf__store_shared(e->store))) {
    t->defer_call = true;
    t->token_durable = true;
  }
  /* The token in a callback task's input may come back before the call
   * returns (a handler on the pool hands it on at once): it is known
   * first. */
  if (callback) wf__task_publish(t);
  /* A Map Run is listed, and its child running, before the child's
   * handler has its task: a volatile store writes their records here, at
   * once (a durable one with the commit that follows). */
  if (!e->durable && f->exec->ndirty_runs) wf__commit_request(f->exec, 0, NULL);
  wf__task_call(t, h);
  if (t->status != WF__TASK_PENDING) {
    f->park = WF__PARK_NONE;
    return outcome(f, st);
  }
  /* Pending: wait for the handler, a token call or a timeout. */
  wf__task_publish(t);
  return WF__STEP_PARK;
}

/* The result size AWS allows; the cause names the Lambda ARN for functions
 * and the service (e.g. 'lambda') for integrations. */
static wf__step result_too_large(wf__frame *f, const wf__state *st,
                                 wf__task_family fam) {
  char who[256];
  const char *res = st->resource;
  if (wf__task_family_of(res) != WF__FAMILY_TASK ||
      strncmp(res, "arn:aws:states:::", 17) != 0) {
    snprintf(who, sizeof who, "%s", res);
  } else {
    const char *svc = res + 17;
    const char *colon = strchr(svc, ':');
    snprintf(who, sizeof who, "%.*s",
             (int)(colon ? (size_t)(colon - svc) : strlen(svc)), svc);
  }
  char cause[512];
  snprintf(cause, sizeof cause,
           "The state/task '%s' returned a result with a size exceeding the "
           "maximum number of bytes service limit.",
           who);
  wf__history_add(f->exec, f, ev_for(fam, WF__EV_TASK_FAILED), st, NULL,
                  "States.DataLimitExceeded", cause);
  return wf__state_error(f, st, "States.DataLimitExceeded", cause);
}

static wf__step outcome(wf__frame *f, const wf__state *st) {
  wf_execution *x = f->exec;
  wf_task *t = f->task;
  wf__task_family fam = wf__task_family_of(st->resource);
  f->task = NULL;
  bool ok = t->ok;
  json_t *output = t->output;
  t->output = NULL;
  char *error = t->error, *cause = t->cause;
  bool heartbeat_missed = t->heartbeat_missed;
  t->error = t->cause = NULL;
  wf__task_release(t);
  wf__step r;
  if (ok) {
    size_t limit = x->engine->payload_limit;
    if (wf__json_size(output, limit) > limit) {
      json_decref(output);
      return result_too_large(f, st, fam);
    }
    wf__history_add(x, f, ev_for(fam, WF__EV_TASK_SUCCEEDED), st, output,
                    NULL, NULL);
    r = wf__state_result(f, st, output);
  } else {
    bool timed_out = error && strcmp(error, "States.Timeout") == 0;
    wf__history_add(x, f,
                    ev_for(fam, timed_out ? WF__EV_TASK_TIMED_OUT
                                          : WF__EV_TASK_FAILED),
                    st, NULL, error, cause);
    /* A missed heartbeat is States.Timeout, which a States.HeartbeatTimeout
     * matcher also catches. */
    f->heartbeat_fault = heartbeat_missed;
    r = wf__state_error(f, st, error, cause);
    f->heartbeat_fault = false;
  }
  wf__free(error);
  wf__free(cause);
  return r;
}

wf__step wf__run_task(wf__frame *f, const wf__state *st) {
  switch (f->phase) {
    case WF__PH_TASK_DONE:
      return outcome(f, st);
    case WF__PH_RETRY:
      return dispatch(f, st);
    default:
      wf__state_enter(f, st);
      return dispatch(f, st);
  }
}

/* A task in flight when the engine stopped: its handler is called again,
 * on the worker pool, told that this may be a redelivery (no lock held). */
void wf__task_redeliver(wf_task *t) {
  wf__frame *f = t->frame;
  wf_execution *x = f->exec;
  t->redelivered = true;
  if (wf__task_family_of(t->resource) == WF__FAMILY_ACTIVITY &&
      wf__activity_requeue(x->engine, t))
    return;
  /* The task's resource, not the frame's state: the frame may have moved
   * on if the task timed out meanwhile. */
  wf__handler *h = wf__handler_find(x->engine, t->resource);
  if (h) {
    t->handler = h;
    wf__task_call_committed(t);
    return;
  }
  const char *err = NULL;
  char *cause = NULL;
  pthread_mutex_lock(&x->lock);
  if (t->status == WF__TASK_PENDING)
    unknown_resource(f, f->scope->states[f->state], t->input, &err, &cause);
  pthread_mutex_unlock(&x->lock);
  if (err) wf__task_complete(t, false, NULL, err, cause);
  wf__free(cause);
}
