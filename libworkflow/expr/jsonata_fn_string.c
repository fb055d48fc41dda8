/* JSONata's string functions (jsonata-js 2.0.6's functions.js): indexes
 * and lengths count code points; regular expressions go through
 * jregex_exec with jsonata-js's match-object semantics. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "jsonata_fn.h"

jv *jfn_take(jev *ev, wf__strbuf *sb) {
  if (sb->oom) {
    wf__strbuf_free(sb);
    jthrow_oom(ev);
  }
  if (sb->len > jtext_cap(ev)) jthrow_size(ev);
  jv *r = jv_str(ev, jstrdup(ev, sb->data ? sb->data : "", sb->len), sb->len);
  wf__strbuf_free(sb);
  return r;
}

jv *jfn_string(jev *ev, jv *x, bool pretty) {
  if (!x) return NULL;
  if (x->kind == JV_STR) return x;
  if (x->kind == JV_FUNC) return jv_str(ev, "", 0);
  if (x->kind == JV_NUM && !isfinite(x->u.n)) jthrow(ev, "D3001", -1, NULL, x);
  if (x->kind == JV_NUM) {
    /* jv_stringify's text for a number, without its buffer. */
    char nb[40];
    jnum_format(nb, sizeof nb, jnum_prec15(x->u.n));
    size_t len = strlen(nb);
    if (len > jtext_cap(ev)) jthrow_size(ev);
    return jv_str(ev, jstrdup(ev, nb, len), len);
  }
  if (jv_is_arr(x) && (x->flags & JA_OUTER) && x->u.arr.len) x = x->u.arr.v[0];
  wf__strbuf *sb = jsb_new(ev);
  jv_stringify(ev, sb, x, pretty);
  return jfn_take(ev, sb);
}

static jv *fn_string(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *p = JARG(1);
  return jfn_string(ev, JARG(0), p && p->kind == JV_BOOL && p->u.b);
}

static jv *fn_length(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0);
  if (!s) return NULL;
  return jv_num(ev, (double)jutf8_len(s->u.str.s, s->u.str.len));
}

static jv *substr_cp(jev *ev, jv *s, long start, long end) {
  size_t len = jutf8_len(s->u.str.s, s->u.str.len);
  if (start < 0) start = 0;
  if (end > (long)len) end = (long)len;
  if (end <= start) return jv_str(ev, "", 0);
  size_t b0 = jutf8_off(s->u.str.s, s->u.str.len, (size_t)start);
  size_t b1 = jutf8_off(s->u.str.s, s->u.str.len, (size_t)end);
  return jv_str(ev, s->u.str.s + b0, b1 - b0);
}

static long js_int(double d) {
  if (isnan(d)) return 0;
  if (d > 1e15) return (long)1e15;
  if (d < -1e15) return (long)-1e15;
  return (long)trunc(d);
}

static jv *fn_substring(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0), *st = JARG(1), *ln = JARG(2);
  if (!s) return NULL;
  long len = (long)jutf8_len(s->u.str.s, s->u.str.len);
  long start = st ? js_int(st->u.n) : 0;
  if (len + start < 0) start = 0;
  if (start < 0) start += len;
  if (ln) {
    if (ln->u.n <= 0) return jv_str(ev, "", 0);
    long l = js_int(ln->u.n);
    long end = start + l;
    return substr_cp(ev, s, start, end);
  }
  return substr_cp(ev, s, start, len);
}

static const char *find(const char *h, size_t hl, const char *nd, size_t nl) {
  if (nl == 0) return h;
  if (nl > hl) return NULL;
  for (size_t i = 0; i + nl <= hl; i++)
    if (h[i] == nd[0] && !memcmp(h + i, nd, nl)) return h + i;
  return NULL;
}

static jv *fn_substring_before(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0), *c = JARG(1);
  if (!s) return NULL;
  if (!c) return s;
  const char *p = find(s->u.str.s, s->u.str.len, c->u.str.s, c->u.str.len);
  if (!p) return s;
  return jv_str(ev, s->u.str.s, (size_t)(p - s->u.str.s));
}

