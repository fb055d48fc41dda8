/* The validator against the definitions AWS Step Functions accepted or
 * rejected (../shared/conformance/definitions, read at run time):
 * valid/ and valid-jsonata/ must load; invalid/ must be rejected, at the
 * pointer and with the message the case's .expect.json records; the
 * definitions in invalid-express/ load as STANDARD and are rejected as
 * EXPRESS; the definitions of executions/ (all ran on AWS) load. Each
 * folder prints its count and fails listing every mismatch. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "workflow/workflow.h"

/* Cases whose recorded expectation contradicts what AWS was measured to do
 * elsewhere in the same collection. They are run and reported, but do not
 * fail the folder; the validator follows the measured behaviour. */
static const struct {
  const char *file;
  const char *why;
} DISPUTED[] = {
    {"valid/ls-errorhandling-task-lambda-invoke-catch-tbd.json",
     "LocalStack template whose empty ErrorEquals is filled in by the test "
     "before deployment; AWS refuses an empty ErrorEquals with \"Value cannot "
     "be empty\" (invalid/sl-empty-error-equals-on-catch.json, Floci's "
     "measurements)"},
    {"valid/ls-errorhandling-task-service-lambda-invoke-catch-tbd.json",
     "same template as the case above, for arn:aws:states:::lambda:invoke"},
};

static const char *disputed(const char *folder, const char *name) {
  for (size_t i = 0; i < sizeof DISPUTED / sizeof DISPUTED[0]; i++) {
    size_t n = strlen(folder);
    if (strncmp(DISPUTED[i].file, folder, n) == 0 &&
        DISPUTED[i].file[n] == '/' && strcmp(DISPUTED[i].file + n + 1, name) == 0)
      return DISPUTED[i].why;
  }
  return NULL;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The definition files of a folder (not the .expect.json files), sorted. */
static char **list_definitions(const char *dir, size_t *count) {
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "cannot open %s (set WF_SHARED_DIR)", dir);
  size_t n = 0, cap = 64;
  char **names = malloc(cap * sizeof *names);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!ends_with(e->d_name, ".json") || ends_with(e->d_name, ".expect.json"))
      continue;
    if (n == cap) names = realloc(names, (cap *= 2) * sizeof *names);
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_names);
  *count = n;
  return names;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

typedef struct report {
  FILE *out;
  char *text;
  size_t len;
  size_t failed;
} report;

static void report_open(report *r) {
  r->text = NULL;
  r->len = 0;
  r->failed = 0;
  r->out = open_memstream(&r->text, &r->len);
}

/* All diagnostics on one line each, indented, for a mismatch report. */
static void dump_diags(FILE *out, const wf_diagnostics *d, const wf_error *err) {
  size_t n = wf_diagnostics_count(d);
  if (n == 0) fprintf(out, "      (no diagnostics; error: %s)\n", err->message);
  for (size_t i = 0; i < n; i++) {
    const char *loc = wf_diagnostics_location(d, i);
    fprintf(out, "      %s: %s at %s\n", wf_diagnostics_code(d, i),
            wf_diagnostics_message(d, i), loc ? loc : "(none)");
  }
}

typedef struct loaded {
  int rc;
  wf_diagnostics *diags;
  wf_error err;
} loaded;

static loaded load(const char *path, wf_machine_type type) {
  loaded l = {0};
  wf_load_options opts = WF_LOAD_OPTIONS_INIT;
  opts.type = type;
  opts.diagnostics = &l.diags;
  wf_machine *m = NULL;
  l.rc = wf_machine_load_file(&m, path, &opts, &l.err);
  if (l.rc == WF_OK) cr_assert_not_null(m);
  else cr_assert_null(m);
  wf_machine_free(m);
  return l;
}

static bool has_location(const wf_diagnostics *d, const char *want) {
  for (size_t i = 0; i < wf_diagnostics_count(d); i++) {
    const char *loc = wf_diagnostics_location(d, i);
    if (loc && strcmp(loc, want) == 0) return true;
  }
  return false;
}

/* One diagnostic of AWS's message: code and location when it gives them. */
typedef struct expected {
  char *code;     /* NULL: not given */
  char *message;
  char *location; /* NULL: not given; "" for AWS's "at null" */
} expected;

