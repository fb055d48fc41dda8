/*
 * libworkflow: activities, Task states served by workers that poll.
 *
 * As AWS Step Functions' activities: an activity is a named record of the
 * engine (arn:aws:states:REGION:ACCOUNT:activity:NAME), kept in the
 * engine's store so it outlives a restart. A Task state whose Resource is
 * an existing activity's ARN queues an activity task (its input and a task
 * token from the system's cryptographic generator) and records
 * ActivityScheduled; a worker takes it with wf_engine_activity_get_task()
 * (ActivityStarted, with the worker's name) and answers by token with
 * wf_engine_send_task_success(), _failure() or _heartbeat(), or on the
 * returned task with wf_task_succeed() and friends. TimeoutSeconds and
 * HeartbeatSeconds apply as to any task (States.Timeout, ActivityTimedOut);
 * the heartbeat period starts again when a worker takes the task.
 *
 * With a durable store a task not yet taken is queued again by
 * wf_engine_resume(), and a taken one's token still answers it.
 */
#ifndef WF_ACTIVITY_H
#define WF_ACTIVITY_H

#include <stdint.h>

#include "workflow/common.h"
#include "workflow/engine.h"
#include "workflow/handler.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An activity as a call found it: a copy, immutable, reference-counted
 *  (a later wf_engine_activity_set_tags() does not change it). */
typedef struct wf_activity wf_activity;

/** AWS's bound on the activities of an account and region. */
#define WF_ACTIVITY_MAX 10000
/** Pollers waiting on one activity at most (AWS's worker limit). */
#define WF_ACTIVITY_POLLERS_MAX 1000
/** AWS's longest poll, in milliseconds. */
#define WF_ACTIVITY_POLL_MAX_MS 60000

/**
 * Create an activity, or find the one of that name: as AWS's CreateActivity
 * the call is idempotent by name, and a repeat's tags are ignored.
 * @param[out] out optional; the activity, free with wf_activity_free().
 * @param name     1 to 80 characters, none of white space, < > { } [ ] ? *
 *                 " # % \ ^ | ~ ` $ & , ; : / or control characters.
 * @param tags_json NULL, or a JSON array of {"key":..., "value":...}.
 * @param[out] err optional.
 * @return WF_OK; WF_EINVAL (a bad name or tags: the message says which),
 *         WF_ELIMIT (WF_ACTIVITY_MAX activities), WF_EIO (the store),
 *         WF_ENOMEM.
 * Threads: any.
 */
WF_API int wf_engine_activity_create(wf_activity **out, wf_engine *engine,
                                     const char *name, const char *tags_json,
                                     wf_error *err);

/**
 * The activity with this ARN.
 * @param[out] out free with wf_activity_free().
 * @return WF_OK, WF_ENOTFOUND, WF_EINVAL.
 * Threads: any.
 */
WF_API int wf_engine_activity_describe(wf_activity **out, wf_engine *engine,
                                       const char *arn, wf_error *err);

/** Called per activity; non-zero stops the listing. `activity` is
 *  borrowed for the call (wf_activity_retain() to keep it). */
typedef int (*wf_activity_cb)(const wf_activity *activity, void *payload);

/**
 * Every activity, in creation order.
 * @return WF_OK, WF_EINVAL, WF_ENOMEM.
 * Threads: any; do not call the engine's activity functions from `cb`.
 */
WF_API int wf_engine_activity_list(wf_engine *engine, wf_activity_cb cb,
                                   void *payload, wf_error *err);

/**
 * Delete an activity (none of that ARN: nothing to do, as on AWS). Tasks
 * already queued for it stay pending until their timeouts; pollers waiting
 * on it get no task.
 * @return WF_OK, WF_EINVAL, WF_EIO.
 * Threads: any.
 */
WF_API int wf_engine_activity_delete(wf_engine *engine, const char *arn,
                                     wf_error *err);

/**
 * Replace an activity's tags (TagResource and UntagResource compute the
 * new list), kept in the store.
 * @param tags_json NULL or "[]" for none, else a JSON array of
 *                  {"key":..., "value":...}.
 * @return WF_OK, WF_ENOTFOUND, WF_EINVAL (bad tags), WF_EIO, WF_ENOMEM.
 * Threads: any.
 */
WF_API int wf_engine_activity_set_tags(wf_engine *engine, const char *arn,
                                       const char *tags_json, wf_error *err);

/** Accessors. Borrowed strings, valid while the activity is. */
WF_API const char *wf_activity_arn(const wf_activity *activity);
WF_API const char *wf_activity_name(const wf_activity *activity);
/** Milliseconds since the epoch, on the engine's clock. */
WF_API int64_t wf_activity_creation_date(const wf_activity *activity);
/** The tags given at creation, a JSON array ("[]" for none). */
WF_API const char *wf_activity_tags(const wf_activity *activity);
/** Take a reference. Threads: any. */
WF_API wf_activity *wf_activity_retain(const wf_activity *activity);
/** Drop a reference; NULL is ignored. Threads: any. */
WF_API void wf_activity_free(wf_activity *activity);

typedef struct wf_activity_poll_options {
  unsigned int version;
  /** Shown in the ActivityStarted event; NULL: none. Copied. */
  const char *worker_name;
  /** How long to wait for a task, in ms; 0: WF_ACTIVITY_POLL_MAX_MS, and
   *  never more. A negative value does not wait. Real time: the wait is
   *  on a condition, whatever the engine's clock. */
  int64_t timeout_ms;
} wf_activity_poll_options;

#define WF_ACTIVITY_POLL_OPTIONS_VERSION 1
#define WF_ACTIVITY_POLL_OPTIONS_INIT \
  { .version = WF_ACTIVITY_POLL_OPTIONS_VERSION }

/** Initialise options for `version`. @return WF_OK or WF_EVERSION. */
WF_API int wf_activity_poll_options_init(wf_activity_poll_options *opts,
                                         unsigned int version);

/**
 * Take the next queued task of an activity, waiting for one up to the
 * timeout (AWS's GetActivityTask long poll). Each task goes to one poller;
 * any number may wait at once; a task queued while they wait wakes one.
 * The task is committed (durable stores) before this returns, so its token
 * survives a crash.
 * @param[out] out the task, or NULL when none came in time (AWS's empty
 *                 answer); read wf_task_input() and wf_task_token(),
 *                 answer it, then drop it with wf_task_release().
 * @param opts     NULL: defaults.
 * @return WF_OK (with or without a task); WF_ENOTFOUND (no such
 *         activity), WF_ELIMIT (WF_ACTIVITY_POLLERS_MAX pollers already
 *         wait on it), WF_EINVAL, WF_EVERSION, WF_ECANCELED (the engine is
 *         being freed).
 * Threads: any but the engine's own (never from an inline handler).
 */
WF_API int wf_engine_activity_get_task(wf_task **out, wf_engine *engine,
                                       const char *arn,
                                       const wf_activity_poll_options *opts,
                                       wf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WF_ACTIVITY_H */
