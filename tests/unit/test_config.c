/* test_config.c - m365-direct.conf: "key = value", '#' comments, list keys
 * repeatable and comma-separated, errors as "file:line: message", every one
 * of them reported (DESIGN.md §7). */
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
#include <unistd.h>

#include "config.h"
#include "endpoints.h"
#include "parse.h"

/* --- temp files -------------------------------------------------------- */

/* Writes text[0..len) to a new temp file; its path goes to path. */
static void
write_tmp(const char *text, size_t len, char *path, size_t size)
{
	const char *dir = getenv("TMPDIR");
	FILE *f;
	int fd;

	snprintf(path, size, "%s/m365-test-config.XXXXXX",
	    dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A loaded configuration and its errors, removed after each test. */
struct loaded {
	char path[512];
	struct m365_config c;
	struct config_errors e;
	int rc;
};

static void
load_text(struct loaded *l, const char *text, size_t len)
{
	memset(l, 0, sizeof(*l));
	write_tmp(text, len, l->path, sizeof(l->path));
	assert_int_equal(config_init(&l->c), 0);
	l->rc = config_load(&l->c, l->path, true, &l->e);
}

static void
unload(struct loaded *l)
{
	unlink(l->path);
	config_free(&l->c);
	config_errors_free(&l->e);
}

static void
print_errors(const struct loaded *l)
{
	for (size_t i = 0; i < l->e.n; i++)
		print_error("  %s\n", l->e.msg[i]);
}

static void
expect_clean(const struct loaded *l)
{
	if (l->rc != 0 || l->e.n != 0) {
		print_errors(l);
		fail_msg("config_load returned %d with %zu errors", l->rc,
		    l->e.n);
	}
}

static bool
list_is(const struct m365_strlist *s, const char *const *want, size_t n)
{
	if (s->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->v[i], want[i]) != 0)
			return false;
	return true;
}

#define MASK(c) (1u << (c))
#define DEFAULT_MASK (MASK(M365_CAT_OPTIMIZE) | MASK(M365_CAT_ALLOW))

/* --- defaults and good files ------------------------------------------ */

static void
check_defaults(const struct m365_config *c)
{
	assert_string_equal(c->state_dir, M365_DEFAULT_STATE_DIR);
	assert_int_equal(c->policy.direct_mask, DEFAULT_MASK);
	assert_int_equal(c->policy.service_areas.n, 0);
	assert_false(c->policy.required_only);
	assert_true(c->policy.match_ports);
	assert_int_equal(c->policy.extra_direct.n, 0);
	assert_int_equal(c->policy.never_direct.n, 0);
	assert_false(c->sni.verify_dns);
	assert_null(c->sni.dns_servers);
	assert_int_equal(c->sni.dns_timeout_ms, 2000);
	assert_string_equal(config_get_string(c, "base_url"),
	    "https://endpoints.office.com");
	assert_string_equal(config_get_string(c, "instance"), "Worldwide");
	assert_null(config_get_string(c, "tenant"));
	assert_null(config_get_string(c, "ca_file"));
	assert_null(config_get_string(c, "proxy"));
	assert_false(config_get_bool(c, "no_ipv6"));
	assert_int_equal(config_get_number(c, "timeout"), 60);
	assert_int_equal(config_get_number(c, "retries"), 3);
	assert_int_equal(config_get_number(c, "retry_delay"), 2000);
	assert_int_equal(config_get_list(c, "on_change")->n, 0);
	assert_null(config_get_string(c, "asn_database"));
	assert_string_equal(config_get_string(c, "asn_check"), "refuse");
	assert_int_equal(config_get_list(c, "trusted_asns")->n, 0);
}

static void
test_defaults(void **state)
{
	struct m365_config c;

	(void)state;
	assert_int_equal(config_init(&c), 0);
	check_defaults(&c);
	config_free(&c);
	config_free(&c);        /* twice is harmless */
}

/* Files that change nothing. */
static const char *const neutral[] = {
	"",
	"\n\n\n",
	"# only a comment\n",
	"   \t  \n# x = y\n\t# indented comment\n",
	"#state_dir = relative\n",
	"state_dir = /var/lib/m365-direct # no LF at the end",
	"# CRLF\r\n\r\n",
};

static void
test_neutral(void **state)
{
	const char *text = *state;
	struct loaded l;

	load_text(&l, text, strlen(text));
	expect_clean(&l);
	check_defaults(&l.c);
	unload(&l);
}

static void
test_every_key(void **state)
{
	static const char text[] =
	    "# every key\n"
	    "state_dir = /srv/m365-direct\n"
	    "direct_categories = optimize\n"
	    "service_areas = Exchange, Skype\n"
	    "required_only = yes\n"
	    "match_ports = no\n"
	    "extra_direct = *.contoso.com, 10.0.0.0/8\n"
	    "never_direct = login.microsoftonline.com\n"
	    "never_direct = 13.107.6.152/31 2603:1006::/40\n"
	    "verify_sni = dns\n"
	    "dns_servers = 127.0.0.1:5353,[::1]:53\n"
	    "dns_timeout = 0.5\n";
	static const char *const areas[] = { "Exchange", "Skype" };
	static const char *const extra[] = { "*.contoso.com", "10.0.0.0/8" };
	static const char *const never[] = { "login.microsoftonline.com",
	    "13.107.6.152/31", "2603:1006::/40" };
	struct loaded l;

	(void)state;
	load_text(&l, text, sizeof(text) - 1);
	expect_clean(&l);
	assert_string_equal(l.c.state_dir, "/srv/m365-direct");
	assert_int_equal(l.c.policy.direct_mask, MASK(M365_CAT_OPTIMIZE));
	assert_true(list_is(&l.c.policy.service_areas, areas, 2));
	assert_true(l.c.policy.required_only);
	assert_false(l.c.policy.match_ports);
	assert_true(list_is(&l.c.policy.extra_direct, extra, 2));
	assert_true(list_is(&l.c.policy.never_direct, never, 3));
	assert_true(l.c.sni.verify_dns);
	assert_string_equal(l.c.sni.dns_servers, "127.0.0.1:5353,[::1]:53");
	assert_int_equal(l.c.sni.dns_timeout_ms, 500);
	unload(&l);
}

/* The updater's keys: kept by the reader for feed/settings.c. */
static void
test_updater_keys(void **state)
{
	static const char text[] =
	    "base_url = file:///srv/mirror\n"
	    "instance = USGovGCCHigh\n"
	    "tenant = contoso\n"
	    "no_ipv6 = yes\n"
	    "ca_file = /etc/ssl/mirror.pem\n"
	    "proxy = http://proxy.example:3128\n"
	    "timeout = 3600\n"
	    "retries = 0\n"
	    "retry_delay = 0.25\n"
	    "on_change = /usr/bin/m365-direct export --format squid\n"
	    "asn_database = /var/lib/GeoIP/GeoLite2-ASN.mmdb\n"
	    "asn_check = warn\n"
	    "trusted_asns = AS8075, 8068-8075\n"
	    "trusted_asns = as58593 AS4808-AS4809\n";
	static const char *const argv[] = { "/usr/bin/m365-direct", "export",
	    "--format", "squid" };
	static const char *const asns[] = { "AS8075", "8068-8075", "as58593",
	    "AS4808-AS4809" };
	struct loaded l;

	(void)state;
	load_text(&l, text, sizeof(text) - 1);
	expect_clean(&l);
	assert_string_equal(config_get_string(&l.c, "base_url"),
	    "file:///srv/mirror");
	assert_string_equal(config_get_string(&l.c, "instance"), "USGovGCCHigh");
	assert_string_equal(config_get_string(&l.c, "tenant"), "contoso");
	assert_true(config_get_bool(&l.c, "no_ipv6"));
	assert_string_equal(config_get_string(&l.c, "ca_file"),
	    "/etc/ssl/mirror.pem");
	assert_string_equal(config_get_string(&l.c, "proxy"),
	    "http://proxy.example:3128");
	assert_int_equal(config_get_number(&l.c, "timeout"), 3600);
	assert_int_equal(config_get_number(&l.c, "retries"), 0);
	assert_int_equal(config_get_number(&l.c, "retry_delay"), 250);
	assert_true(list_is(config_get_list(&l.c, "on_change"), argv, 4));
	assert_string_equal(config_get_string(&l.c, "asn_database"),
	    "/var/lib/GeoIP/GeoLite2-ASN.mmdb");
	assert_string_equal(config_get_string(&l.c, "asn_check"), "warn");
	assert_true(list_is(config_get_list(&l.c, "trusted_asns"), asns, 4));
	/* the policy's keys read the same way as their fields */
	assert_int_equal(config_get_number(&l.c, "direct_categories"),
	    DEFAULT_MASK);
	assert_string_equal(config_get_string(&l.c, "state_dir"),
	    M365_DEFAULT_STATE_DIR);
	unload(&l);
}

/* config_set: a command-line option over the file, with the file's
 * checks and a message without a file name. */
static void
test_set(void **state)
{
	static const char text[] = "timeout = 5\nnever_direct = a.example\n";
	static const char *const never[] = { "a.example", "b.example" };
	struct loaded l;
	char why[256];

	(void)state;
	load_text(&l, text, sizeof(text) - 1);
	expect_clean(&l);
	assert_int_equal(config_set(&l.c, "timeout", "30", why, sizeof(why)),
	    0);
	assert_int_equal(config_get_number(&l.c, "timeout"), 30);
	/* a list key given again adds, as a later line does */
	assert_int_equal(config_set(&l.c, "never_direct", "b.example", why,
	    sizeof(why)), 0);
	assert_true(list_is(&l.c.policy.never_direct, never, 2));
	assert_int_equal(config_set(&l.c, "timeout", "0", why, sizeof(why)),
	    -1);
	assert_string_equal(why, "timeout: \"0\" is not a number from 1 to "
	    "3600");
	assert_int_equal(config_get_number(&l.c, "timeout"), 30);
	assert_int_equal(config_set(&l.c, "base_url", "http://x", why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "base_url"));
	assert_string_equal(config_get_string(&l.c, "base_url"),
	    "https://endpoints.office.com");
	assert_int_equal(config_set(&l.c, "nonsense", "1", why, sizeof(why)),
	    -1);
	assert_string_equal(why, "unknown key \"nonsense\"");
	unload(&l);
}

/* Blanks, tabs, CRLF, trailing comments, '=' inside a value. */
static void
test_layout(void **state)
{
	static const char text[] =
	    "\t state_dir\t=\t/srv/a=b \t\r\n"
	    "service_areas=Exchange,,Skype ,\tCommon\r\n"
	    "match_ports = off # trailing comment\n"
	    "required_only=TRUE\n"
	    "   # never_direct = a.b\n";
	static const char *const areas[] = { "Exchange", "Skype", "Common" };
	struct loaded l;

	(void)state;
	load_text(&l, text, sizeof(text) - 1);
	expect_clean(&l);
	assert_string_equal(l.c.state_dir, "/srv/a=b");
	assert_true(list_is(&l.c.policy.service_areas, areas, 3));
	assert_false(l.c.policy.match_ports);
	assert_true(l.c.policy.required_only);
	assert_int_equal(l.c.policy.never_direct.n, 0);
	unload(&l);
}

struct cat_case {
	const char *text;
	unsigned mask;
};

static const struct cat_case cat_cases[] = {
	/* the first occurrence replaces the default, later ones add */
	{ "direct_categories = default\n", MASK(M365_CAT_DEFAULT) },
	{ "direct_categories = allow\n", MASK(M365_CAT_ALLOW) },
	{ "direct_categories = optimize\ndirect_categories = allow\n",
	    DEFAULT_MASK },
	{ "direct_categories = optimize, allow, default\n",
	    DEFAULT_MASK | MASK(M365_CAT_DEFAULT) },
	{ "direct_categories = Optimize ALLOW\n", DEFAULT_MASK },
	{ "direct_categories = optimize,optimize\n", MASK(M365_CAT_OPTIMIZE) },
	{ "match_ports = yes\n", DEFAULT_MASK },
};

static void
test_categories(void **state)
{
	const struct cat_case *c = *state;
	struct loaded l;

	load_text(&l, c->text, strlen(c->text));
	expect_clean(&l);
	assert_int_equal(l.c.policy.direct_mask, c->mask);
	unload(&l);
}

/* Repeated list keys add to the list; the first replaces the default. */
static void
test_repeated_lists(void **state)
{
	static const char text[] =
	    "service_areas = Exchange\n"
	    "extra_direct = a.example\n"
	    "service_areas = Skype,SharePoint\n"
	    "extra_direct = b.example c.example\n"
	    "extra_direct = 192.0.2.1\n";
	static const char *const areas[] = { "Exchange", "Skype",
	    "SharePoint" };
	static const char *const extra[] = { "a.example", "b.example",
	    "c.example", "192.0.2.1" };
	struct loaded l;

	(void)state;
	load_text(&l, text, sizeof(text) - 1);
	expect_clean(&l);
	assert_true(list_is(&l.c.policy.service_areas, areas, 3));
	assert_true(list_is(&l.c.policy.extra_direct, extra, 4));
	unload(&l);
}

struct bool_case {
	const char *v;
	bool ok, value;
};

static const struct bool_case bool_cases[] = {
	{ "yes", true, true }, { "no", true, false },
	{ "true", true, true }, { "false", true, false },
	{ "on", true, true }, { "off", true, false },
	{ "1", true, true }, { "0", true, false },
	{ "YES", true, true }, { "False", true, false },
	{ "maybe", false, false }, { "2", false, false },
	{ "yes please", false, false }, { "y", false, false },
	{ "-1", false, false },
};

static void
test_bool(void **state)
{
	const struct bool_case *c = *state;
	char text[128];
	struct loaded l;

	for (int key = 0; key < 2; key++) {
		/* start from the opposite of the expected value */
		snprintf(text, sizeof(text), "%s = %s\n%s = %s\n",
		    key ? "match_ports" : "required_only",
		    c->value ? "no" : "yes",
		    key ? "match_ports" : "required_only", c->v);
		load_text(&l, text, strlen(text));
		if (!c->ok) {
			assert_int_equal(l.rc, -1);
			assert_int_equal(l.e.n, 1);
			assert_non_null(strstr(l.e.msg[0], ":2: "));
		} else {
			expect_clean(&l);
			assert_int_equal(key ? l.c.policy.match_ports :
			    l.c.policy.required_only, c->value);
		}
		unload(&l);
	}
}

/* --- errors ------------------------------------------------------------ */

struct err_line {
	const char *line;
	const char *mention;            /* a word the message must hold */
};

static const struct err_line err_lines[] = {
	{ "bogus_key = 1", "bogus_key" },
	{ "no equals sign here", "" },
	{ "required_only = maybe", "required_only" },
	{ "never_direct = x..y", "never_direct" },
	{ "state_dir = relative/path", "state_dir" },
	{ "direct_categories = optimize, fast", "direct_categories" },
	{ "= value", "" },
	{ "match_ports =", "match_ports" },
	{ "extra_direct = 10.0.0.1/8", "extra_direct" },
	{ "never_direct = https://x", "never_direct" },
	{ "never_direct = 10.0.0.0/33", "never_direct" },
	{ "never_direct = x:443", "never_direct" },
	{ "direct_categories = none", "direct_categories" },
	{ "never_direct = *.ok.example, bad..example", "bad..example" },
	{ "service_areas", "" },
	{ "verify_sni = yes", "verify_sni" },
	{ "verify_sni = DNS", "verify_sni" },
	{ "dns_timeout = 3", "dns_timeout" },
	{ "dns_timeout = 0", "dns_timeout" },
	{ "dns_timeout = -1", "dns_timeout" },
	{ "dns_timeout = 1s", "dns_timeout" },
	{ "base_url = http://endpoints.office.com", "base_url" },
	{ "instance = Mars", "instance" },
	{ "timeout = 0", "timeout" },
	{ "timeout = 3601", "timeout" },
	{ "retries = 11", "retries" },
	{ "retry_delay = 600.001", "retry_delay" },
	{ "no_ipv6 = maybe", "no_ipv6" },
	{ "asn_database = GeoLite2-ASN.mmdb", "asn_database" },
	{ "asn_check = yes", "asn_check" },
	{ "asn_check = Refuse", "asn_check" },
	{ "trusted_asns = 8075, Microsoft", "Microsoft" },
	{ "trusted_asns = AS0", "trusted_asns" },
	{ "trusted_asns = 8075-8068", "8075-8068" },
	{ "trusted_asns = 4294967296", "trusted_asns" },
	{ "trusted_asns = AS", "trusted_asns" },
	{ "trusted_asns = 8068-", "trusted_asns" },
	{ "trusted_asns = -8075", "trusted_asns" },
};

/* parse_asn_range: what trusted_asns accepts, and the range it means. */
struct asn_case {
	const char *s;
	int rc;
	uint32_t lo, hi;
};

static const struct asn_case asn_cases[] = {
	{ "8075", 0, 8075, 8075 },
	{ "AS8075", 0, 8075, 8075 },
	{ "as8075", 0, 8075, 8075 },
	{ "aS8075", 0, 8075, 8075 },
	{ "8068-8075", 0, 8068, 8075 },
	{ "AS8068-AS8075", 0, 8068, 8075 },
	{ "AS8068-8075", 0, 8068, 8075 },
	{ "8075-8075", 0, 8075, 8075 },
	{ "1", 0, 1, 1 },
	{ "4294967295", 0, 4294967295u, 4294967295u },
	{ "1-4294967295", 0, 1, 4294967295u },
	{ "0", -1, 0, 0 },
	{ "AS0", -1, 0, 0 },
	{ "4294967296", -1, 0, 0 },
	{ "8075-8068", -1, 0, 0 },
	{ "", -1, 0, 0 },
	{ "AS", -1, 0, 0 },
	{ "ASN8075", -1, 0, 0 },
	{ "8075-", -1, 0, 0 },
	{ "-8075", -1, 0, 0 },
	{ "8068--8075", -1, 0, 0 },
	{ "80 75", -1, 0, 0 },
	{ "+8075", -1, 0, 0 },
	{ "0x1f8b", -1, 0, 0 },
	{ "8068-8075-8080", -1, 0, 0 },
};

static void
test_asn_range(void **state)
{
	const struct asn_case *c = *state;
	uint32_t lo = 7, hi = 7;
	const char *why = NULL;
	int rc = parse_asn_range(c->s, strlen(c->s), &lo, &hi, &why);

	assert_int_equal(rc, c->rc);
	if (rc == 0) {
		assert_int_equal(lo, c->lo);
		assert_int_equal(hi, c->hi);
	} else {
		assert_non_null(why);
	}
}

/* Each bad line alone: one error, "file:1: ...". */
static void
test_error_line(void **state)
{
	const struct err_line *e = *state;
	char text[256], prefix[600];
	struct loaded l;

	snprintf(text, sizeof(text), "%s\n", e->line);
	load_text(&l, text, strlen(text));
	assert_int_equal(l.rc, -1);
	if (l.e.n != 1) {
		print_errors(&l);
		fail_msg("%zu errors, want 1", l.e.n);
	}
	snprintf(prefix, sizeof(prefix), "%s:1: ", l.path);
	assert_true(strncmp(l.e.msg[0], prefix, strlen(prefix)) == 0);
	assert_true(strlen(l.e.msg[0]) > strlen(prefix));
	assert_non_null(strstr(l.e.msg[0], e->mention));
	unload(&l);
}

/* All bad lines of one file are reported, each with its own line number,
 * and the good lines around them still count. */
static void
test_all_errors(void **state)
{
	char text[4096], prefix[600];
	size_t o = 0, want = 0;
	unsigned line = 0, lines[64];
	struct loaded l;

	(void)state;
	o += (size_t)snprintf(text + o, sizeof(text) - o, "# header\n");
	line++;
	for (size_t i = 0; i < sizeof(err_lines) / sizeof(err_lines[0]); i++) {
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\n",
		    err_lines[i].line);
		lines[want++] = ++line;
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "service_areas = Area%zu\n", i);
		line++;
	}
	load_text(&l, text, o);
	assert_int_equal(l.rc, -1);
	if (l.e.n != want) {
		print_errors(&l);
		fail_msg("%zu errors, want %zu", l.e.n, want);
	}
	for (size_t i = 0; i < want; i++) {
		snprintf(prefix, sizeof(prefix), "%s:%u: ", l.path, lines[i]);
		if (strncmp(l.e.msg[i], prefix, strlen(prefix)) != 0)
			fail_msg("error %zu is \"%s\", want prefix \"%s\"", i,
			    l.e.msg[i], prefix);
	}
	assert_int_equal(l.e.dropped, 0);
	unload(&l);
}

