#include "strmap.h"

#include <string.h>

#include "alloc.h"
#include "hash.h"

/* Keys come from clients (names, tokens): a keyed hash. */
static size_t hash_str(const char *s) { return (size_t)wf__hash_str(s); }

static wf__strmap_entry *find(const wf__strmap *m, const char *key,
                              size_t h) {
  if (!m->nbuckets) return NULL;
  for (wf__strmap_entry *e = m->buckets[h & (m->nbuckets - 1)]; e; e = e->next)
    if (e->hash == h && strcmp(e->key, key) == 0) return e;
  return NULL;
}

void *wf__strmap_get(const wf__strmap *m, const char *key) {
  wf__strmap_entry *e = find(m, key, hash_str(key));
  return e ? e->value : NULL;
}

static bool grow(wf__strmap *m) {
  size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
  wf__strmap_entry **b = wf__calloc(n, sizeof *b);
  if (!b) return false;
  for (size_t i = 0; i < m->nbuckets; i++) {
    wf__strmap_entry *e = m->buckets[i];
    while (e) {
      wf__strmap_entry *next = e->next;
      e->next = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
      e = next;
    }
  }
  wf__free(m->buckets);
  m->buckets = b;
  m->nbuckets = n;
  return true;
}

static bool put(wf__strmap *m, const char *key, void *value, void **old,
                bool borrow) {
  size_t h = hash_str(key);
  wf__strmap_entry *e = find(m, key, h);
  if (old) *old = e ? e->value : NULL;
  if (e) {
    e->value = value;
    return true;
  }
  if (m->count + 1 > m->nbuckets * 3 / 4 && !grow(m)) return false;
  e = wf__malloc(sizeof *e);
  if (!e || !(e->key = borrow ? (char *)key : wf__strdup(key))) {
    wf__free(e);
    return false;
  }
  e->borrowed = borrow;
  e->value = value;
  e->hash = h;
  e->next = m->buckets[h & (m->nbuckets - 1)];
  m->buckets[h & (m->nbuckets - 1)] = e;
  m->count++;
  return true;
}

bool wf__strmap_put(wf__strmap *m, const char *key, void *value, void **old) {
  return put(m, key, value, old, false);
}

bool wf__strmap_put_borrowed(wf__strmap *m, const char *key, void *value,
                             void **old) {
  return put(m, key, value, old, true);
}

void *wf__strmap_remove(wf__strmap *m, const char *key) {
  if (!m->nbuckets) return NULL;
  size_t h = hash_str(key);
  wf__strmap_entry **pp = &m->buckets[h & (m->nbuckets - 1)];
  for (; *pp; pp = &(*pp)->next) {
    wf__strmap_entry *e = *pp;
    if (e->hash == h && strcmp(e->key, key) == 0) {
      void *v = e->value;
      *pp = e->next;
      if (!e->borrowed) wf__free(e->key);
      wf__free(e);
      m->count--;
      return v;
    }
  }
  return NULL;
}

void wf__strmap_foreach(const wf__strmap *m,
                        void (*fn)(const char *key, void *value, void *arg),
                        void *arg) {
  for (size_t i = 0; i < m->nbuckets; i++)
    for (wf__strmap_entry *e = m->buckets[i]; e; e = e->next)
      fn(e->key, e->value, arg);
}

void wf__strmap_clear(wf__strmap *m) {
  for (size_t i = 0; i < m->nbuckets; i++) {
    wf__strmap_entry *e = m->buckets[i];
    while (e) {
      wf__strmap_entry *next = e->next;
      if (!e->borrowed) wf__free(e->key);
      wf__free(e);
      e = next;
    }
  }
  wf__free(m->buckets);
  m->buckets = NULL;
  m->nbuckets = m->count = 0;
}
