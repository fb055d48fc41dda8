/* JSONata values: the evaluation arena, construction, conversion to and
 * from jansson, JavaScript's number printing, deep equality, and the error
 * raised by longjmp with its message in jsonata-js's words. */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json_text.h"
#include "jsonata_impl.h"

/* --- arena --- */

/* Each chunk twice the size of the one before, up to JA_CHUNK_MAX: an
 * evaluation that needs megabytes takes a few of them, not hundreds of
 * small ones that malloc hands back to the system (and faults in again)
 * at every evaluation. The first, with its header, stays within glibc's
 * per-thread cache of small blocks (1 KiB), where most evaluations fit. */
#define JA_CHUNK_MIN 992u
#define JA_CHUNK_MAX 1048576u

struct ja_chunk {
  ja_chunk *next;
  size_t grow; /* the size this chunk was due (JA_CHUNK_MIN, doubling) */
  size_t size; /* bytes in data */
  max_align_t data[];
};

/* Each thread keeps one chunk that an arena released (the largest, at
 * most JA_CHUNK_MAX) for the next arena that outgrows its first chunk:
 * glibc's malloc gives the top of its heap back to the system when a few
 * hundred kB are freed, and the next evaluation of that size faults the
 * pages in again (half the time of a sum over the benchmark's 700 line
 * items went there). The kept chunk is freed when its thread exits (the
 * key's destructor). spare_key is written once, under spare_once; each
 * thread's value is its own. */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_ready;

static void spare_free(void *c) { wf__free(c); }
static void spare_init(void) {
  spare_ready = pthread_key_create(&spare_key, spare_free) == 0;
}

/* The thread's kept chunk if it holds `n` bytes (taken from the thread). */
static ja_chunk *spare_take(size_t n) {
  pthread_once(&spare_once, spare_init);
  if (!spare_ready) return NULL;
  ja_chunk *c = pthread_getspecific(spare_key);
  if (!c || c->size < n) return NULL;
  pthread_setspecific(spare_key, NULL);
  return c;
}

/* Keep c for the thread if it is larger than the chunk kept; false when
 * the caller is to free it. */
static bool spare_keep(ja_chunk *c) {
  pthread_once(&spare_once, spare_init);
  if (!spare_ready || c->size > JA_CHUNK_MAX) return false;
  ja_chunk *old = pthread_getspecific(spare_key);
  if (old && old->size >= c->size) return false;
  if (pthread_setspecific(spare_key, c) != 0) return false;
  wf__free(old);
  return true;
}

void *ja_alloc_chunk(ja_arena *a, size_t n) {
  {
    size_t grow = a->head ? a->head->grow * 2 : JA_CHUNK_MIN;
    if (grow > JA_CHUNK_MAX) grow = JA_CHUNK_MAX;
    size_t sz = n > grow ? n : grow;
    /* Not for a first chunk: most arenas (a compiled expression's, a
     * small evaluation's) never need a second, and would hold the kept
     * chunk for nothing. */
    ja_chunk *c = a->head ? spare_take(sz) : NULL;
    if (c) {
      grow = c->grow > grow ? c->grow : grow;
      sz = c->size;
    } else {
      c = wf__malloc(sizeof *c + sz);
      if (!c) return NULL;
      c->size = sz;
    }
    c->grow = grow;
    c->next = a->head;
    a->head = c;
    a->cur = (char *)c->data;
    a->end = a->cur + sz;
  }
  void *m = a->cur;
  a->cur += n;
  return m;
}

/* Free the chunks from c on but `first` (kept; NULL: none), offering
 * the largest of those after the first one to the thread. */
static void chunks_free(ja_chunk *c, const ja_chunk *first) {
  ja_chunk *keep = NULL;
  for (ja_chunk *x = c; x; x = x->next)
    if (x->next && x->size <= JA_CHUNK_MAX && (!keep || x->size > keep->size))
      keep = x;
  while (c) {
    ja_chunk *n = c->next;
    if (c != first && (c != keep || !spare_keep(c))) wf__free(c);
    c = n;
  }
}

/* The most an arena keeps when reset: evaluations of up to this size then
 * allocate nothing from the heap the next time. */
#define JA_KEEP_MAX 65536u

void ja_arena_reset(ja_arena *a) {
  /* The newest chunk is the largest: kept, up to JA_KEEP_MAX, so that the
   * next evaluation of the same size takes no chunk (or the oldest, the
   * first, when the newest is larger). */
  ja_chunk *first = a->head;
  if (first && first->size > JA_KEEP_MAX) {
    while (first->next) first = first->next;
    if (first->size > JA_KEEP_MAX) first = NULL;
  }
  chunks_free(a->head, first);
  if (first) first->next = NULL;
  a->head = first;
  a->cur = first ? (char *)first->data : NULL;
  a->end = first ? a->cur + first->size : NULL;
}

void *ja_arena_block(ja_arena *a, size_t n) {
  if (!n) n = 16;
  ja_chunk *c = wf__malloc(sizeof *c + n);
  if (!c) return NULL;
  c->size = n;
  c->grow = JA_CHUNK_MIN;
  c->next = NULL;
  a->head = c;
  a->cur = a->end = (char *)c->data + n;
  return c->data;
}

void ja_arena_free(ja_arena *a) {
  chunks_free(a->head, NULL);
  a->head = NULL;
  a->cur = a->end = NULL;
}

/* --- errors --- */

void jerr_reset(jerr *e, const char *code) {
  memset(e, 0, sizeof *e);
  e->code = code;
  e->pos = -1;
}

_Noreturn void jrethrow(jev *ev) { longjmp(ev->h->jb, 1); }

_Noreturn void jthrow(jev *ev, const char *code, int pos, const char *token,
                      jv *value) {
  jerr_reset(&ev->err, code);
  ev->err.pos = pos;
  ev->err.token = token;
  ev->err.value = value;
  ev->err.has_value = true;
  jrethrow(ev);
}

_Noreturn void jthrow_oom(jev *ev) {
  jerr_reset(&ev->err, "U1002");
  ev->fuel = 0; /* the next step sees the budget spent */
  if (ev->budget) wf__budget_nomem(ev->budget);
  jrethrow(ev);
}

void *jalloc_chunk(jev *ev, size_t n) {
  void *m = ja_alloc_chunk(&ev->arena, n);
  if (!m) jthrow_oom(ev);
  return m;
}

wf__strbuf *jsb_new(jev *ev) {
  jsb_node *b = jalloc(ev, sizeof *b);
  b->sb = (wf__strbuf)WF__STRBUF_INIT;
  b->next = ev->bufs;
  ev->bufs = b;
  return &b->sb;
}

char *jstrdup(jev *ev, const char *s, size_t n) {
  char *m = jalloc(ev, n + 1);
  if (n) memcpy(m, s, n);
  m[n] = '\0';
  return m;
}

/* --- values --- */

