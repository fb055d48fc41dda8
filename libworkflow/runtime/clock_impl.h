/* Clock internals used by the scheduler. */
#ifndef WF_CLOCK_IMPL_H
#define WF_CLOCK_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "workflow/clock.h"

bool wf__clock_is_virtual(const wf_clock *c);
/* Move a virtual clock to `t` when it is behind (engine auto-advance). */
void wf__clock_advance_to(wf_clock *c, int64_t t);
/* Engines subscribe to be woken when someone advances a virtual clock. */
int wf__clock_subscribe(wf_clock *c, void (*wake)(void *), void *arg);
void wf__clock_unsubscribe(wf_clock *c, void *arg);
/* Monotonic milliseconds for real-time sleeping. */
int64_t wf__monotonic_ms(void);
/* The time `us` microseconds (>= 0) from now on `clock`
 * (CLOCK_MONOTONIC or CLOCK_REALTIME), as pthread_cond_timedwait() wants
 * it. */
struct timespec wf__timespec_in(clockid_t clock, int64_t us);

#endif
