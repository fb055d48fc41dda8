/* Loading definitions (JSON, YAML, files) into immutable machines, and the
 * machine's public accessors. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "compile.h"
#include "error.h"
#include "json_text.h"
#include "yaml_load.h"

int wf_load_options_init(wf_load_options *opts, unsigned int version) {
  if (!opts) return WF_EINVAL;
  if (version != WF_LOAD_OPTIONS_VERSION) return WF_EVERSION;
  memset(opts, 0, sizeof *opts);
  opts->version = version;
  return WF_OK;
}

static void machine_destroy(wf_machine *m) {
  wf__scope_free(m->top);
  json_decref(m->root);
  wf__free(m->name);
  wf__free(m->definition);
  wf__free(m);
}

wf_machine *wf__machine_ref(wf_machine *m) {
  atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
  return m;
}

void wf_machine_free(wf_machine *m) {
  if (!m) return;
  if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
    machine_destroy(m);
}

static void hand_over_diags(const wf_load_options *opts, wf_diagnostics *d) {
  if (opts && opts->diagnostics)
    *opts->diagnostics = d;
  else
    wf_diagnostics_free(d);
}

/* Fill err from the first diagnostic. */
static int fail_with(wf_diagnostics *d, int code, const wf_load_options *opts,
                     wf_error *err) {
  if (d->oom) {
    wf_diagnostics_free(d);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  if (d->count) {
    const wf__diag *first = &d->items[0];
    wf__error_set(err, code, first->location, "%s: %s", first->code,
                  first->message);
    if (err) {
      err->line = first->line;
      err->column = first->column;
    }
  } else {
    wf__error_set(err, code, NULL, "invalid definition");
  }
  hand_over_diags(opts, d);
  return code;
}

static int check_opts(const wf_load_options *opts, wf_error *err) {
  if (opts && opts->version != WF_LOAD_OPTIONS_VERSION)
    return wf__error_set(err, WF_EVERSION, NULL,
                         "wf_load_options version %u is not supported "
                         "(expected %u)",
                         opts->version, WF_LOAD_OPTIONS_VERSION);
  if (opts && opts->diagnostics) *opts->diagnostics = NULL;
  if (opts && opts->type != WF_MACHINE_STANDARD &&
      opts->type != WF_MACHINE_EXPRESS)
    return wf__error_set(err, WF_EINVAL, NULL, "unknown machine type %d",
                         (int)opts->type);
  return WF_OK;
}

/* Compile a parsed definition (takes ownership of root). */
static int load_root(wf_machine **out, json_t *root,
                     const wf_load_options *opts, wf_error *err) {
  wf_diagnostics *d = wf__diag_new();
  wf_machine *m = wf__calloc(1, sizeof *m);
  wf__cctx cx = {.diags = d, .loc = WF__STRBUF_INIT};
  cx.type = opts ? opts->type : WF_MACHINE_STANDARD;
  cx.names = json_object();
  if (!d || !m || !cx.names) {
    json_decref(root);
    json_decref(cx.names);
    wf__free(m);
    wf_diagnostics_free(d);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  atomic_init(&m->refs, 1);
  m->type = cx.type;
  m->root = root;
  if (!json_is_object(root)) {
    /* AWS's answer for a definition that parses but is no object
     * (measured: LocalStack test_sfn_api_validation snapshot). */
    wf__diag_add(d, WF__SCHEMA, NULL, "Definition must be a valid JSON object");
  } else {
    m->top = wf__compile_top(&cx, root, m);
  }
  m->nstates = cx.nstates;
  json_decref(cx.names);
  if (cx.loc.oom) d->oom = true;
  wf__strbuf_free(&cx.loc);
  if (d->count || d->oom || !m->top) {
    machine_destroy(m);
    return fail_with(d, WF_EINVALID, opts, err);
  }
  wf_diagnostics_free(d);
  m->name = wf__strdup(opts && opts->name ? opts->name : "StateMachine");
  m->definition = wf__json_dumps(root);
  if (!m->name || !m->definition) {
    machine_destroy(m);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  *out = m;
  return WF_OK;
}

static bool blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!strchr(" \t\r\n", s[i])) return false;
  return true;
}

/* Parse text as JSON or YAML, reporting a syntax error as AWS's
 * INVALID_JSON_DESCRIPTION diagnostic with its line and column. */
static int load_text(wf_machine **out, const char *text, size_t len,
                     bool yaml, const wf_load_options *opts, wf_error *err) {
  if (!out || !text)
    return wf__error_set(err, WF_EINVAL, NULL, "out and text are required");
  *out = NULL;
  int rc = check_opts(opts, err);
  if (rc) return rc;
  if (len > WF_DEFINITION_MAX_BYTES)
    return wf__error_set(err, WF_ELIMIT, NULL,
                         "the definition is %zu bytes, over AWS's limit of %d "
                         "bytes",
                         len, WF_DEFINITION_MAX_BYTES);
  wf_diagnostics *d = wf__diag_new();
  if (!d) return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  /* Nothing at all is AWS's MISSING_DESCRIPTION; blanks only are not a
   * JSON object, which AWS words as below (measured on AWS: a definition of
   * " " gives exactly this diagnostic, without a location). */
  if (len == 0) {
    wf__diag_add(d, "MISSING_DESCRIPTION", NULL,
                 "Received a null or empty workflow input.");
    return fail_with(d, WF_EINVALID, opts, err);
  }
  if (blank(text, len)) {
    wf__diag_add(d, WF__SCHEMA, NULL, "Definition must be a valid JSON object");
    return fail_with(d, WF_EINVALID, opts, err);
  }
  json_t *root = NULL;
  wf_error perr;
  rc = yaml ? wf__yaml_parse(&root, text, len, &perr)
            : wf__json_parse(&root, text, len, "definition", &perr);
  if (rc != WF_OK) {
    if (rc == WF_ENOMEM) {
      wf_diagnostics_free(d);
      return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
    }
    wf__diag_add_at(d, "INVALID_JSON_DESCRIPTION", perr.line, perr.column,
                    perr.message);
    return fail_with(d, WF_EPARSE, opts, err);
  }
  wf_diagnostics_free(d);
  return load_root(out, root, opts, err);
}

int wf_machine_load_json(wf_machine **out, const char *json,
                         const wf_load_options *opts, wf_error *err) {
  return load_text(out, json, json ? strlen(json) : 0, false, opts, err);
}

int wf_machine_load_yaml(wf_machine **out, const char *yaml,
                         const wf_load_options *opts, wf_error *err) {
  return load_text(out, yaml, yaml ? strlen(yaml) : 0, true, opts, err);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

int wf_machine_load_file(wf_machine **out, const char *path,
                         const wf_load_options *opts, wf_error *err) {
  if (!out || !path)
    return wf__error_set(err, WF_EINVAL, NULL, "out and path are required");
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return wf__error_set(err, WF_EIO, NULL, "cannot open %s: %s", path,
                         strerror(errno));
  wf__strbuf b = WF__STRBUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    wf__strbuf_append(&b, chunk, n);
    if (b.len > WF_DEFINITION_MAX_BYTES) break;
  }
  bool failed = ferror(f);
  int saved = errno;
  fclose(f);
  if (failed) {
    wf__strbuf_free(&b);
    return wf__error_set(err, WF_EIO, NULL, "cannot read %s: %s", path,
                         strerror(saved));
  }
  if (b.oom) {
    wf__strbuf_free(&b);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  if (b.len > WF_DEFINITION_MAX_BYTES) {
    wf__strbuf_free(&b);
    return wf__error_set(err, WF_ELIMIT, NULL,
                         "%s is over AWS's definition limit of %d bytes",
                         path, WF_DEFINITION_MAX_BYTES);
  }
  bool yaml = ends_with(path, ".yaml") || ends_with(path, ".yml");
  int rc = load_text(out, wf__strbuf_cstr(&b), b.len, yaml, opts, err);
  wf__strbuf_free(&b);
  return rc;
}

wf_machine_type wf_machine_get_type(const wf_machine *m) { return m->type; }
const char *wf_machine_name(const wf_machine *m) { return m->name; }
size_t wf_machine_state_count(const wf_machine *m) { return m->nstates; }
const char *wf_machine_definition(const wf_machine *m) { return m->definition; }

const char *wf_machine_start_at(const wf_machine *m) {
  return m->top->states[m->top->start]->name;
}
