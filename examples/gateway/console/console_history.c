/* An execution's history read into what the console shows of it: each
 * state's runs (when it was entered and left, its input and output, the
 * attempts its task made, the error that ended it) and the lanes the
 * events ran in: the top lane, a lane per Map iteration and per Parallel
 * branch, nested as the states are.
 *
 * The store keeps events, not frames. An event's lane is its previous
 * event's (previousEventId: the event before it in the same frame), but:
 *  - MapIterationStarted opens a lane, under the lane of the Map state's
 *    open run (the Map state its details name);
 *  - a state entered with no event before it is the first of its frame:
 *    when the definition says it starts a Parallel branch, it opens a
 *    lane under the lane of that Parallel state's open run;
 *  - the events of a Map or Parallel state after its first follow the
 *    last event of an iteration or branch (or the state's own): they go
 *    up to the lane whose open run is a Map or Parallel state.
 * Where the same Map or Parallel state runs in several lanes at once (a
 * Parallel inside a Map), its latest open run is taken. */
#include <stdlib.h>
#include <string.h>

#include "console.h"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Grow *v (of *cap elements of size sz) to hold n; false without memory. */
static bool reserve(void **v, size_t *cap, size_t n, size_t sz) {
  if (n <= *cap) return true;
  size_t c = *cap ? *cap : 64;
  while (c < n) c *= 2;
  void *p = realloc(*v, c * sz);
  if (!p) return false;
  memset((char *)p + *cap * sz, 0, (c - *cap) * sz);
  *v = p;
  *cap = c;
  return true;
}

/* The details member of an event ("stateEnteredEventDetails"), or NULL. */
static json_t *details_of(json_t *e) {
  const char *k;
  json_t *v;
  json_object_foreach(e, k, v) {
    if (ends_with(k, "EventDetails") && json_is_object(v)) return v;
  }
  return NULL;
}

static char *dup_member(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? strdup(s) : NULL;
}

/* What is kept of each event, by id: its lane and these flags. */
enum { FAILURE = 1 };

static size_t lane_at(const cs_history *h, int64_t event_id) {
  return event_id > 0 && (size_t)event_id < h->nevents
             ? h->events[event_id].lane
             : 0;
}

static unsigned flags_at(const cs_history *h, int64_t event_id) {
  return event_id > 0 && (size_t)event_id < h->nevents
             ? h->events[event_id].flags
             : 0;
}

static void set_lane(cs_history *h, int64_t event_id, size_t lane,
                     unsigned flags) {
  if (event_id <= 0) return;
  if (!reserve((void **)&h->events, &h->nevents, (size_t)event_id + 1,
               sizeof *h->events)) {
    h->oom = true;
    return;
  }
  h->events[event_id].lane = lane;
  h->events[event_id].flags = flags;
}

/* A new lane opened by event `id` under lane `parent`; its index. */
static size_t lane_open(cs_history *h, int64_t id, size_t parent,
                        bool branch, long index) {
  if (!reserve((void **)&h->lanes, &h->lanes_cap, h->nlanes + 1,
               sizeof *h->lanes)) {
    h->oom = true;
    return parent;
  }
  cs_lane *l = &h->lanes[h->nlanes];
  memset(l, 0, sizeof *l);
  l->id = id;
  l->parent = parent;
  l->branch = branch;
  l->index = index;
  l->open_run = -1;
  l->owner_run = h->lanes[parent].open_run;
  l->status = WF_EXEC_RUNNING;
  if (h->focus_id && id == h->focus_id) h->focus = (long)h->nlanes;
  return h->nlanes++;
}

static cs_run *run_open(cs_history *h, size_t lane, const char *name,
                        const wf_store_event *ev, const char *type, json_t *d) {
  if (!reserve((void **)&h->runs, &h->runs_cap, h->nruns + 1,
               sizeof *h->runs)) {
    h->oom = true;
    return NULL;
  }
  cs_run *r = &h->runs[h->nruns];
  memset(r, 0, sizeof *r);
  r->state = strdup(name);
  if (!r->state) {
    h->oom = true;
    return NULL;
  }
  r->lane = lane;
  r->fanout = !strncmp(type, "MapState", 8)         ? 'M'
              : !strncmp(type, "ParallelState", 13) ? 'P'
                                                    : 0;
  r->entered_ms = ev->timestamp_ms;
  if (h->want && !strcmp(h->want, name)) r->input = dup_member(d, "input");
  if (json_object_set_new(h->latest, name, json_integer((json_int_t)h->nruns)))
    h->oom = true;
  h->lanes[lane].open_run = (long)h->nruns++;
  return r;
}

