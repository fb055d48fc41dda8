#include "rng.h"

#include <stdio.h>
#include <sys/random.h>
#include <time.h>

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void wf__rng_seed(wf__rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t wf__rng_next(wf__rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double wf__rng_double(wf__rng *r) {
  return (double)(wf__rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t wf__rng_system_seed(void) {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) == (ssize_t)sizeof seed) return seed;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
               (uint64_t)(uintptr_t)&seed;
  return splitmix(&x);
}

void wf__uuid_v4(char out[37], uint64_t a, uint64_t b) {
  /* RFC 4122 version 4: version nibble 4, variant bits 10. */
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
           (unsigned)((a >> 16) & 0xFFFF), (unsigned)(a & 0xFFFF),
           (unsigned)(b >> 48), (unsigned long long)(b & 0xFFFFFFFFFFFFULL));
}
