/* wf-gateway's web console at /console: pages and their status codes,
 * who may see them (API key header, the sign-in form and its session
 * cookie), the graphs Graphviz draws (every state and edge of the seed
 * workflow, Parallel and Map clusters), executions coloured state by state
 * from their history, and a hostile state name shown as text in the HTML
 * and the SVG. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfn_support.h"
#include "support.h"

TestSuite(gateway_console, .fini = gwt_fini, .timeout = 120);

#define KEY_HEADER "x-api-key: " GWT_API_KEY
#define HOSTILE "<img src=x onerror=alert(1)>"
#define HOSTILE_ESCAPED "&lt;img src=x onerror=alert(1)&gt;"

static gwt_response get(const char *path, const char *header) {
  const char *headers[] = {header, NULL};
  return gwt_request(&gwt_srv, "GET", path, header ? headers : NULL, NULL, 0);
}

static gwt_response get_ok(const char *path) {
  gwt_response r = get(path, KEY_HEADER);
  cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status,
               r.body ? r.body : "");
  return r;
}

static gwt_response post_form(const char *path, const char *form,
                              const char *extra) {
  const char *headers[] = {
      "Content-Type: application/x-www-form-urlencoded", extra, NULL};
  return gwt_request(&gwt_srv, "POST", path, headers, form, strlen(form));
}

/* A form value percent-encoded. */
static char *form_value(const char *s) {
  char *e = curl_easy_escape(NULL, s, 0);
  cr_assert(e);
  char *copy = strdup(e);
  curl_free(e);
  return copy;
}

static void expect_status(const char *path, const char *header, long status) {
  gwt_response r = get(path, header);
  cr_expect_eq(r.status, status, "GET %s: %ld, not %ld", path, r.status,
               status);
  gwt_response_free(&r);
}

static void create_ok(const char *name, const char *def) {
  json_t *b = json_pack("{s:s, s:s, s:s}", "name", name, "definition", def,
                        "roleArn", GWT_ROLE);
  gwt_response r = gwt_sfn_obj("CreateStateMachine", b);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
}

/* Start an execution of `machine` (name and input may be NULL); its ARN. */
static char *start(const char *machine, const char *name, const char *input) {
  json_t *b = json_pack("{s:s}", "stateMachineArn", machine);
  if (name) json_object_set_new(b, "name", json_string(name));
  if (input) json_object_set_new(b, "input", json_string(input));
  gwt_response r = gwt_sfn_obj("StartExecution", b);
  cr_assert_eq(r.status, 200, "%s", r.body);
  char *arn = strdup(gwt_str(&r, "executionArn"));
  gwt_response_free(&r);
  return arn;
}

/* Start an execution of `machine` and wait for its end; its ARN. */
static char *run(const char *machine, const char *input) {
  char *arn = start(machine, NULL, input);
  json_decref(gwt_sfn_wait(arn));
  return arn;
}

/* ---- reading the SVG Graphviz wrote ---------------------------------- */

/* The text between `open` and `close` after p, malloc'd (NULL if none). */
static char *between(const char *p, const char *open, const char *close) {
  const char *a = p ? strstr(p, open) : NULL;
  if (!a) return NULL;
  a += strlen(open);
  const char *z = strstr(a, close);
  return z ? strndup(a, (size_t)(z - a)) : NULL;
}

/* The state names of the graph's nodes, by node ("n3" -> "CheckStatus"):
 * each state's group holds its DOT name as <title> and its name as the
 * first <text>. */
static json_t *graph_states(const char *html) {
  json_t *states = json_object();
  for (const char *p = html; (p = strstr(p, "<g id=\"state_")); p++) {
    char *title = between(p, "<title>", "</title>");
    const char *t = strstr(p, "<text");
    char *text = t ? between(t, ">", "</text>") : NULL;
    cr_assert(title && text);
    json_object_set_new(states, title, json_string(text));
    free(title);
    free(text);
  }
  return states;
}

/* The edges as "FROM -KIND-> TO" with states' names ("Start", "End" for
 * the terminals). */
static json_t *graph_edges(const char *html) {
  json_t *states = graph_states(html), *edges = json_array();
  json_object_set_new(states, "start", json_string("Start"));
  json_object_set_new(states, "end", json_string("End"));
  for (const char *p = html; (p = strstr(p, "<g id=\"edge_")); p++) {
    char *kind = between(p, "class=\"edge edge_", "\"");
    char *title = between(p, "<title>", "</title>");
    cr_assert(kind && title);
    char *arrow = strstr(title, "&#45;&gt;");
    cr_assert(arrow, "%s", title);
    *arrow = '\0';
    const char *from = json_string_value(json_object_get(states, title));
    const char *to = json_string_value(
        json_object_get(states, arrow + strlen("&#45;&gt;")));
    cr_assert(from && to, "%s", title);
    char *e = wft_strf("%s -%s-> %s", from, kind, to);
    json_array_append_new(edges, json_string(e));
    free(e);
    free(kind);
    free(title);
  }
  json_decref(states);
  return edges;
}

static bool has_edge(const json_t *edges, const char *edge) {
  for (size_t i = 0; i < json_array_size(edges); i++)
    if (!strcmp(json_string_value(json_array_get(edges, i)), edge))
      return true;
  return false;
}

/* The mark class of the node showing `state` ("mark_failed"). */
static char *mark_of(const char *html, const char *state) {
  json_t *states = graph_states(html);
  const char *k;
  json_t *v;
  char *mark = NULL;
  json_object_foreach(states, k, v) {
    if (strcmp(json_string_value(v), state)) continue;
    char *at = wft_strf("<title>%s</title>", k);
    const char *t = strstr(html, at);
    free(at);
    /* back to the group's opening tag */
    const char *g = t;
    while (g > html && strncmp(g, "<g id=\"state_", 13)) g--;
    mark = between(g, "class=\"node state ", "\"");
  }
  json_decref(states);
  return mark;
}

