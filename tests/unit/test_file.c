/* test_file.c - reading files whose path someone else may control: a
 * FIFO never hangs (the data file, the configuration), a link is refused
 * where asked, the bound holds at and past max; a file of ours opened
 * never through a link; who else could write a file or its directories.
 * (Files of other users need root: tests/integration/state.t.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "endpoints.h"
#include "file.h"

static char dir[] = "/tmp/m365-file-XXXXXX";

static void
path_of(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static void
write_file(const char *name, const char *text, size_t len)
{
	char p[256];
	FILE *f;

	path_of(p, sizeof(p), name);
	assert_non_null(f = fopen(p, "wb"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
test_regular(void **state)
{
	struct buf b = BUF_INIT(0);
	char p[256], err[512];

	(void)state;
	write_file("ten", "0123456789", 10);
	path_of(p, sizeof(p), "ten");
	assert_int_equal(file_read(p, 10, false, &b, err, sizeof(err)), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.p, "0123456789");
	assert_int_equal(file_read(p, 9, false, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	write_file("empty", "", 0);
	path_of(p, sizeof(p), "empty");
	assert_int_equal(file_read(p, 10, true, &b, err, sizeof(err)), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	buf_free(&b);
}

/* With alarm() as the guard: a hang is a failed test, not a stuck one. */
static void
test_fifo(void **state)
{
	struct buf b = BUF_INIT(0);
	struct config_errors errs = { 0 };
	struct m365_config c;
	char p[256], err[512];

	(void)state;
	path_of(p, sizeof(p), "fifo");
	assert_int_equal(mkfifo(p, 0644), 0);
	alarm(10);
	assert_int_equal(file_read(p, 100, false, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_null(endpoints_load_file(p, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(config_init(&c), 0);
	assert_int_equal(config_load(&c, p, true, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], "not a regular file"));
	alarm(0);
	config_errors_free(&errs);
	config_free(&c);
	buf_free(&b);
}

static void
test_not_regular(void **state)
{
	struct buf b = BUF_INIT(0);
	char p[256], target[256], err[512];

	(void)state;
	path_of(p, sizeof(p), "sub");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(file_read(p, 100, false, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	/* a device: only what max allows (/dev/zero would never end) */
	assert_int_equal(file_read("/dev/zero", 100, false, &b, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	assert_int_equal(file_read("/dev/null", 100, false, &b, err,
	    sizeof(err)), 0);                           /* -c /dev/null */
	assert_int_equal(b.len, 0);
	write_file("real", "x", 1);
	path_of(target, sizeof(target), "real");
	path_of(p, sizeof(p), "link");
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(file_read(p, 100, false, &b, err, sizeof(err)), 0);
	assert_string_equal(b.p, "x");
	assert_int_equal(file_read(p, 100, true, &b, err, sizeof(err)), -1);
	buf_free(&b);
}

/* file_open_regular: a link (dangling or not), a FIFO, a directory are
 * refused, and nothing is made through the link. */
static void
test_open_regular(void **state)
{
	char p[256], target[256], err[512];
	struct stat st;
	int fd;

	(void)state;
	path_of(p, sizeof(p), "lock");
	assert_true((fd = file_open_regular(p, O_RDONLY | O_CREAT, 0600, err,
	    sizeof(err))) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	/* opened again, not made again */
	assert_true((fd = file_open_regular(p, O_RDWR | O_CREAT, 0600, err,
	    sizeof(err))) >= 0);
	close(fd);
	/* a link planted there: never followed, the target never made */
	path_of(target, sizeof(target), "made-through-the-link");
	path_of(p, sizeof(p), "dangling");
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(file_open_regular(p, O_RDONLY | O_CREAT, 0600, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_not_equal(access(target, F_OK), 0);
	path_of(target, sizeof(target), "lock");
	path_of(p, sizeof(p), "to-lock");
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(file_open_regular(p, O_RDWR, 0, err, sizeof(err)), -1);
	/* a FIFO does not hang (alarm as the guard), a directory is no file */
	path_of(p, sizeof(p), "fifo-lock");
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10);
	assert_int_equal(file_open_regular(p, O_RDONLY | O_CREAT, 0600, err,
	    sizeof(err)), -1);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
	path_of(p, sizeof(p), "dir-lock");
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(file_open_regular(p, O_RDONLY, 0, err, sizeof(err)), -1);
}

/* file_trust_path of path (opened here) with the caller's uid trusted. */
static int
trust(const char *path, char *err, size_t errlen)
{
	struct file_trust t = { { geteuid(), FILE_NO_UID } };
	int fd = file_open_read(path, false), rc;

	assert_true(fd >= 0);
	rc = file_trust_path(fd, path, &t, err, errlen);
	close(fd);
	return rc;
}

/* The write bits of the file, its directory and the directories above,
 * as written and through a link. */
static void
test_trust_modes(void **state)
{
	struct file_trust t = { { geteuid(), FILE_NO_UID } };
	char sub[256], p[256], deep[256], link[256], err[512];

	(void)state;
	path_of(sub, sizeof(sub), "trust");
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file("trust/data.json", "[]", 2);
	path_of(p, sizeof(p), "trust/data.json");
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(trust(p, err, sizeof(err)), 0);
	assert_int_equal(file_trust_dir(sub, &t, err, sizeof(err)), 0);
	assert_int_equal(chmod(p, 0664), 0);
	assert_int_equal(trust(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by its group (mode 0664)"));
	assert_non_null(strstr(err, p));
	assert_int_equal(chmod(p, 0646), 0);
	assert_int_equal(trust(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by others"));
	assert_int_equal(chmod(p, 0444), 0);
	assert_int_equal(trust(p, err, sizeof(err)), 0);
	/* the directory: writable, or sticky and writable (a name not there
	 * yet could be anyone's) */
	assert_int_equal(chmod(sub, 0775), 0);
	assert_int_equal(trust(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, sub));
	assert_int_equal(file_trust_dir(sub, &t, err, sizeof(err)), -1);
	assert_int_equal(chmod(sub, 01777), 0);
	assert_int_equal(trust(p, err, sizeof(err)), -1);
	assert_int_equal(file_trust_dir(sub, &t, err, sizeof(err)), -1);
	/* above it, sticky is fine (as /tmp), writable is not */
	path_of(deep, sizeof(deep), "trust/d");
	assert_int_equal(mkdir(deep, 0755), 0);
	write_file("trust/d/data.json", "[]", 2);
	path_of(p, sizeof(p), "trust/d/data.json");
	assert_int_equal(trust(p, err, sizeof(err)), 0);
	assert_int_equal(file_trust_dir(deep, &t, err, sizeof(err)), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(trust(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by others (mode 0777)"));
	assert_int_equal(file_trust_dir(deep, &t, err, sizeof(err)), -1);
	/* a trusted path whose link leads under that open directory */
	path_of(link, sizeof(link), "link-to-d");
	assert_int_equal(symlink(deep, link), 0);
	path_of(p, sizeof(p), "link-to-d/data.json");
	assert_int_equal(trust(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, sub));
	assert_int_equal(file_trust_dir(link, &t, err, sizeof(err)), -1);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(trust(p, err, sizeof(err)), 0);
	assert_int_equal(file_trust_dir(link, &t, err, sizeof(err)), 0);
	/* relative paths are walked from the working directory */
	assert_int_equal(chdir(deep), 0);
	assert_int_equal(trust("data.json", err, sizeof(err)), 0);
	assert_int_equal(chmod(sub, 0757), 0);
	assert_int_equal(trust("data.json", err, sizeof(err)), -1);
	assert_int_equal(file_trust_dir(".", &t, err, sizeof(err)), -1);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(chdir("/"), 0);
	/* a device only root makes (/dev/null, rw for all): not a file
	 * anyone could write data into */
	assert_int_equal(trust("/dev/null", err, sizeof(err)), 0);
}

int
main(void)
{
	struct suite s = { 0 };
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	suite_add(&s, test_regular, NULL, "a regular file, at and past max");
	suite_add(&s, test_fifo, NULL,
	    "a FIFO: file_read, the data and the configuration fail at once");
	suite_add(&s, test_not_regular, NULL,
	    "a directory, a device, a link with and without nofollow");
	suite_add(&s, test_open_regular, NULL,
	    "file_open_regular: never through a link, never a FIFO");
	suite_add(&s, test_trust_modes, NULL,
	    "file_trust_path, file_trust_dir: group and other write bits of "
	    "the file and every directory, as written and resolved");
	rc = suite_run(&s, "file");
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)!system(cmd);
	}
	return rc;
}
