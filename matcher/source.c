/* source.c - see source.h. */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "matcher.h"

/* matcher/snapshot.S */
extern const char m365_snapshot[];
extern const char m365_snapshot_end[];

const char *
source_kind_name(enum source_kind k)
{
	switch (k) {
	case SOURCE_DATA_OPTION:
		return "--data";
	case SOURCE_CACHE:
		return "cache";
	case SOURCE_BUNDLED:
		break;
	}
	return "bundled snapshot";
}

/* Decides which source applies now; fills kind and path, and clears the
 * rest (the identity is filled only once the file is stat'ed). */
static void
source_choose(const char *data_opt, const char *state_dir, struct source *src)
{
	struct stat st;

	memset(src, 0, sizeof(*src));
	if (data_opt != NULL) {
		src->kind = SOURCE_DATA_OPTION;
		snprintf(src->path, sizeof(src->path), "%s", data_opt);
		return;
	}
	if (state_dir != NULL) {
		snprintf(src->path, sizeof(src->path), "%s/%s", state_dir,
		    SOURCE_CACHE_FILE);
		if (stat(src->path, &st) == 0 || errno != ENOENT) {
			src->kind = SOURCE_CACHE;
			return;
		}
	}
	src->kind = SOURCE_BUNDLED;
	src->path[0] = '\0';
}

static void
source_remember(struct source *src, const struct stat *st)
{
	src->dev = st->st_dev;
	src->ino = st->st_ino;
	src->size = st->st_size;
	src->mtime = st->st_mtim;
}

/* days since 1970-01-01 of a date of the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil) */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static unsigned
digits(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

time_t
source_version_day(const char *v)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	unsigned y, m, d;

	if (strlen(v) != SOURCE_VERSION_LEN ||
	    strspn(v, "0123456789") != SOURCE_VERSION_LEN)
		return -1;
	y = digits(v, 4);
	m = digits(v + 4, 2);
	d = digits(v + 6, 2);
	if (y < SOURCE_YEAR_MIN || y > SOURCE_YEAR_MAX || m < 1 || m > 12 ||
	    d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))))
		return -1;
	return (time_t)(days_from_civil(y, m, d) * 86400);
}

bool
source_version_valid(const char *v)
{
	return source_version_day(v) != -1;
}

int
source_data_name_split(const char *name, char *version, size_t vsize,
    char *instance, size_t isize)
{
	size_t plen = strlen(SOURCE_DATA_PREFIX);
	const char *v, *dash, *dot;

	version[0] = instance[0] = '\0';
	if (strncmp(name, SOURCE_DATA_PREFIX, plen) != 0)
		return -1;
	v = name + plen;
	dash = strchr(v, '-');
	dot = strrchr(v, '.');
	/* exactly what the updater writes: nothing else passes */
	if (dash == NULL || dot == NULL || dash - v != SOURCE_VERSION_LEN ||
	    strspn(v, "0123456789") != SOURCE_VERSION_LEN ||
	    strcmp(dot, ".json") != 0 || vsize <= SOURCE_VERSION_LEN ||
	    (size_t)(dot - dash - 1) >= isize)
		return -1;
	memcpy(instance, dash + 1, (size_t)(dot - dash - 1));
	instance[dot - dash - 1] = '\0';
	if (!config_instance_valid(instance)) {
		instance[0] = '\0';
		return -1;
	}
	memcpy(version, v, SOURCE_VERSION_LEN);
	version[SOURCE_VERSION_LEN] = '\0';
	return 0;
}

int
source_data_name_parse(const char *name, char *version, size_t vsize,
    char *instance, size_t isize)
{
	if (source_data_name_split(name, version, vsize, instance, isize) != 0)
		return -1;
	/* the name ends up in headers and metrics labels: not even a
	 * version of digits that is no date */
	if (!source_version_valid(version)) {
		version[0] = instance[0] = '\0';
		return -1;
	}
	return 0;
}

/* Opens the cache: when src->path is a link to endpoints-V-I.json, that
 * file, by the name read from the link, with version and instance from
 * that name; else src->path itself (version unknown).  An update may
 * switch the link and remove the old file between the readlink and the
 * open: then the link is read again.  Returns the descriptor, the path
 * opened in opened, or -1. */
static int
open_cache(const char *state_dir, struct source *src, char *opened,
    size_t size)
{
	char target[256];
	int fd = -1;

	for (int tries = 0; tries < 3; tries++) {
		ssize_t n = readlink(src->path, target, sizeof(target) - 1);

		src->version[0] = src->instance[0] = '\0';
		if (n > 0) {
			target[n] = '\0';
			if (source_data_name_parse(target, src->version,
			    sizeof(src->version), src->instance,
			    sizeof(src->instance)) == 0 &&
			    (size_t)snprintf(opened, size, "%s/%s", state_dir,
			    target) < size) {
				/* ours: a regular file, never a link */
				fd = file_open_read(opened, true);
				if (fd >= 0 || errno != ENOENT)
					return fd;
				continue;
			}
			src->version[0] = src->instance[0] = '\0';
		}
		/* not a link, or not to a name of ours: the version is unknown */
		snprintf(opened, size, "%s", src->path);
		return file_open_read(src->path, false);
	}
	src->version[0] = src->instance[0] = '\0';
	return fd;
}

/* Opens the file src names (kind cache or --data) as source_load reads
 * it; the path opened in opened.  Returns the descriptor or -1. */
