/*
 * bulk.c: a batch of units into a database server in a few statements.
 *
 * One statement per row costs a round trip to the server, and on this
 * kind of machine a loopback round trip is 100-250 us: four per
 * transaction held MariaDB and PostgreSQL to ~1,500 transactions/s. Here
 * a batch goes table by table, many rows to a statement:
 *   1. its sessions: those whose summary is in the batch as whole rows
 *      (inserted, or their end columns set if the row is there), the
 *      others by their key columns (inserted if not there);
 *   2. the sessions' ids, by uid;
 *   3. the messages, insert-once, RETURNING the ids of those that were
 *      new: a message already stored (a re-read, a spool sent again) is
 *      skipped with its recipients and attachments, as in the row path;
 *   4. the new messages' recipients, then their attachments;
 *   5. the stats rows, insert-once by (sensor, ts).
 * The SQL is fixed text with a `?` per value; only how many rows a
 * statement carries varies. Nothing from the network is ever in it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "common/limits.h"
#include "common/siphash.h"
#include "unit.h"


struct bsess {
	struct sql_val	 key[SESSION_KEY_N];
	struct sql_val	 end[SESSION_END_N];
	bool		 has_end;
	int64_t		 id;
};

struct bmsg {
	size_t		 sess;
	struct sql_val	 v[MSG_NCOLS - 1];	/* without session_id */
	struct cur	 rest;			/* recipients, attachments */
	unsigned	 att_n;			/* values per attachment */
	int64_t		 id;			/* -1: not new */
	size_t		 next;			/* same key, SIZE_MAX: none */
};

struct bulk {
	const struct sql_driver	*d;
	void			*h;
	int64_t			 sensor_id;
	struct bsess		*sess;
	size_t			 nsess;
	struct sql_val		*stats;		/* STATS_N per row */
	size_t			 nstats, capstats;
	size_t			*sess_map;	/* open addressing, by uid */
	struct bmsg		*msg;
	size_t			 nmsg;
	size_t			*msg_map;	/* by (session id, depth) */
	size_t			 mapsize;	/* a power of two */
	struct siphash_key	 key;		/* the maps' hash */
	struct sql_val		*rows;		/* one statement's values */
	size_t			 nrows_v, caprows_v;
	struct dbuf		 sql;
	uint64_t		 malformed;
};

#define NONE	SIZE_MAX

/*
 * The maps' hash: keyed, because uids are computed from packet data and
 * a batch of uids sharing one slot would make each lookup walk them all.
 */
static uint64_t
hash_bytes(const struct bulk *b, const void *p, size_t n)
{
	return siphash13(&b->key, p, n);
}

static bool
same_bytes(const struct sql_val *a, const void *p, size_t n)
{
	return a->n == n && (n == 0 || memcmp(a->p, p, n) == 0);
}

/* The session of uid: its index, made (with key) if new and key given. */
static size_t
sess_find(struct bulk *b, const void *uid, size_t n,
    const struct sql_val *key)
{
	size_t i = hash_bytes(b, uid, n) & (b->mapsize - 1);

	for (; b->sess_map[i] != NONE; i = (i + 1) & (b->mapsize - 1))
		if (same_bytes(&b->sess[b->sess_map[i]].key[0], uid, n))
			return b->sess_map[i];
	if (key == NULL)
		return NONE;
	b->sess_map[i] = b->nsess;
	memcpy(b->sess[b->nsess].key, key, sizeof(b->sess[0].key));
	b->sess[b->nsess].has_end = false;
	b->sess[b->nsess].id = -1;
	return b->nsess++;
}

static size_t
msg_slot(struct bulk *b, int64_t sid, int64_t depth)
{
	uint64_t k[2] = { (uint64_t)sid, (uint64_t)depth };

	return hash_bytes(b, k, sizeof(k)) & (b->mapsize - 1);
}

/* The first message of (session id, depth) not yet given an id. */
static size_t
msg_find(struct bulk *b, int64_t sid, int64_t depth)
{
	size_t i = msg_slot(b, sid, depth), m;
	struct bmsg *x;

	for (; b->msg_map[i] != NONE; i = (i + 1) & (b->mapsize - 1)) {
		x = &b->msg[b->msg_map[i]];
		if (b->sess[x->sess].id != sid || x->v[0].i != depth)
			continue;
		for (m = b->msg_map[i]; m != NONE; m = b->msg[m].next)
			if (b->msg[m].id < 0)
				return m;
		return NONE;
	}
	return NONE;
}

