/* Structured logging: one JSON line per event — timestamp, level,
 * correlation id, execution, state, event, duration, error — to a callback
 * and/or a file (or stderr). It stands in for the seed's CloudWatch Logs:
 * one request can be followed from start to end by its correlation id.
 * Execution events reach it as a listener (wf__log_on_event); handlers,
 * plugins and the allowlist call it directly. It calls nothing back in the
 * engine. Nothing is formatted when no sink is configured. */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "engine_impl.h"
#include "error.h"
#include "json_text.h"
#include "timestamp.h"

const char *wf_log_level_name(wf_log_level level) {
  static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  if (level < WF_LOG_DEBUG || level > WF_LOG_ERROR) return NULL;
  return names[level - WF_LOG_DEBUG];
}

int wf__log_open(wf_engine *e, const char *path, wf_error *err) {
  if (strcmp(path, "-") == 0) {
    e->log_file = stderr;
    e->log_file_owned = false;
    return WF_OK;
  }
  FILE *f = fopen(path, "a");
  if (!f)
    return wf__error_set(err, WF_EIO, NULL, "log file %s: %s", path,
                         strerror(errno));
  /* Line-buffered: each record reaches the file whole and promptly. */
  setvbuf(f, NULL, _IOLBF, 0);
  e->log_file = f;
  e->log_file_owned = true;
  return WF_OK;
}

void wf__log_close(wf_engine *e) {
  if (e->log_file && e->log_file_owned) fclose(e->log_file);
  e->log_file = NULL;
}

bool wf__log_enabled(const wf_engine *e, wf_log_level level) {
  return (e->log || e->log_file) && level >= e->log_level;
}

static void str_member(wf__strbuf *b, const char *key, const char *value) {
  if (!value) return;
  wf__strbuf_printf(b, ",\"%s\":", key);
  wf__json_dump_string(b, value, strlen(value));
}

/* The common head of every line. */
static void head(wf__strbuf *b, wf_engine *e, wf_log_level level,
                 const wf_execution *x, const char *state, const char *event) {
  char ts[32];
  wf__timestamp_format_ms(ts, wf__engine_now(e));
  wf__strbuf_printf(b, "{\"timestamp\":\"%s\",\"level\":\"%s\"", ts,
                    wf_log_level_name(level));
  if (x) {
    str_member(b, "correlationId", x->correlation_id);
    str_member(b, "execution", WF__EXEC_SHOWN_ARN(x));
  }
  str_member(b, "state", state);
  str_member(b, "event", event);
}

static void emit(wf_engine *e, wf__strbuf *b) {
  wf__strbuf_putc(b, '}');
  if (b->oom) return;
  if (e->log) e->log(b->data, e->log_payload);
  if (e->log_file) {
    pthread_mutex_lock(&e->log_lock);
    fputs(b->data, e->log_file);
    fputc('\n', e->log_file);
    pthread_mutex_unlock(&e->log_lock);
  }
}

static wf_log_level level_of(wf__event_type t) {
  switch (t) {
    case WF__EV_EXECUTION_FAILED:
    case WF__EV_EXECUTION_TIMED_OUT:
    case WF__EV_TASK_FAILED:
    case WF__EV_TASK_TIMED_OUT:
    case WF__EV_LAMBDA_FAILED:
    case WF__EV_LAMBDA_TIMED_OUT:
    case WF__EV_ACTIVITY_FAILED:
    case WF__EV_ACTIVITY_TIMED_OUT:
    case WF__EV_PARALLEL_FAILED:
    case WF__EV_MAP_FAILED:
    case WF__EV_MAP_ITERATION_FAILED:
    case WF__EV_MAP_RUN_FAILED:
      return WF_LOG_ERROR;
    case WF__EV_EXECUTION_ABORTED:
    case WF__EV_STATE_ABORTED:
    case WF__EV_MAP_ITERATION_ABORTED:
      return WF_LOG_WARN;
    default:
      return WF_LOG_INFO;
  }
}