static jv *fn_substring_after(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0), *c = JARG(1);
  if (!s) return NULL;
  if (!c) return s;
  const char *p = find(s->u.str.s, s->u.str.len, c->u.str.s, c->u.str.len);
  if (!p) return s;
  size_t off = (size_t)(p - s->u.str.s) + c->u.str.len;
  return jv_str(ev, s->u.str.s + off, s->u.str.len - off);
}

static jv *change_case(jev *ev, jv *s, bool up) {
  if (!s) return NULL;
  char *o = jalloc(ev, s->u.str.len + 1);
  for (size_t i = 0; i < s->u.str.len; i++) {
    unsigned char c = (unsigned char)s->u.str.s[i];
    o[i] = (char)(c < 0x80 ? (up ? toupper(c) : tolower(c)) : c);
  }
  return jv_str(ev, o, s->u.str.len);
}

static jv *fn_uppercase(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return change_case(ev, JARG(0), true);
}
static jv *fn_lowercase(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return change_case(ev, JARG(0), false);
}

static jv *fn_trim(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0);
  if (!s) return NULL;
  char *o = jalloc(ev, s->u.str.len + 1);
  size_t k = 0;
  bool ws = false;
  for (size_t i = 0; i < s->u.str.len; i++) {
    char c = s->u.str.s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ws = true;
      continue;
    }
    if (ws && k > 0) o[k++] = ' ';
    ws = false;
    o[k++] = c;
  }
  return jv_str(ev, o, k);
}

static jv *fn_pad(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0), *w = JARG(1), *c = JARG(2);
  if (!s) return NULL;
  const char *ch = " ";
  size_t chl = 1;
  if (c && c->u.str.len) {
    ch = c->u.str.s;
    chl = c->u.str.len;
  }
  long width = w ? js_int(w->u.n) : 0;
  long len = (long)jutf8_len(s->u.str.s, s->u.str.len);
  long padn = labs(width) - len;
  if (padn <= 0) return s;
  wf__strbuf *pad = jsb_new(ev);
  size_t chcp = jutf8_len(ch, chl);
  size_t cap = jtext_cap(ev);
  for (long i = 0; i < padn; i += (long)chcp) {
    wf__strbuf_append(pad, ch, chl);
    if (pad->len > cap) jthrow_size(ev);
  }
  size_t cut = jutf8_off(pad->data ? pad->data : "", pad->len, (size_t)padn);
  wf__strbuf *sb = jsb_new(ev);
  if (width < 0) {
    wf__strbuf_append(sb, pad->data, cut);
    wf__strbuf_append(sb, s->u.str.s, s->u.str.len);
  } else {
    wf__strbuf_append(sb, s->u.str.s, s->u.str.len);
    wf__strbuf_append(sb, pad->data, cut);
  }
  wf__strbuf_free(pad);
  return jfn_take(ev, sb);
}

/* --- matching --- */

typedef struct jmatch {
  size_t start, end; /* bytes */
  size_t *ov;
  size_t ng;
} jmatch;

static bool is_regex(const jv *f) { return f && f->kind == JV_FUNC && f->u.f.fk == F_REGEX; }

/* The first match at or after `from`; D1004 for an empty match after the
 * first (jsonata-js's next()). */
static bool next_match(jev *ev, jv *re, jv *s, size_t from, bool first, jmatch *m) {
  if (!first && from >= s->u.str.len) return false;
  if (!jregex_exec(ev, re, s->u.str.s, s->u.str.len, from, &m->ov, &m->ng)) return false;
  m->start = m->ov[0];
  m->end = m->ov[1];
  if (!first && m->start == m->end) jthrow(ev, "D1004", re->u.f.node->pos, NULL, NULL);
  return true;
}

