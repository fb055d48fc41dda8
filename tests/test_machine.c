/* Loading and validating definitions (include/workflow/machine.h): the
 * definitions AWS rejects, with AWS's code, location and message for each
 * problem (tests/data/invalid_definitions.json); the definitions it accepts,
 * one for every state type and field (tests/data/valid_definitions.json);
 * syntax errors, limits, options, error and diagnostics plumbing. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_cases.h"
#include "support.h"
#include "workflow/workflow.h"

/* ---- helpers ----------------------------------------------------------- */

/* The definition text of a case: "text" verbatim, else "definition"
 * serialised with its keys in the order written. */
static char *case_text(json_t *c) {
  const char *text = json_string_value(json_object_get(c, "text"));
  if (text) return strdup(text);
  return json_dumps(json_object_get(c, "definition"), JSON_COMPACT | JSON_ENCODE_ANY);
}

static wf_machine_type case_type(json_t *c) {
  const char *t = json_string_value(json_object_get(c, "type"));
  return t && strcmp(t, "EXPRESS") == 0 ? WF_MACHINE_EXPRESS : WF_MACHINE_STANDARD;
}

static int load(wf_machine **m, const char *json, wf_machine_type type,
                wf_diagnostics **diags, wf_error *err) {
  wf_load_options opts = WF_LOAD_OPTIONS_INIT;
  opts.type = type;
  opts.diagnostics = diags;
  return wf_machine_load_json(m, json, &opts, err);
}

/* All diagnostics, one per line, for assertion messages. */
static char *describe(const wf_diagnostics *d) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  for (size_t i = 0; i < wf_diagnostics_count(d); i++) {
    const char *loc = wf_diagnostics_location(d, i);
    fprintf(f, "\n    [%zu] %s: %s at %s", i, wf_diagnostics_code(d, i),
            wf_diagnostics_message(d, i), loc ? loc : "(none)");
  }
  if (!wf_diagnostics_count(d)) fputs(" (none)", f);
  fclose(f);
  return text;
}

static bool diag_is(const wf_diagnostics *d, size_t i, const char *code,
                    const char *location, const char *message) {
  const char *loc = wf_diagnostics_location(d, i);
  return strcmp(wf_diagnostics_code(d, i), code) == 0 &&
         strcmp(wf_diagnostics_message(d, i), message) == 0 &&
         (location ? loc && strcmp(loc, location) == 0 : loc == NULL);
}

static bool has_diag(const wf_diagnostics *d, const char *code,
                     const char *location, const char *message) {
  for (size_t i = 0; i < wf_diagnostics_count(d); i++)
    if (diag_is(d, i, code, location, message)) return true;
  return false;
}

/* Load text that must fail with WF_EINVALID; returns its diagnostics. */
static wf_diagnostics *reject(const char *json, wf_machine_type type,
                              wf_error *err) {
  wf_machine *m = (wf_machine *)1;
  wf_diagnostics *d = NULL;
  int rc = load(&m, json, type, &d, err);
  cr_assert_eq(rc, WF_EINVALID, "got %s for %s", wf_error_name(rc), json);
  cr_assert_null(m);
  cr_assert_not_null(d);
  return d;
}

/* ---- definitions AWS rejects -------------------------------------------- */

ParameterizedTestParameters(machine, rejects_invalid_definitions) {
  WFT_CASE_PARAMS("invalid_definitions.json");
}

