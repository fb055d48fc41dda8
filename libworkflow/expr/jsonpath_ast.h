/* Private to the jsonpath_*.c files: the compiled form of a path.
 *
 * AWS Step Functions evaluates paths with Jayway JsonPath 2.0.0 (or a
 * library behaving exactly like it) over Jackson's Map/List object model.
 * Three recorded AWS behaviours rule out every later Jayway release:
 *   - "$['Test\\\"\"Name\"']" reads the key with the backslash kept
 *     (conformance scn-escape-seq-jsonpath); 2.1+ unescapes bracket names;
 *   - "$.Jobs.sum()" is "not found" (repost.aws); 2.1+ computes the sum;
 *   - "$.array[-1].name" is not found while "$.array[(@.length-1)]" works
 *     (zenn.dev/sotaro8181, 2024); 2.1+ rejects "[(@.length-1)]".
 * So the tokens, their evaluation and their messages follow 2.0.0. */
#ifndef WF_JSONPATH_AST_H
#define WF_JSONPATH_AST_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonpath.h"
#include "strbuf.h"

typedef enum jp_tok_kind {
  JP_ROOT,     /* "$" (also a stray "$" later in the path) */
  JP_PROP,     /* ['a'] or ['a', 'b'] (names may be empty: a 2.0.0 quirk) */
  JP_ARRAY,    /* [0] [0,1] [1:] [:2] [1:2] [(@.length-1)] */
  JP_WILDCARD, /* [*] .* */
  JP_SCAN,     /* .. */
  JP_FILTER,   /* [?(...)] */
} jp_tok_kind;

typedef enum jp_arr_op {
  JP_SINGLE_INDEX,
  JP_INDEX_SEQUENCE,
  JP_CONTEXT_SIZE, /* [(@.length-n)]: index = length + nums[0] */
  JP_SLICE_FROM,
  JP_SLICE_TO,
  JP_SLICE_BETWEEN,
} jp_arr_op;

typedef struct jp_path jp_path;
typedef struct jp_pred jp_pred;

typedef struct jp_tok {
  jp_tok_kind kind;
  /* This token and every token after it are definite (Jayway's
   * isPathDefinite() of this token). */
  bool suffix_definite;
  char **names; /* JP_PROP */
  size_t nnames;
  jp_arr_op op; /* JP_ARRAY */
  int32_t *nums;
  size_t nnums;
  jp_pred *filter; /* JP_FILTER */
} jp_tok;

struct jp_path {
  jp_tok *toks; /* toks[0] is JP_ROOT */
  size_t n;
  bool is_root_path; /* false for "@..." paths inside filters */
  bool definite;
};

/* Filter operands and criteria (Jayway 2.0.0 Criteria). */
typedef enum jp_opnd_kind {
  JP_OPND_PATH,
  JP_OPND_STRING,  /* any literal that is not a path or a pattern */
  JP_OPND_PATTERN, /* /regex/ or /regex/i */
} jp_opnd_kind;

typedef struct jp_operand {
  jp_opnd_kind kind;
  jp_path *path;
  char *str; /* JP_OPND_STRING: the text; JP_OPND_PATTERN: the regex */
  size_t len;
  pcre2_code *re;
} jp_operand;

typedef enum jp_crit_op {
  JP_EQ,
  JP_NE,
  JP_LT,
  JP_LTE,
  JP_GT,
  JP_GTE,
  JP_REGEX,
  JP_EXISTS,
} jp_crit_op;

typedef enum jp_pred_kind { JP_P_CRIT, JP_P_AND, JP_P_OR } jp_pred_kind;

struct jp_pred {
  jp_pred_kind kind;
  /* JP_P_CRIT */
  jp_crit_op op;
  bool exists; /* JP_EXISTS: true for "@.x", false for "!@.x" */
  jp_operand left, right;
  /* JP_P_AND: kids[0..n); JP_P_OR: kids[0] || kids[1] */
  jp_pred **kids;
  size_t nkids;
};

