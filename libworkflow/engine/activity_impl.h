/* Activities inside the engine (activity.c): the queue a Task on an
 * activity's ARN waits in. */
#ifndef WF_ACTIVITY_IMPL_H
#define WF_ACTIVITY_IMPL_H

#include <stdbool.h>

#include "engine_impl.h"

/* An activity of this ARN exists (any thread, any lock). */
bool wf__activity_exists(wf_engine *e, const char *arn);
/* Queue a pending task (execution lock held) for the activity named by
 * its resource; false: no such activity (or no memory). */
bool wf__activity_enqueue(wf_engine *e, wf_task *t);
/* After a restart (no lock held): a task no worker took is queued again;
 * a taken one waits for its worker. False: no such activity. */
bool wf__activity_requeue(wf_engine *e, wf_task *t);

#endif /* WF_ACTIVITY_IMPL_H */
