/* wf executions: look into a store file (read-only, so it works while an
 * engine runs on it, or after one crashed): list its executions, newest
 * first, or show one with its history. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "workflow/workflow.h"

static const char USAGE[] =
    "usage: wf executions STORE [options]\n"
    "       wf executions STORE ARN [--history]\n"
    "\n"
    "List the executions a SQLite store keeps, newest first (a line each:\n"
    "status, start time, state machine, name, ARN), or show one as a JSON\n"
    "object. The store is opened read-only.\n"
    "\n"
    "  --status S      only RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED\n"
    "  --machine NAME  only executions of this state machine\n"
    "  --limit N       at most N (default 100; 0: all)\n"
    "  --history       with ARN: add \"events\", its history\n"
    "  -h, --help      show this help\n"
    "\n"
    "exit status: 0 success, 1 no such execution, 2 usage error or a store\n"
    "that cannot be read\n";

static const char *const STATUS[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                     "TIMED_OUT", "ABORTED"};

static void iso8601(char out[32], int64_t ms) {
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  char day[24];
  strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%.19s.%03dZ", day, (int)(ms % 1000));
}

static int print_line(const wf_store_execution *x, void *p) {
  (void)p;
  char start[32];
  iso8601(start, x->start_ms);
  printf("%-9s %s %s %s %s\n",
         x->status >= 0 && x->status <= 4 ? STATUS[x->status] : "?", start,
         x->machine_name, x->name, x->arn);
  return 0;
}

static json_t *text_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}

static int keep_record(const wf_store_execution *x, void *p) {
  char start[32], stop[32];
  iso8601(start, x->start_ms);
  iso8601(stop, x->stop_ms);
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s?, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I}",
      "executionArn", x->arn, "name", x->name, "stateMachineName",
      x->machine_name, "stateMachineArn", x->machine_arn, "status",
      x->status >= 0 && x->status <= 4 ? STATUS[x->status] : "?", "startDate",
      start, "stopDate", x->status ? json_string(stop) : json_null(), "input",
      text_or_null(x->input), "output", text_or_null(x->output), "error",
      text_or_null(x->error), "cause", text_or_null(x->cause), "events",
      (json_int_t)x->event_count);
  *(json_t **)p = o;
  return 1;
}

static int add_event(const wf_store_event *e, void *p) {
  json_t *ev = json_loads(e->json, 0, NULL);
  json_array_append_new(p, ev ? ev : json_string(e->json));
  return 0;
}

static int usage_error(const char *msg, const char *arg) {
  fprintf(stderr, "wf executions: %s%s%s\n\n%s", msg, arg ? ": " : "",
          arg ? arg : "", USAGE);
  return WF_EXIT_USAGE;
}

int wf_cli_executions(int argc, char **argv) {
  const char *path = NULL, *arn = NULL, *status = NULL, *machine = NULL;
  long limit = 100;
  int history = 0;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
      fputs(USAGE, stdout);
      return WF_EXIT_OK;
    } else if (strcmp(s, "--history") == 0) {
      history = 1;
    } else if ((strcmp(s, "--status") == 0 || strcmp(s, "--machine") == 0 ||
                strcmp(s, "--limit") == 0) &&
               i + 1 < argc) {
      const char *v = argv[++i];
      if (s[2] == 's') status = v;
      else if (s[2] == 'm') machine = v;
      else {
        char *end;
        limit = strtol(v, &end, 10);
        if (*end || end == v || limit < 0)
          return usage_error("--limit takes a whole number", v);
      }
    } else if (s[0] == '-') {
      return usage_error("unknown option", s);
    } else if (!path) {
      path = s;
    } else if (!arn) {
      arn = s;
    } else {
      return usage_error("unexpected argument", s);
    }
  }
  if (!path) return usage_error("a store file is required", NULL);
  int st = -1;
  for (int k = 0; status && k < 5; k++)
    if (strcmp(status, STATUS[k]) == 0) st = k;
  if (status && st < 0) return usage_error("unknown status", status);

  wf_store *s = NULL;
  wf_store_options so = WF_STORE_OPTIONS_INIT;
  so.read_only = true;
  wf_error err;
  if (wf_store_sqlite_open(&s, path, &so, &err) != WF_OK) {
    fprintf(stderr, "wf executions: %s\n", err.message);
    return WF_EXIT_USAGE;
  }
  int rc = WF_EXIT_OK;
  if (!arn) {
    wf_store_query q = WF_STORE_QUERY_INIT;
    q.status = st;
    q.machine_name = machine;
    q.limit = (size_t)limit;
    if (wf_store_list_executions(s, &q, print_line, NULL, &err) != WF_OK) {
      fprintf(stderr, "wf executions: %s\n", err.message);
      rc = WF_EXIT_USAGE;
    }
  } else {
    json_t *o = NULL;
    int grc = wf_store_get_execution(s, arn, keep_record, &o, &err);
    if (grc == WF_OK && history) {
      json_t *events = json_array();
      wf_store_read_events(s, arn, 0, false, 0, add_event, events, &err);
      json_object_set_new(o, "history", events);
    }
    if (grc == WF_OK && o) {
      /* 16 digits: an event's timestamp (seconds with milliseconds) reads
       * as written, not as its nearest double's 17 digits. Payloads are
       * strings inside the events. */
      char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(16));
      if (text) puts(text);
      free(text);
    } else {
      fprintf(stderr, "wf executions: %s\n", err.message);
      rc = grc == WF_ENOTFOUND ? WF_EXIT_FAILED : WF_EXIT_USAGE;
    }
    json_decref(o);
  }
  wf_store_free(s);
  return rc;
}
