/* Real clients against wf-gateway: every operation it serves called by the
 * JavaScript SDKs v3 and v2, by boto3 and by the AWS CLI, each answered with
 * success and with an error (tests/support/sfn_operations*.cjs and .py, at
 * the end), and StartSyncExecution and TestState past the host prefix.
 * Every SDK sends them to the endpoint's host with "sync-" in front, so
 * with the endpoint http://127.0.0.1:PORT they go to sync-127.0.0.1, which
 * does not resolve. Two ways serve them locally:
 *
 *  - an endpoint host whose subdomains resolve to loopback without DNS:
 *    http://sfn.localhost:PORT, with nss-myhostname (Debian's
 *    libnss-myhostname, in scripts/install-deps.sh) mapping *.localhost
 *    to 127.0.0.1 and ::1; every client works with its defaults;
 *  - the client's switch: boto3 Config(inject_host_prefix=False), the
 *    JavaScript SDK's disableHostPrefix, and AWS_DISABLE_HOST_PREFIX_
 *    INJECTION for the AWS CLI and boto3 whose botocore reads it (not
 *    Debian 12's AWS CLI 2.9.19 nor its boto3 1.26.27).
 *
 * The gateway answers whatever Host the request names (signed, as SigV4
 * wants). Requests here are signed: the gateway has access keys. */
#include <criterion/criterion.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sfn_support.h"
#include "support.h"

TestSuite(gateway_clients, .fini = gwt_fini, .timeout = 120);

#define KEYS                                             \
  "aws:\n  accessKeys:\n    - {accessKeyId: " GWT_KEY_ID \
  ", secretAccessKey: \"" GWT_SECRET "\"}\n"
#define DOUBLE                                                              \
  "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\",\"Parameters\":" \
  "{\"n.$\":\"States.MathAdd($.n, $.n)\"},\"End\":true}}}"
/* Where the JavaScript SDKs v3 and v2 are looked for (not part of the
 * repository; scripts/test-all.sh installs them from npm). */
#define JS_SDK WF_BINARY_DIR "/js-sdk/node_modules"
#define JS_SDK_V2 WF_BINARY_DIR "/js-sdk-v2/node_modules"

/* A signed call with Host `host` (NULL: 127.0.0.1:PORT); its 200 answer. */
static json_t *signed_ok(const char *host, const char *op, json_t *body) {
  gwt_signer sg = GWT_SIGNER_OK;
  sg.host = host;
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  gwt_response r = gwt_sfn_signed(&sg, op, text);
  free(text);
  cr_assert_eq(r.status, 200, "%s with Host %s: %ld %s", op,
               host ? host : "(default)", r.status, r.body);
  json_t *v = json_incref(r.json);
  gwt_response_free(&r);
  return v;
}

Test(gateway_clients, start_sync_answers_whatever_the_host) {
  gwt_sfn_start(KEYS);
  json_t *m = signed_ok(
      NULL, "CreateStateMachine",
      json_pack("{s:s, s:s, s:s, s:s}", "name", "double", "type", "EXPRESS",
                "roleArn", GWT_ROLE, "definition", DOUBLE));
  const char *arn = json_string_value(json_object_get(m, "stateMachineArn"));
  char port[16];
  snprintf(port, sizeof port, ":%d", gwt_srv.port);
  /* What the SDKs send, and names no SDK sends. */
  const char *const HOSTS[] = {"sync-127.0.0.1", "sync-sfn.localhost",
                               "sync-states.us-east-1.amazonaws.com",
                               "anything.example", "127.0.0.1"};
  for (size_t i = 0; i < sizeof HOSTS / sizeof HOSTS[0]; i++) {
    char *host = wft_strf("%s%s", HOSTS[i], i % 2 ? port : "");
    json_t *v = signed_ok(
        host, "StartSyncExecution",
        json_pack("{s:s, s:s}", "stateMachineArn", arn, "input", "{\"n\":21}"));
    cr_assert_str_eq(json_string_value(json_object_get(v, "status")),
                     "SUCCEEDED", "Host %s", host);
    cr_assert_str_eq(json_string_value(json_object_get(v, "output")),
                     "{\"n\":42}");
    json_decref(v);
    free(host);
  }
  json_decref(m);
  gwt_finish();
}

