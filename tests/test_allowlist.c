/* Least privilege (wf_load_options.allowed_resources): a machine invokes
 * only the Task resources its allowlist names, exactly or by a trailing-'*'
 * prefix. A Task outside it fails with States.Permissions and a cause
 * naming the machine and the resource, its handler is never called, and an
 * audit line (event "AccessDenied") reaches the log sink. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/tp_support.h"
#include "workflow/workflow.h"

#define FN "arn:aws:lambda:us-east-1:123456789012:function:"
#define WEST "arn:aws:lambda:us-west-2:123456789012:function:"

static tp_env env;
/* Calls of the handlers, by resource. */
static atomic_int calls_a, calls_b, calls_pre;

static void answer(wf_task *t, void *payload) {
  atomic_fetch_add((atomic_int *)payload, 1);
  char out[256];
  snprintf(out, sizeof out, "{\"resource\":\"%s\"}", wf_task_resource(t));
  wf_task_succeed(t, out);
}

static void setup(void) {
  memset(&env, 0, sizeof env);
  atomic_store(&calls_a, 0);
  atomic_store(&calls_b, 0);
  atomic_store(&calls_pre, 0);
  cr_assert_eq(wf_clock_virtual_new(&env.clock, WFT_T0), WF_OK);
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.clock = env.clock;
  o.log = tp_lines_cb;
  o.log_payload = &env.lines;
  env.engine = wft_engine(&o);
  wf_error err;
  cr_assert_eq(wf_engine_register_handler(env.engine, FN "A", answer,
                                          &calls_a, WF_HANDLER_INLINE, &err),
               WF_OK);
  cr_assert_eq(wf_engine_register_handler(env.engine, FN "B", answer,
                                          &calls_b, 0, &err),
               WF_OK);
  /* Everything under FN "Pre" (and others) reaches one handler. */
  cr_assert_eq(wf_engine_register_handler(env.engine, FN, answer, &calls_pre,
                                          WF_HANDLER_PREFIX, &err),
               WF_OK);
}

static void teardown(void) { tp_env_fini(&env); }

TestSuite(allowlist, .init = setup, .fini = teardown);

/* Load `def` as machine `name` with this allowlist (NULL: none). */
static wf_machine *load(const char *def, const char *name,
                        const char *const *allowed) {
  wf_machine *m = NULL;
  wf_error err;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.name = name;
  lo.allowed_resources = allowed;
  int rc = wf_machine_load_json(&m, def, &lo, &err);
  cr_assert_eq(rc, WF_OK, "%s: %s", wf_error_name(rc), err.message);
  return m;
}

/* Run one Task on `resource` in machine `name` with this allowlist. */
static wf_execution *run_one(const char *resource, const char *name,
                             const char *const *allowed) {
  char def[512];
  snprintf(def, sizeof def,
           "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
           "\"Resource\":\"%s\",\"End\":true}}}",
           resource);
  wf_machine *m = load(def, name, allowed);
  wf_execution *x = wft_run(env.engine, m, NULL, NULL);
  wf_machine_free(m);
  return x;
}

static void assert_allowed(wf_execution *x, const char *resource) {
  char want[256];
  snprintf(want, sizeof want, "{\"resource\":\"%s\"}", resource);
  wft_assert_succeeded(x, want);
}

/* FAILED with States.Permissions and AWS-like wording naming both. */
static void assert_denied(wf_execution *x, const char *machine,
                          const char *resource) {
  char cause[512];
  snprintf(cause, sizeof cause,
           "The state machine '%s' is not allowed to invoke the resource "
           "'%s': it is not in the machine's allowlist",
           machine, resource);
  wft_assert_failed(x, "States.Permissions", cause);
}

/* The AccessDenied lines so far (new reference). */
static json_t *denials(void) {
  json_t *lines = tp_lines_json(&env.lines);
  json_t *d = tp_where(lines, "event", "AccessDenied");
  json_decref(lines);
  return d;
}

