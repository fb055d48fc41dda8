/* Failure simulation, as the seed's Lambda offered for testing retries and
 * error states. No state is kept between calls: the outcome is a pure
 * function of (seed, execution name, state name, attempt), so a run can be
 * replayed exactly and concurrent executions never disturb each other's
 * draws, which a shared random generator would. */
#include <string.h>

#include "send_notification.h"

/* FNV-1a (64-bit): spreads the names into the generator's state. */
static uint64_t fnv1a(uint64_t h, const char *s) {
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    h ^= *p;
    h *= UINT64_C(0x100000001b3);
  }
  /* Mark the end, so that ("ab", "c") and ("a", "bc") differ. */
  h ^= 0xff;
  return h * UINT64_C(0x100000001b3);
}

/* SplitMix64 (Steele, Lea and Flood, 2014): one well-mixed value per
 * call. */
static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

const char *sn_failsim_draw(const sn_failsim *f, const char *execution_name,
                            const char *state_name, unsigned int attempt) {
  if (f->rate <= 0 || f->nerrors == 0) return NULL;
  if (f->first_attempts && attempt >= f->first_attempts) return NULL;
  uint64_t state = fnv1a(UINT64_C(0xcbf29ce484222325) ^ f->seed,
                         execution_name);
  state = fnv1a(state, state_name);
  state ^= (uint64_t)attempt * UINT64_C(0xd6e8feb86659fd93);
  /* 53 random bits: a uniform double in [0, 1). */
  double u = (double)(splitmix64(&state) >> 11) * 0x1.0p-53;
  if (u >= f->rate) return NULL;
  return f->errors[splitmix64(&state) % f->nerrors];
}
