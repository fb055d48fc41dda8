/* wf-gateway's AWS Step Functions API beyond the core operations: tags
 * (TagResource, UntagResource, ListTagsForResource, CreateStateMachine's
 * tags), loggingConfiguration and tracingConfiguration, aliases
 * (Create/Describe/List/Update/DeleteStateMachineAlias, StartExecution
 * through one), DescribeStateMachineForExecution, UnknownOperationException
 * and Express name reuse; all of it kept across a restart on SQLite; and
 * the same driven by the AWS CLI and boto3. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfn_support.h"
#include "support.h"

TestSuite(gateway_sfn_api, .fini = gwt_fini, .timeout = 120);

#define M GWT_MACHINE_ARN
#define PASS "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"
#define PASS2                                                            \
  "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Result\":2," \
  "\"End\":true}}}"
#define LOG_GROUP "arn:aws:logs:us-east-1:123456789012:log-group:flows:*"
#define DURABLE "store: {sqlite: @DIR@/store.db}\n"

/* CreateStateMachine of `def` with the members of extra_json (may be
 * NULL) added. */
static gwt_response create(const char *name, const char *def,
                           const char *extra_json) {
  json_t *b = json_pack("{s:s, s:s, s:s}", "name", name, "definition", def,
                        "roleArn", GWT_ROLE);
  json_t *extra = extra_json ? json_loads(extra_json, 0, NULL) : NULL;
  if (extra_json) cr_assert(extra, "bad test JSON: %s", extra_json);
  json_object_update(b, extra);
  json_decref(extra);
  return gwt_sfn_obj("CreateStateMachine", b);
}

/* The 200 answer's JSON (a new reference); fails the test otherwise. */
static json_t *ok(gwt_response r) {
  cr_assert_eq(r.status, 200, "%s", r.body);
  json_t *v = json_incref(r.json);
  gwt_response_free(&r);
  return v;
}

static void expect(gwt_response r, const char *type, const char *message) {
  gwt_expect_error(&r, type, message);
  gwt_response_free(&r);
}

static const char *str(const json_t *v, const char *key) {
  return json_string_value(json_object_get(v, key));
}

/* The tags ListTagsForResource shows, as "k=v,k=v". */
static char *tags_text(const char *arn) {
  json_t *v = ok(gwt_sfn("ListTagsForResource", "{\"resourceArn\":\"%s\"}",
                         arn));
  char *text = wft_strf("%s", "");
  json_t *t;
  size_t i;
  json_array_foreach(json_object_get(v, "tags"), i, t) {
    char *more = wft_strf("%s%s%s=%s", text, i ? "," : "", str(t, "key"),
                          str(t, "value"));
    free(text);
    text = more;
  }
  json_decref(v);
  return text;
}

static void expect_tags(const char *arn, const char *want) {
  char *got = tags_text(arn);
  cr_assert_str_eq(got, want);
  free(got);
}

/* A TagList of n tags k0..k(n-1). */
static char *many_tags(int n) {
  char *list = wft_strf("[");
  for (int i = 0; i < n; i++) {
    char *more = wft_strf("%s%s{\"key\":\"k%d\",\"value\":\"v\"}", list,
                          i ? "," : "", i);
    free(list);
    list = more;
  }
  char *done = wft_strf("%s]", list);
  free(list);
  return done;
}

Test(gateway_sfn_api, tags_are_set_replaced_removed_and_listed) {
  gwt_sfn_start(NULL);
  json_decref(ok(create("tagged", PASS,
                        "{\"tags\":[{\"key\":\"team\",\"value\":\"a\"},"
                        "{\"key\":\"team\",\"value\":\"b\"},"
                        "{\"key\":\"cost\",\"value\":\"\"}]}")));
  /* A key given twice keeps its first place and its last value. */
  expect_tags(M "tagged", "team=b,cost=");
  json_decref(ok(gwt_sfn("TagResource",
                         "{\"resourceArn\":\"" M "tagged\",\"tags\":["
                         "{\"key\":\"cost\",\"value\":\"42\"},"
                         "{\"key\":\"env\",\"value\":\"dev\"}]}")));
  expect_tags(M "tagged", "team=b,cost=42,env=dev");
  json_decref(ok(gwt_sfn("UntagResource",
                         "{\"resourceArn\":\"" M "tagged\","
                         "\"tagKeys\":[\"team\",\"absent\"]}")));
  expect_tags(M "tagged", "cost=42,env=dev");
  /* A machine without tags has an empty list. */
  json_decref(ok(create("plain", PASS, NULL)));
  expect_tags(M "plain", "");
  gwt_finish();
}

