/* A Distributed Map's data: ItemReader (map_reader.c) and ResultWriter
 * (map_writer.c) against the engine's object store. */
#ifndef WF_MAP_DATA_H
#define WF_MAP_DATA_H

#include "step.h"
#include "workflow/map_run.h"

#define WF__ITEM_READER_FAILED "States.ItemReaderFailed"
#define WF__RESULT_WRITER_FAILED "States.ResultWriterFailed"

/* The engine's object store root (new, wf__free), NULL when none. */
char *wf__object_root(wf_engine *e);

/* WF_OK, or WF_EUNSUPPORTED naming the Map state when the machine reads
 * or writes Amazon S3 objects and the engine has no object store. */
int wf__object_store_check(wf_engine *e, const wf_machine *m, wf_error *err);

/* ItemReader's or ResultWriter's Parameters (template `t`) or Arguments
 * (`j`), evaluated on `eff` (borrowed): an object. */
int wf__map_io_arguments(json_t **out, wf__frame *f, const wf__template *t,
                         const wf__jfield *j, json_t *eff, wf__fault *fault);

/* The items of a Map state with an ItemReader: read, ItemsPath applied,
 * checked to be an array, MaxItems applied. -1 with the fault set: its
 * error WF__ITEM_READER_FAILED for what the reader met (the state fails
 * with it as it is), another for a run-time fault. */
int wf__map_read_items(json_t **out, wf__frame *f, const wf__state *st,
                       json_t *eff, wf__fault *fault);

/* ResultWriter: what is kept of child i of p's fan-out as it starts (on
 * `input`) and as it ends. Nothing without p->fan->records. */
void wf__map_child_started(wf__frame *p, const wf__state *st, size_t i,
                           json_t *input);
void wf__map_child_ended(wf__frame *p, size_t i, const wf__frame *child);
/* A child's record rebuilt from what the store kept of it (a resume or a
 * redrive). */
void wf__map_child_restored(wf__fanout *fan, const wf_map_run_child *c);

/* The Map state's result with a ResultWriter (f->fan ended): the results
 * shaped by WriterConfig, or with a Resource the files written and
 * {"MapRunArn", "ResultWriterDetails"}. -1 with the fault set
 * (WF__RESULT_WRITER_FAILED, or a run-time fault of the arguments). */
int wf__map_write_results(json_t **out, wf__frame *f, const wf__state *st,
                          wf__fault *fault);

/* ---- map_run.c: Map Runs ---- */

typedef struct wf__map_run wf__map_run;

/* "arn:aws:states:R:A:stateMachine:MACHINE/LABEL", the Map Run's. */
void wf__map_machine_arn(wf__strbuf *out, const wf__frame *f,
                         const wf__state *st);
/* Record the run of f's fan-out (its settings made) as `arn`; f->fan->run
 * set (NULL when out of memory: the run goes unlisted). Exec lock held,
 * as for all of these. */
void wf__map_run_begin(wf__frame *f, const wf__state *st, const char *arn);
typedef enum {
  WF__MAP_CHILD_STARTED,
  WF__MAP_CHILD_SUCCEEDED,
  WF__MAP_CHILD_FAILED
} wf__map_child;
/* Child i started (`child` its frame, its input kept) or ended (its
 * output, or error and cause, kept). */
void wf__map_run_child(wf__frame *p, size_t i, wf__map_child what,
                       const wf__frame *child);
/* Child i of p's run as it starts: the times it was redriven (0: its
 * first run, or an EXPRESS child) and, in *last_event, the id of the last
 * event of its history so far (0: none), after which its events go on. */
int64_t wf__map_run_child_redrives(const wf__frame *p, size_t i,
                                   int64_t *last_event);
/* Child i's name, a UUID made from the Map Run's (so the same after a
 * resume or a redrive). */
void wf__map_child_name(char out[37], const char *map_run_arn, size_t i);
/* A child's ARN from its run's machine ARN
 * (arn:aws:states:R:A:stateMachine:MACHINE/LABEL) and its name:
 * arn:aws:states:R:A:execution:MACHINE/LABEL:NAME. */
void wf__map_child_arn(wf__strbuf *out, const char *machine_arn,
                       const char *name);
/* Whether the child execution `top` (a distributed Map's child frame)
 * keeps a history (exec lock held). */
bool wf__map_run_keeps_history(const wf__frame *top);
/* Event `ev` (taken) of the child execution `top`, kept for its
 * history's next document (exec lock held). */
void wf__map_run_child_event(wf__frame *top, wf__event *ev);
/* The run ended (`written`: a ResultWriter wrote its results). */
void wf__map_run_end(wf__frame *f, wf_map_run_status status, bool written);
/* A redrive runs it again. */
void wf__map_run_redriven(wf__frame *f);
/* The fan-out's reference dropped (a run still running was aborted). */
void wf__map_run_release(wf__map_run *r);
/* Children [from, from + n) handed out to run elsewhere (map_shard.c):
 * counted running; their records are written where they run. */
void wf__map_run_children_out(wf__frame *p, size_t from, size_t n);
/* Child i, run elsewhere, ended: counted, its record left as written. */
void wf__map_run_child_counted(wf__frame *p, size_t i, bool succeeded);

/* ---- map_shard.c: children spread over a shared store's workers ---- */

/* How a child run elsewhere ended, told to the fan-out (state_fanout.c):
 * its output (borrowed), or its error, cause and last event's id. */
typedef void (*wf__shard_child_fn)(wf__frame *p, const wf__state *st,
                                   size_t i, bool ok, json_t *output,
                                   const char *error, const char *cause,
                                   int64_t last);
/* Whether f's fan-out (a Distributed Map's, its run begun) spreads its
 * children: f->fan->shards set when it does. */
void wf__shard_plan(wf__frame *f);
/* Hand out the shares MaxConcurrency allows, each a unit of work of x's
 * next commit; -1 with the fault set when out of memory. */
int wf__shard_launch(wf__frame *f, wf__fault *fault);
/* The ends of shares read since, folded in: each child through `child`. */
void wf__shard_fold(wf__frame *f, const wf__state *st,
                    wf__shard_child_fn child);
/* f waits for its shares: the share thread polls their ends. */
void wf__shard_watch(wf__frame *f);
/* Stop the shares out: the Map failed (`wait`: their ends are folded
 * before the Map's; true while some are still stopping), or its
 * execution stopped (not waited for). */
bool wf__shard_abort(wf__frame *f, bool wait);
/* The shares' documents of f's run deleted with the next commit (the Map
 * succeeded: nothing will read them again). */
void wf__shard_succeeded(wf__frame *f);
/* x's fan-outs with shares resumed (x->lock held): the results of the
 * shares folded before read back, the shares out waited for again. */
void wf__shard_resume(wf_execution *x);
/* A share's Map frame stopped (its parent's Map failed or stopped): its
 * end document says what its children did until then. */
void wf__shard_stopped(wf__frame *f);
/* A share's Map frame whose children ended: its end document made, its
 * execution ended. */
wf__step wf__shard_finish(wf__frame *f);
void wf__shards_free(wf__shards *sh);
json_t *wf__shards_encode(const wf__shards *sh);
/* WF_OK, WF_ECORRUPT, WF_ENOMEM. */
int wf__shards_decode(wf__fanout *fan, const json_t *o);

#endif
