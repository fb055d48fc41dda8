/* The gateway's structured log: one JSON line per request, per response
 * and per server event, in the same sink as the engine's execution lines,
 * all carrying the correlation id so one request can be followed from the
 * HTTP front door to the last state.
 *
 * Untrusted text (paths, header values) is cleaned (gw_text_clean: valid
 * UTF-8, no control characters, bounded) and JSON-escaped, so no client
 * can forge or split a line. A file sink is buffered and flushed by a
 * thread every FLUSH_MS (one write per line would cost a system call per
 * request under load); every write() carries whole lines only, so a
 * reader tailing the file, or another process appending to it, never
 * meets half a line. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define FLUSH_MS 100
#define LINE_MAX_BYTES 2048
#define BUFFER_BYTES (64u << 10)

struct gw_log {
  int fd;
  bool owned;
  wf_log_level level;
  bool access;
  pthread_mutex_t lock; /* guards buf, len, stop */
  pthread_cond_t cond;
  pthread_t flusher;
  char *buf;            /* NULL: unbuffered (stderr) */
  size_t len;
  bool stop, has_flusher;
};


/* ---- a bounded line builder -------------------------------------------- */

typedef struct line {
  char buf[LINE_MAX_BYTES];
  size_t n;
} line;

static void put(line *l, const char *s, size_t n) {
  if (n > sizeof l->buf - 2 - l->n) n = sizeof l->buf - 2 - l->n;
  memcpy(l->buf + l->n, s, n);
  l->n += n;
}

static void putf(line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void putf(line *l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(l->buf + l->n, sizeof l->buf - 2 - l->n, fmt, ap);
  va_end(ap);
  if (k > 0) l->n += (size_t)k < sizeof l->buf - 2 - l->n
                         ? (size_t)k
                         : sizeof l->buf - 2 - l->n;
}

/* A JSON string of `s` after cleaning it to at most `max` bytes. */
static void put_string(line *l, const char *s, size_t max) {
  char *clean = gw_text_clean(s, strlen(s), max);
  put(l, "\"", 1);
  for (const char *p = clean ? clean : ""; *p; p++) {
    if (*p == '"' || *p == '\\') put(l, "\\", 1);
    put(l, p, 1);
  }
  put(l, "\"", 1);
  free(clean);
}

static void member(line *l, const char *key, const char *value, size_t max) {
  if (!value) return;
  putf(l, ",\"%s\":", key);
  put_string(l, value, max);
}

static void head(line *l, wf_log_level level, const char *correlation_id,
                 const char *event) {
  char ts[32];
  gw_iso8601(ts, gw_now_ms());
  l->n = 0;
  putf(l, "{\"timestamp\":\"%s\",\"level\":\"%s\"", ts,
       wf_log_level_name(level));
  member(l, "correlationId", correlation_id, 128);
  putf(l, ",\"event\":\"%s\"", event);
}

/* ---- the sink ---------------------------------------------------------- */

/* Write all of iov, retrying short writes; a failing sink loses lines
 * rather than stopping the server. */
static void write_all(int fd, struct iovec *iov, int n) {
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    while (n > 0 && (size_t)w >= iov->iov_len) {
      w -= (ssize_t)iov->iov_len;
      iov++, n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + w;
      iov->iov_len -= (size_t)w;
    }
  }
}

static void flush_locked(gw_log *log) {
  struct iovec v = {log->buf, log->len};
  if (log->len) write_all(log->fd, &v, 1);
  log->len = 0;
}

static void write_line(gw_log *log, const char *s, size_t n) {
  pthread_mutex_lock(&log->lock);
  if (log->buf && n + 1 <= BUFFER_BYTES) {
    if (log->len + n + 1 > BUFFER_BYTES) flush_locked(log);
    memcpy(log->buf + log->len, s, n);
    log->buf[log->len + n] = '\n';
    log->len += n + 1;
  } else {
    if (log->buf) flush_locked(log);
    struct iovec v[2] = {{(void *)s, n}, {"\n", 1}};
    write_all(log->fd, v, 2);
  }
  pthread_mutex_unlock(&log->lock);
}

