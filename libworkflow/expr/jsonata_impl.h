/* JSONata internals shared by the parser, the evaluator and the function
 * families: the syntax tree, values, the evaluation context and errors.
 *
 * Memory: the syntax tree lives in the compiled expression's arena; every
 * value an evaluation makes lives in that evaluation's arena and is never
 * freed alone. Errors (and out-of-memory, and a spent budget) leave by
 * longjmp to the innermost handler (JT_TRY), which is how jsonata-js's
 * try/catch sites add a position or token on the way out. */
#ifndef WF_JSONATA_IMPL_H
#define WF_JSONATA_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonata.h"

/* --- arena --- */

typedef struct ja_chunk ja_chunk;
typedef struct ja_arena {
  ja_chunk *head;
  char *cur, *end;
} ja_arena;

/* n bytes (rounded up to 16) from a new chunk, a's current one being too
 * small; NULL on out-of-memory. */
void *ja_alloc_chunk(ja_arena *a, size_t n);
/* n bytes, 16-aligned, that live as long as the arena; NULL on
 * out-of-memory. */
static inline void *ja_alloc(ja_arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!a->cur || (size_t)(a->end - a->cur) < n) return ja_alloc_chunk(a, n);
  void *m = a->cur;
  a->cur += n;
  return m;
}
void ja_arena_free(ja_arena *a);
/* Start an empty arena with one chunk of exactly n bytes, all of it
 * given: its address (NULL on out-of-memory). */
void *ja_arena_block(ja_arena *a, size_t n);
/* Move the tree of a compiled expression into one block of its own
 * (jsonata_compact.c); -1 on out-of-memory, the tree unchanged. */
int jcompact(struct wf__jsonata *e);

/* --- syntax tree --- */

typedef enum {
  N_PATH, N_BINARY, N_UNARY, N_NAME, N_STRING, N_NUMBER, N_VALUE,
  N_WILDCARD, N_DESCENDANT, N_PARENT, N_CONDITION, N_BLOCK, N_BIND,
  N_REGEX, N_FUNCTION, N_VARIABLE, N_LAMBDA, N_PARTIAL, N_APPLY,
  N_TRANSFORM, N_SORT, N_OPERATOR, N_END
} jn_type;

typedef struct jslot {
  const char *label; /* "!0", "!1", ... */
  int level;
  int index;
} jslot;

typedef struct jnode jnode;

typedef struct jstage {
  bool is_index;    /* an index binding (#$v) among the stages */
  jnode *expr;         /* filter */
  const char *var;  /* index */
  int pos;
} jstage;

typedef struct jsig jsig;

/* A node's first 64 bytes hold what evaluating most nodes reads: the
 * type, a name's text, a path's steps or a call's arguments, a literal's
 * value or the library function a variable names, a call's function,
 * and the flags, among them whether a path step is plain. A state machine runs many expressions a
 * few times each, so a node read is often a cache miss: a line or two
 * rather than several (and jcompact() keeps a tree in one block). */
struct jnode {
  jn_type type;
  int pos;
  const char *op; /* operators: "+", "[", "{", ...; names, variables */
  size_t oplen;   /* length of op (names may hold NUL) */
  jnode **items;  /* steps, block, array items, arguments */
  uint32_t nitems;
  /* No predicate, stage, grouping, '[]', focus, index or parent binding
   * on it (set once the tree is made): a path step read directly. */
  bool plain;
  /* No predicate, grouping or '[]' on it (set with plain): an operand
   * read directly. */
  bool bare;
  bool has_group;
  /* Each key of pairs a plain string literal, no two the same: set by
   * the parser. */
  bool pairs_literal;
  union {
    pcre2_code *re;   /* regex */
    const struct jv *native; /* variable: the library function it names,
                                when no binding does (jnative_value) */
    const struct jv *lit; /* string, number: its value, made once
                             (jv_literal_new) */
  };
  jnode *proc;   /* function, partial */
  bool keep_array, keep_singleton, consarray, tuple, thunk;
  /* ---- second line on ---- */
  jnode **pairs; /* object constructor: key, value, key, value ... */
  uint32_t npairs, nstages, npred, ngroup, nterms, nseeking;
  int group_pos;
  unsigned reflags;
  uint8_t vkind;       /* N_VALUE: 0 null, 1 true, 2 false */
  bool group_literal;  /* as pairs_literal, for group */
  jnode *lhs, *rhs, *third; /* binary; condition; transform */
  const char *focus, *index;
  jslot *ancestor; /* name / wildcard step */
  double num;
  jstage *pred; /* predicates (on a non-step) */
  jstage *stages; /* stages (on a path step) */
  jnode **group; /* grouping {..} on a step or path: pairs */
  jnode **terms; /* sort terms */
  bool *desc;
  jnode *body;  /* lambda */
  jsig *sig; /* lambda signature, or NULL */
  jslot *slot;     /* parent */
  jslot **seeking;
};

