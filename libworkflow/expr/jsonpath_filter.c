/* Parsing filters: "[?(...)]" the way Jayway JsonPath 2.0.0's
 * PathComponentAnalyzer.findFilterBounds, Filter.parse and Criteria.parse
 * read them. 2.0.0 knows only the operators == != < <= > >= =~ and exists
 * checks ("@.x", "!@.x"); "in", "nin", "size", "empty", "subsetof",
 * "anyof", "noneof" are later additions, and a filter using them leaves a
 * path with spaces in it, which the compiler rejects. */
#include <string.h>

#include "alloc.h"
#include "jsonpath_ast.h"
#include "regex_context.h"

static bool oom(jp_pstate *ps) {
  return wf__jsonpath_fail(ps, "out of memory");
}

static void operand_clear(jp_operand *o) {
  wf__jsonpath_path_free(o->path);
  wf__free(o->str);
  if (o->re) pcre2_code_free(o->re);
  memset(o, 0, sizeof *o);
}

void wf__jsonpath_pred_free(jp_pred *p) {
  if (!p) return;
  operand_clear(&p->left);
  operand_clear(&p->right);
  for (size_t i = 0; i < p->nkids; i++) wf__jsonpath_pred_free(p->kids[i]);
  wf__free(p->kids);
  wf__free(p);
}

static bool starts(const char *s, size_t n, const char *p) {
  size_t k = strlen(p);
  return n >= k && memcmp(s, p, k) == 0;
}

static char *dup_slice(const char *s, size_t n) { return wf__strndup(s, n); }

static bool compile_pattern(jp_pstate *ps, const char *s, size_t n,
                            jp_operand *o) {
  /* regex = text between the first char and the last '/'; case-insensitive
   * when the literal ends with 'i' (Criteria.compilePattern). */
  size_t last = n;
  while (last > 0 && s[last - 1] != '/') last--;
  if (last == 0) return wf__jsonpath_fail(ps, "bad pattern");
  last--; /* index of the last '/' */
  if (last < 1) return wf__jsonpath_fail(ps, "String index out of range: -1");
  bool icase = s[n - 1] == 'i';
  o->kind = JP_OPND_PATTERN;
  o->str = dup_slice(s + 1, last - 1);
  o->len = last - 1;
  if (!o->str) return oom(ps);
  /* Java's Matcher.matches() tests the whole subject (anchored at both
   * ends). Java treats \n \r \u0085 \u2028 \u2029 as line ends, which
   * PCRE2's "any newline" comes closest to. PCRE2 allocates through
   * libworkflow's allocator too: the code keeps the general context's
   * functions for pcre2_code_free(). */
  pcre2_general_context *gc = wf__regex_context_new();
  pcre2_compile_context *cc = gc ? pcre2_compile_context_create(gc) : NULL;
  if (!cc) {
    pcre2_general_context_free(gc);
    return oom(ps);
  }
  pcre2_set_newline(cc, PCRE2_NEWLINE_ANY);
  int err = 0;
  PCRE2_SIZE off = 0;
  uint32_t opts = PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED;
  if (icase) opts |= PCRE2_CASELESS;
  o->re = pcre2_compile((PCRE2_SPTR)o->str, o->len, opts, &err, &off, cc);
  pcre2_compile_context_free(cc);
  pcre2_general_context_free(gc);
  if (!o->re) {
    PCRE2_UCHAR m[160];
    pcre2_get_error_message(err, m, sizeof m);
    return wf__jsonpath_fail(ps, "bad regular expression at offset %zu: %s",
                             (size_t)off, (const char *)m);
  }
  return true;
}

static bool operand(jp_pstate *ps, const char *s, size_t n, bool is_left,
                    jp_operand *o, bool *exists) {
  bool is_path = (n && (s[0] == '$' || s[0] == '@')) || starts(s, n, "!@");
  if (is_path) {
    if (s[0] == '!') {
      if (!is_left)
        return wf__jsonpath_fail(
            ps,
            "Invalid negation! Can only be used for existence "
            "check e.g [?(!@.foo)]");
      *exists = false;
      s++;
      n--;
    }
    o->kind = JP_OPND_PATH;
    o->path = wf__jsonpath_jayway_compile(ps, s, n);
    if (!o->path) return false;
    if (!o->path->definite)
      return wf__jsonpath_fail(ps, "the predicate path: %.*s is not definite",
                               (int)n, s);
    return true;
  }
  if (n && s[0] == '\'' && s[n - 1] == '\'') {
    if (n < 2) return wf__jsonpath_fail(ps, "String index out of range: -1");
    o->kind = JP_OPND_STRING;
    o->str = dup_slice(s + 1, n - 2);
    o->len = n - 2;
    return o->str ? true : oom(ps);
  }
  if (n && s[0] == '/' &&
      (s[n - 1] == '/' || (n >= 2 && s[n - 2] == '/' && s[n - 1] == 'i')))
    return compile_pattern(ps, s, n, o);
  o->kind = JP_OPND_STRING;
  o->str = dup_slice(s, n);
  o->len = n;
  return o->str ? true : oom(ps);
}

