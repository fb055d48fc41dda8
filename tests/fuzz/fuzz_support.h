/* What the libFuzzer harnesses share: the input as a C string, and a
 * failure that names what broke before it stops the run. */
#ifndef WF_FUZZ_SUPPORT_H
#define WF_FUZZ_SUPPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The input, NUL-terminated (malloc'd). */
static inline char *fz_text(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* A property that does not hold: a crash libFuzzer records with its
 * input. */
#define FZ_CHECK(cond, ...)                                   \
  do {                                                        \
    if (!(cond)) {                                            \
      fprintf(stderr, "property failed: %s: ", #cond);        \
      fprintf(stderr, __VA_ARGS__);                           \
      fputc('\n', stderr);                                    \
      abort();                                                \
    }                                                         \
  } while (0)

#endif
