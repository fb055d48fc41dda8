/* The HTTP Task tests' server (see http_server.h). */
#include "http_server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct hts_server {
  struct MHD_Daemon *daemon;
  int port;
  pthread_mutex_t lock; /* guards the counters and `released` */
  pthread_cond_t release; /* `released` set, or `held` grew */
  bool released;
  int token_calls, flaky_calls, held;
};

/* One request: its raw URI and its body. */
typedef struct request {
  char *uri;
  char *body;
  size_t len;
  bool started; /* the first call (headers only) was answered */
} request;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  (void)cls, (void)c;
  request *r = calloc(1, sizeof *r);
  if (r) r->uri = strdup(uri);
  return r;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode code) {
  (void)cls, (void)c, (void)code;
  request *r = *con_cls;
  if (!r) return;
  free(r->uri);
  free(r->body);
  free(r);
  *con_cls = NULL;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value) {
  (void)kind;
  char name[256];
  size_t i = 0;
  for (; key[i] && i < sizeof name - 1; i++)
    name[i] = (char)tolower((unsigned char)key[i]);
  name[i] = '\0';
  json_object_set_new(cls, name, json_string(value ? value : ""));
  return MHD_YES;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const char *type, const char *body) {
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(resp, "Content-Type", type);
  if (strcmp(type, "text/plain") == 0) {
    MHD_add_response_header(resp, "X-Multi", "one");
    MHD_add_response_header(resp, "X-Multi", "two");
  }
  enum MHD_Result rc = MHD_queue_response(c, status, resp);
  MHD_destroy_response(resp);
  return rc;
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status,
                                  json_t *v) {
  char *text = json_dumps(v, JSON_COMPACT);
  json_decref(v);
  enum MHD_Result rc = reply(c, status, "application/json", text ? text : "");
  free(text);
  return rc;
}

static enum MHD_Result echo(struct MHD_Connection *c, const char *method,
                            request *r) {
  json_t *headers = json_object();
  MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, headers);
  return reply_json(c, 200,
                    json_pack("{s:s,s:s,s:o,s:s%}", "method", method, "uri",
                              r->uri, "headers", headers, "body",
                              r->body ? r->body : "", r->len));
}

static enum MHD_Result token(hts_server *s, struct MHD_Connection *c,
                             request *r) {
  char *pass = NULL;
  char *user = MHD_basic_auth_get_username_password(c, &pass);
  bool ok = user && pass && strcmp(user, "client-id") == 0 &&
            strcmp(pass, HTS_CLIENT_SECRET) == 0 && r->body &&
            strstr(r->body, "grant_type=client_credentials");
  MHD_free(user);
  MHD_free(pass);
  if (!ok) return reply_json(c, 401, json_pack("{s:s}", "error", "denied"));
  pthread_mutex_lock(&s->lock);
  int n = ++s->token_calls;
  pthread_mutex_unlock(&s->lock);
  char tok[32];
  snprintf(tok, sizeof tok, "token-%d", n);
  return reply_json(c, 200,
                    json_pack("{s:s,s:s,s:i}", "access_token", tok,
                              "token_type", "Bearer", "expires_in", 3600));
}

