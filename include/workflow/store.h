/*
 * libworkflow: stores — where an engine keeps executions, their history
 * and their resumable state, and where applications keep their own
 * records (state machines, versions).
 *
 * A store is a backend behind a versioned table of operations (the shape
 * of libgit2's ODB backends): the engine writes through one operation,
 * commit(), which applies a batch atomically, and reads through the
 * others. Built in: an in-memory store (what an engine uses when it is
 * given none: nothing survives the process), SQLite (durable: an engine
 * opened on the same file after a crash resumes the executions that were
 * running; see wf_engine_resume()) and PostgreSQL (durable, the same, in
 * a database server). Anyone may write another backend with
 * wf_store_new().
 *
 * Records passed to and from a store are transparent structs of borrowed
 * strings: in a batch they are valid during commit() only; in a read they
 * are valid during the callback only. A backend copies what it keeps.
 */
#ifndef WF_STORE_H
#define WF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workflow/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wf_store wf_store;

/* ---- records ---------------------------------------------------------- */

/** A state machine definition an execution runs, keyed by a digest of its
 *  text and load options, so an execution can be resumed from the store
 *  alone. Written once. */
typedef struct wf_store_definition {
  const char *id;         /**< digest (hex), the key */
  const char *name;       /**< the machine's name */
  int type;               /**< wf_machine_type */
  const char *definition; /**< JSON text */
  const char *options;    /**< JSON object: load options (allowlist) */
} wf_store_definition;

/** An execution. Upserted by ARN at each commit; a store keeps the latest. */
typedef struct wf_store_execution {
  const char *arn;           /**< the key */
  const char *name;          /**< unique per machine_name while kept,
                                  except for EXPRESS executions (an ARN
                                  containing ":express:"), whose names
                                  may repeat as on AWS */
  const char *machine_name;
  const char *machine_arn;   /**< the state machine or version ARN it
                                  started on (what lists filter on) */
  const char *definition_id; /**< its wf_store_definition */
  int status;                /**< wf_exec_status */
  int64_t start_ms, stop_ms; /**< stop_ms: 0 while running */
  const char *input;         /**< JSON text as given */
  const char *output;        /**< JSON text; NULL unless SUCCEEDED */
  const char *error, *cause; /**< NULL when none */
  const char *correlation_id;
  const char *role_arn;
  int64_t event_count;       /**< history events committed: ids
                                  1..event_count */
  /** What resuming it takes (the engine's own format, opaque to the
   *  store); NULL once it has ended. */
  const char *state;
  /** Creation order, assigned by the store at first insert (ignored in a
   *  batch); lists run newest first by it. */
  int64_t seq;
  /** In a batch, to a backend with WF_STORE_TAKES_VALUES only: the output
   *  as a jansson value (json_t *, shared, never modified), given instead
   *  of `output` so a backend in memory keeps a reference rather than a
   *  copy, and renders the text when it is read. NULL otherwise. */
  const void *output_value;
} wf_store_execution;

/** One history event, in GetExecutionHistory's shape. */
typedef struct wf_store_event {
  const char *execution_arn;
  int64_t id;          /**< 1, 2, ... without gaps */
  int64_t previous_id;
  int64_t timestamp_ms;
  const char *type;    /**< "ExecutionStarted", ... */
  const char *json;    /**< the whole event as one JSON object */
} wf_store_event;

/** An application's own record (the gateway keeps state machines and
 *  versions as documents): a JSON body under (kind, key). */
typedef struct wf_store_document {
  const char *kind;
  const char *key;
  const char *body; /**< JSON text; NULL in a batch deletes the document */
  int64_t seq;      /**< creation order, assigned by the store */
} wf_store_document;

/** What commit() applies, all or nothing, in this order: definitions
 *  (insert if absent), executions (upsert by ARN), events (insert),
 *  documents (upsert, or delete when body is NULL). */
