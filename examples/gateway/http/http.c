/* HTTP through libmicrohttpd: a pool of polling threads (poll()), each
 * request's body gathered up to the configured cap, then one call of the
 * router and one response.
 *
 * Over the cap, nothing more is stored, and the answer is 413:
 *  - at once when the Content-Length says so and the client waits for
 *    "100 Continue" (it then never sends the body), or when the length
 *    passes DISCARD_MAX;
 *  - otherwise at the end of the body, which is read and dropped. MHD
 *    0.9.75 cannot queue a response in the middle of an upload, and it
 *    closes without draining: answering early while a client is still
 *    sending makes the kernel reset the connection, and the reset can
 *    destroy the 413 before the client reads it.
 * A body that goes on past DISCARD_MAX closes the connection without an
 * answer, so an endless upload costs bandwidth, never memory.
 *
 * A route that must wait (StartSyncExecution) answers later: its
 * connection is suspended and a thread of its own finishes the response,
 * so waiting never holds one of the polling threads.
 *
 * Slow clients: one address holds at most listen.maxConnectionsPerClient
 * connections (MHD's per-IP limit), and a request must arrive within
 * listen.requestTimeoutSeconds (deadline.c, fed by the callbacks here).
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.h"

#define DISCARD_MAX (16u << 20)

/* Per request: from the first call of the access handler (headers read)
 * to MHD's completion callback. */
typedef struct later_answer later_answer;

typedef struct exchange {
  double start_ms;
  char *body;
  size_t len, cap;
  size_t dropped; /* bytes read past the cap */
  bool too_large, answered;
  gw_framing framing; /* refused for its framing when status is set */
  later_answer *later; /* the connection is suspended until it is ready */
} exchange;

/* A response finished on a thread of its own (gw_response.later) while
 * the connection is suspended; sent when MHD calls back after the resume. */
struct later_answer {
  gw_server *srv;
  struct MHD_Connection *conn;
  gw_response resp;
  gw_request req; /* for the log and X-Correlation-Id: no headers, no body */
  char correlation_id[129];
  char client[INET6_ADDRSTRLEN];
  atomic_bool ready;
};

typedef struct header_list {
  gw_header *v;
  size_t n, max;
  bool overflow;
} header_list;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value) {
  (void)kind;
  header_list *h = cls;
  if (h->n == h->max) {
    h->overflow = true;
    return MHD_NO;
  }
  h->v[h->n++] = (gw_header){key, value ? value : ""};
  return MHD_YES;
}

/* The query string as name=value pairs joined by '&' (MHD hands them
 * decoded), bounded. */
typedef struct query_buf {
  char s[1024];
  size_t n;
} query_buf;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value) {
  (void)kind;
  query_buf *q = cls;
  int k = snprintf(q->s + q->n, sizeof q->s - q->n, "%s%s%s%s",
                   q->n ? "&" : "", key, value ? "=" : "",
                   value ? value : "");
  if (k < 0 || (size_t)k >= sizeof q->s - q->n) return MHD_NO;
  q->n += (size_t)k;
  return MHD_YES;
}

static void client_address(struct MHD_Connection *c, char *out, size_t n) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  snprintf(out, n, "unknown");
  if (!ci || !ci->client_addr) return;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
              (socklen_t)n);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
              (socklen_t)n);
}

static enum MHD_Result send_response(gw_server *srv, struct MHD_Connection *c,
                                     const gw_request *req,
                                     gw_response *resp) {
  size_t len = resp->body ? strlen(resp->body) : 0;
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, resp->body, resp->body ? MHD_RESPMEM_MUST_FREE
                                  : MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  resp->body = NULL; /* MHD frees it now */
  if (len)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type
                                               : "application/json");
  MHD_add_response_header(r, "X-Correlation-Id", req->correlation_id);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Cache-Control", "no-store");
  for (size_t i = 0; i < resp->nextra; i++)
    MHD_add_response_header(r, resp->extra[i].name, resp->extra[i].value);
  /* While draining, ask keep-alive clients to reconnect: the listening
   * socket is closed, so they will find the next instance. */
  if (atomic_load(&srv->draining))
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)resp->status, r);
  MHD_destroy_response(r);
  return ok;
}

/* Log the response and send it. */
static enum MHD_Result finish(gw_server *srv, struct MHD_Connection *c,
                              exchange *x, const gw_request *req,
                              gw_response *resp) {
  if (!resp->status) resp->status = 500;
  gw_log_response(srv->log, req, resp, gw_mono_ms() - x->start_ms);
  x->answered = true;
  enum MHD_Result ok = send_response(srv, c, req, resp);
  gw_response_clear(resp);
  return ok;
}

