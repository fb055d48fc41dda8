/* A compiled JSONata tree moved into one block of its own.
 *
 * The parser builds a syntax tree, then process() builds the tree the
 * evaluator runs from it, in the same arena: half of what a compiled
 * expression holds is the first tree, never read again, and the nodes
 * that are read lie among it, in several chunks. A state machine runs
 * many expressions, each a few times, so the nodes an evaluation reads
 * are mostly not in the cache: the fewer bytes and lines they span, the
 * faster. jcompact() copies the tree the evaluator runs (its nodes, their
 * arrays, names, slots, signatures and literals' values) into one chunk
 * of exactly its size, in the order evaluation reads it (a node, then
 * what it holds), and frees the rest. Values shared in the tree (a slot, a variable's
 * name, a node reached twice) stay shared. Regular expressions are the
 * expression's own (wf__jsonata.res) and stay where they are. */
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "jsonata_impl.h"

/* Old address to new, for what the tree may share. Open addressing on
 * the address, doubled past half full. */
typedef struct moved {
  const void **from;
  void **to;
  size_t cap, n; /* cap a power of two */
  bool failed;   /* out of memory while growing */
} moved;

typedef struct copier {
  moved map;
  /* Sizing (block NULL): bytes counted in `used`. Copying: allocated
   * from block. */
  char *block;
  size_t used;
} copier;

static size_t slot_of(const moved *m, const void *p) {
  uintptr_t h = (uintptr_t)p >> 4;
  h ^= h >> 17;
  h *= 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 7) & (m->cap - 1);
}

static void *found(const moved *m, const void *p) {
  if (m->failed) return NULL;
  for (size_t i = slot_of(m, p);; i = (i + 1) & (m->cap - 1)) {
    if (!m->from[i]) return NULL;
    if (m->from[i] == p) return m->to[i];
  }
}

static void put(moved *m, const void *p, void *to) {
  size_t i = slot_of(m, p);
  while (m->from[i]) i = (i + 1) & (m->cap - 1);
  m->from[i] = p;
  m->to[i] = to;
  m->n++;
}

/* A table of cap entries, empty; false on out-of-memory. */
static bool map_init(moved *m, size_t cap) {
  m->from = wf__calloc(cap, sizeof *m->from);
  m->to = wf__malloc(cap * sizeof *m->to);
  m->cap = cap;
  m->n = 0;
  return m->from && m->to;
}

static void map_free(moved *m) {
  wf__free(m->from);
  wf__free(m->to);
}

static void keep(moved *m, const void *p, void *to) {
  if (m->failed) return;
  if (2 * (m->n + 1) > m->cap) {
    moved bigger = {0};
    if (!map_init(&bigger, 2 * m->cap)) {
      map_free(&bigger);
      m->failed = true;
      return;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->from[i]) put(&bigger, m->from[i], m->to[i]);
    map_free(m);
    *m = bigger;
  }
  put(m, p, to);
}

/* n bytes (16-aligned as the arena's), zeroed; while sizing, counted
 * only (a dummy non-NULL address, never written). */
static void *take(copier *c, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!c->block) {
    c->used += n;
    return (void *)(uintptr_t)16;
  }
  void *m = c->block + c->used;
  c->used += n;
  memset(m, 0, n);
  return m;
}

/* A copy of `n` bytes at `p`, remembered by address when `shared`. */
static void *copy_bytes(copier *c, const void *p, size_t n, bool shared) {
  if (!p) return NULL;
  if (shared) {
    void *seen = found(&c->map, p);
    if (seen) return seen;
  }
  void *m = take(c, n);
  if (c->block) memcpy(m, p, n);
  if (shared) keep(&c->map, p, m);
  return m;
}

/* A name: `len` bytes (it may hold NUL) or its C string if longer, and a
 * NUL after. */
static const char *copy_str(copier *c, const char *s, size_t len) {
  char *seen = found(&c->map, s);
  if (seen) return seen;
  size_t n = strlen(s);
  if (n < len) n = len;
  char *m = take(c, n + 1);
  keep(&c->map, s, m);
  if (c->block) memcpy(m, s, n); /* take() zeroed the NUL */
  return m;
}

static jslot *copy_slot(copier *c, const jslot *s) {
  if (!s) return NULL;
  jslot *seen = found(&c->map, s);
  if (seen) return seen;
  jslot *m = take(c, sizeof *m);
  keep(&c->map, s, m);
  const char *label = copy_str(c, s->label, strlen(s->label));
  if (c->block) {
    *m = *s;
    m->label = label;
  }
  return m;
}

