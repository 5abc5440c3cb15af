/*
 * capture.h: the packet source. Reads one or many pcap/pcapng files (or
 * directories of them, in name order) as ONE continuous capture, so that a
 * connection cut across slices continues in the next file; files that
 * overlap in time (slices of several workers) are merged by packet time.
 * Live capture comes with the capture issue. This stage (capture.c,
 * archive.c) is the only one that includes <pcap.h>.
 */
#ifndef SMTPSNIFF_CAPTURE_H
#define SMTPSNIFF_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

/* Link-layer types we decode (values are LINKTYPE_/DLT_ numbers). */
enum capture_link {
	CAPTURE_LINK_NULL = 0,		/* BSD loopback, host-order AF */
	CAPTURE_LINK_EN10MB = 1,
	CAPTURE_LINK_RAW = 12,		/* DLT_RAW as libpcap maps it */
	CAPTURE_LINK_RAW_OPENBSD = 14,
	CAPTURE_LINK_LOOP = 108,	/* OpenBSD loopback, network-order AF */
	CAPTURE_LINK_LINUX_SLL = 113,
	CAPTURE_LINK_IPV4 = 228,
	CAPTURE_LINK_IPV6 = 229,
	CAPTURE_LINK_LINUX_SLL2 = 276,
};

struct capture_pkt {
	uint64_t	 ts_ns;		/* packet time, ns since the epoch */
	uint32_t	 caplen;	/* bytes captured */
	uint32_t	 wirelen;	/* bytes on the wire */
	int		 link;		/* enum capture_link, or other DLT */
	const uint8_t	*data;		/* valid until the next capture_next */
};

struct capture_stats {
	uint64_t	files;		/* files opened */
	uint64_t	file_errors;	/* files unreadable or cut short */
	uint64_t	packets;
	uint64_t	bytes;		/* captured bytes */
	uint64_t	total_file_bytes; /* sizes of all the files (progress) */
	uint64_t	ts_invalid;	/* timestamps that were no time */
	uint64_t	open_max;	/* most files open at once */
	uint64_t	merge_deferred;	/* files merged late: too many open */
};

struct capture;

struct capture	*capture_open_offline(char *const *paths, size_t npaths,
		    char err[ERRBUF_SIZE]);
int		 capture_next(struct capture *, struct capture_pkt *);
void		 capture_get_stats(const struct capture *,
		    struct capture_stats *);
void		 capture_free(struct capture *);

#endif /* SMTPSNIFF_CAPTURE_H */
