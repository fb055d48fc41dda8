/* Our JSON parser against jansson's (the parser exists for speed and its
 * messages, and promises json_loadb's answer with JSON_DECODE_ANY |
 * JSON_ALLOW_NUL): the same texts accepted, the same values. One
 * difference by design: jansson takes a NUL byte outside a string for the
 * end of its input (and ignores what follows); ours refuses it. */
#include <jansson.h>
#include <stdbool.h>

#include "fuzz_support.h"
#include "json_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL byte outside any string. */
static bool stray_nul(const uint8_t *p, size_t n) {
  bool in_string = false;
  for (size_t i = 0; i < n; i++) {
    if (in_string) {
      if (p[i] == '\\') i++;
      else if (p[i] == '"') in_string = false;
    } else if (p[i] == '"') {
      in_string = true;
    } else if (p[i] == 0) {
      return true;
    }
  }
  return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *ours = NULL;
  wf_error err;
  int rc = wf__json_parse(&ours, (const char *)data, size, "input", &err);
  if (rc == WF_ENOMEM) return 0;
  if (stray_nul(data, size)) {
    FZ_CHECK(rc != WF_OK, "a NUL byte outside a string was accepted");
    return 0;
  }
  json_error_t jerr;
  json_t *theirs = json_loadb((const char *)data, size,
                              JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  FZ_CHECK((rc == WF_OK) == (theirs != NULL),
           "ours %s (%s), jansson %s (%s)", rc == WF_OK ? "accepts" : "refuses",
           rc == WF_OK ? "" : err.message, theirs ? "accepts" : "refuses",
           theirs ? "" : jerr.text);
  if (ours) FZ_CHECK(json_equal(ours, theirs), "different values");
  json_decref(ours);
  json_decref(theirs);
  return 0;
}
