/*
 * flow_int.h: shared by flow_table.c and tcp_stream.c only.
 */
#ifndef SMTPSNIFF_FLOW_INT_H
#define SMTPSNIFF_FLOW_INT_H

#include "flow.h"

/* A buffered out-of-order piece of one direction; offsets are 64-bit. */
struct seg {
	struct seg	*next;
	uint64_t	 off;		/* stream offset of data[0] */
	uint32_t	 len;
	uint8_t		 data[];
};

/*
 * One direction's reassembly state. Sequence numbers are turned into
 * 64-bit stream offsets relative to next_seq as soon as they arrive, so
 * wraparound (RFC 7323 §5) is handled at that single point.
 */
struct tcp_stream {
	uint64_t	 next_off;	/* offset of the next byte to deliver */
	uint32_t	 next_seq;	/* its sequence number */
	uint32_t	 isn;
	bool		 seq_known;
	bool		 fin_seen;
	bool		 ack_known;
	uint64_t	 fin_off;	/* offset of the FIN */
	uint64_t	 ack_off;	/* highest offset the peer acknowledged */
	struct seg	*head;		/* sorted, non-overlapping */
	struct seg	*tail;
	uint32_t	 nsegs;
	size_t		 buffered;
	struct flow_dir_stats st;
};

struct flow_key {
	uint8_t		af;
	uint8_t		nvlan;
	uint16_t	vlan[LIMIT_VLAN_TAGS];
	uint16_t	port[2];
	uint8_t		addr[2][16];	/* side 0 sorts before side 1 */
};

enum flow_queue {
	FLOWQ_EST,		/* established or picked up, no mail in flight */
	FLOWQ_MAIL,		/* established, the layer above has mail open */
	FLOWQ_SHORT,		/* opening, closing, or half of it seen */
	FLOWQ_RESET,		/* RST accepted; ends when quiet */
	FLOWQ_LINGER,		/* ended; key kept to absorb late packets */
	FLOWQ_MAX
};

struct flow {
	struct flow	*hnext;
	struct flow	*qprev;
	struct flow	*qnext;
	struct flow_key	 key;
	uint64_t	 hash;
	uint8_t		 queue;		/* enum flow_queue */
	uint8_t		 client_side;	/* key side of the client */
	bool		 ended;
	bool		 rst_seen;
	bool		 busy;		/* flow_set_busy(): mail in flight */
	struct flow_info info;
	uint64_t	 active;	/* clock time of its last packet */
	struct tcp_stream dir[2];	/* indexed by enum flow_dir */
	void		*user;
};

struct flow_queue_list {
	struct flow	*head;
	struct flow	*tail;
	uint64_t	 timeout_ns;
};

struct flow_table {
	struct flow_config	 cfg;
	struct flow_ops		 ops;
	void			*arg;
	struct flow		**buckets;
	struct flow		*last;		/* packet trains: checked first */
	size_t			 nbuckets;	/* power of two */
	struct flow		*free_list;
	void			**chunks;	/* flow storage, freed at end */
	size_t			 nchunks;
	size_t			 nflows;	/* in the table, lingering too */
	struct flow_queue_list	 q[FLOWQ_MAX];
	uint64_t		 now;		/* the packet clock's */
	uint64_t		 next_sweep;
	struct pclock		 clock;
	/* Connections touched while a far packet time was pending. */
	struct flow		*pend_flows[LIMIT_TIME_CONFIRM];
	unsigned		 npend_flows;
	size_t			 ooo_bytes;	/* all directions */
	struct flow_table_stats	 st;
};

/* tcp_stream.c */
void	tcp_stream_init(struct tcp_stream *);
void	tcp_stream_fini(struct flow_table *, struct tcp_stream *);
void	tcp_stream_syn(struct tcp_stream *, uint32_t seq);
void	tcp_stream_segment(struct flow_table *, struct flow *,
	    enum flow_dir, uint32_t seq, const uint8_t *, size_t len,
	    size_t cut);
void	tcp_stream_fin(struct tcp_stream *, uint32_t seq);
void	tcp_stream_ack(struct flow_table *, struct flow *, enum flow_dir,
	    uint32_t ack);
void	tcp_stream_flush(struct flow_table *, struct flow *, enum flow_dir);
bool	tcp_stream_is_done(const struct tcp_stream *);
bool	tcp_stream_fin_acked(const struct tcp_stream *);

#endif /* SMTPSNIFF_FLOW_INT_H */