/* A value takes the bytes its kind uses: a number 16, an array 32, not
 * the whole union (a function's fields, 112). Nothing copies a jv whole. */
#define JV_SIZE(member) (offsetof(jv, u) + sizeof(((jv *)0)->u.member))

/* A container of the input, still in its jansson value: an evaluation
 * reads a few paths of a document it is given whole, so each array or
 * object is converted when first looked into (jv_force), one level at a
 * time, its containers lazy in turn. Until then it is empty to whatever
 * does not force it (JA_LAZY). The jlazy sits just before its value in
 * the arena.
 *
 * jv_get on a lazy object converts only the member it is asked for, and
 * jv_at on a lazy array only the element. A member or element that is an
 * array or object is one value however often it is looked up (`in` and
 * the parent operator compare values by identity), so the lazy value
 * lists those it made (kids), and jv_force uses them; a number or string
 * may be made again.
 *
 * JA_ASIS marks a container of the input that still holds what its
 * jansson value does: set with JA_LAZY, kept when the container is
 * converted, cleared by jv_set, jv_add, jv_push and jv_del (the only
 * writers of a container made; the others write copies). A result
 * holding it takes a reference to the jansson value (jv_to_json) when
 * nothing below it was written either. */
typedef struct jkid {
  json_t *j;
  jv *v;
  struct jkid *next;
} jkid;
typedef struct jlazy {
  json_t *j;
  jev *ev;
  jkid *kids;
  /* Not 0: the value is (part of) a document given with this bound of its
   * text's size and its numbers as a result's (a record member's size). */
  size_t bound;
  bool own; /* a record member given up for the result (its root only) */
} jlazy;
#define LAZY_HEAD ((sizeof(jlazy) + 15) & ~(size_t)15) /* keeps the jv aligned */
#define LAZY_OF(v) ((jlazy *)(void *)((char *)(v) - LAZY_HEAD))
static jv *kid(jlazy *l, json_t *x);

void jv_force(const jv *v);

static inline void force(const jv *v) {
  if (v && (v->flags & JA_LAZY)) jv_force(v);
}

jv jv_null_v = {.kind = JV_NULL};
jv jv_true_v = {.kind = JV_BOOL, .u.b = true};
jv jv_false_v = {.kind = JV_BOOL, .u.b = false};

jv *jv_num(jev *ev, double d) {
  jv *v = jalloc(ev, JV_SIZE(n));
  v->kind = JV_NUM;
  v->flags = 0;
  v->u.n = d;
  return v;
}

jv *jv_str(jev *ev, const char *s, size_t n) {
  jv *v = jalloc(ev, JV_SIZE(str));
  v->kind = JV_STR;
  v->flags = 0;
  v->u.str.s = s;
  v->u.str.len = n;
  return v;
}

jv *jv_cstr(jev *ev, const char *s) { return jv_str(ev, s, strlen(s)); }
jv *jv_bool(bool b) { return b ? &jv_true_v : &jv_false_v; }

jv *jv_arr(jev *ev, uint16_t flags) {
  jv *v = jalloc(ev, JV_SIZE(arr));
  memset(v, 0, JV_SIZE(arr));
  v->kind = JV_ARR;
  v->flags = flags;
  return v;
}

jv *jv_seq(jev *ev) { return jv_arr(ev, JA_SEQ); }

jv *jv_obj(jev *ev) {
  jv *v = jalloc(ev, JV_SIZE(obj));
  memset(v, 0, JV_SIZE(obj));
  v->kind = JV_OBJ;
  return v;
}

jv *jv_func(jev *ev, jf_kind fk) {
  jv *v = jalloc(ev, sizeof *v);
  memset(v, 0, sizeof *v);
  v->kind = JV_FUNC;
  v->u.f.fk = fk;
  return v;
}

void jv_push_slow(jev *ev, jv *a, jv *v) {
  /* Every element placed is work: sequences that double each round
   * ([$s, $s] in a tail-recursive loop) spend the budget as they grow. */
  jcharge(ev);
  force(a);
  a->flags &= (uint16_t)~(JA_ASIS | JA_BASED);
  if (a->u.arr.len == a->u.arr.cap) {
    size_t cap = a->u.arr.cap ? a->u.arr.cap * 2 : 4;
    jv **m = jalloc(ev, cap * sizeof *m);
    if (a->u.arr.len) memcpy(m, a->u.arr.v, a->u.arr.len * sizeof *m);
    a->u.arr.v = m;
    a->u.arr.cap = cap;
  }
  a->u.arr.v[a->u.arr.len++] = v;
}

static long obj_find(const jv *o, const char *k, size_t kl) {
  if (!o || o->kind != JV_OBJ) return -1; /* undefined, or not an object */
  force(o);
  for (size_t i = 0; i < o->u.obj.len; i++)
    if (o->u.obj.kl[i] == kl && !memcmp(o->u.obj.k[i], k, kl)) return (long)i;
  return -1;
}

/* Room for cap members in o, its three arrays in one block. */
static void obj_grow(jev *ev, jv *o, size_t cap) {
  char *m = jalloc(ev, cap * (sizeof(char *) + sizeof(size_t) + sizeof(jv *)));
  const char **nk = (const char **)(void *)m;
  size_t *nl = (size_t *)(void *)(m + cap * sizeof(char *));
  jv **nv = (jv **)(void *)(m + cap * (sizeof(char *) + sizeof(size_t)));
  size_t n = o->u.obj.len;
  if (n) {
    memcpy(nk, o->u.obj.k, n * sizeof *nk);
    memcpy(nl, o->u.obj.kl, n * sizeof *nl);
    memcpy(nv, o->u.obj.v, n * sizeof *nv);
  }
  o->u.obj.k = nk;
  o->u.obj.kl = nl;
  o->u.obj.v = nv;
  o->u.obj.cap = cap;
}

jv *jv_obj_cap(jev *ev, size_t cap) {
  jv *o = jv_obj(ev);
  if (cap) obj_grow(ev, o, cap);
  return o;
}

/* An object $merge made: its base, in the 16 bytes before it. */
#define BASED_HEAD 16
#define BASE_OF(v) (*(const jv **)(void *)((char *)(v) - BASED_HEAD))

jv *jv_obj_based(jev *ev, size_t cap, const jv *base) {
  char *m = jalloc(ev, BASED_HEAD + JV_SIZE(obj));
  jv *o = (jv *)(void *)(m + BASED_HEAD);
  memset(o, 0, JV_SIZE(obj));
  o->kind = JV_OBJ;
  *(const jv **)(void *)m = base;
  if (cap) obj_grow(ev, o, cap);
  return o;
}

void jv_based_done(jv *o) { o->flags |= JA_BASED; }