/* Finish a response a route left for later; resp->later is consumed. */
static void run_later(gw_response *resp) {
  void (*later)(void *, gw_response *) = resp->later;
  void *arg = resp->later_arg;
  resp->later = NULL;
  resp->later_arg = NULL;
  later(arg, resp);
}

static void *later_main(void *arg) {
  later_answer *la = arg;
  gw_server *srv = la->srv;
  run_later(&la->resp);
  atomic_store(&la->ready, true);
  MHD_resume_connection(la->conn);
  atomic_fetch_sub(&srv->later, 1);
  return NULL;
}

/* Suspend the connection and run resp->later on a thread of its own.
 * False when no thread could be had: the caller then runs it in place. */
static bool start_later(gw_server *srv, struct MHD_Connection *c,
                        exchange *x, const gw_request *req,
                        gw_response *resp) {
  later_answer *la = calloc(1, sizeof *la);
  if (!la) goto in_place;
  la->srv = srv;
  la->conn = c;
  la->resp = *resp;
  snprintf(la->correlation_id, sizeof la->correlation_id, "%s",
           req->correlation_id);
  snprintf(la->client, sizeof la->client, "%s", req->client);
  /* method and path stay MHD's until the connection completes */
  la->req = (gw_request){req->method, req->path, "", NULL, 0, "", 0,
                         la->client, la->correlation_id};
  pthread_attr_t attr;
  pthread_t t;
  if (pthread_attr_init(&attr)) goto in_place;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256u << 10);
  x->later = la;
  atomic_fetch_add(&srv->later, 1);
  MHD_suspend_connection(c);
  int rc = pthread_create(&t, &attr, later_main, la);
  pthread_attr_destroy(&attr);
  if (rc == 0) return true;
  MHD_resume_connection(c);
  atomic_fetch_sub(&srv->later, 1);
  x->later = NULL;
in_place:
  free(la);
  run_later(resp);
  return false;
}

/* The connection's request clock (deadline.c), or NULL. */
static gw_conn_clock *clock_of(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

/* Build the request, route it (or refuse it), log both sides, send. */
static enum MHD_Result answer(gw_server *srv, struct MHD_Connection *c,
                              exchange *x, const char *url,
                              const char *method) {
  const gw_config *cfg = srv->g.cfg;
  gw_deadline_arrived(srv->deadlines, clock_of(c));
  gw_header headers[cfg->limits.max_headers];
  header_list hl = {headers, 0, cfg->limits.max_headers, false};
  MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hl);
  query_buf q = {.n = 0};
  q.s[0] = '\0';
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
  char client[INET6_ADDRSTRLEN];
  client_address(c, client, sizeof client);
  char generated[37];
  gw_request req = {method, url, q.s, headers, hl.n,
                    x->body ? x->body : "", x->len, client, NULL};
  const char *given = gw_request_header(&req, "X-Correlation-Id");
  bool given_ok = given && gw_correlation_id_ok(given);
  if (given_ok) {
    req.correlation_id = given;
  } else {
    gw_uuid(generated);
    req.correlation_id = generated;
  }
  gw_log_request(srv->log, &req);
  gw_response resp = {0};
  if (x->framing.status) {
    gw_respond_error(&resp, &req, x->framing.status, x->framing.code, "%s",
                     x->framing.message);
    gw_respond_header(&resp, MHD_HTTP_HEADER_CONNECTION, "close");
  } else if (x->too_large)
    gw_dispatch_too_large(srv, &req, &resp);
  else if (hl.overflow)
    gw_respond_error(&resp, &req, 431, "TooManyHeaders",
                     "more than %u headers", cfg->limits.max_headers);
  else if (given && !given_ok)
    gw_respond_error(&resp, &req, 400, "InvalidCorrelationId",
                     "X-Correlation-Id must be 1-128 letters, digits, '.', "
                     "'_', ':' or '-'");
  else
    gw_dispatch(srv, &req, &resp);
  if (x->framing.status || x->too_large || hl.overflow || (given && !given_ok))
    gw_cors_decorate(cfg, &req, &resp);
  if (resp.later && start_later(srv, c, x, &req, &resp)) return MHD_YES;
  return finish(srv, c, x, &req, &resp);
}

