/* test_validate.c - the guards in front of the cache.
 *
 * Poison in Optimize and Allow sets (patterns that are only wildcards, end
 * in one, or whose fixed part is a public suffix by libpsl, of the ICANN
 * or the private section; prefixes shorter than the floor or the
 * configured minimum, or overlapping a reserved range, each range at,
 * inside and around it) with exact messages naming set and entry; the
 * Microsoft platforms of the private section accepted, with a warning,
 * only in their instance (with a list of our own that holds them);
 * Default sets unchecked;
 * shrink by sets, distinct names and distinct prefixes just below and at
 * half; --force lifting shrink and never poison; the real files passing
 * alone, against themselves and against each other. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "validate.h"

static struct m365_data *
parse_ok(const char *json)
{
	char err[512] = "";
	struct m365_data *d = endpoints_parse(json, strlen(json), err,
	    sizeof(err));

	if (d == NULL)
		fail_msg("endpoints_parse rejected test input: %s (%s)", err,
		    json);
	return d;
}

/* Validates next against prev with opts; message NULL means it must
 * pass, anything else is the exact message expected. */
static void
expect_opts(const struct m365_data *next, const struct m365_data *prev,
    const struct validate_opts *o, const char *message)
{
	char err[512] = "";
	int rc = validate_data(next, prev, o, NULL, err, sizeof(err));

	if (message == NULL && rc != 0)
		fail_msg("rejected: %s", err);
	if (message != NULL && rc == 0)
		fail_msg("accepted; expected \"%s\"", message);
	if (message != NULL && strcmp(err, message) != 0)
		fail_msg("message \"%s\", expected \"%s\"", err, message);
}

static void
expect(const struct m365_data *next, const struct m365_data *prev,
    bool force, const char *message)
{
	struct validate_opts o = { .force = force };

	expect_opts(next, prev, &o, message);
}

/* The name validate_data gives the public suffix list it reads by
 * default (the system's or libpsl's built-in one). */
static const char *
default_psl(void)
{
	static struct validate_result r;
	struct m365_data none = { NULL, 0 };
	char err[256];

	if (r.psl[0] == '\0') {
		assert_int_equal(validate_data(&none, NULL, NULL, &r, err,
		    sizeof(err)), 0);
		assert_true(r.psl[0] != '\0');
	}
	return r.psl;
}

/* --- one entry in one set ------------------------------------------- */

struct entry_case {
	const char *category;
	const char *field;              /* "urls" or "ips" */
	const char *entry;
	const char *message;            /* exact; NULL: passes */
	bool psl;                       /* message goes on with the list's
	                                 * name and ")" */
};

#define SUFFIX(s) "fixed part \"" s "\" is a public suffix"
#define PRIVATE(s) SUFFIX(s) " of the private section: anyone can " \
	"register names under it ("
#define ONLY "only wildcards"
#define ENDS "ends in a wildcard (matches any top-level domain)"
#define NOLABEL "no whole label after the last wildcard"
#define NUMBER "the last label is or can be a number: resolvers read such " \
	"a name as an IPv4 address"
#define SHORT4 "IPv4 prefix shorter than /8"
#define SHORT6 "IPv6 prefix shorter than /16"
#define MIN4 "IPv4 prefix shorter than /12 (min_prefix_v4 = 12)"
#define MIN6 "IPv6 prefix shorter than /32 (min_prefix_v6 = 32)"
#define OVER(what, range) "overlaps " what " range " range

#define URL_BAD(cat, pat, why) \
	{ cat, "urls", pat, "set 12: urls: \"" pat "\": " why, false }
#define URL_OK(cat, pat) { cat, "urls", pat, NULL, false }
/* a private-section suffix: the message names the list */
#define URL_PRIVATE(cat, pat, s) \
	{ cat, "urls", pat, "set 12: urls: \"" pat "\": " PRIVATE(s), true }
#define PRIVATE_FORMS(x) \
	URL_PRIVATE("Allow", "*." x, x), \
	URL_PRIVATE("Optimize", "*." x, x), \
	URL_PRIVATE("Allow", "autodiscover.*." x, x), \
	URL_PRIVATE("Allow", "*.*." x, x), \
	URL_PRIVATE("Allow", "*cdn." x, x), \
	URL_PRIVATE("Allow", "a?." x, x), \
	URL_PRIVATE("Allow", x, x)
/* canon: the canonical text the loader keeps and the message quotes */
#define IP_BAD(cat, text, canon, why) \
	{ cat, "ips", text, "set 12: ips: \"" canon "\": " why, false }
/* An entry written otherwise than its canonical form is quoted as written,
 * so the admin can find it, with what it means after it. */
#define IP_BAD_AS(cat, text, canon, why) \
	{ cat, "ips", text, "set 12: ips: \"" text "\" (" canon "): " why, \
	  false }
#define IP_OK(cat, text) { cat, "ips", text, NULL, false }

