/* Work sharing: an engine on a shared store (wf_store_ops.claim) runs the
 * executions it starts and those it claims — when it starts, the running
 * executions no live process holds, and from then on, every third of its
 * lease, those of processes that stopped renewing theirs (the claim
 * renews this process's lease too). An API call about an execution
 * another process runs takes it over (wf_engine_take_execution).
 *
 * A lease this process lost (it stalled past it, or another process took
 * the execution over) is reported by the store, found at a claim or by a
 * commit the store refused: the execution is marked lost at once (the
 * committer drops its items and commits nothing more of it) and dropped
 * by this thread (its frames and timers stop). */
#include <errno.h>
#include <time.h>

#include "alloc.h"
#include "clock_impl.h"
#include "error.h"
#include "step.h"

/* At most this many executions claimed at a time (the next claim takes
 * more), so that a worker joining a busy database does not take them
 * all at once. */
#define CLAIM_BATCH 256

typedef struct wf__share {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* stop, or executions to drop */
  bool stop;
  bool poke; /* poll the Distributed Maps' shares now (map_shard.c) */
  pthread_t thread;
  bool running;
  int64_t next_ms;     /* until the next claim */
  wf_execution **drop; /* lost, to be dropped (references) */
  size_t ndrop, cap;
} wf__share;

/* ---- claiming ---- */

static size_t room(wf_engine *e) {
  if (!e->max_running) return CLAIM_BATCH;
  pthread_mutex_lock(&e->xlock);
  size_t running = e->executions.count;
  pthread_mutex_unlock(&e->xlock);
  size_t left = running < e->max_running ? e->max_running - running : 0;
  return left < CLAIM_BATCH ? left : CLAIM_BATCH;
}

static int read_claimed(wf_engine *e, wf_store_execution_cb cb, void *list,
                        void *arg, wf_error *err) {
  wf__share *sh = arg;
  int64_t next = 0;
  int rc = e->store->ops->claim(e->store->backend, room(e), cb, list, &next,
                                err);
  /* What the claim found lost is marked before the claimed are resumed:
   * one may be coming back, and its stale copy must give way. */
  wf__share_drop_lost(e);
  pthread_mutex_lock(&sh->mu);
  if (next > 0) sh->next_ms = next;
  pthread_mutex_unlock(&sh->mu);
  return rc;
}

static int read_acquired(wf_engine *e, wf_store_execution_cb cb, void *list,
                         void *arg, wf_error *err) {
  return e->store->ops->acquire(e->store->backend, arg, cb, list, err);
}

/* ---- lost leases ---- */

static void mark_lost(const char *arn, void *arg) {
  wf_engine *e = arg;
  wf__share *sh = e->share;
  wf_execution *x = wf__engine_lookup(e, arn, false);
  if (!x) return;
  atomic_store(&x->lost, true);
  pthread_mutex_lock(&sh->mu);
  if (sh->ndrop == sh->cap) {
    size_t cap = sh->cap ? sh->cap * 2 : 16;
    wf_execution **d = wf__realloc(sh->drop, cap * sizeof *d);
    if (d) {
      sh->drop = d;
      sh->cap = cap;
    }
  }
  if (sh->ndrop < sh->cap) {
    sh->drop[sh->ndrop++] = x;
    x = NULL;
  }
  pthread_cond_signal(&sh->cv);
  pthread_mutex_unlock(&sh->mu);
  /* Without room it stays marked: nothing of it is committed. */
  if (x) wf__exec_release(x);
}

void wf__share_drop_lost(wf_engine *e) {
  if (!e->share) return;
  e->store->ops->lost(e->store->backend, mark_lost, e);
}

/* Drop what was marked lost (no lock held). */
static void drop_marked(wf__share *sh) {
  pthread_mutex_lock(&sh->mu);
  wf_execution **drop = sh->drop;
  size_t n = sh->ndrop;
  sh->drop = NULL;
  sh->ndrop = sh->cap = 0;
  pthread_mutex_unlock(&sh->mu);
  for (size_t i = 0; i < n; i++) {
    wf__exec_drop(drop[i]);
    wf__log_engine(drop[i]->engine, WF_LOG_WARN, "ExecutionLeaseLost",
                   drop[i]->arn);
    wf__exec_release(drop[i]);
  }
  wf__free(drop);
}

/* ---- the claimer thread ---- */

