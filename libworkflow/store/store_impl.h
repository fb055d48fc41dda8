/* The store handle around a backend, and what the engine reads of it. */
#ifndef WF_STORE_IMPL_H
#define WF_STORE_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "workflow/store.h"

struct wf_store {
  const wf_store_ops *ops;
  void *backend;
  int64_t retention_ms; /* <0: never */
  size_t retention_count;
  bool read_only;
};

/* Fill in defaults and check the version; WF_OK or WF_EVERSION. */
int wf__store_options_resolve(wf_store_options *out,
                              const wf_store_options *in, wf_error *err);
/* Make a handle for a built-in backend (takes it: closed on failure). */
int wf__store_wrap(wf_store **out, const wf_store_ops *ops, void *backend,
                   const wf_store_options *opts, wf_error *err);

static inline int wf__store_commit(wf_store *s, const wf_store_batch *b,
                                   wf_error *err) {
  return s->ops->commit(s->backend, b, err);
}

/* An EXPRESS execution's ARN ("arn:PARTITION:states:REGION:ACCOUNT:
 * express:MACHINE:NAME:ID", the sixth field "express"): its name may
 * repeat, the ARN alone identifies it. */
static inline bool wf__store_arn_is_express(const char *arn) {
  for (int colons = 0; arn && *arn; arn++)
    if (*arn == ':' && ++colons == 5) return strncmp(arn + 1, "express:", 8) == 0;
  return false;
}

/* A store whose executions are shared by many processes (the work
 * sharing operations of wf_store_ops). */
static inline bool wf__store_shared(const wf_store *s) {
  return WF_STORE_HAS(s->ops, find_holding) && s->ops->claim &&
         s->ops->acquire && s->ops->lost && s->ops->find_holding;
}

/* 90 days, AWS's history retention. */
#define WF__STORE_RETENTION_MS (90LL * 24 * 3600 * 1000)

#endif
