/* The AWS Step Functions JSON API's private declarations, shared by the
 * sfn_*.c modules: one call's context, typed request members with AWS's
 * validation wording, ARNs and names, machine records, page tokens, and
 * the operations the dispatch table (sfn_api.c) names. */
#ifndef GW_SFN_H
#define GW_SFN_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

/* One API call. */
typedef struct gw_sfn_call {
  gateway *g;
  const gw_request *req;
  gw_response *resp;
  json_t *body; /* the request's JSON object (borrowed) */
} gw_sfn_call;

/* ---- sfn_api.c: answers ------------------------------------------------ */
/* 200 with `obj` (stolen) in AWS's media type; timestamps (gw_sfn_time)
 * print as epoch seconds with milliseconds. A NULL obj (out of memory)
 * answers 500 InternalFailure. */
void gw_sfn_ok(gw_sfn_call *c, json_t *obj);
/* AWS's error shape with status 400 and a message of any length (the
 * diagnostics of a definition). */
void gw_sfn_fail_text(gw_sfn_call *c, const char *type, const char *message);
/* AWS's error shape with status 400. */
void gw_sfn_fail(gw_sfn_call *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with the member resourceName (ResourceNotFound, TooManyTags). */
void gw_sfn_fail_resource(gw_sfn_call *c, const char *type,
                          const char *resource, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* AWS's JSON timestamp: seconds since the epoch, milliseconds after the
 * point (1700000000.123). */
json_t *gw_sfn_time(int64_t ms);
/* "RUNNING", "SUCCEEDED", ... */
const char *gw_sfn_status_name(wf_exec_status st);

/* ---- sfn_params.c: request members ------------------------------------- */
/* Members are read in turn; a wrong JSON type is a SerializationException
 * (the first one wins), a constraint a ValidationException listing every
 * violation as AWS does ("2 validation errors detected: ...; ..."). An
 * absent member, or null, gives the default. */
typedef struct gw_sfn_params {
  json_t *body;
  int nerrors;
  char errors[1024];
  char serial[160]; /* first serialization problem, or "" */
} gw_sfn_params;

void gw_sfn_params_init(gw_sfn_params *p, json_t *body);
/* A string of min to max characters; NULL when absent (after a "must not
 * be null" error when required). Sensitive members (input, output,
 * definition, error, cause) never have their value quoted. */
const char *gw_sfn_str(gw_sfn_params *p, const char *key, bool required,
                       size_t min, size_t max);
/* A string from the NULL-terminated `values`; NULL when absent. */
const char *gw_sfn_enum(gw_sfn_params *p, const char *key,
                        const char *const *values);
long long gw_sfn_int(gw_sfn_params *p, const char *key, long long min,
                     long long max, long long dflt);
bool gw_sfn_bool(gw_sfn_params *p, const char *key, bool dflt);
/* A structure: an object or absent (NULL); its content is not checked. */
json_t *gw_sfn_struct(gw_sfn_params *p, const char *key);
/* A list: an array or absent (NULL); its content is not checked. */
json_t *gw_sfn_list(gw_sfn_params *p, const char *key);
/* The same for a member of a nested structure `obj`, named `path` in
 * messages ("tags.1.member.key"). */
const char *gw_sfn_str_in(gw_sfn_params *p, json_t *obj, const char *key,
                          const char *path, bool required, size_t min,
                          size_t max);
const char *gw_sfn_enum_in(gw_sfn_params *p, json_t *obj, const char *key,
                           const char *path, const char *const *values);
long long gw_sfn_int_in(gw_sfn_params *p, json_t *obj, const char *key,
                        const char *path, bool required, long long min,
                        long long max, long long dflt);
bool gw_sfn_bool_in(gw_sfn_params *p, json_t *obj, const char *key,
                    bool dflt);
json_t *gw_sfn_struct_in(gw_sfn_params *p, json_t *obj, const char *key);
json_t *gw_sfn_list_in(gw_sfn_params *p, json_t *obj, const char *key);
/* A list's element: a string (required), or a structure (NULL: null). */
const char *gw_sfn_str_value(gw_sfn_params *p, json_t *v, const char *path,
                             size_t min, size_t max);
json_t *gw_sfn_struct_value(gw_sfn_params *p, json_t *v);
/* A constraint broken, in the ValidationException's list; `value` is
 * quoted as given (NULL: "Value null"). */
void gw_sfn_violation(gw_sfn_params *p, const char *path, const char *value,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* True, with the 400 sent, when any member was wrong. */
bool gw_sfn_params_failed(gw_sfn_params *p, gw_sfn_call *c);

/* ---- sfn_arn.c: ARNs and names ----------------------------------------- */
enum {
  GW_SFN_ALLOW_VERSION = 1,
  GW_SFN_ALLOW_TEST_CASE = 2,
  GW_SFN_ALLOW_ALIAS = 4
};

typedef struct gw_sfn_machine_ref {
  char given[300]; /* the ARN as given, for messages */
  char arn[300];   /* the machine's unqualified ARN */
  char name[96];
  int version;         /* n of "<arn>:n"; 0: unqualified */
  char alias[96];      /* NAME of "<arn>:NAME"; "" for none */
  char test_case[128]; /* after '#'; "" for none */
} gw_sfn_machine_ref;

/* Parse a state machine ARN; `allow` says which qualifiers may follow the
 * name. False with InvalidArn (or StateMachineDoesNotExist for an alias
 * where none is allowed) answered. */
bool gw_sfn_parse_machine_arn(gw_sfn_call *c, const char *arn, unsigned allow,
                              gw_sfn_machine_ref *out);
/* A tagged resource's ARN: a state machine (with `ref` filled, qualifiers
 * allowed) or an activity (*activity set). False with InvalidArn
 * answered. */
bool gw_sfn_parse_resource_arn(gw_sfn_call *c, const char *arn,
                               gw_sfn_machine_ref *ref, bool *activity);
/* AWS's alias names: 1-80 of letters, digits, '_', '-' and '.', not all
 * digits (so that they differ from version numbers). */
bool gw_sfn_alias_name_ok(const char *s);
/* "<machine arn>:<alias>", malloc'd. */
char *gw_sfn_alias_arn(const char *machine_arn, const char *alias);
/* Check an execution ARN's form; false with InvalidArn answered. */
bool gw_sfn_check_execution_arn(gw_sfn_call *c, const char *arn);
/* The execution an executionArn names (its ARN checked), released with
 * the store's release_execution; NULL with InvalidArn or
 * ExecutionDoesNotExist answered. */
gw_exec_rec *gw_sfn_find_execution(gw_sfn_call *c, const char *arn);
/* DescribeStateMachineForExecution's answer for the execution `arn` (new
 * reference); NULL with the error answered. */
json_t *gw_sfn_machine_for_execution(gw_sfn_call *c, const char *arn);

/* ---- sfn_map_runs.c: a Map Run's child executions ------------------------ */
/* ListExecutions with mapRunArn: the run's child executions, newest first,
 * `status` a wf_exec_status or -1 (any), `redriven` as redriveFilter (1,
 * 0, -1 none); the answer (or error) given. */
void gw_sfn_list_map_run_executions(gw_sfn_call *c, const char *map_run_arn,
                                    int status, int redriven, size_t max,
                                    const char *token);
/* Whether an execution ARN names a Map Run's child (its machine part is
 * MACHINE/LABEL). */
bool gw_sfn_is_map_run_child(const char *arn);
/* DescribeStateMachineForExecution of a Map Run's child: the state
 * machine its Map Run runs; the answer (or error) given. */
void gw_sfn_describe_map_run_child_machine(gw_sfn_call *c, const char *arn);
/* DescribeExecution of a Map Run's child (`data`: with its input and
 * output): true when `arn` names one and the answer is given. */
bool gw_sfn_describe_map_run_child(gw_sfn_call *c, const char *arn,
                                   bool data);
/* The same for a Map Run's ARN. */
bool gw_sfn_check_map_run_arn(gw_sfn_call *c, const char *arn);
/* "arn:aws:states:<region>:<account>:stateMachine:<name>", malloc'd. */
char *gw_sfn_machine_arn(const gateway *g, const char *name);
/* "<machine arn>:<version>", malloc'd. */
char *gw_sfn_version_arn(const char *machine_arn, int version);
/* AWS's rule for state machine and execution names: 1-80 characters, no
 * blanks, brackets, wildcards, control characters or any of
 * " # % \ ^ | ~ ` $ & , ; : /. */
bool gw_sfn_name_ok(const char *s);
/* malloc'd printf. */
char *gw_sfn_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- sfn_records.c: machine records ------------------------------------ */
/* Serialises the read-copy-put of machine records (create, update,
 * delete, publish), so two updates never lose one another. */
void gw_sfn_machines_lock(void);
void gw_sfn_machines_unlock(void);
/* The machine of `ref`, with *rev the revision it names (the current one,
 * or a version); NULL with StateMachineDoesNotExist answered. A machine
 * being deleted is forgotten here once none of its executions runs. */
gw_machine_rec *gw_sfn_machine_find(gw_sfn_call *c,
                                    const gw_sfn_machine_ref *ref,
                                    const gw_revision **rev);
void gw_sfn_machine_release(gw_sfn_call *c, gw_machine_rec *m);
/* sfn_start.c: the machine and revision a start of `ref` runs (through an
 * alias, the version its weights draw) and the alias ARN it is run
 * through ("" for none); NULL when answered (StateMachineDoesNotExist,
 * StateMachineDeleting). */
gw_machine_rec *gw_sfn_machine_to_run(gw_sfn_call *c,
                                     const gw_sfn_machine_ref *ref,
                                     const gw_revision **rev,
                                     char alias_arn[300]);
/* A deep copy to put in place of m; compiled machines are shared. NULL
 * without memory. */
gw_machine_rec *gw_sfn_machine_copy(const gw_machine_rec *m);
/* Fill dst with a copy of src; -1 without memory. */
int gw_sfn_alias_copy(gw_alias *dst, const gw_alias *src);
/* Free a record that never reached the store. */
void gw_sfn_machine_discard(gw_machine_rec *m);
/* Fill dst with a copy of src (strings duplicated, machine shared);
 * -1 without memory. */
int gw_sfn_revision_copy(gw_revision *dst, const gw_revision *src);
/* Append a version of m's current revision (numbered after every version
 * m ever had); the new version, or NULL without memory. */
const gw_revision *gw_sfn_version_add(gw_machine_rec *m,
                                      const char *description, int64_t now_ms);
/* The latest version published from m's current revision, or NULL. */
const gw_revision *gw_sfn_version_of_current(const gw_machine_rec *m);
/* Whether an execution of the machine is still running. */
bool gw_sfn_machine_busy(gateway *g, const char *machine_arn);

/* Put r in place of the machine (r is taken); false with InternalFailure
 * answered. */
bool gw_sfn_machine_put(gw_sfn_call *c, gw_machine_rec *r);

/* ---- sfn_config.c: loggingConfiguration, tracingConfiguration ---------- */
/* The request's loggingConfiguration and tracingConfiguration as they are
 * kept and shown (AWS's defaults filled in), new references, NULL when
 * absent; their shapes are checked into p. */
json_t *gw_sfn_logging_member(gw_sfn_params *p);
json_t *gw_sfn_tracing_member(gw_sfn_params *p);
/* What AWS checks of a logging configuration beyond its shape; false with
 * InvalidLoggingConfiguration answered. */
bool gw_sfn_logging_ok(gw_sfn_call *c, const json_t *logging);
/* Add m's loggingConfiguration and tracingConfiguration to o. */
void gw_sfn_configs_show(json_t *o, const gw_machine_rec *m);
/* JSON text of v (NULL for NULL), malloc'd; *oom set when it fails. */
char *gw_sfn_json_text(const json_t *v, bool *oom);

/* ---- sfn_tags.c: tags ---------------------------------------------------- */
/* The TagList member `key` with its shape checked into p, each key once
 * (the last value given wins), in order; a new reference, NULL when
 * absent. */
json_t *gw_sfn_tags_member(gw_sfn_params *p, const char *key);
/* False with TooManyTags answered when `tags` has more than AWS allows. */
bool gw_sfn_tags_fit(gw_sfn_call *c, const json_t *tags, const char *arn);

/* ---- sfn_aliases.c: aliases ---------------------------------------------- */
/* The alias of m that ref names; NULL with StateMachineDoesNotExist
 * answered. */
const gw_alias *gw_sfn_alias_find(gw_sfn_call *c, const gw_machine_rec *m,
                                  const gw_sfn_machine_ref *ref);
/* The version an alias starts an execution on, drawn by its weights. */
int gw_sfn_alias_pick(const gw_alias *a);
/* Whether an alias of m routes to version `version`; `names` gets their
 * names ("a, b"). */
bool gw_sfn_alias_uses(const gw_machine_rec *m, int version, char *names,
                       size_t n);

/* ---- sfn_definition.c: definitions ------------------------------------- */
/* Compile a definition as CreateStateMachine does; NULL with
 * InvalidDefinition (AWS's diagnostics) answered. */
wf_machine *gw_sfn_compile(gw_sfn_call *c, const char *definition,
                           wf_machine_type type, const char *name,
                           char *const *allowed_resources);

/* ---- sfn_page.c: nextToken --------------------------------------------- */
/* Set o's nextToken to a token for the page starting at `offset` of a
 * listing bound to `context` (the operation and its filters): tokens are
 * authenticated with a key of this process and expire after 24 hours, as
 * AWS's do. */
void gw_sfn_page_next(json_t *o, const char *context, size_t offset);
/* The offset a token names, 0 without a token; false with InvalidToken
 * answered when it is forged, expired or from another listing. */
bool gw_sfn_page_start(gw_sfn_call *c, const char *token, const char *context,
                       size_t *offset);
/* A listing's maxResults (0 to 1000; 0 or none: `dflt`) and nextToken,
 * read from the body: the page's first offset and its size. False with
 * the error answered. */
bool gw_sfn_page_args(gw_sfn_call *c, const char *context, size_t dflt,
                      size_t *start, size_t *n);
/* The page of `all` (an array, stolen) from `start`, `n` long:
 * {"<member>": [...]} with nextToken for `context` when more follow. */
json_t *gw_sfn_page_of(json_t *all, const char *member, const char *context,
                       size_t start, size_t n);

/* ---- sfn_tasks.c: the callback pattern --------------------------------- */
/* Register aws.callbackResources: handlers that leave the task to
 * SendTaskSuccess/Failure. Called by gw_sfn_setup(). */
int gw_sfn_tasks_register(gw_server *srv, char *msg, size_t msg_size);

/* ---- sfn_nested.c: nested executions ------------------------------------ */
/* The engine's machine resolver over the gateway's machines, versions and
 * aliases. Called by gw_sfn_setup(), before executions resume. */
int gw_sfn_nested_register(gw_server *srv, char *msg, size_t msg_size);

/* ---- the operations (sfn_api.c's table) ---------------------------- */
typedef void (*gw_sfn_op)(gw_sfn_call *c);
/* sfn_machines.c */
void gw_sfn_create_state_machine(gw_sfn_call *c);
void gw_sfn_describe_state_machine(gw_sfn_call *c);
void gw_sfn_list_state_machines(gw_sfn_call *c);
void gw_sfn_update_state_machine(gw_sfn_call *c);
void gw_sfn_delete_state_machine(gw_sfn_call *c);
/* sfn_definition.c */
void gw_sfn_validate_definition(gw_sfn_call *c);
/* sfn_versions.c */
void gw_sfn_publish_version(gw_sfn_call *c);
void gw_sfn_list_versions(gw_sfn_call *c);
void gw_sfn_delete_version(gw_sfn_call *c);
/* sfn_start.c */
void gw_sfn_start_execution(gw_sfn_call *c);
void gw_sfn_start_sync_execution(gw_sfn_call *c);
/* sfn_executions.c */
void gw_sfn_describe_execution(gw_sfn_call *c);
void gw_sfn_describe_machine_for_execution(gw_sfn_call *c);
void gw_sfn_list_executions(gw_sfn_call *c);
void gw_sfn_stop_execution(gw_sfn_call *c);
void gw_sfn_redrive_execution(gw_sfn_call *c);
/* sfn_history.c */
void gw_sfn_get_execution_history(gw_sfn_call *c);
/* sfn_tags.c */
void gw_sfn_tag_resource(gw_sfn_call *c);
void gw_sfn_untag_resource(gw_sfn_call *c);
void gw_sfn_list_tags(gw_sfn_call *c);
/* sfn_aliases.c */
void gw_sfn_test_state(gw_sfn_call *c);
/* sfn_activities.c */
void gw_sfn_create_activity(gw_sfn_call *c);
void gw_sfn_describe_activity(gw_sfn_call *c);
void gw_sfn_list_activities(gw_sfn_call *c);
/* sfn_map_runs.c */
void gw_sfn_list_map_runs(gw_sfn_call *c);
void gw_sfn_describe_map_run(gw_sfn_call *c);
void gw_sfn_update_map_run(gw_sfn_call *c);
void gw_sfn_delete_activity(gw_sfn_call *c);
void gw_sfn_get_activity_task(gw_sfn_call *c);

void gw_sfn_create_alias(gw_sfn_call *c);
void gw_sfn_describe_alias(gw_sfn_call *c);
void gw_sfn_list_aliases(gw_sfn_call *c);
void gw_sfn_update_alias(gw_sfn_call *c);
void gw_sfn_delete_alias(gw_sfn_call *c);
/* sfn_tasks.c */
void gw_sfn_send_task_success(gw_sfn_call *c);
void gw_sfn_send_task_failure(gw_sfn_call *c);
void gw_sfn_send_task_heartbeat(gw_sfn_call *c);

#endif
