/* The error names ProcessData fails tasks with (or reports in a FAILED
 * result). They are part of the contract with workflows: Retry and Catch
 * match them, so they never change. */
#ifndef PD_ERROR_NAMES_H
#define PD_ERROR_NAMES_H

/* The task input is malformed: not retryable, fix the caller. */
#define PD_ERR_INVALID_INPUT "ProcessData.InvalidInput"
/* The input exceeds a configured size limit: not retryable. */
#define PD_ERR_LIMIT_EXCEEDED "ProcessData.LimitExceeded"
/* Records failed validation and the plugin is configured to fail on that
 * (invalidRecords "fail"); also the error of a FAILED result whose records
 * were all invalid. */
#define PD_ERR_VALIDATION "ProcessData.ValidationError"
/* The handler could not run (out of memory). */
#define PD_ERR_INTERNAL "ProcessData.InternalError"

/* Simulated failures (only when simulation.successRate < 1): a task error
 * the seed workflow retries, a FAILED result, and a completion after the
 * task's deadline (the engine reports States.Timeout). */
#define PD_ERR_TRANSIENT "ProcessData.TransientError"
#define PD_ERR_PROCESSING "ProcessData.ProcessingError"
#define PD_ERR_TIMEOUT "ProcessData.Timeout"

#endif
