/* States.MathAdd, States.MathRandom, States.UUID. */
#include <stdio.h>

#include "intrinsic_impl.h"

/* Each argument is rounded like Java's Math.round (half up: 1.5 -> 2,
 * -1.5 -> -1, recorded on AWS) and must be a 32-bit integer, as must the
 * sum (AWS fails 2147483647 + 1 and 3000000000 + 1). */
int wf__intrinsic_math_add(json_t **out, json_t *const *args, size_t nargs,
                           const wf__icall *c) {
  (void)nargs;
  int64_t a, b;
  if (!wf__intrinsic_java_round(args[0], &a) ||
      !wf__intrinsic_java_round(args[1], &b) || a < INT32_MIN ||
      a > INT32_MAX || b < INT32_MIN || b > INT32_MAX ||
      a + b < INT32_MIN || a + b > INT32_MAX)
    return wf__intrinsic_invalid(c);
  *out = json_integer(a + b);
  return *out ? 0 : wf__intrinsic_oom(c);
}

/* java.util.Random, which a seeded call reproduces: AWS documents that the
 * same seed gives the same number, and its JSONata $random(seed) is
 * java.util.Random bit for bit. */
typedef struct jrandom {
  uint64_t seed;
} jrandom;

#define JR_MULT 0x5DEECE66DULL
#define JR_MASK ((1ULL << 48) - 1)

static void jr_init(jrandom *r, int64_t seed) {
  r->seed = ((uint64_t)seed ^ JR_MULT) & JR_MASK;
}

static int32_t jr_next(jrandom *r, int bits) {
  r->seed = (r->seed * JR_MULT + 0xBULL) & JR_MASK;
  return (int32_t)(uint32_t)(r->seed >> (48 - bits));
}

static int32_t jr_next_int(jrandom *r, int32_t bound) {
  int32_t rnd = jr_next(r, 31);
  int32_t m = bound - 1;
  if ((bound & m) == 0) return (int32_t)(((int64_t)bound * rnd) >> 31);
  /* Java's rejection test relies on int overflow; do it in 32 bits. */
  for (int32_t u = rnd;
       (int32_t)((uint32_t)u - (uint32_t)(rnd = u % bound) + (uint32_t)m) < 0;
       u = jr_next(r, 31)) {
  }
  return rnd;
}

static bool seed_value(const json_t *v, int64_t *out) {
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return true;
  }
  if (!json_is_real(v)) return false;
  double d = json_real_value(v);
  if (d != d) *out = 0; /* (long) NaN */
  else if (d >= 9223372036854775807.0) *out = INT64_MAX;
  else if (d <= -9223372036854775808.0) *out = INT64_MIN;
  else *out = (int64_t)d;
  return true;
}

/* A random integer in [start, end): the start is included and the end
 * excluded, start must be below end, and fractional bounds are truncated
 * (AWS: MathRandom(1.4, 1.6) fails, (1.6, 5.4) gives 1..4). */
int wf__intrinsic_math_random(json_t **out, json_t *const *args,
                              size_t nargs, const wf__icall *c) {
  int32_t start, end;
  if (!wf__intrinsic_java_int(args[0], &start) ||
      !wf__intrinsic_java_int(args[1], &end) || start >= end)
    return wf__intrinsic_invalid(c);
  int64_t range = (int64_t)end - start;
  if (range > INT32_MAX) return wf__intrinsic_invalid(c);
  int64_t value;
  if (nargs == 3) {
    int64_t seed;
    if (!seed_value(args[2], &seed)) return wf__intrinsic_invalid(c);
    jrandom r;
    jr_init(&r, seed);
    value = start + jr_next_int(&r, (int32_t)range);
  } else {
    uint64_t span = (uint64_t)range, x = 0;
    /* Reject the top sliver so every value is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    do {
      x = c->env->random ? c->env->random(c->env->payload) : 0;
    } while (x >= limit);
    value = start + (int64_t)(x % span);
  }
  *out = json_integer(value);
  return *out ? 0 : wf__intrinsic_oom(c);
}

/* Version 4 (random) UUID from the execution's random source. */
int wf__intrinsic_uuid(json_t **out, json_t *const *args, size_t nargs,
                       const wf__icall *c) {
  (void)args;
  (void)nargs;
  uint64_t hi = 0, lo = 0;
  if (c->env->random) {
    hi = c->env->random(c->env->payload);
    lo = c->env->random(c->env->payload);
  }
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                 /* version 4 */
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL; /* IETF variant */
  char text[37];
  snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx",
           (unsigned)(hi >> 32), (unsigned)((hi >> 16) & 0xFFFF),
           (unsigned)(hi & 0xFFFF), (unsigned)(lo >> 48),
           (unsigned long long)(lo & 0xFFFFFFFFFFFFULL));
  *out = json_string(text);
  return *out ? 0 : wf__intrinsic_oom(c);
}
