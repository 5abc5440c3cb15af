/*
 * cur.h: the read cursor. All bytes that come from the network are read
 * through it. A read past the end sets the sticky err flag and returns 0,
 * so a parser reads field by field and checks c.err once at the end
 * (the idea of tcpdump's GET_* accessors, without longjmp).
 * Lengths are compared, never pointers (see the CERT note in netdissect.h).
 */
#ifndef SMTPSNIFF_CUR_H
#define SMTPSNIFF_CUR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "span.h"

struct cur {
	const uint8_t	*p;
	size_t		 len;
	bool		 err;
};

static inline struct cur
cur_make(const uint8_t *p, size_t len)
{
	struct cur c = { p, len, false };
	return c;
}

static inline bool
cur_has(const struct cur *c, size_t n)
{
	return !c->err && n <= c->len;
}

static inline uint8_t
cur_u8(struct cur *c)
{
	uint8_t v;

	if (!cur_has(c, 1)) {
		c->err = true;
		return 0;
	}
	v = c->p[0];
	c->p++;
	c->len--;
	return v;
}

static inline uint16_t
cur_be16(struct cur *c)
{
	uint16_t v;

	if (!cur_has(c, 2)) {
		c->err = true;
		return 0;
	}
	v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->len -= 2;
	return v;
}

static inline uint16_t
cur_le16(struct cur *c)
{
	uint16_t v;

	if (!cur_has(c, 2)) {
		c->err = true;
		return 0;
	}
	v = (uint16_t)(c->p[1] << 8 | c->p[0]);
	c->p += 2;
	c->len -= 2;
	return v;
}

static inline uint32_t
cur_be32(struct cur *c)
{
	uint32_t v;

	if (!cur_has(c, 4)) {
		c->err = true;
		return 0;
	}
	v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	c->p += 4;
	c->len -= 4;
	return v;
}

static inline uint32_t
cur_le32(struct cur *c)
{
	uint32_t v;

	if (!cur_has(c, 4)) {
		c->err = true;
		return 0;
	}
	v = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 |
	    (uint32_t)c->p[1] << 8 | (uint32_t)c->p[0];
	c->p += 4;
	c->len -= 4;
	return v;
}

static inline bool
cur_skip(struct cur *c, size_t n)
{
	if (!cur_has(c, n)) {
		c->err = true;
		return false;
	}
	c->p += n;
	c->len -= n;
	return true;
}

static inline bool
cur_take(struct cur *c, size_t n, struct span *out)
{
	if (!cur_has(c, n)) {
		c->err = true;
		out->p = NULL;
		out->len = 0;
		return false;
	}
	out->p = c->p;
	out->len = n;
	c->p += n;
	c->len -= n;
	return true;
}

/* Copy n bytes out (addresses and the like). */
static inline bool
cur_copy(struct cur *c, void *dst, size_t n)
{
	if (!cur_has(c, n)) {
		c->err = true;
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, c->p, n);
	c->p += n;
	c->len -= n;
	return true;
}

/* A sub-cursor over the next n bytes, which are consumed from c. */
static inline struct cur
cur_sub(struct cur *c, size_t n)
{
	struct span s;
	struct cur sub;

	if (!cur_take(c, n, &s)) {
		sub = cur_make(NULL, 0);
		sub.err = true;
		return sub;
	}
	return cur_make(s.p, s.len);
}

/*
 * Looking without reading: the next byte (or the one i ahead) as an int,
 * -1 past the end. Neither consumes nor sets err, so a parser can branch
 * on what comes (`cur_peek(&c) == '<'`) and then read it.
 */
static inline int
cur_peek(const struct cur *c)
{
	return (!c->err && c->len > 0) ? c->p[0] : -1;
}

static inline int
cur_peek_at(const struct cur *c, size_t i)
{
	return (!c->err && i < c->len) ? c->p[i] : -1;
}

/* The offset of the first byte b ahead (memchr), or c->len if none. */
static inline size_t
cur_find(const struct cur *c, uint8_t b)
{
	const uint8_t *q;

	if (c->err || c->len == 0)
		return c->len;
	q = memchr(c->p, b, c->len);
	return q != NULL ? (size_t)(q - c->p) : c->len;
}

/*
 * Read bytes while pred() holds them; returns them as a span (perhaps
 * empty). pred is a small static inline predicate, which the compiler
 * inlines here.
 */
static inline struct span
cur_take_while(struct cur *c, bool (*pred)(uint8_t))
{
	struct span s = { c->p, 0 };

	if (c->err)
		return s;
	while (s.len < c->len && pred(c->p[s.len]))
		s.len++;
	c->p += s.len;
	c->len -= s.len;
	return s;
}

/*
 * The next line: the bytes before the first LF go to *line (a CR before
 * the LF stripped, *crlf saying whether there was one) and the cursor
 * moves past the LF. Without an LF ahead, false and nothing is consumed.
 */
static inline bool
cur_line(struct cur *c, struct span *line, bool *crlf)
{
	size_t k = cur_find(c, '\n');

	if (k == c->len)
		return false;
	line->p = c->p;
	line->len = k;
	*crlf = k > 0 && c->p[k - 1] == '\r';
	if (*crlf)
		line->len--;
	c->p += k + 1;
	c->len -= k + 1;
	return true;
}

/* Spans read from a cursor, looked at from their end. */
static inline int
span_last(struct span s)
{
	return s.len > 0 ? s.p[s.len - 1] : -1;
}

/* s without the bytes at its end that pred() holds. */
static inline struct span
span_rtrim(struct span s, bool (*pred)(uint8_t))
{
	while (s.len > 0 && pred(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* Everything that is left, as a span; the cursor becomes empty. */
static inline struct span
cur_rest(struct cur *c)
{
	struct span s = { c->p, c->err ? 0 : c->len };

	c->p += s.len;
	c->len = 0;
	return s;
}

/* ---- for the store's units and spool files (store/unit.h) ------------- */

static inline uint64_t
cur_le64(struct cur *c)
{
	uint64_t v = 0;
	int i;

	if (!cur_has(c, 8)) {
		c->err = true;
		return 0;
	}
	for (i = 7; i >= 0; i--)
		v = v << 8 | c->p[i];
	c->p += 8;
	c->len -= 8;
	return v;
}

/*
 * A 4-byte little-endian length and that many bytes after it, as a span.
 * A length beyond what is left sets err (out empty).
 */
static inline bool
cur_take_le32len(struct cur *c, struct span *out)
{
	uint32_t n = cur_le32(c);

	if (c->err) {
		out->p = NULL;
		out->len = 0;
		return false;
	}
	return cur_take(c, n, out);
}

#endif /* SMTPSNIFF_CUR_H */
