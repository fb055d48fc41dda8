/* /console: which page a path is, and who may see it. Assets (the
 * stylesheet and script) and the sign-in form are public; every other
 * page needs what the API needs (an x-api-key header, or a session opened
 * with one), unless the gateway has no keys at all. */
#include <stdio.h>
#include <string.h>

#include "console.h"

#define SEGMENT_MAX 256

/* The path segment after prefix (up to '/' or the end) into out; the rest
 * after it in *rest. False when the path does not start with prefix or
 * the segment is empty or too long. */
static bool segment(const char *path, const char *prefix, char *out,
                    const char **rest) {
  size_t pl = strlen(prefix);
  if (strncmp(path, prefix, pl) != 0) return false;
  const char *s = path + pl;
  size_t n = strcspn(s, "/");
  if (!n || n >= SEGMENT_MAX) return false;
  memcpy(out, s, n);
  out[n] = '\0';
  *rest = s + n;
  return true;
}

static void refuse(cs_ctx *c, cs_access a) {
  if (a == CS_BAD_KEY) {
    cs_answer_message(c->resp, 403, "Forbidden", "the API key is not valid",
                      false);
    return;
  }
  char next[600];
  snprintf(next, sizeof next, "%s%s%s", c->req->path,
           c->req->query[0] ? "?" : "", c->req->query);
  cs_login_page(c->resp, 401, next, NULL);
}

static void not_allowed(cs_ctx *c, const char *allow) {
  gw_respond_header(c->resp, "Allow", allow);
  cs_answer_message(c->resp, 405, "Method not allowed",
                    strcmp(allow, "POST") ? "use GET" : "use POST",
                    c->session);
}

/* A page (GET) or an action (POST: what changes something). */
static void pages(cs_ctx *c, const char *rest) {
  char name[SEGMENT_MAX];
  const char *after;
  bool get = !strcmp(c->req->method, "GET");
  bool post = !strcmp(c->req->method, "POST");
  const char *allow = "GET";
  if (!strcmp(rest, "/validate")) {
    if (get || post) cs_page_validate(c);
    else not_allowed(c, "GET, POST");
    return;
  }
  if (segment(rest, "/machines/", name, &after) && !strcmp(after, "/start")) {
    allow = "POST";
    if (post) cs_action_start(c, name);
  } else if (segment(rest, "/executions/", name, &after) &&
             !strcmp(after, "/stop")) {
    allow = "POST";
    if (post) cs_action_stop(c, name);
  } else if (segment(rest, "/executions/", name, &after) &&
             !strcmp(after, "/redrive")) {
    allow = "POST";
    if (post) cs_action_redrive(c, name);
  } else if (!get) {
    /* every other page is read with GET */
  } else if (!*rest || !strcmp(rest, "/")) {
    cs_page_machines(c);
  } else if (!strcmp(rest, "/executions")) {
    cs_page_executions(c, NULL);
  } else if (segment(rest, "/machines/", name, &after) &&
             (!*after || !strcmp(after, "/executions"))) {
    if (*after) cs_page_executions(c, name);
    else cs_page_machine(c, name, NULL, NULL);
  } else if (segment(rest, "/executions/", name, &after) &&
             (!*after || !strcmp(after, "/state"))) {
    if (*after) cs_page_state(c, name);
    else cs_page_execution(c, name);
  } else {
    cs_answer_message(c->resp, 404, "Not found", "no such page", c->session);
  }
  if ((!strcmp(allow, "POST") && !post) || (!strcmp(allow, "GET") && !get))
    not_allowed(c, allow);
}

void gw_route_console(gateway *g, const gw_request *req, gw_response *resp) {
  const char *rest = req->path + strlen("/console");
  bool get = !strcmp(req->method, "GET"), post = !strcmp(req->method, "POST");
  if (!strncmp(rest, "/assets/", 8)) {
    if (!get) {
      gw_respond_header(resp, "Allow", "GET");
      cs_answer_message(resp, 405, "Method not allowed", "use GET", false);
    } else if (!cs_asset(rest + 8, resp)) {
      cs_answer_message(resp, 404, "Not found", "no such asset", false);
    }
    return;
  }
  cs_access a = cs_session_check(g, req);
  cs_ctx c = {g, req, resp, a == CS_SESSION, a};
  bool allowed = a == CS_OPEN || a == CS_KEY || a == CS_SESSION;
  if (!strcmp(rest, "/login")) {
    if (post) {
      cs_session_login(g, req, resp);
    } else if (allowed) {
      gw_respond_header(resp, "Location", "/console/");
      cs_answer_message(resp, 303, "Signed in", "already signed in",
                        c.session);
    } else {
      cs_login_page(resp, 200, NULL, NULL);
    }
    return;
  }
  if (!strcmp(rest, "/logout") && post) {
    cs_session_logout(req, resp);
    return;
  }
  if (!allowed) {
    refuse(&c, a);
    return;
  }
  pages(&c, rest);
}
