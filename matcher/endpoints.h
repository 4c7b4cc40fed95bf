/* endpoints.h - the web service's endpoint sets, loaded from JSON (cJSON).
 *
 * Tolerates what the real data does (DESIGN.md §2: absent keys, "" ports,
 * spaces in port lists, ranges, unknown keys and service areas) and rejects
 * what is wrong with a message naming the set id and field. */
#ifndef M365_ENDPOINTS_H
#define M365_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

/* Bounds on what one data file may hold: some 50 times what Microsoft
 * publishes today (worldwide, all service areas: about 100 sets, 350 URL
 * patterns, 300 prefixes, 1,700 JSON values, 50 KB; one or two patterns
 * with a wildcard after the start), so that a hostile file can neither
 * make a helper big (README "Limits": every file within them loads in
 * 32 MiB) nor make a lookup slow (each one may try every inner-wildcard
 * pattern, matcher/names.h). */
#define M365_DATA_MAX_BYTES (4u * 1024 * 1024)
#define M365_DATA_MAX_DEPTH 8
/* JSON values (cJSON nodes, some 100 bytes each while loading): without
 * this, 4 MiB of "[0,0,0,..." is 2 million of them, 160 MB */
#define M365_DATA_MAX_VALUES 65536
#define M365_DATA_MAX_SETS 10000
#define M365_DATA_MAX_URLS 20000        /* over all sets */
#define M365_DATA_MAX_GLOBS 128         /* URLs with an inner wildcard */
#define M365_DATA_MAX_IPS 20000         /* over all sets */
#define M365_DATA_MAX_PORT_RANGES 256   /* per set and protocol */

enum m365_category {
	M365_CAT_NONE = 0,      /* no set matched */
	M365_CAT_DEFAULT = 1,
	M365_CAT_ALLOW = 2,
	M365_CAT_OPTIMIZE = 3
};

struct m365_port_range {
	uint16_t lo, hi;
};

struct m365_ports {
	struct m365_port_range *ranges;
	size_t n;
};

struct m365_set {
	int id;
	char *service_area;             /* as in the data, e.g. "Exchange" */
	enum m365_category category;
	bool required;
	bool express_route;
	struct m365_ports tcp, udp;
	char **urls;                    /* lower-case, validated patterns */
	size_t n_urls;
	struct ip_prefix *ips;
	char **ip_texts;                /* canonical text of each prefix */
	char **ip_raw;                  /* each prefix as the data writes it */
	size_t n_ips;
};

struct m365_data {
	struct m365_set *sets;
	size_t n_sets;
};

/* Parses a JSON endpoint array from text[0..len).  Returns a new data set,
 * or NULL with a message naming the set id and field in err. */
struct m365_data *endpoints_parse(const char *text, size_t len, char *err,
    size_t errlen);

/* Reads and parses the file at path (at most M365_DATA_MAX_BYTES).  Returns
 * NULL with a message naming the file in err on failure. */
struct m365_data *endpoints_load_file(const char *path, char *err,
    size_t errlen);

/* Reads and parses the open file fd (at most M365_DATA_MAX_BYTES; fd is
 * borrowed and left open); name is for the messages.  Returns NULL with a
 * message naming name in err on failure. */
struct m365_data *endpoints_load_fd(int fd, const char *name, char *err,
    size_t errlen);

void endpoints_free(struct m365_data *d);

/* Parses a port list ("80,443", "143, 587", "3478-3481", "").  Returns 0, or
 * -1 with a reason in *why. The ranges are malloc'd (NULL when empty). */
int endpoints_parse_ports(const char *s, struct m365_ports *out,
    const char **why);

bool endpoints_ports_contain(const struct m365_ports *p, unsigned port);

/* "Optimize" -> M365_CAT_OPTIMIZE etc.; returns -1 when unknown. */
int endpoints_category_from_name(const char *name);

#endif