/* Expect the node of `state` to be marked `want`. */
static void expect_mark(const char *html, const char *state, const char *want) {
  char *mark = mark_of(html, state);
  cr_expect(mark && !strcmp(mark, want), "%s is %s, not %s", state,
            mark ? mark : "not drawn", want);
  free(mark);
}

/* ---- tests ------------------------------------------------------------- */

Test(gateway_console, pages_answer_with_their_status_codes) {
  gwt_sfn_start(NULL);
  char *arn = run(GWT_MACHINE_ARN "failing", "{}");
  gwt_response r = get_ok("/console/");
  cr_expect(strstr(r.body, ">hello</a>") && strstr(r.body, ">failing</a>"),
            "%s", r.body);
  char *csp = gwt_header(&r, "Content-Security-Policy");
  cr_assert(csp);
  cr_expect(strstr(csp, "default-src 'none'") &&
            strstr(csp, "script-src 'self'"), "%s", csp);
  char *type = gwt_header(&r, "Content-Type");
  cr_expect_str_eq(type, "text/html; charset=utf-8");
  /* The console's own forms must carry their Origin: a browser sends
   * "Origin: null" under "no-referrer". */
  char *referrer = gwt_header(&r, "Referrer-Policy");
  cr_expect_str_eq(referrer, "same-origin");
  free(referrer);
  free(csp);
  free(type);
  gwt_response_free(&r);
  expect_status("/console", KEY_HEADER, 200);
  expect_status("/console/machines/hello", KEY_HEADER, 200);
  expect_status("/console/machines/failing/executions", KEY_HEADER, 200);
  expect_status("/console/executions", KEY_HEADER, 200);
  expect_status("/console/executions?status=FAILED&before=99", KEY_HEADER,
                200);
  expect_status("/console/machines/nothing", KEY_HEADER, 404);
  expect_status("/console/machines/nothing/executions", KEY_HEADER, 404);
  expect_status("/console/executions/nothing", KEY_HEADER, 404);
  expect_status("/console/elsewhere", KEY_HEADER, 404);
  expect_status("/consolex", KEY_HEADER, 404);
  char *path = wft_strf("/console/executions/%s", arn);
  expect_status(path, KEY_HEADER, 200);
  free(path);
  /* The status filter: the failed execution is listed under FAILED only. */
  r = get_ok("/console/executions?status=FAILED");
  cr_expect(strstr(r.body, arn), "%s", r.body);
  gwt_response_free(&r);
  r = get_ok("/console/executions?status=SUCCEEDED");
  cr_expect_null(strstr(r.body, arn));
  gwt_response_free(&r);
  /* Assets are the gateway's own, served without a key. */
  r = get("/console/assets/console.css", NULL);
  cr_expect_eq(r.status, 200);
  type = gwt_header(&r, "Content-Type");
  cr_expect_str_eq(type, "text/css; charset=utf-8");
  free(type);
  gwt_response_free(&r);
  r = get("/console/assets/console.js", NULL);
  cr_expect_eq(r.status, 200);
  cr_expect(strstr(r.body, "getElementById('live')"));
  gwt_response_free(&r);
  expect_status("/console/assets/other.js", NULL, 404);
  free(arn);
  gwt_finish();
}

Test(gateway_console, executions_are_listed_newest_first_a_page_at_a_time) {
  gwt_sfn_start(NULL);
  char *arns[52];
  for (int i = 0; i < 52; i++) {
    char name[16];
    snprintf(name, sizeof name, "run-%02d", i);
    json_t *b = json_pack("{s:s, s:s}", "stateMachineArn",
                          GWT_MACHINE_ARN "failing", "name", name);
    gwt_response r = gwt_sfn_obj("StartExecution", b);
    cr_assert_eq(r.status, 200, "%s", r.body);
    arns[i] = strdup(gwt_str(&r, "executionArn"));
    gwt_response_free(&r);
  }
  json_decref(gwt_sfn_wait(arns[51]));
  gwt_response r = get_ok("/console/machines/failing/executions");
  const char *newest = strstr(r.body, ">run-51<");
  const char *older = strstr(r.body, ">run-50<");
  cr_expect(newest && older && newest < older);
  cr_expect_null(strstr(r.body, ">run-01<"), "a page holds 50");
  char *next = between(r.body, "executions?before=", "\"");
  cr_assert(next, "no link to the next page");
  gwt_response_free(&r);
  char *path = wft_strf("/console/machines/failing/executions?before=%s",
                        next);
  r = get_ok(path);
  cr_expect(strstr(r.body, ">run-01<") && strstr(r.body, ">run-00<"));
  cr_expect_null(strstr(r.body, ">run-51<"));
  gwt_response_free(&r);
  free(path);
  free(next);
  for (int i = 0; i < 52; i++) free(arns[i]);
  gwt_finish();
}

