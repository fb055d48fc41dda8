/* Executions in the store: DescribeExecution, ListExecutions (by machine,
 * version or alias, status and redrive filters, newest first, paged),
 * StopExecution, RedriveExecution and DescribeStateMachineForExecution. An execution keeps the version (and
 * the alias) it started with and says so (stateMachineVersionArn,
 * stateMachineAliasArn). */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

static const char *const INCLUDED[] = {"ALL_DATA", "METADATA_ONLY", NULL};
static const char *const STATUSES[] = {
    "RUNNING", "SUCCEEDED",       "FAILED", "TIMED_OUT",
    "ABORTED", "PENDING_REDRIVE", NULL};
static const char *const REDRIVE[] = {"REDRIVEN", "NOT_REDRIVEN", NULL};

#define LIST_DEFAULT 100
/* A status no execution has: PENDING_REDRIVE (a redrive here starts at
 * once). */
#define NO_STATUS 99
/* AWS answers a redrive's clientToken again for the last 10 tokens of an
 * execution, for 15 minutes after each was first used. */
#define REDRIVE_TOKENS 10
#define REDRIVE_TOKEN_MS (15 * 60 * 1000LL)
#define TOKEN_KIND "redriveTokens"

gw_exec_rec *gw_sfn_find_execution(gw_sfn_call *c, const char *arn) {
  if (!gw_sfn_check_execution_arn(c, arn)) return NULL;
  gw_store *s = c->g->store;
  gw_exec_rec *x = s->ops->find_execution(s, arn);
  if (!x)
    gw_sfn_fail(c, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'",
                arn);
  return x;
}

/* AWS's reason not to redrive an execution whose machine is being
 * deleted (it waits for its running executions), else the engine's. */
static const char *redrive_reason(gw_sfn_call *c, const gw_exec_rec *x) {
  gw_store *s = c->g->store;
  gw_machine_rec *m = s->ops->find_machine(s, x->machine_arn);
  bool deleting = m && m->deleting;
  if (m) s->ops->release_machine(s, m);
  if (deleting && x->status != WF_EXEC_RUNNING &&
      x->status != WF_EXEC_SUCCEEDED)
    return "State machine is in DELETING status";
  return x->redrive_reason;
}

/* The members an execution shows in a list and in a description. */
static json_t *summary(const gw_exec_rec *x) {
  wf_exec_status st = x->status;
  json_t *o =
      json_pack("{s:s, s:s, s:s, s:s, s:o}", "executionArn", x->arn,
                "stateMachineArn", x->machine_arn, "name", x->name, "status",
                gw_sfn_status_name(st), "startDate", gw_sfn_time(x->start_ms));
  if (o && st != WF_EXEC_RUNNING)
    json_object_set_new(o, "stopDate", gw_sfn_time(x->stop_ms));
  if (o && x->version_arn)
    json_object_set_new(o, "stateMachineVersionArn",
                        json_string(x->version_arn));
  if (o && x->alias_arn)
    json_object_set_new(o, "stateMachineAliasArn", json_string(x->alias_arn));
  if (o) json_object_set_new(o, "redriveCount", json_integer(x->redrive_count));
  if (o && x->redrive_count)
    json_object_set_new(o, "redriveDate", gw_sfn_time(x->redrive_ms));
  return o;
}

void gw_sfn_describe_execution(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "executionArn", true, 1, 256);
  const char *included = gw_sfn_enum(&p, "includedData", INCLUDED);
  if (gw_sfn_params_failed(&p, c)) return;
  bool data = !included || strcmp(included, "ALL_DATA") == 0;
  if (!gw_sfn_check_execution_arn(c, arn) ||
      gw_sfn_describe_map_run_child(c, arn, data))
    return;
  gw_exec_rec *x = gw_sfn_find_execution(c, arn);
  if (!x) return;
  json_t *o = summary(x);
  if (o && data) json_object_set_new(o, "input", json_string(x->input));
  if (o)
    json_object_set_new(o, "inputDetails",
                        json_pack("{s:b}", "included", data));
  if (o && x->status == WF_EXEC_SUCCEEDED) {
    if (data && x->output)
      json_object_set_new(o, "output", json_string(x->output));
    json_object_set_new(o, "outputDetails",
                        json_pack("{s:b}", "included", data));
  }
  if (o && x->error) json_object_set_new(o, "error", json_string(x->error));
  if (o && x->cause) json_object_set_new(o, "cause", json_string(x->cause));
  const char *reason = redrive_reason(c, x);
  if (o)
    json_object_set_new(o, "redriveStatus",
                        json_string(reason ? "NOT_REDRIVABLE" : "REDRIVABLE"));
  if (o && reason)
    json_object_set_new(o, "redriveStatusReason", json_string(reason));
  c->g->store->ops->release_execution(c->g->store, x);
  gw_sfn_ok(c, o);
}