ParameterizedTest(int *i, machine, rejects_invalid_definitions) {
  json_t *c = wft_case_at("invalid_definitions.json", *i);
  const char *name = json_string_value(json_object_get(c, "name"));
  char *text = case_text(c);
  wf_error err;
  wf_diagnostics *d = reject(text, case_type(c), &err);
  char *got = describe(d);

  /* The expected diagnostics: the case's own, then "also". */
  json_t *want = json_array();
  json_t *first = json_pack("{s:O,s:O,s:O}", "code", json_object_get(c, "code"),
                            "location", json_object_get(c, "location"),
                            "message", json_object_get(c, "message"));
  json_array_append_new(want, first);
  if (json_object_get(c, "also"))
    json_array_extend(want, json_object_get(c, "also"));
  size_t k;
  json_t *w;
  json_array_foreach(want, k, w) {
    const char *code = json_string_value(json_object_get(w, "code"));
    const char *loc = json_string_value(json_object_get(w, "location"));
    const char *msg = json_string_value(json_object_get(w, "message"));
    cr_expect(has_diag(d, code, loc, msg),
              "%s: missing %s: %s at %s\n  got:%s", name, code, msg,
              loc ? loc : "(none)", got);
  }
  json_t *count = json_object_get(c, "count");
  if (count)
    cr_expect_eq(wf_diagnostics_count(d), (size_t)json_integer_value(count),
                 "%s: want %lld diagnostic(s)\n  got:%s", name,
                 (long long)json_integer_value(count), got);
  if (json_is_true(json_object_get(c, "exact"))) {
    cr_expect_eq(wf_diagnostics_count(d), json_array_size(want),
                 "%s: want exactly the listed diagnostics\n  got:%s", name, got);
    json_array_foreach(want, k, w) {
      if (k >= wf_diagnostics_count(d)) break;
      cr_expect(diag_is(d, k, json_string_value(json_object_get(w, "code")),
                        json_string_value(json_object_get(w, "location")),
                        json_string_value(json_object_get(w, "message"))),
                "%s: diagnostic %zu out of order\n  got:%s", name, k, got);
    }
  }
  /* err holds the first diagnostic. */
  const char *loc0 = wf_diagnostics_location(d, 0);
  char *want_msg = wft_strf("%s: %s", wf_diagnostics_code(d, 0),
                            wf_diagnostics_message(d, 0));
  cr_expect_eq(err.code, WF_EINVALID);
  cr_expect_str_eq(err.path, loc0 ? loc0 : "", "%s", name);
  cr_expect_str_eq(err.message, want_msg, "%s", name);
  free(want_msg);
  json_decref(want);
  free(got);
  free(text);
  wf_diagnostics_free(d);
  json_decref(c);
}

/* The data file itself: enough cases, each complete, names unique. */
Test(machine, invalid_definitions_data_is_well_formed) {
  json_t *root = wft_cases_load("invalid_definitions.json");
  cr_assert_not_null(root);
  json_t *cases = json_object_get(root, "cases");
  cr_assert_geq(json_array_size(cases), 60);
  cr_assert_leq(json_array_size(cases), WFT_MAX_CASES);
  json_t *names = json_object();
  size_t i;
  json_t *c;
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    cr_assert_not_null(name, "case %zu has no name", i);
    cr_assert_null(json_object_get(names, name), "duplicate case %s", name);
    json_object_set_new(names, name, json_true());
    cr_assert(json_object_get(c, "definition") || json_object_get(c, "text"),
              "%s: no definition", name);
    cr_assert(json_is_string(json_object_get(c, "code")), "%s: code", name);
    cr_assert(json_is_string(json_object_get(c, "message")), "%s: message", name);
    json_t *loc = json_object_get(c, "location");
    cr_assert(json_is_string(loc) || json_is_null(loc), "%s: location", name);
  }
  json_decref(names);
  json_decref(root);
}

/* ---- definitions AWS accepts -------------------------------------------- */

ParameterizedTestParameters(machine, loads_valid_definitions) {
  WFT_CASE_PARAMS("valid_definitions.json");
}

