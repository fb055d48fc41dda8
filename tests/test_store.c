/* Stores (workflow/store.h): the built-in backends (memory, SQLite,
 * PostgreSQL) through the public interface — commits all or nothing,
 * upserts, names unique per machine, history pages, lists newest first
 * with cursors, documents, pruning — and what only the durable ones
 * have: durability across reopening, one writer at a time, read-only
 * readers, and clear errors for foreign, damaged, newer and full stores
 * and unreachable databases. PostgreSQL's tests use the throwaway server
 * of the ctest fixture "postgres" and skip, saying why, without one. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "store_support.h"
#include "support.h"

TestSuite(store, .timeout = 60);

#define MACHINE_ARN "arn:aws:states:us-east-1:123456789012:stateMachine:M"
#define ARN(n) "arn:aws:states:us-east-1:123456789012:execution:M:" n

static wf_store_execution exec_rec(const char *arn, const char *name,
                                   int status) {
  return (wf_store_execution){.arn = arn,
                              .name = name,
                              .machine_name = "M",
                              .machine_arn = MACHINE_ARN,
                              .definition_id = "d1",
                              .status = status,
                              .start_ms = 1000,
                              .stop_ms = status ? 2000 : 0,
                              .input = "{\"a\":1}",
                              .output = status == 1 ? "{\"b\":2}" : NULL,
                              .correlation_id = name,
                              .state = status ? NULL : "{\"frames\":[]}"};
}

static void commit_ok(wf_store *s, const wf_store_batch *b) {
  wf_error err;
  int rc = wf_store_commit(s, b, &err);
  cr_assert_eq(rc, WF_OK, "commit: %s", err.message);
}

static void put_execs(wf_store *s, const wf_store_execution *x, size_t n) {
  wf_store_batch b = {.executions = x, .nexecutions = n};
  commit_ok(s, &b);
}

/* Names of the executions a query lists, in order: "a,b,c". */
static char *listed(wf_store *s, const wf_store_query *q) {
  json_t *a = json_array();
  wf_error err;
  cr_assert_eq(wf_store_list_executions(s, q, wst_add_execution, a, &err),
               WF_OK, "%s", err.message);
  char buf[512] = "";
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    if (i) strcat(buf, ",");
    strcat(buf, json_string_value(json_object_get(v, "name")));
  }
  json_decref(a);
  return strdup(buf);
}

static void assert_listed(wf_store *s, const wf_store_query *q,
                          const char *want) {
  char *got = listed(s, q);
  cr_assert_str_eq(got, want);
  free(got);
}

/* Event ids a read returns: "1,2,3". */
static char *read_ids(wf_store *s, const char *arn, int64_t from, bool rev,
                      size_t limit) {
  json_t *a = json_array();
  wf_error err;
  cr_assert_eq(wf_store_read_events(s, arn, from, rev, limit, wst_add_event,
                                    a, &err),
               WF_OK, "%s", err.message);
  char buf[256] = "";
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    char n[24];
    snprintf(n, sizeof n, "%s%lld", i ? "," : "",
             (long long)json_integer_value(json_object_get(v, "id")));
    strcat(buf, n);
  }
  json_decref(a);
  return strdup(buf);
}

static void assert_ids(wf_store *s, const char *arn, int64_t from, bool rev,
                       size_t limit, const char *want) {
  char *got = read_ids(s, arn, from, rev, limit);
  cr_assert_str_eq(got, want, "events from %lld%s limit %zu",
                   (long long)from, rev ? " reverse" : "", limit);
  free(got);
}

/* ---- every backend ---- */

static wst_kind KINDS[] = {{"memory"}, {"sqlite"}, {"postgres"}};
static wst_kind DURABLE_KINDS[] = {{"sqlite"}, {"postgres"}};

/* A test of every backend; of the durable ones. */
#define EVERY(test) WST_OVER(KINDS, store, test)
#define DURABLE(test) WST_OVER(DURABLE_KINDS, store, test)

EVERY(keeps_the_latest_record_of_an_execution) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_execution x = exec_rec(ARN("a"), "a", 0);
  put_execs(s, &x, 1);
  json_t *got = wst_execution(s, ARN("a"));
  cr_assert_not_null(got);
  cr_assert_str_eq(json_string_value(json_object_get(got, "state")),
                   "{\"frames\":[]}");
  json_int_t seq = json_integer_value(json_object_get(got, "seq"));
  cr_assert_gt(seq, 0);
  json_decref(got);
  /* It ends: status, output and the cleared state replace what was. */
  x = exec_rec(ARN("a"), "a", 1);
  x.event_count = 7;
  put_execs(s, &x, 1);
  got = wst_execution(s, ARN("a"));
  cr_assert_eq(json_integer_value(json_object_get(got, "status")), 1);
  cr_assert_str_eq(json_string_value(json_object_get(got, "output")),
                   "{\"b\":2}");
  cr_assert(json_is_null(json_object_get(got, "state")));
  cr_assert_eq(json_integer_value(json_object_get(got, "events")), 7);
  cr_assert_eq(json_integer_value(json_object_get(got, "stop")), 2000);
  cr_assert_eq(json_integer_value(json_object_get(got, "seq")), seq,
               "an update keeps the creation order");
  cr_assert_str_eq(json_string_value(json_object_get(got, "input")),
                   "{\"a\":1}");
  json_decref(got);
  cr_assert_null(wst_execution(s, ARN("nope")));
  wf_store_free(s);
  wst_rmdir(dir);
}

EVERY(a_taken_name_refuses_the_whole_batch) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_execution x = exec_rec(ARN("a"), "a", 1);
  put_execs(s, &x, 1);
  /* A new ARN under a name the machine already has: AWS's
   * ExecutionAlreadyExists, and the other execution of the batch is not
   * written either. */
  wf_store_execution two[] = {exec_rec(ARN("b"), "b", 0),
                              exec_rec(ARN("a2"), "a", 0)};
  wf_store_batch b = {.executions = two, .nexecutions = 2};
  wf_error err;
  cr_assert_eq(wf_store_commit(s, &b, &err), WF_EEXIST);
  cr_assert(strstr(err.message, "Execution Already Exists"), "%s",
            err.message);
  json_t *gone = wst_execution(s, ARN("b"));
  cr_assert_null(gone, "a refused batch was partly applied");
  /* The same name under another machine is free. */
  wf_store_execution other = exec_rec(ARN("x"), "a", 0);
  other.machine_name = "Other";
  put_execs(s, &other, 1);
  wf_store_free(s);
  wst_rmdir(dir);
}

