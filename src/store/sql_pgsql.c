/*
 * sql_pgsql.c: the PostgreSQL driver (libpq), for a central store:
 * postgresql://USER[:PASS]@HOST[:PORT]/DB[?PARAMS] or postgres://..., the
 * password also from the environment or the configuration (never printed). Values go
 * bound and binary, so wire bytes reach BYTEA exactly, NUL included; rows
 * come back as text. References: PostgreSQL 15 docs, libpq (34.1, 34.3),
 * and the binary formats of int8, text and bytea (int8recv, textrecv...).
 */
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ascii.h"
#include "sql.h"

/* Type OIDs: catalog/pg_type_d.h is a server header; these never change. */
#define OID_BYTEA	17
#define OID_INT8	20
#define OID_TEXT	25

/*
 * A statement is prepared at its first run, not at prepare(): only then
 * are its parameters' types known (the SQL does not say that a `?` is
 * BYTEA, and a binary value must go as the type it was prepared with).
 * The store sends the same types every time; should a call differ, the
 * statement is prepared again under a new name (gen).
 */
struct pg_stmt {
	char		*sql;		/* with $n; NULL: none */
	bool		 ready;
	unsigned	 gen;
	unsigned	 ntypes;
	enum sql_type	 types[SQL_MAXPARAM];
};

struct pg {
	PGconn		*conn;
	char		*name;		/* the URI, no password */
	struct pg_stmt	 st[SQL_MAXSTMT];
};

/* Parameters of one execution, borrowed from the values. */
struct binds {
	Oid		*oid;
	const char	**val;
	int		*len;
	int		*fmt;
	unsigned char	(*be)[8];
};

static const char *
pg_name(void *h)
{
	return ((struct pg *)h)->name;
}

/* libpq's messages end in a newline and may span lines: make one line. */
static void
oneline(char *dst, size_t size, const char *msg)
{
	size_t n = 0;
	bool gap = false;

	for (; *msg != '\0' && n + 2 < size; msg++) {
		if (*msg == '\n' || *msg == '\t' || *msg == '\r') {
			gap = n > 0;
			continue;
		}
		if (gap)
			dst[n++] = ' ';
		gap = false;
		dst[n++] = *msg;
	}
	dst[n] = '\0';
}

/* Also the notice processor: WARNINGs and worse (see pg_open) to the log. */
static void
pg_warn(void *h, const char *msg)
{
	char line[1024];

	oneline(line, sizeof(line), msg != NULL && *msg != '\0' ? msg :
	    "unknown error");
	log_warnx("%s: %s", ((struct pg *)h)->name, line);
}

static bool
res_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return r != NULL && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

/* Check and free a result; a NULL one (no memory, no server) fails too. */
static int
done(struct pg *p, PGresult *r)
{
	int rc = res_ok(r) ? 0 : -1;

	if (rc == -1)
		pg_warn(p, r != NULL ? PQresultErrorMessage(r) :
		    PQerrorMessage(p->conn));
	PQclear(r);
	return rc;
}

static void
pg_close(void *h)
{
	struct pg *p = h;
	int i;

	if (p == NULL)
		return;
	PQfinish(p->conn);	/* the server drops the statements with it */
	for (i = 0; i < SQL_MAXSTMT; i++)
		free(p->st[i].sql);
	free(p->name);
	free(p);
}

static int
pg_exec(void *h, const char *sql)
{
	return done(h, PQexec(((struct pg *)h)->conn, sql));
}

/*
 * The password in a URI's user part, n bytes, or NULL. libpq ends that
 * part at the first '@' or '/' (PostgreSQL docs 34.1.1.2).
 */
static const char *
url_pass(const char *spec, size_t *n)
{
	const char *s = strstr(spec, "://"), *e, *colon;

	s = s != NULL ? s + 3 : spec;
	e = s + strcspn(s, "@/");
	if (*e != '@' || (colon = memchr(s, ':', (size_t)(e - s))) == NULL)
		return NULL;
	*n = (size_t)(e - colon - 1);
	return colon + 1;
}

