/* A store file from anywhere (wf executions opens what it is given): any
 * bytes open as a store or are refused by name, and whatever opens is read
 * through — executions, their histories both ways, their definitions,
 * documents — with a clear error for what is damaged, never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_support.h"
#include "workflow/store.h"
#include "workflow/workflow.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/wf-fuzz-store-XXXXXX";
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (!mkdtemp(dir)) abort();
  snprintf(path, sizeof path, "%s/store.db", dir);
  return 0;
}

static int event(const wf_store_event *e, void *arg) {
  (void)arg;
  FZ_CHECK(e->type && e->json, "an event without its text");
  return 0;
}

static int definition(const wf_store_definition *d, void *arg) {
  (void)d;
  (void)arg;
  return 0;
}

/* What to read after the list: a callback may not call its store. */
typedef struct listed {
  char *arn[50], *definition[50];
  size_t n;
} listed;

static int execution(const wf_store_execution *x, void *arg) {
  listed *l = arg;
  if (l->n == 50) return 1;
  l->arn[l->n] = x->arn ? strdup(x->arn) : NULL;
  l->definition[l->n] = x->definition_id ? strdup(x->definition_id) : NULL;
  l->n++;
  return 0;
}

static int document(const wf_store_document *d, void *arg) {
  (void)d;
  (void)arg;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char aux[80];
  snprintf(aux, sizeof aux, "%s-wal", path);
  unlink(aux);
  snprintf(aux, sizeof aux, "%s-shm", path);
  unlink(aux);
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (size && fwrite(data, 1, size, f) != size) abort();
  fclose(f);
  wf_store_options o = WF_STORE_OPTIONS_INIT;
  o.read_only = true;
  wf_store *s = NULL;
  wf_error err;
  if (wf_store_sqlite_open(&s, path, &o, &err) != WF_OK) {
    FZ_CHECK(strstr(err.message, "store.db"), "the file is not named: %s",
             err.message);
    return 0;
  }
  wf_store_query q = WF_STORE_QUERY_INIT;
  q.limit = 50;
  listed l = {0};
  wf_store_list_executions(s, &q, execution, &l, &err);
  for (size_t i = 0; i < l.n; i++) {
    if (l.arn[i]) {
      wf_store_read_events(s, l.arn[i], 0, false, 0, event, NULL, &err);
      wf_store_read_events(s, l.arn[i], 0, true, 3, event, NULL, &err);
    }
    if (l.definition[i])
      wf_store_get_definition(s, l.definition[i], definition, NULL, &err);
    free(l.arn[i]);
    free(l.definition[i]);
  }
  wf_store_list_documents(s, "stateMachine", 0, 50, document, NULL, &err);
  wf_store_free(s);
  return 0;
}
