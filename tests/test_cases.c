/* The JSONPath and intrinsic-function case files
 * (tests/data/jsonpath_cases.json, intrinsic_cases.json) through the public
 * API. Each case is the fields of a Pass state named S, run as
 * {"StartAt":"S","States":{"S":{"Type":"Pass",...,"End":true}}} on an engine
 * with a virtual clock, with the case's input. A case expects "output"
 * (compared as typed JSON; "ignore" paths must exist but are not compared), or
 * "error" and "cause" (exact strings; null: absent), or "invalid": true (the
 * definition is rejected). Each file prints its count and fails listing every
 * mismatch by name. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define SHOW_MAX 400

static char *show_text(const char *s) {
  if (!s) return strdup("(none)");
  return wft_strf("%.*s%s", SHOW_MAX, s, strlen(s) > SHOW_MAX ? "..." : "");
}

static char *show(const json_t *v) {
  char *s = v ? wft_json_dump(v) : NULL;
  char *r = show_text(s);
  free(s);
  return r;
}

static char *definition_of(const json_t *state) {
  json_t *s = json_object();
  json_object_set_new(s, "Type", json_string("Pass"));
  json_object_update(s, (json_t *)state);
  json_object_set_new(s, "End", json_true());
  json_t *def = json_pack("{s:s, s:{s:o}}", "StartAt", "S", "States", "S", s);
  char *text = wft_json_dump(def);
  json_decref(def);
  return text;
}

static bool same_optional(const json_t *want, const char *got) {
  if (!want || json_is_null(want)) return got == NULL;
  return got && json_is_string(want) &&
         strcmp(json_string_value(want), got) == 0;
}

/* Run one case; on a mismatch write why to `out` and return false. */
static bool run_case(wf_engine *engine, const json_t *c, FILE *out) {
  const char *name = json_string_value(json_object_get(c, "name"));
  const json_t *state = json_object_get(c, "state");
  if (!name || !json_is_object(state)) {
    fprintf(out, "  %s: malformed case (no name or state)\n",
            name ? name : "?");
    return false;
  }
  char *def = definition_of(state);
  bool ok = true;
  if (json_is_true(json_object_get(c, "invalid"))) {
    wf_machine *m = NULL;
    wf_error err;
    int rc = wf_machine_load_json(&m, def, NULL, &err);
    if (rc != WF_EINVALID) {
      fprintf(out, "  %s: want WF_EINVALID, got %s%s%s\n      definition %s\n",
              name, wf_error_name(rc), rc ? ": " : "", rc ? err.message : "",
              def);
      ok = false;
    }
    wf_machine_free(m);
    free(def);
    return ok;
  }
  json_t *input = json_object_get(c, "input");
  char *in = input ? wft_json_dump(input) : NULL;
  wft_result r;
  wft_run_definition(&r, engine, def, in, NULL);
  const json_t *want_out = json_object_get(c, "output");
  const json_t *want_err = json_object_get(c, "error");
  char *why = NULL;
  if (r.rc != WF_OK) {
    why = wft_strf("%s: %s %s", wf_error_name(r.rc), r.err.path, r.err.message);
  } else if (!r.finished) {
    why = strdup("still running after 10 s");
  } else if (want_out) {
    json_t *got = r.output ? json_loads(r.output, JSON_DECODE_ANY, NULL) : NULL;
    json_t *want = json_deep_copy(want_out);
    size_t i;
    json_t *ig;
    json_array_foreach(json_object_get(c, "ignore"), i, ig) {
      const char *p = json_string_value(ig);
      if (!p || !got || !wft_json_mark(got, p)) {
        why = wft_strf("ignored path %s is missing", p ? p : "?");
        break;
      }
      wft_json_mark(want, p);
    }
    if (!why && (r.status != WF_EXEC_SUCCEEDED || !wft_json_equal(want, got)))
      why = strdup("");
    json_decref(got);
    json_decref(want);
  } else if (want_err) {
    if (r.status != WF_EXEC_FAILED || !same_optional(want_err, r.error) ||
        !same_optional(json_object_get(c, "cause"), r.cause))
      why = strdup("");
  } else {
    why = strdup("case has no output, error or invalid");
  }
  if (why) {
    char *ws = show(want_out ? want_out : json_object_get(c, "cause"));
    char *gs = show_text(r.status == WF_EXEC_SUCCEEDED ? r.output : r.cause);
    fprintf(out, "  %s: %s%s\n      definition %s\n      input    %s\n", name,
            why, *why ? "" : "mismatch", def, in ? in : "{}");
    if (want_err)
      fprintf(out, "      expected FAILED %s: %s\n",
              json_string_value(want_err), ws);
    else
      fprintf(out, "      expected SUCCEEDED %s\n", ws);
    static const char *const st[] = {"RUNNING", "SUCCEEDED", "FAILED",
                                     "TIMED_OUT", "ABORTED"};
    if (r.status == WF_EXEC_SUCCEEDED)
      fprintf(out, "      got      SUCCEEDED %s\n", gs);
    else
      fprintf(out, "      got      %s %s: %s\n", st[r.status],
              r.error ? r.error : "(no error)", gs);
    free(ws);
    free(gs);
    free(why);
    ok = false;
  }
  wft_result_free(&r);
  free(in);
  free(def);
  return ok;
}

static void run_file(const char *file) {
  char *path = wft_strf("%s/tests/data/%s", WF_SOURCE_DIR, file);
  json_error_t jerr;
  json_t *cases = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  cr_assert_not_null(cases, "%s: line %d: %s", path, jerr.line, jerr.text);
  cr_assert(json_is_array(cases) && json_array_size(cases) > 0, "%s: no cases",
            path);
  wft_env env;
  wf_error err;
  cr_assert_eq(wft_env_init(&env, NULL, &err), WF_OK, "%s", err.message);

  char *text = NULL;
  size_t len = 0, failed = 0, n_out = 0, n_err = 0, n_invalid = 0;
  FILE *out = open_memstream(&text, &len);
  size_t i;
  json_t *c;
  json_array_foreach(cases, i, c) {
    if (!run_case(env.engine, c, out)) failed++;
    if (json_is_true(json_object_get(c, "invalid")))
      n_invalid++;
    else if (json_object_get(c, "error"))
      n_err++;
    else
      n_out++;
  }
  fclose(out);
  size_t n = json_array_size(cases);
  fprintf(stderr, "cases %s: %zu/%zu (%zu output, %zu error, %zu invalid)\n",
          file, n - failed, n, n_out, n_err, n_invalid);
  cr_expect_eq(failed, 0, "%s: %zu case(s) fail:\n%s", file, failed, text);
  free(text);
  wft_env_fini(&env);
  json_decref(cases);
  free(path);
}

Test(cases, jsonpath_cases_run_as_recorded, .timeout = 300) {
  run_file("jsonpath_cases.json");
}

Test(cases, intrinsic_cases_run_as_recorded, .timeout = 300) {
  run_file("intrinsic_cases.json");
}