static jnode *copy_node(copier *c, const jnode *n);

/* An array of `count` nodes, with the zeroed entry after them that the
 * parser allocates too. */
static jnode **copy_nodes(copier *c, jnode *const *v, size_t count) {
  if (!v) return NULL;
  jnode **m = take(c, (count + 1) * sizeof *m);
  for (size_t i = 0; i < count; i++) {
    jnode *x = copy_node(c, v[i]);
    if (c->block) m[i] = x;
  }
  return m;
}

static jstage *copy_stages(copier *c, const jstage *v, size_t count) {
  if (!v) return NULL;
  jstage *m = take(c, (count + 1) * sizeof *m);
  for (size_t i = 0; i < count; i++) {
    jnode *expr = copy_node(c, v[i].expr);
    const char *var = v[i].var ? copy_str(c, v[i].var, strlen(v[i].var)) : NULL;
    if (c->block) m[i] = (jstage){v[i].is_index, expr, var, v[i].pos};
  }
  return m;
}

static jslot **copy_slots(copier *c, jslot *const *v, size_t count) {
  if (!v) return NULL;
  jslot **m = take(c, (count + 1) * sizeof *m);
  for (size_t i = 0; i < count; i++) {
    jslot *s = copy_slot(c, v[i]);
    if (c->block) m[i] = s;
  }
  return m;
}

static jnode *copy_node(copier *c, const jnode *n) {
  if (!n) return NULL;
  jnode *seen = found(&c->map, n);
  if (seen) return seen;
  jnode *m = take(c, sizeof *m);
  keep(&c->map, n, m);
  jnode x = *n;
  /* What evaluation reads first, next to the node: a literal's value,
   * its name, then its steps, arguments or pairs. */
  if ((n->type == N_STRING || n->type == N_NUMBER) && n->lit)
    x.lit = copy_bytes(c, n->lit, jv_literal_bytes(), true);
  x.op = n->op ? copy_str(c, n->op, n->oplen) : NULL;
  x.items = copy_nodes(c, n->items, n->nitems);
  x.pairs = copy_nodes(c, n->pairs, 2 * n->npairs);
  x.proc = copy_node(c, n->proc);
  x.lhs = copy_node(c, n->lhs);
  x.rhs = copy_node(c, n->rhs);
  x.third = copy_node(c, n->third);
  x.focus = n->focus ? copy_str(c, n->focus, strlen(n->focus)) : NULL;
  x.index = n->index ? copy_str(c, n->index, strlen(n->index)) : NULL;
  x.ancestor = copy_slot(c, n->ancestor);
  x.pred = copy_stages(c, n->pred, n->npred);
  x.stages = copy_stages(c, n->stages, n->nstages);
  x.group = copy_nodes(c, n->group, 2 * n->ngroup);
  x.terms = copy_nodes(c, n->terms, n->nterms);
  x.desc = copy_bytes(c, n->desc, n->nterms * sizeof *n->desc + 1, false);
  x.body = copy_node(c, n->body);
  x.sig = copy_bytes(c, n->sig, sizeof *n->sig, true);
  x.slot = copy_slot(c, n->slot);
  x.seeking = copy_slots(c, n->seeking, n->nseeking);
  if (c->block) *m = x;
  return m;
}

/* Run one pass (sizing, or copying into block) with a fresh map of `cap`
 * entries; NULL on out-of-memory. */
static jnode *pass(copier *c, const jnode *root, size_t cap) {
  map_free(&c->map);
  memset(&c->map, 0, sizeof c->map);
  c->used = 0;
  if (!map_init(&c->map, cap)) return NULL;
  jnode *r = copy_node(c, root);
  return c->map.failed ? NULL : r;
}

int jcompact(struct wf__jsonata *e) {
  copier c = {0};
  ja_arena fresh = {0};
  int rc = -1;
  if (pass(&c, e->root, 128)) {
    /* The copy's map has room for all the sizing pass kept: it never
     * grows, so never fails, while the block is written. */
    size_t need = c.used, cap = 128;
    while (cap < 2 * (c.map.n + 1)) cap *= 2;
    c.block = ja_arena_block(&fresh, need);
    jnode *root = c.block ? pass(&c, e->root, cap) : NULL;
    if (root) {
      ja_arena_free(&e->arena);
      e->arena = fresh;
      e->root = root;
      rc = 0;
    } else {
      ja_arena_free(&fresh);
    }
  }
  map_free(&c.map);
  return rc;
}
