/* The AWS Step Functions API until its module (sfn_api.c) is linked: every
 * operation is unknown. Weak, so sfn_api.c's gw_route_sfn replaces it
 * without this file being removed. */
#include "core.h"

__attribute__((weak)) void gw_route_sfn(gateway *g, const gw_request *req,
                                        gw_response *resp) {
  (void)g;
  (void)req;
  gw_sfn_error(resp, 400, "UnknownOperationException",
               "this gateway does not serve the Step Functions API");
}
