/*
 * test_mem.c: the memory budget's counters and the session allocator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <malloc.h>
#include <string.h>

#include "common/mem.h"

static void
test_charges_add_up_by_layer_with_peaks(void **state)
{
	struct mem_stats st;

	mem_reset();
	mem_charge(MEM_FLOWS, 1000);
	mem_charge(MEM_REASSEMBLY, 500);
	/* The total's peak is sampled where the total is read (per packet). */
	assert_false(mem_over());
	mem_uncharge(MEM_FLOWS, 400);
	mem_get_stats(&st);
	assert_int_equal(st.used, 1100);
	assert_int_equal(st.peak, 1500);
	assert_int_equal(st.layer_used[MEM_FLOWS], 600);
	assert_int_equal(st.layer_peak[MEM_FLOWS], 1000);
	assert_int_equal(st.layer_used[MEM_REASSEMBLY], 500);
	assert_int_equal(st.limit, 0);
	assert_false(mem_over());	/* no limit: never over */
	mem_reset();
}

static void
test_over_and_above_the_limit(void **state)
{
	mem_reset();
	mem_set_limit(10000);
	mem_charge(MEM_SESSIONS, 9000);
	assert_false(mem_over());
	assert_true(mem_above(800));
	assert_false(mem_above(950));
	mem_charge(MEM_SESSIONS, 1001);
	assert_true(mem_over());
	mem_uncharge(MEM_SESSIONS, 10001);
	assert_false(mem_above(1));
	mem_reset();
}

static void
test_allocator_charges_what_it_holds(void **state)
{
	struct mem_stats st;
	char *a, *b, *c;

	mem_reset();
	a = mem_malloc(100);
	b = mem_calloc(10, 30);
	c = mem_strdup("hello");
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(c, "hello");
	mem_get_stats(&st);
	assert_int_equal(st.layer_used[MEM_SESSIONS],
	    malloc_usable_size(a) + malloc_usable_size(b) +
	    malloc_usable_size(c) + 3 * sizeof(size_t));
	assert_true(st.layer_used[MEM_SESSIONS] >= 100 + 300 + 6);
	a = mem_realloc(a, 5000);
	assert_non_null(a);
	mem_get_stats(&st);
	assert_int_equal(st.layer_used[MEM_SESSIONS],
	    malloc_usable_size(a) + malloc_usable_size(b) +
	    malloc_usable_size(c) + 3 * sizeof(size_t));
	mem_free(a);
	mem_free(b);
	mem_free(c);
	mem_free(NULL);
	assert_null(mem_realloc(mem_malloc(10), 0));
	mem_get_stats(&st);
	assert_int_equal(st.used, 0);
	assert_true(st.peak >= 5000);
	mem_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_charges_add_up_by_layer_with_peaks),
		cmocka_unit_test(test_over_and_above_the_limit),
		cmocka_unit_test(test_allocator_charges_what_it_holds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
