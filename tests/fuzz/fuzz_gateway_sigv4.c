/* SigV4 as wf-gateway checks it: any Authorization and X-Amz-Date headers,
 * path, query and body are judged, never crash; and the same request
 * signed with the configured key by the signing steps always passes. An
 * input is "METHOD PATH[?QUERY]\n", header lines, an empty line, the body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY_ID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define NOW_S 1440938160 /* 2015-08-30T12:36:00Z */
#define AMZ_DATE "20150830T123600Z"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fz_text(data, size);
  char *line_end = strchr(text, '\n');
  if (line_end) *line_end = '\0';
  char *path = strchr(text, ' ');
  if (!path) {
    free(text);
    return 0;
  }
  *path++ = '\0';
  char *query = strchr(path, '?');
  if (query) *query++ = '\0';
  gw_header headers[34];
  size_t nh = 0;
  char *body = text + size;
  for (char *p = line_end ? line_end + 1 : body; p < text + size;) {
    char *eol = strchr(p, '\n');
    if (eol) *eol = '\0';
    if (!*p) {
      body = eol ? eol + 1 : p;
      break;
    }
    char *colon = strchr(p, ':');
    if (colon && nh < 32) {
      *colon = '\0';
      char *value = colon + 1;
      while (*value == ' ') value++;
      headers[nh++] = (gw_header){p, value};
    }
    if (!eol) break;
    p = eol + 1;
  }
  size_t body_len = (size_t)(text + size - body);
  if (body > text + size) body_len = 0;
  gw_access_key key = {KEY_ID, SECRET};
  gw_sigv4_scope scope = {"us-east-1", "states", &key, 1, NOW_S, 900};
  gw_request req = {text, path, query ? query : "", headers, nh,
                    body_len ? body : "", body_len, "127.0.0.1", "fuzz"};
  char msg[512];
  gw_sigv4_verify(&req, &scope, msg, sizeof msg);

  /* Signed properly, the same request passes: its own headers give way to
   * a Host, an X-Amz-Date and the Authorization made for them. */
  gw_header signed_headers[3] = {{"Host", "localhost"},
                                 {"X-Amz-Date", AMZ_DATE},
                                 {"Authorization", ""}};
  gw_request sreq = req;
  sreq.headers = signed_headers;
  sreq.nheaders = 2;
  char *canonical = gw_sigv4_canonical_request(&sreq, "host;x-amz-date");
  char signature[65];
  if (canonical && gw_sigv4_signature(signature, SECRET, AMZ_DATE, "us-east-1",
                                      "states", canonical) == 0) {
    char auth[256];
    snprintf(auth, sizeof auth,
             GW_SIGV4_ALGORITHM " Credential=" KEY_ID
                                "/20150830/us-east-1/states/aws4_request, "
                                "SignedHeaders=host;x-amz-date, Signature=%s",
             signature);
    signed_headers[2].value = auth;
    sreq.nheaders = 3;
    gw_sigv4_result r = gw_sigv4_verify(&sreq, &scope, msg, sizeof msg);
    FZ_CHECK(r == GW_SIGV4_OK, "a properly signed request fails (%d): %s", r,
             msg);
  }
  free(canonical);
  free(text);
  return 0;
}
