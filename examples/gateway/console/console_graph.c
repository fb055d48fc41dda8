/* A definition drawn as a graph: the DOT text is built here from the
 * definition's JSON and laid out and rendered to SVG by Graphviz's
 * library (libgvc, the "dot" layout). Every state is a node (its name, its
 * type); edges are Next, each Choice rule, Default, each Catch, and from
 * a Parallel or Map state to the start of each branch or of its
 * processor, whose states sit in nested clusters.
 *
 * Names in DOT are ours (n0, n1, ...), never the user's; what the user
 * wrote appears only inside quoted labels, escaped for DOT and for
 * Graphviz's label escapes (plain_text), and Graphviz escapes it as XML
 * text when it writes the SVG. */
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "sfn.h"

#define MAX_DEPTH 16
#define LABEL_MAX 60 /* bytes of a rule or catcher shown on its edge */

typedef struct graph {
  cs_buf nodes, edges, links;
  const char *link;
  int next_node, next_edge, next_cluster, nstates;
  cs_mark_fn mark;
  void *arg;
  const char *problem; /* why it cannot be drawn, or NULL */
} graph;

const char *cs_mark_name(cs_mark m) {
  static const char *const names[] = {"none",    "not_reached", "succeeded",
                                      "caught",  "running",     "failed",
                                      "invalid"};
  return (unsigned)m <= CS_MARK_INVALID ? names[m] : "none";
}

/* Fill and border of a state, by what happened to it. */
static const char *const FILL[] = {"#ffffff", "#f1f2f4", "#d7f0dc",
                                   "#fff1c7", "#d8e8ff", "#fbd5d8",
                                   "#ffe0b2"};
static const char *const BORDER[] = {"#5f6b7a", "#a9b0ba", "#2e7d32",
                                     "#b7791f", "#1f6feb", "#c62828",
                                     "#e65100"};

/* A state of the scope being drawn: its name and node. */
typedef struct member {
  const char *name;
  int node;
} member;

static int node_of(const member *m, size_t n, const char *name) {
  for (size_t i = 0; name && i < n; i++)
    if (strcmp(m[i].name, name) == 0) return m[i].node;
  return -1;
}

/* Text for a plain (quoted) label: valid UTF-8 cut to max bytes (with an
 * ellipsis when cut), '"' and '\\' escaped as DOT reads them (no escape
 * sequence of Graphviz's survives: "\\N" is written "\\\\N"); the SVG
 * renderer XML-escapes what it draws. Edges take plain labels: Graphviz
 * 2.42 leaks an HTML-like label on an edge at every layout. */
static void plain_text(cs_buf *b, const char *s, size_t max) {
  size_t n = strlen(s);
  char *clean = gw_text_clean(s, n, max);
  if (!clean) {
    b->oom = true;
    return;
  }
  for (const char *p = clean; *p; p++) {
    if (*p == '"' || *p == '\\') cs_put(b, "\\");
    char c[2] = {*p, '\0'};
    cs_put(b, c);
  }
  if (strlen(clean) < n && n > max) cs_put(b, "…");
  free(clean);
}

static void edge(graph *gr, int from, const char *to_node, const char *kind,
                 const char *label, const char *detail) {
  cs_printf(&gr->edges, "n%d -> %s [id=\"edge_%d\" class=\"edge_%s\"", from,
            to_node, gr->next_edge++, kind);
  if (!strcmp(kind, "branch")) cs_put(&gr->edges, " style=dashed");
  if (label) {
    cs_put(&gr->edges, " label=\"");
    plain_text(&gr->edges, label, LABEL_MAX);
    if (detail) {
      cs_put(&gr->edges, ": ");
      plain_text(&gr->edges, detail, LABEL_MAX);
    }
    cs_put(&gr->edges, "\"");
  }
  cs_put(&gr->edges, "];\n");
}

static void edge_to(graph *gr, int from, int to, const char *kind,
                    const char *label, const char *detail) {
  char name[24];
  snprintf(name, sizeof name, "n%d", to);
  if (to >= 0) edge(gr, from, name, kind, label, detail);
}

/* What a Choice rule tests, in a few words: a JSONata Condition, or the
 * JSONPath Variable with its comparison, or the combinator. */