static const struct entry_case entry_cases[] = {
	/* only wildcards */
	URL_BAD("Allow", "*", ONLY),
	URL_BAD("Allow", "**", ONLY),
	URL_BAD("Allow", "?", ONLY),
	URL_BAD("Optimize", "*?*", ONLY),
	/* a wildcard at the end: any top-level domain */
	URL_BAD("Allow", "*.*", ENDS),
	URL_BAD("Allow", "outlook.*", ENDS),
	URL_BAD("Allow", "a*", ENDS),
	URL_BAD("Allow", "*.microsoft.*", ENDS),
	URL_BAD("Allow", "outlook.office365.co?", ENDS),
	/* no whole label after the last wildcard */
	URL_BAD("Allow", "*com", NOLABEL),
	URL_BAD("Allow", "foo?com", NOLABEL),
	URL_BAD("Allow", "*-com", NOLABEL),
	/* fixed part a public suffix, as libpsl says */
	URL_BAD("Allow", "*.com", SUFFIX("com")),
	URL_BAD("Optimize", "*.com", SUFFIX("com")),
	URL_BAD("Allow", "*.*.com", SUFFIX("com")),
	URL_BAD("Allow", "autodiscover.*.com", SUFFIX("com")),
	URL_BAD("Allow", "?.com", SUFFIX("com")),
	URL_BAD("Allow", "*soft.com", SUFFIX("com")),
	URL_BAD("Allow", "*.co.uk", SUFFIX("co.uk")),
	URL_BAD("Allow", "*co.uk", SUFFIX("uk")),
	URL_BAD("Allow", "*.uk", SUFFIX("uk")),
	URL_BAD("Allow", "*.net.cn", SUFFIX("net.cn")),
	URL_BAD("Allow", "*.microsoft", SUFFIX("microsoft")),
	URL_BAD("Allow", "*.xn--p1ai", SUFFIX("xn--p1ai")),
	URL_BAD("Allow", "*.x.ck", SUFFIX("x.ck")),             /* *.ck rule */
	URL_BAD("Allow", "*.zzz-unknown", SUFFIX("zzz-unknown")), /* "*" rule */
	URL_BAD("Allow", "co.uk", SUFFIX("co.uk")),
	URL_BAD("Allow", "com", SUFFIX("com")),
	URL_BAD("Allow", "localhost", SUFFIX("localhost")),
	/* a last label that is, or a wildcard can make, a number: the name
	 * is an IPv4 address to inet_aton and glibc's resolver */
	URL_BAD("Allow", "*.0.1", NUMBER),
	URL_BAD("Optimize", "*.10.0.0.1", NUMBER),
	URL_BAD("Allow", "*.0x1f", NUMBER),
	URL_BAD("Allow", "a.b.3232235777", NUMBER),
	URL_BAD("Allow", "10.*.1", NUMBER),
	URL_BAD("Allow", "a.*.1", NUMBER),
	URL_BAD("Allow", "x.?.0x1", NUMBER),
	URL_OK("Allow", "*.365.cafe"),
	URL_OK("Allow", "0x1.example.com"),
	/* patterns that name one registrable domain pass */
	URL_OK("Allow", "*.cloud.microsoft"),
	URL_OK("Allow", "*.teams.cloud.microsoft"),
	URL_OK("Allow", "*.mx.microsoft"),
	URL_OK("Allow", "*.www.ck"),                            /* !www.ck */
	URL_OK("Allow", "*.example.zzz-unknown"),
	URL_OK("Allow", "*.bar.uk"),
	URL_OK("Optimize", "*.sharepoint.com"),
	URL_OK("Allow", "*cdn.onenote.net"),
	URL_OK("Allow", "*-files.sharepoint.com"),
	URL_OK("Allow", "autodiscover.*.onmicrosoft.com"),
	URL_OK("Allow", "autodiscover.*.mail.onmicrosoft.us"),
	URL_OK("Allow", "*.partner.microsoftonline-p.net.cn"),
	URL_OK("Allow", "a?.b*.microsoft.com"),
	URL_OK("Allow", "outlook.office365.com"),
	/* fixed part a public suffix of the private section: a platform
	 * where anyone registers names; as "*.x", with inner wildcards,
	 * with a wildcard inside the label before it, and bare */
	PRIVATE_FORMS("github.io"),
	PRIVATE_FORMS("herokuapp.com"),
	PRIVATE_FORMS("workers.dev"),
	PRIVATE_FORMS("s3.amazonaws.com"),
	PRIVATE_FORMS("ngrok.io"),
	PRIVATE_FORMS("duckdns.org"),
	PRIVATE_FORMS("pages.dev"),
	PRIVATE_FORMS("netlify.app"),
	PRIVATE_FORMS("vercel.app"),
	PRIVATE_FORMS("blogspot.com"),
	PRIVATE_FORMS("appspot.com"),
	PRIVATE_FORMS("cloudfront.net"),
	PRIVATE_FORMS("dyndns.org"),
	/* Microsoft's own worldwide platforms: accepted from no feed */
	PRIVATE_FORMS("cloudapp.net"),
	PRIVATE_FORMS("azurewebsites.net"),
	/* a wildcard rule (*.azurecontainer.io): its parent, and under it */
	URL_PRIVATE("Allow", "*.azurecontainer.io", "azurecontainer.io"),
	URL_PRIVATE("Allow", "*.x.azurecontainer.io", "x.azurecontainer.io"),
	/* a name under a private suffix is one registrant's: passes */
	URL_OK("Allow", "*.contoso.github.io"),
	URL_OK("Allow", "*.m365.herokuapp.com"),
	/* not on the list (Azure China): passes, whatever the instance */
	URL_OK("Allow", "*.chinacloudapp.cn"),
	/* Default sets are not checked */
	URL_OK("Default", "*.com"),
	URL_OK("Default", "*"),
	URL_OK("Default", "outlook.*"),

	/* length */
	IP_BAD("Allow", "12.0.0.0/7", "12.0.0.0/7", SHORT4),
	IP_BAD("Allow", "0.0.0.0/0", "0.0.0.0/0", SHORT4),
	IP_BAD_AS("Allow", "::ffff:0:0/96", "0.0.0.0/0", SHORT4),
	IP_BAD_AS("Allow", "::ffff:12.0.0.0/103", "12.0.0.0/7", SHORT4),
	IP_BAD("Allow", "11.0.0.0/8", "11.0.0.0/8", MIN4),
	IP_BAD_AS("Allow", "::ffff:11.0.0.0/104", "11.0.0.0/8", MIN4),
	IP_BAD("Allow", "2600::/15", "2600::/15", SHORT6),
	IP_BAD("Allow", "::/0", "::/0", SHORT6),
	IP_BAD("Allow", "2603::/16", "2603::/16", MIN6),
	/* the minimum: IPv4 /12, IPv6 /32 (Microsoft's widest: /13, /35) */
	IP_BAD("Allow", "1.0.0.0/8", "1.0.0.0/8", MIN4),
	IP_BAD("Optimize", "20.0.0.0/11", "20.0.0.0/11", MIN4),
	IP_BAD_AS("Allow", "::ffff:20.0.0.0/107", "20.0.0.0/11", MIN4),
	IP_BAD("Allow", "2400::/16", "2400::/16", MIN6),
	IP_BAD("Allow", "2603:1000::/31", "2603:1000::/31", MIN6),
	IP_BAD("Allow", "2000::/16", "2000::/16", MIN6),
	/* a reserved range is named before the minimum */
	IP_BAD("Allow", "2001::/24", "2001::/24", OVER("Teredo", "2001::/32")),
	IP_BAD("Allow", "10.0.0.0/11", "10.0.0.0/11",
	    OVER("private", "10.0.0.0/8")),
	IP_OK("Allow", "20.0.0.0/12"),
	IP_OK("Allow", "40.96.0.0/13"),
	IP_OK("Allow", "2603:1000::/32"),
	IP_OK("Allow", "2603:1063:6000::/35"),
	/* IPv4 reserved ranges: the range, inside, containing, just outside */
	IP_BAD("Allow", "0.0.0.0/8", "0.0.0.0/8",
	    OVER("unspecified", "0.0.0.0/8")),
	IP_BAD("Allow", "0.0.0.0/32", "0.0.0.0/32",
	    OVER("unspecified", "0.0.0.0/8")),
	IP_BAD("Optimize", "10.0.0.0/8", "10.0.0.0/8",
	    OVER("private", "10.0.0.0/8")),
	IP_BAD("Allow", "10.1.2.0/24", "10.1.2.0/24",
	    OVER("private", "10.0.0.0/8")),
	IP_BAD_AS("Allow", "::ffff:10.0.0.0/104", "10.0.0.0/8",
	    OVER("private", "10.0.0.0/8")),
	IP_BAD("Allow", "100.64.0.0/10", "100.64.0.0/10",
	    OVER("shared (carrier-grade NAT)", "100.64.0.0/10")),
	IP_BAD("Allow", "100.0.0.0/8", "100.0.0.0/8",
	    OVER("shared (carrier-grade NAT)", "100.64.0.0/10")),
	IP_BAD("Allow", "100.127.255.0/24", "100.127.255.0/24",
	    OVER("shared (carrier-grade NAT)", "100.64.0.0/10")),
	IP_OK("Allow", "100.63.0.0/16"),
	IP_OK("Allow", "100.128.0.0/16"),
	IP_BAD("Allow", "127.0.0.0/8", "127.0.0.0/8",
	    OVER("loopback", "127.0.0.0/8")),
	IP_BAD("Allow", "127.0.0.1/32", "127.0.0.1/32",
	    OVER("loopback", "127.0.0.0/8")),
	IP_BAD("Allow", "169.254.0.0/16", "169.254.0.0/16",
	    OVER("link-local", "169.254.0.0/16")),
	IP_BAD("Allow", "169.0.0.0/8", "169.0.0.0/8",
	    OVER("link-local", "169.254.0.0/16")),
	IP_BAD("Allow", "172.16.0.0/12", "172.16.0.0/12",
	    OVER("private", "172.16.0.0/12")),
	IP_BAD("Allow", "172.0.0.0/8", "172.0.0.0/8",
	    OVER("private", "172.16.0.0/12")),
	IP_BAD("Allow", "172.31.255.0/24", "172.31.255.0/24",
	    OVER("private", "172.16.0.0/12")),
	IP_OK("Allow", "172.15.0.0/16"),
	IP_OK("Allow", "172.32.0.0/16"),
	IP_BAD("Allow", "192.0.0.0/24", "192.0.0.0/24",
	    OVER("IETF protocol", "192.0.0.0/24")),
	IP_BAD("Allow", "192.0.0.0/8", "192.0.0.0/8",
	    OVER("IETF protocol", "192.0.0.0/24")),
	IP_BAD("Allow", "192.0.2.0/24", "192.0.2.0/24",
	    OVER("documentation", "192.0.2.0/24")),
	IP_BAD("Allow", "192.0.2.128/25", "192.0.2.128/25",
	    OVER("documentation", "192.0.2.0/24")),
	IP_OK("Allow", "192.0.3.0/24"),
	IP_BAD("Allow", "192.168.0.0/16", "192.168.0.0/16",
	    OVER("private", "192.168.0.0/16")),
	IP_BAD("Allow", "192.168.1.0/24", "192.168.1.0/24",
	    OVER("private", "192.168.0.0/16")),
	IP_OK("Allow", "192.169.0.0/16"),
	IP_BAD("Allow", "198.18.0.0/15", "198.18.0.0/15",
	    OVER("benchmarking", "198.18.0.0/15")),
	IP_BAD("Allow", "198.19.0.0/16", "198.19.0.0/16",
	    OVER("benchmarking", "198.18.0.0/15")),
	IP_OK("Allow", "198.17.0.0/16"),
	IP_OK("Allow", "198.20.0.0/16"),
	IP_BAD("Allow", "198.51.100.0/24", "198.51.100.0/24",
	    OVER("documentation", "198.51.100.0/24")),
	IP_BAD("Allow", "198.51.100.7/32", "198.51.100.7/32",
	    OVER("documentation", "198.51.100.0/24")),
	IP_BAD("Allow", "203.0.113.0/24", "203.0.113.0/24",
	    OVER("documentation", "203.0.113.0/24")),
	IP_BAD("Allow", "203.0.112.0/23", "203.0.112.0/23",
	    OVER("documentation", "203.0.113.0/24")),
	IP_OK("Allow", "203.0.114.0/24"),
	IP_BAD("Allow", "224.0.0.0/4", "224.0.0.0/4", SHORT4),
	IP_BAD("Allow", "224.0.0.0/8", "224.0.0.0/8",
	    OVER("multicast", "224.0.0.0/4")),
	IP_BAD("Allow", "239.255.255.255/32", "239.255.255.255/32",
	    OVER("multicast", "224.0.0.0/4")),
	IP_OK("Allow", "223.255.255.0/24"),
	IP_BAD("Allow", "240.0.0.0/8", "240.0.0.0/8",
	    OVER("reserved", "240.0.0.0/4")),
	IP_BAD("Allow", "255.255.255.255/32", "255.255.255.255/32",
	    OVER("reserved", "240.0.0.0/4")),
	/* IPv6 reserved ranges */
	IP_BAD("Allow", "::/128", "::/128", OVER("unspecified", "::/128")),
	IP_BAD("Allow", "::/16", "::/16", OVER("unspecified", "::/128")),
	IP_BAD("Allow", "::1/128", "::1/128", OVER("loopback", "::1/128")),
	IP_BAD("Allow", "::8.8.8.0/120", "::8.8.8.0/120",
	    OVER("IPv4-compatible", "::/96")),
	IP_BAD("Allow", "::fffe:0:0/95", "::fffe:0:0/95",
	    OVER("unspecified", "0.0.0.0/8")),  /* spans all IPv4-mapped */
	IP_BAD("Allow", "64:ff9b::/96", "64:ff9b::/96",
	    OVER("NAT64", "64:ff9b::/96")),
	IP_BAD("Allow", "64:ff9b::808:800/120", "64:ff9b::808:800/120",
	    OVER("NAT64", "64:ff9b::/96")),
	IP_BAD("Allow", "64:ff9b:1::/48", "64:ff9b:1::/48",
	    OVER("NAT64", "64:ff9b:1::/48")),
	IP_BAD("Allow", "64::/16", "64::/16", OVER("NAT64", "64:ff9b::/96")),
	IP_BAD("Allow", "100::/64", "100::/64",
	    OVER("discard-only", "100::/64")),
	IP_BAD("Allow", "100::/16", "100::/16",
	    OVER("discard-only", "100::/64")),
	IP_BAD("Allow", "2001::/32", "2001::/32", OVER("Teredo", "2001::/32")),
	IP_BAD("Allow", "2001::/16", "2001::/16", OVER("Teredo", "2001::/32")),
	IP_BAD("Allow", "2001:2::/48", "2001:2::/48",
	    OVER("benchmarking", "2001:2::/48")),
	IP_BAD("Allow", "2001:db8::/32", "2001:db8::/32",
	    OVER("documentation", "2001:db8::/32")),
	IP_BAD("Allow", "2001:db8:abcd::/48", "2001:db8:abcd::/48",
	    OVER("documentation", "2001:db8::/32")),
	IP_BAD("Allow", "2001:d00::/24", "2001:d00::/24",
	    OVER("documentation", "2001:db8::/32")),
	IP_OK("Allow", "2001:4860::/32"),
	IP_BAD("Allow", "2002::/16", "2002::/16", OVER("6to4", "2002::/16")),
	IP_BAD("Allow", "2002:c000:200::/40", "2002:c000:200::/40",
	    OVER("6to4", "2002::/16")),
	IP_BAD("Allow", "3fff::/20", "3fff::/20",
	    OVER("documentation", "3fff::/20")),
	IP_BAD("Allow", "3fff:fff::/32", "3fff:fff::/32",
	    OVER("documentation", "3fff::/20")),
	IP_BAD("Allow", "3fff:1000::/20", "3fff:1000::/20", MIN6),
	IP_BAD("Allow", "fc00::/7", "fc00::/7", SHORT6),
	IP_BAD("Allow", "fc00::/16", "fc00::/16", OVER("private", "fc00::/7")),
	IP_BAD("Allow", "fd12:3456::/32", "fd12:3456::/32",
	    OVER("private", "fc00::/7")),
	IP_BAD("Allow", "fe80::/10", "fe80::/10", SHORT6),
	IP_BAD("Optimize", "fe80::/64", "fe80::/64",
	    OVER("link-local", "fe80::/10")),
	IP_BAD("Allow", "febf::/16", "febf::/16",
	    OVER("link-local", "fe80::/10")),
	IP_BAD("Allow", "fec0::/16", "fec0::/16",
	    OVER("site-local", "fec0::/10")),
	IP_BAD("Allow", "ff00::/8", "ff00::/8", SHORT6),
	IP_BAD("Allow", "ff02::/16", "ff02::/16",
	    OVER("multicast", "ff00::/8")),
	IP_BAD("Allow", "ff02::1/128", "ff02::1/128",
	    OVER("multicast", "ff00::/8")),
	/* real Microsoft prefixes */
	IP_OK("Optimize", "52.96.0.0/14"),
	IP_OK("Allow", "40.96.0.0/13"),
	IP_OK("Optimize", "2603:1006::/40"),
	IP_OK("Allow", "2620:1ec:4::152/128"),
	/* Default sets are not checked */
	IP_OK("Default", "10.0.0.0/8"),
	IP_OK("Default", "0.0.0.0/0"),
	IP_OK("Default", "fe80::/10"),
};

