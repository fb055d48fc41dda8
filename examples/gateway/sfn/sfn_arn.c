/* ARNs and names as Step Functions checks them:
 *   arn:aws:states:<region>:<account>:stateMachine:<name>[:<version>]
 *   arn:aws:states:<region>:<account>:stateMachine:<name>:<alias>
 *   arn:aws:states:<region>:<account>:activity:<name>
 *   arn:aws:states:<region>:<account>:stateMachine:<name>#<test case>
 *   arn:aws:states:<region>:<account>:execution:<machine>:<name>
 * The '#' form is Step Functions Local's: it runs a MockConfigFile test
 * case. An ARN of another region or account parses; its machine just does
 * not exist here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

char *gw_sfn_strf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

char *gw_sfn_machine_arn(const gateway *g, const char *name) {
  return gw_sfn_strf("arn:aws:states:%s:%s:stateMachine:%s", g->region,
                     g->account, name);
}

char *gw_sfn_version_arn(const char *machine_arn, int version) {
  return gw_sfn_strf("%s:%d", machine_arn, version);
}

bool gw_sfn_name_ok(const char *s) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p & 0xC0) != 0x80) n++;
    if (*p <= 0x20 || *p == 0x7F || strchr("<>{}[]?*\"#%\\^|~`$&,;:/", *p))
      return false;
    /* U+0080 to U+009F: C1 control characters. */
    if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) return false;
  }
  return n >= 1 && n <= 80;
}

/* The six ':'-separated fields before the resource: arn, partition,
 * service, region, account, resource type. `rest` is what follows. */
typedef struct arn_parts {
  char field[6][64];
  const char *rest;
} arn_parts;

static bool split(const char *arn, arn_parts *out) {
  const char *p = arn;
  for (int i = 0; i < 6; i++) {
    size_t len = strcspn(p, ":");
    if (!p[len] || len >= sizeof out->field[i]) return false;
    memcpy(out->field[i], p, len);
    out->field[i][len] = '\0';
    p += len + 1;
  }
  out->rest = p;
  return strcmp(out->field[0], "arn") == 0 && out->field[1][0] &&
         out->field[3][0] && out->field[4][0];
}

static bool invalid(gw_sfn_call *c, const char *why, const char *what) {
  gw_sfn_fail(c, "InvalidArn", "Invalid Arn: '%s%.256s'", why, what);
  return false;
}

/* Prefix and fields; false with InvalidArn answered. */
static bool parse_common(gw_sfn_call *c, const char *arn, const char *type,
                         const char *type2, arn_parts *a) {
  if (strncmp(arn, "arn:", 4) != 0)
    return invalid(c, "Invalid ARN prefix: ", arn);
  if (!split(arn, a) || strcmp(a->field[2], "states") != 0 || !*a->rest)
    return invalid(c, "", arn);
  if (strcmp(a->field[5], type) != 0 &&
      !(type2 && strcmp(a->field[5], type2) == 0))
    return invalid(c, "Resource type not valid in this context: ", a->field[5]);
  return true;
}

bool gw_sfn_parse_machine_arn(gw_sfn_call *c, const char *arn, unsigned allow,
                              gw_sfn_machine_ref *out) {
  arn_parts a;
  memset(out, 0, sizeof *out);
  if (!parse_common(c, arn, "stateMachine", NULL, &a)) return false;
  snprintf(out->given, sizeof out->given, "%s", arn);
  const char *hash = strchr(a.rest, '#');
  const char *colon = strchr(a.rest, ':');
  size_t nlen = strcspn(a.rest, "#:");
  if (nlen >= sizeof out->name) return invalid(c, "", arn);
  memcpy(out->name, a.rest, nlen);
  out->name[nlen] = '\0';
  if (!gw_sfn_name_ok(out->name)) return invalid(c, "", arn);
  if (hash && (!(allow & GW_SFN_ALLOW_TEST_CASE) || colon || !hash[1] ||
               strlen(hash + 1) >= sizeof out->test_case))
    return invalid(c, "", arn);
  if (hash) snprintf(out->test_case, sizeof out->test_case, "%s", hash + 1);
  if (colon) {
    const char *q = colon + 1;
    size_t digits = strspn(q, "0123456789");
    if (!(allow & GW_SFN_ALLOW_VERSION) || !*q || strchr(q, ':'))
      return invalid(c, "", arn);
    if (!q[digits] && digits <= 9) {
      out->version = atoi(q);
      if (out->version < 1) return invalid(c, "", arn);
    } else if (!(allow & GW_SFN_ALLOW_ALIAS)) {
      /* An alias where the operation takes none. */
      gw_sfn_fail(c, "StateMachineDoesNotExist",
                  "State Machine Does Not Exist: '%.256s'", arn);
      return false;
    } else if (!gw_sfn_alias_name_ok(q) || strlen(q) >= sizeof out->alias) {
      return invalid(c, "", arn);
    } else {
      snprintf(out->alias, sizeof out->alias, "%s", q);
    }
  }
  int n = snprintf(out->arn, sizeof out->arn, "%s:%s:%s:%s:%s:%s:%s",
                   a.field[0], a.field[1], a.field[2], a.field[3], a.field[4],
                   a.field[5], out->name);
  return n > 0 && (size_t)n < sizeof out->arn ? true : invalid(c, "", arn);
}

bool gw_sfn_parse_resource_arn(gw_sfn_call *c, const char *arn,
                               gw_sfn_machine_ref *ref, bool *activity) {
  arn_parts a;
  memset(ref, 0, sizeof *ref);
  if (!parse_common(c, arn, "stateMachine", "activity", &a)) return false;
  *activity = strcmp(a.field[5], "activity") == 0;
  if (*activity) return true;
  return gw_sfn_parse_machine_arn(c, arn,
                                  GW_SFN_ALLOW_VERSION | GW_SFN_ALLOW_ALIAS,
                                  ref);
}

bool gw_sfn_alias_name_ok(const char *s) {
  size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789_-.");
  return n >= 1 && n <= 80 && !s[n] && strspn(s, "0123456789") < n;
}

char *gw_sfn_alias_arn(const char *machine_arn, const char *alias) {
  return gw_sfn_strf("%s:%s", machine_arn, alias);
}

bool gw_sfn_check_execution_arn(gw_sfn_call *c, const char *arn) {
  arn_parts a;
  return parse_common(c, arn, "execution", "express", &a);
}

bool gw_sfn_check_map_run_arn(gw_sfn_call *c, const char *arn) {
  arn_parts a;
  return parse_common(c, arn, "mapRun", NULL, &a);
}
