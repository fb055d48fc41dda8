/* Executions, newest first: of one machine or of all, filtered by status,
 * a page at a time (the cursor is the store's order of the last row
 * shown, so pages stay put while executions start). */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "sfn.h"

#define PAGE 50

typedef struct listing {
  cs_buf *b;
  size_t max, count;
  int64_t last;
} listing;

static void put_row(const gw_exec_rec *x, void *arg) {
  listing *l = arg;
  if (l->count++ >= l->max) return; /* the one past: there is more */
  cs_buf *b = l->b;
  const char *machine = strrchr(x->machine_arn, ':');
  machine = machine ? machine + 1 : x->machine_arn;
  cs_put(b, "<tr><td>");
  cs_link(b, "/console/executions/", x->arn, x->name);
  cs_put(b, "</td><td>");
  cs_link(b, "/console/machines/", machine, machine);
  cs_put(b, "</td><td>");
  cs_put_status(b, x->status);
  cs_put(b, "</td><td>");
  cs_put_date(b, x->start_ms);
  cs_put(b, "</td><td>");
  cs_put_date(b, x->status == WF_EXEC_RUNNING ? 0 : x->stop_ms);
  cs_put(b, "</td></tr>\n");
  l->last = x->seq;
}

void cs_put_executions(cs_buf *b, gateway *g, const char *machine_arn,
                       int status, int64_t before, size_t max,
                       int64_t *next) {
  cs_put(b, "<table class=\"list executions\">\n<thead><tr><th>Name</th>"
            "<th>State machine</th><th>Status</th><th>Started</th>"
            "<th>Stopped</th></tr></thead>\n<tbody>\n");
  listing l = {b, max, 0, 0};
  g->store->ops->list_executions(g->store, machine_arn, NULL, status, before,
                                 max + 1, put_row, &l);
  if (!l.count) cs_put(b, "<tr><td colspan=\"5\">None.</td></tr>\n");
  cs_put(b, "</tbody>\n</table>\n");
  *next = l.count > max ? l.last : 0;
}

/* The filter's links: every status, the current one marked. */
static void put_filter(cs_buf *b, const char *base, int status) {
  cs_put(b, "<p class=\"filter\">Status: ");
  for (int st = -1; st <= WF_EXEC_ABORTED; st++) {
    const char *name = st < 0 ? "ALL" : gw_sfn_status_name((wf_exec_status)st);
    if (st == status) {
      cs_printf(b, "<strong>%s</strong> ", name);
      continue;
    }
    cs_put(b, "<a href=\"");
    cs_put(b, base);
    if (st >= 0) cs_printf(b, "?status=%s", name);
    cs_printf(b, "\">%s</a> ", name);
  }
  cs_put(b, "</p>\n");
}

void cs_page_executions(cs_ctx *c, const char *name) {
  gw_store *s = c->g->store;
  char value[32];
  int status = cs_query_get(c->req->query, "status", value, sizeof value)
                   ? cs_status_parse(value)
                   : -1;
  int64_t before =
      cs_query_get(c->req->query, "before", value, sizeof value)
          ? cs_cursor_parse(value)
          : 0;
  gw_machine_rec *m = name ? s->ops->find_machine(s, name) : NULL;
  if (name && !m) {
    cs_answer_message(c->resp, 404, "Not found", "no such state machine",
                      c->session);
    return;
  }
  cs_buf base = {0};
  cs_put(&base, "/console/");
  if (m) {
    cs_put(&base, "machines/");
    cs_url(&base, m->name);
    cs_put(&base, "/");
  }
  cs_put(&base, "executions");
  cs_buf b = {0};
  cs_page_open(&b, m ? m->name : "Executions", c->session);
  cs_put(&b, "<h1>Executions");
  if (m) {
    cs_put(&b, " of ");
    cs_link(&b, "/console/machines/", m->name, m->name);
  }
  cs_put(&b, "</h1>\n");
  put_filter(&b, base.s ? base.s : "", status);
  int64_t next = 0;
  cs_put_executions(&b, c->g, m ? m->arn : NULL, status, before, PAGE, &next);
  cs_put(&b, "<p class=\"pages\">");
  if (before) {
    cs_put(&b, "<a href=\"");
    cs_put(&b, base.s ? base.s : "");
    if (status >= 0)
      cs_printf(&b, "?status=%s", gw_sfn_status_name((wf_exec_status)status));
    cs_put(&b, "\">Newest</a> ");
  }
  if (next) {
    cs_put(&b, "<a href=\"");
    cs_put(&b, base.s ? base.s : "");
    cs_printf(&b, "?before=%lld", (long long)next);
    if (status >= 0)
      cs_printf(&b, "&amp;status=%s",
                gw_sfn_status_name((wf_exec_status)status));
    cs_put(&b, "\">Older</a>");
  }
  cs_put(&b, "</p>\n");
  if (base.oom) b.oom = true;
  cs_free(&base);
  if (m) s->ops->release_machine(s, m);
  cs_page_close(&b);
  cs_answer_html(c->resp, 200, &b);
}