/* The entry alone in set 12; --force gives the same answer (it lifts
 * shrink only). */
static void
test_entry(void **state)
{
	const struct entry_case *c = *state;
	char json[512], want[512];
	const char *message = c->message;
	struct m365_data *d;

	snprintf(json, sizeof(json), "[{\"id\": 12, \"serviceArea\": "
	    "\"Common\", \"category\": \"%s\", \"tcpPorts\": \"443\", "
	    "\"%s\": [\"%s\"]}]", c->category, c->field, c->entry);
	if (c->psl) {
		snprintf(want, sizeof(want), "%s%s)", c->message,
		    default_psl());
		message = want;
	}
	d = parse_ok(json);
	expect(d, NULL, false, message);
	expect(d, NULL, true, message);
	expect(d, d, false, message);
	endpoints_free(d);
}

/* --- the first offending set and entry ------------------------------- */

static void
test_first_offence(void **state)
{
	static const char json[] = "["
	    "{\"id\": 1, \"category\": \"Allow\", \"urls\": [\"*.lync.com\"]},"
	    "{\"id\": 7, \"category\": \"Default\", \"urls\": [\"*.com\"]},"
	    "{\"id\": 12, \"category\": \"Allow\", \"urls\": "
	    "[\"outlook.office365.com\", \"*.co.uk\", \"*.net\"], "
	    "\"ips\": [\"10.0.0.0/8\"]},"
	    "{\"id\": 13, \"category\": \"Optimize\", \"urls\": [\"*\"]}]";
	static const char json2[] = "["
	    "{\"id\": 3, \"category\": \"Optimize\", \"urls\": "
	    "[\"*.sharepoint.com\"], \"ips\": [\"52.96.0.0/14\", "
	    "\"fe80::/64\", \"10.0.0.0/8\"]},"
	    "{\"id\": 4, \"category\": \"Allow\", \"urls\": [\"*.com\"]}]";
	struct m365_data *d;

	(void)state;
	d = parse_ok(json);
	expect(d, NULL, false, "set 12: urls: \"*.co.uk\": "
	    SUFFIX("co.uk"));
	endpoints_free(d);
	d = parse_ok(json2);
	expect(d, NULL, false, "set 3: ips: \"fe80::/64\": "
	    OVER("link-local", "fe80::/10"));
	endpoints_free(d);
}

