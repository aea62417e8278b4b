// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dependency_blame.h"

static void test_blames_a_call_within_the_request(void **state)
{
	struct dependency_blame *b = dependency_blame__new();

	(void)state;
	assert_non_null(b);
	dependency_blame__note_failure(b, 100, 2, 1500);
	assert_int_equal(dependency_blame__find(b, 100, 1000, 2000), 2);
	/* bounds are inclusive */
	assert_int_equal(dependency_blame__find(b, 100, 1500, 1500), 2);
	/* a call that ended before the request started, or after it ended */
	assert_int_equal(dependency_blame__find(b, 100, 1600, 3000), -1);
	assert_int_equal(dependency_blame__find(b, 100, 0, 1499), -1);
	/* another process's request */
	assert_int_equal(dependency_blame__find(b, 101, 1000, 2000), -1);
	assert_int_equal(dependency_blame__find(b, 0, 1000, 2000), -1);
	dependency_blame__free(b);
}

static void test_latest_call_wins(void **state)
{
	struct dependency_blame *b = dependency_blame__new();

	(void)state;
	assert_non_null(b);
	dependency_blame__note_failure(b, 7, 0, 1100);
	dependency_blame__note_failure(b, 7, 1, 1900);
	dependency_blame__note_failure(b, 7, 3, 2500);
	assert_int_equal(dependency_blame__find(b, 7, 1000, 2000), 1);
	assert_int_equal(dependency_blame__find(b, 7, 1000, 1200), 0);
	dependency_blame__free(b);
}

static void test_ring_forgets_oldest(void **state)
{
	struct dependency_blame *b = dependency_blame__new();

	(void)state;
	assert_non_null(b);
	for (int i = 0; i < BLAME_CALLS + 1; i++)
		dependency_blame__note_failure(b, 9, i, 1000 + i);
	/* the first call (dep 0 at 1000) was overwritten by the ninth */
	assert_int_equal(dependency_blame__find(b, 9, 1000, 1000), -1);
	assert_int_equal(dependency_blame__find(b, 9, 1001, 1001), 1);
	assert_int_equal(dependency_blame__find(b, 9, 0, 5000), BLAME_CALLS);
	dependency_blame__free(b);
}

static void test_collision_forgets_other_process(void **state)
{
	struct dependency_blame *b = dependency_blame__new();
	__u32 a = 5, other = 0;

	(void)state;
	assert_non_null(b);
	/* find a tgid that lands in the same slot as a */
	for (__u32 t = 6; t < 1000000 && !other; t++) {
		if (((t * 2654435761u) & (BLAME_PROCESSES - 1)) ==
		    ((a * 2654435761u) & (BLAME_PROCESSES - 1)))
			other = t;
	}
	assert_int_not_equal(other, 0);
	dependency_blame__note_failure(b, a, 1, 100);
	dependency_blame__note_failure(b, other, 2, 100);
	assert_int_equal(dependency_blame__find(b, a, 0, 200), -1);
	assert_int_equal(dependency_blame__find(b, other, 0, 200), 2);
	dependency_blame__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blames_a_call_within_the_request),
		cmocka_unit_test(test_latest_call_wins),
		cmocka_unit_test(test_ring_forgets_oldest),
		cmocka_unit_test(test_collision_forgets_other_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
