/*
 * query.c: `smtpsniff query [--db URL] REPORT [filters] [--format F]`:
 * search what `read` stored, in SQLite, MariaDB or PostgreSQL alike.
 * SQL is fixed text with bound parameters: nothing the user or the
 * network wrote is ever spliced into it.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "common/dbuf.h"
#include "common/json.h"
#include "record/pseudo.h"
#include "store/sql.h"
#include "store/store.h"

#define MAX_ROWS_DEFAULT	1000
#define CELL_MAX		64	/* table output: longer cells cut */
#define REPORT_MAXCOLS		24	/* columns of a report */
#define REPORT_MAXSRC		24	/* columns of its SQL */

enum fmt { FMT_TABLE, FMT_JSON, FMT_CSV };

struct cidr {
	bool		 set;
	int		 af;
	uint8_t		 addr[16];
	unsigned	 bits;
};

struct filters {
	const char	*from, *rcpt, *since, *until, *subject, *status, *helo;
	const char	*sha256;
	struct cidr	 client, server;
	long		 limit;
};

/*
 * A report is data: fixed SQL, the same text for SQLite, MariaDB and
 * PostgreSQL (so only what the three share: count, min, max, sum, CASE,
 * EXISTS, ORDER BY position), with numbered parameters: ?1 sender key,
 * ?2 recipient key (addresses in ASCII lower case, as the store keeps
 * them), ?3 since, ?4 until, ?6 status, ?8 sha256, NULL when not given;
 * ?9 is a row's key in a list query. Every ORDER BY ends on a unique key,
 * so the three databases print the same rows in the same order.
 *
 * What the SQL does not do is done here, alike for all: "ip:port" cells,
 * lists (one ordered query per row: string aggregation differs in each
 * database), and the filters that scan (CIDR, HELO, subject).
 */
enum col_kind {
	COL,		/* sql column src */
	COL_NUM,	/* the same, a number in JSON */
	COL_EP,		/* "ip:port" of columns src, src + 1 */
	COL_LIST,	/* rows of list_sql for key column src, joined */
	COL_LIST_ID,	/* the same, the key a row id (an integer) */
	COL_NS,		/* nanoseconds as seconds (s.uuuuuu), a number */
};

struct report_col {
	const char	*name;
	enum col_kind	 kind;
	int		 src;
	const char	*list_sql;	/* 1 column, or 2 shown as a:b */
	const char	*sep;
};

/* Which filters a report takes: SQL ones, and those done here. */
#define F_FROM		0x001
#define F_RCPT		0x002
#define F_TIME		0x004
#define F_STATUS	0x008
#define F_SHA256	0x010
#define F_CLIENT	0x020
#define F_SERVER	0x040
#define F_HELO		0x080
#define F_SUBJECT	0x100

struct report {
	const char		*name;
	const char		*sql;
	struct report_col	 cols[REPORT_MAXCOLS];
	unsigned		 ncols;
	unsigned		 filters;
	/* Columns of the SQL the scanning filters look at (-1: none). */
	int			 client_src, server_src, helo_src, subject_src;
	/*
	 * The SQL sorts newest first, so that --limit keeps the newest
	 * rows; they are printed oldest first.
	 */
	bool			 newest;
};

#define MSG_WHERE \
	" WHERE (?1 IS NULL OR m.mail_from_key = ?1)" \
	" AND (?2 IS NULL OR EXISTS (SELECT 1 FROM recipients r" \
	"   WHERE r.message_id = m.id AND r.addr_key = ?2))" \
	" AND (?3 IS NULL OR m.ts >= ?3)" \
	" AND (?4 IS NULL OR m.ts < ?4)" \
	" AND (?6 IS NULL OR m.status = ?6)" \
	" AND (?8 IS NULL OR EXISTS (SELECT 1 FROM attachments a" \
	"   WHERE a.message_id = m.id AND a.sha256 = ?8))"
#define TIME_WHERE(c) \
	" (?3 IS NULL OR " c " >= ?3) AND (?4 IS NULL OR " c " < ?4)"
/* NULL first in the three (PostgreSQL sorts it last by itself). */
#define NULLS_FIRST(c)	" CASE WHEN " c " IS NULL THEN 0 ELSE 1 END, " c