/* --- shrink ---------------------------------------------------------- */

struct builder {
	char buf[65536];
	size_t len;
};

static void
add(struct builder *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add(struct builder *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, sizeof(b->buf) - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(b->buf) - b->len)
		fail_msg("test JSON too long");
	b->len += (size_t)n;
}

/* sets Allow sets holding names distinct names and prefixes distinct
 * prefixes, dealt round the sets; with same, every set instead holds the
 * one name same.example.com. */
static struct m365_data *
make_data(size_t sets, size_t names, size_t prefixes, bool same)
{
	struct builder *b = calloc(1, sizeof(*b));
	struct m365_data *d;

	assert_non_null(b);
	add(b, "[");
	for (size_t i = 0; i < sets; i++) {
		add(b, "%s{\"id\": %zu, \"category\": \"Allow\", \"urls\": [",
		    i > 0 ? "," : "", i + 1);
		if (same)
			add(b, "\"same.example.com\"");
		for (size_t k = i, n = 0; !same && k < names; k += sets)
			add(b, "%s\"n%zu.example.com\"", n++ > 0 ? "," : "", k);
		add(b, "], \"ips\": [");
		for (size_t k = i, n = 0; k < prefixes; k += sets)
			add(b, "%s\"20.%zu.%zu.0/24\"", n++ > 0 ? "," : "",
			    k / 256, k % 256);
		add(b, "]}");
	}
	add(b, "]");
	d = parse_ok(b->buf);
	free(b);
	return d;
}

