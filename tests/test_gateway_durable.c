/* wf-gateway on a SQLite store (and on PostgreSQL, store: {postgresql},
 * its password from the environment): state machines and versions
 * created through the API, executions and their histories survive a
 * restart, and an execution running when the gateway was killed
 * (SIGKILL) finishes after it comes back. Lists and histories are read
 * from the store a page at a time. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_support.h"
#include "sfn_support.h"
#include "support.h"

TestSuite(gateway_durable, .timeout = 120, .fini = gwt_fini);

#define DURABLE "store: {sqlite: @DIR@/store.db}\n"

static const char PASS_DEF[] =
    "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Result\":"
    "{\"made\":true},\"End\":true}}}";

static char *start_execution(const char *machine_arn, const char *name,
                             const char *input) {
  gwt_response r = gwt_sfn(
      "StartExecution", "{\"stateMachineArn\":\"%s\",\"name\":\"%s\","
      "\"input\":\"%s\"}", machine_arn, name, input);
  cr_assert_eq(r.status, 200, "StartExecution: %s", r.body);
  char *arn = strdup(gwt_str(&r, "executionArn"));
  gwt_response_free(&r);
  return arn;
}

static void restart(int sig) {
  int status = 0;
  cr_assert(gwt_restart(&gwt_srv, sig, &status), "the gateway did not start "
            "again");
  if (sig == SIGTERM) cr_assert_eq(status, 0);
}

/* Event ids of a history read in pages of `max`, joined: "1,2,3". */
static char *history_ids(const char *arn, int max, bool reverse) {
  char ids[4096] = "";
  char *token = NULL;
  int pages = 0;
  do {
    gwt_response r;
    if (token)
      r = gwt_sfn("GetExecutionHistory",
                  "{\"executionArn\":\"%s\",\"maxResults\":%d,"
                  "\"reverseOrder\":%s,\"nextToken\":\"%s\"}",
                  arn, max, reverse ? "true" : "false", token);
    else
      r = gwt_sfn("GetExecutionHistory",
                  "{\"executionArn\":\"%s\",\"maxResults\":%d,"
                  "\"reverseOrder\":%s}",
                  arn, max, reverse ? "true" : "false");
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *events = json_object_get(r.json, "events");
    cr_assert_leq(json_array_size(events), (size_t)max);
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
      char n[16];
      snprintf(n, sizeof n, "%s%lld", ids[0] ? "," : "",
               (long long)json_integer_value(json_object_get(ev, "id")));
      strcat(ids, n);
    }
    free(token);
    const char *next = gwt_str(&r, "nextToken");
    token = next ? strdup(next) : NULL;
    gwt_response_free(&r);
    cr_assert_lt(++pages, 100);
  } while (token);
  return strdup(ids);
}

/* Start a gateway on `store` (a configuration's store section), make a
 * machine, run one execution and start one that waits, kill the gateway
 * and start it again: everything is there and the waiting one ends. */
static void survives_a_restart(const char *store) {
  gwt_sfn_start(store);
  json_t *body = json_pack("{s:s, s:s, s:s, s:b}", "name", "made",
                           "definition", PASS_DEF, "roleArn", GWT_ROLE,
                           "publish", 1);
  gwt_response r = gwt_sfn_obj("CreateStateMachine", body);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  char *done = start_execution(GWT_MACHINE_ARN "made", "done-1", "{}");
  json_t *x = gwt_sfn_wait(done);
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")),
                   "SUCCEEDED");
  json_decref(x);
  /* Killed while an execution waits. */
  char *waiting = start_execution(GWT_MACHINE_ARN "waiting", "long-1",
                                  "{\\\"k\\\":1}");
  restart(SIGKILL);

  r = gwt_sfn("DescribeStateMachine", "{\"stateMachineArn\":\"%s\"}",
              GWT_MACHINE_ARN "made");
  cr_assert_eq(r.status, 200, "the machine made through the API is gone: %s",
               r.body);
  gwt_response_free(&r);
  r = gwt_sfn("ListStateMachineVersions", "{\"stateMachineArn\":\"%s\"}",
              GWT_MACHINE_ARN "made");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(json_array_size(json_object_get(r.json, "stateMachineVersions")),
               1, "%s", r.body);
  gwt_response_free(&r);
  r = gwt_sfn("DescribeExecution", "{\"executionArn\":\"%s\"}", done);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "output"), "{\"made\":true}");
  gwt_response_free(&r);
  /* The interrupted one finishes, its Wait entered once. */
  x = gwt_sfn_wait(waiting);
  cr_assert_not_null(x, "the waiting execution never finished");
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")),
                   "SUCCEEDED");
  json_decref(x);
  char *ids = history_ids(waiting, 100, false);
  cr_assert_str_eq(ids, "1,2,3,4");
  free(ids);
  /* Its name stays taken, also after a clean restart. */
  restart(SIGTERM);
  r = gwt_sfn("StartExecution",
              "{\"stateMachineArn\":\"%s\",\"name\":\"long-1\","
              "\"input\":\"{\\\"k\\\":1}\"}",
              GWT_MACHINE_ARN "waiting");
  gwt_expect_error(&r, "ExecutionAlreadyExists", "long-1");
  gwt_response_free(&r);
  free(done);
  free(waiting);
  gwt_finish();
}

