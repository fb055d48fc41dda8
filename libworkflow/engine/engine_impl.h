/* Engine internals: the engine, executions, frames (the explicit records
 * the scheduler advances), tasks and timers. */
#ifndef WF_ENGINE_IMPL_H
#define WF_ENGINE_IMPL_H

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "eval.h"
#include "machine_impl.h"
#include "rng.h"
#include "scheduler.h"
#include "strbuf.h"
#include "store_impl.h"
#include "strmap.h"
#include "workflow/engine.h"
#include "workflow/json.h"

typedef struct wf__frame wf__frame;
typedef struct wf__event wf__event;

/* ---- history ---- */

typedef enum wf__event_type {
#define WF__EVENT_TYPES(X)                                                   \
  X(EXECUTION_STARTED, "ExecutionStarted")                                   \
  X(EXECUTION_SUCCEEDED, "ExecutionSucceeded")                               \
  X(EXECUTION_FAILED, "ExecutionFailed")                                     \
  X(EXECUTION_ABORTED, "ExecutionAborted")                                   \
  X(EXECUTION_TIMED_OUT, "ExecutionTimedOut")                                \
  X(EXECUTION_REDRIVEN, "ExecutionRedriven")                                 \
  X(STATE_ENTERED, "StateEntered")                                           \
  X(STATE_EXITED, "StateExited")                                             \
  X(STATE_ABORTED, "StateAborted")                                           \
  X(TASK_SCHEDULED, "TaskScheduled")                                         \
  X(TASK_STARTED, "TaskStarted")                                             \
  X(TASK_SUBMITTED, "TaskSubmitted")                                         \
  X(TASK_SUCCEEDED, "TaskSucceeded")                                         \
  X(TASK_FAILED, "TaskFailed")                                               \
  X(TASK_TIMED_OUT, "TaskTimedOut")                                          \
  X(LAMBDA_SCHEDULED, "LambdaFunctionScheduled")                             \
  X(LAMBDA_STARTED, "LambdaFunctionStarted")                                 \
  X(LAMBDA_SUCCEEDED, "LambdaFunctionSucceeded")                             \
  X(LAMBDA_FAILED, "LambdaFunctionFailed")                                   \
  X(LAMBDA_TIMED_OUT, "LambdaFunctionTimedOut")                              \
  X(ACTIVITY_SCHEDULED, "ActivityScheduled")                                 \
  X(ACTIVITY_STARTED, "ActivityStarted")                                     \
  X(ACTIVITY_SUCCEEDED, "ActivitySucceeded")                                 \
  X(ACTIVITY_FAILED, "ActivityFailed")                                       \
  X(ACTIVITY_TIMED_OUT, "ActivityTimedOut")                                  \
  X(PARALLEL_STARTED, "ParallelStateStarted")                                \
  X(PARALLEL_SUCCEEDED, "ParallelStateSucceeded")                            \
  X(PARALLEL_FAILED, "ParallelStateFailed")                                  \
  X(PARALLEL_ABORTED, "ParallelStateAborted")                                \
  X(MAP_STARTED, "MapStateStarted")                                          \
  X(MAP_SUCCEEDED, "MapStateSucceeded")                                      \
  X(MAP_FAILED, "MapStateFailed")                                            \
  X(MAP_ABORTED, "MapStateAborted")                                          \
  X(MAP_ITERATION_STARTED, "MapIterationStarted")                            \
  X(MAP_ITERATION_SUCCEEDED, "MapIterationSucceeded")                        \
  X(MAP_ITERATION_FAILED, "MapIterationFailed")                              \
  X(MAP_ITERATION_ABORTED, "MapIterationAborted")                            \
  X(MAP_RUN_STARTED, "MapRunStarted")                                        \
  X(MAP_RUN_SUCCEEDED, "MapRunSucceeded")                                    \
  X(MAP_RUN_FAILED, "MapRunFailed")                                          \
  X(MAP_RUN_ABORTED, "MapRunAborted")                                        \
  X(EVALUATION_FAILED, "EvaluationFailed")
#define WF__EVENT_ENUM(id, name) WF__EV_##id,
  WF__EVENT_TYPES(WF__EVENT_ENUM)
#undef WF__EVENT_ENUM
} wf__event_type;

struct wf__event {
  wf__event_type type;
  wf__state_type state_type; /* StateEntered/Exited/Aborted */
  int64_t id, prev, ts;
  const char *name;     /* state name (borrowed from the machine) */
  json_t *data;         /* input/output/parameters (shared reference) */
  char *error, *cause;  /* failures */
  const char *resource; /* task resource (borrowed from the machine) */
  int64_t number;       /* Map length / iteration index; timeouts */
  int64_t number2;      /* heartbeat seconds */
  char *text;           /* MapRunStarted: the Map Run ARN */
  json_t *assigned;     /* StateExited: the variables the state assigned */
  /* StateExited: since the state was entered; the execution's last event:
   * since it started (for the log). */
  bool has_duration;
  int64_t duration_ms;
};

/* What recording an event takes (history.c). Everything an event says is
 * given here, before listeners hear of it. */
typedef struct wf__event_args {
  wf__event_type type;
  const wf__state *st; /* NULL: an execution-level event */
  json_t *data;        /* borrowed: a reference is taken */
  const char *error, *cause;
  int64_t number, number2;
  const char *text;
  int64_t prev; /* an event without a frame: its previousEventId */
  json_t *assigned; /* borrowed: a reference is taken */
} wf__event_args;

