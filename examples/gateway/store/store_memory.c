/* The in-memory gw_store: state machines in creation order, executions in
 * hash tables by ARN and by name, and a queue that forgets finished
 * executions, oldest first, once the store holds more than `retention`
 * of them — so memory stays flat under any load.
 *
 * Semantics the contract leaves open, fixed here:
 *  - put_machine and put_execution always take the record, even when they
 *    fail. put_machine replaces a machine with the same ARN (an update);
 *    put_execution refuses a duplicate ARN with WF_EEXIST.
 *  - find_* return the stored record itself with a reference the caller
 *    drops with release_*; records are immutable once put (update a
 *    machine by putting a new record), so readers need no lock.
 *  - list_* return how many records match in all, and call fn for those
 *    from `start`, at most `max`, under the store's lock (fn must not call
 *    the store). Machines come in creation order, executions newest first.
 *    status_filter is a wf_exec_status, or -1 for any.
 *
 * One mutex guards the tables; work under it is O(1) per call apart from
 * listing. Records are freed outside it. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define SCAN_MAX 8 /* queue entries examined per put_execution */

typedef struct mnode {
  gw_machine_rec rec; /* first: release_machine() casts back */
  atomic_size_t refs;
  struct mnode *next; /* creation order */
} mnode;

typedef struct xnode {
  gw_exec_rec rec; /* first: release_execution() casts back */
  atomic_size_t refs;
  uint64_t seq;                 /* put order, for newest-first listing */
  struct xnode *prev, *next;    /* the eviction queue */
  struct xnode *by_arn, *by_name; /* hash chains */
  size_t arn_hash, name_hash;
} xnode;

typedef struct table {
  xnode **arn, **name;
  size_t cap; /* power of two */
} table;

typedef struct mem_store {
  gw_store base; /* first: gw_store * casts back */
  pthread_mutex_t lock;
  size_t retention;
  mnode *machines;
  table t;
  size_t nexec;
  uint64_t seq;
  xnode *head, *tail; /* oldest first */
} mem_store;

