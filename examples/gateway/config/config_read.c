/* Typed configuration field readers (see config_read.h). */
#include "config_read.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gw_cfg_fail(gw_cfgx *c, const char *field, const char *fmt, ...) {
  int n = snprintf(c->msg, c->msg_size, "%s: ", field);
  if (n < 0 || (size_t)n >= c->msg_size) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->msg + n, c->msg_size - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* Field paths are cut at GW_FIELD_MAX: no configuration nests that deep. */
void gw_cfg_field(char out[GW_FIELD_MAX], const char *parent,
                  const char *key) {
  int n = parent && *parent ? snprintf(out, GW_FIELD_MAX, "%s.%s", parent, key)
                            : snprintf(out, GW_FIELD_MAX, "%s", key);
  if (n < 0) out[0] = '\0';
}

void gw_cfg_index(char out[GW_FIELD_MAX], const char *parent, size_t i) {
  if (snprintf(out, GW_FIELD_MAX, "%s[%zu]", parent, i) < 0) out[0] = '\0';
}

int gw_cfg_only(gw_cfgx *c, json_t *obj, const char *field,
                const char *const *known) {
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    size_t i = 0;
    while (known[i] && strcmp(known[i], k) != 0) i++;
    if (!known[i]) {
      char f[GW_FIELD_MAX];
      gw_cfg_field(f, field, k);
      return gw_cfg_fail(c, f, "unknown field");
    }
  }
  return 0;
}

/* The member, or NULL; `f` receives its field path either way. */
static json_t *member(json_t *obj, const char *field, const char *key,
                      char f[GW_FIELD_MAX]) {
  gw_cfg_field(f, field, key);
  json_t *v = json_object_get(obj, key);
  return json_is_null(v) ? NULL : v;
}

int gw_cfg_object(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                  json_t **out) {
  char f[GW_FIELD_MAX];
  json_t *v = member(obj, field, key, f);
  if (v && !json_is_object(v)) return gw_cfg_fail(c, f, "must be a mapping");
  *out = v;
  return 0;
}

int gw_cfg_array(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                 json_t **out) {
  char f[GW_FIELD_MAX];
  json_t *v = member(obj, field, key, f);
  if (v && !json_is_array(v)) return gw_cfg_fail(c, f, "must be a list");
  *out = v;
  return 0;
}

int gw_cfg_string(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                  char **out) {
  char f[GW_FIELD_MAX];
  json_t *v = member(obj, field, key, f);
  if (!v) return 0;
  if (!json_is_string(v) || json_string_length(v) == 0)
    return gw_cfg_fail(c, f, "must be a non-empty string");
  if (strlen(json_string_value(v)) != json_string_length(v))
    return gw_cfg_fail(c, f, "must not contain NUL characters");
  char *s = strdup(json_string_value(v));
  if (!s) return gw_cfg_fail(c, f, "out of memory");
  free(*out);
  *out = s;
  return 0;
}

int gw_cfg_uint(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                unsigned long long min, unsigned long long max,
                unsigned long long *out) {
  char f[GW_FIELD_MAX];
  json_t *v = member(obj, field, key, f);
  if (!v) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0 ||
      (unsigned long long)json_integer_value(v) < min ||
      (unsigned long long)json_integer_value(v) > max)
    return gw_cfg_fail(c, f, "must be an integer from %llu to %llu", min,
                       max);
  *out = (unsigned long long)json_integer_value(v);
  return 0;
}

int gw_cfg_number(gw_cfgx *c, json_t *obj, const char *field,
                  const char *key, double min, double max, double *out) {
  char f[GW_FIELD_MAX];
  json_t *v = member(obj, field, key, f);
  if (!v) return 0;
  double d = json_number_value(v);
  if (!json_is_number(v) || !isfinite(d) || d < min || d > max)
    return gw_cfg_fail(c, f, "must be a number from %g to %g", min, max);
  *out = d;
  return 0;
}

int gw_cfg_bool(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                bool *out) {
  char f[GW_FIELD_MAX];
  json_t *v = member(obj, field, key, f);
  if (!v) return 0;
  if (!json_is_boolean(v)) return gw_cfg_fail(c, f, "must be true or false");
  *out = json_is_true(v);
  return 0;
}

void gw_cfg_strings_free(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

int gw_cfg_strings(gw_cfgx *c, json_t *obj, const char *field,
                   const char *key, char ***out, size_t *n) {
  char f[GW_FIELD_MAX];
  json_t *v = member(obj, field, key, f);
  if (!v) return 0;
  json_t *list = json_is_string(v) ? json_pack("[O]", v) : json_incref(v);
  if (!json_is_array(list)) {
    json_decref(list);
    return gw_cfg_fail(c, f, "must be a list of strings");
  }
  size_t count = json_array_size(list);
  char **vec = calloc(count + 1, sizeof *vec);
  int rc = vec ? 0 : gw_cfg_fail(c, f, "out of memory");
  for (size_t i = 0; rc == 0 && i < count; i++) {
    json_t *s = json_array_get(list, i);
    if (!json_is_string(s) || json_string_length(s) == 0 ||
        strlen(json_string_value(s)) != json_string_length(s)) {
      char fi[GW_FIELD_MAX];
      gw_cfg_index(fi, f, i);
      rc = gw_cfg_fail(c, fi, "must be a non-empty string");
    } else if (!(vec[i] = strdup(json_string_value(s)))) {
      rc = gw_cfg_fail(c, f, "out of memory");
    }
  }
  json_decref(list);
  if (rc) {
    gw_cfg_strings_free(vec);
    return rc;
  }
  gw_cfg_strings_free(*out);
  *out = vec;
  if (n) *n = count;
  return 0;
}

int gw_cfg_secret(gw_cfgx *c, json_t *obj, const char *field,
                  const char *key, bool required, char **out) {
  char env_key[64], f[GW_FIELD_MAX];
  snprintf(env_key, sizeof env_key, "%sEnv", key);
  char *inline_value = NULL, *env_name = NULL;
  if (gw_cfg_string(c, obj, field, key, &inline_value) ||
      gw_cfg_string(c, obj, field, env_key, &env_name)) {
    free(inline_value);
    return -1;
  }
  int rc = 0;
  if (inline_value && env_name) {
    gw_cfg_field(f, field, key);
    rc = gw_cfg_fail(c, f, "give %s or %s, not both", key, env_key);
  } else if (env_name) {
    const char *v = getenv(env_name);
    gw_cfg_field(f, field, env_key);
    if (!v || !*v)
      rc = gw_cfg_fail(c, f, "environment variable %s is not set", env_name);
    else if (!(inline_value = strdup(v)))
      rc = gw_cfg_fail(c, f, "out of memory");
  } else if (!inline_value && required) {
    gw_cfg_field(f, field, key);
    rc = gw_cfg_fail(c, f, "required (or %s)", env_key);
  }
  free(env_name);
  if (rc) {
    free(inline_value);
    return rc;
  }
  if (inline_value) {
    free(*out);
    *out = inline_value;
  }
  return 0;
}

char *gw_cfg_resolve(const gw_cfgx *c, const char *p) {
  if (p[0] == '/' || !c->base_dir) return strdup(p);
  size_t n = strlen(c->base_dir) + strlen(p) + 2;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s", c->base_dir, p);
  return s;
}
