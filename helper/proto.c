/* proto.c - see proto.h. */
#include "proto.h"

#include <stdint.h>
#include <string.h>

#include "lanes.h"
#include "parse.h"

int
proto_parse_fields(const char *spec, struct proto_fields *f, const char **why)
{
	static const char *const names[] = { "host", "port", "sni", "skip" };
	bool host = false;

	f->n = 0;
	while (*spec != '\0') {
		size_t len = strcspn(spec, ",");
		int role = -1;

		for (int i = 0; i < 4; i++)
			if (strlen(names[i]) == len && memcmp(spec, names[i], len) == 0)
				role = i;
		if (role < 0) {
			*why = "unknown field role (expected host, port, sni, skip)";
			return -1;
		}
		if (f->n == PROTO_MAX_FIELDS) {
			*why = "too many fields";
			return -1;
		}
		host |= role == PROTO_HOST;
		f->role[f->n++] = (enum proto_role)role;
		spec += len;
		spec += *spec == ',';
	}
	if (!host) {
		*why = "the fields must name host (the destination): the SNI "
		    "alone never makes a connection direct";
		return -1;
	}
	return 0;
}

/* Decodes %XX escapes of s[0..len) into out (PROTO_MAX_VALUE bytes);
 * escaped: whether s has a '%' at all. */
