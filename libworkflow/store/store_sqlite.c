/* The SQLite store: one database file in WAL mode. A writer connection
 * (commits, pruning) and a reader connection, each behind its own lock, so
 * API reads never wait for an fsync. One process writes to a file at a
 * time (an exclusive flock on the file): two engines resuming the same
 * executions would run them twice. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "chunk_encoder.h"
#include "event_chunk.h"
#include "store_impl.h"
#include "strbuf.h"
#include "strmap.h"

/* "wflw": marks the file as a libworkflow store. */
#define APP_ID 0x77666c77
/* Version 2: EXPRESS executions' names may repeat (the unique index on
 * names leaves them out). Version 3: a document may be owned by an
 * execution (pruned with it). An older file is migrated when opened for
 * writing. */
#define SCHEMA_VERSION 3
/* Version 3: the execution (its seq) a document belongs to. */
#define OWNERS_SCHEMA                                                  \
  "ALTER TABLE documents ADD COLUMN owner INTEGER;"                    \
  "CREATE INDEX documents_by_owner ON documents(owner)"                \
  " WHERE owner IS NOT NULL;"
#define NAMES_INDEX                                                        \
  "CREATE UNIQUE INDEX executions_by_name ON executions(machine_name, name)" \
  " WHERE instr(arn, ':express:') = 0;"

static const char SCHEMA[] =
    "CREATE TABLE definitions("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, type INTEGER NOT NULL,"
    " definition TEXT NOT NULL, options TEXT);"
    "CREATE TABLE executions("
    " seq INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " machine_name TEXT NOT NULL, machine_arn TEXT, definition_id TEXT,"
    " status INTEGER NOT NULL, start_ms INTEGER NOT NULL,"
    " stop_ms INTEGER NOT NULL, input TEXT, output TEXT, error TEXT,"
    " cause TEXT, correlation_id TEXT, role_arn TEXT,"
    " event_count INTEGER NOT NULL, state TEXT);"
    NAMES_INDEX
    "CREATE INDEX executions_by_machine ON executions(machine_name, seq);"
    "CREATE INDEX executions_running ON executions(seq)"
    " WHERE state IS NOT NULL;"
    "CREATE INDEX executions_ended ON executions(stop_ms) WHERE status != 0;"
    /* An execution's events, a chunk per commit (event_chunk.c). A rowid
     * table: a chunk of up to a page stays in its row (a WITHOUT ROWID
     * table spills anything past a quarter page to overflow pages, which
     * doubled the cost of writing a chunk of 1.5 KB). */
    "CREATE TABLE events("
    " execution INTEGER NOT NULL, first_id INTEGER NOT NULL,"
    " last_id INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE UNIQUE INDEX events_by_execution ON events(execution, first_id);"
    "CREATE TABLE documents("
    " seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL,"
    " body TEXT NOT NULL, UNIQUE(kind, key));"
    OWNERS_SCHEMA;

#define EXEC_COLUMNS                                                        \
  "seq, arn, name, machine_name, machine_arn, definition_id, status,"       \
  " start_ms, stop_ms, input, output, error, cause, correlation_id,"        \
  " role_arn, event_count, state"

enum {
  /* writer */
  W_BEGIN, W_COMMIT, W_ROLLBACK, W_DEF, W_EXEC, W_EXEC_SEQ, W_EVENT, W_DOC,
  W_DOC_DEL, W_PRUNE_OLD, W_PRUNE_COUNT, W_PRUNE_OLDEST, W_DEL_EVENTS,
  W_DEL_OWNED,
  W_DEL_EXEC, W_COUNT,
  /* reader */
  R_EXEC = 0, R_FIND, R_LIST_ALL, R_LIST_MACHINE, R_RUNNING, R_EVENTS_FWD,
  R_EVENTS_REV, R_DEF, R_DOC, R_DOCS, R_COUNT
};

static const char *const WRITER_SQL[W_COUNT] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_DEF] = "INSERT OR IGNORE INTO definitions VALUES(?1,?2,?3,?4,?5)",
    [W_EXEC] =
        "INSERT INTO executions(arn, name, machine_name, machine_arn,"
        " definition_id, status, start_ms, stop_ms, input, output, error,"
        " cause, correlation_id, role_arn, event_count, state)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
        " ON CONFLICT(arn) DO UPDATE SET status=excluded.status,"
        " stop_ms=excluded.stop_ms, output=excluded.output,"
        " error=excluded.error, cause=excluded.cause,"
        " event_count=excluded.event_count, state=excluded.state"
        " RETURNING seq",
    [W_EXEC_SEQ] = "SELECT seq FROM executions WHERE arn=?1",
    [W_EVENT] = "INSERT INTO events VALUES(?1,?2,?3,?4)",
    [W_DOC] = "INSERT INTO documents(kind, key, body, owner)"
              " VALUES(?1,?2,?3,?4) ON CONFLICT(kind, key) DO UPDATE"
              " SET body=excluded.body,"
              " owner=coalesce(excluded.owner, owner)",
    [W_DOC_DEL] = "DELETE FROM documents WHERE kind=?1 AND key=?2",
    [W_PRUNE_OLD] = "SELECT seq FROM executions WHERE status != 0 AND"
                    " stop_ms < ?1 ORDER BY stop_ms LIMIT ?2",
    [W_PRUNE_COUNT] = "SELECT count(*) FROM executions WHERE status != 0",
    [W_PRUNE_OLDEST] = "SELECT seq FROM executions WHERE status != 0"
                       " ORDER BY stop_ms LIMIT ?1",
    [W_DEL_EVENTS] = "DELETE FROM events WHERE execution=?1",
    [W_DEL_OWNED] = "DELETE FROM documents WHERE owner=?1",
    [W_DEL_EXEC] = "DELETE FROM executions WHERE seq=?1",
};

