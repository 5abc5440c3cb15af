/*
 * query.c: `smtpsniff query [--db PATH] REPORT [filters] [--format F]`:
 * search what `read` stored (the SQLite store; the server databases come
 * next). Reports are data: fixed SQL, column names, and which columns the
 * CIDR filters look at. SQL is fixed text with bound parameters:
 * nothing the user or the network wrote is ever spliced into it.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/dbuf.h"
#include "common/json.h"

#define MAX_ROWS_DEFAULT	1000
#define CELL_MAX		64	/* table output: longer cells cut */

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
 * A report: fixed SQL with numbered parameters ?1..?8 (the filters, NULL
 * when not given: ?1 from, ?2 rcpt, ?3 since, ?4 until, ?5 subject LIKE,
 * ?6 status, ?7 helo, ?8 sha256), its column names, which columns are
 * numbers (JSON), and which hold the client and server address for the
 * CIDR filters (-1: none). The SQL produces the columns directly.
 */
struct report {
	const char	*name;
	const char	*sql;
	const char	*cols[12];
	unsigned	 ncols;
	uint32_t	 numeric;	/* bit per column */
	int		 client_col;
	int		 server_col;
};

/* "ip:port", IPv6 in brackets (RFC 3986 §3.2.2 style). */
#define EP(ip, port) \
	" CASE WHEN instr(" ip ", ':') > 0 THEN '[' || " ip " || ']:' ||" \
	" " port " ELSE " ip " || ':' || " port " END"

#define MSG_WHERE \
	" WHERE (?1 IS NULL OR m.mail_from = ?1 COLLATE NOCASE)" \
	" AND (?2 IS NULL OR EXISTS (SELECT 1 FROM recipients r" \
	"   WHERE r.message_id = m.id AND r.addr = ?2 COLLATE NOCASE))" \
	" AND (?3 IS NULL OR m.ts >= ?3)" \
	" AND (?4 IS NULL OR m.ts < ?4)" \
	" AND (?5 IS NULL OR m.subject LIKE ?5 ESCAPE '\\')" \
	" AND (?6 IS NULL OR m.status = ?6)" \
	" AND (?7 IS NULL OR m.helo = ?7 COLLATE NOCASE)" \
	" AND (?8 IS NULL OR EXISTS (SELECT 1 FROM attachments a" \
	"   WHERE a.message_id = m.id AND a.sha256 = lower(?8)))"

