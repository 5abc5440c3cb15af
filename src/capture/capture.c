/*
 * capture.c: offline reading of pcap and pcapng files through libpcap.
 * The file list is expanded (directories become their regular files in
 * name order) and checked up front, so a typo fails before any work is
 * done; a file that turns out unreadable or cut short later is reported,
 * what could be read from it is kept, and reading goes on with the next.
 * Files that overlap in time (slices that several capture workers wrote
 * at once) are merged by packet time, lazily: a file is opened when the
 * merge needs its first packet's time, so the files open at once are
 * those that overlap, plus one.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "common/limits.h"

/*
 * One open file of the merge: its handle and its current (peeked) packet,
 * which stays valid in libpcap's buffer until that handle is read again.
 */
struct cfile {
	pcap_t		 *pcap;
	const char	 *name;
	size_t		  idx;		/* position in the file list: ties */
	int		  link;
	bool		  has_ts;	/* a valid time seen in this file yet */
	bool		  deferred;	/* counted in merge_deferred */
	uint64_t	  ts;		/* current packet's time, ns */
	uint64_t	  last_ts;	/* this file's last valid time */
	uint64_t	  first_ts;	/* its first packet's time */
	uint64_t	  packets;
	struct pcap_pkthdr *h;
	const u_char	 *data;
};

struct capture {
	char		**files;	/* owned, expanded list */
	size_t		  nfiles;
	size_t		  next_file;	/* index of the next file to open */
	struct cfile	  slot[LIMIT_CAPTURE_OPEN_FILES];
	struct cfile	 *heap[LIMIT_CAPTURE_OPEN_FILES]; /* by (ts, idx) */
	size_t		  nheap;
	struct cfile	 *pend;		/* next file, peeked, not merged yet */
	struct cfile	 *cur;		/* gave the last packet: read on */
	uint64_t	  last_ts;	/* time of the last packet given */
	uint64_t	  prev_start;	/* first time of the last file merged */
	bool		  warned_cap;
	struct capture_stats stats;
};

static int
add_file(struct capture *c, const char *path, size_t *cap)
{
	char **nf;

	if (c->nfiles == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		nf = realloc(c->files, *cap * sizeof(*nf));
		if (nf == NULL)
			return -1;
		c->files = nf;
	}
	c->files[c->nfiles] = strdup(path);
	if (c->files[c->nfiles] == NULL)
		return -1;
	c->nfiles++;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's regular files (hidden ones skipped) in name order. */
static int
add_dir(struct capture *c, const char *dir, size_t *cap,
    char err[ERRBUF_SIZE])
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char path[4096];
	size_t first = c->nfiles;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, ERRBUF_SIZE, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path))
			continue;
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (add_file(c, path, cap) == -1) {
			closedir(d);
			snprintf(err, ERRBUF_SIZE, "out of memory");
			return -1;
		}
	}
	closedir(d);
	if (c->nfiles == first) {
		snprintf(err, ERRBUF_SIZE, "%s: no capture files in directory",
		    dir);
		return -1;
	}
	qsort(c->files + first, c->nfiles - first, sizeof(char *), name_cmp);
	return 0;
}

/*
 * Prepare to read paths (files or directories) as one capture.
 * Returns NULL with a message in err if a path does not exist, is not
 * readable, or a directory holds no files. Files are opened lazily.
 */
struct capture *
capture_open_offline(char *const *paths, size_t npaths,
    char err[ERRBUF_SIZE])
{
	struct capture *c;
	struct stat st;
	size_t i, cap = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	for (i = 0; i < npaths; i++) {
		if (strcmp(paths[i], "-") != 0 && stat(paths[i], &st) == -1) {
			snprintf(err, ERRBUF_SIZE, "%s: %s", paths[i],
			    strerror(errno));
			goto fail;
		}
		if (strcmp(paths[i], "-") != 0 && S_ISDIR(st.st_mode)) {
			if (add_dir(c, paths[i], &cap, err) == -1)
				goto fail;
			continue;
		}
		if (add_file(c, paths[i], &cap) == -1) {
			snprintf(err, ERRBUF_SIZE, "out of memory");
			goto fail;
		}
	}
	if (c->nfiles == 0) {
		snprintf(err, ERRBUF_SIZE, "no capture files given");
		goto fail;
	}
	for (i = 0; i < c->nfiles; i++)
		if (stat(c->files[i], &st) == 0 && S_ISREG(st.st_mode))
			c->stats.total_file_bytes += (uint64_t)st.st_size;
	return c;
fail:
	capture_free(c);
	return NULL;
}

