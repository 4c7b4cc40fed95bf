/* mirror.c - see mirror.h. */
#include "mirror.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "buf.h"
#include "endpoints.h"
#include "file.h"

/* {"instance":"…","latest":"…"}: both parts passed source_data_name_parse
 * (ten digits; one of the web service's instance names), so nothing in
 * them needs escaping. */
#define VERSION_BODY_MAX 128

/* Reads the installed data into data, with its version and instance in
 * res.  Returns 0, or -1 with err. */
static int
read_installed(const char *state_dir, struct buf *data,
    struct mirror_result *res, char *err, size_t errlen)
{
	struct source src;
	int fd = source_open_cache(state_dir, &src, err, errlen);
	int rc;

	if (fd < 0)
		return -1;
	if (src.version[0] == '\0') {
		close(fd);
		snprintf(err, errlen, "%s is not data installed by m365-direct "
		    "update: its version is unknown", src.path);
		return -1;
	}
	rc = file_read_fd(fd, src.path, M365_DATA_MAX_BYTES, data, err, errlen);
	close(fd);
	memcpy(res->version, src.version, sizeof(res->version));
	memcpy(res->instance, src.instance, sizeof(res->instance));
	return rc;
}

/* Makes the directory path (one level) unless it is one already.
 * Returns 0, or -1 with err. */
static int
make_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, MIRROR_DIR_MODE) == 0)
		return 0;
	if (errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", path);
		return -1;
	}
	return 0;
}

/* Whether dir/name is a regular file of mode 0644 holding exactly
 * bytes[0..len). */
static bool
holds(const char *dir, const char *name, const char *bytes, size_t len)
{
	char path[ATOMIC_PATH_MAX], err[256];
	struct buf old = BUF_INIT(len);
	struct stat st;
	bool same;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path) || lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != 0644 || (size_t)st.st_size != len)
		return false;
	same = file_read(path, len, true, &old, err, sizeof(err)) == 0 &&
	    old.len == len && memcmp(old.p, bytes, len) == 0;
	buf_free(&old);
	return same;
}

/* Installs bytes as base/sub/name unless it holds them already; *written
 * says which.  A durability warning goes to res.  Returns 0, or -1 with
 * err. */
static int
put(const char *base, const char *sub, const char *name, const char *bytes,
    size_t len, bool *written, struct mirror_result *res, char *err,
    size_t errlen)
{
	char dir[ATOMIC_PATH_MAX];

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", base, sub) >=
	    sizeof(dir)) {
		snprintf(err, errlen, "%s/%s: path too long", base, sub);
		return -1;
	}
	if (make_dir(dir, err, errlen) != 0)
		return -1;
	*written = !holds(dir, name, bytes, len);
	if (!*written)
		return 0;
	if (atomic_install(dir, name, bytes, len, err, errlen) != 0)
		return -1;
	if (err[0] != '\0' && res->warning[0] == '\0')
		snprintf(res->warning, sizeof(res->warning), "%s", err);
	return 0;
}

int
mirror_write(const char *state_dir, const char *out_dir,
    struct mirror_result *res, char *err, size_t errlen)
{
	struct buf data = BUF_INIT(M365_DATA_MAX_BYTES);
	char body[VERSION_BODY_MAX], why[512];
	struct m365_data *d;
	int rc = -1, n;

	memset(res, 0, sizeof(*res));
	if (read_installed(state_dir, &data, res, err, errlen) != 0)
		goto done;
	/* installed data passed the guards; still, never pass on a file
	 * that does not load */
	if ((d = endpoints_parse(data.p, data.len, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s/%s: %s", state_dir, SOURCE_CACHE_FILE,
		    why);
		goto done;
	}
	res->n_sets = d->n_sets;
	endpoints_free(d);
	n = snprintf(body, sizeof(body), "{\"instance\":\"%s\",\"latest\":"
	    "\"%s\"}\n", res->instance, res->version);
	if (n < 0 || (size_t)n >= sizeof(body)) {
		snprintf(err, errlen, "version or instance too long");
		goto done;
	}
	/* the data first: a branch reads /version, then /endpoints */
	if (make_dir(out_dir, err, errlen) != 0 ||
	    put(out_dir, MIRROR_ENDPOINTS_DIR, res->instance, data.p, data.len,
	    &res->data_written, res, err, errlen) != 0 ||
	    put(out_dir, MIRROR_VERSION_DIR, res->instance, body, (size_t)n,
	    &res->version_written, res, err, errlen) != 0)
		goto done;
	rc = 0;
done:
	buf_free(&data);
	return rc;
}