void jv_add_slow(jev *ev, jv *o, const char *k, size_t kl, jv *v) {
  force(o);
  o->flags &= (uint16_t)~(JA_ASIS | JA_BASED);
  if (o->u.obj.len == o->u.obj.cap) obj_grow(ev, o, o->u.obj.cap ? o->u.obj.cap * 2 : 4);
  o->u.obj.k[o->u.obj.len] = k;
  o->u.obj.kl[o->u.obj.len] = kl;
  o->u.obj.v[o->u.obj.len++] = v;
}

void jv_set(jev *ev, jv *o, const char *k, size_t kl, jv *v) {
  long i = obj_find(o, k, kl);
  if (i >= 0) {
    o->flags &= (uint16_t)~(JA_ASIS | JA_BASED);
    o->u.obj.v[i] = v;
    return;
  }
  jv_add(ev, o, k, kl, v);
}

/* Member k of object o for a look that keeps no hold of it (an operand):
 * a number or string of an input object is written into *tmp rather than
 * made in the arena; anything else is jv_get's value. */
jv *jv_peek(const jv *o, const char *k, size_t kl, jv *tmp);
jv *jv_peek(const jv *o, const char *k, size_t kl, jv *tmp) {
  if (!o || o->kind != JV_OBJ || !(o->flags & JA_LAZY)) return jv_get(o, k, kl);
  json_t *x = json_object_getn(LAZY_OF(o)->j, k, kl);
  if (!x) return NULL;
  tmp->flags = 0;
  switch (json_typeof(x)) {
  case JSON_INTEGER:
    tmp->kind = JV_NUM;
    tmp->u.n = (double)json_integer_value(x);
    return tmp;
  case JSON_REAL:
    tmp->kind = JV_NUM;
    tmp->u.n = json_real_value(x);
    return tmp;
  case JSON_STRING:
    tmp->kind = JV_STR;
    tmp->u.str.s = json_string_value(x);
    tmp->u.str.len = json_string_length(x);
    return tmp;
  default:
    return kid(LAZY_OF(o), x);
  }
}

jv *jv_get(const jv *o, const char *k, size_t kl) {
  if (o && o->kind == JV_OBJ && (o->flags & JA_LAZY)) {
    jlazy *l = LAZY_OF(o);
    json_t *x = json_object_getn(l->j, k, kl);
    return x ? kid(l, x) : NULL;
  }
  long i = obj_find(o, k, kl);
  return i >= 0 ? o->u.obj.v[i] : NULL;
}

bool jv_del(jv *o, const char *k, size_t kl) {
  long i = obj_find(o, k, kl);
  if (i < 0) return false;
  o->flags &= (uint16_t)~(JA_ASIS | JA_BASED);
  size_t n = o->u.obj.len - (size_t)i - 1;
  memmove(o->u.obj.k + i, o->u.obj.k + i + 1, n * sizeof *o->u.obj.k);
  memmove(o->u.obj.kl + i, o->u.obj.kl + i + 1, n * sizeof *o->u.obj.kl);
  memmove(o->u.obj.v + i, o->u.obj.v + i + 1, n * sizeof *o->u.obj.v);
  o->u.obj.len--;
  return true;
}

/* A number or string of the input keeps its jansson value (JA_JSON, in
 * the slot after the value's fields): a result that holds it takes a
 * reference to that value rather than a copy (jv_to_json), so the result
 * may share these leaves with the input (read only, as jansson's values
 * are counted atomically). */
#define JA_JSON 128
#define JSON_SLOT(v) ((json_t **)(void *)((char *)(v) + JV_SIZE(str)))

static json_t *num_to_json(double d, jout *o);

jv *jv_literal_new(const jnode *n) {
  double d = n->num;
  jout unsized = {0};
  json_t *j = n->type == N_STRING ? json_stringn_nocheck(n->op, n->oplen)
                                  : num_to_json(d, &unsized);
  jv *v = j ? wf__malloc(JV_SIZE(str) + sizeof(json_t *)) : NULL;
  if (!v) {
    json_decref(j);
    return NULL;
  }
  v->flags = JA_JSON;
  *JSON_SLOT(v) = j;
  if (n->type == N_STRING) {
    v->kind = JV_STR;
    v->u.str.s = json_string_value(j);
    v->u.str.len = n->oplen;
  } else {
    v->kind = JV_NUM;
    v->u.n = d;
  }
  return v;
}

size_t jv_literal_bytes(void) { return JV_SIZE(str) + sizeof(json_t *); }

void jv_literal_free(jv *v) {
  if (!v) return;
  json_decref(*JSON_SLOT(v));
  wf__free(v);
}

static jv *input_scalar(jev *ev, json_t *j, jv_kind kind) {
  jv *v = jalloc(ev, JV_SIZE(str) + sizeof(json_t *));
  v->kind = (uint8_t)kind;
  v->flags = JA_JSON;
  *JSON_SLOT(v) = j;
  return v;
}

/* The bytes of a lazy container: its jlazy, then the value (room for
 * either kind: an object's fields are the larger). */
#define LAZY_SIZE (LAZY_HEAD + JV_SIZE(obj))

/* The lazy value of j (an array or object), in m (LAZY_SIZE bytes). */
static jv *lazy_in(jev *ev, json_t *j, char *m, size_t bound) {
  jlazy *l = (jlazy *)(void *)m;
  jv *v = (jv *)(void *)(m + LAZY_HEAD);
  memset(v, 0, JV_SIZE(obj));
  v->kind = json_is_array(j) ? JV_ARR : JV_OBJ;
  v->flags = JA_LAZY | JA_ASIS;
  l->j = j;
  l->ev = ev;
  l->kids = NULL;
  l->bound = bound;
  l->own = false;
  return v;
}

static jv *from_json(jev *ev, json_t *j, size_t bound) {
  jv *v;
  switch (json_typeof(j)) {
  case JSON_NULL: return JV_NULLV;
  case JSON_TRUE: return &jv_true_v;
  case JSON_FALSE: return &jv_false_v;
  case JSON_INTEGER:
    v = input_scalar(ev, j, JV_NUM);
    v->u.n = (double)json_integer_value(j);
    return v;
  case JSON_REAL:
    v = input_scalar(ev, j, JV_NUM);
    v->u.n = json_real_value(j);
    return v;
  case JSON_STRING:
    v = input_scalar(ev, j, JV_STR);
    v->u.str.s = json_string_value(j);
    v->u.str.len = json_string_length(j);
    return v;
  case JSON_ARRAY:
  case JSON_OBJECT: return lazy_in(ev, j, jalloc(ev, LAZY_SIZE), bound);
  }
  return NULL;
}

jv *jv_from_json(jev *ev, json_t *j) { return j ? from_json(ev, j, 0) : NULL; }

