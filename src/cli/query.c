/*
 * query.c: `smtpsniff query [--db PATH] REPORT [filters] [--format F]`:
 * search what `read` stored. This increment has the SQLite store and the
 * messages report; the other reports (sessions, senders, servers,
 * rejections, attachments, alerts) and the server databases come with
 * the rest of the storage issue. SQL is fixed text with bound parameters:
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
#define CELL_MAX		60	/* table output: longer cells cut */

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

static const char *const msg_cols[] = {
	"ts", "client", "server", "helo", "mail_from", "rcpt", "status",
	"size", "subject", "attachments",
};
#define NCOLS	(sizeof(msg_cols) / sizeof(msg_cols[0]))

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

/* A bound value: text, or NULL. */
struct rowset {
	char	**cell;		/* nrows * NCOLS */
	size_t	  nrows;
	size_t	  cap;
};

static int
add_row(struct rowset *rs, char **vals)
{
	char **nc;

	if (rs->nrows == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		if ((nc = realloc(rs->cell, rs->cap * NCOLS *
		    sizeof(*nc))) == NULL)
			return -1;
		rs->cell = nc;
	}
	memcpy(rs->cell + rs->nrows * NCOLS, vals, NCOLS * sizeof(*vals));
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

static int
query_messages(sqlite3 *db, const struct filters *f, struct rowset *out)
{
	static const char sql[] =
	    "SELECT m.ts, s.client_ip, s.client_port, s.server_ip,"
	    " s.server_port, m.helo, m.mail_from,"
	    " (SELECT group_concat(r.addr || ':' || coalesce(r.code, '-'),"
	    "   ' ') FROM recipients r WHERE r.message_id = m.id),"
	    " m.status, m.size, m.subject,"
	    " (SELECT count(*) FROM attachments a WHERE a.message_id = m.id)"
	    " FROM messages m JOIN sessions s ON s.id = m.session_id"
	    " WHERE (?1 IS NULL OR m.mail_from = ?1 COLLATE NOCASE)"
	    " AND (?2 IS NULL OR EXISTS (SELECT 1 FROM recipients r"
	    "   WHERE r.message_id = m.id AND r.addr = ?2 COLLATE NOCASE))"
	    " AND (?3 IS NULL OR m.ts >= ?3)"
	    " AND (?4 IS NULL OR m.ts < ?4)"
	    " AND (?5 IS NULL OR m.subject LIKE ?5 ESCAPE '\\')"
	    " AND (?6 IS NULL OR m.status = ?6)"
	    " AND (?7 IS NULL OR m.helo = ?7 COLLATE NOCASE)"
	    " AND (?8 IS NULL OR EXISTS (SELECT 1 FROM attachments a"
	    "   WHERE a.message_id = m.id AND a.sha256 = lower(?8)))"
	    " ORDER BY m.ts, m.id";
	sqlite3_stmt *q;
	char *like = NULL, *vals[NCOLS], ep[80];
	int rc, i;
	long n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_warnx("query: %s", sqlite3_errmsg(db));
		return -1;
	}
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
		const char *cip = (const char *)sqlite3_column_text(q, 1);
		const char *sip = (const char *)sqlite3_column_text(q, 3);

		if (!cidr_match(&f->client, cip ? cip : "") ||
		    !cidr_match(&f->server, sip ? sip : ""))
			continue;
		vals[0] = col_dup(q, 0);
		snprintf(ep, sizeof(ep), strchr(cip ? cip : "", ':') ?
		    "[%s]:%d" : "%s:%d", cip ? cip : "",
		    sqlite3_column_int(q, 2));
		vals[1] = strdup(ep);
		snprintf(ep, sizeof(ep), strchr(sip ? sip : "", ':') ?
		    "[%s]:%d" : "%s:%d", sip ? sip : "",
		    sqlite3_column_int(q, 4));
		vals[2] = strdup(ep);
		vals[3] = col_dup(q, 5);
		vals[4] = col_dup(q, 6);
		vals[5] = col_dup(q, 7);
		vals[6] = col_dup(q, 8);
		vals[7] = col_dup(q, 9);
		vals[8] = col_dup(q, 10);
		vals[9] = col_dup(q, 11);
		if (add_row(out, vals) == -1) {
			for (i = 0; i < (int)NCOLS; i++)
				free(vals[i]);
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
	size_t w[NCOLS], r, c, l;

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
			else if (c == 7 || c == 9)	/* size, attachments */
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
	    "usage: smtpsniff query [--db PATH] messages [filters]\n"
	    "       [--format table|json|csv] [--limit N]\n"
	    "  --db PATH          the database (sqlite:PATH or PATH;\n"
	    "                     default smtpsniff.db)\n"
	    "  filters: --from ADDR --rcpt ADDR --client CIDR --server CIDR\n"
	    "           --since TIME --until TIME (UTC, ISO 8601 prefix)\n"
	    "           --subject TEXT (substring) --status STATUS\n"
	    "           --helo NAME --attachment-sha256 HEX\n");
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
	struct rowset rs = { NULL, 0, 0 };
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
	if (strcmp(argv[optind], "messages") != 0) {
		log_warnx("%s: unknown report (this version has: messages)",
		    argv[optind]);
		return 2;
	}
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		log_warnx("%s: %s", db_path, db ? sqlite3_errmsg(db) :
		    "cannot open");
		goto done;
	}
	if (query_messages(db, &f, &rs) == -1)
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
	for (i = 0; i < rs.nrows * NCOLS; i++)
		free(rs.cell[i]);
	free(rs.cell);
	sqlite3_close(db);
	return rc;
}