Test(gateway_sfn_api, tags_refuse_what_aws_refuses) {
  gwt_sfn_start(NULL);
  json_decref(ok(create("t", PASS, "{\"publish\":true}")));
  /* Versions and aliases have no tags; no activity "a" was created. */
  gwt_response r = gwt_sfn("TagResource", "{\"resourceArn\":\"" M
                                          "t:1\",\"tags\":[]}");
  gwt_expect_error(&r, "ResourceNotFound", "Resource not found: '" M "t:1'");
  cr_assert_str_eq(gwt_str(&r, "resourceName"), M "t:1");
  gwt_response_free(&r);
  expect(gwt_sfn("ListTagsForResource",
                 "{\"resourceArn\":\"arn:aws:states:us-east-1:123456789012:"
                 "activity:a\"}"),
         "ResourceNotFound", NULL);
  expect(gwt_sfn("ListTagsForResource", "{\"resourceArn\":\"" M "none\"}"),
         "ResourceNotFound", "Resource not found: '" M "none'");
  expect(gwt_sfn("UntagResource",
                 "{\"resourceArn\":\"" GWT_EXEC_ARN "t:x\",\"tagKeys\":[]}"),
         "InvalidArn",
         "Invalid Arn: 'Resource type not valid in this context: execution'");
  expect(gwt_sfn("TagResource", "{\"resourceArn\":\"t\",\"tags\":[]}"),
         "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: t'");
  /* Shapes: lengths of keys and values, required members, types. */
  char *long_key = wft_strf("%0129d", 0), *long_value = wft_strf("%0257d", 0);
  expect(gwt_sfn("TagResource",
                 "{\"resourceArn\":\"" M "t\",\"tags\":[{\"key\":\"\"},"
                 "{\"key\":\"%s\",\"value\":\"%s\"}]}",
                 long_key, long_value),
         "ValidationException",
         "3 validation errors detected: Value '' at 'tags.1.member.key' "
         "failed to satisfy constraint: Member must have length greater "
         "than or equal to 1; ");
  expect(gwt_sfn("TagResource", "{\"resourceArn\":\"" M "t\"}"),
         "ValidationException",
         "Value null at 'tags' failed to satisfy constraint: Member must "
         "not be null");
  expect(gwt_sfn("UntagResource",
                 "{\"resourceArn\":\"" M "t\",\"tagKeys\":[\"\"]}"),
         "ValidationException", "at 'tagKeys.1.member' failed");
  expect(gwt_sfn("TagResource",
                 "{\"resourceArn\":\"" M "t\",\"tags\":{\"k\":1}}"),
         "SerializationException", NULL);
  expect(gwt_sfn("TagResource", "{\"resourceArn\":\"" M "t\",\"tags\":[1]}"),
         "SerializationException",
         "NUMBER_VALUE can not be converted to a Structure");
  free(long_key);
  free(long_value);
  /* At most 50 tags, counting those the resource has. */
  char *fifty = many_tags(50), *fifty_one = many_tags(51);
  json_decref(ok(gwt_sfn("TagResource",
                         "{\"resourceArn\":\"" M "t\",\"tags\":%s}", fifty)));
  r = gwt_sfn("TagResource", "{\"resourceArn\":\"" M
                             "t\",\"tags\":[{\"key\":\"more\"}]}");
  gwt_expect_error(&r, "TooManyTags", NULL);
  cr_assert_str_eq(gwt_str(&r, "resourceName"), M "t");
  gwt_response_free(&r);
  char *extra = wft_strf("{\"tags\":%s}", fifty_one);
  expect(create("crowded", PASS, extra), "TooManyTags", NULL);
  expect(gwt_sfn("DescribeStateMachine", "{\"stateMachineArn\":\"" M
                                         "crowded\"}"),
         "StateMachineDoesNotExist", NULL);
  free(extra);
  free(fifty);
  free(fifty_one);
  gwt_finish();
}