void wf__log_on_event(const wf__event_note *note, void *engine) {
  wf_engine *e = engine;
  const wf__event *ev = note->ev;
  wf_log_level level = level_of(ev->type);
  if (!wf__log_enabled(e, level)) return;
  wf__strbuf b = WF__STRBUF_INIT;
  head(&b, e, level, note->exec, ev->name, note->type_name);
  wf__strbuf_printf(&b, ",\"eventId\":%lld", (long long)ev->id);
  if (ev->has_duration)
    wf__strbuf_printf(&b, ",\"durationMs\":%lld", (long long)ev->duration_ms);
  str_member(&b, "resource", ev->type >= WF__EV_TASK_SCHEDULED &&
                                     ev->type <= WF__EV_ACTIVITY_TIMED_OUT
                                 ? ev->resource
                                 : NULL);
  str_member(&b, "error", ev->error);
  str_member(&b, "cause", ev->cause);
  emit(e, &b);
  wf__strbuf_free(&b);
}

void wf__log_task(const wf_task *t, wf_log_level level, const char *event,
                  const char *fields_json) {
  wf_engine *e = t->engine;
  if (level < WF_LOG_DEBUG || level > WF_LOG_ERROR) level = WF_LOG_INFO;
  if (!wf__log_enabled(e, level)) return;
  const wf__frame *f = t->frame;
  wf__strbuf b = WF__STRBUF_INIT;
  head(&b, e, level, f->exec, f->scope->states[f->state]->name,
       event ? event : "HandlerLog");
  str_member(&b, "resource", t->resource);
  wf__strbuf_printf(&b, ",\"attempt\":%u", t->attempt);
  /* The handler's own fields, when they form a JSON object. */
  json_t *fields = NULL;
  wf_error perr;
  if (fields_json &&
      wf__json_parse(&fields, fields_json, strlen(fields_json), "log fields",
                     &perr) == WF_OK &&
      json_is_object(fields)) {
    static const char *const own[] = {"timestamp", "level", "correlationId",
                                      "execution", "state", "event",
                                      "resource", "attempt"};
    const char *k;
    json_t *v;
    json_object_foreach(fields, k, v) {
      bool taken = false;
      for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        taken = taken || strcmp(k, own[i]) == 0;
      if (taken) continue; /* no handler may forge the line's identity */
      wf__strbuf_putc(&b, ',');
      wf__json_dump_string(&b, k, strlen(k));
      wf__strbuf_putc(&b, ':');
      wf__json_dump(&b, v);
    }
  } else if (fields_json) {
    str_member(&b, "message", fields_json);
  }
  json_decref(fields);
  emit(e, &b);
  wf__strbuf_free(&b);
}

void wf__log_plugin(wf_engine *e, const char *event, const char *name,
                    const char *path) {
  if (!wf__log_enabled(e, WF_LOG_INFO)) return;
  wf__strbuf b = WF__STRBUF_INIT;
  head(&b, e, WF_LOG_INFO, NULL, NULL, event);
  str_member(&b, "plugin", name);
  str_member(&b, "path", path);
  emit(e, &b);
  wf__strbuf_free(&b);
}

void wf__log_engine(wf_engine *e, wf_log_level level, const char *event,
                    const char *message) {
  if (!wf__log_enabled(e, level)) return;
  wf__strbuf b = WF__STRBUF_INIT;
  head(&b, e, level, NULL, NULL, event);
  str_member(&b, "message", message);
  emit(e, &b);
  wf__strbuf_free(&b);
}

void wf__log_denied(wf_execution *x, const char *state, const char *resource) {
  wf_engine *e = x->engine;
  if (!wf__log_enabled(e, WF_LOG_WARN)) return;
  wf__strbuf b = WF__STRBUF_INIT;
  head(&b, e, WF_LOG_WARN, x, state, "AccessDenied");
  str_member(&b, "audit", "resource outside the state machine's allowlist");
  str_member(&b, "stateMachine", x->machine->name);
  str_member(&b, "resource", resource);
  emit(e, &b);
  wf__strbuf_free(&b);
}
