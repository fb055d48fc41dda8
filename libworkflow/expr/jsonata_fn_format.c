/* JSONata's number pictures (jsonata-js 2.0.6): $formatInteger and
 * $parseInteger (XPath F&O 3.1 format-integer, as datetime.js reads it)
 * and $formatNumber (F&O 3.1 format-number, as functions.js reads it).
 *
 * Pictures are read as code points; jsonata-js's quirks are kept where
 * they change results (e.g. a regular grouping is parsed back by removing
 * commas only), since the suite and existing expressions rely on them. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jsonata_fn.h"

/* --- code points --- */

typedef struct cps {
  uint32_t *v;
  size_t n, cap;
} cps;

static void cps_push(jev *ev, cps *c, uint32_t cp) {
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 16;
    uint32_t *nv = jalloc(ev, nc * sizeof *nv);
    if (c->n) memcpy(nv, c->v, c->n * sizeof *nv);
    c->v = nv;
    c->cap = nc;
  }
  c->v[c->n++] = cp;
}

static uint32_t utf8_next(const char *s, size_t n, size_t *i) {
  unsigned char c = (unsigned char)s[*i];
  int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
  uint32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1Fu) : extra == 2 ? (c & 0x0Fu) : (c & 0x07u);
  (*i)++;
  for (int k = 0; k < extra && *i < n; k++, (*i)++) cp = (cp << 6) | ((unsigned char)s[*i] & 0x3Fu);
  return cp;
}

static cps cps_from(jev *ev, const char *s, size_t n) {
  cps c = {0};
  size_t i = 0;
  while (i < n) {
    jcharge(ev);
    cps_push(ev, &c, utf8_next(s, n, &i));
  }
  return c;
}

void jutf8_put(wf__strbuf *sb, uint32_t cp) {
  char b[4];
  size_t k;
  if (cp < 0x80) {
    b[0] = (char)cp;
    k = 1;
  } else if (cp < 0x800) {
    b[0] = (char)(0xC0 | (cp >> 6));
    b[1] = (char)(0x80 | (cp & 0x3F));
    k = 2;
  } else if (cp < 0x10000) {
    b[0] = (char)(0xE0 | (cp >> 12));
    b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[2] = (char)(0x80 | (cp & 0x3F));
    k = 3;
  } else {
    b[0] = (char)(0xF0 | (cp >> 18));
    b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    k = 4;
  }
  wf__strbuf_append(sb, b, k);
}

static void cps_put(wf__strbuf *sb, const cps *c) {
  for (size_t i = 0; i < c->n; i++) jutf8_put(sb, c->v[i]);
}

/* JavaScript's slice index: negative counts from the end. */
static size_t js_index(long i, size_t len) {
  if (i < 0) i += (long)len;
  if (i < 0) return 0;
  return (size_t)i > len ? len : (size_t)i;
}

/* s.slice(0, at) + ch + s.slice(at) */
static void cps_insert(jev *ev, cps *c, long at, uint32_t ch) {
  size_t p = js_index(at, c->n);
  cps_push(ev, c, 0);
  memmove(c->v + p + 1, c->v + p, (c->n - 1 - p) * sizeof *c->v);
  c->v[p] = ch;
}

static long cps_index(const cps *c, uint32_t ch, size_t from) {
  for (size_t i = from; i < c->n; i++)
    if (c->v[i] == ch) return (long)i;
  return -1;
}

static size_t cap_len(jev *ev, size_t len) {
  if (len > jtext_cap(ev)) jthrow_size(ev);
  return len;
}

/* --- integer pictures --- */

/* Zeros of the Unicode decimal digit groups jsonata-js knows. */
static const uint32_t digit_groups[] = {
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
    0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0,
    0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};

static int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }

/* The interval of a regular grouping (every position a multiple of the
 * positions' gcd), else 0. */
static int regular_interval(jev *ev, const int *pos, int n) {
  if (n == 0) return 0;
  int f = pos[0];
  for (int i = 1; i < n; i++) f = gcd(f, pos[i]);
  for (int k = 1; k <= n; k++) {
    bool found = false;
    for (int i = 0; i < n && !found; i++) {
      jcharge(ev);
      found = (long)pos[i] == (long)k * f;
    }
    if (!found) return 0;
  }
  return f;
}

