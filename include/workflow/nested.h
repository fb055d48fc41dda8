/*
 * libworkflow: nested executions, the Task resource
 * arn:aws:states:::states:startExecution (request-response, .sync,
 * .sync:2 and .waitForTaskToken), as AWS's "Start a new AWS Step
 * Functions state machine from a running execution" describes it.
 *
 * The child is an execution of the same engine, kept in its store like
 * any other. The engine finds the machine a StateMachineArn names through
 * a resolver the program sets (wf-gateway's reads its machines, versions
 * and aliases).
 */
#ifndef WF_NESTED_H
#define WF_NESTED_H

#include "workflow/common.h"
#include "workflow/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Room for an ARN in wf_machine_target (AWS allows 256 characters). */
#define WF_MACHINE_TARGET_ARN_MAX 320

/** What a StateMachineArn names, as the resolver finds it. */
typedef struct wf_machine_target {
  unsigned int version;
  /** The machine to run: a reference of the resolver's own
   *  (wf_machine_ref()), which the engine releases. Its name is the
   *  child's machine name (executions are
   *  arn:aws:states:REGION:ACCOUNT:execution:NAME:EXECUTION). */
  wf_machine *machine;
  /** What the child is listed under in the store: the version or alias
   *  ARN it was started through; "" for the machine's own ARN. */
  char machine_arn[WF_MACHINE_TARGET_ARN_MAX];
  /** Started through an alias: the version ARN the alias chose; else "". */
  char version_arn[WF_MACHINE_TARGET_ARN_MAX];
  /** The child's execution role; "" for the engine's. */
  char role_arn[WF_MACHINE_TARGET_ARN_MAX];
  /** In: the name the child will start with (given, or derived from the
   *  task), for a resolver that keeps something about the execution
   *  (wf-gateway notes the version an alias chose). Borrowed, for the
   *  call. */
  const char *execution_name;
} wf_machine_target;

#define WF_MACHINE_TARGET_VERSION 1

/**
 * Find the machine `arn` names (a state machine, version or alias ARN, as
 * the Task gave it). Fill `out` (its version and execution_name are set,
 * everything else zero) and return WF_OK; or WF_ENOTFOUND (the task fails with
 * StepFunctions.StateMachineDoesNotExistException), WF_EINVAL (not a
 * state machine ARN: StepFunctions.InvalidArnException), WF_ESTATE (being
 * deleted: StepFunctions.StateMachineDeletingException); for WF_EINVAL
 * `err`'s message (when set) is the refusal's message, for any other
 * code the cause quotes it. Called on the engine's worker pool, with no
 * engine lock held; it must not wait for executions.
 */
typedef int (*wf_machine_resolve_cb)(wf_machine_target *out, const char *arn,
                                     void *payload, wf_error *err);

/**
 * Serve arn:aws:states:::states:startExecution (and its .sync, .sync:2
 * and .waitForTaskToken forms) on this engine, finding machines with
 * `resolve`. The task's Parameters (or Arguments) are AWS's:
 * StateMachineArn, Input (a JSON value, or JSON text in a string; {} when
 * absent) and Name (when absent, a UUID that stays the same for the task
 * across a restart). Its result:
 *  - request-response: {"ExecutionArn": ..., "StartDate": epoch ms};
 *  - .sync: the child's DescribeExecution in AWS's PascalCase (Input and
 *    Output as JSON text, StartDate and StopDate in epoch ms, the redrive
 *    fields), once it ends; a child that did not succeed fails the task
 *    with States.TaskFailed, that object as JSON text the cause;
 *  - .sync:2: the same with Input and Output as JSON values;
 *  - .waitForTaskToken: none; SendTaskSuccess/Failure with the task's
 *    token completes it.
 * The .sync forms record TaskSubmitted ({ExecutionArn, StartDate}) once
 * the child runs. When the task stops waiting otherwise (the parent
 * stopped, timed out, the task's TimeoutSeconds, a Parallel branch cut),
 * a child started with .sync or .sync:2 is stopped (ABORTED, cause "The
 * Task state in AWS Step Functions execution [PARENT ARN] which was
 * managing this resource was aborted"). Refusals name AWS's API errors:
 * StepFunctions.StateMachineDoesNotExistException,
 * StepFunctions.ExecutionAlreadyExistsException,
 * StepFunctions.InvalidExecutionInputException,
 * StepFunctions.InvalidNameException, ...
 * With a durable store a parent waiting on a child is resumed waiting on
 * it, and gets its result.
 * @param resolve  called for each start; NULL removes the resolver (a
 *                 start then fails as StateMachineDoesNotExist). Once
 *                 this returns, the previous resolver is not called and
 *                 no call of it is running.
 * @param payload  passed to resolve; borrowed: kept until the resolver
 *                 is replaced or the engine is freed.
 * @return WF_OK; WF_EINVAL; WF_ESTATE (set for the first time after an
 *         execution started or wf_engine_resume() ran); WF_ENOMEM.
 * Threads: any but the engine's own (not from a resolver or handler);
 *          the first call before starting or resuming executions.
 */
WF_API int wf_engine_set_machine_resolver(wf_engine *engine,
                                          wf_machine_resolve_cb resolve,
                                          void *payload, wf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WF_NESTED_H */