/* An event as the library's own listeners see it (the log), once it is
 * committed. */
typedef struct wf__event_note {
  const wf_execution *exec;
  const wf__event *ev;
  const char *type_name; /* "TaskStateEntered", ... */
} wf__event_note;

typedef void (*wf__event_sink_fn)(const wf__event_note *note, void *payload);

/* ---- tasks ---- */

typedef enum wf__task_family {
  WF__FAMILY_TASK,     /* arn:aws:states:::service:api */
  WF__FAMILY_LAMBDA,   /* arn:aws:lambda:...:function:... */
  WF__FAMILY_ACTIVITY  /* arn:aws:states:...:activity:... */
} wf__task_family;

typedef enum wf__task_status {
  WF__TASK_PENDING,
  WF__TASK_DONE,    /* completed by the handler or a token call */
  WF__TASK_EXPIRED  /* timed out or cancelled: completion is ignored */
} wf__task_status;

struct wf_task {
  atomic_int refs;
  wf__job job;        /* its handler call, on the worker pool */
  wf__frame *frame;   /* holds a frame reference */
  wf_engine *engine;
  wf__task_status status; /* guarded by the execution lock */
  atomic_int cancelled;
  atomic_bool settled; /* no longer pending: its timers are stale */
  char token[33]; /* 128 random bits from the system, hex */
  json_t *input;      /* effective input (shared) */
  char *input_text;   /* lazily serialised */
  pthread_mutex_t text_lock;
  const char *resource;
  unsigned attempt;
  int64_t deadline;
  int64_t heartbeat_seconds;
  int64_t heartbeat_deadline; /* of the last heartbeat's timer (lock) */
  bool timeout_armed;         /* TimeoutSeconds was given */
  uint64_t heartbeat_gen; /* bumped by every heartbeat */
  /* Durable stores: the handler runs once the task is committed (a
   * callback task's token must not get out first); the token was made
   * durable before wf_task_token() returned it; this call may repeat one
   * made before a crash (the handler's context says so). */
  bool defer_call;
  bool token_durable;
  bool redelivered;
  bool activity_started; /* a worker took this activity task (lock) */
  char key[160]; /* idempotency key, stable across redeliveries */
  size_t timeout_slot, heartbeat_slot; /* its timers (the runtime's) */
  bool heartbeat_missed; /* its States.Timeout is a heartbeat's (lock) */
  struct wf__handler *handler;
  bool registered;         /* in the engine's token map (xlock) */
  bool unregistered_final; /* completed: never register again (xlock) */
  /* Inline calls complete on the stepping thread without re-locking. */
  pthread_t inline_thread;
  bool in_inline_call;
  /* The outcome, filled on completion. */
  bool ok;
  json_t *output;
  char *error, *cause;
};

/* ---- frames ---- */

typedef enum wf__park {
  WF__PARK_NONE,     /* runnable or running */
  WF__PARK_TASK,     /* waiting for a task outcome */
  WF__PARK_TIMER,    /* Wait state or retry back-off */
  WF__PARK_CHILDREN, /* Parallel / Map waiting for branches or iterations */
  WF__PARK_DONE
} wf__park;

typedef enum wf__phase {
  WF__PH_ENTER,       /* enter the current state */
  WF__PH_TASK_DONE,   /* a task outcome is ready */
  WF__PH_WAIT_DONE,   /* a Wait state's timer fired */
  WF__PH_RETRY,       /* a back-off elapsed: run the task again */
  WF__PH_CHILDREN_DONE
} wf__phase;

struct wf__frame {
  atomic_int refs;
  wf__job job;        /* its turn on a scheduler thread */
  int64_t id;         /* unique in its execution, kept across restarts */
  wf_execution *exec; /* the frame holds a reference */
  wf__frame *parent;
  size_t child_index;
  const wf__scope *scope;
  int state;
  wf__phase phase;
  wf__park park;
  uint64_t wake_gen; /* bumped on every park, to drop stale timers */
  size_t wake_slot;  /* its wake-up timer (the runtime's) */
  int64_t wake_at;   /* when that timer fires (clock ms) */
  bool heartbeat_fault; /* the error being handled is a missed heartbeat */
  bool queued; /* posted to the runtime or on its execution's ready list */
  bool finished;
  wf__frame *qnext; /* the execution's ready list */

  json_t *input;     /* raw input of the current state */
  size_t input_size; /* upper bound of its serialised size */
  /* Its numbers are as a JSONata result has them (no whole reals, no
   * integers past 2^53): it was one. A JSONata evaluation may then share
   * its containers without looking into them. */
  bool input_normal;
  json_t *effective; /* Task: input after InputPath/Parameters */
  json_t *ctx;       /* cached context object for the current state */
  int64_t entered_id, entered_ms;
  int64_t entered_prev; /* the StateEntered event's previous event */
  int64_t prev_event; /* previousEventId for this frame's next event */
  unsigned retry_count;
  unsigned *attempts; /* per retrier, for the current state visit */
  size_t nattempts;
  wf_task *task;
  wf__budget budget; /* of the evaluation in progress (wf__eval_env_init) */
  /* Workflow variables (variables.c): this scope's values (an object, or
   * NULL for none yet) and what the current state has assigned so far. */
  json_t *vars;
  json_t *pending_vars;
  /* Bytes the variables take (values as compact JSON, plus names), for the
   * execution's bound: `vars_bytes` committed, `pending_bytes` what the
   * staged values add (may be negative). */
  int64_t vars_bytes, pending_bytes;

