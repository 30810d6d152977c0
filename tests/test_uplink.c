/*
 * test_uplink.c - reconnect backoff bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/uplink.h"

static void
test_backoff_bounds(void **state)
{
	uint32_t f;
	uint64_t d;

	(void)state;
	/* The floor, then a ceiling doubling up to the maximum. */
	assert_int_equal(uplink_backoff_ms(0, 500, 60000, 0), 500);
	assert_int_equal(uplink_backoff_ms(0, 500, 60000, 0xffffffffu), 500);
	assert_int_equal(uplink_backoff_ms(1, 500, 60000, 0), 500);
	assert_int_equal(uplink_backoff_ms(1, 500, 60000, 500), 1000);
	assert_int_equal(uplink_backoff_ms(3, 500, 60000, 3500), 4000);
	for (f = 0; f < 64; f++) {
		d = uplink_backoff_ms(f, 500, 60000, 0xfffffff1u);
		assert_true(d >= 500 && d <= 60000);
	}
	/* After many failures the whole range is used (full jitter). */
	assert_int_equal(uplink_backoff_ms(40, 500, 60000, 59500), 60000);
	assert_int_equal(uplink_backoff_ms(40, 500, 60000, 59501), 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
