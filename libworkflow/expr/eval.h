/* What a path, payload template or intrinsic call sees when it runs, and how
 * a run-time failure is reported (an AWS error name plus its cause text). */
#ifndef WF_EVAL_H
#define WF_EVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "strbuf.h"

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
} wf__eval_env;

/* A run-time failure: `error` is a static AWS error name ("States.Runtime",
 * "States.IntrinsicFailure", ...); `cause` is AWS's detail text, without the
 * "An error occurred while executing the state ..." prefix the engine adds. */
typedef struct wf__fault {
  const char *error;
  wf__strbuf cause;
  bool raw; /* the cause is complete: no "An error occurred ..." prefix */
} wf__fault;

#define WF__FAULT_INIT {NULL, WF__STRBUF_INIT, false}

/* Set the fault (replacing an earlier one) and return -1. */
int wf__fault_set(wf__fault *f, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wf__fault_clear(wf__fault *f);
/* Set a fault whose cause AWS reports as is, without the state prefix. */
int wf__fault_set_raw(wf__fault *f, const char *error, const char *cause);

#endif
