/* CORS: preflight answers and the headers of actual responses, for the
 * origins the configuration lists (exact origins, or "*"). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"

/* The configured entry matching `origin`, or NULL. Origins compare without
 * case (scheme and host are case-insensitive). */
static const char *allowed(const gw_config *cfg, const char *origin) {
  if (!origin || !*origin) return NULL;
  for (size_t i = 0; i < cfg->cors.norigins; i++)
    if (strcmp(cfg->cors.origins[i], "*") == 0 ||
        strcasecmp(cfg->cors.origins[i], origin) == 0)
      return cfg->cors.origins[i];
  return NULL;
}

/* The Origin echoed back is a configured one when "*" is not in use, so no
 * client text ever reaches the header; with "*" the literal "*" goes. */
static void allow_origin(const gw_config *cfg, const char *entry,
                         gw_response *resp) {
  if (strcmp(entry, "*") == 0) {
    gw_respond_header(resp, "Access-Control-Allow-Origin", "*");
  } else {
    gw_respond_header(resp, "Access-Control-Allow-Origin", entry);
    gw_respond_header(resp, "Vary", "Origin");
  }
  if (cfg->cors.allow_credentials)
    gw_respond_header(resp, "Access-Control-Allow-Credentials", "true");
}

static bool method_listed(const char *methods, const char *m) {
  size_t n = strlen(m);
  for (const char *p = methods; (p = strstr(p, m)); p += n)
    if ((p == methods || p[-1] == ' ' || p[-1] == ',') &&
        (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
      return true;
  return false;
}

void gw_cors_preflight(const gw_config *cfg, const gw_request *req,
                       const char *methods, gw_response *resp) {
  const char *origin = gw_request_header(req, "Origin");
  const char *want = gw_request_header(req, "Access-Control-Request-Method");
  if (!origin) { /* a plain OPTIONS: say what the path allows */
    resp->status = 204;
    gw_respond_header(resp, "Allow", methods);
    return;
  }
  const char *entry = allowed(cfg, origin);
  if (!entry) {
    gw_respond_error(resp, req, 403, "CorsOriginNotAllowed",
                     "the Origin is not allowed to call this API");
    return;
  }
  if (!want || !method_listed(methods, want)) {
    gw_respond_error(resp, req, 403, "CorsMethodNotAllowed",
                     "this path allows %s", methods);
    return;
  }
  resp->status = 204;
  allow_origin(cfg, entry, resp);
  gw_respond_header(resp, "Access-Control-Allow-Methods", methods);
  gw_respond_header(resp, "Access-Control-Allow-Headers",
                    cfg->cors.allow_headers);
  char age[16];
  snprintf(age, sizeof age, "%u", cfg->cors.max_age_s);
  gw_respond_header(resp, "Access-Control-Max-Age", age);
}

void gw_cors_decorate(const gw_config *cfg, const gw_request *req,
                      gw_response *resp) {
  const char *origin = gw_request_header(req, "Origin");
  const char *entry = allowed(cfg, origin);
  if (!entry) return;
  allow_origin(cfg, entry, resp);
  gw_respond_header(resp, "Access-Control-Expose-Headers",
                    cfg->cors.expose_headers);
}