  /* Outcome of the frame once finished. */
  bool ok;
  json_t *output;
  char *error, *cause;

  /* Context items of a Map iteration ($$.Map.Item). */
  json_t *map_item;
  const char *map_key; /* for an object iterated by key (borrowed) */
  int64_t map_index;

  /* A child execution of a distributed Map: its events are not part of
   * the parent's history; it numbers its own (ExecutionStarted being 1). */
  bool own_history;
  int64_t own_next_id;
  int64_t *id_counter; /* the child execution's counter, NULL: the parent's */

  /* Fan-out bookkeeping of a Parallel or Map frame. */
  struct wf__fanout *fan;
};

/* A Parallel or Map state waiting for its branches or iterations. */
typedef struct wf__fanout {
  json_t *items;     /* Map: the items (array); Parallel: NULL */
  json_t *keys;      /* Map over an object: its keys, else NULL */
  json_t *input;     /* effective input: branch input, ItemSelector input */
  json_t *results;   /* array, one slot per branch / iteration */
  wf__frame **children; /* running children by index (NULL when done) */
  /* Which children succeeded: a redrive reruns only the others (AWS). */
  unsigned char *succeeded;
  size_t total, next, running, done, failures;
  size_t max_running; /* 0: no limit */
  bool failed;
  char *error, *cause;
  int64_t last_iteration_event; /* id of the latest MapIteration* event */
  /* Distributed Map */
  bool distributed;
  int64_t tolerated_count;      /* -1: not set */
  double tolerated_percentage;  /* <0: not set */
  size_t batch_items;           /* ItemBatcher: items per batch (0: none) */
  json_t *batch_input;          /* ItemBatcher BatchInput (evaluated) */
  char *map_run_arn;            /* its Map Run */
  struct wf__map_run *run;      /* its record (map_run.c); may be NULL */
  /* ResultWriter: per child, its record (map_writer.c); null until the
   * child starts. NULL without a ResultWriter. */
  json_t *records;
  /* A STANDARD child execution that failed or was aborted: its frame as
   * it stopped (wf__snapshot_encode_child), by index ("7": {...}), for a
   * redrive to go on from its unsuccessful state; NULL: none kept. */
  json_t *kept;
  /* A share of another fan-out's children run as a unit of work
   * (map_shard.c): the parent's index of child 0; 0 otherwise. */
  size_t base;
  /* Its children spread over the workers of a shared store (map_shard.c);
   * NULL when they run here as frames. */
  struct wf__shards *shards;
} wf__fanout;

/* A Distributed Map's children spread over the workers of a shared store
 * (map_shard.c): cut into shares of `size`, each a unit of work
 * (WF_STORE_EXEC_WORK) any worker claims and runs, whose end it writes as
 * a document the parent's worker reads back. */
/* A share: not handed out yet, out, its end folded in, or being stopped
 * (the Map failed: its end is waited for before the Map's). */
enum { WF__SHARD_WAITING, WF__SHARD_OUT, WF__SHARD_DONE, WF__SHARD_STOPPING };
typedef struct wf__shards {
  size_t size, count; /* children per share; shares */
  size_t next;        /* the next share to hand out */
  unsigned char *state; /* per share: WF__SHARD_* */
  json_t *inbox;      /* end documents read, not yet folded (array) */
} wf__shards;

/* An execution that is a unit of work (map_shard.c): whose children it
 * runs, and what its end hands back. */
typedef struct wf__work {
  char *parent;      /* the parent execution's ARN: the $$.Execution.Id,
                        the owner of the documents its commits write */
  char *parent_name; /* $$.Execution.Name */
  char *run_arn;     /* the Map Run */
  size_t shard;      /* which share of the run */
  size_t base;       /* the run's index of its first child */
  json_t *input;     /* the parent's input, once read (wf__work_input) */
  char *done;        /* its end document's body, once it has ended */
  bool done_taken;   /* ... taken by a commit */
} wf__work;

/* The ARN and name an execution shows its states and handlers: a unit of
 * work shows its parent's. */
#define WF__EXEC_SHOWN_ARN(x) ((x)->work ? (x)->work->parent : (x)->arn)
#define WF__EXEC_SHOWN_NAME(x) \
  ((x)->work ? (x)->work->parent_name : (x)->name)

/* Store documents written with a commit: every string owned. */
typedef struct wf__docs {
  wf_store_document *v;
  size_t n, cap;
} wf__docs;

/* Executions written with a commit (units of work it hands out), every
 * string owned. */
typedef struct wf__rows {
  wf_store_execution *v;
  size_t n, cap;
} wf__rows;

/* ---- executions ---- */