EVERY(reads_history_in_pages_both_ways) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_execution x = exec_rec(ARN("h"), "h", 0);
  wf_store_event ev[5];
  char json[5][64];
  for (int i = 0; i < 5; i++) {
    snprintf(json[i], sizeof json[i], "{\"id\":%d}", i + 1);
    ev[i] = (wf_store_event){ARN("h"), i + 1, i, 1000 + i, "Pass",
                             json[i]};
  }
  /* Two commits: events continue where the last left off. */
  wf_store_batch b1 = {.executions = &x, .nexecutions = 1, .events = ev,
                       .nevents = 3};
  commit_ok(s, &b1);
  wf_store_batch b2 = {.events = ev + 3, .nevents = 2};
  commit_ok(s, &b2);
  assert_ids(s, ARN("h"), 0, false, 0, "1,2,3,4,5");
  assert_ids(s, ARN("h"), 2, false, 2, "2,3");
  assert_ids(s, ARN("h"), 0, true, 2, "5,4");
  assert_ids(s, ARN("h"), 3, true, 0, "3,2,1");
  assert_ids(s, ARN("nope"), 0, false, 0, "");
  json_t *a = json_array();
  wf_store_read_events(s, ARN("h"), 4, false, 1, wst_add_event, a, NULL);
  json_t *e = json_array_get(a, 0);
  cr_assert_str_eq(json_string_value(json_object_get(e, "json")),
                   "{\"id\":4}");
  cr_assert_eq(json_integer_value(json_object_get(e, "prev")), 3);
  cr_assert_eq(json_integer_value(json_object_get(e, "ts")), 1003);
  cr_assert_str_eq(json_string_value(json_object_get(e, "type")), "Pass");
  json_decref(a);
  wf_store_free(s);
  wst_rmdir(dir);
}

/* Events whose payload texts repeat or extend an earlier one's (as a
 * state's output is the next one's input), with escapes, quotes and
 * backslashes at the edges: each reads back byte for byte. */
EVERY(events_with_shared_payloads_read_back_exactly) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_execution x = exec_rec(ARN("p"), "p", 0);
  enum { N = 12 };
  char *json[N];
  wf_store_event ev[N];
  char body[600] = "";
  for (int i = 0; i < 20; i++)
    strcat(body, "\\\"k\\\":\\\"v\\\\\\\\\\\"q\\\",");
  for (int i = 0; i < N; i++) {
    /* Grows by one field every other event; odd events repeat it; the
     * last ends in an escaped backslash before its closing quote. */
    char tail[64] = "";
    for (int k = 0; k < i / 2; k++) strcat(tail, "\\\"f\\\":1,");
    /* Events open as the engine writes them (id, previous id, time and
     * type, which the store may leave out and write back), or nearly. */
    char *opening =
        i % 3 == 0 ? wft_strf("{\"timestamp\":1.%03d,\"type\":"
                              "\"PassStateEntered\",\"id\":%d,"
                              "\"previousEventId\":%d,",
                              i, i + 1, i)
        : i % 3 == 1 ? wft_strf("{\"timestamp\":1.%03d,\"type\":"
                                "\"PassStateEntered\",\"id\":%d,"
                                "\"previousEventId\":%d,",
                                i, i + 2, i)
                     : wft_strf("{");
    json[i] = wft_strf("%s\"name\":\"S%d\",\"input\":\"{%s%s\\\"end\\\":%d}%s\","
                       "\"inputDetails\":{\"truncated\":false}}",
                       opening, i, body, tail, i / 2,
                       i == N - 1 ? "\\\\" : "");
    free(opening);
    ev[i] = (wf_store_event){ARN("p"), i + 1, i, 1000 + i, "PassStateEntered",
                             json[i]};
  }
  wf_store_batch b = {.executions = &x, .nexecutions = 1, .events = ev,
                      .nevents = N};
  commit_ok(s, &b);
  for (int rev = 0; rev <= 1; rev++) {
    json_t *a = json_array();
    cr_assert_eq(wf_store_read_events(s, ARN("p"), 0, rev, 0, wst_add_event,
                                      a, NULL),
                 WF_OK);
    cr_assert_eq(json_array_size(a), N);
    for (int i = 0; i < N; i++) {
      json_t *e = json_array_get(a, (size_t)(rev ? N - 1 - i : i));
      cr_assert_str_eq(json_string_value(json_object_get(e, "json")),
                       json[i], "event %d", i + 1);
      json_t *parsed = json_loads(json[i], 0, NULL);
      cr_assert_not_null(parsed, "test data: event %d is not JSON", i + 1);
      json_decref(parsed);
    }
    json_decref(a);
  }
  for (int i = 0; i < N; i++) free(json[i]);
  wf_store_free(s);
  wst_rmdir(dir);
}

/* A read callback that calls its own store is refused at once (it
 * waited for itself on SQLite's lock before); other stores are fine. */
typedef struct nested {
  wf_store *s;
  int rc;
} nested;

static int call_back_in(const wf_store_execution *x, void *p) {
  nested *n = p;
  wf_error err;
  n->rc = wf_store_read_events(n->s, x->arn, 0, false, 0, wst_add_event,
                               NULL, &err);
  return 0;
}

EVERY(a_read_callback_calling_its_store_is_refused_not_stuck) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_execution x = exec_rec(ARN("n"), "n", 0);
  put_execs(s, &x, 1);
  nested n = {s, WF_OK};
  cr_assert_eq(wf_store_list_executions(s, NULL, call_back_in, &n, NULL),
               WF_OK);
  cr_assert_eq(n.rc, WF_ESTATE);
  /* After the read, the same call works. */
  json_t *a = json_array();
  cr_assert_eq(wf_store_read_events(s, ARN("n"), 0, false, 0, wst_add_event,
                                    a, NULL),
               WF_OK);
  json_decref(a);
  wf_store_free(s);
  wst_rmdir(dir);
}

EVERY(refuses_events_out_of_order_or_of_no_execution) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_event orphan = {ARN("none"), 1, 0, 1, "X", "{}"};
  wf_store_batch b = {.events = &orphan, .nevents = 1};
  wf_error err;
  cr_assert_eq(wf_store_commit(s, &b, &err), WF_EINVAL, "%s", err.message);
  wf_store_free(s);
  wst_rmdir(dir);
}

EVERY(lists_newest_first_with_filters_and_cursors) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_execution x[] = {exec_rec(ARN("1"), "1", 1),
                            exec_rec(ARN("2"), "2", 0),
                            exec_rec(ARN("3"), "3", 2),
                            exec_rec(ARN("4"), "4", 0)};
  x[2].machine_arn = MACHINE_ARN ":1"; /* started on version 1 */
  put_execs(s, x, 2);
  put_execs(s, x + 2, 2);
  wf_store_execution y = exec_rec("arn:other", "o", 0);
  y.machine_name = "N";
  put_execs(s, &y, 1);
  wf_store_query q = WF_STORE_QUERY_INIT;
  assert_listed(s, &q, "o,4,3,2,1");
  q.machine_name = "M";
  assert_listed(s, &q, "4,3,2,1");
  q.status = 0;
  assert_listed(s, &q, "4,2");
  q.status = -1;
  q.machine_arn = MACHINE_ARN ":1";
  assert_listed(s, &q, "3");
  q.machine_arn = NULL;
  /* Pages of two: the cursor is the last one's seq. */
  q.limit = 2;
  json_t *page = json_array();
  wf_store_list_executions(s, &q, wst_add_execution, page, NULL);
  cr_assert_eq(json_array_size(page), 2);
  q.before_seq = json_integer_value(
      json_object_get(json_array_get(page, 1), "seq"));
  json_decref(page);
  assert_listed(s, &q, "2,1");
  wf_store_free(s);
  wst_rmdir(dir);
}

