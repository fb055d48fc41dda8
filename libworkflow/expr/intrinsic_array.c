/* States.Array and the array functions. Integer arguments (sizes, indexes,
 * bounds) are converted like Java's intValue(): AWS truncates 2.6 to 2
 * (ArrayPartition), 1.2 to 1 (ArrayGetItem) and 5.4/-0.6/-2.4 to 5/0/-2
 * (ArrayRange) before checking them. */
#include <string.h>

#include "alloc.h"
#include "intrinsic_impl.h"

int wf__intrinsic_array(json_t **out, json_t *const *args, size_t nargs,
                        const wf__icall *c) {
  json_t *arr = json_array();
  if (!arr) return wf__intrinsic_oom(c);
  for (size_t i = 0; i < nargs; i++) {
    if (json_array_append(arr, args[i]) != 0) {
      json_decref(arr);
      return wf__intrinsic_oom(c);
    }
  }
  *out = arr;
  return 0;
}

int wf__intrinsic_array_partition(json_t **out, json_t *const *args,
                                  size_t nargs, const wf__icall *c) {
  (void)nargs;
  int32_t size;
  if (!json_is_array(args[0]) || !wf__intrinsic_java_int(args[1], &size) ||
      size <= 0)
    return wf__intrinsic_invalid(c);
  size_t n = json_array_size(args[0]);
  json_t *res = json_array();
  if (!res) return wf__intrinsic_oom(c);
  for (size_t i = 0; i < n; i += (size_t)size) {
    json_t *chunk = json_array();
    if (json_array_append_new(res, chunk) != 0) goto oom;
    for (size_t k = i; k < n && k - i < (size_t)size; k++)
      if (json_array_append(chunk, json_array_get(args[0], k)) != 0) goto oom;
  }
  *out = res;
  return 0;
oom:
  json_decref(res);
  return wf__intrinsic_oom(c);
}

/* AWS compares the values as Java prints them, not as JSON: the string
 * "true" matches true and {"b":2,"a":1} does not match {"a":1,"b":2}. */
int wf__intrinsic_array_contains(json_t **out, json_t *const *args,
                                 size_t nargs, const wf__icall *c) {
  (void)nargs;
  if (!json_is_array(args[0])) return wf__intrinsic_invalid(c);
  wf__strbuf want = WF__STRBUF_INIT, have = WF__STRBUF_INIT;
  wf__intrinsic_java_str(&want, args[1]);
  bool found = false;
  for (size_t i = 0; i < json_array_size(args[0]) && !found; i++) {
    wf__strbuf_reset(&have);
    wf__intrinsic_java_str(&have, json_array_get(args[0], i));
    found = have.len == want.len &&
            memcmp(wf__strbuf_cstr(&have), wf__strbuf_cstr(&want),
                   want.len) == 0;
  }
  bool oom = want.oom || have.oom;
  wf__strbuf_free(&want);
  wf__strbuf_free(&have);
  if (oom) return wf__intrinsic_oom(c);
  *out = json_boolean(found);
  return 0;
}

/* The end is included when a step lands on it; a step pointing away from
 * the end gives []; more than 1000 elements or a zero step fail. */
int wf__intrinsic_array_range(json_t **out, json_t *const *args,
                              size_t nargs, const wf__icall *c) {
  (void)nargs;
  int32_t start, end, step;
  if (!wf__intrinsic_java_int(args[0], &start) ||
      !wf__intrinsic_java_int(args[1], &end) ||
      !wf__intrinsic_java_int(args[2], &step) || step == 0)
    return wf__intrinsic_invalid(c);
  int64_t count = 0;
  if (step > 0 && end >= start)
    count = ((int64_t)end - start) / step + 1;
  else if (step < 0 && start >= end)
    count = ((int64_t)start - end) / -(int64_t)step + 1;
  if (count > 1000) return wf__intrinsic_invalid(c);
  json_t *arr = json_array();
  if (!arr) return wf__intrinsic_oom(c);
  for (int64_t i = 0; i < count; i++) {
    if (json_array_append_new(arr, json_integer(start + i * step)) != 0) {
      json_decref(arr);
      return wf__intrinsic_oom(c);
    }
  }
  *out = arr;
  return 0;
}

/* An index outside the array fails, except that AWS returns null for any
 * index into an empty array. */
int wf__intrinsic_array_get_item(json_t **out, json_t *const *args,
                                 size_t nargs, const wf__icall *c) {
  (void)nargs;
  int32_t idx;
  if (!json_is_array(args[0]) || !wf__intrinsic_java_int(args[1], &idx))
    return wf__intrinsic_invalid(c);
  size_t n = json_array_size(args[0]);
  if (n == 0) {
    *out = json_null();
    return 0;
  }
  if (idx < 0 || (size_t)idx >= n) return wf__intrinsic_invalid(c);
  *out = json_incref(json_array_get(args[0], (size_t)idx));
  return 0;
}

