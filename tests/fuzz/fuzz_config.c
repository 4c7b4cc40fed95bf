/* fuzz_config.c - libFuzzer target for the m365-direct.conf reader: any
 * bytes as a configuration file must give either a configuration or a
 * list of "file:line: message" errors, never a crash, a leak or an
 * unbounded list.  The bytes reach config_load through a memfd, as a
 * file would. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct m365_config c;
	char path[64];
	int fd = memfd_create("m365-fuzz.conf", 0);
	int rc;

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (config_init(&c) != 0)
		__builtin_trap();
	rc = config_load(&c, path, true, &errs);
	if (errs.n > CONFIG_MAX_ERRORS || (rc == 0) != (errs.n == 0 &&
	    errs.dropped == 0))
		__builtin_trap();       /* errors and the result must agree */
	for (size_t i = 0; i < errs.n; i++)
		if (strncmp(errs.msg[i], path, strlen(path)) != 0)
			__builtin_trap();       /* every error names the file */
	config_errors_free(&errs);
	config_free(&c);
	close(fd);
	return 0;
}
