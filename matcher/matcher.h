/* matcher.h - endpoint data + policy compiled into one immutable rule set.
 *
 * One definition of the semantics (DESIGN.md §3) that the helper, the CLI and
 * every exporter use: shExpMatch patterns, host normalisation, the TCP-port
 * filter, highest category over all matching sets, the policy's direct set,
 * never_direct always wins, extra_direct makes direct. */
#ifndef M365_MATCHER_H
#define M365_MATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "endpoints.h"

struct m365_rules;

/* What a match came from. */
enum m365_source_kind {
	M365_FROM_SET,          /* an endpoint set of the data */
	M365_FROM_EXTRA,        /* policy extra_direct */
	M365_FROM_NEVER         /* policy never_direct */
};

/* Why a matching set does not count. */
enum m365_exclusion {
	M365_APPLIES = 0,
	M365_EXCLUDED_PORT,          /* query port not in the set's tcpPorts */
	M365_EXCLUDED_SERVICE_AREA,  /* policy service_areas */
	M365_EXCLUDED_NOT_REQUIRED   /* policy required_only */
};

struct m365_match {
	enum m365_source_kind kind;
	int set_id;                     /* M365_FROM_SET only */
	enum m365_category category;    /* M365_FROM_SET only */
	const char *what;               /* pattern or prefix; borrowed */
	enum m365_exclusion excluded;
};

#define M365_VERDICT_MATCHES 32         /* kept for explaining; all count */

struct m365_verdict {
	enum m365_category category;    /* highest of the applying sets */
	bool direct;
	bool extra_direct;              /* an extra_direct entry matched */
	bool never_direct;              /* a never_direct entry matched */
	bool custom;                    /* direct by extra_direct alone */
	bool is_ip;
	const char *reason;             /* invalid query: static text; or NULL */
	size_t n_matches;               /* stored in matches[] */
	size_t n_total;                 /* all matches, stored or not */
	struct m365_match matches[M365_VERDICT_MATCHES];
};

/* Compiles data under policy into a new rule set.  On success the rules own
 * data (matcher_free frees it); on failure the caller still does.  policy is
 * copied.  Returns NULL with a message in err (out of memory, a bad
 * never_direct/extra_direct entry). */
struct m365_rules *matcher_compile(struct m365_data *data,
    const struct m365_policy *policy, char *err, size_t errlen);
void matcher_free(struct m365_rules *r);

/* matcher_compile that borrows data instead: data must outlive the rules,
 * and matcher_free leaves it alone. */
struct m365_rules *matcher_compile_borrowed(const struct m365_data *data,
    const struct m365_policy *policy, char *err, size_t errlen);

/* Looks up the host name or IP literal query[0..len) (raw: case, trailing
 * dot and [brackets] are normalised here) with TCP port port, or port < 0
 * when unknown.  Fills *v; never fails (an invalid query is category NONE
 * with a reason).  Allocation free; one thread at a time per rule set. */
void matcher_lookup(const struct m365_rules *r, const char *query, size_t len,
    int port, struct m365_verdict *v);

/* Why a connection's answer differs from its destination's verdict
 * (DESIGN.md §3 "Identity"). */
enum m365_reason {
	M365_REASON_NONE = 0,
	M365_REASON_SNI_MISMATCH,       /* destination and SNI disagree */
	M365_REASON_SNI_VERIFIED,       /* the IP is one of the SNI's addresses */
	M365_REASON_DNS_TIMEOUT,        /* the SNI name's lookup took too long */
	M365_REASON_DNS_FAILED,         /* it failed (SERVFAIL, refused, ...) */
	M365_REASON_DNS_BUSY            /* too many lookups waiting already */
};

/* A connection's identities, each on its own, and the one answer they
 * allow: direct only if every identity that is known is direct on its own,
 * so the SNI can narrow a verdict, never widen it.  The answer's category
 * and sets are the weaker identity's (the one that is not direct, or the
 * lower category), so no note claims more than every identity gives. */