static const char *const READER_SQL[R_COUNT] = {
    [R_EXEC] = "SELECT " EXEC_COLUMNS " FROM executions WHERE arn=?1",
    /* The names index leaves EXPRESS executions out: the same term lets
     * the query use it. */
    [R_FIND] = "SELECT " EXEC_COLUMNS " FROM executions"
               " WHERE machine_name=?1 AND name=?2"
               " AND instr(arn, ':express:') = 0",
    [R_LIST_ALL] = "SELECT " EXEC_COLUMNS " FROM executions"
                   " WHERE (?2 IS NULL OR machine_arn=?2)"
                   " AND (?3 < 0 OR status=?3) AND seq < ?4"
                   " ORDER BY seq DESC LIMIT ?5",
    [R_LIST_MACHINE] = "SELECT " EXEC_COLUMNS " FROM executions"
                       " WHERE machine_name=?1"
                       " AND (?2 IS NULL OR machine_arn=?2)"
                       " AND (?3 < 0 OR status=?3) AND seq < ?4"
                       " ORDER BY seq DESC LIMIT ?5",
    [R_RUNNING] = "SELECT " EXEC_COLUMNS " FROM executions"
                  " WHERE state IS NOT NULL ORDER BY seq",
    [R_EVENTS_FWD] = "SELECT data FROM events WHERE execution=(SELECT seq"
                     " FROM executions WHERE arn=?1) AND last_id >= ?2"
                     " ORDER BY first_id",
    [R_EVENTS_REV] = "SELECT data FROM events WHERE execution=(SELECT seq"
                     " FROM executions WHERE arn=?1) AND first_id <= ?2"
                     " ORDER BY first_id DESC",
    [R_DEF] = "SELECT id, name, type, definition, options FROM definitions"
              " WHERE id=?1",
    [R_DOC] = "SELECT seq, kind, key, body FROM documents"
              " WHERE kind=?1 AND key=?2",
    [R_DOCS] = "SELECT seq, kind, key, body FROM documents"
               " WHERE kind=?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
};

typedef struct conn {
  pthread_mutex_t mu;
  sqlite3 *db;
  sqlite3_stmt **stmts;
} conn;

/* WAL frames (pages) after which the checkpointer copies them into the
 * database file. */
#define CHECKPOINT_PAGES 2000

typedef struct sql_store {
  char *path;
  int lock_fd; /* the writer's flock, -1 when read-only */
  bool read_only;
  conn w, r;
  sqlite3_stmt *w_stmts[W_COUNT];
  sqlite3_stmt *r_stmts[R_COUNT];
  /* The checkpointer: a thread and a connection of its own copy the WAL
   * into the database file, so the writer mostly only appends (ck_mu
   * guards the flags; ck_run makes checkpoints take turns). */
  sqlite3 *ck;
  wf__chunk_encoder *enc; /* the writer's, NULL read-only */
  pthread_t ck_thread;
  bool ck_running, ck_stop, ck_due;
  pthread_mutex_t ck_mu, ck_run;
  pthread_cond_t ck_cond;
} sql_store;

/* ---- errors ---- */

static int code_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK: return WF_OK;
    case SQLITE_NOMEM: return WF_ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT: return WF_ECORRUPT;
    case SQLITE_FULL: return WF_ENOSPC;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return WF_EBUSY;
    case SQLITE_CONSTRAINT: return WF_EEXIST;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return WF_EPERM;
    default: return WF_EIO;
  }
}

/* A failure of `db`, naming the file and what was being done. */
static int fail(sql_store *s, sqlite3 *db, int rc, const char *doing,
                wf_error *err) {
  int code = code_of(rc);
  const char *why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (code == WF_ECORRUPT)
    return wf__error_set(err, code, NULL,
                         "store %s is damaged or not a libworkflow store "
                         "(%s: %s)",
                         s->path, doing, why);
  if (code == WF_ENOSPC)
    return wf__error_set(err, code, NULL,
                         "store %s: no space left on the device (%s)",
                         s->path, doing);
  return wf__error_set(err, code, NULL, "store %s: %s: %s", s->path, doing,
                       why);
}

