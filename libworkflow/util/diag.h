/* Diagnostics: every problem found in a definition, with AWS's code,
 * message and location. */
#ifndef WF_DIAG_H
#define WF_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "workflow/machine.h"

typedef struct wf__diag {
  char *code;     /* "SCHEMA_VALIDATION_FAILED" */
  char *message;  /* AWS's wording */
  char *location; /* "/States/A/Next"; NULL when AWS gives none */
  int line, column;
} wf__diag;

struct wf_diagnostics {
  wf__diag *items;
  size_t count, cap;
  bool oom; /* an item could not be recorded */
};

wf_diagnostics *wf__diag_new(void);
/* Record a problem. `location` may be NULL. Out-of-memory sets d->oom. */
void wf__diag_add(wf_diagnostics *d, const char *code, const char *location,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void wf__diag_add_at(wf_diagnostics *d, const char *code, int line,
                     int column, const char *message);

#endif
