#include "eval.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "json_text.h"

int wf__fault_set(wf__fault *f, const char *error, const char *fmt, ...) {
  f->error = error;
  f->raw = false;
  wf__strbuf_reset(&f->cause);
  va_list ap;
  va_start(ap, fmt);
  char small[512];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return -1;
  if ((size_t)n < sizeof small) {
    wf__strbuf_append(&f->cause, small, (size_t)n);
  } else if (wf__strbuf_reserve(&f->cause, (size_t)n)) {
    va_start(ap, fmt);
    vsnprintf(f->cause.data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    f->cause.len = (size_t)n;
  }
  return -1;
}

int wf__fault_set_raw(wf__fault *f, const char *error, const char *cause) {
  f->error = error;
  f->raw = true;
  wf__strbuf_reset(&f->cause);
  wf__strbuf_puts(&f->cause, cause);
  return -1;
}

void wf__fault_clear(wf__fault *f) {
  f->error = NULL;
  f->raw = false;
  wf__strbuf_free(&f->cause);
}

/* --- budgets --- */

/* Steps between two reads of the thread's CPU clock (a read is a system
 * call for this clock: about a quarter of a microsecond). */
#define CLOCK_EVERY 4096u

static int64_t thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void wf__budget_init(wf__budget *b, size_t max_result, uint64_t cpu_ns) {
  *b = (wf__budget){.steps = WF__BUDGET_STEPS,
                    .cpu_ns = cpu_ns ? cpu_ns : WF__BUDGET_CPU_NS,
                    .max_result = max_result ? max_result : WF__BUDGET_RESULT};
}

bool wf__budget_check_time(wf__budget *b) {
  if (b->spent) return false;
  b->ticks = 0;
  int64_t now = thread_cpu_ns();
  if (b->cpu_deadline == 0) {
    /* The first check starts the clock: an evaluation that never gets
     * here is too short to matter. */
    b->cpu_deadline = now + (int64_t)b->cpu_ns;
    return true;
  }
  if (now < b->cpu_deadline) return true;
  b->spent = WF__SPENT_TIME;
  return false;
}

bool wf__budget_charge(wf__budget *b, uint64_t n) {
  if (b->spent) return false;
  if (n > b->steps) {
    b->steps = 0;
    b->spent = WF__SPENT_STEPS;
    return false;
  }
  b->steps -= n;
  b->ticks += n > CLOCK_EVERY ? CLOCK_EVERY : (uint32_t)n;
  if (b->ticks >= CLOCK_EVERY) return wf__budget_check_time(b);
  return true;
}

bool wf__budget_nomem(wf__budget *b) {
  if (!b->spent) b->spent = WF__SPENT_MEMORY;
  return false;
}

const char *wf__budget_reason(const wf__budget *b) {
  static _Thread_local char text[128];
  switch (b->spent) {
    case WF__SPENT_SIZE:
      snprintf(text, sizeof text, "the result passed %zu bytes",
               b->max_result);
      break;
    case WF__SPENT_STEPS:
      snprintf(text, sizeof text,
               "the evaluation was stopped after %u steps, its limit",
               WF__BUDGET_STEPS);
      break;
    case WF__SPENT_TIME:
      snprintf(text, sizeof text,
               "the evaluation was stopped after %llu ms of CPU time, its "
               "limit",
               (unsigned long long)(b->cpu_ns / 1000000));
      break;
    case WF__SPENT_REGEX:
      snprintf(text, sizeof text,
               "a regular expression passed its limits on one value (%u "
               "steps, depth %u)",
               WF__REGEX_MATCH_LIMIT, WF__REGEX_DEPTH_LIMIT);
      break;
    case WF__SPENT_MEMORY:
    case WF__SPENT_NONE:
    default:
      snprintf(text, sizeof text, "out of memory");
      break;
  }
  return text;
}

int wf__fault_spent(wf__fault *f, const wf__budget *b, const char *what) {
  if (b->spent == WF__SPENT_SIZE) {
    f->error = "States.DataLimitExceeded";
    f->raw = false;
    wf__strbuf_reset(&f->cause);
    return -1;
  }
  const char *why = wf__budget_reason(b);
  if (b->spent == WF__SPENT_MEMORY || b->spent == WF__SPENT_NONE)
    return wf__fault_set(f, "States.Runtime",
                         "Out of memory while evaluating '%s'", what);
  return wf__fault_set(f, "States.Runtime", "While evaluating '%s', %s", what,
                       why);
}
