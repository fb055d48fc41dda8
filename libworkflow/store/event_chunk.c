/* History event chunks (event_chunk.h). */
#include "event_chunk.h"

#include <stdint.h>
#include <string.h>

#include "alloc.h"

/* The first byte of a chunk: its format. */
#define CHUNK_FORMAT 1

/* A JSON string literal at least this long is remembered for the events
 * after it; a shared prefix at least this long is copied rather than
 * written again. */
#define LONG_LITERAL 128
#define MIN_COPY 64
/* How many of the latest literals a new one is compared with. */
#define CANDIDATES 8

enum { SEG_RAW = 0, SEG_COPY = 1, SEG_MARK = 2, SEG_END = 3 };

static void put_varint(wf__strbuf *b, uint64_t v) {
  char buf[10];
  size_t n = 0;
  do {
    buf[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  wf__strbuf_append(b, buf, n);
}

static void put_seg(wf__strbuf *b, unsigned kind, size_t len) {
  put_varint(b, ((uint64_t)len << 2) | kind);
}

/* One past the closing quote of the JSON string literal whose contents
 * continue at p, p being at a token boundary inside it (not within an
 * escape); NULL when it is not closed. */
static const char *literal_end(const char *p, const char *end) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  while (p < end) {
    /* Eight bytes at a time while none is a quote or a backslash. */
    while (end - p >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
      if (((q - ones) & ~q & highs) | ((b - ones) & ~b & highs)) break;
      p += 8;
    }
    if (p >= end) break;
    if (*p == '"') return p + 1;
    p += *p == '\\' ? 2 : 1;
  }
  return NULL;
}

/* A token boundary at or before p inside a literal: the start of the run
 * of backslashes p may be in (such a run always starts at one). */
static const char *boundary(const char *p, const char *min) {
  while (p > min && p[-1] == '\\') p--;
  return p;
}

static size_t common_prefix(const char *a, const char *b, size_t n) {
  size_t i = 0;
  while (i + 32 <= n && memcmp(a + i, b + i, 32) == 0) i += 32;
  while (i < n && a[i] == b[i]) i++;
  return i;
}

/* What the encoder remembers of a chunk's long literals. */
typedef struct literals {
  const char *text[CANDIDATES];
  size_t len[CANDIDATES];
  uint64_t count; /* literals marked so far: the next one's index */
} literals;

/* The remembered literal sharing the longest prefix with the text at q
 * (at most `room` bytes); its length in *best. */
static uint64_t best_candidate(const literals *lits, const char *q,
                               size_t room, size_t *best) {
  uint64_t best_index = 0;
  *best = 0;
  unsigned have = lits->count < CANDIDATES ? (unsigned)lits->count
                                           : CANDIDATES;
  for (unsigned k = 0; k < have; k++) {
    uint64_t index = lits->count - 1 - k;
    unsigned slot = (unsigned)(index % CANDIDATES);
    size_t n = lits->len[slot] < room ? lits->len[slot] : room;
    if (n < MIN_COPY || memcmp(lits->text[slot], q, 8) != 0) continue;
    size_t c = common_prefix(lits->text[slot], q, n);
    if (c > *best) {
      *best = c;
      best_index = index;
    }
  }
  return best_index;
}

static void put_raw(wf__strbuf *b, const char *s, size_t n) {
  if (!n) return;
  put_seg(b, SEG_RAW, n);
  wf__strbuf_append(b, s, n);
}

/* One event's JSON as segments: raw text, with each long string literal
 * marked, and copied from an earlier literal where they share a long
 * prefix (an event's output is often the next one's input, or it with a
 * field added). */
static void put_json(wf__strbuf *b, const char *json, literals *lits) {
  const char *p = json, *end = json + strlen(json), *raw = json;
  while (p < end) {
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (!q) break;
    size_t best = 0;
    uint64_t index = 0;
    if ((size_t)(end - q) >= LONG_LITERAL)
      index = best_candidate(lits, q, (size_t)(end - q), &best);
    /* A literal ends where an equal prefix ends it: the whole of the
     * candidate matched means the same literal. */
    const char *e;
    if (best >= MIN_COPY && best == lits->len[index % CANDIDATES])
      e = q + best;
    else
      e = literal_end(best >= MIN_COPY ? boundary(q + best, q + 1) : q + 1,
                      end);
    if (!e) break;
    size_t len = (size_t)(e - q);
    if (len < LONG_LITERAL) {
      p = e;
      continue;
    }
    put_raw(b, raw, (size_t)(q - raw));
    size_t done = 0;
    if (best >= MIN_COPY) {
      put_seg(b, SEG_COPY, best);
      put_varint(b, index);
      done = best;
    }
    put_raw(b, q + done, len - done);
    put_seg(b, SEG_MARK, len);
    unsigned slot = (unsigned)(lits->count % CANDIDATES);
    lits->text[slot] = q;
    lits->len[slot] = len;
    lits->count++;
    p = raw = e;
  }
  put_raw(b, raw, (size_t)(end - raw));
  put_seg(b, SEG_END, 0);
}

/* The opening of an event's JSON as the engine writes it, from the fields
 * the chunk keeps anyway: {"timestamp":S.mmm,"type":"T","id":I,
 * "previousEventId":P */
static void put_opening(wf__strbuf *b, int64_t id, int64_t prev, int64_t ts,
                        const char *type, size_t type_len) {
  wf__strbuf_puts(b, "{\"timestamp\":");
  wf__strbuf_put_int(b, (long long)(ts / 1000));
  char ms[4] = {'.', (char)('0' + ts % 1000 / 100),
                (char)('0' + ts % 100 / 10), (char)('0' + ts % 10)};
  wf__strbuf_append(b, ms, 4);
  wf__strbuf_puts(b, ",\"type\":\"");
  wf__strbuf_append(b, type, type_len);
  wf__strbuf_puts(b, "\",\"id\":");
  wf__strbuf_put_int(b, (long long)id);
  wf__strbuf_puts(b, ",\"previousEventId\":");
  wf__strbuf_put_int(b, (long long)prev);
}

void wf__event_chunk_encode(wf__strbuf *b, const wf_store_event *events,
                            size_t n) {
  wf__strbuf_putc(b, CHUNK_FORMAT);
  literals lits = {0};
  wf__strbuf opening = WF__STRBUF_INIT;
  for (size_t i = 0; i < n; i++) {
    const wf_store_event *e = &events[i];
    const char *type = e->type ? e->type : "", *json = e->json ? e->json : "";
    size_t type_len = strlen(type);
    put_varint(b, (uint64_t)e->id);
    put_varint(b, (uint64_t)e->previous_id);
    put_varint(b, (uint64_t)e->timestamp_ms);
    /* The opening is left out when it is exactly what the decoder would
     * write back (flagged in the type's length). */
    bool elide = false;
    if (e->id >= 0 && e->previous_id >= 0 && e->timestamp_ms >= 0) {
      wf__strbuf_reset(&opening);
      put_opening(&opening, e->id, e->previous_id, e->timestamp_ms, type,
                  type_len);
      elide = !opening.oom &&
              strncmp(json, opening.data, opening.len) == 0;
    }
    put_varint(b, ((uint64_t)type_len << 1) | elide);
    wf__strbuf_append(b, type, type_len);
    put_json(b, elide ? json + opening.len : json, &lits);
  }
  wf__strbuf_free(&opening);
}

/* ---- decoding ---- */

typedef struct reader {
  const unsigned char *p, *end;
} reader;

static bool get_varint(reader *r, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
    unsigned char c = *r->p++;
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* The type: its bytes, and whether the JSON's opening was left out. */
static bool get_type(reader *r, const unsigned char **start, size_t *n,
                     bool *elided) {
  uint64_t v;
  if (!get_varint(r, &v) || (v >> 1) > (uint64_t)(r->end - r->p))
    return false;
  *start = r->p;
  *n = (size_t)(v >> 1);
  *elided = v & 1;
  r->p += *n;
  return true;
}

/* A decoded event: its strings as offsets into the output buffer. */
typedef struct span {
  int64_t id, prev, ts;
  size_t type, json;
} span;

/* A literal, where the decoded text holds it. */
typedef struct lit {
  size_t at, len;
} lit;

typedef struct decoder {
  reader r;
  wf__strbuf out; /* the events' types and JSON texts, NUL-separated */
  span *spans;
  size_t nspans, cap;
  lit *lits;
  size_t nlits, litcap;
} decoder;

static bool push(void **v, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return true;
  size_t c = *cap ? *cap * 2 : 16;
  void *nv = wf__realloc(*v, c * size);
  if (!nv) return false;
  *v = nv;
  *cap = c;
  return true;
}

/* One event's JSON from its segments, appended to d->out. */
static bool get_json(decoder *d) {
  size_t start = d->out.len;
  for (;;) {
    uint64_t tag, index;
    if (!get_varint(&d->r, &tag)) return false;
    uint64_t len = tag >> 2;
    switch (tag & 3) {
      case SEG_RAW:
        if (len > (uint64_t)(d->r.end - d->r.p)) return false;
        wf__strbuf_append(&d->out, (const char *)d->r.p, (size_t)len);
        d->r.p += len;
        break;
      case SEG_COPY:
        if (!get_varint(&d->r, &index) || index >= d->nlits ||
            len > d->lits[index].len)
          return false;
        /* Reserve first: appending from the buffer itself. */
        if (!wf__strbuf_reserve(&d->out, (size_t)len)) return false;
        wf__strbuf_append(&d->out, d->out.data + d->lits[index].at,
                          (size_t)len);
        break;
      case SEG_MARK:
        if (len > d->out.len - start ||
            !push((void **)&d->lits, &d->litcap, d->nlits, sizeof *d->lits))
          return false;
        d->lits[d->nlits++] = (lit){d->out.len - (size_t)len, (size_t)len};
        break;
      default: /* SEG_END */
        return len == 0;
    }
    if (d->out.oom) return false;
  }
  return true;
}

static bool decode_all(decoder *d) {
  if (d->r.p == d->r.end || *d->r.p++ != CHUNK_FORMAT) return false;
  while (d->r.p < d->r.end) {
    uint64_t id, prev, ts;
    const unsigned char *type;
    size_t type_len;
    bool elided;
    if (!get_varint(&d->r, &id) || !get_varint(&d->r, &prev) ||
        !get_varint(&d->r, &ts) ||
        !get_type(&d->r, &type, &type_len, &elided) ||
        (elided && (id > INT64_MAX || prev > INT64_MAX || ts > INT64_MAX)) ||
        !push((void **)&d->spans, &d->cap, d->nspans, sizeof *d->spans))
      return false;
    span *s = &d->spans[d->nspans++];
    s->id = (int64_t)id;
    s->prev = (int64_t)prev;
    s->ts = (int64_t)ts;
    s->type = d->out.len;
    wf__strbuf_append(&d->out, (const char *)type, type_len);
    wf__strbuf_putc(&d->out, '\0');
    s->json = d->out.len;
    if (elided)
      put_opening(&d->out, (int64_t)id, (int64_t)prev, (int64_t)ts,
                  (const char *)type, type_len);
    if (!get_json(d)) return false;
    wf__strbuf_putc(&d->out, '\0');
    if (d->out.oom) return false;
  }
  return true;
}

int wf__event_chunk_decode(const void *data, size_t len, bool reverse,
                           wf_store_event_cb fn, void *arg) {
  /* Not even the format byte (SQLite hands an empty blob as NULL). */
  if (!data || !len) return -1;
  decoder d = {.r = {data, (const unsigned char *)data + len},
               .out = WF__STRBUF_INIT};
  bool ok = decode_all(&d);
  for (size_t k = 0; ok && k < d.nspans; k++) {
    const span *s = &d.spans[reverse ? d.nspans - 1 - k : k];
    wf_store_event e = {NULL, s->id, s->prev, s->ts, d.out.data + s->type,
                        d.out.data + s->json};
    if (fn(&e, arg)) break;
  }
  wf__strbuf_free(&d.out);
  wf__free(d.spans);
  wf__free(d.lits);
  return ok ? 0 : -1;
}

void wf__event_reader_init(wf__event_reader *r, const char *arn,
                           int64_t from_id, bool reverse, size_t limit,
                           wf_store_event_cb cb, void *payload) {
  *r = (wf__event_reader){arn,   reverse ? (from_id > 0 ? from_id : INT64_MAX)
                                         : from_id,
                          reverse, limit, 0, cb, payload, false};
}

static int send_event(const wf_store_event *e, void *p) {
  wf__event_reader *r = p;
  if (r->reverse ? e->id > r->from : e->id < r->from) return 0;
  wf_store_event ev = *e;
  ev.execution_arn = r->arn;
  r->sent++;
  if (r->cb(&ev, r->payload) || (r->limit && r->sent >= r->limit))
    r->stop = true;
  return r->stop;
}

int wf__event_reader_chunk(wf__event_reader *r, const void *data,
                           size_t len) {
  return wf__event_chunk_decode(data, len, r->reverse, send_event, r);
}