struct shrink_case {
	size_t prev[3];                 /* sets, names, prefixes; 0 sets: none */
	size_t next[3];
	bool same;                      /* next: one name repeated */
	bool force;
	const char *message;
};

#define HALF "(fewer than half; --force to accept)"

static const struct shrink_case shrink_cases[] = {
	{ { 64, 64, 64 }, { 31, 64, 64 }, false, false,
	    "shrink: 31 sets where 64 are installed " HALF },
	{ { 64, 64, 64 }, { 32, 64, 64 }, false, false, NULL },
	{ { 64, 64, 64 }, { 64, 31, 64 }, false, false,
	    "shrink: 31 distinct names where 64 are installed " HALF },
	{ { 64, 64, 64 }, { 64, 32, 64 }, false, false, NULL },
	{ { 64, 64, 64 }, { 64, 64, 31 }, false, false,
	    "shrink: 31 distinct prefixes where 64 are installed " HALF },
	{ { 64, 64, 64 }, { 64, 64, 32 }, false, false, NULL },
	{ { 64, 64, 64 }, { 64, 64, 0 }, false, false,
	    "shrink: 0 distinct prefixes where 64 are installed " HALF },
	/* half of 65 is 32.5: 32 is fewer, 33 is not */
	{ { 65, 65, 65 }, { 32, 65, 65 }, false, false,
	    "shrink: 32 sets where 65 are installed " HALF },
	{ { 65, 65, 65 }, { 33, 33, 33 }, false, false, NULL },
	{ { 65, 65, 65 }, { 65, 32, 65 }, false, false,
	    "shrink: 32 distinct names where 65 are installed " HALF },
	{ { 65, 65, 65 }, { 65, 65, 32 }, false, false,
	    "shrink: 32 distinct prefixes where 65 are installed " HALF },
	/* sets are checked first */
	{ { 64, 64, 64 }, { 3, 3, 3 }, false, false,
	    "shrink: 3 sets where 64 are installed " HALF },
	/* repeats are no substitute for names */
	{ { 64, 64, 64 }, { 64, 64, 64 }, true, false,
	    "shrink: 1 distinct names where 64 are installed " HALF },
	/* --force, no installed data, growth, nothing to lose */
	{ { 64, 64, 64 }, { 3, 3, 3 }, false, true, NULL },
	{ { 64, 64, 64 }, { 64, 64, 64 }, true, true, NULL },
	{ { 0, 0, 0 }, { 3, 3, 3 }, false, false, NULL },
	{ { 10, 10, 10 }, { 100, 100, 100 }, false, false, NULL },
	{ { 1, 0, 0 }, { 1, 0, 0 }, false, false, NULL },
};

