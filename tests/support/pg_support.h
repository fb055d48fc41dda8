/* The tests' PostgreSQL: the throwaway server the ctest fixture
 * "postgres" starts (tests/pg_server.sh; $WF_TEST_POSTGRES names its state
 * directory), a database of its own for each test, and SQL run behind a
 * store's back (to damage it). */
#ifndef WF_TEST_PG_SUPPORT_H
#define WF_TEST_PG_SUPPORT_H

#include <stdbool.h>

/* The password of the role wf_secret, which tests/pg_server.sh makes
 * (and which alone must give one). */
#define WPG_SECRET_PASSWORD "wf-secret-pw-4417"

/* The server's connection string without a database ("host=DIR
 * user=wf"), or NULL with *why saying why there is none: no binaries
 * (the fixture says so), or not run through ctest. Static; do not free. */
const char *wpg_server(const char **why);
/* The connection string of database `name` on the server (free()),
 * created empty first when `create` (dropped first if it was there). */
char *wpg_database(const char *name, bool create);
/* Drop database `name` (its connections closed first). */
void wpg_drop(const char *name);
/* Run SQL in database `name`; false (with libpq's message on stderr)
 * when it fails. */
bool wpg_exec(const char *name, const char *sql);
/* The number a query of one row gives (SELECT count(*) ...) in database
 * `name`; -1 when it fails. */
long long wpg_count(const char *name, const char *sql);

#endif
