/* config.c - see config.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "endpoints.h"
#include "file.h"
#include "host.h"
#include "log.h"
#include "parse.h"

struct cfg_ctx {
	struct m365_config *c;
	const char *path;
	unsigned line;
	struct config_errors *errs;
	uint64_t seen;                  /* bit per list key already given */
	size_t globs;                   /* inner-wildcard entries so far */
};

static void
cfg_error(struct cfg_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps one finished message. */
static void
cfg_error_full(struct cfg_ctx *x, const char *full)
{
	if (x->errs->n == CONFIG_MAX_ERRORS) {
		x->errs->dropped++;
		return;
	}
	x->errs->msg[x->errs->n] = strdup(full);
	if (x->errs->msg[x->errs->n] != NULL)
		x->errs->n++;
}

static void
cfg_error(struct cfg_ctx *x, const char *fmt, ...)
{
	char msg[512], full[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->path == NULL)            /* config_set */
		snprintf(full, sizeof(full), "%s", msg);
	else if (x->line > 0)
		snprintf(full, sizeof(full), "%s:%u: %s", x->path, x->line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", x->path, msg);
	cfg_error_full(x, full);
}

static void
strlist_clear(struct m365_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
strlist_add(struct m365_strlist *l, const char *s, size_t len)
{
	char **v;

	if (l->n == CONFIG_MAX_LIST)
		return -1;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	l->v = v;
	if ((l->v[l->n] = parse_strndup(s, len)) == NULL)
		return -1;
	l->n++;
	return 0;
}

int
config_parse_categories(const char *s, unsigned *mask, const char **why)
{
	static const char *const names[] = { "default", "allow", "optimize" };
	unsigned m = 0;

	while (*s != '\0') {
		size_t len = strcspn(s, ", \t");
		int found = -1;

		for (int i = 0; i < 3 && len > 0; i++)
			if (strlen(names[i]) == len && strncasecmp(s, names[i], len) == 0)
				found = i + 1;
		if (len > 0 && found < 0) {
			*why = "unknown category (expected optimize, allow, default)";
			return -1;
		}
		if (found > 0)
			m |= 1u << found;
		s += len;
		s += strspn(s, ", \t");
	}
	*mask = m;
	return 0;
}

int
config_check_entry(const char *s, const char **why)
{
	struct ip_prefix p;
	char buf[HOST_NAME_MAX_LEN + 1];
	size_t len = strlen(s);

	if (prefix_entry_is_cidr(s, len))
		return prefix_parse(s, len, true, &p, why);
	return host_pattern_check(s, len, buf, why);
}

static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

int
config_check_asn(const char *s, const char **why)
{
	uint32_t lo, hi;

	return parse_asn_range(s, strlen(s), &lo, &hi, why);
}

/* What an item of a list key must be (NULL: any word). */
typedef int item_check_fn(const char *s, const char **why);

/* Adds every comma- or blank-separated item of value to a list key, each
 * checked by check (NULL: none); the first occurrence of a key in the file
 * replaces the default. */
static void
set_list(struct cfg_ctx *x, uint64_t bit, struct m365_strlist *l,
    const char *key, const char *value, item_check_fn *check)
{
	const char *s = value;

	if ((x->seen & bit) == 0)
		strlist_clear(l);
	x->seen |= bit;
	while (*s != '\0') {
		size_t len = strcspn(s, ", \t");
		char item[HOST_NAME_MAX_LEN + 2];
		const char *why;

		if (len > HOST_NAME_MAX_LEN) {
			cfg_error(x, "%s: entry too long", key);
		} else if (len > 0) {
			memcpy(item, s, len);
			item[len] = '\0';
			if (check != NULL && check(item, &why) != 0)
				cfg_error(x, "%s: \"%s\": %s", key, item, why);
			else if (check == config_check_entry &&
			    host_pattern_kind(item, NULL) ==
			    HOST_PATTERN_GLOB && ++x->globs > CONFIG_MAX_GLOBS)
				cfg_error(x, "%s: \"%s\": more than %d patterns "
				    "with a wildcard after the start in extra_direct "
				    "and never_direct", key, item, CONFIG_MAX_GLOBS);
			else if (strlist_add(l, item, len) != 0)
				cfg_error(x, "%s: too many entries (at most %d)",
				    key, CONFIG_MAX_LIST);
		}
		s += len;
		s += strspn(s, ", \t");
	}
}

bool
config_instance_valid(const char *name)
{
	static const char *const names[] = { "Worldwide", "USGovDoD",
	    "USGovGCCHigh", "China" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Every key: how its value is read, where it goes, its bounds, its
 * default (applied by config_init through the same code) and one line for
 * the documentation.  configs/m365-direct.conf documents each of them
 * (tests/unit/test_config.c checks it). */
enum key_type {
	KEY_PATH,                       /* an absolute path */
	KEY_STRING,
	KEY_URL,                        /* https:// or file:// */
	KEY_INSTANCE,                   /* one of the web service's */
	KEY_BOOL,                       /* yes/no, true/false, on/off, 1/0 */
	KEY_NUMBER,                     /* unsigned, min..max */
	KEY_SECONDS,                    /* seconds with a fraction, kept in
					   milliseconds, min..max ms */
	KEY_CATEGORIES,                 /* direct categories, a mask */
	KEY_WORDS,                      /* a list of words */
	KEY_ENTRIES,                    /* a list of host patterns or CIDRs */
	KEY_ARGV,                       /* a command and its arguments */
	KEY_VERIFY,                     /* dns or off, a bool */
	KEY_ASN_MODE,                   /* refuse, warn or off, a string */
	KEY_ASNS                        /* a list of AS numbers or ranges */
};

struct config_key {
	const char *name;
	enum key_type type;
	size_t off;                     /* in struct m365_config */
	uint64_t min, max;              /* KEY_NUMBER, KEY_SECONDS */
	const char *def;                /* NULL: none (empty, false, 0) */
	const char *doc;
};

#define OFF(field) offsetof(struct m365_config, field)

/* The updater's keys (feed/settings.c reads them): their slots in other[]. */
enum {
	O_BASE_URL, O_INSTANCE, O_TENANT, O_NO_IPV6, O_CA_FILE, O_PROXY,
	O_TIMEOUT, O_RETRIES, O_RETRY_DELAY, O_ON_CHANGE,
	O_MIN_PREFIX_V4, O_MIN_PREFIX_V6, O_PUBLIC_SUFFIX_LIST,
	O_ASN_DATABASE, O_ASN_CHECK, O_TRUSTED_ASNS,
	/* m365-direct assess's keys (assess/keys.c reads them) */
	O_ASSESS_CONTROL, O_ASSESS_TRIES, O_ASSESS_TIMEOUT, O_ASSESS_MARGIN,
	O_ASSESS_MAX_DISTANCE, O_GEO_DATABASE, O_OFFICE_LOCATION,
	N_OTHER
};
_Static_assert(N_OTHER <= CONFIG_MAX_OTHER, "other[] too small");
#define OTHER(slot) OFF(other[slot])

#define DEFAULT_BASE_URL "https://endpoints.office.com"
#define MAX_TIMEOUT 3600                /* seconds */
#define MAX_RETRIES 10
#define MAX_RETRY_DELAY_MS 600000
/* The guards' prefix-length minimum may be relaxed down to the floor of
 * feed/validate.h (VALIDATE_FLOOR_V4/V6, which test_update checks). */
#define MIN_PREFIX_FLOOR_V4 8
#define MIN_PREFIX_FLOOR_V6 16
#define MAX_ASSESS_TRIES 10             /* = ASSESS_MAX_TRIES */
#define MAX_ASSESS_TIMEOUT_MS 60000
#define MAX_ASSESS_MARGIN_MS 10000
#define MAX_DISTANCE_KM 20040           /* half the Earth round */

static const struct config_key keys[] = {
	{ "state_dir", KEY_PATH, OFF(state_dir), 0, 0, M365_DEFAULT_STATE_DIR,
	    "where the cached endpoint data lives" },
	{ "direct_categories", KEY_CATEGORIES, OFF(policy.direct_mask), 0, 0,
	    "optimize, allow", "which categories go direct" },
	{ "service_areas", KEY_WORDS, OFF(policy.service_areas), 0, 0, NULL,
	    "only these service areas count (all when empty)" },
	{ "required_only", KEY_BOOL, OFF(policy.required_only), 0, 0, "no",
	    "only sets Microsoft marks required count" },
	{ "match_ports", KEY_BOOL, OFF(policy.match_ports), 0, 0, "yes",
	    "with a known TCP port, only sets listing it count" },
	{ "extra_direct", KEY_ENTRIES, OFF(policy.extra_direct), 0, 0, NULL,
	    "host patterns or CIDRs that always go direct" },
	{ "never_direct", KEY_ENTRIES, OFF(policy.never_direct), 0, 0, NULL,
	    "host patterns or CIDRs that never go direct; wins over all" },
	{ "base_url", KEY_URL, OTHER(O_BASE_URL), 0, 0,
	    DEFAULT_BASE_URL, "where update fetches from" },
	{ "instance", KEY_INSTANCE, OTHER(O_INSTANCE), 0, 0,
	    "Worldwide", "which cloud's data" },
	{ "tenant", KEY_STRING, OTHER(O_TENANT), 0, 0, NULL,
	    "TenantName= for tenant-specific names" },
	{ "no_ipv6", KEY_BOOL, OTHER(O_NO_IPV6), 0, 0, "no",
	    "leave out IPv6 prefixes (NoIPv6=true)" },
	{ "ca_file", KEY_STRING, OTHER(O_CA_FILE), 0, 0, NULL,
	    "a CA bundle for update instead of the system's" },
	{ "proxy", KEY_STRING, OTHER(O_PROXY), 0, 0, NULL,
	    "a proxy for update (else https_proxy, no_proxy)" },
	{ "timeout", KEY_NUMBER, OTHER(O_TIMEOUT), 1, MAX_TIMEOUT,
	    "60", "seconds a request of update may take" },
	{ "retries", KEY_NUMBER, OTHER(O_RETRIES), 0, MAX_RETRIES,
	    "3", "retries after a timeout, connection error or 5xx" },
	{ "retry_delay", KEY_SECONDS, OTHER(O_RETRY_DELAY), 0,
	    MAX_RETRY_DELAY_MS, "2", "the first delay between retries" },
	{ "on_change", KEY_ARGV, OTHER(O_ON_CHANGE), 0, 0, NULL,
	    "a command run (no shell) after an install that changed the data" },
	{ "asn_database", KEY_PATH, OTHER(O_ASN_DATABASE), 0, 0, NULL,
	    "a MaxMind ASN database to cross-check the direct prefixes with" },
	{ "asn_check", KEY_ASN_MODE, OTHER(O_ASN_CHECK), 0, 0, "refuse",
	    "what update does with a prefix of an untrusted AS: refuse, warn, "
	    "off" },
	{ "trusted_asns", KEY_ASNS, OTHER(O_TRUSTED_ASNS), 0, 0, NULL,
	    "the AS numbers direct prefixes may belong to (else the "
	    "instance's)" },
	{ "verify_sni", KEY_VERIFY, OFF(sni.verify_dns), 0, 0, "off",
	    "dns: the helper checks an IP only its SNI vouches for in DNS" },
	{ "dns_servers", KEY_STRING, OFF(sni.dns_servers), 0, 0, NULL,
	    "DNS servers for verify_sni (else /etc/resolv.conf)" },
	{ "dns_timeout", KEY_SECONDS, OFF(sni.dns_timeout_ms), 1,
	    M365_MAX_DNS_TIMEOUT_MS, "2", "how long verify_sni waits for DNS" },
	{ "min_prefix_v4", KEY_NUMBER, OTHER(O_MIN_PREFIX_V4),
	    MIN_PREFIX_FLOOR_V4, 32, "12",
	    "update refuses Optimize/Allow IPv4 prefixes shorter than this" },
	{ "min_prefix_v6", KEY_NUMBER, OTHER(O_MIN_PREFIX_V6),
	    MIN_PREFIX_FLOOR_V6, 128, "32",
	    "update refuses Optimize/Allow IPv6 prefixes shorter than this" },
	{ "public_suffix_list", KEY_PATH, OTHER(O_PUBLIC_SUFFIX_LIST), 0, 0,
	    NULL, "the public suffix list update's guards read (else the "
	    "system's or libpsl's built-in one, the newer)" },
	{ "assess_control", KEY_STRING, OTHER(O_ASSESS_CONTROL), 0, 0,
	    "www.example.com", "a host that should not go direct, for assess "
	    "to compare with" },
	{ "assess_tries", KEY_NUMBER, OTHER(O_ASSESS_TRIES), 1,
	    MAX_ASSESS_TRIES, "3", "timed requests per host and path (median)" },
	{ "assess_timeout", KEY_SECONDS, OTHER(O_ASSESS_TIMEOUT), 100,
	    MAX_ASSESS_TIMEOUT_MS, "5", "seconds a connection's steps may "
	    "take in assess (a request twice that)" },
	{ "assess_path_margin_ms", KEY_NUMBER, OTHER(O_ASSESS_MARGIN), 0,
	    MAX_ASSESS_MARGIN_MS, "10", "how much shorter a round trip shows "
	    "local egress" },
	{ "assess_max_distance_km", KEY_NUMBER, OTHER(O_ASSESS_MAX_DISTANCE), 1,
	    MAX_DISTANCE_KM, "1000", "a front door farther from the office "
	    "is a warning" },
	{ "geo_database", KEY_PATH, OTHER(O_GEO_DATABASE), 0, 0, NULL,
	    "a MaxMind City-format database for assess's front doors" },
	{ "office_location", KEY_STRING, OTHER(O_OFFICE_LOCATION), 0, 0, NULL,
	    "LATITUDE,LONGITUDE of the office, for assess's distances" },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
/* struct cfg_ctx.seen has one bit per key */
_Static_assert(N_KEYS <= 64, "too many keys for cfg_ctx.seen");

/* The field of c that key k sets. */
static void *
field(struct m365_config *c, const struct config_key *k)
{
	return (char *)c + k->off;
}

/* How a key's value is stored, whatever its syntax. */
enum value_kind { KIND_STRING, KIND_NUMBER, KIND_BOOL, KIND_LIST };

static enum value_kind
value_kind(enum key_type t)
{
	switch (t) {
	case KEY_PATH:
	case KEY_STRING:
	case KEY_URL:
	case KEY_INSTANCE:
	case KEY_ASN_MODE:
		return KIND_STRING;
	case KEY_BOOL:
	case KEY_VERIFY:
		return KIND_BOOL;
	case KEY_WORDS:
	case KEY_ENTRIES:
	case KEY_ARGV:
	case KEY_ASNS:
		return KIND_LIST;
	case KEY_NUMBER:
	case KEY_SECONDS:
	case KEY_CATEGORIES:
		break;
	}
	return KIND_NUMBER;
}

/* Replaces *slot with a copy of value. */
static void
set_string(struct cfg_ctx *x, char **slot, const char *value)
{
	char *dup = strdup(value);

	if (dup == NULL) {
		cfg_error(x, "out of memory");
		return;
	}
	free(*slot);
	*slot = dup;
}

/* A command and its arguments, split on blanks (no shell, no quoting);
 * a later line replaces an earlier one. */
static void
set_argv(struct cfg_ctx *x, const char *key, struct m365_strlist *l,
    const char *value)
{
	strlist_clear(l);
	while (*value != '\0') {
		size_t len = strcspn(value, " \t");

		if (strlist_add(l, value, len) != 0) {
			cfg_error(x, "%s: too many arguments", key);
			return;
		}
		value += len;
		value += strspn(value, " \t");
	}
}

/* The value types whose text is a number. */
static void
set_number(struct cfg_ctx *x, const struct config_key *k, const char *value)
{
	unsigned *out = field(x->c, k);
	uint64_t n;

	if (k->type == KEY_NUMBER) {
		if (parse_uint(value, strlen(value), k->max, &n) != 0 ||
		    n < k->min)
			cfg_error(x, "%s: \"%s\" is not a number from %llu to "
			    "%llu", k->name, value, (unsigned long long)k->min,
			    (unsigned long long)k->max);
		else
			*out = (unsigned)n;
		return;
	}
	if (parse_millis(value, strlen(value), k->max, &n) != 0 || n < k->min)
		cfg_error(x, "%s: \"%s\" is not a number of seconds from %s to "
		    "%llu", k->name, value, k->min > 0 ? "0.001" : "0",
		    (unsigned long long)(k->max / 1000));
	else
		*out = (unsigned)n;
}

/* The value types that are one word of a fixed set or a checked text. */
static void
set_checked(struct cfg_ctx *x, const struct config_key *k, const char *value)
{
	bool *b = field(x->c, k);

	switch (k->type) {
	case KEY_PATH:
		if (value[0] != '/')
			cfg_error(x, "%s: must be an absolute path", k->name);
		else
			set_string(x, field(x->c, k), value);
		break;
	case KEY_URL:
		if (strncmp(value, "https://", 8) != 0 &&
		    strncmp(value, "file://", 7) != 0)
			cfg_error(x, "%s: only https:// and file:// are accepted",
			    k->name);
		else
			set_string(x, field(x->c, k), value);
		break;
	case KEY_INSTANCE:
		if (!config_instance_valid(value))
			cfg_error(x, "%s: \"%s\" is not Worldwide, USGovDoD, "
			    "USGovGCCHigh or China", k->name, value);
		else
			set_string(x, field(x->c, k), value);
		break;
	case KEY_BOOL:
		if (parse_bool(value, b) != 0)
			cfg_error(x, "%s: \"%s\" is not yes or no", k->name, value);
		break;
	case KEY_ASN_MODE:
		if (strcmp(value, "refuse") != 0 && strcmp(value, "warn") != 0 &&
		    strcmp(value, "off") != 0)
			cfg_error(x, "%s: \"%s\" is not refuse, warn or off",
			    k->name, value);
		else
			set_string(x, field(x->c, k), value);
		break;
	default:        /* KEY_VERIFY */
		if (strcmp(value, "dns") == 0 || strcmp(value, "off") == 0)
			*b = value[0] == 'd';
		else
			cfg_error(x, "%s: \"%s\" is not dns or off", k->name,
			    value);
		break;
	}
}

/* Sets key k (the index'th) from value.  The first occurrence of a list
 * key, or of direct_categories, in a file replaces the default; later
 * ones add to it. */
static void
set_key_value(struct cfg_ctx *x, size_t index, const char *value)
{
	const struct config_key *k = &keys[index];
	uint64_t bit = (uint64_t)1 << index;
	unsigned *mask, m;
	const char *why;

	switch (k->type) {
	case KEY_STRING:
		set_string(x, field(x->c, k), value);
		break;
	case KEY_NUMBER:
	case KEY_SECONDS:
		set_number(x, k, value);
		break;
	case KEY_CATEGORIES:
		mask = field(x->c, k);
		if (config_parse_categories(value, &m, &why) != 0)
			cfg_error(x, "%s: \"%s\": %s", k->name, value, why);
		else
			*mask = ((x->seen & bit) ? *mask : 0) | m;
		x->seen |= bit;
		break;
	case KEY_WORDS:
		set_list(x, bit, field(x->c, k), k->name, value, NULL);
		break;
	case KEY_ENTRIES:
		set_list(x, bit, field(x->c, k), k->name, value,
		    config_check_entry);
		break;
	case KEY_ASNS:
		set_list(x, bit, field(x->c, k), k->name, value,
		    config_check_asn);
		break;
	case KEY_ARGV:
		set_argv(x, k->name, field(x->c, k), value);
		break;
	default:
		set_checked(x, k, value);
		break;
	}
}

/* The index of key in keys[], or -1. */
static ptrdiff_t
key_index(const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(key, keys[i].name) == 0)
			return (ptrdiff_t)i;
	return -1;
}

static void
set_key(struct cfg_ctx *x, const char *key, const char *value)
{
	ptrdiff_t i = key_index(key);

	if (i < 0)
		cfg_error(x, "unknown key \"%s\"", key);
	else
		set_key_value(x, (size_t)i, value);
}

int
config_set(struct m365_config *c, const char *key, const char *value,
    char *why, size_t why_len)
{
	struct config_errors errs = { 0 };
	struct cfg_ctx x = { c, NULL, 0, &errs, ~(uint64_t)0, 0 };
	int rc;

	set_key(&x, key, value);
	rc = errs.n > 0 || errs.dropped > 0 ? -1 : 0;
	if (rc != 0 && why_len > 0)
		snprintf(why, why_len, "%s", errs.n > 0 ? errs.msg[0] :
		    "out of memory");
	config_errors_free(&errs);
	return rc;
}

/* Key k of kind want, for a getter; anything else is the caller's bug. */
static const void *
get_field(const struct m365_config *c, const char *key, enum value_kind want)
{
	ptrdiff_t i = key_index(key);

	if (i < 0 || value_kind(keys[i].type) != want) {
		log_warnx("config: no key \"%s\" of that kind (a bug)", key);
		abort();
	}
	return (const char *)c + keys[i].off;
}

const char *
config_get_string(const struct m365_config *c, const char *key)
{
	return *(char *const *)get_field(c, key, KIND_STRING);
}

unsigned
config_get_number(const struct m365_config *c, const char *key)
{
	return *(const unsigned *)get_field(c, key, KIND_NUMBER);
}

bool
config_get_bool(const struct m365_config *c, const char *key)
{
	return *(const bool *)get_field(c, key, KIND_BOOL);
}

const struct m365_strlist *
config_get_list(const struct m365_config *c, const char *key)
{
	return get_field(c, key, KIND_LIST);
}

size_t
config_key_count(void)
{
	return N_KEYS;
}

const char *
config_key_name(size_t i, const char **def, const char **doc)
{
	if (i >= N_KEYS)
		return NULL;
	if (def != NULL)
		*def = keys[i].def;
	if (doc != NULL)
		*doc = keys[i].doc;
	return keys[i].name;
}

static void
parse_line(struct cfg_ctx *x, char *line)
{
	char *hash = strchr(line, '#'), *eq, *key, *value;
	size_t klen, vlen;

	if (hash != NULL)
		*hash = '\0';
	eq = strchr(line, '=');
	klen = strlen(line);
	key = (char *)parse_trim(line, &klen);
	if (klen == 0)
		return;
	if (eq == NULL) {
		cfg_error(x, "expected \"key = value\"");
		return;
	}
	*eq = '\0';
	klen = strlen(key);
	key = (char *)parse_trim(key, &klen);
	key[klen] = '\0';
	vlen = strlen(eq + 1);
	value = (char *)parse_trim(eq + 1, &vlen);
	value[vlen] = '\0';
	if (klen == 0)
		cfg_error(x, "missing key before \"=\"");
	else if (vlen == 0)
		cfg_error(x, "%s: missing value", key);
	else
		set_key(x, key, value);
}

/* Parses the line text[0..len) (its LF not included) through buf, which
 * holds CONFIG_MAX_LINE + 1 bytes.  The line is measured in bytes, not as
 * a C string: a NUL inside would cut it short, and what came before the
 * NUL would be applied as if it were the whole line. */
static void
read_line(struct cfg_ctx *x, const char *text, size_t len, char *buf)
{
	if (len > CONFIG_MAX_LINE) {
		cfg_error(x, "line longer than %d bytes", CONFIG_MAX_LINE);
		return;
	}
	if (memchr(text, '\0', len) != NULL) {
		cfg_error(x, "NUL byte in line");
		return;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	buf[strcspn(buf, "\r")] = '\0';
	parse_line(x, buf);
}

int
config_init(struct m365_config *c)
{
	struct config_errors errs = { 0 };
	struct cfg_ctx x = { c, "defaults", 0, &errs, 0, 0 };
	bool ok;

	/* the defaults go through the setters: out of memory is the only
	 * error they can meet */
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].def != NULL)
			set_key_value(&x, i, keys[i].def);
	ok = errs.n == 0 && errs.dropped == 0;
	config_errors_free(&errs);
	return ok ? 0 : -1;
}

int
config_load(struct m365_config *c, const char *path, bool required,
    struct config_errors *errs)
{
	struct cfg_ctx x = { c, path, 0, errs, 0, 0 };
	struct buf text = BUF_INIT(CONFIG_MAX_BYTES);
	char line[CONFIG_MAX_LINE + 1], why[1024];
	const char *p, *end;
	int fd = file_open_read(path, false);

	if (fd < 0) {
		if (errno == ENOENT && !required)
			return 0;
		cfg_error(&x, "%s", strerror(errno));
		return -1;
	}
	if (file_read_fd(fd, path, CONFIG_MAX_BYTES, &text, why,
	    sizeof(why)) != 0) {
		close(fd);
		buf_free(&text);
		cfg_error_full(&x, why);        /* it names the path */
		return -1;
	}
	close(fd);
	for (p = text.p, end = text.p + text.len; p < end; ) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((lf != NULL ? lf : end) - p);

		x.line++;
		read_line(&x, p, len, line);
		p += len + (lf != NULL);
	}
	buf_free(&text);
	return errs->n > 0 || errs->dropped > 0 ? -1 : 0;
}

void
config_free(struct m365_config *c)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		void *f = field(c, &keys[i]);

		switch (value_kind(keys[i].type)) {
		case KIND_STRING:
			free(*(char **)f);
			*(char **)f = NULL;
			break;
		case KIND_LIST:
			strlist_clear(f);
			break;
		default:
			break;
		}
	}
}

void
config_errors_free(struct config_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	e->n = 0;
	e->dropped = 0;
}
