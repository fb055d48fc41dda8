/*
 * libworkflow: Map Runs, the child executions a Distributed Map state
 * starts (AWS's ListMapRuns, DescribeMapRun and UpdateMapRun).
 *
 * Each run of a Distributed Map state is a Map Run, named by the ARN its
 * MapRunStarted event shows:
 *   arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:UUID
 * (LABEL: the state's Label, else its name). What is known of each
 * (status, dates, the counts of child executions and items,
 * MaxConcurrency and the tolerances) and of each child is kept in the
 * engine's store, as documents (kinds "wf.mapRun", "wf.mapRunsOf
 * EXECUTION_ARN", "wf.mapRunChild" and "wf.mapRunChildEvents":
 * reserved), written with the
 * commits of the execution that runs the Map: what these functions
 * answer is committed, and an engine resumed on the same store answers
 * the same (a resumed run goes on counting where it was).
 *
 * Each child of a Map Run is a child workflow execution, as AWS shows it:
 *   arn:aws:states:REGION:ACCOUNT:execution:MACHINE/LABEL:NAME
 * (NAME a UUID, the same for the child's whole life, redrives included),
 * listed by its Map Run (ListExecutions with mapRunArn) and described by
 * its ARN (DescribeExecution), with its input and output. A STANDARD
 * child (ItemProcessor.ProcessorConfig.ExecutionType STANDARD) has a
 * history of its own (GetExecutionHistory), its events numbered from 1:
 * ExecutionStarted with its input, the ItemProcessor's state and task
 * events, ExecutionSucceeded, ExecutionFailed or ExecutionAborted. It is
 * written with the commits of the execution that runs the Map, a
 * commit's events as one document; none is kept of an EXPRESS child (as
 * on AWS), nor by an engine with WF_HISTORY_OFF.
 *
 * When the execution that runs the Map is redriven (wf_engine_redrive),
 * its Map Run reruns the children that did not succeed. A STANDARD child
 * is redriven as AWS redrives it: the same execution (ARN, name, start
 * date), counting its redrives, its history going on after its last
 * event with ExecutionRedriven (its redriveCount) and then its rerun's
 * events: like a redriven execution it goes on from the state it failed
 * in (or was stopped in), with the input and variables it had there, its
 * steps that succeeded not run again (nor the iterations and branches that
 * succeeded in a Map or Parallel it failed in). One that never started,
 * or whose kept state cannot be read, runs its ItemProcessor from the
 * start. An EXPRESS child is started anew, as AWS restarts one with
 * StartExecution.
 */
#ifndef WF_MAP_RUN_H
#define WF_MAP_RUN_H

#include <stdint.h>

#include "workflow/common.h"
#include "workflow/engine.h"
#include "workflow/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wf_map_run_status {
  WF_MAP_RUN_RUNNING,
  WF_MAP_RUN_SUCCEEDED,
  WF_MAP_RUN_FAILED,
  WF_MAP_RUN_ABORTED
} wf_map_run_status;

/** Child executions (or items) of a Map Run by where they stand, as
 *  AWS's MapRunExecutionCounts and MapRunItemCounts count them. */
typedef struct wf_map_run_counts {
  int64_t pending, running, succeeded, failed, timed_out, aborted, total;
  int64_t results_written; /**< written by the ResultWriter */
  int64_t failures_not_redrivable, pending_redrive;
} wf_map_run_counts;

/** What is known of a Map Run; its strings are valid during the callback
 *  that receives it. */
typedef struct wf_map_run_info {
  const char *map_run_arn;
  const char *execution_arn;     /**< the execution that started it */
  const char *state_machine_arn; /**< ...:stateMachine:MACHINE/LABEL */
  wf_map_run_status status;
  int64_t start_ms, stop_ms;     /**< stop_ms 0 while it runs */
  int64_t max_concurrency;       /**< 0: no limit */
  int64_t tolerated_failure_count;
  double tolerated_failure_percentage;
  int64_t redrive_count, redrive_ms; /**< redrive_ms 0: never redriven */
  wf_map_run_counts executions, items;
} wf_map_run_info;

/** Receives a Map Run; a nonzero return stops the listing. */
typedef int (*wf_map_run_cb)(const wf_map_run_info *run, void *payload);

/**
 * The Map Runs an execution started, oldest first.
 * @param execution_arn borrowed.
 * @param cb called once a Map Run, with no engine lock held.
 * @return WF_OK (also for an execution with none, or one the engine does
 *         not know: the caller decides whether it exists); WF_EINVAL;
 *         WF_ENOMEM; the store's WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_engine_list_map_runs(wf_engine *engine,
                                   const char *execution_arn,
                                   wf_map_run_cb cb, void *payload,
                                   wf_error *err);

/**
 * One Map Run, by its ARN.
 * @param cb called once, with no engine lock held.
 * @return WF_OK; WF_ENOTFOUND (no such Map Run); WF_EINVAL; WF_ENOMEM;
 *         the store's WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_engine_describe_map_run(wf_engine *engine,
                                      const char *map_run_arn,
                                      wf_map_run_cb cb, void *payload,
                                      wf_error *err);

/** Which fields of wf_map_run_update are set. */
#define WF_MAP_RUN_SET_MAX_CONCURRENCY 1u
#define WF_MAP_RUN_SET_TOLERATED_COUNT 2u
#define WF_MAP_RUN_SET_TOLERATED_PERCENTAGE 4u

