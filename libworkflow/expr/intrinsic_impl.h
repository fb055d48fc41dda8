/* Private to the intrinsic module: the compiled call tree, the function
 * table, and helpers shared by the per-family files (intrinsic_*.c). */
#ifndef WF_INTRINSIC_IMPL_H
#define WF_INTRINSIC_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval.h"
#include "intrinsic.h"
#include "jsonpath.h"
#include "strbuf.h"

/* AWS accepts at most 10 intrinsic calls in one field; its documentation
 * counts every call of "States.Format('{}.{}.{}', States.ArrayGetItem(...))"
 * (nine in its example, five levels deep), so the limit is on the count. */
#define WF__INTRINSIC_MAX_CALLS 10

typedef enum {
  WF__IARG_LITERAL, /* string, number, true, false, null */
  WF__IARG_PATH,    /* $..., $$..., $var... */
  WF__IARG_CALL,    /* States.Name(...) */
} wf__iarg_kind;

/* A States.Format template split at load or at run time. A template AWS
 * rejects (a lone brace) is not a load error: AWS fails the execution, so
 * the error is kept and reported when the call runs. */
typedef enum {
  WF__TMPL_OK,
  WF__TMPL_OPEN,  /* '{' without its '}' */
  WF__TMPL_CLOSE, /* '}' without its '{' */
} wf__tmpl_status;

typedef struct wf__tmpl {
  wf__tmpl_status status;
  char *text;     /* literal pieces, NUL-separated, unescaped */
  size_t *starts; /* nparts + 1 offsets into text */
  size_t nparts;  /* pieces; placeholders = nparts - 1 */
} wf__tmpl;

typedef struct wf__inode wf__inode;
struct wf__inode {
  wf__iarg_kind kind;
  json_t *literal;    /* LITERAL: the value (strings unescaped) */
  size_t raw_off;     /* LITERAL string: its text between the quotes, */
  size_t raw_len;     /* escapes kept, in the call text (for Format) */
  wf__jsonpath *path; /* PATH */
  int fn;             /* CALL: index into wf__intrinsic_fns */
  size_t nargs;       /* CALL */
  wf__inode *args;    /* CALL: nargs nodes */
  wf__tmpl *tmpl;     /* CALL to States.Format with a literal template */
};

struct wf__intrinsic {
  char *text; /* as written: AWS quotes it verbatim in run-time causes */
  wf__inode root;
};

/* What a function sees when it runs. */
typedef struct wf__icall {
  const wf__intrinsic *f;
  const wf__inode *node; /* the call being evaluated */
  const wf__eval_env *env;
  wf__fault *fault;
} wf__icall;

/* Evaluate one function on already evaluated arguments (new references,
 * owned by the caller). Returns 0 with *out a new reference, or -1 with the
 * fault set. */
typedef int (*wf__ifn_eval)(json_t **out, json_t *const *args, size_t nargs,
                            const wf__icall *c);

typedef struct wf__ifn {
  const char *name; /* "States.Format" */
  size_t min_args;
  size_t max_args; /* SIZE_MAX: no limit */
  wf__ifn_eval eval;
} wf__ifn;

extern const wf__ifn wf__intrinsic_fns[];
extern const size_t wf__intrinsic_nfns;

/* Lookup by exact (case-sensitive) name; -1 when unknown. */
int wf__intrinsic_find(const char *name, size_t len);

/* --- failures (intrinsic_eval.c) ---------------------------------------- */

/* "The function '<text>' had the following error: <detail>" as
 * States.Runtime, AWS's wording for every failure inside a call. */