static int
decode(const char *s, size_t len, bool escaped, char *out, size_t *olen,
    const char **why)
{
	const char *pct = escaped ? memchr(s, '%', len) : NULL;
	size_t n;

	if (len >= PROTO_MAX_VALUE) {
		*why = "field too long";
		return -1;
	}
	if (pct == NULL) {              /* the common case: nothing escaped */
		memcpy(out, s, len);
		out[len] = '\0';
		*olen = len;
		return 0;
	}
	n = (size_t)(pct - s);
	memcpy(out, s, n);
	for (size_t i = n; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi = -1, lo = -1;

			if (i + 2 < len) {
				hi = parse_hex_digit(s[i + 1]);
				lo = parse_hex_digit(s[i + 2]);
			}
			if (hi < 0 || lo < 0) {
				*why = "invalid %-escape";
				return -1;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	*olen = n;
	return 0;
}

static bool
is_id(const char *s, size_t len)
{
	if (len == 0 || len > PROTO_MAX_ID)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

size_t
proto_line_id(const char *line, size_t len)
{
	size_t n = 0;

	while (n < len && n <= PROTO_MAX_ID && line[n] != ' ')
		n++;
	return is_id(line, n) ? n : 0;
}

/* The bytes of the 8 at p (as a little- or big-endian word would hold
 * them) that are not '0'..'9', as the high bit of each byte: no byte
 * carries into the next, since each sum stays below 0x100. */
static uint64_t
non_digits(const char *p)
{
	const uint64_t high = 0x8080808080808080u, low7 = 0x7f7f7f7f7f7f7f7fu;
	uint64_t w, t, ge0, gt9;

	memcpy(&w, p, 8);
	t = w & low7;
	ge0 = (t + 0x5050505050505050u) & high;         /* >= '0' */
	gt9 = (t + 0x4646464646464646u) & high;         /* > '9' */
	return ~(ge0 & ~gt9 & ~(w & high)) & high;
}

size_t
proto_line_id_wide(const char *line, size_t len)
{
	size_t n = 0;

	_Static_assert(PROTO_ID_SLACK >= PROTO_MAX_ID + 1 &&
	    PROTO_ID_SLACK % 8 == 0, "the words cover an ID and its space");
	/* the first byte that is not a digit, in the words of the slack */
	for (; n < PROTO_ID_SLACK; n += 8) {
		uint64_t m = non_digits(line + n);

		if (m != 0) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			n += (size_t)__builtin_clzll(m) / 8;
#else
			n += (size_t)__builtin_ctzll(m) / 8;
#endif
			break;
		}
	}
	if (n >= len)           /* digits to the end: all of it the ID */
		return len <= PROTO_MAX_ID ? len : 0;
	return n > 0 && n <= PROTO_MAX_ID && line[n] == ' ' ? n : 0;
}

/* Where the token at line[p..len) ends (its first ' ', else len), and in
 * *pct whether a '%' comes before: 16 bytes at a time (lanes.h), every
 * read within the line; the last chunk ends at len, its lanes before p
 * shifted out. */
static size_t
token_end(const char *line, size_t p, size_t len, bool *pct)
{
	uint32_t sp = 0, pc = 0;
	bytes16 v;

	for (; len - p >= 16; p += 16) {
		memcpy(&v, line + p, sizeof(v));
		sp = lane_bits(v == ' ');
		pc = lane_bits(v == '%');
		if (sp != 0)
			break;
		*pct |= pc != 0;
	}
	if (sp == 0 && p < len) {
		if (len >= 16) {
			unsigned before = 16 - (unsigned)(len - p);

			memcpy(&v, line + len - 16, sizeof(v));
			sp = lane_bits(v == ' ') >> before;
			pc = lane_bits(v == '%') >> before;
		} else {
			for (size_t i = p; i < len; i++) {
				sp |= (uint32_t)(line[i] == ' ') << (i - p);
				pc |= (uint32_t)(line[i] == '%') << (i - p);
			}
		}
	}
	if (sp == 0) {
		*pct |= pc != 0;
		return len;
	}
	*pct |= (pc & ((sp & (0u - sp)) - 1)) != 0;    /* before the space */
	return p + (size_t)__builtin_ctz(sp);
}

/* The next space-separated token of line[*pos..len); *pct: whether it
 * has a '%'. */
static bool
next_token(const char *line, size_t len, size_t *pos, const char **tok,
    size_t *tlen, bool *pct)
{
	size_t p = *pos;

	while (p < len && line[p] == ' ')
		p++;
	if (p == len)
		return false;
	*tok = line + p;
	*pct = false;
	p = token_end(line, p, len, pct);
	*tlen = (size_t)(line + p - *tok);
	*pos = p;
	return true;
}

static int
parse_port(const char *v, size_t len, int *port, const char **why)
{
	uint64_t n;

	if (len == 1 && v[0] == '-')
		return 0;
	if (parse_uint(v, len, 65535, &n) != 0) {
		*why = "invalid port";
		return -1;
	}
	*port = n == 0 ? -1 : (int)n;   /* 0: Squid did not know */
	return 0;
}

int
proto_parse_line(const struct proto_fields *f, bool concurrency,
    const char *line, size_t len, struct proto_request *req,
    const char **why)
{
	size_t pos = 0, tlen, vlen;
	const char *tok;
	bool have_host = false, pct = false;

	req->id = NULL;
	req->id_len = 0;
	req->host_len = 0;
	req->sni_len = 0;
	req->has_sni = false;
	req->port = -1;
	if (concurrency) {
		if (!next_token(line, len, &pos, &tok, &tlen, &pct) ||
		    !is_id(tok, tlen)) {
			*why = "invalid channel ID";
			return -1;
		}
		req->id = tok;
		req->id_len = tlen;
	}
	/* tokens beyond the list (Squid's implicit %DATA "-") are ignored */
	for (size_t i = 0; i < f->n && next_token(line, len, &pos, &tok, &tlen,
	    &pct);
	    i++) {
		char val[PROTO_MAX_VALUE];
		char *dst = f->role[i] == PROTO_HOST ? req->host :
		    f->role[i] == PROTO_SNI ? req->sni : val;

		if (f->role[i] == PROTO_SKIP)
			continue;
		if (decode(tok, tlen, pct, dst, &vlen, why) != 0)
			return -1;
		if (f->role[i] == PROTO_PORT) {
			if (parse_port(val, vlen, &req->port, why) != 0)
				return -1;
		} else if (vlen == 1 && dst[0] == '-') {
			continue;       /* absent */
		} else if (f->role[i] == PROTO_SNI) {
			req->sni_len = vlen;
			req->has_sni = true;
		} else {
			req->host_len = vlen;
			have_host = true;
		}
	}
	if (!have_host) {
		*why = "missing host";
		return -1;
	}
	return 0;
}

/* --- answers ----------------------------------------------------------- */

static char *
put(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* put() for a string literal: its length is known at compile time. */
#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static char *
put_id(char *p, const char *id, size_t id_len)
{
	if (id_len == 0)
		return p;
	memcpy(p, id, id_len);
	p[id_len] = ' ';
	return p + id_len + 1;
}

static char *
put_int(char *p, int v)
{
	char tmp[16];
	size_t n = 0;
	unsigned u = (unsigned)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* The ids of the sets that count, once each, as m365_sets=1,2. */
static char *
put_sets(char *p, const struct m365_verdict *v)
{
	int ids[M365_VERDICT_MATCHES];
	size_t n = matcher_verdict_sets(v, ids, M365_VERDICT_MATCHES);

	for (size_t i = 0; i < n; i++) {
		p = i == 0 ? PUT_LIT(p, " m365_sets=") : PUT_LIT(p, ",");
		p = put_int(p, ids[i]);
	}
	return p;
}

size_t
proto_format_answer(char *out, const char *id, size_t id_len,
    const struct m365_identity *c)
{
	const struct m365_verdict *v = matcher_identity_basis(c);
	const char *reason = matcher_reason_name(c->reason);
	const char *message = c->dst.reason != NULL ? c->dst.reason :
	    c->has_sni ? c->sni.reason : NULL;
	char *p = put_id(out, id, id_len);

	if (c->direct)
		p = PUT_LIT(p, "OK m365=direct m365_category=");
	else
		p = PUT_LIT(p, "ERR m365=proxy m365_category=");
	p = put(p, c->custom ? "custom" : matcher_category_name(c->category));
	p = put_sets(p, v);
	if (v->never_direct)
		p = put(p, " m365_rule=never_direct");
	else if (v->extra_direct)
		p = put(p, " m365_rule=extra_direct");
	if (reason != NULL) {
		p = PUT_LIT(p, " m365_reason=");
		p = put(p, reason);
	}
	if (message != NULL) {
		p = put(p, c->dst.reason == NULL ? " message=\"SNI: " :
		    " message=\"");
		p = put(p, message);
		p = put(p, "\"");
	}
	*p++ = '\n';
	return (size_t)(p - out);
}

size_t
proto_format_error(char *out, const char *id, size_t id_len, const char *why)
{
	char *p = put_id(out, id, id_len);

	p = put(p, "ERR message=\"");
	p = put(p, why);
	p = put(p, "\"\n");
	return (size_t)(p - out);
}
