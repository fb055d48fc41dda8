/* Request members as AWS's JSON services read them: a member of the wrong
 * JSON type is a SerializationException ("NUMBER_VALUE can not be
 * converted to a String"), a constraint broken is a ValidationException
 * listing every one ("1 validation error detected: Value 'x' at 'name'
 * failed to satisfy constraint: Member must have length less than or
 * equal to 80"). Null counts as absent. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sfn.h"

void gw_sfn_params_init(gw_sfn_params *p, json_t *body) {
  memset(p, 0, sizeof *p);
  p->body = body;
}

/* AWS never echoes these members' values. */
static bool sensitive(const char *key) {
  static const char *const KEYS[] = {
      "input", "output", "definition", "error", "cause", "taskToken", NULL};
  for (size_t i = 0; KEYS[i]; i++)
    if (strcmp(KEYS[i], key) == 0) return true;
  return false;
}

static void add_violation(gw_sfn_params *p, const char *path,
                          const char *value, const char *constraint) {
  size_t used = strlen(p->errors);
  snprintf(p->errors + used, sizeof p->errors - used,
           "%s%s at '%s' failed to satisfy constraint: %s",
           p->nerrors ? "; " : "", value, path, constraint);
  p->nerrors++;
}

void gw_sfn_violation(gw_sfn_params *p, const char *path, const char *value,
                      const char *fmt, ...) {
  char v[520], constraint[160];
  if (value)
    snprintf(v, sizeof v, "Value '%.500s'", value);
  else
    snprintf(v, sizeof v, "Value null");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(constraint, sizeof constraint, fmt, ap);
  va_end(ap);
  add_violation(p, path, v, constraint);
}

