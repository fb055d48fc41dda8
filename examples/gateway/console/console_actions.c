/* What the console changes: starting, stopping and redriving executions,
 * and validating a definition. Each is a POST whose form carries the CSRF
 * token (cs_csrf_ok), and each runs the AWS API's own operation in
 * process (StartExecution, StopExecution, RedriveExecution,
 * ValidateStateMachineDefinition),
 * so the console accepts and refuses exactly what the API does, with the
 * API's words. */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "sfn.h"

/* The answer of the API operation `op` given `body` (stolen), as if
 * posted to the API by this reader: its object, or NULL with what went
 * wrong ("ValidationException: ...") in problem. */
static json_t *api_call(cs_ctx *c, gw_sfn_op op, json_t *body, char *problem,
                        size_t n) {
  gw_response scratch = {0};
  gw_sfn_call call = {c->g, c->req, &scratch, body};
  json_t *out = NULL;
  if (!body) {
    snprintf(problem, n, "out of memory");
    return NULL;
  }
  op(&call);
  json_t *answer = scratch.body ? json_loads(scratch.body, 0, NULL) : NULL;
  if (scratch.status == 200 && json_is_object(answer)) {
    out = json_incref(answer);
  } else {
    const char *type = json_string_value(json_object_get(answer, "__type"));
    const char *msg = json_string_value(json_object_get(answer, "message"));
    snprintf(problem, n, "%s: %s", type ? type : "InternalFailure",
             msg ? msg : "the operation failed");
  }
  json_decref(answer);
  json_decref(body);
  gw_response_clear(&scratch);
  return out;
}

/* A form member of any length (malloc'd), or NULL when absent. */
static char *form_text(const cs_ctx *c, const char *name) {
  char *v = malloc(c->req->body_len + 1);
  if (v && !cs_form_get(c->req->body, c->req->body_len, name, v,
                        c->req->body_len + 1)) {
    free(v);
    return NULL;
  }
  return v;
}

static bool refused(cs_ctx *c) {
  if (cs_csrf_ok(c)) return false;
  cs_answer_message(c->resp, 403, "Forbidden",
                    "the form is stale or was sent from another site: open "
                    "the page again",
                    c->session);
  return true;
}

void cs_action_start(cs_ctx *c, const char *name) {
  if (refused(c)) return;
  gw_store *s = c->g->store;
  gw_machine_rec *m = s->ops->find_machine(s, name);
  char *arn = m && !m->deleting ? strdup(m->arn) : NULL;
  if (m) s->ops->release_machine(s, m);
  if (!arn) {
    cs_answer_message(c->resp, 404, "Not found", "no such state machine",
                      c->session);
    return;
  }
  char *input = form_text(c, "input"), *exec_name = form_text(c, "name");
  char problem[1200] = "";
  json_error_t je;
  json_t *parsed = input ? json_loads(input, JSON_DECODE_ANY, &je) : NULL;
  if (!input || !input[0]) {
    snprintf(problem, sizeof problem, "Give an input (JSON; {} for none).");
  } else if (!parsed) {
    snprintf(problem, sizeof problem,
             "The input is not JSON: %s (line %d, column %d).", je.text,
             je.line, je.column);
  } else {
    json_t *body = json_pack("{s:s, s:s}", "stateMachineArn", arn, "input",
                             input);
    if (body && exec_name && exec_name[0])
      json_object_set_new(body, "name", json_string(exec_name));
    json_t *ok =
        api_call(c, gw_sfn_start_execution, body, problem, sizeof problem);
    const char *started = json_string_value(json_object_get(ok, "executionArn"));
    if (started) {
      cs_buf to = {0};
      cs_put(&to, "/console/executions/");
      cs_url(&to, started);
      if (to.s) gw_respond_header(c->resp, "Location", to.s);
      cs_answer_message(c->resp, 303, "Started", "the execution started",
                        c->session);
      cs_free(&to);
    }
    json_decref(ok);
  }
  if (problem[0]) cs_page_machine(c, name, input, problem);
  json_decref(parsed);
  free(input);
  free(exec_name);
  free(arn);
}

/* Run `op` on the execution `id`; then back to its page, saying `done`
 * (`what` happened), or the API's refusal under `not_done`. */
static void on_execution(cs_ctx *c, const char *id, gw_sfn_op op,
                         const char *done, const char *what,
                         const char *not_done) {
  if (refused(c)) return;
  gw_store *s = c->g->store;
  gw_exec_rec *x = s->ops->find_execution(s, id);
  if (!x) {
    cs_answer_message(c->resp, 404, "Not found", "no such execution",
                      c->session);
    return;
  }
  char problem[1200] = "";
  json_decref(api_call(c, op, json_pack("{s:s}", "executionArn", x->arn),
                       problem, sizeof problem));
  if (problem[0]) {
    cs_answer_message(c->resp, 400, not_done, problem, c->session);
  } else {
    cs_buf to = {0};
    cs_put(&to, "/console/executions/");
    cs_url(&to, x->arn);
    if (to.s) gw_respond_header(c->resp, "Location", to.s);
    cs_answer_message(c->resp, 303, done, what, c->session);
    cs_free(&to);
  }
  s->ops->release_execution(s, x);
}

void cs_action_stop(cs_ctx *c, const char *id) {
  on_execution(c, id, gw_sfn_stop_execution, "Stopped",
               "the execution was stopped", "Not stopped");
}

void cs_action_redrive(cs_ctx *c, const char *id) {
  on_execution(c, id, gw_sfn_redrive_execution, "Redriven",
               "the execution was redriven", "Not redriven");
}

/* ---- validating a definition ------------------------------------------ */

/* The state a diagnostic's location names: the name after the last
 * "/States/" ("/States/P/Branches[0]/States/B/Next" -> "B"), into out. */
