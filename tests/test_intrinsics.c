/* Intrinsic functions through Pass states, for what the case file
 * (tests/data/intrinsic_cases.json, run by test_cases.c) cannot express:
 * random results checked by shape and range, determinism of seeds,
 * distinctness, number forms across the JSON text round trip, multi-byte
 * delimiters, and the arity errors it does not list. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define PREFIX                                                                \
  "An error occurred while executing the state 'S' (entered at the event id " \
  "#2). "

/* Run Parameters {"r.$": expr} on `input`; returns the output as JSON
 * (new reference) or fails the test. */
static json_t *eval_params(wf_engine *engine, const char *params,
                           const char *input) {
  char *fields = wft_strf("\"Parameters\":%s", params);
  char *def = wft_single_state("Pass", fields);
  wft_result r;
  wft_run_definition(&r, engine, def, input, NULL);
  cr_assert_eq(r.rc, WF_OK, "%s: %s", wf_error_name(r.rc), r.err.message);
  cr_assert_eq(r.status, WF_EXEC_SUCCEEDED, "%s: %s: %s", params, r.error,
               r.cause);
  json_t *out = json_loads(r.output, JSON_DECODE_ANY, NULL);
  cr_assert_not_null(out, "output %s", r.output);
  wft_result_free(&r);
  free(def);
  free(fields);
  return out;
}

static json_t *eval(wf_engine *engine, const char *expr, const char *input) {
  json_t *e = json_string(expr);
  char *quoted = json_dumps(e, JSON_ENCODE_ANY);
  char *params = wft_strf("{\"r.$\":%s}", quoted);
  json_t *out = eval_params(engine, params, input);
  json_t *r = json_incref(json_object_get(out, "r"));
  cr_assert_not_null(r, "no r in the output");
  json_decref(out);
  free(params);
  free(quoted);
  json_decref(e);
  return r;
}

/* The output of expr as compact text (free()). */
/* `expr` on `input` gives the value whose compact JSON text (number forms
 * kept) is `want`. */
static void expect_text(wf_engine *engine, const char *expr,
                        const char *input, const char *want) {
  json_t *v = eval(engine, expr, input);
  char *s = wft_json_dump(v);
  cr_expect_str_eq(s, want, "%s on %s", expr, input);
  free(s);
  json_decref(v);
}

static bool is_uuid_v4(const char *s) {
  if (!s || strlen(s) != 36) return false;
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
      return false;
    }
  }
  return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

Test(intrinsics, uuid_gives_distinct_random_version_4_uuids) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  json_t *out = eval_params(
      env.engine, "{\"a.$\":\"States.UUID()\",\"b.$\":\"States.UUID()\"}",
      "{}");
  const char *a = json_string_value(json_object_get(out, "a"));
  const char *b = json_string_value(json_object_get(out, "b"));
  cr_expect(is_uuid_v4(a), "not a lower-case v4 UUID: %s", a);
  cr_expect(is_uuid_v4(b), "not a lower-case v4 UUID: %s", b);
  cr_expect(a && b && strcmp(a, b) != 0, "two calls gave %s twice", a);
  json_t *again = eval(env.engine, "States.UUID()", "{}");
  cr_expect(is_uuid_v4(json_string_value(again)));
  cr_expect(a && strcmp(json_string_value(again), a) != 0 &&
                strcmp(json_string_value(again), b) != 0,
            "a later execution repeated a UUID");
  json_decref(again);
  json_decref(out);
  wft_env_fini(&env);
}

Test(intrinsics, math_random_gives_integers_within_the_bounds) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  /* 24 draws per execution, over three bound pairs. */
  static const struct {
    const char *args;
    long long lo, hi;
  } ranges[] = {{"0, 3", 0, 3}, {"-10, -5", -10, -5}, {"12.5, 44.51", 12, 44}};
  for (size_t k = 0; k < 3; k++) {
    char *params = wft_strf("{\"v\":[");
    for (int i = 0; i < 24; i++) {
      char *next = wft_strf("%s%s{\"x.$\":\"States.MathRandom(%s)\"}", params,
                            i ? "," : "", ranges[k].args);
      free(params);
      params = next;
    }
    char *full = wft_strf("%s]}", params);
    json_t *out = eval_params(env.engine, full, "{}");
    json_t *v = json_object_get(out, "v");
    cr_assert_eq(json_array_size(v), 24);
    for (size_t i = 0; i < 24; i++) {
      json_t *x = json_object_get(json_array_get(v, i), "x");
      cr_assert(json_is_integer(x), "MathRandom(%s) gave a non-integer",
                ranges[k].args);
      long long n = json_integer_value(x);
      cr_expect(n >= ranges[k].lo && n <= ranges[k].hi,
                "MathRandom(%s) gave %lld", ranges[k].args, n);
    }
    json_decref(out);
    free(full);
    free(params);
  }
  wft_env_fini(&env);
}

/* The same seed gives the same number, in any execution. */
Test(intrinsics, math_random_with_a_seed_is_repeatable) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  json_t *a = eval(env.engine, "States.MathRandom($.s, $.e, $.seed)",
                   "{\"s\":0,\"e\":1000000,\"seed\":42}");
  json_t *b = eval(env.engine, "States.MathRandom(0, 1000000, 42)", "{}");
  cr_assert(json_is_integer(a));
  cr_expect(wft_json_equal(a, b), "seed 42 gave %lld then %lld",
            json_integer_value(a), json_integer_value(b));
  cr_expect(json_integer_value(a) >= 0 && json_integer_value(a) <= 1000000);
  json_decref(a);
  json_decref(b);
  wft_env_fini(&env);
}

