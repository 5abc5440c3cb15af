/*
 * flow.h: the flow table and TCP reassembly. Segments come in (struct pkt
 * from decode/), each connection's two byte streams go out in order through
 * struct flow_ops, with every hole reported as a gap and never papered
 * over. Connections are keyed by addresses, ports and VLAN ids; they time
 * out by packet time, never wall-clock time. It knows nothing of SMTP.
 * References: RFC 9293 (TCP), RFC 7323 §5 (sequence wraparound).
 */
#ifndef SMTPSNIFF_FLOW_H
#define SMTPSNIFF_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "common/siphash.h"
#include "decode/decode.h"
#include "flow/pclock.h"

enum flow_dir {
	FLOW_C2S = 0,		/* client to server */
	FLOW_S2C = 1,
};

/* Why a connection ended (the "state" of `smtpsniff flows`). */
enum flow_end {
	FLOW_END_CLOSED,	/* FIN both ways, all data seen */
	FLOW_END_RESET,		/* RST (then quiet) */
	FLOW_END_TIMEOUT,	/* idle past its timeout */
	FLOW_END_OPEN,		/* still open when the capture ended */
	FLOW_END_EVICTED,	/* ended early: LIMIT_FLOWS reached */
	FLOW_END_REUSED,	/* a new SYN reused its addresses and ports */
};

struct flow_endpoint {
	uint8_t		ip[16];		/* IPv4 in the first 4 bytes */
	uint16_t	port;
};

/* What the layer above may read about a connection. */
struct flow_info {
	uint8_t			af;	/* 4 or 6 */
	uint8_t			nvlan;
	uint16_t		vlan[LIMIT_VLAN_TAGS];
	struct flow_endpoint	client;
	struct flow_endpoint	server;
	uint64_t		ts_first;
	uint64_t		ts_last;
	uint64_t		packets;
};

/* Per direction counters. */
struct flow_dir_stats {
	uint64_t	bytes;		/* delivered in order */
	uint64_t	gaps;		/* holes reported */
	uint64_t	gap_bytes;	/* bytes the holes stood for */
	uint64_t	retrans_bytes;	/* seen again, dropped (first wins) */
	uint64_t	overlap_mismatch; /* bytes seen again but different */
	bool		syn_seen;
	bool		midstream;	/* picked up without its SYN */
};

struct flow;

struct flow_ops {
	/* A connection begins; flow_set_user() may attach state. */
	void	(*on_open)(void *arg, struct flow *);
	/* The next bytes of one direction (borrowed: valid during the call). */
	void	(*on_data)(void *arg, struct flow *, enum flow_dir,
		    const uint8_t *, size_t);
	/* len bytes of one direction are missing (lost or cut). */
	void	(*on_gap)(void *arg, struct flow *, enum flow_dir,
		    uint64_t len);
	/* The connection ended; its user state must be released now. */
	void	(*on_close)(void *arg, struct flow *, enum flow_end);
};

struct flow_config {
	size_t		max_flows;
	size_t		stream_ooo_bytes;
	size_t		total_ooo_bytes;
	uint32_t	timeout_est_s;
	uint32_t	timeout_short_s;
	uint32_t	linger_s;
	uint32_t	reset_linger_s;
	/*
	 * The key of the table's hash (SipHash-1-3), so that no one can aim
	 * connections at one bucket. flow_config_default() gives the
	 * process key; tests may set their own. No output depends on it.
	 */
	struct siphash_key hash_key;
	bool		hash_keyed;	/* false: flow_table_new() refuses */
	/* Ports that mark the server when no SYN shows who opened. */
	const uint16_t	*server_ports;
	size_t		nserver_ports;
};

/*
 * Eviction classes, in the order connections are evicted: lingering keys,
 * reset, half-open/opening/closing, established without mail in flight,
 * mail in flight (flow_table.c).
 */
#define FLOW_EVICT_CLASSES	5
const char	*flow_evict_class_name(int);

struct flow_table_stats {
	uint64_t	packets;	/* TCP segments handled */
	uint64_t	flows;		/* connections opened */
	uint64_t	flows_active;	/* open now */
	uint64_t	flows_max_active;
	uint64_t	end[FLOW_END_REUSED + 1];
	uint64_t	gaps;
	uint64_t	gap_bytes;
	uint64_t	memcap_gaps;	/* gaps forced by a buffer cap */
	uint64_t	ooo_dropped;	/* segments dropped: total cap */
	uint64_t	ooo_bytes_max;	/* high-water mark of buffered bytes */
	uint64_t	late_packets;	/* seen after their connection ended */
	uint64_t	rst_ignored;	/* RST outside the window: not acted on */
	uint64_t	retrans_bytes;
	uint64_t	overlap_mismatch;
	struct pclock_stats clock;	/* far packet times: jumps, strays */
	/* Evictions by the queue they came from (flow_int.h's order). */
	uint64_t	evicted[FLOW_EVICT_CLASSES];
	uint64_t	flows_cap_evictions;	/* for LIMIT_FLOWS */
	uint64_t	memcap_hits;		/* times the budget was passed */
	uint64_t	memcap_evictions;	/* evictions for the budget */
	uint64_t	chain_max;	/* longest bucket chain a lookup walked */
};

struct flow_table;

int		 flow_config_default(struct flow_config *);
struct flow_table *flow_table_new(const struct flow_config *,
		    const struct flow_ops *, void *arg);
void		 flow_table_free(struct flow_table *);
void		 flow_table_packet(struct flow_table *, const struct pkt *);
void		 flow_table_finish(struct flow_table *);
/* Move the clock to packet time ts (forward only) without a packet. */
void		 flow_table_advance(struct flow_table *, uint64_t ts);
/* The table's clock: ns, never goes back; 0 before the first packet. */
uint64_t	 flow_table_now(const struct flow_table *);
const struct flow_table_stats *flow_table_get_stats(const struct flow_table *);

const struct flow_info *flow_get_info(const struct flow *);
const struct flow_dir_stats *flow_get_dir_stats(const struct flow *,
		    enum flow_dir);
void		*flow_get_user(const struct flow *);
void		 flow_set_user(struct flow *, void *);
void		 flow_set_busy(struct flow *, bool);
const char	*flow_end_name(enum flow_end);

#endif /* SMTPSNIFF_FLOW_H */
