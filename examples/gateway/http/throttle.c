/* Throttling: a token bucket per client (API key name, else address),
 * refilled at `rate` tokens a second up to `burst`. Buckets live in
 * SHARDS independently locked tables, so concurrent requests from
 * different clients rarely meet on a lock; each table keeps its buckets in
 * least-recently-used order and drops the stalest when full, so memory is
 * bounded by max_clients whatever the number of addresses seen. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define SHARDS 16

typedef struct bucket {
  char *key;
  size_t hash;
  double tokens, last_ms;
  struct bucket *chain;            /* hash chain */
  struct bucket *older, *newer;    /* LRU list */
} bucket;

typedef struct shard {
  pthread_mutex_t lock;
  bucket **slots;
  size_t cap, n;       /* cap: power of two */
  bucket *oldest, *newest;
} shard;

struct gw_throttle {
  double rate, burst;
  size_t max_per_shard;
  shard shards[SHARDS];
};

static size_t hash(const char *s) {
  size_t h = 1469598103934665603u; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

gw_throttle *gw_throttle_new(double rate, double burst, size_t max_clients) {
  gw_throttle *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->rate = rate;
  t->burst = burst;
  t->max_per_shard = max_clients / SHARDS ? max_clients / SHARDS : 1;
  size_t cap = 16;
  while (cap < t->max_per_shard) cap *= 2;
  for (size_t i = 0; i < SHARDS; i++) {
    shard *s = &t->shards[i];
    pthread_mutex_init(&s->lock, NULL);
    s->cap = cap;
    if (!(s->slots = calloc(cap, sizeof *s->slots))) {
      gw_throttle_free(t);
      return NULL;
    }
  }
  return t;
}

void gw_throttle_free(gw_throttle *t) {
  if (!t) return;
  for (size_t i = 0; i < SHARDS; i++) {
    shard *s = &t->shards[i];
    for (bucket *b = s->oldest, *next; b; b = next) {
      next = b->newer;
      free(b->key);
      free(b);
    }
    free(s->slots);
    pthread_mutex_destroy(&s->lock);
  }
  free(t);
}

static void lru_unlink(shard *s, bucket *b) {
  if (b->older) b->older->newer = b->newer;
  else s->oldest = b->newer;
  if (b->newer) b->newer->older = b->older;
  else s->newest = b->older;
  b->older = b->newer = NULL;
}

static void lru_push(shard *s, bucket *b) {
  b->older = s->newest;
  if (s->newest) s->newest->newer = b;
  else s->oldest = b;
  s->newest = b;
}

static bucket **slot_of(shard *s, const char *key, size_t h) {
  bucket **p = &s->slots[(h / SHARDS) & (s->cap - 1)];
  while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
    p = &(*p)->chain;
  return p;
}

/* Forget the least recently used bucket to make room. A client coming
 * back after that starts with a full bucket, which is what it would have
 * had anyway unless it is very busy — and busy clients are not the least
 * recently used. */
static void drop_oldest(shard *s) {
  bucket *b = s->oldest;
  bucket **p = slot_of(s, b->key, b->hash);
  *p = b->chain;
  lru_unlink(s, b);
  s->n--;
  free(b->key);
  free(b);
}

bool gw_throttle_take(gw_throttle *t, const char *key,
                      unsigned *retry_after_s) {
  size_t h = hash(key);
  shard *s = &t->shards[h % SHARDS];
  double now = gw_mono_ms();
  bool ok;
  pthread_mutex_lock(&s->lock);
  bucket **p = slot_of(s, key, h), *b = *p;
  if (!b) {
    if (s->n >= t->max_per_shard) {
      drop_oldest(s);
      p = slot_of(s, key, h);
    }
    b = calloc(1, sizeof *b);
    if (!b || !(b->key = strdup(key))) {
      /* Without memory the request is let through: refusing it would
       * turn an allocation failure into an outage. */
      free(b);
      pthread_mutex_unlock(&s->lock);
      return true;
    }
    b->hash = h;
    b->tokens = t->burst;
    b->last_ms = now;
    *p = b;
    s->n++;
  } else {
    lru_unlink(s, b);
    b->tokens = fmin(t->burst, b->tokens + (now - b->last_ms) * t->rate / 1e3);
    b->last_ms = now;
  }
  lru_push(s, b);
  ok = b->tokens >= 1;
  if (ok) b->tokens -= 1;
  else *retry_after_s = (unsigned)ceil((1 - b->tokens) / t->rate);
  pthread_mutex_unlock(&s->lock);
  if (!ok && *retry_after_s == 0) *retry_after_s = 1;
  return ok;
}
