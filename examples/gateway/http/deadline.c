/* Request deadlines (core.h): a request must arrive whole — request line,
 * headers and body — within listen.requestTimeoutSeconds, however slowly
 * its bytes trickle. Answering it is not bounded here (StartSyncExecution
 * waits for its execution); only arriving.
 *
 * Why the gateway keeps this clock itself: libmicrohttpd 0.9.75 (Debian
 * 12) has none. MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout that
 * every byte received restarts, so a client sending one byte every few
 * seconds keeps a connection for ever (slowloris); the per-connection
 * MHD_CONNECTION_OPTION_TIMEOUT is the same idle clock; MHD calls the
 * access handler only once every header is in, so a check there cannot
 * see headers trickled a byte at a time; MHD_OPTION_CONNECTION_MEMORY_LIMIT
 * bounds how many header bytes a connection buffers, not for how long;
 * and MHD has no call that closes a connection from another thread
 * (MHD_suspend_connection only works inside the access handler). So:
 *
 *  - MHD_OPTION_NOTIFY_CONNECTION registers each connection when accepted
 *    (its clock starts) and unregisters it before MHD closes its socket
 *    (MHD 0.9.75 notifies first, then closes);
 *  - MHD_OPTION_URI_LOG_CALLBACK says the request line is in; for a
 *    request after the first on a kept-alive connection the clock
 *    restarts there (the wait for that line started when the previous
 *    answer was done, and is bounded the same way);
 *  - the access handler stops the clock once the body is complete, and the
 *    completion of the request starts it again for the next one;
 *  - a thread sweeps the registered connections every SWEEP_MS and cuts
 *    each one past its deadline: a 408 written straight to the socket,
 *    then shutdown() both ways. MHD's polling thread then reads end of
 *    file and closes and frees the connection as for any client that
 *    left. The sweeper shuts the socket down but never closes it, and only
 *    under the lock the close notification takes, so the descriptor it
 *    touches cannot have been reused meanwhile.
 *
 * Nothing else writes to the socket while a request is arriving, with two
 * exceptions: MHD's "100 Continue" (no 408 then: the connection is only
 * shut down) and MHD's own refusal of a malformed request, which it writes
 * and closes at once (a 408 could only meet it in the same instant). A
 * connection waiting for its next request, with no request line yet, is
 * closed without a 408: it may be idle, not slow. */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core.h"

/* How often deadlines are checked: one is enforced this late at most. */
#define SWEEP_MS 250

struct gw_conn_clock {
  gw_conn_clock *prev, *next;
  int fd;
  double since_ms;    /* gw_mono_ms() when the clock started */
  bool running;       /* a request is arriving (or awaited) */
  bool line_in;       /* its request line is in */
  bool headers_in;    /* and its headers: the body is arriving */
  bool quiet;         /* a 100 Continue may be on the wire: no 408 */
  bool cut;
  unsigned long served; /* requests completed on this connection */
  char client[INET6_ADDRSTRLEN];
};

struct gw_deadlines {
  pthread_mutex_t lock; /* guards the list, every clock in it, stop */
  pthread_cond_t wake;
  gw_conn_clock *head;
  double limit_ms;
  unsigned limit_s;
  gw_log *log;
  pthread_t sweeper;
  bool stop;
};

