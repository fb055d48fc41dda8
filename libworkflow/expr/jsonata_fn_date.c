/* JSONata's date/time functions (jsonata-js 2.0.6's datetime.js):
 * $fromMillis and $now format a time in the XPath F&O 3.1 date-time
 * picture language (ISO 8601 by default), $toMillis parses one back.
 *
 * Times are JavaScript's: milliseconds since the epoch, UTC, proleptic
 * Gregorian, within +-8.64e15 ms. Parsing builds the same regular
 * expression jsonata-js builds (matched by PCRE2, caseless) and fills the
 * missing components by its rules (now for the more significant ones, zero
 * for the less). */
#include <math.h>
#include <string.h>

#include "jsonata_fn.h"

#define MS_DAY 86400000.0
#define MAX_TIME 8.64e15

/* --- calendar --- */

static int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* Date.UTC(y, m0, d) in days (the month may run past either end). */
static int64_t utc_days(int64_t y, int64_t m0, int64_t d) {
  y += floor_div(m0, 12);
  m0 -= floor_div(m0, 12) * 12;
  return days_from_civil(y, m0 + 1, 1) + d - 1;
}

static int weekday(int64_t days) { /* 0 Sunday; 1970-01-01 was a Thursday */
  return (int)(days + 4 - floor_div(days + 4, 7) * 7);
}

typedef struct dtime {
  double t;
  int64_t y, days;
  int mon0, day, wday, h, mi, s, ms;
} dtime;

static bool dtime_of(dtime *o, double t) {
  if (!isfinite(t) || fabs(t) > MAX_TIME) return false;
  t = trunc(t);
  o->t = t;
  double dd = floor(t / MS_DAY);
  o->days = (int64_t)dd;
  int64_t msd = (int64_t)(t - dd * MS_DAY);
  int m;
  civil_from_days(o->days, &o->y, &m, &o->day);
  o->mon0 = m - 1;
  o->wday = weekday(o->days);
  o->h = (int)(msd / 3600000);
  o->mi = (int)(msd / 60000 % 60);
  o->s = (int)(msd / 1000 % 60);
  o->ms = (int)(msd % 1000);
  return true;
}

/* The Monday starting week 1 of a year or month (the week holding its
 * first Thursday), in days. */
static int64_t first_week(int64_t y, int64_t m0) {
  int64_t d1 = utc_days(y, m0, 1);
  int dow = weekday(d1);
  if (dow == 0) dow = 7;
  return dow > 4 ? d1 + (8 - dow) : d1 - (dow - 1);
}

static double week_delta(int64_t start, int64_t end) { return (double)(end - start) / 7.0 + 1; }

/* A component's value (datetime.js's getDateTimeFragment); P is 1 for pm. */
static double fragment(const dtime *d, char c) {
  switch (c) {
  case 'Y': return (double)d->y;
  case 'M': return d->mon0 + 1;
  case 'D': return d->day;
  case 'd': return (double)(d->days - utc_days(d->y, 0, 1) + 1);
  case 'F': return d->wday == 0 ? 7 : d->wday;
  case 'W': {
    int64_t today = d->days;
    double w = week_delta(first_week(d->y, 0), today);
    if (w > 52) {
      if (today >= first_week(d->y + 1, 0)) w = 1;
    } else if (w < 1) {
      w = week_delta(first_week(d->y - 1, 0), today);
    }
    return floor(w);
  }
  case 'w': {
    int64_t today = d->days;
    double w = week_delta(first_week(d->y, d->mon0), today);
    if (w > 4) {
      if (today >= first_week(d->y, d->mon0 + 1)) w = 1;
    } else if (w < 1) {
      w = week_delta(first_week(d->y, d->mon0 - 1), today);
    }
    return floor(w);
  }
  case 'X': {
    double now = d->t;
    if (now < (double)first_week(d->y, 0) * MS_DAY) return (double)(d->y - 1);
    if (now >= (double)first_week(d->y + 1, 0) * MS_DAY) return (double)(d->y + 1);
    return (double)d->y;
  }
  case 'x': {
    double now = d->t;
    if (now < (double)first_week(d->y, d->mon0) * MS_DAY) return d->mon0 == 0 ? 12 : d->mon0;
    if (now >= (double)first_week(d->y, d->mon0 + 1) * MS_DAY) return d->mon0 == 11 ? 1 : d->mon0 + 2;
    return d->mon0 + 1;
  }
  case 'H': return d->h;
  case 'h': return d->h % 12 == 0 ? 12 : d->h % 12;
  case 'P': return d->h >= 12 ? 1 : 0;
  case 'm': return d->mi;
  case 's': return d->s;
  case 'f': return d->ms;
  default: return NAN;
  }
}

