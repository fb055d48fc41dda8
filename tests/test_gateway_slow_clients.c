/* wf-gateway end to end against slow clients (slowloris): one client
 * address holds at most listen.maxConnectionsPerClient connections, so
 * hundreds of connections trickling bytes from one address leave /health
 * answering everyone else at once (and the log does not repeat each
 * refusal); and a request must arrive whole within
 * listen.requestTimeoutSeconds, however it trickles (408, then closed),
 * while answering it may take longer.
 *
 * Linux routes all of 127.0.0.0/8 to loopback: the slow connections bind
 * 127.0.0.2 as their source, the probes come from 127.0.0.1, and the
 * gateway tells them apart as it would two hosts. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway_support.h"
#include "support.h"

TestSuite(gateway_slow_clients, .fini = gwt_fini, .timeout = 60);

static void start(const char *extra) {
  char *cfg = wft_strf("%s%s%s", GWT_BASE_CONFIG, GWT_PROCESS_HELLO,
                       extra ? extra : "");
  cr_assert(gwt_start(&gwt_srv, cfg), "the gateway did not start");
  free(cfg);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A connection to the gateway from `source`, an address of 127.0.0.0/8;
 * non-blocking once connected. -1 on failure. */
static int connect_from(const char *source) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in src = {.sin_family = AF_INET};
  struct sockaddr_in dst = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)gwt_srv.port)};
  inet_pton(AF_INET, source, &src.sin_addr);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
      connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static bool send_all(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    s += w;
    n -= (size_t)w;
  }
  return true;
}

/* Read what fd receives until the server closes it or `deadline`
 * (now_ms()) passes, appending to out (at most out_size - 1 bytes kept).
 * True when closed. */
static bool read_until_closed(int fd, double deadline, char *out,
                              size_t out_size) {
  size_t n = strlen(out);
  for (;;) {
    int left = (int)(deadline - now_ms());
    struct pollfd p = {fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0) return false;
    char buf[512];
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) return true;
    if (r < 0) continue;
    size_t k = (size_t)r < out_size - 1 - n ? (size_t)r : out_size - 1 - n;
    memcpy(out + n, buf, k);
    n += k;
    out[n] = '\0';
  }
}