ParameterizedTest(int *i, machine, loads_valid_definitions) {
  json_t *c = wft_case_at("valid_definitions.json", *i);
  const char *name = json_string_value(json_object_get(c, "name"));
  char *text = case_text(c);
  wf_machine *m = NULL;
  wf_diagnostics *d = NULL;
  wf_error err;
  int rc = load(&m, text, case_type(c), &d, &err);
  char *got = describe(d);
  cr_assert_eq(rc, WF_OK, "%s: %s\n  diagnostics:%s", name, wf_error_name(rc), got);
  cr_assert_null(d, "%s: diagnostics must be NULL on success", name);
  cr_assert_not_null(m);
  cr_expect_eq(wf_machine_get_type(m), case_type(c));
  json_t *states = json_object_get(c, "states");
  if (states)
    cr_expect_eq(wf_machine_state_count(m), (size_t)json_integer_value(states),
                 "%s: state count", name);
  cr_expect_str_eq(wf_machine_start_at(m),
                   json_string_value(json_object_get(
                       json_object_get(c, "definition"), "StartAt")));
  /* The definition is kept as written (compact, keys in order). */
  json_t *back = json_loads(wf_machine_definition(m), 0, NULL);
  cr_expect(json_equal(back, json_object_get(c, "definition")), "%s", name);
  json_decref(back);
  wf_machine_free(m);
  free(got);
  free(text);
  json_decref(c);
}

Test(machine, valid_definitions_cover_every_state_type) {
  static const char *const types[] = {"Pass", "Task", "Choice", "Wait",
                                      "Succeed", "Fail", "Parallel", "Map"};
  json_t *root = wft_cases_load("valid_definitions.json");
  cr_assert_not_null(root);
  char *all = json_dumps(root, JSON_COMPACT);
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    char *needle = wft_strf("\"Type\":\"%s\"", types[i]);
    cr_expect_not_null(strstr(all, needle), "no %s state", types[i]);
    free(needle);
  }
  free(all);
  json_decref(root);
}

/* ---- every problem, not only the first ---------------------------------- */

Test(machine, reports_every_problem_in_one_pass) {
  wf_error err;
  wf_diagnostics *d = reject(
      "{\"StartAt\":\"A\",\"States\":{"
      "\"A\":{\"Type\":\"Pass\",\"Retry\":[],\"Catch\":[],\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Task\",\"Resource\":\"arn:aws:lambda:us-east-1:"
      "123456789012:function:f\",\"TimeoutSeconds\":-1,\"End\":true},"
      "\"C\":{\"Type\":\"Bogus\"}}}",
      WF_MACHINE_STANDARD, &err);
  char *got = describe(d);
  cr_expect_eq(wf_diagnostics_count(d), 5, "got:%s", got);
  cr_expect(has_diag(d, "SCHEMA_VALIDATION_FAILED", "/States/A",
                     "Field 'Retry' is not supported"), "%s", got);
  cr_expect(has_diag(d, "SCHEMA_VALIDATION_FAILED", "/States/A",
                     "Field 'Catch' is not supported"), "%s", got);
  cr_expect(has_diag(d, "SCHEMA_VALIDATION_FAILED", "/States/B/TimeoutSeconds",
                     "Minimum value is 1"), "%s", got);
  cr_expect(has_diag(d, "SCHEMA_VALIDATION_FAILED", "/States/C/Type",
                     "The field 'Type' should have one of these values: "
                     "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]"),
            "%s", got);
  cr_expect(has_diag(d, "MISSING_TRANSITION_TARGET", "/States/C",
                     "State \"C\" is not reachable."), "%s", got);
  /* err is the first diagnostic, in definition order. */
  cr_expect_str_eq(err.path, "/States/A");
  cr_expect_str_eq(err.message,
                   "SCHEMA_VALIDATION_FAILED: Field 'Retry' is not supported");
  free(got);
  wf_diagnostics_free(d);
}

