/* GET /health: a liveness and readiness probe. 200 while serving, 503
 * once shutting down, so a load balancer stops sending work. */
#include "core.h"

void gw_route_health(gateway *g, const gw_request *req, gw_response *resp) {
  (void)req;
  gw_server *srv = gw_server_of(g);
  bool draining = atomic_load(&srv->draining);
  /* Counted up to a bound: a probe must stay cheap. */
  size_t running = g->store->ops->count_running(g->store, NULL, 100000);
  json_t *o = json_pack(
      "{s:s, s:s, s:I, s:I}", "status", draining ? "draining" : "ok",
      "version", wf_version_string(), "uptimeSeconds",
      (json_int_t)((gw_now_ms() - srv->started_ms) / 1000),
      "runningExecutions", (json_int_t)running);
  gw_respond_json(resp, draining ? 503 : 200, o);
}
