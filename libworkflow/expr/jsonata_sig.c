/* Function signatures ("<s-nn?:s>"), parsed and checked as jsonata-js
 * 2.0.6's signature.js does: each argument's type symbol (s n b l a o f,
 * m for missing) must match the parameters' classes, '-' takes the context
 * value for a missing argument, an 'a' parameter wraps a single value in an
 * array, and a mismatch is T0410, T0411 or T0412. */
#include <string.h>

#include "jsonata_impl.h"

/* Input containers are converted on first look (jsonata_value.c). */
void jv_force(const jv *v);

int jsig_parse(jsig *out, const char *text, const char **code, int *offset) {
  memset(out, 0, sizeof *out);
  size_t len = strlen(text);
  jparam *prev = NULL;
  for (size_t pos = 1; pos < len; pos++) {
    char c = text[pos];
    if (c == ':') break;
    jparam *p = out->n < 10 ? &out->p[out->n] : NULL;
    switch (c) {
    case 's': case 'n': case 'b': case 'l': case 'o':
    case 'a': case 'f': case 'j': case 'x':
      if (!p) break;
      memset(p, 0, sizeof *p);
      p->type = c;
      if (c == 'a' || c == 'x') strcpy(p->set, "asnblfom");
      else if (c == 'f') strcpy(p->set, "f");
      else if (c == 'j') strcpy(p->set, "asnblom");
      else {
        p->set[0] = c;
        p->set[1] = 'm';
      }
      prev = p;
      out->n++;
      break;
    case '-':
      if (prev) prev->context = true, prev->optional = true;
      break;
    case '?':
      if (prev) prev->optional = true;
      break;
    case '+':
      if (prev) prev->many = true;
      break;
    case '(': {
      size_t end = pos + 1;
      int depth = 1;
      while (end < len) {
        if (text[end] == ')' && --depth == 0) break;
        if (text[end] == '(') depth++;
        end++;
      }
      if (memchr(text + pos + 1, '<', end - pos - 1)) {
        *code = "S0402";
        *offset = (int)pos;
        return -1;
      }
      if (!p) break;
      memset(p, 0, sizeof *p);
      p->type = '(';
      size_t n = end - pos - 1;
      if (n > sizeof p->set - 2) n = sizeof p->set - 2;
      memcpy(p->set, text + pos + 1, n);
      p->set[n] = 'm';
      prev = p;
      out->n++;
      pos = end;
      break;
    }
    case '<': {
      if (!prev || (prev->type != 'a' && prev->type != 'f')) {
        *code = "S0401";
        *offset = (int)pos;
        return -1;
      }
      size_t end = pos + 1;
      int depth = 1;
      while (end < len) {
        if (text[end] == '>' && --depth == 0) break;
        if (text[end] == '<') depth++;
        end++;
      }
      size_t n = end - pos - 1;
      if (n > sizeof prev->subtype - 1) n = sizeof prev->subtype - 1;
      memcpy(prev->subtype, text + pos + 1, n);
      prev->subtype[n] = '\0';
      pos = end;
      break;
    }
    default:
      break;
    }
  }
  return 0;
}

static char symbol(const jv *v) {
  if (!v) return 'm';
  switch (v->kind) {
  case JV_FUNC: return 'f';
  case JV_STR: return 's';
  case JV_NUM: return 'n';
  case JV_BOOL: return 'b';
  case JV_NULL: return 'l';
  case JV_ARR: return 'a';
  case JV_OBJ: return 'o';
  }
  return 'm';
}

/* Backtracking match of the argument symbols against the parameters, as
 * the regular expression jsonata-js builds would (greedy quantifiers).
 * counts[i]: how many symbols parameter i took. */
static bool match(const jsig *sig, int pi, const char *syms, size_t ai,
                  size_t n, int *counts) {
  if (pi == sig->n) return ai == n;
  const jparam *p = &sig->p[pi];
  size_t maxk = p->many ? n - ai : (ai < n ? 1 : 0);
  size_t k = 0;
  while (k < maxk && strchr(p->set, syms[ai + k])) k++;
  size_t mink = p->optional ? 0 : 1;
  if (p->many && p->optional) mink = 0;
  for (size_t t = k + 1; t-- > mink;) {
    counts[pi] = (int)t;
    if (match(sig, pi + 1, syms, ai + t, n, counts)) return true;
  }
  return false;
}

