/*
 * archive.h: the packet archive (capture -w DIR): packets written into
 * rotated pcap slices in a directory, one archive per capture worker,
 * several workers writing into the same directory at once. `read DIR`
 * reads the slices back as one capture, merged by packet time
 * (capture.h). Nothing here looks at the wall clock: -G rotation goes by
 * the packets' time.
 *
 * A slice is named for its first packet's time (UTC, nanoseconds), the
 * worker and a per-worker sequence number,
 *	smtpsniff-20261202T183005.123456789Z-w000-000001.pcap
 * so names sort by time across workers. While it is written a slice has
 * the same name with a leading dot (hidden: `read DIR` skips it, as it
 * skips every hidden file); it is renamed when it is finished (rotation,
 * archive_close), so a visible slice is always whole. An unfinished slice
 * an earlier run of the same worker left (a crash) is renamed at open.
 *
 * No locks: an archive belongs to one thread (its worker's), which makes
 * every call on it, archive_tick included. Different archives may be used
 * by different threads at once, in the same directory.
 */
#ifndef SMTPSNIFF_ARCHIVE_H
#define SMTPSNIFF_ARCHIVE_H

#include <stdint.h>

#include "capture/capture.h"
#include "common/log.h"

struct archive_config {
	const char	*dir;		/* must exist and be writable */
	uint32_t	 rotate_s;	/* -G: seconds of packet time, 0 none */
	uint64_t	 rotate_bytes;	/* -C in BYTES (MB * 1000000), 0 none */
	uint32_t	 keep;		/* -W: slices kept per worker, 0 all */
	unsigned	 worker;	/* < LIMIT_ARCHIVE_WORKERS; in names */
	uint32_t	 snaplen;	/* slices' snaplen, 0: 262144 */
};

struct archive_stats {
	uint64_t	slices;		/* slices finished (renamed) */
	uint64_t	packets;	/* packets written */
	uint64_t	bytes;		/* bytes written, file headers included */
	uint64_t	deleted;	/* slices the -W ring deleted */
	uint64_t	errors;		/* failed creates, writes, renames, deletes */
	uint64_t	dropped;	/* packets not archived because of errors */
	uint64_t	recovered;	/* unfinished slices of an earlier run */
};

struct archive;

struct archive	*archive_open(const struct archive_config *,
		    char err[ERRBUF_SIZE]);
int		 archive_check(const struct archive *, char err[ERRBUF_SIZE]);
int		 archive_write(struct archive *, const struct capture_pkt *);
int		 archive_tick(struct archive *, uint64_t ts_ns);
void		 archive_get_stats(const struct archive *,
		    struct archive_stats *);
int		 archive_close(struct archive *);

#endif /* SMTPSNIFF_ARCHIVE_H */
