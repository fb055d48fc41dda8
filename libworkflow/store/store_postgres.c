/* The PostgreSQL store: the same records as the SQLite store (history
 * events as the same chunks, event_chunk.c), in tables named wf_*. A
 * writer connection commits a batch as one transaction sent as a libpq
 * pipeline; reader connections (pg_pool.c) serve reads meanwhile. One
 * process writes to a database at a time (a session advisory lock on the
 * writer's connection) until executions are shared by leases: the lease
 * columns are there for that step and unused yet. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "chunk_encoder.h"
#include "error.h"
#include "event_chunk.h"
#include "pg_lease.h"
#include "pg_pool.h"
#include "store_impl.h"
#include "strbuf.h"
#include "workflow/engine.h"

/* wf_schema_version holds the versions applied; this binary reads up to
 * SCHEMA_VERSION and migrates an older schema up to it. */
#define SCHEMA_VERSION 4

/* Advisory lock keys: "wflw" and the store's schema, for the one writer
 * (held by its session) and for making the schema (a transaction's). */
#define WRITER_LOCK "2003331191, hashtext(coalesce(current_schema(), ''))"
#define SCHEMA_LOCK "2003331192, hashtext(coalesce(current_schema(), ''))"

static const char SCHEMA[] =
    "CREATE TABLE wf_schema_version("
    " version integer NOT NULL, applied timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE wf_definitions("
    " id text PRIMARY KEY, name text NOT NULL, type integer NOT NULL,"
    " definition text NOT NULL, options text);"
    "CREATE TABLE wf_executions("
    " seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " arn text NOT NULL UNIQUE, name text NOT NULL,"
    " machine_name text NOT NULL, machine_arn text, definition_id text,"
    " status integer NOT NULL, start_ms bigint NOT NULL,"
    " stop_ms bigint NOT NULL, input text, output text, error text,"
    " cause text, correlation_id text, role_arn text,"
    " event_count bigint NOT NULL, state text,"
    /* Work sharing (pg_lease.h): the worker running it and the lease's
     * epoch every write of it is fenced by (lease_expires_ms is unused:
     * a lease runs out with its worker's, in wf_workers). */
    " lease_owner text, lease_expires_ms bigint,"
    " lease_epoch bigint NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX wf_executions_by_name"
    " ON wf_executions(machine_name, name)"
    " WHERE strpos(arn, ':express:') = 0;"
    "CREATE INDEX wf_executions_by_machine ON wf_executions(machine_name, seq);"
    "CREATE INDEX wf_executions_running ON wf_executions(seq)"
    " WHERE state IS NOT NULL;"
    "CREATE INDEX wf_executions_ended ON wf_executions(stop_ms)"
    " WHERE status <> 0;"
    /* A chunk per execution per commit (event_chunk.h). */
    "CREATE TABLE wf_events("
    " execution bigint NOT NULL, first_id bigint NOT NULL,"
    " last_id bigint NOT NULL, data bytea NOT NULL,"
    " PRIMARY KEY(execution, first_id));"
    "CREATE TABLE wf_documents("
    " seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " kind text NOT NULL, key text NOT NULL, body text NOT NULL,"
    " UNIQUE(kind, key));"
    "INSERT INTO wf_schema_version(version) VALUES(1);";

/* Version 3: the execution (its seq) a document belongs to, pruned with
 * it. wf_owner() finds it, and fails the statement (SQLSTATE 23503,
 * foreign_key_violation) when the ARN is no stored execution. */
static const char OWNERS_SCHEMA[] =
    "ALTER TABLE wf_documents ADD COLUMN owner bigint;"
    "CREATE INDEX wf_documents_by_owner ON wf_documents(owner)"
    " WHERE owner IS NOT NULL;"
    "CREATE FUNCTION wf_owner(a text) RETURNS bigint LANGUAGE plpgsql AS $$"
    " DECLARE s bigint;"
    " BEGIN"
    "  IF a IS NULL THEN RETURN NULL; END IF;"
    "  SELECT seq INTO s FROM wf_executions WHERE arn = a;"
    "  IF s IS NULL THEN"
    "   RAISE EXCEPTION 'a document owned by an unknown execution: %', a"
    "   USING ERRCODE = '23503';"
    "  END IF;"
    "  RETURN s;"
    " END $$;"
    "INSERT INTO wf_schema_version(version) VALUES(3);";

/* Version 4: units of the engine's own work (WF_STORE_EXEC_WORK), which
 * lists, names and pruning pass over, and the index claim_work() reads
 * (those no worker holds yet); documents of a kind in creation order
 * (list_documents(), which a Distributed Map's shares are polled with:
 * without it the plan walked every document in seq order). */
static const char WORK_SCHEMA[] =
    "ALTER TABLE wf_executions ADD COLUMN work boolean NOT NULL"
    " DEFAULT false;"
    "CREATE INDEX wf_executions_unclaimed_work ON wf_executions(seq)"
    " WHERE work AND lease_owner IS NULL AND state IS NOT NULL;"
    "CREATE INDEX wf_documents_by_kind ON wf_documents(kind, seq);"
    "INSERT INTO wf_schema_version(version) VALUES(4);";

#define EXEC_COLUMNS WF__PG_EXEC_COLUMNS