jv *jv_record(jev *ev, const struct wf__jsonata_member *m, size_t n) {
  jv *o = jv_obj_cap(ev, n);
  /* The members' lazy containers in one block. */
  size_t lazies = 0;
  for (size_t i = 0; i < n; i++)
    if (json_is_array(m[i].value) || json_is_object(m[i].value)) lazies++;
  char *block = lazies ? jalloc(ev, lazies * LAZY_SIZE) : NULL;
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *j = m[i].value;
    if (!j) continue;
    jv *v;
    if (json_is_array(j) || json_is_object(j)) {
      v = lazy_in(ev, j, block, m[i].size);
      LAZY_OF(v)->own = m[i].own && m[i].size;
      block += LAZY_SIZE;
    } else {
      v = from_json(ev, j, 0);
    }
    o->u.obj.k[len] = m[i].name;
    o->u.obj.kl[len] = strlen(m[i].name);
    o->u.obj.v[len++] = v;
  }
  o->u.obj.len = len;
  return o;
}

/* The value made already for x, a member or element of lazy l. */
static jv *made(const jlazy *l, const json_t *x) {
  for (jkid *k = l->kids; k; k = k->next)
    if (k->j == x) return k->v;
  return NULL;
}

/* The value of x, a member or element of lazy l. */
static jv *kid(jlazy *l, json_t *x) {
  if (!json_is_array(x) && !json_is_object(x)) return from_json(l->ev, x, 0);
  jv *v = made(l, x);
  if (v) return v;
  jkid *k = jalloc(l->ev, sizeof *k);
  k->j = x;
  k->v = from_json(l->ev, x, l->bound);
  k->next = l->kids;
  l->kids = k;
  return k->v;
}

/* Convert a lazy container's own level (its members stay lazy). */
void jv_force(const jv *cv) {
  if (!cv || !(cv->flags & JA_LAZY)) return;
  jv *v = (jv *)cv;
  jlazy *l = LAZY_OF(cv);
  jev *ev = l->ev;
  json_t *j = l->j;
  if (v->kind == JV_ARR) {
    size_t n = json_array_size(j);
    jv **a = jalloc(ev, (n ? n : 1) * sizeof *a);
    /* Not charged to the budget: the input is bounded already, and an
     * error's message may force its value after the budget is spent. The
     * elements' lazy containers share one block (an array of objects is
     * the common case). */
    char *block = NULL;
    for (size_t i = 0; i < n; i++) {
      json_t *x = json_array_get(j, i);
      jv *m = l->kids ? made(l, x) : NULL;
      if (m) {
        a[i] = m;
      } else if (json_is_array(x) || json_is_object(x)) {
        if (!block) block = jalloc(ev, (n - i) * LAZY_SIZE);
        a[i] = lazy_in(ev, x, block, l->bound);
        block += LAZY_SIZE;
      } else {
        a[i] = from_json(ev, x, 0);
      }
    }
    v->u.arr.v = a;
    v->u.arr.len = v->u.arr.cap = n;
  } else {
    size_t n = json_object_size(j), i = 0;
    size_t cap = n ? n : 1;
    const char **k = jalloc(ev, cap * sizeof *k);
    size_t *kl = jalloc(ev, cap * sizeof *kl);
    jv **vals = jalloc(ev, cap * sizeof *vals);
    /* jansson's keys are distinct, in insertion order. */
    for (void *it = json_object_iter(j); it && i < n; it = json_object_iter_next(j, it), i++) {
      k[i] = json_object_iter_key(it);
      kl[i] = json_object_iter_key_len(it);
      json_t *x = json_object_iter_value(it);
      jv *m = l->kids ? made(l, x) : NULL;
      vals[i] = m ? m : from_json(ev, x, l->bound);
    }
    v->u.obj.k = k;
    v->u.obj.kl = kl;
    v->u.obj.v = vals;
    v->u.obj.len = i;
    v->u.obj.cap = cap;
  }
  v->flags &= (uint16_t)~JA_LAZY;
}

/* An array's length, and its element i (i < jv_len), without converting
 * an input array. */
size_t jv_len(const jv *v);
size_t jv_len(const jv *v) {
  if (v->flags & JA_LAZY) return json_array_size(LAZY_OF(v)->j);
  return v->u.arr.len;
}

jv *jv_at(const jv *v, size_t i);
jv *jv_at(const jv *v, size_t i) {
  if (v->flags & JA_LAZY) {
    jlazy *l = LAZY_OF(v);
    return kid(l, json_array_get(l->j, i));
  }
  return v->u.arr.v[i];
}

/* Whether v, an input container, still holds what its jansson value
 * does: neither it nor a container converted below it was written. Only
 * the containers looked into are visited (a lazy one's kids, a converted
 * one's members). */
static bool asis(const jv *v) {
  if (!(v->flags & JA_ASIS)) return false;
  if (v->flags & JA_LAZY) {
    for (const jkid *k = LAZY_OF(v)->kids; k; k = k->next)
      if (!asis(k->v)) return false;
    return true;
  }
  size_t n = v->kind == JV_ARR ? v->u.arr.len : v->u.obj.len;
  jv *const *m = v->kind == JV_ARR ? v->u.arr.v : v->u.obj.v;
  for (size_t i = 0; i < n; i++)
    if ((m[i]->kind == JV_ARR || m[i]->kind == JV_OBJ) && !asis(m[i]))
      return false;
  return true;
}

/* Whether a number of JSON is the one jv_to_json would make of it: no
 * whole real, no integer past 2^53. */
static bool num_normal(const json_t *j) {
  if (json_is_integer(j)) {
    json_int_t i = json_integer_value(j);
    return i > -9007199254740992LL && i < 9007199254740992LL;
  }
  double d = json_real_value(j);
  return !(d == floor(d) && fabs(d) < 9007199254740992.0);
}

bool jjson_normal(const json_t *j) {
  switch (json_typeof(j)) {
  case JSON_INTEGER:
  case JSON_REAL: return num_normal(j);
  case JSON_ARRAY:
    for (size_t i = 0, n = json_array_size(j); i < n; i++)
      if (!jjson_normal(json_array_get(j, i))) return false;
    return true;
  case JSON_OBJECT:
    for (void *it = json_object_iter((json_t *)j); it;
         it = json_object_iter_next((json_t *)j, it))
      if (!jjson_normal(json_object_iter_value(it))) return false;
    return true;
  default: return true;
  }
}

/* The nodes of j, counted off o->left, and its text's size added to
 * o->bytes: false when the count runs out, or when a number in j is not
 * the one jv_to_json would make of it (a whole real, an integer past
 * 2^53), so that the copy is made instead. */
