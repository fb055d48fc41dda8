/* The engine against the executions AWS Step Functions ran
 * (../shared/conformance/executions, read at run time): every case goes
 * through the built CLI, `wf run DEF --input INPUT --virtual-time
 * [--mock-config mocks.json]`, and its printed result is compared with
 * expect.json as the folder's README says: the status; for SUCCEEDED the
 * output as typed JSON values (1.0 is not 1, key order is free, `ignore`
 * paths must exist but are not compared); otherwise error and cause as
 * exact strings, null meaning the field is absent. The test prints the
 * pass count per tag and fails listing every in-scope mismatch. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

/* Cases carrying any of these tags belong to features not landed yet and
 * do not count. Remove a tag here once its feature lands. */
static const char *const OUT_OF_SCOPE[] = {""};

/* Out-of-scope cases excluded only by these tags are still run, and their
 * pass count reported (never failing the test), to show when a tag can
 * leave OUT_OF_SCOPE. None today. */
static const char *const PROBED[] = {""};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define JOBS 4                /* child processes at once */
#define CASE_TIMEOUT_MS 60000 /* a case taking longer has hung */
#define SHOW_MAX 600          /* characters of JSON shown per mismatch */

typedef enum { SCOPE_IN, SCOPE_PROBED, SCOPE_OUT } scope;

typedef struct conf_case {
  char *name;
  char *dir;
  char **tags;
  size_t ntags;
  scope scope;
  /* Filled by the run. */
  char *out, *err;
  size_t out_len, err_len;
  int wait_status;
  bool timed_out, spawn_failed;
  bool passed;
  char *detail; /* why it failed */
} conf_case;

static bool in_list(const char *const *list, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i], s) == 0) return true;
  return false;
}

static bool file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* --- reading the cases ------------------------------------------------- */

static int cmp_cases(const void *a, const void *b) {
  return strcmp(((const conf_case *)a)->name, ((const conf_case *)b)->name);
}

static scope case_scope(char **tags, size_t n) {
  bool out = false, probed_only = true;
  for (size_t i = 0; i < n; i++) {
    if (!in_list(OUT_OF_SCOPE, NELEM(OUT_OF_SCOPE), tags[i])) continue;
    out = true;
    if (!in_list(PROBED, NELEM(PROBED), tags[i])) probed_only = false;
  }
  return !out ? SCOPE_IN : probed_only ? SCOPE_PROBED : SCOPE_OUT;
}

static conf_case *list_cases(const char *base, size_t *count) {
  DIR *d = opendir(base);
  cr_assert_not_null(d, "cannot open %s (set WF_SHARED_DIR)", base);
  size_t n = 0, cap = 128;
  conf_case *cases = calloc(cap, sizeof *cases);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char *dir = wft_strf("%s/%s", base, e->d_name);
    char *tags_path = wft_strf("%s/tags.txt", dir);
    char *text = wft_read_file(tags_path, NULL);
    free(tags_path);
    if (!text) {
      free(dir);
      continue;
    }
    if (n == cap) {
      cases = realloc(cases, (cap *= 2) * sizeof *cases);
      memset(cases + n, 0, (cap - n) * sizeof *cases);
    }
    conf_case *c = &cases[n++];
    c->name = strdup(e->d_name);
    c->dir = dir;
    size_t tcap = 4;
    c->tags = malloc(tcap * sizeof *c->tags);
    for (char *save = NULL, *t = strtok_r(text, " \t\r\n", &save); t;
         t = strtok_r(NULL, " \t\r\n", &save)) {
      if (c->ntags == tcap)
        c->tags = realloc(c->tags, (tcap *= 2) * sizeof *c->tags);
      c->tags[c->ntags++] = strdup(t);
    }
    free(text);
    c->scope = case_scope(c->tags, c->ntags);
  }
  closedir(d);
  qsort(cases, n, sizeof *cases, cmp_cases);
  *count = n;
  return cases;
}

static void free_cases(conf_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    conf_case *c = &cases[i];
    for (size_t t = 0; t < c->ntags; t++) free(c->tags[t]);
    free(c->tags);
    free(c->name);
    free(c->dir);
    free(c->out);
    free(c->err);
    free(c->detail);
  }
  free(cases);
}

/* --- running the CLI: a small pool of children ------------------------- */

