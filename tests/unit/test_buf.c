/* test_buf.c - the one bounded buffer: at and past its bound, sticky
 * failures, printf of any length, the NUL after the contents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <string.h>

#include "buf.h"

static void
test_bound(void **state)
{
	struct buf b = BUF_INIT(10);

	(void)state;
	assert_int_equal(buf_add(&b, "0123456789", 10), 0);     /* at max */
	assert_int_equal(b.len, 10);
	assert_string_equal(b.p, "0123456789");
	assert_int_equal(buf_add(&b, "", 0), 0);
	assert_int_equal(buf_add(&b, "x", 1), -1);              /* past it */
	assert_int_equal(b.error, BUF_TOO_LARGE);
	assert_string_equal(buf_strerror(b.error), "too large");
	/* sticky: nothing more goes in, not even what would fit */
	buf_free(&b);
	assert_int_equal(b.error, BUF_OK);
	assert_int_equal(buf_add(&b, "abc", 3), 0);
	assert_int_equal(buf_add(&b, "0123456789", 10), -1);
	assert_int_equal(buf_add(&b, "d", 1), -1);
	assert_int_equal(b.len, 3);
	buf_free(&b);
	buf_free(&b);                                           /* harmless */
}

static void
test_grow(void **state)
{
	struct buf b = BUF_INIT(1u << 20);
	char chunk[1000];

	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	for (int i = 0; i < 1048; i++)
		buf_add(&b, chunk, sizeof(chunk));
	assert_int_equal(b.error, BUF_OK);
	assert_int_equal(b.len, 1048000);
	assert_true(b.cap >= b.len + 1 && b.cap <= (1u << 20) + 1);
	assert_int_equal(b.p[b.len], '\0');
	assert_int_equal(buf_add(&b, chunk, 576), 0);           /* to max */
	assert_int_equal(b.len, 1u << 20);
	assert_int_equal(buf_add(&b, chunk, 1), -1);
	buf_free(&b);
}

static void
test_printf(void **state)
{
	struct buf b = BUF_INIT(4000);
	char big[2000];

	(void)state;
	buf_printf(&b, "%d-%s", 42, "x");
	assert_string_equal(b.p, "42-x");
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "%s", big);                       /* past 512 bytes */
	assert_int_equal(b.len, 4 + sizeof(big) - 1);
	buf_printf(&b, "%s", big);
	assert_int_equal(b.error, BUF_TOO_LARGE);        /* 4 + 2 * 1999 > 4000 */
	buf_free(&b);
	buf_byte(&b, 0xff);
	assert_int_equal((unsigned char)b.p[0], 0xff);
	buf_free(&b);
}

int
main(void)
{
	struct suite s = { 0 };

	suite_add(&s, test_bound, NULL, "at max, past max, sticky");
	suite_add(&s, test_grow, NULL, "grows to its bound, never past");
	suite_add(&s, test_printf, NULL, "printf, short and long, bounded");
	return suite_run(&s, "buf");
}
