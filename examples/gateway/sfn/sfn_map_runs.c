/* Map Runs: ListMapRuns, DescribeMapRun and UpdateMapRun over the
 * engine's records of its Distributed Map runs (workflow/map_run.h),
 * answered as AWS's API reference shows them. */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

/* ListMapRuns' page without maxResults, as ListExecutions'. */
#define LIST_DEFAULT 100

static const char *status_name(wf_map_run_status s) {
  static const char *const NAMES[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                      "ABORTED"};
  return (unsigned)s < 4 ? NAMES[s] : "RUNNING";
}

static int list_one(const wf_map_run_info *r, void *payload) {
  json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "executionArn",
                        r->execution_arn, "mapRunArn", r->map_run_arn,
                        "stateMachineArn", r->state_machine_arn, "startDate",
                        gw_sfn_time(r->start_ms));
  if (o && r->status != WF_MAP_RUN_RUNNING)
    json_object_set_new(o, "stopDate", gw_sfn_time(r->stop_ms));
  if (o) json_array_append_new(payload, o);
  return 0;
}

void gw_sfn_list_map_runs(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "executionArn", true, 1, 256);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_exec_rec *x = gw_sfn_find_execution(c, arn);
  if (!x) return;
  c->g->store->ops->release_execution(c->g->store, x);
  char *context = gw_sfn_strf("ListMapRuns %s", arn);
  size_t start, n;
  if (!context || !gw_sfn_page_args(c, context, LIST_DEFAULT, &start, &n)) {
    if (!context) gw_sfn_ok(c, NULL);
    free(context);
    return;
  }
  json_t *all = json_array();
  wf_error err;
  if (wf_engine_list_map_runs(c->g->engine, arn, list_one, all, &err) !=
      WF_OK) {
    json_decref(all);
    free(context);
    gw_sfn_error(c->resp, 500, "InternalFailure", "%s", err.message);
    return;
  }
  json_t *o = gw_sfn_page_of(all, "mapRuns", context, start, n);
  free(context);
  gw_sfn_ok(c, o);
}

static json_t *counts(const wf_map_run_counts *k) {
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                   "aborted", (json_int_t)k->aborted, "failed",
                   (json_int_t)k->failed, "failuresNotRedrivable",
                   (json_int_t)k->failures_not_redrivable, "pending",
                   (json_int_t)k->pending, "pendingRedrive",
                   (json_int_t)k->pending_redrive, "resultsWritten",
                   (json_int_t)k->results_written, "running",
                   (json_int_t)k->running, "succeeded",
                   (json_int_t)k->succeeded, "timedOut",
                   (json_int_t)k->timed_out, "total", (json_int_t)k->total);
}

static int describe_one(const wf_map_run_info *r, void *payload) {
  json_t *o = json_pack(
      "{s:s, s:o, s:o, s:s, s:I, s:I, s:o, s:s, s:I, s:f}", "executionArn",
      r->execution_arn, "executionCounts", counts(&r->executions),
      "itemCounts", counts(&r->items), "mapRunArn", r->map_run_arn,
      "maxConcurrency", (json_int_t)r->max_concurrency, "redriveCount",
      (json_int_t)r->redrive_count, "startDate", gw_sfn_time(r->start_ms),
      "status", status_name(r->status), "toleratedFailureCount",
      (json_int_t)r->tolerated_failure_count, "toleratedFailurePercentage",
      r->tolerated_failure_percentage);
  if (o && r->redrive_ms)
    json_object_set_new(o, "redriveDate", gw_sfn_time(r->redrive_ms));
  if (o && r->status != WF_MAP_RUN_RUNNING)
    json_object_set_new(o, "stopDate", gw_sfn_time(r->stop_ms));
  *(json_t **)payload = o;
  return 0;
}

/* A Map Run's ARN, read and checked; NULL with the error answered. */
static const char *map_run_arn(gw_sfn_call *c, gw_sfn_params *p) {
  const char *arn = gw_sfn_str(p, "mapRunArn", true, 1, 2000);
  if (gw_sfn_params_failed(p, c) || !gw_sfn_check_map_run_arn(c, arn))
    return NULL;
  return arn;
}

#define NOT_FOUND "Request references a resource that does not exist."

void gw_sfn_describe_map_run(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = map_run_arn(c, &p);
  if (!arn) return;
  json_t *o = NULL;
  wf_error err;
  int rc = wf_engine_describe_map_run(c->g->engine, arn, describe_one, &o,
                                      &err);
  if (rc == WF_ENOTFOUND)
    gw_sfn_fail_resource(c, "ResourceNotFound", arn, NOT_FOUND);
  else if (rc != WF_OK)
    gw_sfn_error(c->resp, 500, "InternalFailure", "%s", err.message);
  else
    gw_sfn_ok(c, o);
}

void gw_sfn_update_map_run(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  wf_map_run_update u = WF_MAP_RUN_UPDATE_INIT;
  json_t *body = c->body;
  if (json_object_get(body, "maxConcurrency")) {
    u.set |= WF_MAP_RUN_SET_MAX_CONCURRENCY;
    u.max_concurrency = gw_sfn_int(&p, "maxConcurrency", 0, 2147483647, 0);
  }
  if (json_object_get(body, "toleratedFailureCount")) {
    u.set |= WF_MAP_RUN_SET_TOLERATED_COUNT;
    u.tolerated_failure_count =
        gw_sfn_int(&p, "toleratedFailureCount", 0, 2147483647, 0);
  }
  json_t *pct = json_object_get(body, "toleratedFailurePercentage");
  if (pct) {
    u.set |= WF_MAP_RUN_SET_TOLERATED_PERCENTAGE;
    u.tolerated_failure_percentage = json_number_value(pct);
    if (!json_is_number(pct))
      gw_sfn_violation(&p, "toleratedFailurePercentage", NULL,
                       "Member must be a number");
    else if (u.tolerated_failure_percentage < 0)
      gw_sfn_violation(&p, "toleratedFailurePercentage", NULL,
                       "Member must have value greater than or equal to 0");
    else if (u.tolerated_failure_percentage > 100)
      gw_sfn_violation(&p, "toleratedFailurePercentage", NULL,
                       "Member must have value less than or equal to 100");
  }
  const char *arn = map_run_arn(c, &p);
  if (!arn) return;
  wf_error err;
  int rc = wf_engine_update_map_run(c->g->engine, arn, &u, &err);
  if (rc == WF_ENOTFOUND)
    gw_sfn_fail_resource(c, "ResourceNotFound", arn, NOT_FOUND);
  else if (rc == WF_EINVAL)
    gw_sfn_fail(c, "ValidationException", "%s", err.message);
  else if (rc != WF_OK)
    gw_sfn_error(c->resp, 500, "InternalFailure", "%s", err.message);
  else
    gw_sfn_ok(c, json_object());
}