static const wf__pg_stmt WRITER_SQL[] = {
    {"def", "INSERT INTO wf_definitions VALUES($1,$2,$3,$4,$5)"
            " ON CONFLICT(id) DO NOTHING"},
    {"exec",
     "INSERT INTO wf_executions(arn, name, machine_name, machine_arn,"
     " definition_id, status, start_ms, stop_ms, input, output, error,"
     " cause, correlation_id, role_arn, event_count, state)"
     " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)"
     " ON CONFLICT(arn) DO UPDATE SET status=excluded.status,"
     " stop_ms=excluded.stop_ms, output=excluded.output,"
     " error=excluded.error, cause=excluded.cause,"
     " event_count=excluded.event_count, state=excluded.state"},
    /* No execution: a NULL the column refuses (not_null_violation). */
    {"event", "INSERT INTO wf_events VALUES((SELECT seq FROM wf_executions"
              " WHERE arn=$1), $2, $3, $4)"},
    {"doc", "INSERT INTO wf_documents(kind, key, body, owner)"
            " VALUES($1,$2,$3,wf_owner($4)) ON CONFLICT(kind, key) DO UPDATE"
            " SET body=excluded.body,"
            " owner=coalesce(excluded.owner, wf_documents.owner)"},
    {"doc_del", "DELETE FROM wf_documents WHERE kind=$1 AND key=$2"},
    {"prune_old", "SELECT seq FROM wf_executions WHERE status <> 0 AND"
                  " stop_ms < $1 AND NOT work ORDER BY stop_ms LIMIT $2"},
    {"prune_count", "SELECT count(*) FROM wf_executions WHERE status <> 0"
                    " AND NOT work"},
    {"prune_oldest", "SELECT seq FROM wf_executions WHERE status <> 0"
                     " AND NOT work ORDER BY stop_ms LIMIT $1"},
    /* Each with its history and the documents it owns. */
    {"prune_del", "WITH gone AS (DELETE FROM wf_executions"
                  " WHERE seq = ANY($1::bigint[]) RETURNING seq),"
                  " history AS (DELETE FROM wf_events WHERE execution IN"
                  " (SELECT seq FROM gone))"
                  " DELETE FROM wf_documents WHERE owner IN"
                  " (SELECT seq FROM gone)"},
};

static const wf__pg_stmt READER_SQL[] = {
    {"exec", "SELECT " EXEC_COLUMNS " FROM wf_executions WHERE arn=$1"},
    /* The names index leaves EXPRESS executions out: the same term lets
     * the query use it. */
    {"find", "SELECT " EXEC_COLUMNS " FROM wf_executions"
             " WHERE machine_name=$1 AND name=$2"
             " AND strpos(arn, ':express:') = 0 AND NOT work"},
    {"list_all", "SELECT " EXEC_COLUMNS " FROM wf_executions"
                 " WHERE ($1::text IS NULL OR machine_arn=$1)"
                 " AND ($2::integer < 0 OR status=$2) AND seq < $3"
                 " AND NOT work"
                 " ORDER BY seq DESC LIMIT $4"},
    {"list_machine", "SELECT " EXEC_COLUMNS " FROM wf_executions"
                     " WHERE machine_name=$1"
                     " AND ($2::text IS NULL OR machine_arn=$2)"
                     " AND ($3::integer < 0 OR status=$3) AND seq < $4"
                     " AND NOT work"
                     " ORDER BY seq DESC LIMIT $5"},
    {"running", "SELECT " EXEC_COLUMNS " FROM wf_executions"
                " WHERE state IS NOT NULL ORDER BY seq"},
    {"holding", "SELECT " EXEC_COLUMNS " FROM wf_executions"
                " WHERE status = 0 AND state IS NOT NULL"
                " AND strpos(state, $1) > 0 ORDER BY seq"},
    /* Each chunk holds one event at least: `limit` chunks are enough. */
    {"events_fwd", "SELECT data FROM wf_events WHERE execution=(SELECT seq"
                   " FROM wf_executions WHERE arn=$1) AND last_id >= $2"
                   " ORDER BY first_id LIMIT $3"},
    {"events_rev", "SELECT data FROM wf_events WHERE execution=(SELECT seq"
                   " FROM wf_executions WHERE arn=$1) AND first_id <= $2"
                   " ORDER BY first_id DESC LIMIT $3"},
    {"def", "SELECT id, name, type, definition, options FROM wf_definitions"
            " WHERE id=$1"},
    {"doc", "SELECT seq, kind, key, body FROM wf_documents"
            " WHERE kind=$1 AND key=$2"},
    {"docs", "SELECT seq, kind, key, body FROM wf_documents"
             " WHERE kind=$1 AND seq > $2 ORDER BY seq LIMIT $3"},
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

typedef struct pg_store {
  wf__pg_pool pool;
  wf__chunk_encoder *enc; /* the writer's, NULL read-only */
  wf__pg_leases leases;   /* shared: executions leased to this worker */
  wf__pg_stmt *wsql;      /* WRITER_SQL and the leases' statements */
  bool registered;        /* its worker has a row (shared) */
} pg_store;

/* ---- the schema ---- */

/* One value of a one-row query on a connection being set up; NULL when
 * it failed (err filled) or was NULL. *r must be cleared. */
static const char *scalar(pg_store *s, PGconn *c, const char *sql,
                          PGresult **r, int *rc, wf_error *err) {
  *r = PQexec(c, sql);
  if (PQresultStatus(*r) != PGRES_TUPLES_OK || PQntuples(*r) != 1) {
    *rc = wf__pg_fail(&s->pool, c, *r, "checking its schema", err);
    return NULL;
  }
  return PQgetisnull(*r, 0, 0) ? NULL : PQgetvalue(*r, 0, 0);
}

static int command(pg_store *s, PGconn *c, const char *sql, const char *doing,
                   wf_error *err) {
  PGresult *r = PQexec(c, sql);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK
               ? WF_OK
               : wf__pg_fail(&s->pool, c, r, doing, err);
  PQclear(r);
  return rc;
}

/* In a transaction holding the schema lock: create the tables in a
 * database without them, or check the version of those there. */
static int make_or_check_schema(pg_store *s, PGconn *c, wf_error *err) {
  const char *label = s->pool.label;
  PGresult *r;
  int rc = WF_OK;
  const char *v = scalar(s, c,
                         "SELECT (to_regclass('wf_schema_version') IS NOT"
                         " NULL)::int + 2 * (to_regclass('wf_executions')"
                         " IS NOT NULL)::int",
                         &r, &rc, err);
  int tables = v ? atoi(v) : 0;
  PQclear(r);
  if (rc != WF_OK) return rc;
  if (tables == 2)
    return wf__error_set(err, WF_ECORRUPT, NULL,
                         "store %s has a wf_executions table but no "
                         "wf_schema_version: not a libworkflow store",
                         label);
  if (tables == 0) {
    if (s->pool.read_only)
      return wf__error_set(err, WF_ENOTFOUND, NULL,
                           "store %s is empty (no engine has written to it)",
                           label);
    rc = command(s, c, SCHEMA, "creating its schema", err);
    if (rc == WF_OK)
      rc = command(s, c, WF__PG_LEASE_SCHEMA, "creating its schema", err);
    if (rc == WF_OK)
      rc = command(s, c, OWNERS_SCHEMA, "creating its schema", err);
    return rc == WF_OK ? command(s, c, WORK_SCHEMA, "creating its schema",
                                 err)
                       : rc;
  }
  v = scalar(s, c, "SELECT max(version) FROM wf_schema_version", &r, &rc,
             err);
  long long version = v ? atoll(v) : 0;
  PQclear(r);
  if (rc != WF_OK) return rc;
  if (version > SCHEMA_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "store %s was written by a newer libworkflow "
                         "(schema version %lld; this one reads up to %d)",
                         label, version, SCHEMA_VERSION);
  if (version < 1)
    return wf__error_set(err, WF_ECORRUPT, NULL,
                         "store %s has no schema version", label);
  /* Older versions are migrated here, in this transaction: 2 added the
   * workers and the fence of work sharing, 3 the owners of documents, 4
   * the units of work (which a reader's lists pass over). */
  if (version < 4 && s->pool.read_only)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "store %s has schema version %lld: open it once "
                         "for writing to migrate it to version %d",
                         label, version, SCHEMA_VERSION);
  if (s->pool.read_only) return WF_OK;
  if (version < 2)
    rc = command(s, c, WF__PG_LEASE_SCHEMA, "migrating its schema", err);
  if (rc == WF_OK && version < 3)
    rc = command(s, c, OWNERS_SCHEMA, "migrating its schema", err);
  if (rc == WF_OK && version < 4)
    rc = command(s, c, WORK_SCHEMA, "migrating its schema", err);
  return rc;
}

