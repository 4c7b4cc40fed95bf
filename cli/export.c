/* export.c - "m365-direct export FORMAT -o PATH": the same decisions as
 * "check" (port-less) as generated files: Squid ACL files, HAProxy maps,
 * a PAC file, an MMDB.  Exit 0 written, 1 failed (nothing replaced), 2
 * usage or configuration error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export.h"
#include "log.h"
#include "matcher.h"
#include "source.h"
#include "state.h"

#define PAC_DEFAULT_PROXY "PROXY proxy.example.net:3128; DIRECT"

static int
export_usage(void)
{
	fprintf(stderr, "usage: m365-direct [-c CONF] [--data FILE] export "
	    "squid|haproxy|pac|mmdb -o PATH\n"
	    "           [--proxy 'PROXY host:port; DIRECT'] [--direct "
	    "optimize|optimize,allow]\n"
	    "           [--database-type NAME]\n");
	return 2;
}

static int
parse_export_args(int argc, char **argv, struct export_opts *o,
    const char **direct)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "proxy", required_argument, NULL, 'p' },
		{ "direct", required_argument, NULL, 'd' },
		{ "database-type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			o->out = optarg;
			break;
		case 'p':
			o->proxy = optarg;
			break;
		case 'd':
			*direct = optarg;
			break;
		case 't':
			o->database_type = optarg;
			break;
		default:
			log_warnx("export: %s: unknown option or missing argument",
			    argv[optind - 1]);
			return export_usage();
		}
	}
	if (optind != argc || o->out == NULL) {
		log_warnx("export: %s", o->out == NULL ? "-o PATH is required" :
		    "unexpected argument");
		return export_usage();
	}
	return 0;
}

int
cli_export_open(struct cli *c, unsigned mask, const char *what,
    struct cli_export *ce)
{
	struct export_source es;
	char err[1024];

	memset(ce, 0, sizeof(*ce));
	/* the exporters read the compiled rules: one view, as check's */
	if ((ce->rules = cli_compile(c, &ce->src, what)) == NULL)
		return -1;
	/* the version of the very file read (source_load), not the link's
	 * name read again: an update may have switched it meanwhile */
	es.kind = source_kind_name(ce->src.kind);
	es.path = ce->src.path;
	es.version = ce->src.version;
	es.instance = ce->src.instance;
	if (export_prepare(&ce->x, ce->rules, &c->cfg.policy, mask, &es, err,
	    sizeof(err)) != 0) {
		log_warnx("%s: %s", what, err);
		cli_export_close(ce);
		return -1;
	}
	return 0;
}

void
cli_export_close(struct cli_export *ce)
{
	export_release(&ce->x);
	matcher_free(ce->rules);        /* and the data */
	ce->rules = NULL;
}

int
cmd_export(struct cli *c, int argc, char **argv)
{
	struct export_opts o = { NULL, PAC_DEFAULT_PROXY, "m365-direct", 0 };
	const struct exporter *ex;
	const char *direct = NULL, *why;
	struct cli_export ce;
	char err[1024];
	int rc;

	if (argc < 2 || (ex = export_find(argv[1])) == NULL) {
		log_warnx("export: the format is squid, haproxy, pac or mmdb");
		return export_usage();
	}
	if ((rc = parse_export_args(argc - 1, argv + 1, &o, &direct)) != 0 ||
	    cli_load_config(c) != 0)
		return 2;
	o.direct_mask = c->cfg.policy.direct_mask;
	if (direct != NULL && config_parse_categories(direct, &o.direct_mask,
	    &why) != 0) {
		log_warnx("export: --direct %s: %s", direct, why);
		return 2;
	}
	if (!export_mask_supported(o.direct_mask)) {
		log_warnx("export: the direct categories must include every higher "
		    "one (optimize; optimize, allow; or all three)");
		return 2;
	}
	if (cli_export_open(c, o.direct_mask, "export", &ce) != 0)
		return 1;
	rc = 0;
	if (ex->write(&ce.x, &o, err, sizeof(err)) != 0) {
		log_warnx("export %s: %s", ex->name, err);
		rc = 1;
	}
	cli_export_close(&ce);
	return rc;
}
