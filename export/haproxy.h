/* haproxy.h - HAProxy map files ("export haproxy"); haproxy_api.h
 * replaces them live ("haproxy-push").
 *
 * Eight maps, all always written (HAProxy refuses a configuration naming
 * a missing map file); the never_direct ones are looked up first and win:
 *
 *   m365-never-names.map      map_str  exact names            value "never"
 *   m365-never-suffixes.map   map_end  "*x" patterns: key x   value "never"
 *   m365-never-patterns.map   map_reg  other globs, anchored  value "never"
 *   m365-never-ips.map        map_ip   prefixes               "never" or "-"
 *   m365-direct-names.map     map_str                         category
 *   m365-direct-suffixes.map  map_end                         category
 *   m365-direct-patterns.map  map_reg                         category
 *   m365-direct-ips.map       map_ip                          category or "-"
 *
 * Values: "optimize", "allow", "default" (when the policy makes Default
 * direct) or "custom" (extra_direct alone).  "-" marks the two guard
 * entries of the ip maps (::/96 and 2002::/16): HAProxy's map_ip looks an
 * IPv6 address of those forms up as the IPv4 address it embeds, which
 * "m365-direct check" does not do; the guards stop that.  See
 * configs/haproxy/ for the frontends that use the maps. */
#ifndef M365_EXPORT_HAPROXY_H
#define M365_EXPORT_HAPROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "export.h"

enum haproxy_map_id {
	HAPROXY_NEVER_NAMES,
	HAPROXY_NEVER_SUFFIXES,
	HAPROXY_NEVER_PATTERNS,
	HAPROXY_NEVER_IPS,
	HAPROXY_DIRECT_NAMES,
	HAPROXY_DIRECT_SUFFIXES,
	HAPROXY_DIRECT_PATTERNS,
	HAPROXY_DIRECT_IPS,
	HAPROXY_MAPS
};

/* One generated map file: comment lines, then one "key value" line per
 * entry. */
struct haproxy_map {
	const char *file;               /* "m365-direct-names.map"; static */
	struct buf text;         /* the whole file */
	size_t entries_at;              /* offset of the first entry line */
	size_t n_entries;
};

struct haproxy_maps {
	struct haproxy_map map[HAPROXY_MAPS];
};

/* Builds the eight maps from x (deterministic: same entries, same bytes).
 * Returns 0, or -1 with err (out of memory); *m is then empty.  Free with
 * haproxy_maps_free (also after a failure). */
int haproxy_maps_build(const struct export_ctx *x, struct haproxy_maps *m,
    char *err, size_t errlen);
void haproxy_maps_free(struct haproxy_maps *m);

/* Writes every map to dir (made when missing, one level), each file
 * atomically.  Returns 0 or -1 with err. */
int haproxy_maps_install(const struct haproxy_maps *m, const char *dir,
    char *err, size_t errlen);

/* Writes dir/file (trailing slashes of dir dropped) to out; returns 0, or
 * -1 when it does not fit in size. */
int haproxy_map_path(const char *dir, const char *file, char *out,
    size_t size);

#endif