/* How far a prefix of the parameters matches (for T0410's index). */
static size_t prefix_match(const jsig *sig, int upto, const char *syms,
                           size_t n, bool *ok) {
  /* emulate '^' + regexes of params [0, upto] matched anywhere-greedy */
  int counts[10];
  jsig part = *sig;
  part.n = upto + 1;
  /* the longest prefix of syms the partial pattern matches */
  for (size_t len = n + 1; len-- > 0;) {
    if (match(&part, 0, syms, 0, len, counts)) {
      *ok = true;
      return len;
    }
  }
  *ok = false;
  return 0;
}

static const char *array_type_name(const char *sub) {
  switch (sub[0]) {
  case 'a': return "arrays";
  case 'b': return "booleans";
  case 'f': return "functions";
  case 'n': return "numbers";
  case 'o': return "objects";
  case 's': return "strings";
  }
  return NULL;
}

static _Noreturn void sig_error(jev *ev, const char *code, jv *value,
                                size_t index) {
  jerr_reset(&ev->err, code);
  ev->err.value = value;
  ev->err.has_value = true;
  ev->err.index = (int)index;
  jrethrow(ev);
}

jv **jsig_validate(jev *ev, const jsig *sig, jv **args, size_t nargs,
                   jv *context, size_t *nout) {
  char syms[64];
  if (nargs >= sizeof syms) nargs = sizeof syms - 1;
  for (size_t i = 0; i < nargs; i++) syms[i] = symbol(args[i]);
  syms[nargs] = '\0';
  int counts[10] = {0};
  /* One argument for each parameter, each of its class (most calls):
   * what match's first, greedy try takes, without the search. */
  bool direct = nargs == (size_t)sig->n;
  for (size_t i = 0; direct && i < nargs; i++)
    direct = !sig->p[i].many && strchr(sig->p[i].set, syms[i]);
  for (size_t i = 0; direct && i < nargs; i++) counts[i] = 1;
  if (!direct && !match(sig, 0, syms, 0, nargs, counts)) {
    size_t good = 0;
    for (int i = 0; i < sig->n; i++) {
      bool ok;
      size_t m = prefix_match(sig, i, syms, nargs, &ok);
      if (!ok) break;
      good = m;
    }
    sig_error(ev, "T0410", good < nargs ? args[good] : NULL, good + 1);
  }
  jv **out = jalloc(ev, (nargs + (size_t)sig->n + 1) * sizeof *out);
  size_t no = 0, ai = 0;
  for (int pi = 0; pi < sig->n; pi++) {
    const jparam *p = &sig->p[pi];
    if (counts[pi] == 0) {
      if (p->context) {
        char cs = symbol(context);
        char set[12];
        strcpy(set, p->set);
        if (strchr(set, cs)) out[no++] = context;
        else sig_error(ev, "T0411", context, ai + 1);
      } else {
        out[no++] = ai < nargs ? args[ai] : NULL;
        ai++;
      }
      continue;
    }
    for (int t = 0; t < counts[pi]; t++) {
      jv *arg = args[ai];
      char single = syms[ai];
      if (p->type == 'a') {
        if (single == 'm') {
          arg = NULL;
        } else {
          bool ok = true;
          if (p->subtype[0]) {
            if (single != 'a' && !(counts[pi] == 1 && single == p->subtype[0] &&
                                   p->subtype[1] == '\0'))
              ok = false;
            else if (single == 'a' && (jv_force(arg), arg->u.arr.len > 0)) {
              char it = symbol(arg->u.arr.v[0]);
              if (it != p->subtype[0]) ok = false;
              else
                for (size_t i = 0; i < arg->u.arr.len; i++)
                  if (symbol(arg->u.arr.v[i]) != it) ok = false;
            }
          }
          if (!ok) {
            jerr_reset(&ev->err, "T0412");
            ev->err.value = arg;
            ev->err.has_value = true;
            ev->err.index = (int)ai + 1;
            ev->err.type = array_type_name(p->subtype);
            jrethrow(ev);
          }
          if (single != 'a') {
            jv *w = jv_arr(ev, 0);
            jv_push(ev, w, arg);
            arg = w;
          }
        }
      }
      out[no++] = arg;
      ai++;
    }
  }
  *nout = no;
  return out;
}
