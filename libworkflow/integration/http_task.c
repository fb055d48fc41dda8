/* The HTTP Task's handler (arn:aws:states:::http:invoke), on a worker-pool
 * thread: reads the task's arguments (AWS, "Call HTTPS APIs": ApiEndpoint,
 * Method, Headers, QueryParameters, RequestBody, Transform,
 * Authentication.ConnectionArn), refuses a host outside the allowlist,
 * adds the connection's credentials, makes the call and completes the
 * task with AWS's result shape or its errors:
 *   States.Http.StatusCode.NNN  a non-2xx answer (the cause: the result
 *                               object as JSON text)
 *   States.Http.Socket          no answer, or none within 60 seconds
 *   States.Permissions          a host outside the allowlist
 *   Events.ConnectionResource.InvalidConnectionState
 *                               a connection not configured, a secret's
 *                               variable not set, no OAuth token
 *   States.Runtime              arguments AWS would not accept */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "engine_impl.h"
#include "http_impl.h"
#include "json_text.h"

/* A call still running past the state's TimeoutSeconds is ended this
 * much later, so that the engine's timer reports States.Timeout first. */
#define DEADLINE_GRACE_MS 1000

#define CONN_ERROR "Events.ConnectionResource.InvalidConnectionState"

typedef struct call {
  wf_task *task;
  wf__http *h;
  wf__http_config *cfg;
  const char *machine;
  json_t *args;
  wf__strbuf url, host, body, cause;
  struct curl_slist *headers;
  bool has_content_type;
  const char *error; /* set once the call has failed */
  bool completed;    /* the exchange completed the task */
  wf__http_conn *oauth; /* the connection whose token was used */
  char *token;
  char *secret_header; /* an API key's header line */
} call;

/* Fail with a cause formatted into c->cause (first failure wins). */
__attribute__((format(printf, 3, 4))) static bool fail(call *c,
                                                        const char *error,
                                                        const char *fmt,
                                                        ...) {
  if (c->error) return false;
  c->error = error;
  va_list ap;
  va_start(ap, fmt);
  char text[1024];
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  wf__strbuf_puts(&c->cause, text);
  return false;
}

static bool add_header(call *c, const char *line) {
  struct curl_slist *l = curl_slist_append(c->headers, line);
  if (!l) return fail(c, "States.Runtime", "Out of memory");
  c->headers = l;
  return true;
}

/* Headers a task may not set (AWS, "Call HTTPS APIs", Headers): the
 * transport's own, and Authorization, which only a connection gives. */
static bool forbidden(const char *name) {
  static const char *const NAMES[] = {
      "a-im", "accept-charset", "accept-datetime", "accept-encoding",
      "authorization", "cache-control", "connection", "content-encoding",
      "content-length", "content-md5", "date", "expect", "forwarded",
      "from", "host", "http2-settings", "if-match", "if-modified-since",
      "if-none-match", "if-range", "if-unmodified-since", "max-forwards",
      "origin", "pragma", "proxy-authorization", "referer", "server", "te",
      "trailer", "transfer-encoding", "upgrade", "via", "warning"};
  static const char *const PREFIXES[] = {"x-forwarded-", "x-amz-",
                                         "x-amzn-"};
  for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
    if (strcasecmp(name, NAMES[i]) == 0) return true;
  for (size_t i = 0; i < sizeof PREFIXES / sizeof PREFIXES[0]; i++)
    if (strncasecmp(name, PREFIXES[i], strlen(PREFIXES[i])) == 0) return true;
  return false;
}

/* A header's name is a token and its value has no line break: nothing a
 * state's input holds can add a header or a request of its own. */
static bool header_ok(const char *name, const char *value) {
  if (!*name) return false;
  for (const char *p = name; *p; p++)
    if (*p <= ' ' || *p == ':' || (unsigned char)*p >= 0x7f) return false;
  for (const char *p = value; *p; p++)
    if (*p == '\r' || *p == '\n') return false;
  return true;
}

