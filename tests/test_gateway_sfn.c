/* wf-gateway's AWS Step Functions API, state machines and versions:
 * CreateStateMachine, DescribeStateMachine, ListStateMachines (pages),
 * UpdateStateMachine, DeleteStateMachine, ValidateStateMachineDefinition,
 * PublishStateMachineVersion, ListStateMachineVersions,
 * DeleteStateMachineVersion, and an execution that keeps its version.
 * Executions, tasks and mocks: test_gateway_sfn_exec.c; SigV4 and the AWS
 * CLI: test_gateway_sfn_auth.c (the same suite). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sfn_support.h"
#include "support.h"

/* Every test here and in the suite's other files has the timeout of the
 * other gateway suites: Criterion's runner (Boxfort) drops pending
 * timeouts when a test started later has an earlier deadline, and
 * LeakSanitizer reports what it dropped. */
TestSuite(gateway_sfn, .fini = gwt_fini, .timeout = 60);

#define PASS(result)                                                    \
  "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Result\":" \
  "\"" result "\",\"End\":true}}}"
/* Waits a second, then answers `result`. */
#define WAIT_THEN(result)                                                  \
  "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":1," \
  "\"Next\":\"P\"},\"P\":{\"Type\":\"Pass\",\"Result\":\"" result          \
  "\",\"End\":true}}}"
#define BROKEN                                                        \
  "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":" \
  "\"B\"}}}"

/* Add the members of `extra_json` (may be NULL) to b. */
static void merge(json_t *b, const char *extra_json) {
  json_t *extra = extra_json ? json_loads(extra_json, 0, NULL) : NULL;
  if (extra_json) cr_assert(extra, "bad test JSON: %s", extra_json);
  json_object_update(b, extra);
  json_decref(extra);
}

static gwt_response create(const char *name, const char *def,
                           const char *extra_json) {
  json_t *b = json_pack("{s:s, s:s, s:s}", "name", name, "definition", def,
                        "roleArn", GWT_ROLE);
  merge(b, extra_json);
  return gwt_sfn_obj("CreateStateMachine", b);
}

static void create_ok(const char *name, const char *def) {
  gwt_response r = create(name, def, NULL);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
}

static gwt_response describe(const char *arn) {
  return gwt_sfn("DescribeStateMachine", "{\"stateMachineArn\":\"%s\"}", arn);
}

static gwt_response update(const char *arn, const char *def,
                           const char *extra_json) {
  json_t *b = json_pack("{s:s}", "stateMachineArn", arn);
  if (def) json_object_set_new(b, "definition", json_string(def));
  merge(b, extra_json);
  return gwt_sfn_obj("UpdateStateMachine", b);
}

static bool has_header(const gwt_response *r, const char *name,
                       const char *value) {
  char *v = gwt_header(r, name);
  bool ok = v && (!value || strcmp(v, value) == 0);
  free(v);
  return ok;
}

