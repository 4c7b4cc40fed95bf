/* siphash.h - SipHash-2-4 (Aumasson and Bernstein), a keyed hash: with a
 * random key per process, chosen inputs cannot be made to collide, so a
 * table keyed by it cannot be flooded into one bucket or made to mix up
 * two entries' fates. */
#ifndef M365_SIPHASH_H
#define M365_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit SipHash-2-4 of data[0..len) under key. */
uint64_t siphash24(const uint64_t key[2], const void *data, size_t len);

/* Fills key from the kernel's random source.  Returns 0, or -1 with errno
 * set. */
int siphash_key(uint64_t key[2]);

#endif
