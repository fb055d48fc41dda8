/*
 * libworkflow: loading, validating and inspecting state machine definitions.
 *
 * A definition (Amazon States Language, JSON or YAML) loads into an
 * immutable wf_machine: paths, intrinsic calls and Choice rules are compiled
 * once, and any number of executions on any threads share the machine.
 * A definition AWS Step Functions would reject is rejected with the same
 * diagnostics: AWS's code, location and message.
 */
#ifndef WF_MACHINE_H
#define WF_MACHINE_H

#include "workflow/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A compiled, immutable state machine. Reference-counted internally. */
typedef struct wf_machine wf_machine;

/** The list of problems found in a definition. */
typedef struct wf_diagnostics wf_diagnostics;

typedef enum wf_machine_type {
  WF_MACHINE_STANDARD = 0,
  WF_MACHINE_EXPRESS = 1
} wf_machine_type;

/** AWS's limits, applied at load. */
#define WF_DEFINITION_MAX_BYTES (1024 * 1024)
#define WF_STATE_NAME_MAX_CHARS 80

/**
 * Options for loading a definition. Zero means default for every field;
 * initialise with WF_LOAD_OPTIONS_INIT or wf_load_options_init().
 */
typedef struct wf_load_options {
  unsigned int version;
  /** STANDARD (default) or EXPRESS; EXPRESS applies AWS's extra rules. */
  wf_machine_type type;
  /** The state machine's name, used in its ARN and `$$.StateMachine.Name`;
   *  NULL means "StateMachine". Copied. */
  const char *name;
  /** Optional out-parameter: when not NULL, receives every diagnostic of a
   *  definition that fails to load (WF_EINVALID or WF_EPARSE), or NULL when
   *  it loads. Free with wf_diagnostics_free(). */
  wf_diagnostics **diagnostics;
  /** Least privilege: the Task resources this machine may invoke, as a
   *  NULL-terminated array of exact resource strings (an entry ending in
   *  '*' allows every resource starting with what precedes it). NULL means
   *  any. A Task outside the list fails with States.Permissions and an
   *  audit log line. Copied. */
  const char *const *allowed_resources;
} wf_load_options;

#define WF_LOAD_OPTIONS_VERSION 1
#define WF_LOAD_OPTIONS_INIT {.version = WF_LOAD_OPTIONS_VERSION}

/**
 * Initialise load options to their defaults (for bindings without macros).
 * @param[out] opts the options to fill.
 * @param version   WF_LOAD_OPTIONS_VERSION.
 * @return WF_OK, WF_EINVAL (opts NULL), WF_EVERSION.
 * Threads: any.
 */
WF_API int wf_load_options_init(wf_load_options *opts, unsigned int version);

/**
 * Load an ASL definition from JSON text.
 * @param[out] out the machine; free with wf_machine_free(). NULL on failure.
 * @param json     NUL-terminated UTF-8; not retained.
 * @param opts     optional (NULL: defaults).
 * @param[out] err optional; on failure holds the first problem: for
 *                 WF_EPARSE its line and column, for WF_EINVALID its location
 *                 in `path` and "CODE: message" in `message`.
 * @return WF_OK; WF_EPARSE (not JSON); WF_EINVALID (AWS would reject it);
 *         WF_ELIMIT (over 1 MiB); WF_EVERSION; WF_EINVAL; WF_ENOMEM.
 * Threads: any; the result may be shared by any number of threads.
 */
WF_API int wf_machine_load_json(wf_machine **out, const char *json,
                                const wf_load_options *opts, wf_error *err);

/**
 * Load an ASL definition from YAML text. The same definition in YAML and in
 * JSON gives the same machine.
 * Parameters, return codes and threads as wf_machine_load_json(); WF_ELIMIT
 * also when aliases expand it past 1 MiB as JSON.
 */
WF_API int wf_machine_load_yaml(wf_machine **out, const char *yaml,
                                const wf_load_options *opts, wf_error *err);

