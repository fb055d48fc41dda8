#include "support.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *wft_shared_dir(void) {
  const char *env = getenv("WF_SHARED_DIR");
  return env && *env ? env : WF_SHARED_DIR;
}

char *wft_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n - 1 == 0) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (!buf) return NULL;
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

char *wft_strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) s = NULL;
  va_end(ap);
  return s;
}

/* --- JSON values ---------------------------------------------------------- */

bool wft_json_equal(const json_t *a, const json_t *b) {
  if (!a || !b || json_typeof(a) != json_typeof(b)) return false;
  switch (json_typeof(a)) {
    case JSON_OBJECT: {
      if (json_object_size(a) != json_object_size(b)) return false;
      const char *key;
      json_t *va;
      json_object_foreach((json_t *)a, key, va) {
        if (!wft_json_equal(va, json_object_get(b, key))) return false;
      }
      return true;
    }
    case JSON_ARRAY:
      if (json_array_size(a) != json_array_size(b)) return false;
      for (size_t i = 0; i < json_array_size(a); i++)
        if (!wft_json_equal(json_array_get(a, i), json_array_get(b, i)))
          return false;
      return true;
    case JSON_STRING:
      return json_string_length(a) == json_string_length(b) &&
             memcmp(json_string_value(a), json_string_value(b),
                    json_string_length(a)) == 0;
    case JSON_INTEGER:
      return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL:
      return json_real_value(a) == json_real_value(b);
    default: /* true, false, null: the type says it all */
      return true;
  }
}

bool wft_json_text_equal(const char *a, const char *b) {
  if (!a || !b) return false;
  json_t *va = json_loads(a, JSON_DECODE_ANY, NULL);
  json_t *vb = json_loads(b, JSON_DECODE_ANY, NULL);
  bool eq = va && vb && wft_json_equal(va, vb);
  json_decref(va);
  json_decref(vb);
  return eq;
}

bool wft_json_mark(json_t *root, const char *path) {
  if (!root || path[0] != '$') return false;
  json_t *parent = NULL, *cur = root;
  char *key = NULL;
  size_t index = 0;
  const char *p = path + 1;
  while (*p) {
    parent = cur;
    free(key);
    key = NULL;
    if (*p == '.') {
      size_t len = strcspn(p + 1, ".[");
      if (len == 0) return false;
      key = strndup(p + 1, len);
      p += 1 + len;
    } else if (*p == '[' && (p[1] == '\'' || p[1] == '"')) {
      const char *end = strchr(p + 2, p[1]);
      if (!end || end[1] != ']') return false;
      key = strndup(p + 2, (size_t)(end - p - 2));
      p = end + 2;
    } else if (*p == '[' && p[1] >= '0' && p[1] <= '9') {
      char *end;
      index = (size_t)strtoull(p + 1, &end, 10);
      if (*end != ']') return false;
      p = end + 1;
    } else {
      return false;
    }
    cur = key ? json_object_get(parent, key) : json_array_get(parent, index);
    if (!cur) {
      free(key);
      return false;
    }
  }
  json_t *marker = json_string("<ignored>");
  if (parent && key)
    json_object_set_new(parent, key, marker);
  else if (parent)
    json_array_set_new(parent, index, marker);
  else
    json_decref(marker); /* "$": the whole value, always present */
  free(key);
  return true;
}

/* A real as Python and Java print it: the fewest digits that read back
 * the same, positional between 1e-4 and 1e16, always with a '.' or an
 * exponent so that it stays a real. */
static void dump_real(FILE *out, double d) {
  char buf[64];
  int p = 1;
  for (; p <= 17; p++) {
    snprintf(buf, sizeof buf, "%.*g", p, d);
    if (strtod(buf, NULL) == d) break;
  }
  char *e = strchr(buf, 'e');
  if (e && fabs(d) >= 1e-4 && fabs(d) < 1e16) {
    int exp10 = atoi(e + 1);
    int decimals = p - 1 - exp10;
    snprintf(buf, sizeof buf, "%.*f", decimals > 0 ? decimals : 0, d);
  }
  if (!strpbrk(buf, ".e")) strcat(buf, ".0");
  fputs(buf, out);
}

static void dump_value(FILE *out, const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: {
      const char *key;
      json_t *member;
      int first = 1;
      fputc('{', out);
      json_object_foreach((json_t *)v, key, member) {
        json_t *k = json_string(key);
        char *ks = json_dumps(k, JSON_ENCODE_ANY);
        fprintf(out, "%s%s:", first ? "" : ",", ks);
        free(ks);
        json_decref(k);
        dump_value(out, member);
        first = 0;
      }
      fputc('}', out);
      break;
    }
    case JSON_ARRAY:
      fputc('[', out);
      for (size_t i = 0; i < json_array_size(v); i++) {
        if (i) fputc(',', out);
        dump_value(out, json_array_get(v, i));
      }
      fputc(']', out);
      break;
    case JSON_REAL:
      dump_real(out, json_real_value(v));
      break;
    default: {
      char *s = json_dumps(v, JSON_ENCODE_ANY);
      fputs(s, out);
      free(s);
    }
  }
}

char *wft_json_dump(const json_t *v) {
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (!out) return NULL;
  dump_value(out, v);
  fclose(out);
  return text;
}

/* --- running executions --------------------------------------------------- */

int wft_env_init(wft_env *env, const wf_engine_options *opts, wf_error *err) {
  env->engine = NULL;
  int rc = wf_clock_virtual_new(&env->clock, WFT_START_MS);
  if (rc != WF_OK) return rc;
  wf_engine_options o = WF_ENGINE_OPTIONS_INIT;
  if (opts) o = *opts;
  o.clock = env->clock;
  o.history = WF_HISTORY_OFF;
  rc = wf_engine_new(&env->engine, &o, err);
  if (rc != WF_OK) {
    wf_clock_free(env->clock);
    env->clock = NULL;
  }
  return rc;
}

void wft_env_fini(wft_env *env) {
  wf_engine_free(env->engine);
  wf_clock_free(env->clock);
  env->engine = NULL;
  env->clock = NULL;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

void wft_run_definition(wft_result *r, wf_engine *engine,
                        const char *definition, const char *input,
                        const wf_start_options *opts) {
  memset(r, 0, sizeof *r);
  wf_machine *m = NULL;
  r->rc = wf_machine_load_json(&m, definition, NULL, &r->err);
  if (r->rc != WF_OK) return;
  wf_execution *x = NULL;
  r->rc = wf_engine_start(&x, engine, m, input, opts, &r->err);
  wf_machine_free(m);
  if (r->rc != WF_OK) return;
  r->finished = wf_execution_wait(x, 10000) == WF_OK;
  r->status = wf_execution_status(x);
  r->output = dup_or_null(wf_execution_output(x));
  r->error = dup_or_null(wf_execution_error(x));
  r->cause = dup_or_null(wf_execution_cause(x));
  r->name = dup_or_null(wf_execution_name(x));
  r->arn = dup_or_null(wf_execution_arn(x));
  wf_execution_free(x);
}

void wft_result_free(wft_result *r) {
  free(r->output);
  free(r->error);
  free(r->cause);
  free(r->name);
  free(r->arn);
  memset(r, 0, sizeof *r);
}

char *wft_single_state(const char *type, const char *fields) {
  int terminal = strcmp(type, "Succeed") == 0 || strcmp(type, "Fail") == 0;
  return wft_strf(
      "{\"StartAt\":\"S\",\"States\":{\"S\":{\"Type\":\"%s\"%s%s%s}}}", type,
      *fields ? "," : "", fields, terminal ? "" : ",\"End\":true");
}
