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
#include "parse.h"
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

/* Applies the command line over the configuration; returns 0 or 2. */
static int
parse_update_args(bool *force, struct m365_update *cu, int argc, char **argv)
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
	uint64_t n;
	int ch;

	optind = 0;     /* GNU: rescan from argv[1] */
	opterr = 0;     /* our own messages, with the program's name */
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		char **slot = ch == 'b' ? &cu->base_url : ch == 'i' ?
		    &cu->instance : ch == 'a' ? &cu->ca_file : ch == 'p' ?
		    &cu->proxy : NULL;

		if (ch == 'f') {
			*force = true;
		} else if (slot != NULL) {
			free(*slot);
			if ((*slot = strdup(optarg)) == NULL)
				return 2;
		} else if (ch == 't') {
			if (parse_uint(optarg, strlen(optarg), M365_MAX_TIMEOUT,
			    &n) != 0 || n == 0)
				return bad_option("--timeout", optarg, "1..3600 seconds");
			cu->timeout = (unsigned)n;
		} else if (ch == 'r') {
			if (parse_uint(optarg, strlen(optarg), M365_MAX_RETRIES,
			    &n) != 0)
				return bad_option("--retries", optarg, "0..10");
			cu->retries = (unsigned)n;
		} else if (ch == 'd') {
			if (parse_millis(optarg, strlen(optarg),
			    M365_MAX_RETRY_DELAY_MS, &n) != 0)
				return bad_option("--retry-delay", optarg,
				    "0..600 seconds");
			cu->retry_delay_ms = (unsigned)n;
		} else {
			return bad_option(argv[optind - 1], NULL,
			    "unknown option or missing argument");
		}
	}
	if (optind != argc)
		return bad_option(argv[optind], NULL, "unexpected argument");
	return 0;
}

/* Checks the settings that come from either place; returns 0 or 2. */
static int
check_settings(const struct m365_update *cu)
{
	if (strncmp(cu->base_url, "https://", 8) != 0 &&
	    strncmp(cu->base_url, "file://", 7) != 0) {
		log_warnx("update: --base-url: only https:// and file:// are "
		    "accepted: %s", cu->base_url);
		return 2;
	}
	if (!config_instance_valid(cu->instance)) {
		log_warnx("update: --instance: \"%s\" is not Worldwide, USGovDoD, "
		    "USGovGCCHigh or China", cu->instance);
		return 2;
	}
	if (cu->timeout == 0) {
		log_warnx("update: timeout must be at least 1 second");
		return 2;
	}
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
	int rc;

	if (cli_load_config(c) != 0)
		return 2;
	if ((rc = parse_update_args(&o.force, &c->cfg.update, argc,
	    argv)) != 0 ||
	    (rc = check_settings(&c->cfg.update)) != 0)
		return rc;
	if (c->data_opt != NULL) {
		log_warnx("update: --data does not apply: update writes the cache");
		return 2;
	}
	o.state_dir = c->cfg.state_dir;
	o.cfg = &c->cfg.update;
	o.service_areas = &c->cfg.policy.service_areas;
	rc = update_run(&o, &res) == UPDATE_FAILED ? 1 : 0;
	if (res.hook == UPDATE_HOOK_FAILED)
		log_warnx("%s", res.hook_message);
	update_result_free(&res);
	return rc;
}
