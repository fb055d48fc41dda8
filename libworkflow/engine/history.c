/* Execution history with AWS's event types, ids and previousEventId
 * chains. Recording an event only takes references to the data it
 * describes and keeps it on the execution until the next commit
 * (commit.c), which renders it for the store and then tells the listeners:
 * the program's (wf_engine_add_listener) and the library's own (the log).
 * With retention off, ids are still counted (AWS's causes quote them).
 * AWS's hard limit of 25,000 events ends an execution that reaches it. A
 * distributed Map's child execution numbers its own events, kept for its
 * own history (map_run.c), never told to listeners. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "engine_impl.h"
#include "json_text.h"
#include "map_data.h"

static const char *const BASE_NAMES[] = {
#define WF__EVENT_NAME(id, name) name,
    WF__EVENT_TYPES(WF__EVENT_NAME)
#undef WF__EVENT_NAME
};

/* "PassStateEntered", ...: [state type][entered, exited, aborted]. */
static const char *const STATE_EVENT_NAMES[][3] = {
    {"PassStateEntered", "PassStateExited", "PassStateAborted"},
    {"TaskStateEntered", "TaskStateExited", "TaskStateAborted"},
    {"ChoiceStateEntered", "ChoiceStateExited", "ChoiceStateAborted"},
    {"WaitStateEntered", "WaitStateExited", "WaitStateAborted"},
    {"SucceedStateEntered", "SucceedStateExited", "SucceedStateAborted"},
    {"FailStateEntered", "FailStateExited", "FailStateAborted"},
    {"ParallelStateEntered", "ParallelStateExited", "ParallelStateAborted"},
    {"MapStateEntered", "MapStateExited", "MapStateAborted"}};

const char *wf__event_type_name(const wf__event *ev) {
  switch (ev->type) {
    case WF__EV_STATE_ENTERED: return STATE_EVENT_NAMES[ev->state_type][0];
    case WF__EV_STATE_EXITED: return STATE_EVENT_NAMES[ev->state_type][1];
    case WF__EV_STATE_ABORTED: return STATE_EVENT_NAMES[ev->state_type][2];
    default: return BASE_NAMES[ev->type];
  }
}

void wf__event_free(wf__event *ev) {
  wf__free(ev->text);
  json_decref(ev->data);
  json_decref(ev->assigned);
  wf__free(ev->error);
  wf__free(ev->cause);
}

void wf__history_free(wf_execution *x) {
  for (size_t i = 0; i < x->nevents; i++) wf__event_free(&x->events[i]);
  wf__free(x->events);
  x->events = NULL;
  x->nevents = x->cap = 0;
}

int wf_engine_add_listener(wf_engine *e, wf_event_cb cb, void *payload) {
  if (!e || !cb) return WF_EINVAL;
  pthread_rwlock_wrlock(&e->hlock);
  wf__listener *l =
      wf__realloc(e->listeners, (e->nlisteners + 1) * sizeof *l);
  if (l) {
    e->listeners = l;
    e->listeners[e->nlisteners++] = (wf__listener){cb, payload};
  }
  pthread_rwlock_unlock(&e->hlock);
  return l ? WF_OK : WF_ENOMEM;
}

int wf__history_add_sink(wf_engine *e, wf__event_sink_fn fn, void *payload,
                         void (*release)(void *payload)) {
  wf__sink *s = wf__realloc(e->sinks, (e->nsinks + 1) * sizeof *s);
  if (!s) return WF_ENOMEM;
  e->sinks = s;
  e->sinks[e->nsinks++] = (wf__sink){fn, payload, release};
  return WF_OK;
}

static bool execution_end(wf__event_type t) {
  return t >= WF__EV_EXECUTION_SUCCEEDED && t <= WF__EV_EXECUTION_TIMED_OUT;
}

/* The event `a` describes, numbered `id` after `prev` (its data shared). */
static wf__event make_event(wf_execution *x, wf__frame *f,
                            const wf__event_args *a, int64_t id,
                            int64_t prev) {
  wf__event ev = {.type = a->type,
                  .id = id,
                  .prev = prev,
                  .ts = wf__engine_now(x->engine),
                  .data = json_incref(a->data),
                  .assigned = json_incref(a->assigned),
                  .number = a->number,
                  .number2 = a->number2};
  if (a->st) {
    ev.state_type = a->st->type;
    ev.name = a->st->name;
    ev.resource = a->st->resource;
  }
  if (a->error) ev.error = wf__strdup(a->error);
  if (a->cause) ev.cause = wf__strdup(a->cause);
  if (a->text) ev.text = wf__strdup(a->text);
  if (f && f->task && a->type >= WF__EV_TASK_SCHEDULED &&
      a->type <= WF__EV_ACTIVITY_TIMED_OUT)
    ev.resource = f->task->resource;
  if (a->type == WF__EV_STATE_EXITED && f) {
    ev.has_duration = true;
    ev.duration_ms = ev.ts - f->entered_ms;
  } else if (execution_end(a->type)) {
    ev.has_duration = true;
    ev.duration_ms = ev.ts - x->start_ms;
  }
  return ev;
}

