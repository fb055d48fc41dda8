/* The wf command-line tool's validate command: what it prints and the exit
 * status it returns (0 all valid, 1 any invalid, 2 usage error or
 * unreadable file). Runs the built binary on temporary files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "tool_support.h"

/* Run the tool with argv (NULL-terminated, argv[0] excluded), its output
 * captured in a private temporary directory. */
static wft_tool_run run_wf(const char *const *args) {
  char dir[] = "/tmp/wf-cli-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  wft_tool_run r = wft_tool(dir, args);
  cr_assert_eq(rmdir(dir), 0, "%s is not empty", dir);
  return r;
}

/* A temporary definition file with the given suffix; free the path. */
static char *write_temp(const char *text, const char *suffix) {
  char *path = wft_strf("/tmp/wf-cli-def-XXXXXX%s", suffix);
  int fd = mkstemps(path, (int)strlen(suffix));
  cr_assert_geq(fd, 0);
  size_t len = strlen(text);
  cr_assert_eq(write(fd, text, len), (ssize_t)len);
  close(fd);
  return path;
}

static const char VALID[] =
    "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"End\":true}}}";
static const char INVALID[] =
    "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":\"NOPE\","
    "\"Retry\":[]}}}";
static const char SYNC_TASK[] =
    "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
    "\"arn:aws:states:::states:startExecution.sync\",\"Parameters\":{"
    "\"StateMachineArn.$\":\"$.arn\"},\"End\":true}}}";

/* `wf validate` on a file holding `text` prints "<file>: OK", nothing on
 * stderr, and exits 0. */
static void expect_valid_file(const char *text, const char *suffix) {
  char *f = write_temp(text, suffix);
  wft_tool_run r = run_wf((const char *[]){"validate", f, NULL});
  char *want = wft_strf("%s: OK\n", f);
  cr_expect_eq(r.status, 0, "stdout: %s stderr: %s", r.out, r.err);
  cr_expect_str_eq(r.out, want);
  cr_expect_str_eq(r.err, "");
  free(want);
  wft_tool_run_free(&r);
  unlink(f);
  free(f);
}

Test(cli, valid_definition_prints_ok_and_exits_0) {
  expect_valid_file(VALID, ".json");
}

Test(cli, invalid_definition_prints_every_diagnostic_and_exits_1) {
  char *f = write_temp(INVALID, ".json");
  wft_tool_run r = run_wf((const char *[]){"validate", f, NULL});
  char *want = wft_strf(
      "%s: SCHEMA_VALIDATION_FAILED: Field 'Retry' is not supported at "
      "/States/A\n"
      "%s: MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE at "
      "/States/A/Next\n"
      "%s: MISSING_END_STATE: Workflow has no terminal state\n",
      f, f, f);
  cr_expect_eq(r.status, 1);
  cr_expect_str_eq(r.out, want);
  cr_expect_str_eq(r.err, "");
  free(want);
  wft_tool_run_free(&r);
  unlink(f);
  free(f);
}

Test(cli, several_files_exit_1_when_any_is_invalid) {
  char *ok = write_temp(VALID, ".json"), *bad = write_temp("{}", ".json");
  wft_tool_run r = run_wf((const char *[]){"validate", ok, bad, NULL});
  char *want = wft_strf("%s: OK\n%s: SCHEMA_VALIDATION_FAILED: These fields are "
                        "required: [States, StartAt] at /\n",
                        ok, bad);
  cr_expect_eq(r.status, 1);
  cr_expect_str_eq(r.out, want);
  free(want);
  wft_tool_run_free(&r);
  unlink(ok);
  unlink(bad);
  free(ok);
  free(bad);
}

Test(cli, syntax_error_is_reported_without_location_and_exits_1) {
  char *f = write_temp("{\"StartAt\": \"A\",\n \"States\": {", ".json");
  wft_tool_run r = run_wf((const char *[]){"validate", f, NULL});
  char *prefix = wft_strf("%s: INVALID_JSON_DESCRIPTION: ", f);
  cr_expect_eq(r.status, 1);
  cr_expect_eq(strncmp(r.out, prefix, strlen(prefix)), 0, "got: %s", r.out);
  /* AWS's parser message: its source excerpt follows on further lines. */
  char *want = wft_strf(
      "%sUnexpected end-of-input: expected close marker for Object (start "
      "marker at [Source: (String)\"{\"StartAt\": \"A\",\n \"States\": {\"; "
      "line: 2, column: 12])\n at [Source: (String)\"{\"StartAt\": \"A\",\n "
      "\"States\": {\"; line: 2, column: 13]\n",
      prefix);
  cr_expect_str_eq(r.out, want);
  free(want);

  free(prefix);
  wft_tool_run_free(&r);
  unlink(f);
  free(f);
}

