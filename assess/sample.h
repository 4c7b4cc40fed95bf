/* sample.h - which Microsoft 365 hosts assess tries: by default a small
 * sample of the data in use (one Optimize host per service area, a few
 * Allow hosts), concrete names, a pattern's wildcards filled with a
 * stated label; or the hosts the admin names.  Every host is checked with
 * the matcher: it must go direct on TCP 443 under the policy. */
#ifndef M365_SAMPLE_H
#define M365_SAMPLE_H

#include <stddef.h>

#include "host.h"
#include "matcher.h"

#define SAMPLE_PORT 443
#define SAMPLE_MAX_ALLOW 3              /* Allow hosts in the default sample */
#define SAMPLE_AREA_MAX 32

struct sample_host {
	char name[HOST_NAME_MAX_LEN + 1];
	char pattern[HOST_NAME_MAX_LEN + 1];    /* filled from it; "" if none */
	enum m365_category category;
	bool custom;                    /* direct by extra_direct alone */
	char service_area[SAMPLE_AREA_MAX];     /* "" for custom */
	int set_id;                     /* -1 for custom */
};

/* Fills pattern's wildcards to make a concrete name: a '*' that is a
 * whole label becomes label, any other '*' nothing, a '?' "x".  Returns
 * 0, or -1 when the result is not a host name or does not fit size. */
int sample_fill(const char *pattern, const char *label, char *out,
    size_t size);

/* Whether label can fill a wildcard: 1 to 63 letters, digits and inner
 * hyphens. */
bool sample_label_valid(const char *label);

/* The default sample under the rules' policy: for each service area in
 * the order the data lists them, the first name of its first Optimize
 * set on TCP 443 (exact names before patterns), then up to
 * SAMPLE_MAX_ALLOW Allow hosts the same way, one per service area; each
 * one's own verdict on port 443 must be direct with that category.
 * Writes at most cap hosts to out; returns how many. */
size_t sample_pick(const struct m365_rules *r, const char *label,
    struct sample_host *out, size_t cap);

/* Describes a host the admin named: it must be a host name that goes
 * direct on TCP 443.  Returns 0, or -1 with *why (not a host name, not
 * direct, an IP address). */
int sample_describe(const struct m365_rules *r, const char *name,
    struct sample_host *h, const char **why);

#endif
