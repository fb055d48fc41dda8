/* YAML definitions load exactly as their JSON twins do: the same machine
 * (equal wf_machine_definition()) or the same diagnostics; YAML that is not
 * well-formed is WF_EPARSE with the line and column of the problem. Twins
 * live in tests/data/yaml/ (NAME.yaml beside NAME.json), bad files in
 * tests/data/yaml/bad/ with their expectations in bad/expect.json. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "workflow/workflow.h"

#define YAML_DIR WF_SOURCE_DIR "/tests/data/yaml"

typedef struct loaded {
  int rc;
  wf_machine *m;
  wf_diagnostics *d;
  wf_error err;
} loaded;

static loaded load_path(const char *path) {
  loaded l = {0};
  wf_load_options opts = WF_LOAD_OPTIONS_INIT;
  opts.diagnostics = &l.d;
  l.rc = wf_machine_load_file(&l.m, path, &opts, &l.err);
  return l;
}

static void loaded_free(loaded *l) {
  wf_machine_free(l->m);
  wf_diagnostics_free(l->d);
}

static bool same_text(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Same outcome: equal definitions, or equal diagnostics in the same order.
 * Returns a description of the first difference, or NULL. */
static char *compare(const loaded *y, const loaded *j) {
  if (y->rc != j->rc)
    return wft_strf("YAML gives %s (%s), JSON %s (%s)", wf_error_name(y->rc),
                    y->err.message, wf_error_name(j->rc), j->err.message);
  if (y->rc == WF_OK) {
    if (strcmp(wf_machine_definition(y->m), wf_machine_definition(j->m)) != 0)
      return wft_strf("definitions differ:\n  yaml %s\n  json %s",
                      wf_machine_definition(y->m), wf_machine_definition(j->m));
    if (wf_machine_state_count(y->m) != wf_machine_state_count(j->m))
      return wft_strf("state counts differ");
    return NULL;
  }
  size_t n = wf_diagnostics_count(y->d);
  if (n != wf_diagnostics_count(j->d))
    return wft_strf("%zu diagnostic(s) from YAML, %zu from JSON", n,
                    wf_diagnostics_count(j->d));
  for (size_t i = 0; i < n; i++)
    if (!same_text(wf_diagnostics_code(y->d, i), wf_diagnostics_code(j->d, i)) ||
        !same_text(wf_diagnostics_message(y->d, i),
                   wf_diagnostics_message(j->d, i)) ||
        !same_text(wf_diagnostics_location(y->d, i),
                   wf_diagnostics_location(j->d, i)))
      return wft_strf("diagnostic %zu differs: %s: %s / %s: %s", i,
                      wf_diagnostics_code(y->d, i), wf_diagnostics_message(y->d, i),
                      wf_diagnostics_code(j->d, i), wf_diagnostics_message(j->d, i));
  return NULL;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

Test(yaml, twins_load_to_the_same_machine) {
  DIR *dir = opendir(YAML_DIR);
  cr_assert_not_null(dir, "cannot open %s", YAML_DIR);
  size_t pairs = 0, valid = 0, invalid = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    const char *suffix = ends_with(e->d_name, ".yaml") ? ".yaml"
                         : ends_with(e->d_name, ".yml") ? ".yml"
                                                        : NULL;
    if (!suffix) continue;
    int stem = (int)(strlen(e->d_name) - strlen(suffix));
    char *ypath = wft_strf("%s/%s", YAML_DIR, e->d_name);
    char *jpath = wft_strf("%s/%.*s.json", YAML_DIR, stem, e->d_name);
    if (exists(jpath)) {
      loaded y = load_path(ypath), j = load_path(jpath);
      char *diff = compare(&y, &j);
      cr_expect_null(diff, "%s: %s", e->d_name, diff ? diff : "");
      free(diff);
      pairs++;
      if (j.rc == WF_OK) valid++;
      else invalid++;
      loaded_free(&y);
      loaded_free(&j);
    }
    free(ypath);
    free(jpath);
  }
  closedir(dir);
  fprintf(stderr, "yaml twins: %zu pairs (%zu valid, %zu invalid)\n", pairs,
          valid, invalid);
  cr_expect_geq(pairs, 4);
  cr_expect_geq(valid, 3);
  cr_expect_geq(invalid, 1);
}

