/* Private helpers that fill a caller's wf_error. */
#ifndef WF_ERROR_H
#define WF_ERROR_H

#include "workflow/common.h"

/* Fill err (if not NULL) and return code. `path` may be NULL. */
int wf__error_set(wf_error *err, int code, const char *path, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));
/* Same, with a 1-based text position. */
int wf__error_set_at(wf_error *err, int code, int line, int column,
                     const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Reset err to WF_OK with empty strings. */
void wf__error_clear(wf_error *err);

#endif