/* The lane of the open run of the state `name` started last, or -1. Its
 * latest run first: a Map's iterations ask for the Map's run once each. */
static long open_run_lane(const cs_history *h, const char *name) {
  json_t *at = json_object_get(h->latest, name);
  if (at && !h->runs[json_integer_value(at)].exited)
    return (long)h->runs[json_integer_value(at)].lane;
  for (size_t i = h->nruns; i-- > 0;)
    if (!h->runs[i].exited && !strcmp(h->runs[i].state, name))
      return (long)h->runs[i].lane;
  return -1;
}

/* The lane of a Map or Parallel state's own event after its first that
 * names no state (Started, Succeeded, Failed): from the lane of the event
 * before it (the last event of an iteration or branch, or the state's
 * own) up to the lane whose open run is a Map (kind 'M') or Parallel
 * ('P') state not finished yet. */
static size_t fanout_lane(const cs_history *h, size_t from, char kind) {
  for (size_t l = from;; l = h->lanes[l].parent) {
    long r = h->lanes[l].open_run;
    if ((r >= 0 && h->runs[r].fanout == kind && !h->runs[r].finished) ||
        l == 0)
      return l;
  }
}

/* Which lane an event ran in (see the top of this file). */
static size_t lane_of_event(cs_history *h, const wf_store_event *ev,
                            const char *type, json_t *d) {
  size_t lane = lane_at(h, ev->previous_id);
  const char *name = json_string_value(json_object_get(d, "name"));
  if (!strcmp(type, "MapIterationStarted")) {
    long parent = name ? open_run_lane(h, name) : -1;
    return lane_open(h, ev->id, parent >= 0 ? (size_t)parent : lane, false,
                     (long)json_integer_value(json_object_get(d, "index")));
  }
  if (ends_with(type, "StateEntered")) {
    /* A frame's first state has no event before it in its frame: a
     * branch's first state, or the machine's. */
    json_t *start = ev->previous_id ? NULL
                    : name          ? json_object_get(h->starts, name)
                                    : NULL;
    const char *parallel = json_string_value(json_array_get(start, 0));
    long parent = parallel ? open_run_lane(h, parallel) : -1;
    if (parent >= 0)
      return lane_open(h, ev->id, (size_t)parent, true,
                       (long)json_integer_value(json_array_get(start, 1)));
    return lane;
  }
  char kind = !strncmp(type, "MapState", 8)         ? 'M'
              : !strncmp(type, "ParallelState", 13) ? 'P'
                                                    : 0;
  long named = kind && name ? open_run_lane(h, name) : -1;
  if (named >= 0) return (size_t)named;
  return kind ? fanout_lane(h, lane, kind) : lane;
}

/* Each Parallel branch's first state, with the Parallel state and the
 * branch's number: {"A": ["P", 0]}, from every scope of a definition. */
static void branch_starts(json_t *starts, const json_t *scope, int depth) {
  const char *k;
  json_t *v;
  if (depth > 32) return;
  json_object_foreach(json_object_get(scope, "States"), k, v) {
    json_t *branches = json_object_get(v, "Branches");
    for (size_t i = 0; i < json_array_size(branches); i++) {
      json_t *b = json_array_get(branches, i);
      const char *at = json_string_value(json_object_get(b, "StartAt"));
      if (at) json_object_set_new(starts, at, json_pack("[s, I]", k,
                                                        (json_int_t)i));
      branch_starts(starts, b, depth + 1);
    }
    json_t *proc = json_object_get(v, "ItemProcessor");
    branch_starts(starts, proc ? proc : json_object_get(v, "Iterator"),
                  depth + 1);
  }
}

void cs_history_init(cs_history *h, const char *definition) {
  h->focus = -1;
  h->starts = json_object();
  h->latest = json_object();
  json_t *def = definition ? json_loads(definition, 0, NULL) : NULL;
  if (h->starts) branch_starts(h->starts, def, 0);
  json_decref(def);
  h->lanes = calloc(1, sizeof *h->lanes);
  if (!h->lanes || !h->starts || !h->latest) {
    h->oom = true;
    return;
  }
  h->lanes_cap = h->nlanes = 1;
  h->lanes[0] = (cs_lane){.open_run = -1, .owner_run = -1,
                          .status = WF_EXEC_RUNNING};
}