struct wf_execution {
  atomic_int refs;
  wf_engine *engine;
  wf_machine *machine;
  pthread_mutex_t lock; /* guards everything below and all frames */
  char *name, *arn, *key, *correlation_id;
  char *machine_arn; /* what lists of its machine filter on */
  char *test_case;   /* its mock test case, or NULL */
  json_t *input;
  char *input_text;  /* as given (the store keeps it) */
  int64_t start_ms, stop_ms;
  _Atomic int status; /* wf_exec_status */
  /* What every frame's variables take together (AWS's 10 MiB bound);
   * atomic as a frame may be released without the lock. */
  _Atomic int64_t vars_bytes;
  json_t *output;
  char *output_text;
  char *error, *cause;
  bool registered; /* present in the engine's name registry (xlock) */
  char *role_arn;    /* NULL: the engine's */
  /* Ended: its last event is recorded; the status becomes visible once
   * that is committed. */
  bool ended;
  wf_exec_status end_status;
  bool resumed; /* loaded back from a store */
  /* Its lease went to another process (share.c): nothing of it runs or
   * is committed here any more (lock). */
  bool dropped;
  /* Its lease was found lost (by the committer or the claimer): nothing
   * more of it is committed; it is dropped soon (share.c). */
  _Atomic bool lost;
  /* Redrives (recover.c): how many, the last one's time (0: none), and
   * the state kept at an unsuccessful end, to restart from (NULL: not
   * redrivable). */
  int64_t redrive_count, redrive_ms;
  char *redrive_state;
  /* Its frames, to be stopped once no state is running (a full history
   * ended it from inside a state). */
  wf__frame *doomed;
  /* Its Map Runs changed since its last commit request (map_run.c), each
   * a reference: their records go with the next commit. */
  struct wf__map_run **dirty_runs;
  size_t ndirty_runs, dirty_runs_cap;

  /* Events recorded and not yet committed, in order. */
  wf__event *events;
  size_t nevents, cap;
  int64_t next_event_id;
  _Atomic int64_t committed_events; /* in the store: ids 1..this */
  int64_t next_frame_id;
  /* Commits (commit.c): requests made (lock) and done (the committer's
   * lock); the item queued and not yet taken, which requests join. */
  bool dirty;
  uint64_t commit_requested;
  uint64_t commit_done;
  int commit_error; /* a failed start commit's code (committer's lock) */
  struct wf__commit_item *queued;
  wf__rng rng;
  wf__frame *top;
  uint64_t timeout_gen;
  size_t timeout_slot; /* its TimeoutSeconds timer (the runtime's) */
  /* Frames of this execution made runnable while a thread is stepping it
   * (lock held) run on that thread, in order: deterministic event ids. */
  bool draining;
  wf__frame *ready_head, *ready_tail;

  /* A TestState run (test_state.c): never registered, kept or announced;
   * NULL for every other execution. */
  struct wf__probe *probe;
  /* A unit of work (map_shard.c): records no history of its own; NULL
   * for every other execution. */
  wf__work *work;
  /* Units of work handed out, and their end documents folded in (to be
   * deleted), since the last commit request: written with the next. */
  wf__rows work_rows;
  wf__docs work_docs;

  /* Mocked Task states: state name -> response name, for this test case. */
  json_t *mock_case;
  json_t *mock_responses;
  wf__strmap mock_calls; /* state name -> invocation count (intptr) */
};

/* ---- handlers ---- */

/* Who registered a handler, when it is not the program itself (a plugin):
 * told of each call so it can wait for its calls before going away. */
typedef struct wf__handler_owner {
  /* A call is about to start (called under the registry's read lock, so
   * an owner that first takes the handlers out cannot miss it). */
  void (*call_begin)(void *owner);
  /* That call returned. */
  void (*call_end)(void *owner);
} wf__handler_owner;

typedef struct wf__handler {
  char *resource;
  wf_handler_fn fn;
  void *payload;
  unsigned flags;
  atomic_int refs; /* registrations + in-flight calls */
  const wf__handler_owner *owner_ops; /* NULL: registered by the program */
  void *owner;
} wf__handler;

typedef struct wf__listener {
  wf_event_cb cb;
  void *payload;
} wf__listener;

typedef struct wf__sink {
  wf__event_sink_fn fn;
  void *payload;
  void (*release)(void *payload); /* with the engine's memory; or NULL */
} wf__sink;

/* Something a higher layer keeps on an engine (the plugin host), torn down
 * by wf_engine_free() before the worker pool stops. */
typedef struct wf__attachment {
  const void *key;
  void *data;
  void (*teardown)(wf_engine *e, void *data);
  struct wf__attachment *next;
} wf__attachment;

/* ---- the engine ---- */

struct wf_engine {
  /* The owner's reference plus one per execution, so handles outlive
   * wf_engine_free(); the memory goes with the last. */
  atomic_int refs;
  wf_clock *clock;
  size_t payload_limit;
  uint64_t expression_cpu_ns; /* an evaluation's CPU budget */
  wf_history_mode history;
  wf_log_cb log;
  void *log_payload;
  char *region, *account, *role_arn;

  /* Run queue, timers, scheduler threads and the handler pool. */
  wf__sched sched;
  unsigned nsched, npool;

  /* Where executions are kept (commit.c); own_store: made by the engine. */
  wf_store *store;
  bool own_store;
  bool durable;
  bool resumed; /* wf_engine_resume() was called (attach_lock) */
  /* wf_engine_free() has begun: nothing more is handed out or stopped
   * on the store's other workers (map_shard.c). */
  atomic_bool closing;
  /* Units of work (map_shard.c) running here. */
  atomic_size_t work_running;
  struct wf__committer *committer;
  struct wf__share *share; /* a shared store's claimer (share.c) */

  /* Handlers (hlock). */
  pthread_rwlock_t hlock;
  wf__strmap handlers;
  wf__handler **prefixes;
  size_t nprefixes;

