/*
 * dbuf.c: capped growable buffer. Growth doubles and never exceeds max;
 * the size computations cannot overflow because max is checked first.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "dbuf.h"

/* Prepare an empty buffer that will never hold more than max bytes. */
void
dbuf_init(struct dbuf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = 0;
	b->counted = false;
}

/* The same, its memory charged to the budget's session state (mem.h). */
void
dbuf_init_counted(struct dbuf *b, size_t max)
{
	dbuf_init(b, max);
	b->counted = true;
}

/* Release the memory; the buffer is empty and usable again. */
void
dbuf_fini(struct dbuf *b)
{
	if (b->counted)
		mem_free(b->p);
	else
		free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
}

/* Empty the buffer, keeping its memory; clears a failure. */
void
dbuf_reset(struct dbuf *b)
{
	b->len = 0;
	b->failed = 0;
}

int
dbuf_status(const struct dbuf *b)
{
	return b->failed ? -1 : 0;
}

static int
dbuf_grow(struct dbuf *b, size_t need)
{
	size_t ncap;
	uint8_t *np;

	if (b->failed)
		return -1;
	if (need > b->max - b->len)
		goto fail;
	if (b->len + need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < b->len + need) {
		if (ncap > b->max / 2) {
			ncap = b->max;
			break;
		}
		ncap *= 2;
	}
	np = b->counted ? mem_realloc(b->p, ncap) : realloc(b->p, ncap);
	if (np == NULL)
		goto fail;
	b->p = np;
	b->cap = ncap;
	return 0;
fail:
	dbuf_fini(b);
	b->failed = 1;
	return -1;
}

/* dbuf_add when the bytes do not fit what is allocated (or it failed). */
int
dbuf_add_slow(struct dbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return b->failed ? -1 : 0;
	if (dbuf_grow(b, n) == -1)
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

int
dbuf_adds(struct dbuf *b, const char *s)
{
	return dbuf_add(b, s, strlen(s));
}

/* Append formatted text (no terminating NUL is kept in len). */
int
dbuf_printf(struct dbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char small[128];

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		dbuf_fini(b);
		b->failed = 1;
		return -1;
	}
	if ((size_t)n < sizeof(small))
		return dbuf_add(b, small, (size_t)n);
	if (dbuf_grow(b, (size_t)n + 1) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}
