/*
 * sql_mysql.c: the MariaDB/MySQL driver (MariaDB Connector/C), for a
 * central store that many sensors share: mysql://USER[:PASS]@HOST[:PORT]/DB
 * or mysql://USER@localhost/DB?socket=PATH (HOST may be an IPv6 address in
 * brackets; user, password, database and path percent-encoded, RFC 3986
 * §2.1), the password also from the environment or the configuration.
 * The connection's character set is "binary": wire bytes go to BLOB
 * columns and come back exactly, never converted.
 */
#include <errmsg.h>
#include <errno.h>
#include <mysqld_error.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ascii.h"
#include "sql.h"

struct my {
	char		*name;		/* the spec without its password */
	MYSQL		*db;
	MYSQL_STMT	*st[SQL_MAXSTMT];
	unsigned	 nparam[SQL_MAXSTMT];
	bool		 lost;
};

/* Parameters of one execution, borrowed from the values. */
struct binds {
	MYSQL_BIND	*b;
	unsigned long	*len;
	long long	*ll;
};

static const char *
my_name(void *h)
{
	return ((struct my *)h)->name;
}

/* Client errors that mean the server is not there (errmsg.h). */
static bool
gone(unsigned e)
{
	return e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	    e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_UNKNOWN_HOST || e == CR_SERVER_LOST_EXTENDED ||
	    e == ER_SERVER_SHUTDOWN || e == ER_CONNECTION_KILLED;
}

static int
my_fail(struct my *m, unsigned errnum, const char *msg)
{
	if (gone(errnum))
		m->lost = true;
	log_warnx("%s: %s", m->name, msg);
	return -1;
}

static void
my_close(void *h)
{
	struct my *m = h;
	int i;

	if (m == NULL)
		return;
	for (i = 0; i < SQL_MAXSTMT; i++)
		if (m->st[i] != NULL)
			mysql_stmt_close(m->st[i]);
	if (m->db != NULL)
		mysql_close(m->db);
	free(m->name);
	free(m);
}

/*
 * Percent-decode s in place (RFC 3986 §2.1; '+' is a plus, not a blank).
 * -1 with why in err for a '%' without two hex digits after it, or one
 * that decodes to NUL (a C string would end there, silently).
 */
static int
pct_decode(char *s, const char *what, char err[ERRBUF_SIZE])
{
	char *w = s;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*w++ = *s;
			continue;
		}
		if ((hi = ascii_hexval((uint8_t)s[1])) == -1 ||
		    (lo = ascii_hexval((uint8_t)s[2])) == -1) {
			snprintf(err, ERRBUF_SIZE, "bad %%-escape in the %s "
			    "(%%XX, two hex digits)", what);
			return -1;
		}
		if (hi == 0 && lo == 0) {
			snprintf(err, ERRBUF_SIZE, "%%00 in the %s", what);
			return -1;
		}
		*w++ = (char)(hi << 4 | lo);
		s += 2;
	}
	*w = '\0';
	return 0;
}