Test(intrinsics, json_to_string_keeps_number_forms_and_escapes) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  const char *expr = "States.JsonToString($.v)";
  expect_text(env.engine, expr,
              "{\"v\":[1.0,2,-0.5,true,{\"a\":null,\"b\":\"q\\\"\\\\\"}]}",
              "\"[1.0,2,-0.5,true,{\\\"a\\\":null,\\\"b\\\":"
              "\\\"q\\\\\\\"\\\\\\\\\\\"}]\"");
  expect_text(env.engine, expr, "{\"v\":\"text\"}", "\"\\\"text\\\"\"");
  expect_text(env.engine, expr, "{\"v\":false}", "\"false\"");
  /* Key order is the input's. */
  expect_text(env.engine, expr, "{\"v\":{\"z\":1,\"a\":2}}",
              "\"{\\\"z\\\":1,\\\"a\\\":2}\"");
  wft_env_fini(&env);
}

Test(intrinsics, string_to_json_keeps_number_forms) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  json_t *v = eval(env.engine, "States.StringToJson($.s)",
                   "{\"s\":\"[1.0, 2, -3.25, {\\\"x\\\": [0.5]}]\"}");
  char *s = wft_json_dump(v);
  cr_expect_str_eq(s, "[1.0,2,-3.25,{\"x\":[0.5]}]");
  cr_expect(json_is_real(json_array_get(v, 0)), "1.0 must stay a real");
  cr_expect(json_is_integer(json_array_get(v, 1)), "2 must stay an integer");
  free(s);
  json_decref(v);
  /* A round trip through text gives the value back. */
  expect_text(env.engine, "States.StringToJson(States.JsonToString($.v))",
              "{\"v\":{\"a\":[1,1.5,\"\\u00e9\",null],\"b\":{}}}",
              "{\"a\":[1,1.5,\"\xc3\xa9\",null],\"b\":{}}");
  wft_env_fini(&env);
}

Test(intrinsics, string_split_delimiters_are_characters_not_bytes) {
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  /* é and è share their first UTF-8 byte: splitting on é must leave è. */
  expect_text(env.engine, "States.StringSplit($.s, $.d)",
              "{\"s\":\"a\\u00e9b\\u00e8c\\u00e9\",\"d\":\"\\u00e9\"}",
              "[\"a\",\"b\xc3\xa8"
              "c\"]");
  expect_text(env.engine, "States.StringSplit($.s, $.d)",
              "{\"s\":\"x\\u2192y\\u2014z\",\"d\":\"\\u2014\\u2192\"}",
              "[\"x\",\"y\",\"z\"]");
  wft_env_fini(&env);
}

/* Arity is checked when the call runs (as AWS does for the functions the
 * case file covers): the cause names the call verbatim. */
Test(intrinsics, wrong_argument_counts_fail_with_invalid_arguments) {
  static const char *const calls[][2] = {
      {"States.UUID(1)", "States.UUID"},
      {"States.MathRandom(1)", "States.MathRandom"},
      {"States.MathRandom(1, 2, 3, 4)", "States.MathRandom"},
      {"States.JsonToString($.a, $.a)", "States.JsonToString"},
      {"States.ArrayUnique()", "States.ArrayUnique"},
      {"States.ArrayRange(1, 5)", "States.ArrayRange"},
      {"States.ArrayLength()", "States.ArrayLength"},
      {"States.ArrayGetItem($.a)", "States.ArrayGetItem"},
      {"States.ArrayPartition($.a)", "States.ArrayPartition"},
      {"States.Base64Decode()", "States.Base64Decode"},
      {"States.StringSplit('a')", "States.StringSplit"},
      {"States.MathAdd(1)", "States.MathAdd"},
      {"States.JsonMerge($.o, $.o)", "States.JsonMerge"},
      {"States.Hash('a', 'MD5', 'x')", "States.Hash"},
      {"States.Format()", "States.Format"},
  };
  wft_env env;
  cr_assert_eq(wft_env_init(&env, NULL, NULL), WF_OK);
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    json_t *e = json_string(calls[i][0]);
    char *quoted = json_dumps(e, JSON_ENCODE_ANY);
    char *fields = wft_strf("\"Parameters\":{\"r.$\":%s}", quoted);
    char *def = wft_single_state("Pass", fields);
    wft_result r;
    wft_run_definition(&r, env.engine, def, "{\"a\":[1,2],\"o\":{}}", NULL);
    char *want = wft_strf(PREFIX
                          "The function '%s' had the following error: "
                          "Invalid arguments in %s",
                          calls[i][0], calls[i][1]);
    cr_expect_eq(r.rc, WF_OK, "%s: %s", calls[i][0], r.err.message);
    cr_expect_eq(r.status, WF_EXEC_FAILED, "%s succeeded: %s", calls[i][0],
                 r.output);
    cr_expect(r.error && strcmp(r.error, "States.Runtime") == 0, "%s: error %s",
              calls[i][0], r.error);
    cr_expect(r.cause && strcmp(r.cause, want) == 0, "%s: cause %s\n  want %s",
              calls[i][0], r.cause, want);
    free(want);
    wft_result_free(&r);
    free(def);
    free(fields);
    free(quoted);
    json_decref(e);
  }
  wft_env_fini(&env);
}
