/*
 * libworkflow: the execution engine.
 *
 * An engine runs executions of machines concurrently with the semantics of
 * AWS Step Functions Standard workflows. Each execution is an explicit
 * record advanced step by step by the engine's scheduler threads; Wait
 * states, retry back-offs and timeouts are timers; Task states call
 * handlers registered by resource, on a worker pool (or inline for handlers
 * that never block).
 */
#ifndef WF_ENGINE_H
#define WF_ENGINE_H

#include <stdint.h>

#include "workflow/clock.h"
#include "workflow/common.h"
#include "workflow/handler.h"
#include "workflow/machine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_engine wf_engine;
typedef struct wf_execution wf_execution;
struct wf_store;
struct wf_store_execution;

typedef enum wf_exec_status {
  WF_EXEC_RUNNING = 0,
  WF_EXEC_SUCCEEDED,
  WF_EXEC_FAILED,
  WF_EXEC_TIMED_OUT,
  WF_EXEC_ABORTED
} wf_exec_status;

/** History retention. */
typedef enum wf_history_mode {
  WF_HISTORY_FULL = 0, /**< every event is kept and can be read */
  WF_HISTORY_OFF = 1   /**< only the result is kept; memory stays flat */
} wf_history_mode;

/** One history event, as AWS's GetExecutionHistory reports it. */
typedef struct wf_event {
  int64_t id;
  int64_t previous_id;
  int64_t timestamp_ms;       /**< engine clock, ms since the Unix epoch */
  const char *type;           /**< "ExecutionStarted", "TaskStateEntered", ... */
  const char *execution_arn;
  /** The event as one JSON object in GetExecutionHistory's shape
   *  ({"id":..,"type":..,"<detailsKey>":{...}}); built on demand, valid
   *  during the callback only. */
  const char *json;
} wf_event;

/**
 * Listener for events of every execution of an engine. Called on a
 * scheduler thread while the execution is being stepped: keep it short and
 * never call back into the same execution.
 */
typedef void (*wf_event_cb)(const wf_event *event, void *payload);

/**
 * Log sink: receives one structured JSON line (no trailing newline) per log
 * record. Called from any engine thread; must be thread-safe.
 */
typedef void (*wf_log_cb)(const char *json_line, void *payload);

typedef struct wf_engine_options {
  unsigned int version;
  /** Threads running blocking handlers; 0 means 4. */
  unsigned int worker_threads;
  /** Threads stepping executions; 0 means one per CPU (at most 8). */
  unsigned int scheduler_threads;
  /** Time source; NULL means the system clock. Borrowed: must outlive the
   *  engine. A virtual clock makes waits, back-offs and timeouts
   *  instantaneous (see clock.h). */
  wf_clock *clock;
  /** Payload limit in bytes for state input/output and task results;
   *  0 means AWS's 262,144. */
  size_t payload_limit;
  /** WF_HISTORY_FULL (default) or WF_HISTORY_OFF. */
  wf_history_mode history;
  /** Structured log sink: a callback receiving each JSON line; NULL
   *  means none. */
  wf_log_cb log;
  void *log_payload;
  /** Structured log file: a path to append JSON lines to, "-" for
   *  stderr; NULL means none. Copied. Both sinks may be set. */
  const char *log_path;
  /** The lowest level logged; 0 means WF_LOG_INFO. Lines of every
   *  execution event carry: timestamp, level, correlationId, execution,
   *  state, event, durationMs (time spent in a state, when it leaves it),
   *  error. */
  wf_log_level log_level;
  /** ARN parts; NULL means "us-east-1" and "123456789012". Copied. */
  const char *region;
  const char *account;
  /** Seed for the engine's random numbers (UUIDs, jitter); 0 means seeded
   *  from the system. */
  uint64_t seed;
  /* ---- version 2 ---- */
  /** Where executions, their history and their resumable state are kept
   *  (see store.h). NULL: a store of the engine's own in memory, keeping
   *  at most the newest 100 ended executions (their outputs included).
   *  Borrowed: must outlive the engine.
   *  One engine per store at a time. With a durable store (SQLite), the
   *  executions left running by an engine that stopped or crashed are
   *  resumed by wf_engine_resume(). */
  struct wf_store *store;
  /* ---- version 3 ---- */
  /** Executions running at once (started or resumed, not yet ended),
   *  across every way they are started: past it wf_engine_start() and
   *  wf_engine_run() refuse with WF_EBUSY (AWS's ExecutionLimitExceeded).
   *  Executions resumed from the store are never refused. 0: no bound. */
  size_t max_running;
  /* ---- version 4 ---- */
  /** CPU time, in milliseconds, that one evaluation of a state's
   *  expressions (a payload template with its paths and intrinsic calls,
   *  a Choice state's rules, one Map item's ItemSelector) may use before
   *  the execution fails with States.Runtime; 0 means 1000 (AWS's bound on
   *  a JSONata evaluation). Besides it, every evaluation has a fixed work
   *  budget, regular expressions have match and depth limits, and a
   *  path's result may not pass payload_limit (States.DataLimitExceeded,
   *  as soon as it would). */
  unsigned int expression_cpu_ms;
} wf_engine_options;

