/* UTF-8 decoding, shared by the text checker and by messages that quote
 * parts of the input. */
#ifndef PD_UTF8_H
#define PD_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode one code point at s[*i] and advance *i. Returns false (leaving
 * *i) for truncated or overlong sequences, UTF-16 surrogates and values
 * past U+10FFFF (RFC 3629). */
bool pd_utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *out);

/* Drop, in place, the bytes of `s` that are not well-formed UTF-8: a
 * message truncated to fit a buffer (or quoting "%.40s" of the input) may
 * end in the middle of a character, and JSON text cannot carry that. */
void pd_utf8_scrub(char *s);

#endif