Test(gateway_console, refuses_without_a_key_and_signs_in_with_one) {
  gwt_sfn_start(NULL);
  gwt_response r = get("/console/machines/hello", NULL);
  cr_expect_eq(r.status, 401);
  cr_expect(strstr(r.body, "action=\"/console/login\""), "%s", r.body);
  cr_expect_null(strstr(r.body, ">hello<"), "nothing of the console shows");
  gwt_response_free(&r);
  expect_status("/console/", "x-api-key: not-the-key", 403);
  expect_status("/console/executions", "Cookie: wf_console=0123", 401);
  expect_status("/console/login", NULL, 200);
  /* A wrong key: the form again, no cookie. */
  r = post_form("/console/login", "key=wrong&next=%2Fconsole%2Fexecutions",
                NULL);
  cr_expect_eq(r.status, 403);
  char *cookie = gwt_header(&r, "Set-Cookie");
  cr_expect_null(cookie);
  free(cookie);
  gwt_response_free(&r);
  /* From another site: refused even with the right key. */
  r = post_form("/console/login", "key=" GWT_API_KEY,
                "Origin: http://evil.example");
  cr_expect_eq(r.status, 403);
  gwt_response_free(&r);
  /* The right key: a session cookie, and back to where the reader was. */
  r = post_form("/console/login",
                "key=" GWT_API_KEY "&next=%2Fconsole%2Fexecutions", NULL);
  cr_assert_eq(r.status, 303, "%s", r.body);
  char *location = gwt_header(&r, "Location");
  cr_expect_str_eq(location, "/console/executions");
  free(location);
  cookie = gwt_header(&r, "Set-Cookie");
  cr_assert(cookie);
  cr_expect(strstr(cookie, "HttpOnly") && strstr(cookie, "SameSite=Strict") &&
            strstr(cookie, "Path=/console"), "%s", cookie);
  char token[65] = {0};
  cr_assert_eq(sscanf(cookie, "wf_console=%64[0-9a-f];", token), 1, "%s",
               cookie);
  cr_expect_eq(strlen(token), 64);
  free(cookie);
  gwt_response_free(&r);
  /* An open redirect is not: next must be a console path. */
  r = post_form("/console/login", "key=" GWT_API_KEY
                "&next=https%3A%2F%2Fevil.example%2F", NULL);
  location = gwt_header(&r, "Location");
  cr_expect_str_eq(location, "/console/");
  free(location);
  gwt_response_free(&r);
  char *with = wft_strf("Cookie: other=1; wf_console=%s", token);
  r = get("/console/machines/hello", with);
  cr_expect_eq(r.status, 200);
  cr_expect(strstr(r.body, "action=\"/console/logout\""));
  gwt_response_free(&r);
  /* Signing out ends the session. */
  const char *headers[] = {with, NULL};
  r = gwt_request(&gwt_srv, "POST", "/console/logout", headers, "", 0);
  cr_expect_eq(r.status, 303);
  cookie = gwt_header(&r, "Set-Cookie");
  cr_expect(cookie && strstr(cookie, "Max-Age=0"));
  free(cookie);
  gwt_response_free(&r);
  expect_status("/console/machines/hello", with, 401);
  free(with);
  /* Only GET and POST. */
  r = gwt_request(&gwt_srv, "DELETE", "/console/", NULL, NULL, 0);
  cr_expect_eq(r.status, 405);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_console, the_graph_has_every_state_and_edge_of_the_seed) {
  gwt_sfn_start(NULL);
  char *seed = wft_read_file(WF_SOURCE_DIR "/examples/workflows/seed-workflow.json",
                             NULL);
  cr_assert(seed);
  create_ok("seed", seed);
  free(seed);
  gwt_response r = get_ok("/console/machines/seed");
  json_t *states = graph_states(r.body);
  static const char *const names[] = {
      "ProcessData",       "CheckStatus",      "SendNotification",
      "WorkflowCompleted", "ProcessingFailed", "NotificationFailed"};
  cr_expect_eq(json_object_size(states), 6);
  for (size_t i = 0; i < 6; i++) {
    char *shown = wft_strf(">%s</text>", names[i]);
    cr_expect(strstr(r.body, shown), "%s is not drawn", names[i]);
    free(shown);
  }
  json_t *edges = graph_edges(r.body);
  static const char *const expected[] = {
      "Start -start-> ProcessData",
      "ProcessData -next-> CheckStatus",
      "ProcessData -catch-> ProcessingFailed",
      "CheckStatus -choice-> SendNotification",
      "CheckStatus -default-> ProcessingFailed",
      "SendNotification -next-> WorkflowCompleted",
      "SendNotification -catch-> NotificationFailed",
      "WorkflowCompleted -end-> End",
      "ProcessingFailed -end-> End",
      "NotificationFailed -end-> End"};
  size_t n = sizeof expected / sizeof expected[0];
  cr_expect_eq(json_array_size(edges), n, "%s", wft_json_dump(edges));
  for (size_t i = 0; i < n; i++)
    cr_expect(has_edge(edges, expected[i]), "no edge %s", expected[i]);
  /* Edges say what they are; the types show under the names. */
  cr_expect(strstr(r.body, ">Catch: States.ALL</text>"));
  cr_expect(strstr(r.body, ">Default</text>"));
  cr_expect(strstr(r.body, "Choice 1: $.processingResult.status "
                           "StringEquals &quot;SUCCESS&quot;"));
  cr_expect(strstr(r.body, ">Choice</text>") && strstr(r.body, ">Task</text>"));
  /* The definition is there as text. */
  cr_expect(strstr(r.body, "<pre class=\"definition\">"));
  cr_expect(strstr(r.body, "&quot;StartAt&quot;: &quot;ProcessData&quot;"));
  json_decref(edges);
  json_decref(states);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_console, parallel_branches_and_map_processors_are_clusters) {
  gwt_sfn_start(NULL);
  create_ok("fanout",
            "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\","
            "\"Branches\":[{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":"
            "\"Pass\",\"End\":true}}},{\"StartAt\":\"B\",\"States\":{\"B\":"
            "{\"Type\":\"Pass\",\"End\":true}}}],\"Next\":\"M\"},\"M\":{"
            "\"Type\":\"Map\",\"ItemProcessor\":{\"StartAt\":\"C\",\"States\":"
            "{\"C\":{\"Type\":\"Pass\",\"End\":true}}},\"End\":true}}}");
  gwt_response r = get_ok("/console/machines/fanout");
  json_t *edges = graph_edges(r.body);
  cr_expect(has_edge(edges, "P -branch-> A") && has_edge(edges, "P -branch-> B"),
            "%s", wft_json_dump(edges));
  cr_expect(has_edge(edges, "M -branch-> C") && has_edge(edges, "P -next-> M"));
  cr_expect(strstr(r.body, "class=\"cluster cluster_parallel\""));
  cr_expect(strstr(r.body, "class=\"cluster cluster_map\""));
  cr_expect(strstr(r.body, "class=\"cluster cluster_branch\""));
  cr_expect(strstr(r.body, "class=\"cluster cluster_processor\""));
  json_decref(edges);
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_console, an_execution_colours_each_state_by_what_happened) {
  gwt_sfn_start(NULL);
  /* T calls a function nobody serves: it fails, is caught, F fails. */
  create_ok("caught",
            "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
            "\"Next\":\"T\"},\"T\":{\"Type\":\"Task\",\"Resource\":"
            "\"arn:aws:lambda:us-east-1:123456789012:function:Nobody\","
            "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"F\"}],"
            "\"Next\":\"Never\"},\"Never\":{\"Type\":\"Succeed\"},\"F\":{"
            "\"Type\":\"Fail\",\"Error\":\"Caught\",\"Cause\":\"it was\"}}}");
  char *arn = run(GWT_MACHINE_ARN "caught", "{\"n\":1}");
  char *path = wft_strf("/console/executions/%s", arn);
  gwt_response r = get_ok(path);
  expect_mark(r.body, "P", "mark_succeeded");
  expect_mark(r.body, "T", "mark_caught");
  expect_mark(r.body, "F", "mark_failed");
  expect_mark(r.body, "Never", "mark_not_reached");
  cr_expect(strstr(r.body, "data-status=\"FAILED\""));
  /* The history: a row per event, details as indented JSON. */
  cr_expect(strstr(r.body, "<td>ExecutionStarted</td>"));
  cr_expect(strstr(r.body, "<td>LambdaFunctionFailed</td>"));
  cr_expect(strstr(r.body, "<td>ExecutionFailed</td>"));
  cr_expect(strstr(r.body, "&quot;error&quot;: &quot;Caught&quot;"));
  gwt_response_free(&r);
  free(path);
  free(arn);
  /* The failing machine of the base configuration: its one state failed. */
  arn = run(GWT_MACHINE_ARN "failing", "{}");
  path = wft_strf("/console/executions/%s", arn);
  r = get_ok(path);
  expect_mark(r.body, "F", "mark_failed");
  gwt_response_free(&r);
  free(path);
  free(arn);
  gwt_finish();
}