Test(machine, problems_in_nested_scopes_are_all_reported) {
  wf_error err;
  wf_diagnostics *d = reject(
      "{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Parallel\",\"End\":true,"
      "\"Branches\":[{\"StartAt\":\"X\",\"States\":{\"X\":{\"Type\":\"Pass\","
      "\"Next\":\"Gone\"}}},{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":"
      "\"Map\",\"End\":true,\"MaxConcurrency\":-2,\"ItemProcessor\":{"
      "\"StartAt\":\"I\",\"States\":{\"I\":{\"Type\":\"Wait\",\"End\":true}}}}"
      "}}]}}}",
      WF_MACHINE_STANDARD, &err);
  char *got = describe(d);
  cr_expect_eq(wf_diagnostics_count(d), 3, "got:%s", got);
  cr_expect(has_diag(d, "MISSING_TRANSITION_TARGET",
                     "/States/P/Branches[0]/States/X/Next",
                     "Missing 'Next' target: Gone"), "%s", got);
  cr_expect(has_diag(d, "SCHEMA_VALIDATION_FAILED",
                     "/States/P/Branches[1]/States/M/MaxConcurrency",
                     "Minimum value is 0"), "%s", got);
  cr_expect(has_diag(d, "SCHEMA_VALIDATION_FAILED",
                     "/States/P/Branches[1]/States/M/ItemProcessor/States/I",
                     "One of these fields is required: [Seconds, Timestamp, "
                     "SecondsPath, TimestampPath]"), "%s", got);
  free(got);
  wf_diagnostics_free(d);
}

/* ---- syntax errors -------------------------------------------------------- */

Test(machine, syntax_error_is_eparse_with_line_and_column) {
  wf_machine *m = (wf_machine *)1;
  wf_diagnostics *d = NULL;
  wf_error err;
  int rc = load(&m,
                "{\n  \"StartAt\": \"A\",\n  \"States\": {\n"
                "    \"A\": {\"Type\": \"Pass\" \"End\": true}\n  }\n}\n",
                WF_MACHINE_STANDARD, &d, &err);
  cr_assert_eq(rc, WF_EPARSE);
  cr_assert_null(m);
  cr_assert_eq(err.code, WF_EPARSE);
  cr_expect_eq(err.line, 4);
  cr_expect_gt(err.column, 20);
  cr_expect_lt(err.column, 36);
  cr_assert_eq(wf_diagnostics_count(d), 1);
  cr_expect_str_eq(wf_diagnostics_code(d, 0), "INVALID_JSON_DESCRIPTION");
  cr_expect_null(wf_diagnostics_location(d, 0));
  cr_expect_eq(wf_diagnostics_line(d, 0), err.line);
  cr_expect_eq(wf_diagnostics_column(d, 0), err.column);
  cr_expect_str_eq(err.path, "");
  cr_expect_not_null(strstr(err.message, "INVALID_JSON_DESCRIPTION: "));
  wf_diagnostics_free(d);
}

/* AWS reads definitions with Jackson; its INVALID_JSON_DESCRIPTION message
 * is Jackson's, positions after the offending token. */
Test(machine, syntax_error_is_worded_as_aws_words_it) {
  static const struct {
    const char *text, *message;
    int line, column;
  } cases[] = {
      {"not a definition",
       "Unrecognized token 'not': was expecting (JSON String, Number, Array, "
       "Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not "
       "a definition\"; line: 1, column: 4]",
       1, 4},
      {"{'StartAt':'A'}",
       "Unexpected character (''' (code 39)): was expecting double-quote to "
       "start field name\n at [Source: (String)\"{'StartAt':'A'}\"; line: 1, "
       "column: 3]",
       1, 3},
      {"{\"StartAt\":\"A\",\n\"States\":{}",
       "Unexpected end-of-input: expected close marker for Object (start marker "
       "at [Source: (String)\"{\"StartAt\":\"A\",\n\"States\":{}\"; line: 1, "
       "column: 1])\n at [Source: (String)\"{\"StartAt\":\"A\",\n\"States\":{}\"; "
       "line: 2, column: 12]",
       2, 12},
      {"{\"StartAt\":\"A\" \"States\":{}}",
       "Unexpected character ('\"' (code 34)): was expecting comma to separate "
       "Object entries\n at [Source: (String)\"{\"StartAt\":\"A\" "
       "\"States\":{}}\"; line: 1, column: 17]",
       1, 17},
      {"{\"StartAt\":\"A\",\"States\":[1,]}",
       "Unexpected character (']' (code 93)): expected a valid value (JSON "
       "String, Number, Array, Object or token 'null', 'true' or 'false')\n at "
       "[Source: (String)\"{\"StartAt\":\"A\",\"States\":[1,]}\"; line: 1, "
       "column: 29]",
       1, 29},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wf_machine *m = NULL;
    wf_diagnostics *d = NULL;
    wf_error err;
    cr_assert_eq(load(&m, cases[i].text, WF_MACHINE_STANDARD, &d, &err),
                 WF_EPARSE, "%s", cases[i].text);
    cr_assert_eq(wf_diagnostics_count(d), 1);
    cr_expect_str_eq(wf_diagnostics_message(d, 0), cases[i].message);
    cr_expect_eq(err.line, cases[i].line, "%s", cases[i].text);
    cr_expect_eq(err.column, cases[i].column, "%s", cases[i].text);
    wf_diagnostics_free(d);
  }
}

