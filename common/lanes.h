/* lanes.h - 16 bytes at a time, for the loops every query runs through
 * (host.c's check of a query, proto.c's split of a request line): GCC's
 * vector extensions, which clang has too, give SIMD code where the
 * architecture has SIMD and plain code where not, from one source.  A
 * comparison gives a lane mask: each lane 0 or -1. */
#ifndef M365_LANES_H
#define M365_LANES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef unsigned char bytes16 __attribute__((vector_size(16)));
typedef signed char lanes16 __attribute__((vector_size(16)));

/* Bit i of the result: whether lane i of m is set, in plain C: a
 * multiply gathers the low bit of each byte of a word into its top byte. */
static inline uint32_t
lane_bits_portable(lanes16 m)
{
	uint64_t w[2];

	memcpy(w, &m, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w[0] = __builtin_bswap64(w[0]);         /* lane 0 the low byte */
	w[1] = __builtin_bswap64(w[1]);
#endif
	w[0] &= 0x0101010101010101u;
	w[1] &= 0x0101010101010101u;
	return (uint32_t)((w[0] * 0x0102040810204080u) >> 56) |
	    (uint32_t)((w[1] * 0x0102040810204080u) >> 56) << 8;
}

/* The same: x86-64 has one instruction for it (SSE2 is part of x86-64),
 * elsewhere the portable one. */
static inline uint32_t
lane_bits(lanes16 m)
{
#ifdef __SSE2__
	return (uint32_t)_mm_movemask_epi8((__m128i)m);
#else
	return lane_bits_portable(m);
#endif
}

/* Whether any lane of m is set. */
static inline bool
lanes_any(lanes16 m)
{
	uint64_t w[2];

	memcpy(w, &m, sizeof(w));
	return (w[0] | w[1]) != 0;
}

#endif