  /* Executions and task tokens (xlock). */
  size_t max_running; /* registered executions at most; 0: no bound */
  pthread_mutex_t xlock;
  wf__strmap executions; /* key -> wf_execution (running, or kept) */
  wf__strmap tokens;     /* token -> wf_task (pending) */
  /* wf_engine_resume() is putting executions back: a lookup that finds
   * nothing waits for it to end (resumed_cond) and looks again. */
  bool resuming;
  pthread_t resumer; /* never waits for itself (an inline handler) */
  pthread_cond_t resumed_cond;
  /* Each execution's random stream is seeded from these, without a lock:
   * the same engine seed gives the same seeds in start order. */
  uint64_t seed_base;
  atomic_uint_fast64_t starts;
  json_t *mock_config;

  /* Listeners: the program's and the library's own (hlock). */
  wf__listener *listeners;
  size_t nlisteners;
  wf__sink *sinks;
  size_t nsinks;

  /* What higher layers keep on the engine (attach_lock). */
  pthread_mutex_t attach_lock;
  wf__attachment *attachments;

  /* Structured log sink: the callback, a file, or both (log_lock). */
  pthread_mutex_t log_lock;
  FILE *log_file;
  bool log_file_owned;
  wf_log_level log_level;
};

/* The engine's clock, ms since the epoch. */
static inline int64_t wf__engine_now(wf_engine *e) {
  return wf_clock_now(e->clock);
}

/* engine.c */
/* The data a higher layer keeps on this engine under `key`, made by
 * create(e) on first use; teardown(e, data) runs in wf_engine_free()
 * before the worker pool stops. NULL when create fails. */
void *wf__engine_attachment(wf_engine *e, const void *key,
                            void *(*create)(wf_engine *e),
                            void (*teardown)(wf_engine *e, void *data));

/* engine_ref.c: the engine's memory outlives wf_engine_free() while
 * executions hold it. */
wf_engine *wf__engine_ref(wf_engine *e);
void wf__engine_release(wf_engine *e);

/* handlers.c: the registry of handlers by resource. */
void wf__handlers_init(wf_engine *e);
void wf__handlers_free(wf_engine *e);
/* The handler for a resource (exact, else the longest prefix), with a
 * reference for the call and its owner told of the call; NULL: none. */
wf__handler *wf__handler_find(wf_engine *e, const char *resource);
/* Register a handler record; *out (optional) gets it, without an extra
 * reference. */
int wf__handler_add(wf_engine *e, const char *resource, wf_handler_fn fn,
                    void *payload, unsigned flags,
                    const wf__handler_owner *owner_ops, void *owner,
                    wf__handler **out, wf_error *err);
/* Unregister a record added by wf__handler_add. */
void wf__handler_remove(wf_engine *e, wf__handler *h);
/* Run the handler's function for a task, then end the call (the owner is
 * told, the reference taken by wf__handler_find is dropped). */
void wf__handler_call(wf__handler *h, wf_task *t);
void wf__handler_release(wf__handler *h);

/* exec.c */
wf_execution *wf__exec_ref(wf_execution *x);
void wf__exec_release(wf_execution *x);
/* Finish the execution (lock held): its end is committed, then shown. */
void wf__exec_finish(wf_execution *x, wf_exec_status status, json_t *output,
                     const char *error, const char *cause);
/* Its end is committed: the status becomes visible, waiters wake. */
void wf__exec_visible_end(wf_execution *x);
/* Its start could not be committed: it never existed. */
void wf__exec_abandon(wf_execution *x);
/* The history reached AWS's limit: the execution fails with its last
 * event (lock held); returns that event's id. */
int64_t wf__exec_history_full(wf_execution *x);
/* Stop the frames of an execution its history ended (lock held; no
 * state of it running). */
void wf__exec_reap(wf_execution *x);
/* Arm the machine's TimeoutSeconds from the start time (lock held). */
void wf__exec_arm_timeout(wf_execution *x);
/* Set up a mock test case (start and resume). */
int wf__exec_setup_mock(wf_execution *x, const char *test_case,
                        wf_error *err);
/* Add an execution to the engine's registry (WF_EEXIST: its key is
 * taken). */
/* Enter x in the registry: WF_EEXIST (its key is taken), WF_EBUSY (at the
 * engine's max_running, when `limited`: a start, not a resume). */
int wf__exec_register(wf_execution *x, bool limited);
/* A new execution record, not yet registered or started. */
wf_execution *wf__exec_alloc(wf_engine *e, wf_machine *m);
/* A TestState run's execution of m: unregistered, never committed
 * (NULL: out of memory, err set). */
wf_execution *wf__exec_new_probe(wf_engine *e, wf_machine *m, json_t *input,
                                struct wf__probe *probe, wf_error *err);
/* Run it on this thread, as wf_engine_run() runs one, until it ends. */
void wf__exec_run_probe(wf_execution *x);

/* test_state.c: what the state machinery tells a TestState run (each
 * called only when f->exec->probe is set). */
typedef enum wf__probe_stage {
  WF__PROBE_AFTER_INPUT_PATH,
  WF__PROBE_AFTER_ARGUMENTS, /* Parameters (JSONPath) or Arguments */
  WF__PROBE_RESULT,
  WF__PROBE_AFTER_RESULT_SELECTOR,
  WF__PROBE_AFTER_RESULT_PATH,
  WF__PROBE_STAGES
} wf__probe_stage;
/* The top frame before its first step: its state and variables. */
void wf__probe_prepare(wf__frame *top);
/* The value (borrowed) the state has at `stage`. */
void wf__probe_note(wf__frame *f, wf__probe_stage stage, json_t *value);
/* The state leaves toward `next` (-1: none): the run ends there. */
void wf__probe_exit(wf__frame *f, int next);
/* How many retries the state's retriers have made (retrierRetryCount). */
unsigned wf__probe_retries(const wf__frame *f);
/* Retrier `index` matched the error: it would retry after `backoff_ms`
 * (the run ends RETRIABLE), or, at -1, it has no attempts left. */
