/*
 * dbuf.h: a growable byte buffer capped at init (after curl's dynbuf).
 * On failure (allocation or cap) the buffer frees itself and returns -1,
 * so a caller never holds a half-built value. The failure is sticky until
 * dbuf_reset(): a writer may append many pieces and check once at the end.
 */
#ifndef SMTPSNIFF_DBUF_H
#define SMTPSNIFF_DBUF_H

#include <stddef.h>
#include <stdint.h>

struct dbuf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
	int	 failed;
};

void	dbuf_init(struct dbuf *, size_t max);
void	dbuf_fini(struct dbuf *);
void	dbuf_reset(struct dbuf *);
/* 0, or -1 if an append failed since the last reset. */
int	dbuf_status(const struct dbuf *);
int	dbuf_add(struct dbuf *, const void *, size_t);
int	dbuf_addc(struct dbuf *, uint8_t);
int	dbuf_adds(struct dbuf *, const char *);
int	dbuf_printf(struct dbuf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif /* SMTPSNIFF_DBUF_H */