typedef struct wf_store_batch {
  const wf_store_definition *definitions;
  size_t ndefinitions;
  const wf_store_execution *executions;
  size_t nexecutions;
  const wf_store_event *events;
  size_t nevents;
  const wf_store_document *documents;
  size_t ndocuments;
  /** NULL, or one entry per document: the ARN of the execution the
   *  document belongs to (an execution of this batch or one stored
   *  before), so that pruning the execution deletes it too; a NULL entry
   *  keeps the document until it is deleted. Upserting an owned document
   *  with a NULL entry keeps its owner. A backend built before this field
   *  existed ignores it (its documents are kept). */
  const char *const *document_owners;
  /** NULL, or one entry per execution: WF_STORE_EXEC_* flags. Given only
   *  to a shared store (one with claim()); other backends, and backends
   *  built before this field existed, never see it. */
  const unsigned int *execution_flags;
} wf_store_batch;

/** An execution of this flag is a unit of the engine's own work (a share
 *  of a Distributed Map's children), not an execution anyone started: a
 *  shared store never lists it (list_executions()), finds it by name
 *  (find_execution()) or prunes it, and deletes it, with its events,
 *  when a commit writes it ended. */
#define WF_STORE_EXEC_WORK 0x1u
/** With WF_STORE_EXEC_WORK: the unit's first write, by the process that
 *  makes it: inserted leased to no worker, so that any worker's
 *  claim_work() (or claim()) takes it; nothing is done when its ARN is
 *  stored already (a commit written again). */
#define WF_STORE_EXEC_OFFER 0x2u

/** Which executions a list returns, newest first. */
typedef struct wf_store_query {
  unsigned int version;
  const char *machine_name; /**< NULL: every machine */
  const char *machine_arn;  /**< NULL: any; else exactly this ARN */
  int status;               /**< a wf_exec_status, or -1 for any */
  int64_t before_seq;       /**< only seq < this (a page's cursor); 0:
                                 from the newest */
  size_t limit;             /**< at most this many; 0: no limit */
} wf_store_query;

#define WF_STORE_QUERY_VERSION 1
#define WF_STORE_QUERY_INIT \
  { .version = WF_STORE_QUERY_VERSION, .status = -1 }

/** Read callbacks: the record is borrowed for the call. Return 0 to go
 *  on, nonzero to stop (the read then returns WF_OK). A callback must not
 *  call the store it is reading (a backend may hold a lock meanwhile):
 *  such a call returns WF_ESTATE; keep what it needs and call after the
 *  read returns. */
typedef int (*wf_store_definition_cb)(const wf_store_definition *def,
                                      void *payload);
typedef int (*wf_store_execution_cb)(const wf_store_execution *exec,
                                     void *payload);
typedef int (*wf_store_event_cb)(const wf_store_event *event,
                                 void *payload);
typedef int (*wf_store_document_cb)(const wf_store_document *doc,
                                    void *payload);

/* ---- backends ----------------------------------------------------------- */

/** The backend is durable: what it committed survives the process. */
#define WF_STORE_DURABLE 0x1u
/** The backend takes wf_store_execution.output_value (see there). */
#define WF_STORE_TAKES_VALUES 0x2u

/**
 * A backend's operations. `version` first and `size` second are frozen;
 * fields are only ever appended (check with WF_STORE_HAS). Every
 * operation may be called from any thread, concurrently with the others;
 * each returns WF_OK or a negative WF_E* code and fills `err` (optional).
 * `backend` is the pointer given to wf_store_new().
 */