static void
msg_index(struct bulk *b, size_t m)
{
	struct bmsg *x = &b->msg[m], *y;
	size_t i = msg_slot(b, b->sess[x->sess].id, x->v[0].i);

	for (; b->msg_map[i] != NONE; i = (i + 1) & (b->mapsize - 1)) {
		y = &b->msg[b->msg_map[i]];
		if (b->sess[y->sess].id == b->sess[x->sess].id &&
		    y->v[0].i == x->v[0].i) {
			while (y->next != NONE)
				y = &b->msg[y->next];
			y->next = m;
			return;
		}
	}
	b->msg_map[i] = m;
}

/* ---- statements of many rows --------------------------------------------- */

static int
row_add(struct bulk *b, const struct sql_val *v, size_t n)
{
	struct sql_val *r;
	size_t cap;

	if (b->nrows_v + n > b->caprows_v) {
		cap = b->caprows_v ? b->caprows_v * 2 : 4096;
		while (cap < b->nrows_v + n)
			cap *= 2;
		if ((r = realloc(b->rows, cap * sizeof(*r))) == NULL)
			return -1;
		b->rows = r;
		b->caprows_v = cap;
	}
	memcpy(b->rows + b->nrows_v, v, n * sizeof(*v));
	b->nrows_v += n;
	return 0;
}

/*
 * Run head "VALUES (?, ...), ..." tail over the rows gathered (ncols
 * values each, literal is a tail for each row's parentheses such as
 * ", 0"), as many rows to a statement as the limits allow.
 */
static int
flush_rows(struct bulk *b, const char *head, unsigned ncols,
    const char *literal, const char *tail, sql_row_fn *fn)
{
	size_t nrows = b->nrows_v / ncols, r = 0, k, bytes, i;
	unsigned c;
	int rc = 0;

	while (rc == 0 && r < nrows) {
		/* As many rows as fit the parameter and byte budgets. */
		for (k = 0, bytes = 0; r + k < nrows &&
		    (k + 1) * ncols <= LIMIT_BULK_PARAMS; k++) {
			for (c = 0; c < ncols; c++)
				bytes += b->rows[(r + k) * ncols + c].n + 8;
			if (k > 0 && bytes > LIMIT_BULK_BYTES)
				break;
		}
		dbuf_reset(&b->sql);
		dbuf_adds(&b->sql, head);
		dbuf_adds(&b->sql, " VALUES ");
		for (i = 0; i < k; i++) {
			dbuf_adds(&b->sql, i > 0 ? ", (?" : "(?");
			for (c = 1; c < ncols; c++)
				dbuf_add(&b->sql, ", ?", 3);
			dbuf_adds(&b->sql, literal);
			dbuf_addc(&b->sql, ')');
		}
		dbuf_adds(&b->sql, tail);
		if (dbuf_addc(&b->sql, '\0') == -1) {
			log_warnx("bulk: out of memory");
			return -1;
		}
		rc = b->d->query(b->h, (const char *)b->sql.p,
		    b->rows + r * ncols, (unsigned)(k * ncols), fn, b);
		r += k;
	}
	b->nrows_v = 0;
	return rc;
}

static int
ids_cb(void *arg, const struct sql_val *c, unsigned n)
{
	struct bulk *b = arg;
	size_t s;

	if (n < 2 || c[0].null)
		return 0;
	if ((s = sess_find(b, c[0].p, c[0].n, NULL)) != NONE)
		b->sess[s].id = sql_val_int(&c[1]);
	return 0;
}

/* A new message: RETURNING id, session_id, trans_depth. */
static int
new_msg_cb(void *arg, const struct sql_val *c, unsigned n)
{
	struct bulk *b = arg;
	size_t m;

	if (n < 3)
		return 0;
	if ((m = msg_find(b, sql_val_int(&c[1]), sql_val_int(&c[2]))) != NONE)
		b->msg[m].id = sql_val_int(&c[0]);
	return 0;
}

/* ---- the batch ----------------------------------------------------------- */

