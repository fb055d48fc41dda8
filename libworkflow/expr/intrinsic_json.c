/* States.StringToJson, States.JsonToString, States.JsonMerge. */
#include <string.h>

#include "alloc.h"
#include "intrinsic_impl.h"
#include "json_text.h"

/* AWS parses with Jackson's readTree: blank text gives null (recorded:
 * intr-string-to-json, and "" is null on AWS), text after the first value
 * is ignored, anything unparsable fails the call. */
int wf__intrinsic_string_to_json(json_t **out, json_t *const *args,
                                 size_t nargs, const wf__icall *c) {
  (void)nargs;
  if (!json_is_string(args[0])) return wf__intrinsic_invalid(c);
  const char *s = json_string_value(args[0]);
  size_t n = json_string_length(args[0]);
  size_t i = 0;
  while (i < n && (unsigned char)s[i] <= ' ') i++;
  if (i == n) {
    *out = json_null();
    return 0;
  }
  json_error_t err;
  *out = json_loadb(s + i, n - i,
                    JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL,
                    &err);
  return *out ? 0 : wf__intrinsic_invalid(c);
}

/* Compact JSON exactly as AWS prints it (null gives "null", 1.1 "1.1"). */
int wf__intrinsic_json_to_string(json_t **out, json_t *const *args,
                                 size_t nargs, const wf__icall *c) {
  (void)nargs;
  wf__strbuf b = WF__STRBUF_INIT;
  wf__json_dump(&b, args[0]);
  *out = b.oom ? NULL : json_stringn(b.data ? b.data : "", b.len);
  wf__strbuf_free(&b);
  return *out ? 0 : wf__intrinsic_oom(c);
}

/* Shallow merge, the second object's keys winning; AWS supports no deep
 * merge, so a third argument of true fails the call. Any other third
 * argument merges shallowly, as AWS does even for the string "false". */
int wf__intrinsic_json_merge(json_t **out, json_t *const *args, size_t nargs,
                             const wf__icall *c) {
  (void)nargs;
  if (!json_is_object(args[0]) || !json_is_object(args[1]) ||
      json_is_true(args[2]))
    return wf__intrinsic_invalid(c);
  json_t *m = json_copy(args[0]); /* shallow: values are shared */
  if (!m || json_object_update(m, args[1]) != 0) {
    json_decref(m);
    return wf__intrinsic_oom(c);
  }
  *out = m;
  return 0;
}
