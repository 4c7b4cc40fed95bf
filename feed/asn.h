/* asn.h - the ASN cross-check of new endpoint data (README "The ASN
 * cross-check"): every direct address range must lie in networks that a
 * trusted AS originates, as an IP-to-ASN MaxMind DB says (GeoLite2-ASN,
 * DB-IP ASN Lite, any database with autonomous_system_number and
 * autonomous_system_organization).  Each prefix is looked at over its
 * whole range, block by block as the database divides it, never through
 * one sample address.  libmaxminddb is linked by m365-direct (update,
 * check), never by the helper. */
#ifndef M365_ASN_H
#define M365_ASN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "endpoints.h"
#include "prefix.h"

#define ASN_ORG_MAX 128                 /* organisation text kept, bytes */
#define ASN_DB_MAX_BYTES (1024u * 1024 * 1024)  /* GeoLite2-ASN: ~10 MB */

/* --- the database ------------------------------------------------------ */

struct asn_db;

/* Opens path (a regular file of at most ASN_DB_MAX_BYTES, mapped).
 * Returns the database, or NULL with a message naming path in err. */
struct asn_db *asn_db_open(const char *path, char *err, size_t errlen);
void asn_db_close(struct asn_db *db);

/* Whether the database holds IPv6 (ip_version 6) or IPv4 only. */
bool asn_db_has_v6(const struct asn_db *db);

/* What the database says about an address. */
struct asn_origin {
	bool known;                     /* a record with an AS number */
	uint32_t asn;                   /* 0 unless known */
	/* autonomous_system_organization as printable ASCII (any other
	 * byte and '\\' as \xHH), "" when the record has none */
	char org[ASN_ORG_MAX];
};

enum asn_lookup {
	ASN_LOOKUP_OK,                  /* *o and *block filled */
	ASN_LOOKUP_NO_V6,               /* IPv6 address, IPv4-only database */
	ASN_LOOKUP_ERROR                /* err says why */
};

/* Looks up a (an IPv6 address, or with v4 the IPv4-mapped ::ffff:a.b.c.d
 * of an IPv4 one) and sets *block to the network the database gives the
 * answer for, known or not, in the 128-bit space of prefix.h (IPv4 as
 * ::ffff:0:0/96, whether the database is ip_version 4 or 6).  A record
 * without an AS number is an error: not an ASN database. */
enum asn_lookup asn_db_lookup(const struct asn_db *db, const struct ip_addr *a,
    bool v4, struct asn_origin *o, struct ip_prefix *block, char *err,
    size_t errlen);

/* --- the walk over a prefix ---------------------------------------------- */

/* One block of a prefix as the database divides it, clipped to the
 * prefix. */
struct asn_part {
	struct ip_addr first, last;
	const struct asn_origin *origin;        /* borrowed for the call */
};

typedef void asn_part_fn(const struct asn_part *part, void *arg);

enum asn_walk {
	ASN_WALK_DONE,                  /* the whole prefix was reported */
	ASN_WALK_CAP,                   /* max_blocks parts reported; the
	                                 * rest of the prefix was not seen */
	ASN_WALK_NO_V6,                 /* IPv6 prefix, IPv4-only database */
	ASN_WALK_ERROR                  /* err says why */
};

/* Calls fn for each block the database distinguishes inside p, in address
 * order, at most max_blocks times: the first address is looked up, the
 * database names the block around it, the next lookup starts after that
 * block, until the block reaches p's last address.  *blocks (may be NULL)
 * gets the number of parts reported. */
enum asn_walk asn_walk_prefix(const struct asn_db *db,
    const struct ip_prefix *p, size_t max_blocks, asn_part_fn *fn, void *arg, size_t *blocks,
    char *err, size_t errlen);

/* --- which ASes are trusted ---------------------------------------------- */

struct asn_range {
	uint32_t lo, hi;
};

struct asn_trust {
	struct asn_range *r;            /* NULL when off */
	size_t n;
	bool off;                       /* no trusted ASes: nothing checked */
	bool from_instance;             /* the instance's default list */
};

/* The trusted ASes: trusted_asns when it is not empty, else the default
 * of the instance (Worldwide, USGovDoD, USGovGCCHigh: Microsoft's ASes;
 * China: none, so t->off).  Returns 0, or -1 with err (an item that is
 * not an AS number or range, out of memory). */
int asn_trust_init(struct asn_trust *t, const char *instance,
    const struct m365_strlist *trusted, char *err, size_t errlen);
bool asn_trust_has(const struct asn_trust *t, uint32_t asn);
void asn_trust_free(struct asn_trust *t);

/* The trusted ASes as text ("AS8068-8075, AS12076"; "none"), or "(too
 * many to show)" when that does not fit in size bytes. */
void asn_trust_format(const struct asn_trust *t, char *buf, size_t size);

#endif