/* Room for one more stats row (a few a minute: grown, not sized). */
static int
stats_room(struct bulk *b)
{
	struct sql_val *v;
	size_t cap;

	if (b->nstats < b->capstats)
		return 0;
	cap = b->capstats ? b->capstats * 2 : 16;
	if ((v = realloc(b->stats, cap * STATS_N * sizeof(*v))) == NULL) {
		log_warnx("bulk: out of memory");
		return -1;
	}
	b->stats = v;
	b->capstats = cap;
	return 0;
}

static int
parse(struct bulk *b, const uint8_t *p, size_t len)
{
	struct cur c = cur_make(p, len), u;
	struct sql_val key[SESSION_KEY_N];
	struct span unit;
	uint8_t kind;
	size_t s;

	while (c.len > 0) {
		if (!cur_take_le32len(&c, &unit))
			return -1;	/* our own framing: never */
		u = cur_make(unit.p, unit.len);
		kind = cur_u8(&u);
		if (u.err) {		/* an empty unit (a spool file) */
			b->malformed++;
			continue;
		}
		if (kind == UNIT_STATS) {
			if (stats_room(b) == -1)
				return -1;
			if (unit_get(&u, b->stats + b->nstats * STATS_N,
			    STATS_N) == -1)
				b->malformed++;
			else
				b->nstats++;
			continue;
		}
		if ((kind != UNIT_MESSAGE && kind != UNIT_MESSAGE_V2 &&
		    kind != UNIT_SESSION) ||
		    unit_get(&u, key, SESSION_KEY_N) == -1 || key[0].null ||
		    key[0].n >= LIMIT_STORE_UID) {
			b->malformed++;
			continue;
		}
		s = sess_find(b, key[0].p, key[0].n, key);
		if (kind == UNIT_SESSION) {
			if (unit_get(&u, b->sess[s].end, SESSION_END_N) == -1) {
				b->malformed++;
				continue;
			}
			b->sess[s].has_end = true;
			continue;
		}
		b->msg[b->nmsg].sess = s;
		if (unit_get(&u, b->msg[b->nmsg].v, MSG_NCOLS - 1) == -1 ||
		    b->msg[b->nmsg].v[0].type != SQL_INT) {
			b->malformed++;
			continue;
		}
		b->msg[b->nmsg].rest = u;
		b->msg[b->nmsg].att_n = unit_att_n(kind);
		b->msg[b->nmsg].id = -1;
		b->msg[b->nmsg].next = NONE;
		b->nmsg++;
	}
	return 0;
}

static const char *const sess_part_head[3] = {
	[SQL_MYSQL] = "INSERT IGNORE INTO sessions (sensor_id, uid,"
	    " client_ip, client_port, server_ip, server_port, vlan, ts_first,"
	    " tls)",
	[SQL_PGSQL] = "INSERT INTO sessions (sensor_id, uid, client_ip,"
	    " client_port, server_ip, server_port, vlan, ts_first, tls)",
};
static const char *const sess_part_tail[3] = {
	[SQL_MYSQL] = "",
	[SQL_PGSQL] = " ON CONFLICT DO NOTHING",
};

#define SESS_WHOLE_COLS \
	"INSERT INTO sessions (sensor_id, uid, client_ip, client_port," \
	" server_ip, server_port, vlan, ts_first, ts_last, banner, helo," \
	" extensions, tls, auth_mechanism, auth_result, transactions," \
	" end_state, gaps, gap_bytes, anomalies)"
#define SET_END(v) \
	" ts_last = " v("ts_last") ", banner = " v("banner") ", helo = " \
	v("helo") ", extensions = " v("extensions") ", tls = " v("tls") \
	", auth_mechanism = " v("auth_mechanism") ", auth_result = " \
	v("auth_result") ", transactions = " v("transactions") \
	", end_state = " v("end_state") ", gaps = " v("gaps") \
	", gap_bytes = " v("gap_bytes") ", anomalies = " v("anomalies")
#define MY_NEW(c)	"VALUES(" c ")"
#define PG_NEW(c)	"EXCLUDED." c

static const char *const sess_whole_tail[3] = {
	[SQL_MYSQL] = " ON DUPLICATE KEY UPDATE" SET_END(MY_NEW),
	[SQL_PGSQL] = " ON CONFLICT (sensor_id, uid) DO UPDATE SET"
	    SET_END(PG_NEW),
};

