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

/* An XPath F&O 3.1 integer picture ($formatInteger, and the integer
 * components of date/time pictures), as jsonata-js's datetime.js reads it
 * (jsonata_fn_format.c). */
typedef enum { JINT_DECIMAL, JINT_LETTERS, JINT_ROMAN, JINT_WORDS, JINT_SEQUENCE } jint_kind;
typedef enum { JCASE_LOWER, JCASE_UPPER, JCASE_TITLE } jint_case;
typedef struct jintfmt {
  jint_kind primary;
  jint_case tcase;
  bool ordinal;
  uint32_t zero;      /* the digit family's zero */
  int mandatory, optional;
  bool regular;       /* one separator every sep_pos[0] digits */
  int nsep;
  int *sep_pos;       /* digits to the right of each separator */
  uint32_t *sep_ch;
  const char *token;  /* the picture (JINT_SEQUENCE, for D3130) */
  size_t token_len;
} jintfmt;
void jintfmt_analyse(jev *ev, jintfmt *f, const char *pic, size_t len);
/* Appends value (an integer) as the picture says; D3130 for a sequence. */
void jintfmt_put(jev *ev, wf__strbuf *sb, double value, const jintfmt *f);
/* Appends the regular expression matching what jintfmt_put writes (when
 * n > 0: n digits, fewer by the optional ones); D3130 for a sequence. */
void jintfmt_regex(jev *ev, wf__strbuf *sb, const jintfmt *f, int n);
/* The value of text written by the picture (NaN when none). */
double jintfmt_parse(jev *ev, const jintfmt *f, const char *s, size_t n);
void jutf8_put(wf__strbuf *sb, uint32_t cp);
extern const jnative jfn_format_table[];
extern const jnative jfn_date_table[];
extern const jnative jfn_aws_table[];

#endif
