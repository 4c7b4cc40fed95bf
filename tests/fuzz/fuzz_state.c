/* fuzz_state.c - libFuzzer target for what the programs read back from the
 * state directory, which whoever can write it controls:
 *   - the input's first line as the name of the data file the
 *     endpoints.json link names (source_data_name_parse and _split): a
 *     name that parses gives a version of exactly ten digits that
 *     source_version_valid accepts (for _parse) and a known instance,
 *     both printable, as they go into file headers, PAC comments, metric
 *     labels and JSON;
 *   - the rest as status.json, read by state_status_read: every text
 *     field ends inside its buffer, and what it read, written back with
 *     state_status_write and read again, is the same record (the reader
 *     and the writer agree on every field).
 * The files live in one private directory made at the first input. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "source.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

/* The private directory goes with the process. */
static void
cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/status.json", dir);
	unlink(path);
	rmdir(dir);
}

static void
check_name(const char *name, int (*parse)(const char *, char *, size_t,
    char *, size_t), bool valid_date)
{
	char v[SOURCE_NAME_MAX], in[SOURCE_NAME_MAX];

	if (parse(name, v, sizeof(v), in, sizeof(in)) != 0) {
		if (v[0] != '\0' || in[0] != '\0')
			__builtin_trap();       /* both "" on failure */
		return;
	}
	if (strlen(v) != 10 || strspn(v, "0123456789") != 10 ||
	    !config_instance_valid(in) ||
	    (valid_date && !source_version_valid(v)))
		__builtin_trap();
}

static void
check_text(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *lf = memchr(data, '\n', size);
	size_t nlen = lf != NULL ? (size_t)(lf - data) : size;
	struct state_status st, again;
	char name[256], path[128], err[256];
	FILE *f;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/m365-fuzz-state-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(cleanup);
	}
	if (nlen < sizeof(name) && memchr(data, '\0', nlen) == NULL) {
		memcpy(name, data, nlen);
		name[nlen] = '\0';
		check_name(name, source_data_name_parse, true);
		check_name(name, source_data_name_split, false);
	}
	snprintf(path, sizeof(path), "%s/status.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (lf != NULL)
		fwrite(lf + 1, 1, size - nlen - 1, f);
	fclose(f);
	state_status_read(dir, &st);
	check_text(st.last_result, sizeof(st.last_result));
	check_text(st.last_message, sizeof(st.last_message));
	check_text(st.asn_result, sizeof(st.asn_result));
	check_text(st.asn_message, sizeof(st.asn_message));
	if (state_status_write(dir, &st, err, sizeof(err)) != 0)
		return 0;
	state_status_read(dir, &again);
	if (memcmp(&st, &again, sizeof(st)) != 0)
		__builtin_trap();       /* reader and writer disagree */
	return 0;
}