int cs_history_event(const wf_store_event *ev, void *arg) {
  cs_history *h = arg;
  if (h->oom) return 1;
  if (!h->total++) h->first_ms = ev->timestamp_ms;
  json_t *e = json_loads(ev->json, 0, NULL);
  const char *type = ev->type ? ev->type : "";
  json_t *d = e ? details_of(e) : NULL;
  bool failure = ends_with(type, "Failed") || ends_with(type, "TimedOut");
  size_t lane = lane_of_event(h, ev, type, d);
  set_lane(h, ev->id, lane, failure ? FAILURE : 0);
  cs_lane *l = &h->lanes[lane];
  cs_run *r = l->open_run >= 0 ? &h->runs[l->open_run] : NULL;
  const char *name = json_string_value(json_object_get(d, "name"));
  /* A Map or Parallel state that ended (it may be left later, or never) */
  if (r && r->fanout &&
      (ends_with(type, "Succeeded") || failure || ends_with(type, "Aborted")) &&
      (!strncmp(type, "MapState", 8) || !strncmp(type, "ParallelState", 13)))
    r->finished = true;
  if (!strncmp(type, "MapIteration", 12) && strcmp(type, "MapIterationStarted"))
    l->status = !strcmp(type, "MapIterationSucceeded") ? WF_EXEC_SUCCEEDED
                : !strcmp(type, "MapIterationAborted") ? WF_EXEC_ABORTED
                                                       : WF_EXEC_FAILED;
  else if (ends_with(type, "StateEntered") && name)
    run_open(h, lane, name, ev, type, d);
  else if (ends_with(type, "StateExited") && r) {
    r->exited = true;
    r->exited_ms = ev->timestamp_ms;
    /* left right after a failure: a Catch took it on */
    r->caught = flags_at(h, ev->previous_id) & FAILURE;
    if (h->want && !strcmp(h->want, r->state))
      r->output = dup_member(d, "output");
    l->open_run = -1;
  } else if (r && ends_with(type, "Scheduled")) {
    r->attempts++;
  } else if (r && failure && h->want && !strcmp(h->want, r->state)) {
    free(r->error);
    free(r->cause);
    r->error = dup_member(d, "error");
    r->cause = dup_member(d, "cause");
  }
  if (h->on_event && cs_history_shown(h, lane))
    h->on_event(h, ev, e, h->on_event_arg);
  json_decref(e);
  return h->oom ? 1 : 0;
}

bool cs_history_shown(const cs_history *h, size_t lane) {
  if (!h->focus_id) return true;
  if (h->focus < 0) return false;
  /* lanes nest no deeper than states do (a lane's parent opened first) */
  for (size_t l = lane;; l = h->lanes[l].parent) {
    if (l == (size_t)h->focus) return true;
    if (l == 0) return false;
  }
}

void cs_history_statuses(cs_history *h, wf_exec_status execution) {
  for (size_t i = 1; i < h->nlanes; i++) {
    cs_lane *l = &h->lanes[i];
    if (l->branch || l->status == WF_EXEC_RUNNING) {
      /* A branch has no end event of its own: it ended when its last
       * state was left; one left mid-way failed (or was cancelled). */
      bool open = l->open_run >= 0;
      l->status = !open ? WF_EXEC_SUCCEEDED
                  : execution == WF_EXEC_RUNNING ? WF_EXEC_RUNNING
                                                 : WF_EXEC_FAILED;
    }
  }
}

cs_mark cs_history_mark(const cs_history *h, const char *name,
                        wf_exec_status execution) {
  size_t entered = 0, exited = 0, caught = 0;
  for (size_t i = 0; i < h->nruns; i++) {
    const cs_run *r = &h->runs[i];
    if (strcmp(r->state, name) || !cs_history_shown(h, r->lane)) continue;
    entered++;
    exited += r->exited;
    caught += r->caught;
  }
  if (!entered) return CS_MARK_NOT_REACHED;
  if (entered > exited)
    return execution == WF_EXEC_RUNNING ? CS_MARK_RUNNING : CS_MARK_FAILED;
  return caught ? CS_MARK_CAUGHT : CS_MARK_SUCCEEDED;
}

void cs_history_fini(cs_history *h) {
  for (size_t i = 0; i < h->nruns; i++) {
    free(h->runs[i].state);
    free(h->runs[i].input);
    free(h->runs[i].output);
    free(h->runs[i].error);
    free(h->runs[i].cause);
  }
  free(h->runs);
  free(h->lanes);
  free(h->events);
  json_decref(h->starts);
  json_decref(h->latest);
  memset(h, 0, sizeof *h);
}
