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
  CS_MARK_FAILED
} cs_mark;

/* What happened to the state `name`, for an execution's graph. */
typedef cs_mark (*cs_mark_fn)(const char *name, void *arg);

/* The most states a graph is drawn for: past it the page says so. */
#define CS_GRAPH_MAX_STATES 400

/* Draw the definition (JSON text) as inline SVG into b: a node per state
 * (name, type), edges Next, Choice rules, Default, Catch, Parallel
 * branches and Map processors as nested clusters. mark may be NULL. On
 * failure puts a paragraph saying why. Threads: any (Graphviz is not
 * thread-safe: calls are serialised here). */
void cs_graph(cs_buf *b, const char *definition, cs_mark_fn mark, void *arg);
const char *cs_mark_name(cs_mark m);

/* ---- pages ----------------------------------------------------------- */
/* One console request. `session`: the reader signed in with the form (the
 * pages then offer to sign out). */
typedef struct cs_ctx {
  gateway *g;
  const gw_request *req;
  gw_response *resp;
  bool session;
} cs_ctx;

/* console_machines.c */
void cs_page_machines(cs_ctx *c);
void cs_page_machine(cs_ctx *c, const char *name);
/* console_executions.c: executions of the machine `name` (NULL: of all),
 * filtered and paged by the query's status= and before=. */
void cs_page_executions(cs_ctx *c, const char *name);
/* An execution's rows (newest first, at most max) as a table; the
 * cursor of the next page in *next (0: none). */
void cs_put_executions(cs_buf *b, gateway *g, const char *machine_arn,
                       int status, int64_t before, size_t max,
                       int64_t *next);
/* console_execution.c: one execution (an ARN, or a /process name). */
void cs_page_execution(cs_ctx *c, const char *id);

/* ---- console_assets.c ---------------------------------------------------- */
/* /console/assets/NAME: true with the asset answered. */
bool cs_asset(const char *name, gw_response *resp);

#endif
