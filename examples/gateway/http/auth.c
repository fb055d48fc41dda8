/* API keys: the x-api-key header against the configured keys. */
#include <string.h>

#include "core.h"

/* Compares every byte of the configured key whatever the presented one
 * holds, so the time taken tells nothing about how much of it matched. */
static bool equal_ct(const char *presented, const char *key) {
  size_t np = strlen(presented), nk = strlen(key);
  unsigned char diff = np != nk;
  for (size_t i = 0; i < nk; i++)
    diff |= (unsigned char)(presented[np ? i % np : 0] ^ key[i]);
  return diff == 0;
}

gw_auth gw_auth_check(const gw_config *cfg, const gw_request *req,
                      const gw_api_key **who) {
  *who = NULL;
  if (!cfg->auth.napi_keys) return GW_AUTH_OPEN;
  const char *presented = gw_request_header(req, "x-api-key");
  if (!presented || !*presented) return GW_AUTH_MISSING;
  /* Every key is compared, so which one matched does not show either. */
  for (size_t i = 0; i < cfg->auth.napi_keys; i++)
    if (equal_ct(presented, cfg->auth.api_keys[i].key))
      *who = &cfg->auth.api_keys[i];
  return *who ? GW_AUTH_OK : GW_AUTH_INVALID;
}
