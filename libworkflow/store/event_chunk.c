/* History event chunks (event_chunk.h). */
#include "event_chunk.h"

#include <stdint.h>
#include <string.h>

#include "alloc.h"

static void put_varint(wf__strbuf *b, uint64_t v) {
  char buf[10];
  size_t n = 0;
  do {
    buf[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  wf__strbuf_append(b, buf, n);
}

static void put_bytes(wf__strbuf *b, const char *s) {
  size_t n = s ? strlen(s) : 0;
  put_varint(b, n);
  wf__strbuf_append(b, s ? s : "", n);
}

void wf__event_chunk_encode(wf__strbuf *b, const wf_store_event *events,
                            size_t n) {
  for (size_t i = 0; i < n; i++) {
    const wf_store_event *e = &events[i];
    put_varint(b, (uint64_t)e->id);
    put_varint(b, (uint64_t)e->previous_id);
    put_varint(b, (uint64_t)e->timestamp_ms);
    put_bytes(b, e->type);
    put_bytes(b, e->json);
  }
}

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

/* A length-prefixed string as a NUL-terminated copy in `scratch`. */
static bool get_bytes(reader *r, const unsigned char **start, size_t *n) {
  uint64_t len;
  if (!get_varint(r, &len) || len > (uint64_t)(r->end - r->p)) return false;
  *start = r->p;
  *n = (size_t)len;
  r->p += len;
  return true;
}

typedef struct span {
  int64_t id, prev, ts;
  const unsigned char *type, *json;
  size_t type_len, json_len;
} span;

/* The chunk's events as spans (wf__free the array); -1 when it is
 * damaged. */
static int split(const void *data, size_t len, span **out, size_t *count) {
  reader r = {data, (const unsigned char *)data + len};
  span *v = NULL;
  size_t n = 0, cap = 0;
  while (r.p < r.end) {
    uint64_t id, prev, ts;
    span s;
    if (!get_varint(&r, &id) || !get_varint(&r, &prev) ||
        !get_varint(&r, &ts) || !get_bytes(&r, &s.type, &s.type_len) ||
        !get_bytes(&r, &s.json, &s.json_len)) {
      wf__free(v);
      return -1;
    }
    s.id = (int64_t)id;
    s.prev = (int64_t)prev;
    s.ts = (int64_t)ts;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      span *nv = wf__realloc(v, cap * sizeof *nv);
      if (!nv) {
        wf__free(v);
        return -1;
      }
      v = nv;
    }
    v[n++] = s;
  }
  *out = v;
  *count = n;
  return 0;
}

int wf__event_chunk_decode(const void *data, size_t len, bool reverse,
                           wf_store_event_cb fn, void *arg) {
  span *v = NULL;
  size_t n = 0;
  if (split(data, len, &v, &n) != 0) return -1;
  /* Strings are handed out NUL-terminated: copied into one buffer. */
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += v[i].type_len + v[i].json_len + 2;
  char *buf = wf__malloc(total ? total : 1);
  if (!buf) {
    wf__free(v);
    return -1;
  }
  char *p = buf;
  const char **types = wf__malloc((n ? n : 1) * 2 * sizeof *types);
  if (!types) {
    wf__free(buf);
    wf__free(v);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    types[2 * i] = p;
    memcpy(p, v[i].type, v[i].type_len);
    p[v[i].type_len] = '\0';
    p += v[i].type_len + 1;
    types[2 * i + 1] = p;
    memcpy(p, v[i].json, v[i].json_len);
    p[v[i].json_len] = '\0';
    p += v[i].json_len + 1;
  }
  for (size_t k = 0; k < n; k++) {
    size_t i = reverse ? n - 1 - k : k;
    wf_store_event e = {NULL, v[i].id, v[i].prev, v[i].ts, types[2 * i],
                        types[2 * i + 1]};
    if (fn(&e, arg)) break;
  }
  wf__free(types);
  wf__free(buf);
  wf__free(v);
  return 0;
}