Test(gateway_sfn_api, logging_and_tracing_are_kept_and_described) {
  gwt_sfn_start(NULL);
  json_decref(ok(create("quiet", PASS, NULL)));
  json_t *d = ok(gwt_sfn("DescribeStateMachine",
                         "{\"stateMachineArn\":\"" M "quiet\"}"));
  char *text = json_dumps(json_object_get(d, "loggingConfiguration"),
                          JSON_COMPACT | JSON_SORT_KEYS);
  cr_assert_str_eq(text, "{\"includeExecutionData\":false,\"level\":\"OFF\"}");
  free(text);
  cr_assert(json_is_false(json_object_get(
      json_object_get(d, "tracingConfiguration"), "enabled")));
  json_decref(d);

  json_decref(ok(create(
      "loud", PASS,
      "{\"loggingConfiguration\":{\"level\":\"ERROR\",\"includeExecutionData\""
      ":true,\"destinations\":[{\"cloudWatchLogsLogGroup\":{\"logGroupArn\":"
      "\"" LOG_GROUP "\"}}]},\"tracingConfiguration\":{\"enabled\":true}}")));
  d = ok(gwt_sfn("DescribeStateMachine", "{\"stateMachineArn\":\"" M "loud\"}"));
  json_t *lc = json_object_get(d, "loggingConfiguration");
  cr_assert_str_eq(str(lc, "level"), "ERROR");
  cr_assert(json_is_true(json_object_get(lc, "includeExecutionData")));
  cr_assert_str_eq(
      str(json_object_get(json_array_get(json_object_get(lc, "destinations"), 0),
                          "cloudWatchLogsLogGroup"),
          "logGroupArn"),
      LOG_GROUP);
  cr_assert(json_is_true(json_object_get(
      json_object_get(d, "tracingConfiguration"), "enabled")));
  cr_assert_null(json_object_get(d, "revisionId"));
  json_decref(d);
  /* The same name with another configuration is another machine. */
  expect(create("loud", PASS, NULL), "StateMachineAlreadyExists", NULL);

  /* Updating the configuration alone makes a new revision. */
  json_t *u = ok(gwt_sfn("UpdateStateMachine",
                         "{\"stateMachineArn\":\"" M "loud\","
                         "\"loggingConfiguration\":{\"level\":\"OFF\"},"
                         "\"tracingConfiguration\":{\"enabled\":false}}"));
  cr_assert(str(u, "revisionId"));
  json_decref(u);
  d = ok(gwt_sfn("DescribeStateMachine", "{\"stateMachineArn\":\"" M "loud\"}"));
  cr_assert_str_eq(str(json_object_get(d, "loggingConfiguration"), "level"),
                   "OFF");
  cr_assert(json_is_false(json_object_get(
      json_object_get(d, "tracingConfiguration"), "enabled")));
  json_decref(d);
  gwt_finish();
}

Test(gateway_sfn_api, logging_configurations_are_checked_as_aws_does) {
  gwt_sfn_start(NULL);
  static const char *const BAD[][2] = {
      {"{\"level\":\"ALL\"}", "Must specify exactly one Log Destination."},
      {"{\"level\":\"OFF\",\"destinations\":[{\"cloudWatchLogsLogGroup\":{"
       "\"logGroupArn\":\"" LOG_GROUP "\"}},{\"cloudWatchLogsLogGroup\":{"
       "\"logGroupArn\":\"" LOG_GROUP "\"}}]}",
       "Must specify exactly one Log Destination."},
      {"{\"level\":\"FATAL\",\"destinations\":[{}]}",
       "Must set valid CloudWatch Log Group ARN."},
      {"{\"level\":\"FATAL\",\"destinations\":[{\"cloudWatchLogsLogGroup\":{"
       "\"logGroupArn\":\"arn:aws:s3:::bucket\"}}]}",
       "Provided ARN is not CloudWatch Logs Log Group ARN."},
      {"{\"level\":\"FATAL\",\"destinations\":[{\"cloudWatchLogsLogGroup\":{"
       "\"logGroupArn\":\"arn:aws:logs:us-east-1:1:log-group:g\"}}]}",
       "Log Group ARN must be provided with '*' qualifier."},
  };
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    char *extra = wft_strf("{\"loggingConfiguration\":%s}", BAD[i][0]);
    gwt_response r = create("logged", PASS, extra);
    gwt_expect_error(&r, "InvalidLoggingConfiguration", BAD[i][1]);
    cr_assert(strncmp(gwt_str(&r, "message"),
                      "Invalid Logging Configuration: ", 31) == 0);
    gwt_response_free(&r);
    free(extra);
  }
  expect(create("logged", PASS,
                "{\"loggingConfiguration\":{\"level\":\"DEBUG\"}}"),
         "ValidationException",
         "1 validation error detected: Value 'DEBUG' at "
         "'loggingConfiguration.level' failed to satisfy constraint: Member "
         "must satisfy enum value set: [ALL, ERROR, FATAL, OFF]");
  expect(create("logged", PASS,
                "{\"tracingConfiguration\":{\"enabled\":\"yes\"}}"),
         "SerializationException", "STRING_VALUE can not be converted");
  json_decref(ok(create("logged", PASS, NULL)));
  expect(gwt_sfn("UpdateStateMachine",
                 "{\"stateMachineArn\":\"" M "logged\","
                 "\"loggingConfiguration\":{\"level\":\"ERROR\"}}"),
         "InvalidLoggingConfiguration", NULL);
  gwt_finish();
}

