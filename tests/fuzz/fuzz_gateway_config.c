/* wf-gateway's configuration file: any YAML or JSON is taken or refused
 * with the field named, never a crash. Relative paths in it resolve in an
 * empty directory (its definitions and plugins are not found). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_support.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/wf-fuzz-config-XXXXXX";
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (!mkdtemp(dir)) abort();
  snprintf(path, sizeof path, "%s/gateway.yaml", dir);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (size && fwrite(data, 1, size, f) != size) abort();
  fclose(f);
  char msg[512] = "";
  gw_config *cfg = gw_config_load(path, msg, sizeof msg);
  if (cfg) gw_config_free(cfg);
  else FZ_CHECK(msg[0], "refused without a word");
  return 0;
}
