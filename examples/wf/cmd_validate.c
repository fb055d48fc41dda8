/* wf validate: check definitions the way AWS Step Functions does. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "workflow/workflow.h"

static const char USAGE[] =
    "usage: wf validate [--type STANDARD|EXPRESS] FILE...\n"
    "\n"
    "Check each state machine definition (JSON, or YAML for .yaml/.yml\n"
    "files) as AWS Step Functions would when creating it.\n"
    "\n"
    "options:\n"
    "  --type STANDARD|EXPRESS   the machine type to validate for\n"
    "                            (default STANDARD; EXPRESS adds AWS's\n"
    "                            Express rules)\n"
    "  -h, --help                show this help\n"
    "\n"
    "output: FILE: OK for a valid definition, otherwise one line per\n"
    "problem: FILE: CODE: message at location\n"
    "exit status: 0 all valid, 1 any invalid, 2 usage error or unreadable\n"
    "file\n";

/* Validate one file; returns the exit status it contributes. */
static int validate_one(const char *path, wf_machine_type type) {
  wf_diagnostics *diags = NULL;
  wf_load_options opts = WF_LOAD_OPTIONS_INIT;
  opts.type = type;
  opts.diagnostics = &diags;
  wf_machine *m = NULL;
  wf_error err;
  int rc = wf_machine_load_file(&m, path, &opts, &err);
  if (rc == WF_OK) {
    printf("%s: OK\n", path);
    wf_machine_free(m);
    return WF_EXIT_OK;
  }
  if (rc == WF_EIO || rc == WF_ENOMEM) {
    fprintf(stderr, "wf: %s\n", err.message);
    return WF_EXIT_USAGE;
  }
  size_t n = wf_diagnostics_count(diags);
  if (n == 0) printf("%s: %s\n", path, err.message);
  for (size_t i = 0; i < n; i++) {
    const char *loc = wf_diagnostics_location(diags, i);
    printf("%s: %s: %s", path, wf_diagnostics_code(diags, i),
           wf_diagnostics_message(diags, i));
    if (loc) printf(" at %s", loc);
    putchar('\n');
  }
  wf_diagnostics_free(diags);
  return WF_EXIT_FAILED;
}

int wf_cli_validate(int argc, char **argv) {
  wf_machine_type type = WF_MACHINE_STANDARD;
  int first = 1;
  for (; first < argc; first++) {
    const char *a = argv[first];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(USAGE, stdout);
      return WF_EXIT_OK;
    }
    if (strcmp(a, "--type") == 0 || strncmp(a, "--type=", 7) == 0) {
      const char *v = a[6] == '=' ? a + 7 : (first + 1 < argc ? argv[++first] : NULL);
      if (v && strcmp(v, "STANDARD") == 0) type = WF_MACHINE_STANDARD;
      else if (v && strcmp(v, "EXPRESS") == 0) type = WF_MACHINE_EXPRESS;
      else {
        fprintf(stderr, "wf validate: --type takes STANDARD or EXPRESS\n");
        return WF_EXIT_USAGE;
      }
      continue;
    }
    if (strcmp(a, "--") == 0) {
      first++;
      break;
    }
    if (a[0] == '-' && a[1]) {
      fprintf(stderr, "wf validate: unknown option '%s'\n\n%s", a, USAGE);
      return WF_EXIT_USAGE;
    }
    break;
  }
  if (first >= argc) {
    fprintf(stderr, "wf validate: no FILE given\n\n%s", USAGE);
    return WF_EXIT_USAGE;
  }
  int status = WF_EXIT_OK;
  for (int i = first; i < argc; i++) {
    int s = validate_one(argv[i], type);
    if (s > status) status = s;
  }
  fflush(stdout);
  return status;
}
