/* Recipient validation with PCRE2. The patterns are compiled once at init
 * and then only read: a pcre2_code may be shared by threads, while the
 * match data is created per call (pcre2api(3), "Multithreading"). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "send_notification.h"

struct sn_recipients {
  pcre2_code *re[SN_NCHANNELS];
};

/* EMAIL: the practical subset of RFC 5322's addr-spec that mail systems
 * accept today: a dot-atom local part (no quoted strings, no comments) of
 * at most 64 octets, and a domain of LDH labels ending in an alphabetic
 * TLD, or an IPv4 address literal; 254 octets at most (RFC 5321, 4.5.3.1
 * with RFC 3696's erratum). */
static const char EMAIL_RE[] =
    "^(?=.{1,254}$)(?=[^@]{1,64}@)"
    "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    "@(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+"
    "[A-Za-z]{2,63}"
    "|\\[(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})\\.){3}"
    "(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})\\])$";

/* SMS: E.164 as written for gateways: "+", a country code that never
 * starts with 0, and 8 to 15 digits in all (ITU-T E.164, 6.1). */
static const char SMS_RE[] = "^\\+[1-9][0-9]{7,14}$";

/* PUSH: an APNs device token (32 bytes as 64 hex digits), or an FCM
 * registration token: an optional instance id and ':' before the
 * "APA91" body of URL-safe base64. */
static const char PUSH_RE[] =
    "^(?:[0-9A-Fa-f]{64}"
    "|(?:[A-Za-z0-9_-]{11,64}:)?APA91[A-Za-z0-9_-]{50,300})$";

static const char *const BUILTIN[SN_NCHANNELS] = {EMAIL_RE, SMS_RE, PUSH_RE};

static const char *const FORMS[SN_NCHANNELS] = {
    "an email address (local-part@domain)",
    "an E.164 phone number (+ and 8 to 15 digits)",
    "a device token (64 hex digits for APNs, or an FCM registration token)"};

const char *sn_recipient_form(sn_channel c) { return FORMS[c]; }

/* Compile anchored at both ends, so a pattern accepts whole recipients
 * only (a custom pattern need not say ^...$), and "a@b.com\n" is not an
 * address. */
static int compile(pcre2_code **out, const char *pattern, const char *path,
                   wf_error *err) {
  int code;
  PCRE2_SIZE offset;
  *out = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                       PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOLLAR_ENDONLY |
                           PCRE2_NEVER_BACKSLASH_C, &code,
                       &offset, NULL);
  if (*out) return WF_OK;
  PCRE2_UCHAR msg[256];
  pcre2_get_error_message(code, msg, sizeof msg);
  return sn_config_error(err, path, "pattern does not compile at offset %zu: "
                         "%s", (size_t)offset, (const char *)msg);
}

int sn_recipients_new(sn_recipients **out, json_t *patterns, wf_error *err) {
  *out = NULL;
  static const char *const known[] = {"EMAIL", "SMS", "PUSH", NULL};
  int rc = patterns ? sn_field_only(patterns, "/recipientPatterns", known,
                                    err)
                    : WF_OK;
  if (rc != WF_OK) return rc;
  sn_recipients *r = calloc(1, sizeof *r);
  if (!r) return WF_ENOMEM;
  for (int i = 0; i < SN_NCHANNELS && rc == WF_OK; i++) {
    char path[64];
    sn_fmt(path, sizeof path, "/recipientPatterns/%s",
             sn_channel_name((sn_channel)i));
    json_t *v = json_object_get(patterns, sn_channel_name((sn_channel)i));
    if (v && (!json_is_string(v) || json_string_length(v) == 0))
      rc = sn_config_error(err, path, "must be a non-empty string");
    else
      rc = compile(&r->re[i], v ? json_string_value(v) : BUILTIN[i], path,
                   err);
  }
  if (rc != WF_OK) {
    sn_recipients_free(r);
    return rc;
  }
  *out = r;
  return WF_OK;
}

void sn_recipients_free(sn_recipients *r) {
  if (!r) return;
  for (int i = 0; i < SN_NCHANNELS; i++) pcre2_code_free(r->re[i]);
  free(r);
}

bool sn_recipient_valid(const sn_recipients *r, sn_channel c, const char *s) {
  if (!s) return false;
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->re[c], NULL);
  if (!md) return false;
  int n = pcre2_match(r->re[c], (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
  pcre2_match_data_free(md);
  return n >= 0;
}

/* The forms are disjoint with the built-in patterns ("@" only in
 * addresses, "+" only in numbers), so the order only matters for custom
 * patterns: the first channel that accepts s wins. */
bool sn_recipient_infer(const sn_recipients *r, const char *s,
                        sn_channel *out) {
  for (int i = 0; i < SN_NCHANNELS; i++) {
    if (sn_recipient_valid(r, (sn_channel)i, s)) {
      *out = (sn_channel)i;
      return true;
    }
  }
  return false;
}