static void violation(gw_sfn_params *p, const char *key, const json_t *v,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void violation(gw_sfn_params *p, const char *key, const json_t *v,
                      const char *fmt, ...) {
  char value[128], constraint[160];
  if (!v)
    snprintf(value, sizeof value, "Value null");
  else if (sensitive(key))
    snprintf(value, sizeof value, "Value");
  else if (json_is_string(v))
    snprintf(value, sizeof value, "Value '%.100s'", json_string_value(v));
  else
    snprintf(value, sizeof value, "Value '%lld'",
             (long long)json_integer_value(v));
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(constraint, sizeof constraint, fmt, ap);
  va_end(ap);
  add_violation(p, key, value, constraint);
}

static void wrong_type(gw_sfn_params *p, const json_t *v, const char *want) {
  if (p->serial[0]) return;
  if (json_is_object(v))
    snprintf(p->serial, sizeof p->serial,
             "Start of structure or map found where not expected.");
  else if (json_is_array(v))
    snprintf(p->serial, sizeof p->serial,
             "Start of list found where not expected");
  else
    snprintf(p->serial, sizeof p->serial, "%s can not be converted to %s",
             json_is_string(v)  ? "STRING_VALUE"
             : json_is_true(v)  ? "TRUE_VALUE"
             : json_is_false(v) ? "FALSE_VALUE"
                                : "NUMBER_VALUE",
             want);
}

static json_t *member_of(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  return json_is_null(v) ? NULL : v;
}

/* Characters, not bytes: continuation bytes do not count. */
static size_t chars(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static const char *check_str(gw_sfn_params *p, json_t *v, const char *key,
                             bool required, size_t min, size_t max);

const char *gw_sfn_str(gw_sfn_params *p, const char *key, bool required,
                       size_t min, size_t max) {
  return gw_sfn_str_in(p, p->body, key, key, required, min, max);
}

const char *gw_sfn_str_in(gw_sfn_params *p, json_t *obj, const char *key,
                          const char *path, bool required, size_t min,
                          size_t max) {
  return check_str(p, member_of(obj, key), path, required, min, max);
}

const char *gw_sfn_str_value(gw_sfn_params *p, json_t *v, const char *path,
                             size_t min, size_t max) {
  return check_str(p, json_is_null(v) ? NULL : v, path, true, min, max);
}

static const char *check_str(gw_sfn_params *p, json_t *v, const char *key,
                             bool required, size_t min, size_t max) {
  if (!v) {
    if (required) violation(p, key, NULL, "Member must not be null");
    return NULL;
  }
  if (!json_is_string(v)) {
    wrong_type(p, v, "a String");
    return NULL;
  }
  size_t n = chars(json_string_value(v));
  if (n < min)
    violation(p, key, v,
              "Member must have length greater than or equal "
              "to %zu",
              min);
  else if (n > max)
    violation(p, key, v,
              "Member must have length less than or equal to "
              "%zu",
              max);
  return json_string_value(v);
}

const char *gw_sfn_enum(gw_sfn_params *p, const char *key,
                        const char *const *values) {
  return gw_sfn_enum_in(p, p->body, key, key, values);
}

const char *gw_sfn_enum_in(gw_sfn_params *p, json_t *obj, const char *key,
                           const char *path, const char *const *values) {
  json_t *v = member_of(obj, key);
  key = path;
  if (!v) return NULL;
  if (!json_is_string(v)) {
    wrong_type(p, v, "a String");
    return NULL;
  }
  char set[160] = "";
  for (size_t i = 0; values[i]; i++) {
    if (strcmp(values[i], json_string_value(v)) == 0) return values[i];
    size_t used = strlen(set);
    snprintf(set + used, sizeof set - used, "%s%s", i ? ", " : "", values[i]);
  }
  violation(p, key, v, "Member must satisfy enum value set: [%s]", set);
  return NULL;
}

long long gw_sfn_int(gw_sfn_params *p, const char *key, long long min,
                     long long max, long long dflt) {
  return gw_sfn_int_in(p, p->body, key, key, false, min, max, dflt);
}

long long gw_sfn_int_in(gw_sfn_params *p, json_t *obj, const char *key,
                        const char *path, bool required, long long min,
                        long long max, long long dflt) {
  json_t *v = member_of(obj, key);
  key = path;
  if (!v) {
    if (required) violation(p, key, NULL, "Member must not be null");
    return dflt;
  }
  if (!json_is_integer(v)) {
    wrong_type(p, v, "an Integer");
    return dflt;
  }
  long long n = json_integer_value(v);
  if (n < min)
    violation(p, key, v,
              "Member must have value greater than or equal to "
              "%lld",
              min);
  else if (n > max)
    violation(p, key, v,
              "Member must have value less than or equal to "
              "%lld",
              max);
  return n < min || n > max ? dflt : n;
}

bool gw_sfn_bool(gw_sfn_params *p, const char *key, bool dflt) {
  return gw_sfn_bool_in(p, p->body, key, dflt);
}

bool gw_sfn_bool_in(gw_sfn_params *p, json_t *obj, const char *key,
                    bool dflt) {
  json_t *v = member_of(obj, key);
  if (!v) return dflt;
  if (!json_is_boolean(v)) {
    wrong_type(p, v, "a Boolean");
    return dflt;
  }
  return json_is_true(v);
}

json_t *gw_sfn_struct(gw_sfn_params *p, const char *key) {
  return gw_sfn_struct_in(p, p->body, key);
}

json_t *gw_sfn_struct_in(gw_sfn_params *p, json_t *obj, const char *key) {
  return gw_sfn_struct_value(p, member_of(obj, key));
}

json_t *gw_sfn_struct_value(gw_sfn_params *p, json_t *v) {
  if (json_is_null(v)) return NULL;
  if (v && !json_is_object(v)) {
    wrong_type(p, v, "a Structure");
    return NULL;
  }
  return v;
}

json_t *gw_sfn_list(gw_sfn_params *p, const char *key) {
  return gw_sfn_list_in(p, p->body, key);
}

json_t *gw_sfn_list_in(gw_sfn_params *p, json_t *obj, const char *key) {
  json_t *v = member_of(obj, key);
  if (v && !json_is_array(v)) {
    wrong_type(p, v, "a List");
    return NULL;
  }
  return v;
}

bool gw_sfn_params_failed(gw_sfn_params *p, gw_sfn_call *c) {
  if (p->serial[0]) {
    gw_sfn_fail(c, "SerializationException", "%s", p->serial);
    return true;
  }
  if (p->nerrors) {
    /* Longer than gw_sfn_fail() takes: a list quoted whole. */
    char msg[sizeof p->errors + 64];
    snprintf(msg, sizeof msg, "%d validation error%s detected: %s",
             p->nerrors, p->nerrors > 1 ? "s" : "", p->errors);
    gw_sfn_fail_text(c, "ValidationException", msg);
    return true;
  }
  return false;
}