static bool is_code_at(const char *s) {
  size_t i = 0;
  while ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_') i++;
  return i >= 3 && s[i] == ':' && s[i + 1] == ' ';
}

static expected parse_item(const char *s, size_t n) {
  expected e = {0};
  char *item = strndup(s, n);
  char *msg = item;
  if (is_code_at(item)) {
    char *colon = strchr(item, ':');
    e.code = strndup(item, (size_t)(colon - item));
    msg = colon + 2;
  }
  /* " at /location" or " at null" closes the message. */
  char *at = NULL;
  for (char *p = strstr(msg, " at "); p; p = strstr(p + 1, " at "))
    if (p[4] == '/' || strcmp(p + 4, "null") == 0) at = p;
  if (at) {
    e.location = strdup(strcmp(at + 4, "null") == 0 ? "" : at + 4);
    *at = '\0';
  }
  e.message = strdup(msg);
  free(item);
  return e;
}

/* AWS's message as recorded: one diagnostic; several joined with "; ";
 * or CreateStateMachine's complete list, "Invalid State Machine
 * Definition: 'A at /x, B at /y'". Returns the count; *complete tells
 * whether the list is AWS's whole answer. */
static size_t parse_aws_message(const char *text, expected *out, size_t max,
                                bool *complete) {
  static const char PREFIX[] = "Invalid State Machine Definition: '";
  size_t len = strlen(text);
  *complete = false;
  if (strncmp(text, PREFIX, sizeof PREFIX - 1) == 0 && text[len - 1] == '\'') {
    *complete = true;
    text += sizeof PREFIX - 1;
    len -= sizeof PREFIX;
  }
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= len && n < max; i++) {
    bool cut = i == len;
    size_t skip = 0;
    if (!cut && text[i] == ';' && text[i + 1] == ' ') cut = true, skip = 2;
    if (!cut && text[i] == ',' && text[i + 1] == ' ' && is_code_at(text + i + 2))
      cut = true, skip = 2;
    if (!cut) continue;
    out[n++] = parse_item(text + start, i - start);
    start = i + skip;
    i += skip ? skip - 1 : 0;
  }
  return n;
}

static void free_expected(expected *e, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(e[i].code);
    free(e[i].message);
    free(e[i].location);
  }
}

static bool diag_matches(const wf_diagnostics *d, size_t i, const expected *e) {
  const char *loc = wf_diagnostics_location(d, i);
  if (strcmp(wf_diagnostics_message(d, i), e->message) != 0) return false;
  if (e->code && strcmp(wf_diagnostics_code(d, i), e->code) != 0) return false;
  if (e->location) {
    if (*e->location == '\0') return loc == NULL;
    return loc && strcmp(loc, e->location) == 0;
  }
  return true;
}

/* Check an invalid definition's diagnostics against its .expect.json;
 * returns false (and reports) on a mismatch. */
