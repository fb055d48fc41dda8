/* The gateway's store (gateway.h) over the engine's wf_store.
 *
 * Machines: kept in memory in creation order (the API reads them on every
 * call) and written through to the engine's store as documents of kind
 * "stateMachine", keyed by ARN, so that machines and versions created
 * through the API survive a restart; opening the store loads them back
 * (their definitions compiled again).
 *
 * Executions: the engine writes them; this side only reads what its store
 * has committed, so what the API shows is what would survive a crash. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define DOC_KIND "stateMachine"
/* The version an alias chose for an execution, keyed by execution ARN. */
#define ALIAS_KIND "aliasExecution"

typedef struct mnode {
  gw_machine_rec rec; /* first: release_machine() casts back */
  atomic_size_t refs;
  struct mnode *next; /* creation order */
} mnode;

typedef struct eng_store {
  gw_store base; /* first: gw_store * casts back */
  wf_store *ws;
  pthread_mutex_t lock;
  mnode *machines;
  char *machine_prefix; /* "arn:aws:states:R:A:stateMachine:" */
  char *process_prefix; /* "arn:aws:states:R:A:execution:PROCESS:" */
} eng_store;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* ---- machines as documents ---------------------------------------------- */

static json_t *str_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}

static json_t *revision_json(const gw_revision *r) {
  return json_pack("{s:i, s:o, s:o, s:o, s:o, s:I}", "version", r->version,
                   "arn", str_or_null(r->arn), "definition",
                   str_or_null(r->definition), "description",
                   str_or_null(r->description), "revisionId",
                   str_or_null(r->revision_id), "created",
                   (json_int_t)r->created_ms);
}

/* Text the API side keeps as JSON (tags, configurations) is stored as the
 * JSON value it is. */
static json_t *json_or_null(const char *text) {
  json_t *v = text ? json_loads(text, 0, NULL) : NULL;
  return v ? v : json_null();
}

static json_t *alias_json(const gw_alias *a) {
  json_t *routes = json_array();
  for (size_t i = 0; i < a->nroutes; i++)
    json_array_append_new(routes, json_pack("[i, i]", a->versions[i],
                                            a->weights[i]));
  return json_pack("{s:s, s:s, s:o, s:o, s:I, s:I}", "name", a->name, "arn",
                   a->arn, "description", str_or_null(a->description),
                   "routes", routes, "created", (json_int_t)a->created_ms,
                   "updated", (json_int_t)a->updated_ms);
}

static char *machine_json(const gw_machine_rec *m) {
  json_t *versions = json_array();
  for (size_t i = 0; i < m->nversions; i++)
    json_array_append_new(versions, revision_json(&m->versions[i]));
  json_t *allowed = json_null();
  if (m->allowed_resources) {
    allowed = json_array();
    for (size_t i = 0; m->allowed_resources[i]; i++)
      json_array_append_new(allowed, json_string(m->allowed_resources[i]));
  }
  json_t *o = json_pack(
      "{s:s, s:s, s:o, s:i, s:I, s:I, s:i, s:b, s:o, s:o, s:o}", "name",
      m->name, "arn", m->arn, "roleArn", str_or_null(m->role_arn), "type",
      (int)m->type, "created", (json_int_t)m->created_ms, "updated",
      (json_int_t)m->updated_ms, "lastVersion", m->last_version, "deleting",
      m->deleting, "allowedResources", allowed, "current",
      revision_json(&m->current), "versions", versions);
  if (o) {
    json_object_set_new(o, "tags", json_or_null(m->tags));
    json_object_set_new(o, "logging", json_or_null(m->logging));
    json_object_set_new(o, "tracing", json_or_null(m->tracing));
    json_t *aliases = json_array();
    for (size_t i = 0; i < m->naliases; i++)
      json_array_append_new(aliases, alias_json(&m->aliases[i]));
    json_object_set_new(o, "aliases", aliases);
  }
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return text;
}

static char *get_str(json_t *o, const char *k) {
  return dup_or_null(json_string_value(json_object_get(o, k)));
}

