/* wf run: run one execution and print its result as one JSON object. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "workflow/workflow.h"

static const char USAGE[] =
    "usage: wf run DEFINITION [options]\n"
    "\n"
    "Run one execution of a state machine (JSON, or YAML for .yaml/.yml) and\n"
    "print exactly one JSON object on stdout:\n"
    "  {\"status\":\"SUCCEEDED\",\"output\":...}\n"
    "  {\"status\":\"FAILED\",\"error\":...,\"cause\":...}   (likewise TIMED_OUT,\n"
    "  ABORTED; a field AWS would not report is left out)\n"
    "\n"
    "options:\n"
    "  --input FILE|-          the execution input from a file or stdin\n"
    "  --input-json JSON       the execution input given inline (default {})\n"
    "  --name NAME             the execution name\n"
    "  --correlation-id ID     carried into logs and handlers (default:\n"
    "                          the execution name)\n"
    "  --mock-config FILE      a Step Functions Local MockConfigFile: Task\n"
    "                          states named in the test case get its mocked\n"
    "                          responses\n"
    "  --test-case NAME        the test case to use (optional when the file\n"
    "                          has one machine with one test case)\n"
    "  --state-machine NAME    the state machine's name (default: the mock\n"
    "                          file's only machine, else the file's base name)\n"
    "  --type STANDARD|EXPRESS the machine type (default STANDARD)\n"
    "  --plugin PATH.so        load a handler plugin (repeatable); its\n"
    "                          directory is trusted for loading\n"
    "  --plugin-config FILE    JSON configuration of the preceding --plugin\n"
    "  --log FILE|-            write structured JSON log lines (- stderr)\n"
    "  --virtual-time          waits, back-offs and timeouts take no real time\n"
    "  --history               add \"history\": the execution's events\n"
    "  --store PATH            keep the execution in the SQLite store PATH\n"
    "                          (created when missing) instead of memory;\n"
    "                          executions a killed run left there resume\n"
    "  -h, --help              show this help\n"
    "\n"
    "exit status: 0 SUCCEEDED; 1 FAILED, TIMED_OUT or ABORTED; 2 usage error,\n"
    "unreadable file or invalid definition (diagnostics on stderr)\n";

typedef struct run_args {
  const char *definition;
  const char *input_file, *input_json, *name, *correlation_id;
  const char *mock_file, *test_case, *machine_name, *log_path, *store;
  wf_machine_type type;
  const char **plugins;
  const char **plugin_configs; /* parallel to plugins; NULL: "{}" */
  int nplugins;
  int virtual_time, history;
} run_args;

static char *read_all(const char *path) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 65536, n = 0, r;
  char *buf = malloc(cap);
  while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 1 == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        buf = NULL;
      }
      buf = nb;
    }
  }
  if (f != stdin) fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

static int usage_error(const char *msg, const char *arg) {
  fprintf(stderr, "wf run: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  return WF_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, run_args *a) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(field)                                          \
  do {                                                       \
    if (!v) return usage_error("missing value for", s);      \
    a->field = v;                                            \
    i++;                                                     \
  } while (0)
    if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
      fputs(USAGE, stdout);
      return -1;
    } else if (strcmp(s, "--input") == 0) TAKE(input_file);
    else if (strcmp(s, "--input-json") == 0) TAKE(input_json);
    else if (strcmp(s, "--name") == 0) TAKE(name);
    else if (strcmp(s, "--correlation-id") == 0) TAKE(correlation_id);
    else if (strcmp(s, "--mock-config") == 0) TAKE(mock_file);
    else if (strcmp(s, "--test-case") == 0) TAKE(test_case);
    else if (strcmp(s, "--state-machine") == 0) TAKE(machine_name);
    else if (strcmp(s, "--log") == 0) TAKE(log_path);
    else if (strcmp(s, "--store") == 0) TAKE(store);
    else if (strcmp(s, "--virtual-time") == 0) a->virtual_time = 1;
    else if (strcmp(s, "--history") == 0) a->history = 1;
    else if (strcmp(s, "--type") == 0) {
      if (!v || (strcmp(v, "STANDARD") && strcmp(v, "EXPRESS")))
        return usage_error("--type takes STANDARD or EXPRESS", NULL);
      a->type = strcmp(v, "EXPRESS") == 0 ? WF_MACHINE_EXPRESS
                                          : WF_MACHINE_STANDARD;
      i++;
    } else if (strcmp(s, "--plugin") == 0) {
      if (!v) return usage_error("missing value for", s);
      a->plugin_configs[a->nplugins] = NULL;
      a->plugins[a->nplugins++] = v;
      i++;
    } else if (strcmp(s, "--plugin-config") == 0) {
      if (!v) return usage_error("missing value for", s);
      if (!a->nplugins)
        return usage_error("--plugin-config must follow a --plugin", v);
      a->plugin_configs[a->nplugins - 1] = v;
      i++;
    } else if (s[0] == '-' && s[1]) {
      return usage_error("unknown option", s);
    } else if (!a->definition) {
      a->definition = s;
    } else {
      return usage_error("unexpected argument", s);
    }
#undef TAKE
  }
  if (!a->definition) return usage_error("no DEFINITION given", NULL);
  if (a->input_file && a->input_json)
    return usage_error("give --input or --input-json, not both", NULL);
  if (a->test_case && !a->mock_file)
    return usage_error("--test-case needs --mock-config", NULL);
  return 0;
}

