/* m365-direct - the admin command: explain verdicts, check the
 * configuration (later: update, export, diff, status). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "matcher.h"
#include "parse.h"
#include "source.h"

struct cli {
	const char *conf;               /* -c, or NULL for the default */
	const char *data_opt;
	const char *state_dir_opt;
	struct m365_config cfg;
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: m365-direct [-c CONF] [--data FILE] [--state-dir DIR] COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  check HOST|IP [PORT] [--json]\n"
"        the verdict for a host name or IP address (optionally on a TCP\n"
"        port) and why: category, direct or not, the endpoint sets and the\n"
"        pattern or prefix that matched\n"
"  config-test\n"
"        check the configuration file: prints \"configuration OK\" or every\n"
"        error as file:line: message\n"
"\n"
"Options:\n"
"  -c CONF          configuration file (default " M365_DEFAULT_CONFIG ")\n"
"  --data FILE      endpoint JSON to use instead of the cache\n"
"  --state-dir DIR  where the cache lives (default " M365_DEFAULT_STATE_DIR ")\n"
"  -h, --help       this text\n"
"  -V, --version    print the version\n"
"\n"
"Data: --data FILE, else DIR/" SOURCE_CACHE_FILE ", else the bundled snapshot.\n");
}

/* Loads the configuration; prints every error.  Returns 0 or -1. */
static int
load_config(struct cli *c)
{
	struct config_errors errs = { 0 };
	int rc;

	if (config_init(&c->cfg) != 0) {
		log_warnx("out of memory");
		return -1;
	}
	rc = config_load(&c->cfg, c->conf != NULL ? c->conf : M365_DEFAULT_CONFIG,
	    c->conf != NULL, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (errs.dropped > 0)
		fprintf(stderr, "(%zu more errors)\n", errs.dropped);
	config_errors_free(&errs);
	if (rc == 0 && c->state_dir_opt != NULL) {
		free(c->cfg.state_dir);
		c->cfg.state_dir = strdup(c->state_dir_opt);
	}
	return rc;
}

static int
cmd_config_test(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	if (load_config(c) != 0)
		return 1;
	printf("configuration OK\n");
	return 0;
}

static int
cmd_check(struct cli *c, int argc, char **argv)
{
	const char *host = NULL, *port_arg = NULL;
	struct m365_rules *r;
	struct source src;
	char err[512];
	bool json = false;
	uint64_t port = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strncmp(argv[i], "--", 2) == 0) {
			log_warnx("check: unknown option %s", argv[i]);
			return 2;
		} else if (host == NULL) {
			host = argv[i];
		} else if (port_arg == NULL) {
			port_arg = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (host == NULL) {
		usage(stderr);
		return 2;
	}
	if (port_arg != NULL && (parse_uint(port_arg, strlen(port_arg), 65535,
	    &port) != 0 || port == 0)) {
		log_warnx("check: port must be 1..65535: %s", port_arg);
		return 2;
	}
	if (load_config(c) != 0)
		return 2;
	/* an explicit --data file is never silently replaced; a broken cache
	 * falls back to the snapshot as the helper does */
	r = source_compile(c->data_opt, c->cfg.state_dir, &c->cfg.policy,
	    c->data_opt == NULL, &src, err, sizeof(err));
	if (r == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	check_print(stdout, r, host, port_arg != NULL ? (int)port : -1, json);
	matcher_free(r);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli c = { 0 };
	int ch, rc;

	log_init("m365-direct");
	/* '+': options stop at the command; the command parses its own */
	while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.conf = optarg;
			break;
		case 'd':
			c.data_opt = optarg;
			break;
		case 's':
			c.state_dir_opt = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("m365-direct %s\n", M365_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "check") == 0)
		rc = cmd_check(&c, argc, argv);
	else if (strcmp(argv[0], "config-test") == 0)
		rc = cmd_config_test(&c, argc, argv);
	else {
		log_warnx("unknown command \"%s\"", argv[0]);
		usage(stderr);
		rc = 2;
	}
	config_free(&c.cfg);
	return rc;
}
