/* atomic.c - see atomic.h. */
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int
atomic_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
atomic_install(const char *dir, const char *name, const void *buf,
    size_t len, char *err, size_t errlen)
{
	char tmp[ATOMIC_PATH_MAX], path[ATOMIC_PATH_MAX];
	const char *step = "create";
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >=
	    sizeof(tmp) || (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    name) >= sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", dir, name);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		goto fail_open;
	/* readable by the helper, which runs as Squid's user */
	step = "write";
	if (fchmod(fd, 0644) != 0 || write_all(fd, buf, len) != 0)
		goto fail;
	step = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	step = "close";
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	err[0] = '\0';
	if (atomic_sync_dir(dir) != 0)  /* in place; only durability in doubt */
		snprintf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
	return 0;
fail:
	snprintf(err, errlen, "%s: %s: %s", path, step, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
fail_open:
	snprintf(err, errlen, "%s: %s: %s", tmp, step, strerror(errno));
	return -1;
}