/*
 * The spec as messages may show it, for when there is no connection to
 * ask: ":PASS" cut from the user part, any password= parameter dropped.
 */
static char *
strip_spec(const char *spec)
{
	const char *pw, *q;
	struct dbuf b;
	bool first = true;
	size_t n;

	dbuf_init(&b, strlen(spec) + 1);
	if ((pw = url_pass(spec, &n)) != NULL) {
		dbuf_add(&b, spec, (size_t)(pw - 1 - spec));
		spec = pw + n;
	}
	q = spec + strcspn(spec, "?");
	dbuf_add(&b, spec, (size_t)(q - spec));
	for (; *q != '\0'; q += n + 1) {
		n = strcspn(q + 1, "&");	/* q: the '?' or '&' */
		if (strncmp(q + 1, "password=", 9) == 0)
			continue;
		dbuf_addc(&b, first ? '?' : '&');
		dbuf_add(&b, q + 1, n);
		first = false;
	}
	dbuf_addc(&b, '\0');
	return dbuf_status(&b) == -1 ? NULL : (char *)b.p;
}

/* The name of a live connection: what libpq really used, defaults too. */
static char *
conn_name(PGconn *c, const char *scheme)
{
	const char *host = PQhost(c) != NULL ? PQhost(c) : "";
	char *s;
	int n;

	if (host[0] == '/')	/* a socket directory */
		n = asprintf(&s, "%s%s@/%s?host=%s&port=%s", scheme, PQuser(c),
		    PQdb(c), host, PQport(c));
	else
		n = asprintf(&s, strchr(host, ':') != NULL ? "%s%s@[%s]:%s/%s" :
		    "%s%s@%s:%s/%s", scheme, PQuser(c), host, PQport(c),
		    PQdb(c));
	return n == -1 ? NULL : s;
}

/* Every occurrence of secret (n bytes, not a C string) starred out. */
static void
scrub(char *msg, const char *secret, size_t n)
{
	for (; secret != NULL && n > 0 && *msg != '\0'; msg++)
		if (strncmp(msg, secret, n) == 0)
			memset(msg, '*', n);
}

/*
 * secret (n bytes, percent-encoded as in a URI) starred out of msg as
 * written and as decoded (RFC 3986 §2.1), should libpq quote either.
 */
