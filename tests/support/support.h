/* Helpers shared by the test files: reading files and finding ../shared. */
#ifndef WF_TEST_SUPPORT_H
#define WF_TEST_SUPPORT_H

#include <stddef.h>

/* The shared/ directory: $WF_SHARED_DIR, else the one beside the source. */
const char *wft_shared_dir(void);
/* Whole file as a NUL-terminated string (free()), or NULL. */
char *wft_read_file(const char *path, size_t *len);
/* printf into a new string (free()). */
char *wft_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
