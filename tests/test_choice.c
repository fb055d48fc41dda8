/* Choice rules through the public API: every comparison operator and its
 * …Path twin, StringMatches, the Is… type tests, And/Or/Not, Default and
 * the run-time errors. Each row runs the machine
 *   C (Choice: [rule -> Yes], Default -> No) ; Yes: "yes" ; No: "no"
 * with the row's input, so a rule that matches gives "yes" and one that
 * does not gives "no". A type mismatch is a non-match, never an error
 * (ASL; AWS's choice operator recordings). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define PREFIX                                                                \
  "An error occurred while executing the state 'C' (entered at the event id " \
  "#2). "

typedef struct row {
  const char *rule;  /* the rule's members, without Next */
  const char *input; /* the execution input */
  const char *want;  /* "yes", "no" or "FAILED <error>" */
} row;

/* What the machine did: "yes", "no", or "FAILED <error>: <cause>". */
static char *choose(wf_engine *engine, const char *rule, const char *input,
                    int with_default) {
  char *def = wft_strf(
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":"
      "[{%s,\"Next\":\"Yes\"}]%s},\"Yes\":{\"Type\":\"Pass\",\"Result\":"
      "\"yes\","
      "\"End\":true},\"No\":{\"Type\":\"Pass\",\"Result\":\"no\",\"End\":true}}"
      "}",
      rule, with_default ? ",\"Default\":\"No\"" : "");
  wft_result r;
  wft_run_definition(&r, engine, def, input, NULL);
  char *got;
  if (r.rc != WF_OK)
    got = wft_strf("load/start %s: %s %s", wf_error_name(r.rc), r.err.path,
                   r.err.message);
  else if (r.status == WF_EXEC_SUCCEEDED)
    got = strcmp(r.output, "\"yes\"") == 0  ? strdup("yes")
          : strcmp(r.output, "\"no\"") == 0 ? strdup("no")
                                            : wft_strf("output %s", r.output);
  else
    got = wft_strf("FAILED %s: %s", r.error ? r.error : "(none)",
                   r.cause ? r.cause : "(none)");
  wft_result_free(&r);
  free(def);
  return got;
}

/* Run every row; fail listing each mismatch. A want of "FAILED X" checks
 * only the error name. */
static void check_rows(const row *rows, size_t n) {
  wft_env env;
  wf_error err;
  cr_assert_eq(wft_env_init(&env, NULL, &err), WF_OK, "%s", err.message);
  char *text = NULL;
  size_t len = 0, failed = 0;
  FILE *out = open_memstream(&text, &len);
  for (size_t i = 0; i < n; i++) {
    char *got = choose(env.engine, rows[i].rule, rows[i].input, 1);
    size_t wl = strlen(rows[i].want);
    int ok = strncmp(rows[i].want, "FAILED ", 7) == 0
                 ? strncmp(got, rows[i].want, wl) == 0 && got[wl] == ':'
                 : strcmp(got, rows[i].want) == 0;
    if (!ok) {
      fprintf(out, "  {%s} on %s: want %s, got %s\n", rows[i].rule,
              rows[i].input, rows[i].want, got);
      failed++;
    }
    free(got);
  }
  fclose(out);
  cr_expect_eq(failed, 0, "%zu of %zu rule(s) wrong:\n%s", failed, n, text);
  free(text);
  wft_env_fini(&env);
}

#define CHECK_ROWS(rows) check_rows(rows, sizeof(rows) / sizeof((rows)[0]))

Test(choice, string_equals_matches_equal_strings_only) {
  static const row rows[] = {
      {"\"Variable\":\"$.x\",\"StringEquals\":\"abc\"", "{\"x\":\"abc\"}",
       "yes"},
      {"\"Variable\":\"$.x\",\"StringEquals\":\"abc\"", "{\"x\":\"abd\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringEquals\":\"abc\"", "{\"x\":\"ABC\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringEquals\":\" \"", "{\"x\":\"     \"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringEquals\":\"\"", "{\"x\":\"\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringEquals\":\"\\u00e9\"",
       "{\"x\":\"\\u00e9\"}", "yes"},
      /* type mismatches are non-matches */
      {"\"Variable\":\"$.x\",\"StringEquals\":\"1\"", "{\"x\":1}", "no"},
      {"\"Variable\":\"$.x\",\"StringEquals\":\"true\"", "{\"x\":true}", "no"},
      {"\"Variable\":\"$.x\",\"StringEquals\":\"null\"", "{\"x\":null}", "no"},
      {"\"Variable\":\"$.x\",\"StringEquals\":\"[]\"", "{\"x\":[]}", "no"},
      {"\"Variable\":\"$.x\",\"StringEquals\":\"{}\"", "{\"x\":{}}", "no"},
      /* the whole input and nested fields */
      {"\"Variable\":\"$\",\"StringEquals\":\"top\"", "\"top\"", "yes"},
      {"\"Variable\":\"$.a.b[1]\",\"StringEquals\":\"q\"",
       "{\"a\":{\"b\":[\"p\",\"q\"]}}", "yes"},
  };
  CHECK_ROWS(rows);
}