void jintfmt_analyse(jev *ev, jintfmt *f, const char *pic, size_t len) {
  memset(f, 0, sizeof *f);
  f->primary = JINT_DECIMAL;
  f->tcase = JCASE_LOWER;
  f->zero = 0x30;
  size_t plen = len;
  for (size_t i = len; i > 0; i--)
    if (pic[i - 1] == ';') {
      plen = i - 1;
      if (i < len && pic[i] == 'o') f->ordinal = true;
      break;
    }
  if (plen == 1 && strchr("AaIiWw", pic[0])) {
    char c = pic[0];
    f->tcase = (c == 'A' || c == 'I' || c == 'W') ? JCASE_UPPER : JCASE_LOWER;
    f->primary = (c == 'A' || c == 'a') ? JINT_LETTERS : (c == 'I' || c == 'i') ? JINT_ROMAN : JINT_WORDS;
    return;
  }
  if (plen == 2 && pic[0] == 'W' && pic[1] == 'w') {
    f->tcase = JCASE_TITLE;
    f->primary = JINT_WORDS;
    return;
  }
  cps c = cps_from(ev, pic, plen);
  bool have_zero = false;
  int seppos = 0;
  int *sp = jalloc(ev, (c.n + 1) * sizeof *sp);
  uint32_t *sc = jalloc(ev, (c.n + 1) * sizeof *sc);
  for (size_t k = c.n; k > 0; k--) {
    jcharge(ev);
    uint32_t cp = c.v[k - 1];
    bool digit = false;
    for (size_t g = 0; g < sizeof digit_groups / sizeof *digit_groups; g++)
      if (cp >= digit_groups[g] && cp <= digit_groups[g] + 9) {
        digit = true;
        f->mandatory++;
        seppos++;
        if (!have_zero) {
          f->zero = digit_groups[g];
          have_zero = true;
        } else if (digit_groups[g] != f->zero) {
          jthrow(ev, "D3131", -1, NULL, NULL);
        }
        break;
      }
    if (digit) continue;
    if (cp == '#') {
      seppos++;
      f->optional++;
    } else {
      sp[f->nsep] = seppos;
      sc[f->nsep] = cp;
      f->nsep++;
    }
  }
  if (f->mandatory == 0) {
    f->primary = JINT_SEQUENCE;
    f->token = pic;
    f->token_len = plen;
    return;
  }
  f->sep_pos = sp;
  f->sep_ch = sc;
  bool same = true;
  for (int i = 1; i < f->nsep; i++) same = same && sc[i] == sc[0];
  int reg = same ? regular_interval(ev, sp, f->nsep) : 0;
  if (reg > 0) {
    f->regular = true;
    f->nsep = 1;
    sp[0] = reg;
  }
}

static const char *const few[] = {
    "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen",
    "Nineteen"};
static const char *const ordinals[] = {
    "Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
    "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth",
    "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"};
static const char *const decades[] = {"Twenty", "Thirty", "Forty", "Fifty", "Sixty",
                                      "Seventy", "Eighty", "Ninety", "Hundred"};
static const char *const magnitudes[] = {"Thousand", "Million", "Billion", "Trillion"};

/* English words for num (datetime.js's numberToWords). */
static void words(jev *ev, wf__strbuf *sb, double num, bool prev, bool ord) {
  jcharge(ev);
  if (sb->len > jtext_cap(ev)) jthrow_size(ev);
  if (num <= 19) {
    if (prev) wf__strbuf_puts(sb, " and ");
    wf__strbuf_puts(sb, ord ? ordinals[(int)num] : few[(int)num]);
  } else if (num < 100) {
    int tens = (int)(num / 10), rem = (int)fmod(num, 10);
    if (prev) wf__strbuf_puts(sb, " and ");
    const char *d = decades[tens - 2];
    if (rem > 0) {
      wf__strbuf_puts(sb, d);
      wf__strbuf_putc(sb, '-');
      words(ev, sb, rem, false, ord);
    } else if (ord) {
      wf__strbuf_append(sb, d, strlen(d) - 1);
      wf__strbuf_puts(sb, "ieth");
    } else {
      wf__strbuf_puts(sb, d);
    }
  } else if (num < 1000) {
    int hundreds = (int)(num / 100);
    double rem = fmod(num, 100);
    if (prev) wf__strbuf_puts(sb, ", ");
    wf__strbuf_puts(sb, few[hundreds]);
    wf__strbuf_puts(sb, " Hundred");
    if (rem > 0)
      words(ev, sb, rem, true, ord);
    else if (ord)
      wf__strbuf_puts(sb, "th");
  } else {
    int mag = (int)floor(log10(num) / 3);
    if (mag > 4) mag = 4;
    double factor = pow(10, mag * 3);
    double mant = floor(num / factor);
    double rem = num - mant * factor;
    if (prev) wf__strbuf_puts(sb, ", ");
    words(ev, sb, mant, false, false);
    wf__strbuf_putc(sb, ' ');
    wf__strbuf_puts(sb, magnitudes[mag - 1]);
    if (rem > 0)
      words(ev, sb, rem, true, ord);
    else if (ord)
      wf__strbuf_puts(sb, "th");
  }
}