int
sql_mysql_url_parse(char *u, struct sql_mysql_url *out, char err[ERRBUF_SIZE])
{
	char *at, *q, *colon, *slash, *host, *end;
	unsigned long p;

	memset(out, 0, sizeof(*out));
	if (strncmp(u, "mysql://", 8) != 0) {
		snprintf(err, ERRBUF_SIZE, "not a mysql:// URL");
		return -1;
	}
	u += 8;
	/*
	 * The query first: its socket path may hold any character. Then
	 * the user part ends at the last '@', so that a password may hold
	 * '@' and '/' even unencoded, as before percent-decoding came.
	 */
	if ((q = strchr(u, '?')) != NULL) {
		*q++ = '\0';
		if (strncmp(q, "socket=", 7) != 0 || q[7] == '\0') {
			snprintf(err, ERRBUF_SIZE, "the only parameter is "
			    "?socket=PATH");
			return -1;
		}
		out->sock = q + 7;
		if (pct_decode(out->sock, "socket path", err) == -1)
			return -1;
	}
	if ((at = strrchr(u, '@')) == NULL) {
		snprintf(err, ERRBUF_SIZE, "no USER@ before the host");
		return -1;
	}
	*at = '\0';
	out->user = u;
	if ((colon = strchr(u, ':')) != NULL) {
		*colon = '\0';
		out->pass = colon + 1;
		if (pct_decode(out->pass, "password", err) == -1)
			return -1;
	}
	if (pct_decode(out->user, "user", err) == -1)
		return -1;
	if (*out->user == '\0') {
		snprintf(err, ERRBUF_SIZE, "no user");
		return -1;
	}
	host = at + 1;
	/* An IPv6 address in brackets (RFC 3986 §3.2.2). */
	if (*host == '[') {
		if ((end = strchr(host, ']')) == NULL) {
			snprintf(err, ERRBUF_SIZE, "no ']' after the IPv6 "
			    "address");
			return -1;
		}
		*end++ = '\0';
		out->host = host + 1;
		if (*out->host == '\0' || strspn(out->host,
		    "0123456789abcdefABCDEF:.") != strlen(out->host) ||
		    strchr(out->host, ':') == NULL) {
			snprintf(err, ERRBUF_SIZE, "not an IPv6 address in "
			    "[...]");
			return -1;
		}
		if (*end != ':' && *end != '/') {
			snprintf(err, ERRBUF_SIZE, "expected :PORT or /DB "
			    "after ']'");
			return -1;
		}
		colon = *end == ':' ? end : NULL;
		slash = strchr(end, '/');
	} else {
		out->host = host;
		slash = strchr(host, '/');
		colon = strchr(host, ':');
		if (colon != NULL && slash != NULL && colon > slash)
			colon = NULL;
	}
	if (slash == NULL) {
		snprintf(err, ERRBUF_SIZE, "no /DB after the host");
		return -1;
	}
	*slash = '\0';
	out->db = slash + 1;
	if (colon != NULL) {
		*colon = '\0';
		if (colon[1] < '0' || colon[1] > '9') {
			snprintf(err, ERRBUF_SIZE, "bad port");
			return -1;
		}
		errno = 0;
		p = strtoul(colon + 1, &end, 10);
		if (*end != '\0') {
			snprintf(err, ERRBUF_SIZE, "bad port");
			return -1;
		}
		if (errno != 0 || p == 0 || p > 65535) {
			snprintf(err, ERRBUF_SIZE, "port out of range "
			    "(1-65535)");
			return -1;
		}
		out->port = (unsigned)p;
	}
	if (*out->host == '\0') {
		snprintf(err, ERRBUF_SIZE, "no host");
		return -1;
	}
	if (pct_decode(out->db, "database name", err) == -1)
		return -1;
	if (*out->db == '\0') {
		snprintf(err, ERRBUF_SIZE, "no database name");
		return -1;
	}
	return 0;
}

/* s percent-encoded where a URL needs it (RFC 3986 §2.3 unreserved). */
static void
pct_encode(struct dbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL)
			dbuf_addc(b, (uint8_t)*s);
		else {
			dbuf_addc(b, '%');
			dbuf_addc(b, (uint8_t)"0123456789ABCDEF"[
			    (unsigned char)*s >> 4]);
			dbuf_addc(b, (uint8_t)"0123456789ABCDEF"[*s & 15]);
		}
	}
}

/*
 * The spec without ":PASS", the rest as written: the user part ends where
 * sql_mysql_url_parse() ends it (the last '@' before any '?').
 */
static char *
my_strip(const char *spec)
{
	const char *s = spec + strlen("mysql://"), *at = NULL, *colon, *p;
	char *d;

	for (p = s; *p != '\0' && *p != '?'; p++)
		if (*p == '@')
			at = p;
	if (strncmp(spec, "mysql://", 8) != 0 || at == NULL ||
	    (colon = memchr(s, ':', (size_t)(at - s))) == NULL)
		return strdup(spec);
	if (asprintf(&d, "%.*s%s", (int)(colon - spec), spec, at) == -1)
		return NULL;
	return d;
}

/* The URL as messages show it: no password, user and db encoded. */
static char *
url_name(const struct sql_mysql_url *u)
{
	struct dbuf b;
	char port[16];

	dbuf_init(&b, 4096);
	dbuf_adds(&b, "mysql://");
	pct_encode(&b, u->user);
	dbuf_addc(&b, '@');
	if (strchr(u->host, ':') != NULL) {
		dbuf_addc(&b, '[');
		dbuf_adds(&b, u->host);
		dbuf_addc(&b, ']');
	} else
		dbuf_adds(&b, u->host);
	if (u->port != 0) {
		snprintf(port, sizeof(port), ":%u", u->port);
		dbuf_adds(&b, port);
	}
	dbuf_addc(&b, '/');
	pct_encode(&b, u->db);
	dbuf_addc(&b, '\0');
	if (dbuf_status(&b) == -1) {
		dbuf_fini(&b);
		return NULL;
	}
	return (char *)b.p;
}

static int
my_exec(void *h, const char *sql)
{
	struct my *m = h;

	if (mysql_query(m->db, sql) != 0)
		return my_fail(m, mysql_errno(m->db), mysql_error(m->db));
	return 0;
}