/* A new connection's setup (pg_pool.h): the writer takes the writer's
 * lock; the schema is made or checked under the schema lock. */
static int setup(void *payload, PGconn *c, wf_error *err) {
  pg_store *s = payload;
  PGresult *r;
  int rc = WF_OK;
  if (!s->pool.read_only && !s->leases.shared) {
    /* A writer that has just closed its connection may still hold the
     * lock until its server process has gone: wait a little for it. */
    rc = command(s, c, "SET lock_timeout = '2s'", "taking its lock", err);
    if (rc != WF_OK) return rc;
    r = PQexec(c, "SELECT pg_advisory_lock(" WRITER_LOCK ")");
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
      rc = WF_OK;
    else if (state && strcmp(state, "55P03") == 0) /* lock_not_available */
      rc = wf__error_set(err, WF_EBUSY, NULL,
                         "store %s is in use by another process (one "
                         "process writes to a database until executions "
                         "are shared; open it read-only to look at it)",
                         s->pool.label);
    else
      rc = wf__pg_fail(&s->pool, c, r, "taking its lock", err);
    PQclear(r);
    if (rc == WF_OK)
      rc = command(s, c, "RESET lock_timeout", "taking its lock", err);
    if (rc != WF_OK) return rc;
  }
  rc = command(s, c, "BEGIN", "checking its schema", err);
  if (rc == WF_OK) {
    scalar(s, c, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK ")::text", &r,
           &rc, err);
    PQclear(r);
  }
  if (rc == WF_OK) rc = make_or_check_schema(s, c, err);
  if (rc == WF_OK) rc = command(s, c, "COMMIT", "creating its schema", err);
  if (rc != WF_OK) PQclear(PQexec(c, "ROLLBACK"));
  return rc;
}

/* The writer's statements prepared: then a shared store's worker is
 * registered (again, on a connection opened anew). */
static int registered(void *payload, PGconn *c, wf_error *err) {
  pg_store *s = payload;
  if (!s->leases.shared) return WF_OK;
  int rc = wf__pg_leases_register(&s->leases, &s->pool, c, err);
  if (rc == WF_OK) s->registered = true;
  return rc;
}

/* ---- commit ---- */

/* Statements sent and not yet answered. A pipeline longer than this is
 * read back before more is sent: the server's answers would otherwise
 * fill the socket while it waits for us to read them, and we for it. */
#define PIPELINE_WINDOW 256

typedef struct pipeline {
  PGconn *c;
  size_t pending;
  PGresult *failure; /* the first failed statement's */
  bool lost;         /* the connection failed */
} pipeline;

static void take_results(pipeline *pl) {
  while (pl->pending) {
    PGresult *r = PQgetResult(pl->c);
    if (!r) { /* the end of one statement's results */
      pl->pending--;
      continue;
    }
    if (PQresultStatus(r) == PGRES_FATAL_ERROR && !pl->failure)
      pl->failure = r;
    else
      PQclear(r);
  }
}

static void sent(pipeline *pl, int ok) {
  if (!ok) {
    pl->lost = true;
    return;
  }
  if (++pl->pending < PIPELINE_WINDOW) return;
  if (!PQsendFlushRequest(pl->c) || PQflush(pl->c) != 0) pl->lost = true;
  take_results(pl);
}

static void send_prepared(pipeline *pl, const char *name, int n,
                          const char *const *values, const int *lengths,
                          const int *formats) {
  if (!pl->lost)
    sent(pl, PQsendQueryPrepared(pl->c, name, n, values, lengths, formats, 0));
}

static void send_command(pipeline *pl, const char *sql) {
  if (!pl->lost)
    sent(pl, PQsendQueryParams(pl->c, sql, 0, NULL, NULL, NULL, NULL, 0));
}

/* How each execution of a batch is written (shared stores: pg_lease.h):
 * a unit of work is inserted unleased, and deleted when it ends. */
enum { WRITE_UPSERT, WRITE_INSERT, WRITE_UPDATE, WRITE_WORK, WRITE_WORK_END };