/* Version 4 added expression_cpu_ms, 3 max_running, 2 store; older structs
 * are still accepted. */
#define WF_ENGINE_OPTIONS_VERSION 4
#define WF_ENGINE_OPTIONS_INIT {.version = WF_ENGINE_OPTIONS_VERSION}

/**
 * Initialise engine options to their defaults (for bindings without
 * macros). @return WF_OK, WF_EINVAL, WF_EVERSION. Threads: any.
 */
WF_API int wf_engine_options_init(wf_engine_options *opts,
                                  unsigned int version);

/**
 * Create an engine and start its threads.
 * @param[out] out the engine; free with wf_engine_free().
 * @param opts     optional (NULL: defaults); copied.
 * @param[out] err optional.
 * @return WF_OK, WF_EVERSION, WF_EINVAL, WF_EIO (log_path cannot be
 *         opened), WF_ENOMEM, WF_EINTERNAL (threads could not be started).
 * Threads: any.
 */
WF_API int wf_engine_new(wf_engine **out, const wf_engine_options *opts,
                         wf_error *err);

/**
 * Free the engine: wait for in-flight handler calls to return, write what
 * is waiting to be committed and join the threads. With a volatile store
 * every running execution is first stopped (ABORTED); with a durable one
 * running executions are left as they are in the store, to be resumed by
 * the next engine opened on it (wf_engine_resume()). Execution handles the
 * caller still holds stay readable until wf_execution_free(). Accepts
 * NULL.
 * Threads: any thread but the engine's own (not from a handler or listener).
 */
WF_API void wf_engine_free(wf_engine *engine);

/**
 * Resume the executions the engine's store holds as running (left by an
 * engine that stopped or crashed): each continues where its last commit
 * left it — waits fire at their deadlines (at once when past), timeouts
 * and heartbeats keep theirs, retries their counts, Map and Parallel run
 * only their unfinished branches, callback tasks still accept their
 * tokens. A task in flight at the crash is called again: its handler sees
 * wf_task_redelivered() and a stable wf_task_idempotency_key(). Call it
 * once, after registering handlers, loading plugins and setting the mock
 * configuration. A volatile store has nothing to resume. Meanwhile, from
 * other threads, wf_engine_send_task_*() and wf_engine_find_execution()
 * that do not find their task or execution yet wait for it to be put
 * back (they answer as if nothing had crashed).
 * @param[out] resumed optional: how many were resumed.
 * @return WF_OK; WF_ESTATE (called twice); WF_EIO, WF_ECORRUPT (the store);
 *         an execution that cannot be resumed (its definition or state is
 *         damaged) is ended as FAILED with States.Runtime naming why.
 * Threads: any but the engine's own.
 */
WF_API int wf_engine_resume(wf_engine *engine, size_t *resumed,
                            wf_error *err);

/** The store the engine keeps executions in (its own when none was
 *  given). Borrowed. Threads: any. */
WF_API struct wf_store *wf_engine_store(wf_engine *engine);