static const struct report reports[] = {
	{ "messages",
	  "SELECT m.id, m.ts, s.client_ip, s.client_port, s.server_ip,"
	  " s.server_port, m.helo, m.mail_from, m.status, m.size, m.subject,"
	  " (SELECT count(*) FROM attachments a WHERE a.message_id = m.id)"
	  " FROM messages m JOIN sessions s ON s.id = m.session_id"
	  MSG_WHERE " ORDER BY m.ts, m.id",
	  { { "ts", COL, 1, NULL, NULL }, { "client", COL_EP, 2, NULL, NULL },
	    { "server", COL_EP, 4, NULL, NULL }, { "helo", COL, 6, NULL, NULL },
	    { "mail_from", COL, 7, NULL, NULL },
	    { "rcpt", COL_LIST_ID, 0, "SELECT addr, code FROM recipients"
	      " WHERE message_id = ?9 ORDER BY id", " " },
	    { "status", COL, 8, NULL, NULL }, { "size", COL_NUM, 9, NULL, NULL },
	    { "subject", COL, 10, NULL, NULL },
	    { "attachments", COL_NUM, 11, NULL, NULL } }, 10,
	  F_FROM | F_RCPT | F_TIME | F_STATUS | F_SHA256 | F_CLIENT |
	  F_SERVER | F_HELO | F_SUBJECT, 2, 4, 6, 10, false },
	{ "sessions",
	  "SELECT s.ts_first, s.ts_last, s.client_ip, s.client_port,"
	  " s.server_ip, s.server_port, s.helo, s.tls, s.auth_mechanism,"
	  " s.auth_result, s.transactions, s.end_state, s.gaps, s.anomalies"
	  " FROM sessions s WHERE" TIME_WHERE("s.ts_first")
	  " ORDER BY s.ts_first, s.id",
	  { { "ts_first", COL, 0, NULL, NULL }, { "ts_last", COL, 1, NULL, NULL },
	    { "client", COL_EP, 2, NULL, NULL },
	    { "server", COL_EP, 4, NULL, NULL }, { "helo", COL, 6, NULL, NULL },
	    { "tls", COL_NUM, 7, NULL, NULL },
	    { "auth", COL, 8, NULL, NULL }, { "auth_result", COL, 9, NULL, NULL },
	    { "transactions", COL_NUM, 10, NULL, NULL },
	    { "end_state", COL, 11, NULL, NULL },
	    { "gaps", COL_NUM, 12, NULL, NULL },
	    { "anomalies", COL, 13, NULL, NULL } }, 12,
	  F_TIME | F_CLIENT | F_SERVER | F_HELO, 2, 4, 6, -1, false },
	{ "senders",
	  "SELECT m.mail_from, count(DISTINCT m.id),"
	  " count(DISTINCT r.addr_key), count(DISTINCT s.client_ip),"
	  " min(m.ts), max(m.ts)"
	  " FROM messages m JOIN sessions s ON s.id = m.session_id"
	  " LEFT JOIN recipients r ON r.message_id = m.id"
	  MSG_WHERE " GROUP BY m.mail_from"
	  " ORDER BY 2 DESC, 3 DESC," NULLS_FIRST("m.mail_from"),
	  { { "mail_from", COL, 0, NULL, NULL },
	    { "messages", COL_NUM, 1, NULL, NULL },
	    { "recipients", COL_NUM, 2, NULL, NULL },
	    { "clients", COL_NUM, 3, NULL, NULL },
	    { "first", COL, 4, NULL, NULL }, { "last", COL, 5, NULL, NULL } },
	  6, F_FROM | F_RCPT | F_TIME | F_STATUS | F_SHA256, -1, -1, -1, -1,
	  false },
	{ "servers",
	  "SELECT s.server_ip, s.server_port, count(*),"
	  " count(DISTINCT s.client_ip), sum(s.transactions),"
	  " min(s.ts_first), max(s.ts_first) FROM sessions s"
	  " WHERE" TIME_WHERE("s.ts_first")
	  " GROUP BY s.server_ip, s.server_port ORDER BY 4 DESC, 3 DESC, 1, 2",
	  { { "server", COL, 0, NULL, NULL }, { "port", COL_NUM, 1, NULL, NULL },
	    { "sessions", COL_NUM, 2, NULL, NULL },
	    { "clients", COL_NUM, 3, NULL, NULL },
	    { "transactions", COL_NUM, 4, NULL, NULL },
	    { "first", COL, 5, NULL, NULL }, { "last", COL, 6, NULL, NULL } },
	  7, F_TIME | F_SERVER, -1, 0, -1, -1, false },
	{ "rejections",
	  "SELECT s.client_ip, count(*), count(DISTINCT r.addr_key),"
	  " min(m.ts), max(m.ts)"
	  " FROM recipients r JOIN messages m ON m.id = r.message_id"
	  " JOIN sessions s ON s.id = m.session_id"
	  " WHERE r.accepted = 0 AND r.code IS NOT NULL AND"
	  TIME_WHERE("m.ts") " GROUP BY s.client_ip ORDER BY 2 DESC, 1",
	  { { "client", COL, 0, NULL, NULL },
	    { "rejected", COL_NUM, 1, NULL, NULL },
	    { "addresses", COL_NUM, 2, NULL, NULL },
	    { "codes", COL_LIST, 0, "SELECT DISTINCT r.code"
	      " FROM recipients r JOIN messages m ON m.id = r.message_id"
	      " JOIN sessions s ON s.id = m.session_id"
	      " WHERE s.client_ip = ?9 AND r.accepted = 0"
	      " AND r.code IS NOT NULL AND" TIME_WHERE("m.ts")
	      " ORDER BY r.code", "," },
	    { "first", COL, 3, NULL, NULL }, { "last", COL, 4, NULL, NULL } },
	  6, F_TIME | F_CLIENT, 0, -1, -1, -1, false },
	{ "attachments",
	  "SELECT a.sha256, max(a.size), count(DISTINCT m.id),"
	  " count(DISTINCT s.client_ip), min(m.ts), max(m.ts), min(a.depth)"
	  " FROM attachments a JOIN messages m ON m.id = a.message_id"
	  " JOIN sessions s ON s.id = m.session_id"
	  " WHERE" TIME_WHERE("m.ts") " AND (?8 IS NULL OR a.sha256 = ?8)"
	  " GROUP BY a.sha256 ORDER BY 4 DESC, 3 DESC, 1",
	  { { "sha256", COL, 0, NULL, NULL },
	    { "filenames", COL_LIST, 0, "SELECT DISTINCT a.filename"
	      " FROM attachments a JOIN messages m ON m.id = a.message_id"
	      " WHERE a.sha256 = ?9 AND a.filename IS NOT NULL AND"
	      TIME_WHERE("m.ts") " ORDER BY a.filename", "," },
	    { "size", COL_NUM, 1, NULL, NULL },
	    /* 0: sent as a message's own at least once (schema 3). */
	    { "depth", COL_NUM, 6, NULL, NULL },
	    { "messages", COL_NUM, 2, NULL, NULL },
	    { "hosts", COL_NUM, 3, NULL, NULL },
	    { "clients", COL_LIST, 0, "SELECT DISTINCT s.client_ip"
	      " FROM attachments a JOIN messages m ON m.id = a.message_id"
	      " JOIN sessions s ON s.id = m.session_id"
	      " WHERE a.sha256 = ?9 AND" TIME_WHERE("m.ts")
	      " ORDER BY s.client_ip", "," },
	    { "first", COL, 4, NULL, NULL }, { "last", COL, 5, NULL, NULL } },
	  9, F_TIME | F_SHA256, -1, -1, -1, -1, false },
	{ "alerts",
	  "SELECT a.ts, a.kind, a.severity, a.host, a.session_uid, a.detail"
	  " FROM alerts a WHERE" TIME_WHERE("a.ts") " ORDER BY a.ts, a.id",
	  { { "ts", COL, 0, NULL, NULL }, { "kind", COL, 1, NULL, NULL },
	    { "severity", COL_NUM, 2, NULL, NULL },
	    { "host", COL, 3, NULL, NULL },
	    { "session", COL, 4, NULL, NULL },
	    { "detail", COL, 5, NULL, NULL } }, 6, F_TIME, -1, -1, -1, -1,
	  false },
	{ "stats",
	  "SELECT st.ts, se.name, st.uptime_ns, st.threads, st.packets,"
	  " st.bytes, st.kernel_received, st.kernel_drops, st.kernel_ifdrops,"
	  " st.flows, st.flows_active, st.sessions, st.records,"
	  " st.records_lost, st.alerts, st.mem_limit, st.mem_total,"
	  " st.mem_flows, st.mem_reassembly, st.mem_fragments, st.mem_sessions,"
	  " st.mem_records FROM stats st JOIN sensors se ON se.id = st.sensor_id"
	  " WHERE" TIME_WHERE("st.ts") " ORDER BY st.ts DESC, st.id DESC",
	  { { "ts", COL, 0, NULL, NULL }, { "sensor", COL, 1, NULL, NULL },
	    { "uptime", COL_NS, 2, NULL, NULL },
	    { "threads", COL_NUM, 3, NULL, NULL },
	    { "packets", COL_NUM, 4, NULL, NULL },
	    { "bytes", COL_NUM, 5, NULL, NULL },
	    { "kernel_received", COL_NUM, 6, NULL, NULL },
	    { "kernel_drops", COL_NUM, 7, NULL, NULL },
	    { "kernel_ifdrops", COL_NUM, 8, NULL, NULL },
	    { "flows", COL_NUM, 9, NULL, NULL },
	    { "flows_active", COL_NUM, 10, NULL, NULL },
	    { "sessions", COL_NUM, 11, NULL, NULL },
	    { "records", COL_NUM, 12, NULL, NULL },
	    { "records_lost", COL_NUM, 13, NULL, NULL },
	    { "alerts", COL_NUM, 14, NULL, NULL },
	    { "mem_limit", COL_NUM, 15, NULL, NULL },
	    { "mem_total", COL_NUM, 16, NULL, NULL },
	    { "mem_flows", COL_NUM, 17, NULL, NULL },
	    { "mem_reassembly", COL_NUM, 18, NULL, NULL },
	    { "mem_fragments", COL_NUM, 19, NULL, NULL },
	    { "mem_sessions", COL_NUM, 20, NULL, NULL },
	    { "mem_records", COL_NUM, 21, NULL, NULL } }, 22, F_TIME,
	  -1, -1, -1, -1, true },
};

