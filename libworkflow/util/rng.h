/* A small, fast, seedable random generator (xoshiro256**), one per engine
 * and per execution, so runs are reproducible from a seed. Not
 * synchronised. */
#ifndef WF_RNG_H
#define WF_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct wf__rng {
  uint64_t s[4];
} wf__rng;

void wf__rng_seed(wf__rng *r, uint64_t seed);
uint64_t wf__rng_next(wf__rng *r);
/* Uniform double in [0, 1). */
double wf__rng_double(wf__rng *r);
/* A seed from the system (getrandom, falling back to time and address). */
uint64_t wf__rng_system_seed(void);
/* n bytes from the system's cryptographic generator (getrandom): for
 * secrets such as task tokens, never the seeded generator above. Returns
 * 0, or -1 when the system has none to give. Any thread. */
int wf__rng_secure(void *out, size_t n);
/* 32 lowercase hex digits of a then b, NUL-terminated. */
void wf__hex128(char out[33], uint64_t a, uint64_t b);
/* Format a version-4 UUID from two random words into out[37]. */
void wf__uuid_v4(char out[37], uint64_t a, uint64_t b);
/* A version 7 UUID: `unix_ms` in its first 48 bits (so UUIDs made later
 * sort later), then random bits from a and b. */
void wf__uuid_v7(char out[37], int64_t unix_ms, uint64_t a, uint64_t b);

#endif