/**
 * A running execution of this engine, by ARN (what StopExecution and
 * StartSyncExecution need). An execution that has ended, and whose handle
 * the engine has let go, is not found here: read it from the store
 * (wf_store_get_execution() on wf_engine_store()).
 * @param[out] out a new handle; free with wf_execution_free().
 * @return WF_OK, WF_ENOTFOUND (not running here), WF_EINVAL, WF_ENOMEM.
 * Threads: any.
 */
WF_API int wf_engine_find_execution(wf_execution **out, wf_engine *engine,
                                    const char *arn);

/**
 * A running execution by ARN, to act on it (stop it, complete its tasks):
 * as wf_engine_find_execution(), and on a shared store an execution
 * another process runs is brought here first (its lease taken; that
 * process drops it at its next commit or lease renewal, whichever comes
 * first), so that what is done to it here is committed.
 * @param[out] out a new handle; free with wf_execution_free().
 * @return WF_OK, WF_ENOTFOUND (not running anywhere), WF_EINVAL; on a
 *         shared store the store's errors (WF_EIO, WF_ECORRUPT).
 * Threads: any but the engine's own.
 */
WF_API int wf_engine_take_execution(wf_execution **out, wf_engine *engine,
                                    const char *arn, wf_error *err);

/**
 * Register a handler for a Task resource. `resource` is matched exactly
 * ("arn:aws:lambda:us-east-1:123456789012:function:ProcessData"); with
 * WF_HANDLER_PREFIX it matches every resource starting with it (the
 * longest registered prefix wins; an exact registration beats any prefix).
 * @param resource copied.
 * @param fn       called once per task attempt.
 * @param payload  passed to fn; borrowed.
 * @param flags    WF_HANDLER_* flags.
 * @return WF_OK, WF_EEXIST (already registered), WF_EINVAL, WF_ENOMEM.
 * Threads: any.
 */
WF_API int wf_engine_register_handler(wf_engine *engine, const char *resource,
                                      wf_handler_fn fn, void *payload,
                                      unsigned int flags, wf_error *err);

/**
 * Remove a registration. Calls already in flight finish; no new call is
 * made once this returns.
 * @return WF_OK, WF_ENOTFOUND. Threads: any.
 */
WF_API int wf_engine_unregister_handler(wf_engine *engine,
                                        const char *resource,
                                        unsigned int flags);

/**
 * Install a Step Functions Local MockConfigFile (JSON text). Executions
 * started with a test case answer that case's mocked Task states from it.
 * @param json copied (parsed now); NULL removes the configuration.
 * @return WF_OK, WF_EPARSE, WF_EINVALID (not the MockConfigFile shape;
 *         err names the field), WF_ENOMEM.
 * Threads: any; executions already running keep the configuration they
 * started with.
 */
WF_API int wf_engine_set_mock_config(wf_engine *engine, const char *json,
                                     wf_error *err);

/**
 * Subscribe to the events of every execution.
 * @return WF_OK, WF_ENOMEM. Threads: any.
 */
WF_API int wf_engine_add_listener(wf_engine *engine, wf_event_cb cb,
                                  void *payload);

typedef struct wf_start_options {
  unsigned int version;
  /** Execution name: 1–80 characters as AWS allows; unique per machine
   *  among running executions and, with history on, finished ones whose
   *  handle has not been freed yet. NULL:
   *  a generated UUID. Copied. */
  const char *name;
  /** Correlation id carried into logs and the task context; NULL: the
   *  execution's name. Copied. */
  const char *correlation_id;
  /** Mock test case (see wf_engine_set_mock_config()); NULL: none. */
  const char *test_case;
  /* ---- version 2 ---- */
  /** The execution role ($$.Execution.RoleArn, ExecutionStarted's
   *  roleArn), e.g. the machine's; NULL: the engine's. Copied. */
  const char *role_arn;
  /* ---- version 3 ---- */
  /** The state machine (or version) ARN the execution is listed under in
   *  the store; NULL: the machine's
   *  (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME). Copied. */
  const char *machine_arn;
  /** WF_START_* flags. */
  unsigned int flags;
} wf_start_options;

/** Return without waiting for the start to be committed to a durable
 *  store: it is committed in the background, grouped with others (many
 *  starts from one thread share a transaction). Until then a crash loses
 *  the execution as if it had never started; nothing of it is visible
 *  (its events, its status) before, as always. Without it, a start
 *  returns once committed, as StartExecution answers. */