EVERY(keeps_documents_by_kind_and_key) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_document d[] = {{"machine", "b", "{\"n\":1}", 0},
                           {"machine", "a", "{\"n\":2}", 0},
                           {"version", "a:1", "{}", 0}};
  wf_error err;
  cr_assert_eq(wf_store_put_documents(s, d, 3, &err), WF_OK, "%s",
               err.message);
  /* Replacing keeps the creation order; deleting takes it out. */
  wf_store_document upd = {"machine", "b", "{\"n\":3}", 0};
  cr_assert_eq(wf_store_put_documents(s, &upd, 1, &err), WF_OK);
  json_t *a = json_array();
  cr_assert_eq(wf_store_list_documents(s, "machine", 0, 0, wst_add_document,
                                       a, &err),
               WF_OK);
  cr_assert_eq(json_array_size(a), 2);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0),
                                                     "body")),
                   "{\"n\":3}");
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 1),
                                                     "key")),
                   "a");
  json_int_t first = json_integer_value(
      json_object_get(json_array_get(a, 0), "seq"));
  json_decref(a);
  a = json_array();
  wf_store_list_documents(s, "machine", first, 0, wst_add_document, a, NULL);
  cr_assert_eq(json_array_size(a), 1, "after_seq skips the first");
  json_decref(a);
  wf_store_document del = {"machine", "b", NULL, 0};
  cr_assert_eq(wf_store_put_documents(s, &del, 1, &err), WF_OK);
  a = json_array();
  cr_assert_eq(wf_store_get_document(s, "machine", "b", wst_add_document, a,
                                     &err),
               WF_ENOTFOUND);
  cr_assert_eq(wf_store_get_document(s, "version", "a:1", wst_add_document,
                                     a, &err),
               WF_OK);
  cr_assert_eq(json_array_size(a), 1);
  json_decref(a);
  wf_store_free(s);
  wst_rmdir(dir);
}

static int keep_def(const wf_store_definition *d, void *p) {
  *(json_t **)p = json_pack("{s:s,s:s,s:i,s:s,s:o}", "id", d->id, "name",
                            d->name, "type", d->type, "definition",
                            d->definition, "options", wst_str(d->options));
  return 0;
}

EVERY(writes_a_definition_once) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_definition d = {"d1", "M", 0, "{\"StartAt\":\"A\"}", NULL};
  wf_store_batch b = {.definitions = &d, .ndefinitions = 1};
  commit_ok(s, &b);
  wf_store_definition again = {"d1", "M", 0, "{\"changed\":1}", "{}"};
  b.definitions = &again;
  commit_ok(s, &b);
  json_t *got = NULL;
  cr_assert_eq(wf_store_get_definition(s, "d1", keep_def, &got, NULL), WF_OK);
  cr_assert_str_eq(json_string_value(json_object_get(got, "definition")),
                   "{\"StartAt\":\"A\"}");
  json_decref(got);
  wf_error err;
  cr_assert_eq(wf_store_get_definition(s, "d2", keep_def, &got, &err),
               WF_ENOTFOUND);
  wf_store_free(s);
  wst_rmdir(dir);
}

static char *all_names(wf_store *s) { return listed(s, NULL); }

EVERY(prunes_ended_executions_by_age_and_count_never_running_ones) {
  char *dir = wst_tmpdir();
  wf_store_options o = WF_STORE_OPTIONS_INIT;
  o.retention_ms = 2500; /* before now - 2500 */
  o.retention_count = 2;
  wf_store *s = wst_open(p->kind, dir, &o);
  wf_store_execution x[6];
  char arns[6][96], names[6][8];
  for (int i = 0; i < 6; i++) {
    snprintf(names[i], sizeof names[i], "%d", i);
    snprintf(arns[i], sizeof arns[i], ARN("%d"), i);
    x[i] = exec_rec(arns[i], names[i], i == 2 ? 0 : 1);
    x[i].stop_ms = i == 2 ? 0 : 1000 * (i + 1);
  }
  wf_store_event ev = {arns[0], 1, 0, 1, "ExecutionStarted", "{}"};
  wf_store_batch b = {.executions = x, .nexecutions = 6, .events = &ev,
                      .nevents = 1};
  commit_ok(s, &b);
  size_t pruned = 0;
  wf_error err;
  /* Age: "now" 5000 takes those that stopped before 2500: 0 and 1, one
   * at a time as asked. */
  cr_assert_eq(wf_store_prune(s, 5000, 1, &pruned, &err), WF_OK, "%s",
               err.message);
  cr_assert_eq(pruned, 1);
  cr_assert_eq(wf_store_prune(s, 5000, 1, &pruned, &err), WF_OK);
  cr_assert_eq(pruned, 1);
  char *names_left = all_names(s);
  cr_assert_str_eq(names_left, "5,4,3,2");
  free(names_left);
  assert_ids(s, arns[0], 0, false, 0, "");
  /* Count: three ended (3, 4, 5) are one over two; the running one
   * stays whatever its age. */
  cr_assert_eq(wf_store_prune(s, 5000, 0, &pruned, &err), WF_OK);
  cr_assert_eq(pruned, 1);
  names_left = all_names(s);
  cr_assert_str_eq(names_left, "5,4,2");
  free(names_left);
  cr_assert_eq(wf_store_prune(s, 1e12, 0, &pruned, &err), WF_OK);
  cr_assert_eq(pruned, 2);
  names_left = all_names(s);
  cr_assert_str_eq(names_left, "2");
  free(names_left);
  /* A pruned name is free again. */
  wf_store_execution again = exec_rec("arn:again", "0", 0);
  put_execs(s, &again, 1);
  wf_store_free(s);
  wst_rmdir(dir);
}

/* Whether a document is there. */
static bool has_document(wf_store *s, const char *kind, const char *key) {
  json_t *a = json_array();
  int rc = wf_store_get_document(s, kind, key, wst_add_document, a, NULL);
  json_decref(a);
  return rc == WF_OK;
}