/* ---- RedriveExecution ---- */

static int keep_body(const wf_store_document *d, void *p) {
  *(char **)p = d->body ? strdup(d->body) : NULL;
  return 1;
}

/* The execution's redrive tokens: [{"token","at","date"}...], oldest
 * first (new reference; an empty array when none). */
static json_t *tokens_of(gw_sfn_call *c, const char *arn) {
  char *body = NULL;
  wf_store_get_document(wf_engine_store(c->g->engine), TOKEN_KIND, arn,
                        keep_body, &body, NULL);
  json_t *list = body ? json_loads(body, 0, NULL) : NULL;
  free(body);
  if (!json_is_array(list)) {
    json_decref(list);
    list = json_array();
  }
  return list;
}

/* The redriveDate answered for `token` within its 15 minutes, or -1. */
static int64_t token_answer(json_t *list, const char *token, int64_t now) {
  size_t i;
  json_t *t;
  json_array_foreach(list, i, t) {
    const char *k = json_string_value(json_object_get(t, "token"));
    int64_t at = json_integer_value(json_object_get(t, "at"));
    if (k && strcmp(k, token) == 0 && now - at <= REDRIVE_TOKEN_MS)
      return json_integer_value(json_object_get(t, "date"));
  }
  return -1;
}

static void token_note(gw_sfn_call *c, const char *arn, json_t *list,
                       const char *token, int64_t now, int64_t date) {
  json_array_append_new(list, json_pack("{s:s, s:I, s:I}", "token", token,
                                        "at", (json_int_t)now, "date",
                                        (json_int_t)date));
  while (json_array_size(list) > REDRIVE_TOKENS) json_array_remove(list, 0);
  char *body = json_dumps(list, JSON_COMPACT);
  /* Pruned with the execution. */
  wf_store_document doc = {TOKEN_KIND, arn, body, 0};
  wf_store_batch b = {.documents = &doc, .ndocuments = 1,
                      .document_owners = &arn};
  if (body) wf_store_commit(wf_engine_store(c->g->engine), &b, NULL);
  free(body);
}

void gw_sfn_redrive_execution(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "executionArn", true, 1, 256);
  const char *token = gw_sfn_str(&p, "clientToken", false, 1, 64);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_exec_rec *x = gw_sfn_find_execution(c, arn);
  if (!x) return;
  const char *reason = redrive_reason(c, x);
  bool deleting = reason && x->redrive_reason != reason;
  c->g->store->ops->release_execution(c->g->store, x);
  if (deleting) {
    gw_sfn_fail(c, "ExecutionNotRedrivable", "%s", reason);
    return;
  }
  int64_t now = wf_clock_now(wf_clock_system());
  json_t *tokens = token ? tokens_of(c, arn) : NULL;
  int64_t date = token ? token_answer(tokens, token, now) : -1;
  if (date >= 0) { /* the same request again: the same answer */
    json_decref(tokens);
    gw_sfn_ok(c, json_pack("{s:o}", "redriveDate", gw_sfn_time(date)));
    return;
  }
  wf_execution *e = NULL;
  wf_error err;
  int rc = wf_engine_redrive(&e, c->g->engine, arn, &err);
  wf_execution_free(e);
  x = rc == WF_OK ? c->g->store->ops->find_execution(c->g->store, arn) : NULL;
  if (x) {
    if (token) token_note(c, arn, tokens, token, now, x->redrive_ms);
    gw_sfn_ok(c, json_pack("{s:o}", "redriveDate",
                           gw_sfn_time(x->redrive_ms)));
    c->g->store->ops->release_execution(c->g->store, x);
  } else if (rc == WF_ESTATE) {
    gw_sfn_fail(c, "ExecutionNotRedrivable", "%s", err.message);
  } else if (rc == WF_EBUSY) { /* engine.maxRunning executions are running */
    gw_sfn_fail(c, "ExecutionLimitExceeded", "%s", err.message);
  } else if (rc == WF_ENOTFOUND) {
    gw_sfn_fail(c, "ExecutionDoesNotExist", "%s", err.message);
  } else {
    gw_sfn_error(c->resp, 500, "InternalFailure", "%s",
                 rc == WF_OK ? "the redrive could not be read back"
                             : err.message);
  }
  json_decref(tokens);
}