#define WF_START_NOWAIT 0x1u

/* Version 3 added machine_arn and flags, version 2 role_arn; older structs
 * are still accepted. */
#define WF_START_OPTIONS_VERSION 3
#define WF_START_OPTIONS_INIT {.version = WF_START_OPTIONS_VERSION}

/** Initialise start options. @return WF_OK, WF_EINVAL, WF_EVERSION. */
WF_API int wf_start_options_init(wf_start_options *opts,
                                 unsigned int version);

/**
 * Start an execution. It returns once the start is committed to the
 * engine's store. Names are unique per machine among the executions the
 * store keeps (AWS: 90 days): starting a name again with the same input
 * while that execution runs returns it (idempotent, as AWS); an ended one,
 * or other input, gives WF_EEXIST.
 * @param[out] out    the execution handle; free with wf_execution_free()
 *                    (the execution keeps running without it).
 * @param machine     shared: the execution takes its own reference.
 * @param input_json  the execution input, any JSON value (NULL means {});
 *                    not retained.
 * @param opts        optional.
 * @return WF_OK; WF_EPARSE (input not JSON); WF_ELIMIT (input over the
 *         payload limit); WF_EEXIST (name in use for this machine);
 *         WF_EINVAL (bad name, unknown test case); WF_EUNSUPPORTED (the
 *         machine uses ItemReader/ResultWriter, not runnable yet);
 *         WF_EBUSY (max_running executions are running); WF_ESTATE
 *         (engine shutting down); WF_EIO, WF_ENOSPC (the store
 *         could not record it: it did not start); WF_ENOMEM.
 * Threads: any.
 */
WF_API int wf_engine_start(wf_execution **out, wf_engine *engine,
                           wf_machine *machine, const char *input_json,
                           const wf_start_options *opts, wf_error *err);

/**
 * Start an execution and run it to completion on the calling thread, as
 * AWS's StartSyncExecution answers with the result: no thread hand-off for
 * states that do not wait (blocking handlers still run on the pool, and
 * the caller sleeps through Wait states and back-offs unless the clock is
 * virtual). Parameters and errors as wf_engine_start(); on WF_OK the
 * execution has finished (any status).
 * Threads: any but the engine's own.
 */
WF_API int wf_engine_run(wf_execution **out, wf_engine *engine,
                         wf_machine *machine, const char *input_json,
                         const wf_start_options *opts, wf_error *err);

/**
 * Wait until the execution has finished or `timeout_ms` passed
 * (negative: wait forever). While waiting the calling thread helps run
 * the engine's ready work.
 * @return WF_OK (finished), WF_ETIMEDOUT.
 * Threads: any but the engine's own.
 */
WF_API int wf_execution_wait(wf_execution *exec, int64_t timeout_ms);

/** Current status. Threads: any. */
WF_API wf_exec_status wf_execution_status(const wf_execution *exec);

/**
 * The output as JSON text once SUCCEEDED, else NULL. Borrowed: valid until
 * wf_execution_free(). Threads: any.
 */
WF_API const char *wf_execution_output(wf_execution *exec);

/**
 * Redrive an execution that did not succeed, as AWS's RedriveExecution:
 * a STANDARD execution FAILED, TIMED_OUT or ABORTED in the last 14 days
 * runs again from the state where it stopped, with the same input and
 * definition (version); a Map or Parallel state reruns only its
 * iterations or branches that did not succeed, keeping the others'
 * results. Its history goes on with ExecutionRedriven (redriveCount) and
 * `$$.Execution.RedriveCount` counts the redrives; the machine's
 * TimeoutSeconds starts again. The redrive is committed like a start
 * (with a durable store, it resumes after a crash).
 * @param[out] out the running execution; free with wf_execution_free().
 *                 NULL on failure.
 * @param arn      the execution's ARN (in the engine's store); not retained.
 * @param[out] err optional; for WF_ESTATE its message is AWS's reason
 *                 (wf_engine_redrive_status()).
 * @return WF_OK; WF_ENOTFOUND (no such execution); WF_ESTATE (not
 *         redrivable now: running, succeeded, EXPRESS, too old, its
 *         history full, or ended without a state kept); WF_EBUSY (the
 *         engine runs max_running executions); WF_EINVAL; WF_EIO,
 *         WF_ECORRUPT (the store); WF_ENOMEM.
 * Threads: any but the engine's own.
 */