static int
parse_cidr(const char *s, struct cidr *c)
{
	char buf[64], *slash;
	long bits;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(c->addr, 0, sizeof(c->addr));
	if (inet_pton(AF_INET, buf, c->addr) == 1)
		c->af = 4;
	else if (inet_pton(AF_INET6, buf, c->addr) == 1)
		c->af = 6;
	else
		return -1;
	bits = c->af == 4 ? 32 : 128;
	if (slash != NULL) {
		char *end;

		bits = strtol(slash, &end, 10);
		if (*end != '\0' || bits < 0 || bits > (c->af == 4 ? 32 : 128))
			return -1;
	}
	c->bits = (unsigned)bits;
	c->set = true;
	return 0;
}

static bool
cidr_match(const struct cidr *c, const char *ip)
{
	uint8_t a[16] = { 0 };
	unsigned i, full;

	if (!c->set)
		return true;
	if (inet_pton(c->af == 4 ? AF_INET : AF_INET6, ip, a) != 1)
		return false;
	full = c->bits / 8;
	for (i = 0; i < full; i++)
		if (a[i] != c->addr[i])
			return false;
	if (c->bits % 8 != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - c->bits % 8));

		if ((a[full] & mask) != (c->addr[full] & mask))
			return false;
	}
	return true;
}