static bool task_headers(call *c) {
  json_t *headers = json_object_get(c->args, "Headers");
  if (!headers) return true;
  if (!json_is_object(headers))
    return fail(c, "States.Runtime",
                "The HTTP Task's Headers must be an object");
  const char *name;
  json_t *v;
  json_object_foreach(headers, name, v) {
    char *text = json_is_string(v) ? wf__strdup(json_string_value(v))
                                   : wf__json_dumps(v);
    if (!text) return fail(c, "States.Runtime", "Out of memory");
    bool ok = true;
    if (forbidden(name)) {
      ok = fail(c, "States.Runtime",
                "The header '%.200s' is not allowed in an HTTP Task", name);
    } else if (!header_ok(name, text) || json_is_object(v) ||
               json_is_array(v) || json_is_null(v)) {
      ok = fail(c, "States.Runtime",
                "The HTTP Task's header '%.200s' is not a valid header",
                name);
    } else {
      wf__strbuf line = WF__STRBUF_INIT;
      wf__strbuf_printf(&line, "%s: %s", name, text);
      if (strcasecmp(name, "Content-Type") == 0) c->has_content_type = true;
      ok = !line.oom ? add_header(c, wf__strbuf_cstr(&line))
                     : fail(c, "States.Runtime", "Out of memory");
      wf__strbuf_free(&line);
    }
    wf__free(text);
    if (!ok) return false;
  }
  return true;
}

static bool array_format(call *c, json_t *transform, wf__http_arrays *out) {
  static const char *const NAMES[] = {"INDICES", "REPEAT", "COMMAS",
                                      "BRACKETS"};
  *out = WF__HTTP_INDICES;
  json_t *fmt = json_object_get(
      json_object_get(transform, "RequestEncodingOptions"), "ArrayFormat");
  if (!fmt) return true;
  for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
    if (json_is_string(fmt) && strcmp(json_string_value(fmt), NAMES[i]) == 0) {
      *out = (wf__http_arrays)i;
      return true;
    }
  }
  return fail(c, "States.Runtime",
              "The HTTP Task's ArrayFormat must be INDICES, REPEAT, COMMAS "
              "or BRACKETS");
}

/* RequestBody: text as it is, an object URL-encoded when Transform says
 * so, anything else as JSON. */
static bool request_body(call *c) {
  json_t *body = json_object_get(c->args, "RequestBody");
  json_t *transform = json_object_get(c->args, "Transform");
  json_t *enc = json_object_get(transform, "RequestBodyEncoding");
  bool form = false;
  if (enc) {
    const char *e = json_string_value(enc);
    if (!e || (strcmp(e, "NONE") != 0 && strcmp(e, "URL_ENCODED") != 0))
      return fail(c, "States.Runtime",
                  "The HTTP Task's RequestBodyEncoding must be NONE or "
                  "URL_ENCODED");
    form = strcmp(e, "URL_ENCODED") == 0;
  }
  wf__http_arrays arrays;
  if (!array_format(c, transform, &arrays)) return false;
  if (!body) return true;
  const char *type = "Content-Type: application/json; charset=UTF-8";
  if (json_is_string(body)) {
    wf__strbuf_append(&c->body, json_string_value(body),
                      json_string_length(body));
    type = "Content-Type: text/plain; charset=UTF-8";
  } else if (form && json_is_object(body)) {
    wf__http_form_encode(&c->body, body, arrays);
    type = "Content-Type: application/x-www-form-urlencoded";
  } else {
    char *text = wf__json_dumps(body);
    if (text) wf__strbuf_puts(&c->body, text);
    else c->body.oom = true;
    wf__free(text);
  }
  if (c->body.oom) return fail(c, "States.Runtime", "Out of memory");
  if (!c->body.data) wf__strbuf_puts(&c->body, "");
  return c->has_content_type || add_header(c, type);
}