Test(choice, string_ordering_compares_code_points) {
  static const row rows[] = {
      {"\"Variable\":\"$.x\",\"StringLessThan\":\"AB\"", "{\"x\":\"A\"}",
       "yes"},
      {"\"Variable\":\"$.x\",\"StringLessThan\":\"A\"", "{\"x\":\"AB\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringLessThan\":\"a\"", "{\"x\":\"B\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringLessThan\":\"abc\"", "{\"x\":\"abc\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringLessThan\":\"b\"", "{\"x\":1}", "no"},
      {"\"Variable\":\"$.x\",\"StringGreaterThan\":\"a\"", "{\"x\":\"b\"}",
       "yes"},
      {"\"Variable\":\"$.x\",\"StringGreaterThan\":\"b\"", "{\"x\":\"b\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringGreaterThan\":\"z\"",
       "{\"x\":\"\\u00e9\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringGreaterThan\":\"a\"", "{\"x\":null}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringLessThanEquals\":\"b\"", "{\"x\":\"b\"}",
       "yes"},
      {"\"Variable\":\"$.x\",\"StringLessThanEquals\":\"b\"", "{\"x\":\"a\"}",
       "yes"},
      {"\"Variable\":\"$.x\",\"StringLessThanEquals\":\"b\"", "{\"x\":\"c\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringLessThanEquals\":\"b\"", "{\"x\":false}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanEquals\":\"b\"",
       "{\"x\":\"b\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanEquals\":\"b\"",
       "{\"x\":\"c\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanEquals\":\"b\"",
       "{\"x\":\"a\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanEquals\":\"b\"",
       "{\"x\":[\"c\"]}", "no"},
  };
  CHECK_ROWS(rows);
}

Test(choice, string_path_twins_compare_two_fields) {
  static const row rows[] = {
      {"\"Variable\":\"$.x\",\"StringEqualsPath\":\"$.y\"",
       "{\"x\":\"a\",\"y\":\"a\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringEqualsPath\":\"$.y\"",
       "{\"x\":\"a\",\"y\":\"b\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringEqualsPath\":\"$.y\"",
       "{\"x\":\"1\",\"y\":1}", "no"},
      {"\"Variable\":\"$.x\",\"StringLessThanPath\":\"$.y\"",
       "{\"x\":\"a\",\"y\":\"b\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringLessThanPath\":\"$.y\"",
       "{\"x\":\"b\",\"y\":\"a\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringLessThanPath\":\"$.y\"",
       "{\"x\":1,\"y\":\"b\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanPath\":\"$.y\"",
       "{\"x\":\"b\",\"y\":\"a\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanPath\":\"$.y\"",
       "{\"x\":\"a\",\"y\":\"a\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanPath\":\"$.y\"",
       "{\"x\":\"b\",\"y\":[\"a\"]}", "no"},
      {"\"Variable\":\"$.x\",\"StringLessThanEqualsPath\":\"$.y\"",
       "{\"x\":\"a\",\"y\":\"a\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringLessThanEqualsPath\":\"$.y\"",
       "{\"x\":\"b\",\"y\":\"a\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringLessThanEqualsPath\":\"$.y\"",
       "{\"x\":true,\"y\":\"true\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanEqualsPath\":\"$.y\"",
       "{\"x\":\"a\",\"y\":\"a\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanEqualsPath\":\"$.y\"",
       "{\"x\":\"a\",\"y\":\"b\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringGreaterThanEqualsPath\":\"$.y\"",
       "{\"x\":\"a\",\"y\":null}", "no"},
      /* the second operand may come from the context object */
      {"\"Variable\":\"$.x\",\"StringEqualsPath\":\"$$.State.Name\"",
       "{\"x\":\"C\"}", "yes"},
  };
  CHECK_ROWS(rows);
}