/* ---- statements ---- */

static sqlite3_stmt *stmt(conn *c, int i) {
  sqlite3_stmt *st = c->stmts[i];
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
  if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i) {
  return (const char *)sqlite3_column_text(st, i);
}

/* Run a statement that returns no rows. */
static int exec_stmt(sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int prepare(sql_store *s, conn *c, const char *const *sql, size_t n,
                   wf_error *err) {
  for (size_t i = 0; i < n; i++) {
    int rc = sqlite3_prepare_v3(c->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &c->stmts[i], NULL);
    if (rc != SQLITE_OK) return fail(s, c->db, rc, "preparing", err);
  }
  return WF_OK;
}

/* ---- commit ---- */

static int execution_seq(sql_store *s, wf__strmap *seqs, const char *arn,
                         int64_t *out) {
  intptr_t v = (intptr_t)wf__strmap_get(seqs, arn);
  if (v) {
    *out = v;
    return SQLITE_OK;
  }
  sqlite3_stmt *st = stmt(&s->w, W_EXEC_SEQ);
  bind_text(st, 1, arn);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    wf__strmap_put(seqs, arn, (void *)(intptr_t)*out, NULL);
    return SQLITE_OK;
  }
  return rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc;
}

static int put_execution(sql_store *s, const wf_store_execution *x,
                         wf__strmap *seqs) {
  sqlite3_stmt *st = stmt(&s->w, W_EXEC);
  bind_text(st, 1, x->arn);
  bind_text(st, 2, x->name);
  bind_text(st, 3, x->machine_name);
  bind_text(st, 4, x->machine_arn);
  bind_text(st, 5, x->definition_id);
  sqlite3_bind_int(st, 6, x->status);
  sqlite3_bind_int64(st, 7, x->start_ms);
  sqlite3_bind_int64(st, 8, x->stop_ms);
  bind_text(st, 9, x->input);
  bind_text(st, 10, x->output);
  bind_text(st, 11, x->error);
  bind_text(st, 12, x->cause);
  bind_text(st, 13, x->correlation_id);
  bind_text(st, 14, x->role_arn);
  sqlite3_bind_int64(st, 15, x->event_count);
  bind_text(st, 16, x->state);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) return rc;
  wf__strmap_put(seqs, x->arn, (void *)(intptr_t)sqlite3_column_int64(st, 0),
                 NULL);
  return exec_stmt(st);
}

static int apply(sql_store *s, const wf_store_batch *b, wf__strmap *seqs,
                 const char **what) {
  int rc = SQLITE_OK;
  *what = "writing a definition";
  for (size_t i = 0; rc == SQLITE_OK && i < b->ndefinitions; i++) {
    const wf_store_definition *d = &b->definitions[i];
    sqlite3_stmt *st = stmt(&s->w, W_DEF);
    bind_text(st, 1, d->id);
    bind_text(st, 2, d->name ? d->name : "");
    sqlite3_bind_int(st, 3, d->type);
    bind_text(st, 4, d->definition ? d->definition : "");
    bind_text(st, 5, d->options);
    rc = exec_stmt(st);
  }
  /* The events of one execution in one batch are one chunk: chunks are
   * encoded beside the writer (s->enc) while it writes the records. */
  size_t njobs = 0;
  wf__chunk_job *jobs = NULL;
  if (wf__chunk_jobs_make(&jobs, &njobs, b->events, b->nevents) != 0)
    return SQLITE_NOMEM;
  /* A few chunks are not worth a hand-off. */
  wf__chunk_encoder *enc = njobs >= 8 ? s->enc : NULL;
  wf__chunk_encoder_post(enc, jobs, njobs);
  *what = "writing an execution";
  for (size_t i = 0; rc == SQLITE_OK && i < b->nexecutions; i++)
    rc = put_execution(s, &b->executions[i], seqs);
  wf__chunk_encoder_finish(enc, jobs, njobs);
  *what = "writing an event";
  for (size_t k = 0; rc == SQLITE_OK && k < njobs; k++) {
    const wf__chunk_job *job = &jobs[k];
    int64_t seq = 0;
    rc = execution_seq(s, seqs, job->events[0].execution_arn, &seq);
    if (rc != SQLITE_OK) break;
    if (job->chunk.oom) {
      rc = SQLITE_NOMEM;
      break;
    }
    sqlite3_stmt *st = stmt(&s->w, W_EVENT);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, job->events[0].id);
    sqlite3_bind_int64(st, 3, job->events[job->n - 1].id);
    sqlite3_bind_blob(st, 4, job->chunk.data, (int)job->chunk.len,
                      SQLITE_STATIC);
    rc = exec_stmt(st);
    sqlite3_clear_bindings(st);
  }
  wf__chunk_jobs_free(jobs, njobs);
  *what = "writing a document";
  for (size_t i = 0; rc == SQLITE_OK && i < b->ndocuments; i++) {
    const wf_store_document *d = &b->documents[i];
    const char *owner = b->document_owners ? b->document_owners[i] : NULL;
    int64_t owner_seq = 0;
    if (d->body && owner) {
      rc = execution_seq(s, seqs, owner, &owner_seq);
      if (rc != SQLITE_OK) break;
    }
    sqlite3_stmt *st = stmt(&s->w, d->body ? W_DOC : W_DOC_DEL);
    bind_text(st, 1, d->kind);
    bind_text(st, 2, d->key);
    if (d->body) bind_text(st, 3, d->body);
    if (owner_seq) sqlite3_bind_int64(st, 4, owner_seq);
    rc = exec_stmt(st);
    sqlite3_clear_bindings(st);
  }
  return rc;
}

