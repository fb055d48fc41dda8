/* The context object ($$) of a frame's current state, built on first use
 * and cached until the state (or its retry count) changes. */
#include <string.h>

#include "alloc.h"
#include "step.h"
#include "timestamp.h"

static json_t *time_string(int64_t ms) {
  char buf[32];
  wf__timestamp_format_ms(buf, ms);
  return json_string(buf);
}

static char *machine_arn(const wf_execution *x) {
  wf__strbuf b = WF__STRBUF_INIT;
  wf__strbuf_printf(&b, "arn:aws:states:%s:%s:stateMachine:%s",
                    x->engine->region, x->engine->account, x->machine->name);
  return wf__strbuf_take(&b);
}

json_t *wf__context_get(wf__frame *f) {
  if (f->ctx) return f->ctx;
  wf_execution *x = f->exec;
  json_t *given = x->probe ? wf__probe_context(f) : NULL;
  if (given) return f->ctx = json_incref(given);
  const wf__state *st = f->scope->states[f->state];
  json_t *ctx = json_object();
  json_t *exec = json_object();
  json_object_set_new(exec, "Id", json_string(WF__EXEC_SHOWN_ARN(x)));
  json_object_set(exec, "Input", x->work ? wf__work_input(x) : x->input);
  json_object_set_new(exec, "StartTime", time_string(x->start_ms));
  json_object_set_new(exec, "Name", json_string(WF__EXEC_SHOWN_NAME(x)));
  json_object_set_new(exec, "RoleArn", json_string(x->role_arn ? x->role_arn
                                                     : x->engine->role_arn));
  json_object_set_new(exec, "RedriveCount", json_integer(x->redrive_count));
  if (x->redrive_count)
    json_object_set_new(exec, "RedriveTime", time_string(x->redrive_ms));
  json_object_set_new(ctx, "Execution", exec);
  json_t *sm = json_object();
  char *arn = machine_arn(x);
  json_object_set_new(sm, "Id", json_string(arn ? arn : ""));
  wf__free(arn);
  json_object_set_new(sm, "Name", json_string(x->machine->name));
  json_object_set_new(ctx, "StateMachine", sm);
  json_t *state = json_object();
  json_object_set_new(state, "Name", json_string(st->name));
  json_object_set_new(state, "EnteredTime", time_string(f->entered_ms));
  if (st->type == WF__TASK || st->type == WF__PARALLEL || st->type == WF__MAP)
    json_object_set_new(state, "RetryCount", json_integer(f->retry_count));
  json_object_set_new(ctx, "State", state);
  if (st->type == WF__TASK && f->task && st->resource &&
      strstr(st->resource, ".waitForTaskToken")) {
    json_t *task = json_object();
    json_object_set_new(task, "Token", json_string(f->task->token));
    json_object_set_new(ctx, "Task", task);
  }
  for (wf__frame *p = f; p; p = p->parent) {
    if (!p->map_item) continue;
    json_t *item = json_object();
    json_object_set_new(item, "Index", json_integer(p->map_index));
    if (p->map_key) json_object_set_new(item, "Key", json_string(p->map_key));
    json_object_set(item, "Value", p->map_item);
    json_t *map = json_object();
    json_object_set_new(map, "Item", item);
    json_object_set_new(ctx, "Map", map);
    break;
  }
  f->ctx = ctx;
  return ctx;
}

static json_t *ctx_cb(void *payload) { return wf__context_get(payload); }

static json_t *var_cb(const char *name, void *payload) {
  return wf__vars_lookup(payload, name);
}

static uint64_t rand_cb(void *payload) {
  wf__frame *f = payload;
  return wf__rng_next(&f->exec->rng);
}

void wf__eval_env_init(wf__eval_env *env, wf__frame *f, json_t *input) {
  env->input = input;
  env->context = ctx_cb;
  env->variable = var_cb;
  env->random = rand_cb;
  env->payload = f;
  /* Each evaluation starts with a full budget: a frame runs on one thread
   * at a time and evaluates one thing at a time. */
  wf__budget_init(&f->budget, f->exec->engine->payload_limit,
                  f->exec->engine->expression_cpu_ns);
  env->budget = &f->budget;
}

int wf__frame_eval_path(json_t **out, wf__frame *f, const wf__jsonpath *p,
                        json_t *doc, wf__strbuf *detail) {
  wf__eval_env env;
  wf__eval_env_init(&env, f, doc);
  wf__strbuf scratch = WF__STRBUF_INIT;
  int rc = wf__jsonpath_eval_env(out, p, &env, detail ? detail : &scratch);
  wf__strbuf_free(&scratch);
  return rc;
}