static jv *match_object(jev *ev, jv *s, jmatch *m, bool index_key) {
  jv *o = jv_obj(ev);
  jv_set(ev, o, "match", 5, jv_str(ev, s->u.str.s + m->start, m->end - m->start));
  jv *pos = jv_num(ev, (double)jutf8_len(s->u.str.s, m->start));
  if (index_key) jv_set(ev, o, "index", 5, pos);
  else {
    jv_set(ev, o, "start", 5, pos);
    jv_set(ev, o, "end", 3, jv_num(ev, (double)jutf8_len(s->u.str.s, m->end)));
  }
  jv *g = jv_arr(ev, 0);
  for (size_t i = 1; i <= m->ng; i++) {
    if (m->ov[2 * i] == (size_t)-1) jv_push(ev, g, jv_str(ev, "", 0));
    else jv_push(ev, g, jv_str(ev, s->u.str.s + m->ov[2 * i], m->ov[2 * i + 1] - m->ov[2 * i]));
  }
  jv_set(ev, o, "groups", 6, g);
  return o;
}

static jv *fn_contains(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0), *t = JARG(1);
  if (!s) return NULL;
  if (t && t->kind == JV_STR)
    return jv_bool(find(s->u.str.s, s->u.str.len, t->u.str.s, t->u.str.len) != NULL);
  if (is_regex(t)) {
    jmatch m;
    return jv_bool(next_match(ev, t, s, 0, true, &m));
  }
  if (jv_is_func(t)) {
    jv *r = japply(ev, t, &s, 1, NULL, env);
    return jv_bool(r != NULL);
  }
  return &jv_false_v;
}

static jv *fn_match(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in;
  jv *s = JARG(0), *re = JARG(1), *lim = JARG(2);
  if (!s) return NULL;
  if (lim && lim->u.n < 0) jthrow(ev, "D3040", -1, NULL, lim);
  jv *result = jv_seq(ev);
  if (lim && lim->u.n <= 0) return result;
  if (!is_regex(re)) {
    /* A matcher function of the caller's, as a regular expression is one
     * in jsonata-js: called with the string, it answers {match, start,
     * end, groups, next}, next() the following match. */
    if (!jv_is_func(re)) jthrow(ev, "T1010", -1, NULL, NULL);
    jv *r = japply(ev, re, &s, 1, NULL, env);
    for (double count = 0; jv_is_obj(r) && (!lim || count < lim->u.n); count++) {
      jv *o = jv_obj_cap(ev, 3);
      static const char *const keys[] = {"match", "start", "groups"};
      static const char *const as[] = {"match", "index", "groups"};
      for (size_t k = 0; k < 3; k++) {
        jv *v = jv_get(r, keys[k], strlen(keys[k]));
        if (v) jv_add(ev, o, as[k], strlen(as[k]), v);
      }
      jv_push(ev, result, o);
      jv *next = jv_get(r, "next", 4);
      r = jv_is_func(next) ? japply(ev, next, NULL, 0, NULL, env) : NULL;
    }
    return result;
  }
  jmatch m;
  bool ok = next_match(ev, re, s, 0, true, &m);
  double count = 0;
  while (ok && (!lim || count < lim->u.n)) {
    jv_push(ev, result, match_object(ev, s, &m, true));
    count++;
    ok = next_match(ev, re, s, m.end, false, &m);
  }
  return result;
}

static void replacer(wf__strbuf *sb, const jv *rep, const jv *s, const jmatch *m) {
  const char *r = rep->u.str.s;
  size_t rl = rep->u.str.len, pos = 0;
  while (pos < rl) {
    const char *d = memchr(r + pos, '$', rl - pos);
    if (!d) break;
    size_t idx = (size_t)(d - r);
    wf__strbuf_append(sb, r + pos, idx - pos);
    pos = idx + 1;
    char dv = pos < rl ? r[pos] : '\0';
    if (dv == '$') {
      wf__strbuf_putc(sb, '$');
      pos++;
    } else if (dv == '0') {
      wf__strbuf_append(sb, s->u.str.s + m->start, m->end - m->start);
      pos++;
    } else {
      size_t ng = m->ng;
      int maxd = ng == 0 ? 1 : (int)floor(log10((double)ng)) + 1;
      long gi = -1;
      int used = 0;
      for (int k = 0; k < maxd && pos + (size_t)k < rl && r[pos + k] >= '0' && r[pos + k] <= '9'; k++) {
        gi = (gi < 0 ? 0 : gi * 10) + (r[pos + k] - '0');
        used = k + 1;
      }
      if (maxd > 1 && gi > (long)ng && used > 1) {
        gi /= 10;
        used--;
      }
      if (gi >= 0) {
        if (ng > 0 && gi >= 1 && (size_t)gi <= ng && m->ov[2 * gi] != (size_t)-1)
          wf__strbuf_append(sb, s->u.str.s + m->ov[2 * gi], m->ov[2 * gi + 1] - m->ov[2 * gi]);
        char tmp[24];
        pos += (size_t)snprintf(tmp, sizeof tmp, "%ld", gi);
      } else {
        wf__strbuf_putc(sb, '$');
      }
    }
  }
  if (pos < rl) wf__strbuf_append(sb, r + pos, rl - pos);
}

