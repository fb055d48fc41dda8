/* A small HTTP server in the test process for the HTTP Task's tests
 * (libmicrohttpd on 127.0.0.1, an ephemeral port, a thread per
 * connection). Its routes:
 *   /echo...      200, JSON: {"method","uri" (raw, query included),
 *                 "headers" (names lowercased),"body" (text)}
 *   /text         200, text/plain "plain words", X-Multi sent twice
 *   /status/NNN   NNN, JSON {"status":NNN} (a reason phrase MHD knows)
 *   /flaky        500 on its first call, then 200 {"ok":true}
 *   /hold         answers only once hts_release() is called (or at stop)
 *   /token        an OAuth token endpoint: client "client-id" with secret
 *                 HTS_CLIENT_SECRET (HTTP Basic) and grant_type
 *                 client_credentials give {"access_token":"token-N",...};
 *                 anything else 401 */
#ifndef HTS_HTTP_SERVER_H
#define HTS_HTTP_SERVER_H

#define HTS_CLIENT_SECRET "oauth-client-secret-42"

typedef struct hts_server hts_server;

/* Start one; NULL when it cannot. */
hts_server *hts_start(void);
int hts_port(const hts_server *s);
/* Calls of /token so far. */
int hts_token_calls(hts_server *s);
/* Wait until `n` /hold requests have arrived. */
void hts_wait_held(hts_server *s, int n);
/* Let every held /hold request answer. */
void hts_release(hts_server *s);
/* Release what is held and stop. Accepts NULL. */
void hts_stop(hts_server *s);
/* A server on 127.0.0.1 answering one connection with `reply`, bytes as
 * they are (a malformed answer), then closing; returns its port, or -1.
 * `reply` must outlive the answer. */
int hts_raw_once(const char *reply);
/* A port on 127.0.0.1 where nothing listens (bound, then closed). */
int hts_closed_port(void);

#endif
