/*
 * dbuf.h: a growable byte buffer capped at init (after curl's dynbuf).
 * On failure (allocation or cap) the buffer frees itself and returns -1,
 * so a caller never holds a half-built value. The failure is sticky until
 * dbuf_reset(): a writer may append many pieces and check once at the end.
 */
#ifndef SMTPSNIFF_DBUF_H
#define SMTPSNIFF_DBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dbuf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
	int	 failed;
	bool	 counted;	/* dbuf_init_counted: in the memory budget */
};

#include <string.h>

void	dbuf_init(struct dbuf *, size_t max);
void	dbuf_init_counted(struct dbuf *, size_t max);
void	dbuf_fini(struct dbuf *);
void	dbuf_reset(struct dbuf *);
int	dbuf_add_slow(struct dbuf *, const void *, size_t);
/* 0, or -1 if an append failed since the last reset. */
int	dbuf_status(const struct dbuf *);
int	dbuf_adds(struct dbuf *, const char *);
int	dbuf_printf(struct dbuf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Append n bytes. Returns 0, or -1 (buffer freed) past the cap or on
 * ENOMEM. Inline for the common case: the bytes fit in what is allocated.
 */
static inline int
dbuf_add(struct dbuf *b, const void *p, size_t n)
{
	if (!b->failed && n <= b->cap - b->len) {
		if (n > 0)
			memcpy(b->p + b->len, p, n);
		b->len += n;
		return 0;
	}
	return dbuf_add_slow(b, p, n);
}

static inline int
dbuf_addc(struct dbuf *b, uint8_t c)
{
	return dbuf_add(b, &c, 1);
}

/* A string literal, its length known at compile time. */
#define dbuf_addlit(b, lit)	dbuf_add((b), (lit), sizeof(lit) - 1)

#endif /* SMTPSNIFF_DBUF_H */