static bool build_url(call *c) {
  json_t *endpoint = json_object_get(c->args, "ApiEndpoint");
  if (!json_is_string(endpoint))
    return fail(c, "States.Runtime",
                "The HTTP Task's ApiEndpoint must be a string");
  wf__strbuf_puts(&c->url, json_string_value(endpoint));
  json_t *query = json_object_get(c->args, "QueryParameters");
  if (query && !json_is_object(query))
    return fail(c, "States.Runtime",
                "The HTTP Task's QueryParameters must be an object");
  if (query && json_object_size(query)) {
    wf__strbuf q = WF__STRBUF_INIT;
    wf__http_form_encode(&q, query, WF__HTTP_REPEAT);
    wf__strbuf_putc(&c->url, strchr(wf__strbuf_cstr(&c->url), '?') ? '&'
                                                                     : '?');
    wf__strbuf_append(&c->url, q.data ? q.data : "", q.len);
    if (q.oom) c->url.oom = true;
    wf__strbuf_free(&q);
  }
  if (c->url.oom) return fail(c, "States.Runtime", "Out of memory");
  wf__http_url_check check = wf__http_check_url(
      c->cfg, c->machine, wf__strbuf_cstr(&c->url), &c->host);
  if (check == WF__HTTP_URL_INVALID)
    return fail(c, "States.Runtime",
                "The HTTP Task's ApiEndpoint '%.300s' is not an http or "
                "https URL",
                json_string_value(endpoint));
  if (check == WF__HTTP_URL_DENIED) {
    json_t *f = json_pack("{s:s,s:s,s:s}", "audit",
                          "host outside the HTTP allowlist", "stateMachine",
                          c->machine, "host", wf__strbuf_cstr(&c->host));
    char *text = f ? wf__json_dumps(f) : NULL;
    wf__log_task(c->task, WF_LOG_WARN, "AccessDenied", text);
    wf__free(text);
    json_decref(f);
    return fail(c, "States.Permissions",
                "The state machine '%.200s' is not allowed to call the host "
                "'%.200s': it is not in the HTTP allowlist",
                c->machine, wf__strbuf_cstr(&c->host));
  }
  return true;
}

static const char *method_of(call *c) {
  static const char *const METHODS[] = {"GET",   "POST",    "PUT", "DELETE",
                                        "PATCH", "OPTIONS", "HEAD"};
  const char *m = json_string_value(json_object_get(c->args, "Method"));
  for (size_t i = 0; m && i < sizeof METHODS / sizeof METHODS[0]; i++)
    if (strcmp(m, METHODS[i]) == 0) return METHODS[i];
  fail(c, "States.Runtime",
       "The HTTP Task's Method must be GET, POST, PUT, DELETE, PATCH, "
       "OPTIONS or HEAD");
  return NULL;
}

static const char *secret(call *c, const wf__http_conn *conn,
                          const char *var) {
  const char *v = getenv(var);
  if (!v)
    fail(c, CONN_ERROR,
         "The connection '%.300s' cannot authorize: the environment "
         "variable %.100s is not set",
         conn->arn, var);
  return v;
}

/* The connection's credentials on the request. */
static bool authorize(call *c, wf__http_request *req) {
  json_t *auth = json_object_get(c->args, "Authentication");
  if (!auth) return true;
  const char *arn = json_string_value(json_object_get(auth, "ConnectionArn"));
  if (!arn)
    return fail(c, "States.Runtime",
                "The HTTP Task's Authentication needs a ConnectionArn");
  wf__http_conn *conn = (wf__http_conn *)wf__http_conn_find(c->cfg, arn);
  if (!conn)
    return fail(c, CONN_ERROR, "The connection '%.300s' is not configured",
                arn);
  const char *value;
  switch (conn->auth) {
    case WF_HTTP_AUTH_API_KEY: {
      if (!(value = secret(c, conn, conn->api_key_value_env))) return false;
      wf__strbuf line = WF__STRBUF_INIT;
      wf__strbuf_printf(&line, "%s: %s", conn->api_key_name, value);
      c->secret_header = wf__strbuf_take(&line);
      if (!c->secret_header || !header_ok(conn->api_key_name, value))
        return fail(c, CONN_ERROR,
                    "The connection '%.300s' has an API key that is not a "
                    "valid header",
                    arn);
      return add_header(c, c->secret_header);
    }
    case WF_HTTP_AUTH_BASIC:
      if (!(value = secret(c, conn, conn->password_env))) return false;
      req->user = conn->username;
      req->password = value;
      return true;
    case WF_HTTP_AUTH_OAUTH_CLIENT_CREDENTIALS: {
      wf__strbuf why = WF__STRBUF_INIT;
      c->token = wf__http_oauth_token(c->cfg, conn, c->machine, req, &why);
      if (!c->token) {
        fail(c, CONN_ERROR, "The connection '%.300s' has no OAuth token: %s",
             arn, wf__strbuf_cstr(&why));
        wf__strbuf_free(&why);
        return false;
      }
      wf__strbuf_free(&why);
      c->oauth = conn;
      wf__strbuf bearer = WF__STRBUF_INIT;
      wf__strbuf_printf(&bearer, "Authorization: Bearer %s", c->token);
      bool ok = !bearer.oom && header_ok("Authorization", c->token) &&
                add_header(c, wf__strbuf_cstr(&bearer));
      wf__strbuf_free(&bearer);
      return ok || fail(c, CONN_ERROR,
                        "The connection '%.300s' got a token that is not a "
                        "valid header",
                        arn);
    }
  }
  return fail(c, CONN_ERROR, "The connection '%.300s' has no known kind",
              arn);
}