Test(choice, numeric_comparisons_compare_values_across_forms) {
  static const row rows[] = {
      {"\"Variable\":\"$.x\",\"NumericEquals\":1", "{\"x\":1}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":1", "{\"x\":1.0}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":0", "{\"x\":0.0}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":2.22", "{\"x\":2.22}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":1", "{\"x\":2}", "no"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":-3", "{\"x\":-3}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":1", "{\"x\":\"1\"}", "no"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":1", "{\"x\":true}", "no"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":0", "{\"x\":null}", "no"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":0", "{\"x\":[]}", "no"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":0", "{\"x\":{}}", "no"},
      {"\"Variable\":\"$.x\",\"NumericLessThan\":1.5", "{\"x\":1}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericLessThan\":1", "{\"x\":1}", "no"},
      {"\"Variable\":\"$.x\",\"NumericLessThan\":-1", "{\"x\":-2.5}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericLessThan\":10", "{\"x\":\"2\"}", "no"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThan\":1", "{\"x\":1.01}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThan\":1", "{\"x\":1.0}", "no"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThan\":0", "{\"x\":false}", "no"},
      {"\"Variable\":\"$.x\",\"NumericLessThanEquals\":1", "{\"x\":1.0}",
       "yes"},
      {"\"Variable\":\"$.x\",\"NumericLessThanEquals\":1", "{\"x\":0}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericLessThanEquals\":1", "{\"x\":2}", "no"},
      {"\"Variable\":\"$.x\",\"NumericLessThanEquals\":1", "{\"x\":null}",
       "no"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThanEquals\":1", "{\"x\":1}",
       "yes"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThanEquals\":1", "{\"x\":0.999}",
       "no"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThanEquals\":1", "{\"x\":\"5\"}",
       "no"},
  };
  CHECK_ROWS(rows);
}

Test(choice, numeric_path_twins_compare_two_fields) {
  static const row rows[] = {
      {"\"Variable\":\"$.x\",\"NumericEqualsPath\":\"$.y\"",
       "{\"x\":3,\"y\":3.0}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericEqualsPath\":\"$.y\"",
       "{\"x\":3,\"y\":4}", "no"},
      {"\"Variable\":\"$.x\",\"NumericEqualsPath\":\"$.y\"",
       "{\"x\":3,\"y\":\"3\"}", "no"},
      {"\"Variable\":\"$.x\",\"NumericLessThanPath\":\"$.y\"",
       "{\"x\":3,\"y\":4}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericLessThanPath\":\"$.y\"",
       "{\"x\":4,\"y\":4}", "no"},
      {"\"Variable\":\"$.x\",\"NumericLessThanPath\":\"$.y\"",
       "{\"x\":\"1\",\"y\":4}", "no"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThanPath\":\"$.y\"",
       "{\"x\":5,\"y\":4.5}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThanPath\":\"$.y\"",
       "{\"x\":4,\"y\":4.5}", "no"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThanPath\":\"$.y\"",
       "{\"x\":5,\"y\":false}", "no"},
      {"\"Variable\":\"$.x\",\"NumericLessThanEqualsPath\":\"$.y\"",
       "{\"x\":4,\"y\":4}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericLessThanEqualsPath\":\"$.y\"",
       "{\"x\":5,\"y\":4}", "no"},
      {"\"Variable\":\"$.x\",\"NumericLessThanEqualsPath\":\"$.y\"",
       "{\"x\":3,\"y\":{}}", "no"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThanEqualsPath\":\"$.y\"",
       "{\"x\":4,\"y\":4}", "yes"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThanEqualsPath\":\"$.y\"",
       "{\"x\":3,\"y\":4}", "no"},
      {"\"Variable\":\"$.x\",\"NumericGreaterThanEqualsPath\":\"$.y\"",
       "{\"x\":3,\"y\":null}", "no"},
      {"\"Variable\":\"$.x\",\"NumericEqualsPath\":\"$$.Execution.Input.x\"",
       "{\"x\":7}", "yes"},
  };
  CHECK_ROWS(rows);
}

Test(choice, boolean_equals_matches_booleans_only) {
  static const row rows[] = {
      {"\"Variable\":\"$.x\",\"BooleanEquals\":true", "{\"x\":true}", "yes"},
      {"\"Variable\":\"$.x\",\"BooleanEquals\":true", "{\"x\":false}", "no"},
      {"\"Variable\":\"$.x\",\"BooleanEquals\":false", "{\"x\":false}", "yes"},
      {"\"Variable\":\"$.x\",\"BooleanEquals\":false", "{\"x\":0}", "no"},
      {"\"Variable\":\"$.x\",\"BooleanEquals\":true", "{\"x\":\"true\"}", "no"},
      {"\"Variable\":\"$.x\",\"BooleanEquals\":true", "{\"x\":1}", "no"},
      {"\"Variable\":\"$.x\",\"BooleanEquals\":false", "{\"x\":null}", "no"},
      {"\"Variable\":\"$.x\",\"BooleanEqualsPath\":\"$.y\"",
       "{\"x\":true,\"y\":true}", "yes"},
      {"\"Variable\":\"$.x\",\"BooleanEqualsPath\":\"$.y\"",
       "{\"x\":false,\"y\":false}", "yes"},
      {"\"Variable\":\"$.x\",\"BooleanEqualsPath\":\"$.y\"",
       "{\"x\":true,\"y\":false}", "no"},
      {"\"Variable\":\"$.x\",\"BooleanEqualsPath\":\"$.y\"",
       "{\"x\":true,\"y\":\"true\"}", "no"},
  };
  CHECK_ROWS(rows);
}

Test(choice, timestamps_compare_as_instants) {
  static const row rows[] = {
      {"\"Variable\":\"$.t\",\"TimestampEquals\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01T00:00:00Z\"}", "yes"},
      {"\"Variable\":\"$.t\",\"TimestampEquals\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01T01:00:00+01:00\"}", "yes"},
      {"\"Variable\":\"$.t\",\"TimestampEquals\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01T00:00:00.000Z\"}", "yes"},
      {"\"Variable\":\"$.t\",\"TimestampEquals\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01T00:00:01Z\"}", "no"},
      /* not RFC 3339 with an offset, or not a string: no match */
      {"\"Variable\":\"$.t\",\"TimestampEquals\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01T00:00:00\"}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampEquals\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01 00:00:00Z\"}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampEquals\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01\"}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampEquals\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":1704067200}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampLessThan\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2023-12-31T23:59:59.999Z\"}", "yes"},
      {"\"Variable\":\"$.t\",\"TimestampLessThan\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01T00:30:00+01:00\"}", "yes"},
      {"\"Variable\":\"$.t\",\"TimestampLessThan\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01T00:00:00Z\"}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampLessThan\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2023-12-31\"}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampGreaterThan\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01T00:00:00.5Z\"}", "yes"},
      {"\"Variable\":\"$.t\",\"TimestampGreaterThan\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2024-01-01T00:00:00-00:01\"}", "yes"},
      {"\"Variable\":\"$.t\",\"TimestampGreaterThan\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2023-01-01T00:00:00Z\"}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampGreaterThan\":\"2024-01-01T00:00:00Z\"",
       "{\"t\":\"2025-02-24 12:15:56.832957\"}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampLessThanEquals\":\"2024-01-01T00:00:"
       "00Z\"",
       "{\"t\":\"2024-01-01T00:00:00Z\"}", "yes"},
      {"\"Variable\":\"$.t\",\"TimestampLessThanEquals\":\"2024-01-01T00:00:"
       "00Z\"",
       "{\"t\":\"2024-01-01T00:00:01Z\"}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampLessThanEquals\":\"2024-01-01T00:00:"
       "00Z\"",
       "{\"t\":0}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampGreaterThanEquals\":\"2024-01-01T00:00:"
       "00Z\"",
       "{\"t\":\"2024-01-01T00:00:00Z\"}", "yes"},
      {"\"Variable\":\"$.t\",\"TimestampGreaterThanEquals\":\"2024-01-01T00:00:"
       "00Z\"",
       "{\"t\":\"2023-12-31T23:59:59Z\"}", "no"},
      {"\"Variable\":\"$.t\",\"TimestampGreaterThanEquals\":\"2024-01-01T00:00:"
       "00Z\"",
       "{\"t\":null}", "no"},
  };
  CHECK_ROWS(rows);
}

Test(choice, timestamp_path_twins_compare_two_fields) {
  static const row rows[] = {
      {"\"Variable\":\"$.a\",\"TimestampEqualsPath\":\"$.b\"",
       "{\"a\":\"2024-05-01T10:00:00Z\",\"b\":\"2024-05-01T12:00:00+02:00\"}",
       "yes"},
      {"\"Variable\":\"$.a\",\"TimestampEqualsPath\":\"$.b\"",
       "{\"a\":\"2024-05-01T10:00:00Z\",\"b\":\"2024-05-01T10:00:00+02:00\"}",
       "no"},
      {"\"Variable\":\"$.a\",\"TimestampEqualsPath\":\"$.b\"",
       "{\"a\":\"2024-05-01T10:00:00Z\",\"b\":\"tomorrow\"}", "no"},
      {"\"Variable\":\"$.a\",\"TimestampLessThanPath\":\"$.b\"",
       "{\"a\":\"2024-05-01T10:00:00Z\",\"b\":\"2024-05-01T10:00:01Z\"}",
       "yes"},
      {"\"Variable\":\"$.a\",\"TimestampLessThanPath\":\"$.b\"",
       "{\"a\":\"2024-05-01T10:00:01Z\",\"b\":\"2024-05-01T10:00:00Z\"}", "no"},
      {"\"Variable\":\"$.a\",\"TimestampLessThanPath\":\"$.b\"",
       "{\"a\":\"2024-05-01\",\"b\":\"2024-05-01T10:00:00Z\"}", "no"},
      {"\"Variable\":\"$.a\",\"TimestampGreaterThanPath\":\"$.b\"",
       "{\"a\":\"2024-05-02T00:00:00Z\",\"b\":\"2024-05-01T00:00:00Z\"}",
       "yes"},
      {"\"Variable\":\"$.a\",\"TimestampGreaterThanPath\":\"$.b\"",
       "{\"a\":\"2024-05-01T00:00:00Z\",\"b\":\"2024-05-01T00:00:00Z\"}", "no"},
      {"\"Variable\":\"$.a\",\"TimestampGreaterThanPath\":\"$.b\"",
       "{\"a\":\"2024-05-02T00:00:00Z\",\"b\":null}", "no"},
      {"\"Variable\":\"$.a\",\"TimestampLessThanEqualsPath\":\"$.b\"",
       "{\"a\":\"2024-05-01T00:00:00Z\",\"b\":\"2024-05-01T00:00:00Z\"}",
       "yes"},
      {"\"Variable\":\"$.a\",\"TimestampLessThanEqualsPath\":\"$.b\"",
       "{\"a\":\"2024-05-02T00:00:00Z\",\"b\":\"2024-05-01T00:00:00Z\"}", "no"},
      {"\"Variable\":\"$.a\",\"TimestampLessThanEqualsPath\":\"$.b\"",
       "{\"a\":true,\"b\":\"2024-05-01T00:00:00Z\"}", "no"},
      {"\"Variable\":\"$.a\",\"TimestampGreaterThanEqualsPath\":\"$.b\"",
       "{\"a\":\"2024-05-01T00:00:00Z\",\"b\":\"2024-05-01T00:00:00Z\"}",
       "yes"},
      {"\"Variable\":\"$.a\",\"TimestampGreaterThanEqualsPath\":\"$.b\"",
       "{\"a\":\"2024-04-30T00:00:00Z\",\"b\":\"2024-05-01T00:00:00Z\"}", "no"},
      {"\"Variable\":\"$.a\",\"TimestampGreaterThanEqualsPath\":\"$.b\"",
       "{\"a\":\"2024-04-30T00:00:00Z\",\"b\":5}", "no"},
  };
  CHECK_ROWS(rows);
}

Test(choice, string_matches_treats_only_star_as_wildcard) {
  static const row rows[] = {
      {"\"Variable\":\"$.x\",\"StringMatches\":\"foo*.log\"",
       "{\"x\":\"foo23.log\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"foo*.log\"",
       "{\"x\":\"foo.log\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"foo*.log\"",
       "{\"x\":\"foo23.txt\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"*.log\"",
       "{\"x\":\"zebra.log\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"foo*.*\"",
       "{\"x\":\"foobar.zebra\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"*\"", "{\"x\":\"\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a*b*c\"",
       "{\"x\":\"a--b--b--c\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a*b*c\"",
       "{\"x\":\"a--c--b\"}", "no"},
      /* the whole string must match, case-sensitively */
      {"\"Variable\":\"$.x\",\"StringMatches\":\"abc\"", "{\"x\":\"xabcx\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"abc\"", "{\"x\":\"ABC\"}",
       "no"},
      /* ? and [...] are plain characters */
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a?c\"", "{\"x\":\"abc\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a?c\"", "{\"x\":\"a?c\"}",
       "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"[ab]\"", "{\"x\":\"a\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"[ab]\"", "{\"x\":\"[ab]\"}",
       "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a.c\"", "{\"x\":\"abc\"}",
       "no"},
      /* \* is a literal star, \\ a literal backslash */
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a\\\\*b\"", "{\"x\":\"a*b\"}",
       "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a\\\\*b\"", "{\"x\":\"axb\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a\\\\\\\\b\"",
       "{\"x\":\"a\\\\b\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a\\\\\\\\*\"",
       "{\"x\":\"a\\\\xyz\"}", "yes"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"a\\\\\\\\*\"",
       "{\"x\":\"axyz\"}", "no"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"\\u00e9*\"",
       "{\"x\":\"\\u00e9t\\u00e9\"}", "yes"},
      /* non-strings never match */
      {"\"Variable\":\"$.x\",\"StringMatches\":\"*\"", "{\"x\":1}", "no"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"*\"", "{\"x\":null}", "no"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"*\"", "{\"x\":[\"a\"]}", "no"},
  };
  CHECK_ROWS(rows);
}

Test(choice, string_matches_with_an_open_escape_fails_at_run_time) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  char *got =
      choose(env.engine, "\"Variable\":\"$.x\",\"StringMatches\":\"abc\\\\\"",
             "{\"x\":\"abc\"}", 1);
  cr_expect(strncmp(got, "FAILED States.Runtime: " PREFIX,
                    strlen("FAILED States.Runtime: " PREFIX)) == 0,
            "got %s", got);
  free(got);
  wft_env_fini(&env);
}

Test(choice, type_tests_with_true_and_false) {
  static const row rows[] = {
      {"\"Variable\":\"$.x\",\"IsNull\":true", "{\"x\":null}", "yes"},
      {"\"Variable\":\"$.x\",\"IsNull\":true", "{\"x\":\"\"}", "no"},
      {"\"Variable\":\"$.x\",\"IsNull\":true", "{\"x\":0}", "no"},
      {"\"Variable\":\"$.x\",\"IsNull\":false", "{\"x\":\"\"}", "yes"},
      {"\"Variable\":\"$.x\",\"IsNull\":false", "{\"x\":null}", "no"},
      {"\"Variable\":\"$.x\",\"IsPresent\":true", "{\"x\":null}", "yes"},
      {"\"Variable\":\"$.x\",\"IsPresent\":true", "{\"y\":1}", "no"},
      {"\"Variable\":\"$.x\",\"IsPresent\":false", "{\"y\":1}", "yes"},
      {"\"Variable\":\"$.x\",\"IsPresent\":false", "{\"x\":false}", "no"},
      {"\"Variable\":\"$.a.b\",\"IsPresent\":false", "{\"a\":1}", "yes"},
      {"\"Variable\":\"$.x\",\"IsNumeric\":true", "{\"x\":0}", "yes"},
      {"\"Variable\":\"$.x\",\"IsNumeric\":true", "{\"x\":0.0}", "yes"},
      {"\"Variable\":\"$.x\",\"IsNumeric\":true", "{\"x\":-1.1}", "yes"},
      {"\"Variable\":\"$.x\",\"IsNumeric\":true", "{\"x\":\"1\"}", "no"},
      {"\"Variable\":\"$.x\",\"IsNumeric\":false", "{\"x\":\"1\"}", "yes"},
      {"\"Variable\":\"$.x\",\"IsNumeric\":false", "{\"x\":null}", "yes"},
      {"\"Variable\":\"$.x\",\"IsNumeric\":false", "{\"x\":2}", "no"},
      {"\"Variable\":\"$.x\",\"IsString\":true", "{\"x\":\"\"}", "yes"},
      {"\"Variable\":\"$.x\",\"IsString\":true", "{\"x\":1}", "no"},
      {"\"Variable\":\"$.x\",\"IsString\":false", "{\"x\":{}}", "yes"},
      {"\"Variable\":\"$.x\",\"IsString\":false", "{\"x\":\"s\"}", "no"},
      {"\"Variable\":\"$.x\",\"IsBoolean\":true", "{\"x\":false}", "yes"},
      {"\"Variable\":\"$.x\",\"IsBoolean\":true", "{\"x\":\"true\"}", "no"},
      {"\"Variable\":\"$.x\",\"IsBoolean\":false", "{\"x\":false}", "no"},
      {"\"Variable\":\"$.x\",\"IsBoolean\":false", "{\"x\":0}", "yes"},
      {"\"Variable\":\"$.x\",\"IsTimestamp\":true",
       "{\"x\":\"2024-01-01T00:00:00Z\"}", "yes"},
      {"\"Variable\":\"$.x\",\"IsTimestamp\":true",
       "{\"x\":\"2024-01-01T00:00:00.123+05:30\"}", "yes"},
      {"\"Variable\":\"$.x\",\"IsTimestamp\":true", "{\"x\":\"2024-01-01\"}",
       "no"},
      {"\"Variable\":\"$.x\",\"IsTimestamp\":true",
       "{\"x\":\"2024-13-01T00:00:00Z\"}", "no"},
      {"\"Variable\":\"$.x\",\"IsTimestamp\":true", "{\"x\":1704067200000}",
       "no"},
      {"\"Variable\":\"$.x\",\"IsTimestamp\":false", "{\"x\":\"noon\"}", "yes"},
      {"\"Variable\":\"$.x\",\"IsTimestamp\":false",
       "{\"x\":\"2024-01-01T00:00:00Z\"}", "no"},
  };
  CHECK_ROWS(rows);
}

Test(choice, and_or_not_combine_rules) {
  static const row rows[] = {
      {"\"And\":[{\"Variable\":\"$.a\",\"NumericEquals\":1},"
       "{\"Variable\":\"$.b\",\"StringEquals\":\"x\"}]",
       "{\"a\":1,\"b\":\"x\"}", "yes"},
      {"\"And\":[{\"Variable\":\"$.a\",\"NumericEquals\":1},"
       "{\"Variable\":\"$.b\",\"StringEquals\":\"x\"}]",
       "{\"a\":1,\"b\":\"y\"}", "no"},
      {"\"Or\":[{\"Variable\":\"$.a\",\"NumericEquals\":1},"
       "{\"Variable\":\"$.b\",\"StringEquals\":\"x\"}]",
       "{\"a\":2,\"b\":\"x\"}", "yes"},
      {"\"Or\":[{\"Variable\":\"$.a\",\"NumericEquals\":1},"
       "{\"Variable\":\"$.b\",\"StringEquals\":\"x\"}]",
       "{\"a\":2,\"b\":\"y\"}", "no"},
      {"\"Not\":{\"Variable\":\"$.a\",\"NumericEquals\":1}", "{\"a\":2}",
       "yes"},
      {"\"Not\":{\"Variable\":\"$.a\",\"NumericEquals\":1}", "{\"a\":1}", "no"},
      /* a type mismatch is false, so its negation is true */
      {"\"Not\":{\"Variable\":\"$.a\",\"NumericEquals\":1}", "{\"a\":\"1\"}",
       "yes"},
      /* nesting */
      {"\"Not\":{\"Or\":[{\"And\":[{\"Variable\":\"$.a\",\"IsPresent\":true},"
       "{\"Variable\":\"$.a\",\"IsString\":true}]},"
       "{\"Variable\":\"$.n\",\"NumericGreaterThan\":10}]}",
       "{\"a\":5,\"n\":3}", "yes"},
      {"\"Not\":{\"Or\":[{\"And\":[{\"Variable\":\"$.a\",\"IsPresent\":true},"
       "{\"Variable\":\"$.a\",\"IsString\":true}]},"
       "{\"Variable\":\"$.n\",\"NumericGreaterThan\":10}]}",
       "{\"a\":\"s\",\"n\":3}", "no"},
      {"\"And\":[{\"Variable\":\"$.a\",\"IsPresent\":true},"
       "{\"Not\":{\"Variable\":\"$.a\",\"IsNull\":true}}]",
       "{\"a\":null}", "no"},
  };
  CHECK_ROWS(rows);
}

Test(choice, missing_variable_fails_with_states_runtime) {
  static const row rows[] = {
      {"\"Variable\":\"$.x\",\"StringEquals\":\"a\"", "{}",
       "FAILED States.Runtime"},
      {"\"Variable\":\"$.x\",\"NumericEquals\":1", "{\"y\":1}",
       "FAILED States.Runtime"},
      {"\"Variable\":\"$.x\",\"BooleanEquals\":true", "{}",
       "FAILED States.Runtime"},
      {"\"Variable\":\"$.x\",\"TimestampEquals\":\"2024-01-01T00:00:00Z\"",
       "{}", "FAILED States.Runtime"},
      {"\"Variable\":\"$.x\",\"StringMatches\":\"*\"", "{}",
       "FAILED States.Runtime"},
      {"\"Variable\":\"$.x\",\"IsNull\":false", "{}", "FAILED States.Runtime"},
      {"\"Variable\":\"$.x\",\"IsString\":false", "{}",
       "FAILED States.Runtime"},
      {"\"Variable\":\"$.a.b\",\"IsNumeric\":true", "{\"a\":{}}",
       "FAILED States.Runtime"},
      {"\"Not\":{\"Variable\":\"$.x\",\"StringEquals\":\"a\"}", "{}",
       "FAILED States.Runtime"},
      /* the second operand of a …Path twin too */
      {"\"Variable\":\"$.x\",\"StringEqualsPath\":\"$.y\"", "{\"x\":\"a\"}",
       "FAILED States.Runtime"},
      {"\"Variable\":\"$.x\",\"NumericLessThanPath\":\"$.y\"", "{\"x\":1}",
       "FAILED States.Runtime"},
  };
  CHECK_ROWS(rows);
}

Test(choice, missing_variable_cause_names_the_path) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  char *got =
      choose(env.engine, "\"Variable\":\"$.missing\",\"StringEquals\":\"a\"",
             "{\"x\":1}", 1);
  cr_expect_str_eq(got,
                   "FAILED States.Runtime: " PREFIX
                   "Invalid path '$.missing': The choice state's condition "
                   "path references an invalid value.");
  free(got);
  wft_env_fini(&env);
}

