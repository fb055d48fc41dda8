/* The JSONata function library's registry (jsonata-js 2.0.6's names and
 * signatures) and the functions that belong to no family: $boolean, $not,
 * $exists, $type, $error, $assert, $millis, $clone. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "jsonata_fn.h"

static jv *fn_boolean(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  if (x->kind == JV_NUM) jv_numeric(ev, x);
  bool d;
  return jv_bool(jv_truthy(x, &d));
}

static jv *fn_not(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)ev, (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  bool d;
  return jv_bool(!jv_truthy(x, &d));
}

static jv *fn_exists(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)ev, (void)in, (void)env;
  return jv_bool(JARG(0) != NULL);
}

static jv *fn_type(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *x = JARG(0);
  if (!x) return NULL;
  static const char *const names[] = {"null", "boolean", "number", "string",
                                      "array", "object", "function"};
  return jv_cstr(ev, names[x->kind]);
}

static jv *fn_error(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *m = JARG(0);
  jerr_reset(&ev->err, "D3137");
  ev->err.message = m ? jstrdup(ev, m->u.str.s, m->u.str.len) : "$error() function evaluated";
  jrethrow(ev);
}

static jv *fn_assert(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  jv *c = JARG(0), *m = JARG(1);
  if (c && c->kind == JV_BOOL && c->u.b) return NULL;
  jerr_reset(&ev->err, "D3141");
  ev->err.message = m ? jstrdup(ev, m->u.str.s, m->u.str.len) : "$assert() statement failed";
  jrethrow(ev);
}

jv *jclone(jev *ev, jv *v);
static jv *fn_clone(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)in, (void)env;
  return jclone(ev, JARG(0));
}

static jv *fn_millis(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  (void)a, (void)n, (void)in, (void)env;
  return jv_num(ev, jnow(ev));
}

/* $eval(expr [, context]): the text compiled and evaluated here, in the
 * caller's environment; its syntax errors are D3120 and its run-time ones
 * D3121 (each with the inner error's words); running out of time, stack or
 * memory stays what it is. */
static jv *fn_eval(jev *ev, jv **a, size_t n, jv *in, jenv *env) {
  jv *x = JARG(0), *focus = JARG(1);
  if (!x) return NULL;
  jv *volatile input = in;
  if (n > 1 && focus) {
    input = focus;
    if (jv_is_arr(input) && !jv_is_seq(input)) {
      jv *w = jv_arr(ev, JA_SEQ | JA_OUTER);
      jv_push(ev, w, input);
      input = w;
    }
  }
  jcharge(ev);
  wf__jsonata *sub = NULL;
  wf__jsonata_error perr;
  if (wf__jsonata_compile(&sub, x->u.str.s, x->u.str.len, &perr) != 0) {
    if (!strcmp(perr.code, "U1002")) jthrow_oom(ev);
    jerr_reset(&ev->err, "D3120");
    ev->err.message = jstrdup(ev, perr.message, strlen(perr.message));
    jrethrow(ev);
  }
  jsub_node *keep = jalloc(ev, sizeof *keep);
  keep->expr = sub;
  keep->next = ev->subs;
  ev->subs = keep;
  jhandler hd;
  jv *volatile r = NULL;
  JT_TRY(ev, hd) { r = jeval(ev, sub->root, input, env); }
  else {
    JT_END(ev, hd);
    const char *code = ev->err.code ? ev->err.code : "";
    if (!strncmp(code, "U100", 4)) jrethrow(ev);
    wf__jsonata_error inner;
    memset(&inner, 0, sizeof inner);
    jerr_message(&inner, &ev->err, ev);
    jerr_reset(&ev->err, "D3121");
    ev->err.message = jstrdup(ev, inner.message, strlen(inner.message));
    jrethrow(ev);
  }
  JT_END(ev, hd);
  return r;
}

