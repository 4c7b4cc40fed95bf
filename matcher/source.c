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

int
source_data_name_parse(const char *name, char *version, size_t vsize,
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
	/* exactly what the updater writes: the name ends up in headers and
	 * metrics labels, so nothing else passes */
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

/* Opens the cache: when src->path is a link to endpoints-V-I.json, that
 * file, by the name read from the link, with version and instance from
 * that name; else src->path itself (version unknown).  An update may
 * switch the link and remove the old file between the readlink and the
 * open: then the link is read again.  Returns the descriptor or -1. */
static int
open_cache(const char *state_dir, struct source *src)
{
	char target[256], path[SOURCE_PATH_MAX];
	int fd = -1;

	for (int tries = 0; tries < 3; tries++) {
		ssize_t n = readlink(src->path, target, sizeof(target) - 1);

		src->version[0] = src->instance[0] = '\0';
		if (n > 0) {
			target[n] = '\0';
			if (source_data_name_parse(target, src->version,
			    sizeof(src->version), src->instance,
			    sizeof(src->instance)) == 0 &&
			    (size_t)snprintf(path, sizeof(path), "%s/%s", state_dir,
			    target) < sizeof(path)) {
				/* ours: a regular file, never a link */
				fd = file_open_read(path, true);
				if (fd >= 0 || errno != ENOENT)
					return fd;
				continue;
			}
			src->version[0] = src->instance[0] = '\0';
		}
		/* not a link, or not to a name of ours: the version is unknown */
		return file_open_read(src->path, false);
	}
	src->version[0] = src->instance[0] = '\0';
	return fd;
}

int
source_open_cache(const char *state_dir, struct source *src)
{
	memset(src, 0, sizeof(*src));
	src->kind = SOURCE_CACHE;
	if ((size_t)snprintf(src->path, sizeof(src->path), "%s/%s", state_dir,
	    SOURCE_CACHE_FILE) >= sizeof(src->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open_cache(state_dir, src);
}

static struct m365_data *
load_cache(const char *state_dir, struct source *src, char *err,
    size_t errlen)
{
	struct m365_data *d;
	struct stat st;
	int fd = open_cache(state_dir, src);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", src->path, strerror(errno));
		return NULL;
	}
	/* the identity of what is read: a replacement after this is noticed */
	if (fstat(fd, &st) == 0)
		source_remember(src, &st);
	d = endpoints_load_fd(fd, src->path, err, errlen);
	close(fd);
	return d;
}

struct m365_data *
source_load(const char *data_opt, const char *state_dir, struct source *src,
    char *err, size_t errlen)
{
	struct m365_data *d;
	struct stat st;

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
	if (src->kind == SOURCE_CACHE)
		return load_cache(state_dir, src, err, errlen);
	/* stat before reading: a replacement after this is noticed later */
	if (stat(src->path, &st) == 0)
		source_remember(src, &st);
	return endpoints_load_file(src->path, err, errlen);
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
	return st.st_dev != src->dev || st.st_ino != src->ino ||
	    st.st_size != src->size ||
	    st.st_mtim.tv_sec != src->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != src->mtime.tv_nsec;
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
