/* buf.c - see buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
buf_add(struct buf *b, const void *s, size_t n)
{
	if (b->error != BUF_OK)
		return -1;
	if (n > b->max - b->len) {
		b->error = BUF_TOO_LARGE;
		return -1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		/* doubling, capped at max + 1: no size arithmetic overflows
		 * since len + n <= max */
		while (cap < b->len + n + 1)
			cap = cap > (b->max + 1) / 2 ? b->max + 1 : cap * 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->error = BUF_NO_MEMORY;
			return -1;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

void
buf_byte(struct buf *b, unsigned c)
{
	unsigned char u = (unsigned char)c;

	buf_add(b, &u, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->error = BUF_NO_MEMORY;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		buf_add(b, small, (size_t)n);
		return;
	}
	if ((size_t)n > b->max - b->len) {
		b->error = BUF_TOO_LARGE;
		return;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		b->error = BUF_NO_MEMORY;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, (size_t)n);
	free(big);
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->error = BUF_OK;
}

const char *
buf_strerror(enum buf_error e)
{
	switch (e) {
	case BUF_OK:
		break;
	case BUF_TOO_LARGE:
		return "too large";
	case BUF_NO_MEMORY:
		return "out of memory";
	}
	return "";
}
