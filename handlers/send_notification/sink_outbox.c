/* The outbox sink: one JSON line per message appended to a file, for a
 * person to read or another program to pick up. Each line goes out in one
 * write() on an O_APPEND descriptor under flock(): lines from concurrent
 * tasks, and from other processes sharing the file, never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "send_notification.h"

static bool write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    s += w;
    n -= (size_t)w;
  }
  return true;
}

static void failed(sn_delivery *d, const char *path, const char *what,
                   int error) {
  d->outcome = SN_FAILED;
  sn_fmt(d->detail, sizeof d->detail, "outbox %s: %s: %s", path, what,
         strerror(error));
}

void sn_outbox_deliver(const sn_call *call, const sn_message *m,
                       sn_delivery *d) {
  const sn_outbox_config *o = &call->config->outbox;
  memset(d, 0, sizeof *d);
  json_t *line = sn_message_json(m);
  /* Keys in insertion order and non-ASCII text as it is: a person reads
   * this file. */
  char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
  json_decref(line);
  if (!text) {
    d->outcome = SN_FAILED;
    sn_fmt(d->detail, sizeof d->detail, "outbox: out of memory");
    return;
  }
  size_t n = strlen(text);
  text[n] = '\n'; /* json_dumps leaves room: the NUL becomes the newline */
  int fd = open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    failed(d, o->path, "open", errno);
  } else if (flock(fd, LOCK_EX) != 0) {
    failed(d, o->path, "lock", errno);
  } else if (!write_all(fd, text, n + 1)) {
    failed(d, o->path, "write", errno ? errno : EIO);
  } else if (o->fsync && fsync(fd) != 0) {
    failed(d, o->path, "fsync", errno);
  } else {
    d->outcome = SN_DELIVERED;
    sn_fmt(d->detail, sizeof d->detail, "appended to %s", o->path);
  }
  if (fd >= 0) close(fd); /* also releases the lock */
  free(text);
}
