/*
 * spool.c: the spool file. Each unit is a 4-byte little-endian length, the
 * unit, and the same length again: a reader checks both, so a unit cut
 * short by a crash (or a disk that filled) is seen and dropped with a
 * warning instead of being read as garbage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/log.h"
#include "spool.h"

struct spool {
	char		*path;
	FILE		*fp;		/* appending; NULL until needed */
	int64_t		 units;		/* -1: not counted yet */
};

struct spool *
spool_new(const char *path)
{
	struct spool *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		return NULL;
	}
	s->units = -1;
	return s;
}

void
spool_free(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->fp != NULL && fclose(s->fp) != 0)
		log_warn("%s", s->path);
	free(s->path);
	free(s);
}

const char *
spool_path(const struct spool *s)
{
	return s->path;
}

static void
le32(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t b[4])
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

static int64_t	scan(struct spool *, int (*)(void *, const uint8_t *, size_t),
		    void *, long *, bool *);

static int
count_cb(void *arg, const uint8_t *p, size_t n)
{
	(void)arg;
	(void)p;
	(void)n;
	return 0;
}

/*
 * Count the units a file holds (a last run's). A torn last unit is cut
 * off, so that units appended now are not hidden behind it.
 */
uint64_t
spool_units(struct spool *s)
{
	int64_t n;
	long whole;
	bool torn;

	if (s->units < 0) {
		s->units = 0;
		if ((n = scan(s, count_cb, NULL, &whole, &torn)) > 0)
			s->units = n;
		if (torn) {
			log_warnx("%s: the last unit is cut short (a crash "
			    "while spooling?): dropped", s->path);
			if (truncate(s->path, whole) == -1)
				log_warn("%s: truncate", s->path);
		}
	}
	return (uint64_t)s->units;
}

int
spool_append(struct spool *s, const void *p, size_t n)
{
	uint8_t len[4];

	if (n > LIMIT_STORE_UNIT_BYTES) {
		errno = EFBIG;
		return -1;
	}
	(void)spool_units(s);
	if (s->fp == NULL && (s->fp = fopen(s->path, "ab")) == NULL)
		return -1;
	le32(len, (uint32_t)n);
	/* Flushed at once: what is spooled survives this process. */
	if (fwrite(len, 1, 4, s->fp) != 4 || fwrite(p, 1, n, s->fp) != n ||
	    fwrite(len, 1, 4, s->fp) != 4 || fflush(s->fp) != 0)
		return -1;
	s->units++;
	return 0;
}

/* Units to fn; *whole: where the last whole unit ends. */
static int64_t
scan(struct spool *s, int (*fn)(void *, const uint8_t *, size_t),
    void *arg, long *whole, bool *torn)
{
	FILE *fp;
	uint8_t len[4], *buf = NULL;
	uint32_t n;
	int64_t units = 0;
	size_t got;
	int rc = 0;

	*whole = 0;
	*torn = false;

	if (s->fp != NULL && fflush(s->fp) != 0)
		return -1;
	if ((fp = fopen(s->path, "rb")) == NULL)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		if ((got = fread(len, 1, 4, fp)) != 4) {
			*torn = got > 0;	/* a length cut short */
			break;
		}
		n = get32(len);
		if (n > LIMIT_STORE_UNIT_BYTES) {
			*torn = true;	/* not a length we wrote */
			break;
		}
		if ((buf = malloc(n > 0 ? n : 1)) == NULL) {
			rc = -1;
			break;
		}
		if (fread(buf, 1, n, fp) != n || fread(len, 1, 4, fp) != 4 ||
		    get32(len) != n) {
			/* A torn last write: what came before is whole. */
			*torn = true;
			free(buf);
			buf = NULL;
			break;
		}
		if (fn(arg, buf, n) != 0) {
			rc = -1;
			break;
		}
		units++;
		*whole = ftell(fp);
		free(buf);
		buf = NULL;
	}
	free(buf);
	if (ferror(fp))
		rc = -1;
	fclose(fp);
	return rc == -1 ? -1 : units;
}

int64_t
spool_replay(struct spool *s, int (*fn)(void *, const uint8_t *, size_t),
    void *arg)
{
	long whole;
	bool torn;

	return scan(s, fn, arg, &whole, &torn);
}

int
spool_clear(struct spool *s)
{
	if (s->fp != NULL) {
		fclose(s->fp);
		s->fp = NULL;
	}
	if (unlink(s->path) == -1 && errno != ENOENT)
		return -1;
	s->units = 0;
	return 0;
}
