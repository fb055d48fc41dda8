/* A store's chunk of history events: several consecutive events of one
 * execution framed in one byte string (a row, where a database keeps a
 * row per commit rather than per event). A format byte (1), then each
 * event: varint id, varint previous id, varint timestamp, the type (varint
 * length << 1 | elided, bytes), and the JSON as segments, each a varint
 * (length << 2 | kind) and:
 *   kind 0: that many bytes of text;
 *   kind 1: a varint literal index: copy that many bytes from the start of
 *           that earlier literal;
 *   kind 2: nothing: the last `length` bytes of this event's JSON are the
 *           next literal (indexes count from 0 in the chunk);
 *   kind 3, length 0: the end of the event's JSON.
 * `elided`: the JSON's opening, {"timestamp":S.mmm,"type":"T","id":I,
 * "previousEventId":P, is left out: the decoder writes it from the
 * event's fields (only when it was exactly that).
 * Literals are the long JSON strings of the events (payload texts); an
 * event's payload often repeats an earlier one's, or extends it, and is
 * then mostly a copy: a seed workflow's 16 events take about a third of
 * their text. */
#ifndef WF_EVENT_CHUNK_H
#define WF_EVENT_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"
#include "workflow/store.h"

/* Append the n events to b (b->oom on out-of-memory). */
void wf__event_chunk_encode(wf__strbuf *b, const wf_store_event *events,
                            size_t n);
/* Call fn for each event of a chunk, last first when `reverse`, until it
 * returns nonzero (execution_arn is left NULL). Returns 0, or -1 when the
 * chunk does not decode (nothing is passed to fn then). */
int wf__event_chunk_decode(const void *data, size_t len, bool reverse,
                           wf_store_event_cb fn, void *arg);

/* A history read (wf_store_ops.read_events) over a backend's chunks:
 * events from `from` on (or down, reverse), at most `limit` (0: all),
 * each handed to cb with its ARN, until cb or the limit says stop. */
typedef struct wf__event_reader {
  const char *arn;
  int64_t from; /* reverse: INT64_MAX for "from the last" */
  bool reverse;
  size_t limit, sent;
  wf_store_event_cb cb;
  void *payload;
  bool stop; /* no more chunks are needed */
} wf__event_reader;

void wf__event_reader_init(wf__event_reader *r, const char *arn,
                           int64_t from_id, bool reverse, size_t limit,
                           wf_store_event_cb cb, void *payload);
/* Hand on the events of one chunk (the next in the read's order): 0, or
 * -1 when it does not decode. */
int wf__event_reader_chunk(wf__event_reader *r, const void *data,
                           size_t len);

#endif