static size_t hash(const char *s) {
  size_t h = 1469598103934665603u; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

/* ---- records ------------------------------------------------------------ */

static void mnode_unref(mnode *n) {
  if (n && atomic_fetch_sub(&n->refs, 1) == 1) {
    gw_machine_rec_fini(&n->rec);
    free(n);
  }
}

static void xnode_unref(xnode *n) {
  if (n && atomic_fetch_sub(&n->refs, 1) == 1) {
    gw_exec_rec_fini(&n->rec);
    free(n);
  }
}

/* ---- machines ----------------------------------------------------------- */

static int put_machine(gw_store *s, gw_machine_rec *rec) {
  mem_store *m = (mem_store *)s;
  mnode *n = calloc(1, sizeof *n);
  if (!n || !rec->arn || !rec->name) {
    gw_machine_rec_fini(rec);
    free(rec);
    free(n);
    return n ? WF_EINVAL : WF_ENOMEM;
  }
  n->rec = *rec;
  free(rec);
  atomic_init(&n->refs, 1);
  mnode *old = NULL;
  pthread_mutex_lock(&m->lock);
  mnode **p = &m->machines;
  while (*p && strcmp((*p)->rec.arn, n->rec.arn) != 0) p = &(*p)->next;
  if (*p) { /* replace in place: an update keeps its position */
    old = *p;
    n->next = old->next;
  }
  *p = n;
  pthread_mutex_unlock(&m->lock);
  mnode_unref(old);
  return WF_OK;
}

static gw_machine_rec *find_machine(gw_store *s, const char *key) {
  mem_store *m = (mem_store *)s;
  pthread_mutex_lock(&m->lock);
  mnode *n = m->machines;
  while (n && strcmp(n->rec.arn, key) != 0 && strcmp(n->rec.name, key) != 0)
    n = n->next;
  if (n) atomic_fetch_add(&n->refs, 1);
  pthread_mutex_unlock(&m->lock);
  return n ? &n->rec : NULL;
}

static void release_machine(gw_store *s, gw_machine_rec *rec) {
  (void)s;
  mnode_unref((mnode *)rec);
}

static int delete_machine(gw_store *s, const char *arn) {
  mem_store *m = (mem_store *)s;
  pthread_mutex_lock(&m->lock);
  mnode **p = &m->machines;
  while (*p && strcmp((*p)->rec.arn, arn) != 0) p = &(*p)->next;
  mnode *n = *p;
  if (n) *p = n->next;
  pthread_mutex_unlock(&m->lock);
  mnode_unref(n);
  return n ? WF_OK : WF_ENOTFOUND;
}

static size_t list_machines(gw_store *s, size_t start, size_t max,
                            void (*fn)(const gw_machine_rec *, void *),
                            void *arg) {
  mem_store *m = (mem_store *)s;
  size_t i = 0;
  pthread_mutex_lock(&m->lock);
  for (mnode *n = m->machines; n; n = n->next, i++)
    if (fn && i >= start && i - start < max) fn(&n->rec, arg);
  pthread_mutex_unlock(&m->lock);
  return i;
}

/* ---- executions: tables and queue -------------------------------------- */

static xnode **arn_slot(table *t, const char *arn, size_t h) {
  xnode **p = &t->arn[h & (t->cap - 1)];
  while (*p && strcmp((*p)->rec.arn, arn) != 0) p = &(*p)->by_arn;
  return p;
}

/* Doubling keeps chains short; a failed resize only makes them longer. */
static void grow(mem_store *m) {
  size_t cap = m->t.cap * 2;
  xnode **arn = calloc(cap, sizeof *arn), **name = calloc(cap, sizeof *name);
  if (!arn || !name) {
    free(arn);
    free(name);
    return;
  }
  for (xnode *n = m->head; n; n = n->next) {
    n->by_arn = arn[n->arn_hash & (cap - 1)];
    arn[n->arn_hash & (cap - 1)] = n;
    n->by_name = name[n->name_hash & (cap - 1)];
    name[n->name_hash & (cap - 1)] = n;
  }
  free(m->t.arn);
  free(m->t.name);
  m->t = (table){arn, name, cap};
}

static void queue_unlink(mem_store *m, xnode *n) {
  if (n->prev) n->prev->next = n->next;
  else m->head = n->next;
  if (n->next) n->next->prev = n->prev;
  else m->tail = n->prev;
  n->prev = n->next = NULL;
}

static void queue_append(mem_store *m, xnode *n) {
  n->prev = m->tail;
  n->next = NULL;
  if (m->tail) m->tail->next = n;
  else m->head = n;
  m->tail = n;
}

static void unlink_all(mem_store *m, xnode *n) {
  xnode **p = arn_slot(&m->t, n->rec.arn, n->arn_hash);
  if (*p == n) *p = n->by_arn;
  p = &m->t.name[n->name_hash & (m->t.cap - 1)];
  while (*p && *p != n) p = &(*p)->by_name;
  if (*p) *p = n->by_name;
  queue_unlink(m, n);
  m->nexec--;
}

/* Forget finished executions from the old end while over retention. A
 * running one found there moves to the young end, so a long execution
 * never blocks the queue; SCAN_MAX bounds the work of one put. */
static xnode *evict(mem_store *m) {
  xnode *gone = NULL;
  for (int i = 0; i < SCAN_MAX && m->nexec > m->retention && m->head; i++) {
    xnode *n = m->head;
    if (!n->rec.exec || wf_execution_status(n->rec.exec) != WF_EXEC_RUNNING) {
      unlink_all(m, n);
      n->next = gone;
      gone = n;
    } else if (n != m->tail) {
      queue_unlink(m, n);
      queue_append(m, n);
    } else {
      break;
    }
  }
  return gone;
}

static int put_execution(gw_store *s, gw_exec_rec *rec) {
  mem_store *m = (mem_store *)s;
  xnode *n = calloc(1, sizeof *n);
  if (!n || !rec->arn || !rec->name) {
    gw_exec_rec_fini(rec);
    free(rec);
    free(n);
    return n ? WF_EINVAL : WF_ENOMEM;
  }
  n->rec = *rec;
  free(rec);
  atomic_init(&n->refs, 1);
  n->arn_hash = hash(n->rec.arn);
  n->name_hash = hash(n->rec.name);
  pthread_mutex_lock(&m->lock);
  xnode **slot = arn_slot(&m->t, n->rec.arn, n->arn_hash);
  if (*slot) {
    pthread_mutex_unlock(&m->lock);
    xnode_unref(n);
    return WF_EEXIST;
  }
  *slot = n;
  xnode **ns = &m->t.name[n->name_hash & (m->t.cap - 1)];
  n->by_name = *ns; /* newest first: a name reused later wins */
  *ns = n;
  n->seq = ++m->seq;
  queue_append(m, n);
  m->nexec++;
  if (m->nexec > m->t.cap) grow(m);
  xnode *gone = evict(m);
  pthread_mutex_unlock(&m->lock);
  while (gone) {
    xnode *next = gone->next;
    xnode_unref(gone);
    gone = next;
  }
  return WF_OK;
}

static gw_exec_rec *find_execution(gw_store *s, const char *key) {
  mem_store *m = (mem_store *)s;
  bool by_arn = strncmp(key, "arn:", 4) == 0;
  size_t h = hash(key);
  pthread_mutex_lock(&m->lock);
  xnode *n;
  if (by_arn) {
    n = *arn_slot(&m->t, key, h);
  } else {
    n = m->t.name[h & (m->t.cap - 1)];
    while (n && strcmp(n->rec.name, key) != 0) n = n->by_name;
  }
  if (n) atomic_fetch_add(&n->refs, 1);
  pthread_mutex_unlock(&m->lock);
  return n ? &n->rec : NULL;
}

static void release_execution(gw_store *s, gw_exec_rec *rec) {
  (void)s;
  xnode_unref((xnode *)rec);
}

static int newest_first(const void *a, const void *b) {
  uint64_t x = (*(xnode *const *)a)->seq, y = (*(xnode *const *)b)->seq;
  return x < y ? 1 : x > y ? -1 : 0;
}

static size_t list_executions(gw_store *s, const char *machine_arn,
                              int status_filter, size_t start, size_t max,
                              void (*fn)(const gw_exec_rec *, void *),
                              void *arg) {
  mem_store *m = (mem_store *)s;
  pthread_mutex_lock(&m->lock);
  xnode **v = fn ? malloc((m->nexec ? m->nexec : 1) * sizeof *v) : NULL;
  size_t count = 0;
  for (xnode *n = m->head; n; n = n->next) {
    if (machine_arn && strcmp(n->rec.machine_arn, machine_arn) != 0) continue;
    if (status_filter >= 0 &&
        (!n->rec.exec ||
         (int)wf_execution_status(n->rec.exec) != status_filter))
      continue;
    if (v) v[count] = n;
    count++;
  }
  if (v) {
    qsort(v, count, sizeof *v, newest_first);
    for (size_t i = start; i < count && i - start < max; i++)
      fn(&v[i]->rec, arg);
  }
  pthread_mutex_unlock(&m->lock);
  free(v);
  return count;
}

/* ---- the store ---------------------------------------------------------- */

static void destroy(gw_store *s) {
  mem_store *m = (mem_store *)s;
  if (!m) return;
  while (m->machines) {
    mnode *n = m->machines;
    m->machines = n->next;
    mnode_unref(n);
  }
  while (m->head) {
    xnode *n = m->head;
    queue_unlink(m, n);
    xnode_unref(n);
  }
  free(m->t.arn);
  free(m->t.name);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

static const gw_store_ops MEMORY_OPS = {
    destroy,       put_machine,       find_machine,      release_machine,
    delete_machine, list_machines,    put_execution,     find_execution,
    release_execution, list_executions};

gw_store *gw_store_memory_new(size_t retention) {
  mem_store *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->base.ops = &MEMORY_OPS;
  m->retention = retention;
  m->t.cap = 1024;
  m->t.arn = calloc(m->t.cap, sizeof *m->t.arn);
  m->t.name = calloc(m->t.cap, sizeof *m->t.name);
  if (!m->t.arn || !m->t.name || pthread_mutex_init(&m->lock, NULL) != 0) {
    free(m->t.arn);
    free(m->t.name);
    free(m);
    return NULL;
  }
  return &m->base;
}