Test(cli, yaml_file_is_read_as_yaml) {
  expect_valid_file("StartAt: A\nStates:\n  A:\n    Type: Succeed\n", ".yaml");
}

Test(cli, type_express_applies_express_rules) {
  char *f = write_temp(SYNC_TASK, ".json");
  wft_tool_run std = run_wf((const char *[]){"validate", f, NULL});
  cr_expect_eq(std.status, 0, "%s", std.out);
  wft_tool_run std2 = run_wf((const char *[]){"validate", "--type", "STANDARD", f, NULL});
  cr_expect_eq(std2.status, 0, "%s", std2.out);
  wft_tool_run ex = run_wf((const char *[]){"validate", "--type", "EXPRESS", f, NULL});
  char *want = wft_strf("%s: SCHEMA_VALIDATION_FAILED: Express state machine does "
                        "not support '.sync' service integration at "
                        "/States/T/Resource\n",
                        f);
  cr_expect_eq(ex.status, 1);
  cr_expect_str_eq(ex.out, want);
  wft_tool_run ex2 = run_wf((const char *[]){"validate", "--type=EXPRESS", f, NULL});
  cr_expect_eq(ex2.status, 1);
  cr_expect_str_eq(ex2.out, want);
  free(want);
  wft_tool_run_free(&std);
  wft_tool_run_free(&std2);
  wft_tool_run_free(&ex);
  wft_tool_run_free(&ex2);
  unlink(f);
  free(f);
}

Test(cli, unknown_type_exits_2) {
  char *f = write_temp(VALID, ".json");
  wft_tool_run r = run_wf((const char *[]){"validate", "--type", "FAST", f, NULL});
  cr_expect_eq(r.status, 2);
  cr_expect_str_eq(r.out, "");
  cr_expect_not_null(strstr(r.err, "STANDARD or EXPRESS"), "stderr: %s", r.err);
  wft_tool_run r2 = run_wf((const char *[]){"validate", "--type", NULL});
  cr_expect_eq(r2.status, 2);
  wft_tool_run_free(&r);
  wft_tool_run_free(&r2);
  unlink(f);
  free(f);
}

Test(cli, missing_file_exits_2) {
  wft_tool_run r =
      run_wf((const char *[]){"validate", "/nonexistent/dir/def.json", NULL});
  cr_expect_eq(r.status, 2);
  cr_expect_str_eq(r.out, "");
  cr_expect_not_null(strstr(r.err, "/nonexistent/dir/def.json"), "stderr: %s",
                     r.err);
  wft_tool_run_free(&r);
}

Test(cli, missing_file_wins_over_invalid_file) {
  char *bad = write_temp("{}", ".json");
  wft_tool_run r = run_wf((const char *[]){"validate", bad, "/nonexistent.json", NULL});
  cr_expect_eq(r.status, 2);
  cr_expect_not_null(strstr(r.out, "SCHEMA_VALIDATION_FAILED"));
  wft_tool_run_free(&r);
  unlink(bad);
  free(bad);
}

Test(cli, unknown_option_exits_2) {
  char *f = write_temp(VALID, ".json");
  wft_tool_run r = run_wf((const char *[]){"validate", "--strict", f, NULL});
  cr_expect_eq(r.status, 2);
  cr_expect_str_eq(r.out, "");
  cr_expect_not_null(strstr(r.err, "--strict"), "stderr: %s", r.err);
  wft_tool_run_free(&r);
  unlink(f);
  free(f);
}

Test(cli, no_file_exits_2) {
  wft_tool_run r = run_wf((const char *[]){"validate", NULL});
  cr_expect_eq(r.status, 2);
  cr_expect_str_eq(r.out, "");
  cr_expect_not_null(strstr(r.err, "usage: wf validate"), "stderr: %s", r.err);
  wft_tool_run_free(&r);
}