/* More errors than CONFIG_MAX_ERRORS: the rest are counted, not lost. */
static void
test_many_errors(void **state)
{
	size_t n = CONFIG_MAX_ERRORS + 50;
	char *text = malloc(n * 16 + 1);
	size_t o = 0;
	struct loaded l;

	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(text + o, "bad%zu\n", i);
	load_text(&l, text, o);
	assert_int_equal(l.rc, -1);
	assert_int_equal(l.e.n, CONFIG_MAX_ERRORS);
	assert_int_equal(l.e.dropped, 50);
	free(text);
	unload(&l);
}

/* Lines longer than CONFIG_MAX_LINE bytes are an error; the file goes on
 * being read after them; exactly CONFIG_MAX_LINE bytes is fine. */
static void
test_long_lines(void **state)
{
	size_t max = CONFIG_MAX_LINE, o = 0;
	char *text = malloc(4 * max + 256), prefix[600];
	struct loaded l;

	(void)state;
	assert_non_null(text);
	/* line 1: exactly max bytes, a comment */
	text[o++] = '#';
	memset(text + o, 'x', max - 1);
	o += max - 1;
	text[o++] = '\n';
	/* line 2: max + 1 bytes */
	o += (size_t)sprintf(text + o, "service_areas = ");
	memset(text + o, 'y', max + 1 - 16);
	o += max + 1 - 16;
	text[o++] = '\n';
	/* line 3: 2 * max bytes */
	memset(text + o, 'z', 2 * max);
	o += 2 * max;
	text[o++] = '\n';
	/* line 4: good, line 5: bad */
	o += (size_t)sprintf(text + o, "match_ports = no\nbogus = 1\n");
	load_text(&l, text, o);
	assert_int_equal(l.rc, -1);
	if (l.e.n != 3) {
		print_errors(&l);
		fail_msg("%zu errors, want 3", l.e.n);
	}
	snprintf(prefix, sizeof(prefix), "%s:2: ", l.path);
	assert_true(strncmp(l.e.msg[0], prefix, strlen(prefix)) == 0);
	snprintf(prefix, sizeof(prefix), "%s:3: ", l.path);
	assert_true(strncmp(l.e.msg[1], prefix, strlen(prefix)) == 0);
	snprintf(prefix, sizeof(prefix), "%s:5: ", l.path);
	assert_true(strncmp(l.e.msg[2], prefix, strlen(prefix)) == 0);
	assert_false(l.c.policy.match_ports);
	unload(&l);
	/* a last line of exactly max bytes without LF is fine too */
	o = (size_t)sprintf(text, "state_dir = /");
	memset(text + o, 'd', max - o);
	load_text(&l, text, max);
	expect_clean(&l);
	assert_int_equal(strlen(l.c.state_dir), max - 12);
	unload(&l);
	/* and one byte more is not */
	o = (size_t)sprintf(text, "state_dir = /");
	memset(text + o, 'd', max + 1 - o);
	load_text(&l, text, max + 1);
	assert_int_equal(l.rc, -1);
	assert_int_equal(l.e.n, 1);
	unload(&l);
	free(text);
}

