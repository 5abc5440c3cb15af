/* Substring assertions on a log or a record, shared by the unit tests.
 * Include after <cmocka.h>. */
#ifndef SMTPSNIFF_TEST_TEXT_ASSERT_H
#define SMTPSNIFF_TEST_TEXT_ASSERT_H

#include <string.h>

static inline void
assert_has(const char *log, const char *want)
{
	if (strstr(log, want) == NULL)
		fail_msg("missing \"%s\" in:\n%s", want, log);
}

static inline void
assert_lacks(const char *log, const char *want)
{
	if (strstr(log, want) != NULL)
		fail_msg("unexpected \"%s\" in:\n%s", want, log);
}

#endif