/* Has the server closed fd? Looks without waiting. */
static bool closed_by_server(int fd) {
  char c;
  ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* GET /health from 127.0.0.1 on a connection of its own: the milliseconds
 * until the whole 200 arrived, or -1 when it did not within limit_ms. */
static double health_ms(int limit_ms) {
  static const char REQ[] =
      "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  double t0 = now_ms();
  int fd = connect_from("127.0.0.1");
  char out[1024] = "";
  bool ok = fd >= 0 && send_all(fd, REQ, sizeof REQ - 1) &&
            read_until_closed(fd, t0 + limit_ms, out, sizeof out) &&
            strncmp(out, "HTTP/1.1 200 ", 13) == 0;
  if (fd >= 0) close(fd);
  return ok ? now_ms() - t0 : -1;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* An AWS API operation, unsigned, with a body built by jansson (stolen). */
static gwt_response aws_call(const char *op, json_t *body) {
  char *target = wft_strf("X-Amz-Target: AWSStepFunctions.%s", op);
  const char *headers[] = {"Content-Type: application/x-amz-json-1.0",
                           target, NULL};
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  cr_assert(text);
  gwt_response r =
      gwt_request(&gwt_srv, "POST", "/", headers, text, strlen(text));
  free(text);
  free(target);
  return r;
}

#define ATTACKERS 300
#define PER_CLIENT 8
#define PROBES 20

/* The attack of the issue, scaled down: connections that each send a
 * request line, then a header byte at a time. Without a per-client bound
 * they fill every slot (maxConnections) and /health never answers. */
Test(gateway_slow_clients, one_client_cannot_take_every_connection) {
  start("listen: {maxConnections: 64, maxConnectionsPerClient: 8}\n"
        "throttle: {enabled: false}\n");
  static int fds[ATTACKERS];
  static const char LINE[] = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < ATTACKERS; i++) {
    fds[i] = connect_from("127.0.0.2");
    cr_assert(fds[i] >= 0, "slow connection %d: %s", i, strerror(errno));
    send_all(fds[i], LINE, sizeof LINE - 1); /* may be refused already */
  }
  double ms[PROBES];
  for (int round = 0; round < PROBES; round++) {
    for (int i = 0; i < ATTACKERS; i++) send_all(fds[i], "X", 1);
    ms[round] = health_ms(1000);
    cr_assert(ms[round] >= 0,
              "probe %d: /health did not answer within 1 s with %d slow "
              "connections open from another address",
              round, ATTACKERS);
    usleep(50000);
  }
  /* The API answers too, the slow connections still open. */
  gwt_response r = gwt_process(&gwt_srv, "{\"during\":\"the attack\"}");
  cr_assert_eq(r.status, 202, "POST /process: %ld %s", r.status, r.body);
  gwt_response_free(&r);
  r = aws_call("ListStateMachines", json_object());
  cr_assert_eq(r.status, 200, "ListStateMachines: %ld %s", r.status, r.body);
  gwt_response_free(&r);
  qsort(ms, PROBES, sizeof *ms, by_value);
  cr_log_info("/health with %d slow connections from 127.0.0.2: median "
              "%.1f ms, max %.1f ms over %d probes",
              ATTACKERS, ms[PROBES / 2], ms[PROBES - 1], PROBES);
  int open = 0;
  for (int i = 0; i < ATTACKERS; i++) {
    open += !closed_by_server(fds[i]);
    close(fds[i]);
  }
  cr_assert(open > 0 && open <= PER_CLIENT,
            "%d of the slow connections are still open; the bound is %d",
            open, PER_CLIENT);
  /* Each refused connection is a message of libmicrohttpd's: a handful
   * a second reach the log, with a count of those left out. */
  usleep(250000); /* the log is flushed every 100 ms */
  json_t *lines = gwt_log_lines(&gwt_srv, "\"HttpServerMessage\"", 1);
  size_t n = json_array_size(lines), i;
  json_int_t suppressed = 0;
  json_t *line;
  json_array_foreach(lines, i, line)
      suppressed += json_integer_value(json_object_get(line, "suppressed"));
  cr_assert(n >= 1 && n <= 80,
            "%zu lines of libmicrohttpd's messages for %d refused "
            "connections",
            n, ATTACKERS - PER_CLIENT);
  cr_assert(suppressed > 0, "no line counts the messages left out");
  json_decref(lines);
  gwt_finish();
}

/* Send `prefix`, then a byte of `drip` every 100 ms (again from its start
 * when used up) until the server closes the connection or 4 s pass; what
 * came back goes to out. The milliseconds until closed, or -1. */
static double trickle(const char *prefix, const char *drip, char *out,
                      size_t out_size) {
  double t0 = now_ms();
  int fd = connect_from("127.0.0.1");
  cr_assert(fd >= 0, "connect: %s", strerror(errno));
  out[0] = '\0';
  cr_assert(send_all(fd, prefix, strlen(prefix)));
  bool closed = false;
  for (size_t i = 0; !closed && now_ms() < t0 + 4000; i++) {
    send_all(fd, drip + i % strlen(drip), 1); /* fails once cut */
    closed = read_until_closed(fd, now_ms() + 100, out, out_size);
  }
  close(fd);
  return closed ? now_ms() - t0 : -1;
}

static void expect_cut_with_408(double ms, const char *out) {
  cr_assert(ms >= 0, "still open after 4 s of trickling, 1 s allowed");
  cr_assert(ms >= 950 && ms <= 2500, "cut after %.0f ms, 1 s allowed", ms);
  cr_assert(strncmp(out, "HTTP/1.1 408 ", 13) == 0 &&
                strstr(out, "\r\nConnection: close\r\n") &&
                strstr(out, "\"error\":\"RequestTimeout\""),
            "%s", out);
}

Test(gateway_slow_clients, headers_trickled_past_the_deadline_are_cut) {
  start("listen: {requestTimeoutSeconds: 1}\n");
  char out[2048];
  double ms = trickle("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ", "abc",
                      out, sizeof out);
  expect_cut_with_408(ms, out);
  json_t *lines = gwt_log_lines(&gwt_srv, "\"RequestTimedOut\"", 1);
  json_t *e = json_array_get(lines, 0);
  cr_assert(e, "no RequestTimedOut line in the log");
  cr_assert_str_eq(json_string_value(json_object_get(e, "stage")), "headers");
  cr_assert_str_eq(json_string_value(json_object_get(e, "client")),
                   "127.0.0.1");
  json_decref(lines);
  gwt_response r = gwt_request(&gwt_srv, "GET", "/health", NULL, NULL, 0);
  cr_assert_eq(r.status, 200, "the server is still healthy");
  gwt_response_free(&r);
  gwt_finish();
}

Test(gateway_slow_clients, a_body_trickled_past_the_deadline_is_cut) {
  start("listen: {requestTimeoutSeconds: 1}\n");
  char out[2048];
  double ms = trickle("POST /process HTTP/1.1\r\nHost: x\r\n"
                      "Content-Type: application/json\r\n"
                      "x-api-key: " GWT_API_KEY "\r\n"
                      "Content-Length: 1000\r\n\r\n{\"a\":\"",
                      "x", out, sizeof out);
  expect_cut_with_408(ms, out);
  json_t *lines = gwt_log_lines(&gwt_srv, "\"RequestTimedOut\"", 1);
  cr_assert_str_eq(json_string_value(json_object_get(
                       json_array_get(lines, 0), "stage")),
                   "body");
  json_decref(lines);
  gwt_finish(); /* and the cut request is no longer in flight */
}

/* A kept-alive connection: each request has its own second, however long
 * the connection lives; answering may take longer than arriving; and a
 * connection idle past the deadline is closed without a 408 (it may only
 * be idle). */
Test(gateway_slow_clients, requests_that_arrive_in_time_are_never_cut) {
  start("listen: {requestTimeoutSeconds: 1}\n");
  static const char REQ[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  int fd = connect_from("127.0.0.1");
  cr_assert(fd >= 0);
  for (int i = 0; i < 3; i++) {
    cr_assert(send_all(fd, REQ, sizeof REQ - 1), "request %d", i);
    char out[1024] = "";
    double until = now_ms() + 600;
    bool closed = read_until_closed(fd, until, out, sizeof out);
    cr_assert(!closed && strncmp(out, "HTTP/1.1 200 ", 13) == 0,
              "request %d on one connection, %d ms apart: %s", i, 600, out);
  }
  char out[1024] = "";
  double t0 = now_ms();
  cr_assert(read_until_closed(fd, t0 + 2500, out, sizeof out),
            "an idle connection stays open past the deadline");
  cr_assert_str_eq(out, "", "an idle connection gets no 408");
  close(fd);

  /* StartSyncExecution answers once its execution ends, 2 s later. */
  json_t *b = json_pack(
      "{s:s, s:s, s:s, s:s}", "name", "slow", "type", "EXPRESS", "roleArn",
      "arn:aws:iam::123456789012:role/tests", "definition",
      "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
      "\"Seconds\":2,\"End\":true}}}");
  gwt_response r = aws_call("CreateStateMachine", b);
  cr_assert_eq(r.status, 200, "%s", r.body);
  gwt_response_free(&r);
  t0 = now_ms();
  r = aws_call("StartSyncExecution",
               json_pack("{s:s}", "stateMachineArn",
                         "arn:aws:states:us-east-1:123456789012:"
                         "stateMachine:slow"));
  double took = now_ms() - t0;
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert_str_eq(json_string_value(json_object_get(r.json, "status")),
                   "SUCCEEDED", "%s", r.body);
  cr_assert(took >= 1900, "answered after %.0f ms", took);
  gwt_response_free(&r);
  gwt_finish();
}
