/* parse.h - the one checked number parser and small string helpers.
 * No atoi/strtol surprises: every parser says exactly what it accepted. */
#ifndef M365_PARSE_H
#define M365_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses the decimal digits s[0..len) into *out.  Returns 0, or -1 when the
 * text is empty, holds a non-digit, or the value exceeds max. */
int parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out);

/* Parses seconds with an optional fraction ("2", "0.05", "1.5") into
 * milliseconds, at most max_ms.  Returns 0, or -1 when the text is not
 * such a number or too large. */
int parse_millis(const char *s, size_t len, uint64_t max_ms, uint64_t *out);

/* Parses an AS number or an inclusive range of them: "8075", "AS8075"
 * (any case), "8068-8075", "AS8068-AS8075"; 1..4294967295 (AS 0 is
 * reserved, RFC 7607).  Returns 0 with *lo <= *hi, or -1 with a static
 * reason in *why. */
int parse_asn_range(const char *s, size_t len, uint32_t *lo, uint32_t *hi,
    const char **why);

/* parse_hex_table[c]: the value of hex digit c (either case), or -1. */
extern const signed char parse_hex_table[256];

/* The value of hex digit c, or -1.  A table lookup, inline: the IPv6 and
 * %XX parsers call it per character on every request. */
static inline int
parse_hex_digit(char c)
{
	return parse_hex_table[(unsigned char)c];
}

/* Returns a malloc'd copy of s[0..len) with a terminating NUL, or NULL when
 * out of memory. */
char *parse_strndup(const char *s, size_t len);

/* Returns s with leading and trailing blanks (space, tab) removed; *len is
 * updated.  The result points into s. */
const char *parse_trim(const char *s, size_t *len);

#endif
