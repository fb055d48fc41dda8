/* A store's history chunks (store/event_chunk.h): any bytes decode or are
 * refused, never crash; and events made from the input round-trip exactly
 * through encoding, whatever their JSON (copies of repeated payloads,
 * left-out openings). */
#include "event_chunk.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
  const wf_store_event *want;
  size_t n, i;
} seen;

static int drop(const wf_store_event *e, void *arg) {
  (void)e;
  (void)arg;
  return 0;
}

static int compare(const wf_store_event *e, void *arg) {
  seen *s = arg;
  FZ_CHECK(s->i < s->n, "more events than encoded");
  const wf_store_event *w = &s->want[s->i++];
  FZ_CHECK(e->id == w->id && e->previous_id == w->previous_id &&
               e->timestamp_ms == w->timestamp_ms,
           "event %zu: numbers differ", s->i);
  FZ_CHECK(strcmp(e->type, w->type) == 0, "event %zu: type differs", s->i);
  FZ_CHECK(strcmp(e->json, w->json) == 0, "event %zu: json differs:\n%s\n%s",
           s->i, e->json, w->json);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wf__event_chunk_decode(data, size, false, drop, NULL);
  wf__event_chunk_decode(data, size, true, drop, NULL);
  /* Events from the input: lines are event texts; every third opens as an
   * engine would, so that it may be left out. */
  char *text = fz_text(data, size);
  enum { MAX = 32 };
  wf_store_event ev[MAX];
  char *owned[MAX];
  size_t n = 0;
  for (char *line = text, *next; line && n < MAX; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    int64_t id = (int64_t)n + 1, ts = 1700000000000 + (int64_t)n * 7;
    char *json;
    if (n % 3 == 0) {
      size_t len = strlen(line) + 128;
      json = malloc(len);
      if (!json) abort();
      snprintf(json, len,
               "{\"timestamp\":%lld.%03lld,\"type\":\"PassStateEntered\","
               "\"id\":%lld,\"previousEventId\":%lld%s",
               (long long)(ts / 1000), (long long)(ts % 1000), (long long)id,
               (long long)(id - 1), line);
    } else {
      json = strdup(line);
    }
    owned[n] = json;
    ev[n] = (wf_store_event){"arn", id, id - 1, ts, "PassStateEntered", json};
    n++;
  }
  wf__strbuf b = WF__STRBUF_INIT;
  wf__event_chunk_encode(&b, ev, n);
  if (!b.oom) {
    seen s = {ev, n, 0};
    FZ_CHECK(wf__event_chunk_decode(b.data, b.len, false, compare, &s) == 0,
             "an encoded chunk does not decode");
    FZ_CHECK(s.i == n, "%zu events of %zu", s.i, n);
  }
  wf__strbuf_free(&b);
  for (size_t i = 0; i < n; i++) free(owned[i]);
  free(text);
  return 0;
}
