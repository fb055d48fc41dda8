/* wf-gateway test helpers (see gateway_support.h). */
#include "gateway_support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

static const char HELLO[] =
    "{\"StartAt\":\"Hello\",\"States\":{\"Hello\":{\"Type\":\"Task\","
    "\"Resource\":\"arn:aws:lambda:us-east-1:123456789012:function:Hello\","
    "\"End\":true}}}";
static const char FAIL[] =
    "{\"StartAt\":\"F\",\"States\":{\"F\":{\"Type\":\"Fail\",\"Error\":"
    "\"Boom\",\"Cause\":\"it broke\"}}}";

static const char WAIT[] =
    "{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\","
    "\"Seconds\":1,\"End\":true}}}";

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

/* `text` with every `from` replaced by `to` (free()). */
static char *replace(const char *text, const char *from, const char *to) {
  size_t n = 0, fl = strlen(from), tl = strlen(to);
  for (const char *p = text; (p = strstr(p, from)); p += fl) n++;
  char *out = malloc(strlen(text) + n * tl + 1), *o = out;
  for (const char *p = text, *q; out; p = q + fl) {
    if (!(q = strstr(p, from))) {
      strcpy(o, p);
      break;
    }
    memcpy(o, p, (size_t)(q - p));
    o += q - p;
    memcpy(o, to, tl);
    o += tl;
  }
  return out;
}

/* Read stdout until the "listening on" line; the port, or -1. */
static int read_port(int fd, double deadline) {
  char buf[256];
  size_t n = 0;
  while (n < sizeof buf - 1) {
    struct pollfd p = {fd, POLLIN, 0};
    int left = (int)(deadline - now_ms());
    if (left <= 0 || poll(&p, 1, left) <= 0) return -1;
    ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
    if (r <= 0) return -1;
    n += (size_t)r;
    buf[n] = '\0';
    const char *l = strstr(buf, "listening on http://127.0.0.1:");
    if (l && strchr(l, '\n')) return atoi(l + strlen("listening on http://127.0.0.1:"));
  }
  return -1;
}

/* Start the gateway on the configuration in s->dir. */
static bool launch(gwt_server *s) {
  char *cfg = wft_strf("%s/gateway.yaml", s->dir);
  char *err = wft_strf("%s/stderr.txt", s->dir);
  int out[2];
  bool ok = false;
  if (cfg && err && pipe(out) == 0) {
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int e = open(err, O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(out[1], 1);
      if (e >= 0) dup2(e, 2);
      close(out[0]);
      execl(GWT_BINARY, GWT_BINARY, "--config", cfg, "--port", "0",
            (char *)NULL);
      _exit(127);
    }
    close(out[1]);
    s->pid = pid;
    s->port = pid > 0 ? read_port(out[0], now_ms() + 10000) : -1;
    close(out[0]);
    ok = s->port > 0;
  }
  free(cfg);
  free(err);
  return ok;
}

