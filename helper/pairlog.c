/* pairlog.c - see pairlog.h. */
#include "pairlog.h"

#include <stdint.h>
#include <stdlib.h>

#include "siphash.h"

struct pairlog {
	uint64_t key[2];                /* per process: chosen pairs cannot */
	uint64_t slot[PAIRLOG_SLOTS];   /* aim at each other's slot */
	time_t window;
	unsigned used;                  /* lines logged in this window */
	unsigned long dropped;
};

struct pairlog *
pairlog_new(void)
{
	struct pairlog *pl = calloc(1, sizeof(*pl));

	if (pl == NULL)
		return NULL;
	/* without randomness the key is fixed; a collision only ever costs a
	 * log line, never an answer */
	if (siphash_key(pl->key) != 0) {
		pl->key[0] = 0x9e3779b97f4a7c15u;
		pl->key[1] = 0xbf58476d1ce4e5b9u;
	}
	pl->window = -1;
	return pl;
}

void
pairlog_free(struct pairlog *pl)
{
	free(pl);
}

/* The pair's slot value: a under the key, then b under a key that the
 * first hash and a's length change, so ("ab", "c") and ("a", "bc")
 * differ; never 0, which marks an empty slot. */
static uint64_t
pair_hash(const struct pairlog *pl, const char *a, size_t alen,
    const char *b, size_t blen)
{
	uint64_t k2[2];

	k2[0] = pl->key[0] ^ siphash24(pl->key, a, alen);
	k2[1] = pl->key[1] ^ (uint64_t)alen;
	return siphash24(k2, b, blen) | 1;
}

bool
pairlog_admit(struct pairlog *pl, const char *a, size_t alen,
    const char *b, size_t blen, time_t now, unsigned long *dropped)
{
	uint64_t h = pair_hash(pl, a, alen, b, blen);
	uint64_t *s = &pl->slot[h % PAIRLOG_SLOTS];

	*dropped = 0;
	if (*s == h)
		return false;
	if (now - pl->window >= PAIRLOG_WINDOW || pl->window < 0) {
		pl->window = now;
		pl->used = 0;
	}
	if (pl->used == PAIRLOG_BURST) {
		pl->dropped++;
		return false;   /* not remembered: it may be logged later */
	}
	pl->used++;
	*s = h;
	*dropped = pl->dropped;
	pl->dropped = 0;
	return true;
}
