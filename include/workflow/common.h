/*
 * libworkflow: common definitions shared by every public header.
 *
 * Error model: a function that can fail returns int, WF_OK (0) or a negative
 * WF_E* code, and fills an optional caller-owned wf_error. Filling it needs no
 * allocation, so out-of-memory is reportable too.
 */
#ifndef WF_COMMON_H
#define WF_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define WF_API
#else
#define WF_API __attribute__((visibility("default")))
#endif

#define WF_VERSION_MAJOR 0
#define WF_VERSION_MINOR 1
#define WF_VERSION_PATCH 0

/*
 * Every error code: name, value, description. One list generates the enum,
 * wf_error_name() and wf_error_str().
 */
#define WF_ERRNO_MAP(X)                                                     \
  X(OK, 0, "success")                                                       \
  X(ENOMEM, -1, "out of memory")                                            \
  X(EINVAL, -2, "invalid argument")                                         \
  X(EPARSE, -3, "syntax error in JSON or YAML text")                        \
  X(EINVALID, -4, "invalid state machine definition")                       \
  X(ELIMIT, -5, "a size or length limit was exceeded")                      \
  X(EIO, -6, "input/output error")                                          \
  X(EVERSION, -7, "unsupported options struct version")                     \
  X(ENOTFOUND, -8, "no such object")                                        \
  X(EEXIST, -9, "already exists")                                           \
  X(ESTATE, -10, "operation not valid in the current state")                \
  X(ETIMEDOUT, -11, "timed out")                                            \
  X(EBUSY, -12, "resource busy or already configured")                      \
  X(EABI, -13, "incompatible plugin ABI")                                   \
  X(EPERM, -14, "operation not permitted")                                  \
  X(ECANCELED, -15, "operation canceled")                                   \
  X(EUNSUPPORTED, -16, "not supported")                                     \
  X(EINTERNAL, -17, "internal error")                                       \
  X(ECORRUPT, -18, "damaged or foreign data in a store")                    \
  X(ENOSPC, -19, "no space left on the device")

typedef enum wf_errno {
#define WF__ERRNO_ENUM(name, value, text) WF_##name = value,
  WF_ERRNO_MAP(WF__ERRNO_ENUM)
#undef WF__ERRNO_ENUM
  WF__ERRNO_MIN = -20
} wf_errno;

#define WF_ERROR_PATH_MAX 256
#define WF_ERROR_MESSAGE_MAX 512

/**
 * What went wrong, and where. Caller-owned; every field is filled on failure.
 * `code` equals the function's return value; `line`/`column` are 1-based
 * positions in the source text (0 when the error did not come from text);
 * `path` is the location inside a definition in AWS's syntax
 * ("/States/Process/Next", "/" for the root) or empty; `message` is a
 * NUL-terminated English sentence, truncated to fit.
 */
typedef struct wf_error {
  int code;
  int line, column;
  char path[WF_ERROR_PATH_MAX];
  char message[WF_ERROR_MESSAGE_MAX];
} wf_error;

/**
 * The symbolic name of an error code ("WF_EINVALID").
 * @return a static string; "WF_EUNKNOWN" for a code not in the list.
 * Threads: any.
 */
WF_API const char *wf_error_name(int code);

/**
 * A short English description of an error code.
 * @return a static string; "unknown error" for a code not in the list.
 * Threads: any.
 */
WF_API const char *wf_error_str(int code);

/**
 * The library's version as "MAJOR.MINOR.PATCH".
 * @return a static string.
 * Threads: any.
 */
WF_API const char *wf_version_string(void);

/**
 * Memory allocator used by all of libworkflow's own allocations (jansson's
 * allocator belongs to the application and is never changed by the library).
 */
typedef struct wf_allocator {
  unsigned int version;
  void *(*malloc)(size_t n, void *payload);
  void *(*realloc)(void *p, size_t n, void *payload);
  void (*free)(void *p, void *payload);
  void *payload;
} wf_allocator;

#define WF_ALLOCATOR_VERSION 1

/**
 * Replace the allocator. Call it once, before any other libworkflow call.
 * @param alloc copied; all three functions must be set; NULL restores the
 *              C library's allocator (only before first use, like any call).
 * @return WF_OK; WF_EBUSY when the library has already allocated memory or an
 *         allocator was already set; WF_EVERSION for an unknown version;
 *         WF_EINVAL when a function pointer is missing.
 * Threads: must not race with any other libworkflow call.
 */
WF_API int wf_allocator_set(const wf_allocator *alloc);

#ifdef __cplusplus
}
#endif

#endif /* WF_COMMON_H */
