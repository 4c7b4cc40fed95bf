/* config.h - /etc/m365-direct/m365-direct.conf: "key = value" lines, '#'
 * comments, list keys repeatable (and comma-separated).  Errors come back as
 * "file:line: message", all of them, for config-test. */
#ifndef M365_CONFIG_H
#define M365_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define M365_DEFAULT_CONFIG "/etc/m365-direct/m365-direct.conf"
#define M365_DEFAULT_STATE_DIR "/var/lib/m365-direct"
#define CONFIG_MAX_LINE 4096
#define CONFIG_MAX_BYTES (1024 * 1024)
#define CONFIG_MAX_LIST 10000           /* entries per list key */
/* patterns with a wildcard after the start, in extra_direct and
 * never_direct together: a lookup may try each (matcher/names.h), so they
 * are bounded as in a data file (M365_DATA_MAX_GLOBS) */
#define CONFIG_MAX_GLOBS 128
#define CONFIG_MAX_ERRORS 100

struct m365_strlist {
	char **v;
	size_t n;
};

/* Which sets count and what is direct (DESIGN.md §3). */
struct m365_policy {
	unsigned direct_mask;           /* bit (1 << category) per direct one */
	struct m365_strlist service_areas;  /* empty: all */
	bool required_only;
	bool match_ports;
	struct m365_strlist extra_direct;   /* host patterns or CIDRs */
	struct m365_strlist never_direct;
};

/* How the helper checks a TLS SNI it cannot vouch for by the rules alone
 * (DESIGN.md §3 "Identity"; helper/resolve.h). */
struct m365_sni {
	bool verify_dns;                /* verify_sni = dns */
	char *dns_servers;              /* NULL: /etc/resolv.conf */
	unsigned dns_timeout_ms;        /* 1..M365_MAX_DNS_TIMEOUT_MS */
};

#define M365_MAX_DNS_TIMEOUT_MS 2000

/* A value as the reader keeps it for a key that another part owns (the
 * updater's: feed/settings.h); read it with config_get_*. */
union config_value {
	char *s;                        /* paths, URLs, words */
	unsigned n;                     /* numbers; seconds in milliseconds */
	bool b;
	struct m365_strlist l;          /* lists, a command's argv */
};

#define CONFIG_MAX_OTHER 32

/* The whole file.  The reader knows every key (its grammar: one table in
 * config.c); the matcher's settings and the helper's SNI check are typed
 * fields here, the others wait in other[] for the part that uses them. */
struct m365_config {
	char *state_dir;
	struct m365_policy policy;
	struct m365_sni sni;
	union config_value other[CONFIG_MAX_OTHER];
};

struct config_errors {
	char *msg[CONFIG_MAX_ERRORS];
	size_t n;
	size_t dropped;                 /* errors beyond CONFIG_MAX_ERRORS */
};

/* The keys config_load knows, for documentation and its test: the name
 * of the i'th (NULL past the last), its default as the file would write
 * it (NULL: none) and one line saying what it is. */
size_t config_key_count(void);
const char *config_key_name(size_t i, const char **def, const char **doc);

/* Fills *c with the defaults. Returns 0, or -1 when out of memory. */
int config_init(struct m365_config *c);

/* Reads path into *c (initialised with config_init).  A missing file is an
 * error only when required.  Returns 0, or -1 with every problem in *errs
 * ("file:line: message"); *c then holds what was read before, not applied. */
int config_load(struct m365_config *c, const char *path, bool required,
    struct config_errors *errs);

/* Sets key from value as one more line of the file would: for a command
 * line's options over the file.  Returns 0, or -1 with the message in
 * why ("key: ..."). */
int config_set(struct m365_config *c, const char *key, const char *value,
    char *why, size_t why_len);

/* The value of a key, as config_init, config_load and config_set left it.
 * key must be a key of that kind (a string, a number or seconds in
 * milliseconds, a yes/no, a list); anything else is a programming error
 * and aborts.  Strings may be NULL (not set); all are borrowed from c. */
const char *config_get_string(const struct m365_config *c, const char *key);
unsigned config_get_number(const struct m365_config *c, const char *key);
bool config_get_bool(const struct m365_config *c, const char *key);
const struct m365_strlist *config_get_list(const struct m365_config *c,
    const char *key);

void config_free(struct m365_config *c);
void config_errors_free(struct config_errors *e);

/* Parses a list of direct categories ("optimize,allow") into a mask.
 * Returns 0, or -1 with a reason in *why. */
int config_parse_categories(const char *s, unsigned *mask, const char **why);

/* Whether name is one of the web service's instances. */
bool config_instance_valid(const char *name);

/* Checks one trusted_asns item: "8075", "AS8075", "8068-8075"
 * (parse_asn_range).  Returns 0, or -1 with *why. */
int config_check_asn(const char *s, const char **why);

/* Checks one extra_direct/never_direct entry: a host pattern or a CIDR (a
 * bare address is a host prefix).  Returns 0, or -1 with *why. */
int config_check_entry(const char *s, const char **why);

#endif