static int
open_source(const char *state_dir, struct source *src, char *opened,
    size_t size)
{
	if (src->kind == SOURCE_CACHE)
		return open_cache(state_dir, src, opened, size);
	snprintf(opened, size, "%s", src->path);
	return file_open_read(src->path, false);
}

/* Whether the data open as fd (named path) may be served: nobody but
 * root, the file's owner (the updater's user) and this process could
 * have written it.  The checks go up the path, whoever runs. */
static int
check_trust(int fd, const char *path, char *err, size_t errlen)
{
	struct file_trust t = { { FILE_NO_UID, geteuid() } };
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	t.uid[0] = st.st_uid;
	return file_trust_path(fd, path, &t, err, errlen);
}

int
source_open_cache(const char *state_dir, struct source *src, char *err,
    size_t errlen)
{
	char opened[SOURCE_PATH_MAX];
	int fd;

	memset(src, 0, sizeof(*src));
	src->kind = SOURCE_CACHE;
	if ((size_t)snprintf(src->path, sizeof(src->path), "%s/%s", state_dir,
	    SOURCE_CACHE_FILE) >= sizeof(src->path)) {
		snprintf(err, errlen, "%s/%s: %s", state_dir, SOURCE_CACHE_FILE,
		    strerror(ENAMETOOLONG));
		return -1;
	}
	if ((fd = open_cache(state_dir, src, opened, sizeof(opened))) < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "no cached data in %s (run "
			    "m365-direct update first)", state_dir);
		else
			snprintf(err, errlen, "%s: %s", src->path,
			    strerror(errno));
		return -1;
	}
	if (check_trust(fd, opened, err, errlen) != 0) {
		src->untrusted = true;
		close(fd);
		return -1;
	}
	return fd;
}

/* Loads the cache or --data file: one open, its identity remembered (a
 * replacement after this is noticed), its trust checked, then read. */
static struct m365_data *
load_file(const char *state_dir, struct source *src, char *err,
    size_t errlen)
{
	char opened[SOURCE_PATH_MAX], why[SOURCE_PATH_MAX + 256];
	struct m365_data *d = NULL;
	struct stat st;
	int fd = open_source(state_dir, src, opened, sizeof(opened));

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", src->path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0)
		source_remember(src, &st);
	if (check_trust(fd, opened, why, sizeof(why)) != 0) {
		src->untrusted = true;
		snprintf(err, errlen, "%s: %s; refusing data that another user "
		    "could have written", src->path, why);
	} else {
		d = endpoints_load_fd(fd, src->path, err, errlen);
	}
	close(fd);
	return d;
}

struct m365_data *
source_load(const char *data_opt, const char *state_dir, struct source *src,
    char *err, size_t errlen)
{
	struct m365_data *d;

	source_choose(data_opt, state_dir, src);
	if (src->kind == SOURCE_BUNDLED) {
		d = endpoints_parse(m365_snapshot,
		    (size_t)(m365_snapshot_end - m365_snapshot), err, errlen);
		if (d != NULL && state_dir != NULL)
			log_warnx("no cache in %s: using the bundled snapshot, "
			    "which may be stale (run m365-direct update)",
			    state_dir);
		return d;
	}
	return load_file(state_dir, src, err, errlen);
}

/* Whether the file src was refused for could be trusted now. */
static bool
trusted_now(const char *state_dir, const struct source *src)
{
	char opened[SOURCE_PATH_MAX], why[SOURCE_PATH_MAX + 256];
	struct source again = *src;
	int fd = open_source(state_dir, &again, opened, sizeof(opened));
	bool ok;

	if (fd < 0)
		return false;
	ok = check_trust(fd, opened, why, sizeof(why)) == 0;
	close(fd);
	return ok;
}

bool
source_changed(const char *data_opt, const char *state_dir,
    const struct source *src)
{
	struct source now;
	struct stat st;

	source_choose(data_opt, state_dir, &now);
	if (now.kind != src->kind || strcmp(now.path, src->path) != 0)
		return true;
	if (now.kind == SOURCE_BUNDLED)
		return false;
	if (stat(now.path, &st) != 0)
		return false;   /* gone: keep serving what we have */
	if (st.st_dev != src->dev || st.st_ino != src->ino ||
	    st.st_size != src->size ||
	    st.st_mtim.tv_sec != src->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != src->mtime.tv_nsec)
		return true;
	/* the same file, refused: a chmod of it or of a directory makes it
	 * good without changing it */
	return src->untrusted && trusted_now(state_dir, src);
}

static struct m365_rules *
compile_one(const char *data_opt, const char *state_dir,
    const struct m365_policy *policy, struct source *src, char *err,
    size_t errlen)
{
	struct m365_data *d = source_load(data_opt, state_dir, src, err, errlen);
	struct m365_rules *r;

	if (d == NULL)
		return NULL;
	r = matcher_compile(d, policy, err, errlen);
	if (r == NULL)
		endpoints_free(d);
	return r;
}

struct m365_rules *
source_compile(const char *data_opt, const char *state_dir,
    const struct m365_policy *policy, bool fallback, struct source *src,
    char *err, size_t errlen)
{
	struct m365_rules *r = compile_one(data_opt, state_dir, policy, src,
	    err, errlen);
	struct source bundled;

	src->fell_back = false;
	if (r != NULL || !fallback || src->kind == SOURCE_BUNDLED)
		return r;
	log_warnx("%s; falling back to the bundled snapshot", err);
	r = compile_one(NULL, NULL, policy, &bundled, err, errlen);
	src->fell_back = r != NULL;
	return r;
}