static void send_execution(pipeline *pl, const wf_store_execution *x,
                           int how, int64_t epoch, const char *worker) {
  wf__pg_num n[4];
  char status[16];
  snprintf(status, sizeof status, "%d", x->status);
  if (how == WRITE_WORK_END) {
    const char *v[3] = {x->arn, worker, wf__pg_int(&n[0], epoch)};
    send_prepared(pl, "work_end", 3, v, NULL, NULL);
    return;
  }
  if (how == WRITE_UPDATE) {
    const char *v[10] = {x->arn,
                         status,
                         wf__pg_int(&n[0], x->stop_ms),
                         x->output,
                         x->error,
                         x->cause,
                         wf__pg_int(&n[1], x->event_count),
                         x->state,
                         worker,
                         wf__pg_int(&n[2], epoch)};
    send_prepared(pl, "exec_upd", 10, v, NULL, NULL);
    return;
  }
  const char *v[17] = {x->arn,
                       x->name,
                       x->machine_name,
                       x->machine_arn,
                       x->definition_id,
                       status,
                       wf__pg_int(&n[0], x->start_ms),
                       wf__pg_int(&n[1], x->stop_ms),
                       x->input,
                       x->output,
                       x->error,
                       x->cause,
                       x->correlation_id,
                       x->role_arn,
                       wf__pg_int(&n[2], x->event_count),
                       x->state,
                       worker};
  if (how == WRITE_INSERT) send_prepared(pl, "exec_new", 17, v, NULL, NULL);
  else if (how == WRITE_WORK) send_prepared(pl, "work_new", 16, v, NULL, NULL);
  else send_prepared(pl, "exec", 16, v, NULL, NULL);
}

static void send_batch(pg_store *s, pipeline *pl, const wf_store_batch *b,
                       const unsigned char *how, const int64_t *epochs,
                       wf__chunk_job *jobs, size_t njobs, bool *oom) {
  send_command(pl, "BEGIN");
  for (size_t i = 0; i < b->ndefinitions; i++) {
    const wf_store_definition *d = &b->definitions[i];
    char type[16];
    snprintf(type, sizeof type, "%d", d->type);
    const char *v[5] = {d->id, d->name ? d->name : "", type,
                        d->definition ? d->definition : "", d->options};
    send_prepared(pl, "def", 5, v, NULL, NULL);
  }
  /* The chunks are encoded beside (s->enc) while the records go out. */
  wf__chunk_encoder *enc = njobs >= 8 ? s->enc : NULL;
  wf__chunk_encoder_post(enc, jobs, njobs);
  for (size_t i = 0; i < b->nexecutions; i++)
    send_execution(pl, &b->executions[i], how ? how[i] : WRITE_UPSERT,
                   epochs ? epochs[i] : 0, s->leases.worker);
  wf__chunk_encoder_finish(enc, jobs, njobs);
  for (size_t k = 0; k < njobs && !*oom; k++) {
    const wf__chunk_job *job = &jobs[k];
    wf__pg_num first, last;
    const char *v[4] = {
        job->events[0].execution_arn, wf__pg_int(&first, job->events[0].id),
        wf__pg_int(&last, job->events[job->n - 1].id), job->chunk.data};
    int len[4] = {0, 0, 0, (int)job->chunk.len};
    int fmt[4] = {0, 0, 0, 1}; /* the chunk as bytes */
    *oom = job->chunk.oom;
    /* Shared: written again after a commit of unknown outcome. */
    if (!*oom)
      send_prepared(pl, how ? "event_again" : "event", 4, v, len, fmt);
  }
  for (size_t i = 0; i < b->ndocuments && !*oom; i++) {
    const wf_store_document *d = &b->documents[i];
    const char *v[4] = {d->kind, d->key, d->body,
                        b->document_owners ? b->document_owners[i] : NULL};
    send_prepared(pl, d->body ? "doc" : "doc_del", d->body ? 4 : 2, v, NULL,
                  NULL);
  }
  send_command(pl, *oom ? "ROLLBACK" : "COMMIT");
}

/* What a failed statement of a commit means to the caller. */
static int commit_failure(pg_store *s, PGconn *c, const PGresult *r,
                          wf_error *err) {
  const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char *table = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
  const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
  const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
  bool events = table && strcmp(table, "wf_events") == 0;
  if (state && strcmp(state, WF__PG_LEASE_LOST) == 0) {
    wf__pg_leases_fenced(&s->leases, detail);
    return wf__error_set(err, WF_ECANCELED, NULL,
                         "store %s: %s: nothing was written",
                         s->pool.label, PQresultErrorField(
                             r, PG_DIAG_MESSAGE_PRIMARY));
  }
  if (state && strcmp(state, WF__PG_NAME_TAKEN) == 0)
    return wf__error_set(err, WF_EEXIST, NULL, "%s",
                         PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
  /* A new execution's ARN, or its name, taken already. */
  if (state && strcmp(state, "23505") == 0 && constraint &&
      (strcmp(constraint, "wf_executions_by_name") == 0 ||
       strcmp(constraint, "wf_executions_arn_key") == 0))
    return wf__error_set(err, WF_EEXIST, NULL, "Execution Already Exists: %s",
                         detail ? detail : "its name is taken");
  if (state && strcmp(state, "23502") == 0 && events)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "store %s: an event of an unknown execution",
                         s->pool.label);
  if (state && strcmp(state, "23505") == 0 && events)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "store %s: events stored already (%s)",
                         s->pool.label, detail ? detail : "");
  return wf__pg_fail(&s->pool, c, r, "committing", err);
}

