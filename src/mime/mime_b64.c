/*
 * mime_b64.c: streaming base64 decoding (RFC 2045 §6.8) into a sink, and
 * the sink itself. Tolerant the way mail readers are: white space is
 * ignored, characters outside the alphabet are skipped and counted, a '='
 * ends the current quantum (so concatenated base64 streams decode as their
 * concatenation) and missing padding at the end is accepted.
 */
#include <string.h>

#include "common/base64.h"
#include "mime_int.h"

#define b64_val	base64_value

/* ---- sink --------------------------------------------------------------- */

/* Hand the staged bytes to the sink function. */
void
mime_sink_flush(struct mime_sink *s)
{
	if (s->len > 0)
		s->fn(s->arg, s->buf, s->len);
	s->len = 0;
}

/* Copy n bytes through; large blocks skip the staging buffer. */
void
mime_sink_write(struct mime_sink *s, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (n >= sizeof(s->buf) / 2) {
		mime_sink_flush(s);
		s->fn(s->arg, p, n);
		return;
	}
	if (n > sizeof(s->buf) - s->len)
		mime_sink_flush(s);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/* ---- base64 ------------------------------------------------------------- */

/* A decoder at the start of the encoded data. */
void
mime_b64_init(struct mime_b64 *b)
{
	b->acc = 0;
	b->n = 0;
}

/* Emit what a '=' (or the end) leaves: 2 sextets give 1 byte, 3 give 2. */
static size_t
b64_flush(struct mime_b64 *b, struct mime_sink *s)
{
	size_t bad = 0;

	if (b->n == 2) {
		mime_sink_putc(s, (uint8_t)(b->acc >> 4));
	} else if (b->n == 3) {
		mime_sink_putc(s, (uint8_t)(b->acc >> 10));
		mime_sink_putc(s, (uint8_t)(b->acc >> 2));
	} else if (b->n == 1)
		bad = 1;	/* 6 bits cannot make an octet */
	b->acc = 0;
	b->n = 0;
	return bad;
}

/*
 * Decode p[0..n) into s. The state carries up to three sextets between
 * calls, so the input may be split anywhere. Returns the number of
 * characters skipped as invalid (and of '=' that cut a lone sextet).
 */
size_t
mime_b64_feed(struct mime_b64 *b, const uint8_t *p, size_t n,
    struct mime_sink *s)
{
	size_t i = 0, bad = 0, room;
	int8_t v0, v1, v2, v3;
	uint32_t v;
	uint8_t *o;

	while (i < n) {
		/*
		 * Whole quanta: the common case, four table lookups each,
		 * with the output position kept in locals (byte stores may
		 * alias anything, so the sink's fields would be reloaded).
		 */
		if (b->n == 0 && n - i >= 4) {
			o = s->buf + s->len;
			room = sizeof(s->buf) - s->len;
			while (n - i >= 4) {
				if (room < 3) {
					s->len = sizeof(s->buf) - room;
					mime_sink_flush(s);
					o = s->buf;
					room = sizeof(s->buf);
				}
				v0 = b64_val[p[i]];
				v1 = b64_val[p[i + 1]];
				v2 = b64_val[p[i + 2]];
				v3 = b64_val[p[i + 3]];
				if ((v0 | v1 | v2 | v3) < 0)
					break;
				v = (uint32_t)v0 << 18 | (uint32_t)v1 << 12 |
				    (uint32_t)v2 << 6 | (uint32_t)v3;
				o[0] = (uint8_t)(v >> 16);
				o[1] = (uint8_t)(v >> 8);
				o[2] = (uint8_t)v;
				o += 3;
				room -= 3;
				i += 4;
			}
			s->len = sizeof(s->buf) - room;
			if (i == n)
				break;
		}
		v0 = b64_val[p[i++]];
		if (v0 >= 0) {
			b->acc = b->acc << 6 | (uint32_t)v0;
			if (++b->n == 4) {
				mime_sink_putc(s, (uint8_t)(b->acc >> 16));
				mime_sink_putc(s, (uint8_t)(b->acc >> 8));
				mime_sink_putc(s, (uint8_t)b->acc);
				b->acc = 0;
				b->n = 0;
			}
		} else if (v0 == B64_PAD)
			bad += b64_flush(b, s);
		else if (v0 == B64_BAD)
			bad++;
	}
	return bad;
}

/* End of the encoded data: a quantum left unpadded still counts. */
size_t
mime_b64_end(struct mime_b64 *b, struct mime_sink *s)
{
	return b64_flush(b, s);
}
