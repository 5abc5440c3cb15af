/*
 * decode_int.h: shared between the decode_*.c files only.
 */
#ifndef SMTPSNIFF_DECODE_INT_H
#define SMTPSNIFF_DECODE_INT_H

#include "capture/capture.h"
#include "common/cur.h"
#include "decode.h"

/* Ethertypes (IEEE registry). */
#define ETH_IP4		0x0800
#define ETH_IP6		0x86dd
#define ETH_VLAN	0x8100	/* 802.1Q */
#define ETH_QINQ	0x88a8	/* 802.1ad */
#define ETH_QINQ_OLD1	0x9100	/* pre-standard QinQ */
#define ETH_QINQ_OLD2	0x9200
#define ETH_MPLS	0x8847
#define ETH_MPLS_MC	0x8848
#define ETH_PPPOE_SESS	0x8864

#define IPPROTO_TCP_	6

/*
 * A fragment table; see decode_frag.c. Datagrams are keyed by addresses,
 * identification, protocol and VLAN (RFC 791 §2.3, RFC 8200 §4.5), and
 * found by a hash under key.
 */
struct frag_table;

struct frag_table *frag_table_new(const struct siphash_key *key);
void		 frag_table_free(struct frag_table *);

/*
 * Add one fragment. Returns 1 with *out set to the whole reassembled
 * payload (valid until the next call) when the datagram is complete,
 * 0 when it is kept (or lost: no memory), -1 when the fragment is invalid.
 */
int		 frag_table_add(struct frag_table *, struct decode_stats *,
		    const struct pkt *hdr, uint8_t proto, uint32_t id,
		    uint32_t offset, bool more, struct span data,
		    struct span *out);

struct decoder {
	struct decode_stats	 stats;
	struct frag_table	*frags;
};

enum decode_result decode_link(struct decoder *, const struct capture_pkt *,
		    struct pkt *);
enum decode_result decode_ethertype(struct decoder *, uint16_t type,
		    struct cur *, bool cut, struct pkt *);
enum decode_result decode_ip4(struct decoder *, struct cur *, bool cut,
		    struct pkt *);
enum decode_result decode_ip6(struct decoder *, struct cur *, bool cut,
		    struct pkt *);
/*
 * Decode a TCP segment. seg holds the captured bytes, seg_len is the
 * length the IP header declares (larger when the frame was cut);
 * csum_ok_to_check is false when the pseudo-header is not trustworthy.
 */
enum decode_result decode_tcp(struct decoder *, struct span seg,
		    size_t seg_len, bool check_csum, struct pkt *);

#endif /* SMTPSNIFF_DECODE_INT_H */
