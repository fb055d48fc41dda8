/* Parsing the plugin's configuration. Strict on purpose: an unknown or
 * mistyped field is an error naming it, so a typo ("sucessRate") cannot
 * silently leave a default in place. */
#include "config.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_names.h"
#include "utf8.h"

#define DAY_MS 86400000LL
#define PATH_MAX_LEN 96
/* AWS's limit on the length of an error name. */
#define ERROR_NAME_MAX 256

/* Seconds-scale work like the seed's Lambda, and the slowest table entry
 * at the default maxRecords stays under the seed workflow's 300 s
 * TimeoutSeconds. */
static const pd_timing DEFAULT_TIMING[PD_TYPE_COUNT] = {
    [PD_TYPE_JSON] = {1000, 10}, [PD_TYPE_CSV] = {1500, 5},
    [PD_TYPE_XML] = {2000, 20},  [PD_TYPE_TEXT] = {500, 2},
    [PD_TYPE_BINARY] = {3000, 25},
};

static const struct {
  const char *error;
  double weight;
} DEFAULT_FAILURES[] = {
    {PD_ERR_TRANSIENT, 3}, {PD_ERR_PROCESSING, 1}, {PD_ERR_TIMEOUT, 1}};

static int fail(wf_error *err, int code, const char *path, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static int fail(wf_error *err, int code, const char *path, const char *fmt,
                ...) {
  if (!err) return code;
  err->code = code;
  err->line = err->column = 0;
  snprintf(err->path, sizeof err->path, "%s", path);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  pd_utf8_scrub(err->message);
  pd_utf8_scrub(err->path);
  return code;
}

static int oom(wf_error *err) {
  return fail(err, WF_ENOMEM, "", "out of memory");
}

static void join(char out[PATH_MAX_LEN], const char *parent, const char *key) {
  snprintf(out, PATH_MAX_LEN, "%s%s%s", parent, *parent ? "." : "", key);
}

/* A value as a message shows it: numbers and short strings themselves,
 * other values by type. */
static void describe(const json_t *v, char out[64]) {
  if (json_is_integer(v))
    snprintf(out, 64, "%lld", (long long)json_integer_value(v));
  else if (json_is_real(v))
    snprintf(out, 64, "%.15g", json_real_value(v));
  else if (json_is_string(v))
    snprintf(out, 64, "'%.40s'", json_string_value(v));
  else
    snprintf(out, 64, "%s", pd_json_type_name(v));
}

static int only_keys(const json_t *obj, const char *path,
                     const char *const *allowed, wf_error *err) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    const char *const *a = allowed;
    while (*a && strcmp(*a, key) != 0) a++;
    if (*a) continue;
    char p[PATH_MAX_LEN];
    join(p, path, key);
    return fail(err, WF_EINVAL, p, "unknown configuration field %s", p);
  }
  return WF_OK;
}

/* Absent: *out = NULL. */
static int object_field(const json_t *parent, const char *key, const char *path,
                        const json_t **out, wf_error *err) {
  *out = json_object_get(parent, key);
  if (!*out || json_is_object(*out)) return WF_OK;
  char p[PATH_MAX_LEN];
  join(p, path, key);
  return fail(err, WF_EINVAL, p, "%s must be an object, got %s", p,
              pd_json_type_name(*out));
}

/* Absent: *out keeps its default. */
static int int_field(const json_t *obj, const char *key, const char *path,
                     long long min, long long max, long long *out,
                     wf_error *err) {
  const json_t *v = json_object_get(obj, key);
  if (!v) return WF_OK;
  if (json_is_integer(v) && json_integer_value(v) >= min &&
      json_integer_value(v) <= max) {
    *out = json_integer_value(v);
    return WF_OK;
  }
  char p[PATH_MAX_LEN], got[64];
  join(p, path, key);
  describe(v, got);
  return fail(err, WF_EINVAL, p, "%s must be an integer from %lld to %lld, "
              "got %s", p, min, max, got);
}