/* --- pictures --- */

enum { NAMES_NONE, NAMES_LOWER, NAMES_UPPER, NAMES_TITLE };

typedef struct dpart {
  bool literal;
  const char *lit;
  size_t litlen;
  char comp;
  char p2;
  int wmin, wmax; /* -1: not given */
  int names;
  bool has_int;
  jintfmt ifmt;
  int n; /* Y, M, D: digits (-1: any; a year keeps its last n) */
} dpart;

typedef struct dpic {
  dpart *parts;
  size_t n, cap;
} dpic;

static dpart *add_part(jev *ev, dpic *p) {
  if (p->n == p->cap) {
    size_t nc = p->cap ? p->cap * 2 : 8;
    dpart *np = jalloc(ev, nc * sizeof *np);
    if (p->n) memcpy(np, p->parts, p->n * sizeof *np);
    p->parts = np;
    p->cap = nc;
  }
  dpart *r = &p->parts[p->n++];
  memset(r, 0, sizeof *r);
  return r;
}

static void add_literal(jev *ev, dpic *p, const char *s, size_t n) {
  if (n == 0) return;
  char *o = jalloc(ev, n + 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    o[k++] = s[i];
    if (s[i] == ']' && i + 1 < n && s[i + 1] == ']') i++;
  }
  dpart *d = add_part(ev, p);
  d->literal = true;
  d->lit = o;
  d->litlen = k;
}

static int parse_width(const char *s, size_t n) {
  if (n == 1 && s[0] == '*') return -1;
  size_t i = 0;
  if (i >= n || s[i] < '0' || s[i] > '9') return -1;
  long v = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    if (v < 100000) v = v * 10 + (s[i] - '0');
    i++;
  }
  return (int)v;
}

static const char *default_pres(char c) {
  switch (c) {
  case 'Y': case 'M': case 'D': case 'd': case 'W': case 'w': case 'X': case 'x':
  case 'H': case 'h': case 'f':
    return "1";
  case 'F': case 'P': case 'C': case 'E':
    return "n";
  case 'm': case 's':
    return "01";
  case 'Z': case 'z':
    return "01:01";
  default:
    return NULL;
  }
}