/* The rows of a report, every cell text or NULL. */
struct rowset {
	const struct report *rep;
	char	**cell;		/* nrows * ncols */
	size_t	  nrows;
	size_t	  cap;
};

static int
add_row(struct rowset *rs, char **vals)
{
	unsigned nc = rs->rep->ncols;
	char **ncell;

	if (rs->nrows == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		if ((ncell = realloc(rs->cell, rs->cap * nc *
		    sizeof(*ncell))) == NULL)
			return -1;
		rs->cell = ncell;
	}
	memcpy(rs->cell + rs->nrows * nc, vals, nc * sizeof(*vals));
	rs->nrows++;
	return 0;
}

/* The address part of "ip:port", "[ip6]:port" or a bare address. */
static void
addr_of(const char *v, char out[64])
{
	const char *colon;
	size_t n;

	if (v == NULL) {
		out[0] = '\0';
		return;
	}
	if (v[0] == '[' && (colon = strchr(v, ']')) != NULL) {
		n = (size_t)(colon - v - 1);
		v++;
	} else if ((colon = strchr(v, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		n = (size_t)(colon - v);
	} else {
		n = strlen(v);
	}
	if (n > 63)
		n = 63;
	memcpy(out, v, n);
	out[n] = '\0';
}

/* ASCII case-insensitive: what the store's search keys fold (RFC 5321 2.4). */
static bool
ascii_eq_nocase(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if ((*a | (*a >= 'A' && *a <= 'Z' ? 0x20 : 0)) !=
		    (*b | (*b >= 'A' && *b <= 'Z' ? 0x20 : 0)))
			return false;
	return *a == *b;
}

static bool
ascii_contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *hay != '\0'; hay++) {
		for (i = 0; i < n && hay[i] != '\0'; i++)
			if ((hay[i] | (hay[i] >= 'A' && hay[i] <= 'Z' ?
			    0x20 : 0)) != (needle[i] | (needle[i] >= 'A' &&
			    needle[i] <= 'Z' ? 0x20 : 0)))
				break;
		if (i == n)
			return true;
	}
	return n == 0;
}

/* A cell as a C string (numbers in decimal); NULL stays NULL. */
static char *
cell_dup(const struct sql_val *v)
{
	char *d;

	if (v->null)
		return NULL;
	if (v->type == SQL_INT) {
		if (asprintf(&d, "%" PRId64, v->i) == -1)
			return NULL;
		return d;
	}
	if ((d = malloc(v->n + 1)) == NULL)
		return NULL;
	memcpy(d, v->p, v->n);
	d[v->n] = '\0';
	return d;
}

struct run_ctx {
	const struct report	*rep;
	const struct filters	*f;
	struct rowset		*out;
	char			**src;		/* the SQL row, as strings */
	unsigned		 nsrc;
	long			 n;
	bool			 oom;
};

static bool
keep(const struct run_ctx *x)
{
	const struct report *rep = x->rep;
	const struct filters *f = x->f;
	char a[64];

	if (rep->client_src >= 0 && f->client.set) {
		addr_of(x->src[rep->client_src], a);
		if (!cidr_match(&f->client, a))
			return false;
	}
	if (rep->server_src >= 0 && f->server.set) {
		addr_of(x->src[rep->server_src], a);
		if (!cidr_match(&f->server, a))
			return false;
	}
	if (rep->helo_src >= 0 && f->helo != NULL &&
	    (x->src[rep->helo_src] == NULL ||
	    !ascii_eq_nocase(x->src[rep->helo_src], f->helo)))
		return false;
	if (rep->subject_src >= 0 && f->subject != NULL &&
	    (x->src[rep->subject_src] == NULL ||
	    !ascii_contains_nocase(x->src[rep->subject_src], f->subject)))
		return false;
	return true;
}

/* Nanoseconds (decimal text) as seconds with microseconds. */
static char *
ns_seconds(const char *v)
{
	unsigned long long ns;
	char *end, *d;

	if (v == NULL)
		return NULL;
	ns = strtoull(v, &end, 10);
	if (*end != '\0' || end == v || *v == '-')
		return strdup(v);	/* not ours: shown as it is */
	if (asprintf(&d, "%llu.%06llu", ns / 1000000000ull,
	    ns % 1000000000ull / 1000ull) == -1)
		return NULL;
	return d;
}