typedef struct wf_store_ops {
  unsigned int version; /**< WF_STORE_OPS_VERSION */
  size_t size;          /**< sizeof(wf_store_ops) where the backend was
                             built */
  unsigned int flags;   /**< WF_STORE_DURABLE */
  /** Release the backend (wf_store_free()). */
  void (*close)(void *backend);
  /** Apply a batch atomically; WF_OK means it is as durable as the
   *  backend promises. WF_EEXIST when an execution's (machine_name,
   *  name) is taken by another ARN (EXPRESS executions excepted); nothing
   *  is applied then. An upsert of
   *  a known execution changes only what an execution's progress changes:
   *  status, stop_ms, output, error, cause, event_count and state. */
  int (*commit)(void *backend, const wf_store_batch *batch, wf_error *err);
  /** The execution with this ARN (WF_ENOTFOUND when none). */
  int (*get_execution)(void *backend, const char *arn,
                       wf_store_execution_cb cb, void *payload,
                       wf_error *err);
  /** The execution of this machine with this name (WF_ENOTFOUND); an
   *  EXPRESS execution need not be found by name. */
  int (*find_execution)(void *backend, const char *machine_name,
                        const char *name, wf_store_execution_cb cb,
                        void *payload, wf_error *err);
  /** Executions matching `query`, newest first (seq descending). */
  int (*list_executions)(void *backend, const wf_store_query *query,
                         wf_store_execution_cb cb, void *payload,
                         wf_error *err);
  /** Every execution with a state (the running ones), oldest first. */
  int (*list_running)(void *backend, wf_store_execution_cb cb,
                      void *payload, wf_error *err);
  /** History events of an execution from `from_id` on (forwards) or from
   *  `from_id` down (reverse; 0 or less: from the last), at most `limit`
   *  (0: all). */
  int (*read_events)(void *backend, const char *arn, int64_t from_id,
                     bool reverse, size_t limit, wf_store_event_cb cb,
                     void *payload, wf_error *err);
  /** A definition by id (WF_ENOTFOUND). */
  int (*get_definition)(void *backend, const char *id,
                        wf_store_definition_cb cb, void *payload,
                        wf_error *err);
  /** A document (WF_ENOTFOUND). */
  int (*get_document)(void *backend, const char *kind, const char *key,
                      wf_store_document_cb cb, void *payload,
                      wf_error *err);
  /** Documents of a kind in creation order, from seq > after_seq, at most
   *  limit (0: all). */
  int (*list_documents)(void *backend, const char *kind, int64_t after_seq,
                        size_t limit, wf_store_document_cb cb, void *payload,
                        wf_error *err);
  /** Delete at most `max` ended executions (with their events) that
   *  stopped before `stopped_before_ms`, or beyond the newest `keep`
   *  ended ones (0: no count limit), oldest first; *pruned gets how many
   *  went. Never a running one. The documents each owned
   *  (wf_store_batch.document_owners) go with it. */
  int (*prune)(void *backend, int64_t stopped_before_ms, size_t keep,
               size_t max, size_t *pruned, wf_error *err);

  /* ---- shared stores: many processes run the executions of one store,
   * each execution leased to one of them at a time. A backend that is not
   * shared leaves these NULL (an engine then resumes every running
   * execution when it starts, with list_running). In a shared store,
   * commit() writes an execution only while this process holds its lease
   * (a new execution is leased to the process that starts it): one whose
   * lease went to another process fails the whole batch with
   * WF_ECANCELED, nothing written, and is reported by lost(). ---- */

  /** Renew this process's lease and take the leases of up to `max`
   *  running executions no live process holds (their process stopped
   *  renewing its lease, or closed the store): each is passed to cb, with
   *  its state, to be resumed here. *next_ms gets how long to wait before
   *  the next call so that the lease does not run out. */
  int (*claim)(void *backend, size_t max, wf_store_execution_cb cb,
               void *payload, int64_t *next_ms, wf_error *err);
  /** Take the lease of one execution at once, whoever holds it (an API
   *  call about it reached this process): its record to cb, to be resumed
   *  here; WF_ENOTFOUND when no such execution has a state. */
  int (*acquire)(void *backend, const char *arn, wf_store_execution_cb cb,
                 void *payload, wf_error *err);
  /** Report, once each, the executions whose lease this process lost
   *  (found by claim() or by a commit); cb must not call the store. */
  void (*lost)(void *backend, void (*cb)(const char *arn, void *payload),
               void *payload);
  /** The running executions whose state holds `text` (a task token sent
   *  to this process for an execution another runs), to cb. */
  int (*find_holding)(void *backend, const char *text,
                      wf_store_execution_cb cb, void *payload,
                      wf_error *err);
  /** Whether this process still holds the lease of an execution it runs,
   *  as the database has it now (asked before an answer that only its
   *  next commit would otherwise confirm): WF_OK, WF_ECANCELED when it
   *  went to another process (then reported by lost()), or the store's
   *  error. May be NULL. */
  int (*holds)(void *backend, const char *arn, wf_error *err);
  /** Take the leases of up to `max` units of work (WF_STORE_EXEC_WORK)
   *  that no worker holds yet, oldest first, each passed to cb with its
   *  state, to be run here. Cheap when there are none: an engine calls it
   *  often. May be NULL (then claim() alone finds them). */
  int (*claim_work)(void *backend, size_t max, wf_store_execution_cb cb,
                    void *payload, wf_error *err);
} wf_store_ops;