/* Create `name` with versions 1 (PASS) and 2 (PASS2). */
static void two_versions(const char *name) {
  json_decref(ok(create(name, PASS, "{\"publish\":true}")));
  json_t *b = json_pack("{s:s+, s:s, s:b}", "stateMachineArn", M, name,
                        "definition", PASS2, "publish", 1);
  json_decref(ok(gwt_sfn_obj("UpdateStateMachine", b)));
}

static gwt_response create_alias(const char *name, const char *routes) {
  return gwt_sfn("CreateStateMachineAlias",
                 "{\"name\":\"%s\",\"routingConfiguration\":%s}", name, routes);
}

#define ROUTE(v, w) "{\"stateMachineVersionArn\":\"" M v "\",\"weight\":" #w "}"

Test(gateway_sfn_api, aliases_route_executions_by_weight) {
  gwt_sfn_start(NULL);
  two_versions("routed");
  json_t *a = ok(gwt_sfn("CreateStateMachineAlias",
                         "{\"name\":\"live\",\"description\":\"prod\","
                         "\"routingConfiguration\":[" ROUTE("routed:1", 100)
                         "]}"));
  cr_assert_str_eq(str(a, "stateMachineAliasArn"), M "routed:live");
  json_t *again = ok(gwt_sfn("CreateStateMachineAlias",
                             "{\"name\":\"live\",\"description\":\"prod\","
                             "\"routingConfiguration\":[" ROUTE("routed:1", 100)
                             "]}"));
  cr_assert(json_equal(a, again), "not idempotent");
  json_decref(again);
  json_decref(a);
  expect(create_alias("live", "[" ROUTE("routed:2", 100) "]"),
         "ConflictException",
         "Failed to create alias because an alias with the same name and a "
         "different routing configuration already exists.");

  json_t *u = ok(gwt_sfn("UpdateStateMachineAlias",
                         "{\"stateMachineAliasArn\":\"" M "routed:live\","
                         "\"routingConfiguration\":[" ROUTE("routed:1", 50)
                         "," ROUTE("routed:2", 50) "]}"));
  cr_assert(json_is_real(json_object_get(u, "updateDate")));
  json_decref(u);
  json_t *d = ok(gwt_sfn("DescribeStateMachineAlias",
                         "{\"stateMachineAliasArn\":\"" M "routed:live\"}"));
  cr_assert_str_eq(str(d, "name"), "live");
  cr_assert_str_eq(str(d, "description"), "prod");
  char *routes = json_dumps(json_object_get(d, "routingConfiguration"),
                            JSON_COMPACT);
  cr_assert_str_eq(routes, "[" ROUTE("routed:1", 50) "," ROUTE("routed:2", 50)
                           "]");
  free(routes);
  json_decref(d);

  /* 40 starts through the alias: both versions run, and each execution
   * says which, and through what. */
  int runs[3] = {0};
  for (int i = 0; i < 40; i++) {
    json_t *s = ok(gwt_sfn("StartExecution",
                           "{\"stateMachineArn\":\"" M "routed:live\","
                           "\"name\":\"r%d\"}",
                           i));
    json_t *x = gwt_sfn_wait(str(s, "executionArn"));
    cr_assert_str_eq(str(x, "stateMachineArn"), M "routed");
    cr_assert_str_eq(str(x, "stateMachineAliasArn"), M "routed:live");
    const char *v = str(x, "stateMachineVersionArn");
    cr_assert(v && (!strcmp(v, M "routed:1") || !strcmp(v, M "routed:2")));
    bool two = strcmp(v, M "routed:2") == 0;
    runs[two ? 2 : 1]++;
    cr_assert_str_eq(str(x, "output"), two ? "2" : "{}");
    json_decref(x);
    json_decref(s);
  }
  cr_assert(runs[1] > 0 && runs[2] > 0, "v1 %d, v2 %d", runs[1], runs[2]);
  /* Listed under the machine (with the alias) and under the alias. */
  json_t *l = ok(gwt_sfn("ListExecutions",
                         "{\"stateMachineArn\":\"" M "routed:live\"}"));
  cr_assert_eq(json_array_size(json_object_get(l, "executions")), 40);
  json_decref(l);
  l = ok(gwt_sfn("ListExecutions", "{\"stateMachineArn\":\"" M "routed\","
                                   "\"maxResults\":1}"));
  cr_assert_str_eq(str(json_array_get(json_object_get(l, "executions"), 0),
                       "stateMachineAliasArn"),
                   M "routed:live");
  json_decref(l);

  /* A version an alias routes to stays. */
  expect(gwt_sfn("DeleteStateMachineVersion",
                 "{\"stateMachineVersionArn\":\"" M "routed:2\"}"),
         "ConflictException",
         "Version to be deleted must not be referenced by an alias. Current "
         "list of aliases referencing this version: [live]");
  json_decref(ok(create_alias("canary", "[" ROUTE("routed:2", 100) "]")));
  l = ok(gwt_sfn("ListStateMachineAliases",
                 "{\"stateMachineArn\":\"" M "routed:1\"}"));
  cr_assert_eq(json_array_size(json_object_get(l, "stateMachineAliases")), 1);
  json_decref(l);
  l = ok(gwt_sfn("ListStateMachineAliases",
                 "{\"stateMachineArn\":\"" M "routed\",\"maxResults\":1}"));
  cr_assert_str_eq(
      str(json_array_get(json_object_get(l, "stateMachineAliases"), 0),
          "stateMachineAliasArn"),
      M "routed:live");
  cr_assert(str(l, "nextToken"));
  json_decref(l);

  json_decref(ok(gwt_sfn("DeleteStateMachineAlias",
                         "{\"stateMachineAliasArn\":\"" M "routed:live\"}")));
  json_decref(ok(gwt_sfn("DeleteStateMachineAlias",
                         "{\"stateMachineAliasArn\":\"" M "routed:live\"}")));
  expect(gwt_sfn("DescribeStateMachineAlias",
                 "{\"stateMachineAliasArn\":\"" M "routed:live\"}"),
         "ResourceNotFound",
         "Request references a resource that does not exist.");
  expect(gwt_sfn("StartExecution",
                 "{\"stateMachineArn\":\"" M "routed:live\"}"),
         "StateMachineDoesNotExist", "'" M "routed:live'");
  json_decref(ok(gwt_sfn("DeleteStateMachineVersion",
                         "{\"stateMachineVersionArn\":\"" M "routed:1\"}")));
  gwt_finish();
}

