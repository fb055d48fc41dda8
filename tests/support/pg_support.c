#include "pg_support.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

const char *wpg_server(const char **why) {
  static char conninfo[512], reason[512];
  const char *state = getenv("WF_TEST_POSTGRES");
  if (!state || !*state) {
    *why = "no PostgreSQL server for the tests: run them through ctest "
           "(its postgres fixture starts one) or set WF_TEST_POSTGRES to "
           "the state directory of tests/pg_server.sh start";
    return NULL;
  }
  char *path = wft_strf("%s/conninfo", state);
  char *text = wft_read_file(path, NULL);
  free(path);
  if (!text) {
    path = wft_strf("%s/skip", state);
    text = wft_read_file(path, NULL);
    free(path);
    snprintf(reason, sizeof reason, "%s",
             text ? text : "the postgres fixture started no server");
    free(text);
    *why = reason;
    return NULL;
  }
  snprintf(conninfo, sizeof conninfo, "%s", text);
  free(text);
  conninfo[strcspn(conninfo, "\n")] = '\0';
  return conninfo;
}

char *wpg_database(const char *name, bool create) {
  const char *why;
  const char *server = wpg_server(&why);
  if (!server) return NULL;
  if (create) {
    wpg_drop(name);
    char *sql = wft_strf("CREATE DATABASE \"%s\"", name);
    bool ok = wpg_exec("postgres", sql);
    free(sql);
    if (!ok) return NULL;
  }
  return wft_strf("%s dbname=%s", server, name);
}

void wpg_drop(const char *name) {
  char *sql = wft_strf("DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
  wpg_exec("postgres", sql);
  free(sql);
}

static void quiet(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

/* Run sql; *value gets the first row's first column (atoll), if any. */
static bool run_sql(const char *name, const char *sql, long long *value) {
  char *conninfo = wpg_database(name, false);
  if (!conninfo) return false;
  PGconn *c = PQconnectdb(conninfo);
  free(conninfo);
  PQsetNoticeProcessor(c, quiet, NULL); /* "does not exist, skipping" */
  PGresult *r = PQexec(c, sql);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
            PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
  if (ok && value && PQntuples(r) > 0) *value = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return ok;
}

bool wpg_exec(const char *name, const char *sql) {
  return run_sql(name, sql, NULL);
}

long long wpg_count(const char *name, const char *sql) {
  long long n = -1;
  return run_sql(name, sql, &n) ? n : -1;
}
