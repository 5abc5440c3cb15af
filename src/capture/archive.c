/*
 * archive.c: packets into rotated pcap slices (see archive.h for the
 * names). Slices are classic pcap with nanosecond times, written through
 * libpcap's dumper (it maps DLT_ numbers to the file's LINKTYPE_). Every
 * check that can fail at start is done in archive_open; afterwards an
 * error (a full disk) is counted and reported once, the packets are
 * dropped from the archive for LIMIT_ARCHIVE_RETRY_S seconds of packet
 * time, and the sensor goes on. Does not: compress, fsync, or look at the
 * clock.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "common/limits.h"

#define NS		1000000000ull
#define SNAPLEN_MAX	262144		/* libpcap's MAXIMUM_SNAPLEN */
#define FILE_HDR	24		/* pcap file header */
#define REC_HDR		16		/* pcap record header */
#define NAME_SIZE	64		/* a slice's name, with its dot */
/*
 * stdio buffer of a slice: one write(2) per 64 KiB rather than per 4 KiB
 * at line rate. A failed write loses what the buffer held; those packets
 * were counted as written (the error is counted and reported).
 */
#define WRITE_BUF	(64u * 1024)

/* A slice by what its name says: age order is (ts, seq). */
struct slice_id {
	uint64_t	ts;
	uint32_t	seq;
};

struct archive {
	char		 dir[LIMIT_ARCHIVE_PATH];
	struct archive_config cfg;
	uint32_t	 seq;		/* the last sequence number used */

	/* The slice being written, or fp == NULL. */
	FILE		*fp;
	pcap_t		*dead;		/* for the dumper: link, snaplen */
	int		 dead_link;
	pcap_dumper_t	*dumper;
	struct slice_id	 cur;
	uint64_t	 interval;	/* cur.ts / -G */
	uint64_t	 slice_bytes;
	uint64_t	 slice_packets;

	/* -W: this worker's finished slices, oldest first (a ring). */
	struct slice_id	*ring;
	size_t		 ring_head;
	size_t		 ring_n;

	bool		 failed;	/* dropping until retry_ts */
	bool		 warned;
	uint64_t	 retry_ts;
	struct archive_stats st;
};

static bool
older(struct slice_id a, struct slice_id b)
{
	return a.ts < b.ts || (a.ts == b.ts && a.seq < b.seq);
}