Test(gateway_sfn, configured_machines_are_listed_and_described) {
  gwt_sfn_start(NULL);
  gwt_response r = gwt_sfn("ListStateMachines", "{}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(has_header(&r, "Content-Type", "application/x-amz-json-1.0"));
  cr_assert(has_header(&r, "x-amzn-RequestId", NULL));
  json_t *list = json_object_get(r.json, "stateMachines");
  cr_assert_eq(json_array_size(list), 3, "%s", r.body);
  const char *names[] = {"hello", "failing", "waiting"};
  for (size_t i = 0; i < 3; i++) {
    json_t *m = json_array_get(list, i);
    cr_assert_str_eq(json_string_value(json_object_get(m, "name")), names[i]);
    char *arn = wft_strf(GWT_MACHINE_ARN "%s", names[i]);
    cr_assert_str_eq(json_string_value(json_object_get(m, "stateMachineArn")),
                     arn);
    free(arn);
    cr_assert_str_eq(json_string_value(json_object_get(m, "type")), "STANDARD");
    json_t *date = json_object_get(m, "creationDate");
    cr_assert(json_is_real(date) && json_real_value(date) > 1.6e9,
              "epoch seconds with a fraction: %s", r.body);
  }
  cr_assert_null(json_object_get(r.json, "nextToken"));
  gwt_response_free(&r);

  r = describe(GWT_MACHINE_ARN "hello");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "name"), "hello");
  cr_assert_str_eq(gwt_str(&r, "status"), "ACTIVE");
  cr_assert_str_eq(gwt_str(&r, "type"), "STANDARD");
  cr_assert_str_eq(gwt_str(&r, "roleArn"),
                   "arn:aws:iam::123456789012:role/wf-gateway");
  cr_assert(strstr(gwt_str(&r, "definition"), "function:Hello"));
  cr_assert_str_eq(
      json_string_value(json_object_get(
          json_object_get(r.json, "loggingConfiguration"), "level")),
      "OFF");
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_sfn, create_describe_and_delete) {
  gwt_sfn_start(NULL);
  /* The definition comes back exactly as given, spaces and all. */
  const char *def =
      "{ \"StartAt\": \"P\", \"States\": { \"P\": { \"Type\": "
      "\"Pass\", \"End\": true } } }";
  gwt_response r = create("m1", def, "{\"type\":\"EXPRESS\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "stateMachineArn"), GWT_MACHINE_ARN "m1");
  cr_assert(json_is_real(json_object_get(r.json, "creationDate")));
  cr_assert_null(json_object_get(r.json, "stateMachineVersionArn"));
  json_t *created = json_incref(json_object_get(r.json, "creationDate"));
  gwt_response_free(&r);

  r = describe(GWT_MACHINE_ARN "m1");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "definition"), def);
  cr_assert_str_eq(gwt_str(&r, "roleArn"), GWT_ROLE);
  cr_assert_str_eq(gwt_str(&r, "type"), "EXPRESS");
  cr_assert_null(json_object_get(r.json, "revisionId"),
                 "none before the first update");
  gwt_response_free(&r);

  /* The same request again is the same machine (idempotent); another
   * definition under the name is refused. */
  r = create("m1", def, "{\"type\":\"EXPRESS\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(json_equal(json_object_get(r.json, "creationDate"), created));
  gwt_response_free(&r);
  json_decref(created);
  r = create("m1", PASS("other"), "{\"type\":\"EXPRESS\"}");
  gwt_expect_error(&r, "StateMachineAlreadyExists",
                   "State Machine Already Exists: '" GWT_MACHINE_ARN "m1'");
  gwt_response_free(&r);

  r = gwt_sfn("DeleteStateMachine",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "m1\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(r.body, "{}");
  gwt_response_free(&r);
  r = describe(GWT_MACHINE_ARN "m1");
  gwt_expect_error(&r, "StateMachineDoesNotExist",
                   "State Machine Does Not Exist: '" GWT_MACHINE_ARN "m1'");
  gwt_response_free(&r);
  /* Deleting what is not there succeeds, as AWS's does. */
  r = gwt_sfn("DeleteStateMachine",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN "m1\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_sfn, create_refuses_what_aws_refuses) {
  gwt_sfn_start(NULL);
  gwt_response r = create("bad", BROKEN, NULL);
  gwt_expect_error(&r, "InvalidDefinition",
                   "Invalid State Machine Definition: "
                   "'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at "
                   "/States/A/Next, MISSING_END_STATE: Workflow has no "
                   "terminal state'");
  gwt_response_free(&r);
  r = create("bad", "{\"StartAt\":", NULL);
  gwt_expect_error(&r, "InvalidDefinition",
                   "INVALID_JSON_DESCRIPTION: Unexpected end-of-input "
                   "within/between Object entries\n at [Source: (String)");
  gwt_response_free(&r);
  r = create("bad name", PASS("x"), NULL);
  gwt_expect_error(&r, "InvalidName", "Invalid Name: 'bad name'");
  gwt_response_free(&r);
  r = gwt_sfn("CreateStateMachine", "{\"definition\":\"{}\"}");
  gwt_expect_error(&r, "ValidationException",
                   "2 validation errors detected: Value null at 'name' "
                   "failed to satisfy constraint: Member must not be null; "
                   "Value null at 'roleArn' failed to satisfy constraint: "
                   "Member must not be null");
  gwt_response_free(&r);
  r = create("typed", PASS("x"), "{\"type\":\"BIG\"}");
  gwt_expect_error(&r, "ValidationException",
                   "Value 'BIG' at 'type' failed to satisfy constraint: "
                   "Member must satisfy enum value set: [STANDARD, "
                   "EXPRESS]");
  gwt_response_free(&r);
  r = gwt_sfn("CreateStateMachine", "{\"name\":5}");
  gwt_expect_error(&r, "SerializationException",
                   "NUMBER_VALUE can not be converted to a String");
  gwt_response_free(&r);
  r = gwt_sfn("CreateStateMachine", "{\"name\":");
  gwt_expect_error(&r, "SerializationException", NULL);
  gwt_response_free(&r);
  r = gwt_sfn("CreateStateMachine", "[1]");
  gwt_expect_error(&r, "SerializationException",
                   "Start of list found where not expected");
  gwt_response_free(&r);
  r = gwt_sfn("ListMapRunItems", "{}");
  gwt_expect_error(&r, "UnknownOperationException", NULL);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_sfn, arns_are_checked) {
  gwt_sfn_start(NULL);
  gwt_response r = describe("nope");
  gwt_expect_error(&r, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: nope'");
  gwt_response_free(&r);
  r = describe(GWT_EXEC_ARN "hello:x");
  gwt_expect_error(&r, "InvalidArn",
                   "Invalid Arn: 'Resource type not valid in this context: "
                   "execution'");
  gwt_response_free(&r);
  r = gwt_sfn("DescribeExecution",
              "{\"executionArn\":\"" GWT_MACHINE_ARN "hello\"}");
  gwt_expect_error(&r, "InvalidArn",
                   "not valid in this context: "
                   "stateMachine");
  gwt_response_free(&r);
  /* Another region's machine, or an alias, is not here. */
  r = describe("arn:aws:states:eu-west-1:123456789012:stateMachine:hello");
  gwt_expect_error(&r, "StateMachineDoesNotExist", NULL);
  gwt_response_free(&r);
  r = describe(GWT_MACHINE_ARN "hello:prod");
  gwt_expect_error(&r, "StateMachineDoesNotExist", NULL);
  gwt_response_free(&r);
  /* A test case runs executions only. */
  r = describe(GWT_MACHINE_ARN "hello#Case");
  gwt_expect_error(&r, "InvalidArn", NULL);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_sfn, validate_lists_the_diagnostics) {
  gwt_sfn_start(NULL);
  json_t *b = json_pack("{s:s}", "definition", PASS("x"));
  gwt_response r = gwt_sfn_obj("ValidateStateMachineDefinition", b);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(r.body,
                   "{\"result\":\"OK\",\"diagnostics\":[],"
                   "\"truncated\":false}");
  gwt_response_free(&r);

  r = gwt_sfn_obj("ValidateStateMachineDefinition",
                  json_pack("{s:s}", "definition", BROKEN));
  cr_assert_eq(r.status, 200, "%s", r.body);
  json_t *want = json_loads(
      "{\"result\":\"FAIL\",\"diagnostics\":[{\"severity\":\"ERROR\","
      "\"code\":\"MISSING_TRANSITION_TARGET\",\"message\":\"Missing 'Next' "
      "target: B\",\"location\":\"/States/A/Next\"},{\"severity\":\"ERROR\","
      "\"code\":\"MISSING_END_STATE\",\"message\":\"Workflow has no terminal "
      "state\"}],\"truncated\":false}",
      0, NULL);
  cr_assert(json_equal(r.json, want), "%s", r.body);
  json_decref(want);
  gwt_response_free(&r);

  r = gwt_sfn_obj(
      "ValidateStateMachineDefinition",
      json_pack("{s:s, s:i}", "definition", BROKEN, "maxResults", 1));
  cr_assert_eq(json_array_size(json_object_get(r.json, "diagnostics")), 1);
  cr_assert(json_is_true(json_object_get(r.json, "truncated")), "%s", r.body);
  gwt_response_free(&r);

  /* EXPRESS rules apply when the type says so. */
  const char *callback =
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:states:::sqs:sendMessage.waitForTaskToken\",\"Parameters\":"
      "{\"QueueUrl\":\"q\",\"MessageBody\":{\"t.$\":\"$$.Task.Token\"}},"
      "\"End\":true}}}";
  r = gwt_sfn_obj("ValidateStateMachineDefinition",
                  json_pack("{s:s}", "definition", callback));
  cr_assert_str_eq(gwt_str(&r, "result"), "OK", "%s", r.body);
  gwt_response_free(&r);
  r = gwt_sfn_obj(
      "ValidateStateMachineDefinition",
      json_pack("{s:s, s:s}", "definition", callback, "type", "EXPRESS"));
  cr_assert_str_eq(gwt_str(&r, "result"), "FAIL", "%s", r.body);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_sfn, list_state_machines_pages_with_tokens) {
  gwt_sfn_start(NULL);
  for (int i = 0; i < 5; i++) {
    char name[8];
    snprintf(name, sizeof name, "m%d", i);
    create_ok(name, PASS("x"));
  }
  const char *want[] = {"hello", "failing", "waiting", "m0",
                        "m1",    "m2",      "m3",      "m4"};
  size_t seen = 0;
  char *token = NULL;
  for (int page = 0; page < 10; page++) {
    gwt_response r =
        token ? gwt_sfn("ListStateMachines",
                        "{\"maxResults\":3,\"nextToken\":\"%s\"}", token)
              : gwt_sfn("ListStateMachines", "{\"maxResults\":3}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *list = json_object_get(r.json, "stateMachines");
    cr_assert(json_array_size(list) <= 3);
    for (size_t i = 0; i < json_array_size(list); i++, seen++)
      cr_assert_str_eq(
          json_string_value(json_object_get(json_array_get(list, i), "name")),
          want[seen]);
    free(token);
    const char *next = gwt_str(&r, "nextToken");
    token = next ? strdup(next) : NULL;
    gwt_response_free(&r);
    if (!token) break;
  }
  cr_assert_eq(seen, 8);

  gwt_response r = gwt_sfn("ListStateMachines", "{\"maxResults\":3}");
  char *good = strdup(gwt_str(&r, "nextToken"));
  gwt_response_free(&r);
  char *forged = strdup(good);
  size_t n = strlen(forged);
  forged[n - 1] = forged[n - 1] == '0' ? '1' : '0';
  r = gwt_sfn("ListStateMachines", "{\"nextToken\":\"%s\"}", forged);
  gwt_expect_error(&r, "InvalidToken", NULL);
  gwt_response_free(&r);
  /* A token belongs to its listing. */
  r = gwt_sfn("ListStateMachineVersions",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
              "hello\",\"nextToken\":\"%s\"}",
              good);
  gwt_expect_error(&r, "InvalidToken", NULL);
  gwt_response_free(&r);
  r = gwt_sfn("ListStateMachines", "{\"maxResults\":1001}");
  gwt_expect_error(&r, "ValidationException",
                   "Value '1001' at 'maxResults' failed to satisfy "
                   "constraint: Member must have value less than or equal "
                   "to 1000");
  gwt_response_free(&r);
  free(good);
  free(forged);
  gwt_finish();
}

Test(gateway_sfn, update_makes_a_new_revision) {
  gwt_sfn_start(NULL);
  create_ok("u", PASS("one"));
  const char *arn = GWT_MACHINE_ARN "u";
  gwt_response r = update(arn, PASS("two"), NULL);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(json_is_real(json_object_get(r.json, "updateDate")));
  const char *rev = gwt_str(&r, "revisionId");
  cr_assert(rev && strlen(rev) == 36, "%s", r.body);
  char *revision = strdup(rev);
  gwt_response_free(&r);
  r = describe(arn);
  cr_assert_str_eq(gwt_str(&r, "definition"), PASS("two"));
  cr_assert_str_eq(gwt_str(&r, "revisionId"), revision);
  gwt_response_free(&r);

  r = update(arn, BROKEN, NULL);
  gwt_expect_error(&r, "InvalidDefinition", "MISSING_TRANSITION_TARGET");
  gwt_response_free(&r);
  r = update(arn, NULL, "{\"roleArn\":\"arn:aws:iam::123456789012:role/b\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_neq(gwt_str(&r, "revisionId"), revision);
  gwt_response_free(&r);
  r = describe(arn);
  cr_assert_str_eq(gwt_str(&r, "definition"), PASS("two"), "unchanged");
  cr_assert_str_eq(gwt_str(&r, "roleArn"), "arn:aws:iam::123456789012:role/b");
  gwt_response_free(&r);

  r = update(arn, NULL, NULL);
  gwt_expect_error(&r, "MissingRequiredParameter", NULL);
  gwt_response_free(&r);
  r = update(GWT_MACHINE_ARN "nobody", PASS("x"), NULL);
  gwt_expect_error(&r, "StateMachineDoesNotExist", NULL);
  gwt_response_free(&r);
  free(revision);
  gwt_finish();
}

static void expect_versions(const char *arn, const char *const *want,
                            size_t n) {
  gwt_response r =
      gwt_sfn("ListStateMachineVersions", "{\"stateMachineArn\":\"%s\"}", arn);
  cr_assert_eq(r.status, 200, "%s", r.body);
  json_t *list = json_object_get(r.json, "stateMachineVersions");
  cr_assert_eq(json_array_size(list), n, "%s", r.body);
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(list, i);
    cr_assert_str_eq(
        json_string_value(json_object_get(v, "stateMachineVersionArn")),
        want[i]);
    cr_assert(json_is_real(json_object_get(v, "creationDate")));
  }
  gwt_response_free(&r);
}

Test(gateway_sfn, versions_are_published_listed_and_deleted) {
  gwt_sfn_start(NULL);
  const char *arn = GWT_MACHINE_ARN "ver";
  gwt_response r = create("ver", PASS("one"),
                          "{\"publish\":true,\"versionDescription\":"
                          "\"first\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "stateMachineVersionArn"),
                   GWT_MACHINE_ARN "ver:1");
  gwt_response_free(&r);
  r = update(arn, PASS("two"),
             "{\"publish\":true,\"versionDescription\":\"second\"}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "stateMachineVersionArn"),
                   GWT_MACHINE_ARN "ver:2");
  char *revision = strdup(gwt_str(&r, "revisionId"));
  gwt_response_free(&r);

  r = describe(GWT_MACHINE_ARN "ver:1");
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "stateMachineArn"), GWT_MACHINE_ARN "ver:1");
  cr_assert_str_eq(gwt_str(&r, "definition"), PASS("one"));
  cr_assert_str_eq(gwt_str(&r, "description"), "first");
  gwt_response_free(&r);

  /* Nothing changed since: the same version (idempotent). */
  r = gwt_sfn("PublishStateMachineVersion", "{\"stateMachineArn\":\"%s\"}",
              arn);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "stateMachineVersionArn"),
                   GWT_MACHINE_ARN "ver:2");
  gwt_response_free(&r);
  r = gwt_sfn("PublishStateMachineVersion",
              "{\"stateMachineArn\":\"%s\",\"revisionId\":\"stale\"}", arn);
  gwt_expect_error(&r, "ConflictException", "stale");
  gwt_response_free(&r);

  const char *both[] = {GWT_MACHINE_ARN "ver:2", GWT_MACHINE_ARN "ver:1"};
  expect_versions(arn, both, 2);
  r = gwt_sfn("ListStateMachineVersions",
              "{\"stateMachineArn\":\"%s\",\"maxResults\":1}", arn);
  cr_assert_eq(json_array_size(json_object_get(r.json, "stateMachineVersions")),
               1);
  char *token = strdup(gwt_str(&r, "nextToken"));
  gwt_response_free(&r);
  r = gwt_sfn("ListStateMachineVersions",
              "{\"stateMachineArn\":\"%s\",\"nextToken\":\"%s\"}", arn, token);
  cr_assert_str_eq(
      json_string_value(json_object_get(
          json_array_get(json_object_get(r.json, "stateMachineVersions"), 0),
          "stateMachineVersionArn")),
      GWT_MACHINE_ARN "ver:1");
  cr_assert_null(json_object_get(r.json, "nextToken"));
  gwt_response_free(&r);
  free(token);

  r = gwt_sfn("DeleteStateMachineVersion",
              "{\"stateMachineVersionArn\":\"%s:1\"}", arn);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  expect_versions(arn, both, 1);
  r = describe(GWT_MACHINE_ARN "ver:1");
  gwt_expect_error(&r, "StateMachineDoesNotExist", NULL);
  gwt_response_free(&r);
  /* Numbers are never reused. */
  r = update(arn, PASS("three"), NULL);
  gwt_response_free(&r);
  r = gwt_sfn("PublishStateMachineVersion", "{\"stateMachineArn\":\"%s\"}",
              arn);
  cr_assert_str_eq(gwt_str(&r, "stateMachineVersionArn"),
                   GWT_MACHINE_ARN "ver:3", "%s", r.body);
  gwt_response_free(&r);
  r = update(arn, PASS("four"), "{\"versionDescription\":\"no\"}");
  gwt_expect_error(&r, "ValidationException", NULL);
  gwt_response_free(&r);

  /* INITIAL: the revision of a machine never updated. */
  create_ok("fresh", PASS("x"));
  r = gwt_sfn("PublishStateMachineVersion",
              "{\"stateMachineArn\":\"" GWT_MACHINE_ARN
              "fresh\",\"revisionId\":\"INITIAL\"}");
  cr_assert_str_eq(gwt_str(&r, "stateMachineVersionArn"),
                   GWT_MACHINE_ARN "fresh:1", "%s", r.body);
  gwt_response_free(&r);
  free(revision);
  gwt_finish();
}