static bool append(exchange *x, const char *data, size_t n, size_t max) {
  if (n > max - x->len) return false;
  if (x->len + n + 1 > x->cap) {
    size_t cap = x->cap ? x->cap : 1024;
    while (cap < x->len + n + 1) cap *= 2;
    if (cap > max + 1) cap = max + 1;
    char *b = realloc(x->body, cap);
    if (!b) return false;
    x->body = b;
    x->cap = cap;
  }
  memcpy(x->body + x->len, data, n);
  x->len += n;
  x->body[x->len] = '\0';
  return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
  (void)version;
  gw_server *srv = cls;
  size_t max = srv->g.cfg->limits.max_body_bytes;
  exchange *x = *con_cls;
  if (!x) { /* headers are in: nothing read of the body yet */
    if (!(x = calloc(1, sizeof *x))) return MHD_NO;
    x->start_ms = gw_mono_ms();
    *con_cls = x;
    atomic_fetch_add(&srv->inflight, 1);
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_EXPECT);
    gw_deadline_headers(srv->deadlines, clock_of(c),
                        expect && strcasecmp(expect, "100-continue") == 0);
    /* Framing two readers could take differently: refused before any of
     * the body is read, and the connection closed after the answer. */
    gw_header headers[srv->g.cfg->limits.max_headers];
    header_list hl = {headers, 0, srv->g.cfg->limits.max_headers, false};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hl);
    gw_framing_check(headers, hl.n, &x->framing);
    if (x->framing.status) return answer(srv, c, x, url, method);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
    if (len > max) {
      x->too_large = true;
      if ((expect && strcasecmp(expect, "100-continue") == 0) ||
          len > DISCARD_MAX)
        return answer(srv, c, x, url, method); /* before any 100 Continue */
    }
    return MHD_YES;
  }
  if (*upload_size) {
    if (x->too_large || !append(x, upload, *upload_size, max)) {
      if (!x->too_large) { /* what was kept will never be used */
        free(x->body);
        x->body = NULL;
        x->len = x->cap = 0;
      }
      x->too_large = true;
      x->dropped += *upload_size;
      if (x->dropped > DISCARD_MAX) return MHD_NO; /* close: no answer */
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if (x->answered) return MHD_YES;
  if (x->later) { /* resumed: the answer is ready */
    later_answer *la = x->later;
    if (!atomic_load(&la->ready)) return MHD_YES;
    x->later = NULL;
    enum MHD_Result ok = finish(srv, c, x, &la->req, &la->resp);
    free(la);
    return ok;
  }
  return answer(srv, c, x, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)toe;
  gw_server *srv = cls;
  gw_deadline_completed(srv->deadlines, clock_of(c));
  exchange *x = *con_cls;
  if (!x) return;
  if (x->later) { /* closed before its answer was sent */
    gw_response_clear(&x->later->resp);
    free(x->later);
  }
  free(x->body);
  free(x);
  *con_cls = NULL;
  atomic_fetch_sub(&srv->inflight, 1);
}

/* Connections come and go: each gets a request clock (deadline.c). */
static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  gw_server *srv = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    char client[INET6_ADDRSTRLEN];
    client_address(c, client, sizeof client);
    *socket_context =
        ci ? gw_deadline_open(srv->deadlines, ci->connect_fd, client) : NULL;
  } else {
    gw_deadline_close(srv->deadlines, *socket_context);
    *socket_context = NULL;
  }
}

/* MHD's URI log callback, called once a request line is in. Returns the
 * access handler's first *con_cls: NULL, as without it. */
static void *on_request_line(void *cls, const char *uri,
                             struct MHD_Connection *c) {
  (void)uri;
  gw_server *srv = cls;
  gw_deadline_request_line(srv->deadlines, clock_of(c));
  return NULL;
}

/* MHD writes a message for every connection it refuses or loses
 * ("Server reached connection limit"): a client reconnecting in a loop
 * past maxConnectionsPerClient would turn into as many log lines. At most
 * this many a second are logged; the next one logged counts those left
 * out ("suppressed"). Racing threads may log one or two more. */
#define MHD_LOG_PER_SECOND 20

static bool mhd_log_admit(gw_server *srv, unsigned long *suppressed) {
  long long second = (long long)(gw_mono_ms() / 1000);
  long long seen = atomic_load(&srv->mhd_log_second);
  if (second != seen &&
      atomic_compare_exchange_strong(&srv->mhd_log_second, &seen, second))
    atomic_store(&srv->mhd_log_lines, 0);
  if (atomic_fetch_add(&srv->mhd_log_lines, 1) >= MHD_LOG_PER_SECOND) {
    atomic_fetch_add(&srv->mhd_log_dropped, 1);
    return false;
  }
  *suppressed = atomic_exchange(&srv->mhd_log_dropped, 0);
  return true;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
  gw_server *srv = cls;
  unsigned long suppressed;
  if (!mhd_log_admit(srv, &suppressed)) return;
  char text[256], members[400];
  vsnprintf(text, sizeof text, fmt, ap);
  char *clean = gw_text_clean(text, strcspn(text, "\n"), 200);
  json_t *s = json_string(clean ? clean : "");
  char *quoted = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
  int n = snprintf(members, sizeof members, "\"message\":%s",
                   quoted ? quoted : "\"\"");
  if (suppressed && n > 0 && (size_t)n < sizeof members)
    snprintf(members + n, sizeof members - (size_t)n, ",\"suppressed\":%lu",
             suppressed);
  gw_log_event(srv->log, WF_LOG_WARN, "HttpServerMessage", members);
  free(quoted);
  json_decref(s);
  free(clean);
}

