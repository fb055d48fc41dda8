/* Machine records for the API: finding the machine (and the revision) an
 * ARN names, copying a record to put an updated one in its place (the
 * store's records are immutable), versions, and the lock that makes
 * read-copy-put safe between concurrent updates. */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

/* Held around every read-copy-put of a machine record, so that of two
 * concurrent updates neither is lost. Readers do not take it. Recursive:
 * a lookup under it may forget a deleted machine, which takes it too. */
static pthread_mutex_t machines_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

void gw_sfn_machines_lock(void) { pthread_mutex_lock(&machines_lock); }
void gw_sfn_machines_unlock(void) { pthread_mutex_unlock(&machines_lock); }

static char *dup_or_null(const char *s, bool *oom) {
  char *d = s ? strdup(s) : NULL;
  if (s && !d) *oom = true;
  return d;
}

int gw_sfn_revision_copy(gw_revision *dst, const gw_revision *src) {
  bool oom = false;
  dst->version = src->version;
  dst->created_ms = src->created_ms;
  dst->arn = dup_or_null(src->arn, &oom);
  dst->definition = dup_or_null(src->definition, &oom);
  dst->description = dup_or_null(src->description, &oom);
  dst->revision_id = dup_or_null(src->revision_id, &oom);
  dst->machine = wf_machine_ref(src->machine);
  if (oom) gw_revision_fini(dst);
  return oom ? -1 : 0;
}

void gw_sfn_machine_discard(gw_machine_rec *m) {
  if (!m) return;
  gw_machine_rec_fini(m);
  free(m);
}

gw_machine_rec *gw_sfn_machine_copy(const gw_machine_rec *m) {
  gw_machine_rec *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  bool oom = false;
  r->name = dup_or_null(m->name, &oom);
  r->arn = dup_or_null(m->arn, &oom);
  r->role_arn = dup_or_null(m->role_arn, &oom);
  r->type = m->type;
  r->created_ms = m->created_ms;
  r->updated_ms = m->updated_ms;
  r->deleting = m->deleting;
  r->last_version = m->last_version;
  if (gw_sfn_revision_copy(&r->current, &m->current)) oom = true;
  if (m->nversions &&
      !(r->versions = calloc(m->nversions, sizeof *r->versions)))
    oom = true;
  for (size_t i = 0; !oom && i < m->nversions; i++, r->nversions++)
    if (gw_sfn_revision_copy(&r->versions[i], &m->versions[i])) oom = true;
  size_t n = 0;
  while (m->allowed_resources && m->allowed_resources[n]) n++;
  if (m->allowed_resources &&
      !(r->allowed_resources = calloc(n + 1, sizeof(char *))))
    oom = true;
  for (size_t i = 0; !oom && i < n; i++)
    r->allowed_resources[i] = dup_or_null(m->allowed_resources[i], &oom);
  r->tags = dup_or_null(m->tags, &oom);
  r->logging = dup_or_null(m->logging, &oom);
  r->tracing = dup_or_null(m->tracing, &oom);
  if (!oom && m->naliases &&
      !(r->aliases = calloc(m->naliases, sizeof *r->aliases)))
    oom = true;
  for (size_t i = 0; !oom && i < m->naliases; i++, r->naliases++)
    if (gw_sfn_alias_copy(&r->aliases[i], &m->aliases[i])) oom = true;
  if (oom) {
    gw_sfn_machine_discard(r);
    return NULL;
  }
  return r;
}

int gw_sfn_alias_copy(gw_alias *dst, const gw_alias *src) {
  bool oom = false;
  *dst = *src;
  dst->name = dup_or_null(src->name, &oom);
  dst->arn = dup_or_null(src->arn, &oom);
  dst->description = dup_or_null(src->description, &oom);
  if (oom) gw_alias_fini(dst);
  return oom ? -1 : 0;
}

const gw_revision *gw_sfn_version_add(gw_machine_rec *m,
                                      const char *description, int64_t now_ms) {
  gw_revision *v = realloc(m->versions, (m->nversions + 1) * sizeof *v);
  if (!v) return NULL;
  m->versions = v;
  gw_revision *nv = &v[m->nversions];
  memset(nv, 0, sizeof *nv);
  if (gw_sfn_revision_copy(nv, &m->current)) return NULL;
  int number = m->last_version + 1;
  free(nv->arn);
  free(nv->description);
  nv->arn = gw_sfn_version_arn(m->arn, number);
  nv->description = description ? strdup(description) : NULL;
  if (!nv->arn || (description && !nv->description)) {
    gw_revision_fini(nv);
    return NULL;
  }
  nv->version = number;
  nv->created_ms = now_ms;
  m->last_version = number;
  m->nversions++;
  return nv;
}

static bool same_revision(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

const gw_revision *gw_sfn_version_of_current(const gw_machine_rec *m) {
  for (size_t i = m->nversions; i-- > 0;)
    if (same_revision(m->versions[i].revision_id, m->current.revision_id))
      return &m->versions[i];
  return NULL;
}

bool gw_sfn_machine_busy(gateway *g, const char *machine_arn) {
  return g->store->ops->count_running(g->store, machine_arn, 1) > 0;
}

/* A deleted machine stays (DELETING) while its executions run; the first
 * look after the last one ends forgets it. */
static bool forget_if_deleted(gateway *g, gw_machine_rec *m) {
  if (!m->deleting || gw_sfn_machine_busy(g, m->arn)) return false;
  gw_store *s = g->store;
  gw_sfn_machines_lock();
  gw_machine_rec *now = s->ops->find_machine(s, m->arn);
  if (now && now->deleting) s->ops->delete_machine(s, m->arn);
  if (now) s->ops->release_machine(s, now);
  gw_sfn_machines_unlock();
  return true;
}

gw_machine_rec *gw_sfn_machine_find(gw_sfn_call *c,
                                    const gw_sfn_machine_ref *ref,
                                    const gw_revision **rev) {
  gw_store *s = c->g->store;
  gw_machine_rec *m = s->ops->find_machine(s, ref->arn);
  if (m && forget_if_deleted(c->g, m)) {
    s->ops->release_machine(s, m);
    m = NULL;
  }
  const gw_revision *r = m ? &m->current : NULL;
  if (m && ref->version) {
    r = NULL;
    for (size_t i = 0; i < m->nversions && !r; i++)
      if (m->versions[i].version == ref->version) r = &m->versions[i];
  }
  if (!r) {
    if (m) s->ops->release_machine(s, m);
    gw_sfn_fail(c, "StateMachineDoesNotExist",
                "State Machine Does Not Exist: '%s'", ref->given);
    return NULL;
  }
  if (rev) *rev = r;
  return m;
}

bool gw_sfn_machine_put(gw_sfn_call *c, gw_machine_rec *r) {
  if (c->g->store->ops->put_machine(c->g->store, r) == WF_OK) return true;
  gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  return false;
}

void gw_sfn_machine_release(gw_sfn_call *c, gw_machine_rec *m) {
  if (m) c->g->store->ops->release_machine(c->g->store, m);
}
