/* A store's chunk of history events: several consecutive events of one
 * execution framed in one byte string (a row, where a database keeps a
 * row per commit rather than per event). Each event: varint id, varint
 * previous id, varint timestamp, then the type and the JSON, each a varint
 * length and its bytes. */
#ifndef WF_EVENT_CHUNK_H
#define WF_EVENT_CHUNK_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