static jv *fn_replace(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in;
  jv *s = JARG(0), *pat = JARG(1), *rep = JARG(2), *lim = JARG(3);
  /* An undefined pattern or replacement (the signature lets undefined
   * through) leaves nothing to do: jsonata-js fails there with a
   * JavaScript TypeError of its own. */
  if (!s || !pat || !rep) return NULL;
  if (pat && pat->kind == JV_STR && pat->u.str.len == 0) jthrow(ev, "D3010", -1, NULL, pat);
  if (lim && lim->u.n < 0) jthrow(ev, "D3011", -1, NULL, lim);
  if (lim && lim->u.n <= 0) return s;
  wf__strbuf *sb = jsb_new(ev);
  double count = 0;
  size_t pos = 0;
  if (pat->kind == JV_STR) {
    const char *p;
    while ((!lim || count < lim->u.n) &&
           (p = find(s->u.str.s + pos, s->u.str.len - pos, pat->u.str.s, pat->u.str.len))) {
      size_t idx = (size_t)(p - s->u.str.s);
      wf__strbuf_append(sb, s->u.str.s + pos, idx - pos);
      if (rep->kind == JV_STR) wf__strbuf_append(sb, rep->u.str.s, rep->u.str.len);
      pos = idx + pat->u.str.len;
      count++;
    }
    wf__strbuf_append(sb, s->u.str.s + pos, s->u.str.len - pos);
    return jfn_take(ev, sb);
  }
  jmatch m;
  bool ok = next_match(ev, pat, s, 0, true, &m);
  while (ok && (!lim || count < lim->u.n)) {
    wf__strbuf_append(sb, s->u.str.s + pos, m.start - pos);
    if (rep->kind == JV_STR) {
      replacer(sb, rep, s, &m);
    } else {
      jv *mo = match_object(ev, s, &m, true);
      jv *r = japply(ev, rep, &mo, 1, NULL, env);
      if (!jv_is_str(r)) {
        wf__strbuf_free(sb);
        jthrow(ev, "D3012", -1, NULL, r);
      }
      wf__strbuf_append(sb, r->u.str.s, r->u.str.len);
    }
    pos = m.end;
    count++;
    ok = next_match(ev, pat, s, m.end, false, &m);
  }
  wf__strbuf_append(sb, s->u.str.s + pos, s->u.str.len - pos);
  return jfn_take(ev, sb);
}