Test(gateway_console, a_running_execution_shows_running_and_asks_to_poll) {
  gwt_sfn_start(NULL);
  char *arn = start(GWT_MACHINE_ARN "waiting", NULL, NULL);
  char *path = wft_strf("/console/executions/%s", arn);
  /* The start is committed before W is entered: read until it is (W
   * waits 1 s). */
  gwt_response r = get_ok(path);
  for (int i = 0; i < 100; i++) {
    char *mark = mark_of(r.body, "W");
    bool entered = mark && strcmp(mark, "mark_not_reached");
    free(mark);
    if (entered) break;
    gwt_response_free(&r);
    usleep(5000);
    r = get_ok(path);
  }
  cr_expect(strstr(r.body, "data-status=\"RUNNING\""));
  cr_expect(strstr(r.body, "src=\"/console/assets/console.js\""));
  expect_mark(r.body, "W", "mark_running");
  gwt_response_free(&r);
  json_decref(gwt_sfn_wait(arn));
  r = get_ok(path);
  cr_expect(strstr(r.body, "data-status=\"SUCCEEDED\""));
  expect_mark(r.body, "W", "mark_succeeded");
  gwt_response_free(&r);
  free(path);
  free(arn);
  gwt_finish();
}

Test(gateway_console, a_hostile_state_name_is_shown_as_text) {
  gwt_sfn_start(NULL);
  json_t *def = json_pack("{s:s, s:{s:{s:s, s:b}}}", "StartAt", HOSTILE,
                          "States", HOSTILE, "Type", "Pass", "End", 1);
  char *text = json_dumps(def, JSON_COMPACT);
  json_decref(def);
  create_ok("hostile", text);
  free(text);
  char *arn = run(GWT_MACHINE_ARN "hostile", "{\"x\":\"" "<script>alert(2)"
                  "</script>\"}");
  gwt_response r = get_ok("/console/machines/hostile");
  cr_expect_null(strstr(r.body, "<img"), "markup from a state name");
  const char *svg = strstr(r.body, "<svg");
  cr_assert(svg, "no graph");
  cr_expect(strstr(svg, ">" HOSTILE_ESCAPED "</text>"),
            "the name is not shown as text in the SVG");
  cr_expect(strstr(r.body, "&quot;StartAt&quot;: &quot;" HOSTILE_ESCAPED),
            "the name is not shown as text in the definition");
  gwt_response_free(&r);
  char *path = wft_strf("/console/executions/%s", arn);
  r = get_ok(path);
  cr_expect_null(strstr(r.body, "<img"));
  cr_expect_null(strstr(r.body, "<script>alert"));
  cr_expect(strstr(r.body, "&lt;script&gt;alert(2)&lt;/script&gt;"));
  expect_mark(r.body, HOSTILE_ESCAPED, "mark_succeeded");
  cr_expect(strstr(r.body, "\">" HOSTILE_ESCAPED "</a></li>"),
            "the state's link shows its name as text");
  gwt_response_free(&r);
  free(path);
  /* The state's details. */
  char *url = form_value(arn), *name = form_value(HOSTILE);
  path = wft_strf("/console/executions/%s/state?name=%s", url, name);
  r = get_ok(path);
  cr_expect_null(strstr(r.body, "<img"));
  cr_expect(strstr(r.body, "<h2>" HOSTILE_ESCAPED "</h2>"), "%s", r.body);
  cr_expect(strstr(r.body, "Run 1"));
  cr_expect(strstr(r.body, "&lt;script&gt;alert(2)&lt;/script&gt;"),
            "its input as text");
  gwt_response_free(&r);
  free(path);
  free(name);
  free(url);
  free(arn);
  gwt_finish();
}

/* ---- search, paging, state details, iterations ------------------------ */

