/* The PostgreSQL store's connections (pg_pool.h). */
#include "pg_pool.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

const char *wf__pg_int(wf__pg_num *p, int64_t v) {
  snprintf(p->text, sizeof p->text, "%" PRId64, v);
  return p->text;
}

int wf__pg_code(const char *st) {
  if (!st || strlen(st) != 5) return WF_EIO;
  if (strcmp(st, "23505") == 0) return WF_EEXIST;
  if (strncmp(st, "23", 2) == 0) return WF_EINVAL; /* integrity */
  if (strcmp(st, "53100") == 0) return WF_ENOSPC;  /* disk_full */
  if (strcmp(st, "53200") == 0) return WF_ENOMEM;  /* out_of_memory */
  if (strcmp(st, "25006") == 0 ||                  /* read-only */
      strcmp(st, "42501") == 0 ||                  /* no privilege */
      strncmp(st, "28", 2) == 0)                   /* authorization */
    return WF_EPERM;
  if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
      strcmp(st, "55P03") == 0) /* serialization, deadlock, lock */
    return WF_EBUSY;
  if (strncmp(st, "XX", 2) == 0 && strcmp(st, "XX000") != 0)
    return WF_ECORRUPT; /* data_corrupted, index_corrupted */
  return WF_EIO;
}

int wf__pg_fail(const wf__pg_pool *p, PGconn *c, const PGresult *r,
                const char *doing, wf_error *err) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  if (!msg) msg = c ? PQerrorMessage(c) : "";
  if (!*msg) msg = "the connection was lost";
  int len = (int)strlen(msg);
  while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) len--;
  int code = wf__pg_code(state);
  if (code == WF_ENOSPC)
    return wf__error_set(err, code, NULL,
                         "store %s: no space left on the server (%s: %.*s)",
                         p->label, doing, len, msg);
  return wf__error_set(err, code, NULL, "store %s: %s: %.*s", p->label, doing,
                       len, msg);
}

