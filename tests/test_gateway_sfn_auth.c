/* wf-gateway's AWS Step Functions API, authentication and clients: the
 * SigV4 steps against AWS's published test suite (computed here only from
 * AWS's numbers), the gateway's verdicts on signed requests (good, unknown
 * key, wrong secret, expired, wrong scope, unsigned, turned off), a
 * request signed by botocore, and the real AWS CLI (version 2) end to end;
 * a request over the body limit answered in AWS's error shape, as the CLI
 * reads it. Suite gateway_sfn, declared in test_gateway_sfn.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sfn_support.h"
#include "sigv4.h"
#include "support.h"

/* The suite's options (see test_gateway_sfn.c). */
#define AUTH_TEST(name) Test(gateway_sfn, name, .fini = gwt_fini, .timeout = 60)

/* ---- AWS's test suite (aws-sig-v4-test-suite): service "service",
 * us-east-1, 20150830T123600Z, the documentation's example key ---------- */

#define SUITE_DATE "20150830T123600Z"
#define EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static gw_header SUITE_HEADERS[] = {{"Host", "example.amazonaws.com"},
                                    {"X-Amz-Date", SUITE_DATE}};

static gw_request suite_request(const char *method, const char *query) {
  return (gw_request){method, "/", query, SUITE_HEADERS, 2, "", 0, "", ""};
}

static void expect_signature(const gw_request *req, const char *want) {
  char *creq = gw_sigv4_canonical_request(req, "host;x-amz-date");
  char sig[65];
  cr_assert(creq);
  cr_assert_eq(gw_sigv4_signature(sig, GWT_SECRET, SUITE_DATE, "us-east-1",
                                  "service", creq),
               0);
  cr_assert_str_eq(sig, want, "canonical request:\n%s", creq);
  free(creq);
}

AUTH_TEST(sigv4_steps_match_the_aws_test_suite) {
  gw_request req = suite_request("GET", "");
  char *creq = gw_sigv4_canonical_request(&req, "host;x-amz-date");
  cr_assert_str_eq(creq,
                   "GET\n/\n\nhost:example.amazonaws.com\n"
                   "x-amz-date:" SUITE_DATE
                   "\n\nhost;x-amz-date\n" EMPTY_SHA256);
  char *sts = gw_sigv4_string_to_sign(SUITE_DATE, "us-east-1", "service", creq);
  cr_assert_str_eq(sts, "AWS4-HMAC-SHA256\n" SUITE_DATE
                        "\n20150830/us-east-1/service/aws4_request\n"
                        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e"
                        "1c25292927e63");
  free(sts);
  free(creq);
  unsigned char key[32];
  char hex[65];
  gw_sigv4_signing_key(key, GWT_SECRET, "20150830", "us-east-1", "service");
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", key[i]);
  cr_assert_str_eq(hex,
                   "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b"
                   "022aed82901be75");
  /* get-vanilla, get-vanilla-query-order-key-case, post-vanilla */
  expect_signature(&req,
                   "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b"
                   "8aae1d763fbf31");
  req = suite_request("GET", "Param2=value2&Param1=value1");
  expect_signature(&req,
                   "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d"
                   "3219ec94cdf2500");
  req = suite_request("POST", "");
  expect_signature(&req,
                   "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dd"
                   "db68e92efbe5d6b");
}

AUTH_TEST(sigv4_canonical_headers_trim_and_join) {
  gw_header hs[] = {{"Host", "example.amazonaws.com"},
                    {"My-Header1", "  value1   value2  "},
                    {"my-header1", "value3"}};
  gw_request req = {"GET", "/a b", "k=v w", hs, 3, "", 0, "", ""};
  char *creq = gw_sigv4_canonical_request(&req, "host;my-header1");
  cr_assert_str_eq(creq,
                   "GET\n/a%2520b\nk=v%20w\nhost:example.amazonaws.com"
                   "\nmy-header1:value1 value2,value3\n\n"
                   "host;my-header1\n" EMPTY_SHA256);
  free(creq);
}

