/* host.c - see host.h. */
#include "host.h"

#include <string.h>

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '_';
}

/* Checks the labels of a lower-case name: 1..63 characters each, from
 * [a-z0-9_-] (and the glob characters when glob). */
static const char *
check_labels(const char *s, size_t len, bool glob)
{
	size_t label = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return "empty label";
			label = 0;
			continue;
		}
		if (!is_name_char(c) && !(glob && (c == '*' || c == '?')))
			return "character not allowed in a host name";
		if (++label > HOST_LABEL_MAX_LEN && !glob)
			return "label longer than 63 characters";
	}
	if (label == 0)
		return "empty label";
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

void
host_normalise(const char *in, size_t len, struct host_query *q)
{
	const char *why;

	q->reason = NULL;
	if (len >= 2 && in[0] == '[' && in[len - 1] == ']') {
		/* brackets hold an IPv6 literal only (::ffff:a.b.c.d included) */
		in++;
		len -= 2;
		if (memchr(in, ':', len) == NULL ||
		    ip_parse(in, len, &q->addr, &q->v4) != 0) {
			set_invalid(q, "invalid IPv6 literal");
			return;
		}
	} else if (len > 0 && in[len - 1] == '.') {
		len--;
	}
	if (len == 0) {
		set_invalid(q, "empty host");
		return;
	}
	if (len > HOST_NAME_MAX_LEN) {
		set_invalid(q, "host name longer than 253 characters");
		return;
	}
	for (size_t i = 0; i < len; i++)
		q->name[i] = lower(in[i]);
	q->name[len] = '\0';
	q->len = len;
	if (ip_parse(q->name, len, &q->addr, &q->v4) == 0) {
		q->kind = HOST_IP;
		return;
	}
	why = check_labels(q->name, len, false);
	if (why != NULL) {
		set_invalid(q, why);
		return;
	}
	q->kind = HOST_NAME;
}

int
host_pattern_check(const char *pat, size_t len, char *out, const char **why)
{
	if (len == 0) {
		*why = "empty pattern";
		return -1;
	}
	if (len > HOST_NAME_MAX_LEN) {
		*why = "pattern longer than 253 characters";
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		out[i] = lower(pat[i]);
	out[len] = '\0';
	*why = check_labels(out, len, true);
	return *why == NULL ? 0 : -1;
}
