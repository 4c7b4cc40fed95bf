/* check.h - "m365-direct check": a verdict and why. */
#ifndef M365_CLI_CHECK_H
#define M365_CLI_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "matcher.h"

/* Prints the verdict of host (port < 0: none) as text or as one JSON
 * object to f. */
void check_print(FILE *f, const struct m365_rules *r, const char *host,
    int port, bool json);

#endif
