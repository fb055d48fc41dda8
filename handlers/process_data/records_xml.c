/* xml records: each record is one well-formed XML 1.0 document. A small
 * recursive-descent checker covers what well-formedness means for such
 * records: one root element, matching and properly nested tags, names,
 * attributes (quoted, unique per element, no '<'), character and
 * predefined entity references, comments, processing instructions, CDATA
 * sections and the XML declaration. DOCTYPE is refused: its entities are
 * how "billion laughs" and external-entity attacks get in, and records
 * have no use for it. Names are checked on ASCII; any non-ASCII byte is
 * accepted as a name character (the input is already valid UTF-8). */
#include <string.h>
#include <strings.h>

#include "records.h"

enum { ELEMENTS, ATTRIBUTES, MAX_DEPTH };

#define XML_DEPTH_MAX 256
#define XML_ATTRS_MAX 256

typedef struct span {
  size_t off, len;
} span;

typedef struct xml {
  const char *s;
  size_t n, i;
  pd_scan *scan;
  span open[XML_DEPTH_MAX]; /* names of the open elements */
  size_t depth;
  int roots;                /* root elements seen */
  /* Text of an element without children, for the numeric statistics. */
  bool leaf, plain;
  span text;
} xml;

static bool fail(xml *x, size_t at, const char *what) {
  return pd_reject(x->scan, "xml: %s at offset %zu", what, at);
}

static bool starts(const xml *x, const char *lit) {
  size_t l = strlen(lit);
  return x->n - x->i >= l && memcmp(x->s + x->i, lit, l) == 0;
}

static bool name_start(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         c == ':' || c >= 0x80;
}