/* Jackson shows at most 500 characters of the source. */
Test(machine, long_source_is_truncated_in_the_syntax_error) {
  char text[700];
  memset(text, ' ', sizeof text - 1);
  text[0] = '{';
  text[sizeof text - 2] = 'x';
  text[sizeof text - 1] = '\0';
  wf_machine *m = NULL;
  wf_diagnostics *d = NULL;
  cr_assert_eq(load(&m, text, WF_MACHINE_STANDARD, &d, NULL), WF_EPARSE);
  const char *msg = wf_diagnostics_message(d, 0);
  cr_expect_not_null(strstr(msg, "\"[truncated 199 chars]; line: 1, column: 700]"),
                     "%s", msg);
  wf_diagnostics_free(d);
}

Test(machine, truncated_text_is_eparse) {
  wf_machine *m = NULL;
  wf_error err;
  cr_assert_eq(wf_machine_load_json(&m, "{\"StartAt\": \"A\", \"States\": {",
                                    NULL, &err),
               WF_EPARSE);
  cr_expect_eq(err.line, 1);
  cr_expect_gt(err.column, 0);
  cr_expect_null(m);
}

Test(machine, not_json_at_all_is_eparse) {
  wf_machine *m = NULL;
  wf_error err;
  cr_assert_eq(wf_machine_load_json(&m, "not a definition", NULL, &err),
               WF_EPARSE);
  cr_expect_eq(err.line, 1);
  cr_expect_null(m);
}

Test(machine, empty_text_is_missing_description) {
  wf_machine *m = NULL;
  wf_diagnostics *d = NULL;
  wf_error err;
  cr_assert_eq(load(&m, "", WF_MACHINE_STANDARD, &d, &err), WF_EINVALID);
  cr_assert_eq(wf_diagnostics_count(d), 1);
  cr_expect_str_eq(wf_diagnostics_code(d, 0), "MISSING_DESCRIPTION");
  cr_expect_null(wf_diagnostics_location(d, 0));
  wf_diagnostics_free(d);
}

/* ---- limits ------------------------------------------------------------- */

/* A valid definition padded with a long Comment to exactly `size` bytes. */
static char *padded_definition(size_t size) {
  static const char head[] = "{\"Comment\":\"";
  static const char tail[] =
      "\",\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}";
  size_t fixed = sizeof head - 1 + sizeof tail - 1;
  char *s = malloc(size + 1);
  memcpy(s, head, sizeof head - 1);
  memset(s + sizeof head - 1, 'x', size - fixed);
  memcpy(s + size - (sizeof tail - 1), tail, sizeof tail);
  return s;
}

Test(machine, definition_over_one_mebibyte_is_elimit) {
  char *big = padded_definition(WF_DEFINITION_MAX_BYTES + 1);
  wf_machine *m = (wf_machine *)1;
  wf_error err;
  cr_assert_eq(wf_machine_load_json(&m, big, NULL, &err), WF_ELIMIT);
  cr_expect_null(m);
  cr_expect_eq(err.code, WF_ELIMIT);
  free(big);
}

Test(machine, definition_of_exactly_one_mebibyte_loads) {
  char *big = padded_definition(WF_DEFINITION_MAX_BYTES);
  wf_machine *m = NULL;
  wf_error err;
  cr_assert_eq(wf_machine_load_json(&m, big, NULL, &err), WF_OK, "%s",
               err.message);
  wf_machine_free(m);
  free(big);
}

