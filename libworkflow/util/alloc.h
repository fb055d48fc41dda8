/* Private allocation entry points: library code allocates only through these,
 * so wf_allocator_set() governs all of libworkflow's own memory. */
#ifndef WF_ALLOC_H
#define WF_ALLOC_H

#include <stddef.h>

void *wf__malloc(size_t n);
void *wf__calloc(size_t count, size_t n);
void *wf__realloc(void *p, size_t n);
void wf__free(void *p);
/* Copies of strings: NULL on out-of-memory (or when s is NULL). */
char *wf__strdup(const char *s);
char *wf__strndup(const char *s, size_t n);
/* How many allocations have failed on this thread so far: compare two
 * readings to learn whether a stretch of code went without memory. */
unsigned long wf__alloc_failures(void);

#endif