static int should_abort(void *payload) {
  call *c = payload;
  return atomic_load(&c->h->stopping) || wf_task_cancelled(c->task);
}

/* The answer as the task's outcome. */
static void complete(call *c, wf__http_outcome out, wf__http_response *r) {
  wf_task *t = c->task;
  if (out == WF__HTTP_DONE) {
    const char *why;
    json_t *result = wf__http_result(r, &why);
    char *text = result ? wf__json_dumps(result) : NULL;
    json_decref(result);
    if (!text) {
      wf_task_fail(t, "States.Runtime", why ? why : "Out of memory");
    } else if (r->status >= 200 && r->status <= 299) {
      wf_task_succeed(t, text);
    } else {
      if (r->status == 401 && c->oauth)
        wf__http_oauth_forget(c->oauth, c->token);
      char error[48];
      snprintf(error, sizeof error, "States.Http.StatusCode.%ld", r->status);
      wf_task_fail(t, error, text);
    }
    wf__free(text);
    return;
  }
  char cause[512];
  switch (out) {
    case WF__HTTP_TIMEOUT:
    case WF__HTTP_SOCKET:
      snprintf(cause, sizeof cause, "The HTTP call to '%.200s' failed: %s",
               wf__strbuf_cstr(&c->host), r->error);
      wf_task_fail(t, "States.Http.Socket", cause);
      return;
    case WF__HTTP_TOO_LARGE:
      /* As the engine words a result over the payload limit. */
      wf_task_fail(t, "States.DataLimitExceeded",
                   "The state/task 'http' returned a result with a size "
                   "exceeding the maximum number of bytes service limit.");
      return;
    case WF__HTTP_ABORTED:
      wf_task_fail(t, "States.Runtime", "The HTTP call was stopped");
      return;
    default:
      wf_task_fail(t, "States.Runtime", "Out of memory");
      return;
  }
}

/* ---- TestState at TRACE: the exchange as AWS's inspectionData shows it
 * (each member text; headers one "Name: value" line each). What the
 * connection adds (an API key's header, a bearer token) is left out unless
 * the test reveals secrets. */

static json_t *protocol_of(const char *url) {
  const char *colon = strchr(url, ':');
  return colon ? json_stringn(url, (size_t)(colon - url)) : json_string("");
}

static json_t *traced_request(call *c, const wf__http_request *req,
                              bool reveal) {
  wf__strbuf lines = WF__STRBUF_INIT;
  for (const struct curl_slist *h = c->headers; h; h = h->next) {
    bool secret = (c->secret_header && strcmp(h->data, c->secret_header) == 0) ||
                  (c->oauth && strncmp(h->data, "Authorization:", 14) == 0);
    if (strcmp(h->data, "Expect:") == 0 || (secret && !reveal)) continue;
    if (lines.len) wf__strbuf_putc(&lines, '\n');
    wf__strbuf_puts(&lines, h->data);
  }
  json_t *o = json_object();
  json_object_set_new(o, "protocol", protocol_of(req->url));
  json_object_set_new(o, "method", json_string(req->method));
  json_object_set_new(o, "url", json_string(req->url));
  json_object_set_new(o, "headers", json_string(wf__strbuf_cstr(&lines)));
  json_object_set_new(o, "body", json_stringn(req->body ? req->body : "",
                                              req->body_len));
  wf__strbuf_free(&lines);
  return o;
}

