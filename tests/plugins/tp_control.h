/* Shared by the test plugins (tests/plugins/tp_*.c) and the tests that load
 * them: a control block owned by the test, whose address the test passes in
 * the plugin's configuration as {"control":"0x..."}. Through it a test
 * counts init, fini and handler calls, holds handlers until it releases
 * them, and reads what register_handler answered. Plugins and tests are
 * built by the same compiler from this one header, so the layout agrees. */
#ifndef TP_CONTROL_H
#define TP_CONTROL_H

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <workflow/handler.h>

#include "../support/deadline.h"

typedef struct tp_control {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int inits;            /* init calls that succeeded */
  int finis;            /* fini calls */
  int entered;          /* handler calls begun */
  int returned;         /* handler calls that are about to return */
  int released;         /* set by the test: blocked handlers may go on */
  int running_at_fini;  /* entered - returned when fini ran */
  int returned_at_fini; /* returned when fini ran */
  int cancelled_seen;   /* calls that ended because the task was cancelled */
  int rc[8];            /* register_handler answers (tp_regcheck) */
} tp_control;

#define TP_CONTROL_INIT \
  {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER}

/* The control block named in a configuration, or NULL. */
static inline tp_control *tp_control_from(const char *config) {
  const char *k = config ? strstr(config, "\"control\"") : NULL;
  void *p = NULL;
  if (k && (k = strchr(k + 9, ':')) && (k = strchr(k, '"')) &&
      sscanf(k + 1, "%p", &p) == 1)
    return p;
  return NULL;
}

static inline void tp_control_add(tp_control *c, int *field, int n) {
  if (!c) return;
  pthread_mutex_lock(&c->mu);
  *field += n;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static inline int tp_control_get(tp_control *c, const int *field) {
  pthread_mutex_lock(&c->mu);
  int v = *field;
  pthread_mutex_unlock(&c->mu);
  return v;
}

/* Wait (at most ms of real time) until *field >= n; returns the value. */
static inline int tp_control_wait(tp_control *c, const int *field, int n,
                                  int ms) {
  struct timespec ts = wft_deadline(ms);
  pthread_mutex_lock(&c->mu);
  while (*field < n)
    if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0) break;
  int v = *field;
  pthread_mutex_unlock(&c->mu);
  return v;
}

/* fini's record: how many calls were still running, and had returned. */
static inline void tp_control_fini(tp_control *c) {
  if (!c) return;
  pthread_mutex_lock(&c->mu);
  c->finis++;
  c->running_at_fini = c->entered - c->returned;
  c->returned_at_fini = c->returned;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

/* Count one more in field f of the control block c, when there is one. */
#define TP_COUNT(c, f)                 \
  do {                                 \
    if (c) tp_control_add(c, &(c)->f, 1); \
  } while (0)

/* Fill a plugin's err (the host always passes one, but be careful). */
static inline int tp_fail(wf_error *err, int code, const char *msg) {
  if (err) {
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", msg);
  }
  return code;
}

#define TP_FN "arn:aws:lambda:us-east-1:123456789012:function:"

#endif