static char *rule_summary(const json_t *rule) {
  const char *cond = json_string_value(json_object_get(rule, "Condition"));
  if (cond) return strdup(cond);
  static const char *const combinators[] = {"And", "Or", "Not"};
  for (size_t i = 0; i < 3; i++)
    if (json_object_get(rule, combinators[i])) return strdup(combinators[i]);
  const char *var = json_string_value(json_object_get(rule, "Variable"));
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)rule, k, v) {
    if (!strcmp(k, "Variable") || !strcmp(k, "Next") ||
        !strcmp(k, "Comment") || !strcmp(k, "Assign") ||
        !strcmp(k, "Output"))
      continue;
    char *value = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *s = gw_sfn_strf("%s %s %s", var ? var : "", k, value ? value : "");
    free(value);
    return s;
  }
  return var ? strdup(var) : NULL;
}

static void choice_edges(graph *gr, int from, const json_t *state,
                         const member *m, size_t n) {
  const json_t *rules = json_object_get(state, "Choices");
  for (size_t i = 0; i < json_array_size(rules); i++) {
    const json_t *r = json_array_get(rules, i);
    char label[32], *summary = rule_summary(r);
    snprintf(label, sizeof label, "Choice %zu", i + 1);
    edge_to(gr, from,
            node_of(m, n, json_string_value(json_object_get(r, "Next"))),
            "choice", label, summary);
    free(summary);
  }
  edge_to(gr, from,
          node_of(m, n, json_string_value(json_object_get(state, "Default"))),
          "default", "Default", NULL);
}

static void catch_edges(graph *gr, int from, const json_t *state,
                        const member *m, size_t n) {
  const json_t *catchers = json_object_get(state, "Catch");
  for (size_t i = 0; i < json_array_size(catchers); i++) {
    const json_t *c = json_array_get(catchers, i);
    cs_buf errors = {0};
    const json_t *names = json_object_get(c, "ErrorEquals");
    for (size_t j = 0; j < json_array_size(names); j++) {
      if (j) cs_put(&errors, ", ");
      cs_put(&errors, json_string_value(json_array_get(names, j)));
    }
    edge_to(gr, from,
            node_of(m, n, json_string_value(json_object_get(c, "Next"))),
            "catch", "Catch", errors.s ? errors.s : "");
    cs_free(&errors);
  }
}

static void state_node(graph *gr, int id, const char *name, const char *type) {
  cs_mark mk = gr->mark ? gr->mark(name, gr->arg) : CS_MARK_NONE;
  cs_printf(&gr->nodes,
            "n%d [id=\"state_%d\" class=\"state mark_%s\" shape=box "
            "style=\"rounded,filled\" fillcolor=\"%s\" color=\"%s\" "
            "label=\"",
            id, id, cs_mark_name(mk), FILL[mk], BORDER[mk]);
  plain_text(&gr->nodes, name, 200);
  cs_put(&gr->nodes, "\\n");
  plain_text(&gr->nodes, type ? type : "?", 40);
  cs_put(&gr->nodes, "\"];\n");
  if (gr->link) {
    cs_printf(&gr->links, "<li><a data-node=\"state_%d\" class=\"mark_%s\" "
                          "href=\"%s", id, cs_mark_name(mk), gr->link);
    cs_url(&gr->links, name);
    cs_put(&gr->links, "\">");
    cs_html(&gr->links, name);
    cs_put(&gr->links, "</a></li>\n");
  }
}

static int scope(graph *gr, const json_t *body, int depth, bool top);

/* A Parallel's branches or a Map's processor, in a cluster around the
 * state's node; edges from the node to where each begins. */
static void nested(graph *gr, int id, const char *name, const json_t *state,
                   const char *type, int depth) {
  bool map = strcmp(type, "Map") == 0;
  const json_t *proc = json_object_get(state, "ItemProcessor");
  if (!proc) proc = json_object_get(state, "Iterator");
  const json_t *branches = json_object_get(state, "Branches");
  size_t count = map ? (proc ? 1 : 0) : json_array_size(branches);
  cs_printf(&gr->nodes, "subgraph cluster_%d {\nclass=\"cluster_%s\"; "
                        "style=\"rounded,dashed\"; color=\"#8a94a3\"; "
                        "label=\"",
            gr->next_cluster++, map ? "map" : "parallel");
  cs_put(&gr->nodes, map ? "Map: " : "Parallel: ");
  plain_text(&gr->nodes, name, 200);
  cs_put(&gr->nodes, "\";\n");
  state_node(gr, id, name, type);
  for (size_t i = 0; i < count && !gr->problem; i++) {
    const json_t *body = map ? proc : json_array_get(branches, i);
    char label[32];
    if (map) snprintf(label, sizeof label, "Items");
    else snprintf(label, sizeof label, "Branch %zu", i + 1);
    cs_printf(&gr->nodes, "subgraph cluster_%d {\nclass=\"cluster_%s\"; "
                          "style=rounded; color=\"#c3c9d2\"; label=\"%s\";\n",
              gr->next_cluster++, map ? "processor" : "branch",
              map ? "Item processor" : label);
    int start = scope(gr, body, depth + 1, false);
    cs_put(&gr->nodes, "}\n");
    edge_to(gr, id, start, "branch", label, NULL);
  }
  cs_put(&gr->nodes, "}\n");
}

