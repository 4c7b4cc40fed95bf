/* test_source.c - which data is in use and when it changed: what a failed
 * load leaves in struct source. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"

/* Copies the data file name of the test data into path. */
static void
copy_data(const char *name, const char *path)
{
	char from[4096], buf[65536];
	FILE *in, *out;
	size_t n;

	snprintf(from, sizeof(from), "%s/%s", suite_data_dir(), name);
	in = fopen(from, "rb");
	assert_non_null(in);
	out = fopen(path, "wb");
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* The helper keeps the struct source of its last reload attempt and tries
 * again only when source_changed says so.  A load that fails because the
 * file is gone must not leave the identity of the file loaded before in
 * it (nor the bytes of whatever the struct held): when the same file comes
 * back, that is a change to retry on. */
static void
test_failed_load(void **state)
{
	char dir[] = "/tmp/m365-source-XXXXXX", path[4096], aside[4096];
	char err[512];
	struct m365_data *d;
	struct source src;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/data.json", dir);
	snprintf(aside, sizeof(aside), "%s/aside.json", dir);
	copy_data("worldwide-c2025.json", path);
	memset(&src, 0xa5, sizeof(src));
	d = source_load(path, NULL, &src, err, sizeof(err));
	assert_non_null(d);
	endpoints_free(d);
	assert_int_equal(src.kind, SOURCE_DATA_OPTION);
	assert_false(source_changed(path, NULL, &src));
	/* the same struct, as the helper's reload attempts are */
	assert_int_equal(rename(path, aside), 0);
	assert_null(source_load(path, NULL, &src, err, sizeof(err)));
	assert_true(src.dev == 0 && src.ino == 0 && src.size == 0 &&
	    src.mtime.tv_sec == 0 && src.mtime.tv_nsec == 0);
	assert_false(source_changed(path, NULL, &src));  /* still gone */
	assert_int_equal(rename(aside, path), 0);
	assert_true(source_changed(path, NULL, &src));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	struct suite s = { 0 };

	suite_add(&s, test_failed_load, NULL,
	    "a failed load forgets the file loaded before; its return is a change");
	return suite_run(&s, "source");
}
