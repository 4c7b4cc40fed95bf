/* test_memo.c - the helper's answer memo: keys as zero-padded words, hits
 * and misses, 4-way buckets, clearing, and every bound (key and answer
 * length, the answer pool). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memo.h"

/* A key from a string, read from a buffer with garbage past its end (as
 * the helper's input buffer has), to prove the bytes past len are ignored. */
static void
key_of(struct memo_key *k, const char *text, char fill)
{
	char buf[MEMO_KEY_MAX + 8];
	size_t len = strlen(text);

	assert_true(len <= MEMO_KEY_MAX);
	memset(buf, fill, sizeof(buf));
	memcpy(buf, text, len);
	memo_key_make(k, buf, len);
}

static void
put_str(struct memo *m, const char *key, const char *answer)
{
	struct memo_key k;

	key_of(&k, key, 'x');
	memo_put(m, &k, answer, strlen(answer));
}

/* The answer memoised for key, as a string, or NULL. */
static const char *
get_str(const struct memo *m, const char *key, char *buf)
{
	struct memo_key k;
	const char *a;
	size_t alen;

	key_of(&k, key, 'y');
	a = memo_get(m, &k, &alen);
	if (a == NULL)
		return NULL;
	memcpy(buf, a, alen);
	buf[alen] = '\0';
	return buf;
}

static void
test_keys(void **state)
{
	struct memo_key a, b;
	static const char *const texts[] = { "", "a", "outlook.office365.com 443 -",
	    "12345678", "123456789", "x.example 443 - with a fifty-six byte key.."
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		key_of(&a, texts[i], 'p');
		key_of(&b, texts[i], 'q');
		assert_memory_equal(a.w, b.w, sizeof(a.w));
		assert_true(a.hash == b.hash);
		assert_int_equal(a.len, strlen(texts[i]));
	}
}

/* The key of text[0..len) (which may hold NUL bytes), read from a buffer
 * with garbage past len. */
static void
key_raw(struct memo_key *k, const char *text, size_t len, char fill)
{
	char buf[MEMO_KEY_MAX + 8];

	assert_true(len <= MEMO_KEY_MAX);
	memset(buf, fill, sizeof(buf));
	memcpy(buf, text, len);
	memo_key_make(k, buf, len);
}

#define K56 "x.example 443 - with a fifty-six byte key, the last is:"

/* Keys that differ only in length (the extra bytes zero, so the padded
 * words are the same), only past a word boundary or only in the last byte
 * of the last word never share an answer: a request must never be given
 * the answer of another. */
static void
test_distinct(void **state)
{
	static const struct {
		const char *text;
		size_t len;
	} keys[] = {
		{ "", 0 }, { "\0", 1 }, { "\0\0\0\0\0\0\0\0", 8 },
		{ "\0\0\0\0\0\0\0\0\0", 9 },
		{ "ab\0\0", 2 }, { "ab\0\0", 3 }, { "ab\0\0", 4 },
		{ "12345678", 8 }, { "12345678\0", 9 }, { "12345678a", 9 },
		{ "12345678b", 9 }, { "1234567812345678x", 17 },
		{ "1234567812345678y", 17 },
		{ K56 "a", MEMO_KEY_MAX }, { K56 "b", MEMO_KEY_MAX },
		{ K56 "a", MEMO_KEY_MAX - 1 },
	};
	const size_t n = sizeof(keys) / sizeof(keys[0]);
	struct memo *m = memo_new(1u << 10);
	char answer[32];

	(void)state;
	assert_non_null(m);
	assert_int_equal(strlen(K56) + 1, MEMO_KEY_MAX);
	/* the even keys in: none of the odd ones is answered */
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = pass; i < n; i += 2) {
			struct memo_key k;

			key_raw(&k, keys[i].text, keys[i].len, 'x');
			snprintf(answer, sizeof(answer), "answer %zu", i);
			memo_put(m, &k, answer, strlen(answer));
		}
		for (size_t i = 0; i < n; i++) {
			struct memo_key k;
			const char *a;
			size_t alen;

			key_raw(&k, keys[i].text, keys[i].len, 'y');
			a = memo_get(m, &k, &alen);
			snprintf(answer, sizeof(answer), "answer %zu", i);
			if (i % 2 == 1 && pass == 0 && a != NULL)
				fail_msg("key %zu (len %zu) got the answer %.*s of "
				    "another key", i, keys[i].len, (int)alen, a);
			if ((i % 2 == 0 || pass == 1) && (a == NULL ||
			    alen != strlen(answer) || memcmp(a, answer, alen) != 0))
				fail_msg("key %zu (len %zu): got %.*s, want %s", i,
				    keys[i].len, a != NULL ? (int)alen : 4,
				    a != NULL ? a : "none", answer);
		}
	}
	memo_free(m);
}