static int size_field(const json_t *obj, const char *key, const char *path,
                      long long max, size_t *out, wf_error *err) {
  long long v = (long long)*out;
  int rc = int_field(obj, key, path, 1, max, &v, err);
  *out = (size_t)v;
  return rc;
}

static int real_field(const json_t *obj, const char *key, const char *path,
                      double min, double max, double *out, wf_error *err) {
  const json_t *v = json_object_get(obj, key);
  if (!v) return WF_OK;
  if (json_is_number(v) && json_number_value(v) >= min &&
      json_number_value(v) <= max) {
    *out = json_number_value(v);
    return WF_OK;
  }
  char p[PATH_MAX_LEN], got[64];
  join(p, path, key);
  describe(v, got);
  return fail(err, WF_EINVAL, p, "%s must be a number from %.15g to %.15g, "
              "got %s",
              p, min, max, got);
}

static int add_resource(pd_config *c, const json_t *v, const char *path,
                        wf_error *err) {
  if (!json_is_string(v) || json_string_length(v) == 0) {
    char got[64];
    describe(v, got);
    return fail(err, WF_EINVAL, path, "%s must be a non-empty string (a "
                "Task Resource ARN), got %s", path, got);
  }
  for (size_t k = 0; k < c->nresources; k++)
    if (strcmp(c->resources[k], json_string_value(v)) == 0)
      return fail(err, WF_EINVAL, path, "%s repeats '%.200s'", path,
                  c->resources[k]);
  char *copy = strdup(json_string_value(v));
  if (!copy) return oom(err);
  c->resources[c->nresources++] = copy;
  return WF_OK;
}

static int parse_resources(pd_config *c, const json_t *root, wf_error *err) {
  const json_t *v = json_object_get(root, "resources");
  if (v && json_is_array(v) && json_array_size(v) == 0)
    return fail(err, WF_EINVAL, "resources",
                "resources must name at least one resource");
  size_t n = v && json_is_array(v) ? json_array_size(v) : 1;
  if (!(c->resources = calloc(n, sizeof *c->resources))) return oom(err);
  if (!v) {
    json_t *def = json_string(PD_DEFAULT_RESOURCE);
    int rc = def ? add_resource(c, def, "resources", err) : oom(err);
    json_decref(def);
    return rc;
  }
  if (!json_is_array(v)) return add_resource(c, v, "resources", err);
  for (size_t k = 0; k < n; k++) {
    char p[PATH_MAX_LEN];
    snprintf(p, sizeof p, "resources[%zu]", k);
    int rc = add_resource(c, json_array_get(v, k), p, err);
    if (rc) return rc;
  }
  return WF_OK;
}

static int parse_timing(pd_config *c, const json_t *root, wf_error *err) {
  memcpy(c->timing, DEFAULT_TIMING, sizeof c->timing);
  const json_t *table, *entry;
  int rc = object_field(root, "processingTime", "", &table, err);
  if (rc || !table) return rc;
  const char *key;
  json_object_foreach((json_t *)table, key, entry) {
    char p[PATH_MAX_LEN];
    join(p, "processingTime", key);
    pd_type t = pd_type_find(key);
    if (t == PD_TYPE_COUNT)
      return fail(err, WF_EINVAL, p, "processingTime has no data type "
                  "'%.40s' (%s)", key, pd_type_list());
    static const char *const fields[] = {"baseMs", "perRecordMs", NULL};
    if (!json_is_object(entry))
      return fail(err, WF_EINVAL, p, "%s must be an object, got %s", p,
                  pd_json_type_name(entry));
    long long base = c->timing[t].base_ms, per = c->timing[t].per_record_ms;
    if ((rc = only_keys(entry, p, fields, err)) ||
        (rc = int_field(entry, "baseMs", p, 0, DAY_MS, &base, err)) ||
        (rc = int_field(entry, "perRecordMs", p, 0, DAY_MS, &per, err)))
      return rc;
    c->timing[t] = (pd_timing){base, per};
  }
  return WF_OK;
}