static enum MHD_Result route(void *cls, struct MHD_Connection *c,
                             const char *url, const char *method,
                             const char *version, const char *upload,
                             size_t *upload_size, void **con_cls) {
  (void)version;
  hts_server *s = cls;
  request *r = *con_cls;
  if (!r) return MHD_NO;
  if (!r->started) { /* MHD calls first with the headers alone */
    r->started = true;
    return MHD_YES;
  }
  if (*upload_size) {
    char *b = realloc(r->body, r->len + *upload_size + 1);
    if (!b) return MHD_NO;
    memcpy(b + r->len, upload, *upload_size);
    r->len += *upload_size;
    b[r->len] = '\0';
    r->body = b;
    *upload_size = 0;
    return MHD_YES;
  }
  if (strncmp(url, "/echo", 5) == 0) return echo(c, method, r);
  if (strcmp(url, "/text") == 0)
    return reply(c, 200, "text/plain", "plain words");
  if (strncmp(url, "/status/", 8) == 0) {
    unsigned code = (unsigned)atoi(url + 8);
    return reply_json(c, code, json_pack("{s:i}", "status", (int)code));
  }
  if (strcmp(url, "/flaky") == 0) {
    pthread_mutex_lock(&s->lock);
    int n = ++s->flaky_calls;
    pthread_mutex_unlock(&s->lock);
    return n == 1 ? reply_json(c, 500, json_pack("{s:b}", "ok", 0))
                  : reply_json(c, 200, json_pack("{s:b}", "ok", 1));
  }
  if (strcmp(url, "/hold") == 0) {
    pthread_mutex_lock(&s->lock);
    s->held++;
    pthread_cond_broadcast(&s->release);
    while (!s->released) pthread_cond_wait(&s->release, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return reply(c, 200, "text/plain", "late");
  }
  if (strcmp(url, "/token") == 0) return token(s, c, r);
  return reply(c, 404, "text/plain", "no such route");
}

hts_server *hts_start(void) {
  hts_server *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->release, NULL);
  struct sockaddr_in addr = {.sin_family = AF_INET};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s->daemon = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
      NULL, NULL, route, s, MHD_OPTION_SOCK_ADDR, &addr,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED,
      on_done, s, MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
      s->daemon ? MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT)
                : NULL;
  if (!info) {
    hts_stop(s);
    return NULL;
  }
  s->port = info->port;
  return s;
}

int hts_port(const hts_server *s) { return s->port; }

int hts_token_calls(hts_server *s) {
  pthread_mutex_lock(&s->lock);
  int n = s->token_calls;
  pthread_mutex_unlock(&s->lock);
  return n;
}

void hts_wait_held(hts_server *s, int n) {
  pthread_mutex_lock(&s->lock);
  while (s->held < n) pthread_cond_wait(&s->release, &s->lock);
  pthread_mutex_unlock(&s->lock);
}

void hts_release(hts_server *s) {
  pthread_mutex_lock(&s->lock);
  s->released = true;
  pthread_cond_broadcast(&s->release);
  pthread_mutex_unlock(&s->lock);
}

void hts_stop(hts_server *s) {
  if (!s) return;
  hts_release(s);
  if (s->daemon) MHD_stop_daemon(s->daemon);
  pthread_cond_destroy(&s->release);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

typedef struct raw {
  int fd;
  const char *reply;
} raw;

static void *raw_answer(void *arg) {
  raw *r = arg;
  int c = accept(r->fd, NULL, NULL);
  if (c >= 0) {
    /* Read the request's head, then answer whatever it was. */
    char buf[4096], seen[4] = {0};
    ssize_t n;
    bool head = false;
    while (!head && (n = read(c, buf, sizeof buf)) > 0)
      for (ssize_t i = 0; i < n && !head; i++) {
        memmove(seen, seen + 1, 3);
        seen[3] = buf[i];
        head = memcmp(seen, "\r\n\r\n", 4) == 0;
      }
    size_t len = strlen(r->reply), off = 0;
    while (off < len && (n = write(c, r->reply + off, len - off)) > 0)
      off += (size_t)n;
    close(c);
  }
  close(r->fd);
  free(r);
  return NULL;
}

int hts_raw_once(const char *reply) {
  raw *r = calloc(1, sizeof *r);
  struct sockaddr_in addr = {.sin_family = AF_INET};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  pthread_t t;
  if (!r || (r->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
    free(r);
    return -1;
  }
  r->reply = reply;
  if (bind(r->fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      listen(r->fd, 1) != 0 ||
      getsockname(r->fd, (struct sockaddr *)&addr, &len) != 0 ||
      pthread_create(&t, NULL, raw_answer, r) != 0) {
    close(r->fd);
    free(r);
    return -1;
  }
  pthread_detach(t);
  return ntohs(addr.sin_port);
}

int hts_closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
      getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0) close(fd);
  return port;
}
