/*
 * libworkflow: time sources.
 *
 * Everything the engine does with time (state entered times, Wait states,
 * retry back-offs, timeouts, history timestamps) goes through a wf_clock.
 * The system clock is the default. A virtual clock starts at a given
 * instant and moves only when told to or, when the engine using it has no
 * runnable work and no handler running, straight to the next timer: Wait
 * states, back-offs and timeouts then take no real time while timestamps
 * and `$$` times advance as if it had passed.
 */
#ifndef WF_CLOCK_H
#define WF_CLOCK_H

#include <stdint.h>

#include "workflow/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_clock wf_clock;

/** A user time source: milliseconds since the Unix epoch. */
typedef int64_t (*wf_clock_now_fn)(void *payload);

/**
 * The process-wide system clock (CLOCK_REALTIME). Never freed.
 * Threads: any.
 */
WF_API wf_clock *wf_clock_system(void);

/**
 * Create a virtual clock.
 * @param[out] out the clock; free with wf_clock_free() after every engine
 *                 using it is freed.
 * @param start_ms its initial time (ms since the epoch); 0 means now.
 * @return WF_OK, WF_EINVAL, WF_ENOMEM. Threads: any.
 */
WF_API int wf_clock_virtual_new(wf_clock **out, int64_t start_ms);

/**
 * Create a clock reading a user function (assumed to advance at the rate
 * of real time; timers sleep in real time).
 * @return WF_OK, WF_EINVAL, WF_ENOMEM. Threads: any.
 */
WF_API int wf_clock_custom_new(wf_clock **out, wf_clock_now_fn now,
                               void *payload);

/** Current time in ms since the epoch. Threads: any. */
WF_API int64_t wf_clock_now(wf_clock *clock);

/**
 * Move a virtual clock forward by `ms` (>= 0) and wake engines waiting on
 * it. @return WF_OK; WF_EINVAL for a non-virtual clock or negative ms.
 * Threads: any.
 */
WF_API int wf_clock_advance(wf_clock *clock, int64_t ms);

/** Free a clock from wf_clock_virtual_new()/wf_clock_custom_new(); NULL
 *  and the system clock are ignored. */
WF_API void wf_clock_free(wf_clock *clock);

#ifdef __cplusplus
}
#endif

#endif /* WF_CLOCK_H */