static int pg_commit(void *backend, const wf_store_batch *b, wf_error *err) {
  pg_store *s = backend;
  if (s->pool.read_only)
    return wf__error_set(err, WF_EPERM, NULL, "store %s is open read-only",
                         s->pool.label);
  size_t njobs = 0;
  wf__chunk_job *jobs = NULL;
  if (wf__chunk_jobs_make(&jobs, &njobs, b->events, b->nevents) != 0)
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  PGconn *c;
  int rc = wf__pg_writer(&s->pool, &c, err);
  if (rc != WF_OK) {
    wf__chunk_jobs_free(jobs, njobs);
    return rc;
  }
  /* Shared: how each execution is written, and the epochs it is fenced
   * by. */
  unsigned char *how = NULL;
  int64_t *epochs = NULL;
  if (s->leases.shared) {
    size_t n = b->nexecutions ? b->nexecutions : 1;
    how = wf__malloc(n);
    epochs = wf__malloc(n * sizeof *epochs);
    if (!how || !epochs)
      rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; rc == WF_OK && i < b->nexecutions; i++) {
      const wf_store_execution *x = &b->executions[i];
      int plan = wf__pg_leases_plan(&s->leases, x->arn, &epochs[i]);
      how[i] = plan > 0 ? WRITE_UPDATE : WRITE_INSERT;
      unsigned flags = b->execution_flags ? b->execution_flags[i] : 0;
      if (flags & WF_STORE_EXEC_OFFER) how[i] = WRITE_WORK;
      else if ((flags & WF_STORE_EXEC_WORK) && plan > 0 &&
               (!x->state || x->status != WF_EXEC_RUNNING))
        how[i] = WRITE_WORK_END;
      if (how[i] == WRITE_WORK) plan = 0; /* not this worker's to hold */
      if (plan < 0)
        rc = wf__error_set(err, WF_ECANCELED, NULL,
                           "store %s: the lease of %s was taken by another "
                           "worker: nothing was written",
                           s->pool.label, x->arn);
    }
    if (rc != WF_OK) {
      wf__free(how);
      wf__free(epochs);
      wf__pg_writer_done(&s->pool, false);
      wf__chunk_jobs_free(jobs, njobs);
      return rc;
    }
  }
  pipeline pl = {.c = c, .lost = !PQenterPipelineMode(c)};
  bool oom = false;
  if (!pl.lost)
    send_batch(s, &pl, b, how, epochs, jobs, njobs, &oom);
  if (!pl.lost && !PQpipelineSync(c)) pl.lost = true;
  take_results(&pl);
  if (!pl.lost) {
    PGresult *r = PQgetResult(c);
    pl.lost = PQresultStatus(r) != PGRES_PIPELINE_SYNC;
    PQclear(r);
  }
  if (!PQexitPipelineMode(c)) pl.lost = true;
  if (pl.failure)
    rc = commit_failure(s, c, pl.failure, err);
  else if (pl.lost)
    rc = wf__pg_fail(&s->pool, c, NULL, "committing", err);
  else if (oom)
    rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  PQclear(pl.failure);
  /* A failed statement leaves the transaction to roll back. */
  if (!pl.lost && PQtransactionStatus(c) != PQTRANS_IDLE)
    PQclear(PQexec(c, "ROLLBACK"));
  if (rc == WF_OK && s->leases.shared) wf__pg_leases_committed(&s->leases, b);
  /* The connection went down with it (a statement's failure may be the
   * server going away, after its COMMIT): whether it landed is unknown.
   * A new execution of it that did land is this worker's row without a
   * lease it knows of: the next lease check lets it go, to be claimed. */
  wf__pg_writer_done(&s->pool, pl.lost || PQstatus(c) != CONNECTION_OK);
  wf__chunk_jobs_free(jobs, njobs);
  wf__free(how);
  wf__free(epochs);
  return rc;
}

/* ---- reads ---- */

/* Run a reader statement; *out gets its rows (PQclear) or NULL. The
 * connection goes back before the rows are handed on, so a callback
 * holds none. A connection the server dropped is opened again, once. */
static int query(pg_store *s, const char *name, int n,
                 const char *const *values, int binary, PGresult **out,
                 wf_error *err) {
  *out = NULL;
  for (int attempt = 0;; attempt++) {
    wf__pg_conn *k;
    int rc = wf__pg_reader(&s->pool, &k, err);
    if (rc != WF_OK) return rc;
    PGresult *r = PQexecPrepared(k->c, name, n, values, NULL, NULL, binary);
    bool lost = PQstatus(k->c) != CONNECTION_OK;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      wf__pg_reader_done(&s->pool, k);
      *out = r;
      return WF_OK;
    }
    rc = wf__pg_fail(&s->pool, k->c, r, "reading", err);
    PQclear(r);
    wf__pg_reader_done(&s->pool, k);
    if (!lost || attempt) return rc;
  }
}