EVERY(prunes_the_documents_an_execution_owns_with_it) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_execution x[2] = {exec_rec(ARN("ended"), "ended", 1),
                             exec_rec(ARN("running"), "running", 0)};
  wf_store_document docs[4] = {{"run", "of-ended", "{}", 0},
                               {"run", "of-running", "{}", 0},
                               {"run", "nobody's", "{}", 0},
                               {"child", "of-ended", "{}", 0}};
  const char *owners[4] = {ARN("ended"), ARN("running"), NULL, ARN("ended")};
  wf_store_batch b = {.executions = x, .nexecutions = 2, .documents = docs,
                      .ndocuments = 4, .document_owners = owners};
  commit_ok(s, &b);
  /* Written again without an owner (wf_store_put_documents): still owned. */
  wf_store_document again = {"run", "of-ended", "{\"v\":2}", 0};
  wf_error err;
  cr_assert_eq(wf_store_put_documents(s, &again, 1, &err), WF_OK, "%s",
               err.message);
  /* An owner the store does not have: nothing of the batch is applied. */
  wf_store_document stray = {"run", "stray", "{}", 0};
  const char *unknown = ARN("unknown");
  wf_store_execution y = exec_rec(ARN("new"), "new", 1);
  wf_store_batch bad = {.executions = &y, .nexecutions = 1,
                        .documents = &stray, .ndocuments = 1,
                        .document_owners = &unknown};
  cr_assert_eq(wf_store_commit(s, &bad, &err), WF_EINVAL);
  cr_assert(strstr(err.message, "unknown execution"), "%s", err.message);
  cr_assert(!has_document(s, "run", "stray"));
  json_t *none = wst_execution(s, ARN("new"));
  cr_assert_null(none, "a refused batch was applied in part");
  size_t pruned = 0;
  cr_assert_eq(wf_store_prune(s, 1e12, 0, &pruned, &err), WF_OK, "%s",
               err.message);
  cr_assert_eq(pruned, 1);
  cr_assert(!has_document(s, "run", "of-ended"));
  cr_assert(!has_document(s, "child", "of-ended"));
  cr_assert(has_document(s, "run", "of-running"));
  cr_assert(has_document(s, "run", "nobody's"));
  wf_store_free(s);
  wst_rmdir(dir);
}

/* ---- SQLite only ---- */

static int count_rows(const wf_store_execution *x, void *p) {
  (void)x;
  (*(int *)p)++;
  return 0;
}

static int open_sqlite(wf_store **s, const char *path, bool read_only,
                       wf_error *err) {
  wf_store_options o = WF_STORE_OPTIONS_INIT;
  o.read_only = read_only;
  return wf_store_sqlite_open(s, path, &o, err);
}

DURABLE(keeps_everything_across_reopening) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_execution x = exec_rec(ARN("d"), "d", 0);
  wf_store_event ev = {ARN("d"), 1, 0, 5, "ExecutionStarted", "{\"id\":1}"};
  wf_store_document doc = {"machine", "M", "{}", 0};
  wf_store_batch b = {.executions = &x, .nexecutions = 1, .events = &ev,
                      .nevents = 1, .documents = &doc, .ndocuments = 1};
  commit_ok(s, &b);
  wf_store_free(s);
  s = wst_open(p->kind, dir, NULL);
  cr_assert(wf_store_is_durable(s));
  json_t *got = wst_execution(s, ARN("d"));
  cr_assert_not_null(got, "the execution did not survive");
  cr_assert_str_eq(json_string_value(json_object_get(got, "state")),
                   "{\"frames\":[]}");
  json_decref(got);
  assert_ids(s, ARN("d"), 0, false, 0, "1");
  json_t *a = json_array();
  cr_assert_eq(wf_store_get_document(s, "machine", "M", wst_add_document, a,
                                     NULL),
               WF_OK);
  json_decref(a);
  wf_store_free(s);
  wst_rmdir(dir);
}

static off_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_size : 0;
}

/* A writer that never pauses still gets its WAL copied into the database
 * and started over: the WAL stays within bounds (it grew without end
 * before, as a checkpoint never ran on a connection that had not read the
 * file, and a busy writer never let the WAL start over). */
Test(store, sqlite_wal_stays_bounded_under_continuous_writes) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open("sqlite", dir, NULL);
  char *wal = wst_path(dir, "store.db-wal");
  enum { BATCH = 100, BATCHES = 300 }; /* 30,000 events of 4 KB: 120 MB */
  char *payload = malloc(4001);
  memset(payload, 'x', 4000);
  payload[0] = '{';
  payload[4000] = '\0';
  wf_store_execution x[BATCH];
  wf_store_event ev[BATCH];
  char arns[BATCH][96], names[BATCH][16];
  off_t largest = 0;
  for (int r = 0; r < BATCHES; r++) {
    for (int i = 0; i < BATCH; i++) {
      snprintf(names[i], sizeof names[i], "%d", r * BATCH + i);
      snprintf(arns[i], sizeof arns[i], ARN("%d"), r * BATCH + i);
      x[i] = exec_rec(arns[i], names[i], 1);
      ev[i] = (wf_store_event){arns[i], 1, 0, 1, "ExecutionStarted", payload};
    }
    wf_store_batch b = {.executions = x, .nexecutions = BATCH, .events = ev,
                        .nevents = BATCH};
    commit_ok(s, &b);
    off_t n = file_size(wal);
    if (n > largest) largest = n;
  }
  /* Started over at 8,000 pages (32 MB) and cut back to 64 MB at most. */
  cr_assert_lt(largest, (off_t)72 << 20, "the WAL grew to %lld bytes",
               (long long)largest);
  char *db = wst_path(dir, "store.db");
  cr_assert_gt(file_size(db), (off_t)64 << 20,
               "the WAL was not copied into the database");
  free(db);
  assert_ids(s, ARN("0"), 0, false, 0, "1");
  free(payload);
  free(wal);
  wf_store_free(s);
  wst_rmdir(dir);
}

/* Open a durable store in the test directory (not asserting). */
static int open_kind(const char *kind, const char *dir, bool read_only,
                     wf_store **s, wf_error *err) {
  if (strcmp(kind, "sqlite") == 0) {
    char *path = wst_path(dir, "store.db");
    int rc = open_sqlite(s, path, read_only, err);
    free(path);
    return rc;
  }
  char *conninfo = wst_pg_conninfo(dir);
  wf_store_options o = WF_STORE_OPTIONS_INIT;
  o.read_only = read_only;
  wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
  po.store = &o;
  int rc = wf_store_postgres_open(s, conninfo, &po, err);
  free(conninfo);
  return rc;
}

