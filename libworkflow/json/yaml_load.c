/* YAML text to a jansson value, so YAML and JSON definitions load alike.
 *
 * AWS SAM and Serverless users write definitions in YAML; the promise is
 * that a YAML definition gives the machine its JSON twin gives. So this
 * reader builds exactly the value json_loadb would build for the JSON
 * twin, and refuses whatever has no JSON twin (infinities, NaN, complex
 * keys, unknown tags) rather than guessing.
 *
 * libyaml's event parser does the syntax; the tree is built here from the
 * events on an explicit stack (no recursion, so nesting cannot overflow
 * the C stack). Scalars resolve by the YAML 1.2 core schema, whatever
 * %YAML directive the text carries. Aliases share the anchored jansson
 * value (json_incref): cheap, but "billion laughs" texts would still
 * expand enormously for whoever walks the result, so the expanded size is
 * counted and capped, as is the nesting depth. */
#include "yaml_load.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "alloc.h"
#include "error.h"

/* Expanded nodes (aliases counted at the size of what they expand to).
 * A 1 MiB JSON definition, AWS's largest, has well under this many. */
#define MAX_NODES 1000000
/* Collections inside collections, aliases expanded. */
#define MAX_DEPTH 512

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct anchor {
  char *name;
  json_t *value; /* owned reference */
  char *text;    /* scalar's text, for use as a key; NULL: collection */
  size_t text_len;
  size_t nodes; /* expanded size */
  int height;   /* 0: scalar; collections 1 + tallest child */
  uint64_t seq; /* when the anchor was written (document order) */
} anchor;

typedef struct merge {
  size_t pos;     /* number of explicit keys written before the "<<" */
  json_t *source; /* owned: an object or an array of objects */
} merge;

typedef struct frame {
  json_t *value; /* the array, or the object of explicitly written keys */
  bool is_map;
  char *anchor; /* owned; NULL when the collection has no anchor */
  uint64_t anchor_seq;
  yaml_mark_t mark;
  size_t nodes_before;
  int height;
  /* mappings: the key waiting for its value */
  bool have_key, key_is_merge, saw_merge;
  char *key;
  size_t key_len;
  merge *merges;
  size_t nmerges, capmerges;
} frame;

typedef struct loader {
  yaml_parser_t parser;
  const char *text;
  size_t len;
  wf_error *err;
  frame *frames;
  size_t nframes, capframes;
  anchor *anchors;
  size_t nanchors, capanchors;
  size_t *slots; /* open-addressing hash of anchor index + 1; 0: empty */
  size_t nslots;
  uint64_t seq;
  size_t nodes;
  json_t *root;
} loader;