typedef struct job {
  conf_case *c;
  pid_t pid;
  int fd[2]; /* stdout, stderr read ends; -1 once at EOF */
  size_t cap[2];
  struct timespec start;
  bool killed;
} job;

static int64_t elapsed_ms(const struct timespec *since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)(now.tv_sec - since->tv_sec) * 1000 +
         (now.tv_nsec - since->tv_nsec) / 1000000;
}

static char **case_argv(const conf_case *c, const char *wf) {
  char *mocks = wft_strf("%s/mocks.json", c->dir);
  bool has_mocks = file_exists(mocks);
  char **argv = calloc(10, sizeof *argv);
  size_t n = 0;
  argv[n++] = strdup(wf);
  argv[n++] = strdup("run");
  argv[n++] = wft_strf("%s/definition.json", c->dir);
  argv[n++] = strdup("--input");
  argv[n++] = wft_strf("%s/input.json", c->dir);
  argv[n++] = strdup("--virtual-time");
  if (has_mocks) {
    argv[n++] = strdup("--mock-config");
    argv[n++] = mocks;
  } else {
    free(mocks);
  }
  return argv;
}

static void free_argv(char **argv) {
  for (size_t i = 0; argv[i]; i++) free(argv[i]);
  free(argv);
}

static bool job_start(job *j, conf_case *c, const char *wf) {
  int out[2], err[2];
  memset(j, 0, sizeof *j);
  j->c = c;
  j->fd[0] = j->fd[1] = -1;
  if (pipe2(out, O_CLOEXEC) != 0) {
    c->spawn_failed = true;
    c->err = wft_strf("pipe2: %s", strerror(errno));
    return false;
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    c->spawn_failed = true;
    c->err = wft_strf("pipe2: %s", strerror(errno));
    close(out[0]);
    close(out[1]);
    return false;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  char **argv = case_argv(c, wf);
  int rc = posix_spawn(&j->pid, wf, &fa, NULL, argv, environ);
  free_argv(argv);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    c->spawn_failed = true;
    c->err = wft_strf("posix_spawn %s: %s", wf, strerror(rc));
    return false;
  }
  j->fd[0] = out[0];
  j->fd[1] = err[0];
  clock_gettime(CLOCK_MONOTONIC, &j->start);
  return true;
}

/* Read what is ready on one of the job's pipes. */
static void job_read(job *j, int which) {
  char **buf = which == 0 ? &j->c->out : &j->c->err;
  size_t *len = which == 0 ? &j->c->out_len : &j->c->err_len;
  if (j->cap[which] - *len < 4097) {
    j->cap[which] = j->cap[which] ? j->cap[which] * 2 : 16384;
    *buf = realloc(*buf, j->cap[which]);
  }
  ssize_t r = read(j->fd[which], *buf + *len, j->cap[which] - *len - 1);
  if (r < 0 && errno == EINTR) return;
  if (r <= 0) {
    close(j->fd[which]);
    j->fd[which] = -1;
  } else {
    *len += (size_t)r;
  }
  (*buf)[*len] = '\0';
}

static void run_cases(conf_case **todo, size_t n, const char *wf) {
  job jobs[JOBS];
  size_t next = 0, active = 0;
  for (size_t k = 0; k < JOBS; k++) jobs[k].c = NULL;
  while (next < n || active > 0) {
    for (size_t k = 0; k < JOBS && next < n; k++) {
      if (jobs[k].c) continue;
      if (job_start(&jobs[k], todo[next], wf))
        active++;
      else
        jobs[k].c = NULL;
      next++;
    }
    struct pollfd pfd[2 * JOBS];
    int owner[2 * JOBS], which[2 * JOBS];
    nfds_t np = 0;
    for (size_t k = 0; k < JOBS; k++) {
      if (!jobs[k].c) continue;
      for (int w = 0; w < 2; w++) {
        if (jobs[k].fd[w] < 0) continue;
        pfd[np] = (struct pollfd){.fd = jobs[k].fd[w], .events = POLLIN};
        owner[np] = (int)k;
        which[np++] = w;
      }
    }
    if (np > 0 && poll(pfd, np, 200) > 0)
      for (nfds_t i = 0; i < np; i++)
        if (pfd[i].revents) job_read(&jobs[owner[i]], which[i]);
    for (size_t k = 0; k < JOBS; k++) {
      job *j = &jobs[k];
      if (!j->c) continue;
      if (!j->killed && elapsed_ms(&j->start) > CASE_TIMEOUT_MS) {
        kill(j->pid, SIGKILL);
        j->killed = j->c->timed_out = true;
      }
      if (j->fd[0] >= 0 || j->fd[1] >= 0) continue;
      while (waitpid(j->pid, &j->c->wait_status, 0) < 0 && errno == EINTR) {
      }
      j->c = NULL;
      active--;
    }
  }
}