#define WF_STORE_OPS_VERSION 1
#define WF_STORE_HAS(ops, member) \
  (offsetof(wf_store_ops, member) < (ops)->size)

/* ---- opening and closing ------------------------------------------------ */

/** How hard a durable store works to keep a commit. */
typedef enum wf_store_sync {
  /** Every commit is on disk before it counts (fsync): nothing committed
   *  is lost, even to a power failure. The default. */
  WF_STORE_SYNC_FULL = 0,
  /** SQLite's synchronous=NORMAL in WAL mode: a crash of the process
   *  loses nothing, a power failure may lose the last commits. */
  WF_STORE_SYNC_NORMAL = 1
} wf_store_sync;

typedef struct wf_store_options {
  unsigned int version;
  /** Durability; see wf_store_sync. */
  wf_store_sync sync;
  /** Ended executions are pruned this long after they stopped; 0 means
   *  90 days (AWS's), a negative value never. */
  int64_t retention_ms;
  /** At most this many ended executions are kept (the oldest go first);
   *  0 means no limit. */
  size_t retention_count;
  /** Open for reading only: commit() fails with WF_EPERM. A read-only
   *  SQLite store may be opened while an engine writes to it. */
  bool read_only;
} wf_store_options;

#define WF_STORE_OPTIONS_VERSION 1
#define WF_STORE_OPTIONS_INIT {.version = WF_STORE_OPTIONS_VERSION}

/**
 * Set options to their defaults for `version`.
 * @return WF_OK, WF_EINVAL (NULL), WF_EVERSION.
 * Threads: any.
 */
WF_API int wf_store_options_init(wf_store_options *opts,
                                 unsigned int version);

/**
 * An in-memory store: what an engine created without a store uses.
 * Nothing survives the process; retention_count bounds its memory.
 * @param[out] out the store; free with wf_store_free().
 * @param opts NULL: defaults.
 * @return WF_OK, WF_ENOMEM, WF_EVERSION.
 * Threads: any; the store is thread-safe.
 */
WF_API int wf_store_memory_new(wf_store **out, const wf_store_options *opts,
                               wf_error *err);

/**
 * Open (or create) a SQLite store at `path`, in WAL mode. The schema is
 * created or checked when it opens: a file that is not a store, a damaged
 * one, or one written by a newer libworkflow is refused with a message
 * naming the file and what is wrong.
 * @param[out] out the store; free with wf_store_free().
 * @param path a file path; not retained.
 * @param opts NULL: defaults (full fsync, 90 days).
 * @return WF_OK, WF_EIO (cannot open or create), WF_ECORRUPT (not a
 *         store, or damaged), WF_EVERSION (a newer schema), WF_EBUSY
 *         (another process writes to it), WF_ENOSPC, WF_ENOMEM.
 * Threads: any; the store is thread-safe.
 */
WF_API int wf_store_sqlite_open(wf_store **out, const char *path,
                                const wf_store_options *opts, wf_error *err);