static void analyse_marker(jev *ev, dpart *d, const char *raw, size_t rawn) {
  char *m = jalloc(ev, rawn + 1);
  size_t n = 0;
  for (size_t i = 0; i < rawn; i++) {
    jcharge(ev);
    char c = raw[i];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') m[n++] = c;
  }
  d->comp = n ? m[0] : '\0';
  d->wmin = d->wmax = -1;
  d->n = -1;
  size_t pend = n;
  for (size_t i = n; i > 0; i--)
    if (m[i - 1] == ',') {
      pend = i - 1;
      const char *w = m + i;
      size_t wl = n - i;
      const char *dash = memchr(w, '-', wl);
      if (!dash) {
        d->wmin = parse_width(w, wl);
      } else {
        d->wmin = parse_width(w, (size_t)(dash - w));
        d->wmax = parse_width(dash + 1, wl - (size_t)(dash - w) - 1);
      }
      break;
    }
  const char *pm = n ? m + 1 : m;
  size_t pl = pend > 0 ? pend - 1 : 0;
  const char *p1;
  size_t p1l;
  if (pl == 1) {
    p1 = pm, p1l = 1;
  } else if (pl > 1) {
    char last = pm[pl - 1];
    if (strchr("atco", last)) {
      d->p2 = last;
      p1 = pm, p1l = pl - 1;
    } else {
      p1 = pm, p1l = pl;
    }
  } else {
    p1 = default_pres(d->comp);
    if (!p1) jthrow(ev, "D3132", -1, NULL, jv_str(ev, m, d->comp ? 1 : 0));
    p1l = strlen(p1);
  }
  if (p1[0] == 'n') {
    d->names = NAMES_LOWER;
  } else if (p1[0] == 'N') {
    d->names = p1l > 1 && p1[1] == 'n' ? NAMES_TITLE : NAMES_UPPER;
  } else if (d->comp && strchr("YMDdFWwXxHhmsf", d->comp)) {
    wf__strbuf *sb = jsb_new(ev);
    wf__strbuf_append(sb, p1, p1l);
    if (d->p2) {
      wf__strbuf_putc(sb, ';');
      wf__strbuf_putc(sb, d->p2);
    }
    jv *pat = jfn_take(ev, sb);
    jintfmt_analyse(ev, &d->ifmt, pat->u.str.s, pat->u.str.len);
    d->has_int = true;
    if (d->wmin >= 0 && d->ifmt.mandatory < d->wmin) d->ifmt.mandatory = d->wmin;
    if (strchr("YMD", d->comp)) {
      if (d->wmax >= 0) {
        d->n = d->wmax;
        d->ifmt.mandatory = d->n;
      } else if (d->ifmt.mandatory + d->ifmt.optional >= 2) {
        d->n = d->ifmt.mandatory + d->ifmt.optional;
      }
    }
  }
  if (d->comp == 'Z' || d->comp == 'z') {
    jintfmt_analyse(ev, &d->ifmt, p1, p1l);
    d->has_int = true;
  }
}

static dpic analyse_picture(jev *ev, const char *s, size_t n) {
  dpic p = {0};
  size_t start = 0, pos = 0;
  while (pos < n) {
    jcharge(ev);
    if (s[pos] == '[') {
      if (pos + 1 < n && s[pos + 1] == '[') {
        add_literal(ev, &p, s + start, pos - start);
        add_literal(ev, &p, "[", 1);
        pos += 2;
        start = pos;
        continue;
      }
      add_literal(ev, &p, s + start, pos - start);
      start = pos;
      const char *close = memchr(s + start, ']', n - start);
      if (!close) jthrow(ev, "D3135", -1, NULL, NULL);
      pos = (size_t)(close - s);
      analyse_marker(ev, add_part(ev, &p), s + start + 1, pos - start - 1);
      start = pos + 1;
    }
    pos++;
  }
  add_literal(ev, &p, s + start, n > start ? n - start : 0);
  return p;
}

