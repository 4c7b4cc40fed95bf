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

/* How m365-direct update fetches (feed/fetch.h). */
struct m365_update {
	char *base_url;                 /* https://… or file://… */
	char *instance;                 /* Worldwide, USGovDoD, USGovGCCHigh, China */
	char *ca_file;                  /* NULL: the system's CAs */
	char *proxy;                    /* NULL: https_proxy / no_proxy */
	char *tenant;                   /* NULL: none (TenantName=) */
	bool no_ipv6;                   /* NoIPv6=true */
	unsigned timeout;               /* seconds per request */
	unsigned retries;               /* after the first try */
	unsigned retry_delay_ms;        /* first backoff; doubles */
	struct m365_strlist on_change;  /* argv run after a change; no shell */
};

#define M365_DEFAULT_BASE_URL "https://endpoints.office.com"
#define M365_DEFAULT_INSTANCE "Worldwide"
#define M365_MAX_TIMEOUT 3600
#define M365_MAX_RETRIES 10
#define M365_MAX_RETRY_DELAY_MS 600000

/* How the helper checks a TLS SNI it cannot vouch for by the rules alone
 * (DESIGN.md §3 "Identity"; helper/resolve.h). */
struct m365_sni {
	bool verify_dns;                /* verify_sni = dns */
	char *dns_servers;              /* NULL: /etc/resolv.conf */
	unsigned dns_timeout_ms;        /* 1..M365_MAX_DNS_TIMEOUT_MS */
};

#define M365_MAX_DNS_TIMEOUT_MS 2000

struct m365_config {
	char *state_dir;
	struct m365_policy policy;
	struct m365_update update;
	struct m365_sni sni;
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

void config_free(struct m365_config *c);
void config_errors_free(struct config_errors *e);

/* Parses a list of direct categories ("optimize,allow") into a mask.
 * Returns 0, or -1 with a reason in *why. */
int config_parse_categories(const char *s, unsigned *mask, const char **why);

/* Whether name is one of the web service's instances. */
bool config_instance_valid(const char *name);

/* Checks one extra_direct/never_direct entry: a host pattern or a CIDR (a
 * bare address is a host prefix).  Returns 0, or -1 with *why. */
int config_check_entry(const char *s, const char **why);

#endif
