/* Running the built wf tool (examples/wf) from the tests: stdin from
 * /dev/null, stdout and stderr captured through files, and a bounded wait
 * so a tool that hangs fails its test instead of holding the run.
 * Header-only (static inline) like engine_support.h. */
#ifndef WF_TEST_TOOL_SUPPORT_H
#define WF_TEST_TOOL_SUPPORT_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_support.h"
#include "support.h"

#define WFT_TOOL WF_BINARY_DIR "/examples/wf"

extern char **environ;

/* What one run of the tool did; free with wft_tool_run_free(). */
typedef struct wft_tool_run {
  int status; /* exit status; -1 when the tool did not exit normally */
  char *out, *err;
} wft_tool_run;

/* Skip the test when the tool is not built (WF_BUILD_EXAMPLES off). */
static inline void wft_tool_require(void) {
  if (access(WFT_TOOL, X_OK) != 0) cr_skip_test("the wf tool is not built");
}

/* Run the tool with `args` (NULL-terminated, argv[0] left out), its stdout
 * and stderr going to the files `dir`/out and `dir`/err, which are read
 * and removed; killed (failing the test) if it has not exited after
 * 3 x WFT_WAIT_MS of real time. */
static inline wft_tool_run wft_tool(const char *dir,
                                    const char *const *args) {
  char out_path[PATH_MAX + 8], err_path[PATH_MAX + 8];
  snprintf(out_path, sizeof out_path, "%s/out", dir);
  snprintf(err_path, sizeof err_path, "%s/err", dir);
  const char *argv[32] = {WFT_TOOL};
  size_t n = 1;
  for (; args[n - 1]; n++) {
    cr_assert_lt(n, 31);
    argv[n] = args[n - 1];
  }
  argv[n] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path,
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path,
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY,
                                   0);
  pid_t pid;
  int rc = posix_spawn(&pid, WFT_TOOL, &fa, NULL, (char *const *)argv,
                       environ);
  posix_spawn_file_actions_destroy(&fa);
  cr_assert_eq(rc, 0, "cannot run %s: %s", WFT_TOOL, strerror(rc));
  int st = 0;
  int64_t until = wft_mono_ms() + 3 * WFT_WAIT_MS;
  pid_t got;
  while ((got = waitpid(pid, &st, WNOHANG)) == 0 && wft_mono_ms() < until)
    wft_sleep_ms(10);
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    char *err = wft_read_file(err_path, NULL);
    cr_assert_fail("wf did not exit within %d ms; stderr:\n%s",
                   3 * WFT_WAIT_MS, err ? err : "");
  }
  cr_assert_eq(got, pid);
  wft_tool_run r = {WIFEXITED(st) ? WEXITSTATUS(st) : -1, NULL, NULL};
  r.out = wft_read_file(out_path, NULL);
  r.err = wft_read_file(err_path, NULL);
  cr_assert(r.out && r.err, "the tool's output files are unreadable");
  unlink(out_path);
  unlink(err_path);
  return r;
}

static inline void wft_tool_run_free(wft_tool_run *r) {
  free(r->out);
  free(r->err);
}

#endif
