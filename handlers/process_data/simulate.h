/* Simulated failures: whether this task attempt fails, and how. */
#ifndef PD_SIMULATE_H
#define PD_SIMULATE_H

#include "config.h"

typedef struct pd_outcome {
  const pd_failure *failure; /* NULL: no simulated failure */
  double draw;               /* the number in [0, 1) compared with the rate */
} pd_outcome;

/**
 * Decide the outcome of one attempt. A pure function of the seed, the
 * execution's name, the state's name, the attempt number and the task
 * input, so the same run gives the same outcomes and a retry (another
 * attempt) draws afresh. No state is kept: safe from any thread.
 */
pd_outcome pd_simulate(const pd_simulation *sim, const char *execution,
                       const char *state, unsigned attempt, const char *input);

#endif