/* The name of a slice (hidden: with the leading dot). 0, or -1. */
static int
slice_name(char *buf, size_t size, struct slice_id id, unsigned worker,
    bool hidden)
{
	struct tm tm;
	time_t t = (time_t)(id.ts / NS);
	int n;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	n = snprintf(buf, size, "%ssmtpsniff-%04d%02d%02dT%02d%02d%02d."
	    "%09uZ-w%03u-%06u.pcap", hidden ? "." : "", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (unsigned)(id.ts % NS), worker, (unsigned)id.seq);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
slice_path(const struct archive *a, char *buf, size_t size,
    struct slice_id id, bool hidden)
{
	char name[NAME_SIZE];
	int n;

	if (slice_name(name, sizeof(name), id, a->cfg.worker, hidden) == -1)
		return -1;
	n = snprintf(buf, size, "%s/%s", a->dir, name);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * Whether name is exactly a slice's name (with or without the dot): it
 * is parsed, then written again and compared, so only names this module
 * writes match. The sequence number may have grown past six digits.
 */
static bool
slice_parse(const char *name, bool *hidden, unsigned *worker,
    struct slice_id *id)
{
	char again[NAME_SIZE];
	struct tm tm;
	unsigned y, mo, d, h, mi, s, frac, w, seq;
	time_t t;
	int end = -1;

	*hidden = name[0] == '.';
	if (*hidden)
		name++;
	if (strlen(name) >= sizeof(again) - 1 ||
	    sscanf(name, "smtpsniff-%4u%2u%2uT%2u%2u%2u.%9uZ-w%3u-%9u.pcap%n",
	    &y, &mo, &d, &h, &mi, &s, &frac, &w, &seq, &end) != 9 ||
	    end < 0 || name[end] != '\0' || y < 1970 || mo < 1 || mo > 12)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)s;
	if ((t = timegm(&tm)) == (time_t)-1 || t < 0 ||
	    (uint64_t)t > UINT64_MAX / NS - 1)
		return false;
	id->ts = (uint64_t)t * NS + frac;
	id->seq = seq;
	*worker = w;
	if (slice_name(again, sizeof(again), *id, w, false) == -1)
		return false;
	return strcmp(again, name) == 0;
}

/* Count an error; the first one is reported, the rest only counted. */
static void
report(struct archive *a, const char *what, const char *path, int errnum)
{
	a->st.errors++;
	if (a->warned)
		return;
	a->warned = true;
	log_warnx("archive: %s %s: %s (worker %u; further errors are "
	    "counted, not reported)", what, path, strerror(errnum),
	    a->cfg.worker);
}

static void
ring_delete_oldest(struct archive *a)
{
	char path[LIMIT_ARCHIVE_PATH];
	struct slice_id id = a->ring[a->ring_head];

	a->ring_head = (a->ring_head + 1) % a->cfg.keep;
	a->ring_n--;
	if (slice_path(a, path, sizeof(path), id, false) == -1)
		return;
	if (unlink(path) == 0)
		a->st.deleted++;
	else if (errno != ENOENT)	/* gone already: nothing to do */
		report(a, "cannot delete", path, errno);
}

/*
 * Finish the slice being written: flush it, close it and give it its
 * visible name (a slice without a packet is removed instead), then it
 * joins the -W ring. 0, or -1 if it could not be finished (counted).
 */
static int
finish_slice(struct archive *a)
{
	char tmp[LIMIT_ARCHIVE_PATH], path[LIMIT_ARCHIVE_PATH];
	int rc = 0, errnum = 0;

	if (a->fp == NULL)
		return 0;
	if (pcap_dump_flush(a->dumper) == -1 || ferror(a->fp)) {
		errnum = errno != 0 ? errno : EIO;
		rc = -1;
	}
	pcap_dump_close(a->dumper);	/* closes a->fp */
	a->dumper = NULL;
	a->fp = NULL;
	/* Both fit: checked at open. */
	slice_path(a, tmp, sizeof(tmp), a->cur, true);
	slice_path(a, path, sizeof(path), a->cur, false);
	if (rc == -1)
		report(a, "cannot write", tmp, errnum);
	if (a->slice_packets == 0) {
		unlink(tmp);
		return rc;
	}
	/* What was written before an error is kept: a reader stops at a cut. */
	if (rename(tmp, path) == -1) {
		report(a, "cannot rename", tmp, errno);
		return -1;
	}
	a->st.slices++;
	if (a->cfg.keep > 0) {
		a->ring[(a->ring_head + a->ring_n) % a->cfg.keep] = a->cur;
		a->ring_n++;
	}
	return rc;
}

/* A new slice for packet p, hidden until finished. 0, or -1 (counted). */
static int
start_slice(struct archive *a, const struct capture_pkt *p)
{
	char tmp[LIMIT_ARCHIVE_PATH], perr[PCAP_ERRBUF_SIZE];
	int fd;

	/* -W N: N slices of this worker on disk, this one included. */
	while (a->cfg.keep > 0 && a->ring_n >= a->cfg.keep)
		ring_delete_oldest(a);
	a->cur.ts = p->ts_ns;
	a->cur.seq = ++a->seq;
	if (slice_path(a, tmp, sizeof(tmp), a->cur, true) == -1) {
		report(a, "cannot name a slice in", a->dir, ENAMETOOLONG);
		return -1;
	}
	if (a->dead == NULL || a->dead_link != p->link) {
		if (a->dead != NULL)
			pcap_close(a->dead);
		a->dead = pcap_open_dead_with_tstamp_precision(p->link,
		    (int)a->cfg.snaplen, PCAP_TSTAMP_PRECISION_NANO);
		if (a->dead == NULL) {
			report(a, "cannot write link type to", a->dir, ENOMEM);
			return -1;
		}
		a->dead_link = p->link;
	}
	/* The slices hold mail: readable by their owner only. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		report(a, "cannot create", tmp, errno);
		return -1;
	}
	if ((a->fp = fdopen(fd, "wb")) == NULL) {
		report(a, "cannot create", tmp, errno);
		close(fd);
		unlink(tmp);
		return -1;
	}
	setvbuf(a->fp, NULL, _IOFBF, WRITE_BUF);
	if ((a->dumper = pcap_dump_fopen(a->dead, a->fp)) == NULL) {
		/* An unknown link type: libpcap says which. */
		snprintf(perr, sizeof(perr), "%s", pcap_geterr(a->dead));
		a->st.errors++;
		if (!a->warned)
			log_warnx("archive: %s: %s", tmp, perr);
		a->warned = true;
		fclose(a->fp);
		a->fp = NULL;
		unlink(tmp);
		return -1;
	}
	a->interval = a->cfg.rotate_s ? p->ts_ns / (a->cfg.rotate_s * NS) : 0;
	a->slice_bytes = FILE_HDR;
	a->slice_packets = 0;
	a->st.bytes += FILE_HDR;
	return 0;
}