/* An attribute's URL as the browser reads it: "&amp;" is "&". */
static char *unescape_amp(char *href) {
  cr_assert(href);
  for (char *p; (p = strstr(href, "&amp;"));)
    memmove(p + 1, p + 5, strlen(p + 5) + 1);
  return href;
}

/* The href of the list's "Older" link, unescaped ("&amp;" -> "&"). */
static char *older_link(const char *html) {
  const char *at = strstr(html, "\">Older</a>");
  cr_assert(at, "no link to the next page");
  const char *a = at;
  while (a > html && strncmp(a, "href=\"", 6)) a--;
  return unescape_amp(strndup(a + 6, (size_t)(at - a - 6)));
}

Test(gateway_console, executions_are_searched_by_name_a_page_at_a_time) {
  gwt_sfn_start(NULL);
  char *last = NULL;
  for (int i = 0; i < 60; i++) {
    char name[16];
    snprintf(name, sizeof name, i % 10 == 9 ? "other-%02d" : "Run-%02d", i);
    free(last);
    last = start(GWT_MACHINE_ARN "failing", name, NULL);
  }
  json_decref(gwt_sfn_wait(last));
  free(last);
  /* 54 names hold "run" in any case: 50 on the first page, newest first
   * (Run-58 down to Run-04). */
  gwt_response r = get_ok("/console/executions?q=rUN");
  const char *newest = strstr(r.body, ">Run-58<");
  const char *older = strstr(r.body, ">Run-57<");
  cr_expect(newest && older && newest < older);
  cr_expect(strstr(r.body, ">Run-04<"));
  cr_expect_null(strstr(r.body, ">other-"), "only names that match");
  cr_expect_null(strstr(r.body, ">Run-03<"), "a page holds 50");
  cr_expect(strstr(r.body, "name=\"q\" id=\"search\" placeholder=\"Name "
                           "contains\" value=\"rUN\""));
  char *next = older_link(r.body);
  cr_expect(strstr(next, "q=rUN") && strstr(next, "before="), "%s", next);
  gwt_response_free(&r);
  /* A start after the first page moves nothing: the cursor is the
   * store's order, not an offset. */
  free(start(GWT_MACHINE_ARN "failing", "Run-new", NULL));
  r = get_ok(next);
  cr_expect(strstr(r.body, ">Run-03<") && strstr(r.body, ">Run-00<"), "%s",
            r.body);
  cr_expect_null(strstr(r.body, ">Run-04<"));
  cr_expect_null(strstr(r.body, ">Run-new<"));
  cr_expect_null(strstr(r.body, ">Older</a>"), "the last page");
  gwt_response_free(&r);
  free(next);
  /* Per machine, with the status filter and the search together. */
  r = get_ok("/console/machines/failing/executions?status=FAILED&q=other");
  cr_expect(strstr(r.body, ">other-59<") && strstr(r.body, ">other-09<"));
  cr_expect_null(strstr(r.body, ">Run-"));
  cr_expect(strstr(r.body, "name=\"status\" value=\"FAILED\""),
            "a search keeps the filter");
  cr_expect(strstr(r.body, "?status=RUNNING&amp;q=other"),
            "the filter keeps the search");
  gwt_response_free(&r);
  r = get_ok("/console/machines/hello/executions?q=Run");
  cr_expect(strstr(r.body, "None."));
  gwt_response_free(&r);
  /* What is searched for is shown as text. */
  char *q = form_value(HOSTILE);
  char *path = wft_strf("/console/executions?q=%s", q);
  r = get_ok(path);
  cr_expect_null(strstr(r.body, "<img"));
  cr_expect(strstr(r.body, "value=\"" HOSTILE_ESCAPED "\""));
  gwt_response_free(&r);
  free(path);
  free(q);
  gwt_finish();
}

/* The href of the first link of `html` that starts with `prefix`,
 * unescaped. */
static char *link_to(const char *html, const char *prefix) {
  char *open = wft_strf("href=\"%s", prefix);
  const char *a = strstr(html, open);
  free(open);
  cr_assert(a, "no link to %s", prefix);
  a += 6;
  return unescape_amp(strndup(a, strcspn(a, "\"")));
}

Test(gateway_console, a_state_shows_its_runs_input_output_error_and_retries) {
  gwt_sfn_start(NULL);
  create_ok("retried",
            "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\","
            "\"Result\":{\"made\":\"by P\"},\"Next\":\"T\"},\"T\":{\"Type\":"
            "\"Task\",\"Resource\":"
            "\"arn:aws:lambda:us-east-1:123456789012:function:Nobody\","
            "\"Retry\":[{\"ErrorEquals\":[\"States.ALL\"],\"MaxAttempts\":2,"
            "\"IntervalSeconds\":1,\"BackoffRate\":1}],"
            "\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],\"Next\":\"F\"}],"
            "\"End\":true},\"F\":{\"Type\":\"Fail\",\"Error\":\"Caught\"}}}");
  char *arn = run(GWT_MACHINE_ARN "retried", "{\"n\":1}");
  char *page = wft_strf("/console/executions/%s", arn);
  gwt_response r = get_ok(page);
  /* Each state's node is named by a link to its details. */
  cr_expect(strstr(r.body, "<ul class=\"state-links\">"));
  char *url = form_value(arn);
  char *prefix = wft_strf("/console/executions/%s/state?name=", arn);
  char *want = wft_strf("href=\"%sT\">T</a>", prefix);
  cr_expect(strstr(r.body, want), "no link to T's details");
  cr_expect(strstr(r.body, "<aside id=\"state-panel\" hidden>"));
  free(want);
  gwt_response_free(&r);
  char *path = wft_strf("%sT", prefix);
  r = get_ok(path);
  cr_expect(strstr(r.body, "<div id=\"state-details\">"));
  cr_expect(strstr(r.body, "<dt>Attempts</dt><dd>3 (retries: 2)"), "%s",
            r.body);
  cr_expect(strstr(r.body, "<dt>Error</dt><dd>"), "the error is shown");
  cr_expect(strstr(r.body, "&quot;made&quot;: &quot;by P&quot;"),
            "T's input is P's output");
  cr_expect(strstr(r.body, "<dt>Duration</dt><dd>"));
  gwt_response_free(&r);
  free(path);
  path = wft_strf("%sP", prefix);
  r = get_ok(path);
  cr_expect(strstr(r.body, "<dt>Attempts</dt><dd>0 (retries: 0)"));
  cr_expect(strstr(r.body, "&quot;n&quot;: 1"), "P's input");
  cr_expect(strstr(r.body, "&quot;made&quot;: &quot;by P&quot;"), "P's output");
  gwt_response_free(&r);
  free(path);
  path = wft_strf("%sNowhere", prefix);
  r = get_ok(path);
  cr_expect(strstr(r.body, "This state was not entered."));
  gwt_response_free(&r);
  free(path);
  path = wft_strf("/console/executions/%s/state", url);
  expect_status(path, KEY_HEADER, 400);
  free(path);
  expect_status("/console/executions/nothing/state?name=T", KEY_HEADER, 404);
  free(prefix);
  free(url);
  free(page);
  free(arn);
  gwt_finish();
}

