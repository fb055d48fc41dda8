/* Out of memory, everywhere: the library's allocator (wf_allocator_set)
 * fails at the N-th allocation, for every N until a run needs no more
 * (WFT_ALLOC_TRACE=1 prints where each failure happens), over loading a
 * definition, creating an engine, running an execution through most kinds
 * of state and reading its results. Each call either works or returns a
 * clean error; an execution either ends as it would have or fails naming
 * memory; nothing crashes, hangs or leaks (the ASan build and valgrind run
 * this program too). */
#include <criterion/criterion.h>
#include <execinfo.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_support.h"
#include "support.h"

/* ---- an allocator that fails once, at the N-th call ---------------------- */

static atomic_long countdown; /* allocations left before the failure */
static atomic_bool armed;
static atomic_long failures;

static bool should_fail(void) {
  if (!atomic_load(&armed)) return false;
  if (atomic_fetch_sub(&countdown, 1) != 1) return false;
  atomic_fetch_add(&failures, 1);
  if (getenv("WFT_ALLOC_TRACE")) { /* where: for debugging a finding */
    void *bt[32];
    int k = backtrace(bt, 32);
    backtrace_symbols_fd(bt, k, 2);
  }
  return true;
}

static void *t_malloc(size_t n, void *payload) {
  (void)payload;
  return should_fail() ? NULL : malloc(n);
}

static void *t_realloc(void *p, size_t n, void *payload) {
  (void)payload;
  return should_fail() ? NULL : realloc(p, n);
}

static void t_free(void *p, void *payload) {
  (void)payload;
  free(p);
}

static void arm(long n) {
  atomic_store(&failures, 0);
  atomic_store(&countdown, n);
  atomic_store(&armed, true);
}

/* Disarm; true when the failure happened during the armed stretch. */
static bool disarm(void) {
  atomic_store(&armed, false);
  return atomic_load(&failures) > 0;
}

/* The library's allocator only. jansson's belongs to the application;
 * failing it too is not yet clean (a definition load misreports it as an
 * invalid definition; noted on the hardening issue). */
static void install(void) {
  wf_allocator a = {WF_ALLOCATOR_VERSION, t_malloc, t_realloc, t_free, NULL};
  cr_assert_eq(wf_allocator_set(&a), WF_OK);
}

/* ---- the workload --------------------------------------------------------- */

#define FN "arn:aws:lambda:us-east-1:123456789012:function:Echo"

static void echo(wf_task *task, void *payload) {
  (void)payload;
  /* The input may not be there for want of memory; the answer's own
   * failure (out of memory) fails the task itself. */
  const char *in = wf_task_input(task);
  if (!in)
    wf_task_fail(task, "Echo.NoMemory", "could not answer");
  else
    wf_task_succeed(task, in);
}

/* Pass with paths and an intrinsic, Choice, Map with an ItemSelector over a
 * Task, Parallel, Wait, Succeed. */
static const char *DEF =
    "{\"StartAt\":\"Shape\",\"States\":{"
    "\"Shape\":{\"Type\":\"Pass\",\"Parameters\":{\"items.$\":\"$.xs\","
    "\"label.$\":\"States.Format('n={}', $.n)\",\"all.$\":\"$..v\"},"
    "\"Next\":\"Pick\"},"
    "\"Pick\":{\"Type\":\"Choice\",\"Choices\":[{\"Variable\":\"$.label\","
    "\"StringMatches\":\"n=*\",\"Next\":\"Each\"}],\"Default\":\"Bad\"},"
    "\"Bad\":{\"Type\":\"Fail\",\"Error\":\"Bad\"},"
    "\"Each\":{\"Type\":\"Map\",\"ItemsPath\":\"$.items\",\"ItemSelector\":"
    "{\"v.$\":\"$$.Map.Item.Value\",\"i.$\":\"$$.Map.Item.Index\"},"
    "\"ItemProcessor\":{\"StartAt\":\"Call\",\"States\":{\"Call\":{\"Type\":"
    "\"Task\",\"Resource\":\"" FN
    "\",\"ResultSelector\":{\"got.$\":\"$.v\"},\"End\":true}}},"
    "\"ResultPath\":\"$.mapped\",\"Next\":\"Both\"},"
    "\"Both\":{\"Type\":\"Parallel\",\"Branches\":["
    "{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Pass\",\"Result\":1,"
    "\"End\":true}}},"
    "{\"StartAt\":\"B\",\"States\":{\"B\":{\"Type\":\"Wait\",\"Seconds\":1,"
    "\"End\":true}}}],\"ResultPath\":\"$.both\",\"Next\":\"Done\"},"
    "\"Done\":{\"Type\":\"Succeed\",\"OutputPath\":\"$.mapped\"}}}";