Test(machine, file_over_one_mebibyte_is_elimit) {
  char path[] = "/tmp/wf-test-big-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  char *big = padded_definition(WF_DEFINITION_MAX_BYTES + 10);
  cr_assert_eq(write(fd, big, strlen(big)), (ssize_t)strlen(big));
  close(fd);
  wf_machine *m = (wf_machine *)1;
  wf_error err;
  cr_expect_eq(wf_machine_load_file(&m, path, NULL, &err), WF_ELIMIT);
  cr_expect_null(m);
  unlink(path);
  free(big);
}

static char *named_state_definition(const char *name) {
  return wft_strf("{\"StartAt\":\"%s\",\"States\":{\"%s\":{\"Type\":\"Succeed\"}}}",
                  name, name);
}

Test(machine, state_name_over_80_characters_is_rejected) {
  char name[82];
  memset(name, 'n', 81);
  name[81] = '\0';
  char *json = named_state_definition(name);
  wf_error err;
  wf_diagnostics *d = reject(json, WF_MACHINE_STANDARD, &err);
  cr_assert_eq(wf_diagnostics_count(d), 1);
  cr_expect_str_eq(wf_diagnostics_code(d, 0), "INVALID_STATE_NAME");
  char *loc = wft_strf("/States/%s", name);
  cr_expect_str_eq(wf_diagnostics_location(d, 0), loc);
  free(loc);
  wf_diagnostics_free(d);
  free(json);
}

Test(machine, state_name_of_80_characters_loads) {
  /* 80 characters, counted as Unicode characters: 40 of them take two
   * bytes each in UTF-8. */
  char name[200] = "";
  for (int i = 0; i < 40; i++) strcat(name, "\xc3\xa9"); /* é */
  for (int i = 0; i < 40; i++) strcat(name, "e");
  char *json = named_state_definition(name);
  wf_machine *m = NULL;
  wf_error err;
  cr_assert_eq(wf_machine_load_json(&m, json, NULL, &err), WF_OK, "%s",
               err.message);
  cr_expect_str_eq(wf_machine_start_at(m), name);
  wf_machine_free(m);
  free(json);
}

/* ---- options, errors and diagnostics ------------------------------------ */

Test(machine, load_options_version_mismatch_is_eversion) {
  wf_load_options opts = WF_LOAD_OPTIONS_INIT;
  opts.version = WF_LOAD_OPTIONS_VERSION + 1;
  wf_machine *m = (wf_machine *)1;
  wf_error err;
  int rc = wf_machine_load_json(
      &m, "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}", &opts,
      &err);
  cr_assert_eq(rc, WF_EVERSION);
  cr_expect_eq(err.code, WF_EVERSION);
  cr_expect_not_null(strstr(err.message, "wf_load_options"));
  cr_expect_null(m);
  opts.version = 0;
  cr_expect_eq(wf_machine_load_json(&m, "{}", &opts, NULL), WF_EVERSION);
}

Test(machine, load_options_init) {
  wf_load_options opts;
  memset(&opts, 0xff, sizeof opts);
  cr_assert_eq(wf_load_options_init(&opts, WF_LOAD_OPTIONS_VERSION), WF_OK);
  cr_expect_eq(opts.version, WF_LOAD_OPTIONS_VERSION);
  cr_expect_eq(opts.type, WF_MACHINE_STANDARD);
  cr_expect_null(opts.name);
  cr_expect_null(opts.diagnostics);
  cr_expect_eq(wf_load_options_init(&opts, 99), WF_EVERSION);
  cr_expect_eq(wf_load_options_init(NULL, WF_LOAD_OPTIONS_VERSION), WF_EINVAL);
}

Test(machine, unknown_machine_type_is_einval) {
  wf_load_options opts = WF_LOAD_OPTIONS_INIT;
  opts.type = (wf_machine_type)7;
  wf_machine *m = NULL;
  cr_expect_eq(wf_machine_load_json(
                   &m, "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}",
                   &opts, NULL),
               WF_EINVAL);
  cr_expect_null(m);
}