static bool json_nodes(json_t *j, jout *o) {
  if (o->left == 0) return false;
  o->left--;
  switch (json_typeof(j)) {
  case JSON_NULL:
  case JSON_TRUE: o->bytes += 4; return true;
  case JSON_FALSE: o->bytes += 5; return true;
  case JSON_INTEGER:
    if (o->sized) o->bytes += wf__json_int_size(json_integer_value(j));
    return num_normal(j);
  case JSON_REAL:
    o->bytes += WF__JSON_REAL_MAX;
    return num_normal(j);
  case JSON_STRING:
    if (o->sized)
      o->bytes += wf__json_string_size(json_string_value(j), json_string_length(j));
    return true;
  case JSON_ARRAY: {
    size_t len = json_array_size(j);
    o->bytes += len ? len + 1 : 2;
    for (size_t i = 0; i < len; i++)
      if (!json_nodes(json_array_get(j, i), o)) return false;
    return true;
  }
  case JSON_OBJECT: {
    size_t len = json_object_size(j);
    o->bytes += len ? len + 1 : 2;
    for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it)) {
      /* The key, quoted, and its colon. */
      if (o->sized)
        o->bytes += wf__json_string_size(json_object_iter_key(it),
                                         json_object_iter_key_len(it)) + 1;
      if (!json_nodes(json_object_iter_value(it), o)) return false;
    }
    return true;
  }
  }
  return true;
}

/* A number as jv_to_json writes it: an integer when whole and exact, JSON
 * having no infinities or NaN, AWS's strings for them. */
static json_t *num_to_json(double d, jout *o) {
  if (d == 0) {
    o->bytes += 1;
    return json_integer(0);
  }
  if (d == floor(d) && fabs(d) < 9007199254740992.0) {
    if (o->sized) o->bytes += wf__json_int_size((json_int_t)d);
    return json_integer((json_int_t)d);
  }
  o->bytes += WF__JSON_REAL_MAX;
  if (isnan(d)) return json_string("NaN");
  if (isinf(d)) return json_string(d > 0 ? "Infinity" : "-Infinity");
  return json_real(d);
}

/* The input's own object, when v is an object $merge made from it whose
 * other members replace or add to it (JA_BASED), written in place: when
 * the caller gave it up (a record member's `own`, its size known so it
 * needs no walk), nothing below it was written, and nothing else holds
 * it, not even the result's own members (a member that is the object
 * itself would make a cycle). NULL when not so, *o unchanged; NULL with
 * o->oom set when memory ran out while writing. */
static json_t *based_in_place(const jv *v, jout *o) {
  const jv *base = BASE_OF(v);
  if (!o->sized || !(base->flags & JA_ASIS) || (base->flags & JA_LAZY) ||
      !asis(base))
    return NULL;
  jlazy *l = LAZY_OF(base);
  json_t *j = l->j;
  if (!l->own || !json_is_object(j) || j->refcount != 1 || !o->left)
    return NULL;
  size_t n = v->u.obj.len, blen = base->u.obj.len;
  if (n < blen) return NULL;
  for (size_t i = 0; i < blen; i++)
    if (v->u.obj.kl[i] != base->u.obj.kl[i] || v->u.obj.k[i] != base->u.obj.k[i])
      return NULL;
  /* The members that differ, made first (they may hold parts of j). */
  json_t *made[16];
  if (n - blen > 16) return NULL;
  jout try = *o;
  try.left--;
  try.bytes += l->bound;
  size_t count = 0;
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    const jv *x = v->u.obj.v[i];
    if (i < blen && x == base->u.obj.v[i]) continue;
    if (count == 16) ok = false;
    else if (!x || x->kind == JV_FUNC) ok = false; /* a member dropped */
    else {
      try.bytes += wf__json_string_size(v->u.obj.k[i], v->u.obj.kl[i]) + 2;
      ok = (made[count++] = jv_to_json(x, &try)) != NULL;
    }
  }
  if (ok && j->refcount == 1) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
      const jv *x = v->u.obj.v[i];
      if (i < blen && x == base->u.obj.v[i]) continue;
      /* Out of memory here (the value is released either way) fails the
       * evaluation, and with it the state. */
      if (json_object_setn_new_nocheck(j, v->u.obj.k[i], v->u.obj.kl[i], made[c++])) {
        while (c < count) json_decref(made[c++]);
        o->oom = true;
        return NULL;
      }
    }
    *o = try;
    return json_incref(j);
  }
  for (size_t i = 0; i < count; i++) json_decref(made[i]);
  return NULL;
}

json_t *jv_to_json(const jv *v, jout *o) {
  if (!v) return NULL;
  if (v->flags & JA_BASED) {
    json_t *j = based_in_place(v, o);
    if (j || o->oom) return j;
  }
  if ((v->flags & JA_ASIS) && asis(v)) {
    json_t *j = LAZY_OF(v)->j;
    size_t bound = LAZY_OF(v)->bound;
    if (bound && o->sized && o->left) {
      /* Part of a document whose size is known and whose numbers need no
       * look: its bound counts for it (one node). */
      o->left--;
      o->bytes += bound;
      return json_incref(j);
    }
    /* The input's own container, counted as the copy's nodes would be. */
    jout try = *o;
    if (json_nodes(j, &try)) {
      *o = try;
      return json_incref(j);
    }
  }
  /* Each value is a node of its own in the JSON tree, however often the
   * evaluation shared it: at most o->left of them. */
  if (o->left == 0) {
    o->oom = true;
    return NULL;
  }
  --o->left;
  force(v);
  json_t *r = NULL;
  switch (v->kind) {
  case JV_NULL:
    r = json_null();
    o->bytes += 4;
    break;
  case JV_BOOL:
    r = json_boolean(v->u.b);
    o->bytes += v->u.b ? 4 : 5;
    break;
  case JV_NUM: {
    double d = v->u.n;
    bool whole = d == floor(d) && fabs(d) < 9007199254740992.0;
    if (v->flags & JA_JSON) {
      /* The input's own value when it is the one made below. */
      json_t *j = *JSON_SLOT(v);
      if (json_is_integer(j) ? whole : !whole) {
        if (o->sized)
          o->bytes += whole ? wf__json_int_size(json_integer_value(j)) : WF__JSON_REAL_MAX;
        r = json_incref(j);
        break;
      }
    }
    r = num_to_json(d, o);
    break;
  }
  case JV_STR:
    if (o->sized) o->bytes += wf__json_string_size(v->u.str.s, v->u.str.len);
    r = v->flags & JA_JSON ? json_incref(*JSON_SLOT(v))
                           : json_stringn_nocheck(v->u.str.s, v->u.str.len);
    break;
  case JV_ARR:
    r = json_array();
    if (!r) break;
    o->bytes += v->u.arr.len ? v->u.arr.len + 1 : 2;
    for (size_t i = 0; i < v->u.arr.len; i++) {
      const jv *x = v->u.arr.v[i];
      json_t *jx;
      if (x && x->kind != JV_FUNC) {
        jx = jv_to_json(x, o);
      } else {
        jx = json_null();
        o->bytes += 4;
      }
      if (!jx || json_array_append_new(r, jx)) {
        o->oom = true;
        json_decref(r);
        return NULL;
      }
    }
    break;
  case JV_OBJ:
    r = json_object();
    if (!r) break;
    o->bytes += 2;
    for (size_t i = 0; i < v->u.obj.len; i++) {
      const jv *x = v->u.obj.v[i];
      if (!x || x->kind == JV_FUNC) continue;
      /* The key, quoted, its colon, and a comma (one too many: a bound). */
      if (o->sized) o->bytes += wf__json_string_size(v->u.obj.k[i], v->u.obj.kl[i]) + 2;
      json_t *jx = jv_to_json(x, o);
      if (!jx || json_object_setn_new_nocheck(r, v->u.obj.k[i], v->u.obj.kl[i], jx)) {
        o->oom = true;
        json_decref(r);
        return NULL;
      }
    }
    break;
  case JV_FUNC: return NULL;
  }
  if (!r) o->oom = true;
  return r;
}