/* Bad files: bad/expect.json maps each file to the line and column of its
 * error, either as {"file.yaml": {"line": L, "column": C}, …} or as a list
 * of {"file": …, "line": L, "column": C}. */
static void check_bad(const char *file, json_t *want, size_t *checked) {
  char *path = wft_strf("%s/bad/%s", YAML_DIR, file);
  loaded l = load_path(path);
  cr_expect_eq(l.rc, WF_EPARSE, "%s: %s (%s)", file, wf_error_name(l.rc),
               l.err.message);
  json_t *line = json_object_get(want, "line"), *col = json_object_get(want, "column");
  if (json_is_integer(line))
    cr_expect_eq(l.err.line, json_integer_value(line), "%s: line %d, want %lld (%s)",
                 file, l.err.line, (long long)json_integer_value(line), l.err.message);
  if (json_is_integer(col))
    cr_expect_eq(l.err.column, json_integer_value(col),
                 "%s: column %d, want %lld (%s)", file, l.err.column,
                 (long long)json_integer_value(col), l.err.message);
  if (l.rc == WF_EPARSE) {
    cr_expect_eq(wf_diagnostics_count(l.d), 1, "%s", file);
    cr_expect_str_eq(wf_diagnostics_code(l.d, 0), "INVALID_JSON_DESCRIPTION");
    cr_expect_eq(wf_diagnostics_line(l.d, 0), l.err.line);
    cr_expect_eq(wf_diagnostics_column(l.d, 0), l.err.column);
  }
  (*checked)++;
  loaded_free(&l);
  free(path);
}

Test(yaml, bad_files_are_eparse_at_their_line_and_column) {
  char *path = wft_strf("%s/bad/expect.json", YAML_DIR);
  if (!exists(path)) {
    free(path);
    cr_skip_test("no %s/bad/expect.json", YAML_DIR);
  }
  json_error_t jerr;
  json_t *expect = json_load_file(path, 0, &jerr);
  cr_assert_not_null(expect, "%s: %s", path, jerr.text);
  size_t checked = 0;
  json_t *list = json_is_array(expect) ? expect : json_object_get(expect, "cases");
  if (json_is_array(list)) {
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
      const char *file = json_string_value(json_object_get(c, "file"));
      cr_assert_not_null(file, "case %zu names no file", i);
      check_bad(file, c, &checked);
    }
  } else {
    const char *file;
    json_t *c;
    json_object_foreach(expect, file, c) {
      if (json_is_object(c)) check_bad(file, c, &checked);
    }
  }
  fprintf(stderr, "yaml bad files: %zu\n", checked);
  cr_expect_gt(checked, 0);
  json_decref(expect);
  free(path);
}

/* ---- inline cases ----------------------------------------------------- */

static void expect_same(const char *yaml, const char *json) {
  wf_machine *y = NULL, *j = NULL;
  wf_error ey, ej;
  cr_assert_eq(wf_machine_load_yaml(&y, yaml, NULL, &ey), WF_OK, "yaml: %s",
               ey.message);
  cr_assert_eq(wf_machine_load_json(&j, json, NULL, &ej), WF_OK, "json: %s",
               ej.message);
  cr_expect_str_eq(wf_machine_definition(y), wf_machine_definition(j));
  wf_machine_free(y);
  wf_machine_free(j);
}

