/* Hostile expressions are bounded: a path, filter or intrinsic call that
 * would build a result past the payload limit, walk without end, backtrack
 * without end or hold the CPU fails the execution at once with a clear
 * error, and never reports itself as a path that was not found. Each
 * evaluation (a template, a Choice's rules, one Map item's selector) has a
 * budget: a work bound, a CPU-time bound (wf_engine_options
 * .expression_cpu_ms), PCRE2 limits on each match, and the payload limit
 * on any result. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define DATA_LIMIT_CAUSE(state)                                        \
  "The state/task '" state "' returned a result with a size exceeding " \
  "the maximum number of bytes service limit."

/* {"a":{"a":...{"a":1}...}} nested `depth` times. free(). */
static char *nested(const char *name, int depth) {
  size_t n = strlen(name);
  char *s = malloc((size_t)depth * (n + 6) + 2);
  size_t at = 0;
  for (int i = 0; i < depth; i++)
    at += (size_t)sprintf(s + at, "{\"%s\":", name);
  s[at++] = '1';
  for (int i = 0; i < depth; i++) s[at++] = '}';
  s[at] = '\0';
  return s;
}

/* A JSON array of `count` strings: `len` times 'a', then 'b'. free(). */
static char *strings(int count, int len) {
  char *s = malloc((size_t)count * ((size_t)len + 4) + 3);
  size_t at = 0;
  s[at++] = '[';
  for (int i = 0; i < count; i++) {
    if (i) s[at++] = ',';
    s[at++] = '"';
    memset(s + at, 'a', (size_t)len);
    at += (size_t)len;
    s[at++] = 'b';
    s[at++] = '"';
  }
  s[at++] = ']';
  s[at] = '\0';
  return s;
}

static void run(wft_result *r, const wf_engine_options *o, const char *def,
                const char *input) {
  wft_env env;
  wf_error err;
  cr_assert_eq(wft_env_init(&env, o, &err), WF_OK, "%s", err.message);
  wft_run_definition(r, env.engine, def, input, NULL);
  cr_assert_eq(r->rc, WF_OK, "%s: %s", wf_error_name(r->rc), r->err.message);
  cr_assert(r->finished, "the execution did not end");
  wft_env_fini(&env);
}

static void expect_failed(const wf_engine_options *o, const char *def,
                          const char *input, const char *error,
                          const char *cause_part) {
  wft_result r;
  run(&r, o, def, input);
  cr_assert_eq(r.status, WF_EXEC_FAILED, "status %d, output %.200s", r.status,
               r.output);
  cr_expect_str_eq(r.error, error);
  cr_expect(r.cause && strstr(r.cause, cause_part), "cause %s\n want %s",
            r.cause, cause_part);
  cr_expect(!r.cause || !strstr(r.cause, "could not be found"),
            "reported as a missing path: %s", r.cause);
  wft_result_free(&r);
}

static char *pass_with(const char *fields) {
  return wft_strf(
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"Pass\",%s,"
      "\"End\":true}}}",
      fields);
}

/* ---- results past the payload limit --------------------------------------- */

/* Issue 12, defect 2: on a 40-deep input each "..a" multiplies the
 * matches; six of them took 18 s and 1 GB before the limit was checked. */
Test(eval_limits, chained_deep_scans_stop_at_the_payload_limit) {
  char *in = nested("a", 40);
  const char *fields[] = {
      "\"InputPath\":\"$..a..a..a..a..a..a\"",
      "\"Parameters\":{\"x.$\":\"$..a..a..a..a..a..a\"}",
      "\"Parameters\":{\"x.$\":\"States.ArrayLength($..a..a..a..a..a..a)\"}",
      "\"OutputPath\":\"$..a..a..a..a..a..a\"",
  };
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
    char *def = pass_with(fields[i]);
    expect_failed(NULL, def, in, "States.DataLimitExceeded",
                  DATA_LIMIT_CAUSE("S"));
    free(def);
  }
  /* A Choice rule's variable, too. */
  expect_failed(NULL,
                "{\"StartAt\":\"C\",\"States\":{\"C\":{\"Type\":\"Choice\","
                "\"Choices\":[{\"Variable\":\"$..a..a..a..a..a..a\","
                "\"IsPresent\":true,\"Next\":\"E\"}],\"Default\":\"E\"},"
                "\"E\":{\"Type\":\"Succeed\"}}}",
                in, "States.DataLimitExceeded", DATA_LIMIT_CAUSE("C"));
  free(in);
}

Test(eval_limits, the_limit_is_the_engines_payload_limit) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 150;
  /* 30 matches of "1" with commas and brackets: 61 bytes, within. */
  char *def = pass_with("\"Parameters\":{\"n.$\":\"$.xs[*]\"}");
  wft_result r;
  run(&r, &o, def,
      "{\"xs\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,"
      "1]}");
  cr_expect_eq(r.status, WF_EXEC_SUCCEEDED, "%s: %s", r.error, r.cause);
  wft_result_free(&r);
  free(def);
  /* Every container and its contents again, nested five deep: a 52-byte
   * input, about 250 bytes of matches. */
  def = pass_with("\"Parameters\":{\"n.$\":\"$..*\"}");
  expect_failed(&o, def,
                "{\"xs\":[[[[[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]]]]]}",
                "States.DataLimitExceeded", DATA_LIMIT_CAUSE("S"));
  free(def);
}

