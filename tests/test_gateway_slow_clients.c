/* wf-gateway end to end against slow clients (slowloris): one client
 * address holds at most listen.maxConnectionsPerClient connections, so
 * hundreds of connections trickling bytes from one address leave /health
 * answering everyone else at once.
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
  gwt_finish();
}
