/* What the benchmark programs share (bench_common.h). */
#include "bench_common.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workflow/json.h"

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *bench_slurp(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) exit(2);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

double bench_rss_mb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  fclose(f);
  return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

/* The manifest's task handlers, answering at once (inline: no hand-off). */
static void process_data(wf_task *task, void *payload) {
  (void)payload;
  const json_t *in = wf_task_input_value(task);
  json_t *out = json_pack(
      "{s:s, s:I}", "status", "SUCCESS", "recordsProcessed",
      (json_int_t)json_array_size(json_object_get(in, "records")));
  wf_task_succeed_value(task, out);
}

static void send_notification(wf_task *task, void *payload) {
  (void)payload;
  wf_task_succeed_value(task, json_pack("{s:b}", "delivered", 1));
}

void bench_register_seed_handlers(wf_engine *e) {
  wf_engine_register_handler(e,
                             "arn:aws:lambda:us-east-1:123456789012:function:"
                             "ProcessData",
                             process_data, NULL, WF_HANDLER_INLINE, NULL);
  wf_engine_register_handler(e,
                             "arn:aws:lambda:us-east-1:123456789012:function:"
                             "SendNotification",
                             send_notification, NULL, WF_HANDLER_INLINE, NULL);
}

/* A PostgreSQL URI (postgresql://[user@]host[:port]/db?...): opened as
 * it is, with libpq's password sources (PGPASSWORD, ~/.pgpass); one
 * carrying a password (user:password@) is refused, as the command line
 * is visible to every user of the machine. */
static void open_postgres(const char *uri, bool normal_sync, bool shared,
                          wf_store **store, char name[64]) {
  const char *auth = strstr(uri, "://") + 3;
  const char *at = strchr(auth, '@'), *slash = strchr(auth, '/');
  const char *colon = strchr(auth, ':');
  if (at && (!slash || at < slash) && colon && colon < at) {
    fprintf(stderr, "--store: give the password in PGPASSWORD (or "
                    "~/.pgpass), not on the command line\n");
    exit(2);
  }
  wf_store_options so = WF_STORE_OPTIONS_INIT;
  so.sync = normal_sync ? WF_STORE_SYNC_NORMAL : WF_STORE_SYNC_FULL;
  wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
  po.store = &so;
  po.shared = shared;
  wf_error err;
  if (wf_store_postgres_open(store, uri, &po, &err) != WF_OK) {
    fprintf(stderr, "%s\n", err.message);
    exit(2);
  }
  snprintf(name, 64, "postgresql(%s%s)", normal_sync ? "normal" : "full",
           shared ? ", shared" : "");
}

void bench_open_shared_store(const char *arg, bool normal_sync,
                             wf_store **store, char name[64]) {
  if (strncmp(arg, "postgresql://", 13) != 0 &&
      strncmp(arg, "postgres://", 11) != 0) {
    fprintf(stderr, "--workers takes a --store postgresql://...\n");
    exit(2);
  }
  open_postgres(arg, normal_sync, true, store, name);
}

void bench_open_store(const char *arg, bool fresh, bool normal_sync,
                      wf_store **store, char name[64]) {
  *store = NULL;
  snprintf(name, 64, "memory");
  if (!arg || strcmp(arg, "memory") == 0) return;
  if (strncmp(arg, "postgresql://", 13) == 0 ||
      strncmp(arg, "postgres://", 11) == 0) {
    open_postgres(arg, normal_sync, false, store, name);
    return;
  }
  if (strncmp(arg, "sqlite:", 7) != 0) {
    fprintf(stderr, "--store takes sqlite:PATH, postgresql://... or "
                    "memory\n");
    exit(2);
  }
  const char *path = arg + 7;
  if (fresh) {
    char aux[4096];
    unlink(path);
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
  }
  wf_store_options so = WF_STORE_OPTIONS_INIT;
  so.sync = normal_sync ? WF_STORE_SYNC_NORMAL : WF_STORE_SYNC_FULL;
  wf_error err;
  if (wf_store_sqlite_open(store, path, &so, &err) != WF_OK) {
    fprintf(stderr, "%s\n", err.message);
    exit(2);
  }
  snprintf(name, 64, "sqlite(%s)", normal_sync ? "normal" : "full");
}