Test(gateway_console, map_iterations_and_parallel_branches_can_be_opened) {
  gwt_sfn_start(NULL);
  create_ok("fanout",
            "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\","
            "\"Branches\":[{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":"
            "\"Pass\",\"End\":true}}},{\"StartAt\":\"B\",\"States\":{\"B\":"
            "{\"Type\":\"Pass\",\"End\":true}}}],\"ResultPath\":null,"
            "\"Next\":\"M\"},\"M\":{\"Type\":\"Map\",\"ItemsPath\":\"$.items\","
            "\"ItemProcessor\":{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":"
            "\"Pass\",\"Parameters\":{\"seen.$\":\"$\"},\"End\":true}}},"
            "\"End\":true}}}");
  char *arn = run(GWT_MACHINE_ARN "fanout", "{\"items\":[10,20,30]}");
  char *url = form_value(arn);
  char *path = wft_strf("/console/executions/%s/state?name=M", url);
  gwt_response r = get_ok(path);
  cr_expect(strstr(r.body, "<h4>Iterations</h4>"), "%s", r.body);
  for (int i = 0; i < 3; i++) {
    char *it = wft_strf(">Iteration %d of M</a></td><td><span class=\"status "
                        "status-SUCCEEDED\">", i);
    cr_expect(strstr(r.body, it), "no iteration %d: %s", i, r.body);
    free(it);
  }
  /* The second iteration, opened: its events only, its state coloured. */
  char *lane_prefix = wft_strf("/console/executions/%s?lane=", arn);
  const char *second = strstr(r.body, ">Iteration 0 of M<");
  cr_assert(second);
  char *first = link_to(r.body, lane_prefix);
  gwt_response_free(&r);
  r = get_ok(first);
  cr_expect(strstr(r.body, "<p class=\"breadcrumb\">"));
  cr_expect(strstr(r.body, ">Iteration 0 of M</a>"));
  const char *events = strstr(r.body, "<h2>Events</h2>");
  cr_assert(events);
  cr_expect(strstr(events, "&quot;seen&quot;: 10"), "the iteration's data");
  cr_expect_null(strstr(events, "&quot;seen&quot;: 20"), "only its events");
  cr_expect_null(strstr(events, "<td>ExecutionStarted</td>"));
  cr_expect(strstr(events, "<td>MapIterationStarted</td>"));
  cr_expect(strstr(events, "<td>MapIterationSucceeded</td>"));
  expect_mark(r.body, "C", "mark_succeeded");
  expect_mark(r.body, "A", "mark_not_reached");
  gwt_response_free(&r);
  free(first);
  /* Parallel: its branches, each with its status. */
  free(path);
  path = wft_strf("/console/executions/%s/state?name=P", url);
  r = get_ok(path);
  cr_expect(strstr(r.body, "<h4>Branches</h4>"));
  cr_expect(strstr(r.body, ">Branch 1 of P</a></td><td><span class=\"status "
                           "status-SUCCEEDED\">"));
  cr_expect(strstr(r.body, ">Branch 2 of P</a>"));
  char *branch = link_to(r.body, lane_prefix);
  gwt_response_free(&r);
  r = get_ok(branch);
  expect_mark(r.body, "A", "mark_succeeded");
  expect_mark(r.body, "B", "mark_not_reached");
  expect_mark(r.body, "C", "mark_not_reached");
  gwt_response_free(&r);
  free(branch);
  char *bad = wft_strf("/console/executions/%s?lane=999999", url);
  expect_status(bad, KEY_HEADER, 404);
  free(bad);
  free(lane_prefix);
  free(path);
  free(url);
  free(arn);
  gwt_finish();
}

Test(gateway_console, the_history_is_shown_a_thousand_events_a_page) {
  gwt_sfn_start(NULL);
  create_ok("long",
            "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\","
            "\"ItemProcessor\":{\"StartAt\":\"C\",\"States\":{\"C\":{"
            "\"Type\":\"Pass\",\"End\":true}}},\"End\":true}}}");
  /* 300 iterations of 4 events each: 1,206 events. */
  char input[2000] = "[0";
  for (int i = 1; i < 300; i++)
    snprintf(input + strlen(input), sizeof input - strlen(input), ",%d", i);
  strcat(input, "]");
  char *arn = run(GWT_MACHINE_ARN "long", input);
  char *page = wft_strf("/console/executions/%s", arn);
  gwt_response r = get_ok(page);
  cr_expect(strstr(r.body, "<tr><td>1000</td>"));
  cr_expect_null(strstr(r.body, "<tr><td>1001</td>"));
  cr_expect_null(strstr(r.body, ">First events</a>"));
  char *at = wft_strf("%s?from=", page);
  char *later = link_to(r.body, at);
  free(at);
  cr_expect_str_eq(strchr(later, '?'), "?from=1001");
  gwt_response_free(&r);
  r = get_ok(later);
  cr_expect(strstr(r.body, "<tr><td>1001</td>") &&
            strstr(r.body, "<tr><td>1206</td>"), "%s", r.body);
  cr_expect_null(strstr(r.body, "<tr><td>1000</td>"));
  cr_expect(strstr(r.body, ">First events</a>"));
  cr_expect_null(strstr(r.body, ">Later events</a>"));
  gwt_response_free(&r);
  free(later);
  free(page);
  free(arn);
  gwt_finish();
}