static jv *fn_split(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0), *sep = JARG(1), *lim = JARG(2);
  /* An undefined separator: jsonata-js fails with a JavaScript TypeError
   * of its own; nothing to split by. */
  if (!s || !sep) return NULL;
  if (lim && lim->u.n < 0) jthrow(ev, "D3020", -1, NULL, lim);
  jv *r = jv_arr(ev, 0);
  double max = lim ? floor(lim->u.n) : 1e300;
  if (sep->kind == JV_STR) {
    if (sep->u.str.len == 0) {
      for (size_t i = 0; i < s->u.str.len && (double)r->u.arr.len < max;) {
        size_t j = i + 1;
        while (j < s->u.str.len && ((unsigned char)s->u.str.s[j] & 0xC0) == 0x80) j++;
        jv_push(ev, r, jv_str(ev, s->u.str.s + i, j - i));
        i = j;
      }
      return r;
    }
    size_t pos = 0;
    for (;;) {
      if ((double)r->u.arr.len >= max) break;
      const char *p = find(s->u.str.s + pos, s->u.str.len - pos, sep->u.str.s, sep->u.str.len);
      if (!p) {
        jv_push(ev, r, jv_str(ev, s->u.str.s + pos, s->u.str.len - pos));
        break;
      }
      size_t idx = (size_t)(p - s->u.str.s);
      jv_push(ev, r, jv_str(ev, s->u.str.s + pos, idx - pos));
      pos = idx + sep->u.str.len;
    }
    return r;
  }
  size_t start = 0;
  jmatch m;
  bool ok = next_match(ev, sep, s, 0, true, &m);
  while (ok && (double)r->u.arr.len < max) {
    jv_push(ev, r, jv_str(ev, s->u.str.s + start, m.start - start));
    start = m.end;
    ok = next_match(ev, sep, s, m.end, false, &m);
  }
  if ((double)r->u.arr.len < max) jv_push(ev, r, jv_str(ev, s->u.str.s + start, s->u.str.len - start));
  return r;
}

static jv *fn_join(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *arr = JARG(0), *sep = JARG(1);
  if (!arr) return NULL;
  wf__strbuf *sb = jsb_new(ev);
  for (size_t i = 0; i < arr->u.arr.len; i++) {
    if (i && sep) wf__strbuf_append(sb, sep->u.str.s, sep->u.str.len);
    jv *x = arr->u.arr.v[i];
    wf__strbuf_append(sb, x->u.str.s, x->u.str.len);
  }
  return jfn_take(ev, sb);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* jsonata-js reads and writes base64 through Node's "binary" encoding:
 * a character is the byte of its code point's low 8 bits, and a byte the
 * character U+0000..U+00FF. */
static unsigned char *latin1_bytes(jev *ev, const jv *s, size_t *len) {
  const unsigned char *p = (const unsigned char *)s->u.str.s;
  size_t n = s->u.str.len, k = 0;
  unsigned char *out = jalloc(ev, n + 1);
  for (size_t i = 0; i < n;) {
    unsigned c = p[i], cp;
    size_t w = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + w > n) w = n - i;
    cp = w == 1 ? c : c & (0xFFu >> (w + 1));
    for (size_t j = 1; j < w; j++) cp = cp << 6 | (p[i + j] & 0x3Fu);
    out[k++] = (unsigned char)(cp & 0xFF);
    i += w;
  }
  *len = k;
  return out;
}

static jv *fn_base64encode(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0);
  if (!s) return NULL;
  wf__strbuf *sb = jsb_new(ev);
  size_t l;
  const unsigned char *p = latin1_bytes(ev, s, &l);
  for (size_t i = 0; i < l; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < l ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < l ? p[i + 2] : 0);
    wf__strbuf_putc(sb, b64[(v >> 18) & 63]);
    wf__strbuf_putc(sb, b64[(v >> 12) & 63]);
    wf__strbuf_putc(sb, i + 1 < l ? b64[(v >> 6) & 63] : '=');
    wf__strbuf_putc(sb, i + 2 < l ? b64[v & 63] : '=');
  }
  return jfn_take(ev, sb);
}

static jv *fn_base64decode(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *s = JARG(0);
  if (!s) return NULL;
  wf__strbuf *sb = jsb_new(ev);
  unsigned v = 0;
  int bits = 0;
  for (size_t i = 0; i < s->u.str.len; i++) {
    const char *q = strchr(b64, s->u.str.s[i]);
    if (!q || !s->u.str.s[i]) continue;
    v = (v << 6) | (unsigned)(q - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      unsigned byte = (v >> bits) & 0xFF;
      if (byte < 0x80) {
        wf__strbuf_putc(sb, (char)byte);
      } else { /* U+0080..U+00FF in UTF-8 */
        wf__strbuf_putc(sb, (char)(0xC0 | (byte >> 6)));
        wf__strbuf_putc(sb, (char)(0x80 | (byte & 0x3F)));
      }
    }
  }
  return jfn_take(ev, sb);
}