static void cut(gw_deadlines *d, gw_conn_clock *k, double now) {
  const char *stage = k->headers_in ? "body"
                      : k->line_in  ? "headers"
                                    : "request";
  if (k->line_in && !k->quiet) {
    char body[160], head[400], date[40];
    struct tm tm;
    time_t t = time(NULL);
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int nb = snprintf(body, sizeof body,
                      "{\"error\":\"RequestTimeout\",\"message\":\"the "
                      "request did not arrive within %u s\"}",
                      d->limit_s);
    int nh = snprintf(head, sizeof head,
                      "HTTP/1.1 408 Request Timeout\r\n"
                      "Date: %s\r\n"
                      "Connection: close\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: %d\r\n"
                      "X-Content-Type-Options: nosniff\r\n"
                      "Cache-Control: no-store\r\n\r\n%s",
                      date, nb, body);
    /* Best effort: the client is not owed the answer, and a socket
     * buffer that is full is not waited for. */
    if (nh > 0 && (size_t)nh < sizeof head)
      send(k->fd, head, (size_t)nh, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  shutdown(k->fd, SHUT_RDWR);
  k->cut = true;
  char members[200];
  snprintf(members, sizeof members,
           "\"client\":\"%s\",\"stage\":\"%s\",\"waitedMs\":%.0f", k->client,
           stage, now - k->since_ms);
  gw_log_event(d->log, k->line_in ? WF_LOG_WARN : WF_LOG_INFO,
               "RequestTimedOut", members);
}

static void *sweep_main(void *arg) {
  gw_deadlines *d = arg;
  pthread_mutex_lock(&d->lock);
  while (!d->stop) {
    double now = gw_mono_ms();
    for (gw_conn_clock *k = d->head; k; k = k->next)
      if (k->running && !k->cut && now - k->since_ms >= d->limit_ms)
        cut(d, k, now);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += SWEEP_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&d->wake, &d->lock, &ts);
  }
  pthread_mutex_unlock(&d->lock);
  return NULL;
}

gw_deadlines *gw_deadlines_new(gw_log *log, unsigned timeout_s) {
  gw_deadlines *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->limit_s = timeout_s;
  d->limit_ms = timeout_s * 1e3;
  d->log = log;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&d->wake, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&d->lock, NULL);
  if (pthread_create(&d->sweeper, NULL, sweep_main, d) != 0) {
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
    free(d);
    return NULL;
  }
  return d;
}

void gw_deadlines_free(gw_deadlines *d) {
  if (!d) return;
  pthread_mutex_lock(&d->lock);
  d->stop = true;
  pthread_cond_signal(&d->wake);
  pthread_mutex_unlock(&d->lock);
  pthread_join(d->sweeper, NULL);
  for (gw_conn_clock *k = d->head, *next; k; k = next) {
    next = k->next;
    free(k);
  }
  pthread_cond_destroy(&d->wake);
  pthread_mutex_destroy(&d->lock);
  free(d);
}

gw_conn_clock *gw_deadline_open(gw_deadlines *d, int fd, const char *client) {
  gw_conn_clock *k = calloc(1, sizeof *k);
  if (!d || !k) {
    free(k);
    return NULL;
  }
  k->fd = fd;
  k->running = true;
  k->since_ms = gw_mono_ms();
  snprintf(k->client, sizeof k->client, "%s", client);
  pthread_mutex_lock(&d->lock);
  k->next = d->head;
  if (d->head) d->head->prev = k;
  d->head = k;
  pthread_mutex_unlock(&d->lock);
  return k;
}

void gw_deadline_close(gw_deadlines *d, gw_conn_clock *k) {
  if (!d || !k) return;
  pthread_mutex_lock(&d->lock);
  if (k->prev) k->prev->next = k->next;
  else d->head = k->next;
  if (k->next) k->next->prev = k->prev;
  pthread_mutex_unlock(&d->lock);
  free(k);
}

void gw_deadline_request_line(gw_deadlines *d, gw_conn_clock *k) {
  if (!d || !k) return;
  pthread_mutex_lock(&d->lock);
  if (k->served) k->since_ms = gw_mono_ms();
  k->line_in = true;
  pthread_mutex_unlock(&d->lock);
}

void gw_deadline_headers(gw_deadlines *d, gw_conn_clock *k,
                         bool expects_continue) {
  if (!d || !k) return;
  pthread_mutex_lock(&d->lock);
  k->headers_in = true;
  k->quiet = expects_continue;
  pthread_mutex_unlock(&d->lock);
}

void gw_deadline_arrived(gw_deadlines *d, gw_conn_clock *k) {
  if (!d || !k) return;
  pthread_mutex_lock(&d->lock);
  k->running = false;
  pthread_mutex_unlock(&d->lock);
}

void gw_deadline_completed(gw_deadlines *d, gw_conn_clock *k) {
  if (!d || !k) return;
  pthread_mutex_lock(&d->lock);
  k->served++;
  k->running = true;
  k->line_in = k->headers_in = k->quiet = false;
  k->since_ms = gw_mono_ms();
  pthread_mutex_unlock(&d->lock);
}
