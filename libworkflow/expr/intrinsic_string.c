/* States.Format and States.StringSplit. */
#include <string.h>

#include "alloc.h"
#include "intrinsic_impl.h"
#include "json_text.h"

/* --- Format templates ---------------------------------------------------- */

static bool is_template_escape(char c) {
  return c == '{' || c == '}' || c == '\'' || c == '\\';
}

wf__tmpl *wf__intrinsic_tmpl_new(const char *raw, size_t n) {
  wf__tmpl *t = wf__calloc(1, sizeof *t);
  if (!t) return NULL;
  wf__strbuf text = WF__STRBUF_INIT;
  size_t cap = 4;
  t->starts = wf__malloc(cap * sizeof *t->starts);
  if (!t->starts) goto oom;
  t->starts[0] = 0;
  t->nparts = 1;
  for (size_t i = 0; i < n;) {
    char c = raw[i];
    /* \{ and \} print a brace instead of opening a placeholder; written
     * literally they were already checked at load, read from a path they
     * get the same meaning. Another backslash is itself. */
    if (c == '\\' && i + 1 < n && is_template_escape(raw[i + 1])) {
      wf__strbuf_putc(&text, raw[i + 1]);
      i += 2;
      continue;
    }
    if (c == '{' && i + 1 < n && raw[i + 1] == '}') {
      wf__strbuf_putc(&text, '\0');
      if (t->nparts + 1 > cap) {
        size_t *s = wf__realloc(t->starts, cap * 2 * sizeof *s);
        if (!s) goto oom;
        t->starts = s;
        cap *= 2;
      }
      t->starts[t->nparts++] = text.len;
      i += 2;
      continue;
    }
    /* AWS fails the call on a lone brace, e.g. 'Hello {' or '}'. */
    if (c == '{' || c == '}') {
      t->status = c == '{' ? WF__TMPL_OPEN : WF__TMPL_CLOSE;
      break;
    }
    wf__strbuf_putc(&text, c);
    i++;
  }
  wf__strbuf_putc(&text, '\0');
  if (text.oom) goto oom;
  if (t->nparts + 1 > cap) {
    size_t *s = wf__realloc(t->starts, (t->nparts + 1) * sizeof *s);
    if (!s) goto oom;
    t->starts = s;
  }
  t->starts[t->nparts] = text.len;
  t->text = wf__strbuf_take(&text);
  if (!t->text) goto oom;
  return t;
oom:
  wf__strbuf_free(&text);
  wf__intrinsic_tmpl_free(t);
  return NULL;
}

void wf__intrinsic_tmpl_free(wf__tmpl *t) {
  if (!t) return;
  wf__free(t->text);
  wf__free(t->starts);
  wf__free(t);
}

static bool is_string_to_json(const wf__inode *n) {
  return n->kind == WF__IARG_CALL &&
         strcmp(wf__intrinsic_fns[n->fn].name, "States.StringToJson") == 0;
}

int wf__intrinsic_format(json_t **out, json_t *const *args, size_t nargs,
                         const wf__icall *c) {
  if (!json_is_string(args[0])) return wf__intrinsic_invalid(c);
  wf__tmpl *own = NULL;
  const wf__tmpl *t = c->node->tmpl;
  if (!t) {
    own = wf__intrinsic_tmpl_new(json_string_value(args[0]),
                                 json_string_length(args[0]));
    if (!own) return wf__intrinsic_oom(c);
    t = own;
  }
  int rc = 0;
  if (t->status != WF__TMPL_OK) {
    rc = wf__intrinsic_fail(
        c, "Invalid template in States.Format: matching '%c' not found for "
           "'%c'.",
        t->status == WF__TMPL_OPEN ? '}' : '{',
        t->status == WF__TMPL_OPEN ? '{' : '}');
  } else if (t->nparts - 1 != nargs - 1) {
    rc = wf__intrinsic_fail(c, "Invalid arguments in States.Format: number "
                               "of arguments do not match the occurrences "
                               "of {}.");
  } else {
    wf__strbuf b = WF__STRBUF_INIT;
    for (size_t i = 0; i < t->nparts; i++) {
      wf__strbuf_append(&b, t->text + t->starts[i],
                        t->starts[i + 1] - t->starts[i] - 1);
      if (i + 1 == t->nparts) break;
      json_t *v = args[i + 1];
      if (is_string_to_json(&c->node->args[i + 1]))
        /* StringToJson hands back a parsed JSON node, whose toString() is
         * JSON text (a string keeps its quotes); AWS prints such an
         * argument differently from the same value read by a path. */
        wf__json_dump(&b, v);
      else
        wf__intrinsic_java_str(&b, v); /* strings print raw */
    }
    *out = b.oom ? NULL : json_stringn(b.data ? b.data : "", b.len);
    wf__strbuf_free(&b);
    if (!*out) rc = wf__intrinsic_oom(c);
  }
  wf__intrinsic_tmpl_free(own);
  return rc;
}

/* --- StringSplit --------------------------------------------------------- */

/* java.util.StringTokenizer: every character of the second argument is a
 * delimiter and empty tokens are dropped (AWS: ",,,," gives [], "a,,b"
 * gives ["a","b"], "" gives []). */
int wf__intrinsic_string_split(json_t **out, json_t *const *args,
                               size_t nargs, const wf__icall *c) {
  (void)nargs;
  if (!json_is_string(args[0]) || !json_is_string(args[1]))
    return wf__intrinsic_invalid(c);
  const char *s = json_string_value(args[0]);
  size_t n = json_string_length(args[0]);
  const char *d = json_string_value(args[1]);
  size_t dn = json_string_length(args[1]);
  uint32_t small[16];
  uint32_t *delims = small;
  size_t ndelims = 0;
  if (dn > sizeof small / sizeof small[0]) {
    delims = wf__malloc(dn * sizeof *delims);
    if (!delims) return wf__intrinsic_oom(c);
  }
  for (size_t i = 0; i < dn;) delims[ndelims++] = wf__intrinsic_utf8_next(d, dn, &i);
  json_t *arr = json_array();
  int rc = arr ? 0 : wf__intrinsic_oom(c);
  size_t start = 0;
  for (size_t i = 0; rc == 0 && i <= n;) {
    size_t at = i;
    bool cut = i == n;
    if (!cut) {
      uint32_t cp = wf__intrinsic_utf8_next(s, n, &i);
      for (size_t k = 0; k < ndelims && !cut; k++) cut = delims[k] == cp;
    } else {
      i++;
    }
    if (!cut) continue;
    if (at > start && json_array_append_new(arr, json_stringn(s + start,
                                                               at - start)))
      rc = wf__intrinsic_oom(c);
    start = i;
  }
  if (delims != small) wf__free(delims);
  if (rc != 0) {
    json_decref(arr);
    return rc;
  }
  *out = arr;
  return 0;
}
