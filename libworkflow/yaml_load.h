/* YAML text to a jansson value, so YAML and JSON definitions load alike. */
#ifndef WF_YAML_LOAD_H
#define WF_YAML_LOAD_H

#include <jansson.h>
#include <stddef.h>

#include "workflow/common.h"

/* Parse one YAML document into a new JSON value (*out, new reference).
 * Scalars follow the YAML 1.2 core schema (null/~/empty -> null;
 * true/false; decimal, 0x, 0o integers; floats incl. .inf/.nan rejected as
 * not JSON); quoted scalars are strings; anchors and aliases are expanded;
 * mapping keys must be scalars. On failure returns WF_EPARSE (or WF_ENOMEM)
 * with err's message, line and column (1-based) set. */
int wf__yaml_parse(json_t **out, const char *text, size_t len, wf_error *err);

#endif