void gw_sfn_stop_execution(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "executionArn", true, 1, 256);
  const char *error = gw_sfn_str(&p, "error", false, 0, 256);
  const char *cause = gw_sfn_str(&p, "cause", false, 0, 32768);
  if (gw_sfn_params_failed(&p, c)) return;
  gw_exec_rec *x = gw_sfn_find_execution(c, arn);
  if (!x) return;
  /* One already finished keeps its end (and its stop date). */
  int64_t stop_ms = x->stop_ms;
  wf_execution *e = NULL;
  wf_error err;
  /* On a shared store it may run in another gateway: it is taken over. */
  /* Twice at most: a copy this gateway ran that another had taken over
   * (found when the stop's commit is refused) is taken over again. */
  for (int tries = 0; tries < 2 && x->status == WF_EXEC_RUNNING &&
                      wf_engine_take_execution(&e, c->g->engine, x->arn,
                                               &err) == WF_OK;
       tries++) {
    /* Answered once the stop is committed. */
    int rc = wf_execution_stop(e, error, cause);
    stop_ms = wf_execution_stop_time(e);
    wf_execution_free(e);
    e = NULL;
    if (rc != WF_ECANCELED) break;
  }
  c->g->store->ops->release_execution(c->g->store, x);
  gw_sfn_ok(c, json_pack("{s:o}", "stopDate", gw_sfn_time(stop_ms)));
}

/* A page of one listing: up to `max` items, and where the next begins
 * (the store's order of the last one). */
typedef struct page {
  json_t *items;
  size_t max, count;
  int64_t cursor;
  int redriven;     /* redriveFilter: 1 REDRIVEN, 0 NOT_REDRIVEN, -1 none */
  int64_t last_seq; /* the last one the store gave, taken or not */
} page;

static void visit(const gw_exec_rec *x, void *arg) {
  page *pg = arg;
  pg->last_seq = x->seq;
  if (pg->redriven >= 0 && (x->redrive_count > 0) != pg->redriven) return;
  if (pg->count++ >= pg->max) return; /* the one past: there is more */
  json_array_append_new(pg->items, summary(x));
  pg->cursor = x->seq;
}

static int status_filter(const char *status) {
  for (int i = 0; status && i <= WF_EXEC_ABORTED; i++)
    if (strcmp(STATUSES[i], status) == 0) return i;
  return status ? NO_STATUS : -1;
}

static void list_machine(gw_sfn_call *c, const gw_sfn_machine_ref *ref,
                         const char *given, int status, int redriven,
                         size_t max, const char *token) {
  const gw_revision *rev;
  gw_machine_rec *m = gw_sfn_machine_find(c, ref, &rev);
  if (!m) return;
  if (m->type == WF_MACHINE_EXPRESS) {
    gw_sfn_fail(c, "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state "
                "machine");
    gw_sfn_machine_release(c, m);
    return;
  }
  char *context =
      gw_sfn_strf("ListExecutions\n%s\n%d\n%d", given, status, redriven);
  /* Of a version or an alias: those started with it. */
  const gw_alias *alias = ref->alias[0] ? gw_sfn_alias_find(c, m, ref) : NULL;
  if (ref->alias[0] && !alias) {
    gw_sfn_machine_release(c, m);
    free(context);
    return;
  }
  char *version = alias          ? strdup(alias->arn)
                  : rev->version ? strdup(rev->arn)
                                 : NULL;
  char *machine = strdup(m->arn);
  gw_sfn_machine_release(c, m);
  page pg = {json_array(), max, 0, 0, redriven, 0};
  size_t cursor = 0;
  if (!context || !machine || ((ref->version || ref->alias[0]) && !version)) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  } else if (gw_sfn_page_start(c, token, context, &cursor)) {
    /* Newest first; a page's token carries where it ended (the store's
     * order), so pages stay stable while executions start. One more than
     * asked tells whether there is a next page. */
    gw_store *s = c->g->store;
    /* A redrive filter passes over what it does not take: read on until
     * the page is full or the store has no more. */
    int64_t from = (int64_t)cursor;
    size_t got;
    do {
      pg.last_seq = 0;
      got = s->ops->list_executions(s, machine, version, status, from,
                                    max + 1, visit, &pg);
      from = pg.last_seq;
    } while (redriven >= 0 && got == max + 1 && pg.count <= max);
    json_t *o = json_pack("{s:O}", "executions", pg.items);
    if (pg.count > max) gw_sfn_page_next(o, context, (size_t)pg.cursor);
    gw_sfn_ok(c, o);
  }
  json_decref(pg.items);
  free(context);
  free(version);
  free(machine);
}

