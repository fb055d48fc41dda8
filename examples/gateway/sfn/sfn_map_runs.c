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

/* ---- child executions: ListExecutions and DescribeExecution ---- */

/* A page of a run's children: up to `max` matching ones, and the index
 * the next page starts below. */
typedef struct child_page {
  json_t *items;
  size_t max, count;
  int status, redriven;
  int64_t cursor;
} child_page;

static json_t *child_summary(const wf_map_run_child *k) {
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:i}", "executionArn",
      k->execution_arn, "stateMachineArn", k->state_machine_arn, "name",
      k->name, "status", gw_sfn_status_name(k->status), "startDate",
      gw_sfn_time(k->start_ms), "mapRunArn", k->map_run_arn, "itemCount",
      (json_int_t)k->item_count, "redriveCount",
      (json_int_t)k->redrive_count);
  if (o && k->status != WF_EXEC_RUNNING)
    json_object_set_new(o, "stopDate", gw_sfn_time(k->stop_ms));
  /* As an execution's: its last redrive's date, none if never redriven. */
  if (o && k->redrive_count)
    json_object_set_new(o, "redriveDate", gw_sfn_time(k->redrive_ms));
  return o;
}

static int list_child(const wf_map_run_child *k, void *payload) {
  child_page *pg = payload;
  /* A child is redriven by its Map Run's redrive (a STANDARD one). */
  if (pg->redriven >= 0 && (k->redrive_count > 0) != pg->redriven) return 0;
  if (pg->status >= 0 && (int)k->status != pg->status) return 0;
  if (pg->count++ >= pg->max) return 1; /* the one past: there is more */
  json_array_append_new(pg->items, child_summary(k));
  pg->cursor = k->index;
  return 0;
}

void gw_sfn_list_map_run_executions(gw_sfn_call *c, const char *map_run_arn,
                                    int status, int redriven, size_t max,
                                    const char *token) {
  if (!gw_sfn_check_map_run_arn(c, map_run_arn)) return;
  char *context = gw_sfn_strf("ListExecutions\nmapRun %s\n%d\n%d",
                              map_run_arn, status, redriven);
  size_t before = 0;
  if (!context) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    return;
  }
  if (!gw_sfn_page_start(c, token, context, &before)) {
    free(context);
    return;
  }
  child_page pg = {json_array(), max, 0, status, redriven, 0};
  wf_error err;
  /* Newest first, one child at a time: a page of a run of any size reads
   * what it shows and one more, never the whole run. */
  int rc = wf_engine_list_map_run_children(c->g->engine, map_run_arn,
                                           (int64_t)before, list_child, &pg,
                                           &err);
  if (rc == WF_ENOTFOUND) {
    gw_sfn_fail_resource(c, "ResourceNotFound", map_run_arn, NOT_FOUND);
  } else if (rc != WF_OK) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "%s", err.message);
  } else {
    json_t *o = json_pack("{s:O}", "executions", pg.items);
    if (o && pg.count > max) gw_sfn_page_next(o, context, (size_t)pg.cursor);
    gw_sfn_ok(c, o);
  }
  json_decref(pg.items);
  free(context);
}

typedef struct child_answer {
  json_t *o;
  bool data;
} child_answer;

static int describe_child(const wf_map_run_child *k, void *payload) {
  child_answer *a = payload;
  json_t *o = child_summary(k);
  if (!o) return 1;
  json_object_del(o, "itemCount");
  if (a->data && k->input)
    json_object_set_new(o, "input", json_string(k->input));
  json_object_set_new(o, "inputDetails",
                      json_pack("{s:b}", "included", a->data));
  if (k->status == WF_EXEC_SUCCEEDED) {
    if (a->data && k->output)
      json_object_set_new(o, "output", json_string(k->output));
    json_object_set_new(o, "outputDetails",
                        json_pack("{s:b}", "included", a->data));
  }
  if (k->error) json_object_set_new(o, "error", json_string(k->error));
  if (k->cause) json_object_set_new(o, "cause", json_string(k->cause));
  /* A child that did not succeed is run again by its Map Run's redrive. */
  bool again = k->status != WF_EXEC_RUNNING &&
               k->status != WF_EXEC_SUCCEEDED;
  json_object_set_new(o, "redriveStatus",
                      json_string(again ? "REDRIVABLE_BY_MAP_RUN"
                                        : "NOT_REDRIVABLE"));
  if (!again) {
    char *why = gw_sfn_strf("Execution is %s and cannot be redriven",
                            gw_sfn_status_name(k->status));
    if (why) json_object_set_new(o, "redriveStatusReason", json_string(why));
    free(why);
  }
  a->o = o;
  return 1;
}

bool gw_sfn_is_map_run_child(const char *arn) {
  /* Only a child's ARN names a machine with a label: MACHINE/LABEL. */
  const char *x = strstr(arn, ":execution:");
  return x && strchr(x, '/');
}