static const char *text(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* An integer column; false when it is NULL or not a number. */
static bool integer(const PGresult *r, int row, int col, int64_t *out) {
  const char *v = text(r, row, col);
  if (!v || !*v) return false;
  char *end;
  long long n = strtoll(v, &end, 10);
  *out = n;
  return *end == '\0';
}

/* A row handed to a read callback: nonzero stops; a damaged row fills
 * `bad` with what is wrong and returns -1. */
typedef int (*row_fn)(const PGresult *r, int row, void *cb, void *payload,
                      char *bad, size_t nbad);

static int exec_cb(const PGresult *r, int i, void *cb, void *payload,
                   char *bad, size_t nbad) {
  int64_t n[5];
  wf_store_execution x = {
      .arn = text(r, i, 1),
      .name = text(r, i, 2),
      .machine_name = text(r, i, 3),
      .machine_arn = text(r, i, 4),
      .definition_id = text(r, i, 5),
      .input = text(r, i, 9),
      .output = text(r, i, 10),
      .error = text(r, i, 11),
      .cause = text(r, i, 12),
      .correlation_id = text(r, i, 13),
      .role_arn = text(r, i, 14),
      .state = text(r, i, 16),
  };
  static const int cols[5] = {0, 6, 7, 8, 15};
  for (int k = 0; k < 5; k++)
    if (!integer(r, i, cols[k], &n[k])) {
      snprintf(bad, nbad, "execution %s has no %s", x.arn ? x.arn : "?",
               PQfname(r, cols[k]));
      return -1;
    }
  if (!x.arn || !x.name || !x.machine_name) {
    snprintf(bad, nbad, "an execution (seq %" PRId64 ") has no ARN or name",
             n[0]);
    return -1;
  }
  if (n[1] < WF_EXEC_RUNNING || n[1] > WF_EXEC_ABORTED) {
    snprintf(bad, nbad, "execution %s has an unknown status %" PRId64, x.arn,
             n[1]);
    return -1;
  }
  x.seq = n[0];
  x.status = (int)n[1];
  x.start_ms = n[2];
  x.stop_ms = n[3];
  x.event_count = n[4];
  return ((wf_store_execution_cb)cb)(&x, payload);
}

static int def_cb(const PGresult *r, int i, void *cb, void *payload,
                  char *bad, size_t nbad) {
  int64_t type;
  wf_store_definition d = {.id = text(r, i, 0),
                           .name = text(r, i, 1),
                           .definition = text(r, i, 3),
                           .options = text(r, i, 4)};
  if (!integer(r, i, 2, &type) || type < 0 || type > 1 || !d.definition) {
    snprintf(bad, nbad, "definition %s has no known type or text",
             d.id ? d.id : "?");
    return -1;
  }
  d.type = (int)type;
  return ((wf_store_definition_cb)cb)(&d, payload);
}

static int doc_cb(const PGresult *r, int i, void *cb, void *payload,
                  char *bad, size_t nbad) {
  wf_store_document d = {.kind = text(r, i, 1),
                         .key = text(r, i, 2),
                         .body = text(r, i, 3)};
  if (!integer(r, i, 0, &d.seq) || !d.kind || !d.key || !d.body) {
    snprintf(bad, nbad, "a document (%s) lacks a field", d.key ? d.key : "?");
    return -1;
  }
  return ((wf_store_document_cb)cb)(&d, payload);
}

/* Hand each row of r to fn. */
static int each_row(pg_store *s, const PGresult *r, row_fn fn, void *cb,
                    void *payload, wf_error *err) {
  char bad[256];
  for (int i = 0; i < PQntuples(r); i++) {
    int stop = fn(r, i, cb, payload, bad, sizeof bad);
    if (stop < 0)
      return wf__error_set(err, WF_ECORRUPT, NULL, "store %s is damaged: %s",
                           s->pool.label, bad);
    if (stop) break;
  }
  return WF_OK;
}

/* Run a reader statement and hand each row to fn. `one`: a single record
 * is expected (WF_ENOTFOUND without). */
static int rows(pg_store *s, const char *name, int n,
                const char *const *values, row_fn fn, void *cb,
                void *payload, bool one, const char *what, const char *key,
                wf_error *err) {
  PGresult *r;
  int rc = query(s, name, n, values, 0, &r, err);
  if (rc != WF_OK) return rc;
  int nrows = PQntuples(r);
  rc = each_row(s, r, fn, cb, payload, err);
  PQclear(r);
  if (rc == WF_OK && one && !nrows)
    return wf__error_set(err, WF_ENOTFOUND, NULL, "no %s '%s'", what, key);
  return rc;
}

static int pg_get_execution(void *backend, const char *arn,
                            wf_store_execution_cb cb, void *payload,
                            wf_error *err) {
  const char *v[1] = {arn};
  return rows(backend, "exec", 1, v, exec_cb, (void *)cb, payload, true,
              "execution", arn, err);
}

static int pg_find_execution(void *backend, const char *machine_name,
                             const char *name, wf_store_execution_cb cb,
                             void *payload, wf_error *err) {
  const char *v[2] = {machine_name, name};
  return rows(backend, "find", 2, v, exec_cb, (void *)cb, payload, true,
              "execution", name, err);
}

static int pg_list_executions(void *backend, const wf_store_query *q,
                              wf_store_execution_cb cb, void *payload,
                              wf_error *err) {
  char status[16];
  wf__pg_num before, limit;
  snprintf(status, sizeof status, "%d", q->status);
  const char *v[5] = {
      q->machine_name, q->machine_arn, status,
      wf__pg_int(&before, q->before_seq > 0 ? q->before_seq : INT64_MAX),
      q->limit ? wf__pg_int(&limit, (int64_t)q->limit) : NULL};
  /* Without a machine, the parameters start at its ARN. */
  return q->machine_name
             ? rows(backend, "list_machine", 5, v, exec_cb, (void *)cb,
                    payload, false, NULL, NULL, err)
             : rows(backend, "list_all", 4, v + 1, exec_cb, (void *)cb,
                    payload, false, NULL, NULL, err);
}

static int pg_list_running(void *backend, wf_store_execution_cb cb,
                           void *payload, wf_error *err) {
  return rows(backend, "running", 0, NULL, exec_cb, (void *)cb, payload,
              false, NULL, NULL, err);
}

static int pg_read_events(void *backend, const char *arn, int64_t from_id,
                          bool reverse, size_t limit, wf_store_event_cb cb,
                          void *payload, wf_error *err) {
  pg_store *s = backend;
  wf__event_reader er;
  wf__event_reader_init(&er, arn, from_id, reverse, limit, cb, payload);
  wf__pg_num from, lim;
  const char *v[3] = {arn, wf__pg_int(&from, er.from),
                      limit ? wf__pg_int(&lim, (int64_t)limit) : NULL};
  PGresult *r;
  int rc = query(s, reverse ? "events_rev" : "events_fwd", 3, v, 1, &r, err);
  if (rc != WF_OK) return rc;
  for (int i = 0; !er.stop && i < PQntuples(r); i++)
    if (wf__event_reader_chunk(&er, PQgetvalue(r, i, 0),
                               (size_t)PQgetlength(r, i, 0)) != 0) {
      rc = wf__error_set(err, WF_ECORRUPT, NULL,
                         "store %s is damaged: a history chunk of %s does "
                         "not decode",
                         s->pool.label, arn);
      break;
    }
  PQclear(r);
  return rc;
}

static int pg_get_definition(void *backend, const char *id,
                             wf_store_definition_cb cb, void *payload,
                             wf_error *err) {
  const char *v[1] = {id};
  return rows(backend, "def", 1, v, def_cb, (void *)cb, payload, true,
              "definition", id, err);
}

static int pg_get_document(void *backend, const char *kind, const char *key,
                           wf_store_document_cb cb, void *payload,
                           wf_error *err) {
  const char *v[2] = {kind, key};
  return rows(backend, "doc", 2, v, doc_cb, (void *)cb, payload, true,
              "document", key, err);
}

static int pg_list_documents(void *backend, const char *kind,
                             int64_t after_seq, size_t limit,
                             wf_store_document_cb cb, void *payload,
                             wf_error *err) {
  wf__pg_num after, lim;
  const char *v[3] = {kind, wf__pg_int(&after, after_seq),
                      limit ? wf__pg_int(&lim, (int64_t)limit) : NULL};
  return rows(backend, "docs", 3, v, doc_cb, (void *)cb, payload, false,
              NULL, NULL, err);
}

/* ---- pruning ---- */

/* A writer statement's rows, or the failure (ok() tells). */
static PGresult *wquery(PGconn *c, const char *name, int n,
                        const char *const *values) {
  return PQexecPrepared(c, name, n, values, NULL, NULL, 0);
}

static bool ok(const PGresult *r) {
  return PQresultStatus(r) == PGRES_TUPLES_OK ||
         PQresultStatus(r) == PGRES_COMMAND_OK;
}

/* The seqs a select returned, as an array literal "{1,2}". */
static size_t seq_array(const PGresult *r, wf__strbuf *b) {
  wf__strbuf_reset(b);
  wf__strbuf_putc(b, '{');
  int n = PQntuples(r);
  for (int i = 0; i < n; i++) {
    if (i) wf__strbuf_putc(b, ',');
    wf__strbuf_puts(b, PQgetvalue(r, i, 0));
  }
  wf__strbuf_putc(b, '}');
  return (size_t)n;
}

/* In the writer's transaction: select what goes, then delete it. */
static PGresult *prune_in(PGconn *c, int64_t before, size_t keep, size_t cap,
                          size_t *n, wf__strbuf *seqs) {
  wf__pg_num p1, p2;
  const char *v[2] = {wf__pg_int(&p1, before), wf__pg_int(&p2, (int64_t)cap)};
  PGresult *r = wquery(c, "prune_old", 2, v);
  if (!ok(r)) return r;
  *n = seq_array(r, seqs);
  if (keep && *n < cap) {
    PQclear(r);
    r = wquery(c, "prune_count", 0, NULL);
    if (!ok(r)) return r;
    int64_t ended = atoll(PQgetvalue(r, 0, 0));
    int64_t over = ended - (int64_t)*n - (int64_t)keep;
    if (over > 0) {
      /* The oldest ones, past those already taken for their age. */
      size_t want = *n + (size_t)over < cap ? *n + (size_t)over : cap;
      PQclear(r);
      v[0] = wf__pg_int(&p1, (int64_t)want);
      r = wquery(c, "prune_oldest", 1, v);
      if (!ok(r)) return r;
      *n = seq_array(r, seqs);
    }
  }
  if (*n) {
    PQclear(r);
    v[0] = wf__strbuf_cstr(seqs);
    r = wquery(c, "prune_del", 1, v);
  }
  return r;
}

static int pg_prune(void *backend, int64_t stopped_before_ms, size_t keep,
                    size_t max, size_t *pruned, wf_error *err) {
  pg_store *s = backend;
  if (pruned) *pruned = 0;
  if (s->pool.read_only) return WF_OK;
  PGconn *c;
  int rc = wf__pg_writer(&s->pool, &c, err);
  if (rc != WF_OK) return rc;
  wf__strbuf seqs = WF__STRBUF_INIT;
  size_t n = 0;
  rc = command(s, c, "BEGIN", "pruning", err);
  if (rc == WF_OK) {
    PGresult *r = prune_in(c, stopped_before_ms, keep, max ? max : 1000, &n,
                           &seqs);
    if (seqs.oom)
      rc = wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    else if (!ok(r))
      rc = wf__pg_fail(&s->pool, c, r, "pruning", err);
    PQclear(r);
  }
  if (rc == WF_OK) rc = command(s, c, "COMMIT", "pruning", err);
  if (rc == WF_OK && pruned) *pruned = n;
  if (rc != WF_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
    PQclear(PQexec(c, "ROLLBACK"));
  wf__pg_writer_done(&s->pool, false);
  wf__strbuf_free(&seqs);
  return rc;
}

/* ---- opening ---- */

/* ---- work sharing (pg_lease.h) ---- */

static int pg_claim(void *backend, size_t max, wf_store_execution_cb cb,
                    void *payload, int64_t *next_ms, wf_error *err) {
  pg_store *s = backend;
  /* Three times a lease: a worker renews it twice before it runs out. */
  if (next_ms) *next_ms = s->leases.lease_ms / 3;
  PGconn *c;
  int rc = wf__pg_writer(&s->pool, &c, err);
  if (rc != WF_OK) return rc;
  PGresult *r;
  rc = wf__pg_leases_claim(&s->leases, &s->pool, c, max, &r, err);
  wf__pg_writer_done(&s->pool, PQstatus(c) != CONNECTION_OK);
  /* Handed on once the writer is free: the callback may commit. */
  if (rc == WF_OK && r) rc = each_row(s, r, exec_cb, (void *)cb, payload, err);
  PQclear(r);
  return rc;
}

static int pg_claim_work(void *backend, size_t max,
                         wf_store_execution_cb cb, void *payload,
                         wf_error *err) {
  pg_store *s = backend;
  if (!max) return WF_OK;
  PGconn *c;
  int rc = wf__pg_writer(&s->pool, &c, err);
  if (rc != WF_OK) return rc;
  PGresult *r;
  rc = wf__pg_leases_claim_work(&s->leases, &s->pool, c, max, &r, err);
  wf__pg_writer_done(&s->pool, PQstatus(c) != CONNECTION_OK);
  if (rc == WF_OK && r) rc = each_row(s, r, exec_cb, (void *)cb, payload, err);
  PQclear(r);
  return rc;
}

static int pg_acquire(void *backend, const char *arn,
                      wf_store_execution_cb cb, void *payload,
                      wf_error *err) {
  pg_store *s = backend;
  PGconn *c;
  int rc = wf__pg_writer(&s->pool, &c, err);
  if (rc != WF_OK) return rc;
  PGresult *r;
  rc = wf__pg_leases_acquire(&s->leases, &s->pool, c, arn, &r, err);
  wf__pg_writer_done(&s->pool, PQstatus(c) != CONNECTION_OK);
  if (rc == WF_OK && !r)
    rc = wf__error_set(err, WF_ENOTFOUND, NULL,
                       "no execution '%s' that can run", arn);
  if (rc == WF_OK) rc = each_row(s, r, exec_cb, (void *)cb, payload, err);
  PQclear(r);
  return rc;
}

static int pg_find_holding(void *backend, const char *text,
                           wf_store_execution_cb cb, void *payload,
                           wf_error *err) {
  const char *v[1] = {text};
  return rows(backend, "holding", 1, v, exec_cb, (void *)cb, payload, false,
              NULL, NULL, err);
}

static int pg_holds(void *backend, const char *arn, wf_error *err) {
  pg_store *s = backend;
  PGconn *c;
  int rc = wf__pg_writer(&s->pool, &c, err);
  if (rc != WF_OK) return rc;
  rc = wf__pg_leases_holds(&s->leases, &s->pool, c, arn, err);
  wf__pg_writer_done(&s->pool, PQstatus(c) != CONNECTION_OK);
  return rc;
}

static void pg_lost(void *backend, void (*cb)(const char *arn, void *payload),
                    void *payload) {
  pg_store *s = backend;
  wf__pg_leases_take_lost(&s->leases, cb, payload);
}

/* ---- opening ---- */

static void pg_close(void *backend) {
  pg_store *s = backend;
  wf__chunk_encoder_stop(s->enc);
  PGconn *c;
  if (s->registered && wf__pg_writer(&s->pool, &c, NULL) == WF_OK) {
    wf__pg_leases_release(&s->leases, c);
    wf__pg_writer_done(&s->pool, false);
  }
  wf__pg_pool_fini(&s->pool); /* the writer's lock goes with its session */
  wf__pg_leases_fini(&s->leases);
  wf__free(s->wsql);
  wf__free(s);
}

#define POSTGRES_OPS_COMMON                              \
  .version = WF_STORE_OPS_VERSION, .size = sizeof(wf_store_ops), \
  .flags = WF_STORE_DURABLE, .close = pg_close, .commit = pg_commit, \
  .get_execution = pg_get_execution, .find_execution = pg_find_execution, \
  .list_executions = pg_list_executions, .list_running = pg_list_running, \
  .read_events = pg_read_events, .get_definition = pg_get_definition, \
  .get_document = pg_get_document, .list_documents = pg_list_documents, \
  .prune = pg_prune

static const wf_store_ops POSTGRES_OPS = {POSTGRES_OPS_COMMON};
/* A shared store's: executions are claimed, not all resumed. */
static const wf_store_ops POSTGRES_SHARED_OPS = {
    POSTGRES_OPS_COMMON, .claim = pg_claim, .acquire = pg_acquire,
    .lost = pg_lost, .find_holding = pg_find_holding, .holds = pg_holds,
    .claim_work = pg_claim_work};

int wf_store_postgres_options_init(wf_store_postgres_options *opts,
                                   unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version < 1 || version > WF_STORE_POSTGRES_OPTIONS_VERSION)
    return WF_EVERSION;
  /* A caller built against version 1 has a shorter struct. */
  memset(opts, 0, version == 1 ? offsetof(wf_store_postgres_options, shared)
                               : sizeof *opts);
  opts->version = version;
  return WF_OK;
}

int wf_store_postgres_open(wf_store **out, const char *conninfo,
                           const wf_store_postgres_options *opts,
                           wf_error *err) {
  if (!out || !conninfo)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "out and conninfo are required");
  *out = NULL;
  if (opts && (opts->version < 1 ||
               opts->version > WF_STORE_POSTGRES_OPTIONS_VERSION))
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_store_postgres_options version %u is not "
                         "supported (expected 1 to %u)",
                         opts->version, WF_STORE_POSTGRES_OPTIONS_VERSION);
  bool shared = opts && opts->version >= 2 && opts->shared;
  int64_t lease_ms = opts && opts->version >= 2 && opts->lease_ms
                         ? (int64_t)opts->lease_ms
                         : WF__PG_LEASE_DEFAULT_MS;
  if (shared && lease_ms < 300)
    return wf__error_set(err, WF_EINVAL, NULL,
                         "a lease of %lld ms is too short (at least 300)",
                         (long long)lease_ms);
  wf_store_options o;
  int rc = wf__store_options_resolve(&o, opts ? opts->store : NULL, err);
  if (rc != WF_OK) return rc;
  unsigned connections = opts && opts->connections ? opts->connections : 4;
  if (connections < 2) connections = 2;
  pg_store *s = wf__calloc(1, sizeof *s);
  if (!s) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  wf__pg_leases_init(&s->leases, shared && !o.read_only, lease_ms);
  s->wsql = wf__malloc((COUNT(WRITER_SQL) + WF__PG_LEASE_NSQL) *
                       sizeof *s->wsql);
  if (!s->wsql) {
    wf__pg_leases_fini(&s->leases);
    wf__free(s);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  memcpy(s->wsql, WRITER_SQL, sizeof WRITER_SQL);
  memcpy(s->wsql + COUNT(WRITER_SQL), WF__PG_LEASE_SQL,
         WF__PG_LEASE_NSQL * sizeof *s->wsql);
  rc = wf__pg_pool_init(&s->pool, conninfo, opts ? opts->password : NULL,
                        connections - 1, err);
  s->pool.read_only = o.read_only;
  s->pool.sync_normal = o.sync == WF_STORE_SYNC_NORMAL;
  s->pool.wstmts = s->wsql;
  s->pool.nwstmts = COUNT(WRITER_SQL) + WF__PG_LEASE_NSQL;
  s->pool.rstmts = READER_SQL;
  s->pool.nrstmts = COUNT(READER_SQL);
  s->pool.writer_setup = setup;
  s->pool.writer_ready = registered;
  s->pool.setup_payload = s;
  /* The first connection makes or checks the schema and reports a
   * database it cannot reach now rather than at the first commit. */
  if (rc == WF_OK && !o.read_only) {
    PGconn *c;
    rc = wf__pg_writer(&s->pool, &c, err);
    if (rc == WF_OK) wf__pg_writer_done(&s->pool, false);
    /* Without its thread, chunks are encoded by the writer itself. */
    s->enc = wf__chunk_encoder_start();
  } else if (rc == WF_OK) {
    wf__pg_conn *k;
    rc = wf__pg_reader(&s->pool, &k, err);
    if (rc == WF_OK) wf__pg_reader_done(&s->pool, k);
  }
  if (rc != WF_OK) {
    pg_close(s);
    return rc;
  }
  return wf__store_wrap(out, s->leases.shared ? &POSTGRES_SHARED_OPS
                                               : &POSTGRES_OPS,
                        s, &o, err);
}