/* ---- the clients ----------------------------------------------------------
 */

/* Whether `name` resolves (as every client resolves it: getaddrinfo). */
static bool resolves(const char *name) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  int rc = getaddrinfo(name, "80", &hints, &res);
  if (res) freeaddrinfo(res);
  return rc == 0;
}

static void require_localhost_subdomains(void) {
  cr_assert(resolves("sync-sfn.localhost"),
            "sync-sfn.localhost does not resolve: install libnss-myhostname "
            "(scripts/install-deps.sh), which adds 'myhostname' to the "
            "hosts line of /etc/nsswitch.conf");
}

/* Run `cmd` (a client driving the gateway); it must print OK. */
static void run_ok(const char *cmd) {
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert(rc == 0 && strstr(out, "OK"), "%s\n%s", cmd, out);
  free(out);
}

/* `AWS stepfunctions --endpoint-url http://HOST:PORT ARGS` must exit with
 * `want` and print `expect`. */
static void cli(const char *aws, const char *host, int want, const char *args,
                const char *expect) {
  char *cmd = wft_strf(
      "%s stepfunctions --endpoint-url http://%s:%d "
      "--output json %s",
      aws, host, gwt_srv.port, args);
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert_eq(rc, want, "%s\n%s", cmd, out);
  cr_assert(strstr(out, expect), "%s\nwants %s in:\n%s", cmd, expect, out);
  free(out);
  free(cmd);
}

/* `AWS stepfunctions ... ARGS` must be refused with the error `type`. */
static void cli_refused(const char *aws, const char *host, const char *args,
                        const char *type) {
  char *cmd = wft_strf("%s stepfunctions --endpoint-url http://%s:%d %s", aws,
                       host, gwt_srv.port, args);
  char *out;
  int rc = gwt_shell(&out, cmd);
  /* AWS CLI v2 exits 254 for an error the service answered, v1 255. */
  cr_assert(rc == 254 || rc == 255, "%s\n%s", cmd, out);
  cr_assert(strstr(out, type), "%s", out);
  free(out);
  free(cmd);
}

/* Start-sync on a new EXPRESS machine, a failing one and a STANDARD one
 * (refused) with the AWS CLI `aws` through `host`. */
static void cli_flow(const char *aws, const char *host) {
  const char *m = GWT_MACHINE_ARN;
  cli(aws, host, 0,
      "create-state-machine --name double --type EXPRESS --role-arn " GWT_ROLE
      " --definition '" DOUBLE "'",
      "stateMachineArn");
  cli(aws, host, 0,
      "create-state-machine --name boom --type EXPRESS --role-arn " GWT_ROLE
      " --definition '{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\","
      "\"Error\":\"Boom\",\"Cause\":\"it broke\"}}}'",
      "stateMachineArn");
  cli(aws, host, 0,
      "create-state-machine --name plain --role-arn " GWT_ROLE
      " --definition '{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
      "\"End\":true}}}'",
      "stateMachineArn");
  char *args = wft_strf(
      "start-sync-execution --state-machine-arn %sdouble "
      "--input '{\"n\":21}'",
      m);
  cli(aws, host, 0, args, "\"output\": \"{\\\"n\\\":42}\"");
  free(args);
  args = wft_strf("start-sync-execution --state-machine-arn %sboom", m);
  cli(aws, host, 0, args, "\"error\": \"Boom\"");
  free(args);
  args = wft_strf("start-sync-execution --state-machine-arn %splain", m);
  cli_refused(aws, host, args, "StateMachineTypeNotSupported");
  free(args);
}

Test(gateway_clients, debian_aws_cli_through_a_localhost_subdomain) {
  cr_assert_eq(access("/usr/bin/aws", X_OK), 0,
               "the AWS CLI is required: apt-get install awscli");
  require_localhost_subdomains();
  gwt_sfn_start(KEYS);
  gwt_client_env();
  cli_flow("/usr/bin/aws --no-cli-pager", "sfn.localhost");
  gwt_finish();
}

/* An AWS CLI whose botocore reads AWS_DISABLE_HOST_PREFIX_INJECTION (the
 * shared config's disable_host_prefix_injection), or NULL. */
