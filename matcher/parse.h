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

/* The value of hex digit c (either case), or -1.  Inline: the IPv6 and
 * %XX parsers call it per character on every request. */
static inline int
parse_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Returns a malloc'd copy of s[0..len) with a terminating NUL, or NULL when
 * out of memory. */
char *parse_strndup(const char *s, size_t len);

/* Returns s with leading and trailing blanks (space, tab) removed; *len is
 * updated.  The result points into s. */
const char *parse_trim(const char *s, size_t *len);

#endif
