/* parse.c - see parse.h. */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

const signed char parse_hex_table[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, -1, -1, -1, -1, -1, -1,
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

int
parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* One AS number, "AS" optional. */
static int
parse_asn(const char *s, size_t len, uint32_t *out, const char **why)
{
	uint64_t v;

	if (len >= 2 && (s[0] == 'A' || s[0] == 'a') &&
	    (s[1] == 'S' || s[1] == 's')) {
		s += 2;
		len -= 2;
	}
	if (parse_uint(s, len, UINT32_MAX, &v) != 0) {
		*why = "not an AS number (8075, AS8075 or a range 8068-8075; "
		    "at most 4294967295)";
		return -1;
	}
	if (v == 0) {
		*why = "AS 0 is reserved and originates nothing";
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int
parse_asn_range(const char *s, size_t len, uint32_t *lo, uint32_t *hi,
    const char **why)
{
	const char *dash = memchr(s, '-', len);
	size_t n = dash != NULL ? (size_t)(dash - s) : len;

	if (parse_asn(s, n, lo, why) != 0)
		return -1;
	if (dash == NULL) {
		*hi = *lo;
		return 0;
	}
	if (parse_asn(dash + 1, len - n - 1, hi, why) != 0)
		return -1;
	if (*hi < *lo) {
		*why = "range ends before it starts";
		return -1;
	}
	return 0;
}

int
parse_millis(const char *s, size_t len, uint64_t max_ms, uint64_t *out)
{
	const char *dot = memchr(s, '.', len);
	size_t ilen = dot != NULL ? (size_t)(dot - s) : len;
	size_t flen = dot != NULL ? len - ilen - 1 : 0;
	uint64_t whole, frac = 0, scale = 100;

	if (parse_uint(s, ilen, max_ms / 1000, &whole) != 0 || flen > 3 ||
	    (dot != NULL && flen == 0))
		return -1;
	for (size_t i = 0; i < flen; i++, scale /= 10) {
		if (dot[1 + i] < '0' || dot[1 + i] > '9')
			return -1;
		frac += (uint64_t)(dot[1 + i] - '0') * scale;
	}
	if (whole * 1000 + frac > max_ms)
		return -1;
	*out = whole * 1000 + frac;
	return 0;
}

char *
parse_strndup(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

const char *
parse_trim(const char *s, size_t *len)
{
	size_t n = *len;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	*len = n;
	return s;
}