/* WF_EPARSE with a message that ends in its position, as all of ours do. */
static int fail(loader *l, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(loader *l, yaml_mark_t m, const char *fmt, ...) {
  char what[WF_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return wf__error_set_at(l->err, WF_EPARSE, (int)m.line + 1, (int)m.column + 1,
                          "%s at line %d, column %d", what, (int)m.line + 1,
                          (int)m.column + 1);
}

static int oom(loader *l, yaml_mark_t m) {
  return wf__error_set_at(l->err, WF_ENOMEM, (int)m.line + 1, (int)m.column + 1,
                          "out of memory while loading YAML at line %d, "
                          "column %d",
                          (int)m.line + 1, (int)m.column + 1);
}

/* At most `max` bytes of s for a message, cut on a UTF-8 boundary. */
static int clip(const char *s, size_t n, size_t max) {
  if (n <= max) return (int)n;
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
  return (int)max;
}

enum { SCALAR, SEQUENCE, MAPPING };

/* Check an explicit tag against the core schema and the kind of node
 * (SCALAR, SEQUENCE or MAPPING). *kind is the tag's
 * core name ("int"), or NULL when there is no tag or only the
 * non-specific "!". Errors show tags as people write them: "!!int", "!Sub". */
static int check_tag(loader *l, yaml_mark_t m, const char *tag, int node,
                     const char **kind) {
  static const char *const core[] = {"str",   "null",  "bool", "int",
                                     "float", "merge", "seq",  "map"};
  size_t plen = strlen(TAG_PREFIX);
  *kind = NULL;
  if (!tag || !strcmp(tag, "!")) return WF_OK;
  if (!strncmp(tag, TAG_PREFIX, plen)) {
    for (size_t i = 0; i < sizeof core / sizeof *core; i++) {
      if (strcmp(tag + plen, core[i])) continue;
      *kind = core[i];
      /* core[] lists the scalar tags first, then seq, then map. */
      if (node == SCALAR ? i < 6 : i == 5 + (size_t)node) return WF_OK;
      static const char *const names[] = {"a scalar", "a sequence",
                                          "a mapping"};
      return fail(l, m, "YAML tag '!!%s' cannot be used on %s", core[i],
                  names[node]);
    }
  }
  bool ours = !strncmp(tag, TAG_PREFIX, plen);
  const char *shown = ours ? tag + plen : tag;
  return fail(l, m,
              "unsupported YAML tag '%s%.*s' (only !!str, !!int, !!float, "
              "!!bool, !!null, !!seq and !!map are understood; CloudFormation "
              "functions such as !Ref or !Sub must be resolved before loading)",
              ours ? "!!" : "", clip(shown, strlen(shown), 60), shown);
}

/* ---- anchors ---------------------------------------------------------- */

static size_t hash_name(const char *s) {
  size_t h = 14695981039346656037ULL & SIZE_MAX; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static anchor *find_anchor(loader *l, const char *name) {
  if (!l->nslots) return NULL;
  for (size_t i = hash_name(name) & (l->nslots - 1);;
       i = (i + 1) & (l->nslots - 1)) {
    if (!l->slots[i]) return NULL;
    anchor *a = &l->anchors[l->slots[i] - 1];
    if (strcmp(a->name, name) == 0) return a;
  }
}

static bool grow_slots(loader *l) {
  size_t n = l->nslots ? l->nslots * 2 : 64;
  size_t *slots = wf__calloc(n, sizeof *slots);
  if (!slots) return false;
  for (size_t k = 0; k < l->nanchors; k++) {
    size_t i = hash_name(l->anchors[k].name) & (n - 1);
    while (slots[i]) i = (i + 1) & (n - 1);
    slots[i] = k + 1;
  }
  wf__free(l->slots);
  l->slots = slots;
  l->nslots = n;
  return true;
}

/* Remember an anchored node; takes a new reference to v. YAML 1.2 lets an
 * anchor be written again: an alias means the latest one written before
 * it (by where the node starts, so an inner &a beats its enclosing &a). */
static bool add_anchor(loader *l, const char *name, uint64_t seq, json_t *v,
                       const char *text, size_t text_len, size_t nodes,
                       int height) {
  anchor *a = find_anchor(l, name);
  if (a && a->seq > seq) return true;
  char *name_copy = a ? NULL : wf__strdup(name);
  char *text_copy = text ? wf__strndup(text, text_len) : NULL;
  if ((!a && !name_copy) || (text && !text_copy)) goto nomem;
  if (!a) {
    if (l->nanchors == l->capanchors) {
      size_t cap = l->capanchors ? l->capanchors * 2 : 16;
      anchor *grown = wf__realloc(l->anchors, cap * sizeof *grown);
      if (!grown) goto nomem;
      l->anchors = grown;
      l->capanchors = cap;
    }
    if ((l->nanchors + 1) * 2 > l->nslots && !grow_slots(l)) goto nomem;
    a = &l->anchors[l->nanchors++];
    memset(a, 0, sizeof *a);
    a->name = name_copy;
    size_t i = hash_name(name) & (l->nslots - 1);
    while (l->slots[i]) i = (i + 1) & (l->nslots - 1);
    l->slots[i] = l->nanchors;
  }
  json_decref(a->value);
  wf__free(a->text);
  a->value = json_incref(v);
  a->text = text_copy;
  a->text_len = text_len;
  a->nodes = nodes;
  a->height = height;
  a->seq = seq;
  return true;
nomem:
  wf__free(name_copy);
  wf__free(text_copy);
  return false;
}

/* ---- scalars (YAML 1.2 core schema) ----------------------------------- */

/* Is s[0..n) one of the '|'-separated words? */
static bool one_of(const char *s, size_t n, const char *words) {
  for (const char *w = words;; w++) {
    size_t wn = strcspn(w, "|");
    if (wn == n && !memcmp(w, s, n)) return true;
    w += wn;
    if (!*w) return false;
  }
}

/* The value of a digit in base 16 or less; 99 for a non-digit. */
static int digit(char c) {
  int lower = c | 0x20;
  return c >= '0' && c <= '9'           ? c - '0'
         : lower >= 'a' && lower <= 'f' ? lower - 'a' + 10
                                        : 99;
}

static bool all_digits(const char *s, size_t n, int base) {
  for (size_t i = 0; i < n; i++)
    if (digit(s[i]) >= base) return false;
  return n > 0;
}

/* Core-schema integer forms: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+.
 * Returns 0 when s is not an integer, 1 when *out is set, -1 when it is
 * one but does not fit in 64 bits (JSON parsing would reject it too). */
static int int_text(const char *s, size_t n, json_int_t *out) {
  int base = 10;
  bool neg = false;
  if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    base = s[1] == 'o' ? 8 : 16;
    s += 2;
    n -= 2;
  } else if (n > 0 && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s++;
    n--;
  }
  if (!all_digits(s, n, base)) return 0;
  /* Accumulate negatively so INT64_MIN fits. */
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    int d = digit(s[i]);
    if (v < (INT64_MIN + d) / base) return -1;
    v = v * base - d;
  }
  if (!neg && v == INT64_MIN) return -1;
  *out = (json_int_t)(neg ? v : -v);
  return 1;
}

/* Core-schema float forms. Returns 0: not a float; 1: finite (normalised
 * to JSON number syntax in buf, which holds n + 4 bytes); 2: .inf or .nan. */
static int float_text(const char *s, size_t n, char *buf) {
  size_t i = 0, o = 0;
  bool neg = false;
  if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (one_of(s + i, n - i, ".inf|.Inf|.INF") || one_of(s, n, ".nan|.NaN|.NAN"))
    return 2;
  if (neg) buf[o++] = '-';
  size_t int_start = i;
  while (i < n && s[i] >= '0' && s[i] <= '9') i++;
  size_t int_len = i - int_start;
  size_t frac_len = 0;
  bool dot = i < n && s[i] == '.';
  if (dot) {
    i++;
    while (i + frac_len < n && s[i + frac_len] >= '0' && s[i + frac_len] <= '9')
      frac_len++;
  }
  if (int_len == 0 && frac_len == 0) return 0; /* "." or "" */
  /* JSON allows no leading zeros and needs digits on both sides of '.'. */
  size_t skip = 0;
  while (skip + 1 < int_len && s[int_start + skip] == '0') skip++;
  if (int_len == 0) buf[o++] = '0';
  memcpy(buf + o, s + int_start + skip, int_len - skip);
  o += int_len - skip;
  if (dot) {
    buf[o++] = '.';
    if (frac_len == 0) buf[o++] = '0';
    memcpy(buf + o, s + i, frac_len);
    o += frac_len;
    i += frac_len;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    buf[o++] = s[i++];
    if (i < n && (s[i] == '-' || s[i] == '+')) buf[o++] = s[i++];
    if (!all_digits(s + i, n - i, 10)) return 0;
    memcpy(buf + o, s + i, n - i);
    o += n - i;
    i = n;
  }
  if (i != n) return 0;
  if (!dot && !memchr(buf, 'e', o) && !memchr(buf, 'E', o)) {
    buf[o++] = '.'; /* "!!float 1" is 1.0, a real, as in JSON */
    buf[o++] = '0';
  }
  buf[o] = '\0';
  return 1;
}

/* A scalar event as JSON: by its explicit tag if it has one, else as a
 * string when quoted or a block scalar, else by the core schema. */
static int scalar_value(loader *l, const yaml_event_t *ev, json_t **out) {
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  const char *tag = (const char *)ev->data.scalar.tag;
  yaml_mark_t m = ev->start_mark;
  const char *kind;
  *out = NULL;
  int rc = check_tag(l, m, tag, SCALAR, &kind);
  if (rc) return rc;
  /* Quoted, block and "!"-tagged scalars are strings; "<<" is a string
   * too when a !!merge key's text serves an anchor. */
  if (!kind && (tag || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE))
    kind = "str";
  if (kind && !strcmp(kind, "merge")) kind = "str";

  if (kind && !strcmp(kind, "str")) {
    *out = json_stringn(s, n);
    return *out ? WF_OK : oom(l, m);
  }
  if ((!kind || !strcmp(kind, "null")) && one_of(s, n, "|~|null|Null|NULL")) {
    *out = json_null();
    return WF_OK;
  }
  int b = one_of(s, n, "true|True|TRUE")      ? 1
          : one_of(s, n, "false|False|FALSE") ? 0
                                              : -1;
  if ((!kind || !strcmp(kind, "bool")) && b >= 0) {
    *out = json_boolean(b);
    return WF_OK;
  }
  json_int_t iv;
  int is_int = kind && !strcmp(kind, "float") ? 0 : int_text(s, n, &iv);
  if (is_int < 0)
    return fail(l, m,
                "YAML integer %.*s does not fit in a signed 64-bit integer",
                clip(s, n, 60), s);
  if (is_int > 0 && (!kind || !strcmp(kind, "int"))) {
    *out = json_integer(iv);
    return *out ? WF_OK : oom(l, m);
  }
  char small[128];
  char *num = n + 4 <= sizeof small ? small : wf__malloc(n + 4);
  if (!num) return oom(l, m);
  int is_float = float_text(s, n, num);
  if (is_float == 1 && (!kind || !strcmp(kind, "float"))) {
    /* jansson reads the number exactly as it reads the JSON twin: same
     * rounding, same overflow error, and no dependence on the locale's
     * decimal point (strtod has one). */
    json_error_t jerr;
    *out = json_loads(num, JSON_DECODE_ANY, &jerr);
    /* num is JSON number syntax, so overflow is the one real failure;
     * jansson reports some allocation failures without a code. */
    if (!*out && json_error_code(&jerr) != json_error_numeric_overflow)
      is_float = -1;
  }
  if (num != small) wf__free(num);
  if (*out) return WF_OK;
  if (is_float < 0) return oom(l, m);
  if (is_float > 0 && (!kind || !strcmp(kind, "float")))
    return fail(l, m, "YAML number %.*s %s", clip(s, n, 60), s,
                is_float == 2
                    ? "(infinity or NaN) cannot be represented in JSON"
                    : "is out of range for JSON");
  if (!kind) { /* a plain scalar of no other type is a string */
    *out = json_stringn(s, n);
    return *out ? WF_OK : oom(l, m);
  }
  return fail(l, m, "YAML scalar '%.*s' is not a valid !!%s", clip(s, n, 60), s,
              kind);
}

/* ---- building the tree ------------------------------------------------ */

static void frame_clear(frame *f) {
  json_decref(f->value);
  wf__free(f->anchor);
  wf__free(f->key);
  for (size_t i = 0; i < f->nmerges; i++) json_decref(f->merges[i].source);
  wf__free(f->merges);
  memset(f, 0, sizeof *f);
}

static bool is_merge_source(const json_t *v) {
  if (json_is_object(v)) return true;
  if (!json_is_array(v)) return false;
  for (size_t i = 0; i < json_array_size(v); i++)
    if (!json_is_object(json_array_get(v, i))) return false;
  return true;
}

/* Put a finished node (a new reference, always consumed) into the
 * collection being built, or make it the root. */
static int attach(loader *l, json_t *v, int height, yaml_mark_t m) {
  if (l->nframes == 0) {
    l->root = v;
    return WF_OK;
  }
  frame *top = &l->frames[l->nframes - 1];
  if (height + 1 > top->height) top->height = height + 1;
  if (!top->is_map) {
    return json_array_append_new(top->value, v) == 0 ? WF_OK : oom(l, m);
  }
  top->have_key = false;
  if (top->key_is_merge) {
    top->key_is_merge = false;
    if (!is_merge_source(v)) {
      json_decref(v);
      return fail(l, m,
                  "the value of a YAML merge key '<<' must be a mapping or "
                  "a sequence of mappings");
    }
    if (top->nmerges == top->capmerges) {
      size_t cap = top->capmerges ? top->capmerges * 2 : 4;
      merge *grown = wf__realloc(top->merges, cap * sizeof *grown);
      if (!grown) {
        json_decref(v);
        return oom(l, m);
      }
      top->merges = grown;
      top->capmerges = cap;
    }
    top->merges[top->nmerges].pos = json_object_size(top->value);
    top->merges[top->nmerges++].source = v;
    return WF_OK;
  }
  int rc = json_object_setn_new(top->value, top->key, top->key_len, v);
  wf__free(top->key);
  top->key = NULL;
  return rc == 0 ? WF_OK : oom(l, m);
}

static int count_nodes(loader *l, size_t n, yaml_mark_t m) {
  if (n > MAX_NODES - l->nodes)
    return fail(l, m,
                "YAML document expands to more than %d nodes (aliases "
                "counted at their expanded size)",
                MAX_NODES);
  l->nodes += n;
  return WF_OK;
}

/* A scalar (or an alias to one) in key position. Keys become strings
 * because JSON object keys are strings: the key is the text as written,
 * so `1: x` gives "1" and `0x1F: x` gives "0x1F", the spelling its JSON
 * twin would need. */
static int take_key(loader *l, const char *s, size_t n, bool merge_key,
                    yaml_mark_t m) {
  frame *top = &l->frames[l->nframes - 1];
  /* YAML requires keys to be unique, and silently keeping one of two
   * values (as JSON parsers often do) would hide a mistake. */
  if (merge_key ? top->saw_merge : json_object_getn(top->value, s, n) != NULL)
    return fail(l, m, "duplicate mapping key '%.*s'", clip(s, n, 60), s);
  if (merge_key) {
    top->saw_merge = top->key_is_merge = true;
  } else {
    top->key = wf__strndup(s, n);
    if (!top->key) return oom(l, m);
    top->key_len = n;
  }
  top->have_key = true;
  return WF_OK;
}

static bool in_key_position(const loader *l) {
  return l->nframes && l->frames[l->nframes - 1].is_map &&
         !l->frames[l->nframes - 1].have_key;
}

static int on_scalar(loader *l, const yaml_event_t *ev) {
  yaml_mark_t m = ev->start_mark;
  const char *anchor_name = (const char *)ev->data.scalar.anchor;
  int rc = count_nodes(l, 1, m);
  if (rc) return rc;
  json_t *v = NULL;
  /* Keys need the value only to check an explicit tag or to serve an
   * anchor; every other value is needed. */
  bool key = in_key_position(l);
  const char *tag = (const char *)ev->data.scalar.tag;
  bool merge_tag = tag && !strcmp(tag, TAG_PREFIX "merge");
  if (merge_tag && !key)
    return fail(l, m,
                "the YAML tag '!!merge' is only allowed on a mapping key");
  if (!key || tag || anchor_name) {
    rc = scalar_value(l, ev, &v);
    if (rc) return rc;
  }
  const char *s = (const char *)ev->data.scalar.value;
  size_t n = ev->data.scalar.length;
  if (anchor_name && !add_anchor(l, anchor_name, ++l->seq, v, s, n, 1, 0)) {
    json_decref(v);
    return oom(l, m);
  }
  if (!key) return attach(l, v, 0, m);
  json_decref(v);
  bool merge_key =
      merge_tag || (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                    n == 2 && !memcmp(s, "<<", 2));
  return take_key(l, s, n, merge_key, m);
}

static int on_alias(loader *l, const yaml_event_t *ev) {
  yaml_mark_t m = ev->start_mark;
  const char *name = (const char *)ev->data.alias.anchor;
  anchor *a = find_anchor(l, name);
  int nn = clip(name, strlen(name), 60);
  for (size_t i = l->nframes; i-- > 0;) {
    frame *f = &l->frames[i];
    if (f->anchor && !strcmp(f->anchor, name) && (!a || f->anchor_seq > a->seq))
      return fail(l, m,
                  "YAML alias '*%.*s' refers to a node that contains it "
                  "(recursive alias)",
                  nn, name);
  }
  if (!a)
    return fail(l, m, "YAML alias '*%.*s' has no anchor '&%.*s' before it", nn,
                name, nn, name);
  if (in_key_position(l)) {
    if (!a->text)
      return fail(l, m,
                  "mapping keys must be scalars, but this alias is a "
                  "sequence or mapping");
    int rc = count_nodes(l, 1, m);
    return rc ? rc : take_key(l, a->text, a->text_len, false, m);
  }
  if (l->nframes + (size_t)a->height > MAX_DEPTH)
    return fail(l, m,
                "YAML nesting is deeper than %d levels (aliases expanded)",
                MAX_DEPTH);
  int rc = count_nodes(l, a->nodes, m);
  return rc ? rc : attach(l, json_incref(a->value), a->height, m);
}

static int on_start(loader *l, const yaml_event_t *ev, bool is_map) {
  yaml_mark_t m = ev->start_mark;
  const char *tag = (const char *)(is_map ? ev->data.mapping_start.tag
                                          : ev->data.sequence_start.tag);
  const char *anchor_name =
      (const char *)(is_map ? ev->data.mapping_start.anchor
                            : ev->data.sequence_start.anchor);
  if (in_key_position(l))
    return fail(l, m,
                "mapping keys must be scalars, but this key is a "
                "sequence or mapping");
  const char *kind;
  int rc = check_tag(l, m, tag, is_map ? MAPPING : SEQUENCE, &kind);
  if (rc) return rc;
  if (l->nframes >= MAX_DEPTH)
    return fail(l, m, "YAML nesting is deeper than %d levels", MAX_DEPTH);
  size_t before = l->nodes;
  rc = count_nodes(l, 1, m);
  if (rc) return rc;
  if (l->nframes == l->capframes) {
    size_t cap = l->capframes ? l->capframes * 2 : 16;
    frame *grown = wf__realloc(l->frames, cap * sizeof *grown);
    if (!grown) return oom(l, m);
    l->frames = grown;
    l->capframes = cap;
  }
  frame *f = &l->frames[l->nframes];
  memset(f, 0, sizeof *f);
  f->is_map = is_map;
  f->mark = m;
  f->nodes_before = before;
  f->height = 1;
  f->value = is_map ? json_object() : json_array();
  if (anchor_name) {
    f->anchor = wf__strdup(anchor_name);
    f->anchor_seq = ++l->seq;
  }
  if (!f->value || (anchor_name && !f->anchor)) {
    frame_clear(f);
    return oom(l, m);
  }
  l->nframes++;
  return WF_OK;
}

/* Apply "<<" merges (yaml.org/type/merge.html): keys written in the
 * mapping win over merged ones, and among merged mappings the earlier
 * wins. Merged keys take the place of the "<<" in key order. */
static int merge_one(json_t *out, json_t *explicit_keys, json_t *src) {
  for (void *it = json_object_iter(src); it;
       it = json_object_iter_next(src, it)) {
    const char *k = json_object_iter_key(it);
    size_t kn = json_object_iter_key_len(it);
    if (json_object_getn(explicit_keys, k, kn) || json_object_getn(out, k, kn))
      continue;
    if (json_object_setn(out, k, kn, json_object_iter_value(it))) return -1;
  }
  return 0;
}

static int apply_merges(loader *l, frame *f, json_t **out) {
  json_t *res = json_object();
  if (!res) return oom(l, f->mark);
  size_t pos = 0, next = 0;
  void *it = json_object_iter(f->value);
  for (;;) {
    for (; next < f->nmerges && f->merges[next].pos == pos; next++) {
      json_t *src = f->merges[next].source;
      if (json_is_object(src)) {
        if (merge_one(res, f->value, src)) goto nomem;
      } else {
        for (size_t i = 0; i < json_array_size(src); i++)
          if (merge_one(res, f->value, json_array_get(src, i))) goto nomem;
      }
    }
    if (!it) break;
    if (json_object_setn(res, json_object_iter_key(it),
                         json_object_iter_key_len(it),
                         json_object_iter_value(it)))
      goto nomem;
    it = json_object_iter_next(f->value, it);
    pos++;
  }
  *out = res;
  return WF_OK;
nomem:
  json_decref(res);
  return oom(l, f->mark);
}

static int on_end(loader *l, const yaml_event_t *ev) {
  frame f = l->frames[--l->nframes]; /* its resources are ours now */
  json_t *v = NULL;
  int rc = WF_OK;
  if (f.nmerges) {
    rc = apply_merges(l, &f, &v);
  } else {
    v = f.value;
    f.value = NULL;
  }
  int height = f.height;
  yaml_mark_t start = f.mark; /* where the collection began */
  if (rc == WF_OK && f.anchor &&
      !add_anchor(l, f.anchor, f.anchor_seq, v, NULL, 0,
                  l->nodes - f.nodes_before, height))
    rc = oom(l, ev->start_mark);
  frame_clear(&f);
  if (rc) {
    json_decref(v);
    return rc;
  }
  return attach(l, v, height, start);
}

/* ---- libyaml's own errors ---------------------------------------------- */

/* Reader errors (bad UTF-8, control characters) carry a byte offset, not
 * a mark: count lines and characters up to it as libyaml would. A bad
 * trailing octet is reported at the character it should have completed
 * (the 0xE9 of Latin-1 "caf\xE9\n", not the newline after it). */
static yaml_mark_t mark_at_offset(const loader *l, size_t offset) {
  const unsigned char *t = (const unsigned char *)l->text;
  size_t lead = offset;
  while (lead > 0 && offset - lead < 3 && lead <= l->len &&
         (t[lead - 1] & 0xC0) == 0x80)
    lead--;
  if (lead > 0 && lead <= l->len && t[lead - 1] >= 0xC0) {
    unsigned char c = t[lead - 1];
    size_t width = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (lead - 1 + width > offset) offset = lead - 1;
  }
  yaml_mark_t m = {offset, 0, 0};
  for (size_t i = 0; i < offset && i < l->len; i++) {
    unsigned char c = (unsigned char)l->text[i];
    if (c == '\n') {
      m.line++;
      m.column = 0;
    } else if ((c & 0xC0) != 0x80) {
      m.column++;
    }
  }
  return m;
}

static int parser_error(loader *l) {
  yaml_parser_t *p = &l->parser;
  const char *problem = p->problem ? p->problem : "unknown error";
  yaml_mark_t m = p->problem_mark;
  switch (p->error) {
    case YAML_MEMORY_ERROR:
      return oom(l, m);
    case YAML_READER_ERROR:
      m = mark_at_offset(l, p->problem_offset);
      if (p->problem_value != -1)
        return fail(l, m, "YAML text is not valid: %s (#%X)", problem,
                    (unsigned)p->problem_value);
      return fail(l, m, "YAML text is not valid: %s", problem);
    default:
      break;
  }
  /* The context names the construct being read, which often says more
   * than the problem ("did not find expected key" while parsing a block
   * mapping that starts on another line). */
  if (p->context)
    return fail(l, m, "YAML syntax error: %s (%s at line %d, column %d)",
                problem, p->context, (int)p->context_mark.line + 1,
                (int)p->context_mark.column + 1);
  return fail(l, m, "YAML syntax error: %s", problem);
}

/* ---- the entry point --------------------------------------------------- */

static int run(loader *l) {
  int documents = 0;
  for (;;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&l->parser, &ev)) return parser_error(l);
    int rc = WF_OK;
    bool done = false;
    switch (ev.type) {
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1)
          rc = fail(l, ev.start_mark,
                    "YAML text holds a second document (line %d); a "
                    "definition must be a single document",
                    (int)ev.start_mark.line + 1);
        break;
      case YAML_STREAM_END_EVENT:
        if (documents == 0)
          rc = fail(l, ev.start_mark, "YAML text holds no document");
        done = true;
        break;
      case YAML_ALIAS_EVENT:
        rc = on_alias(l, &ev);
        break;
      case YAML_SCALAR_EVENT:
        rc = on_scalar(l, &ev);
        break;
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT:
        rc = on_start(l, &ev, ev.type == YAML_MAPPING_START_EVENT);
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        rc = on_end(l, &ev);
        break;
      default: /* stream start, document end, no event */
        break;
    }
    yaml_event_delete(&ev);
    if (rc || done) return rc;
  }
}

int wf__yaml_parse(json_t **out, const char *text, size_t len, wf_error *err) {
  *out = NULL;
  if (!text) { /* libyaml asserts on a NULL input, even an empty one */
    text = "";
    len = 0;
  }
  loader l;
  memset(&l, 0, sizeof l);
  l.text = text;
  l.len = len;
  l.err = err;
  if (!yaml_parser_initialize(&l.parser))
    return wf__error_set(err, WF_ENOMEM, NULL,
                         "out of memory creating the YAML parser");
  yaml_parser_set_input_string(&l.parser, (const unsigned char *)text, len);
  int rc = run(&l);
  if (rc == WF_OK) {
    *out = l.root;
    l.root = NULL;
  }
  for (size_t i = 0; i < l.nframes; i++) frame_clear(&l.frames[i]);
  wf__free(l.frames);
  for (size_t i = 0; i < l.nanchors; i++) {
    wf__free(l.anchors[i].name);
    wf__free(l.anchors[i].text);
    json_decref(l.anchors[i].value);
  }
  wf__free(l.anchors);
  wf__free(l.slots);
  json_decref(l.root);
  yaml_parser_delete(&l.parser);
  return rc;
}