/** Options of a PostgreSQL store (wf_store_postgres_open()). */
typedef struct wf_store_postgres_options {
  unsigned int version;
  /** Retention and read_only as for every store; sync: FULL waits for
   *  the server's WAL flush at each commit (synchronous_commit on, the
   *  server's default), NORMAL does not (synchronous_commit off: a crash
   *  of the server, not of this process, may lose the last commits).
   *  NULL: defaults. Not retained. */
  const wf_store_options *store;
  /** At most this many connections: one writes (commits, pruning), the
   *  others read, concurrently with it, each opened when first needed.
   *  0 means 4; at least 2. */
  unsigned int connections;
  /** The password, when neither the connection string nor libpq's own
   *  sources (PGPASSWORD, ~/.pgpass) give it; NULL: none. Copied, and
   *  never written into any message. */
  const char *password;
  /* ---- version 2 ---- */
  /** Share the database's executions with other processes (wf-gateway
   *  instances, programs of your own) that open it shared: each running
   *  execution is leased to one process at a time; a process that stops
   *  renewing its lease (it died, it stalled, it lost the database) has
   *  its executions taken over by the others, and whatever it tries to
   *  commit of them afterwards is refused (fencing). false: one process
   *  writes to the database at a time, as in version 1. */
  bool shared;
  /** How long a process's lease lasts unless renewed (it is renewed
   *  every third of that): how soon the executions of a process that
   *  died go on elsewhere. 0 means 10 s: long enough to ride out a
   *  database restart or a stall of a few seconds without executions
   *  changing hands, short enough to be well within the timeouts tasks
   *  usually have. At least 300 ms. */
  unsigned int lease_ms;
} wf_store_postgres_options;

#define WF_STORE_POSTGRES_OPTIONS_VERSION 2
#define WF_STORE_POSTGRES_OPTIONS_INIT \
  {.version = WF_STORE_POSTGRES_OPTIONS_VERSION}

/**
 * Set PostgreSQL store options to their defaults for `version`.
 * @return WF_OK, WF_EINVAL (NULL), WF_EVERSION.
 * Threads: any.
 */
WF_API int wf_store_postgres_options_init(wf_store_postgres_options *opts,
                                          unsigned int version);

/**
 * Open a store in a PostgreSQL database (10 or later; libpq 14 or later
 * on this side). Its tables (named wf_*) are created when it opens on a
 * database without them, in the first schema of the search path, under
 * a schema version kept in wf_schema_version: a database written by a
 * newer libworkflow is refused naming both versions, an older schema is
 * migrated. Opened shared (opts->shared), any number of processes run its
 * executions together, each leased to one of them (see
 * wf_store_postgres_options.shared); otherwise one process writes to a
 * database at a time (a session advisory lock, waited for up to 2 s: a
 * writer that has just closed may not have let go of it yet); any number
 * read (opts->store->read_only). Commits are one transaction
 * each, sent as a libpq pipeline (one round trip); reads never wait for
 * a commit.
 * @param[out] out the store; free with wf_store_free().
 * @param conninfo a libpq connection string or URI
 *        ("postgresql://user@host/db", "host=/run/pg dbname=wf"); not
 *        retained beyond the store, never written into a message. A
 *        connection attempt gives up after 10 s unless it sets
 *        connect_timeout.
 * @param opts NULL: defaults (4 connections, synchronous commits, 90
 *        days).
 * @param[out] err optional; a failure to connect carries libpq's message
 *        (never the password).
 * @return WF_OK, WF_EINVAL (a connection string that does not parse),
 *         WF_EIO (cannot connect, or the server failed), WF_EPERM (not
 *         allowed to create the tables), WF_ECORRUPT (the database has
 *         other tables named as a store's, or a damaged schema record),
 *         WF_EVERSION (a newer schema; options of a newer libworkflow),
 *         WF_ENOTFOUND (read-only on a database with no store), WF_EBUSY
 *         (another process writes to it), WF_ENOMEM.
 * Threads: any; the store is thread-safe.
 */
WF_API int wf_store_postgres_open(wf_store **out, const char *conninfo,
                                  const wf_store_postgres_options *opts,
                                  wf_error *err);

/**
 * A store over a backend of your own.
 * @param[out] out the store; wf_store_free() calls ops->close(backend).
 * @param ops borrowed: must outlive the store (a static table).
 * @param backend handed to every operation.
 * @return WF_OK, WF_EINVAL (a missing operation), WF_EVERSION (ops from a
 *         newer libworkflow), WF_ENOMEM.
 * Threads: any.
 */