/* Compile a revision's definition as the machine's. */
static int revision_from(gw_revision *r, json_t *o, const gw_machine_rec *m,
                         char *msg, size_t n) {
  r->version = (int)json_integer_value(json_object_get(o, "version"));
  r->arn = get_str(o, "arn");
  r->definition = get_str(o, "definition");
  r->description = get_str(o, "description");
  r->revision_id = get_str(o, "revisionId");
  r->created_ms = json_integer_value(json_object_get(o, "created"));
  if (!r->arn || !r->definition) {
    snprintf(msg, n, "state machine %s: a revision has no definition",
             m->arn);
    return -1;
  }
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.type = m->type;
  lo.name = m->name;
  lo.allowed_resources = (const char *const *)m->allowed_resources;
  wf_error err;
  if (wf_machine_load_json(&r->machine, r->definition, &lo, &err) != WF_OK) {
    snprintf(msg, n, "state machine %s: its definition no longer loads: %s",
             m->arn, err.message);
    return -1;
  }
  return 0;
}

/* The text of a stored JSON value, NULL for none. */
static char *text_of(json_t *v) {
  return v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT) : NULL;
}

static int aliases_from(gw_machine_rec *m, json_t *list) {
  size_t n = json_array_size(list);
  if (n && !(m->aliases = calloc(n, sizeof *m->aliases))) return -1;
  for (size_t i = 0; i < n; i++, m->naliases++) {
    json_t *o = json_array_get(list, i), *routes = json_object_get(o, "routes");
    gw_alias *a = &m->aliases[i];
    a->name = get_str(o, "name");
    a->arn = get_str(o, "arn");
    a->description = get_str(o, "description");
    a->created_ms = json_integer_value(json_object_get(o, "created"));
    a->updated_ms = json_integer_value(json_object_get(o, "updated"));
    for (size_t k = 0; k < json_array_size(routes) && k < 2; k++, a->nroutes++) {
      json_t *r = json_array_get(routes, k);
      a->versions[k] = (int)json_integer_value(json_array_get(r, 0));
      a->weights[k] = (int)json_integer_value(json_array_get(r, 1));
    }
    if (!a->name || !a->arn) return -1;
  }
  return 0;
}

static gw_machine_rec *machine_from(const char *body, char *msg, size_t n) {
  json_t *o = json_loads(body, 0, NULL);
  gw_machine_rec *m = calloc(1, sizeof *m);
  int rc = o && m ? 0 : -1;
  if (rc) snprintf(msg, n, "a stored state machine is not JSON");
  if (!rc) {
    m->name = get_str(o, "name");
    m->arn = get_str(o, "arn");
    m->role_arn = get_str(o, "roleArn");
    m->type = json_integer_value(json_object_get(o, "type")) == 1
                  ? WF_MACHINE_EXPRESS
                  : WF_MACHINE_STANDARD;
    m->created_ms = json_integer_value(json_object_get(o, "created"));
    m->updated_ms = json_integer_value(json_object_get(o, "updated"));
    m->last_version =
        (int)json_integer_value(json_object_get(o, "lastVersion"));
    m->deleting = json_is_true(json_object_get(o, "deleting"));
    json_t *allowed = json_object_get(o, "allowedResources");
    if (json_is_array(allowed)) {
      size_t k = json_array_size(allowed);
      m->allowed_resources = calloc(k + 1, sizeof(char *));
      for (size_t i = 0; m->allowed_resources && i < k; i++)
        m->allowed_resources[i] =
            dup_or_null(json_string_value(json_array_get(allowed, i)));
    }
    m->tags = text_of(json_object_get(o, "tags"));
    m->logging = text_of(json_object_get(o, "logging"));
    m->tracing = text_of(json_object_get(o, "tracing"));
    if (!m->name || !m->arn ||
        aliases_from(m, json_object_get(o, "aliases"))) {
      snprintf(msg, n, "a stored state machine lacks a name or an ARN");
      rc = -1;
    }
  }
  if (!rc) rc = revision_from(&m->current, json_object_get(o, "current"), m,
                              msg, n);
  json_t *versions = json_object_get(o, "versions");
  size_t nv = json_array_size(versions);
  if (!rc && nv && !(m->versions = calloc(nv, sizeof *m->versions))) rc = -1;
  for (size_t i = 0; !rc && i < nv; i++) {
    rc = revision_from(&m->versions[i], json_array_get(versions, i), m, msg,
                       n);
    m->nversions = i + 1;
  }
  json_decref(o);
  if (rc && m) {
    gw_machine_rec_fini(m);
    free(m);
    return NULL;
  }
  return m;
}

/* ---- machines ----------------------------------------------------------- */

static void mnode_unref(mnode *n) {
  if (n && atomic_fetch_sub(&n->refs, 1) == 1) {
    gw_machine_rec_fini(&n->rec);
    free(n);
  }
}

