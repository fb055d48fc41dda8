/* A thread that encodes history chunks (event_chunk.h) while the store's
 * writer does the rest of a commit: encoding a commit's chunks takes about
 * a fifth of the writer's time, and a commit's execution records do not
 * need them. Jobs are shared: the writer takes what the encoder has not
 * started once its own work is done. */
#ifndef WF_CHUNK_ENCODER_H
#define WF_CHUNK_ENCODER_H

#include <stddef.h>

#include "strbuf.h"
#include "workflow/store.h"

/* One execution's consecutive events, and their chunk once encoded
 * (chunk.oom on out-of-memory). */
typedef struct wf__chunk_job {
  const wf_store_event *events;
  size_t n;
  wf__strbuf chunk;
} wf__chunk_job;

typedef struct wf__chunk_encoder wf__chunk_encoder;

/* A batch's events as jobs, one per run of consecutive events of one
 * execution (what a backend stores as one chunk): *jobs gets an array of
 * *n (NULL, 0 for no events); free it with wf__chunk_jobs_free(). -1 on
 * out-of-memory. */
int wf__chunk_jobs_make(wf__chunk_job **jobs, size_t *n,
                        const wf_store_event *events, size_t nevents);
void wf__chunk_jobs_free(wf__chunk_job *jobs, size_t n);

/* NULL when the thread cannot be started (jobs are then encoded by
 * whoever calls wf__chunk_encoder_finish). */
wf__chunk_encoder *wf__chunk_encoder_start(void);
void wf__chunk_encoder_stop(wf__chunk_encoder *enc);
/* Start encoding jobs[0..n) on the encoder's thread (enc may be NULL).
 * One batch at a time; the jobs must stay put until finished. */
void wf__chunk_encoder_post(wf__chunk_encoder *enc, wf__chunk_job *jobs,
                            size_t n);
/* Encode what the encoder has not taken, on this thread, and wait until
 * every job of the batch is encoded. */
void wf__chunk_encoder_finish(wf__chunk_encoder *enc, wf__chunk_job *jobs,
                              size_t n);

#endif
