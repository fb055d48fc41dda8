/* Work sharing in a PostgreSQL store (store_postgres_lease.c): many
 * processes run the executions of one database, each execution leased to
 * one of them at a time.
 *
 * A worker (one open shared store) has a row in wf_workers with an expiry
 * it renews; an execution's row names its worker (lease_owner) and the
 * lease's epoch, raised by every change of hands. A running execution
 * whose worker's row has expired (or that has none) is claimed by another
 * worker with FOR UPDATE SKIP LOCKED. Every write of a leased execution
 * is fenced: its update names owner and epoch, and finding no such row
 * fails the transaction (wf_fenced()), so a worker that lost a lease (it
 * stalled past its expiry, or an API call taken by another worker moved
 * the execution there) cannot write it again: nothing of the commit is
 * written and the execution is reported lost.
 *
 * Everything here runs with the pool's writer connection held (wmu): the
 * map of leases held changes only together with what the database says. */
#ifndef WF_PG_LEASE_H
#define WF_PG_LEASE_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pg_pool.h"
#include "strmap.h"
#include "workflow/store.h"

/* The columns of an execution's row, in the order the store reads them. */
#define WF__PG_EXEC_COLUMNS                                                 \
  "seq, arn, name, machine_name, machine_arn, definition_id, status,"       \
  " start_ms, stop_ms, input, output, error, cause, correlation_id,"        \
  " role_arn, event_count, state"

/* A worker's lease unless configured (wf_store_postgres_options). */
#define WF__PG_LEASE_DEFAULT_MS 10000

/* SQLSTATE wf_fence() raises: leases lost (the DETAIL lists them). */
#define WF__PG_LEASE_LOST "WFL01"
/* SQLSTATE wf_inserted() raises: a new execution's ARN is taken. */
#define WF__PG_NAME_TAKEN "WFL02"

typedef struct wf__pg_leases {
  bool shared;
  char worker[96]; /* host:pid:random, unique per open store */
  int64_t lease_ms;
  wf__strmap held; /* ARN -> epoch (intptr_t); under the writer's lock */
  pthread_mutex_t mu; /* guards lost */
  wf__strmap lost; /* ARNs whose lease went elsewhere, not yet reported */
} wf__pg_leases;

/* The writer's statements of work sharing, prepared with the others. */
extern const wf__pg_stmt WF__PG_LEASE_SQL[];
extern const size_t WF__PG_LEASE_NSQL;
/* The schema of version 2 (the workers, the fence), and the migration of
 * a version 1 schema to it. */
extern const char WF__PG_LEASE_SCHEMA[];

void wf__pg_leases_init(wf__pg_leases *l, bool shared, int64_t lease_ms);
void wf__pg_leases_fini(wf__pg_leases *l);

/* Register this worker (the writer's setup). */
int wf__pg_leases_register(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                           wf_error *err);
/* Hand every lease back and drop the worker's row (closing). */
void wf__pg_leases_release(wf__pg_leases *l, PGconn *c);

/* How a commit writes execution `arn`: 1 an update fenced by its lease
 * (*epoch: the epoch it holds), 0 an insert of a new execution, -1 not at
 * all: its lease was lost (WF_ECANCELED). */
int wf__pg_leases_plan(wf__pg_leases *l, const char *arn, int64_t *epoch);
/* After a commit: the executions of the batch inserted are held, those
 * ended are let go. */
void wf__pg_leases_committed(wf__pg_leases *l, const wf_store_batch *b);
/* A commit failed with WF__PG_LEASE_LOST: the executions in its DETAIL (a
 * JSON array of ARNs) are lost. */
void wf__pg_leases_fenced(wf__pg_leases *l, const char *detail);

/* Renew this worker's lease, find the leases it lost, let go of the rows
 * the database gives it that it does not know it holds (a claim or an
 * insert whose answer was lost with its connection), and claim up to
 * `max` running executions nobody holds: *claimed gets their rows
 * (EXEC_COLUMNS then lease_epoch; PQclear) or NULL. */
int wf__pg_leases_claim(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                        size_t max, PGresult **claimed, wf_error *err);
/* Take the leases of up to `max` units of work no worker holds yet
 * (WF_STORE_EXEC_WORK): *claimed gets their rows (PQclear). */
int wf__pg_leases_claim_work(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                             size_t max, PGresult **claimed, wf_error *err);
/* Take the lease of one execution, whoever holds it: *row gets its row
 * (PQclear), or NULL when there is no such execution with a state. */
int wf__pg_leases_acquire(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                          const char *arn, PGresult **row, wf_error *err);
/* Whether the database still gives this worker the lease it holds of
 * arn: WF_OK, or WF_ECANCELED (then it is lost). */
int wf__pg_leases_holds(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                        const char *arn, wf_error *err);
/* Report the lost leases to cb, once each. */
void wf__pg_leases_take_lost(wf__pg_leases *l,
                             void (*cb)(const char *arn, void *payload),
                             void *payload);

#endif
