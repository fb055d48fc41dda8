/* The JSONata entry points: compile once, evaluate many times (each
 * evaluation with an arena, a budget and a depth bound of its own). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "jsonata_impl.h"
#include "regex_context.h"
#include "rng.h"

/* The length of the well-formed UTF-8 sequence at s[0..n), 0 if none
 * (overlong forms, surrogates and code points past U+10FFFF are not). */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (!k || k > n || c > 0xF4) return 0;
  for (size_t i = 1; i < k; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  if (c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
  if (c == 0xED && s[1] >= 0xA0) return 0; /* a surrogate */
  if (c == 0xF0 && s[1] < 0x90) return 0; /* overlong */
  if (c == 0xF4 && s[1] >= 0x90) return 0; /* past U+10FFFF */
  return k;
}

bool jutf8_well_formed(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, k;
  while (i < n && (k = utf8_seq(p + i, n - i))) i += k;
  return i == n;
}

/* The text as a JavaScript engine would read it: each byte that starts no
 * well-formed UTF-8 sequence becomes U+FFFD (so no string the expression
 * makes is ill-formed). Only called on text that is not well-formed;
 * NULL when out of memory. */
static char *well_formed(const char *text, size_t len, size_t *out_len) {
  const unsigned char *s = (const unsigned char *)text;
  size_t i, k;
  wf__strbuf b = WF__STRBUF_INIT;
  for (i = 0; i < len;) {
    k = utf8_seq(s + i, len - i);
    if (k) {
      wf__strbuf_append(&b, text + i, k);
      i += k;
    } else {
      wf__strbuf_append(&b, "\xEF\xBF\xBD", 3);
      i++;
    }
  }
  *out_len = b.len;
  return wf__strbuf_take(&b);
}

int wf__jsonata_compile(wf__jsonata **out, const char *text, size_t len,
                        wf__jsonata_error *err) {
  *out = NULL;
  if (!jutf8_well_formed(text, len)) {
    size_t fixed_len = 0;
    char *fixed = well_formed(text, len, &fixed_len);
    if (!fixed) return jerr_nomem(err);
    int rc = wf__jsonata_compile(out, fixed, fixed_len, err);
    wf__free(fixed);
    return rc;
  }
  wf__jsonata *e = wf__calloc(1, sizeof *e);
  if (!e) {
    return jerr_nomem(err);
  }
  if (jparse(e, text, len, err) != 0) {
    wf__jsonata_free(e);
    return -1;
  }
  *out = e;
  return 0;
}

void wf__jsonata_free(wf__jsonata *e) {
  if (!e) return;
  for (size_t i = 0; i < e->nres; i++) pcre2_code_free(e->res[i]);
  wf__free(e->res);
  for (size_t i = 0; i < e->nlits; i++) jv_literal_free(e->lits[i]);
  wf__free(e->lits);
  ja_arena_free(&e->arena);
  wf__free(e);
}

/* What every evaluation on a thread shares: PCRE2's contexts (the same
 * allocator and limits each time, only read by a match) and the generator
 * that seeds each evaluation's $random (seeded from the system once per
 * thread: a system call per evaluation cost more than a small
 * expression). Freed when the thread exits (the key's destructor). */
typedef struct thread_shared {
  pcre2_general_context *gctx;
  pcre2_match_context *mctx;
  wf__rng rng;
  /* The record of the thread's last evaluation with its arena's first
   * chunk, taken by the next one (NULL while an evaluation holds it). */
  jev *spare;
} thread_shared;

static pthread_key_t shared_key;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static bool shared_ready;

/* The thread's shared part as pthread_getspecific gives it, cached in a
 * variable of the thread's own (a key's destructor runs after the
 * thread's last evaluation, so the cache never outlives the part). */
static _Thread_local thread_shared *shared_cache;

static void shared_free(void *p) {
  thread_shared *t = p;
  shared_cache = NULL;
  if (t->spare) {
    ja_arena_free(&t->spare->arena);
    wf__free(t->spare);
  }
  pcre2_match_context_free(t->mctx);
  pcre2_general_context_free(t->gctx);
  wf__free(t);
}

static void shared_init(void) {
  shared_ready = pthread_key_create(&shared_key, shared_free) == 0;
}

/* The thread's shared part, made on first use; NULL short of memory. */
__attribute__((noinline)) static thread_shared *thread_part_slow(void) {
  pthread_once(&shared_once, shared_init);
  if (!shared_ready) return NULL;
  thread_shared *t = pthread_getspecific(shared_key);
  if (t) return t;
  t = wf__calloc(1, sizeof *t);
  if (!t) return NULL;
  t->gctx = wf__regex_context_new();
  t->mctx = t->gctx ? pcre2_match_context_create(t->gctx) : NULL;
  if (!t->mctx || pthread_setspecific(shared_key, t) != 0) {
    if (t->mctx) pcre2_match_context_free(t->mctx);
    if (t->gctx) pcre2_general_context_free(t->gctx);
    wf__free(t);
    return NULL;
  }
  pcre2_set_match_limit(t->mctx, WF__REGEX_MATCH_LIMIT);
  pcre2_set_depth_limit(t->mctx, WF__REGEX_DEPTH_LIMIT);
  wf__rng_seed(&t->rng, wf__rng_system_seed());
  return t;
}

static thread_shared *thread_part(void) {
  thread_shared *t = shared_cache;
  if (!t) t = shared_cache = thread_part_slow();
  return t;
}

int wf__jsonata_eval(json_t **out, const wf__jsonata *e, json_t *input,
                     const wf__jsonata_bindings *vars, wf__budget *budget,
                     wf__jsonata_error *err) {
  return wf__jsonata_eval_depth(out, e, input, vars, budget, 0, NULL, err);
}

int wf__jsonata_eval_depth(json_t **out, const wf__jsonata *e, json_t *input,
                           const wf__jsonata_bindings *vars,
                           wf__budget *budget, int max_depth, size_t *size,
                           wf__jsonata_error *err) {
  *out = NULL;
  wf__budget local;
  if (!budget) {
    wf__budget_init(&local, 0, 0);
    budget = &local;
  }
  thread_shared *volatile shared = thread_part();
  if (!shared) return jerr_nomem(err);
  /* The thread's spare record, its first arena chunk kept: most
   * evaluations then allocate nothing from the heap. */
  jev *ev = shared->spare;
  if (ev) {
    shared->spare = NULL;
    ja_arena kept = ev->arena;
    memset(ev, 0, sizeof *ev);
    ev->arena = kept;
  } else if (!(ev = wf__calloc(1, sizeof *ev))) {
    return jerr_nomem(err);
  }
  ev->budget = budget;
  ev->max_depth = max_depth > 0 ? max_depth : WF__JSONATA_MAX_DEPTH;
  ev->expr = e;
  if (vars && vars->now_ms) ev->now_ms = (double)vars->now_ms;
  if (vars && vars->clock) {
    ev->clock = vars->clock;
    ev->clock_payload = vars->payload;
  }
  ev->vars = vars && (vars->resolve || vars->record) ? vars : NULL;
  ev->aws = vars && vars->aws;
  ev->rng_source = &shared->rng;
  ev->gctx = shared->gctx;
  ev->mctx = shared->mctx;
  int rc = 0;
  jhandler top;
  top.prev = NULL;
  ev->h = &top;
  jv *volatile result = NULL;
  if (setjmp(top.jb) == 0) {
    /* Room for `$`, the bound values and a few more (resolved variables
     * and library functions are kept here when first looked up). */
    size_t nvalues = vars && json_is_object(vars->values) ? json_object_size(vars->values) : 0;
    jenv *env = jenv_room(ev, NULL, nvalues + 6);
    ev->root = env;
    if (nvalues) {
      /* The keys live as long as the evaluation (the values are borrowed). */
      const char *k;
      json_t *v;
      json_object_foreach(vars->values, k, v) jenv_bind(ev, env, k, jv_from_json(ev, v));
    }
    jv *in = jv_from_json(ev, input);
    jenv_bind(ev, env, "$", in);
    if (jv_is_arr(in)) {
      jv *w = jv_arr(ev, JA_SEQ | JA_OUTER);
      jv_push(ev, w, in);
      in = w;
    }
    result = jeval(ev, e->root, in, env);
    /* A node is at least a byte of the result's text. */
    jout o = {.left = jtext_cap(ev), .sized = size != NULL};
    json_t *j = jv_to_json(result, &o);
    if (o.oom && o.left == 0) jthrow_size(ev);
    if (o.oom) jthrow_oom(ev);
    *out = j;
    if (size) *size = o.bytes;
  } else {
    rc = -1;
    if (err) {
      memset(err, 0, sizeof *err);
      /* A bound of time or steps is U1003 inside (its own message); the
       * code given is jsonata-js's test harness's for a timeout, U1001,
       * as for a stack overflow. */
      snprintf(err->code, sizeof err->code, "%s",
               strcmp(ev->err.code, "U1003") ? ev->err.code : "U1001");
      err->position = ev->err.pos;
      if (ev->err.token) snprintf(err->token, sizeof err->token, "%s", ev->err.token);
      jerr_message(err, &ev->err, ev);
    }
  }
  for (jsb_node *b = ev->bufs; b; b = b->next) wf__strbuf_free(&b->sb);
  for (jsub_node *s = ev->subs; s; s = s->next) wf__jsonata_free(s->expr);
  for (jdoc_node *d = ev->docs; d; d = d->next) json_decref(d->doc);
  if (!shared->spare) {
    ja_arena_reset(&ev->arena);
    shared->spare = ev;
  } else {
    ja_arena_free(&ev->arena);
    wf__free(ev);
  }
  return rc;
}

uint64_t jrandom(jev *ev) {
  /* xorshift64*, per evaluation, seeded from the thread's generator (its
   * seed the system's) when first used. */
  uint64_t x = ev->rng;
  if (!x) x = wf__rng_next(ev->rng_source) | 1u;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  ev->rng = x;
  return x * 0x2545F4914F6CDD1DULL;
}

double jnow(jev *ev) {
  if (!ev->now_ms && ev->clock) ev->now_ms = (double)ev->clock(ev->clock_payload);
  if (!ev->now_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ev->now_ms = (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000);
  }
  return ev->now_ms;
}