Test(machine, null_arguments_are_einval) {
  wf_machine *m = NULL;
  wf_error err;
  cr_expect_eq(wf_machine_load_json(NULL, "{}", NULL, &err), WF_EINVAL);
  cr_expect_eq(wf_machine_load_json(&m, NULL, NULL, &err), WF_EINVAL);
  cr_expect_eq(wf_machine_load_file(&m, NULL, NULL, &err), WF_EINVAL);
}

Test(machine, error_is_filled_from_the_first_diagnostic) {
  wf_error err;
  memset(&err, 0x55, sizeof err);
  wf_machine *m = NULL;
  int rc = wf_machine_load_json(
      &m,
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"B\"},"
      "\"B\":{\"Type\":\"Pass\",\"Next\":\"A\"}},\"Extra\":true}",
      NULL, &err);
  cr_assert_eq(rc, WF_EINVALID);
  cr_expect_eq(err.code, WF_EINVALID);
  cr_expect_eq(err.line, 0);
  cr_expect_eq(err.column, 0);
  cr_expect_str_eq(err.path, "/");
  cr_expect_str_eq(err.message,
                   "SCHEMA_VALIDATION_FAILED: Field 'Extra' is not supported");
}

Test(machine, error_without_location_has_empty_path) {
  wf_error err;
  wf_machine *m = NULL;
  int rc = wf_machine_load_json(
      &m,
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"A\"}}}",
      NULL, &err);
  cr_assert_eq(rc, WF_EINVALID);
  cr_expect_str_eq(err.path, "");
  cr_expect_str_eq(err.message,
                   "MISSING_END_STATE: Workflow has no terminal state");
}

Test(machine, error_argument_is_optional) {
  wf_machine *m = NULL;
  cr_expect_eq(wf_machine_load_json(&m, "{}", NULL, NULL), WF_EINVALID);
  cr_expect_eq(wf_machine_load_json(&m, "{", NULL, NULL), WF_EPARSE);
  cr_expect_null(m);
}

Test(machine, diagnostics_format_joins_aws_style) {
  wf_error err;
  wf_diagnostics *d = reject(
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"NOPE\"}}}",
      WF_MACHINE_STANDARD, &err);
  char *s = wf_diagnostics_format(d);
  cr_assert_not_null(s);
  cr_expect_str_eq(s,
                   "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE at "
                   "/States/A/Next, MISSING_END_STATE: Workflow has no terminal "
                   "state");
  wf_string_free(s);
  wf_diagnostics_free(d);
}

Test(machine, diagnostics_format_of_nothing_is_empty) {
  char *s = wf_diagnostics_format(NULL);
  cr_assert_not_null(s);
  cr_expect_str_eq(s, "");
  wf_string_free(s);
}

Test(machine, diagnostics_accessors_out_of_range) {
  wf_error err;
  wf_diagnostics *d = reject("{}", WF_MACHINE_STANDARD, &err);
  cr_assert_eq(wf_diagnostics_count(d), 1);
  cr_expect_null(wf_diagnostics_code(d, 1));
  cr_expect_null(wf_diagnostics_message(d, 1));
  cr_expect_null(wf_diagnostics_location(d, 1));
  cr_expect_eq(wf_diagnostics_line(d, 1), 0);
  cr_expect_eq(wf_diagnostics_column(d, 1), 0);
  cr_expect_eq(wf_diagnostics_line(d, 0), 0);
  cr_expect_eq(wf_diagnostics_count(NULL), 0);
  cr_expect_null(wf_diagnostics_code(NULL, 0));
  wf_diagnostics_free(d);
  wf_diagnostics_free(NULL);
}

Test(machine, diagnostics_are_null_after_success) {
  wf_diagnostics *d = (wf_diagnostics *)1;
  wf_machine *m = NULL;
  cr_assert_eq(load(&m, "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}",
                    WF_MACHINE_STANDARD, &d, NULL),
               WF_OK);
  cr_expect_null(d);
  wf_machine_free(m);
}