static int sql_commit(void *backend, const wf_store_batch *b, wf_error *err) {
  sql_store *s = backend;
  if (s->read_only)
    return wf__error_set(err, WF_EPERM, NULL, "store %s is open read-only",
                         s->path);
  wf__strmap seqs = WF__STRMAP_INIT;
  pthread_mutex_lock(&s->w.mu);
  int rc = exec_stmt(stmt(&s->w, W_BEGIN));
  const char *what = "starting a transaction";
  if (rc == SQLITE_OK) rc = apply(s, b, &seqs, &what);
  if (rc == SQLITE_OK) {
    what = "committing";
    rc = exec_stmt(stmt(&s->w, W_COMMIT));
  }
  int code = WF_OK;
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_NOTFOUND)
      code = wf__error_set(err, WF_EINVAL, NULL,
                           "store %s: %s an unknown execution", s->path,
                           strcmp(what, "writing a document") == 0
                               ? "a document owned by"
                               : "an event of");
    else if ((rc & 0xff) == SQLITE_CONSTRAINT)
      code = wf__error_set(err, WF_EEXIST, NULL,
                           "Execution Already Exists: %s",
                           sqlite3_errmsg(s->w.db));
    else
      code = fail(s, s->w.db, rc, what, err);
    if (!sqlite3_get_autocommit(s->w.db))
      exec_stmt(stmt(&s->w, W_ROLLBACK));
  }
  pthread_mutex_unlock(&s->w.mu);
  wf__strmap_clear(&seqs);
  return code;
}

/* ---- reads ---- */

static void exec_row(sqlite3_stmt *st, wf_store_execution *x) {
  *x = (wf_store_execution){
      .seq = sqlite3_column_int64(st, 0),
      .arn = col_text(st, 1),
      .name = col_text(st, 2),
      .machine_name = col_text(st, 3),
      .machine_arn = col_text(st, 4),
      .definition_id = col_text(st, 5),
      .status = sqlite3_column_int(st, 6),
      .start_ms = sqlite3_column_int64(st, 7),
      .stop_ms = sqlite3_column_int64(st, 8),
      .input = col_text(st, 9),
      .output = col_text(st, 10),
      .error = col_text(st, 11),
      .cause = col_text(st, 12),
      .correlation_id = col_text(st, 13),
      .role_arn = col_text(st, 14),
      .event_count = sqlite3_column_int64(st, 15),
      .state = col_text(st, 16),
  };
}

typedef int (*row_fn)(sqlite3_stmt *st, void *cb, void *payload);

static int exec_cb(sqlite3_stmt *st, void *cb, void *payload) {
  wf_store_execution x;
  exec_row(st, &x);
  return ((wf_store_execution_cb)cb)(&x, payload);
}

static int def_cb(sqlite3_stmt *st, void *cb, void *payload) {
  wf_store_definition d = {.id = col_text(st, 0),
                           .name = col_text(st, 1),
                           .type = sqlite3_column_int(st, 2),
                           .definition = col_text(st, 3),
                           .options = col_text(st, 4)};
  return ((wf_store_definition_cb)cb)(&d, payload);
}

static int doc_cb(sqlite3_stmt *st, void *cb, void *payload) {
  wf_store_document d = {.seq = sqlite3_column_int64(st, 0),
                         .kind = col_text(st, 1),
                         .key = col_text(st, 2),
                         .body = col_text(st, 3)};
  return ((wf_store_document_cb)cb)(&d, payload);
}

/* Step a bound reader statement, calling fn per row (reader lock held by
 * the caller). `one`: a single record is expected (WF_ENOTFOUND without). */
static int rows(sql_store *s, sqlite3_stmt *st, row_fn fn, void *cb,
                void *payload, bool one, const char *what, const char *key,
                wf_error *err) {
  int rc, n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    n++;
    if (fn(st, cb, payload)) {
      rc = SQLITE_DONE;
      break;
    }
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return fail(s, s->r.db, rc, "reading", err);
  if (one && !n)
    return wf__error_set(err, WF_ENOTFOUND, NULL, "no %s '%s'", what, key);
  return WF_OK;
}