struct wf__jsonpath {
  char *text;
  wf__jp_root root;
  char *var; /* WF__JP_ROOT_VARIABLE */
  jp_path *path;
};

/* --- compiling (jsonpath_parse.c, jsonpath_filter.c) --- */

/* A compile in progress: the first failure's reason goes to msg. */
typedef struct jp_pstate {
  char *msg;
  size_t msglen;
  bool failed;
} jp_pstate;

/* A piece of path text (Jayway's path fragment). */
typedef struct jp_frag {
  const char *s;
  size_t n;
} jp_frag;

/* Record the first failure reason; always returns false. */
bool wf__jsonpath_fail(jp_pstate *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Java's charAt(): false (and a failure) past the end. */
bool wf__jsonpath_at(jp_pstate *ps, jp_frag f, size_t i, char *c);
/* Java's String.trim() on a slice. */
void wf__jsonpath_java_trim(const char **s, size_t *n);
/* Grow *arr (of elem-sized items, capacity *cap) to hold n + 1. */
bool wf__jsonpath_grow(void **arr, size_t *cap, size_t n, size_t elem);
/* Jayway's PathCompiler.compile(): "$..." or "@..." (a filter operand). */
jp_path *wf__jsonpath_jayway_compile(jp_pstate *ps, const char *s, size_t n);
/* The filter token whose '?' is at f.s[q]. */
bool wf__jsonpath_analyze_filter(jp_pstate *ps, jp_frag f, size_t q, jp_tok *t);
void wf__jsonpath_pred_free(jp_pred *p);
void wf__jsonpath_path_free(jp_path *p);
/* Append the Jayway fragment of one token ("['a']", "[0]", "[*]", "..",
 * "[?]") or of tokens [from, n) (Jayway's PathToken.toString()). */
void wf__jsonpath_fragment(wf__strbuf *b, const jp_tok *t);
void wf__jsonpath_suffix(wf__strbuf *b, const jp_path *p, size_t from);

/* --- evaluating (jsonpath_eval.c, jsonpath_criteria.c) --- */

/* A Java exception in flight: its kind; the message is in jp_ev.msg. */
typedef enum jp_exc {
  JX_OK = 0,
  JX_PNF,   /* PathNotFoundException */
  JX_IPE,   /* InvalidPathException */
  JX_OTHER, /* any other Java exception escaping the evaluation */
  JX_OOM,
  JX_SPENT, /* the evaluation's budget ran out (budget->spent says how) */
} jp_exc;

typedef struct jp_ev {
  json_t *root;    /* the document the path started from ($ in filters) */
  json_t *results; /* matches of an indefinite path */
  wf__strbuf path; /* Jayway's currentPath: "$['a'][0]" */
  wf__strbuf msg;  /* the message of the pending exception */
  pcre2_general_context *gctx;
  pcre2_match_data *md;
  pcre2_match_context *mctx;
  wf__budget *budget;  /* never NULL */
  size_t result_bytes; /* the matches so far, as a compact JSON array */
} jp_ev;

/* Set the pending exception's message to prefix + s + suffix. */
jp_exc wf__jsonpath_throw(jp_ev *e, jp_exc kind, const char *prefix,
                          const wf__strbuf *s, const char *suffix);
/* Walk a definite path from doc. *out is borrowed, or a new reference when
 * *owned (a merged ['a','b'] leaf). */
jp_exc wf__jsonpath_def_eval(jp_ev *e, const jp_path *p, json_t *doc,
                             bool require, json_t **out, bool *owned);
/* Does the filter accept `item`? */
jp_exc wf__jsonpath_pred_apply(jp_ev *e, const jp_pred *p, json_t *item,
                               bool *res);
/* Java's toString() of the Jackson value (Jayway's "Current context is:
 * %s"): {a=1, b=[1, 2]}. */
void wf__jsonpath_java_string(wf__strbuf *b, const json_t *v);

#endif