static void
test_get_put(void **state)
{
	struct memo *m = memo_new(64);
	char buf[MEMO_ANSWER_MAX + 1];

	(void)state;
	assert_non_null(m);
	assert_null(get_str(m, "outlook.office365.com 443 -", buf));
	put_str(m, "outlook.office365.com 443 -", "OK m365=direct\n");
	put_str(m, "www.example.com 443 -", "ERR m365=proxy\n");
	assert_string_equal(get_str(m, "outlook.office365.com 443 -", buf),
	    "OK m365=direct\n");
	assert_string_equal(get_str(m, "www.example.com 443 -", buf),
	    "ERR m365=proxy\n");
	assert_null(get_str(m, "outlook.office365.com 443", buf));
	assert_null(get_str(m, "outlook.office365.com 443 --", buf));
	memo_clear(m);
	assert_null(get_str(m, "outlook.office365.com 443 -", buf));
	put_str(m, "outlook.office365.com 443 -", "ERR again\n");
	assert_string_equal(get_str(m, "outlook.office365.com 443 -", buf),
	    "ERR again\n");
	memo_free(m);
	memo_free(NULL);
	assert_null(memo_new(0));
	assert_null(memo_new(MEMO_MAX_SLOTS + 1));
}

/* One bucket of four ways: four keys stay, a fifth evicts one of them. */
static void
test_ways(void **state)
{
	struct memo *m = memo_new(4);
	char buf[MEMO_ANSWER_MAX + 1], key[16];
	int present = 0;

	(void)state;
	assert_non_null(m);
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put_str(m, key, key);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_non_null(get_str(m, key, buf));
		assert_string_equal(buf, key);
	}
	put_str(m, "k4", "k4");
	assert_string_equal(get_str(m, "k4", buf), "k4");
	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		present += get_str(m, key, buf) != NULL;
	}
	assert_int_equal(present, 3);
	memo_free(m);
}

/* A memo of two buckets under 100000 random puts and gets of 600 keys
 * of 2..55 bytes: a get answers what was last put for that very key or
 * nothing, never another key's answer, and a put is found at once. */
static void
test_model(void **state)
{
	enum { KEYS = 600 };
	struct memo *m = memo_new(8);
	struct suite_rng rng = { 0x6d656d6fU };
	static char keys[KEYS][MEMO_KEY_MAX + 1];
	static int last[KEYS];          /* answer number + 1, 0: none */
	char buf[MEMO_ANSWER_MAX + 1], want[16];

	(void)state;
	assert_non_null(m);
	for (int i = 0; i < KEYS; i++) {
		/* distinct: the number first, then 0..51 random letters */
		size_t len = (size_t)snprintf(keys[i], sizeof(keys[i]), "%d:", i),
		    more = suite_rng_below(&rng, MEMO_KEY_MAX - 4);

		for (size_t j = 0; j < more; j++)
			keys[i][len++] = (char)('a' + suite_rng_below(&rng, 3));
		keys[i][len] = '\0';
	}
	for (unsigned n = 0; n < 100000; n++) {
		int i = (int)suite_rng_below(&rng, KEYS);
		const char *got;

		if (suite_rng_below(&rng, 3) == 0) {
			int a = (int)suite_rng_below(&rng, 40);

			snprintf(want, sizeof(want), "a%d", a);
			put_str(m, keys[i], want);
			last[i] = a + 1;
			assert_non_null(get_str(m, keys[i], buf));
			assert_string_equal(buf, want);
			continue;
		}
		if ((got = get_str(m, keys[i], buf)) == NULL)
			continue;
		assert_true(last[i] != 0);
		snprintf(want, sizeof(want), "a%d", last[i] - 1);
		assert_string_equal(got, want);
	}
	memo_free(m);
}

/* Answers longer than MEMO_ANSWER_MAX are not memoised; once the pool of
 * distinct answers is full, new answers are not either, old ones still are. */
static void
test_bounds(void **state)
{
	struct memo *m = memo_new(1u << 12);
	char buf[MEMO_ANSWER_MAX + 1], key[32], ans[MEMO_ANSWER_MAX + 2];

	(void)state;
	assert_non_null(m);
	memset(ans, 'a', sizeof(ans) - 1);
	ans[MEMO_ANSWER_MAX + 1] = '\0';
	put_str(m, "long", ans);
	assert_null(get_str(m, "long", buf));
	ans[MEMO_ANSWER_MAX] = '\0';
	put_str(m, "max", ans);
	assert_string_equal(get_str(m, "max", buf), ans);
	for (int i = 1; i < MEMO_MAX_ANSWERS; i++) {
		snprintf(key, sizeof(key), "host%d", i);
		put_str(m, key, key);
	}
	put_str(m, "one-too-many", "a new answer");
	assert_null(get_str(m, "one-too-many", buf));
	put_str(m, "same-answer", "host7");
	assert_string_equal(get_str(m, "same-answer", buf), "host7");
	memo_clear(m);                  /* a clear empties the pool */
	put_str(m, "one-too-many", "a new answer");
	assert_string_equal(get_str(m, "one-too-many", buf), "a new answer");
	memo_free(m);
}

int
main(void)
{
	struct suite s = { 0 };

	suite_add(&s, test_keys, NULL,
	    "keys: bytes past the length are ignored");
	suite_add(&s, test_distinct, NULL,
	    "keys differing only in length, past a word or in the last byte "
	    "never share an answer");
	suite_add(&s, test_get_put, NULL, "get, put, miss, clear");
	suite_add(&s, test_ways, NULL, "a bucket holds four keys");
	suite_add(&s, test_model, NULL, "100000 random puts and gets of 600 "
	    "keys in two buckets: never another key's answer");
	suite_add(&s, test_bounds, NULL,
	    "bounds: answer length, the answer pool (emptied by a clear)");
	return suite_run(&s, "memo");
}
