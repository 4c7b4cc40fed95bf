/* host.h - what a host is: query normalisation and pattern syntax.
 * DESIGN.md §3: lower-case, one trailing dot stripped, [v6] brackets removed,
 * IPv4-mapped IPv6 treated as IPv4; anything else that is not a host name or
 * an IP literal is no match, with a reason. */
#ifndef M365_HOST_H
#define M365_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "prefix.h"

#define HOST_NAME_MAX_LEN 253
#define HOST_LABEL_MAX_LEN 63

enum host_kind {
	HOST_INVALID,
	HOST_NAME,
	HOST_IP
};

struct host_query {
	enum host_kind kind;
	char name[HOST_NAME_MAX_LEN + 1];  /* HOST_NAME: lower case, NUL-ended */
	size_t len;
	struct ip_addr addr;               /* HOST_IP only */
	bool v4;                           /* HOST_IP: IPv4 or IPv4-mapped */
	const char *reason;                /* HOST_INVALID: static text */
};

/* Normalises in[0..len) into *q.  Never fails: an unusable query comes back
 * as HOST_INVALID with a reason.  Allocation free. */
void host_normalise(const char *in, size_t len, struct host_query *q);

/* The last label of name[0..len) (the whole name when it has no dot);
 * borrowed, it ends at name + len. */
const char *host_last_label(const char *name, size_t len);

/* Whether the label starting at label (ended by '.' or NUL) is a number
 * as inet_aton reads one: decimal, octal or 0x-hex digits.  A name whose
 * last label is a number is an address to glibc's resolver ("10.1",
 * "0x0a.0.0.1", "3232235777"), so it is never a host name.  With glob, the
 * label is a pattern's: true when its '*' and '?' could make it one. */
bool host_label_is_numeric(const char *label, bool glob);

/* What test a (checked, lower-case) pattern needs, the one answer every
 * table and writer uses: EXACT, no wildcard; SUFFIX, leading '*'s and no
 * other wildcard, a plain string-suffix test of *suffix (set then; "*.x"
 * gives ".x", "*cdn.x" gives "cdn.x", "*" gives "", which every name
 * ends with); GLOB, a wildcard anywhere else, which needs a matcher. */
enum host_pattern_kind {
	HOST_PATTERN_EXACT,
	HOST_PATTERN_SUFFIX,
	HOST_PATTERN_GLOB
};

enum host_pattern_kind host_pattern_kind(const char *p, const char **suffix);

/* Checks a pattern (host name or shExpMatch glob with '*' and '?') and writes
 * its lower-case form to out (size >= len + 1).  Returns 0, or -1 with *why
 * set to a static reason. */
int host_pattern_check(const char *pat, size_t len, char *out,
    const char **why);

#endif
