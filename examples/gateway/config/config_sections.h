/* The configuration's sections, split by what they configure: the server
 * (config_server.c) and the workflows it runs (config_workflow.c). Each
 * reads its part of the parsed file into cfg, defaults already set. */
#ifndef GW_CONFIG_SECTIONS_H
#define GW_CONFIG_SECTIONS_H

#include <jansson.h>

#include "config.h"
#include "config_read.h"

int gw_config_read_server(gw_cfgx *c, gw_config *cfg, json_t *root);
int gw_config_read_workflow(gw_cfgx *c, gw_config *cfg, json_t *root);
void gw_config_free_workflow(gw_config *cfg);
void gw_config_free_server(gw_config *cfg);
int gw_config_read_http(gw_cfgx *c, gw_config *cfg, json_t *root);
void gw_config_free_http(gw_config *cfg);
int gw_config_read_object_store(gw_cfgx *c, gw_config *cfg, json_t *root);
void gw_config_free_object_store(gw_config *cfg);

#endif
