/* The `objectStore` section: the local object store a Distributed Map's
 * ItemReader and ResultWriter read and write (Amazon S3's buckets as
 * directories under `root`; a relative root is resolved against the
 * configuration file's directory). Without it, a machine whose Map reads
 * or writes S3 objects does not start.
 *
 *   objectStore:
 *     root: /var/lib/wf-gateway/buckets   # ROOT/BUCKET/KEY
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "config_sections.h"

int gw_config_read_object_store(gw_cfgx *c, gw_config *cfg, json_t *root) {
  static const char *const known[] = {"root", NULL};
  json_t *o;
  char *dir = NULL;
  if (gw_cfg_object(c, root, "", "objectStore", &o)) return -1;
  if (!o) return 0;
  if (gw_cfg_only(c, o, "objectStore", known) ||
      gw_cfg_string(c, o, "objectStore", "root", &dir))
    return -1;
  if (!dir) return gw_cfg_fail(c, "objectStore.root", "is required");
  cfg->object_store_root = gw_cfg_resolve(c, dir);
  free(dir);
  if (!cfg->object_store_root)
    return gw_cfg_fail(c, "objectStore.root", "out of memory");
  struct stat st;
  if (stat(cfg->object_store_root, &st) != 0 || !S_ISDIR(st.st_mode))
    return gw_cfg_fail(c, "objectStore.root", "%s is not a directory",
                       cfg->object_store_root);
  return 0;
}

void gw_config_free_object_store(gw_config *cfg) {
  free(cfg->object_store_root);
}