/* ---- actions ------------------------------------------------------------ */

Test(gateway_console, starts_an_execution_from_valid_json_only) {
  gwt_sfn_start(NULL);
  gwt_response r = get_ok("/console/machines/hello");
  cr_expect(strstr(r.body, "action=\"/console/machines/hello/start\""));
  cr_expect(strstr(r.body, "name=\"input\""));
  cr_expect(strstr(r.body, "data-json"), "the script checks the input");
  gwt_response_free(&r);
  r = post_form("/console/machines/hello/start",
                "name=from-console&input=%7B%22name%22%3A%22console%22%7D",
                KEY_HEADER);
  cr_assert_eq(r.status, 303, "%s", r.body);
  char *location = gwt_header(&r, "Location");
  cr_assert(location && !strncmp(location, "/console/executions/", 20));
  cr_expect(strstr(location, "from-console"), "%s", location);
  gwt_response_free(&r);
  r = get_ok(location);
  cr_expect(strstr(r.body, "&quot;name&quot;: &quot;console&quot;"));
  gwt_response_free(&r);
  free(location);
  /* Not JSON: refused, said why, the text kept (as text). */
  char *bad = form_value("{\"x\": " HOSTILE);
  char *form = wft_strf("input=%s", bad);
  r = post_form("/console/machines/hello/start", form, KEY_HEADER);
  cr_expect_eq(r.status, 400);
  cr_expect(strstr(r.body, "The input is not JSON:"), "%s", r.body);
  cr_expect(strstr(r.body, "{&quot;x&quot;: " HOSTILE_ESCAPED "</textarea>"));
  cr_expect_null(strstr(r.body, "<img"));
  gwt_response_free(&r);
  free(form);
  free(bad);
  /* The API's own refusals, in its words. */
  r = post_form("/console/machines/hello/start", "name=a+b&input=%7B%7D",
                KEY_HEADER);
  cr_expect_eq(r.status, 400);
  cr_expect(strstr(r.body, "InvalidName"), "%s", r.body);
  gwt_response_free(&r);
  r = post_form("/console/machines/nothing/start", "input=%7B%7D",
                KEY_HEADER);
  cr_expect_eq(r.status, 404);
  gwt_response_free(&r);
  /* A change is never a GET. */
  expect_status("/console/machines/hello/start", KEY_HEADER, 405);
  gwt_finish();
}

Test(gateway_console, stops_a_running_execution) {
  gwt_sfn_start(NULL);
  char *arn = start(GWT_MACHINE_ARN "waiting", NULL, NULL);
  char *page = wft_strf("/console/executions/%s", arn);
  gwt_response r = get_ok(page);
  cr_expect(strstr(r.body, "<button type=\"submit\" id=\"stop\">"));
  cr_expect_null(strstr(r.body, "id=\"redrive\""));
  gwt_response_free(&r);
  char *url = form_value(arn);
  char *stop = wft_strf("/console/executions/%s/stop", url);
  expect_status(stop, KEY_HEADER, 405);
  r = post_form(stop, "", KEY_HEADER);
  cr_expect_eq(r.status, 303, "%s", r.body);
  gwt_response_free(&r);
  json_t *d = gwt_sfn_wait(arn);
  cr_expect_str_eq(json_string_value(json_object_get(d, "status")),
                   "ABORTED");
  json_decref(d);
  r = get_ok(page);
  cr_expect(strstr(r.body, "data-status=\"ABORTED\""));
  cr_expect_null(strstr(r.body, "id=\"stop\""));
  /* Aborted: it may be redriven, by a form with the token, as stop. */
  cr_expect(strstr(r.body, "<button type=\"submit\" id=\"redrive\">"));
  gwt_response_free(&r);
  char *redrive = wft_strf("/console/executions/%s/redrive", url);
  expect_status(redrive, KEY_HEADER, 405);
  r = post_form(redrive, "", KEY_HEADER);
  cr_expect_eq(r.status, 303, "%s", r.body);
  gwt_response_free(&r);
  r = get_ok(page);
  cr_expect(strstr(r.body, "data-status=\"RUNNING\""), "%s", r.body);
  cr_expect(strstr(r.body, "ExecutionRedriven"));
  cr_expect_null(strstr(r.body, "id=\"redrive\""));
  gwt_response_free(&r);
  /* Running again: a second redrive is refused in the API's words. */
  r = post_form(redrive, "", KEY_HEADER);
  cr_expect_eq(r.status, 400, "%s", r.body);
  cr_expect(strstr(r.body, "ExecutionNotRedrivable: Execution is RUNNING "
                           "and cannot be redriven"),
            "%s", r.body);
  gwt_response_free(&r);
  r = post_form(stop, "", KEY_HEADER);
  cr_expect_eq(r.status, 303, "%s", r.body);
  gwt_response_free(&r);
  free(redrive);
  free(stop);
  free(url);
  free(page);
  free(arn);
  gwt_finish();
}

