/*
 * libworkflow: the handler SDK.
 *
 * A handler performs the work of Task states whose Resource it was
 * registered for. It receives a wf_task: the effective input (after
 * InputPath and Parameters) and the context of the call. It completes the
 * task exactly once, with wf_task_succeed() or wf_task_fail(): before
 * returning (synchronous handler), or later from any thread (asynchronous:
 * the task stays pending until then, or until its TimeoutSeconds or
 * HeartbeatSeconds run out). External systems complete a task by its
 * token through wf_engine_send_task_success() and friends.
 */
#ifndef WF_HANDLER_H
#define WF_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "workflow/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * One task attempt. The pointer passed to a handler is valid until the
 * handler returns; a handler that completes the task later (from another
 * thread) takes a reference with wf_task_retain() and drops it with
 * wf_task_release() after completing, or completes by token instead.
 */
typedef struct wf_task wf_task;

/**
 * A handler. Called on a worker-pool thread, or on a scheduler thread for
 * handlers registered with WF_HANDLER_INLINE.
 */
typedef void (*wf_handler_fn)(wf_task *task, void *payload);

enum wf_handler_flags {
  /** The handler never blocks: call it on the scheduler thread directly
   *  (no thread hand-off). */
  WF_HANDLER_INLINE = 1u << 0,
  /** Match every resource starting with the registered string. */
  WF_HANDLER_PREFIX = 1u << 1
};

/** The effective input as compact JSON text. Borrowed, valid while the
 *  task is; NULL when there is no memory to write it (ask again, or fail
 *  the task). Threads: any. */
WF_API const char *wf_task_input(wf_task *task);
/** The Task state's Resource as it is routed: an integration ARN naming
 *  a region and account reads as its short form (arn:aws:states:::...).
 *  Borrowed. */
WF_API const char *wf_task_resource(const wf_task *task);
/** The execution's name and ARN. Borrowed. */
WF_API const char *wf_task_execution_name(const wf_task *task);
WF_API const char *wf_task_execution_arn(const wf_task *task);
/** The state's name. Borrowed. */
WF_API const char *wf_task_state_name(const wf_task *task);
/** The correlation id given at start, or else the execution's name.
 *  Borrowed. */
WF_API const char *wf_task_correlation_id(const wf_task *task);
/** The task token (unique per attempt, 128 bits from the system's
 *  cryptographic generator), for completion from outside with
 *  wf_engine_send_task_success() and friends. Borrowed. With a durable
 *  store the task is committed before the first call returns, so a token
 *  handed out survives a crash. Threads: any (it may wait for the
 *  store). */
WF_API const char *wf_task_token(wf_task *task);
/** Non-zero when this call may repeat one made before the engine
 *  stopped or crashed (a durable store resumed the execution with the
 *  task in flight): handlers are called at least once, as AWS calls
 *  Lambda functions. Threads: any. */
WF_API int wf_task_redelivered(const wf_task *task);
/** A key naming this attempt of this task, the same in every delivery of
 *  it (redeliveries included) and different for any other task or
 *  attempt: give it to the system the handler changes, so that it applies
 *  a repeated call once. Borrowed. Threads: any. */
WF_API const char *wf_task_idempotency_key(const wf_task *task);
/** 0 for the first attempt, 1 for the first retry, ... */
WF_API unsigned int wf_task_attempt(const wf_task *task);
/** When the task times out (engine clock, ms since the epoch). */
WF_API int64_t wf_task_deadline(const wf_task *task);
/** Non-zero once the execution was stopped, the task timed out or a
 *  sibling branch failed: the result will be ignored. Threads: any. */
WF_API int wf_task_cancelled(const wf_task *task);

/** Take a reference to a task (see wf_task). Threads: any. */
WF_API void wf_task_retain(wf_task *task);
/** Drop a reference taken with wf_task_retain(). Threads: any. */
WF_API void wf_task_release(wf_task *task);

/**
 * Complete the task successfully.
 * @param output_json the result, any JSON value; not retained.
 * @return WF_OK; WF_EPARSE (not JSON: the task then fails with
 *         States.Runtime); WF_ENOMEM (no memory to read it: the task fails
 *         with States.Runtime, "Out of memory while reading the task
 *         output"); WF_ESTATE (already completed, timed out or cancelled:
 *         ignored).
 * Threads: any. The task must not be used after this call.
 */