#define MSG_HEAD_COLS \
	" INTO messages (session_id, trans_depth, ts, helo, auth_mechanism," \
	" auth_result, mail_from, mail_from_key, status, last_reply, size," \
	" hdr_from, hdr_to, hdr_cc, hdr_reply_to, subject, message_id," \
	" in_reply_to, hdr_date, user_agent, x_originating_ip, received," \
	" anomalies)"

/* Insert-once; only the rows that were new come back. */
static const char *const msg_head[3] = {
	[SQL_MYSQL] = "INSERT IGNORE" MSG_HEAD_COLS,
	[SQL_PGSQL] = "INSERT" MSG_HEAD_COLS,
};
static const char *const msg_tail[3] = {
	[SQL_MYSQL] = " RETURNING id, session_id, trans_depth",
	[SQL_PGSQL] = " ON CONFLICT DO NOTHING RETURNING id, session_id,"
	    " trans_depth",
};

static int
write_sessions(struct bulk *b)
{
	enum sql_dialect dl = b->d->dialect;
	struct sql_val v[1 + SESSION_KEY_N + SESSION_END_N];
	size_t i, k;
	int whole;

	v[0] = sql_int(b->sensor_id);
	for (whole = 0; whole < 2; whole++) {
		for (i = 0; i < b->nsess; i++) {
			if (b->sess[i].has_end != (whole == 1))
				continue;
			memcpy(&v[1], b->sess[i].key, sizeof(b->sess[i].key));
			k = 1 + SESSION_KEY_N;
			if (whole) {
				memcpy(&v[k], b->sess[i].end,
				    sizeof(b->sess[i].end));
				k += SESSION_END_N;
			}
			if (row_add(b, v, k) == -1)
				return -1;
		}
		if (b->nrows_v == 0)
			continue;
		if (whole ? flush_rows(b, SESS_WHOLE_COLS, 1 + SESSION_KEY_N +
		    SESSION_END_N, "", sess_whole_tail[dl], NULL) :
		    flush_rows(b, sess_part_head[dl], 1 + SESSION_KEY_N, ", 0",
		    sess_part_tail[dl], NULL))
			return -1;
	}
	return 0;
}

static int
read_session_ids(struct bulk *b)
{
	struct sql_val v[1 + LIMIT_BULK_IDS];
	size_t i, k;

	v[0] = sql_int(b->sensor_id);
	for (i = 0; i < b->nsess; i += k) {
		dbuf_reset(&b->sql);
		dbuf_adds(&b->sql, "SELECT uid, id FROM sessions WHERE "
		    "sensor_id = ? AND uid IN (?");
		v[1] = b->sess[i].key[0];
		for (k = 1; k < LIMIT_BULK_IDS && i + k < b->nsess; k++) {
			dbuf_add(&b->sql, ", ?", 3);
			v[1 + k] = b->sess[i + k].key[0];
		}
		dbuf_adds(&b->sql, ")");
		if (dbuf_addc(&b->sql, '\0') == -1 ||
		    b->d->query(b->h, (const char *)b->sql.p, v,
		    (unsigned)(1 + k), ids_cb, b) == -1)
			return -1;
	}
	for (i = 0; i < b->nsess; i++)
		if (b->sess[i].id < 0) {
			log_warnx("bulk: a session row is missing after its "
			    "insert");
			return -1;
		}
	return 0;
}

static int
write_messages(struct bulk *b)
{
	enum sql_dialect dl = b->d->dialect;
	struct sql_val v[MSG_NCOLS];
	size_t i;

	for (i = 0; i < b->nmsg; i++) {
		msg_index(b, i);
		v[0] = sql_int(b->sess[b->msg[i].sess].id);
		memcpy(&v[1], b->msg[i].v, sizeof(b->msg[i].v));
		if (row_add(b, v, MSG_NCOLS) == -1)
			return -1;
	}
	if (b->nrows_v == 0)
		return 0;
	return flush_rows(b, msg_head[dl], MSG_NCOLS, "", msg_tail[dl],
	    new_msg_cb);
}