static void *
my_open(const char *spec, bool readonly, const char *password,
    bool *unreachable, char err[ERRBUF_SIZE])
{
	struct sql_mysql_url u;
	struct my *m;
	char *copy, why[ERRBUF_SIZE];
	const char *pass;
	unsigned timeout = 5;

	*unreachable = false;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (copy = strdup(spec)) == NULL) {
		free(m);
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	if (sql_mysql_url_parse(copy, &u, why) == -1) {
		snprintf(err, ERRBUF_SIZE, "%.120s; expected mysql://USER[:PASS]@"
		    "HOST[:PORT]/DB[?socket=PATH] (HOST may be [IPv6], other "
		    "parts %%-encoded)", why);
		goto fail;
	}
	pass = u.pass != NULL ? u.pass : password;
	if ((m->name = url_name(&u)) == NULL || (m->db = mysql_init(NULL)) ==
	    NULL) {
		snprintf(err, ERRBUF_SIZE, "out of memory");
		goto fail;
	}
	mysql_options(m->db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m->db, MYSQL_SET_CHARSET_NAME, "binary");
	if (mysql_real_connect(m->db, u.host, u.user, pass, u.db, u.port,
	    u.sock, 0) == NULL) {
		*unreachable = gone(mysql_errno(m->db));
		snprintf(err, ERRBUF_SIZE, "%s: %s", m->name,
		    mysql_error(m->db));
		goto fail;
	}
	/*
	 * Lists built by the query command (GROUP_CONCAT) are cut at 1 KiB
	 * by default, silently.
	 */
	if (my_exec(m, "SET SESSION group_concat_max_len = 16777216") == -1 ||
	    (readonly && my_exec(m, "SET SESSION TRANSACTION READ ONLY") ==
	    -1)) {
		snprintf(err, ERRBUF_SIZE, "%s: %s", m->name,
		    mysql_error(m->db));
		goto fail;
	}
	explicit_bzero(copy, strlen(spec));
	free(copy);
	return m;
fail:
	/* The copy holds the password, decoded. */
	explicit_bzero(copy, strlen(spec));
	free(copy);
	my_close(m);
	return NULL;
}

static int
my_prepare(void *h, unsigned id, const char *sql)
{
	struct my *m = h;

	if (id >= SQL_MAXSTMT || (m->st[id] = mysql_stmt_init(m->db)) ==
	    NULL || mysql_stmt_prepare(m->st[id], sql,
	    (unsigned long)strlen(sql)) != 0)
		return my_fail(m, mysql_errno(m->db), mysql_error(m->db));
	m->nparam[id] = (unsigned)mysql_stmt_param_count(m->st[id]);
	return 0;
}

static void
binds_free(struct binds *x)
{
	free(x->b);
	free(x->len);
	free(x->ll);
}

static int
bind(struct binds *x, const struct sql_val *v, unsigned n)
{
	unsigned i;

	x->b = calloc(n + 1, sizeof(*x->b));
	x->len = calloc(n + 1, sizeof(*x->len));
	x->ll = calloc(n + 1, sizeof(*x->ll));
	if (x->b == NULL || x->len == NULL || x->ll == NULL) {
		binds_free(x);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (v[i].null) {
			x->b[i].buffer_type = MYSQL_TYPE_NULL;
		} else if (v[i].type == SQL_INT) {
			x->ll[i] = v[i].i;
			x->b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			x->b[i].buffer = &x->ll[i];
		} else {
			x->b[i].buffer_type = v[i].type == SQL_BYTES ?
			    MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
			x->b[i].buffer = (void *)(v[i].n > 0 ? v[i].p : "");
			x->len[i] = (unsigned long)v[i].n;
			x->b[i].buffer_length = x->len[i];
			x->b[i].length = &x->len[i];
		}
	}
	return 0;
}

