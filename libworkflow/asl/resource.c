/* Which Task resources AWS recognises: Lambda function ARNs, activity ARNs,
 * the optimized service integrations (arn:aws:states:::service:api with
 * their .sync / .sync:2 / .waitForTaskToken variants) and the AWS SDK
 * integrations (arn:aws:states:::aws-sdk:service:action). An integration
 * may also name a region and an account, as the console's exports write
 * it (arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject); the
 * ARN format has the two fields, and emulators tested against AWS
 * (LocalStack) read them as the call's region and account. Such a task is
 * routed by its short form. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "compile.h"

/* Optimized integrations: "service:api" and the suffixes each accepts
 * (R = request-response, S = .sync, 2 = .sync:2, T = .waitForTaskToken). */
static const struct {
  const char *api;
  const char *modes;
} INTEGRATIONS[] = {
    {"lambda:invoke", "RT"},
    {"sns:publish", "RT"},
    {"sqs:sendMessage", "RT"},
    {"dynamodb:getItem", "R"},
    {"dynamodb:putItem", "R"},
    {"dynamodb:updateItem", "R"},
    {"dynamodb:deleteItem", "R"},
    {"states:startExecution", "RS2T"},
    {"batch:submitJob", "RST"},
    {"ecs:runTask", "RST"},
    {"glue:startJobRun", "RS"},
    {"codebuild:startBuild", "RS"},
    {"codebuild:stopBuild", "R"},
    {"codebuild:batchDeleteBuilds", "R"},
    {"codebuild:batchGetReports", "R"},
    {"codebuild:startBuildBatch", "RS"},
    {"codebuild:retryBuild", "RS"},
    {"codebuild:retryBuildBatch", "RS"},
    {"codebuild:stopBuildBatch", "R"},
    {"codebuild:deleteBuildBatch", "R"},
    {"athena:startQueryExecution", "RS"},
    {"athena:stopQueryExecution", "R"},
    {"athena:getQueryExecution", "R"},
    {"athena:getQueryResults", "R"},
    {"athena:startSession", "RS"},
    {"athena:getSession", "R"},
    {"athena:getSessionStatus", "R"},
    {"athena:terminateSession", "RS"},
    {"athena:startCalculationExecution", "RS"},
    {"athena:stopCalculationExecution", "R"},
    {"athena:getCalculationExecution", "R"},
    {"athena:getCalculationExecutionStatus", "R"},
    {"athena:getCalculationExecutionCode", "R"},
    {"apigateway:invoke", "RT"},
    {"events:putEvents", "RT"},
    {"http:invoke", "R"},
    {"bedrock:invokeModel", "R"},
    {"bedrock:createModelCustomizationJob", "RS"},
    {"emr-serverless:createApplication", "RS"},
    {"emr-serverless:startApplication", "RS"},
    {"emr-serverless:stopApplication", "RS"},
    {"emr-serverless:deleteApplication", "RS"},
    {"emr-serverless:startJobRun", "RS"},
    {"emr-serverless:cancelJobRun", "RS"},
    {"elasticmapreduce:createCluster", "RS"},
    {"elasticmapreduce:terminateCluster", "RS"},
    {"elasticmapreduce:addStep", "RS"},
    {"elasticmapreduce:cancelStep", "R"},
    {"elasticmapreduce:setClusterTerminationProtection", "R"},
    {"elasticmapreduce:modifyInstanceFleetByName", "R"},
    {"elasticmapreduce:modifyInstanceGroupByName", "R"},
    {"emr-containers:startJobRun", "RS"},
    {"emr-containers:createVirtualCluster", "R"},
    {"emr-containers:deleteVirtualCluster", "RS"},
    {"eks:createCluster", "RS"},
    {"eks:deleteCluster", "RS"},
    {"eks:createFargateProfile", "RS"},
    {"eks:deleteFargateProfile", "RS"},
    {"eks:createNodegroup", "RS"},
    {"eks:deleteNodegroup", "RS"},
    {"eks:runJob", "RS"},
    {"eks:call", "R"},
    {"sagemaker:createTrainingJob", "RS"},
    {"sagemaker:createTransformJob", "RS"},
    {"sagemaker:createProcessingJob", "RS"},
    {"sagemaker:createHyperParameterTuningJob", "RS"},
    {"sagemaker:createLabelingJob", "RS"},
    {"sagemaker:createModel", "R"},
    {"sagemaker:createEndpoint", "R"},
    {"sagemaker:createEndpointConfig", "R"},
    {"sagemaker:updateEndpoint", "R"},
    {"glue:startCrawler", "R"},
    {"glue:getCrawler", "R"},
    {"databrew:startJobRun", "RS"},
    {"mediaconvert:createJob", "RS"},
    {"redshift-data:executeStatement", "R"},
    {"s3:getObject", "R"},
    {"s3:putObject", "R"},
    {"s3:listObjectsV2", "R"},
};

static bool is_region(const char *s, size_t n) {
  /* e.g. us-east-1, us-gov-west-1, ap-southeast-2 */
  if (n < 6) return false;
  size_t i = 0;
  if (!islower((unsigned char)s[0]) || !islower((unsigned char)s[1]) ||
      s[2] != '-')
    return false;
  for (i = 3; i < n; i++)
    if (!(islower((unsigned char)s[i]) || s[i] == '-' ||
          isdigit((unsigned char)s[i])))
      return false;
  return isdigit((unsigned char)s[n - 1]) && s[n - 2] == '-';
}

static bool is_account(const char *s, size_t n) {
  if (n != 12) return false;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i])) return false;
  return true;
}

