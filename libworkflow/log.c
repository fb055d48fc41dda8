/* Structured logging: one JSON line per event, to the engine's sink. */
#include <string.h>

#include "engine_impl.h"
#include "json_text.h"
#include "timestamp.h"

void wf__log(wf_engine *e, const char *level, const wf_execution *x,
             const char *state, const char *event, const char *error,
             int64_t duration_ms) {
  if (!e->log) return;
  wf__strbuf b = WF__STRBUF_INIT;
  char ts[32];
  wf__timestamp_format_ms(ts, wf__engine_now(e));
  wf__strbuf_printf(&b, "{\"timestamp\":\"%s\",\"level\":\"%s\"", ts, level);
  if (x && x->correlation_id) {
    wf__strbuf_puts(&b, ",\"correlationId\":");
    wf__json_dump_string(&b, x->correlation_id, strlen(x->correlation_id));
  }
  if (x) {
    wf__strbuf_puts(&b, ",\"execution\":");
    wf__json_dump_string(&b, x->arn, strlen(x->arn));
  }
  if (state) {
    wf__strbuf_puts(&b, ",\"state\":");
    wf__json_dump_string(&b, state, strlen(state));
  }
  wf__strbuf_puts(&b, ",\"event\":");
  wf__json_dump_string(&b, event, strlen(event));
  if (duration_ms) wf__strbuf_printf(&b, ",\"durationMs\":%lld",
                                     (long long)duration_ms);
  if (error) {
    wf__strbuf_puts(&b, ",\"error\":");
    wf__json_dump_string(&b, error, strlen(error));
  }
  wf__strbuf_putc(&b, '}');
  if (!b.oom) e->log(b.data, e->log_payload);
  wf__strbuf_free(&b);
}
