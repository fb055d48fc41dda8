/* History chunks encoded beside the writer (chunk_encoder.h). */
#include "chunk_encoder.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "alloc.h"
#include "event_chunk.h"

struct wf__chunk_encoder {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  bool stop;
  /* The batch: jobs taken one at a time by either thread (next), how
   * many are encoded (finished), and whether the encoder is working on
   * it (busy: a batch is over only when it is not). */
  wf__chunk_job *jobs;
  size_t n;
  atomic_size_t next;
  size_t finished;
  bool busy;
};

static void encode(wf__chunk_job *j) {
  wf__event_chunk_encode(&j->chunk, j->events, j->n);
}

/* Take and encode jobs until none is left; how many this thread did. */
static size_t take_jobs(atomic_size_t *next, wf__chunk_job *jobs, size_t n) {
  size_t did = 0;
  for (;;) {
    size_t i = atomic_fetch_add(next, 1);
    if (i >= n) return did;
    encode(&jobs[i]);
    did++;
  }
}

static void *encoder_main(void *arg) {
  wf__chunk_encoder *enc = arg;
  pthread_mutex_lock(&enc->mu);
  for (;;) {
    while (!enc->jobs && !enc->stop) pthread_cond_wait(&enc->work, &enc->mu);
    if (enc->stop) break;
    wf__chunk_job *jobs = enc->jobs;
    size_t n = enc->n;
    enc->busy = true;
    pthread_mutex_unlock(&enc->mu);
    size_t did = take_jobs(&enc->next, jobs, n);
    pthread_mutex_lock(&enc->mu);
    enc->finished += did;
    enc->busy = false;
    enc->jobs = NULL; /* every job is taken */
    pthread_cond_signal(&enc->done);
  }
  pthread_mutex_unlock(&enc->mu);
  return NULL;
}

wf__chunk_encoder *wf__chunk_encoder_start(void) {
  wf__chunk_encoder *enc = wf__calloc(1, sizeof *enc);
  if (!enc) return NULL;
  pthread_mutex_init(&enc->mu, NULL);
  pthread_cond_init(&enc->work, NULL);
  pthread_cond_init(&enc->done, NULL);
  if (pthread_create(&enc->thread, NULL, encoder_main, enc) != 0) {
    pthread_cond_destroy(&enc->work);
    pthread_cond_destroy(&enc->done);
    pthread_mutex_destroy(&enc->mu);
    wf__free(enc);
    return NULL;
  }
  return enc;
}

void wf__chunk_encoder_stop(wf__chunk_encoder *enc) {
  if (!enc) return;
  pthread_mutex_lock(&enc->mu);
  enc->stop = true;
  pthread_cond_signal(&enc->work);
  pthread_mutex_unlock(&enc->mu);
  pthread_join(enc->thread, NULL);
  pthread_cond_destroy(&enc->work);
  pthread_cond_destroy(&enc->done);
  pthread_mutex_destroy(&enc->mu);
  wf__free(enc);
}

void wf__chunk_encoder_post(wf__chunk_encoder *enc, wf__chunk_job *jobs,
                            size_t n) {
  if (!enc || !n) return;
  pthread_mutex_lock(&enc->mu);
  enc->jobs = jobs;
  enc->n = n;
  enc->finished = 0;
  atomic_store(&enc->next, 0);
  pthread_cond_signal(&enc->work);
  pthread_mutex_unlock(&enc->mu);
}

void wf__chunk_encoder_finish(wf__chunk_encoder *enc, wf__chunk_job *jobs,
                              size_t n) {
  if (!enc || !n) {
    for (size_t i = 0; i < n; i++) encode(&jobs[i]);
    return;
  }
  size_t did = take_jobs(&enc->next, jobs, n);
  pthread_mutex_lock(&enc->mu);
  enc->finished += did;
  /* Done when every job is, whoever encoded it, and the encoder holds no
   * reference to the batch (it may not have woken for it at all). */
  while (enc->finished < n || enc->busy)
    pthread_cond_wait(&enc->done, &enc->mu);
  enc->jobs = NULL;
  pthread_mutex_unlock(&enc->mu);
}

int wf__chunk_jobs_make(wf__chunk_job **jobs, size_t *n,
                        const wf_store_event *ev, size_t nev) {
  *jobs = NULL;
  *n = 0;
  if (!nev) return 0;
  wf__chunk_job *j = wf__calloc(nev, sizeof *j);
  if (!j) return -1;
  for (size_t i = 0; i < nev;) {
    size_t k = i + 1;
    while (k < nev &&
           strcmp(ev[k].execution_arn, ev[i].execution_arn) == 0 &&
           ev[k].id == ev[k - 1].id + 1)
      k++;
    j[(*n)++] = (wf__chunk_job){ev + i, k - i, WF__STRBUF_INIT};
    i = k;
  }
  *jobs = j;
  return 0;
}

void wf__chunk_jobs_free(wf__chunk_job *jobs, size_t n) {
  for (size_t k = 0; k < n; k++) wf__strbuf_free(&jobs[k].chunk);
  wf__free(jobs);
}