/* Whether a path step has no predicate, stage, grouping, '[]', focus,
 * index or parent binding on it (what jnode.plain caches). */
bool jnode_plain(const jnode *step);

/* --- signatures --- */

typedef struct jparam {
  char type;       /* s n b l o a f j x, or '(' for a choice */
  char set[12];    /* the symbols it accepts (m = missing) */
  char subtype[8]; /* a<n>: "n" */
  bool context, optional, many;
} jparam;

struct jsig {
  jparam p[10];
  int n;
};

/* Parse "<s-nn?:s>"; -1 with *code ("S0401"/"S0402") and *offset. */
int jsig_parse(jsig *out, const char *text, const char **code, int *offset);

/* --- values --- */

typedef enum { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ, JV_FUNC } jv_kind;

enum {
  JA_SEQ = 1,   /* a sequence, not a JSON array */
  JA_KEEP = 2,  /* keep a singleton sequence as an array */
  JA_CONS = 4,  /* built by an array constructor */
  JA_OUTER = 8, /* the input array wrapped as a one-item sequence */
  JA_TUPLE = 16, /* a stream of tuples (objects of bindings) */
  /* jsonata_value.c's own (see there): an input container unwritten, and
   * one not converted yet. */
  JA_ASIS = 32,
  JA_LAZY = 64,
  /* jsonata_value.c's: an object $merge made from an input object and
   * others (jv_obj_based), not written since. */
  JA_BASED = 256
};

typedef enum { F_LAMBDA, F_NATIVE, F_PARTIAL, F_REGEX, F_TRANSFORM, F_CHAIN } jf_kind;

typedef struct jv jv;
typedef struct jenv jenv;
typedef struct jev jev;
typedef struct jnative jnative;

struct jv {
  uint8_t kind;
  uint16_t flags;
  union {
    bool b;
    double n;
    struct { const char *s; size_t len; } str;
    struct { jv **v; size_t len, cap; } arr;
    struct { const char **k; size_t *kl; jv **v; size_t len, cap; } obj;
    struct {
      jf_kind fk;
      const jnode *node;     /* lambda / regex / transform */
      jenv *env;          /* lambda, transform */
      jv *input;          /* lambda */
      const jnative *nat; /* native */
      jv *base;           /* partial, chain (f) */
      jv *g;              /* chain (g) */
      jv **args;          /* partial: bound args, NULL for '?' */
      size_t nargs;
      const char **params; /* lambda parameters (after partial application) */
      size_t nparams;
      bool thunk;
    } f;
  } u;
};

/* The undefined value is the NULL pointer. */
extern jv jv_null_v, jv_true_v, jv_false_v;
#define JV_NULLV (&jv_null_v)

/* --- evaluation --- */

struct jenv {
  jenv *parent;
  const char **names;
  jv **vals;
  size_t n, cap;
};

typedef jv *(*jnative_fn)(jev *ev, jv **args, size_t nargs, jv *input,
                          jenv *env);

struct jnative {
  const char *name;
  const char *sig;
  jnative_fn fn;
  int arity; /* as jsonata-js's implementation.length (for $map etc.) */
};

typedef struct jhandler {
  jmp_buf jb;
  struct jhandler *prev;
} jhandler;

/* The error being raised. */
typedef struct jerr {
  const char *code;
  int pos; /* -1 unset */
  const char *token; /* NULL unset */
  jv *value, *value2;
  bool has_value, has_value2;
  int index;
  const char *type;
  const char *message; /* D3137 etc. */
  double exp;
} jerr;

