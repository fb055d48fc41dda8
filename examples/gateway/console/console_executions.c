/* Executions, newest first: of one machine or of all, filtered by status
 * and by a part of their name, a page at a time (the cursor is the store's order of the last row
 * shown, so pages stay put while executions start). */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "sfn.h"

#define PAGE 50
/* A name search reads at most this many executions a page (newest
 * first, by the store's cursor); past it the page offers to go on. */
#define SEARCH_SCAN 5000
#define SEARCH_CHUNK 500

typedef struct listing {
  cs_buf *b;
  const char *q;            /* the name searched for, or NULL */
  size_t max, count, scanned;
  int64_t last, last_seen;  /* the last shown, the last read */
} listing;

static void put_row(const gw_exec_rec *x, void *arg) {
  listing *l = arg;
  l->scanned++;
  l->last_seen = x->seq;
  if (l->q && !strcasestr(x->name, l->q)) return;
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
                       int status, const char *q, int64_t before, size_t max,
                       int64_t *next) {
  cs_put(b, "<table class=\"list executions\">\n<thead><tr><th>Name</th>"
            "<th>State machine</th><th>Status</th><th>Started</th>"
            "<th>Stopped</th></tr></thead>\n<tbody>\n");
  listing l = {b, q && q[0] ? q : NULL, max, 0, 0, 0, 0};
  gw_store *s = g->store;
  bool more = false;
  if (!l.q) {
    s->ops->list_executions(s, machine_arn, NULL, status, before, max + 1,
                            put_row, &l);
  } else {
    /* Read on, a chunk at a time from where the last ended, until one
     * more than a page matched, the store ran out, or enough was read. */
    for (int64_t from = before; l.count <= max;) {
      if (l.scanned >= SEARCH_SCAN) {
        more = true;
        break;
      }
      size_t n = s->ops->list_executions(s, machine_arn, NULL, status, from,
                                         SEARCH_CHUNK, put_row, &l);
      if (n < SEARCH_CHUNK) break;
      from = l.last_seen;
    }
  }
  if (!l.count) cs_put(b, "<tr><td colspan=\"5\">None.</td></tr>\n");
  cs_put(b, "</tbody>\n</table>\n");
  if (more)
    cs_printf(b, "<p class=\"hint\">%zu executions searched; older ones "
                 "are on the next page.</p>\n", l.scanned);
  *next = l.count > max ? l.last : more ? l.last_seen : 0;
}

/* A link to a page of the list: base, then the query of its filters. */
static void put_href(cs_buf *b, const char *base, int status, const char *q,
                     int64_t before) {
  const char *sep = "?";
  cs_put(b, "<a href=\"");
  cs_put(b, base);
  if (status >= 0) {
    cs_printf(b, "%sstatus=%s", sep, gw_sfn_status_name((wf_exec_status)status));
    sep = "&amp;";
  }
  if (q && q[0]) {
    cs_printf(b, "%sq=", sep);
    cs_url(b, q);
    sep = "&amp;";
  }
  if (before) cs_printf(b, "%sbefore=%lld", sep, (long long)before);
  cs_put(b, "\">");
}

/* The search form and the filter's links: every status, the current one
 * marked. */
static void put_filter(cs_buf *b, const char *base, int status,
                       const char *q) {
  cs_put(b, "<form method=\"get\" class=\"search\" action=\"");
  cs_put(b, base);
  cs_put(b, "\"><input type=\"search\" name=\"q\" id=\"search\" "
            "placeholder=\"Name contains\" value=\"");
  cs_html(b, q);
  cs_put(b, "\">");
  if (status >= 0)
    cs_printf(b, "<input type=\"hidden\" name=\"status\" value=\"%s\">",
              gw_sfn_status_name((wf_exec_status)status));
  cs_put(b, "<button type=\"submit\">Search</button></form>\n");
  cs_put(b, "<p class=\"filter\">Status: ");
  for (int st = -1; st <= WF_EXEC_ABORTED; st++) {
    const char *name = st < 0 ? "ALL" : gw_sfn_status_name((wf_exec_status)st);
    if (st == status) {
      cs_printf(b, "<strong>%s</strong> ", name);
      continue;
    }
    put_href(b, base, st, q, 0);
    cs_printf(b, "%s</a> ", name);
  }
  cs_put(b, "</p>\n");
}

void cs_page_executions(cs_ctx *c, const char *name) {
  gw_store *s = c->g->store;
  char value[32], q[128];
  int status = cs_query_get(c->req->query, "status", value, sizeof value)
                   ? cs_status_parse(value)
                   : -1;
  int64_t before =
      cs_query_get(c->req->query, "before", value, sizeof value)
          ? cs_cursor_parse(value)
          : 0;
  if (!cs_query_get(c->req->query, "q", q, sizeof q)) q[0] = '\0';
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
  const char *at = base.s ? base.s : "";
  cs_buf b = {0};
  cs_page_open(&b, m ? m->name : "Executions", c->session);
  cs_put(&b, "<h1>Executions");
  if (m) {
    cs_put(&b, " of ");
    cs_link(&b, "/console/machines/", m->name, m->name);
  }
  cs_put(&b, "</h1>\n");
  put_filter(&b, at, status, q);
  int64_t next = 0;
  cs_put_executions(&b, c->g, m ? m->arn : NULL, status, q, before, PAGE,
                    &next);
  cs_put(&b, "<p class=\"pages\">");
  if (before) {
    put_href(&b, at, status, q, 0);
    cs_put(&b, "Newest</a> ");
  }
  if (next) {
    put_href(&b, at, status, q, next);
    cs_put(&b, "Older</a>");
  }
  cs_put(&b, "</p>\n");
  if (base.oom) b.oom = true;
  cs_free(&base);
  if (m) s->ops->release_machine(s, m);
  cs_page_close(&b);
  cs_answer_html(c->resp, 200, &b);
}
