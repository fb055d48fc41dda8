/* Time sources: the system clock, virtual clocks and user clocks. */
#include <pthread.h>
#include <time.h>

#include "alloc.h"
#include "clock_impl.h"
#include "workflow/common.h"

typedef enum { CLOCK_SYS, CLOCK_VIRTUAL, CLOCK_CUSTOM } clock_kind;

typedef struct waiter {
  void (*wake)(void *);
  void *arg;
  struct waiter *next;
} waiter;

struct wf_clock {
  clock_kind kind;
  pthread_mutex_t lock;  /* guards now_ms */
  pthread_mutex_t wlock; /* guards waiters; never held with lock. Engines
                            read the time under their queue lock, and are
                            woken with this one held, so the two must
                            differ. */
  int64_t now_ms;
  wf_clock_now_fn fn;
  void *payload;
  waiter *waiters;
};

/* Immutable apart from its (unused) lock: reading it needs no lock. */
static wf_clock system_clock = {CLOCK_SYS, PTHREAD_MUTEX_INITIALIZER,
                                PTHREAD_MUTEX_INITIALIZER, 0, NULL, NULL,
                                NULL};

static int64_t realtime_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wf__monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec wf__timespec_in(clockid_t clock, int64_t us) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  int64_t ns = ts.tv_nsec + (us % 1000000) * 1000;
  ts.tv_sec += (time_t)(us / 1000000 + ns / 1000000000);
  ts.tv_nsec = (long)(ns % 1000000000);
  return ts;
}

wf_clock *wf_clock_system(void) { return &system_clock; }

static wf_clock *make(clock_kind kind) {
  wf_clock *c = wf__calloc(1, sizeof *c);
  if (!c) return NULL;
  c->kind = kind;
  pthread_mutex_init(&c->lock, NULL);
  pthread_mutex_init(&c->wlock, NULL);
  return c;
}

int wf_clock_virtual_new(wf_clock **out, int64_t start_ms) {
  if (!out || start_ms < 0) return WF_EINVAL;
  wf_clock *c = make(CLOCK_VIRTUAL);
  if (!c) return WF_ENOMEM;
  c->now_ms = start_ms ? start_ms : realtime_ms();
  *out = c;
  return WF_OK;
}

int wf_clock_custom_new(wf_clock **out, wf_clock_now_fn now, void *payload) {
  if (!out || !now) return WF_EINVAL;
  wf_clock *c = make(CLOCK_CUSTOM);
  if (!c) return WF_ENOMEM;
  c->fn = now;
  c->payload = payload;
  *out = c;
  return WF_OK;
}

int64_t wf_clock_now(wf_clock *c) {
  if (!c || c->kind == CLOCK_SYS) return realtime_ms();
  if (c->kind == CLOCK_CUSTOM) return c->fn(c->payload);
  pthread_mutex_lock(&c->lock);
  int64_t t = c->now_ms;
  pthread_mutex_unlock(&c->lock);
  return t;
}

bool wf__clock_is_virtual(const wf_clock *c) {
  return c && c->kind == CLOCK_VIRTUAL;
}

static void wake_all(wf_clock *c) {
  /* Called without the lock held by the caller of advance; waiters are
   * only added or removed by engines that outlive their subscription. */
  pthread_mutex_lock(&c->wlock);
  for (waiter *w = c->waiters; w; w = w->next) w->wake(w->arg);
  pthread_mutex_unlock(&c->wlock);
}

void wf__clock_advance_to(wf_clock *c, int64_t t) {
  pthread_mutex_lock(&c->lock);
  if (t > c->now_ms) c->now_ms = t;
  pthread_mutex_unlock(&c->lock);
}

int wf_clock_advance(wf_clock *c, int64_t ms) {
  if (!c || c->kind != CLOCK_VIRTUAL || ms < 0) return WF_EINVAL;
  pthread_mutex_lock(&c->lock);
  c->now_ms += ms;
  pthread_mutex_unlock(&c->lock);
  wake_all(c);
  return WF_OK;
}

int wf__clock_subscribe(wf_clock *c, void (*wake)(void *), void *arg) {
  if (!c || c->kind == CLOCK_SYS) return WF_OK;
  waiter *w = wf__malloc(sizeof *w);
  if (!w) return WF_ENOMEM;
  w->wake = wake;
  w->arg = arg;
  pthread_mutex_lock(&c->wlock);
  w->next = c->waiters;
  c->waiters = w;
  pthread_mutex_unlock(&c->wlock);
  return WF_OK;
}

void wf__clock_unsubscribe(wf_clock *c, void *arg) {
  if (!c || c->kind == CLOCK_SYS) return;
  pthread_mutex_lock(&c->wlock);
  for (waiter **pp = &c->waiters; *pp; pp = &(*pp)->next) {
    if ((*pp)->arg == arg) {
      waiter *w = *pp;
      *pp = w->next;
      wf__free(w);
      break;
    }
  }
  pthread_mutex_unlock(&c->wlock);
}

void wf_clock_free(wf_clock *c) {
  if (!c || c == &system_clock) return;
  while (c->waiters) {
    waiter *w = c->waiters;
    c->waiters = w->next;
    wf__free(w);
  }
  pthread_mutex_destroy(&c->lock);
  pthread_mutex_destroy(&c->wlock);
  wf__free(c);
}