static const char *INPUT = "{\"n\":3,\"xs\":[{\"v\":1},{\"v\":2},{\"v\":3}]}";
static const char *OUTPUT = "[{\"got\":{\"v\":1}},{\"got\":{\"v\":2}},"
                            "{\"got\":{\"v\":3}}]";

/* Does this cause name memory as the reason? */
static bool names_memory(const char *cause) {
  return cause && (strstr(cause, "out of memory") ||
                   strstr(cause, "Out of memory") ||
                   strstr(cause, "could not answer"));
}

typedef enum { RAN_OK, RAN_REFUSED, RAN_FAILED_CLEANLY } outcome;

/* One pass over the workload with allocations failing as armed; the
 * checks run disarmed. */
static outcome once(long n, bool *failed_during) {
  outcome o = RAN_REFUSED;
  wf_clock *clock = NULL;
  wf_engine *engine = NULL;
  wf_machine *m = NULL;
  wf_execution *x = NULL;
  wf_error err;
  arm(n);
  int rc = wf_clock_virtual_new(&clock, WFT_T0);
  if (rc == WF_OK) {
    wf_engine_options opts = WF_ENGINE_OPTIONS_INIT;
    opts.clock = clock;
    opts.scheduler_threads = 1;
    opts.worker_threads = 1;
    rc = wf_engine_new(&engine, &opts, &err);
  }
  if (rc == WF_OK) rc = wf_machine_load_json(&m, DEF, NULL, &err);
  if (rc == WF_OK)
    rc = wf_engine_register_handler(engine, FN, echo, NULL,
                                    WF_HANDLER_INLINE, &err);
  if (rc == WF_OK) rc = wf_engine_start(&x, engine, m, INPUT, NULL, &err);
  if (rc == WF_OK) {
    /* The Wait state's second: advance the virtual clock until the end. */
    for (int i = 0; i < 2000 && wf_execution_status(x) == WF_EXEC_RUNNING;
         i++) {
      wf_clock_advance(clock, 1000);
      wf_execution_wait(x, 5);
    }
  }
  *failed_during = disarm();
  if (rc != WF_OK) {
    /* Refused cleanly: out of memory, with a message. */
    cr_assert_eq(rc, WF_ENOMEM, "N=%ld: refused with %s: %s", n,
                 wf_error_name(rc), err.message);
  } else {
    wf_exec_status st = wf_execution_status(x);
    if (st == WF_EXEC_RUNNING) {
      char *h = wf_execution_history(x, 0);
      cr_assert_fail("N=%ld: the execution hung; its history: %s", n, h);
    }
    if (st == WF_EXEC_SUCCEEDED) {
      const char *out = wf_execution_output(x);
      cr_assert(out && wft_json_text_equal(out, OUTPUT),
                "N=%ld: succeeded with a wrong output: %s", n, out);
      o = RAN_OK;
    } else {
      const char *cause = wf_execution_cause(x);
      cr_assert_eq(st, WF_EXEC_FAILED, "N=%ld: status %d", n, st);
      cr_assert(names_memory(cause), "N=%ld: failed with %s: %s", n,
                wf_execution_error(x), cause);
      o = RAN_FAILED_CLEANLY;
    }
  }
  wf_execution_free(x);
  wf_machine_free(m);
  wf_engine_free(engine);
  wf_clock_free(clock);
  return o;
}

Test(alloc_failures, every_allocation_may_fail) {
  install();
  bool failed;
  /* Unarmed first: the workload itself works. */
  cr_assert_eq(once(-1, &failed), RAN_OK);
  long refused = 0, cleanly = 0, fine = 0, n = 1, last = 200000;
  /* WFT_ALLOC_FROM / WFT_ALLOC_TO: a stretch of N only (to find which
   * failure a leak report belongs to). */
  if (getenv("WFT_ALLOC_FROM")) n = atol(getenv("WFT_ALLOC_FROM"));
  if (getenv("WFT_ALLOC_TO")) last = atol(getenv("WFT_ALLOC_TO"));
  for (; n <= last; n++) {
    outcome o = once(n, &failed);
    if (!failed) break; /* the whole run needed fewer than n allocations */
    if (o == RAN_REFUSED) refused++;
    if (o == RAN_FAILED_CLEANLY) cleanly++;
    if (o == RAN_OK) fine++;
  }
  cr_log_info("%ld allocation points: %ld refused, %ld executions failed "
              "naming memory, %ld unaffected",
              n - 1, refused, cleanly, fine);
  if (!getenv("WFT_ALLOC_FROM")) cr_expect_gt(n, 100);
}
