/* Definitions through the library's validator: compiling one for
 * CreateStateMachine and UpdateStateMachine (InvalidDefinition carries
 * every diagnostic, worded as AWS words them), and
 * ValidateStateMachineDefinition, which lists them. */
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

static const char *const TYPES[] = {"STANDARD", "EXPRESS", NULL};
static const char *const SEVERITIES[] = {"ERROR", "WARNING", NULL};

/* Validation's own limit on diagnostics returned (and its default). */
#define VALIDATE_MAX_RESULTS 100

static wf_machine *load(const char *definition, wf_machine_type type,
                        const char *name, char *const *allowed,
                        wf_diagnostics **diags, wf_error *err, int *rc) {
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.type = type;
  lo.name = name;
  lo.diagnostics = diags;
  lo.allowed_resources = (const char *const *)allowed;
  wf_machine *m = NULL;
  *rc = wf_machine_load_json(&m, definition, &lo, err);
  return m;
}

wf_machine *gw_sfn_compile(gw_sfn_call *c, const char *definition,
                           wf_machine_type type, const char *name,
                           char *const *allowed_resources) {
  wf_diagnostics *diags = NULL;
  wf_error err;
  int rc;
  wf_machine *m =
      load(definition, type, name, allowed_resources, &diags, &err, &rc);
  if (m) return m;
  if (rc == WF_ENOMEM) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
  } else {
    char *all =
        wf_diagnostics_count(diags) ? wf_diagnostics_format(diags) : NULL;
    char *text = gw_sfn_strf("Invalid State Machine Definition: '%s'",
                             all ? all : err.message);
    if (text)
      gw_sfn_fail_text(c, "InvalidDefinition", text);
    else
      gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    free(text);
    wf_string_free(all);
  }
  wf_diagnostics_free(diags);
  return NULL;
}

static json_t *diagnostic(const char *code, const char *message,
                          const char *location) {
  json_t *d = json_pack("{s:s, s:s, s:s}", "severity", "ERROR", "code", code,
                        "message", message);
  if (d && location) json_object_set_new(d, "location", json_string(location));
  return d;
}

void gw_sfn_validate_definition(gw_sfn_call *c) {
  gw_sfn_params p;
  gw_sfn_params_init(&p, c->body);
  const char *def = gw_sfn_str(&p, "definition", true, 1, 1048576);
  const char *type = gw_sfn_enum(&p, "type", TYPES);
  gw_sfn_enum(&p, "severity", SEVERITIES);
  long long max = gw_sfn_int(&p, "maxResults", 0, VALIDATE_MAX_RESULTS, 0);
  if (gw_sfn_params_failed(&p, c)) return;
  if (max == 0) max = VALIDATE_MAX_RESULTS;
  wf_diagnostics *diags = NULL;
  wf_error err;
  int rc;
  wf_machine *m =
      load(def,
           type && strcmp(type, "EXPRESS") == 0 ? WF_MACHINE_EXPRESS
                                                : WF_MACHINE_STANDARD,
           NULL, NULL, &diags, &err, &rc);
  if (rc == WF_ENOMEM) {
    gw_sfn_error(c->resp, 500, "InternalFailure", "out of memory");
    wf_diagnostics_free(diags);
    return;
  }
  json_t *list = json_array();
  size_t n = wf_diagnostics_count(diags);
  for (size_t i = 0; i < n && i < (size_t)max; i++)
    json_array_append_new(list, diagnostic(wf_diagnostics_code(diags, i),
                                           wf_diagnostics_message(diags, i),
                                           wf_diagnostics_location(diags, i)));
  if (!m && n == 0) /* refused without a diagnostic: err says why */
    json_array_append_new(list,
                          diagnostic("SCHEMA_VALIDATION_FAILED", err.message,
                                     err.path[0] ? err.path : NULL));
  gw_sfn_ok(c, json_pack("{s:s, s:o, s:b}", "result", m ? "OK" : "FAIL",
                         "diagnostics", list, "truncated", n > (size_t)max));
  wf_machine_free(m);
  wf_diagnostics_free(diags);
}