bool gwt_start(gwt_server *s, const char *config) {
  memset(s, 0, sizeof *s);
  s->pid = -1;
  snprintf(s->dir, sizeof s->dir, "/tmp/wf-gateway-test-XXXXXX");
  if (!mkdtemp(s->dir)) return false;
  snprintf(s->log, sizeof s->log, "%s/gateway.log", s->dir);
  char *a = replace(config, "@DIR@", s->dir);
  char *b = a ? replace(a, "@PLUGINS@", GWT_PLUGINS) : NULL;
  char *text = b ? replace(b, "@SOURCE@", WF_SOURCE_DIR) : NULL;
  char *cfg = wft_strf("%s/gateway.yaml", s->dir);
  char *hello = wft_strf("%s/hello.json", s->dir);
  char *fail = wft_strf("%s/fail.json", s->dir);
  char *wait = wft_strf("%s/wait.json", s->dir);
  bool ok = text && write_file(cfg, text) && write_file(hello, HELLO) &&
            write_file(fail, FAIL) && write_file(wait, WAIT);
  free(a);
  free(b);
  free(text);
  free(cfg);
  free(hello);
  free(fail);
  free(wait);
  return ok && launch(s);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* Signal the gateway and reap it (15 s, then SIGKILL); its status. */
static int halt(gwt_server *s, int sig) {
  int status = -1;
  if (s->pid <= 0) return status;
  kill(s->pid, sig ? sig : SIGTERM);
  double deadline = now_ms() + 15000;
  int st;
  pid_t r;
  while ((r = waitpid(s->pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
    usleep(10000);
  if (r == 0) {
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
  }
  status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (r == 0) status = 128 + SIGKILL;
  s->pid = -1;
  if (status != 0 && sig != SIGKILL) { /* show why */
    char *path = wft_strf("%s/stderr.txt", s->dir);
    char *err = wft_read_file(path, NULL);
    fprintf(stderr, "wf-gateway exited with %d; its stderr:\n%.4000s\n",
            status, err ? err : "(none)");
    free(err);
    free(path);
  }
  return status;
}

int gwt_stop(gwt_server *s, int sig) {
  int status = halt(s, sig);
  if (s->dir[0]) {
    nftw(s->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    s->dir[0] = '\0';
  }
  return status;
}

bool gwt_restart(gwt_server *s, int sig, int *status) {
  int st = halt(s, sig);
  if (status) *status = st;
  return launch(s);
}

gwt_server gwt_srv = {.pid = -1};

void gwt_finish(void) {
  int status = gwt_stop(&gwt_srv, SIGTERM);
  cr_assert_eq(status, 0, "the gateway exited with %d after SIGTERM (see its "
               "stderr)", status);
}

void gwt_fini(void) { gwt_stop(&gwt_srv, SIGKILL); }

int gwt_run(const char *const *argv, char **err) {
  char path[] = "/tmp/wf-gateway-err-XXXXXX";
  int fd = mkstemp(path);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(fd, 2);
    execv(GWT_BINARY, (char *const *)argv);
    _exit(127);
  }
  close(fd);
  int st = 0;
  double deadline = now_ms() + 10000;
  pid_t r;
  while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
    usleep(10000);
  if (r == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
  }
  if (err) *err = wft_read_file(path, NULL);
  unlink(path);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- HTTP -------------------------------------------------------------- */

typedef struct growing {
  char *s;
  size_t n;
} growing;

static size_t collect(char *data, size_t size, size_t n, void *arg) {
  growing *g = arg;
  char *s = realloc(g->s, g->n + size * n + 1);
  if (!s) return 0;
  memcpy(s + g->n, data, size * n);
  g->n += size * n;
  s[g->n] = '\0';
  g->s = s;
  return size * n;
}

gwt_response gwt_request(const gwt_server *s, const char *method,
                         const char *path, const char *const *headers,
                         const char *body, size_t body_len) {
  gwt_response r = {0};
  growing h = {0}, b = {0};
  CURL *c = curl_easy_init();
  if (!c) return r;
  char *url = wft_strf("http://127.0.0.1:%d%s", s->port, path);
  struct curl_slist *list = curl_slist_append(NULL, "Expect:");
  for (size_t i = 0; headers && headers[i]; i++)
    list = curl_slist_append(list, headers[i]);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (strcmp(method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
  /* A request sent with "Expect: 100-continue" waits for the gateway's
   * answer rather than curl's default second: on a loaded machine the
   * body would otherwise start, the gateway's early 413 and close would
   * meet it, and the reset could lose the answer (a flake seen in CI). */
  curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  /* Paths are sent as the tests write them, escapes and all. */
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  free(url);
  r.headers = h.s ? h.s : strdup("");
  r.body = b.s ? b.s : strdup("");
  r.json = json_loads(r.body, JSON_DECODE_ANY, NULL);
  return r;
}

gwt_response gwt_process(const gwt_server *s, const char *body) {
  const char *headers[] = {"Content-Type: application/json",
                           "x-api-key: " GWT_API_KEY, NULL};
  return gwt_request(s, "POST", "/process", headers, body, strlen(body));
}

char *gwt_header(const gwt_response *r, const char *name) {
  size_t n = strlen(name);
  for (const char *l = r->headers; l && *l;) {
    const char *end = strstr(l, "\r\n");
    if (!end) end = l + strlen(l);
    if ((size_t)(end - l) > n && strncasecmp(l, name, n) == 0 && l[n] == ':') {
      const char *v = l + n + 1;
      while (*v == ' ') v++;
      return strndup(v, (size_t)(end - v));
    }
    l = *end ? end + 2 : end;
  }
  return NULL;
}

void gwt_response_free(gwt_response *r) {
  free(r->headers);
  free(r->body);
  json_decref(r->json);
  memset(r, 0, sizeof *r);
}

char *gwt_raw(const gwt_server *s, const char *bytes, size_t n) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)s->port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  growing g = {0};
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    for (size_t off = 0; off < n;) {
      ssize_t w = send(fd, bytes + off, n - off, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += (size_t)w;
    }
    double deadline = now_ms() + 5000;
    char buf[4096];
    for (;;) {
      struct pollfd p = {fd, POLLIN, 0};
      int left = (int)(deadline - now_ms());
      if (left <= 0 || poll(&p, 1, left) <= 0) break;
      ssize_t r = recv(fd, buf, sizeof buf, 0);
      if (r <= 0) break;
      collect(buf, 1, (size_t)r, &g);
    }
  }
  if (fd >= 0) close(fd);
  return g.s ? g.s : strdup("");
}

/* ---- executions and logs ----------------------------------------------- */

json_t *gwt_wait_execution(const gwt_server *s, const char *id) {
  const char *headers[] = {"x-api-key: " GWT_API_KEY, NULL};
  char *path = wft_strf("/executions/%s", id);
  double deadline = now_ms() + 10000;
  json_t *result = NULL;
  while (!result && now_ms() < deadline) {
    gwt_response r = gwt_request(s, "GET", path, headers, NULL, 0);
    const char *st = json_string_value(json_object_get(r.json, "status"));
    if (r.status == 200 && st && strcmp(st, "RUNNING") != 0)
      result = json_incref(r.json);
    gwt_response_free(&r);
    if (!result) usleep(20000);
  }
  free(path);
  return result;
}

json_t *gwt_log_lines(const gwt_server *s, const char *needle, size_t min) {
  double deadline = now_ms() + 3000;
  for (;;) {
    char *text = wft_read_file(s->log, NULL);
    json_t *lines = json_array();
    bool bad = false;
    for (char *l = text, *next; l && *l; l = next) {
      next = strchr(l, '\n');
      if (next) *next++ = '\0';
      else next = l + strlen(l);
      json_t *v = json_loads(l, 0, NULL);
      if (!json_is_object(v)) {
        fprintf(stderr, "gateway log: not a JSON object: %s\n", l);
        bad = true;
      }
      if (v && (!needle || strstr(l, needle))) json_array_append(lines, v);
      json_decref(v);
    }
    free(text);
    if (bad) {
      json_decref(lines);
      return NULL;
    }
    if (json_array_size(lines) >= min || now_ms() > deadline) return lines;
    json_decref(lines);
    usleep(50000);
  }
}
