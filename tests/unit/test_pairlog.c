/* test_pairlog.c - SNI mismatches are logged once per pair and never as a
 * flood: the pair memory, the budget per window, the count of what the
 * budget dropped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "suite.h"

#include <stdio.h>
#include <string.h>

#include "pairlog.h"

static bool
admit(struct pairlog *pl, const char *a, const char *b, time_t now,
    unsigned long *dropped)
{
	return pairlog_admit(pl, a, strlen(a), b, strlen(b), now, dropped);
}

static void
test_once(void **state)
{
	struct pairlog *pl = pairlog_new();
	unsigned long dropped = 99;

	(void)state;
	assert_non_null(pl);
	assert_true(admit(pl, "evil.example", "outlook.office365.com", 0,
	    &dropped));
	assert_int_equal(dropped, 0);
	assert_false(admit(pl, "evil.example", "outlook.office365.com", 0,
	    &dropped));
	assert_false(admit(pl, "evil.example", "outlook.office365.com",
	    10 * PAIRLOG_WINDOW, &dropped));
	/* the two halves are kept apart: swapped or re-cut pairs differ */
	assert_true(admit(pl, "outlook.office365.com", "evil.example", 0,
	    &dropped));
	assert_true(admit(pl, "evil.exampleo", "utlook.office365.com", 0,
	    &dropped));
	pairlog_free(pl);
	pairlog_free(NULL);
}

static void
test_budget(void **state)
{
	struct pairlog *pl = pairlog_new();
	unsigned long dropped;
	char a[32];
	int logged = 0;

	(void)state;
	assert_non_null(pl);
	for (int i = 0; i < 1000; i++) {
		snprintf(a, sizeof(a), "d%d.example", i);
		logged += admit(pl, a, "outlook.office365.com", 5, &dropped);
	}
	assert_int_equal(logged, PAIRLOG_BURST);
	/* still inside the window: nothing */
	assert_false(admit(pl, "new.example", "x", 5 + PAIRLOG_WINDOW - 1,
	    &dropped));
	/* the next window: logged, with the count of what was dropped */
	assert_true(admit(pl, "new.example", "x", 5 + PAIRLOG_WINDOW,
	    &dropped));
	assert_int_equal(dropped, 1000 - PAIRLOG_BURST + 1);
	assert_true(admit(pl, "d999.example", "outlook.office365.com",
	    5 + PAIRLOG_WINDOW, &dropped));
	assert_int_equal(dropped, 0);
	pairlog_free(pl);
}

int
main(void)
{
	struct suite s = { 0 };

	suite_add(&s, test_once, NULL, "a pair is logged once");
	suite_add(&s, test_budget, NULL,
	    "at most PAIRLOG_BURST lines a window, the rest counted");
	return suite_run(&s, "pairlog");
}
