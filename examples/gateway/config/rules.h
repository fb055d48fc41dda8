/* Validation rules for POST /process bodies, from the configuration's
 * process.rules list. A rule names a field by path ("notification.type",
 * "data.records[].id": "[]" means every element) and constrains it:
 * required, type, enum, minLength/maxLength (characters of a string, items
 * of an array, members of an object), minimum/maximum, and a pcre2
 * pattern. A rule applies wherever its parent exists: "required" on
 * "notification.type" demands the member only in bodies that carry a
 * "notification" object. */
#ifndef GW_RULES_H
#define GW_RULES_H

#include <jansson.h>
#include <stddef.h>

#include "config_read.h"

typedef struct gw_rules gw_rules;

/* Compile the list at `field` of the configuration; on failure the message
 * names the offending rule member. */
int gw_rules_compile(gw_rules **out, json_t *list, const char *field,
                     gw_cfgx *c);
void gw_rules_free(gw_rules *r);

/* Check `body` and append each violation to `errors` as
 * {"field": "data.records[2].id", "rule": "type", "message": "..."}, at
 * most `max_errors` of them in all. Returns the number appended.
 * Threads: any; compiled rules are shared read-only. */
size_t gw_rules_check(const gw_rules *r, const json_t *body, json_t *errors,
                      size_t max_errors);

#endif
