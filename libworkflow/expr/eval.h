/* What a path, payload template or intrinsic call sees when it runs, and how
 * a run-time failure is reported (an AWS error name plus its cause text). */
#ifndef WF_EVAL_H
#define WF_EVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "strbuf.h"

/* What one evaluation may spend (issue: a state must not hold an engine
 * thread or its memory with a small hostile expression). An evaluation is
 * what one wf__eval_env serves: a payload template with all its paths and
 * intrinsic calls, a Choice state's rules, one Map item's ItemSelector.
 *   steps:      units of work left (a node visited by a path, an element
 *               tested by a filter, a regular expression match, an
 *               intrinsic call); deterministic.
 *   cpu_ns:     CPU time of the calling thread the evaluation may use,
 *               read every so often (CLOCK_THREAD_CPUTIME_ID: a CPU guard,
 *               not workflow time, so not the engine's injectable clock).
 *   max_result: bytes (as compact JSON) that a path's matches or an
 *               intrinsic's result may reach: the payload limit, since a
 *               larger value could never leave the state.
 * When a bound is crossed the evaluation stops at once with WF__SPENT_*
 * in `spent`. */
typedef enum wf__spent {
  WF__SPENT_NONE = 0,
  WF__SPENT_STEPS,  /* the work budget */
  WF__SPENT_TIME,   /* the CPU-time budget */
  WF__SPENT_SIZE,   /* a result larger than max_result */
  WF__SPENT_REGEX,  /* one regular expression match past its own limits */
  WF__SPENT_MEMORY, /* an allocation failed */
} wf__spent;

typedef struct wf__budget {
  uint64_t steps;
  uint64_t cpu_ns;
  size_t max_result;
  int64_t cpu_deadline; /* set on the first clock check */
  uint32_t ticks;       /* steps since the last clock check */
  wf__spent spent;
} wf__budget;

#define WF__BUDGET_STEPS 10000000u      /* about half a second of paths */
#define WF__BUDGET_CPU_NS 1000000000u  /* AWS gives JSONata 1 s */
#define WF__BUDGET_RESULT 262144u      /* AWS's payload limit */
/* One regular expression match: PCRE2's match and depth limits. */
#define WF__REGEX_MATCH_LIMIT 1000000u
#define WF__REGEX_DEPTH_LIMIT 10000u

/* 0 for max_result or cpu_ns: the defaults above. */
void wf__budget_init(wf__budget *b, size_t max_result, uint64_t cpu_ns);
/* Spend n steps; false (with b->spent set) once a bound is crossed. Reads
 * the thread's CPU clock every few thousand steps. */
bool wf__budget_charge(wf__budget *b, uint64_t n);
/* Check the CPU clock now (after an expensive call such as a regular
 * expression match); false once the time is spent. */
bool wf__budget_check_time(wf__budget *b);
/* Record that an allocation failed; returns false. */
bool wf__budget_nomem(wf__budget *b);
/* Why the budget is spent, as a phrase ("the result passed 262144 bytes");
 * a static or thread-local string. */
const char *wf__budget_reason(const wf__budget *b);

typedef struct wf__eval_env {
  /* "$": the document paths select from (borrowed). */
  json_t *input;
  /* "$$": the context object, built on first use (borrowed; NULL when there
   * is none). */
  json_t *(*context)(void *payload);
  /* "$name": a workflow variable's value (borrowed), NULL when the variable
   * was never assigned. */
  json_t *(*variable)(const char *name, void *payload);
  /* Uniform 64-bit random numbers for States.UUID and unseeded
   * States.MathRandom; the engine seeds it per execution. */
  uint64_t (*random)(void *payload);
  void *payload;
  /* What the evaluation may spend (the caller's; mutable through the const
   * env). Never NULL. */
  wf__budget *budget;
} wf__eval_env;

/* A run-time failure: `error` is a static AWS error name ("States.Runtime",
 * "States.IntrinsicFailure", ...); `cause` is AWS's detail text, without the
 * "An error occurred while executing the state ..." prefix the engine adds. */
typedef struct wf__fault {
  const char *error;
  wf__strbuf cause;
  bool raw; /* the cause is complete: no "An error occurred ..." prefix */
  /* A JSONata expression's failure: the field it sits in ("Output/a"),
   * which AWS's EvaluationFailed event names; "" otherwise. */
  char location[96];
} wf__fault;

#define WF__FAULT_INIT {NULL, WF__STRBUF_INIT, false, {0}}

/* Set the fault (replacing an earlier one) and return -1. */
int wf__fault_set(wf__fault *f, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wf__fault_clear(wf__fault *f);
/* Set a fault whose cause AWS reports as is, without the state prefix. */
int wf__fault_set_raw(wf__fault *f, const char *error, const char *cause);

/* The fault for a spent budget (b->spent != NONE) while evaluating `what`
 * (the expression's text):
 *   SIZE:   States.DataLimitExceeded with an empty cause: the engine words
 *           it as AWS does for the state ("The state/task '<name>' returned
 *           a result with a size exceeding the maximum number of bytes
 *           service limit.");
 *   MEMORY: States.Runtime, "Out of memory while evaluating '<what>'";
 *   STEPS, TIME, REGEX: States.Runtime naming the bound.
 * Returns -1. */
int wf__fault_spent(wf__fault *f, const wf__budget *b, const char *what);

#endif
