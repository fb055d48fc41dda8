/* The compiled, immutable form of a state machine, as the engine runs it.
 * Built by the compiler (compile_*.c), shared read-only by executions. */
#ifndef WF_MACHINE_IMPL_H
#define WF_MACHINE_IMPL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "choice.h"
#include "intrinsic.h"
#include "jsonata_field.h"
#include "jsonpath.h"
#include "template.h"
#include "timestamp.h"
#include "workflow/machine.h"

typedef enum wf__state_type {
  WF__PASS,
  WF__TASK,
  WF__CHOICE,
  WF__WAIT,
  WF__SUCCEED,
  WF__FAIL,
  WF__PARALLEL,
  WF__MAP
} wf__state_type;

typedef enum wf__ql { WF__QL_JSONPATH, WF__QL_JSONATA } wf__ql;

/* InputPath / OutputPath / ResultPath: absent means "$"; JSON null has its
 * own meaning (InputPath/OutputPath: {}, ResultPath: discard the result). */
typedef enum wf__path_mode {
  WF__PATH_DEFAULT,
  WF__PATH_NULL,
  WF__PATH_SET
} wf__path_mode;

typedef struct wf__path_field {
  wf__path_mode mode;
  wf__jsonpath *path; /* WF__PATH_SET */
} wf__path_field;

/* A value given as a literal, a path or an intrinsic call (Fail's
 * ErrorPath/CausePath, the *Path number fields). */
typedef struct wf__dyn_value {
  wf__jsonpath *path;
  wf__intrinsic *fn;
} wf__dyn_value;

typedef struct wf__retrier {
  char **errors;
  size_t nerrors;
  int64_t interval_seconds; /* default 1 */
  int64_t max_attempts;     /* default 3 */
  double backoff_rate;      /* default 2.0 */
  int64_t max_delay_seconds; /* 0: none */
  bool jitter_full;
} wf__retrier;

typedef struct wf__catcher {
  char **errors;
  size_t nerrors;
  int next; /* state index in the same scope */
  wf__path_field result_path;
  wf__template *assign;
  /* JSONata: Output and Assign (NULL when absent) */
  wf__jfield *output, *ata_assign;
} wf__catcher;

typedef struct wf__choice_branch {
  wf__choice_rule *rule;  /* NULL for a JSONata rule (see condition) */
  wf__jfield *condition;  /* JSONata Condition */
  int next;
  wf__template *assign;
  /* JSONata: Output and Assign (NULL when absent) */
  wf__jfield *output, *ata_assign;
} wf__choice_branch;

/* The fields of a JSONata state that may hold expressions, compiled
 * (wf__state.ata; NULL when absent, or when a number field is a literal,
 * which the JSONPath members hold). */
typedef enum wf__ata_slot {
  WF__ATA_ARGUMENTS,
  WF__ATA_OUTPUT,
  WF__ATA_ASSIGN,
  WF__ATA_TIMEOUT,   /* TimeoutSeconds */
  WF__ATA_HEARTBEAT, /* HeartbeatSeconds */
  WF__ATA_SECONDS,   /* Wait */
  WF__ATA_TIMESTAMP, /* Wait */
  WF__ATA_ERROR,     /* Fail */
  WF__ATA_CAUSE,     /* Fail */
  WF__ATA_ITEMS,     /* Map */
  WF__ATA_ITEM_SELECTOR,
  WF__ATA_MAX_CONCURRENCY,
  WF__ATA_TOLERATED_COUNT,
  WF__ATA_TOLERATED_PERCENTAGE,
  WF__ATA_COUNT
} wf__ata_slot;

struct wf__scope;