static int sql_get_execution(void *backend, const char *arn,
                             wf_store_execution_cb cb, void *payload,
                             wf_error *err) {
  sql_store *s = backend;
  pthread_mutex_lock(&s->r.mu);
  sqlite3_stmt *st = stmt(&s->r, R_EXEC);
  bind_text(st, 1, arn);
  int rc = rows(s, st, exec_cb, (void *)cb, payload, true, "execution", arn,
                err);
  pthread_mutex_unlock(&s->r.mu);
  return rc;
}

static int sql_find_execution(void *backend, const char *machine_name,
                              const char *name, wf_store_execution_cb cb,
                              void *payload, wf_error *err) {
  sql_store *s = backend;
  pthread_mutex_lock(&s->r.mu);
  sqlite3_stmt *st = stmt(&s->r, R_FIND);
  bind_text(st, 1, machine_name);
  bind_text(st, 2, name);
  int rc = rows(s, st, exec_cb, (void *)cb, payload, true, "execution", name,
                err);
  pthread_mutex_unlock(&s->r.mu);
  return rc;
}

static int sql_list_executions(void *backend, const wf_store_query *q,
                               wf_store_execution_cb cb, void *payload,
                               wf_error *err) {
  sql_store *s = backend;
  pthread_mutex_lock(&s->r.mu);
  sqlite3_stmt *st = stmt(&s->r, q->machine_name ? R_LIST_MACHINE
                                                 : R_LIST_ALL);
  bind_text(st, 1, q->machine_name);
  bind_text(st, 2, q->machine_arn);
  sqlite3_bind_int(st, 3, q->status);
  sqlite3_bind_int64(st, 4, q->before_seq > 0 ? q->before_seq : INT64_MAX);
  sqlite3_bind_int64(st, 5, q->limit ? (int64_t)q->limit : -1);
  int rc = rows(s, st, exec_cb, (void *)cb, payload, false, NULL, NULL, err);
  pthread_mutex_unlock(&s->r.mu);
  return rc;
}

static int sql_list_running(void *backend, wf_store_execution_cb cb,
                            void *payload, wf_error *err) {
  sql_store *s = backend;
  pthread_mutex_lock(&s->r.mu);
  int rc = rows(s, stmt(&s->r, R_RUNNING), exec_cb, (void *)cb, payload,
                false, NULL, NULL, err);
  pthread_mutex_unlock(&s->r.mu);
  return rc;
}