/* "ip:port", IPv6 in brackets (RFC 3986 3.2.2). */
static char *
endpoint(const char *ip, const char *port)
{
	char *d;

	if (ip == NULL || port == NULL)
		return NULL;
	if (asprintf(&d, strchr(ip, ':') != NULL ? "[%s]:%s" : "%s:%s", ip,
	    port) == -1)
		return NULL;
	return d;
}

static int
row_cb(void *arg, const struct sql_val *c, unsigned n)
{
	struct run_ctx *x = arg;
	const struct report *rep = x->rep;
	char *vals[REPORT_MAXCOLS];
	unsigned i;

	if (x->n >= x->f->limit)
		return 1;
	for (i = 0; i < x->nsrc; i++) {
		free(x->src[i]);
		x->src[i] = i < n ? cell_dup(&c[i]) : NULL;
	}
	if (!keep(x))
		return 0;
	for (i = 0; i < rep->ncols; i++) {
		const struct report_col *col = &rep->cols[i];
		const char *v = x->src[col->src];

		switch (col->kind) {
		case COL_EP:
			vals[i] = endpoint(v, x->src[col->src + 1]);
			break;
		case COL_NS:
			vals[i] = ns_seconds(v);
			break;
		case COL_LIST:	/* filled in later: the key for now */
		case COL_LIST_ID:
		default:
			vals[i] = v != NULL ? strdup(v) : NULL;
			break;
		}
	}
	if (add_row(x->out, vals) == -1) {
		for (i = 0; i < rep->ncols; i++)
			free(vals[i]);
		x->oom = true;
		return 1;
	}
	x->n++;
	return 0;
}

/* The filter values as parameters ?1 .. ?9 (index 0 unused). */
struct params {
	struct sql_val	 v[10];
	char		*from_key, *rcpt_key, *sha256;
};

static char *
ascii_lower(const char *s)
{
	char *d, *p;

	if (s == NULL || (d = strdup(s)) == NULL)
		return NULL;
	for (p = d; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 32;
	return d;
}

static void
params_init(struct params *p, const struct filters *f)
{
	unsigned i;

	for (i = 0; i < 10; i++)
		p->v[i] = sql_null(SQL_TEXT);
	p->from_key = ascii_lower(f->from);
	p->rcpt_key = ascii_lower(f->rcpt);
	p->sha256 = ascii_lower(f->sha256);
	p->v[1] = sql_str(SQL_BYTES, p->from_key);
	p->v[2] = sql_str(SQL_BYTES, p->rcpt_key);
	p->v[3] = sql_str(SQL_TEXT, f->since);
	p->v[4] = sql_str(SQL_TEXT, f->until);
	p->v[6] = sql_str(SQL_TEXT, f->status);
	p->v[8] = sql_str(SQL_TEXT, p->sha256);
}

static void
params_fini(struct params *p)
{
	free(p->from_key);
	free(p->rcpt_key);
	free(p->sha256);
}

/* Run SQL with numbered parameters through any driver. */
static int
numbered_query(const struct sql_driver *d, void *h, const char *sql,
    const struct params *p, sql_row_fn *fn, void *arg)
{
	struct dbuf text;
	struct sql_val v[SQL_MAXPARAM];
	unsigned order[SQL_MAXPARAM];
	int n, i, rc;

	dbuf_init(&text, 1u << 20);
	if ((n = sql_unnumber(sql, &text, order, SQL_MAXPARAM)) == -1) {
		dbuf_fini(&text);
		return -1;
	}
	for (i = 0; i < n; i++)
		v[i] = p->v[order[i]];
	rc = d->query(h, (const char *)text.p, v, (unsigned)n, fn, arg);
	dbuf_fini(&text);
	return rc;
}

struct list_ctx {
	struct dbuf	 b;
	const char	*sep;
	unsigned	 n;
};

static int
list_cb(void *arg, const struct sql_val *c, unsigned n)
{
	struct list_ctx *l = arg;
	char *a, *b;

	a = n > 0 ? cell_dup(&c[0]) : NULL;
	b = n > 1 ? cell_dup(&c[1]) : NULL;
	if (l->n++ > 0)
		dbuf_adds(&l->b, l->sep);
	dbuf_adds(&l->b, a != NULL ? a : "-");
	if (n > 1) {
		dbuf_addc(&l->b, ':');
		dbuf_adds(&l->b, b != NULL ? b : "-");
	}
	free(a);
	free(b);
	return 0;
}

/* An address filter to its pseudonym, as `read` wrote it. */
static int
pseudo_filter(struct record_pseudo *ps, const char **addr, char **buf)
{
	size_t n;

	if (*addr == NULL)
		return 0;
	n = RECORD_PSEUDO_OUT_SIZE(strlen(*addr));
	if ((*buf = malloc(n)) == NULL ||
	    record_pseudo_addr(ps, *addr, *buf, n) == NULL)
		return -1;
	*addr = *buf;
	return 0;
}

/* A filter the report cannot apply is an error, not a silent no-op. */
static int
unsupported(const struct report *rep, const struct filters *f)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = { { F_FROM, "--from" }, { F_RCPT, "--rcpt" },
	    { F_TIME, "--since/--until" }, { F_STATUS, "--status" },
	    { F_SHA256, "--attachment-sha256" }, { F_CLIENT, "--client" },
	    { F_SERVER, "--server" }, { F_HELO, "--helo" },
	    { F_SUBJECT, "--subject" } };
	unsigned given = 0;
	size_t i;

	given |= f->from != NULL ? F_FROM : 0;
	given |= f->rcpt != NULL ? F_RCPT : 0;
	given |= f->since != NULL || f->until != NULL ? F_TIME : 0;
	given |= f->status != NULL ? F_STATUS : 0;
	given |= f->sha256 != NULL ? F_SHA256 : 0;
	given |= f->client.set ? F_CLIENT : 0;
	given |= f->server.set ? F_SERVER : 0;
	given |= f->helo != NULL ? F_HELO : 0;
	given |= f->subject != NULL ? F_SUBJECT : 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((given & names[i].bit) && !(rep->filters & names[i].bit)) {
			log_warnx("%s: the %s report has no such filter",
			    names[i].name, rep->name);
			return -1;
		}
	return 0;
}