static const jnative misc_table[] = {
    {"boolean", "<x-:b>", fn_boolean, 1},
    {"not", "<x-:b>", fn_not, 1},
    {"exists", "<x:b>", fn_exists, 1},
    {"type", "<x:s>", fn_type, 1},
    {"error", "<s?:x>", fn_error, 1},
    {"assert", "<bs?:x>", fn_assert, 2},
    {"clone", "<(oa)-:o>", fn_clone, 1},
    {"millis", "<:n>", fn_millis, 0},
    {"eval", "<sx?:x>", fn_eval, 2},
    {NULL, NULL, NULL, 0}};

/* AWS's additions come last: only an AWS evaluation finds them
 * (jnative_find_for). */
static const jnative *const tables[] = {misc_table, jfn_string_table,
                                        jfn_num_table, jfn_array_table,
                                        jfn_object_table, jfn_format_table,
                                        jfn_date_table, jfn_aws_table};
#define NTABLES (sizeof tables / sizeof *tables)
#define MAXFN 64

/* Built once (pthread_once guards the writes), then only read: each
 * table's length and signatures, and two hash tables from a name to its
 * function (jsonata-js's set, and AWS's: its additions first, no $eval),
 * as a lookup happens at every call. */
static jsig sigs[NTABLES][MAXFN];
/* Each function as a value ($sum unapplied), made once: nothing writes a
 * function value once made. */
static jv values[NTABLES][MAXFN];
static size_t counts[NTABLES];
#define NSLOTS 512 /* a power of two, well above the number of names */
static const jnative *by_name[2][NSLOTS];
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

static size_t name_hash(const char *s) {
  size_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* Add nat unless its name is there already (the first one wins). */
static void registry_add(const jnative **slots, const jnative *nat) {
  for (size_t h = name_hash(nat->name);; h++) {
    const jnative **slot = &slots[h & (NSLOTS - 1)];
    if (!*slot) {
      *slot = nat;
      return;
    }
    if (!strcmp((*slot)->name, nat->name)) return;
  }
}

static void build_registry(void) {
  for (size_t t = 0; t < NTABLES; t++)
    for (size_t i = 0; tables[t][i].name && i < MAXFN; i++) {
      const char *code;
      int off;
      jsig_parse(&sigs[t][i], tables[t][i].sig, &code, &off);
      values[t][i].kind = JV_FUNC;
      values[t][i].u.f.fk = F_NATIVE;
      values[t][i].u.f.nat = &tables[t][i];
      counts[t] = i + 1;
    }
  for (size_t i = 0; i < counts[NTABLES - 1]; i++)
    registry_add(by_name[1], &jfn_aws_table[i]);
  for (size_t t = 0; t + 1 < NTABLES; t++)
    for (size_t i = 0; i < counts[t]; i++) {
      registry_add(by_name[0], &tables[t][i]);
      if (strcmp(tables[t][i].name, "eval") != 0) /* AWS leaves it out */
        registry_add(by_name[1], &tables[t][i]);
    }
}

static const jnative *registry_find(int set, const char *name) {
  pthread_once(&registry_once, build_registry);
  for (size_t h = name_hash(name);; h++) {
    const jnative *nat = by_name[set][h & (NSLOTS - 1)];
    if (!nat || !strcmp(nat->name, name)) return nat;
  }
}

const jnative *jnative_find(const char *name) { return registry_find(0, name); }

const jnative *jnative_find_for(const jev *ev, const char *name) {
  return registry_find(ev->aws ? 1 : 0, name);
}

const jv *jnative_value(const char *name) {
  const jnative *nat = registry_find(0, name);
  if (!nat || nat != registry_find(1, name)) return NULL;
  for (size_t t = 0; t < NTABLES; t++)
    if (nat >= tables[t] && nat < tables[t] + counts[t])
      return &values[t][nat - tables[t]];
  return NULL;
}

const jsig *jnative_sig(const jnative *nat) {
  pthread_once(&registry_once, build_registry);
  for (size_t t = 0; t < NTABLES; t++)
    if (nat >= tables[t] && nat < tables[t] + counts[t])
      return &sigs[t][nat - tables[t]];
  return NULL;
}
