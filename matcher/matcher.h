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

/* Looks up the host name or IP literal query[0..len) (raw: case, trailing
 * dot and [brackets] are normalised here) with TCP port port, or port < 0
 * when unknown.  Fills *v; never fails (an invalid query is category NONE
 * with a reason).  Allocation free; one thread at a time per rule set. */
void matcher_lookup(const struct m365_rules *r, const char *query, size_t len,
    int port, struct m365_verdict *v);

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

/* "optimize", "allow", "default", "none". */
const char *matcher_category_name(enum m365_category c);

/* "port", "service area", "not required", or "" for M365_APPLIES. */
const char *matcher_exclusion_name(enum m365_exclusion e);

#endif