/* --- judging one case -------------------------------------------------- */

static char *show(const json_t *v) {
  char *s =
      v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(none)");
  if (s && strlen(s) > SHOW_MAX) strcpy(s + SHOW_MAX - 3, "...");
  return s;
}

static bool same_optional_string(const json_t *want, const json_t *got) {
  /* null or missing in expect.json: AWS reported no such field. */
  if (!want || json_is_null(want)) return got == NULL;
  return got && json_is_string(got) && wft_json_equal(want, got);
}

/* The exit status the CLI documents for a result. */
static bool exit_status_ok(int ws, const char *status) {
  int want = strcmp(status, "SUCCEEDED") == 0 ? 0 : 1;
  return WIFEXITED(ws) && WEXITSTATUS(ws) == want;
}

static void judge(conf_case *c) {
  char *path = wft_strf("%s/expect.json", c->dir);
  json_error_t jerr;
  json_t *expect = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  free(path);
  if (!expect) {
    c->detail = wft_strf("expect.json: line %d: %s", jerr.line, jerr.text);
    return;
  }
  if (c->spawn_failed || c->timed_out || !WIFEXITED(c->wait_status)) {
    c->detail = c->spawn_failed ? strdup(c->err)
                : c->timed_out
                    ? wft_strf("no result within %d s", CASE_TIMEOUT_MS / 1000)
                    : wft_strf("wf killed by signal %d; stderr: %.300s",
                               WTERMSIG(c->wait_status), c->err ? c->err : "");
    json_decref(expect);
    return;
  }
  json_t *got =
      c->out ? json_loads(c->out, JSON_REJECT_DUPLICATES, &jerr) : NULL;
  const char *want_status =
      json_string_value(json_object_get(expect, "status"));
  const char *got_status = json_string_value(json_object_get(got, "status"));
  bool ok =
      got && want_status && got_status && strcmp(want_status, got_status) == 0;
  char *why = NULL;
  if (!got) {
    why =
        wft_strf("stdout is not one JSON object (%s); exit %d; stderr: %.300s",
                 jerr.text, WEXITSTATUS(c->wait_status), c->err ? c->err : "");
  } else if (ok && strcmp(want_status, "SUCCEEDED") == 0) {
    json_t *want_out = json_deep_copy(json_object_get(expect, "output"));
    json_t *got_out = json_deep_copy(json_object_get(got, "output"));
    size_t ni;
    json_t *ignore = json_object_get(expect, "ignore");
    json_t *ig;
    json_array_foreach(ignore, ni, ig) {
      const char *p = json_string_value(ig);
      if (!p || !got_out || !wft_json_mark(got_out, p)) {
        why = wft_strf("ignored path %s is missing from our output",
                       p ? p : "(not a string)");
        ok = false;
        break;
      }
      if (want_out) wft_json_mark(want_out, p);
    }
    if (ok && !(want_out && got_out && wft_json_equal(want_out, got_out)))
      ok = false;
    json_decref(want_out);
    json_decref(got_out);
  } else if (ok) {
    ok = same_optional_string(json_object_get(expect, "error"),
                              json_object_get(got, "error")) &&
         same_optional_string(json_object_get(expect, "cause"),
                              json_object_get(got, "cause"));
  }
  if (ok && !exit_status_ok(c->wait_status, got_status)) {
    ok = false;
    why =
        wft_strf("exit status %d for %s; stderr: %.300s",
                 WEXITSTATUS(c->wait_status), got_status, c->err ? c->err : "");
  }
  if (!ok) {
    json_t *e = json_deep_copy(expect), *g = json_deep_copy(got);
    json_object_del(e, "ignore");
    char *es = show(e);
    char *gs = got ? show(g) : wft_strf("%.*s", SHOW_MAX, c->out ? c->out : "");
    c->detail = wft_strf("%s%sexpected %s\n      got      %s", why ? why : "",
                         why ? "\n      " : "", es, gs);
    free(es);
    free(gs);
    json_decref(e);
    json_decref(g);
  }
  free(why);
  c->passed = ok;
  json_decref(got);
  json_decref(expect);
}