/* A text being built during an evaluation (jsb_new): the buffer is the
 * heap's, its record the arena's, listed on the evaluation so that an
 * error raised while it grows (longjmp) cannot leak it. */
typedef struct jsb_node {
  wf__strbuf sb;
  struct jsb_node *next;
} jsb_node;

/* An expression $eval compiled during the evaluation: values may point
 * into it, so it lives until the evaluation ends. */
typedef struct jsub_node {
  struct wf__jsonata *expr;
  struct jsub_node *next;
} jsub_node;

/* A JSON document parsed during the evaluation ($parse): values point
 * into it, so it lives until the evaluation ends. */
typedef struct jdoc_node {
  json_t *doc;
  struct jdoc_node *next;
} jdoc_node;

struct jev {
  ja_arena arena;
  jsb_node *bufs; /* freed when the evaluation ends, however it ends */
  jsub_node *subs; /* the same */
  jdoc_node *docs; /* the same */
  bool aws;        /* AWS's function set (wf__jsonata_bindings.aws) */
  jhandler *h;
  jerr err;
  wf__budget *budget;
  int depth, max_depth;
  double now_ms; /* read once, when first asked for (jnow); 0 until then */
  int64_t (*clock)(void *payload); /* the bindings' clock, and its payload */
  void *clock_payload;
  /* Steps taken from the budget ahead, spent without touching it (see
   * jcharge). */
  uint32_t fuel;
  uint64_t rng; /* jrandom's state: 0 until first used */
  struct wf__rng *rng_source; /* the thread's generator, that seeds it */
  jenv *root; /* where resolved variables are cached */
  const struct wf__jsonata_bindings *vars;
  pcre2_general_context *gctx;
  pcre2_match_context *mctx;
  const struct wf__jsonata *expr;
};

/* The evaluation's time ($now, $millis), the same for all of it: the
 * bindings' or the real-time clock's, read on first use. */
double jnow(jev *ev);
/* The evaluation's next pseudo-random 64 bits ($random, $shuffle, $uuid):
 * not for secrets. */
uint64_t jrandom(jev *ev);
/* Back to the arena's first chunk, emptied; the others are freed (or kept
 * for the thread, as ja_arena_free does). */
void ja_arena_reset(ja_arena *a);

/* Raise: fill ev->err and jump to the innermost handler. */
_Noreturn void jthrow(jev *ev, const char *code, int pos, const char *token,
                      jv *value);
_Noreturn void jthrow_oom(jev *ev);
_Noreturn void jrethrow(jev *ev);
void jerr_reset(jerr *e, const char *code);

#define JT_TRY(ev, hd) \
  (hd).prev = (ev)->h;   \
  (ev)->h = &(hd);       \
  if (setjmp((hd).jb) == 0)
#define JT_END(ev, hd) ((ev)->h = (hd).prev)

void *jalloc_chunk(jev *ev, size_t n); /* raises on out-of-memory */
/* n bytes of the evaluation's arena; raises on out-of-memory. */
static inline void *jalloc(jev *ev, size_t n) {
  n = (n + 15) & ~(size_t)15;
  ja_arena *a = &ev->arena;
  if (a->cur && (size_t)(a->end - a->cur) >= n) {
    void *m = a->cur;
    a->cur += n;
    return m;
  }
  return jalloc_chunk(ev, n);
}
/* A text buffer that outlives no evaluation and leaks on no error. */
wf__strbuf *jsb_new(jev *ev);
char *jstrdup(jev *ev, const char *s, size_t n);

jv *jv_num(jev *ev, double d);
jv *jv_str(jev *ev, const char *s, size_t n);
jv *jv_cstr(jev *ev, const char *s);
jv *jv_bool(bool b);
jv *jv_arr(jev *ev, uint16_t flags);
jv *jv_seq(jev *ev);
jv *jv_obj(jev *ev);
/* A step. Steps are charged to the budget ahead, as many as it would
 * take without deciding anything (steps left over, nothing spent, the CPU
 * clock not due), and spent from ev->fuel; jcharge_slow charges the step
 * that decides and takes more ahead. The budget then says more steps are
 * spent than are, by fewer than the clock's interval, while fuel is left;
 * the step at which it stops an evaluation is the same. */
