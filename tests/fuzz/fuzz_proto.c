/* fuzz_proto.c - libFuzzer target: arbitrary bytes as one Squid request
 * line, parsed with proto_parse_line under every --fields variant below,
 * with and without concurrency; what parses is looked up in the bundled
 * snapshot by the identity rule and answered with proto_format_answer,
 * what does not with proto_format_error.  Checks, besides the sanitizers:
 *   - the identity rule: a direct answer means the destination is direct
 *     on its own and so is the SNI when there is one;
 *   - no host that inet_aton reads as an address is taken for a name;
 *   - a parsed request is sane (ID of 1..20 digits taken from the line,
 *     host NUL-terminated and shorter than PROTO_MAX_VALUE, port -1..65535);
 *   - an answer fits PROTO_MAX_ANSWER, starts with the ID and a space when
 *     there is one, is OK or ERR (never BH) and is exactly one line;
 *   - the matcher's own IP literal parser (ip_parse) agrees with the C
 *     library's inet_pton on every decoded host and every slice of the
 *     input: same verdict (address or not), same address, IPv4-mapped
 *     IPv6 flagged as IPv4.
 * The input is also cut at its first LF and its last CR, as the helper
 * does.  Not part of "make check"; see README.md. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "host.h"
#include "matcher.h"
#include "prefix.h"
#include "proto.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

static const char *const field_specs[] = {
	"host,port", "host", "sni,host,port", "host,skip,port", "port,host",
	"sni,host", "skip,host,port,sni", "host,port,skip,skip,skip,skip,skip,skip",
	"sni,sni,host", "host,host,port,port",
};
#define N_SPECS (sizeof(field_specs) / sizeof(field_specs[0]))

static struct proto_fields fields[N_SPECS];
static struct m365_rules *rules;

static void
init(void)
{
	struct m365_config cfg;
	struct source src;
	char err[512];
	const char *why;

	for (size_t i = 0; i < N_SPECS; i++)
		CHECK(proto_parse_fields(field_specs[i], &fields[i], &why) == 0);
	config_init(&cfg);
	rules = source_compile(NULL, NULL, &cfg.policy, false, &src, err,
	    sizeof(err));
	CHECK(rules != NULL);
	config_free(&cfg);
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* ip_parse(s[0..len)) against inet_pton on a NUL-terminated copy. */
static void
check_ip_parse(const char *s, size_t len)
{
	char buf[64];
	unsigned char b[16] = { 0 };
	struct ip_addr a, want;
	bool v4 = false, lib_v4 = false;
	int ours, lib = 0;

	if (len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return;
	memcpy(buf, s, len);
	buf[len] = '\0';
	ours = ip_parse(s, len, &a, &v4) == 0;
	if (inet_pton(AF_INET, buf, b + 12) == 1) {
		b[10] = b[11] = 0xff;
		lib = lib_v4 = 1;
	} else if (inet_pton(AF_INET6, buf, b) == 1) {
		lib = 1;
		lib_v4 = memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
	}
	if (ours != lib) {
		fprintf(stderr, "ip_parse(\"%s\") = %s, inet_pton: %s\n", buf,
		    ours ? "address" : "not an address",
		    lib ? "address" : "not an address");
		abort();
	}
	if (!lib)
		return;
	want.hi = want.lo = 0;
	for (int i = 0; i < 8; i++) {
		want.hi = (want.hi << 8) | b[i];
		want.lo = (want.lo << 8) | b[i + 8];
	}
	CHECK(a.hi == want.hi && a.lo == want.lo);
	CHECK(v4 == lib_v4);
}

/* What inet_aton reads as an IPv4 address is never a host name. */
static void
check_not_a_name(const char *s, size_t len)
{
	char buf[300];
	struct in_addr a;
	struct host_query q;

	if (len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_aton(buf, &a) == 0)
		return;
	host_normalise(s, len, &q);
	CHECK(q.kind != HOST_NAME);
}

static void
check_answer(const char *out, size_t len, const char *id, size_t id_len)
{
	const char *rest = out;

	CHECK(len > 0 && len <= PROTO_MAX_ANSWER);
	CHECK(out[len - 1] == '\n');
	CHECK(memchr(out, '\n', len - 1) == NULL);
	CHECK(memchr(out, '\0', len) == NULL);
	if (id_len > 0) {
		CHECK(memcmp(out, id, id_len) == 0 && out[id_len] == ' ');
		rest = out + id_len + 1;
	}
	CHECK(strncmp(rest, "OK", 2) == 0 || strncmp(rest, "ERR", 3) == 0);
}

static void
one(const char *line, size_t len)
{
	char out[PROTO_MAX_ANSWER + 64];
	struct proto_request req;
	static struct m365_identity v;
	const char *why;

	for (size_t i = 0; i < N_SPECS; i++) {
		for (int conc = 0; conc < 2; conc++) {
			size_t n;

			why = NULL;
			if (proto_parse_line(&fields[i], conc, line, len, &req,
			    &why) != 0) {
				CHECK(why != NULL);
				CHECK(req.id_len == 0 || (req.id != NULL &&
				    req.id_len <= PROTO_MAX_ID &&
				    digits(req.id, req.id_len)));
				n = proto_format_error(out, req.id, req.id_len, why);
				check_answer(out, n, req.id, req.id_len);
				continue;
			}
			if (conc) {
				CHECK(req.id != NULL && req.id_len >= 1 &&
				    req.id_len <= PROTO_MAX_ID);
				CHECK(req.id >= line && req.id + req.id_len <= line + len);
				CHECK(digits(req.id, req.id_len));
			} else {
				CHECK(req.id_len == 0);
			}
			CHECK(req.host_len > 0 && req.host_len < PROTO_MAX_VALUE);
			CHECK(req.host[req.host_len] == '\0');
			CHECK(req.port >= -1 && req.port <= 65535 && req.port != 0);
			check_ip_parse(req.host, req.host_len);
			check_not_a_name(req.host, req.host_len);
			if (req.has_sni)
				check_not_a_name(req.sni, req.sni_len);
			matcher_lookup_identity(rules, req.host, req.host_len,
			    req.has_sni ? req.sni : NULL, req.sni_len, req.port,
			    &v);
			CHECK(!v.direct || v.dst.direct);
			CHECK(!v.direct || !v.has_sni || v.sni.direct);
			n = proto_format_answer(out, req.id, req.id_len, &v);
			check_answer(out, n, req.id, req.id_len);
		}
	}
	/* what the helper does with a line too long to keep */
	{
		size_t id_len = proto_line_id(line, len);

		CHECK(id_len <= PROTO_MAX_ID && id_len <= len);
		CHECK(digits(line, id_len));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	const char *lf;
	size_t len = size;

	if (rules == NULL)
		init();
	if (size > 2 * PROTO_MAX_LINE)
		return 0;
	/* the raw bytes (LF included) and the first line as the helper cuts it */
	one(line, len);
	if ((lf = memchr(line, '\n', size)) != NULL)
		len = (size_t)(lf - line);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	one(line, len);
	/* every space-separated slice of the line as an IP literal */
	for (size_t i = 0, start = 0; i <= len; i++)
		if (i == len || line[i] == ' ') {
			check_ip_parse(line + start, i - start);
			start = i + 1;
		}
	check_ip_parse(line, len);
	return 0;
}