WF_API int wf_task_succeed(wf_task *task, const char *output_json);

/**
 * Complete the task with an error, as a Lambda function raising
 * `error` (e.g. "MyError") with `cause`. Retry and Catch see `error`.
 * @param error, cause NULL allowed; copied.
 * @return WF_OK; WF_ESTATE as for wf_task_succeed().
 * Threads: any. The task must not be used after this call.
 */
WF_API int wf_task_fail(wf_task *task, const char *error, const char *cause);

/**
 * Report progress: resets the HeartbeatSeconds timer.
 * @return WF_OK; WF_ESTATE when the task is no longer pending.
 * Threads: any.
 */
WF_API int wf_task_heartbeat(wf_task *task);

/** Log levels of the structured log. 0 is no level: in options it means
 *  the default. */
typedef enum wf_log_level {
  WF_LOG_DEBUG = 1,
  WF_LOG_INFO = 2,
  WF_LOG_WARN = 3,
  WF_LOG_ERROR = 4
} wf_log_level;

/** The level's name as log lines spell it ("DEBUG", "INFO", "WARN",
 *  "ERROR"); NULL for any other value. Static storage. Threads: any. */
WF_API const char *wf_log_level_name(wf_log_level level);

/**
 * Write one structured log line through the engine's sinks, carrying the
 * task's correlation id, execution, state, resource and attempt.
 * `fields_json`: a JSON object whose members are added to the line (the
 * line's own members — timestamp, level, correlationId, execution, state,
 * event, resource, attempt — cannot be overridden and are skipped), or any
 * other text, logged as "message"; NULL adds nothing. `event` NULL:
 * "HandlerLog". Nothing is kept. Threads: any, while the task is held.
 */
WF_API void wf_task_log(wf_task *task, wf_log_level level, const char *event,
                        const char *fields_json);

/* ------------------------------------------------------------------------
 * Plugins
 *
 * A plugin is a shared object that registers handlers. It never links
 * libworkflow: it reaches the host only through the wf_host_api table that
 * its one exported entry point receives, so the same .so serves the shared
 * library, a statically linked program and the Python bindings.
 *
 *   static const wf_host_api *host;
 *   static int init(wf_plugin *p, const wf_host_api *api,
 *                   const char *config_json, wf_error *err) {
 *     wf_handler_ops ops = {WF_HANDLER_OPS_VERSION, hello, NULL, 0};
 *     return api->register_handler(p, "arn:aws:lambda:us-east-1:"
 *                                  "123456789012:function:Hello", &ops, err);
 *   }
 *   static const wf_plugin_desc desc = {WF_PLUGIN_ABI_MAJOR,
 *       WF_PLUGIN_ABI_MINOR, "hello", init, NULL};
 *   WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(
 *       const wf_host_api *api) { host = api; return &desc; }
 *
 * The host refuses a plugin built for another ABI major version or a newer
 * minor one, a missing entry point, or a failing init, with WF_EABI naming
 * the file and the reason; nothing of a refused plugin stays registered.
 * ---------------------------------------------------------------------- */

#define WF_PLUGIN_ABI_MAJOR 1
#define WF_PLUGIN_ABI_MINOR 1
/** The symbol every plugin exports. */
#define WF_PLUGIN_ENTRY "wf_plugin_entry"
#if defined(_WIN32)
#define WF_PLUGIN_EXPORT
#else
#define WF_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/** The host's record of one loaded plugin. */
typedef struct wf_plugin wf_plugin;

/** A handler as a plugin registers it. */
typedef struct wf_handler_ops {
  unsigned int version; /**< WF_HANDLER_OPS_VERSION */
  wf_handler_fn fn;     /**< called once per task attempt */
  void *payload;        /**< passed to fn; owned by the plugin */
  unsigned int flags;   /**< WF_HANDLER_* */
} wf_handler_ops;

#define WF_HANDLER_OPS_VERSION 1