static int add_failure(pd_simulation *s, const char *error, double weight,
                       pd_failure_kind kind, wf_error *err) {
  pd_failure *f = &s->failures[s->nfailures];
  if (!(f->error = strdup(error))) return oom(err);
  f->weight = weight;
  f->kind = kind;
  s->nfailures++;
  s->total_weight += weight;
  return WF_OK;
}

/* The built-in names behave as their names say; any other name is a task
 * error unless "kind" says otherwise. */
static pd_failure_kind default_kind(const char *error) {
  if (strcmp(error, PD_ERR_PROCESSING) == 0) return PD_FAIL_RESULT;
  if (strcmp(error, PD_ERR_TIMEOUT) == 0) return PD_FAIL_TIMEOUT;
  return PD_FAIL_ERROR;
}

static int parse_failure(pd_simulation *s, const json_t *item, const char *p,
                         wf_error *err) {
  static const char *const fields[] = {"error", "weight", "kind", NULL};
  static const char *const kinds[] = {"error", "result", "timeout"};
  if (!json_is_object(item))
    return fail(err, WF_EINVAL, p, "%s must be an object, got %s", p,
                pd_json_type_name(item));
  int rc = only_keys(item, p, fields, err);
  if (rc) return rc;
  const json_t *name = json_object_get(item, "error");
  size_t len = json_is_string(name) ? json_string_length(name) : 0;
  if (len == 0 || len > ERROR_NAME_MAX)
    return fail(err, WF_EINVAL, p, "%s.error must be an error name of 1 to "
                "%d characters", p, ERROR_NAME_MAX);
  double weight = 1;
  if ((rc = real_field(item, "weight", p, 0, 1e9, &weight, err))) return rc;
  pd_failure_kind kind = default_kind(json_string_value(name));
  const json_t *k = json_object_get(item, "kind");
  if (k) {
    int found = -1;
    for (int i = 0; i < 3 && json_is_string(k); i++)
      if (strcmp(json_string_value(k), kinds[i]) == 0) found = i;
    if (found < 0)
      return fail(err, WF_EINVAL, p, "%s.kind must be one of error, result, "
                  "timeout", p);
    kind = (pd_failure_kind)found;
  }
  return add_failure(s, json_string_value(name), weight, kind, err);
}

static int parse_simulation(pd_simulation *s, const json_t *root,
                            wf_error *err) {
  static const char *const fields[] = {"successRate", "seed", "failures",
                                       "timeoutOvershootMs", NULL};
  const char *path = "simulation";
  const json_t *sim;
  long long seed = 42, overshoot = 1000;
  s->success_rate = 1.0;
  int rc = object_field(root, "simulation", "", &sim, err);
  if (rc) return rc;
  if (sim && ((rc = only_keys(sim, path, fields, err)) ||
              (rc = real_field(sim, "successRate", path, 0, 1,
                               &s->success_rate, err)) ||
              (rc = int_field(sim, "seed", path, 0, INT64_MAX, &seed, err)) ||
              (rc = int_field(sim, "timeoutOvershootMs", path, 1, DAY_MS,
                              &overshoot, err))))
    return rc;
  s->seed = (uint64_t)seed;
  s->overshoot_ms = overshoot;
  const json_t *list = sim ? json_object_get(sim, "failures") : NULL;
  if (list && !json_is_array(list))
    return fail(err, WF_EINVAL, "simulation.failures",
                "simulation.failures must be an array, got %s",
                pd_json_type_name(list));
  size_t n = list ? json_array_size(list)
                  : sizeof DEFAULT_FAILURES / sizeof *DEFAULT_FAILURES;
  if (!(s->failures = calloc(n ? n : 1, sizeof *s->failures))) return oom(err);
  for (size_t i = 0; i < n && !rc; i++) {
    char p[PATH_MAX_LEN];
    snprintf(p, sizeof p, "simulation.failures[%zu]", i);
    rc = list ? parse_failure(s, json_array_get(list, i), p, err)
              : add_failure(s, DEFAULT_FAILURES[i].error,
                            DEFAULT_FAILURES[i].weight,
                            default_kind(DEFAULT_FAILURES[i].error), err);
  }
  if (!rc && s->success_rate < 1 && !(s->total_weight > 0))
    rc = fail(err, WF_EINVAL, "simulation.failures",
              "simulation.failures must give a failure a positive weight "
              "when simulation.successRate is below 1");
  return rc;
}

