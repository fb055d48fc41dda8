/* libworkflow: run AWS Step Functions state machines in-process.
 * The umbrella header: include this one. */
#ifndef WF_WORKFLOW_H
#define WF_WORKFLOW_H

#include "workflow/activity.h"
#include "workflow/clock.h"
#include "workflow/common.h"
#include "workflow/engine.h"
#include "workflow/handler.h"
#include "workflow/http.h"
#include "workflow/machine.h"
#include "workflow/map_run.h"
#include "workflow/nested.h"
#include "workflow/object_store.h"
#include "workflow/plugin.h"
#include "workflow/store.h"
#include "workflow/test_state.h"

#endif /* WF_WORKFLOW_H */
