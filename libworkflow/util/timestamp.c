/* Timestamps as Step Functions reads and writes them.
 *
 * Both readers take the RFC 3339 date-time (RFC 3339 §5.6) narrowed as the
 * Step Functions documentation narrows it for Wait and the Choice Timestamp
 * operators: "an uppercase T must separate the date and time portions, and
 * an uppercase Z must denote that a numeric time zone offset is not
 * present". So the one shape accepted is
 *
 *   YYYY-MM-DD "T" hh:mm:ss [ "." 1*DIGIT ] ( "Z" / ("+" / "-") hh:mm )
 *
 * with a real calendar date (day-of-month per month, 29 February only in
 * leap years of the proleptic Gregorian calendar). Recorded AWS cases
 * (conformance scn-wait-timestamp-*, choice-timestamp-*) reject a space for
 * 'T', a missing zone, hour 25, month 13 and day-month-year order, and
 * accept nine fraction digits.
 *
 * The run-time reader is stricter in three places. AWS's run-time errors
 * say "ISO-8601 extended offset date-time format", the wording of Java's
 * DateTimeFormatter.ISO_OFFSET_DATE_TIME, whose STRICT resolver rejects
 * second 60, whose fraction holds at most nine digits (nanoseconds), and
 * whose ZoneOffset lies within +-18:00. The load-time check follows
 * RFC 3339 itself (second 60 for a leap second, any number of fraction
 * digits, offsets to +-23:59), so a literal can pass it and still fail
 * wf__timestamp_parse; see timestamp.h.
 *
 * All arithmetic is our own civil-from-days calendar code: no gmtime, no
 * time zone database, no locale, safe from any thread. */
#include "timestamp.h"

#include <stddef.h>
#include <string.h>

typedef struct fields {
  int year, month, day, hour, minute, second;
  int frac_digits; /* digits after '.', 0 when there is no fraction */
  int32_t nanos;   /* from the first nine fraction digits */
  int offset_sign; /* +1 or -1; 0 for "Z" */
  int offset_hour, offset_minute;
} fields;

static bool read_digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

/* The shape alone (which characters go where); ranges are checked after.
 * Reading stops at the first mismatch, so a short string never reads past
 * its terminating NUL. */
static bool scan(const char *s, fields *f) {
  memset(f, 0, sizeof *f);
  if (!read_digits(s, 4, &f->year) || s[4] != '-' ||
      !read_digits(s + 5, 2, &f->month) || s[7] != '-' ||
      !read_digits(s + 8, 2, &f->day) || s[10] != 'T' ||
      !read_digits(s + 11, 2, &f->hour) || s[13] != ':' ||
      !read_digits(s + 14, 2, &f->minute) || s[16] != ':' ||
      !read_digits(s + 17, 2, &f->second))
    return false;
  const char *p = s + 19;
  if (*p == '.') {
    p++;
    int32_t scale = 100000000;
    while (*p >= '0' && *p <= '9') {
      if (f->frac_digits < 9) {
        f->nanos += (int32_t)(*p - '0') * scale;
        scale /= 10;
      }
      if (f->frac_digits < 1000) f->frac_digits++;
      p++;
    }
    if (f->frac_digits == 0) return false; /* RFC 3339: "." 1*DIGIT */
  }
  if (*p == 'Z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    f->offset_sign = *p == '+' ? 1 : -1;
    if (!read_digits(p + 1, 2, &f->offset_hour) || p[3] != ':' ||
        !read_digits(p + 4, 2, &f->offset_minute))
      return false;
    p += 6;
  } else {
    return false; /* no zone: "2016-12-05T21:29:29" */
  }
  return *p == '\0';
}

static bool is_leap_year(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* Ranges both readers share (RFC 3339 §5.7 and the calendar). */
static bool in_range(const fields *f) {
  return f->month >= 1 && f->month <= 12 && f->day >= 1 &&
         f->day <= days_in_month(f->year, f->month) && f->hour <= 23 &&
         f->minute <= 59 && f->second <= 60 && f->offset_hour <= 23 &&
         f->offset_minute <= 59;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): exact for every int64 year range we can reach. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400; /* [0, 399] */
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

/* The inverse: the civil date of a day count (H. Hinnant's
 * civil_from_days). */
static void civil_from_days(int64_t z, int64_t *year, int *month, int *day) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *day = (int)(doy - (153 * mp + 2) / 5 + 1);
  *month = (int)(mp < 10 ? mp + 3 : mp - 9);
  *year = yoe + era * 400 + (*month <= 2);
}

bool wf__timestamp_is_rfc3339(const char *s) {
  fields f;
  return s && scan(s, &f) && in_range(&f);
}

bool wf__timestamp_parse(const char *s, wf__instant *out) {
  fields f;
  if (!s || !scan(s, &f) || !in_range(&f)) return false;
  /* ISO_OFFSET_DATE_TIME's limits (see the top of this file). */
  if (f.second > 59 || f.frac_digits > 9) return false;
  if (f.offset_hour > 18 || (f.offset_hour == 18 && f.offset_minute > 0))
    return false;
  int64_t local = days_from_civil(f.year, f.month, f.day) * 86400 +
                  f.hour * 3600 + f.minute * 60 + f.second;
  /* The offset says how far local time is ahead of UTC, so subtract it:
   * 12:00+01:00 is 11:00Z. Choice compares these instants, not text. */
  int64_t offset =
      (int64_t)f.offset_sign * (f.offset_hour * 3600 + f.offset_minute * 60);
  if (out) {
    out->seconds = local - offset;
    out->nanos = f.nanos;
  }
  return true;
}

int wf__instant_cmp(wf__instant a, wf__instant b) {
  if (a.seconds != b.seconds) return a.seconds < b.seconds ? -1 : 1;
  if (a.nanos != b.nanos) return a.nanos < b.nanos ? -1 : 1;
  return 0;
}

/* Append v as at least `width` decimal digits; v >= 0. */
static char *put_uint(char *o, int64_t v, int width) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n < width) tmp[n++] = '0';
  while (n > 0) *o++ = tmp[--n];
  return o;
}

void wf__timestamp_format_ms(char out[32], int64_t unix_ms) {
  /* Floor division, so times before 1970 still get a fraction in
   * [0, 999]: -1 ms is 1969-12-31T23:59:59.999Z. */
  int64_t secs = unix_ms / 1000;
  int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs--;
  }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days--;
  }
  int64_t year;
  int month, day;
  civil_from_days(days, &year, &month, &day);

  /* Years outside 0000-9999 are written as Java's ISO formatters write
   * them (AWS runs on Java): a '+' above 9999, a '-' below 0, at least
   * four digits. The widest, from INT64_MIN ms, takes 30 bytes. */
  char *o = out;
  if (year > 9999) {
    *o++ = '+';
  } else if (year < 0) {
    *o++ = '-';
    year = -year;
  }
  o = put_uint(o, year, 4);
  *o++ = '-';
  o = put_uint(o, month, 2);
  *o++ = '-';
  o = put_uint(o, day, 2);
  *o++ = 'T';
  o = put_uint(o, sod / 3600, 2);
  *o++ = ':';
  o = put_uint(o, sod / 60 % 60, 2);
  *o++ = ':';
  o = put_uint(o, sod % 60, 2);
  *o++ = '.';
  o = put_uint(o, ms, 3);
  *o++ = 'Z';
  *o = '\0';
}
