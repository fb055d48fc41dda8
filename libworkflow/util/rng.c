#include "rng.h"

#include <errno.h>
#include <string.h>
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

/* Secrets come from the kernel's generator, read in blocks into a buffer
 * of each thread's own (thread-local: no lock, nothing shared), so a task
 * token costs a copy, not a system call. */
#define SECURE_BLOCK 512
static _Thread_local unsigned char secure_buf[SECURE_BLOCK];
static _Thread_local size_t secure_left;

int wf__rng_secure(void *out, size_t n) {
  unsigned char *p = out;
  while (n) {
    if (!secure_left) {
      size_t got = 0;
      while (got < SECURE_BLOCK) {
        ssize_t r = getrandom(secure_buf + got, SECURE_BLOCK - got, 0);
        if (r < 0) {
          if (errno == EINTR) continue;
          return -1;
        }
        got += (size_t)r;
      }
      secure_left = SECURE_BLOCK;
    }
    size_t take = n < secure_left ? n : secure_left;
    memcpy(p, secure_buf + SECURE_BLOCK - secure_left, take);
    /* What was handed out is not kept. */
    memset(secure_buf + SECURE_BLOCK - secure_left, 0, take);
    secure_left -= take;
    p += take;
    n -= take;
  }
  return 0;
}

/* Hex digits of the low `n` nibbles of v, most significant first (on the
 * hot path of every execution and task: no printf). */
static char *hex(char *out, uint64_t v, int n) {
  static const char digits[] = "0123456789abcdef";
  for (int i = n - 1; i >= 0; i--) {
    out[i] = digits[v & 15];
    v >>= 4;
  }
  return out + n;
}

void wf__hex128(char out[33], uint64_t a, uint64_t b) {
  hex(hex(out, a, 16), b, 16)[0] = '\0';
}

void wf__uuid_v4(char out[37], uint64_t a, uint64_t b) {
  /* RFC 4122 version 4: version nibble 4, variant bits 10. */
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char *p = hex(out, a >> 32, 8);
  *p++ = '-';
  p = hex(p, a >> 16, 4);
  *p++ = '-';
  p = hex(p, a, 4);
  *p++ = '-';
  p = hex(p, b >> 48, 4);
  *p++ = '-';
  p = hex(p, b, 12);
  *p = '\0';
}

void wf__uuid_v7(char out[37], int64_t unix_ms, uint64_t a, uint64_t b) {
  /* RFC 9562 version 7: 48 bits of Unix milliseconds, version nibble 7,
   * 12 random bits, variant bits 10, 62 random bits. */
  uint64_t hi = ((uint64_t)unix_ms << 16) | 0x7000ULL | (a & 0x0FFFULL);
  wf__uuid_v4(out, hi, b);
  out[14] = '7'; /* wf__uuid_v4 set the version nibble to 4 */
}
