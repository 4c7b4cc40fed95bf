/* haproxy_push.c - "m365-direct haproxy-push --socket PATH --dir DIR": the
 * HAProxy maps of "export haproxy", replaced in the running HAProxy without
 * a reload, then rewritten in DIR so that a restart agrees (see
 * export/haproxy.h).  Exit 0 replaced and verified; 1 failed, or HAProxy
 * older than 2.4 (files rewritten, a reload is needed); 2 usage or
 * configuration error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "haproxy_api.h"
#include "log.h"
#include "parse.h"

#define PUSH_TIMEOUT_DEFAULT_MS 10000u
#define PUSH_TIMEOUT_MAX_MS 600000u

static int
push_usage(void)
{
	fprintf(stderr, "usage: m365-direct [-c CONF] [--data FILE] haproxy-push "
	    "--socket PATH --dir DIR\n"
	    "           [--timeout SECONDS]\n");
	return 2;
}

static int
parse_push_args(int argc, char **argv, struct haproxy_push_opts *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t ms;
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 't':
			if (parse_millis(optarg, strlen(optarg), PUSH_TIMEOUT_MAX_MS,
			    &ms) != 0 || ms == 0) {
				log_warnx("haproxy-push: --timeout %s: not a number of "
				    "seconds from 0.001 to %u", optarg,
				    PUSH_TIMEOUT_MAX_MS / 1000);
				return push_usage();
			}
			o->timeout_ms = (unsigned)ms;
			break;
		default:
			log_warnx("haproxy-push: %s: unknown option or missing "
			    "argument", argv[optind - 1]);
			return push_usage();
		}
	}
	if (optind != argc || o->socket == NULL || o->dir == NULL) {
		log_warnx("haproxy-push: %s", optind != argc ?
		    "unexpected argument" : "--socket PATH and --dir DIR are "
		    "required");
		return push_usage();
	}
	return 0;
}

/* The maps of the data in use (as "export" chooses it) under the policy.
 * Returns 0, or -1 after saying why. */
static int
build_maps(struct cli *c, struct haproxy_maps *m)
{
	struct cli_export ce;
	char err[1024];
	int rc = 0;

	if (cli_export_open(c, c->cfg.policy.direct_mask, "haproxy-push",
	    &ce) != 0)
		return -1;
	if (haproxy_maps_build(&ce.x, m, err, sizeof(err)) != 0) {
		log_warnx("haproxy-push: %s", err);
		rc = -1;
	}
	cli_export_close(&ce);
	return rc;
}

static void
print_report(const struct haproxy_maps *m, const struct haproxy_push_opts *o,
    const struct haproxy_push_report *r)
{
	for (int i = 0; i < HAPROXY_MAPS; i++) {
		if (r->map[i].loaded)
			printf("%s: %zu entries (version %lu)\n", m->map[i].file,
			    r->map[i].shown, r->map[i].version);
		else
			log_warnx("%s: HAProxy does not use it: written to %s only",
			    m->map[i].file, o->dir);
	}
	printf("replaced %zu maps live in HAProxy %s at %s; files rewritten in "
	    "%s\n", r->committed, r->version, o->socket, o->dir);
}

int
cmd_haproxy_push(struct cli *c, int argc, char **argv)
{
	struct haproxy_push_opts o = { NULL, NULL, PUSH_TIMEOUT_DEFAULT_MS };
	struct haproxy_push_report r;
	struct haproxy_maps m;
	enum haproxy_push_status st;
	char err[2048];
	int rc;

	if ((rc = parse_push_args(argc, argv, &o)) != 0 ||
	    cli_load_config(c) != 0)
		return 2;
	if (build_maps(c, &m) != 0)
		return 1;
	st = haproxy_push(&m, &o, &r, err, sizeof(err));
	switch (st) {
	case HAPROXY_PUSH_DONE:
		print_report(&m, &o, &r);
		rc = 0;
		break;
	case HAPROXY_PUSH_RELOAD:
		log_warnx("haproxy-push: %s", err);
		rc = 1;
		break;
	case HAPROXY_PUSH_FAILED:
		log_warnx("haproxy-push: %s%s", err, r.committed == 0 &&
		    !r.files_written ? " (nothing changed)" : "");
		rc = 1;
		break;
	}
	haproxy_maps_free(&m);
	return rc;
}