Test(gateway_sfn_api, alias_requests_are_checked_as_aws_does) {
  gwt_sfn_start(NULL);
  two_versions("checked");
  expect(create_alias("123", "[" ROUTE("checked:1", 100) "]"),
         "ValidationException",
         "1 validation error detected: Value '123' at 'name' failed to "
         "satisfy constraint: Member must satisfy regular expression "
         "pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$");
  expect(create_alias("a", "[" ROUTE("checked:1", 50) "," ROUTE("checked:2", 30)
                           "," ROUTE("checked:1", 20) "]"),
         "ValidationException",
         "1 validation error detected: Value '[RoutingConfigurationListItem("
         "stateMachineVersionArn=" M "checked:1, weight=50), "
         "RoutingConfigurationListItem(stateMachineVersionArn=" M
         "checked:2, weight=30), RoutingConfigurationListItem("
         "stateMachineVersionArn=" M "checked:1, weight=20)]' at "
         "'routingConfiguration' failed to satisfy constraint: Member must "
         "have length less than or equal to 2");
  expect(create_alias("a", "[" ROUTE("checked:1", 101) "]"),
         "ValidationException",
         "Value '101' at 'routingConfiguration.1.member.weight' failed to "
         "satisfy constraint: Member must have value less than or equal to "
         "100");
  expect(create_alias("a", "[" ROUTE("checked:1", 70) "," ROUTE("checked:2", 29)
                           "]"),
         "ValidationException",
         "Sum of routing configuration weights must equal 100. Received: "
         "[70, 29]");
  expect(create_alias("a", "[" ROUTE("checked", 100) "]"),
         "ValidationException",
         "Routing configuration must contain state machine version ARNs. "
         "Received: [" M "checked]");
  expect(create_alias("a", "[" ROUTE("checked:1", 50) "," ROUTE("checked:1", 50)
                           "]"),
         "ValidationException",
         "Routing configuration must contain distinct state machine version "
         "ARNs. Received: [" M "checked:1, " M "checked:1]");
  expect(create_alias("a", "[" ROUTE("checked:7", 100) "]"), "ResourceNotFound",
         "Request references a resource that does not exist.");
  expect(create_alias("a", "[{\"weight\":100}]"), "ValidationException",
         "Value null at "
         "'routingConfiguration.1.member.stateMachineVersionArn'");
  expect(gwt_sfn("CreateStateMachineAlias", "{\"name\":\"a\"}"),
         "ValidationException",
         "Value null at 'routingConfiguration' failed to satisfy constraint");
  expect(gwt_sfn("UpdateStateMachineAlias",
                 "{\"stateMachineAliasArn\":\"" M "checked:none\","
                 "\"description\":\"x\"}"),
         "ResourceNotFound", NULL);
  expect(gwt_sfn("UpdateStateMachineAlias",
                 "{\"stateMachineAliasArn\":\"" M "checked:none\"}"),
         "ValidationException", NULL);
  expect(gwt_sfn("DescribeStateMachineAlias",
                 "{\"stateMachineAliasArn\":\"" M "checked:1\"}"),
         "ValidationException", "is not a state machine alias ARN");
  expect(gwt_sfn("DescribeStateMachineAlias",
                 "{\"stateMachineAliasArn\":\"" M "checked:a b\"}"),
         "InvalidArn", NULL);
  expect(gwt_sfn("ListStateMachineAliases",
                 "{\"stateMachineArn\":\"" M "nothing\"}"),
         "StateMachineDoesNotExist", NULL);
  /* Deleting the machine takes its aliases with it. */
  json_decref(ok(create_alias("gone", "[" ROUTE("checked:1", 100) "]")));
  json_decref(ok(gwt_sfn("DeleteStateMachine",
                         "{\"stateMachineArn\":\"" M "checked\"}")));
  expect(gwt_sfn("DescribeStateMachineAlias",
                 "{\"stateMachineAliasArn\":\"" M "checked:gone\"}"),
         "ResourceNotFound", NULL);
  gwt_finish();
}

