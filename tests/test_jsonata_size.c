/* The size of a result's text, counted while the result is made (so that
 * a JSONata state's output need not be measured again against the payload
 * limit), and the measure it stands in for: wf__json_size must equal the
 * length of the text wf__json_dump writes (documents without reals), and
 * an evaluation's count must never be below it. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "json_text.h"
#include "jsonata.h"
#include "strbuf.h"

TestSuite(jsonata_size, .timeout = 60);

static size_t dumped(const json_t *v) {
  wf__strbuf b = WF__STRBUF_INIT;
  wf__json_dump(&b, v);
  size_t n = b.len;
  wf__strbuf_free(&b);
  return n;
}

Test(jsonata_size, the_measure_is_the_dumps_length_for_every_byte) {
  for (int c = 1; c < 256; c++) {
    char s[4] = {'a', (char)c, 'b', 0};
    json_t *v = json_stringn_nocheck(s, 3);
    json_t *o = json_pack("{s:[O, i, n, b]}", "k", v, -1234, 1);
    cr_assert_not_null(o);
    json_object_setn_new_nocheck(o, s, 3, json_incref(v));
    cr_assert_eq(wf__json_size(v, SIZE_MAX / 2), dumped(v), "byte %d", c);
    cr_assert_eq(wf__json_size(o, SIZE_MAX / 2), dumped(o), "byte %d", c);
    json_decref(o);
    json_decref(v);
    /* Longer strings are scanned a word at a time: the byte at each
     * place of a word, among bytes that need no escape and bytes above
     * 0x7f. */
    for (size_t at = 0; at < 20; at++) {
      char t[21] = "abcdefgh\xc3\xa9ijklmnopqr";
      t[at] = (char)c;
      json_t *w = json_stringn_nocheck(t, 20);
      cr_assert_eq(wf__json_size(w, SIZE_MAX / 2), dumped(w), "byte %d at %zu",
                   c, at);
      json_decref(w);
    }
  }
}

/* Evaluate `expr` on `input` (JSON text); the count against the text. */
static void assert_bounded(const char *expr, const char *input) {
  wf__jsonata *e = NULL;
  wf__jsonata_error err;
  cr_assert_eq(wf__jsonata_compile(&e, expr, strlen(expr), &err), 0,
               "%s: %s", expr, err.message);
  json_t *in = json_loads(input, JSON_DECODE_ANY, NULL);
  cr_assert_not_null(in);
  json_t *out = NULL;
  size_t bound = 0;
  cr_assert_eq(
      wf__jsonata_eval_depth(&out, e, in, NULL, NULL, 0, &bound, &err), 0,
      "%s: %s", expr, err.message);
  cr_assert_not_null(out, "%s", expr);
  size_t size = wf__json_size(out, SIZE_MAX / 2);
  cr_assert_geq(bound, size, "%s: %zu below %zu", expr, bound, size);
  /* Exact but for reals and objects' commas (one too many each). */
  cr_assert_leq(bound, size + 64, "%s: %zu far above %zu", expr, bound,
                size);
  json_decref(out);
  json_decref(in);
  wf__jsonata_free(e);
}

Test(jsonata_size, an_evaluation_counts_at_least_its_results_text) {
  const char *doc =
      "{\"a\": {\"s\": \"q\\\"\\\\\\n\\u0001x\", \"n\": [1, -20, 3.5, null, "
      "true, false], \"e\": {}, \"z\": []}, \"r\": 1.0, \"big\": "
      "9007199254740993}";
  const char *exprs[] = {
      "$",                              /* the input, shared whole */
      "a",                              /* a part of it */
      "$merge([$, {'a': 1}])",          /* a new object sharing the rest */
      "{'x': a.s & 'é\\t', 'y': a.n}",  /* escapes in made strings */
      "[1/3, -1e300, 0, -0, 2e21]",     /* reals at their longest */
      "r",                              /* a whole real made an integer */
      "big",                            /* an integer past 2^53 */
      "{'f': function($x){$x}, 'g': 1}", /* functions dropped */
      "[function($x){$x}, 2]",           /* ... or null in arrays */
      "a.e",
      "a.z",
      "'\\u0000\\u001f'",
  };
  for (size_t i = 0; i < sizeof exprs / sizeof *exprs; i++)
    assert_bounded(exprs[i], doc);
}
