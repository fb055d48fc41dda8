/* An absolute CLOCK_REALTIME deadline, for pthread_cond_timedwait and
 * pthread_timedjoin_np. Plain C with no Criterion, so the test plugins
 * (tests/plugins/tp_control.h) share it with the tests. */
#ifndef WF_TEST_DEADLINE_H
#define WF_TEST_DEADLINE_H

#include <time.h>

/* `ms` milliseconds from now. */
static inline struct timespec wft_deadline(int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

#endif
