/* pairlog.c - see pairlog.h. */
#include "pairlog.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>

struct pairlog {
	uint64_t key;                   /* per process: chosen pairs cannot */
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
	if (getrandom(&pl->key, sizeof(pl->key), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(pl->key))
		pl->key = 0x9e3779b97f4a7c15u;
	pl->window = -1;
	return pl;
}

void
pairlog_free(struct pairlog *pl)
{
	free(pl);
}

/* FNV-1a over the bytes, from the key, finished by splitmix64 so every
 * bit of the slot index depends on every byte. */
static uint64_t
mix(uint64_t h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
	return h;
}

static uint64_t
finish(uint64_t h)
{
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
	return (h ^ (h >> 31)) | 1;     /* 0 marks an empty slot */
}

bool
pairlog_admit(struct pairlog *pl, const char *a, size_t alen,
    const char *b, size_t blen, time_t now, unsigned long *dropped)
{
	uint64_t h = mix(pl->key ^ 0xcbf29ce484222325u, a, alen);
	uint64_t *s;

	h = finish(mix((h ^ alen) * 0x100000001b3u, b, blen));
	s = &pl->slot[h % PAIRLOG_SLOTS];
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