/* libpq prints the server's notices on stderr unless told otherwise. */
static void quiet(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

/* Every token of a connection string libpq would not parse is left out
 * of its message: it could be a password. */
static int refuse_conninfo(char *why, wf_error *err) {
  size_t n = why ? strlen(why) : 0;
  while (n && why[n - 1] == '\n') why[--n] = '\0';
  for (char *q = why ? strchr(why, '"') : NULL; q; q = strchr(q, '"')) {
    char *end = strchr(q + 1, '"');
    if (!end) break;
    memmove(q + 2, end, strlen(end) + 1);
    q[1] = '.'; /* "x" becomes "." */
    q += 3;
  }
  int rc = wf__error_set(err, WF_EINVAL, NULL,
                         "store: the PostgreSQL connection string does not "
                         "parse (%s)",
                         why ? why : "out of memory");
  PQfreemem(why);
  return rc;
}

int wf__pg_pool_init(wf__pg_pool *p, const char *conninfo,
                     const char *password, size_t nreaders, wf_error *err) {
  memset(p, 0, sizeof *p);
  pthread_mutex_init(&p->wmu, NULL);
  pthread_mutex_init(&p->rmu, NULL);
  pthread_cond_init(&p->rcv, NULL);
  snprintf(p->label, sizeof p->label, "PostgreSQL database");
  char *why = NULL;
  PQconninfoOption *opts = PQconninfoParse(conninfo, &why);
  if (!opts) return refuse_conninfo(why, err);
  PQconninfoFree(opts);
  p->conninfo = wf__strdup(conninfo);
  p->password = password ? wf__strdup(password) : NULL;
  p->readers = wf__calloc(nreaders, sizeof *p->readers);
  p->nreaders = p->readers ? nreaders : 0;
  if (!p->conninfo || (password && !p->password) || !p->readers)
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  return WF_OK;
}

static void drop(wf__pg_conn *k) {
  if (k->c) PQfinish(k->c);
  k->c = NULL;
}

void wf__pg_pool_fini(wf__pg_pool *p) {
  drop(&p->writer);
  for (size_t i = 0; i < p->nreaders; i++) drop(&p->readers[i]);
  wf__free(p->readers);
  wf__free(p->conninfo);
  if (p->password) {
    memset(p->password, 0, strlen(p->password));
    wf__free(p->password);
  }
  pthread_cond_destroy(&p->rcv);
  pthread_mutex_destroy(&p->rmu);
  pthread_mutex_destroy(&p->wmu);
}

/* A command with no result rows, on a connection being set up. */
static int setup_exec(wf__pg_pool *p, PGconn *c, const char *sql,
                      const char *doing, wf_error *err) {
  PGresult *r = PQexec(c, sql);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK
               ? WF_OK
               : wf__pg_fail(p, c, r, doing, err);
  PQclear(r);
  return rc;
}

/* Open the connection: the session's settings, the writer's setup (lock
 * and schema), then the statements of its kind. */
static int open_conn(wf__pg_pool *p, wf__pg_conn *k, bool writer,
                     wf_error *err) {
  const char *kw[5] = {"connect_timeout", "fallback_application_name",
                       "dbname"};
  const char *val[5] = {"10", "libworkflow", p->conninfo};
  if (p->password) {
    kw[3] = "password";
    val[3] = p->password;
  }
  /* connect_timeout and the name go first: the string's own win. */
  PGconn *c = PQconnectdbParams(kw, val, 1);
  if (!c) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  /* The first attempt names the database for good: it is made while
   * the store opens, before any other thread can read the label. */
  if (!p->labelled && PQdb(c)) {
    p->labelled = true;
    snprintf(p->label, sizeof p->label, "PostgreSQL database \"%s\" on %s:%s",
             PQdb(c), PQhost(c) ? PQhost(c) : "localhost",
             PQport(c) ? PQport(c) : "");
  }
  if (PQstatus(c) != CONNECTION_OK) {
    int rc = wf__pg_fail(p, c, NULL, "cannot connect", err);
    PQfinish(c);
    return rc;
  }
  PQsetNoticeProcessor(c, quiet, NULL);
  char set[160];
  snprintf(set, sizeof set, "SET client_min_messages=warning;%s%s",
           p->sync_normal ? "SET synchronous_commit=off;" : "",
           p->read_only ? "SET default_transaction_read_only=on;" : "");
  int rc = setup_exec(p, c, set, "setting up a connection", err);
  if (rc == WF_OK && p->writer_setup && (writer || p->read_only))
    rc = p->writer_setup(p->setup_payload, c, err);
  const wf__pg_stmt *st = writer ? p->wstmts : p->rstmts;
  size_t n = writer ? p->nwstmts : p->nrstmts;
  for (size_t i = 0; rc == WF_OK && i < n; i++) {
    PGresult *r = PQprepare(c, st[i].name, st[i].sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      rc = wf__pg_fail(p, c, r, "preparing its statements", err);
    PQclear(r);
  }
  if (rc == WF_OK && writer && p->writer_ready)
    rc = p->writer_ready(p->setup_payload, c, err);
  if (rc != WF_OK) {
    PQfinish(c);
    return rc;
  }
  k->c = c;
  return WF_OK;
}

/* Connected, or opened again when the server dropped it. */
static int ready(wf__pg_pool *p, wf__pg_conn *k, bool writer,
                 wf_error *err) {
  if (k->c && PQstatus(k->c) == CONNECTION_OK) return WF_OK;
  drop(k);
  return open_conn(p, k, writer, err);
}

int wf__pg_writer(wf__pg_pool *p, PGconn **out, wf_error *err) {
  pthread_mutex_lock(&p->wmu);
  int rc = ready(p, &p->writer, true, err);
  if (rc != WF_OK) {
    pthread_mutex_unlock(&p->wmu);
    return rc;
  }
  *out = p->writer.c;
  return WF_OK;
}

void wf__pg_writer_done(wf__pg_pool *p, bool broken) {
  if (broken || (p->writer.c && PQstatus(p->writer.c) != CONNECTION_OK))
    drop(&p->writer);
  pthread_mutex_unlock(&p->wmu);
}

int wf__pg_reader(wf__pg_pool *p, wf__pg_conn **out, wf_error *err) {
  pthread_mutex_lock(&p->rmu);
  wf__pg_conn *k = NULL;
  while (!k) {
    /* One already open first; else a slot to open. */
    for (size_t i = 0; !k && i < p->nreaders; i++)
      if (!p->readers[i].busy && p->readers[i].c) k = &p->readers[i];
    for (size_t i = 0; !k && i < p->nreaders; i++)
      if (!p->readers[i].busy) k = &p->readers[i];
    if (!k) pthread_cond_wait(&p->rcv, &p->rmu);
  }
  k->busy = true;
  pthread_mutex_unlock(&p->rmu);
  int rc = ready(p, k, false, err);
  if (rc != WF_OK) {
    wf__pg_reader_done(p, k);
    return rc;
  }
  *out = k;
  return WF_OK;
}

void wf__pg_reader_done(wf__pg_pool *p, wf__pg_conn *k) {
  if (k->c && PQstatus(k->c) != CONNECTION_OK) drop(k);
  pthread_mutex_lock(&p->rmu);
  k->busy = false;
  pthread_cond_signal(&p->rcv);
  pthread_mutex_unlock(&p->rmu);
}
