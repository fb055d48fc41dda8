/* A machine as a store keeps it: a digest of what defines it (text, type,
 * name, allowlist) that executions refer to, its load options as JSON, and
 * loading it back from those. */
#include <openssl/evp.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json_text.h"
#include "machine_impl.h"
#include "strbuf.h"

static void feed(EVP_MD_CTX *c, const char *s) {
  EVP_DigestUpdate(c, s ? s : "", s ? strlen(s) + 1 : 1);
}

int wf__machine_digest(wf_machine *m) {
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  char type[4] = {(char)('0' + (int)m->type), 0};
  bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  if (ok) {
    feed(c, "libworkflow definition 1");
    feed(c, type);
    feed(c, m->name);
    feed(c, m->definition);
    for (size_t i = 0; m->allowed && m->allowed[i]; i++) feed(c, m->allowed[i]);
    ok = EVP_DigestFinal_ex(c, md, &n) && n == 32;
  }
  EVP_MD_CTX_free(c);
  if (!ok) return WF_ENOMEM;
  static const char hex[] = "0123456789abcdef";
  for (unsigned i = 0; i < n; i++) {
    m->digest[2 * i] = hex[md[i] >> 4];
    m->digest[2 * i + 1] = hex[md[i] & 15];
  }
  m->digest[2 * n] = '\0';
  return WF_OK;
}

char *wf__machine_options_json(const wf_machine *m) {
  if (!m->allowed) return NULL;
  json_t *list = json_array();
  for (size_t i = 0; m->allowed[i]; i++)
    json_array_append_new(list, json_string(m->allowed[i]));
  json_t *o = json_pack("{s:o}", "allowedResources", list);
  char *text = o ? wf__json_dumps(o) : NULL;
  json_decref(o);
  return text;
}

int wf__machine_load_record(wf_machine **out, const char *name, int type,
                            const char *definition, const char *options,
                            wf_error *err) {
  json_t *o = NULL;
  if (options && *options &&
      wf__json_parse(&o, options, strlen(options), "definition options",
                     err) != WF_OK)
    return err ? err->code : WF_EPARSE;
  json_t *list = json_object_get(o, "allowedResources");
  size_t n = json_array_size(list);
  const char **allowed = n ? wf__calloc(n + 1, sizeof *allowed) : NULL;
  if (n && !allowed) {
    json_decref(o);
    return wf__error_set(err, WF_ENOMEM, NULL, "out of memory");
  }
  for (size_t i = 0; i < n; i++)
    allowed[i] = json_string_value(json_array_get(list, i));
  wf_load_options lo = WF_LOAD_OPTIONS_INIT;
  lo.type = type == WF_MACHINE_EXPRESS ? WF_MACHINE_EXPRESS
                                       : WF_MACHINE_STANDARD;
  lo.name = name;
  lo.allowed_resources = allowed;
  int rc = wf_machine_load_json(out, definition, &lo, err);
  wf__free(allowed);
  json_decref(o);
  return rc;
}