static void
test_shrink(void **state)
{
	const struct shrink_case *c = *state;
	struct m365_data *prev = NULL, *next;

	if (c->prev[0] > 0)
		prev = make_data(c->prev[0], c->prev[1], c->prev[2], false);
	next = make_data(c->next[0], c->next[1], c->next[2], c->same);
	expect(next, prev, c->force, c->message);
	endpoints_free(next);
	endpoints_free(prev);
}

/* Poison is checked before shrink, and --force does not lift it. */
static void
test_force_not_poison(void **state)
{
	static const char json[] = "[{\"id\": 5, \"category\": \"Allow\", "
	    "\"urls\": [\"*.com\"]}]";
	struct m365_data *prev = make_data(64, 64, 64, false);
	struct m365_data *next = parse_ok(json);
	const char *msg = "set 5: urls: \"*.com\": " SUFFIX("com");

	(void)state;
	expect(next, prev, false, msg);
	expect(next, prev, true, msg);
	expect(next, NULL, true, msg);
	endpoints_free(next);
	endpoints_free(prev);
}

/* --- messages and arguments ------------------------------------------ */

static void
test_message_bounds(void **state)
{
	static const char json[] = "[{\"id\": 12, \"category\": \"Allow\", "
	    "\"urls\": [\"*.com\"]}]";
	static const char full[] = "set 12: urls: \"*.com\": " SUFFIX("com");
	struct validate_opts force = { .force = true };
	struct m365_data *d = parse_ok(json);
	char err[8];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(validate_data(d, NULL, NULL, NULL, err, sizeof(err)),
	    -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, full, sizeof(err) - 1);
	assert_int_equal(validate_data(d, NULL, NULL, NULL, NULL, 0), -1);
	assert_int_equal(validate_data(NULL, d, &force, NULL, err,
	    sizeof(err)), -1);
	endpoints_free(d);
}