typedef struct wf_map_run_update {
  unsigned int version;
  unsigned int set; /**< WF_MAP_RUN_SET_* bits; 0: nothing changes */
  int64_t max_concurrency;          /**< >= 0; 0: no limit */
  int64_t tolerated_failure_count;  /**< >= 0 */
  double tolerated_failure_percentage; /**< 0 to 100 */
} wf_map_run_update;

#define WF_MAP_RUN_UPDATE_VERSION 1
#define WF_MAP_RUN_UPDATE_INIT {.version = WF_MAP_RUN_UPDATE_VERSION}

/** Initialise an update (for bindings without macros).
 *  @return WF_OK, WF_EINVAL, WF_EVERSION. Threads: any. */
WF_API int wf_map_run_update_init(wf_map_run_update *update,
                                  unsigned int version);

/**
 * Change a running Map Run's MaxConcurrency and tolerances (AWS's
 * UpdateMapRun): more concurrency starts waiting children at once; the
 * tolerances judge the failures from then on, those already counted
 * included. Returns once the change is committed. A run that no longer
 * runs has its record changed in the store.
 * @return WF_OK; WF_ENOTFOUND (no such Map Run); WF_EINVAL (a value out
 *         of range); WF_EVERSION; the store's errors.
 * Threads: any.
 */
WF_API int wf_engine_update_map_run(wf_engine *engine, const char *map_run_arn,
                                    const wf_map_run_update *update,
                                    wf_error *err);

/** A child workflow execution of a Map Run; its strings are valid during
 *  the callback that receives it. */
typedef struct wf_map_run_child {
  unsigned int version;          /**< WF_MAP_RUN_CHILD_VERSION */
  const char *execution_arn;     /**< ...:execution:MACHINE/LABEL:NAME */
  const char *name;              /**< a UUID */
  const char *map_run_arn;       /**< the Map Run that started it */
  const char *state_machine_arn; /**< ...:stateMachine:MACHINE/LABEL */
  const char *parent_arn;        /**< the execution of the Map state */
  int64_t index;                 /**< its place among the run's children */
  wf_exec_status status;
  int64_t start_ms, stop_ms;     /**< stop_ms 0 while it runs */
  int64_t item_count;            /**< items it processes (a batch's) */
  /** JSON texts, given by wf_engine_describe_map_run_child() only (NULL
   *  in a listing): its input; its output once SUCCEEDED; its error and
   *  cause once FAILED (NULL otherwise). */
  const char *input, *output, *error, *cause;
  /** Version 2: the times its Map Run's redrives ran it again (a STANDARD
   *  child that had failed, timed out or been aborted: the same
   *  execution, its history going on; an EXPRESS child is started anew
   *  and counts none), and when the last began (0: never). */
  int64_t redrive_count, redrive_ms;
} wf_map_run_child;

#define WF_MAP_RUN_CHILD_VERSION 2

/** Receives a child execution; a nonzero return stops the listing. */
typedef int (*wf_map_run_child_cb)(const wf_map_run_child *child,
                                   void *payload);

/**
 * The child executions a Map Run has started, newest first (the highest
 * index first: children start in index order), one callback each, so a
 * run of any size is paged through without a list being built: a page
 * ends where the callback returns nonzero, and the next begins `before`
 * the last index it saw. Children not yet started are not listed (they
 * do not exist yet, as on AWS).
 * @param map_run_arn borrowed.
 * @param before only children whose index is below it; 0 or less: from
 *        the newest.
 * @param cb called with no engine lock held (it may call the engine).
 * @return WF_OK; WF_ENOTFOUND (no such Map Run); WF_EINVAL; WF_ENOMEM;
 *         the store's WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_engine_list_map_run_children(wf_engine *engine,
                                           const char *map_run_arn,
                                           int64_t before,
                                           wf_map_run_child_cb cb,
                                           void *payload, wf_error *err);

/**
 * One child execution of a Map Run, by its ARN, with its input, output,
 * error and cause.
 * @param execution_arn borrowed.
 * @param cb called once, with no engine lock held.
 * @return WF_OK; WF_ENOTFOUND (no Map Run's child has this ARN);
 *         WF_EINVAL; WF_ENOMEM; the store's WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_engine_describe_map_run_child(wf_engine *engine,
                                            const char *execution_arn,
                                            wf_map_run_child_cb cb,
                                            void *payload, wf_error *err);

/**
 * A child execution's history, as wf_store_read_events() reads an
 * execution's: from `from_id` on (forwards), or from `from_id` down
 * (reverse; 0 or less: from the last), at most `limit` events (0: all),
 * one callback each, in GetExecutionHistory's shape. Only committed
 * events are read, a commit's part of the history at a time, so a page
 * reads little more than it shows.
 * @param execution_arn borrowed: a child's (wf_map_run_child).
 * @param cb called with no engine lock held; nonzero stops the reading.
 * @return WF_OK; WF_ENOTFOUND (no Map Run's child has this ARN);
 *         WF_EUNSUPPORTED (no history is kept of it: an EXPRESS child, or
 *         the engine ran with WF_HISTORY_OFF; err says which); WF_EINVAL;
 *         WF_ENOMEM; the store's WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_engine_read_map_run_child_events(wf_engine *engine,
                                               const char *execution_arn,
                                               int64_t from_id, bool reverse,
                                               size_t limit,
                                               wf_store_event_cb cb,
                                               void *payload, wf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WF_MAP_RUN_H */
