/* One execution: its summary, its graph coloured by what happened to each
 * state, and its event history as a table. What happened is read from
 * the history the engine's store committed:
 *  - a state entered and exited is succeeded, or caught when the event
 *    before its exit is a failure (a Catch took the error on);
 *  - a state entered and not exited is running while the execution runs,
 *    failed once it has ended (a Fail state, an uncaught error, or a
 *    branch cancelled by a failing sibling);
 *  - a state with no event was not reached.
 * A state run many times (Map iterations, loops) shows the worst. While
 * the execution runs, the page re-reads itself (console.js). */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "sfn.h"

#define TABLE_MAX 1000 /* events shown; the rest are counted */

typedef struct state_runs {
  size_t entered, exited, caught;
} state_runs;

typedef struct reading {
  cs_buf *b;               /* the history table */
  json_t *index;           /* state name -> index into runs */
  state_runs *runs;
  size_t nruns, cap;
  unsigned char *failure;  /* by event id: a failure event */
  size_t nfailure;
  int64_t first_ms;
  size_t shown, total;
  bool oom;
  wf_exec_status status;
} reading;

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

static state_runs *runs_of(reading *r, const char *name) {
  json_t *at = json_object_get(r->index, name);
  if (at) return &r->runs[json_integer_value(at)];
  if (r->nruns == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 32;
    state_runs *v = realloc(r->runs, cap * sizeof *v);
    if (!v) return NULL;
    r->runs = v;
    r->cap = cap;
  }
  if (json_object_set_new(r->index, name, json_integer((json_int_t)r->nruns)))
    return NULL;
  memset(&r->runs[r->nruns], 0, sizeof *r->runs);
  return &r->runs[r->nruns++];
}

static void note_failure(reading *r, int64_t id, bool failure) {
  if (id <= 0) return;
  if ((size_t)id >= r->nfailure) {
    size_t n = r->nfailure ? r->nfailure : 256;
    while (n <= (size_t)id) n *= 2;
    unsigned char *v = realloc(r->failure, n);
    if (!v) {
      r->oom = true;
      return;
    }
    memset(v + r->nfailure, 0, n - r->nfailure);
    r->failure = v;
    r->nfailure = n;
  }
  r->failure[id] = failure;
}

static bool was_failure(const reading *r, int64_t id) {
  return id > 0 && (size_t)id < r->nfailure && r->failure[id];
}

/* An input or output held as JSON text shown as the JSON it is. */
static void unwrap_data(json_t *details) {
  static const char *const keys[] = {"input", "output"};
  for (size_t i = 0; i < 2; i++) {
    const char *text = json_string_value(json_object_get(details, keys[i]));
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (v) json_object_set_new(details, keys[i], v);
  }
}

static void table_row(reading *r, const wf_store_event *ev, json_t *e) {
  if (r->shown >= TABLE_MAX) return;
  r->shown++;
  cs_buf *b = r->b;
  int64_t elapsed = ev->timestamp_ms - r->first_ms;
  cs_printf(b, "<tr><td>%lld</td><td>", (long long)ev->id);
  cs_html(b, ev->type);
  cs_put(b, "</td><td>");
  cs_put_date(b, ev->timestamp_ms);
  cs_printf(b, "</td><td>%lld.%03lld s</td><td>", (long long)(elapsed / 1000),
            (long long)(elapsed % 1000));
  json_t *details = json_object();
  const char *k;
  json_t *v;
  json_object_foreach(e, k, v) {
    if (!strcmp(k, "id") || !strcmp(k, "type") || !strcmp(k, "timestamp") ||
        !strcmp(k, "previousEventId"))
      continue;
    if (json_is_object(v)) unwrap_data(v);
    json_object_set(details, k, v);
  }
  if (json_object_size(details)) {
    char *text = json_dumps(details, JSON_INDENT(2) | JSON_ENCODE_ANY);
    cs_put(b, "<pre>");
    cs_html(b, text);
    cs_put(b, "</pre>");
    free(text);
  }
  json_decref(details);
  cs_put(b, "</td></tr>\n");
}

static int read_event(const wf_store_event *ev, void *arg) {
  reading *r = arg;
  if (!r->total++) r->first_ms = ev->timestamp_ms;
  json_t *e = json_loads(ev->json, 0, NULL);
  if (!e) return 0;
  const char *type = ev->type ? ev->type : "";
  note_failure(r, ev->id, ends_with(type, "Failed") ||
                              ends_with(type, "TimedOut"));
  bool entered = ends_with(type, "StateEntered");
  bool exited = ends_with(type, "StateExited");
  if (entered || exited) {
    const char *member =
        entered ? "stateEnteredEventDetails" : "stateExitedEventDetails";
    const char *name = json_string_value(
        json_object_get(json_object_get(e, member), "name"));
    state_runs *s = name ? runs_of(r, name) : NULL;
    if (name && !s) r->oom = true;
    if (s && entered) s->entered++;
    if (s && exited) {
      s->exited++;
      if (was_failure(r, ev->previous_id)) s->caught++;
    }
  }
  table_row(r, ev, e);
  json_decref(e);
  return 0;
}