static const char *cli_with_prefix_switch(void) {
  return gwt_python_where(
      "import awscli, botocore.configprovider as c, sys; "
      "sys.exit(\"disable_host_prefix_injection\" not in "
      "c.BOTOCORE_DEFAUT_SESSION_VARIABLES)");
}

Test(gateway_clients, aws_cli_without_the_host_prefix) {
  const char *py = cli_with_prefix_switch();
  if (!py)
    cr_skip_test(
        "no AWS CLI here reads AWS_DISABLE_HOST_PREFIX_INJECTION "
        "(Debian 12's AWS CLI 2.9.19 does not)");
  gwt_sfn_start(KEYS);
  gwt_client_env();
  setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true", 1);
  char *aws = wft_strf("%s -m awscli", py);
  cli_flow(aws, "127.0.0.1");
  free(aws);
  gwt_finish();
}

/* TestState with the AWS CLI `aws` through `host`: a Pass at DEBUG, a
 * mocked error a retrier would retry, then one a catcher takes. */
static void cli_test_state(const char *aws, const char *host) {
  cli(aws, host, 0,
      "test-state --inspection-level DEBUG --input '{\"a\":2}' --definition "
      "'{\"Type\":\"Pass\",\"Parameters\":{\"b.$\":\"$.a\"},"
      "\"Next\":\"After\"}'",
      "\"afterParameters\": \"{\\\"b\\\":2}\"");
  const char task[] =
      "--definition '{\"Type\":\"Task\",\"Resource\":\"arn:aws:states:::"
      "lambda:invoke\",\"Retry\":[{\"ErrorEquals\":[\"Busy\"]}],"
      "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"Caught\"}],"
      "\"End\":true}' --mock '{\"errorOutput\":{\"error\":\"Busy\"}}'";
  char *args = wft_strf("test-state %s", task);
  cli(aws, host, 0, args, "\"status\": \"RETRIABLE\"");
  free(args);
  args = wft_strf("test-state %s --state-configuration retrierRetryCount=3",
                  task);
  cli(aws, host, 0, args, "\"nextState\": \"Caught\"");
  free(args);
  cli_refused(aws, host, "test-state --definition '{\"Type\":\"Pass\"}'",
              "InvalidDefinition");
}

Test(gateway_clients, aws_cli_test_state) {
  const char *py = cli_with_prefix_switch();
  if (!py)
    cr_skip_test(
        "no AWS CLI here has test-state with mocks (Debian 12's AWS CLI "
        "2.9.19 has no test-state)");
  require_localhost_subdomains();
  gwt_sfn_start(KEYS);
  gwt_client_env();
  char *aws = wft_strf("%s -m awscli", py);
  cli_test_state(aws, "sfn.localhost");
  setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true", 1);
  cli_test_state(aws, "127.0.0.1");
  free(aws);
  gwt_finish();
}

/* sfn_host_prefix.py with `python` in `mode`. */
static void boto3_flow(const char *python, const char *mode) {
  char *cmd = wft_strf("%s %s/tests/support/sfn_host_prefix.py %d %s", python,
                       WF_SOURCE_DIR, gwt_srv.port, mode);
  run_ok(cmd);
  free(cmd);
}

static void require_debian_boto3(void) {
  cr_assert_eq(system("/usr/bin/python3 -c 'import boto3' 2>/dev/null"), 0,
               "boto3 is required: apt-get install python3-boto3");
}

Test(gateway_clients, debian_boto3_without_the_host_prefix) {
  require_debian_boto3();
  gwt_sfn_start(KEYS);
  gwt_client_env();
  boto3_flow("/usr/bin/python3", "no-prefix");
  gwt_finish();
}

Test(gateway_clients, debian_boto3_through_a_localhost_subdomain) {
  require_debian_boto3();
  require_localhost_subdomains();
  gwt_sfn_start(KEYS);
  gwt_client_env();
  boto3_flow("/usr/bin/python3", "localhost");
  gwt_finish();
}

Test(gateway_clients, boto3_reads_the_host_prefix_switch) {
  const char *py = cli_with_prefix_switch();
  if (!py)
    cr_skip_test(
        "no boto3 here reads AWS_DISABLE_HOST_PREFIX_INJECTION "
        "(Debian 12's 1.26.27 does not)");
  gwt_sfn_start(KEYS);
  gwt_client_env();
  setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true", 1);
  boto3_flow(py, "env");
  gwt_finish();
}

