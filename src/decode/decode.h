/*
 * decode.h: from a captured frame to a TCP segment (struct pkt).
 * Link layers: Ethernet II with 802.1Q/802.1ad tags, Linux cooked v1/v2,
 * raw IP, BSD null/loopback. IPv4 with fragment reassembly and IPv6 with
 * extension headers and fragments. Every length is checked against the
 * bytes captured; a frame cut by the snaplen is used up to the cut.
 * It does not track connections (that is flow/) and never allocates per
 * packet: reassembled datagrams live in a bounded table.
 * References: IEEE 802.1Q, RFC 791, RFC 815, RFC 8200, RFC 9293 §3.1.
 */
#ifndef SMTPSNIFF_DECODE_H
#define SMTPSNIFF_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/limits.h"
#include "common/siphash.h"
#include "common/span.h"

/* TCP flags (RFC 9293 §3.1). */
#define TCP_FIN	0x01
#define TCP_SYN	0x02
#define TCP_RST	0x04
#define TCP_PSH	0x08
#define TCP_ACK	0x10
#define TCP_URG	0x20

/* What became of a frame; DECODE_TCP is the only one that fills a pkt. */
enum decode_result {
	DECODE_TCP = 0,
	DECODE_NOT_TCP,		/* ARP, UDP, ICMP, ...: counted, ignored */
	DECODE_FRAGMENT,	/* kept for reassembly, nothing yet */
	DECODE_ERR_LINK_UNSUPPORTED,
	DECODE_ERR_LINK_TRUNCATED,
	DECODE_ERR_IP4_TRUNCATED,
	DECODE_ERR_IP4_HEADER,	/* version, IHL or total length invalid */
	DECODE_ERR_IP6_TRUNCATED,
	DECODE_ERR_IP6_HEADER,
	DECODE_ERR_IP6_EXT_CHAIN,
	DECODE_ERR_FRAG_INVALID, /* fragment offsets or lengths impossible */
	DECODE_ERR_TCP_TRUNCATED, /* TCP header cut by the snaplen */
	DECODE_ERR_TCP_HEADER,	/* data offset below 5 or past the segment */
	DECODE_RESULT_MAX
};

struct pkt {
	uint64_t	ts_ns;
	uint8_t		af;		/* 4 or 6 */
	uint8_t		nvlan;		/* VLAN ids kept, outer first */
	uint16_t	vlan[LIMIT_VLAN_TAGS];
	uint8_t		src[16];	/* IPv4 in the first 4 bytes */
	uint8_t		dst[16];
	uint16_t	sport;
	uint16_t	dport;
	uint32_t	seq;
	uint32_t	ack;
	uint8_t		flags;		/* TCP_* */
	uint16_t	win;
	struct span	payload;	/* captured payload */
	uint32_t	payload_cut;	/* payload bytes the snaplen cut off */
};

struct decode_stats {
	uint64_t	result[DECODE_RESULT_MAX];
	uint64_t	ip4_csum_bad;
	uint64_t	tcp_csum_bad;
	uint64_t	csum_unverified; /* cut by snaplen: not checkable */
	uint64_t	vlan_deep;	/* frames with more tags than kept */
	uint64_t	frag_datagrams;	/* reassembled successfully */
	uint64_t	frag_timeout;
	uint64_t	frag_evicted;	/* LIMIT_FRAG_DATAGRAMS or _MEMORY hit */
	uint64_t	frag_overlap;	/* overlapping fragments seen */
	uint64_t	frag_cut;	/* fragments cut by the snaplen */
};

/*
 * The fragment table's hash key (as for flow_config: the process key by
 * default, a fixed one in tests; no output depends on it).
 */
struct decode_config {
	struct siphash_key	hash_key;
	bool			hash_keyed;	/* false: decoder_new refuses */
};

struct decoder;
struct capture_pkt;

int		 decode_config_default(struct decode_config *);
struct decoder	*decoder_new_config(const struct decode_config *);
struct decoder	*decoder_new(void);
void		 decoder_free(struct decoder *);
enum decode_result decoder_decode(struct decoder *, const struct capture_pkt *,
		    struct pkt *);
const struct decode_stats *decoder_stats(const struct decoder *);
const char	*decode_result_name(enum decode_result);

#endif /* SMTPSNIFF_DECODE_H */