Test(gateway_sfn_api, describe_state_machine_for_execution_shows_what_ran) {
  gwt_sfn_start(NULL);
  json_decref(ok(create("ran", PASS,
                        "{\"tracingConfiguration\":{\"enabled\":true}}")));
  json_t *s = ok(gwt_sfn("StartExecution",
                         "{\"stateMachineArn\":\"" M "ran\",\"name\":\"x\"}"));
  json_decref(gwt_sfn_wait(str(s, "executionArn")));
  json_decref(s);
  json_t *b = json_pack("{s:s, s:s}", "stateMachineArn", M "ran", "definition",
                        PASS2);
  json_decref(ok(gwt_sfn_obj("UpdateStateMachine", b)));
  json_t *d = ok(gwt_sfn("DescribeStateMachineForExecution",
                         "{\"executionArn\":\"" GWT_EXEC_ARN "ran:x\"}"));
  cr_assert_str_eq(str(d, "stateMachineArn"), M "ran");
  cr_assert_str_eq(str(d, "name"), "ran");
  cr_assert_str_eq(str(d, "definition"), PASS); /* the one it ran */
  cr_assert_str_eq(str(d, "roleArn"), GWT_ROLE);
  cr_assert(json_is_real(json_object_get(d, "updateDate")));
  cr_assert(json_is_true(json_object_get(
      json_object_get(d, "tracingConfiguration"), "enabled")));
  cr_assert_str_eq(str(json_object_get(d, "loggingConfiguration"), "level"),
                   "OFF");
  json_decref(d);
  expect(gwt_sfn("DescribeStateMachineForExecution",
                 "{\"executionArn\":\"" GWT_EXEC_ARN "ran:none\"}"),
         "ExecutionDoesNotExist", NULL);
  expect(gwt_sfn("DescribeStateMachineForExecution",
                 "{\"executionArn\":\"" M "ran\"}"),
         "InvalidArn", NULL);
  expect(gwt_sfn("DescribeStateMachineForExecution", "{}"),
         "ValidationException", "at 'executionArn'");
  gwt_finish();
}

Test(gateway_sfn_api, unknown_operations_are_named) {
  gwt_sfn_start(NULL);
  expect(gwt_sfn("ListMapRunItems", "{}"), "UnknownOperationException",
         "Operation AWSStepFunctions.ListMapRunItems is not supported by "
         "this gateway");
  gwt_finish();
}

