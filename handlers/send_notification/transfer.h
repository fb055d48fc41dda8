/* The libcurl side shared by the SMTP and webhook sinks: one easy handle
 * per delivery with the timeouts, cancellation and error text every
 * network sink needs. */
#ifndef SN_TRANSFER_H
#define SN_TRANSFER_H

#include <curl/curl.h>

#include "send_notification.h"

typedef struct sn_transfer {
  CURL *curl;
  const sn_call *call;
  long connect_ms, timeout_ms; /* the limits in force, for causes */
  char error[CURL_ERROR_SIZE];
  char response[512]; /* the start of the response body (webhooks) */
  size_t response_len;
} sn_transfer;

/* A handle for url with the given limits, clamped to the task's deadline,
 * aborted when the task is cancelled. false: no memory (d filled). */
bool sn_transfer_open(sn_transfer *t, const sn_call *call, const char *url,
                      long connect_ms, long total_ms, sn_delivery *d);
/* Run it; the protocol's last response code in *status (0: none). */
CURLcode sn_transfer_perform(sn_transfer *t, long *status);
/* Fill d for a transfer libcurl reports as failed: which failures are
 * worth retrying (README.md, "Errors"). `what` names the sink. */
void sn_transfer_failed(const sn_transfer *t, CURLcode rc, const char *what,
                        sn_delivery *d);
void sn_transfer_close(sn_transfer *t);

#endif