Test(allowlist, exact_entries_allow_their_resources) {
  const char *const allowed[] = {FN "A", FN "B", NULL};
  wf_execution *x = run_one(FN "A", "Orders", allowed);
  assert_allowed(x, FN "A");
  wf_execution_free(x);
  x = run_one(FN "B", "Orders", allowed);
  assert_allowed(x, FN "B");
  wf_execution_free(x);
  cr_assert_eq(atomic_load(&calls_a), 1);
  cr_assert_eq(atomic_load(&calls_b), 1);
  json_t *d = denials();
  cr_assert_eq(json_array_size(d), 0);
  json_decref(d);
}

Test(allowlist, a_resource_outside_fails_with_permissions_and_an_audit_line) {
  const char *const allowed[] = {FN "A", NULL};
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = "order-17";
  so.correlation_id = "req-17";
  char def[256];
  snprintf(def, sizeof def,
           "{\"StartAt\":\"Charge\",\"States\":{\"Charge\":{\"Type\":\"Task\","
           "\"Resource\":\"%s\",\"End\":true}}}", FN "B");
  wf_machine *m = load(def, "Orders", allowed);
  wf_execution *x = wft_run(env.engine, m, "{\"amount\":3}", &so);
  assert_denied(x, "Orders", FN "B");
  /* The handler was never called. */
  cr_assert_eq(atomic_load(&calls_b), 0);

  /* History: the task was scheduled and failed, as AWS records it. */
  char *types = wft_event_types(x);
  cr_assert_str_eq(types,
                   "ExecutionStarted TaskStateEntered LambdaFunctionScheduled "
                   "LambdaFunctionStarted LambdaFunctionFailed "
                   "ExecutionFailed");
  free(types);

  /* One audit line, naming who was refused what. */
  json_t *d = denials();
  cr_assert_eq(json_array_size(d), 1);
  json_t *line = json_array_get(d, 0);
  cr_assert_str_eq(tp_str(line, "level"), "WARN");
  cr_assert_str_eq(tp_str(line, "stateMachine"), "Orders");
  cr_assert_str_eq(tp_str(line, "resource"), FN "B");
  cr_assert_str_eq(tp_str(line, "state"), "Charge");
  cr_assert_str_eq(tp_str(line, "correlationId"), "req-17");
  cr_assert_str_eq(tp_str(line, "execution"), wf_execution_arn(x));
  cr_assert_not_null(tp_str(line, "audit"));
  cr_assert_not_null(tp_str(line, "timestamp"));
  json_decref(d);

  /* The failure lines of the same execution carry the same error. */
  json_t *lines = tp_lines_json(&env.lines);
  json_t *failed = tp_one_event(lines, "LambdaFunctionFailed");
  cr_assert_str_eq(tp_str(failed, "error"), "States.Permissions");
  cr_assert_str_eq(tp_str(failed, "correlationId"), "req-17");
  json_decref(lines);
  wf_execution_free(x);
  wf_machine_free(m);
}

Test(allowlist, a_trailing_star_allows_a_prefix) {
  const char *const allowed[] = {FN "Pre*", NULL};
  static const char *const ok[] = {FN "PreOrder", FN "Pre", FN "Pre-x:1"};
  for (size_t i = 0; i < 3; i++) {
    wf_execution *x = run_one(ok[i], "Prefixed", allowed);
    assert_allowed(x, ok[i]);
    wf_execution_free(x);
  }
  static const char *const no[] = {FN "Pr", FN "XPre", FN "A",
                                   WEST "PreOrder"};
  for (size_t i = 0; i < 4; i++) {
    wf_execution *x = run_one(no[i], "Prefixed", allowed);
    assert_denied(x, "Prefixed", no[i]);
    wf_execution_free(x);
  }
  cr_assert_eq(atomic_load(&calls_pre), 3);
  cr_assert_eq(atomic_load(&calls_a), 0);
  json_t *d = denials();
  cr_assert_eq(json_array_size(d), 4);
  json_decref(d);
}

