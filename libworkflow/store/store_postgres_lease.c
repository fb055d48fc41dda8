/* Work sharing in a PostgreSQL store: workers, leases, claims and the
 * fence (pg_lease.h says how they fit). Times are the database server's
 * (wf_now_ms()), so workers on machines whose clocks differ agree on
 * when a lease has run out. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "pg_lease.h"
#include "rng.h"
#include "workflow/engine.h"

const char WF__PG_LEASE_SCHEMA[] =
    "CREATE TABLE wf_workers("
    " id text PRIMARY KEY, expires_ms bigint NOT NULL,"
    " started timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX wf_executions_by_owner ON wf_executions(lease_owner)"
    " WHERE state IS NOT NULL;"
    "CREATE FUNCTION wf_now_ms() RETURNS bigint LANGUAGE sql AS"
    " $$SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint$$;"
    /* An update of a leased execution that found no row this worker
     * holds at its epoch: nothing of the commit is written. */
    "CREATE FUNCTION wf_fenced(n bigint, arn text) RETURNS void"
    " LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF n = 0 THEN"
    "   RAISE EXCEPTION 'the lease of an execution was taken by another"
    " worker' USING ERRCODE = '" WF__PG_LEASE_LOST "',"
    "   DETAIL = jsonb_build_array(arn)::text;"
    "  END IF;"
    " END $$;"
    /* A new execution's insert that found the ARN taken (by another
     * worker: its own earlier insert, whose commit's answer was lost with
     * the connection, is written again). */
    "CREATE FUNCTION wf_inserted(n bigint, arn text) RETURNS void"
    " LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF n = 0 THEN"
    "   RAISE EXCEPTION 'Execution Already Exists: %', arn"
    "   USING ERRCODE = '" WF__PG_NAME_TAKEN "';"
    "  END IF;"
    " END $$;"
    "INSERT INTO wf_schema_version(version) VALUES(2);";