static bool check_rejection(report *r, const char *name, const loaded *l,
                            json_t *expect) {
  const char *pointer = json_string_value(json_object_get(expect, "pointer"));
  const char *aws = json_string_value(json_object_get(expect, "aws_message"));
  bool syntax = strncmp(name, "syntax-", 7) == 0;
  if (l->rc == WF_OK) {
    fprintf(r->out, "  %s: accepted; AWS rejects it (%s)\n", name,
            json_string_value(json_object_get(expect, "reason")));
    return false;
  }
  if (syntax) {
    /* Not JSON: AWS answers INVALID_JSON_DESCRIPTION with its parser's
     * text (checked below) and no location. */
    if (l->rc != WF_EPARSE || wf_diagnostics_count(l->diags) != 1 ||
        strcmp(wf_diagnostics_code(l->diags, 0), "INVALID_JSON_DESCRIPTION") ||
        wf_diagnostics_location(l->diags, 0)) {
      fprintf(r->out, "  %s: want WF_EPARSE / INVALID_JSON_DESCRIPTION, got %s\n",
              name, wf_error_name(l->rc));
      dump_diags(r->out, l->diags, &l->err);
      return false;
    }
  } else if (l->rc != WF_EINVALID) {
    fprintf(r->out, "  %s: want WF_EINVALID, got %s: %s\n", name,
            wf_error_name(l->rc), l->err.message);
    return false;
  }
  bool ok = true;
  if (pointer && !has_location(l->diags, pointer)) {
    fprintf(r->out, "  %s: no diagnostic at %s\n", name, pointer);
    ok = false;
  }
  if (aws) {
    expected want[16];
    bool complete;
    size_t n;
    if (syntax) {
      /* The parser's own text, taken whole (it holds "; " and " at "). */
      want[0] = (expected){NULL, strdup(aws), NULL};
      n = 1;
      complete = true;
    } else {
      n = parse_aws_message(aws, want, 16, &complete);
    }
    for (size_t k = 0; k < n; k++) {
      bool found = false;
      for (size_t i = 0; i < wf_diagnostics_count(l->diags) && !found; i++)
        found = diag_matches(l->diags, i, &want[k]);
      if (!found) {
        fprintf(r->out, "  %s: missing AWS's diagnostic %s%s%s%s%s\n", name,
                want[k].code ? want[k].code : "", want[k].code ? ": " : "",
                want[k].message, want[k].location ? " at " : "",
                want[k].location ? want[k].location : "");
        ok = false;
      }
    }
    if (complete && wf_diagnostics_count(l->diags) != n) {
      fprintf(r->out, "  %s: AWS reports exactly %zu diagnostic(s), we %zu\n",
              name, n, wf_diagnostics_count(l->diags));
      ok = false;
    }
    free_expected(want, n);
  }
  if (!ok) dump_diags(r->out, l->diags, &l->err);
  return ok;
}

static json_t *read_expect(const char *dir, const char *name) {
  char *path = wft_strf("%s/%.*s.expect.json", dir, (int)(strlen(name) - 5), name);
  json_error_t jerr;
  json_t *e = json_load_file(path, 0, &jerr);
  cr_assert_not_null(e, "%s: %s", path, jerr.text);
  free(path);
  return e;
}

typedef enum { EXPECT_VALID, EXPECT_INVALID, EXPECT_INVALID_EXPRESS } kind;

static void run_folder(const char *folder, kind k) {
  char *dir = wft_strf("%s/conformance/definitions/%s", wft_shared_dir(), folder);
  size_t n;
  char **names = list_definitions(dir, &n);
  cr_assert_gt(n, 0, "%s holds no definitions", dir);
  report r;
  report_open(&r);
  size_t passed = 0, ndisputed = 0;
  for (size_t i = 0; i < n; i++) {
    char *path = wft_strf("%s/%s", dir, names[i]);
    bool ok = true;
    const char *why = disputed(folder, names[i]);
    if (k == EXPECT_VALID) {
      loaded l = load(path, WF_MACHINE_STANDARD);
      if (l.rc != WF_OK) {
        if (!why) {
          fprintf(r.out, "  %s: rejected; AWS accepts it\n", names[i]);
          dump_diags(r.out, l.diags, &l.err);
        }
        ok = false;
      }
      wf_diagnostics_free(l.diags);
    } else {
      json_t *expect = read_expect(dir, names[i]);
      const char *type = json_string_value(json_object_get(expect, "type"));
      bool express = k == EXPECT_INVALID_EXPRESS ||
                     (type && strcmp(type, "EXPRESS") == 0);
      if (k == EXPECT_INVALID_EXPRESS) {
        loaded s = load(path, WF_MACHINE_STANDARD);
        if (s.rc != WF_OK) {
          fprintf(r.out, "  %s: rejected as STANDARD; AWS accepts it\n",
                  names[i]);
          dump_diags(r.out, s.diags, &s.err);
          ok = false;
        }
        wf_diagnostics_free(s.diags);
      }
      loaded l = load(path, express ? WF_MACHINE_EXPRESS : WF_MACHINE_STANDARD);
      if (!check_rejection(&r, names[i], &l, expect)) ok = false;
      wf_diagnostics_free(l.diags);
      json_decref(expect);
    }
    if (ok) passed++;
    else if (why) ndisputed++;
    else r.failed++;
    free(path);
  }
  fclose(r.out);
  /* One write per line: the folders run in parallel processes. */
  char *line = wft_strf("definitions %s: %zu/%zu%s\n", folder, passed, n,
                        ndisputed ? " (disputed cases not counted as passed, "
                                    "see DISPUTED)" : "");
  fputs(line, stderr);
  free(line);
  if (r.failed) fprintf(stderr, "%s", r.text);
  cr_expect_eq(r.failed, 0, "definitions %s: %zu mismatch(es):\n%s", folder,
               r.failed, r.text);
  free(r.text);
  free_names(names, n);
  free(dir);
}

