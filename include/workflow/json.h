/*
 * libworkflow: jansson-level access, for handlers and embedders that already
 * use jansson (a libworkflow dependency). Values are shared, never copied:
 * a borrowed value must not be modified.
 */
#ifndef WF_JSON_H
#define WF_JSON_H

#include <jansson.h>

#include "workflow/engine.h"
#include "workflow/handler.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The task's effective input as a jansson value. Borrowed and read-only:
 * valid while the task is; do not modify it (it is shared with the
 * execution). Threads: any.
 */
WF_API const json_t *wf_task_input_value(const wf_task *task);

/**
 * Complete the task successfully with a jansson value.
 * @param output stolen (the task takes the caller's reference, also on
 *               failure); must not be modified afterwards.
 * @return WF_OK; WF_EINVAL (output NULL); WF_ESTATE (already completed,
 *         timed out or cancelled).
 * Threads: any. The task must not be used after this call.
 */
WF_API int wf_task_succeed_value(wf_task *task, json_t *output);

/**
 * The output of a SUCCEEDED execution as a jansson value, else NULL.
 * Borrowed and read-only: valid until wf_execution_free(). Threads: any.
 */
WF_API const json_t *wf_execution_output_value(const wf_execution *exec);

#ifdef __cplusplus
}
#endif

#endif /* WF_JSON_H */
