/* Activities: CreateActivity, DescribeActivity, ListActivities,
 * DeleteActivity and GetActivityTask over the engine's activities
 * (workflow/activity.h), answered as AWS's API reference shows them. A
 * worker answers with SendTaskSuccess/Failure/Heartbeat (sfn_tasks.c).
 *
 * GetActivityTask is a long poll of up to 60 s: it is answered later
 * (gw_response.later), so the connection is suspended and the wait holds
 * no HTTP thread. The wait is cut into slices of a second to notice a
 * shutdown, which answers the empty result at once. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

/* How often a waiting poll looks at the gateway's draining flag. */
#define POLL_SLICE_MS 1000
/* ListActivities' page without maxResults, as ListStateMachines'. */
#define LIST_DEFAULT 100

static bool activity_arn(gw_sfn_call *c, const char *arn) {
  gw_sfn_machine_ref ref;
  bool activity = false;
  if (!gw_sfn_parse_resource_arn(c, arn, &ref, &activity)) return false;
  if (activity) return true;
  gw_sfn_fail(c, "InvalidArn",
              "Invalid Arn: 'Resource type not valid in this context: "
              "stateMachine'");
  return false;
}

static void internal(gw_sfn_call *c, const wf_error *err) {
  gw_sfn_error(c->resp, 500, "InternalFailure", "%s", err->message);
}

void gw_sfn_create_activity(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *name = gw_sfn_str(&p, "name", true, 1, 80);
  json_t *tags = gw_sfn_tags_member(&p, "tags");
  if (gw_sfn_params_failed(&p, c)) {
    json_decref(tags);
    return;
  }
  if (!gw_sfn_name_ok(name)) {
    json_decref(tags);
    gw_sfn_fail(c, "InvalidName", "Invalid Name: '%s'", name);
    return;
  }
  bool oom = false;
  char *tags_text = json_array_size(tags) ? gw_sfn_json_text(tags, &oom) : NULL;
  json_decref(tags);
  wf_activity *a = NULL;
  wf_error err;
  int rc = oom ? WF_ENOMEM
               : wf_engine_activity_create(&a, c->g->engine, name, tags_text,
                                           &err);
  free(tags_text);
  if (rc == WF_ELIMIT) {
    gw_sfn_fail(c, "ActivityLimitExceeded", "%s", err.message);
  } else if (rc == WF_EINVAL) {
    gw_sfn_fail(c, "InvalidName", "Invalid Name: '%s'", name);
  } else if (rc != WF_OK) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "%s",
                 oom ? "out of memory" : err.message);
  } else {
    gw_sfn_ok(c, json_pack("{s:s, s:o}", "activityArn", wf_activity_arn(a),
                           "creationDate",
                           gw_sfn_time(wf_activity_creation_date(a))));
  }
  wf_activity_free(a);
}

static json_t *item(const wf_activity *a) {
  return json_pack("{s:s, s:s, s:o}", "activityArn", wf_activity_arn(a),
                   "name", wf_activity_name(a), "creationDate",
                   gw_sfn_time(wf_activity_creation_date(a)));
}

void gw_sfn_describe_activity(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "activityArn", true, 1, 256);
  if (gw_sfn_params_failed(&p, c) || !activity_arn(c, arn)) return;
  wf_activity *a = NULL;
  wf_error err;
  int rc = wf_engine_activity_describe(&a, c->g->engine, arn, &err);
  if (rc == WF_ENOTFOUND)
    gw_sfn_fail(c, "ActivityDoesNotExist", "Activity Does Not Exist: '%s'",
                arn);
  else if (rc != WF_OK)
    internal(c, &err);
  else
    gw_sfn_ok(c, item(a));
  wf_activity_free(a);
}

static int list_one(const wf_activity *a, void *payload) {
  json_array_append_new(payload, item(a));
  return 0;
}

void gw_sfn_list_activities(gw_sfn_call *c) {
  size_t start, n;
  if (!gw_sfn_page_args(c, "ListActivities", LIST_DEFAULT, &start, &n))
    return;
  json_t *all = json_array();
  wf_error err;
  if (wf_engine_activity_list(c->g->engine, list_one, all, &err) != WF_OK) {
    json_decref(all);
    internal(c, &err);
    return;
  }
  gw_sfn_ok(c, gw_sfn_page_of(all, "activities", "ListActivities", start, n));
}

void gw_sfn_delete_activity(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "activityArn", true, 1, 256);
  if (gw_sfn_params_failed(&p, c) || !activity_arn(c, arn)) return;
  wf_error err;
  if (wf_engine_activity_delete(c->g->engine, arn, &err) != WF_OK)
    internal(c, &err);
  else
    gw_sfn_ok(c, json_object());
}

/* ---- GetActivityTask ---- */

typedef struct poll_wait {
  gateway *g;
  char *arn;
  char *worker;
} poll_wait;

static void poll_wait_free(poll_wait *w) {
  free(w->arn);
  free(w->worker);
  free(w);
}

/* On the core's thread for late answers. */
static void poll_answer(void *arg, gw_response *resp) {
  poll_wait *w = arg;
  gw_server *srv = gw_server_of(w->g);
  gw_sfn_call c = {w->g, NULL, resp, NULL};
  wf_activity_poll_options po = WF_ACTIVITY_POLL_OPTIONS_INIT;
  po.worker_name = w->worker;
  wf_task *t = NULL;
  wf_error err;
  int rc = WF_OK;
  for (int waited = 0; !t && waited < WF_ACTIVITY_POLL_MAX_MS &&
                       !atomic_load(&srv->draining);
       waited += POLL_SLICE_MS) {
    po.timeout_ms = POLL_SLICE_MS;
    rc = wf_engine_activity_get_task(&t, w->g->engine, w->arn, &po, &err);
    if (rc != WF_OK) break;
  }
  if (rc == WF_ENOTFOUND) {
    gw_sfn_fail(&c, "ActivityDoesNotExist", "Activity Does Not Exist: '%s'",
                w->arn);
  } else if (rc == WF_ELIMIT) {
    gw_sfn_fail(&c, "ActivityWorkerLimitExceeded", "%s", err.message);
  } else if (t) {
    const char *input = wf_task_input(t);
    gw_sfn_ok(&c, json_pack("{s:s, s:s}", "taskToken", wf_task_token(t),
                            "input", input ? input : "{}"));
    wf_task_release(t);
  } else {
    /* No task in time (or the gateway is stopping): AWS's empty answer. */
    gw_sfn_ok(&c, json_object());
  }
  poll_wait_free(w);
}

void gw_sfn_get_activity_task(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "activityArn", true, 1, 256);
  const char *worker = gw_sfn_str(&p, "workerName", false, 1, 80);
  if (gw_sfn_params_failed(&p, c) || !activity_arn(c, arn)) return;
  wf_activity *a = NULL;
  wf_error err;
  if (wf_engine_activity_describe(&a, c->g->engine, arn, &err) != WF_OK) {
    gw_sfn_fail(c, "ActivityDoesNotExist", "Activity Does Not Exist: '%s'",
                arn);
    return;
  }
  wf_activity_free(a);
  poll_wait *w = calloc(1, sizeof *w);
  if (w) {
    w->g = c->g;
    w->arn = strdup(arn);
    w->worker = worker ? strdup(worker) : NULL;
  }
  if (!w || !w->arn || (worker && !w->worker)) {
    if (w) poll_wait_free(w);
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    return;
  }
  /* The wait holds no HTTP thread: the core suspends the connection. */
  c->resp->later = poll_answer;
  c->resp->later_arg = w;
}