Test(machine, accessors_describe_the_machine) {
  wf_load_options opts = WF_LOAD_OPTIONS_INIT;
  opts.type = WF_MACHINE_EXPRESS;
  opts.name = "Orders";
  wf_machine *m = NULL;
  wf_error err;
  const char *json =
      "{ \"Comment\" : \"c\", \"StartAt\": \"B\",\n \"States\": {\"B\": {"
      "\"Type\": \"Parallel\", \"End\": true, \"Branches\": [{\"StartAt\": "
      "\"X\", \"States\": {\"X\": {\"Type\": \"Succeed\"}}}]}}}";
  cr_assert_eq(wf_machine_load_json(&m, json, &opts, &err), WF_OK, "%s",
               err.message);
  cr_expect_eq(wf_machine_get_type(m), WF_MACHINE_EXPRESS);
  cr_expect_str_eq(wf_machine_name(m), "Orders");
  cr_expect_str_eq(wf_machine_start_at(m), "B");
  cr_expect_eq(wf_machine_state_count(m), 2);
  cr_expect_str_eq(wf_machine_definition(m),
                   "{\"Comment\":\"c\",\"StartAt\":\"B\",\"States\":{\"B\":{"
                   "\"Type\":\"Parallel\",\"End\":true,\"Branches\":[{"
                   "\"StartAt\":\"X\",\"States\":{\"X\":{\"Type\":\"Succeed\"}}}"
                   "]}}}");
  wf_machine_free(m);
  cr_assert_eq(wf_machine_load_json(&m, json, NULL, &err), WF_OK);
  cr_expect_str_eq(wf_machine_name(m), "StateMachine");
  cr_expect_eq(wf_machine_get_type(m), WF_MACHINE_STANDARD);
  wf_machine_free(m);
  wf_machine_free(NULL);
}

Test(machine, express_rules_apply_only_to_express) {
  const char *json =
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:states:::glue:startJobRun.sync\",\"Parameters\":{\"JobName\":"
      "\"j\"},\"End\":true}}}";
  wf_machine *m = NULL;
  cr_assert_eq(load(&m, json, WF_MACHINE_STANDARD, NULL, NULL), WF_OK);
  wf_machine_free(m);
  wf_error err;
  wf_diagnostics *d = reject(json, WF_MACHINE_EXPRESS, &err);
  cr_assert_eq(wf_diagnostics_count(d), 1);
  cr_expect_str_eq(err.path, "/States/T/Resource");
  cr_expect_str_eq(err.message,
                   "SCHEMA_VALIDATION_FAILED: Express state machine does not "
                   "support '.sync' service integration");
  wf_diagnostics_free(d);
}

Test(machine, missing_file_is_eio) {
  wf_machine *m = (wf_machine *)1;
  wf_error err;
  cr_assert_eq(wf_machine_load_file(&m, "/nonexistent/definition.json", NULL,
                                    &err),
               WF_EIO);
  cr_expect_null(m);
  cr_expect_not_null(strstr(err.message, "/nonexistent/definition.json"));
}

Test(machine, load_file_reads_json) {
  char path[] = "/tmp/wf-test-def-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  const char *json =
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"End\":true}}}";
  cr_assert_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
  close(fd);
  wf_machine *m = NULL;
  wf_error err;
  cr_expect_eq(wf_machine_load_file(&m, path, NULL, &err), WF_OK, "%s",
               err.message);
  cr_expect_str_eq(wf_machine_definition(m), json);
  wf_machine_free(m);
  unlink(path);
}

/* The options' strings are copied, not retained. */
Test(machine, machine_keeps_its_own_copy_of_the_name) {
  char *name = strdup("Temp");
  wf_load_options opts = WF_LOAD_OPTIONS_INIT;
  opts.name = name;
  wf_machine *m = NULL;
  cr_assert_eq(wf_machine_load_json(
                   &m, "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}",
                   &opts, NULL),
               WF_OK);
  memset(name, 'x', 4);
  free(name);
  cr_expect_str_eq(wf_machine_name(m), "Temp");
  wf_machine_free(m);
}
