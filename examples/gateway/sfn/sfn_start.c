/* Starting executions. StartExecution runs the machine's current revision,
 * a version ("<machine ARN>:<n>", kept by the execution whatever happens
 * to the machine later), an alias ("<machine ARN>:<name>": a version its
 * weights draw, recorded with the execution) or, with Step Functions Local's
 * "<machine ARN>#<test case>", a test case of aws.mockConfigFile. The
 * engine records the execution in its store before it answers; a name
 * used again is AWS's idempotent start (the same input while it runs) or
 * ExecutionAlreadyExists. StartSyncExecution (EXPRESS machines only) waits
 * for the end and answers the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

static const char *const INCLUDED[] = {"ALL_DATA", "METADATA_ONLY", NULL};

typedef struct start_args {
  const char *arn, *name, *input, *included;
  gw_sfn_machine_ref ref;
} start_args;

static bool read_args(gw_sfn_call *c, start_args *a, bool sync) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  a->arn = gw_sfn_str(&p, "stateMachineArn", true, 1, 256);
  a->name = gw_sfn_str(&p, "name", false, 1, 80);
  a->input = gw_sfn_str(&p, "input", false, 0, 262144);
  gw_sfn_str(&p, "traceHeader", false, 0, 256);
  a->included = sync ? gw_sfn_enum(&p, "includedData", INCLUDED) : NULL;
  if (gw_sfn_params_failed(&p, c)) return false;
  if (!a->input) a->input = "{}";
  if (a->name && !gw_sfn_name_ok(a->name)) {
    gw_sfn_fail(c, "InvalidName", "Invalid Name: '%s'", a->name);
    return false;
  }
  return gw_sfn_parse_machine_arn(
      c, a->arn,
      GW_SFN_ALLOW_VERSION | GW_SFN_ALLOW_TEST_CASE | GW_SFN_ALLOW_ALIAS,
      &a->ref);
}

/* Through an alias: the version its weights draw, in *rev. */
static bool alias_version(gw_sfn_call *c, const gw_sfn_machine_ref *ref,
                          const gw_machine_rec *m, const gw_revision **rev,
                          char *alias_arn, size_t n) {
  const gw_alias *al = gw_sfn_alias_find(c, m, ref);
  if (!al) return false;
  int version = gw_sfn_alias_pick(al);
  for (size_t i = 0; i < m->nversions; i++)
    if (m->versions[i].version == version) {
      *rev = &m->versions[i];
      snprintf(alias_arn, n, "%s", al->arn);
      return true;
    }
  /* A version an alias routes to cannot be deleted (sfn_versions.c). */
  gw_sfn_error(c->resp, 500, "InternalFailure",
               "the alias routes to version %d, which is gone", version);
  return false;
}

gw_machine_rec *gw_sfn_machine_to_run(gw_sfn_call *c,
                                     const gw_sfn_machine_ref *ref,
                                     const gw_revision **rev,
                                     char alias_arn[300]) {
  gw_machine_rec *m = gw_sfn_machine_find(c, ref, rev);
  alias_arn[0] = '\0';
  if (m && m->deleting) {
    gw_sfn_fail(c, "StateMachineDeleting",
                "State Machine is being deleted: '%s'", m->arn);
    gw_sfn_machine_release(c, m);
    return NULL;
  }
  if (m && ref->alias[0] && !alias_version(c, ref, m, rev, alias_arn, 300)) {
    gw_sfn_machine_release(c, m);
    return NULL;
  }
  return m;
}

/* The library's refusal in AWS's words. */
static void start_failed(gw_sfn_call *c, int rc, const wf_error *err,
                         const gw_machine_rec *m, const char *name) {
  switch (rc) {
    case WF_EPARSE:
      gw_sfn_fail(c, "InvalidExecutionInput",
                  "Invalid State Machine Execution Input: '%s'", err->message);
      break;
    case WF_EEXIST: /* "Execution Already Exists: '<arn>'" */
      gw_sfn_fail(c, "ExecutionAlreadyExists", "%s", err->message);
      break;
    case WF_EBUSY: /* engine.maxRunning executions are running */
      gw_sfn_fail(c, "ExecutionLimitExceeded", "%s", err->message);
      break;
    case WF_ELIMIT: /* over the engine's payload limit */
    case WF_EINVAL: /* a test case the mock configuration lacks */
    case WF_EUNSUPPORTED:
      gw_sfn_fail(c, "ValidationException", "%s", err->message);
      break;
    case WF_ESTATE:
      gw_sfn_error(c->resp, 503, "ServiceUnavailable",
                   "the gateway is shutting down");
      break;
    default:
      gw_sfn_error(c->resp, 500, "InternalFailure", "%s", err->message);
  }
}

static wf_execution *start(gw_sfn_call *c, const start_args *a,
                           const gw_machine_rec *m, const gw_revision *rev,
                           const char *alias_arn, char name[40]) {
  if (!a->name) gw_execution_name(name);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = a->name ? a->name : name;
  so.correlation_id = c->req->correlation_id;
  so.role_arn = m->role_arn;
  so.test_case = a->ref.test_case[0] ? a->ref.test_case : NULL;
  /* Listed under the alias or version it was started with, if any. */
  so.machine_arn = *alias_arn ? alias_arn : rev->version ? rev->arn : m->arn;
  wf_execution *x = NULL;
  wf_error err;
  int rc = wf_engine_start(&x, c->g->engine, rev->machine, a->input, &so, &err);
  if (rc != WF_OK) start_failed(c, rc, &err, m, so.name);
  gw_store *s = c->g->store;
  /* Express executions are not described, so there is nothing to keep. */
  if (x && *alias_arn && m->type != WF_MACHINE_EXPRESS &&
      s->ops->note_alias_version(s, wf_execution_arn(x), rev->arn) != WF_OK) {
    /* Runs, but DescribeExecution could not say on which version. */
    gw_sfn_error(c->resp, 500, "InternalFailure",
                 "the execution started, but its version was not recorded");
    wf_execution_free(x);
    x = NULL;
  }
  return x;
}

