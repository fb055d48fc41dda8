/* Routing: which route a path is, which methods it takes, and what stands
 * in front of the route — CORS preflight, throttling, API keys. Order
 * matters: the client is identified (API key, else address) before the
 * key is judged, so guessing keys is throttled like anything else. */
#include <stdio.h>
#include <string.h>

#include "core.h"

typedef enum route {
  R_NONE,
  R_PROCESS,
  R_EXECUTION,
  R_HEALTH,
  R_SFN,
  R_CONSOLE
} route;

typedef struct route_info {
  route r;
  const char *methods; /* for Allow and CORS preflight */
} route_info;

static route_info match(const char *path) {
  if (strcmp(path, "/process") == 0) return (route_info){R_PROCESS, "POST, OPTIONS"};
  if (strcmp(path, "/health") == 0)
    return (route_info){R_HEALTH, "GET, HEAD, OPTIONS"};
  if (strcmp(path, "/") == 0) return (route_info){R_SFN, "POST, OPTIONS"};
  if (strncmp(path, "/console", 8) == 0 && (!path[8] || path[8] == '/'))
    return (route_info){R_CONSOLE, "GET, POST"};
  /* /executions/{id} and /executions/{id}/history */
  const char *prefix = "/executions/";
  size_t n = strlen(prefix);
  if (strncmp(path, prefix, n) == 0 && path[n] && path[n] != '/') {
    const char *rest = strchr(path + n, '/');
    if (!rest || strcmp(rest, "/history") == 0)
      return (route_info){R_EXECUTION, "GET, OPTIONS"};
  }
  return (route_info){R_NONE, NULL};
}

static bool method_ok(route r, const char *m) {
  switch (r) {
    case R_PROCESS:
    case R_SFN: return strcmp(m, "POST") == 0;
    case R_HEALTH: return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    case R_EXECUTION: return strcmp(m, "GET") == 0;
    case R_CONSOLE: return strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0;
    default: return false;
  }
}

static void throttled(gw_response *resp, const gw_request *req, route r,
                      unsigned retry_after) {
  char secs[16];
  snprintf(secs, sizeof secs, "%u", retry_after);
  if (r == R_SFN)
    gw_sfn_error(resp, 429, "ThrottlingException", "Rate exceeded");
  else
    gw_respond_error(resp, req, 429, "TooManyRequests",
                     "rate limit exceeded; retry after %u s", retry_after);
  gw_respond_header(resp, "Retry-After", secs);
}

/* Throttle, then judge the key. Returns false when resp is the answer. */
static bool admit(gw_server *srv, const gw_request *req, route r,
                  gw_response *resp) {
  const gw_config *cfg = srv->g.cfg;
  const gw_api_key *who = NULL;
  /* The AWS API authenticates with SigV4 in its own module, the console
   * with a key or a session (console/console_session.c). */
  gw_auth a = r == R_SFN || r == R_CONSOLE ? GW_AUTH_OPEN
                                           : gw_auth_check(cfg, req, &who);
  if (srv->g.throttle) {
    char key[300];
    snprintf(key, sizeof key, "%s:%s", who ? "key" : "addr",
             who ? who->name : req->client);
    unsigned retry = 1;
    if (!gw_throttle_take(srv->g.throttle, key, &retry)) {
      throttled(resp, req, r, retry);
      return false;
    }
  }
  if (a == GW_AUTH_MISSING) {
    gw_respond_error(resp, req, 401, "Unauthorized",
                     "an API key is required in the x-api-key header");
    return false;
  }
  if (a == GW_AUTH_INVALID) {
    gw_respond_error(resp, req, 403, "Forbidden", "the API key is not valid");
    return false;
  }
  return true;
}

static void route_sfn_entry(gw_server *srv, const gw_request *req,
                            gw_response *resp) {
  const char *target = gw_request_header(req, "X-Amz-Target");
  if (!target || strncmp(target, "AWSStepFunctions.", 17) != 0) {
    gw_sfn_error(resp, 400, "UnknownOperationException",
                 "the X-Amz-Target header must name an AWSStepFunctions "
                 "operation");
    return;
  }
  gw_route_sfn(&srv->g, req, resp);
}

void gw_dispatch_too_large(gw_server *srv, const gw_request *req,
                           gw_response *resp) {
  size_t max = srv->g.cfg->limits.max_body_bytes;
  if (match(req->path).r != R_SFN) {
    gw_respond_error(resp, req, 413, "PayloadTooLarge",
                     "the body exceeds %zu bytes", max);
    return;
  }
  /* AWS documents no error of its own for a request over its size quota;
   * RequestEntityTooLarge is HTTP's name for the status, which SDKs
   * report as the error's code. */
  gw_sfn_error(resp, 413, "RequestEntityTooLarge",
               "The request body exceeds %zu bytes (limits.maxBodyBytes)",
               max);
  char id[37];
  gw_uuid(id);
  gw_respond_header(resp, "x-amzn-RequestId", id);
}

void gw_dispatch(gw_server *srv, const gw_request *req, gw_response *resp) {
  const gw_config *cfg = srv->g.cfg;
  route_info ri = match(req->path);
  if (ri.r == R_NONE) {
    gw_respond_error(resp, req, 404, "NotFound", "no such resource");
  } else if (strcmp(req->method, "OPTIONS") == 0) {
    gw_cors_preflight(cfg, req, ri.methods, resp);
    return; /* the preflight wrote its own CORS headers */
  } else if (!method_ok(ri.r, req->method)) {
    gw_respond_error(resp, req, 405, "MethodNotAllowed",
                     "this resource allows %s", ri.methods);
    gw_respond_header(resp, "Allow", ri.methods);
  } else if (ri.r == R_HEALTH) {
    gw_route_health(&srv->g, req, resp); /* probes are never throttled */
  } else if (admit(srv, req, ri.r, resp)) {
    if (ri.r == R_PROCESS) gw_route_process(&srv->g, req, resp);
    else if (ri.r == R_EXECUTION) gw_route_executions(&srv->g, req, resp);
    else if (ri.r == R_CONSOLE) gw_route_console(&srv->g, req, resp);
    else route_sfn_entry(srv, req, resp);
  }
  gw_cors_decorate(cfg, req, resp);
}