static const char *const day_names[] = {"", "Monday", "Tuesday", "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
static const char *const month_names[] = {"January", "February", "March", "April",
                                          "May", "June", "July", "August",
                                          "September", "October", "November", "December"};

/* --- formatting --- */

static void format_marker(jev *ev, wf__strbuf *sb, const dtime *dt, const dpart *d,
                          double off_h, double off_m) {
  char c = d->comp;
  if (c && strchr("YMDdFWwXxHhms", c)) {
    double v = fragment(dt, c);
    if (c == 'Y' && d->n != -1) v = fmod(v, pow(10, d->n));
    if (d->names) {
      const char *name;
      if ((c == 'M' || c == 'x') && v >= 1 && v <= 12)
        name = month_names[(int)v - 1];
      else if (c == 'F' && v >= 1 && v <= 7)
        name = day_names[(int)v];
      else
        jthrow(ev, "D3133", -1, NULL, jv_str(ev, &d->comp, 1));
      size_t len = strlen(name);
      if (d->wmax >= 0 && len > (size_t)d->wmax) len = (size_t)d->wmax;
      size_t from = sb->len;
      wf__strbuf_append(sb, name, len);
      for (size_t i = from; i < sb->len; i++) {
        char ch = sb->data[i];
        if (d->names == NAMES_UPPER && ch >= 'a' && ch <= 'z') sb->data[i] = (char)(ch - 32);
        if (d->names == NAMES_LOWER && ch >= 'A' && ch <= 'Z') sb->data[i] = (char)(ch + 32);
      }
    } else {
      jintfmt_put(ev, sb, v, &d->ifmt);
    }
  } else if (c == 'f') {
    if (!d->has_int) jthrow(ev, "D3133", -1, NULL, jv_str(ev, &d->comp, 1));
    jintfmt_put(ev, sb, fragment(dt, c), &d->ifmt);
  } else if (c == 'Z' || c == 'z') {
    double offset = off_h * 100 + off_m;
    size_t from = sb->len;
    if (c == 'z') wf__strbuf_puts(sb, "GMT");
    if (offset >= 0) wf__strbuf_putc(sb, '+');
    if (offset == 0 && d->p2 == 't') {
      sb->len = from;
      if (sb->data) sb->data[from] = '\0';
      wf__strbuf_putc(sb, 'Z');
      return;
    }
    if (d->ifmt.regular) {
      jintfmt_put(ev, sb, offset, &d->ifmt);
    } else {
      int digits = d->ifmt.mandatory;
      if (digits == 1 || digits == 2) {
        jintfmt_put(ev, sb, off_h, &d->ifmt);
        if (off_m != 0) {
          jintfmt two;
          jintfmt_analyse(ev, &two, "00", 2);
          wf__strbuf_putc(sb, ':');
          jintfmt_put(ev, sb, off_m, &two);
        }
      } else if (digits == 3 || digits == 4) {
        jintfmt_put(ev, sb, offset, &d->ifmt);
      } else {
        jthrow(ev, "D3134", -1, NULL, jv_num(ev, digits));
      }
    }
  } else if (c == 'P') {
    if (d->names == NAMES_UPPER)
      wf__strbuf_puts(sb, dt->h >= 12 ? "PM" : "AM");
    else
      wf__strbuf_puts(sb, dt->h >= 12 ? "pm" : "am");
  } else if (c == 'C' || c == 'E') {
    wf__strbuf_puts(sb, "ISO");
  } else {
    wf__strbuf_puts(sb, "undefined");
  }
}

/* parseInt of a timezone such as "+0100" or "-0500" (NaN when none). */
static double parse_int(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i >= n || s[i] < '0' || s[i] > '9') return NAN;
  double v = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
  return neg ? -v : v;
}

static jv *format_time(jev *ev, double millis, jv *picture, jv *tz) {
  double off_h = 0, off_m = 0;
  if (tz) {
    double off = parse_int(tz->u.str.s, tz->u.str.len);
    if (isnan(off)) off = 0;
    off_h = floor(off / 100);
    off_m = fmod(off, 100);
  }
  static const char iso[] = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";
  dpic p = picture ? analyse_picture(ev, picture->u.str.s, picture->u.str.len)
                   : analyse_picture(ev, iso, sizeof iso - 1);
  dtime dt;
  if (!dtime_of(&dt, millis + (60 * off_h + off_m) * 60000)) jthrow(ev, "D3001", -1, NULL, NULL);
  wf__strbuf *sb = jsb_new(ev);
  for (size_t i = 0; i < p.n; i++) {
    jcharge(ev);
    if (sb->len > jtext_cap(ev)) jthrow_size(ev);
    if (p.parts[i].literal)
      wf__strbuf_append(sb, p.parts[i].lit, p.parts[i].litlen);
    else
      format_marker(ev, sb, &dt, &p.parts[i], off_h, off_m);
  }
  return jfn_take(ev, sb);
}

static jv *fn_from_millis(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  return format_time(ev, x->u.n, JARG(1), JARG(2));
}

static jv *fn_now(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return format_time(ev, jnow(ev), JARG(0), JARG(1));
}

/* --- parsing --- */

/* Match s against pattern (anchored by the pattern); the groups' byte
 * offsets in ov (2 per group, PCRE2_UNSET when unmatched). False when it
 * does not match. Nothing raised while PCRE2 holds memory. */