static void require_js_sdk(void) {
  if (access(JS_SDK "/@aws-sdk/client-sfn/package.json", R_OK) != 0)
    cr_skip_test(
        "the JavaScript SDK is not installed: npm install "
        "--prefix " WF_BINARY_DIR "/js-sdk @aws-sdk/client-sfn");
}

/* `node tests/support/SCRIPT PORT ARG` with the JavaScript SDK of
 * `sdk` (JS_SDK, JS_SDK_V2). */
static char *js_cmd(const char *sdk, const char *script, const char *arg) {
  return wft_strf(
      "NODE_PATH=%s NODE_NO_WARNINGS=1 node %s/tests/support/%s %d %s", sdk,
      WF_SOURCE_DIR, script, gwt_srv.port, arg);
}

/* sfn_host_prefix.cjs in `mode`. */
static void js_flow(const char *mode) {
  require_js_sdk();
  gwt_sfn_start(KEYS);
  char *cmd = js_cmd(JS_SDK, "sfn_host_prefix.cjs", mode);
  run_ok(cmd);
  free(cmd);
  gwt_finish();
}

Test(gateway_clients, js_sdk_without_the_host_prefix) { js_flow("no-prefix"); }

Test(gateway_clients, js_sdk_through_a_localhost_subdomain) {
  require_localhost_subdomains();
  js_flow("localhost");
}

/* ---- every operation -------------------------------------------------------
 * sfn_operations.cjs (the JavaScript SDK v3), sfn_operations_v2.cjs (v2),
 * both through sfn_operations_scenario.cjs, and sfn_operations.py call each
 * operation the gateway serves, with a success and an error each; they
 * print "DRIVEN" and the operations answered both ways and, for boto3 and
 * the AWS CLI, "LACKING" and those their botocore does not know. */

/* The operations the gateway serves: the names in the OPS table of
 * examples/gateway/sfn/sfn_api.c, read from the source so that one added
 * there must be added to the scripts too. */
static json_t *served_operations(void) {
  char *src =
      wft_read_file(WF_SOURCE_DIR "/examples/gateway/sfn/sfn_api.c", NULL);
  cr_assert(src, "cannot read sfn_api.c");
  const char *at = strstr(src, "} OPS[] = {");
  cr_assert(at, "no OPS table in sfn_api.c");
  const char *end = strstr(at, "};");
  json_t *ops = json_array();
  char name[64];
  for (at = strstr(at, "{\""); at && at < end; at = strstr(at + 2, "{\""))
    if (sscanf(at, "{\"%63[A-Za-z]\"", name) == 1)
      json_array_append_new(ops, json_string(name));
  free(src);
  cr_assert_geq(json_array_size(ops), 37, "the OPS table was misread");
  return ops;
}

/* Whether the line of `out` that starts with `tag` names `op`. */
static bool named(const char *out, const char *tag, const char *op) {
  const char *line = strstr(out, tag);
  if (!line) return false;
  size_t n = strcspn(line, "\n"), k = strlen(op);
  for (const char *p = line + strlen(tag); p < line + n; p++)
    if (p[-1] == ' ' && strncmp(p, op, k) == 0 &&
        (p[k] == ' ' || p[k] == '\n' || p[k] == '\0'))
      return true;
  return false;
}

/* Run `cmd`: it must print OK and, for each operation served, name it
 * DRIVEN (or, where `lacking_ok`, LACKING). */
static void run_every_operation(const char *cmd, bool lacking_ok) {
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert(rc == 0 && strstr(out, "\nOK"), "%s\n%s", cmd, out);
  json_t *ops = served_operations();
  size_t i;
  json_t *op;
  json_array_foreach(ops, i, op) {
    const char *name = json_string_value(op);
    cr_assert(named(out, "DRIVEN ", name) ||
                  (lacking_ok && named(out, "LACKING ", name)),
              "%s was not answered both ways:\n%s", name, out);
  }
  json_decref(ops);
  free(out);
}

