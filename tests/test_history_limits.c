/* History is bounded (issue 12, defect 1): a Standard execution fails as
 * AWS's does when its history reaches 25,000 events, events of Map and
 * Parallel children included; an Express execution (AWS keeps it no
 * history and bounds it only by its duration) runs on, and the store
 * keeps its first 25,000 events while listeners hear every one. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "support.h"

#define FULL_CAUSE \
  "The execution reached the maximum number of history events (25000)."

/* Loop and Check run `n` times: four events a round. */
static char *loop_def(int n) {
  return wft_strf(
      "{\"StartAt\":\"Init\",\"States\":{"
      "\"Init\":{\"Type\":\"Pass\",\"Result\":0,\"ResultPath\":\"$.i\","
      "\"Next\":\"Loop\"},"
      "\"Loop\":{\"Type\":\"Pass\",\"Parameters\":{\"i.$\":"
      "\"States.MathAdd($.i, 1)\"},\"Next\":\"Check\"},"
      "\"Check\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.i\","
      "\"NumericGreaterThanEquals\":%d,\"Next\":\"Done\"}],"
      "\"Default\":\"Loop\"},"
      "\"Done\":{\"Type\":\"Succeed\"}}}",
      n);
}

static wf_machine *load_typed(const char *def, wf_machine_type type) {
  wf_load_options lo;
  wf_load_options_init(&lo, WF_LOAD_OPTIONS_VERSION);
  lo.type = type;
  wf_machine *m = NULL;
  wf_error err;
  cr_assert_eq(wf_machine_load_json(&m, def, &lo, &err), WF_OK, "%s",
               err.message);
  return m;
}

static void count_event(const wf_event *ev, void *payload) {
  (void)ev;
  atomic_fetch_add((atomic_long *)payload, 1);
}

Test(history_limits, a_standard_loop_fails_at_25000_events) {
  wf_engine *e = wft_engine(NULL);
  char *def = loop_def(10000);
  wf_machine *m = load_typed(def, WF_MACHINE_STANDARD);
  wf_execution *x = wft_run(e, m, "{}", NULL);
  wft_assert_failed(x, "States.Runtime", FULL_CAUSE);
  cr_expect_eq(wf_execution_history_count(x), 25000);
  /* Its last event is the failure. */
  json_t *doc;
  json_t *events = wft_events(x, 1, &doc);
  json_t *last = json_array_get(events, 0);
  cr_expect_str_eq(json_string_value(json_object_get(last, "type")),
                   "ExecutionFailed");
  cr_expect_eq(json_integer_value(json_object_get(last, "id")), 25000);
  json_decref(doc);
  wf_execution_free(x);
  wf_machine_free(m);
  free(def);
  /* Under the limit it runs to its end. */
  def = loop_def(6000);
  m = load_typed(def, WF_MACHINE_STANDARD);
  x = wft_run(e, m, "{}", NULL);
  wft_assert_succeeded(x, "{\"i\":6000}");
  cr_expect_eq(wf_execution_history_count(x), 24006);
  wf_execution_free(x);
  wf_machine_free(m);
  free(def);
  wf_engine_free(e);
}

Test(history_limits, map_iterations_count_toward_the_limit) {
  wf_engine *e = wft_engine(NULL);
  wf_machine *m = load_typed(
      "{\"StartAt\":\"M\",\"States\":{\"M\":{\"Type\":\"Map\","
      "\"ItemProcessor\":{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":"
      "\"Pass\",\"End\":true}}},\"End\":true}}}",
      WF_MACHINE_STANDARD);
  /* 7,000 iterations of four events each. */
  size_t n = 7000;
  char *in = malloc(n * 2 + 2);
  in[0] = '[';
  for (size_t i = 0; i < n; i++) {
    in[1 + 2 * i] = '0';
    in[2 + 2 * i] = i + 1 < n ? ',' : ']';
  }
  in[2 * n + 1] = '\0';
  wf_execution *x = wft_run(e, m, in, NULL);
  wft_assert_failed(x, "States.Runtime", FULL_CAUSE);
  cr_expect_eq(wf_execution_history_count(x), 25000);
  wf_execution_free(x);
  wf_machine_free(m);
  free(in);
  wf_engine_free(e);
}

Test(history_limits, an_express_loop_runs_on_with_a_bounded_history) {
  wf_engine *e = wft_engine(NULL);
  atomic_long heard = 0;
  cr_assert_eq(wf_engine_add_listener(e, count_event, &heard), WF_OK);
  char *def = loop_def(10000);
  wf_machine *m = load_typed(def, WF_MACHINE_EXPRESS);
  wf_execution *x = wft_run(e, m, "{}", NULL);
  wft_assert_succeeded(x, "{\"i\":10000}");
  /* Started, Init, four a round, Done, Succeeded. */
  long all = 1 + 2 + 4L * 10000 + 2 + 1;
  cr_expect_eq(wf_execution_history_count(x), 25000);
  cr_expect_eq(atomic_load(&heard), all, "heard %ld", atomic_load(&heard));
  wf_execution_free(x);
  wf_machine_free(m);
  free(def);
  wf_engine_free(e);
}
