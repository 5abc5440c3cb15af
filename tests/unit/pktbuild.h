/*
 * pktbuild.h: builds frames for unit tests (Ethernet, VLAN, cooked, null,
 * raw; IPv4/IPv6; TCP with correct checksums) and a recorder of what the
 * flow layer delivers, so tests read as sequences of packets.
 */
#ifndef SMTPSNIFF_TEST_PKTBUILD_H
#define SMTPSNIFF_TEST_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "flow/flow.h"

/* CAPTURE_LINK_NULL is 0, which pb.link uses for "Ethernet". */
#define PB_LINK_NULL	0x10000

struct pb {
	int		 link;		/* CAPTURE_LINK_*; 0 means Ethernet */
	int		 af;		/* 4 (default) or 6 */
	const char	*src;
	const char	*dst;
	uint16_t	 sport;
	uint16_t	 dport;
	uint32_t	 seq;
	uint32_t	 ack;
	uint8_t		 flags;
	const char	*payload;	/* may hold NULs: len is used */
	size_t		 len;
	uint16_t	 vlan[4];
	int		 nvlan;
	bool		 bad_csum;
	uint8_t		 proto;		/* 0 means TCP */
};

/* The capture link type a pb's frame has. */
int	pb_link(const struct pb *);
/* Build a frame into buf; returns its length. */
size_t	pb_build(uint8_t *buf, size_t cap, const struct pb *);
/*
 * Build IP fragment number `which` of `count` equal parts (the last takes
 * the rest; part sizes are multiples of 8) of the packet pb describes.
 */
size_t	pb_build_frag(uint8_t *buf, size_t cap, const struct pb *,
	    int which, int count, uint32_t id);

/* Records everything the flow layer reports. */
#define REC_MAX_FLOWS	8
struct rec_flow {
	struct flow_info info;
	uint8_t		 data[2][65536];
	size_t		 len[2];
	uint64_t	 gaps[2];
	uint64_t	 gap_bytes[2];
	int		 events;	/* data or gap calls */
	bool		 closed;
	enum flow_end	 end;
	struct flow_dir_stats st[2];
};
struct rec {
	struct rec_flow	 f[REC_MAX_FLOWS];
	int		 n;		/* flows opened */
	int		 nclosed;
	/* The order in which flows closed, as indexes into f. */
	int		 close_order[REC_MAX_FLOWS];
};

extern const struct flow_ops rec_ops;

/* A flow table with default limits feeding rec; small overrides allowed. */
struct flow_table *rec_table(struct rec *, struct flow_config *cfg_or_null);
/* Decode a built frame at time t (seconds) and feed it to the table. */
enum decode_result rec_feed(struct decoder *, struct flow_table *,
	    const struct pb *, double t);

#endif /* SMTPSNIFF_TEST_PKTBUILD_H */