/* Whether packet p (rec bytes in the file) starts a new slice. */
static bool
must_rotate(const struct archive *a, const struct capture_pkt *p,
    uint64_t rec)
{
	uint64_t iv;

	if (p->link != a->dead_link)
		return true;	/* one link type per pcap file */
	/*
	 * -G: intervals aligned on the epoch. A packet a little back in time
	 * (reordered across a boundary) stays in the slice; one more than an
	 * interval back starts a slice too, so that a stray dated far ahead
	 * holds up the rotation only for its own slice.
	 */
	if (a->cfg.rotate_s > 0) {
		iv = p->ts_ns / (a->cfg.rotate_s * NS);
		if (iv > a->interval || iv + 1 < a->interval)
			return true;
	}
	/* -C: a slice passes it only when its one packet does. */
	return a->cfg.rotate_bytes > 0 && a->slice_packets > 0 &&
	    a->slice_bytes + rec > a->cfg.rotate_bytes;
}

/* After an error: finish what was written, drop packets for a while. */
static void
fail(struct archive *a, uint64_t ts)
{
	finish_slice(a);
	a->failed = true;
	a->retry_ts = ts + (uint64_t)LIMIT_ARCHIVE_RETRY_S * NS;
	a->st.dropped++;
}

/*
 * Write one packet (cut to the snaplen) into the archive, rotating first
 * if -G (by the packet's time), -C or a change of link type says so.
 * Returns 0, or -1 if the packet was not archived (an error, counted and
 * reported once; never fatal: the next packets are tried again
 * LIMIT_ARCHIVE_RETRY_S seconds of packet time later).
 */
int
archive_write(struct archive *a, const struct capture_pkt *p)
{
	struct pcap_pkthdr h;
	uint32_t caplen = p->caplen;
	uint64_t rec;

	if (a->failed) {
		if (p->ts_ns < a->retry_ts) {
			a->st.dropped++;
			return -1;
		}
		a->failed = false;
	}
	if (caplen > a->cfg.snaplen)
		caplen = a->cfg.snaplen;
	rec = REC_HDR + (uint64_t)caplen;
	if (a->fp != NULL && must_rotate(a, p, rec) &&
	    finish_slice(a) == -1) {
		fail(a, p->ts_ns);
		return -1;
	}
	if (a->fp == NULL && start_slice(a, p) == -1) {
		fail(a, p->ts_ns);
		return -1;
	}
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(p->ts_ns / NS);
	h.ts.tv_usec = (suseconds_t)(p->ts_ns % NS);	/* nano file */
	h.caplen = caplen;
	h.len = p->wirelen;
	errno = 0;
	pcap_dump((u_char *)a->dumper, &h, p->data);
	if (ferror(a->fp)) {
		/* The buffer's flush failed: the slice ends at a cut. */
		fail(a, p->ts_ns);
		return -1;
	}
	a->slice_bytes += rec;
	a->slice_packets++;
	a->st.packets++;
	a->st.bytes += rec;
	return 0;
}