Test(cli, help_exits_0) {
  wft_tool_run r = run_wf((const char *[]){"validate", "--help", NULL});
  cr_expect_eq(r.status, 0);
  cr_expect_eq(strncmp(r.out, "usage: wf validate", 18), 0, "stdout: %s", r.out);
  cr_expect_str_eq(r.err, "");
  wft_tool_run h = run_wf((const char *[]){"validate", "-h", NULL});
  cr_expect_eq(h.status, 0);
  cr_expect_str_eq(h.out, r.out);
  wft_tool_run top = run_wf((const char *[]){"--help", NULL});
  cr_expect_eq(top.status, 0);
  cr_expect_not_null(strstr(top.out, "validate"));
  wft_tool_run_free(&r);
  wft_tool_run_free(&h);
  wft_tool_run_free(&top);
}

Test(cli, dash_dash_ends_options) {
  char *f = write_temp(VALID, ".json");
  wft_tool_run r = run_wf((const char *[]){"validate", "--", f, NULL});
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  wft_tool_run_free(&r);
  unlink(f);
  free(f);
}

Test(cli, unknown_command_and_no_command_exit_2) {
  wft_tool_run r = run_wf((const char *[]){"lint", NULL});
  cr_expect_eq(r.status, 2);
  wft_tool_run none = run_wf((const char *[]){NULL});
  cr_expect_eq(none.status, 2);
  wft_tool_run_free(&r);
  wft_tool_run_free(&none);
}

/* ---- wf run --store and wf executions ---- */

Test(cli, run_with_a_store_keeps_the_execution_and_executions_shows_it) {
  char dir[] = "/tmp/wf-cli-store-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char *db = wft_strf("%s/store.db", dir);
  char *def = write_temp(VALID, ".json");
  wft_tool_run r = run_wf((const char *[]){"run", def, "--store", db,
                                           "--name", "one", "--input-json",
                                           "{\"k\":1}", NULL});
  cr_assert_eq(r.status, 0, "stdout: %s stderr: %s", r.out, r.err);
  wft_tool_run_free(&r);
  r = run_wf((const char *[]){"executions", db, NULL});
  cr_assert_eq(r.status, 0, "%s", r.err);
  cr_assert(strstr(r.out, "SUCCEEDED") && strstr(r.out, " one "), "%s",
            r.out);
  wft_tool_run_free(&r);
  char *base = strrchr(def, '/') + 1;
  char *machine = strndup(base, strlen(base) - 5); /* without .json */
  char *arn = wft_strf("arn:aws:states:us-east-1:123456789012:execution:%s:one",
                       machine);
  r = run_wf((const char *[]){"executions", db, arn, "--history", NULL});
  cr_assert_eq(r.status, 0, "%s", r.err);
  json_t *o = wft_parse(r.out);
  cr_assert_str_eq(json_string_value(json_object_get(o, "status")),
                   "SUCCEEDED");
  cr_assert_str_eq(json_string_value(json_object_get(o, "output")),
                   "{\"k\":1}");
  cr_assert_eq(json_array_size(json_object_get(o, "history")), 4);
  json_decref(o);
  wft_tool_run_free(&r);
  r = run_wf((const char *[]){"executions", db, "arn:nothing", NULL});
  cr_assert_eq(r.status, 1);
  wft_tool_run_free(&r);
  r = run_wf((const char *[]){"executions", db, "--status", "RUNNING", NULL});
  cr_assert_eq(r.status, 0);
  cr_assert_str_eq(r.out, "");
  wft_tool_run_free(&r);
  r = run_wf((const char *[]){"executions", "/nonexistent/store.db", NULL});
  cr_assert_eq(r.status, 2);
  cr_assert(strstr(r.err, "/nonexistent/store.db"), "%s", r.err);
  wft_tool_run_free(&r);
  free(arn);
  free(machine);
  unlink(def);
  free(def);
  char *wal = wft_strf("%s-wal", db), *shm = wft_strf("%s-shm", db);
  unlink(db);
  unlink(wal);
  unlink(shm);
  rmdir(dir);
  free(wal);
  free(shm);
  free(db);
}
