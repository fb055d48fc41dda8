/* The names of channels, priorities, sinks and routes, as they appear in
 * task input, configuration and results. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "send_notification.h"

static const char *const CHANNELS[SN_NCHANNELS] = {"EMAIL", "SMS", "PUSH"};
static const char *const PRIORITIES[SN_NPRIORITIES] = {"LOW", "NORMAL",
                                                       "HIGH"};
static const char *const SINKS[] = {"outbox", "smtp", "webhook"};
static const char *const ROUTES[] = {"requested", "fanout", "outbox"};

const char *sn_channel_name(sn_channel c) { return CHANNELS[c]; }
const char *sn_priority_name(sn_priority p) { return PRIORITIES[p]; }
const char *sn_sink_name(sn_sink s) { return SINKS[s]; }

/* Index of s in names (case-insensitive: "email" and "Email" are what
 * people type), or -1. */
static int lookup(const char *s, const char *const *names, int n) {
  if (!s) return -1;
  for (int i = 0; i < n; i++)
    if (strcasecmp(s, names[i]) == 0) return i;
  return -1;
}

#define SN_PARSER(fn, type, names)                               \
  bool fn(const char *s, type *out) {                           \
    int i = lookup(s, names, (int)(sizeof names / sizeof *names)); \
    if (i < 0) return false;                                    \
    *out = (type)i;                                             \
    return true;                                                \
  }

SN_PARSER(sn_channel_parse, sn_channel, CHANNELS)
SN_PARSER(sn_priority_parse, sn_priority, PRIORITIES)
SN_PARSER(sn_sink_parse, sn_sink, SINKS)
SN_PARSER(sn_route_parse, sn_route, ROUTES)

/* Texts made here end up in JSON (results, causes, logs), so a cut never
 * leaves half a UTF-8 character at the end. */
void sn_fmt(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n < size) return;
  size_t len = strlen(buf), lead = len;
  while (lead > 0 && ((unsigned char)buf[lead - 1] & 0xc0) == 0x80) lead--;
  if (lead == 0) return;
  unsigned char c = (unsigned char)buf[lead - 1];
  size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
  if (len - (lead - 1) < need) buf[lead - 1] = '\0';
}