static const struct {
  int v;
  const char *s;
} romans[] = {{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"},
              {90, "xc"},  {50, "l"},   {40, "xl"}, {10, "x"},   {9, "ix"},
              {5, "v"},    {4, "iv"},   {1, "i"}};

static void put_case(wf__strbuf *sb, size_t from, jint_case c) {
  for (size_t i = from; i < sb->len; i++) {
    char ch = sb->data[i];
    if (c == JCASE_UPPER && ch >= 'a' && ch <= 'z') sb->data[i] = (char)(ch - 32);
    if (c == JCASE_LOWER && ch >= 'A' && ch <= 'Z') sb->data[i] = (char)(ch + 32);
  }
}

void jintfmt_put(jev *ev, wf__strbuf *sb, double value, const jintfmt *f) {
  if (f->primary == JINT_SEQUENCE) {
    jthrow(ev, "D3130", -1, NULL, jv_str(ev, f->token, f->token_len));
  }
  if (value < 0) wf__strbuf_putc(sb, '-');
  value = fabs(value);
  size_t from = sb->len;
  switch (f->primary) {
  case JINT_LETTERS: {
    char buf[512];
    size_t k = sizeof buf;
    while (value > 0 && k > 0) {
      buf[--k] = (char)((f->tcase == JCASE_UPPER ? 'A' : 'a') + (int)fmod(value - 1, 26));
      value = floor((value - 1) / 26);
    }
    wf__strbuf_append(sb, buf + k, sizeof buf - k);
    break;
  }
  case JINT_ROMAN:
    for (size_t r = 0; r < sizeof romans / sizeof *romans; r++)
      while (value >= romans[r].v) {
        jcharge(ev);
        if (sb->len > jtext_cap(ev)) jthrow_size(ev);
        wf__strbuf_puts(sb, romans[r].s);
        value -= romans[r].v;
      }
    if (f->tcase == JCASE_UPPER) put_case(sb, from, JCASE_UPPER);
    break;
  case JINT_WORDS:
    if (!isfinite(value)) jthrow(ev, "D3001", -1, NULL, NULL);
    words(ev, sb, value, false, f->ordinal);
    if (f->tcase != JCASE_TITLE) put_case(sb, from, f->tcase);
    break;
  default: {
    char nb[40];
    jnum_format(nb, sizeof nb, value);
    cps d = {0};
    size_t nl = strlen(nb);
    for (long k = (long)f->mandatory - (long)nl; k > 0; k--) {
      jcharge(ev);
      cap_len(ev, d.n);
      cps_push(ev, &d, '0');
    }
    for (size_t i = 0; i < nl; i++) cps_push(ev, &d, (uint32_t)(unsigned char)nb[i]);
    if (f->zero != 0x30)
      for (size_t i = 0; i < d.n; i++) d.v[i] = d.v[i] + f->zero - 0x30;
    if (f->regular) {
      long step = f->sep_pos[0];
      long groups = ((long)d.n - 1) / step;
      for (long g = groups; g > 0; g--) {
        jcharge(ev);
        cps_insert(ev, &d, (long)d.n - g * step, f->sep_ch[0]);
      }
    } else {
      for (int s = f->nsep - 1; s >= 0; s--) {
        long pos = (long)d.n - f->sep_pos[s];
        uint32_t ch = f->sep_ch[s];
        /* substr(0, pos) is empty for pos <= 0 and substr(pos) counts a
         * negative pos from the end. */
        if (pos <= 0) {
          size_t keep = pos == 0 ? d.n : js_index(pos, d.n);
          cps nd = {0};
          cps_push(ev, &nd, ch);
          for (size_t i = pos == 0 ? 0 : keep; i < d.n; i++) cps_push(ev, &nd, d.v[i]);
          d = nd;
        } else {
          cps_insert(ev, &d, pos, ch);
        }
      }
    }
    if (f->ordinal && d.n) {
      uint32_t last = d.v[d.n - 1];
      const char *suf = last == '1' ? "st" : last == '2' ? "nd" : last == '3' ? "rd" : "th";
      if (d.n > 1 && d.v[d.n - 2] == '1') suf = "th";
      cps_put(sb, &d);
      wf__strbuf_puts(sb, suf);
    } else {
      cps_put(sb, &d);
    }
  }
  }
}

/* --- parsing integers --- */

/* The words $parseInteger knows, in jsonata-js's order (its regex
 * alternation tries them in this order). */
typedef struct wordval {
  const char *w;
  double v;
} wordval;

static size_t word_values(wordval *out) {
  static const char *const lfew[] = {
      "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
      "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
      "eighteen", "nineteen"};
  static const char *const lord[] = {
      "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
      "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
      "sixteenth", "seventeenth", "eighteenth", "nineteenth"};
  static const char *const ldec[] = {"twenty", "twentieth", "thirty", "thirtieth",
                                     "forty", "fortieth", "fifty", "fiftieth",
                                     "sixty", "sixtieth", "seventy", "seventieth",
                                     "eighty", "eightieth", "ninety", "ninetieth",
                                     "hundred", "hundreieth"};
  static const char *const lmag[] = {"thousand", "thousandth", "million", "millionth",
                                     "billion", "billionth", "trillion", "trillionth"};
  size_t k = 0;
  for (int i = 0; i < 20; i++) out[k++] = (wordval){lfew[i], i};
  for (int i = 0; i < 20; i++) out[k++] = (wordval){lord[i], i};
  for (int i = 0; i < 18; i++) out[k++] = (wordval){ldec[i], (i / 2 + 2) * 10};
  out[k++] = (wordval){"hundredth", 100};
  for (int i = 0; i < 8; i++) out[k++] = (wordval){lmag[i], pow(10, (i / 2 + 1) * 3)};
  return k;
}

static double words_to_number(jev *ev, const char *s, size_t n) {
  wordval wv[80];
  size_t nw = word_values(wv);
  double segs[64];
  int ns = 1;
  segs[0] = 0;
  size_t i = 0;
  for (;;) {
    /* split on /,\s|\sand\s|[\s\\-]/ */
    size_t st = i;
    size_t end = n, next = n;
    for (size_t j = i; j < n; j++) {
      jcharge(ev);
      char c = s[j];
      if (c == ',' && j + 1 < n && s[j + 1] == ' ') {
        end = j, next = j + 2;
        break;
      }
      if (c == ' ' && j + 4 < n && !memcmp(s + j, " and ", 5)) {
        end = j, next = j + 5;
        break;
      }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\\' || c == '-') {
        end = j, next = j + 1;
        break;
      }
    }
    double v = NAN;
    for (size_t k = 0; k < nw; k++)
      if (strlen(wv[k].w) == end - st && !memcmp(wv[k].w, s + st, end - st)) v = wv[k].v;
    if (v < 100) {
      double top = segs[--ns];
      if (top >= 1000) {
        segs[ns++] = top;
        top = 0;
      }
      if (ns < 63) segs[ns++] = top + v;
    } else {
      double top = segs[--ns];
      segs[ns++] = top * v;
    }
    if (end == n) break;
    i = next;
  }
  double r = 0;
  for (int k = 0; k < ns; k++) r += segs[k];
  return r;
}

