/* Typed reads of configuration members. Every failure names the member by
 * its JSON Pointer ("/smtp/timeoutMs"), since a bad configuration refuses
 * the whole plugin and the operator must find the field. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send_notification.h"

int sn_config_error(wf_error *err, const char *path, const char *fmt, ...) {
  if (!err) return WF_EINVAL;
  memset(err, 0, sizeof *err);
  err->code = WF_EINVAL;
  snprintf(err->path, sizeof err->path, "%s", path);
  char what[WF_ERROR_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  sn_fmt(err->message, sizeof err->message,
         "send_notification configuration %s: %s", path, what);
  return WF_EINVAL;
}

static void member_path(char *buf, size_t size, const char *path,
                        const char *key) {
  snprintf(buf, size, "%s/%s", path, key);
}

int sn_field_only(json_t *obj, const char *path, const char *const *known,
                  wf_error *err) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    bool ok = false;
    for (size_t i = 0; known[i] && !ok; i++) ok = strcmp(key, known[i]) == 0;
    if (!ok) {
      char p[WF_ERROR_PATH_MAX];
      member_path(p, sizeof p, path, key);
      return sn_config_error(err, p, "unknown field");
    }
  }
  return WF_OK;
}

int sn_field_string(json_t *obj, const char *path, const char *key,
                    char **out, wf_error *err) {
  json_t *v = json_object_get(obj, key);
  if (!v) return WF_OK;
  char p[WF_ERROR_PATH_MAX];
  member_path(p, sizeof p, path, key);
  if (!json_is_string(v) || json_string_length(v) == 0)
    return sn_config_error(err, p, "must be a non-empty string");
  if (strlen(json_string_value(v)) != json_string_length(v))
    return sn_config_error(err, p, "must not contain NUL characters");
  char *s = strdup(json_string_value(v));
  if (!s) return WF_ENOMEM;
  free(*out);
  *out = s;
  return WF_OK;
}

int sn_field_bool(json_t *obj, const char *path, const char *key, bool *out,
                  wf_error *err) {
  json_t *v = json_object_get(obj, key);
  if (!v) return WF_OK;
  if (!json_is_boolean(v)) {
    char p[WF_ERROR_PATH_MAX];
    member_path(p, sizeof p, path, key);
    return sn_config_error(err, p, "must be true or false");
  }
  *out = json_is_true(v);
  return WF_OK;
}

/* Durations in milliseconds: 1 ms to 10 minutes, longer than any Task
 * state should block a worker thread. */
int sn_field_ms(json_t *obj, const char *path, const char *key, long *out,
                wf_error *err) {
  json_t *v = json_object_get(obj, key);
  if (!v) return WF_OK;
  if (!json_is_integer(v) || json_integer_value(v) < 1 ||
      json_integer_value(v) > 600000) {
    char p[WF_ERROR_PATH_MAX];
    member_path(p, sizeof p, path, key);
    return sn_config_error(err, p,
                           "must be an integer number of milliseconds from 1 "
                           "to 600000");
  }
  *out = (long)json_integer_value(v);
  return WF_OK;
}

int sn_field_integer(json_t *obj, const char *path, const char *key,
                     long long min, long long max, long long *out,
                     wf_error *err) {
  json_t *v = json_object_get(obj, key);
  if (!v) return WF_OK;
  if (!json_is_integer(v) || json_integer_value(v) < min ||
      json_integer_value(v) > max) {
    char p[WF_ERROR_PATH_MAX];
    member_path(p, sizeof p, path, key);
    return sn_config_error(err, p, "must be an integer from %lld to %lld",
                           min, max);
  }
  *out = (long long)json_integer_value(v);
  return WF_OK;
}

int sn_field_object(json_t *obj, const char *path, const char *key,
                    json_t **out, wf_error *err) {
  json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v) return WF_OK;
  if (!json_is_object(v)) {
    char p[WF_ERROR_PATH_MAX];
    member_path(p, sizeof p, path, key);
    return sn_config_error(err, p, "must be an object");
  }
  *out = v;
  return WF_OK;
}

void sn_strings_free(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++) free(v[i]);
  free(v);
}

int sn_field_strings(json_t *obj, const char *path, const char *key,
                     char ***out, size_t *n, wf_error *err) {
  json_t *v = json_object_get(obj, key);
  if (!v) return WF_OK;
  char p[WF_ERROR_PATH_MAX];
  member_path(p, sizeof p, path, key);
  json_t *arr = json_is_string(v) ? json_pack("[O]", v) : json_incref(v);
  if (!arr) return WF_ENOMEM;
  int rc = WF_OK;
  if (!json_is_array(arr) || json_array_size(arr) == 0)
    rc = sn_config_error(err, p,
                         "must be a non-empty string or array of strings");
  char **vec = rc == WF_OK ? calloc(json_array_size(arr), sizeof *vec) : NULL;
  if (rc == WF_OK && !vec) rc = WF_ENOMEM;
  size_t i;
  json_t *item;
  json_array_foreach(arr, i, item) {
    if (rc != WF_OK) break;
    if (!json_is_string(item) || json_string_length(item) == 0 ||
        strlen(json_string_value(item)) != json_string_length(item)) {
      char ip[WF_ERROR_PATH_MAX];
      sn_fmt(ip, sizeof ip, "%s/%zu", p, i);
      rc = sn_config_error(err, ip, "must be a non-empty string");
    } else if (!(vec[i] = strdup(json_string_value(item)))) {
      rc = WF_ENOMEM;
    }
  }
  if (rc == WF_OK) {
    sn_strings_free(*out, *n);
    *out = vec;
    *n = json_array_size(arr);
  } else {
    sn_strings_free(vec, json_array_size(arr));
  }
  json_decref(arr);
  return rc;
}