const wf__pg_stmt WF__PG_LEASE_SQL[] = {
    {"worker_renew", "UPDATE wf_workers SET expires_ms = wf_now_ms() + $2"
                     " WHERE id = $1 AND expires_ms >= wf_now_ms()"},
    {"worker_add", "INSERT INTO wf_workers(id, expires_ms)"
                   " VALUES($1, wf_now_ms() + $2) ON CONFLICT(id)"
                   " DO UPDATE SET expires_ms = excluded.expires_ms"},
    {"worker_held", "SELECT arn, lease_epoch FROM wf_executions"
                    " WHERE lease_owner = $1 AND status = 0"
                    " AND state IS NOT NULL"},
    /* Running executions whose worker is gone, oldest first; a row
     * another worker is claiming meanwhile is passed over. */
    {"claim",
     "UPDATE wf_executions e SET lease_owner = $1,"
     " lease_epoch = e.lease_epoch + 1 WHERE e.seq IN (SELECT x.seq"
     " FROM wf_executions x LEFT JOIN wf_workers w ON w.id = x.lease_owner"
     " WHERE x.status = 0 AND x.state IS NOT NULL"
     " AND (w.id IS NULL OR w.expires_ms < wf_now_ms())"
     " ORDER BY x.seq LIMIT $2 FOR UPDATE OF x SKIP LOCKED)"
     " RETURNING " WF__PG_EXEC_COLUMNS ", e.lease_epoch"},
    {"acquire", "UPDATE wf_executions SET lease_owner = $1,"
                " lease_epoch = lease_epoch + 1"
                " WHERE arn = $2 AND state IS NOT NULL"
                " RETURNING " WF__PG_EXEC_COLUMNS ", lease_epoch"},
    /* Written again after a commit whose outcome was lost with its
     * connection: this worker's own row (epoch 1) is updated as it was;
     * anyone else's is refused. */
    {"exec_new",
     "WITH ins AS (INSERT INTO wf_executions(arn, name, machine_name,"
     " machine_arn, definition_id, status, start_ms, stop_ms, input, output,"
     " error, cause, correlation_id, role_arn, event_count, state,"
     " lease_owner, lease_epoch)"
     " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,1)"
     " ON CONFLICT(arn) DO UPDATE SET status=excluded.status,"
     " stop_ms=excluded.stop_ms, output=excluded.output,"
     " error=excluded.error, cause=excluded.cause,"
     " event_count=excluded.event_count, state=excluded.state"
     " WHERE wf_executions.lease_owner = excluded.lease_owner"
     " AND wf_executions.lease_epoch = 1 RETURNING 1)"
     " SELECT wf_inserted((SELECT count(*) FROM ins), $1)"},
    /* The same: a chunk written already is the same chunk. */
    {"event_again", "INSERT INTO wf_events VALUES((SELECT seq FROM"
                    " wf_executions WHERE arn=$1), $2, $3, $4)"
                    " ON CONFLICT(execution, first_id) DO NOTHING"},
    /* Fenced: the row is written only while this worker holds it at the
     * epoch it knows (a claim or a takeover meanwhile changed either). */
    {"exec_upd",
     "WITH u AS (UPDATE wf_executions SET status=$2, stop_ms=$3,"
     " output=$4, error=$5, cause=$6, event_count=$7, state=$8"
     " WHERE arn=$1 AND lease_owner=$9 AND lease_epoch=$10 RETURNING 1)"
     " SELECT wf_fenced((SELECT count(*) FROM u), $1)"},
    /* Units of work (WF_STORE_EXEC_WORK): offered to every worker, taken
     * by one, deleted when they end (fenced like any write). */
    {"work_new",
     "INSERT INTO wf_executions(arn, name, machine_name, machine_arn,"
     " definition_id, status, start_ms, stop_ms, input, output, error,"
     " cause, correlation_id, role_arn, event_count, state, work)"
     " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,true)"
     " ON CONFLICT(arn) DO NOTHING"},
    {"work_end",
     "WITH d AS (DELETE FROM wf_executions WHERE arn=$1 AND lease_owner=$2"
     " AND lease_epoch=$3 RETURNING seq), h AS (DELETE FROM wf_events"
     " WHERE execution IN (SELECT seq FROM d))"
     " SELECT wf_fenced((SELECT count(*) FROM d), $1)"},
    {"claim_work",
     "UPDATE wf_executions e SET lease_owner = $1,"
     " lease_epoch = e.lease_epoch + 1 WHERE e.seq IN (SELECT x.seq"
     " FROM wf_executions x WHERE x.work AND x.lease_owner IS NULL"
     " AND x.state IS NOT NULL ORDER BY x.seq LIMIT $2"
     " FOR UPDATE SKIP LOCKED)"
     " RETURNING " WF__PG_EXEC_COLUMNS ", e.lease_epoch"},
    {"release", "UPDATE wf_executions SET lease_owner = NULL"
                " WHERE lease_owner = $1"},
    {"worker_del", "DELETE FROM wf_workers WHERE id = $1"},
    {"holds", "SELECT 1 FROM wf_executions WHERE arn = $2"
              " AND lease_owner = $1 AND lease_epoch = $3"},
    {"release_one", "UPDATE wf_executions SET lease_owner = NULL"
                    " WHERE arn = $2 AND lease_owner = $1"},
};
const size_t WF__PG_LEASE_NSQL =
    sizeof WF__PG_LEASE_SQL / sizeof *WF__PG_LEASE_SQL;

#define EPOCH(v) ((int64_t)(intptr_t)(v))

