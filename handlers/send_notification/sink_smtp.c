/* The SMTP sink: EMAIL through a real SMTP conversation (EHLO, optional
 * STARTTLS and AUTH, MAIL FROM, RCPT TO, DATA) driven by libcurl, with an
 * RFC 5322 message built here. libcurl escapes leading dots in the data. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transfer.h"

#define MAX_LINE 998 /* RFC 5322, 2.1.1 */

static void add_base64(sn_text *t, const unsigned char *data, size_t n) {
  unsigned char out[4 * 57 / 3 + 1];
  for (size_t i = 0; i < n; i += 57) { /* 57 bytes: 76 characters a line */
    size_t chunk = n - i < 57 ? n - i : 57;
    int w = EVP_EncodeBlock(out, data + i, (int)chunk);
    sn_text_add(t, (const char *)out, (size_t)w);
    sn_text_adds(t, "\r\n");
  }
}

static bool plain_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) return false;
  return true;
}

/* Subject: as it is when printable ASCII, else RFC 2047 encoded words of
 * at most 45 bytes each (75 characters encoded), split between UTF-8
 * characters and folded onto continuation lines. Line breaks in the input
 * become spaces: a header value must not end the header. */
static void add_subject(sn_text *t, const char *subject) {
  char *flat = strdup(subject);
  if (!flat) {
    t->failed = true;
    return;
  }
  for (char *p = flat; *p; p++)
    if (*p == '\r' || *p == '\n' || *p == '\t') *p = ' ';
  sn_text_adds(t, "Subject: ");
  if (plain_ascii(flat) && strlen(flat) < MAX_LINE - 10) {
    sn_text_adds(t, flat);
  } else {
    size_t n = strlen(flat);
    for (size_t i = 0; i < n;) {
      size_t chunk = n - i < 45 ? n - i : 45;
      while (i + chunk < n && ((unsigned char)flat[i + chunk] & 0xc0) == 0x80)
        chunk--; /* never cut a multi-byte character */
      unsigned char enc[64];
      int w = EVP_EncodeBlock(enc, (const unsigned char *)flat + i,
                              (int)chunk);
      if (i) sn_text_adds(t, "\r\n ");
      sn_text_adds(t, "=?UTF-8?B?");
      sn_text_add(t, (const char *)enc, (size_t)w);
      sn_text_adds(t, "?=");
      i += chunk;
    }
  }
  sn_text_adds(t, "\r\n");
  free(flat);
}

/* A header value from outside (the correlation id): printable ASCII only,
 * bounded, so that it can neither break nor bloat the header block. */
static void add_token_header(sn_text *t, const char *name, const char *value) {
  char v[201];
  size_t n = 0;
  for (const char *p = value ? value : ""; *p && n < sizeof v - 1; p++)
    v[n++] = ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) ? '_' : *p;
  v[n] = '\0';
  sn_text_adds(t, name);
  sn_text_adds(t, ": ");
  sn_text_adds(t, v);
  sn_text_adds(t, "\r\n");
}

/* The body with CRLF line ends; 7bit or 8bit when every line fits the
 * SMTP line limit, base64 when one does not. */
static void add_body(sn_text *t, const char *body) {
  sn_text crlf = {0};
  size_t line = 0, longest = 0;
  bool ascii = true;
  for (const char *p = body; *p; p++) {
    if (*p == '\r' && p[1] == '\n') continue; /* CRLF: keep one pair */
    if (*p == '\n' || *p == '\r') {
      sn_text_add(&crlf, "\r\n", 2);
      line = 0;
      continue;
    }
    sn_text_add(&crlf, p, 1);
    ascii = ascii && (unsigned char)*p < 0x80;
    if (++line > longest) longest = line;
  }
  sn_text_add(&crlf, "", 0); /* never NULL below, even when empty */
  t->failed = t->failed || crlf.failed;
  if (t->failed) {
    sn_text_free(&crlf);
    return;
  }
  const char *encoding = longest > MAX_LINE ? "base64" : ascii ? "7bit" : "8bit";
  sn_text_adds(t, "MIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: ");
  sn_text_adds(t, encoding);
  sn_text_adds(t, "\r\n\r\n");
  if (longest > MAX_LINE) {
    add_base64(t, (const unsigned char *)crlf.s, crlf.len);
  } else {
    sn_text_add(t, crlf.s, crlf.len);
    if (crlf.len < 2 || strcmp(crlf.s + crlf.len - 2, "\r\n") != 0)
      sn_text_adds(t, "\r\n");
  }
  sn_text_free(&crlf);
}