Test(conformance_definitions, valid_definitions_load) {
  run_folder("valid", EXPECT_VALID);
}

Test(conformance_definitions, valid_jsonata_definitions_load) {
  run_folder("valid-jsonata", EXPECT_VALID);
}

Test(conformance_definitions, invalid_definitions_are_rejected_as_aws_does) {
  run_folder("invalid", EXPECT_INVALID);
}

Test(conformance_definitions, express_only_rules_apply_to_express_machines) {
  run_folder("invalid-express", EXPECT_INVALID_EXPRESS);
}

/* Every machine in executions/ ran on AWS, so AWS accepted its definition. */
Test(conformance_definitions, executed_definitions_load) {
  char *dir = wft_strf("%s/conformance/executions", wft_shared_dir());
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "cannot open %s (set WF_SHARED_DIR)", dir);
  report r;
  report_open(&r);
  size_t n = 0, passed = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char *path = wft_strf("%s/%s/definition.json", dir, e->d_name);
    FILE *f = fopen(path, "r");
    if (f) {
      fclose(f);
      n++;
      loaded l = load(path, WF_MACHINE_STANDARD);
      if (l.rc == WF_OK) {
        passed++;
      } else {
        r.failed++;
        fprintf(r.out, "  %s: rejected; it ran on AWS\n", e->d_name);
        dump_diags(r.out, l.diags, &l.err);
      }
      wf_diagnostics_free(l.diags);
    }
    free(path);
  }
  closedir(d);
  fclose(r.out);
  char *line = wft_strf("definitions of executions: %zu/%zu\n", passed, n);
  fputs(line, stderr);
  free(line);
  cr_expect_gt(n, 0);
  cr_expect_eq(r.failed, 0, "%zu executed definition(s) rejected:\n%s",
               r.failed, r.text);
  free(r.text);
  free(dir);
}

/* The runner's own parser of AWS's messages, on the shapes the cases use. */
Test(conformance_definitions, aws_message_parser_splits_diagnostics) {
  expected e[4];
  bool complete;
  size_t n = parse_aws_message(
      "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing "
      "'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: "
      "State \"pass2\" is not reachable. at /States/pass2'",
      e, 4, &complete);
  cr_assert_eq(n, 2);
  cr_assert(complete);
  cr_assert_str_eq(e[0].code, "MISSING_TRANSITION_TARGET");
  cr_assert_str_eq(e[0].message, "Missing 'Next' target: pass3");
  cr_assert_str_eq(e[0].location, "/States/pass1/Next");
  cr_assert_str_eq(e[1].message, "State \"pass2\" is not reachable.");
  cr_assert_str_eq(e[1].location, "/States/pass2");
  free_expected(e, n);
  n = parse_aws_message("The field 'Type' should have one of these values: "
                        "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, "
                        "Map]; MISSING_END_STATE: Workflow has no terminal "
                        "state at null",
                        e, 4, &complete);
  cr_assert_eq(n, 2);
  cr_assert_not(complete);
  cr_assert_null(e[0].code);
  cr_assert_null(e[0].location);
  cr_assert_str_eq(e[1].code, "MISSING_END_STATE");
  cr_assert_str_eq(e[1].location, "");
  free_expected(e, n);
  n = parse_aws_message("SCHEMA_VALIDATION_FAILED: Express state machine does "
                        "not support '.waitForTaskToken' service integration  "
                        "at /States/Publish/Resource",
                        e, 4, &complete);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(e[0].message, "Express state machine does not support "
                                 "'.waitForTaskToken' service integration ");
  free_expected(e, n);
}