/**
 * The host's functions, as a plugin sees them. Append-only: fields are
 * never reordered, retyped or removed; test for a field added after 1.0
 * with WF_HOST_HAS(api, field). Every task function behaves as the
 * wf_task_* function of the same name.
 */
typedef struct wf_host_api {
  unsigned int abi_major, abi_minor; /**< frozen at the top */
  size_t size;                       /**< sizeof(wf_host_api) in the host */

  /** Register a handler; only from the plugin's init. The resource is
   *  copied. @return WF_OK, WF_EEXIST, WF_EINVAL (no resource or function,
   *  unknown flags), WF_EVERSION (ops->version unknown), WF_ESTATE (after
   *  init), WF_ENOMEM. */
  int (*register_handler)(wf_plugin *p, const char *resource,
                          const wf_handler_ops *ops, wf_error *err);

  const char *(*task_input)(wf_task *t);
  const char *(*task_resource)(const wf_task *t);
  const char *(*task_execution_name)(const wf_task *t);
  const char *(*task_execution_arn)(const wf_task *t);
  const char *(*task_state_name)(const wf_task *t);
  const char *(*task_correlation_id)(const wf_task *t);
  const char *(*task_token)(wf_task *t);
  unsigned int (*task_attempt)(const wf_task *t);
  int64_t (*task_deadline)(const wf_task *t);
  int (*task_cancelled)(const wf_task *t);
  void (*task_retain)(wf_task *t);
  void (*task_release)(wf_task *t);
  int (*task_succeed)(wf_task *t, const char *output_json);
  int (*task_fail)(wf_task *t, const char *error, const char *cause);
  int (*task_heartbeat)(wf_task *t);
  /** Complete the task `delay_ms` later on the engine's clock: a timer,
   *  not a sleeping thread, so simulated work takes no real time under a
   *  virtual clock. The task may not be used after the call.
   *  @return WF_OK, WF_ESTATE, WF_EPARSE (output not JSON), WF_EINVAL. */
  int (*task_succeed_after)(wf_task *t, int64_t delay_ms,
                            const char *output_json);
  int (*task_fail_after)(wf_task *t, int64_t delay_ms, const char *error,
                         const char *cause);
  /** The engine's clock (ms since the epoch), for timestamps. */
  int64_t (*now_ms)(const wf_task *t);
  /** Write one structured log line through the engine's sink, carrying
   *  the task's correlation id, execution and state. `fields_json` is a
   *  JSON object whose members are added to the line (or NULL). */
  void (*log)(const wf_task *t, wf_log_level level, const char *event,
              const char *fields_json);
  /* ---- ABI 1.1 ---- */
  int (*task_redelivered)(const wf_task *t);
  const char *(*task_idempotency_key)(const wf_task *t);
} wf_host_api;

#define WF_HOST_HAS(api, member) \
  (offsetof(wf_host_api, member) < (api)->size)

/** What a plugin's entry point returns. */
typedef struct wf_plugin_desc {
  unsigned int abi_major, abi_minor; /**< WF_PLUGIN_ABI_MAJOR/MINOR */
  const char *name;                  /**< short name, e.g. "process-data" */
  /** Register handlers; `config_json` is the plugin's configuration (a
   *  JSON object as text, "{}" when none). Return WF_OK, or a negative
   *  code with err filled: the plugin is then refused. */
  int (*init)(wf_plugin *p, const wf_host_api *api, const char *config_json,
              wf_error *err);
  /** Called before the plugin is unloaded, once no call of its handlers is
   *  running any more. May be NULL. */
  void (*fini)(wf_plugin *p);
} wf_plugin_desc;

/** The type of the exported wf_plugin_entry function. */
typedef const wf_plugin_desc *(*wf_plugin_entry_fn)(const wf_host_api *api);

/**
 * The entry point a plugin defines (and the host looks up by name): keep
 * `api`, return a descriptor that lives as long as the plugin is loaded.
 * Declared here for plugins; libworkflow itself never defines it.
 */
WF_PLUGIN_EXPORT const wf_plugin_desc *wf_plugin_entry(const wf_host_api *api);

#ifdef __cplusplus
}
#endif

#endif /* WF_HANDLER_H */
