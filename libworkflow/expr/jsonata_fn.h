/* What the JSONata function families share: argument access and string
 * building in the evaluation's arena. */
#ifndef WF_JSONATA_FN_H
#define WF_JSONATA_FN_H

#include "jsonata_impl.h"
#include "strbuf.h"

#define JARG(i) ((size_t)(i) < n ? a[i] : NULL)

/* The contents of sb as a string value; frees sb. */
jv *jfn_take(jev *ev, wf__strbuf *sb);
/* $string's conversion. */
jv *jfn_string(jev *ev, jv *x, bool pretty);
/* Call a function argument with (value, index, array) as its arity allows
 * (jsonata-js's hofFuncArgs). */
jv *jfn_hof_call(jev *ev, jv *f, jv *v, jv *i, jv *arr, jenv *env);
/* JavaScript truthiness (for comparator results). */
bool jfn_js_truthy(const jv *v);
jv *jname_lookup(jev *ev, jv *input, const char *key, size_t kl);
typedef bool (*jswap_fn)(jev *ev, void *ctx, jv *a, jv *b);
jv *jsort_values(jev *ev, jv *arr, jswap_fn swap, void *ctx);

#endif
