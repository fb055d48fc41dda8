/* Helpers for the wf-gateway AWS Step Functions API tests: calls to
 * POST / with X-Amz-Target, unsigned or signed with SigV4 (the gateway's
 * own signing steps, which test_gateway_sfn_auth.c checks against AWS's
 * published examples and botocore), and polling an execution. */
#ifndef GWT_SFN_SUPPORT_H
#define GWT_SFN_SUPPORT_H

#include <stdint.h>

#include "gateway_support.h"

#define GWT_MACHINE_ARN "arn:aws:states:us-east-1:123456789012:stateMachine:"
#define GWT_EXEC_ARN "arn:aws:states:us-east-1:123456789012:execution:"
#define GWT_EXPRESS_ARN "arn:aws:states:us-east-1:123456789012:express:"
#define GWT_ROLE "arn:aws:iam::123456789012:role/tests"
/* AWS's documentation example credentials. */
#define GWT_KEY_ID "AKIDEXAMPLE"
#define GWT_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
/* The base configuration for these tests: no throttling (they send many
 * requests at once), the hello machine for /process. */
#define GWT_SFN_CONFIG \
  GWT_BASE_CONFIG GWT_PROCESS_HELLO "throttle: {enabled: false}\n"

/* Start the gateway with GWT_SFN_CONFIG plus `extra` (may be NULL);
 * asserts that it started. */
void gwt_sfn_start(const char *extra);

/* One operation, unsigned; the body is printf-formatted. */
gwt_response gwt_sfn(const char *op, const char *body_fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One operation, unsigned, with a body built by jansson (stolen): for
 * definitions and inputs, which are JSON text inside JSON strings. */
gwt_response gwt_sfn_obj(const char *op, json_t *body);

/* The same with the members of `extra_json` (NULL: none) added. */
gwt_response gwt_sfn_merged(const char *op, json_t *body,
                            const char *extra_json);

/* The 200 answer's JSON (a new reference); fails the test otherwise. */
json_t *gwt_sfn_ok(gwt_response r);

/* Signing parameters for gwt_sfn_signed(). */
typedef struct gwt_signer {
  const char *key_id, *secret, *region, *service;
  int64_t when; /* seconds since the epoch; 0: now */
  const char *host; /* the Host header signed and sent; NULL: 127.0.0.1:PORT */
} gwt_signer;
#define GWT_SIGNER_OK \
  { GWT_KEY_ID, GWT_SECRET, "us-east-1", "states", 0, NULL }

/* One operation signed with SigV4 as `sg` says. */
gwt_response gwt_sfn_signed(const gwt_signer *sg, const char *op,
                            const char *body);

/* The response's string member `key` ("__type", "message", ...). */
const char *gwt_str(const gwt_response *r, const char *key);
/* Assert a 400 of `type`; the message must contain `message` (may be
 * NULL). */
void gwt_expect_error(const gwt_response *r, const char *type,
                      const char *message);
/* DescribeExecution until the status is not RUNNING (10 s at most). */
json_t *gwt_sfn_wait(const char *execution_arn);

/* ---- real clients (the AWS CLI, boto3, the JavaScript SDK) -------------- */
/* Run a shell command; its output (stdout and stderr) in *out (free()).
 * Returns the exit status (128 when it did not exit). */
int gwt_shell(char **out, const char *cmd);
/* The environment a client needs for the gateway: the test's access key,
 * region us-east-1, and no configuration files, profiles or instance
 * metadata of the machine's. */
void gwt_client_env(void);
/* The gateway started for Debian's boto3 and AWS CLI (both required), and
 * gwt_client_env(). */
void gwt_sfn_start_for_clients(void);
/* Run tests/support/SCRIPT PORT with Debian's python3: it must print OK
 * and exit 0. */
void gwt_boto3_script_ok(const char *script);
/* The first of python3 (PATH) and /usr/bin/python3 on which the Python
 * statements `code` (between single quotes in a shell command) exit 0, or
 * NULL: where the client a test needs is. */
const char *gwt_python_where(const char *code);

#endif