int wf__intrinsic_fail(const wf__icall *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The common case: "Invalid arguments in States.<Name>". */
int wf__intrinsic_invalid(const wf__icall *c);
int wf__intrinsic_oom(const wf__icall *c);

/* --- Java value semantics (intrinsic_java.c) ----------------------------
 * AWS runs on the JVM and several functions leak it: Format and
 * ArrayContains compare or print values as Java's toString() writes them
 * ({a=1, b=[x, y]}), ArrayUnique returns a java.util.HashSet's iteration
 * order, and integer arguments are converted like Number.intValue(). */

/* Append v as Java's toString() prints the value AWS holds: strings raw,
 * reals as Double.toString, objects {k=v, ...}, arrays [a, b]. */
void wf__intrinsic_java_str(wf__strbuf *b, const json_t *v);
/* hashCode() of the Java value (Integer/Long/Double/String/Boolean/List/Map). */
int32_t wf__intrinsic_java_hash(const json_t *v);
/* Number.intValue(): integers wrap to 32 bits, reals truncate toward zero
 * and saturate. False when v is not a number. */
bool wf__intrinsic_java_int(const json_t *v, int32_t *out);
/* Math.round(double) (half up, toward positive infinity), as int64. False
 * when v is not a number or the result does not fit. */
bool wf__intrinsic_java_round(const json_t *v, int64_t *out);
/* String.length(): UTF-16 code units of a UTF-8 string. */
size_t wf__intrinsic_utf16_len(const char *s, size_t n);
/* Decode one UTF-8 code point at s[*i] (advancing *i); invalid bytes give
 * U+FFFD and advance by the maximal invalid subpart. */
uint32_t wf__intrinsic_utf8_next(const char *s, size_t n, size_t *i);
void wf__intrinsic_utf8_put(wf__strbuf *b, uint32_t cp);

/* --- Format templates (intrinsic_string.c) ------------------------------ */

/* Split a template written with the intrinsic escapes (\{ \} \' \\) at its
 * "{}" placeholders. NULL only on out-of-memory. */
wf__tmpl *wf__intrinsic_tmpl_new(const char *raw, size_t n);
void wf__intrinsic_tmpl_free(wf__tmpl *t);

/* --- the functions, one family per file --------------------------------- */

int wf__intrinsic_format(json_t **, json_t *const *, size_t, const wf__icall *);
int wf__intrinsic_string_split(json_t **, json_t *const *, size_t,
                               const wf__icall *);
int wf__intrinsic_string_to_json(json_t **, json_t *const *, size_t,
                                 const wf__icall *);
int wf__intrinsic_json_to_string(json_t **, json_t *const *, size_t,
                                 const wf__icall *);
int wf__intrinsic_json_merge(json_t **, json_t *const *, size_t,
                             const wf__icall *);
int wf__intrinsic_array(json_t **, json_t *const *, size_t, const wf__icall *);
int wf__intrinsic_array_partition(json_t **, json_t *const *, size_t,
                                  const wf__icall *);
int wf__intrinsic_array_contains(json_t **, json_t *const *, size_t,
                                 const wf__icall *);
int wf__intrinsic_array_range(json_t **, json_t *const *, size_t,
                              const wf__icall *);
int wf__intrinsic_array_get_item(json_t **, json_t *const *, size_t,
                                 const wf__icall *);
int wf__intrinsic_array_length(json_t **, json_t *const *, size_t,
                               const wf__icall *);
int wf__intrinsic_array_unique(json_t **, json_t *const *, size_t,
                               const wf__icall *);
int wf__intrinsic_base64_encode(json_t **, json_t *const *, size_t,
                                const wf__icall *);
int wf__intrinsic_base64_decode(json_t **, json_t *const *, size_t,
                                const wf__icall *);
int wf__intrinsic_hash(json_t **, json_t *const *, size_t, const wf__icall *);
int wf__intrinsic_math_random(json_t **, json_t *const *, size_t,
                              const wf__icall *);
int wf__intrinsic_math_add(json_t **, json_t *const *, size_t,
                           const wf__icall *);
int wf__intrinsic_uuid(json_t **, json_t *const *, size_t, const wf__icall *);

#endif
