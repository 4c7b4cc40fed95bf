/* file.c - see file.h. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
file_open_read(const char *path, bool nofollow)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    (nofollow ? O_NOFOLLOW : 0));
	int fl;

	/* a regular file reads the same without O_NONBLOCK; clearing it
	 * keeps whatever the caller does next ordinary */
	if (fd >= 0 && (fl = fcntl(fd, F_GETFL)) >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

int
file_read_fd(int fd, const char *name, size_t max, struct buf *out,
    char *err, size_t errlen)
{
	struct stat st;
	char chunk[65536];

	buf_free(out);
	out->max = max;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	/* a character device only the superuser can make: /dev/null as an
	 * empty configuration; whatever it gives, max bounds it */
	if ((!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) ||
	    (uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%s: %s", name, S_ISREG(st.st_mode) ?
		    "file too large" : "not a regular file");
		return -1;
	}
	for (;;) {     /* to EOF: the file may have grown since fstat */
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		if (buf_add(out, chunk, (size_t)r) != 0) {
			snprintf(err, errlen, "%s: %s", name,
			    out->error == BUF_TOO_LARGE ? "file too large" :
			    buf_strerror(out->error));
			return -1;
		}
	}
	if (out->p == NULL && buf_add(out, "", 0) != 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	return 0;
}

int
file_read(const char *path, size_t max, bool nofollow, struct buf *out,
    char *err, size_t errlen)
{
	int fd = file_open_read(path, nofollow);
	int rc;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = file_read_fd(fd, path, max, out, err, errlen);
	close(fd);
	return rc;
}