static bool rx_match(jev *ev, const char *pattern, size_t plen, bool caseless,
                     const char *s, size_t n, size_t *ov, size_t ngroups) {
  pcre2_compile_context *cc = pcre2_compile_context_create(ev->gctx);
  if (!cc) jthrow_oom(ev);
  int ec;
  PCRE2_SIZE eo;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, plen,
                                 (caseless ? PCRE2_CASELESS : 0) | PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &ec, &eo, cc);
  pcre2_compile_context_free(cc);
  if (!re) return false;
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, ev->gctx);
  if (!md) {
    pcre2_code_free(re);
    jthrow_oom(ev);
  }
  int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, ev->mctx);
  if (rc > 0) {
    PCRE2_SIZE *v = pcre2_get_ovector_pointer(md);
    uint32_t cnt = pcre2_get_ovector_count(md);
    for (size_t g = 0; g < ngroups; g++) {
      ov[2 * g] = g + 1 < cnt ? v[2 * (g + 1)] : PCRE2_UNSET;
      ov[2 * g + 1] = g + 1 < cnt ? v[2 * (g + 1) + 1] : PCRE2_UNSET;
    }
  }
  pcre2_match_data_free(md);
  pcre2_code_free(re);
  return rc > 0;
}

static void rx_escape(wf__strbuf *sb, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (strchr(".*+?^${}()|[]\\", s[i]) && s[i]) wf__strbuf_putc(sb, '\\');
    wf__strbuf_putc(sb, s[i]);
  }
}

typedef struct comps {
  double v[128];
  bool set[128], def[128];
  int nset;
} comps;

static void comp_put(comps *c, char k, bool def, double v) {
  unsigned char u = (unsigned char)k & 0x7F;
  if (!c->set[u]) c->nset++;
  c->set[u] = true;
  c->def[u] = def;
  c->v[u] = v;
}

static bool truthy(const comps *c, char k) {
  unsigned char u = (unsigned char)k;
  return c->def[u] && c->v[u] != 0 && !isnan(c->v[u]);
}

static int make_mask(const comps *c, const char *order) {
  int m = 0;
  for (const char *p = order; *p; p++) m = (m << 1) + (truthy(c, *p) ? 1 : 0);
  return m;
}

static bool is_type(int type, int mask) { return !(~type & mask) && (type & mask); }

static double tz_minutes(const dpart *d, const char *s, size_t n) {
  if (d->comp == 'z' && n >= 3) s += 3, n -= 3;
  if (d->ifmt.regular) {
    const char *sep = memchr(s, (int)d->ifmt.sep_ch[0], n);
    size_t at = sep ? (size_t)(sep - s) : n;
    double h = parse_int(s, at);
    double m = sep ? parse_int(sep + 1, n - at - 1) : NAN;
    return h * 60 + m;
  }
  if (n <= 3) return parse_int(s, n) * 60;
  return parse_int(s, 3) * 60 + parse_int(s + 3, n - 3);
}

static double name_value(const dpart *d, const char *s, size_t n) {
  if (d->comp == 'P') {
    if (n == 2 && (!memcmp(s, "am", 2) || !memcmp(s, "AM", 2))) return 0;
    if (n == 2 && (!memcmp(s, "pm", 2) || !memcmp(s, "PM", 2))) return 1;
    return NAN;
  }
  bool months = d->comp == 'M' || d->comp == 'x';
  int cnt = months ? 12 : 7;
  for (int i = 0; i < cnt; i++) {
    const char *name = months ? month_names[i] : day_names[i + 1];
    size_t len = strlen(name);
    if (d->wmax > 0 && len > (size_t)d->wmax) len = (size_t)d->wmax;
    if (len == n && !memcmp(name, s, n)) return i + 1;
  }
  return NAN;
}

/* Date.UTC(Y, M, D, H, m, s, f), NaN past JavaScript's range. */
static double date_utc(double y, double mo, double d, double h, double mi, double s, double f) {
  double a[7] = {y, mo, d, h, mi, s, f};
  for (int i = 0; i < 7; i++) {
    if (!isfinite(a[i]) || fabs(a[i]) > 1e9) return NAN;
    a[i] = trunc(a[i]);
  }
  if (a[0] >= 0 && a[0] <= 99) a[0] += 1900;
  double days = (double)utc_days((int64_t)a[0], (int64_t)a[1], (int64_t)a[2]);
  double t = days * MS_DAY + a[3] * 3600000 + a[4] * 60000 + a[5] * 1000 + a[6];
  return fabs(t) > MAX_TIME ? NAN : t;
}