/* The states of one scope (the machine, a branch, a processor); returns
 * the node of its StartAt, or -1. */
static int scope(graph *gr, const json_t *body, int depth, bool top) {
  const json_t *states = json_object_get(body, "States");
  size_t n = json_object_size(states);
  if (depth > MAX_DEPTH) gr->problem = "it is nested too deeply to draw";
  if ((gr->nstates += (int)n) > CS_GRAPH_MAX_STATES)
    gr->problem = "it has too many states to draw";
  if (gr->problem || !n) return -1;
  member *m = calloc(n, sizeof *m);
  if (!m) {
    gr->problem = "out of memory";
    return -1;
  }
  const char *k;
  const json_t *v;
  size_t i = 0;
  json_object_foreach((json_t *)states, k, v) {
    m[i].name = k;
    m[i++].node = gr->next_node++;
  }
  i = 0;
  json_object_foreach((json_t *)states, k, v) {
    int id = m[i++].node;
    const char *type = json_string_value(json_object_get(v, "Type"));
    if (type && (!strcmp(type, "Parallel") || !strcmp(type, "Map")))
      nested(gr, id, k, v, type, depth);
    else
      state_node(gr, id, k, type);
    const char *next = json_string_value(json_object_get(v, "Next"));
    edge_to(gr, id, node_of(m, n, next), "next", "Next", NULL);
    if (type && !strcmp(type, "Choice")) choice_edges(gr, id, v, m, n);
    catch_edges(gr, id, v, m, n);
    bool ends = json_is_true(json_object_get(v, "End")) ||
                (type && (!strcmp(type, "Succeed") || !strcmp(type, "Fail")));
    if (top && ends) edge(gr, id, "end", "end", NULL, NULL);
  }
  int start = node_of(m, n, json_string_value(json_object_get(body, "StartAt")));
  free(m);
  return start;
}

/* Graphviz keeps global state (the graph library's error handler, the
 * layout's globals): one render at a time, on one context made once and
 * kept for the process. The context has only the plugins the console
 * uses, linked in: the dot layout and the core renderers (SVG). Without
 * pango's text layout, label sizes come from Graphviz's own font metrics,
 * and no font library keeps caches for the process's life. (HTML-like
 * labels are not used: Graphviz 2.42 leaks one at every layout.) */
extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
extern gvplugin_library_t gvplugin_core_LTX_library;
static lt_symlist_t gv_plugins[] = {
    {"gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library},
    {"gvplugin_core_LTX_library", &gvplugin_core_LTX_library},
    {NULL, NULL}};
static pthread_mutex_t gv_lock = PTHREAD_MUTEX_INITIALIZER;
static GVC_t *gvc; /* under gv_lock */

/* The SVG of the last graphs drawn, by their exact DOT text (a machine's
 * page, or an execution coloured as one before it was): pages are drawn
 * again and again (a running execution's is polled), and Graphviz 2.42's
 * dot layout leaks some kilobytes for every graph with clusters it lays
 * out — so what it lays out is bounded by the distinct graphs shown, not
 * by the pages served. Under gv_lock. */
#define GV_CACHE 64
static struct {
  char *dot, *svg;
  size_t len;
} gv_cache[GV_CACHE];
static unsigned gv_cache_next;

static bool cached(cs_buf *b, const char *dot) {
  for (unsigned i = 0; i < GV_CACHE; i++)
    if (gv_cache[i].dot && !strcmp(gv_cache[i].dot, dot)) {
      cs_putn(b, gv_cache[i].svg, gv_cache[i].len);
      return true;
    }
  return false;
}

static void cache_keep(const char *dot, const char *svg, size_t len) {
  char *d = strdup(dot), *s = malloc(len + 1);
  if (!d || !s) {
    free(d);
    free(s);
    return;
  }
  memcpy(s, svg, len);
  s[len] = '\0';
  unsigned i = gv_cache_next++ % GV_CACHE;
  free(gv_cache[i].dot);
  free(gv_cache[i].svg);
  gv_cache[i].dot = d;
  gv_cache[i].svg = s;
  gv_cache[i].len = len;
}

/* Lay out and render dot; the SVG element (no XML prolog) into b. */
static const char *render(cs_buf *b, const char *dot) {
  const char *problem = NULL;
  pthread_mutex_lock(&gv_lock);
  if (cached(b, dot)) {
    pthread_mutex_unlock(&gv_lock);
    return NULL;
  }
  if (!gvc) {
    agseterr(AGMAX); /* Graphviz's messages stay out of the gateway's log */
    gvc = gvContextPlugins(gv_plugins, 0);
  }
  Agraph_t *g = gvc ? agmemread(dot) : NULL;
  char *out = NULL;
  unsigned int len = 0;
  if (!g) {
    problem = "Graphviz could not read the graph";
  } else if (gvLayout(gvc, g, "dot") != 0) {
    problem = "Graphviz could not lay the graph out";
  } else {
    if (gvRenderData(gvc, g, "svg", &out, &len) != 0 || !out)
      problem = "Graphviz could not render the graph";
    gvFreeLayout(gvc, g);
  }
  if (g) agclose(g);
  const char *svg = out ? strstr(out, "<svg") : NULL;
  if (svg) {
    cs_putn(b, svg, len - (size_t)(svg - out));
    cache_keep(dot, svg, len - (size_t)(svg - out));
  } else if (!problem) {
    problem = "Graphviz rendered no SVG";
  }
  pthread_mutex_unlock(&gv_lock);
  if (out) gvFreeRenderData(out);
  return problem;
}

void cs_graph(cs_buf *b, const char *definition, cs_mark_fn mark, void *arg,
              const char *link) {
  graph gr = {.mark = mark, .arg = arg, .link = link};
  json_t *def = definition ? json_loads(definition, 0, NULL) : NULL;
  if (!json_is_object(def)) gr.problem = "the definition is not JSON";
  cs_put(&gr.nodes,
         "digraph machine {\ngraph [rankdir=TB nodesep=0.35 ranksep=0.45 "
         "fontname=\"Helvetica,Arial,sans-serif\" fontsize=11 "
         "bgcolor=\"transparent\"];\n"
         "node [shape=plain fontname=\"Helvetica,Arial,sans-serif\" "
         "fontsize=12];\n"
         "edge [fontname=\"Helvetica,Arial,sans-serif\" fontsize=9 "
         "color=\"#5f6b7a\" fontcolor=\"#3d4652\"];\n"
         "start [id=\"start\" class=\"terminal\" shape=oval style=filled "
         "fillcolor=\"#e6e8eb\" color=\"#a9b0ba\" label=\"Start\"];\n"
         "end [id=\"end\" class=\"terminal\" shape=oval style=filled "
         "fillcolor=\"#e6e8eb\" color=\"#a9b0ba\" label=\"End\"];\n");
  int start = gr.problem ? -1 : scope(&gr, def, 0, true);
  if (start >= 0)
    cs_printf(&gr.edges, "start -> n%d [id=\"edge_start\" "
                         "class=\"edge_start\"];\n", start);
  json_decref(def);
  cs_put(&gr.nodes, gr.edges.s ? gr.edges.s : "");
  cs_put(&gr.nodes, "}\n");
  if (gr.nodes.oom || gr.edges.oom) gr.problem = "out of memory";
  cs_put(b, "<div class=\"graph\">\n");
  if (!gr.problem) gr.problem = render(b, gr.nodes.s);
  if (gr.problem) {
    cs_put(b, "<p class=\"problem\">The graph is not drawn: ");
    cs_html(b, gr.problem);
    if (gr.nstates > CS_GRAPH_MAX_STATES)
      cs_printf(b, " (%d; the console draws at most %d)", gr.nstates,
                CS_GRAPH_MAX_STATES);
    cs_put(b, ".</p>\n");
  }
  cs_put(b, "</div>\n");
  if (gr.links.s) {
    cs_put(b, "<details class=\"states\"><summary>States</summary><ul "
              "class=\"state-links\">\n");
    cs_put(b, gr.links.s);
    cs_put(b, "</ul></details>\n");
  }
  if (gr.links.oom) b->oom = true;
  cs_free(&gr.nodes);
  cs_free(&gr.edges);
  cs_free(&gr.links);
}