static void
file_close(struct capture *c, struct cfile *f)
{
	if (f->pcap != NULL)
		pcap_close(f->pcap);
	memset(f, 0, sizeof(*f));
}

/*
 * A packet's time in nanoseconds since 1970, 64-bit and validated. The
 * classic pcap format stores unsigned 32-bit seconds (good to 2106), but
 * libpcap hands them over through a signed 32-bit field: a negative
 * tv_sec is such a time past 2038, not one before 1970 (pcapng's are
 * unsigned 64-bit and never negative). A fraction outside [0, 1 s), or
 * seconds past what 64-bit nanoseconds hold (2554), is no time at all:
 * the packet keeps its bytes and takes the previous packet's time (of its
 * own file; a file's first packets with none take the time of the packet
 * given before them, when their file joins the merge), and it is counted
 * (ts_invalid). Until its file has a time, f->has_ts stays false.
 */
static void
packet_time(struct capture *c, struct cfile *f, const struct timeval *tv)
{
	int64_t sec = (int64_t)tv->tv_sec;
	int64_t frac = (int64_t)tv->tv_usec;	/* ns: nano precision */

	if (sec < 0 && sec >= INT32_MIN)
		sec += (int64_t)1 << 32;
	if (sec < 0 || (uint64_t)sec > UINT64_MAX / 1000000000u - 1 ||
	    frac < 0 || frac >= 1000000000) {
		c->stats.ts_invalid++;
		f->ts = f->last_ts;
		return;
	}
	f->ts = f->last_ts = (uint64_t)sec * 1000000000u + (uint64_t)frac;
	f->has_ts = true;
}

/*
 * Read f's next packet into f->h, f->data and f->ts. Returns 1 for a
 * packet, 0 at the end of the file (reported if it was cut short).
 */
static int
file_read(struct capture *c, struct cfile *f)
{
	int rc;

	rc = pcap_next_ex(f->pcap, &f->h, &f->data);
	if (rc == 1) {
		f->packets++;
		c->stats.packets++;
		c->stats.bytes += f->h->caplen;
		packet_time(c, f, &f->h->ts);
		return 1;
	}
	if (rc == PCAP_ERROR) {
		/* libpcap says "truncated dump file; ..." for a cut. */
		log_warnx("%s: %s (after %llu packets; those are kept)",
		    f->name, pcap_geterr(f->pcap),
		    (unsigned long long)f->packets);
		c->stats.file_errors++;
	}
	return 0;
}

/*
 * Open the next file of the list that has a packet into c->pend, its
 * first packet read (peeked). Files that cannot be read are reported and
 * skipped; empty ones are closed. Leaves c->pend NULL at the end.
 */
static void
open_next(struct capture *c)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct cfile *f = NULL;
	size_t i;

	if (c->next_file >= c->nfiles)
		return;
	for (i = 0; i < LIMIT_CAPTURE_OPEN_FILES && f == NULL; i++)
		if (c->slot[i].pcap == NULL)
			f = &c->slot[i];
	/* The heap holds at most LIMIT_CAPTURE_OPEN_FILES - 1 files. */
	if (f == NULL)
		return;
	while (c->next_file < c->nfiles) {
		f->idx = c->next_file;
		f->name = c->files[c->next_file++];
		f->pcap = pcap_open_offline_with_tstamp_precision(f->name,
		    PCAP_TSTAMP_PRECISION_NANO, perr);
		if (f->pcap == NULL) {
			log_warnx("%s: cannot read capture: %s", f->name,
			    perr);
			c->stats.file_errors++;
			continue;
		}
		f->link = pcap_datalink(f->pcap);
		c->stats.files++;
		if (c->nheap + 1 > c->stats.open_max)
			c->stats.open_max = c->nheap + 1;
		if (file_read(c, f) == 1) {
			f->first_ts = f->ts;
			c->pend = f;
			return;
		}
		file_close(c, f);
		f->idx = 0;
	}
}