DURABLE(has_one_writer_and_any_number_of_readers) {
  char *dir = wst_tmpdir();
  wf_store *w = wst_open(p->kind, dir, NULL);
  wf_store *other = NULL;
  wf_error err;
  cr_assert_eq(open_kind(p->kind, dir, false, &other, &err), WF_EBUSY);
  cr_assert(strstr(err.message, "in use by another process"), "%s",
            err.message);
  cr_assert_null(other);
  wf_store *r = NULL;
  cr_assert_eq(open_kind(p->kind, dir, true, &r, &err), WF_OK, "%s",
               err.message);
  wf_store_execution x = exec_rec(ARN("r"), "r", 1);
  put_execs(w, &x, 1);
  json_t *got = wst_execution(r, ARN("r"));
  cr_assert_not_null(got, "a reader does not see the writer's commit");
  json_decref(got);
  cr_assert_eq(wf_store_commit(r, &(wf_store_batch){0}, &err), WF_EPERM);
  wf_store_free(r);
  /* Once the writer has gone, another may write. */
  wf_store_free(w);
  cr_assert_eq(open_kind(p->kind, dir, false, &other, &err), WF_OK, "%s",
               err.message);
  wf_store_free(other);
  wst_rmdir(dir);
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(data, 1, n, f), n);
  fclose(f);
}

static void assert_refused(const char *path, int code, const char *words) {
  wf_store *s = NULL;
  wf_error err;
  int rc = open_sqlite(&s, path, false, &err);
  if (rc == WF_OK) {
    /* Damage past the header shows on the first read instead. */
    rc = wf_store_list_executions(s, NULL, wst_add_execution, NULL, &err);
    wf_store_free(s);
  }
  cr_assert_eq(rc, code, "%s: %s (%s)", path, wf_error_name(rc), err.message);
  cr_assert(strstr(err.message, words), "%s", err.message);
  cr_assert(strstr(err.message, path), "the message names no file: %s",
            err.message);
}

Test(store, sqlite_refuses_a_file_that_is_not_a_store) {
  char *dir = wst_tmpdir();
  char *path = wst_path(dir, "junk.db");
  char junk[8192];
  memset(junk, 'x', sizeof junk);
  write_file(path, junk, sizeof junk);
  assert_refused(path, WF_ECORRUPT, "not a libworkflow store");
  /* A SQLite database of someone else's. */
  char *foreign = wst_path(dir, "foreign.db");
  sqlite3 *db;
  cr_assert_eq(sqlite3_open(foreign, &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL),
               SQLITE_OK);
  sqlite3_close(db);
  assert_refused(foreign, WF_ECORRUPT, "not a libworkflow store");
  free(foreign);
  free(path);
  wst_rmdir(dir);
}

/* EXPRESS executions may share a name (AWS starts another); others may
 * not. */
#define XARN(id) "arn:aws:states:us-east-1:123456789012:express:M:n:" id
EVERY(express_names_may_repeat) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  wf_store_execution x[2] = {exec_rec(XARN("1"), "n", 1),
                             exec_rec(XARN("2"), "n", 0)};
  put_execs(s, x, 2);
  json_t *got = wst_execution(s, XARN("2"));
  cr_assert_not_null(got);
  json_decref(got);
  wf_store_execution y[2] = {exec_rec(ARN("n"), "n", 0),
                             exec_rec(ARN("n2"), "n", 0)};
  put_execs(s, y, 1);
  wf_store_batch b = {.executions = &y[1], .nexecutions = 1};
  wf_error err;
  cr_assert_eq(wf_store_commit(s, &b, &err), WF_EEXIST);
  wf_store_free(s);
  wst_rmdir(dir);
}

/* A store written before EXPRESS names could repeat (schema version 1)
 * is brought up to date when opened for writing. */
Test(store, sqlite_migrates_a_version_1_store) {
  char *dir = wst_tmpdir();
  char *path = wst_path(dir, "store.db");
  wf_store *s = wst_open("sqlite", dir, NULL);
  wf_store_execution x = exec_rec(XARN("1"), "n", 1);
  put_execs(s, &x, 1);
  wf_store_free(s);
  sqlite3 *db;
  cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db,
                            "DROP INDEX executions_by_name;"
                            "CREATE UNIQUE INDEX executions_by_name ON "
                            "executions(machine_name, name);"
                            "DROP INDEX documents_by_owner;"
                            "ALTER TABLE documents DROP COLUMN owner;"
                            "PRAGMA user_version=1",
                            NULL, NULL, NULL),
               SQLITE_OK);
  sqlite3_close(db);
  s = wst_open("sqlite", dir, NULL);
  x = exec_rec(XARN("2"), "n", 1);
  /* Version 3's owners of documents work on the migrated file. */
  wf_store_document doc = {"run", "r", "{}", 0};
  const char *owner = XARN("2");
  wf_store_batch b = {.executions = &x, .nexecutions = 1, .documents = &doc,
                      .ndocuments = 1, .document_owners = &owner};
  commit_ok(s, &b);
  size_t pruned = 0;
  cr_assert_eq(wf_store_prune(s, 1e12, 0, &pruned, NULL), WF_OK);
  cr_assert_eq(pruned, 2);
  cr_assert(!has_document(s, "run", "r"));
  wf_store_free(s);
  cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL),
               SQLITE_OK);
  cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
  cr_assert_eq(sqlite3_column_int(st, 0), 3);
  sqlite3_finalize(st);
  sqlite3_close(db);
  free(path);
  wst_rmdir(dir);
}

Test(store, sqlite_refuses_a_store_from_a_newer_version) {
  char *dir = wst_tmpdir();
  char *path = wst_path(dir, "store.db");
  wf_store_free(wst_open("sqlite", dir, NULL));
  sqlite3 *db;
  cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
  cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL),
               SQLITE_OK);
  sqlite3_close(db);
  assert_refused(path, WF_EVERSION, "newer libworkflow");
  free(path);
  wst_rmdir(dir);
}

Test(store, sqlite_reports_a_truncated_store_never_crashes) {
  char *dir = wst_tmpdir();
  char *path = wst_path(dir, "store.db");
  wf_store *s = wst_open("sqlite", dir, NULL);
  /* Enough rows for several pages, then checkpointed into the file. */
  char arns[200][96], names[200][8];
  wf_store_execution x[200];
  for (int i = 0; i < 200; i++) {
    snprintf(names[i], sizeof names[i], "%d", i);
    snprintf(arns[i], sizeof arns[i], ARN("%d"), i);
    x[i] = exec_rec(arns[i], names[i], 1);
  }
  put_execs(s, x, 200);
  wf_store_free(s);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_gt(st.st_size, 8192);
  cr_assert_eq(truncate(path, st.st_size / 2), 0);
  assert_refused(path, WF_ECORRUPT, "damaged");
  free(path);
  wst_rmdir(dir);
}

/* An ended execution ARN("c") with one event. */
static void commit_ended_c(wf_store *s) {
  wf_store_execution x = exec_rec(ARN("c"), "c", 1);
  wf_store_event ev = {ARN("c"), 1, 0, 5, "ExecutionStarted", "{\"id\":1}"};
  wf_store_batch b = {.executions = &x, .nexecutions = 1, .events = &ev,
                      .nevents = 1};
  commit_ok(s, &b);
}