static int sql_read_events(void *backend, const char *arn, int64_t from_id,
                           bool reverse, size_t limit, wf_store_event_cb cb,
                           void *payload, wf_error *err) {
  sql_store *s = backend;
  wf__event_reader r;
  wf__event_reader_init(&r, arn, from_id, reverse, limit, cb, payload);
  pthread_mutex_lock(&s->r.mu);
  sqlite3_stmt *st = stmt(&s->r, reverse ? R_EVENTS_REV : R_EVENTS_FWD);
  bind_text(st, 1, arn);
  sqlite3_bind_int64(st, 2, r.from);
  int rc;
  int code = WF_OK;
  while (!r.stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    const void *data = sqlite3_column_blob(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    if (wf__event_reader_chunk(&r, data, (size_t)n) != 0) {
      code = wf__error_set(err, WF_ECORRUPT, NULL,
                           "store %s is damaged: a history chunk of %s does "
                           "not decode",
                           s->path, arn);
      break;
    }
  }
  if (code == WF_OK && !r.stop && rc != SQLITE_DONE)
    code = fail(s, s->r.db, rc, "reading", err);
  sqlite3_reset(st);
  pthread_mutex_unlock(&s->r.mu);
  return code;
}

static int sql_get_definition(void *backend, const char *id,
                              wf_store_definition_cb cb, void *payload,
                              wf_error *err) {
  sql_store *s = backend;
  pthread_mutex_lock(&s->r.mu);
  sqlite3_stmt *st = stmt(&s->r, R_DEF);
  bind_text(st, 1, id);
  int rc = rows(s, st, def_cb, (void *)cb, payload, true, "definition", id,
                err);
  pthread_mutex_unlock(&s->r.mu);
  return rc;
}

static int sql_get_document(void *backend, const char *kind, const char *key,
                            wf_store_document_cb cb, void *payload,
                            wf_error *err) {
  sql_store *s = backend;
  pthread_mutex_lock(&s->r.mu);
  sqlite3_stmt *st = stmt(&s->r, R_DOC);
  bind_text(st, 1, kind);
  bind_text(st, 2, key);
  int rc = rows(s, st, doc_cb, (void *)cb, payload, true, "document", key,
                err);
  pthread_mutex_unlock(&s->r.mu);
  return rc;
}

static int sql_list_documents(void *backend, const char *kind,
                              int64_t after_seq, size_t limit,
                              wf_store_document_cb cb, void *payload,
                              wf_error *err) {
  sql_store *s = backend;
  pthread_mutex_lock(&s->r.mu);
  sqlite3_stmt *st = stmt(&s->r, R_DOCS);
  bind_text(st, 1, kind);
  sqlite3_bind_int64(st, 2, after_seq);
  sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
  int rc = rows(s, st, doc_cb, (void *)cb, payload, false, NULL, NULL, err);
  pthread_mutex_unlock(&s->r.mu);
  return rc;
}

/* ---- pruning ---- */

/* Collect the seqs a select returns (writer lock held). */
static int collect(sqlite3_stmt *st, int64_t *seqs, size_t cap, size_t *n) {
  int rc;
  while (*n < cap && (rc = sqlite3_step(st)) == SQLITE_ROW)
    seqs[(*n)++] = sqlite3_column_int64(st, 0);
  if (*n < cap && rc != SQLITE_DONE) return rc;
  sqlite3_reset(st);
  return SQLITE_OK;
}

static int sql_prune(void *backend, int64_t stopped_before_ms, size_t keep,
                     size_t max, size_t *pruned, wf_error *err) {
  sql_store *s = backend;
  if (pruned) *pruned = 0;
  if (s->read_only) return WF_OK;
  size_t cap = max ? max : 1000;
  int64_t *seqs = wf__malloc(cap * sizeof *seqs);
  if (!seqs) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  size_t n = 0;
  pthread_mutex_lock(&s->w.mu);
  int rc = exec_stmt(stmt(&s->w, W_BEGIN));
  if (rc == SQLITE_OK) {
    sqlite3_stmt *st = stmt(&s->w, W_PRUNE_OLD);
    sqlite3_bind_int64(st, 1, stopped_before_ms);
    sqlite3_bind_int64(st, 2, (int64_t)cap);
    rc = collect(st, seqs, cap, &n);
  }
  if (rc == SQLITE_OK && keep && n < cap) {
    sqlite3_stmt *st = stmt(&s->w, W_PRUNE_COUNT);
    rc = sqlite3_step(st);
    int64_t ended = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
    sqlite3_reset(st);
    int64_t over = ended - (int64_t)n - (int64_t)keep;
    if (rc == SQLITE_OK && over > 0) {
      /* The oldest ones, past those already taken for their age. */
      size_t want = n + (size_t)over < cap ? n + (size_t)over : cap;
      st = stmt(&s->w, W_PRUNE_OLDEST);
      sqlite3_bind_int64(st, 1, (int64_t)want);
      n = 0;
      rc = collect(st, seqs, want, &n);
    }
  }
  /* Each with its history and the documents it owns. */
  static const int GONE[] = {W_DEL_EVENTS, W_DEL_OWNED, W_DEL_EXEC};
  for (size_t i = 0; rc == SQLITE_OK && i < n; i++)
    for (size_t k = 0; rc == SQLITE_OK && k < sizeof GONE / sizeof *GONE;
         k++) {
      sqlite3_stmt *st = stmt(&s->w, GONE[k]);
      sqlite3_bind_int64(st, 1, seqs[i]);
      rc = exec_stmt(st);
    }
  if (rc == SQLITE_OK) rc = exec_stmt(stmt(&s->w, W_COMMIT));
  int code = WF_OK;
  if (rc != SQLITE_OK) {
    code = fail(s, s->w.db, rc, "pruning", err);
    if (!sqlite3_get_autocommit(s->w.db)) exec_stmt(stmt(&s->w, W_ROLLBACK));
  } else if (pruned) {
    *pruned = n;
  }
  pthread_mutex_unlock(&s->w.mu);
  wf__free(seqs);
  return code;
}

/* ---- opening ---- */

static void conn_close(conn *c, size_t n) {
  if (c->stmts)
    for (size_t i = 0; i < n; i++) sqlite3_finalize(c->stmts[i]);
  if (c->db) sqlite3_close(c->db);
  c->db = NULL;
  pthread_mutex_destroy(&c->mu);
}

/* ---- checkpoints ---- */

/* A PASSIVE checkpoint, one at a time (ck_run): SQLite refuses a second
 * checkpointer rather than wait for it. */
static void checkpoint(sql_store *s, sqlite3 *db) {
  pthread_mutex_lock(&s->ck_run);
  sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  pthread_mutex_unlock(&s->ck_run);
}

/* After each commit of the writer (its lock held): wake the checkpointer
 * once the WAL has grown enough. The WAL starts over only when a write
 * begins with every frame copied, which a writer that never pauses does
 * not allow: past four times that mark, the writer copies the rest itself
 * (no frame can be added meanwhile), so its next write starts the WAL
 * over. The WAL stays within about 32 MB plus one transaction. */
static int wal_grew(void *arg, sqlite3 *db, const char *name, int pages) {
  (void)name;
  sql_store *s = arg;
  if (pages < CHECKPOINT_PAGES) return SQLITE_OK;
  if (pages >= 4 * CHECKPOINT_PAGES) {
    checkpoint(s, db);
    return SQLITE_OK;
  }
  pthread_mutex_lock(&s->ck_mu);
  s->ck_due = true;
  pthread_cond_signal(&s->ck_cond);
  pthread_mutex_unlock(&s->ck_mu);
  return SQLITE_OK;
}

static void *checkpointer(void *arg) {
  sql_store *s = arg;
  pthread_mutex_lock(&s->ck_mu);
  for (;;) {
    while (!s->ck_due && !s->ck_stop) pthread_cond_wait(&s->ck_cond, &s->ck_mu);
    if (s->ck_stop) break;
    s->ck_due = false;
    pthread_mutex_unlock(&s->ck_mu);
    /* PASSIVE: copies what no reader needs, never blocks the writer. */
    checkpoint(s, s->ck);
    pthread_mutex_lock(&s->ck_mu);
  }
  pthread_mutex_unlock(&s->ck_mu);
  return NULL;
}

static int start_checkpointer(sql_store *s, wf_error *err) {
  int rc = sqlite3_open_v2(s->path, &s->ck,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) return fail(s, s->ck, rc, "opening", err);
  sqlite3_busy_timeout(s->ck, 5000);
  /* A connection learns the file is in WAL mode when it first reads it;
   * until then a checkpoint through it does nothing. */
  rc = sqlite3_exec(s->ck, "PRAGMA journal_mode", NULL, NULL, NULL);
  if (rc != SQLITE_OK) return fail(s, s->ck, rc, "opening", err);
  /* The writer never checkpoints by itself; this thread does. */
  sqlite3_wal_autocheckpoint(s->w.db, 0);
  sqlite3_wal_hook(s->w.db, wal_grew, s);
  if (pthread_create(&s->ck_thread, NULL, checkpointer, s) != 0)
    return wf__error_set(err, WF_EINTERNAL, NULL,
                         "store %s: cannot start its checkpointer", s->path);
  s->ck_running = true;
  return WF_OK;
}

static void stop_checkpointer(sql_store *s) {
  if (s->ck_running) {
    pthread_mutex_lock(&s->ck_mu);
    s->ck_stop = true;
    pthread_cond_signal(&s->ck_cond);
    pthread_mutex_unlock(&s->ck_mu);
    pthread_join(s->ck_thread, NULL);
    s->ck_running = false;
  }
  if (s->ck) sqlite3_close(s->ck);
  s->ck = NULL;
}

static void sql_close(void *backend) {
  sql_store *s = backend;
  stop_checkpointer(s);
  wf__chunk_encoder_stop(s->enc);
  pthread_cond_destroy(&s->ck_cond);
  pthread_mutex_destroy(&s->ck_mu);
  pthread_mutex_destroy(&s->ck_run);
  /* The reader first: the writer, closing last, checkpoints the WAL into
   * the database file and removes it. */
  conn_close(&s->r, R_COUNT);
  conn_close(&s->w, W_COUNT);
  if (s->lock_fd >= 0) close(s->lock_fd); /* releases the flock */
  wf__free(s->path);
  wf__free(s);
}

static int pragma_int(sqlite3 *db, const char *sql, int64_t *out) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Create the schema in a new file, or check an existing one. */
static int check_schema(sql_store *s, wf_error *err) {
  sqlite3 *db = s->read_only ? s->r.db : s->w.db;
  int64_t app = 0, version = 0, tables = 0;
  int rc = pragma_int(db, "PRAGMA application_id", &app);
  if (rc == SQLITE_OK) rc = pragma_int(db, "PRAGMA user_version", &version);
  if (rc == SQLITE_OK)
    rc = pragma_int(db, "SELECT count(*) FROM sqlite_schema", &tables);
  if (rc != SQLITE_OK) return fail(s, db, rc, "reading its header", err);
  if (!tables && !app) {
    if (s->read_only)
      return wf__error_set(err, WF_ENOTFOUND, NULL,
                           "store %s is empty (no engine has written to it)",
                           s->path);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d;PRAGMA user_version=%d",
             APP_ID, SCHEMA_VERSION);
    rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, SCHEMA, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
      int code = fail(s, db, rc, "creating its schema", err);
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
      return code;
    }
    return WF_OK;
  }
  if (app != APP_ID)
    return wf__error_set(err, WF_ECORRUPT, NULL,
                         "%s is a SQLite database but not a libworkflow "
                         "store (application id 0x%llx)",
                         s->path, (unsigned long long)app);
  if (version > SCHEMA_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "store %s was written by a newer libworkflow "
                         "(schema version %lld; this one reads up to %d)",
                         s->path, (long long)version, SCHEMA_VERSION);
  if (version < 1)
    return wf__error_set(err, WF_ECORRUPT, NULL,
                         "store %s has no schema version", s->path);
  if (version < SCHEMA_VERSION && !s->read_only) {
    /* Version 1 kept every name unique, EXPRESS ones too; version 2 had
     * no owners of documents. */
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SCHEMA_VERSION);
    rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK && version < 2)
      rc = sqlite3_exec(db, "DROP INDEX executions_by_name;" NAMES_INDEX,
                        NULL, NULL, NULL);
    if (rc == SQLITE_OK)
      rc = sqlite3_exec(db, OWNERS_SCHEMA, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
      snprintf(sql, sizeof sql, "migrating its schema to version %d",
               SCHEMA_VERSION);
      int code = fail(s, db, rc, sql, err);
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
      return code;
    }
  }
  return WF_OK;
}

