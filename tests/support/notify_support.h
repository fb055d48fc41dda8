/* Helpers for tests/test_handler_send_notification.c: a private directory
 * per test, the local SMTP and HTTP servers (smtp_recorder.py and
 * webhook_recorder.py beside this file) started on 127.0.0.1 and stopped
 * again, and reading the JSON-lines files they and the outbox write.
 * Header-only (static inline) so the test CMakeLists needs no change. */
#ifndef WF_TEST_NOTIFY_SUPPORT_H
#define WF_TEST_NOTIFY_SUPPORT_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a server may take to start (python3 and aiosmtpd imports). */
#define NT_READY_MS 20000
/* A server stops by itself after this long, should a test die before
 * stopping it and PR_SET_PDEATHSIG not reach it. */
#define NT_SERVER_LIFETIME "180"

/* snprintf that fails the test instead of cutting a path short. */
static inline void nt_fmt(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void nt_fmt(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  cr_assert(n >= 0 && (size_t)n < size, "path too long: %s", buf);
}

static inline void nt_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A new directory only this user can write: plugins are refused from
 * directories others can write to. */
static inline void nt_mkdtemp(char *out, size_t size) {
  const char *tmp = getenv("TMPDIR");
  snprintf(out, size, "%s/wf-notify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  cr_assert_not_null(mkdtemp(out), "mkdtemp: %s", strerror(errno));
}

static inline int nt_rm_entry(const char *path, const struct stat *st,
                              int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static inline void nt_rm_tree(const char *dir) {
  if (dir[0]) nftw(dir, nt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void nt_copy_file(const char *from, const char *to, mode_t mode) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  cr_assert(in >= 0, "cannot open %s: %s", from, strerror(errno));
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  cr_assert(out >= 0, "cannot create %s: %s", to, strerror(errno));
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    cr_assert_eq(write(out, buf, (size_t)n), n, "short write to %s", to);
  close(in);
  close(out);
}

/* ---- servers ------------------------------------------------------------ */

typedef struct nt_server {
  pid_t pid;
  int port;
  char out[PATH_MAX]; /* the JSON-lines record of what it received */
} nt_server;

/* Debian's interpreter has python3-aiosmtpd; a python3 earlier in PATH
 * (pyenv, a virtualenv) may not. $WFT_PYTHON overrides both. */
static inline const char *nt_python(void) {
  const char *env = getenv("WFT_PYTHON");
  if (env && *env) return env;
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* Start tests/support/<script> with --out and --ready in dir, plus extra
 * arguments (NULL-terminated, at most 4), and wait until it listens. */
static inline void nt_server_start(nt_server *s, const char *dir,
                                   const char *script, const char *name,
                                   const char *const *extra) {
  char path[PATH_MAX], ready[PATH_MAX], log[PATH_MAX];
  nt_fmt(path, sizeof path, "%s/tests/support/%s", WF_SOURCE_DIR, script);
  nt_fmt(s->out, sizeof s->out, "%s/%s.jsonl", dir, name);
  nt_fmt(ready, sizeof ready, "%s/%s.port", dir, name);
  nt_fmt(log, sizeof log, "%s/%s.log", dir, name);
  const char *argv[16] = {nt_python(), path, "--out", s->out, "--ready",
                          ready, "--lifetime", NT_SERVER_LIFETIME};
  size_t argc = 8;
  for (size_t i = 0; extra && extra[i] && argc < 14; i++) argv[argc++] = extra[i];
  argv[argc] = NULL;
  pid_t parent = getpid();
  s->pid = fork();
  cr_assert(s->pid >= 0, "fork: %s", strerror(errno));
  if (s->pid == 0) {
    /* Only async-signal-safe calls between fork and exec. The server dies
     * with the test process, however that ends. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  for (int waited = 0; waited < NT_READY_MS; waited += 20) {
    FILE *f = fopen(ready, "r");
    if (f) {
      int ok = fscanf(f, "%d", &s->port);
      fclose(f);
      cr_assert_eq(ok, 1, "%s wrote no port", script);
      return;
    }
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      s->pid = 0;
      char *text = NULL;
      FILE *lf = fopen(log, "r");
      size_t cap = 0;
      if (lf && getdelim(&text, &cap, '\0', lf) < 0) text = NULL;
      if (lf) fclose(lf);
      cr_assert_fail("%s exited before listening (is python3-aiosmtpd "
                     "installed? see scripts/install-deps.sh):\n%s",
                     script, text ? text : "");
    }
    nt_sleep_ms(20);
  }
  cr_assert_fail("%s did not listen within %d ms", script, NT_READY_MS);
}

/* Stop a server: SIGTERM, then SIGKILL after a second. Safe to call twice
 * and on a server never started. */
static inline void nt_server_stop(nt_server *s) {
  if (s->pid <= 0) return;
  kill(s->pid, SIGTERM);
  int status;
  for (int i = 0; i < 50; i++) {
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      s->pid = 0;
      return;
    }
    nt_sleep_ms(20);
  }
  kill(s->pid, SIGKILL);
  waitpid(s->pid, &status, 0);
  s->pid = 0;
}

/* A TCP port on 127.0.0.1 where nothing listens (bound, then released). */
static inline int nt_unused_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert(fd >= 0, "socket: %s", strerror(errno));
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

/* ---- JSON lines ----------------------------------------------------------- */

/* Every line of a JSON-lines file as an array (new reference); an absent
 * file is an empty array. Each line must be one JSON object. */
static inline json_t *nt_read_lines(const char *path) {
  json_t *all = json_array();
  FILE *f = fopen(path, "r");
  if (!f) return all;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    cr_assert_eq(line[n - 1], '\n', "a line of %s is not terminated", path);
    json_error_t je;
    json_t *v = json_loads(line, 0, &je);
    cr_assert(json_is_object(v), "%s: not one JSON object per line (%s): %s",
              path, je.text, line);
    json_array_append_new(all, v);
  }
  free(line);
  fclose(f);
  return all;
}

/* Wait until the file has at least n lines (servers record before they
 * answer, but the test may look before the write is flushed). */
static inline json_t *nt_wait_lines(const char *path, size_t n) {
  for (int i = 0; i < 250; i++) {
    json_t *all = nt_read_lines(path);
    if (json_array_size(all) >= n) return all;
    json_decref(all);
    nt_sleep_ms(20);
  }
  return nt_read_lines(path);
}

static inline const char *nt_str(json_t *obj, const char *key) {
  const char *s = json_string_value(json_object_get(obj, key));
  cr_assert_not_null(s, "no string member \"%s\"", key);
  return s;
}

#endif