/* Put a record in memory (replacing one of its ARN in place). */
static void install(eng_store *e, mnode *n) {
  mnode *old = NULL;
  pthread_mutex_lock(&e->lock);
  mnode **p = &e->machines;
  while (*p && strcmp((*p)->rec.arn, n->rec.arn) != 0) p = &(*p)->next;
  if (*p) { /* an update keeps its position */
    old = *p;
    n->next = old->next;
  }
  *p = n;
  pthread_mutex_unlock(&e->lock);
  mnode_unref(old);
}

static int put_machine(gw_store *s, gw_machine_rec *rec) {
  eng_store *e = (eng_store *)s;
  mnode *n = calloc(1, sizeof *n);
  char *body = n && rec->arn && rec->name ? machine_json(rec) : NULL;
  if (!body) {
    gw_machine_rec_fini(rec);
    free(rec);
    free(n);
    return n ? WF_EINVAL : WF_ENOMEM;
  }
  n->rec = *rec;
  free(rec);
  atomic_init(&n->refs, 1);
  /* Written through before it is seen: what the API answers is kept. */
  wf_store_document doc = {DOC_KIND, n->rec.arn, body, 0};
  int rc = wf_store_put_documents(e->ws, &doc, 1, NULL);
  free(body);
  if (rc != WF_OK) {
    mnode_unref(n);
    return rc;
  }
  install(e, n);
  return WF_OK;
}

static gw_machine_rec *find_machine(gw_store *s, const char *key) {
  eng_store *e = (eng_store *)s;
  pthread_mutex_lock(&e->lock);
  mnode *n = e->machines;
  while (n && strcmp(n->rec.arn, key) != 0 && strcmp(n->rec.name, key) != 0)
    n = n->next;
  if (n) atomic_fetch_add(&n->refs, 1);
  pthread_mutex_unlock(&e->lock);
  return n ? &n->rec : NULL;
}

static void release_machine(gw_store *s, gw_machine_rec *rec) {
  (void)s;
  mnode_unref((mnode *)rec);
}

static int delete_machine(gw_store *s, const char *arn) {
  eng_store *e = (eng_store *)s;
  wf_store_document doc = {DOC_KIND, arn, NULL, 0};
  int rc = wf_store_put_documents(e->ws, &doc, 1, NULL);
  if (rc != WF_OK) return rc;
  pthread_mutex_lock(&e->lock);
  mnode **p = &e->machines;
  while (*p && strcmp((*p)->rec.arn, arn) != 0) p = &(*p)->next;
  mnode *n = *p;
  if (n) *p = n->next;
  pthread_mutex_unlock(&e->lock);
  mnode_unref(n);
  return n ? WF_OK : WF_ENOTFOUND;
}

static size_t list_machines(gw_store *s, size_t start, size_t max,
                            void (*fn)(const gw_machine_rec *, void *),
                            void *arg) {
  eng_store *e = (eng_store *)s;
  size_t i = 0;
  pthread_mutex_lock(&e->lock);
  for (mnode *n = e->machines; n; n = n->next, i++)
    if (fn && i >= start && i - start < max) fn(&n->rec, arg);
  pthread_mutex_unlock(&e->lock);
  return i;
}

/* ---- executions ---------------------------------------------------------- */

/* A record copied out of the engine's store. */
static gw_exec_rec *exec_copy(eng_store *e, const wf_store_execution *x) {
  gw_exec_rec *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  size_t n = strlen(e->machine_prefix) + strlen(x->machine_name) + 1;
  r->machine_arn = malloc(n);
  if (r->machine_arn)
    snprintf(r->machine_arn, n, "%s%s", e->machine_prefix, x->machine_name);
  /* Started on a version, its ARN is the machine's plus ":N"; through an
   * alias, plus ":NAME" (the version it chose is a document). */
  size_t k = r->machine_arn ? strlen(r->machine_arn) : 0;
  const char *q = x->machine_arn;
  if (k && q && strncmp(q, r->machine_arn, k) == 0 && q[k] == ':') {
    bool version = q[k + 1] && strspn(q + k + 1, "0123456789") ==
                                   strlen(q + k + 1);
    if (version)
      r->version_arn = strdup(q);
    else
      r->alias_arn = strdup(q);
  }
  r->role_arn = dup_or_null(x->role_arn);
  r->definition_id = dup_or_null(x->definition_id);
  r->arn = dup_or_null(x->arn);
  r->name = dup_or_null(x->name);
  r->correlation_id = dup_or_null(x->correlation_id);
  r->input = dup_or_null(x->input);
  r->output = dup_or_null(x->output);
  r->error = dup_or_null(x->error);
  r->cause = dup_or_null(x->cause);
  r->status = (wf_exec_status)x->status;
  r->start_ms = x->start_ms;
  r->stop_ms = x->stop_ms;
  r->seq = x->seq;
  /* The gateway's engine runs on the system clock. */
  wf_engine_redrive_status(NULL, x, &r->redrive_count, &r->redrive_ms,
                           &r->redrive_reason);
  if (!r->machine_arn || !r->arn || !r->name || !r->input) {
    gw_exec_rec_fini(r);
    free(r);
    return NULL;
  }
  return r;
}

