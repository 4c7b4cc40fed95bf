/* diff.c - "m365-direct diff OLD NEW [--json]": the change report of the
 * updater for any two endpoint data files.  Exit 0 whether or not they
 * differ, 1 when a file does not load, 2 on a usage error. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "diff.h"
#include "endpoints.h"
#include "log.h"

int
cmd_diff(struct cli *c, int argc, char **argv)
{
	const char *files[2] = { NULL, NULL };
	struct m365_data *d[2] = { NULL, NULL };
	struct diff_report *rep = NULL;
	char err[1024];
	bool json = false;
	int rc = 1, n = 0;

	(void)c;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (n < 2 && strncmp(argv[i], "--", 2) != 0)
			files[n++] = argv[i];
		else
			n = 3;
	}
	if (n != 2) {
		fprintf(stderr, "usage: m365-direct diff OLD NEW [--json]\n");
		return 2;
	}
	for (int i = 0; i < 2; i++)
		if ((d[i] = endpoints_load_file(files[i], err, sizeof(err))) == NULL) {
			log_warnx("diff: %s", err);
			goto done;
		}
	if ((rep = diff_compute(d[0], d[1])) == NULL) {
		log_warnx("diff: out of memory");
		goto done;
	}
	rc = 0;
	if (json && diff_print_json(stdout, rep) != 0) {
		log_warnx("diff: out of memory");
		rc = 1;
	} else if (!json && diff_is_empty(rep)) {
		printf("no changes\n");
	} else if (!json) {
		diff_print_text(stdout, rep);
	}
done:
	diff_free(rep);
	endpoints_free(d[0]);
	endpoints_free(d[1]);
	return rc;
}