static int
version_cb(void *arg, const struct sql_val *c, unsigned n)
{
	*(int *)arg = n > 0 && sql_val_int(&c[0]) > 0 ?
	    (int)sql_val_int(&c[0]) : 0;
	return 1;
}

/* The reports need schema STORE_SCHEMA_VERSION; read migrates a database. */
static int
check_version(const struct sql_driver *d, void *h)
{
	int version = 0;

	if (d->query(h, "SELECT max(version) FROM schema_version", NULL, 0,
	    version_cb, &version) == -1 || version == 0) {
		log_warnx("%s: not a smtpsniff database", d->name(h));
		return -1;
	}
	if (version != STORE_SCHEMA_VERSION) {
		log_warnx("%s: schema version %d, this program's is %d%s",
		    d->name(h), version, STORE_SCHEMA_VERSION,
		    version < STORE_SCHEMA_VERSION ? " (smtpsniff read "
		    "brings it up to date)" : "");
		return -1;
	}
	return 0;
}

/* Newest first as the SQL sorted them (for --limit), printed last. */
static void
reverse_rows(struct rowset *rs)
{
	unsigned nc = rs->rep->ncols, c;
	size_t a, z;
	char *t;

	for (a = 0, z = rs->nrows; a + 1 < z; a++, z--)
		for (c = 0; c < nc; c++) {
			t = rs->cell[a * nc + c];
			rs->cell[a * nc + c] = rs->cell[(z - 1) * nc + c];
			rs->cell[(z - 1) * nc + c] = t;
		}
}

static int
run_report(const struct sql_driver *d, void *h, const struct report *rep,
    const struct filters *f, struct rowset *out)
{
	struct run_ctx x;
	struct params p;
	struct list_ctx l;
	char *src[REPORT_MAXSRC] = { NULL };
	size_t r;
	unsigned c;
	int rc;

	out->rep = rep;
	memset(&x, 0, sizeof(x));
	x.rep = rep;
	x.f = f;
	x.out = out;
	x.src = src;
	x.nsrc = REPORT_MAXSRC;
	params_init(&p, f);
	rc = numbered_query(d, h, rep->sql, &p, row_cb, &x);
	for (c = 0; c < REPORT_MAXSRC; c++)
		free(src[c]);
	if (x.oom) {
		log_warnx("query: out of memory");
		rc = -1;
	}
	if (rc == 0 && rep->newest)
		reverse_rows(out);
	/* Lists: one query per row, keyed by the row's key column. */
	dbuf_init(&l.b, 16u << 20);
	for (r = 0; rc == 0 && r < out->nrows; r++) {
		for (c = 0; c < rep->ncols; c++) {
			char **cell = &out->cell[r * rep->ncols + c];

			if (rep->cols[c].kind == COL_LIST)
				p.v[9] = sql_str(SQL_TEXT, *cell);
			else if (rep->cols[c].kind == COL_LIST_ID &&
			    *cell != NULL)
				p.v[9] = sql_int(strtoll(*cell, NULL, 10));
			else
				continue;
			dbuf_reset(&l.b);
			l.sep = rep->cols[c].sep;
			l.n = 0;
			if (numbered_query(d, h, rep->cols[c].list_sql, &p,
			    list_cb, &l) == -1) {
				rc = -1;
				break;
			}
			dbuf_addc(&l.b, '\0');
			free(*cell);
			*cell = l.n > 0 && dbuf_status(&l.b) == 0 ?
			    strdup((const char *)l.b.p) : NULL;
		}
	}
	dbuf_fini(&l.b);
	params_fini(&p);
	return rc;
}

/* ---- output ---------------------------------------------------------------- */

static size_t
display_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)	/* UTF-8 starts */
			n++;
	return n;
}

