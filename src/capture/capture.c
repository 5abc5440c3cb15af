/*
 * capture.c: offline reading of pcap and pcapng files through libpcap.
 * The file list is expanded (directories become their regular files in
 * name order) and checked up front, so a typo fails before any work is
 * done; a file that turns out unreadable or cut short later is reported,
 * what could be read from it is kept, and reading goes on with the next.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

struct capture {
	char		**files;	/* owned, expanded list */
	size_t		  nfiles;
	size_t		  next_file;	/* index of the next file to open */
	pcap_t		 *pcap;		/* current file, or NULL */
	const char	 *cur_name;
	int		  link;
	uint64_t	  file_packets;
	uint64_t	  last_ts;	/* the last valid packet time, ns */
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
close_current(struct capture *c)
{
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	c->pcap = NULL;
}

/* Open the next file in the list; -1 when there is none left. */
static int
open_next(struct capture *c)
{
	char perr[PCAP_ERRBUF_SIZE];

	while (c->next_file < c->nfiles) {
		c->cur_name = c->files[c->next_file++];
		c->file_packets = 0;
		c->pcap = pcap_open_offline_with_tstamp_precision(c->cur_name,
		    PCAP_TSTAMP_PRECISION_NANO, perr);
		if (c->pcap == NULL) {
			log_warnx("%s: cannot read capture: %s", c->cur_name,
			    perr);
			c->stats.file_errors++;
			continue;
		}
		c->link = pcap_datalink(c->pcap);
		c->stats.files++;
		return 0;
	}
	return -1;
}

/*
 * A packet's time in nanoseconds since 1970, 64-bit and validated. The
 * classic pcap format stores unsigned 32-bit seconds (good to 2106), but
 * libpcap hands them over through a signed 32-bit field: a negative
 * tv_sec is such a time past 2038, not one before 1970 (pcapng's are
 * unsigned 64-bit and never negative). A fraction outside [0, 1 s), or
 * seconds past what 64-bit nanoseconds hold (2554), is no time at all:
 * the packet keeps its bytes and takes the previous packet's time, and
 * it is counted (ts_invalid).
 */
static uint64_t
packet_time(struct capture *c, const struct timeval *tv)
{
	int64_t sec = (int64_t)tv->tv_sec;
	int64_t frac = (int64_t)tv->tv_usec;	/* ns: nano precision */

	if (sec < 0 && sec >= INT32_MIN)
		sec += (int64_t)1 << 32;
	if (sec < 0 || (uint64_t)sec > UINT64_MAX / 1000000000u - 1 ||
	    frac < 0 || frac >= 1000000000) {
		c->stats.ts_invalid++;
		return c->last_ts;
	}
	c->last_ts = (uint64_t)sec * 1000000000u + (uint64_t)frac;
	return c->last_ts;
}

/*
 * Read the next packet of the whole capture into *p (data valid until the
 * next call). Returns 1 for a packet, 0 at the end of the last file.
 */
int
capture_next(struct capture *c, struct capture_pkt *p)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	for (;;) {
		if (c->pcap == NULL && open_next(c) == -1)
			return 0;
		rc = pcap_next_ex(c->pcap, &h, &data);
		if (rc == 1) {
			p->ts_ns = packet_time(c, &h->ts);
			p->caplen = h->caplen;
			p->wirelen = h->len;
			p->link = c->link;
			p->data = data;
			c->file_packets++;
			c->stats.packets++;
			c->stats.bytes += h->caplen;
			return 1;
		}
		if (rc == PCAP_ERROR) {
			/* libpcap says "truncated dump file; ..." for a cut. */
			log_warnx("%s: %s (after %llu packets; those are kept)",
			    c->cur_name, pcap_geterr(c->pcap),
			    (unsigned long long)c->file_packets);
			c->stats.file_errors++;
		}
		close_current(c);
	}
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
	close_current(c);
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i]);
	free(c->files);
	free(c);
}