struct m365_identity {
	struct m365_verdict dst;        /* the destination (%DST) on its own */
	struct m365_verdict sni;        /* the TLS SNI on its own: has_sni */
	bool has_sni;
	bool direct;                    /* the answer */
	bool custom;                    /* direct by extra_direct alone */
	enum m365_category category;
	bool from_sni;                  /* category, sets, rule: the SNI's */
	enum m365_reason reason;
	bool dns_may_verify;            /* see matcher_identity_dns */
};

/* Looks up a connection to dst[0..dlen) (the CONNECT host, or the original
 * destination IP when intercepting) whose TLS SNI is sni[0..slen) (sni
 * NULL: none known), with TCP port port (< 0: unknown), and combines the
 * two verdicts by the identity rule into *id.  dns_may_verify is set when
 * the destination is an IP that is not direct (and not never_direct) but
 * the SNI is a direct name: only a DNS check can then make it direct.
 * Never fails; allocation free. */
void matcher_lookup_identity(const struct m365_rules *r, const char *dst,
    size_t dlen, const char *sni, size_t slen, int port,
    struct m365_identity *id);

/* The combining step of matcher_lookup_identity: fills the answer of id
 * from id->dst and, when id->has_sni, id->sni. */
void matcher_identity_combine(struct m365_identity *id);

/* Applies the outcome of the DNS check of an identity with dns_may_verify
 * (--verify-sni dns): M365_REASON_SNI_VERIFIED, the destination IP is one
 * of the SNI name's addresses, makes it direct by the SNI's verdict; any
 * other outcome leaves it not direct and says why. */
void matcher_identity_dns(struct m365_identity *id, enum m365_reason outcome);

/* The verdict whose category, sets and rule the answer of id names. */
const struct m365_verdict *matcher_identity_basis(
    const struct m365_identity *id);

/* "sni-mismatch", "sni-verified", "dns-timeout", "dns-failed", "dns-busy",
 * or NULL for M365_REASON_NONE. */
const char *matcher_reason_name(enum m365_reason r);

/* Writes to ids the ids of the sets that count in v, once each, in match
 * order, up to cap (M365_VERDICT_MATCHES is always enough); returns how
 * many it wrote. */
size_t matcher_verdict_sets(const struct m365_verdict *v, int *ids,
    size_t cap);

/* The data the rules were compiled from (borrowed). */
const struct m365_data *matcher_data(const struct m365_rules *r);

/* Whether policy p leaves set s out (service_areas, required_only), and
 * why; M365_APPLIES when it counts. */
enum m365_exclusion matcher_policy_exclusion(const struct m365_policy *p,
    const struct m365_set *s);

/* One entry of the compiled rules as a generated file sees it, without a
 * port: a pattern or a prefix, and what it came from. */
struct m365_entry {
	enum m365_source_kind kind;     /* a set, extra_direct, never_direct */
	enum m365_category category;    /* the set's; NONE for the policy */
	const struct m365_set *set;     /* FROM_SET only; borrowed */
	const char *pattern;            /* a lower-case pattern, or NULL */
	const struct ip_prefix *prefix; /* else the prefix; borrowed */
};

/* Returns non-zero to stop matcher_entries with that value. */
typedef int m365_entry_fn(void *ctx, const struct m365_entry *e);

/* The one view of the rules every exporter reads: calls fn for each
 * entry that counts without a port, the patterns and prefixes of the sets
 * whose category is in mask (bit 1 << category) and that the policy does
 * not leave out (service_areas, required_only), then extra_direct and
 * never_direct, all as the lookups use them (policy entries normalised,
 * prefixes split around the IPv4 range where the matcher splits them).
 * Names first, in compile order, then prefixes.  Returns 0, or the first
 * non-zero value fn returned. */
int matcher_entries(const struct m365_rules *r, unsigned mask,
    m365_entry_fn *fn, void *ctx);

/* "optimize", "allow", "default", "none". */
const char *matcher_category_name(enum m365_category c);

/* "port", "service area", "not required", or "" for M365_APPLIES. */
const char *matcher_exclusion_name(enum m365_exclusion e);

#endif
