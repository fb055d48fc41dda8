/* A string-keyed hash map of pointers (keys copied), hashed with a keyed
 * hash (hash.h) so clients cannot make keys collide. Not synchronised:
 * callers hold their own lock. */
#ifndef WF_STRMAP_H
#define WF_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct wf__strmap_entry {
  char *key;
  void *value;
  size_t hash;
  bool borrowed; /* the key is the caller's (wf__strmap_put_borrowed) */
  struct wf__strmap_entry *next;
} wf__strmap_entry;

typedef struct wf__strmap {
  wf__strmap_entry **buckets;
  size_t nbuckets, count;
} wf__strmap;

#define WF__STRMAP_INIT {NULL, 0, 0}

void *wf__strmap_get(const wf__strmap *m, const char *key);
/* Insert or replace; returns the previous value through *old (may be
 * NULL). Returns false on out-of-memory. */
bool wf__strmap_put(wf__strmap *m, const char *key, void *value, void **old);
/* The same without copying the key: it must stay valid, unchanged, until
 * the entry is removed or the map cleared. */
bool wf__strmap_put_borrowed(wf__strmap *m, const char *key, void *value,
                             void **old);
/* Remove; returns the value (NULL when absent). */
void *wf__strmap_remove(wf__strmap *m, const char *key);
/* Visit every entry; the callback must not modify the map. */
void wf__strmap_foreach(const wf__strmap *m,
                        void (*fn)(const char *key, void *value, void *arg),
                        void *arg);
void wf__strmap_clear(wf__strmap *m);

#endif