/* A NUL byte in a line is an error naming that line, whatever follows
 * it (C strings would cut the line there and apply what came before);
 * the line is not applied and the next line is read on its own. */
static void
test_nul_byte(void **state)
{
	static const char good[] =
	    "state_dir = /srv/a\n"
	    "match_ports = no\0# rest\n"
	    "required_only = yes\n";
	static const char bad[] =
	    "# header\n"
	    "\0never_direct = a.example\n"
	    "timeout = 0\n"
	    "retries = 1\0";
	char prefix[600];
	struct loaded l;

	(void)state;
	load_text(&l, good, sizeof(good) - 1);
	assert_int_equal(l.rc, -1);
	if (l.e.n != 1) {
		print_errors(&l);
		fail_msg("%zu errors, want 1", l.e.n);
	}
	snprintf(prefix, sizeof(prefix), "%s:2: NUL byte in line", l.path);
	assert_string_equal(l.e.msg[0], prefix);
	assert_string_equal(l.c.state_dir, "/srv/a");
	assert_true(l.c.policy.match_ports);    /* line 2 not applied */
	assert_true(l.c.policy.required_only);  /* line 3 read */
	unload(&l);
	load_text(&l, bad, sizeof(bad) - 1);
	assert_int_equal(l.rc, -1);
	if (l.e.n != 3) {
		print_errors(&l);
		fail_msg("%zu errors, want 3", l.e.n);
	}
	snprintf(prefix, sizeof(prefix), "%s:2: NUL byte in line", l.path);
	assert_string_equal(l.e.msg[0], prefix);
	snprintf(prefix, sizeof(prefix), "%s:3: timeout: ", l.path);
	assert_true(strncmp(l.e.msg[1], prefix, strlen(prefix)) == 0);
	snprintf(prefix, sizeof(prefix), "%s:4: NUL byte in line", l.path);
	assert_string_equal(l.e.msg[2], prefix);
	assert_int_equal(l.c.policy.never_direct.n, 0);
	assert_int_equal(config_get_number(&l.c, "retries"), 3);
	unload(&l);
}