/* The machine name and test case implied by a mock configuration. */
static int pick_mock_case(json_t *cfg, run_args *a, char **name_out,
                          const char **case_out) {
  json_t *machines = json_object_get(cfg, "StateMachines");
  const char *mname = a->machine_name;
  if (!mname) {
    if (json_object_size(machines) != 1)
      return usage_error("the mock configuration has several state machines; "
                         "name one with --state-machine", NULL);
    void *it = json_object_iter(machines);
    mname = json_object_iter_key(it);
  }
  json_t *cases = json_object_get(json_object_get(machines, mname),
                                  "TestCases");
  if (!cases) return usage_error("no such state machine in the mock file",
                                 mname);
  const char *tc = a->test_case;
  if (!tc) {
    if (json_object_size(cases) != 1)
      return usage_error("the state machine has several test cases; pick one "
                         "with --test-case", mname);
    tc = json_object_iter_key(json_object_iter(cases));
  }
  *name_out = strdup(mname);
  *case_out = strdup(tc);
  return 0;
}

static char *base_name(const char *path) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  char *s = strdup(b);
  char *dot = s ? strrchr(s, '.') : NULL;
  if (dot && dot != s) *dot = '\0';
  return s;
}

static void put_string(const char *s) {
  json_t *v = json_string(s);
  char *text = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
  fputs(text ? text : "null", stdout);
  free(text);
  json_decref(v);
}

/* The library already prints JSON the way AWS does (1.0 stays 1.0), so its
 * text is spliced in rather than re-encoded. */
static void print_result(wf_execution *x, int with_history) {
  static const char *const names[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                      "TIMED_OUT", "ABORTED"};
  wf_exec_status st = wf_execution_status(x);
  printf("{\"status\":\"%s\"", names[st]);
  if (st == WF_EXEC_SUCCEEDED) {
    const char *out = wf_execution_output(x);
    printf(",\"output\":%s", out ? out : "null");
  } else {
    if (wf_execution_error(x)) {
      fputs(",\"error\":", stdout);
      put_string(wf_execution_error(x));
    }
    if (wf_execution_cause(x)) {
      fputs(",\"cause\":", stdout);
      put_string(wf_execution_cause(x));
    }
  }
  if (with_history) {
    char *h = wf_execution_history(x, 0);
    /* {"events":[...]} -> [...] */
    const char *prefix = "{\"events\":";
    size_t n = h ? strlen(h) : 0;
    if (h && n > strlen(prefix) + 1 && strncmp(h, prefix, strlen(prefix)) == 0)
      printf(",\"history\":%.*s", (int)(n - strlen(prefix) - 1),
             h + strlen(prefix));
    else
      fputs(",\"history\":[]", stdout);
    wf_string_free(h);
  }
  puts("}");
}

/* Load each --plugin; the directory of a plugin named on the command line
 * is trusted (the user chose the file), yet the file and directory checks
 * (ownership of writes, symlink escapes) still apply. */
static int load_plugins(wf_engine *e, const run_args *a) {
  for (int i = 0; i < a->nplugins; i++) {
    wf_error err;
    char *dir = strdup(a->plugins[i]);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
    if (wf_engine_add_plugin_dir(e, d, &err) != WF_OK) {
      fprintf(stderr, "wf run: %s\n", err.message);
      free(dir);
      return -1;
    }
    free(dir);
    char *config = NULL;
    if (a->plugin_configs[i] && !(config = read_all(a->plugin_configs[i]))) {
      fprintf(stderr, "wf run: cannot read %s: %s\n", a->plugin_configs[i],
              strerror(errno));
      return -1;
    }
    wf_plugin *p;
    int rc = wf_engine_load_plugin(&p, e, a->plugins[i], config, &err);
    free(config);
    if (rc != WF_OK) {
      fprintf(stderr, "wf run: %s\n", err.message);
      return -1;
    }
  }
  return 0;
}

