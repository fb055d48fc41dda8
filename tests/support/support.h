/* Helpers shared by the test files: reading files, finding ../shared,
 * comparing JSON results and running executions. */
#ifndef WF_TEST_SUPPORT_H
#define WF_TEST_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workflow/workflow.h"

/* The shared/ directory: $WF_SHARED_DIR, else the one beside the source. */
const char *wft_shared_dir(void);
/* Whole file as a NUL-terminated string (free()), or NULL. */
char *wft_read_file(const char *path, size_t *len);
/* printf into a new string (free()). */
char *wft_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- JSON values, compared the way AWS's results are ------------------- */

/* Equal as JSON values with AWS's number forms kept apart (an integer never
 * equals a real; reals compare by value); key order is free. */
bool wft_json_equal(const json_t *a, const json_t *b);
/* Both texts parse and are wft_json_equal(). NULL equals nothing. */
bool wft_json_text_equal(const char *a, const char *b);
/* Replace the value at `path` ("$", "$.a.b", "$['a b'][0]") inside root
 * with a marker string; false when the path is malformed or the value is
 * absent. Marking both sides makes a comparison skip that value. */
bool wft_json_mark(json_t *root, const char *path);
/* Compact JSON text of v, any type, keys in order, reals in their shortest
 * round-trip form with a decimal point kept (jansson's own dump prints 1.1
 * as 1.1000000000000001). free(). */
char *wft_json_dump(const json_t *v);

/* --- running executions through the public API ------------------------- */

/* 2024-01-01T00:00:00Z: where test clocks start. */
#define WFT_START_MS INT64_C(1704067200000)

/* An engine on its own virtual clock. */
typedef struct wft_env {
  wf_clock *clock;
  wf_engine *engine;
} wft_env;

/* Create the clock (at WFT_START_MS) and an engine on it; `opts` may be NULL
 * (its clock field is overridden). The engine keeps no history
 * (WF_HISTORY_OFF): these helpers report results, not events. Returns the
 * failing call's code. */
int wft_env_init(wft_env *env, const wf_engine_options *opts, wf_error *err);
void wft_env_fini(wft_env *env);

/* What one execution did. Strings are copies (free with
 * wft_result_free()); NULL when absent. */
typedef struct wft_result {
  int rc; /* WF_OK, or the failing load/start code (see err) */
  wf_error err;
  int finished; /* 0: still running after the wait limit */
  wf_exec_status status;
  char *output, *error, *cause, *name, *arn;
} wft_result;

/* Load `definition` (JSON), start it with `input` (NULL: {}) and `opts`
 * (may be NULL) and wait up to 10 s of real time. */
void wft_run_definition(wft_result *r, wf_engine *engine,
                        const char *definition, const char *input,
                        const wf_start_options *opts);
void wft_result_free(wft_result *r);
/* {"StartAt":"S","States":{"S":{"Type":type,<fields>,"End":true}}};
 * `fields` is a comma-separated member list ("\"Result\":1") or "". The
 * End member is left out for Succeed and Fail. free(). */
char *wft_single_state(const char *type, const char *fields);

#endif
