/* What the benchmark programs share: the seed workflow's handlers (which
 * answer at once), files, clocks, memory figures and stores. */
#ifndef WF_BENCH_COMMON_H
#define WF_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "workflow/workflow.h"

/* Seconds on the monotonic clock. */
double bench_now(void);
/* The whole of DIR/NAME (malloc'd); exits with a message when it cannot. */
char *bench_slurp(const char *dir, const char *name);
/* The process's resident memory now, in MiB (not its peak). */
double bench_rss_mb(void);
/* Register the seed workflow's ProcessData and SendNotification handlers
 * (inline, answering at once as the manifest says). */
void bench_register_seed_handlers(wf_engine *e);
/* Open the store named by ARG: "memory" (NULL in *store: the engine's own),
 * "sqlite:PATH" (removed first when `fresh`) or a PostgreSQL URI
 * "postgresql://..." (used as it is: its tables are made when missing;
 * the password from PGPASSWORD or ~/.pgpass, never in ARG), with full
 * fsync (synchronous commits) unless `normal_sync`. Its description goes
 * to name[64]. Exits on failure. */
void bench_open_store(const char *arg, bool fresh, bool normal_sync,
                      wf_store **store, char name[64]);
/* The same PostgreSQL store opened shared (many worker processes). */
void bench_open_shared_store(const char *arg, bool normal_sync,
                             wf_store **store, char name[64]);

#endif