static const struct report reports[] = {
	{ "messages",
	  "SELECT m.ts," EP("s.client_ip", "s.client_port") ","
	  EP("s.server_ip", "s.server_port") ","
	  " m.helo, m.mail_from,"
	  " (SELECT group_concat(r.addr || ':' || coalesce(r.code, '-'),"
	  "   ' ') FROM recipients r WHERE r.message_id = m.id),"
	  " m.status, m.size, m.subject,"
	  " (SELECT count(*) FROM attachments a WHERE a.message_id = m.id)"
	  " FROM messages m JOIN sessions s ON s.id = m.session_id"
	  MSG_WHERE " ORDER BY m.ts, m.id",
	  { "ts", "client", "server", "helo", "mail_from", "rcpt", "status",
	    "size", "subject", "attachments" }, 10, 1u << 7 | 1u << 9, 1, 2 },
	{ "sessions",
	  "SELECT s.ts_first, s.ts_last," EP("s.client_ip", "s.client_port")
	  "," EP("s.server_ip", "s.server_port") ", s.helo, s.tls,"
	  " s.auth_mechanism, s.auth_result, s.transactions, s.end_state,"
	  " s.gaps, s.anomalies FROM sessions s"
	  " WHERE (?3 IS NULL OR s.ts_first >= ?3)"
	  " AND (?4 IS NULL OR s.ts_first < ?4)"
	  " AND (?7 IS NULL OR s.helo = ?7 COLLATE NOCASE)"
	  " ORDER BY s.ts_first, s.id",
	  { "ts_first", "ts_last", "client", "server", "helo", "tls",
	    "auth", "auth_result", "transactions", "end_state", "gaps",
	    "anomalies" }, 12, 1u << 5 | 1u << 8 | 1u << 10, 2, 3 },
	{ "senders",
	  "SELECT m.mail_from, count(DISTINCT m.id), count(DISTINCT r.addr),"
	  " count(DISTINCT s.client_ip), min(m.ts), max(m.ts)"
	  " FROM messages m JOIN sessions s ON s.id = m.session_id"
	  " LEFT JOIN recipients r ON r.message_id = m.id"
	  MSG_WHERE " GROUP BY m.mail_from"
	  " ORDER BY count(DISTINCT m.id) DESC, count(DISTINCT r.addr) DESC",
	  { "mail_from", "messages", "recipients", "clients", "first",
	    "last" }, 6, 1u << 1 | 1u << 2 | 1u << 3, -1, -1 },
	{ "servers",
	  "SELECT s.server_ip, s.server_port, count(*),"
	  " count(DISTINCT s.client_ip), sum(s.transactions),"
	  " min(s.ts_first), max(s.ts_first) FROM sessions s"
	  " WHERE (?3 IS NULL OR s.ts_first >= ?3)"
	  " AND (?4 IS NULL OR s.ts_first < ?4)"
	  " GROUP BY s.server_ip, s.server_port"
	  " ORDER BY count(DISTINCT s.client_ip) DESC, count(*) DESC",
	  { "server", "port", "sessions", "clients", "transactions",
	    "first", "last" }, 7, 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4,
	  -1, 0 },
	{ "rejections",
	  "SELECT s.client_ip, count(*), count(DISTINCT r.addr),"
	  " group_concat(DISTINCT r.code), min(m.ts), max(m.ts)"
	  " FROM recipients r JOIN messages m ON m.id = r.message_id"
	  " JOIN sessions s ON s.id = m.session_id"
	  " WHERE r.accepted = 0 AND r.code IS NOT NULL"
	  " AND (?3 IS NULL OR m.ts >= ?3) AND (?4 IS NULL OR m.ts < ?4)"
	  " GROUP BY s.client_ip ORDER BY count(*) DESC",
	  { "client", "rejected", "addresses", "codes", "first", "last" },
	  6, 1u << 1 | 1u << 2, 0, -1 },
	{ "attachments",
	  "SELECT a.sha256, group_concat(DISTINCT a.filename),"
	  " max(a.size), count(DISTINCT m.id), count(DISTINCT s.client_ip),"
	  " group_concat(DISTINCT s.client_ip), min(m.ts), max(m.ts)"
	  " FROM attachments a JOIN messages m ON m.id = a.message_id"
	  " JOIN sessions s ON s.id = m.session_id"
	  " WHERE (?3 IS NULL OR m.ts >= ?3) AND (?4 IS NULL OR m.ts < ?4)"
	  " AND (?8 IS NULL OR a.sha256 = lower(?8))"
	  " GROUP BY a.sha256"
	  " ORDER BY count(DISTINCT s.client_ip) DESC, count(*) DESC",
	  { "sha256", "filenames", "size", "messages", "hosts", "clients",
	    "first", "last" }, 8, 1u << 2 | 1u << 3 | 1u << 4, -1, -1 },
	{ "alerts",
	  "SELECT a.ts, a.kind, a.severity, a.host, a.session_uid, a.detail"
	  " FROM alerts a WHERE (?3 IS NULL OR a.ts >= ?3)"
	  " AND (?4 IS NULL OR a.ts < ?4) ORDER BY a.ts, a.id",
	  { "ts", "kind", "severity", "host", "session", "detail" }, 6,
	  1u << 2, -1, -1 },
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

/* "%" user text "%" for LIKE, with its own % _ \ escaped. */
static char *
like_pattern(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *p = malloc(2 * n + 3);

	if (p == NULL)
		return NULL;
	p[o++] = '%';
	for (i = 0; i < n; i++) {
		if (s[i] == '%' || s[i] == '_' || s[i] == '\\')
			p[o++] = '\\';
		p[o++] = s[i];
	}
	p[o++] = '%';
	p[o] = '\0';
	return p;
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

static char *
col_dup(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	int n = sqlite3_column_bytes(q, i);
	char *d;

	if (t == NULL)
		return NULL;
	if ((d = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(d, t, (size_t)n);
	d[n] = '\0';
	return d;
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

static int
run_report(sqlite3 *db, const struct report *rep, const struct filters *f,
    struct rowset *out)
{
	sqlite3_stmt *q;
	char *like = NULL, *vals[12], a[64];
	unsigned c;
	int rc;
	long n = 0;

	out->rep = rep;
	if (sqlite3_prepare_v2(db, rep->sql, -1, &q, NULL) != SQLITE_OK) {
		log_warnx("query: %s", sqlite3_errmsg(db));
		return -1;
	}
	/* Unused parameters are simply not in the statement. */
	sqlite3_bind_text(q, 1, f->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, f->rcpt, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, f->since, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, f->until, -1, SQLITE_STATIC);
	if (f->subject != NULL && (like = like_pattern(f->subject)) != NULL)
		sqlite3_bind_text(q, 5, like, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, f->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, f->helo, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, f->sha256, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && n < f->limit) {
		if (rep->client_col >= 0) {
			addr_of((const char *)sqlite3_column_text(q,
			    rep->client_col), a);
			if (!cidr_match(&f->client, a))
				continue;
		}
		if (rep->server_col >= 0) {
			addr_of((const char *)sqlite3_column_text(q,
			    rep->server_col), a);
			if (!cidr_match(&f->server, a))
				continue;
		}
		for (c = 0; c < rep->ncols; c++)
			vals[c] = col_dup(q, (int)c);
		if (add_row(out, vals) == -1) {
			for (c = 0; c < rep->ncols; c++)
				free(vals[c]);
			break;
		}
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		log_warnx("query: %s", sqlite3_errmsg(db));
	sqlite3_finalize(q);
	free(like);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
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
	const char *const *msg_cols = rs->rep->cols;
	size_t w[12], r, c, l;

	for (c = 0; c < NCOLS; c++)
		w[c] = strlen(msg_cols[c]);
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
		print_cell(fp, msg_cols[c], c + 1 < NCOLS ? w[c] + 2 : 0);
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
	const char *const *msg_cols = rs->rep->cols;
	size_t r, c;
	const char *v;

	for (c = 0; c < NCOLS; c++)
		fprintf(fp, "%s%s", c ? "," : "", msg_cols[c]);
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
	const char *const *msg_cols = rs->rep->cols;
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
			json_key(&b, msg_cols[c]);
			if (v == NULL)
				dbuf_addlit(&b, "null");
			else if (rs->rep->numeric & (1u << c))
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
	    "usage: smtpsniff query [--db PATH] REPORT [filters]\n"
	    "       [--format table|json|csv] [--limit N]\n"
	    "  --db PATH          the database (sqlite:PATH or PATH;\n"
	    "                     default smtpsniff.db)\n"
	    "  filters: --from ADDR --rcpt ADDR --client CIDR --server CIDR\n"
	    "           --since TIME --until TIME (UTC, ISO 8601 prefix)\n"
	    "           --subject TEXT (substring) --status STATUS\n"
	    "           --helo NAME --attachment-sha256 HEX\n"
	    "  reports: messages, sessions, senders (top senders), servers\n"
	    "           (every SMTP server seen, by clients), rejections\n"
	    "           (rejected recipients by client), attachments (by\n"
	    "           hash: which hosts sent the same file), alerts\n");
}

int
cli_query(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "db", required_argument, NULL, 'd' },
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
	const char *db_path = "smtpsniff.db";
	enum fmt fmt = FMT_TABLE;
	sqlite3 *db = NULL;
	size_t i;
	int ch, rc = 2;

	memset(&f, 0, sizeof(f));
	f.limit = MAX_ROWS_DEFAULT;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hd:F:l:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'd':
			db_path = strncmp(optarg, "sqlite:", 7) == 0 ?
			    optarg + 7 : optarg;
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
				return 2;
			}
			break;
		case 'l':
			f.limit = strtol(optarg, NULL, 10);
			if (f.limit <= 0) {
				log_warnx("--limit %s: a positive number",
				    optarg);
				return 2;
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
				return 2;
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
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++)
		if (strcmp(argv[optind], reports[i].name) == 0)
			rep = &reports[i];
	if (rep == NULL) {
		log_warnx("%s: unknown report (messages, sessions, senders, "
		    "servers, rejections, attachments, alerts)", argv[optind]);
		return 2;
	}
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		log_warnx("%s: %s", db_path, db ? sqlite3_errmsg(db) :
		    "cannot open");
		goto done;
	}
	if (run_report(db, rep, &f, &rs) == -1)
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
	sqlite3_close(db);
	return rc;
}
