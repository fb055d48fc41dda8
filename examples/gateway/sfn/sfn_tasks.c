/* Task tokens: SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat
 * complete (or keep alive) a task waiting for its token, and
 * aws.callbackResources names the Task resources whose tasks do nothing
 * but wait: the callback pattern (".waitForTaskToken") with the worker
 * outside, learning the token from the task's parameters ($$.Task.Token)
 * in GetExecutionHistory or wherever the machine sends it. */
#include <stdio.h>
#include <string.h>

#include "sfn.h"

/* The task stays pending: its token completes it. */
static void await_token(wf_task *task, void *payload) {
  (void)task;
  (void)payload;
}

int gw_sfn_tasks_register(gw_server *srv, char *msg, size_t msg_size) {
  char *const *list = srv->g.cfg->aws.callback_resources;
  for (size_t i = 0; list && list[i]; i++) {
    char resource[512];
    size_t n = strlen(list[i]);
    unsigned flags = WF_HANDLER_INLINE;
    if (n && list[i][n - 1] == '*') { /* a prefix */
      n--;
      flags |= WF_HANDLER_PREFIX;
    }
    wf_error err;
    if (n >= sizeof resource) {
      snprintf(msg, msg_size, "aws.callbackResources[%zu]: too long", i);
      return -1;
    }
    memcpy(resource, list[i], n);
    resource[n] = '\0';
    if (wf_engine_register_handler(srv->g.engine, resource, await_token, NULL,
                                   flags, &err) != WF_OK) {
      snprintf(msg, msg_size, "aws.callbackResources[%zu]: %s", i, err.message);
      return -1;
    }
  }
  return 0;
}

/* The engine's tokens are 32 lower-case hex digits: anything else was
 * never a token (InvalidToken), while a well-formed one the engine does
 * not know belongs to a task that has ended (TaskTimedOut). */
static bool token_ok(gw_sfn_call *c, const char *token) {
  if (strlen(token) == 32 && strspn(token, "0123456789abcdef") == 32)
    return true;
  gw_sfn_fail(c, "InvalidToken", "Invalid Token: 'Invalid token'");
  return false;
}

static void sent(gw_sfn_call *c, int rc, const wf_error *err) {
  switch (rc) {
    case WF_OK:
      gw_sfn_ok(c, json_object());
      break;
    case WF_ENOTFOUND:
      gw_sfn_fail(c, "TaskTimedOut",
                  "Task Timed Out: 'Provided task does not exist anymore'");
      break;
    case WF_EPARSE:
      gw_sfn_fail(c, "InvalidOutput", "Invalid Output: '%s'", err->message);
      break;
    case WF_ELIMIT:
      gw_sfn_fail(c, "ValidationException", "%s", err->message);
      break;
    default:
      gw_sfn_error(c->resp, 500, "InternalFailure", "%s", err->message);
  }
}

void gw_sfn_send_task_success(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *token = gw_sfn_str(&p, "taskToken", true, 1, 2048);
  const char *output = gw_sfn_str(&p, "output", true, 0, 262144);
  if (gw_sfn_params_failed(&p, c) || !token_ok(c, token)) return;
  wf_error err;
  sent(c, wf_engine_send_task_success(c->g->engine, token, output, &err), &err);
}

void gw_sfn_send_task_failure(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *token = gw_sfn_str(&p, "taskToken", true, 1, 2048);
  const char *error = gw_sfn_str(&p, "error", false, 0, 256);
  const char *cause = gw_sfn_str(&p, "cause", false, 0, 32768);
  if (gw_sfn_params_failed(&p, c) || !token_ok(c, token)) return;
  wf_error err;
  sent(c, wf_engine_send_task_failure(c->g->engine, token, error, cause, &err),
       &err);
}

void gw_sfn_send_task_heartbeat(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *token = gw_sfn_str(&p, "taskToken", true, 1, 2048);
  if (gw_sfn_params_failed(&p, c) || !token_ok(c, token)) return;
  wf_error err;
  sent(c, wf_engine_send_task_heartbeat(c->g->engine, token, &err), &err);
}
