/* keys.h - m365-direct assess's keys of the configuration file (the
 * reader, matcher/config.c, knows their syntax and bounds; this is their
 * type). */
#ifndef M365_ASSESS_KEYS_H
#define M365_ASSESS_KEYS_H

#include "config.h"

struct assess_settings {
	const char *control;            /* assess_control */
	unsigned tries;                 /* assess_tries, 1..10 */
	unsigned timeout_ms;            /* assess_timeout */
	unsigned margin_ms;             /* assess_path_margin_ms */
	unsigned max_distance_km;       /* assess_max_distance_km */
	const char *geo_database;       /* NULL: no front-door locations */
	const char *office_location;    /* NULL: no distances; "LAT,LON" */
	const char *tenant;             /* fills wildcards; NULL: none */
};

/* assess's settings in c; every pointer is borrowed from c. */
void assess_settings_read(struct assess_settings *s,
    const struct m365_config *c);

#endif
