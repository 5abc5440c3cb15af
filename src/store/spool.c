/*
 * spool.c: the spool file. Each unit is a 4-byte little-endian length, the
 * unit, and the same length again: a reader checks both, so a unit cut
 * short by a crash is seen and dropped with a warning instead of being
 * read as garbage. A write that fails (a disk that filled) is cut off
 * again at once, so the units appended after it are not hidden behind a
 * torn one. The file has a budget of bytes (--spool-max): past it,
 * spool_append() refuses, and the caller counts what it could not keep.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/log.h"
#include "spool.h"

/* A unit's framing: its length before and after it. */
#define FRAME_BYTES	8

struct spool {
	char		*path;
	int		 fd;		/* appending; -1 until needed */
	int64_t		 units;		/* -1: not counted yet */
	uint64_t	 bytes;		/* the file's size, whole units */
	uint64_t	 max;		/* the budget, in bytes */
	int		 broken;	/* errno of a write not cut off, or 0 */
};

struct spool *
spool_new(const char *path, uint64_t max)
{
	struct spool *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		return NULL;
	}
	s->fd = -1;
	s->units = -1;
	s->max = max;
	return s;
}

void
spool_free(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1 && close(s->fd) == -1)
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
 * Count the units a file holds (a last run's), and its bytes. A torn last
 * unit is cut off, so that units appended now are not hidden behind it.
 */
uint64_t
spool_units(struct spool *s)
{
	struct stat sb;
	int64_t n;
	long whole;
	bool torn;

	if (s->units < 0) {
		s->units = 0;
		if ((n = scan(s, count_cb, NULL, &whole, &torn)) >= 0) {
			s->units = n;
			s->bytes = (uint64_t)whole;
		} else if (stat(s->path, &sb) == 0) {
			/* Unreadable: its size still counts. */
			s->bytes = (uint64_t)sb.st_size;
		}
		if (torn) {
			log_warnx("%s: the last unit is cut short (a crash "
			    "while spooling?): dropped", s->path);
			if (truncate(s->path, whole) == -1) {
				/* Appends would follow the torn unit. */
				s->broken = errno;
				log_warn("%s: truncate", s->path);
			}
		}
	}
	return (uint64_t)s->units;
}

uint64_t
spool_bytes(struct spool *s)
{
	(void)spool_units(s);
	return s->bytes;
}

uint64_t
spool_max(const struct spool *s)
{
	return s->max;
}

bool
spool_has_room(struct spool *s, size_t n)
{
	(void)spool_units(s);
	return s->bytes <= s->max && s->max - s->bytes >= FRAME_BYTES &&
	    n <= s->max - s->bytes - FRAME_BYTES;
}

/*
 * The frame in one writev() (a short one is finished), and on failure
 * the file cut back to its last whole unit: a part of a frame left there
 * would hide every unit after it from the reader. The mode is 0600:
 * units hold addresses and subjects.
 */
int
spool_append(struct spool *s, const void *p, size_t n)
{
	struct {
		const void	*p;
		size_t		 n;
	} part[3];
	struct iovec iov[3];
	uint8_t len[4];
	size_t want = FRAME_BYTES + n, done = 0, off;
	ssize_t w;
	int e, i, k;

	if (n > LIMIT_STORE_UNIT_BYTES) {
		errno = EFBIG;
		return -1;
	}
	if (!spool_has_room(s, n)) {
		errno = EDQUOT;		/* the budget, not the disk */
		return -1;
	}
	if (s->broken != 0) {
		errno = s->broken;
		return -1;
	}
	if (s->fd == -1 && (s->fd = open(s->path, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	le32(len, (uint32_t)n);
	part[0].p = part[2].p = len;
	part[0].n = part[2].n = 4;
	part[1].p = p;
	part[1].n = n;
	while (done < want) {
		/* What is left of the frame (after a short write, EINTR). */
		for (off = done, i = 0, k = 0; i < 3; i++) {
			if (off >= part[i].n) {
				off -= part[i].n;
				continue;
			}
			iov[k].iov_base = (uint8_t *)part[i].p + off;
			iov[k++].iov_len = part[i].n - off;
			off = 0;
		}
		if ((w = writev(s->fd, iov, k)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (w == 0) {
			errno = ENOSPC;
			goto fail;
		}
		done += (size_t)w;
	}
	s->units++;
	s->bytes += want;
	return 0;
fail:
	e = errno;
	if (done > 0 && ftruncate(s->fd, (off_t)s->bytes) == -1) {
		/* Torn in the middle: nothing more may follow it. */
		log_warn("%s: truncate", s->path);
		s->broken = e;
	}
	errno = e;
	return -1;
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
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	if (unlink(s->path) == -1 && errno != ENOENT)
		return -1;
	s->units = 0;
	s->bytes = 0;
	s->broken = 0;
	return 0;
}