/* An event of a distributed Map's child execution: its own numbering,
 * kept for its own history (map_run.c), never part of this one's nor
 * told to listeners. */
static int64_t record_child(wf_execution *x, wf__frame *f,
                            const wf__event_args *a) {
  int64_t id = (*f->id_counter)++;
  int64_t prev = f->prev_event;
  f->prev_event = id;
  /* Nothing kept: only the id was needed. */
  if (x->engine->history == WF_HISTORY_OFF) return id;
  wf__frame *top = f;
  while (top && !top->own_history) top = top->parent;
  if (!top || !wf__map_run_keeps_history(top)) return id;
  wf__event ev = make_event(x, f, a, id, prev);
  if (a->type == WF__EV_EXECUTION_STARTED || execution_end(a->type))
    ev.has_duration = false;
  wf__map_run_child_event(top, &ev);
  return id;
}

int64_t wf__history_record(wf_execution *x, wf__frame *f,
                           const wf__event_args *a) {
  if (f && f->id_counter) return record_child(x, f, a);
  /* Nothing is recorded once the execution's last event is; a unit of
   * work has no history of its own (its children have theirs). */
  if (x->ended || x->work) return x->next_event_id - 1;
  /* AWS: when 24,999 events are recorded, the next one is the last: an
   * ExecutionSucceeded stands, anything else becomes ExecutionFailed. A
   * Standard workflow's quota: Express ones keep no such history. */
  if (x->next_event_id == WF__HISTORY_LIMIT && !execution_end(a->type) &&
      x->machine->type == WF_MACHINE_STANDARD)
    return wf__exec_history_full(x);
  int64_t id = x->next_event_id++;
  int64_t prev = f ? f->prev_event : a->prev;
  if (f) f->prev_event = id;
  x->dirty = true;
  wf_engine *e = x->engine;
  /* Nothing records or listens: only the id was needed. */
  if (e->history == WF_HISTORY_OFF && !e->nlisteners && !e->nsinks)
    return id;
  wf__event ev = make_event(x, f, a, id, prev);
  if (x->nevents == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 16;
    wf__event *evs = wf__realloc(x->events, cap * sizeof *evs);
    if (!evs) {
      /* Not recorded: its number is given back so that the history keeps
       * no gap (the store refuses one). The step that wanted it fails,
       * naming memory (wf__step_short_of_memory). */
      wf__event_free(&ev);
      x->next_event_id = id;
      if (f) f->prev_event = prev;
      return prev;
    }
    x->events = evs;
    x->cap = cap;
  }
  x->events[x->nevents++] = ev;
  return id;
}

int64_t wf__history_add(wf_execution *x, wf__frame *f, wf__event_type type,
                        const wf__state *st, json_t *data, const char *error,
                        const char *cause) {
  wf__event_args a = {.type = type, .st = st, .data = data, .error = error,
                      .cause = cause};
  return wf__history_record(x, f, &a);
}

/* ---- rendering ---- */

static void key(wf__strbuf *b, const char *k, bool *first) {
  if (!*first) wf__strbuf_putc(b, ',');
  *first = false;
  wf__json_dump_string(b, k, strlen(k));
  wf__strbuf_putc(b, ':');
}

static void str_field(wf__strbuf *b, const char *k, const char *v,
                      bool *first) {
  if (!v) return;
  key(b, k, first);
  wf__json_dump_string(b, v, strlen(v));
}

void wf__render_cache_free(wf__render_cache *c) {
  for (unsigned i = 0; i < WF__RENDER_CACHE_SLOTS; i++)
    wf__strbuf_free(&c->text[i]);
}

/* v's text as a JSON string, from the cache when rendered before. */
static void quoted_value(wf__strbuf *b, const json_t *v,
                         wf__render_cache *c) {
  if (!c) {
    wf__json_dump_quoted(b, v);
    return;
  }
  for (unsigned i = 0; i < WF__RENDER_CACHE_SLOTS; i++)
    if (c->value[i] == v && !c->text[i].oom) {
      wf__strbuf_append(b, c->text[i].data, c->text[i].len);
      return;
    }
  size_t start = b->len;
  wf__json_dump_quoted(b, v);
  if (b->oom) return;
  unsigned slot = c->next++ % WF__RENDER_CACHE_SLOTS;
  wf__strbuf_reset(&c->text[slot]);
  wf__strbuf_append(&c->text[slot], b->data + start, b->len - start);
  c->value[slot] = v;
}

