/* Timestamps as Step Functions reads and writes them. */
#ifndef WF_TIMESTAMP_H
#define WF_TIMESTAMP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct wf__instant {
  int64_t seconds; /* since 1970-01-01T00:00:00Z */
  int32_t nanos;   /* 0 .. 999,999,999 */
} wf__instant;

/* Parse an ISO-8601 extended offset date-time as AWS accepts it at run
 * time (Wait Timestamp/TimestampPath, Choice Timestamp* operators):
 * "2016-12-05T21:29:29Z", fractions of a second, "+01:00" offsets; a
 * missing 'T', missing offset or out-of-range field is rejected.
 * Exact rule: YYYY-MM-DD"T"hh:mm:ss[.1-9 digits]("Z"|(+|-)hh:mm), uppercase
 * T and Z, a real calendar date, second 00-59, offset within +-18:00.
 * Returns true and fills *out (may be NULL) on success; the offset is
 * applied, so equal instants compare equal whatever their zone. */
bool wf__timestamp_parse(const char *s, wf__instant *out);

/* Load-time check of a literal Wait Timestamp ("String does not match
 * RFC3339 timestamp"): true when s is an RFC 3339 date-time with AWS's
 * uppercase T and Z. It follows RFC 3339's own ranges (leap second 60,
 * any number of fraction digits, offsets to +-23:59), which run time
 * rejects: a literal that passes may still fail wf__timestamp_parse. */
bool wf__timestamp_is_rfc3339(const char *s);

/* Compare two instants: <0, 0, >0. */
int wf__instant_cmp(wf__instant a, wf__instant b);

/* Milliseconds since the epoch (the sub-millisecond part dropped). */
static inline int64_t wf__instant_ms(wf__instant in) {
  return in.seconds * 1000 + in.nanos / 1000000;
}

/* Format as AWS prints times in the context object and history:
 * "2024-01-31T12:00:00.123Z" (UTC, milliseconds). out must hold 32 bytes. */
void wf__timestamp_format_ms(char out[32], int64_t unix_ms);

#endif
