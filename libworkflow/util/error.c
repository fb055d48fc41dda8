/* Error codes, names and messages, all generated from WF_ERRNO_MAP. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *wf_error_name(int code) {
  switch (code) {
#define WF__ERRNO_NAME(name, value, text) \
  case WF_##name:                         \
    return "WF_" #name;
    WF_ERRNO_MAP(WF__ERRNO_NAME)
#undef WF__ERRNO_NAME
    default:
      return "WF_EUNKNOWN";
  }
}

const char *wf_error_str(int code) {
  switch (code) {
#define WF__ERRNO_STR(name, value, text) \
  case WF_##name:                        \
    return text;
    WF_ERRNO_MAP(WF__ERRNO_STR)
#undef WF__ERRNO_STR
    default:
      return "unknown error";
  }
}

const char *wf_version_string(void) {
#define WF__STR2(x) #x
#define WF__STR(x) WF__STR2(x)
  return WF__STR(WF_VERSION_MAJOR) "." WF__STR(WF_VERSION_MINOR) "." WF__STR(
      WF_VERSION_PATCH);
}

void wf__error_clear(wf_error *err) {
  if (!err) return;
  err->code = WF_OK;
  err->line = err->column = 0;
  err->path[0] = '\0';
  err->message[0] = '\0';
}

static void fill(wf_error *err, int code, const char *fmt, va_list ap) {
  err->code = code;
  vsnprintf(err->message, sizeof err->message, fmt, ap);
}

int wf__error_set(wf_error *err, int code, const char *path, const char *fmt,
                  ...) {
  if (!err) return code;
  wf__error_clear(err);
  if (path) snprintf(err->path, sizeof err->path, "%s", path);
  va_list ap;
  va_start(ap, fmt);
  fill(err, code, fmt, ap);
  va_end(ap);
  return code;
}

int wf__error_set_at(wf_error *err, int code, int line, int column,
                     const char *fmt, ...) {
  if (!err) return code;
  wf__error_clear(err);
  err->line = line;
  err->column = column;
  va_list ap;
  va_start(ap, fmt);
  fill(err, code, fmt, ap);
  va_end(ap);
  return code;
}