void wf__probe_retrier(wf__frame *f, size_t index, int64_t backoff_ms);
/* Catcher `index` takes the error: the state leaves CAUGHT_ERROR. */
void wf__probe_caught(wf__frame *f, size_t index, const char *error,
                      const char *cause);
/* The context object given to the run, or NULL (borrowed). */
json_t *wf__probe_context(const wf__frame *f);
/* Whether task t belongs to a TestState run at the TRACE level (an HTTP
 * Task then reports its exchange); *reveal: revealSecrets. Any thread. */
bool wf__task_traced(const wf_task *t, bool *reveal);
/* The exchange of a traced task: AWS's inspectionData request and response
 * (stolen; either may be NULL). Any thread, before the task completes. */
void wf__task_trace(wf_task *t, json_t *request, json_t *response);

/* frame.c */
wf__frame *wf__frame_new(wf_execution *x, wf__frame *parent,
                         const wf__scope *scope, json_t *input);
wf__frame *wf__frame_ref(wf__frame *f);
void wf__frame_release(wf__frame *f);
/* Make a frame runnable (execution lock held): it runs next on the thread
 * stepping its execution, if one is, else a scheduler thread takes it. */
void wf__frame_schedule(wf__frame *f);
/* Park a frame until `deadline` (clock ms), then run it in `phase`
 * (execution lock held). Without memory for the timer it runs at once:
 * early, never late. */
void wf__frame_wake_at(wf__frame *f, int64_t deadline, wf__phase phase);
/* Step `f` and then every frame of its execution made ready meanwhile, on
 * this thread (execution lock held); leftovers beyond the budget go to the
 * run queue. */
void wf__exec_drain(wf_execution *x, wf__frame *f);
/* A child frame (branch or iteration) finished: tell its parent (lock
 * held). */
void wf__fanout_child_done(wf__frame *child);
/* A redriven Parallel/Map frame: its children that did not succeed run
 * again when it next steps (lock held). */
void wf__fanout_redrive(wf__frame *f);
/* Stop every running child of a Parallel/Map frame (lock held). */
void wf__fanout_cancel(wf__frame *f);
void wf__fanout_free(struct wf__fanout *fan);
/* Stop a frame and everything under it (lock held). */
void wf__frame_cancel(wf__frame *f);

/* task.c */
wf_task *wf__task_new(wf__frame *f, json_t *input, const char *resource,
                      unsigned attempt, int64_t deadline);
wf_task *wf__task_ref(wf_task *t);
void wf__task_release(wf_task *t);
/* Complete a task (lock NOT held, or held by this thread's inline call):
 * records the outcome and wakes the frame. `output` is stolen. WF_OK, or
 * WF_ESTATE when it was no longer pending. */
int wf__task_complete(wf_task *t, bool ok, json_t *output, const char *error,
                      const char *cause);
/* Complete it `delay_ms` from now on the engine's clock (handlers'
 * succeed_after/fail_after). `output` is stolen. */
int wf__task_complete_after(wf_task *t, int64_t delay_ms, bool ok,
                            json_t *output, const char *error,
                            const char *cause);
/* The engine's clock, for handlers. */
int64_t wf__task_now(const wf_task *t);
/* Start the task's TimeoutSeconds and HeartbeatSeconds timers. */
void wf__task_arm_timeouts(wf_task *t, int64_t timeout_s, int64_t now);
/* Call handler h for the task: inline on this thread (lock held; the
 * handler may complete it at once) or on the worker pool. */
void wf__task_call(wf_task *t, wf__handler *h);
/* Under xlock: wait while wf_engine_resume() runs; true when it did (a
 * lookup that found nothing should look again). */
bool wf__wait_resumed(wf_engine *e);
/* engine.c: the execution with this ARN running here (a reference), or
 * NULL; `wait`: while wf_engine_resume() runs, wait for it first. */
wf_execution *wf__engine_lookup(wf_engine *e, const char *arn, bool wait);
/* The copy of arn still registered here whose lease was found lost, or
 * NULL (a reference). */
wf_execution *wf__engine_lookup_lost(wf_engine *e, const char *arn);
/* recover.c: resume the running executions `read` hands to its callback
 * (with the callback's payload; `arg` is read's own). */
typedef int (*wf__resume_read)(wf_engine *e, wf_store_execution_cb cb,
                               void *list, void *arg, wf_error *err);
int wf__resume_from(wf_engine *e, wf__resume_read read, void *arg,
                    size_t *resumed, wf_error *err);

/* share.c: work sharing over a shared store. Start: claim what nobody
 * runs (*resumed: how many) and keep claiming, renewing this process's
 * lease, in a thread of its own; stop ends the thread (engine free). */
int wf__share_start(wf_engine *e, size_t *resumed, wf_error *err);
void wf__share_stop(wf_engine *e);
/* After the committer has stopped: what is left goes. */
void wf__share_free(wf_engine *e);
/* Bring an execution another process runs here (an API call about it
 * reached this one): WF_OK once it runs here, WF_ENOTFOUND when it has
 * no state to run (ended, or no such execution), or the store's error. */