/* parseInt: leading ASCII digits after optional space and sign. */
static double js_parse_int(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) i++;
  bool neg = false;
  if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (i >= n || s[i] < '0' || s[i] > '9') return NAN;
  double v = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
  return neg ? -v : v;
}

double jintfmt_parse(jev *ev, const jintfmt *f, const char *s, size_t n) {
  switch (f->primary) {
  case JINT_SEQUENCE:
    jthrow(ev, "D3130", -1, NULL, jv_str(ev, f->token, f->token_len));
  case JINT_LETTERS: {
    double r = 0, p = 1;
    char a = f->tcase == JCASE_UPPER ? 'A' : 'a';
    for (size_t i = n; i > 0; i--) {
      jcharge(ev);
      r += ((unsigned char)s[i - 1] - a + 1) * p;
      p *= 26;
    }
    return r;
  }
  case JINT_ROMAN: {
    double r = 0, max = 1;
    for (size_t i = n; i > 0; i--) {
      jcharge(ev);
      char c = s[i - 1];
      if (f->tcase != JCASE_UPPER && c >= 'a' && c <= 'z') c = (char)(c - 32);
      const char *const letters = "MDCLXVI";
      static const double vals[] = {1000, 500, 100, 50, 10, 5, 1};
      const char *p = c ? strchr(letters, c) : NULL;
      if (!p) return NAN;
      double v = vals[p - letters];
      if (v < max) {
        r -= v;
      } else {
        max = v;
        r += v;
      }
    }
    return r;
  }
  case JINT_WORDS: {
    char *low = jalloc(ev, n + 1);
    for (size_t i = 0; i < n; i++) low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    return words_to_number(ev, low, n);
  }
  default: {
    if (f->ordinal) n = n >= 2 ? n - 2 : 0;
    cps c = cps_from(ev, s, n);
    wf__strbuf *sb = jsb_new(ev);
    for (size_t i = 0; i < c.n; i++) {
      uint32_t cp = c.v[i];
      bool sep = false;
      if (f->regular)
        sep = cp == ',';
      else
        for (int k = 0; k < f->nsep; k++) sep = sep || cp == f->sep_ch[k];
      if (sep) continue;
      if (f->zero != 0x30) cp = cp - f->zero + 0x30;
      jutf8_put(sb, cp);
    }
    double r = js_parse_int(sb->data ? sb->data : "", sb->len);
    wf__strbuf_free(sb);
    return r;
  }
  }
}