static void
print_cell(FILE *fp, const char *s, size_t width)
{
	size_t n = 0, chars = 0;

	if (s == NULL)
		s = "-";
	/* Cut long cells at a character boundary; control bytes as '?'. */
	for (; s[n] != '\0' && chars < CELL_MAX; n++) {
		if (((unsigned char)s[n] & 0xc0) != 0x80)
			chars++;
		fputc((unsigned char)s[n] < 0x20 ? '?' : s[n], fp);
	}
	while (s[n] != '\0' && ((unsigned char)s[n] & 0xc0) == 0x80)
		fputc(s[n++], fp);
	for (; chars < width; chars++)
		fputc(' ', fp);
}

static void
print_table(FILE *fp, const struct rowset *rs)
{
	const size_t NCOLS = rs->rep->ncols;
	const struct report_col *msg_cols = rs->rep->cols;
	size_t w[REPORT_MAXCOLS], r, c, l;

	for (c = 0; c < NCOLS; c++)
		w[c] = strlen(msg_cols[c].name);
	for (r = 0; r < rs->nrows; r++)
		for (c = 0; c < NCOLS; c++) {
			const char *v = rs->cell[r * NCOLS + c];

			l = v ? display_len(v) : 1;
			if (l > CELL_MAX)
				l = CELL_MAX;
			if (l > w[c])
				w[c] = l;
		}
	for (c = 0; c < NCOLS; c++) {
		print_cell(fp, msg_cols[c].name, c + 1 < NCOLS ? w[c] + 2 : 0);
	}
	fputc('\n', fp);
	for (r = 0; r < rs->nrows; r++) {
		for (c = 0; c < NCOLS; c++)
			print_cell(fp, rs->cell[r * NCOLS + c],
			    c + 1 < NCOLS ? w[c] + 2 : 0);
		fputc('\n', fp);
	}
}

static void
print_csv(FILE *fp, const struct rowset *rs)
{
	const size_t NCOLS = rs->rep->ncols;
	const struct report_col *msg_cols = rs->rep->cols;
	size_t r, c;
	const char *v;

	for (c = 0; c < NCOLS; c++)
		fprintf(fp, "%s%s", c ? "," : "", msg_cols[c].name);
	fputs("\r\n", fp);
	for (r = 0; r < rs->nrows; r++) {
		for (c = 0; c < NCOLS; c++) {
			v = rs->cell[r * NCOLS + c];
			if (c > 0)
				fputc(',', fp);
			if (v == NULL)
				continue;
			/* RFC 4180 §2: quoted, quotes doubled. */
			fputc('"', fp);
			for (; *v != '\0'; v++) {
				if (*v == '"')
					fputc('"', fp);
				fputc(*v, fp);
			}
			fputc('"', fp);
		}
		fputs("\r\n", fp);
	}
}

static int
print_json(FILE *fp, const struct rowset *rs)
{
	const size_t NCOLS = rs->rep->ncols;
	const struct report_col *msg_cols = rs->rep->cols;
	struct dbuf b;
	size_t r, c;
	const char *v;

	dbuf_init(&b, 64u << 20);
	for (r = 0; r < rs->nrows; r++) {
		dbuf_reset(&b);
		dbuf_addc(&b, '{');
		for (c = 0; c < NCOLS; c++) {
			v = rs->cell[r * NCOLS + c];
			if (c > 0)
				dbuf_addc(&b, ',');
			json_key(&b, msg_cols[c].name);
			if (v == NULL)
				dbuf_addlit(&b, "null");
			else if (msg_cols[c].kind == COL_NUM ||
			    msg_cols[c].kind == COL_NS)
				dbuf_adds(&b, v);
			else
				json_cstr(&b, v);
		}
		dbuf_addlit(&b, "}\n");
		if (dbuf_status(&b) == -1)
			break;
		fwrite(b.p, 1, b.len, fp);
	}
	dbuf_fini(&b);
	return 0;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: smtpsniff query [-c FILE] [--db URL] REPORT [filters]\n"
	    "       [--format table|json|csv] [--limit N]\n"
	    "  --db URL           sqlite:PATH (or PATH; default smtpsniff.db),\n"
	    "                     mysql://USER@HOST[:PORT]/DB or\n"
	    "                     postgresql://USER@HOST[:PORT]/DB (password\n"
	    "                     from SMTPSNIFF_DB_PASSWORD or -c FILE);\n"
	    "                     default: the first database output of\n"
	    "                     -c FILE, else smtpsniff.db\n"
	    "  filters: --from ADDR --rcpt ADDR --client CIDR --server CIDR\n"
	    "           --since TIME --until TIME (UTC, ISO 8601 prefix)\n"
	    "           --subject TEXT (substring) --status STATUS\n"
	    "           --helo NAME --attachment-sha256 HEX\n"
	    "  reports: messages, sessions, senders (top senders), servers\n"
	    "           (every SMTP server seen, by clients), rejections\n"
	    "           (rejected recipients by client), attachments (by\n"
	    "           hash: which hosts sent the same file), alerts\n"
	    "           (always empty for now: detection is not built),\n"
	    "           stats (the sensors' periodic statistics, newest\n"
	    "           last; --limit N keeps the newest N)\n");
}