/* A history chunk damaged inside a sound file (emptied, or cut short) is
 * a named error when read, never a crash (an empty one reached the decoder
 * as a NULL pointer; found by fuzzing). */
Test(store, sqlite_reports_a_damaged_history_chunk) {
  char *dir = wst_tmpdir();
  char *path = wst_path(dir, "store.db");
  wf_store *s = wst_open("sqlite", dir, NULL);
  commit_ended_c(s);
  wf_store_free(s);
  /* Cut short, then emptied. */
  static const char *const damage[] = {
      "UPDATE events SET data = substr(data, 1, length(data) - 3)",
      "UPDATE events SET data = zeroblob(0)"};
  for (size_t i = 0; i < 2; i++) {
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, damage[i], NULL, NULL, NULL), SQLITE_OK,
                 "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    s = wst_open("sqlite", dir, NULL);
    wf_error err;
    cr_assert_eq(wf_store_read_events(s, ARN("c"), 0, false, 0, wst_add_event,
                                      NULL, &err),
                 WF_ECORRUPT, "%s", damage[i]);
    cr_assert(strstr(err.message, "does not decode"), "%s", err.message);
    wf_store_free(s);
  }
  free(path);
  wst_rmdir(dir);
}

Test(store, sqlite_names_a_directory_it_cannot_use) {
  wf_store *s = NULL;
  wf_error err;
  int rc = open_sqlite(&s, "/nonexistent-dir/store.db", false, &err);
  cr_assert_eq(rc, WF_EIO);
  cr_assert(strstr(err.message, "/nonexistent-dir/store.db"), "%s",
            err.message);
  rc = open_sqlite(&s, "/nonexistent-dir/store.db", true, &err);
  cr_assert_eq(rc, WF_EIO, "%s", wf_error_name(rc));
}

/* Commit 32 KB executions until the disk is full; then what was committed
 * is all there. 0, or the failing step. */
static int fill_until_full(wf_store *s, const char *path) {
  wf_error err;
  static char big[32768];
  memset(big, 'a', sizeof big - 1);
  int rc = WF_OK, committed = 0;
  for (int i = 0; i < 1000 && rc == WF_OK; i++) {
    char arn[96], name[16];
    snprintf(arn, sizeof arn, ARN("%d"), i);
    snprintf(name, sizeof name, "%d", i);
    wf_store_execution x = exec_rec(arn, name, 0);
    x.input = big;
    wf_store_batch b = {.executions = &x, .nexecutions = 1};
    rc = wf_store_commit(s, &b, &err);
    if (rc == WF_OK) committed++;
  }
  if (rc != WF_ENOSPC || !strstr(err.message, "no space left")) {
    fprintf(stderr, "got %s: %s\n", wf_error_name(rc), err.message);
    wf_store_free(s);
    return 4;
  }
  wf_store_free(s);
  /* What was committed before is all there. */
  if (open_sqlite(&s, path, true, &err) != WF_OK) return 5;
  int n = 0;
  int listed = wf_store_list_executions(s, NULL, count_rows, &n, &err);
  wf_store_free(s);
  if (listed != WF_OK) return 6;
  return n == committed && committed > 0 ? 0 : 7;
}

/* In a child with a mount namespace of its own: a 1 MiB tmpfs fills up.
 * Exit codes: 0 as expected, 2 no namespace here (skipped), else the
 * failing step. */
static int fill_a_small_disk(const char *mnt) {
  if (unshare(CLONE_NEWNS) != 0 ||
      /* the type is ignored for a propagation change; not NULL, which a
       * memory checker would take for a bad pointer */
      mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0)
    return 2;
  char *path = wst_path(mnt, "store.db");
  wf_store *s = NULL;
  wf_error err;
  int step = 0;
  if (open_sqlite(&s, path, false, &err) != WF_OK) step = 3;
  if (!step) step = fill_until_full(s, path);
  free(path);
  return step;
}

Test(store, sqlite_reports_a_full_disk_and_loses_nothing_committed) {
  char *dir = wst_tmpdir();
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    int step = fill_a_small_disk(dir);
    free(dir); /* nothing left for a leak checker to report */
    _exit(step);
  }
  int status;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status), "the child died: %d", status);
  if (WEXITSTATUS(status) == 2) {
    wst_rmdir(dir);
    cr_skip("no mount namespace for a small tmpfs here");
  }
  cr_assert_eq(WEXITSTATUS(status), 0, "step %d failed",
               WEXITSTATUS(status));
  wst_rmdir(dir);
}

/* A batch much longer than PostgreSQL's pipeline window (256 statements
 * read back at a time) goes in whole, and a refused one is refused whole
 * even when what refuses it comes last. */
EVERY(commits_a_large_batch_all_or_nothing) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open(p->kind, dir, NULL);
  enum { N = 1500 };
  static char arns[N + 1][96], names[N + 1][16];
  static wf_store_execution x[N + 1];
  static wf_store_event ev[2 * N];
  for (int i = 0; i <= N; i++) {
    snprintf(names[i], sizeof names[i], "%d", i);
    snprintf(arns[i], sizeof arns[i], ARN("%d"), i);
    x[i] = exec_rec(arns[i], names[i], i % 2);
  }
  for (int i = 0; i < N; i++) {
    ev[2 * i] = (wf_store_event){arns[i], 1, 0, 1, "ExecutionStarted",
                                 "{\"a\":1}"};
    ev[2 * i + 1] = (wf_store_event){arns[i], 2, 1, 2, "PassStateEntered",
                                     "{\"a\":1,\"b\":2}"};
  }
  wf_store_batch b = {.executions = x, .nexecutions = N, .events = ev,
                      .nevents = 2 * N};
  commit_ok(s, &b);
  int n = 0;
  cr_assert_eq(wf_store_list_executions(s, NULL, count_rows, &n, NULL),
               WF_OK);
  cr_assert_eq(n, N);
  assert_ids(s, arns[N - 1], 0, false, 0, "1,2");
  /* The same again with one more whose name is taken: nothing of it. */
  for (int i = 0; i < N; i++) {
    snprintf(arns[i], sizeof arns[i], ARN("again-%d"), i);
    snprintf(names[i], sizeof names[i], "again-%d", i);
  }
  x[N] = exec_rec(ARN("last"), "0", 0); /* "0" was taken above */
  wf_store_batch again = {.executions = x, .nexecutions = N + 1};
  wf_error err;
  cr_assert_eq(wf_store_commit(s, &again, &err), WF_EEXIST, "%s",
               err.message);
  n = 0;
  cr_assert_eq(wf_store_list_executions(s, NULL, count_rows, &n, NULL),
               WF_OK);
  cr_assert_eq(n, N, "a refused batch was partly applied");
  /* The store works on after a refusal. */
  put_execs(s, x, 1);
  wf_store_free(s);
  wst_rmdir(dir);
}

/* ---- PostgreSQL only ---- */

