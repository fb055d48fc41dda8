/* Map Runs inside the engine: the record a running fan-out keeps
 * (map_run.c) and its documents in the store (map_run_store.c). */
#ifndef WF_MAP_RUN_IMPL_H
#define WF_MAP_RUN_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "map_data.h"

/* The store's documents: a run by its ARN, the runs of an execution (kind
 * and execution ARN, key the run's ARN, an empty body: the listing), a
 * child by its ARN. */
#define WF__DOC_MAP_RUN "wf.mapRun"
#define WF__DOC_MAP_RUNS_OF "wf.mapRunsOf "
#define WF__DOC_MAP_RUN_CHILD "wf.mapRunChild"
/* A child execution's history, a commit's events at a time: key the
 * child's name, '#' and the id of the first (a JSON array of events in
 * GetExecutionHistory's shape, less the details saying a payload is
 * whole). Its wf.mapRunChild lists the first ids. */
#define WF__DOC_MAP_RUN_CHILD_EVENTS "wf.mapRunChildEvents"

/* A child execution as it stands: CHILD_PENDING until it starts (or not
 * known here: started before a resume and not running), then a
 * wf_exec_status. Its input and output are the fan-out's values, shared. */
#define WF__CHILD_PENDING 0xff
typedef struct wf__child_rec {
  int64_t start_ms, stop_ms;
  json_t *input, *output;
  char *error, *cause;
  unsigned char status;
  bool dirty; /* changed since its last document */
  /* Its history (its run's keep_history): the events recorded since its
   * last document, and the first id of each written chunk. */
  wf__event *events;
  size_t nevents, events_cap;
  int64_t *chunks;
  size_t nchunks;
  int64_t last_event; /* the id of the last event written */
  /* Its runs again by its Map Run's redrives (a STANDARD child's), and
   * when the last began. */
  int64_t redrive_count, redrive_ms;
} wf__child_rec;

struct wf__map_run {
  atomic_int refs; /* the registry's, the fan-out's, a reader's, a commit's */
  pthread_mutex_t lock; /* guards everything below but `next` */
  char *arn, *execution_arn, *machine_arn;
  wf_map_run_info info; /* its strings are the above */
  size_t *items;        /* items of each child (batches hold several) */
  wf__child_rec *kids;  /* each child execution; NULL once shed */
  size_t children;
  size_t started; /* children [0, started) may have started */
  wf_engine *engine; /* its clock; the fan-out's execution holds it */
  wf__frame *frame; /* the Map state's frame while it runs (exec lock) */
  /* Documents: the run's index written; on its execution's list of runs
   * to write (its lock); the children changed since. */
  bool listed, dirty, detached;
  /* Its children's histories are kept (the engine keeps histories and
   * they are STANDARD: AWS keeps none of an EXPRESS child's). */
  bool keep_history;
  /* Its children are EXPRESS: a redrive starts them anew (AWS reruns them
   * with StartExecution), where a STANDARD child is redriven. */
  bool express;
  size_t *dirty_kids;
  size_t ndirty_kids, dirty_kids_cap;
  /* A share's view of its parent's run (map_shard.c): its children are
   * the run's [base, base + children); it writes their records only,
   * never the run's. */
  bool share;
  size_t base;
  struct wf__map_run *next;
};

/* ---- map_run_store.c ---- */

/* The run's documents that changed, appended to `out` (run lock held);
 * false when out of memory. */
bool wf__map_run_docs(wf__map_run *r, const wf_execution *x,
                      wf__docs *out);
/* The run's document, parsed (new reference), or NULL (*rc: WF_ENOTFOUND,
 * WF_ENOMEM, a store error). */
json_t *wf__map_run_doc_read(wf_engine *e, const char *kind, const char *key,
                             int *rc, wf_error *err);
/* Child i of the run `run_arn` (its machine `machine_arn`), read by its
 * ARN (new reference); NULL with *rc set (WF_ENOTFOUND: not started). */
json_t *wf__map_run_child_doc(wf_engine *e, const char *run_arn,
                              const char *machine_arn, size_t i, int *rc,
                              wf_error *err);
/* What a child's document says of its life so far, read back into k as
 * it runs again (a resume, or a redrive of a STANDARD child): its start,
 * the chunks of its history and its last event's id, its redrives. */
void wf__map_run_child_restore(wf__child_rec *k, const json_t *doc);
/* A run's record read back into r (new: its strings owned); its counts,
 * settings and dates. */
int wf__map_run_doc_load(wf__map_run *r, const json_t *doc);

/* A ResultWriter's records of the children r started, read back into
 * fan->records (a resume or a redrive). */
void wf__map_run_restore_records(const wf__map_run *r, wf__fanout *fan);
/* UpdateMapRun of a run no fan-out runs here: its record changed in the
 * store. */
int wf__map_run_doc_update(wf_engine *e, const char *arn,
                           const wf_map_run_update *u, wf_error *err);

#endif