static void emit(gw_log *log, line *l) {
  put(l, "}", 1);
  write_line(log, l->buf, l->n);
}

static void *flush_loop(void *arg) {
  gw_log *log = arg;
  pthread_mutex_lock(&log->lock);
  while (!log->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += FLUSH_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&log->cond, &log->lock, &ts);
    flush_locked(log);
  }
  pthread_mutex_unlock(&log->lock);
  return NULL;
}

gw_log *gw_log_open(const char *path, wf_log_level level, bool access,
                    char *msg, size_t msg_size) {
  if (!path) return NULL;
  gw_log *log = calloc(1, sizeof *log);
  if (log) log->fd = -1;
  if (!log) {
    snprintf(msg, msg_size, "out of memory");
    return NULL;
  }
  log->level = level;
  log->access = access;
  pthread_mutex_init(&log->lock, NULL);
  pthread_cond_init(&log->cond, NULL);
  if (strcmp(path, "-") == 0) {
    log->fd = 2; /* unbuffered: every line is out at once */
    return log;
  }
  log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log->fd < 0) {
    snprintf(msg, msg_size, "log.path %s: %s", path, strerror(errno));
    gw_log_close(log);
    return NULL;
  }
  log->owned = true;
  /* Without a buffer or a flusher every line is written at once. */
  if ((log->buf = malloc(BUFFER_BYTES)) &&
      !(log->has_flusher =
            pthread_create(&log->flusher, NULL, flush_loop, log) == 0)) {
    free(log->buf);
    log->buf = NULL;
  }
  return log;
}

void gw_log_close(gw_log *log) {
  if (!log) return;
  if (log->has_flusher) {
    pthread_mutex_lock(&log->lock);
    log->stop = true;
    pthread_cond_signal(&log->cond);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->flusher, NULL);
  }
  if (log->buf) flush_locked(log);
  free(log->buf);
  if (log->owned) close(log->fd);
  pthread_cond_destroy(&log->cond);
  pthread_mutex_destroy(&log->lock);
  free(log);
}

void gw_log_engine(const char *json_line, void *payload) {
  gw_log *log = payload;
  write_line(log, json_line, strlen(json_line));
}

void gw_log_event(gw_log *log, wf_log_level level, const char *event,
                  const char *members) {
  if (!log || level < log->level) return;
  line l;
  head(&l, level, NULL, event);
  if (members) putf(&l, ",%s", members);
  emit(log, &l);
}

void gw_log_request(gw_log *log, const gw_request *req) {
  if (!log || !log->access || log->level > WF_LOG_INFO) return;
  line l;
  head(&l, WF_LOG_INFO, req->correlation_id, "HttpRequest");
  member(&l, "method", req->method, 16);
  member(&l, "path", req->path, 256);
  if (req->query && *req->query) member(&l, "query", req->query, 256);
  member(&l, "client", req->client, 64);
  member(&l, "userAgent", gw_request_header(req, "User-Agent"), 128);
  putf(&l, ",\"bodyBytes\":%zu", req->body_len);
  emit(log, &l);
}

void gw_log_response(gw_log *log, const gw_request *req,
                     const gw_response *resp, double duration_ms) {
  wf_log_level level = resp->status >= 500   ? WF_LOG_ERROR
                       : resp->status >= 400 ? WF_LOG_WARN
                                             : WF_LOG_INFO;
  if (!log || !log->access || level < log->level) return;
  line l;
  head(&l, level, req->correlation_id, "HttpResponse");
  member(&l, "method", req->method, 16);
  member(&l, "path", req->path, 256);
  putf(&l, ",\"status\":%d,\"durationMs\":%.3f,\"bodyBytes\":%zu",
       resp->status, duration_ms, resp->body ? strlen(resp->body) : 0);
  emit(log, &l);
}