static bool is_name(const char *s, size_t n, size_t max, bool allow_dollar) {
  if (n == 0 || n > max) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(isalnum(c) || c == '-' || c == '_' || (allow_dollar && c == '$')))
      return false;
  }
  return true;
}

/* Split "a:b:c" into at most `max` parts; returns the count. */
static size_t split(const char *s, const char *parts[], size_t lens[],
                    size_t max) {
  size_t n = 0;
  const char *start = s;
  for (const char *p = s;; p++) {
    if (*p == ':' || *p == '\0') {
      if (n == max) return max + 1;
      parts[n] = start;
      lens[n] = (size_t)(p - start);
      n++;
      if (*p == '\0') break;
      start = p + 1;
    }
  }
  return n;
}

static bool lambda_arn(const char *p[], const size_t l[], size_t n) {
  /* arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] */
  if (n != 7 && n != 8) return false;
  if (!is_region(p[3], l[3]) || !is_account(p[4], l[4])) return false;
  if (l[5] != 8 || strncmp(p[5], "function", 8) != 0) return false;
  if (!is_name(p[6], l[6], 64, false)) return false;
  if (n == 8) {
    if (l[7] == 7 && strncmp(p[7], "$LATEST", 7) == 0) return true;
    return is_name(p[7], l[7], 128, false);
  }
  return true;
}

static bool is_activity(const char *p[], const size_t l[], size_t n) {
  return n == 7 && l[5] == 8 && strncmp(p[5], "activity", 8) == 0;
}

/* An integration's region and account: both empty (the documented short
 * form) or both given. */
static bool integration_scope(const char *p[], const size_t l[]) {
  if (l[3] == 0 && l[4] == 0) return true;
  return is_region(p[3], l[3]) && is_account(p[4], l[4]);
}

static bool states_arn(const char *p[], const size_t l[], size_t n,
                       const char **mode) {
  /* arn:aws:states:[R:A]:service:api[.suffix] or arn:aws:states:R:A:activity:N */
  *mode = "";
  if (is_activity(p, l, n))
    return is_region(p[3], l[3]) && is_account(p[4], l[4]) &&
           is_name(p[6], l[6], 80, false);
  if (!integration_scope(p, l)) return false;
  const char *rest = p[5];
  if (strncmp(rest, "aws-sdk:", 8) == 0) {
    const char *svc = rest + 8, *colon = strchr(svc, ':');
    if (!colon || colon == svc || !colon[1]) return false;
    const char *dot = strchr(colon, '.');
    if (dot) {
      if (strcmp(dot, ".waitForTaskToken") != 0) return false;
      *mode = ".waitForTaskToken";
    }
    return true;
  }
  char api[128];
  size_t len = strlen(rest);
  const char *dot = strchr(rest, '.');
  size_t api_len = dot ? (size_t)(dot - rest) : len;
  if (api_len >= sizeof api) return false;
  memcpy(api, rest, api_len);
  api[api_len] = '\0';
  char want = 'R';
  if (dot) {
    if (strcmp(dot, ".sync") == 0) want = 'S';
    else if (strcmp(dot, ".sync:2") == 0) want = '2';
    else if (strcmp(dot, ".waitForTaskToken") == 0) want = 'T';
    else return false;
    *mode = dot;
  }
  for (size_t i = 0; i < sizeof INTEGRATIONS / sizeof INTEGRATIONS[0]; i++)
    if (strcmp(INTEGRATIONS[i].api, api) == 0)
      return strchr(INTEGRATIONS[i].modes, want) != NULL;
  return false;
}

bool wf__resource_is_valid(const char *res, wf_machine_type type,
                           const char **why) {
  *why = NULL;
  const char *p[10];
  size_t l[10];
  size_t n = split(res, p, l, 9);
  if (n < 6 || n > 9 || l[0] != 3 || strncmp(p[0], "arn", 3) != 0 ||
      l[1] != 3 || strncmp(p[1], "aws", 3) != 0)
    return false;
  if (l[2] == 6 && strncmp(p[2], "lambda", 6) == 0) return lambda_arn(p, l, n);
  if (l[2] != 6 || strncmp(p[2], "states", 6) != 0) return false;
  const char *mode = "";
  if (!states_arn(p, l, n, &mode)) return false;
  if (type == WF_MACHINE_EXPRESS) {
    if (strncmp(mode, ".sync", 5) == 0) {
      *why = "Express state machine does not support '.sync' service "
             "integration";
      return false;
    }
    if (strcmp(mode, ".waitForTaskToken") == 0) {
      /* AWS's text has a trailing blank before " at <location>". */
      *why = "Express state machine does not support '.waitForTaskToken' "
             "service integration ";
      return false;
    }
    if (is_activity(p, l, n)) {
      /* Recorded on AWS (LocalStack test_sfn_api_express snapshot). */
      *why = "Express state machine does not support Activity ARN";
      return false;
    }
  }
  return true;
}

char *wf__resource_route(const char *res) {
  const char *p[10];
  size_t l[10];
  size_t n = split(res, p, l, 9);
  if (n < 7 || n > 9 || strncmp(res, "arn:aws:states:", 15) != 0 ||
      l[3] == 0 || is_activity(p, l, n) || !integration_scope(p, l))
    return wf__strdup(res);
  size_t len = strlen("arn:aws:states:::") + strlen(p[5]) + 1;
  char *out = wf__malloc(len);
  if (out) snprintf(out, len, "arn:aws:states:::%s", p[5]);
  return out;
}