static jv *url_encode(jev *ev, jv *s, const char *keep) {
  if (!s) return NULL;
  wf__strbuf *sb = jsb_new(ev);
  for (size_t i = 0; i < s->u.str.len; i++) {
    unsigned char c = (unsigned char)s->u.str.s[i];
    if (isalnum(c) || strchr(keep, c)) wf__strbuf_putc(sb, (char)c);
    else wf__strbuf_printf(sb, "%%%02X", c);
  }
  return jfn_take(ev, sb);
}

static jv *fn_encode_url_component(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return url_encode(ev, JARG(0), "-_.!~*'()");
}
static jv *fn_encode_url(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return url_encode(ev, JARG(0), "-_.!~*'();/?:@&=+$,#");
}

static int hexv(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* D3140: what JavaScript's decodeURI refuses (URIError). */
static _Noreturn void malformed_url(jev *ev, jv *s, const char *fname) {
  jerr_reset(&ev->err, "D3140");
  ev->err.value = s;
  ev->err.has_value = true;
  ev->err.message = fname;
  jrethrow(ev);
}

static jv *url_decode(jev *ev, jv *s, const char *reserved, const char *fname) {
  if (!s) return NULL;
  wf__strbuf *sb = jsb_new(ev);
  for (size_t i = 0; i < s->u.str.len; i++) {
    char c = s->u.str.s[i];
    if (c == '%') {
      int h = i + 2 < s->u.str.len ? hexv(s->u.str.s[i + 1]) : -1;
      int l = i + 2 < s->u.str.len ? hexv(s->u.str.s[i + 2]) : -1;
      if (h < 0 || l < 0) malformed_url(ev, s, fname);
      char d = (char)(h * 16 + l);
      if (strchr(reserved, d) && d) wf__strbuf_append(sb, s->u.str.s + i, 3);
      else wf__strbuf_putc(sb, d);
      i += 2;
    } else {
      wf__strbuf_putc(sb, c);
    }
  }
  /* Escapes that decode to no UTF-8 character are malformed too. */
  if (!sb->oom && !jutf8_well_formed(sb->data ? sb->data : "", sb->len))
    malformed_url(ev, s, fname);
  return jfn_take(ev, sb);
}

static jv *fn_decode_url_component(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return url_decode(ev, JARG(0), "", "decodeUrlComponent");
}
static jv *fn_decode_url(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return url_decode(ev, JARG(0), ";/?:@&=+$,#", "decodeUrl");
}

const jnative jfn_string_table[] = {
    {"string", "<x-b?:s>", fn_string, 1},
    {"length", "<s-:n>", fn_length, 1},
    {"substring", "<s-nn?:s>", fn_substring, 3},
    {"substringBefore", "<s-s:s>", fn_substring_before, 2},
    {"substringAfter", "<s-s:s>", fn_substring_after, 2},
    {"uppercase", "<s-:s>", fn_uppercase, 1},
    {"lowercase", "<s-:s>", fn_lowercase, 1},
    {"trim", "<s-:s>", fn_trim, 1},
    {"pad", "<s-ns?:s>", fn_pad, 3},
    {"contains", "<s-(sf):b>", fn_contains, 2},
    {"match", "<s-f<s:o>n?:a<o>>", fn_match, 3},
    {"replace", "<s-(sf)(sf)n?:s>", fn_replace, 4},
    {"split", "<s-(sf)n?:a<s>>", fn_split, 3},
    {"join", "<a<s>s?:s>", fn_join, 2},
    {"base64encode", "<s-:s>", fn_base64encode, 1},
    {"base64decode", "<s-:s>", fn_base64decode, 1},
    {"encodeUrlComponent", "<s-:s>", fn_encode_url_component, 1},
    {"encodeUrl", "<s-:s>", fn_encode_url, 1},
    {"decodeUrlComponent", "<s-:s>", fn_decode_url_component, 1},
    {"decodeUrl", "<s-:s>", fn_decode_url, 1},
    {NULL, NULL, NULL, 0}};
