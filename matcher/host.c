/* host.c - see host.h. */
#include "host.h"

#include <string.h>

/* Character classes, for one pass over a query that lower-cases it and
 * finds out what it can be.  C_UPPER is 0x20 so that c | (class & C_UPPER)
 * lower-cases c. */
enum {
	C_BAD = 1,      /* never in a host name or IP literal */
	C_NAME = 2,     /* a letter, '-' or '_' */
	C_DIGIT = 4,
	C_DOT = 8,
	C_COLON = 16,
	C_UPPER = 32,   /* with C_NAME: 'A'..'Z' */
	C_GLOB = 64     /* '*' or '?' */
};

/* char_class[c] for every byte; a table because this runs per character
 * of every query. */
static const unsigned char char_class[256] = {
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1, 64,  1,  1,  2,  8,  1,
	 4,  4,  4,  4,  4,  4,  4,  4,  4,  4, 16,  1,  1,  1,  1, 64,
	 1, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34,
	34, 34, 34, 34, 34, 34, 34, 34, 34, 34, 34,  1,  1,  1,  1,  2,
	 1,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,
};

/* Lower-cases in[0..len) into out and checks it as a host name (or, with
 * glob, a pattern): labels of 1..63 characters from [a-z0-9_-] (and '*',
 * '?').  Returns the first problem or NULL; *classes gets every class
 * seen. */
static const char *
scan(const char *in, size_t len, char *out, bool glob, unsigned *classes)
{
	unsigned seen = 0, allowed = C_NAME | C_UPPER | C_DIGIT | C_DOT;
	size_t start = 0;               /* of the current label */
	bool long_label = false, empty_label = false;

	if (glob)
		allowed |= C_GLOB;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		unsigned k = char_class[c];

		out[i] = (char)(c | (k & C_UPPER));
		seen |= k;
		if (k == C_DOT) {
			empty_label |= i == start;
			long_label |= i - start > HOST_LABEL_MAX_LEN;
			start = i + 1;
		}
	}
	out[len] = '\0';
	empty_label |= len == start;
	long_label |= len - start > HOST_LABEL_MAX_LEN;
	*classes = seen;
	if (seen & ~allowed)
		return "character not allowed in a host name";
	if (empty_label)
		return "empty label";
	if (long_label && !glob)
		return "label longer than 63 characters";
	return NULL;
}

static void
set_invalid(struct host_query *q, const char *reason)
{
	q->kind = HOST_INVALID;
	q->reason = reason;
	q->len = 0;
	q->name[0] = '\0';
}

/* Whether text starting with c may be an IP literal: a hex digit or ':'. */
static bool
may_be_ip(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == ':';
}

void
host_normalise(const char *in, size_t len, struct host_query *q)
{
	const char *why;
	unsigned seen;

	q->reason = NULL;
	q->len = 0;
	q->name[0] = '\0';
	if (len >= 2 && in[0] == '[' && in[len - 1] == ']') {
		/* brackets hold an IPv6 literal only (::ffff:a.b.c.d included) */
		if (ip_parse_v6(in + 1, len - 2, &q->addr) != 0) {
			set_invalid(q, "invalid IPv6 literal");
			return;
		}
		q->kind = HOST_IP;
		q->v4 = ip_is_v4_mapped(&q->addr);
		return;
	}
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0) {
		set_invalid(q, "empty host");
		return;
	}
	if (len > HOST_NAME_MAX_LEN) {
		set_invalid(q, "host name longer than 253 characters");
		return;
	}
	/* addresses first, straight from the input: the parsers reject a
	 * name within a character or two */
	if (may_be_ip(in[0]) && ip_parse(in, len, &q->addr, &q->v4) == 0) {
		q->kind = HOST_IP;
		return;
	}
	why = scan(in, len, q->name, false, &seen);
	if (why != NULL) {
		set_invalid(q, why);
		return;
	}
	q->len = len;
	q->kind = HOST_NAME;
}

int
host_pattern_check(const char *pat, size_t len, char *out, const char **why)
{
	unsigned seen;

	if (len == 0) {
		*why = "empty pattern";
		return -1;
	}
	if (len > HOST_NAME_MAX_LEN) {
		*why = "pattern longer than 253 characters";
		return -1;
	}
	*why = scan(pat, len, out, true, &seen);
	return *why == NULL ? 0 : -1;
}
