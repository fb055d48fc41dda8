/* State machines: the list (name, type, versions, running and failed
 * executions) and a machine's page (its graph, definition, versions,
 * aliases and latest executions). */
#include <stdlib.h>
#include <string.h>

#include "console.h"

#define MAX_MACHINES 1000
/* Executions counted per machine and status on the list; past it "N+". */
#define COUNT_CAP 1000
#define RECENT 20

typedef struct row {
  char *name, *arn;
  wf_machine_type type;
  size_t nversions;
} row;

typedef struct rows {
  row *v;
  size_t n, cap;
  bool oom;
} rows;

static void collect(const gw_machine_rec *m, void *arg) {
  rows *r = arg;
  if (r->n == r->cap || m->deleting) return;
  row *x = &r->v[r->n];
  x->name = strdup(m->name);
  x->arn = strdup(m->arn);
  x->type = m->type;
  x->nversions = m->nversions;
  if (!x->name || !x->arn) {
    free(x->name);
    free(x->arn);
    r->oom = true;
    return;
  }
  r->n++;
}

static void count_one(const gw_exec_rec *x, void *arg) {
  (void)x;
  ++*(size_t *)arg;
}

static void put_count(cs_buf *b, size_t n, size_t cap) {
  cs_printf(b, "%zu%s", n, n >= cap ? "+" : "");
}

void cs_page_machines(cs_ctx *c) {
  gw_store *s = c->g->store;
  rows r = {calloc(MAX_MACHINES, sizeof(row)), 0, MAX_MACHINES, false};
  if (r.v) s->ops->list_machines(s, 0, MAX_MACHINES, collect, &r);
  cs_buf b = {0};
  cs_page_open(&b, "State machines", c->session);
  cs_put(&b, "<h1>State machines</h1>\n");
  if (!r.v || r.oom) b.oom = true;
  cs_put(&b, "<table class=\"list\">\n<thead><tr><th>Name</th><th>Type</th>"
             "<th>Versions</th><th>Running</th><th>Failed</th></tr></thead>"
             "\n<tbody>\n");
  for (size_t i = 0; i < r.n; i++) {
    size_t running = s->ops->count_running(s, r.v[i].arn, COUNT_CAP);
    size_t failed = 0;
    if (r.v[i].type == WF_MACHINE_STANDARD)
      s->ops->list_executions(s, r.v[i].arn, NULL, WF_EXEC_FAILED, 0,
                              COUNT_CAP, count_one, &failed);
    cs_put(&b, "<tr><td>");
    cs_link(&b, "/console/machines/", r.v[i].name, r.v[i].name);
    cs_printf(&b, "</td><td>%s</td><td>%zu</td><td>",
              r.v[i].type == WF_MACHINE_EXPRESS ? "EXPRESS" : "STANDARD",
              r.v[i].nversions);
    put_count(&b, running, COUNT_CAP);
    cs_put(&b, "</td><td>");
    put_count(&b, failed, COUNT_CAP);
    cs_put(&b, "</td></tr>\n");
    free(r.v[i].name);
    free(r.v[i].arn);
  }
  if (!r.n) cs_put(&b, "<tr><td colspan=\"5\">No state machines.</td></tr>\n");
  cs_put(&b, "</tbody>\n</table>\n");
  free(r.v);
  cs_page_close(&b);
  cs_answer_html(c->resp, 200, &b);
}

static void put_versions(cs_buf *b, const gw_machine_rec *m) {
  cs_put(b, "<h2>Versions</h2>\n");
  if (!m->nversions) {
    cs_put(b, "<p>No version published.</p>\n");
    return;
  }
  cs_put(b, "<table class=\"list\">\n<thead><tr><th>Version</th>"
            "<th>Created</th><th>Description</th></tr></thead>\n<tbody>\n");
  for (size_t i = m->nversions; i-- > 0;) {
    const gw_revision *v = &m->versions[i];
    cs_printf(b, "<tr><td>%d</td><td>", v->version);
    cs_put_date(b, v->created_ms);
    cs_put(b, "</td><td>");
    cs_html(b, v->description);
    cs_put(b, "</td></tr>\n");
  }
  cs_put(b, "</tbody>\n</table>\n");
}

static void put_aliases(cs_buf *b, const gw_machine_rec *m) {
  if (!m->naliases) return;
  cs_put(b, "<h2>Aliases</h2>\n<table class=\"list\">\n<thead><tr>"
            "<th>Alias</th><th>Routes</th><th>Description</th></tr>"
            "</thead>\n<tbody>\n");
  for (size_t i = 0; i < m->naliases; i++) {
    const gw_alias *a = &m->aliases[i];
    cs_put(b, "<tr><td>");
    cs_html(b, a->name);
    cs_put(b, "</td><td>");
    for (size_t j = 0; j < a->nroutes && j < 2; j++)
      cs_printf(b, "%sversion %d: %d%%", j ? ", " : "", a->versions[j],
                a->weights[j]);
    cs_put(b, "</td><td>");
    cs_html(b, a->description);
    cs_put(b, "</td></tr>\n");
  }
  cs_put(b, "</tbody>\n</table>\n");
}

void cs_page_machine(cs_ctx *c, const char *name, const char *input,
                     const char *problem) {
  gw_store *s = c->g->store;
  gw_machine_rec *m = s->ops->find_machine(s, name);
  if (!m || m->deleting) {
    if (m) s->ops->release_machine(s, m);
    cs_answer_message(c->resp, 404, "Not found", "no such state machine",
                      c->session);
    return;
  }
  cs_buf b = {0};
  cs_page_open(&b, m->name, c->session);
  cs_put(&b, "<h1>");
  cs_html(&b, m->name);
  cs_printf(&b, " <span class=\"type\">%s</span></h1>\n<p class=\"arn\">",
            m->type == WF_MACHINE_EXPRESS ? "EXPRESS" : "STANDARD");
  cs_html(&b, m->arn);
  cs_put(&b, "</p>\n");
  cs_graph(&b, m->current.definition, NULL, NULL, NULL);
  cs_put(&b, "<p><a href=\"/console/validate?machine=");
  cs_url(&b, m->name);
  cs_put(&b, "\">Validate an edited definition</a></p>\n");
  cs_put_start_form(c, &b, m->name, input, problem);
  cs_put(&b, "<h2>Latest executions</h2>\n");
  if (m->type == WF_MACHINE_EXPRESS) {
    cs_put(&b, "<p>Express executions are not recorded.</p>\n");
  } else {
    int64_t next = 0;
    cs_put_executions(&b, c->g, m->arn, -1, NULL, 0, RECENT, &next);
    cs_put(&b, "<p><a href=\"/console/machines/");
    cs_url(&b, m->name);
    cs_put(&b, "/executions\">All executions of this machine</a></p>\n");
  }
  put_versions(&b, m);
  put_aliases(&b, m);
  cs_put(&b, "<h2>Definition</h2>\n<pre class=\"definition\">");
  cs_json_pretty(&b, m->current.definition);
  cs_put(&b, "</pre>\n");
  s->ops->release_machine(s, m);
  cs_page_close(&b);
  cs_answer_html(c->resp, problem ? 400 : 200, &b);
}