/*
 * Tell the archive the packet clock reached ts_ns (in the archive's own
 * thread, e.g. when its worker's idle clock moves): a slice whose -G
 * interval is over is finished now rather than at this worker's next
 * packet, so a quiet worker's last slice becomes visible. 0, or -1 if it
 * could not be finished (counted).
 */
int
archive_tick(struct archive *a, uint64_t ts_ns)
{
	if (a->fp == NULL || a->cfg.rotate_s == 0 ||
	    ts_ns / (a->cfg.rotate_s * NS) <= a->interval)
		return 0;
	return finish_slice(a);
}

/*
 * Whether the process can create files in the directory, with the
 * credentials it has now: a file is created and removed. Called by
 * archive_open; call it again after dropping privileges (-Z), so that a
 * directory only root can write fails at start, not at the first slice.
 * 0, or -1 with a message in err.
 */
int
archive_check(const struct archive *a, char err[ERRBUF_SIZE])
{
	char path[LIMIT_ARCHIVE_PATH];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/.smtpsniff-check-w%03u-%ld",
	    a->dir, a->cfg.worker, (long)getpid()) >= sizeof(path)) {
		snprintf(err, ERRBUF_SIZE, "archive: %s: path too long",
		    a->cfg.dir);
		return -1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, ERRBUF_SIZE, "archive: cannot write in %s: %s",
		    a->cfg.dir, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(path);
	return 0;
}

