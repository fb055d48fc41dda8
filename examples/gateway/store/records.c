/* Freeing the store's records (gateway.h): the store frees what it holds,
 * the API side frees the copies it builds, with the same functions. */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

void gw_revision_fini(gw_revision *r) {
  free(r->arn);
  free(r->definition);
  free(r->description);
  free(r->revision_id);
  wf_machine_free(r->machine);
  memset(r, 0, sizeof *r);
}

void gw_alias_fini(gw_alias *a) {
  free(a->name);
  free(a->arn);
  free(a->description);
  memset(a, 0, sizeof *a);
}

void gw_machine_rec_fini(gw_machine_rec *m) {
  free(m->name);
  free(m->arn);
  free(m->role_arn);
  gw_revision_fini(&m->current);
  for (size_t i = 0; i < m->nversions; i++) gw_revision_fini(&m->versions[i]);
  free(m->versions);
  for (size_t i = 0; m->allowed_resources && m->allowed_resources[i]; i++)
    free(m->allowed_resources[i]);
  free(m->allowed_resources);
  free(m->tags);
  free(m->logging);
  free(m->tracing);
  for (size_t i = 0; i < m->naliases; i++) gw_alias_fini(&m->aliases[i]);
  free(m->aliases);
}

void gw_exec_rec_fini(gw_exec_rec *x) {
  free(x->arn);
  free(x->name);
  free(x->machine_arn);
  free(x->version_arn);
  free(x->alias_arn);
  free(x->role_arn);
  free(x->definition_id);
  free(x->correlation_id);
  free(x->input);
  free(x->output);
  free(x->error);
  free(x->cause);
}
