/* roots.c - see roots.h. */
#include "roots.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"

/* How many certificates the PEM text holds. */
static int
count_certs(const char *p)
{
	int n = 0;

	while ((p = strstr(p, PEM_BEGIN)) != NULL) {
		n++;
		p += sizeof(PEM_BEGIN) - 1;
	}
	return n;
}

static bool
is_crt(const char *name)
{
	size_t len = strlen(name);

	return len > 4 && name[0] != '.' && strcmp(name + len - 4, ".crt") == 0;
}

/* Appends one file of the directory, and a newline: a file may lack the
 * last one, and two PEM blocks must not share a line. */
static int
add_file(const char *dir, const char *name, struct buf *out, char *err,
    size_t errlen)
{
	struct buf one = BUF_INIT(ROOTS_MAX_FILE);
	char path[4096];
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s/%s: name too long", dir, name);
		return -1;
	}
	/* the directory is the package's: a link in it is followed */
	rc = file_read(path, ROOTS_MAX_FILE, false, &one, err, errlen);
	if (rc == 0) {
		buf_add(out, one.p, one.len);
		buf_add(out, "\n", 1);
		if (out->error != BUF_OK) {
			snprintf(err, errlen, "%s: bundle %s (at most %u bytes)",
			    dir, buf_strerror(out->error), ROOTS_MAX_BYTES);
			rc = -1;
		}
	}
	buf_free(&one);
	return rc;
}

static int
load_dir(const char *dir, struct buf *out, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t files = 0;
	int rc = 0;

	if (d == NULL) {
		snprintf(err, errlen, "%s: %s (install ca-certificates, or name "
		    "a bundle of public roots)", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (!is_crt(e->d_name))
			continue;
		if (++files > ROOTS_MAX_FILES) {
			snprintf(err, errlen, "%s: more than %d certificate files",
			    dir, ROOTS_MAX_FILES);
			rc = -1;
		} else {
			rc = add_file(dir, e->d_name, out, err, errlen);
		}
	}
	closedir(d);
	return rc;
}

int
roots_load(const char *path, struct buf *out, char *err, size_t errlen)
{
	const char *what = path != NULL ? path : ROOTS_MOZILLA_DIR;
	int n;

	buf_free(out);
	if (path != NULL) {
		if (file_read(path, ROOTS_MAX_BYTES, false, out, err, errlen) != 0)
			return -1;
	} else if (load_dir(ROOTS_MOZILLA_DIR, out, err, errlen) != 0) {
		buf_free(out);
		return -1;
	}
	n = out->p != NULL ? count_certs(out->p) : 0;
	if (n == 0) {
		snprintf(err, errlen, "%s: no PEM certificate in it", what);
		buf_free(out);
		return -1;
	}
	return n;
}