bool jv_deep_equal(const jv *a, const jv *b) {
  if (a == b) return true;
  if (!a || !b || a->kind != b->kind) return false;
  force(a);
  force(b);
  switch (a->kind) {
  case JV_NULL: return true;
  case JV_BOOL: return a->u.b == b->u.b;
  case JV_NUM: return a->u.n == b->u.n;
  case JV_STR:
    return a->u.str.len == b->u.str.len &&
           !memcmp(a->u.str.s, b->u.str.s, a->u.str.len);
  case JV_ARR:
    if (a->u.arr.len != b->u.arr.len) return false;
    for (size_t i = 0; i < a->u.arr.len; i++)
      if (!jv_deep_equal(a->u.arr.v[i], b->u.arr.v[i])) return false;
    return true;
  case JV_OBJ:
    if (a->u.obj.len != b->u.obj.len) return false;
    for (size_t i = 0; i < a->u.obj.len; i++) {
      long j = obj_find(b, a->u.obj.k[i], a->u.obj.kl[i]);
      if (j < 0 || !jv_deep_equal(a->u.obj.v[i], b->u.obj.v[j])) return false;
    }
    return true;
  case JV_FUNC: return false;
  }
  return false;
}

/* --- numbers as JavaScript prints them --- */

void jnum_format(char *buf, size_t n, double d) {
  if (d == 0) {
    snprintf(buf, n, "0");
    return;
  }
  if (d == floor(d) && fabs(d) < 9007199254740992.0) {
    /* Below 2^53 every integer is a double, so no shorter digits read
     * back as this one: JavaScript prints it whole. */
    char tmp[24];
    size_t k = sizeof tmp;
    unsigned long long u = (unsigned long long)fabs(d);
    do tmp[--k] = (char)('0' + u % 10); while (u /= 10);
    if (d < 0) tmp[--k] = '-';
    snprintf(buf, n, "%.*s", (int)(sizeof tmp - k), tmp + k);
    return;
  }
  if (isnan(d)) {
    snprintf(buf, n, "NaN");
    return;
  }
  if (isinf(d)) {
    snprintf(buf, n, d > 0 ? "Infinity" : "-Infinity");
    return;
  }
  char tmp[40];
  int prec;
  for (prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
    if (strtod(tmp, NULL) == d) break;
  }
  /* tmp: [-]d[.ddd]e[+-]xx */
  char digits[24];
  size_t k = 0;
  const char *s = tmp;
  bool neg = false;
  if (*s == '-') {
    neg = true;
    s++;
  }
  for (; *s && *s != 'e'; s++)
    if (*s != '.') digits[k++] = *s;
  while (k > 1 && digits[k - 1] == '0') k--;
  digits[k] = '\0';
  int e = atoi(s + 1);
  int np = e + 1;
  char out[64];
  size_t o = 0;
  if (neg) out[o++] = '-';
  if ((int)k <= np && np <= 21) {
    memcpy(out + o, digits, k);
    o += k;
    for (int i = 0; i < np - (int)k; i++) out[o++] = '0';
  } else if (0 < np && np <= 21) {
    memcpy(out + o, digits, (size_t)np);
    o += (size_t)np;
    out[o++] = '.';
    memcpy(out + o, digits + np, k - (size_t)np);
    o += k - (size_t)np;
  } else if (-6 < np && np <= 0) {
    out[o++] = '0';
    out[o++] = '.';
    for (int i = 0; i < -np; i++) out[o++] = '0';
    memcpy(out + o, digits, k);
    o += k;
  } else {
    out[o++] = digits[0];
    if (k > 1) {
      out[o++] = '.';
      memcpy(out + o, digits + 1, k - 1);
      o += k - 1;
    }
    o += (size_t)snprintf(out + o, sizeof out - o, "e%c%d", np - 1 >= 0 ? '+' : '-',
                          abs(np - 1));
  }
  out[o] = '\0';
  snprintf(buf, n, "%s", out);
}

double jnum_prec15(double d) {
  if (!isfinite(d) || d == 0) return d;
  if (d == floor(d) && fabs(d) < 1e15) return d; /* 15 digits hold it */
  char tmp[40];
  snprintf(tmp, sizeof tmp, "%.14e", d);
  return strtod(tmp, NULL);
}

/* --- JSON text --- */

static void put_json_string(wf__strbuf *sb, const char *s, size_t n) {
  wf__strbuf_putc(sb, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': wf__strbuf_puts(sb, "\\\""); break;
    case '\\': wf__strbuf_puts(sb, "\\\\"); break;
    case '\b': wf__strbuf_puts(sb, "\\b"); break;
    case '\f': wf__strbuf_puts(sb, "\\f"); break;
    case '\n': wf__strbuf_puts(sb, "\\n"); break;
    case '\r': wf__strbuf_puts(sb, "\\r"); break;
    case '\t': wf__strbuf_puts(sb, "\\t"); break;
    default:
      if (c < 0x20) wf__strbuf_printf(sb, "\\u%04x", c);
      else wf__strbuf_putc(sb, (char)c);
    }
  }
  wf__strbuf_putc(sb, '"');
}

static void indent(wf__strbuf *sb, int level) {
  wf__strbuf_putc(sb, '\n');
  for (int i = 0; i < level; i++) wf__strbuf_puts(sb, "  ");
}

/* Stops adding once the text passes `cap` bytes: a value can share its
 * parts ([$s, $s] a few dozen times over), and its text can be far larger
 * than the memory it takes. */
