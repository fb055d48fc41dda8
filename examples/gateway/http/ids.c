/* Identifiers and times: UUIDs for correlation ids and execution names,
 * the rule for client-given correlation ids, timestamps. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core.h"

void gw_uuid(char out[37]) {
  unsigned char b[16];
  /* getrandom never fails for 16 bytes once the pool is initialised; the
   * clock fallback only keeps ids distinct, it is not secret. */
  if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    for (size_t i = 0; i < sizeof b; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b[i] = (unsigned char)x;
    }
  }
  b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = '\0';
}

void gw_execution_name(char out[37]) {
  /* Version 7: the first 48 bits are Unix milliseconds, so names made
   * later sort later and the store's indexes by name and ARN grow at their
   * end (as the engine's own generated names do). */
  gw_uuid(out);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 12; i++) {
    int at = i < 8 ? i : i + 1; /* skip the dash after 8 digits */
    out[at] = hex[(ms >> (44 - 4 * i)) & 15];
  }
  out[14] = '7';
}

bool gw_correlation_id_ok(const char *s) {
  size_t n = strlen(s);
  return n >= 1 && n <= 128 &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789._:-") == n;
}

void gw_iso8601(char out[32], int64_t ms) {
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

int64_t gw_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double gw_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
