/*
 * ascii.h: locale-free character tests for wire bytes. <ctype.h> is
 * never applied to network data (locale and sign-extension issues).
 */
#ifndef SMTPSNIFF_ASCII_H
#define SMTPSNIFF_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool
ascii_isdigit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* A hex digit's value, or -1 (RFC 3986 §2.1 percent-encoding, keys). */
static inline int
ascii_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline uint8_t
ascii_tolower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Compare n bytes case-insensitively (ASCII only); 0 when equal. */
static inline int
ascii_casecmp(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;
	int d;

	for (i = 0; i < n; i++) {
		d = ascii_tolower(a[i]) - ascii_tolower(b[i]);
		if (d != 0)
			return d;
	}
	return 0;
}

#endif /* SMTPSNIFF_ASCII_H */