Test(choice, no_match_takes_default) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  char *got = choose(env.engine, "\"Variable\":\"$.x\",\"NumericEquals\":1",
                     "{\"x\":2}", 1);
  cr_expect_str_eq(got, "no");
  free(got);
  wft_env_fini(&env);
}

Test(choice, no_match_without_default_fails_with_no_choice_matched) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  wft_result r;
  wft_run_definition(
      &r, env.engine,
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":"
      "[{\"Variable\":\"$.x\",\"NumericEquals\":1,\"Next\":\"Yes\"}]},"
      "\"Yes\":{\"Type\":\"Succeed\"}}}",
      "{\"x\":\"1\"}", NULL);
  cr_assert_eq(r.rc, WF_OK, "%s", r.err.message);
  cr_assert_eq(r.status, WF_EXEC_FAILED);
  cr_expect_str_eq(r.error, "States.NoChoiceMatched");
  cr_assert_not_null(r.cause);
  cr_expect(strncmp(r.cause, PREFIX, strlen(PREFIX)) == 0, "cause %s", r.cause);
  wft_result_free(&r);
  wft_env_fini(&env);
}

Test(choice, first_matching_rule_wins) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  static const char def[] =
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\",\"Choices\":["
      "{\"Variable\":\"$.n\",\"NumericGreaterThan\":10,\"Next\":\"Big\"},"
      "{\"Variable\":\"$.n\",\"NumericGreaterThan\":0,\"Next\":\"Positive\"},"
      "{\"Variable\":\"$.n\",\"NumericGreaterThan\":5,\"Next\":\"Unreached\"}],"
      "\"Default\":\"Other\"},"
      "\"Big\":{\"Type\":\"Pass\",\"Result\":\"big\",\"End\":true},"
      "\"Positive\":{\"Type\":\"Pass\",\"Result\":\"positive\",\"End\":true},"
      "\"Unreached\":{\"Type\":\"Pass\",\"Result\":\"unreached\",\"End\":true},"
      "\"Other\":{\"Type\":\"Pass\",\"Result\":\"other\",\"End\":true}}}";
  static const struct {
    const char *input, *want;
  } rows[] = {{"{\"n\":11}", "\"big\""},
              {"{\"n\":7}", "\"positive\""},
              {"{\"n\":-1}", "\"other\""}};
  for (size_t i = 0; i < 3; i++) {
    wft_result r;
    wft_run_definition(&r, env.engine, def, rows[i].input, NULL);
    cr_assert_eq(r.rc, WF_OK, "%s", r.err.message);
    cr_expect_str_eq(r.output, rows[i].want, "input %s", rows[i].input);
    wft_result_free(&r);
  }
  wft_env_fini(&env);
}

