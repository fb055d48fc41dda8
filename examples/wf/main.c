/* wf: validate and run AWS Step Functions state machines with libworkflow. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "workflow/workflow.h"

static const char USAGE[] =
    "usage: wf <command> [options]\n"
    "\n"
    "Validate and run Amazon States Language state machines with libworkflow.\n"
    "\n"
    "commands:\n"
    "  validate [--type STANDARD|EXPRESS] FILE...\n"
    "        check definitions as AWS Step Functions does; prints FILE: OK or\n"
    "        one line per problem: FILE: CODE: message at location\n"
    "  run DEFINITION [options]\n"
    "        run one execution and print its result as one JSON object\n"
    "  executions STORE [ARN] [options]\n"
    "        list the executions a store file keeps, or show one\n"
    "\n"
    "  wf <command> --help   shows a command's options\n"
    "  wf --version          prints the library version\n"
    "\n"
    "exit status: 0 success, 1 invalid definition or failed execution,\n"
    "2 usage error or unreadable file\n";

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(USAGE, stderr);
    return WF_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
      strcmp(cmd, "help") == 0) {
    fputs(USAGE, stdout);
    return WF_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("wf %s\n", wf_version_string());
    return WF_EXIT_OK;
  }
  if (strcmp(cmd, "validate") == 0) return wf_cli_validate(argc - 1, argv + 1);
  if (strcmp(cmd, "run") == 0) return wf_cli_run(argc - 1, argv + 1);
  if (strcmp(cmd, "executions") == 0)
    return wf_cli_executions(argc - 1, argv + 1);
  fprintf(stderr, "wf: unknown command '%s'\n\n%s", cmd, USAGE);
  return WF_EXIT_USAGE;
}