int wf_cli_run(int argc, char **argv) {
  const char *plugins[64], *configs[64];
  run_args a = {.plugins = plugins, .plugin_configs = configs};
  if (argc > 66) return usage_error("too many arguments", NULL);
  int rc = parse_args(argc, argv, &a);
  if (rc < 0) return WF_EXIT_OK;
  if (rc) return rc;

  char *input = NULL;
  if (a.input_file && !(input = read_all(a.input_file))) {
    fprintf(stderr, "wf run: cannot read %s: %s\n", a.input_file,
            strerror(errno));
    return WF_EXIT_USAGE;
  }
  char *mock_text = NULL, *machine_name = NULL;
  const char *test_case = NULL;
  json_t *mock_cfg = NULL;
  int status = WF_EXIT_USAGE;
  wf_machine *m = NULL;
  wf_engine *e = NULL;
  wf_clock *clock = NULL;
  wf_execution *x = NULL;
  wf_store *store = NULL;
  if (a.mock_file) {
    json_error_t jerr;
    if (!(mock_text = read_all(a.mock_file))) {
      fprintf(stderr, "wf run: cannot read %s: %s\n", a.mock_file,
              strerror(errno));
      goto done;
    }
    if (!(mock_cfg = json_loads(mock_text, 0, &jerr))) {
      fprintf(stderr, "wf run: %s: line %d, column %d: %s\n", a.mock_file,
              jerr.line, jerr.column, jerr.text);
      goto done;
    }
    if (pick_mock_case(mock_cfg, &a, &machine_name, &test_case)) goto done;
  } else {
    machine_name = a.machine_name ? strdup(a.machine_name)
                                  : base_name(a.definition);
  }

  wf_error err;
  wf_diagnostics *diags = NULL;
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.type = a.type;
  lo.name = machine_name;
  lo.diagnostics = &diags;
  rc = wf_machine_load_file(&m, a.definition, &lo, &err);
  if (rc != WF_OK) {
    size_t n = wf_diagnostics_count(diags);
    if (!n) fprintf(stderr, "wf run: %s: %s\n", a.definition, err.message);
    for (size_t i = 0; i < n; i++) {
      const char *loc = wf_diagnostics_location(diags, i);
      fprintf(stderr, "%s: %s: %s%s%s\n", a.definition,
              wf_diagnostics_code(diags, i), wf_diagnostics_message(diags, i),
              loc ? " at " : "", loc ? loc : "");
    }
    wf_diagnostics_free(diags);
    goto done;
  }

  wf_engine_options eo = WF_ENGINE_OPTIONS_INIT;
  if (a.store) {
    if (wf_store_sqlite_open(&store, a.store, NULL, &err) != WF_OK) {
      fprintf(stderr, "wf run: %s\n", err.message);
      goto done;
    }
    eo.store = store;
  }
  if (a.virtual_time) {
    if (wf_clock_virtual_new(&clock, 0) != WF_OK) goto done;
    eo.clock = clock;
  }
  /* A store keeps the history: a durable execution can be looked into. */
  eo.history = a.history || a.store ? WF_HISTORY_FULL : WF_HISTORY_OFF;
  eo.log_path = a.log_path;
  if (wf_engine_new(&e, &eo, &err) != WF_OK) {
    fprintf(stderr, "wf run: %s\n", err.message);
    goto done;
  }
  if (load_plugins(e, &a) != 0) goto done;
  if (mock_text && wf_engine_set_mock_config(e, mock_text, &err) != WF_OK) {
    fprintf(stderr, "wf run: %s: %s\n", a.mock_file, err.message);
    goto done;
  }
  size_t resumed = 0;
  if (a.store && wf_engine_resume(e, &resumed, &err) != WF_OK) {
    fprintf(stderr, "wf run: %s: %s\n", a.store, err.message);
    goto done;
  }
  if (resumed)
    fprintf(stderr, "wf run: %zu execution%s left running in %s resumed\n",
            resumed, resumed == 1 ? "" : "s", a.store);
  wf_start_options so = WF_START_OPTIONS_INIT;
  so.name = a.name;
  so.correlation_id = a.correlation_id;
  so.test_case = test_case;
  if (wf_engine_start(&x, e, m, input ? input : a.input_json, &so, &err) !=
      WF_OK) {
    fprintf(stderr, "wf run: %s\n", err.message);
    goto done;
  }
  wf_execution_wait(x, -1);
  print_result(x, a.history);
  status = wf_execution_status(x) == WF_EXEC_SUCCEEDED ? WF_EXIT_OK
                                                       : WF_EXIT_FAILED;
done:
  fflush(stdout);
  wf_execution_free(x);
  wf_engine_free(e);
  wf_store_free(store);
  wf_clock_free(clock);
  wf_machine_free(m);
  json_decref(mock_cfg);
  free(mock_text);
  free(machine_name);
  free((char *)test_case);
  free(input);
  return status;
}