void jintfmt_regex(jev *ev, wf__strbuf *sb, const jintfmt *f, int n) {
  switch (f->primary) {
  case JINT_SEQUENCE:
    jthrow(ev, "D3130", -1, NULL, jv_str(ev, f->token, f->token_len));
  case JINT_LETTERS:
    wf__strbuf_puts(sb, f->tcase == JCASE_UPPER ? "[A-Z]+" : "[a-z]+");
    break;
  case JINT_ROMAN:
    wf__strbuf_puts(sb, f->tcase == JCASE_UPPER ? "[MDCLXVI]+" : "[mdclxvi]+");
    break;
  case JINT_WORDS: {
    wordval wv[80];
    size_t nw = word_values(wv);
    wf__strbuf_puts(sb, "(?:");
    for (size_t k = 0; k < nw; k++) {
      wf__strbuf_puts(sb, wv[k].w);
      wf__strbuf_putc(sb, '|');
    }
    wf__strbuf_puts(sb, "and|[\\-, ])+");
    break;
  }
  default:
    if (n > 0 && f->optional == 0)
      wf__strbuf_printf(sb, "[0-9]{%d}", n);
    else if (n > 0)
      wf__strbuf_printf(sb, "[0-9]{%d,%d}", n - f->optional < 0 ? 0 : n - f->optional, n);
    else
      wf__strbuf_puts(sb, "[0-9]+");
    if (f->ordinal) wf__strbuf_puts(sb, "(?:th|st|nd|rd)");
  }
}

static jv *fn_format_integer(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0), *p = JARG(1);
  if (!x) return NULL;
  jintfmt f;
  jintfmt_analyse(ev, &f, p ? p->u.str.s : "", p ? p->u.str.len : 0);
  wf__strbuf *sb = jsb_new(ev);
  jintfmt_put(ev, sb, floor(x->u.n), &f);
  return jfn_take(ev, sb);
}

static jv *fn_parse_integer(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0), *p = JARG(1);
  if (!x) return NULL;
  jintfmt f;
  jintfmt_analyse(ev, &f, p ? p->u.str.s : "", p ? p->u.str.len : 0);
  double r = jintfmt_parse(ev, &f, x->u.str.s, x->u.str.len);
  if (!isfinite(r)) return NULL;
  return jv_num(ev, r);
}

/* --- $formatNumber --- */

typedef struct nprops {
  uint32_t dec, group, exp, digit, patsep, percent, permille, zero;
  const char *minus;
  size_t minus_len;
} nprops;

typedef struct subpic {
  cps pic, prefix, suffix, active, mantissa, integer, fraction, exponent;
  bool has_exp;
} subpic;

typedef struct picvars {
  int *int_groups;
  int nint_groups;
  int regular;
  int min_int, scaling, min_frac, max_frac, min_exp;
  int *frac_groups;
  int nfrac_groups;
  cps prefix, suffix, pic;
  bool minus_prefix;
} picvars;

static bool is_digit_of(const nprops *p, uint32_t c) { return c >= p->zero && c < p->zero + 10; }

static bool is_active(const nprops *p, uint32_t c) {
  return is_digit_of(p, c) || c == p->dec || c == p->exp || c == p->group || c == p->digit ||
         c == p->patsep;
}

static cps cps_sub(jev *ev, const cps *c, size_t from, size_t to) {
  cps r = {0};
  if (to > c->n) to = c->n;
  for (size_t i = from; i < to; i++) cps_push(ev, &r, c->v[i]);
  return r;
}

static long cps_last(const cps *c, uint32_t ch) {
  for (size_t i = c->n; i > 0; i--)
    if (c->v[i - 1] == ch) return (long)i - 1;
  return -1;
}

