/* SipHash-1-3 (Aumasson and Bernstein): one compression round per 8-byte
 * word, three finalisation rounds, 64-bit output. */
#include "hash.h"

#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* The process's key: written once under pthread_once, read-only after. */
static uint64_t key0, key1;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void make_key(void) {
  uint64_t k[2];
  if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) {
    /* No generator: still unpredictable enough to a remote client. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    k[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)&ts;
    k[1] = (uint64_t)ts.tv_sec * 0xBF58476D1CE4E5B9ULL ^ (uint64_t)&k;
  }
  key0 = k[0];
  key1 = k[1];
}

static inline uint64_t rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                    \
  do {                                                              \
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);       \
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                          \
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                          \
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);       \
  } while (0)

uint64_t wf__hash_str(const char *s) {
  pthread_once(&key_once, make_key);
  size_t len = strlen(s);
  uint64_t v0 = key0 ^ 0x736f6d6570736575ULL;
  uint64_t v1 = key1 ^ 0x646f72616e646f6dULL;
  uint64_t v2 = key0 ^ 0x6c7967656e657261ULL;
  uint64_t v3 = key1 ^ 0x7465646279746573ULL;
  const unsigned char *p = (const unsigned char *)s;
  size_t words = len / 8;
  for (size_t i = 0; i < words; i++, p += 8) {
    uint64_t m;
    memcpy(&m, p, 8); /* little-endian on the platforms built for */
    v3 ^= m;
    SIPROUND;
    v0 ^= m;
  }
  uint64_t last = (uint64_t)len << 56;
  for (size_t i = 0; i < len % 8; i++) last |= (uint64_t)p[i] << (8 * i);
  v3 ^= last;
  SIPROUND;
  v0 ^= last;
  v2 ^= 0xff;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}
