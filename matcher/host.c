/* host.c - see host.h. */
#include "host.h"

#include <stdint.h>
#include <string.h>

#include "lanes.h"

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

/* The same check for a query of at most HOST_LABEL_MAX_LEN characters
 * (no label can be too long then), the usual case, 16 bytes at a time
 * (lanes.h): each byte class is a lane mask; dots also become a bit mask,
 * from which the empty labels and the last label are read without
 * another pass.  What it finds out about a query: */
struct shape {
	const char *why;        /* scan's answer */
	size_t last;            /* where its last label starts */
	bool maybe_ip;          /* a ':', or no letter, '-' or '_' */
};

/* The masks of a query while scan_short reads it. */
struct lanes {
	lanes16 bad, word, colon;
	uint64_t dots;          /* bit i: a dot at i */
};

/* Lower-cases the 16 bytes *v of a query and adds their classes to l;
 * returns their dots, bit i for lane i. */
static uint32_t
scan_chunk(bytes16 *v, struct lanes *l)
{
	lanes16 w, dot;

	*v |= (bytes16)((*v >= 'A') & (*v <= 'Z')) & 0x20;
	w = ((*v >= 'a') & (*v <= 'z')) | (*v == '-') | (*v == '_');
	dot = *v == '.';
	l->bad |= ~(w | dot | ((*v >= '0') & (*v <= '9')));
	l->word |= w;
	l->colon |= *v == ':';
	return lane_bits(dot);
}

/* scan(in, len, out, false, ...) for 0 < len <= HOST_LABEL_MAX_LEN; out
 * must have room for max(len + 1, 16) bytes.  Every byte is read straight
 * from the input, in chunks that may overlap (the same bytes twice change
 * no mask), so that no load waits on a store. */