Test(gateway_console, validates_a_definition_and_marks_the_states_named) {
  gwt_sfn_start(NULL);
  gwt_response r = get_ok("/console/validate?machine=hello");
  cr_expect(strstr(r.body, "<textarea id=\"definition\""));
  cr_expect(strstr(r.body, "&quot;StartAt&quot;"), "the machine's text");
  gwt_response_free(&r);
  char *def = form_value("{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":"
                         "\"Pass\",\"Next\":\"Nowhere\"},\"" HOSTILE "\":{"
                         "\"Type\":\"Pass\",\"Next\":\"Gone\"}}}");
  char *form = wft_strf("definition=%s", def);
  r = post_form("/console/validate", form, KEY_HEADER);
  cr_expect_eq(r.status, 200);
  cr_expect(strstr(r.body, "The definition is not valid."), "%s", r.body);
  cr_expect(strstr(r.body, "<td>MISSING_TRANSITION_TARGET</td>"), "%s",
            r.body);
  cr_expect(strstr(r.body, "<td class=\"arn\">/States/A/Next</td><td>A</td>"));
  cr_expect(strstr(r.body, "<td>" HOSTILE_ESCAPED "</td>"));
  cr_expect_null(strstr(r.body, "<img"));
  expect_mark(r.body, "A", "mark_invalid");
  expect_mark(r.body, HOSTILE_ESCAPED, "mark_invalid");
  gwt_response_free(&r);
  free(form);
  free(def);
  def = form_value("{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\","
                   "\"End\":true}}}");
  form = wft_strf("definition=%s", def);
  r = post_form("/console/validate", form, KEY_HEADER);
  cr_expect(strstr(r.body, "The definition is valid. 0 diagnostics."));
  expect_mark(r.body, "A", "mark_none");
  gwt_response_free(&r);
  free(form);
  free(def);
  r = post_form("/console/validate", "definition=%7Bnot", KEY_HEADER);
  cr_expect(strstr(r.body, "The definition is not valid."));
  gwt_response_free(&r);
  gwt_finish();
}

/* Sign in with the form: the Cookie header of the new session. */
static char *sign_in(void) {
  gwt_response r = post_form("/console/login", "key=" GWT_API_KEY, NULL);
  cr_assert_eq(r.status, 303);
  char *cookie = gwt_header(&r, "Set-Cookie"), token[65] = {0};
  cr_assert(cookie);
  cr_assert_eq(sscanf(cookie, "wf_console=%64[0-9a-f];", token), 1);
  free(cookie);
  gwt_response_free(&r);
  return wft_strf("Cookie: wf_console=%s", token);
}

/* The value of the first CSRF field of a page. */
static char *csrf_of(const char *html) {
  char *t = between(html, "name=\"csrf\" value=\"", "\"");
  cr_assert(t && strlen(t) == 64, "no CSRF token");
  return t;
}

Test(gateway_console, forms_of_a_session_need_its_token_and_this_origin) {
  gwt_sfn_start(NULL);
  char *with = sign_in();
  gwt_response r = get("/console/machines/hello", with);
  cr_assert_eq(r.status, 200);
  char *csrf = csrf_of(r.body);
  gwt_response_free(&r);
  /* No token, a wrong one, another site: refused, nothing started. */
  r = post_form("/console/machines/hello/start", "input=%7B%7D", with);
  cr_expect_eq(r.status, 403);
  cr_expect(strstr(r.body, "another site"));
  gwt_response_free(&r);
  r = post_form("/console/machines/hello/start",
                "input=%7B%7D&csrf=00000000000000000000000000000000000000"
                "00000000000000000000000000",
                with);
  cr_expect_eq(r.status, 403);
  gwt_response_free(&r);
  char *form = wft_strf("input=%%7B%%7D&csrf=%s", csrf);
  const char *evil[] = {"Content-Type: application/x-www-form-urlencoded",
                        with, "Origin: http://evil.example", NULL};
  r = gwt_request(&gwt_srv, "POST", "/console/machines/hello/start", evil,
                  form, strlen(form));
  cr_expect_eq(r.status, 403);
  gwt_response_free(&r);
  r = post_form("/console/validate", "definition=%7B%7D", with);
  cr_expect_eq(r.status, 403);
  gwt_response_free(&r);
  gwt_response l = gwt_sfn("ListExecutions", "{\"stateMachineArn\":\"%s\"}",
                           GWT_MACHINE_ARN "hello");
  cr_expect_eq(json_array_size(json_object_get(l.json, "executions")), 0,
               "a refused form started something");
  gwt_response_free(&l);
  /* Its own token, from this site: started. */
  r = post_form("/console/machines/hello/start", form, with);
  cr_expect_eq(r.status, 303, "%s", r.body);
  gwt_response_free(&r);
  /* Another session's token is not this one's. */
  char *with_other = sign_in();
  r = post_form("/console/machines/hello/start", form, with_other);
  cr_expect_eq(r.status, 403);
  gwt_response_free(&r);
  free(with_other);
  free(form);
  free(csrf);
  free(with);
  gwt_finish();
}

Test(gateway_console, an_open_console_checks_the_token_of_its_forms) {
  /* No API keys: the console is open, as the API is, but a page of
   * another site must still not start anything through the reader's
   * browser. */
  cr_assert(gwt_start(&gwt_srv,
                      "engine: {history: \"full\"}\n"
                      "pluginDir: @PLUGINS@\nplugins: [hello.so]\n"
                      "stateMachines: [{name: hello, definition: hello.json}]\n"
                      "log: {path: gateway.log}\nthrottle: {enabled: false}\n"));
  gwt_response r = get("/console/machines/hello", NULL);
  cr_assert_eq(r.status, 200);
  char *csrf = csrf_of(r.body);
  gwt_response_free(&r);
  r = post_form("/console/machines/hello/start", "input=%7B%7D", NULL);
  cr_expect_eq(r.status, 403);
  gwt_response_free(&r);
  char *form = wft_strf("input=%%7B%%7D&csrf=%s", csrf);
  r = post_form("/console/machines/hello/start", form, NULL);
  cr_expect_eq(r.status, 303, "%s", r.body);
  gwt_response_free(&r);
  free(form);
  free(csrf);
  gwt_finish();
}
