/* siphash.c - see siphash.h.  Written out: SipHash-2-4 is forty lines,
 * and no library Debian ships exposes it for general use. */
#include "siphash.h"

#include <sys/random.h>
#include <sys/types.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void
sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

static void
sip_absorb(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

uint64_t
siphash24(const uint64_t key[2], const void *data, size_t len)
{
	uint64_t v[4] = {
		key[0] ^ 0x736f6d6570736575u, key[1] ^ 0x646f72616e646f6du,
		key[0] ^ 0x6c7967656e657261u, key[1] ^ 0x7465646279746573u
	};
	const unsigned char *s = data;
	uint64_t m = 0;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (size_t j = 0; j < 8; j++)
			m |= (uint64_t)s[i + j] << (8 * j);
		sip_absorb(v, m);
	}
	m = (uint64_t)len << 56;
	for (size_t j = 0; i + j < len; j++)
		m |= (uint64_t)s[i + j] << (8 * j);
	sip_absorb(v, m);
	v[2] ^= 0xff;
	for (int k = 0; k < 4; k++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

int
siphash_key(uint64_t key[2])
{
	return getrandom(key, 2 * sizeof(key[0]), 0) ==
	    (ssize_t)(2 * sizeof(key[0])) ? 0 : -1;
}
