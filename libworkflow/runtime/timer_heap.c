/* The timer heap (timer_heap.h). */
#include "timer_heap.h"

#include "alloc.h"

static bool timer_less(const wf__timer *a, const wf__timer *b) {
  return a->deadline < b->deadline ||
         (a->deadline == b->deadline && a->seq < b->seq);
}

/* Entries tell their owner where they are, so an owner can take its timer
 * out when it no longer matters. */
static void put(wf__timer *items, size_t i, wf__timer t) {
  items[i] = t;
  if (t.slot) *t.slot = i;
}

static void sift_up(wf__timer *items, size_t i) {
  wf__timer t = items[i];
  while (i) {
    size_t p = (i - 1) / 2;
    if (!timer_less(&t, &items[p])) break;
    put(items, i, items[p]);
    i = p;
  }
  put(items, i, t);
}

static void sift_down(wf__timer *items, size_t n, size_t i) {
  wf__timer t = items[i];
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = l;
    if (l >= n) break;
    if (r < n && timer_less(&items[r], &items[l])) m = r;
    if (!timer_less(&items[m], &t)) break;
    put(items, i, items[m]);
    i = m;
  }
  put(items, i, t);
}

bool wf__timer_heap_reserve(wf__timer_heap *h) {
  if (h->n < h->cap) return true;
  size_t cap = h->cap ? h->cap * 2 : 64;
  wf__timer *items = wf__realloc(h->items, cap * sizeof *items);
  if (!items) return false;
  h->items = items;
  h->cap = cap;
  return true;
}

void wf__timer_heap_push(wf__timer_heap *h, wf__timer t) {
  t.seq = h->seq++;
  put(h->items, h->n, t);
  sift_up(h->items, h->n++);
}

wf__timer wf__timer_heap_remove(wf__timer_heap *h, size_t i) {
  wf__timer t = h->items[i];
  if (t.slot) *t.slot = WF__NO_TIMER;
  t.slot = NULL;
  if (i != --h->n) {
    wf__timer last = h->items[h->n];
    put(h->items, i, last);
    if (i && timer_less(&last, &h->items[(i - 1) / 2]))
      sift_up(h->items, i);
    else
      sift_down(h->items, h->n, i);
  }
  return t;
}

void wf__timer_drop(wf__timer *t) {
  if (t->ops && t->ops->drop) t->ops->drop(t->arg);
}

void wf__timer_heap_clear(wf__timer_heap *h) {
  for (size_t i = 0; i < h->n; i++) {
    if (h->items[i].slot) *h->items[i].slot = WF__NO_TIMER;
    wf__timer_drop(&h->items[i]);
  }
  wf__free(h->items);
  h->items = NULL;
  h->n = h->cap = 0;
}