Test(gateway_durable, machines_executions_and_histories_survive_a_restart) {
  survives_a_restart(DURABLE);
}

/* The role wf_secret of tests/pg_server.sh must give its password: the
 * gateway reads it from the variable passwordEnv names. */
Test(gateway_durable, runs_on_postgresql_with_its_password_from_the_env) {
  const char *why;
  const char *server = wpg_server(&why);
  if (!server) cr_skip_test("%s", why);
  char *name = wft_strf("wf-gateway-%d", (int)getpid());
  char *conninfo = wpg_database(name, true);
  cr_assert_not_null(conninfo);
  char *sql = wft_strf("ALTER DATABASE \"%s\" OWNER TO wf_secret", name);
  cr_assert(wpg_exec("postgres", sql));
  free(sql);
  setenv("WF_TEST_PG_PASSWORD", WPG_SECRET_PASSWORD, 1);
  char *store = wft_strf("store: {postgresql: \"%s user=wf_secret\","
                         " passwordEnv: WF_TEST_PG_PASSWORD}\n",
                         conninfo);
  survives_a_restart(store);
  free(store);
  free(conninfo);
  wpg_drop(name);
  free(name);
}

Test(gateway_durable, lists_and_histories_come_in_pages_from_the_store) {
  gwt_sfn_start(DURABLE);
  char *arns[5];
  for (int i = 0; i < 5; i++) {
    char name[16];
    snprintf(name, sizeof name, "p-%d", i);
    arns[i] = start_execution(GWT_MACHINE_ARN "hello", name, "{}");
    json_decref(gwt_sfn_wait(arns[i]));
  }
  /* Newest first, two at a time. */
  char listed[1024] = "";
  char *token = NULL;
  int pages = 0;
  do {
    gwt_response r =
        token ? gwt_sfn("ListExecutions",
                        "{\"stateMachineArn\":\"%s\",\"maxResults\":2,"
                        "\"nextToken\":\"%s\"}",
                        GWT_MACHINE_ARN "hello", token)
              : gwt_sfn("ListExecutions",
                        "{\"stateMachineArn\":\"%s\",\"maxResults\":2}",
                        GWT_MACHINE_ARN "hello");
    cr_assert_eq(r.status, 200, "%s", r.body);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r.json, "executions"), i, e) {
      if (listed[0]) strcat(listed, ",");
      strcat(listed, json_string_value(json_object_get(e, "name")));
    }
    free(token);
    const char *next = gwt_str(&r, "nextToken");
    token = next ? strdup(next) : NULL;
    gwt_response_free(&r);
    pages++;
  } while (token);
  cr_assert_str_eq(listed, "p-4,p-3,p-2,p-1,p-0");
  cr_assert_eq(pages, 3);
  /* A history of 7 events in pages of 3, both ways. */
  char *ids = history_ids(arns[0], 3, false);
  cr_assert_str_eq(ids, "1,2,3,4,5,6,7");
  free(ids);
  ids = history_ids(arns[0], 3, true);
  cr_assert_str_eq(ids, "7,6,5,4,3,2,1");
  free(ids);
  for (int i = 0; i < 5; i++) free(arns[i]);
  gwt_finish();
}