/* The get-vanilla request, signed, checked at `now`. */
static gw_sigv4_result verify_suite(const char *auth, int64_t now, char *msg,
                                    size_t n) {
  gw_header hs[] = {{"Host", "example.amazonaws.com"},
                    {"X-Amz-Date", SUITE_DATE},
                    {"Authorization", auth}};
  gw_request req = {"GET", "/", "", hs, auth ? 3 : 2, "", 0, "", ""};
  gw_access_key keys[] = {{(char *)"AKIDOTHER", (char *)"x"},
                          {(char *)GWT_KEY_ID, (char *)GWT_SECRET}};
  gw_sigv4_scope sc = {"us-east-1", "service", keys, 2, now, 900};
  return gw_sigv4_verify(&req, &sc, msg, n);
}

#define SUITE_AUTH(cred)                                                    \
  "AWS4-HMAC-SHA256 Credential=" cred                                       \
  ", SignedHeaders=host;x-amz-date, "                                       \
  "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fb" \
  "f31"

AUTH_TEST(sigv4_verification_says_what_is_wrong) {
  const int64_t t = 1440938160; /* 20150830T123600Z */
  char msg[512];
  cr_assert_eq(verify_suite(SUITE_AUTH(GWT_KEY_ID "/20150830/us-east-1/"
                                                  "service/aws4_request"),
                            t + 60, msg, sizeof msg),
               GW_SIGV4_OK, "%s", msg);
  cr_assert_eq(verify_suite(SUITE_AUTH(GWT_KEY_ID "/20150830/us-east-1/"
                                                  "service/aws4_request"),
                            t + 901, msg, sizeof msg),
               GW_SIGV4_INVALID);
  cr_assert_str_eq(msg,
                   "Signature expired: 20150830T123600Z is now earlier "
                   "than 20150830T123601Z (20150830T125101Z - 15 "
                   "min.)");
  cr_assert_eq(verify_suite(SUITE_AUTH(GWT_KEY_ID "/20150830/us-east-1/"
                                                  "service/aws4_request"),
                            t - 901, msg, sizeof msg),
               GW_SIGV4_INVALID);
  cr_assert(strstr(msg, "Signature not yet current"), "%s", msg);
  cr_assert_eq(verify_suite(SUITE_AUTH("AKIDNOBODY/20150830/us-east-1/"
                                       "service/aws4_request"),
                            t, msg, sizeof msg),
               GW_SIGV4_UNKNOWN_KEY);
  cr_assert_eq(verify_suite(SUITE_AUTH("AKIDOTHER/20150830/us-east-1/"
                                       "service/aws4_request"),
                            t, msg, sizeof msg),
               GW_SIGV4_INVALID);
  cr_assert(strstr(msg, "does not match the signature you provided"));
  cr_assert_eq(verify_suite(SUITE_AUTH(GWT_KEY_ID "/20150830/eu-west-1/"
                                                  "service/aws4_request"),
                            t, msg, sizeof msg),
               GW_SIGV4_INVALID);
  cr_assert_str_eq(msg, "Credential should be scoped to a valid region.");
  cr_assert_eq(verify_suite(SUITE_AUTH(GWT_KEY_ID "/20150831/us-east-1/"
                                                  "service/aws4_request"),
                            t, msg, sizeof msg),
               GW_SIGV4_INVALID);
  cr_assert(strstr(msg, "Date in Credential scope does not match"));
  cr_assert_eq(verify_suite(SUITE_AUTH(GWT_KEY_ID "/20150830/us-east-1/"
                                                  "service"),
                            t, msg, sizeof msg),
               GW_SIGV4_INCOMPLETE);
  cr_assert(strstr(msg, "exactly 5 slash-delimited elements"), "%s", msg);
  cr_assert_eq(
      verify_suite("AWS4-HMAC-SHA256 Credential=x", t, msg, sizeof msg),
      GW_SIGV4_INCOMPLETE);
  cr_assert(strstr(msg, "requires 'Signature' parameter"), "%s", msg);
  cr_assert_eq(verify_suite(NULL, t, msg, sizeof msg), GW_SIGV4_MISSING);
}