void wf__pg_leases_init(wf__pg_leases *l, bool shared, int64_t lease_ms) {
  memset(l, 0, sizeof *l);
  l->shared = shared;
  l->lease_ms = lease_ms;
  pthread_mutex_init(&l->mu, NULL);
  char host[48] = "host";
  gethostname(host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  uint64_t r[2] = {0, 0};
  if (wf__rng_secure(r, sizeof r) != 0) r[0] = wf__rng_system_seed();
  char hex[33];
  wf__hex128(hex, r[0], r[1]);
  snprintf(l->worker, sizeof l->worker, "%s:%ld:%.16s", host, (long)getpid(),
           hex);
}

void wf__pg_leases_fini(wf__pg_leases *l) {
  wf__strmap_clear(&l->held);
  wf__strmap_clear(&l->lost);
  pthread_mutex_destroy(&l->mu);
}

/* Run a writer statement; WF_OK with *out (PQclear) or the failure. */
static int run(wf__pg_pool *p, PGconn *c, const char *name, int n,
               const char *const *v, const char *doing, PGresult **out,
               wf_error *err) {
  PGresult *r = PQexecPrepared(c, name, n, v, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
    if (out) *out = r;
    else PQclear(r);
    return WF_OK;
  }
  int rc = wf__pg_fail(p, c, r, doing, err);
  PQclear(r);
  if (out) *out = NULL;
  return rc;
}

int wf__pg_leases_register(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                           wf_error *err) {
  wf__pg_num ms;
  const char *v[2] = {l->worker, wf__pg_int(&ms, l->lease_ms)};
  return run(p, c, "worker_add", 2, v, "registering its worker", NULL, err);
}

void wf__pg_leases_release(wf__pg_leases *l, PGconn *c) {
  const char *v[1] = {l->worker};
  /* Handed over at once: another worker's next claim takes them. */
  PQclear(PQexecPrepared(c, "release", 1, v, NULL, NULL, 0));
  PQclear(PQexecPrepared(c, "worker_del", 1, v, NULL, NULL, 0));
}

int wf__pg_leases_plan(wf__pg_leases *l, const char *arn, int64_t *epoch) {
  void *held = wf__strmap_get(&l->held, arn);
  *epoch = EPOCH(held);
  if (held) return 1;
  pthread_mutex_lock(&l->mu);
  bool lost = wf__strmap_get(&l->lost, arn) != NULL;
  pthread_mutex_unlock(&l->mu);
  return lost ? -1 : 0;
}

/* A lease gone to another worker, to be reported (under the writer). */
static void lose(wf__pg_leases *l, const char *arn) {
  if (!wf__strmap_remove(&l->held, arn)) return;
  pthread_mutex_lock(&l->mu);
  wf__strmap_put(&l->lost, arn, (void *)1, NULL);
  pthread_mutex_unlock(&l->mu);
}

void wf__pg_leases_committed(wf__pg_leases *l, const wf_store_batch *b) {
  for (size_t i = 0; i < b->nexecutions; i++) {
    const wf_store_execution *x = &b->executions[i];
    /* Offered to every worker: not this one's until a claim takes it. */
    if (b->execution_flags && (b->execution_flags[i] & WF_STORE_EXEC_OFFER))
      continue;
    if (x->status != WF_EXEC_RUNNING || !x->state)
      wf__strmap_remove(&l->held, x->arn);
    else if (!wf__strmap_get(&l->held, x->arn))
      wf__strmap_put(&l->held, x->arn, (void *)(intptr_t)1, NULL);
  }
}

void wf__pg_leases_fenced(wf__pg_leases *l, const char *detail) {
  json_t *arns = detail ? json_loads(detail, 0, NULL) : NULL;
  size_t i;
  json_t *a;
  json_array_foreach(arns, i, a) if (json_is_string(a))
      lose(l, json_string_value(a));
  json_decref(arns);
}

/* ARNs borrowed from a map's keys, gathered while it is visited. */
typedef struct arn_list {
  const char **arns;
  size_t n, cap;
} arn_list;

static void arn_list_add(arn_list *a, const char *arn) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    const char **grown = wf__realloc(a->arns, cap * sizeof *grown);
    if (!grown) return;
    a->arns = grown;
    a->cap = cap;
  }
  a->arns[a->n++] = arn;
}

/* What the database gives this worker (ARN -> epoch), against the
 * leases it holds. */
typedef struct standing {
  wf__pg_leases *l;
  wf__strmap rows;
  arn_list gone;    /* held, but not (or at another epoch) in rows */
  arn_list orphans; /* in rows, not held: taken by a claim or takeover
                       whose answer was lost with its connection (the
                       database restarted), or inserted by a commit whose
                       outcome was lost; nobody runs them */
} standing;

static void find_gone(const char *arn, void *epoch, void *arg) {
  standing *s = arg;
  if (wf__strmap_get(&s->rows, arn) != epoch) arn_list_add(&s->gone, arn);
}

static void find_orphan(const char *arn, void *epoch, void *arg) {
  (void)epoch;
  standing *s = arg;
  if (!wf__strmap_get(&s->l->held, arn)) arn_list_add(&s->orphans, arn);
}

static int find_lost(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                     wf_error *err) {
  PGresult *r;
  const char *v[1] = {l->worker};
  int rc = run(p, c, "worker_held", 1, v, "checking its leases", &r, err);
  if (rc != WF_OK) return rc;
  standing s = {.l = l};
  for (int i = 0; i < PQntuples(r); i++) {
    int64_t epoch = strtoll(PQgetvalue(r, i, 1), NULL, 10);
    wf__strmap_put(&s.rows, PQgetvalue(r, i, 0), (void *)(intptr_t)epoch,
                   NULL);
  }
  PQclear(r);
  wf__strmap_foreach(&l->held, find_gone, &s);
  /* The keys belong to held's entries: copy before they go. */
  for (size_t i = 0; i < s.gone.n; i++) {
    char *arn = wf__strdup(s.gone.arns[i]);
    if (arn) lose(l, arn);
    wf__free(arn);
  }
  /* The orphans (and a lease held at an epoch the database has moved
   * past, just lost above) are let go, to be claimed. */
  wf__strmap_foreach(&s.rows, find_orphan, &s);
  for (size_t i = 0; i < s.orphans.n && rc == WF_OK; i++) {
    const char *args[2] = {l->worker, s.orphans.arns[i]};
    rc = run(p, c, "release_one", 2, args, "letting an execution go", NULL,
             err);
  }
  wf__free(s.gone.arns);
  wf__free(s.orphans.arns);
  wf__strmap_clear(&s.rows);
  return rc;
}

