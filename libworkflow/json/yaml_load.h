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
 * with err's message, line and column (1-based) set.
 * Also: keys become strings as written (`1:` gives "1") and must be unique;
 * merge keys (<<) are applied; !!str/!!int/!!float/!!bool/!!null/!!seq/!!map
 * are honoured and any other tag (!Ref, !Sub) is an error; the text must
 * hold exactly one document; at most 1,000,000 nodes counting aliases at
 * their expanded size, and 512 levels of nesting. An alias shares the
 * anchored value (json_incref), so the result may be a DAG: treat it as
 * read-only, or json_deep_copy() it before changing it. *out is NULL on
 * failure. Threads: any; no shared state. */
int wf__yaml_parse(json_t **out, const char *text, size_t len, wf_error *err);

#endif