/* `script` with the JavaScript SDK of `sdk`: every operation both ways. */
static void js_every_operation(const char *sdk, const char *script) {
  gwt_sfn_start(KEYS);
  char *cmd = js_cmd(sdk, script, "");
  run_every_operation(cmd, false);
  free(cmd);
  gwt_finish();
}

Test(gateway_clients, js_sdk_drives_every_operation) {
  require_js_sdk();
  js_every_operation(JS_SDK, "sfn_operations.cjs");
}

/* The v2 SDK (npm's aws-sdk, 2.1693.0 when written: its StepFunctions model
 * has all 37 operations, the 11 Debian's boto3 and AWS CLI lack among
 * them), so that those have two real clients wherever npm is reachable. */
Test(gateway_clients, js_sdk_v2_drives_every_operation) {
  if (access(JS_SDK_V2 "/aws-sdk/package.json", R_OK) != 0)
    cr_skip_test(
        "the JavaScript SDK v2 is not installed: npm install "
        "--prefix " WF_BINARY_DIR "/js-sdk-v2 aws-sdk");
  js_every_operation(JS_SDK_V2, "sfn_operations_v2.cjs");
}

/* The operations served, each after a space: " CreateStateMachine ...". */
static char *served_names(void) {
  json_t *ops = served_operations();
  char *names = strdup(""), *more;
  size_t i;
  json_t *op;
  json_array_foreach(ops, i, op) {
    more = wft_strf("%s %s", names, json_string_value(op));
    free(names);
    names = more;
  }
  json_decref(ops);
  return names;
}

/* sfn_operations.py with `python` and `client` (boto3, cli), told the
 * operations served. */
static void python_every_operation(const char *python, const char *client,
                                   bool lacking_ok) {
  /* The CLI sends StartSyncExecution and TestState to sfn.localhost. */
  if (strcmp(client, "cli") == 0) require_localhost_subdomains();
  gwt_sfn_start(KEYS);
  gwt_client_env();
  char *names = served_names();
  char *cmd = wft_strf("%s %s/tests/support/sfn_operations.py %d %s%s", python,
                       WF_SOURCE_DIR, gwt_srv.port, client, names);
  free(names);
  run_every_operation(cmd, lacking_ok);
  free(cmd);
  gwt_finish();
}

/* A Python on which `module` ("boto3", "awscli.clidriver") knows every
 * operation served, or NULL. */
static const char *python_knowing_all(const char *module) {
  char *names = served_names();
  char *code = wft_strf(
      "import %s as m, sys; sys.exit(not set(\"%s\".split()) <= set("
      "(m.client(\"stepfunctions\", region_name=\"us-east-1\").meta."
      "service_model if hasattr(m, \"client\") else m.create_clidriver()."
      "session.get_service_model(\"stepfunctions\")).operation_names))",
      module, names);
  free(names);
  const char *py = gwt_python_where(code);
  free(code);
  return py;
}

Test(gateway_clients, debian_boto3_drives_every_operation_it_has) {
  require_debian_boto3();
  python_every_operation("/usr/bin/python3", "boto3", true);
}

/* sfn_operations.py with `client` on a Python whose `module` knows every
 * operation served; skipped where none does, for `why`. */
static void newest_every_operation(const char *module, const char *client,
                                   const char *why) {
  const char *py = python_knowing_all(module);
  if (!py) cr_skip_test("%s", why);
  python_every_operation(py, client, false);
}

Test(gateway_clients, boto3_drives_every_operation) {
  newest_every_operation(
      "boto3", "boto3",
      "no boto3 here knows every operation served (Debian 12's 1.26.27 "
      "predates versions, aliases, validation, redrive and TestState)");
}

Test(gateway_clients, debian_aws_cli_drives_every_operation_it_has) {
  cr_assert_eq(access("/usr/bin/aws", X_OK), 0,
               "the AWS CLI is required: apt-get install awscli");
  python_every_operation("/usr/bin/python3", "cli", true);
}

Test(gateway_clients, aws_cli_drives_every_operation) {
  newest_every_operation(
      "awscli.clidriver", "cli",
      "no AWS CLI here knows every operation served (Debian 12's 2.9.19 "
      "predates versions, aliases, validation, redrive and TestState)");
}
