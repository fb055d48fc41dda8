/* The PostgreSQL store's connections (store_postgres.c): one writer and
 * a few readers, each opened when first needed and opened again after
 * the server dropped it, with its statements prepared; and the store's
 * failures as wf_error, naming the database (never the password). */
#ifndef WF_PG_POOL_H
#define WF_PG_POOL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workflow/common.h"

/* A statement prepared on every connection of its kind. */
typedef struct wf__pg_stmt {
  const char *name, *sql;
} wf__pg_stmt;

typedef struct wf__pg_conn {
  PGconn *c; /* NULL until opened, and after it was lost */
  bool busy; /* a reader's, taken */
} wf__pg_conn;

/* Called on a connection once it is open and set up, before its
 * statements are prepared: the writer's, and a read-only pool's readers'
 * (the store takes its lock and makes or checks its schema there). */
typedef int (*wf__pg_setup_cb)(void *payload, PGconn *c, wf_error *err);

typedef struct wf__pg_pool {
  char *conninfo, *password;
  char label[192]; /* PostgreSQL database "D" on H:P: what messages
                       name; set once, by the first connection */
  bool labelled;
  bool read_only, sync_normal;
  const wf__pg_stmt *wstmts, *rstmts;
  size_t nwstmts, nrstmts;
  wf__pg_setup_cb writer_setup;
  wf__pg_setup_cb writer_ready; /* the writer's, once its statements are
                                   prepared (NULL: none) */
  void *setup_payload;
  pthread_mutex_t wmu; /* the writer, held for a commit or a prune */
  wf__pg_conn writer;
  pthread_mutex_t rmu; /* readers' busy flags; rcv: one came back */
  pthread_cond_t rcv;
  wf__pg_conn *readers;
  size_t nreaders;
} wf__pg_pool;

/* Set the pool up (no connection yet): WF_OK, WF_EINVAL (conninfo does
 * not parse), WF_ENOMEM. The rest of the fields are the caller's to fill
 * before the first connection. */
int wf__pg_pool_init(wf__pg_pool *p, const char *conninfo,
                     const char *password, size_t nreaders, wf_error *err);
void wf__pg_pool_fini(wf__pg_pool *p);

/* The writer, connected, with wmu held (WF_OK), or the failure (wmu not
 * held). Give it back with wf__pg_writer_done(); `broken` drops the
 * connection (it is opened again when next needed). */
int wf__pg_writer(wf__pg_pool *p, PGconn **out, wf_error *err);
void wf__pg_writer_done(wf__pg_pool *p, bool broken);
/* A free reader, connected (waits while all are taken). */
int wf__pg_reader(wf__pg_pool *p, wf__pg_conn **out, wf_error *err);
void wf__pg_reader_done(wf__pg_pool *p, wf__pg_conn *r);

/* A failed result (or, r NULL, the connection's failure) as the store's
 * error: a code from the SQLSTATE, the database named, what was being
 * done and PostgreSQL's message. */
int wf__pg_fail(const wf__pg_pool *p, PGconn *c, const PGresult *r,
                const char *doing, wf_error *err);
/* The code a SQLSTATE maps to. */
int wf__pg_code(const char *sqlstate);

/* An int64 as a statement's text parameter, written into p and returned. */
typedef struct wf__pg_num {
  char text[24];
} wf__pg_num;
const char *wf__pg_int(wf__pg_num *p, int64_t v);

#endif