/* AWS starts another EXPRESS execution under a name used before (they
 * are not idempotent); a STANDARD name stays taken. */
Test(gateway_sfn_api, express_names_may_be_reused) {
  gwt_sfn_start(NULL);
  json_decref(ok(create("fast", PASS, "{\"type\":\"EXPRESS\"}")));
  char *arns[2];
  for (int i = 0; i < 2; i++) {
    json_t *s = ok(gwt_sfn("StartExecution",
                           "{\"stateMachineArn\":\"" M "fast\",\"name\":\"n\"}"));
    arns[i] = strdup(str(s, "executionArn"));
    cr_assert(strncmp(arns[i], GWT_EXPRESS_ARN "fast:n:",
                      strlen(GWT_EXPRESS_ARN "fast:n:")) == 0,
              "%s", arns[i]);
    json_decref(s);
  }
  cr_assert_str_neq(arns[0], arns[1]);
  free(arns[0]);
  free(arns[1]);
  json_decref(ok(create("slow", PASS, NULL)));
  json_t *s = ok(gwt_sfn("StartExecution",
                         "{\"stateMachineArn\":\"" M "slow\",\"name\":\"n\"}"));
  json_decref(gwt_sfn_wait(str(s, "executionArn")));
  json_decref(s);
  expect(gwt_sfn("StartExecution",
                 "{\"stateMachineArn\":\"" M "slow\",\"name\":\"n\","
                 "\"input\":\"{\\\"other\\\":1}\"}"),
         "ExecutionAlreadyExists", NULL);
  gwt_finish();
}

Test(gateway_sfn_api, tags_aliases_and_configurations_survive_a_restart) {
  gwt_sfn_start(DURABLE);
  two_versions("kept");
  json_decref(ok(gwt_sfn("TagResource",
                         "{\"resourceArn\":\"" M "kept\",\"tags\":["
                         "{\"key\":\"team\",\"value\":\"a\"}]}")));
  json_decref(ok(gwt_sfn("UpdateStateMachine",
                         "{\"stateMachineArn\":\"" M "kept\","
                         "\"loggingConfiguration\":{\"level\":\"ALL\","
                         "\"destinations\":[{\"cloudWatchLogsLogGroup\":{"
                         "\"logGroupArn\":\"" LOG_GROUP "\"}}]},"
                         "\"tracingConfiguration\":{\"enabled\":true}}")));
  json_decref(ok(create_alias("live", "[" ROUTE("kept:2", 100) "]")));
  json_t *s = ok(gwt_sfn("StartExecution",
                         "{\"stateMachineArn\":\"" M "kept:live\","
                         "\"name\":\"x\"}"));
  json_decref(gwt_sfn_wait(str(s, "executionArn")));
  json_decref(s);
  json_t *before = ok(gwt_sfn("DescribeStateMachineAlias",
                              "{\"stateMachineAliasArn\":\"" M "kept:live\"}"));

  int status;
  cr_assert(gwt_restart(&gwt_srv, SIGTERM, &status), "no restart");
  cr_assert_eq(status, 0);
  expect_tags(M "kept", "team=a");
  json_t *after = ok(gwt_sfn("DescribeStateMachineAlias",
                             "{\"stateMachineAliasArn\":\"" M "kept:live\"}"));
  cr_assert(json_equal(before, after), "the alias changed");
  json_decref(before);
  json_decref(after);
  json_t *d = ok(gwt_sfn("DescribeStateMachine",
                         "{\"stateMachineArn\":\"" M "kept\"}"));
  cr_assert_str_eq(str(json_object_get(d, "loggingConfiguration"), "level"),
                   "ALL");
  cr_assert(json_is_true(json_object_get(
      json_object_get(d, "tracingConfiguration"), "enabled")));
  json_decref(d);
  json_t *x = ok(gwt_sfn("DescribeExecution",
                         "{\"executionArn\":\"" GWT_EXEC_ARN "kept:x\"}"));
  cr_assert_str_eq(str(x, "stateMachineAliasArn"), M "kept:live");
  cr_assert_str_eq(str(x, "stateMachineVersionArn"), M "kept:2");
  json_decref(x);
  /* Still routing, still guarding its version. */
  expect(gwt_sfn("DeleteStateMachineVersion",
                 "{\"stateMachineVersionArn\":\"" M "kept:2\"}"),
         "ConflictException", NULL);
  gwt_finish();
}

/* ---- real clients -------------------------------------------------------- */