void gw_sfn_start_execution(gw_sfn_call *c) {
  start_args a;
  const gw_revision *rev;
  char name[40];
  if (!read_args(c, &a, false)) return;
  char alias_arn[300];
  gw_machine_rec *m = gw_sfn_machine_to_run(c, &a.ref, &rev, alias_arn);
  if (!m) return;
  wf_execution *x = start(c, &a, m, rev, alias_arn, name);
  gw_sfn_machine_release(c, m);
  if (!x) return; /* answered */
  gw_sfn_ok(c, json_pack("{s:s, s:o}", "executionArn", wf_execution_arn(x),
                         "startDate",
                         gw_sfn_time(wf_execution_start_time(x))));
  wf_execution_free(x);
}

/* Wait for the end. Once the gateway shuts down, the execution has until
 * listen.shutdownTimeoutSeconds, like requests in flight, then stops. */
static void wait_for(gateway *g, wf_execution *x) {
  gw_server *srv = gw_server_of(g);
  double deadline = 0;
  while (wf_execution_wait(x, 200) == WF_ETIMEDOUT) {
    if (!atomic_load(&srv->draining)) continue;
    if (!deadline)
      deadline = gw_mono_ms() + g->cfg->listen.shutdown_timeout_s * 1e3;
    else if (gw_mono_ms() > deadline)
      wf_execution_stop(x, "Gateway.ShuttingDown",
                        "The gateway shut down before the execution ended");
  }
}

/* Express executions are billed by the 100 ms, at 64 MB. */
static json_t *billing(int64_t ms) {
  int64_t billed = ms <= 0 ? 100 : (ms + 99) / 100 * 100;
  return json_pack("{s:I, s:I}", "billedMemoryUsedInMB", (json_int_t)64,
                   "billedDurationInMilliseconds", (json_int_t)billed);
}

/* A started StartSyncExecution, answered later (gw_response.later): what
 * the answer needs once the request is gone. */
typedef struct sync_wait {
  gateway *g;
  wf_execution *x;
  char *machine_arn;
  char *input;
  bool data; /* includedData ALL_DATA */
} sync_wait;

static json_t *sync_result(const sync_wait *w) {
  wf_execution *x = w->x;
  const char *machine_arn = w->machine_arn;
  wf_exec_status st = wf_execution_status(x);
  int64_t t0 = wf_execution_start_time(x), t1 = wf_execution_stop_time(x);
  json_t *o =
      json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "executionArn",
                wf_execution_arn(x), "stateMachineArn", machine_arn, "name",
                wf_execution_name(x), "startDate", gw_sfn_time(t0), "stopDate",
                gw_sfn_time(t1), "status",
                /* SUCCEEDED, FAILED or TIMED_OUT: a stop reads as a failure. */
                st == WF_EXEC_ABORTED ? "FAILED" : gw_sfn_status_name(st),
                "billingDetails", billing(t1 - t0));
  if (!o) return NULL;
  if (wf_execution_error(x))
    json_object_set_new(o, "error", json_string(wf_execution_error(x)));
  if (wf_execution_cause(x))
    json_object_set_new(o, "cause", json_string(wf_execution_cause(x)));
  bool data = w->data;
  if (data) json_object_set_new(o, "input", json_string(w->input));
  json_object_set_new(o, "inputDetails", json_pack("{s:b}", "included", data));
  if (st == WF_EXEC_SUCCEEDED) {
    if (data)
      json_object_set_new(o, "output", json_string(wf_execution_output(x)));
    json_object_set_new(o, "outputDetails",
                        json_pack("{s:b}", "included", data));
  }
  return o;
}

static void sync_wait_free(sync_wait *w) {
  wf_execution_free(w->x);
  free(w->machine_arn);
  free(w->input);
  free(w);
}

/* On the core's thread for late answers: wait, then answer. */
static void sync_answer(void *arg, gw_response *resp) {
  sync_wait *w = arg;
  wait_for(w->g, w->x);
  gw_sfn_call c = {w->g, NULL, resp, NULL};
  gw_sfn_ok(&c, sync_result(w)); /* NULL (no memory) answers 500 */
  sync_wait_free(w);
}

void gw_sfn_start_sync_execution(gw_sfn_call *c) {
  start_args a;
  const gw_revision *rev;
  char name[40];
  if (!read_args(c, &a, true)) return;
  char alias_arn[300];
  gw_machine_rec *m = gw_sfn_machine_to_run(c, &a.ref, &rev, alias_arn);
  if (!m) return;
  if (m->type != WF_MACHINE_EXPRESS) {
    gw_sfn_fail(c, "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state "
                "machine");
    gw_sfn_machine_release(c, m);
    return;
  }
  sync_wait *w = calloc(1, sizeof *w);
  if (w) {
    w->g = c->g;
    w->machine_arn = strdup(m->arn);
    w->input = strdup(a.input);
    w->data = !a.included || strcmp(a.included, "ALL_DATA") == 0;
  }
  if (!w || !w->machine_arn || !w->input) {
    gw_sfn_machine_release(c, m);
    if (w) sync_wait_free(w);
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    return;
  }
  w->x = start(c, &a, m, rev, alias_arn, name);
  gw_sfn_machine_release(c, m);
  if (!w->x) { /* start() has answered why */
    sync_wait_free(w);
    return;
  }
  /* The wait holds no HTTP thread: the core suspends the connection. */
  c->resp->later = sync_answer;
  c->resp->later_arg = w;
}
