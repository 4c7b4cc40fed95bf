/* data.c - the rules a command works from, as check, export and
 * haproxy-push choose them (cli.h): the same choice as the helper's, but
 * a cache someone else could have written, or that the feed's guards
 * refuse, is an error, never an answer. */
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "matcher.h"
#include "settings.h"
#include "validate.h"

/* The bundled snapshot's rules, after saying why (err) it replaces the
 * cache; NULL after saying why not. */
static struct m365_rules *
fall_back(struct cli *c, struct source *src, const char *what, char *err,
    size_t errlen)
{
	struct m365_data *d;
	struct m365_rules *r;

	log_warnx("%s; falling back to the bundled snapshot", err);
	if ((d = source_load(NULL, NULL, src, err, errlen)) == NULL) {
		log_warnx("%s: %s", what, err);
		return NULL;
	}
	if ((r = matcher_compile(d, &c->cfg.policy, err, errlen)) == NULL) {
		endpoints_free(d);
		log_warnx("%s: %s", what, err);
	}
	return r;
}

/* The ASN cross-check update would have run on d under the settings u,
 * when a database is configured; returns -1 after saying why when it
 * refuses the data. */
static int
asn_refuses(struct cli *c, const struct m365_update *u,
    const struct source *src, const struct m365_data *d, const char *what)
{
	struct asn_check_opts ao;
	struct asn_report r;
	int rc;

	if (u->asn_database == NULL)
		return 0;
	update_asn_opts(&ao, u, &c->cfg.policy, src->instance);
	asn_check_data(&ao, d, &r);
	rc = r.fails ? -1 : 0;
	if (rc != 0)
		log_warnx("%s: %s: refused by the ASN cross-check: %s", what,
		    src->path, r.summary);
	asn_report_free(&r);
	return rc;
}

struct m365_rules *
cli_compile(struct cli *c, struct source *src, const char *what)
{
	struct m365_data *d;
	struct m365_rules *r;
	struct m365_update u;
	struct validate_opts vo;
	struct validate_result vr;
	char err[1024];

	d = source_load(c->data_opt, c->cfg.state_dir, src, err, sizeof(err));
	if (d == NULL && (c->data_opt != NULL || src->untrusted)) {
		log_warnx("%s: %s", what, err);
		return NULL;
	}
	if (d == NULL)          /* a broken cache, as the helper does */
		return fall_back(c, src, what, err, sizeof(err));
	/* whoever can write the state directory gains nothing the feed
	 * could not have done: the guards update ran, again */
	update_settings(&u, &c->cfg);
	update_guard_opts(&vo, &u, src->instance, false);
	if (src->kind == SOURCE_CACHE &&
	    validate_data(d, NULL, &vo, &vr, err, sizeof(err)) != 0) {
		log_warnx("%s: %s: refused by the feed's guards: %s", what,
		    src->path, err);
		endpoints_free(d);
		return NULL;
	}
	if (src->kind == SOURCE_CACHE && asn_refuses(c, &u, src, d, what) != 0) {
		endpoints_free(d);
		return NULL;
	}
	if ((r = matcher_compile(d, &c->cfg.policy, err, sizeof(err))) != NULL)
		return r;
	endpoints_free(d);
	if (src->kind != SOURCE_CACHE) {
		log_warnx("%s: %s", what, err);
		return NULL;
	}
	return fall_back(c, src, what, err, sizeof(err));
}