static json_t *traced_response(const wf__http_request *req,
                               const wf__http_response *r) {
  wf__strbuf lines = WF__STRBUF_INIT;
  const char *name;
  json_t *values, *v;
  size_t i;
  json_object_foreach(r->headers, name, values) {
    if (lines.len) wf__strbuf_putc(&lines, '\n');
    wf__strbuf_printf(&lines, "%s: ", name);
    json_array_foreach(values, i, v)
      wf__strbuf_printf(&lines, "%s%s", i ? ", " : "", json_string_value(v));
  }
  char code[24];
  snprintf(code, sizeof code, "%ld", r->status);
  json_t *o = json_object();
  json_object_set_new(o, "protocol", protocol_of(req->url));
  json_object_set_new(o, "statusCode", json_string(code));
  json_object_set_new(o, "statusMessage",
                      r->reason.len ? json_stringn(r->reason.data, r->reason.len)
                                    : json_string(wf__http_status_text(r->status)));
  json_object_set_new(o, "headers", json_string(wf__strbuf_cstr(&lines)));
  json_object_set_new(o, "body", json_stringn(r->body.data ? r->body.data : "",
                                              r->body.len));
  wf__strbuf_free(&lines);
  return o;
}

static long timeout_ms(call *c) {
  wf_engine *e = c->task->engine;
  int64_t left = wf_task_deadline(c->task) - wf__engine_now(e);
  if (left < 0) left = 0;
  if (left + DEADLINE_GRACE_MS < c->cfg->request_ms)
    return (long)(left + DEADLINE_GRACE_MS);
  return c->cfg->request_ms;
}

static void log_call(call *c, const char *method, long status, int64_t ms) {
  json_t *f = json_pack("{s:s,s:s,s:I,s:I}", "method", method, "host",
                        wf__strbuf_cstr(&c->host), "statusCode",
                        (json_int_t)status, "durationMs", (json_int_t)ms);
  char *text = f ? wf__json_dumps(f) : NULL;
  wf__log_task(c->task, WF_LOG_INFO, "HttpCall", text);
  wf__free(text);
  json_decref(f);
}

static void run(call *c) {
  wf_task *t = c->task;
  const char *input = wf_task_input(t);
  if (!input ||
      wf__json_parse(&c->args, input, strlen(input), "input", NULL) != 0 ||
      !json_is_object(c->args)) {
    fail(c, "States.Runtime", "The HTTP Task's arguments must be an object");
    return;
  }
  const char *method = method_of(c);
  wf__http_request req = {.connect_ms = c->cfg->connect_ms,
                          .max_body = t->engine->payload_limit,
                          .abort = should_abort,
                          .abort_payload = c};
  req.timeout_ms = timeout_ms(c);
  if (!method || !build_url(c) || !task_headers(c) || !request_body(c) ||
      !authorize(c, &req) || !add_header(c, "Expect:"))
    return;
  req.url = wf__strbuf_cstr(&c->url);
  req.method = method;
  req.body = c->body.data;
  req.body_len = c->body.len;
  req.headers = c->headers;
  wf__http_response resp;
  wf__http_response_init(&resp);
  int64_t start = wf__engine_now(t->engine);
  wf__http_outcome out = wf__http_exchange(&req, &resp);
  log_call(c, method, resp.status, wf__engine_now(t->engine) - start);
  bool reveal;
  if (wf__task_traced(t, &reveal))
    wf__task_trace(t, traced_request(c, &req, reveal),
                   out == WF__HTTP_DONE ? traced_response(&req, &resp) : NULL);
  complete(c, out, &resp);
  c->completed = true;
  wf__http_response_free(&resp);
}

void wf__http_invoke(wf_task *t, void *payload) {
  wf__http *h = payload;
  call c = {.task = t, .h = h, .cfg = wf__http_config_ref(h)};
  c.machine = t->frame->exec->machine->name;
  if (!c.cfg) fail(&c, "States.Runtime", "The HTTP Task is not configured");
  else run(&c);
  if (!c.completed && !c.error) fail(&c, "States.Runtime", "Out of memory");
  /* A failure before the call completes the task here. */
  if (!c.completed) wf_task_fail(t, c.error, wf__strbuf_cstr(&c.cause));
  json_decref(c.args);
  wf__strbuf_free(&c.url);
  wf__strbuf_free(&c.host);
  wf__strbuf_free(&c.body);
  wf__strbuf_free(&c.cause);
  curl_slist_free_all(c.headers);
  if (c.token) {
    memset(c.token, 0, strlen(c.token));
    wf__free(c.token);
  }
  if (c.secret_header) {
    memset(c.secret_header, 0, strlen(c.secret_header));
    wf__free(c.secret_header);
  }
  wf__http_config_release(c.cfg);
}