typedef struct wf__state {
  wf__state_type type;
  char *name;
  struct wf__scope *scope; /* the scope holding this state */
  int index;               /* position in scope->states */
  int next;                /* index in the same scope; -1 when End */
  bool end;
  wf__ql ql;
  json_t *raw; /* the state's definition (borrowed from machine->root) */

  /* Input and output processing (JSONPath). */
  wf__path_field input_path, output_path, result_path;
  wf__template *parameters;      /* Parameters (Map: legacy item template) */
  wf__template *result_selector;
  wf__template *assign;
  json_t *result; /* Pass: Result literal */

  /* JSONata (ql == WF__QL_JSONATA) */
  wf__jfield *ata[WF__ATA_COUNT];

  /* Task */
  char *resource;
  int64_t timeout_seconds;   /* 0: AWS default (99,999,999) */
  wf__jsonpath *timeout_path;
  int64_t heartbeat_seconds; /* 0: none */
  wf__jsonpath *heartbeat_path;
  wf__template *credentials;

  /* Task, Parallel, Map */
  wf__retrier *retriers;
  size_t nretriers;
  wf__catcher *catchers;
  size_t ncatchers;

  /* Choice */
  wf__choice_branch *choices;
  size_t nchoices;
  int default_next; /* -1: none */

  /* Wait */
  bool has_seconds, has_timestamp;
  int64_t seconds;
  wf__instant timestamp;
  wf__jsonpath *seconds_path, *timestamp_path;

  /* Fail */
  char *error, *cause;
  wf__dyn_value error_path, cause_path;

  /* Parallel */
  struct wf__scope **branches;
  size_t nbranches;

  /* Map */
  struct wf__scope *processor;
  bool distributed;
  bool express_children;
  wf__jsonpath *items_path; /* NULL: "$" */
  wf__template *item_selector;
  int64_t max_concurrency; /* 0: unlimited */
  wf__jsonpath *max_concurrency_path;
  bool has_tolerated_count, has_tolerated_percentage;
  int64_t tolerated_count;
  double tolerated_percentage;
  wf__jsonpath *tolerated_count_path, *tolerated_percentage_path;
  json_t *item_batcher; /* raw ItemBatcher, NULL when absent */
  wf__template *batch_input; /* ItemBatcher.BatchInput */
  /* ItemReader and ResultWriter, raw (NULL when absent; the writer also
   * when it only shapes the output), with their Parameters (JSONPath) or
   * Arguments (JSONata). */
  json_t *item_reader, *result_writer;
  wf__template *reader_parameters, *writer_parameters;
  wf__jfield *reader_arguments, *writer_arguments;
  char *label;
} wf__state;

typedef struct wf__scope {
  wf__state **states;
  size_t count;
  int start;                /* StartAt index */
  struct wf__state *parent; /* Parallel/Map owning this scope; NULL at top */
  size_t branch_index;      /* for Parallel branches */
} wf__scope;

struct wf_machine {
  atomic_int refs;
  wf_machine_type type;
  wf__ql ql;
  char *name;
  char *definition;  /* canonical compact JSON */
  json_t *root;      /* the parsed definition (owned) */
  wf__scope *top;
  int64_t timeout_seconds; /* 0: none */
  size_t nstates;
  char *unrunnable; /* see wf__cctx.unrunnable */
  char *object_store_state; /* see wf__cctx.object_store_state */
  char **allowed; /* NULL-terminated allowlist of resources, or NULL */
  char digest[65]; /* SHA-256 of what defines it (machine_record.c) */
  /* The last store known to hold its definition: a tag the engine sets
   * so it writes a definition once per store, not once per execution. */
  _Atomic(const void *) stored_in;
};

/* Whether the machine may invoke `resource` (its allowlist). */
bool wf__machine_allows(const wf_machine *m, const char *resource);

void wf__scope_free(wf__scope *s);
void wf__state_free(wf__state *st);

/* Take a reference (for executions). */
wf_machine *wf__machine_ref(wf_machine *m);

/* machine_record.c: the machine as a store keeps it. */
/* Fill m->digest (at load). WF_OK or WF_ENOMEM. */
int wf__machine_digest(wf_machine *m);
/* The load options a store keeps beside the text ({"allowedResources":
 * [...]}), or NULL when there are none (wf__free). */
char *wf__machine_options_json(const wf_machine *m);
/* Load a machine back from a store's record. */
int wf__machine_load_record(wf_machine **out, const char *name, int type,
                            const char *definition, const char *options,
                            wf_error *err);

#endif