/**
 * Load a definition file: YAML when the name ends in .yaml or .yml, JSON
 * otherwise.
 * @param path file name; not retained.
 * @return as wf_machine_load_json(), plus WF_EIO when the file cannot be
 *         read (err names the file and the reason).
 * Threads: any.
 */
WF_API int wf_machine_load_file(wf_machine **out, const char *path,
                                const wf_load_options *opts, wf_error *err);

/**
 * Release the caller's reference. Executions still running keep the machine
 * alive until they finish. Accepts NULL.
 * Threads: any.
 */
WF_API void wf_machine_free(wf_machine *machine);

/**
 * Take another reference to a machine, released with wf_machine_free():
 * a holder that outlives the loader's reference (a registry of versions,
 * say) shares the compiled machine instead of loading it again.
 * @param machine may be NULL.
 * @return machine itself.
 * Threads: any.
 */
WF_API wf_machine *wf_machine_ref(wf_machine *machine);

/** The machine type given at load. Threads: any. */
WF_API wf_machine_type wf_machine_get_type(const wf_machine *machine);

/** The machine's name (borrowed, lives as long as the machine). */
WF_API const char *wf_machine_name(const wf_machine *machine);

/** The top-level StartAt state's name (borrowed). */
WF_API const char *wf_machine_start_at(const wf_machine *machine);

/** Number of states, nested branch and processor states included. */
WF_API size_t wf_machine_state_count(const wf_machine *machine);

/**
 * The definition as compact JSON, keys in their original order (borrowed,
 * lives as long as the machine). Equal for a YAML and a JSON source of the
 * same definition.
 */
WF_API const char *wf_machine_definition(const wf_machine *machine);

/** Number of diagnostics (0 for NULL). Threads: any, read-only. */
WF_API size_t wf_diagnostics_count(const wf_diagnostics *diags);

/**
 * AWS's code of diagnostic i: "SCHEMA_VALIDATION_FAILED",
 * "MISSING_TRANSITION_TARGET", "MISSING_END_STATE",
 * "INVALID_JSON_DESCRIPTION", ... Borrowed; NULL when i is out of range.
 */
WF_API const char *wf_diagnostics_code(const wf_diagnostics *diags, size_t i);

/** The message of diagnostic i, worded as AWS words it. Borrowed. */
WF_API const char *wf_diagnostics_message(const wf_diagnostics *diags,
                                          size_t i);

/**
 * The location of diagnostic i in AWS's syntax ("/States/T/Catch[0]/Next",
 * "/" for the root), or NULL when AWS gives none. Borrowed.
 */
WF_API const char *wf_diagnostics_location(const wf_diagnostics *diags,
                                           size_t i);

/**
 * Line and column (1-based) of diagnostic i in the source text, for syntax
 * errors; 0 when unknown.
 */
WF_API int wf_diagnostics_line(const wf_diagnostics *diags, size_t i);
WF_API int wf_diagnostics_column(const wf_diagnostics *diags, size_t i);

/**
 * Format all diagnostics the way AWS's API error does:
 * "CODE: message at /location, CODE: message". Free with wf_string_free().
 * @return NULL on out-of-memory.
 */
WF_API char *wf_diagnostics_format(const wf_diagnostics *diags);

/** Free a diagnostics list. Accepts NULL. Threads: any. */
WF_API void wf_diagnostics_free(wf_diagnostics *diags);

/** Free a string returned by libworkflow. Accepts NULL. Threads: any. */
WF_API void wf_string_free(char *s);

/**
 * Convert one YAML document to compact JSON text, with the rules the
 * definition loader uses (YAML 1.2 core schema, anchors and merge keys
 * expanded, keys in document order). Useful for YAML configuration files.
 * @param[out] out the JSON text; free with wf_string_free().
 * @param yaml     NUL-terminated; not retained.
 * @return WF_OK, WF_EPARSE (err has line and column), WF_ELIMIT (aliases
 *         expand it to more than 16 times its size and more than 1 MiB),
 *         WF_ENOMEM.
 * Threads: any.
 */
WF_API int wf_yaml_to_json(char **out, const char *yaml, wf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WF_MACHINE_H */