static jp_pred *criteria(jp_pstate *ps, const char *s, size_t n) {
  /* The first operator of this list found anywhere in the text wins
   * (Criteria.OPERATORS order). */
  static const struct {
    const char *text;
    jp_crit_op op;
  } ops[] = {{"==", JP_EQ}, {">=", JP_GTE}, {"<=", JP_LTE},  {"!=", JP_NE},
             {"<", JP_LT},  {">", JP_GT},   {"=~", JP_REGEX}};
  jp_pred *p = wf__calloc(1, sizeof *p);
  if (!p) {
    oom(ps);
    return NULL;
  }
  p->kind = JP_P_CRIT;
  const char *l = s, *r = "";
  size_t ln = n, rn = 0;
  bool has_op = false;
  for (size_t k = 0; k < sizeof ops / sizeof ops[0] && !has_op; k++) {
    size_t kl = strlen(ops[k].text);
    for (size_t i = 0; i + kl <= n; i++) {
      if (memcmp(s + i, ops[k].text, kl) == 0) {
        has_op = true;
        p->op = ops[k].op;
        ln = i;
        r = s + i + kl;
        rn = n - i - kl;
        break;
      }
    }
  }
  wf__jsonpath_java_trim(&l, &ln);
  wf__jsonpath_java_trim(&r, &rn);
  bool exists = true;
  if (!operand(ps, l, ln, true, &p->left, &exists) ||
      !operand(ps, r, rn, false, &p->right, &exists)) {
    wf__jsonpath_pred_free(p);
    return NULL;
  }
  if (p->left.kind == JP_OPND_PATH && !has_op) {
    p->op = JP_EXISTS;
    p->exists = exists;
  } else if (!has_op) {
    wf__jsonpath_pred_free(p);
    wf__jsonpath_fail(ps, "CriteriaType  can not be parsed");
    return NULL;
  }
  return p;
}

/* Criteria.cleanCriteria: drop leading "[?( " and trailing ") " chars. */
static jp_pred *clean_criteria(jp_pstate *ps, const char *s, size_t n) {
  size_t b = 0;
  while (b < n && (s[b] == '[' || s[b] == '?' || s[b] == '(' || s[b] == ' '))
    b++;
  if (b >= n) {
    wf__jsonpath_fail(ps, "String index out of range: %zu", b);
    return NULL;
  }
  size_t e = n; /* exclusive */
  while (e > 0 && (s[e - 1] == ')' || s[e - 1] == ' ')) e--;
  if (e == 0 || e < b) {
    wf__jsonpath_fail(ps, "String index out of range: %zu", e);
    return NULL;
  }
  return criteria(ps, s + b, e - b);
}

static jp_pred *pred_new(jp_pstate *ps, jp_pred_kind kind, size_t nkids) {
  jp_pred *p = wf__calloc(1, sizeof *p);
  if (p) {
    p->kind = kind;
    p->kids = wf__calloc(nkids, sizeof(jp_pred *));
    p->nkids = nkids;
    if (!p->kids) {
      wf__free(p);
      p = NULL;
    }
  }
  if (!p) oom(ps);
  return p;
}

/* Filter.and(): a single criterion or an OR become AND(root, x) and
 * OR(l, AND(r, x)); an AND grows by one operand (the 2.0.0 classes). */
static jp_pred *pred_and(jp_pstate *ps, jp_pred *root, jp_pred *x) {
  jp_pred *p;
  if (root->kind == JP_P_AND) {
    p = pred_new(ps, JP_P_AND, root->nkids + 1);
    if (!p) return NULL;
    memcpy(p->kids, root->kids, root->nkids * sizeof(jp_pred *));
    p->kids[root->nkids] = x;
    root->nkids = 0;
    wf__jsonpath_pred_free(root);
    return p;
  }
  if (root->kind == JP_P_OR) {
    jp_pred *inner = pred_new(ps, JP_P_AND, 2);
    if (!inner) return NULL;
    inner->kids[0] = root->kids[1];
    inner->kids[1] = x;
    root->kids[1] = inner;
    return root;
  }
  p = pred_new(ps, JP_P_AND, 2);
  if (!p) return NULL;
  p->kids[0] = root;
  p->kids[1] = x;
  return p;
}

static jp_pred *pred_or(jp_pstate *ps, jp_pred *root, jp_pred *x) {
  jp_pred *p = pred_new(ps, JP_P_OR, 2);
  if (!p) return NULL;
  p->kids[0] = root;
  p->kids[1] = x;
  return p;
}

/* Filter.parse: criteria separated by && and ||, parentheses dropped,
 * combined right to left from two stacks (which happens to give && the
 * tighter binding when nothing is parenthesised). */
