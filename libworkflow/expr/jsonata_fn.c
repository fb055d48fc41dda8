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
  return jv_num(ev, ev->now_ms);
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
    {NULL, NULL, NULL, 0}};

static const jnative *const tables[] = {misc_table, jfn_string_table,
                                        jfn_num_table, jfn_array_table,
                                        jfn_object_table};
#define NTABLES (sizeof tables / sizeof *tables)
#define MAXFN 64

/* Parsed once (pthread_once guards the writes), then only read. */
static jsig sigs[NTABLES][MAXFN];
static pthread_once_t sigs_once = PTHREAD_ONCE_INIT;

static void parse_sigs(void) {
  for (size_t t = 0; t < NTABLES; t++)
    for (size_t i = 0; tables[t][i].name && i < MAXFN; i++) {
      const char *code;
      int off;
      jsig_parse(&sigs[t][i], tables[t][i].sig, &code, &off);
    }
}

const jnative *jnative_find(const char *name) {
  for (size_t t = 0; t < NTABLES; t++)
    for (size_t i = 0; tables[t][i].name; i++)
      if (!strcmp(tables[t][i].name, name)) return &tables[t][i];
  return NULL;
}

const jsig *jnative_sig(const jnative *nat) {
  pthread_once(&sigs_once, parse_sigs);
  for (size_t t = 0; t < NTABLES; t++) {
    size_t cnt = 0;
    while (tables[t][cnt].name) cnt++;
    if (nat >= tables[t] && nat < tables[t] + cnt) return &sigs[t][nat - tables[t]];
  }
  return NULL;
}
