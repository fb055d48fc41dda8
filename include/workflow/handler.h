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
 *  task is. Threads: any. */
WF_API const char *wf_task_input(wf_task *task);
/** The Task state's Resource. Borrowed. */
WF_API const char *wf_task_resource(const wf_task *task);
/** The execution's name and ARN. Borrowed. */
WF_API const char *wf_task_execution_name(const wf_task *task);
WF_API const char *wf_task_execution_arn(const wf_task *task);
/** The state's name. Borrowed. */
WF_API const char *wf_task_state_name(const wf_task *task);
/** The correlation id given at start (may be NULL). Borrowed. */
WF_API const char *wf_task_correlation_id(const wf_task *task);
/** The task token (unique per attempt), for completion from outside with
 *  wf_engine_send_task_success() and friends. Borrowed. */
WF_API const char *wf_task_token(wf_task *task);
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
 *         States.Runtime); WF_ESTATE (already completed, timed out or
 *         cancelled: ignored).
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

#ifdef __cplusplus
}
#endif

#endif /* WF_HANDLER_H */
