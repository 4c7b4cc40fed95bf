/* geo.c - see geo.h. */
#include "geo.h"

#include <errno.h>
#include <math.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "parse.h"

#define EARTH_RADIUS_KM 6371.0088       /* the IUGG mean radius */
#define GEO_MAX_FRACTION 9              /* digits after the point */

struct geo_db {
	MMDB_s mmdb;
};

/* Whether path is a regular file, checked without blocking: MMDB_open
 * would hang opening a FIFO put in its place. */
static int
check_regular(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = file_open_read(path, false);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

struct geo_db *
geo_open(const char *path, char *err, size_t errlen)
{
	struct geo_db *db;
	int rc;

	if (check_regular(path, err, errlen) != 0)
		return NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb)) != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s: %s", path, MMDB_strerror(rc));
		free(db);
		return NULL;
	}
	return db;
}

void
geo_close(struct geo_db *db)
{
	if (db == NULL)
		return;
	MMDB_close(&db->mmdb);
	free(db);
}

static bool
get_double(MMDB_entry_s *e, double *out, const char *key)
{
	MMDB_entry_data_s d;

	if (MMDB_get_value(e, &d, "location", key, NULL) != MMDB_SUCCESS ||
	    !d.has_data || d.type != MMDB_DATA_TYPE_DOUBLE)
		return false;
	*out = d.double_value;
	return true;
}

/* A UTF-8 string of the record into out, cut to fit, control characters
 * as '?'; "" when absent. */
static void
get_string(MMDB_entry_s *e, char *out, size_t size, const char *k1,
    const char *k2, const char *k3)
{
	MMDB_entry_data_s d;
	int rc;

	out[0] = '\0';
	rc = k3 != NULL ? MMDB_get_value(e, &d, k1, k2, k3, NULL) :
	    MMDB_get_value(e, &d, k1, k2, NULL);
	if (rc != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return;
	snprintf(out, size, "%.*s", (int)(d.data_size < size ? d.data_size :
	    size - 1), d.utf8_string);
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

void
geo_lookup(const struct geo_db *db, const struct sockaddr *sa,
    struct geo_place *out, char *err, size_t errlen)
{
	MMDB_lookup_result_s res;
	int rc = MMDB_SUCCESS;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	res = MMDB_lookup_sockaddr(&db->mmdb, sa, &rc);
	if (rc != MMDB_SUCCESS) {
		snprintf(err, errlen, "%s", MMDB_strerror(rc));
		return;
	}
	if (!res.found_entry)
		return;
	if (!get_double(&res.entry, &out->lat, "latitude") ||
	    !get_double(&res.entry, &out->lon, "longitude"))
		return;
	out->found = out->lat >= -90 && out->lat <= 90 && out->lon >= -180 &&
	    out->lon <= 180;
	get_string(&res.entry, out->city, sizeof(out->city), "city", "names",
	    "en");
	get_string(&res.entry, out->country, sizeof(out->country), "country",
	    "iso_code", NULL);
}

/* A decimal number "[-]D[.F]" at s[0..len) into *out. */
static int
parse_degrees(const char *s, size_t len, double *out)
{
	bool neg = len > 0 && s[0] == '-';
	const char *dot, *p = s + neg;
	size_t ilen, flen;
	uint64_t ip, fp = 0;

	len -= neg;
	dot = memchr(p, '.', len);
	ilen = dot != NULL ? (size_t)(dot - p) : len;
	flen = dot != NULL ? len - ilen - 1 : 0;
	if (parse_uint(p, ilen, 180, &ip) != 0 || flen > GEO_MAX_FRACTION ||
	    (dot != NULL && parse_uint(dot + 1, flen, UINT64_MAX, &fp) != 0))
		return -1;
	*out = (double)ip + (double)fp / pow(10, (double)flen);
	if (neg)
		*out = -*out;
	return 0;
}

int
geo_parse_location(const char *s, double *lat, double *lon,
    const char **why)
{
	const char *comma = strchr(s, ',');
	size_t alen, blen;
	const char *a, *b;

	*why = "expected LATITUDE,LONGITUDE in decimal degrees (52.37,4.90)";
	if (comma == NULL)
		return -1;
	alen = (size_t)(comma - s);
	a = parse_trim(s, &alen);
	blen = strlen(comma + 1);
	b = parse_trim(comma + 1, &blen);
	if (parse_degrees(a, alen, lat) != 0 || parse_degrees(b, blen, lon) != 0)
		return -1;
	if (*lat < -90 || *lat > 90 || *lon < -180 || *lon > 180) {
		*why = "latitude must be -90..90 and longitude -180..180";
		return -1;
	}
	return 0;
}

double
geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
	const double rad = M_PI / 180;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double h = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) *
	    cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

	return 2 * EARTH_RADIUS_KM * asin(sqrt(h < 1 ? h : 1));
}