int gw_http_start(gw_server *srv, char *msg, size_t msg_size) {
  const gw_config *cfg = srv->g.cfg;
  struct sockaddr_in v4 = {0};
  struct sockaddr_in6 v6 = {0};
  const struct sockaddr *sa;
  /* poll(), not epoll: MHD 0.9.75 panics at random when a threaded epoll
   * daemon is quiesced (worker and quiescing thread race to remove the
   * listen socket from the epoll set), and graceful shutdown quiesces. */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                   MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (inet_pton(AF_INET, cfg->listen.address, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons((uint16_t)cfg->listen.port);
    sa = (const struct sockaddr *)&v4;
  } else {
    inet_pton(AF_INET6, cfg->listen.address, &v6.sin6_addr);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons((uint16_t)cfg->listen.port);
    sa = (const struct sockaddr *)&v6;
    flags |= MHD_USE_IPv6;
  }
  unsigned threads = cfg->listen.threads;
  if (!threads) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (unsigned)n : 2;
  }
  srv->quiesced_fd = -1;
  if (!(srv->deadlines =
            gw_deadlines_new(srv->log, cfg->listen.request_timeout_s))) {
    snprintf(msg, msg_size, "cannot start the request deadline thread");
    return -1;
  }
  srv->daemon = MHD_start_daemon(
      flags, (uint16_t)cfg->listen.port, NULL, NULL, on_request, srv,
      /* First, so that MHD reports the other options through it too. */
      MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv, MHD_OPTION_SOCK_ADDR, sa,
      MHD_OPTION_THREAD_POOL_SIZE, threads,
      MHD_OPTION_CONNECTION_LIMIT, cfg->listen.max_connections,
      /* One address cannot hold every connection (slowloris): past its
       * share MHD accepts and closes at once. 0: no bound. */
      MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      cfg->listen.max_connections_per_client,
      MHD_OPTION_CONNECTION_TIMEOUT, cfg->listen.connection_timeout_s,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
      /* Refuse what RFC 9112 forbids (HTTP/1.1 without Host, spaces in
       * header names) instead of guessing what the client meant. */
      MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, srv,
      /* listen.requestTimeoutSeconds: see deadline.c for why these. */
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
      MHD_OPTION_URI_LOG_CALLBACK, on_request_line, srv, MHD_OPTION_END);
  if (!srv->daemon) {
    gw_deadlines_free(srv->deadlines);
    srv->deadlines = NULL;
    snprintf(msg, msg_size, "cannot listen on %s port %d",
             cfg->listen.address, cfg->listen.port);
    return -1;
  }
  const union MHD_DaemonInfo *di =
      MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = di ? di->port : cfg->listen.port;
  return 0;
}

void gw_http_quiesce(gw_server *srv) {
  /* MHD's worker threads stop polling the socket a little later, so it
   * stays open until MHD_stop_daemon(); shutting it down now refuses new
   * connections at once (a worker still polling it sees accept() fail
   * with EINVAL, which MHD takes as shutdown). */
  MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
  if (fd == MHD_INVALID_SOCKET) return;
  shutdown(fd, SHUT_RDWR);
  srv->quiesced_fd = fd;
}

void gw_http_stop(gw_server *srv, double deadline_ms) {
  if (!srv->daemon) return;
  while (atomic_load(&srv->inflight) > 0 && gw_mono_ms() < deadline_ms)
    usleep(5000);
  /* MHD must not stop with a connection suspended; a late answer ends
   * soon once draining (StartSyncExecution stops its execution), and then
   * gets a moment to be sent. */
  if (atomic_load(&srv->later) > 0) {
    while (atomic_load(&srv->later) > 0) usleep(5000);
    double grace_ms = gw_mono_ms() + 1000;
    while (atomic_load(&srv->inflight) > 0 && gw_mono_ms() < grace_ms)
      usleep(5000);
  }
  MHD_stop_daemon(srv->daemon);
  srv->daemon = NULL;
  gw_deadlines_free(srv->deadlines);
  srv->deadlines = NULL;
  if (srv->quiesced_fd >= 0) close(srv->quiesced_fd);
  srv->quiesced_fd = -1;
}
