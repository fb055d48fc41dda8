/* Message templates: "{{name}}" placeholders filled from the request and
 * the processing result (README.md, "Templates"). Names are checked at
 * init so that a typo fails the configuration, not every message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send_notification.h"

#define RESULT_PREFIX "processingResult."

static const char *const NAMES[] = {"correlationId", "status",
                                    "recordsProcessed", "priority", "channel",
                                    "executionName", NULL};

/* The placeholder starting at p ("{{"): its name (trimmed) in name, and
 * the text after it; NULL when p starts no complete placeholder. */
static const char *placeholder(const char *p, char *name, size_t size) {
  const char *end = strstr(p + 2, "}}");
  if (!end) return NULL;
  const char *a = p + 2, *z = end;
  while (a < z && *a == ' ') a++;
  while (z > a && z[-1] == ' ') z--;
  snprintf(name, size, "%.*s", (int)(z - a), a);
  return end + 2;
}

static bool known(const char *name) {
  for (size_t i = 0; NAMES[i]; i++)
    if (strcmp(name, NAMES[i]) == 0) return true;
  return strncmp(name, RESULT_PREFIX, strlen(RESULT_PREFIX)) == 0 &&
         name[strlen(RESULT_PREFIX)] != '\0';
}

const char *sn_template_check(const char *tmpl, char *buf_, size_t size) {
  for (const char *p = strstr(tmpl, "{{"); p; p = strstr(p + 2, "{{")) {
    char name[128];
    const char *next = placeholder(p, name, sizeof name);
    if (!next) return NULL;
    if (!known(name)) {
      snprintf(buf_, size, "%s", name);
      return buf_;
    }
  }
  return NULL;
}

/* A JSON value as text: strings as they are, null and absent as "". */
static void put_value(sn_text *b, json_t *v) {
  if (!v || json_is_null(v)) return;
  if (json_is_string(v)) {
    sn_text_adds(b, json_string_value(v));
    return;
  }
  char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
  if (!s) {
    b->failed = true;
    return;
  }
  sn_text_adds(b, s);
  free(s);
}

static void put_str(sn_text *b, const char *s) {
  if (s) sn_text_adds(b, s);
}

static void expand(sn_text *b, const char *name, const sn_request *req,
                   sn_channel channel, const char *execution_name) {
  json_t *result = req->processing_result;
  if (strcmp(name, "correlationId") == 0) put_str(b, req->correlation_id);
  else if (strcmp(name, "priority") == 0)
    put_str(b, sn_priority_name(req->priority));
  else if (strcmp(name, "channel") == 0) put_str(b, sn_channel_name(channel));
  else if (strcmp(name, "executionName") == 0) put_str(b, execution_name);
  else if (strncmp(name, RESULT_PREFIX, strlen(RESULT_PREFIX)) == 0)
    put_value(b, json_object_get(result, name + strlen(RESULT_PREFIX)));
  else /* status, recordsProcessed: members of the processing result */
    put_value(b, json_object_get(result, name));
}

char *sn_template_render(const char *tmpl, const sn_request *req,
                         sn_channel channel, const char *execution_name) {
  sn_text b = {0};
  const char *p = tmpl;
  for (const char *ph = strstr(p, "{{"); ph; ph = strstr(p, "{{")) {
    char name[128];
    const char *next = placeholder(ph, name, sizeof name);
    if (!next) break;
    sn_text_add(&b, p, (size_t)(ph - p));
    expand(&b, name, req, channel, execution_name);
    p = next;
  }
  sn_text_adds(&b, p);
  return sn_text_take(&b);
}