/* A list entry longer than a host name can be. */
static void
test_long_entry(void **state)
{
	char text[600];
	size_t o;
	struct loaded l;

	(void)state;
	o = (size_t)sprintf(text, "never_direct = ");
	memset(text + o, 'a', 300);
	o += 300;
	o += (size_t)sprintf(text + o, ".example, ok.example\n");
	load_text(&l, text, o);
	assert_int_equal(l.rc, -1);
	assert_int_equal(l.e.n, 1);
	assert_non_null(strstr(l.e.msg[0], "never_direct"));
	unload(&l);
}

/* At most CONFIG_MAX_GLOBS entries of extra_direct and never_direct
 * together with a wildcard after the start; leading '*' patterns and
 * CIDRs do not count.  One past it is an error naming the line. */
static void
test_glob_entries(void **state)
{
	size_t cap = 64 + 40 * (CONFIG_MAX_GLOBS + 8);
	char *text = malloc(cap);
	struct loaded l;

	(void)state;
	assert_non_null(text);
	for (size_t extra = 0; extra < 2; extra++) {
		size_t o = (size_t)snprintf(text, cap, "extra_direct = *.a.example,"
		    " 192.0.2.0/24\n");

		for (size_t i = 0; i < CONFIG_MAX_GLOBS + extra; i++)
			o += (size_t)snprintf(text + o, cap - o, "%s = x%zu.*.example\n",
			    i % 2 ? "never_direct" : "extra_direct", i);
		load_text(&l, text, o);
		if (extra == 0) {
			expect_clean(&l);
			assert_int_equal(l.c.policy.extra_direct.n +
			    l.c.policy.never_direct.n, CONFIG_MAX_GLOBS + 2);
		} else {
			assert_int_equal(l.rc, -1);
			assert_int_equal(l.e.n, 1);
			assert_non_null(strstr(l.e.msg[0], "wildcard after the start"));
			assert_non_null(strstr(l.e.msg[0], ":130:"));
		}
		unload(&l);
	}
	free(text);
}

