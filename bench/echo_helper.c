/* echo_helper.c - the I/O floor for a concurrent Squid helper: reads request
 * lines ("ID host port -") with one big buffer, answers "ID OK" for each and
 * writes once per read.  No parsing beyond finding the ID, no lookup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define IN_SIZE (256 * 1024)
#define LINE_MAX_LEN 8192       /* a longer line is cut, as a helper would */

static char in[IN_SIZE + LINE_MAX_LEN];
/* A line of k bytes (newline included) gives at most k + 3 <= 4k bytes. */
static char out[4 * (IN_SIZE + LINE_MAX_LEN) + 8];

static int
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Appends "ID OK\n" for the line p[0..len) to out at *o. */
static void
answer(const char *p, size_t len, size_t *o)
{
	const char *sp = memchr(p, ' ', len);
	size_t idlen = sp ? (size_t)(sp - p) : len;

	memcpy(out + *o, p, idlen);
	memcpy(out + *o + idlen, " OK\n", 4);
	*o += idlen + 4;
}

/* Answers every complete line of in[0..*have) and keeps the rest. */
static int
answer_lines(size_t *have)
{
	size_t start = 0, o = 0;
	char *nl;

	while ((nl = memchr(in + start, '\n', *have - start)) != NULL) {
		answer(in + start, (size_t)(nl - (in + start)), &o);
		start = (size_t)(nl - in) + 1;
	}
	if (*have - start >= LINE_MAX_LEN) {    /* overlong: answer the head */
		answer(in + start, *have - start, &o);
		start = *have;
	}
	memmove(in, in + start, *have - start);
	*have -= start;
	return o > 0 ? write_all(out, o) : 0;
}

int
main(void)
{
	size_t have = 0;

	for (;;) {
		ssize_t r = read(STDIN_FILENO, in + have, IN_SIZE);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("echo_helper: read");
			return 1;
		}
		if (r == 0)
			return 0;
		have += (size_t)r;
		if (answer_lines(&have) == -1) {
			perror("echo_helper: write");
			return 1;
		}
	}
}