int wf__intrinsic_array_length(json_t **out, json_t *const *args,
                               size_t nargs, const wf__icall *c) {
  (void)nargs;
  if (!json_is_array(args[0])) return wf__intrinsic_invalid(c);
  *out = json_integer((json_int_t)json_array_size(args[0]));
  return *out ? 0 : wf__intrinsic_oom(c);
}

/* --- ArrayUnique --------------------------------------------------------- *
 * AWS returns the elements of a java.util.HashSet built from the array
 * (new HashSet<>(list)), so the order is the set's: AWS gives [false,true]
 * for [true,false,true,false] and [[2,1],[1,2]] for [[1,2],[1,2],[2,1]].
 * This reproduces HashMap's layout: a table of tableSizeFor(n/0.75+1)
 * (at least 16) buckets, index (h ^ h>>>16) & (cap-1), chains in insertion
 * order, and the resize HashMap does instead of treeifying a chain that
 * reaches 9 entries while the table is smaller than 64. (A treeified bin,
 * 9+ colliding values in a table of 64 or more, keeps insertion order here,
 * where Java's order would differ.) */

typedef struct uset {
  size_t cap;
  size_t *head, *tail; /* per bucket; SIZE_MAX = empty */
  size_t *next;        /* per element */
  uint32_t *hash;      /* per element, spread */
  size_t nkept;        /* elements in the table */
} uset;

static size_t table_size_for(size_t n) {
  size_t cap = 1;
  while (cap < n) cap <<= 1;
  return cap;
}

static bool uset_alloc_table(uset *u, size_t cap) {
  size_t *h = wf__malloc(cap * sizeof *h), *t = wf__malloc(cap * sizeof *t);
  if (!h || !t) {
    wf__free(h);
    wf__free(t);
    return false;
  }
  for (size_t i = 0; i < cap; i++) h[i] = t[i] = SIZE_MAX;
  wf__free(u->head);
  wf__free(u->tail);
  u->head = h;
  u->tail = t;
  u->cap = cap;
  return true;
}

static void uset_link(uset *u, size_t e) {
  size_t b = u->hash[e] & (u->cap - 1);
  u->next[e] = SIZE_MAX;
  if (u->tail[b] == SIZE_MAX) u->head[b] = e;
  else u->next[u->tail[b]] = e;
  u->tail[b] = e;
}

/* Doubling keeps each old chain's relative order in its two new chains, so
 * relinking in the old iteration order rebuilds exactly Java's table. */
static bool uset_grow(uset *u) {
  size_t old_cap = u->cap, n = 0;
  size_t *seq = wf__malloc((u->nkept ? u->nkept : 1) * sizeof *seq);
  if (!seq) return false;
  for (size_t b = 0; b < old_cap; b++)
    for (size_t e = u->head[b]; e != SIZE_MAX; e = u->next[e]) seq[n++] = e;
  bool ok = uset_alloc_table(u, old_cap * 2);
  if (ok)
    for (size_t i = 0; i < n; i++) uset_link(u, seq[i]);
  wf__free(seq);
  return ok;
}

int wf__intrinsic_array_unique(json_t **out, json_t *const *args,
                               size_t nargs, const wf__icall *c) {
  (void)nargs;
  json_t *a = args[0];
  if (!json_is_array(a)) return wf__intrinsic_invalid(c);
  size_t n = json_array_size(a);
  uset u = {0};
  size_t want = (size_t)((float)n / 0.75f) + 1;
  int rc = 0;
  u.next = wf__malloc((n ? n : 1) * sizeof *u.next);
  u.hash = wf__malloc((n ? n : 1) * sizeof *u.hash);
  if (!u.next || !u.hash ||
      !uset_alloc_table(&u, table_size_for(want < 16 ? 16 : want))) {
    rc = wf__intrinsic_oom(c);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *v = json_array_get(a, i);
    uint32_t h = (uint32_t)wf__intrinsic_java_hash(v);
    h ^= h >> 16;
    u.hash[i] = h;
    size_t b = h & (u.cap - 1), chain = 0;
    bool dup = false;
    for (size_t e = u.head[b]; e != SIZE_MAX && !dup; e = u.next[e]) {
      dup = u.hash[e] == h && json_equal(json_array_get(a, e), v);
      chain++;
    }
    if (dup) continue;
    uset_link(&u, i);
    u.nkept++;
    if (chain >= 8 && u.cap < 64 && !uset_grow(&u)) {
      rc = wf__intrinsic_oom(c);
      goto done;
    }
  }
  json_t *res = json_array();
  if (!res) {
    rc = wf__intrinsic_oom(c);
    goto done;
  }
  for (size_t b = 0; b < u.cap; b++) {
    for (size_t e = u.head[b]; e != SIZE_MAX; e = u.next[e]) {
      if (json_array_append(res, json_array_get(a, e)) != 0) {
        json_decref(res);
        rc = wf__intrinsic_oom(c);
        goto done;
      }
    }
  }
  *out = res;
done:
  wf__free(u.head);
  wf__free(u.tail);
  wf__free(u.next);
  wf__free(u.hash);
  return rc;
}
