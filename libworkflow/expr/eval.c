#include "eval.h"

#include <stdarg.h>
#include <stdio.h>

int wf__fault_set(wf__fault *f, const char *error, const char *fmt, ...) {
  f->error = error;
  f->raw = false;
  wf__strbuf_reset(&f->cause);
  va_list ap;
  va_start(ap, fmt);
  char small[512];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return -1;
  if ((size_t)n < sizeof small) {
    wf__strbuf_append(&f->cause, small, (size_t)n);
  } else if (wf__strbuf_reserve(&f->cause, (size_t)n)) {
    va_start(ap, fmt);
    vsnprintf(f->cause.data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    f->cause.len = (size_t)n;
  }
  return -1;
}

int wf__fault_set_raw(wf__fault *f, const char *error, const char *cause) {
  f->error = error;
  f->raw = true;
  wf__strbuf_reset(&f->cause);
  wf__strbuf_puts(&f->cause, cause);
  return -1;
}

void wf__fault_clear(wf__fault *f) {
  f->error = NULL;
  f->raw = false;
  wf__strbuf_free(&f->cause);
}