static char *start(const char *arn, const char *name) {
  gwt_response r =
      gwt_sfn("StartExecution", "{\"stateMachineArn\":\"%s\",\"name\":\"%s\"}",
              arn, name);
  cr_assert_eq(r.status, 200, "%s", r.body);
  char *exec = strdup(gwt_str(&r, "executionArn"));
  gwt_response_free(&r);
  return exec;
}

Test(gateway_sfn, an_execution_keeps_the_version_it_started_with) {
  gwt_sfn_start(NULL);
  const char *arn = GWT_MACHINE_ARN "slow";
  gwt_response r = create("slow", WAIT_THEN("v1"), "{\"publish\":true}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  char *on_v1 = start(GWT_MACHINE_ARN "slow:1", "on-v1");
  r = update(arn, WAIT_THEN("v2"), "{\"publish\":true}");
  cr_assert_str_eq(gwt_str(&r, "stateMachineVersionArn"),
                   GWT_MACHINE_ARN "slow:2", "%s", r.body);
  gwt_response_free(&r);
  char *on_latest = start(arn, "on-latest");
  /* Deleting the version stops nothing. */
  r = gwt_sfn("DeleteStateMachineVersion",
              "{\"stateMachineVersionArn\":\"%s:1\"}", arn);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);

  json_t *x = gwt_sfn_wait(on_v1);
  cr_assert(x);
  cr_assert_str_eq(json_string_value(json_object_get(x, "status")),
                   "SUCCEEDED");
  cr_assert_str_eq(json_string_value(json_object_get(x, "output")), "\"v1\"");
  cr_assert_str_eq(
      json_string_value(json_object_get(x, "stateMachineVersionArn")),
      GWT_MACHINE_ARN "slow:1");
  cr_assert_str_eq(json_string_value(json_object_get(x, "stateMachineArn")),
                   arn);
  json_decref(x);
  r = gwt_sfn("GetExecutionHistory",
              "{\"executionArn\":\"%s\",\"maxResults\":1}", on_v1);
  json_t *started =
      json_object_get(json_array_get(json_object_get(r.json, "events"), 0),
                      "executionStartedEventDetails");
  cr_assert_str_eq(
      json_string_value(json_object_get(started, "stateMachineVersionArn")),
      GWT_MACHINE_ARN "slow:1", "%s", r.body);
  cr_assert_str_eq(json_string_value(json_object_get(started, "roleArn")),
                   GWT_ROLE);
  gwt_response_free(&r);
  x = gwt_sfn_wait(on_latest);
  cr_assert_str_eq(json_string_value(json_object_get(x, "output")), "\"v2\"");
  cr_assert_null(json_object_get(x, "stateMachineVersionArn"));
  json_decref(x);

  /* Listing by version: only what started on it. */
  r = gwt_sfn("ListExecutions", "{\"stateMachineArn\":\"%s:2\"}", arn);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_eq(json_array_size(json_object_get(r.json, "executions")), 0);
  gwt_response_free(&r);
  r = gwt_sfn("ListExecutions", "{\"stateMachineArn\":\"%s\"}", arn);
  cr_assert_eq(json_array_size(json_object_get(r.json, "executions")), 2);
  gwt_response_free(&r);
  free(on_v1);
  free(on_latest);
  gwt_finish();
}