static bool name_char(unsigned char c) {
  return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_space(xml *x) {
  size_t from = x->i;
  while (x->i < x->n && is_space(x->s[x->i])) x->i++;
  return x->i - from;
}

static bool name(xml *x, span *out) {
  if (x->i >= x->n || !name_start((unsigned char)x->s[x->i]))
    return fail(x, x->i, "expected a name");
  out->off = x->i;
  while (x->i < x->n && name_char((unsigned char)x->s[x->i])) x->i++;
  out->len = x->i - out->off;
  return true;
}

static bool same(const xml *x, span a, span b) {
  return a.len == b.len && memcmp(x->s + a.off, x->s + b.off, a.len) == 0;
}

/* XML 1.0's Char production, for character references. */
static bool xml_char(unsigned long c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* "&...;" at x->i: a character reference or one of the five predefined
 * entities (no DTD can declare others). */
static bool reference(xml *x) {
  static const char *const predefined[] = {"amp", "lt", "gt", "quot", "apos"};
  size_t at = x->i++;
  if (x->i < x->n && x->s[x->i] == '#') {
    int base = 10;
    if (++x->i < x->n && x->s[x->i] == 'x') base = 16, x->i++;
    unsigned long v = 0;
    size_t digits = 0;
    for (; x->i < x->n && x->s[x->i] != ';'; x->i++, digits++) {
      char c = x->s[x->i];
      int d = c >= '0' && c <= '9'                ? c - '0'
              : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
              : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                   : -1;
      if (d < 0) return fail(x, at, "malformed character reference");
      if (v <= 0x10FFFF) v = v * (unsigned long)base + (unsigned long)d;
    }
    if (x->i >= x->n || digits == 0)
      return fail(x, at, "malformed character reference");
    if (!xml_char(v))
      return fail(x, at, "character reference to a character XML forbids");
    x->i++;
    return true;
  }
  span nm;
  if (!name(x, &nm) || x->i >= x->n || x->s[x->i] != ';')
    return fail(x, at, "malformed entity reference");
  x->i++;
  for (size_t k = 0; k < sizeof predefined / sizeof *predefined; k++)
    if (nm.len == strlen(predefined[k]) &&
        memcmp(x->s + nm.off, predefined[k], nm.len) == 0)
      return true;
  return pd_reject(x->scan, "xml: undefined entity &%.*s; at offset %zu",
                   (int)(nm.len > 40 ? 40 : nm.len), x->s + nm.off, at);
}

/* Skip to just past `end`; fail with `what` when it never comes. */
static bool skip_past(xml *x, size_t at, const char *end, const char *what) {
  const char *hit = memmem(x->s + x->i, x->n - x->i, end, strlen(end));
  if (!hit) return fail(x, at, what);
  x->i = (size_t)(hit - x->s) + strlen(end);
  return true;
}

static bool comment(xml *x) {
  size_t at = x->i;
  x->i += 4; /* "<!--" */
  const char *hit = memmem(x->s + x->i, x->n - x->i, "--", 2);
  if (!hit) return fail(x, at, "unterminated comment");
  x->i = (size_t)(hit - x->s) + 2;
  if (x->i >= x->n || x->s[x->i] != '>')
    return fail(x, x->i - 2, "'--' inside a comment");
  x->i++;
  return true;
}

/* "<?target ...?>"; the target "xml" (any case) is the XML declaration,
 * allowed only as the very first thing in the record. */
static bool processing_instruction(xml *x) {
  size_t at = x->i;
  x->i += 2;
  span target;
  if (!name(x, &target)) return false;
  if (target.len == 3 && strncasecmp(x->s + target.off, "xml", 3) == 0 &&
      at != 0)
    return fail(x, at, "XML declaration not at the start of the record");
  if (!skip_space(x) && !starts(x, "?>"))
    return fail(x, x->i, "expected white space after the target of a "
                         "processing instruction");
  return skip_past(x, at, "?>", "unterminated processing instruction");
}

static bool attribute_value(xml *x) {
  if (x->i >= x->n || (x->s[x->i] != '"' && x->s[x->i] != '\''))
    return fail(x, x->i, "expected a quoted attribute value");
  char q = x->s[x->i];
  size_t at = x->i++;
  while (x->i < x->n && x->s[x->i] != q) {
    if (x->s[x->i] == '<') return fail(x, x->i, "'<' in an attribute value");
    if (x->s[x->i] == '&') {
      if (!reference(x)) return false;
    } else {
      x->i++;
    }
  }
  if (x->i >= x->n) return fail(x, at, "unterminated attribute value");
  x->i++;
  return true;
}

static bool start_tag(xml *x) {
  size_t at = x->i++;
  span nm;
  if (!name(x, &nm)) return false;
  if (x->depth == 0 && x->roots++ > 0)
    return fail(x, at, "a second root element");
  span attrs[XML_ATTRS_MAX];
  size_t nattrs = 0;
  for (;;) {
    size_t ws = skip_space(x);
    if (x->i >= x->n) return fail(x, at, "unterminated start tag");
    if (starts(x, "/>") || x->s[x->i] == '>') break;
    if (!ws) return fail(x, x->i, "expected white space before an attribute");
    span an;
    if (!name(x, &an)) return false;
    for (size_t k = 0; k < nattrs; k++)
      if (same(x, attrs[k], an))
        return pd_reject(x->scan, "xml: duplicate attribute %.*s at offset %zu",
                         (int)(an.len > 40 ? 40 : an.len), x->s + an.off,
                         an.off);
    if (nattrs == XML_ATTRS_MAX)
      return fail(x, an.off, "too many attributes on one element");
    attrs[nattrs++] = an;
    skip_space(x);
    if (x->i >= x->n || x->s[x->i] != '=')
      return fail(x, x->i, "expected '=' after an attribute name");
    x->i++;
    skip_space(x);
    if (!attribute_value(x)) return false;
  }
  x->scan->counters[ELEMENTS]++;
  x->scan->counters[ATTRIBUTES] += nattrs;
  uint64_t level = x->depth + 1;
  if (level > x->scan->counters[MAX_DEPTH]) x->scan->counters[MAX_DEPTH] = level;
  x->leaf = false; /* the parent now has a child */
  if (x->s[x->i] == '/') {
    x->i += 2;
    return true;
  }
  x->i++;
  if (x->depth == XML_DEPTH_MAX)
    return fail(x, at, "elements nested too deeply (limit 256)");
  x->open[x->depth++] = nm;
  x->leaf = x->plain = true;
  x->text = (span){0, 0};
  return true;
}

static bool end_tag(xml *x) {
  size_t at = x->i;
  x->i += 2;
  span nm;
  if (!name(x, &nm)) return false;
  skip_space(x);
  if (x->i >= x->n || x->s[x->i] != '>')
    return fail(x, x->i, "expected '>' to close an end tag");
  x->i++;
  int shown = (int)(nm.len > 40 ? 40 : nm.len);
  if (x->depth == 0)
    return pd_reject(x->scan, "xml: end tag </%.*s> at offset %zu has no "
                     "start tag", shown, x->s + nm.off, at);
  span top = x->open[x->depth - 1];
  if (!same(x, top, nm))
    return pd_reject(x->scan, "xml: end tag </%.*s> at offset %zu does not "
                     "match <%.*s>", shown, x->s + nm.off, at,
                     (int)(top.len > 40 ? 40 : top.len), x->s + top.off);
  double v;
  if (x->leaf && x->plain && x->text.len &&
      pd_number_parse(x->s + x->text.off, x->text.len, &v))
    pd_numeric_add(&x->scan->numeric, v);
  x->leaf = false;
  x->depth--;
  return true;
}

/* Character data up to the next '<' or '&'. Outside the root element only
 * white space may appear. */
static bool char_data(xml *x) {
  size_t from = x->i;
  while (x->i < x->n && x->s[x->i] != '<' && x->s[x->i] != '&') {
    if (x->depth == 0 && !is_space(x->s[x->i]))
      return fail(x, x->i, "text outside the root element");
    if (starts(x, "]]>")) return fail(x, x->i, "']]>' in text");
    x->i++;
  }
  if (x->leaf) {
    if (x->text.len) x->plain = false; /* text split by a comment or PI */
    x->text = (span){from, x->i - from};
  }
  return true;
}

static bool markup(xml *x) {
  if (starts(x, "<!--")) return comment(x);
  if (starts(x, "<?")) return processing_instruction(x);
  if (starts(x, "<![CDATA[")) {
    if (x->depth == 0)
      return fail(x, x->i, "CDATA section outside the root element");
    x->plain = false;
    return skip_past(x, x->i, "]]>", "unterminated CDATA section");
  }
  if (starts(x, "<!DOCTYPE"))
    return fail(x, x->i, "DOCTYPE declarations are not supported");
  if (starts(x, "<!")) return fail(x, x->i, "unexpected '<!'");
  if (starts(x, "</")) return end_tag(x);
  return start_tag(x);
}

bool pd_check_xml(const json_t *record, pd_run *run, pd_scan *scan) {
  (void)run;
  xml x = {.scan = scan};
  if (!pd_record_string(record, "xml", scan, &x.s, &x.n)) return false;
  /* XML 1.0 forbids these C0 controls everywhere, even as text. */
  for (size_t k = 0; k < x.n; k++) {
    unsigned char c = (unsigned char)x.s[k];
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
      return pd_reject(scan, "xml: control character U+%04X at offset %zu",
                       (unsigned)c, k);
  }
  while (x.i < x.n) {
    bool ok;
    if (x.s[x.i] == '<') {
      ok = markup(&x);
    } else if (x.s[x.i] == '&') {
      ok = x.depth ? reference(&x) : fail(&x, x.i, "text outside the root "
                                                   "element");
      x.plain = false;
    } else {
      ok = char_data(&x);
    }
    if (!ok) return false;
  }
  if (x.depth) {
    span top = x.open[x.depth - 1];
    return pd_reject(scan, "xml: element <%.*s> is not closed",
                     (int)(top.len > 40 ? 40 : top.len), x.s + top.off);
  }
  if (!x.roots) return pd_reject(scan, "xml: no root element");
  scan->canon = (const unsigned char *)x.s;
  scan->canon_len = x.n;
  return true;
}
