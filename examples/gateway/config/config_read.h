/* Typed readers for configuration fields. Each names the field it rejects
 * ("listen.port: must be an integer from 0 to 65535") so a bad file fails
 * at start with a message a person can act on. Every reader returns 0, or
 * -1 with the message written; an absent optional field leaves *out as
 * it was (the default). */
#ifndef GW_CONFIG_READ_H
#define GW_CONFIG_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct gw_cfgx {
  char *msg;
  size_t msg_size;
  const char *base_dir; /* relative paths are resolved against it */
} gw_cfgx;

/* Longest field path in a message ("stateMachines[12].allowedResources"). */
#define GW_FIELD_MAX 160

int gw_cfg_fail(gw_cfgx *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "parent.key", or "key" at the top. */
void gw_cfg_field(char out[GW_FIELD_MAX], const char *parent, const char *key);
/* "parent[i]". */
void gw_cfg_index(char out[GW_FIELD_MAX], const char *parent, size_t i);

/* Reject members of `obj` not in the NULL-terminated `known` list, which
 * catches misspelt options. */
int gw_cfg_only(gw_cfgx *c, json_t *obj, const char *field,
                const char *const *known);
/* The member `key`, which must be an object when present (*out NULL when
 * absent). */
int gw_cfg_object(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                  json_t **out);
int gw_cfg_array(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                 json_t **out);
/* A non-empty string; *out is replaced (the old value freed). */
int gw_cfg_string(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                  char **out);
int gw_cfg_uint(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                unsigned long long min, unsigned long long max,
                unsigned long long *out);
int gw_cfg_number(gw_cfgx *c, json_t *obj, const char *field,
                  const char *key, double min, double max, double *out);
int gw_cfg_bool(gw_cfgx *c, json_t *obj, const char *field, const char *key,
                bool *out);
/* An array of non-empty strings (a lone string counts as one) into a new
 * NULL-terminated vector. */
int gw_cfg_strings(gw_cfgx *c, json_t *obj, const char *field,
                   const char *key, char ***out, size_t *n);
void gw_cfg_strings_free(char **v);
/* A secret given inline as `key`, or as `keyEnv`, the name of an
 * environment variable holding it (keeps secrets out of the file). */
int gw_cfg_secret(gw_cfgx *c, json_t *obj, const char *field,
                  const char *key, bool required, char **out);
/* An absolute path: `p` itself, or `p` joined to the configuration's
 * directory. NULL without memory. */
char *gw_cfg_resolve(const gw_cfgx *c, const char *p);

#endif
