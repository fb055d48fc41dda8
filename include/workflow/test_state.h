/*
 * libworkflow: TestState, one state run in isolation.
 *
 * As AWS's TestState API does: the definition of one state (or a whole
 * state machine and the name of one of its top-level states) runs once on
 * an input, with workflow variables and, optionally, a mocked result or
 * error instead of the Task's, Map's or Parallel's work. The answer is the
 * state's output or error, the state it would go to next, a status
 * (SUCCEEDED, FAILED, RETRIABLE when a retrier would retry, CAUGHT_ERROR
 * when a catcher takes the error) and, from the DEBUG level on, the data
 * at each step of the state's input and output processing.
 *
 * Nothing of the run is kept: it is no execution of the engine's (not
 * listed, not in its store, not told to listeners or the log). A Task
 * without a mock calls the handler registered for its resource, as AWS
 * calls the real resource; a Wait returns at once; a retrier is reported,
 * never waited for.
 */
#ifndef WF_TEST_STATE_H
#define WF_TEST_STATE_H

#include "workflow/common.h"
#include "workflow/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How much of the run the result shows (AWS's inspectionLevel). */
typedef enum wf_inspection_level {
  WF_INSPECT_INFO = 0, /**< output, error, next state and status */
  WF_INSPECT_DEBUG,    /**< also the data processing steps */
  WF_INSPECT_TRACE     /**< also an HTTP Task's request and response */
} wf_inspection_level;

/** How a mocked result is checked (AWS's fieldValidationMode). */
typedef enum wf_mock_validation {
  WF_MOCK_STRICT = 0, /**< the default */
  WF_MOCK_PRESENT,
  WF_MOCK_NONE
} wf_mock_validation;

/** The outcome of the tested state. */
typedef enum wf_test_status {
  WF_TEST_SUCCEEDED,
  WF_TEST_FAILED,
  WF_TEST_RETRIABLE,   /**< failed, and a retrier would try again */
  WF_TEST_CAUGHT_ERROR /**< failed, and a catcher took the error */
} wf_test_status;

typedef struct wf_test_state_options {
  unsigned int version;
  /** The state's input, JSON text; NULL: {}. */
  const char *input;
  wf_inspection_level inspection_level;
  /** Show what an HTTP Task's connection adds to its request (TRACE). */
  int reveal_secrets;
  /** The workflow variables the state sees: a JSON object's text; NULL:
   *  none. */
  const char *variables;
  /** With a whole state machine as the definition: the state to run (one
   *  of its top-level states). */
  const char *state_name;
  /** A mocked result (JSON text) or error (mock_error, with an optional
   *  mock_cause), at most one of them; NULL: none. */
  const char *mock_result;
  const char *mock_error, *mock_cause;
  wf_mock_validation mock_validation;
  /** The context object ($$) the state sees, JSON text; only with a mock
   *  (as AWS). */
  const char *context;
  /** stateConfiguration: the retries the state has made already, the
   *  state of a Map or Parallel a mocked error comes from, the Map
   *  iterations that failed, and what a Distributed Map's ItemReader read
   *  (JSON text). Negative counts: not given. */
  int retrier_retry_count;
  const char *error_caused_by_state;
  int map_iteration_failure_count;
  const char *map_item_reader_data;
  /** The role the state runs as ($$.Execution.RoleArn); NULL: the
   *  engine's. */
  const char *role_arn;
} wf_test_state_options;

#define WF_TEST_STATE_OPTIONS_VERSION 1
/** Counts of stateConfiguration start at -1 (not given). */
#define WF_TEST_STATE_OPTIONS_INIT                                           \
  {.version = WF_TEST_STATE_OPTIONS_VERSION, .retrier_retry_count = -1,     \
   .map_iteration_failure_count = -1}

/**
 * Initialise options to their defaults (for bindings without macros).
 * @return WF_OK, WF_EINVAL, WF_EVERSION. Threads: any.
 */
WF_API int wf_test_state_options_init(wf_test_state_options *opts,
                                      unsigned int version);

typedef struct wf_test_state_result wf_test_state_result;

/**
 * Run one state in isolation on the engine (its handlers, HTTP Task
 * configuration and clock) and wait for its end. The engine's Task
 * timeouts apply; the run fails with States.Timeout after five minutes,
 * as AWS's does.
 * @param[out] out the result; free with wf_test_state_result_free().
 * @param engine   borrowed.
 * @param definition JSON text of one state, or of a state machine with
 *                 opts->state_name; not retained.
 * @param opts     NULL: defaults; not retained.
 * @param[out] err optional; for WF_EINVALID its message, path and
 *                 position are the definition's first problem, for
 *                 WF_EINVAL the request's problem in AWS's words.
 * @return WF_OK (whatever the state's status); WF_EPARSE (the input is
 *         not JSON); WF_EINVALID (the definition is not JSON, or not a
 *         valid state or machine); WF_EINVAL (variables, context or a
 *         mocked result not JSON of the right kind, a bad combination of
 *         options, a stateName not found, a mock for a Pass, Succeed or
 *         Fail, an activity, a .sync or .waitForTaskToken Task without a
 *         mock); WF_EUNSUPPORTED (a Map or Parallel without a mock: AWS's
 *         InvalidDefinition); WF_EVERSION; WF_ENOMEM.
 * Threads: any; a handler it calls runs as for an execution (inline ones
 *         on this thread).
 */
WF_API int wf_engine_test_state(wf_test_state_result **out, wf_engine *engine,
                                const char *definition,
                                const wf_test_state_options *opts,
                                wf_error *err);

/** The tested state's status. Threads: any. */
WF_API wf_test_status wf_test_state_status(const wf_test_state_result *r);
/** AWS's name of a status ("SUCCEEDED", ...). Threads: any. */
WF_API const char *wf_test_status_name(wf_test_status status);
/** The state's output as JSON text, or NULL when it failed and nothing
 *  caught the error. Borrowed: valid until the result is freed. */
WF_API const char *wf_test_state_output(const wf_test_state_result *r);
/** The error and cause when the state failed (also when caught or
 *  retriable), else NULL. Borrowed. */
WF_API const char *wf_test_state_error(const wf_test_state_result *r);
WF_API const char *wf_test_state_cause(const wf_test_state_result *r);
/** The state it goes to next, or NULL (an end, a failure). Borrowed. */
WF_API const char *wf_test_state_next(const wf_test_state_result *r);
/** AWS's inspectionData as a JSON object's text (each member itself JSON
 *  text, as AWS gives them), or NULL at the INFO level. Borrowed. */
WF_API const char *
wf_test_state_inspection(const wf_test_state_result *r);
/** Free a result. Accepts NULL. Threads: any, once. */
WF_API void wf_test_state_result_free(wf_test_state_result *r);

#ifdef __cplusplus
}
#endif

#endif /* WF_TEST_STATE_H */
