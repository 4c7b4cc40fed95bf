/* test_file.c - reading files whose path someone else may control: a
 * FIFO never hangs (the data file, the configuration), a link is refused
 * where asked, the bound holds at and past max. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

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
	rc = suite_run(&s, "file");
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)!system(cmd);
	}
	return rc;
}