static int parse_root(pd_config *c, const json_t *root, wf_error *err) {
  static const char *const fields[] = {"resources", "limits", "processingTime",
                                       "invalidRecords", "maxErrors",
                                       "simulation", NULL};
  const json_t *limits;
  long long max_errors = 10;
  c->limits = (pd_limits){10000, 65536, 262144};
  int rc;
  if ((rc = only_keys(root, "", fields, err)) ||
      (rc = parse_resources(c, root, err)) ||
      (rc = object_field(root, "limits", "", &limits, err)))
    return rc;
  if (limits) {
    static const char *const lf[] = {"maxRecords", "maxRecordBytes",
                                     "maxTotalBytes", NULL};
    if ((rc = only_keys(limits, "limits", lf, err)) ||
        (rc = size_field(limits, "maxRecords", "limits", 1000000,
                         &c->limits.max_records, err)) ||
        (rc = size_field(limits, "maxRecordBytes", "limits", 1LL << 30,
                         &c->limits.max_record_bytes, err)) ||
        (rc = size_field(limits, "maxTotalBytes", "limits", 1LL << 30,
                         &c->limits.max_total_bytes, err)))
      return rc;
  }
  const json_t *mode = json_object_get(root, "invalidRecords");
  if (mode && (!json_is_string(mode) ||
               (strcmp(json_string_value(mode), "count") != 0 &&
                strcmp(json_string_value(mode), "fail") != 0))) {
    char got[64];
    describe(mode, got);
    return fail(err, WF_EINVAL, "invalidRecords",
                "invalidRecords must be \"count\" or \"fail\", got %s", got);
  }
  c->fail_on_invalid = mode && strcmp(json_string_value(mode), "fail") == 0;
  if ((rc = int_field(root, "maxErrors", "", 0, 100, &max_errors, err)) ||
      (rc = parse_timing(c, root, err)) ||
      (rc = parse_simulation(&c->sim, root, err)))
    return rc;
  c->max_errors = (size_t)max_errors;
  return WF_OK;
}

int pd_config_parse(pd_config *out, const char *json, wf_error *err) {
  memset(out, 0, sizeof *out);
  json_error_t je;
  json_t *root = json_loads(json ? json : "{}", JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    int rc = fail(err, WF_EPARSE, "", "configuration is not JSON: %s", je.text);
    if (err) err->line = je.line, err->column = je.column;
    return rc;
  }
  int rc = json_is_object(root)
               ? parse_root(out, root, err)
               : fail(err, WF_EINVAL, "", "the configuration must be a JSON "
                      "object");
  json_decref(root);
  if (rc) pd_config_free(out);
  return rc;
}

void pd_config_free(pd_config *cfg) {
  for (size_t k = 0; k < cfg->nresources; k++) free(cfg->resources[k]);
  free(cfg->resources);
  for (size_t k = 0; k < cfg->sim.nfailures; k++) free(cfg->sim.failures[k].error);
  free(cfg->sim.failures);
  memset(cfg, 0, sizeof *cfg);
}

int64_t pd_config_duration(const pd_config *cfg, pd_type type, size_t records) {
  const pd_timing *t = &cfg->timing[type];
  /* At most a day plus a day per record for a million records: no
   * overflow. */
  return t->base_ms + t->per_record_ms * (int64_t)records;
}
