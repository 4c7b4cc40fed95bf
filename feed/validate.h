/* validate.h - the guards in front of the cache: nothing is installed that
 * is malformed, much smaller than what it replaces, or poisoned (an entry
 * so broad it would send arbitrary traffic around the security stack). */
#ifndef M365_VALIDATE_H
#define M365_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "endpoints.h"

/* Checks next (already parsed by endpoints_parse, which did the schema)
 * against the installed data prev (NULL when none):
 *   - poison in Optimize/Allow sets: a pattern that is only wildcards or
 *     whose fixed part is a public suffix (libpsl); an IPv4 prefix shorter
 *     than /8, an IPv6 one shorter than /16; a prefix overlapping private,
 *     loopback, link-local, multicast, documentation or unspecified space;
 *   - unless force: fewer than half the sets, names or prefixes of prev.
 * Returns 0, or -1 with a message naming the first offending set and
 * entry in err. */
int validate_data(const struct m365_data *next, const struct m365_data *prev,
    bool force, char *err, size_t errlen);

#endif