static void
test_missing_file(void **state)
{
	struct m365_config c;
	struct config_errors e = { { 0 }, 0, 0 };
	const char *path = "/nonexistent-m365-test/m365-direct.conf";

	(void)state;
	assert_int_equal(config_init(&c), 0);
	assert_int_equal(config_load(&c, path, false, &e), 0);
	assert_int_equal(e.n, 0);
	check_defaults(&c);
	assert_int_equal(config_load(&c, path, true, &e), -1);
	assert_int_equal(e.n, 1);
	assert_true(strncmp(e.msg[0], path, strlen(path)) == 0);
	assert_true(e.msg[0][strlen(path)] == ':');
	check_defaults(&c);
	config_errors_free(&e);
	config_free(&c);
}

/* A directory is not a configuration file, required or not. */
static void
test_directory(void **state)
{
	struct m365_config c;
	struct config_errors e = { { 0 }, 0, 0 };
	const char *dir = getenv("TMPDIR");

	(void)state;
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	assert_int_equal(config_init(&c), 0);
	assert_int_equal(config_load(&c, dir, true, &e), -1);
	assert_true(e.n >= 1);
	assert_true(strncmp(e.msg[0], dir, strlen(dir)) == 0);
	config_errors_free(&e);
	config_free(&c);
}

