/* libworkflow: run AWS Step Functions state machines in-process.
 * The umbrella header: include this one. */
#ifndef WF_WORKFLOW_H
#define WF_WORKFLOW_H

#include "workflow/common.h"
#include "workflow/machine.h"

#endif /* WF_WORKFLOW_H */
