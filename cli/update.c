/* update.c - "m365-direct update": the options, then the pipeline of
 * feed/update.c (version check, fetch, guards, install, hook), its
 * change report on stdout and one clear line on stderr saying what
 * happened (DESIGN.md §2, §7).
 * Exit 0: installed or already current; 1: failed, the last good data
 * kept; 2: usage or configuration error. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diff.h"
#include "log.h"
#include "update.h"

static int
update_usage(void)
{
	fprintf(stderr, "usage: m365-direct [-c CONF] [--state-dir DIR] update "
	    "[--force] [--base-url URL]\n"
	    "           [--instance NAME] [--ca-file FILE] [--proxy URL] "
	    "[--timeout SECONDS]\n"
	    "           [--retries N] [--retry-delay SECONDS]\n");
	return 2;
}

/* Says what is wrong with an option; returns 2 (usage error). */
static int
bad_option(const char *opt, const char *arg, const char *expected)
{
	if (arg != NULL)
		log_warnx("update: %s %s: expected %s", opt, arg, expected);
	else
		log_warnx("update: %s: %s", opt, expected);
	return update_usage();
}

/* Applies the command line over the configuration, each option through
 * the same setter (and checks) as its key in the file; returns 0 or 2. */
static int
parse_update_args(bool *force, struct m365_config *cfg, int argc,
    char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "instance", required_argument, NULL, 'i' },
		{ "ca-file", required_argument, NULL, 'a' },
		{ "proxy", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "retry-delay", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	/* the key each option sets, by its index in opts */
	static const char *const keys[] = { NULL, "base_url", "instance",
	    "ca_file", "proxy", "timeout", "retries", "retry_delay" };
	char why[1024];
	int ch, li;

	optind = 0;     /* GNU: rescan from argv[1] */
	opterr = 0;     /* our own messages, with the program's name */
	while ((ch = getopt_long(argc, argv, "+", opts, &li)) != -1) {
		if (ch == 'f') {
			*force = true;
		} else if (ch == '?' || ch == ':') {
			return bad_option(argv[optind - 1], NULL,
			    "unknown option or missing argument");
		} else if (config_set(cfg, keys[li], optarg, why,
		    sizeof(why)) != 0) {
			log_warnx("update: --%s %s: %s", opts[li].name, optarg,
			    why);
			return update_usage();
		}
	}
	if (optind != argc)
		return bad_option(argv[optind], NULL, "unexpected argument");
	return 0;
}

/* Prints the outcome: the durability warning, the change report on
 * stdout, then the one line on stderr. */
static void
print_report(const struct update_result *res, void *arg)
{
	(void)arg;
	if (res->warning[0] != '\0')
		log_warnx("update: warning: %s", res->warning);
	if (res->guard_warning[0] != '\0')
		log_warnx("update: warning: %s", res->guard_warning);
	if (res->diff != NULL)
		diff_print_text(stdout, res->diff);
	if (res->record_error[0] != '\0')
		log_warnx("update: cannot record the attempt: %s",
		    res->record_error);
	log_warnx("%s", res->message);
}

int
cmd_update(struct cli *c, int argc, char **argv)
{
	struct update_opts o = { .report = print_report };
	struct update_result res;
	struct m365_update settings;
	int rc;

	if (cli_load_config(c) != 0)
		return 2;
	if ((rc = parse_update_args(&o.force, &c->cfg, argc, argv)) != 0)
		return rc;
	if (c->data_opt != NULL) {
		log_warnx("update: --data does not apply: update writes the cache");
		return 2;
	}
	o.state_dir = c->cfg.state_dir;
	update_settings(&settings, &c->cfg);
	o.cfg = &settings;
	o.service_areas = &c->cfg.policy.service_areas;
	rc = update_run(&o, &res) == UPDATE_FAILED ? 1 : 0;
	if (res.hook == UPDATE_HOOK_FAILED)
		log_warnx("%s", res.hook_message);
	update_result_free(&res);
	return rc;
}
