/*
 * unit.h: what the store writes, serialised: a transaction's record, a
 * session's summary or a stats record as the values of its rows,
 * self-contained (no pointers), so it can wait in a batch or a spool file
 * and be applied later, by this run or the next.
 *
 * A unit: a kind byte, then values, each a tag byte (the sql_type, 0x80
 * if NULL) and an 8-byte integer or a 4-byte length and the bytes, all
 * little-endian. A MESSAGE unit: the session key (7), the message (22,
 * without session_id), the number of recipients and theirs (5 each), the
 * number of attachments and theirs (6 each). A SESSION unit: the session
 * key and the end-of-session columns (12). A STATS unit: the columns of
 * a stats row after sensor_id (STATS_N: ts, then integers). A MESSAGE_V2
 * unit, in a spool written before schema 3, is a MESSAGE unit whose
 * attachments have no depth (5 each): read as depth 0, which they all
 * were.
 */
#ifndef SMTPSNIFF_UNIT_H
#define SMTPSNIFF_UNIT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cur.h"
#include "common/dbuf.h"
#include "sql.h"
#include "store.h"

enum unit_kind {
	UNIT_MESSAGE = 'N',
	UNIT_MESSAGE_V2 = 'M',
	UNIT_SESSION = 'S',
	UNIT_STATS = 'T'
};

#define TAG_NULL	0x80

#define MSG_NCOLS	23	/* session_id + the message's 22 */
#define SESSION_KEY_N	7	/* uid .. ts_first */
#define SESSION_END_N	12	/* ts_last .. anomalies */
#define RCPT_N		5	/* addr, addr_key, code, enhanced, accepted */
#define ATT_N		6	/* filename, content_type, size, sha256, ... */
#define STATS_N		(16 + MEM_LAYER_MAX)	/* ts .. the layers' bytes */
/* The stats table's columns: sensor_id, then a STATS unit's, in order. */
#define STATS_COLS \
	"sensor_id, ts, uptime_ns, threads, packets, bytes, kernel_received," \
	" kernel_drops, kernel_ifdrops, flows, flows_active, sessions," \
	" records, records_lost, alerts, mem_limit, mem_total, mem_flows," \
	" mem_reassembly, mem_fragments, mem_sessions, mem_records"

/* Values per attachment in a message unit of this kind. */
static inline unsigned
unit_att_n(int kind)
{
	return kind == UNIT_MESSAGE_V2 ? ATT_N - 1 : ATT_N;
}

/* Encode into b (reset first); tmp is scratch. Check dbuf_status(b). */
void	unit_message(struct dbuf *b, struct dbuf *tmp, const struct record *);
void	unit_session(struct dbuf *b, struct dbuf *tmp,
	    const struct record_summary *);
void	unit_stats(struct dbuf *b, const struct sensor_stats *);

/*
 * Reading back, through common/cur.h (a spool file is input too): n
 * values into v, pointing into the unit. -1 (and c->err set) if it is
 * malformed.
 */
int		unit_get(struct cur *c, struct sql_val *v, unsigned n);
/* A unit's kind byte (enum unit_kind), or 0 if it is empty. */
static inline uint8_t
unit_kind(struct span u)
{
	struct cur c = cur_make(u.p, u.len);

	return cur_u8(&c);
}

/* v as n little-endian bytes. */
void		u_le(struct dbuf *, uint64_t v, int n);

#endif /* SMTPSNIFF_UNIT_H */