/* Rows of a prepared, executed statement to fn, every column as bytes. */
static int
fetch(struct my *m, MYSQL_STMT *st, sql_row_fn *fn, void *arg,
    int64_t *first)
{
	MYSQL_BIND out[SQL_MAXPARAM];
	unsigned long len[SQL_MAXPARAM];
	my_bool isnull[SQL_MAXPARAM];
	struct sql_val col[SQL_MAXPARAM];
	uint8_t *cell[SQL_MAXPARAM], *np;
	size_t cap[SQL_MAXPARAM];
	unsigned i, ncol = mysql_stmt_field_count(st);
	int rc = 0, f;
	bool stop = false;

	if (ncol > SQL_MAXPARAM)
		ncol = SQL_MAXPARAM;
	memset(out, 0, sizeof(out));
	for (i = 0; i < ncol; i++) {
		out[i].buffer_type = MYSQL_TYPE_STRING;
		out[i].length = &len[i];
		out[i].is_null = &isnull[i];
		cell[i] = NULL;
		cap[i] = 0;
	}
	if (mysql_stmt_bind_result(st, out) != 0 ||
	    mysql_stmt_store_result(st) != 0) {
		rc = my_fail(m, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto done;
	}
	while (!stop) {
		f = mysql_stmt_fetch(st);
		if (f == MYSQL_NO_DATA)
			break;
		if (f == 1) {
			rc = my_fail(m, mysql_stmt_errno(st),
			    mysql_stmt_error(st));
			break;
		}
		/* Buffers of length 0 at first: each cell fetched by size. */
		for (i = 0; i < ncol; i++) {
			if (isnull[i]) {
				col[i] = sql_null(SQL_BYTES);
				continue;
			}
			if (len[i] + 1 > cap[i]) {
				if ((np = realloc(cell[i], len[i] + 1)) ==
				    NULL) {
					log_warnx("%s: out of memory", m->name);
					rc = -1;
					stop = true;
					break;
				}
				cell[i] = np;
				cap[i] = len[i] + 1;
			}
			out[i].buffer = cell[i];
			out[i].buffer_length = len[i] + 1;
			if (mysql_stmt_fetch_column(st, &out[i], i, 0) != 0) {
				rc = my_fail(m, mysql_stmt_errno(st),
				    mysql_stmt_error(st));
				stop = true;
				break;
			}
			cell[i][len[i]] = '\0';
			col[i] = sql_mem(SQL_BYTES, cell[i], len[i]);
		}
		if (stop)
			break;
		if (first != NULL) {
			*first = ncol > 0 && !col[0].null ?
			    strtoll((const char *)cell[0], NULL, 10) : -1;
			break;
		}
		if (fn != NULL && fn(arg, col, ncol) != 0)
			break;
	}
done:
	mysql_stmt_free_result(st);
	for (i = 0; i < ncol; i++)
		free(cell[i]);
	return rc;
}

static int64_t
my_run(void *h, unsigned id, const struct sql_val *v, unsigned n,
    int64_t *rowid)
{
	struct my *m = h;
	MYSQL_STMT *st = m->st[id];
	struct binds x;
	my_ulonglong changed;

	*rowid = -1;
	if (bind(&x, v, n) == -1)
		return my_fail(m, 0, "out of memory");
	if (mysql_stmt_bind_param(st, x.b) != 0 ||
	    mysql_stmt_execute(st) != 0) {
		binds_free(&x);
		return my_fail(m, mysql_stmt_errno(st), mysql_stmt_error(st));
	}
	binds_free(&x);
	if (mysql_stmt_field_count(st) > 0)
		return fetch(m, st, NULL, NULL, rowid) == -1 ? -1 : 0;
	changed = mysql_stmt_affected_rows(st);
	if (changed > 0 && changed != (my_ulonglong)-1)
		*rowid = (int64_t)mysql_stmt_insert_id(st);
	return changed == (my_ulonglong)-1 ? 0 : (int64_t)changed;
}

static int
my_query(void *h, const char *sql, const struct sql_val *v, unsigned n,
    sql_row_fn *fn, void *arg)
{
	struct my *m = h;
	MYSQL_STMT *st;
	struct binds x;
	int rc = 0;

	if (n > SQL_MAXQUERYPARAM || bind(&x, v, n) == -1)
		return my_fail(m, 0, "too many parameters, or out of memory");
	if ((st = mysql_stmt_init(m->db)) == NULL) {
		binds_free(&x);
		return my_fail(m, mysql_errno(m->db), mysql_error(m->db));
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0 ||
	    mysql_stmt_bind_param(st, x.b) != 0 ||
	    mysql_stmt_execute(st) != 0)
		rc = my_fail(m, mysql_stmt_errno(st), mysql_stmt_error(st));
	else if (mysql_stmt_field_count(st) > 0)
		rc = fetch(m, st, fn, arg, NULL);
	binds_free(&x);
	mysql_stmt_close(st);
	return rc;
}

static bool
my_lost(void *h)
{
	struct my *m = h;

	return m != NULL && m->lost;
}

const struct sql_driver sql_mysql_driver = {
	"mysql://", SQL_MYSQL, true, my_open, my_name, my_exec, my_prepare,
	my_run, my_query, my_lost, my_close, my_strip,
};