void jcharge_slow(jev *ev);
static inline bool jfuel(jev *ev) {
  if (!ev->fuel) return false;
  ev->fuel--;
  return true;
}
static inline void jcharge(jev *ev) {
  if (!jfuel(ev)) jcharge_slow(ev);
}

/* Append v to array a, charged to the budget as a step. The quick case
 * (room in a converted array, a step of fuel) inline; the rest in
 * jv_push_slow. */
void jv_push_slow(jev *ev, jv *a, jv *v);
static inline void jv_push(jev *ev, jv *a, jv *v) {
  if (!(a->flags & (JA_LAZY | JA_ASIS)) && a->u.arr.len < a->u.arr.cap &&
      jfuel(ev)) {
    a->u.arr.v[a->u.arr.len++] = v;
    return;
  }
  jv_push_slow(ev, a, v);
}
void jv_set(jev *ev, jv *o, const char *k, size_t kl, jv *v);
/* An object with room for cap members; a member added that o does not
 * hold (the caller knows: no search is made). */
jv *jv_obj_cap(jev *ev, size_t cap);
/* An empty object with room for cap members, to be filled (jv_add, jv_set)
 * with the members of `base` first, in its order, then others: when base
 * is a container of the input, its result may be the input's container
 * written in place (jv_to_json), rather than a copy. */
jv *jv_obj_based(jev *ev, size_t cap, const jv *base);
/* Mark o, filled as jv_obj_based says, as such. */
void jv_based_done(jv *o);
/* Add a member o does not hold (the caller knows: no search is made). The
 * common case (a converted object with room) inline. */
void jv_add_slow(jev *ev, jv *o, const char *k, size_t kl, jv *v);
static inline void jv_add(jev *ev, jv *o, const char *k, size_t kl, jv *v) {
  if (!(o->flags & (JA_LAZY | JA_ASIS | JA_BASED)) && o->u.obj.len < o->u.obj.cap) {
    o->u.obj.k[o->u.obj.len] = k;
    o->u.obj.kl[o->u.obj.len] = kl;
    o->u.obj.v[o->u.obj.len++] = v;
    return;
  }
  jv_add_slow(ev, o, k, kl, v);
}
jv *jv_get(const jv *o, const char *k, size_t kl);
bool jv_del(jv *o, const char *k, size_t kl);
jv *jv_func(jev *ev, jf_kind fk);

static inline bool jv_is_arr(const jv *v) { return v && v->kind == JV_ARR; }
static inline bool jv_is_seq(const jv *v) {
  return v && v->kind == JV_ARR && (v->flags & JA_SEQ);
}
static inline bool jv_is_num(const jv *v) { return v && v->kind == JV_NUM; }
static inline bool jv_is_str(const jv *v) { return v && v->kind == JV_STR; }
static inline bool jv_is_obj(const jv *v) { return v && v->kind == JV_OBJ; }
static inline bool jv_is_func(const jv *v) { return v && v->kind == JV_FUNC; }

jv *jv_from_json(jev *ev, json_t *j);
/* Whether every number in j is as jv_to_json makes numbers (no whole
 * real, no integer past 2^53). */
bool jjson_normal(const json_t *j);
/* A string or number node's value, made once and shared by every
 * evaluation (nothing writes a scalar once made), holding the JSON value
 * a result takes a reference to; NULL on out-of-memory. Free with
 * jv_literal_free. */
jv *jv_literal_new(const jnode *n);
void jv_literal_free(jv *v);
/* The bytes of such a value: a copy of them is the same value (the
 * original keeps the JSON value's reference). */
size_t jv_literal_bytes(void);
/* An object of the members (a record of wf__jsonata_bindings), each
 * converted when looked into, members of a NULL value left out. A
 * member's size, when given, goes with its containers (jout.sized). */
jv *jv_record(jev *ev, const struct wf__jsonata_member *m, size_t n);
/* A conversion to JSON: at most `left` nodes (counted down), and, when
 * `sized`, the size of the result's compact text counted up in `bytes`
 * (an upper bound: reals count as their longest form), so that a caller
 * bounding the text need not measure it again. */
typedef struct jout {
  size_t left, bytes;
  bool oom; /* memory or the count ran out (left is then 0 for the count) */
  /* The caller wants `bytes` and bounds the result's text by it, so a
   * container of a document given with its size (jv_record)
   * counts that size, one node, unwalked: a result sharing it many times
   * passes the bound rather than the node count. */
  bool sized;
} jout;
/* The value as JSON; NULL when undefined or a function alone, or with
 * o->oom set. */