static cs_mark mark_of(const char *name, void *arg) {
  reading *r = arg;
  json_t *at = json_object_get(r->index, name);
  if (!at) return CS_MARK_NOT_REACHED;
  const state_runs *s = &r->runs[json_integer_value(at)];
  if (s->entered > s->exited)
    return r->status == WF_EXEC_RUNNING ? CS_MARK_RUNNING : CS_MARK_FAILED;
  return s->caught ? CS_MARK_CAUGHT : CS_MARK_SUCCEEDED;
}

static void put_legend(cs_buf *b) {
  static const cs_mark shown[] = {CS_MARK_SUCCEEDED, CS_MARK_FAILED,
                                  CS_MARK_CAUGHT, CS_MARK_RUNNING,
                                  CS_MARK_NOT_REACHED};
  cs_put(b, "<p class=\"legend\">");
  for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
    cs_printf(b, "<span class=\"key mark_%s\">%s</span> ",
              cs_mark_name(shown[i]), cs_mark_name(shown[i]));
  cs_put(b, "</p>\n");
}

/* The next term of the summary (the previous one's value ends). */
static void term(cs_buf *b, const char *name) {
  cs_printf(b, "</dd>\n<dt>%s</dt><dd>", name);
}

static void put_summary(cs_buf *b, const gw_exec_rec *x) {
  const char *machine = strrchr(x->machine_arn, ':');
  machine = machine ? machine + 1 : x->machine_arn;
  cs_put(b, "<h1>");
  cs_html(b, x->name);
  cs_put(b, " ");
  cs_put_status(b, x->status);
  cs_put(b, "</h1>\n<dl class=\"summary\">\n<dt>Execution</dt><dd>");
  cs_html(b, x->arn);
  term(b, "State machine");
  cs_link(b, "/console/machines/", machine, machine);
  if (x->version_arn) {
    cs_put(b, " (");
    cs_html(b, x->version_arn);
    cs_put(b, ")");
  }
  term(b, "Started");
  cs_put_date(b, x->start_ms);
  term(b, "Stopped");
  cs_put_date(b, x->status == WF_EXEC_RUNNING ? 0 : x->stop_ms);
  if (x->error) {
    term(b, "Error");
    cs_html(b, x->error);
  }
  if (x->cause) {
    term(b, "Cause");
    cs_put(b, "<pre>");
    cs_json_pretty(b, x->cause);
    cs_put(b, "</pre>");
  }
  cs_put(b, "</dd>\n");
  cs_put(b, "</dl>\n<div class=\"data\"><section><h2>Input</h2><pre>");
  cs_json_pretty(b, x->input);
  cs_put(b, "</pre></section>\n<section><h2>Output</h2><pre>");
  if (x->output) cs_json_pretty(b, x->output);
  else cs_put(b, "-");
  cs_put(b, "</pre></section></div>\n");
}

void cs_page_execution(cs_ctx *c, const char *id) {
  gw_store *s = c->g->store;
  gw_exec_rec *x = s->ops->find_execution(s, id);
  if (!x) {
    cs_answer_message(c->resp, 404, "Not found", "no such execution",
                      c->session);
    return;
  }
  char *definition =
      x->definition_id ? s->ops->get_definition(s, x->definition_id) : NULL;
  if (!definition) { /* the machine's own, when the store lost the copy */
    gw_machine_rec *m = s->ops->find_machine(s, x->machine_arn);
    if (m && m->current.definition) definition = strdup(m->current.definition);
    if (m) s->ops->release_machine(s, m);
  }
  cs_buf b = {0}, table = {0};
  reading r = {.b = &table, .index = json_object(), .status = x->status};
  bool kept = c->g->cfg->engine.history != WF_HISTORY_OFF;
  wf_error err = {0};
  int rc = WF_OK;
  if (kept)
    rc = wf_store_read_events(wf_engine_store(c->g->engine), x->arn, 0, false,
                              0, read_event, &r, &err);
  if (!r.index) r.oom = true;
  cs_page_open(&b, x->name, c->session);
  cs_printf(&b, "<div id=\"live\" data-status=\"%s\">\n",
            gw_sfn_status_name(x->status));
  put_summary(&b, x);
  cs_put(&b, "<h2>Graph</h2>\n");
  put_legend(&b);
  cs_graph(&b, definition, kept && rc == WF_OK ? mark_of : NULL, &r);
  cs_put(&b, "<h2>Events</h2>\n");
  if (!kept) {
    cs_put(&b, "<p>This gateway keeps no history (engine.history: off).</p>\n");
  } else if (rc != WF_OK) {
    cs_put(&b, "<p class=\"problem\">The history could not be read: ");
    cs_html(&b, err.message);
    cs_put(&b, "</p>\n");
  } else {
    cs_put(&b, "<table class=\"list events\">\n<thead><tr><th>Id</th>"
               "<th>Type</th><th>Time</th><th>Elapsed</th><th>Details</th>"
               "</tr></thead>\n<tbody>\n");
    cs_put(&b, table.s ? table.s : "");
    cs_put(&b, "</tbody>\n</table>\n");
    if (r.total > r.shown)
      cs_printf(&b, "<p>%zu more events are not shown.</p>\n",
                r.total - r.shown);
  }
  cs_put(&b, "</div>\n");
  if (r.oom || table.oom) b.oom = true;
  cs_free(&table);
  json_decref(r.index);
  free(r.runs);
  free(r.failure);
  free(definition);
  s->ops->release_execution(s, x);
  cs_page_close(&b);
  cs_answer_html(c->resp, 200, &b);
}
