/* A binary min-heap of timers ordered by deadline, then by insertion. Each
 * entry may tell its owner where it sits (`slot`), so the owner can take it
 * out or replace it in O(log n). Not thread-safe: the scheduler guards it
 * with its queue lock. */
#ifndef WF_TIMER_HEAP_H
#define WF_TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A slot that holds no queued timer. */
#define WF__NO_TIMER SIZE_MAX

/* What a timer does, as a callback and its argument (libuv's uv_timer_t
 * shape): the runtime never looks inside `arg`. */
typedef struct wf__timer_ops {
  /* The deadline passed. Called with no runtime lock held; `gen` is the
   * generation given when the timer was added, for the owner to tell a
   * firing it no longer wants. `drop` follows. */
  void (*fire)(void *arg, uint64_t gen);
  /* Release what `arg` holds: after `fire`, or when the timer is cancelled,
   * replaced or discarded at shutdown. NULL: nothing to release. */
  void (*drop)(void *arg);
  /* Optional: true when firing would do nothing (its owner has ended), so
   * virtual time must not jump to it. Called with the queue lock held: it
   * may read atomics only. */
  bool (*stale)(void *arg);
} wf__timer_ops;

typedef struct wf__timer {
  int64_t deadline; /* on the scheduler's clock, ms */
  uint64_t seq;     /* insertion order among equal deadlines */
  const wf__timer_ops *ops;
  void *arg;
  uint64_t gen;
  /* Where the owner keeps this timer's heap index (WF__NO_TIMER when not
   * queued); NULL: not cancellable. The owner must outlive the timer (the
   * reference `arg` holds sees to it). */
  size_t *slot;
} wf__timer;

typedef struct wf__timer_heap {
  wf__timer *items;
  size_t n, cap;
  uint64_t seq;
} wf__timer_heap;

/* Make room for one more entry: false when out of memory. */
bool wf__timer_heap_reserve(wf__timer_heap *h);
/* Insert t (room reserved); sets its seq and its owner's slot. */
void wf__timer_heap_push(wf__timer_heap *h, wf__timer t);
/* Take entry i out; its owner's slot is cleared. */
wf__timer wf__timer_heap_remove(wf__timer_heap *h, size_t i);
/* The earliest entry (n > 0). */
static inline const wf__timer *wf__timer_heap_top(const wf__timer_heap *h) {
  return &h->items[0];
}
/* Drop every entry (calling its ops->drop) and free the heap. */
void wf__timer_heap_clear(wf__timer_heap *h);
/* Release what a timer taken out of the heap holds. */
void wf__timer_drop(wf__timer *t);

#endif