Test(allowlist, an_exact_entry_is_not_a_prefix) {
  const char *const allowed[] = {FN "A", NULL};
  wf_execution *x = run_one(FN "AB", "Exact", allowed);
  assert_denied(x, "Exact", FN "AB");
  wf_execution_free(x);
  x = run_one(FN "a", "Exact", allowed); /* case matters */
  assert_denied(x, "Exact", FN "a");
  wf_execution_free(x);
  cr_assert_eq(atomic_load(&calls_pre), 0);
}

Test(allowlist, an_empty_list_allows_nothing_and_a_lone_star_everything) {
  const char *const none[] = {NULL};
  wf_execution *x = run_one(FN "A", "Locked", none);
  assert_denied(x, "Locked", FN "A");
  wf_execution_free(x);
  const char *const all[] = {"*", NULL};
  x = run_one(FN "A", "Open", all);
  assert_allowed(x, FN "A");
  wf_execution_free(x);
  cr_assert_eq(atomic_load(&calls_a), 1);
}

Test(allowlist, no_list_allows_any_resource) {
  wf_execution *x = run_one(FN "B", "Default", NULL);
  assert_allowed(x, FN "B");
  wf_execution_free(x);
  json_t *d = denials();
  cr_assert_eq(json_array_size(d), 0);
  json_decref(d);
}

Test(allowlist, the_list_is_copied_at_load) {
  char entry[64];
  snprintf(entry, sizeof entry, "%s", FN "A");
  const char *allowed[] = {entry, NULL};
  wf_machine *m = load("{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":"
                       "\"Task\",\"Resource\":\"" FN "A\",\"End\":true}}}",
                       "Copied", allowed);
  /* Changing the caller's array afterwards changes nothing. */
  snprintf(entry, sizeof entry, "%s", FN "Z");
  allowed[0] = NULL;
  wf_execution *x = wft_run(env.engine, m, NULL, NULL);
  assert_allowed(x, FN "A");
  wf_execution_free(x);
  wf_machine_free(m);
}

Test(allowlist, the_denial_comes_before_looking_for_a_handler) {
  /* Nobody serves this resource, yet the answer is the denial, not
   * Lambda.ResourceNotFoundException. */
  const char *const allowed[] = {FN "A", NULL};
  const char *res = "arn:aws:lambda:eu-west-1:123456789012:function:Nobody";
  wf_execution *x = run_one(res, "Orders", allowed);
  assert_denied(x, "Orders", res);
  wf_execution_free(x);
}

Test(allowlist, the_list_belongs_to_each_machine) {
  const char *const only_a[] = {FN "A", NULL};
  const char *const only_b[] = {FN "B", NULL};
  wf_execution *x = run_one(FN "B", "OnlyA", only_a);
  assert_denied(x, "OnlyA", FN "B");
  wf_execution_free(x);
  x = run_one(FN "B", "OnlyB", only_b);
  assert_allowed(x, FN "B");
  wf_execution_free(x);
  x = run_one(FN "B", "Unrestricted", NULL);
  assert_allowed(x, FN "B");
  wf_execution_free(x);
  cr_assert_eq(atomic_load(&calls_b), 2);
}

Test(allowlist, the_denial_can_be_caught) {
  const char *const allowed[] = {FN "A", NULL};
  wf_machine *m = load(
      "{\"StartAt\":\"T\",\"States\":{"
      "\"T\":{\"Type\":\"Task\",\"Resource\":\"" FN "B\",\"Catch\":[{"
      "\"ErrorEquals\":[\"States.Permissions\"],\"ResultPath\":\"$.denied\","
      "\"Next\":\"Fallback\"}],\"End\":true},"
      "\"Fallback\":{\"Type\":\"Task\",\"Resource\":\"" FN "A\","
      "\"ResultPath\":\"$.fallback\",\"End\":true}}}",
      "Catching", allowed);
  wf_execution *x = wft_run(env.engine, m, "{}", NULL);
  wft_assert_succeeded(x, NULL);
  json_t *out = wft_parse(wf_execution_output(x));
  json_t *denied = json_object_get(out, "denied");
  cr_assert_str_eq(tp_str(denied, "Error"), "States.Permissions");
  cr_assert_not_null(strstr(tp_str(denied, "Cause"), "'Catching'"));
  cr_assert_str_eq(tp_str(json_object_get(out, "fallback"), "resource"),
                   FN "A");
  json_decref(out);
  cr_assert_eq(atomic_load(&calls_b), 0);
  wf_execution_free(x);
  wf_machine_free(m);
}

