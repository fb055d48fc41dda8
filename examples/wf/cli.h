/* The wf command-line tool: one file per sub-command. */
#ifndef WF_CLI_H
#define WF_CLI_H

/* Exit codes shared by every sub-command. */
enum { WF_EXIT_OK = 0, WF_EXIT_FAILED = 1, WF_EXIT_USAGE = 2 };

int wf_cli_validate(int argc, char **argv);
int wf_cli_run(int argc, char **argv);
int wf_cli_executions(int argc, char **argv);

#endif