Test(gateway_durable, process_executions_are_found_after_a_restart) {
  gwt_sfn_start(DURABLE);
  gwt_response r = gwt_process(&gwt_srv, "{\"n\":1}");
  cr_assert_eq(r.status, 202, "%s", r.body);
  char *id = strdup(json_string_value(json_object_get(r.json, "executionId")));
  gwt_response_free(&r);
  json_t *x = gwt_wait_execution(&gwt_srv, id);
  json_decref(x);
  restart(SIGTERM);
  x = gwt_wait_execution(&gwt_srv, id);
  cr_assert_not_null(x, "GET /executions/%s after a restart", id);
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")),
                   "SUCCEEDED");
  json_decref(x);
  free(id);
  gwt_finish();
}

/* ---- two gateways on one shared PostgreSQL database ---- */

static gwt_response sfn_on(const gwt_server *s, const char *op,
                           const char *body) {
  char *target = wft_strf("X-Amz-Target: AWSStepFunctions.%s", op);
  const char *headers[] = {"Content-Type: application/x-amz-json-1.0",
                           target, NULL};
  gwt_response r = gwt_request(s, "POST", "/", headers, body, strlen(body));
  free(target);
  return r;
}

/* The status DescribeExecution gives on gateway s. */
static char *status_on(const gwt_server *s, const char *arn) {
  char *body = wft_strf("{\"executionArn\":\"%s\"}", arn);
  gwt_response r = sfn_on(s, "DescribeExecution", body);
  free(body);
  cr_assert_eq(r.status, 200, "DescribeExecution: %s", r.body);
  char *status = strdup(gwt_str(&r, "status"));
  gwt_response_free(&r);
  return status;
}

/* Until gateway s describes arn with `status` (bounded). */
static void wait_status_on(const gwt_server *s, const char *arn,
                           const char *status) {
  for (int i = 0;; i++) {
    char *now = status_on(s, arn);
    bool done = strcmp(now, status) == 0;
    cr_assert(done || i < 2000, "%s is %s, not %s", arn, now, status);
    free(now);
    if (done) return;
    usleep(5000);
  }
}

Test(gateway_durable, two_gateways_share_one_postgresql_database) {
  const char *why;
  if (!wpg_server(&why)) cr_skip_test("%s", why);
  char *name = wft_strf("wf-gateways-%d", (int)getpid());
  char *conninfo = wpg_database(name, true);
  cr_assert_not_null(conninfo);
  char *store = wft_strf("store: {postgresql: \"%s\", shared: true,"
                         " leaseMs: 600}\n",
                         conninfo);
  gwt_sfn_start(store);
  gwt_server b = {0};
  char *cfg = wft_strf("%s%s", GWT_SFN_CONFIG, store);
  cr_assert(gwt_start(&b, cfg), "the second gateway did not start");
  free(cfg);
  /* Started on one, described and stopped on the other. */
  char *one = start_execution(GWT_MACHINE_ARN "waiting", "one", "{}");
  char *now = status_on(&b, one);
  cr_assert_str_eq(now, "RUNNING");
  free(now);
  char *body = wft_strf("{\"executionArn\":\"%s\"}", one);
  gwt_response r = sfn_on(&b, "StopExecution", body);
  free(body);
  cr_assert_eq(r.status, 200, "StopExecution: %s", r.body);
  gwt_response_free(&r);
  now = status_on(&gwt_srv, one);
  cr_assert_str_eq(now, "ABORTED");
  free(now);
  /* The same name on the other: the same execution, while it runs. */
  char *two = start_execution(GWT_MACHINE_ARN "waiting", "two", "{}");
  body = wft_strf("{\"stateMachineArn\":\"%s\",\"name\":\"two\","
                  "\"input\":\"{}\"}",
                  GWT_MACHINE_ARN "waiting");
  r = sfn_on(&b, "StartExecution", body);
  free(body);
  cr_assert_eq(r.status, 200, "StartExecution: %s", r.body);
  cr_assert_str_eq(gwt_str(&r, "executionArn"), two);
  gwt_response_free(&r);
  /* One gateway killed: the other finishes what it ran. */
  char *three = start_execution(GWT_MACHINE_ARN "waiting", "three", "{}");
  cr_assert_eq(gwt_stop(&gwt_srv, SIGKILL), 128 + SIGKILL);
  wait_status_on(&b, three, "SUCCEEDED");
  wait_status_on(&b, two, "SUCCEEDED");
  cr_assert_eq(gwt_stop(&b, SIGTERM), 0);
  free(one);
  free(two);
  free(three);
  free(store);
  free(conninfo);
  wpg_drop(name);
  free(name);
}