Test(yaml, scalars_follow_the_core_schema) {
  expect_same(
      "StartAt: A\n"
      "States:\n"
      "  A:\n"
      "    Type: Pass\n"
      "    Result:\n"
      "      int: 42\n"
      "      negative: -7\n"
      "      hex: 0x1F\n"
      "      octal: 0o17\n"
      "      real: 2.5\n"
      "      exp: 1e3\n"
      "      yes: true\n"
      "      no: False\n"
      "      nothing: ~\n"
      "      empty:\n"
      "      null_word: null\n"
      "      quoted_number: \"42\"\n"
      "      single: 'it''s'\n"
      "      word_yes: yes\n"
      "      word_on: on\n"
      "      path: $.a.b\n"
      "      unicode: \"caf\\u00e9 \\u6b65\"\n"
      "      list: [1, two, 3.0]\n"
      "      block: |\n"
      "        a\n"
      "        b\n"
      "    End: true\n",
      "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Result\":{"
      "\"int\":42,\"negative\":-7,\"hex\":31,\"octal\":15,\"real\":2.5,"
      "\"exp\":1000.0,\"yes\":true,\"no\":false,\"nothing\":null,"
      "\"empty\":null,\"null_word\":null,\"quoted_number\":\"42\","
      "\"single\":\"it's\",\"word_yes\":\"yes\",\"word_on\":\"on\","
      "\"path\":\"$.a.b\",\"unicode\":\"caf\\u00e9 \\u6b65\","
      "\"list\":[1,\"two\",3.0],\"block\":\"a\\nb\\n\"},\"End\":true}}}");
}

Test(yaml, json_text_is_yaml_too) {
  const char *json =
      "{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Wait\", "
      "\"Seconds\": 5, \"Next\": \"B\"}, \"B\": {\"Type\": \"Succeed\"}}}";
  expect_same(json, json);
}

Test(yaml, anchors_and_aliases_are_expanded) {
  expect_same("StartAt: A\n"
              "States:\n"
              "  A: &pass {Type: Pass, Next: B}\n"
              "  B:\n"
              "    Type: Pass\n"
              "    Result: *pass\n"
              "    End: true\n",
              "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Next\":"
              "\"B\"},\"B\":{\"Type\":\"Pass\",\"Result\":{\"Type\":\"Pass\","
              "\"Next\":\"B\"},\"End\":true}}}");
}

/* Aliases of aliases: about 400 bytes of YAML that stand for megabytes of
 * JSON are held to the limit the JSON text is held to (they loaded as a 5 MB
 * definition). Below the limit they still load. */
static char *nested_aliases(int levels, int width) {
  char *y = wft_strf("StartAt: A\nx0: &a0 \"%s\"\n",
                     "0123456789012345678901234567890123456789"
                     "0123456789012345678901234567890123456789");
  for (int i = 1; i < levels; i++) {
    char *row = wft_strf("x%d: &a%d [", i, i);
    for (int k = 0; k < width; k++) {
      char *more = wft_strf("%s%s*a%d", row, k ? ", " : "", i - 1);
      free(row);
      row = more;
    }
    char *next = wft_strf("%s%s]\n", y, row);
    free(row);
    free(y);
    y = next;
  }
  char *out = wft_strf("%sStates:\n  A: {Type: Pass, Result: *a%d, End: "
                       "true}\n",
                       y, levels - 1);
  free(y);
  return out;
}

Test(yaml, aliases_expanding_past_the_definition_limit_are_refused) {
  char *bomb = nested_aliases(6, 9); /* 80 bytes x 9^5: 4.7 MB */
  cr_assert_lt(strlen(bomb), 600);
  wf_machine *m = NULL;
  wf_error err;
  cr_assert_eq(wf_machine_load_yaml(&m, bomb, NULL, &err), WF_ELIMIT, "%s",
               err.message);
  cr_assert_null(m);
  cr_assert(strstr(err.message, "aliases expanded"), "%s", err.message);
  char *json = NULL;
  cr_assert_eq(wf_yaml_to_json(&json, bomb, &err), WF_ELIMIT, "%s",
               err.message);
  cr_assert_null(json);
  free(bomb);
  char *fine = nested_aliases(3, 9); /* 80 bytes x 81: 6.5 KB */
  cr_assert_eq(wf_yaml_to_json(&json, fine, &err), WF_OK, "%s", err.message);
  wf_string_free(json);
  cr_assert_eq(wf_machine_load_yaml(&m, fine, NULL, &err), WF_EINVALID,
               "a valid YAML document goes on to validation: %s",
               err.message);
  free(fine);
}

