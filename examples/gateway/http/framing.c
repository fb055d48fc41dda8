/* How a request's body is delimited, checked once its headers are in
 * (core.h). A proxy in front and this server must agree on where a request
 * ends, or the rest of one becomes another (request smuggling): anything
 * two readers could take differently is refused, as RFC 9112 says. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"

/* RFC 9110 token characters. */
static bool token_char(unsigned char c) {
  return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!token_char((unsigned char)*s)) return false;
  return true;
}

/* A Content-Length value: digits only. */
static bool is_length(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return false;
  return true;
}

static void refuse(gw_framing *f, int status, const char *code,
                   const char *what, const char *name) {
  f->status = status;
  f->code = code;
  snprintf(f->message, sizeof f->message, "%s%s%s", what,
           name ? ": " : "", name ? name : "");
}

void gw_framing_check(const gw_header *h, size_t n, gw_framing *f) {
  *f = (gw_framing){0};
  const char *length = NULL, *encoding = NULL;
  for (size_t i = 0; i < n; i++) {
    /* Only what can be shown: the names are checked to be tokens. */
    if (!is_token(h[i].name)) {
      refuse(f, 400, "BadRequest",
             "a header name holds a character HTTP does not allow", NULL);
      return;
    }
    if (strcasecmp(h[i].name, "Content-Length") == 0) {
      if (!is_length(h[i].value)) {
        refuse(f, 400, "BadRequest", "Content-Length is not a number", NULL);
        return;
      }
      if (length && strcmp(length, h[i].value) != 0) {
        refuse(f, 400, "BadRequest",
               "two Content-Length headers with different values", NULL);
        return;
      }
      length = h[i].value;
    } else if (strcasecmp(h[i].name, "Transfer-Encoding") == 0) {
      if (encoding) {
        refuse(f, 400, "BadRequest", "two Transfer-Encoding headers", NULL);
        return;
      }
      encoding = h[i].value;
    }
  }
  if (encoding && strcasecmp(encoding, "chunked") != 0) {
    refuse(f, 501, "NotImplemented",
           "only the chunked Transfer-Encoding is supported", NULL);
    return;
  }
  if (encoding && length)
    refuse(f, 400, "BadRequest",
           "Content-Length and Transfer-Encoding together", NULL);
}