/* ---- the gateway with access keys --------------------------------------- */

#define KEYS_CONFIG                                      \
  "aws:\n  accessKeys:\n    - {accessKeyId: " GWT_KEY_ID \
  ", secretAccessKey: \"" GWT_SECRET "\"}\n"

/* ListStateMachines signed by `sg` is a 400 of type `code` whose message
 * contains `message`. */
static void expect_signed_refused(const gwt_signer *sg, const char *code,
                                  const char *message) {
  gwt_response r = gwt_sfn_signed(sg, "ListStateMachines", "{}");
  gwt_expect_error(&r, code, message);
  gwt_response_free(&r);
}

AUTH_TEST(signed_requests_are_checked) {
  gwt_sfn_start(KEYS_CONFIG);
  gwt_signer ok = GWT_SIGNER_OK;
  gwt_response r = gwt_sfn_signed(&ok, "ListStateMachines", "{}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);

  r = gwt_sfn("ListStateMachines", "{}");
  gwt_expect_error(&r, "MissingAuthenticationTokenException", NULL);
  gwt_response_free(&r);
  gwt_signer sg = ok;
  sg.key_id = "AKIDNOBODY";
  expect_signed_refused(&sg, "UnrecognizedClientException",
                        "The security token included in the request is "
                        "invalid.");
  sg = ok;
  sg.secret = "not-the-secret";
  expect_signed_refused(&sg, "InvalidSignatureException",
                        "The request signature we calculated does not "
                        "match the signature you provided.");
  sg = ok;
  sg.when = time(NULL) - 20 * 60;
  expect_signed_refused(&sg, "InvalidSignatureException",
                        "Signature expired: ");
  sg = ok;
  sg.region = "eu-west-1";
  expect_signed_refused(&sg, "InvalidSignatureException",
                        "Credential should be scoped to a valid region.");
  sg = ok;
  sg.service = "lambda";
  expect_signed_refused(&sg, "InvalidSignatureException",
                        "Credential should be scoped to correct service: "
                        "'states'.");
  /* A signature without a date is incomplete. */
  const char *auth_only[] = {
      "Content-Type: application/x-amz-json-1.0",
      "X-Amz-Target: AWSStepFunctions.ListStateMachines",
      "Authorization: AWS4-HMAC-SHA256 Credential=" GWT_KEY_ID
      "/20150830/us-east-1/states/"
      "aws4_request, SignedHeaders=host;x-amz-date, "
      "Signature=00",
      NULL};
  r = gwt_request(&gwt_srv, "POST", "/", auth_only, "{}", 2);
  gwt_expect_error(&r, "IncompleteSignatureException",
                   "requires existence of either a 'X-Amz-Date' or a "
                   "'Date' header");
  gwt_response_free(&r);
  gwt_finish();
}

AUTH_TEST(signature_checks_can_be_turned_off) {
  gwt_sfn_start(KEYS_CONFIG "  signatureVersion4: false\n");
  gwt_response r = gwt_sfn("ListStateMachines", "{}");
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  gwt_finish();
}

/* ---- independent signers: botocore and the AWS CLI ---------------------- */

/* Run a command; its stdout (and stderr) into *out. Returns the exit
 * status. */
static int run(char **out, const char *cmd) {
  FILE *p = popen(cmd, "r");
  cr_assert(p, "cannot run: %s", cmd);
  size_t n = 0, cap = 4096;
  char *buf = malloc(cap);
  for (size_t k; (k = fread(buf + n, 1, cap - n - 1, p)) > 0;) {
    n += k;
    if (cap - n < 1024) buf = realloc(buf, cap *= 2);
  }
  buf[n] = '\0';
  int st = pclose(p);
  *out = buf;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* A Python that has botocore: the AWS CLI's own library. */
static const char *python_with_botocore(void) {
  return gwt_python_where("import botocore");
}

static const char BOTOCORE_CALL[] =
    "import sys, urllib.request, urllib.error\n"
    "from botocore.auth import SigV4Auth\n"
    "from botocore.awsrequest import AWSRequest\n"
    "from botocore.credentials import Credentials\n"
    "port, key, secret = sys.argv[1], sys.argv[2], sys.argv[3]\n"
    "url = 'http://127.0.0.1:%s/' % port\n"
    "req = AWSRequest(method='POST', url=url, data=b'{}', headers={\n"
    "  'Content-Type': 'application/x-amz-json-1.0',\n"
    "  'X-Amz-Target': 'AWSStepFunctions.ListStateMachines'})\n"
    "SigV4Auth(Credentials(key, secret), 'states', 'us-east-1')"
    ".add_auth(req)\n"
    "p = req.prepare()\n"
    "r = urllib.request.Request(url, data=p.body, headers=dict(p.headers),"
    " method='POST')\n"
    "try:\n"
    "  with urllib.request.urlopen(r) as f:\n"
    "    print(f.status, f.read().decode())\n"
    "except urllib.error.HTTPError as e: print(e.code, e.read().decode())\n";

AUTH_TEST(a_request_signed_by_botocore_is_accepted) {
  const char *py = python_with_botocore();
  cr_assert(py, "botocore is required (Debian package awscli)");
  gwt_sfn_start(KEYS_CONFIG);
  char script[] = "/tmp/wf-sfn-botocore-XXXXXX";
  int fd = mkstemp(script);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, BOTOCORE_CALL, strlen(BOTOCORE_CALL)),
               (ssize_t)strlen(BOTOCORE_CALL));
  close(fd);
  const char *secrets[] = {GWT_SECRET, "wrong-secret"};
  for (int i = 0; i < 2; i++) {
    char *cmd = wft_strf("%s %s %d %s '%s' 2>&1", py, script, gwt_srv.port,
                         GWT_KEY_ID, secrets[i]);
    char *out;
    cr_assert_eq(run(&out, cmd), 0, "%s", out);
    if (i == 0)
      cr_assert(strncmp(out, "200 {\"stateMachines\":", 20) == 0, "%s", out);
    else
      cr_assert(strncmp(out, "400 ", 4) == 0 &&
                    strstr(out, "InvalidSignatureException"),
                "%s", out);
    free(out);
    free(cmd);
  }
  unlink(script);
  gwt_finish();
}