Test(yaml, invalid_yaml_definition_gives_the_json_diagnostics) {
  wf_diagnostics *dy = NULL, *dj = NULL;
  wf_load_options oy = WF_LOAD_OPTIONS_INIT, oj = WF_LOAD_OPTIONS_INIT;
  oy.diagnostics = &dy;
  oj.diagnostics = &dj;
  wf_machine *m = NULL;
  wf_error err;
  cr_assert_eq(wf_machine_load_yaml(&m,
                                    "StartAt: A\nStates:\n  A:\n    Type: Task\n"
                                    "    End: true\n",
                                    &oy, &err),
               WF_EINVALID);
  cr_assert_eq(wf_machine_load_json(&m,
                                    "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":"
                                    "\"Task\",\"End\":true}}}",
                                    &oj, NULL),
               WF_EINVALID);
  cr_assert_eq(wf_diagnostics_count(dy), 1);
  cr_assert_eq(wf_diagnostics_count(dj), 1);
  cr_expect_str_eq(wf_diagnostics_message(dy, 0), wf_diagnostics_message(dj, 0));
  cr_expect_str_eq(wf_diagnostics_location(dy, 0), "/States/A");
  /* Validation problems are located in the definition, not in the text. */
  cr_expect_eq(err.line, 0);
  cr_expect_str_eq(err.path, "/States/A");
  wf_diagnostics_free(dy);
  wf_diagnostics_free(dj);
}

static void expect_bad(const char *yaml, int line, int column) {
  wf_machine *m = (wf_machine *)1;
  wf_diagnostics *d = NULL;
  wf_load_options opts = WF_LOAD_OPTIONS_INIT;
  opts.diagnostics = &d;
  wf_error err;
  cr_assert_eq(wf_machine_load_yaml(&m, yaml, &opts, &err), WF_EPARSE,
               "%s", yaml);
  cr_expect_null(m);
  cr_expect_eq(err.code, WF_EPARSE);
  cr_expect_eq(err.line, line, "line %d, want %d: %s", err.line, line, err.message);
  cr_expect_eq(err.column, column, "column %d, want %d: %s", err.column, column,
               err.message);
  cr_assert_eq(wf_diagnostics_count(d), 1);
  cr_expect_str_eq(wf_diagnostics_code(d, 0), "INVALID_JSON_DESCRIPTION");
  cr_expect_null(wf_diagnostics_location(d, 0));
  cr_expect_eq(wf_diagnostics_line(d, 0), line);
  cr_expect_eq(wf_diagnostics_column(d, 0), column);
  wf_diagnostics_free(d);
}

Test(yaml, bad_indentation_is_eparse_at_its_position) {
  expect_bad("StartAt: A\nStates:\n  A:\n    Type: Pass\n   End: true\n", 5, 4);
}

Test(yaml, unclosed_flow_mapping_is_eparse) {
  expect_bad("StartAt: A\nStates: {A: {Type: Pass, End: true}\n", 3, 1);
}

Test(yaml, duplicate_key_is_eparse) {
  expect_bad("StartAt: A\nStates:\n  A: {Type: Pass, End: true}\n"
             "  A: {Type: Succeed}\n",
             4, 3);
}

Test(yaml, tab_indentation_is_eparse) {
  expect_bad("StartAt: A\nStates:\n  A:\n\tType: Pass\n", 4, 1);
}

Test(yaml, yml_and_yaml_files_are_read_as_yaml) {
  static const char text[] = "StartAt: A\nStates:\n  A: {Type: Succeed}\n";
  const char *suffixes[] = {".yml", ".yaml"};
  for (size_t i = 0; i < 2; i++) {
    char *path = wft_strf("/tmp/wf-yaml-XXXXXX%s", suffixes[i]);
    int fd = mkstemps(path, (int)strlen(suffixes[i]));
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    loaded l = load_path(path);
    cr_expect_eq(l.rc, WF_OK, "%s: %s", path, l.err.message);
    if (l.rc == WF_OK)
      cr_expect_str_eq(wf_machine_definition(l.m),
                       "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}");
    loaded_free(&l);
    unlink(path);
    free(path);
  }
}