static void stringify(wf__strbuf *sb, const jv *v, bool pretty, int level,
                      bool prec15, size_t cap, const jv **bad) {
  char nb[40];
  if (sb->len > cap) return;
  force(v);
  switch (v->kind) {
  case JV_NULL: wf__strbuf_puts(sb, "null"); break;
  case JV_BOOL: wf__strbuf_puts(sb, v->u.b ? "true" : "false"); break;
  case JV_NUM:
    if (!isfinite(v->u.n)) {
      /* $string's replacer raises D1001 for it (jsonata-js isNumeric). */
      if (bad && !*bad) *bad = v;
      wf__strbuf_puts(sb, "null");
      break;
    }
    jnum_format(nb, sizeof nb, prec15 ? jnum_prec15(v->u.n) : v->u.n);
    wf__strbuf_puts(sb, nb);
    break;
  case JV_STR: put_json_string(sb, v->u.str.s, v->u.str.len); break;
  case JV_FUNC: wf__strbuf_puts(sb, "\"\""); break;
  case JV_ARR:
    wf__strbuf_putc(sb, '[');
    for (size_t i = 0; i < v->u.arr.len; i++) {
      if (i) wf__strbuf_putc(sb, ',');
      if (pretty) indent(sb, level + 1);
      const jv *x = v->u.arr.v[i];
      if (!x) wf__strbuf_puts(sb, "null");
      else stringify(sb, x, pretty, level + 1, prec15, cap, bad);
    }
    if (pretty && v->u.arr.len) indent(sb, level);
    wf__strbuf_putc(sb, ']');
    break;
  case JV_OBJ: {
    wf__strbuf_putc(sb, '{');
    bool first = true;
    for (size_t i = 0; i < v->u.obj.len; i++) {
      const jv *x = v->u.obj.v[i];
      if (!x) continue;
      if (!first) wf__strbuf_putc(sb, ',');
      first = false;
      if (pretty) indent(sb, level + 1);
      put_json_string(sb, v->u.obj.k[i], v->u.obj.kl[i]);
      wf__strbuf_putc(sb, ':');
      if (pretty) wf__strbuf_putc(sb, ' ');
      stringify(sb, x, pretty, level + 1, prec15, cap, bad);
    }
    if (pretty && !first) indent(sb, level);
    wf__strbuf_putc(sb, '}');
    break;
  }
  }
}

size_t jtext_cap(const jev *ev) {
  return ev->budget && ev->budget->max_result ? ev->budget->max_result
                                              : WF__BUDGET_RESULT;
}

_Noreturn void jthrow_size(jev *ev) {
  ev->fuel = 0; /* the next step sees the budget spent */
  if (ev->budget && !ev->budget->spent) ev->budget->spent = WF__SPENT_SIZE;
  jerr_reset(&ev->err, "U1004");
  jrethrow(ev);
}

void jv_stringify(jev *ev, wf__strbuf *sb, const jv *v, bool pretty) {
  size_t cap = jtext_cap(ev);
  const jv *bad = NULL;
  if (v) stringify(sb, v, pretty, 0, true, cap, &bad);
  if (bad) jthrow(ev, "D1001", -1, NULL, (jv *)bad);
  if (sb->len > cap) jthrow_size(ev);
}

/* --- helpers --- */

bool jv_numeric(jev *ev, const jv *v) {
  if (!v || v->kind != JV_NUM) return false;
  if (isnan(v->u.n)) return false;
  if (!isfinite(v->u.n)) jthrow(ev, "D1001", -1, NULL, (jv *)v);
  return true;
}

bool jv_truthy(const jv *v, bool *defined) {
  *defined = true;
  if (!v) {
    *defined = false;
    return false;
  }
  force(v);
  switch (v->kind) {
  case JV_NULL: return false;
  case JV_BOOL: return v->u.b;
  case JV_NUM: return v->u.n != 0;
  case JV_STR: return v->u.str.len > 0;
  case JV_OBJ: return v->u.obj.len > 0;
  case JV_FUNC: return false;
  case JV_ARR:
    if (v->u.arr.len == 1) return jv_truthy(v->u.arr.v[0], defined) && *defined;
    for (size_t i = 0; i < v->u.arr.len; i++) {
      bool d;
      if (jv_truthy(v->u.arr.v[i], &d)) return true;
    }
    return false;
  }
  return false;
}

jv *jv_append(jev *ev, jv *a, jv *b) {
  if (!a) return b;
  if (!b) return a;
  force(a);
  force(b);
  jv *r = jv_arr(ev, 0);
  if (a->kind == JV_ARR)
    for (size_t i = 0; i < a->u.arr.len; i++) jv_push(ev, r, a->u.arr.v[i]);
  else jv_push(ev, r, a);
  if (b->kind == JV_ARR)
    for (size_t i = 0; i < b->u.arr.len; i++) jv_push(ev, r, b->u.arr.v[i]);
  else jv_push(ev, r, b);
  return r;
}

jv *jv_flatten_seq(jev *ev, jv *v) {
  if (v && v->kind == JV_ARR) return v;
  jv *s = jv_seq(ev);
  if (v) jv_push(ev, s, v);
  return s;
}

size_t jutf8_len(const char *s, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
  return c;
}

size_t jutf8_off(const char *s, size_t n, size_t cp) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) {
    if (((unsigned char)s[i] & 0xC0) != 0x80) {
      if (c == cp) return i;
      c++;
    }
  }
  return n;
}

/* --- messages --- */

