/* fuzz_glob.c - libFuzzer target for the pattern table (matcher/names.c):
 * the input is up to 16 lines; every line that host_pattern_check accepts
 * is a pattern, every line (normalised by host_normalise, when it is a
 * host) and every suffix of one is a host.  The table built over the
 * patterns must give, for every host, exactly the patterns that a
 * shExpMatch written the plain way (dynamic programming over pattern and
 * host, O(n x m), case-insensitive as the table's inputs are lower-case)
 * says match.  So a wrong trie key, a glob automaton off by one at a
 * 64-bit word boundary or a skipped candidate is a failure, not only a
 * crash.  Bounded: at most 16 patterns, hosts of at most 253 bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 16
#define MAX_TEXT (HOST_NAME_MAX_LEN + 1)

/* shExpMatch(host, pat): '*' any run (dots included), '?' one byte. */
static bool
reference(const char *pat, size_t m, const char *host, size_t n)
{
	/* row[j]: pat[0..i) matches host[0..j) */
	bool row[MAX_TEXT + 1], next[MAX_TEXT + 1];

	row[0] = true;
	for (size_t j = 1; j <= n; j++)
		row[j] = false;
	for (size_t i = 0; i < m; i++) {
		next[0] = row[0] && pat[i] == '*';
		for (size_t j = 1; j <= n; j++) {
			if (pat[i] == '*')
				next[j] = row[j] || next[j - 1];
			else
				next[j] = row[j - 1] && (pat[i] == '?' ||
				    pat[i] == host[j - 1]);
		}
		memcpy(row, next, (n + 1) * sizeof(row[0]));
	}
	return row[n];
}

static void
check_host(const struct name_table *t, char *const *pats, size_t np,
    const char *host, size_t n)
{
	uint32_t got[MAX_LINES];
	bool want[MAX_LINES] = { false }, seen[MAX_LINES] = { false };
	size_t nwant = 0, ngot;

	for (size_t i = 0; i < np; i++)
		if ((want[i] = reference(pats[i], strlen(pats[i]), host, n)))
			nwant++;
	ngot = names_lookup(t, host, n, got, MAX_LINES);
	if (ngot != nwant)
		__builtin_trap();
	for (size_t i = 0; i < ngot; i++) {
		if (got[i] >= np || !want[got[i]] || seen[got[i]])
			__builtin_trap();
		seen[got[i]] = true;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char lines[MAX_LINES][MAX_TEXT + 1], *pats[MAX_LINES];
	char buf[MAX_TEXT + 1], err[256];
	size_t nl = 0, np = 0;
	const uint8_t *p = data, *end = data + size;
	struct name_table *t;

	while (p < end && nl < MAX_LINES) {
		const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((lf != NULL ? lf : end) - p);

		if (len <= MAX_TEXT - 1 && memchr(p, '\0', len) == NULL) {
			memcpy(lines[nl], p, len);
			lines[nl][len] = '\0';
			nl++;
		}
		p += len + (lf != NULL);
	}
	for (size_t i = 0; i < nl; i++) {
		const char *why;

		if (host_pattern_check(lines[i], strlen(lines[i]), buf, &why) ==
		    0 && (pats[np] = strdup(buf)) != NULL)
			np++;
	}
	if ((t = names_new((const char *const *)pats, np, err,
	    sizeof(err))) != NULL) {
		for (size_t i = 0; i < nl; i++) {
			size_t n = strlen(lines[i]);

			/* the line as written (lower-case it: the table's
			 * hosts are normalised) and every suffix of it */
			for (size_t k = 0; k < n; k++)
				if (lines[i][k] >= 'A' && lines[i][k] <= 'Z')
					lines[i][k] = (char)(lines[i][k] - 'A' +
					    'a');
			for (size_t s = 0; s <= n; s++)
				check_host(t, pats, np, lines[i] + s, n - s);
		}
		names_free(t);
	} else if (np > 0 && strstr(err, "memory") == NULL) {
		__builtin_trap();       /* valid patterns must build */
	}
	for (size_t i = 0; i < np; i++)
		free(pats[i]);
	return 0;
}
