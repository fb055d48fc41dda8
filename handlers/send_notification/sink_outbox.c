/* The outbox sink: one JSON line per message appended to a file, for a
 * person to read or another program to pick up. Each line goes out in one
 * write() on an O_APPEND descriptor under flock(): lines from concurrent
 * tasks, and from other processes sharing the file, never interleave.
 *
 * The file rotates by size: when a line would take it past maxBytes, the
 * writer holding the lock renames path.(keep-1) to path.keep ... path to
 * path.1 and starts a new file. Size check, rotation and append happen
 * under that one lock, so a line is never split, lost or written twice. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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

/* Rounds of open, lock and rotate before giving up: each round that finds
 * the file moved means another writer rotated it, which cannot go on for
 * long unless maxBytes is far below the traffic. */
#define ATTEMPTS 64

/* Room for the path (at most PATH_MAX * 2, see config_sinks.c) and ".N". */
typedef char numbered_path[PATH_MAX * 2 + 16];

static void numbered(numbered_path out, const char *path, int i) {
  snprintf(out, sizeof(numbered_path), "%s.%d", path, i);
}

/* Shift path.(keep-1) to path.keep (dropping the oldest) ... path to
 * path.1. Called holding the lock on the file at path: every other writer
 * checks, once it holds a lock, that its descriptor is still that file. */
static int rotate(const char *path, int keep) {
  if (keep == 0) return unlink(path);
  numbered_path from, to;
  for (int i = keep - 1; i >= 1; i--) {
    numbered(from, path, i);
    numbered(to, path, i + 1);
    if (rename(from, to) != 0 && errno != ENOENT) return -1;
  }
  numbered(to, path, 1);
  return rename(path, to);
}

/* Close fd (when open) for a failed step `step`, keeping its errno. */
static int give_up(int fd, const char *step, const char **what) {
  int e = errno;
  if (fd >= 0) close(fd);
  errno = e;
  *what = step;
  return -1;
}

/* A descriptor of the file now at o->path, locked, with room for `len`
 * more bytes or empty (a line longer than maxBytes goes to a file of its
 * own); -1 with errno and *what set on failure. */
static int open_for(const sn_outbox_config *o, size_t len,
                    const char **what) {
  for (int i = 0; i < ATTEMPTS; i++) {
    struct stat held, named;
    int fd = open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return give_up(fd, "open", what);
    if (flock(fd, LOCK_EX) != 0) return give_up(fd, "lock", what);
    if (fstat(fd, &held) != 0) return give_up(fd, "stat", what);
    /* Waiting for the lock, the file may have been rotated away. */
    errno = 0;
    if (stat(o->path, &named) != 0 || named.st_dev != held.st_dev ||
        named.st_ino != held.st_ino) {
      if (errno != 0 && errno != ENOENT) return give_up(fd, "stat", what);
      close(fd);
      continue;
    }
    unsigned long long size = (unsigned long long)held.st_size;
    if (o->max_bytes == 0 || size == 0 ||
        size + len <= (unsigned long long)o->max_bytes)
      return fd;
    if (rotate(o->path, o->keep) != 0) return give_up(fd, "rotate", what);
    close(fd); /* the next round creates the new file */
  }
  errno = EBUSY;
  return give_up(-1, "rotate (the file kept moving)", what);
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
  const char *what = NULL;
  int fd = open_for(o, n + 1, &what);
  if (fd < 0) {
    failed(d, o->path, what, errno);
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
