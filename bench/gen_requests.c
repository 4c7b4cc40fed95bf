/* gen_requests.c - writes N request lines the way Squid sends them to a
 * concurrent helper with "%DST %PORT": "ID host port -", IDs 1..N.  The
 * hosts come from bench/mix.c (40% names of the data, 15% subdomains of
 * them, 35% other names, 10% IP literals, IPv6 URL-escaped as Squid does:
 * %5B2603:1006::1%5D); the ports are mostly 443.  Same seed, same file.
 * The file is written to a temporary name and renamed into place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoints.h"
#include "mix.h"
#include "parse.h"

#define DEFAULT_LINES 1000000u
#define MAX_LINES 100000000u
#define DEFAULT_SEED 1u
#define OUT_BUF (1024 * 1024)

/* Percent of the lines per kind, in enum mix_kind order. */
static const unsigned kind_percent[MIX_KINDS] = { 40, 15, 35, 10 };

static const struct {
	unsigned port, percent;
} port_mix[] = {
	{ 443, 88 }, { 80, 9 }, { 8080, 1 }, { 587, 1 }, { 3478, 1 },
};

struct pools {
	struct mix_query *q[MIX_KINDS];
	size_t n[MIX_KINDS];
};

static unsigned
pick_port(uint64_t *rng)
{
	unsigned r = (unsigned)(mix_rand(rng) % 100), acc = 0;

	for (size_t i = 0; i < sizeof port_mix / sizeof port_mix[0]; i++) {
		acc += port_mix[i].percent;
		if (r < acc)
			return port_mix[i].port;
	}
	return 443;
}

static const struct mix_query *
pick_query(const struct pools *p, uint64_t *rng)
{
	unsigned r = (unsigned)(mix_rand(rng) % 100), acc = 0;
	int k = 0;

	for (k = 0; k < MIX_KINDS - 1; k++) {
		acc += kind_percent[k];
		if (r < acc)
			break;
	}
	return &p->q[k][mix_rand(rng) % p->n[k]];
}

/* Writes the host as Squid's %DST has it: IPv6 in escaped brackets. */
static int
write_host(FILE *f, const struct mix_query *q)
{
	const char *t = q->text;
	size_t len = q->len;

	if (strchr(t, ':') == NULL)
		return fputs(t, f) < 0 ? -1 : 0;
	if (t[0] == '[') {
		t++;
		len -= 2;
	}
	return fprintf(f, "%%5B%.*s%%5D", (int)len, t) < 0 ? -1 : 0;
}

static int
write_lines(FILE *f, const struct pools *p, uint64_t lines, uint64_t seed)
{
	uint64_t rng = seed;

	for (uint64_t id = 1; id <= lines; id++) {
		const struct mix_query *q = pick_query(p, &rng);

		if (fprintf(f, "%llu ", (unsigned long long)id) < 0 ||
		    write_host(f, q) == -1 ||
		    fprintf(f, " %u -\n", pick_port(&rng)) < 0)
			return -1;
	}
	return 0;
}

static int
make_pools(const struct mix *m, struct pools *p)
{
	for (int k = 0; k < MIX_KINDS; k++) {
		if (mix_select(m, 1u << k, &p->q[k], &p->n[k]) == -1) {
			fprintf(stderr, "gen_requests: out of memory\n");
			return -1;
		}
		if (p->n[k] == 0) {
			fprintf(stderr, "gen_requests: no %s in the data\n",
			    mix_kind_name((enum mix_kind)k));
			return -1;
		}
	}
	return 0;
}

/* Writes the file via path.tmp and rename. Returns 0 or -1 (reported). */
static int
write_file(const char *path, const struct pools *p, uint64_t lines,
    uint64_t seed)
{
	char tmp[4096];
	FILE *f;
	static char buf[OUT_BUF];

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp ||
	    (f = fopen(tmp, "w")) == NULL) {
		perror("gen_requests: cannot create the temporary file");
		return -1;
	}
	setvbuf(f, buf, _IOFBF, sizeof buf);
	if (write_lines(f, p, lines, seed) == -1 || fflush(f) == EOF ||
	    fsync(fileno(f)) == -1) {
		perror("gen_requests: write");
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		perror("gen_requests: cannot install the file");
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, uint64_t *lines, uint64_t *seed)
{
	int ch;

	while ((ch = getopt(argc, argv, "n:s:")) != -1) {
		const char *a = optarg;

		if (ch == 'n' && parse_uint(a, strlen(a), MAX_LINES, lines) == 0)
			continue;
		if (ch == 's' && parse_uint(a, strlen(a), UINT64_MAX, seed) == 0)
			continue;
		return -1;
	}
	return argc - optind == 2 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	uint64_t lines = DEFAULT_LINES, seed = DEFAULT_SEED;
	struct m365_data *d = NULL;
	struct mix m = { NULL, 0 };
	struct pools p;
	char err[512];
	int rc = 1;

	memset(&p, 0, sizeof p);
	if (parse_args(argc, argv, &lines, &seed) == -1) {
		fprintf(stderr, "usage: gen_requests [-n lines] [-s seed] "
		    "data.json out\n");
		return 2;
	}
	if ((d = endpoints_load_file(argv[optind], err, sizeof err)) == NULL) {
		fprintf(stderr, "gen_requests: %s\n", err);
		return 1;
	}
	if (mix_build(&m, d, seed) == -1) {
		fprintf(stderr, "gen_requests: out of memory\n");
		goto cleanup;
	}
	if (make_pools(&m, &p) == -1)
		goto cleanup;
	rc = write_file(argv[optind + 1], &p, lines, seed) == -1;
cleanup:
	for (int k = 0; k < MIX_KINDS; k++)
		free(p.q[k]);
	mix_free(&m);
	endpoints_free(d);
	return rc;
}