int wf__share_adopt(wf_engine *e, const char *arn, wf_error *err);
/* Before an answer about x that only its next commit would confirm (a
 * task answered by token, a takeover): whether this process still holds
 * its lease, as the database has it now; false: it went elsewhere, and x
 * is marked lost here. True when the store is not shared. */
bool wf__share_confirm(wf_engine *e, wf_execution *x);
/* A task token sent here that no execution running here holds: bring
 * the executions holding it here; true when one was. */
bool wf__share_adopt_token(wf_engine *e, const char *token);
/* Poll the Distributed Maps' shares now (a unit of work ended here: its
 * end to fold, a slot free for another). Any thread. */
void wf__share_poke(wf_engine *e);
/* Drop the executions whose lease went to another process. */
void wf__share_drop_lost(wf_engine *e);
/* exec.c: forget an execution another process now runs: its frames and
 * timers stop, nothing more of it is committed; handles keep RUNNING. */
void wf__exec_drop(wf_execution *x);

/* A task in flight at a crash, resumed: call its handler again
 * (state_task.c; no lock held). */
void wf__task_redeliver(wf_task *t);
/* A deferred call's task is committed: call its handler on the pool. */
void wf__task_call_committed(wf_task *t);
/* A call whose commit failed is not made: its handler reference goes. */
void wf__task_call_dropped(wf_task *t);
/* Make the task reachable by token after a restart (lock held). */
void wf__task_register(wf_task *t);
void wf__task_expire(wf_task *t); /* lock held */
/* Make the task reachable by token (done for tasks left pending). */
void wf__task_publish(wf_task *t);
wf__task_family wf__task_family_of(const char *resource);
/* exec.c: a name as AWS allows it for executions and activities. */
bool wf__name_ok(const char *s);

/* history.c: recording events. */
/* AWS's hard limit of events in one execution's history. */
#define WF__HISTORY_LIMIT 25000
/* Record an event (lock held); returns its id. */
int64_t wf__history_record(wf_execution *x, wf__frame *f,
                           const wf__event_args *a);
/* The same for an event with no numbers or text. `data` is borrowed. */
int64_t wf__history_add(wf_execution *x, wf__frame *f, wf__event_type type,
                        const wf__state *st, json_t *data, const char *error,
                        const char *cause);
void wf__history_free(wf_execution *x);
void wf__event_free(wf__event *ev);
/* Add one of the library's own listeners (before any execution starts).
 * `release` (optional) frees the payload with the engine's memory: a
 * sink may hear events until then (the last commits after
 * wf_engine_free()'s teardown of attachments). */
int wf__history_add_sink(wf_engine *e, wf__event_sink_fn fn, void *payload,
                         void (*release)(void *payload));
/* {"events":[...]} of an execution, from the store; NULL on failure. */
char *wf__history_read(wf_engine *e, const char *arn, bool reverse);
/* The payload texts rendered for recent events, by value: the events of
 * a commit often carry one value twice (a state's output is the next
 * one's input). Valid while those events hold their values, so for one
 * batch of renderings; zero-initialise, free with wf__render_cache_free. */
#define WF__RENDER_CACHE_SLOTS 4
typedef struct wf__render_cache {
  const json_t *value[WF__RENDER_CACHE_SLOTS];
  wf__strbuf text[WF__RENDER_CACHE_SLOTS];
  unsigned next;
} wf__render_cache;
void wf__render_cache_free(wf__render_cache *c);
/* An event as GetExecutionHistory shows it; `cache` may be NULL. */
void wf__event_render(wf__strbuf *b, const wf_execution *x,
                      const wf__event *ev, wf__render_cache *cache);
/* "ExecutionStarted", "PassStateEntered", ...: a static string. */
const char *wf__event_type_name(const wf__event *ev);

/* commit.c: making progress durable and visible (see the file's head). */
#define WF__COMMIT_START 0x1u
#define WF__COMMIT_FINAL 0x2u
/* Nobody waits for this request: what x has become may be taken when the
 * commit is written rather than now (a request with a call is one). */
#define WF__COMMIT_LATER 0x4u
int wf__commit_init(wf_engine *e, wf_error *err);
/* Write what is queued, then stop. */
void wf__commit_fini(wf_engine *e);
/* Request a commit of x as it stands and of its events since the last
 * (lock held); `call`: a task whose handler runs once it is committed.
 * Returns the ticket to wait for. Volatile stores commit at once. */
uint64_t wf__commit_request(wf_execution *x, unsigned flags, wf_task *call);
/* Wait until `ticket` of x is committed (may hold x's lock: the committer
 * never waits for it). WF_OK, or the code a failed start commit got. */
int wf__commit_wait(wf_execution *x, uint64_t ticket);

/* snapshot.c: an execution's resumable state as JSON text, and back. */
/* Only the execution's redrive count and time (a redriven execution that
 * succeeded: no frames to keep). */
void wf__docs_free(wf__docs *d);
/* Append d's documents to `to` (d emptied); false when out of memory
 * (d unchanged). */
bool wf__docs_move(wf__docs *to, wf__docs *d);
/* map_run.c: the records of x's Map Runs changed since its last commit
 * request, as documents (x->lock held); out of memory: they stay for the
 * next. */