static jv *parse_time(jev *ev, jv *ts, jv *picture) {
  dpic p = analyse_picture(ev, picture->u.str.s, picture->u.str.len);
  wf__strbuf *rx = jsb_new(ev);
  wf__strbuf_putc(rx, '^');
  for (size_t i = 0; i < p.n; i++) {
    jcharge(ev);
    dpart *d = &p.parts[i];
    wf__strbuf_putc(rx, '(');
    if (d->literal) {
      rx_escape(rx, d->lit, d->litlen);
    } else if (d->comp == 'Z' || d->comp == 'z') {
      if (d->comp == 'z') wf__strbuf_puts(rx, "GMT");
      wf__strbuf_puts(rx, "[-+][0-9]+");
      if (d->ifmt.regular) {
        jutf8_put(rx, d->ifmt.sep_ch[0]);
        wf__strbuf_puts(rx, "[0-9]+");
      }
    } else if (d->has_int) {
      jintfmt_regex(ev, rx, &d->ifmt, d->n);
    } else {
      if (d->comp != 'M' && d->comp != 'x' && d->comp != 'F' && d->comp != 'P')
        jthrow(ev, "D3133", -1, NULL, jv_str(ev, &d->comp, 1));
      wf__strbuf_puts(rx, "[a-zA-Z]+");
    }
    wf__strbuf_putc(rx, ')');
  }
  wf__strbuf_putc(rx, '$');
  if (rx->oom) jthrow_oom(ev);
  size_t *ov = jalloc(ev, (2 * p.n + 2) * sizeof *ov);
  if (!rx_match(ev, rx->data, rx->len, true, ts->u.str.s, ts->u.str.len, ov, p.n)) return NULL;
  comps c;
  memset(&c, 0, sizeof c);
  for (size_t i = 0; i < p.n; i++) {
    dpart *d = &p.parts[i];
    if (d->literal || ov[2 * i] == PCRE2_UNSET) continue;
    const char *s = ts->u.str.s + ov[2 * i];
    size_t len = ov[2 * i + 1] - ov[2 * i];
    if (d->comp == 'Z' || d->comp == 'z')
      comp_put(&c, d->comp, true, tz_minutes(d, s, len));
    else if (d->has_int)
      comp_put(&c, d->comp, true, jintfmt_parse(ev, &d->ifmt, s, len));
    else {
      double v = name_value(d, s, len);
      comp_put(&c, d->comp, !isnan(v), v);
    }
  }
  if (c.nset == 0) return NULL;
  int mask = make_mask(&c, "YXMxWwdD");
  bool dA = is_type(161, mask), dB = !dA && is_type(130, mask);
  bool dC = is_type(84, mask), dD = !dC && is_type(72, mask);
  mask = make_mask(&c, "PHhmsf");
  bool tA = is_type(23, mask), tB = !tA && is_type(47, mask);
  char order[16];
  strcpy(order, dB ? "YD" : dC ? "XxwF" : dD ? "XWF" : "YMD");
  strcat(order, tB ? "Phmsf" : "Hmsf");
  dtime now;
  if (!dtime_of(&now, jnow(ev))) dtime_of(&now, 0);
  bool started = false, ended = false;
  for (const char *k = order; *k; k++) {
    unsigned char u = (unsigned char)*k;
    if (!c.def[u]) {
      if (started) {
        c.v[u] = strchr("MDd", *k) ? 1 : 0;
        ended = true;
      } else {
        /* jsonata-js's now gives P as "am"/"pm", never 1 */
        c.v[u] = *k == 'P' ? 0 : fragment(&now, *k);
      }
      c.def[u] = true;
    } else {
      started = true;
      if (ended) jthrow(ev, "D3136", -1, NULL, NULL);
    }
  }
  double M = c.v['M'] > 0 ? c.v['M'] - 1 : 0;
  double D = c.v['D'];
  if (dB) {
    double t = date_utc(c.v['Y'], 0, 1 + (c.def['d'] ? c.v['d'] - 1 : NAN), 0, 0, 0, 0);
    dtime dd;
    if (!dtime_of(&dd, t)) return NULL;
    M = dd.mon0;
    D = dd.day;
  }
  if (dC || dD) jthrow(ev, "D3136", -1, NULL, NULL);
  double H = c.v['H'];
  if (tB) {
    H = c.v['h'] == 12 ? 0 : c.v['h'];
    if (c.v['P'] == 1) H += 12;
  }
  double t = date_utc(c.v['Y'], M, D, H, c.v['m'], c.v['s'], c.v['f']);
  double z = truthy(&c, 'Z') ? c.v['Z'] : truthy(&c, 'z') ? c.v['z'] : 0;
  if (z) t -= z * 60000;
  if (isnan(t)) return NULL;
  return jv_num(ev, t);
}