/* `aws stepfunctions ARGS` (Debian's AWS CLI v2); exit status `want`, and
 * its JSON output when it succeeds. */
static json_t *aws(int want, const char *args) {
  char *cmd = wft_strf("/usr/bin/aws stepfunctions --endpoint-url "
                       "http://127.0.0.1:%d --no-cli-pager --output json %s",
                       gwt_srv.port, args);
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert_eq(rc, want, "%s\n%s", cmd, out);
  json_t *v = rc == 0 && *out ? json_loads(out, 0, NULL) : NULL;
  if (rc == 0 && *out) cr_assert(v, "not JSON: %s", out);
  if (want != 0) cr_assert(strstr(out, "ResourceNotFound"), "%s", out);
  free(cmd);
  free(out);
  return v;
}

Test(gateway_sfn_api, the_aws_cli_tags_and_configures_machines) {
  cr_assert_eq(access("/usr/bin/aws", X_OK), 0,
               "the AWS CLI is required: apt-get install awscli");
  gwt_sfn_start(NULL);
  gwt_client_env();
  json_decref(aws(0, "create-state-machine --name cli --role-arn " GWT_ROLE
                     " --definition '" PASS "' --tags key=team,value=a "
                     "--tracing-configuration enabled=true "
                     "--logging-configuration '{\"level\":\"ERROR\","
                     "\"destinations\":[{\"cloudWatchLogsLogGroup\":{"
                     "\"logGroupArn\":\"" LOG_GROUP "\"}}]}'"));
  json_decref(aws(0, "tag-resource --resource-arn " M
                     "cli --tags key=env,value=dev"));
  json_decref(aws(0, "untag-resource --resource-arn " M "cli --tag-keys team"));
  json_t *v = aws(0, "list-tags-for-resource --resource-arn " M "cli");
  char *tags = json_dumps(json_object_get(v, "tags"), JSON_COMPACT);
  cr_assert_str_eq(tags, "[{\"key\":\"env\",\"value\":\"dev\"}]");
  free(tags);
  json_decref(v);
  v = aws(0, "describe-state-machine --state-machine-arn " M "cli");
  cr_assert_str_eq(str(json_object_get(v, "loggingConfiguration"), "level"),
                   "ERROR");
  cr_assert(json_is_true(json_object_get(
      json_object_get(v, "tracingConfiguration"), "enabled")));
  json_decref(v);
  json_decref(aws(0, "start-execution --state-machine-arn " M
                     "cli --name one"));
  json_decref(gwt_sfn_wait(GWT_EXEC_ARN "cli:one"));
  v = aws(0, "describe-state-machine-for-execution --execution-arn "
             GWT_EXEC_ARN "cli:one");
  cr_assert_str_eq(str(v, "definition"), PASS);
  json_decref(v);
  json_decref(aws(254, "list-tags-for-resource --resource-arn " M "cli:1"));
  gwt_finish();
}

/* Run sfn_boto3_flow.py with `python` in `mode`; it prints OK. */
static void boto3_flow(const char *python, const char *mode) {
  char *cmd = wft_strf("%s %s/tests/support/sfn_boto3_flow.py %d %s", python,
                       WF_SOURCE_DIR, gwt_srv.port, mode);
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert(rc == 0 && strstr(out, "OK"), "%s\n%s", cmd, out);
  free(out);
  free(cmd);
}

Test(gateway_sfn_api, debian_boto3_tags_and_configures_machines) {
  cr_assert_eq(system("/usr/bin/python3 -c 'import boto3' 2>/dev/null"), 0,
               "boto3 is required: apt-get install python3-boto3");
  gwt_sfn_start(NULL);
  gwt_client_env();
  boto3_flow("/usr/bin/python3", "basic");
  gwt_finish();
}

/* A Python whose boto3 knows aliases (1.26.137 or later). */
static const char *python_with_aliases(void) {
  return gwt_python_where(
      "import boto3, sys; sys.exit(not hasattr(boto3.client("
      "\"stepfunctions\", region_name=\"us-east-1\"), "
      "\"create_state_machine_alias\"))");
}

Test(gateway_sfn_api, boto3_routes_through_aliases) {
  const char *py = python_with_aliases();
  if (!py)
    cr_skip_test("no boto3 with aliases (1.26.137 or later) here: Debian "
                 "12's python3-boto3 1.26.27 and AWS CLI 2.9.19 predate "
                 "them");
  gwt_sfn_start(NULL);
  gwt_client_env();
  boto3_flow(py, "aliases");
  gwt_finish();
}
