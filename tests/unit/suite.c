/* suite.c - see suite.h. */
#include "suite.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
suite_show(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '#' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (o + 5 >= size && size > 4) {
		memcpy(buf + size - 4, "...", 3);
		o = size - 1;
	}
	buf[o] = '\0';
}

void
suite_add(struct suite *s, CMUnitTestFunction fn, void *state,
    const char *fmt, ...)
{
	char name[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->t = realloc(s->t, s->cap * sizeof(*s->t));
		if (s->t == NULL)
			abort();
	}
	s->t[s->n].name = strdup(name);
	s->t[s->n].test_func = fn;
	s->t[s->n].setup_func = NULL;
	s->t[s->n].teardown_func = NULL;
	s->t[s->n].initial_state = state;
	s->n++;
}

int
suite_run(struct suite *s, const char *name)
{
	int rc = _cmocka_run_group_tests(name, s->t, s->n, NULL, NULL);

	for (size_t i = 0; i < s->n; i++)
		free((char *)s->t[i].name);
	free(s->t);
	return rc;
}

uint64_t
suite_rng_next(struct suite_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

unsigned
suite_rng_below(struct suite_rng *r, unsigned n)
{
	return (unsigned)(suite_rng_next(r) % n);
}

struct ip_addr
suite_addr(const char *text)
{
	unsigned char b[16] = { 0 };
	struct ip_addr a = { 0, 0 };

	if (inet_pton(AF_INET, text, b + 12) == 1) {
		b[10] = 0xff;
		b[11] = 0xff;
	} else if (inet_pton(AF_INET6, text, b) != 1) {
		fail_msg("test table: bad address %s", text);
	}
	for (int i = 0; i < 8; i++) {
		a.hi = (a.hi << 8) | b[i];
		a.lo = (a.lo << 8) | b[i + 8];
	}
	return a;
}

const char *
suite_data_dir(void)
{
	const char *d = getenv("M365_TEST_DATA");

	return d != NULL && d[0] != '\0' ? d : "tests/data";
}

struct m365_data *
suite_load(const char *name)
{
	char path[1024], err[1024] = "";
	struct m365_data *d;

	snprintf(path, sizeof(path), "%s/%s", suite_data_dir(), name);
	d = endpoints_load_file(path, err, sizeof(err));
	if (d == NULL)
		fail_msg("cannot load %s: %s", path, err);
	return d;
}

void
suite_visit_log(void *ctx, uint32_t index)
{
	struct suite_visit_log *l = ctx;

	if (l->n < l->cap)
		l->v[l->n] = index;
	l->n++;
}