static bool located_state(const char *location, char *out, size_t n) {
  const char *at = NULL;
  for (const char *p = location; p && (p = strstr(p, "/States/")); p++)
    at = p + strlen("/States/");
  if (!at) return false;
  size_t len = strcspn(at, "/");
  if (!len || len >= n) return false;
  memcpy(out, at, len);
  out[len] = '\0';
  return true;
}

static cs_mark mark_invalid(const char *name, void *arg) {
  return json_object_get(arg, name) ? CS_MARK_INVALID : CS_MARK_NONE;
}

static void put_validate_form(cs_ctx *c, cs_buf *b, const char *definition) {
  cs_put(b, "<form method=\"post\" action=\"/console/validate\" "
            "class=\"editor\">");
  cs_csrf_field(c, b);
  cs_put(b, "<label for=\"definition\">Definition (JSON)</label>"
            "<textarea id=\"definition\" name=\"definition\" rows=\"18\" "
            "spellcheck=\"false\" data-json>");
  cs_html(b, definition);
  cs_put(b, "</textarea><p class=\"problem json-problem\" role=\"alert\"></p>"
            "<button type=\"submit\">Validate</button></form>\n");
}

/* The diagnostics of ValidateStateMachineDefinition as a table; the
 * states they name into `named`. */
static void put_diagnostics(cs_buf *b, const json_t *answer, json_t *named) {
  const char *result = json_string_value(json_object_get(answer, "result"));
  const json_t *list = json_object_get(answer, "diagnostics");
  cs_printf(b, "<p id=\"validation-result\" class=\"result-%s\">",
            result && !strcmp(result, "OK") ? "ok" : "fail");
  cs_put(b, result && !strcmp(result, "OK")
                ? "The definition is valid."
                : "The definition is not valid.");
  cs_printf(b, " %zu diagnostic%s.</p>\n", json_array_size(list),
            json_array_size(list) == 1 ? "" : "s");
  if (!json_array_size(list)) return;
  cs_put(b, "<table class=\"list diagnostics\">\n<thead><tr><th>Severity</th>"
            "<th>Code</th><th>Message</th><th>Location</th><th>State</th>"
            "</tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < json_array_size(list); i++) {
    const json_t *d = json_array_get(list, i);
    const char *loc = json_string_value(json_object_get(d, "location"));
    char state[256];
    bool has = loc && located_state(loc, state, sizeof state);
    if (has) json_object_set_new(named, state, json_true());
    cs_put(b, "<tr><td>");
    cs_html(b, json_string_value(json_object_get(d, "severity")));
    cs_put(b, "</td><td>");
    cs_html(b, json_string_value(json_object_get(d, "code")));
    cs_put(b, "</td><td>");
    cs_html(b, json_string_value(json_object_get(d, "message")));
    cs_put(b, "</td><td class=\"arn\">");
    cs_html(b, loc ? loc : "-");
    cs_put(b, "</td><td>");
    cs_html(b, has ? state : "-");
    cs_put(b, "</td></tr>\n");
  }
  cs_put(b, "</tbody>\n</table>\n");
}

void cs_page_validate(cs_ctx *c) {
  bool post = !strcmp(c->req->method, "POST");
  if (post && refused(c)) return;
  char *definition = post ? form_text(c, "definition") : NULL;
  char machine[256];
  if (!post && cs_query_get(c->req->query, "machine", machine, sizeof machine)) {
    gw_machine_rec *m = c->g->store->ops->find_machine(c->g->store, machine);
    if (m && m->current.definition) definition = strdup(m->current.definition);
    if (m) c->g->store->ops->release_machine(c->g->store, m);
  }
  cs_buf b = {0};
  cs_page_open(&b, "Validate a definition", c->session);
  cs_put(&b, "<h1>Validate a definition</h1>\n");
  json_t *named = json_object();
  if (post) {
    char problem[1200] = "";
    json_t *answer =
        definition && definition[0]
            ? api_call(c, gw_sfn_validate_definition,
                       json_pack("{s:s}", "definition", definition), problem,
                       sizeof problem)
            : NULL;
    if (!definition || !definition[0])
      snprintf(problem, sizeof problem, "Give a definition.");
    if (answer) {
      put_diagnostics(&b, answer, named);
      cs_put(&b, "<h2>Graph</h2>\n");
      cs_graph(&b, definition, mark_invalid, named, NULL);
    } else {
      cs_put(&b, "<p class=\"problem\" id=\"validation-result\">");
      cs_html(&b, problem);
      cs_put(&b, "</p>\n");
    }
    json_decref(answer);
  }
  put_validate_form(c, &b, definition ? definition : "");
  json_decref(named);
  free(definition);
  cs_page_close(&b);
  cs_answer_html(c->resp, 200, &b);
}

void cs_put_start_form(cs_ctx *c, cs_buf *b, const char *machine,
                       const char *input, const char *problem) {
  cs_put(b, "<h2>Start an execution</h2>\n<form method=\"post\" "
            "class=\"editor\" id=\"start\" action=\"/console/machines/");
  cs_url(b, machine);
  cs_put(b, "/start\">");
  cs_csrf_field(c, b);
  cs_put(b, "<label for=\"exec-name\">Name (optional)</label><input "
            "id=\"exec-name\" name=\"name\" maxlength=\"80\">"
            "<label for=\"input\">Input (JSON)</label><textarea id=\"input\" "
            "name=\"input\" rows=\"8\" spellcheck=\"false\" data-json>");
  cs_html(b, input ? input : "{}");
  cs_put(b, "</textarea><p class=\"problem json-problem\" role=\"alert\">");
  cs_html(b, problem);
  cs_put(b, "</p><button type=\"submit\">Start execution</button></form>\n");
}