/* Readers on connections of their own run while the writer commits. */
typedef struct reading {
  wf_store *s;
  int rounds, failures;
} reading;

static void *read_while_writing(void *arg) {
  reading *r = arg;
  for (int i = 0; i < r->rounds; i++) {
    int n = 0;
    if (wf_store_list_executions(r->s, NULL, count_rows, &n, NULL) != WF_OK)
      r->failures++;
  }
  return NULL;
}

Test(store, postgres_reads_run_beside_commits) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open("postgres", dir, NULL);
  pthread_t t[3];
  reading rd[3];
  for (int i = 0; i < 3; i++) {
    rd[i] = (reading){s, 200, 0};
    cr_assert_eq(pthread_create(&t[i], NULL, read_while_writing, &rd[i]), 0);
  }
  for (int i = 0; i < 200; i++) {
    char arn[96], name[16];
    snprintf(arn, sizeof arn, ARN("%d"), i);
    snprintf(name, sizeof name, "%d", i);
    wf_store_execution x = exec_rec(arn, name, 0);
    wf_store_event ev = {arn, 1, 0, 1, "ExecutionStarted", "{}"};
    wf_store_batch b = {.executions = &x, .nexecutions = 1, .events = &ev,
                        .nevents = 1};
    commit_ok(s, &b);
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    cr_assert_eq(rd[i].failures, 0);
  }
  wf_store_free(s);
  wst_rmdir(dir);
}

/* A database of schema version 1 (before work sharing): read-only it is
 * refused until a writer has migrated it; a writer migrates it, and it
 * keeps what it held. */
Test(store, postgres_migrates_a_version_1_schema) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open("postgres", dir, NULL);
  wf_store_execution x = {.arn = ARN("kept"), .name = "kept",
                          .machine_name = "M", .status = WF_EXEC_SUCCEEDED,
                          .start_ms = 1, .stop_ms = 2, .input = "{}",
                          .output = "{}"};
  wf_store_batch b = {.executions = &x, .nexecutions = 1};
  wf_error err;
  cr_assert_eq(wf_store_commit(s, &b, &err), WF_OK, "%s", err.message);
  wf_store_free(s);
  cr_assert(wpg_exec(wst_pg_name(dir),
                     "DROP FUNCTION wf_fenced; DROP FUNCTION wf_inserted;"
                     " DROP FUNCTION wf_now_ms; DROP TABLE wf_workers;"
                     " DROP INDEX wf_executions_by_owner;"
                     " DROP FUNCTION wf_owner;"
                     " ALTER TABLE wf_documents DROP COLUMN owner;"
                     " DROP INDEX wf_executions_unclaimed_work;"
                     " DROP INDEX wf_documents_by_kind;"
                     " ALTER TABLE wf_executions DROP COLUMN work;"
                     " DELETE FROM wf_schema_version WHERE version >= 2"));
  cr_assert_eq(open_kind("postgres", dir, true, &s, &err), WF_EVERSION);
  cr_assert(strstr(err.message, "schema version 1"), "%s", err.message);
  cr_assert_eq(open_kind("postgres", dir, false, &s, &err), WF_OK, "%s",
               err.message);
  wf_store_free(s);
  cr_assert_eq(open_kind("postgres", dir, true, &s, &err), WF_OK, "%s",
               err.message);
  json_t *kept = wst_execution(s, ARN("kept"));
  cr_assert_not_null(kept);
  json_decref(kept);
  wf_store_free(s);
  /* Version 3's owners of documents work on the migrated schema. */
  s = wst_open("postgres", dir, NULL);
  wf_store_document doc = {"run", "r", "{}", 0};
  const char *owner = ARN("kept");
  wf_store_batch owned = {.documents = &doc, .ndocuments = 1,
                          .document_owners = &owner};
  cr_assert_eq(wf_store_commit(s, &owned, &err), WF_OK, "%s", err.message);
  size_t pruned = 0;
  cr_assert_eq(wf_store_prune(s, 1e12, 0, &pruned, &err), WF_OK, "%s",
               err.message);
  cr_assert_eq(pruned, 1);
  cr_assert(!has_document(s, "run", "r"));
  wf_store_free(s);
  /* Shared, on the migrated schema. */
  char *conninfo = wst_pg_conninfo(dir);
  wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
  po.shared = true;
  cr_assert_eq(wf_store_postgres_open(&s, conninfo, &po, &err), WF_OK, "%s",
               err.message);
  wf_store_free(s);
  free(conninfo);
  wst_rmdir(dir);
}

Test(store, postgres_refuses_a_store_from_a_newer_version) {
  char *dir = wst_tmpdir();
  wf_store_free(wst_open("postgres", dir, NULL));
  cr_assert(wpg_exec(wst_pg_name(dir),
                     "INSERT INTO wf_schema_version(version) VALUES(99)"));
  wf_store *s = NULL;
  wf_error err;
  cr_assert_eq(open_kind("postgres", dir, false, &s, &err), WF_EVERSION, "%s",
               err.message);
  cr_assert(strstr(err.message, "newer libworkflow") &&
                strstr(err.message, "schema version 99") &&
                strstr(err.message, "reads up to 4"),
            "%s", err.message);
  cr_assert(strstr(err.message, wst_pg_name(dir)),
            "the message names no database: %s", err.message);
  cr_assert_eq(open_kind("postgres", dir, true, &s, &err), WF_EVERSION);
  wst_rmdir(dir);
}

Test(store, postgres_refuses_a_database_that_is_not_a_store) {
  char *dir = wst_tmpdir();
  wf_store *s = NULL;
  wf_error err;
  /* Empty: nothing to read. */
  cr_assert_eq(open_kind("postgres", dir, true, &s, &err), WF_ENOTFOUND, "%s",
               err.message);
  cr_assert(strstr(err.message, "empty"), "%s", err.message);
  /* Someone else's table of the same name. */
  cr_assert(wpg_exec(wst_pg_name(dir), "CREATE TABLE wf_executions(x int)"));
  cr_assert_eq(open_kind("postgres", dir, false, &s, &err), WF_ECORRUPT, "%s",
               err.message);
  cr_assert(strstr(err.message, "not a libworkflow store"), "%s",
            err.message);
  cr_assert_null(s);
  wst_rmdir(dir);
}

/* Rows damaged behind the store's back are named errors when read, never
 * crashes: a history chunk cut short or emptied, an unknown status, a
 * missing number. */