int
cli_query(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "db", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'F' },
		{ "limit", required_argument, NULL, 'l' },
		{ "from", required_argument, NULL, 1 },
		{ "rcpt", required_argument, NULL, 2 },
		{ "client", required_argument, NULL, 3 },
		{ "server", required_argument, NULL, 4 },
		{ "since", required_argument, NULL, 5 },
		{ "until", required_argument, NULL, 6 },
		{ "subject", required_argument, NULL, 7 },
		{ "status", required_argument, NULL, 8 },
		{ "helo", required_argument, NULL, 9 },
		{ "attachment-sha256", required_argument, NULL, 10 },
		{ NULL, 0, NULL, 0 },
	};
	struct filters f;
	struct rowset rs = { NULL, NULL, 0, 0 };
	const struct report *rep = NULL;
	const char *db_spec = NULL;
	struct config conf;
	struct record_pseudo *ps = NULL;
	char *from_buf = NULL, *rcpt_buf = NULL;
	const struct sql_driver *d = NULL;
	char *spec_buf = NULL, err[ERRBUF_SIZE];
	bool unreachable;
	void *h = NULL;
	enum fmt fmt = FMT_TABLE;
	size_t i;
	int ch, rc = 2;

	memset(&f, 0, sizeof(f));
	memset(&conf, 0, sizeof(conf));
	f.limit = MAX_ROWS_DEFAULT;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hc:d:F:l:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			rc = 0;
			goto done;
		case 'c':
			if (config_load(optarg, &conf, err) == -1) {
				log_warnx("%s", err);
				goto done;
			}
			break;
		case 'd':
			db_spec = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "table") == 0)
				fmt = FMT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				fmt = FMT_JSON;
			else if (strcmp(optarg, "csv") == 0)
				fmt = FMT_CSV;
			else {
				log_warnx("--format %s: table, json or csv",
				    optarg);
				goto done;
			}
			break;
		case 'l':
			f.limit = strtol(optarg, NULL, 10);
			if (f.limit <= 0) {
				log_warnx("--limit %s: a positive number",
				    optarg);
				goto done;
			}
			break;
		case 1: f.from = optarg; break;
		case 2: f.rcpt = optarg; break;
		case 3:
		case 4:
			if (parse_cidr(optarg, ch == 3 ? &f.client :
			    &f.server) == -1) {
				log_warnx("%s: not an address or CIDR",
				    optarg);
				goto done;
			}
			break;
		case 5: f.since = optarg; break;
		case 6: f.until = optarg; break;
		case 7: f.subject = optarg; break;
		case 8: f.status = optarg; break;
		case 9: f.helo = optarg; break;
		case 10: f.sha256 = optarg; break;
		default:
			usage(stderr);
			goto done;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto done;
	}
	for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
		if (strcmp(argv[optind], reports[i].name) == 0)
			rep = &reports[i];
	if (rep == NULL) {
		log_warnx("%s: unknown report (messages, sessions, senders, "
		    "servers, rejections, attachments, alerts, stats)",
		    argv[optind]);
		goto done;
	}
	if (unsupported(rep, &f) == -1)
		goto done;
	/* A pseudonymised store is searched by pseudonym. */
	if (config_pseudonymiser(&conf, &ps, err) == -1) {
		log_warnx("%s", err);
		goto done;
	}
	if (ps != NULL && (pseudo_filter(ps, &f.from, &from_buf) == -1 ||
	    pseudo_filter(ps, &f.rcpt, &rcpt_buf) == -1)) {
		log_warnx("cannot pseudonymise the filters");
		goto done;
	}
	/* Else the first database the configuration writes to. */
	for (i = 0; db_spec == NULL && i < conf.noutputs; i++)
		if (sql_driver_of(conf.outputs[i]) != NULL)
			db_spec = conf.outputs[i];
	if (db_spec == NULL)
		db_spec = "sqlite:smtpsniff.db";
	if ((d = sql_driver_of(db_spec)) == NULL) {
		/* A bare path is a SQLite file, as before the servers. */
		if (asprintf(&spec_buf, "sqlite:%s", db_spec) == -1)
			goto done;
		db_spec = spec_buf;
		d = &sql_sqlite_driver;
	}
	if ((h = d->open(db_spec, true, config_db_password(&conf), &unreachable,
	    err)) == NULL) {
		log_warnx("%s", err);
		goto done;
	}
	if (check_version(d, h) == -1 || run_report(d, h, rep, &f, &rs) == -1)
		goto done;
	switch (fmt) {
	case FMT_TABLE:
		print_table(stdout, &rs);
		break;
	case FMT_CSV:
		print_csv(stdout, &rs);
		break;
	case FMT_JSON:
		print_json(stdout, &rs);
		break;
	}
	rc = fflush(stdout) == 0 ? 0 : 2;
done:
	for (i = 0; rep != NULL && i < rs.nrows * rep->ncols; i++)
		free(rs.cell[i]);
	free(rs.cell);
	if (h != NULL)
		d->close(h);
	free(spec_buf);
	free(from_buf);
	free(rcpt_buf);
	record_pseudo_free(ps);
	config_free(&conf);
	return rc;
}
