/* geo.h - where an address is, by a MaxMind City-format database
 * (libmaxminddb), and how far that is from the office: the front door a
 * client's Microsoft 365 traffic reaches should be near where it leaves
 * the branch. */
#ifndef M365_GEO_H
#define M365_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct geo_db;

#define GEO_NAME_MAX 64

struct geo_place {
	bool found;                     /* the database has a location */
	double lat, lon;                /* degrees */
	char city[GEO_NAME_MAX];        /* city.names.en, "" when none */
	char country[8];                /* country.iso_code, "" when none */
};

/* Opens the database at path (a regular file).  Returns it, or NULL with
 * a message naming path in err.  geo_close(NULL) is a no-op. */
struct geo_db *geo_open(const char *path, char *err, size_t errlen);
void geo_close(struct geo_db *db);

/* Looks up the address sa in db; *out found false when the database has
 * no location for it (or the lookup failed: the reason then in err). */
void geo_lookup(const struct geo_db *db, const struct sockaddr *sa,
    struct geo_place *out, char *err, size_t errlen);

/* Parses "LAT,LON" in decimal degrees (blanks around the comma allowed;
 * -90..90 and -180..180).  Returns 0, or -1 with *why. */
int geo_parse_location(const char *s, double *lat, double *lon,
    const char **why);

/* The great-circle distance in km between two points (haversine, on a
 * sphere of the Earth's mean radius). */
double geo_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