/* Rules see the input after InputPath; the next state gets the Choice's
 * output after OutputPath. */
Test(choice, rules_read_the_input_path_and_output_path_applies) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  wft_result r;
  wft_run_definition(
      &r, env.engine,
      "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\","
      "\"InputPath\":\"$.inner\",\"OutputPath\":\"$.keep\",\"Choices\":"
      "[{\"Variable\":\"$.flag\",\"BooleanEquals\":true,\"Next\":\"Done\"}],"
      "\"Default\":\"Other\"},\"Done\":{\"Type\":\"Succeed\"},"
      "\"Other\":{\"Type\":\"Fail\",\"Error\":\"Wrong\"}}}",
      "{\"flag\":false,\"inner\":{\"flag\":true,\"keep\":{\"k\":[1,2.0]}}}",
      NULL);
  cr_assert_eq(r.rc, WF_OK, "%s", r.err.message);
  cr_assert_eq(r.status, WF_EXEC_SUCCEEDED, "%s: %s", r.error, r.cause);
  cr_expect(wft_json_text_equal(r.output, "{\"k\":[1,2.0]}"), "output %s",
            r.output);
  wft_result_free(&r);
  wft_env_fini(&env);
}

/* Choice rules can test the context object (a Choice state's $$.State
 * has Name and EnteredTime; RetryCount belongs to states with Retry). */
Test(choice, variable_may_be_a_context_path) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  char *got =
      choose(env.engine,
             "\"Variable\":\"$$.State.Name\",\"StringEquals\":\"C\"", "{}", 1);
  cr_expect_str_eq(got, "yes");
  free(got);
  got = choose(env.engine,
               "\"Variable\":\"$$.Execution.Input.n\",\"NumericLessThan\":3",
               "{\"n\":2.5}", 1);
  cr_expect_str_eq(got, "yes");
  free(got);
  wft_env_fini(&env);
}