/* "input": "<json text>", "inputDetails": {"truncated": false} */
static void payload_field(wf__strbuf *b, const char *k, const json_t *v,
                          bool *first, wf__render_cache *c) {
  key(b, k, first);
  quoted_value(b, v ? v : json_null(), c);
  /* k is a plain word: no escaping to do. */
  wf__strbuf_append(b, ",\"", 2);
  wf__strbuf_puts(b, k);
  wf__strbuf_puts(b, "Details\":{\"truncated\":false}");
}

static void int_field(wf__strbuf *b, const char *k, int64_t v, bool *first) {
  key(b, k, first);
  wf__strbuf_put_int(b, (long long)v);
}

/* "arn:aws:states:::lambda:invoke" -> resourceType "lambda", resource
 * "invoke"; "arn:aws:states:::aws-sdk:s3:listBuckets" -> "aws-sdk:s3",
 * "listBuckets". */
static void resource_fields(wf__strbuf *b, const char *res, bool *first) {
  const char *rest = res ? res : "";
  if (strncmp(rest, "arn:aws:states:::", 17) == 0) rest += 17;
  const char *last = strrchr(rest, ':');
  /* ".sync:2" carries a colon of its own. */
  if (last && strcmp(last, ":2") == 0 && last > rest) {
    const char *p = last - 1;
    while (p > rest && *p != ':') p--;
    last = p;
  }
  char type[128];
  size_t n = last ? (size_t)(last - rest) : 0;
  if (n >= sizeof type) n = sizeof type - 1;
  memcpy(type, rest, n);
  type[n] = '\0';
  str_field(b, "resourceType", type, first);
  str_field(b, "resource", last ? last + 1 : rest, first);
}

static const char *details_key(const wf__event *ev, char buf[96]) {
  const char *k = NULL;
  switch (ev->type) {
    case WF__EV_STATE_ENTERED: return "stateEnteredEventDetails";
    case WF__EV_STATE_EXITED: return "stateExitedEventDetails";
    case WF__EV_STATE_ABORTED:
    case WF__EV_LAMBDA_STARTED:
    case WF__EV_PARALLEL_STARTED:
    case WF__EV_PARALLEL_SUCCEEDED:
    case WF__EV_PARALLEL_FAILED:
    case WF__EV_PARALLEL_ABORTED:
    case WF__EV_MAP_SUCCEEDED:
    case WF__EV_MAP_FAILED:
    case WF__EV_MAP_ABORTED:
    case WF__EV_MAP_RUN_SUCCEEDED:
      return NULL;
    default:
      k = BASE_NAMES[ev->type];
  }
  /* "ExecutionStarted" -> "executionStartedEventDetails" */
  snprintf(buf, 96, "%c%sEventDetails", k[0] + ('a' - 'A'), k + 1);
  if (strncmp(k, "LambdaFunction", 14) == 0)
    snprintf(buf, 96, "lambdaFunction%sEventDetails", k + 14);
  return buf;
}

/* AWS's StateExited "assignedVariables": each value as its JSON text. */
static void assigned_field(wf__strbuf *b, json_t *vars, bool *first) {
  key(b, "assignedVariables", first);
  wf__strbuf_putc(b, '{');
  const char *name;
  json_t *v;
  bool one = true;
  json_object_foreach(vars, name, v) {
    key(b, name, &one);
    char *text = wf__json_dumps(v);
    wf__json_dump_string(b, text ? text : "null", text ? strlen(text) : 4);
    wf__free(text);
  }
  wf__strbuf_puts(b, "},\"assignedVariablesDetails\":{\"truncated\":false}");
}

