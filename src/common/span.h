/*
 * span.h: a borrowed view of bytes. Never NUL-terminated, never owned.
 * Spans handed to callbacks are valid only until the callback returns.
 */
#ifndef SMTPSNIFF_SPAN_H
#define SMTPSNIFF_SPAN_H

#include <stddef.h>
#include <stdint.h>

struct span {
	const uint8_t	*p;
	size_t		 len;
};

#endif /* SMTPSNIFF_SPAN_H */