/* A min-heap of the newest slices found (capacity keep): sift down. */
static void
heap_down(struct slice_id *h, size_t n, size_t i)
{
	struct slice_id t;
	size_t l, m;

	while ((l = 2 * i + 1) < n) {
		m = l + 1 < n && older(h[l + 1], h[l]) ? l + 1 : l;
		if (!older(h[m], h[i]))
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static int
id_cmp(const void *x, const void *y)
{
	const struct slice_id *a = x, *b = y;

	return older(*a, *b) ? -1 : older(*b, *a) ? 1 : 0;
}

/* Remove or keep a slice an earlier run found: the -W ring at open. */
static void
drop_found(struct archive *a, struct slice_id id)
{
	char path[LIMIT_ARCHIVE_PATH];

	if (slice_path(a, path, sizeof(path), id, false) == 0 &&
	    unlink(path) == 0)
		a->st.deleted++;
}

/*
 * What earlier runs of this worker left in the directory. First pass:
 * unfinished (hidden) slices are renamed, empty ones removed. Second:
 * the sequence goes on after the highest found, and with -W the newest
 * `keep` slices start the ring (older ones are removed now), in one pass
 * with a bounded heap. 0, or -1 with a message.
 */
static int
scan(struct archive *a, char err[ERRBUF_SIZE])
{
	char from[LIMIT_ARCHIVE_PATH], to[LIMIT_ARCHIVE_PATH];
	DIR *d;
	struct dirent *de;
	struct slice_id id;
	struct stat st;
	unsigned w;
	bool hidden;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		if ((d = opendir(a->dir)) == NULL) {
			snprintf(err, ERRBUF_SIZE, "archive: %s: %s",
			    a->cfg.dir, strerror(errno));
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			if (!slice_parse(de->d_name, &hidden, &w, &id) ||
			    w != a->cfg.worker || hidden != (pass == 0))
				continue;
			if (pass == 0) {
				if (slice_path(a, from, sizeof(from), id,
				    true) == -1 || slice_path(a, to,
				    sizeof(to), id, false) == -1)
					continue;
				if (stat(from, &st) == 0 &&
				    st.st_size > FILE_HDR &&
				    rename(from, to) == 0)
					a->st.recovered++;
				else
					unlink(from);
				continue;
			}
			if (id.seq > a->seq)
				a->seq = id.seq;
			if (a->cfg.keep == 0)
				continue;
			if (a->ring_n < a->cfg.keep) {
				a->ring[a->ring_n++] = id;
				if (a->ring_n == a->cfg.keep) {
					/* Now a heap: oldest on top. */
					size_t i = a->ring_n / 2;

					while (i-- > 0)
						heap_down(a->ring, a->ring_n,
						    i);
				}
			} else if (older(a->ring[0], id)) {
				drop_found(a, a->ring[0]);
				a->ring[0] = id;
				heap_down(a->ring, a->ring_n, 0);
			} else
				drop_found(a, id);
		}
		closedir(d);
	}
	if (a->ring_n > 1)
		qsort(a->ring, a->ring_n, sizeof(*a->ring), id_cmp);
	return 0;
}

/*
 * Open the archive of one worker in cfg->dir. Everything that can be
 * checked is checked now, before the process drops root: the directory
 * exists, is one, and a file can be created in it; the settings are
 * within limits.h. Slices an earlier run of this worker left are taken
 * over (see scan). Returns NULL with a message in err. No slice is
 * created before the first packet: its time names it.
 */
struct archive *
archive_open(const struct archive_config *cfg, char err[ERRBUF_SIZE])
{
	struct archive *a;
	struct stat st;

	if (cfg->dir == NULL || cfg->dir[0] == '\0') {
		snprintf(err, ERRBUF_SIZE, "archive: no directory");
		return NULL;
	}
	if (strlen(cfg->dir) + 2 + NAME_SIZE > LIMIT_ARCHIVE_PATH) {
		snprintf(err, ERRBUF_SIZE, "archive: directory name longer "
		    "than %d bytes", LIMIT_ARCHIVE_PATH - 2 - NAME_SIZE);
		return NULL;
	}
	if (cfg->worker >= LIMIT_ARCHIVE_WORKERS ||
	    cfg->keep > LIMIT_ARCHIVE_KEEP) {
		snprintf(err, ERRBUF_SIZE, "archive: worker %u or -W %u past "
		    "the limits (%u, %u)", cfg->worker, cfg->keep,
		    LIMIT_ARCHIVE_WORKERS - 1, LIMIT_ARCHIVE_KEEP);
		return NULL;
	}
	if (stat(cfg->dir, &st) == -1) {
		snprintf(err, ERRBUF_SIZE, "archive: %s: %s", cfg->dir,
		    strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, ERRBUF_SIZE, "archive: %s: not a directory",
		    cfg->dir);
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (cfg->keep > 0 &&
	    (a->ring = calloc(cfg->keep, sizeof(*a->ring))) == NULL)) {
		free(a);
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	a->cfg = *cfg;
	a->cfg.dir = a->dir;
	if (a->cfg.snaplen == 0 || a->cfg.snaplen > SNAPLEN_MAX)
		a->cfg.snaplen = SNAPLEN_MAX;
	/* Without trailing slashes: the names are DIR/NAME. */
	snprintf(a->dir, sizeof(a->dir), "%s", cfg->dir);
	while (strlen(a->dir) > 1 && a->dir[strlen(a->dir) - 1] == '/')
		a->dir[strlen(a->dir) - 1] = '\0';
	if (archive_check(a, err) == -1 || scan(a, err) == -1) {
		free(a->ring);
		free(a);
		return NULL;
	}
	return a;
}

/* The counters so far: slices finished; packets and bytes of all. */
void
archive_get_stats(const struct archive *a, struct archive_stats *st)
{
	*st = a->st;
}

/*
 * Finish the slice being written and free the archive (NULL: nothing).
 * Returns 0, or -1 if that last slice could not be finished (reported).
 */
int
archive_close(struct archive *a)
{
	int rc;

	if (a == NULL)
		return 0;
	rc = finish_slice(a);
	if (a->dead != NULL)
		pcap_close(a->dead);
	free(a->ring);
	free(a);
	return rc;
}