bool gw_sfn_describe_map_run_child(gw_sfn_call *c, const char *arn,
                                   bool data) {
  if (!gw_sfn_is_map_run_child(arn)) return false;
  child_answer a = {NULL, data};
  if (wf_engine_describe_map_run_child(c->g->engine, arn, describe_child, &a,
                                       NULL) != WF_OK)
    return false;
  gw_sfn_ok(c, a.o);
  return true;
}

/* ---- DescribeStateMachineForExecution of a child ---- */

/* What the state machine of a child is (wf_map_run_child's strings
 * copied). */
typedef struct child_machine {
  char *parent, *machine, *run;
} child_machine;

static int keep_machine(const wf_map_run_child *k, void *payload) {
  child_machine *cm = payload;
  cm->parent = strdup(k->parent_arn);
  cm->machine = strdup(k->state_machine_arn);
  cm->run = strdup(k->map_run_arn);
  return 1;
}

/* The ItemProcessor (or Iterator) of the Map state labelled `label` (its
 * Label, else its name) among `states` and the states inside them
 * (borrowed), or NULL. */
static json_t *processor_of(json_t *states, const char *label) {
  const char *name;
  json_t *st;
  json_object_foreach(states, name, st) {
    const char *type = json_string_value(json_object_get(st, "Type"));
    json_t *proc = json_object_get(st, "ItemProcessor");
    if (!proc) proc = json_object_get(st, "Iterator");
    if (type && strcmp(type, "Map") == 0) {
      const char *l = json_string_value(json_object_get(st, "Label"));
      if (strcmp(l ? l : name, label) == 0) return proc;
    }
    json_t *found = proc ? processor_of(json_object_get(proc, "States"),
                                        label)
                         : NULL;
    size_t i;
    json_t *branch;
    json_array_foreach(json_object_get(st, "Branches"), i, branch) {
      if (found) break;
      found = processor_of(json_object_get(branch, "States"), label);
    }
    if (found) return found;
  }
  return NULL;
}

/* The child workflow's definition: the Map state's ItemProcessor, a state
 * machine of its own (its ProcessorConfig the Map's business); new, or
 * NULL when the parent's definition has no such Map state. */
static char *child_definition(const char *parent_def, const char *label) {
  json_t *def = json_loads(parent_def, 0, NULL);
  json_t *proc = def ? processor_of(json_object_get(def, "States"), label)
                     : NULL;
  char *text = NULL;
  if (proc) {
    json_t *copy = json_deep_copy(proc);
    json_object_del(copy, "ProcessorConfig");
    /* It runs in its parent's query language unless it names its own. */
    json_t *ql = json_object_get(def, "QueryLanguage");
    if (ql && !json_object_get(copy, "QueryLanguage"))
      json_object_set(copy, "QueryLanguage", ql);
    text = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(copy);
  }
  json_decref(def);
  return text;
}

void gw_sfn_describe_map_run_child_machine(gw_sfn_call *c, const char *arn) {
  child_machine cm = {NULL, NULL, NULL};
  wf_error err;
  int rc = wf_engine_describe_map_run_child(c->g->engine, arn, keep_machine,
                                            &cm, &err);
  json_t *o = NULL;
  if (rc == WF_ENOTFOUND) {
    gw_sfn_fail(c, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'",
                arn);
  } else if (rc != WF_OK || !cm.parent || !cm.machine || !cm.run) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "%s",
                 rc != WF_OK ? err.message : "out of memory");
  } else {
    o = gw_sfn_machine_for_execution(c, cm.parent);
  }
  /* ...:stateMachine:MACHINE/LABEL: its name MACHINE/LABEL. */
  const char *name = cm.machine ? strstr(cm.machine, ":stateMachine:") : NULL;
  const char *label = name ? strchr(name, '/') : NULL;
  char *def = o && label
                  ? child_definition(
                        json_string_value(json_object_get(o, "definition")),
                        label + 1)
                  : NULL;
  if (o && !def) {
    gw_sfn_error(c->resp, 500, "InternalFailure",
                 "the definition of '%s' has no Map state '%s'", cm.parent,
                 label ? label + 1 : "");
  } else if (o) {
    json_object_set_new(o, "stateMachineArn", json_string(cm.machine));
    json_object_set_new(o, "name",
                        json_string(name + strlen(":stateMachine:")));
    json_object_set_new(o, "definition", json_string(def));
    json_object_set_new(o, "mapRunArn", json_string(cm.run));
    json_object_set_new(o, "label", json_string(label + 1));
    gw_sfn_ok(c, json_incref(o));
  }
  json_decref(o);
  free(def);
  free(cm.parent);
  free(cm.machine);
  free(cm.run);
}