static void
scan_short(const char *in, size_t len, char *out, struct shape *s)
{
	struct lanes l = { { 0 }, { 0 }, { 0 }, 0 };
	bytes16 v;
	uint64_t w[2];
	uint32_t dots;

	if (len >= 16) {
		/* 16 bytes at a time, the last chunk ending at len */
		for (size_t o = 0;; o += 16) {
			if (o > len - 16)
				o = len - 16;
			memcpy(&v, in + o, sizeof(v));
			dots = scan_chunk(&v, &l);
			memcpy(out + o, &v, sizeof(v));
			l.dots |= (uint64_t)dots << o;
			if (o == len - 16)
				break;
		}
	} else if (len >= 8) {
		/* the first 8 bytes and the last 8 */
		memcpy(&w[0], in, 8);
		memcpy(&w[1], in + len - 8, 8);
		memcpy(&v, w, sizeof(v));
		dots = scan_chunk(&v, &l);
		memcpy(w, &v, sizeof(v));
		memcpy(out, &w[0], 8);
		memcpy(out + len - 8, &w[1], 8);
		l.dots = (dots & 0xff) | (uint64_t)(dots >> 8) << (len - 8);
	} else {
		/* after the end, digits: a class that changes no answer */
		memset(&v, '0', sizeof(v));
		memcpy(&v, in, len);
		l.dots = scan_chunk(&v, &l);
		memcpy(out, &v, sizeof(v));
	}
	out[len] = '\0';
	s->maybe_ip = lanes_any(l.colon) || !lanes_any(l.word);
	s->last = l.dots == 0 ? 0 : (size_t)(64 - __builtin_clzll(l.dots));
	if (lanes_any(l.bad))
		s->why = "character not allowed in a host name";
	else if ((l.dots & 1) != 0 || (l.dots & l.dots >> 1) != 0 ||
	    s->last == len)
		s->why = "empty label";
	else
		s->why = NULL;
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

const char *
host_last_label(const char *name, size_t len)
{
	const char *p = name + len;

	while (p > name && p[-1] != '.')
		p--;
	return p;
}

/* The numbers inet_aton reads, [0-9]+ | 0x[0-9a-f]* (decimal, octal, hex;
 * glibc refuses "08" as octal, but any resolver reads it as a number, not
 * a name), as a small automaton over lower-case characters: states are
 * bits, so a set of states is a mask. */
enum {
	N_START = 1, N_ZERO = 2, N_DEC = 4, N_X = 8, N_HEX = 16,
	N_NUMBER = N_ZERO | N_DEC | N_X | N_HEX
};

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The states reached from states on character c. */
static unsigned
number_step(unsigned states, char c)
{
	unsigned next = 0;
	bool digit = c >= '0' && c <= '9';

	if ((states & N_START) && digit)
		next |= c == '0' ? N_ZERO : N_DEC;
	if ((states & (N_ZERO | N_DEC)) && digit)
		next |= N_DEC;
	if ((states & N_ZERO) && c == 'x')
		next |= N_X;
	if ((states & (N_X | N_HEX)) && is_hex(c))
		next |= N_HEX;
	return next;
}

/* The states reached from states on any one character. */
static unsigned
number_step_any(unsigned states)
{
	static const char reps[] = "01ax"; /* one of each class that counts */
	unsigned next = 0;

	for (size_t i = 0; i < sizeof(reps) - 1; i++)
		next |= number_step(states, reps[i]);
	return next;
}

bool
host_label_is_numeric(const char *label, bool glob)
{
	unsigned states = N_START;

	/* written out because no library answers "could this glob match a
	 * number": a run over the label with the set of automaton states */
	for (const char *p = label; *p != '\0' && *p != '.'; p++) {
		if (glob && *p == '*') {
			unsigned prev;

			do {    /* any run of characters: the closure */
				prev = states;
				states |= number_step_any(states);
			} while (states != prev);
		} else if (glob && *p == '?') {
			states = number_step_any(states);
		} else {
			states = number_step(states, (char)(*p | 0x20));
		}
		if (states == 0)
			return false;   /* "com": decided at the first letter */
	}
	return (states & N_NUMBER) != 0;
}

void
host_normalise(const char *in, size_t len, struct host_query *q)
{
	const char *why, *last;
	unsigned seen;
	struct shape s = { NULL, 0, true };
	bool dot = false, scanned = false, starts_ip;

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
	if (len > 0 && in[len - 1] == '.') {
		len--;
		dot = true;
	}
	if (len == 0) {
		set_invalid(q, "empty host");
		return;
	}
	if (len > HOST_NAME_MAX_LEN) {
		set_invalid(q, "host name longer than 253 characters");
		return;
	}
	starts_ip = (in[0] >= '0' && in[0] <= '9') || in[0] == ':';
	/* addresses first, straight from the input: the parsers reject a
	 * name within a character or two.  But a name starting with a hex
	 * letter ("cdn", "autodiscover") is checked first, and parsed as an
	 * address only when it may be one: a ':', or only digits and dots */
	if (len <= HOST_LABEL_MAX_LEN && !starts_ip) {
		scan_short(in, len, q->name, &s);
		scanned = true;
	}
	if ((!scanned || s.maybe_ip) && may_be_ip(in[0]) &&
	    ip_parse(in, len, &q->addr, &q->v4) == 0) {
		if (dot) {      /* no resolver agrees on what "1.2.3.4." is */
			set_invalid(q, "IP address with a trailing dot");
			return;
		}
		q->kind = HOST_IP;
		q->name[0] = '\0';     /* scan_short wrote it */
		return;
	}
	if (len <= HOST_LABEL_MAX_LEN) {
		if (!scanned)
			scan_short(in, len, q->name, &s);
		why = s.why;
		last = q->name + s.last;
	} else {
		why = scan(in, len, q->name, false, &seen);
		last = host_last_label(q->name, len);
	}
	/* a number starts with a digit: most names are done at "c" of com */
	if (why == NULL && *last >= '0' && *last <= '9' &&
	    host_label_is_numeric(last, false))
		why = "not a host name: the last label is a number, so "
		    "resolvers read it as an IPv4 address";
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

enum host_pattern_kind
host_pattern_kind(const char *p, const char **suffix)
{
	const char *rest = p + strspn(p, "*");

	if (strpbrk(rest, "*?") != NULL)
		return HOST_PATTERN_GLOB;
	if (rest == p)
		return HOST_PATTERN_EXACT;
	if (suffix != NULL)
		*suffix = rest;
	return HOST_PATTERN_SUFFIX;
}
