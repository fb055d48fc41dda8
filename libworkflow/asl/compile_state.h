/* Compiling one state (compile_state.c), used by the scope compiler. */
#ifndef WF_COMPILE_STATE_H
#define WF_COMPILE_STATE_H

#include <jansson.h>

#include "compile.h"

/* The wf__state_type for "Pass", "Task", ...; -1 when unknown. */
int wf__state_type_from_name(const char *name);
/* Compile `js` into st (st->type and st->name already set) at the
 * context's current location ("/States/<name>"). */
void wf__compile_state(wf__cctx *cx, json_t *js, wf__state *st);

#endif