static int count_digits(const nprops *p, const cps *c, size_t from, size_t to, bool opt) {
  int k = 0;
  for (size_t i = from; i < to && i < c->n; i++)
    if (is_digit_of(p, c->v[i]) || (opt && c->v[i] == p->digit)) k++;
  return k;
}

static void split_parts(jev *ev, const nprops *p, subpic *s) {
  const cps *c = &s->pic;
  size_t pre = 0, suf = 0;
  bool found = false;
  for (size_t i = 0; i < c->n && !found; i++)
    if (is_active(p, c->v[i]) && c->v[i] != p->exp) pre = i, found = true;
  if (!found) pre = 0;
  found = false;
  for (size_t i = c->n; i > 0 && !found; i--)
    if (is_active(p, c->v[i - 1]) && c->v[i - 1] != p->exp) suf = c->n - i, found = true;
  if (!found) suf = 0;
  s->prefix = cps_sub(ev, c, 0, pre);
  s->suffix = cps_sub(ev, c, c->n - suf, c->n);
  size_t aend = c->n - suf >= pre ? c->n - suf : pre;
  s->active = cps_sub(ev, c, pre, aend);
  long ep = cps_index(c, p->exp, pre);
  if (ep == -1 || (size_t)ep > c->n - suf) {
    s->mantissa = s->active;
    s->has_exp = false;
  } else {
    /* jsonata-js cuts the active part at the exponent's index in the
     * whole sub-picture. */
    s->mantissa = cps_sub(ev, &s->active, 0, (size_t)ep);
    s->exponent = cps_sub(ev, &s->active, (size_t)ep + 1 > s->active.n ? s->active.n : (size_t)ep + 1, s->active.n);
    s->has_exp = true;
  }
  long dp = cps_index(&s->mantissa, p->dec, 0);
  if (dp == -1) {
    s->integer = s->mantissa;
    s->fraction = s->suffix;
  } else {
    s->integer = cps_sub(ev, &s->mantissa, 0, (size_t)dp);
    s->fraction = cps_sub(ev, &s->mantissa, (size_t)dp + 1, s->mantissa.n);
  }
}

static void validate(jev *ev, const nprops *p, const subpic *s) {
  const char *err = NULL;
  const cps *c = &s->pic;
  long dp = cps_index(c, p->dec, 0);
  if (dp != cps_last(c, p->dec)) err = "D3081";
  if (cps_index(c, p->percent, 0) != cps_last(c, p->percent)) err = "D3082";
  if (cps_index(c, p->permille, 0) != cps_last(c, p->permille)) err = "D3083";
  if (cps_index(c, p->percent, 0) != -1 && cps_index(c, p->permille, 0) != -1) err = "D3084";
  if (count_digits(p, &s->mantissa, 0, s->mantissa.n, true) == 0) err = "D3085";
  for (size_t i = 0; i < s->active.n; i++)
    if (!is_active(p, s->active.v[i])) err = "D3086";
  if (dp != -1) {
    if ((dp > 0 && c->v[dp - 1] == p->group) || ((size_t)dp + 1 < c->n && c->v[dp + 1] == p->group))
      err = "D3087";
  } else if (s->integer.n && s->integer.v[s->integer.n - 1] == p->group) {
    err = "D3088";
  }
  for (size_t i = 0; i + 1 < c->n; i++)
    if (c->v[i] == p->group && c->v[i + 1] == p->group) err = "D3089";
  long od = cps_index(&s->integer, p->digit, 0);
  if (od != -1 && count_digits(p, &s->integer, 0, (size_t)od, false) > 0) err = "D3090";
  od = cps_last(&s->fraction, p->digit);
  if (od != -1 && count_digits(p, &s->fraction, (size_t)od, s->fraction.n, false) > 0) err = "D3091";
  bool pct = cps_index(c, p->percent, 0) != -1 || cps_index(c, p->permille, 0) != -1;
  if (s->has_exp && s->exponent.n > 0 && pct) err = "D3092";
  if (s->has_exp && (s->exponent.n == 0 ||
                     count_digits(p, &s->exponent, 0, s->exponent.n, false) != (int)s->exponent.n))
    err = "D3093";
  if (err) jthrow(ev, err, -1, NULL, NULL);
}

/* Digits to the right (or, toLeft, the left) of each grouping separator;
 * after the first, jsonata-js looks for separators in the integer part. */
