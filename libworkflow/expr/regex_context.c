#include "regex_context.h"

#include "alloc.h"

static void *regex_malloc(size_t n, void *data) {
  (void)data;
  return wf__malloc(n);
}

static void regex_free(void *p, void *data) {
  (void)data;
  wf__free(p);
}

pcre2_general_context *wf__regex_context_new(void) {
  return pcre2_general_context_create(regex_malloc, regex_free, NULL);
}
