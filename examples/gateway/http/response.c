/* Requests and responses as routes see them: header lookup, JSON bodies,
 * extra headers, the gateway's and AWS's error shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"

const char *gw_request_header(const gw_request *req, const char *name) {
  for (size_t i = 0; i < req->nheaders; i++)
    if (strcasecmp(req->headers[i].name, name) == 0)
      return req->headers[i].value;
  return NULL;
}

void gw_respond_json(gw_response *resp, int status, json_t *obj) {
  free(resp->body);
  resp->status = status;
  resp->content_type = NULL;
  resp->body = obj ? json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  json_decref(obj);
  if (!resp->body) {
    /* Out of memory while answering: a fixed body still tells the client. */
    resp->status = 500;
    resp->body = strdup("{\"error\":\"InternalError\"}");
  }
}

void gw_respond_header(gw_response *resp, const char *name,
                       const char *value) {
  size_t cap = sizeof resp->extra / sizeof resp->extra[0];
  for (size_t i = 0; i < resp->nextra; i++)
    if (strcasecmp(resp->extra[i].name, name) == 0) {
      char *v = strdup(value);
      if (!v) return;
      free((char *)resp->extra[i].value);
      resp->extra[i].value = v;
      return;
    }
  if (resp->nextra == cap) return;
  char *v = strdup(value);
  if (!v) return;
  resp->extra[resp->nextra].name = name;
  resp->extra[resp->nextra++].value = v;
}

void gw_response_clear(gw_response *resp) {
  free(resp->body);
  for (size_t i = 0; i < resp->nextra; i++) free((char *)resp->extra[i].value);
  memset(resp, 0, sizeof *resp);
}

static json_t *message_object(const char *key, const char *code,
                              const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  /* Messages are built from trusted text, but a truncated one may end in
   * half a UTF-8 sequence: clean it so jansson accepts it. */
  char *clean = gw_text_clean(msg, strlen(msg), sizeof msg);
  json_t *o = json_pack("{s:s, s:s}", key, code, "message",
                        clean ? clean : "");
  free(clean);
  return o;
}

void gw_respond_error(gw_response *resp, const gw_request *req, int status,
                      const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  json_t *o = message_object("error", code, fmt, ap);
  va_end(ap);
  if (o && req && req->correlation_id)
    json_object_set_new(o, "correlationId",
                        json_string(req->correlation_id));
  gw_respond_json(resp, status, o);
}

void gw_sfn_error(gw_response *resp, int status, const char *type,
                  const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  json_t *o = message_object("__type", type, fmt, ap);
  va_end(ap);
  gw_respond_json(resp, status, o);
  resp->content_type = "application/x-amz-json-1.0";
  /* The AWS JSON protocols name the error in a header too; clients that
   * read it (AWS SDK for Java, Smithy clients) prefer it to the body. */
  gw_respond_header(resp, "x-amzn-ErrorType", type);
}

char *gw_json_splice(char *json, const char *key, const char *raw) {
  size_t n = json ? strlen(json) : 0;
  if (n < 2 || json[n - 1] != '}') {
    free(json);
    return NULL;
  }
  size_t total = n + strlen(key) + strlen(raw) + 8;
  char *out = realloc(json, total);
  if (!out) {
    free(json);
    return NULL;
  }
  snprintf(out + n - 1, total - (n - 1), "%s\"%s\":%s}", n > 2 ? "," : "",
           key, raw);
  return out;
}