/* AWS allows a definition of 1 MiB; inside CreateStateMachine's request it
 * is a JSON string, escaped again. With the default limits.maxBodyBytes a
 * definition near 1 MiB, its Pass result full of quotes and accented
 * letters, goes through as Python's json (botocore, the AWS CLI) writes
 * it, every character outside ASCII escaped: a 2.5 MB request. */
Test(gateway_sfn, a_definition_near_the_size_limit_full_of_escapes_is_created) {
  gwt_sfn_start(NULL); /* default limits */
  static const char HEAD[] = "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
                             "\"Pass\",\"Result\":\"";
  static const char TAIL[] = "\",\"End\":true}}}";
  static const char UNIT[] = "\xc3\xa9\\\""; /* é and \" */
  size_t units = (1000000 - sizeof HEAD - sizeof TAIL) / 4;
  char *def = malloc(sizeof HEAD + sizeof TAIL + units * 4);
  char *p = stpcpy(def, HEAD);
  for (size_t i = 0; i < units; i++) p = stpcpy(p, UNIT);
  strcpy(p, TAIL);
  json_t *b = json_pack("{s:s, s:s, s:s}", "name", "big", "definition", def,
                        "roleArn", GWT_ROLE);
  char *text = json_dumps(b, JSON_COMPACT | JSON_ENSURE_ASCII);
  json_decref(b);
  const char *headers[] = {"Content-Type: application/x-amz-json-1.0",
                           "X-Amz-Target: AWSStepFunctions.CreateStateMachine",
                           NULL};
  size_t len = strlen(text);
  cr_assert(len > 2400000, "the request is %zu bytes", len);
  gwt_response r = gwt_request(&gwt_srv, "POST", "/", headers, text, len);
  cr_assert_eq(r.status, 200, "a %zu-byte request: %ld %.300s", len, r.status,
               r.body);
  gwt_response_free(&r);
  r = describe(GWT_MACHINE_ARN "big");
  cr_assert_eq(r.status, 200, "%.300s", r.body);
  cr_assert_str_eq(gwt_str(&r, "definition"), def);
  gwt_response_free(&r);
  free(text);
  free(def);
  gwt_finish();
}
