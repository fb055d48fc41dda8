/* The replaceable allocator (libuv's uv_replace_allocator idea). */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "workflow/common.h"

static void *std_malloc(size_t n, void *payload) {
  (void)payload;
  return malloc(n);
}
static void *std_realloc(void *p, size_t n, void *payload) {
  (void)payload;
  return realloc(p, n);
}
static void std_free(void *p, void *payload) {
  (void)payload;
  free(p);
}

/* Written only by wf_allocator_set(), which the API requires to run before
 * any other call; `used` (atomic) makes a late call fail instead of racing. */
static wf_allocator current = {WF_ALLOCATOR_VERSION, std_malloc, std_realloc,
                               std_free, NULL};
static atomic_bool used;
static atomic_bool set_once;

int wf_allocator_set(const wf_allocator *alloc) {
  if (atomic_load(&used) || atomic_load(&set_once)) return WF_EBUSY;
  if (alloc == NULL) return WF_OK;
  if (alloc->version != WF_ALLOCATOR_VERSION) return WF_EVERSION;
  if (!alloc->malloc || !alloc->realloc || !alloc->free) return WF_EINVAL;
  current = *alloc;
  atomic_store(&set_once, 1);
  return WF_OK;
}

/* Read first: a store on every call would bounce the cache line between
 * threads. */
static inline void mark_used(void) {
  if (!atomic_load_explicit(&used, memory_order_relaxed))
    atomic_store_explicit(&used, 1, memory_order_relaxed);
}

/* Allocations this thread could not get: callers that check every result
 * report out of memory where it happens; wf__alloc_failures() lets a
 * caller that ran a long stretch of code (loading a definition, stepping a
 * state) learn that something in it went without. */
static _Thread_local unsigned long failed;

unsigned long wf__alloc_failures(void) { return failed; }

void *wf__malloc(size_t n) {
  mark_used();
  void *p = current.malloc(n ? n : 1, current.payload);
  if (!p) failed++;
  return p;
}

void *wf__calloc(size_t count, size_t n) {
  if (n && count > ((size_t)-1) / n) {
    failed++;
    return NULL;
  }
  void *p = wf__malloc(count * n);
  if (p) memset(p, 0, count * n);
  return p;
}

void *wf__realloc(void *p, size_t n) {
  mark_used();
  void *q = current.realloc(p, n ? n : 1, current.payload);
  if (!q) failed++;
  return q;
}

void wf__free(void *p) {
  if (p) current.free(p, current.payload);
}

char *wf__strndup(const char *s, size_t n) {
  if (!s) return NULL;
  char *d = wf__malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *wf__strdup(const char *s) { return s ? wf__strndup(s, strlen(s)) : NULL; }
