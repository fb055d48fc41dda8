/* The frame every console page shares, and how pages are answered: HTML
 * with a Content-Security-Policy that lets the page load only the
 * console's own stylesheet and script, from this gateway. */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "sfn.h"

/* No inline script or style can run, whatever a page holds; forms post
 * only here; no other site may frame the console. */
#define CSP                                                              \
  "default-src 'none'; style-src 'self'; script-src 'self'; "            \
  "img-src 'self'; connect-src 'self'; form-action 'self'; "             \
  "frame-ancestors 'none'; base-uri 'none'"

void cs_security_headers(gw_response *resp) {
  gw_respond_header(resp, "Content-Security-Policy", CSP);
  gw_respond_header(resp, "X-Frame-Options", "DENY");
  /* Not "no-referrer": under it a browser sends "Origin: null" with the
   * console's own forms, which cs_same_origin() must refuse. */
  gw_respond_header(resp, "Referrer-Policy", "same-origin");
}

void cs_page_open(cs_buf *b, const char *title, bool logged_in) {
  cs_put(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
            "<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, "
            "initial-scale=1\">\n<title>");
  cs_html(b, title);
  cs_put(b, " · wf-gateway console</title>\n"
            "<link rel=\"stylesheet\" href=\"/console/assets/console.css\">\n"
            "<script src=\"/console/assets/console.js\" defer></script>\n"
            "</head>\n<body>\n<header><nav>"
            "<a class=\"brand\" href=\"/console/\">wf-gateway</a> "
            "<a href=\"/console/\">State machines</a> "
            "<a href=\"/console/executions\">Executions</a> "
            "<a href=\"/console/validate\">Validate</a>");
  if (logged_in)
    cs_put(b, "<form method=\"post\" action=\"/console/logout\" "
              "class=\"logout\"><button type=\"submit\">Sign out</button>"
              "</form>");
  cs_put(b, "</nav></header>\n<main>\n");
}

void cs_page_close(cs_buf *b) { cs_put(b, "</main>\n</body>\n</html>\n"); }

void cs_answer_html(gw_response *resp, int status, cs_buf *b) {
  char *html = cs_take(b);
  free(resp->body);
  cs_security_headers(resp);
  if (!html) {
    resp->status = 500;
    resp->body = strdup("out of memory\n");
    resp->content_type = "text/plain; charset=utf-8";
    return;
  }
  resp->status = status;
  resp->body = html;
  resp->content_type = "text/html; charset=utf-8";
}

void cs_answer_message(gw_response *resp, int status, const char *title,
                       const char *message, bool logged_in) {
  cs_buf b = {0};
  cs_page_open(&b, title, logged_in);
  cs_put(&b, "<h1>");
  cs_html(&b, title);
  cs_put(&b, "</h1>\n<p>");
  cs_html(&b, message);
  cs_put(&b, "</p>\n");
  cs_page_close(&b);
  cs_answer_html(resp, status, &b);
}

void cs_put_date(cs_buf *b, int64_t ms) {
  char d[32];
  if (ms <= 0) {
    cs_put(b, "-");
    return;
  }
  gw_iso8601(d, ms);
  cs_put(b, d);
}

void cs_put_status(cs_buf *b, wf_exec_status st) {
  const char *name = gw_sfn_status_name(st);
  cs_printf(b, "<span class=\"status status-%s\">%s</span>", name, name);
}