Test(store, postgres_reports_damaged_rows) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open("postgres", dir, NULL);
  commit_ended_c(s);
  const char *db = wst_pg_name(dir);
  static const char *const chunks[] = {
      "UPDATE wf_events SET data = substring(data FROM 1 FOR length(data)-3)",
      "UPDATE wf_events SET data = ''::bytea",
      "UPDATE wf_events SET data = '\\x01ffffffffffffffffff'::bytea"};
  wf_error err;
  for (size_t i = 0; i < 3; i++) {
    cr_assert(wpg_exec(db, chunks[i]));
    cr_assert_eq(wf_store_read_events(s, ARN("c"), 0, false, 0, wst_add_event,
                                      NULL, &err),
                 WF_ECORRUPT, "%s", chunks[i]);
    cr_assert(strstr(err.message, "does not decode") &&
                  strstr(err.message, "damaged"),
              "%s", err.message);
  }
  cr_assert(wpg_exec(db, "UPDATE wf_executions SET status = 42"));
  cr_assert_eq(wf_store_get_execution(s, ARN("c"), wst_add_execution, NULL,
                                      &err),
               WF_ECORRUPT);
  cr_assert(strstr(err.message, "unknown status 42"), "%s", err.message);
  cr_assert_eq(wf_store_list_executions(s, NULL, wst_add_execution, NULL,
                                        &err),
               WF_ECORRUPT);
  cr_assert(wpg_exec(db, "ALTER TABLE wf_executions ALTER start_ms DROP NOT"
                         " NULL; UPDATE wf_executions SET status = 1,"
                         " start_ms = NULL"));
  cr_assert_eq(wf_store_get_execution(s, ARN("c"), wst_add_execution, NULL,
                                      &err),
               WF_ECORRUPT);
  cr_assert(strstr(err.message, "has no start_ms"), "%s", err.message);
  wf_store_free(s);
  wst_rmdir(dir);
}

/* A database it cannot reach, or a password refused: a clear error with
 * libpq's reason, and the password in no message. */
Test(store, postgres_names_what_it_cannot_reach_never_the_password) {
  wf_store *s = NULL;
  wf_error err;
  static const char *const unreachable[] = {
      "host=/nonexistent-dir dbname=wf user=u password=hunter2-secret",
      "postgresql://u:hunter2-secret@/wf?host=/nonexistent-dir"};
  for (size_t i = 0; i < 2; i++) {
    cr_assert_eq(wf_store_postgres_open(&s, unreachable[i], NULL, &err),
                 WF_EIO);
    cr_assert(strstr(err.message, "cannot connect") &&
                  strstr(err.message, "/nonexistent-dir"),
              "%s", err.message);
    cr_assert_null(strstr(err.message, "hunter2"), "%s", err.message);
    cr_assert_null(s);
  }
  /* A string that does not parse: its tokens are left out. */
  cr_assert_eq(wf_store_postgres_open(&s, "host=x hunter2-secret", NULL,
                                      &err),
               WF_EINVAL);
  cr_assert(strstr(err.message, "does not parse"), "%s", err.message);
  cr_assert_null(strstr(err.message, "hunter2"), "%s", err.message);
  /* The role that must give its password (pg_server.sh's wf_secret). */
  char *dir = wst_tmpdir();
  char *conninfo = wst_pg_conninfo(dir);
  char *sql = wft_strf("ALTER DATABASE \"%s\" OWNER TO wf_secret",
                       wst_pg_name(dir));
  cr_assert(wpg_exec("postgres", sql));
  free(sql);
  char *as = wft_strf("%s user=wf_secret", conninfo);
  wf_store_postgres_options po = WF_STORE_POSTGRES_OPTIONS_INIT;
  po.password = "wrong-pw-hunter2";
  cr_assert_eq(wf_store_postgres_open(&s, as, &po, &err), WF_EIO);
  cr_assert(strstr(err.message, "password authentication failed"), "%s",
            err.message);
  cr_assert_null(strstr(err.message, "hunter2"), "%s", err.message);
  po.password = WPG_SECRET_PASSWORD;
  cr_assert_eq(wf_store_postgres_open(&s, as, &po, &err), WF_OK, "%s",
               err.message);
  wf_store_execution x = exec_rec(ARN("pw"), "pw", 0);
  put_execs(s, &x, 1);
  wf_store_free(s);
  free(as);
  free(conninfo);
  wst_rmdir(dir);
}

Test(store, postgres_options_are_versioned) {
  wf_store_postgres_options po;
  cr_assert_eq(wf_store_postgres_options_init(&po, 99), WF_EVERSION);
  cr_assert_eq(wf_store_postgres_options_init(&po,
                                              WF_STORE_POSTGRES_OPTIONS_VERSION),
               WF_OK);
  po.version = 99;
  wf_store *s = NULL;
  wf_error err;
  cr_assert_eq(wf_store_postgres_open(&s, "dbname=x", &po, &err),
               WF_EVERSION);
  cr_assert(strstr(err.message, "wf_store_postgres_options"), "%s",
            err.message);
}

/* The server drops the store's connections (a restart, an administrator):
 * a read opens its connection again and succeeds; a commit caught on a
 * dropped connection fails (whether it was applied is not known to the
 * store), and the next opens the writer's connection again, taking its
 * lock back. */
Test(store, postgres_opens_dropped_connections_again) {
  char *dir = wst_tmpdir();
  wf_store *s = wst_open("postgres", dir, NULL);
  wf_store_execution x[2] = {exec_rec(ARN("a"), "a", 1),
                             exec_rec(ARN("b"), "b", 1)};
  put_execs(s, x, 1);
  char *sql = wft_strf("SELECT pg_terminate_backend(pid) FROM"
                       " pg_stat_activity WHERE datname = '%s'",
                       wst_pg_name(dir));
  cr_assert(wpg_exec("postgres", sql));
  free(sql);
  usleep(200 * 1000); /* the backends go asynchronously */
  json_t *got = wst_execution(s, ARN("a"));
  cr_assert_not_null(got, "a read after the connections were dropped");
  json_decref(got);
  wf_store_batch b = {.executions = x + 1, .nexecutions = 1};
  wf_error err;
  int rc = wf_store_commit(s, &b, &err);
  cr_log_info("a commit on the dropped connection: %s", wf_error_name(rc));
  if (rc != WF_OK) {
    cr_assert_eq(rc, WF_EIO, "%s", err.message);
    cr_assert(strstr(err.message, "committing"), "%s", err.message);
    commit_ok(s, &b);
  }
  got = wst_execution(s, ARN("b"));
  cr_assert_not_null(got);
  json_decref(got);
  wf_store *other = NULL;
  cr_assert_eq(open_kind("postgres", dir, false, &other, &err), WF_EBUSY,
               "the writer did not take its lock back");
  wf_store_free(s);
  wst_rmdir(dir);
}

/* A writer closed and opened again at once (an engine restarted) is not
 * refused as a second writer: PostgreSQL's server process of the closed
 * one may still hold its lock for a moment (a race the durable tests
 * lost under the sanitizers). */
DURABLE(opens_again_at_once_after_closing) {
  char *dir = wst_tmpdir();
  for (int i = 0; i < 20; i++) wf_store_free(wst_open(p->kind, dir, NULL));
  wst_rmdir(dir);
}
