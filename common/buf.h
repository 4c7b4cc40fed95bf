/* buf.h - the one bounded growable buffer (after curl's dynbuf): an
 * append that would pass the buffer's max fails with BUF_TOO_LARGE
 * instead of growing forever.  Failures are sticky: after one, appends do
 * nothing and the contents are void.  The contents stay NUL-terminated
 * (the NUL is not counted and not part of max). */
#ifndef M365_BUF_H
#define M365_BUF_H

#include <stddef.h>

enum buf_error {
	BUF_OK = 0,
	BUF_TOO_LARGE,
	BUF_NO_MEMORY
};

struct buf {
	char *p;                        /* NULL until the first append */
	size_t len, cap, max;
	enum buf_error error;
};

/* An empty buffer that holds at most max bytes. */
#define BUF_INIT(max) { NULL, 0, 0, (max), BUF_OK }

/* Appends s[0..n); returns 0, or -1 with b->error set (now or before). */
int buf_add(struct buf *b, const void *s, size_t n);
void buf_byte(struct buf *b, unsigned c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees the contents; b is empty again, with its max.  buf_free of a
 * buffer never appended to is a no-op. */
void buf_free(struct buf *b);

/* "too large", "out of memory", or "" for BUF_OK. */
const char *buf_strerror(enum buf_error e);

#endif
