/* The Check boilerplate of every unit test binary, written once. As in the kselftest harness,
 * a test registers itself where it is written, so no list of tests repeats the definitions:
 *
 *	TCASE(ports, .timeout = 10);		a test case and its set-up, as data
 *	TEST(ports, bind_gives_up) { ... }	a test in it
 *	TEST_LOOP(ports, each_row, 0, N) { ... _i ... }
 *	UNIT_MAIN("verbs_ports")		the suite and main()
 *
 * Tests run in the order they are written; the test cases in the order of their first test.
 * Each test binary is one file, so the registry below is that file's own. */
#ifndef SOCKREUSE_UNIT_FIXTURE_H
#define SOCKREUSE_UNIT_FIXTURE_H
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

struct unit_tcase {
	const char *name;
	int timeout;		/* seconds; 0 keeps Check's default */
	SFun setup, teardown;	/* a checked fixture: runs in each test's child */
};

struct unit_test {
	const struct unit_tcase *tc;
	const TTest *test;
	int from, to;		/* the loop's _i, from <= _i < to */
};

#define UNIT_MAX_TESTS 128
/* Filled by the constructors before main() runs; read only afterwards. */
static struct unit_test unit_tests[UNIT_MAX_TESTS];
static int unit_ntests;

static inline void unit_register(const struct unit_tcase *tc, const TTest *test, int from, int to)
{
	if (unit_ntests == UNIT_MAX_TESTS) {
		fprintf(stderr, "%s: more than %d tests\n", test->file, UNIT_MAX_TESTS);
		exit(2);
	}
	unit_tests[unit_ntests++] = (struct unit_test){ tc, test, from, to };
}

#define TCASE(id, ...) static const struct unit_tcase unit_tc_##id = { .name = #id, __VA_ARGS__ }

#define TEST_LOOP(tc, test, from, to)                                                            \
	static void test##_fn(int _i CK_ATTRIBUTE_UNUSED);                                       \
	static const TTest test##_ttest = { #test, test##_fn, __FILE__, __LINE__ };              \
	__attribute__((constructor)) static void test##_register(void)                          \
	{                                                                                        \
		unit_register(&unit_tc_##tc, &test##_ttest, from, to);                           \
	}                                                                                        \
	static void test##_fn(int _i CK_ATTRIBUTE_UNUSED)

#define TEST(tc, test) TEST_LOOP(tc, test, 0, 1)

static inline int unit_by_line(const void *a, const void *b)
{
	return ((const struct unit_test *)a)->test->line - ((const struct unit_test *)b)->test->line;
}

/* Builds the suite from the registry and runs it; fork is CK_FORK_GETENV (Check's default:
 * the CK_FORK variable decides) or a mode the tests need whatever the variable says. */
static inline int unit_run(const char *name, enum fork_status fork)
{
	const struct unit_tcase *made_for[UNIT_MAX_TESTS];
	TCase *made[UNIT_MAX_TESTS];
	int nmade = 0;
	Suite *s = suite_create(name);

	qsort(unit_tests, unit_ntests, sizeof(unit_tests[0]), unit_by_line);
	for (int i = 0; i < unit_ntests; i++) {
		const struct unit_test *t = &unit_tests[i];
		int k = 0;

		while (k < nmade && made_for[k] != t->tc)
			k++;
		if (k == nmade) {
			made_for[nmade] = t->tc;
			made[nmade++] = tcase_create(t->tc->name);
			if (t->tc->timeout)
				tcase_set_timeout(made[k], t->tc->timeout);
			if (t->tc->setup || t->tc->teardown)
				tcase_add_checked_fixture(made[k], t->tc->setup, t->tc->teardown);
			suite_add_tcase(s, made[k]);
		}
		tcase_add_loop_test(made[k], t->test, t->from, t->to);
	}

	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, fork);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

#define UNIT_MAIN(name)                                     \
	int main(void)                                      \
	{                                                   \
		return unit_run(name, CK_FORK_GETENV);      \
	}

#endif