Test(allowlist, applies_inside_parallel_branches_and_map_iterations) {
  const char *const allowed[] = {FN "A", NULL};
  wf_machine *m = load(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\","
      "\"End\":true,\"Branches\":["
      "{\"StartAt\":\"Ok\",\"States\":{\"Ok\":{\"Type\":\"Task\","
      "\"Resource\":\"" FN "A\",\"End\":true}}},"
      "{\"StartAt\":\"Inner\",\"States\":{\"Inner\":{\"Type\":\"Task\","
      "\"Resource\":\"" FN "B\",\"End\":true}}}]}}}",
      "Branchy", allowed);
  wf_execution *x = wft_run(env.engine, m, "{}", NULL);
  assert_denied(x, "Branchy", FN "B");
  wf_execution_free(x);
  wf_machine_free(m);

  m = load("{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\","
           "\"End\":true,\"ItemProcessor\":{\"StartAt\":\"Item\","
           "\"States\":{\"Item\":{\"Type\":\"Task\",\"Resource\":\"" FN
           "B\",\"End\":true}}}}}}",
           "Mapped", allowed);
  x = wft_run(env.engine, m, "[1]", NULL);
  assert_denied(x, "Mapped", FN "B");
  wf_execution_free(x);
  wf_machine_free(m);
  cr_assert_eq(atomic_load(&calls_b), 0);

  json_t *d = denials();
  cr_assert_eq(json_array_size(d), 2);
  cr_assert_str_eq(tp_str(json_array_get(d, 0), "state"), "Inner");
  cr_assert_str_eq(tp_str(json_array_get(d, 1), "state"), "Item");
  cr_assert_str_eq(tp_str(json_array_get(d, 1), "stateMachine"), "Mapped");
  json_decref(d);
}

Test(allowlist, plugin_handlers_are_held_to_the_list_too) {
  tp_mkdtemp(env.dir, "allow");
  wf_error err;
  cr_assert_eq(wf_engine_add_plugin_dir(env.engine, env.dir, &err), WF_OK);
  tp_install_load(env.engine, env.dir, "tp_good", NULL);
  const char *const allowed[] = {TP_FN "TpGood-*", NULL};
  wf_execution *x = run_one(TP_FN "TpGood-ok", "Plugged", allowed);
  wft_assert_succeeded(x, NULL);
  wf_execution_free(x);
  x = run_one(TP_FN "TpEcho", "Plugged", allowed);
  assert_denied(x, "Plugged", TP_FN "TpEcho");
  wf_execution_free(x);
}

Test(allowlist, every_denied_attempt_is_audited) {
  /* A retried denial is denied, and audited, at every attempt. */
  const char *const allowed[] = {FN "A", NULL};
  wf_machine *m = load(
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\","
      "\"Resource\":\"" FN "B\",\"Retry\":[{\"ErrorEquals\":["
      "\"States.Permissions\"],\"IntervalSeconds\":5,\"MaxAttempts\":2,"
      "\"BackoffRate\":1}],\"End\":true}}}",
      "Retrying", allowed);
  wf_execution *x = wft_run(env.engine, m, "{}", NULL);
  assert_denied(x, "Retrying", FN "B");
  cr_assert_eq(wf_execution_stop_time(x) - wf_execution_start_time(x), 10000);
  json_t *d = denials();
  cr_assert_eq(json_array_size(d), 3);
  json_decref(d);
  cr_assert_eq(atomic_load(&calls_b), 0);
  wf_execution_free(x);
  wf_machine_free(m);
}
