/* The web console at /console: private declarations shared by its files.
 * Pages are HTML built on the server; every string that comes from a
 * definition, an execution or a request goes through cs_html() (or
 * cs_url() inside an attribute's URL) and the graph's labels through the
 * graph module's own escaping, so nothing a user wrote is ever markup. */
#ifndef GW_CONSOLE_H
#define GW_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

typedef struct cs_ctx cs_ctx; /* one request: see "pages" below */

/* ---- console_buf.c: growing text ------------------------------------- */
typedef struct cs_buf {
  char *s;
  size_t len, cap;
  bool oom; /* an append failed: the text is incomplete */
} cs_buf;

void cs_put(cs_buf *b, const char *s);
void cs_putn(cs_buf *b, const char *s, size_t n);
void cs_printf(cs_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Text escaped for HTML content and quoted attributes: & < > " ' become
 * entities; invalid UTF-8 becomes U+FFFD and control characters other
 * than line feed '?' (gw_text_clean). NULL puts nothing. */
void cs_html(cs_buf *b, const char *s);
/* A path segment or query value percent-encoded (all but unreserved
 * characters and ':'): safe in a URL inside a quoted attribute. */
void cs_url(cs_buf *b, const char *s);
/* <a href="PREFIX{target, URL-encoded}">{text, escaped}</a> */
void cs_link(cs_buf *b, const char *prefix, const char *target,
             const char *text);
/* JSON text re-indented for reading, HTML-escaped; text that is not JSON
 * is shown escaped as it is. */
void cs_json_pretty(cs_buf *b, const char *json_text);
/* The buffer's text (the caller frees it), or NULL when out of memory. */
char *cs_take(cs_buf *b);
void cs_free(cs_buf *b);

/* ---- console_page.c: page frame and answers --------------------------- */
/* The page head (title escaped), the navigation and <main>. `refresh`:
 * the page re-reads itself while the execution it shows runs. */
void cs_page_open(cs_buf *b, const char *title, bool logged_in);
void cs_page_close(cs_buf *b);
/* Answer `b` as HTML with `status` (consumes b; 500 when out of memory).
 * Every console answer carries the security headers (CSP and friends). */
void cs_answer_html(gw_response *resp, int status, cs_buf *b);
void cs_security_headers(gw_response *resp);
/* A short page saying what went wrong (message escaped). */
void cs_answer_message(gw_response *resp, int status, const char *title,
                       const char *message, bool logged_in);
/* ISO-8601 date of ms, "-" for 0. */
void cs_put_date(cs_buf *b, int64_t ms);
/* "RUNNING", "SUCCEEDED", ... as a coloured badge. */
void cs_put_status(cs_buf *b, wf_exec_status st);

/* ---- console_query.c: query strings and form bodies ------------------- */
/* The value of `name` in "a=1&b=2" (as MHD hands the query, already
 * decoded) copied into out (at most n-1 bytes); false when absent or too
 * long. */
bool cs_query_get(const char *query, const char *name, char *out, size_t n);
/* The same for an application/x-www-form-urlencoded body (percent- and
 * '+'-decoded); false when absent, too long or badly encoded. */
bool cs_form_get(const char *body, size_t len, const char *name, char *out,
                 size_t n);
/* A status name ("FAILED") as a wf_exec_status, -1 for "" or unknown. */
int cs_status_parse(const char *s);
/* A decimal cursor of at most 18 digits; 0 when absent or malformed. */
int64_t cs_cursor_parse(const char *s);

/* ---- console_session.c: who may look ---------------------------------- */
typedef enum cs_access {
  CS_OPEN,    /* no API keys configured: the console is open, as the API */
  CS_KEY,     /* a valid x-api-key header */
  CS_SESSION, /* a valid session cookie */
  CS_NONE,    /* neither: the login page */
  CS_BAD_KEY  /* an x-api-key that is not valid: 403 */
} cs_access;

cs_access cs_session_check(gateway *g, const gw_request *req);
/* POST /console/login (key=...&next=...): a session and its cookie, then
 * a redirect; the login page again with 403 when the key is wrong. */
void cs_session_login(gateway *g, const gw_request *req, gw_response *resp);
/* POST /console/logout: the session ends, its cookie is cleared. */
void cs_session_logout(const gw_request *req, gw_response *resp);
/* Forms that change something carry a token bound to the reader's
 * session (or, on an open console, to this process), which cs_csrf_ok
 * checks in constant time along with the Origin header; a request with
 * an x-api-key header needs none (no browser adds that header to a
 * forged form). cs_csrf_field puts the hidden input. */
void cs_csrf_field(const cs_ctx *c, cs_buf *b);
bool cs_csrf_ok(const cs_ctx *c);
/* Whether a form came from this host, when the browser says. */
bool cs_same_origin(const gw_request *req);
/* The login page; `next` (a /console path, else ignored) is where a
 * successful login goes. */
void cs_login_page(gw_response *resp, int status, const char *next,
                   const char *problem);

/* ---- console_graph.c: a definition drawn by Graphviz ------------------ */
typedef enum cs_mark {
  CS_MARK_NONE,      /* a machine's page: no execution */
  CS_MARK_NOT_REACHED,
  CS_MARK_SUCCEEDED,
  CS_MARK_CAUGHT,    /* failed, and a Catch took it on */
  CS_MARK_RUNNING,
  CS_MARK_FAILED,
  CS_MARK_INVALID    /* a definition's diagnostic names it */
} cs_mark;

/* What happened to the state `name`, for an execution's graph. */
typedef cs_mark (*cs_mark_fn)(const char *name, void *arg);

/* The most states a graph is drawn for: past it the page says so. */
#define CS_GRAPH_MAX_STATES 400

/* Draw the definition (JSON text) as inline SVG into b: a node per state
 * (name, type), edges Next, Choice rules, Default, Catch, Parallel
 * branches and Map processors as nested clusters. mark may be NULL. With
 * `link` (a URL prefix, already escaped for an attribute), a list of the
 * states follows, each a link to `link` + its name URL-encoded, naming
 * its node (data-node="state_N"): the script opens it on a click on the
 * node. On failure puts a paragraph saying why. Threads: any (Graphviz is
 * not thread-safe: calls are serialised here). */
void cs_graph(cs_buf *b, const char *definition, cs_mark_fn mark, void *arg,
              const char *link);
const char *cs_mark_name(cs_mark m);

/* ---- console_history.c: an execution's history, read ------------------ */
/* A state's run: from its StateEntered to its StateExited. */
typedef struct cs_run {
  char *state;
  size_t lane;          /* index into cs_history.lanes */
  int64_t entered_ms, exited_ms;
  bool exited, caught;  /* caught: left right after a failure (a Catch) */
  char fanout;          /* 'M' a Map state, 'P' a Parallel one, else 0 */
  bool finished;        /* a Map or Parallel state's end was recorded */
  int attempts;         /* tasks scheduled: 1 + the retries */
  char *input, *output, *error, *cause; /* only for cs_history.want */
} cs_run;

/* Where events ran: the top, a Map iteration or a Parallel branch. */
typedef struct cs_lane {
  int64_t id;       /* the event that opened it; 0 for the top */
  size_t parent;    /* the lane it runs in */
  long owner_run;   /* the Map or Parallel state's run; -1 for the top */
  long open_run;    /* this lane's run not left yet, or -1 */
  bool branch;      /* a Parallel branch, else a Map iteration */
  long index;       /* the iteration's index, or the branch's from 0 */
  wf_exec_status status;
} cs_lane;

typedef struct cs_history cs_history;
/* Told every event of the lanes shown (e: the event's JSON, or NULL). */
typedef void (*cs_event_fn)(cs_history *h, const wf_store_event *ev,
                            json_t *e, void *arg);

struct cs_history {
  /* set by the caller before cs_history_init */
  const char *want;     /* the state whose runs keep their data, or NULL */
  int64_t focus_id;     /* show one lane (its opening event), 0: all */
  cs_event_fn on_event;
  void *on_event_arg;
  /* read */
  json_t *starts;       /* {"A": ["P", 0]}: branches' first states */
  json_t *latest;       /* state name -> index of its latest run */
  long focus;           /* the lane of focus_id, -1 until seen */
  cs_run *runs;
  size_t nruns, runs_cap;
  cs_lane *lanes;
  size_t nlanes, lanes_cap;
  struct cs_event_note {
    size_t lane;
    unsigned char flags;
  } *events;            /* by event id */
  size_t nevents;
  int64_t first_ms;
  size_t total;
  bool oom;
};

/* Ready to read the history of an execution of `definition` (its text,
 * or NULL); h zeroed, then the caller's settings, before. */
void cs_history_init(cs_history *h, const char *definition);
/* wf_store_read_events' callback (arg: the cs_history). */
int cs_history_event(const wf_store_event *ev, void *arg);
/* Whether a lane is shown: it or one of its parents is the focus. */
bool cs_history_shown(const cs_history *h, size_t lane);
/* After reading: each Parallel branch's status (it has no end event),
 * and the lanes of an execution that ended while they ran. */
void cs_history_statuses(cs_history *h, wf_exec_status execution);
/* What happened to a state in the lanes shown (the worst of its runs). */
cs_mark cs_history_mark(const cs_history *h, const char *name,
                        wf_exec_status execution);
void cs_history_fini(cs_history *h);

/* ---- pages ----------------------------------------------------------- */
/* One console request. `session`: the reader signed in with the form (the
 * pages then offer to sign out). */
struct cs_ctx {
  gateway *g;
  const gw_request *req;
  gw_response *resp;
  bool session;
  cs_access access;
};

/* console_machines.c */
void cs_page_machines(cs_ctx *c);
/* A machine's page; `input` and `problem` refill its start form after a
 * start was refused (then 400), else NULL. */
void cs_page_machine(cs_ctx *c, const char *name, const char *input,
                     const char *problem);
/* console_executions.c: executions of the machine `name` (NULL: of all),
 * filtered and paged by the query's status=, q= (a part of the name, in
 * any case) and before= (the store's cursor: pages stay put while
 * executions start). */
void cs_page_executions(cs_ctx *c, const char *name);
/* Executions' rows (newest first, at most max; q: names containing it,
 * or NULL) as a table; the cursor of the next page in *next (0: none). */
void cs_put_executions(cs_buf *b, gateway *g, const char *machine_arn,
                       int status, const char *q, int64_t before, size_t max,
                       int64_t *next);
/* console_execution.c: one execution (an ARN, or a /process name), or
 * one lane of it (?lane=ID: a Map iteration or Parallel branch); its
 * history 1,000 events a page from ?from=ID. */
void cs_page_execution(cs_ctx *c, const char *id);
/* .../state?name=X[&lane=ID]: each run of a state (input, output, error
 * and cause, attempts, timing) and the iterations or branches it ran. */
void cs_page_state(cs_ctx *c, const char *id);

/* console_actions.c: POSTs that change something, each checked by
 * cs_csrf_ok() first. Start (form: input, name) on the machine `name`;
 * stop or redrive the execution `id`; validate a definition (GET: the
 * form). */
void cs_action_start(cs_ctx *c, const char *name);
void cs_action_stop(cs_ctx *c, const char *id);
void cs_action_redrive(cs_ctx *c, const char *id);
void cs_page_validate(cs_ctx *c);
/* The start form of a machine's page: its input (NULL: "{}") and the
 * problem of a start refused (NULL: none). */
void cs_put_start_form(cs_ctx *c, cs_buf *b, const char *machine,
                       const char *input, const char *problem);

/* ---- console_assets.c ---------------------------------------------------- */
/* /console/assets/NAME: true with the asset answered. */
bool cs_asset(const char *name, gw_response *resp);

#endif