typedef struct found {
  eng_store *e;
  gw_exec_rec *rec;
} found;

static int keep_found(const wf_store_execution *x, void *p) {
  found *f = p;
  f->rec = exec_copy(f->e, x);
  return 1;
}

/* ---- the versions aliases chose ------------------------------------------ */

static int keep_definition(const wf_store_definition *d, void *p) {
  *(char **)p = dup_or_null(d->definition);
  return 1;
}

static int keep_body(const wf_store_document *d, void *p) {
  *(char **)p = dup_or_null(d->body);
  return 1;
}

/* An execution started through an alias: the version it runs. */
static void add_alias_version(eng_store *e, gw_exec_rec *r) {
  if (!r->alias_arn) return;
  char *body = NULL;
  wf_store_get_document(e->ws, ALIAS_KIND, r->arn, keep_body, &body, NULL);
  json_t *o = body ? json_loads(body, 0, NULL) : NULL;
  r->version_arn = get_str(o, "version");
  json_decref(o);
  free(body);
}

static int note_alias_version(gw_store *s, const char *execution_arn,
                              const char *version_arn) {
  eng_store *e = (eng_store *)s;
  char *body = NULL;
  wf_store_get_document(e->ws, ALIAS_KIND, execution_arn, keep_body, &body,
                        NULL);
  if (body) { /* a start made again: the first one's choice stands */
    free(body);
    return WF_OK;
  }
  json_t *o = json_pack("{s:s}", "version", version_arn);
  body = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  if (!body) return WF_ENOMEM;
  wf_store_document doc = {ALIAS_KIND, execution_arn, body, 0};
  int rc = wf_store_put_documents(e->ws, &doc, 1, NULL);
  free(body);
  return rc;
}

static char *get_definition(gw_store *s, const char *definition_id) {
  eng_store *e = (eng_store *)s;
  char *text = NULL;
  wf_store_get_definition(e->ws, definition_id, keep_definition, &text, NULL);
  return text;
}

static gw_exec_rec *find_execution(gw_store *s, const char *key) {
  eng_store *e = (eng_store *)s;
  found f = {e, NULL};
  /* AWS keeps no record of Express executions to describe. */
  if (strstr(key, ":express:")) return NULL;
  char arn[512];
  /* A bare name: an execution of the /process machine. */
  if (strncmp(key, "arn:", 4) != 0) {
    if (!e->process_prefix) return NULL;
    snprintf(arn, sizeof arn, "%s%s", e->process_prefix, key);
    key = arn;
  }
  wf_store_get_execution(e->ws, key, keep_found, &f, NULL);
  if (f.rec) add_alias_version(e, f.rec);
  return f.rec;
}

static void release_execution(gw_store *s, gw_exec_rec *rec) {
  (void)s;
  if (!rec) return;
  gw_exec_rec_fini(rec);
  free(rec);
}

/* A listing's records, collected during the read (which must not call
 * the store) and completed and passed on after it. */
typedef struct lister {
  eng_store *e;
  gw_exec_rec **recs;
  size_t n, cap;
  bool oom;
} lister;

static int visit(const wf_store_execution *x, void *p) {
  lister *l = p;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    gw_exec_rec **recs = realloc(l->recs, cap * sizeof *recs);
    if (!recs) {
      l->oom = true;
      return 1;
    }
    l->recs = recs;
    l->cap = cap;
  }
  if (!(l->recs[l->n] = exec_copy(l->e, x))) {
    l->oom = true;
    return 1;
  }
  l->n++;
  return 0;
}

/* The machine name an ARN of `prefix` names, into buf; NULL if other. */
static const char *machine_name(eng_store *e, const char *machine_arn,
                                char *buf, size_t n) {
  size_t k = strlen(e->machine_prefix);
  if (strncmp(machine_arn, e->machine_prefix, k) != 0) return NULL;
  snprintf(buf, n, "%s", machine_arn + k);
  return buf;
}