static int open_conn(sql_store *s, conn *c, bool write,
                     const wf_store_options *o, wf_error *err) {
  int flags = SQLITE_OPEN_NOMUTEX |
              (write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                     : SQLITE_OPEN_READONLY);
  int rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
  if (rc != SQLITE_OK) return fail(s, c->db, rc, "opening", err);
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, 5000);
  if (write) {
    const char *sync = o->sync == WF_STORE_SYNC_NORMAL
                           ? "PRAGMA synchronous=NORMAL"
                           : "PRAGMA synchronous=FULL";
    rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(c->db, sync, NULL, NULL, NULL);
    /* A group commit of many executions dirties more pages than the
     * default 2 MB cache holds; spilling them mid-transaction writes
     * pages twice. 32 MB at most, taken as needed. */
    if (rc == SQLITE_OK)
      rc = sqlite3_exec(c->db, "PRAGMA cache_size=-32768", NULL, NULL, NULL);
    /* A WAL that grew in a burst is cut back when it starts over. */
    if (rc == SQLITE_OK)
      rc = sqlite3_exec(c->db, "PRAGMA journal_size_limit=67108864", NULL,
                        NULL, NULL);
    if (rc != SQLITE_OK) return fail(s, c->db, rc, "setting it up", err);
  }
  return WF_OK;
}