/* The merge's order: packet time, then file order (stable). */
static bool
before(const struct cfile *a, const struct cfile *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->idx < b->idx);
}

static void
sift_down(struct capture *c, size_t i)
{
	struct cfile *t;
	size_t l, m;

	for (;;) {
		l = 2 * i + 1;
		if (l >= c->nheap)
			return;
		m = l + 1 < c->nheap && before(c->heap[l + 1], c->heap[l]) ?
		    l + 1 : l;
		if (!before(c->heap[m], c->heap[i]))
			return;
		t = c->heap[i];
		c->heap[i] = c->heap[m];
		c->heap[m] = t;
		i = m;
	}
}

static void
heap_push(struct capture *c, struct cfile *f)
{
	struct cfile *t;
	size_t i = c->nheap++, up;

	c->heap[i] = f;
	while (i > 0) {
		up = (i - 1) / 2;
		if (!before(c->heap[i], c->heap[up]))
			break;
		t = c->heap[i];
		c->heap[i] = c->heap[up];
		c->heap[up] = t;
		i = up;
	}
}

/*
 * Whether the peeked file joins the merge now. Into an empty merge,
 * always: that is plain concatenation. Otherwise only when the merge has
 * reached its first packet's time, and only if that file starts no
 * earlier than the file merged before it: a list out of time order is
 * read in its order, as are files whose first packets have no time. So
 * files that do not overlap in time are read one after the other, exactly
 * as a concatenation. Past LIMIT_CAPTURE_OPEN_FILES files open, the file
 * waits for one to end (counted, warned once).
 */
static bool
may_join(struct capture *c, struct cfile *f)
{
	if (c->nheap == 0)
		return true;
	if (!f->has_ts || f->first_ts < c->prev_start ||
	    !before(f, c->heap[0]))
		return false;
	if (c->nheap + 1 >= LIMIT_CAPTURE_OPEN_FILES) {
		if (!f->deferred) {
			f->deferred = true;
			c->stats.merge_deferred++;
		}
		if (!c->warned_cap)
			log_warnx("%s: more than %u capture files overlap "
			    "in time: it and any such later are merged late",
			    f->name, LIMIT_CAPTURE_OPEN_FILES - 1);
		c->warned_cap = true;
		return false;
	}
	return true;
}

/*
 * Read the next packet of the whole capture into *p (data valid until the
 * next call). Returns 1 for a packet, 0 at the end of the last file.
 * Files are merged by packet time (ties in file order); files that do
 * not overlap in time come one after the other (see may_join).
 */
int
capture_next(struct capture *c, struct capture_pkt *p)
{
	struct cfile *f;

	/* The file that gave the last packet is at the top: read on. */
	if ((f = c->cur) != NULL) {
		c->cur = NULL;
		if (file_read(c, f) == 1)
			sift_down(c, 0);
		else {
			file_close(c, f);
			c->heap[0] = c->heap[--c->nheap];
			sift_down(c, 0);
		}
	}
	for (;;) {
		if (c->pend == NULL)
			open_next(c);
		if (c->pend == NULL || !may_join(c, c->pend))
			break;
		f = c->pend;
		c->pend = NULL;
		if (!f->has_ts) {
			/* Its first packets had no time: the last given. */
			f->ts = f->first_ts = f->last_ts = c->last_ts;
			f->has_ts = true;
		}
		c->prev_start = f->first_ts;
		heap_push(c, f);
	}
	if (c->nheap == 0)
		return 0;
	f = c->cur = c->heap[0];
	c->last_ts = f->ts;
	p->ts_ns = f->ts;
	p->caplen = f->h->caplen;
	p->wirelen = f->h->len;
	p->link = f->link;
	p->data = f->data;
	return 1;
}

void
capture_get_stats(const struct capture *c, struct capture_stats *st)
{
	*st = c->stats;
}

void
capture_free(struct capture *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < LIMIT_CAPTURE_OPEN_FILES; i++)
		file_close(c, &c->slot[i]);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	free(c);
}
