/* Simulated failures. Rather than a shared generator (which would need a
 * lock and would make outcomes depend on the order concurrent tasks ran
 * in), every attempt derives its own generator from what identifies it.
 * The state's name and the input are part of that identity so that the
 * iterations of a Map state, or two states of one execution, draw
 * independently. */
#include "simulate.h"

#include <string.h>

/* SplitMix64 (Steele, Lea and Flood): a fast generator whose outputs are
 * well mixed even from correlated states. */
static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* FNV-1a over a string and its terminator, so ("ab","c") and ("a","bc")
 * hash apart. */
static uint64_t fnv1a(uint64_t h, const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  do {
    h ^= *p;
    h *= 0x100000001B3ULL;
  } while (*p++);
  return h;
}

/* The top 53 bits as a double in [0, 1). */
static double unit(uint64_t x) { return (double)(x >> 11) * 0x1.0p-53; }

pd_outcome pd_simulate(const pd_simulation *sim, const char *execution,
                       const char *state, unsigned attempt,
                       const char *input) {
  pd_outcome out = {NULL, 0};
  if (sim->success_rate >= 1.0) return out;
  uint64_t seed = sim->seed;
  uint64_t h = fnv1a(0xCBF29CE484222325ULL, execution);
  h = fnv1a(h, state);
  h = fnv1a(h, input);
  uint64_t g = splitmix64(&seed) ^ h ^ ((uint64_t)attempt * 0xD1B54A32D192ED03ULL);
  out.draw = unit(splitmix64(&g));
  if (out.draw < sim->success_rate) return out;
  /* Which failure: weighted by the configured mix. */
  double pick = unit(splitmix64(&g)) * sim->total_weight;
  for (size_t k = 0; k < sim->nfailures; k++) {
    const pd_failure *f = &sim->failures[k];
    if (f->weight <= 0) continue;
    out.failure = f;
    if (pick < f->weight) break;
    pick -= f->weight;
  }
  return out;
}