static const char X_PRIORITY[SN_NPRIORITIES][2] = {"5", "3", "1"};

static char *build_message(const sn_smtp_config *s, const sn_message *m) {
  sn_text t = {0};
  char date[64], id[320];
  sn_rfc5322_date(m->time_ms, date, sizeof date);
  const char *domain = strrchr(s->from, '@');
  snprintf(id, sizeof id, "<%s@%s>", m->id, domain ? domain + 1 : "localhost");
  sn_text_adds(&t, "Date: ");
  sn_text_adds(&t, date);
  sn_text_adds(&t, "\r\nFrom: ");
  sn_text_adds(&t, s->from);
  sn_text_adds(&t, "\r\nTo: ");
  sn_text_adds(&t, m->target->recipient);
  sn_text_adds(&t, "\r\nMessage-ID: ");
  sn_text_adds(&t, id);
  sn_text_adds(&t, "\r\n");
  add_subject(&t, m->subject);
  add_token_header(&t, "X-Correlation-Id", m->request->correlation_id);
  sn_text_adds(&t, "X-Priority: ");
  sn_text_adds(&t, X_PRIORITY[m->request->priority]);
  sn_text_adds(&t, "\r\n");
  add_body(&t, m->body);
  return sn_text_take(&t);
}

typedef struct upload {
  const char *data;
  size_t len, pos;
} upload;

static size_t read_upload(char *buf, size_t size, size_t n, void *payload) {
  upload *u = payload;
  size_t room = size * n, left = u->len - u->pos;
  size_t take = left < room ? left : room;
  memcpy(buf, u->data + u->pos, take);
  u->pos += take;
  return take;
}

static const long USE_SSL[] = {CURLUSESSL_NONE, CURLUSESSL_TRY,
                               CURLUSESSL_ALL};

void sn_smtp_deliver(const sn_call *call, const sn_message *m,
                     sn_delivery *d) {
  const sn_smtp_config *s = &call->config->smtp;
  memset(d, 0, sizeof *d);
  char *msg = build_message(s, m);
  char from[320], rcpt[320];
  snprintf(from, sizeof from, "<%s>", s->from);
  snprintf(rcpt, sizeof rcpt, "<%s>", m->target->recipient);
  struct curl_slist *rcpts = msg ? curl_slist_append(NULL, rcpt) : NULL;
  sn_transfer t;
  if (!rcpts) {
    d->outcome = SN_FAILED;
    sn_fmt(d->detail, sizeof d->detail, "smtp: out of memory");
  } else if (sn_transfer_open(&t, call, s->url, s->connect_timeout_ms,
                              s->timeout_ms, d)) {
    upload u = {msg, strlen(msg), 0};
    CURL *c = t.curl;
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &u);
    curl_easy_setopt(c, CURLOPT_USE_SSL, USE_SSL[s->tls]);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, s->verify_peer ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, s->verify_peer ? 2L : 0L);
    if (s->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
    if (s->username) {
      curl_easy_setopt(c, CURLOPT_USERNAME, s->username);
      curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
    }
    long status;
    CURLcode rc = sn_transfer_perform(&t, &status);
    d->status = status;
    if (rc == CURLE_OK) {
      d->outcome = SN_DELIVERED;
      sn_fmt(d->detail, sizeof d->detail, "smtp: accepted (%ld)", status);
    } else if (status >= 400 && status < 600) {
      /* 5yz replies are permanent, 4yz transient (RFC 5321, 4.2.1). */
      d->outcome = status >= 500 ? SN_REJECTED : SN_FAILED;
      sn_fmt(d->detail, sizeof d->detail, "smtp: %s", t.error[0] ? t.error
             : curl_easy_strerror(rc));
    } else {
      sn_transfer_failed(&t, rc, "smtp", d);
    }
    sn_transfer_close(&t);
  }
  curl_slist_free_all(rcpts);
  free(msg);
}
