/*
 * spool.h: a local file that keeps what a database server could not take
 * (it was unreachable, or went away). Units are appended as they come and
 * sent, in order, when the server is back, by this run or the next one.
 * A unit is opaque bytes here; a torn last unit (a crash while writing)
 * is noticed and ignored, never misread; so is a write that failed (a
 * full disk), cut off at once. A unit is at most LIMIT_STORE_UNIT_BYTES
 * (common/limits.h). The file has a budget of bytes, framing included
 * (--spool-max, LIMIT_SPOOL_MAX_DEFAULT): a unit that would pass it is
 * refused, and what is there is kept.
 */
#ifndef SMTPSNIFF_SPOOL_H
#define SMTPSNIFF_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


struct spool;

/* A spool of at most max bytes in the file at path (made when needed). */
struct spool	*spool_new(const char *path, uint64_t max);
void		 spool_free(struct spool *);
const char	*spool_path(const struct spool *);
/*
 * Append one unit (the file made at the first). 0, or -1 with errno:
 * EDQUOT if the unit would take the file past its budget, EFBIG if it is
 * over LIMIT_STORE_UNIT_BYTES, or the write's error (ENOSPC...), after
 * which the file holds what it held before.
 */
int		 spool_append(struct spool *, const void *, size_t);
/* Whether a unit of n bytes fits the budget now. */
bool		 spool_has_room(struct spool *, size_t n);
/* Units now in the file, counted when first used: a last run's too. */
uint64_t	 spool_units(struct spool *);
/* Its bytes (whole units, framing included), and its budget. */
uint64_t	 spool_bytes(struct spool *);
uint64_t	 spool_max(const struct spool *);
/*
 * Hand every unit in the file to fn, in order; fn returns 0 to go on.
 * Returns the units handed, or -1 if fn or the file failed (the file is
 * left as it is: sending it again is harmless, the store is idempotent).
 */
int64_t		 spool_replay(struct spool *,
		    int (*fn)(void *, const uint8_t *, size_t), void *arg);
/* Everything was sent: empty the spool. 0 or -1. */
int		 spool_clear(struct spool *);

#endif /* SMTPSNIFF_SPOOL_H */