static size_t list_executions(gw_store *s, const char *machine_arn,
                              const char *version_arn, int status_filter,
                              int64_t before_seq, size_t max,
                              void (*fn)(const gw_exec_rec *, void *),
                              void *arg) {
  eng_store *e = (eng_store *)s;
  char name[256];
  wf_store_query q = WF_STORE_QUERY_INIT;
  if (machine_arn &&
      !(q.machine_name = machine_name(e, machine_arn, name, sizeof name)))
    return 0;
  q.machine_arn = version_arn;
  q.status = status_filter;
  q.before_seq = before_seq;
  q.limit = max;
  lister l = {e, NULL, 0, 0, false};
  wf_store_list_executions(e->ws, &q, visit, &l, NULL);
  for (size_t i = 0; i < l.n; i++) {
    add_alias_version(e, l.recs[i]);
    if (fn) fn(l.recs[i], arg);
    release_execution(NULL, l.recs[i]);
  }
  free(l.recs);
  return l.n;
}

static int count_one(const wf_store_execution *x, void *p) {
  (void)x;
  (*(size_t *)p)++;
  return 0;
}

static size_t count_running(gw_store *s, const char *machine_arn,
                            size_t cap) {
  eng_store *e = (eng_store *)s;
  char name[256];
  wf_store_query q = WF_STORE_QUERY_INIT;
  if (machine_arn &&
      !(q.machine_name = machine_name(e, machine_arn, name, sizeof name)))
    return 0;
  q.status = WF_EXEC_RUNNING;
  q.limit = cap;
  size_t n = 0;
  wf_store_list_executions(e->ws, &q, count_one, &n, NULL);
  return n;
}

/* ---- the store ------------------------------------------------------------ */

static void destroy(gw_store *s) {
  eng_store *e = (eng_store *)s;
  while (e->machines) {
    mnode *n = e->machines;
    e->machines = n->next;
    mnode_unref(n);
  }
  pthread_mutex_destroy(&e->lock);
  free(e->machine_prefix);
  free(e->process_prefix);
  free(e);
}

static const gw_store_ops OPS = {
    .destroy = destroy,
    .put_machine = put_machine,
    .find_machine = find_machine,
    .release_machine = release_machine,
    .delete_machine = delete_machine,
    .list_machines = list_machines,
    .find_execution = find_execution,
    .release_execution = release_execution,
    .list_executions = list_executions,
    .count_running = count_running,
    .get_definition = get_definition,
    .note_alias_version = note_alias_version,
};

typedef struct loader {
  eng_store *e;
  mnode **tail;
  char *msg;
  size_t msg_size;
  int rc;
} loader;

static int load_one(const wf_store_document *d, void *p) {
  loader *l = p;
  mnode *n = calloc(1, sizeof *n);
  gw_machine_rec *m = n ? machine_from(d->body, l->msg, l->msg_size) : NULL;
  if (!m) {
    free(n);
    l->rc = -1;
    return 1;
  }
  n->rec = *m;
  free(m);
  atomic_init(&n->refs, 1);
  *l->tail = n;
  l->tail = &n->next;
  return 0;
}

gw_store *gw_store_open(wf_store *ws, const char *region, const char *account,
                        const char *process_machine, char *msg,
                        size_t msg_size) {
  eng_store *e = calloc(1, sizeof *e);
  if (!e) {
    snprintf(msg, msg_size, "out of memory");
    return NULL;
  }
  e->base.ops = &OPS;
  e->ws = ws;
  pthread_mutex_init(&e->lock, NULL);
  size_t n = strlen(region) + strlen(account) + 64;
  e->machine_prefix = malloc(n);
  if (e->machine_prefix)
    snprintf(e->machine_prefix, n, "arn:aws:states:%s:%s:stateMachine:",
             region, account);
  if (process_machine) {
    n += strlen(process_machine);
    if ((e->process_prefix = malloc(n)))
      snprintf(e->process_prefix, n, "arn:aws:states:%s:%s:execution:%s:",
               region, account, process_machine);
  }
  if (!e->machine_prefix || (process_machine && !e->process_prefix)) {
    snprintf(msg, msg_size, "out of memory");
    destroy(&e->base);
    return NULL;
  }
  loader l = {e, &e->machines, msg, msg_size, 0};
  wf_error err;
  if (wf_store_list_documents(ws, DOC_KIND, 0, 0, load_one, &l, &err) !=
      WF_OK) {
    snprintf(msg, msg_size, "%s", err.message);
    l.rc = -1;
  }
  if (l.rc) {
    destroy(&e->base);
    return NULL;
  }
  return &e->base;
}