static void tick(wf_engine *e) {
  wf_error err;
  if (wf__resume_from(e, read_claimed, e->share, NULL, &err) != WF_OK)
    wf__log_engine(e, WF_LOG_ERROR, "StoreClaimFailed", err.message);
  wf__share_drop_lost(e);
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Claims every third of the lease; between them, the shares of
 * Distributed Maps (map_shard.c) polled as often as they ask. */
static void *share_main(void *arg) {
  wf_engine *e = arg;
  wf__share *sh = e->share;
  int64_t claim_at = monotonic_ms() + sh->next_ms, poll_in = 0;
  pthread_mutex_lock(&sh->mu);
  while (!sh->stop) {
    int64_t wait = claim_at - monotonic_ms();
    if (poll_in < wait) wait = poll_in;
    struct timespec at =
        wf__timespec_in(CLOCK_MONOTONIC, (wait > 0 ? wait : 0) * 1000);
    int rc = 0;
    while (!sh->stop && !sh->ndrop && !sh->poke && rc != ETIMEDOUT)
      rc = pthread_cond_timedwait(&sh->cv, &sh->mu, &at);
    if (sh->stop) break;
    bool poke = sh->poke;
    sh->poke = false;
    pthread_mutex_unlock(&sh->mu);
    drop_marked(sh);
    if (monotonic_ms() >= claim_at) {
      tick(e);
      pthread_mutex_lock(&sh->mu);
      claim_at = monotonic_ms() + sh->next_ms;
      pthread_mutex_unlock(&sh->mu);
    }
    if (rc == ETIMEDOUT || poke) poll_in = wf__shard_poll(e);
    pthread_mutex_lock(&sh->mu);
  }
  pthread_mutex_unlock(&sh->mu);
  return NULL;
}

int wf__share_start(wf_engine *e, size_t *resumed, wf_error *err) {
  wf__share *sh = wf__calloc(1, sizeof *sh);
  if (!sh) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  pthread_mutex_init(&sh->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&sh->cv, &ca);
  pthread_condattr_destroy(&ca);
  sh->next_ms = 1000;
  e->share = sh;
  int rc = wf__resume_from(e, read_claimed, sh, resumed, err);
  if (rc != WF_OK) return rc;
  if (pthread_create(&sh->thread, NULL, share_main, e) != 0)
    return wf__error_set(err, WF_EINTERNAL, NULL,
                         "cannot start the store's claimer thread");
  sh->running = true;
  return WF_OK;
}

void wf__share_poke(wf_engine *e) {
  wf__share *sh = e->share;
  if (!sh) return;
  pthread_mutex_lock(&sh->mu);
  sh->poke = true;
  pthread_cond_signal(&sh->cv);
  pthread_mutex_unlock(&sh->mu);
}

void wf__share_stop(wf_engine *e) {
  wf__share *sh = e->share;
  if (!sh || !sh->running) return;
  pthread_mutex_lock(&sh->mu);
  sh->stop = true;
  pthread_cond_signal(&sh->cv);
  pthread_mutex_unlock(&sh->mu);
  if (sh->running) pthread_join(sh->thread, NULL);
  sh->running = false;
}

void wf__share_free(wf_engine *e) {
  wf__share *sh = e->share;
  if (!sh) return;
  drop_marked(sh);
  pthread_cond_destroy(&sh->cv);
  pthread_mutex_destroy(&sh->mu);
  wf__free(sh);
  e->share = NULL;
}

/* ---- taking an execution over ---- */

int wf__share_adopt(wf_engine *e, const char *arn, wf_error *err) {
  if (!e->share)
    return wf__error_set(err, WF_ESTATE, NULL,
                         "the engine has not resumed its store's "
                         "executions yet (wf_engine_resume)");
  size_t n = 0;
  int rc = wf__resume_from(e, read_acquired, (void *)arn, &n, err);
  if (rc == WF_OK && !n)
    rc = wf__error_set(err, WF_ENOTFOUND, NULL,
                       "execution '%s' is not running", arn);
  return rc;
}

bool wf__share_confirm(wf_engine *e, wf_execution *x) {
  const wf_store_ops *ops = e->store->ops;
  if (!e->share || !WF_STORE_HAS(ops, holds) || !ops->holds) return true;
  wf_error err;
  /* A store that cannot say answers as it would have without asking: the
   * commit that follows is fenced all the same. */
  if (ops->holds(e->store->backend, x->arn, &err) != WF_ECANCELED)
    return true;
  wf__share_drop_lost(e);
  return false;
}

/* Candidates for a token: the ARNs of the running executions holding it. */
typedef struct holders {
  char **arns;
  size_t n;
} holders;

static int keep_holder(const wf_store_execution *r, void *p) {
  holders *h = p;
  if (h->n == 8) return 1; /* a token copied into data: enough tried */
  char *arn = wf__strdup(r->arn);
  if (arn) h->arns[h->n++] = arn;
  return 0;
}

static bool is_token(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
      return false;
  return n == 32;
}

bool wf__share_adopt_token(wf_engine *e, const char *token) {
  /* Only what looks like a token of ours is searched for. */
  if (!e->share || !token || !is_token(token)) return false;
  char *arns[8];
  holders h = {arns, 0};
  wf_error err;
  if (e->store->ops->find_holding(e->store->backend, token, keep_holder, &h,
                                  &err) != WF_OK)
    wf__log_engine(e, WF_LOG_ERROR, "StoreReadFailed", err.message);
  bool any = false;
  for (size_t i = 0; i < h.n; i++) {
    wf_execution *x = wf__engine_lookup(e, arns[i], false);
    if (x) wf__exec_release(x);
    else any |= wf__share_adopt(e, arns[i], &err) == WF_OK;
    wf__free(arns[i]);
  }
  return any;
}