static const wf_store_ops SQLITE_OPS = {
    .version = WF_STORE_OPS_VERSION,
    .size = sizeof(wf_store_ops),
    .flags = WF_STORE_DURABLE,
    .close = sql_close,
    .commit = sql_commit,
    .get_execution = sql_get_execution,
    .find_execution = sql_find_execution,
    .list_executions = sql_list_executions,
    .list_running = sql_list_running,
    .read_events = sql_read_events,
    .get_definition = sql_get_definition,
    .get_document = sql_get_document,
    .list_documents = sql_list_documents,
    .prune = sql_prune,
};

/* One writer per file: the engine that writes resumes its executions. */
static int take_lock(sql_store *s, wf_error *err) {
  s->lock_fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->lock_fd < 0)
    return wf__error_set(err, errno == ENOSPC ? WF_ENOSPC : WF_EIO, NULL,
                         "store %s: %s", s->path, strerror(errno));
  if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
    return wf__error_set(err, errno == EWOULDBLOCK ? WF_EBUSY : WF_EIO, NULL,
                         "store %s is in use by another process (%s)",
                         s->path,
                         errno == EWOULDBLOCK ? "open it read-only to look "
                                                "at it"
                                              : strerror(errno));
  return WF_OK;
}

int wf_store_sqlite_open(wf_store **out, const char *path,
                         const wf_store_options *opts, wf_error *err) {
  if (!out || !path || !*path)
    return wf__error_set(err, WF_EINVAL, NULL, "out and path are required");
  *out = NULL;
  wf_store_options o;
  int rc = wf__store_options_resolve(&o, opts, err);
  if (rc != WF_OK) return rc;
  sql_store *s = wf__calloc(1, sizeof *s);
  if (!s || !(s->path = wf__strdup(path))) {
    wf__free(s);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  s->lock_fd = -1;
  s->read_only = o.read_only;
  s->w.stmts = s->w_stmts;
  s->r.stmts = s->r_stmts;
  pthread_mutex_init(&s->w.mu, NULL);
  pthread_mutex_init(&s->r.mu, NULL);
  pthread_mutex_init(&s->ck_mu, NULL);
  pthread_mutex_init(&s->ck_run, NULL);
  pthread_cond_init(&s->ck_cond, NULL);
  /* The schema is made or checked on the writer's connection, then the
   * reader's is opened; read-only, there is only the reader's. */
  if (!s->read_only) {
    rc = take_lock(s, err);
    if (rc == WF_OK) rc = open_conn(s, &s->w, true, &o, err);
    if (rc == WF_OK) rc = check_schema(s, err);
    if (rc == WF_OK) rc = open_conn(s, &s->r, false, &o, err);
    if (rc == WF_OK) rc = prepare(s, &s->w, WRITER_SQL, W_COUNT, err);
    if (rc == WF_OK) rc = start_checkpointer(s, err);
    /* Without its thread, chunks are encoded by the writer itself. */
    if (rc == WF_OK) s->enc = wf__chunk_encoder_start();
  } else {
    rc = open_conn(s, &s->r, false, &o, err);
    if (rc == WF_OK) rc = check_schema(s, err);
  }
  if (rc == WF_OK) rc = prepare(s, &s->r, READER_SQL, R_COUNT, err);
  if (rc != WF_OK) {
    sql_close(s);
    return rc;
  }
  return wf__store_wrap(out, &SQLITE_OPS, s, &o, err);
}
