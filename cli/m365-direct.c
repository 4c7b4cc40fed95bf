/* m365-direct - the admin command: global options, then one command (each
 * in its own file, see cli.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "source.h"

void
cli_usage(FILE *f)
{
	fprintf(f,
"usage: m365-direct [-c CONF] [--data FILE] [--state-dir DIR] COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  check HOST|IP [PORT] [--sni NAME] [--json]\n"
"        the verdict for a host name or IP address (optionally on a TCP\n"
"        port) and why: category, direct or not, the endpoint sets and the\n"
"        pattern or prefix that matched; with --sni, for a TLS connection\n"
"        to HOST|IP with that server name: direct only if both are; with\n"
"        an asn_database, the AS of an IP address\n"
"  config-test\n"
"        check the configuration file: prints \"configuration OK\" or every\n"
"        error as file:line: message\n"
"  update [--force] [--base-url URL] [--instance NAME] [--ca-file FILE]\n"
"         [--proxy URL] [--timeout SECONDS] [--retries N]\n"
"         [--retry-delay SECONDS]\n"
"        fetch Microsoft's endpoint data when a newer version is out,\n"
"        check it (guards; with an asn_database, the ASes of its\n"
"        prefixes), install it atomically in the state directory, print\n"
"        what changed; exit 0 installed or current, 1 failed (the last\n"
"        good data stays), 2 usage or configuration error\n"
"  status [--json] [--prometheus FILE]\n"
"        the data in use (source, version, age), the last update and the\n"
"        last ASN cross-check\n"
"  diff OLD NEW [--json]\n"
"        what changed between two endpoint data files\n"
"  export squid|haproxy|pac|mmdb -o PATH [--proxy STRING]\n"
"         [--direct optimize|optimize,allow] [--database-type NAME]\n"
"        the same decisions as check (without ports) as Squid ACL files,\n"
"        HAProxy maps, a PAC file or an MMDB, written atomically\n"
"  haproxy-push --socket PATH --dir DIR [--timeout SECONDS]\n"
"        regenerate the HAProxy maps and replace them in the running\n"
"        HAProxy through its runtime API (no reload), then in DIR\n"
"  assess [--proxy URL] [--host NAME]... [--control NAME] [--direct]\n"
"         [--json] [--public-ca-file FILE] [--ca-file FILE] [--tries N]\n"
"         [--timeout SECONDS]\n"
"        from a client behind the proxy: does Microsoft 365 get through\n"
"        without proxy authentication and TLS inspection, on a shorter\n"
"        path than other traffic, to a near front door; is the data\n"
"        fresh; exit 0 nothing failed, 1 something did, 2 usage error\n"
"  mirror -o DIR\n"
"        write the cached data (the state directory's, with its version\n"
"        and instance) as DIR/version/INSTANCE and DIR/endpoints/INSTANCE,\n"
"        atomically, the data first: what update reads from base_url =\n"
"        file://DIR, or from an HTTPS server serving DIR; for a fleet\n"
"        whose proxies poll one machine instead of Microsoft\n"
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

int
cli_load_config(struct cli *c)
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
		if ((c->cfg.state_dir = strdup(c->state_dir_opt)) == NULL) {
			log_warnx("out of memory");
			return -1;
		}
	}
	return rc;
}

int
cmd_config_test(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		cli_usage(stderr);
		return 2;
	}
	if (cli_load_config(c) != 0)
		return 1;
	printf("configuration OK\n");
	return 0;
}

static const struct command {
	const char *name;
	int (*run)(struct cli *, int, char **);
} commands[] = {
	{ "assess", cmd_assess },
	{ "check", cmd_check },
	{ "config-test", cmd_config_test },
	{ "diff", cmd_diff },
	{ "export", cmd_export },
	{ "haproxy-push", cmd_haproxy_push },
	{ "mirror", cmd_mirror },
	{ "status", cmd_status },
	{ "update", cmd_update },
};

static int
run_command(struct cli *c, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			return commands[i].run(c, argc, argv);
	log_warnx("unknown command \"%s\"", argv[0]);
	cli_usage(stderr);
	return 2;
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
			cli_usage(stdout);
			return 0;
		case 'V':
			printf("m365-direct %s\n", M365_VERSION);
			return 0;
		default:
			cli_usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		cli_usage(stderr);
		return 2;
	}
	rc = run_command(&c, argc, argv);
	config_free(&c.cfg);
	return rc;
}