static void render_details(wf__strbuf *b, const wf_execution *x,
                           const wf__event *ev, wf__render_cache *c) {
  bool first = true;
  switch (ev->type) {
    case WF__EV_EXECUTION_STARTED:
      payload_field(b, "input", ev->data, &first, c);
      str_field(b, "roleArn", x->role_arn ? x->role_arn : x->engine->role_arn,
                &first);
      break;
    case WF__EV_EXECUTION_REDRIVEN:
      int_field(b, "redriveCount", ev->number, &first);
      break;
    case WF__EV_EXECUTION_SUCCEEDED:
    case WF__EV_LAMBDA_SUCCEEDED:
    case WF__EV_ACTIVITY_SUCCEEDED:
      payload_field(b, "output", ev->data, &first, c);
      break;
    case WF__EV_STATE_ENTERED:
      str_field(b, "name", ev->name, &first);
      payload_field(b, "input", ev->data, &first, c);
      break;
    case WF__EV_STATE_EXITED:
      str_field(b, "name", ev->name, &first);
      payload_field(b, "output", ev->data, &first, c);
      if (ev->assigned) assigned_field(b, ev->assigned, &first);
      break;
    case WF__EV_TASK_SCHEDULED:
      resource_fields(b, ev->resource, &first);
      str_field(b, "region", x->engine->region, &first);
      key(b, "parameters", &first);
      quoted_value(b, ev->data ? ev->data : json_null(), c);
      if (ev->number) int_field(b, "timeoutInSeconds", ev->number, &first);
      if (ev->number2) int_field(b, "heartbeatInSeconds", ev->number2, &first);
      break;
    case WF__EV_TASK_STARTED:
      resource_fields(b, ev->resource, &first);
      break;
    case WF__EV_TASK_SUBMITTED:
    case WF__EV_TASK_SUCCEEDED:
      resource_fields(b, ev->resource, &first);
      payload_field(b, "output", ev->data, &first, c);
      break;
    case WF__EV_TASK_FAILED:
    case WF__EV_TASK_TIMED_OUT:
      resource_fields(b, ev->resource, &first);
      str_field(b, "error", ev->error, &first);
      str_field(b, "cause", ev->cause, &first);
      break;
    case WF__EV_LAMBDA_SCHEDULED:
    case WF__EV_ACTIVITY_SCHEDULED:
      str_field(b, "resource", ev->resource, &first);
      payload_field(b, "input", ev->data, &first, c);
      if (ev->number) int_field(b, "timeoutInSeconds", ev->number, &first);
      if (ev->number2) int_field(b, "heartbeatInSeconds", ev->number2, &first);
      break;
    case WF__EV_MAP_STARTED:
      int_field(b, "length", ev->number, &first);
      break;
    case WF__EV_MAP_RUN_STARTED:
      str_field(b, "mapRunArn", ev->text, &first);
      break;
    case WF__EV_ACTIVITY_STARTED:
      if (ev->text) str_field(b, "workerName", ev->text, &first);
      break;
    case WF__EV_EVALUATION_FAILED:
      str_field(b, "error", ev->error, &first);
      str_field(b, "cause", ev->cause, &first);
      if (ev->text) str_field(b, "location", ev->text, &first);
      str_field(b, "state", ev->name, &first);
      break;
    case WF__EV_MAP_ITERATION_STARTED:
    case WF__EV_MAP_ITERATION_SUCCEEDED:
    case WF__EV_MAP_ITERATION_FAILED:
    case WF__EV_MAP_ITERATION_ABORTED:
      str_field(b, "name", ev->name, &first);
      int_field(b, "index", ev->number, &first);
      break;
    default: /* failures, timeouts, aborts */
      str_field(b, "error", ev->error, &first);
      str_field(b, "cause", ev->cause, &first);
      break;
  }
}

void wf__event_render(wf__strbuf *b, const wf_execution *x,
                      const wf__event *ev, wf__render_cache *cache) {
  char kbuf[96];
  /* Seconds with three decimals; the type and key names are plain words. */
  wf__strbuf_puts(b, "{\"timestamp\":");
  wf__strbuf_put_int(b, (long long)(ev->ts / 1000));
  char ms[5] = {'.', (char)('0' + ev->ts % 1000 / 100),
                (char)('0' + ev->ts % 100 / 10), (char)('0' + ev->ts % 10),
                '\0'};
  wf__strbuf_append(b, ms, 4);
  wf__strbuf_puts(b, ",\"type\":\"");
  wf__strbuf_puts(b, wf__event_type_name(ev));
  wf__strbuf_puts(b, "\",\"id\":");
  wf__strbuf_put_int(b, (long long)ev->id);
  wf__strbuf_puts(b, ",\"previousEventId\":");
  wf__strbuf_put_int(b, (long long)ev->prev);
  const char *dk = details_key(ev, kbuf);
  if (dk) {
    wf__strbuf_append(b, ",\"", 2);
    wf__strbuf_puts(b, dk);
    wf__strbuf_append(b, "\":{", 3);
    render_details(b, x, ev, cache);
    wf__strbuf_putc(b, '}');
  }
  wf__strbuf_putc(b, '}');
}

static int add_event(const wf_store_event *ev, void *payload) {
  wf__strbuf *b = payload;
  if (b->len > 11) wf__strbuf_putc(b, ',');
  wf__strbuf_puts(b, ev->json);
  return 0;
}

char *wf__history_read(wf_engine *e, const char *arn, bool reverse) {
  wf__strbuf b = WF__STRBUF_INIT;
  wf__strbuf_puts(&b, "{\"events\":[");
  wf_error err;
  if (wf_store_read_events(e->store, arn, 0, reverse, 0, add_event, &b,
                           &err) != WF_OK) {
    wf__strbuf_free(&b);
    return NULL;
  }
  wf__strbuf_puts(&b, "]}");
  return wf__strbuf_take(&b);
}