/* Date.parse of a text the ISO 8601 pattern accepted (date-only and
 * date-time forms both read as UTC). */
static double iso_parse(const char *s, size_t n) {
  size_t i = 4;
  double y = parse_int(s, 4), mo = 1, d = 1, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
  if (i < n && s[i] == '-') {
    mo = parse_int(s + i + 1, 2);
    i += 3;
    if (i < n && s[i] == '-') {
      d = parse_int(s + i + 1, 2);
      i += 3;
    }
  }
  if (i < n && s[i] == 'T') {
    h = parse_int(s + i + 1, 2);
    mi = parse_int(s + i + 4, 2);
    sec = parse_int(s + i + 7, 2);
    i += 9;
    if (i < n && s[i] == '.') {
      i++;
      double scale = 100;
      while (i < n && s[i] >= '0' && s[i] <= '9') {
        ms += (s[i] - '0') * scale;
        scale /= 10;
        i++;
      }
      ms = floor(ms);
    }
  }
  if (i < n && s[i] == 'Z') {
    i++;
  } else if (i < n && (s[i] == '+' || s[i] == '-')) {
    double oh = parse_int(s + i + 1, 2);
    size_t j = i + 3;
    if (j < n && s[j] == ':') j++;
    double om = parse_int(s + j, 2);
    off = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i = j + 2;
  }
  if (i != n) return NAN;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[(int)mo - 1]) return NAN;
  bool leap = fmod(y, 4) == 0 && (fmod(y, 100) != 0 || fmod(y, 400) == 0);
  if (mo == 2 && d == 29 && !leap) return NAN;
  if (h > 24 || (h == 24 && (mi || sec || ms))) return NAN;
  double days = (double)utc_days((int64_t)y, (int64_t)mo - 1, (int64_t)d);
  return days * MS_DAY + h * 3600000 + mi * 60000 + sec * 1000 + ms - off * 60000;
}

static jv *fn_to_millis(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0), *pic = JARG(1);
  if (!x) return NULL;
  if (pic) return parse_time(ev, x, pic);
  static const char iso[] =
      "^\\d{4}(-[01]\\d)*(-[0-3]\\d)*(T[0-2]\\d:[0-5]\\d:[0-5]\\d)*(\\.\\d+)?([+-][0-2]\\d:?[0-5]\\d|Z)?$";
  size_t ov[10];
  if (!rx_match(ev, iso, sizeof iso - 1, false, x->u.str.s, x->u.str.len, ov, 5))
    jthrow(ev, "D3110", -1, NULL, x);
  double t = iso_parse(x->u.str.s, x->u.str.len);
  if (isnan(t)) return NULL;
  return jv_num(ev, t);
}

const jnative jfn_date_table[] = {
    {"fromMillis", "<n-s?s?:s>", fn_from_millis, 3},
    {"toMillis", "<s-s?:n>", fn_to_millis, 2},
    {"now", "<s?s?:s>", fn_now, 2},
    {NULL, NULL, NULL, 0}};
