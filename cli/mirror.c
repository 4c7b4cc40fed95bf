/* mirror.c - "m365-direct mirror -o DIR": the cached endpoint data in the
 * layout a base_url reads (feed/mirror.h), for a fleet that polls one
 * machine instead of Microsoft.  One line on stderr says what happened,
 * as for update.  Exit 0 written or already current; 1 failed (what DIR
 * held stays whole); 2 usage or configuration error. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "mirror.h"

static int
mirror_usage(void)
{
	fprintf(stderr, "usage: m365-direct [-c CONF] [--state-dir DIR] mirror "
	    "-o DIR\n");
	return 2;
}

static int
parse_mirror_args(int argc, char **argv, const char **out)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
		if (ch != 'o') {
			log_warnx("mirror: %s: unknown option or missing argument",
			    argv[optind - 1]);
			return mirror_usage();
		}
		*out = optarg;
	}
	if (optind != argc || *out == NULL) {
		log_warnx("mirror: %s", *out == NULL ? "-o DIR is required" :
		    "unexpected argument");
		return mirror_usage();
	}
	return 0;
}

/* "written", "unchanged": what happened to one file. */
static const char *
fate(bool written)
{
	return written ? "written" : "unchanged";
}

int
cmd_mirror(struct cli *c, int argc, char **argv)
{
	struct mirror_result res;
	const char *out = NULL;
	char err[1024];
	int rc;

	if ((rc = parse_mirror_args(argc, argv, &out)) != 0)
		return rc;
	if (c->data_opt != NULL) {
		log_warnx("mirror: --data does not apply: mirror writes the "
		    "cache, which has a version");
		return 2;
	}
	if (cli_load_config(c) != 0)
		return 2;
	if (mirror_write(c->cfg.state_dir, out, &res, err, sizeof(err)) != 0) {
		log_warnx("mirror failed: %s", err);
		return 1;
	}
	if (res.warning[0] != '\0')
		log_warnx("mirror: warning: %s", res.warning);
	log_warnx("mirrored %s version %s (%zu endpoint sets) to %s: "
	    MIRROR_ENDPOINTS_DIR "/%s %s, " MIRROR_VERSION_DIR "/%s %s",
	    res.instance, res.version, res.n_sets, out, res.instance,
	    fate(res.data_written), res.instance, fate(res.version_written));
	return 0;
}