void wf__map_run_take_docs(wf_execution *x, wf__docs *out);
/* map_shard.c: the units of work x handed out, and x's own end document
 * (a unit of work), since its last commit request (x->lock held). */
void wf__shard_take(wf_execution *x, wf__rows *rows, wf__docs *docs);
void wf__rows_free(wf__rows *r);
/* Append r's rows to `to` (r emptied); false when out of memory. */
bool wf__rows_move(wf__rows *to, wf__rows *r);
/* map_shard.c: the parent's input, $$.Execution.Input of a unit of work's
 * states, read from the store the first time one asks (lock held;
 * borrowed). */
json_t *wf__work_input(wf_execution *x);
/* map_shard.c: a unit of work's "work", as its state keeps it. */
json_t *wf__work_encode(const wf__work *w);
/* map_shard.c: x's unit of work let go (its release). */
void wf__work_free(wf__work *w);
/* map_shard.c: the "work" of a unit of work's state read back; WF_OK or
 * WF_ECORRUPT, WF_ENOMEM. */
int wf__work_decode(wf_execution *x, const json_t *o, wf_error *err);
/* map_shard.c: a unit of work that cannot run (it cannot be resumed):
 * its end document fails its children with `cause` (lock held). */
void wf__shard_fail(wf_execution *x, const char *cause);
/* map_shard.c: poll the shares of the Map Runs this process waits for,
 * and claim units of work; how long until the next poll (ms). The share
 * thread's (share.c). */
int64_t wf__shard_poll(wf_engine *e);
/* map_run.c: x's references to Map Runs with changes let go (its end). */
void wf__map_run_drop_dirty(wf_execution *x);
/* map_run.c: the Map Runs of x's frames, resumed or redriven from the
 * store, found again (x->lock held). */
void wf__map_run_resume(wf_execution *x);
char *wf__snapshot_encode_redrives(wf_execution *x);
char *wf__snapshot_encode(wf_execution *x);
/* The state of a unit of work (map_shard.c): `f`, a frame made for it
 * (of f->exec's machine, with its fan-out), its one frame; `work` its
 * "work" (borrowed). */
char *wf__snapshot_encode_work(const wf__frame *f, json_t *work);
/* state_fanout.c: an empty fan-out of `total` children (NULL: out of
 * memory). */
wf__fanout *wf__fanout_new(size_t total);
/* A distributed Map's child frame `f` as it stopped, alone (no task, no
 * children, no iteration item: its relaunch sets that), to be redriven
 * from its state (new reference; NULL when out of memory). */
json_t *wf__snapshot_encode_child(const wf__frame *f);
/* The frame `kept` holds rebuilt as a child of `parent` (not linked to
 * its fan-out); WF_ECORRUPT or WF_ENOMEM, *out NULL, when it cannot be
 * (x->lock held). */
int wf__snapshot_decode_child(wf__frame **out, wf__frame *parent,
                              json_t *kept, wf_error *err);
/* recover.c: a frame kept at an unsuccessful end made to run again when
 * it is next scheduled: a Map or Parallel reruns its children that did
 * not succeed, any other state is entered again with its input, its
 * retriers' counts at zero (x->lock held). */
void wf__frame_rearm(wf__frame *f);
/* Rebuild x's frames from a snapshot (x->lock held, x otherwise set up);
 * *runnable gets the frames to schedule. */
int wf__snapshot_decode(wf_execution *x, const char *text, wf_error *err);

/* context.c: the context object ($$) of a frame's current state. */
/* The registry key of an execution (machine and name; an EXPRESS
 * execution's id too, from its ARN, as its name may repeat). New string
 * (wf__free), NULL on out-of-memory. */
char *wf__exec_key(const char *machine, const char *name, const char *arn);
json_t *wf__context_get(wf__frame *f);
void wf__eval_env_init(wf__eval_env *env, wf__frame *f, json_t *input);
/* Evaluate `p` on `doc` with f's context ($$). Returns what
 * wf__jsonpath_eval_env returns; `detail` (NULL: not wanted) says why it
 * failed. */
int wf__frame_eval_path(json_t **out, wf__frame *f, const wf__jsonpath *p,
                        json_t *doc, wf__strbuf *detail);

/* mock.c */
int wf__mock_validate(json_t *config, char *msg, size_t msglen);
/* The mocked outcome of the next call of state `st` in x: returns false
 * when the state is not mocked in this test case. */
bool wf__mock_next(wf_execution *x, const wf__state *st, bool *ok,
                   json_t **output, const char **error, const char **cause,
                   bool *missing);

/* log.c: structured log lines. It listens to events (wf__log_on_event,
 * a wf__event_sink_fn with the engine as payload) and calls nothing back. */
int wf__log_open(wf_engine *e, const char *path, wf_error *err);
void wf__log_close(wf_engine *e);
bool wf__log_enabled(const wf_engine *e, wf_log_level level);
void wf__log_on_event(const wf__event_note *note, void *engine);
/* A line of the engine's own (the store failing, ...). */
void wf__log_engine(wf_engine *e, wf_log_level level, const char *event,
                    const char *message);
/* A handler's own line, with its task's correlation id. */
void wf__log_task(const wf_task *t, wf_log_level level, const char *event,
                  const char *fields_json);
void wf__log_plugin(wf_engine *e, const char *event, const char *name,
                    const char *path);
/* Audit: a resource outside a machine's allowlist was refused. */
void wf__log_denied(wf_execution *x, const char *state, const char *resource);

#endif