/* --- the configured bounds ------------------------------------------- */

struct min_case {
	unsigned min_v4, min_v6;        /* the options; 0: default */
	const char *ip;
	const char *message;            /* exact after "set 12: ips: \"ip\": " */
};

static const struct min_case min_cases[] = {
	/* relaxed to the floor: Microsoft's widest and far wider pass */
	{ 8, 0, "1.0.0.0/8", NULL },
	{ 8, 0, "20.0.0.0/11", NULL },
	{ 0, 16, "2400::/16", NULL },
	{ 0, 16, "2603:1000::/31", NULL },
	/* the floor holds whatever the options say */
	{ 1, 0, "4.0.0.0/7", "IPv4 prefix shorter than /8" },
	{ 0, 1, "2400::/15", "IPv6 prefix shorter than /16" },
	/* relaxing one family leaves the other at its default */
	{ 8, 0, "2400::/16", "IPv6 prefix shorter than /32 (min_prefix_v6 = 32)" },
	{ 0, 16, "1.0.0.0/8", "IPv4 prefix shorter than /12 (min_prefix_v4 = 12)" },
	/* tightened: the message says which key and value */
	{ 14, 0, "40.96.0.0/13",
	    "IPv4 prefix shorter than /14 (min_prefix_v4 = 14)" },
	{ 14, 0, "52.96.0.0/14", NULL },
	{ 0, 36, "2603:1063:6000::/35",
	    "IPv6 prefix shorter than /36 (min_prefix_v6 = 36)" },
	{ 32, 128, "13.107.6.152/32", NULL },
	/* reserved ranges whatever the minimum */
	{ 8, 16, "10.0.0.0/8", "overlaps private range 10.0.0.0/8" },
};

static void
test_min_prefix(void **state)
{
	const struct min_case *c = *state;
	struct validate_opts o = { .min_v4 = c->min_v4, .min_v6 = c->min_v6 };
	char json[256], want[256];
	struct m365_data *d;

	snprintf(json, sizeof(json), "[{\"id\": 12, \"category\": "
	    "\"Allow\", \"ips\": [\"%s\"]}]", c->ip);
	snprintf(want, sizeof(want), "set 12: ips: \"%s\": %s", c->ip,
	    c->message != NULL ? c->message : "");
	d = parse_ok(json);
	expect_opts(d, NULL, &o, c->message != NULL ? want : NULL);
	endpoints_free(d);
}

/* --- the public suffix list ------------------------------------------- */

static void
psl_fixture(char *path, size_t size)
{
	snprintf(path, size, "%s/psl-azure-china.dat", suite_data_dir());
}

/* The list is named: the system's file or libpsl's built-in list (dated),
 * whichever libpsl's psl_latest found newer. */
static void
test_psl_default(void **state)
{
	const char *name = default_psl();

	(void)state;
	if (strncmp(name, "libpsl's built-in list", 22) != 0 &&
	    strcmp(name, "/usr/share/publicsuffix/public_suffix_list.dafsa") !=
	    0 && name[0] != '/')
		fail_msg("list named \"%s\"", name);
}

