/* Request bodies as JSON: the media type, a nesting check before parsing,
 * and jansson's parser with its error made safe to echo. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core.h"

bool gw_content_type_json(const char *ct) {
  if (!ct) return false;
  while (*ct == ' ' || *ct == '\t') ct++;
  if (strncasecmp(ct, "application/json", 16) != 0) return false;
  const char *p = ct + 16;
  while (*p == ' ' || *p == '\t') p++;
  if (!*p) return true;
  if (*p != ';') return false;
  /* Parameters: only a charset, and only UTF-8 (RFC 8259 requires it). */
  for (p++; *p;) {
    while (*p == ' ' || *p == '\t' || *p == ';') p++;
    if (!*p) break;
    size_t n = strcspn(p, ";");
    if (strncasecmp(p, "charset=", 8) == 0) {
      const char *v = p + 8;
      size_t vn = n - 8;
      while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) vn--;
      if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') v++, vn -= 2;
      if (!((vn == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
            (vn == 4 && strncasecmp(v, "utf8", 4) == 0)))
        return false;
    }
    p += n;
  }
  return true;
}

/* The deepest nesting of arrays and objects, counted outside strings and
 * stopped as soon as it passes `max`: linear, no recursion. */
static bool depth_ok(const char *s, size_t n, unsigned max) {
  unsigned depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) return false;
    } else if ((c == ']' || c == '}') && depth) {
      depth--;
    }
  }
  return true;
}

json_t *gw_body_parse(const gw_request *req, unsigned max_depth,
                      gw_response *resp) {
  if (req->body_len == 0) {
    gw_respond_error(resp, req, 400, "InvalidJson", "the body is empty");
    return NULL;
  }
  if (!depth_ok(req->body, req->body_len, max_depth)) {
    gw_respond_error(resp, req, 400, "InvalidJson",
                     "the body nests arrays and objects deeper than %u",
                     max_depth);
    return NULL;
  }
  json_error_t jerr;
  json_t *v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
                         &jerr);
  if (!v) {
    /* jansson quotes the input near the error: clean it before echoing. */
    char *text = gw_text_clean(jerr.text, strlen(jerr.text), 160);
    gw_respond_error(resp, req, 400, "InvalidJson",
                     "the body is not valid JSON: %s (line %d, column %d)",
                     text ? text : "syntax error", jerr.line, jerr.column);
    free(text);
  }
  return v;
}