/* The new messages' recipients (pass 0) or attachments (pass 1). */
static int
write_parts(struct bulk *b, int pass)
{
	struct sql_val v[1 + (RCPT_N > ATT_N ? RCPT_N : ATT_N)], cnt;
	struct cur *c;
	size_t i;
	int64_t k;

	for (i = 0; i < b->nmsg; i++) {
		if (b->msg[i].id < 0)
			continue;
		c = &b->msg[i].rest;	/* pass 1 goes on where 0 ended */
		if (unit_get(c, &cnt, 1) == -1 || cnt.type != SQL_INT) {
			b->malformed++;
			b->msg[i].id = -1;
			continue;
		}
		v[0] = sql_int(b->msg[i].id);
		for (k = 0; k < cnt.i; k++) {
			if (unit_get(c, &v[1], pass == 0 ? RCPT_N :
			    b->msg[i].att_n) == -1) {
				b->malformed++;
				b->msg[i].id = -1;
				break;
			}
			if (pass == 1 && b->msg[i].att_n < ATT_N)
				v[ATT_N] = sql_int(0);	/* depth: schema 2 */
			if (row_add(b, v, 1 + (pass == 0 ? RCPT_N : ATT_N)) ==
			    -1)
				return -1;
		}
	}
	if (b->nrows_v == 0)
		return 0;
	return pass == 0 ?
	    flush_rows(b, "INSERT INTO recipients (message_id, addr, addr_key,"
	    " code, enhanced, accepted)", 1 + RCPT_N, "", "", NULL) :
	    flush_rows(b, "INSERT INTO attachments (message_id, filename,"
	    " content_type, size, sha256, truncated, depth)", 1 + ATT_N,
	    "", "", NULL);
}

static const char *const stats_head[3] = {
	[SQL_MYSQL] = "INSERT IGNORE INTO stats (" STATS_COLS ")",
	[SQL_PGSQL] = "INSERT INTO stats (" STATS_COLS ")",
};
static const char *const stats_tail[3] = {
	[SQL_MYSQL] = "",
	[SQL_PGSQL] = " ON CONFLICT DO NOTHING",
};

/* The batch's stats rows: a row already there (the spool sent again) is
 * skipped. */
static int
write_stats(struct bulk *b)
{
	struct sql_val v[1 + STATS_N];
	size_t i;

	v[0] = sql_int(b->sensor_id);
	for (i = 0; i < b->nstats; i++) {
		memcpy(&v[1], b->stats + i * STATS_N, STATS_N * sizeof(*v));
		if (row_add(b, v, 1 + STATS_N) == -1)
			return -1;
	}
	if (b->nrows_v == 0)
		return 0;
	return flush_rows(b, stats_head[b->d->dialect], 1 + STATS_N, "",
	    stats_tail[b->d->dialect], NULL);
}

int
bulk_apply(const struct sql_driver *d, void *h, int64_t sensor_id,
    const uint8_t *batch, size_t len, unsigned units, uint64_t *malformed)
{
	struct bulk b;
	size_t i;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	b.d = d;
	b.h = h;
	b.sensor_id = sensor_id;
	if (siphash_key_process(&b.key, NULL) == -1) {
		log_warnx("bulk: no hash key");
		return -1;
	}
	for (b.mapsize = 64; b.mapsize < 2 * (size_t)units + 2;)
		b.mapsize *= 2;
	b.sess = calloc(units + 1, sizeof(*b.sess));
	b.msg = calloc(units + 1, sizeof(*b.msg));
	b.sess_map = malloc(b.mapsize * sizeof(*b.sess_map));
	b.msg_map = malloc(b.mapsize * sizeof(*b.msg_map));
	dbuf_init(&b.sql, 64u << 20);
	if (b.sess == NULL || b.msg == NULL || b.sess_map == NULL ||
	    b.msg_map == NULL) {
		log_warnx("bulk: out of memory");
		goto done;
	}
	for (i = 0; i < b.mapsize; i++)
		b.sess_map[i] = b.msg_map[i] = NONE;
	if (parse(&b, batch, len) == -1 || b.nsess > units ||
	    write_sessions(&b) == -1 || read_session_ids(&b) == -1 ||
	    write_messages(&b) == -1 || write_parts(&b, 0) == -1 ||
	    write_parts(&b, 1) == -1 || write_stats(&b) == -1)
		goto done;
	rc = 0;
done:
	*malformed += b.malformed;
	free(b.sess);
	free(b.msg);
	free(b.stats);
	free(b.sess_map);
	free(b.msg_map);
	free(b.rows);
	dbuf_fini(&b.sql);
	return rc;
}