static jp_pred *filter_parse(jp_pstate *ps, const char *s, size_t n) {
  const char *all = s;
  size_t alln = n;
  wf__jsonpath_java_trim(&s, &n);
  if (!(n && s[0] == '[' && s[n - 1] == ']')) {
    wf__jsonpath_fail(ps, "Filter must start with '[' and end with ']'. %.*s",
                      (int)alln, all);
    return NULL;
  }
  s++;
  n -= 2;
  wf__jsonpath_java_trim(&s, &n);
  if (!(n && s[0] == '?')) {
    wf__jsonpath_fail(ps, "Filter must start with '[?' and end with ']'. %.*s",
                      (int)alln, all);
    return NULL;
  }
  s++;
  n--;
  wf__jsonpath_java_trim(&s, &n);
  if (!(n >= 2 && s[0] == '(' && s[n - 1] == ')')) {
    wf__jsonpath_fail(ps,
                      "Filter must start with '[?(' and end with ')]'. %.*s",
                      (int)alln, all);
    return NULL;
  }
  s++;
  n -= 2;
  wf__jsonpath_java_trim(&s, &n);

  jp_pred **crits = NULL;
  size_t ncrit = 0, ccap = 0;
  char *opsv = NULL; /* '&' or '|' */
  size_t nops = 0, ocap = 0;
  jp_pred *root = NULL;
  bool ok = true;
  size_t start = 0;
  for (size_t i = 0; ok && i <= n;) {
    bool is_op = i + 1 < n && ((s[i] == '&' && s[i + 1] == '&') ||
                               (s[i] == '|' && s[i + 1] == '|'));
    if (is_op || i == n) {
      const char *piece = s + start;
      size_t pn = i - start;
      wf__jsonpath_java_trim(&piece, &pn);
      jp_pred *c = clean_criteria(ps, piece, pn);
      if (!c || !wf__jsonpath_grow((void **)&crits, &ccap, ncrit,
                                   sizeof(jp_pred *))) {
        if (c) oom(ps);
        wf__jsonpath_pred_free(c);
        ok = false;
        break;
      }
      crits[ncrit++] = c;
      if (i == n) break;
      if (!wf__jsonpath_grow((void **)&opsv, &ocap, nops, 1)) {
        ok = oom(ps);
        break;
      }
      opsv[nops++] = s[i];
      i += 2;
      start = i;
    } else {
      i++;
    }
  }
  if (ok) {
    root = crits[--ncrit];
    while (nops > 0) {
      char op = opsv[--nops];
      if (ncrit == 0) {
        if (op == '&')
          wf__jsonpath_fail(ps, "EmptyStackException");
        else
          wf__jsonpath_fail(ps, "Invalid operators %.*s", (int)n, s);
        ok = false;
        break;
      }
      jp_pred *x = crits[--ncrit];
      jp_pred *nr = op == '&' ? pred_and(ps, root, x) : pred_or(ps, root, x);
      if (!nr) {
        wf__jsonpath_pred_free(x);
        ok = false;
        break;
      }
      root = nr;
    }
    if (ok && ncrit != 0) {
      wf__jsonpath_fail(ps, "Invalid operators %.*s", (int)n, s);
      ok = false;
    }
  }
  for (size_t i = 0; i < ncrit; i++) wf__jsonpath_pred_free(crits[i]);
  wf__free(crits);
  wf__free(opsv);
  if (!ok) {
    wf__jsonpath_pred_free(root);
    return NULL;
  }
  return root;
}

/* PathComponentAnalyzer.findFilterBounds + analyzeCriteriaSequence4. */
bool wf__jsonpath_analyze_filter(jp_pstate *ps, jp_frag f, size_t q,
                                 jp_tok *t) {
  size_t start = q;
  while (f.s[start] != '[') {
    if (start == 0)
      return wf__jsonpath_fail(ps, "String index out of range: -1");
    start--;
  }
  size_t end = 0, curr = start;
  char mem = ' ';
  bool in_prop = false;
  long open_sq = 0, open_par = 0;
  while (end == 0) {
    char c = 0;
    if (!wf__jsonpath_at(ps, f, curr, &c)) return false;
    switch (c) {
      case '(':
        if (!in_prop) open_par++;
        break;
      case ')':
        if (!in_prop) open_par--;
        break;
      case '[':
        if (!in_prop) open_sq++;
        break;
      case ']':
        if (!in_prop) {
          open_sq--;
          if (open_par == 0) end = curr + 1;
        }
        break;
      case '\'':
        if (mem != '\\') in_prop = !in_prop;
        break;
      default:
        break;
    }
    mem = c;
    curr++;
  }
  if (open_par != 0 || open_sq != 0)
    return wf__jsonpath_fail(ps, "Filter brackets are not balanced");
  t->kind = JP_FILTER;
  t->filter = filter_parse(ps, f.s + start, end - start);
  return t->filter != NULL;
}