json_t *jv_to_json(const jv *v, jout *o);
bool jv_deep_equal(const jv *a, const jv *b);
/* JSON text as jsonata-js's $string (numbers to 15 significant digits);
 * pretty: indent 2. */
void jv_stringify(jev *ev, wf__strbuf *sb, const jv *v, bool pretty);
/* A number as JavaScript prints it. */
void jnum_format(char *buf, size_t n, double d);
/* Number(x.toPrecision(15)), as $string applies to numbers. */
double jnum_prec15(double d);

/* Does v count as a number for arithmetic (raises D1001 on Infinity/NaN
 * where jsonata-js's isNumeric does)? */
bool jv_numeric(jev *ev, const jv *v);
bool jv_truthy(const jv *v, bool *defined); /* $boolean */
jv *jv_append(jev *ev, jv *a, jv *b);
jv *jv_flatten_seq(jev *ev, jv *v); /* [v] as a sequence if not an array */
size_t jutf8_len(const char *s, size_t n); /* code points */
/* Whether s[0..n) is well-formed UTF-8 (no overlong form, surrogate or
 * code point past U+10FFFF). */
bool jutf8_well_formed(const char *s, size_t n);
/* Byte offset of code point `cp` in s (n when past the end). */
size_t jutf8_off(const char *s, size_t n, size_t cp);

/* The evaluator, for the function families. */
jv *jeval(jev *ev, const jnode *node, jv *input, jenv *env);
jv *japply(jev *ev, jv *proc, jv **args, size_t nargs, jv *input, jenv *env);
int jfunc_arity(const jv *f);
jv *jlookup_var(jenv *env, const char *name);
jenv *jenv_new(jev *ev, jenv *parent);
/* An environment with room for `cap` bindings in the same allocation. */
jenv *jenv_room(jev *ev, jenv *parent, size_t cap);
void jenv_bind(jev *ev, jenv *env, const char *name, jv *v);
/* The longest text an evaluation may make (its budget's max_result), and
 * the error for one that would pass it (U1004; the budget is spent as a
 * result too large). */
size_t jtext_cap(const jev *ev);
_Noreturn void jthrow_size(jev *ev);

/* Regex matching for $match, $contains, $replace, $split: the next match
 * of f (a regex function) in s from byte `from`; false when none. ovec
 * holds byte offsets for the whole match and `ngroups` groups (start,
 * end; PCRE2_UNSET when a group did not match). */
bool jregex_exec(jev *ev, const jv *f, const char *s, size_t n, size_t from,
                 size_t **ovec, size_t *ngroups);

/* The function library. */
const jnative *jnative_find(const char *name);
/* The library function `name` as a value, made once, when both function
 * sets (jsonata-js's and AWS's) have the same one; NULL otherwise. */
const jv *jnative_value(const char *name);
/* The function `name` for this evaluation (AWS's set when ev->aws). */
const jnative *jnative_find_for(const jev *ev, const char *name);
extern const jnative jfn_string_table[];
extern const jnative jfn_num_table[];
extern const jnative jfn_array_table[];
extern const jnative jfn_object_table[];

/* Validate args against a signature (jsonata-js's signature.js): returns
 * the validated argument list (the context substituted where '-'). */
jv **jsig_validate(jev *ev, const jsig *sig, jv **args, size_t nargs,
                   jv *context, size_t *nout);
const jsig *jnative_sig(const jnative *nat);

/* The compiled expression. */
struct wf__jsonata {
  ja_arena arena;
  jnode *root;
  /* The literals' values (jnode.lit), freed with the expression. */
  struct jv **lits;
  size_t nlits, caplits;
  pcre2_code **res;
  size_t nres, capres;
};

/* Parser entry (jsonata_parse.c). */
int jparse(struct wf__jsonata *e, const char *text, size_t len,
           wf__jsonata_error *err);
void jerr_message(wf__jsonata_error *out, const jerr *e, jev *ev);
/* Fill `err` (optional) with U1002, out of memory; returns -1. */
int jerr_nomem(wf__jsonata_error *err);

#endif