/* The AWS CLI version 2 (Debian's awscli): --no-cli-pager is its option. */
static const char *aws_cli(void) {
  static const char *const CANDIDATES[] = {"/usr/bin/aws", "aws"};
  for (size_t i = 0; i < 2; i++) {
    char *cmd = wft_strf("%s --version 2>&1", CANDIDATES[i]);
    char *out;
    int rc = run(&out, cmd);
    bool v2 = rc == 0 && strncmp(out, "aws-cli/2.", 10) == 0;
    free(out);
    free(cmd);
    if (v2) return CANDIDATES[i];
  }
  return NULL;
}

/* `aws stepfunctions <args>` against the gateway; the output parsed as
 * JSON when the command succeeds. */
static json_t *cli(const char *aws, int want_rc, char **text,
                   const char *args) {
  char *cmd = wft_strf(
      "%s stepfunctions --endpoint-url "
      "http://127.0.0.1:%d --no-cli-pager --output json "
      "%s 2>&1",
      aws, gwt_srv.port, args);
  char *out;
  int rc = run(&out, cmd);
  cr_assert_eq(rc, want_rc, "%s\n%s", cmd, out);
  json_t *v = rc == 0 ? json_loads(out, 0, NULL) : NULL;
  if (rc == 0) cr_assert(v, "not JSON: %s", out);
  free(cmd);
  if (text)
    *text = out;
  else
    free(out);
  return v;
}