/* --- the tests ---------------------------------------------------------- */

typedef struct tag_count {
  const char *tag;
  size_t passed, total;
} tag_count;

static int cmp_tags(const void *a, const void *b) {
  return strcmp(((const tag_count *)a)->tag, ((const tag_count *)b)->tag);
}

/* Per-tag pass counts over the cases of one scope, sorted by tag. */
static tag_count *count_tags(const conf_case *cases, size_t n, scope s,
                             size_t *ntags) {
  tag_count *counts = NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (cases[i].scope != s) continue;
    for (size_t t = 0; t < cases[i].ntags; t++) {
      size_t j = 0;
      while (j < k && strcmp(counts[j].tag, cases[i].tags[t]) != 0) j++;
      if (j == k) {
        counts = realloc(counts, (k + 1) * sizeof *counts);
        counts[k++] = (tag_count){cases[i].tags[t], 0, 0};
      }
      counts[j].total++;
      if (cases[i].passed) counts[j].passed++;
    }
  }
  if (k) qsort(counts, k, sizeof *counts, cmp_tags);
  *ntags = k;
  return counts;
}

Test(conformance_executions, in_scope_cases_behave_as_aws_recorded,
     .timeout = 600) {
  const char *wf = WF_BINARY_DIR "/examples/wf";
  cr_assert(access(wf, X_OK) == 0, "%s is not built", wf);
  char *base = wft_strf("%s/conformance/executions", wft_shared_dir());
  size_t n;
  conf_case *cases = list_cases(base, &n);
  cr_assert_gt(n, 0, "%s holds no cases", base);

  conf_case **todo = malloc(n * sizeof *todo);
  size_t ntodo = 0, nin = 0, nprobed = 0;
  for (size_t i = 0; i < n; i++) {
    if (cases[i].scope == SCOPE_OUT) continue;
    todo[ntodo++] = &cases[i];
    nin += cases[i].scope == SCOPE_IN;
    nprobed += cases[i].scope == SCOPE_PROBED;
  }
  run_cases(todo, ntodo, wf);
  for (size_t i = 0; i < ntodo; i++) judge(todo[i]);
  free(todo);

  size_t passed_in = 0, passed_probed = 0;
  for (size_t i = 0; i < n; i++) {
    passed_in += cases[i].scope == SCOPE_IN && cases[i].passed;
    passed_probed += cases[i].scope == SCOPE_PROBED && cases[i].passed;
  }
  size_t ntags;
  tag_count *counts = count_tags(cases, n, SCOPE_IN, &ntags);
  for (size_t t = 0; t < ntags; t++)
    fprintf(stderr, "conformance %s: %zu/%zu\n", counts[t].tag,
            counts[t].passed, counts[t].total);
  free(counts);
  fprintf(stderr, "conformance ALL: in-scope %zu/%zu (%zu out of scope)\n",
          passed_in, nin, n - nin);

  /* Not yet in scope: reported for the step that brings them in. */
  counts = count_tags(cases, n, SCOPE_PROBED, &ntags);
  fprintf(stderr,
          "conformance out of scope, run for information: %zu/%zu pass (",
          passed_probed, nprobed);
  for (size_t t = 0; t < ntags; t++)
    fprintf(stderr, "%s%s %zu/%zu", t ? ", " : "", counts[t].tag,
            counts[t].passed, counts[t].total);
  fprintf(stderr, ")\n");
  free(counts);
  counts = count_tags(cases, n, SCOPE_OUT, &ntags);
  fprintf(stderr, "conformance out of scope, not run: %zu (",
          n - nin - nprobed);
  for (size_t t = 0; t < ntags; t++)
    fprintf(stderr, "%s%s %zu", t ? ", " : "", counts[t].tag, counts[t].total);
  fprintf(stderr, ")\n");
  free(counts);

  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  for (size_t i = 0; i < n; i++) {
    if (cases[i].scope != SCOPE_IN || cases[i].passed) continue;
    fprintf(out, "  %s [", cases[i].name);
    for (size_t t = 0; t < cases[i].ntags; t++)
      fprintf(out, "%s%s", t ? " " : "", cases[i].tags[t]);
    fprintf(out, "]: %s\n", cases[i].detail ? cases[i].detail : "");
  }
  fclose(out);
  cr_expect_eq(passed_in, nin, "conformance: %zu in-scope case(s) fail:\n%s",
               nin - passed_in, text);
  free(text);
  free_cases(cases, n);
  free(base);
}