static void
scrub_both(char *msg, const char *secret, size_t n)
{
	char *d;
	size_t i, k = 0;
	int hi, lo;

	if (secret == NULL || n == 0)
		return;
	scrub(msg, secret, n);
	if ((d = malloc(n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (secret[i] == '%' && n - i > 2 &&
		    (hi = ascii_hexval((uint8_t)secret[i + 1])) != -1 &&
		    (lo = ascii_hexval((uint8_t)secret[i + 2])) != -1) {
			d[k++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			d[k++] = secret[i];
	}
	/* A NUL inside cannot be in msg past it: scrub up to it. */
	scrub(msg, d, strnlen(d, k));
	explicit_bzero(d, n);
	free(d);
}

/*
 * Why a connection failed, for err. libpq quotes the URI back in some
 * complaints about one it cannot parse ("... in URI: \"%s\""), so every
 * password it could hold is starred out first.
 */
static void
connect_error(struct pg *p, const char *spec, const char *envpw,
    char err[ERRBUF_SIZE])
{
	const char *pw;
	char *msg;
	size_t n = 0;
	int k;

	if ((msg = strdup(PQerrorMessage(p->conn))) == NULL) {
		snprintf(err, ERRBUF_SIZE, "%s: out of memory", p->name);
		return;
	}
	pw = url_pass(spec, &n);
	scrub_both(msg, pw, n);
	if ((pw = strstr(spec, "password=")) != NULL)
		scrub_both(msg, pw + 9, strcspn(pw + 9, "&"));
	if (envpw != NULL)
		scrub(msg, envpw, strlen(envpw));
	k = snprintf(err, ERRBUF_SIZE, "%s: ", p->name);
	if (k >= 0 && k < ERRBUF_SIZE)
		oneline(err + k, ERRBUF_SIZE - (size_t)k, msg);
	free(msg);
}

/*
 * Whether a failed connection never reached a server that would talk to
 * us. libpq gives no code for this, only text (English: the program never
 * calls setlocale). The server not there (refused, no socket, timeout, no
 * route, a name that does not resolve) or there but taking no one yet
 * (starting, stopping, full) is unreachable: the store spools and retries.
 * Anything else, a bad password, no such role or database, pg_hba or SSL
 * refusing us, is a mistake in the configuration: the program stops at
 * start rather than spool forever. A message not known here (a server
 * that speaks another language) counts as a refusal, for that reason.
 */
static bool
unreachable_msg(const char *msg)
{
	static const char *const away[] = {
		"Is the server running",	/* libpq >= 14, after errno */
		"could not connect to server",	/* libpq < 14 */
		"Connection refused", "No such file or directory",
		"timeout expired", "Connection timed out", "No route to host",
		"Network is unreachable", "could not translate host name",
		"Connection reset", "server closed the connection",
		"the database system is", /* starting up, shutting down... */
		"too many clients", "connection slots are reserved",
	};
	size_t i;

	for (i = 0; i < sizeof(away) / sizeof(away[0]); i++)
		if (strstr(msg, away[i]) != NULL)
			return true;
	return false;
}

static void *
pg_open(const char *spec, bool readonly, const char *password,
    bool *unreachable, char err[ERRBUF_SIZE])
{
	/*
	 * Our defaults come before dbname (the URI, expanded in place): a
	 * keyword given twice takes its last non-empty value (34.1.2), so
	 * the URI's own password, timeout or encoding win over ours, and the
	 * password we are given is used only when the URI has none.
	 */
	const char *keys[] = { "connect_timeout", "client_encoding",
	    "application_name", "password", "dbname", NULL };
	const char *vals[] = { "5", "UTF8", "smtpsniff",
	    password, spec, NULL };
	struct pg *p;

	*unreachable = false;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->name = strip_spec(spec)) == NULL) {
		free(p);
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	if ((p->conn = PQconnectdbParams(keys, vals, 1)) == NULL) {
		snprintf(err, ERRBUF_SIZE, "%s: out of memory", p->name);
		goto fail;
	}
	if (PQstatus(p->conn) != CONNECTION_OK) {
		*unreachable = unreachable_msg(PQerrorMessage(p->conn));
		connect_error(p, spec, vals[3], err);
		goto fail;
	}
	free(p->name);
	if ((p->name = conn_name(p->conn, strncmp(spec, "postgres://", 11) ==
	    0 ? "postgres://" : "postgresql://")) == NULL) {
		snprintf(err, ERRBUF_SIZE, "out of memory");
		goto fail;
	}
	PQsetNoticeProcessor(p->conn, pg_warn, p);
	/* IDENTITY columns, which the schema uses, came in 10. */
	if (PQserverVersion(p->conn) < 100000) {
		snprintf(err, ERRBUF_SIZE, "%s: PostgreSQL 10 or later needed",
		    p->name);
		goto fail;
	}
	/* NOTICEs ("relation ... already exists, skipping") are noise. */
	if (pg_exec(p, readonly ? "SET client_min_messages = warning; "
	    "SET default_transaction_read_only = on" :
	    "SET client_min_messages = warning") == -1) {
		*unreachable = PQstatus(p->conn) != CONNECTION_OK;
		snprintf(err, ERRBUF_SIZE, "%s: cannot set up the session (see "
		    "above)", p->name);
		goto fail;
	}
	return p;
fail:
	pg_close(p);
	return NULL;
}

/*
 * `?` to $1, $2, ... outside '...' literals and "..." names. Returns the
 * number of parameters, or -1 (more than SQL_MAXQUERYPARAM, or no memory).
 */
static int
renumber(const char *sql, struct dbuf *out)
{
	char quote = 0;
	unsigned n = 0;

	/* "?" becomes at most "$65535": 6 bytes for 1 (", ?" for 3 at least). */
	dbuf_init(out, strlen(sql) * 6 + 16);
	for (; *sql != '\0'; sql++) {
		if (quote != 0 && *sql == quote)
			quote = 0;	/* '' and "" close and reopen: fine */
		else if (quote == 0 && (*sql == '\'' || *sql == '"'))
			quote = *sql;
		if (quote != 0 || *sql != '?')
			dbuf_addc(out, (uint8_t)*sql);
		else if (n < SQL_MAXQUERYPARAM)
			dbuf_printf(out, "$%u", ++n);
		else
			break;
	}
	if (*sql != '\0' || dbuf_addc(out, '\0') == -1) {
		dbuf_fini(out);
		return -1;
	}
	return (int)n;
}

/*
 * Every value binary (format 1): int8 as 8 bytes big-endian, text and
 * bytea as their bytes, so nothing is escaped or cut at a NUL. -1 if a
 * value is too long for libpq's int lengths.
 */
static void
binds_free(struct binds *b)
{
	free(b->oid);
	free(b->val);
	free(b->len);
	free(b->fmt);
	free(b->be);
}

static int
bind(struct binds *b, const struct sql_val *v, unsigned n)
{
	static const Oid oid[] = { OID_INT8, OID_TEXT, OID_BYTEA };
	uint64_t u;
	unsigned i, k;

	b->oid = calloc(n + 1, sizeof(*b->oid));
	b->val = calloc(n + 1, sizeof(*b->val));
	b->len = calloc(n + 1, sizeof(*b->len));
	b->fmt = calloc(n + 1, sizeof(*b->fmt));
	b->be = calloc(n + 1, sizeof(*b->be));
	if (b->oid == NULL || b->val == NULL || b->len == NULL ||
	    b->fmt == NULL || b->be == NULL) {
		binds_free(b);
		return -1;
	}
	for (i = 0; i < n; i++) {
		b->oid[i] = oid[v[i].type];
		b->fmt[i] = 1;
		b->val[i] = NULL;
		b->len[i] = 0;
		if (v[i].null)
			continue;
		if (v[i].type == SQL_INT) {
			for (u = (uint64_t)v[i].i, k = 8; k-- > 0; u >>= 8)
				b->be[i][k] = (unsigned char)u;
			b->val[i] = (const char *)b->be[i];
			b->len[i] = 8;
		} else if (v[i].n > INT_MAX) {
			binds_free(b);
			return -1;
		} else {
			b->val[i] = v[i].n > 0 ? v[i].p : "";
			b->len[i] = (int)v[i].n;
		}
	}
	return 0;
}

static int
pg_prepare(void *h, unsigned id, const char *sql)
{
	struct pg *p = h;
	struct dbuf b;

	if (id >= SQL_MAXSTMT || renumber(sql, &b) == -1) {
		log_warnx("%s: statement %u: too many parameters or no memory",
		    p->name, id);
		return -1;
	}
	free(p->st[id].sql);
	p->st[id].sql = (char *)b.p;
	p->st[id].ready = false;
	return 0;
}

/* Statement id prepared for these values' types; its name in sname. */
static int
ready(struct pg *p, unsigned id, const struct sql_val *v, unsigned n,
    const Oid *oid, char sname[32])
{
	struct pg_stmt *st = &p->st[id];
	unsigned i;

	for (i = 0; st->ready && n == st->ntypes && i < n; i++)
		if (v[i].type != st->types[i])
			break;
	if (st->ready && n == st->ntypes && i == n) {
		snprintf(sname, 32, "s%u_%u", id, st->gen);
		return 0;
	}
	if (st->ready) {
		/* Best effort: a failure leaves only an unused statement. */
		snprintf(sname, 32, "DEALLOCATE s%u_%u", id, st->gen++);
		PQclear(PQexec(p->conn, sname));
		st->ready = false;
	}
	snprintf(sname, 32, "s%u_%u", id, st->gen);
	if (done(p, PQprepare(p->conn, sname, st->sql, (int)n, oid)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		st->types[i] = v[i].type;
	st->ntypes = n;
	st->ready = true;
	return 0;
}

static int64_t
pg_run(void *h, unsigned id, const struct sql_val *v, unsigned n,
    int64_t *rowid)
{
	struct pg *p = h;
	struct binds b;
	PGresult *r;
	char sname[32];
	int64_t changed;

	*rowid = -1;
	if (id >= SQL_MAXSTMT || p->st[id].sql == NULL || n > SQL_MAXPARAM ||
	    bind(&b, v, n) == -1) {
		log_warnx("%s: statement %u: not prepared, or bad values",
		    p->name, id);
		return -1;
	}
	if (ready(p, id, v, n, b.oid, sname) == -1) {
		binds_free(&b);
		return -1;
	}
	r = PQexecPrepared(p->conn, sname, (int)n, b.val, b.len, b.fmt, 0);
	binds_free(&b);
	if (!res_ok(r))
		return done(p, r);
	if (PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
		*rowid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	/* PQcmdTuples counts a SELECT's rows too: those changed nothing. */
	changed = strncmp(PQcmdStatus(r), "SELECT", 6) == 0 ? 0 :
	    strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return changed;
}

static int
pg_query(void *h, const char *sql, const struct sql_val *v, unsigned n,
    sql_row_fn *fn, void *arg)
{
	struct pg *p = h;
	struct sql_val col[SQL_MAXPARAM];
	unsigned char *bin[SQL_MAXPARAM];
	struct binds b;
	struct dbuf q;
	PGresult *r;
	size_t len;
	int nrow, ncol, i, k, rc = 0, stop = 0;

	if (n > SQL_MAXQUERYPARAM || bind(&b, v, n) == -1)
		goto bad;
	if (renumber(sql, &q) == -1) {
		binds_free(&b);
		goto bad;
	}
	r = PQexecParams(p->conn, (const char *)q.p, (int)n, b.oid, b.val,
	    b.len, b.fmt, 0);
	binds_free(&b);
	dbuf_fini(&q);
	if (!res_ok(r) || fn == NULL)
		return done(p, r);
	nrow = PQntuples(r);
	ncol = PQnfields(r) > SQL_MAXPARAM ? SQL_MAXPARAM : PQnfields(r);
	for (i = 0; i < nrow && rc == 0 && stop == 0; i++) {
		for (k = 0; k < ncol; k++) {
			bin[k] = NULL;
			if (PQgetisnull(r, i, k)) {
				col[k] = sql_null(SQL_BYTES);
			} else if (PQftype(r, k) != OID_BYTEA) {
				col[k] = sql_mem(SQL_BYTES, PQgetvalue(r, i, k),
				    (size_t)PQgetlength(r, i, k));
			} else if ((bin[k] = PQunescapeBytea((const unsigned
			    char *)PQgetvalue(r, i, k), &len)) != NULL) {
				/* text form "\x4142", or the old escapes */
				col[k] = sql_mem(SQL_BYTES, bin[k], len);
			} else {
				log_warnx("%s: out of memory", p->name);
				rc = -1;
				break;
			}
		}
		if (rc == 0)
			stop = fn(arg, col, (unsigned)ncol);
		while (k-- > 0)
			PQfreemem(bin[k]);
	}
	PQclear(r);
	return rc;
bad:
	log_warnx("%s: too many parameters, or bad values", p->name);
	return -1;
}

/*
 * libpq marks the connection bad when a command finds the server gone
 * (the socket closed or reset); until then it looks fine, and the store
 * learns at its next statement, which is soon enough.
 */
static bool
pg_lost(void *h)
{
	return PQstatus(((struct pg *)h)->conn) != CONNECTION_OK;
}

const struct sql_driver sql_pgsql_driver = {
	"postgresql://", SQL_PGSQL, true, pg_open, pg_name, pg_exec,
	pg_prepare, pg_run, pg_query, pg_lost, pg_close, strip_spec,
};
