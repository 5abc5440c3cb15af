/*
 * live.h: live capture from a network interface through libpcap, one
 * handle per worker. With several handles the kernel spreads the packets
 * over them (PACKET_FANOUT, by a symmetric flow hash, IPv4 fragments put
 * together first), so each worker sees whole connections.
 */
#ifndef SMTPSNIFF_CAPTURE_LIVE_H
#define SMTPSNIFF_CAPTURE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h"
#include "common/log.h"

struct capture_live_config {
	const char	*iface;		/* "any" for all */
	const char	*filter;	/* NULL: capture_default_filter() */
	int		 snaplen;	/* 0: LIMIT_SNAPLEN_DEFAULT */
	int		 buffer_kib;	/* kernel buffer; 0: libpcap's */
	bool		 promisc;
	bool		 immediate;	/* deliver each packet at once */
	unsigned	 fanout_group;	/* 0: none; else the group id */
};

/* A handle's counters (pcap_stats: since it was opened). */
struct capture_live_stats {
	uint64_t	packets;	/* handed to us */
	uint64_t	bytes;
	uint64_t	kernel_recv;	/* ps_recv */
	uint64_t	kernel_drops;	/* ps_drop: the buffer was full */
	uint64_t	if_drops;	/* ps_ifdrop: the interface's */
	uint64_t	ts_invalid;
};

struct capture_live;

/*
 * The filter that hides no mail: the SMTP server ports (every TCP port
 * with any_port), also inside 802.1Q and QinQ tags, and every non-first
 * IP fragment (they carry no ports). vlan: the link has 802.1Q.
 */
int		 capture_default_filter(char *buf, size_t len,
		    const uint16_t *ports, size_t nports, bool any_port,
		    bool vlan);
struct capture_live *capture_live_open(const struct capture_live_config *,
		    const uint16_t *ports, size_t nports, bool any_port,
		    char err[ERRBUF_SIZE]);
/* 1: a packet (data valid until the next call); 0: none within
 * timeout_ms; -1: the handle failed (said once). */
int		 capture_live_next(struct capture_live *, struct capture_pkt *,
		    int timeout_ms);
void		 capture_live_get_stats(struct capture_live *,
		    struct capture_live_stats *);
int		 capture_live_link(const struct capture_live *);
int		 capture_live_snaplen(const struct capture_live *);
const char	*capture_live_filter(const struct capture_live *);
void		 capture_live_close(struct capture_live *);
/* `--list-interfaces`: one per line, as tcpdump -D. -1 on error. */
int		 capture_list_interfaces(FILE *, char err[ERRBUF_SIZE]);

#endif /* SMTPSNIFF_CAPTURE_LIVE_H */