/* The comparison the runner relies on (support.c): a comparison that
 * cannot fail proves nothing. */
Test(conformance_executions,
     comparison_keeps_number_forms_and_ignores_key_order) {
  static const char *const a = "{\"x\":1,\"y\":[1.0,\"s\",null,true]}";
  cr_assert(wft_json_text_equal(a, "{\"y\":[1.0,\"s\",null,true],\"x\":1}"));
  cr_assert(wft_json_text_equal("[2.50,1e2]", "[2.5,100.0]"));
  cr_assert_not(
      wft_json_text_equal(a, "{\"x\":1.0,\"y\":[1.0,\"s\",null,true]}"));
  cr_assert_not(wft_json_text_equal(a, "{\"x\":1,\"y\":[1,\"s\",null,true]}"));
  cr_assert_not(
      wft_json_text_equal(a, "{\"x\":1,\"y\":[1.0,\"s\",null,false]}"));
  cr_assert_not(
      wft_json_text_equal(a, "{\"x\":1,\"y\":[1.0,\"s\",null,true],\"z\":0}"));
  cr_assert_not(
      wft_json_text_equal("{\"x\":1,\"y\":[1.0,\"s\",null,true],\"z\":0}", a));
  cr_assert_not(wft_json_text_equal("[1.0,\"s\"]", "[1.0,\"s\",null]"));
  cr_assert_not(wft_json_text_equal("\"a\\u0000b\"", "\"a\\u0000c\""));
  cr_assert_not(wft_json_text_equal("null", NULL));
}

Test(conformance_executions, ignore_paths_must_exist_and_accept_brackets) {
  json_t *v =
      json_loads("{\"a\":{\"b c\":[{\"d\":1},{\"d\":2}]},\"e\":3}", 0, NULL);
  cr_assert(wft_json_mark(v, "$.e"));
  cr_assert(wft_json_mark(v, "$.a['b c'][1].d"));
  cr_assert(wft_json_mark(v, "$[\"a\"]['b c'][0]"));
  cr_assert(wft_json_mark(v, "$"));
  cr_assert_not(wft_json_mark(v, "$.a.missing"));
  cr_assert_not(wft_json_mark(v, "$.a['b c'][5]"));
  cr_assert_not(wft_json_mark(v, "$.e.deeper"));
  cr_assert_not(wft_json_mark(v, "a.b"));
  cr_assert_not(wft_json_mark(v, "$..a"));
  cr_assert_not(wft_json_mark(v, "$['a"));
  json_t *want = json_loads(
      "{\"a\":{\"b c\":[\"<ignored>\",{\"d\":\"<ignored>\"}]},"
      "\"e\":\"<ignored>\"}",
      0, NULL);
  cr_assert(wft_json_equal(v, want));
  json_decref(want);
  json_decref(v);
}

/* Inputs are re-serialised by the runners: reals must keep their form. */
Test(conformance_executions, dump_keeps_reals_short_and_real) {
  json_t *v = json_loads(
      "[1.1,1.0,0.1,10000000.0,1e300,2.5E-7,-0.5,0.00015,"
      "{\"k\":[\"\\u00e9\\n\",true,null,-3]}]",
      0, NULL);
  char *s = wft_json_dump(v);
  cr_assert_str_eq(s,
                   "[1.1,1.0,0.1,10000000.0,1e+300,2.5e-07,-0.5,0.00015,"
                   "{\"k\":[\"\u00e9\\n\",true,null,-3]}]");
  json_t *back = json_loads(s, 0, NULL);
  cr_assert(wft_json_equal(v, back));
  json_decref(back);
  free(s);
  json_decref(v);
}