/* --- the helpers ------------------------------------------------------- */

struct pc_case {
	const char *s;
	bool ok;
	unsigned mask;
};

static const struct pc_case pc_cases[] = {
	{ "optimize,allow", true, DEFAULT_MASK },
	{ "optimize", true, MASK(M365_CAT_OPTIMIZE) },
	{ "Default", true, MASK(M365_CAT_DEFAULT) },
	{ "allow , optimize", true, DEFAULT_MASK },
	{ "optimize\tallow", true, DEFAULT_MASK },
	{ "none", false, 0 },
	{ "optimized", false, 0 },
	{ "optimiz", false, 0 },
	{ "custom", false, 0 },
	{ "optimize;allow", false, 0 },
};

static void
test_parse_categories(void **state)
{
	const struct pc_case *c = *state;
	unsigned mask = 0xdead;
	const char *why = NULL;
	int rc = config_parse_categories(c->s, &mask, &why);

	if (!c->ok) {
		assert_int_equal(rc, -1);
		assert_non_null(why);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(mask, c->mask);
}

struct entry_case {
	const char *s;
	bool ok;
};

static const struct entry_case entry_cases[] = {
	{ "login.microsoftonline.com", true },
	{ "*.contoso.com", true },
	{ "*cdn.example", true },
	{ "autodiscover.*.example", true },
	{ "10.0.0.0/8", true },
	{ "10.1.2.3", true },
	{ "10.1.2.3/32", true },
	{ "2603:1006::/40", true },
	{ "2603:1006::5", true },
	{ "::ffff:10.1.2.3", true },
	{ "10.0.0.1/8", false },
	{ "10.0.0.0/33", false },
	{ "2603:1006::5/40", false },
	{ "10.0.0.0/", false },
	{ "x..y", false },
	{ ".x", false },
	{ "x.", false },
	{ "", false },
	{ "https://x", false },
	{ "x:443", false },
	{ "a b", false },
	{ "[::1]", false },
	{ "evil.com/8", false },
};

static void
test_check_entry(void **state)
{
	const struct entry_case *c = *state;
	const char *why = NULL;
	int rc = config_check_entry(c->s, &why);

	if (c->ok) {
		assert_int_equal(rc, 0);
	} else {
		assert_int_equal(rc, -1);
		assert_non_null(why);
	}
}

/* configs/m365-direct.conf documents every key (a "#key = value" line)
 * and nothing else: the file and the key table cannot drift apart. */
static void
test_documented(void **state)
{
	char path[1024], line[CONFIG_MAX_LINE + 2], seen[64][64];
	size_t n_seen = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/../../configs/m365-direct.conf",
	    suite_data_dir());
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t k = strspn(line + 1, "abcdefghijklmnopqrstuvwxyz0123456789_");
		const char *rest = line + 1 + k;

		if (line[0] != '#' || k == 0 || strncmp(rest, " = ", 3) != 0)
			continue;
		for (size_t i = 0; i <= config_key_count(); i++) {
			const char *name = config_key_name(i, NULL, NULL);

			if (name == NULL)
				fail_msg("%s documents \"%.*s\", which is no key",
				    path, (int)k, line + 1);
			if (strlen(name) == k && strncmp(name, line + 1, k) == 0)
				break;
		}
		assert_true(n_seen < 64 && k < 64);
		memcpy(seen[n_seen], line + 1, k);
		seen[n_seen++][k] = '\0';
	}
	fclose(f);
	assert_true(config_key_count() > 0);
	for (size_t i = 0; i < config_key_count(); i++) {
		const char *def, *doc, *name = config_key_name(i, &def, &doc);
		bool found = false;

		assert_non_null(doc);
		for (size_t j = 0; j < n_seen; j++)
			found |= strcmp(seen[j], name) == 0;
		if (!found)
			fail_msg("%s does not document the key %s", path, name);
	}
	assert_null(config_key_name(config_key_count(), NULL, NULL));
}