AUTH_TEST(the_aws_cli_drives_a_workflow_end_to_end) {
  const char *aws = aws_cli();
  cr_assert(aws,
            "the AWS CLI version 2 is required: apt-get install "
            "awscli");
  gwt_sfn_start(KEYS_CONFIG);
  gwt_client_env();

  json_t *v = cli(aws, 0, NULL,
                  "create-state-machine --name cli-flow --role-arn " GWT_ROLE
                  " --definition '{\"StartAt\":\"Hello\",\"States\":{"
                  "\"Hello\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:"
                  "lambda:us-east-1:123456789012:function:Hello\","
                  "\"Next\":\"Done\"},\"Done\":{\"Type\":\"Pass\","
                  "\"End\":true}}}'");
  cr_assert_str_eq(json_string_value(json_object_get(v, "stateMachineArn")),
                   GWT_MACHINE_ARN "cli-flow");
  /* The CLI parsed the epoch timestamp: it prints ISO 8601. */
  const char *date = json_string_value(json_object_get(v, "creationDate"));
  cr_assert(date && strchr(date, 'T'), "creationDate: %s",
            date ? date : "(not a string)");
  json_decref(v);

  v = cli(aws, 0, NULL,
          "start-execution --state-machine-arn " GWT_MACHINE_ARN
          "cli-flow --name cli-run --input '{\"n\":1}'");
  cr_assert_str_eq(json_string_value(json_object_get(v, "executionArn")),
                   GWT_EXEC_ARN "cli-flow:cli-run");
  json_decref(v);

  const char *status = NULL;
  for (int i = 0; i < 40; i++) {
    v = cli(aws, 0, NULL,
            "describe-execution --execution-arn " GWT_EXEC_ARN
            "cli-flow:cli-run");
    status = json_string_value(json_object_get(v, "status"));
    if (status && strcmp(status, "RUNNING") != 0) break;
    json_decref(v);
    v = NULL;
    usleep(100000);
  }
  cr_assert(v, "the execution never finished");
  cr_assert_str_eq(status, "SUCCEEDED");
  cr_assert(strstr(json_string_value(json_object_get(v, "output")),
                   "Hello from Hello"));
  json_decref(v);

  v = cli(aws, 0, NULL,
          "get-execution-history --execution-arn " GWT_EXEC_ARN
          "cli-flow:cli-run");
  json_t *events = json_object_get(v, "events");
  cr_assert(json_array_size(events) >= 6);
  json_t *first = json_array_get(events, 0);
  cr_assert_str_eq(json_string_value(json_object_get(first, "type")),
                   "ExecutionStarted");
  cr_assert(json_is_string(json_object_get(first, "timestamp")));
  cr_assert_str_eq(
      json_string_value(json_object_get(
          json_array_get(events, json_array_size(events) - 1), "type")),
      "ExecutionSucceeded");
  json_decref(v);

  v = cli(aws, 0, NULL,
          "list-executions --state-machine-arn " GWT_MACHINE_ARN "cli-flow");
  json_t *list = json_object_get(v, "executions");
  cr_assert_eq(json_array_size(list), 1);
  cr_assert_str_eq(
      json_string_value(json_object_get(json_array_get(list, 0), "name")),
      "cli-run");
  json_decref(v);

  char *text;
  cli(aws, 254, &text,
      "describe-execution --execution-arn " GWT_EXEC_ARN "cli-flow:nobody");
  cr_assert(strstr(text, "(ExecutionDoesNotExist)"), "%s", text);
  free(text);
  /* A wrong secret is refused with AWS's words. */
  setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret", 1);
  cli(aws, 254, &text, "list-state-machines");
  cr_assert(strstr(text, "(InvalidSignatureException)"), "%s", text);
  free(text);
  gwt_finish();
}

/* ---- a body over limits.maxBodyBytes ------------------------------------ */

static char *header_of(const gwt_response *r, const char *name) {
  char *v = gwt_header(r, name);
  return v ? v : strdup("(none)");
}

/* AWS's JSON protocol error: the status, x-amzn-ErrorType, AWS's media
 * type, a request id, and {"__type", "message"}. */