/* A list that does not load fails closed, saying which. */
static void
test_psl_missing(void **state)
{
	struct validate_opts o = { .psl_file = "/nonexistent/m365/psl.dat" };
	struct m365_data none = { NULL, 0 };
	struct validate_result r;
	char err[512];

	(void)state;
	assert_int_equal(validate_data(&none, NULL, &o, &r, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "public suffix list /nonexistent/m365/psl.dat: "
	    "cannot be loaded (libpsl reads the .dat text and DAFSA files)");
	assert_string_equal(r.psl, "");
}

/* With a list that holds the Azure China platforms in its private
 * section: the China data installs, with a warning naming each pattern
 * and set, and the list; the same data as any other instance's is
 * refused, and so is a platform not Microsoft's in the China data. */
static void
test_microsoft_suffixes(void **state)
{
	static const char github[] = "[{\"id\": 7, \"category\": \"Allow\", "
	    "\"urls\": [\"*.chinacloudapp.cn\", \"*.github.io\"]}]";
	struct m365_data *cn = suite_load("china-c2025.json");
	struct m365_data *gh = parse_ok(github);
	struct validate_opts o = { .instance = "China" };
	struct validate_result r;
	char path[512], err[1024] = "", want[1024];

	(void)state;
	psl_fixture(path, sizeof(path));
	o.psl_file = path;
	if (validate_data(cn, NULL, &o, &r, err, sizeof(err)) != 0)
		fail_msg("China data refused: %s", err);
	assert_string_equal(r.psl, path);
	assert_int_equal(r.n_accepted, 3);
	snprintf(want, sizeof(want), "accepted as Microsoft's own platforms, "
	    "though the public suffix list (%s) says anyone can register "
	    "names under them: \"*.azure-mobile.cn\" (set 7), "
	    "\"*.chinacloudapp.cn\" (set 7), \"*.chinacloudsites.cn\" "
	    "(set 7)", path);
	assert_string_equal(r.warning, want);
	snprintf(want, sizeof(want), "set 7: urls: \"*.azure-mobile.cn\": "
	    PRIVATE("azure-mobile.cn") "%s)", path);
	o.instance = "Worldwide";
	expect_opts(cn, NULL, &o, want);
	o.instance = NULL;
	expect_opts(cn, NULL, &o, want);
	o.instance = "china";           /* instances are spelt exactly */
	expect_opts(cn, NULL, &o, want);
	o.instance = "China";
	snprintf(want, sizeof(want), "set 7: urls: \"*.github.io\": "
	    PRIVATE("github.io") "%s)", path);
	expect_opts(gh, NULL, &o, want);
	/* the default list holds none of them: no warning */
	o.psl_file = NULL;
	assert_int_equal(validate_data(cn, NULL, &o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n_accepted, 0);
	assert_string_equal(r.warning, "");
	endpoints_free(gh);
	endpoints_free(cn);
}

/* --- the real files -------------------------------------------------- */

static const char *const real_files[] = {
	"worldwide-c2025.json", "worldwide-c2022.json", "china-c2025.json"
};

/* Each file alone (first install) and against itself (a re-install). */
static void
test_real_file(void **state)
{
	const char *name = *state;
	struct m365_data *d = suite_load(name);

	expect(d, NULL, false, NULL);
	expect(d, d, false, NULL);
	endpoints_free(d);
}

/* Worldwide 2022 and 2025 replace each other (107 and 64 sets, 303 and 195
 * distinct names, 131 and 93 distinct prefixes); the China data over the
 * worldwide data is the wrong instance, refused unless forced. */
static void
test_real_updates(void **state)
{
	struct m365_data *w22 = suite_load("worldwide-c2022.json");
	struct m365_data *w25 = suite_load("worldwide-c2025.json");
	struct m365_data *cn = suite_load("china-c2025.json");

	(void)state;
	expect(w25, w22, false, NULL);
	expect(w22, w25, false, NULL);
	expect(cn, w25, false,
	    "shrink: 21 sets where 64 are installed " HALF);
	expect(cn, w25, true, NULL);
	expect(w25, cn, false, NULL);
	endpoints_free(w22);
	endpoints_free(w25);
	endpoints_free(cn);
}

int
main(void)
{
	struct suite s = { 0 };
	size_t n = sizeof(entry_cases) / sizeof(entry_cases[0]);

	for (size_t i = 0; i < n; i++) {
		const struct entry_case *c = &entry_cases[i];

		suite_add(&s, test_entry, (void *)c, "%s %s %s: %s%s",
		    c->category, c->field, c->entry,
		    c->message != NULL ? c->message : "passes",
		    c->psl ? "LIST)" : "");
	}
	suite_add(&s, test_first_offence, NULL,
	    "the message names the first offending set and entry");
	n = sizeof(shrink_cases) / sizeof(shrink_cases[0]);
	for (size_t i = 0; i < n; i++) {
		const struct shrink_case *c = &shrink_cases[i];

		suite_add(&s, test_shrink, (void *)c, "shrink %zu/%zu/%zu -> "
		    "%zu/%zu/%zu%s%s: %s", c->prev[0], c->prev[1], c->prev[2],
		    c->next[0], c->next[1], c->next[2],
		    c->same ? " (one name repeated)" : "",
		    c->force ? " --force" : "",
		    c->message != NULL ? "refused" : "passes");
	}
	suite_add(&s, test_force_not_poison, NULL,
	    "poison before shrink; --force does not lift poison");
	suite_add(&s, test_message_bounds, NULL,
	    "the message is cut to errlen; NULL err; NULL data");
	n = sizeof(min_cases) / sizeof(min_cases[0]);
	for (size_t i = 0; i < n; i++)
		suite_add(&s, test_min_prefix, (void *)&min_cases[i],
		    "min_prefix_v4 %u, min_prefix_v6 %u: %s %s", min_cases[i].min_v4,
		    min_cases[i].min_v6, min_cases[i].ip,
		    min_cases[i].message != NULL ? "refused" : "passes");
	suite_add(&s, test_psl_default, NULL,
	    "the list used is named: the system's file or the built-in one");
	suite_add(&s, test_psl_missing, NULL,
	    "a public suffix list that does not load: refused, named");
	suite_add(&s, test_microsoft_suffixes, NULL,
	    "Azure China's platforms on the list: accepted with a warning in "
	    "China data only");
	for (size_t i = 0; i < sizeof(real_files) / sizeof(real_files[0]); i++)
		suite_add(&s, test_real_file, (void *)real_files[i],
		    "real data %s passes alone and against itself",
		    real_files[i]);
	suite_add(&s, test_real_updates, NULL,
	    "real updates: worldwide 2022 <-> 2025 pass, China over "
	    "worldwide is refused unless forced");
	return suite_run(&s, "validate");
}
