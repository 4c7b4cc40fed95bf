/* asn_check.h - the ASN cross-check as a guard of "m365-direct update"
 * (feed/update.c runs it after validate.c's guards, before the install):
 * the direct prefixes of new data, walked over their whole range in an
 * ASN database (asn.h), must lie in blocks that trusted ASes originate.
 * What it finds comes back as a report: a result, one summary line and
 * one line per finding; it prints nothing. */
#ifndef M365_ASN_CHECK_H
#define M365_ASN_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "asn.h"
#include "config.h"
#include "endpoints.h"

/* Blocks looked up inside one prefix, and over one whole check: a prefix
 * that needs more is refused (the rest of it is never assumed trusted).
 * Microsoft's widest prefixes (/13) hold tens of blocks in real
 * databases. */
#define ASN_MAX_BLOCKS_PER_PREFIX 4096
#define ASN_MAX_BLOCKS_TOTAL (1u << 18)
#define ASN_MAX_LINES 64                /* report lines kept; then counted */
#define ASN_MSG_MAX 512

enum asn_mode {
	ASN_MODE_REFUSE,                /* untrusted: the update fails */
	ASN_MODE_WARN,                  /* untrusted: installed, said */
	ASN_MODE_OFF
};

/* "refuse", "warn", "off" (the config reader checked it); NULL: refuse. */
enum asn_mode asn_mode_parse(const char *s);

enum asn_result {
	ASN_RESULT_PASS,                /* every block known is trusted */
	ASN_RESULT_WARN,                /* untrusted blocks, asn_check = warn */
	ASN_RESULT_REFUSED,             /* untrusted blocks, or a cap met */
	ASN_RESULT_ERROR,               /* the database cannot be read */
	ASN_RESULT_OFF                  /* not checked: no database,
	                                 * asn_check = off, no trusted ASes */
};

/* "pass", "warn", "refused", "error", "off": status.json's words. */
const char *asn_result_name(enum asn_result r);

struct asn_check_opts {
	const char *database;           /* NULL: no check (result off) */
	const char *mode;               /* asn_check */
	const char *instance;
	const struct m365_strlist *trusted;         /* trusted_asns */
	const struct m365_strlist *extra_direct;    /* its CIDRs: warnings */
	unsigned direct_mask;           /* sets of these categories are
	                                 * checked too, besides Optimize and
	                                 * Allow */
};

struct asn_report {
	enum asn_result result;
	bool fails;                     /* the update must not install */
	/* One line saying what the check found: the first untrusted block
	 * (set, prefix, AS, organisation) when there is one. */
	char summary[ASN_MSG_MAX];
	/* Every finding, one line each ("asn_check: set 46: ips: ..."),
	 * warnings starting "asn_check: warning: "; more_lines counts those
	 * beyond ASN_MAX_LINES.  Owned. */
	char *lines[ASN_MAX_LINES];
	size_t n_lines, more_lines;
	size_t prefixes;                /* distinct prefixes looked at */
	size_t untrusted;               /* of them with an untrusted block */
	size_t unknown;                 /* with a block the database lacks */
	size_t capped;                  /* with more blocks than the cap */
	size_t extra_untrusted;         /* extra_direct CIDRs, untrusted */
};

/* Checks the Optimize and Allow prefixes of d (and those of the
 * categories in direct_mask), then extra_direct's CIDRs, and fills *r
 * (free it with asn_report_free).  Returns r->result; r->fails says
 * whether the update must fail: refused, or an unreadable database with
 * asn_check = refuse. */
enum asn_result asn_check_data(const struct asn_check_opts *o,
    const struct m365_data *d, struct asn_report *r);
void asn_report_free(struct asn_report *r);

#endif
