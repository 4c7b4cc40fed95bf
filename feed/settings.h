/* settings.h - how m365-direct update fetches and what it runs after a
 * change: the updater's keys of the configuration file (the reader,
 * matcher/config.c, knows their syntax and bounds; this is their type). */
#ifndef M365_SETTINGS_H
#define M365_SETTINGS_H

#include <stdbool.h>

#include "config.h"
#include "validate.h"

struct m365_update {
	const char *base_url;           /* https://… or file://… */
	const char *instance;           /* Worldwide, USGovDoD, USGovGCCHigh, China */
	const char *ca_file;            /* NULL: the system's CAs */
	const char *proxy;              /* NULL: https_proxy / no_proxy */
	const char *tenant;             /* NULL: none (TenantName=) */
	bool no_ipv6;                   /* NoIPv6=true */
	unsigned timeout;               /* seconds per request, at least 1 */
	unsigned retries;               /* after the first try */
	unsigned retry_delay_ms;        /* first backoff; doubles */
	const struct m365_strlist *on_change;  /* argv run after a change; no shell */
	unsigned min_prefix_v4, min_prefix_v6;  /* the guards' shortest prefixes */
	const char *public_suffix_list; /* NULL: the system's or libpsl's */
};

/* The updater's settings in c; every pointer is borrowed from c. */
void update_settings(struct m365_update *u, const struct m365_config *c);

/* How the guards check data of instance (NULL: u's) under u: what update
 * runs before an install, and status, check and export on the data in
 * use.  force lifts the shrink guard only. */
void update_guard_opts(struct validate_opts *o, const struct m365_update *u,
    const char *instance, bool force);

#endif