WF_API int wf_engine_redrive(wf_execution **out, wf_engine *engine,
                             const char *arn, wf_error *err);

/**
 * Whether the execution of a store record may be redriven now
 * (DescribeExecution's redriveStatus), and its redrives so far.
 * @param engine   its clock tells the time; NULL: the system clock.
 * @param record   as wf_store_get_execution() gives it; borrowed.
 * @param[out] count   optional: redrives so far (redriveCount).
 * @param[out] last_ms optional: the last redrive's time, 0 if none.
 * @param[out] reason  optional: AWS's redriveStatusReason when it may not
 *                     (a static string), else NULL.
 * @return 1 (REDRIVABLE) or 0 (NOT_REDRIVABLE).
 * Threads: any.
 */
WF_API int wf_engine_redrive_status(const wf_engine *engine,
                                    const struct wf_store_execution *record,
                                    int64_t *count, int64_t *last_ms,
                                    const char **reason);

/** The error name once FAILED/TIMED_OUT/ABORTED; NULL when AWS reports
 *  none. Borrowed. */
WF_API const char *wf_execution_error(const wf_execution *exec);

/** The cause text; NULL when AWS reports none. Borrowed. */
WF_API const char *wf_execution_cause(const wf_execution *exec);

/** The execution's name and ARN. Borrowed. */
WF_API const char *wf_execution_name(const wf_execution *exec);
WF_API const char *wf_execution_arn(const wf_execution *exec);

/** Start and stop times (engine clock, ms since the epoch; stop is 0 while
 *  running). */
WF_API int64_t wf_execution_start_time(const wf_execution *exec);
WF_API int64_t wf_execution_stop_time(const wf_execution *exec);

/**
 * Stop (abort) a running execution, as StopExecution does: status
 * ABORTED, running handlers told through wf_task_cancelled().
 * @param error, cause optional; copied.
 * @return WF_OK; WF_ESTATE when it had already finished; WF_ECANCELED on
 *         a shared store when another process had taken it over (nothing
 *         was stopped: take it again with wf_engine_take_execution() and
 *         stop that).
 * Threads: any.
 */
WF_API int wf_execution_stop(wf_execution *exec, const char *error,
                             const char *cause);

/**
 * The history as GetExecutionHistory returns it: {"events":[...]}.
 * @param reverse newest first when non-zero.
 * @return a new string (free with wf_string_free()); NULL when history is
 *         off or out of memory.
 * Threads: any.
 */
WF_API char *wf_execution_history(wf_execution *exec, int reverse);

/** Number of history events recorded so far (0 when history is off). */
WF_API size_t wf_execution_history_count(wf_execution *exec);

/** Release the caller's handle. A finished execution's name becomes free
 *  again; a running one keeps running and frees its name when it ends.
 *  Accepts NULL. Threads: any. */
WF_API void wf_execution_free(wf_execution *exec);

/**
 * Complete a task from outside its handler, by token (SendTaskSuccess,
 * SendTaskFailure, SendTaskHeartbeat). Tokens (wf_task_token(), $$.Task.Token)
 * are 32 lowercase hexadecimal digits, so a caller can tell a malformed
 * token (AWS's InvalidToken) from one whose task has ended (TaskTimedOut).
 * @return WF_OK; WF_ENOTFOUND (no such task, or already finished);
 *         WF_EPARSE (output not JSON); WF_ELIMIT (output too large).
 * Threads: any.
 */
WF_API int wf_engine_send_task_success(wf_engine *engine, const char *token,
                                       const char *output_json,
                                       wf_error *err);
WF_API int wf_engine_send_task_failure(wf_engine *engine, const char *token,
                                       const char *error, const char *cause,
                                       wf_error *err);
WF_API int wf_engine_send_task_heartbeat(wf_engine *engine, const char *token,
                                         wf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WF_ENGINE_H */
