/* cli.h - what the m365-direct commands share: the global options, the
 * configuration, and one entry point per command. */
#ifndef M365_CLI_H
#define M365_CLI_H

#include "config.h"
#include "export.h"
#include "source.h"

struct cli {
	const char *conf;               /* -c, or NULL for the default */
	const char *data_opt;           /* --data */
	const char *state_dir_opt;      /* --state-dir */
	struct m365_config cfg;         /* loaded by cli_load_config */
};

#include <stdio.h>

/* The command's usage text. */
void cli_usage(FILE *f);

/* Loads the configuration into c->cfg (--state-dir applied); prints every
 * error to stderr.  Returns 0, or -1 (a usage error: exit 2). */
int cli_load_config(struct cli *c);

/* The rules of the data in use under the configuration's policy:
 * --data FILE, else the cache, else the bundled snapshot (source_load).
 * A cache that does not load or compile falls back to the snapshot, with
 * a warning, as the helper does; but a cache or --data file someone else
 * could have written (src->untrusted), or a cache the feed's guards
 * refuse (validate_data, as update runs them: whoever can write the state
 * directory gains nothing the feed could not have done) is an error.
 * Returns the rules (which own the data; *src says what was read), or
 * NULL after saying why on stderr, prefixed by what. */
struct m365_rules *cli_compile(struct cli *c, struct source *src,
    const char *what);

/* The data in use (as check chooses it: cli_compile) prepared for the
 * exporters under the policy and mask. */
struct cli_export {
	struct m365_rules *rules;       /* own the data */
	struct export_ctx x;
	struct source src;              /* with the data's version */
};

/* Loads and prepares; returns 0, or -1 after saying why (prefixed by
 * what).  cli_export_close releases it. */
int cli_export_open(struct cli *c, unsigned mask, const char *what,
    struct cli_export *ce);
void cli_export_close(struct cli_export *ce);

/* The change report (matcher/diff.h) as text (nothing when empty), or as
 * one JSON object on one line (shape: cli/diff.c; returns 0, or -1 when
 * out of memory, nothing written). */
struct diff_report;
void diff_print_text(FILE *f, const struct diff_report *d);
int diff_print_json(FILE *f, const struct diff_report *d);

/* Each command gets argv[0] = its name; returns the exit status:
 * 0 done, 1 failed, 2 usage or configuration error. */
int cmd_assess(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_diff(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_haproxy_push(struct cli *c, int argc, char **argv);
int cmd_mirror(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_update(struct cli *c, int argc, char **argv);
int cmd_config_test(struct cli *c, int argc, char **argv);

#endif