void gw_sfn_list_executions(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "stateMachineArn", false, 1, 256);
  const char *status = gw_sfn_enum(&p, "statusFilter", STATUSES);
  long long max = gw_sfn_int(&p, "maxResults", 0, 1000, 0);
  const char *token = gw_sfn_str(&p, "nextToken", false, 1, 3096);
  const char *map_run = gw_sfn_str(&p, "mapRunArn", false, 1, 2000);
  const char *redrive = gw_sfn_enum(&p, "redriveFilter", REDRIVE);
  if (gw_sfn_params_failed(&p, c)) return;
  if (!arn && !map_run) {
    gw_sfn_fail(c, "ValidationException",
                "Must provide a StateMachine ARN or MapRun ARN");
    return;
  }
  int redriven = !redrive ? -1 : strcmp(redrive, "REDRIVEN") == 0;
  size_t n = max ? (size_t)max : LIST_DEFAULT;
  if (map_run && arn) {
    gw_sfn_fail(c, "ValidationException",
                "Must provide either a StateMachine ARN or MapRun ARN, not "
                "both");
    return;
  }
  if (map_run) {
    gw_sfn_list_map_run_executions(c, map_run, status_filter(status),
                                   redriven, n, token);
    return;
  }
  gw_sfn_machine_ref ref;
  if (!gw_sfn_parse_machine_arn(c, arn,
                                GW_SFN_ALLOW_VERSION | GW_SFN_ALLOW_ALIAS,
                                &ref))
    return;
  list_machine(c, &ref, arn, status_filter(status), redriven, n, token);
}

/* The revision of m an execution ran: its version's, else the current
 * one if the definition is still the same; NULL when neither. */
static const gw_revision *revision_run(const gw_machine_rec *m,
                                       const gw_exec_rec *x,
                                       const char *definition) {
  for (size_t i = 0; x->version_arn && i < m->nversions; i++)
    if (strcmp(m->versions[i].arn, x->version_arn) == 0)
      return &m->versions[i];
  if (!definition || strcmp(definition, m->current.definition) == 0)
    return &m->current;
  return NULL;
}

json_t *gw_sfn_machine_for_execution(gw_sfn_call *c, const char *arn) {
  gw_exec_rec *x = gw_sfn_find_execution(c, arn);
  if (!x) return NULL;
  gw_store *s = c->g->store;
  /* What the execution runs, as the engine keeps it with the execution. */
  char *definition = x->definition_id
                         ? s->ops->get_definition(s, x->definition_id)
                         : NULL;
  gw_machine_rec *m = s->ops->find_machine(s, x->machine_arn);
  const gw_revision *rev = m ? revision_run(m, x, definition) : NULL;
  const char *def = definition ? definition : rev ? rev->definition : NULL;
  const char *role = x->role_arn ? x->role_arn : m ? m->role_arn : NULL;
  const char *name = strrchr(x->machine_arn, ':') + 1;
  int64_t updated = rev ? rev->created_ms : m ? m->updated_ms : x->start_ms;
  json_t *o = def ? json_pack("{s:s, s:s, s:s, s:s?, s:o}", "stateMachineArn",
                              x->machine_arn, "name", name, "definition", def,
                              "roleArn", role, "updateDate",
                              gw_sfn_time(updated))
                  : NULL;
  if (o) gw_sfn_configs_show(o, m);
  if (o && rev && rev->revision_id)
    json_object_set_new(o, "revisionId", json_string(rev->revision_id));
  if (!def)
    gw_sfn_error(c->resp, 500, "InternalFailure",
                 "the definition of '%s' is not in the store", arn);
  else if (!o)
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  gw_sfn_machine_release(c, m);
  free(definition);
  s->ops->release_execution(s, x);
  return o;
}

void gw_sfn_describe_machine_for_execution(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *arn = gw_sfn_str(&p, "executionArn", true, 1, 256);
  gw_sfn_enum(&p, "includedData", INCLUDED);
  if (gw_sfn_params_failed(&p, c) || !gw_sfn_check_execution_arn(c, arn))
    return;
  if (gw_sfn_is_map_run_child(arn)) {
    gw_sfn_describe_map_run_child_machine(c, arn);
    return;
  }
  json_t *o = gw_sfn_machine_for_execution(c, arn);
  if (o) gw_sfn_ok(c, o);
}
