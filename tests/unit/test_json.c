/*
 * test_json.c: JSON strings from hostile bytes are always valid JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "common/json.h"

static void
check(const char *in, size_t n, const char *want)
{
	struct dbuf b;

	dbuf_init(&b, 1024);
	assert_int_equal(json_str(&b, (const uint8_t *)in, n), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	dbuf_fini(&b);
}

static void
test_quotes_backslashes_and_controls_escaped(void **state)
{
	check("a\"b\\c\r\n\x01", 8, "\"a\\\"b\\\\c\\u000d\\u000a\\u0001\"");
}

static void
test_nul_byte_kept_escaped_not_terminating(void **state)
{
	check("a\0b", 3, "\"a\\u0000b\"");
}

static void
test_valid_utf8_passes_through(void **state)
{
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", 14,
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\"");
}

static void
test_invalid_utf8_becomes_replacement_character(void **state)
{
	/* Latin-1 byte, overlong '/', surrogate, truncated sequence. */
	check("\xe9", 1, "\"\xef\xbf\xbd\"");
	check("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	check("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check("x\xe2\x82", 3, "\"x\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void
test_cap_frees_buffer_and_fails(void **state)
{
	struct dbuf b;
	char big[100];

	memset(big, 'a', sizeof(big));
	dbuf_init(&b, 50);
	assert_int_equal(json_str(&b, (const uint8_t *)big, sizeof(big)), -1);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

static void
test_timestamp_format_is_utc_microseconds(void **state)
{
	char s[32];

	ts_format(1764299303123456789ull, s);
	assert_string_equal(s, "2025-11-28T03:08:23.123456Z");
	ts_format(0, s);
	assert_string_equal(s, "1970-01-01T00:00:00.000000Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quotes_backslashes_and_controls_escaped),
		cmocka_unit_test(test_nul_byte_kept_escaped_not_terminating),
		cmocka_unit_test(test_valid_utf8_passes_through),
		cmocka_unit_test(test_invalid_utf8_becomes_replacement_character),
		cmocka_unit_test(test_cap_frees_buffer_and_fails),
		cmocka_unit_test(test_timestamp_format_is_utc_microseconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
