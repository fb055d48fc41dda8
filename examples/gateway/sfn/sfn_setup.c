/* The AWS API's part of start-up: Step Functions Local's MockConfigFile
 * (aws.mockConfigFile) goes into the engine, so that StartExecution with
 * "<machine ARN>#<test case>" runs that test case; the callback resources
 * get their handlers (sfn_tasks.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfn.h"

/* A mock configuration is a few kilobytes; this bounds a wrong file. */
#define MOCK_MAX_BYTES (16u << 20)

static char *slurp(const char *path, char *msg, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(msg, n, "aws.mockConfigFile: %s: %s", path, strerror(errno));
    return NULL;
  }
  char *text = malloc(MOCK_MAX_BYTES + 1);
  size_t len = text ? fread(text, 1, MOCK_MAX_BYTES + 1, f) : 0;
  bool bad = !text || ferror(f) || len > MOCK_MAX_BYTES;
  fclose(f);
  if (bad) {
    snprintf(msg, n, "aws.mockConfigFile: %s: %s", path,
             !text                  ? "out of memory"
             : len > MOCK_MAX_BYTES ? "larger than 16 MiB"
                                    : "read error");
    free(text);
    return NULL;
  }
  text[len] = '\0';
  return text;
}

int gw_sfn_setup(gw_server *srv, char *msg, size_t msg_size) {
  const char *path = srv->g.cfg->aws.mock_config_file;
  if (path) {
    char *text = slurp(path, msg, msg_size);
    if (!text) return -1;
    wf_error err;
    int rc = wf_engine_set_mock_config(srv->g.engine, text, &err);
    free(text);
    if (rc != WF_OK) {
      snprintf(msg, msg_size, "aws.mockConfigFile: %s: %s", path, err.message);
      return -1;
    }
  }
  return gw_sfn_tasks_register(srv, msg, msg_size) ||
                 gw_sfn_nested_register(srv, msg, msg_size)
             ? -1
             : 0;
}