Test(eval_limits, intrinsic_results_past_the_payload_limit) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.payload_limit = 64;
  /* Each argument fits; the array of six copies does not. */
  char *def = pass_with(
      "\"Parameters\":{\"n.$\":\"States.ArrayLength(States.Array($.s, $.s, "
      "$.s, $.s, $.s, $.s))\"}");
  expect_failed(&o, def, "{\"s\":\"0123456789\"}", "States.DataLimitExceeded",
                DATA_LIMIT_CAUSE("S"));
  free(def);
}

/* ---- work and time ---------------------------------------------------------- */

/* Deep scans that find almost nothing build no result but still walk each
 * subtree once per partial match: stopped by the work budget. */
Test(eval_limits, deep_scans_that_match_nothing_stop_at_the_work_budget) {
  char *in = nested("a", 60);
  char *def = pass_with("\"InputPath\":\"$..a..a..a..a..a..a..a..b\"");
  /* The CPU bound far away, so that the work bound is what ends it even
   * under a sanitizer or valgrind. */
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.expression_cpu_ms = 600000;
  expect_failed(&o, def, in, "States.Runtime",
                "While evaluating '$..a..a..a..a..a..a..a..b', the "
                "evaluation was stopped after 10000000 steps, its limit");
  free(def);
  free(in);
}

/* Issue 12, defect 3: PCRE2's limits apply to each match, and a match
 * past them is an error, not "no match" (the filter would silently drop
 * the element). */
Test(eval_limits, a_catastrophic_regular_expression_fails_the_state) {
  char *in = wft_strf("{\"xs\":%s}", "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"]");
  char *def =
      pass_with("\"Parameters\":{\"m.$\":\"$.xs[?(@ =~ /(a|aa)+$/)]\"}");
  expect_failed(NULL, def, in, "States.Runtime",
                "a regular expression passed its limits on one value");
  free(def);
  free(in);
}

/* Many matches each within PCRE2's limits: the CPU-time bound ends them
 * (1 ms here; each match takes a fraction of one). */
Test(eval_limits, many_slow_matches_stop_at_the_cpu_budget) {
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  o.expression_cpu_ms = 1;
  char *xs = strings(4000, 20);
  char *in = wft_strf("{\"xs\":%s}", xs);
  char *def =
      pass_with("\"Parameters\":{\"m.$\":\"$.xs[?(@ =~ /(a|aa)+$/)]\"}");
  expect_failed(&o, def, in, "States.Runtime",
                "the evaluation was stopped after 1 ms of CPU time, its "
                "limit");
  free(def);
  free(in);
  free(xs);
}

/* Ordinary expressions are far inside the budget: a filter with a regular
 * expression over many elements, a deep scan over a large document. */
Test(eval_limits, ordinary_expressions_are_not_limited) {
  char *xs = strings(4000, 20);
  char *in = wft_strf("{\"xs\":%s}", xs);
  char *def = pass_with(
      "\"Parameters\":{\"n.$\":\"States.ArrayLength($.xs[?(@ =~ /a+b/)])\","
      "\"d.$\":\"States.ArrayLength($..xs[*])\"}");
  wft_result r;
  run(&r, NULL, def, in);
  cr_assert_eq(r.status, WF_EXEC_SUCCEEDED, "%s: %s", r.error, r.cause);
  cr_expect(wft_json_text_equal(r.output, "{\"n\":4000,\"d\":4000}"), "%s",
            r.output);
  wft_result_free(&r);
  free(def);
  free(in);
  free(xs);
}

/* A spent budget ends its state: no Retry or Catch of that state applies
 * (retrying would only spend it again). */
Test(eval_limits, a_spent_budget_is_neither_retried_nor_caught) {
  char *in = nested("a", 40);
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  wft_result r;
  /* The Task's handler is never reached: its Parameters fail first. */
  wft_run_definition(
      &r, env.engine,
      "{\"StartAt\":\"T\",\"States\":{\"T\":{\"Type\":\"Task\",\"Resource\":"
      "\"arn:aws:lambda:us-east-1:123456789012:function:None\",\"Parameters\":"
      "{\"x.$\":\"$..a..a..a..a..a..a\"},\"Retry\":[{\"ErrorEquals\":"
      "[\"States.ALL\"]}],\"Catch\":[{\"ErrorEquals\":[\"States.ALL\"],"
      "\"Next\":\"E\"}],\"End\":true},\"E\":{\"Type\":\"Succeed\"}}}",
      in, NULL);
  cr_assert_eq(r.rc, WF_OK, "%s", r.err.message);
  cr_expect_eq(r.status, WF_EXEC_FAILED, "output %.200s", r.output);
  cr_expect_str_eq(r.error, "States.DataLimitExceeded");
  cr_expect_str_eq(r.cause, DATA_LIMIT_CAUSE("T"));
  wft_result_free(&r);
  wft_env_fini(&env);
  free(in);
}
