/* The HTTP Task reading an answer from any server: header lines as
 * libcurl hands them over (status lines, fields, junk) and a body, turned
 * into AWS's result object. Never crashes, and whatever it keeps is valid
 * JSON: header names and values, the reason phrase and a text body are
 * UTF-8 without control characters. An input is the header lines, an empty
 * line, the body. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "http_impl.h"
#include "json_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = (const char *)data, *end = p + size;
  wf__http_response r;
  wf__http_response_init(&r);
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    bool blank = n <= 2 && (p[0] == '\n' || (p[0] == '\r' && n == 2));
    p += n;
    if (blank) break;
    wf__http_header_line(&r, p - n, n);
  }
  wf__strbuf_append(&r.body, p, (size_t)(end - p));
  const char *why;
  json_t *result = wf__http_result(&r, &why);
  FZ_CHECK(result || why, "no result and no reason");
  if (result) {
    char *text = wf__json_dumps(result);
    json_t *back = NULL;
    FZ_CHECK(text && wf__json_parse(&back, text, strlen(text), "result",
                                    NULL) == 0,
             "the result does not print as JSON");
    json_decref(back);
    free(text);
    json_decref(result);
  }
  wf__http_response_free(&r);
  return 0;
}
