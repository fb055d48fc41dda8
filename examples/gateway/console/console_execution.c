/* One execution: its summary, its graph coloured by what happened to each
 * state, and its event history as a table; the same for one Map
 * iteration or Parallel branch of it (?lane=); and a state's runs, with
 * the iterations or branches a Map or Parallel state ran (.../state).
 * What happened is read from the history the engine's store committed
 * (console_history.c):
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

#define TABLE_MAX 1000 /* events a page of the table shows */

/* The history table: events from the id `from`, TABLE_MAX at most. */
typedef struct table {
  cs_buf *b;
  int64_t from, last;  /* the first id asked for, the last shown */
  size_t shown;
  bool more;           /* events past the last shown */
} table;

/* An input or output held as JSON text shown as the JSON it is. */
static void unwrap_data(json_t *details) {
  static const char *const keys[] = {"input", "output"};
  for (size_t i = 0; i < 2; i++) {
    const char *text = json_string_value(json_object_get(details, keys[i]));
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (v) json_object_set_new(details, keys[i], v);
  }
}

static void table_row(cs_history *h, const wf_store_event *ev, json_t *e,
                      void *arg) {
  table *t = arg;
  if (!e || ev->id < t->from) return;
  if (t->shown >= TABLE_MAX) {
    t->more = true;
    return;
  }
  t->shown++;
  t->last = ev->id;
  cs_buf *b = t->b;
  int64_t elapsed = ev->timestamp_ms - h->first_ms;
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

typedef struct marking {
  const cs_history *h;
  wf_exec_status status;
} marking;

static cs_mark mark_of(const char *name, void *arg) {
  const marking *m = arg;
  return cs_history_mark(m->h, name, m->status);
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

/* The summary's last terms (error and cause, when there are), its end,
 * and input and output side by side under headings of level `h`. */
static void put_outcome(cs_buf *b, const char *error, const char *cause,
                        const char *input, const char *output,
                        const char *h) {
  if (error) {
    term(b, "Error");
    cs_html(b, error);
  }
  if (cause) {
    term(b, "Cause");
    cs_put(b, "<pre>");
    cs_json_pretty(b, cause);
    cs_put(b, "</pre>");
  }
  cs_printf(b, "</dd>\n</dl>\n<div class=\"data\"><section><%s>Input</%s><pre>",
            h, h);
  if (input) cs_json_pretty(b, input);
  else cs_put(b, "-");
  cs_printf(b, "</pre></section>\n<section><%s>Output</%s><pre>", h, h);
  if (output) cs_json_pretty(b, output);
  else cs_put(b, "-");
  cs_put(b, "</pre></section></div>\n");
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
  put_outcome(b, x->error, x->cause, x->input, x->output, "h2");
}

/* An execution with what its pages read: its definition and history. */
typedef struct loaded {
  gw_exec_rec *x;
  char *definition;
  bool kept; /* the gateway keeps history */
  int rc;
  wf_error err;
  cs_history h;
} loaded;

/* Read the execution `id` and its history (h's settings given); false
 * with 404 answered when there is none (or no such lane). */
static bool load(cs_ctx *c, const char *id, loaded *l) {
  gw_store *s = c->g->store;
  l->x = s->ops->find_execution(s, id);
  if (!l->x) {
    cs_answer_message(c->resp, 404, "Not found", "no such execution",
                      c->session);
    return false;
  }
  const gw_exec_rec *x = l->x;
  l->definition =
      x->definition_id ? s->ops->get_definition(s, x->definition_id) : NULL;
  if (!l->definition) { /* the machine's own, when the store lost the copy */
    gw_machine_rec *m = s->ops->find_machine(s, x->machine_arn);
    if (m && m->current.definition)
      l->definition = strdup(m->current.definition);
    if (m) s->ops->release_machine(s, m);
  }
  cs_history_init(&l->h, l->definition);
  l->kept = c->g->cfg->engine.history != WF_HISTORY_OFF;
  if (l->kept)
    l->rc = wf_store_read_events(wf_engine_store(c->g->engine), x->arn, 0,
                                 false, 0, cs_history_event, &l->h, &l->err);
  cs_history_statuses(&l->h, x->status);
  if (l->h.focus_id && l->h.focus < 0) {
    cs_answer_message(c->resp, 404, "Not found",
                      "no such iteration or branch", c->session);
    return false;
  }
  return true;
}

static void unload(cs_ctx *c, loaded *l) {
  cs_history_fini(&l->h);
  free(l->definition);
  if (l->x) c->g->store->ops->release_execution(c->g->store, l->x);
}

/* "Iteration 3 of M" or "Branch 2 of P". */
static void put_lane_name(cs_buf *b, const cs_history *h, const cs_lane *l) {
  if (l->branch) cs_printf(b, "Branch %ld", l->index + 1);
  else cs_printf(b, "Iteration %ld", l->index);
  if (l->owner_run >= 0) {
    cs_put(b, " of ");
    cs_html(b, h->runs[l->owner_run].state);
  }
}

/* The execution's page, or one lane of it: "/console/executions/ARN". */
static void put_execution_link(cs_buf *b, const gw_exec_rec *x,
                               int64_t lane) {
  cs_put(b, "/console/executions/");
  cs_url(b, x->arn);
  if (lane) cs_printf(b, "?lane=%lld", (long long)lane);
}

/* Where the reader is: the lanes from the top to the focus. */
static void put_breadcrumb(cs_buf *b, const loaded *l) {
  if (l->h.focus <= 0) return;
  size_t chain[64], n = 0;
  for (size_t i = (size_t)l->h.focus; i && n < 64; i = l->h.lanes[i].parent)
    chain[n++] = i;
  cs_put(b, "<p class=\"breadcrumb\"><a href=\"");
  put_execution_link(b, l->x, 0);
  cs_put(b, "\">Whole execution</a>");
  while (n--) {
    const cs_lane *ln = &l->h.lanes[chain[n]];
    cs_put(b, " › <a href=\"");
    put_execution_link(b, l->x, ln->id);
    cs_put(b, "\">");
    put_lane_name(b, &l->h, ln);
    cs_put(b, "</a>");
  }
  cs_put(b, "</p>\n");
}

/* Stop (a running execution) and redrive (one that did not succeed; when
 * AWS would not redrive it, the button says why). */
static void put_actions(cs_ctx *c, cs_buf *b, const gw_exec_rec *x) {
  cs_put(b, "<div class=\"actions\">");
  if (x->status == WF_EXEC_RUNNING) {
    cs_put(b, "<form method=\"post\" class=\"stop\" action=\"");
    put_execution_link(b, x, 0);
    cs_put(b, "/stop\">");
    cs_csrf_field(c, b);
    cs_put(b, "<button type=\"submit\" id=\"stop\">Stop execution</button>"
              "</form>");
  }
  if (x->status != WF_EXEC_RUNNING && x->status != WF_EXEC_SUCCEEDED) {
    if (!x->redrive_reason) {
      cs_put(b, "<form method=\"post\" class=\"redrive\" action=\"");
      put_execution_link(b, x, 0);
      cs_put(b, "/redrive\">");
      cs_csrf_field(c, b);
      cs_put(b, "<button type=\"submit\" id=\"redrive\">Redrive"
                "</button></form>");
    } else {
      cs_put(b, "<button type=\"button\" id=\"redrive\" disabled title=\"");
      cs_html(b, x->redrive_reason);
      cs_put(b, "\">Redrive</button> <span class=\"hint\">");
      cs_html(b, x->redrive_reason);
      cs_put(b, ".</span>");
    }
  }
  cs_put(b, "</div>\n");
}

/* Links to the table's other pages: its first, and the events after the
 * last shown (the history's ids: pages stay put while it grows). */
static void put_table_pages(cs_buf *b, const loaded *l, const table *t) {
  if (t->from <= 1 && !t->more) return;
  cs_put(b, "<p class=\"pages\">");
  if (t->from > 1) {
    cs_put(b, "<a href=\"");
    put_execution_link(b, l->x, l->h.focus_id);
    cs_put(b, "\">First events</a> ");
  }
  if (t->more) {
    cs_put(b, "<a href=\"");
    put_execution_link(b, l->x, l->h.focus_id);
    cs_printf(b, "%sfrom=%lld\">Later events</a>",
              l->h.focus_id ? "&amp;" : "?", (long long)t->last + 1);
  }
  cs_put(b, "</p>\n");
}

void cs_page_execution(cs_ctx *c, const char *id) {
  char value[32];
  loaded l = {0};
  if (cs_query_get(c->req->query, "lane", value, sizeof value))
    l.h.focus_id = cs_cursor_parse(value);
  cs_buf b = {0}, rows = {0};
  table t = {.b = &rows, .from = 1};
  if (cs_query_get(c->req->query, "from", value, sizeof value) &&
      cs_cursor_parse(value) > 1)
    t.from = cs_cursor_parse(value);
  l.h.on_event = table_row;
  l.h.on_event_arg = &t;
  if (!load(c, id, &l)) {
    unload(c, &l);
    cs_free(&rows);
    return;
  }
  const gw_exec_rec *x = l.x;
  cs_page_open(&b, x->name, c->session);
  cs_printf(&b, "<div id=\"live\" data-status=\"%s\">\n",
            gw_sfn_status_name(x->status));
  put_summary(&b, x);
  put_actions(c, &b, x);
  put_breadcrumb(&b, &l);
  cs_put(&b, "<h2>Graph</h2>\n");
  put_legend(&b);
  cs_buf link = {0};
  put_execution_link(&link, x, 0);
  cs_put(&link, "/state?");
  if (l.h.focus_id) cs_printf(&link, "lane=%lld&amp;", (long long)l.h.focus_id);
  cs_put(&link, "name=");
  marking mk = {&l.h, x->status};
  cs_graph(&b, l.definition, l.kept && l.rc == WF_OK ? mark_of : NULL, &mk,
           link.s);
  if (link.oom) b.oom = true;
  cs_free(&link);
  cs_put(&b, "<h2>Events</h2>\n");
  if (!l.kept) {
    cs_put(&b, "<p>This gateway keeps no history (engine.history: off).</p>\n");
  } else if (l.rc != WF_OK) {
    cs_put(&b, "<p class=\"problem\">The history could not be read: ");
    cs_html(&b, l.err.message);
    cs_put(&b, "</p>\n");
  } else {
    cs_put(&b, "<table class=\"list events\">\n<thead><tr><th>Id</th>"
               "<th>Type</th><th>Time</th><th>Elapsed</th><th>Details</th>"
               "</tr></thead>\n<tbody>\n");
    cs_put(&b, rows.s ? rows.s : "");
    cs_put(&b, "</tbody>\n</table>\n");
    put_table_pages(&b, &l, &t);
  }
  cs_put(&b, "</div>\n<aside id=\"state-panel\" hidden></aside>\n");
  if (l.h.oom || rows.oom) b.oom = true;
  cs_free(&rows);
  unload(c, &l);
  cs_page_close(&b);
  cs_answer_html(c->resp, 200, &b);
}

/* The Map iterations or Parallel branches run `r` owned. */
static void put_lanes(cs_buf *b, const loaded *l, size_t r) {
  bool any = false;
  for (size_t i = 1; i < l->h.nlanes; i++) {
    const cs_lane *ln = &l->h.lanes[i];
    if (ln->owner_run != (long)r) continue;
    if (!any)
      cs_printf(b, "<h4>%s</h4>\n<table class=\"list lanes\">\n<thead><tr>"
                   "<th>%s</th><th>Status</th></tr></thead>\n<tbody>\n",
                ln->branch ? "Branches" : "Iterations",
                ln->branch ? "Branch" : "Index");
    any = true;
    cs_put(b, "<tr><td><a href=\"");
    put_execution_link(b, l->x, ln->id);
    cs_put(b, "\">");
    put_lane_name(b, &l->h, ln);
    cs_put(b, "</a></td><td>");
    cs_put_status(b, ln->status);
    cs_put(b, "</td></tr>\n");
  }
  if (any) cs_put(b, "</tbody>\n</table>\n");
}

static void put_run(cs_buf *b, const loaded *l, size_t i, size_t nth) {
  const cs_run *r = &l->h.runs[i];
  cs_printf(b, "<section class=\"run\">\n<h3>Run %zu", nth);
  if (r->lane) {
    cs_put(b, " <span class=\"type\">in ");
    put_lane_name(b, &l->h, &l->h.lanes[r->lane]);
    cs_put(b, "</span>");
  }
  cs_put(b, "</h3>\n<dl class=\"summary\">\n<dt>Entered</dt><dd>");
  cs_put_date(b, r->entered_ms);
  term(b, "Left");
  if (r->exited) cs_put_date(b, r->exited_ms);
  else cs_put(b, l->x->status == WF_EXEC_RUNNING ? "running" : "not left");
  int64_t end = r->exited ? r->exited_ms
                : l->x->status == WF_EXEC_RUNNING ? gw_now_ms()
                                                  : l->x->stop_ms;
  term(b, "Duration");
  cs_printf(b, "%lld.%03lld s", (long long)((end - r->entered_ms) / 1000),
            (long long)((end - r->entered_ms) % 1000));
  term(b, "Attempts");
  cs_printf(b, "%d (retries: %d)", r->attempts,
            r->attempts > 1 ? r->attempts - 1 : 0);
  put_outcome(b, r->error, r->cause, r->input, r->output, "h4");
  if (r->fanout) put_lanes(b, l, i);
  cs_put(b, "</section>\n");
}

void cs_page_state(cs_ctx *c, const char *id) {
  char value[32], name[256];
  loaded l = {0};
  if (!cs_query_get(c->req->query, "name", name, sizeof name)) {
    cs_answer_message(c->resp, 400, "Bad request", "which state? (name=)",
                      c->session);
    return;
  }
  if (cs_query_get(c->req->query, "lane", value, sizeof value))
    l.h.focus_id = cs_cursor_parse(value);
  l.h.want = name;
  if (!load(c, id, &l)) {
    unload(c, &l);
    return;
  }
  cs_buf b = {0};
  cs_page_open(&b, name, c->session);
  cs_put(&b, "<div id=\"state-details\">\n<h2>");
  cs_html(&b, name);
  cs_put(&b, "</h2>\n<p>Of <a href=\"");
  put_execution_link(&b, l.x, l.h.focus_id);
  cs_put(&b, "\">");
  cs_html(&b, l.x->name);
  if (l.h.focus > 0) {
    cs_put(&b, ", ");
    put_lane_name(&b, &l.h, &l.h.lanes[l.h.focus]);
  }
  cs_put(&b, "</a></p>\n");
  size_t nth = 0;
  for (size_t i = 0; i < l.h.nruns; i++)
    if (!strcmp(l.h.runs[i].state, name) &&
        cs_history_shown(&l.h, l.h.runs[i].lane))
      put_run(&b, &l, i, ++nth);
  if (!nth) cs_put(&b, "<p>This state was not entered.</p>\n");
  cs_put(&b, "</div>\n");
  if (l.h.oom) b.oom = true;
  unload(c, &l);
  cs_page_close(&b);
  cs_answer_html(c->resp, 200, &b);
}
