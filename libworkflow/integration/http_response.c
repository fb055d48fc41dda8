/* An HTTP answer as the HTTP Task gives it: the header lines libcurl hands
 * over, read defensively (they come from whatever server the task called),
 * and AWS's result shape: Headers (each name with the list of its values,
 * as the server spelled the name first), ResponseBody (parsed when the
 * answer is JSON, else the text), StatusCode and StatusText. */
#include <string.h>
#include <strings.h>

#include "http_impl.h"
#include "json_text.h"

/* Bounds on what one answer's headers may add to a result. */
#define MAX_HEADER_VALUES 256

/* RFC 9110, 5.6.2: a field name is a token. */
static bool tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
      (c >= 'A' && c <= 'Z'))
    return true;
  return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool ows(char c) { return c == ' ' || c == '\t'; }

/* Trim the line end and optional white space around [*s, *s + *n). */
static void trim(const char **s, size_t *n) {
  while (*n && ((*s)[*n - 1] == '\n' || (*s)[*n - 1] == '\r' ||
                ows((*s)[*n - 1])))
    (*n)--;
  while (*n && ows(**s)) {
    (*s)++;
    (*n)--;
  }
}

static void status_line(wf__http_response *r, const char *s, size_t n) {
  json_decref(r->headers);
  r->headers = json_object();
  r->nvalues = 0;
  r->status = 0;
  wf__strbuf_reset(&r->reason);
  wf__strbuf_reset(&r->content_type);
  /* "HTTP/1.1 200 OK", "HTTP/2 204" */
  const char *sp = memchr(s, ' ', n);
  if (!sp) return;
  size_t rest = n - (size_t)(sp + 1 - s);
  const char *p = sp + 1;
  long code = 0;
  size_t digits = 0;
  while (digits < rest && digits < 3 && p[digits] >= '0' && p[digits] <= '9')
    code = code * 10 + (p[digits++] - '0');
  if (digits != 3) return;
  r->status = code;
  p += digits;
  rest -= digits;
  trim(&p, &rest);
  /* The reason phrase is HTAB, SP and visible characters (RFC 9112,
   * 4); anything else and none is kept. */
  for (size_t i = 0; i < rest; i++)
    if ((unsigned char)p[i] < 0x20 && p[i] != '\t') return;
  wf__strbuf_append(&r->reason, p, rest);
}

/* The member of headers named `name` in any case, or NULL. */
static json_t *find_ci(json_t *headers, const char *name, size_t n) {
  const char *key;
  json_t *v;
  json_object_foreach(headers, key, v) {
    if (strlen(key) == n && strncasecmp(key, name, n) == 0) return v;
  }
  return NULL;
}

static void field_line(wf__http_response *r, const char *s, size_t n) {
  size_t name = 0;
  while (name < n && tchar((unsigned char)s[name])) name++;
  /* No name, white space before the colon, or an obsolete folded line:
   * skipped (RFC 9112, 5.1 and 5.2). */
  if (name == 0 || name >= n || s[name] != ':') return;
  const char *v = s + name + 1;
  size_t vn = n - name - 1;
  trim(&v, &vn);
  for (size_t i = 0; i < vn; i++)
    if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f) return;
  if (name == 12 && strncasecmp(s, "Content-Type", 12) == 0) {
    wf__strbuf_reset(&r->content_type);
    wf__strbuf_append(&r->content_type, v, vn);
  }
  if (!r->headers || r->nvalues >= MAX_HEADER_VALUES) return;
  json_t *value = json_stringn(v, vn); /* NULL when not UTF-8 */
  if (!value) return;
  json_t *list = find_ci(r->headers, s, name);
  if (!list) {
    char key[256];
    if (name >= sizeof key) {
      json_decref(value);
      return;
    }
    memcpy(key, s, name);
    key[name] = '\0';
    list = json_array();
    if (!list || json_object_set_new(r->headers, key, list) != 0) {
      json_decref(value);
      return;
    }
  }
  if (json_array_append_new(list, value) == 0) r->nvalues++;
}

void wf__http_header_line(wf__http_response *r, const char *line, size_t n) {
  if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) status_line(r, line, n);
  else if (n && !ows(line[0])) field_line(r, line, n);
}

const char *wf__http_status_text(long status) {
  static const struct {
    long code;
    const char *text;
  } TEXTS[] = {
      {100, "Continue"}, {200, "OK"}, {201, "Created"}, {202, "Accepted"},
      {203, "Non-Authoritative Information"}, {204, "No Content"},
      {205, "Reset Content"}, {206, "Partial Content"},
      {300, "Multiple Choices"}, {301, "Moved Permanently"}, {302, "Found"},
      {303, "See Other"}, {304, "Not Modified"}, {307, "Temporary Redirect"},
      {308, "Permanent Redirect"}, {400, "Bad Request"},
      {401, "Unauthorized"}, {402, "Payment Required"}, {403, "Forbidden"},
      {404, "Not Found"}, {405, "Method Not Allowed"},
      {406, "Not Acceptable"}, {408, "Request Timeout"}, {409, "Conflict"},
      {410, "Gone"}, {411, "Length Required"},
      {412, "Precondition Failed"}, {413, "Content Too Large"},
      {414, "URI Too Long"}, {415, "Unsupported Media Type"},
      {422, "Unprocessable Content"}, {425, "Too Early"},
      {428, "Precondition Required"}, {429, "Too Many Requests"},
      {500, "Internal Server Error"}, {501, "Not Implemented"},
      {502, "Bad Gateway"}, {503, "Service Unavailable"},
      {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"}};
  for (size_t i = 0; i < sizeof TEXTS / sizeof TEXTS[0]; i++)
    if (TEXTS[i].code == status) return TEXTS[i].text;
  return "";
}

/* application/json, or any type with the +json suffix (RFC 6839). */
static bool is_json(const char *ct) {
  size_t n = strcspn(ct, ";");
  while (n && ows(ct[n - 1])) n--;
  if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) return true;
  return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

json_t *wf__http_result(const wf__http_response *r, const char **why) {
  *why = NULL;
  const char *data = r->body.data ? r->body.data : "";
  json_t *body = NULL;
  if (r->body.len && is_json(wf__strbuf_cstr(&r->content_type)))
    wf__json_parse(&body, data, r->body.len, "response body", NULL);
  if (!body && !(body = json_stringn(data, r->body.len))) {
    *why = "The response body is not UTF-8 text";
    return NULL;
  }
  /* A reason phrase that is not UTF-8 gives way to the standard one. */
  json_t *text = r->reason.len ? json_stringn(r->reason.data, r->reason.len)
                               : NULL;
  if (!text) text = json_string(wf__http_status_text(r->status));
  json_t *out = json_object();
  json_t *headers = r->headers ? json_incref(r->headers) : json_object();
  if (!out) {
    json_decref(body);
    json_decref(headers);
    json_decref(text);
    return NULL;
  }
  if (json_object_set_new(out, "Headers", headers) != 0 ||
      json_object_set_new(out, "ResponseBody", body) != 0 ||
      json_object_set_new(out, "StatusCode", json_integer(r->status)) != 0 ||
      json_object_set_new(out, "StatusText", text) != 0) {
    json_decref(out);
    return NULL;
  }
  return out;
}
