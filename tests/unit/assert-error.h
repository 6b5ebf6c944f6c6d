/*
 * assert-error.h - for the unit tests that check the library's error
 * message (include after cmocka.h and portdex.h).
 */
#ifndef PDX_TEST_ASSERT_ERROR_H
#define PDX_TEST_ASSERT_ERROR_H
#include <string.h>

/* Fails the test unless pdx_last_error() contains s. */
#define assert_error_has(s) \
	do { \
		const char *m_ = pdx_last_error(); \
		if (strstr(m_, (s)) == NULL) \
			fail_msg("error message '%s' does not contain '%s'", \
			    m_, (s)); \
	} while (0)

#endif