static void expect_aws_413(const gwt_response *r, const char *what) {
  cr_assert_eq(r->status, 413, "%s: %ld %s", what, r->status, r->body);
  char *type = header_of(r, "x-amzn-ErrorType");
  char *ct = header_of(r, "Content-Type");
  char *id = header_of(r, "x-amzn-RequestId");
  cr_assert_str_eq(type, "RequestEntityTooLarge", "%s", what);
  cr_assert_str_eq(ct, "application/x-amz-json-1.0", "%s", what);
  cr_assert(strlen(id) == 36, "%s: x-amzn-RequestId %s", what, id);
  cr_assert_str_eq(gwt_str(r, "__type"), "RequestEntityTooLarge", "%s: %s",
                   what, r->body);
  cr_assert_str_eq(gwt_str(r, "message"),
                   "The request body exceeds 65536 bytes "
                   "(limits.maxBodyBytes)",
                   "%s: %s", what, r->body);
  free(type);
  free(ct);
  free(id);
}

AUTH_TEST(a_body_over_the_limit_is_refused_in_aws_shape) {
  gwt_sfn_start(KEYS_CONFIG "limits: {maxBodyBytes: 65536}\n");
  size_t n = 100000;
  char *input = malloc(n + 1);
  memset(input, ' ', n);
  memcpy(input, "{\"a\":1}", 7);
  input[n] = '\0';
  json_t *b = json_pack("{s:s, s:s}", "stateMachineArn",
                        GWT_MACHINE_ARN "hello", "input", input);
  char *body = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  /* Refused before the signature is looked at, as AWS's front end does. */
  const char *plain[] = {"Content-Type: application/x-amz-json-1.0",
                         "X-Amz-Target: AWSStepFunctions.StartExecution",
                         NULL, NULL};
  gwt_response r =
      gwt_request(&gwt_srv, "POST", "/", plain, body, strlen(body));
  expect_aws_413(&r, "by Content-Length");
  gwt_response_free(&r);
  plain[2] = "Expect: 100-continue"; /* answered before the body */
  r = gwt_request(&gwt_srv, "POST", "/", plain, body, strlen(body));
  expect_aws_413(&r, "with Expect: 100-continue");
  gwt_response_free(&r);
  plain[2] = "Transfer-Encoding: chunked"; /* counted as it arrives */
  r = gwt_request(&gwt_srv, "POST", "/", plain, body, strlen(body));
  expect_aws_413(&r, "chunked");
  gwt_response_free(&r);
  /* /process keeps the gateway's own shape. */
  const char *process[] = {"Content-Type: application/json",
                           "x-api-key: " GWT_API_KEY, NULL};
  r = gwt_request(&gwt_srv, "POST", "/process", process, body, strlen(body));
  cr_assert_eq(r.status, 413, "%s", r.body);
  cr_assert_str_eq(gwt_str(&r, "error"), "PayloadTooLarge", "%s", r.body);
  cr_assert_null(gwt_str(&r, "__type"));
  char *type = gwt_header(&r, "x-amzn-ErrorType");
  cr_assert_null(type, "x-amzn-ErrorType: %s", type);
  gwt_response_free(&r);

  /* The AWS CLI (botocore) reads the error's code and message. */
  const char *aws = aws_cli();
  cr_assert(aws, "the AWS CLI version 2 is required: apt-get install "
                 "awscli");
  gwt_client_env();
  char path[] = "/tmp/wf-sfn-input-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(write(fd, input, n), (ssize_t)n);
  close(fd);
  char *args = wft_strf("start-execution --state-machine-arn " GWT_MACHINE_ARN
                        "hello --input file://%s",
                        path);
  char *text;
  cli(aws, 254, &text, args);
  cr_assert(strstr(text, "An error occurred (RequestEntityTooLarge) when "
                         "calling the StartExecution operation: The request "
                         "body exceeds 65536 bytes (limits.maxBodyBytes)"),
            "%s", text);
  free(text);
  free(args);
  unlink(path);
  free(body);
  free(input);
  gwt_finish();
}
