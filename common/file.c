/* file.c - see file.h. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_PATH_MAX 4096

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

int
file_open_regular(const char *path, int flags, mode_t mode, char *err,
    size_t errlen)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
	struct stat st;
	int fl;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, errno == ELOOP ?
		    "a symbolic link, not a regular file" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

static bool
trusted_owner(uid_t u, const struct file_trust *t)
{
	if (u == 0)
		return true;
	for (size_t i = 0; i < FILE_TRUST_USERS; i++)
		if (t->uid[i] != FILE_NO_UID && t->uid[i] == u)
			return true;
	return false;
}

/* What st says of name: owned by root or one of t's users and, for a
 * regular file or a directory, not writable by group or others (a sticky
 * directory may be, when sticky_ok). */
static int
trust_stat(const struct stat *st, const char *name,
    const struct file_trust *t, bool sticky_ok, char *err, size_t errlen)
{
	mode_t m = st->st_mode;

	if (!trusted_owner(st->st_uid, t)) {
		snprintf(err, errlen, "%s: owned by another user (uid %lu)", name,
		    (unsigned long)st->st_uid);
		return -1;
	}
	if ((S_ISREG(m) || S_ISDIR(m)) && (m & (S_IWGRP | S_IWOTH)) != 0 &&
	    !(sticky_ok && S_ISDIR(m) && (m & S_ISVTX) != 0)) {
		snprintf(err, errlen, "%s: writable by %s (mode %04o)", name,
		    (m & S_IWOTH) != 0 ? "others" : "its group",
		    (unsigned)(m & 07777));
		return -1;
	}
	return 0;
}

/* Checks dir and every directory above it up to "/", dir strictly (no
 * sticky exception: a missing name in it could be made by anyone). */
static int
trust_chain(const char *dir, const struct file_trust *t, char *err,
    size_t errlen)
{
	char p[FILE_PATH_MAX], cwd[FILE_PATH_MAX];
	struct stat st;
	char *slash;
	size_t n;

	if (dir[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
		snprintf(err, errlen, "getcwd: %s", strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(p, sizeof(p), "%s%s%s", dir[0] != '/' ? cwd : "",
	    dir[0] != '/' ? "/" : "", dir) >= sizeof(p)) {
		snprintf(err, errlen, "%.64s...: path too long", dir);
		return -1;
	}
	for (bool first = true;; first = false) {
		/* "a/b/" is "a/b"; "/" stays */
		for (n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
			p[n - 1] = '\0';
		if (stat(p, &st) != 0) {
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
			return -1;
		}
		if (trust_stat(&st, p, t, !first, err, errlen) != 0)
			return -1;
		if (strcmp(p, "/") == 0)
			return 0;
		slash = strrchr(p, '/');        /* "/a/b" -> "/a", "/a" -> "/" */
		if (slash == p)
			slash++;
		*slash = '\0';
	}
}

int
file_trust_dir(const char *dir, const struct file_trust *t, char *err,
    size_t errlen)
{
	char *real;
	int rc;

	if (trust_chain(dir, t, err, errlen) != 0)
		return -1;
	if ((real = realpath(dir, NULL)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	rc = trust_chain(real, t, err, errlen);
	free(real);
	return rc;
}

/* The directory part of path in out: "." when there is none. */
static int
dir_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return (size_t)snprintf(out, size, ".") < size ? 0 : -1;
	if (slash == path)
		return (size_t)snprintf(out, size, "/") < size ? 0 : -1;
	return (size_t)snprintf(out, size, "%.*s", (int)(slash - path), path) <
	    size ? 0 : -1;
}

int
file_trust_path(int fd, const char *path, const struct file_trust *t,
    char *err, size_t errlen)
{
	char dir[FILE_PATH_MAX], *real;
	struct stat st;
	int rc;

	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (trust_stat(&st, path, t, false, err, errlen) != 0)
		return -1;
	if (dir_of(path, dir, sizeof(dir)) != 0) {
		snprintf(err, errlen, "%.64s...: path too long", path);
		return -1;
	}
	if (trust_chain(dir, t, err, errlen) != 0)
		return -1;
	/* and where a link in the path leads; the name may be gone since
	 * the open (an update removed the old data): then its directory */
	if ((real = realpath(path, NULL)) == NULL && errno == ENOENT)
		return file_trust_dir(dir, t, err, errlen);
	if (real == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = dir_of(real, dir, sizeof(dir)) == 0 ? trust_chain(dir, t, err,
	    errlen) : -1;
	free(real);
	return rc;
}