WF_API int wf_store_new(wf_store **out, const wf_store_ops *ops,
                        void *backend, wf_error *err);

/**
 * Close a store. Engines using it must have been freed first.
 * Threads: not concurrently with any use of the store. NULL is a no-op.
 */
WF_API void wf_store_free(wf_store *store);

/** Whether what the store commits survives the process. Threads: any. */
WF_API bool wf_store_is_durable(const wf_store *store);

/* ---- reading ------------------------------------------------------------ */

/**
 * The execution with this ARN, passed to cb.
 * @return WF_OK, WF_ENOTFOUND, WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_store_get_execution(wf_store *store, const char *arn,
                                  wf_store_execution_cb cb, void *payload,
                                  wf_error *err);

/**
 * Executions matching `query` (NULL: all), newest first; for a next page,
 * pass the last one's seq as query->before_seq.
 * @return WF_OK, WF_EINVAL, WF_EVERSION, WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_store_list_executions(wf_store *store,
                                    const wf_store_query *query,
                                    wf_store_execution_cb cb, void *payload,
                                    wf_error *err);

/**
 * History events of an execution (see wf_store_ops.read_events).
 * @return WF_OK (also when it has none), WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_store_read_events(wf_store *store, const char *arn,
                                int64_t from_id, bool reverse, size_t limit,
                                wf_store_event_cb cb, void *payload,
                                wf_error *err);

/**
 * The definition an execution runs (its wf_store_execution.definition_id).
 * @return WF_OK, WF_ENOTFOUND, WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_store_get_definition(wf_store *store, const char *id,
                                   wf_store_definition_cb cb, void *payload,
                                   wf_error *err);

/* ---- writing ------------------------------------------------------------ */

/**
 * Apply a batch, all or nothing: the write path engines use. An
 * application may use it to import executions or to test a backend; it
 * must keep an execution's events contiguous from 1, and must not write
 * to a store an engine runs on (only documents, with
 * wf_store_put_documents()).
 * @return WF_OK, WF_EINVAL, WF_EEXIST (an execution name taken), WF_EPERM
 *         (read-only), WF_EIO, WF_ENOSPC, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_store_commit(wf_store *store, const wf_store_batch *batch,
                           wf_error *err);

/**
 * Prune by the store's retention options: at most `max` (0: all due) ended
 * executions that stopped more than retention_ms before `now_ms`, or are
 * beyond the newest retention_count ended ones, go with their histories
 * and the documents they own (wf_store_batch.document_owners).
 * Engines do this themselves, a little at a time; a tool may call it.
 * @param[out] pruned optional: how many went.
 * @return WF_OK, WF_EPERM (read-only), WF_EIO, WF_ENOSPC.
 * Threads: any.
 */
WF_API int wf_store_prune(wf_store *store, int64_t now_ms, size_t max,
                          size_t *pruned, wf_error *err);

/* ---- documents ---------------------------------------------------------- */

/**
 * Write documents, all or nothing (a NULL body deletes).
 * @return WF_OK, WF_EINVAL, WF_EPERM (read-only), WF_EIO, WF_ENOSPC.
 * Threads: any.
 */
WF_API int wf_store_put_documents(wf_store *store,
                                  const wf_store_document *docs, size_t n,
                                  wf_error *err);

/**
 * One document.
 * @return WF_OK, WF_ENOTFOUND, WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_store_get_document(wf_store *store, const char *kind,
                                 const char *key, wf_store_document_cb cb,
                                 void *payload, wf_error *err);

/**
 * Documents of a kind in creation order (after_seq 0: from the first).
 * @return WF_OK, WF_EIO, WF_ECORRUPT.
 * Threads: any.
 */
WF_API int wf_store_list_documents(wf_store *store, const char *kind,
                                   int64_t after_seq, size_t limit,
                                   wf_store_document_cb cb, void *payload,
                                   wf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WF_STORE_H */
