/* Keyed string hashing for hash tables whose keys come from clients
 * (execution names, task tokens, ARNs): SipHash-1-3 under a key drawn
 * from the system's generator once per process, so nobody can choose keys
 * that collide. */
#ifndef WF_HASH_H
#define WF_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The keyed hash of the NUL-terminated string s. Any thread. */
uint64_t wf__hash_str(const char *s);

#endif