static const char *const messages[][2] = {
    {"T0410", "Argument {{index}} of function {{token}} does not match function signature"},
    {"T0411", "Context value is not a compatible type with argument {{index}} of function {{token}}"},
    {"T0412", "Argument {{index}} of function {{token}} must be an array of {{type}}"},
    {"D1001", "Number out of range: {{value}}"},
    {"D1002", "Cannot negate a non-numeric value: {{value}}"},
    {"T1003", "Key in object structure must evaluate to a string; got: {{value}}"},
    {"D1004", "Regular expression matches zero length string"},
    {"T1005", "Attempted to invoke a non-function. Did you mean ${{{token}}}?"},
    {"T1006", "Attempted to invoke a non-function"},
    {"T1007", "Attempted to partially apply a non-function. Did you mean ${{{token}}}?"},
    {"T1008", "Attempted to partially apply a non-function"},
    {"D1009", "Multiple key definitions evaluate to same key: {{value}}"},
    {"T1010", "The matcher function argument passed to function {{token}} does not return the correct object structure"},
    {"T2001", "The left side of the {{token}} operator must evaluate to a number"},
    {"T2002", "The right side of the {{token}} operator must evaluate to a number"},
    {"T2003", "The left side of the range operator (..) must evaluate to an integer"},
    {"T2004", "The right side of the range operator (..) must evaluate to an integer"},
    {"T2006", "The right side of the function application operator ~> must be a function"},
    {"T2007", "Type mismatch when comparing values {{value}} and {{value2}} in order-by clause"},
    {"T2008", "The expressions within an order-by clause must evaluate to numeric or string values"},
    {"T2009", "The values {{value}} and {{value2}} either side of operator {{token}} must be of the same data type"},
    {"T2010", "The expressions either side of operator {{token}} must evaluate to numeric or string values"},
    {"T2011", "The insert/update clause of the transform expression must evaluate to an object: {{value}}"},
    {"T2012", "The delete clause of the transform expression must evaluate to a string or array of strings: {{value}}"},
    {"T2013", "The transform expression clones the input object using the $clone() function.  This has been overridden in the current scope by a non-function."},
    {"D2014", "The size of the sequence allocated by the range operator (..) must not exceed 1e6.  Attempted to allocate {{value}}."},
    {"D3001", "Attempting to invoke string function on Infinity or NaN"},
    {"D3010", "Second argument of replace function cannot be an empty string"},
    {"D3011", "Fourth argument of replace function must evaluate to a positive number"},
    {"D3012", "Attempted to replace a matched string with a non-string value"},
    {"D3020", "Third argument of split function must evaluate to a positive number"},
    {"D3030", "Unable to cast value to a number: {{value}}"},
    {"D3040", "Third argument of match function must evaluate to a positive number"},
    {"D3050", "The second argument of reduce function must be a function with at least two arguments"},
    {"D3060", "The sqrt function cannot be applied to a negative number: {{value}}"},
    {"D3061", "The power function has resulted in a value that cannot be represented as a JSON number: base={{value}}, exponent={{exp}}"},
    {"D3070", "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function"},
    {"D3080", "The picture string must only contain a maximum of two sub-pictures"},
    {"D3081", "The sub-picture must not contain more than one instance of the 'decimal-separator' character"},
    {"D3082", "The sub-picture must not contain more than one instance of the 'percent' character"},
    {"D3083", "The sub-picture must not contain more than one instance of the 'per-mille' character"},
    {"D3084", "The sub-picture must not contain both a 'percent' and a 'per-mille' character"},
    {"D3085", "The mantissa part of a sub-picture must contain at least one character that is either an 'optional digit character' or a member of the 'decimal digit family'"},
    {"D3086", "The sub-picture must not contain a passive character that is preceded by an active character and that is followed by another active character"},
    {"D3087", "The sub-picture must not contain a 'grouping-separator' character that appears adjacent to a 'decimal-separator' character"},
    {"D3088", "The sub-picture must not contain a 'grouping-separator' at the end of the integer part"},
    {"D3089", "The sub-picture must not contain two adjacent instances of the 'grouping-separator' character"},
    {"D3090", "The integer part of the sub-picture must not contain a member of the 'decimal digit family' that is followed by an instance of the 'optional digit character'"},
    {"D3091", "The fractional part of the sub-picture must not contain an instance of the 'optional digit character' that is followed by a member of the 'decimal digit family'"},
    {"D3092", "A sub-picture that contains a 'percent' or 'per-mille' character must not contain a character treated as an 'exponent-separator'"},
    {"D3093", "The exponent part of the sub-picture must comprise only of one or more characters that are members of the 'decimal digit family'"},
    {"D3100", "The radix of the formatBase function must be between 2 and 36.  It was given {{value}}"},
    {"D3110", "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given {{value}}"},
    {"D3120", "Syntax error in expression passed to function eval: {{{message}}}"},
    {"D3121", "Dynamic error evaluating the expression passed to function eval: {{{message}}}"},
    {"D3130", "Formatting or parsing an integer as a sequence starting with {{value}} is not supported by this implementation"},
    {"D3131", "In a decimal digit pattern, all digits must be from the same decimal group"},
    {"D3132", "Unknown component specifier {{value}} in date/time picture string"},
    {"D3133", "The 'name' modifier can only be applied to months and days in the date/time picture string, not {{value}}"},
    {"D3134", "The timezone integer format specifier cannot have more than four digits"},
    {"D3135", "No matching closing bracket ']' in date/time picture string"},
    {"D3136", "The date/time picture string is missing specifiers required to parse the timestamp"},
    {"D3137", "{{{message}}}"},
    {"D3138", "The $single() function expected exactly 1 matching result.  Instead it matched more."},
    {"D3139", "The $single() function expected exactly 1 matching result.  Instead it matched 0."},
    {"D3141", "{{{message}}}"},
    {"U1001", "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive."},
    {"U1002", "Out of memory"},
    {"U1003", "Expression evaluation timeout: Check for infinite loop"},
    {"U1004", "A string would pass the payload limit"},
};

static void put_value(jev *ev, wf__strbuf *sb, const jv *v, bool has) {
  if (!has || !v) {
    wf__strbuf_puts(sb, "undefined");
    return;
  }
  if (v->kind == JV_FUNC) {
    wf__strbuf_puts(sb, "undefined");
    return;
  }
  (void)ev;
  stringify(sb, v, false, 0, false, 4096, NULL);
}

int jerr_nomem(wf__jsonata_error *err) {
  if (err) {
    memset(err, 0, sizeof *err);
    snprintf(err->code, sizeof err->code, "U1002");
    err->position = -1;
    snprintf(err->message, sizeof err->message, "Out of memory");
  }
  return -1;
}

void jerr_message(wf__jsonata_error *out, const jerr *e, jev *ev) {
  const char *tpl = NULL;
  for (size_t i = 0; i < sizeof messages / sizeof *messages; i++)
    if (!strcmp(messages[i][0], e->code)) tpl = messages[i][1];
  wf__strbuf sb = WF__STRBUF_INIT;
  if (!tpl) tpl = e->message ? "{{{message}}}" : "Error";
  for (const char *s = tpl; *s;) {
    if (!strncmp(s, "{{{token}}}", 11)) {
      wf__strbuf_puts(&sb, e->token ? e->token : "undefined");
      s += 11;
    } else if (!strncmp(s, "{{{message}}}", 13)) {
      wf__strbuf_puts(&sb, e->message ? e->message : "undefined");
      s += 13;
    } else if (!strncmp(s, "{{token}}", 9)) {
      if (e->token) {
        jv t = {.kind = JV_STR, .u.str = {e->token, strlen(e->token)}};
        put_value(ev, &sb, &t, true);
      } else {
        wf__strbuf_puts(&sb, "undefined");
      }
      s += 9;
    } else if (!strncmp(s, "{{value}}", 9)) {
      put_value(ev, &sb, e->value, e->has_value);
      s += 9;
    } else if (!strncmp(s, "{{value2}}", 10)) {
      put_value(ev, &sb, e->value2, e->has_value2);
      s += 10;
    } else if (!strncmp(s, "{{index}}", 9)) {
      wf__strbuf_printf(&sb, "%d", e->index);
      s += 9;
    } else if (!strncmp(s, "{{type}}", 8)) {
      wf__strbuf_printf(&sb, "\"%s\"", e->type ? e->type : "");
      s += 8;
    } else if (!strncmp(s, "{{exp}}", 7)) {
      char nb[40];
      jnum_format(nb, sizeof nb, e->exp);
      wf__strbuf_puts(&sb, nb);
      s += 7;
    } else {
      wf__strbuf_putc(&sb, *s++);
    }
  }
  snprintf(out->message, sizeof out->message, "%s", wf__strbuf_cstr(&sb));
  wf__strbuf_reset(&sb);
  if (e->has_value && e->value) put_value(ev, &sb, e->value, true);
  snprintf(out->value, sizeof out->value, "%s", wf__strbuf_cstr(&sb));
  wf__strbuf_free(&sb);
}