/* The key of the table named i, or fails: "which is no key". */
static size_t
key_named(const char *path, const char *name, size_t len)
{
	for (size_t i = 0; i < config_key_count(); i++) {
		const char *k = config_key_name(i, NULL, NULL);

		if (strlen(k) == len && strncmp(k, name, len) == 0)
			return i;
	}
	fail_msg("%s documents \"%.*s\", which is no key", path, (int)len,
	    name);
	return 0;
}

/* man/m365-direct.conf.5 has one ".It Ic KEY" per key of the table, and
 * each item says the table's default (".Ql DEFAULT") or "Default: none". */
static void
test_man_page(void **state)
{
	char path[1024], line[1024], item[4096] = "";
	bool seen[64] = { false };
	size_t cur = SIZE_MAX;
	FILE *f;

	(void)state;
	assert_true(config_key_count() <= 64);
	snprintf(path, sizeof(path), "%s/../../man/m365-direct.conf.5",
	    suite_data_dir());
	f = fopen(path, "r");
	assert_non_null(f);
	for (bool more = true; more; ) {
		more = fgets(line, sizeof(line), f) != NULL;
		if (!more || strncmp(line, ".It ", 4) == 0 ||
		    strncmp(line, ".El", 3) == 0) {
			if (cur != SIZE_MAX) {
				const char *def, *name = config_key_name(cur, &def,
				    NULL);
				char want[256];

				snprintf(want, sizeof(want), def != NULL ?
				    "Default:\n.Ql %s .\n" : "Default: none",
				    def);
				if (strstr(item, want) == NULL)
					fail_msg("%s: %s: no \"%s\"", path, name,
					    want);
			}
			cur = SIZE_MAX;
			item[0] = '\0';
		}
		if (more && strncmp(line, ".It Ic ", 7) == 0) {
			size_t k = strspn(line + 7,
			    "abcdefghijklmnopqrstuvwxyz0123456789_");

			cur = key_named(path, line + 7, k);
			if (seen[cur])
				fail_msg("%s: %s twice", path, line + 7);
			seen[cur] = true;
		} else if (more && cur != SIZE_MAX &&
		    strlen(item) + strlen(line) < sizeof(item)) {
			strcat(item, line);
		}
	}
	fclose(f);
	for (size_t i = 0; i < config_key_count(); i++)
		if (!seen[i])
			fail_msg("%s does not document the key %s", path,
			    config_key_name(i, NULL, NULL));
}

