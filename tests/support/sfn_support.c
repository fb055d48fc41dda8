/* wf-gateway AWS API test helpers (see sfn_support.h). */
#include "sfn_support.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sigv4.h"
#include "support.h"

void gwt_sfn_start(const char *extra) {
  char *cfg = wft_strf("%s%s", GWT_SFN_CONFIG, extra ? extra : "");
  cr_assert(gwt_start(&gwt_srv, cfg), "the gateway did not start");
  free(cfg);
}

static gwt_response post(const char *op, const char *body,
                         const char *const *extra) {
  char *target = wft_strf("X-Amz-Target: AWSStepFunctions.%s", op);
  const char *headers[8] = {"Content-Type: application/x-amz-json-1.0", target};
  size_t n = 2;
  for (size_t i = 0; extra && extra[i] && n < 7; i++) headers[n++] = extra[i];
  headers[n] = NULL;
  gwt_response r =
      gwt_request(&gwt_srv, "POST", "/", headers, body, strlen(body));
  free(target);
  return r;
}

gwt_response gwt_sfn(const char *op, const char *body_fmt, ...) {
  va_list ap;
  va_start(ap, body_fmt);
  char *body = NULL;
  if (vasprintf(&body, body_fmt, ap) < 0) body = NULL;
  va_end(ap);
  cr_assert(body);
  gwt_response r = post(op, body, NULL);
  free(body);
  return r;
}

gwt_response gwt_sfn_obj(const char *op, json_t *body) {
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  cr_assert(text);
  gwt_response r = post(op, text, NULL);
  free(text);
  return r;
}

gwt_response gwt_sfn_merged(const char *op, json_t *body,
                            const char *extra_json) {
  json_t *extra = extra_json ? json_loads(extra_json, 0, NULL) : NULL;
  if (extra_json) cr_assert(extra, "bad test JSON: %s", extra_json);
  json_object_update(body, extra);
  json_decref(extra);
  return gwt_sfn_obj(op, body);
}

json_t *gwt_sfn_ok(gwt_response r) {
  cr_assert_eq(r.status, 200, "%s", r.body);
  json_t *v = json_incref(r.json);
  gwt_response_free(&r);
  return v;
}

gwt_response gwt_sfn_signed(const gwt_signer *sg, const char *op,
                            const char *body) {
  char amz[17], host[128], target[128];
  time_t t = sg->when ? (time_t)sg->when : time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(amz, sizeof amz, "%Y%m%dT%H%M%SZ", &tm);
  if (sg->host)
    snprintf(host, sizeof host, "%s", sg->host);
  else
    snprintf(host, sizeof host, "127.0.0.1:%d", gwt_srv.port);
  snprintf(target, sizeof target, "AWSStepFunctions.%s", op);
  /* The headers as the gateway will see them, for the canonical request. */
  gw_header hs[] = {{"Host", host},
                    {"Content-Type", "application/x-amz-json-1.0"},
                    {"X-Amz-Date", amz},
                    {"X-Amz-Target", target}};
  gw_request req = {"POST", "/", "", hs, 4, body, strlen(body), "", ""};
  const char *signed_headers = "content-type;host;x-amz-date;x-amz-target";
  char *creq = gw_sigv4_canonical_request(&req, signed_headers);
  char sig[65];
  cr_assert(creq && gw_sigv4_signature(sig, sg->secret, amz, sg->region,
                                       sg->service, creq) == 0);
  free(creq);
  char *auth =
      wft_strf("Authorization: " GW_SIGV4_ALGORITHM
               " Credential=%s/%.8s/%s/%s/aws4_request, "
               "SignedHeaders=%s, Signature=%s",
               sg->key_id, amz, sg->region, sg->service, signed_headers, sig);
  char *date = wft_strf("X-Amz-Date: %s", amz);
  char *host_h = wft_strf("Host: %s", host);
  const char *extra[] = {auth, date, host_h, NULL};
  gwt_response r = post(op, body, extra);
  free(auth);
  free(date);
  free(host_h);
  return r;
}

const char *gwt_str(const gwt_response *r, const char *key) {
  return json_string_value(json_object_get(r->json, key));
}

void gwt_expect_error(const gwt_response *r, const char *type,
                      const char *message) {
  cr_assert_eq(r->status, 400, "want a 400 %s, got %ld: %s", type, r->status,
               r->body);
  cr_assert_str_eq(gwt_str(r, "__type"), type, "%s", r->body);
  /* AWS's JSON protocol names the error in a header too. */
  char *h = gwt_header(r, "x-amzn-ErrorType");
  cr_assert(h && strcmp(h, type) == 0, "x-amzn-ErrorType: %s, want %s",
            h ? h : "(none)", type);
  free(h);
  const char *m = gwt_str(r, "message");
  if (message)
    cr_assert(m && strstr(m, message), "message '%s' lacks '%s'",
              m ? m : "(none)", message);
}

json_t *gwt_sfn_wait(const char *execution_arn) {
  for (int i = 0; i < 500; i++) {
    gwt_response r = gwt_sfn("DescribeExecution", "{\"executionArn\":\"%s\"}",
                             execution_arn);
    const char *st = gwt_str(&r, "status");
    if (r.status == 200 && st && strcmp(st, "RUNNING") != 0) {
      json_t *v = json_incref(r.json);
      gwt_response_free(&r);
      return v;
    }
    gwt_response_free(&r);
    usleep(20000);
  }
  return NULL;
}

int gwt_shell(char **out, const char *cmd) {
  char *full = wft_strf("%s 2>&1", cmd);
  FILE *p = popen(full, "r");
  free(full);
  cr_assert(p, "cannot run: %s", cmd);
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  char chunk[4096];
  for (size_t k; (k = fread(chunk, 1, sizeof chunk, p)) > 0;)
    fwrite(chunk, 1, k, mem);
  fclose(mem);
  int st = pclose(p);
  *out = buf;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

void gwt_client_env(void) {
  setenv("AWS_ACCESS_KEY_ID", GWT_KEY_ID, 1);
  setenv("AWS_SECRET_ACCESS_KEY", GWT_SECRET, 1);
  setenv("AWS_DEFAULT_REGION", "us-east-1", 1);
  setenv("AWS_CONFIG_FILE", "/dev/null", 1);
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  unsetenv("AWS_PROFILE");
  unsetenv("AWS_SESSION_TOKEN");
}

void gwt_sfn_start_for_clients(void) {
  cr_assert_eq(system("/usr/bin/python3 -c 'import boto3' 2>/dev/null"), 0,
               "boto3 is required: apt-get install python3-boto3");
  cr_assert_eq(access("/usr/bin/aws", X_OK), 0,
               "the AWS CLI is required: apt-get install awscli");
  gwt_sfn_start(NULL);
  gwt_client_env();
}

void gwt_boto3_script_ok(const char *script) {
  char *cmd = wft_strf("/usr/bin/python3 %s/tests/support/%s %d",
                       WF_SOURCE_DIR, script, gwt_srv.port);
  char *out;
  int rc = gwt_shell(&out, cmd);
  cr_assert(rc == 0 && strstr(out, "OK"), "%s\n%s", cmd, out);
  free(out);
  free(cmd);
}

const char *gwt_python_where(const char *code) {
  static const char *const PYTHONS[] = {"python3", "/usr/bin/python3"};
  for (size_t i = 0; i < 2; i++) {
    char *cmd = wft_strf("%s -c '%s' 2>/dev/null", PYTHONS[i], code);
    int rc = system(cmd);
    free(cmd);
    if (rc == 0) return PYTHONS[i];
  }
  return NULL;
}
