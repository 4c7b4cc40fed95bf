/* validate.h - the guards in front of the cache: nothing is installed that
 * is malformed, much smaller than what it replaces, or poisoned (an entry
 * so broad it would send arbitrary traffic around the security stack). */
#ifndef M365_VALIDATE_H
#define M365_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "endpoints.h"

/* Prefix lengths, as written (IPv4 /n, not its ::ffff:0:0/96 form).  No
 * Optimize/Allow prefix may be shorter than the floor, whatever the
 * configuration says (the config keys min_prefix_v4/v6 cannot go below
 * it); the default minimum leaves a margin over the widest prefix
 * Microsoft publishes (IPv4 /13, IPv6 /35 in every real file we hold). */
#define VALIDATE_FLOOR_V4 8
#define VALIDATE_FLOOR_V6 16
#define VALIDATE_MIN_V4 12
#define VALIDATE_MIN_V6 32

#define VALIDATE_TEXT_MAX 1024

/* How validate_data checks; all zero is the default everywhere. */
struct validate_opts {
	bool force;                     /* lifts the shrink guard, never poison */
	unsigned min_v4, min_v6;        /* shortest prefix; 0: VALIDATE_MIN_*;
	                                 * below the floor: the floor */
	const char *psl_file;           /* a public suffix list file (libpsl
	                                 * reads .dat and DAFSA); NULL: the
	                                 * system's list or libpsl's built-in
	                                 * one, whichever is newer */
	const char *instance;           /* the data's instance ("China"): the
	                                 * Microsoft suffixes of the private
	                                 * section it may list; NULL: none */
};

/* What validate_data reports besides pass or fail. */
struct validate_result {
	/* The public suffix list used, e.g. "libpsl's built-in list of
	 * 2023-02-09" or a file name; "" when none could be loaded. */
	char psl[256];
	/* "" or the private-section suffixes accepted because they are
	 * Microsoft's own platforms (validate.c lists them), naming each
	 * pattern and its set: the update warns with it. */
	char warning[VALIDATE_TEXT_MAX];
	size_t n_accepted;              /* patterns accepted so */
};

/* Checks next (already parsed by endpoints_parse, which did the schema)
 * against the installed data prev (NULL when none); o NULL means the
 * defaults, res NULL no report:
 *   - poison in Optimize/Allow sets: a pattern that is only wildcards, ends
 *     in one, has no whole label after the last one or a numeric last
 *     label, or whose fixed part is a public suffix (libpsl: the ICANN
 *     section, and the private section but for Microsoft's own platforms
 *     in the data of their instance); a prefix shorter than the minimum,
 *     or overlapping a reserved range (validate.c lists them);
 *   - unless o->force: fewer than half the sets, names or prefixes of prev.
 * Returns 0, or -1 with a message naming the first offending set and
 * entry in err. */
int validate_data(const struct m365_data *next, const struct m365_data *prev,
    const struct validate_opts *o, struct validate_result *res, char *err,
    size_t errlen);

#endif