/* Each key's default, written in a file, gives what config_init gives:
 * the table's defaults and the setters agree. */
static void
test_defaults_as_text(void **state)
{
	char text[4096] = "";
	struct loaded l;

	(void)state;
	for (size_t i = 0; i < config_key_count(); i++) {
		const char *def, *name = config_key_name(i, &def, NULL);

		if (def != NULL)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
			    "%s = %s\n", name, def);
	}
	load_text(&l, text, strlen(text));
	expect_clean(&l);
	check_defaults(&l.c);
	unload(&l);
}

int
main(void)
{
	struct suite s = { 0 };

	suite_add(&s, test_defaults, NULL, "config_init defaults");
	suite_add(&s, test_documented, NULL,
	    "configs/m365-direct.conf documents every key, and only keys");
	suite_add(&s, test_man_page, NULL,
	    "man/m365-direct.conf.5 documents every key with its default");
	suite_add(&s, test_defaults_as_text, NULL,
	    "every default, written in a file, reads back the same");
	for (size_t i = 0; i < sizeof(neutral) / sizeof(neutral[0]); i++)
		suite_add(&s, test_neutral, (void *)neutral[i],
		    "blank and comment lines %zu", i);
	suite_add(&s, test_every_key, NULL, "every key");
	suite_add(&s, test_updater_keys, NULL,
	    "the updater's keys, read with config_get_*");
	suite_add(&s, test_set, NULL,
	    "config_set: an option over the file, with the file's checks");
	suite_add(&s, test_layout, NULL,
	    "blanks, tabs, CRLF, trailing comments, = in a value");
	for (size_t i = 0; i < sizeof(cat_cases) / sizeof(cat_cases[0]); i++)
		suite_add(&s, test_categories, (void *)&cat_cases[i],
		    "direct_categories: %.60s", cat_cases[i].text);
	suite_add(&s, test_repeated_lists, NULL,
	    "repeated list keys and comma lists add up");
	for (size_t i = 0; i < sizeof(bool_cases) / sizeof(bool_cases[0]); i++)
		suite_add(&s, test_bool, (void *)&bool_cases[i],
		    "bool \"%s\" -> %s", bool_cases[i].v, bool_cases[i].ok ?
		    (bool_cases[i].value ? "yes" : "no") : "error");
	for (size_t i = 0; i < sizeof(err_lines) / sizeof(err_lines[0]); i++)
		suite_add(&s, test_error_line, (void *)&err_lines[i],
		    "line \"%s\"", err_lines[i].line);
	for (size_t i = 0; i < sizeof(asn_cases) / sizeof(asn_cases[0]); i++)
		suite_add(&s, test_asn_range, (void *)&asn_cases[i],
		    "parse_asn_range \"%s\" -> %s", asn_cases[i].s,
		    asn_cases[i].rc == 0 ? "ok" : "rejected");
	suite_add(&s, test_all_errors, NULL,
	    "every bad line reported with its line number");
	suite_add(&s, test_many_errors, NULL,
	    "more than CONFIG_MAX_ERRORS errors");
	suite_add(&s, test_long_lines, NULL, "over-long lines");
	suite_add(&s, test_long_entry, NULL, "over-long list entry");
	suite_add(&s, test_nul_byte, NULL,
	    "a NUL byte: an error naming its line, the next line read");
	suite_add(&s, test_glob_entries, NULL,
	    "at most CONFIG_MAX_GLOBS inner-wildcard entries");
	suite_add(&s, test_missing_file, NULL, "missing file, required or not");
	suite_add(&s, test_directory, NULL, "a directory");
	for (size_t i = 0; i < sizeof(pc_cases) / sizeof(pc_cases[0]); i++)
		suite_add(&s, test_parse_categories, (void *)&pc_cases[i],
		    "config_parse_categories \"%s\"", pc_cases[i].s);
	for (size_t i = 0; i < sizeof(entry_cases) / sizeof(entry_cases[0]);
	    i++)
		suite_add(&s, test_check_entry, (void *)&entry_cases[i],
		    "config_check_entry \"%s\" -> %s", entry_cases[i].s,
		    entry_cases[i].ok ? "ok" : "rejected");
	return suite_run(&s, "config");
}
