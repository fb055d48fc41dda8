/* Nested executions (nested_task.c): the child's description. */
#ifndef WF_NESTED_IMPL_H
#define WF_NESTED_IMPL_H

#include <jansson.h>
#include <stdbool.h>

#include "workflow/engine.h"
#include "workflow/store.h"

/* An ended child as AWS's .sync integration returns it: DescribeExecution
 * in PascalCase, keys in alphabetical order, dates in epoch ms, Input and
 * Output as JSON text (`parsed`: as JSON values, .sync:2). `version_arn`:
 * the version an alias chose ("" or NULL: unknown). A new reference; NULL
 * without memory. */
json_t *wf__nested_describe(const wf_engine *e, const wf_store_execution *r,
                            bool parsed, const char *version_arn);

#endif