static int *group_positions(jev *ev, const nprops *p, const subpic *s, const cps *part,
                            bool to_left, int *count) {
  int *out = jalloc(ev, (part->n + s->integer.n + 1) * sizeof *out);
  int k = 0;
  long gp = cps_index(part, p->group, 0);
  while (gp != -1) {
    jcharge(ev);
    out[k++] = to_left ? count_digits(p, part, 0, (size_t)gp, true)
                       : count_digits(p, part, (size_t)gp, part->n, true);
    gp = cps_index(&s->integer, p->group, (size_t)gp + 1);
  }
  *count = k;
  return out;
}

static picvars analyse(jev *ev, const nprops *p, const subpic *s) {
  picvars v;
  memset(&v, 0, sizeof v);
  v.int_groups = group_positions(ev, p, s, &s->integer, false, &v.nint_groups);
  v.regular = regular_interval(ev, v.int_groups, v.nint_groups);
  v.frac_groups = group_positions(ev, p, s, &s->fraction, true, &v.nfrac_groups);
  v.min_int = count_digits(p, &s->integer, 0, s->integer.n, false);
  v.scaling = v.min_int;
  v.min_frac = count_digits(p, &s->fraction, 0, s->fraction.n, false);
  v.max_frac = count_digits(p, &s->fraction, 0, s->fraction.n, true);
  if (v.min_int == 0 && v.max_frac == 0) {
    if (s->has_exp)
      v.min_frac = v.max_frac = 1;
    else
      v.min_int = 1;
  }
  if (s->has_exp && v.min_int == 0 && cps_index(&s->integer, p->digit, 0) != -1) v.min_int = 1;
  if (v.min_int == 0 && v.min_frac == 0) v.min_frac = 1;
  v.min_exp = s->has_exp ? count_digits(p, &s->exponent, 0, s->exponent.n, false) : -1;
  v.prefix = s->prefix;
  v.suffix = s->suffix;
  v.pic = s->pic;
  return v;
}

/* Math.abs(x).toFixed(dp) in ASCII. */
static void to_fixed(char *buf, size_t n, double x, int dp) {
  x = fabs(x);
  if (x >= 1e21)
    jnum_format(buf, n, x);
  else
    snprintf(buf, n, "%.*f", dp, x);
}

static void prop(jev *ev, jv *opts, const char *name, uint32_t *out) {
  jv *v = opts ? jv_get(opts, name, strlen(name)) : NULL;
  if (v && v->kind == JV_STR && v->u.str.len) {
    size_t i = 0;
    *out = utf8_next(v->u.str.s, v->u.str.len, &i);
  }
  (void)ev;
}