/* Take the rows claimed or acquired (EXEC_COLUMNS, then the epoch). */
static void hold_rows(wf__pg_leases *l, const PGresult *r) {
  int epoch_col = PQnfields(r) - 1;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *arn = PQgetvalue(r, i, 1);
    int64_t epoch = strtoll(PQgetvalue(r, i, epoch_col), NULL, 10);
    wf__strmap_put(&l->held, arn, (void *)(intptr_t)epoch, NULL);
    pthread_mutex_lock(&l->mu);
    wf__strmap_remove(&l->lost, arn);
    pthread_mutex_unlock(&l->mu);
  }
}

int wf__pg_leases_claim(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                        size_t max, PGresult **claimed, wf_error *err) {
  *claimed = NULL;
  wf__pg_num ms, limit;
  const char *v[2] = {l->worker, wf__pg_int(&ms, l->lease_ms)};
  PGresult *r;
  int rc = run(p, c, "worker_renew", 2, v, "renewing its lease", &r, err);
  if (rc != WF_OK) return rc;
  bool expired = strcmp(PQcmdTuples(r), "1") != 0;
  PQclear(r);
  /* Stalled past its lease (or its row was removed): register again; the
   * executions others took meanwhile are found lost below. */
  if (expired &&
      (rc = run(p, c, "worker_add", 2, v, "registering its worker", NULL,
                err)) != WF_OK)
    return rc;
  if ((rc = find_lost(l, p, c, err)) != WF_OK) return rc;
  if (!max) return WF_OK;
  v[1] = wf__pg_int(&limit, (int64_t)max);
  rc = run(p, c, "claim", 2, v, "claiming executions", &r, err);
  if (rc != WF_OK) return rc;
  hold_rows(l, r);
  *claimed = r;
  return WF_OK;
}

int wf__pg_leases_claim_work(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                             size_t max, PGresult **claimed, wf_error *err) {
  wf__pg_num limit;
  const char *v[2] = {l->worker, wf__pg_int(&limit, (int64_t)max)};
  int rc = run(p, c, "claim_work", 2, v, "claiming work", claimed, err);
  if (rc == WF_OK) hold_rows(l, *claimed);
  return rc;
}

int wf__pg_leases_acquire(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                          const char *arn, PGresult **row, wf_error *err) {
  *row = NULL;
  const char *v[2] = {l->worker, arn};
  PGresult *r;
  int rc = run(p, c, "acquire", 2, v, "taking an execution's lease", &r, err);
  if (rc != WF_OK) return rc;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return WF_OK;
  }
  hold_rows(l, r);
  *row = r;
  return WF_OK;
}

int wf__pg_leases_holds(wf__pg_leases *l, wf__pg_pool *p, PGconn *c,
                        const char *arn, wf_error *err) {
  void *held = wf__strmap_get(&l->held, arn);
  if (!held)
    return wf__error_set(err, WF_ECANCELED, NULL,
                         "this process holds no lease of %s", arn);
  wf__pg_num epoch;
  const char *v[3] = {l->worker, arn, wf__pg_int(&epoch, EPOCH(held))};
  PGresult *r;
  int rc = run(p, c, "holds", 3, v, "checking a lease", &r, err);
  if (rc != WF_OK) return rc;
  bool holds = PQntuples(r) == 1;
  PQclear(r);
  if (holds) return WF_OK;
  lose(l, arn);
  return wf__error_set(err, WF_ECANCELED, NULL,
                       "the lease of %s was taken by another worker", arn);
}

typedef struct reporting {
  void (*cb)(const char *arn, void *payload);
  void *payload;
} reporting;

static void report(const char *arn, void *v, void *arg) {
  (void)v;
  reporting *r = arg;
  r->cb(arn, r->payload);
}

void wf__pg_leases_take_lost(wf__pg_leases *l,
                             void (*cb)(const char *arn, void *payload),
                             void *payload) {
  /* Reported under the lock: when a caller returns, every lease lost
   * before it was called has been dealt with, by it or another caller. */
  pthread_mutex_lock(&l->mu);
  reporting r = {cb, payload};
  wf__strmap_foreach(&l->lost, report, &r);
  wf__strmap_clear(&l->lost);
  pthread_mutex_unlock(&l->mu);
}
