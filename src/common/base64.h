/*
 * base64.h: the base64 alphabet and a one-shot decoder.
 */
#ifndef SMTPSNIFF_BASE64_H
#define SMTPSNIFF_BASE64_H

#include <stddef.h>
#include <stdint.h>

#define B64_BAD		(-1)	/* not in the alphabet */
#define B64_WS		(-2)	/* white space: skipped */
#define B64_PAD		(-3)	/* '=' */

/* A character's value 0-63, or one of the classes above. */
extern const int8_t base64_value[256];

int	base64_decode(const uint8_t *, size_t, uint8_t *out, size_t max);

#endif /* SMTPSNIFF_BASE64_H */