static jv *fn_format_number(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0), *pv = JARG(1), *opts = JARG(2);
  if (!x) return NULL;
  nprops p = {'.', ',', 'e', '#', ';', '%', 0x2030, '0', "-", 1};
  prop(ev, opts, "decimal-separator", &p.dec);
  prop(ev, opts, "grouping-separator", &p.group);
  prop(ev, opts, "exponent-separator", &p.exp);
  prop(ev, opts, "digit", &p.digit);
  prop(ev, opts, "pattern-separator", &p.patsep);
  prop(ev, opts, "percent", &p.percent);
  prop(ev, opts, "per-mille", &p.permille);
  prop(ev, opts, "zero-digit", &p.zero);
  jv *ms = opts ? jv_get(opts, "minus-sign", 10) : NULL;
  if (ms && ms->kind == JV_STR) p.minus = ms->u.str.s, p.minus_len = ms->u.str.len;

  cps pic = cps_from(ev, pv ? pv->u.str.s : "", pv ? pv->u.str.len : 0);
  subpic s[2];
  memset(s, 0, sizeof s);
  int nsub = 1;
  for (size_t i = 0; i < pic.n; i++) {
    if (pic.v[i] == p.patsep) {
      if (nsub == 2) jthrow(ev, "D3080", -1, NULL, NULL);
      nsub++;
      continue;
    }
    cps_push(ev, &s[nsub - 1].pic, pic.v[i]);
  }
  for (int i = 0; i < nsub; i++) split_parts(ev, &p, &s[i]);
  for (int i = 0; i < nsub; i++) validate(ev, &p, &s[i]);
  picvars vars[2];
  for (int i = 0; i < nsub; i++) vars[i] = analyse(ev, &p, &s[i]);
  if (nsub == 1) {
    vars[1] = vars[0];
    vars[1].minus_prefix = true;
  }
  double value = x->u.n;
  picvars *pic_v = value >= 0 ? &vars[0] : &vars[1];
  double adj = value;
  if (cps_index(&pic_v->pic, p.percent, 0) != -1)
    adj = value * 100;
  else if (cps_index(&pic_v->pic, p.permille, 0) != -1)
    adj = value * 1000;
  double mant = adj;
  int exponent = 0;
  bool has_exp = pic_v->min_exp > 0;
  if (has_exp && mant != 0 && isfinite(mant)) {
    double maxm = pow(10, pic_v->scaling), minm = pow(10, pic_v->scaling - 1);
    while (fabs(mant) < minm) {
      jcharge(ev);
      mant *= 10;
      exponent--;
    }
    while (fabs(mant) > maxm) {
      jcharge(ev);
      mant /= 10;
      exponent++;
    }
  }
  /* bullet 6: $round(mantissa, maximum fraction size) */
  const jnative *round = jnative_find("round");
  jv *rargs[2] = {jv_num(ev, mant), jv_num(ev, pic_v->max_frac)};
  double rounded = round->fn(ev, rargs, 2, NULL, env)->u.n;
  int dp = pic_v->max_frac > 100 ? 100 : pic_v->max_frac;
  char fixed[512];
  to_fixed(fixed, sizeof fixed, rounded, dp);
  cps sv = {0};
  bool had_point = false;
  for (size_t i = 0; fixed[i]; i++) {
    uint32_t ch = (uint32_t)(unsigned char)fixed[i];
    if (ch >= '0' && ch <= '9') ch = p.zero + (ch - '0');
    if (fixed[i] == '.') {
      ch = p.dec;
      had_point = true;
    }
    cps_push(ev, &sv, ch);
  }
  if (!had_point) cps_push(ev, &sv, p.dec);
  size_t lead = 0;
  while (lead < sv.n && sv.v[lead] == p.zero) lead++;
  sv = cps_sub(ev, &sv, lead, sv.n);
  while (sv.n && sv.v[sv.n - 1] == p.zero) sv.n--;
  long dpos = cps_index(&sv, p.dec, 0);
  long pad_left = pic_v->min_int - dpos;
  long pad_right = pic_v->min_frac - ((long)sv.n - dpos - 1);
  if (pad_left > 0) {
    cps nv = {0};
    for (long i = 0; i < pad_left; i++) {
      jcharge(ev);
      cps_push(ev, &nv, p.zero);
    }
    for (size_t i = 0; i < sv.n; i++) cps_push(ev, &nv, sv.v[i]);
    sv = nv;
  }
  for (long i = 0; i < pad_right; i++) {
    jcharge(ev);
    cps_push(ev, &sv, p.zero);
  }
  dpos = cps_index(&sv, p.dec, 0);
  if (pic_v->regular > 0) {
    long groups = (dpos - 1) / pic_v->regular;
    for (long g = 1; g <= groups; g++) {
      jcharge(ev);
      cps_insert(ev, &sv, dpos - g * pic_v->regular, p.group);
    }
  } else {
    for (int i = 0; i < pic_v->nint_groups; i++) {
      cps_insert(ev, &sv, dpos - pic_v->int_groups[i], p.group);
      dpos++;
    }
  }
  dpos = cps_index(&sv, p.dec, 0);
  for (int i = 0; i < pic_v->nfrac_groups; i++)
    cps_insert(ev, &sv, pic_v->frac_groups[i] + dpos + 1, p.group);
  dpos = cps_index(&sv, p.dec, 0);
  if ((cps_index(&pic_v->pic, p.dec, 0) == -1 || dpos == (long)sv.n - 1) && sv.n) sv.n--;
  wf__strbuf *sb = jsb_new(ev);
  if (pic_v->minus_prefix) wf__strbuf_append(sb, p.minus, p.minus_len);
  cps_put(sb, &pic_v->prefix);
  cps_put(sb, &sv);
  if (has_exp) {
    char eb[32];
    snprintf(eb, sizeof eb, "%d", exponent < 0 ? -exponent : exponent);
    jutf8_put(sb, p.exp);
    if (exponent < 0) wf__strbuf_append(sb, p.minus, p.minus_len);
    for (long k = pic_v->min_exp - (long)strlen(eb); k > 0; k--) jutf8_put(sb, p.zero);
    for (size_t i = 0; eb[i]; i++) jutf8_put(sb, p.zero + (uint32_t)(eb[i] - '0'));
  }
  cps_put(sb, &pic_v->suffix);
  return jfn_take(ev, sb);
}

const jnative jfn_format_table[] = {
    {"formatInteger", "<n-s:s>", fn_format_integer, 2},
    {"parseInteger", "<s-s:n>", fn_parse_integer, 2},
    {"formatNumber", "<n-so?:s>", fn_format_number, 3},
    {NULL, NULL, NULL, 0}};
